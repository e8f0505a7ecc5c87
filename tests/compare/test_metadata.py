"""compare.metadata: reading, diffing, describing and stripping metadata.

Inputs are built here: pixels by cv2.imencode, EXIF by piexif.dump/insert, PNG chunks by hand
(struct + zlib.crc32). References are independent of the code under test: hashlib over raw
bytes, piexif.load, and the plain chunk/segment walks below.
"""
from __future__ import annotations

import dataclasses
import hashlib
import io
import struct
import time
import zlib

import cv2
import numpy as np
import piexif
import pytest

from scopecheck.compare.digest import pixel_sha256
from scopecheck.compare.errors import DecodeError, InputError
from scopecheck.compare.load import decode
from scopecheck.compare.metadata import (
    MetadataDifference,
    describe_differences,
    diff_metadata,
    read_metadata,
    strip_metadata,
    strip_verified,
)

IFD, EXIF, GPS = piexif.ImageIFD, piexif.ExifIFD, piexif.GPSIFD
FORUM_A, FORUM_B = "2018:08:01 12:09:00", "2018:08:01 12:09:05"


# --------------------------------------------------------------------------- builders

def make_pixels(h=48, w=64, channels=3, dtype=np.uint8, seed=0):
    rng = np.random.default_rng(seed)
    top = 255 if dtype == np.uint8 else 65535
    ramp = np.linspace(0, top, w)[None, :] * np.ones((h, 1))
    noise = rng.normal(0, top / 20, (h, w))
    gray = np.clip(ramp + noise, 0, top).astype(dtype)
    if channels == 1:
        return gray
    return np.dstack([gray, gray[::-1], np.roll(gray, 7, axis=1)][:channels])


def encode(ext, pixels, params=()):
    ok, buf = cv2.imencode(ext, pixels, list(params))
    assert ok
    return buf.tobytes()


def with_exif(jpeg: bytes, zeroth=None, exif=None, gps=None, first=None, thumbnail=None) -> bytes:
    blob = piexif.dump({"0th": zeroth or {}, "Exif": exif or {}, "GPS": gps or {},
                        "1st": first or {}, "thumbnail": thumbnail})
    out = io.BytesIO()
    piexif.insert(blob, jpeg, out)
    return out.getvalue()


def forum_exif(when: str, original: str | None = None) -> dict:
    """The tags the forum's `exif` listing shows for the Plugable microscope shots."""
    return dict(
        zeroth={IFD.Model: b"USB Microscope", IFD.Software: b"Cheese 3.10.2",
                IFD.DateTime: when.encode(), IFD.XResolution: (72, 1), IFD.YResolution: (72, 1),
                IFD.ResolutionUnit: 2},
        exif={EXIF.ExifVersion: b"0230", EXIF.DateTimeOriginal: (original or when).encode(),
              EXIF.FlashpixVersion: b"0100", EXIF.ColorSpace: 65535})


def segment(marker: int, payload: bytes) -> bytes:
    return bytes([0xFF, marker]) + struct.pack(">H", len(payload) + 2) + payload


def insert_segments(jpeg: bytes, *segs: bytes) -> bytes:
    """Insert segments right after SOI."""
    return jpeg[:2] + b"".join(segs) + jpeg[2:]


def chunk(ctype: bytes, body: bytes, *, crc: int | None = None) -> bytes:
    c = zlib.crc32(ctype + body) if crc is None else crc
    return struct.pack(">I", len(body)) + ctype + body + struct.pack(">I", c)


def png_walk(data: bytes) -> list[tuple[bytes, bytes]]:
    """Independent plain chunk walk: (type, raw chunk bytes) up to IEND."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    out, pos = [], 8
    while pos < len(data):
        (n,) = struct.unpack(">I", data[pos:pos + 4])
        t = data[pos + 4:pos + 8]
        out.append((t, data[pos:pos + 12 + n]))
        pos += 12 + n
        if t == b"IEND":
            break
    return out


def insert_chunks(png: bytes, *chunks: bytes) -> bytes:
    """Insert chunks just before the first IDAT."""
    i = png.index(b"IDAT") - 4
    return png[:i] + b"".join(chunks) + png[i:]


def jpeg_head(data: bytes) -> tuple[list[bytes], int]:
    """Independent walk of the segments before the first scan: ([raw segments], offset of SOS)."""
    pos, segs = 2, []
    while data[pos + 1] != 0xDA:
        (n,) = struct.unpack(">H", data[pos + 2:pos + 4])
        segs.append(data[pos:pos + 2 + n])
        pos += 2 + n
    return segs, pos


def digest_of(data: bytes) -> str:
    return pixel_sha256(decode(data).pixels)


def icc_segments(profile: bytes, parts: int = 2) -> list[bytes]:
    size = -(-len(profile) // parts)
    pieces = [profile[i:i + size] for i in range(0, len(profile), size)]
    return [segment(0xE2, b"ICC_PROFILE\x00" + bytes([i + 1, len(pieces)]) + p)
            for i, p in enumerate(pieces)]


ADOBE_YCC = segment(0xEE, b"Adobe" + struct.pack(">HHHB", 100, 0, 0, 1))  # transform 1 = YCbCr


@pytest.fixture(scope="module")
def jpg():
    return encode(".jpg", make_pixels())


@pytest.fixture(scope="module")
def png():
    return encode(".png", make_pixels())


@pytest.fixture(scope="module")
def rich_jpeg(jpg):
    """EXIF + thumbnail, XMP, a two-part ICC profile, Photoshop, COM, Adobe and trailing data."""
    thumb = encode(".jpg", make_pixels(8, 8))
    base = with_exif(jpg, **forum_exif(FORUM_A), first={IFD.Compression: 6}, thumbnail=thumb)
    profile = bytes(range(256)) * 3
    return insert_segments(
        base,
        segment(0xE0, b"JFIF\x00\x01\x02\x01\x00\x48\x00\x48\x00\x00"),
        segment(0xE1, b"http://ns.adobe.com/xap/1.0/\x00<x:xmpmeta>rating 5</x:xmpmeta>"),
        *icc_segments(profile),
        segment(0xED, b"Photoshop 3.0\x008BIM" + bytes(20)),
        segment(0xFE, b"shot 17, lamp at 80%"),
        ADOBE_YCC,
    ) + b"TRAILER-after-EOI"


# --------------------------------------------------------------------------- the forum case

def test_forum_case_only_datetime_differs(jpg):
    """One JPEG stream, two EXIF DateTime values: file digests differ, pixels and words do not."""
    ex_a, ex_b = forum_exif(FORUM_A, original=FORUM_A), forum_exif(FORUM_B, original=FORUM_A)
    a, b = with_exif(jpg, **ex_a), with_exif(jpg, **ex_b)
    assert hashlib.sha256(a).hexdigest() != hashlib.sha256(b).hexdigest()
    assert digest_of(a) == digest_of(b)
    diffs = diff_metadata(read_metadata(a, "jpeg"), read_metadata(b, "jpeg"))
    assert diffs == [MetadataDifference("EXIF DateTime", FORUM_A, FORUM_B)]
    assert describe_differences(diffs) == "EXIF DateTime differs"


def test_forum_case_as_posted(jpg):
    """The thread's `exif` listing: DateTime and DateTimeOriginal both move by five seconds."""
    a, b = with_exif(jpg, **forum_exif(FORUM_A)), with_exif(jpg, **forum_exif(FORUM_B))
    md = read_metadata(a, "jpeg")
    assert md == {
        "EXIF XResolution": "72", "EXIF YResolution": "72", "EXIF ResolutionUnit": "2",
        "EXIF Model": "USB Microscope", "EXIF Software": "Cheese 3.10.2",
        "EXIF DateTime": FORUM_A, "EXIF ExifVersion": "0230", "EXIF DateTimeOriginal": FORUM_A,
        "EXIF FlashpixVersion": "0100", "EXIF ColorSpace": "65535",
    }, md
    diffs = diff_metadata(md, read_metadata(b, "jpeg"))
    assert [d.key for d in diffs] == ["EXIF DateTime", "EXIF DateTimeOriginal"]
    assert describe_differences(diffs) == "EXIF DateTime, EXIF DateTimeOriginal differ"


# --------------------------------------------------------------------------- reading JPEG

def test_every_tag_piexif_reads_is_reported(jpg):
    thumb = encode(".jpg", make_pixels(8, 8))
    data = with_exif(
        jpg, zeroth={**forum_exif(FORUM_A)["zeroth"], IFD.Orientation: 6, IFD.Make: b"Plugable"},
        exif={**forum_exif(FORUM_A)["exif"], EXIF.ExposureTime: (1, 60), EXIF.ISOSpeed: 100},
        gps={GPS.GPSVersionID: (2, 2, 0, 0), GPS.GPSLatitude: ((35, 1), (40, 1), (1234, 100))},
        first={IFD.Compression: 6, IFD.XResolution: (72, 1)}, thumbnail=thumb)
    md = read_metadata(data, "jpeg")
    ref = piexif.load(data)  # the independent reading
    pointers = {IFD.ExifTag, IFD.GPSTag, IFD.JPEGInterchangeFormat, IFD.JPEGInterchangeFormatLength}
    expected = set()
    for ifd in ("0th", "Exif", "GPS", "1st"):
        table = piexif.TAGS["Image" if ifd in ("0th", "1st") else ifd]
        for tag in ref[ifd]:
            if tag not in pointers:
                expected.add(("EXIF thumbnail " if ifd == "1st" else "EXIF ") + table[tag]["name"])
    expected.add("EXIF thumbnail")
    assert set(md) == expected
    assert all(isinstance(v, str) for v in md.values())
    assert md["EXIF Orientation"] == "6 (rotate 90 CW)"
    assert md["EXIF ExposureTime"] == "1/60"
    assert md["EXIF GPSLatitude"] == "35, 40, 1234/100"
    assert md["EXIF GPSVersionID"] == "2 2 0 0"
    assert md["EXIF thumbnail Compression"] == "6"
    stored = ref["thumbnail"]  # piexif.dump drops the thumbnail's APP0, so use what is stored
    assert md["EXIF thumbnail"] == f"{len(stored)} bytes, sha256 {hashlib.sha256(stored).hexdigest()[:12]}"


def test_exif_value_rendering(jpg):
    maker = bytes(range(200))
    data = with_exif(jpg, zeroth={IFD.XPComment: tuple("größe".encode("utf-16-le")),
                                  IFD.ImageDescription: "Zelle µ1".encode()},
                     exif={EXIF.ComponentsConfiguration: b"\x01\x02\x03\x00", EXIF.MakerNote: maker,
                           EXIF.UserComment: b"ASCII\x00\x00\x00slide 4\nrow 2"})
    md = read_metadata(data, "jpeg")
    assert md["EXIF XPComment"] == "größe"
    assert md["EXIF ImageDescription"] == "Zelle µ1"  # UTF-8 in an ASCII field, as cameras write
    assert md["EXIF ComponentsConfiguration"] == "4 bytes: 01020300"
    assert md["EXIF MakerNote"] == f"200 bytes, sha256 {hashlib.sha256(maker).hexdigest()[:12]}"
    assert md["EXIF UserComment"] == "slide 4\\nrow 2"  # control characters escaped: one line


def test_jpeg_segments(rich_jpeg):
    md = read_metadata(rich_jpeg, "jpeg")
    profile = bytes(range(256)) * 3
    assert md["JPEG APP0 JFIF"] == "version 1.02, density 72x72 dpi"
    xmp = b"<x:xmpmeta>rating 5</x:xmpmeta>"
    assert md["JPEG APP1 XMP"] == f"{len(xmp)} bytes, sha256 {hashlib.sha256(xmp).hexdigest()[:12]}"
    assert md["JPEG APP2 ICC profile"] == f"768 bytes, sha256 {hashlib.sha256(profile).hexdigest()[:12]}"
    assert md["JPEG APP13 Photoshop 3.0"].startswith("38 bytes, sha256 ")
    assert md["JPEG COM"] == "shot 17, lamp at 80%"
    trailer = b"TRAILER-after-EOI"
    assert md["JPEG data after EOI"] == f"17 bytes, sha256 {hashlib.sha256(trailer).hexdigest()[:12]}"
    assert md["EXIF DateTime"] == FORUM_A and "EXIF thumbnail" in md
    assert not any("APP14" in k or "Adobe" in k for k in md), "Adobe APP14 defines pixels, not metadata"


def test_xmp_value_is_size_and_digest(jpg):
    xmp = b"<x:xmpmeta xmlns:x='adobe:ns:meta/'>" + b"x" * 40 + b"</x:xmpmeta>"
    data = insert_segments(jpg, segment(0xE1, b"http://ns.adobe.com/xap/1.0/\x00" + xmp))
    assert read_metadata(data, "jpeg")["JPEG APP1 XMP"] == (
        f"{len(xmp)} bytes, sha256 {hashlib.sha256(xmp).hexdigest()[:12]}")


def test_repeated_segments_get_numbered_keys(jpg):
    data = insert_segments(jpg, segment(0xFE, b"first"), segment(0xFE, b"second"))
    md = read_metadata(data, "jpeg")
    assert md["JPEG COM"] == "first" and md["JPEG COM 2"] == "second"


def _tiff_block(entries, *, extra=b"") -> bytes:
    """A little-endian TIFF/EXIF block with one IFD of raw (tag, type, count, value) entries."""
    ifd = struct.pack("<H", len(entries)) + b"".join(
        struct.pack("<HHLL", *e) for e in entries) + struct.pack("<L", 0)
    return b"II*\x00" + struct.pack("<L", 8) + ifd + extra


HOSTILE_EXIF = {
    "garbage": b"this is not a TIFF header at all",
    "truncated directory": b"II*\x00\x08\x00\x00\x00\x20\x00" + bytes(10),
    # ImageDescription as BYTE x 4 billion: piexif alone would build a 4 GB struct format
    "huge count": _tiff_block([(270, 1, 0xFFFFFFF0, 26)]),
    "value past the end": _tiff_block([(270, 2, 64, 200)]),
    "signed directory pointer": _tiff_block([(34665, 9, 1, 0xFFFFFF00)]),
    "bad type": _tiff_block([(271, 77, 1, 0)]),
}


@pytest.mark.parametrize("name", list(HOSTILE_EXIF))
def test_corrupt_exif_is_reported_not_raised(jpg, name):
    data = insert_segments(jpg, segment(0xE1, b"Exif\x00\x00" + HOSTILE_EXIF[name]))
    t0 = time.perf_counter()
    md = read_metadata(data, "jpeg")
    assert time.perf_counter() - t0 < 0.5
    assert md["EXIF"].startswith("unreadable ("), md
    assert not any(k.startswith("EXIF ") for k in md)
    assert digest_of(data) == digest_of(jpg)  # the pixels are fine: only metadata is broken


def test_unknown_exif_tag_is_listed():
    data = _tiff_block([(0xC0DE, 3, 1, 5), (271, 2, 4, int.from_bytes(b"Zei\x00", "little"))])
    md = read_metadata(b"\xff\xd8" + segment(0xE1, b"Exif\x00\x00" + data) + b"\xff\xd9", "jpeg")
    assert md["EXIF Make"] == "Zei"
    assert md["EXIF Tag 0xc0de"] == "type 3, 1 values"


def test_broken_jpeg_structure_is_reported(jpg):
    md = read_metadata(insert_segments(jpg, segment(0xFE, b"note"))[:30], "jpeg")
    assert md["JPEG COM"] == "note"
    assert md["JPEG structure"].startswith("unreadable (")


# --------------------------------------------------------------------------- reading PNG

def test_png_chunks(png):
    profile = b"fake ICC profile " * 10
    exif = piexif.dump({"0th": {IFD.DateTime: FORUM_A.encode(), IFD.Model: b"USB Microscope"}})[6:]
    data = insert_chunks(
        png,
        chunk(b"gAMA", struct.pack(">I", 45455)),
        chunk(b"cHRM", struct.pack(">8I", 31270, 32900, 64000, 33000, 30000, 60000, 15000, 6000)),
        chunk(b"sRGB", b"\x00"),
        chunk(b"iCCP", b"scope ICC\x00\x00" + zlib.compress(profile)),
        chunk(b"sBIT", b"\x08\x08\x08"),
        chunk(b"pHYs", struct.pack(">IIB", 2835, 2835, 1)),
        chunk(b"tIME", struct.pack(">HBBBBB", 2018, 8, 1, 12, 9, 0)),
        chunk(b"tEXt", b"Comment\x00lamp 80%"),
        chunk(b"zTXt", b"Description\x00\x00" + zlib.compress(b"cell culture, day 3")),
        chunk(b"iTXt", b"Title\x00\x00\x00de\x00Titel\x00Zellkultur \xc3\xa4"),
        chunk(b"iTXt", b"Author\x00\x01\x00\x00\x00" + zlib.compress("Ana Ñ".encode())),
        chunk(b"eXIf", exif),
        chunk(b"prVt", b"\x01\x02"),
        chunk(b"prVt", b"\x03"),
    )
    md = read_metadata(data, "png")
    assert md == {
        "PNG gAMA": "0.45455",
        "PNG cHRM": "white 0.3127 0.329, red 0.64 0.33, green 0.3 0.6, blue 0.15 0.06",
        "PNG sRGB": "0 (perceptual)",
        "PNG iCCP": f"scope ICC, {len(profile)} bytes, sha256 {hashlib.sha256(profile).hexdigest()[:12]}",
        "PNG sBIT": "8 8 8",
        "PNG pHYs": "2835x2835 per metre (72.01x72.01 dpi)",
        "PNG tIME": "2018-08-01 12:09:00 UTC",
        "PNG tEXt Comment": "lamp 80%",
        "PNG zTXt Description": "cell culture, day 3",
        "PNG iTXt Title": "Zellkultur ä [de]",
        "PNG iTXt Author": "Ana Ñ",
        "EXIF Model": "USB Microscope",
        "EXIF DateTime": FORUM_A,
        "PNG prVt": "2 chunks, 3 bytes, sha256 " + hashlib.sha256(b"\x01\x02\x03").hexdigest()[:12],
    }, md
    assert read_metadata(png, "png") == {}  # OpenCV writes no ancillary chunks


def test_png_text_differences_in_words(png):
    a = insert_chunks(png, chunk(b"tEXt", b"Software\x00scopecheck"))
    b = insert_chunks(png, chunk(b"tEXt", b"Software\x00scopecheck"), chunk(b"tEXt", b"Comment\x00x"))
    diffs = diff_metadata(read_metadata(a, "png"), read_metadata(b, "png"))
    assert describe_differences(diffs) == "PNG tEXt Comment only in B"


def test_png_corrupt_chunks_are_reported(png):
    bomb = zlib.compress(bytes(40 << 20), 9)  # 40 MB of zeros in ~40 kB
    data = insert_chunks(
        png,
        chunk(b"zTXt", b"Bad\x00\x00not zlib"),
        chunk(b"zTXt", b"Bomb\x00\x00" + bomb),
        chunk(b"tEXt", b"Crc\x00text", crc=0),
        chunk(b"eXIf", b"MM\x00*garbage"),
        chunk(b"tIME", b"\x07"),
    )
    t0 = time.perf_counter()
    md = read_metadata(data + b"junk after IEND", "png")
    assert time.perf_counter() - t0 < 1.0
    assert md["PNG zTXt Bad"].startswith("unreadable (zlib")
    assert md["PNG zTXt Bomb"].startswith("unreadable (over ")
    assert md["PNG tEXt Crc"] == "text (bad CRC)"
    assert md["EXIF"].startswith("unreadable (")
    assert md["PNG tIME"] == "unreadable (1 bytes, expected 7)"
    assert md["PNG data after IEND"] == "15 bytes: " + b"junk after IEND".hex()


def test_long_text_is_shortened_but_still_compared(png):
    long_a, long_b = "x" * 500 + "a", "x" * 500 + "b"
    a = read_metadata(insert_chunks(png, chunk(b"tEXt", b"Log\x00" + long_a.encode())), "png")
    b = read_metadata(insert_chunks(png, chunk(b"tEXt", b"Log\x00" + long_b.encode())), "png")
    assert len(a["PNG tEXt Log"]) < 200 and "501 characters" in a["PNG tEXt Log"]
    assert a["PNG tEXt Log"] != b["PNG tEXt Log"]


# --------------------------------------------------------------------------- other formats

def test_webp_exif(jpg):
    webp = encode(".webp", make_pixels(), [cv2.IMWRITE_WEBP_QUALITY, 101])
    out = io.BytesIO()
    piexif.insert(piexif.dump({"0th": {IFD.DateTime: FORUM_B.encode()}}), webp, out)
    assert read_metadata(out.getvalue(), "webp") == {"EXIF DateTime": FORUM_B}
    assert read_metadata(webp, "webp") == {}


def test_tiff_reports_tags_but_not_image_structure():
    tifffile = pytest.importorskip("tifffile")
    buf = io.BytesIO()
    tifffile.imwrite(buf, make_pixels(), photometric="rgb", description="slide 4",
                     software="scopecheck-test", datetime="2018:08:01 12:09:00", metadata=None)
    md = read_metadata(buf.getvalue(), "tiff")
    assert md["EXIF ImageDescription"] == "slide 4"
    assert md["EXIF Software"] == "scopecheck-test"
    assert md["EXIF DateTime"] == FORUM_A
    assert not {"EXIF ImageWidth", "EXIF StripOffsets", "EXIF BitsPerSample"} & set(md)
    assert read_metadata(encode(".tiff", make_pixels()), "tiff") == {}


def test_pnm_comments_bmp_nothing():
    pgm = b"P5\n# made by hand\n2 2\n# max\n255\n" + bytes([0, 64, 128, 255])
    assert read_metadata(pgm, "pnm") == {"PNM comment": "made by hand", "PNM comment 2": "max"}
    assert read_metadata(encode(".bmp", make_pixels()), "bmp") == {}


def test_unknown_format_name_is_refused():
    with pytest.raises(InputError, match="unknown format 'jpg'"):
        read_metadata(b"\xff\xd8", "jpg")


# --------------------------------------------------------------------------- diff and words

def test_diff_order_sides_and_json():
    a = {"EXIF Model": "m", "EXIF DateTime": "t1", "JPEG COM": "c"}
    b = {"EXIF DateTime": "t2", "EXIF Model": "m", "PNG tEXt Comment": "x"}
    diffs = diff_metadata(a, b)
    assert diffs == [MetadataDifference("EXIF DateTime", "t1", "t2"),
                     MetadataDifference("JPEG COM", "c", None),
                     MetadataDifference("PNG tEXt Comment", None, "x")]
    assert [d.kind for d in diffs] == ["differs", "only in A", "only in B"]
    assert diffs[1].to_json() == {"key": "JPEG COM", "a": "c", "b": None}
    with pytest.raises(dataclasses.FrozenInstanceError):
        diffs[0].key = "x"
    assert diff_metadata(a, dict(a)) == []


def D(key, a="1", b="2"):
    return MetadataDifference(key, a, b)


@pytest.mark.parametrize("diffs, words", [
    ([], "metadata identical"),
    ([D("EXIF DateTime")], "EXIF DateTime differs"),
    ([D("EXIF DateTime"), D("EXIF DateTimeOriginal")], "EXIF DateTime, EXIF DateTimeOriginal differ"),
    ([D("PNG tEXt Comment", None, "x")], "PNG tEXt Comment only in B"),
    ([D("JPEG COM", "x", None), D("JPEG APP1 XMP", "y", None)], "JPEG COM, JPEG APP1 XMP only in A"),
    ([D(f"EXIF T{i}") for i in range(5)], "EXIF T0, EXIF T1, EXIF T2 and 2 more differ"),
    ([D("EXIF DateTime"), D("JPEG COM", "x", None), D("PNG gAMA", None, "y")],
     "EXIF DateTime differs; JPEG COM only in A; PNG gAMA only in B"),
    ([D("EXIF A"), D("JPEG COM", "x", None), D("EXIF B"), D("EXIF C"), D("EXIF D")],
     "EXIF A, EXIF B differ; JPEG COM only in A; and 2 more"),
])
def test_describe_differences(diffs, words):
    assert describe_differences(diffs) == words


# --------------------------------------------------------------------------- strip: JPEG

JPEG_VARIANTS = {
    "baseline 4:2:0": ((48, 64, 3), []),
    "baseline 4:4:4": ((48, 64, 3), [cv2.IMWRITE_JPEG_SAMPLING_FACTOR, cv2.IMWRITE_JPEG_SAMPLING_FACTOR_444]),
    "gray": ((48, 64, 1), []),
    "progressive": ((48, 64, 3), [cv2.IMWRITE_JPEG_PROGRESSIVE, 1]),
    "restart markers": ((64, 80, 3), [cv2.IMWRITE_JPEG_RST_INTERVAL, 2]),
    "odd size": ((37, 53, 3), [cv2.IMWRITE_JPEG_QUALITY, 30]),
}


@pytest.mark.parametrize("variant", list(JPEG_VARIANTS))
def test_strip_jpeg_keeps_pixels_and_entropy_data(variant):
    (h, w, c), params = JPEG_VARIANTS[variant]
    plain = encode(".jpg", make_pixels(h, w, c), params)
    thumb = encode(".jpg", make_pixels(8, 8))
    dirty = insert_segments(
        with_exif(plain, **forum_exif(FORUM_A), first={IFD.Compression: 6}, thumbnail=thumb),
        segment(0xFE, b"comment"), *icc_segments(b"profile" * 50),
        segment(0xE1, b"http://ns.adobe.com/xap/1.0/\x00<x/>"), segment(0xEF, b"APP15 data"),
    ) + b"after EOI"
    out = strip_metadata(dirty, "jpeg")
    # pixels: the project's digest over the project's decoder, before and after
    assert digest_of(out) == digest_of(dirty) == digest_of(plain)
    # EXIF gone, per piexif itself
    ref = piexif.load(out)
    assert ref["thumbnail"] is None and not any(ref[k] for k in ("0th", "Exif", "GPS", "Interop", "1st"))
    assert read_metadata(out, "jpeg") == {}
    # no re-encoding: tables kept byte for byte, scan data through EOI identical
    head_in, sos_in = jpeg_head(dirty)
    head_out, sos_out = jpeg_head(out)
    assert head_out == [s for s in head_in if not (0xE0 <= s[1] <= 0xEF or s[1] == 0xFE)]
    assert out[sos_out:] == dirty[sos_in:len(dirty) - len(b"after EOI")]
    assert out.endswith(b"\xff\xd9")


def test_strip_jpeg_keeps_adobe_app14(jpg):
    dirty = insert_segments(with_exif(jpg, **forum_exif(FORUM_A)), ADOBE_YCC)
    out = strip_metadata(dirty, "jpeg")
    assert ADOBE_YCC in out
    assert jpeg_head(out)[0][0] == ADOBE_YCC
    assert digest_of(out) == digest_of(dirty)


def test_strip_is_idempotent(rich_jpeg, png):
    once = strip_metadata(rich_jpeg, "jpeg")
    assert strip_metadata(once, "jpeg") == once
    assert strip_metadata(png, "png") == png  # OpenCV's PNG has nothing to remove


def test_strip_verified_reports_what_it_removed(rich_jpeg):
    res = strip_verified(rich_jpeg, path="rich.jpg")
    assert res.removed == tuple(read_metadata(rich_jpeg, "jpeg"))
    assert res.sha256_before == hashlib.sha256(rich_jpeg).hexdigest()
    assert res.sha256_after == hashlib.sha256(res.data).hexdigest()
    assert res.pixel_sha256 == digest_of(rich_jpeg) == digest_of(res.data)
    assert res.changed and res.to_json()["removed"][0] == "JPEG APP0 JFIF"


def rgb_labelled(jpeg: bytes) -> bytes:
    """Relabel components 1,2,3 as 'R','G','B': decoders then read YCbCr only thanks to JFIF."""
    data, pos = bytearray(jpeg), 2
    while True:
        marker, (n,) = data[pos + 1], struct.unpack(">H", data[pos + 2:pos + 4])
        if marker == 0xC0:
            for i in range(data[pos + 9]):
                data[pos + 10 + 3 * i] = b"RGB"[i]
        if marker == 0xDA:
            for i in range(data[pos + 4]):
                data[pos + 5 + 2 * i] = b"RGB"[i]
            return bytes(data)
        pos += 2 + n


def test_strip_verified_refuses_when_pixels_would_change(jpg):
    tricky = rgb_labelled(jpg)
    assert digest_of(strip_metadata(tricky, "jpeg")) != digest_of(tricky)  # the hazard is real
    with pytest.raises(InputError, match=r"tricky.jpg: refusing to strip: the decoded pixels would change"):
        strip_verified(tricky, path="tricky.jpg")


# --------------------------------------------------------------------------- strip: PNG

@pytest.mark.parametrize("pixels", [make_pixels(), make_pixels(channels=1, dtype=np.uint16),
                                    make_pixels(channels=4)], ids=["bgr8", "gray16", "bgra8"])
def test_strip_png_keeps_only_pixel_chunks_byte_for_byte(pixels):
    base = encode(".png", pixels, [cv2.IMWRITE_PNG_COMPRESSION, 9])
    dirty = insert_chunks(base, chunk(b"tEXt", b"Comment\x00x"), chunk(b"gAMA", struct.pack(">I", 45455)),
                          chunk(b"tIME", struct.pack(">HBBBBB", 2018, 8, 1, 12, 9, 0)))
    dirty = dirty[:-12] + chunk(b"tEXt", b"Late\x00after IDAT") + dirty[-12:] + b"trailing"
    out = strip_metadata(dirty, "png")
    keep = {b"IHDR", b"PLTE", b"tRNS", b"IDAT", b"IEND"}
    assert png_walk(out) == [c for c in png_walk(dirty) if c[0] in keep]
    assert out == base
    assert digest_of(out) == digest_of(dirty)
    assert read_metadata(out, "png") == {}


def palette_png_with_trns() -> bytes:
    """A 4x2 paletted PNG whose tRNS makes two palette entries (partly) transparent."""
    rows = [bytes([0, 0, 1, 2, 3]), bytes([0, 3, 2, 1, 0])]  # filter byte 0 + indices
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 4, 2, 8, 3, 0, 0, 0))
            + chunk(b"PLTE", bytes([255, 0, 0, 0, 255, 0, 0, 0, 255, 9, 9, 9]))
            + chunk(b"tRNS", bytes([0, 128])) + chunk(b"tEXt", b"Comment\x00palette")
            + chunk(b"IDAT", zlib.compress(b"".join(rows))) + chunk(b"IEND", b""))


def test_strip_png_keeps_palette_and_transparency():
    data = palette_png_with_trns()
    out = strip_metadata(data, "png")
    assert [t for t, _ in png_walk(out)] == [b"IHDR", b"PLTE", b"tRNS", b"IDAT", b"IEND"]
    assert decode(out).pixels.shape == (2, 4, 4)  # alpha from tRNS
    assert digest_of(out) == digest_of(data)
    no_trns = b"".join([out[:8]] + [raw for t, raw in png_walk(out) if t != b"tRNS"])
    assert digest_of(no_trns) != digest_of(out), "tRNS defines pixels: dropping it changes them"


# --------------------------------------------------------------------------- strip: bad input

@pytest.mark.parametrize("data, fmt, error, words", [
    (b"", "jpeg", DecodeError, "empty"),
    (b"hello, not an image", "png", DecodeError, "not an image"),
    (None, "jpeg", DecodeError, "truncated"),
    (None, "png", DecodeError, "truncated"),
    ("tiff", "tiff", InputError, "strip handles JPEG and PNG only"),
    ("webp", "webp", InputError, "strip handles JPEG and PNG only"),
    ("bmp", "bmp", InputError, "strip handles JPEG and PNG only"),
    ("png-as-jpeg", "jpeg", InputError, "the bytes are PNG, not JPEG"),
    ("png-as-jpg", "jpg", InputError, "unknown format 'jpg'"),
], ids=["empty", "text", "truncated-jpeg", "truncated-png", "tiff", "webp", "bmp", "mismatch", "bad-fmt"])
def test_strip_refuses_bad_input(data, fmt, error, words, jpg, png):
    full = {"jpeg": jpg, "png": png}
    if data is None:
        data = full[fmt][:len(full[fmt]) // 2]
    elif isinstance(data, str):
        data = png if data.startswith("png") else encode("." + data, make_pixels())
    with pytest.raises(error, match=words):
        strip_metadata(data, fmt)


# --------------------------------------------------------------------------- robustness

def test_mutated_files_never_crash(rich_jpeg, png):
    """Deterministic fuzz: bytes flipped in the metadata area, files cut short.

    read_metadata must always return; strip_metadata may only raise the project's errors.
    """
    import random

    rich_png = insert_chunks(png, chunk(b"tEXt", b"Comment\x00x"),
                             chunk(b"zTXt", b"D\x00\x00" + zlib.compress(b"hello")),
                             chunk(b"eXIf", piexif.dump({"0th": {IFD.DateTime: FORUM_A.encode()}})[6:]))
    rnd = random.Random(20180801)
    for i in range(400):
        base, fmt = (rich_jpeg, "jpeg") if i % 2 else (rich_png, "png")
        d = bytearray(base)
        for _ in range(rnd.randint(1, 8)):
            d[rnd.randrange(min(len(d), 1500))] = rnd.randrange(256)
        if rnd.random() < 0.2:
            d = d[:rnd.randrange(len(d))]
        md = read_metadata(bytes(d), fmt)
        assert all(isinstance(k, str) and isinstance(v, str) for k, v in md.items())
        try:
            strip_metadata(bytes(d), fmt)
        except InputError:
            pass
