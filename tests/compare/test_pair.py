"""The verdicts of compare on the labelled fixture pairs and on constructed edge cases."""
import json
import os

import cv2
import numpy as np
import pytest
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

from scopecheck.compare.pair import VERDICTS, compare_arrays, compare_files
from tests.conftest import COMPARE_FIX, noisy, scene

with open(os.path.join(COMPARE_FIX, "MANIFEST.json")) as _fh:
    MANIFEST = json.load(_fh)


def fx(name):
    return os.path.join(COMPARE_FIX, name)


@pytest.mark.parametrize("pair", MANIFEST["pairs"], ids=lambda p: f"{p['a']}-{p['b']}")
def test_fixture_verdicts(pair):
    """Every fixture pair gets the verdict its generator (fixtures/make_fixtures.py) labelled."""
    c = compare_files(fx(pair["a"]), fx(pair["b"]))
    assert c.verdict == pair["expected"], c.reason
    assert c.exit_code == (0 if pair["expected"] != "different" else 1)


def test_fixture_manifest_digests():
    import hashlib
    for name, info in MANIFEST["files"].items():
        with open(fx(name), "rb") as fh:
            assert hashlib.sha256(fh.read()).hexdigest() == info["sha256"], name
    assert {p["expected"] for p in MANIFEST["pairs"]} == set(VERDICTS)


def test_forum_case_in_words():
    c = compare_files(fx("forum_120900.jpg"), fx("forum_120905.jpg"))
    assert c.verdict == "identical-pixels" and not c.file_equal and c.pixels_equal
    assert c.reason.startswith("pixels identical; EXIF DateTime")
    keys = [d.key for d in c.metadata_differences]
    assert "EXIF DateTime" in keys


def test_raw_ssim_and_psnr_match_skimage():
    c = compare_files(fx("ihc_shot1.png"), fx("ihc_shot2.png"))
    a = cv2.imread(fx("ihc_shot1.png"), cv2.IMREAD_GRAYSCALE)
    b = cv2.imread(fx("ihc_shot2.png"), cv2.IMREAD_GRAYSCALE)
    ref = structural_similarity(a, b, gaussian_weights=True, sigma=1.5, use_sample_covariance=False, data_range=255)
    assert abs(c.ssim - ref) < 1e-4
    pa, pb = cv2.imread(fx("ihc_shot1.png")), cv2.imread(fx("ihc_shot2.png"))
    assert c.psnr == pytest.approx(peak_signal_noise_ratio(pa, pb, data_range=255), rel=1e-9)
    d = np.abs(pa.astype(int) - pb.astype(int))
    assert c.max_abs_diff == d.max()
    assert c.diff_fraction == pytest.approx(np.mean(d.max(axis=2) > 0))


def test_particle_region_is_where_it_was_put():
    c = compare_files(fx("ihc_shot1.png"), fx("ihc_particle.png"))
    assert c.verdict == "different" and "local change" in c.reason
    r = c.regions[0]
    # make_fixtures.py put the particle at (230, 80), radius 9.8 px
    assert r.x <= 230 <= r.x + r.width and r.y <= 80 <= r.y + r.height
    assert r.width < 60 and r.height < 60


def test_moved_field_reports_shift():
    c = compare_files(fx("ihc_shot1.png"), fx("ihc_moved.png"))
    assert c.reason.startswith("field moved by")
    # the stage moved 25 % of 320 px to the right: content moves 80 px left
    assert c.analysis.shift[0] == pytest.approx(-80, abs=0.5)


def test_exposure_drift_named():
    c = compare_files(fx("ihc_shot1.png"), fx("ihc_drift.png"))
    assert c.verdict == "near-identical"
    assert "exposure drifted +3" in c.reason and "lock exposure" in c.reason
    assert c.analysis.gain == pytest.approx(1.03, abs=0.01)   # the fixture's exposure was 1.03


def test_different_sizes_resized_flag():
    c = compare_files(fx("ihc_shot1.png"), fx("ihc_shot1_half.png"))
    assert c.resized and any("sizes differ" in n for n in c.notes)
    assert c.verdict == "near-identical"


def test_depth_and_channels_common_luma():
    c = compare_files(fx("ihc_gray8.png"), fx("ihc_gray16.png"))
    assert c.common_luma and any("bit depths differ" in n for n in c.notes)
    c = compare_files(fx("ihc_shot1.png"), fx("ihc_gray8.png"))
    assert any("channels differ" in n for n in c.notes)
    assert c.verdict == "near-identical"


def test_blank_frames_do_not_simply_match():
    black = np.zeros((240, 320, 3), np.uint8)
    grey = np.full((240, 320, 3), 128, np.uint8)
    c = compare_arrays(noisy(black.astype(float) + 20, 2, 1), noisy(black.astype(float) + 20, 2, 2))
    assert c.a.dhash.flat and c.b.dhash.flat
    assert "flat/blank" in c.reason
    c = compare_arrays(grey, scene(3).astype(np.uint8))
    assert c.verdict == "different" and "flat/blank" in c.reason


def test_json_is_serialisable_and_complete():
    c = compare_files(fx("ihc_shot1.png"), fx("ihc_particle.png"))
    doc = json.loads(json.dumps(c.to_json()))
    for key in ("verdict", "reason", "file_equal", "pixels_equal", "metadata_differences", "dhash_distance",
                "ssim", "psnr", "shift", "exposure_change", "regions", "ssim_aligned"):
        assert key in doc
    for side in ("a", "b"):
        for key in ("path", "sha256", "pixel_sha256", "dhash", "width", "height", "dtype"):
            assert key in doc[side]
    assert doc["regions"][0]["area"] > 0
    same = compare_files(fx("ihc_shot1.png"), fx("ihc_shot1.png")).to_json()
    assert same["psnr"] is None and same["ssim"] == 1.0


def test_images_too_small_for_ssim():
    rng = np.random.default_rng(0)
    a = rng.integers(0, 256, (10, 10, 3), dtype=np.uint8)
    b = rng.integers(0, 256, (10, 10, 3), dtype=np.uint8)
    c = compare_arrays(a, b, want_map=True)
    assert c.verdict == "different" and "too small" in c.reason
    assert json.loads(json.dumps(c.to_json()))["ssim"] is None
    assert compare_arrays(a, a.copy()).verdict == "identical-file"  # same pixels, same in-memory PNG


def test_verdict_is_a_str_enum():
    from scopecheck.compare.pair import Verdict
    c = compare_files(fx("ihc_shot1.png"), fx("ihc_shot2.png"))
    assert isinstance(c.verdict, Verdict) and isinstance(c.verdict, str)
    assert c.verdict == "near-identical" and str(c.verdict) == "near-identical" and c.verdict.same
    assert json.loads(json.dumps(c.to_json()))["verdict"] == "near-identical"
    assert [v.value for v in Verdict] == list(VERDICTS)


@pytest.mark.parametrize("shape", [(20, 12800), (16, 10240), (12800, 20), (12, 7700), (3, 5000)])
def test_extreme_aspect_ratios_never_crash(shape):
    # issue 8 C: a 640:1 strip once crashed the alignment with cv2.error
    rng = np.random.default_rng(0)
    f = cv2.GaussianBlur(rng.normal(0, 1, shape).astype(np.float32), (0, 0), 3)
    f = (f - f.min()) / (f.max() - f.min()) * 200 + 20
    a = np.clip(f + rng.normal(0, 1, shape), 0, 255).astype(np.uint8)
    b = np.clip(f + rng.normal(0, 1, shape), 0, 255).astype(np.uint8)
    c = compare_arrays(a, b)
    if min(shape) >= 16:
        assert c.verdict == "near-identical", c.reason
    else:
        assert c.verdict == "different" and "too small for SSIM and alignment" in c.reason


@pytest.mark.parametrize("sigma", [0, -1.0, float("nan"), float("inf")])
def test_ssim_sigma_is_validated(sigma):
    from scopecheck.compare.errors import InputError
    from scopecheck.compare.similarity import ssim
    x = np.zeros((32, 32), np.float32)
    with pytest.raises(InputError, match="sigma must be a positive number"):
        ssim(x, x, data_range=1.0, sigma=sigma)


@pytest.mark.parametrize("pair", MANIFEST["pairs"], ids=lambda p: f"{p['a']}-{p['b']}")
def test_files_start_the_pixel_comparison_early_with_the_same_answer(pair, monkeypatch):
    """compare_files starts the SSIM and the analysis as soon as both files are decoded when their
    pixels visibly differ (beside the digests); the answer is that of the two sides prepared first."""
    import scopecheck.compare.pair as pair_module
    from scopecheck.compare.pair import compare_sides, prepare

    a, b = fx(pair["a"]), fx(pair["b"])
    plain = compare_sides(prepare(a), prepare(b))
    calls = []
    real_start = pair_module.start
    monkeypatch.setattr(pair_module, "start", lambda *args, **kw: calls.append(1) or real_start(*args, **kw))
    early = compare_files(a, b)
    assert json.dumps(early.to_json()) == json.dumps(plain.to_json())
    assert len(calls) == (0 if plain.pixels_equal else 1)  # started once (never again), or not at all


def test_files_first_error_in_argument_order(tmp_path):
    from scopecheck.compare.errors import InputError

    bad_a, bad_b = tmp_path / "bad_a.png", tmp_path / "bad_b.png"
    good = fx("ihc_shot1.png")
    with open(good, "rb") as fh:
        data = fh.read()
    bad_a.write_bytes(data[:200])  # truncated
    bad_b.write_bytes(b"not an image")
    for args, culprit in (((bad_a, good), "bad_a"), ((good, bad_b), "bad_b"), ((bad_a, bad_b), "bad_a")):
        with pytest.raises(InputError) as err:
            compare_files(*args)
        assert culprit in str(err.value) or culprit in str(getattr(err.value, "path", "")), str(err.value)


def test_colour_against_a_gray_copy_stored_as_colour_is_compared_on_luma():
    """A gray copy stored with three equal channels (or gray + alpha, which decodes so) read "white
    balance drifted (B -30.6 %, G -7.8 %, R +27.0 %)": each channel's gain fit found a colour drift."""
    a = cv2.imread(os.path.join(COMPARE_FIX, "ihc_shot1.png"), cv2.IMREAD_UNCHANGED)
    gray3 = cv2.cvtColor(cv2.cvtColor(a, cv2.COLOR_BGR2GRAY), cv2.COLOR_GRAY2BGR)
    gray_alpha = cv2.cvtColor(gray3, cv2.COLOR_BGR2BGRA)
    for b in (gray3, gray_alpha):
        c = compare_arrays(a, b)
        assert c.verdict == "near-identical", c.reason
        assert "white balance" not in c.reason and "B is gray (its colour channels are equal); compared on luma" in c.notes
        assert len(c.analysis.channel_gains) == 1  # one luma fit, not three channel fits
    # two colour images whose channels differ are still compared channel by channel
    c = compare_arrays(a, a[:, :, ::-1].copy())
    assert c.verdict == "different" and len(c.analysis.channel_gains) == 3


def test_achromatic_looks_at_every_pixel():
    from scopecheck.compare.pixel_pair import achromatic

    g = np.zeros((64, 64, 3), np.uint8)
    assert achromatic(g) and not achromatic(g[:, :, 0])
    g[3, 5, 2] = 1  # off the sparse grid (every 7th pixel): still found
    assert not achromatic(g)
