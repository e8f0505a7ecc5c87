"""Focus from band energies (issue 9): the codec's share of a band, and a focus change that
differs across the frame. Pictures from scikit-image; references from plain numpy (a JPEG's
rounding of DCT coefficients rebuilt with an explicit DCT matrix) and from the blur applied."""

import math

import cv2
import numpy as np
import pytest
from skimage import data

import scopecheck.compare.align as align_mod
from scopecheck.compare import changes, focus
from scopecheck.compare.codec_noise import STD_LUMA, CodecTables
from scopecheck.compare.pair import SAME_VERDICTS, compare_arrays, compare_files

_X = np.arange(8)
DCT = np.array([math.sqrt((1 if u == 0 else 2) / 8) * np.cos(math.pi * (2 * _X + 1) * u / 16) for u in range(8)])


def _jpeg_round(img: np.ndarray, table: np.ndarray) -> np.ndarray:
    """What a JPEG encoder stores of a gray picture: each 8x8 block's DCT coefficients rounded to
    multiples of the table's steps, decoded back (no clipping, no 8-bit rounding)."""
    h, w = img.shape
    b = (img - 128.0).reshape(h // 8, 8, w // 8, 8).transpose(0, 2, 1, 3)
    c = np.einsum("ij,abjk,lk->abil", DCT, b, DCT)
    cq = np.round(c / table) * table
    return np.einsum("ji,abjk,kl->abil", DCT, cq, DCT).transpose(0, 2, 1, 3).reshape(h, w) + 128.0


def _bands(x: np.ndarray) -> list[float]:
    x = x.astype(np.float32)
    return [float((cv2.GaussianBlur(x, (0, 0), s) - cv2.GaussianBlur(x, (0, 0), 2 * s))[24:-24, 24:-24].var())
            for s in changes.BANDS_SIGMA[:-1]]


@pytest.mark.parametrize("quality", [None, 75])
@pytest.mark.parametrize("k", [1, 3])
def test_codec_band_noise_is_the_band_energy_of_rounded_dct_coefficients(quality, k):
    """q^2/12 per coefficient through the band-pass (and an area reduction by k) against the
    error a plain-numpy JPEG rounding leaves in a picture whose coefficients span many steps."""
    table = (np.full((8, 8), 12.0) if quality is None
             else np.clip(np.floor((STD_LUMA * (200 - 2 * quality) + 50) / 100), 1, 255).reshape(8, 8))
    img = np.random.default_rng(0).normal(128, 300, (960, 960))
    err = (_jpeg_round(img, table) - img).astype(np.float32)
    if k > 1:
        err = cv2.resize(err, (960 // k, 960 // k), interpolation=cv2.INTER_AREA)
    got = focus.codec_band_noise((CodecTables(luma=table, chroma=None, quality=0), None), (1.0, 1.0), k)[:, 0]
    assert got == pytest.approx(_bands(err), rel=0.03)


def _featureless_reencode(tmp_path):
    """A nearly featureless photo as a q85 JPEG (skimage camera, blurred sigma 6, faint grain of
    3 DN) and its q75 re-encode: the grain's coefficients sit at one or two q85 steps, and one q85
    step re-rounded to the larger q75 step grows -- the re-encode has more of the original's fine
    pattern than the original itself."""
    rng = np.random.default_rng(0)
    x = cv2.GaussianBlur(data.camera().astype(np.float32), (0, 0), 6.0)
    x = np.clip(x + rng.normal(0, 3.0, x.shape), 0, 255).astype(np.uint8)
    pa, pb = str(tmp_path / "a_q85.jpg"), str(tmp_path / "b_q75.jpg")
    cv2.imwrite(pa, x, [cv2.IMWRITE_JPEG_QUALITY, 85])
    cv2.imwrite(pb, cv2.imread(pa, cv2.IMREAD_GRAYSCALE), [cv2.IMWRITE_JPEG_QUALITY, 75])
    return pa, pb


def test_reencode_that_amplifies_the_old_pattern_is_no_focus_change(tmp_path, monkeypatch):
    pa, pb = _featureless_reencode(tmp_path)
    a, b = (cv2.imread(p, cv2.IMREAD_GRAYSCALE).astype(np.float32) for p in (pa, pb))
    e = changes.band_energies(a, b)[0]
    assert e[2] > 1.3 * e[0]  # the cross energy is above the original's own: B "sharper"
    c = compare_files(pa, pb)
    assert c.verdict in SAME_VERDICTS, c.reason
    assert c.b.codec is not None and c.b.codec.quality == 75
    import scopecheck.compare.pixel_pair as pair_mod
    monkeypatch.setattr(align_mod, "codec_band_noise", lambda *a, **k: np.zeros((2, 2)))
    c1 = compare_files(pa, pb)  # judged again at q75 (compare.requantise), the band alone suffices too
    assert c1.verdict in SAME_VERDICTS and abs(c1.analysis.sharpness_change) < 0.05, c1.reason
    monkeypatch.setattr(pair_mod, "refocus_at_quantisation", lambda an, *a, **k: an)
    import scopecheck.compare.second_look as second_look_mod  # (cause 33's second look would reproduce B)
    monkeypatch.setattr(second_look_mod, "requantised_jpeg_pixels", lambda *a, **k: None)
    c0 = compare_files(pa, pb)  # the cause: the band below the q75 noise judged as detail
    assert c0.verdict == "different" and "focus changed" in c0.reason and c0.analysis.sharpness_change > 0.2


@pytest.mark.parametrize("name", ["camera", "moon"])
def test_refocus_between_jpeg_shots_is_still_found(tmp_path, name):
    x = cv2.resize(getattr(data, name)(), (1024, 1024), interpolation=cv2.INTER_CUBIC)
    pa, pb = str(tmp_path / "a.jpg"), str(tmp_path / "b.jpg")
    cv2.imwrite(pa, x, [cv2.IMWRITE_JPEG_QUALITY, 70])
    cv2.imwrite(pb, cv2.GaussianBlur(x, (0, 0), 1.5), [cv2.IMWRITE_JPEG_QUALITY, 70])
    c = compare_files(pa, pb)
    assert c.verdict == "different" and "focus changed" in c.reason, c.reason


def _tilted(x: np.ndarray, amp: float, rising: bool) -> np.ndarray:
    """Blur that grows linearly across one half of the frame (sigma 0 at the centre, ``amp`` at
    the edge): the left half when not ``rising``, the right half when ``rising``."""
    w = x.shape[1]
    levels = np.linspace(0, amp, 9)
    stack = [x] + [cv2.GaussianBlur(x, (0, 0), s) for s in levels[1:]]
    col = np.arange(w) / w
    sig = amp * np.clip(2 * col - 1 if rising else 1 - 2 * col, 0, 1)
    idx = np.interp(sig, levels, np.arange(9))
    lo = np.floor(idx).astype(int)
    hi = np.minimum(lo + 1, 8)
    f = (idx - lo).astype(np.float32)
    st = np.stack(stack)
    cols = np.arange(w)
    return st[lo, :, cols].T * (1 - f) + st[hi, :, cols].T * f


@pytest.mark.parametrize("name", ["camera", "astronaut"])
def test_focus_change_across_a_tilted_field_is_found_where_it_is(name, monkeypatch):
    """A tilted specimen refocused: A blurred up to 2 px on the left, B on the right. The whole
    frame's bands cancel (blur below 1 px); the tiles find each side's blur where it was applied,
    within 25 % of the blur between the two at the tile's centre."""
    x = getattr(data, name)()
    x = x if x.ndim == 2 else cv2.cvtColor(x, cv2.COLOR_RGB2GRAY)
    x = cv2.resize(x, (1024, 768), interpolation=cv2.INTER_CUBIC).astype(np.float32)
    rng = np.random.default_rng(1)
    a, b = (np.clip(_tilted(x, 2.0, r) + rng.normal(0, 1.0, x.shape), 0, 255).astype(np.uint8) for r in (False, True))
    c = compare_arrays(a, b)
    assert c.verdict == "different" and "focus changed across the frame" in c.reason, c.reason
    assert abs(c.analysis.blur) < 1.0
    ta, tb = c.analysis.focus_tiles
    assert ta.blur > 0 > tb.blur
    assert ta.x + ta.size <= 512 <= tb.x
    for t, rising in ((ta, False), (tb, True)):
        centre = (t.x + t.size / 2) / 1024
        applied = 2.0 * (1 - 2 * centre if not rising else 2 * centre - 1)
        assert abs(t.blur) == pytest.approx(applied, rel=0.25)
    monkeypatch.setattr(align_mod, "tilted_focus", lambda fine: ())
    c = compare_arrays(a, b)  # the cause: the whole frame cancels (a tile's shifted edges may still read as a moved object)
    assert "focus changed" not in c.reason and abs(c.analysis.blur) < 1.0, c.reason


def test_tile_significance_is_calibrated_on_noise():
    """Repeated captures (picture + independent white noise): the tile statistic, centred on its
    mean without a blur (``-N_b``, measured on the noise alone), spreads by at most one standard
    error -- the bound is not anti-conservative -- and by more than half of one (it is not so
    loose that it could see nothing). No pair reports a focus change across the frame."""
    rng = np.random.default_rng(2)
    z = []
    for name in ("camera", "grass", "moon"):
        x = cv2.resize(getattr(data, name)(), (768, 768), interpolation=cv2.INTER_CUBIC).astype(np.float32)
        for noise in (1.0, 6.0):
            nz = rng.normal(0, noise, x.shape).astype(np.float32)
            fn = focus.fine_energies(nz, nz, 0.0, 0.0)
            for _ in range(2):
                a, b = (x + rng.normal(0, noise, x.shape).astype(np.float32) for _ in range(2))
                f = focus.fine_energies(a, b, 0.0, 0.0)
                assert focus.tilted_focus(f) == ()
                for (*_, e), (*_, en) in zip(f.tiles, fn.tiles):
                    for row, nrow, s in zip(e, en, changes.BANDS_SIGMA[1:]):
                        saa, sbb, sab, n = row[:4]
                        r = saa + sbb - 2 * sab
                        z.append((sab - sbb + nrow[0]) / math.sqrt((sbb * r + r * r) * changes._corr_area(s) / n))
    assert 0.5 < float(np.std(z)) <= 1.0, np.std(z)


def test_an_exposure_change_is_no_focus_change():
    """B 25 % brighter (same pixels times 1.25): the fine tiles take B on A's gain first; the
    band energies of the raw pixels would read B 25 % "sharper"."""
    x = cv2.resize(data.camera(), (1024, 1024), interpolation=cv2.INTER_CUBIC).astype(np.float32) * 0.75
    b = x * 1.25
    raw = focus.fine_energies(x, b, 0.0, 0.0)
    assert changes.sharpness_from_energies(raw.total) == pytest.approx(0.25, abs=0.01)
    fixed = focus.on_gain(raw, 1.25)
    assert fixed is not None
    assert abs(changes.sharpness_from_energies(fixed.total)) < 0.01
    c = compare_arrays(x.astype(np.uint8), np.clip(b, 0, 255).astype(np.uint8))
    assert c.verdict in SAME_VERDICTS, c.reason


def test_tiles_of_one_pass_add_up_to_the_whole():
    """The factor-1 path takes its tiles from the whole frame's band-passes: on a frame that the
    tiles cover exactly, their energies and counts add up to the whole frame's."""
    x = data.camera().astype(np.float32)
    b = cv2.GaussianBlur(x, (0, 0), 1.0)
    total, tiles = changes.tiled_band_energies(x, b, 128)
    assert len(tiles) == 16
    assert np.allclose(sum(e for *_, e in tiles)[:, :4], total[:, :4], rtol=1e-6)  # float32 sums
    assert np.array_equal(total, changes.band_energies(x, b))
