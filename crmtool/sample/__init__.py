"""`crmtool sample`: a synthetic dealership written the way DMS / I-CROP exports look (Chinese
headers, GBK, planted defects), with a manifest (sample.json) that fixes its as_of.

Vehicles are simulated in chunks of 1,000 (crmtool.sample.world / sample_chunk), each from its
own seeded random generator, so the same seed and size give byte-identical files and memory
stays bounded whatever the size; large samples simulate chunks in several processes.
"""

from __future__ import annotations

import json
import os
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from importlib.resources import files
from pathlib import Path
from typing import BinaryIO

from ..errors import UsageError
from .chunk import build_chunk, overlap_rows
from .world import (
    AS_OF,
    CONTACT_HEAD,
    CUSTOMER_HEAD,
    DEALER_HEAD,
    DEALERS,
    LEAD_HEAD,
    RO_HEAD,
    VEHICLE_HEAD,
)

# size -> (vehicles, visit density): ≈ 10k, 100k and 10M repair orders
SIZES = {
    "tiny": (300, 1.0),
    "small": (2_000, 1.0),
    "medium": (20_500, 1.0),
    "large": (1_000_000, 2.6),
    "bench1m": (100_000, 2.6),
}  # bench/run.py: a tenth of large (≈ 1M repair orders)
CHUNK = 1_000
ENCODINGS = {"gbk": "gbk", "utf-8": "utf-8", "utf8": "utf-8"}
XLSX = "repair_orders_2021H2.xlsx"
OLD, NEW = "repair_orders_2018-2020.csv", "repair_orders_2021.csv"
Progress = Callable[[int, int], None]


def bundled_sample_dir() -> Path:
    """The small sample shipped with crmtool (made by `generate(..., 'small', 7)`)."""
    return Path(str(files("crmtool.sample_data")))


def _cell(v: str) -> str:
    return f'"{v}"' if "," in v or '"' in v else v


def _text(rows: list[list[str]]) -> str:
    return "".join(",".join(map(_cell, row)) + "\r\n" for row in rows)


class _Csv:
    """A CSV export being written (bytes already encoded): atomic rename on close."""

    def __init__(self, path: Path, head: list[str], encoding: str) -> None:
        self.path, self.tmp = path, path.with_name(path.name + ".part")
        self.f: BinaryIO = open(self.tmp, "wb")  # noqa: SIM115 - open across chunks: close()
        self.rows, self.encoding = 0, encoding
        self.f.write(_text([head]).encode(encoding))

    def close(self, tail: list[str] | None = None) -> None:
        if tail:
            self.f.write(_text([tail]).encode(self.encoding))
        self.f.close()
        os.replace(self.tmp, self.path)


@dataclass
class _Part:
    """One chunk rendered: encoded bytes and row counts per file, counts, H2 rows."""

    blobs: dict[str, tuple[bytes, int]]
    counts: dict[str, int]
    old_total: float
    h2: list[list[str]]


def _render(
    seed: int, no: int, vi0: int, n: int, density: float, enc: str, split_h2: bool
) -> _Part:
    """Simulate and encode one chunk (runs in a worker process for large samples)."""
    ch = build_chunk(seed, no, vi0, n, density)
    old, new, h2 = [], overlap_rows(ch, changed=no == 0), []
    for _, row in ch.ros:
        if (row[4] or row[3])[:4] != "2021":
            old.append(row)
        elif split_h2 and row[4][5:7] >= "07":
            h2.append(row)
        else:
            new.append(row)
    files = {
        "customers.csv": ch.customers,
        "vehicles.csv": ch.vehicles,
        "leads.csv": ch.leads,
        "contacts.csv": ch.contacts,
        OLD: old,
        NEW: new,
    }
    blobs = {name: (_text(rows).encode(enc), len(rows)) for name, rows in files.items()}
    return _Part(blobs, ch.counts, sum(_amount(r[10]) for r in old), h2)


def _parts(specs: list[tuple], workers: int) -> Iterator[_Part]:
    """Rendered chunks in order; at most 2 × workers chunks in flight."""
    if workers <= 1:
        yield from (_render(*spec) for spec in specs)
        return
    import multiprocessing as mp

    with mp.get_context("spawn").Pool(workers) as pool:
        pending: deque = deque()
        for spec in specs:
            pending.append(pool.apply_async(_render, spec))
            if len(pending) >= 2 * workers:
                yield pending.popleft().get()
        while pending:
            yield pending.popleft().get()


def generate(
    out_dir: Path,
    size: str = "small",
    seed: int = 7,
    encoding: str = "gbk",
    progress: Progress | None = None,
) -> dict:
    """Write the sample's exports and sample.json into out_dir; return the manifest."""
    if size not in SIZES:
        raise UsageError(f"unknown size {size!r}: use small, medium or large")
    if encoding.lower() not in ENCODINGS:
        raise UsageError(f"unknown encoding {encoding!r}: use gbk or utf-8")
    enc = ENCODINGS[encoding.lower()]
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    n, density = SIZES[size]
    split_h2 = size in ("tiny", "small")
    csv = {
        name: _Csv(out_dir / name, head, enc)
        for name, head in (
            ("dealers.csv", DEALER_HEAD),
            ("customers.csv", CUSTOMER_HEAD),
            ("vehicles.csv", VEHICLE_HEAD),
            ("leads.csv", LEAD_HEAD),
            ("contacts.csv", CONTACT_HEAD),
            (OLD, RO_HEAD),
            (NEW, RO_HEAD),
        )
    }
    csv["dealers.csv"].f.write(_text([list(d) for d in DEALERS]).encode(enc))
    csv["dealers.csv"].rows = len(DEALERS)
    h2: list[list[str]] = []
    counts: dict[str, int] = {}
    old_total = 0.0
    specs = [
        (seed, i, i * CHUNK, min(CHUNK, n - i * CHUNK), density, enc, split_h2)
        for i in range(-(-n // CHUNK))
    ]
    workers = min(4, os.cpu_count() or 1) if n >= 50_000 else 1
    for i, part in enumerate(_parts(specs, workers)):
        for name, (blob, nrows) in part.blobs.items():
            csv[name].f.write(blob)
            csv[name].rows += nrows
        old_total += part.old_total
        h2 += part.h2
        for k, v in part.counts.items():
            counts[k] = counts.get(k, 0) + v
        if progress:
            progress(min(n, (i + 1) * CHUNK), n)
    csv[OLD].close(tail=["合计", "", "", "", "", "", "", "", "", "", f"{old_total:.2f}", ""])
    counts["totals_row"] = 1
    for c in csv.values():
        if not c.f.closed:
            c.close()
    rows = {name: c.rows for name, c in csv.items()}
    if split_h2:
        _write_xlsx(out_dir / XLSX, h2)
        rows[XLSX] = len(h2)
        counts["title_row"] = 1
    planted = {k: v for k, v in sorted(counts.items()) if not k.startswith("behaviour_")}
    manifest = {
        "as_of": AS_OF.isoformat(),
        "period": AS_OF.isoformat()[:7],
        "seed": seed,
        "size": size,
        "encoding": enc,
        "own_dealers": ["D001"],
        "own_region": "杭州",
        "files": dict(sorted(rows.items())),
        "planted": planted,
        "behaviours": {k[10:]: v for k, v in sorted(counts.items()) if k.startswith("behaviour_")},
    }
    tmp = out_dir / "sample.json.part"
    tmp.write_text(json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, out_dir / "sample.json")
    (out_dir / "crmtool.toml").write_text(SAMPLE_CONFIG, encoding="utf-8")
    return manifest


# The sample dealership's own config: `crmtool demo` uses it, and so can you:
# crmtool --config crmtool-sample/crmtool.toml ...
SAMPLE_CONFIG = """\
# crmtool config of the sample dealership (written by `crmtool sample`)
own_dealers = ["D001"]
own_region = "杭州"

[tiers.series_groups]
B = ["Polo", "朗逸"]
C = ["迈腾", "途观L"]
"""


def _amount(text: str) -> float:
    return float(text.replace("￥", "").replace(",", "")) if text else 0.0


def _write_xlsx(path: Path, rows: list[list[str]]) -> None:
    """The second half of 2021 as an Excel export: a title row, text ids, real dates."""
    from datetime import datetime

    import xlsxwriter

    tmp = path.with_name(path.name + ".part")
    wb = xlsxwriter.Workbook(str(tmp), {"strings_to_numbers": False})
    wb.set_properties({"created": datetime(2022, 1, 2, 9, 0, 0), "author": "DMS"})
    day = wb.add_format({"num_format": "yyyy-mm-dd"})
    ws = wb.add_worksheet("维修工单")
    ws.write_string(0, 0, "维修工单明细（2021-07-01 至 2021-12-31）")
    for c, h in enumerate(RO_HEAD):
        ws.write_string(1, c, h)
    for r, row in enumerate(rows, start=2):
        for c, v in enumerate(row):
            if c in (3, 4) and v:
                d = date.fromisoformat(v)
                ws.write_datetime(r, c, datetime(d.year, d.month, d.day), day)
            elif c in (5, 8, 9, 10) and v and "万" not in v:
                ws.write_number(r, c, _amount(v))
            elif v:
                ws.write_string(r, c, v)
    wb.close()
    os.replace(tmp, path)
