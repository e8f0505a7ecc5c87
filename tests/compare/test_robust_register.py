"""Cause 39: the registration's sub-pixel refinement minimises the residual's Huber loss, so objects
that moved on their own leave the field's shift where the rest of the field is (compare.register).

Real pictures: fixtures/real/cil11813_ysl_t03.png (zebrafish nuclei, Cell Image Library 11813)
segmented into a mask; t98g_t01_crop512.png and w2s_avg400_002_2.png (fixtures/real/README.md)."""

import math
import os

import cv2
import numpy as np
import pytest
from scipy import ndimage

from scopecheck.compare import register
from scopecheck.compare.motion import window_fits
from scopecheck.compare.pair import SAME_VERDICTS, compare_arrays
from scopecheck.compare.register import HUBER_K, _register
from scopecheck.compare.working import working_image
from tests.conftest import moved_objects, segmented

REAL = os.path.join(os.path.dirname(__file__), "..", "..", "fixtures", "real")


def _mask_pair(share=1 / 3, seed=0):
    lab = segmented(cv2.imread(os.path.join(REAL, "cil11813_ysl_t03.png"), cv2.IMREAD_GRAYSCALE), blur=1.0)
    n = int(lab.max())
    ks = np.random.default_rng(seed).choice(np.arange(1, n + 1), size=int(n * share), replace=False)
    b = moved_objects(lab, ks)
    return (lab > 0).astype(np.uint8) * 255, (b > 0).astype(np.uint8) * 255


def _least_squares(a, b, dx, dy, iterations=20):
    """Plain numpy Gauss-Newton on the squared residual of the normalised, sigma-1 smoothed images
    (scipy's bilinear shift): the fit the refinement was before cause 39."""
    sa = cv2.GaussianBlur(a, (0, 0), 1.0).astype(np.float64)
    sb = cv2.GaussianBlur(b, (0, 0), 1.0).astype(np.float64)
    m = 6
    for _ in range(iterations):
        bw = ndimage.shift(sb, (-dy, -dx), order=1, mode="nearest")[m:-m, m:-m]
        aw = sa[m:-m, m:-m]
        na, nb = (aw - aw.mean()) / aw.std(), (bw - bw.mean()) / bw.std()
        gy, gx = np.gradient((na + nb) / 2)
        e = na - nb
        h = np.array([[np.sum(gx * gx), np.sum(gx * gy)], [np.sum(gx * gy), np.sum(gy * gy)]])
        step = np.linalg.solve(h, [np.sum(gx * e), np.sum(gy * e)])
        dx, dy = dx + step[0], dy + step[1]
    return dx, dy


def test_a_mask_whose_third_moved_registers_on_the_rest():
    """A third of the nuclei moved 3 px down, 2 across: the field did not move. Least squares
    settles between the two (its reference, plain numpy, lands half a pixel off and more); the
    Huber fit stays on the unmoved two thirds."""
    a, b = _mask_pair()
    wa, wb = working_image(a), working_image(b)
    dx, dy, _ = _register(wa, wb)
    assert math.hypot(dx, dy) < 0.02, (dx, dy)
    lx, ly = _least_squares(wa.astype(np.float64), wb.astype(np.float64), 0.0, 0.0)
    assert math.hypot(lx, ly) > 0.4, (lx, ly)  # the cause: the squares' compromise
    c = compare_arrays(a, b)
    assert c.verdict not in SAME_VERDICTS
    assert abs(c.analysis.shift[0]) < 0.05 and abs(c.analysis.shift[1]) < 0.05


def test_a_mask_compared_with_itself_shifted_registers_exactly():
    """The whole mask moved by a whole pixel: the fit finds it (no object moved on its own)."""
    a, _ = _mask_pair()
    b = np.roll(np.roll(a, 1, 0), -2, 1)
    dx, dy, _ = _register(working_image(a), working_image(b))
    assert dx == pytest.approx(-2.0, abs=0.02) and dy == pytest.approx(1.0, abs=0.02)


@pytest.mark.parametrize("name", ["t98g_t01_crop512.png", "w2s_avg400_002_2.png", "cil11813_ysl_t03.png"])
@pytest.mark.parametrize("sigma", [2.0, 8.0])
def test_a_noisy_real_pair_keeps_least_squares_precision(name, sigma):
    """Where noise dominates the residual the Huber fit is least squares' (95 % of its efficiency):
    a real picture moved by a known sub-pixel amount (Fourier shift, scipy), both sides with their
    own noise. The reference is the same pair's least-squares fit (plain numpy)."""
    raw = cv2.imread(os.path.join(REAL, name), cv2.IMREAD_UNCHANGED).astype(np.float64)
    img = working_image(np.float32(255 * (raw - raw.min()) / (raw.max() - raw.min()))).astype(np.float64)
    rng = np.random.default_rng(int(sigma))
    tx, ty = 0.37, -0.61
    moved = np.real(np.fft.ifft2(ndimage.fourier_shift(np.fft.fft2(img), (ty, tx))))
    a = (img + rng.normal(0, sigma, img.shape)).astype(np.float32)
    b = (moved + rng.normal(0, sigma, img.shape)).astype(np.float32)
    dx, dy, _ = _register(a, b)
    lx, ly = _least_squares(a.astype(np.float64), b.astype(np.float64), 0.0, 0.0)
    err, ref = math.hypot(dx - tx, dy - ty), math.hypot(lx - tx, ly - ty)
    assert err < max(2 * ref, 0.03), (err, ref)


def test_the_refinement_minimises_the_huber_loss():
    """The refined shift is the minimum of the loss it names: a plain-numpy Huber loss (at the
    refinement's own threshold) on a grid around it is nowhere lower by more than its rounding."""
    a, b = _mask_pair()
    wa, wb = working_image(a), working_image(b)
    sa = register._Smoothed(cv2.GaussianBlur(wa, (0, 0), 1.0))
    dx, dy, t = register._refine(sa, wb, 0.3, 0.4)
    sl = register._inner(wa.shape, 1.0, 1.0)

    def loss(x, y):
        bw = register._shifted(cv2.GaussianBlur(wb, (0, 0), 1.0), x, y)[sl].astype(np.float64)
        aw = sa.img[sl].astype(np.float64)
        e = np.abs((aw - aw.mean()) / aw.std() - (bw - bw.mean()) / bw.std())
        return np.mean(np.where(e <= t, e * e / 2, t * (e - t / 2)))

    best = loss(dx, dy)
    for ox in (-0.1, -0.03, 0.03, 0.1):
        for oy in (-0.1, -0.03, 0.03, 0.1):
            assert loss(dx + ox, dy + oy) >= best - 1e-6
    assert t == pytest.approx(HUBER_K * register.SCALE_FLOOR)  # a noise-free mask: no scale of its own


def test_a_window_whose_inverse_breaks_down_is_no_fit():
    """A window of a flat label's interior (mahotas' nuclei as 8-bit labels 1-5, session 22)
    carries gradients of 1e-10 (a smoothing's tails) and a constant level: the ratio test cannot
    tell the integral sums' rounding from texture, and the inverse of its normal matrix breaks
    down (negative variances, a standard error of 0 that pinned the field's displacement)."""
    rng = np.random.default_rng(0)
    h, w = 48, 96
    resid = (rng.normal(0, 1, (h, w)) * 2e-5).astype(np.float32)
    level = np.zeros((h, w), np.float32)
    gx = (rng.normal(0, 1, (h, w)) * 1e-10).astype(np.float32)
    gy = (rng.normal(0, 1, (h, w)) * 1e-10).astype(np.float32)
    level[:, :48] = rng.uniform(0, 255, (h, 48))  # the textured half: an object's windows
    gx[:, :48] = rng.normal(0, 30, (h, 48))
    gy[:, :48] = rng.normal(0, 30, (h, 48))
    resid[:, :48] = rng.normal(0, 5, (h, 48))
    beta, inv, fit, _ = window_fits(resid, level, gx, gy, np.ones((h, w), bool))
    diag = np.diagonal(inv, axis1=-2, axis2=-1)
    assert not fit[:, 5:].any()  # wholly in the flat half
    assert fit[:, :3].all() and (diag[fit] > 0).all()  # wholly in the textured half
