"""Pictures people look at instead of reading numbers: the SSIM diff heat map and the A|B|diff sheet.

The heat map shows local dissimilarity ``1 - SSIM`` on a fixed scale (0 = same, 1 = unrelated;
values above 1 -- anti-correlated structure -- are drawn as 1) so that maps of different pairs
can be compared by eye. Each picture carries its own legend.
"""
from __future__ import annotations

import os

import cv2
import numpy as np

from .atomic import write_atomic

COLORMAP = cv2.COLORMAP_INFERNO
FONT = cv2.FONT_HERSHEY_SIMPLEX
PANEL_WIDTH = 900  # widest panel of a sheet, pixels


def heat(dissimilarity: np.ndarray) -> np.ndarray:
    """Colour a ``1 - SSIM`` map (float) to BGR uint8 on the fixed 0..1 scale."""
    v = np.clip(dissimilarity, 0.0, 1.0)
    return cv2.applyColorMap(np.rint(v * 255).astype(np.uint8), COLORMAP)


def _legend(width: int, title: str) -> np.ndarray:
    """A colour bar 0..1 with ticks and a title, ``width`` pixels wide."""
    h = 46
    out = np.full((h, width, 3), 255, np.uint8)
    bar_w = max(width - 20, 10)
    ramp = np.tile(np.linspace(0, 255, bar_w).astype(np.uint8), (12, 1))
    out[18:30, 10:10 + bar_w] = cv2.applyColorMap(ramp, COLORMAP)
    cv2.putText(out, title, (10, 13), FONT, 0.38, (0, 0, 0), 1, cv2.LINE_AA)
    for frac, label in ((0.0, "0 same"), (0.5, "0.5"), (1.0, "1 differ")):
        x = 10 + int(frac * (bar_w - 1))
        (tw, _), _ = cv2.getTextSize(label, FONT, 0.35, 1)
        tx = min(max(x - tw // 2, 0), width - tw)
        cv2.line(out, (x, 30), (x, 33), (0, 0, 0), 1)
        cv2.putText(out, label, (tx, 43), FONT, 0.35, (0, 0, 0), 1, cv2.LINE_AA)
    return out


LEGEND_MIN_WIDTH = 240


def _stack(parts: list[np.ndarray]) -> np.ndarray:
    """Stack pictures vertically, padding narrower ones with white on the right."""
    width = max(p.shape[1] for p in parts)
    padded = [np.pad(p, ((0, 0), (0, width - p.shape[1]), (0, 0)), constant_values=255) for p in parts]
    return np.vstack(padded)


def diff_picture(ssim_map: np.ndarray) -> np.ndarray:
    """Heat map of ``1 - SSIM`` with a legend underneath (BGR uint8)."""
    body = heat(1.0 - ssim_map)
    legend = _legend(max(body.shape[1], LEGEND_MIN_WIDTH), "local dissimilarity, 1 - SSIM")
    return _stack([body, legend])


def _to_bgr8(pixels: np.ndarray) -> np.ndarray:
    img = pixels
    if img.dtype == np.uint16:
        img = (img >> 8).astype(np.uint8)
    if img.ndim == 2:
        img = cv2.cvtColor(img, cv2.COLOR_GRAY2BGR)
    elif img.shape[2] == 4:
        img = cv2.cvtColor(img, cv2.COLOR_BGRA2BGR)
    return img


def _caption(img: np.ndarray, text: str) -> np.ndarray:
    bar = np.full((22, img.shape[1], 3), 255, np.uint8)
    scale = 0.42
    while scale > 0.25 and cv2.getTextSize(text, FONT, scale, 1)[0][0] > img.shape[1] - 8:
        scale -= 0.04
    cv2.putText(bar, text, (4, 15), FONT, scale, (0, 0, 0), 1, cv2.LINE_AA)
    return np.vstack([bar, img])


def sheet_picture(a_pixels, b_pixels, ssim_map, *, a_name: str, b_name: str, verdict: str,
                  reason: str, regions=()) -> np.ndarray:
    """A | B | diff overlay side by side, captioned with names, verdict and reason.

    ``regions`` are boxes ``(x, y, w, h)`` in A's pixels, drawn on A and on the overlay.
    Panels wider than ``PANEL_WIDTH`` are shown reduced.
    The overlay is B's size-matched luma with the heat map blended where SSIM is low.
    """
    a = _to_bgr8(a_pixels)
    b = _to_bgr8(b_pixels)
    h, w = ssim_map.shape
    k = min(1.0, PANEL_WIDTH / w)  # large shots are shown at most PANEL_WIDTH wide per panel
    regions = [(x * a.shape[1] / w, y * a.shape[1] / w, rw * a.shape[1] / w, rh * a.shape[1] / w)
               for (x, y, rw, rh) in regions] if a.shape[1] != w else list(regions)
    regions = [(x * k, y * k, rw * k, rh * k) for (x, y, rw, rh) in regions]
    if k < 1.0:
        w, h = round(w * k), round(h * k)
        ssim_map = cv2.resize(ssim_map, (w, h), interpolation=cv2.INTER_AREA)
    if a.shape[:2] != (h, w):
        a = cv2.resize(a, (w, h), interpolation=cv2.INTER_AREA)
    if b.shape[:2] != (h, w):
        b = cv2.resize(b, (w, h), interpolation=cv2.INTER_AREA)
    d = np.clip(1.0 - ssim_map, 0, 1).astype(np.float32)
    gray = cv2.cvtColor(cv2.cvtColor(a, cv2.COLOR_BGR2GRAY), cv2.COLOR_GRAY2BGR).astype(np.float32)
    alpha = np.clip(d * 2.0, 0, 0.85)[..., None]
    overlay = (gray * (1 - alpha) + heat(d).astype(np.float32) * alpha).astype(np.uint8)
    a = a.copy()
    for (x, y, rw, rh) in regions:
        for img in (a, overlay):
            cv2.rectangle(img, (int(x), int(y)), (int(x + rw - 1), int(y + rh - 1)), (0, 255, 0), 2)
    gap = np.full((h + 22, 6, 3), 255, np.uint8)
    row = np.hstack([_caption(a, f"A: {os.path.basename(a_name)}"), gap,
                     _caption(b, f"B: {os.path.basename(b_name)}"), gap,
                     _caption(overlay, "A with 1 - SSIM overlay")])
    head = np.full((40, row.shape[1], 3), 255, np.uint8)
    colour = (0, 140, 0) if verdict != "different" else (0, 0, 200)
    cv2.putText(head, verdict, (6, 16), FONT, 0.55, colour, 1, cv2.LINE_AA)
    scale = 0.4
    while scale > 0.25 and cv2.getTextSize(reason, FONT, scale, 1)[0][0] > row.shape[1] - 12:
        scale -= 0.03
    cv2.putText(head, reason, (6, 34), FONT, scale, (0, 0, 0), 1, cv2.LINE_AA)
    legend = _legend(max(min(row.shape[1], 360), LEGEND_MIN_WIDTH), "overlay: local dissimilarity, 1 - SSIM")
    return _stack([head, row, legend])


def save_png(path: str, picture: np.ndarray, *, overwrite: bool = True) -> None:
    """Encode a picture as PNG and write it atomically."""
    ok, buf = cv2.imencode(".png", picture)
    if not ok:  # pragma: no cover
        raise RuntimeError("PNG encoding failed")
    write_atomic(path, buf.tobytes(), overwrite=overwrite)
