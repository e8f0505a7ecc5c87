"""``capture``, ``controls``, ``calibrate``, ``record`` and ``preview``: parse, call capture.*, render."""
from __future__ import annotations

import os
import sys

from scopecheck.compare.errors import DeviceError, InputError

from .common import add_json, plural, print_json

_CONTROL_HELP = {
    "exposure": "auto, lock (default), leave, or milliseconds",
    "white_balance": "auto, lock (default), leave, or kelvin",
    "gain": "auto, lock (default), leave, or a raw driver value",
    "focus": "auto, lock (default), leave, or a raw driver value",
}


def _log(msg: str) -> None:
    print(f"scopecheck: {msg}", file=sys.stderr)


def _add_device(p, *, formats: bool = True):
    p.add_argument("--device", required=True, metavar="D",
                   help="camera index (0), device path (/dev/video2), recording (dir/frame_%%04d.png or a "
                        "video file), or a simulated camera (sim, sim:msmf?seed=3)")
    p.add_argument("--backend", default="auto", choices=("auto", "v4l2", "dshow", "msmf", "avfoundation"),
                   help="OpenCV capture API for cameras (default auto)")
    if formats:
        p.add_argument("--size", metavar="WxH", help="frame size; width and height are always set together")
        p.add_argument("--fourcc", choices=("MJPG", "YUYV"), type=str.upper,
                       help="stream format (changing it restarts the stream)")
        p.add_argument("--fps", type=float, help="frame rate to request")


def _add_stacking(p, *, frames_default: int = 16):
    p.add_argument("--frames", type=int, default=frames_default, metavar="N",
                   help=f"frames averaged per shot (default {frames_default})")
    p.add_argument("--warmup", default="auto", metavar="N|auto",
                   help="frames discarded first, or auto: until brightness is stable (default auto)")
    p.add_argument("--stack", default="mean", choices=("mean", "median"), help="how frames are combined")
    p.add_argument("--depth", type=int, default=8, choices=(8, 16),
                   help="output bits per sample; 16 keeps the precision the average gained")
    for name, h in _CONTROL_HELP.items():
        p.add_argument(f"--{name.replace('_', '-')}", default="lock", metavar="MODE", help=h)
    p.add_argument("--power-line", default="leave", choices=("leave", "off", "50", "60"),
                   help="anti-flicker filter, V4L2 cameras with v4l2-ctl only (default leave)")
    p.add_argument("--keep-settings", action="store_true",
                   help="leave changed camera settings in place on exit (UVC settings persist in the device)")


def _open(args):
    from scopecheck.capture.opencv import parse_size
    from scopecheck.capture.session import open_device

    return open_device(args.device, backend=args.backend, size=parse_size(getattr(args, "size", None)),
                       fourcc=getattr(args, "fourcc", None), fps=getattr(args, "fps", None))


def _options(args):
    from scopecheck.capture.controls import Request, USER_CONTROLS
    from scopecheck.capture.session import CaptureOptions
    from scopecheck.capture.stack import parse_warmup

    reqs = tuple(Request.parse(c, getattr(args, c)) for c in USER_CONTROLS)
    return CaptureOptions(frames=args.frames, warmup=parse_warmup(args.warmup), method=args.stack, depth=args.depth,
                          controls=reqs, keep_settings=args.keep_settings, power_line=args.power_line,
                          overwrite=getattr(args, "overwrite", False))


def _controls_line(controls) -> str:
    return ", ".join(f"{c.control} {c.status}" for c in controls)


# --------------------------------------------------------------------------- capture

def run_capture(args) -> int:
    from scopecheck.capture.session import capture_series, check_output

    check_output(args.output)
    options = _options(args)
    if args.count < 1:
        raise InputError(f"--count {args.count}: must be >= 1")
    if args.interval < 0:
        raise InputError(f"--interval {args.interval}: must be >= 0")

    def show(shot):
        if args.json:
            print_json(shot.summary(), lines=args.count > 1)
        else:
            noise = "" if shot.noise_stack is None else f", noise {shot.noise_stack:.2f} DN"
            print(f"{shot.width}x{shot.height}, {plural(shot.frames_stacked, 'frame')} stacked ({shot.frames_rejected} "
                  f"rejected, {shot.warmup_frames} warm-up){noise}, pixel sha256 {shot.pixel_sha256[:16]}")
            print(f"  wrote {shot.path} (sha256 {shot.sha256[:16]}) and {shot.manifest_path}")
            print(f"  controls: {_controls_line(shot.controls)}")
            sys.stdout.flush()

    capture_series(_open(args), args.output, options, count=args.count, interval=args.interval, log=_log,
                   on_shot=show)
    return 0


# --------------------------------------------------------------------------- controls

def run_controls(args) -> int:
    from scopecheck.capture.controls import PROFILES, quirks_for
    from scopecheck.capture.opencv import classify
    from scopecheck.capture.v4l2 import V4L2Unavailable, list_controls

    doc = {"device": args.device, "v4l2": None, "v4l2_message": None, "opencv": None, "quirks": None}
    kind, _ = classify(args.device)
    if kind in ("index", "path") and sys.platform.startswith("linux") and args.backend in ("auto", "v4l2"):
        try:
            doc["v4l2"] = [c.as_dict() for c in list_controls(args.device)]
        except V4L2Unavailable as e:
            doc["v4l2_message"] = str(e)
        except DeviceError as e:
            doc["v4l2_message"] = str(e)
    cam = _open(args)
    with cam:
        info = cam.info
        prof = PROFILES.get(info.backend)
        doc["camera"] = info.as_dict()
        doc["opencv"] = {name: cam.get(name) for name in sorted(prof.controls)} if prof else {}
        doc["quirks"] = quirks_for(info.backend)
    if args.json:
        print_json(doc)
        return 0
    print(f"{info.device}: {info.kind}, backend {info.backend} ({info.backend_name}), {info.width}x{info.height}, "
          f"fourcc {info.fourcc or '-'}, fps {info.fps or '-'}")
    if doc["v4l2"]:
        print("V4L2 controls (keyed on control ID; kernel names changed in Linux 5.16):")
        for c in doc["v4l2"]:
            rng = f"min={c['min']} max={c['max']} step={c['step']}" if c["min"] is not None else ""
            flags = f" flags={','.join(c['flags'])}" if c["flags"] else ""
            print(f"  {c['id']} {c['kernel_name']:<32} {c['type']:<7} {rng} default={c['default']} "
                  f"value={c['value']}{flags}" + (f"  [{c['name']}]" if c["name"] else ""))
    elif doc["v4l2_message"]:
        print(f"V4L2: {doc['v4l2_message']}")
    if doc["opencv"]:
        print("OpenCV read-back (raw backend values; None = not readable):")
        for k, v in doc["opencv"].items():
            print(f"  {k:<15} {v}")
    else:
        print(f"no controls through OpenCV on backend {info.backend}")
    for q in doc["quirks"]:
        print(f"  quirk [{q['backend']}/{q['control']}] {q['behaviour']} (source: {q['source']})")
    return 0


# --------------------------------------------------------------------------- calibrate / record

def run_calibrate(args) -> int:
    from scopecheck.capture.profile import calibrate, write_profile

    if not args.output.lower().endswith(".json"):
        raise InputError(f"-o {args.output!r}: a noise profile is a .json file")
    if os.path.lexists(args.output) and not args.overwrite:
        raise InputError(f"{args.output}: already exists; pass --overwrite to replace it")
    prof = calibrate(_open(args), _options(args), shots=args.shots, log=_log)
    doc = write_profile(prof, args.output, overwrite=args.overwrite)
    if args.json:
        print_json({"path": args.output, **doc})
    else:
        print(f"{args.output}: {prof.shots} shots of {prof.width}x{prof.height}: noise {prof.noise_sigma:.3f} DN per "
              f"shot, SSIM min {prof.ssim_min:.5f} median {prof.ssim_median:.5f}, dHash distance max "
              f"{prof.dhash_max} median {prof.dhash_median:g}")
    return 0


def run_record(args) -> int:
    from scopecheck.capture.session import record
    from scopecheck.capture.stack import parse_warmup

    rec = record(_open(args), args.directory, frames=args.frames, warmup=parse_warmup(args.warmup), log=_log)
    if args.json:
        print_json({"directory": rec.directory, "pattern": rec.pattern, "frames": rec.frames,
                    "controls": rec.controls_path})
    else:
        print(f"{plural(rec.frames, 'frame')} in {rec.directory}; replay with --device {rec.pattern}")
    return 0


# --------------------------------------------------------------------------- preview

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

    from scopecheck.capture.session import CaptureSession, check_output

    check_output(args.output)
    cam = _open(args)
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
                    with CaptureSession(cam, _options(args), log=_log) as s:
                        shot = s.shoot(args.output)
                    print(f"{shot.path}  sha256 {shot.sha256[:16]}  pixel sha256 {shot.pixel_sha256[:16]}")
                    return 0
        finally:
            cv2.destroyAllWindows()
    return 0


# --------------------------------------------------------------------------- registration

def register(sub) -> None:
    p = sub.add_parser("capture", help="take a repeatable stacked shot (lossless PNG + manifest)",
                       description="Warm up, lock exposure/white balance/gain/focus where the driver confirms "
                                   "it, average N frames and save a deterministic PNG with a JSON manifest. "
                                   "Never overwrites unless --overwrite.")
    _add_device(p)
    _add_stacking(p)
    p.add_argument("-o", "--output", required=True, metavar="PNG",
                   help="output PNG, or a name template such as shot_{n:03d}.png (next free name)")
    p.add_argument("--overwrite", action="store_true", help="replace an existing output")
    p.add_argument("--count", type=int, default=1, metavar="K", help="take a series of K shots (needs a template)")
    p.add_argument("--interval", type=float, default=0.0, metavar="S", help="seconds between series shots")
    add_json(p)
    p.set_defaults(func=run_capture)

    p = sub.add_parser("controls", help="list the controls a capture device offers",
                       description="V4L2 controls with ranges and flags via v4l2-ctl when present (keyed on "
                                   "control IDs), the values OpenCV reads back, and the backend's quirks.")
    _add_device(p, formats=False)
    add_json(p)
    p.set_defaults(func=run_controls)

    p = sub.add_parser("calibrate", help="measure shot-to-shot spread and write a device noise profile",
                       description="Take K shots of a still scene and write the noise profile that "
                                   "`scopecheck compare --profile` uses for its thresholds.")
    _add_device(p)
    _add_stacking(p)
    p.add_argument("--shots", type=int, default=5, metavar="K", help="number of shots (default 5)")
    p.add_argument("-o", "--output", required=True, metavar="JSON", help="profile file to write")
    p.add_argument("--overwrite", action="store_true", help="replace an existing profile")
    add_json(p)
    p.set_defaults(func=run_calibrate)

    p = sub.add_parser("record", help="save raw frames as a replayable recording",
                       description="Save N frames as DIR/frame_%04d.png plus DIR/controls.json; replay with "
                                   "--device DIR/frame_%04d.png.")
    _add_device(p)
    p.add_argument("--frames", type=int, default=16, metavar="N", help="frames to save (default 16)")
    p.add_argument("--warmup", default="0", metavar="N|auto", help="frames discarded first (default 0)")
    p.add_argument("directory", metavar="DIR", help="directory for the recording (created if missing)")
    add_json(p)
    p.set_defaults(func=run_record)

    p = sub.add_parser("preview", help="live view with focus measure and exposure histogram",
                       description="An OpenCV window with the live image, a focus measure (variance of the "
                                   "Laplacian), an exposure histogram with a clipping warning; space shoots "
                                   "(like capture), q quits. Needs a display.")
    _add_device(p)
    _add_stacking(p)
    p.add_argument("-o", "--output", default="shot_{n:03d}.png", metavar="PNG",
                   help="where the space key saves (default shot_{n:03d}.png)")
    p.add_argument("--overwrite", action="store_true", help="replace an existing output")
    p.set_defaults(func=run_preview)
