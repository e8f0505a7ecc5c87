"""The flatness test's early decision: a true lower bound, and never a different answer."""
import cv2
import numpy as np
import pytest

from scopecheck.compare.flatness import (
    FLOOR_BLOCK,
    floor_weights,
    is_flat,
    judge_flat,
    median,
    structure_floor,
)
from scopecheck.compare.hashing import area_average, dhashes_from_luma
from tests.conftest import scene


def numpy_smoothed(x: np.ndarray, sigma: float = 1.0) -> np.ndarray:
    """The sigma-1 Gaussian of the samples in plain numpy (float64): 9 taps exp(-t^2 / 2 sigma^2),
    normalised; borders reflected without repeating the edge (numpy's "reflect" is OpenCV's
    default BORDER_REFLECT_101)."""
    t = np.arange(-4, 5)
    g = np.exp(-t * t / (2 * sigma * sigma))
    g /= g.sum()
    p = np.pad(x.astype(np.float64), 4, mode="reflect")
    rows = sum(g[k] * p[k:k + x.shape[0], :] for k in range(9))
    return sum(g[k] * rows[:, k:k + x.shape[1]] for k in range(9))


def numpy_floor(x: np.ndarray) -> float:
    """Variance of the smoothed image's block means over the kept part [2:-2, 2:-2], blocks split as
    the definition says, each weighted by its size (plain numpy)."""
    y = numpy_smoothed(x)[2:-2, 2:-2]
    def edges(n):
        nb = max(1, n // FLOOR_BLOCK)
        return [(k * n) // nb for k in range(nb + 1)]
    er, ec = edges(y.shape[0]), edges(y.shape[1])
    means, sizes = [], []
    for a, b in zip(er[:-1], er[1:]):
        for c, d in zip(ec[:-1], ec[1:]):
            means.append(y[a:b, c:d].mean())
            sizes.append((b - a) * (d - c))
    return float(np.average((np.array(means) - np.average(means, weights=sizes)) ** 2, weights=sizes))


def frames():
    """Photos, noise, blocky frames, and faint ramps in noise on both sides of the threshold."""
    rng = np.random.default_rng(11)
    out = [scene(s, 150, 200, channels=1).astype(np.uint8) for s in range(3)]
    out.append(rng.integers(0, 256, (97, 131)).astype(np.uint8))
    out.append(cv2.resize(rng.integers(0, 256, (4, 4)).astype(np.uint8), (200, 150), interpolation=cv2.INTER_NEAREST))
    ramp = np.linspace(-1, 1, 200)[None, :] * np.ones((150, 1))
    for amp in (0.0, 0.5, 1.0, 1.5, 2.0, 3.0, 5.0, 8.0):
        for sd in (1.0, 4.0):
            out.append(np.clip(128 + amp * ramp + rng.normal(0, sd, (150, 200)), 0, 255).round().astype(np.uint8))
    out.append(np.clip(35000 + 30 * ramp + rng.normal(0, 11, (150, 200)), 0, 65535).astype(np.uint16))
    out.append(np.full((40, 60), 7, np.uint8))
    return out


@pytest.mark.parametrize("k", range(len(frames())))
def test_floor_is_a_lower_bound_of_the_smoothed_variance(k):
    g = frames()[k]
    x = g.astype(np.float64)
    h, w = x.shape
    floor = structure_floor(floor_weights(h)[0] @ x, h, w)
    assert floor == pytest.approx(numpy_floor(x), rel=1e-5, abs=1e-6)  # OpenCV's taps are float32
    smoothed = numpy_smoothed(x)[2:-2, 2:-2].var()
    assert floor <= smoothed * (1 + 1e-5) + 1e-6, (floor, smoothed)


def test_the_shortcut_never_changes_an_answer():
    """dhashes_from_luma decides early from the floor; is_flat runs the whole test. Both answers
    agree on every frame, flat and not, including faint ramps in noise near the threshold."""
    answers = []
    for g in frames():
        h8, h16 = dhashes_from_luma(g, sizes=(8, 16))
        cells = area_average(g, 9, 8)
        full = is_flat(g, cells=cells)
        assert h8.flat == h16.flat == full
        x = g.astype(np.float32)
        floor = structure_floor(floor_weights(g.shape[0], "float32")[0] @ x, *g.shape)
        assert judge_flat(g, samples=x, floor=floor) == judge_flat(g, samples=x) == is_flat(g)
        answers.append(full)
    assert any(answers) and not all(answers)  # both answers were exercised


def test_median_by_sort_is_numpys():
    rng = np.random.default_rng(4)
    for n in (1, 2, 3, 7326, 7327):
        a = np.abs(rng.integers(-9, 9, n)).astype(np.float32)
        assert median(a) == np.median(a) and type(median(a)) is type(np.median(a))
