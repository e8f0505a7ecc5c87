"""compare.specks: a small change on a large picture, judged at full resolution.

Pictures: scikit-image's ``chelsea`` and ``camera`` (real photographs) enlarged to 5-12 MP, each side
with its own Gaussian noise (sigma 2 levels), as two shots of one field. The references are
literal: where the speck was put and how many pixels it covers.
"""
import cv2
import numpy as np
import pytest
import skimage.data

from scopecheck.compare.changes import STRONG_PX, Z_STRONG
from scopecheck.compare.pair import compare_files
from scopecheck.compare.specks import confirmed
from scopecheck.compare.working import working_factor


def _shots(img: np.ndarray, megapixels: float, seed: int = 0):
    scale = (megapixels * 1e6 / (img.shape[0] * img.shape[1])) ** 0.5
    big = cv2.resize(img, None, fx=scale, fy=scale, interpolation=cv2.INTER_CUBIC).astype(np.float32)
    rng = np.random.default_rng(seed)
    return [np.clip(big + rng.normal(0, 2, big.shape).astype(np.float32) + 0.5, 0, 255).astype(np.uint8)
            for _ in range(2)]


def _write(tmp_path, a, b):
    pa, pb = str(tmp_path / "a.png"), str(tmp_path / "b.png")
    cv2.imwrite(pa, a, [cv2.IMWRITE_PNG_COMPRESSION, 1])
    cv2.imwrite(pb, b, [cv2.IMWRITE_PNG_COMPRESSION, 1])
    return pa, pb


@pytest.mark.parametrize("name,megapixels,side", [("chelsea", 5.0, 5), ("camera", 12.0, 7)])
def test_a_speck_on_a_large_picture_is_a_change(tmp_path, name, megapixels, side):
    img = getattr(skimage.data, name)()
    img = img[:, :, ::-1] if img.ndim == 3 else img
    a, b = _shots(img, megapixels)
    assert working_factor(a.shape) >= 4  # one working pixel for the whole speck, or about
    y, x = a.shape[0] // 3, a.shape[1] // 3
    b[y:y + side, x:x + side] = 0 if a[y:y + side, x:x + side].mean() > 100 else 255
    c = compare_files(*_write(tmp_path, a, b))
    assert c.verdict.value == "different"
    assert c.reason.startswith("local change at ")
    r = c.analysis.regions[0]
    assert r.x <= x and x + side <= r.x + r.width and r.y <= y and y + side <= r.y + r.height
    # without the speck the two shots are one field
    c = compare_files(*_write(tmp_path, a, _unspecked(a, b, x, y, side)))
    assert c.verdict.value == "near-identical", c.reason


def _unspecked(a, b, x, y, side):
    out = b.copy()
    out[y:y + side, x:x + side] = a[y:y + side, x:x + side]
    return out


def test_the_rule_at_full_resolution():
    """:func:`confirmed` keeps a speck of ``STRONG_PX`` pixels or more beyond the noise, exactly
    where it is and as large as it is, and leaves a 3x3 one (9 pixels) as the working scale does."""
    a, b = _shots(skimage.data.camera(), 5.0, seed=1)
    for y, x, side in ((700, 800, 3), (1200, 1500, 5)):
        b[y:y + side, x:x + side] = 255 - a[y:y + side, x:x + side]
    candidates = [(50.0, 790, 690, 24, 24), (50.0, 1490, 1190, 24, 24)]
    clip = (-1.0, 250.0)
    found = confirmed(a, b, candidates, shift=(0.0, 0.0), lsb=(1.0, 1.0), clip_a=clip, clip_b=clip,
                      floor=0.4, edge_slack=0.8)
    assert 9 < STRONG_PX <= 25
    assert [(r.x, r.y, r.width, r.height, r.area, r.kind) for r in found] == [(1500, 1200, 5, 5, 25, "changed")]
    assert found[0].strength >= Z_STRONG


def test_flickering_pixels_are_not_specks(tmp_path):
    """Hot, dead or flickering single pixels (and pairs of them), a cosmic-ray hit: 1-2 pixels each,
    far beyond the noise, on a 5 MP shot -- the shot is the same field."""
    a, b = _shots(skimage.data.chelsea()[:, :, ::-1], 5.0, seed=2)
    rng = np.random.default_rng(7)
    ys, xs = rng.integers(10, a.shape[0] - 10, 40), rng.integers(10, a.shape[1] - 10, 40)
    for i, (y, x) in enumerate(zip(ys, xs)):
        b[y, x] = 255 if i % 2 else 0
        if i % 4 == 0:
            b[y, x + 1] = b[y, x]
    c = compare_files(*_write(tmp_path, a, b))
    assert c.verdict.value == "near-identical", c.reason


def test_an_object_moved_at_full_resolution():
    """:func:`confirmed` with ``moved``: a galaxy of scikit-image's Hubble deep field (about 1000
    pixels) moved 2 px right on one of two shots (noise sigma 2) is an object that moved by about
    2 px (the gradient fit reads a sharp edge's move up to sqrt(2) long); nothing moved without it,
    and no speck region either way."""
    img = cv2.cvtColor(skimage.data.hubble_deep_field()[:, :, ::-1], cv2.COLOR_BGR2GRAY)
    rng = np.random.default_rng(3)
    y0, x0, y1, x1 = 446, 699, 503, 756                     # the galaxy (456-493, 709-746) and a margin
    moved = img.copy()
    moved[y0:y1, x0 + 2:x1 + 2] = img[y0:y1, x0:x1]

    def shot(x):
        return np.clip(x + rng.normal(0, 2, x.shape) + 0.5, 0, 255).astype(np.uint8)

    a = shot(img.astype(np.float32))
    candidates = [(8.0, x0, y0, x1 - x0, y1 - y0)]
    clip = (-1.0, 256.0)
    for b, want in ((shot(moved.astype(np.float32)), 1), (shot(img.astype(np.float32)), 0)):
        found: list = []
        regions = confirmed(a, b, candidates, shift=(0.0, 0.0), lsb=(1.0, 1.0), clip_a=clip, clip_b=clip,
                            floor=0.4, edge_slack=0.4, moved=found)
        assert regions == []
        assert len(found) == want
        if want:
            n, px, boxes = found[0]
            assert n >= 1 and 1.5 < px < 2 * 2 ** 0.5 + 0.2, found
            bx, by, bw, bh, bpx = boxes[0]  # where, in the picture's pixels: on the galaxy
            assert bx <= (x0 + x1) / 2 + 1 < bx + bw and by <= (y0 + y1) / 2 < by + bh and bpx == px, boxes


def test_a_nearly_flat_window_offset_by_a_level_is_no_speck():
    """A dark flat patch of a real H.264 pair: A holds level 1 with a coded block at 0, B holds 1
    with one column at 2 (the codec's update of that block, deblocked). Every difference is one
    level. Their variance is the rounding's, so they carry no gain: the window's fit takes an offset,
    never a gain of a few thousandths that makes the column a change of 216 levels ("1x16 px, 476x
    the noise")."""
    a = np.ones((64, 64), np.uint8)
    a[23:39, 27:35] = 0
    b = np.ones((64, 64), np.uint8)
    b[23:39, 26] = 2
    clip = (-1.0, 250.0)
    found = confirmed(a, b, [(50.0, 24, 21, 14, 22)], shift=(0.0, 0.0), lsb=(1.0, 1.0), clip_a=clip,
                      clip_b=clip, floor=0.41, edge_slack=0.8)
    assert found == []
