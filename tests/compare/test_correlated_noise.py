"""Correlated camera noise at the structure correlation's scale (issue 9, cause 19).

A camera's noise is not white: demosaicing, in-camera noise reduction and JPEG correlate
neighbouring pixels, so far more of it survives the correlation's sigma-1 blur than a per-pixel
(white) estimate predicts. Taken as structure, it made two shots of a flat target "another scene"
(held-out split 6: aligned correlation 0.51-0.58). The noise is now measured at that scale
(:func:`compare.noise_floor.smoothed_noise`); the references here are numpy's own ``std`` of the
noise each image was made with.
"""

import cv2
import numpy as np
import pytest
from skimage import data

from scopecheck.compare.changes import _structure_correlation
from scopecheck.compare.noise_floor import _gauss_noise_gain, _pixel_noise, smoothed_noise
from scopecheck.compare.pair import SAME_VERDICTS, compare_arrays

H = W = 384


def _correlated(rng, sigma: float, corr: float, shape=(H, W)) -> np.ndarray:
    """White noise of ``sigma`` blurred by a Gaussian of ``corr`` px (0: white)."""
    n = rng.normal(0.0, sigma, shape).astype(np.float32)
    return cv2.GaussianBlur(n, (0, 0), corr) if corr else n


def _smooth(x: np.ndarray) -> np.ndarray:
    return cv2.GaussianBlur(x.astype(np.float32), (0, 0), 1.0)


def _flat_target(vignetting: float = 0.01, texture: float = 0.004, seed: int = 1) -> np.ndarray:
    """A uniformly lit flat target at 140 DN: vignetting falling to ``1 - 2 vignetting`` in the
    corners and a faint fixed texture (the target's grain, the sensor's PRNU)."""
    yy, xx = np.mgrid[0:H, 0:W].astype(np.float32)
    r2 = ((xx - W / 2) ** 2 + (yy - H / 2) ** 2) / (W / 2) ** 2
    grain = _correlated(np.random.default_rng(seed), 1.0, 1.5)
    return 140.0 * (1 - vignetting * r2) * (1 + texture * grain / grain.std())


def _shot(rng, target: np.ndarray, gain: float = 1.0) -> np.ndarray:
    return np.clip(target * gain + _correlated(rng, 2.0, 0.5, target.shape), 0, 255).round().astype(np.uint8)


@pytest.mark.parametrize("corr", [0.0, 0.5, 0.8])
def test_smoothed_noise_is_the_noise_left_at_the_blurs_scale(corr):
    rng = np.random.default_rng(3)
    noise = _correlated(rng, 4.0, corr)
    yy, xx = np.mgrid[0:H, 0:W].astype(np.float32)
    shading = 100 + 0.05 * xx - 0.03 * yy + 20 * np.exp(-((xx - 200) ** 2 + (yy - 150) ** 2) / 2e4)
    truth = float(np.std(_smooth(noise)))  # numpy's std of the very noise, smoothed
    # what second differences at lag 4 read of it: Gaussian-blurred white noise keeps the
    # autocorrelation rho(d) = exp(-d^2 / (4 s^2)), s^2 = corr^2 + 1 (the two blurs), and the
    # difference's variance is (6 - 8 rho(4) + 2 rho(8)) of the noise's
    s2 = corr ** 2 + 1.0
    rho = [np.exp(-d * d / (4 * s2)) for d in (4, 8)]
    read = truth * np.sqrt((6 - 8 * rho[0] + 2 * rho[1]) / 6)
    assert smoothed_noise(_smooth(shading + noise)) == pytest.approx(read, rel=0.03)
    white = _pixel_noise(shading + noise) * _gauss_noise_gain(1.0)
    if corr == 0.0:
        assert white == pytest.approx(truth, rel=0.05)  # white noise: both agree
    else:
        assert white < 0.7 * truth  # the cause: the white estimate misses most of it


def test_a_pairs_difference_reads_both_noises_and_not_the_texture():
    rng = np.random.default_rng(4)
    texture = data.camera()[64:64 + H, 64:64 + W].astype(np.float32)
    na, nb = _correlated(rng, 3.0, 0.5), _correlated(rng, 3.0, 0.5)
    sa, sb = _smooth(texture + na), _smooth(texture + nb)
    truth = float(np.std(_smooth(na) - _smooth(nb)))
    assert smoothed_noise(sa, sb) == pytest.approx(truth, rel=0.05)
    assert smoothed_noise(sa) > 1.5 * truth / np.sqrt(2)  # one side alone reads texture as noise


@pytest.mark.parametrize("seed", [5, 6])
def test_the_pairs_difference_bounds_what_texture_adds_to_the_noise(seed):
    """Faint texture (the camera at 2 % contrast) under correlated noise, the same in both shots:
    the correlation with the noise removed is 1 by construction, and numpy's variances of the very
    noises, smoothed, give the reference figure. Each side's own estimate reads texture as noise
    and would remove more than there is (beyond 1); the white estimate removes too little."""
    rng = np.random.default_rng(seed)
    texture = data.camera()[64:64 + H, 64:64 + W].astype(np.float32) * 0.02
    na, nb = _correlated(rng, 3.0, 0.5), _correlated(rng, 3.0, 0.5)
    a, b = texture + na, texture + nb
    sa, sb = _smooth(a), _smooth(b)
    noise_a, noise_b = _pixel_noise(a), _pixel_noise(b)
    corr, structured = _structure_correlation(noise_a, noise_b, sa, sb)
    assert structured
    cov = np.mean((sa - sa.mean()) * (sb - sb.mean()))

    def disattenuated(va, vb):
        return cov / np.sqrt((sa.var() - va) * (sb.var() - vb))

    reference = disattenuated(np.var(_smooth(na)), np.var(_smooth(nb)))
    assert reference == pytest.approx(1.0, abs=0.01)
    assert corr == pytest.approx(reference, abs=0.03)
    own = [min(smoothed_noise(s), n) ** 2 for s, n in ((sa, noise_a), (sb, noise_b))]
    assert sum(own) > smoothed_noise(sa, sb) ** 2  # the bound applies here ...
    assert disattenuated(*own) > 1.0               # ... and without it too much is removed
    g2 = _gauss_noise_gain(1.0) ** 2
    assert disattenuated(noise_a ** 2 * g2, noise_b ** 2 * g2) < 0.9  # the white estimate: too little


@pytest.mark.parametrize("texture", [0.002, 0.004])
def test_two_shots_of_a_flat_target_with_camera_noise_are_the_same(texture):
    rng = np.random.default_rng(2)
    target = _flat_target(texture=texture)
    a, b = _shot(rng, target), _shot(rng, target, gain=1.02)
    c = compare_arrays(a, b)
    assert c.verdict in SAME_VERDICTS, c.reason  # was "another scene", correlation 0.68-0.75
    assert c.analysis.correlation > 0.9


def test_another_faint_target_with_camera_noise_is_still_another_scene():
    rng = np.random.default_rng(2)
    a = _shot(rng, _flat_target(texture=0.02, seed=1))
    b = _shot(rng, _flat_target(texture=0.02, seed=2), gain=1.02)
    c = compare_arrays(a, b)
    assert c.verdict not in SAME_VERDICTS, c.reason
    assert c.reason.startswith("another scene"), c.reason


@pytest.mark.parametrize("gains", [(1.0, 1.0, 1.0), (1.03, 1.03, 1.03), (1.0, 1.0, 1.05)])
def test_drift_of_frames_without_structure_is_told_by_their_mean_levels(gains):
    """A flat target has no structure above its noise to carry a gain: the gain fitted to it fits
    noise (a real shot 1 % brighter read "exposure drifted +20 %"). Its drift is told by the mean
    levels: numpy's means of the two frames are the reference."""
    rng = np.random.default_rng(2)
    target = _flat_target(vignetting=0.0, texture=0.003)
    # one noise in all three channels (demosaicing shares it between them)
    a = np.dstack([_shot(rng, target)] * 3)
    shot_b = _shot(rng, target).astype(np.float64)
    b = np.dstack([np.clip(shot_b * g, 0, 255).round().astype(np.uint8) for g in gains])
    c = compare_arrays(a, b)
    an = c.analysis
    assert c.verdict in SAME_VERDICTS, c.reason
    assert not an.structured and an.by_level
    luma = np.array([0.114, 0.587, 0.299])  # BGR
    expected = float((b.mean(axis=(0, 1)) @ luma) / (a.mean(axis=(0, 1)) @ luma)) - 1
    assert an.exposure_change == pytest.approx(expected, abs=2e-3)
    per_channel = b.mean(axis=(0, 1)) / a.mean(axis=(0, 1))
    assert an.drift_gains == pytest.approx(tuple(per_channel), abs=2e-3)
    assert ("exposure drifted" in c.reason) == (gains[0] > 1.02), c.reason
    assert ("white balance drifted" in c.reason) == (gains[2] != gains[0]), c.reason
    if gains[2] != gains[0]:
        # white balance: each channel against the luma's change (R 5 % up moves luma 1.5 %)
        assert f"R {100 * (per_channel[2] / (1 + expected) - 1):+.1f} %" in c.reason, c.reason
