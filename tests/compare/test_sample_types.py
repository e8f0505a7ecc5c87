"""Signed, 32-bit and floating-point samples: compared on a 16-bit rendering made by a rule of their
own values (``compare.load.render16``), digested as stored. References: numpy for the renderings,
``hashlib`` over the canonical form written out here for the digest."""
import hashlib
import subprocess
import sys

import cv2
import numpy as np
import pytest

from scopecheck.compare.errors import DecodeError
from scopecheck.compare.load import decode
from scopecheck.compare.pair import compare_files, prepare
from tests.conftest import scene


def _field(seed=1) -> np.ndarray:
    return cv2.cvtColor(scene(seed).astype(np.uint8), cv2.COLOR_BGR2GRAY).astype(np.float64) / 255.0


def _tif(path, arr) -> str:
    assert cv2.imwrite(str(path), arr)
    return str(path)


def _canonical(p: np.ndarray) -> bytes:
    c = 1 if p.ndim == 2 else p.shape[2]
    return (f"scopecheck-pixels/1\n{p.shape[0]}x{p.shape[1]}x{c} {p.dtype.name}\n".encode()
            + p.astype(p.dtype.newbyteorder("<")).tobytes())


def test_signed_16_bit_samples_are_offset_and_digested_as_stored(tmp_path):
    s = (_field() * 4000 - 3000).astype(np.int16)
    assert s.min() < 0  # negative values: offset (non-negative signed samples are kept as they are)
    img = decode(open(_tif(tmp_path / "s.tif", s), "rb").read())
    assert img.dtype == "int16" and img.pixels.dtype == np.uint16 and img.stretched is None
    assert np.array_equal(img.pixels.astype(np.int32), s.astype(np.int32) + 32768)
    side = prepare(tmp_path / "s.tif")
    assert side.pixel_sha256 == hashlib.sha256(_canonical(s)).hexdigest()


@pytest.mark.parametrize("kind", [np.float32, np.float64])
def test_normalised_floats_are_scaled_by_65535(tmp_path, kind):
    f = _field().astype(kind)
    img = decode(open(_tif(tmp_path / "f.tif", f), "rb").read())
    assert img.dtype == np.dtype(kind).name and img.stretched is None
    assert np.array_equal(img.pixels, np.rint(f.astype(np.float64) * 65535).astype(np.uint16))


def test_whole_number_floats_are_taken_as_they_are(tmp_path):
    w = np.rint(_field() * 60000).astype(np.float32)  # a 16-bit image saved as 32-bit (ImageJ)
    img = decode(open(_tif(tmp_path / "w.tif", w), "rb").read())
    assert img.stretched is None and np.array_equal(img.pixels, w.astype(np.uint16))
    u = tmp_path / "u.png"
    cv2.imwrite(str(u), w.astype(np.uint16))
    c = compare_files(tmp_path / "w.tif", u)  # same values, other storage: the same field, no level words
    assert c.verdict == "near-identical" and "levels" not in c.reason and "exposure" not in c.reason, c.reason


def test_floats_in_their_own_units_are_stretched_and_named_no_level_change(tmp_path):
    base = (_field() * 5000 + 1979.5).astype(np.float32)
    a = _tif(tmp_path / "a.tif", base)
    img = decode(open(a, "rb").read())
    lo, hi = img.stretched
    assert (lo, hi) == (float(base.min()), float(base.max()))
    expect = np.rint((base.astype(np.float64) - lo) * (65535.0 / (hi - lo))).astype(np.uint16)
    assert np.array_equal(img.pixels, expect)
    brighter = _tif(tmp_path / "b.tif", (base * 1.3 + 7).astype(np.float32))  # another gain and offset
    c = compare_files(a, brighter)
    assert c.verdict == "near-identical" and "exposure" not in c.reason and "levels" not in c.reason, c.reason
    assert any("compared stretched over their own range" in n for n in c.notes)
    changed = base * 1.3 + 7
    changed[100:130, 100:140] += 300
    c = compare_files(a, _tif(tmp_path / "c.tif", changed.astype(np.float32)))
    assert c.verdict == "different" and c.regions and abs(c.regions[0].x - 100) <= 8, c.reason


def test_a_float_stack_is_rendered_by_one_rule(tmp_path):
    p1 = (_field(1) * 100).astype(np.float32) + 0.25
    p2 = p1 * 2
    path = tmp_path / "stack.tif"
    assert cv2.imwritemulti(str(path), [p1, p2])
    img = decode(path.read_bytes())
    assert img.images == 2 and img.stretched == (float(p1.min()), float(p2.max()))
    assert int(img.page(1).max()) == 65535 and int(img.pixels.max()) < 65535  # one span, not one per page


def test_nan_samples_are_refused_in_one_line(tmp_path):
    f = _field().astype(np.float32)
    f[3, 4] = np.nan
    path = _tif(tmp_path / "nan.tif", f)
    with pytest.raises(DecodeError, match="NaN or infinite"):
        decode(open(path, "rb").read())
    r = subprocess.run([sys.executable, "-m", "scopecheck", "compare", path, path], capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1 and "NaN" in r.stderr


def test_wide_samples_are_held_to_the_pixel_memory_budget():
    """A deflated 32-bit image is small on disk and large decoded: refused before decoding when its
    samples and their rendering would need more than --max-pixels' 3 bytes a pixel."""
    from scopecheck.compare.containers import inspect
    from scopecheck.compare.containers.limits import Limits
    from scopecheck.compare.errors import LimitError

    ok, buf = cv2.imencode(".tif", np.zeros((300, 400), np.float32), [cv2.IMWRITE_TIFF_COMPRESSION, 8])
    data = buf.tobytes()
    inspect(data, limits=Limits(max_pixels=240_000))  # 120,000 px x 6 bytes (4 + a 2-byte rendering) = 720 KB
    with pytest.raises(LimitError, match="32/64-bit samples need about"):
        inspect(data, limits=Limits(max_pixels=200_000))  # 600 KB allowed


def test_a_stretched_float_stack_names_no_level_change_on_its_pages(tmp_path):
    p1 = (_field(1) * 5000 + 1979.5).astype(np.float32)
    pa, pb = tmp_path / "a.tif", tmp_path / "b.tif"
    assert cv2.imwritemulti(str(pa), [p1, p1])
    assert cv2.imwritemulti(str(pb), [p1, (p1 * 1.3 + 7).astype(np.float32)])
    c = compare_files(pa, pb)
    assert c.images["differ"] == [2] and c.verdict == "near-identical", c.reason
    assert "exposure" not in c.reason and "levels" not in c.reason, c.reason
    assert any("compared stretched over their own range" in n for n in c.notes)
