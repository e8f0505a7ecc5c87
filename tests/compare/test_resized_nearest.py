"""Resized copies made without a prefilter, down to nearest neighbour (issue 9: copies resized
>= 0.5x are the same picture): the aliasing such a copy folds into its band is allowed for in the
region test (compare.resample_noise) and bounds what the motion test may read as a displacement
(compare.motion._alias_reach). References: numpy's least squares, OpenCV's and Pillow's resizers."""

import cv2
import numpy as np
import pytest
from PIL import Image
from skimage import data

from scopecheck.compare.motion import WINDOW, _alias_reach, window_fits
from scopecheck.compare.pair import SAME_VERDICTS, compare_files


def test_alias_reach_is_the_cauchy_schwarz_bound_of_the_fit():
    """An error of RMS a over a window moves its least-squares displacement by at most
    a sqrt(n lambda_max); the error lined up with the worst direction reaches it."""
    rng = np.random.default_rng(7)
    h = w = WINDOW
    level = cv2.GaussianBlur(rng.uniform(0, 200, (h, w)).astype(np.float32), (0, 0), 2.0)
    gx = cv2.Sobel(level, cv2.CV_32F, 1, 0, ksize=3, scale=1 / 8)
    gy = cv2.Sobel(level, cv2.CV_32F, 0, 1, ksize=3, scale=1 / 8)
    valid = np.ones((h, w), bool)
    x = np.stack([np.ones(h * w), (level - level.mean()).ravel(), gx.ravel(), gy.ravel()], 1).astype(np.float64)
    a = 1.7
    alias = np.full((h, w), a, np.float32)
    _, inv0, fit0, _ = window_fits(np.zeros((h, w), np.float32), level, gx, gy, valid)
    reach = float(_alias_reach(alias, inv0, fit0.shape)[0, 0])
    worst = 0.0
    for _ in range(200):  # random errors of RMS a: never beyond the bound
        e = rng.normal(0, 1, h * w)
        e *= a / np.sqrt(np.mean(e * e))
        u = np.linalg.lstsq(x, e, rcond=None)[0][2:]
        worst = max(worst, float(np.hypot(*u)))
    assert worst <= reach
    # the error that attains it: x inv e_max, scaled to RMS a (numpy's eigen-decomposition)
    m = np.linalg.inv(x.T @ x)
    vals, vecs = np.linalg.eigh(m[2:, 2:])
    direction = np.zeros(4)
    direction[2:] = vecs[:, -1]
    e = x @ (m @ direction)  # the residual pattern whose fit is that direction
    e *= a / np.sqrt(np.mean(e * e))
    u = np.linalg.lstsq(x, e, rcond=None)[0][2:]
    assert float(np.hypot(*u)) == pytest.approx(reach, rel=0.01)


@pytest.mark.parametrize("name", ["astronaut", "brick", "coffee", "rocket"])
@pytest.mark.parametrize("scale", [0.6, 0.9])
def test_nearest_neighbour_copies_are_the_same_picture(tmp_path, name, scale):
    img = getattr(data, name)()
    img = np.ascontiguousarray(img[..., ::-1]) if img.ndim == 3 else img
    h, w = img.shape[:2]
    a, b, c = (str(tmp_path / f) for f in ("a.png", "nearest.png", "pil_box.png"))
    cv2.imwrite(a, img)
    size = (round(w * scale), round(h * scale))
    cv2.imwrite(b, cv2.resize(img, size, interpolation=cv2.INTER_NEAREST))
    box = np.asarray(Image.fromarray(img).resize(size, Image.BOX))  # Pillow's box: point-sampled weights
    cv2.imwrite(c, box)
    for copy in (b, c):
        r = compare_files(a, copy)
        assert r.verdict in SAME_VERDICTS and "rescaled" in r.reason, r.reason


def test_an_object_that_moved_still_shows_in_a_nearest_neighbour_copy(tmp_path):
    """A 90 px object moved by 12 px and the picture then reduced 0.75x by nearest neighbour:
    still a change."""
    img = np.ascontiguousarray(data.coffee()[..., ::-1])
    moved = img.copy()
    moved[200:290, 212:302] = img[200:290, 200:290]
    a, b = str(tmp_path / "a.png"), str(tmp_path / "b.png")
    cv2.imwrite(a, img)
    h, w = img.shape[:2]
    cv2.imwrite(b, cv2.resize(moved, (round(w * 0.75), round(h * 0.75)), interpolation=cv2.INTER_NEAREST))
    r = compare_files(a, b)
    assert r.verdict == "different", r.reason
