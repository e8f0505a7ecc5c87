"""What the input bounds cost: compare.load.decode against a bare cv2.imdecode, side by side.

The loader walks the container (bounded chunk/segment/scan counts, declared-size checks), hands
libpng the pixel chunks only and captures the decoders' stderr; this prints the median time of
each and their ratio for 20-megapixel PNG and JPEG files (and a PNG carrying metadata chunks, which the loader copies without them),
plus the header walk alone.

usage: .venv/bin/python bench/bench_load.py [--repeats 7]
"""
from __future__ import annotations

import argparse
import os
import sys
import zlib

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import cv2  # noqa: E402
import numpy as np  # noqa: E402
from timing import median_ms  # noqa: E402

from scopecheck.compare.containers import png as pngc  # noqa: E402
from scopecheck.compare.load import check_header, decode  # noqa: E402


def files() -> dict[str, bytes]:
    rng = np.random.default_rng(0)
    img = cv2.resize(rng.integers(0, 256, (500, 625, 3), dtype=np.uint8), (5000, 4000),
                     interpolation=cv2.INTER_CUBIC)
    out = {}
    for ext in (".png", ".jpg"):
        _ok, buf = cv2.imencode(ext, img)
        out[f"20 MP {ext[1:].upper()}"] = buf.tobytes()
    data = out["20 MP PNG"]
    i = data.index(b"IDAT") - 4
    extra = pngc.make_chunk(b"zTXt", b"XML\0\0" + zlib.compress(os.urandom(1 << 16))) + \
        pngc.make_chunk(b"tEXt", b"Comment\0" + b"x" * 1000)
    out["20 MP PNG + zTXt/tEXt"] = data[:i] + extra + data[i:]
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=7)
    args = ap.parse_args()
    print(f"{'file':24s} {'MiB':>6s} {'cv2.imdecode':>13s} {'load.decode':>12s} {'ratio':>6s} {'header walk':>12s}")
    for name, data in files().items():
        buf = np.frombuffer(data, np.uint8)
        raw = median_ms(lambda: cv2.imdecode(buf, cv2.IMREAD_UNCHANGED), args.repeats)  # noqa: B023
        ours = median_ms(lambda: decode(data), args.repeats)  # noqa: B023
        head = median_ms(lambda: check_header(data), args.repeats)  # noqa: B023
        print(f"{name:24s} {len(data) / 2**20:6.1f} {raw:10.0f} ms {ours:9.0f} ms {ours / raw:6.2f} {head:9.1f} ms")


if __name__ == "__main__":
    main()
