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


def test_shading_and_local_noise_equal_their_plain_formulations():
    """The in-place shading field and the strided checkerboard of lagged differences give every
    value of the plain formulation (a fresh clip per pass, a masked copy), bit for bit."""
    import cv2

    from scopecheck.compare import noise_floor as nf

    def plain_shading(resid, valid, level):
        h, w = resid.shape
        k = max(1, min(h, w) // 32)
        size = (w // k, h // k)
        den = np.maximum(cv2.GaussianBlur(cv2.resize(valid.astype(np.float32), size, interpolation=cv2.INTER_AREA),
                                          (0, 0), max(h, w) / 8.0 / k), 1e-3)
        lim = np.float32(nf.SHADING_MAX) * np.maximum(np.abs(level), np.float32(1.0))
        total = np.zeros_like(resid)
        for _ in range(2):
            r = resid - total
            sig = max(nf._robust_sigma(r[valid][::7]) if valid.any() else 0.0, 1e-3)
            small = cv2.resize(np.clip(r, -3 * sig, 3 * sig), size, interpolation=cv2.INTER_AREA)
            field = cv2.resize(cv2.GaussianBlur(small, (0, 0), max(h, w) / 8.0 / k) / den, (w, h),
                               interpolation=cv2.INTER_LINEAR)
            total = np.clip(total + field, -lim, lim)
        total[~valid] = 0
        resid -= total
        return float(np.max(np.abs(total) / np.maximum(np.abs(level), 1.0)))

    def plain_lagged(smooth, valid, k):
        h, w = smooth.shape
        odd = np.zeros((h, w), bool)
        odd[0::2, 1::2] = odd[1::2, 0::2] = True
        d, ok = np.zeros((h, w), np.float32), np.zeros((h, w), bool)
        d[:, :-k], ok[:, :-k] = smooth[:, k:] - smooth[:, :-k], valid[:, k:] & valid[:, :-k]
        np.copyto(d[:-k], smooth[k:] - smooth[:-k], where=odd[:-k])
        np.copyto(ok[:-k], valid[k:] & valid[:-k], where=odd[:-k])
        ok[-k:] &= ~odd[-k:]
        return d, ok

    rng = np.random.default_rng(6)
    seen = []
    real_mad = nf._block_mad
    for trial in range(12):
        h, w = int(rng.integers(70, 260)), int(rng.integers(70, 300))
        resid = cv2.GaussianBlur(rng.normal(0, 2, (h, w)).astype(np.float32), (0, 0), 1.0)
        resid[::3, ::5], resid[1::7, ::3] = 0.0, -0.0
        valid = np.zeros((h, w), bool)
        valid[trial % 5:h - 3, 2:w - trial % 7] = True
        level = (rng.random((h, w)) * 250 - 10).astype(np.float32)
        got, want = resid.copy(), resid.copy()
        assert nf._remove_shading(got, valid, level) == plain_shading(want, valid, level)
        assert np.array_equal(got.view(np.uint32), want.view(np.uint32))
        nf._block_mad = lambda d, ok, b: (seen.append((d.copy(), ok.copy())), real_mad(d, ok, b))[1]
        try:
            nf._local_sigma(got, valid, 0.5)
        finally:
            nf._block_mad = real_mad
        d, ok = plain_lagged(got, valid, nf.LOCAL_LAG)
        b = nf.LOCAL_BLOCK
        ny, nx = h // b, w // b
        empty = ~ok[:ny * b, :nx * b].reshape(ny, b, nx, b).any(axis=(1, 3))
        ok[:ny * b, :nx * b] |= np.repeat(np.repeat(empty, b, axis=0), b, axis=1)
        assert np.array_equal(seen[-1][0].view(np.uint32), d.view(np.uint32)) and np.array_equal(seen[-1][1], ok)


def test_black_crush_is_a_pile_up_on_the_darkest_code_not_a_dark_background():
    """noise_floor._black_crush against the histograms it is defined on (literal expectations)."""
    from scopecheck.compare.noise_floor import _black_crush

    rng = np.random.default_rng(3)
    dark = np.clip(np.round(3.4 + rng.normal(0, 0.45, (190, 211))), 0, 255).astype(np.uint8)
    assert dark.min() == 2 and np.count_nonzero(dark == 2) < np.count_nonzero(dark == 3)
    assert _black_crush(dark) == -1.0                     # HeLa's background: dark, not clipped
    crushed = np.clip(np.round(rng.normal(1.0, 6.0, (300, 300))), 0, 255).astype(np.uint8)
    assert _black_crush(crushed) == 0.0                    # everything darker piled up on 0
    lifted = crushed + np.uint8(3)                         # a crush onto code 3 (a camera's pedestal)
    assert _black_crush(lifted) == 3.0
    assert _black_crush(crushed + np.uint8(5)) == -1.0     # no camera crushes black to level 5
    few = np.full((300, 300), 40, np.uint8)
    few.flat[:20] = 0                                      # 20 of 90000 at 0: less than PLATEAU
    assert _black_crush(few) == -1.0


def test_noise_by_level_follows_shot_noise_and_ignores_a_change():
    """noise_floor.level_sigma against the noise the residual was made with (sd 0.5 + 0.03 x level,
    a plain formula) over levels 0-200; a bright particle that left (A bright, B dark) is judged at
    B's dark level, whose noise it does not raise."""
    from scopecheck.compare.noise_floor import LEVEL_BINS, level_sigma

    rng = np.random.default_rng(8)
    h, w = 200, 300
    level = np.tile(np.linspace(0, 200, w, dtype=np.float32), (h, 1))
    true_sd = 0.5 + 0.03 * level
    resid = (rng.normal(0, 1, (h, w)) * true_sd).astype(np.float32)
    at = np.arange(h * w)
    got = level_sigma(resid, level, at, floor=0.01)
    for col in (20, 75, 150, 225, 280):
        assert got[100, col] == pytest.approx(true_sd[100, col], rel=0.12), col
    assert level_sigma(resid, level, at[:32 * LEVEL_BINS - 1], floor=0.01) is None
    assert level_sigma(resid * 0, level, at, floor=0.25).min() == np.float32(0.25)
    # a particle left: 4 % of the samples (a third of a level part) read 60 levels brighter in A
    gone = resid.copy()
    lower = level.copy()
    gone[:8, :] -= 60.0
    lower[:8, :] = 5.0                                     # the lower side's level: B's background
    got_gone = level_sigma(gone, lower, at, floor=0.01)
    assert got_gone[100, 150] == pytest.approx(true_sd[100, 150], rel=0.15)
    assert got_gone[0, 0] < 3 * (0.5 + 0.03 * 5.0)         # the particle's level keeps its small noise


def test_local_noise_by_level_lowers_dark_parts_and_never_exceeds_the_cap():
    """noise_floor._local_sigma with a noise by level: a dark part whose noise at its level is a
    quarter of the frame's is judged at that (its lagged spread says so too), and a level whose
    measured noise reads 10x the frame's (a change that filled that level) is still capped at
    ``LOCAL_MAX`` times the frame's."""
    import cv2

    from scopecheck.compare.noise_floor import LOCAL_MAX, _local_sigma, _robust_sigma

    rng = np.random.default_rng(12)
    h, w = 256, 320
    sd = np.ones((h, w), np.float32)
    sd[:, :128] = 0.25                                     # the dark part: a quarter of the noise
    resid = cv2.GaussianBlur(rng.normal(0, 1, (h, w)).astype(np.float32), (0, 0), 1.5) * sd
    sigma = _robust_sigma(resid[:, 128:].ravel())
    by_level = np.where(sd < 1, np.float32(0.25 * sigma), np.float32(10 * sigma)).astype(np.float32)
    local = _local_sigma(resid, np.ones((h, w), bool), sigma, by_level)
    assert float(np.median(local[:, 16:112])) == pytest.approx(0.25 * sigma, rel=0.25)
    assert float(local.max()) <= LOCAL_MAX * sigma * (1 + 1e-6)
    assert float(np.median(local[:, 160:])) == pytest.approx(LOCAL_MAX * sigma, rel=1e-6)
    tiny = _local_sigma(resid[:40, :300], np.ones((40, 300), bool), sigma, by_level[:40, :300])
    assert float(tiny.max()) == pytest.approx(LOCAL_MAX * sigma, rel=1e-6)  # no blocks: the same cap
    assert float(tiny.min()) == pytest.approx(0.25 * sigma, rel=1e-6)
