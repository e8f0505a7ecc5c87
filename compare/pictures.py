"""Pictures people look at instead of reading numbers: the SSIM diff heat map, the A|B|diff sheet
and the HTML contact sheet of duplicate groups.

Every picture is written through :func:`compare.atomic.write_atomic` (no clobbering unless asked)
in the format its file name's extension names (:func:`picture_format`); an unknown extension is
refused before any work.

The heat map shows local dissimilarity ``1 - SSIM`` on a fixed scale (0 = same, 1 = unrelated;
values above 1 -- anti-correlated structure -- are drawn as 1) so that maps of different pairs
can be compared by eye. Each picture carries its own legend.
"""
from __future__ import annotations

import os

import cv2
import numpy as np

from .atomic import write_atomic
from .errors import InputError

COLORMAP = cv2.COLORMAP_INFERNO
FONT = cv2.FONT_HERSHEY_SIMPLEX
PANEL_WIDTH = 900  # widest panel of a sheet, pixels


def heat(dissimilarity: np.ndarray) -> np.ndarray:
    """Colour a ``1 - SSIM`` map (float) to BGR uint8 on the fixed 0..1 scale."""
    v = np.clip(dissimilarity, 0.0, 1.0)
    return cv2.applyColorMap(np.rint(v * 255).astype(np.uint8), COLORMAP)


def _legend(width: int, title: str) -> np.ndarray:
    """A colour bar 0..1 with ticks and a title, ``width`` pixels wide."""
    h = 46
    out = np.full((h, width, 3), 255, np.uint8)
    bar_w = max(width - 20, 10)
    ramp = np.tile(np.linspace(0, 255, bar_w).astype(np.uint8), (12, 1))
    out[18:30, 10:10 + bar_w] = cv2.applyColorMap(ramp, COLORMAP)
    cv2.putText(out, title, (10, 13), FONT, 0.38, (0, 0, 0), 1, cv2.LINE_AA)
    for frac, label in ((0.0, "0 same"), (0.5, "0.5"), (1.0, "1 differ")):
        x = 10 + int(frac * (bar_w - 1))
        (tw, _), _ = cv2.getTextSize(label, FONT, 0.35, 1)
        tx = min(max(x - tw // 2, 0), width - tw)
        cv2.line(out, (x, 30), (x, 33), (0, 0, 0), 1)
        cv2.putText(out, label, (tx, 43), FONT, 0.35, (0, 0, 0), 1, cv2.LINE_AA)
    return out


LEGEND_MIN_WIDTH = 240


def _stack(parts: list[np.ndarray]) -> np.ndarray:
    """Stack pictures vertically, padding narrower ones with white on the right."""
    width = max(p.shape[1] for p in parts)
    padded = [np.pad(p, ((0, 0), (0, width - p.shape[1]), (0, 0)), constant_values=255) for p in parts]
    return np.vstack(padded)


def diff_picture(ssim_map: np.ndarray) -> np.ndarray:
    """Heat map of ``1 - SSIM`` with a legend underneath (BGR uint8)."""
    body = heat(1.0 - ssim_map)
    legend = _legend(max(body.shape[1], LEGEND_MIN_WIDTH), "local dissimilarity, 1 - SSIM")
    return _stack([body, legend])


CHECKER = 8  # px: the squares a transparent picture is shown over


def to_bgr8(pixels: np.ndarray) -> np.ndarray:
    """8-bit BGR view of any stored pixel array (16-bit scaled by 1/257, gray expanded); a picture
    with transparency is shown over a light checkerboard, as image editors show it (an opaque alpha
    channel changes nothing)."""
    img = pixels
    if img.dtype == np.uint16:
        img = np.rint(img / 257.0).astype(np.uint8)
    if img.ndim == 2:
        return cv2.cvtColor(img, cv2.COLOR_GRAY2BGR)
    if img.shape[2] == 4:
        alpha = img[:, :, 3]
        bgr = cv2.cvtColor(img, cv2.COLOR_BGRA2BGR)
        if bool(np.all(alpha == 255)):
            return bgr
        h, w = alpha.shape
        yy, xx = np.indices((h, w), sparse=True)
        board = np.where(((yy // CHECKER + xx // CHECKER) % 2) == 0, 204, 153).astype(np.uint16)
        a = alpha.astype(np.uint16)
        under = board * (np.uint16(255) - a)  # integer blend, rounded: (c a + board (255 - a) + 127) // 255
        under += np.uint16(127)
        out = bgr.astype(np.uint16)
        out *= a[:, :, None]
        out += under[:, :, None]
        out //= np.uint16(255)
        return out.astype(np.uint8)
    return img


def _caption(img: np.ndarray, text: str) -> np.ndarray:
    bar = np.full((22, img.shape[1], 3), 255, np.uint8)
    scale = 0.42
    while scale > 0.25 and cv2.getTextSize(text, FONT, scale, 1)[0][0] > img.shape[1] - 8:
        scale -= 0.04
    cv2.putText(bar, text, (4, 15), FONT, scale, (0, 0, 0), 1, cv2.LINE_AA)
    return np.vstack([bar, img])


def comparison_sheet(c, *, a_name: str | None = None, b_name: str | None = None) -> np.ndarray:
    """:func:`sheet_picture` of a :class:`compare.pair.Comparison` (with its map): the pixels as
    compared (the larger cut to the window when one side is a crop of it) and the regions on them."""
    a, b = c.compared_pixels()
    ox, oy = (c.window["x"], c.window["y"]) if c.window is not None and c.window["side"] == "A" else (0, 0)
    def page(side) -> str:  # a stack: the page shown
        return f" (image {c.page + 1})" if side.image.images > 1 else ""
    a_name = (c.a.image.path if a_name is None else a_name) + page(c.a)
    b_name = (c.b.image.path if b_name is None else b_name) + page(c.b)
    return sheet_picture(a, b, c.ssim_map, a_name=a_name, b_name=b_name, verdict=c.verdict, reason=c.reason,
                         regions=[(r.x - ox, r.y - oy, r.width, r.height)
                                  for r in (*c.regions, *(c.alpha.regions if c.alpha is not None else ()))],
                         moved=[(o.x - ox, o.y - oy, o.width, o.height)
                                for o in (c.analysis.moved_objects_at if c.analysis is not None else ())])


def sheet_picture(a_pixels, b_pixels, ssim_map, *, a_name: str, b_name: str, verdict: str,
                  reason: str, regions=(), moved=()) -> np.ndarray:
    """A | B | diff overlay side by side, captioned with names, verdict and reason.

    ``regions`` are boxes ``(x, y, w, h)`` in A's pixels, drawn on A and on the overlay (green);
    ``moved`` are boxes of objects that moved on their own, drawn alike in magenta.
    Panels wider than ``PANEL_WIDTH`` are shown reduced.
    The overlay is B's size-matched luma with the heat map blended where SSIM is low.
    """
    a = to_bgr8(a_pixels)
    b = to_bgr8(b_pixels)
    h, w = ssim_map.shape
    k = min(1.0, PANEL_WIDTH / w)  # large shots are shown at most PANEL_WIDTH wide per panel
    g = w / a.shape[1]  # A's pixels to the map's grid (A the larger of a rescaled pair: the smaller's)
    boxes = [(box, (0, 255, 0)) for box in regions] + [(box, (255, 0, 255)) for box in moved]
    boxes = [((x * g * k, y * g * k, rw * g * k, rh * g * k), colour) for (x, y, rw, rh), colour in boxes]
    if k < 1.0:
        w, h = round(w * k), round(h * k)
        ssim_map = cv2.resize(ssim_map, (w, h), interpolation=cv2.INTER_AREA)
    if a.shape[:2] != (h, w):
        a = cv2.resize(a, (w, h), interpolation=cv2.INTER_AREA)
    if b.shape[:2] != (h, w):
        b = cv2.resize(b, (w, h), interpolation=cv2.INTER_AREA)
    d = np.clip(1.0 - ssim_map, 0, 1).astype(np.float32)
    gray = cv2.cvtColor(cv2.cvtColor(a, cv2.COLOR_BGR2GRAY), cv2.COLOR_GRAY2BGR).astype(np.float32)
    alpha = np.clip(d * 2.0, 0, 0.85)[..., None]
    overlay = (gray * (1 - alpha) + heat(d).astype(np.float32) * alpha).astype(np.uint8)
    a = a.copy()
    for (x, y, rw, rh), colour in boxes:
        for img in (a, overlay):
            cv2.rectangle(img, (int(x), int(y)), (int(x + rw - 1), int(y + rh - 1)), colour, 2)
    gap = np.full((h + 22, 6, 3), 255, np.uint8)
    row = np.hstack([_caption(a, f"A: {os.path.basename(a_name)}"), gap,
                     _caption(b, f"B: {os.path.basename(b_name)}"), gap,
                     _caption(overlay, "A with 1 - SSIM overlay")])
    head = np.full((40, row.shape[1], 3), 255, np.uint8)
    colour = (0, 140, 0) if verdict != "different" else (0, 0, 200)
    cv2.putText(head, verdict, (6, 16), FONT, 0.55, colour, 1, cv2.LINE_AA)
    scale = 0.4
    while scale > 0.25 and cv2.getTextSize(reason, FONT, scale, 1)[0][0] > row.shape[1] - 12:
        scale -= 0.03
    cv2.putText(head, reason, (6, 34), FONT, scale, (0, 0, 0), 1, cv2.LINE_AA)
    legend = _legend(max(min(row.shape[1], 360), LEGEND_MIN_WIDTH), "overlay: local dissimilarity, 1 - SSIM")
    return _stack([head, row, legend])


# extension -> (OpenCV encoder extension, encoder parameters); lossless where the format allows
PICTURE_FORMATS: dict[str, tuple[str, list[int]]] = {
    ".png": (".png", []),
    ".jpg": (".jpg", [cv2.IMWRITE_JPEG_QUALITY, 95]),
    ".jpeg": (".jpg", [cv2.IMWRITE_JPEG_QUALITY, 95]),
    ".webp": (".webp", [cv2.IMWRITE_WEBP_QUALITY, 101]),  # above 100: lossless
    ".tif": (".tif", []),
    ".tiff": (".tif", []),
    ".bmp": (".bmp", []),
}


def picture_format(path: str | os.PathLike, *, option: str = "the output") -> str:
    """The encoder extension for ``path``, from its own extension; refuses names without one.

    >>> picture_format("out/sheet.JPG")
    '.jpg'
    >>> picture_format("out/sheet.gif", option="--sheet")
    Traceback (most recent call last):
    ...
    scopecheck.compare.errors.InputError: out/sheet.gif: --sheet: cannot write '.gif' pictures; ...
    """
    ext = os.path.splitext(os.fspath(path))[1].lower()
    if ext not in PICTURE_FORMATS:
        known = ", ".join(sorted(PICTURE_FORMATS))
        what = f"cannot write {ext!r} pictures" if ext else "no file extension to choose the format by"
        raise InputError(f"{option}: {what}; name it with one of {known}", path=os.fspath(path))
    return PICTURE_FORMATS[ext][0]


def save_picture(path: str | os.PathLike, picture: np.ndarray, *, overwrite: bool) -> None:
    """Encode ``picture`` (BGR uint8) in the format ``path``'s extension names and write it
    atomically; refuses an existing ``path`` unless ``overwrite``."""
    ext, params = PICTURE_FORMATS[picture_format(path)]
    ok, buf = cv2.imencode(ext, picture, params)
    if not ok:  # pragma: no cover - every table entry is an encoder OpenCV always has
        raise InputError(f"OpenCV could not encode a {ext} picture", path=os.fspath(path))
    write_atomic(path, buf.tobytes(), overwrite=overwrite)


def save_png(path: str | os.PathLike, picture: np.ndarray, *, overwrite: bool) -> None:
    """Write ``picture`` as PNG, whatever the extension (:func:`save_picture` follows it)."""
    ok, buf = cv2.imencode(".png", picture)
    if not ok:  # pragma: no cover
        raise InputError("OpenCV could not encode a PNG picture", path=os.fspath(path))
    write_atomic(path, buf.tobytes(), overwrite=overwrite)


# --------------------------------------------------------------------------- dedupe contact sheet

def _thumbnail_uri(path: str, *, box: int, max_pixels: int) -> str | None:
    import base64

    from .errors import ScopecheckError
    from .load import load

    try:
        px = load(path, max_pixels=max_pixels).pixels
    except ScopecheckError:
        return None
    if px.dtype == np.uint16:
        px = (px >> 8).astype(np.uint8)
    if px.ndim == 3 and px.shape[2] == 4:
        px = px[:, :, :3]
    h, w = px.shape[:2]
    scale = min(1.0, box / max(h, w))
    if scale < 1.0:
        px = cv2.resize(px, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=cv2.INTER_AREA)
    ok, buf = cv2.imencode(".jpg", np.ascontiguousarray(px), [cv2.IMWRITE_JPEG_QUALITY, 80])
    if not ok:
        return None
    return "data:image/jpeg;base64," + base64.b64encode(buf.tobytes()).decode("ascii")


_SHEET_STYLE = """
body{font-family:system-ui,sans-serif;margin:1em;background:#fafafa}
h2{font-size:1.05em;margin:1.2em 0 .3em}
.g{display:flex;flex-wrap:wrap;gap:8px}
figure{margin:0;width:170px;background:#fff;border:1px solid #ddd;padding:4px}
figure img{max-width:160px;max-height:160px;display:block;margin:auto}
figcaption{font-size:11px;word-break:break-all}
.miss{width:160px;height:60px;background:#eee;text-align:center;line-height:60px;color:#a00}
"""

HTML_EXTENSIONS = (".html", ".htm")


def _count(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def dedupe_sheet_html(result, *, box: int = 160, max_pixels: int) -> str:
    """An HTML contact sheet of a dedupe result's groups: a thumbnail (inline JPEG data URI) and
    the escaped path of every member, group by group. Write it with :func:`write_atomic`."""
    import html

    esc = html.escape
    parts = ["<!DOCTYPE html><html><head><meta charset='utf-8'><title>scopecheck dedupe</title>",
             f"<style>{_SHEET_STYLE}</style></head><body>",
             f"<h1>Duplicate groups in {esc(result.source)}</h1>",
             f"<p>{_count(result.files, 'image')}, {_count(len(result.groups), 'group')}, near-duplicates "
             f"within {result.max_distance} bits of the representative (64-bit dHash), confirmed by a thumbnail "
             f"correlation of {result.min_correlation:g} or more; {_count(len(result.flat), 'flat frame')}; "
             f"{len(result.errors)} unreadable.</p>"]
    cache: dict[str, str | None] = {}
    for n, g in enumerate(result.groups, 1):
        parts.append(f"<h2>{n}. {esc(str(g.kind))}: {_count(len(g.members), 'file')}, all within {g.radius} "
                     "bits of the first (the representative)</h2><div class='g'>")
        for m in g.members:
            if m.path not in cache:
                cache[m.path] = _thumbnail_uri(m.path, box=box, max_pixels=max_pixels)
            uri = cache[m.path]
            img = (f"<img src='{uri}' alt='{esc(os.path.basename(m.path), quote=True)}'>" if uri
                   else "<div class='miss'>unreadable now</div>")
            parts.append(f"<figure>{img}<figcaption>{esc(m.path)}<br>bits from the representative: "
                         f"{m.distance} of 64{'' if m.distance256 is None else f', {m.distance256} of 256'}"
                         f"{'' if m.correlation is None else f'; correlation {m.correlation:.3f}'}"
                         "</figcaption></figure>")
        parts.append("</div>")
    if result.flat:
        parts.append("<h2>Flat frames (not matched by dHash)</h2><ul>")
        parts.extend(f"<li>{esc(p)}</li>" for p in result.flat)
        parts.append("</ul>")
    if result.errors:
        parts.append("<h2>Unreadable files</h2><ul>")
        parts.extend(f"<li>{esc(e.path)}: {esc(e.error)}</li>" for e in result.errors)
        parts.append("</ul>")
    parts.append("</body></html>\n")
    return "".join(parts)
