"""The sample generator: deterministic bytes, GBK with §1 headers, counts that match the
manifest, the planted defects, valid VIN check digits, and the CLI."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from crmtool.cli import app
from crmtool.sample import bundled_sample_dir, generate
from crmtool.schema import TABLES, normalise_header

CSVS = [
    "customers.csv",
    "dealers.csv",
    "leads.csv",
    "repair_orders_2018-2020.csv",
    "repair_orders_2021.csv",
    "vehicles.csv",
    "contacts.csv",
]
KIND = {
    "customers.csv": "customers",
    "dealers.csv": "dealers",
    "leads.csv": "leads",
    "vehicles.csv": "vehicles",
    "repair_orders_2018-2020.csv": "repair_orders",
    "repair_orders_2021.csv": "repair_orders",
    "contacts.csv": "contacts",
}
# An independent ISO 3779 check digit.
_VALUES = {
    **{str(d): d for d in range(10)},
    **dict(zip("ABCDEFGH", range(1, 9), strict=True)),
    **dict(zip("JKLMN", range(1, 6), strict=True)),
    "P": 7,
    "R": 9,
    **dict(zip("STUVWXYZ", range(2, 10), strict=True)),
}
_W = [8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2]


def check_digit_ok(vin: str) -> bool:
    total = sum(_VALUES[c] * w for c, w in zip(vin, _W, strict=True))
    return vin[8] == "0123456789X"[total % 11]


def test_check_digit_oracle() -> None:
    assert check_digit_ok("1M8GDM9AXKP042788")  # the textbook example
    assert not check_digit_ok("1M8GDM9A1KP042788")


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("small")
    generate(out, "small", 7)
    return out


def _rows(path: Path) -> list[list[str]]:
    return list(csv.reader(io.StringIO(path.read_bytes().decode("gbk"), newline="")))


def test_bundled_sample_is_the_generators_output(small: Path) -> None:
    bundled = bundled_sample_dir()
    names = sorted(p.name for p in small.iterdir())
    assert names == sorted(CSVS + ["crmtool.toml", "repair_orders_2021H2.xlsx", "sample.json"])
    for name in names:
        assert (bundled / name).read_bytes() == (small / name).read_bytes(), name


def test_same_seed_same_bytes_other_seed_differs(tmp_path: Path) -> None:
    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    generate(a, "tiny", 3)
    generate(b, "tiny", 3)
    generate(c, "tiny", 4)
    for name in CSVS + ["repair_orders_2021H2.xlsx", "sample.json"]:
        assert (a / name).read_bytes() == (b / name).read_bytes(), name
    assert (a / "vehicles.csv").read_bytes() != (c / "vehicles.csv").read_bytes()


def test_manifest(small: Path) -> None:
    m = json.loads((small / "sample.json").read_text("utf-8"))
    assert (m["as_of"], m["period"], m["seed"], m["size"]) == ("2021-12-31", "2021-12", 7, "small")
    assert m["files"]["vehicles.csv"] == 2000
    assert m["files"]["dealers.csv"] == 6
    p = m["planted"]
    assert p["impossible_date"] == 1 and p["totals_row"] == 1 and p["changed_ro"] == 1
    assert p["wrong_field_count"] == 1 and p["bad_vin_check_digit"] == 3
    assert p["missing_settle_date"] == 3 and p["odd_phone"] == 3 and p["unknown_ro_type"] == 2
    assert p["overlap_rows"] > 0 and p["shared_phone"] > 0
    assert min(p["insurance_30d_5k_10k"], p["insurance_30d_10k_20k"], p["insurance_30d_20k+"]) > 0
    assert set(m["behaviours"]) >= {
        "loyal",
        "drifting",
        "lost",
        "cross",
        "defector",
        "sec_none",
        "new_direct",
    }


def test_gbk_chinese_headers_and_row_counts(small: Path) -> None:
    m = json.loads((small / "sample.json").read_text("utf-8"))
    for name in CSVS:
        raw = (small / name).read_bytes()
        with pytest.raises(UnicodeDecodeError):
            raw.decode("utf-8")
        rows = _rows(small / name)
        known = {normalise_header(h) for f in TABLES[KIND[name]] for h in f.headers}
        assert all(normalise_header(h) in known for h in rows[0]), name
        assert all("\u4e00" <= h[0] <= "\u9fff" or h == "VIN" for h in rows[0]), name
        data = [r for r in rows[1:] if r[0] != "合计"]
        assert len(data) == m["files"][name], name


def test_planted_defects(small: Path) -> None:
    old = _rows(small / "repair_orders_2018-2020.csv")
    new = _rows(small / "repair_orders_2021.csv")
    assert old[-1][0] == "合计" and len(old[-1]) == 12
    assert sum(float(r[10].replace("￥", "").replace(",", "")) for r in old[1:-1]) == pytest.approx(
        float(old[-1][10]), abs=0.01
    )
    assert [r[4] for r in new if r[4] == "2021-02-30"] == ["2021-02-30"]
    assert sum(len(r) == 11 for r in new) == 1
    assert sum(r[6] == "15K保养" for r in old + new) == 2
    assert sum(len(r) == 12 and r[4] == "" and r[0] != "合计" for r in old + new) == 3
    # December 2020 is in both exports; one of those orders changed its amount.
    old_dec = {r[0]: r for r in old[1:] if r[4].startswith("2020-12")}
    new_dec = {r[0]: r for r in new[1:] if r[4].startswith("2020-12")}
    assert old_dec.keys() == new_dec.keys() and old_dec
    assert sum(old_dec[k] != new_dec[k] for k in old_dec) == 1
    assert any("万" in r[5] for r in old + new)
    assert any(r[10].startswith("￥") and "," in r[10] for r in old + new)
    assert any(r[1] == "" for r in old + new) and {r[1] for r in old[1:]} >= {"D001", "D004"}
    phones = [r[2] for r in _rows(small / "customers.csv")[1:]]
    assert {"0571-86012345", "1381234567", "11111111111"} <= set(phones)
    assert any(p.startswith("+86 ") for p in phones) and any(" " in p for p in phones)


def test_vin_check_digits(small: Path) -> None:
    vins = [r[0] for r in _rows(small / "vehicles.csv")[1:]]
    assert len(set(vins)) == len(vins) == 2000
    assert all(len(v) == 17 and not set(v) & set("IOQ") for v in vins)
    assert sum(not check_digit_ok(v) for v in vins) == 3
    ro_vins = {r[2] for f in CSVS[3:5] for r in _rows(small / f)[1:] if len(r) > 2}
    assert ro_vins - {""} <= set(vins)


def test_vehicles_content(small: Path) -> None:
    rows = _rows(small / "vehicles.csv")[1:]
    assert {r[4] for r in rows} == {"朗逸", "Polo", "迈腾", "途观L", "速腾", "帕萨特", "探岳"}
    assert {r[7] for r in rows} == {"自店", "二级网点", "他店"}
    assert {r[11] for r in rows} == {"", "报废", "过户"}
    assert any(r[1] == "无牌照" for r in rows) and any("·" in r[1] for r in rows)
    soon = [
        r
        for r in rows
        if r[10] and date(2022, 1, 1) <= date.fromisoformat(r[10]) <= date(2022, 3, 31)
    ]
    assert soon


def test_xlsx_has_text_ids_and_dates(small: Path) -> None:
    with zipfile.ZipFile(small / "repair_orders_2021H2.xlsx") as z:
        sheet = z.read("xl/worksheets/sheet1.xml").decode()
        strings = z.read("xl/sharedStrings.xml").decode()
    assert "工单号" in strings and "维修工单明细" in strings
    assert 'r="D3" s="1"' in sheet  # 进厂日期 of the first row is a styled (date) number


def test_cli_writes_sample(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    res = CliRunner().invoke(app, ["sample", str(out), "--encoding", "utf-8"])
    assert res.exit_code == 0, res.output
    m = json.loads((out / "sample.json").read_text("utf-8"))
    assert m["encoding"] == "utf-8" and m["size"] == "small"
    assert (out / "dealers.csv").read_text("utf-8").startswith("经销商代码,经销商名称,区域")
    bad = CliRunner().invoke(app, ["sample", str(out), "--size", "huge"])
    assert bad.exit_code == 2 and "huge" in bad.output
