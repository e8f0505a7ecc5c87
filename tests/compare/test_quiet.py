"""compare.quiet: one sink per process, emptied between decodes, fd 2 always restored."""
import os

from scopecheck.compare import quiet


def test_sink_reused_and_emptied(capfd):
    with quiet.captured() as m:
        os.write(2, b"Corrupt JPEG data: premature end of data segment\n")
    assert m.text.startswith("Corrupt JPEG data")
    sink = quiet._sink
    with quiet.captured() as m2:  # the same file, holding nothing of the decode before
        pass
    assert m2.text == "" and quiet._sink == sink
    with quiet.captured() as m3:
        os.write(2, b"libpng error: IDAT: CRC error\nsome other line\n")
    assert m3.text.splitlines()[0] == "libpng error: IDAT: CRC error"
    os.write(2, b"after\n")  # fd 2 is the real stderr again; non-decoder lines were passed on
    err = capfd.readouterr().err
    assert "some other line" in err and "after" in err and "libpng" not in err and "Corrupt" not in err
    assert os.fstat(quiet._sink).st_size == 0


def test_closed_stderr_stays_closed_and_the_sink_is_not_fd_2():
    """Started with 2>&-: the sink never takes fd 2 itself, messages are still captured, and fd 2
    is closed again afterwards."""
    import subprocess
    import sys

    code = ("import os\nfrom scopecheck.compare import quiet\n"
            "with quiet.captured() as m:\n    os.write(2, b'Corrupt JPEG data: x\\n')\n"
            "try:\n    os.fstat(2); closed = False\nexcept OSError:\n    closed = True\n"
            "os.write(1, f'{m.text.strip()}|{quiet._sink > 2}|{closed}'.encode())\n")
    r = subprocess.run([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                       preexec_fn=lambda: os.close(2))
    assert r.returncode == 0 and r.stdout.decode() == "Corrupt JPEG data: x|True|True"
