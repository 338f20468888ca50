"""Writing the database while others read it (docs/rules.md 'Loading while others read',
issue 18): a load writes a copy of the database file and swaps it in atomically at the end.

`find`, the lists and the reports open the database read-only; DuckDB lets any number of
read-only processes share a file, but none while one process writes it. So a load:

1. takes the folder's load lock (flock on the database's folder: one load at a time there);
2. opens the database read-only (a shared lock: readers still open it, writers cannot);
3. copies the file beside it (`.NAME.rebuild-PID`, cleared by the next writer if killed);
4. loads into the copy, closes it (DuckDB checkpoints and syncs it);
5. os.replace()s the copy over the database and syncs the folder.

Readers that opened the database before the swap go on reading the file as it was (its
inode stays until they close it); readers that open it after see the load. A failed or
interrupted load only deletes its copy. A database with a write-ahead log (its last writer
was killed) is written in place, as before (the log belongs to that file).
"""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from .. import db
from ..errors import CrmError, DatabaseLocked


@contextmanager
def writable_copy(target: Path, *, wait: float = 0.0) -> Iterator[Path]:
    """The path a load writes: a copy of `target` that is swapped in when the block ends
    without an error (the caller closes its connection to the copy first), else removed.
    `target` itself when it has a write-ahead log."""
    target = Path(target)
    if str(target) == ":memory:":
        yield target
        return
    if not target.parent.is_dir():
        raise CrmError(f"folder of database {target} does not exist")
    if target.is_symlink():  # the copy goes beside the file the link names
        target = target.resolve()
    with _folder_lock(target, wait):
        if not target.exists():
            yield from _fresh(target)
            return
        # one descriptor of the file for the whole swap: closing any descriptor of a file
        # drops this process's POSIX locks on it, the read-only guard's included
        fd = os.open(target, os.O_RDONLY)
        try:
            guard = db.hold(target, wait=wait)
            try:
                if Path(str(target) + ".wal").exists():
                    guard.close()
                    yield target
                    return
                copy = _copy_path(target)
                try:
                    _copy(fd, copy)
                    yield copy
                    _swap(copy, target)
                except BaseException:
                    _remove(copy)
                    raise
            finally:
                guard.close()
        finally:
            os.close(fd)


def _fresh(target: Path) -> Iterator[Path]:
    """A new database: written under the copy's name, renamed when complete."""
    copy = _copy_path(target)
    _remove(copy)
    try:
        yield copy
        _swap(copy, target)
    except BaseException:
        _remove(copy)
        raise


def _copy_path(target: Path) -> Path:
    return target.with_name(db.REBUILD.format(name=target.name) + str(os.getpid()))


def _copy(fd: int, dest: Path) -> None:
    """The bytes of open file `fd` into a new file `dest` (in the kernel)."""
    size = os.fstat(fd).st_size
    out = os.open(dest, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(out, os.fstat(fd).st_mode & 0o777)
        done = 0
        while done < size:
            n = os.copy_file_range(fd, out, size - done, done, done)
            if n == 0:
                break
            done += n
    finally:
        os.close(out)


def _swap(copy: Path, target: Path) -> None:
    wal = Path(str(copy) + ".wal")
    if wal.exists():  # not checkpointed: keep the database as it was
        raise CrmError(f"the load of {target} left a .wal; the database is unchanged")
    db.fsync(copy)
    os.replace(copy, target)
    db.fsync(target.parent)


def _remove(copy: Path) -> None:
    for p in (copy, Path(str(copy) + ".wal")):
        with suppress(OSError):
            p.unlink()


@contextmanager
def _folder_lock(target: Path, wait: float) -> Iterator[None]:
    """flock on the database's folder: one load at a time writes a copy there (two would
    each swap in their own). flock and DuckDB's POSIX locks do not interact."""
    folder = target.parent if str(target.parent) else Path(".")
    fd = os.open(folder, os.O_RDONLY)
    try:
        deadline = time.monotonic() + max(wait, 0.0)
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise DatabaseLocked(
                        f"database {target} is in use by another crmtool process; "
                        "try again later or pass --wait SECONDS"
                    ) from None
                time.sleep(0.2)
        yield
    finally:
        os.close(fd)  # releases the flock
