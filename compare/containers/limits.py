"""Every bound applied to an input before work starts, in one frozen value.

``max_bytes`` and ``max_pixels`` are command-line options (``--max-bytes``, ``--max-pixels``); the
others are library limits, generous for any file a camera or an ordinary encoder writes, and are
named in each refusal (``max_scans``, ...) so a caller that trusts a file knows what to raise.
"""
from __future__ import annotations

from ..errors import LimitError
from ..frozen import dataclass

DEFAULT_MAX_BYTES = 1 << 30          # 1 GiB
DEFAULT_MAX_PIXELS = 100_000_000     # 100 megapixels


def human_bytes(n: int) -> str:
    """``1 GiB``, ``16 MiB``, ``3.0 GB`` style sizes for messages (binary units when exact)."""
    for unit, size in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= size and n % size == 0 and n // size < 1024:
            return f"{n // size} {unit}"
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{n} bytes"


@dataclass(frozen=True)
class Limits:
    """Bounds on one input file.

    max_bytes : file size (``--max-bytes``), checked with ``stat`` before reading.
    max_pixels : declared width x height (``--max-pixels``), checked before decoding.
    max_scans : JPEG scans (progressive files from ordinary encoders use about 10; each scan
        costs a pass over the whole image).
    max_segments : JPEG segments, PNG chunks, WebP chunks or TIFF directory entries walked. PNG
        files may hold one chunk per 4 KiB beyond it (libpng writes 8 KiB IDAT chunks, so a
        600 MB PNG has 75,000), which keeps the walk linear in the file's size.
    max_entries : metadata entries listed per file; the rest are summarised in one entry.
    max_inflate : decompressed bytes of one zTXt/iTXt/iCCP chunk.
    max_inflate_total : decompressed metadata bytes of one file.
    max_images : images in one file (TIFF pages, animation frames); all of them together are also
        held to ``max_pixels`` (:func:`check_stack_pixels`).
    """

    max_bytes: int = DEFAULT_MAX_BYTES
    max_pixels: int = DEFAULT_MAX_PIXELS
    max_scans: int = 100
    max_segments: int = 65_536
    max_entries: int = 1000
    max_inflate: int = 4 << 20
    max_inflate_total: int = 16 << 20
    max_images: int = 1000


DEFAULT_LIMITS = Limits()


def _megapixels(npix: int) -> str:
    """``npix`` in megapixels, one decimal (an integer beyond a float's range as "more than 1e300")."""
    return f"{npix / 1e6:.1f}" if npix < 10 ** 300 else "more than 1e300"


def check_pixels(width: int, height: int, limits: Limits) -> None:
    """LimitError when a declared size is over ``max_pixels`` (the option named in the message)."""
    npix = width * height
    if npix > limits.max_pixels:
        raise LimitError(f"declares {width}x{height} = {_megapixels(npix)} megapixels, over the limit "
                         f"--max-pixels {limits.max_pixels / 1e6:g} MP; raise it if the file is trusted")


def check_image_count(n: int, limits: Limits, what: str) -> None:
    """LimitError when a file holds more than ``max_images`` images (``what``: "TIFF directories",
    "GIF frames", ...)."""
    if n > limits.max_images:
        raise LimitError(f"more than {limits.max_images} {what}, over the limit max_images")


def check_stack_pixels(sizes, limits: Limits) -> None:
    """LimitError when the images of one file (TIFF pages, animation frames; ``sizes`` their
    (width, height)) hold more than ``max_pixels`` together: every image is decoded, so a stack
    is bounded like one image of its total size."""
    npix = sum(w * h for w, h in sizes)
    if npix > limits.max_pixels:
        raise LimitError(f"holds {len(sizes)} images of {_megapixels(npix)} megapixels in all, over the limit "
                         f"--max-pixels {limits.max_pixels / 1e6:g} MP; raise it if the file is trusted")


#: Decoded bytes per pixel that ``--max-pixels`` stands for: an 8-bit RGB image (what PNG, JPEG,
#: TIFF and BMP decoders hold, the output only), so the default 100 MP is a 300 MB decode.
BUDGET_BYTES_PER_PIXEL = 3


def check_working_memory(width: int, height: int, *, bytes_per_pixel: int, what: str, limits: Limits) -> None:
    """LimitError when a decoder that keeps a whole-image working copy beside its output would
    hold more than ``max_pixels`` x :data:`BUDGET_BYTES_PER_PIXEL` bytes.

    For formats whose compressed data has no size floor (lossless WebP codes a one-colour image of
    any size in 32 bytes; GIF's LZW in about 1 byte per 3,000 pixels), the declared size is the
    only thing that bounds the decode, so it is bounded by the memory it costs, not by the file
    size: a rule that refuses by decoded memory only, never a real file for being small.
    """
    need = width * height * bytes_per_pixel
    budget = limits.max_pixels * BUDGET_BYTES_PER_PIXEL
    if need > budget:
        raise LimitError(f"{what} {width}x{height} needs about {human_bytes(need)} to decode "
                         f"({bytes_per_pixel} bytes per pixel), over the {human_bytes(budget)} that --max-pixels "
                         f"{limits.max_pixels / 1e6:g} MP allows ({BUDGET_BYTES_PER_PIXEL} bytes per pixel); "
                         f"raise --max-pixels if the file is trusted")


def check_decoded_bytes(need: int, *, what: str, limits: Limits) -> None:
    """LimitError when the decoded samples of a file (all its images) take more than ``max_pixels``
    x :data:`BUDGET_BYTES_PER_PIXEL` bytes: a 16-bit RGBA image holds 8 bytes a pixel, so 100 MP of
    it in a 778 KB PNG would decode to 800 MB (and a comparison of it to several times that)."""
    budget = limits.max_pixels * BUDGET_BYTES_PER_PIXEL
    if need > budget:
        raise LimitError(f"{what} needs about {human_bytes(need)} to decode, over the {human_bytes(budget)} that "
                         f"--max-pixels {limits.max_pixels / 1e6:g} MP allows ({BUDGET_BYTES_PER_PIXEL} bytes per "
                         f"pixel); raise --max-pixels if the file is trusted")


def check_bytes(size: int, limits: Limits) -> None:
    """LimitError when a file is larger than ``max_bytes``."""
    if size > limits.max_bytes:
        raise LimitError(f"is {human_bytes(size)}, over the limit --max-bytes "
                         f"{human_bytes(limits.max_bytes)}; raise it if the file is trusted")
