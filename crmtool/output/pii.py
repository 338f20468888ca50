"""Masking people's data: THE phone finder, and the masks every output uses (lists, rejects'
raw text, the report, the find card).

The finder recognises every spelling the loader normalises to a mobile number
(parsers.crm_phone): 11 digits starting with 1, ASCII or full-width, with any separators
between the digits ('138 1234 5678', '+86 186-0745-4659', '(138)1234.5678'), an 86 / 0086
prefix ('8613812345670', '0086 138…'), and every number of a field that holds several
('13812345678/13987654321'). A match keeps its spelling and stars the 4th–7th of the 11
digits: '+86 186-****-4659', so neither the 11 digits nor the last 8 are ever visible.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import polars as pl

_DIGIT = re.compile(r"[0-9\uff10-\uff19]+")
_PHONE = re.compile(r"(?:0086|86)?1\d{10}")
_DELIMS = (",", ";", "\t", "|")
_LINE = re.compile(r"[^\r\n]+")
_MAX_DIGITS = 15  # 0086 + 11
_FW_ZERO = 0xFF10


def _ascii(digits: str) -> str:
    return "".join(chr(ord(c) - _FW_ZERO + 48) if c >= "\uff10" else c for c in digits)


def _fields(line: str, delim: str | None) -> Iterator[tuple[int, int]]:
    """(start, end) of each field of one line split on ``delim`` outside double quotes."""
    if delim is None:
        yield 0, len(line)
        return
    start, quoted = 0, False
    for i, ch in enumerate(line):
        if ch == '"':
            quoted = not quoted
        elif ch == delim and not quoted:
            yield start, i
            start = i + 1
    yield start, len(line)


def _delimiters(line: str) -> list[str | None]:
    """The likely field delimiter(s) of a source line: the most frequent of , ; tab | (all
    of them on a tie), or none for a single value."""
    counts = {d: line.count(d) for d in _DELIMS}
    top = max(counts.values())
    return [d for d, n in counts.items() if n == top] if top else [None]


def phone_spans(text: str) -> list[tuple[int, int]]:
    """Positions (start, end) of the 4th–7th national digits of every mobile number in
    ``text`` (each span one character, in order, deduplicated)."""
    starred: set[int] = set()
    for m in _LINE.finditer(text):
        line, base = m.group(), m.start()
        for delim in _delimiters(line):
            for start, end in _fields(line, delim):
                starred.update(base + p for p in _field_phones(line, start, end))
    return [(p, p + 1) for p in sorted(starred)]


def _field_phones(line: str, start: int, end: int) -> Iterator[int]:
    """Digit positions to star inside one field: runs of consecutive digit chunks (any
    separators between them) whose digits read as [0086|86]1xxxxxxxxxx."""
    chunks = [(m.start(), m.group()) for m in _DIGIT.finditer(line, start, end)]
    for i in range(len(chunks)):
        digits: list[tuple[int, str]] = []
        for pos, chunk in chunks[i:]:
            digits.extend((pos + k, ch) for k, ch in enumerate(_ascii(chunk)))
            if len(digits) > _MAX_DIGITS:
                break
            if _PHONE.fullmatch("".join(ch for _, ch in digits)):
                national = digits[-11:]
                yield from (p for p, _ in national[3:7])


def mask_phones_in(text: str | None) -> str | None:
    """Every mobile number inside ``text`` masked in place: 'a 138 1234 5678' ->
    'a 138 **** 5678'."""
    if not text:
        return text
    spans = phone_spans(text)
    if not spans:
        return text
    chars = list(text)
    for p, _ in spans:
        chars[p] = "*"
    return "".join(chars)


def mask_phone(phone: str | None) -> str | None:
    """A phone field: each mobile number in it masked ('13812345678' -> '138****5678'); a
    value with none (a landline, a fragment) by length: ≥ 7 chars keep the first 3 and last
    2, shorter are all '*'."""
    if phone is None:
        return None
    masked = mask_phones_in(phone)
    if masked != phone:
        return masked
    n = len(phone)
    if n >= 7:
        return phone[:3] + "*" * (n - 5) + phone[-2:]
    return "*" * n


def mask_name(name: str | None) -> str | None:
    """'张三' -> '张*', '欧阳娜娜' -> '欧***', 'Li Wei' -> 'L*****'; one char -> '*'."""
    if name is None:
        return None
    name = name.strip()
    if len(name) <= 1:
        return "*" * len(name)
    return name[0] + "*" * (len(name) - 1)


def _stars(n: pl.Expr) -> pl.Expr:
    return pl.lit("").str.pad_start(n, "*")


def _mask_name_expr(col: str) -> pl.Expr:
    s = pl.col(col).cast(pl.String).str.strip_chars()
    n = s.str.len_chars()
    return pl.when(n <= 1).then(_stars(n)).otherwise(s.str.slice(0, 1) + _stars(n - 1)).alias(col)


def _phone_column(s: pl.Series) -> pl.Series:
    """A phone column: the usual stored form (11 ASCII digits) masked in Polars, every
    other spelling through :func:`mask_phone`."""
    s = s.cast(pl.String)
    plain = s.str.contains(r"^1\d{10}$").fill_null(False)
    fast = s.str.slice(0, 3) + "****" + s.str.slice(7)
    if plain.all():
        return fast.alias(s.name)
    slow = s.map_elements(mask_phone, return_dtype=pl.String, skip_nulls=True)
    return pl.select(pl.when(plain).then(fast).otherwise(slow)).to_series().alias(s.name)


def mask_phones_in_text(text: pl.Series) -> pl.Series:
    """Mobile numbers inside free text (a reject's raw line, a note) masked in place; only
    values with at least 11 digits are looked at."""
    text = text.cast(pl.String)
    candidate = (text.str.count_matches(r"[0-9\uff10-\uff19]") >= 11).fill_null(False)
    if not candidate.any():
        return text
    masked = text.map_elements(mask_phones_in, return_dtype=pl.String, skip_nulls=True)
    return pl.select(pl.when(candidate).then(masked).otherwise(text)).to_series().alias(text.name)


_ID_COLUMNS = {"vin", "plate", "engine_no", "dealer_code", "customer_id", "id"}
_ID_SUFFIXES = ("_id", "_vin", "_plate", "_code", "_no")


def is_phone_column(col: str) -> bool:
    return col == "phone" or col.endswith("_phone")


def is_name_column(col: str) -> bool:
    return col == "name" or col.endswith("_name")


def mask_pii(frame: pl.DataFrame) -> pl.DataFrame:
    """Mask phone columns (phone, *_phone), name columns (name, *_name) and the mobile numbers
    inside any other text column (raw lines, notes); identifiers (VIN, plate, ids, codes)
    are left as they are."""
    out = {}
    for col, dtype in frame.schema.items():
        if is_phone_column(col):
            out[col] = _phone_column(frame.get_column(col))
        elif is_name_column(col):
            out[col] = frame.select(_mask_name_expr(col)).to_series()
        elif dtype == pl.String and col not in _ID_COLUMNS and not col.endswith(_ID_SUFFIXES):
            masked = mask_phones_in_text(frame.get_column(col))
            if not masked.equals(frame.get_column(col), null_equal=True):
                out[col] = masked
    return frame.with_columns(list(out.values())) if out else frame


def mask_card(card: dict[str, Any]) -> dict[str, Any]:
    """A `find` card (crmtool/find.py) with the person's name and phones masked (--mask-pii)."""
    person = card["customer"] and {
        **card["customer"],
        "name": mask_name(card["customer"].get("name")),
        "phone": mask_phone(card["customer"].get("phone")),
    }
    vehicles = [
        {**v, "phone": mask_phone(v.get("phone"))} if "phone" in v else v for v in card["vehicles"]
    ]
    contact = card.get("last_contact")
    if contact and "phone" in contact:
        contact = {**contact, "phone": mask_phone(contact["phone"])}
    return {**card, "customer": person, "vehicles": vehicles, "last_contact": contact}
