"""The examples in the docstrings of compare and the CLI run (capture's: tests/capture/test_docs.py)."""
from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import scopecheck.commands
import scopecheck.compare


def _modules():
    names = ["scopecheck.cli"]
    for pkg in (scopecheck.compare, scopecheck.commands):
        names += [f"{pkg.__name__}.{m.name}" for m in pkgutil.iter_modules(pkg.__path__)]
    return sorted(names)


RESULTS: dict[str, int] = {}


@pytest.mark.parametrize("name", _modules())
def test_docstring_examples_run(name):
    mod = importlib.import_module(name)
    failed, attempted = doctest.testmod(mod, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE,
                                        verbose=False, report=True)
    assert failed == 0, name
    RESULTS[name] = attempted


def test_there_are_examples_to_run():
    for name in _modules():
        RESULTS.setdefault(name, doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS
                                                 | doctest.NORMALIZE_WHITESPACE, report=False)[1])
    assert sum(RESULTS.values()) >= 10, RESULTS
