"""A private work folder for temporary copies of exports (transcoded text, rewritten lines).

Copies of an export hold people's data, so they never go to $TMPDIR: they live in
``.crmtool-work/<pid>-<random>/`` beside the database (mode 0700), are removed on every exit
path the process controls, and a folder left by a killed process (its pid no longer runs) is
removed by the next crmtool that opens a work folder there.
"""

from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import CrmError

if TYPE_CHECKING:
    import duckdb

WORK_DIR = ".crmtool-work"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def clear_leftovers(base: Path) -> list[Path]:
    """Remove the work folders of processes that no longer run; returns what was removed."""
    removed: list[Path] = []
    root = base / WORK_DIR
    try:
        entries = list(root.iterdir())
    except OSError:
        return removed
    for entry in entries:
        pid = entry.name.split("-", 1)[0]
        if pid.isdigit() and int(pid) != os.getpid() and not _alive(int(pid)):
            shutil.rmtree(entry, ignore_errors=True)
            removed.append(entry)
    return removed


def make(base: Path) -> Path:
    """A fresh private folder under ``base/.crmtool-work`` (remove it with :func:`remove`);
    clears what killed processes left there first."""
    root = base / WORK_DIR
    try:
        root.mkdir(mode=0o700, exist_ok=True)
        os.chmod(root, 0o700)
        clear_leftovers(base)
        path = root / f"{os.getpid()}-{secrets.token_hex(4)}"
        path.mkdir(mode=0o700)
    except OSError as e:
        raise CrmError(f"cannot create the private work folder {root}: {e.strerror or e}") from None
    return path


def remove(path: Path) -> None:
    """Remove a work folder, and its parent when no other process works there."""
    shutil.rmtree(path, ignore_errors=True)
    try:
        path.parent.rmdir()
    except OSError:
        pass


@contextmanager
def workdir(base: Path) -> Iterator[Path]:
    """A fresh private folder under ``base/.crmtool-work``, removed on exit."""
    path = make(base)
    try:
        yield path
    finally:
        remove(path)


def database_folder(con: duckdb.DuckDBPyConnection) -> Path:
    """The folder of the connection's database file (the working directory for ':memory:')."""
    try:
        rows = con.execute(
            "SELECT path FROM duckdb_databases() WHERE database_name = current_database()"
        ).fetchall()
    except Exception:  # noqa: BLE001 - any failure: fall back to the working directory
        rows = []
    path = rows[0][0] if rows and rows[0][0] else None
    return Path(path).resolve().parent if path else Path.cwd()
