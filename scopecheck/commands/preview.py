"""``preview``: a live window with focus measure, exposure histogram and clipping warning; space shoots."""
from __future__ import annotations

import os
import sys

from scopecheck.compare.errors import DeviceError

from .capture import add_device, add_stacking, log, open_camera, options
from .common import add_json, print_json


def has_display() -> bool:
    if sys.platform.startswith("linux"):
        return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
    return True


def render_preview(frame):
    """The preview picture: the frame (8-bit BGR) with the focus measure, an exposure histogram
    in the bottom-right corner and a clipping warning. Returns ``(image, focus, (low, high))``."""
    import cv2
    import numpy as np

    from scopecheck.capture.stack import clipping, focus_measure

    view = frame if frame.ndim == 3 else cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR)
    if view.dtype == np.uint16:
        view = (view / 257.0).round().astype(np.uint8)
    view = view.copy()
    gray = cv2.cvtColor(view, cv2.COLOR_BGR2GRAY)
    hist = cv2.calcHist([gray], [0], None, [64], [0, 256]).ravel()
    h, w = view.shape[:2]
    hh, hw = max(24, h // 5), max(64, w // 3)
    hist = hist / max(float(hist.max()), 1.0) * (hh - 2)
    x0, y0 = max(0, w - hw - 4), max(0, h - hh - 4)
    cv2.rectangle(view, (x0, y0), (x0 + hw, y0 + hh), (0, 0, 0), -1)
    for i, v in enumerate(hist):
        x = x0 + int(i * hw / 64)
        cv2.line(view, (x, y0 + hh), (x, y0 + hh - int(v)), (255, 255, 255), max(1, hw // 64))
    focus = focus_measure(frame)
    lo, hi = clipping(frame)
    cv2.putText(view, f"focus {focus:.0f}", (8, 24), cv2.FONT_HERSHEY_SIMPLEX, 0.6, (0, 255, 0), 2)
    if lo > 0.005 or hi > 0.005:
        cv2.putText(view, f"CLIPPING: {100 * lo:.1f}% black, {100 * hi:.1f}% white", (8, 48),
                    cv2.FONT_HERSHEY_SIMPLEX, 0.6, (0, 0, 255), 2)
    return view, focus, (lo, hi)


def run_preview(args) -> int:
    if not has_display():
        raise DeviceError("no display: $DISPLAY and $WAYLAND_DISPLAY are unset; preview needs a desktop "
                          "session (use scopecheck capture to take shots without one)")
    import cv2

    from scopecheck.capture.output import check_output
    from scopecheck.capture.session import CaptureSession

    check_output(args.output)
    cam = open_camera(args)
    window = "scopecheck preview (space: shoot, q/Esc: quit)"
    with cam:
        try:
            cv2.namedWindow(window, cv2.WINDOW_NORMAL)
        except cv2.error as e:
            raise DeviceError(f"cannot open a window: {str(e).strip().splitlines()[-1]}") from None
        try:
            while True:
                view, _, _ = render_preview(cam.read())
                cv2.imshow(window, view)
                key = cv2.waitKey(1) & 0xFF
                if key in (ord("q"), 27):
                    break
                if key == ord(" "):
                    with CaptureSession(cam, options(args), log=log) as s:
                        shot = s.shoot(args.output)
                    if args.json:
                        print_json(shot.to_json())
                    else:
                        print(f"{shot.path}  sha256 {shot.sha256[:16]}  pixel sha256 {shot.pixel_sha256[:16]}")
                    return 0
        finally:
            cv2.destroyAllWindows()
    return 0


def register(sub) -> None:
    p = sub.add_parser("preview", help="live view with focus measure and exposure histogram",
                       description="An OpenCV window with the live image, a focus measure (variance of the "
                                   "Laplacian), an exposure histogram with a clipping warning; space shoots "
                                   "(like capture), q quits. Needs a display.")
    add_device(p)
    add_stacking(p)
    p.add_argument("-o", "--output", default="shot_{n:03d}.png", metavar="PNG",
                   help="where the space key saves (default shot_{n:03d}.png)")
    p.add_argument("--overwrite", action="store_true", help="replace an existing output")
    add_json(p)
    p.set_defaults(func=run_preview)
