"""Labelled pairs of shots for the accuracy harness, made from real micrographs by the sensor model.

Each :class:`LabelledPair` holds two 8-bit BGR frames rendered by :mod:`capture.sensor`, the kind of
pair, whether a careful user would call the two the *same* field, and for local changes the true
box of the change. Kinds:

``repeat_locked``   the same field twice, settings locked: only sensor noise differs.
``repeat_drift``    the same field with auto exposure drift (1-6 %), white-balance drift (up to 3 %
                    a channel), table vibration (0.2-2 px) and MJPG (quality 70-95) on both shots.
``rescaled``        a repeat shot stored at a smaller size (0.5-0.8x, area resampling).
``neighbour``       the stage moved to a neighbouring field: 10-40 % of the field width or height.
``other_specimen``  a field of another micrograph.
``local_change``    the same field (with mild drift and MJPG) where something changed in 0.5-2 % of
                    the frame: a dark particle, a bubble (dark rim, bright centre) or a scratch.

Everything is drawn from a caller-supplied ``numpy.random.Generator``: a seed gives the same pairs.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache

import cv2
import numpy as np

from .sensor import SensorModel, expose, load_scene, view

KINDS = ("repeat_locked", "repeat_drift", "rescaled", "neighbour", "other_specimen", "local_change")
SAME_KINDS = frozenset({"repeat_locked", "repeat_drift", "rescaled"})
SCENES = ("immunohistochemistry", "cell", "retina", "hubble_deep_field", "gravel", "coins")


@dataclass(frozen=True, eq=False)
class LabelledPair:
    kind: str
    scene: str
    a: np.ndarray
    b: np.ndarray
    same: bool
    truth: tuple[int, int, int, int] | None = None   # (x, y, w, h) of a local change, A's pixels
    detail: str = ""


@cache
def _scene(name: str) -> np.ndarray:
    if name == "retina":
        return load_scene(name, scale=0.5)
    if name == "hubble_deep_field":
        return load_scene(name, scale=0.8)
    return load_scene(name)


def _origin(rng, scene, size, pad):
    h, w = scene.shape[:2]
    return (float(rng.uniform(pad, max(pad + 1, w - size[0] - pad))),
            float(rng.uniform(pad, max(pad + 1, h - size[1] - pad))))


def _textured_origin(rng, scene, size, pad):
    """An origin whose field has some structure (cell and retina have wide empty areas)."""
    best, best_std = None, -1.0
    for _ in range(6):
        o = _origin(rng, scene, size, pad)
        f = view(scene, origin=o, size=size, blur=0)
        s = float(f.std())
        if s > 0.04:
            return o
        if s > best_std:
            best, best_std = o, s
    return best


def _drift(rng):
    exposure = 1.0 + float(rng.choice([-1, 1]) * rng.uniform(0.01, 0.06))
    wb = tuple(float(1.0 + rng.uniform(-0.03, 0.03)) for _ in range(3))
    angle = rng.uniform(0, 2 * math.pi)
    r = rng.uniform(0.2, 2.0)
    return exposure, wb, (r * math.cos(angle), r * math.sin(angle)), int(rng.integers(70, 96))


def _change(field, rng, size):
    """Apply a local change of 0.5-2 % of the frame; return the new field, its box and a word."""
    w, h = size
    frac = float(rng.uniform(0.005, 0.02))
    area = frac * w * h
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    kind = rng.choice(["particle", "bubble", "scratch"])
    out = field.copy()
    if kind in ("particle", "bubble"):
        r = math.sqrt(area / math.pi)
        cx, cy = rng.uniform(r + 2, w - r - 2), rng.uniform(r + 2, h - r - 2)
        d = np.sqrt((xx - cx) ** 2 + (yy - cy) ** 2)
        if kind == "particle":
            m = np.clip(r + 0.5 - d, 0, 1)[..., None]
            out = out * (1 - m * rng.uniform(0.35, 0.7))
        else:
            rim = np.clip(1 - np.abs(d - 0.85 * r) / (0.15 * r + 0.5), 0, 1)[..., None]
            inside = np.clip(r - d, 0, 1)[..., None]
            out = out * (1 - 0.6 * rim) + inside * (1 - rim) * 0.25 * (1 - out)
        box = (int(cx - r), int(cy - r), int(2 * r + 1), int(2 * r + 1))
    else:
        width = float(rng.uniform(2.5, 4.0))
        length = min(area / width, 0.9 * math.hypot(w, h))
        ang = rng.uniform(0, math.pi)
        dx, dy = math.cos(ang) * length / 2, math.sin(ang) * length / 2
        cx = rng.uniform(abs(dx) + 2, w - abs(dx) - 2) if 2 * abs(dx) + 4 < w else w / 2
        cy = rng.uniform(abs(dy) + 2, h - abs(dy) - 2) if 2 * abs(dy) + 4 < h else h / 2
        mask = np.zeros((h, w), np.float32)
        cv2.line(mask, (int(cx - dx), int(cy - dy)), (int(cx + dx), int(cy + dy)), 1.0,
                 thickness=max(1, int(round(width))), lineType=cv2.LINE_AA)
        m = mask[..., None]
        out = out * (1 - m) + m * np.clip(out + 0.35, 0, 1)  # a bright scratch
        x0, x1 = int(min(cx - dx, cx + dx) - width), int(max(cx - dx, cx + dx) + width)
        y0, y1 = int(min(cy - dy, cy + dy) - width), int(max(cy - dy, cy + dy) + width)
        box = (x0, y0, x1 - x0 + 1, y1 - y0 + 1)
    return out.astype(np.float32), box, f"{kind} {100 * frac:.2f} %"


def make_pair(kind: str, rng: np.random.Generator, *, size=(320, 240), scene: str | None = None,
              model: SensorModel = SensorModel()) -> LabelledPair:
    if kind not in KINDS:
        raise ValueError(f"unknown pair kind {kind!r}; one of {', '.join(KINDS)}")
    name = scene or str(rng.choice(SCENES))
    sc = _scene(name)
    pad = 0.45 * max(size)
    o = _textured_origin(rng, sc, size, pad)
    field = view(sc, origin=o, size=size, blur=model.optics_blur)
    a = expose(field, rng=rng, model=model)
    if kind == "repeat_locked":
        return LabelledPair(kind, name, a, expose(field, rng=rng, model=model), True)
    if kind == "repeat_drift":
        e, wb, sh, q = _drift(rng)
        mj = SensorModel(model.full_well, model.read_noise, model.optics_blur, q)
        a = expose(field, rng=rng, model=mj)
        f2 = view(sc, origin=(o[0] + sh[0], o[1] + sh[1]), size=size, blur=model.optics_blur)
        return LabelledPair(kind, name, a, expose(f2, rng=rng, model=mj, exposure=e, wb=wb), True,
                            detail=f"exposure {e:.3f}, shift ({sh[0]:.2f}, {sh[1]:.2f}), q{q}")
    if kind == "rescaled":
        k = float(rng.uniform(0.5, 0.8))
        b = expose(field, rng=rng, model=model)
        b = cv2.resize(b, (round(size[0] * k), round(size[1] * k)), interpolation=cv2.INTER_AREA)
        return LabelledPair(kind, name, a, b, True, detail=f"scale {k:.2f}")
    if kind == "neighbour":
        frac = float(rng.uniform(0.10, 0.40))
        horizontal = bool(rng.integers(0, 2))
        sign = float(rng.choice([-1, 1]))
        step = (sign * frac * size[0], 0.0) if horizontal else (0.0, sign * frac * size[1])
        f2 = view(sc, origin=(o[0] + step[0], o[1] + step[1]), size=size, blur=model.optics_blur)
        return LabelledPair(kind, name, a, expose(f2, rng=rng, model=model), False,
                            detail=f"moved ({step[0]:.0f}, {step[1]:.0f}) px")
    if kind == "other_specimen":
        other = str(rng.choice([s for s in SCENES if s != name]))
        so = _scene(other)
        f2 = view(so, origin=_textured_origin(rng, so, size, pad), size=size, blur=model.optics_blur)
        return LabelledPair(kind, name, a, expose(f2, rng=rng, model=model), False, detail=f"vs {other}")
    # local_change
    e, wb, sh, q = _drift(rng)
    e = 1.0 + (e - 1.0) / 2
    sh = (sh[0] / 2, sh[1] / 2)
    mj = SensorModel(model.full_well, model.read_noise, model.optics_blur, q)
    a = expose(field, rng=rng, model=mj)
    f2 = view(sc, origin=(o[0] + sh[0], o[1] + sh[1]), size=size, blur=model.optics_blur)
    changed, box, what = _change(f2, rng, size)
    return LabelledPair(kind, name, a, expose(changed, rng=rng, model=mj, exposure=e, wb=wb), False,
                        truth=box, detail=what)


def labelled_pairs(n_per_kind: int, *, seed: int = 0, size=(320, 240), kinds=KINDS):
    """``n_per_kind`` pairs of every kind, interleaved, reproducible from ``seed``."""
    rng = np.random.default_rng(seed)
    for _ in range(n_per_kind):
        for kind in kinds:
            yield make_pair(kind, rng, size=size)
