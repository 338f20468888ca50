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
