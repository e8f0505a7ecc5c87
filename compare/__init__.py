"""scopecheck.compare: load images safely, digest, hash and compare them.

This package imports nothing from ``capture``.
"""
