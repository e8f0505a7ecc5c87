"""`make demo`: the main job on the bundled fixtures.

Compares every fixture pair listed in fixtures/compare/MANIFEST.json, prints a report (verdict,
expected verdict, SSIM, dHash distance, reason), writes the diff heat map and the side-by-side
sheet of a pair with a local change to out/, then captures a shot from each of two bundled
recordings of one field (through the real cv2.VideoCapture path) and compares the two shots, and
finally makes dark and flat references from bundled recordings of a vignetting microscope and
captures its specimen with and without flat-field correction.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIX = os.path.join(ROOT, "fixtures", "compare")
OUT = os.path.join(ROOT, "out")


def _cli(*args) -> int:
    """Run one scopecheck command as a user would, echoing it."""
    shown = " ".join(os.path.relpath(a, ROOT) if os.path.isabs(a) else a for a in args)
    print(f"$ scopecheck {shown}", flush=True)
    r = subprocess.run([sys.executable, "-m", "scopecheck", *args], cwd=ROOT)
    if r.returncode not in (0, 1):
        raise SystemExit(r.returncode)
    return r.returncode


def main() -> int:
    from scopecheck.compare.pair import compare_files
    from scopecheck.compare.pictures import comparison_sheet, diff_picture, save_png

    os.makedirs(OUT, exist_ok=True)
    manifest = json.load(open(os.path.join(FIX, "MANIFEST.json")))
    print(f"scopecheck demo: {len(manifest['pairs'])} fixture pairs from fixtures/compare\n")
    print(f"{'A':22} {'B':22} {'verdict':17} {'expected':17} {'SSIM':>7} {'dHash':>5}  reason")
    agree = 0
    for p in manifest["pairs"]:
        c = compare_files(os.path.join(FIX, p["a"]), os.path.join(FIX, p["b"]))
        ok = c.verdict == p["expected"]
        agree += ok
        print(f"{p['a']:22} {p['b']:22} {c.verdict:17} {p['expected']:17} {c.ssim:7.4f} "
              f"{c.dhash_distance:5d}  {'' if ok else '(!) '}{c.reason}")
    print(f"\n{agree}/{len(manifest['pairs'])} verdicts as expected")

    a, b = os.path.join(FIX, "ihc_shot1.png"), os.path.join(FIX, "ihc_particle.png")
    c = compare_files(a, b, want_map=True)
    diff, sheet = os.path.join(OUT, "diff.png"), os.path.join(OUT, "sheet.png")
    save_png(diff, diff_picture(c.ssim_map), overwrite=True)
    save_png(sheet, comparison_sheet(c, a_name=a, b_name=b), overwrite=True)
    print(f"\ncompare {os.path.relpath(a, ROOT)} {os.path.relpath(b, ROOT)}: {c.verdict}: {c.reason}")
    print(f"wrote {os.path.relpath(diff, ROOT)} (1 - SSIM heat map) and {os.path.relpath(sheet, ROOT)} (A | B | overlay)")

    rec = os.path.join(ROOT, "fixtures", "recordings")
    print("\ncapture from two bundled recordings of one field (no camera needed), then compare the shots:")
    shots = []
    for name in ("ihc_still_a", "ihc_still_b"):
        out = os.path.join(OUT, f"capture_{name[-1]}.png")
        shots.append(out)
        _cli("capture", "--device", os.path.join(rec, name, "frame_%04d.png"), "--frames", "12",
             "--warmup", "auto", "-o", out, "--overwrite")
    code = _cli("compare", *shots)
    if code not in (0, 1):
        return code
    from scopecheck.serve.report import write_report  # the HTML report and the browser workstation
    write_report(os.path.join(OUT, "report.html"), c, overwrite=True)
    print("\nwrote out/report.html (one self-contained page: open it in a browser, works offline)")
    code = flat_field_demo(rec)
    print("\ntry the workstation in a browser (simulated camera; shots go to out/shots), then open "
          "http://127.0.0.1:8765/ :\n  .venv/bin/scopecheck serve --device sim --dir out/shots")
    return code


def _corner_to_centre(path: str, truth: str | None = None) -> float:
    """Mean of the four 24x24 corners over the mean of the central 48x48 square (a flat field reads 1).

    With ``truth`` (a shot of the same field without vignetting) the ratio image ``path / truth`` is
    measured, so the specimen's own structure cancels and only the illumination remains.
    """
    import numpy as np

    from scopecheck.compare.load import load

    a = load(path).pixels.astype(np.float64)
    if truth is not None:
        a = a / np.maximum(load(truth).pixels.astype(np.float64), 1.0)
    h, w = a.shape[:2]
    corners = np.mean([a[:24, :24].mean(), a[:24, -24:].mean(), a[-24:, :24].mean(), a[-24:, -24:].mean()])
    return float(corners / a[h // 2 - 24:h // 2 + 24, w // 2 - 24:w // 2 + 24].mean())


def flat_field_demo(rec: str) -> int:
    """Dark and flat references from two bundled recordings of a vignetting scope, then a corrected shot."""
    print("\nflat-field correction on a bundled recording of a vignetting microscope (fixtures/recordings/vig_*):")
    seq = lambda name: os.path.join(rec, name, "frame_%04d.png")  # noqa: E731
    dark, flat = os.path.join(OUT, "vig_dark.png"), os.path.join(OUT, "vig_flat.png")
    raw, fixed = os.path.join(OUT, "vig_uncorrected.png"), os.path.join(OUT, "vig_corrected.png")
    common = ("--frames", "8", "--warmup", "0", "--overwrite")
    _cli("calibrate", "--dark", "--device", seq("vig_dark"), *common, "-o", dark)
    _cli("calibrate", "--flat", "--device", seq("vig_flat"), *common, "-o", flat)
    _cli("capture", "--device", seq("vig_specimen"), *common, "-o", raw)
    _cli("capture", "--device", seq("vig_specimen"), *common, "--dark", dark, "--flat", flat, "-o", fixed)
    print(f"\ncorner-to-centre brightness of the blank field: {_corner_to_centre(flat):.3f} "
          "(the vignetting the flat measured)")
    truth = os.path.join(OUT, "capture_a.png")  # the same field, no vignetting (ihc_still_a, above)
    print(f"specimen / same field without vignetting, corner-to-centre: uncorrected {_corner_to_centre(raw, truth):.3f}, "
          f"corrected {_corner_to_centre(fixed, truth):.3f} (1 = even illumination)")
    print(f"wrote {os.path.relpath(raw, ROOT)} and {os.path.relpath(fixed, ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
