"""Cameras by name or USB id: the enumerator mocked at its boundary, the sysfs fallback on a fake tree."""
from __future__ import annotations

import json
import os

import cv2_enumerate_cameras as ce
import pytest

from scopecheck.capture import devices, opencv
from scopecheck.capture.devices import DeviceEntry, find_camera, list_cameras, open_device
from scopecheck.compare.errors import DeviceError, InputError


def _fake(index, name, path, vid, pid, backend=200):
    return ce.CameraInfo(index, name, path, vid, pid, backend)


@pytest.fixture
def two_cameras(monkeypatch):
    listed = [_fake(0, "Integrated Camera: Integrated C", "/dev/video0", 0x04F2, 0xB6D9),
              _fake(2, "Plugable USB 2.0 Digital Microscope", "/dev/video2", 0x0AC8, 0x3420)]
    calls = []

    def enumerate_cameras(api):
        calls.append(api)
        return listed if api == 200 else []

    monkeypatch.setattr(ce, "enumerate_cameras", enumerate_cameras)
    monkeypatch.setattr(ce, "supported_backends", (1800, 200))
    return calls


def test_enumerator_entries_become_device_entries(two_cameras):
    cams = list_cameras(platform="linux")
    assert two_cameras == [200]  # V4L2 only on Linux (GStreamer would list the same cameras twice)
    assert [c.to_json() for c in cams][1] == {"name": "Plugable USB 2.0 Digital Microscope", "usb": "0ac8:3420",
                                               "path": "/dev/video2", "backend": "v4l2", "index": 2,
                                               "source": "cv2-enumerate-cameras"}


def test_find_by_name_and_usb_id(two_cameras):
    cams = list_cameras(platform="linux")
    assert find_camera("name:plugable", cams).index == 2
    assert find_camera("usb:0AC8:3420", cams).path == "/dev/video2"
    with pytest.raises(DeviceError, match=r"no camera with a name containing 'Dino'.*Plugable"):
        find_camera("name:Dino", cams)
    with pytest.raises(DeviceError, match="2 cameras with a name containing 'CAMERA'"):
        find_camera("name:CAMERA", cams + [DeviceEntry("Another camera", None, None, "/dev/video4", "v4l2", 4, "x")])
    with pytest.raises(InputError, match="usb:VVVV:PPPP"):
        find_camera("usb:12:34", cams)


def test_open_by_name_opens_the_listed_path(two_cameras, monkeypatch):
    opened = []

    class Fake:
        def __init__(self, target, **kw):
            opened.append((target, kw["backend"]))

    monkeypatch.setattr(opencv, "OpenCVCamera", Fake)
    cam = open_device("name:Plugable")
    assert opened == [("/dev/video2", "v4l2")]
    assert cam.selected["usb"] == "0ac8:3420" and cam.selected["spec"] == "name:Plugable"


def test_no_camera_is_an_empty_list(monkeypatch):
    monkeypatch.setattr(ce, "enumerate_cameras", lambda api: [])
    assert list_cameras(platform="linux") == []
    with pytest.raises(DeviceError, match="cameras: none"):
        open_device("usb:0ac8:3420", lister=lambda: [])


def _sysfs(root, n, name, vid=None, pid=None, index="0"):
    node = root / "class" / f"video{n}"
    usbdev = root / "devices" / f"usb{n}"
    iface = usbdev / f"1-{n}:1.0"
    iface.mkdir(parents=True)
    if vid:
        (usbdev / "idVendor").write_text(vid + "\n")
        (usbdev / "idProduct").write_text(pid + "\n")
    node.mkdir(parents=True)
    (node / "name").write_text(name + "\n")
    (node / "index").write_text(index + "\n")
    os.symlink(iface, node / "device")


def test_sysfs_fallback_when_the_package_fails(tmp_path, monkeypatch):
    def broken(api):
        raise OSError("ioctl failed")

    monkeypatch.setattr(ce, "enumerate_cameras", broken)
    _sysfs(tmp_path, 0, "Plugable Microscope", "0ac8", "3420")
    _sysfs(tmp_path, 1, "Plugable Microscope", "0ac8", "3420", index="1")  # metadata node: skipped
    _sysfs(tmp_path, 10, "Virtual cam")
    cams = list_cameras(platform="linux", sysfs_root=str(tmp_path / "class"))
    assert [(c.index, c.usb_id, c.path, c.source) for c in cams] == [
        (0, "0ac8:3420", "/dev/video0", "sysfs"), (10, None, "/dev/video10", "sysfs")]


def test_cli_devices_json_lists_cameras_and_empty_exits_0(monkeypatch, capsys):
    from scopecheck import cli

    monkeypatch.setattr(devices, "list_cameras", lambda: [])
    assert cli.main(["devices", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {"cameras": []}
    monkeypatch.setattr(devices, "list_cameras",
                        lambda: [DeviceEntry("Plugable", 0x0AC8, 0x3420, "/dev/video2", "v4l2", 2, "sysfs")])
    assert cli.main(["devices"]) == 0
    out = capsys.readouterr().out
    assert "0ac8:3420" in out and "/dev/video2" in out and "Plugable" in out


def test_windows_lists_each_camera_once_from_the_first_backend_that_sees_it(monkeypatch):
    seen = {1400: [_fake(0, "Plugable", "\\\\?\\usb#vid_0ac8&pid_3420", 0x0AC8, 0x3420, 1400)],
            700: [_fake(0, "Plugable", "\\\\?\\usb#vid_0ac8&pid_3420", 0x0AC8, 0x3420, 700)]}
    monkeypatch.setattr(ce, "supported_backends", (1400, 700))
    monkeypatch.setattr(ce, "enumerate_cameras", lambda api: seen[api])
    assert [(c.backend, c.index) for c in list_cameras(platform="win32")] == [("msmf", 0)]
    seen[1400] = []
    assert [(c.backend, c.index) for c in list_cameras(platform="win32")] == [("dshow", 0)]


def test_readme_listing_is_what_devices_prints(monkeypatch, capsys):
    from scopecheck import cli
    from tests.conftest import ROOT

    monkeypatch.setattr(devices, "list_cameras", lambda: [
        DeviceEntry("Integrated Camera: Integrated C", 0x04F2, 0xB6D9, "/dev/video0", "v4l2", 0, "test"),
        DeviceEntry("Plugable USB 2.0 Digital Microscope", 0x0AC8, 0x3420, "/dev/video2", "v4l2", 2, "test")])
    assert cli.main(["devices"]) == 0
    shown = "\n".join("    " + line for line in capsys.readouterr().out.splitlines())
    assert shown in open(os.path.join(ROOT, "README.md"), encoding="utf-8").read()


def test_an_absurdly_long_name_is_refused_without_echoing_it():
    from scopecheck.capture.devices import find_camera
    from scopecheck.compare.errors import InputError

    with pytest.raises(InputError) as e:
        find_camera("name:" + "x" * 100_000, [])
    assert len(str(e.value)) < 200


@pytest.mark.parametrize("kw", [{"fps": 0.0}, {"fps": 30.0}, {"fourcc": "MJPG"}, {"backend": "v4l2"}])
def test_stream_options_do_not_apply_to_the_simulated_camera(kw):
    """``--fps 0`` was taken (0 is false) while ``--fps -1`` was refused."""
    with pytest.raises(InputError, match="do not apply to a simulated device"):
        open_device("sim", **kw)
