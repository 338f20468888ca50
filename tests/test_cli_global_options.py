"""Global options anywhere (issue 15 item 1): --db --config --as-of -q --wait --dealer mean the
same before or after the command, for every command; Click's usage errors are one line."""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

import pytest
from builders import assert_error, commands, invoke, order, store, vehicle
from typer.testing import CliRunner

from crmtool.cli import app

app_module = sys.modules["crmtool.cli.app"]

runner = CliRunner()


COMMANDS = commands()
GLOBALS = [
    "--db",
    "x.duckdb",
    "--config",
    "c.toml",
    "--as-of",
    "2021-12-31",
    "-q",
    "--wait",
    "5",
    "--dealer",
    "D002",
]
EXPECTED = app_module.State(
    db="x.duckdb",
    config_path="c.toml",
    as_of=date(2021, 12, 31),
    quiet=True,
    wait=5.0,
    dealer="D002",
)


@pytest.fixture
def states(monkeypatch: pytest.MonkeyPatch) -> list[app_module.State]:
    """The State each invocation builds from its global options."""
    seen: list[app_module.State] = []

    class Recording(app_module.State):
        def __init__(self, **kwargs: object) -> None:
            super().__init__(**kwargs)
            seen.append(self)

    monkeypatch.setattr(app_module, "State", Recording)
    return seen


@pytest.mark.parametrize("place", ["before", "after", "end"])
@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_global_options_anywhere(states, command: tuple[str, ...], place: str) -> None:
    args = {
        "before": [*GLOBALS, *command, "--help"],
        "after": [*command, *GLOBALS, "--help"],
        "end": [*command, "--help", *GLOBALS],
    }[place]
    r = runner.invoke(app, args)
    assert r.exit_code == 0, r.output
    assert r.stdout.startswith(f"Usage: crmtool {' '.join(command)} ")
    assert [vars(s) for s in states] == [vars(EXPECTED)]


def test_equals_form_and_inside_a_group(states) -> None:
    r = runner.invoke(
        app, ["care", "--as-of=2021-12-31", "callbacks", "--db=x.duckdb", "--quiet", "--help"]
    )
    assert r.exit_code == 0, r.output
    assert (states[0].as_of, states[0].db, states[0].quiet) == (
        date(2021, 12, 31),
        "x.duckdb",
        True,
    )


def test_option_values_and_arguments_are_left_alone(states) -> None:
    """A value that looks like a global option belongs to the option before it; after `--`
    nothing is moved."""
    r = runner.invoke(app, ["segment", "--where", "-q", "--help"])
    assert r.exit_code == 0 and states[0].quiet is False
    states.clear()
    r = runner.invoke(app, ["find", "--help", "--", "-q"])
    assert r.exit_code == 0 and states[0].quiet is False


def _db(tmp_path: Path) -> Path:
    """Two vehicles ours at 2021-12-31: V1 (visit 2021-11-01), V2 (visit 2021-12-01)."""
    return store(
        tmp_path / "crm.duckdb",
        vehicles=[vehicle("V1", "迈腾", "2020-01-01"), vehicle("V2", "朗逸", "2020-01-01")],
        repair_orders=[order("R1", "V1", "2021-11-01", 800), order("R2", "V2", "2021-12-01", 500)],
    )


def test_same_answer_before_and_after(tmp_path: Path) -> None:
    path = str(_db(tmp_path))
    before = runner.invoke(
        app,
        [
            "--db",
            path,
            "--as-of",
            "2021-12-31",
            "segment",
            "--format",
            "csv",
            "--columns",
            "vin,days_since",
        ],
    )
    after = runner.invoke(
        app,
        [
            "segment",
            "--format",
            "csv",
            "--columns",
            "vin,days_since",
            "--as-of",
            "2021-12-31",
            "--db",
            path,
        ],
    )
    assert before.exit_code == after.exit_code == 0, after.output
    # days since the last visit at 2021-12-31: V1 (11-01) 30 + 30 = 60, V2 (12-01) 30
    assert after.stdout == before.stdout == "vin,days_since\nV1,60\nV2,30\n"


def test_quiet_after_load(tmp_path: Path) -> None:
    """The README's cron line: `crmtool load exports/ -q` (was: exit 2, No such option: -q)."""
    exports = tmp_path / "exports"
    exports.mkdir()
    (exports / "cu.csv").write_text("客户编号,手机\nC1,13800138000\n", encoding="utf-8")
    r = runner.invoke(app, ["--db", str(tmp_path / "crm.duckdb"), "load", str(exports), "-q"])
    assert (r.exit_code, r.stdout, r.stderr) == (0, "", "")


@pytest.mark.parametrize(
    ("args", "line"),
    [
        (
            ["segment", "--no-such-flag"],
            "No such option: --no-such-flag (try 'crmtool segment --help')",
        ),
        (["bogus"], "No such command 'bogus' (try 'crmtool --help')"),
        (
            ["care", "callbacks", "--date"],
            "Option '--date' requires an argument (try 'crmtool care callbacks --help')",
        ),
        (["report"], "Missing option '--out' / '-o' (try 'crmtool report --help')"),
    ],
)
def test_usage_error_is_one_line_with_a_hint(args: list[str], line: str) -> None:
    assert_error(runner.invoke(app, args), 2, line)


@pytest.mark.parametrize(
    ("args", "line"),
    [
        (["due", "--month", "2022-13"], "--month must be a month like 2021-11, got '2022-13'"),
        (
            ["campaign", "loyal", "--half", "2021H3"],
            "--half must be a half year like 2021H2, got '2021H3'",
        ),
        (
            ["campaign", "loyal", "--year", "0000"],
            "--year must be a year (2021), month (2021-10), quarter (2021Q3) or half (2021H2), "
            "got '0000'",
        ),
    ],
)
def test_errors_name_the_option_typed(tmp_path: Path, args: list[str], line: str) -> None:
    assert_error(invoke(*args, db=_db(tmp_path)), 2, line)
