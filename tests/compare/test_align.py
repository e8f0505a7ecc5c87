"""Registration, photometric normalisation and regions against the sensor model's known truth."""
import math

import cv2
import numpy as np
import pytest

from scopecheck.capture.pairs import KINDS, SAME_KINDS, labelled_pairs
from scopecheck.capture.sensor import expose, load_scene, view
from scopecheck.compare.align import _register, analyse
from scopecheck.compare.pair import SAME_VERDICTS, Thresholds, compare_arrays

SIZE = (320, 240)


@pytest.fixture(scope="module")
def ihc():
    return load_scene("immunohistochemistry")


@pytest.mark.parametrize("shift", [(0.0, 0.0), (0.3, -0.7), (1.5, 1.2), (-2.6, 0.4)])
def test_registration_recovers_subpixel_shift(ihc, shift):
    rng = np.random.default_rng(1)
    o = (150.0, 180.0)
    a = expose(view(ihc, origin=o, size=SIZE), rng=rng)
    b = expose(view(ihc, origin=(o[0] + shift[0], o[1] + shift[1]), size=SIZE), rng=rng)
    an = analyse(a, b)
    # B's origin moved by +shift, so its content moved by -shift
    assert math.hypot(an.shift[0] + shift[0], an.shift[1] + shift[1]) < 0.15, an.shift


def test_register_leaves_inputs_alone():
    """opencv-python 5.0's phaseCorrelate writes the window into its inputs; ours must not."""
    rng = np.random.default_rng(0)
    a = cv2.GaussianBlur(rng.uniform(0, 255, (120, 160)).astype(np.float32), (0, 0), 3)
    b = np.roll(a, 2, axis=1)
    a0, b0 = a.copy(), b.copy()
    dx, dy, _ = _register(a, b)
    assert np.array_equal(a, a0) and np.array_equal(b, b0)
    assert dx == pytest.approx(2.0, abs=0.05) and dy == pytest.approx(0.0, abs=0.05)


def test_exposure_and_white_balance_recovered(ihc):
    rng = np.random.default_rng(2)
    f = view(ihc, origin=(100.0, 120.0), size=SIZE)
    a = expose(f, rng=rng)
    b = expose(f, rng=rng, exposure=0.95, wb=(1.02, 1.0, 0.97))
    an = analyse(a, b)
    assert an.gain == pytest.approx(0.95, abs=0.01)
    for got, want in zip(an.channel_gains, (0.95 * 1.02, 0.95, 0.95 * 0.97)):
        assert got == pytest.approx(want, abs=0.012)
    assert not an.regions


def test_noise_estimate_matches_the_model(ihc):
    rng = np.random.default_rng(3)
    f = view(ihc, origin=(100.0, 120.0), size=SIZE)
    a, b = expose(f, rng=rng), expose(f, rng=rng)
    an = analyse(a, b)
    # reference: the interquartile range of the difference of the two frames per channel (a robust
    # sigma computed directly with np.percentile, not through compare.align), / sqrt(2) for one frame
    def iqr_sigma(d):
        q1, q3 = np.percentile(d, [25, 75])
        return (q3 - q1) / 1.349
    direct = np.mean([iqr_sigma(b[..., c].astype(float) - a[..., c]) for c in range(3)]) / math.sqrt(2)
    assert an.noise_sigma == pytest.approx(direct, rel=0.1)


def test_profile_noise_sets_a_floor(ihc):
    rng = np.random.default_rng(4)
    f = view(ihc, origin=(100.0, 120.0), size=SIZE)
    a = expose(f, rng=rng)
    mask = np.zeros(f.shape[:2], np.float32)
    cv2.circle(mask, (200, 100), 12, 1.0, -1)
    spot = f * (1 - 0.15 * mask[..., None])  # a faint stain: 15 % darker
    b = expose(spot, rng=rng)
    own = analyse(a, b)
    assert own.noise_source == "images" and own.regions
    low = analyse(a, b, noise_sigma=0.3)   # claims less noise than the pair shows: no effect
    assert low.noise_source == "profile" and low.noise_sigma == 0.3
    assert [r.to_json() for r in low.regions] == [r.to_json() for r in own.regions]
    high = analyse(a, b, noise_sigma=40.0)  # a very noisy device: the stain is within its noise
    assert not high.regions


def test_accuracy_subset():
    """A fast subset of bench/bench_accuracy.py: 4 labelled pairs of every kind, all right."""
    wrong = []
    for p in labelled_pairs(4, seed=123):
        c = compare_arrays(p.a, p.b)
        if (c.verdict in SAME_VERDICTS) != p.same:
            wrong.append((p.kind, p.scene, p.detail, c.reason))
        if p.truth is not None:
            x, y, w, h = p.truth
            assert any(r.x < x + w and x < r.x + r.width and r.y < y + h and y < r.y + r.height
                       for r in c.regions), (p.detail, c.reason)
    assert not wrong
    assert set(KINDS) >= SAME_KINDS


def test_thresholds_are_honoured(ihc):
    rng = np.random.default_rng(5)
    o = (150.0, 180.0)
    a = expose(view(ihc, origin=o, size=SIZE), rng=rng)
    b = expose(view(ihc, origin=(o[0] + 3.0, o[1]), size=SIZE), rng=rng)
    assert compare_arrays(a, b).verdict == "near-identical"
    c = compare_arrays(a, b, thresholds=Thresholds(max_shift=2.0))
    assert c.verdict == "different" and c.reason.startswith("field moved by (-3.0, +0.0) px")


def test_clipping_bounds():
    """A bright spot on a clipped-black background is a change; saturation from a brighter
    exposure is not (the clipped sample only bounds the true value)."""
    rng = np.random.default_rng(6)
    f = view(load_scene("immunohistochemistry"), origin=(100.0, 120.0), size=SIZE)
    f[:, :120] = 0.0                                   # a black, clipped margin
    a = expose(f, rng=rng)
    spot = f.copy()
    cv2.circle(spot, (60, 120), 14, (0.3, 0.3, 0.3), -1)
    an = analyse(a, expose(spot, rng=rng))
    assert an.regions and an.regions[0].x <= 60 <= an.regions[0].x + an.regions[0].width
    bright = np.clip(f * 1.6, 0, 1.2)                  # much of the field saturates at 255
    a2, b2 = expose(bright, rng=rng), expose(bright, rng=rng, exposure=1.08)
    assert (b2 == 255).mean() > 0.1
    assert not analyse(a2, b2).regions


def test_block_median_equals_numpys_nanmedian():
    """local_noise.nanmedian_last (one sort) against numpy's nanmedian, NaNs anywhere but a row's first."""
    from scopecheck.compare.local_noise import nanmedian_last

    rng = np.random.default_rng(7)
    for shape in [(3, 4, 1024), (5, 7, 1023), (2, 2, 1)]:
        d = rng.normal(size=shape).astype(np.float32)
        holes = rng.random(shape) < 0.3
        holes[..., 0] = False
        d[holes] = np.nan
        np.testing.assert_allclose(nanmedian_last(d), np.nanmedian(d, axis=-1), rtol=0, atol=1e-6)


def test_local_noise_follows_the_noise_not_a_change_as_large_as_a_block():
    """local_noise._local_sigma against the noise the residual was made with (the reference):
    white noise smoothed like the residual (sigma 1.5), twice as strong in one part of the frame,
    and a constant offset of 5 noise sigmas over a 40 px square across four blocks (a particle
    that darkened). The spread of the residual itself read 2.2x the noise inside the square."""
    from scopecheck.compare.local_noise import LOCAL_MAX, _local_sigma
    from scopecheck.compare.noise_floor import _robust_sigma

    rng = np.random.default_rng(11)
    h, w = 240, 320
    level = np.ones((h, w), np.float32)
    level[:, 224:] = 2.0                                    # noisier right part (bright, textured)
    noise = cv2.GaussianBlur(rng.normal(0, 1, (h, w)).astype(np.float32), (0, 0), 1.5) * level
    quiet = float(np.std(noise[:, :192]))                   # the true noise of the left part
    resid = noise.copy()
    resid[112:152, 48:88] -= 5 * quiet                      # the change: an offset, no new noise
    sigma = _robust_sigma(resid.ravel())                    # the frame's noise, as analyse has it
    local = _local_sigma(resid, np.ones((h, w), bool), sigma)
    assert local.min() >= sigma and local.max() <= LOCAL_MAX * sigma
    inside = float(np.median(local[112:152, 48:88]))
    assert inside < 1.3 * quiet, inside / quiet             # the offset did not raise its own noise
    right = float(np.median(local[:, 260:]))
    assert right == pytest.approx(2.0 * quiet, rel=0.2)     # the noisier part is judged noisier


def test_aligned_ssim_judges_structure_where_the_noise_is_small():
    """signal_ssim.signal_ssim: a shot buried in correlated noise (SNR ~1, as a widefield single shot)
    against the clean mean of the same field scores as the same structure; a neighbouring field
    (a window 40 px away) does not, with or without that noise."""
    from skimage.data import cell

    from scopecheck.compare.noise_floor import _gauss_noise_gain
    from scopecheck.compare.signal_ssim import signal_ssim as _signal_ssim

    rng = np.random.default_rng(5)
    img = cell().astype(np.float32)
    clean, other = img[:560, :450], img[40:600, 40:490]
    noise = cv2.GaussianBlur(rng.normal(0, 1, clean.shape).astype(np.float32), (0, 0), 0.8)
    noise *= np.float32(1.5 * clean.std() / noise.std())
    shot = clean + noise

    def smooth(x):
        return cv2.GaussianBlur(x, (0, 0), 1.0)

    white = _gauss_noise_gain(1.0) ** 2  # what a white-noise estimate of 1 DN would say
    assert _signal_ssim(smooth(shot), smooth(clean), white, agree=True) > 0.95
    assert _signal_ssim(smooth(shot), smooth(clean), white, agree=False) < 0.9  # white noise only
    # structures that do not agree: their difference is no noise, whatever its spread
    assert _signal_ssim(smooth(clean), smooth(other), white, agree=False) < 0.9
    assert _signal_ssim(smooth(shot), smooth(other), white, agree=False) < 0.9


@pytest.mark.parametrize("name", ["microaneurysms", "moon"])
def test_aligned_ssim_counts_a_jpeg_sides_quantisation_as_noise(tmp_path, name, monkeypatch):
    """A dark frame (levels 0-20) against its q70 JPEG: the codec's quantisation noise, derived
    from the tables (q^2/12 per coefficient through the smoothing), is part of the noise the
    aligned SSIM takes out. Without it the structure term reads the rounding as lost structure
    (0.93-0.94); with it the pair scores as the same structure. A real change in such a frame is
    still a change."""
    import skimage.data

    import scopecheck.compare.align as align
    from scopecheck.compare.pair import compare_files

    x = getattr(skimage.data, name)()
    dark = np.rint(x.astype(np.float64) / x.max() * 20).astype(np.uint8)
    a, b = str(tmp_path / "a.png"), str(tmp_path / "b.jpg")
    cv2.imwrite(a, dark)
    cv2.imwrite(b, dark, [cv2.IMWRITE_JPEG_QUALITY, 70])
    assert compare_files(a, b).analysis.ssim_aligned > 0.99
    changed = dark.copy()
    cv2.circle(changed, (dark.shape[1] // 2, dark.shape[0] // 2), 25, 20, -1)
    c = str(tmp_path / "c.jpg")
    cv2.imwrite(c, changed, [cv2.IMWRITE_JPEG_QUALITY, 70])
    assert compare_files(a, c).verdict == "different"
    plain = align.signal_ssim
    # the cause: with only the white estimate taken out, rounding reads as structure. (Since cause
    # 19 the noise measured at the correlation's scale also lets the sides "agree", and the SSIM
    # then takes the difference's own spread out as well: both are removed here.)
    monkeypatch.setattr(align, "signal_ssim", lambda sa, sb, w, *, agree, codec_var=None: plain(sa, sb, w, agree=False))
    assert compare_files(a, b).analysis.ssim_aligned < 0.95


def test_parallel_parts_give_the_figures_of_one_thread(ihc, monkeypatch):
    """analyse runs its independent parts (channels, the full-resolution refocus tiles, the noise
    estimates, aligned SSIM and band energies) on a thread pool: every figure equals the one the
    same parts give run one after another in the calling thread, bit for bit. 1300x1000 takes a
    working scale of 3, so the refocus tiles run too; B is shifted, brighter and locally changed."""
    from concurrent.futures import Future

    import scopecheck.compare.align as align

    rng = np.random.default_rng(5)
    size = (1300, 1000)
    field = view(ihc, origin=(20.0, 30.0), size=size)
    moved = view(ihc, origin=(21.3, 29.4), size=size) * np.float32(1.08)
    cv2.circle(moved, (700, 400), 40, (0.2, 0.3, 0.1), -1)
    a, b = expose(field, rng=rng), expose(moved, rng=rng)
    tiles = []  # the refocus tiles ran (their blur is 0 here: B's 8 % gain is no refocus)
    fine_of = align._fine_of
    monkeypatch.setattr(align, "_fine_of", lambda *args: tiles.append(fine_of(*args)) or tiles[-1])
    pooled = analyse(a, b, min_region_px=500)

    class Inline:
        def submit(self, fn, *args, **kw):
            f: Future = Future()
            f.set_result(fn(*args, **kw))
            return f

    monkeypatch.setattr(align, "_tasks", Inline)
    alone = analyse(a, b, min_region_px=500)
    assert pooled.scale == 3 and pooled.regions and len(tiles) == 2 and tiles[0].tiles
    assert repr(vars(pooled)) == repr(vars(alone))


def test_working_image_is_the_block_mean():
    """The working scale averages whole ``factor x factor`` blocks (plain-numpy reference), also
    when the size is no multiple of the factor: the last rows and columns cover no whole block.
    8-bit blocks are not rounded to whole levels (to 1/128 of one: ``FINE_BITS``)."""
    from scopecheck.compare.working import _working

    rng = np.random.default_rng(11)
    x = rng.integers(0, 256, (1944, 2592, 3), dtype=np.uint8)
    ref = x[:1940, :2590].astype(np.float64).reshape(388, 5, 518, 5, 3).mean(axis=(1, 3))
    got = _working(x, 5)
    assert got.dtype == np.float32 and got.shape == ref.shape
    assert np.abs(got - ref).max() <= 1 / 128 + 1e-6
    assert np.abs(got - ref).mean() < 0.01  # not whole levels: rounding would be 0.25 on average
    for f in (2, 3, 7):  # strips of 32 working rows: the last one short
        h, w = (1001 // f) * f, (803 // f) * f
        ref = x[:h, :w].astype(np.float64).reshape(h // f, f, w // f, f, 3).mean(axis=(1, 3))
        assert np.abs(_working(x[:1001, :803], f) - ref).max() <= 1 / 128 + 1e-6
    y = rng.integers(0, 65536, (1001, 1303), dtype=np.uint16)
    ref16 = y[:999, :1302].astype(np.float64).reshape(333, 3, 434, 3).mean(axis=(1, 3))
    assert np.allclose(_working(y, 3), np.round(ref16) * (255.0 / 65535.0), atol=1e-4)


def test_the_noise_of_a_large_8bit_pair_is_its_own():
    """Two 5 MP 8-bit shots of one field, each with Gaussian noise of 2 levels: the reported noise
    per frame is the plain-numpy standard deviation of their difference over sqrt 2 (2.0), not the
    rounding's 0.29 (the working image once rounded 25-pixel means to whole levels, and the
    residual's MAD was 0)."""
    import skimage.data

    img = skimage.data.coffee()[:, :, ::-1]
    big = cv2.resize(img, (2592, 1728), interpolation=cv2.INTER_CUBIC).astype(np.float32)
    rng = np.random.default_rng(4)
    a, b = (np.clip(big + rng.normal(0, 2, big.shape).astype(np.float32) + 0.5, 0, 255).astype(np.uint8)
            for _ in range(2))
    an = analyse(a, b)
    ref = float(np.std(a.astype(np.float64) - b)) / np.sqrt(2)
    assert an.noise_sigma == pytest.approx(ref, rel=0.1)
