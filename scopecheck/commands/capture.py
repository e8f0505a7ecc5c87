"""``capture``: parse, call capture.session, render. Also the device and stacking options that
``controls``, ``calibrate``, ``record`` and ``preview`` share (defined once, here)."""
from __future__ import annotations

import os
import sys

from scopecheck.compare.errors import InputError, OutputExistsError

from .common import add_json, one_line, plural, print_json, refuse_inputs, same_file

_CONTROL_HELP = {
    "exposure": "auto, lock (default), auto-freeze, leave, or milliseconds",
    "white_balance": "auto, lock (default), auto-freeze, leave, or kelvin",
    "gain": "auto, lock (default), auto-freeze, leave, or a raw driver value",
    "focus": "auto, lock (default), leave, or a raw driver value",
}


def log(msg: str) -> None:
    print(f"scopecheck: {one_line(msg)}", file=sys.stderr)


def add_device(p, *, formats: bool = True):
    p.add_argument("--device", required=True, metavar="D",
                   help="camera index (0), device path (/dev/video2), a camera by name (name:Plugable) or USB id "
                        "(usb:046d:0825) as `scopecheck devices` lists them, a recording (dir/frame_%%04d.png or a "
                        "video file), or a simulated camera (sim, sim:msmf?seed=3)")
    p.add_argument("--backend", default="auto", choices=("auto", "v4l2", "dshow", "msmf", "avfoundation"),
                   help="OpenCV capture API for cameras (default auto)")
    if formats:
        p.add_argument("--size", metavar="WxH", help="frame size; width and height are always set together")
        p.add_argument("--fourcc", choices=("MJPG", "YUYV"), type=str.upper,
                       help="stream format (changing it restarts the stream)")
        p.add_argument("--fps", type=float, help="frame rate to request")


def add_stacking(p, *, frames_default: int = 16, depth: bool = True):
    p.add_argument("--frames", type=int, default=frames_default, metavar="N",
                   help=f"frames averaged per shot (default {frames_default})")
    p.add_argument("--warmup", default="auto", metavar="N|auto",
                   help="frames discarded first, or auto: until brightness is stable (default auto)")
    p.add_argument("--stack", default="mean", choices=("mean", "median"), help="how frames are combined")
    if depth:
        p.add_argument("--depth", type=int, default=8, choices=(8, 16),
                       help="output bits per sample; 16 keeps the precision the average gained")
    for name, h in _CONTROL_HELP.items():
        p.add_argument(f"--{name.replace('_', '-')}", default="lock", metavar="MODE", help=h)
    p.add_argument("--power-line", default="leave", choices=("leave", "off", "50", "60"),
                   help="anti-flicker filter, V4L2 cameras with v4l2-ctl only (default leave)")
    p.add_argument("--keep-settings", action="store_true",
                   help="leave changed camera settings in place on exit (UVC settings persist in the device)")


def open_camera(args):
    from scopecheck.capture.devices import open_device
    from scopecheck.capture.opencv import parse_size

    return open_device(args.device, backend=args.backend, size=parse_size(getattr(args, "size", None)),
                       fourcc=getattr(args, "fourcc", None), fps=getattr(args, "fps", None))


def options(args, **extra):
    from scopecheck.capture.controls import USER_CONTROLS, Request
    from scopecheck.capture.session import CaptureOptions
    from scopecheck.capture.stack import parse_warmup

    reqs = tuple(Request.parse(c, getattr(args, c)) for c in USER_CONTROLS)
    if any(r.control == "focus" and r.mode == "auto-freeze" for r in reqs):
        raise InputError("--focus auto-freeze: focus has no image loop here; use lock (the camera's autofocus "
                         "settles during warm-up, then is locked)")
    return CaptureOptions(frames=args.frames, warmup=parse_warmup(args.warmup), method=args.stack,
                          depth=getattr(args, "depth", 8), controls=reqs, keep_settings=args.keep_settings,
                          power_line=args.power_line, overwrite=getattr(args, "overwrite", False), **extra)


def controls_line(controls) -> str:
    return ", ".join(f"{c.control} {str(c.status)}" for c in controls)


def _refuse_inputs_as_outputs(args) -> None:
    """-o (and its manifest) and --save-settings never name --dark, --flat (or their manifests) or
    --settings, nor each other."""
    from scopecheck.capture.output import is_template, manifest_path_for

    outputs = [("--save-settings", args.save_settings)]
    if not is_template(args.output):
        outputs += [("-o", args.output), ("-o's manifest", manifest_path_for(args.output))]
        if args.save_settings and same_file(args.save_settings, manifest_path_for(args.output)):
            raise InputError("--save-settings names the manifest that -o writes; choose another file",
                             path=args.save_settings)
    inputs = [("--settings", args.settings)]
    for kind in ("dark", "flat"):
        ref = getattr(args, kind)
        if ref:
            inputs += [(f"--{kind}", ref), (f"--{kind}'s manifest", manifest_path_for(ref))]
    refuse_inputs(outputs, inputs)


def run_capture(args) -> int:
    from scopecheck.capture.output import check_output
    from scopecheck.capture.session import capture_series, check_series

    check_output(args.output)
    _refuse_inputs_as_outputs(args)
    check_series(args.count, args.interval)
    extra: dict = {"reconnect": args.reconnect}
    if args.settings:
        from scopecheck.capture.settings import load_settings

        extra["settings"] = load_settings(args.settings)
    if args.save_settings:
        if not args.save_settings.lower().endswith(".json"):
            raise InputError(f"--save-settings {args.save_settings!r}: a settings file is a .json file")
        if os.path.lexists(args.save_settings) and not args.overwrite:  # refuse before any frame is read
            raise OutputExistsError("already exists; not overwriting it (pass --overwrite to replace it)",
                                    path=args.save_settings)
        extra["save_settings"] = args.save_settings
    if args.dark or args.flat:
        from scopecheck.capture.flatfield import Correction

        extra["correction"] = Correction.from_files(dark=args.dark, flat=args.flat)
    opts = options(args, **extra)
    bad = []

    def show(shot):
        if not shot.settings_ok:
            bad.append(shot.path)
        if args.json:
            print_json(shot.to_json(), lines=args.count > 1)
            return
        noise = "" if shot.noise_stack is None else f", noise {shot.noise_stack:.2f} DN"
        print(f"{shot.width}x{shot.height}, {plural(shot.frames_stacked, 'frame')} stacked ({shot.frames_rejected} "
              f"rejected, {shot.warmup_frames} warm-up){noise}, pixel sha256 {shot.pixel_sha256[:16]}")
        print(f"  wrote {shot.path} (sha256 {shot.sha256[:16]}) and {shot.manifest_path}")
        print(f"  controls: {controls_line(shot.controls)}")
        m = shot.manifest
        if m.auto_freeze:
            print("  auto-freeze: " + ", ".join(f"{k} by the {v['loop']} loop" if v["loop"] != "none"
                                                 else f"{k} not frozen ({v['why']})" for k, v in m.auto_freeze.items()))
        if m.correction:
            used = [k for k in ("dark", "flat") if m.correction.get(k)]
            print(f"  corrected with {' and '.join(used)} ({', '.join(m.correction[k]['file'] for k in used)})")
        if m.settings is not None:
            reconnects = len(m.settings.get("reconnects", ()))
            state = "as saved" if shot.settings_ok else "MISMATCH (see the manifest's settings section)"
            print(f"  settings {m.settings.get('file')}: {state}"
                  + (f", {plural(reconnects, 'reconnect')} so far" if reconnects else ""))
        sys.stdout.flush()

    capture_series(open_camera(args), args.output, opts, count=args.count, interval=args.interval, log=log,
                   on_shot=show)
    if bad:
        log(f"{len(bad)} shot(s) taken with settings that differ from {args.settings}")
        return 1
    return 0


def register(sub) -> None:
    p = sub.add_parser("capture", help="take a repeatable stacked shot (lossless PNG + manifest)",
                       description="Warm up, lock exposure/white balance/gain/focus where the driver confirms "
                                   "it, average N frames and save a deterministic PNG with a JSON manifest. "
                                   "Never overwrites unless --overwrite. Exit 0 written, 1 written but the "
                                   "camera's settings differ from --settings, 2 trouble.")
    add_device(p)
    add_stacking(p)
    p.add_argument("-o", "--output", required=True, metavar="PNG",
                   help="output PNG, or a name template such as shot_{n:03d}.png (next free name)")
    p.add_argument("--overwrite", action="store_true", help="replace an existing output")
    p.add_argument("--count", type=int, default=1, metavar="K", help="take a series of K shots (needs a template)")
    p.add_argument("--interval", type=float, default=0.0, metavar="S", help="seconds between series shots")
    p.add_argument("--save-settings", metavar="JSON", help="store the values read back after locking")
    p.add_argument("--settings", metavar="JSON",
                   help="re-apply saved settings, check them after every shot and reconnect (mismatch: exit 1)")
    p.add_argument("--reconnect", type=int, default=3, metavar="N",
                   help="times to reopen a camera lost mid-series (default 3; 0: fail at once)")
    p.add_argument("--dark", metavar="PNG", help="dark reference (scopecheck calibrate --dark) to subtract")
    p.add_argument("--flat", metavar="PNG", help="flat reference (scopecheck calibrate --flat) to divide by")
    add_json(p)
    p.set_defaults(func=run_capture)
