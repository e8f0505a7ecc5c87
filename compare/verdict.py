"""The verdict of a comparison and its reason in words, from the figures :mod:`compare.align` made.

Order of the tests (the first that fails decides):

1. another scene: the aligned correlation of the structure (each side's own noise removed from
   its variance) is below ``min_correlation`` -- asked only when both frames have structure above
   their noise; a blank frame has no correlation to speak of, and its residual decides;
2. field moved: the registration shift exceeds ``max_shift``;
3. focus changed: one side lost (or gained) at least ``refocus`` of its fine detail against the
   detail both share (:func:`compare.align.sharpness_change`), at the working scale and at full
   resolution over the whole frame;
4. local change: a region beyond the noise floor. When every region holds A's structure at
   another intensity the field is the same and objects dimmed or brightened (bleaching, focus
   drift); otherwise structure appeared, vanished or moved;
5. focus changed, with no local change to explain it: one side is blurred against the other by a
   Gaussian of at least ``refocus_blur`` pixels of the compared grid
   (:func:`compare.changes.blur_from_energies`: the same band energies read as a blur, which does
   not depend on how much fine detail the field has -- a 1.5 px blur of a soft frame loses only
   12 % of its detail). Asked after the regions: dimmed objects or new structure lower a band's
   energy too, and the regions say what happened;
   Or a focus change that differs across the frame (a tilted specimen refocused: one part
   sharpens as another blurs, and the whole frame's bands cancel): a tile blurred in A and
   another blurred in B, each beyond its own noise (:func:`compare.focus.tilted_focus`) and each
   by at least ``refocus_blur``;
6. local motion: a connected group of blocks covering ``MOVED_SHARE`` of the field moved against
   the registered shift (:mod:`compare.motion`: a non-rigid motion no single translation explains),
   or ``MOVED_OBJECTS`` separate objects did, each on its own (:func:`compare.motion.moved_objects`:
   cells that crawled between two frames);
7. aligned SSIM below ``ssim_min`` (structured frames only; the SSIM of the signals, the pair's own
   noise taken out of its structure term) and, if asked, the dHash distance.

``same_field`` in the JSON is True for the same field within noise and for dimming or a refocus
of an unchanged field, False for new/removed structure, a moved field or another scene.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum

from .motion import MOVED_OBJECTS, MOVED_SHARE


class Verdict(StrEnum):
    IDENTICAL_FILE = "identical-file"
    IDENTICAL_PIXELS = "identical-pixels"
    NEAR_IDENTICAL = "near-identical"
    DIFFERENT = "different"

    @property
    def same(self) -> bool:
        return self is not Verdict.DIFFERENT


VERDICTS = tuple(v.value for v in Verdict)
SAME_VERDICTS = frozenset(v for v in Verdict if v.same)


@dataclass(frozen=True)
class Thresholds:
    """When two different-pixel shots count as ``near-identical``.

    Margins measured on real captures (``bench/bench_real.py``, README "Accuracy") and on the
    synthetic harness (``bench/bench_accuracy.py``): see the README for the figures per category.
    The dHash distance is reported but takes no part by default (genuine repeats of low-contrast
    fields reach 25 bits); ``dhash_max`` adds it back as an extra requirement.
    """

    ssim_min: float = 0.90        # aligned, normalised SSIM (not the raw ssim key)
    dhash_max: int | None = None  # extra guard on the dHash distance; off by default (see above)
    max_shift: float = 4.0        # pixels of A; a larger translation means the field moved
    min_region: float = 0.25      # percent of A's area; a changed region this large is a change
    min_correlation: float = 0.8  # aligned structure correlation below this: another scene
    refocus: float = 0.2          # fraction of fine detail lost or gained: focus changed
    refocus_blur: float = 1.0     # Gaussian blur (sigma, compared pixels) between them: focus changed
    noise_sigma: float | None = None  # per-frame noise in 8-bit DN from a device profile
    native_scale: float = 1.0     # stored pixels per sensor pixel (a camera's interpolated size, e.g.
    #                               640x480 delivered as 1600x1200: 2.5): both sides are judged reduced
    #                               by it, and max_shift is in sensor pixels

    def __post_init__(self) -> None:
        if not self.native_scale >= 1.0:  # NaN too: a reduction below 1 would enlarge, and max_shift with it
            raise ValueError(f"native_scale is stored pixels per sensor pixel, at least 1, got {self.native_scale}")

    def to_json(self) -> dict:
        return {"ssim_min": self.ssim_min, "dhash_max": self.dhash_max, "max_shift": self.max_shift,
                "min_region": self.min_region, "min_correlation": self.min_correlation,
                "refocus": self.refocus, "refocus_blur": self.refocus_blur, "noise_sigma": self.noise_sigma,
                "native_scale": self.native_scale}


@dataclass(frozen=True)
class Decision:
    verdict: Verdict
    reason: str
    same_field: bool


def _px_pair(dx: float, dy: float) -> str:
    """``(+3.0, +0.0)``: a displacement to a tenth of a pixel, what rounds to zero unsigned-positive
    (never ``-0.0``)."""
    return "(" + ", ".join(f"{round(v, 1) or 0.0:+.1f}" for v in (dx, dy)) + ")"


def noise_text(sigma: float, dn: float = 1.0, digits: int = 1) -> str:
    """The noise (``sigma`` in 8-bit DN, as :class:`compare.analysis.Analysis` holds it) in the
    pair's stored units: ``dn`` stored levels per 8-bit level (257 when both sides are 16-bit, where
    a faint frame's noise of 4.8 levels would read "0.0 DN" on the 8-bit scale)."""
    v = sigma * dn
    text = f"{v:.{digits}f}" if v == 0 or round(v, digits) != 0 else f"{v:.2g}"  # never "0.0" for a noise
    return f"{text} DN" if dn == 1.0 else f"{text} DN (16-bit)"


def _blurred(an, t) -> str | None:
    """The words for a blur of the whole frame beyond the threshold; None without one."""
    if abs(an.blur) >= t.refocus_blur:
        return (f"same field; focus changed: {'B' if an.blur < 0 else 'A'} blurred by "
                f"{abs(an.blur):.1f} px (sharpness {100 * an.sharpness_change:+.0f} %)")
    return None


def _tilted(an, t) -> str | None:
    """The words for a focus change across the frame (a tilted specimen refocused: tiles blurred
    on both sides, A's somewhere and B's elsewhere); None without one."""
    tiles = an.focus_tiles
    if len(tiles) == 2 and min(abs(ft.blur) for ft in tiles) >= t.refocus_blur:
        ta, tb = tiles
        return (f"same field; focus changed across the frame (tilted?): A blurred by "
                f"{ta.blur:.1f} px at ({ta.x}, {ta.y}), B blurred by {-tb.blur:.1f} px at ({tb.x}, {tb.y}) "
                f"({ta.size} px tiles)")
    return None


def decide(an, *, distance: int, thresholds: Thresholds, size_note: str, frame_area: int,
           codec_note: str = "", levels: bool = True, dn: float = 1.0) -> Decision:
    """Verdict for two frames whose pixels differ, from their :class:`compare.align.Analysis`.
    ``levels=False``: a side's levels are its own (a rendering stretched from its range,
    :func:`compare.load.render16`), so no exposure or level change is named. ``dn``: stored levels
    per 8-bit level, for the noise in words (:func:`noise_text`)."""
    t = thresholds
    dx, dy = an.shift
    if an.blank[0] or an.blank[1]:
        return _blank(an, size_note, frame_area, t.max_shift, dn)
    if an.overlap < 0.25 or (an.structured and an.correlation < t.min_correlation):
        return Decision(Verdict.DIFFERENT, f"another scene or specimen: aligned correlation {an.correlation:.2f}, "
                        f"dHash distance {distance}" + size_note, False)
    if math.hypot(dx, dy) > t.max_shift:
        return Decision(Verdict.DIFFERENT, f"field moved by {_px_pair(dx, dy)} px" + size_note, False)
    if an.channel_order is not None:  # the same field in other colours: not a drift a lock undoes
        moved = ", ".join(f"B's {'BGR'[c]} is A's {'BGR'[p]}" for c, p in enumerate(an.channel_order) if c != p)
        return Decision(Verdict.DIFFERENT, f"same field; colour channels swapped ({moved}: RGB/BGR order?)"
                        + size_note, True)
    if abs(an.sharpness_change) >= t.refocus:
        return Decision(Verdict.DIFFERENT, f"same field; focus changed: sharpness {100 * an.sharpness_change:+.0f} %"
                        + size_note, True)
    tilted = _tilted(an, t)
    if an.regions:
        structural = [r for r in an.regions if r.kind == "changed"]
        # objects dimmer or brighter only: a tilted refocus does that to small ones. Tiles blurred
        # on both sides are its mark, which dimming cannot make (a whole-frame blur figure it can:
        # nuclei 15 % dimmer read as a 3 px blur)
        if not structural:
            said = "same field; " + _intensity_words(an.regions) if tilted is None \
                else tilted + _also_intensity(an.regions)
            return Decision(Verdict.DIFFERENT, said + size_note, True)
        return Decision(Verdict.DIFFERENT, "local change" + where(structural, frame_area)
                        + _also_intensity(an.regions) + size_note, False)
    for words in (_blurred(an, t), tilted):
        if words is not None:
            return Decision(Verdict.DIFFERENT, words + size_note, True)
    if an.moved >= MOVED_SHARE:
        return Decision(Verdict.DIFFERENT, f"local motion: {100 * an.moved:.1f} % of the field moved by up to "
                        f"{an.moved_px:.1f} px against the rest (no single shift explains it)" + size_note, False)
    if an.moved_objects >= MOVED_OBJECTS:
        n = an.moved_objects
        objects = f"{n} objects moved on their own" if n > 1 else "1 object moved on its own"
        at = ""
        if an.moved_objects_at:  # where: the object that moved farthest
            o = an.moved_objects_at[0]
            at = f", {'the farthest ' if n > 1 else ''}at ({o.x}, {o.y}) size {o.width}x{o.height} px"
        return Decision(Verdict.DIFFERENT, f"local motion: {objects}, by up to {an.moved_objects_px:.1f} px against "
                        "the field" + at + size_note, False)
    if an.structured and an.ssim_aligned < t.ssim_min:
        return Decision(Verdict.DIFFERENT, f"structure differs beyond noise: aligned SSIM {an.ssim_aligned:.3f} "
                        f"< {t.ssim_min}", False)
    if t.dhash_max is not None and distance > t.dhash_max:
        return Decision(Verdict.DIFFERENT, f"dHash distance {distance} > {t.dhash_max}" + size_note, False)
    extra = "; ".join(drift_words(an, levels=levels, dn=dn))
    return Decision(Verdict.NEAR_IDENTICAL,
                    f"same field within noise{size_note}: aligned SSIM {an.ssim_aligned:.3f}, "
                    f"dHash distance {distance}, noise {noise_text(an.noise_sigma, dn)}" + codec_note
                    + (f"; {extra}" if extra else ""), True)


def _blank(an, size_note: str, frame_area: int, max_shift: float, dn: float = 1.0) -> Decision:
    """At least one side has no structure above its noise: correlation, shift and SSIM mean
    nothing, the aligned residual alone decides -- unless the faint side's structure is the
    other's (correlation at least 0.5 where the registration put it): then that registration is
    real, and a shift beyond ``max_shift`` means the field moved (a window of a faint frame 25 %
    along is another field, however well it matches there)."""
    if an.blank[0] and an.blank[1]:
        if not an.regions:
            return Decision(Verdict.NEAR_IDENTICAL, "flat/blank frames (no structure above noise), equal within "
                            f"noise {noise_text(an.noise_sigma, dn, 2)}" + size_note, True)
        return Decision(Verdict.DIFFERENT, "flat/blank frames that differ locally" + where(an.regions, frame_area)
                        + size_note, False)
    which = "A" if an.blank[0] else "B"
    dx, dy = an.shift
    if not an.regions and abs(an.correlation) >= 0.5 and math.hypot(dx, dy) > max_shift:
        return Decision(Verdict.DIFFERENT, f"field moved by {_px_pair(dx, dy)} px ({which} barely rises above "
                        "its noise)" + size_note, False)
    if an.regions or abs(an.correlation) < 0.5:
        return Decision(Verdict.DIFFERENT, f"{which} is a flat/blank frame (no structure above its noise), the other "
                        "is not" + where(an.regions, frame_area) + size_note, False)
    return Decision(Verdict.NEAR_IDENTICAL, f"same field within noise{size_note}: {which} barely rises above its "
                    f"noise {noise_text(an.noise_sigma, dn, 2)}; no change beyond it", True)


def _intensity_words(regions) -> str:
    dim = [r for r in regions if r.kind == "dimmed"]
    bright = [r for r in regions if r.kind == "brightened"]
    parts = []
    if dim:
        parts.append(f"{len(dim)} object{'s' if len(dim) > 1 else ''} dimmed by up to "
                     f"{-100 * min(r.intensity for r in dim):.0f} % (bleaching or focus drift)")
    if bright:
        parts.append(f"{len(bright)} object{'s' if len(bright) > 1 else ''} brightened by up to "
                     f"{100 * max(r.intensity for r in bright):.0f} %")
    shaded = sorted((r for r in regions if r.kind == "shading"), key=lambda r: -abs(r.intensity))
    if shaded:
        r = shaded[0]
        parts.append(f"illumination changed: B {100 * abs(r.intensity):.0f} % {'brighter' if r.intensity > 0 else 'darker'}"
                     f" at ({r.x}, {r.y}) size {r.width}x{r.height} px"
                     + (f" and {len(shaded) - 1} more place(s)" if len(shaded) > 1 else "")
                     + " (vignetting or lamp)")
    return "; ".join(parts)


def _also_intensity(regions) -> str:
    words = _intensity_words(regions)
    return f"; also {words}" if words else ""


#: The smallest drift named (exposure, black level, white balance): 2 % of the level.
DRIFT = 0.02


def _moved_with(gain_change: float, level_change: float) -> bool:
    """A fitted gain's change is a drift only when the mean level moved the same way, by at least
    half of :data:`DRIFT`."""
    return abs(level_change) >= DRIFT / 2 and level_change * gain_change > 0


def drift_words(an, *, levels: bool = True, dn: float = 1.0) -> list[str]:
    """The drifts a user can lock, in words: from the fitted gains, or from the mean levels where no
    structure above the noise carries a gain (:attr:`compare.analysis.Analysis.by_level`).
    ``levels=False``: no exposure or level words (a side's levels are its own rendering's). ``dn``:
    stored levels per 8-bit level (:func:`noise_text`)."""
    words = []
    if levels and an.levels_map is not None:  # two mappings of the data: not a drift to lock
        g, o = an.levels_map
        words.append(f"levels: B = {g:.4g} x A {'-' if o < 0 else '+'} {abs(o):.4g} in stored values (exposure, "
                     f"bit depth or display range; compared on A's scale)")
    change, gains = an.exposure_change, an.drift_gains
    fitted = levels and an.levels_map is None and not an.by_level  # a gain and an offset fitted to structure
    # the mean level must move with a fitted gain: in weak structure the fit trades gain against
    # offset (a noise-dominated repeat read "exposure drifted -34.8 %" at a mean level within 0.5 %)
    moved_with = an.by_level or _moved_with(change, an.level_change)
    if levels and abs(change) >= DRIFT and an.levels_map is None and moved_with:  # else the levels say it all
        words.append(f"exposure drifted {100 * change:+.1f} %{' (mean level)' if an.by_level else ''}: lock exposure")
    # mean = gain x A's mean + offset: a mean level that moved beyond what the gain explains, by at
    # least one stored level (less is a codec's rounding: a JPEG lifts a dark frame's zeros)
    if fitted and abs(an.level_change) >= DRIFT and abs(an.gain - 1.0) < abs(an.level_change) / 2 \
            and abs(an.offset) * dn >= 1.0:
        words.append(f"black level drifted {100 * an.offset / 255:+.1f} % of full scale (mean level "
                     f"{100 * an.level_change:+.1f} % at gain {an.gain:.3f}): the camera's brightness, or a display stretch")
    if len(gains) == 3 and 1.0 + change > 0:
        rel = [g / (1.0 + change) - 1 for g in gains]
        if not an.by_level and len(an.channel_levels) == 3 and 1.0 + an.level_change > 0:
            # as for the exposure: a channel's fitted gain names a drift only when its mean level
            # moved with it (a codec's chroma rounding, or a flat target's noise, moves the slope alone)
            lrel = [v / (1.0 + an.level_change) - 1 for v in an.channel_levels]
            rel = [v if _moved_with(v, lv) else 0.0 for v, lv in zip(rel, lrel)]
        if max(abs(v) for v in rel) >= DRIFT:
            parts = ", ".join(f"{c} {100 * v:+.1f} %" for c, v in zip("BGR", rel) if abs(v) >= 0.01)
            words.append(f"white balance drifted ({parts}): lock white balance")
    if an.shading >= DRIFT:
        words.append(f"shading differs by up to {100 * an.shading:.0f} %")
    dx, dy = an.shift
    if math.hypot(dx, dy) >= 0.5:
        words.append(f"shifted {_px_pair(dx, dy)} px")
    if an.zoom is not None:
        words.append(an.zoom.words())
    return words


def where(regions, frame_area: int) -> str:
    if not regions:
        return ""
    r = regions[0]
    pct = 100.0 * r.area / frame_area
    more = f" and {len(regions) - 1} more region(s)" if len(regions) > 1 else ""
    return (f" at ({r.x}, {r.y}) size {r.width}x{r.height} px, {pct:.2f} % of the frame, "
            f"{r.strength:.0f}x the noise{more}")
