"""Checks on a workbook before the Excel reader (fastexcel/calamine, native code) opens it.

A tiny .xlsx can declare a sheet of 16384 x 1048576 cells or hold one 50 MB string used many
times; the native reader then allocates until the process aborts, which no `except` catches.
So every limit is checked first, streaming the zip parts in bounded memory: declared and
actual uncompressed sizes and ratios, each sheet's declared <dimension> and the cell
references it really uses, and the longest text in the shared strings and inline cells.
An encrypted workbook (an OLE file holding an EncryptedPackage) is refused in one line.
"""

from __future__ import annotations

import re
import zipfile
import zlib
from pathlib import Path

from ..config import LimitsConfig
from ..errors import CrmError


class Unreadable(CrmError):
    """The zip is damaged: no workbook crmtool can read (a folder load skips it)."""


OLE_MAGIC = b"\xd0\xcf\x11\xe0"
ENCRYPTED = "EncryptedPackage".encode("utf-16-le")
STEP = 4 << 20
_REF = re.compile(rb"^([A-Z]{1,4})(\d{1,9})$")
_DIMENSION = re.compile(rb'<(?:\w+:)?dimension\b[^>]*\bref="([A-Z]+\d+)(?::([A-Z]+\d+))?"')
_CELL_REF = re.compile(rb'<(?:\w+:)?(?:c|row)\b[^>]*?\sr="([A-Z]*)(\d+)"')


def check(path: Path, limits: LimitsConfig) -> None:
    """Raise a one-line CrmError when the workbook is encrypted or breaks a limit."""
    with open(path, "rb") as fh:
        magic = fh.read(4)
    if magic == OLE_MAGIC:
        _check_ole(path)
        return
    try:
        book = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError):
        return  # not a zip the reader can open either: it reports that in one line
    with book:
        names = _sheet_names(book)
        for info in book.infolist():
            _check_sizes(path, info, limits)
        for info in book.infolist():
            low = info.filename.lower()
            sheet = names.get(info.filename, info.filename)
            try:
                if low.startswith("xl/worksheets/") and low.endswith(".xml"):
                    _scan_part(path, book, info, limits, sheet)
                elif low.endswith("sharedstrings.xml"):
                    _scan_part(path, book, info, limits, None)
            except (
                zipfile.BadZipFile,
                zlib.error,
                EOFError,
                OSError,
                ValueError,
                NotImplementedError,
                RuntimeError,
            ) as e:  # a damaged or odd zip
                raise Unreadable(
                    f"not a readable Excel workbook: part {info.filename}: "
                    f"{str(e).splitlines()[0][:120] if str(e) else type(e).__name__}",
                    file=str(path),
                ) from None


def _fail(path: Path, message: str) -> CrmError:
    return CrmError(message, file=str(path))


def _check_ole(path: Path) -> None:
    """An OLE2 file is a legacy .xls, or an encrypted (password-protected) .xlsx."""
    tail = b""
    with open(path, "rb") as fh:
        while block := fh.read(STEP):
            if ENCRYPTED in tail + block:
                raise _fail(
                    path,
                    "the workbook is encrypted (password-protected); save a copy "
                    "without a password and load that",
                )
            tail = block[-len(ENCRYPTED) :]


def _check_sizes(path: Path, info: zipfile.ZipInfo, limits: LimitsConfig) -> None:
    cap = limits.max_part_mib << 20
    if info.file_size > cap:
        raise _fail(
            path,
            f"workbook part {info.filename} unpacks to {_mib(info.file_size)}; "
            f"limit {limits.max_part_mib:,} MiB (limits.max_part_mib)",
        )
    ratio = info.file_size / max(info.compress_size, 1)
    if info.file_size > (1 << 20) and ratio > limits.max_zip_ratio:
        raise _fail(
            path,
            f"workbook part {info.filename} unpacks {ratio:,.0f} times its "
            f"packed size; limit {limits.max_zip_ratio:,} (limits.max_zip_ratio)",
        )


def _mib(n: int) -> str:
    return f"{n / (1 << 20):,.0f} MiB"


def _col_number(letters: bytes) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ch - 64
    return n


def _area(path: Path, sheet: str, cols: int, rows: int, limits: LimitsConfig, verb: str) -> None:
    if cols * rows > limits.max_cells:
        raise _fail(
            path,
            f"sheet {sheet!r} {verb} {cols:,} × {rows:,} cells; limit "
            f"{limits.max_cells:,} (limits.max_cells)",
        )


def _scan_part(
    path: Path,
    book: zipfile.ZipFile,
    info: zipfile.ZipInfo,
    limits: LimitsConfig,
    sheet: str | None,
) -> None:
    """Stream one part: its real size (a zip may lie about it), the longest text between two
    tags, and for a sheet its declared dimension and the cell references it uses."""
    cap = min(info.file_size, limits.max_part_mib << 20)
    longest_text = limits.max_cell_chars * 6 + 1024  # bytes: CJK in UTF-8, or &amp; escapes
    lo_col = lo_row = 1 << 40
    hi_col = hi_row = 0
    seen, carry, first = 0, b"", True
    with book.open(info) as fh:
        while block := fh.read(STEP):
            seen += len(block)
            if seen > cap:
                raise _fail(
                    path,
                    f"workbook part {info.filename} unpacks to more than its declared {_mib(cap)}",
                )
            data = carry + block
            cut = data.rfind(b"<")
            if cut < 0:
                cut = len(data)
            pieces = data[:cut].split(b"<")
            if max(map(len, pieces)) > longest_text or len(data) - cut > longest_text:
                what = f"sheet {sheet!r}" if sheet else "the shared strings"
                raise _fail(
                    path,
                    f"{what} hold a text longer than {limits.max_cell_chars:,} "
                    "characters (limits.max_cell_chars)",
                )
            if sheet is not None:
                if first and (m := _DIMENSION.search(data[:cut])):
                    _declared(path, sheet, m, limits)
                tags = data[:cut]
                cols = set(re.findall(rb'\sr="([A-Z]+)\d', tags))
                rows = {int(r) for _, r in _CELL_REF.findall(tags)}
                if cols:
                    numbers = [_col_number(c) for c in cols]
                    lo_col, hi_col = min(lo_col, *numbers), max(hi_col, *numbers)
                if rows:
                    lo_row, hi_row = min(lo_row, *rows), max(hi_row, *rows)
                if hi_col and hi_row:
                    _area(path, sheet, hi_col - lo_col + 1, hi_row - lo_row + 1, limits, "uses")
            first = False
            carry = data[cut:]


def _declared(path: Path, sheet: str, m: re.Match[bytes], limits: LimitsConfig) -> None:
    a = _REF.match(m.group(1))
    b = _REF.match(m.group(2) or m.group(1))
    if not a or not b:
        return
    cols = abs(_col_number(b.group(1)) - _col_number(a.group(1))) + 1
    rows = abs(int(b.group(2)) - int(a.group(2))) + 1
    _area(path, sheet, cols, rows, limits, "declares")


def _sheet_names(book: zipfile.ZipFile) -> dict[str, str]:
    """Zip member -> sheet name, from the workbook and its relationships."""
    import xml.etree.ElementTree as ET

    ns = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
    rns = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
    try:
        if (
            max(
                book.getinfo(n).file_size for n in ("xl/workbook.xml", "xl/_rels/workbook.xml.rels")
            )
            > 16 << 20
        ):
            return {}
        wb = ET.fromstring(book.read("xl/workbook.xml"))
        rels = ET.fromstring(book.read("xl/_rels/workbook.xml.rels"))
    except (KeyError, ET.ParseError, zipfile.BadZipFile, OSError, ValueError):
        return {}
    target = {r.get("Id"): r.get("Target", "") for r in rels}
    out: dict[str, str] = {}
    for sh in wb.iter(f"{ns}sheet"):
        t = target.get(sh.get(f"{rns}id"), "").lstrip("/")
        out[t if t.startswith("xl/") else "xl/" + t] = sh.get("name", "")
    return out
