"""Digests checked against hashlib over bytes built independently of compare.digest."""
import hashlib

import cv2
import numpy as np

from scopecheck.compare.digest import file_sha256, pixel_sha256
from scopecheck.compare.load import decode


def test_file_sha256_is_hashlib():
    data = b"scopecheck" * 1000
    assert file_sha256(data) == hashlib.sha256(data).hexdigest()
    # known value: sha256 of the empty string (FIPS 180-2 test vector)
    assert file_sha256(b"") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


def test_pixel_digest_canonical_form():
    img = np.arange(2 * 3 * 3, dtype=np.uint16).reshape(2, 3, 3) * 1000
    expected = hashlib.sha256(b"scopecheck-pixels/1\n2x3x3 uint16\n" + img.astype("<u2").tobytes()).hexdigest()
    assert pixel_sha256(img) == expected
    assert pixel_sha256(np.ascontiguousarray(img[:, ::-1])) != expected


def test_shape_and_dtype_are_part_of_the_digest():
    a = np.zeros((4, 6), np.uint8)
    assert pixel_sha256(a) != pixel_sha256(a.reshape(6, 4))
    assert pixel_sha256(a) != pixel_sha256(a.reshape(4, 2, 3))
    assert pixel_sha256(a) != pixel_sha256(a.astype(np.uint16)[:, :3])


def test_same_pixels_any_container_or_level():
    rng = np.random.default_rng(3)
    img = rng.integers(0, 256, (50, 70, 3), dtype=np.uint8)
    digests = set()
    for ext, params in ((".png", [cv2.IMWRITE_PNG_COMPRESSION, 0]), (".png", [cv2.IMWRITE_PNG_COMPRESSION, 9]),
                        (".bmp", []), (".tif", [])):
        ok, buf = cv2.imencode(ext, img, params)
        digests.add(pixel_sha256(decode(buf.tobytes()).pixels))
    assert digests == {pixel_sha256(img)}


def test_non_contiguous_view_hashes_like_its_copy():
    img = np.random.default_rng(1).integers(0, 256, (30, 40, 3), dtype=np.uint8)
    view = img[::2, ::2]
    assert pixel_sha256(view) == pixel_sha256(view.copy())


def test_big_endian_uint16_hashes_like_native():
    # the canonical form stores 16-bit samples little-endian whatever the array's byte order
    img = np.arange(12, dtype=np.uint16).reshape(3, 4) * 4099
    expected = hashlib.sha256(b"scopecheck-pixels/1\n3x4x1 uint16\n" + img.astype("<u2").tobytes()).hexdigest()
    assert pixel_sha256(img.astype(">u2")) == expected == pixel_sha256(img)
