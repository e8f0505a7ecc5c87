"""Frames of one video stream (cause 29): the blocks a codec copied, and the noise of those it coded.

Real frames: ``fixtures/real/acsn_tirf_h264_*`` (real TIRF frames through H.264; sources, commands
and licence in ``fixtures/real/README.md``) and scikit-image's camera photo.
"""
from __future__ import annotations

import os

import cv2
import numpy as np
import pytest
from skimage import data

from scopecheck.compare import copied_blocks as cb
from scopecheck.compare.copied_blocks import BLOCK, CodedBlocks, coded_blocks, coded_cells, coded_noise, trimmed_rms
from scopecheck.compare.hashing import area_sums
from scopecheck.compare.pair import SAME_VERDICTS, compare_arrays, compare_files
from tests.conftest import moved_objects, no_light_test, segmented

REAL = os.path.join(os.path.dirname(__file__), "..", "..", "fixtures", "real")


def real(name):
    return os.path.join(REAL, name)


def _recoded(seed=0, share=0.4, sigma=3.0):
    """The camera photo and a copy with ``share`` of its 8x8 blocks coded again (noise added): what
    an inter-coded frame does to the blocks its reference does not predict."""
    a = data.camera()
    rng = np.random.default_rng(seed)
    pick = rng.random((a.shape[0] // BLOCK, a.shape[1] // BLOCK)) < share
    noise = np.rint(rng.normal(0, sigma, a.shape))
    noise *= np.repeat(np.repeat(pick, BLOCK, 0), BLOCK, 1)
    return a, np.clip(a + noise, 0, 255).astype(np.uint8)


def _kinds_by_loop(a, b, ox=0, oy=0):
    """Plain loops over the blocks: 0 constant in A (or holding nothing but black and full scale),
    1 differing, 2 bit-identical."""
    top = np.iinfo(a.dtype).max
    hb, wb = (a.shape[0] - oy) // BLOCK, (a.shape[1] - ox) // BLOCK
    out = np.zeros((hb, wb), np.uint8)
    for i in range(hb):
        for j in range(wb):
            sa = a[oy + i * BLOCK: oy + (i + 1) * BLOCK, ox + j * BLOCK: ox + (j + 1) * BLOCK]
            sb = b[oy + i * BLOCK: oy + (i + 1) * BLOCK, ox + j * BLOCK: ox + (j + 1) * BLOCK]
            if sa.min() != sa.max() and ((sa > 0) & (sa < top)).any():
                out[i, j] = 2 if np.array_equal(sa, sb) else 1
    return out


def test_the_blocks_a_codec_copied_are_found_block_by_block():
    a, b = _recoded()
    m = coded_blocks(a, b)
    assert m is not None and m.phase == (0, 0)
    ref = _kinds_by_loop(a, b)
    assert np.array_equal(m.kind, ref)
    assert m.copied == pytest.approx(np.count_nonzero(ref == 2) / np.count_nonzero(ref))
    assert 0.5 < m.copied < 0.7  # 60 % of the blocks left alone, less those noise left unchanged


def test_a_crop_keeps_the_codec_grid_wherever_it_starts():
    a, b = _recoded(seed=1)
    m = coded_blocks(a[5:, 3:], b[5:, 3:])  # the first full block: 5 px in, 3 px down
    assert m.phase == (5, 3)
    assert np.array_equal(m.kind, _kinds_by_loop(a[5:, 3:], b[5:, 3:], ox=5, oy=3))


def test_two_captures_share_no_block():
    a = data.camera().astype(float)
    rng = np.random.default_rng(2)
    one, two = (np.clip(np.rint(a + rng.normal(0, 1.0, a.shape)), 0, 255).astype(np.uint8) for _ in range(2))
    assert coded_blocks(one, two) is None


def test_nearly_noiseless_frames_tie_blocks_by_chance_not_by_a_codec(monkeypatch):
    # dark frames: the same hot pixels in both, and a level of noise on 1 % of the pixels of each --
    # 98 % of the pixels tie, so half the blocks holding a hot pixel tie as a whole by chance
    rng = np.random.default_rng(3)
    hot = (rng.random((256, 256)) < 0.03).astype(np.uint8) * 9
    one, two = (hot + (rng.random((256, 256)) < 0.01).astype(np.uint8) for _ in range(2))
    assert coded_blocks(one, two) is None
    monkeypatch.setattr(cb, "COPIES_OVER_TIES", 0)  # without the tie test they would pass for copies
    monkeypatch.setattr(cb, "FEW_LEVELS_SHARE", 1.1)  # (and without cause 37's: hot pixels on black are 2 levels)
    m = coded_blocks(one, two)
    assert m is not None and m.copied > cb.COPIED_SHARE


def test_blocks_of_black_and_full_scale_alone_tie_without_a_codec(monkeypatch):
    # two binarised boards (DeepPCB, MIT; fixtures/real/README.md): every edge between black and
    # white that both hold in one place ties bit for bit in the two files, with no codec copying
    # anything -- 24 and 42 such blocks passed for a stream's copies, and the edges' jitter for its
    # coded error (the frame's noise 24.6 DN). Neither pair is one stream
    for i in ("00041005", "00041089"):
        a, b = (cv2.imread(real(f"deeppcb_{i}_{k}.jpg"), cv2.IMREAD_GRAYSCALE) for k in ("temp", "test"))
        assert coded_blocks(a, b) is None
    # a block of 0 and 255 that ties is neither copied nor coded; one more level in it makes it texture
    a = np.zeros((64, 64), np.uint8)
    a[:, 20:44] = 255
    b = a.copy()
    b[40:, :] = 255 - b[40:, :]  # the lower blocks differ
    assert np.array_equal(_kinds_by_loop(a, b), np.zeros((8, 8), np.uint8))
    a[::8, 21] = b[::8, 21] = 128
    ref = _kinds_by_loop(a, b)
    assert set(np.unique(ref[:, 2])) == {1, 2} and not ref[:, [0, 1, 3, 4, 5, 6, 7]].any()
    monkeypatch.setattr(cb, "COPIED_MIN", 1)
    monkeypatch.setattr(cb, "COPIES_OVER_TIES", 0)
    monkeypatch.setattr(cb, "FEW_LEVELS_SHARE", 1.1)
    m = coded_blocks(a, b)
    assert m is not None and m.phase == (0, 0) and np.array_equal(m.kind, ref)


# 00041089's marked defects (DeepPCB ``PCBData/group00041/00041_not/00041089.txt``: x0 y0 x1 y1 type)
BOARD_DEFECTS = [(160, 472, 201, 501), (34, 324, 85, 353), (153, 164, 189, 202), (178, 253, 212, 291),
                 (435, 146, 469, 187), (53, 104, 103, 138), (136, 88, 166, 117)]


def test_a_defective_board_whose_edges_tie_reads_different(monkeypatch):
    temp, test = real("deeppcb_00041089_temp.jpg"), real("deeppcb_00041089_test.jpg")
    c = compare_files(temp, test)
    assert c.verdict == "different", c.reason
    boxes = [(r["x"], r["y"], r["x"] + r["width"], r["y"] + r["height"]) for r in c.to_json()["regions"]]
    assert any(x0 < d[2] and x1 > d[0] and y0 < d[3] and y1 > d[1]
               for x0, y0, x1, y1 in boxes for d in BOARD_DEFECTS), boxes
    # with those ties taken for a stream's copies, the defects hid in the edges' "coded error"
    maps = cb._maps
    monkeypatch.setattr(cb, "_maps", lambda a2, b2, ch: maps(a2, b2, ch)[:3] + (np.full(a2.shape, 255, np.uint8),))
    monkeypatch.setattr(cb, "FEW_LEVELS_SHARE", 1.1)  # (cause 37 would refuse those copies too: two levels each)
    assert compare_files(temp, test).verdict in SAME_VERDICTS


def _labels_with_moved_objects(share=1 / 3, by=(3, 2)):
    """A label image of scikit-image's coins and the same with ``share`` of its objects moved by
    ``by`` (rows, columns): what two time points of a segmented time-lapse are."""
    lab = segmented(data.coins(), smallest=30)
    rng = np.random.default_rng(0)
    return lab, moved_objects(lab, rng.choice(np.arange(1, lab.max() + 1), size=int(lab.max() * share), replace=False), by)


def _levels_by_loop(a, pick, ox=0, oy=0):
    """Plain loops: the share of the picked blocks holding at most 3 distinct values."""
    few = [len(np.unique(a[oy + i * BLOCK: oy + (i + 1) * BLOCK, ox + j * BLOCK: ox + (j + 1) * BLOCK])) <= 3
           for i, j in zip(*np.nonzero(pick))]
    return float(np.mean(few)) if few else 0.0


def test_the_ties_of_a_label_image_are_no_codec(monkeypatch):
    # cause 37: two label images whose objects moved tie bit for bit wherever they did not, block by
    # block, with no codec: every such block holds 2 or 3 labels. Taken for a stream, the moved
    # objects' residual became its "coded error" and the pair read "same field within noise"
    lab, moved = _labels_with_moved_objects()
    assert coded_blocks(lab, moved) is None
    for a, b in ((lab, moved), (np.minimum(lab, 255).astype(np.uint8), np.minimum(moved, 255).astype(np.uint8))):
        c = compare_arrays(a, b)
        assert c.verdict == "different", c.reason
    monkeypatch.setattr(cb, "FEW_LEVELS_SHARE", 1.1)
    m = coded_blocks(lab, moved)
    assert m is not None  # without the rule: a stream ...
    assert cb._few_levels(lab[m.phase[1]:, m.phase[0]:][:m.kind.shape[0] * BLOCK, :m.kind.shape[1] * BLOCK],
                          m.kind == 2) == pytest.approx(_levels_by_loop(lab, m.kind == 2, *m.phase)) == 1.0
    no_light_test(monkeypatch)  # (cause 41's test of small objects' light finds some of the moved ones)
    assert compare_arrays(lab, moved).verdict in SAME_VERDICTS  # ... and the false "same"


def test_a_real_h264_streams_copies_hold_many_levels():
    # the TIRF frames through H.264 (fixtures): their copies are smooth, but hold 2-3 levels in only
    # about a third of the blocks -- the stream is still one
    a, b = (cv2.imread(real(f"acsn_tirf_h264_crf30_f{k}.png"), cv2.IMREAD_UNCHANGED) for k in (1, 2))
    m = coded_blocks(a, b)
    assert m is not None
    ox, oy = m.phase
    share = _levels_by_loop(a, m.kind == 2, ox, oy)
    assert 0.1 < share < 0.6 and share < cb.FEW_LEVELS_SHARE


def _codec_residual(sigma, coded_cells=None, seed=4, h=128, w=128):
    """A smoothed residual at the working scale: Gaussian in coded blocks (``coded_cells``: the
    cells of the 4x4 grid that hold any, default all; 40 % of the blocks there), 0 in copied ones."""
    rng = np.random.default_rng(seed)
    kind = np.full((h // BLOCK, w // BLOCK), 2, np.uint8)
    coded = rng.random(kind.shape) < 0.4
    if coded_cells is not None:
        cells = (np.arange(kind.shape[0])[:, None] * 4 // kind.shape[0]) * 4 + np.arange(kind.shape[1])[None] * 4 // kind.shape[1]
        coded &= np.isin(cells, coded_cells)
    kind[coded] = 1
    mask = np.repeat(np.repeat(kind == 1, BLOCK, 0), BLOCK, 1)
    smooth = (rng.normal(0, sigma, (h, w)) * mask).astype(np.float32)
    level = rng.uniform(10, 200, (h, w)).astype(np.float32)
    return smooth, level, CodedBlocks(kind=kind, phase=(0, 0), copied=float(np.mean(kind == 2))), mask


def _trimmed_rms(v, share=0.01):
    """Plain numpy: the RMS of ``v`` about 0 without its largest ``share`` (by magnitude)."""
    v = np.sort(np.abs(np.asarray(v, np.float64)))
    return float(np.sqrt(np.mean(v[: int(np.ceil(v.size * (1 - share)))] ** 2)))


def test_the_coded_blocks_noise_is_their_own_spread():
    smooth, level, blocks, mask = _codec_residual(2.0)
    at = np.arange(smooth.size)
    got = coded_noise(smooth, level, at, coded_cells(at, smooth.shape, blocks, 1))
    v = smooth[mask]
    assert got == pytest.approx(_trimmed_rms(v - np.median(v)), rel=0.1)  # plain numpy over all coded samples
    assert got == pytest.approx(2.0 * 0.962, rel=0.1)  # a Gaussian's RMS within +-2.576 sigma: 0.962 sigma
    whole = 1.4826 * np.median(np.abs(smooth - np.median(smooth)))
    assert whole < 0.1  # over every sample the copies' ties collapse it (cause 29)


def test_heavy_tailed_coded_errors_keep_their_tail():
    # an encoder re-codes most blocks by one step and some by several: 1 block in 5 with 4x the error
    smooth, level, blocks, mask = _codec_residual(1.0, h=256, w=256)
    rng = np.random.default_rng(9)
    loud = np.repeat(np.repeat(rng.random((32, 32)) < 0.2, 8, 0), 8, 1)
    smooth = np.where(loud, 4.0 * smooth, smooth).astype(np.float32)
    at = np.arange(smooth.size)
    got = coded_noise(smooth, level, at, coded_cells(at, smooth.shape, blocks, 1))
    v = smooth[mask]
    mad = 1.4826 * np.median(np.abs(v - np.median(v)))
    assert got == pytest.approx(_trimmed_rms(v - np.median(v)), rel=0.1)
    assert got > 1.3 * mad  # the Gaussian's robust sigma of session 17 put the tail at up to 13 of itself (cause 31)


def test_a_speck_in_every_cell_does_not_set_it():
    smooth, level, blocks, mask = _codec_residual(2.0)
    at = np.arange(smooth.size)
    cells = coded_cells(at, smooth.shape, blocks, 1)
    specked = smooth.copy()
    for where in cells:  # half a percent of every cell's coded samples 100 levels off
        specked.ravel()[at[where[:: 200]]] += 100.0
    assert coded_noise(specked, level, at, cells) == pytest.approx(coded_noise(smooth, level, at, cells), rel=0.05)


def test_trimmed_rms_against_numpy():
    v = np.random.default_rng(3).standard_t(3, 5000)
    assert trimmed_rms(v) == pytest.approx(_trimmed_rms(v), rel=1e-12)
    assert trimmed_rms(np.array([])) == 0.0
    assert trimmed_rms(np.array([7.0])) == 7.0


def test_a_tone_edit_of_half_the_frame_does_not_raise_it():
    smooth, level, blocks, mask = _codec_residual(2.0)
    left = np.zeros_like(mask)
    left[:, :64] = True
    edited = smooth + np.where(mask & left, 0.15 * level, 0).astype(np.float32)  # a function of level: up to 30 levels
    at = np.arange(smooth.size)
    cells = coded_cells(at, smooth.shape, blocks, 1)
    assert coded_noise(edited, level, at, cells) == pytest.approx(coded_noise(smooth, level, at, cells), rel=0.15)


def test_a_change_confined_to_a_few_cells_sets_no_noise():
    smooth, _, blocks, _ = _codec_residual(8.0, coded_cells=[5, 6])  # an object: 2 of 16 cells
    assert coded_cells(np.arange(smooth.size), smooth.shape, blocks, 1) is None


def test_real_h264_frames_of_an_unchanged_field_are_the_same():
    c = compare_files(real("acsn_tirf_h264_crf30_f1.png"), real("acsn_tirf_h264_crf30_f2.png"))
    assert c.verdict in SAME_VERDICTS, c.reason
    assert "within the codec's noise in the blocks it coded (13 % of blocks bit-identical" in c.reason
    assert c.analysis.copied_blocks == pytest.approx(0.13, abs=0.005)


def test_a_traffic_cameras_stream_of_a_still_window_is_the_same():
    # a real camera's own codec (bgslibrary's demo frames): most re-coded blocks by a level or two,
    # some by 10-40 (a colour fringe); session 17's median-based sigma read 7x the noise here
    c = compare_files(real("bgs_wsdot_trees_f16.png"), real("bgs_wsdot_trees_f17.png"))
    assert c.verdict in SAME_VERDICTS, c.reason
    assert "within the codec's noise in the blocks it coded (53 % of blocks bit-identical" in c.reason


def test_the_same_stream_with_its_tail_measured_as_a_gaussian_reads_changed(monkeypatch):
    from scopecheck.compare.noise_floor import _robust_sigma
    monkeypatch.setattr(cb, "trimmed_rms", _robust_sigma)
    c = compare_files(real("bgs_wsdot_trees_f16.png"), real("bgs_wsdot_trees_f17.png"))
    assert c.verdict == "different" and "local change" in c.reason


def test_vehicles_on_the_carriageway_of_that_stream_are_a_change():
    c = compare_files(real("bgs_wsdot_road_f01.png"), real("bgs_wsdot_road_f02.png"))
    assert c.verdict == "different" and "local change" in c.reason
    assert coded_blocks(*(cv2.imread(real(f"bgs_wsdot_road_f0{i}.png")) for i in (1, 2))) is not None  # one stream


def test_without_the_coded_blocks_noise_those_frames_read_changed(monkeypatch):
    monkeypatch.setattr(cb, "COPIED_SHARE", 2.0)  # no pair is taken for frames of one stream
    c = compare_files(real("acsn_tirf_h264_crf30_f1.png"), real("acsn_tirf_h264_crf30_f2.png"))
    assert c.verdict not in SAME_VERDICTS and "local change" in c.reason


def test_a_crop_of_those_frames_is_judged_alike():
    # H.264 skips whole 16x16 macroblocks: 8x8 windows at several phases lie inside copied ones,
    # so the phase is not pinned here (the 8x8 copies above pin it); the verdict is the same
    a, b = (cv2.imread(real(f"acsn_tirf_h264_crf30_f{i}.png"), cv2.IMREAD_GRAYSCALE)[5:, 3:] for i in (1, 2))
    assert coded_blocks(a, b) is not None
    assert compare_arrays(a, b).verdict in SAME_VERDICTS


def test_an_object_moving_through_frames_of_one_stream_is_a_change():
    c = compare_files(real("acsn_tirf_h264_disc_crf35_f5.png"), real("acsn_tirf_h264_disc_crf35_f6.png"))
    assert c.verdict not in SAME_VERDICTS
    # ... though the pair is taken for frames of one stream: the rule was at work, and did not hide it
    a, b = (cv2.imread(real(f"acsn_tirf_h264_disc_crf35_f{i}.png"), cv2.IMREAD_GRAYSCALE) for i in (5, 6))
    assert coded_blocks(a, b) is not None
    # the region lies on the disc's path: centred at (79, 79), then (82, 82)
    assert any(r.x - 6 <= 82 <= r.x + r.width + 6 and r.y - 6 <= 82 <= r.y + r.height + 6 for r in c.analysis.regions)


@pytest.mark.parametrize("channels", [1, 3, 4])
def test_block_counts_are_the_exact_sums(channels):
    # the area reduction's rounded means, scaled back, against the project's exact integer area
    # sums (compare.hashing.area_sums, dHash's reference): equal for blocks of 64, 192 and 256 samples
    rng = np.random.default_rng(channels)
    x = ((rng.random((128, 64 * BLOCK * channels)) < 0.3) * 255).astype(np.uint8)
    x[:BLOCK, :BLOCK * channels] = 0
    x[BLOCK:2 * BLOCK, :BLOCK * channels] = 0
    x[BLOCK, 0] = 255  # one sample set in a block: counted, never rounded away
    exact = np.rint(area_sums(x, 64, 16) / (16 * 64) / 255).astype(np.int64)
    got = cb._block_counts(x, 16, 64)
    assert np.array_equal(got, exact)
    assert got[0, 0] == 0 and got[1, 0] == 1


def test_a_share_short_of_all_blocks_is_never_written_as_100_percent():
    a = data.camera()
    b = a.copy()
    rng = np.random.default_rng(5)
    for y in range(40, 512, 128):  # one block re-coded in each of the 16 cells: 16 of 4096, 99.6 % copied
        for x in range(40, 512, 128):
            b[y:y + 8, x:x + 8] = np.clip(b[y:y + 8, x:x + 8] + rng.integers(-2, 3, (8, 8)), 0, 255)
    c = compare_arrays(a, b)
    assert c.verdict in SAME_VERDICTS, c.reason
    assert "(99.6 % of blocks bit-identical" in c.reason  # 16 of the textured blocks re-coded; 100 before


def test_a_large_frame_counts_every_coded_sample_not_the_fits_subsample():
    # 2 % of a 1280 px photo's blocks re-coded (noise of 3 levels), spread over the frame: the fit
    # reads every 4th working pixel, and on it a cell held too few coded samples ("10x the noise" before)
    a = cv2.resize(cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2GRAY), (1280, 1280), interpolation=cv2.INTER_CUBIC)
    b = a.copy()
    rng = np.random.default_rng(2)
    for by, bx in zip(*np.nonzero(rng.random((160, 160)) < 0.02)):
        blk = b[by * 8:by * 8 + 8, bx * 8:bx * 8 + 8].astype(np.float64)
        b[by * 8:by * 8 + 8, bx * 8:bx * 8 + 8] = np.clip(np.rint(blk + rng.normal(0, 3, (8, 8))), 0, 255)
    c = compare_arrays(a, b)
    assert c.verdict in SAME_VERDICTS, c.reason
    assert "(98 % of blocks bit-identical" in c.reason


def test_half_a_noiseless_frame_shifted_by_a_row_is_no_codec_at_work():
    # every block of the top half is bit-identical, every textured one below re-coded: cells
    # re-coded whole are not taken for a codec's error (with the RMS they set the shift's own
    # noise and the pair read "same")
    img = data.text()
    r = img.shape[0] // 2
    dup = np.concatenate([img[:r], img[r:r + 1], img[r:-1]])
    blocks = coded_blocks(img, dup)
    assert blocks is not None  # a noiseless pair looks like one stream...
    assert coded_cells(np.arange(img.size), img.shape, blocks, 1) is None  # ... but no codec is seen at work
    c = compare_arrays(img, dup)
    assert c.verdict == "different", c.reason


def test_a_tone_edit_of_half_a_noiseless_page_is_no_codec_at_work():
    img = data.page()
    lut = np.clip(255 * (np.arange(256) / 255) ** 1.3 + 0.5, 0, 255).astype(np.uint8)
    b = img.copy()
    b[:, : img.shape[1] // 2] = lut[img[:, : img.shape[1] // 2]]
    c = compare_arrays(img, b)
    assert c.verdict == "different" and "dimmed" in c.reason, c.reason


def test_cells_re_coded_whole_are_left_out_only_when_large():
    small = np.full((12, 12), 2, np.uint8)
    small[:, :6] = 1  # the left half re-coded whole: cells of 3x3 blocks, a codec may re-code so by chance
    assert coded_cells(np.arange(96 * 96), (96, 96), CodedBlocks(kind=small, phase=(0, 0), copied=0.5), 1) is not None
    kind = np.full((16, 16), 2, np.uint8)
    kind[:, :8] = 1
    big = CodedBlocks(kind=np.repeat(np.repeat(kind, 2, 0), 2, 1), phase=(0, 0), copied=0.5)
    assert coded_cells(np.arange(256 * 256), (256, 256), big, 1) is None  # 64 blocks a cell, none copied
    mixed = big.kind.copy()
    mixed[::4, 1:16:4] = 2  # a few copies among the re-coded blocks: a codec at work
    assert coded_cells(np.arange(256 * 256), (256, 256), CodedBlocks(kind=mixed, phase=(0, 0), copied=0.5), 1) is not None
