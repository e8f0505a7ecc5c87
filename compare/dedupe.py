"""Duplicate groups: exact copies (file SHA-256), same-pixel copies (pixel SHA-256) and
near-duplicates, plus an HTML contact sheet of the groups.

Near-duplicates never chain strangers. Two files are *linked* when their 64-bit dHashes are within
``max_distance`` bits (the candidate, found by :func:`compare.hamming.radius_pairs`) **and** their
32x32 thumbnails (stored in the index beside the hashes) correlate: some crop-and-shift view of one,
its least-squares plane removed, correlates at ``min_correlation`` or more with the other's whole
frame (:mod:`compare.thumbs`: a second, independent test that ignores brightness, contrast, an
illumination ramp, JPEG noise, resizing and crops up to 9 % a side, but not a different picture
whose coarse gradients happen to agree). Groups are
stars, not connected components: the file linked to the most ungrouped files becomes a
representative and takes those files; repeat. So every member of a near group is linked to, and
within ``max_distance`` of, its representative, and a chain a-b-c of overlapping stage-scan tiles
is never one group.
"""
from __future__ import annotations

import heapq
from dataclasses import dataclass

import numpy as np

from .errors import InputError
from .hamming import check_distance, equal_runs
from .hashing import DHash
from .haystack import DEFAULT_MAX_DISTANCE, Haystack, equal_key_runs
from .pairs import radius_pairs
from .thumbs import DEFAULT_MIN_CORRELATION, THUMB_BYTES, check_min_correlation, link_correlations


def hamming256(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row-wise Hamming distances between two ``(n, 4)`` uint64 arrays of 256-bit hashes."""
    return np.bitwise_count(a ^ b).sum(axis=-1, dtype=np.int64)


def connected_groups(n: int, i: np.ndarray, j: np.ndarray) -> list[np.ndarray]:
    """Connected components (size >= 2) of the graph on ``n`` nodes with edges ``i``-``j``.

    Kept for callers that want components; :func:`find_duplicates` uses :func:`star_groups`.
    """
    if n == 0 or i.size == 0:
        return []
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    g = coo_matrix((np.ones(i.size, dtype=np.int8), (i, j)), shape=(n, n))
    _, labels = connected_components(g, directed=False)
    order = np.argsort(labels, kind="stable")
    return equal_runs(order, labels[order])


def star_groups(n: int, i: np.ndarray, j: np.ndarray, d: np.ndarray) -> list[tuple[int, np.ndarray]]:
    """Cover the linked nodes of a graph with stars: ``(representative, members)`` pairs.

    Greedy by degree: the node with the most ungrouped neighbours (ties: the smallest sum of
    distances to them, then the lowest index) is a representative; it and its ungrouped neighbours
    form a group; repeat until no ungrouped node has an ungrouped neighbour. Every member is a
    direct neighbour of its representative, so no group is held together by a chain. ``members``
    excludes the representative and is sorted by distance to it, then index.
    """
    if n == 0 or i.size == 0:
        return []
    a = np.concatenate([i, j]).astype(np.int64)
    b = np.concatenate([j, i]).astype(np.int64)
    w = np.concatenate([d, d]).astype(np.int64)
    order = np.lexsort((b, a))
    a, b, w = a[order], b[order], w[order]
    start = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(a, minlength=n), out=start[1:])
    grouped = np.zeros(n, dtype=bool)
    nodes = np.flatnonzero(np.diff(start) > 0)
    heap = [(-int(start[k + 1] - start[k]), int(w[start[k]:start[k + 1]].sum()), int(k)) for k in nodes]
    heapq.heapify(heap)
    out = []
    while heap:
        neg, cost, k = heapq.heappop(heap)
        if grouped[k]:
            continue
        nb, nw = b[start[k]:start[k + 1]], w[start[k]:start[k + 1]]
        free = ~grouped[nb]
        deg, tot = int(free.sum()), int(nw[free].sum())
        if deg == 0:
            continue
        if (-deg, tot) != (neg, cost):  # stale key: some neighbours were taken since it was pushed
            heapq.heappush(heap, (-deg, tot, k))
            continue
        members, dist = nb[free], nw[free]
        o = np.lexsort((members, dist))
        grouped[k] = True
        grouped[members] = True
        out.append((k, members[o]))
    return out


@dataclass(frozen=True)
class GroupMember:
    path: str
    dhash: DHash
    distance: int                # dHash bits (of 64) to the group's representative
    distance256: int | None      # 16x16 dHash bits (of 256) to the representative; None if unknown
    correlation: float | None = None  # thumbnail correlation with the representative (near groups)

    def to_json(self) -> dict:
        return {"path": self.path, "dhash": str(self.dhash), "distance": self.distance,
                "distance256": self.distance256,
                "correlation": None if self.correlation is None else round(self.correlation, 4)}


@dataclass(frozen=True)
class DuplicateGroup:
    kind: str  # "exact" (same bytes), "pixels" (same pixels, different bytes), "near" (linked to the representative)
    representative: str          # path of the member every other one was matched against (members[0])
    members: tuple[GroupMember, ...]
    radius: int                  # largest member distance (bits of 64) to the representative: <= max_distance

    def to_json(self) -> dict:
        return {"kind": self.kind, "size": len(self.members), "representative": self.representative,
                "radius": self.radius, "files": [m.to_json() for m in self.members]}


@dataclass(frozen=True)
class DedupeResult:
    groups: tuple[DuplicateGroup, ...]
    flat: tuple[str, ...]
    errors: tuple
    source: str
    files: int
    max_distance: int
    min_correlation: float
    candidate_links: int = 0     # pairs within max_distance (64-bit), flat frames excluded
    confirmed_links: int = 0     # of which the thumbnails' correlation confirmed

    def to_json(self) -> dict:
        kinds = {k: sum(1 for g in self.groups if g.kind == k) for k in ("exact", "pixels", "near")}
        return {"source": self.source, "files": self.files, "max_distance": self.max_distance,
                "min_correlation": self.min_correlation, "candidate_links": self.candidate_links,
                "confirmed_links": self.confirmed_links,
                "counts": kinds, "groups": [g.to_json() for g in self.groups],
                "flat": list(self.flat), "errors": [{"path": e.path, "error": e.error} for e in self.errors]}


def _group(kind: str, entries, rep: int, others, fine, corr=None) -> DuplicateGroup:
    """A group with ``rep`` first, then ``others`` by distance to ``rep``, then path (``corr``:
    ``{(a, b): correlation}`` of the confirmed links, a < b, for near groups)."""
    ks = [rep] + [int(k) for k in others]
    h0 = entries[rep].dhash
    members = []
    for k in ks:
        e = entries[k]
        d256 = None if fine is None else int(hamming256(fine[k], fine[rep]))
        r = None if corr is None else (1.0 if k == rep else corr[(min(k, rep), max(k, rep))])
        members.append(GroupMember(path=e.path, dhash=e.dhash, distance=e.dhash - h0,
                                   distance256=d256, correlation=r))
    members[1:] = sorted(members[1:], key=lambda m: (m.distance, m.path))
    return DuplicateGroup(kind=kind, representative=entries[rep].path, members=tuple(members),
                          radius=max(m.distance for m in members))


def _digest_group(kind: str, entries, ks, fine) -> DuplicateGroup:
    ks = sorted(ks, key=lambda k: entries[k].path)
    return _group(kind, entries, ks[0], ks[1:], fine)


def find_duplicates(haystack: Haystack, *, max_distance: int = DEFAULT_MAX_DISTANCE,
                    min_correlation: float = DEFAULT_MIN_CORRELATION) -> DedupeResult:
    """Groups of exact copies, of same-pixel copies and of near-duplicates.

    * ``exact``: two or more files with the same SHA-256.
    * ``pixels``: files with the same pixel SHA-256 but not all the same bytes (re-encoded
      losslessly, metadata changed).
    * ``near``: stars of linked non-flat files (see the module docstring): a representative and
      the files whose 64-bit dHash is within ``max_distance`` of it and whose thumbnail correlates
      with it at ``min_correlation`` or more. Kept when the group holds more than one distinct content.

    Flat frames are listed in ``flat`` and never join a near group. Every member's distances to its
    group's representative are reported (``distance``, ``distance256``, ``correlation``).
    """
    max_distance = check_distance(max_distance)
    min_correlation = check_min_correlation(min_correlation)
    fine = haystack.dhash256
    if fine is not None and (fine.ndim != 2 or fine.shape != (len(haystack), 4)):
        raise InputError(f"dhash256 must be an (n, 4) uint64 array for {len(haystack)} files, got shape {fine.shape}")
    groups: list[DuplicateGroup] = []
    digest_candidates = [("exact", g) for g in equal_key_runs(haystack.sha_key)]
    pixel_runs, pixels_of = haystack.same_pixels()  # pixel digests are lazy: computed for candidates only
    digest_candidates += [("pixels", g) for g in pixel_runs]
    stars: list[tuple[int, np.ndarray]] = []
    corr: dict[tuple[int, int], float] = {}
    n_cand = n_conf = 0
    live = np.flatnonzero(~haystack.flat)
    if live.size > 1:
        i, j, d = radius_pairs(haystack.hashes[live], max_distance=max_distance)
        n_cand = int(i.size)
        if n_cand:
            used = np.unique(np.concatenate([i, j]))
            thumbs = [e.thumb for e in haystack.entries_at(live[used])]
            if any(len(t) != THUMB_BYTES for t in thumbs):
                raise InputError("these records have no thumbnail, which dedupe needs to confirm near-duplicates; "
                                 "re-index with this version (scopecheck index --rebuild)",
                                 path=haystack.source or None)
            arr = np.frombuffer(b"".join(thumbs), dtype=np.uint8).reshape(-1, THUMB_BYTES)
            r = link_correlations(arr, np.searchsorted(used, i), np.searchsorted(used, j))
            ok = r >= min_correlation
            i, j, d, r = i[ok], j[ok], d[ok], r[ok]
            n_conf = int(i.size)
            a, b = live[i], live[j]
            corr = {(int(x), int(y)): float(v) for x, y, v in zip(np.minimum(a, b).tolist(),
                                                                   np.maximum(a, b).tolist(), r.tolist())}
            stars = [(int(live[s]), live[m]) for s, m in star_groups(live.size, i, j, d)]
    wanted = sorted({int(k) for _, g in digest_candidates for k in g}
                    | {int(k) for r, m in stars for k in [r, *m.tolist()]})
    entries = dict(zip(wanted, haystack.entries_at(wanted)))
    for kind, g in digest_candidates:
        attr = "sha256" if kind == "exact" else "pixel_sha256"
        full: dict[str, list[int]] = {}
        for k in (int(k) for k in g):
            full.setdefault(getattr(entries[k], attr) if kind == "exact" else pixels_of[k], []).append(k)
        for same in full.values():
            if len(same) < 2:
                continue
            if kind == "pixels" and len({entries[k].sha256 for k in same}) < 2:
                continue  # all the same bytes: already an exact group
            groups.append(_digest_group(kind, entries, same, fine))
    for rep, members in stars:
        ks = [rep, *members.tolist()]
        if len({pixels_of.get(k) or entries[k].pixel_sha256 or entries[k].sha256 for k in ks}) > 1:
            groups.append(_group("near", entries, rep, members, fine, corr))
    rank = {"exact": 0, "pixels": 1, "near": 2}
    groups.sort(key=lambda g: (rank[g.kind], g.representative))
    flat = tuple(sorted(e.path for e in haystack.entries_at(np.flatnonzero(haystack.flat))))
    return DedupeResult(groups=tuple(groups), flat=flat, errors=tuple(haystack.errors), source=haystack.source,
                        files=len(haystack), max_distance=max_distance, min_correlation=min_correlation,
                        candidate_links=n_cand, confirmed_links=n_conf)


# --------------------------------------------------------------------------- contact sheet
