"""A capture regression test you can copy: replay a recording, shoot, compare with a baseline.

Layout beside this file: ``recordings/field/frame_0000.png ...`` (made once with
``scopecheck record --device 0 recordings/field``) and ``baselines/field.png`` (made by
``pytest --scopecheck-update``). On failure the sheet and the diff are written beside the shot
and the assertion message gives the verdict and the reason.
"""
import os

from scopecheck.capture.session import CaptureOptions, capture
from scopecheck.testing import assert_same_capture

HERE = os.path.dirname(os.path.abspath(__file__))


def test_stage_field_is_unchanged(replay_camera, tmp_path):
    camera = replay_camera(os.path.join(HERE, "recordings", "field"))
    shot = capture(camera, str(tmp_path / "field.png"), CaptureOptions(frames=8, warmup=0))
    assert_same_capture(shot.path, os.path.join(HERE, "baselines", "field.png"))
