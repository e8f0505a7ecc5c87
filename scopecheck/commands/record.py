"""``record``: save raw frames as a replayable recording."""
from __future__ import annotations

from .capture import add_device, log, open_camera
from .common import add_json, plural, print_json


def run_record(args) -> int:
    from scopecheck.capture.recording import record
    from scopecheck.capture.stack import parse_warmup

    warmup = parse_warmup(args.warmup)
    rec = record(open_camera(args), args.directory, frames=args.frames, warmup=warmup, log=log)
    if args.json:
        print_json(rec.to_json())
    else:
        note = "" if rec.settled else " (NOT SETTLED: the camera was still adjusting; marked in controls.json)"
        print(f"{plural(rec.frames, 'frame')} in {rec.directory} after {plural(rec.warmup_frames, 'warm-up frame')}{note}; "
              f"replay with --device {rec.pattern}")
    return 0


def register(sub) -> None:
    p = sub.add_parser("record", help="save raw frames as a replayable recording",
                       description="Warm up like capture (auto: until the brightness is stable), then save N "
                                   "frames as DIR/frame_%%04d.png plus DIR/controls.json; replay with --device "
                                   "DIR/frame_%%04d.png. A recording whose camera never settled is marked, and "
                                   "capturing from it warns.")
    add_device(p)
    p.add_argument("--frames", type=int, default=16, metavar="N", help="frames to save (default 16)")
    p.add_argument("--warmup", default="auto", metavar="N|auto",
                   help="frames discarded first, or auto: until brightness is stable (default auto)")
    p.add_argument("directory", metavar="DIR", help="directory for the recording (created if missing)")
    add_json(p)
    p.set_defaults(func=run_record)
