"""Writing the files users ask for: every ``-o``, ``--plot`` and export file goes through here.

This module owns how an output path is checked before any work starts
(:func:`check_output`) and how bytes reach it (:func:`open_output`, :func:`write_output`),
so that every command treats paths the same way:

- **A regular file, or a path that does not exist yet**, is written to a temporary file
  beside it and renamed over it: a reader never sees half a file, and a failed write (a
  full disk, Ctrl-C) leaves the old file as it was and no temporary file behind. A file
  that is replaced keeps its permission bits.
- **Anything else that already exists** (a device such as ``/dev/null``, ``/dev/full`` or
  ``/dev/stdout``, a FIFO, a socket) is opened and written in place, as a shell's ``>``
  does. Renaming a regular file over ``/dev/full`` (which root can do) would replace the
  device node for every program on the machine.
- **A symlink is followed**: the file it points to is written (its temporary file sits
  beside the target), and the link stays a link.

Every failure is one :class:`~lineage.errors.InputError` line, ``cannot write PATH:
reason`` (``no space left on device``, ``permission denied``, ...), naming the path as the
user gave it. This module must not choose formats or print; callers render, it writes.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import stat
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from .errors import InputError


def os_error_reason(exc: OSError) -> str:
    """The reason in an OSError, as a message's tail (polars puts the errno in the text).

    >>> os_error_reason(OSError(28, "No space left on device"))
    'no space left on device'
    >>> os_error_reason(OSError("No space left on device (os error 28)"))
    'no space left on device'
    """
    number = exc.errno
    if number is None:
        found = re.search(r"os error (\d+)", str(exc))
        number = int(found.group(1)) if found else None
    text = os.strerror(number) if number is not None else (exc.strerror or str(exc))
    return text[:1].lower() + text[1:]


def disk_full(exc: BaseException) -> bool:
    """Whether ``exc`` says the disk is full: an OSError, or polars' text of one.

    >>> disk_full(OSError(28, "No space left on device"))
    True
    >>> disk_full(ValueError("parquet: File out of specification: No space left on device"))
    True
    """
    if isinstance(exc, OSError) and exc.errno == errno.ENOSPC:
        return True
    text = str(exc)
    return "No space left on device" in text or "os error 28" in text


def _stat(path: Path) -> os.stat_result | None:
    try:
        return path.stat()  # follows symlinks
    except (FileNotFoundError, NotADirectoryError):
        return None


def _target(path: Path) -> tuple[Path, bool]:
    """(the path bytes go to, whether it is written in place rather than replaced)."""
    st = _stat(path)
    if st is not None and not stat.S_ISREG(st.st_mode):
        return path, True  # a device, FIFO or socket (directories are refused earlier)
    if path.is_symlink():
        # Follow the link (and any chain of links, even to a file not created yet): the
        # target is replaced, the link is kept.
        return Path(os.path.realpath(path)), False
    return path, False


def check_output(path: str | os.PathLike[str]) -> Path:
    """The output path, or :class:`InputError` if it cannot be written (checked up front).

    Nothing is created or opened (opening a FIFO would wait for its reader).

    Examples
    --------
    >>> check_output("/nowhere/t.html")
    Traceback (most recent call last):
    ...
    lineage.errors.InputError: cannot write /nowhere/t.html: directory /nowhere does not exist
    >>> check_output("/dev/null")
    PosixPath('/dev/null')
    """
    out = Path(path)
    try:
        return _check(out)
    except OSError as exc:  # a symlink loop, a path too long, ...
        raise InputError(f"cannot write {out}: {os_error_reason(exc)}") from exc


def _check(out: Path) -> Path:
    st = _stat(out)
    if st is not None and stat.S_ISDIR(st.st_mode):
        raise InputError(f"cannot write {out}: it is a directory")
    target, in_place = _target(out)
    if in_place:
        if not os.access(target, os.W_OK):
            raise InputError(f"cannot write {out}: permission denied")
        return out
    parent = target.parent if str(target.parent) else Path(".")
    if not parent.is_dir():
        raise InputError(f"cannot write {out}: directory {parent} does not exist")
    writable = os.access(parent, os.W_OK | os.X_OK)
    if not writable or (st is not None and not os.access(target, os.W_OK)):
        raise InputError(f"cannot write {out}: permission denied")
    return out


@contextlib.contextmanager
def open_output(path: str | os.PathLike[str]) -> Iterator[BinaryIO]:
    """A binary file to write ``path``'s new content into; it lands there when the block ends.

    Regular files are replaced atomically when the block ends without an exception;
    devices and FIFOs are written as the block goes. An ``OSError`` inside the block, or
    while writing, becomes ``InputError("cannot write PATH: reason")``.

    Examples
    --------
    >>> import tempfile
    >>> out = Path(tempfile.mkdtemp()) / "t.csv"
    >>> with open_output(out) as fh:
    ...     _ = fh.write(b"a,b\\n")
    >>> out.read_bytes()
    b'a,b\\n'
    """
    out = Path(path)
    try:
        target, in_place = _target(out)
        if in_place:
            # No O_CREAT, no O_TRUNC: write what is there, never make a file in its place.
            with os.fdopen(os.open(target, os.O_WRONLY | os.O_NOCTTY), "wb") as fh:
                yield fh
            return
        tmp = target.with_name(f".{target.name}.{uuid.uuid4().hex}.tmp")
        old = _stat(target)
        try:
            with open(tmp, "xb") as fh:  # "x": a fresh file, with the user's umask
                yield fh
            if old is not None:
                os.chmod(tmp, stat.S_IMODE(old.st_mode))
            os.replace(tmp, target)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
    except OSError as exc:
        raise InputError(f"cannot write {out}: {os_error_reason(exc)}") from exc


def write_output(path: str | os.PathLike[str], data: bytes | str) -> int:
    """Write ``data`` (text is UTF-8) to ``path`` as :func:`open_output` does; return bytes.

    Examples
    --------
    >>> write_output("/dev/null", "nothing to see")
    14
    """
    raw = data.encode("utf-8") if isinstance(data, str) else data
    with open_output(path) as fh:
        fh.write(raw)
    return len(raw)
