"""EXIF Orientation: stored pixels decide, the reason says what the pictures look like as displayed.
Reference: OpenCV's ``imread``, which applies the tag by default."""

import cv2
import numpy as np
import piexif
import pytest
from skimage import data

from scopecheck.compare.orientation import as_displayed, describe, orientation
from scopecheck.compare.pair import SAME_VERDICTS, compare_files


def _tagged(path, img, tag: int) -> str:
    cv2.imwrite(str(path), img, [cv2.IMWRITE_JPEG_QUALITY, 95])
    piexif.insert(piexif.dump({"0th": {piexif.ImageIFD.Orientation: tag}}), str(path))
    return str(path)


@pytest.mark.parametrize("tag", range(1, 9))
def test_as_displayed_is_what_opencv_shows(tmp_path, tag):
    img = np.ascontiguousarray(data.astronaut()[40:200, 10:300, ::-1])  # not square: rows and columns tell apart
    p = _tagged(tmp_path / f"t{tag}.jpg", img, tag)
    stored = cv2.imread(p, cv2.IMREAD_COLOR | cv2.IMREAD_IGNORE_ORIENTATION)
    shown = cv2.imread(p, cv2.IMREAD_COLOR)
    assert np.array_equal(as_displayed(stored, tag), shown)


def test_orientation_reads_the_metadata_entry():
    assert orientation({"EXIF Orientation": "6 (rotate 90 CW)"}) == 6
    assert orientation({}) == 1 and orientation({"EXIF Orientation": "9"}) == 1
    assert orientation({"EXIF Orientation": "<unreadable: x>"}) == 1
    assert describe((6, 1)) == "A rotate 90 CW" and describe((1, 3)) == "B rotate 180"


def test_a_sideways_photo_and_its_upright_copy(tmp_path):
    """A phone photo stored sideways with Orientation 6, and the upright copy an editor saved: the
    stored pixels differ (verdict different, exit 1) and the reason says they are the same picture
    as displayed."""
    img = np.ascontiguousarray(data.coffee()[:, :, ::-1])
    a = _tagged(tmp_path / "phone.jpg", img, 6)
    b = str(tmp_path / "upright.png")
    cv2.imwrite(b, cv2.imread(a, cv2.IMREAD_COLOR))  # OpenCV applies the tag: the upright picture
    c = compare_files(a, b)
    assert c.verdict not in SAME_VERDICTS and c.exit_code == 1
    assert c.reason.endswith("; as displayed (EXIF Orientation applied: A rotate 90 CW) identical-pixels"), c.reason
    assert c.to_json()["displayed"]["orientation"] == [6, 1]
    # another picture with the same tags difference: no such note
    other = str(tmp_path / "other.png")
    cv2.imwrite(other, np.ascontiguousarray(np.rot90(data.astronaut()[:400, :600, ::-1])))
    c2 = compare_files(a, other)
    assert c2.displayed is None and "as displayed" not in c2.reason
    # equal tags: the stored pixels are the displayed ones, nothing to add
    c3 = compare_files(a, _tagged(tmp_path / "phone2.jpg", np.ascontiguousarray(img[::-1]), 6))
    assert c3.displayed is None and c3.to_json()["displayed"] is None
