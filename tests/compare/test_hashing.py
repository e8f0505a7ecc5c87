"""dHash against a plain-numpy reference written from the definition, plus the value class."""
import cv2
import numpy as np
import pytest

from scopecheck.compare.errors import InputError
from scopecheck.compare.hashing import DHash, area_average, dhash, dhash_from_luma, luma
from tests.conftest import scene


def reference_area_average(gray: np.ndarray, w: int, h: int) -> np.ndarray:
    """Exact area average by explicit overlap weights (float64), independent of compare.hashing."""
    def weights(n_out, n_in):
        step = n_in / n_out
        m = np.zeros((n_out, n_in))
        for i in range(n_out):
            lo, hi = i * step, (i + 1) * step
            for p in range(int(np.floor(lo)), min(int(np.ceil(hi)), n_in)):
                m[i, p] = max(0.0, min(hi, p + 1) - max(lo, p))
        return m / step
    return weights(h, gray.shape[0]) @ gray.astype(np.float64) @ weights(w, gray.shape[1]).T


def reference_dhash_hex(gray: np.ndarray, n: int = 8) -> str:
    cells = reference_area_average(gray, n + 1, n)
    bits = "".join("1" if cells[r, c + 1] > cells[r, c] else "0" for r in range(n) for c in range(n))
    return format(int(bits, 2), f"0{(n * n + 3) // 4}x")


@pytest.mark.parametrize("shape", [(240, 320), (97, 131), (8, 9), (5, 7), (1944 // 4, 2592 // 4)])
def test_area_average_matches_reference(shape):
    g = scene(5, *shape, channels=1).astype(np.uint8) if min(shape) >= 8 else \
        np.random.default_rng(2).integers(0, 256, shape, dtype=np.uint8)
    np.testing.assert_allclose(area_average(g, 9, 8), reference_area_average(g, 9, 8), rtol=0, atol=1e-9)


def test_area_average_matches_opencv_inter_area():
    g = scene(6, 480, 640, channels=1).astype(np.uint8)
    ref = cv2.resize(g.astype(np.float64), (9, 8), interpolation=cv2.INTER_AREA)
    np.testing.assert_allclose(area_average(g, 9, 8), ref, atol=1e-4)


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("n", [8, 16])
def test_dhash_matches_reference(seed, n):
    g = scene(seed, 240, 320, channels=1).astype(np.uint8)
    assert dhash_from_luma(g, hash_size=n).hex == reference_dhash_hex(g, n)


def test_bit_layout_first_bit_is_msb():
    # brightness rises to the right in row 0 only: the first 8 bits (top byte) are set
    g = np.zeros((8, 9), np.uint8)
    g[0] = np.arange(9) * 20
    h = dhash_from_luma(g)
    assert h.hex == "ff00000000000000"
    assert h.to_bits()[0].all() and not h.to_bits()[1:].any()


def test_luma_is_bt601():
    px = np.array([[[10, 200, 30]]], np.uint8)  # B, G, R
    assert abs(int(luma(px)[0, 0]) - round(0.114 * 10 + 0.587 * 200 + 0.299 * 30)) <= 1


def test_sixteen_bit_scaled_not_clipped():
    g8 = scene(3, channels=1).astype(np.uint8)
    g16 = g8.astype(np.uint16) * 257
    assert dhash_from_luma(g16).hex == dhash_from_luma(g8).hex
    # values above 255 would all clip to one level; the 16-bit hash still sees the structure
    hi = g8.astype(np.uint16) * 100 + 20000
    assert np.clip(hi, 0, 255).min() == 255
    assert dhash_from_luma(hi).hex == dhash_from_luma(g8).hex
    assert not dhash_from_luma(hi).flat


def test_flat_frames_flagged():
    assert dhash(np.zeros((240, 320, 3), np.uint8)).flat
    assert dhash(np.full((240, 320), 65535, np.uint16)).flat
    rng = np.random.default_rng(0)
    noise_only = np.clip(128 + rng.normal(0, 2, (240, 320)), 0, 255).astype(np.uint8)
    assert dhash(noise_only).flat
    assert not dhash(scene(1).astype(np.uint8)).flat


def test_value_class_round_trip_and_distance():
    for n in (2, 3, 8, 16):
        h = dhash_from_luma(scene(n, channels=1).astype(np.uint8), hash_size=n)
        assert DHash.parse(str(h)) == h
        assert str(h).startswith(f"dhash:{n}:")
    a, b = DHash.parse("dhash:8:0000000000000000"), DHash.parse("dhash:8:00000000000000ff")
    assert a - b == 8 and b - a == 8
    assert (a == None) is False and (a != None) is True  # noqa: E711


def test_parse_never_guesses_size():
    with pytest.raises(InputError, match="16 hex digits"):
        DHash.parse("dhash:8:00ff")
    with pytest.raises(InputError):
        DHash.parse("00000000000000ff")
    with pytest.raises(InputError, match="different sizes"):
        DHash(8, 0) - DHash(16, 0)


def test_pinned_known_hash():
    """A pinned value: catches silent changes of the definition or of OpenCV's luma."""
    g = np.add.outer(np.arange(64), np.arange(72) ** 1.5 % 97).astype(np.uint8)
    assert str(dhash_from_luma(g)) == "dhash:8:" + reference_dhash_hex(g)


def test_shift_robust():
    """A one-pixel shift moves few bits (area average, not point sampling)."""
    f = scene(9, 481, 641).astype(np.uint8)
    a, b = dhash(f[:480, :640]), dhash(f[1:, 1:])
    assert a - b <= 3
