"""SSIM speed: compare.similarity.ssim against scikit-image's Gaussian SSIM, side by side.

Same inputs, same process, medians of repeats, at 640x480 and 2592x1944; also prints the largest
difference of the mean and of the map (the tests hold both within 1e-4).

usage: .venv/bin/python bench/bench_ssim.py [--repeats 5]
"""
from __future__ import annotations

import argparse
import os
import sys

import cv2
import numpy as np
from skimage.metrics import structural_similarity

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from scopecheck.compare.similarity import ssim  # noqa: E402
from timing import median_ms  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    print(f"{'size':>10} {'scikit-image':>13} {'scopecheck':>11} {'ratio':>6}  {'|d mean|':>9} {'max |d map|':>11}")
    for w, h in ((640, 480), (2592, 1944)):
        base = cv2.GaussianBlur(rng.uniform(0, 255, (h, w)).astype(np.float32), (0, 0), 4)
        a = np.clip(base + rng.normal(0, 3, (h, w)), 0, 255).astype(np.uint8)
        b = np.clip(base + rng.normal(0, 3, (h, w)), 0, 255).astype(np.uint8)

        def ref():
            return structural_similarity(a, b, gaussian_weights=True, sigma=1.5, use_sample_covariance=False,
                                         data_range=255, full=True)

        def ours():
            return ssim(a, b, data_range=255, want_map=True)

        t_ref = median_ms(ref, args.repeats)
        t_ours = median_ms(ours, args.repeats)
        m, s_map = ref()
        r = ours()
        print(f"{w}x{h:<5} {t_ref:10.1f} ms {t_ours:8.1f} ms {t_ref / t_ours:5.1f}x  {abs(r.mean - m):9.1e} "
              f"{np.abs(r.map - s_map).max():11.1e}")


if __name__ == "__main__":
    main()
