"""The loader: formats, depths, channels, limits before decoding, hostile input."""
import os
import struct
import time
import zlib

import cv2
import numpy as np
import pytest

from scopecheck.compare.errors import DecodeError, InputError, LimitError
from scopecheck.compare.load import decode, load, read_header
from tests.conftest import COMPARE_FIX, scene


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def bomb_png(w=100_000, h=100_000) -> bytes:
    """A tiny PNG that declares w x h 8-bit gray pixels (a decompression bomb)."""
    ihdr = struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0)
    comp = zlib.compressobj(9)
    idat = comp.compress(b"\0" * (1 << 20)) + comp.flush()
    return b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", ihdr) + _png_chunk(b"IDAT", idat) + _png_chunk(b"IEND", b"")


@pytest.mark.parametrize("ext", [".png", ".jpg", ".tif", ".bmp", ".webp"])
def test_formats_decode_with_declared_size(ext):
    img = scene(1).astype(np.uint8)
    ok, buf = cv2.imencode(ext, img)
    assert ok
    h = read_header(buf.tobytes())
    assert (h.width, h.height) == (320, 240)
    out = decode(buf.tobytes())
    assert out.pixels.shape == (240, 320, 3) and out.dtype == "uint8"
    if ext in (".png", ".tif", ".bmp"):
        assert np.array_equal(out.pixels, img)  # lossless formats round-trip exactly


@pytest.mark.parametrize("shape,dtype", [((40, 50), np.uint8), ((40, 50), np.uint16),
                                         ((40, 50, 3), np.uint16), ((40, 50, 4), np.uint8),
                                         ((40, 50, 4), np.uint16)])
def test_depths_and_channels_kept(shape, dtype):
    rng = np.random.default_rng(0)
    img = rng.integers(0, np.iinfo(dtype).max, shape, dtype=dtype, endpoint=True)
    ok, buf = cv2.imencode(".png", img)
    out = decode(buf.tobytes())
    assert out.pixels.dtype == dtype and out.pixels.shape == shape
    assert np.array_equal(out.pixels, img)
    assert out.max_value == np.iinfo(dtype).max


def test_bomb_refused_fast():
    data = bomb_png()
    t0 = time.perf_counter()
    with pytest.raises(LimitError, match="10000.0 megapixels"):
        decode(data, path="bomb.png")
    assert time.perf_counter() - t0 < 0.5


def test_max_pixels_is_configurable():
    ok, buf = cv2.imencode(".png", np.zeros((100, 100), np.uint8))
    with pytest.raises(LimitError, match="--max-pixels"):
        decode(buf.tobytes(), max_pixels=9_999)
    assert decode(buf.tobytes(), max_pixels=10_000).width == 100


def test_jpeg_bomb_header_refused():
    ok, buf = cv2.imencode(".jpg", np.zeros((16, 16), np.uint8))
    data = bytearray(buf.tobytes())
    i = data.find(b"\xff\xc0")
    data[i + 5:i + 9] = struct.pack(">HH", 60000, 60000)
    with pytest.raises(LimitError):
        decode(bytes(data))


@pytest.mark.parametrize("data,match", [
    (b"", "empty"),
    (b"hello, this is text\n", "not an image"),
    (os.urandom(4096), "not an image"),
    (b"\x89PNG\r\n\x1a\n", "truncated PNG"),
])
def test_hostile_bytes(data, match):
    with pytest.raises(DecodeError, match=match):
        decode(data, path="x")


@pytest.mark.parametrize("head,name", [
    (b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic", "HEIF/HEIC"),
    (b"\x00\x00\x00\x1cftypavif\x00\x00\x00\x00avifmif1", "AVIF"),
    (b"\xff\x0a\xfa\x7f", "JPEG XL"),
    (b"\x00\x00\x00\x0cJXL \r\n\x87\n\x00\x00\x00\x14ftypjxl ", "JPEG XL"),
    (b"\x00\x00\x00\x0cjP  \r\n\x87\n\x00\x00\x00\x14ftypjp2 ", "JPEG 2000"),
    (b"\xff\x4f\xff\x51\x00\x2f", "JPEG 2000"),
    (b"\x76\x2f\x31\x01\x02\x00\x00\x00", "OpenEXR"),
    (b"#?RADIANCE\nFORMAT=32-bit_rle_rgbe\n", "Radiance HDR"),
    (b"ZISRAWFILE\x00\x00", "Zeiss CZI"),
    (b"\xda\xce\xbe\x0a\x00\x00", "Nikon ND2"),
    (b"SIMPLE  =                    T", "FITS"),
    (b"%PDF-1.7\n", "PDF"),
    (b"8BPS\x00\x01", "Photoshop PSD"),
    (b"\x00" * 128 + b"DICM\x02\x00", "DICOM"),
])
def test_known_foreign_formats_are_named(head, name):
    """A format a lab meets but that is not read here is named in the one-line refusal."""
    with pytest.raises(DecodeError) as e:
        decode(head + b"\x00" * 64, path="x")
    assert str(e.value).endswith(f"not an image format read here: {name} (expected PNG, JPEG, TIFF, BMP, "
                                 "WebP, GIF or PNM; convert it to PNG or TIFF first)")


@pytest.mark.parametrize("ext", [".png", ".jpg"])
def test_truncated_files_refused(ext):
    ok, buf = cv2.imencode(ext, scene(2).astype(np.uint8))
    data = buf.tobytes()
    for cut in (len(data) // 2, len(data) - 3, 60):
        with pytest.raises(DecodeError, match="truncated|corrupt|cannot decode"):
            decode(data[:cut])


def test_header_only_jpeg():
    ok, buf = cv2.imencode(".jpg", scene(2).astype(np.uint8))
    data = buf.tobytes()
    sos = data.find(b"\xff\xda")
    with pytest.raises(DecodeError):
        decode(data[:sos])


def test_missing_directory_unreadable(tmp_path, monkeypatch):
    with pytest.raises(InputError, match="no such file"):
        load(tmp_path / "nope.png")
    with pytest.raises(InputError, match="directory"):
        load(tmp_path)
    # CI runs as root, which reads anything: inject the refusal where the loader opens files
    import scopecheck.compare.load as mod
    p = tmp_path / "secret.png"
    p.write_bytes(b"x")

    def refusing_open(path, *a, **k):
        raise PermissionError(13, "Permission denied", str(path))
    monkeypatch.setattr(mod, "open", refusing_open, raising=False)
    with pytest.raises(InputError, match="permission denied"):
        load(p)


def test_odd_names(tmp_path):
    src = os.path.join(COMPARE_FIX, "cell_shot1.png")
    for name in ("with space.png", "ünïcødé 显微镜.png", "-leading-dash.png"):
        dst = tmp_path / name
        dst.write_bytes(open(src, "rb").read())
        assert load(dst).width == 320


def test_exif_orientation_not_applied():
    """Stored pixels: a JPEG with Orientation=6 decodes as stored (not rotated)."""
    import io

    import piexif
    img = np.zeros((20, 40, 3), np.uint8)
    img[:, :20] = 255
    ok, buf = cv2.imencode(".jpg", img)
    out = io.BytesIO()
    piexif.insert(piexif.dump({"0th": {piexif.ImageIFD.Orientation: 6}}), buf.tobytes(), out)
    dec = decode(out.getvalue())
    assert dec.pixels.shape == (20, 40, 3)


@pytest.mark.parametrize("dtype, top", [(np.uint8, 255), (np.uint16, 65535)])
def test_min_is_white_reads_as_displayed_at_every_depth(tmp_path, dtype, top):
    """A MinIsWhite TIFF (PhotometricInterpretation 0) holding the inverse of a picture is that
    picture. OpenCV inverts 8-bit samples but handed 16-bit ones over as stored, so a 16-bit picture
    compared as "another scene: correlation -1.00" with itself."""
    import tifffile

    rng = np.random.default_rng(3)
    pic = rng.integers(0, top + 1, (40, 56)).astype(dtype)
    p = tmp_path / "white.tif"
    tifffile.imwrite(p, (top - pic.astype(np.int64)).astype(dtype), photometric="miniswhite")
    got = load(p).pixels
    assert got.dtype == dtype and np.array_equal(got, pic)
