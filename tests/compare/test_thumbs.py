"""compare.thumbs: dedupe's link test, checked against plain-numpy and pure-Python references
and on real photos (scikit-image's) with the edits of bench/bench_dedupe.py."""
from __future__ import annotations

import cv2
import numpy as np
import pytest
import skimage.data

from scopecheck.compare.errors import InputError
from scopecheck.compare.hashing import luma
from scopecheck.compare.record import hash_file
from scopecheck.compare.thumbs import (
    COMPARE_SIZE,
    DEFAULT_MIN_CORRELATION,
    THUMB_SIZE,
    check_min_correlation,
    link_correlations,
    thumbnail,
    views,
    windows,
)


def test_thumbnail_is_the_stretched_block_mean():
    # 256 = 8 x 32: every cell is an exact 8x8 block, so numpy's reshape-mean is the reference
    g = cv2.cvtColor(skimage.data.astronaut(), cv2.COLOR_RGB2GRAY)[:256, 100:356]
    block = g.astype(np.float64).reshape(32, 8, 32, 8).mean(axis=(1, 3))
    want = np.round((block - block.min()) * 255.0 / (block.max() - block.min())).astype(np.uint8)
    assert np.array_equal(np.frombuffer(thumbnail(g), np.uint8).reshape(32, 32), want)
    assert thumbnail(np.full((40, 50), 7, np.uint8)) == bytes(1024)  # uniform: all zeros, no division


def _view_by_hand(t: np.ndarray, wy, wx) -> np.ndarray:
    """A view computed cell by cell in pure Python: each compared cell is the overlap-weighted mean
    of the stored cells under it (the independent reference for views())."""
    k, m = THUMB_SIZE, COMPARE_SIZE
    out = np.zeros((m, m))
    for r in range(m):
        y0, y1 = (wy[0] + (wy[1] - wy[0]) * r / m) * k, (wy[0] + (wy[1] - wy[0]) * (r + 1) / m) * k
        for c in range(m):
            x0, x1 = (wx[0] + (wx[1] - wx[0]) * c / m) * k, (wx[0] + (wx[1] - wx[0]) * (c + 1) / m) * k
            total = area = 0.0
            for yy in range(k):
                oy = max(0.0, min(y1, yy + 1) - max(y0, yy))
                for xx in range(k):
                    ox = max(0.0, min(x1, xx + 1) - max(x0, xx))
                    total += oy * ox * float(t[yy, xx])
                    area += oy * ox
            out[r, c] = total / area
    return _detrended(out)


def _detrended(cells: np.ndarray) -> np.ndarray:
    """The residual of numpy's least-squares plane a + b x + c y through the cells, unit norm."""
    m = cells.shape[0]
    y, x = np.mgrid[0:m, 0:m]
    design = np.column_stack([np.ones(m * m), x.ravel(), y.ravel()])
    coef = np.linalg.lstsq(design, cells.ravel(), rcond=None)[0]
    v = cells.ravel() - design @ coef
    return v / np.linalg.norm(v)


def test_views_against_a_pure_python_area_average():
    rng = np.random.default_rng(7)
    t = rng.integers(0, 256, (THUMB_SIZE, THUMB_SIZE), dtype=np.uint8)
    ws = windows()
    assert ws[0] == (0.0, 1.0) and len(ws) == 10 and all(0 <= a < b <= 1 + 1e-9 for a, b in ws)
    v = views(t.reshape(1, -1))[0]
    assert v.shape == (len(ws) ** 2, COMPARE_SIZE ** 2)
    # the whole frame: 2x2 block means (reshape-mean), its plane removed
    whole = _detrended(t.astype(np.float64).reshape(16, 2, 16, 2).mean(axis=(1, 3)))
    np.testing.assert_allclose(v[0], whole, atol=2e-6)
    # a plane (a brightness ramp) has nothing left to correlate; a ramp added to a picture changes nothing
    ramp = np.add.outer(np.arange(32) * 3, np.arange(32) * 2).astype(np.uint8)
    assert not views(ramp.reshape(1, -1))[0, 0].any()
    np.testing.assert_allclose(views((t // 4 + ramp).reshape(1, -1))[0, 0], views((t // 4).reshape(1, -1))[0, 0],
                               atol=2e-5)
    for y, x in ((1, 4), (7, 2), (9, 9)):  # view index = y-window * 10 + x-window
        np.testing.assert_allclose(v[y * len(ws) + x], _view_by_hand(t, ws[y], ws[x]), atol=2e-5)


def test_link_correlations_are_the_best_pearson_r_either_way():
    rng = np.random.default_rng(3)
    thumbs = rng.integers(0, 256, (6, 1024), dtype=np.uint8)
    i, j = np.array([0, 1, 2, 0]), np.array([3, 4, 5, 5])
    got = link_correlations(thumbs, i, j, block=2)
    v = views(thumbs)
    for k, (a, b) in enumerate(zip(i.tolist(), j.tolist())):
        want = max(max(np.corrcoef(v[a][w], v[b][0])[0, 1] for w in range(v.shape[1])),
                   max(np.corrcoef(v[b][w], v[a][0])[0, 1] for w in range(v.shape[1])))
        assert got[k] == pytest.approx(want, abs=1e-5)
    assert link_correlations(thumbs, np.array([], int), np.array([], int)).size == 0


def _edits(img: np.ndarray) -> dict[str, np.ndarray]:
    h, w = img.shape[:2]
    c = lambda f: img[int(h * f):h - int(h * f), int(w * f):w - int(w * f)]  # noqa: E731
    return {"q50": cv2.imdecode(cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, 50])[1], cv2.IMREAD_COLOR),
            "half": cv2.resize(img, (w // 2, h // 2), interpolation=cv2.INTER_AREA),
            "crop 4 %": c(0.04), "crop 7 % + JPEG": cv2.imdecode(cv2.imencode(".jpg", c(0.07))[1], cv2.IMREAD_COLOR),
            "brighter": cv2.add(img, np.full_like(img, 25)),
            "left 5 %": img[:, int(w * 0.05):]}


def test_copies_pass_and_different_photos_do_not():
    photos = {"astronaut": skimage.data.astronaut(), "coffee": skimage.data.coffee(),
              "chelsea": skimage.data.chelsea(), "rocket": skimage.data.rocket()}
    thumbs, label = [], []
    for name, rgb in photos.items():
        img = cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)
        for edit, out in {"orig": img, **_edits(img)}.items():
            thumbs.append(np.frombuffer(thumbnail(luma(out)), np.uint8))
            label.append((name, edit))
    thumbs = np.stack(thumbs)
    pairs = [(a, b) for a in range(len(label)) for b in range(a + 1, len(label))]
    r = link_correlations(thumbs, np.array([a for a, _ in pairs]), np.array([b for _, b in pairs]))
    copies = [x for (a, b), x in zip(pairs, r) if label[a][0] == label[b][0]]
    others = [x for (a, b), x in zip(pairs, r) if label[a][0] != label[b][0]]
    print(f"\ncopies: min {min(copies):.3f}; different photos: max {max(others):.3f} "
          f"(threshold {DEFAULT_MIN_CORRELATION})")
    assert min(copies) >= DEFAULT_MIN_CORRELATION > max(others)


def test_record_carries_the_thumbnail_of_its_hashed_luma(tmp_path):
    img = cv2.cvtColor(skimage.data.coffee(), cv2.COLOR_RGB2GRAY)
    p = tmp_path / "coffee.png"
    cv2.imwrite(str(p), img)
    assert hash_file(p).thumb == thumbnail(img)


def test_check_min_correlation():
    assert check_min_correlation(0.5) == 0.5
    for bad in (1.01, -1.5, float("nan")):
        with pytest.raises(InputError, match="--min-correlation"):
            check_min_correlation(bad)


def test_look_alike_faces_are_told_apart_from_their_copies():
    """The hard strangers of bench/bench_dedupe.py: its 40 LFW faces (scikit-image's subset, 25x25 upscaled
    4x), aligned and alike. Every pair whose 64-bit dHash is within 12 bits must be decided rightly."""
    import os

    import skimage

    from scopecheck.compare.hashing import dhash_from_luma

    faces = np.load(os.path.join(os.path.dirname(skimage.__file__), "data", "lfw_subset.npy"))
    thumbs, hashes, who = [], [], []
    for k in range(0, 80, 2):
        f = cv2.resize(np.clip(faces[k] * 255.0, 0, 255).astype(np.uint8), (100, 100), interpolation=cv2.INTER_CUBIC)
        for edit in (f, f[4:96, 4:96], cv2.add(f, 25),
                     cv2.imdecode(cv2.imencode(".jpg", f, [cv2.IMWRITE_JPEG_QUALITY, 50])[1], cv2.IMREAD_GRAYSCALE)):
            thumbs.append(np.frombuffer(thumbnail(edit), np.uint8))
            hashes.append(dhash_from_luma(edit))
            who.append(k)
    pairs = [(a, b) for a in range(len(who)) for b in range(a + 1, len(who)) if hashes[a] - hashes[b] <= 12]
    r = link_correlations(np.stack(thumbs), np.array([a for a, _ in pairs]), np.array([b for _, b in pairs]))
    copies = [x for (a, b), x in zip(pairs, r) if who[a] == who[b]]
    strangers = [x for (a, b), x in zip(pairs, r) if who[a] != who[b]]
    print(f"\n{len(copies)} copy and {len(strangers)} stranger links within 12 bits: copies >= {min(copies):.3f}, "
          f"strangers <= {max(strangers):.3f}")
    assert len(strangers) >= 100  # the case is real: look-alike faces are dHash candidates
    assert min(copies) >= DEFAULT_MIN_CORRELATION > max(strangers)
