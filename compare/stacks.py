"""Comparing files of several images: a TIFF stack's pages, an animation's frames.

A file's pixels are all the images it holds (:mod:`compare.load` decodes every one,
:mod:`compare.digest` digests them in order), so two stacks are ``identical-pixels`` only when
every page is equal. Otherwise the pages are compared in order, one pair at a time, as two
single images are (:func:`compare.pair.compare_sides`); equal pages (same pixel digest) are
skipped. The verdict is the worst page's -- a stack is the same field within noise only when
each of its differing pages is -- and the report shows that page ("image 2 of 3: ..."), with
the list of differing pages. Stacks of different lengths are ``different`` whatever their common
pages show: one holds images the other lacks.
"""
from __future__ import annotations

from dataclasses import replace

from .digest import pixel_sha256
from .hashing import image_dhash, luma
from .load import Image
from .metadata import diff_metadata
from .verdict import Verdict
from .working import working_image

__all__ = ["compare_stacks", "page_digest", "page_ranges", "page_side", "pages_words", "shown_page"]

_KIND = {"tiff": "pages", "png": "frames", "webp": "frames", "gif": "frames"}


def page_digest(side, k: int) -> str:
    """The pixel digest of image ``k`` (0-based) of a side alone."""
    return side.pixel_sha256 if side.image.images == 1 else pixel_sha256(side.image.stored(k))


def page_side(side, k: int, digest: str | None = None):
    """Image ``k`` (0-based) of a prepared :class:`compare.pair.Side`, as a Side of its own (the
    file's bytes, digest and metadata; that page's pixels, digest, luma, dHash). ``digest``: the
    page's :func:`page_digest`, when known."""
    img = side.image
    if img.images == 1:
        return side
    px = img.page(k)
    page = Image(path=img.path, data=img.data, format=img.format, pixels=px,
                 source=None if img.source is None else (img.source[k],), stretched=img.stretched)
    digest = digest or pixel_sha256(page.stored())
    if k == 0:  # the side's own luma, working image and dHash are the first page's
        return replace(side, image=page, pixel_sha256=digest)
    y = luma(px)
    return replace(side, image=page, pixel_sha256=digest, luma=y,
                   dhash=image_dhash(page, hash_size=side.dhash.size, y=y), work=working_image(px))


def pages_words(img: Image) -> str:
    """"3 pages" / "12 frames" / "1 image"."""
    n = img.images
    return "1 image" if n == 1 else f"{n} {_KIND.get(img.format, 'images')}"


def page_ranges(pages, *, base: int = 1, runs: int = 8) -> str:
    """Page numbers as runs: ``[1, 2, 3, 5, 7, 8]`` -> ``"1-3, 5, 7-8"``; after ``runs`` runs,
    ``"and N more"`` (``base``: added to each number, 1 for 0-based indices shown 1-based)."""
    out: list[str] = []
    i, pages = 0, list(pages)
    while i < len(pages):
        j = i
        while j + 1 < len(pages) and pages[j + 1] == pages[j] + 1:
            j += 1
        if len(out) == runs:
            return ", ".join(out) + f" and {len(pages) - i} more"
        lo, hi = pages[i] + base, pages[j] + base
        out.append(str(lo) if lo == hi else f"{lo}-{hi}")
        i = j + 1
    return ", ".join(out)


def compare_stacks(a, b, *, compare_one, thresholds, want_map: bool = False, progress=None):
    """Compare two prepared sides of which at least one holds several images and whose whole
    pixel digests differ. ``compare_one(a, b, thresholds=..., want_map=...)`` compares two
    single-image sides (:func:`compare.pair.compare_sides`). Returns its
    :class:`compare.pair.Comparison` for the page shown, with the files' sides, the stack's
    verdict and reason, and ``images`` (``{"a", "b", "differ", "shown"}``, 1-based pages).
    ``progress(done, total, errors)`` is told of each page pair compared (a long stack)."""
    na, nb = a.image.images, b.image.images
    if min(na, nb) == 1:  # one image against a stack: is it one of its pages?
        return _one_in_stack(a, b, compare_one=compare_one, thresholds=thresholds, want_map=want_map)
    n = min(na, nb)
    digests = [(page_digest(a, k), page_digest(b, k)) for k in range(n)]
    differ = [k for k, (da, db) in enumerate(digests) if da != db]  # equal pages: nothing more to make of them

    def one(k: int):
        return compare_one(page_side(a, k, digests[k][0]), page_side(b, k, digests[k][1]),
                           thresholds=thresholds, want_map=want_map)

    # the worst page: the first different one, else the first that differs at all; only those two
    # are kept (a map per page would hold the whole stack's worth of maps)
    # (one pair at a time: two at once took as long, each comparison already using both cores)
    first = worst = None
    for done, k in enumerate(differ, 1):
        c = one(k)
        if first is None:
            first = (k, c)
        if worst is None and not c.same:
            worst = (k, c)
        if progress is not None:
            progress(done, len(differ), 0)
    if first is not None:
        k, shown = worst or first
    else:  # every common page equal: the stacks differ in length only
        k, shown = 0, compare_one(page_side(a, 0), page_side(b, 0), thresholds=thresholds, want_map=want_map)
    if na != nb:
        if n == 1:
            common = "their first images differ" if differ else "their first images are identical"
        else:
            common = (f"{len(differ)} of the {n} in common differ ({page_ranges(differ)})" if differ
                      else f"the {n} in common are identical")
        verdict = Verdict.DIFFERENT
        reason = f"stacks differ in length: A holds {pages_words(a.image)}, B {pages_words(b.image)}; {common}"
        if differ:
            reason += f"; image {k + 1}: {shown.reason}"
    else:
        verdict = shown.verdict
        what = "all differing images" if len(differ) > 1 else "the one differing image"
        head = (f"image {k + 1} of {n}: " if shown.verdict == Verdict.DIFFERENT or len(differ) == 1
                else f"{what} within noise ({page_ranges(differ)} of {n}); image {k + 1}: ")
        tail = f"; images {page_ranges(differ)} of {n} differ" if len(differ) > 1 and verdict == Verdict.DIFFERENT else ""
        reason = head + shown.reason + tail
    images = {"a": na, "b": nb, "differ": [d + 1 for d in differ], "shown": k + 1}
    return replace(shown, a=a, b=b, verdict=verdict, reason=reason, file_equal=False, pixels_equal=False,
                   metadata_differences=diff_metadata(a.metadata, b.metadata),
                   same_field=shown.same_field, images=images, page=k)


def shown_page(c, side: str) -> int:
    """The image (0-based) of side ``"a"`` or ``"b"`` that a comparison's figures are of: its page
    for a stack, 0 for a single image (compared against one page of the other side's stack)."""
    img = (c.a if side == "a" else c.b).image
    return c.page if img.images > 1 else 0


def _one_in_stack(a, b, *, compare_one, thresholds, want_map: bool):
    """A single image against a stack: the stack's page with the same pixels, else the page nearest
    by dHash, is compared with it. The verdict is ``different`` (the stack holds other images) and
    the reason says which page the single image is, or is nearest to."""
    single, stack, name = (a, b, "B") if a.image.images == 1 else (b, a, "A")
    other = "A" if name == "B" else "B"
    n = stack.image.images
    k = next((i for i in range(n) if page_digest(stack, i) == single.pixel_sha256), None)
    exact = k is not None
    if k is None:  # the nearest page by dHash (the reduction rule, as any dHash)
        k = min(range(n), key=lambda i: single.dhash - image_dhash(
            Image(path=stack.image.path, data=stack.image.data, format=stack.image.format,
                  pixels=stack.image.page(i)), hash_size=single.dhash.size))
    page = page_side(stack, k)
    pa, pb = (single, page) if single is a else (page, single)
    shown = compare_one(pa, pb, thresholds=thresholds, want_map=want_map)
    found = (f"{other} is {name}'s image {k + 1} (pixels identical)" if exact
             else f"nearest to {other} is {name}'s image {k + 1} (by dHash): {shown.reason}")
    reason = f"stacks differ in length: A holds {pages_words(a.image)}, B {pages_words(b.image)}; {found}"
    images = {"a": a.image.images, "b": b.image.images, "differ": [], "shown": k + 1,
              "found": {"side": name, "image": k + 1, "pixels_equal": exact}}
    return replace(shown, a=a, b=b, verdict=Verdict.DIFFERENT, reason=reason, file_equal=False, pixels_equal=False,
                   metadata_differences=diff_metadata(a.metadata, b.metadata),
                   same_field=shown.same_field, images=images, page=k)
