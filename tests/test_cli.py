"""The command line as a whole: --version, --help of every command, exit codes."""

from __future__ import annotations

import subprocess
import sys

import pytest
from builders import commands
from typer.testing import CliRunner

from crmtool import __version__
from crmtool.cli import app
from crmtool.config import load_config
from crmtool.db import connect
from crmtool.load.ingest import load
from crmtool.sample import bundled_sample_dir

runner = CliRunner()


COMMANDS = commands()


def test_every_command_the_brief_names_exists() -> None:
    names = {" ".join(c) for c in COMMANDS}
    for cmd in (
        "load",
        "rejects",
        "validate",
        "sample",
        "demo",
        "config",
        "segment",
        "tiers",
        "summary",
        "churn",
        "due",
        "campaign",
        "leads",
        "report",
        "find",
        "forget",
        "care callbacks",
        "care birthdays",
        "care greetings",
        "care complaints",
        "contacts export",
    ):
        assert cmd in names, cmd


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_help_of_every_command(command: tuple[str, ...]) -> None:
    result = runner.invoke(app, [*command, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.stdout
    assert "Example" in result.stdout, f"{' '.join(command)} --help shows no example"


def test_version() -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0 and result.stdout.strip() == f"crmtool {__version__}"


def test_unknown_option_is_a_usage_error() -> None:
    result = runner.invoke(app, ["segment", "--no-such-flag"])
    assert result.exit_code == 2


def test_broken_pipe_is_silent(tmp_path) -> None:  # noqa: ANN001
    """`crmtool segment | head -1`: the reader goes away long before the ~1,800 rows (far more
    than a pipe buffer) are written; no traceback, no error line, exit 0."""
    sample = bundled_sample_dir()
    db = tmp_path / "crm.duckdb"
    con = connect(db)
    load(con, [sample], load_config(sample / "crmtool.toml"))
    con.close()
    proc = subprocess.run(
        f"{sys.executable} -m crmtool --db {db} --as-of 2021-12-31 -q segment --format csv "
        "| head -1; exit ${PIPESTATUS[0]}",
        shell=True,
        executable="/bin/bash",
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
    )
    assert proc.stdout.startswith("vin,plate,customer_id")
    assert proc.stderr == ""
    assert proc.returncode == 0
