"""scopecheck command line: a thin layer over the ``compare`` and ``capture`` libraries.

Installed, the top-level folders ``compare/`` and ``capture/`` become ``scopecheck.compare`` and
``scopecheck.capture`` (setuptools ``package-dir``), so scopecheck puts one name in site-packages.
"""
from scopecheck.compare import __version__

__all__ = ["__version__"]
