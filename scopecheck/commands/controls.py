"""``controls``: list the controls a capture device offers (V4L2 via v4l2-ctl, OpenCV read-back, quirks)."""
from __future__ import annotations

import sys

from scopecheck.compare.errors import DeviceError

from .capture import add_device, open_camera
from .common import add_json, print_json


def run_controls(args) -> int:
    from scopecheck.capture.opencv import classify
    from scopecheck.capture.quirks import PROFILES, quirks_for
    from scopecheck.capture.v4l2 import V4L2Unavailable, list_controls

    doc = {"device": args.device, "v4l2": None, "v4l2_message": None, "opencv": None, "quirks": None}
    kind, _ = classify(args.device)
    if kind in ("index", "path") and sys.platform.startswith("linux") and args.backend in ("auto", "v4l2"):
        try:
            doc["v4l2"] = [c.to_json() for c in list_controls(args.device)]
        except (V4L2Unavailable, DeviceError) as e:
            doc["v4l2_message"] = str(e)
    cam = open_camera(args)
    with cam:
        info = cam.info
        prof = PROFILES.get(info.backend)
        doc["camera"] = info.to_json()
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


def register(sub) -> None:
    p = sub.add_parser("controls", help="list the controls a capture device offers",
                       description="V4L2 controls with ranges and flags via v4l2-ctl when present (keyed on "
                                   "control IDs), the values OpenCV reads back, and the backend's quirks.")
    add_device(p, formats=False)
    add_json(p)
    p.set_defaults(func=run_controls)
