"""`scopecheck compare`: are two shots the same? One pair, or a batch with --pairs."""
from __future__ import annotations

import os
import stat
import sys

from scopecheck.compare.errors import InputError, ScopecheckError
from scopecheck.compare.noise_profile import load_profile
from scopecheck.compare.pair import Thresholds, compare_files, stored_dn
from scopecheck.compare.pictures import comparison_sheet, diff_picture, picture_format, save_picture
from scopecheck.compare.stacks import page_ranges, pages_words
from scopecheck.compare.verdict import noise_text

from .common import (
    Progress,
    add_hash_size,
    add_json,
    add_max_pixels,
    add_overwrite,
    check_output,
    plural,
    print_json,
    reader_gone,
    save_output,
)

DEFAULTS = Thresholds()
NATIVE_SCALE_MAX = 16.0  # an interpolated size is a few times the sensor's (2x-4x in practice)
PAIRS_MAX_BYTES = 64 * 2**20  # a pair list is text: 64 MiB is about half a million pairs

PAIRS_HELP = """With --pairs LIST, LIST is a UTF-8 text file with one pair a line: two paths separated by a tab
(lines end at \\n only; empty lines and lines starting with # are skipped; relative paths are
taken from the current folder). One result is printed
per pair, in order: with --json one JSON object a line (the single-pair object, or {"a", "b",
"error"}); without, one tab-separated line "VERDICT<tab>A<tab>B<tab>REASON", VERDICT being
"error" for a pair that could not be compared. A failing pair never stops the batch. Exit
status: the worst over the pairs (0 all same, 1 some different, 2 some failed)."""


def register(sub):
    import argparse

    p = sub.add_parser("compare", help="compare two shots: exact, same pixels, same scene, or different",
                       formatter_class=argparse.RawDescriptionHelpFormatter,
                       description="Compare two image files and print a verdict: identical-file, "
                       "identical-pixels, near-identical or different.\nExit 0 same, 1 different, 2 "
                       "trouble.\n\n" + PAIRS_HELP)
    p.add_argument("a", nargs="?", help="first image (A)")
    p.add_argument("b", nargs="?", help="second image (B)")
    p.add_argument("--pairs", metavar="LIST", help="compare every pair listed in LIST (tab-separated "
                   "paths, one pair a line; see above for the output)")
    add_json(p)
    p.add_argument("--diff", metavar="PICTURE", help="write a heat map of local dissimilarity (1 - SSIM); "
                   "the format follows the extension (.png, .jpg, .webp, .tif, .bmp)")
    p.add_argument("--sheet", metavar="PICTURE", help="write A | B | diff overlay side by side, labelled; "
                   "the format follows the extension")
    add_overwrite(p, "an existing --diff/--sheet file")
    p.add_argument("--report", metavar="HTML", help="write one self-contained HTML file (images embedded, "
                   "works offline) with the verdict, the numbers and a side-by-side/swipe/blink/heat-map viewer")
    t = p.add_argument_group("thresholds (defaults measured by bench/bench_accuracy.py)")
    t.add_argument("--ssim-min", type=float, default=DEFAULTS.ssim_min, metavar="S",
                   help=f"near-identical needs the aligned, normalised SSIM at least S (default {DEFAULTS.ssim_min})")
    t.add_argument("--dhash-max", type=int, default=DEFAULTS.dhash_max, metavar="D",
                   help="also require a dHash distance of at most D for near-identical (default: off; "
                   "dHash bits of low-contrast or repetitive fields flip with noise)")
    t.add_argument("--max-shift", type=float, default=DEFAULTS.max_shift, metavar="PX",
                   help=f"a translation above PX pixels means the field moved (default {DEFAULTS.max_shift})")
    t.add_argument("--min-region", type=float, default=DEFAULTS.min_region, metavar="PCT",
                   help=f"a changed region of PCT %% of the frame or more makes the shots different "
                   f"(default {DEFAULTS.min_region})")
    t.add_argument("--min-correlation", type=float, default=DEFAULTS.min_correlation, metavar="R",
                   help=f"aligned correlation below R means another scene (default {DEFAULTS.min_correlation})")
    t.add_argument("--refocus", type=float, default=DEFAULTS.refocus, metavar="F",
                   help=f"a loss or gain of fine detail of F (0.2 = 20 %%) or more means the focus changed "
                   f"(default {DEFAULTS.refocus})")
    t.add_argument("--native-scale", type=float, default=DEFAULTS.native_scale, metavar="S",
                   help="the camera delivers its sensor's frames enlarged S times (an 'interpolated' size: "
                   "640x480 delivered as 1600x1200 is 2.5): both are judged reduced by S, where noise, "
                   "blur and jitter are the sensor's, and --max-shift is in sensor pixels (default 1: as stored)")
    t.add_argument("--profile", metavar="JSON", help="device noise profile written by `scopecheck calibrate`: "
                   "its noise level is a floor under the noise measured on the pair")
    add_hash_size(p)
    add_max_pixels(p)
    p.set_defaults(func=run)


def _thresholds(args) -> Thresholds:
    if not 0.0 <= args.ssim_min <= 1.0:
        raise InputError(f"--ssim-min must be within 0..1, got {args.ssim_min}")
    if args.dhash_max is not None and args.dhash_max < 0:
        raise InputError(f"--dhash-max must be >= 0, got {args.dhash_max}")
    if not 0 <= args.max_shift <= 1e6:  # NaN and inf too (a moved field then read as the same one)
        raise InputError(f"--max-shift must be a number of pixels from 0 to 1e6, got {args.max_shift}")
    if not 0.0 <= args.min_region <= 100.0:
        raise InputError(f"--min-region is a percentage of the frame, 0..100, got {args.min_region}")
    if not -1.0 <= args.min_correlation <= 1.0:
        raise InputError(f"--min-correlation must be within -1..1, got {args.min_correlation}")
    if not 0.0 < args.refocus <= 10.0:
        raise InputError(f"--refocus is a fraction of the fine detail, above 0 (0.2 = 20 %), got {args.refocus}")
    if not 1.0 <= args.native_scale <= NATIVE_SCALE_MAX:  # NaN too
        raise InputError(f"--native-scale is how many times the camera enlarged its sensor's frames, "
                         f"1 to {NATIVE_SCALE_MAX:g}, got {args.native_scale}")
    noise = load_profile(args.profile).noise_sigma if args.profile else None
    return Thresholds(ssim_min=args.ssim_min, dhash_max=args.dhash_max, max_shift=args.max_shift,
                      min_region=args.min_region, min_correlation=args.min_correlation, refocus=args.refocus,
                      noise_sigma=noise, native_scale=args.native_scale)


def run(args) -> int:
    thresholds = _thresholds(args)
    if args.pairs:
        if args.a or args.b or args.diff or args.sheet or args.report:
            raise InputError("--pairs takes no A B paths and no --diff/--sheet/--report")
        return _run_pairs(args, thresholds)
    if not (args.a and args.b):
        raise InputError("need two images: scopecheck compare A B (or --pairs LIST)")
    outputs = [(o, path) for o, path in (("--diff", args.diff), ("--sheet", args.sheet), ("--report", args.report)) if path is not None]
    for option, path in outputs:  # refuse before any work: nothing is decoded for a bad name
        check_output(path, option=option, inputs=(args.a, args.b), overwrite=args.overwrite)
        if option != "--report":
            picture_format(path, option=option)
    if len({os.path.abspath(path) for _, path in outputs}) < len(outputs):
        raise InputError("two outputs name the same file; give each its own", path=outputs[0][1])
    if args.report:
        from scopecheck.serve.report import check_report_path
        check_report_path(args.report, overwrite=args.overwrite)
    bar = Progress("compare", unit="images")  # a stack's pages (stderr, only on a terminal)
    try:
        c = compare_files(args.a, args.b, thresholds=thresholds, hash_size=args.hash_size,
                          max_pixels=args.max_pixels, max_bytes=args.max_bytes, want_map=bool(outputs),
                          progress=bar)
    finally:
        bar.close()
    if args.diff:
        picture = diff_picture(c.ssim_map)
        save_output(args.diff, lambda: save_picture(args.diff, picture, overwrite=args.overwrite),
                    option="--diff")
    if args.sheet:
        picture = comparison_sheet(c)
        save_output(args.sheet, lambda: save_picture(args.sheet, picture, overwrite=args.overwrite),
                    option="--sheet")
    if args.report:
        from scopecheck.serve.report import write_report
        save_output(args.report, lambda: write_report(args.report, c, overwrite=args.overwrite), option="--report")
    if args.json:
        print_json(c.to_json())
    else:
        _summary(c, args)
    return c.exit_code



def _level(v) -> str:
    """A difference in stored levels: whole as whole (65535), else to two decimals (9.33 after an
    8-bit side was scaled to a 16-bit one)."""
    return str(int(v)) if float(v).is_integer() else f"{float(v):.2f}"

def _summary(c, args):
    w = sys.stdout.write
    w(f"{c.verdict}: {c.reason}\n")
    for tag, side in (("A", c.a), ("B", c.b)):
        img = side.image
        stack = f" ({pages_words(img)})" if img.images > 1 else ""
        w(f"  {tag} {img.path}  {img.width}x{img.height} {img.dtype} x{img.channels} {img.format.upper()}{stack}"
          f"  sha256 {side.sha256[:16]}  pixels {side.pixel_sha256[:16]}  {side.dhash}"
          f"{'  (flat)' if side.dhash.flat else ''}\n")
    psnr = "inf" if c.psnr == float("inf") else f"{c.psnr:.2f} dB"
    ssim = "n/a" if c.ssim != c.ssim else f"{c.ssim:.4f}"  # NaN: too small for SSIM
    w(f"  file equal {'yes' if c.file_equal else 'no'}, pixels equal {'yes' if c.pixels_equal else 'no'}, "
      f"dHash distance {c.dhash_distance}, SSIM {ssim}, PSNR {psnr}, "
      f"max |diff| {_level(c.max_abs_diff)}, pixels differing {100 * c.diff_fraction:.2f} %\n")
    for d in c.metadata_differences:
        w(f"  metadata {d.key}: {d.a!r} vs {d.b!r}\n")
    if c.images is not None:
        differ = page_ranges(c.images["differ"], base=0) or "none"
        w(f"  images: A {c.images['a']}, B {c.images['b']}; differing {differ}; figures below are of image "
          f"{c.images['shown']}\n")
    an = c.analysis
    if an is not None:
        own = c.a.image.stretched is not None or c.b.image.stretched is not None  # levels of their own
        exposure = "n/a (levels stretched)" if own else f"{100 * an.exposure_change:+.1f} %"
        w(f"  aligned: shift ({an.shift[0]:+.2f}, {an.shift[1]:+.2f}) px, exposure {exposure}"
          f"{' (mean level)' if an.by_level and not own else ''}, "
          f"noise {noise_text(an.noise_sigma, stored_dn(c.a.image, c.b.image), 2)} ({an.noise_source}), SSIM {an.ssim_aligned:.4f}, "
          f"correlation {an.correlation:.3f}, {plural(len(an.regions), 'changed region')}\n")
        for r in an.regions[:10]:
            w(f"  region x={r.x} y={r.y} {r.width}x{r.height} px, area {r.area} px, {r.strength:.1f}x noise\n")
        for o in an.moved_objects_at[:10]:
            w(f"  moved object x={o.x} y={o.y} {o.width}x{o.height} px, {o.px:.1f} px against the field\n")
    if c.alpha is not None:
        for r in c.alpha.regions[:10]:
            w(f"  alpha region x={r.x} y={r.y} {r.width}x{r.height} px, area {r.area} px, opacity "
              f"{100 * r.alpha_a:.0f} % in A, {100 * r.alpha_b:.0f} % in B\n")
    for n in c.notes:
        w(f"  note: {n}\n")
    for label, path in (("diff picture", args.diff), ("sheet picture", args.sheet), ("HTML report", args.report)):
        if path:
            w(f"  wrote {label} {path}\n")


def _read_list(path: str) -> str:
    """The pair list's text: its type checked before opening (a FIFO would block), size bounded."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise InputError("no such file (--pairs wants a text file of tab-separated pairs)", path=path) from None
    except (OSError, ValueError) as e:
        raise InputError(f"cannot read the pair list: {getattr(e, 'strerror', None) or e}", path=path) from None
    if stat.S_ISDIR(st.st_mode):
        raise InputError("is a folder; --pairs wants a text file of tab-separated pairs", path=path)
    if not stat.S_ISREG(st.st_mode):
        raise InputError("is not a regular file (a pipe, socket or device); --pairs wants a text file "
                         "of tab-separated pairs", path=path)
    if st.st_size > PAIRS_MAX_BYTES:
        raise InputError(f"pair list of {st.st_size / 2**20:.0f} MiB is over the limit of "
                         f"{PAIRS_MAX_BYTES // 2**20} MiB; split it", path=path)
    try:  # O_NONBLOCK: should the file have been swapped for a FIFO since the stat, never wait
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
        with os.fdopen(fd, "rb") as f:
            if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
                raise InputError("is not a regular file", path=path)
            data = f.read(PAIRS_MAX_BYTES + 1)
    except OSError as e:
        raise InputError(f"cannot read the pair list: {e.strerror or e}", path=path) from None
    if len(data) > PAIRS_MAX_BYTES:
        raise InputError(f"pair list is over the limit of {PAIRS_MAX_BYTES // 2**20} MiB; split it", path=path)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise InputError(f"pair list is not UTF-8 text (byte {e.start})", path=path) from None


def parse_pairs(text: str) -> list[tuple[str, str | None, str | None]]:
    r"""``(a, b, problem)`` per listed line. Lines end at ``\n`` only (a ``\r`` before it is
    dropped); any other character, U+0085 and U+2028 included, can be part of a file name.

    >>> parse_pairs("a.png\tb.png\r\n# note\n\nx\u0085y.png\tz.png\nlonely\n")
    [('a.png', 'b.png', None), ('x\x85y.png', 'z.png', None), ('lonely', None, 'line 5: want two tab-separated paths, got 1 field')]
    """
    pairs: list[tuple[str, str | None, str | None]] = []
    for n, line in enumerate(text.split("\n"), 1):
        if line.endswith("\r"):
            line = line[:-1]
        if not line.strip() or line.startswith("#"):
            continue
        parts = line.split("\t")
        if len(parts) != 2:
            pairs.append((line, None, f"line {n}: want two tab-separated paths, got {plural(len(parts), 'field')}"))
        elif "\0" in line:
            pairs.append((parts[0], parts[1], f"line {n}: a path contains a NUL byte"))
        elif not parts[0] or not parts[1]:
            pairs.append((parts[0], parts[1], f"line {n}: an empty path"))
        else:
            pairs.append((parts[0], parts[1], None))
    return pairs


def _compare_one(a: str, b: str, args, thresholds) -> tuple[dict, int]:
    try:
        c = compare_files(a, b, thresholds=thresholds, hash_size=args.hash_size, max_pixels=args.max_pixels,
                          max_bytes=args.max_bytes)
        return c.to_json(), c.exit_code
    except ScopecheckError as e:
        return {"a": a, "b": b, "error": str(e)}, e.exit_code
    except MemoryError:
        return {"a": a, "b": b, "error": "out of memory"}, 2
    except Exception as e:  # noqa: BLE001 - a bug in one pair must not cost the others their answer
        if args.debug:
            raise
        return {"a": a, "b": b, "error": f"internal error ({type(e).__name__}: {e}); please report it"}, 2


def _run_pairs(args, thresholds) -> int:
    pairs = parse_pairs(_read_list(args.pairs))
    worst = 0
    # results stream to stdout line by line; a bar on the same terminal would garble them
    bar = Progress("compare", unit="pairs", enabled=sys.stderr.isatty() and not sys.stdout.isatty())
    errors = 0
    for i, (a, b, problem) in enumerate(pairs):
        if problem is None and b is not None:
            obj, code = _compare_one(a, b, args, thresholds)
        else:
            obj, code = {"a": a, "b": b, "error": problem}, 2
        worst = max(worst, code)
        errors += code == 2
        if args.json:
            print_json(obj, lines=True)
        elif "error" in obj:
            sys.stdout.write(f"error\t{a}\t{b}\t{obj['error']}\n")
        else:
            sys.stdout.write(f"{obj['verdict']}\t{a}\t{b}\t{obj['reason']}\n")
        sys.stdout.flush()
        bar(i + 1, len(pairs), errors)
        if reader_gone():
            break  # nobody reads the rest (| head): stop, with the worst status seen so far
    bar.close()
    if not pairs:
        raise InputError("the pair list holds no pair", path=args.pairs)
    return worst
