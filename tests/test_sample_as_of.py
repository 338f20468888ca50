"""The bundled sample agrees with its own as_of (issue 15 item 7): no car sold, no repair
order settled and no callback made after 2021-12-31 (it sold 34 cars after it before)."""

from __future__ import annotations

import csv
import io
import json

from crmtool.sample import bundled_sample_dir

SAMPLE = bundled_sample_dir()
AS_OF = json.loads((SAMPLE / "sample.json").read_text("utf-8"))["as_of"]


def _rows(name: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO((SAMPLE / name).read_bytes().decode("gbk"))))


def test_nothing_happens_after_the_samples_as_of() -> None:
    assert AS_OF == "2021-12-31"
    assert max(r["购车日期"] for r in _rows("vehicles.csv")) <= AS_OF
    for name in ("repair_orders_2018-2020.csv", "repair_orders_2021.csv"):
        assert max(r["结算日期"] for r in _rows(name) if r["结算日期"][:2] == "20") <= AS_OF
    assert max(r["回访日期"] for r in _rows("contacts.csv")) <= AS_OF


def test_the_people_the_help_looks_up_are_there() -> None:
    """`crmtool find 浙A·12345`, `find 138-0013-8000`, `forget --phone 13812345678`."""
    plates = {r["车牌号"]: r["客户编号"] for r in _rows("vehicles.csv")}
    phones = {r["联系电话"]: r["客户编号"] for r in _rows("customers.csv")}
    assert phones["13812345678"] == plates["浙A·12345"]
    assert "13800138000" in phones
    results = [r["回访结果"] for r in _rows("contacts.csv")]
    assert "不满意" in results  # `care complaints` has rows
