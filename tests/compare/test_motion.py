"""Objects that moved on their own (compare.motion.moved_objects): cells that crawled between two
frames are a change; shot noise on bright edges, dimming and the real repeats in fixtures are not."""

import os
from dataclasses import replace

import cv2
import numpy as np
import pytest

from scopecheck.compare.motion import MOVED_OBJECTS, WINDOW, robust_cov, window_fits
from scopecheck.compare.pair import SAME_VERDICTS, compare_arrays, compare_files
from scopecheck.compare.verdict import Thresholds, decide

REAL = os.path.join(os.path.dirname(__file__), "..", "..", "fixtures", "real")


def test_window_fit_and_robust_error_equal_numpys_least_squares():
    """The vectorised window sums give numpy's lstsq coefficients for every window, and the robust
    covariance is the plain sandwich formula with the floored squared residuals."""
    rng = np.random.default_rng(4)
    h, w = 60, 72
    level = cv2.GaussianBlur(rng.uniform(0, 200, (h, w)).astype(np.float32), (0, 0), 2.0)
    gx = cv2.Sobel(level, cv2.CV_32F, 1, 0, ksize=3, scale=1 / 8)
    gy = cv2.Sobel(level, cv2.CV_32F, 0, 1, ksize=3, scale=1 / 8)
    resid = (0.3 * level - 0.8 * gx + 0.5 * gy + rng.normal(0, 2.0, (h, w))).astype(np.float32)
    valid = np.ones((h, w), bool)
    beta, inv, fit, lv = window_fits(resid, level, gx, gy, valid)
    half = WINDOW // 2
    assert beta.shape[:2] == (h // half - 1, w // half - 1) and fit.all()
    for iy, ix in [(0, 0), (1, 2), (beta.shape[0] - 1, beta.shape[1] - 1)]:
        win = (slice(iy * half, iy * half + WINDOW), slice(ix * half, ix * half + WINDOW))
        x = np.stack([np.ones(WINDOW * WINDOW)] + [v[win].ravel().astype(np.float64) for v in (lv, gx, gy)], 1)
        r = resid[win].ravel().astype(np.float64)
        ref, *_ = np.linalg.lstsq(x, r, rcond=None)
        np.testing.assert_allclose(beta[iy, ix], ref, rtol=1e-6, atol=1e-6)
        e = r - x @ ref
        floor = 9.0
        bread = np.linalg.inv(x.T @ x)
        sandwich = bread @ (x.T * np.maximum(e * e, floor)) @ x @ bread
        got = robust_cov(resid, (lv, gx, gy), beta[iy, ix], inv[iy, ix], iy * half, ix * half, floor)
        np.testing.assert_allclose(got, sandwich[2:, 2:], rtol=1e-6)


def _cells(rng, centres, shape=(192, 224), brightness=None, scale=1):
    """Nuclei (ellipses, blurred, 60-200 photons) on a dark background, imaged with shot noise:
    Poisson counts, so the noise is largest where the nuclei are bright and steep. ``scale``
    enlarges the field (the shape, the places and the nuclei; the edges stay as sharp)."""
    img = np.full((shape[0] * scale, shape[1] * scale), 4.0, np.float32)
    for i, (x, y) in enumerate(centres):
        b = 60.0 + 140.0 * ((i * 37) % 11) / 10.0
        if brightness is not None:
            b *= brightness[i]
        cv2.ellipse(img, (int(round(x * scale * 8)), int(round(y * scale * 8))), (7 * scale * 8, 5 * scale * 8),
                    (i * 29) % 180, 0, 360, float(b), -1, shift=3)
    img = cv2.GaussianBlur(img, (0, 0), 1.0)
    return np.clip(rng.poisson(img), 0, 255).astype(np.uint8)


def _centres(rng, n=16, shape=(192, 224)):
    pts = []
    while len(pts) < n:
        x, y = rng.uniform(16, shape[1] - 16), rng.uniform(16, shape[0] - 16)
        if all((x - a) ** 2 + (y - b) ** 2 > 30 ** 2 for a, b in pts):
            pts.append((x, y))
    return pts


def test_two_shots_of_still_cells_with_shot_noise_are_the_same():
    rng = np.random.default_rng(11)
    centres = _centres(rng)
    for _ in range(3):
        c = compare_arrays(_cells(rng, centres), _cells(rng, centres))
        assert c.verdict in SAME_VERDICTS, c.reason
        assert c.analysis.moved_objects == 0


def test_cells_that_crawled_two_pixels_each_are_a_local_motion():
    """The held-out split's cause rebuilt: between two frames of a time-lapse every nucleus moved
    by 2 px in its own direction -- no region is large or strong enough alone, no single shift
    explains it, and each nucleus moved far beyond its shot noise."""
    rng = np.random.default_rng(12)
    centres = _centres(rng)
    angles = rng.uniform(0, 2 * np.pi, len(centres))
    moved = [(x + 2.0 * np.cos(t), y + 2.0 * np.sin(t)) for (x, y), t in zip(centres, angles)]
    c = compare_arrays(_cells(rng, centres), _cells(rng, moved))
    assert c.verdict not in SAME_VERDICTS
    assert c.analysis.moved_objects >= MOVED_OBJECTS
    assert "objects moved on their own" in c.reason or "local" in c.reason
    assert not c.same_field


def test_one_cell_that_moved_is_a_local_motion():
    """One nucleus of 16 moved 2 px, the others stayed: the specimen changed (session 15; session 7
    let one object pass while some real same pairs moved one)."""
    assert MOVED_OBJECTS == 1
    rng = np.random.default_rng(13)
    centres = _centres(rng)
    moved = list(centres)
    moved[0] = (centres[0][0] + 2.0, centres[0][1])
    c = compare_arrays(_cells(rng, centres), _cells(rng, moved))
    assert c.analysis.moved_objects == 1
    assert c.verdict not in SAME_VERDICTS
    assert c.reason.startswith("local "), c.reason  # its crescents may also make a region first
    assert not c.same_field
    words = decide(replace(c.analysis, regions=()), distance=0, thresholds=Thresholds(), size_note="",
                   frame_area=224 * 192).reason
    assert words.startswith("local motion: 1 object moved on its own, by up to "), words


@pytest.mark.parametrize("scale", [3, 6])
def test_still_nuclei_with_shot_noise_are_one_field_at_any_size(scale):
    """Two shots of sparse bright nuclei (4 % of the frame, 4-7x the background's shot noise) on a
    frame reduced for the working scale: the same field. Until session 16 the brightest nuclei were
    judged at the background's noise -- their samples shared the top level part with the edges --
    and 7 of 8 such pairs read "local change" or "object dimmed" (compare.noise_level.level_parts)."""
    for seed in (0, 1):
        rng = np.random.default_rng(seed)
        centres = _centres(rng)
        c = compare_arrays(_cells(rng, centres, scale=scale), _cells(rng, centres, scale=scale))
        assert c.verdict in SAME_VERDICTS, (seed, c.reason)


def test_one_nucleus_moved_two_pixels_on_a_large_frame():
    """One nucleus of 16 moved 2 px on a 1152x1344 frame (the working scale reduces it 3x, so the
    move is 0.67 working pixels): a local motion. OBJECT_PX is in the picture's own pixels; until
    session 16 it was 1.5 working pixels (4.5 px here) and the pair read "same field"."""
    rng = np.random.default_rng(13)
    centres = _centres(rng)
    moved = list(centres)
    moved[0] = (centres[0][0] + 2.0 / 6, centres[0][1])   # 2 px of the enlarged frame
    a, b = _cells(rng, centres, scale=6), _cells(rng, moved, scale=6)
    c = compare_arrays(a, b)
    assert c.analysis.scale == 3
    assert c.verdict not in SAME_VERDICTS
    assert c.reason.startswith("local motion: 1 object moved on its own"), c.reason
    assert not c.same_field
    assert compare_arrays(a, _cells(rng, centres, scale=6)).verdict in SAME_VERDICTS


def test_dimmed_cells_did_not_move():
    """Bleaching changes a nucleus's level, not its place: the level term of the fit takes it."""
    rng = np.random.default_rng(14)
    centres = _centres(rng)
    dim = [0.8 if i % 3 == 0 else 1.0 for i in range(len(centres))]
    c = compare_arrays(_cells(rng, centres), _cells(rng, centres, brightness=dim))
    assert c.analysis.moved_objects == 0


@pytest.mark.parametrize("a, b", [
    ("trackpy_stuck_t0.png", "trackpy_stuck_t1.png"),
    ("w2s_avg1_002_2.png", "w2s_avg400_002_2.png"),
    ("cc15_d800_iso3200_1_real.png", "cc15_d800_iso3200_1_mean.png"),
    ("polyu_Canon80D_8_8_3200_ball_1_real.jpg", "polyu_Canon80D_8_8_3200_ball_1_mean.jpg"),
])
def test_real_repeats_and_shots_against_means_move_no_object(a, b):
    """Real captures of an unchanged field (fixtures/real/README.md): nothing moved on its own."""
    c = compare_files(os.path.join(REAL, a), os.path.join(REAL, b))
    assert c.analysis.moved_objects < MOVED_OBJECTS, c.reason


def test_a_window_without_an_error_estimate_is_not_judged(tmp_path):
    """scikit-image's astronaut against its q70 re-encode: a window whose robust covariance is
    singular (the fit pins nothing down there) was once solved and raised; it is skipped."""
    from skimage import data

    img = cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2BGR)
    a, b = str(tmp_path / "a.png"), str(tmp_path / "b.jpg")
    cv2.imwrite(a, img)
    cv2.imwrite(b, img, [cv2.IMWRITE_JPEG_QUALITY, 70])
    c = compare_files(a, b)
    assert c.verdict in SAME_VERDICTS, c.reason


def _dark_field(rng, centres, shift):
    """Split 5's HeLa frames rebuilt: nuclei with shot noise (variance half the level above the
    background) on a background at 3-4 levels with a little read noise, 8-bit."""
    img = np.full((190, 211), 3.5, np.float32)
    for k, (x, y) in enumerate(centres):
        dx, dy = shift * np.cos(2.4 * k), shift * np.sin(2.4 * k)
        cv2.ellipse(img, (int((x + dx) * 8), int((y + dy) * 8)), (60, 44), 29 * k, 0, 360, float(40 + 8 * k), -1,
                    shift=3)
    img = cv2.GaussianBlur(img, (0, 0), 1.2)
    shot = rng.normal(0, 1, img.shape) * np.sqrt(np.maximum(img - 3.5, 0) * 0.5)
    return np.clip(np.round(img + shot + rng.normal(0, 0.45, img.shape)), 0, 255).astype(np.uint8)


def test_nuclei_that_crawled_on_a_dark_8bit_background_are_a_change():
    """Split 5's HeLa false "same" (README, cause 18): the background at 3-4 levels was taken for a
    black crush and the residual's noise was measured on the moving nuclei only. The darkest code
    here is the tail of the background's noise, not a pile-up, and the noise is judged by level."""
    rng = np.random.default_rng(1)
    centres = [(20 + 45 * i + 9 * (j % 2), 18 + 38 * j) for i in range(4) for j in range(4)][:14]
    a = _dark_field(rng, centres, 0.0)
    assert compare_arrays(a, _dark_field(rng, centres, 0.0)).verdict in SAME_VERDICTS
    assert compare_arrays(a, _dark_field(rng, centres, 2.5)).verdict not in SAME_VERDICTS


def test_a_displacement_beyond_half_a_window_is_a_degenerate_fit(monkeypatch):
    """motion.moved_objects: two re-encodes of one frame once read "local motion: 2 objects moved
    on their own, by up to 2.2e15 px" -- windows whose gradient barely pinned the fit. A fitted
    displacement beyond half a window is no measurement and is not judged; the same windows
    displaced by 3 px are (the control)."""
    import scopecheck.compare.motion as motion

    rng = np.random.default_rng(4)
    h, w = 8 * WINDOW, 8 * WINDOW
    resid = rng.normal(0, 1.0, (h, w)).astype(np.float32)
    flat = np.zeros((h, w), np.float32)
    valid = np.ones((h, w), bool)
    real_fits = motion.window_fits

    def fits_with(displacement):
        def fake(*args):
            beta, inv, fit, lv = real_fits(*args)
            beta = np.zeros_like(beta)
            inv = np.zeros_like(inv)
            inv[..., 2, 2] = inv[..., 3, 3] = 1e-6   # well pinned: tiny standard errors
            fit[:] = True
            for iy, ix in ((1, 1), (10, 10)):        # two separate windows
                beta[iy, ix, 2] = -displacement
            return beta, inv, fit, lv
        return fake

    monkeypatch.setattr(motion, "robust_cov", lambda *a, **k: np.eye(2) * 1e-4)
    monkeypatch.setattr(motion, "window_fits", fits_with(3.0))
    assert motion.moved_objects(resid, flat, flat, flat, valid, noise_var=1.0, slack=0.2)[0] == 2
    monkeypatch.setattr(motion, "window_fits", fits_with(2.2e15))
    assert motion.moved_objects(resid, flat, flat, flat, valid, noise_var=1.0, slack=0.2) == (0, 0.0)


def _spots_in_flat_patches(rng, displacement, *, noise=2.0, amp=7.0):
    """A textured field (every window pins a displacement far below OBJECT_PX) with two flat
    48 x 48 patches, each holding one faint spot (a labelled locus: Gaussian, sigma 1.5 px) that
    moved by ``displacement``: the residual is the linear model ``-u . grad A`` exactly (u the
    spot's displacement within 8 px of it, 0 elsewhere) plus white noise of ``noise``."""
    h = w = 168
    level = cv2.GaussianBlur(rng.uniform(0, 255, (h, w)).astype(np.float32), (0, 0), 2.0) * 4
    yy, xx = np.mgrid[:48, :48].astype(np.float32)
    near = (xx - 23.5) ** 2 + (yy - 23.5) ** 2
    u = np.zeros((h, w, 2), np.float32)
    patches = [(24, 24), (96, 108)]  # top-left corners; the window at (+12, +12) lies inside with its spot
    for x, y in patches:
        level[y:y + 48, x:x + 48] = 60.0 + amp * np.exp(-near / (2 * 1.5 ** 2))
        u[y:y + 48, x:x + 48][near <= 8 ** 2] = displacement
    gx = cv2.Sobel(level, cv2.CV_32F, 1, 0, ksize=3, scale=1 / 8)
    gy = cv2.Sobel(level, cv2.CV_32F, 0, 1, ksize=3, scale=1 / 8)
    resid = -(u[..., 0] * gx + u[..., 1] * gy) + rng.normal(0, noise, (h, w)).astype(np.float32)
    return resid, level, gx, gy, patches


def test_a_window_that_cannot_see_the_smallest_motion_still_sees_a_larger_one():
    """Held-out split 6's mESC cause (README, cause 19): a window whose noise cannot pin a motion
    of OBJECT_PX at Z_OBJECT standard errors -- one faint locus in a flat nucleus -- was never
    judged, however far its locus moved. It is judged on its own displacement: moved when that is
    Z_OBJECT standard errors, the standard error from numpy's plain least squares here."""
    from scopecheck.compare.motion import OBJECT_PX, Z_OBJECT, moved_objects

    noise = 2.0
    for displacement, moved in (((3.5, 0.0), True), ((-2.5, 2.5), True), ((1.6, 0.0), False), ((0.0, 0.0), False)):
        resid, level, gx, gy, patches = _spots_in_flat_patches(np.random.default_rng(5), displacement, noise=noise)
        lv = level - level.mean()
        for x, y in patches:  # the reference: each spot's window by the textbook formulas
            win = (slice(y + 12, y + 12 + WINDOW), slice(x + 12, x + 12 + WINDOW))
            xm = np.stack([np.ones(WINDOW * WINDOW)] + [v[win].ravel().astype(np.float64) for v in (lv, gx, gy)], 1)
            coef, *_ = np.linalg.lstsq(xm, resid[win].ravel().astype(np.float64), rcond=None)
            se = noise * np.sqrt(np.max(np.diag(np.linalg.inv(xm.T @ xm))[2:]))
            assert se > OBJECT_PX / Z_OBJECT  # this window cannot pin the smallest motion that counts
            assert np.hypot(*(-coef[2:] - displacement)) < 3 * se  # ... but measures its spot's
            assert bool(np.hypot(*displacement) >= Z_OBJECT * se) == moved
        n, px = moved_objects(resid, level, gx, gy, np.ones(resid.shape, bool), noise_var=noise ** 2, slack=0.2)
        assert n == (len(patches) if moved else 0), (displacement, n)
        if moved:
            assert abs(px - np.hypot(*displacement)) < 1.0


def _nuclei_with_loci(rng, loci):
    """Split 6's mESC frames rebuilt: nuclei (levels 60-90) on a dark background, each holding
    labelled loci (Gaussian spots of sigma 1.5 px, 120 DN) at ``loci``; the noise correlated over
    a few pixels as in those HILO maximum projections (a Gaussian-filtered noise, sigma 1.5 px,
    plus a white part: lag-1 correlation 0.7, 3 DN per frame)."""
    shape = (256, 256)
    img = np.full(shape, 12.0, np.float32)
    for k, (x, y) in enumerate([(64, 64), (192, 64), (64, 192), (192, 192)]):
        cv2.ellipse(img, (x * 8, y * 8), (40 * 8, 30 * 8), 20 * k, 0, 360, 60.0 + 10 * k, -1, shift=3)
    img = cv2.GaussianBlur(img, (0, 0), 1.0)
    yy, xx = np.mgrid[:shape[0], :shape[1]].astype(np.float32)
    for x, y in loci:
        img += 120.0 * np.exp(-((xx - x) ** 2 + (yy - y) ** 2) / (2 * 1.5 ** 2))
    corr = cv2.GaussianBlur(rng.normal(0, 1, shape).astype(np.float32), (0, 0), 1.5)
    corr /= corr.std()
    noise = 3.1 * (0.88 * corr + 0.47 * rng.normal(0, 1, shape).astype(np.float32))
    return np.clip(np.round(img + noise), 0, 255).astype(np.uint8)


@pytest.mark.parametrize("seed", [0, 1])
def test_loci_that_moved_in_still_nuclei_are_a_local_motion(seed):
    """Eight loci moved by 2.5 px, each in its own direction, in nuclei that stayed put: no region
    is large or strong enough alone and the loci windows cannot pin a motion of OBJECT_PX, but
    each sees its locus's. A second shot of the unmoved field (the control) moves nothing."""
    loci = [(50, 50), (80, 76), (180, 56), (206, 84), (48, 176), (80, 204), (176, 180), (206, 206)]
    angles = [0.3, 2.0, 3.5, 5.1, 1.1, 2.7, 4.2, 5.8]
    moved = [(x + 2.5 * np.cos(t), y + 2.5 * np.sin(t)) for (x, y), t in zip(loci, angles)]
    rng = np.random.default_rng(seed)
    a = _nuclei_with_loci(rng, loci)
    c = compare_arrays(a, _nuclei_with_loci(rng, moved))
    assert MOVED_OBJECTS <= c.analysis.moved_objects <= len(loci), c.reason
    assert c.verdict not in SAME_VERDICTS and not c.same_field
    still = compare_arrays(a, _nuclei_with_loci(rng, loci))
    assert still.verdict in SAME_VERDICTS, still.reason
    assert still.analysis.moved_objects == 0
