"""Frames out: table / csv / json / parquet / xlsx, atomic ``-o``, PII masking and ``--where``.

Library code never prints; :func:`emit` is the one place that writes data to stdout.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import sys
from collections.abc import Callable, Mapping
from datetime import date, datetime, time
from pathlib import Path
from typing import IO, Any, cast

import polars as pl
import xlsxwriter

from ..errors import CrmError, UsageError
from .atomic import TMP_DIR, atomic_path, is_stdout, write_output
from .labels import check_lang, headers, sheet_label, translate_values, words
from .pii import mask_name, mask_phone, mask_phones_in_text, mask_pii

__all__ = [
    "FORMATS",
    "TMP_DIR",
    "atomic_path",
    "emit",
    "mask_name",
    "mask_phone",
    "mask_phones_in_text",
    "mask_pii",
    "shape",
    "write_xlsx_sheets",
]

FORMATS = ("table", "csv", "json", "parquet", "xlsx")
ENCODINGS = ("utf-8", "gbk", "gb18030")
TABLE_MAX_ROWS = 100

_TEXT_COLUMNS = {"phone", "vin", "plate", "id", "engine_no", "dealer_code", "raw"}
_TEXT_SUFFIXES = ("_id", "_phone", "_vin", "_plate", "_code", "_no")
_FORMULA_START = r"^[=+\-@\t\r]"
_PLAIN_NUMBER = r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$"
_BAD_SHEET_CHARS = re.compile(r"[\[\]:*?/\\]")


# --- masking: crmtool/output/pii.py (one phone finder for every mask) ---------------------------

# --- shape: --where, --columns, --sort, --limit --------------------------------------------


def _unknown(flag: str, name: str, frame: pl.DataFrame) -> UsageError:
    return UsageError(f"{flag}: unknown column '{name}'; columns are: {', '.join(frame.columns)}")


def shape(
    frame: pl.DataFrame,
    *,
    where: str | None = None,
    columns: list[str] | None = None,
    sort: list[str] | None = None,
    limit: int | None = None,
) -> pl.DataFrame:
    """Filter (``--where``, see crmtool/output/where.py), sort ('-col' descending, nulls last),
    select, head."""
    if where and where.strip():
        from .where import apply

        frame = apply(frame, where)
    if sort:
        keys, desc = [], []
        for item in sort:
            name = item.strip()
            descending = name.startswith("-")
            name = name.lstrip("-+").strip()
            if name not in frame.columns:
                raise _unknown("--sort", name, frame)
            keys.append(name)
            desc.append(descending)
        frame = frame.sort(keys, descending=desc, nulls_last=True, maintain_order=True)
    if columns:
        for name in columns:
            if name not in frame.columns:
                raise _unknown("--columns", name, frame)
        frame = frame.select(list(dict.fromkeys(columns)))
    if limit is not None:
        if limit < 0:
            raise UsageError("--limit must be 0 or more")
        frame = frame.head(limit)
    return frame


# --- emit ----------------------------------------------------------------------------------


def _stdout_is_tty() -> bool:
    try:
        return sys.stdout.isatty()
    except (AttributeError, ValueError):
        return False


def _stdout_bytes() -> IO[bytes]:
    buf = getattr(sys.stdout, "buffer", None)
    if buf is None:  # a text-only stream (some test harnesses)
        raise UsageError("this output needs -o FILE")
    sys.stdout.flush()
    return buf


def _resolve_format(fmt: str | None, out: Path | None) -> str:
    """--format, else -o's extension, else table on a terminal and csv in a pipe; --format
    and an extension that names another format are a usage error (docs/rules.md §18 "Outputs")."""
    suffix = Path(out).suffix.lower().lstrip(".") if out is not None else ""
    if fmt:
        fmt = fmt.lower()
        if fmt not in FORMATS:
            raise UsageError(f"--format: unknown format '{fmt}'; use one of {', '.join(FORMATS)}")
        if suffix in FORMATS and suffix != fmt:
            raise UsageError(
                f"--format {fmt} does not match -o {out} (a .{suffix} file); "
                "give one of them, or a file name that ends in ." + fmt
            )
        return fmt
    if out is not None:
        if suffix in ("csv", "json", "parquet", "xlsx"):
            return suffix
        raise UsageError(
            f"-o {out}: unknown file type '{Path(out).suffix}'; use .csv .json "
            ".parquet .xlsx or give --format"
        )
    return "table" if _stdout_is_tty() else "csv"


def _safe_csv(frame: pl.DataFrame) -> pl.DataFrame:
    """Prefix text cells that a spreadsheet would run as a formula with a single quote."""
    exprs = []
    for col, dtype in frame.schema.items():
        if dtype == pl.String:
            s = pl.col(col)
            risky = s.str.contains(_FORMULA_START) & ~s.str.contains(_PLAIN_NUMBER)
            exprs.append(pl.when(risky).then(pl.lit("'") + s).otherwise(s).alias(col))
    return frame.with_columns(exprs) if exprs else frame


def _encode(text: str, frame: pl.DataFrame, encoding: str) -> bytes:
    try:
        return text.encode(encoding)
    except UnicodeEncodeError:
        pass
    for col, dtype in frame.schema.items():
        if dtype != pl.String:
            continue
        for i, value in enumerate(frame.get_column(col).to_list()):
            if value is None:
                continue
            try:
                value.encode(encoding)
            except UnicodeEncodeError as e:
                bad = value[e.start : e.end]
                raise CrmError(
                    f"--encoding {encoding}: row {i + 1}, column {col}: "
                    f"{bad!r} has no {encoding.upper()} code; use --encoding gb18030 "
                    "or utf-8"
                ) from None
    for col in frame.columns:
        try:
            col.encode(encoding)
        except UnicodeEncodeError:
            raise CrmError(
                f"--encoding {encoding}: header {col!r} has no {encoding.upper()} code"
            ) from None
    raise CrmError(f"--encoding {encoding}: the text cannot be encoded")


def _csv_bytes(frame: pl.DataFrame, *, bom: bool, encoding: str) -> bytes:
    text = frame.write_csv()
    if encoding in ("utf-8", "utf8"):
        return (b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8")
    return _encode(text, frame, encoding)


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.hex()
    return str(value)


def _json_bytes(frame: pl.DataFrame) -> bytes:
    rows = frame.to_dicts()
    for row in rows:
        for key, value in row.items():
            if isinstance(value, float) and value != value:  # NaN is not JSON
                row[key] = None
    return (json.dumps(rows, ensure_ascii=False, default=_json_default) + "\n").encode("utf-8")


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.2f}".rstrip("0").rstrip(".") if value == value else ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


def _rows_line(total: int, shown: int, hidden_cols: int, lang: str) -> str:
    """The line under a terminal table: how many rows, and what is not shown."""
    t = words(lang)
    line = t["rows_n"].format(n=f"{total:,}")
    if shown < total:
        line += t["rows_first"].format(n=f"{shown:,}")
    if hidden_cols:
        line += t["more_columns"].format(n=hidden_cols)
    return line


def _page(text: str) -> None:
    """All columns of a wide table on a terminal: through $PAGER (default `less -SRFX`,
    which scrolls sideways), or straight out when there is no pager."""
    import shlex
    import subprocess

    cmd = os.environ.get("PAGER") or "less -SRFX"
    try:
        proc = subprocess.Popen(shlex.split(cmd), stdin=subprocess.PIPE)
    except OSError:
        sys.stdout.write(text)
        return
    assert proc.stdin is not None
    with contextlib.suppress(BrokenPipeError):
        proc.stdin.write(text.encode("utf-8"))
        proc.stdin.close()
    proc.wait()


def _write_table(
    frame: pl.DataFrame,
    labels: list[str],
    stream: IO[str],
    *,
    tty: bool,
    lang: str = "zh",
    context: str | None = None,
    wide: bool = False,
) -> int:
    """Render a rich table; returns the number of rows not shown. On a terminal the list's
    own columns come first and only whole columns that fit are shown (crmtool/output/layout.py),
    with a line saying how many rows there are and what was left out; `wide` shows every
    column (through a pager when wider than the terminal). Piped: every row and column."""
    from rich.cells import cell_len
    from rich.console import Console
    from rich.table import Table

    from .layout import fit, table_width

    shown = frame.head(TABLE_MAX_ROWS) if tty else frame
    numeric = {c for c, t in frame.schema.items() if t.is_numeric()}
    rows = [[_cell_text(v) for v in row] for row in shown.iter_rows()]
    widths = [cell_len(label) for label in labels]
    for row in rows:
        for j, cell in enumerate(row):
            widths[j] = max(widths[j], cell_len(cell))
    full = max(40, table_width(widths))
    short: dict[int, int]
    if tty:
        console = Console(file=stream, highlight=False)
        if wide:
            cols, short = list(range(frame.width)), {}
            if full > console.width:
                console = Console(
                    file=io.StringIO(), highlight=False, width=full, force_terminal=True
                )
        else:
            cols, short = fit(frame.columns, widths, console.width, context)
    else:  # piped: as wide as the content, never cut
        console = Console(file=stream, highlight=False, width=full, color_system=None)
        cols, short = list(range(frame.width)), {}
    caption = _rows_line(frame.height, shown.height, frame.width - len(cols), lang) if tty else None
    table = Table(show_lines=False, highlight=False)
    for j in cols:
        col = frame.columns[j]
        table.add_column(
            labels[j],
            justify="right" if col in numeric else "left",
            no_wrap=True,
            overflow="ellipsis",
            min_width=None if j in short else widths[j],
            max_width=short.get(j),
        )
    for row in rows:
        table.add_row(*(row[j] for j in cols))
    console.print(table)
    if caption:
        console.print(caption, markup=False, highlight=False, soft_wrap=True)
    if isinstance(console.file, io.StringIO):
        _page(console.file.getvalue())
    return frame.height - shown.height


def emit(
    frame: pl.DataFrame,
    *,
    fmt: str | None = None,
    out: Path | None = None,
    lang: str | None = None,
    mask: bool = False,
    sheet: str = "list",
    split_by: str | None = None,
    encoding: str | None = None,
    safe_csv: bool = False,
    wide: bool = False,
) -> None:
    """Write ``frame`` to stdout or ``out`` in one of FORMATS (see docs/DEVELOPING.md)."""
    if is_stdout(out):  # -o -: stdout
        out = None
    fmt = _resolve_format(fmt, out)
    out = Path(out) if out is not None else None
    lang = check_lang(lang)
    enc = (encoding or "utf-8").lower().replace("_", "-")
    enc = {"utf8": "utf-8", "gb2312": "gbk", "cp936": "gbk"}.get(enc, enc)
    if enc not in ENCODINGS:
        raise UsageError(f"--encoding: unknown encoding '{encoding}'; use utf-8, gbk or gb18030")
    if split_by and fmt != "xlsx":
        raise UsageError("--split-by works with xlsx output only (-o FILE.xlsx)")
    if mask:
        frame = mask_pii(frame)

    if fmt == "xlsx":
        if out is None and _stdout_is_tty():
            raise UsageError("xlsx output needs -o FILE or a pipe")
        buf = io.BytesIO()  # in memory: no workbook part ever lands in a temp folder
        write_xlsx_sheets(buf, {sheet: frame}, lang=lang, split_by=split_by)
        _write(out, buf.getvalue())
        return

    if fmt == "parquet":
        if out is None and _stdout_is_tty():
            raise UsageError("parquet output needs -o FILE or a pipe")
        buf = io.BytesIO()
        frame.write_parquet(buf)
        _write(out, buf.getvalue())
        return

    if fmt == "table":  # for people: labels (docs/rules.md §11)
        named, labels = translate_values(frame, lang, sheet), headers(frame.columns, lang, sheet)
        if out is None:
            tty = _stdout_is_tty()
            hidden = _write_table(
                named, labels, sys.stdout, tty=tty, lang=lang, context=sheet, wide=wide
            )
            sys.stdout.flush()
            if hidden:
                sys.stderr.write(f"… {hidden} more rows (use --format csv or -o)\n")
        else:
            text = io.StringIO()
            _write_table(named, labels, text, tty=False)
            _write(out, text.getvalue().encode("utf-8"))
        return

    if fmt == "csv":  # for machines: snake_case names and canonical codes (docs/rules.md §11)
        data = _csv_bytes(
            _safe_csv(frame) if safe_csv else frame, bom=out is not None, encoding=enc
        )
    else:  # json
        data = _json_bytes(frame)
    _write(out, data)


def _write(out: Path | None, data: bytes) -> None:
    """Bytes to stdout, or to ``out`` (atomically; devices and FIFOs written through)."""
    if out is None:
        _stdout_bytes().write(data)
        sys.stdout.flush()
    else:
        write_output(out, data)


# --- xlsx ----------------------------------------------------------------------------------


def _is_text_column(name: str) -> bool:
    return name in _TEXT_COLUMNS or name.endswith(_TEXT_SUFFIXES)


def _sheet_name(raw: str, used: set[str]) -> str:
    """Excel sheet name: ≤ 31 chars, none of []:*?/\\, not quoted at the ends, unique."""
    base = _BAD_SHEET_CHARS.sub("_", raw).strip().strip("'").strip() or "sheet"
    base = base[:31]
    name, n = base, 1
    while name.lower() in used:
        n += 1
        suffix = f" ({n})"
        name = base[: 31 - len(suffix)] + suffix
    used.add(name.lower())
    return name


def _display_width(frame: pl.DataFrame, col: str) -> int:
    """Widest cell in the column, CJK characters counted twice (from UTF-8 byte lengths)."""
    s = frame.get_column(col)
    if s.dtype == pl.Date:
        return 10
    if s.dtype == pl.Datetime:
        return 16
    text = s.cast(pl.String, strict=False) if s.dtype != pl.String else s
    if text.null_count() == len(text):
        return 0
    chars = text.str.len_chars()
    width = chars + (text.str.len_bytes() - chars) // 2
    return int(cast("int | None", width.max()) or 0)


def _header_width(label: str) -> int:
    return sum(2 if ord(ch) > 0x2E7F else 1 for ch in label)


def print_setup(ws: Any, last_row: int, last_col: int, header_rows: int | None = None) -> None:
    """Landscape A4, one page wide and as many long as needed, the used cells as the print
    area, the header row repeated on every page, sheet name and page numbers in the footer."""
    ws.set_landscape()
    ws.set_paper(9)
    ws.fit_to_pages(1, 0)
    ws.set_margins(left=0.4, right=0.4, top=0.5, bottom=0.6)
    ws.print_area(0, 0, max(last_row, 0), max(last_col, 0))
    if header_rows is not None:
        ws.repeat_rows(0, header_rows)
    ws.set_footer("&L&A&R&P / &N")


def _write_sheet(
    wb: xlsxwriter.Workbook,
    name: str,
    frame: pl.DataFrame,
    labels: list[str],
    fmts: dict[str, Any],
    note: str | None = None,
) -> None:
    """One sheet: the header row, then the frame; with `note`, a first row holding it (a
    capped list says how many rows the whole list has), the header below it."""
    ws = wb.add_worksheet(name)
    ncols = frame.width
    top = 1 if note else 0  # the header's row
    if note:
        ws.write_string(0, 0, note, fmts["note"])
    for j, label in enumerate(labels):
        ws.write_string(top, j, label, fmts["header"])
    for j, col in enumerate(frame.columns):
        s = frame.get_column(col)
        dtype = s.dtype
        width = max(_header_width(labels[j]), _display_width(frame, col))
        ws.set_column(j, j, min(max(width + 2, 6), 50))
        if _is_text_column(col) and dtype != pl.String:
            s = s.cast(pl.String, strict=False)
            dtype = pl.String()
        if dtype == pl.Datetime and getattr(dtype, "time_zone", None):
            s = s.dt.replace_time_zone(None)
        values = s.to_list()
        if dtype == pl.String:
            for i, v in enumerate(values, start=top + 1):
                if v is not None:
                    ws.write_string(i, j, v)
        elif dtype == pl.Date:
            for i, v in enumerate(values, start=top + 1):
                if v is not None:
                    ws.write_datetime(i, j, v, fmts["date"])
        elif dtype == pl.Datetime:
            for i, v in enumerate(values, start=top + 1):
                if v is not None:
                    ws.write_datetime(i, j, v, fmts["datetime"])
        elif dtype == pl.Boolean:
            for i, v in enumerate(values, start=top + 1):
                if v is not None:
                    ws.write_boolean(i, j, v)
        elif dtype.is_numeric():
            for i, v in enumerate(values, start=top + 1):
                if v is not None and v == v and v not in (float("inf"), float("-inf")):
                    ws.write_number(i, j, v)
        else:
            for i, v in enumerate(values, start=top + 1):
                if v is not None:
                    ws.write_string(i, j, _cell_text(v))
    if ncols:
        ws.freeze_panes(top + 1, 0)
        ws.autofilter(top, 0, top + frame.height, ncols - 1)
        print_setup(ws, top + frame.height, ncols - 1, header_rows=top)


def write_xlsx_sheets(
    path: Path | IO[bytes],
    sheets: dict[str, pl.DataFrame],
    *,
    lang: str | None = "zh",
    max_rows: int = 1_048_575,
    split_by: str | None = None,
    workbook_hook: Callable[[xlsxwriter.Workbook, dict[str, str]], None] | None = None,
    notes: Mapping[str, str] | None = None,
) -> None:
    """Write frames as sheets of one workbook (``path`` may also be a binary stream).

    Headers, code values and booleans are labelled (crmtool/output/labels.py, the sheet's key as
    the list's context); a frame over ``max_rows`` continues on
    'name (2)', 'name (3)' …; ``split_by`` gives one sheet per distinct value of that column
    (a list's ``last_<name>`` column answers to ``<name>``: ``advisor`` splits by
    ``last_advisor``).
    ``workbook_hook(workbook, sheet_names)`` runs before closing; ``sheet_names`` maps each key
    of ``sheets`` to the name of its (first) worksheet. ``notes[key]`` is written in the first
    row of that key's sheet, above the header (not with ``split_by``).
    """
    if max_rows < 1:
        raise ValueError("max_rows must be at least 1")
    parts: list[tuple[str, str, pl.DataFrame]] = []  # (key, wanted name, frame)
    lang = check_lang(lang)
    for key, frame in sheets.items():
        name = sheet_label(key, lang)
        if split_by:
            col = split_by if split_by in frame.columns else f"last_{split_by}"
            if col not in frame.columns:
                raise _unknown("--split-by", split_by, frame)
            values = frame.get_column(col).unique(maintain_order=False).sort(nulls_last=True)
            for value in values.to_list():
                sub = frame.filter(pl.col(col).is_null() if value is None else pl.col(col) == value)
                label = "(none)" if value is None else _cell_text(value) or "(blank)"
                parts.append((key, label if len(sheets) == 1 else f"{name} {label}", sub))
            if frame.height == 0:
                parts.append((key, name, frame))
        else:
            parts.append((key, name, frame))

    # in_memory: xlsxwriter's parts never touch $TMPDIR (they hold phones and names)
    options = {
        "strings_to_formulas": False,
        "strings_to_urls": False,
        "strings_to_numbers": False,
        "in_memory": True,
    }
    target = path if hasattr(path, "write") else str(path)
    wb = xlsxwriter.Workbook(target, options)
    # a fixed creation time: the same data gives the same bytes (cron re-runs, diffs)
    wb.set_properties({"created": datetime(2000, 1, 1), "author": "crmtool"})
    fmts = {
        "header": wb.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1}),
        "date": wb.add_format({"num_format": "yyyy-mm-dd"}),
        "datetime": wb.add_format({"num_format": "yyyy-mm-dd hh:mm"}),
        "note": wb.add_format({"bold": True, "font_color": "#C00000"}),
    }
    used: set[str] = set()
    names: dict[str, str] = {}
    # closed (= written) only when complete: after an error or Ctrl-C nothing is written
    for key, wanted, frame in parts:
        labels = headers(frame.columns, lang, key)
        frame = translate_values(frame, lang, key)
        first = _sheet_name(wanted, used)
        names.setdefault(key, first)
        note = None if split_by or notes is None else notes.get(key)
        rows = max_rows - 1 if note else max_rows  # the note takes a row of the sheet
        _write_sheet(wb, first, frame.head(rows), labels, fmts, note)
        for n, start in enumerate(range(rows, frame.height, max_rows), start=2):
            cont = _sheet_name(f"{first[: 31 - len(f' ({n})')]} ({n})", used)
            _write_sheet(wb, cont, frame.slice(start, max_rows), labels, fmts)
    if workbook_hook is not None:
        workbook_hook(wb, names)
    wb.close()
