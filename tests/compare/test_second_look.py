"""The WebP side judged as what libwebp makes of the other side (compare.second_look.as_reencode):
a re-encode is reproduced, a change is not. References: OpenCV's and Debian's libwebp encoders."""

import shutil
import subprocess

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
