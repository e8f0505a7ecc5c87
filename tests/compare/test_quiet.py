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


def test_overlapping_decodes_share_one_redirection_and_solo_waits_for_them():
    """Two threads inside captured() at once: the second is told it overlapped, fd 2 is redirected
    once and restored when the last leaves; solo() waits until no decode is inside, and a decode
    started meanwhile waits until the solo body is done."""
    import threading

    before = os.fstat(2)
    inside, release, order = threading.Event(), threading.Event(), []
    results = {}

    def first():
        with quiet.captured() as m:
            inside.set()
            release.wait(10)
        results["first"] = m
        order.append("first left")

    t = threading.Thread(target=first)
    t.start()
    assert inside.wait(10)
    with quiet.captured() as m2:
        pass
    assert m2.overlapped and os.fstat(2).st_ino != before.st_ino  # still redirected: first is inside

    def solo_body():
        with quiet.solo():
            order.append("solo")
            with quiet.captured() as m:  # the solo owner may decode
                pass
            results["solo"] = m
            late.start()
            late.join(0.2)
            assert late.is_alive()  # held off while the solo body runs
            order.append("solo done")

    def late_decode():
        with quiet.captured():
            order.append("late")

    late = threading.Thread(target=late_decode)
    s = threading.Thread(target=solo_body)
    s.start()
    s.join(0.2)
    assert s.is_alive() and order == []  # solo waits for the first decode
    release.set()
    for th in (t, s, late):
        th.join(10)
    assert order == ["first left", "solo", "solo done", "late"]
    assert results["first"].overlapped  # the second decode shared its window
    assert not results["solo"].overlapped
    after = os.fstat(2)
    assert (after.st_dev, after.st_ino) == (before.st_dev, before.st_ino)
