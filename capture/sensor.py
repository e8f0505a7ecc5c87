"""A documented model of a cheap UVC microscope sensor, used to make fixtures and simulate devices.

A frame of a *field* is made from a real micrograph (a "scene", float32 BGR in [0, 1]) in this
order, each step a named parameter of :class:`SensorModel` or of :func:`render`:

1. **Optics / stage**: the field of view is a ``width x height`` window of the scene at ``origin``
   plus a sub-pixel ``shift`` (table vibration), resampled with bicubic interpolation and a
   light Gaussian blur (``optics_blur`` px, the lens).
2. **Exposure and white balance**: the signal is multiplied by ``exposure`` (1.0 = the locked
   value; auto-exposure drift moves it by a few %) and by per-channel gains ``wb`` (B, G, R).
3. **Photon shot noise**: signal electrons = value x ``full_well`` electrons; Poisson noise is
   drawn as a Gaussian of variance = electrons (accurate above ~20 e-).
4. **Read noise**: Gaussian, ``read_noise`` in 8-bit digital numbers (DN).
5. **Quantisation**: rounding to 8 bits, clipping at 0 and 255.
6. Optionally **MJPG**: the frame goes through JPEG at ``jpeg_quality``, as in a UVC MJPG stream.

Defaults (full well 4000 e-, read noise 1.5 DN) give about 3 DN of noise at mid-gray, what
cheap 2 MP microscope cameras show at unity gain. All randomness comes from a caller-supplied
``numpy.random.Generator`` so every fixture is reproducible from its seed.
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np


@dataclass(frozen=True)
class SensorModel:
    full_well: float = 4000.0     # electrons at full scale (value 1.0)
    read_noise: float = 1.5       # DN (8-bit)
    optics_blur: float = 0.6      # px, Gaussian sigma of the lens
    jpeg_quality: int | None = None  # None: raw (YUYV-like) frames; else MJPG at this quality


def load_scene(name: str, *, scale: float = 1.0) -> np.ndarray:
    """A real micrograph shipped with scikit-image as float32 BGR in [0, 1].

    ``name`` is a ``skimage.data`` function whose image ships inside the scikit-image wheel
    (no download): ``immunohistochemistry``, ``cell``, ``retina`` are micrographs.
    """
    import skimage.data

    img = getattr(skimage.data, name)()
    img = np.asarray(img)
    if img.dtype == np.uint16:
        img = img.astype(np.float32) / np.percentile(img, 99.8)
    elif img.dtype == np.uint8:
        img = img.astype(np.float32) / 255.0
    else:
        img = img.astype(np.float32)
        img = (img - img.min()) / max(float(img.max() - img.min()), 1e-6)
    img = np.clip(img, 0, 1)
    if img.ndim == 2:
        img = np.repeat(img[:, :, None], 3, axis=2)
    img = np.ascontiguousarray(img[:, :, 2::-1])  # RGB -> BGR
    if scale != 1.0:
        img = cv2.resize(img, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    return img


def view(scene: np.ndarray, *, origin: tuple[float, float] = (0.0, 0.0),
         size: tuple[int, int] | None = None, shift: tuple[float, float] = (0.0, 0.0),
         blur: float = 0.6) -> np.ndarray:
    """The noiseless field of view: ``size=(w, h)`` window at ``origin + shift`` (sub-pixel)."""
    h_s, w_s = scene.shape[:2]
    w, h = size if size is not None else (w_s, h_s)
    x0, y0 = origin[0] + shift[0], origin[1] + shift[1]
    m = np.array([[1.0, 0.0, x0], [0.0, 1.0, y0]], dtype=np.float64)
    out = cv2.warpAffine(scene, m, (w, h), flags=cv2.INTER_CUBIC | cv2.WARP_INVERSE_MAP,
                         borderMode=cv2.BORDER_REFLECT)
    if blur > 0:
        out = cv2.GaussianBlur(out, (0, 0), blur)
    return out


def expose(field: np.ndarray, *, rng: np.random.Generator, model: SensorModel = SensorModel(),
           exposure: float = 1.0, wb: tuple[float, float, float] = (1.0, 1.0, 1.0),
           black: float = 0.0) -> np.ndarray:
    """One noisy 8-bit frame of a noiseless field (float [0, 1]): steps 2-6 of the model.

    ``black`` is a black level in DN added before quantisation (0 by default, as in the fixtures).
    """
    signal = field * np.asarray(wb, dtype=np.float32)[None, None, : field.shape[2]] * np.float32(exposure)
    electrons = np.clip(signal, 0, None) * np.float32(model.full_well)
    noisy = electrons + rng.standard_normal(electrons.shape, dtype=np.float32) * np.sqrt(electrons)
    dn = noisy * np.float32(255.0 / model.full_well)
    dn += rng.standard_normal(dn.shape, dtype=np.float32) * np.float32(model.read_noise)
    if black:
        dn += np.float32(black)
    frame = np.clip(np.rint(dn), 0, 255).astype(np.uint8)
    if model.jpeg_quality is not None:
        frame = mjpg(frame, model.jpeg_quality)
    return frame


def mjpg(frame: np.ndarray, quality: int) -> np.ndarray:
    """Round-trip a frame through JPEG, as a UVC camera streaming MJPG does."""
    ok, buf = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
    out = cv2.imdecode(buf, cv2.IMREAD_UNCHANGED) if ok else None
    if out is None:  # pragma: no cover - OpenCV always round-trips uint8 BGR
        raise RuntimeError("JPEG round trip failed")
    return out


def render(scene: np.ndarray, *, rng: np.random.Generator, model: SensorModel = SensorModel(),
           origin: tuple[float, float] = (0.0, 0.0), size: tuple[int, int] | None = None,
           shift: tuple[float, float] = (0.0, 0.0), exposure: float = 1.0,
           wb: tuple[float, float, float] = (1.0, 1.0, 1.0)) -> np.ndarray:
    """One frame: :func:`view` then :func:`expose`."""
    field = view(scene, origin=origin, size=size, shift=shift, blur=model.optics_blur)
    return expose(field, rng=rng, model=model, exposure=exposure, wb=wb)
