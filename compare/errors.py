"""One exception hierarchy for the whole project.

Every error a user can cause carries a plain one-line message and the exit status the command
line returns for it. ``capture`` subclasses these; the CLI turns any :class:`ScopecheckError`
into one line on stderr and its ``exit_code``.
"""
from __future__ import annotations


class ScopecheckError(Exception):
    """Base of every error scopecheck raises on purpose. ``exit_code`` is 2 ("trouble")."""

    exit_code = 2

    def __init__(self, message: str, *, path: str | None = None):
        self.path = path
        super().__init__(f"{path}: {message}" if path else message)


class InputError(ScopecheckError):
    """A file or argument that cannot be used: missing, unreadable, a directory, bad option."""


class DecodeError(InputError):
    """Bytes that are not a decodable image: empty, truncated, not an image, header only."""


class LimitError(InputError):
    """An image that declares more pixels than allowed (decompression bomb guard)."""


class IndexMismatchError(ScopecheckError):
    """A stored index built with other parameters or schema; the fix is to re-index."""


class DeviceError(ScopecheckError):
    """A capture device that is absent, busy, lost or refuses to work."""


class OutputExistsError(InputError):
    """An output path that already exists and may not be overwritten."""
