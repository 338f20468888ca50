"""One input file -> raw rows in DuckDB (docs/rules.md §1 "Loading", §17 "Loading").

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
import re
import subprocess
import uuid
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb
import polars as pl

from ..config import LimitsConfig
from ..db import first_row
from ..errors import CrmError
from ..sqltext import literal
from . import html_tables, scratch, workbook_guard

if TYPE_CHECKING:
    from xml.etree.ElementTree import Element

CHUNK = 16 << 20  # bytes per streaming step
HEAD_BYTES = 4 << 20  # at most this much is parsed in Python to find header and dialect
HEADER_ROWS = 20
DELIMITERS = (",", ";", "\t", "|")
TOTALS = re.compile(r"\s*(合计|总计|小计)[\s:：]*")
TOTALS_SQL = r"^\s*(合计|总计|小计)[\s:：]*$"
ZIP_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0"
UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
REPEATED_HEADER = "repeated header row"
NO_HEADER = "no header"
_KEEP = bytes([ord('"'), ord("\n")])
_DROP = bytes(b for b in range(256) if b not in _KEEP)
_ODD_LINE = re.compile(rb'(?m)^(?:"")*"$')  # a line (of the reduced text) with an odd quote count
_BLANK = re.compile(rb"\n(?=[ \t]*\r?\n)")  # in "\n" + text: a blank line starts here
_BLANK_START = (b"\n", b" ", b"\t", b"\r")  # the first byte of every blank line
RAW_HEAD = 200  # characters of an over-long line kept as its reject's raw text

Recognise = Callable[[list[str]], bool]
Progress = Callable[[int, int], None] | None


class Unrecognised(CrmError):
    """The file is not an export crmtool can read at all (empty, binary, undecodable, not a
    workbook, no recognisable header): a folder load skips it with a warning (docs/rules.md §17 "Loading")."""


class NoHeader(Unrecognised):
    """No row of the first 20 is a recognisable header."""


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
    repeated: list[tuple[int, str]] = field(default_factory=list)  # header rows met again


@dataclass
class Unread:
    """A sheet (or text file) with data but no recognisable header: every non-blank row is
    a reject (docs/rules.md §17 "Loading": `read N = rejected N: no header`). ``table`` holds (_line, _raw)."""

    file: Path
    sheet: str | None
    read: int
    table: str
    message: str  # the one-line error (without the file) when the file was named explicitly
    reason: str = NO_HEADER


def read_file(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    *,
    recognise: Recognise,
    progress: Progress = None,
    chunk_size: int = CHUNK,
    limits: LimitsConfig | None = None,
    work: Path | None = None,
    strict: bool = True,
) -> list[RawSheet | Unread]:
    """Read one CSV / Excel / HTML-or-XML ".xls" file into TEMP tables, one per sheet.

    The kind is decided by content (zip or OLE2 magic -> workbook, leading '<' -> markup,
    a UTF-16 BOM -> Excel's "Unicode text"), not by name; an .xlsx that is not a zip is an
    error. A sheet without a recognisable header is an error when `strict` (the file was
    named explicitly), else an :class:`Unread`. Temporary copies go to `work` (a private
    folder, see crmtool.load.scratch); without one, a work folder beside the database is used."""
    path = Path(path)
    limits = limits or LimitsConfig()
    if work is None:
        with scratch.workdir(scratch.database_folder(con)) as w:
            return read_file(
                con,
                path,
                recognise=recognise,
                progress=progress,
                chunk_size=chunk_size,
                limits=limits,
                work=w,
                strict=strict,
            )
    try:
        size = path.stat().st_size
        with open(path, "rb") as fh:
            head = fh.read(64 << 10)
    except OSError as e:
        raise CrmError(f"cannot read file: {e.strerror or e}", file=str(path)) from None
    if size == 0:
        raise Unrecognised("file is empty", file=str(path))
    if head.startswith(ZIP_MAGIC) or head.startswith(OLE_MAGIC):
        return _read_workbook(con, path, recognise, limits, strict)
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        raise Unrecognised(
            "not an Excel workbook (an .xlsx file must be a zip archive)", file=str(path)
        )
    if head.startswith(UTF16_BOMS):  # Excel's "Unicode text": UTF-16, tab-separated
        return [
            _read_csv(
                con,
                path,
                recognise,
                progress,
                chunk_size,
                size,
                limits,
                work,
                strict,
                forced="utf-16",
            )
        ]
    lead = head.lstrip(b"\xef\xbb\xbf \t\r\n")[:20].lower()
    if re.match(rb"<(\?xml|!doctype|html|table|!--|head|body|meta)", lead):
        return _read_markup(con, path, recognise, limits, strict)
    if b"\x00" in head:
        raise Unrecognised("binary file, not a text export (NUL bytes)", file=str(path))
    return [_read_csv(con, path, recognise, progress, chunk_size, size, limits, work, strict)]


# --------------------------------------------------------------------------- CSV: the byte pass


class _Scan:
    """Streaming record structure of a UTF-8 CSV with LF or CRLF line ends.

    A line with an odd number of '"' opens or closes a quoted field (the escape is a doubled
    quote), so the lines in between continue one record. Records the blank lines (empty or
    spaces/tabs only, outside quotes) and the multi-line records as (start line, extra lines).
    A line longer than `max_line` bytes is never held in memory: it is recorded in `long`
    with its first bytes and ends any quoted field. This fast pass assumes a quote opens a
    field; :func:`_precise_scan` is the exact one (stray quotes inside unquoted fields)."""

    def __init__(self, max_line: int = 1 << 62) -> None:
        self.lines = 0
        self.in_quote = False
        self.open_line = 0
        self.blanks: list[int] = []
        self.spans: list[tuple[int, int]] = []
        self.long: list[tuple[int, bytes]] = []
        self.unterminated: int | None = None
        self.max_line = max_line
        self._tail = b""
        self._skipping = False

    def feed(self, data: bytes) -> None:
        if self._skipping:  # inside an over-long line: drop bytes up to its end
            nl = data.find(b"\n")
            if nl < 0:
                return
            self._skipping = False
            self.lines += 1
            data = data[nl + 1 :]
        data = self._tail + data
        cut = data.rfind(b"\n") + 1
        self._tail = data[cut:]
        if cut:
            self._block(data[:cut] if cut < len(data) else data)
        if len(self._tail) > self.max_line:
            self._long_line(self._tail)
            self._tail = b""
            self._skipping = True

    def finish(self) -> None:
        if self._skipping:
            self._skipping = False
            self.lines += 1
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

    def _long_line(self, start: bytes) -> None:
        """An over-long line begins (line number self.lines + 1): a record of its own."""
        if self.in_quote:  # it ends the quoted field that was open
            self.spans.append((self.open_line, self.lines - self.open_line))
            self.in_quote = False
        self.long.append((self.lines + 1, start[: RAW_HEAD * 4]))

    def _block(self, block: bytes) -> None:
        if len(block) > self.max_line + 1 and self._maybe_long(block):
            lengths = list(map(len, block.split(b"\n")))
            if max(lengths) > self.max_line:  # cut around the over-long complete lines
                pos = 0
                for n in lengths[:-1]:
                    if n > self.max_line:
                        self._plain(block[:pos])
                        self._long_line(block[pos : pos + n])
                        self.lines += 1
                        self._block(block[pos + n + 1 :])
                        return
                    pos += n + 1
        self._plain(block)

    def _maybe_long(self, block: bytes) -> bool:
        """A line longer than max_line covers a whole aligned window of half that size: a few
        `find` calls rule long lines out before splitting the block."""
        w = max(self.max_line // 2, 1)
        return any(block.find(b"\n", k, k + w) < 0 for k in range(0, len(block) - w + 1, w))

    def _plain(self, block: bytes) -> None:
        if not block:
            return
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
        if block[:1] in _BLANK_START or any(b"\n" + c in block for c in _BLANK_START):
            self._blanks(block, base)
        self.lines = base + block.count(b"\n")

    def _blanks(self, block: bytes, base: int) -> None:
        pos, idx = 0, 0
        for m in _BLANK.finditer(b"\n" + block):
            idx += block.count(b"\n", pos, m.start())
            pos = m.start()
            self.blanks.append(base + idx + 1)


def _line_ends_quoted(line: bytes, delim: int, inside: bool) -> bool:
    """Whether a record is inside a quoted field after this line, read as DuckDB reads it: a
    quote opens a field only at its start (after spaces), a quote inside an unquoted field is
    data, a closing quote followed by anything but a delimiter ends the record (rejected)."""
    i, n, start = 0, len(line), not inside
    while i < n:
        if inside:
            j = line.find(b'"', i)
            if j < 0:
                return True
            if line[j + 1 : j + 2] == b'"':
                i = j + 2
                continue
            if j + 1 < n and line[j + 1] == delim:
                inside, start, i = False, True, j + 2
                continue
            return False  # end of line, or "unquoted value": the record ends here
        k = i
        if start:
            while k < n and line[k] == 32:
                k += 1
            if k < n and line[k] == 34:
                inside, i = True, k + 1
                continue
        j = line.find(bytes([delim]), k)
        if j < 0:
            return False
        i, start = j + 1, True
    return inside


def _precise_scan(source: Path, delim: str, max_line: int) -> _Scan:
    """The record structure line by line with the delimiter known (see _line_ends_quoted);
    slower than _Scan's pass, used when that pass and DuckDB disagree."""
    scan = _Scan(max_line)
    d = ord(delim)
    with open(source, "rb") as fh:
        while True:
            line = fh.readline(max_line + 2)
            if not line:
                break
            if len(line.rstrip(b"\r\n")) > max_line:
                scan._long_line(line)
                while line and not line.endswith(b"\n"):
                    line = fh.readline(1 << 20)
                scan.lines += 1
                continue
            scan.lines += 1
            ln = scan.lines
            if not scan.in_quote and not line.strip(b" \t\r\n"):
                scan.blanks.append(ln)
                continue
            was = scan.in_quote
            now = _line_ends_quoted(line.rstrip(b"\r\n"), d, was)
            if now and not was:
                scan.open_line = ln
            elif was and not now:
                scan.spans.append((scan.open_line, ln - scan.open_line))
            scan.in_quote = now
    scan.finish()
    return scan


def _utf8_pass(
    path: Path, scan: _Scan, progress: Progress, chunk: int, size: int, *, full: bool = True
) -> tuple[bool, bool]:
    """Validate UTF-8 while scanning the file: (valid, needs LF line ends).

    DuckDB reads LF or CR LF files but not a mix, nor lone CRs: those are rewritten.
    Without `full`, only the head (HEAD_BYTES, where the header is looked for) is decoded
    here: DuckDB's reader checks the encoding of every row it reads (an INVALID ENCODING
    reject), and _read_csv validates the whole file here when the read was not clean."""
    dec = codecs.getincrementaldecoder("utf-8")()
    done, prev_cr, seen_crlf, seen_lf, partial = 0, False, False, False, False
    with open(path, "rb") as fh:
        while data := fh.read(chunk):
            if b"\x00" in data:
                raise Unrecognised("binary file, not a text export (NUL bytes)", file=str(path))
            try:
                if not (full or done < HEAD_BYTES):
                    partial = True
                elif not data.isascii():
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
        if not partial:
            dec.decode(b"", final=True)
    except UnicodeDecodeError:
        return False, False
    if prev_cr:
        return True, True
    scan.finish()
    return True, False


def _transcode(
    path: Path,
    encoding: str,
    out: io.BufferedWriter,
    scan: _Scan,
    progress: Progress,
    chunk: int,
    size: int,
) -> bool:
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
                raise Unrecognised("binary file, not a text export (NUL bytes)", file=str(path))
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


def _head_records(
    text: str, delim: str, complete: bool, limit: int = 45
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


def _find_header(
    text: str, complete: bool, recognise: Recognise, path: Path
) -> tuple[str, int, int, list[str]]:
    """(delimiter, header's first line, header's last line, header cells)."""
    best: tuple[tuple[float, int, int], str, tuple[int, int, list[str]]] | None = None
    first_cells: list[str] = []
    for rank, d in enumerate(DELIMITERS):
        recs = _head_records(text, d, complete)
        if recs and len(recs[0][2]) > len(first_cells):
            first_cells = recs[0][2]
        for i, rec in enumerate(recs[:HEADER_ROWS]):
            header, used = _header_at(
                [[c.strip() for c in r[2]] for r in recs[i : i + 2]], recognise
            )
            if header is not None:
                n = len(rec[2])
                after = recs[i + used : i + used + 20]
                fit = sum(len(r[2]) == n for r in after) / len(after) if after else 1.0
                score = (fit, n, -rank)
                if best is None or score > best[0]:
                    best = (score, d, (rec[0], recs[i + used - 1][1], header))
                break
    if best is None:
        if not text.strip():
            raise Unrecognised("file is empty (only blank lines)", file=str(path))
        shown = " | ".join(c.strip() for c in first_cells)
        shown = shown if len(shown) <= 80 else shown[:77] + "..."
        raise NoHeader(
            f"no recognisable header in the first {HEADER_ROWS} rows (first row: {shown})",
            file=str(path),
        )
    _, d, (start, end, cells) = best
    return d, start, end, cells


def _header_at(rows: list[list[str]], recognise: Recognise) -> tuple[list[str] | None, int]:
    """(header, rows it takes) when rows[0] starts a header: one row, or two when rows[1]
    names the fields under a group of rows[0] (see _merge_header); (None, 0) otherwise."""
    merged = _merge_header(rows[0], rows[1]) if len(rows) > 1 else None
    if merged is not None and recognise(merged):
        return merged, 2
    if recognise(rows[0]):
        return rows[0], 1
    return None, 0


_NUMBERISH = re.compile(r"[\d\s.,:/+\-]*")


def _merge_header(top: list[str], below: list[str]) -> list[str] | None:
    """A two-row merged header (common in Chinese exports): a group cell over several field
    cells (费用 over 工时费 | 材料费) and the other headers merged down (empty below). The
    field row names the columns under a group; elsewhere the top row does. None when `below`
    is not such a row: it has a cell under a single (ungrouped) header, a number, or no
    cell under a group."""
    width = max(len(top), len(below))
    top = top + [""] * (width - len(top))
    below = below + [""] * (width - len(below))
    below = ["" if b == t else b for b, t in zip(below, top, strict=True)]  # a rowspan's copy
    if not any(below) or any(_NUMBERISH.fullmatch(c) for c in below if c):
        return None
    starts = [i for i, t in enumerate(top) if t] + [width]
    grouped = False
    for a, b in zip(starts, starts[1:], strict=False):
        if b - a == 1 and below[a]:
            return None  # a value under a single header: a data row
        if b - a > 1 and any(below[a:b]):
            grouped = True
    if not grouped or all(below[i] or not top[i] for i in range(width)):
        return None  # no header merged down: `below` is a header of its own
    return [below[i] or top[i] for i in range(width)]


# ----------------------------------------------------------------------------- CSV: the read


def _read_csv(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    recognise: Recognise,
    progress: Progress,
    chunk: int,
    size: int,
    limits: LimitsConfig,
    work: Path,
    strict: bool,
    forced: str | None = None,
    exact: bool = False,
) -> RawSheet | Unread:
    """One text file -> RawSheet (or Unread). Unless `exact`, UTF-8 is validated in Python
    over the head only (the rest by DuckDB's reader, see _utf8_pass); a read that is not
    clean (any malformed row, over-long line, no header, a recount) then validates the
    whole file, and a file that turns out not to be UTF-8 is read again, exactly."""
    max_line = limits.max_line_mib << 20
    scan = _Scan(max_line)
    again = (con, path, recognise, progress, chunk, size, limits, work, strict, forced, True)
    trusted = True
    if forced:  # UTF-16: always rewritten as UTF-8
        valid, lone_cr, encoding = False, False, forced
    else:
        valid, lone_cr = _utf8_pass(path, scan, progress, chunk, size, full=exact)
        trusted = exact or size <= HEAD_BYTES  # every byte decoded by Python above
        with open(path, "rb") as fh:
            bom = fh.read(3) == b"\xef\xbb\xbf"
        encoding = ("utf-8-sig" if bom else "utf-8") if valid else "gb18030"
    source = path
    if not valid and not forced and (tmp := _iconv(path, work)):  # glibc's iconv: ~4x Python's
        scan, tsize = _Scan(max_line), tmp.stat().st_size
        scaled = (lambda d, _: progress(d * size // tsize, size)) if progress else None
        ok, lone_cr = _utf8_pass(tmp, scan, scaled, chunk, tsize, full=False)  # iconv's
        if ok and not lone_cr:
            source = tmp
        else:  # lone CR line ends: the Python rewrite below also fixes those
            tmp.unlink()
            scan = _Scan(max_line)
    if source == path and (not valid or lone_cr):
        tmp = _temp(work)
        scan = _Scan(max_line)
        with open(tmp, "wb") as out:
            ok = _transcode(path, "utf-8" if valid else encoding, out, scan, progress, chunk, size)
        if not ok and valid and not exact:  # not UTF-8 after the head: decide exactly
            tmp.unlink()
            return _read_csv(*again)
        if not ok:
            raise Unrecognised(
                f"cannot decode the file: neither UTF-8 nor "
                f"{'UTF-16' if forced else 'GB18030/GBK'}",
                file=str(path),
            )
        source = tmp
    if len(scan.blanks) >= scan.lines:
        raise Unrecognised("file is empty (only blank lines)", file=str(path))
    if scan.long:  # DuckDB reads a copy where the over-long lines are blank
        source = _blank_lines(source, {ln for ln, _ in scan.long}, work, chunk)
    with open(source, "rb") as fh:
        raw = fh.read(HEAD_BYTES)
    complete = len(raw) < HEAD_BYTES
    text = raw.decode("utf-8", errors="ignore").removeprefix("\ufeff")
    unsure = not forced and valid and source == path and not trusted
    try:
        delim, h_start, h_end, cells = _find_header(text, complete, recognise, path)
    except NoHeader as e:
        if unsure and not _is_utf8(path, chunk):
            return _read_csv(*again)
        if strict:
            raise
        return _unread_text(con, path, source, scan, str(e).removeprefix(f"{path}: "))
    headers = [c.strip() for c in cells]
    args: _DuckArgs = (con, path, source, delim, headers, h_start, h_end, encoding, max_line)
    try:
        sheet = _duck_csv(*args, scan)
    except (_Mismatch, CrmError) as e:
        if unsure and not _is_utf8(path, chunk):
            return _read_csv(*again)
        if not isinstance(e, _Mismatch):
            raise
        sheet = _recount(args, scan, source, delim, max_line, path)
    if unsure and (sheet.malformed or scan.long) and not _is_utf8(path, chunk):
        con.execute(f"DROP TABLE IF EXISTS {sheet.table}")
        return _read_csv(*again)
    return sheet


def _is_utf8(path: Path, chunk: int) -> bool:
    """The whole file decodes as UTF-8."""
    dec = codecs.getincrementaldecoder("utf-8")()
    try:
        with open(path, "rb") as fh:
            while data := fh.read(chunk):
                if not data.isascii():
                    dec.decode(data)
        dec.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def _recount(
    args: _DuckArgs, scan: _Scan, source: Path, delim: str, max_line: int, path: Path
) -> RawSheet:
    """The fast pass misread a stray quote: count again, exactly, and read."""
    exact = _precise_scan(source, delim, max_line)
    exact.long = scan.long  # blank in the copy DuckDB reads, records all the same
    long = {ln for ln, _ in scan.long}
    exact.blanks = [b for b in exact.blanks if b not in long]
    try:
        return _duck_csv(*args, exact)
    except _Mismatch as e:
        raise CrmError(str(e), file=str(path)) from None


class _Mismatch(Exception):
    """Our count of records and DuckDB's rows disagree."""


def _temp(work: Path, suffix: str = ".csv") -> Path:
    return work / f"{uuid.uuid4().hex[:12]}{suffix}"


def _blank_lines(source: Path, lines: set[int], work: Path, chunk: int) -> Path:
    """A copy of `source` whose given (over-long) lines are empty, streamed in bounded memory."""
    out_path = _temp(work)
    line, skipping = 1, False
    with open(source, "rb") as fh, open(out_path, "wb") as out:
        while data := fh.read(chunk):
            pos = 0
            while pos < len(data):
                nl = data.find(b"\n", pos)
                end = len(data) if nl < 0 else nl + 1
                if line in lines:
                    skipping = True
                if not skipping:
                    out.write(data[pos:end])
                elif nl >= 0:
                    out.write(b"\n")
                if nl < 0:
                    break
                line, skipping, pos = line + 1, False, end
    return out_path


def _unread_text(
    con: duckdb.DuckDBPyConnection, path: Path, source: Path, scan: _Scan, message: str
) -> Unread:
    """A text file without a recognisable header: its records (non-blank lines outside
    quoted fields) become rejects with their first line as raw text."""
    skip = set(scan.blanks) | {ln for s, k in scan.spans for ln in range(s + 1, s + k + 1)}
    long = dict(scan.long)
    name = f"raw_{uuid.uuid4().hex[:12]}"
    con.execute(f"CREATE TEMP TABLE {name} (_line BIGINT, _raw VARCHAR)")
    batch: list[tuple[int, str]] = []

    def flush() -> None:
        if batch:
            frame = pl.DataFrame(batch, schema={"_line": pl.Int64, "_raw": pl.String}, orient="row")
            con.register(f"{name}_v", frame)
            con.execute(f"INSERT INTO {name} SELECT * FROM {name}_v")
            con.unregister(f"{name}_v")
            batch.clear()

    with open(source, "rb") as fh:
        for ln in range(1, scan.lines + 1):
            line = fh.readline(RAW_HEAD * 4 + 2)
            while line and not line.endswith(b"\n") and len(line) > RAW_HEAD * 4:
                rest = fh.readline(1 << 20)  # the rest of a long line: not kept
                if not rest or rest.endswith(b"\n"):
                    break
            if ln in skip:
                continue
            text = (long.get(ln) or line).decode("utf-8", errors="replace")
            batch.append((ln, text.rstrip("\r\n")[: RAW_HEAD * 5]))
            if len(batch) >= 50_000:
                flush()
    flush()
    read = first_row(con, f"SELECT count(*) FROM {name}")[0]
    return Unread(path, None, int(read), name, message)


def _iconv(path: Path, work: Path) -> Path | None:
    """The GB18030 file as a temporary UTF-8 file through `iconv` (None: no iconv, or it
    failed; the caller then transcodes in Python, which also names a decoding error)."""
    tmp = _temp(work)
    try:
        with open(tmp, "wb") as out:
            done = subprocess.run(
                ["iconv", "-f", "GB18030", "-t", "UTF-8", str(path)],
                stdout=out,
                stderr=subprocess.DEVNULL,
                check=False,
            )
        if done.returncode == 0:
            return tmp
    except OSError:
        pass
    tmp.unlink(missing_ok=True)
    return None


def _create(con: duckdb.DuckDBPyConnection, name: str, n: int, delim: str) -> None:
    """TEMP table c0..c{n-1}, _line and a virtual _raw (the cells joined by the delimiter)."""
    cols = ", ".join(f"c{i} VARCHAR" for i in range(n))
    raw = ", ".join(f"coalesce(c{i}, '')" for i in range(n))
    con.execute(
        f"CREATE TEMP TABLE {name} ({cols}, _line BIGINT, _raw VARCHAR GENERATED "
        f"ALWAYS AS (concat_ws({literal(delim)}, {raw})) VIRTUAL)"
    )


def _lines_table(
    con: duckdb.DuckDBPyConnection, name: str, first: int, last: int, excluded: list[int]
) -> str:
    """TEMP table (ord, l): the lines first..last without `excluded`, numbered from 0."""
    if not excluded:
        con.execute(
            f"CREATE TEMP VIEW {name} AS SELECT range - {first} AS ord, range AS l "
            f"FROM range({first}, {last + 1})"
        )
        return f"DROP VIEW {name}"
    con.execute(f"CREATE TEMP TABLE {name}_x (l BIGINT)")
    if excluded:
        frame = pl.DataFrame({"l": sorted(set(excluded))}, schema={"l": pl.Int64})
        con.register(f"{name}_xv", frame)
        con.execute(f"INSERT INTO {name}_x SELECT l FROM {name}_xv")
        con.unregister(f"{name}_xv")
    con.execute(
        f"CREATE TEMP TABLE {name} AS SELECT row_number() OVER (ORDER BY range) - 1 "
        f"AS ord, range AS l FROM range({first}, {last + 1}) "
        f"WHERE range NOT IN (SELECT l FROM {name}_x) ORDER BY range"
    )
    con.execute(f"DROP TABLE {name}_x")
    return f"DROP TABLE {name}"


# _duck_csv's arguments before the scan: (con, path, source, delim, headers, h_start, h_end,
# encoding, max_line)
_DuckArgs = tuple[duckdb.DuckDBPyConnection, Path, Path, str, list[str], int, int, str, int]


def _duck_csv(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    source: Path,
    delim: str,
    headers: list[str],
    h_start: int,
    h_end: int,
    encoding: str,
    max_line: int,
    scan: _Scan,
) -> RawSheet:
    n = len(headers)
    name = f"raw_{uuid.uuid4().hex[:12]}"
    rj, rs, lines = f"{name}_rj", f"{name}_rs", f"{name}_ln"
    cont = [ln for s, k in scan.spans if s > h_end for ln in range(s + 1, s + k + 1)]
    long = [(ln, head) for ln, head in scan.long if ln > h_end]
    # lines DuckDB skips: blank ones (and the over-long ones, blank in its copy) unless it
    # returns them as rows (one column)
    blanks = [b for b in scan.blanks if b > h_end]
    empty = blanks + [ln for ln, _ in long]
    drop = _lines_table(con, lines, h_end + 1, scan.lines, cont + (empty if n > 1 else []))
    read = scan.lines - h_end - len(cont) - len(blanks)
    columns = "{" + ", ".join(f"'c{i}': 'VARCHAR'" for i in range(n)) + "}"
    longest = max(64 << 20, 2 * max_line)
    cols = ", ".join(f"r.c{i}" for i in range(n))
    _create(con, name, n, delim)
    try:
        con.execute(
            f"INSERT INTO {name} ({', '.join(f'c{i}' for i in range(n))}, _line) "
            f"SELECT {cols}, x.l FROM (SELECT true AS _k, * FROM "
            f"read_csv({literal(str(source))}, delim={literal(delim)}, "
            f"quote='\"', escape='\"', header=false, skip={h_end}, columns={columns}, "
            f"auto_detect=false, store_rejects=true, rejects_table='{rj}', "
            f"rejects_scan='{rs}', max_line_size={longest}, "
            f"buffer_size={2 * longest})) r "
            f"POSITIONAL JOIN (SELECT l FROM {lines} ORDER BY ord) x WHERE r._k"
        )
        rejects = con.execute(
            f"SELECT line, any_value(error_type)::VARCHAR, any_value(csv_line), "
            f"any_value(error_message) FROM {rj} GROUP BY line ORDER BY line"
        ).fetchall()
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
                f", found {found.group(1)}" if found else ""
            )
        elif etype == "UNQUOTED VALUE":
            reason = "unbalanced quote"
        else:
            reason = (message or str(etype)).splitlines()[0]
        malformed.append((line, (text or "").strip("\r\n"), reason))
    limit = f"line longer than {max_line >> 20} MiB (limits.max_line_mib): not read"
    malformed += [
        (ln, head.decode("utf-8", errors="replace")[:RAW_HEAD] + "…", limit) for ln, head in long
    ]
    malformed.sort()
    if malformed:  # realign _line: the rows are the record starts without the rejected ones
        con.execute(drop)
        drop = _lines_table(
            con,
            lines,
            h_end + 1,
            scan.lines,
            cont + (blanks if n > 1 else []) + [m[0] for m in malformed],
        )
        con.execute(f"UPDATE {name} SET _line = x.l FROM {lines} x WHERE {name}.rowid = x.ord")
    con.execute(drop)
    if n == 1 and empty:
        con.execute(f"DELETE FROM {name} WHERE _line IN ({', '.join(map(str, empty))})")
    totals = _drop_totals(con, name, n)
    repeated = _drop_repeated_header(con, name, headers)
    rows = first_row(con, f"SELECT count(*) FROM {name}")[0]
    if rows + len(malformed) + len(totals) + len(repeated) != read:
        con.execute(f"DROP TABLE IF EXISTS {name}")
        raise _Mismatch(
            f"records do not add up: counted {read}, read {rows} rows, "
            f"{len(malformed)} malformed, {len(totals)} totals"
        )
    return RawSheet(path, None, headers, h_start, name, read, malformed, totals, encoding, repeated)


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
    cond = f"({hint}) AND regexp_matches({first}, {literal(TOTALS_SQL)})"
    totals = con.execute(f"SELECT _line, _raw FROM {name} WHERE {cond} ORDER BY _line").fetchall()
    if totals:
        con.execute(f"DELETE FROM {name} WHERE {cond}")
    return [(int(a), b) for a, b in totals]


def _drop_repeated_header(
    con: duckdb.DuckDBPyConnection, name: str, headers: list[str]
) -> list[tuple[int, str]]:
    """Rows that repeat the header (exports that print it again on every page): dropped and
    returned as (line, raw); the load counts them as rejects."""
    named = [(i, h) for i, h in enumerate(headers) if h]
    if len(named) < 2:
        return []
    cond = " AND ".join(
        f"coalesce(trim(c{i}), '') = {literal(h)}" if h else f"coalesce(trim(c{i}), '') = ''"
        for i, h in enumerate(headers)
    )
    found = con.execute(f"SELECT _line, _raw FROM {name} WHERE {cond} ORDER BY _line").fetchall()
    if found:
        con.execute(f"DELETE FROM {name} WHERE {cond}")
    return [(int(a), b) for a, b in found]


# ------------------------------------------------------------------ workbooks and markup tables


def _sheet_from_rows(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    sheet: str | None,
    frame: pl.DataFrame,
    lines: list[int],
    recognise: Recognise,
) -> RawSheet | Unread | None:
    """A sheet's cells (all strings) and each row's line number -> RawSheet; an Unread when
    no header is found in its first 20 rows; None when it has no data. Empty rows are blank
    lines (not counted)."""
    width = frame.width
    if width == 0 or frame.height == 0:
        return None
    frame = frame.rename({c: f"c{i}" for i, c in enumerate(frame.columns)})
    frame = frame.with_columns(pl.all().str.strip_chars()).with_columns(
        pl.when(pl.all() == "").then(None).otherwise(pl.all()).name.keep()
    )
    frame = frame.with_columns(pl.Series("_line", lines, dtype=pl.Int64))
    cells = [f"c{i}" for i in range(width)]
    frame = frame.filter(~pl.all_horizontal(pl.col(cells).is_null()))
    if frame.height == 0:
        return None
    top = [[c or "" for c in row] for row in frame.head(HEADER_ROWS + 1).select(cells).rows()]
    hdr, header, used = None, None, 0
    for i in range(min(HEADER_ROWS, len(top))):
        header, used = _header_at(top[i : i + 2], recognise)
        if header is not None:
            hdr = i
            break
    if hdr is None or header is None:
        return _unread_sheet(con, path, sheet, frame, cells, top[0])
    header_line = int(frame["_line"][hdr])
    data = frame.slice(hdr + used)
    used_cols = [i for i in range(width) if data[f"c{i}"].null_count() < data.height]
    n = max([len(header) - len(list(_trailing_empty(header)))] + [i + 1 for i in used_cols] + [1])
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
        con.execute(
            f"INSERT INTO {name} ({', '.join(f'c{i}' for i in range(n))}, _line) "
            f"SELECT * FROM {view}"
        )
    finally:
        con.unregister(view)
    repeated = _drop_repeated_header(con, name, headers)
    totals = [(int(a), b) for a, b in tot.rows()]
    return RawSheet(
        path,
        sheet,
        headers,
        header_line,
        name,
        data.height + len(totals),
        [],
        totals,
        None,
        repeated,
    )


def _unread_sheet(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    sheet: str | None,
    frame: pl.DataFrame,
    cells: list[str],
    first: list[str],
) -> Unread:
    """A sheet with data and no header: its non-empty rows as (_line, _raw)."""
    name = f"raw_{uuid.uuid4().hex[:12]}"
    raw = pl.concat_str([pl.col(c).fill_null("") for c in cells], separator=",")
    rows = frame.select("_line", raw.str.strip_chars_end(",").alias("_raw"))
    con.register(f"{name}_v", rows)
    try:
        con.execute(f"CREATE TEMP TABLE {name} AS SELECT * FROM {name}_v")
    finally:
        con.unregister(f"{name}_v")
    shown = _shown(first)
    what = f"sheet {sheet!r}" if sheet else "the file"
    message = (
        f"{what} has {rows.height} rows and no recognisable header in its first "
        f"{HEADER_ROWS} rows (first row: {shown}); load its folder instead to report "
        f"it and load the rest"
    )
    return Unread(path, sheet, rows.height, name, message)


def _shown(cells: list[str]) -> str:
    shown = " | ".join(c.strip() for c in cells if c is not None).strip(" |")
    return shown if len(shown) <= 80 else shown[:77] + "..."


def _trailing_empty(cells: list[str]) -> Iterator[str]:
    for c in reversed(cells):
        if c:
            return
        yield c


def _sheets_or_error(
    path: Path, got: list[RawSheet | Unread], strict: bool, what: str, names: list[str]
) -> list[RawSheet | Unread]:
    """Strict (file named explicitly): any sheet without a header fails the file (docs/rules.md §17 "Loading")."""
    if not any(isinstance(g, RawSheet) for g in got):
        message = f"no {what} a recognisable header in its first {HEADER_ROWS} rows"
        if names:
            message += f" (sheets: {', '.join(names)[:80]})"
        if strict or not got:
            raise NoHeader(message, file=str(path))
        for g in got:
            if isinstance(g, Unread):
                g.message = message
    if strict:
        for g in got:
            if isinstance(g, Unread):
                raise CrmError(g.message, file=str(path))
    return got


def _read_workbook(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    recognise: Recognise,
    limits: LimitsConfig,
    strict: bool,
) -> list[RawSheet | Unread]:
    import fastexcel

    try:  # refuses bombs and encrypted files before the native reader opens the file
        workbook_guard.check(path, limits)
    except workbook_guard.Unreadable as e:
        raise Unrecognised(str(e).removeprefix(f"{path}: "), file=str(path)) from None
    try:
        book = fastexcel.read_excel(str(path))
        names = list(book.sheet_names)
    except BaseException as e:  # noqa: BLE001 - any reader failure, a Rust panic included
        if isinstance(e, KeyboardInterrupt | SystemExit):
            raise
        raise Unrecognised(
            f"not a readable Excel workbook: {_first_line(e)}", file=str(path)
        ) from None
    offsets = _xlsx_first_rows(path)
    out: list[RawSheet | Unread] = []
    for sheet in names:
        try:
            frame = book.load_sheet(sheet, header_row=None, dtypes="string").to_polars()
        except BaseException as e:  # noqa: BLE001 - a Rust panic is a BaseException
            if isinstance(e, KeyboardInterrupt | SystemExit):
                raise
            raise CrmError(
                f"cannot read sheet {sheet!r}: {_first_line(e)}", file=str(path)
            ) from None
        if frame.width == 0:
            continue
        frame = frame.with_columns(
            pl.all().cast(pl.String).str.replace(r"^(\d{4}-\d{2}-\d{2})[ T]00:00:00(\.0+)?$", "$1")
        )
        start = offsets.get(sheet, 1)
        got = _sheet_from_rows(
            con, path, sheet, frame, list(range(start, start + frame.height)), recognise
        )
        if got:
            out.append(got)
    return _sheets_or_error(path, out, strict, "sheet has", names)


def _first_line(e: BaseException) -> str:
    text = str(e).strip() or type(e).__name__
    return text.splitlines()[0][:120]


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
                        if el.tag == f"{ns}c" and (
                            el.find(f"{ns}v") is not None or el.find(f"{ns}is") is not None
                        ):
                            ref = el.get("r", "")
                            digits = re.sub(r"[A-Z]", "", ref)
                            if digits:
                                out[sh.get("name", "")] = int(digits)
                            break
    except (KeyError, zipfile.BadZipFile, ET.ParseError, OSError, ValueError, EOFError, zlib.error):
        return out
    return out


def _read_markup(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    recognise: Recognise,
    limits: LimitsConfig,
    strict: bool,
) -> list[RawSheet | Unread]:
    """HTML <table>s or SpreadsheetML 2003 worksheets saved as ".xls"."""
    data = path.read_bytes()
    text = _decode_markup(data, path)
    body = text.lstrip("\ufeff \t\r\n")
    if body[:5].lower() == "<?xml" and "urn:schemas-microsoft-com:office:spreadsheet" in body:
        tables = _spreadsheetml(body, path)
    else:
        tables = [(None, t) for t in html_tables.parse(text, path, limits)]
    out: list[RawSheet | Unread] = []
    for i, (sheet, rows) in enumerate(tables):
        if not rows:
            continue
        width = max(len(r) for _, r in rows)
        if width == 0:
            continue
        cols = {f"c{j}": [r[j] if j < len(r) else None for _, r in rows] for j in range(width)}
        frame = pl.DataFrame(cols, schema={c: pl.String for c in cols})
        got = _sheet_from_rows(
            con, path, sheet or f"table {i + 1}", frame, [ln for ln, _ in rows], recognise
        )
        if got:
            out.append(got)
    return _sheets_or_error(path, out, strict, "table with", [])


def _decode_markup(data: bytes, path: Path) -> str:
    m = re.search(rb"""(?:charset|encoding)\s*=\s*["']?([A-Za-z0-9_-]+)""", data[:4096], re.I)
    declared = m.group(1).decode().lower() if m else ""
    order = (
        ["gb18030", "utf-8"]
        if declared in ("gbk", "gb2312", "gb18030", "cp936")
        else ["utf-8-sig", "gb18030"]
    )
    for enc in order:
        try:
            return data.decode(enc)
        except UnicodeDecodeError:
            continue
    raise Unrecognised("cannot decode the file: neither UTF-8 nor GB18030/GBK", file=str(path))


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


def _xml_value(d: Element) -> str:
    text = "".join(d.itertext()).strip()
    kind = d.get("{urn:schemas-microsoft-com:office:spreadsheet}Type")
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
