"""Every file digitnet writes goes through here: atomic, named in errors.

A file is written to a temporary file in its target folder, flushed to disk
and renamed over the target, so a reader sees the old file or the new one and
a failure (full disk, Ctrl-C) leaves the old file intact. Files get the usual
permissions (0666 less the umask), not a temporary file's 0600.
"""

import builtins
import contextlib
import errno
import os
import secrets
from pathlib import Path

__all__ = ["atomic_write", "check_writable"]


#: OSError subclasses the OS raises; any other comes from the writer itself.
_ERRNO_CLASSES = tuple(
    cls
    for cls in vars(builtins).values()
    if isinstance(cls, type) and issubclass(cls, OSError)
)


def _tmp_name(path):
    return path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")


def _named(exc, path, action):
    """An ``OSError`` like ``exc`` whose message names the user's ``path``."""
    reason = exc.strerror or str(exc)
    new = OSError(exc.errno, f"cannot {action} {os.fspath(path)}: {reason}")
    new.filename = os.fspath(path)
    return new


def atomic_write(path, write):
    """Write ``path`` atomically; ``write(f)`` fills the binary file ``f``.

    Parameters
    ----------
    path : str or os.PathLike
        The file to create or replace.
    write : callable
        Called with an open binary file object.

    Raises
    ------
    OSError
        Naming ``path`` (not the temporary file) when the folder is missing
        or read-only, the disk is full, or anything else fails; ``path`` is
        then unchanged.
    """
    path = Path(path)
    if path.is_dir():
        raise IsADirectoryError(
            errno.EISDIR, f"cannot write {os.fspath(path)}: it is a directory"
        )
    tmp = _tmp_name(path)
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    except OSError as exc:
        raise _named(exc, path, "write") from exc
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        if type(exc) not in (OSError, *_ERRNO_CLASSES):
            raise  # the writer's own error type, message and all
        raise _named(exc, path, "write") from exc
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)


def atomic_write_text(path, text):
    """:func:`atomic_write` of UTF-8 ``text``."""
    atomic_write(path, lambda f: f.write(text.encode("utf-8")))


def check_writable(path, *, folder=False):
    """Fail now, naming ``path``, if it could not be written later.

    For a file: its folder must exist and accept new files, and ``path`` must
    not be a folder. For a folder (``folder=True``): it must be a folder (or
    creatable) and accept new files. Creates and removes a probe file.
    """
    path = Path(path)
    if folder:
        if path.exists() and not path.is_dir():
            raise NotADirectoryError(
                errno.ENOTDIR,
                f"cannot write into {os.fspath(path)}: it exists and is not a folder",
            )
        try:
            path.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise _named(exc, path, "create the folder") from exc
        probe = path / ".digitnet-probe"
    else:
        if path.is_dir():
            raise IsADirectoryError(
                errno.EISDIR, f"cannot write {os.fspath(path)}: it is a directory"
            )
        if not path.parent.is_dir():
            raise FileNotFoundError(
                errno.ENOENT,
                f"cannot write {os.fspath(path)}: the folder "
                f"{os.fspath(path.parent)} does not exist",
            )
        probe = _tmp_name(path)
    try:
        fd = os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        os.close(fd)
    except FileExistsError:
        pass
    except OSError as exc:
        raise _named(exc, path, "write") from exc
    with contextlib.suppress(OSError):
        probe.unlink()
