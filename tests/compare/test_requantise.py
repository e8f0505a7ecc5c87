"""Focus judged at the coarser lossy side's quantisation (compare.requantise): JPEG and WebP."""
from __future__ import annotations

import cv2
import numpy as np
import pytest
import skimage.data

from scopecheck.compare.codec_noise import CodecTables, jpeg_tables
from scopecheck.compare.pair import Thresholds, compare_files
from scopecheck.compare.requantise import (
    coarser_side,
    quantiser_sides,
    requantised_luma,
    requantised_webp,
    webp_quality_for,
)
from scopecheck.compare.vp8_quant import webp_tables


def _jpeg(img: np.ndarray, q: int) -> bytes:
    ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, q])
    assert ok
    return buf.tobytes()


def test_requantised_luma_is_opencvs_own_encode():
    # reference: OpenCV's encoder at quality 75 (IJG tables); ours gets only the tables it wrote
    cam = skimage.data.camera()
    data = _jpeg(cam, 75)
    tables = jpeg_tables(data)
    ref = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_GRAYSCALE)
    out = requantised_luma(cam, tables)
    assert out is not None and out.dtype == np.uint8
    assert int(np.abs(out.astype(int) - ref).max()) == 0


def test_requantised_luma_refuses_what_it_cannot_encode():
    t = CodecTables(luma=np.full((8, 8), 300.0), chroma=None, quality=1)  # a 16-bit table
    assert requantised_luma(skimage.data.camera(), t) is None
    t8 = CodecTables(luma=np.full((8, 8), 16.0), chroma=None, quality=50)
    assert requantised_luma(skimage.data.camera().astype(np.uint16), t8) is None


def test_coarser_side():
    q75, q90 = (jpeg_tables(_jpeg(skimage.data.camera(), q)) for q in (75, 90))
    assert coarser_side((None, q75), (1.0, 1.0)) == 1
    assert coarser_side((q75, q90), (1.0, 1.0)) == 0
    assert coarser_side((q90, q90), (1.0, 1.0)) is None
    assert coarser_side((None, None), (1.0, 1.0)) is None
    assert coarser_side((None, q75), (2.0, 1.0)) is None  # a resized pair: the block grids differ


@pytest.fixture(scope="module")
def chelsea_pair(tmp_path_factory):
    """Chelsea saved at q85 (the original), re-encoded at q75, and a blurred copy at q75."""
    d = tmp_path_factory.mktemp("requant")
    img = skimage.data.chelsea()[..., ::-1].copy()
    orig = d / "chelsea_q85.jpg"
    orig.write_bytes(_jpeg(img, 85))
    decoded = cv2.imread(str(orig), cv2.IMREAD_UNCHANGED)
    copy = d / "chelsea_q75.jpg"
    copy.write_bytes(_jpeg(decoded, 75))
    blurred = d / "chelsea_blur_q75.jpg"
    blurred.write_bytes(_jpeg(cv2.GaussianBlur(decoded, (0, 0), 1.2), 75))
    return str(orig), str(copy), str(blurred)


def test_a_reencode_reads_no_sharper_at_the_coarser_quantisation(chelsea_pair, monkeypatch):
    orig, copy, _ = chelsea_pair
    strict = Thresholds(refocus=0.04)  # the double rounding alone reads +5.9 % sharper
    import scopecheck.compare.pixel_pair as pair
    with monkeypatch.context() as m:  # the comparison without this module's step
        m.setattr(pair, "refocus_at_quantisation", lambda an, *a, **k: an)
        import scopecheck.compare.second_look as second_look  # (cause 33's second look would reproduce the copy)
        m.setattr(second_look, "requantised_jpeg_pixels", lambda *a, **k: None)
        before = compare_files(orig, copy, thresholds=strict)
    assert before.analysis.sharpness_change > 0.05
    assert before.verdict == "different" and "focus changed" in before.reason
    after = compare_files(orig, copy, thresholds=strict)
    assert abs(after.analysis.sharpness_change) < 0.01
    assert after.verdict == "near-identical"


def test_a_blurred_reencode_still_reads_as_a_refocus(chelsea_pair):
    orig, _, blurred = chelsea_pair
    c = compare_files(orig, blurred)
    assert c.verdict == "different" and "focus changed" in c.reason
    assert c.analysis.sharpness_change < -0.2


# ---- WebP (session 10): libwebp's rounding and its in-loop deblocking filter, reproduced by libwebp


def _webp(img: np.ndarray, q: int) -> bytes:
    ok, buf = cv2.imencode(".webp", img, [cv2.IMWRITE_WEBP_QUALITY, q])
    assert ok
    return buf.tobytes()


@pytest.mark.parametrize("q", [60, 70, 85])
def test_requantised_webp_is_opencvs_own_encode(q):
    # reference: OpenCV's libwebp at quality q; ours is given only the quantisers the file holds
    cam = skimage.data.camera()
    data = _webp(cam, q)
    tables = webp_tables(data)
    ref = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_GRAYSCALE)
    assert webp_quality_for(cam, tables.quantisers) == q
    out = requantised_luma(cam, tables)
    assert out is not None and int(np.abs(out.astype(int) - ref).max()) == 0


def test_quantiser_sides():
    jq = jpeg_tables(_jpeg(skimage.data.camera(), 75))
    wq = webp_tables(_webp(skimage.data.camera(), 70))
    assert quantiser_sides((None, wq), (1.0, 1.0)) == (1,)
    assert quantiser_sides((wq, None), (1.0, 1.0)) == (0,)
    assert quantiser_sides((jq, wq), (1.0, 1.0)) == (0, 1)  # two codecs: each way round
    assert quantiser_sides((jq, wq), (1.0, 2.0)) == ()
    assert quantiser_sides((None, None), (1.0, 1.0)) == ()
    assert requantised_webp(skimage.data.camera().astype(np.uint16), (39,)) is None


def test_a_webp_reencode_of_a_soft_micrograph_is_no_refocus(tmp_path, monkeypatch):
    """scikit-image's cell at WebP q70: VP8's deblocking filter takes 5 % of its fine grain, which
    the focus test reads as a 1.3 px blur unless the sharper side is passed through libwebp too --
    here, or as the whole comparison's second look (compare.second_look)."""
    a, b = str(tmp_path / "cell.png"), str(tmp_path / "cell_q70.webp")
    cv2.imwrite(a, skimage.data.cell())
    open(b, "wb").write(_webp(skimage.data.cell(), 70))
    c = compare_files(a, b)
    assert c.verdict == "near-identical" and abs(c.analysis.blur) < 0.5 and c.reencode is None, c.reason
    import scopecheck.compare.pair as pair_mod
    import scopecheck.compare.pixel_pair as pp
    monkeypatch.setattr(pp, "refocus_at_quantisation", lambda an, *args: an)
    c1 = compare_files(a, b)
    assert c1.verdict == "near-identical" and c1.reencode is not None, c1.reason
    monkeypatch.setattr(pair_mod, "as_reencode", lambda *args: None)
    c0 = compare_files(a, b)
    assert c0.verdict == "different" and "focus changed: B blurred by 1." in c0.reason, c0.reason


@pytest.mark.parametrize("name", ["camera", "coffee"])
def test_a_defocused_shot_saved_as_webp_is_still_a_refocus(tmp_path, name):
    img = getattr(skimage.data, name)()
    img = img[..., ::-1].copy() if img.ndim == 3 else img
    a, b = str(tmp_path / "a.png"), str(tmp_path / "b.webp")
    cv2.imwrite(a, img)
    open(b, "wb").write(_webp(cv2.GaussianBlur(img, (0, 0), 1.5), 80))
    c = compare_files(a, b)
    assert c.verdict == "different" and c.same_field and "focus changed" in c.reason and c.analysis.sharpness_change < -0.2, c.reason
