"""Issue 14 item 1: `--where` parsed into a tree, checked against the allow-list (docs/rules.md §21) and
rendered for Polars; the attacks tried against the old filter are kept here."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from crmtool.errors import UsageError
from crmtool.output.where import MAX_BYTES, apply, parse, render_sql

FRAME = pl.DataFrame(
    {
        "vin": ["V1", "V2", "V3", "V4"],
        "name": ["张三", "李四", "王五", "Li Wei"],
        "tier": ["A", "B", None, "A"],
        "days_since": [200, 10, None, 181],
        "ticket": [1.5, -3.0, 7.0, 2.25],
        "due_date": [date(2021, 1, 1), date(2022, 5, 1), None, date(2021, 12, 31)],
        "overdue": [True, False, None, False],
    }
)


def vins(where: str) -> list[str]:
    return apply(FRAME, where)["vin"].to_list()


@pytest.mark.parametrize(
    "where, expected",
    [
        ("tier = 'A' AND days_since > 180", ["V1", "V4"]),  # 200 > 180, 181 > 180
        ("tier = 'A' OR ticket < 0", ["V1", "V2", "V4"]),
        ("tier <> 'A'", ["V2"]),  # NULL tier is not "not A"
        ("tier != 'A'", ["V2"]),
        ("NOT (tier = 'A')", ["V2"]),
        ("days_since >= 181 AND days_since <= 200", ["V1", "V4"]),
        ("days_since BETWEEN 10 AND 181", ["V2", "V4"]),
        ("days_since NOT BETWEEN 10 AND 181", ["V1"]),
        ("tier IN ('B', 'C')", ["V2"]),
        ("tier NOT IN ('A')", ["V2"]),
        ("tier IS NULL", ["V3"]),
        ("tier IS NOT NULL", ["V1", "V2", "V4"]),
        ("name LIKE '张%'", ["V1"]),
        ("name NOT LIKE '_四'", ["V1", "V3", "V4"]),
        ("name ILIKE 'li%'", ["V4"]),
        ("name LIKE 'Li.Wei'", []),  # '.' is a plain character in LIKE, not a regex
        ("ticket * 2 + 1 > 4", ["V3", "V4"]),  # 1.5*2+1 = 4 is not > 4; 7*2+1 = 15; 2.25*2+1 = 5.5
        ("ticket / 2 >= 1.125", ["V3", "V4"]),
        ("ticket - 1 < 0", ["V2"]),
        ("-ticket > 0", ["V2"]),
        ("abs(ticket) = 3", ["V2"]),
        (
            "round(ticket, 1) = 2.3 OR round(ticket) = 2",
            ["V1", "V4"],
        ),  # 2.25→2.3 (half up-ish); 1.5→2
        ("lower(name) = 'li wei'", ["V4"]),
        ("upper(vin) = 'V2'", ["V2"]),
        ("length(name) = 2", ["V1", "V2", "V3"]),
        ("substr(vin, 2, 1) = '3'", ["V3"]),
        ("substr(name, 2) = 'i Wei'", ["V4"]),  # SQL counts from 1: 'Li Wei' from its 2nd char
        ("substr(name, 4) = 'Wei'", ["V4"]),
        ("coalesce(tier, 'none') = 'none'", ["V3"]),
        ("year(due_date) = 2021", ["V1", "V4"]),
        ("month(due_date) = 12 AND day(due_date) = 31", ["V4"]),
        ("due_date > '2021-06-30'", ["V2", "V4"]),
        ("due_date BETWEEN '2021-01-01' AND '2021-12-31'", ["V1", "V4"]),
        ("CAST(due_date AS DATE) = CAST('2022-05-01' AS DATE)", ["V2"]),
        ("CAST(days_since AS VARCHAR) = '10'", ["V2"]),
        ("days_since::DOUBLE > 190.5", ["V1"]),
        ("overdue", ["V1"]),
        ("overdue = false", ["V2", "V4"]),
        ("\"tier\" = 'B'", ["V2"]),
        ("TIER = 'B'", ["V2"]),  # unquoted names are case-insensitive, as in SQL
        ("name = 'select * from customers'", []),  # keywords inside literals are data
        ("name = 'x'' OR ''1''=''1'", []),
        (" AND ".join(["tier = 'A'"] * 200), ["V1", "V4"]),  # a long AND chain is one level
    ],
)
def test_allowed_constructs(where: str, expected: list[str]) -> None:
    assert vins(where) == expected


# Each attack tried against the old regex filter, and what the one-line refusal names.
ATTACKS = [
    (
        "tier = $$'$$ OR tier IN (SELECT 'A' FROM read_csv('/etc/passwd') WHERE column0 LIKE "
        "'r%') OR tier = $$'$$",
        "dollar-quoted string ($$…$$) is not allowed",
    ),
    (
        "tier = $t$'$t$ OR tier IN (SELECT 'A' FROM read_csv('/etc/passwd')) OR tier = $t$'$t$",
        "dollar-quoted string ($$…$$) is not allowed",
    ),
    ("read_parquet('/nonexistent') IS NULL", "function read_parquet is not allowed"),
    ("read_csv('/etc/passwd') IS NOT NULL", "function read_csv is not allowed"),
    ("glob('/etc/*') IS NOT NULL", "function glob is not allowed"),
    ("read_text('/etc/passwd') = ''", "function read_text is not allowed"),
    ("LPAD(vin, 2000000000, 'x') = ''", "function lpad is not allowed"),
    ("repeat(vin, 2000000000) = ''", "function repeat is not allowed"),
    ("vin || vin || vin = ''", "operator || is not allowed"),
    ("concat(vin, vin) = ''", "function concat is not allowed"),
    ("tier IN (SELECT tier FROM customers)", "a subquery (SELECT) is not allowed"),
    ("vin = (SELECT max(vin) FROM vehicles)", "a subquery (SELECT) is not allowed"),
    ("EXISTS (SELECT 1)", "a subquery (SELECT) is not allowed"),
    ("1=1; ATTACH '/tmp/x.db'", "';' (a second statement) is not allowed"),
    ("1=1;", "';' (a second statement) is not allowed"),
    ("ATTACH '/tmp/x.db' AS x", "statement ATTACH is not allowed"),
    ("SET threads = 1", "statement SET is not allowed"),
    ("PRAGMA database_list", "statement PRAGMA is not allowed"),
    ("current_setting('threads') = 1", "function current_setting is not allowed"),
    ("getenv('HOME') = ''", "function getenv is not allowed"),
    ("vin = 'V1' -- AND tier = 'Z'", "a comment (-- or /* */) is not allowed"),
    ("vin = 'V1' /* x */", "a comment (-- or /* */) is not allowed"),
    ("vin = ?", "parameter (? or $n) is not allowed"),
    ("vin = $1", "parameter (? or $n) is not allowed"),
    ("list.vin = 'V1'", "qualified column name list.vin is not allowed"),
    ("vin = E'\\x27'", "escape string (E'…') is not allowed"),
    ("TRY_CAST(vin AS INT) = 1", "TRY_CAST is not allowed"),
    ("CAST(vin AS BLOB) = 'x'", "CAST to BLOB (date, number or text only) is not allowed"),
    ("days_since % 2 = 0", "operator % is not allowed"),
    ("vin = 'a' COLLATE nocase", "COLLATE is not allowed"),
    ("vin[1] = 'V'", "subscript [ ] is not allowed"),
    ("tier IS TRUE", "IS TRUE (only IS [NOT] NULL) is not allowed"),
    ("CASE WHEN tier = 'A' THEN true END", "CASE is not allowed"),
]


@pytest.mark.parametrize("where, message", ATTACKS)
def test_attacks_are_refused_naming_the_construct(where: str, message: str) -> None:
    with pytest.raises(UsageError) as err:
        apply(FRAME, where)
    assert str(err.value) == f"--where: {message}"


@pytest.mark.parametrize(
    "where, message",
    [
        (
            "tier = ＇A＇",
            "--where: unknown column '＇A＇'; columns are: vin, name, tier, "
            "days_since, ticket, due_date, overdue",
        ),  # full-width quotes are no quotes
        (
            "tier = ’A’",
            "--where: unknown column '’A’'; columns are: vin, name, tier, "
            "days_since, ticket, due_date, overdue",
        ),
        (
            "secret > 1",
            "--where: unknown column 'secret'; columns are: vin, name, tier, "
            "days_since, ticket, due_date, overdue",
        ),
        ("vin = 'V1", "--where: unterminated ' (opened at column 7)"),
        ("vin = $$V1", "--where: unterminated $$ (opened at column 7)"),
        ("tier >", "--where: invalid condition near column 6: something is missing"),
        (
            "tier",
            "--where: the condition must be true or false (e.g. days_since > 180), not a text",
        ),
        ("tier AND true", "--where: AND needs conditions on both sides, got 'tier' (text)"),
        ("due_date > '2021-13-45'", "--where: '2021-13-45' is not a date (YYYY-MM-DD)"),
        ("name LIKE vin", "--where: a LIKE pattern must be a quoted text, e.g. name LIKE '张%'"),
        (
            "substr(vin, days_since) = 'x'",
            "--where: substr's start must be a whole number written in the condition",
        ),
        ("(" * 101 + "true" + ")" * 101, "--where: the condition is nested more than 100 levels"),
        ("NOT " * 101 + "true", "--where: the condition is nested more than 100 levels"),
        ("- " * 120 + "ticket > 0", "--where: the condition is nested more than 100 levels"),
        ("tier = '" + "x" * MAX_BYTES + "'", "--where: the condition is longer than 4096 bytes"),
        ("   ", "--where: the condition is empty"),
    ],
)
def test_bad_conditions_are_one_line_usage_errors(where: str, message: str) -> None:
    with pytest.raises(UsageError) as err:
        apply(FRAME, where)
    assert str(err.value) == message
    assert err.value.exit_code == 2


def test_nesting_up_to_the_limit_is_fine() -> None:
    assert vins("(" * 99 + "tier = 'B'" + ")" * 99) == ["V2"]
    assert vins("NOT " * 98 + "tier = 'B'") == ["V2"]  # an even number of NOTs


def test_render_sql_requotes_literals_for_another_engine() -> None:
    cond = parse("name = 'O''Brien' AND \"days_since\" > 1")
    assert render_sql(cond) == "name = 'O''Brien' AND \"days_since\" > 1"
    assert cond.columns == ["name", "days_since"]


@settings(max_examples=300, deadline=None)
@given(
    st.text(
        alphabet=st.sampled_from(
            list("tiervn_ad'\"$();-*/+<>=!|%.,0129 \t\n'＇（）ANDORSELECTFROMread_csv")
        ),
        max_size=60,
    )
)
@example(text='"\n"')  # a quoted column name that is a newline: its error was two lines
def test_any_text_is_a_frame_or_a_usage_error(text: str) -> None:
    try:
        out = apply(FRAME, text)
    except UsageError as err:
        assert "\n" not in str(err) and str(err).startswith("--where: ")
    else:
        assert set(out.columns) == set(FRAME.columns) and out.height <= FRAME.height


def test_cli_refuses_the_issue_attacks_in_one_line(tmp_path) -> None:
    """The file-reading oracle and the out-of-memory abort of issue 14, through `segment`."""
    from typer.testing import CliRunner

    from crmtool import db
    from crmtool.cli import app

    secret = tmp_path / "secret.csv"
    secret.write_text("password\nhunter2\n")
    path = tmp_path / "crm.duckdb"
    con = db.connect(path)
    con.execute(
        "INSERT INTO customers (customer_id, name, phone) VALUES ('C1', '张三', '13800138000')"
    )
    con.execute(
        "INSERT INTO vehicles (vin, customer_id, series, sale_date, sale_channel) "
        "VALUES ('V1', 'C1', '迈腾', DATE '2019-07-01', 'own')"
    )
    con.close()
    runner = CliRunner()
    for where, message in [
        (
            f"tier = $$'$$ OR tier IN (SELECT 'A' FROM read_csv('{secret}') WHERE password "
            "LIKE 'h%') OR tier = $$'$$",
            "dollar-quoted string ($$…$$) is not allowed",
        ),
        ("LPAD(vin, 2000000000, 'x') = ''", "function lpad is not allowed"),
        (f"read_parquet('{tmp_path}/nonexistent') IS NULL", "function read_parquet is not allowed"),
    ]:
        r = runner.invoke(
            app,
            [
                "--db",
                str(path),
                "--as-of",
                "2022-06-30",
                "segment",
                "--format",
                "csv",
                "--where",
                where,
            ],
        )
        assert (r.exit_code, r.stdout) == (2, "")
        assert r.stderr == f"crmtool: error: --where: {message}\n"
    r = runner.invoke(
        app,
        [
            "--db",
            str(path),
            "--as-of",
            "2022-06-30",
            "segment",
            "--format",
            "csv",
            "--columns",
            "vin",
            "--where",
            "vin = 'V1' AND tier IS NOT NULL",
        ],
    )
    assert (r.exit_code, r.stdout.splitlines()) == (0, ["vin", "V1"])
