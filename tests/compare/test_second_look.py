"""A lossy side judged as what its codec makes of the other side (compare.second_look.as_reencode):
a re-encode is reproduced, a change is not. WebP (references: OpenCV's and Debian's libwebp
encoders) and, since session 19, JPEG (reference: OpenCV's libjpeg encoder)."""

import os
import shutil
import subprocess
import tempfile

import cv2
import numpy as np
import pytest
from skimage import data

from scopecheck.compare.pair import SAME_VERDICTS, compare_files


def _patched(img: np.ndarray) -> np.ndarray:
    """A real patch of the picture pasted elsewhere in it (48x48 px), as the harness's local changes."""
    out = img.copy()
    out[200:248, 300:348] = img[40:88, 60:108]
    return out


@pytest.mark.parametrize("name", ["camera", "coffee", "cell"])
def test_a_changed_shot_saved_as_webp_stays_different(tmp_path, name):
    img = getattr(data, name)()
    img = np.ascontiguousarray(img[..., ::-1]) if img.ndim == 3 else img
    a, b = str(tmp_path / "a.png"), str(tmp_path / "b.webp")
    cv2.imwrite(a, img)
    cv2.imwrite(b, _patched(img), [cv2.IMWRITE_WEBP_QUALITY, 85])
    c = compare_files(a, b)
    assert c.verdict == "different" and c.reencode is None, c.reason
    # the unchanged shot's WebP is its re-encode
    cv2.imwrite(b, img, [cv2.IMWRITE_WEBP_QUALITY, 85])
    assert compare_files(a, b).verdict in SAME_VERDICTS


@pytest.mark.skipif(shutil.which("cwebp") is None, reason="libwebp tools not installed")
@pytest.mark.parametrize("options", [["-m", "6"], ["-sharp_yuv"], ["-f", "80"], ["-sns", "0"]])
def test_another_encoders_webp_is_the_same_picture(tmp_path, options):
    """Debian's cwebp with settings OpenCV does not use: the copy is not reproduced pixel for pixel,
    and the comparison still finds it the same picture."""
    a, b = str(tmp_path / "a.png"), str(tmp_path / "b.webp")
    cv2.imwrite(a, np.ascontiguousarray(data.astronaut()[..., ::-1]))
    subprocess.run(["cwebp", "-quiet", "-q", "70", *options, a, "-o", b], check=True)
    c = compare_files(a, b)
    assert c.verdict in SAME_VERDICTS, c.reason


def test_a_webp_of_a_jpeg_is_reproduced_from_the_decoded_jpeg(tmp_path):
    """A JPEG and a WebP made from its decode: the WebP side is the JPEG side re-encoded."""
    a, b = str(tmp_path / "a.jpg"), str(tmp_path / "b.webp")
    cv2.imwrite(a, np.ascontiguousarray(data.chelsea()[..., ::-1]), [cv2.IMWRITE_JPEG_QUALITY, 90])
    cv2.imwrite(b, cv2.imread(a), [cv2.IMWRITE_WEBP_QUALITY, 75])
    c = compare_files(a, b)
    assert c.verdict in SAME_VERDICTS and c.same_field, c.reason
    rev = compare_files(b, a)
    assert rev.verdict in SAME_VERDICTS, rev.reason


# --- a JPEG side judged as the other side through its own tables (session 19) -------------------
# Real binarised PCB images (fixtures/real/deeppcb_*, DeepPCB, MIT): OpenCV's JPEG encoder is the
# reference for what a file's tables make of a picture.
REAL = os.path.join(os.path.dirname(__file__), "..", "..", "fixtures", "real")


def _fx(name):
    return os.path.join(REAL, name)


@pytest.mark.parametrize("quality", [70, 90])
def test_a_binarised_board_reencoded_as_jpeg_is_reproduced(tmp_path, quality):
    src = _fx("deeppcb_00041000_temp.jpg")
    again = str(tmp_path / "again.jpg")
    cv2.imwrite(again, cv2.imread(src, cv2.IMREAD_UNCHANGED), [cv2.IMWRITE_JPEG_QUALITY, quality])
    c = compare_files(src, again)
    assert c.verdict in SAME_VERDICTS, c.reason
    if c.reencode is not None:  # the first look may already call it the same
        assert c.reencode["codec"] == "JPEG" and c.reencode["pixel_equal"]
        assert "B is A re-encoded as a JPEG" in c.reason


def test_without_the_jpeg_second_look_a_q80_reencode_reads_different(tmp_path, monkeypatch):
    """Board 00041089 saved again at q80: the second look reads it `same` (B is A re-encoded);
    without it the ringing at every edge reads as structure. (Board 00041000 at q90 read "moved"
    without it until session 22, when windows whose fit breaks down stopped counting as moved
    objects: compare.motion.window_fits.)"""
    from scopecheck.compare import second_look

    src = _fx("deeppcb_00041089_temp.jpg")
    again = str(tmp_path / "again.jpg")
    cv2.imwrite(again, cv2.imread(src, cv2.IMREAD_UNCHANGED), [cv2.IMWRITE_JPEG_QUALITY, 80])
    c = compare_files(src, again)
    assert c.reencode is not None and c.verdict in SAME_VERDICTS, c.reason
    monkeypatch.setattr(second_look, "requantised_jpeg_pixels", lambda pixels, tables: None)
    c = compare_files(src, again)
    assert c.verdict == "different" and "structure differs" in c.reason, c.reason


def test_the_defective_board_stays_different_and_a_small_defect_survives_the_reencode(tmp_path):
    temp, test = _fx("deeppcb_00041000_temp.jpg"), _fx("deeppcb_00041000_test.jpg")
    c = compare_files(temp, test)
    assert c.verdict == "different" and c.reencode is None, c.reason
    # a 6x6 speck of copper in an open area of the template, then saved at JPEG q90: not reproduced
    img = cv2.imread(temp, cv2.IMREAD_UNCHANGED)
    ys, xs = np.nonzero(cv2.erode((img < 60).astype(np.uint8), np.ones((21, 21), np.uint8)))
    y, x = int(ys[len(ys) // 2]), int(xs[len(xs) // 2])
    img[y - 3:y + 3, x - 3:x + 3] = 255
    edited = str(tmp_path / "edited.jpg")
    cv2.imwrite(edited, img, [cv2.IMWRITE_JPEG_QUALITY, 90])
    c = compare_files(temp, edited)
    assert c.verdict == "different" and c.reencode is None, c.reason


@pytest.mark.parametrize("quality", [70, 85, 95])
def test_requantised_jpeg_pixels_is_opencvs_encode(quality):
    from scopecheck.compare.pair import prepare
    from scopecheck.compare.requantise import requantised_jpeg_pixels

    img = np.ascontiguousarray(data.astronaut()[:, :, ::-1])
    ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, quality])
    fd, path = tempfile.mkstemp(suffix=".jpg")
    try:
        os.write(fd, buf.tobytes())
        os.close(fd)
        tables = prepare(path).codec
    finally:
        os.unlink(path)
    got = requantised_jpeg_pixels(img, tables)
    assert np.array_equal(got, cv2.imdecode(buf, cv2.IMREAD_COLOR))


def test_a_jpeg_side_counts_as_reproduced_only_within_a_step_of_its_coarsest_coefficient():
    from scopecheck.compare.codec_noise import CodecTables
    from scopecheck.compare.second_look import _reproduced

    t = CodecTables(luma=np.full((8, 8), 20.0), chroma=None, quality=75)  # bound: 20 / 4 = 5 levels
    a = np.full((32, 32), 100, np.uint8)
    assert _reproduced(a, a.copy(), t)
    b = a.copy()
    b[5, 5] += 5
    assert _reproduced(a, b, t)
    b[6, 6] += 6
    assert not _reproduced(a, b, t)
    b = a.copy()
    b[10:14, 10:14] = 255  # a defect of copper on a binarised board
    assert not _reproduced(a, b, t)
