"""Writing an output file so that no one ever sees half of it and nothing private is left over.

* a regular file (or a new name) is written to a temp file in a private (0700) hidden folder
  ``.crmtool-tmp`` beside it and renamed over it in one step;
* a symlink is resolved and its target replaced the same way (the link stays a link);
* a device, FIFO or socket (``/dev/null``, ``/dev/stdout``, a named pipe) is written through,
  never replaced; ``-`` is stdout.

Temp files are removed on every exit path (error, Ctrl-C, SIGTERM: cleanup and the rename run
with those signals held back); a SIGKILL's leftovers — named with the pid — are cleared by the
next write into that folder.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import signal
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ..errors import CrmError

TMP_DIR = ".crmtool-tmp"
_HELD = {signal.SIGINT, signal.SIGTERM} | ({signal.SIGHUP} if hasattr(signal, "SIGHUP") else set())


@contextmanager
def held_signals() -> Iterator[None]:
    """Hold Ctrl-C / SIGTERM / SIGHUP back while a few lines finish (cleanup, a rename);
    they are handled right after."""
    if not hasattr(signal, "pthread_sigmask"):  # pragma: no cover - Windows
        yield
        return
    try:
        old = signal.pthread_sigmask(signal.SIG_BLOCK, _HELD)
    except (OSError, ValueError):  # not the main thread's business
        yield
        return
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OSError:
        return False
    return True


def clear_stale(tmp_dir: Path) -> None:
    """Remove temp files of processes that no longer run (a SIGKILL's leftovers)."""
    if not tmp_dir.is_dir():
        return
    for entry in tmp_dir.iterdir():
        m = re.match(r"^(\d+)-", entry.name)
        if m and not _pid_alive(int(m.group(1))):
            with contextlib.suppress(OSError):
                entry.unlink()


def private_dir(folder: Path) -> Path:
    """``folder/.crmtool-tmp``, created 0700 (and made 0700 if an older run left it open)."""
    tmp_dir = folder / TMP_DIR
    clear_stale(tmp_dir)
    try:
        tmp_dir.mkdir(mode=0o700, exist_ok=True)
    except OSError as e:
        raise CrmError(f"cannot write in {folder}: {e.strerror or e}") from None
    with contextlib.suppress(OSError):
        if stat.S_IMODE(tmp_dir.stat().st_mode) != 0o700:
            tmp_dir.chmod(0o700)
    return tmp_dir


def _rmdir_if_empty(path: Path) -> None:
    with contextlib.suppress(OSError):
        path.rmdir()


def _fsync_dir(folder: Path) -> None:
    """Make the rename durable (best effort; not every platform can open a folder)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def resolve(target: Path) -> tuple[Path, bool]:
    """(the file to write, whether it is written through): a symlink is followed; a device,
    FIFO or socket is written through; a folder is an error."""
    target = Path(target)
    real = Path(os.path.realpath(target)) if target.is_symlink() else target
    try:
        mode = os.stat(real).st_mode
    except FileNotFoundError:
        return real, False
    except OSError as e:
        raise CrmError(f"cannot write {target}: {e.strerror or e}") from None
    if stat.S_ISDIR(mode):
        raise CrmError(f"output is a folder, not a file: {target}")
    return real, not stat.S_ISREG(mode)


def is_stdout(target: Path | str | None) -> bool:
    return target is not None and str(target) == "-"


def _remove(path: Path) -> None:
    with contextlib.suppress(OSError):
        path.unlink()


@contextmanager
def atomic_path(target: Path) -> Iterator[Path]:
    """Yield a temp path to write; on success it becomes ``target`` (see the module doc).

    On any failure or interrupt the temp is removed and ``target`` stays as it was.
    """
    target = Path(target)
    if not target.parent.is_dir():
        raise CrmError(f"output folder does not exist: {target.parent}")
    real, through = resolve(target)
    folder = target.parent if through else real.parent
    if not folder.is_dir():
        raise CrmError(f"output folder does not exist: {folder}")
    tmp_dir: Path | None = None
    tmp: Path | None = None
    try:  # from before the folder exists: an interrupt at any point leaves nothing behind
        tmp_dir = private_dir(folder)
        tmp = tmp_dir / f"{os.getpid()}-{secrets.token_hex(4)}-{real.name}"
        yield tmp
        with held_signals():
            if through:
                _copy_through(tmp, real)
            else:
                _replace(tmp, real)
    finally:
        with held_signals():
            if tmp is not None:
                _remove(tmp)
            if tmp_dir is not None:
                _rmdir_if_empty(tmp_dir)


def _replace(tmp: Path, real: Path) -> None:
    with open(tmp, "rb+") as fh:
        os.fsync(fh.fileno())
    with contextlib.suppress(OSError):  # an existing file keeps its permissions
        tmp.chmod(stat.S_IMODE(os.stat(real).st_mode))
    os.replace(tmp, real)
    _fsync_dir(real.parent)


def _copy_through(tmp: Path, real: Path) -> None:
    with open(tmp, "rb") as src, open(real, "wb") as dst:
        while chunk := src.read(1 << 20):
            dst.write(chunk)


def write_output(target: Path, data: bytes) -> None:
    """``data`` through to a device or FIFO, else atomically into the (resolved) file."""
    target = Path(target)
    if not target.parent.is_dir():
        raise CrmError(f"output folder does not exist: {target.parent}")
    real, through = resolve(target)
    if through:
        with open(real, "wb") as fh:
            fh.write(data)
        return
    with atomic_path(target) as tmp:
        tmp.write_bytes(data)
