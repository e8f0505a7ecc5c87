"""Colour channels in another order (compare.channel_order.channel_order): a BGR/RGB mix-up is a change, a
white-balance drift is not. References: numpy's correlation matrix, the stored pictures permuted by
numpy indexing, a real camera shot against the mean of its shots."""
from __future__ import annotations

import itertools
import os

import cv2
import numpy as np
import pytest
import skimage.data

from scopecheck.compare.channel_order import ORDER_MARGIN, channel_order
from scopecheck.compare.pair import SAME_VERDICTS, Verdict, compare_files

REAL = os.path.join(os.path.dirname(__file__), "..", "..", "fixtures", "real")


def write(tmp_path, name, arr):
    p = str(tmp_path / name)
    assert cv2.imwrite(p, arr)
    return p


def chans(img):
    return [cv2.GaussianBlur(img[:, :, i].astype(np.float32), (0, 0), 1.0).ravel()[::3] for i in range(3)]


@pytest.mark.parametrize("perm", [p for p in itertools.permutations(range(3)) if p != (0, 1, 2)])
def test_channel_order_names_the_permutation(perm):
    img = cv2.cvtColor(skimage.data.coffee(), cv2.COLOR_RGB2BGR)
    b = img[:, :, list(perm)]  # B's channel c is A's channel perm[c]
    assert channel_order(chans(img), chans(b)) == perm


def test_channel_order_is_the_best_summed_correlation():
    img = cv2.cvtColor(skimage.data.astronaut(), cv2.COLOR_RGB2BGR)
    a, b = chans(img), chans(img[:, :, [2, 1, 0]])
    c = np.corrcoef(np.vstack(a + b))[3:, :3]  # rows B, columns A
    scores = {p: sum(c[i, p[i]] for i in range(3)) for p in itertools.permutations(range(3))}
    best = max(scores, key=scores.get)
    assert best == (2, 1, 0) and scores[best] > np.trace(c) + ORDER_MARGIN
    assert channel_order(a, b) == best


@pytest.mark.parametrize("name", ["astronaut", "chelsea", "immunohistochemistry"])
def test_swapped_red_and_blue_are_a_change_of_colours(tmp_path, name):
    # before: "same field within noise; white balance drifted (B -55 %, R +53 %)" on these three
    img = cv2.cvtColor(getattr(skimage.data, name)(), cv2.COLOR_RGB2BGR)
    a = write(tmp_path, "a.png", img)
    b = write(tmp_path, "b.png", np.ascontiguousarray(img[:, :, ::-1]))
    c = compare_files(a, b)
    assert c.verdict is Verdict.DIFFERENT
    assert c.same_field
    assert "colour channels swapped (B's B is A's R, B's R is A's B" in c.reason, c.reason
    assert c.to_json()["channel_order"] == ["R", "G", "B"]


def test_a_white_balance_drift_is_no_swap(tmp_path):
    img = cv2.cvtColor(skimage.data.immunohistochemistry(), cv2.COLOR_RGB2BGR).astype(np.float64)
    drift = np.clip(np.rint(img * np.array([0.6, 1.0, 1.5])), 0, 255).astype(np.uint8)
    c = compare_files(write(tmp_path, "a.png", img.astype(np.uint8)), write(tmp_path, "b.png", drift))
    assert c.analysis.channel_order is None
    assert "colour channels" not in c.reason


def test_a_camera_shot_against_the_mean_of_its_shots_keeps_its_channels():
    c = compare_files(os.path.join(REAL, "polyu_Canon80D_8_8_3200_ball_1_real.jpg"),
                      os.path.join(REAL, "polyu_Canon80D_8_8_3200_ball_1_mean.jpg"))
    assert c.verdict in SAME_VERDICTS, c.reason
    assert c.analysis.channel_order is None
