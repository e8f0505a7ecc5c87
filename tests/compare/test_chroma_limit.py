"""The chroma band limit of a 4:2:0 JPEG side (:func:`compare.chroma_clip._chroma_limit`) in the
compared grid's working pixels: its chroma grid is 2 of its own pixels, ``2 / (scale * factor)``
working pixels when it was reduced by ``scale`` to the compared grid (a rescaled pair's larger
side, or both at a camera's native scale). It was ``2 * scale / factor``: a JPEG reduced 2x had
its chroma blurred 4x wider than its grid, which smoothed a small colour change into the size of
that blur and the chroma noise away."""
from __future__ import annotations

import cv2
import numpy as np
import skimage.data

from scopecheck.compare.chroma_clip import CHROMA_SIGMA, _chroma_limit
from scopecheck.compare.codec_noise import CodecTables
from scopecheck.compare.pair import SAME_VERDICTS, compare_files

T420 = CodecTables(luma=np.full((8, 8), 4.0), chroma=np.full((8, 8), 8.0), quality=90, chroma_step=(2, 2))


def test_the_limit_is_the_chroma_grid_on_the_compared_grid():
    # plain formula: 2 full-resolution pixels, over (scale x factor) full-resolution pixels a working pixel
    for scale, factor in ((1.0, 1), (2.0, 1), (1.5, 2), (1.0, 4)):
        sigma = CHROMA_SIGMA * 2 / (scale * factor)
        want = (sigma, sigma) if sigma >= 0.25 else (0.0, 0.0)
        assert _chroma_limit((T420, None), (scale, 1.0), factor) == want
    assert _chroma_limit((None, None), (2.0, 1.0), 1) == (0.0, 0.0)


def test_a_small_colour_change_against_a_larger_jpeg_is_found_where_it_is(tmp_path):
    big = cv2.resize(cv2.cvtColor(skimage.data.coffee(), cv2.COLOR_RGB2BGR), None, fx=2, fy=2,
                     interpolation=cv2.INTER_CUBIC)
    a = tmp_path / "a.jpg"
    cv2.imwrite(str(a), big, [cv2.IMWRITE_JPEG_QUALITY, 90])  # 4:2:0
    small = cv2.resize(cv2.imread(str(a)), None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA)
    ycc = cv2.cvtColor(small, cv2.COLOR_BGR2YCrCb).astype(np.int16)
    ycc[150:160, 300:310, 1] += 25  # a 10 px patch redder, its luma kept
    b = tmp_path / "b.png"
    cv2.imwrite(str(b), cv2.cvtColor(np.clip(ycc, 0, 255).astype(np.uint8), cv2.COLOR_YCrCb2BGR))
    c = compare_files(a, b)
    assert c.verdict not in SAME_VERDICTS and c.reason.startswith("local change")
    r = max(c.regions, key=lambda r: r.area)  # in A's pixels: the patch is 20 px there, at (600, 300)
    assert abs(r.x + r.width / 2 - 610) <= 4 and abs(r.y + r.height / 2 - 310) <= 4
    assert r.width <= 36 and r.height <= 36  # (48 x 44 with the chroma blurred 4x too wide)
