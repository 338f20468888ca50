"""One input file -> raw rows in DuckDB (rules §1, §13 'Loading').

CSV (UTF-8 with or without BOM, else GB18030; ``,`` ``;`` tab ``|``), Excel (.xlsx/.xls via
fastexcel) and the HTML / SpreadsheetML-2003 tables that web DMS exports save as ".xls".
Every sheet with a recognisable header (looked for in the first 20 rows) becomes a
:class:`RawSheet`: a TEMP table of VARCHAR columns ``c0..c{n-1}`` plus ``_line`` and ``_raw``.

Counting: ``read`` comes from our own streaming pass over the file (records = non-blank lines
after the header, a quoted newline continuing a record), independent of DuckDB's reader;
``read == rows in table + len(malformed) + len(totals)`` is checked and a mismatch is an error,
never a silent loss. Empty cells are NULL.

Lines: ``_line`` is the physical 1-based line where a record starts (blank lines and the extra
lines of records with quoted newlines are counted as lines). Files with lone CR line endings
(old Mac or mixed) are rewritten with LF endings first, which also turns a CR inside a quoted
cell into LF. GB18030 files are transcoded to a temporary UTF-8 file that DuckDB reads.
"""

from __future__ import annotations

import codecs
import csv
import io
import os
import re
import subprocess
import tempfile
import uuid
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import polars as pl

from .db import first_row
from .errors import CrmError

CHUNK = 16 << 20  # bytes per streaming step
HEAD_BYTES = 4 << 20  # at most this much is parsed in Python to find header and dialect
HEADER_ROWS = 20
DELIMITERS = (",", ";", "\t", "|")
TOTALS = re.compile(r"\s*(合计|总计|小计)[\s:：]*")
TOTALS_SQL = r"^\s*(合计|总计|小计)[\s:：]*$"
ZIP_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0"
_KEEP = bytes([ord('"'), ord("\n")])
_DROP = bytes(b for b in range(256) if b not in _KEEP)
_ODD_LINE = re.compile(rb'(?m)^(?:"")*"$')  # a line (of the reduced text) with an odd quote count
_BLANK = re.compile(rb"\n(?=[ \t]*\r?\n)")  # in "\n" + text: a blank line starts here

Recognise = Callable[[list[str]], bool]
Progress = Callable[[int, int], None] | None


@dataclass
class RawSheet:
    file: Path
    sheet: str | None
    headers: list[str]
    header_line: int
    table: str
    read: int
    malformed: list[tuple[int, str, str]] = field(default_factory=list)
    totals: list[tuple[int, str]] = field(default_factory=list)
    encoding: str | None = None


def read_file(con: duckdb.DuckDBPyConnection, path: Path, *, recognise: Recognise,
              progress: Progress = None, chunk_size: int = CHUNK) -> list[RawSheet]:
    """Read one CSV / Excel / HTML-or-XML ".xls" file into TEMP tables, one per sheet.

    The kind is decided by content (zip or OLE2 magic -> workbook, leading '<' -> markup),
    not by name; an .xlsx that is not a zip is an error."""
    path = Path(path)
    try:
        size = path.stat().st_size
        with open(path, "rb") as fh:
            head = fh.read(64 << 10)
    except OSError as e:
        raise CrmError(f"cannot read file: {e.strerror or e}", file=str(path)) from None
    if size == 0:
        raise CrmError("file is empty", file=str(path))
    if head.startswith(ZIP_MAGIC) or head.startswith(OLE_MAGIC):
        return _read_workbook(con, path, recognise)
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        raise CrmError("not an Excel workbook (an .xlsx file must be a zip archive)",
                       file=str(path))
    lead = head.lstrip(b"\xef\xbb\xbf \t\r\n")[:20].lower()
    if re.match(rb"<(\?xml|!doctype|html|table|!--|head|body|meta)", lead):
        return _read_markup(con, path, recognise)
    if b"\x00" in head:
        raise CrmError("binary file, not a text export (NUL bytes)", file=str(path))
    return [_read_csv(con, path, recognise, progress, chunk_size, size)]


# --------------------------------------------------------------------------- CSV: the byte pass

class _Scan:
    """Streaming record structure of a UTF-8 CSV with LF or CRLF line ends.

    A line with an odd number of '"' opens or closes a quoted field (the escape is a doubled
    quote), so the lines in between continue one record. Records the blank lines (empty or
    spaces/tabs only, outside quotes) and the multi-line records as (start line, extra lines)."""

    def __init__(self) -> None:
        self.lines = 0
        self.in_quote = False
        self.open_line = 0
        self.blanks: list[int] = []
        self.spans: list[tuple[int, int]] = []
        self.unterminated: int | None = None
        self._tail = b""

    def feed(self, data: bytes) -> None:
        data = self._tail + data
        cut = data.rfind(b"\n") + 1
        self._tail = data[cut:]
        if cut:
            self._block(data[:cut] if cut < len(data) else data)

    def finish(self) -> None:
        if self._tail:
            self._block(self._tail + b"\n")
            self._tail = b""
        if self.in_quote:
            self.unterminated = self.open_line
            self.spans.append((self.open_line, self.lines - self.open_line))
            self.in_quote = False
        if self.spans:  # a blank line inside a quoted field is not a blank line
            inside = {ln for s, k in self.spans for ln in range(s + 1, s + k + 1)}
            self.blanks = [b for b in self.blanks if b not in inside]

    def _block(self, block: bytes) -> None:
        base = self.lines
        if self.in_quote or b'"' in block:
            reduced = block.translate(None, _DROP)
            pos, idx = 0, 0
            for m in _ODD_LINE.finditer(reduced):
                idx += reduced.count(b"\n", pos, m.start())
                pos = m.start()
                ln = base + idx + 1
                if self.in_quote:
                    self.spans.append((self.open_line, ln - self.open_line))
                else:
                    self.open_line = ln
                self.in_quote = not self.in_quote
        pos, idx = 0, 0
        for m in _BLANK.finditer(b"\n" + block):
            idx += block.count(b"\n", pos, m.start())
            pos = m.start()
            self.blanks.append(base + idx + 1)
        self.lines = base + block.count(b"\n")


def _utf8_pass(path: Path, scan: _Scan, progress: Progress, chunk: int, size: int
               ) -> tuple[bool, bool]:
    """Validate UTF-8 over the whole file while scanning it: (valid, needs LF line ends).

    DuckDB reads LF or CR LF files but not a mix, nor lone CRs: those are rewritten."""
    dec = codecs.getincrementaldecoder("utf-8")()
    done, prev_cr, seen_crlf, seen_lf = 0, False, False, False
    with open(path, "rb") as fh:
        while data := fh.read(chunk):
            if b"\x00" in data:
                raise CrmError("binary file, not a text export (NUL bytes)", file=str(path))
            try:
                if not data.isascii():
                    dec.decode(data)
            except UnicodeDecodeError:
                return False, False
            if prev_cr or b"\r" in data:
                crlf = data.count(b"\r\n") + (prev_cr and data.startswith(b"\n"))
                lone = data.count(b"\r") - data.count(b"\r\n") - data.endswith(b"\r")
                bare = data.count(b"\n") - crlf
            else:
                crlf, lone, bare = 0, 0, int(b"\n" in data)
            seen_crlf, seen_lf = seen_crlf or crlf > 0, seen_lf or bare > 0
            if lone > 0 or (prev_cr and not data.startswith(b"\n")) or (seen_crlf and seen_lf):
                return True, True
            prev_cr = data.endswith(b"\r")
            scan.feed(data)
            done += len(data)
            if progress:
                progress(done, size)
    try:
        dec.decode(b"", final=True)
    except UnicodeDecodeError:
        return False, False
    if prev_cr:
        return True, True
    scan.finish()
    return True, False


def _transcode(path: Path, encoding: str, out: io.BufferedWriter, scan: _Scan,
               progress: Progress, chunk: int, size: int) -> bool:
    """Rewrite the file as UTF-8 with LF line ends (CR LF and lone CR -> LF), scanning the
    output. False when the file does not decode."""
    dec = codecs.getincrementaldecoder(encoding)()
    done, carry = 0, ""
    with open(path, "rb") as fh:
        while True:
            data = fh.read(chunk)
            try:
                text = carry + dec.decode(data, final=not data)
            except UnicodeDecodeError:
                return False
            if "\x00" in text:
                raise CrmError("binary file, not a text export (NUL bytes)", file=str(path))
            carry = ""
            if data and text.endswith("\r"):
                text, carry = text[:-1], "\r"
            text = text.replace("\r\n", "\n").replace("\r", "\n")
            if encoding == "utf-8" and done == 0:
                text = text.removeprefix("\ufeff")
            enc = text.encode("utf-8")
            out.write(enc)
            scan.feed(enc)
            done += len(data)
            if progress and data:
                progress(done, size)
            if not data:
                break
    scan.finish()
    return True


# --------------------------------------------------------------------- CSV: header and dialect

def _head_records(text: str, delim: str, complete: bool, limit: int = 45
                  ) -> list[tuple[int, int, list[str]]]:
    """(first line, last line, cells) of the first non-blank records of the head text."""
    if not complete:
        text = text[: text.rfind("\n") + 1]
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delim, quotechar='"')
    out: list[tuple[int, int, list[str]]] = []
    start = 1
    try:
        for cells in reader:
            end = reader.line_num
            if any(c.strip() for c in cells):
                out.append((start, end, cells))
                if len(out) >= limit:
                    break
            start = end + 1
    except csv.Error:
        pass
    return out


def _find_header(text: str, complete: bool, recognise: Recognise, path: Path
                 ) -> tuple[str, int, int, list[str]]:
    """(delimiter, header's first line, header's last line, header cells)."""
    best: tuple[tuple[float, int, int], str, tuple[int, int, list[str]]] | None = None
    first_cells: list[str] = []
    for rank, d in enumerate(DELIMITERS):
        recs = _head_records(text, d, complete)
        if recs and len(recs[0][2]) > len(first_cells):
            first_cells = recs[0][2]
        for i, rec in enumerate(recs[:HEADER_ROWS]):
            if recognise([c.strip() for c in rec[2]]):
                n = len(rec[2])
                after = recs[i + 1: i + 21]
                fit = sum(len(r[2]) == n for r in after) / len(after) if after else 1.0
                score = (fit, n, -rank)
                if best is None or score > best[0]:
                    best = (score, d, rec)
                break
    if best is None:
        if not text.strip():
            raise CrmError("file is empty (only blank lines)", file=str(path))
        shown = " | ".join(c.strip() for c in first_cells)
        shown = shown if len(shown) <= 80 else shown[:77] + "..."
        raise CrmError(f"no recognisable header in the first {HEADER_ROWS} rows "
                       f"(first row: {shown})", file=str(path))
    _, d, (start, end, cells) = best
    return d, start, end, cells


# ----------------------------------------------------------------------------- CSV: the read

def _read_csv(con: duckdb.DuckDBPyConnection, path: Path, recognise: Recognise,
              progress: Progress, chunk: int, size: int) -> RawSheet:
    tmp: str | None = None
    try:
        scan = _Scan()
        valid, lone_cr = _utf8_pass(path, scan, progress, chunk, size)
        with open(path, "rb") as fh:
            bom = fh.read(3) == b"\xef\xbb\xbf"
        encoding = ("utf-8-sig" if bom else "utf-8") if valid else "gb18030"
        source = path
        if not valid and (tmp := _iconv(path)):  # glibc's iconv: ~4x Python's codec
            scan, tsize = _Scan(), os.path.getsize(tmp)
            scaled = (lambda d, _: progress(d * size // tsize, size)) if progress else None
            ok, lone_cr = _utf8_pass(Path(tmp), scan, scaled, chunk, tsize)
            if ok and not lone_cr:
                source = Path(tmp)
            else:  # lone CR line ends: the Python rewrite below also fixes those
                os.unlink(tmp)
                tmp, scan = None, _Scan()
        if source == path and (not valid or lone_cr):
            fd, tmp = tempfile.mkstemp(prefix="crmtool-", suffix=".csv")
            scan = _Scan()
            with os.fdopen(fd, "wb") as out:
                ok = _transcode(path, "utf-8" if valid else "gb18030", out, scan, progress,
                                chunk, size)
            if not ok:
                raise CrmError("cannot decode the file: neither UTF-8 nor GB18030/GBK",
                               file=str(path))
            source = Path(tmp)
        if len(scan.blanks) >= scan.lines:
            raise CrmError("file is empty (only blank lines)", file=str(path))
        with open(source, "rb") as fh:
            raw = fh.read(HEAD_BYTES)
        complete = len(raw) < HEAD_BYTES
        text = raw.decode("utf-8", errors="ignore").removeprefix("\ufeff")
        delim, h_start, h_end, cells = _find_header(text, complete, recognise, path)
        headers = [c.strip() for c in cells]
        return _duck_csv(con, path, source, scan, delim, headers, h_start, h_end, encoding)
    finally:
        if tmp:
            try:
                os.unlink(tmp)
            except OSError:
                pass


def _iconv(path: Path) -> str | None:
    """The GB18030 file as a temporary UTF-8 file through `iconv` (None: no iconv, or it
    failed; the caller then transcodes in Python, which also names a decoding error)."""
    fd, tmp = tempfile.mkstemp(prefix="crmtool-", suffix=".csv")
    try:
        with os.fdopen(fd, "wb") as out:
            done = subprocess.run(["iconv", "-f", "GB18030", "-t", "UTF-8", str(path)],
                                  stdout=out, stderr=subprocess.DEVNULL, check=False)
        if done.returncode == 0:
            return tmp
    except OSError:
        pass
    os.unlink(tmp)
    return None


def _sql_str(s: str) -> str:
    return "'" + s.replace("'", "''") + "'"


def _create(con: duckdb.DuckDBPyConnection, name: str, n: int, delim: str) -> None:
    """TEMP table c0..c{n-1}, _line and a virtual _raw (the cells joined by the delimiter)."""
    cols = ", ".join(f"c{i} VARCHAR" for i in range(n))
    raw = ", ".join(f"coalesce(c{i}, '')" for i in range(n))
    con.execute(f"CREATE TEMP TABLE {name} ({cols}, _line BIGINT, _raw VARCHAR GENERATED "
                f"ALWAYS AS (concat_ws({_sql_str(delim)}, {raw})) VIRTUAL)")


def _lines_table(con: duckdb.DuckDBPyConnection, name: str, first: int, last: int,
                 excluded: list[int]) -> str:
    """TEMP table (ord, l): the lines first..last without `excluded`, numbered from 0."""
    if not excluded:
        con.execute(f"CREATE TEMP VIEW {name} AS SELECT range - {first} AS ord, range AS l "
                    f"FROM range({first}, {last + 1})")
        return f"DROP VIEW {name}"
    con.execute(f"CREATE TEMP TABLE {name}_x (l BIGINT)")
    if excluded:
        frame = pl.DataFrame({"l": sorted(set(excluded))}, schema={"l": pl.Int64})
        con.register(f"{name}_xv", frame)
        con.execute(f"INSERT INTO {name}_x SELECT l FROM {name}_xv")
        con.unregister(f"{name}_xv")
    con.execute(f"CREATE TEMP TABLE {name} AS SELECT row_number() OVER (ORDER BY range) - 1 "
                f"AS ord, range AS l FROM range({first}, {last + 1}) "
                f"WHERE range NOT IN (SELECT l FROM {name}_x) ORDER BY range")
    con.execute(f"DROP TABLE {name}_x")
    return f"DROP TABLE {name}"


def _duck_csv(con: duckdb.DuckDBPyConnection, path: Path, source: Path, scan: _Scan,
              delim: str, headers: list[str], h_start: int, h_end: int,
              encoding: str) -> RawSheet:
    n = len(headers)
    name = f"raw_{uuid.uuid4().hex[:12]}"
    rj, rs, lines = f"{name}_rj", f"{name}_rs", f"{name}_ln"
    cont = [ln for s, k in scan.spans if s > h_end for ln in range(s + 1, s + k + 1)]
    blanks = [b for b in scan.blanks if b > h_end]
    # record starts (with blank lines when DuckDB returns them as rows: one column)
    drop = _lines_table(con, lines, h_end + 1, scan.lines, cont + (blanks if n > 1 else []))
    read = scan.lines - h_end - len(cont) - len(blanks)
    columns = "{" + ", ".join(f"'c{i}': 'VARCHAR'" for i in range(n)) + "}"
    longest = max([k for _, k in scan.spans] + [0])
    cols = ", ".join(f"r.c{i}" for i in range(n))
    _create(con, name, n, delim)
    try:
        con.execute(
            f"INSERT INTO {name} ({', '.join(f'c{i}' for i in range(n))}, _line) "
            f"SELECT {cols}, x.l FROM (SELECT true AS _k, * FROM "
            f"read_csv({_sql_str(str(source))}, delim={_sql_str(delim)}, "
            f"quote='\"', escape='\"', header=false, skip={h_end}, columns={columns}, "
            f"auto_detect=false, store_rejects=true, rejects_table='{rj}', "
            f"rejects_scan='{rs}', max_line_size={max(64 << 20, longest)}, "
            f"buffer_size={max(128 << 20, 2 * longest)})) r "
            f"POSITIONAL JOIN (SELECT l FROM {lines} ORDER BY ord) x WHERE r._k")
        rejects = con.execute(
            f"SELECT line, any_value(error_type)::VARCHAR, any_value(csv_line), "
            f"any_value(error_message) FROM {rj} GROUP BY line ORDER BY line").fetchall()
    except duckdb.Error as e:
        con.execute(f"DROP TABLE IF EXISTS {name}")
        if isinstance(e, duckdb.InterruptException):  # Ctrl-C inside the read
            raise KeyboardInterrupt from None
        raise CrmError(f"cannot read as CSV: {str(e).splitlines()[0]}", file=str(path)) from None
    finally:
        con.execute(f"DROP TABLE IF EXISTS {rj}")
        con.execute(f"DROP TABLE IF EXISTS {rs}")
    blankset = set(blanks)
    malformed: list[tuple[int, str, str]] = []
    for logical, etype, text, message in rejects:
        line = _physical(scan.spans, int(logical))
        if line in blankset:
            continue
        if scan.unterminated is not None and line == scan.unterminated:
            reason = "unbalanced quote (the quoted field runs to the end of the file)"
        elif etype in ("MISSING COLUMNS", "TOO MANY COLUMNS"):
            found = re.search(r"Found: (\d+)", message or "")
            reason = f"wrong number of fields: expected {n}" + (
                f", found {found.group(1)}" if found else "")
        elif etype == "UNQUOTED VALUE":
            reason = "unbalanced quote"
        else:
            reason = (message or str(etype)).splitlines()[0]
        malformed.append((line, (text or "").strip("\r\n"), reason))
    if malformed:  # realign _line: the rows are the record starts without the rejected ones
        con.execute(drop)
        drop = _lines_table(con, lines, h_end + 1, scan.lines,
                     cont + (blanks if n > 1 else []) + [m[0] for m in malformed])
        con.execute(f"UPDATE {name} SET _line = x.l FROM {lines} x WHERE {name}.rowid = x.ord")
    con.execute(drop)
    if n == 1 and blanks:
        con.execute(f"DELETE FROM {name} WHERE _line IN ({', '.join(map(str, blanks))})")
    totals = _drop_totals(con, name, n)
    rows = first_row(con, f"SELECT count(*) FROM {name}")[0]
    if rows + len(malformed) + len(totals) != read:
        con.execute(f"DROP TABLE IF EXISTS {name}")
        raise CrmError(f"records do not add up: counted {read}, read {rows} rows, "
                       f"{len(malformed)} malformed, {len(totals)} totals", file=str(path))
    return RawSheet(path, None, headers, h_start, name, read, malformed, totals, encoding)


def _physical(spans: list[tuple[int, int]], logical: int) -> int:
    """DuckDB numbers a multi-line record as one line; convert to the physical line."""
    extra = 0
    for start, k in spans:
        if start - extra >= logical:
            break
        extra += k
    return logical + extra


def _drop_totals(con: duckdb.DuckDBPyConnection, name: str, n: int) -> list[tuple[int, str]]:
    first = "coalesce(" + ", ".join(f"nullif(trim(c{i}), '')" for i in range(min(n, 3))) + ")"
    hint = " OR ".join(f"contains(c{i}, '计')" for i in range(min(n, 3)))
    cond = f"({hint}) AND regexp_matches({first}, {_sql_str(TOTALS_SQL)})"
    totals = con.execute(f"SELECT _line, _raw FROM {name} WHERE {cond} ORDER BY _line").fetchall()
    if totals:
        con.execute(f"DELETE FROM {name} WHERE {cond}")
    return [(int(a), b) for a, b in totals]


# ------------------------------------------------------------------ workbooks and markup tables

def _sheet_from_rows(con: duckdb.DuckDBPyConnection, path: Path, sheet: str | None,
                     frame: pl.DataFrame, lines: list[int], recognise: Recognise
                     ) -> RawSheet | None:
    """A sheet's cells (all strings) and each row's line number -> RawSheet, or None when no
    header is found in its first 20 rows. Empty rows are blank lines (not counted)."""
    width = frame.width
    if width == 0 or frame.height == 0:
        return None
    frame = frame.rename({c: f"c{i}" for i, c in enumerate(frame.columns)})
    frame = frame.with_columns(pl.all().str.strip_chars()).with_columns(
        pl.when(pl.all() == "").then(None).otherwise(pl.all()).name.keep())
    frame = frame.with_columns(pl.Series("_line", lines, dtype=pl.Int64))
    cells = [f"c{i}" for i in range(width)]
    frame = frame.filter(~pl.all_horizontal(pl.col(cells).is_null()))
    top = frame.head(HEADER_ROWS)
    hdr = None
    for i, row in enumerate(top.select(cells).rows()):
        if recognise([c or "" for c in row]):
            hdr = i
            break
    if hdr is None:
        return None
    header_line = int(top["_line"][hdr])
    header = [c or "" for c in top.select(cells).row(hdr)]
    data = frame.slice(hdr + 1)
    used = [i for i in range(width) if data[f"c{i}"].null_count() < data.height]
    n = max([len(header) - len(list(_trailing_empty(header)))] + [i + 1 for i in used] + [1])
    headers = header[:n]
    data = data.select([f"c{i}" for i in range(n)] + ["_line"])
    first = pl.coalesce([pl.col(f"c{i}") for i in range(min(n, 3))])
    is_total = first.str.contains(TOTALS_SQL).fill_null(False)
    raw = pl.concat_str([pl.col(f"c{i}").fill_null("") for i in range(n)], separator=",")
    tot = data.filter(is_total).select("_line", raw.alias("_raw"))
    data = data.filter(~is_total)
    name = f"raw_{uuid.uuid4().hex[:12]}"
    _create(con, name, n, ",")
    view = f"{name}_v"
    con.register(view, data)
    try:
        con.execute(f"INSERT INTO {name} ({', '.join(f'c{i}' for i in range(n))}, _line) "
                    f"SELECT * FROM {view}")
    finally:
        con.unregister(view)
    totals = [(int(a), b) for a, b in tot.rows()]
    return RawSheet(path, sheet, headers, header_line, name, data.height + len(totals), [],
                    totals, None)


def _trailing_empty(cells: list[str]) -> Iterator[str]:
    for c in reversed(cells):
        if c:
            return
        yield c


def _read_workbook(con: duckdb.DuckDBPyConnection, path: Path, recognise: Recognise
                   ) -> list[RawSheet]:
    import fastexcel

    try:
        book = fastexcel.read_excel(str(path))
        names = list(book.sheet_names)
    except Exception as e:  # noqa: BLE001 - any reader failure is a bad workbook
        raise CrmError(f"not a readable Excel workbook: {str(e).splitlines()[0][:120]}",
                       file=str(path)) from None
    offsets = _xlsx_first_rows(path)
    out: list[RawSheet] = []
    for sheet in names:
        try:
            frame = book.load_sheet(sheet, header_row=None, dtypes="string").to_polars()
        except Exception as e:  # noqa: BLE001
            raise CrmError(f"cannot read sheet {sheet!r}: {str(e).splitlines()[0][:120]}",
                           file=str(path)) from None
        if frame.width == 0:
            continue
        frame = frame.with_columns(pl.all().cast(pl.String).str.replace(
            r"^(\d{4}-\d{2}-\d{2})[ T]00:00:00(\.0+)?$", "$1"))
        start = offsets.get(sheet, 1)
        got = _sheet_from_rows(con, path, sheet, frame,
                               list(range(start, start + frame.height)), recognise)
        if got:
            out.append(got)
    if not out:
        raise CrmError(f"no sheet has a recognisable header in its first {HEADER_ROWS} rows "
                       f"(sheets: {', '.join(names)[:80]})", file=str(path))
    return out


def _xlsx_first_rows(path: Path) -> dict[str, int]:
    """Sheet name -> Excel row number of its first row with a value (fastexcel's frames start
    there). Empty for files that are not .xlsx zips (then row 1 is assumed)."""
    import xml.etree.ElementTree as ET

    out: dict[str, int] = {}
    try:
        with zipfile.ZipFile(path) as z:
            ns = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
            rns = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
            book = ET.fromstring(z.read("xl/workbook.xml"))
            rels = ET.fromstring(z.read("xl/_rels/workbook.xml.rels"))
            target = {r.get("Id"): r.get("Target", "") for r in rels}
            for sh in book.iter(f"{ns}sheet"):
                t = target.get(sh.get(f"{rns}id"), "").lstrip("/")
                member = t if t.startswith("xl/") else "xl/" + t
                with z.open(member) as fh:
                    for _, el in ET.iterparse(fh):
                        if el.tag == f"{ns}c" and (el.find(f"{ns}v") is not None
                                                   or el.find(f"{ns}is") is not None):
                            ref = el.get("r", "")
                            digits = re.sub(r"[A-Z]", "", ref)
                            if digits:
                                out[sh.get("name", "")] = int(digits)
                            break
    except (KeyError, zipfile.BadZipFile, ET.ParseError, OSError):
        return out
    return out


def _read_markup(con: duckdb.DuckDBPyConnection, path: Path, recognise: Recognise
                 ) -> list[RawSheet]:
    """HTML <table>s or SpreadsheetML 2003 worksheets saved as ".xls"."""
    data = path.read_bytes()
    text = _decode_markup(data, path)
    body = text.lstrip("\ufeff \t\r\n")
    if body[:5].lower() == "<?xml" and "urn:schemas-microsoft-com:office:spreadsheet" in body:
        tables = _spreadsheetml(body, path)
    else:
        parser = _Tables()
        parser.feed(text)
        parser.close()
        tables = [(None, t) for t in parser.tables]
    out: list[RawSheet] = []
    for i, (sheet, rows) in enumerate(tables):
        if not rows:
            continue
        width = max(len(r) for _, r in rows)
        if width == 0:
            continue
        cols = {f"c{j}": [r[j] if j < len(r) else None for _, r in rows] for j in range(width)}
        frame = pl.DataFrame(cols, schema={c: pl.String for c in cols})
        got = _sheet_from_rows(con, path, sheet or f"table {i + 1}", frame,
                               [ln for ln, _ in rows], recognise)
        if got:
            out.append(got)
    if not out:
        raise CrmError(f"no table with a recognisable header in its first {HEADER_ROWS} rows",
                       file=str(path))
    return out


def _decode_markup(data: bytes, path: Path) -> str:
    m = re.search(rb"""(?:charset|encoding)\s*=\s*["']?([A-Za-z0-9_-]+)""", data[:4096], re.I)
    declared = m.group(1).decode().lower() if m else ""
    order = ["gb18030", "utf-8"] if declared in ("gbk", "gb2312", "gb18030", "cp936") \
        else ["utf-8-sig", "gb18030"]
    for enc in order:
        try:
            return data.decode(enc)
        except UnicodeDecodeError:
            continue
    raise CrmError("cannot decode the file: neither UTF-8 nor GB18030/GBK", file=str(path))


class _Tables:
    """Collects <table> rows (<tr>) of <td>/<th> cell texts; row line = ordinal of <tr>."""

    def __init__(self) -> None:
        from html.parser import HTMLParser

        outer = self
        self.tables: list[list[tuple[int, list[str]]]] = []
        self._stack: list[list[tuple[int, list[str]]]] = []
        self._row: list[str] | None = None
        self._cell: list[str] | None = None

        class P(HTMLParser):
            def handle_starttag(self, tag: str, attrs: list) -> None:
                outer._start(tag)

            def handle_endtag(self, tag: str) -> None:
                outer._end(tag)

            def handle_data(self, data: str) -> None:
                if outer._cell is not None:
                    outer._cell.append(data)

        self._p = P(convert_charrefs=True)

    def feed(self, text: str) -> None:
        self._p.feed(text)

    def close(self) -> None:
        self._p.close()
        while self._stack:
            self._end("table")

    def _start(self, tag: str) -> None:
        if tag == "table":
            self._stack.append([])
        elif tag == "tr" and self._stack:
            self._close_row()
            self._row = []
        elif tag in ("td", "th") and self._stack:
            self._close_cell()
            if self._row is None:
                self._row = []
            self._cell = []
        elif tag == "br" and self._cell is not None:
            self._cell.append("\n")

    def _end(self, tag: str) -> None:
        if tag in ("td", "th"):
            self._close_cell()
        elif tag == "tr":
            self._close_row()
        elif tag == "table" and self._stack:
            self._close_row()
            self.tables.append(self._stack.pop())

    def _close_cell(self) -> None:
        if self._cell is not None and self._row is not None:
            self._row.append("".join(self._cell).strip())
        self._cell = None

    def _close_row(self) -> None:
        self._close_cell()
        if self._row is not None and self._stack:
            table = self._stack[-1]
            table.append((len(table) + 1, self._row))
        self._row = None


def _spreadsheetml(text: str, path: Path) -> list[tuple[str | None, list[tuple[int, list[str]]]]]:
    import xml.etree.ElementTree as ET

    ns = "{urn:schemas-microsoft-com:office:spreadsheet}"
    text = re.sub(r"^\s*<\?xml[^>]*\?>", "", text.lstrip("\ufeff"))
    try:
        root = ET.fromstring(text)
    except ET.ParseError as e:
        raise CrmError(f"not a readable XML spreadsheet: {e}", file=str(path)) from None
    out: list[tuple[str | None, list[tuple[int, list[str]]]]] = []
    for ws in root.iter(f"{ns}Worksheet"):
        rows: list[tuple[int, list[str]]] = []
        r = 0
        for row in ws.iter(f"{ns}Row"):
            r = int(row.get(f"{ns}Index", r + 1))
            cells: list[str] = []
            for cell in row.findall(f"{ns}Cell"):
                idx = int(cell.get(f"{ns}Index", len(cells) + 1))
                cells.extend([""] * (idx - 1 - len(cells)))
                d = cell.find(f"{ns}Data")
                cells.append(_xml_value(d) if d is not None else "")
            rows.append((r, cells))
        out.append((ws.get(f"{ns}Name"), rows))
    return out


def _xml_value(d: object) -> str:
    text = ("".join(d.itertext()) if hasattr(d, "itertext") else "").strip()  # type: ignore[attr-defined]
    kind = d.get("{urn:schemas-microsoft-com:office:spreadsheet}Type")  # type: ignore[attr-defined]
    if kind == "DateTime":
        m = re.match(r"(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2}:\d{2})", text)
        if m:
            return m.group(1) if m.group(2) == "00:00:00" else f"{m.group(1)} {m.group(2)}"
    if kind == "Number":
        try:
            f = float(text)
        except ValueError:
            return text
        if f.is_integer() and abs(f) < 1e16:
            return str(int(f))
        return format(f, "f").rstrip("0").rstrip(".") if "e" in repr(f) else repr(f)
    return text
