"""The result of :func:`compare.align.analyse`: what registration, normalisation and the noise floor
found between two images (shift, drift, noise, similarity, regions, focus), and its JSON form."""
from __future__ import annotations

from dataclasses import dataclass

from .changes import Region
from .focus import TileFocus
from .zoom import Similarity

__all__ = ["Analysis", "MovedObject"]


@dataclass(frozen=True)
class MovedObject:
    """Where an object moved on its own (:func:`compare.motion.moved_objects`): the bounding box of
    the windows that moved, in A's pixels, and their largest displacement against the field."""
    x: int
    y: int
    width: int
    height: int
    px: float                          # displacement against the field, pixels of A

    def to_json(self) -> dict:
        return {"x": self.x, "y": self.y, "width": self.width, "height": self.height, "px": round(self.px, 3)}


@dataclass(frozen=True, eq=False)
class Analysis:
    scale: int                         # A pixels per working pixel
    shift: tuple[float, float]         # (dx, dy) of B's content relative to A, A pixels
    shift_response: float              # phase-correlation peak (0..1)
    gain: float                        # luma gain B / A
    offset: float                      # luma offset, 8-bit scale
    channel_gains: tuple[float, ...]   # per channel (B, G, R) or (Y,)
    noise_sigma: float                 # temporal noise of one frame, full resolution, 8-bit DN (mean of channels)
    noise_source: str                  # "images" or "profile"
    correlation: float                 # Pearson correlation of the aligned, smoothed luma
    ssim_aligned: float                # SSIM of aligned, normalised, smoothed luma over the overlap, noise removed
    overlap: float                     # fraction of A covered by B after alignment
    changed_fraction: float            # fraction of the overlap inside regions
    regions: tuple[Region, ...]
    structured: bool = True            # structure above the noise (else correlation means nothing)
    sharpness_change: float = 0.0      # fine detail of B relative to A (-0.35 = 35 % less sharp)
    blur: float = 0.0                  # Gaussian blur (sigma) between them, pixels of the compared grid
    #                                    (the smaller image's when sizes differ); negative: B blurrier
    codec_sigma: float = 0.0           # lossy sides' quantisation noise in the smoothed residual
    codec_bound: bool = False          # the codec noise, not the measured noise, set the floor
    copied_blocks: float = 0.0         # frames of one video stream whose coded blocks' noise set the floor:
    #                                    the share of textured blocks its codec copied (compare.copied_blocks)
    shading: float = 0.0               # largest slowly varying gain removed, fraction of the level
    blank: tuple[bool, bool] = (False, False)  # A, B without structure above their noise
    level_change: float = 0.0          # B's mean luma over A's, minus one (whole working frames)
    channel_levels: tuple[float, ...] = ()  # B's mean over A's per channel (B, G, R) or (Y,)
    moved: float = 0.0                 # largest connected group of blocks moved against the global shift, share
    moved_px: float = 0.0              # ... by up to this many pixels of A
    moved_objects: int = 0             # separate objects moved against the field (compare.motion.moved_objects)
    moved_objects_px: float = 0.0      # ... by up to this many pixels of A
    moved_objects_at: tuple[MovedObject, ...] = ()  # ... where, the largest displacement first
    focus_tiles: tuple[TileFocus, ...] = ()  # a tile blurrier in A and one blurrier in B, beyond noise
    channel_order: tuple[int, ...] | None = None  # B's channel c is A's channel_order[c] (None: as stored)
    levels_map: tuple[float, float] | None = None  # (G, O): B's stored values were G A + O, mapped onto A's
    #                                    before judging (compare.levels.range_map); None: not mapped
    zoom: Similarity | None = None     # compare.zoom.Similarity: a magnification (or rotation) both sides
    #                                    were resampled half-way by before judging; None: none found

    @property
    def by_level(self) -> bool:
        """Drift told by the mean levels: no structure above the noise carries a gain (a flat
        target, a blank slide), so the fitted gain fits noise."""
        return not self.structured and bool(self.channel_levels)

    @property
    def exposure_change(self) -> float:
        """B's exposure relative to A's, minus one: the luma gain, or the mean level's ratio."""
        return self.level_change if self.by_level else self.gain - 1.0

    @property
    def drift_gains(self) -> tuple[float, ...]:
        """Per channel, what :attr:`exposure_change` is in luma (the white balance is their spread)."""
        return self.channel_levels if self.by_level else self.channel_gains

    def to_json(self) -> dict:
        return {
            "shift": {"dx": round(self.shift[0], 3), "dy": round(self.shift[1], 3)},
            "shift_response": round(self.shift_response, 4),
            "exposure_change": {"gain": round(self.gain, 4), "offset": round(self.offset, 3),
                                "percent": round(100 * self.exposure_change, 2),
                                "basis": "level" if self.by_level else "gain",
                                "channel_gains": [round(g, 4) for g in self.channel_gains],
                                "level_percent": round(100 * self.level_change, 2),
                                "channel_levels": [round(v, 4) for v in self.channel_levels]},
            "noise_sigma": round(self.noise_sigma, 3),
            "noise_source": self.noise_source,
            "working_scale": self.scale,
            "correlation_aligned": round(self.correlation, 5),
            "ssim_aligned": round(self.ssim_aligned, 5),
            "overlap": round(self.overlap, 4),
            "changed_fraction": round(self.changed_fraction, 5),
            "regions": [r.to_json() for r in self.regions],
            "structured": self.structured,
            "sharpness_change": round(self.sharpness_change, 4),
            "blur_px": round(self.blur, 3),
            "codec_noise_sigma": round(self.codec_sigma, 4),
            "copied_blocks": round(self.copied_blocks, 4),
            "shading": round(self.shading, 4),
            "blank": {"a": self.blank[0], "b": self.blank[1]},
            "moved": {"fraction": round(self.moved, 5), "max_px": round(self.moved_px, 3),
                      "objects": self.moved_objects, "objects_max_px": round(self.moved_objects_px, 3),
                      "objects_at": [o.to_json() for o in self.moved_objects_at]},
            "focus_tiles": [t.to_json() for t in self.focus_tiles],
            "channel_order": None if self.channel_order is None else ["BGR"[i] for i in self.channel_order],
            "levels_map": None if self.levels_map is None else {"gain": float(f"{self.levels_map[0]:.6g}"),
                                                                 "offset": float(f"{self.levels_map[1]:.6g}")},
            "zoom": None if self.zoom is None else self.zoom.to_json(),
        }
