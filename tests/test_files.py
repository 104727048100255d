"""Atomic writes and output checks: no file is ever half-written."""

import errno
import os
import stat
import threading

import pytest

from digitnet._files import atomic_write, atomic_write_text, check_writable


def test_a_write_that_fails_half_way_keeps_the_old_file(tmp_path):
    target = tmp_path / "model.dnet"
    target.write_bytes(b"old model")

    def full_disk(f):
        f.write(b"new mod")
        raise OSError(errno.ENOSPC, "No space left on device")

    with pytest.raises(OSError, match=r"cannot write .*model\.dnet: No space left"):
        atomic_write(target, full_disk)
    assert target.read_bytes() == b"old model"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.dnet"]


def test_files_get_the_usual_permissions(tmp_path):
    target = tmp_path / "m.bin"
    old = os.umask(0o022)
    try:
        atomic_write_text(target, "x")
    finally:
        os.umask(old)
    assert stat.S_IMODE(target.stat().st_mode) == 0o644


@pytest.mark.parametrize("case", ["missing", "is-a-folder", "read-only"])
def test_unwritable_targets_name_the_users_path(tmp_path, case, monkeypatch):
    if case == "missing":
        target = tmp_path / "nowhere" / "m.dnet"
        match = r"m\.dnet: the folder .*nowhere does not exist"
    elif case == "is-a-folder":
        target = tmp_path
        match = "it is a directory"
    else:  # a read-only folder (root may write anyway: refuse it as the OS would)
        target = tmp_path / "m.dnet"
        real_open = os.open

        def read_only(path, flags, *args):
            if flags & os.O_CREAT:
                raise PermissionError(errno.EACCES, "Permission denied", path)
            return real_open(path, flags, *args)

        monkeypatch.setattr(os, "open", read_only)
        match = r"cannot write .*m\.dnet: Permission denied"
    with pytest.raises(OSError, match=match):
        check_writable(target)
    with pytest.raises(OSError, match=match.split(":")[0]):
        atomic_write_text(target, "x")


def test_a_folder_that_is_a_file_is_refused(tmp_path):
    (tmp_path / "report").write_text("a file")
    with pytest.raises(NotADirectoryError, match="report: it exists and is not a"):
        check_writable(tmp_path / "report", folder=True)
    check_writable(tmp_path / "new" / "report", folder=True)  # created
    assert (tmp_path / "new" / "report").is_dir()
    assert not list((tmp_path / "new" / "report").iterdir())


def test_readers_never_see_a_partial_file(tmp_path):
    target = tmp_path / "data.bin"
    versions = [bytes([i]) * 200_000 for i in range(8)]
    atomic_write(target, lambda f: f.write(versions[0]))
    seen, stop = set(), threading.Event()

    def read():
        while not stop.is_set():
            seen.add(target.read_bytes())

    reader = threading.Thread(target=read)
    reader.start()
    for data in versions * 5:
        atomic_write(target, lambda f, data=data: f.write(data))
    stop.set()
    reader.join()
    assert seen <= set(versions)
