"""Pictures: fixed-scale heat map with legend, sheet with boxes where the regions are."""
import numpy as np

from scopecheck.compare.pictures import PANEL_WIDTH, diff_picture, heat, sheet_picture


def test_heat_scale_is_fixed():
    same, differ = heat(np.zeros((2, 2))), heat(np.ones((2, 2)))
    assert np.array_equal(heat(np.full((2, 2), 3.0)), differ)   # beyond 1 is drawn as 1
    assert same.mean() < differ.mean()


def test_diff_picture_has_map_and_legend():
    m = np.ones((60, 80), np.float32)
    m[10:20, 10:20] = 0.0
    pic = diff_picture(m)
    assert pic.shape[1] == 240 and pic.shape[0] > 60  # narrow maps are padded to the legend width
    assert pic[15, 15].astype(int).sum() > pic[40, 60].astype(int).sum()


def test_sheet_boxes_regions_and_scales_large_shots():
    a = np.full((100, 120, 3), 128, np.uint8)
    pic = sheet_picture(a, a, np.ones((100, 120), np.float32), a_name="a.png", b_name="b.png",
                        verdict="different", reason="local change", regions=[(30, 40, 20, 10)])
    green = (pic[..., 1] == 255) & (pic[..., 0] == 0) & (pic[..., 2] == 0)
    ys, xs = np.nonzero(green)
    # panel A starts at x = 0 under a 40 px header and a 22 px caption; lines are 2 px thick
    assert abs(xs.min() - 30) <= 1 and abs(ys.min() - (40 + 22 + 40)) <= 1
    big = np.full((1000, 2000), 100, np.uint8)
    pic = sheet_picture(big, big, np.ones((1000, 2000), np.float32), a_name="a", b_name="b",
                        verdict="near-identical", reason="same")
    assert pic.shape[1] < 3 * PANEL_WIDTH + 20


def test_sheet_boxes_regions_of_a_larger_a_on_the_smaller_grid():
    """A rescaled pair compared at the smaller size with A the larger: its regions, in A's pixels,
    are drawn where they are (they were drawn at twice their place, off the panel)."""
    a = np.full((200, 240, 3), 128, np.uint8)
    pic = sheet_picture(a, a[::2, ::2], np.ones((100, 120), np.float32), a_name="a.png", b_name="b.png",
                        verdict="different", reason="local change", regions=[(60, 80, 40, 20)])
    green = (pic[..., 1] == 255) & (pic[..., 0] == 0) & (pic[..., 2] == 0)
    ys, xs = np.nonzero(green[:, :120])  # panel A, shown at the map's 120 px
    assert abs(xs.min() - 30) <= 1 and abs(ys.min() - (40 + 22 + 40)) <= 1
    assert abs(xs.max() - (30 + 20 - 1)) <= 1
