"""``calibrate``: a device noise profile (JSON), or a dark/flat reference (16-bit PNG + manifest)."""
from __future__ import annotations

import os

from scopecheck.compare.errors import InputError

from .capture import add_device, add_stacking, controls_line, log, open_camera, options
from .common import add_json, plural, print_json


def run_calibrate(args) -> int:
    if args.dark or args.flat:
        return _reference(args, "dark" if args.dark else "flat")
    from scopecheck.capture.profile import calibrate, write_profile

    if not args.output.lower().endswith(".json"):
        raise InputError(f"-o {args.output!r}: a noise profile is a .json file (a .png needs --dark or --flat)")
    if os.path.lexists(args.output) and not args.overwrite:
        raise InputError(f"{args.output}: already exists; pass --overwrite to replace it")
    prof = calibrate(open_camera(args), options(args), shots=args.shots, log=log)
    doc = write_profile(prof, args.output, overwrite=args.overwrite)
    if args.json:
        print_json({"path": args.output, **doc})
    else:
        print(f"{args.output}: {prof.shots} shots of {prof.width}x{prof.height}: noise {prof.noise_sigma:.3f} DN per "
              f"shot, SSIM min {prof.ssim_min:.5f} median {prof.ssim_median:.5f}, dHash distance max "
              f"{prof.dhash_max} median {prof.dhash_median:g}")
    return 0


def _reference(args, kind: str) -> int:
    from scopecheck.capture.flatfield import make_reference
    from scopecheck.capture.output import check_output

    if not args.output.lower().endswith(".png"):
        raise InputError(f"-o {args.output!r}: a {kind} reference is a .png file")
    check_output(args.output)
    args.depth = 16
    shot = make_reference(open_camera(args), args.output, kind, options(args), log=log)
    if args.json:
        print_json(shot.to_json())
    else:
        print(f"{kind} reference {shot.path}: {shot.width}x{shot.height}, {plural(shot.frames_stacked, 'frame')} stacked, "
              f"16-bit, pixel sha256 {shot.pixel_sha256[:16]}; manifest {shot.manifest_path}")
        print(f"  controls: {controls_line(shot.controls)}")
    return 0


def register(sub) -> None:
    p = sub.add_parser("calibrate", help="write a device noise profile, or a dark/flat reference",
                       description="Take K shots of a still scene and write the noise profile that "
                                   "`scopecheck compare --profile` uses for its thresholds; or, with --dark (lens "
                                   "capped) or --flat (blank, evenly lit field), stack a 16-bit reference PNG with "
                                   "its manifest for `capture --dark/--flat`.")
    add_device(p)
    add_stacking(p, depth=False)
    kind = p.add_mutually_exclusive_group()
    kind.add_argument("--dark", action="store_true", help="write a dark reference (-o dark.png)")
    kind.add_argument("--flat", action="store_true", help="write a flat-field reference (-o flat.png)")
    p.add_argument("--shots", type=int, default=5, metavar="K", help="number of shots for a noise profile (default 5)")
    p.add_argument("-o", "--output", required=True, metavar="FILE",
                   help="profile .json to write, or the reference .png with --dark/--flat")
    p.add_argument("--overwrite", action="store_true", help="replace an existing output")
    add_json(p)
    p.set_defaults(func=run_calibrate)
