"""TIFF images stored plane by plane (PlanarConfiguration 2) with samples wider than 8 bits:
OpenCV 5 hands them over scrambled -- an RGB 16-bit image's samples nearly all wrong, and not the
same from one decode to the next, so two different files could read "pixels identical" -- and the
loader decodes them again with tifffile (:func:`compare.load._tifffile_pages`). The reference is the
array written, in OpenCV's channel order."""
from __future__ import annotations

import io
import itertools

import numpy as np
import pytest
import tifffile

from scopecheck.compare.errors import DecodeError
from scopecheck.compare.load import decode
from scopecheck.compare.pair import SAME_VERDICTS, compare_files


def _tiff(x: np.ndarray, **kw) -> bytes:
    b = io.BytesIO()
    tifffile.imwrite(b, x, photometric="rgb", **kw)
    return b.getvalue()


@pytest.mark.parametrize("dtype,compression,order", list(itertools.product(
    (np.uint16, np.float32), (None, "zlib"), ("<", ">"))))
def test_a_planar_image_decodes_as_written(dtype, compression, order):
    rng = np.random.default_rng(3)
    x = (rng.random((3, 40, 36)) * (60000 if dtype == np.uint16 else 1.0)).astype(dtype)
    img = decode(_tiff(x, planarconfig="separate", compression=compression, byteorder=order))
    got = img.source[0] if img.source else img.pixels  # a float image: its samples as stored
    assert got.dtype == np.dtype(dtype) and np.array_equal(got, np.moveaxis(x, 0, -1)[..., ::-1])


def test_planar_and_interleaved_storage_are_the_same_pixels(tmp_path):
    rng = np.random.default_rng(4)
    x = rng.integers(0, 65535, (3, 64, 64), dtype=np.uint16)
    (tmp_path / "planar.tif").write_bytes(_tiff(x, planarconfig="separate"))
    (tmp_path / "contig.tif").write_bytes(_tiff(np.ascontiguousarray(np.moveaxis(x, 0, -1)), planarconfig="contig"))
    y = x.copy()
    y[1, 10:20, 10:20] = 0  # one 10x10 patch of the green plane
    (tmp_path / "changed.tif").write_bytes(_tiff(y, planarconfig="separate"))
    assert compare_files(tmp_path / "planar.tif", tmp_path / "contig.tif").verdict.value == "identical-pixels"
    c = compare_files(tmp_path / "planar.tif", tmp_path / "changed.tif")
    assert c.verdict not in SAME_VERDICTS  # it read "identical-pixels": both scrambled alike
    r = max(c.regions, key=lambda r: r.area)
    assert r.x <= 10 and r.y <= 10 and r.x + r.width >= 20 and r.y + r.height >= 20


def test_a_planar_stack_decodes_page_by_page():
    rng = np.random.default_rng(5)
    x = rng.integers(0, 65535, (2, 3, 24, 20), dtype=np.uint16)
    b = io.BytesIO()
    with tifffile.TiffWriter(b) as w:
        for page in x:
            w.write(page, photometric="rgb", planarconfig="separate")
    img = decode(b.getvalue())
    assert img.images == 2
    assert np.array_equal(img.pixels, np.moveaxis(x[0], 0, -1)[..., ::-1])
    assert np.array_equal(img.more[0], np.moveaxis(x[1], 0, -1)[..., ::-1])


def test_a_planar_layout_not_read_here_is_one_clear_error():
    b = io.BytesIO()  # two samples of a gray image, plane by plane: no colour order to give them
    tifffile.imwrite(b, np.zeros((2, 16, 16), np.uint16), photometric="minisblack", planarconfig="separate")
    with pytest.raises(DecodeError, match="plane by plane") as e:
        decode(b.getvalue())
    assert "\n" not in str(e.value)


@pytest.mark.parametrize("planar", ("contig", "separate"))
def test_unassociated_alpha_is_not_premultiplied(planar, tmp_path):
    """8-bit RGBA with unassociated alpha (ExtraSamples 2, as PNG stores it): OpenCV's libtiff RGBA
    reader premultiplied the colour by the alpha, so the TIFF and a PNG of the same pixels differed
    wherever the alpha is below 255."""
    import cv2

    rng = np.random.default_rng(6)
    x = rng.integers(0, 256, (32, 32, 4), dtype=np.uint8)  # RGBA
    stored = np.ascontiguousarray(np.moveaxis(x, -1, 0)) if planar == "separate" else x
    b = io.BytesIO()
    tifffile.imwrite(b, stored, photometric="rgb", extrasamples=[2], planarconfig=planar)
    (tmp_path / "a.tif").write_bytes(b.getvalue())
    bgra = x[..., [2, 1, 0, 3]]
    assert np.array_equal(decode(b.getvalue()).pixels, bgra)
    cv2.imwrite(str(tmp_path / "a.png"), bgra)
    assert compare_files(tmp_path / "a.tif", tmp_path / "a.png").verdict.value == "identical-pixels"
