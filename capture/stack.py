"""Warm-up and frame stacking.

**Warm-up** (:func:`warm_up`): ``mode`` is a number of frames to discard, or ``"auto"``: read
frames until the mean brightness of the last ``k`` frames spans at most ``tolerance`` DN (8-bit
scale), discarding every frame before that stable window; the window's frames are handed to the
stack (they are already stable). If the brightness never settles within ``cap`` frames the
warm-up stops with ``settled=False`` and a message, and capture goes on.

**Stacking** (:class:`Stacker`): ``mean`` adds frames into one preallocated float32 accumulator
(exact: integer sums stay below 2**24 for up to 65 793 8-bit frames; float64 beyond that or for
16-bit frames) and divides and rounds *once* at the end (``np.rint``, round half to even, never
truncation). ``median`` keeps the frames and takes the per-pixel median. A frame identical to the
previous accepted one (a stale buffer the driver delivered twice) is rejected and counted (a sparse
sample is compared first, the whole frame only when the sample matches).
``depth=16`` keeps the precision the average gained: the 8-bit mean is scaled by 257 (so 255 maps
to 65535) before rounding; ``depth=8`` rounds to 8 bits.

**Noise** (:func:`temporal_noise`): the temporal noise of one frame, estimated from differences of
consecutive frames, ``sigma = std(f[k] - f[k-1]) / sqrt(2)`` over about 64 evenly spaced whole rows of each of the
first ``noise_pairs`` (8) pairs (over 100 000 samples at 640x480 and up), which is unaffected by
the scene's texture. The stack's expected noise is ``sigma / sqrt(N)`` (mean) or
``1.2533 * sigma / sqrt(N)`` (median of Gaussian noise).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from scopecheck.compare.errors import InputError

METHODS = ("mean", "median")
DEPTHS = (8, 16)
_MEDIAN_MAX_BYTES = 1 << 30


def brightness(frame: np.ndarray) -> float:
    """Mean sample value on the 8-bit scale (16-bit frames are divided by 257)."""
    m = cv2.mean(frame)
    c = 1 if frame.ndim == 2 else frame.shape[2]
    v = sum(m[:c]) / c
    return v / 257.0 if frame.dtype == np.uint16 else v


@dataclass(frozen=True)
class WarmupResult:
    discarded: int
    settled: bool
    mode: str                    # "auto" or "N"
    brightness: tuple[float, ...]  # of every frame read during warm-up, 8-bit scale
    message: str = ""
    last_channel_means: tuple[float, ...] = ()  # of the last warm-up frame, 8-bit scale


def channel_means(frame: np.ndarray) -> tuple[float, ...]:
    """Per-channel means on the 8-bit scale (B, G, R or one value for gray)."""
    m = cv2.mean(frame)
    c = 1 if frame.ndim == 2 else frame.shape[2]
    k = 257.0 if frame.dtype == np.uint16 else 1.0
    return tuple(float(v) / k for v in m[:c])


def warm_up(camera, mode: int | str, *, tolerance: float = 0.5, k: int = 5, cap: int = 150):
    """Discard warm-up frames; returns ``(WarmupResult, kept_frames)``.

    ``kept_frames`` are the stable window's frames in ``auto`` mode (usable for stacking when no
    control changes afterwards), empty for a fixed count.
    """
    if mode == "auto":
        if k < 2 or cap < k or tolerance <= 0:
            raise InputError(f"auto warm-up needs k >= 2, cap >= k and tolerance > 0 (got k={k}, cap={cap}, "
                             f"tolerance={tolerance})")
        seen: list[float] = []
        window: list[np.ndarray] = []
        while len(seen) < cap:
            f = camera.read()
            seen.append(brightness(f))
            window.append(f)
            if len(window) > k:
                window.pop(0)
            if len(window) == k and max(seen[-k:]) - min(seen[-k:]) <= tolerance:
                return WarmupResult(len(seen) - k, True, "auto", tuple(seen), "", channel_means(f)), window
        last = seen[-k:]
        msg = (f"brightness did not settle within {tolerance} DN over {k} frames in {cap} frames "
               f"(last {k} spanned {max(last) - min(last):.2f} DN); capturing anyway -- "
               "lock exposure or raise the tolerance")
        return WarmupResult(len(seen), False, "auto", tuple(seen), msg, channel_means(window[-1])), []
    n = int(mode)
    if n < 0:
        raise InputError(f"--warmup {mode!r}: must be auto or a count >= 0")
    seen = []
    means: tuple[float, ...] = ()
    for _ in range(n):
        f = camera.read()
        seen.append(brightness(f))
        means = channel_means(f) if _ == n - 1 else means
    return WarmupResult(n, True, str(n), tuple(seen), "", means), []


#: Most frames discarded before a shot (as many as a shot may average).
MAX_WARMUP = 100_000


def parse_warmup(text: str) -> int | str:
    t = str(text).strip().lower()
    if t == "auto":
        return "auto"
    try:
        n = int(t)
    except ValueError:
        raise InputError(f"--warmup {text!r}: expected auto or a frame count such as 10") from None
    if not 0 <= n <= MAX_WARMUP:
        raise InputError(f"--warmup {text!r}: must be between 0 and {MAX_WARMUP}")
    return n


@dataclass(frozen=True, eq=False)
class StackResult:
    """The stacked image and how it was made."""

    image: np.ndarray
    method: str
    depth: int
    frames_stacked: int
    frames_rejected: int
    noise_frame: float | None   # temporal noise of one frame, DN on the 8-bit scale
    noise_stack: float | None   # expected noise of the stacked image, DN on the 8-bit scale
    frame_depth: int = 8        # bits per sample of the frames stacked


class Stacker:
    """Accumulates frames of one shape and dtype; see the module docstring.

    >>> import numpy as np
    >>> s = Stacker(method="mean")
    >>> for v in (1, 2, 2):
    ...     _ = s.add(np.full((2, 2), v, np.uint8))
    >>> r = s.result(depth=8)
    >>> int(r.image[0, 0]), r.frames_stacked, r.frames_rejected   # 5/3 = 1.67 rounds to 2
    (2, 2, 1)
    """

    def __init__(self, *, method: str = "mean", expected: int | None = None, noise_pairs: int = 8):
        if method not in METHODS:
            raise InputError(f"--stack {method!r}: use mean or median")
        self.method = method
        self.expected = expected
        self.noise_pairs = noise_pairs
        self.count = 0
        self.rejected = 0
        self._acc: np.ndarray | None = None
        self._prev: np.ndarray | None = None
        self._frames: list[np.ndarray] = []
        self._diff_sq = 0.0
        self._diff_n = 0
        self._pairs = 0

    def add(self, frame: np.ndarray) -> bool:
        """Add one frame; returns False (and counts it) when it repeats the previous frame."""
        if self._prev is None:
            self._shape, self._dtype = frame.shape, frame.dtype
            if frame.dtype not in (np.uint8, np.uint16):
                raise InputError(f"frames must be uint8 or uint16, got {frame.dtype}")
            if self.method == "mean":
                exact32 = frame.dtype == np.uint8 and (self.expected or 1) <= 65793
                self._acc = np.zeros(frame.shape, np.float32 if exact32 else np.float64)
            else:
                need = frame.nbytes * (self.expected or 1)
                if need > _MEDIAN_MAX_BYTES:
                    raise InputError(f"--stack median over {self.expected} frames of {frame.shape} needs "
                                     f"{need / 2**30:.1f} GiB; use --stack mean or fewer frames")
            self._prev = np.empty_like(frame)
        else:
            if frame.shape != self._shape or frame.dtype != self._dtype:
                raise InputError(f"frame {self.count + self.rejected + 1} is {frame.shape} {frame.dtype}, "
                                 f"the first was {self._shape} {self._dtype}; the device changed mode mid-stack")
            # A stale buffer is an exact repeat: a sparse sample (every 61st sample) rules out almost
            # every fresh frame cheaply; only a matching sample is confirmed on the whole frame.
            if (np.array_equal(frame.reshape(-1)[::61], self._prev.reshape(-1)[::61])
                    and cv2.norm(frame, self._prev, cv2.NORM_INF) == 0):
                self.rejected += 1
                return False
            if self._pairs < self.noise_pairs:
                step = max(1, frame.shape[0] // 64)  # about 64 whole rows per pair
                rows_a, rows_b = frame[::step], self._prev[::step]
                d = cv2.subtract(rows_a.reshape(rows_a.shape[0], -1), rows_b.reshape(rows_b.shape[0], -1),
                                 dtype=cv2.CV_32F)
                _, sd = cv2.meanStdDev(d)
                self._diff_sq += float(sd[0, 0]) ** 2 * d.size
                self._diff_n += d.size
                self._pairs += 1
        if self.method == "mean":
            acc = self._sum()
            np.add(acc, frame, out=acc)
        else:
            self._frames.append(frame.copy())
        np.copyto(self._prev, frame)
        self.count += 1
        return True

    def _sum(self) -> np.ndarray:
        """The mean-mode accumulator (allocated by the first :meth:`add`)."""
        assert self._acc is not None, "the accumulator is allocated with the first frame in mean mode"
        return self._acc

    def noise_frame(self) -> float | None:
        """Temporal noise of one frame (8-bit scale DN), None with fewer than 2 frames."""
        if not self._diff_n:
            return None
        sigma = math.sqrt(self._diff_sq / self._diff_n / 2.0)
        return sigma / 257.0 if self._dtype == np.uint16 else sigma

    def result(self, *, depth: int = 8, correct=None) -> StackResult:
        """The stacked image at ``depth`` bits, rounded once.

        ``correct`` (optional) maps the float64 mean on the frames' own scale to a corrected float
        image (dark/flat correction, :mod:`capture.flatfield`) before the one rounding.
        """
        if depth not in DEPTHS:
            raise InputError(f"--depth {depth!r}: use 8 or 16")
        if self.count == 0:
            raise InputError("no frames to stack")
        scale = 1.0
        if self._dtype == np.uint8 and depth == 16:
            scale = 257.0
        elif self._dtype == np.uint16 and depth == 8:
            scale = 1.0 / 257.0
        if correct is not None:
            mean = (np.multiply(self._sum(), 1.0 / self.count, dtype=np.float64) if self.method == "mean"
                    else np.median(np.stack(self._frames), axis=0).astype(np.float64))
            mean = np.asarray(correct(mean), dtype=np.float64)
            mean *= scale
        elif self.method == "mean":  # divide in float64, then round once
            mean = np.multiply(self._sum(), scale / self.count, dtype=np.float64)
        else:
            mean = np.median(np.stack(self._frames), axis=0)
            mean *= scale
        out_t = np.uint8 if depth == 8 else np.uint16
        np.rint(mean, out=mean)
        np.clip(mean, 0, np.iinfo(out_t).max, out=mean)
        image = mean.astype(out_t)
        nf = self.noise_frame()
        factor = 1.0 if self.method == "mean" else 1.2533
        ns = None if nf is None else nf * factor / math.sqrt(self.count)
        return StackResult(image, self.method, depth, self.count, self.rejected, nf, ns,
                           16 if self._dtype == np.uint16 else 8)


def stack(frames, *, method: str = "mean", depth: int = 8) -> StackResult:
    """Stack an iterable of frames (convenience for tests and scripts)."""
    frames = list(frames)
    s = Stacker(method=method, expected=len(frames))
    for f in frames:
        s.add(f)
    return s.result(depth=depth)


def focus_measure(frame: np.ndarray) -> float:
    """Variance of the Laplacian of the luma (higher = sharper), on the 8-bit scale."""
    g = frame if frame.ndim == 2 else cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
    g = g.astype(np.float32) / np.float32(257.0 if g.dtype == np.uint16 else 1.0)
    return float(cv2.Laplacian(g, cv2.CV_32F).astype(np.float64).var())


def clipping(frame: np.ndarray) -> tuple[float, float]:
    """Fractions of samples at the bottom (0) and the top (max) of the range."""
    top = np.iinfo(frame.dtype).max
    n = frame.size
    return float(np.count_nonzero(frame == 0)) / n, float(np.count_nonzero(frame == top)) / n
