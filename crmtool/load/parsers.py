"""Value parsers (docs/rules.md §1 "Values", §17 "Loading") as DuckDB SQL macros, so a load parses in one vectorised
SELECT; the Python wrappers run the same macros, so each rule lives in one place.

`install(con, config)` creates the temp macros crm_date, crm_amount, crm_mileage, crm_vin,
crm_vin_flag, crm_phone, crm_phone_flag, crm_plate, crm_bool, crm_year, crm_text,
crm_norm_code and crm_code_<kind> for every kind of schema.CODES. Parameters are untyped and
cast to VARCHAR inside, so typed Excel columns (DOUBLE serials, DATE) parse too. No macro
raises: bad input gives NULL.
"""

from __future__ import annotations

import json
import threading
from datetime import date
from typing import Any

import duckdb

from ..config import Config
from ..schema import CODE_FALLBACK, CODES, code_map
from ..sqltext import in_list, literal

# Full-width ASCII (U+FF01..U+FF5E) and the ideographic space, read as their ASCII forms.
_FW = "".join(chr(c) for c in range(0xFF01, 0xFF5F)) + "\u3000"
_HW = "".join(chr(c) for c in range(0x21, 0x7F)) + " "
# Whitespace as Python's str.split() sees it (RE2's \s lacks \v, \x1c-\x1f, \x85).
_WS = r"[\s\p{Z}\x0b\x1c-\x1f\x85]"

# Excel serials accepted: 1950-01-01 .. 2100-12-31.
_SERIAL_MIN = (date(1950, 1, 1) - date(1899, 12, 30)).days
_SERIAL_MAX = (date(2100, 12, 31) - date(1899, 12, 30)).days

_TIME = r"(?:(?:[ T]+|日\s*)\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?"
_DATE_RE = (
    r"^(?:((?:19|20)\d\d|2100)(?:[-/.年](\d{1,2})[-/.月](\d{1,2})日?|(\d\d)(\d\d))"
    + _TIME
    + r"|(\d{5})(?:\.\d*)?)$"
)

_NUM = r"(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d*)?|\.\d+"
_AMOUNT_RE = rf"^(?:[-+]?(?:{_NUM})|\((?:{_NUM})\))$"

_VIN_W = (8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2)

BOOL_TRUE = ("是", "Y", "YES", "TRUE", "T", "1", "1.0", "已到店", "到店")
BOOL_FALSE = ("否", "N", "NO", "FALSE", "F", "0", "0.0", "未到店")
PLATE_NONE = ("无牌照", "无牌", "无", "暂无", "未上牌")


def _vin_check_sql(v: str) -> str:
    """The check character (position 9) computed from VIN expression v (17 valid chars).

    Transliteration by code point a: digits a - 48; A..R (a - 65) % 9 + 1; S..Z one more.
    """

    def value(i: int) -> str:
        a = f"ascii(substr({v}, {i}, 1))"
        return f"CASE WHEN {a} < 65 THEN {a} - 48 ELSE ({a} - 65 + ({a} >= 83)::INT) % 9 + 1 END"

    total = " + ".join(f"{w} * {value(i + 1)}" for i, w in enumerate(_VIN_W) if w)
    return f"substr('0123456789X', ({total}) % 11 + 1, 1)"


def _code_macros(kind: str, config: Config | None) -> list[str]:
    arms = " ".join(
        f"WHEN {literal(k)} THEN {literal(v)}" for k, v in code_map(kind, config).items()
    )
    # The raw text is tried as it is first: most exports spell codes exactly (fast path).
    fallback = CODE_FALLBACK[kind]
    other = literal(fallback) if fallback else "NULL"
    return [
        f"CREATE OR REPLACE TEMP MACRO _crm_code_{kind}(k) AS "
        f"CASE WHEN k IS NULL THEN NULL ELSE CASE k {arms} ELSE {other} END END",
        f"CREATE OR REPLACE TEMP MACRO crm_code_{kind}(s) AS COALESCE("
        f"CASE s::VARCHAR {arms} END, _crm_code_{kind}(crm_norm_code(s)))",
    ]


def macros(config: Config | None = None) -> list[str]:
    """The CREATE MACRO statements, in dependency order."""
    fw, hw = literal(_FW), literal(_HW)
    date_sql = (
        "CASE WHEN r.y <> '' THEN TRY_CAST(r.y || '-' || r.m || r.cm || '-' || r.d || r.cd"
        " AS DATE)"
        f" WHEN r.ser <> '' AND r.ser::INTEGER BETWEEN {_SERIAL_MIN} AND {_SERIAL_MAX}"
        f" THEN DATE '1899-12-30' + r.ser::INTEGER END"
    )
    return [
        "CREATE OR REPLACE TEMP MACRO crm_fw(s) AS CASE WHEN regexp_matches(s::VARCHAR, "
        rf"'[\x{{FF01}}-\x{{FF5E}}\x{{3000}}]') THEN translate(s::VARCHAR, {fw}, {hw})"
        " ELSE s::VARCHAR END",
        # trim() with a character set is slow: only values that start or end with one pay it
        "CREATE OR REPLACE TEMP MACRO crm_text(s) AS CASE WHEN regexp_matches(s::VARCHAR, "
        "'^[ \t\r\n\u3000\u00a0]|[ \t\r\n\u3000\u00a0]$') "
        "THEN NULLIF(trim(s::VARCHAR, ' \t\r\n\u3000\u00a0'), '') "
        "ELSE NULLIF(s::VARCHAR, '') END",
        f"CREATE OR REPLACE TEMP MACRO _crm_date_r(r) AS {date_sql}",
        "CREATE OR REPLACE TEMP MACRO _crm_date_iso(x) AS CASE WHEN x[5] = '-' AND x[8] = '-'"
        " AND (length(x) = 10 OR (length(x) = 19 AND x[11] IN (' ', 'T') AND x[14] = ':'"
        " AND x[17] = ':' AND TRY_CAST(substr(x, 12) AS TIME) IS NOT NULL))"
        " THEN TRY_CAST(left(x, 10) AS DATE) END",
        "CREATE OR REPLACE TEMP MACRO _crm_date_fast(d) AS "
        "CASE WHEN year(d) BETWEEN 1900 AND 2100 THEN d END",
        "CREATE OR REPLACE TEMP MACRO crm_date(s) AS COALESCE("
        "_crm_date_fast(_crm_date_iso(s::VARCHAR)), _crm_date_r(regexp_extract("
        f"trim(s::VARCHAR), {literal(_DATE_RE)}, ['y', 'm', 'd', 'cm', 'cd', 'ser'])))",
        "CREATE OR REPLACE TEMP MACRO _crm_amount_t(t) AS CASE WHEN regexp_full_match(t, "
        f"{literal(_AMOUNT_RE)}) THEN TRY_CAST(translate(t, ',()', '') AS DOUBLE)"
        " * CASE WHEN t[1] = '(' THEN -1 ELSE 1 END END",
        # fast path: a plain number (most cells) is cast as it is. CASE, not COALESCE: the
        # optimizer hoists common subexpressions out of COALESCE (every row would pay them)
        "CREATE OR REPLACE TEMP MACRO crm_amount(s) AS CASE WHEN regexp_full_match("
        r"s::VARCHAR, '[-+]?\d+(?:\.\d*)?') THEN TRY_CAST(s::VARCHAR AS DOUBLE) "
        "ELSE _crm_amount_t(regexp_replace("
        f"regexp_replace(crm_fw(s), '{_WS}', '', 'g'), "
        r"'^(\(?[-+]?)(?:[￥¥]|RMB|CNY)|元$', '\1', 'g')) END",
        "CREATE OR REPLACE TEMP MACRO _crm_mileage_r(r) AS CASE WHEN r.w = '万' "
        "THEN (TRY_CAST(r.n AS DECIMAL(18, 6)) * 10000)::DOUBLE "
        "WHEN r.n <> '' THEN TRY_CAST(r.n AS DOUBLE) END",
        "CREATE OR REPLACE TEMP MACRO crm_mileage(s) AS _crm_mileage_r(regexp_extract("
        f"regexp_replace(crm_fw(s), '{_WS}|,', '', 'g'), "
        r"'^(?i)(\d+(?:\.\d*)?|\.\d+)(万)?(?:km|公里|千米)?$', ['n', 'w']))",
        "CREATE OR REPLACE TEMP MACRO crm_vin(s) AS "
        f"NULLIF(upper(regexp_replace(s::VARCHAR, '{_WS}|-', '', 'g')), '')",
        # A lambda over a one-element list binds the VIN once (a macro argument is pasted
        # into every use, and the check digit uses it 68 times).
        # The flag of a normalised VIN (a column: the loader calls it per distinct VIN).
        "CREATE OR REPLACE TEMP MACRO _crm_vin_flag_n(v) AS"
        " CASE WHEN v IS NULL THEN NULL WHEN length(v) <> 17 THEN 'vin_length'"
        " WHEN NOT regexp_full_match(v, '[A-HJ-NPR-Z0-9]{17}') THEN 'vin_chars'"
        f" WHEN v[9] <> {_vin_check_sql('v')} THEN 'vin_check_digit' END",
        "CREATE OR REPLACE TEMP MACRO crm_vin_flag(s) AS list_transform([crm_vin(s)], lambda v:"
        " _crm_vin_flag_n(v))[1]",
        "CREATE OR REPLACE TEMP MACRO _crm_phone_t(t) AS CASE"
        r" WHEN regexp_full_match(t, '861\d{10}') THEN substr(t, 3)"
        r" WHEN regexp_full_match(t, '\d+') THEN t"
        r" WHEN regexp_matches(t, '(?:^|\D)1\d{10}(?:\D|$)')"
        r" THEN regexp_extract(t, '(?:^|\D)(1\d{10})(?:\D|$)', 1)"
        r" ELSE NULLIF(regexp_replace(t, '\D', '', 'g'), '') END",
        "CREATE OR REPLACE TEMP MACRO _crm_phone_d(s) AS _crm_phone_t(regexp_replace("
        f"regexp_replace(crm_fw(s), '{_WS}|[-.()]', '', 'g'), "
        r"'^(?:\+86|0086)', ''))",
        "CREATE OR REPLACE TEMP MACRO _crm_phone_p(d) AS d = repeat(d[1], length(d))",
        "CREATE OR REPLACE TEMP MACRO crm_phone(s) AS CASE WHEN _crm_phone_p(_crm_phone_d(s))"
        " THEN NULL ELSE _crm_phone_d(s) END",
        "CREATE OR REPLACE TEMP MACRO crm_phone_flag(s) AS CASE WHEN _crm_phone_d(s) IS NULL"
        " THEN NULL WHEN _crm_phone_p(_crm_phone_d(s)) THEN 'phone_placeholder'"
        r" WHEN NOT regexp_full_match(_crm_phone_d(s), '1\d{10}') THEN 'phone_odd' END",
        "CREATE OR REPLACE TEMP MACRO _crm_plate_t(t) AS CASE WHEN t = '' OR t IN "
        f"{in_list(PLATE_NONE)} THEN NULL ELSE t END",
        "CREATE OR REPLACE TEMP MACRO crm_plate(s) AS _crm_plate_t(upper(regexp_replace("
        f"crm_fw(s), '{_WS}|[-.·•・‧]', '', 'g')))",
        "CREATE OR REPLACE TEMP MACRO crm_norm_code(s) AS "
        f"NULLIF(upper(regexp_replace(crm_fw(s), '{_WS}', '', 'g')), '')",
        "CREATE OR REPLACE TEMP MACRO _crm_bool_k(k) AS CASE"
        f" WHEN k IN {in_list(BOOL_TRUE)} THEN TRUE WHEN k IN {in_list(BOOL_FALSE)} THEN FALSE END",
        "CREATE OR REPLACE TEMP MACRO crm_bool(s) AS "
        "COALESCE(_crm_bool_k(s::VARCHAR), _crm_bool_k(crm_norm_code(s)))",
        "CREATE OR REPLACE TEMP MACRO _crm_year_t(t) AS CASE WHEN t <> '' AND t::INTEGER "
        "BETWEEN 1900 AND 2100 THEN t::INTEGER END",
        "CREATE OR REPLACE TEMP MACRO crm_year(s) AS _crm_year_t(regexp_extract("
        r"trim(crm_fw(s)), '^(\d{4})(?:年|\.0*)?$', 1))",
    ] + [stmt for kind in CODES for stmt in _code_macros(kind, config)]


def install(con: duckdb.DuckDBPyConnection, config: Config | None = None) -> None:
    """Create (or replace) the parser macros on a connection."""
    for stmt in macros(config):
        con.execute(stmt)


# --- Python wrappers: the same macros on a private in-memory connection --------------------

_LOCK = threading.Lock()
_CONS: dict[str, duckdb.DuckDBPyConnection] = {}


def _connection(config: Config | None) -> duckdb.DuckDBPyConnection:
    """The private connection for a config (keyed on its [values] extras and profile, the only
    inputs)."""
    key = (
        json.dumps([config.values, config.profile], sort_keys=True, ensure_ascii=False)
        if config
        else ""
    )
    con = _CONS.get(key)
    if con is None:
        con = duckdb.connect(":memory:")
        install(con, config)
        _CONS[key] = con
    return con


def _run(macro: str, text: object, config: Config | None = None) -> Any:
    """One value through one macro (NUL characters dropped: DuckDB text cannot hold them);
    the macro's SQL type decides the Python type of the answer."""
    if text is None:
        return None
    with _LOCK:
        row = (
            _connection(config)
            .execute(f"SELECT {macro}(?::VARCHAR)", [str(text).replace("\x00", "")])
            .fetchall()
        )
    return row[0][0] if row else None


def parse_date(text: object) -> date | None:
    """2021-03-05, 2021/3/5, 2021.3.5, 20210305, 2021年3月5日 (+ time), Excel serial."""
    return _run("crm_date", text)


def parse_amount(text: object) -> float | None:
    """'￥1,234.50', '1 234.5元', '-120.00', '(120.00)' (negative), full-width digits."""
    return _run("crm_amount", text)


def parse_mileage(text: object) -> float | None:
    """km: '12,000', '12000km', '12000公里', '3.2万' (32000); negative or garbage -> None."""
    return _run("crm_mileage", text)


def normalise_vin(text: object) -> str | None:
    return _run("crm_vin", text)


def vin_flag(text: object) -> str | None:
    """None, 'vin_length', 'vin_chars' or 'vin_check_digit'."""
    return _run("crm_vin_flag", text)


def normalise_phone(text: object) -> str | None:
    return _run("crm_phone", text)


def phone_flag(text: object) -> str | None:
    """None, 'phone_placeholder' or 'phone_odd'."""
    return _run("crm_phone_flag", text)


def normalise_plate(text: object) -> str | None:
    return _run("crm_plate", text)


def normalise_code(text: object) -> str | None:
    """The key a code value is matched on (trim, no spaces, full-width -> ASCII, upper)."""
    return _run("crm_norm_code", text)


def map_code(kind: str, text: object, config: Config | None = None) -> str | None:
    """Canonical code of a raw value; unmatched -> schema.CODE_FALLBACK[kind]."""
    if kind not in CODES:
        raise ValueError(f"unknown code kind {kind!r}")
    return _run(f"crm_code_{kind}", text, config)


def parse_bool(text: object) -> bool | None:
    return _run("crm_bool", text)


def parse_year(text: object) -> int | None:
    return _run("crm_year", text)


def parse_text(text: object) -> str | None:
    return _run("crm_text", text)
