"""The noise floor's pieces against plain-numpy references on data with a known truth."""
import numpy as np
import pytest

from scopecheck.compare.photometric import GAIN_AGREE, _fit, _gain_carried
from tests.conftest import no_light_test

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
    from scopecheck.compare.clipping import _interval_residual

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

    from scopecheck.compare import local_noise as ln, noise_floor as nf, photometric as ph

    def plain_shading(resid, valid, level, lsb):
        h, w = resid.shape
        k = max(1, min(h, w) // 32)
        size = (w // k, h // k)
        den = np.maximum(cv2.GaussianBlur(cv2.resize(valid.astype(np.float32), size, interpolation=cv2.INTER_AREA),
                                          (0, 0), max(h, w) / 8.0 / k), 1e-3)
        lim = np.float32(ph.SHADING_MAX) * np.maximum(np.abs(level), np.float32(1.0))
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
        # sized where lit: samples (every 7th valid one) at or above a quarter of the 99th percentile
        # level, and at least one level
        lv, f = np.abs(level[valid][::7]), np.abs(total[valid][::7])
        lit = (lv >= ph.SHADING_LIT * np.percentile(lv, 99)) & (lv >= 1.0) & (f >= lsb / 2)
        return float(np.max(f[lit] / lv[lit])) if lit.any() else 0.0

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
    real_mad = ln._block_mad
    for trial in range(12):
        h, w = int(rng.integers(70, 260)), int(rng.integers(70, 300))
        resid = cv2.GaussianBlur(rng.normal(0, 2, (h, w)).astype(np.float32), (0, 0), 1.0)
        resid[::3, ::5], resid[1::7, ::3] = 0.0, -0.0
        valid = np.zeros((h, w), bool)
        valid[trial % 5:h - 3, 2:w - trial % 7] = True
        level = (rng.random((h, w)) * 250 - 10).astype(np.float32)
        got, want = resid.copy(), resid.copy()
        lsb = 0.05 * (trial % 3)  # and the field's half-level floor (0: none)
        assert ph._remove_shading(got, valid, level, lsb) == plain_shading(want, valid, level, lsb)
        assert np.array_equal(got.view(np.uint32), want.view(np.uint32))
        ln._block_mad = lambda d, ok, b: (seen.append((d.copy(), ok.copy())), real_mad(d, ok, b))[1]
        try:
            ln._local_sigma(got, valid, 0.5)
        finally:
            ln._block_mad = real_mad
        d, ok = plain_lagged(got, valid, nf.LOCAL_LAG)
        b = ln.LOCAL_BLOCK
        ny, nx = h // b, w // b
        empty = ~ok[:ny * b, :nx * b].reshape(ny, b, nx, b).any(axis=(1, 3))
        ok[:ny * b, :nx * b] |= np.repeat(np.repeat(empty, b, axis=0), b, axis=1)
        assert np.array_equal(seen[-1][0].view(np.uint32), d.view(np.uint32)) and np.array_equal(seen[-1][1], ok)


def test_black_crush_is_a_pile_up_on_the_darkest_code_not_a_dark_background():
    """clipping._black_crush against the histograms it is defined on (literal expectations)."""
    from scopecheck.compare.clipping import _black_crush

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
    """noise_level.level_sigma against the noise the residual was made with (sd 0.5 + 0.03 x level,
    a plain formula) over levels 0-200; a bright particle that left (A bright, B dark) is judged at
    B's dark level, whose noise it does not raise."""
    from scopecheck.compare.noise_level import LEVEL_BINS, level_sigma

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


def test_local_noise_by_level_lowers_dark_parts_and_keeps_to_its_bounds():
    """local_noise._local_sigma with a noise by level: a dark part whose noise at its level is a
    quarter of the frame's is judged at that (its lagged spread says so too); a level whose noise
    (already bounded by level_sigma's cap) reads 5x the frame's is judged at that, no more; a
    part whose blocks spread 8x but whose level reads the frame's noise is held at ``LOCAL_MAX``
    times the frame's; without blocks the noise by level is the local noise."""
    import cv2

    from scopecheck.compare.local_noise import LOCAL_MAX, _local_sigma
    from scopecheck.compare.noise_floor import _robust_sigma

    rng = np.random.default_rng(12)
    h, w = 256, 320
    sd = np.ones((h, w), np.float32)
    sd[:, :128] = 0.25                                     # the dark part: a quarter of the noise
    sd[:, 224:] = 8.0                                      # a part whose blocks spread 8x
    resid = cv2.GaussianBlur(rng.normal(0, 1, (h, w)).astype(np.float32), (0, 0), 1.5) * sd
    sigma = _robust_sigma(resid[:, 128:224].ravel())
    by_level = np.full((h, w), np.float32(sigma))
    by_level[:, :128] = 0.25 * sigma
    by_level[:, 128:192] = 5 * sigma                       # a bright level: 5x, as its shot noise allows
    local = _local_sigma(resid, np.ones((h, w), bool), sigma, by_level)
    assert float(np.median(local[:, 16:112])) == pytest.approx(0.25 * sigma, rel=0.25)
    assert float(np.median(local[:, 144:176])) == pytest.approx(5 * sigma, rel=1e-6)
    assert float(np.median(local[:, 256:])) == pytest.approx(LOCAL_MAX * sigma, rel=1e-6)
    assert float(local.max()) <= 5 * sigma * (1 + 1e-6)
    tiny = _local_sigma(resid[:40, :300], np.ones((40, 300), bool), sigma, by_level[:40, :300])
    assert np.array_equal(tiny, by_level[:40, :300])       # no blocks: the noise by level


def _shot_residual(rng, level, a, b):
    """A residual whose variance is ``a level + b`` (Poisson-Gaussian noise, Gaussian here)."""
    return (rng.normal(0, 1, level.shape) * np.sqrt(a * level + b)).astype(np.float32)


def _dark_and_bright_levels(rng, h=240, w=320):
    """Levels of a fluorescence frame: 7/8 of the pixels a dark background rising 5 -> 15 across
    the frame, the top rows (1/8) bright structure at 150-350."""
    level = np.tile(np.linspace(5, 15, w, dtype=np.float32), (h, 1))
    level[: h // 8] = rng.uniform(150, 350, (h // 8, w)).astype(np.float32)
    return level


def test_shot_model_equals_numpys_line_through_the_parts_that_behave_as_noise():
    """noise_level.shot_model against numpy: on variances exactly linear in level it is
    np.polyfit's line through every part; with the top two parts raised 4x (a change that filled
    them) it is np.polyfit's line through the other six, its slope lowered by SHOT_SE standard
    errors (numpy's unscaled covariance times the residual variance); a slope the dark parts
    cannot pin is none (HeLa nuclei that moved: dark parts within a level, then a jump); fewer
    than SHOT_START parts give no model."""
    from scopecheck.compare.noise_level import SHOT_SE, SHOT_START, shot_model

    c = np.array([5.0, 6.0, 7.5, 9.0, 11.0, 14.0, 20.0, 90.0])
    v = 0.1 * c + 0.3
    model = shot_model(c, v)
    assert model is not None
    assert model == pytest.approx(tuple(np.polyfit(c, v, 1)), rel=1e-9)
    rng = np.random.default_rng(2)
    changed = v * rng.uniform(0.9, 1.1, v.size)
    changed[6:] *= 4.0
    model = shot_model(c, changed)
    assert model is not None
    p, cov = np.polyfit(c[:6], changed[:6], 1, cov="unscaled")
    rss = float(((np.polyval(p, c[:6]) - changed[:6]) ** 2).sum())
    slope = p[0] - SHOT_SE * np.sqrt(cov[0, 0] * rss / (6 - 2))
    assert slope > 0
    assert model == pytest.approx((slope, changed[:6].mean() - slope * c[:6].mean()), rel=1e-9)
    moved = np.array([0.61, 0.35, 0.25, 0.45, 0.48, 2.2, 27.0, 41.0])
    model = shot_model(np.array([2.26, 2.43, 2.60, 2.90, 3.32, 4.65, 10.9, 60.0]), moved)
    assert model is not None and model[0] == 0.0 and model[1] == pytest.approx(moved[:5].mean())
    assert shot_model(c[:SHOT_START - 1], v[:SHOT_START - 1]) is None


def test_bright_structure_is_judged_at_its_shot_noise_above_the_frame_cap():
    """level_sigma with the frame's cap on a Poisson-Gaussian residual (variance 0.1 x level +
    0.1): bright structure, 1/8 of the frame at 4-7x the dark majority's noise, is judged at
    its own shot noise (the plain formula, within 15 %, around the top part's median level: beyond
    it the noise is held), not at the cap (3x the frame's); the dark levels at theirs."""
    from scopecheck.compare.local_noise import LOCAL_MAX
    from scopecheck.compare.noise_floor import _robust_sigma
    from scopecheck.compare.noise_level import level_sigma

    rng = np.random.default_rng(4)
    level = _dark_and_bright_levels(rng)
    resid = _shot_residual(rng, level, 0.1, 0.1)
    at = np.arange(level.size)
    cap = LOCAL_MAX * _robust_sigma(resid.ravel())
    got = level_sigma(resid, level, at, floor=0.01, cap=cap)
    assert got is not None
    want = np.sqrt(0.1 * level + 0.1)
    bright, dark = (level > 240) & (level < 260), level < 60  # bright: around the top part's median
    assert float(np.median(want[bright])) > 1.2 * cap
    assert float(np.median(got[bright] / want[bright])) == pytest.approx(1.0, rel=0.15)
    assert float(np.median(got[dark] / want[dark])) == pytest.approx(1.0, rel=0.12)


@pytest.mark.parametrize("eighths", [1, 2, 3])
def test_a_change_that_fills_the_brightest_levels_cannot_raise_their_noise(eighths):
    """A change that fills the brightest 1-3 eighths of the samples (every pixel there changed,
    the robust sigma 5x the shot noise) is bounded by SHOT_MARGIN times the shot noise at its level
    (or the frame's cap) -- never judged at its own inflated spread."""
    from scopecheck.compare.local_noise import LOCAL_MAX
    from scopecheck.compare.noise_floor import _robust_sigma
    from scopecheck.compare.noise_level import SHOT_MARGIN, level_sigma

    rng = np.random.default_rng(10 + eighths)
    h, w = 240, 320
    level = _dark_and_bright_levels(rng, h, w)
    level[h // 8: eighths * h // 8] = rng.uniform(30, 60, ((eighths - 1) * h // 8, w)).astype(np.float32)
    want = np.sqrt(0.1 * level + 0.1)
    resid = _shot_residual(rng, level, 0.1, 0.1)
    changed = level >= 30
    resid[changed] += (rng.normal(0, 1, int(changed.sum())) * 5 * want[changed]).astype(np.float32)
    at = np.arange(level.size)
    cap = LOCAL_MAX * _robust_sigma(resid.ravel())
    got = level_sigma(resid, level, at, floor=0.01, cap=cap)
    free = level_sigma(resid, level, at, floor=0.01)
    assert got is not None and free is not None
    assert float(np.median(free[changed] / want[changed])) > 4.0          # what the change measures
    assert SHOT_MARGIN <= 1.5
    assert float(np.max(got[changed] / np.maximum(1.5 * want[changed], cap))) <= 1.1


def test_a_change_in_every_bright_cell_is_found_and_shot_noise_is_not_a_change(monkeypatch):
    """End to end on 8-bit Poisson-Gaussian frames (a background of 8 photons, cells up to 128):
    two shots of the same cells are the same field; B's cells with their texture changed 20 %
    (every bright pixel altered a little: the change fills the brightest levels) are a change --
    and would hide in their own noise if each level were judged at its own robust noise (the
    shot-noise bound lifted)."""
    import cv2

    from scopecheck.compare import noise_level
    from scopecheck.compare.pair import SAME_VERDICTS, compare_arrays

    rng = np.random.default_rng(1)
    h, w = 256, 320
    cells = np.zeros((h, w), np.float32)
    for _ in range(12):
        cx, cy = rng.uniform(14, w - 14), rng.uniform(14, h - 14)
        axes = (int(14 * rng.uniform(0.7, 1.3)), int(14 * rng.uniform(0.7, 1.3)))
        cv2.ellipse(cells, (int(cx), int(cy)), axes, rng.uniform(0, 180), 0, 360, 1.0, -1)
    cells = cv2.GaussianBlur(cells, (0, 0), 1.5)

    def texture(seed, amp):
        t = cv2.GaussianBlur(np.random.default_rng(seed).normal(0, 1, (h, w)).astype(np.float32), (0, 0), 1.5)
        return 1 + amp * t / t.std()

    def shot(s):
        x = rng.poisson(8.0 + 120.0 * s) + rng.normal(0, 0.8, s.shape)
        return np.clip(np.round(x), 0, 255).astype(np.uint8)

    field = cells * texture(1, 0.3)
    a = shot(field)
    assert compare_arrays(a, shot(field)).verdict in SAME_VERDICTS
    changed = shot(field * texture(2, 0.2))
    assert compare_arrays(a, changed).verdict not in SAME_VERDICTS
    monkeypatch.setattr(noise_level, "SHOT_MARGIN", 100.0)
    no_light_test(monkeypatch)  # (cause 41's light test finds a cell whose light changed)
    # the regions hide in their own noise (the motion test may still read the texture as one moved object)
    assert not compare_arrays(a, changed).analysis.regions


def test_the_top_eighth_of_the_levels_is_halved_for_sparse_bright_structure():
    """noise_level.level_parts: seven eighths as before, the top eighth halved while each half keeps
    TOP_PART samples (literal sizes for 20,000 samples); every sample in exactly one part, in order."""
    from scopecheck.compare.noise_level import TOP_PART, level_parts

    assert TOP_PART == 200
    order = np.arange(20_000)
    parts = level_parts(order)
    assert [p.size for p in parts] == [2500] * 7 + [1250, 625, 312, 313]
    assert np.array_equal(np.concatenate(parts), order)
    assert [p.size for p in level_parts(np.arange(3000))] == [375] * 7 + [375]


def _sparse_bright(rng, h=480, w=640):
    """Levels of a fluorescence frame: a dark background (5.7-6.3) and 4 % of bright nuclei
    (150-250): the darker parts lie within a level and pin no shot-noise line to reach them."""
    level = rng.uniform(5.7, 6.3, (h, w)).astype(np.float32)
    level[:h // 25] = rng.uniform(150, 250, (h // 25, w)).astype(np.float32)
    return level


def test_bright_noise_escapes_the_cap_by_its_grain_and_a_change_does_not(monkeypatch):
    """level_sigma with ``raw``: white shot noise (variance 0.1 x level + 0.1 per pixel) smoothed by
    sigma 1.5 px, on sparse bright levels 4-6x the dark majority's noise, is judged at its measured
    smoothed noise (a plain-numpy std of the bright rows, within 15 %), above the frame's cap, with
    no shot-noise line to carry it (``shot_bound`` nil, as when the dark parts pin no slope); without
    ``raw`` it is held at the cap. A coherent change of the same rows (a blurred field 5x their
    noise) gains nothing by ``raw``: it is bounded exactly as without it."""
    import cv2

    from scopecheck.compare import noise_level
    from scopecheck.compare.local_noise import LOCAL_MAX
    from scopecheck.compare.noise_floor import _robust_sigma
    from scopecheck.compare.noise_level import level_sigma

    monkeypatch.setattr(noise_level, "shot_bound", lambda centres, sig, floor: np.zeros_like(sig))

    rng = np.random.default_rng(21)
    level = _sparse_bright(rng)
    raw = _shot_residual(rng, level, 0.1, 0.1)
    smooth = cv2.GaussianBlur(raw, (0, 0), 1.5)
    at = np.arange(level.size)
    cap = LOCAL_MAX * _robust_sigma(smooth.ravel())
    bright = level > 100
    inner = bright.copy()
    inner[level.shape[0] // 25 - 4:] = False                 # rows clear of the smoothing's reach
    want = float(smooth[inner].std())
    assert want > 1.5 * cap                                   # the cap alone would hide nothing of it
    got = level_sigma(smooth, level, at, floor=0.01, cap=cap, raw=raw)
    assert float(np.median(got[inner])) == pytest.approx(want, rel=0.15)
    held = level_sigma(smooth, level, at, floor=0.01, cap=cap)
    assert float(np.max(held[inner])) <= cap * 1.0001
    field = cv2.GaussianBlur(rng.normal(0, 1, level.shape).astype(np.float32), (0, 0), 3.0)
    field *= np.float32(5 * want / float(field[inner].std()))
    changed_raw = raw + np.where(bright, field, 0).astype(np.float32)
    changed = cv2.GaussianBlur(changed_raw, (0, 0), 1.5)
    with_raw = level_sigma(changed, level, at, floor=0.01, cap=cap, raw=changed_raw)
    without = level_sigma(changed, level, at, floor=0.01, cap=cap)
    assert np.array_equal(with_raw, without)
    free = level_sigma(changed, level, at, floor=0.01)
    assert float(np.median(without[inner])) < 0.5 * float(np.median(free[inner]))  # the bound holds it


def test_fine_grained_change_gains_no_more_than_shot_noise_allows(monkeypatch):
    """A change as fine-grained as noise (a dimmed nucleus's residual is a copy of its chromatin
    texture) filling the bright parts passes the grain test, but is bounded by ``all_shot``: the
    darkest part's noise (a plain-numpy robust sigma of the smoothed dark rows) times SHOT_MARGIN
    times sqrt(level / dark level), with no shot-noise line to lift it further."""
    import cv2

    from scopecheck.compare import noise_level
    from scopecheck.compare.local_noise import LOCAL_MAX
    from scopecheck.compare.noise_floor import _robust_sigma
    from scopecheck.compare.noise_level import SHOT_MARGIN, level_sigma

    monkeypatch.setattr(noise_level, "shot_bound", lambda centres, sig, floor: np.zeros_like(sig))
    rng = np.random.default_rng(22)
    level = _sparse_bright(rng)
    bright = level > 100
    raw = _shot_residual(rng, level, 0.1, 0.1)
    raw[bright] += (rng.normal(0, 1, int(bright.sum())) * 40 * np.sqrt(0.7)).astype(np.float32)  # 40x the dark noise
    smooth = cv2.GaussianBlur(raw, (0, 0), 1.5)
    at = np.arange(level.size)
    cap = LOCAL_MAX * _robust_sigma(smooth.ravel())
    inner = bright.copy()
    inner[level.shape[0] // 25 - 4:] = False
    got = level_sigma(smooth, level, at, floor=0.01, cap=cap, raw=raw)
    free = level_sigma(smooth, level, at, floor=0.01)
    dark = _robust_sigma(smooth[level.shape[0] // 2:].ravel())
    limit = SHOT_MARGIN * dark * np.sqrt(level[inner] / 6.0)
    assert float(np.median(free[inner])) > 2 * float(np.median(limit))        # what the change measures
    assert float(np.max(got[inner] / limit)) <= 1.1
    assert float(np.median(got[inner])) > cap                                # more than the cap, as noise may be
