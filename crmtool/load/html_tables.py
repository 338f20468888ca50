"""The <table>s of an HTML ".xls" export, laid out on a grid as a browser lays them out.

colspan/rowspan place every cell in its column: a cell spanning rows repeats its text in each
row it covers (a VIN merged over its orders belongs to each order); the extra columns of a
colspan stay empty (a group header over its fields, a totals label). A nested table is a table
of its own (listed where it starts) and its text is not part of the outer cell. Spans above
`limits.max_span` (browsers clamp at 1,000) and grids above `limits.max_cells` refuse the file.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

from ..config import LimitsConfig
from ..errors import CrmError

Table = list[tuple[int, list[str]]]  # (row number in the table, cells)
_DIGITS = re.compile(r"\s*(\d+)")


class _Grid:
    """One table being laid out."""

    def __init__(self, number: int) -> None:
        self.number = number
        self.rows: Table = []
        self.row: dict[int, str] | None = None
        self.cell: list[str] | None = None
        self.col = 0
        self.span = (1, 1)
        self.pending: dict[int, tuple[int, str]] = {}  # column -> (rows still covered, text)
        self.occupied: dict[int, str] = {}

    def start_row(self) -> None:
        self.end_row()
        self.row, self.col = {}, 0
        self.occupied = {c: t for c, (_, t) in self.pending.items()}
        self.pending = {c: (k - 1, t) for c, (k, t) in self.pending.items() if k > 1}

    def end_row(self) -> None:
        self.end_cell()
        if self.row is None:
            return
        cells = {**self.occupied, **self.row}
        width = max(cells, default=-1) + 1
        self.rows.append((len(self.rows) + 1, [cells.get(i, "") for i in range(width)]))
        self.row, self.occupied = None, {}

    def start_cell(self, colspan: int, rowspan: int) -> None:
        self.end_cell()
        if self.row is None:
            self.start_row()
        self.cell, self.span = [], (colspan, rowspan)

    def end_cell(self) -> None:
        if self.cell is None or self.row is None:
            self.cell = None
            return
        text = "".join(self.cell).strip()
        self.cell = None
        while self.col in self.occupied or self.col in self.row:
            self.col += 1
        colspan, rowspan = self.span
        for c in range(self.col, self.col + colspan):
            value = text if c == self.col else ""
            self.row[c] = value
            if rowspan > 1:
                self.pending[c] = (rowspan - 1, value)
        self.col += colspan


class _Parser(HTMLParser):
    def __init__(self, path: Path, limits: LimitsConfig) -> None:
        super().__init__(convert_charrefs=True)
        self.path, self.limits = path, limits
        self.stack: list[_Grid] = []
        self.done: list[_Grid] = []
        self.count = 0
        self.cells = 0

    def _span(self, attrs: list[tuple[str, str | None]], name: str, grid: _Grid) -> int:
        raw = dict(attrs).get(name)
        m = _DIGITS.match(raw or "")
        value = int(m.group(1)) if m else 1
        if value > self.limits.max_span:
            row = len(grid.rows) + (grid.row is not None)
            raise CrmError(
                f"table {grid.number}, row {row}: {name} {value} is above the limit "
                f"of {self.limits.max_span:,} (limits.max_span)",
                file=str(self.path),
            )
        return max(value, 1)  # 0 (to the end of the section) is read as 1

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table":
            self.count += 1
            self.stack.append(_Grid(self.count))
        elif not self.stack:
            return
        elif tag == "tr":
            self.stack[-1].start_row()
        elif tag in ("td", "th"):
            grid = self.stack[-1]
            colspan = self._span(attrs, "colspan", grid)
            rowspan = self._span(attrs, "rowspan", grid)
            self.cells += colspan * rowspan
            if self.cells > self.limits.max_cells:
                raise CrmError(
                    f"the tables lay out more than {self.limits.max_cells:,} cells "
                    "(limits.max_cells)",
                    file=str(self.path),
                )
            grid.start_cell(colspan, rowspan)
        elif tag == "br" and self.stack[-1].cell is not None:
            self.stack[-1].cell.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if not self.stack:
            return
        grid = self.stack[-1]
        if tag in ("td", "th"):
            grid.end_cell()
        elif tag == "tr":
            grid.end_row()
        elif tag == "table":
            grid.end_row()
            self.done.append(self.stack.pop())

    def handle_data(self, data: str) -> None:
        if self.stack and self.stack[-1].cell is not None:
            self.stack[-1].cell.append(data)


def parse(text: str, path: Path, limits: LimitsConfig) -> list[Table]:
    """Every table of the page, in the order they start, each as (row number, cells)."""
    p = _Parser(path, limits)
    p.feed(text)
    p.close()
    while p.stack:  # tables left open at the end of the page
        p.handle_endtag("table")
    return [g.rows for g in sorted(p.done, key=lambda g: g.number)]
