"""scopecheck command line: a thin layer over the ``compare`` and ``capture`` libraries."""
__version__ = "0.1.0"
