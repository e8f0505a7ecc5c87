"""compare.atomic.write_atomic: no clobbering, atomic replace, durability, clean failure."""
from __future__ import annotations

import errno
import os
import stat
import threading

import pytest

from scopecheck.compare import atomic
from scopecheck.compare.atomic import write_atomic
from scopecheck.compare.errors import InputError, OutputExistsError


def listing(d) -> list[str]:
    return sorted(os.listdir(d))


@pytest.fixture
def umask022():
    old = os.umask(0o022)
    yield
    os.umask(old)


def test_new_file_content_mode_and_no_leftovers(tmp_path, umask022):
    p = tmp_path / "shot.png"
    write_atomic(p, b"\x89PNG data", overwrite=False)
    assert p.read_bytes() == b"\x89PNG data"
    assert stat.S_IMODE(p.stat().st_mode) == 0o644  # 0o666 minus the umask, like open()
    assert listing(tmp_path) == ["shot.png"]


@pytest.mark.parametrize("name", ["with space.jpg", "größe µm.png", "шум.jpg", "-dash.png", "x" * 240])
def test_odd_names(tmp_path, name):
    write_atomic(tmp_path / name, b"abc", overwrite=False)
    assert (tmp_path / name).read_bytes() == b"abc"
    assert listing(tmp_path) == [name]


def test_existing_file_is_not_overwritten(tmp_path):
    p = tmp_path / "a.jpg"
    p.write_bytes(b"original")
    with pytest.raises(OutputExistsError, match=r"a.jpg: already exists; not overwriting it"):
        write_atomic(p, b"new", overwrite=False)
    assert p.read_bytes() == b"original"
    assert listing(tmp_path) == ["a.jpg"]


def test_dangling_symlink_counts_as_existing(tmp_path):
    link = tmp_path / "link.jpg"
    link.symlink_to(tmp_path / "nowhere.jpg")
    with pytest.raises(OutputExistsError):
        write_atomic(link, b"new", overwrite=False)
    assert not (tmp_path / "nowhere.jpg").exists()


def test_file_appearing_during_the_write_is_not_clobbered(tmp_path, monkeypatch):
    """The final step is race-free: a competitor that creates the name first wins."""
    p = tmp_path / "race.png"
    real_link = os.link

    def competitor_then_link(src, dst, *a, **k):
        with open(dst, "wb") as f:
            f.write(b"competitor")
        return real_link(src, dst, *a, **k)

    monkeypatch.setattr(atomic.os, "link", competitor_then_link)
    with pytest.raises(OutputExistsError):
        write_atomic(p, b"mine", overwrite=False)
    assert p.read_bytes() == b"competitor"
    assert listing(tmp_path) == ["race.png"]


@pytest.mark.parametrize("code", [errno.EPERM, errno.EOPNOTSUPP])
def test_without_hard_links_still_no_clobber(tmp_path, monkeypatch, code):
    def no_link(src, dst, *a, **k):
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr(atomic.os, "link", no_link)
    p = tmp_path / "fat32.png"
    write_atomic(p, b"first", overwrite=False)
    assert p.read_bytes() == b"first" and listing(tmp_path) == ["fat32.png"]
    with pytest.raises(OutputExistsError):
        write_atomic(p, b"second", overwrite=False)
    assert p.read_bytes() == b"first" and listing(tmp_path) == ["fat32.png"]


def test_concurrent_writers_exactly_one_wins(tmp_path):
    p = tmp_path / "contended.bin"
    payloads = [bytes([i]) * 100_000 for i in range(8)]
    results: list = [None] * 8
    barrier = threading.Barrier(8)

    def worker(i):
        barrier.wait()
        try:
            write_atomic(p, payloads[i], overwrite=False)
            results[i] = "ok"
        except OutputExistsError:
            results[i] = "exists"

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results.count("ok") == 1, results
    assert p.read_bytes() == payloads[results.index("ok")]  # whole, never mixed
    assert listing(tmp_path) == ["contended.bin"]


def test_overwrite_replaces_atomically_and_keeps_mode(tmp_path):
    p = tmp_path / "in place.jpg"
    p.write_bytes(b"old content")
    os.chmod(p, 0o640)
    inode = p.stat().st_ino
    write_atomic(p, b"new", overwrite=True)
    assert p.read_bytes() == b"new"
    assert stat.S_IMODE(p.stat().st_mode) == 0o640
    assert p.stat().st_ino != inode  # a new file renamed over the old one, not a truncation
    assert listing(tmp_path) == ["in place.jpg"]


def test_explicit_mode(tmp_path):
    p = tmp_path / "m.png"
    write_atomic(p, b"x", overwrite=False, mode=0o600)
    assert stat.S_IMODE(p.stat().st_mode) == 0o600


def test_overwrite_replaces_a_symlink_not_its_target(tmp_path):
    target = tmp_path / "target.jpg"
    target.write_bytes(b"target")
    link = tmp_path / "link.jpg"
    link.symlink_to(target)
    write_atomic(link, b"new", overwrite=True)
    assert not link.is_symlink() and link.read_bytes() == b"new"
    assert target.read_bytes() == b"target"


def test_fsyncs_file_and_directory(tmp_path, monkeypatch):
    synced = []
    real = os.fsync

    def spy(fd):
        synced.append(stat.S_ISDIR(os.fstat(fd).st_mode))
        return real(fd)

    monkeypatch.setattr(atomic.os, "fsync", spy)
    write_atomic(tmp_path / "d.png", b"x", overwrite=False)
    assert synced == [False, True]  # the data first, then the directory entry


@pytest.mark.parametrize("exc", [OSError(errno.ENOSPC, "No space left on device"), KeyboardInterrupt()])
def test_failure_removes_the_temporary_file(tmp_path, monkeypatch, exc):
    p = tmp_path / "full.png"
    p.write_bytes(b"keep me")

    def boom(fd):
        raise exc

    monkeypatch.setattr(atomic.os, "fsync", boom)
    expected = InputError if isinstance(exc, OSError) else KeyboardInterrupt
    with pytest.raises(expected) as info:
        write_atomic(p, b"new", overwrite=True)
    if expected is InputError:
        assert str(info.value) == f"{p}: cannot write: no space left on device"
    assert p.read_bytes() == b"keep me"
    assert listing(tmp_path) == ["full.png"]


def test_missing_directory(tmp_path):
    p = tmp_path / "no" / "such" / "dir" / "x.png"
    with pytest.raises(InputError, match=r"cannot write: directory .* does not exist"):
        write_atomic(p, b"x", overwrite=False)


def test_path_is_a_directory(tmp_path):
    d = tmp_path / "dir.png"
    d.mkdir()
    with pytest.raises(InputError, match="is a directory"):
        write_atomic(d, b"x", overwrite=True)
    with pytest.raises(OutputExistsError):
        write_atomic(d, b"x", overwrite=False)
    assert d.is_dir() and listing(tmp_path) == ["dir.png"]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="FIFOs")
def test_overwrite_replaces_files_only(tmp_path):
    """``overwrite`` replaces a file or a symlink, never a FIFO or a device node (as root,
    ``--diff /dev/null --overwrite`` would have made /dev/null a regular file)."""
    f = tmp_path / "pipe.png"
    os.mkfifo(f)
    with pytest.raises(InputError, match="pipe.png: cannot write: is a FIFO, not a file to replace"):
        write_atomic(f, b"x", overwrite=True)
    assert stat.S_ISFIFO(os.lstat(f).st_mode) and listing(tmp_path) == ["pipe.png"]
    with pytest.raises(InputError, match="is a character device, not a file to replace"):
        write_atomic("/dev/null", b"x", overwrite=True)
    assert stat.S_ISCHR(os.lstat("/dev/null").st_mode)


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root ignores permissions")
def test_unwritable_directory(tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir()
    os.chmod(ro, 0o555)
    try:
        with pytest.raises(InputError, match="permission denied"):
            write_atomic(ro / "x.png", b"x", overwrite=False)
    finally:
        os.chmod(ro, 0o755)


def test_rejects_non_bytes(tmp_path):
    with pytest.raises(TypeError):
        write_atomic(tmp_path / "x", "text", overwrite=False)


def test_permission_denied_message(tmp_path, monkeypatch):
    """Simulated (tests may run as root, which ignores directory permissions)."""
    def denied(path, *a, **k):
        raise PermissionError(errno.EACCES, "Permission denied", path)

    monkeypatch.setattr(atomic.os, "open", denied)
    with pytest.raises(InputError, match=r"x.png: cannot write: permission denied in "):
        write_atomic(tmp_path / "x.png", b"x", overwrite=False)
    assert listing(tmp_path) == []
