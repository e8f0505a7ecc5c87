"""The noise floor's pieces against plain-numpy references on data with a known truth."""
import numpy as np
import pytest

from scopecheck.compare.noise_floor import GAIN_AGREE, _fit, _gain_carried

N, NA, NB = 20000, 100.0, 0.5  # samples; noise variance of the single shot (A) and of the mean (B)


def _shot_and_mean(rng, gain=3.0, offset=12.0):
    """A single shot at SNR ~1 and a mean of many of one field, each stretched to its own range
    (B = gain A + offset): the field's slowly varying part (variance 2 NA) and its fine structure
    (variance 0.5 NA, below the shot's noise). Returns A, B and A's and B's fine part with noise
    (what the fit's structure test sees once the slowly varying part is taken out)."""
    coarse = rng.normal(0.0, np.sqrt(2.0 * NA), N)
    fine = rng.normal(0.0, np.sqrt(0.5 * NA), N)
    na, nb = rng.normal(0.0, np.sqrt(NA), N), rng.normal(0.0, np.sqrt(NB), N)
    a = coarse + fine + na
    b = gain * (coarse + fine) + offset + nb
    return a, b, fine + na, gain * fine + nb


def test_clean_side_carries_the_gain_of_a_noise_dominated_shot():
    # Deming with the sides' noise variances reduces to regressing the noisy side on the clean
    # one -- the plain-numpy reference below -- which noise in the regressand does not bias
    a, b, ha, hb = _shot_and_mean(np.random.default_rng(5))
    assert np.var(ha) - NA < NA  # the shot's fine structure alone is noise-bound
    assert _gain_carried(ha, hb, a, b, NA, NB)
    g, o = _fit(a, b, na=NA, nb=NB, weak=False)
    h = np.cov(a, b)[0, 1] / np.var(b, ddof=1)  # OLS of A on B: unbiased, B is clean
    assert g == pytest.approx(1.0 / h, rel=0.02)
    assert g == pytest.approx(3.0, rel=0.03)
    assert o == pytest.approx(np.mean(b) - g * np.mean(a), abs=0.1)  # robust re-fit: a few samples out
    # the offset-only fit the shot had before leaves B's structure three times too large
    assert _fit(a, b, na=NA, nb=NB, weak=True)[0] == 1.0


def test_unrelated_structure_carries_no_gain():
    # another field: the clean side's structure is not the shot's
    rng = np.random.default_rng(6)
    a, _, ha, _ = _shot_and_mean(rng)
    _, b, _, hb = _shot_and_mean(rng)
    b = b + 0.5 * (a - a.mean())  # partly related (an overlapping field)
    rho = np.cov(a, b)[0, 1] / np.sqrt((np.var(a) - NA) * (np.var(b) - NB))  # disattenuated, plain numpy
    assert 0.2 < rho < GAIN_AGREE
    assert not _gain_carried(ha, hb, a, b, NA, NB)


def test_noise_bound_sides_carry_no_gain():
    rng = np.random.default_rng(7)
    signal = rng.normal(0.0, np.sqrt(0.5 * NA), N)
    a = signal + rng.normal(0.0, np.sqrt(NA), N)
    # the shot has no signal above its noise at all: a correlation would be a ratio of noise estimates
    b = 3.0 * signal + rng.normal(0.0, np.sqrt(NB), N)
    assert not _gain_carried(a, b, a, b, NA, NB)
    # two noise-bound shots: neither has structure to carry a gain
    b2 = signal + rng.normal(0.0, np.sqrt(NA), N)
    assert not _gain_carried(a, b2, a, b2, NA, NA)
    # both structured: carried
    a3, b3 = 4 * signal + rng.normal(0.0, 1.0, N), 2 * signal + rng.normal(0.0, 1.0, N)
    assert _gain_carried(a3, b3, a3, b3, 1.0, 1.0)


def test_interval_residual_equals_the_interval_arithmetic_everywhere():
    """The residual is worked out by interval arithmetic on the clipped samples only; every sample
    (ties, signed zeros, NaN, infinities, float32 and float64) equals the plain interval formula."""
    from scopecheck.compare.noise_floor import _interval_residual

    def plain(a, b_raw, b_norm, clip_a, clip_b):
        inf = np.float32(np.inf)
        a_lo, a_hi = np.where(a <= clip_a[0], -inf, a), np.where(a >= clip_a[1], inf, a)
        b_lo, b_hi = np.where(b_raw <= clip_b[0], -inf, b_norm), np.where(b_raw >= clip_b[1], inf, b_norm)
        above, below = b_lo - a_hi, b_hi - a_lo
        return np.where(above > 0, above, np.where(below < 0, below, np.float32(0))).astype(np.float32)

    rng = np.random.default_rng(4)
    for trial in range(120):
        dt = np.float32 if trial % 4 else np.float64
        a = np.round(rng.uniform(-5, 262, (23, 31))).astype(dt)
        b_raw = a.copy() if trial % 3 == 0 else np.round(rng.uniform(0, 255, a.shape)).astype(dt)
        b_norm = (b_raw * rng.uniform(0.9, 1.1) + rng.uniform(-3, 3)).astype(dt)
        if trial % 5 == 0:
            b_norm = a.copy()  # ties
        b_norm.flat[::7], a.flat[::11] = -0.0, 0.0
        if trial % 2:
            b_norm.flat[::13], a.flat[::17] = np.nan, np.inf
        clip_a, clip_b = ((4.0, 250.0), (-1.0, 300.0), (0.5, 254.5))[trial % 3], ((4.0, 250.0), (2.0, 1e9))[trial % 2]
        with np.errstate(invalid="ignore"):
            got, want = _interval_residual(a, b_raw, b_norm, clip_a, clip_b), plain(a, b_raw, b_norm, clip_a, clip_b)
        assert got.dtype == np.float32 and np.array_equal(got.view(np.uint32), want.view(np.uint32)), trial
