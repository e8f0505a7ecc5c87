"""The README's first lines give the two commands, its examples are true, and it covers every command."""
import os
import re
import shlex

import pytest

from scopecheck.cli import build_parser
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
    args = [str(tmp_path / a[len("out/"):]) if a.startswith("out/") else a for a in args]  # outputs in tmp
    r = run_cli(*args)
    assert r.returncode in (0, 1), r.stderr
    assert r.stdout.splitlines()[0].replace(str(tmp_path) + os.sep, "out/") == expected


def test_readme_has_examples():
    assert len(list(examples())) >= 3


def test_examples_write_under_out():
    """Examples never write into the repository root: every output option names a path in out/."""
    writes = ("-o", "--output", "--diff", "--sheet", "--db")
    for command, _ in examples():
        args = shlex.split(command)
        for opt, value in zip(args, args[1:]):
            if opt in writes:
                assert value.startswith("out/"), command


def test_says_how_to_run_it_after_make():
    assert ".venv/bin/scopecheck" in README and ". .venv/bin/activate" in README


def test_every_command_is_documented():
    (sub,) = [a for a in build_parser()._actions if a.__class__.__name__ == "_SubParsersAction"]
    for name in sub.choices:
        assert f"scopecheck {name}" in README, f"README does not mention `scopecheck {name}`"
    for section in ("## Hashing and stripping files", "`scopecheck hash FILE|DIR...`", "`scopecheck strip IN..."):
        assert section in README
