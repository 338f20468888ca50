"""The workbooks print (issue 15, item 6): landscape A4, one page wide, the used cells as the
print area, header rows repeated on list sheets, and page breaks that never cut a chart.
Checked in the xlsx XML itself (what Excel and LibreOffice read)."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

from test_render import lists, summary

from crmtool.output.formats import emit
from crmtool.report.xlsx import PAGE_ROWS, write_xlsx_report


def sheets(path: Path) -> dict[str, tuple[str, str | None]]:
    """Sheet name -> (its XML, its drawing's XML or None)."""
    z = zipfile.ZipFile(path)
    book = z.read("xl/workbook.xml").decode()
    rels = z.read("xl/_rels/workbook.xml.rels").decode()
    targets = dict(re.findall(r'Id="(rId\d+)"[^>]*Target="([^"]+)"', rels))
    out = {}
    for name, rid in re.findall(r'<sheet name="([^"]+)" sheetId="\d+" r:id="(rId\d+)"', book):
        xml_path = "xl/" + targets[rid]
        xml = z.read(xml_path).decode()
        rel_path = xml_path.replace("worksheets/", "worksheets/_rels/") + ".rels"
        drawing = None
        if rel_path in z.namelist():
            m = re.search(r'Target="\.\./drawings/(drawing\d+\.xml)"', z.read(rel_path).decode())
            drawing = z.read(f"xl/drawings/{m.group(1)}").decode() if m else None
        out[name] = (xml, drawing)
    return out


def defined_names(path: Path) -> list[str]:
    return re.findall(
        r"<definedName [^>]*>([^<]+)</definedName>",
        zipfile.ZipFile(path).read("xl/workbook.xml").decode(),
    )


def assert_prints_landscape_one_page_wide(xml: str) -> None:
    assert '<pageSetUpPr fitToPage="1"/>' in xml
    setup = re.search(r"<pageSetup [^>]*/>", xml).group(0)
    assert 'orientation="landscape"' in setup and 'paperSize="9"' in setup
    assert 'fitToHeight="0"' in setup  # as many pages long as needed


def test_report_workbook_prints(tmp_path: Path) -> None:
    path = tmp_path / "r.xlsx"
    write_xlsx_report(path, summary(), lists())
    got = sheets(path)
    names = defined_names(path)
    for name, (xml, _) in got.items():
        assert_prints_landscape_one_page_wide(xml)
        assert any(
            n.startswith(f"{name}!$A$1:") or n.startswith(f"'{name}'!$A$1:") for n in names
        ), name  # a print area
    for name in ("保养提醒", "流失客户招揽"):
        assert f"{name}!$1:$1" in names or f"'{name}'!$1:$1" in names  # header on every page
    xml, drawing = got["概览"]
    breaks = [int(b) for b in re.findall(r'<brk id="(\d+)"', xml)]
    assert breaks, "the summary sheet spans several pages"
    starts = [0, *breaks]
    assert all(b - a <= PAGE_ROWS for a, b in zip(starts, breaks, strict=False))
    anchors = re.findall(
        r"<xdr:from><xdr:col>\d+</xdr:col><xdr:colOff>\d+</xdr:colOff>"
        r"<xdr:row>(\d+)</xdr:row>.*?<xdr:to><xdr:col>\d+</xdr:col>"
        r"<xdr:colOff>\d+</xdr:colOff><xdr:row>(\d+)</xdr:row>",
        drawing,
        re.S,
    )
    assert len(anchors) == 4
    for top, bottom in anchors:
        assert not [b for b in breaks if int(top) < b <= int(bottom)], (top, bottom, breaks)
    area = re.search(r"概览'?!\$A\$1:\$([A-Z]+)\$", " ".join(names)).group(1)
    assert area == "L"  # tables in A..E and charts up to L, nothing beyond


def test_a_call_list_prints(tmp_path: Path) -> None:
    path = tmp_path / "due.xlsx"
    emit(lists()["due"], out=path, sheet="due")
    ((xml, _),) = sheets(path).values()
    assert_prints_landscape_one_page_wide(xml)
    names = defined_names(path)
    n = lists()["due"].height
    cols = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"[lists()["due"].width - 1]
    assert f"保养提醒!$A$1:${cols}${n + 1}" in names and "保养提醒!$1:$1" in names
