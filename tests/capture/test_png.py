"""The PNG writer: allowed chunks only, deterministic bytes, exact round trip, no clobbering."""
from __future__ import annotations

import os
import struct
import zlib

import numpy as np
import pytest

from scopecheck.capture.png import ZLIB_SETTINGS, encode_png, write_new
from scopecheck.compare.errors import InputError, OutputExistsError
from scopecheck.compare.load import decode, load

RNG = np.random.default_rng(42)
CASES = {
    "gray8": RNG.integers(0, 256, (37, 53), dtype=np.uint8),
    "bgr8": RNG.integers(0, 256, (40, 31, 3), dtype=np.uint8),
    "bgra8": RNG.integers(0, 256, (9, 14, 4), dtype=np.uint8),
    "gray16": RNG.integers(0, 65536, (21, 17), dtype=np.uint16),
    "bgr16": RNG.integers(0, 65536, (16, 23, 3), dtype=np.uint16),
    "flat": np.full((8, 8, 3), 200, np.uint8),
}


def walk_chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    """Independent chunk walker (not capture.png's): (type, body) pairs, CRCs checked."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, out = 8, []
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        kind, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length:pos + 12 + length])
        assert zlib.crc32(kind + body) & 0xFFFFFFFF == crc, kind
        out.append((kind, body))
        pos += 12 + length
    assert pos == len(data)
    return out


@pytest.mark.parametrize("name", CASES)
def test_only_ihdr_idat_iend(name):
    chunks = walk_chunks(encode_png(CASES[name]))
    assert [k for k, _ in chunks] == [b"IHDR", b"IDAT", b"IEND"]
    w, h, depth, ctype, comp, filt, interlace = struct.unpack(">IIBBBBB", chunks[0][1])
    arr = CASES[name]
    assert (w, h) == (arr.shape[1], arr.shape[0])
    assert depth == arr.dtype.itemsize * 8 and interlace == 0
    assert ctype == (0 if arr.ndim == 2 else 2 if arr.shape[2] == 3 else 6)


@pytest.mark.parametrize("name", CASES)
def test_round_trip_through_the_project_decoder(name):
    back = decode(encode_png(CASES[name])).pixels
    assert back.dtype == CASES[name].dtype and np.array_equal(back, CASES[name])


def test_identical_pixels_identical_bytes():
    a = CASES["bgr8"]
    assert encode_png(a) == encode_png(a.copy()) == encode_png(np.asfortranarray(a))
    b = a.copy()
    b[0, 0, 0] ^= 1
    assert encode_png(a) != encode_png(b)


def test_scanlines_use_paeth():
    idat = zlib.decompress(walk_chunks(encode_png(CASES["gray8"]))[1][1])
    rows = np.frombuffer(idat, np.uint8).reshape(37, 1 + 53)
    assert (rows[:, 0] == 4).all()


def test_bad_arrays_are_refused():
    with pytest.raises(InputError, match="uint8 or uint16"):
        encode_png(np.zeros((4, 4), np.float32))
    with pytest.raises(InputError, match="shape"):
        encode_png(np.zeros((4, 4, 2), np.uint8))


def test_write_new_refuses_to_clobber(tmp_path):
    p = tmp_path / "x.png"
    data = encode_png(CASES["flat"])
    write_new(p, data)
    with pytest.raises(OutputExistsError, match="--overwrite"):
        write_new(p, b"other")
    assert p.read_bytes() == data
    write_new(p, encode_png(CASES["bgr8"]), overwrite=True)
    assert np.array_equal(load(p).pixels, CASES["bgr8"])
    assert sorted(os.listdir(tmp_path)) == ["x.png"]  # no temporary files left


def test_zlib_settings_recorded_in_the_manifest_are_pinned():
    # zlib.h: Z_DEFLATED = 8, Z_DEFAULT_STRATEGY = 0; the manifest lists them in this order
    assert list(ZLIB_SETTINGS.items()) == [("level", 6), ("method", 8), ("wbits", 15), ("memLevel", 9),
                                           ("strategy", 0)]
