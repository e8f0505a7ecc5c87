"""An animated PNG's control structure and every frame's data are checked before OpenCV reads them.

OpenCV 5.0's APNG reader crashed the process (a segmentation fault) on an acTL that declares more
frames than the file has fcTL chunks (found by mutation fuzzing), and it filled a frame whose
compressed data is cut short or corrupt with whatever it had, reporting success. The expected
messages are written out; the frames come from Pillow's APNG writer.
"""
import io
import struct
import zlib

import numpy as np
import pytest
from PIL import Image as PILImage

from scopecheck.compare.containers.png import make_chunk
from scopecheck.compare.errors import DecodeError
from scopecheck.compare.load import decode
from tests.conftest import assert_one_line_error, run_cli


def _frames():
    rng = np.random.default_rng(4)
    return [rng.integers(0, 256, (40, 56, 3), dtype=np.uint8) for _ in range(3)]


def _apng() -> bytes:
    buf = io.BytesIO()
    ims = [PILImage.fromarray(f) for f in _frames()]
    ims[0].save(buf, format="PNG", save_all=True, append_images=ims[1:], duration=100)
    return buf.getvalue()


def _chunks(data: bytes) -> list[list]:
    out, i = [], 8
    while i + 8 <= len(data):
        n, kind = struct.unpack(">I4s", data[i:i + 8])
        out.append([kind, data[i + 8:i + 8 + n]])
        i += 12 + n
    return out


def _build(chunks) -> bytes:
    return b"\x89PNG\r\n\x1a\n" + b"".join(make_chunk(k, bytes(b)) for k, b in chunks)


def _edit(fn) -> bytes:
    chunks = _chunks(_apng())
    fn(chunks)
    return _build(chunks)


def _nth(chunks, kind: bytes, n: int = 0) -> list:
    return [c for c in chunks if c[0] == kind][n]


def test_pillow_apng_is_read_whole():
    """The reference file: three frames of 56x40, Pillow's layout (acTL, fcTL 0, IDAT, fcTL 1, fdAT 2, ...)."""
    data = _apng()
    assert [c[0] for c in _chunks(data)] == [b"IHDR", b"acTL", b"fcTL", b"IDAT", b"fcTL", b"fdAT", b"fcTL", b"fdAT",
                                             b"IEND"]
    img = decode(data)
    assert img.images == 3
    for i, f in enumerate(_frames()):
        assert np.array_equal(img.page(i)[..., ::-1], f)


def _more_frames_declared(chunks):
    a = _nth(chunks, b"acTL")
    a[1] = struct.pack(">II", 4, 0) + a[1][8:]


def _sequence_broken(chunks):
    f = _nth(chunks, b"fcTL", 1)
    f[1] = struct.pack(">I", 7) + f[1][4:]


def _frame_off_canvas(chunks):
    f = _nth(chunks, b"fcTL", 2)
    f[1] = f[1][:12] + struct.pack(">I", 50) + f[1][16:]  # x offset 50 + width 56 > 56


def _fdat_cut(chunks):
    d = _nth(chunks, b"fdAT", 0)
    d[1] = d[1][:4] + zlib.compress(zlib.decompress(d[1][4:])[:1000])  # a whole stream, 1000 of 6760 bytes


def _fdat_corrupt(chunks):
    d = _nth(chunks, b"fdAT", 1)
    d[1] = d[1][:4] + bytes(b ^ 0x5A for b in d[1][4:40]) + d[1][40:]


def _idat_cut(chunks):
    d = _nth(chunks, b"IDAT")
    d[1] = zlib.compress(zlib.decompress(d[1])[:200])


def _no_actl(chunks):
    chunks.remove(_nth(chunks, b"acTL"))


@pytest.mark.parametrize("edit,message", [
    (_more_frames_declared, "corrupt PNG: the animation declares 4 frames (acTL) but has 3 frame control chunks (fcTL)"),
    (_sequence_broken, "corrupt PNG: animation chunk sequence number 7, expected 1"),
    (_frame_off_canvas, "corrupt PNG: animation frame 3 (56x40 at 50,0) does not fit the 56x40 canvas or has an "
                        "unknown operation"),
    (_fdat_cut, "truncated PNG: image 2 of the animation inflates to 1000 bytes of its 6760 bytes of scanlines"),
    (_fdat_corrupt, "corrupt PNG: image 3 of the animation has corrupt compressed data"),
    (_idat_cut, "truncated PNG: image 1 of the animation inflates to 200 bytes of its 6760 bytes of scanlines"),
    (_no_actl, "corrupt PNG: frame chunks (fcTL, fdAT) without an animation control chunk (acTL)"),
])
def test_malformed_animations_are_refused_with_their_cause(edit, message):
    with pytest.raises(DecodeError) as e:
        decode(_edit(edit), path="x")
    assert message in str(e.value)


def test_the_frame_count_that_crashed_opencv_is_one_line_and_exit_2(tmp_path):
    """In a child process: before the guard, ``scopecheck hash`` died of SIGSEGV (exit -11/139)."""
    p = tmp_path / "declares_more.png"
    p.write_bytes(_edit(_more_frames_declared))
    for args in (("hash", p), ("compare", p, p), ("hash", "--pixels", p)):
        assert_one_line_error(run_cli(*args), contains="declares 4 frames (acTL)")


def test_a_recording_with_a_hostile_frame_stops_with_one_line(tmp_path):
    """A replayed image sequence passes every frame file through the same guard before OpenCV reads it."""
    import cv2

    rec = tmp_path / "rec"
    rec.mkdir()
    for i in range(3):
        cv2.imwrite(str(rec / f"frame_{i:04d}.png"), np.full((40, 56, 3), 90 + i, np.uint8))
    (rec / "frame_0002.png").write_bytes(_edit(_more_frames_declared))
    r = run_cli("capture", "--device", rec / "frame_%04d.png", "--frames", "3", "--warmup", "0", "-o", tmp_path / "x.png")
    assert_one_line_error(r, contains="frame_0002.png: corrupt PNG: the animation declares 4 frames")
    assert not (tmp_path / "x.png").exists()
