"""The frozen Manifest and its one to_json; control statuses as a str Enum (issue 8 E)."""
from __future__ import annotations

import dataclasses
import json
import os

import pytest

from scopecheck.capture.controls import ControlOutcome, ControlStatus
from scopecheck.capture.manifest import MANIFEST_KIND, Manifest, read_manifest
from scopecheck.capture.opencv import OpenCVCamera
from scopecheck.capture.session import CaptureOptions, capture
from scopecheck.compare.errors import InputError
from tests.conftest import FIXTURES

STILL_A = os.path.join(FIXTURES, "recordings", "ihc_still_a", "frame_%04d.png")


def test_manifest_is_frozen_deeply_and_round_trips(tmp_path):
    shot = capture(OpenCVCamera(STILL_A), str(tmp_path / "s.png"), CaptureOptions(frames=2, warmup=0))
    m = shot.manifest
    with pytest.raises(dataclasses.FrozenInstanceError):
        m.image = {}  # type: ignore[misc]
    with pytest.raises(TypeError):
        m.image["file"] = "other.png"  # type: ignore[index]
    on_disk = json.loads((tmp_path / "s.manifest.json").read_text())
    assert on_disk == m.to_json() and on_disk["kind"] == MANIFEST_KIND
    assert read_manifest(str(tmp_path / "s.manifest.json")) == m
    assert m.with_file("t.png").image["file"] == "t.png" and m.image["file"] == "s.png"
    assert all(k not in on_disk for k in ("settings", "correction", "auto_freeze", "reference"))  # unused: absent


def test_control_status_is_a_str_enum_everywhere():
    o = ControlOutcome("exposure", "lock", "locked")
    assert o.status is ControlStatus.LOCKED and o.status == "locked" and isinstance(o.status, str)
    assert json.dumps(o.to_json()["status"]) == '"locked"'
    with pytest.raises(ValueError):
        ControlOutcome("exposure", "lock", "maybe")


def test_read_manifest_refuses_other_json(tmp_path):
    p = tmp_path / "x.manifest.json"
    p.write_text('{"kind": "something-else"}')
    with pytest.raises(InputError, match="not a scopecheck capture manifest"):
        read_manifest(str(p))
    p.write_text("[1, 2")
    with pytest.raises(InputError, match="not JSON"):
        read_manifest(str(p))
    assert Manifest.from_json({"kind": MANIFEST_KIND, "image": {}, "device": {}}).controls == ()
