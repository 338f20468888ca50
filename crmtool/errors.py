"""Errors a user can see, and the exit codes they map to."""

from __future__ import annotations

import unicodedata
from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    FAILED = 1  # bad data or a failed operation
    USAGE = 2  # bad arguments (Click's convention)
    INTERRUPTED = 130


class CrmError(Exception):
    """An error with a one-line message for the user; never shown as a traceback."""

    exit_code: ExitCode = ExitCode.FAILED

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        line: int | None = None,
        column: str | None = None,
    ) -> None:
        where = ""
        if file:
            where = str(file)
            if line is not None:
                where += f":{line}"
            if column:
                where += f" (column {column})"
            where += ": "
        super().__init__(one_line(where + message))
        self.file = file


def one_line(text: str) -> str:
    """`text` with its control characters escaped (a newline in a quoted column name or a
    file name shows as \\n): an error stays one line on stderr."""
    return "".join(
        c.encode("unicode_escape").decode("ascii") if unicodedata.category(c) == "Cc" else c
        for c in text
    )


class MappingError(CrmError):
    """A file whose headers do not say what it holds (no table recognised, a required column
    missing): `crmtool load` points to `crmtool inspect FILE`, which shows why."""


class ConfigError(CrmError):
    """A bad value in crmtool.toml; the message names the key."""


class UsageError(CrmError):
    exit_code = ExitCode.USAGE


class DatabaseLocked(CrmError):
    """Another crmtool process holds the database."""
