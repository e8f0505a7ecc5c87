"""scopecheck.compare: load images safely, digest, hash and compare them.

This package imports nothing from ``capture``.
"""
from importlib.metadata import PackageNotFoundError, version as _version

try:
    __version__ = _version("scopecheck")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0+unknown"
