"""One line, never a traceback, never a hang; the same conventions in every command (issue 8 C, D)."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest

from scopecheck.cli import build_parser, main
from tests.conftest import COMPARE_FIX, ROOT, assert_one_line_error, run_cli


def fx(name):
    return os.path.join(COMPARE_FIX, name)


def cli(capsys, *args):
    code = main([str(x) for x in args])
    out, err = capsys.readouterr()
    return code, out, err


# ------------------------------------------------------------------ --pairs

def test_pairs_nul_byte_and_a_crashing_pair_do_not_stop_the_batch(tmp_path, capsys, monkeypatch):
    import scopecheck.commands.compare as cmd

    real = cmd.compare_files

    def flaky(a, b, **kw):  # stands for any bug in one pair (e.g. a cv2.error deep in align)
        if a.endswith("ihc_moved.png"):
            raise RuntimeError("boom")
        return real(a, b, **kw)

    monkeypatch.setattr(cmd, "compare_files", flaky)
    lst = tmp_path / "pairs.tsv"
    lst.write_text(f"{fx('ihc_shot1.png')}\x00x\t{fx('ihc_shot2.png')}\n"
                   f"{fx('ihc_moved.png')}\t{fx('ihc_shot1.png')}\n"
                   f"{fx('ihc_shot1.png')}\t{fx('ihc_shot1.png')}\n", encoding="utf-8")
    code, out, err = cli(capsys, "compare", "--pairs", lst, "--json")
    rows = [json.loads(x) for x in out.splitlines()]
    assert code == 2 and len(rows) == 3, (out, err)
    assert "NUL" in rows[0]["error"]
    assert "internal error" in rows[1]["error"] and "RuntimeError" in rows[1]["error"]
    assert rows[2]["verdict"] == "identical-file"


def test_pairs_split_on_newline_only(tmp_path, capsys):
    odd = tmp_path / "x\u0085y\u2028z.png"  # NEL and LINE SEPARATOR are str.splitlines() breaks
    shutil.copy(fx("ihc_shot1.png"), odd)
    lst = tmp_path / "pairs.tsv"
    lst.write_text(f"{odd}\t{fx('ihc_shot1.png')}\r\n", encoding="utf-8")
    code, out, err = cli(capsys, "compare", "--pairs", lst, "--json")
    assert code == 0, err
    (row,) = [json.loads(x) for x in out.splitlines()]
    assert row["a"]["path"] == str(odd) and row["verdict"] == "identical-file"


def test_pairs_without_json_is_documented_tsv(tmp_path, capsys):
    lst = tmp_path / "pairs.tsv"
    lst.write_text(f"{fx('ihc_shot1.png')}\t{fx('ihc_shot1.png')}\nlonely\n", encoding="utf-8")
    code, out, err = cli(capsys, "compare", "--pairs", lst)
    assert code == 2
    first, second = out.splitlines()
    assert first.split("\t")[:3] == ["identical-file", fx("ihc_shot1.png"), fx("ihc_shot1.png")]
    assert second.startswith("error\tlonely\t")
    with pytest.raises(SystemExit):
        main(["compare", "--help"])
    help_text = capsys.readouterr().out
    assert "VERDICT<tab>A<tab>B<tab>REASON" in help_text and "JSON object a line" in help_text


@pytest.mark.parametrize("kind", ["fifo", "dir", "missing", "latin1"])
def test_pairs_list_type_checked_before_opening(tmp_path, kind):
    lst = tmp_path / "list"
    expect = {"fifo": "not a regular file", "dir": "is a folder", "missing": "no such file",
              "latin1": "not UTF-8"}[kind]
    if kind == "fifo":
        os.mkfifo(lst)  # nobody writes: opening it for reading would block for ever
    elif kind == "dir":
        lst.mkdir()
    elif kind == "latin1":
        lst.write_bytes(b"caf\xe9.png\tb.png\n")
    r = run_cli("compare", "--pairs", lst, "--json", timeout=30)
    assert_one_line_error(r, contains=expect)
    assert json.loads(r.stdout)["exit"] == 2


# ------------------------------------------------------------------ what stdout can take

def test_non_utf8_names_with_a_strict_utf8_stdout(tmp_path):
    d = os.fsencode(tmp_path)
    name = b"caf\xe9 \xff.png"  # Latin-1 bytes: not UTF-8
    shutil.copy(fx("ihc_shot1.png"), os.path.join(d, name))
    env = dict(os.environ, PYTHONIOENCODING="utf-8:strict")
    run = [sys.executable, "-m", "scopecheck", "hash", str(tmp_path)]
    r = subprocess.run(run, capture_output=True, env=env, cwd=ROOT, timeout=60)
    assert r.returncode == 0 and b"Traceback" not in r.stderr, r.stderr
    assert r.stdout.splitlines()[1].endswith(os.path.join(d, name))  # the name's own bytes, like ls
    r = subprocess.run(run + ["--json"], capture_output=True, env=env, cwd=ROOT, timeout=60)
    assert r.returncode == 0, r.stderr
    path = json.loads(r.stdout.decode("utf-8"))["path"]  # valid UTF-8 JSON ...
    assert os.fsencode(path) == os.path.join(d, name)  # ... that gives the bytes back


@pytest.mark.parametrize("b,code", [("ihc_shot1.png", 0), ("ihc_particle.png", 1)])
def test_closed_stdout_pipe_keeps_the_verdict(b, code):
    """`scopecheck compare a b | head -0`: the reader is gone before the verdict is printed."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        r = subprocess.run([sys.executable, "-m", "scopecheck", "compare", fx("ihc_shot1.png"), fx(b)],
                           stdout=write_end, stderr=subprocess.PIPE, text=True, cwd=ROOT, timeout=60)
    finally:
        os.close(write_end)
    assert r.returncode == code and r.stderr == "", r.stderr


def test_closed_stdout_pipe_in_a_shell_pipeline(tmp_path):
    lst = tmp_path / "pairs.tsv"
    lst.write_text("".join(f"{fx('ihc_shot1.png')}\t{fx('ihc_particle.png')}\n" for _ in range(3)))
    r = subprocess.run(f"{sys.executable} -m scopecheck compare --pairs {lst} --json | head -c 1 >/dev/null; "
                       "echo ${PIPESTATUS[0]}", shell=True, executable="/bin/bash", capture_output=True,
                       text=True, cwd=ROOT, timeout=120)
    assert r.stdout.strip() == "1" and "Traceback" not in r.stderr and "Broken" not in r.stderr, r.stderr


def test_batch_stops_once_the_reader_has_gone(tmp_path, monkeypatch):
    """`scopecheck compare --pairs L | head -1`: no work for nobody after the reader left."""
    import io

    import scopecheck.commands.compare as cmd

    class ClosingPipe(io.StringIO):
        def write(self, s):
            if self.getvalue():
                raise BrokenPipeError(32, "Broken pipe")
            return super().write(s)

    calls = []
    real = cmd.compare_files
    monkeypatch.setattr(cmd, "compare_files", lambda a, b, **kw: calls.append(a) or real(a, b, **kw))
    monkeypatch.setattr(sys, "stdout", ClosingPipe())
    lst = tmp_path / "pairs.tsv"
    lst.write_text(f"{fx('ihc_shot1.png')}\t{fx('ihc_particle.png')}\n" * 50)
    assert main(["compare", "--pairs", str(lst)]) == 1
    assert len(calls) == 2  # the first line was read, the second found the pipe closed


# ------------------------------------------------------------------ consistency

def test_options_anywhere(tmp_path, capsys):
    code, out, err = cli(capsys, "compare", fx("ihc_shot1.png"), "--json", fx("ihc_particle.png"))
    assert code == 1 and json.loads(out)["verdict"] == "different", err
    code, out, err = cli(capsys, "compare", "--json", fx("ihc_shot1.png"), "--hash-size", "8", fx("ihc_shot1.png"))
    assert code == 0 and json.loads(out)["verdict"] == "identical-file", err
    code, out, err = cli(capsys, "strip", fx("forum_120900.jpg"), "--json", "-o", tmp_path / "s.jpg")
    assert code == 0 and json.loads(out)["output"] == str(tmp_path / "s.jpg"), err


def test_double_dash_still_ends_the_options(tmp_path, capsys, monkeypatch):
    dash = tmp_path / "-dash.png"
    shutil.copy(fx("ihc_shot1.png"), dash)
    monkeypatch.chdir(tmp_path)
    code, out, err = cli(capsys, "compare", "--json", "--", "-dash.png", fx("ihc_shot1.png"))
    assert code == 0 and json.loads(out)["verdict"] == "identical-file", err


def _subcommands():
    parser = build_parser()
    (sub,) = [a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction"]
    return sub.choices


def test_json_usage_errors_are_json_for_every_command(capsys):
    names = [n for n, p in _subcommands().items() if any("--json" in a.option_strings for a in p._actions)]
    assert {"compare", "hash", "strip", "index", "search", "dedupe", "capture"} <= set(names)
    for name in names:
        with pytest.raises(SystemExit) as e:
            main([name, "--json", "--no-such-option"])
        out, err = capsys.readouterr()
        assert e.value.code == 2 and err.count("\n") == 1, (name, err)
        doc = json.loads(out)
        assert doc["exit"] == 2 and doc["error"].startswith("scopecheck"), name


@pytest.mark.parametrize("args", [
    ("compare", "nowhere.png", "ihc_shot1.png"),
    ("hash", "nowhere.png"),
    ("strip", "nowhere.jpg", "-o", "OUT/s.jpg"),
    ("index", "nowhere", "--db", "OUT/i.sqlite"),
    ("search", "--haystack", "nowhere", "--needles", "nowhere"),
    ("dedupe", "nowhere"),
])
def test_json_runtime_errors_are_json(args, tmp_path, capsys):
    args = [a.replace("OUT", str(tmp_path)) if "OUT" in a else (fx(a) if a == "ihc_shot1.png" else a)
            for a in args]
    code, out, err = cli(capsys, *args, "--json")
    assert code == 2 and err.count("\n") == 1, err
    doc = json.loads(out.strip().splitlines()[-1])
    assert doc["exit"] == 2 and "nowhere" in doc["error"]


def test_hash_labels_its_columns(capsys):
    code, out, _ = cli(capsys, "hash", fx("ihc_shot1.png"))
    head, row = out.splitlines()
    assert head.split() == ["dhash", "sha256", "pixel_sha256", "flat", "path"]
    assert row.split("  ")[0].startswith("dhash:8:") and row.endswith(fx("ihc_shot1.png"))


def test_one_frame_not_one_frames(tmp_path):
    rec = os.path.join(os.path.dirname(COMPARE_FIX), "recordings", "ihc_still_a", "frame_%04d.png")
    r = run_cli("capture", "--device", rec, "--frames", "1", "--warmup", "0", "-o", tmp_path / "one.png")
    assert r.returncode == 0, r.stderr
    assert " 1 frame stacked" in r.stdout and "1 frames" not in r.stdout


def test_a_file_name_with_a_line_break_still_gives_one_error_line(tmp_path):
    """The name is quoted with its line break written as \\n: the error stays one line."""
    from tests.conftest import assert_one_line_error, run_cli

    bad = tmp_path / "two\nlines.png"
    bad.write_bytes(b"not an image")
    for args in (("hash", bad), ("compare", bad, bad), ("strip", bad, "-o", tmp_path / "out.png")):
        r = run_cli(*args)
        assert_one_line_error(r, contains="two\\nlines.png")
