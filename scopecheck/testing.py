"""pytest plugin: test capture pipelines without a device, against baseline shots.

Registered through the ``pytest11`` entry point, so installing scopecheck makes it available in any
pytest run (``-p no:scopecheck`` turns it off). It provides

* the ``replay_camera`` fixture: ``replay_camera(recording)`` opens a recording (a directory of
  ``frame_%04d.png`` written by ``scopecheck record``, or a pattern or video file) through the real
  ``cv2.VideoCapture`` path, and closes it after the test;
* :func:`assert_same_capture`: compares a shot with its baseline using ``scopecheck compare``'s
  verdicts (``identical-file`` < ``identical-pixels`` < ``near-identical`` < ``different``) and
  passes when the verdict is no worse than ``allow``. On failure it writes the side-by-side sheet
  (``<shot>.sheet.png``) and the 1 - SSIM heat map (``<shot>.diff.png``) beside the shot, and the
  assertion message carries the verdict, the reason and those two paths;
* ``--scopecheck-update``: rewrite the baselines from the shots instead of comparing (as
  pytest-mpl's ``--mpl-generate-path`` and syrupy's ``--snapshot-update`` do). A missing
  baseline fails with a message that names the option.

Example (``examples/test_capture_baseline.py``, also in the README)::

    import os

    from scopecheck.capture.session import CaptureOptions, capture
    from scopecheck.testing import assert_same_capture

    HERE = os.path.dirname(os.path.abspath(__file__))


    def test_stage_field_is_unchanged(replay_camera, tmp_path):
        camera = replay_camera(os.path.join(HERE, "recordings", "field"))
        shot = capture(camera, str(tmp_path / "field.png"), CaptureOptions(frames=8, warmup=0))
        assert_same_capture(shot.path, os.path.join(HERE, "baselines", "field.png"))
"""
from __future__ import annotations

# Loaded into every pytest run of an environment that has scopecheck installed: import nothing
# heavy here (numpy, OpenCV and the comparison load when a test first uses the plugin).
import os
import shutil

import pytest

_UPDATE = {"on": False}
_SAVED: list[bool] = []  # nested pytest runs (pytester) restore the outer run's setting


def pytest_addoption(parser):
    group = parser.getgroup("scopecheck", "scopecheck capture baselines")
    group.addoption("--scopecheck-update", action="store_true", default=False,
                    help="rewrite scopecheck baselines from the shots instead of comparing them")


def pytest_configure(config):
    _SAVED.append(_UPDATE["on"])
    _UPDATE["on"] = bool(config.getoption("--scopecheck-update", default=False))


def pytest_unconfigure(config):
    if _SAVED:
        _UPDATE["on"] = _SAVED.pop()


def _recording_pattern(path: str) -> str:
    p = os.fspath(path)
    if os.path.isdir(p):
        return os.path.join(p, "frame_%04d.png")
    return p


@pytest.fixture
def replay_camera():
    """``replay_camera(recording, **options)`` -> an opened :class:`~capture.opencv.OpenCVCamera`."""
    from scopecheck.capture.opencv import OpenCVCamera

    opened = []

    def factory(recording, **options):
        cam = OpenCVCamera(_recording_pattern(recording), **options)
        opened.append(cam)
        return cam

    yield factory
    for cam in opened:
        cam.close()


def _write_pictures(actual: str, expected: str, comparison) -> tuple[str, str]:
    from scopecheck.compare.pictures import comparison_sheet, diff_picture, save_png

    root, _ = os.path.splitext(actual)
    sheet, diff = root + ".sheet.png", root + ".diff.png"
    c = comparison
    if c.ssim_map is None:  # equal pixels (a stricter allow failed on file bytes): nothing to draw
        return "(not drawn: the pixels are equal)", "(not drawn: the pixels are equal)"
    save_png(diff, diff_picture(c.ssim_map), overwrite=True)
    save_png(sheet, comparison_sheet(c, a_name=actual, b_name=expected), overwrite=True)
    return sheet, diff


def assert_same_capture(actual, expected, *, profile=None, allow: str = "near-identical"):
    """Assert that shot ``actual`` matches baseline ``expected`` at least as well as ``allow``.

    Parameters
    ----------
    actual, expected : str or os.PathLike
        The shot just taken and its baseline image.
    profile : str or os.PathLike, optional
        A device noise profile (``scopecheck calibrate``) whose noise sets the tolerance, as
        ``scopecheck compare --profile``.
    allow : str
        The worst verdict that passes: ``identical-file``, ``identical-pixels`` or
        ``near-identical`` (default).

    Returns the comparison (``None`` when the baseline was written by ``--scopecheck-update``).
    """
    from scopecheck.compare.noise_profile import load_profile
    from scopecheck.compare.pair import VERDICTS, Thresholds, compare_files

    if allow not in VERDICTS[:3]:
        raise ValueError(f"allow={allow!r}: use one of {', '.join(VERDICTS[:3])}")
    actual, expected = os.fspath(actual), os.fspath(expected)
    if not os.path.isfile(actual):
        raise AssertionError(f"no shot at {actual}")
    if _UPDATE["on"]:
        os.makedirs(os.path.dirname(os.path.abspath(expected)), exist_ok=True)
        shutil.copyfile(actual, expected)
        return None
    if not os.path.isfile(expected):
        raise AssertionError(f"no baseline at {expected}; run pytest --scopecheck-update to write it from {actual}")
    thresholds = Thresholds(noise_sigma=load_profile(profile).noise_sigma) if profile else Thresholds()
    c = compare_files(actual, expected, thresholds=thresholds, want_map=True)
    if VERDICTS.index(c.verdict) <= VERDICTS.index(allow):
        return c
    sheet, diff = _write_pictures(actual, expected, c)
    raise AssertionError(f"capture {c.verdict} (allowed: {allow}): {c.reason}\n"
                         f"  shot {actual}\n  baseline {expected}\n  sheet {sheet}\n  diff {diff}\n"
                         "  (run pytest --scopecheck-update to accept the shot as the new baseline)")


__all__ = ["assert_same_capture", "replay_camera"]
