"""scopecheck command line: a thin layer over the ``compare`` and ``capture`` libraries.

Installed, the top-level folders ``compare/`` and ``capture/`` become ``scopecheck.compare`` and
``scopecheck.capture`` (setuptools ``package-dir``), so scopecheck puts one name in site-packages.
"""
__all__ = ["__version__"]


def __getattr__(name: str) -> str:
    if name != "__version__":  # the version is read on first use (see scopecheck.compare)
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from scopecheck.compare import __version__ as v

    return v
