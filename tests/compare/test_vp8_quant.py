"""WebP's quantisation noise from its VP8 frame header (issue 9: "when a side is lossy (JPEG, MJPG
frames, WebP), the noise floor must include the codec's quantisation error, derived from the file
itself"). References: libwebp's own ``webpinfo -bitstream_info`` (the values pinned for the
fixture, and read live where the tool is installed), the error a real libwebp re-encode leaves
(numpy), and 4x4 DCT rounding rebuilt with an explicit DCT matrix."""

import math
import os
import re
import shutil
import subprocess

import cv2
import numpy as np
import pytest
from skimage import data

import scopecheck.compare.pair as pair_mod
from scopecheck.compare import changes, focus
from scopecheck.compare.codec_noise import CodecTables
from scopecheck.compare.containers import webp
from scopecheck.compare.pair import SAME_VERDICTS, compare_files
from scopecheck.compare.vp8_quant import frame_quantisers, webp_tables

FIXTURE = os.path.join(os.path.dirname(__file__), "..", "..", "fixtures", "real", "skimage_camera_webp_q70.webp")


def _frame(data_: bytes) -> bytes:
    chunks, _ = webp.walk(data_)
    return next(c for c in chunks if c.fourcc == b"VP8 ").body(data_)


def _webp(img: np.ndarray, q: int) -> bytes:
    ok, buf = cv2.imencode(".webp", img, [cv2.IMWRITE_WEBP_QUALITY, q])
    assert ok
    return buf.tobytes()


def test_the_fixtures_quantisers_are_those_webpinfo_prints():
    # webpinfo -bitstream_info fixtures/real/skimage_camera_webp_q70.webp (libwebp 1.2.4):
    #   Quantizer: 39 35 29 22, Absolute delta: 1, Prob segment: 62 140 82, Base Q: 39,
    #   DQ Y1 DC 0, Y2 DC 0, Y2 AC 0, UV DC -2, UV AC -4
    fq = frame_quantisers(_frame(open(FIXTURE, "rb").read()))
    assert fq["base"] == 39 and fq["deltas"] == (0, 0, 0, -2, -4) and fq["segments"] == (39, 35, 29, 22)
    p0, p1, p2 = 62 / 256, 140 / 256, 82 / 256  # segment tree: {0, 1} with p0, then 0 with p1; 2 with p2
    assert fq["weights"] == pytest.approx((p0 * p1, p0 * (1 - p1), (1 - p0) * p2, (1 - p0) * (1 - p2)))
    t = webp_tables(open(FIXTURE, "rb").read())
    assert t.codec == "WebP" and t.quality == 39 and t.label == "quantiser 39" and t.chroma_step == (2, 2)
    # the luma AC step of segment q is AC_STEPS[q] (RFC 6386 14.1: 39 -> 43, 35 -> 39, 29 -> 33, 22 -> 26),
    # halved to an orthonormal step and taken to RGB levels (255/219)
    w = np.array(fq["weights"])
    ac = math.sqrt(float(w @ np.array([43, 39, 33, 26]) ** 2))
    assert t.luma[1, 1] == pytest.approx(ac / 2 * 255 / 219)


@pytest.mark.skipif(not (shutil.which("webpinfo") and shutil.which("cwebp")), reason="libwebp tools not installed")
@pytest.mark.parametrize("options", [["-q", "30"], ["-q", "95"], ["-q", "75", "-segments", "1"], ["-q", "60", "-sns", "0"],
                                     ["-q", "80", "-f", "0", "-sharpness", "5"], ["-q", "50", "-strong", "-af"]])
def test_every_encoding_reads_as_webpinfo_reads_it(tmp_path, options):
    src = str(tmp_path / "in.png")
    cv2.imwrite(src, cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2BGR))
    out = str(tmp_path / "out.webp")
    subprocess.run(["cwebp", "-quiet", *options, src, "-o", out], check=True)
    info = subprocess.run(["webpinfo", "-bitstream_info", out], capture_output=True, text=True, check=True).stdout
    fq = frame_quantisers(_frame(open(out, "rb").read()))
    assert fq["base"] == int(re.search(r"Base Q:\s+(-?\d+)", info).group(1))
    names = ("Y1 DC", "Y2 DC", "Y2 AC", "UV DC", "UV AC")
    assert fq["deltas"] == tuple(int(re.search(rf"DQ {n}:\s+(-?\d+)", info).group(1)) for n in names)
    seg = re.search(r"Quantizer:\s+(-?\d+) (-?\d+) (-?\d+) (-?\d+)", info)
    if re.search(r"Use segment:\s+1", info) and seg:
        absolute = re.search(r"Absolute delta:\s+1", info) is not None
        expected = tuple(int(v) + (0 if absolute else fq["base"]) for v in seg.groups())
        assert fq["segments"] == expected
    else:
        assert fq["segments"] is None


@pytest.mark.parametrize("name", ["astronaut", "coffee", "camera"])
def test_the_model_bounds_a_real_reencodes_error(name):
    """Unsmoothed, q^2/12 per coefficient is an upper bound (small coefficients round to zero with
    less error); through the comparison's smoothing the prediction holds within a factor of two
    (measured 0.58-0.87 of it at q50-95 on these photos)."""
    img = getattr(data, name)()
    bgr = cv2.cvtColor(img, cv2.COLOR_RGB2BGR) if img.ndim == 3 else cv2.cvtColor(img, cv2.COLOR_GRAY2BGR)
    y = cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY).astype(np.float32)
    for q in (50, 70, 85, 95):
        buf = _webp(bgr, q)
        t = webp_tables(buf)
        dec = cv2.imdecode(np.frombuffer(buf, np.uint8), cv2.IMREAD_COLOR)
        err = cv2.cvtColor(dec, cv2.COLOR_BGR2GRAY).astype(np.float32) - y
        assert err.std() <= 1.05 * t.pixel_sigma(), (name, q)
        smooth, predicted = cv2.GaussianBlur(err, (0, 0), 1.5).std(), t.pixel_sigma(smooth_sigma=1.5)
        assert 0.5 * predicted < smooth <= 1.05 * predicted, (name, q, smooth, predicted)


def test_no_model_for_lossless_or_foreign_bytes():
    img = data.camera()
    assert webp_tables(_webp(img, 101)) is None  # OpenCV: quality above 100 is lossless (VP8L)
    assert webp_tables(b"\x89PNG\r\n\x1a\n") is None and webp_tables(b"RIFF\x10\0\0\0WEBPVP8 ") is None
    lossy = _webp(img, 70)
    assert webp_tables(lossy[:40]) is None  # the frame's declared partition runs past the end
    assert frame_quantisers(b"\x01" * 20) is None  # an inter frame


_X4 = np.arange(4)
DCT4 = np.array([math.sqrt((1 if u == 0 else 2) / 4) * np.cos(math.pi * (2 * _X4 + 1) * u / 8) for u in range(4)])


@pytest.mark.parametrize("k", [1, 3])
def test_band_noise_of_a_4x4_table_is_the_band_energy_of_rounded_4x4_coefficients(k):
    """The 8x8 JPEG figure generalised to WebP's 4x4 blocks: q^2/12 per coefficient through each
    band-pass (and an area reduction) against plain-numpy rounding of orthonormal 4x4 DCTs."""
    table = np.full((4, 4), 14.0)
    table[0, 0] = 9.0
    img = np.random.default_rng(1).normal(128, 300, (960, 960))
    b = img.reshape(240, 4, 240, 4).transpose(0, 2, 1, 3)
    c = np.einsum("ij,abjk,lk->abil", DCT4, b, DCT4)
    rounded = np.einsum("ji,abjk,kl->abil", DCT4, np.round(c / table) * table, DCT4)
    err = (rounded.transpose(0, 2, 1, 3).reshape(960, 960) - img).astype(np.float32)
    if k > 1:
        err = cv2.resize(err, (960 // k, 960 // k), interpolation=cv2.INTER_AREA)
    bands = [float((cv2.GaussianBlur(err, (0, 0), s) - cv2.GaussianBlur(err, (0, 0), 2 * s))[24:-24, 24:-24].var())
             for s in changes.BANDS_SIGMA[:-1]]
    got = focus.codec_band_noise((CodecTables(luma=table, chroma=None, quality=0), None), (1.0, 1.0), k)[:, 0]
    assert got == pytest.approx(bands, rel=0.03)
    # and unsmoothed: the mean of q^2/12 over the block's coefficients (Parseval)
    t = CodecTables(luma=table, chroma=None, quality=0)
    assert t.pixel_sigma() == pytest.approx(float(np.sqrt((table ** 2 / 12).mean())))
    assert float(np.std(rounded - b)) == pytest.approx(t.pixel_sigma(), rel=0.02)


@pytest.mark.parametrize("q", [70, 85])
def test_a_webp_reencode_is_reproduced_from_its_quantisers(tmp_path, q, monkeypatch):
    """skimage's colour wheel: its flat areas carry 1-3 level steps after a WebP re-encode. The
    quantisers read from the file let libwebp reproduce the copy from the original, pixel for
    pixel; without them the same pair reads a local change."""
    a = str(tmp_path / "color.png")
    cv2.imwrite(a, cv2.cvtColor(data.colorwheel(), cv2.COLOR_RGB2BGR))
    b = str(tmp_path / f"color_q{q}.webp")
    cv2.imwrite(b, cv2.imread(a), [cv2.IMWRITE_WEBP_QUALITY, q])
    c = compare_files(a, b)
    assert c.verdict in SAME_VERDICTS and c.same_field, c.reason
    assert c.reason.startswith("B is A re-encoded as a WebP: libwebp at B's quantisers (base ")
    assert c.reason.endswith("reproduces it pixel for pixel") and c.b.codec.codec == "WebP"
    assert c.to_json()["reencode"] == {"side": "B", "of": "A", "codec": "WebP",
                                       "quantisers": list(c.b.codec.quantisers), "pixel_equal": True}
    monkeypatch.setattr(pair_mod, "webp_tables", lambda data_: None)
    c0 = compare_files(a, b)
    assert c0.verdict == "different" and "local change" in c0.reason and c0.reencode is None, c0.reason
