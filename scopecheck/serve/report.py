"""``scopecheck compare A B --report out.html``: one self-contained HTML file for notebooks and mail.

The file holds both images and the ``1 - SSIM`` heat map as ``data:`` URIs, the compare JSON
(exactly ``Comparison.to_json()``, what ``--json`` prints) and the workstation's viewer script and
style inlined, so it opens offline, from a mail attachment or a lab notebook, with the same side by
side, swipe, blink, onion skin, heat map, region boxes and linked zoom as ``scopecheck serve``.
A Content-Security-Policy forbids any network request. Written through
:func:`compare.atomic.write_atomic` (no clobbering unless ``overwrite``).

This module imports neither FastAPI nor anything of the server.
"""
from __future__ import annotations

import html
import json
import os
from importlib import resources

from scopecheck.compare.atomic import write_atomic
from scopecheck.compare.errors import InputError, OutputExistsError
from scopecheck.compare.stacks import shown_page

from .pictures import NATIVE, data_uri, encode, heat_png, to_bgr8

CSP = ("default-src 'none'; img-src data:; style-src 'unsafe-inline'; script-src 'unsafe-inline'; "
       "base-uri 'none'; form-action 'none'")


def static_text(name: str) -> str:
    """A file of the viewer shipped in ``scopecheck/serve/static``."""
    return resources.files("scopecheck.serve").joinpath("static", name).read_text(encoding="utf-8")


def _image_uri(side, page: int = 0) -> str:
    """The file's own bytes where a browser shows them as compared; else (another format, or a
    stack or an animation, whose compared image is one of several) that image as a PNG."""
    img = side.image
    if img.format in NATIVE and img.images == 1:
        return data_uri(img.data, NATIVE[img.format])
    return data_uri(encode(to_bgr8(img.page(page))), "image/png")


def _script_json(obj) -> str:
    """JSON safe inside a <script> element (no "</" or "<!--" can end or confuse it)."""
    return json.dumps(obj, ensure_ascii=False).replace("<", "\\u003c").replace(">", "\\u003e") \
        .replace("&", "\\u0026").replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


def build_report(c, *, title: str | None = None) -> str:
    """The HTML text of the report for a :class:`compare.pair.Comparison` made with ``want_map=True``."""
    if c.ssim_map is None and not c.pixels_equal:
        raise InputError("the report needs the SSIM map: compare with want_map=True")
    doc = c.to_json()
    a, b = c.a.image, c.b.image
    ka, kb = shown_page(c, "a"), shown_page(c, "b")  # a stack: the page the figures are of

    def shown(side, k: int) -> dict:
        img = side.image
        return {"src": _image_uri(side, k),
                "name": os.path.basename(img.path) + (f" (image {k + 1})" if img.images > 1 else "")}

    h, w_ = a.page(ka).shape[:2]
    view = {"a": shown(c.a, ka), "b": shown(c.b, kb),
            "heat": heat_png_uri(c), "width": w_, "height": h,
            # the changed regions, and where objects moved on their own (drawn dotted)
            "regions": doc.get("regions", []) + [{**o, "kind": "moved"} for o in (doc.get("moved") or {}).get("objects_at", [])]}
    w = c.window
    if w is not None:  # one side is a crop of the other: the views show the window both were judged on
        big = a if w["side"] == "A" else b
        view["ab"[w["side"] == "B"]]["box"] = {"x": w["x"], "y": w["y"], "full_width": big.width,
                                              "full_height": big.height}
        view["width"], view["height"] = w["width"], w["height"]
        if w["side"] == "A":  # regions are in A's pixels: back to the window's
            view["regions"] = [{**r, "x": r["x"] - w["x"], "y": r["y"] - w["y"]} for r in view["regions"]]
    title = title or f"scopecheck compare: {os.path.basename(a.path)} vs {os.path.basename(b.path)}"
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{CSP}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="scopecheck">
<title>{html.escape(title)}</title>
<style>
body {{ margin: 16px; font: 14px system-ui, sans-serif; color: #111; background: #fff; }}
h1 {{ font-size: 17px; margin: 0 0 8px; }}
footer {{ margin-top: 12px; color: #666; font-size: 12px; }}
{static_text("viewer.css")}
</style>
</head>
<body>
<h1>{html.escape(title)}</h1>
<div class="sv-layout">
<section id="summary"></section>
<section id="viewer" aria-label="image viewer"></section>
</div>
<details><summary>compare JSON (as printed by <code>scopecheck compare --json</code>)</summary>
<pre id="json"></pre></details>
<footer>Keys over the viewer: 1 / 2 show A / B, b blink, s side by side, w swipe, o onion skin, h heat map,
r regions, + / - zoom, 0 fit, arrows pan; mouse wheel zooms, drag pans (all views linked).</footer>
<script type="application/json" id="scopecheck-compare">{_script_json(doc)}</script>
<script type="application/json" id="scopecheck-view">{_script_json(view)}</script>
<script>
{static_text("viewer.js")}
</script>
<script>
(function () {{
  var doc = JSON.parse(document.getElementById("scopecheck-compare").textContent);
  var view = JSON.parse(document.getElementById("scopecheck-view").textContent);
  ScopeViewer.summary(document.getElementById("summary"), doc);
  document.getElementById("json").textContent = JSON.stringify(doc, null, 2);
  window.scopecheckViewer = ScopeViewer.mount(document.getElementById("viewer"), view);
}})();
</script>
</body>
</html>
"""


def heat_png_uri(c) -> str | None:
    """The heat map as a data URI, or None when the pixels are equal (nothing to show)."""
    if c.ssim_map is None:
        return None
    return data_uri(heat_png(c.ssim_map), "image/png")


def check_report_path(path: str | os.PathLike, *, overwrite: bool = False) -> str:
    """Validate ``--report`` before any work: an .html name, in an existing directory, not taken."""
    p = os.fspath(path)
    if not p.lower().endswith((".html", ".htm")):
        raise InputError(f"--report {p!r}: the report is an .html file")
    directory = os.path.dirname(os.path.abspath(p))
    if not os.path.isdir(directory):
        raise InputError(f"--report {p!r}: directory {directory} does not exist; create it first")
    if os.path.lexists(p) and not overwrite:
        raise OutputExistsError("already exists; not overwriting it", path=p)
    return p


def write_report(path: str | os.PathLike, c, *, overwrite: bool = False) -> None:
    """Build the report for ``c`` and write it to ``path`` atomically (refusing to clobber)."""
    p = check_report_path(path, overwrite=overwrite)
    write_atomic(p, build_report(c).encode("utf-8"), overwrite=overwrite)
