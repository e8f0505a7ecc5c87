"""Files of several images (TIFF stacks, animated PNG/WebP/GIF): every image is counted, decoded,
digested and compared; nothing is judged, digested or stripped on the first image alone.

References: OpenCV's own ``cv2.imcount`` for the number of images, ``hashlib`` over the canonical
forms written out here for the digest, and frames written by Pillow.
"""
import hashlib
import io
import struct
import subprocess
import sys

import cv2
import numpy as np
import pytest
from PIL import Image as PILImage

from scopecheck.compare.containers import inspect
from scopecheck.compare.containers.limits import Limits
from scopecheck.compare.errors import DecodeError, LimitError
from scopecheck.compare.load import decode
from scopecheck.compare.pair import compare_files
from scopecheck.compare.strip import strip_verified
from tests.conftest import scene


def _gray(seed=1) -> np.ndarray:
    return cv2.cvtColor(scene(seed).astype(np.uint8), cv2.COLOR_BGR2GRAY)


def _pil_stack(pages, fmt: str, **kw) -> bytes:
    buf = io.BytesIO()
    ims = [PILImage.fromarray(p) for p in pages]
    ims[0].save(buf, format=fmt, save_all=True, append_images=ims[1:], **kw)
    return buf.getvalue()


def _tiff(pages, subfile=None, loop=False) -> bytes:
    """An uncompressed little-endian TIFF of 8-bit gray ``pages``, one directory each, with
    NewSubfileType ``subfile[i]``; ``loop``: the last directory points back to the first."""
    subfile = subfile or [0] * len(pages)
    out = bytearray(b"II*\x00" + b"\0\0\0\0")
    offsets = []
    for p in pages:  # the samples first, then the directories
        offsets.append(len(out))
        out += p.tobytes()
    first = len(out)
    struct.pack_into("<I", out, 4, first)
    for i, p in enumerate(pages):
        h, w = p.shape
        entries = [(254, 4, 1, subfile[i]), (256, 4, 1, w), (257, 4, 1, h), (258, 3, 1, 8), (259, 3, 1, 1),
                   (262, 3, 1, 1), (273, 4, 1, offsets[i]), (277, 3, 1, 1), (278, 4, 1, h), (279, 4, 1, w * h)]
        here = len(out)
        nxt = here + 2 + 12 * len(entries) + 4
        if i == len(pages) - 1:
            nxt = first if loop else 0
        out += struct.pack("<H", len(entries))
        for tag, typ, count, value in entries:
            out += struct.pack("<HHII", tag, typ, count, value)
        out += struct.pack("<I", nxt)
    return bytes(out)


def _canonical(p: np.ndarray) -> bytes:
    c = 1 if p.ndim == 2 else p.shape[2]
    return f"scopecheck-pixels/1\n{p.shape[0]}x{p.shape[1]}x{c} {p.dtype.name}\n".encode() + p.tobytes()


@pytest.mark.parametrize("fmt,kw", [("TIFF", {}), ("PNG", {}), ("WEBP", {"lossless": True}), ("GIF", {})])
def test_every_image_is_counted_and_decoded_as_opencv_counts_them(tmp_path, fmt, kw):
    pages = [_gray(1), 255 - _gray(1), _gray(1) // 2]
    data = _pil_stack(pages, fmt, **kw)
    path = tmp_path / f"stack.{fmt.lower()}"
    path.write_bytes(data)
    assert inspect(data)[0].images == 3 == cv2.imcount(str(path), cv2.IMREAD_UNCHANGED)
    img = decode(data)
    assert img.images == 3
    if fmt in ("TIFF", "PNG"):  # lossless gray: the pages as written
        for k, p in enumerate(pages):
            assert np.array_equal(img.page(k), p)


def test_single_images_are_one_image_and_keep_their_digest():
    g = _gray(2)
    ok, png = cv2.imencode(".png", g)
    img = decode(png.tobytes())
    assert img.images == 1 and img.more == ()
    from scopecheck.compare.digest import pixel_sha256

    assert pixel_sha256(img.pixels, img.more) == hashlib.sha256(_canonical(g)).hexdigest()


def test_a_stack_digest_covers_every_page_in_order():
    from scopecheck.compare.digest import pixel_sha256

    a, b = _gray(1), 255 - _gray(1)
    img = decode(_tiff([a, b]))
    assert pixel_sha256(img.pixels, img.more) == hashlib.sha256(_canonical(a) + _canonical(b)).hexdigest()
    swapped = decode(_tiff([b, a]))
    assert pixel_sha256(swapped.pixels, swapped.more) != pixel_sha256(img.pixels, img.more)
    first_only = decode(_tiff([a]))
    assert pixel_sha256(first_only.pixels) != pixel_sha256(img.pixels, img.more)


def test_reduced_resolution_directories_are_not_images():
    """A thumbnail directory (NewSubfileType bit 0) between two pages is a view, not an image."""
    a, b = _gray(1), 255 - _gray(1)
    thumb = cv2.resize(a, (80, 60), interpolation=cv2.INTER_AREA)
    data = _tiff([a, thumb, b], subfile=[0, 1, 0])
    header = inspect(data)[0]
    assert header.images == 2 and header.pages == (0, 2)
    img = decode(data)
    assert img.images == 2 and np.array_equal(img.page(1), b)


def test_a_directory_chain_that_loops_is_refused():
    with pytest.raises(DecodeError, match="loops back"):
        decode(_tiff([_gray(1), _gray(2)], loop=True))


def test_images_are_bounded_in_count_and_in_pixels_together():
    pages = [_gray(1)] * 3  # 76,800 pixels each
    with pytest.raises(LimitError, match="max_images"):
        inspect(_tiff(pages), limits=Limits(max_images=2))
    with pytest.raises(LimitError, match="--max-pixels"):  # each page fits, the three do not
        inspect(_tiff(pages), limits=Limits(max_pixels=200_000))
    gif = _pil_stack([_gray(1), 255 - _gray(1), _gray(1) // 2], "GIF")
    with pytest.raises(LimitError, match="max_images"):
        inspect(gif, limits=Limits(max_images=2))


def test_stacks_that_differ_after_the_first_page_are_different(tmp_path):
    """Before: two stacks with equal first pages were 'identical-pixels' (exit 0)."""
    a, b = _gray(1), 255 - _gray(1)
    pa, pb = tmp_path / "a.tif", tmp_path / "b.tif"
    pa.write_bytes(_tiff([a, b, a]))
    pb.write_bytes(_tiff([a, a // 2, a]))
    c = compare_files(pa, pb)
    assert c.verdict == "different" and not c.pixels_equal
    assert c.images == {"a": 3, "b": 3, "differ": [2], "shown": 2}
    assert c.reason.startswith("image 2 of 3: ")
    shown_a, shown_b = c.compared_pixels()
    assert np.array_equal(shown_a, b) and np.array_equal(shown_b, a // 2)
    assert c.to_json()["images"]["differ"] == [2]


def test_equal_stacks_in_other_containers_are_identical_pixels(tmp_path):
    pages = [_gray(1), 255 - _gray(1)]
    pa, pb = tmp_path / "a.tif", tmp_path / "b.png"
    pa.write_bytes(_tiff(pages))
    pb.write_bytes(_pil_stack(pages, "PNG"))
    c = compare_files(pa, pb)
    assert c.verdict == "identical-pixels" and "all 2 images" in c.reason


def test_stacks_of_different_lengths_are_different_even_when_common_pages_agree(tmp_path):
    a = _gray(1)
    pa, pb = tmp_path / "a.tif", tmp_path / "b.tif"
    pa.write_bytes(_tiff([a, a]))
    pb.write_bytes(_tiff([a, a, a]))
    c = compare_files(pa, pb)
    assert c.verdict == "different"
    assert "A holds 2 pages, B 3 pages; the 2 in common are identical" in c.reason
    single = tmp_path / "one.tif"
    single.write_bytes(_tiff([a]))
    assert compare_files(single, pa).verdict == "different"


def test_a_stack_whose_pages_differ_by_noise_only_is_near_identical(tmp_path):
    rng = np.random.default_rng(5)
    a, b = _gray(1), _gray(3)
    noisy = [np.clip(p.astype(np.int16) + rng.integers(-2, 3, p.shape), 0, 255).astype(np.uint8) for p in (a, b)]
    pa, pb = tmp_path / "a.tif", tmp_path / "b.tif"
    pa.write_bytes(_tiff([a, b]))
    pb.write_bytes(_tiff(noisy))
    c = compare_files(pa, pb)
    assert c.verdict == "near-identical", c.reason
    assert c.images["differ"] == [1, 2] and c.reason.startswith("all differing images within noise (1-2 of 2); image 1: ")


def test_strip_keeps_an_animated_png_s_frames(tmp_path):
    """Before: strip dropped acTL/fcTL/fdAT as metadata and kept the first frame only."""
    frames = [_gray(1), 255 - _gray(1)]
    buf = io.BytesIO()
    ims = [PILImage.fromarray(p) for p in frames]
    from PIL import PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", "a note to remove")
    ims[0].save(buf, format="PNG", save_all=True, append_images=ims[1:], pnginfo=info)
    res = strip_verified(buf.getvalue())
    assert any("Comment" in k for k in res.removed)
    assert not any(k.split()[-1] in ("acTL", "fcTL", "fdAT") for k in res.removed)
    out = decode(res.data)
    assert out.images == 2 and np.array_equal(out.page(1), frames[1])


def test_cli_compare_of_stacks(tmp_path):
    a = _gray(1)
    pa, pb = tmp_path / "a.tif", tmp_path / "b.tif"
    pa.write_bytes(_tiff([a, a]))
    pb.write_bytes(_tiff([a, 255 - a]))
    r = subprocess.run([sys.executable, "-m", "scopecheck", "compare", str(pa), str(pb)],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 1, r.stderr
    assert "TIFF (2 pages)" in r.stdout and "images: A 2, B 2; differing 2" in r.stdout
    big = tmp_path / "big.tif"
    big.write_bytes(_tiff([a] * 3))
    r = subprocess.run([sys.executable, "-m", "scopecheck", "compare", str(big), str(pa), "--max-pixels", "200000"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1 and "--max-pixels" in r.stderr


def test_page_numbers_are_structure_not_metadata(tmp_path):
    """OpenCV writes PageNumber (tag 297) into each page of a stack: layout, not a metadata difference."""
    pages = [_gray(1), 255 - _gray(1)]
    pa, pb = tmp_path / "a.tif", tmp_path / "b.tif"
    assert cv2.imwritemulti(str(pa), pages)
    pb.write_bytes(_tiff(pages))
    c = compare_files(pa, pb)
    assert c.verdict == "identical-pixels"
    assert not any("0x0129" in d.key or "PageNumber" in d.key for d in c.metadata_differences), c.reason


def test_a_single_image_is_found_in_a_stack(tmp_path):
    """One exported page against its stack: which page it is (pixels identical), or which page it is
    nearest to (by dHash) and how that page compares; different either way (the stack holds more)."""
    pages = [_gray(1), _gray(2), _gray(3)]
    stack, page2, noisy2 = tmp_path / "stack.tif", tmp_path / "page2.png", tmp_path / "noisy2.png"
    stack.write_bytes(_tiff(pages))
    cv2.imwrite(str(page2), pages[1])
    rng = np.random.default_rng(2)
    cv2.imwrite(str(noisy2), np.clip(pages[1].astype(np.int16) + rng.integers(-2, 3, pages[1].shape), 0, 255)
                .astype(np.uint8))
    c = compare_files(page2, stack)
    assert c.verdict == "different"
    assert c.reason == "stacks differ in length: A holds 1 image, B 3 pages; A is B's image 2 (pixels identical)"
    assert c.images["found"] == {"side": "B", "image": 2, "pixels_equal": True}
    a, b = c.compared_pixels()
    assert np.array_equal(a, pages[1]) and np.array_equal(b, pages[1])
    c = compare_files(stack, noisy2)
    assert c.verdict == "different" and c.images["found"] == {"side": "A", "image": 2, "pixels_equal": False}
    assert "nearest to B is A's image 2 (by dHash): same field within noise" in c.reason


def test_progress_is_told_of_each_page_compared(tmp_path):
    a = _gray(1)
    pa, pb = tmp_path / "a.tif", tmp_path / "b.tif"
    pa.write_bytes(_tiff([a, a, a]))
    pb.write_bytes(_tiff([a, 255 - a, a // 2]))
    seen = []
    c = compare_files(pa, pb, progress=lambda done, total, errors: seen.append((done, total, errors)))
    assert c.images["differ"] == [2, 3] and seen == [(1, 2, 0), (2, 2, 0)]


def test_page_ranges():
    from scopecheck.compare.stacks import page_ranges

    assert page_ranges([0, 1, 2, 4, 6, 7]) == "1-3, 5, 7-8"
    assert page_ranges([1, 2, 3], base=0) == "1-3"
    assert page_ranges(list(range(0, 40, 2)), runs=3) == "1, 3, 5 and 17 more"
    assert page_ranges([]) == ""


def test_a_file_whose_first_image_is_a_preview_is_refused():
    """Camera raw files (DNG, NEF, ...) are TIFFs whose first directory is a reduced-resolution
    preview of the raw image held elsewhere: comparing the previews would judge (and digest) the
    wrong pixels."""
    preview = cv2.resize(_gray(1), (80, 60), interpolation=cv2.INTER_AREA)
    with pytest.raises(DecodeError, match="reduced-resolution preview"):
        decode(_tiff([preview, _gray(1)], subfile=[1, 0]))


def test_a_hash_record_counts_the_images(tmp_path):
    """``hash`` tells a stack by its image count (cv2.imcount is the reference); a JPEG holds one."""
    from scopecheck.compare.record import hash_file
    pages = [_gray(1), 255 - _gray(1), _gray(1) // 2]
    path = tmp_path / "stack.tif"
    path.write_bytes(_pil_stack(pages, "TIFF"))
    rec = hash_file(path, pixels=True)
    assert rec.images == cv2.imcount(str(path), cv2.IMREAD_UNCHANGED) == 3
    assert rec.to_json()["images"] == 3
    cv2.imwrite(str(tmp_path / "one.jpg"), np.tile(_gray(1), (4, 4)))
    assert hash_file(tmp_path / "one.jpg").to_json()["images"] == 1
