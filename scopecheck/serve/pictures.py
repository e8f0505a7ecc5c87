"""Pictures for a browser: shots as the browser can show them, thumbnails, heat maps, live frames.

Browsers show PNG, JPEG, WebP, GIF and BMP themselves; those files are sent as stored (their
digests stay the file's). TIFF and PNM are decoded by :func:`compare.load.load` (with its pixel
limit) and sent as 8-bit PNG. No pixel statistic is computed here that the library lacks: the
focus measure and clipping come from :mod:`capture.stack`, the heat map colours from
:func:`compare.pictures.heat`.
"""
from __future__ import annotations

import base64
from dataclasses import dataclass

import cv2
import numpy as np

from scopecheck.compare.errors import DecodeError, InputError
from scopecheck.compare.load import DEFAULT_MAX_PIXELS, check_header, decode, load, read_bytes, sniff_format
from scopecheck.compare.pictures import heat, to_bgr8

NATIVE = {"png": "image/png", "jpeg": "image/jpeg", "webp": "image/webp", "gif": "image/gif", "bmp": "image/bmp"}
HIST_BINS = 64
CLIP_WARN = 0.005  # the fraction of samples at 0 or at full scale that the CLI preview warns at


def encode(picture: np.ndarray, kind: str = "png", *, quality: int = 85) -> bytes:
    params = [cv2.IMWRITE_JPEG_QUALITY, quality] if kind == "jpeg" else []
    ok, buf = cv2.imencode(".jpg" if kind == "jpeg" else ".png", picture, params)
    if not ok:  # pragma: no cover - OpenCV always encodes a valid 8-bit array
        raise DecodeError(f"cannot encode a {picture.shape} picture as {kind}")
    return buf.tobytes()


def display_bytes(path: str, *, page: int = 1, max_pixels: int = DEFAULT_MAX_PIXELS) -> tuple[bytes, str]:
    """``(bytes, media type)`` a browser can show for image ``page`` (1-based) of the file ``path``:
    the file itself when the browser shows it as it is (one image in a format it reads), else that
    image as a PNG (a TIFF, a stack's page, an animation's frame)."""
    data = read_bytes(path)
    fmt = sniff_format(data[:64])
    if fmt in NATIVE and page == 1 and check_header(data, path=path, max_pixels=max_pixels).images == 1:
        return data, NATIVE[fmt]
    img = decode(data, path=path, max_pixels=max_pixels)
    if not 1 <= page <= img.images:
        raise InputError(f"page {page}: the file holds {img.images} image{'s' if img.images > 1 else ''}", path=path)
    return encode(to_bgr8(img.page(page - 1))), "image/png"


def data_uri(data: bytes, media_type: str) -> str:
    return f"data:{media_type};base64,{base64.b64encode(data).decode('ascii')}"


def fit(picture: np.ndarray, box: int, *, fast: bool = False) -> np.ndarray:
    """Shrink (never enlarge) so that the longer side is at most ``box`` pixels (area averaging;
    ``fast``: bilinear, ~15x cheaper, for the live view)."""
    h, w = picture.shape[:2]
    k = box / max(h, w)
    if k >= 1.0:
        return picture
    return cv2.resize(picture, (max(1, round(w * k)), max(1, round(h * k))),
                      interpolation=cv2.INTER_LINEAR if fast else cv2.INTER_AREA)


def thumbnail(path: str, *, box: int = 160, max_pixels: int = DEFAULT_MAX_PIXELS) -> bytes:
    """A JPEG at most ``box`` pixels on its longer side."""
    return encode(fit(to_bgr8(load(path, max_pixels=max_pixels).pixels), box), "jpeg", quality=80)


def heat_png(ssim_map: np.ndarray) -> bytes:
    """The ``1 - SSIM`` map in the colours of ``compare --diff``, without the legend, as PNG."""
    return encode(heat(1.0 - ssim_map))


@dataclass(frozen=True)
class LiveFrame:
    """One frame of the live view: a JPEG for the browser and the numbers shown beside it."""

    seq: int
    jpeg: bytes
    width: int
    height: int
    focus: float
    clip_black: float
    clip_white: float
    histogram: tuple[int, ...]
    time: float

    @property
    def clipping(self) -> bool:
        return self.clip_black > CLIP_WARN or self.clip_white > CLIP_WARN

    def to_json(self) -> dict:
        return {"seq": self.seq, "width": self.width, "height": self.height, "focus": round(self.focus, 2),
                "clip_black": round(self.clip_black, 6), "clip_white": round(self.clip_white, 6),
                "clipping": self.clipping, "histogram": list(self.histogram), "time": self.time}


def live_frame(frame: np.ndarray, *, seq: int, time: float, max_side: int = 1280) -> LiveFrame:
    """Focus measure, clipping and a 64-bin luma histogram of ``frame``, plus a JPEG of it."""
    from scopecheck.capture.stack import clipping, focus_measure

    view = to_bgr8(frame)
    gray = cv2.cvtColor(view, cv2.COLOR_BGR2GRAY)
    hist = cv2.calcHist([gray], [0], None, [HIST_BINS], [0, 256]).ravel()
    lo, hi = clipping(frame)
    return LiveFrame(seq, encode(fit(view, max_side, fast=True), "jpeg"), int(frame.shape[1]), int(frame.shape[0]),
                     focus_measure(frame), lo, hi, tuple(int(v) for v in hist), time)
