"""``scopecheck strip IN... (-o OUT | --in-place) [--json]``: remove all metadata, keep the pixels.

Parsing and rendering only; the work is :func:`compare.strip.strip_verified` (decode, strip
without re-encoding, decode again, refuse if the pixel digest changed) and
:func:`compare.atomic.write_atomic` (no-clobber or atomic replace).
"""
from __future__ import annotations

import os

from scopecheck.compare.atomic import write_atomic
from scopecheck.compare.errors import InputError, OutputExistsError, ScopecheckError
from scopecheck.compare.load import read_bytes
from scopecheck.compare.strip import strip_verified

from .common import add_json, add_max_pixels, err, print_json

HELP = "remove all metadata from JPEG/PNG files without re-encoding (pixels verified unchanged)"

DESCRIPTION = """\
Remove every metadata item (EXIF, XMP, ICC profile, JFIF, comments, PNG text/time/... chunks,
data after the image end). JPEG keeps its compressed data byte for byte (and the Adobe APP14
segment, which selects the colour transform); PNG keeps only IHDR, PLTE, tRNS, IDAT and IEND
(and an animated PNG's acTL, fcTL and fdAT: its frames). Each input is decoded before and after
(every frame): a file whose pixels would change is refused, nothing is
written. Outputs are never overwritten; --in-place replaces each input atomically, keeping its
permissions. Exit status: 0 all stripped, 2 any file refused or unreadable."""


def register(sub) -> None:
    p = sub.add_parser("strip", help=HELP, description=DESCRIPTION)
    p.add_argument("inputs", nargs="+", metavar="IN", help="JPEG or PNG files")
    where = p.add_mutually_exclusive_group(required=True)
    where.add_argument("-o", "--output", metavar="OUT",
                       help="output file (one input) or directory (several inputs; created if "
                            "missing); an existing directory also works for one input")
    where.add_argument("--in-place", action="store_true",
                       help="replace each input atomically (temporary file, fsync, rename)")
    add_json(p)
    add_max_pixels(p)
    p.set_defaults(func=run)


def _plan_outputs(inputs: list[str], output: str | None) -> list[str]:
    """Destination of each input; validates -o before any file is touched."""
    if output is None:
        return list(inputs)
    if len(inputs) == 1 and not os.path.isdir(output) and not output.endswith(os.sep):
        return [output]
    if os.path.lexists(output) and not os.path.isdir(output):
        raise InputError("with several inputs -o must be a directory, and this is a file", path=output)
    try:
        os.makedirs(output, exist_ok=True)
    except OSError as e:
        raise InputError(f"cannot create output directory: {e.strerror or e}", path=output) from None
    outs = [os.path.join(output, os.path.basename(os.path.normpath(i))) for i in inputs]
    seen: dict[str, str] = {}
    for i, o in zip(inputs, outs):
        if o in seen:
            raise InputError(f"{seen[o]!r} and {i!r} would both be written to {o!r}; "
                             "strip them in separate runs")
        seen[o] = i
    return outs


def _strip_one(path: str, output: str, *, in_place: bool, max_pixels: int, max_bytes: int) -> dict:
    if not in_place and os.path.lexists(output):  # fail before decoding; write_atomic re-checks
        raise OutputExistsError("already exists; not overwriting it (choose another -o, or use "
                                "--in-place to rewrite the input)", path=output)
    data = read_bytes(path, max_bytes=max_bytes)
    res = strip_verified(data, path=path, max_pixels=max_pixels, max_bytes=max_bytes)
    written = True
    if in_place:
        if res.changed:
            write_atomic(os.path.realpath(path), res.data, overwrite=True)
        else:
            written = False  # nothing to remove: leave the file (and its mtime) alone
    else:
        try:
            write_atomic(output, res.data, overwrite=False)
        except OutputExistsError:
            raise OutputExistsError("already exists; not overwriting it (choose another -o, or "
                                    "use --in-place to rewrite the input)", path=output) from None
    return {"path": path, "output": output, "removed": list(res.removed),
            "sha256_before": res.sha256_before, "sha256_after": res.sha256_after,
            "pixel_sha256": res.pixel_sha256, "format": res.format,
            "bytes_before": len(data), "bytes_after": len(res.data), "written": written}


def _summary(rec: dict) -> str:
    n = len(rec["removed"])
    what = f"removed {n} metadata entr{'y' if n == 1 else 'ies'}" if n else "no metadata to remove"
    where = rec["path"] if rec["path"] == rec["output"] else f"{rec['path']} -> {rec['output']}"
    if not rec["written"]:
        return f"{where}: {what}; left untouched"
    return (f"{where}: {what}; {rec['bytes_before']} -> {rec['bytes_after']} bytes; "
            f"pixels unchanged (pixel sha256 {rec['pixel_sha256'][:12]})")


def run(args) -> int:
    outputs = _plan_outputs(args.inputs, None if args.in_place else args.output)
    batch = len(args.inputs) > 1
    status = 0
    for path, output in zip(args.inputs, outputs):
        try:
            rec = _strip_one(path, output, in_place=args.in_place, max_pixels=args.max_pixels,
                             max_bytes=args.max_bytes)
        except ScopecheckError as e:
            if not batch:
                raise
            err("strip", str(e))
            if args.json:
                print_json({"path": path, "error": str(e)}, lines=True)
            status = max(status, e.exit_code)
            continue
        if args.json:
            print_json(rec, lines=batch)
        else:
            print(_summary(rec), flush=True)
    return status
