"""A region where A holds no object, only a slope of light (a vignetted corner), which B holds at
another level, is the illumination's falloff that changed -- not "1 object dimmed by up to 58 %",
as split 6's consecutive flat-field shots read until session 28 (compare.changes.plane_share).

References: closed forms (a plane explains all of a plane's variance and none of a centred
parabola's), and the change the test imposes, measured in plain numpy over the reported box."""
from __future__ import annotations

import os

import cv2
import numpy as np

import scopecheck.compare.changes as changes
from scopecheck.compare.changes import SHADING_PLANE, plane_share
from scopecheck.compare.pair import compare_arrays

REAL = os.path.join(os.path.dirname(__file__), "..", "..", "fixtures", "real")


def test_a_plane_is_all_slope_and_a_nucleus_is_not():
    v, u = np.mgrid[0:20, 0:30].astype(np.float64)
    assert abs(plane_share(5 + 0.3 * u - 0.2 * v) - 1.0) < 1e-9
    assert plane_share((u - 14.5) ** 2 + (v - 9.5) ** 2) < 1e-6  # symmetric: no plane in it
    assert plane_share(np.ones((2, 3))) == 0.0                      # too few samples
    nuclei = cv2.imread(os.path.join(REAL, "neubias_mitocheck_hela_t16.png"), cv2.IMREAD_GRAYSCALE)
    y, x = np.unravel_index(np.argmax(cv2.GaussianBlur(nuclei, (0, 0), 3)), nuclei.shape)
    assert plane_share(nuclei[max(0, y - 12):y + 12, max(0, x - 12):x + 12]) < SHADING_PLANE  # a real nucleus


def _flat_fields(change: float, seed: int = 28):
    """A flat target seen twice through a lens whose falloff reaches 35 % at the corners; in B the
    lamp moved towards the top-left corner: ``change`` more light there, fading over a Gaussian of
    250 px. Noise 1.5 levels a shot."""
    rng = np.random.default_rng(seed)
    h = w = 384
    v, u = np.mgrid[0:h, 0:w].astype(np.float32)
    r2 = ((u - w / 2) ** 2 + (v - h / 2) ** 2) / ((w / 2) ** 2 + (h / 2) ** 2)
    a_clean = 150 * (1 - 0.35 * r2)
    b_clean = a_clean * (1 + change * np.exp(-(u ** 2 + v ** 2) / (2 * 250.0 ** 2)))
    shots = [np.clip(np.rint(x + rng.normal(0, 1.5, x.shape)), 0, 255).astype(np.uint8) for x in (a_clean, b_clean)]
    return (a_clean, b_clean), shots


def test_a_changed_falloff_reads_as_illumination_not_an_object(monkeypatch):
    (a_clean, b_clean), (a, b) = _flat_fields(0.18)
    c = compare_arrays(a, b)
    assert c.verdict == "different" and c.same_field, c.reason
    assert "illumination changed: B" in c.reason and "object" not in c.reason, c.reason
    shaded = [r for r in c.analysis.regions if r.kind == "shading"]
    assert shaded and not [r for r in c.analysis.regions if r.kind in ("dimmed", "brightened")]
    r = shaded[0]
    box = (slice(r.y, r.y + r.height), slice(r.x, r.x + r.width))
    want = float(b_clean[box].mean() / a_clean[box].mean()) - 1.0  # before the frame's gain is fitted
    assert 0 < r.intensity < want + 0.02, (r.intensity, want)  # brighter; the gain fit takes a part
    monkeypatch.setattr(changes, "SHADING_PLANE", 2.0)  # without the rule: "an object" brightened or dimmed
    assert "object" in compare_arrays(a, b).reason


def test_the_same_falloff_is_the_same_field():
    _, (a, b) = _flat_fields(0.0)
    c = compare_arrays(a, b)
    assert c.verdict in ("near-identical", "identical-pixels"), c.reason
