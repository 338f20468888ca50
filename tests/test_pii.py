"""Issue 14 item 6: one phone finder behind every mask (lists, rejects' raw text, report, find);
every spelling the loader accepts as a phone is masked."""

from __future__ import annotations

import re

import polars as pl
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from crmtool.cli import app
from crmtool.load import parsers
from crmtool.output.pii import mask_phone, mask_phones_in, mask_pii

FW = str.maketrans("0123456789", "０１２３４５６７８９")


def visible_digits(text: str) -> str:
    """The digits a reader sees, separators dropped, stars kept (they break runs)."""
    ascii_ = text.translate(str.maketrans("０１２３４５６７８９", "0123456789"))
    return re.sub(r"[^0-9*]", "", ascii_)


def assert_hidden(masked: str, phone: str) -> None:
    seen = visible_digits(masked)
    assert phone not in seen and phone[-8:] not in seen, (masked, phone)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("+86 186-0745-4659", "+86 186-****-4659"),  # the sample's own spelling
        ("138 1234 5678", "138 **** 5678"),
        ("8613812345670", "86138****5670"),
        ("0086 13812345678", "0086 138****5678"),
        ("13812345678/13987654321", "138****5678/139****4321"),  # both numbers of a/b
        ("１３８１２３４５６７８", "１３８****５６７８"),  # full-width digits
        ("(138)1234.5678", "(138)****.5678"),
        ("13812345678", "138****5678"),
        ("1234567", "123**67"),  # not a mobile number: masked by length as before
        ("12", "**"),
    ],
)
def test_mask_phone_spellings(text: str, expected: str) -> None:
    assert mask_phone(text) == expected


@pytest.mark.parametrize(
    "line, expected",
    [
        (",王五,+86 186-0745-4659", ",王五,+86 186-****-4659"),
        ("C1,张三,138 1234 5678,男,2021-03-05,1", "C1,张三,138 **** 5678,男,2021-03-05,1"),
        ("C1,张三,8613812345670", "C1,张三,86138****5670"),
        ("C1\t张三\t13812345678/13987654321", "C1\t张三\t138****5678/139****4321"),
        ('C1,"138,1234,5678",x', 'C1,"138,****,5678",x'),  # commas inside a quoted field
        ("R1,1,2021-03-05,100,200", "R1,1,2021-03-05,100,200"),  # fields never join into a phone
    ],
)
def test_mask_phones_in_raw_lines(line: str, expected: str) -> None:
    assert mask_phones_in(line) == expected


SEPARATORS = st.sampled_from(
    [" ", "-", ".", "(", ")", "\u3000", "\u00a0", "－", "（", "）", "  ", " - "]
)
PREFIXES = st.sampled_from(["", "+86", "+86 ", "86", "0086", "0086 ", "＋８６ ", "+86-"])


@st.composite
def phone_spellings(draw: st.DrawFn) -> tuple[str, str]:
    """(spelling, phone): an 11-digit mobile number cut into groups with separators,
    some digits full-width, maybe with a country prefix."""
    phone = (
        "1"
        + draw(st.sampled_from("3456789"))
        + "".join(draw(st.lists(st.sampled_from("0123456789"), min_size=9, max_size=9)))
    )
    cuts = sorted(draw(st.sets(st.integers(1, 10), max_size=4)))
    groups = [phone[a:b] for a, b in zip([0, *cuts], [*cuts, 11], strict=True)]
    groups = [g.translate(FW) if draw(st.booleans()) else g for g in groups]
    text = groups[0]
    for g in groups[1:]:
        text += draw(SEPARATORS) + g
    return draw(PREFIXES) + text, phone


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(phone_spellings(), st.sampled_from(["{}", "C1,张三,{},男", "{} 备注", '王"五,{},x']))
def test_every_spelling_the_loader_accepts_is_masked(
    spelled: tuple[str, str], context: str
) -> None:
    spelling, phone = spelled
    assume(parsers.normalise_phone(spelling) == phone)  # the loader reads it as this phone
    assert_hidden(mask_phone(spelling), phone)
    assert_hidden(mask_phones_in(context.format(spelling)), phone)
    frame = mask_pii(pl.DataFrame({"phone": [spelling], "raw": [context.format(spelling)]}))
    assert_hidden(frame["phone"][0], phone)
    assert_hidden(frame["raw"][0], phone)


def test_mask_pii_masks_phones_in_any_text_column_but_not_identifiers() -> None:
    frame = pl.DataFrame(
        {
            "vin": ["LSVAB13812345678"],
            "note": ["call 138 1234 5678"],
            "owner_phone": ["+86 138-1234-5678"],
            "ticket": [1.0],
        }
    )
    out = mask_pii(frame)
    assert out.row(0) == ("LSVAB13812345678", "call 138 **** 5678", "+86 138-****-5678", 1.0)


def test_rejects_mask_pii_masks_every_spelling(tmp_path) -> None:
    """The four spellings issue 14 found unmasked, in rejected lines (one field short)."""
    f = tmp_path / "cu.csv"
    f.write_bytes(
        (
            "客户编号,姓名,手机,性别\n,王五,+86 186-0745-4659\n,赵六,138 1234 5678\n"
            ",孙七,8613812345670\n,周八,13812345678/13987654321\n"
        ).encode("gbk")
    )
    db = str(tmp_path / "r.duckdb")
    runner = CliRunner()
    r = runner.invoke(app, ["--db", db, "load", str(f)])
    assert r.exit_code == 0, r.output
    plain = runner.invoke(app, ["--db", db, "rejects", "--format", "csv"])
    masked = runner.invoke(app, ["--db", db, "rejects", "--format", "csv", "--mask-pii"])
    assert plain.exit_code == masked.exit_code == 0
    assert len(plain.stdout.splitlines()) == len(masked.stdout.splitlines()) == 5
    for phone in ("18607454659", "13812345678", "13812345670", "13987654321"):
        assert phone in visible_digits(plain.stdout)  # not vacuous
        assert_hidden(masked.stdout, phone)
    assert masked.stdout.splitlines()[1].endswith(',王五,+86 186-****-4659"')
