"""Quantisation noise of a lossy WebP, derived from the file itself (its VP8 frame header).

A lossy WebP is one VP8 key frame (RFC 6386). Each 4x4 block's transform coefficients are
rounded to multiples of a step looked up from a quantiser index (0-127, section 14.1): DC and AC
steps for luma, and for chroma (always 4:2:0). The frame header gives a base index and deltas,
and, with segmentation (libwebp's default: four segments by texture), an index per segment plus
the probabilities the segment map was coded with -- which are the encoder's own segment counts,
so they weight each segment's steps by its share of the frame.

VP8's 4x4 transform is close to an orthonormal DCT scaled by 2 (a flat block of value ``p`` has
DC ``8p``), so a step ``q`` is an orthonormal step ``q / 2`` and the error model is the JPEG one
(:mod:`compare.codec_noise`): ``q^2 / 12`` per coefficient, through the comparison's smoothing,
on a 4x4 grid. The DC of an intra-16x16 macroblock goes through a second (Walsh-Hadamard) stage
whose error is smaller than the 4x4 blocks' own DC step; the model takes the 4x4 step, the larger.
The decoder's YUV is BT.601 limited range: a luma step is ``255 / 219`` of it in RGB levels and
chroma reaches B, G and R with the BT.601 coefficients.

Only the first partition's header is read (a few dozen bool-coded bits, RFC 6386 section 9);
lossless (VP8L) and animated files have no such tables and return None.

The comparison does not add this error to its noise floor (:mod:`compare.second_look` says why): the
quantisers let libwebp reproduce a copy (:func:`compare.requantise.requantised_webp`), the model
ranks a WebP side against the other's quantisation (:func:`compare.requantise.coarser_side`).
"""
from __future__ import annotations

import numpy as np

from .codec_noise import CodecTables
from .errors import LimitError

# RFC 6386 section 14.1: quantiser index -> step
DC_STEPS = (4, 5, 6, 7, 8, 9, 10, 10, 11, 12, 13, 14, 15, 16, 17, 17, 18, 19, 20, 20, 21, 21, 22, 22, 23, 23,
            24, 25, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 37, 38, 39, 40, 41, 42, 43, 44, 45,
            46, 46, 47, 48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59, 60, 61, 62, 63, 64, 65, 66, 67, 68,
            69, 70, 71, 72, 73, 74, 75, 76, 76, 77, 78, 79, 80, 81, 82, 83, 84, 85, 86, 87, 88, 89, 91, 93,
            95, 96, 98, 100, 101, 102, 104, 106, 108, 110, 112, 114, 116, 118, 122, 124, 126, 128, 130, 132,
            134, 136, 138, 140, 143, 145, 148, 151, 154, 157)
AC_STEPS = (4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29,
            30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, 52, 53,
            54, 55, 56, 57, 58, 60, 62, 64, 66, 68, 70, 72, 74, 76, 78, 80, 82, 84, 86, 88, 90, 92, 94, 96,
            98, 100, 102, 104, 106, 108, 110, 112, 114, 116, 119, 122, 125, 128, 131, 134, 137, 140, 143,
            146, 149, 152, 155, 158, 161, 164, 167, 170, 173, 177, 181, 185, 189, 193, 197, 201, 205, 209,
            213, 217, 221, 225, 229, 234, 239, 245, 249, 254, 259, 264, 269, 274, 279, 284)
UV_DC_MAX = 132                     # RFC 6386 14.1: the chroma DC step is capped
LUMA_RGB = 255.0 / 219.0            # BT.601 limited range: RGB levels per luma level
CHROMA_RGB = (2.018 ** 2, 0.391 ** 2 + 0.813 ** 2, 1.596 ** 2)  # B, G, R levels per chroma level, squared
MAX_HEADER_BYTES = 64               # the bits read here fit in far fewer


class _Bits:
    """RFC 6386 section 7's boolean decoder over a bounded slice of the first partition."""

    def __init__(self, data: bytes):
        self.data, self.pos = data, 2
        self.value = int.from_bytes(data[:2].ljust(2, b"\0"), "big")
        self.range, self.count = 255, 0

    def bool(self, prob: int) -> int:
        split = 1 + (((self.range - 1) * prob) >> 8)
        big = split << 8
        if self.value >= big:
            bit, self.range, self.value = 1, self.range - split, self.value - big
        else:
            bit, self.range = 0, split
        while self.range < 128:
            self.value <<= 1
            self.range <<= 1
            self.count += 1
            if self.count == 8:
                self.count = 0
                if self.pos < len(self.data):
                    self.value |= self.data[self.pos]
                self.pos += 1
        return bit

    def literal(self, n: int) -> int:
        v = 0
        for _ in range(n):
            v = (v << 1) | self.bool(128)
        return v

    def signed(self, n: int) -> int:
        v = self.literal(n)
        return -v if self.literal(1) else v

    def optional(self, n: int) -> int:
        return self.signed(n) if self.literal(1) else 0


def frame_quantisers(frame: bytes) -> dict | None:
    """The quantiser fields of a VP8 key frame (the body of a ``VP8 `` chunk), or None.

    Returns ``{"base": q, "deltas": (y1_dc, y2_dc, y2_ac, uv_dc, uv_ac), "segments": (q0..q3) or
    None, "weights": (w0..w3)}`` with each segment's index already resolved (absolute or delta) and
    its weight its share of macroblocks as the segment map's probabilities imply.
    """
    if len(frame) < 10 or frame[0] & 1 or frame[3:6] != b"\x9d\x01\x2a":
        return None  # an inter frame or not VP8
    size = (frame[0] | frame[1] << 8 | frame[2] << 16) >> 5
    if size < 2 or 10 + size > len(frame):
        return None
    b = _Bits(frame[10:10 + min(size, MAX_HEADER_BYTES)])
    b.literal(2)  # colour space, clamping
    seg_q, absolute, probs = None, False, [255, 255, 255]
    if b.literal(1):  # segmentation enabled
        update_map, update_data = b.literal(1), b.literal(1)
        if update_data:
            absolute = bool(b.literal(1))
            seg_q = [b.optional(7) for _ in range(4)]
            for _ in range(4):
                b.optional(6)  # loop filter level per segment
        if update_map:
            probs = [b.literal(8) if b.literal(1) else 255 for _ in range(3)]
    b.literal(1 + 6 + 3)  # filter type, level, sharpness
    if b.literal(1) and b.literal(1):  # loop filter deltas enabled and updated
        for _ in range(8):
            b.optional(6)
    b.literal(2)  # partitions
    base = b.literal(7)
    deltas = tuple(b.optional(4) for _ in range(5))
    if b.pos > len(b.data):
        return None  # the header ran past what was read: not a frame this reads
    if seg_q is not None:
        seg_q = [q if absolute else base + q for q in seg_q]
        p0, p1, p2 = (p / 256.0 for p in probs)
        weights = (p0 * p1, p0 * (1 - p1), (1 - p0) * p2, (1 - p0) * (1 - p2))
        return {"base": base, "deltas": deltas, "segments": tuple(seg_q), "weights": weights}
    return {"base": base, "deltas": deltas, "segments": None, "weights": (1.0, 0.0, 0.0, 0.0)}


def _step(table, q: int) -> int:
    return table[min(127, max(0, q))]


def webp_tables(data: bytes) -> CodecTables | None:
    """The quantisation noise model of a lossy WebP (simple or extended with a ``VP8 `` chunk), or
    None for a lossless, animated or unreadable file. Steps are area-weighted over the segments
    (the pixel error's variance is linear in each step squared)."""
    from .containers import webp

    if data[:4] != b"RIFF" or data[8:12] != b"WEBP":
        return None
    try:
        chunks, _ = webp.walk(data)
    except LimitError:  # over the chunk limit: no codec model (loading refuses such a file anyway)
        return None
    kinds = {c.fourcc for c in chunks}
    frames = [c for c in chunks if c.fourcc == b"VP8 "]
    if len(frames) != 1 or b"ANMF" in kinds:
        return None
    fq = frame_quantisers(frames[0].body(data))
    if fq is None:
        return None
    y1_dc, _, _, uv_dc, uv_ac = fq["deltas"]
    qs = fq["segments"] or (fq["base"],) * 4
    luma2, chroma2 = np.zeros((4, 4)), np.zeros((4, 4))
    for q, w in zip(qs, fq["weights"]):
        luma = np.full((4, 4), float(_step(AC_STEPS, q)))
        luma[0, 0] = _step(DC_STEPS, q + y1_dc)
        chroma = np.full((4, 4), float(_step(AC_STEPS, q + uv_ac)))
        chroma[0, 0] = min(UV_DC_MAX, _step(DC_STEPS, q + uv_dc))
        luma2 += w * luma ** 2
        chroma2 += w * chroma ** 2
    # orthonormal steps (VP8's coefficients are twice an orthonormal transform's), luma in RGB levels
    return CodecTables(luma=np.sqrt(luma2) / 2.0 * LUMA_RGB, chroma=np.sqrt(chroma2) / 2.0,
                       quality=fq["base"], chroma_step=(2, 2), codec="WebP", chroma_gains=CHROMA_RGB,
                       quantisers=(fq["base"], *(fq["segments"] or ())))
