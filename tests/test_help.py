"""Every command and every option explains itself: the test walks the real parser, so a command or
option added later without help fails here (no hand-written list to forget)."""
from __future__ import annotations

import argparse

import pytest

from scopecheck.cli import COMMANDS, build_parser, main


def _subparsers(parser):
    (sub,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return sub


PARSER = build_parser()
SUB = _subparsers(PARSER)


def test_every_command_is_listed_with_help():
    helps = {c.dest: c.help for c in SUB._choices_actions}
    assert set(helps) == set(SUB.choices) and len(helps) >= 8
    for name, text in helps.items():
        assert text and len(text) > 15, name


@pytest.mark.parametrize("name", sorted(SUB.choices))
def test_every_option_has_help(name):
    p = SUB.choices[name]
    assert p.description and len(p.description) > 40, name
    for action in p._actions:
        if isinstance(action, argparse._HelpAction):
            continue
        what = action.option_strings or [action.dest]
        assert action.help and action.help != argparse.SUPPRESS and len(action.help) > 8, (name, what)


@pytest.mark.parametrize("name", sorted(SUB.choices))
def test_help_runs(name, capsys):
    with pytest.raises(SystemExit) as e:
        main([name, "--help"])
    out = capsys.readouterr().out
    assert e.value.code == 0 and out.startswith("usage: scopecheck " + name)


def test_lazy_table_names_the_module_that_defines_each_command():
    """cli.COMMANDS maps a command to the only module imported to run it; it must be right."""
    for name in SUB.choices:
        assert name in COMMANDS, f"add {name!r} to scopecheck.cli.COMMANDS"
        alone = _subparsers(build_parser(name))
        assert name in alone.choices, name
