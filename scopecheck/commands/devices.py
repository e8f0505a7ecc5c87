"""``devices``: the cameras this machine lists, with the names ``--device name:...``/``usb:...`` match."""
from __future__ import annotations

from .common import add_json, print_json


def run_devices(args) -> int:
    from scopecheck.capture.devices import list_cameras

    cams = list_cameras()
    if args.json:
        print_json({"cameras": [c.to_json() for c in cams]})
        return 0
    if not cams:
        print("no cameras found")
        return 0
    print(f"{'index':>5}  {'usb':9}  {'backend':8}  {'path':14}  name")
    for c in cams:
        print(f"{c.index:>5}  {c.usb_id or '-':9}  {c.backend:8}  {c.path or '-':14}  {c.name}")
    return 0


def register(sub) -> None:
    p = sub.add_parser("devices", help="list cameras by name, USB id, path, backend and OpenCV index",
                       description="List the cameras this machine offers (through cv2-enumerate-cameras; on Linux "
                                   "/sys/class/video4linux when that is unavailable). Open one with --device "
                                   "name:PART-OF-NAME or --device usb:VVVV:PPPP. No camera: an empty list, exit 0.")
    add_json(p)
    p.set_defaults(func=run_devices)
