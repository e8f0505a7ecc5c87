"""Duplicate groups: exact copies (file SHA-256), same-pixel copies (pixel SHA-256) and
near-duplicates (dHash within the radius), plus an HTML contact sheet of the groups."""
from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

from .errors import InputError
from .hamming import check_distance, equal_runs, radius_pairs, to_uint64
from .hashing import DHash
from .haystack import DEFAULT_MAX_DISTANCE, Haystack, equal_key_runs


def connected_groups(n: int, i: np.ndarray, j: np.ndarray) -> list[np.ndarray]:
    """Connected components (size >= 2) of the graph on ``n`` nodes with edges ``i``-``j``."""
    if n == 0 or i.size == 0:
        return []
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    g = coo_matrix((np.ones(i.size, dtype=np.int8), (i, j)), shape=(n, n))
    _, labels = connected_components(g, directed=False)
    order = np.argsort(labels, kind="stable")
    return equal_runs(order, labels[order])


@dataclass(frozen=True)
class GroupMember:
    path: str
    dhash: str
    distance: int  # to the group's first member

    def to_json(self) -> dict:
        return {"path": self.path, "dhash": self.dhash, "distance": self.distance}


@dataclass(frozen=True)
class DuplicateGroup:
    kind: str  # "exact" (same bytes), "pixels" (same pixels, different bytes), "near" (within radius)
    members: tuple[GroupMember, ...]
    max_distance: int  # largest distance between two members; -1 when over 2000 members (not computed)

    def to_json(self) -> dict:
        return {"kind": self.kind, "size": len(self.members), "max_distance": self.max_distance,
                "files": [m.to_json() for m in self.members]}


@dataclass(frozen=True)
class DedupeResult:
    groups: tuple[DuplicateGroup, ...]
    flat: tuple[str, ...]
    errors: tuple
    source: str
    files: int
    max_distance: int

    def to_json(self) -> dict:
        kinds = {k: sum(1 for g in self.groups if g.kind == k) for k in ("exact", "pixels", "near")}
        return {"source": self.source, "files": self.files, "max_distance": self.max_distance,
                "counts": kinds, "groups": [g.to_json() for g in self.groups],
                "flat": list(self.flat), "errors": [{"path": e.path, "error": e.error} for e in self.errors]}


def _group(kind: str, entries, ks) -> DuplicateGroup:
    ks = sorted(ks, key=lambda k: entries[k].path)
    hs = [DHash.parse(entries[k].dhash) for k in ks]
    members = tuple(GroupMember(path=entries[k].path, dhash=entries[k].dhash, distance=h - hs[0])
                    for k, h in zip(ks, hs))
    packed = to_uint64(hs)
    span = int(np.bitwise_count(packed[:, None] ^ packed[None, :]).max()) if len(ks) <= 2000 else -1
    return DuplicateGroup(kind=kind, members=members, max_distance=span)


def find_duplicates(haystack: Haystack, *, max_distance: int = DEFAULT_MAX_DISTANCE) -> DedupeResult:
    """Groups of exact copies, of same-pixel copies and of near-duplicates.

    * ``exact``: two or more files with the same SHA-256.
    * ``pixels``: files with the same pixel SHA-256 but not all the same bytes (re-encoded
      losslessly, metadata changed).
    * ``near``: connected components of non-flat files whose dHashes are within ``max_distance``
      (a chain a-b-c is one group even when a and c are further apart), kept when they hold more
      than one distinct pixel content.

    Flat frames are listed in ``flat`` and never join a near group.
    """
    max_distance = check_distance(max_distance)
    groups: list[DuplicateGroup] = []
    candidates = []  # (kind, positions): equal digest keys, verified on the full digests below
    candidates += [("exact", g) for g in equal_key_runs(haystack.sha_key)]
    candidates += [("pixels", g) for g in equal_key_runs(haystack.pix_key)]
    live = np.flatnonzero(~haystack.flat)
    if live.size > 1:
        i, j, _ = radius_pairs(haystack.hashes[live], max_distance=max_distance)
        candidates += [("near", live[comp]) for comp in connected_groups(live.size, i, j)]
    wanted = sorted({int(k) for _, g in candidates for k in g})
    entries = dict(zip(wanted, haystack.entries_at(wanted)))
    for kind, g in candidates:
        ks = [int(k) for k in g]
        if kind == "near":
            if len({entries[k].pixel_sha256 for k in ks}) > 1:
                groups.append(_group("near", entries, ks))
            continue
        attr = "sha256" if kind == "exact" else "pixel_sha256"
        full: dict[str, list[int]] = {}
        for k in ks:
            full.setdefault(getattr(entries[k], attr), []).append(k)
        for members in full.values():
            if len(members) < 2:
                continue
            if kind == "pixels" and len({entries[k].sha256 for k in members}) < 2:
                continue  # all the same bytes: already an exact group
            groups.append(_group(kind, entries, members))
    rank = {"exact": 0, "pixels": 1, "near": 2}
    groups.sort(key=lambda g: (rank[g.kind], g.members[0].path))
    flat = tuple(sorted(e.path for e in haystack.entries_at(np.flatnonzero(haystack.flat))))
    return DedupeResult(groups=tuple(groups), flat=flat, errors=tuple(haystack.errors), source=haystack.source,
                        files=len(haystack), max_distance=max_distance)


# --------------------------------------------------------------------------- contact sheet

def _thumbnail_uri(path: str, *, box: int, max_pixels: int) -> str | None:
    import base64

    import cv2

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


def write_sheet(result: DedupeResult, out: str | os.PathLike, *, box: int = 160,
                max_pixels: int | None = None) -> str:
    """Write an HTML contact sheet of ``result``'s groups: a thumbnail (inline JPEG data URI) and
    the escaped path of every member, group by group. Written atomically; returns the path."""
    import html

    from .load import DEFAULT_MAX_PIXELS

    out = os.fspath(out)
    folder = os.path.dirname(os.path.abspath(out))
    if not os.path.isdir(folder):
        raise InputError(f"folder {folder} does not exist; create it or choose another --sheet path", path=out)
    if os.path.isdir(out):
        raise InputError("is a folder; --sheet takes a file name such as groups.html", path=out)
    limit = max_pixels or DEFAULT_MAX_PIXELS
    esc = html.escape
    parts = ["<!DOCTYPE html><html><head><meta charset='utf-8'><title>scopecheck dedupe</title>",
             f"<style>{_SHEET_STYLE}</style></head><body>",
             f"<h1>Duplicate groups in {esc(result.source)}</h1>",
             f"<p>{result.files} images, {len(result.groups)} groups, near-duplicates within "
             f"{result.max_distance} bits; {len(result.flat)} flat frames; {len(result.errors)} unreadable.</p>"]
    cache: dict[str, str | None] = {}
    for n, g in enumerate(result.groups, 1):
        parts.append(f"<h2>{n}. {esc(g.kind)}: {len(g.members)} files, max distance {g.max_distance}</h2>"
                     "<div class='g'>")
        for m in g.members:
            if m.path not in cache:
                cache[m.path] = _thumbnail_uri(m.path, box=box, max_pixels=limit)
            uri = cache[m.path]
            img = (f"<img src='{uri}' alt='{esc(os.path.basename(m.path), quote=True)}'>" if uri
                   else "<div class='miss'>unreadable now</div>")
            parts.append(f"<figure>{img}<figcaption>{esc(m.path)}<br>distance {m.distance}</figcaption></figure>")
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
    tmp = f"{out}.tmp-{os.getpid()}"
    try:
        with open(tmp, "w", encoding="utf-8", errors="surrogateescape") as f:
            f.write("".join(parts))
        os.replace(tmp, out)
    except OSError as e:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise InputError(f"cannot write the sheet: {e.strerror or e}", path=out) from None
    return out
