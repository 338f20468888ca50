"""A broken --where is refused before the list is computed (docs/rules.md §21): the forecast
of a group's fleet takes a while, and a typo in the condition must not cost it. The store's
facts are never installed: the one error line comes first and alone."""

from __future__ import annotations

from pathlib import Path

import pytest
from builders import assert_error, invoke

from crmtool import facts


@pytest.mark.parametrize("command", ["segment", "churn", "due", "forecast", "campaign winback"])
def test_a_broken_where_is_refused_before_the_list_is_computed(
    demo: Path, monkeypatch: pytest.MonkeyPatch, command: str
) -> None:
    def computed(*args: object, **kwargs: object) -> None:
        raise AssertionError("the list was computed")

    monkeypatch.setattr(facts, "install", computed)
    got = invoke(
        *command.split(),
        "--where",
        "value_12m > 1000 AND",
        db=demo / "crmtool-demo.duckdb",
        config=demo / "crmtool-demo.toml",
    )
    assert_error(got, 2, "--where: invalid condition near column 20: something is missing")


def test_an_unknown_column_with_a_newline_is_named_on_one_line(demo: Path) -> None:
    """The name is the user's text: a control character in it is shown escaped
    (crmtool.errors.one_line), so the error stays one line (and a terminal escape is inert)."""
    got = invoke(
        "segment",
        "--where",
        '"a\nb\x1b[2J" = 1',
        db=demo / "crmtool-demo.duckdb",
        config=demo / "crmtool-demo.toml",
        as_of="2021-12-31",
    )
    assert got.exit_code == 2
    last = got.stderr.splitlines()[-1]  # after the list's own notes (suppressed rows)
    assert last.startswith("crmtool: error: --where: unknown column 'a\\nb\\x1b[2J'; columns")
    assert last.endswith(", status, days_since")  # the whole error on that one line
