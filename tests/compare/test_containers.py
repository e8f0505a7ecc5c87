"""The container layer and the loader's bounds, at library level (issue 8 B regressions).

The command-line view of the same files, with CPU time and peak RSS, is tests/test_cli_hostile.py.
"""
from __future__ import annotations

import os
import signal
import struct
import threading
import time
import zlib

import numpy as np
import pytest

from scopecheck.compare.containers import Limits, inspect, jpeg, png, read_header, tiff
from scopecheck.compare.containers.inflate import InflateBudget
from scopecheck.compare.errors import DecodeError, InputError, LimitError
from scopecheck.compare.hashing import dhash
from scopecheck.compare.load import decode, read_bytes
from scopecheck.compare.metadata import diff_metadata, read_metadata
from tests import hostile
from tests.hostile import chunk, small_jpeg, small_png

# --------------------------------------------------------------------------- PNG


def test_png_signature_then_zeros_stops_at_once():
    layout = png.walk(b"\x89PNG\r\n\x1a\n" + bytes(50_000_000))
    assert layout.chunks == () and layout.error == "corrupt chunk header at byte 8"


def test_png_walker_always_advances_and_is_bounded():
    data = small_png(chunk(b"teXt", b"") * 5000)  # empty, valid ancillary chunks
    assert len(png.walk(data).chunks) == 5003
    with pytest.raises(LimitError, match="more than 1000 PNG chunks, over the limit max_segments"):
        png.walk(data, limits=Limits(max_segments=1000))


def test_png_crc_critical_stops_ancillary_flagged():
    good = small_png(chunk(b"tEXt", b"k\0v"))
    i = good.index(b"tEXt")
    bad_anc = good[:i + 7] + b"\0\0\0\0" + good[i + 11:]  # CRC of the tEXt chunk zeroed
    layout = png.walk(bad_anc)
    assert layout.error is None and [c.crc_ok for c in layout.chunks if c.type == b"tEXt"] == [False]
    j = good.index(b"IDAT")
    n = struct.unpack(">I", good[j - 4:j])[0]
    bad_idat = good[:j + 4 + n] + b"\0\0\0\0" + good[j + 8 + n:]
    assert png.walk(bad_idat, check_idat=True).error.startswith("bad CRC in the IDAT chunk")
    with pytest.raises(DecodeError, match="libpng error: IDAT: CRC error"):  # libpng checks it
        decode(bad_idat)


def test_png_decoder_gets_pixel_chunks_only():
    data = small_png(chunk(b"zTXt", b"k\0\0" + zlib.compress(bytes(1 << 20))))
    header, decoder_input = inspect(data)
    assert (header.width, header.height) == (8, 8)
    assert b"zTXt" not in decoder_input and b"IDAT" in decoder_input


# --------------------------------------------------------------------------- JPEG


def test_jpeg_scans_counted_before_decoding(tmp_path):
    data = hostile.make_jpeg_many_scans(tmp_path).read_bytes()
    t0 = time.process_time()
    with pytest.raises(LimitError, match="more than 100 scans.*max_scans"):
        decode(data)
    assert time.process_time() - t0 < 0.2
    assert jpeg.walk(small_jpeg(progressive=True)).scans < 20


def test_jpeg_declared_size_needs_data(tmp_path):
    data = hostile.make_jpeg_99mp_early_eoi(tmp_path).read_bytes()
    assert len(data) < 1000
    with pytest.raises(DecodeError, match="declares 9950x9950 .* at least 193442"):
        read_header(data)
    # 16x16 gray = 4 blocks: one bit each is under a byte, so the bound never refuses tiny files
    assert read_header(small_jpeg()).width == 16


@pytest.mark.parametrize("progressive", [False, True])
def test_jpeg_cut_with_eoi_appended_is_truncated(tmp_path, progressive):
    data = hostile.make_jpeg_cut_third(tmp_path, progressive=progressive).read_bytes()
    with pytest.raises(DecodeError, match="truncated JPEG"):
        decode(data)


def _entropy_like(rng, size: int, *, restarts: int, fills: int, markers: int) -> bytes:
    """Random bytes with 0xFF stuffed as in entropy-coded data, plus restart markers, fill bytes and
    real markers at random places (so both searches have something to find or to step over)."""
    b = bytearray(rng.integers(0, 255, size, dtype=np.uint8).tobytes())  # no 0xFF yet
    for i in rng.integers(0, size - 1, size // 200):  # stuffed FF 00
        b[i:i + 2] = b"\xff\x00"
    for kind, count in (("rst", restarts), ("fill", fills), ("marker", markers)):
        for i in rng.integers(0, size - 2, count):
            b[i:i + 2] = {"rst": bytes([0xFF, 0xD0 + int(i) % 8]), "fill": b"\xff\xff",
                          "marker": bytes([0xFF, int(rng.choice([0x01, 0xC4, 0xD9, 0xDA, 0xFE]))])}[kind]
    return bytes(b)


@pytest.mark.parametrize("window", [64, 1 << 16])
def test_jpeg_scan_end_search_equals_the_regex(monkeypatch, window):
    """The vectorised search of entropy-coded data finds what the marker regex finds, across
    window edges, restart markers, fill runs (FF FF FF D9) and the regex fallback."""
    monkeypatch.setattr(jpeg, "_WINDOW", window)
    rng = np.random.default_rng(11)
    cases = [_entropy_like(rng, 40_000, restarts=r, fills=f, markers=m)
             for r, f, m in [(0, 0, 0), (0, 0, 1), (5, 3, 2), (200, 50, 1), (0, 40, 0)]]
    cases += [b"\xff" * 300 + b"\xd9", bytes(300) + b"\xff", b"\x00\xff\xd0" * 200 + b"\xff\xff\xff\xd9"]
    for data in cases:
        starts = sorted({0, 1, len(data) - 2, len(data) - 1, *rng.integers(0, len(data), 30).tolist()})
        for start in starts:
            m = jpeg._SCAN_END.search(data, start)
            assert jpeg.scan_end(data, start) == (-1 if m is None else m.start()), (len(data), start)


def test_jpeg_progressive_whole_files_are_complete():
    for seed in range(3):
        layout = jpeg.walk(small_jpeg((64, 48), seed=seed, progressive=True))
        assert layout.error is None and layout.incomplete is None and layout.frame.progressive


# --------------------------------------------------------------------------- TIFF


def test_tiff_duplicate_dimension_refused(tmp_path):
    data = hostile.make_tiff_duplicate_width(tmp_path).read_bytes()
    with pytest.raises(DecodeError, match=r"ImageWidth \(tag 256\) appears twice"):
        read_header(data)


def test_tiff_long8_width_is_a_value_not_an_offset(tmp_path):
    data = hostile.make_tiff_long8_width(tmp_path).read_bytes()
    tf = tiff.open_tiff(data)
    entries, _ = tiff.read_ifd(data, tf.first_ifd, order=tf.order)
    assert tiff.int_value(data, entries[0], tf.order) == 30000
    with pytest.raises(LimitError, match="30000x30000"):
        read_header(data)


def test_tiff_inconsistent_directories_refused(tmp_path):
    with pytest.raises(DecodeError, match="not one integer"):
        read_header(hostile.make_tiff_width_count_2(tmp_path).read_bytes())
    data = bytearray(hostile.make_tiff_long8_width(tmp_path).read_bytes())
    data[4:8] = struct.pack("<I", 10_000_000)  # first directory beyond the end
    with pytest.raises(DecodeError, match="outside"):
        read_header(bytes(data))


# --------------------------------------------------------------------------- metadata bounds


def test_many_jpeg_comments_linear_and_capped(tmp_path):
    data = hostile.make_jpeg_many_com(tmp_path).read_bytes()
    t0 = time.process_time()
    md = read_metadata(data, "jpeg")
    assert time.process_time() - t0 < 0.5
    assert len(md) == 1001 and md["JPEG COM 2"] == "c1" and md["JPEG COM 1000"] == "c999"
    assert md["JPEG entries not listed"].startswith("19001 more, over the limit of 1000 entries (max_entries)")
    other = data.replace(b"c19999", b"x19999")  # differs only beyond the limit: still a difference
    assert [d.key for d in diff_metadata(md, read_metadata(other, "jpeg"))] == ["JPEG entries not listed"]


def test_duplicate_png_text_keys_linear(tmp_path):
    data = hostile.make_png_many_text(tmp_path).read_bytes()
    t0 = time.process_time()
    md = read_metadata(data, "png", limits=Limits(max_entries=30_000))
    assert time.process_time() - t0 < 1.0
    assert len(md) == 20_000 and md["PNG tEXt Comment 20000"] == "v19999"


def test_inflate_budget_per_chunk_and_total():
    bomb = zlib.compress(bytes(16 << 20), 9)
    budget = InflateBudget(Limits(max_inflate=1 << 20, max_inflate_total=3 << 20))
    assert budget.inflate(zlib.compress(b"x" * 1000)) == b"x" * 1000
    for _ in range(2):
        with pytest.raises(ValueError, match=r"over 1 MiB when decompressed \(max_inflate\)"):
            budget.inflate(bomb)
    with pytest.raises(ValueError, match=r"over the 3 MiB .* per file \(max_inflate_total\)"):
        budget.inflate(bomb)  # 1 MiB - 1000 bytes were left
    with pytest.raises(ValueError, match="already used the 3 MiB limit"):
        budget.inflate(zlib.compress(b"y"))


def test_ztxt_bombs_cost_the_budget_only(tmp_path):
    data = hostile.make_png_ztxt_bombs(tmp_path).read_bytes()
    t0 = time.process_time()
    md = read_metadata(data, "png")
    decode(data)
    assert time.process_time() - t0 < 0.5
    assert "max_inflate)" in md["PNG zTXt k0"] and "max_inflate_total" in md["PNG zTXt k19"]


# --------------------------------------------------------------------------- files and options


@pytest.mark.parametrize("make, words", [
    (lambda d: (os.mkfifo(d / "f"), d / "f")[1], "FIFO"),
    (lambda d: "/dev/null", "character device"),
    (lambda d: d, "directory"),
])
def test_non_regular_files_refused_without_opening(tmp_path, make, words):
    old = signal.signal(signal.SIGALRM, signal.default_int_handler)
    signal.alarm(5)  # a regression would block in open(); fail instead of hanging the suite
    try:
        with pytest.raises(InputError, match=words):
            read_bytes(make(tmp_path))
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


def test_size_checked_before_reading(tmp_path):
    p = hostile.make_sparse(tmp_path, 3 << 30)
    with pytest.raises(LimitError, match="is 3 GiB, over the limit --max-bytes 1 GiB"):
        read_bytes(p)
    with pytest.raises(LimitError, match="--max-bytes 10 bytes"):
        read_bytes(hostile.make_good_png(tmp_path), max_bytes=10)


def test_hash_size_bounded_in_the_library():
    t0 = time.perf_counter()
    with pytest.raises(InputError, match="--hash-size must be within 2..64, got 20000"):
        dhash(np.zeros((64, 64), np.uint8), hash_size=20000)
    assert time.perf_counter() - t0 < 0.1
    assert dhash(np.zeros((64, 64), np.uint8), hash_size=64).size == 64


# --------------------------------------------------------------------------- decoder messages


def test_decoder_messages_never_reach_stderr(tmp_path, capfd):
    with pytest.raises(DecodeError, match="libpng error: bad adaptive filter value"):
        decode(hostile.make_png_bad_filter(tmp_path).read_bytes())
    img = decode(hostile.make_jpeg_extraneous_bytes(tmp_path).read_bytes())  # libjpeg warns; pixels whole
    assert img.width == 32
    assert capfd.readouterr().err == ""


def test_concurrent_decodes_keep_their_own_messages(tmp_path):
    """A whole JPEG decoded while a truncated one fails must never be refused with its message."""
    good = small_jpeg((480, 640), seed=5)
    bad = hostile.make_jpeg_cut_third(tmp_path).read_bytes()
    errors: dict[str, list] = {"good": [], "bad": []}

    def run(name, data):
        for _ in range(15):
            try:
                decode(data)
            except DecodeError as e:
                errors[name].append(str(e))

    threads = [threading.Thread(target=run, args=a) for a in (("good", good), ("bad", bad))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors["good"] == [] and len(errors["bad"]) == 15


def test_tiff_strips_must_hold_the_declared_image(tmp_path):
    with pytest.raises(DecodeError, match="truncated TIFF: declares 9000x9000 .* holds 256 bytes"):
        read_header(hostile.make_tiff_short_strips(tmp_path).read_bytes())
    import cv2
    for comp in (1, 5, 8, 32773):  # the best case of each method passes: all-zero samples
        _ok, buf = cv2.imencode(".tif", np.zeros((300, 400), np.uint16), [cv2.IMWRITE_TIFF_COMPRESSION, comp])
        assert read_header(buf.tobytes()).width == 400


def test_other_stderr_writes_pass_through_a_decode(tmp_path, capfd):
    """A line another thread writes while fd 2 is redirected still reaches the terminal."""
    from scopecheck.compare import quiet
    with quiet.captured():
        os.write(2, b"progress 50%\n")
        os.write(2, b"libpng warning: iCCP: known incorrect sRGB profile\n")
    assert capfd.readouterr().err == "progress 50%\n"


def _bigtiff(w: int, h: int) -> bytes:
    """A little-endian BigTIFF: 8-byte counts and offsets, 20-byte entries, width typed LONG8."""
    pixels = bytes(range(256))[: w * h]
    entries = [(256, 16, 1, w), (257, 3, 1, h), (258, 3, 1, 8), (259, 3, 1, 1), (262, 3, 1, 1),
               (273, 16, 1, 0), (277, 3, 1, 1), (278, 3, 1, h), (279, 16, 1, w * h)]
    ifd_at = 16
    data_at = ifd_at + 8 + 20 * len(entries) + 8
    ifd = struct.pack("<Q", len(entries))
    for tag, typ, count, value in entries:
        ifd += struct.pack("<HHQQ", tag, typ, count, data_at if tag == 273 else value)
    return b"II+\x00" + struct.pack("<HHQ", 8, 0, ifd_at) + ifd + struct.pack("<Q", 0) + pixels


def test_bigtiff_directory_read_with_8_byte_fields():
    data = _bigtiff(16, 8)
    tf = tiff.open_tiff(data)
    assert tf.big and tf.first_ifd == 16
    assert read_header(data).width == 16 and read_header(data).height == 8
    img = decode(data)  # libtiff reads BigTIFF too
    assert img.pixels.shape == (8, 16) and img.pixels.ravel().tolist() == list(range(128))


def test_a_file_is_walked_once_per_bytes_object():
    """The loader and the metadata reader share one walk of the same bytes (containers.memo)."""
    from scopecheck.compare.containers import png as png_mod

    data = bytes(open(os.path.join(os.path.dirname(__file__), "..", "..", "fixtures", "compare",
                                   "ihc_shot1.png"), "rb").read())
    first = png_mod.walk(data)
    assert png_mod.walk(data) is first                      # same object, same options: remembered
    assert png_mod.walk(data, check_idat=True) is not first  # other options: walked again
    assert png_mod.walk(bytearray(data)) is not first        # mutable input: never remembered
    assert png_mod.walk(bytearray(data)).chunks == first.chunks


def test_sizes_in_messages_read_as_people_write_them():
    """Binary units only where they come out whole and small (the limits: 1 GiB, 16 MiB); else decimal
    (800,000,000 bytes is exactly 781250 KiB, which no one writes)."""
    from scopecheck.compare.containers.limits import human_bytes

    assert [human_bytes(n) for n in (1 << 30, 16 << 20, 800_000_000, 300_000_000, 4096, 999)] == \
        ["1 GiB", "16 MiB", "800.0 MB", "300.0 MB", "4 KiB", "999 bytes"]
