"""Needle matching: which needle images (and needle folders) already have a copy in a haystack.

Needle records against a haystack, never the haystack against itself, with per-needle matches,
per-folder counts and the folders with no match. The kernels are in :mod:`compare.hamming`, the
haystack in :mod:`compare.haystack`, duplicate groups in :mod:`compare.dedupe`; the names below
are re-exported so ``from compare.search import ...`` keeps working.
"""
from __future__ import annotations

import os

from .frozen import dataclass
from .hamming import (  # noqa: F401
    HASH_BITS,
    LIST_SCAN_MAX_PAIRS,
    MULTI_INDEX_MIN_SIZE,
    HammingIndex,
    check_distance,
    hamming_scan,
    to_uint64,
)
from .hashing import DHash
from .haystack import DEFAULT_MAX_DISTANCE, SAME_PIXELS_RADIUS, Entry, HashList, Haystack, digest_key

# Re-exported, loaded on first use: they bring numpy, which a search of a small fresh index never needs.
_LAZY = {"DedupeResult": "dedupe", "DuplicateGroup": "dedupe", "GroupMember": "dedupe",
         "connected_groups": "dedupe", "find_duplicates": "dedupe", "MultiIndex": "multiindex",
         "sidecar_path": "multiindex", "radius_pairs": "pairs"}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f".{_LAZY[name]}", __package__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


@dataclass(frozen=True)
class Match:
    path: str
    distance: int
    file_equal: bool
    pixel_equal: bool | None  # None: not computed (match_needles(pixel_equal=False))

    def to_json(self) -> dict:
        return {"path": self.path, "distance": self.distance, "file_equal": self.file_equal,
                "pixel_equal": self.pixel_equal}


@dataclass(frozen=True)
class NeedleResult:
    path: str
    folder: str
    dhash: DHash
    flat: bool
    matches: tuple[Match, ...]

    def to_json(self) -> dict:
        return {"path": self.path, "folder": self.folder, "dhash": str(self.dhash), "flat": self.flat,
                "matches": [m.to_json() for m in self.matches]}


@dataclass(frozen=True)
class FolderSummary:
    folder: str
    images: int   # needle images hashed in this folder (not counting its sub-folders)
    matched: int  # of which have at least one match in the haystack
    errors: int   # files in this folder that could not be read

    def to_json(self) -> dict:
        return {"folder": self.folder, "images": self.images, "matched": self.matched, "errors": self.errors}


@dataclass(frozen=True)
class SearchResult:
    needles: tuple[NeedleResult, ...]
    folders: tuple[FolderSummary, ...]
    unmatched_folders: tuple[str, ...]
    needle_errors: tuple      # WalkError-like: path, error
    haystack_errors: tuple
    haystack: str
    haystack_size: int
    max_distance: int
    method: str

    @property
    def all_found(self) -> bool:
        return all(n.matches for n in self.needles)

    def to_json(self) -> dict:
        errors = [{"path": e.path, "error": e.error, "side": "needles"} for e in self.needle_errors]
        errors += [{"path": e.path, "error": e.error, "side": "haystack"} for e in self.haystack_errors]
        return {
            "haystack": self.haystack, "haystack_size": self.haystack_size,
            "max_distance": self.max_distance, "method": self.method,
            "needles": [n.to_json() for n in self.needles],
            "folders": [f.to_json() for f in self.folders],
            "unmatched_folders": list(self.unmatched_folders),
            "flat_needles": [n.path for n in self.needles if n.flat],
            "errors": errors,
        }


def _same_file(a: str, b: str) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return os.path.abspath(a) == os.path.abspath(b)


def match_needles(needles, haystack: Haystack | HashList, *, max_distance: int = DEFAULT_MAX_DISTANCE,
                  needle_errors=(), method: str = "auto", needle_digests=None,
                  pixel_equal: bool = True) -> SearchResult:
    """Find each needle's copies in the haystack.

    A haystack file matches a needle when it has the same bytes (``file_equal``), the same pixels
    (``pixel_equal``) or, when neither is flat, a dHash within ``max_distance`` bits. A file never
    matches itself (a needle folder inside the haystack is not "found" by its own files). Needle
    folders are the folders that directly contain needle images; a folder is unmatched when none of
    its images has a match. Pixel digests are computed only for candidates within the radius whose
    bytes differ (``needle_digests``: callable(paths) giving the needles' digests, e.g. from their
    index; default: decode them now). ``pixel_equal=False`` skips them where they do not change
    which files match (near matches then have ``pixel_equal`` None: not computed).
    """
    max_distance = check_distance(max_distance)
    needles = [Entry.of(n) if not isinstance(n, Entry) else n for n in needles]
    if isinstance(haystack, HashList) and (method != "auto" or len(haystack) * len(needles) > LIST_SCAN_MAX_PAIRS):
        haystack = haystack.arrays()  # a Python scan only while it is cheaper than loading numpy
    if isinstance(haystack, HashList):
        index = HammingIndex(haystack.hashes, method=method, queries=len(needles))
    else:
        from .multiindex import sidecar_path

        mapped = sidecar_path(haystack.source) if haystack.source and os.path.isfile(haystack.source) else None
        index = HammingIndex(haystack.hashes, method=method, mapped=mapped)
    # Same-bytes candidates for all needles at once, by 63-bit digest keys; pixel digests are lazy.
    nsha = [digest_key(n.sha256) for n in needles]
    by_key = haystack.positions_of_keys(nsha)
    # Same-pixel copies have (nearly) the same dHash -- equal for one format, a few bits apart across
    # a JPEG and a lossless copy of its pixels -- so their candidates come from the radius too.
    radius = max(max_distance, SAME_PIXELS_RADIUS)
    candidates: list[list[int]] = []
    for nd, ks in zip(needles, nsha):
        near = set(by_key.get(ks, ()))
        if len(index):
            idx, _ = index.query(nd.dhash.value, max_distance=radius)
            near.update(int(k) for k in idx)  # flat files too: they can still be pixel-equal
        candidates.append(sorted(near))
    wanted = sorted({k for c in candidates for k in c})
    fetched = dict(zip(wanted, haystack.entries_at(wanted)))
    # Pixel digests only for a candidate within the radius whose bytes differ (computed now, cached by
    # an index), and its needle; with pixel_equal=False only where they decide a match (a flat side,
    # or beyond --max-distance), not to label near matches.
    need_h: set[int] = set()
    need_n: set[int] = set()
    for i, (nd, found) in enumerate(zip(needles, candidates)):
        for k in found:
            e = fetched[k]
            if e.sha256 == nd.sha256 or (d := e.dhash - nd.dhash) > radius:
                continue
            if pixel_equal or nd.flat or e.flat or d > max_distance:
                need_h.add(k)
                need_n.add(i)
    hay_digest = dict(zip(sorted(need_h), haystack.pixel_digests(sorted(need_h))))
    lazy = [i for i in sorted(need_n) if not needles[i].pixel_sha256]
    needle_digest = {i: needles[i].pixel_sha256 for i in need_n}
    if needle_digests is None:
        from .record import pixel_digests as needle_digests  # decode them now
    needle_digest.update(zip(lazy, needle_digests([needles[i].path for i in lazy])))
    results = []
    for i, (nd, found) in enumerate(zip(needles, candidates)):
        mine = needle_digest.get(i)
        matches = []
        for k in found:
            e = fetched[k]
            file_equal = e.sha256 == nd.sha256
            same_pixels = file_equal or (mine is not None and hay_digest.get(k) == mine)
            distance = e.dhash - nd.dhash
            if not (file_equal or same_pixels or (not nd.flat and not e.flat and distance <= max_distance)):
                continue  # a digest-key collision, a flat frame or beyond the radius: not a match
            if e.path == nd.path or (file_equal and _same_file(e.path, nd.path)):
                continue  # itself (another name for it has its bytes: file_equal)
            known = file_equal or same_pixels or k in hay_digest
            matches.append(Match(path=e.path, distance=distance, file_equal=file_equal,
                                 pixel_equal=same_pixels if known else None))
        matches.sort(key=lambda m: (not m.file_equal, m.pixel_equal is not True, m.distance, m.path))
        results.append(NeedleResult(path=nd.path, folder=os.path.dirname(nd.path), dhash=nd.dhash,
                                    flat=nd.flat, matches=tuple(matches)))
    folders: dict[str, list[int]] = {}
    for res in results:
        f = folders.setdefault(res.folder, [0, 0, 0])
        f[0] += 1
        f[1] += bool(res.matches)
    for err in needle_errors:
        folders.setdefault(os.path.dirname(err.path), [0, 0, 0])[2] += 1
    summaries = tuple(FolderSummary(folder=k, images=v[0], matched=v[1], errors=v[2])
                      for k, v in sorted(folders.items()))
    unmatched = tuple(s.folder for s in summaries if s.images and not s.matched)
    return SearchResult(needles=tuple(results), folders=summaries, unmatched_folders=unmatched,
                        needle_errors=tuple(needle_errors), haystack_errors=tuple(haystack.errors),
                        haystack=haystack.source, haystack_size=len(haystack),
                        max_distance=max_distance, method=index.method)
