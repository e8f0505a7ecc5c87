"""compare.colour_mix: a hue or saturation edit is a change, a gain per channel (white balance) is not.

References: the mix recomputed here with a plain numpy formulation (``numpy.linalg.lstsq`` on the
same reduced pictures); literal verdicts. Pictures: scikit-image's IHC slide and astronaut (real
photographs), the CC15 and PolyU shots of ``fixtures/real`` (real camera noise).
"""
import os

import cv2
import numpy as np
import pytest
import skimage.data

from scopecheck.compare.colour_mix import MIX_MAX, mix
from scopecheck.compare.pair import compare_files
from tests.conftest import FIXTURES


def _hue(bgr: np.ndarray, degrees: float = 0.0, saturation: float = 1.0) -> np.ndarray:
    """Chroma rotated and scaled in YCrCb, luma kept."""
    y = cv2.cvtColor(bgr, cv2.COLOR_BGR2YCrCb).astype(np.float64)
    cr, cb, t = y[..., 1] - 128, y[..., 2] - 128, np.deg2rad(degrees)
    y[..., 1] = 128 + saturation * (cr * np.cos(t) - cb * np.sin(t))
    y[..., 2] = 128 + saturation * (cr * np.sin(t) + cb * np.cos(t))
    return cv2.cvtColor(np.clip(y + 0.5, 0, 255).astype(np.uint8), cv2.COLOR_YCrCb2BGR)


def _plain_mix(a: np.ndarray, b: np.ndarray) -> float:
    size = (256, round(256 * a.shape[0] / a.shape[1]))
    sa, sb = (cv2.GaussianBlur(cv2.resize(x, size, interpolation=cv2.INTER_AREA).astype(np.float32), (0, 0), 1.5)
              .reshape(-1, 3).astype(np.float64) for x in (a, b))
    out = []
    for c in range(3):
        own = np.column_stack([sa[:, c], np.ones(len(sa))])
        every = np.column_stack([sa, np.ones(len(sa))])
        v = [np.var(sb[:, c] - m @ np.linalg.lstsq(m, sb[:, c], rcond=None)[0]) for m in (own, every)]
        out.append((v[0] - v[1]) / max(v[1], 0.25))
    return max(out)


@pytest.fixture(scope="module")
def ihc():
    return cv2.cvtColor(skimage.data.immunohistochemistry(), cv2.COLOR_RGB2BGR)


@pytest.mark.parametrize("edit", [dict(degrees=60), dict(degrees=30), dict(saturation=0.5), dict(saturation=1.5)])
def test_a_stain_recoloured_at_the_same_brightness_is_a_change(ihc, tmp_path, edit):
    """Before: "near-identical: same field within noise" (exit 0) for all four."""
    b = _hue(ihc, **edit)
    cv2.imwrite(str(tmp_path / "a.png"), ihc)
    cv2.imwrite(str(tmp_path / "b.png"), b)
    c = compare_files(tmp_path / "a.png", tmp_path / "b.png")
    assert c.verdict == "different" and c.same_field
    assert c.reason.startswith("same field; colours changed: the ") and "a hue or saturation edit" in c.reason
    m, _ = mix(ihc, b)
    assert m > MIX_MAX and m == pytest.approx(_plain_mix(ihc, b), rel=1e-6)


def test_a_white_balance_is_no_colour_change(ihc, tmp_path):
    """A gain per channel (and an offset) is what a white balance or a display stretch makes: mixes nothing."""
    b = np.clip(ihc.astype(np.float64) * [0.8, 1.0, 1.15] + [3, 0, -2], 0, 255).round().astype(np.uint8)
    m, _ = mix(ihc, b)
    assert m < 1.0 and m == pytest.approx(_plain_mix(ihc, b), rel=1e-6, abs=1e-9)
    cv2.imwrite(str(tmp_path / "a.png"), ihc)
    cv2.imwrite(str(tmp_path / "b.png"), b)
    assert compare_files(tmp_path / "a.png", tmp_path / "b.png").verdict == "near-identical"


@pytest.mark.parametrize("pair", [("cc15_d800_iso3200_1_real.png", "cc15_d800_iso3200_1_mean.png"),
                                  ("polyu_Canon80D_8_8_3200_ball_1_real.jpg", "polyu_Canon80D_8_8_3200_ball_1_mean.jpg")])
def test_real_shots_against_their_means_mix_nothing(pair):
    a, b = (cv2.imread(os.path.join(FIXTURES, "real", p)) for p in pair)
    m, _ = mix(a, b)
    assert m < MIX_MAX / 3
    assert compare_files(*(os.path.join(FIXTURES, "real", p) for p in pair)).verdict == "near-identical"


def test_a_gray_side_or_a_far_shift_is_not_judged(ihc):
    gray = cv2.cvtColor(cv2.cvtColor(ihc, cv2.COLOR_BGR2GRAY), cv2.COLOR_GRAY2BGR)
    assert mix(ihc, gray) is None and mix(gray, ihc) is None
    assert mix(ihc, ihc[..., 0]) is None
    assert mix(ihc, ihc, shift=(5.0, 0.0)) is None
    assert mix(ihc, ihc)[0] == pytest.approx(0.0, abs=1e-6)
