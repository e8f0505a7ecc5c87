"""The README's first lines give the two commands, and its examples are true."""
import os
import re
import shlex

import pytest

from tests.conftest import ROOT, run_cli

README = open(os.path.join(ROOT, "README.md"), encoding="utf-8").read()


def test_first_lines_are_the_two_commands():
    first = [line.split("#")[0].strip() for line in README.splitlines()[:2]]
    assert first == ["make demo", "make test"]


def examples():
    """Indented `$ scopecheck ...` lines with the line that follows (the expected first output line)."""
    lines = README.splitlines()
    for i, line in enumerate(lines):
        m = re.match(r"^ {4}\$ (scopecheck .*)$", line)
        if m and i + 1 < len(lines) and lines[i + 1].startswith("    ") and not lines[i + 1].strip().startswith("$"):
            yield m.group(1), lines[i + 1].strip()


@pytest.mark.parametrize("command,expected", list(examples()), ids=lambda v: v[:60])
def test_readme_example(command, expected, tmp_path):
    args = shlex.split(command)[1:]
    args = [str(tmp_path / a) if a.endswith(".png") and "/" not in a else a for a in args]  # outputs in tmp
    r = run_cli(*args)
    assert r.returncode in (0, 1), r.stderr
    assert r.stdout.splitlines()[0] == expected


def test_readme_has_examples():
    assert len(list(examples())) >= 3
