"""Two decoded frames of one video stream: the blocks its codec copied and the noise of those it coded.

A PNG of a decoded video frame carries no quantiser, so a comparison cannot read the codec's error
from the file as it does for a JPEG or WebP side (:mod:`compare.codec_noise`). The pair itself
shows it. An inter-coded frame copies every block its reference predicts well enough, bit for bit
(MPEG-1/2 and H.264 skipped macroblocks, a JPEG re-encode at the table it was made with), and
codes the others, each with its own quantisation error. Two captures of a scene are never equal
over a whole textured block unless nearly noiseless (with a level of noise a 64-sample tie is
vanishingly rare; dark frames that tie 98 % of their pixels tie whole blocks by chance, and the
chance is checked), so a share of **copied blocks** -- bit-identical, and not constant -- tells the
pair are frames of one stream: their frame-to-frame residual is nil where the codec copied and the
codec's error where it coded. Measured over all samples its robust spread falls to the rounding's
(most samples are ties), and each coded block then reads as a change (cause 29).

:func:`coded_blocks` finds the copied blocks, :func:`coded_cells` where the codec coded among a
comparison's samples; :func:`coded_noise` measures the noise there: the smoothed residual's spread
over the coded blocks, per cell of a coarse grid, about each level's median (a tone edit of part
of a frame follows the level, a codec's error does not), the median over the cells. The spread is
the root mean square with the largest ``TRIM`` of a cell's samples left out, not a Gaussian's
robust sigma: an encoder re-codes a block once its error has grown past its threshold, so the
errors of the coded blocks are heavy-tailed (many blocks re-coded by a level or two, a few by ten
times that), and where a real traffic camera's stream of a still scene re-coded its blocks, a
median-based sigma put their tail at up to 13 sigmas (cause 31). A change cannot set it: the coded
blocks must lie in at least half of the cells that hold texture (an edited object, a car moving
through a still street, a speck are confined to a few cells; a codec codes blocks all over a
textured frame), a change confined to fewer than half the cells leaves the median to the codec's
error, and a large cell re-coded whole, without a copy among its blocks, is no codec at work but
a change that filled it (half a noiseless frame shifted by a row).
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

BLOCK = 8             # codecs' transform block (JPEG, MPEG-1/2, H.264's macroblocks hold 2x2 of them)
COPIED_SHARE = 0.01   # a pair with this share of its textured blocks bit-identical: frames of one stream
COPIED_MIN = 16       # ... and at least this many such blocks
COPIES_OVER_TIES = 10  # ... and this many times the blocks that independent pixel ties would tie
WHOLE_CELL = 16       # a cell of this many textured blocks, re-coded whole, shows no codec at work
GRID = 4              # the coded noise is measured per cell of a GRID x GRID grid, the median taken
CELL_SAMPLES = 32     # a cell's figure needs this many coded samples
CELLS_SHARE = 0.5     # ... and the coded blocks must lie in this share of the cells that hold texture
STRIP_BLOCKS = 16     # the whole grid is read in strips of this many block rows (128 px)
PHASE_WINDOW = 512    # the grid's phase is judged on a central window at most this many pixels a side
LEVEL_PART = 32       # a cell's coded samples are taken about the median of their level's part of this many
TRIM = 0.01           # ... and their spread is their RMS without this share of them, the largest
FEW_LEVELS = 3        # a copied block of at most this many sample values is piecewise constant ...
FEW_LEVELS_SHARE = 0.9  # ... and a pair whose copies are this share such blocks is no stream (cause 37)


@dataclass(frozen=True)
class CodedBlocks:
    kind: np.ndarray          # per block: 0 constant in A, 1 coded (the two differ), 2 copied (bit-identical)
    phase: tuple[int, int]    # (x, y): where the codec's grid starts in the images given
    copied: float             # the copied blocks' share of the textured ones


def coded_blocks(a: np.ndarray, b: np.ndarray) -> CodedBlocks | None:
    """The codec's blocks of two same-size stored images: per ``BLOCK`` x ``BLOCK`` block of the
    grid the codec used, 1 where it coded it (A textured there, and the two differ), 2 where it
    copied it (textured and bit-identical), 0 where A is constant over the block or holds nothing
    but black and full scale (a tie there says nothing: a binarised or saturated edge ties in two
    captures without a codec, cause 35). The grid's phase is the one with the most copied blocks:
    a crop of a frame keeps its codec's blocks wherever the crop began. None unless the copied blocks are at least
    ``COPIED_SHARE`` of the textured ones (and ``COPIED_MIN``) and ``COPIES_OVER_TIES`` times what
    the coded blocks' rate of tied samples would tie by chance: no sign of one stream.

    >>> a = np.arange(64 * 64, dtype=np.uint16).reshape(64, 64) % 251
    >>> b = a.copy(); b[:16] += 1; b[:, :16] += 1  # the top two rows and left two columns of blocks coded again
    >>> m = coded_blocks(a, b); m.kind[1:3], m.phase
    (array([[1, 1, 1, 1, 1, 1, 1, 1],
           [1, 1, 2, 2, 2, 2, 2, 2]], dtype=uint8), (0, 0))
    >>> coded_blocks(a[5:, 3:], b[5:, 3:]).phase  # a crop: the grid's first full block 5 px in, 3 down
    (5, 3)
    >>> coded_blocks(a, a + 1) is None
    True
    """
    if a.shape != b.shape or a.dtype != b.dtype or a.dtype not in (np.uint8, np.uint16) or min(a.shape[:2]) < 2 * BLOCK:
        return None  # decoded video is stored in 8 or 16 bits
    # samples as planes: a row of w pixels of C channels is a row of w * C samples
    c = 1 if a.ndim == 2 else a.shape[2]
    a2, b2 = a.reshape(a.shape[0], -1), b.reshape(b.shape[0], -1)
    # a cheap first look: every row of a copied block holds a run of BLOCK tied pixels (one row in
    # BLOCK is read); fewer such runs than COPIED_MIN blocks would need: no copied blocks
    ties = _set(cv2.absdiff(a2[::BLOCK], b2[::BLOCK]), cv2.CMP_EQ) // 255
    runs = cv2.boxFilter(ties, cv2.CV_16U, (BLOCK * c, 1), normalize=False, borderType=cv2.BORDER_CONSTANT)
    if np.count_nonzero(runs == BLOCK * c) < COPIED_MIN * BLOCK * c // 2:
        return None
    # the grid's phase: the most copied blocks, judged on a central window at most PHASE_WINDOW
    # px a side (per-sample maps of it, and their integral images: 64 phases, one pass)
    ph, pw = min(a.shape[0], PHASE_WINDOW), min(a.shape[1], PHASE_WINDOW)
    py, px = (a.shape[0] - ph) // 2, (a.shape[1] - pw) // 2
    sums = [cv2.integral(x) for x in _maps(a2[py:py + ph, px * c:(px + pw) * c], b2[py:py + ph, px * c:(px + pw) * c], c)]
    best = None
    for oy in range(BLOCK):
        for ox in range(BLOCK):
            ys, xs = np.arange(oy, ph + 1, BLOCK), np.arange(ox, pw + 1, BLOCK) * c
            if ys.size < 2 or xs.size < 2:
                continue
            top, bottom, left, right = ys[:-1], ys[1:], xs[:-1], xs[1:]
            d = _rect(sums[0], top, bottom, left, right)
            # a block's own steps: to the right from its columns 1..7 (column 0's lies across its
            # left edge), down from its rows 1..7
            textured = (_rect(sums[1], top, bottom, left + c, right) > 0) | (_rect(sums[2], top + 1, bottom, left, right) > 0)
            textured &= _rect(sums[3], top, bottom, left, right) > 0
            n = int(np.count_nonzero((d == 0) & textured))
            if best is None or n > best[0]:
                best = (n, (px + ox) % BLOCK, (py + oy) % BLOCK)
    if best is None:
        return None
    _, ox, oy = best
    # the whole grid at that phase: each map's block means (an area reduction by whole blocks)
    hb, wb = (a.shape[0] - oy) // BLOCK, (a.shape[1] - ox) // BLOCK
    if hb < 1 or wb < 1:
        return None
    # in strips of STRIP_BLOCKS block rows: the maps' memory stays that of a strip
    cols = slice(ox * c, (ox + wb * BLOCK) * c)
    d = np.empty((hb, wb), np.int64)
    textured = np.empty((hb, wb), bool)
    for r0 in range(0, hb, STRIP_BLOCKS):
        r1 = min(hb, r0 + STRIP_BLOCKS)
        rows = slice(oy + r0 * BLOCK, oy + r1 * BLOCK)
        differ, h_step, v_step, inner = _maps(a2[rows, cols], b2[rows, cols], c)
        for k in range(c):
            h_step[:, k::BLOCK * c] = 0  # column 0's step lies across the block's left edge
        v_step[::BLOCK] = 0               # row 0's across its top edge
        d[r0:r1] = _block_counts(differ, r1 - r0, wb)
        textured[r0:r1] = (_block_counts(h_step, r1 - r0, wb) > 0) | (_block_counts(v_step, r1 - r0, wb) > 0)
        textured[r0:r1] &= _block_counts(inner, r1 - r0, wb) > 0
    copied, coded = textured & (d == 0), textured & (d > 0)
    n_copied, n_textured = int(np.count_nonzero(copied)), int(np.count_nonzero(textured))
    if n_copied < max(COPIED_MIN, COPIED_SHARE * n_textured):
        return None
    # ... and more than independent ties make: a nearly noiseless pair (dark frames, 98 % of the
    # pixels tied) ties whole blocks by chance, at the coded blocks' pixel tie rate to the 64th
    n_coded = int(np.count_nonzero(coded))
    # (of samples: a pixel's channels tie together more often than apart, so this errs towards
    # more chance ties, and fewer pairs taken for one stream)
    tie_rate = 1.0 - float(d[coded].sum()) / (BLOCK * BLOCK * c * n_coded) if n_coded else 1.0
    if n_copied < COPIES_OVER_TIES * tie_rate ** (BLOCK * BLOCK) * n_textured:
        return None
    if _few_levels(a2[oy:oy + hb * BLOCK, ox * c:(ox + wb * BLOCK) * c], copied) >= FEW_LEVELS_SHARE:
        return None  # the ties of a piecewise-constant picture (labels, a mask, a binarised print)
    kind = textured.astype(np.uint8)
    kind[copied] = 2
    return CodedBlocks(kind=kind, phase=(ox, oy), copied=n_copied / n_textured)


def _few_levels(a2: np.ndarray, pick: np.ndarray) -> float:
    """The share of the blocks ``pick`` (``hb`` x ``wb``, over the block grid ``a2`` starts at; rows of
    samples) that hold at most ``FEW_LEVELS`` distinct sample values (0.0 for none picked)."""
    hb, wb = pick.shape
    if not pick.any():
        return 0.0
    blocks = a2.reshape(hb, BLOCK, wb, -1).transpose(0, 2, 1, 3)[pick].reshape(int(pick.sum()), -1)
    levels = 1 + np.count_nonzero(np.diff(np.sort(blocks, axis=1), axis=1), axis=1)
    return float(np.mean(levels <= FEW_LEVELS))


def _rect(total: np.ndarray, top, bottom, left, right) -> np.ndarray:
    """Sums over the rectangles rows ``top[i]..bottom[i]``, columns ``left[j]..right[j]`` (end
    exclusive) of the image whose integral is ``total``: one per (i, j)."""
    return (total[np.ix_(bottom, right)] - total[np.ix_(top, right)]
            - total[np.ix_(bottom, left)] + total[np.ix_(top, left)])


def _maps(a2: np.ndarray, b2: np.ndarray, c: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per sample (rows of ``c``-channel pixels as rows of samples), 255 where (else 0): the two
    differ; A steps from its left-hand neighbour (the same channel); A steps from the sample above;
    A lies strictly inside its type's range (neither black nor full scale: a block of nothing but
    those two, a binarised edge or a saturated one, ties in two captures without any codec)."""
    differ = _set(cv2.absdiff(a2, b2))
    inner = cv2.inRange(a2, 1, int(np.iinfo(a2.dtype).max) - 1)
    h_step = np.zeros(a2.shape, np.uint8)
    v_step = np.zeros(a2.shape, np.uint8)
    h_step[:, c:] = _set(cv2.absdiff(a2[:, c:], a2[:, :-c]))
    v_step[1:] = _set(cv2.absdiff(a2[1:], a2[:-1]))
    return differ, h_step, v_step, inner


def _set(x: np.ndarray, op: int = cv2.CMP_GT) -> np.ndarray:
    """255 where ``x op 0`` holds, else 0 (uint8; one OpenCV pass)."""
    return cv2.compare(x, np.zeros(1, x.dtype), op)


def _block_counts(x: np.ndarray, hb: int, wb: int) -> np.ndarray:
    """How many samples of a 0/255 map are set, per block of its ``hb`` x ``wb`` (the map holds
    exactly that many): the area reduction's rounded block means, times the block's samples over
    255 -- exact for blocks of up to 255 samples (BLOCK x BLOCK x 3 channels; within one for 4),
    and 0 only where none is set."""
    n = (x.shape[0] // hb) * (x.shape[1] // wb)
    if n == 1:
        return x.astype(np.int64) // 255
    means = cv2.resize(x, (wb, hb), interpolation=cv2.INTER_AREA)
    return np.rint(means.astype(np.float64) * (n / 255.0)).astype(np.int64)


def coded_cells(at: np.ndarray, shape: tuple[int, int], blocks: CodedBlocks, factor: int) -> list[np.ndarray] | None:
    """Where the codec coded, among the samples ``at`` (flat indices) of a working image of
    ``shape`` (``factor`` full-resolution pixels per pixel; ``blocks`` from :func:`coded_blocks`):
    per cell of a ``GRID`` x ``GRID`` grid with ``CELL_SAMPLES`` such samples, their positions in
    ``at`` -- but not a cell of ``WHOLE_CELL`` textured blocks or more re-coded whole (fewer copies
    than ``COPIED_SHARE``): a change filled it. None when those cells are fewer than
    ``CELLS_SHARE`` of the cells holding texture: the coded blocks are too confined to tell a
    codec's error from a change. The same for every channel of a pair: computed once."""
    h, w = shape
    ys, xs = np.divmod(at, w)
    kinds = blocks.kind
    ox, oy = blocks.phase  # samples before the grid's first full block or past its last one: none
    by = (ys * factor - oy) // BLOCK
    bx = (xs * factor - ox) // BLOCK
    inside = (by >= 0) & (by < kinds.shape[0]) & (bx >= 0) & (bx < kinds.shape[1])
    kind = np.where(inside, kinds[np.clip(by, 0, kinds.shape[0] - 1), np.clip(bx, 0, kinds.shape[1] - 1)], 0)
    cell = (ys * GRID // h) * GRID + xs * GRID // w
    textured_cells, cells = 0, []
    per_block = max(1.0, BLOCK / factor) ** 2  # a block's samples at this scale
    for c in range(GRID * GRID):
        here = cell == c
        textured = np.count_nonzero(kind[here])
        if not textured:
            continue
        textured_cells += 1
        coded = np.flatnonzero(here & (kind == 1))
        # a cell of WHOLE_CELL textured blocks or more that the "codec" re-coded whole (fewer
        # copies than a stream's share) shows no codec at work: a change filled it (half a noiseless
        # frame shifted by a row, a tone edit of half a page) and would set its own noise
        whole = textured - coded.size < max(1.0, COPIED_SHARE * textured) and textured >= WHOLE_CELL * per_block
        if coded.size >= CELL_SAMPLES and not whole:
            cells.append(coded)
    if not cells or len(cells) < CELLS_SHARE * textured_cells:
        return None
    return cells


def coded_noise(smooth: np.ndarray, level: np.ndarray, at: np.ndarray, cells: list[np.ndarray]) -> float:
    """The noise of the blocks a codec coded, in ``smooth``'s units (the smoothed residual at the
    working scale; ``level`` A's smoothed level there; ``at`` their samples, flat indices;
    ``cells`` from :func:`coded_cells`): per cell, the spread of its coded samples about their
    level's median (the cell's coded samples ordered by level and cut into parts of
    ``LEVEL_PART``: an edit of the tone curve is a function of the level and leaves nothing, a
    codec's error is not and keeps its spread), :func:`trimmed_rms`; the median over the cells."""
    values = smooth.ravel().take(at)
    levels = level.ravel().take(at)
    figures = []
    for where in cells:
        v = values[where][np.argsort(levels[where], kind="stable")]
        # parts of LEVEL_PART by level, as np.array_split cuts them (the longer first), their medians at once
        k = max(1, v.size // LEVEL_PART)
        q, r = divmod(v.size, k)
        long, short = v[:r * (q + 1)].reshape(r, q + 1), v[r * (q + 1):].reshape(k - r, q)
        figures.append(trimmed_rms(np.concatenate([(x - np.median(x, axis=1, keepdims=True)).ravel()
                                                   for x in (long, short) if x.size])))
    return float(np.median(figures))


def trimmed_rms(d: np.ndarray) -> float:
    """The root mean square of the deviations ``d`` without the largest ``TRIM`` of them (at least
    one is kept): a heavy-tailed error's spread, which a few samples of a change cannot set.

    >>> round(trimmed_rms(np.array([1.0, -1.0] * 50 + [40.0])), 6)
    1.0
    """
    sq = np.square(np.asarray(d, np.float64).ravel())
    if sq.size == 0:
        return 0.0
    keep = max(1, int(np.ceil(sq.size * (1.0 - TRIM))))
    return float(np.sqrt(np.partition(sq, keep - 1)[:keep].mean()))
