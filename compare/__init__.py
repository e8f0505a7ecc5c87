"""scopecheck.compare: load images safely, digest, hash and compare them.

This package imports nothing from ``capture``.
"""
from __future__ import annotations


def __getattr__(name: str) -> str:
    # ``__version__`` on first use: importlib.metadata costs ~40 ms of every command's start-up
    if name != "__version__":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from importlib.metadata import PackageNotFoundError, version

    try:
        v = version("scopecheck")
    except PackageNotFoundError:  # running from a source tree that was never installed
        v = "0+unknown"
    globals()["__version__"] = v
    return v
