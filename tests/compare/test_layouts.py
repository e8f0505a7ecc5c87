"""Equal pixel values in another channel layout read "identical-pixels", with the layout named
(:mod:`compare.layouts`): a gray JPEG read by ``cv2.imread`` (BGR unless told otherwise) and
written as PNG, an opaque alpha channel added. The reference is the array itself: the values are
the same by construction; anything else (one sample off, an alpha below full scale, another
sample type) stays a pixel comparison."""
from __future__ import annotations

import json
import os

import cv2
import numpy as np
import pytest

from scopecheck.compare.layouts import layout_change
from scopecheck.compare.load import load
from scopecheck.compare.pair import compare_files
from scopecheck.compare.pixel_pair import surely_differ
from tests.conftest import ROOT, run_cli

GRAY_JPEG = os.path.join(ROOT, "fixtures", "real", "deeppcb_00041000_temp.jpg")  # a real gray JPEG (DeepPCB)


def _color(tmp_path):
    """A real colour picture (PolyU camera shot) as a lossless PNG: its decoded pixels."""
    bgr = cv2.imread(os.path.join(ROOT, "fixtures", "real", "polyu_Canon80D_8_8_3200_ball_1_real.jpg"))
    p = tmp_path / "color.png"
    cv2.imwrite(str(p), bgr)
    return p, bgr


def test_a_gray_jpeg_and_its_bgr_decode_as_png_are_identical_pixels(tmp_path):
    bgr = cv2.imread(GRAY_JPEG)  # what most scripts do: three equal channels
    assert bgr.ndim == 3 and load(GRAY_JPEG).pixels.ndim == 2
    png = tmp_path / "decoded.png"
    cv2.imwrite(str(png), bgr)
    c = compare_files(GRAY_JPEG, png)
    assert c.verdict == "identical-pixels" and c.pixels_equal
    assert "B stores the gray image as RGB with R = G = B" in c.reason
    assert c.a.pixel_sha256 != c.b.pixel_sha256  # the digests still tell the layouts apart
    r = run_cli("compare", png, GRAY_JPEG, "--json")
    d = json.loads(r.stdout)
    assert r.returncode == 0 and d["verdict"] == "identical-pixels" and d["pixels_equal"] is True
    assert "A stores the gray image as RGB with R = G = B" in d["reason"]


def test_an_opaque_alpha_channel_is_identical_pixels(tmp_path):
    p, bgr = _color(tmp_path)
    q = tmp_path / "alpha.png"
    cv2.imwrite(str(q), np.dstack([bgr, np.full(bgr.shape[:2], 255, np.uint8)]))
    c = compare_files(p, q)
    assert c.verdict == "identical-pixels" and "B adds an opaque alpha channel" in c.reason


@pytest.mark.parametrize("edit", ["one sample", "alpha 254", "16-bit"])
def test_anything_else_is_compared_as_pixels(tmp_path, edit):
    p, bgr = _color(tmp_path)
    q = tmp_path / "b.png"
    if edit == "one sample":
        gray = cv2.imread(GRAY_JPEG)
        p = tmp_path / "gray.png"
        cv2.imwrite(str(p), gray[..., 0])
        gray[100, 200, 2] ^= 1  # R off by one level at one pixel: not a gray image any more
        cv2.imwrite(str(q), gray)
    elif edit == "alpha 254":
        a = np.full(bgr.shape[:2], 255, np.uint8)
        a[7, 9] = 254
        cv2.imwrite(str(q), np.dstack([bgr, a]))
    else:  # the same values on a 16-bit scale: another sample type, whatever the factor
        cv2.imwrite(str(q), bgr.astype(np.uint16) * 257)
    c = compare_files(p, q)
    assert c.verdict != "identical-pixels" and not c.pixels_equal


def test_layout_change_literal_cases():
    g = np.array([[0, 7], [200, 255]], np.uint8)
    rgb = np.dstack([g, g, g])
    assert layout_change(g, rgb) == "B stores the gray image as RGB with R = G = B"
    assert layout_change(rgb, g) == "A stores the gray image as RGB with R = G = B"
    assert layout_change(np.dstack([rgb, np.full_like(g, 255)]), g) == \
        "A stores the gray image as RGB with R = G = B and adds an opaque alpha channel"
    c = np.dstack([g, g // 2, g // 3])
    assert layout_change(c, np.dstack([c, np.full_like(g, 255)])) == "B adds an opaque alpha channel"
    w = g.astype(np.uint16) * 257
    assert layout_change(w, np.dstack([w, w, w, np.full_like(w, 65535)])) == \
        "B stores the gray image as RGB with R = G = B and adds an opaque alpha channel"
    assert layout_change(g, g.copy()) is None                     # same layout: the digests decide
    assert layout_change(g, np.dstack([g, g, g]).astype(np.uint16)) is None  # another sample type
    assert layout_change(g, np.dstack([g, g, g])[:1]) is None       # another size
    assert layout_change(c, g) is None                             # colour against gray: different pixels
    assert layout_change(np.dstack([g, g]), g) is None             # two channels: not a layout this reads


def test_surely_differ_waits_for_the_digests_on_a_layout_change(tmp_path):
    """The pixel comparison starts early only for pixels that surely differ: a gray image stored as
    RGB does not, one with a changed sample row does."""
    class D:
        def __init__(self, image):
            self.image = image
    bgr = cv2.imread(GRAY_JPEG)
    png = tmp_path / "d.png"
    cv2.imwrite(str(png), bgr)
    a, b = load(GRAY_JPEG), load(png)
    assert not surely_differ(D(a), D(b))
    bgr[0, :, 1] //= 2  # row 0 is among the rows the cheap look reads
    cv2.imwrite(str(png), bgr)
    assert surely_differ(D(a), D(load(png)))
