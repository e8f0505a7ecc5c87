"""The haystack: hashed files held as parallel arrays, full records fetched on demand.

Shared by :mod:`compare.search` (needles against a haystack) and :mod:`compare.dedupe` (a haystack
against itself). Flat frames (``flat`` records: blank or nearly uniform, their dHash is noise) are
never matched by distance, to each other or to anything; they are still found as exact or
same-pixel copies.
"""
from __future__ import annotations

from .errors import InputError
from .frozen import dataclass, field
from .hamming import HASH_BITS, equal_runs, to_uint64
from .hashing import DHash

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (a warm search never needs it)
if TYPE_CHECKING:  # numpy loads on first use (see HashList)
    import numpy as np

#: Default ``--max-distance`` for search and dedupe, in bits of 64. Measured by
#: ``bench/bench_hashing.py --distances`` on 20 scikit-image images: copies re-encoded as JPEG
#: (q 95/75/50), resized (1/2, 1/4 + JPEG 80, 3/2), shifted by a pixel, brightened or with changed
#: metadata moved at most 4 bits, except a low-contrast image at 1/4 size (12) and a binary
#: silhouette upscaled (7); different images were at least 13 bits apart, separate fields of view
#: of the same specimen at least 10, half-overlapping fields at least 8. 7 finds 99.5 % of the
#: copies and none of the others.
DEFAULT_MAX_DISTANCE = 7

#: Files this close are checked for equal pixels even when ``--max-distance`` is smaller: the same
#: pixels in a JPEG and in a lossless copy hash up to 4 bits apart (the JPEG's hash comes from its
#: reduced decode; measured in tests/compare/test_hashing.py), equal pixels in one format 0.
SAME_PIXELS_RADIUS = 6


@dataclass(frozen=True)
class Entry:
    """What matching needs of one hashed file (a :class:`compare.record.HashRecord` or a DB row)."""

    path: str
    dhash: DHash       # the 64-bit dHash, as a value (never a string parsed again)
    flat: bool
    sha256: str
    pixel_sha256: str | None  # None until needed: see Haystack.pixel_digests
    width: int = 0
    height: int = 0
    format: str = ""
    dhash256: DHash | None = None  # the 16x16 dHash from the same decode (compare.record)
    thumb: bytes = b""             # the 32x32 thumbnail dedupe correlates (compare.thumbs); b"": unknown

    def __post_init__(self) -> None:
        if not isinstance(self.dhash, DHash) or self.dhash.bits != HASH_BITS:
            raise InputError(f"Entry.dhash must be a 64-bit DHash, got {self.dhash!r}", path=self.path)

    @classmethod
    def of(cls, rec) -> Entry:
        return cls(path=rec.path, dhash=rec.dhash, flat=bool(rec.flat), sha256=rec.sha256,
                   pixel_sha256=rec.pixel_sha256, width=rec.width, height=rec.height, format=rec.format,
                   dhash256=getattr(rec, "dhash256", None), thumb=getattr(rec, "thumb", b""))


def digest_key(hexdigest: str) -> int:
    """The first 63 bits of a hex digest: a non-negative int64 for vectorised equality tests
    (a candidate filter; full digests are always compared before anything is called equal)."""
    return int(hexdigest[:16], 16) >> 1


class _Files:
    """What both haystack forms fetch on demand: entries and pixel digests (``fetch``, ``digests``)."""

    fetch: object
    digests: object

    def entries_at(self, positions) -> list[Entry]:
        positions = [int(k) for k in positions]
        return list(self.fetch(positions)) if positions else []  # type: ignore[operator]

    def pixel_digests(self, positions) -> list[str | None]:
        """The pixel SHA-256 of the files at ``positions``, computed now where not known yet."""
        positions = [int(k) for k in positions]
        if not positions:
            return []
        if self.digests is None:
            return [e.pixel_sha256 for e in self.entries_at(positions)]
        return list(self.digests(positions))  # type: ignore[operator]


@dataclass(frozen=True)
class Haystack(_Files):
    """Hashed files to search in, held as arrays so millions of files stay cheap.

    ``hashes`` (uint64 dHash values), ``flat`` (bool) and ``sha_key`` / ``pix_key`` (int64,
    :func:`digest_key` of the file and pixel SHA-256) are parallel arrays; the full :class:`Entry`
    of any file is fetched on demand with :meth:`entries_at` (from memory, or from the index file).
    """

    hashes: np.ndarray = field(repr=False)
    flat: np.ndarray = field(repr=False)
    sha_key: np.ndarray = field(repr=False)
    pix_key: np.ndarray = field(repr=False)
    fetch: object = field(repr=False)  # callable(list of positions) -> list of Entry, same order
    errors: tuple = ()
    source: str = ""
    #: (n, 4) uint64: the 16x16 dHash of each file, word 0 the most significant 64 bits; None when unknown
    dhash256: np.ndarray | None = field(default=None, repr=False)
    #: callable(list of positions) -> list of pixel SHA-256 (None: unreadable now). Pixel digests are
    #: lazy (``pix_key`` is -1 where not computed yet): they are computed, and cached by an index,
    #: only for the files that need one (candidates within the radius). None: take the entries' own.
    digests: object = field(default=None, repr=False)

    def __len__(self) -> int:
        return int(self.hashes.size)

    def positions_of_keys(self, keys) -> dict[int, list[int]]:
        """``{key: positions}`` of the files whose ``sha_key`` is one of ``keys``."""
        import numpy as np

        found: dict[int, list[int]] = {}
        for k in np.flatnonzero(np.isin(self.sha_key, np.array(list(keys), dtype=np.int64))).tolist():
            found.setdefault(int(self.sha_key[k]), []).append(k)
        return found

    def same_pixels(self, *, radius: int = SAME_PIXELS_RADIUS) -> tuple[list[np.ndarray], dict[int, str]]:
        """Runs of positions whose pixels are equal, and the pixel digests computed to find them.

        Pixel digests are lazy, so only files that could have a same-pixel copy with other bytes are
        decoded: non-flat files within ``radius`` of one with another SHA-256, and flat files with
        the exact dHash of one with another SHA-256 (blank frames share hashes by the thousand;
        pairing them within a radius would be quadratic).
        """
        import numpy as np

        from .pairs import radius_pairs  # numpy and the all-pairs kernel load on first use

        parts = []
        live = np.flatnonzero(~self.flat)
        if live.size > 1:
            i, j, _ = radius_pairs(self.hashes[live], max_distance=radius)
            other = self.sha_key[live[i]] != self.sha_key[live[j]]
            parts.append(live[i[other]])
            parts.append(live[j[other]])
        dead = np.flatnonzero(self.flat)
        for run in equal_key_runs(self.hashes[dead].view(np.int64)):
            if np.unique(self.sha_key[dead[run]]).size > 1:
                parts.append(dead[run])
        ks = np.unique(np.concatenate(parts)) if parts else np.zeros(0, dtype=np.int64)
        digests = {int(k): d for k, d in zip(ks.tolist(), self.pixel_digests(ks)) if d is not None}
        known = np.array(sorted(digests), dtype=np.int64)
        keys = np.array([digest_key(digests[k]) for k in known.tolist()], dtype=np.int64)
        return [known[r] for r in equal_key_runs(keys)], digests

    @classmethod
    def of(cls, entries, *, errors=(), source: str = "") -> Haystack:
        """A haystack held in memory (a folder hashed now, or entries built by hand)."""
        import numpy as np

        entries = tuple(entries)
        return cls(hashes=to_uint64([e.dhash for e in entries]),
                   flat=np.array([e.flat for e in entries], dtype=bool),
                   sha_key=np.array([digest_key(e.sha256) for e in entries], dtype=np.int64),
                   pix_key=np.array([digest_key(e.pixel_sha256) if e.pixel_sha256 else -1 for e in entries],
                                    dtype=np.int64),
                   fetch=lambda ks: [entries[k] for k in ks], errors=tuple(errors), source=source,
                   dhash256=_pack256([e.dhash256 for e in entries]), digests=lazy_digests(entries))


@dataclass(frozen=True)
class HashList(_Files):
    """A small haystack read from an index for a search, without numpy: the columns of
    :class:`Haystack` as Python lists (``dhash256``: the 32-byte big-endian values, concatenated).
    :meth:`arrays` gives the :class:`Haystack` for work that needs numpy (dedupe, a large search)."""

    hashes: list[int] = field(repr=False)
    flat: list[bool] = field(repr=False)
    sha_key: list[int] = field(repr=False)
    pix_key: list[int] = field(repr=False)
    fetch: object = field(repr=False)
    errors: tuple = ()
    source: str = ""
    dhash256: bytes | None = field(default=None, repr=False)
    digests: object = field(default=None, repr=False)

    def __len__(self) -> int:
        return len(self.hashes)

    def positions_of_keys(self, keys) -> dict[int, list[int]]:
        """``{key: positions}`` of the files whose ``sha_key`` is one of ``keys``."""
        wanted = set(keys)
        found: dict[int, list[int]] = {}
        for k, key in enumerate(self.sha_key):
            if key in wanted:
                found.setdefault(key, []).append(k)
        return found

    def arrays(self) -> Haystack:
        import numpy as np

        fine = None
        if self.dhash256 is not None:
            fine = np.frombuffer(self.dhash256, dtype=">u8").reshape(-1, 4).astype(np.uint64)
        return Haystack(hashes=np.array(self.hashes, dtype=np.uint64), flat=np.array(self.flat, dtype=bool),
                        sha_key=np.array(self.sha_key, dtype=np.int64), pix_key=np.array(self.pix_key, dtype=np.int64),
                        fetch=self.fetch, errors=self.errors, source=self.source, dhash256=fine, digests=self.digests)


def lazy_digests(entries, *, max_pixels: int | None = None):
    """A ``digests`` callable for entries held in memory: each missing digest computed once."""
    from .record import pixel_digests

    cache: dict[int, str | None] = {}

    def digests(positions):
        todo = [k for k in dict.fromkeys(positions) if k not in cache and not entries[k].pixel_sha256]
        kw = {} if max_pixels is None else {"max_pixels": max_pixels}
        cache.update(zip(todo, pixel_digests([entries[k].path for k in todo], **kw)))
        return [entries[k].pixel_sha256 or cache[k] for k in positions]

    return digests


def _pack256(hashes) -> np.ndarray | None:
    """16x16 dHashes as an (n, 4) uint64 array (word 0 most significant); None if any is missing."""
    import numpy as np

    if any(h is None for h in hashes):
        return None
    raw = b"".join(h.value.to_bytes(32, "big") for h in hashes)
    return np.frombuffer(raw, dtype=">u8").reshape(-1, 4).astype(np.uint64)


def equal_key_runs(keys: np.ndarray) -> list[np.ndarray]:
    """Positions grouped by equal key, groups of two or more only."""
    import numpy as np

    if keys.size < 2:
        return []
    order = np.argsort(keys, kind="stable")
    return equal_runs(order, keys[order])

