"""The monthly report files: HTML page and Excel workbook, written atomically.

Each file is written to a temp name in a hidden folder beside the target (output.atomic_path),
and all are moved into place only when every file is complete; a failure, Ctrl-C or
kill before that leaves the previous report untouched and no partial file visible.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl

from .errors import CrmError, UsageError
from .output.formats import atomic_path
from .report.html import render_html
from .report.xlsx import write_xlsx_report
from .summary_types import KpiSummary, Summary

if TYPE_CHECKING:
    from .report.lists import ListSheet

FORMATS = ("html", "xlsx")

__all__ = ["render_html", "write_xlsx_report", "write_report", "report_paths", "FORMATS"]


def report_paths(out_dir: Path, label: str, formats: Sequence[str] = FORMATS) -> list[Path]:
    """out_dir/crmtool-report-<label>.<format> for each format, in the order given."""
    bad = [f for f in formats if f not in FORMATS]
    if bad or not formats:
        raise UsageError(f"--format takes html and/or xlsx, got {','.join(formats) or 'nothing'}")
    safe = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in label)
    return [Path(out_dir) / f"crmtool-report-{safe}.{f}" for f in formats]


def write_report(
    out_dir: Path,
    label: str,
    summary: Summary,
    previous: KpiSummary | None,
    lists: dict[str, pl.DataFrame],
    *,
    formats: Sequence[str] = FORMATS,
    lang: str = "zh",
    show_pii: bool = False,
    mask_pii: bool = False,
    capped: Mapping[str, ListSheet] | None = None,
) -> list[Path]:
    """Write the report files for one period and return their paths.

    HTML masks names and phones unless show_pii; the workbook shows them unless mask_pii.
    The HTML page has the full lists; the workbook's list sheets hold `capped`'s rows when
    given (report.lists.list_sheets). All files are complete before any is moved into place.
    """
    out_dir = Path(out_dir)
    if not out_dir.is_dir():
        raise CrmError(f"output folder {out_dir} does not exist")
    targets = report_paths(out_dir, label, formats)
    html = (
        render_html(summary, previous, lists, lang=lang, show_pii=show_pii)
        if "html" in formats
        else ""
    )
    with contextlib.ExitStack() as stack:
        for target in targets:
            tmp = stack.enter_context(atomic_path(target))
            if target.suffix == ".html":
                tmp.write_text(html, encoding="utf-8")
            else:
                write_xlsx_report(tmp, summary, lists, lang=lang, mask_pii=mask_pii, capped=capped)
    return targets
