"""Every capture module documents itself, and its docstring examples run."""
from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = ["camera", "controls", "opencv", "simulated", "stack", "png", "session", "profile", "v4l2", "sensor"]


@pytest.mark.parametrize("name", MODULES)
def test_module_docstring_and_examples(name):
    mod = importlib.import_module(f"scopecheck.capture.{name}")
    assert mod.__doc__ and len(mod.__doc__) > 200, name
    failures, _ = doctest.testmod(mod, optionflags=doctest.ELLIPSIS)
    assert failures == 0


def test_profile_docstring_documents_every_key():
    import os

    from scopecheck.capture import profile
    from scopecheck.capture.opencv import OpenCVCamera
    from scopecheck.capture.session import CaptureOptions

    rec = os.path.join(os.path.dirname(__file__), "..", "..", "fixtures", "recordings", "ihc_still_a", "frame_%04d.png")
    doc = profile.calibrate(OpenCVCamera(rec), CaptureOptions(frames=1, warmup=0), shots=2).to_json()
    from scopecheck.compare import noise_profile  # the one NoiseProfile documents its JSON
    for key in doc:
        assert f"``{key}``" in noise_profile.__doc__, key
