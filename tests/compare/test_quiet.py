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
