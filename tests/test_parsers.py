"""Value parsers (docs/rules.md §1 "Values", §17 "Loading"): exact answers worked out by hand, plus properties."""

from __future__ import annotations

from datetime import date, timedelta

import duckdb
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmtool.config import config_from_dict
from crmtool.load import parsers as p
from crmtool.schema import CODE_FALLBACK, CODES, normalise_header, normalise_value

FEW = settings(max_examples=200, deadline=None)
_CON = duckdb.connect()
p.install(_CON)

# --- an independent VIN check digit (ISO 3779 / GB 16735) ---------------------------------
_VALUES = dict(
    zip(
        "ABCDEFGHJKLMNPRSTUVWXYZ",
        [1, 2, 3, 4, 5, 6, 7, 8, 1, 2, 3, 4, 5, 7, 9, 2, 3, 4, 5, 6, 7, 8, 9],
        strict=True,
    )
)
_VALUES.update({str(d): d for d in range(10)})
_WEIGHTS = [8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2]
VIN_CHARS = "0123456789ABCDEFGHJKLMNPRSTUVWXYZ"


def check_char(vin: str) -> str:
    r = sum(_VALUES[c] * w for c, w in zip(vin, _WEIGHTS, strict=True)) % 11
    return "X" if r == 10 else str(r)


def with_check(vin: str) -> str:
    return vin[:8] + check_char(vin) + vin[9:]


# --- dates --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "text",
    [
        "2021-03-05",
        "2021/3/5",
        "2021/03/05",
        "2021.3.5",
        "20210305",
        "2021年3月5日",
        "2021-03-05 10:20",
        "2021/3/5 10:20:30",
        "2021-03-05T10:20:30",
        "2021-03-05 10:20:30.000",
        "2021年3月5日 10:20",
        "20210305 10:20:30",
        "  2021-03-05  ",
        "44260",
        "44260.5",
        " 44260.0 ",
    ],
)
def test_date_forms(text: str) -> None:
    assert p.parse_date(text) == date(2021, 3, 5)


@pytest.mark.parametrize(
    "text",
    [
        "2021-02-29",
        "2021-02-30",
        "2021-13-01",
        "2021-00-10",
        "2021-04-31",
        "2021/3/5x",
        "03/05/2021",
        "2021-3",
        "",
        "   ",
        "abc",
        "18263",
        "73416",
        "99999",
        "1234",
        "0",
        "1899-12-31",
        "2101-01-01",
        "2021-03-05 10",
        "-44260",
    ],
)
def test_date_rejects(text: str) -> None:
    assert p.parse_date(text) is None


def test_date_boundaries() -> None:
    assert p.parse_date("2020-02-29") == date(2020, 2, 29)
    assert p.parse_date("2000-02-29") == date(2000, 2, 29)  # divisible by 400: leap
    assert p.parse_date("2100-02-29") is None  # divisible by 100: not leap
    assert p.parse_date("18264") == date(1950, 1, 1)  # the first serial accepted
    assert p.parse_date("73415") == date(2100, 12, 31)  # the last
    assert p.parse_date("1") is None
    assert p.parse_date(None) is None


def test_date_macro_on_typed_columns() -> None:
    con = duckdb.connect()
    p.install(con)
    row = con.execute(
        "SELECT crm_date(44260), crm_date(44260.5), crm_date(DATE '2021-03-05'),"
        " crm_date(TIMESTAMP '2021-03-05 10:20:30'), crm_date(NULL)"
    ).fetchone()
    assert row == (date(2021, 3, 5),) * 4 + (None,)


DATE_FORMS = [
    lambda d: d.isoformat(),
    lambda d: f"{d.year}/{d.month}/{d.day}",
    lambda d: f"{d.year}.{d.month}.{d.day}",
    lambda d: d.strftime("%Y%m%d"),
    lambda d: f"{d.year}年{d.month}月{d.day}日",
    lambda d: d.isoformat() + " 08:05:09",
    lambda d: f"{d.year}/{d.month}/{d.day} 8:05",
    lambda d: d.isoformat() + "T23:59:59.999",
    lambda d: str((d - date(1899, 12, 30)).days),
    lambda d: f"{(d - date(1899, 12, 30)).days}.75",
]


@FEW
@given(st.dates(date(1950, 1, 1), date(2100, 12, 31)), st.sampled_from(DATE_FORMS))
def test_date_round_trip(d: date, form) -> None:  # type: ignore[no-untyped-def]
    assert p.parse_date(form(d)) == d


def test_date_oracle_every_day_of_a_leap_cycle() -> None:
    """All 1461 days of 2020..2023 in slash form, in one SELECT, against Python's calendar."""
    con = duckdb.connect()
    p.install(con)
    days = [date(2020, 1, 1) + timedelta(n) for n in range(1461)]
    texts = [f"{d.year}/{d.month}/{d.day}" for d in days]
    got = con.execute("SELECT list_transform(?, lambda x: crm_date(x))", [texts]).fetchone()
    assert got is not None and got[0] == days


# --- amounts ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("￥1,234.50", 1234.5),
        ("¥1234", 1234.0),
        ("1 234.5元", 1234.5),
        ("-120.00", -120.0),
        ("１２３", 123.0),
        ("１，２３４．５", 1234.5),
        ("(120.00)", -120.0),
        ("+5", 5.0),
        ("0", 0.0),
        (".5", 0.5),
        ("12.", 12.0),
        ("RMB 1,000,000", 1_000_000.0),
        ("-￥8", -8.0),
        (" 99.99 ", 99.99),
    ],
)
def test_amount_forms(text: str, value: float) -> None:
    assert p.parse_amount(text) == value


@pytest.mark.parametrize(
    "text",
    [
        "",
        " ",
        "abc",
        "1,23",
        "12,34.5",
        "1.2.3",
        "(120",
        "120)",
        "--5",
        "1e5",
        "nan",
        "inf",
        "12元3",
        ".",
        "-",
    ],
)
def test_amount_rejects(text: str) -> None:
    assert p.parse_amount(text) is None


@FEW
@given(st.integers(-(10**9), 10**9))
def test_amount_round_trip(cents: int) -> None:
    sign = "-" if cents < 0 else ""
    text = f"{sign}￥{abs(cents) // 100:,}.{abs(cents) % 100:02d}"
    assert p.parse_amount(text) == round(cents / 100, 2)


# --- mileage ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "km"),
    [
        ("12000", 12000.0),
        ("12,000", 12000.0),
        ("12000km", 12000.0),
        ("12000 KM", 12000.0),
        ("12000公里", 12000.0),
        ("3.2万", 32000.0),
        ("3.2万公里", 32000.0),
        ("1.1万", 11000.0),
        ("１２０００", 12000.0),
        ("12000.5", 12000.5),
        ("0", 0.0),
        ("12000Km", 12000.0),
    ],
)
def test_mileage_forms(text: str, km: float) -> None:
    assert p.parse_mileage(text) == km


@pytest.mark.parametrize("text", ["", "-5", "-3.2万", "abc", "km", "万", "12000 miles", "1.2.3"])
def test_mileage_rejects(text: str) -> None:
    assert p.parse_mileage(text) is None


@FEW
@given(st.integers(0, 2_000_000), st.sampled_from(["{}", "{} km", "{}KM", "{}公里", "{:,}"]))
def test_mileage_round_trip(km: int, form: str) -> None:
    assert p.parse_mileage(form.format(km)) == float(km)


@FEW
@given(st.integers(0, 2_000_000).map(lambda n: n * 100))
def test_mileage_wan_round_trip(km: int) -> None:
    wan = f"{km // 10000}.{km % 10000:04d}".rstrip("0").rstrip(".") + "万"
    assert p.parse_mileage(wan) == float(km)


# --- VIN ----------------------------------------------------------------------------------
def test_vin_known_valid() -> None:
    assert check_char("1M8GDM9AXKP042788") == "X"
    assert p.normalise_vin(" 1m8g-dm9a xkp042788 ") == "1M8GDM9AXKP042788"
    assert p.vin_flag("1M8GDM9AXKP042788") is None
    assert p.vin_flag("1M8GDM9A1KP042788") == "vin_check_digit"


@pytest.mark.parametrize("serial", ["218329", "000001", "999999", "123456"])
def test_vin_chinese_style(serial: str) -> None:
    vin = with_check("LSVAU2180N2" + serial)
    assert p.vin_flag(vin) is None
    assert p.vin_flag(vin.lower()) is None


@pytest.mark.parametrize(
    ("text", "vin", "flag"),
    [
        ("", None, None),
        ("  - ", None, None),
        ("ABC", "ABC", "vin_length"),
        ("1M8GDM9AXKP0427888", "1M8GDM9AXKP0427888", "vin_length"),
        ("IM8GDM9AXKP042788", "IM8GDM9AXKP042788", "vin_chars"),
        ("1M8GDM9AXKP04278O", "1M8GDM9AXKP04278O", "vin_chars"),
        ("1M8GDM9AXKP04278Q", "1M8GDM9AXKP04278Q", "vin_chars"),
        ("1M8GDM9AXKP04278_", "1M8GDM9AXKP04278_", "vin_chars"),
        ("车M8GDM9AXKP042788", "车M8GDM9AXKP042788", "vin_chars"),
    ],
)
def test_vin_flags(text: str, vin: str | None, flag: str | None) -> None:
    assert p.normalise_vin(text) == vin
    assert p.vin_flag(text) == flag


@FEW
@given(st.text(VIN_CHARS, min_size=17, max_size=17), st.sampled_from("0123456789X"))
def test_vin_check_digit_property(body: str, other: str) -> None:
    vin = with_check(body)
    assert p.vin_flag(vin) is None
    if other != vin[8]:
        assert p.vin_flag(vin[:8] + other + vin[9:]) == "vin_check_digit"


# --- phones -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "phone", "flag"),
    [
        ("13812345678", "13812345678", None),
        ("8613812345678", "13812345678", None),
        ("+86 138-1234-5678", "13812345678", None),
        ("138.1234.5678", "13812345678", None),
        ("（138）12345678", "13812345678", None),
        ("１３８１２３４５６７８", "13812345678", None),
        ("13812345678/13987654321", "13812345678", None),
        ("0571-88886666", "057188886666", "phone_odd"),
        ("8612345", "8612345", "phone_odd"),
        ("23812345678", "23812345678", "phone_odd"),
        ("11111111111", None, "phone_placeholder"),
        ("888888888888", None, "phone_placeholder"),
        ("00000000", None, "phone_placeholder"),
        ("000-0000-0000", None, "phone_placeholder"),
        ("", None, None),
        (" - ", None, None),
        ("无", None, None),
    ],
)
def test_phone(text: str, phone: str | None, flag: str | None) -> None:
    assert p.normalise_phone(text) == phone
    assert p.phone_flag(text) == flag


PHONE_FORMS = [
    "{a}{b}{c}",
    "+86 {a}-{b}-{c}",
    "0086 {a}{b}{c}",
    "{a} {b} {c}",
    "({a}){b}{c}",
    "86{a}{b}{c}",
    "+86{a}{b}{c}",
    " {a}.{b}.{c} ",
    "0086-{a}-{b}{c}",
]


@settings(max_examples=40, deadline=None)
@given(st.lists(st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True), min_size=1, max_size=10))
def test_phone_forms_property(phones: list[str]) -> None:
    phones = [ph for ph in phones if len(set(ph)) > 1]
    texts = [form.format(a=ph[:3], b=ph[3:7], c=ph[7:]) for ph in phones for form in PHONE_FORMS]
    rows = _CON.execute(
        "SELECT crm_phone(x), crm_phone_flag(x) FROM unnest($1::VARCHAR[])"
        " WITH ORDINALITY t(x, i) ORDER BY i",
        [texts],
    ).fetchall()
    assert rows == [(ph, None) for ph in phones for _ in PHONE_FORMS]


# --- plates, booleans, years, text --------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "plate"),
    [
        ("浙A·12345", "浙A12345"),
        ("浙a 12345", "浙A12345"),
        ("浙A-1234.5", "浙A12345"),
        ("浙A•12345", "浙A12345"),
        ("无牌照", None),
        ("无", None),
        ("", None),
        ("  ", None),
    ],
)
def test_plate(text: str, plate: str | None) -> None:
    assert p.normalise_plate(text) == plate


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("是", True),
        ("否", False),
        ("Y", True),
        ("n", False),
        ("Yes", True),
        ("no", False),
        ("TRUE", True),
        ("false", False),
        ("1", True),
        ("0", False),
        ("已到店", True),
        ("到店", True),
        ("未到店", False),
        (" 是 ", True),
        ("", None),
        ("maybe", None),
    ],
)
def test_bool(text: str, value: bool | None) -> None:
    assert p.parse_bool(text) is value


@pytest.mark.parametrize(
    ("text", "year"),
    [
        ("1985", 1985),
        ("1985年", 1985),
        ("1985.0", 1985),
        (" 1985 ", 1985),
        ("1900", 1900),
        ("2100", 2100),
        ("1899", None),
        ("2101", None),
        ("85", None),
        ("", None),
        ("x", None),
    ],
)
def test_year(text: str, year: int | None) -> None:
    assert p.parse_year(text) == year


def test_text() -> None:
    assert p.parse_text("\u3000 张三 \t") == "张三"
    assert p.parse_text(" \u3000 ") is None
    assert p.parse_text("a b") == "a b"


# --- code values --------------------------------------------------------------------------
def test_every_raw_value_maps_to_its_code() -> None:
    for kind, codes in CODES.items():
        for code, raws in codes.items():
            for raw in raws:
                assert p.map_code(kind, raw) == code, (kind, raw)


@pytest.mark.parametrize(
    ("kind", "text", "code"),
    [
        ("ro_type", "15K保养", "other"),
        ("ro_type", "ＰＤＳ", "pds"),
        ("ro_type", " p d i ", "pds"),
        ("ro_type", "5k", "first_service"),
        ("ro_type", "服务活动", "other"),
        ("ro_type", "", None),
        ("ro_type", "  ", None),
        ("payer", "自费 ", "customer"),
        ("payer", "现金", "customer"),
        ("gender", "m", "male"),
        ("gender", "未知", None),
        ("sale_channel", "二网", "secondary"),
        ("status", "ＷＯＮ", "won"),
        ("vehicle_status", "报废", "scrapped"),
        ("usage", "私家车", "private"),
    ],
)
def test_code_values(kind: str, text: str, code: str | None) -> None:
    assert p.map_code(kind, text) == code


def test_code_fallbacks_and_config_extras() -> None:
    for kind, fallback in CODE_FALLBACK.items():
        assert p.map_code(kind, "zz-unknown") == fallback
    cfg = config_from_dict({"values": {"ro_type": {"maintenance": ["15K保养", "it's"]}}})
    assert p.map_code("ro_type", "15K保养", cfg) == "maintenance"
    assert p.map_code("ro_type", "１５ｋ保养", cfg) == "maintenance"
    assert p.map_code("ro_type", "IT'S", cfg) == "maintenance"  # quotes are escaped
    assert p.map_code("ro_type", "15K保养") == "other"  # the default config is untouched
    with pytest.raises(ValueError):
        p.map_code("colour", "red")


CODE_TEXT = st.lists(
    st.sampled_from([*"aBz09 \u3000\tＡｚ０９（）－，．保养首钣喷", "PDI", "5K", "自费"]),
    max_size=8,
).map("".join)


@FEW
@given(CODE_TEXT)
def test_sql_normalisation_equals_schema(text: str) -> None:
    want = normalise_value(text)
    assert p.normalise_code(text) == (want or None)


# --- robustness ---------------------------------------------------------------------------
MACROS = [
    "crm_date",
    "crm_amount",
    "crm_mileage",
    "crm_vin",
    "crm_vin_flag",
    "crm_phone",
    "crm_phone_flag",
    "crm_plate",
    "crm_bool",
    "crm_year",
    "crm_text",
    "crm_norm_code",
    *(f"crm_code_{kind}" for kind in CODES),
]


@settings(max_examples=40, deadline=None)
@given(st.lists(st.text(), min_size=1, max_size=25))
def test_no_macro_raises(texts: list[str]) -> None:
    """Every macro on arbitrary text, in one SELECT (the wrappers add only the NUL drop)."""
    values = [t.replace("\x00", "") for t in texts]
    rows = _CON.execute(
        "SELECT " + ", ".join(f"{m}(x)" for m in MACROS) + " FROM unnest($1::VARCHAR[]) t(x)",
        [values],
    ).fetchall()
    assert len(rows) == len(values)


def test_wrappers_take_odd_input() -> None:
    assert p.parse_date("2021-03-05\x00") == date(2021, 3, 5)
    assert p.parse_amount(12.5) == 12.5
    assert p.normalise_phone(13812345678) == "13812345678"


def test_macros_in_one_select() -> None:
    con = duckdb.connect()
    p.install(con)
    row = con.execute(
        "SELECT crm_date(a), crm_amount(b), crm_mileage(c), crm_vin_flag(d), crm_phone(e),"
        " crm_code_ro_type(f), crm_norm_code(f) FROM (VALUES ('2021年3月5日', '￥1,234.50',"
        " '3.2万公里', '1M8GDM9AXKP042788', '+86 138-1234-5678', ' １５Ｋ保养 '))"
        " v(a, b, c, d, e, f)"
    ).fetchone()
    assert row == (date(2021, 3, 5), 1234.5, 32000.0, None, "13812345678", "other", "15K保养")


# --- headers (schema.normalise_header) ----------------------------------------------------
def test_header_matching() -> None:
    assert normalise_header("车辆识别码（VIN）") == normalise_header("车辆识别码(VIN)")
    assert normalise_header(" Customer_ID ") == normalise_header("customer_id")
