"""Every list command honours the shared output flags (issue 20 item 6): --format, -o,
--where, --sort, --columns, --limit, --mask-pii, --encoding, --lang (cli/options.ListOutput).

Each list command runs on the demo as its first help example does (that example returns rows
on the demo: tests/test_cli_examples.py), without the shared flags the example may carry:
once as JSON (the reference), once shaped (--where, --sort, --columns, --limit: the expected
rows are the reference filtered, stably sorted and cut here in Python), once written to a
file with -o, --mask-pii, --encoding gbk and --lang en."""

from __future__ import annotations

import csv
import io
import json
import re
import shlex
import shutil
from pathlib import Path

import pytest
import typer
from builders import commands, invoke

from crmtool.cli import app
from crmtool.cli.options import ListOutput, _option_fields

AS_OF = "2021-12-31"  # the sample's own as_of
SHARED = {f.name for f in _option_fields()}
ROOT = typer.main.get_command(app)


def _command(path: tuple[str, ...]):  # noqa: ANN202
    cmd = ROOT
    for name in path:
        cmd = cmd.commands[name]
    return cmd


LISTS = [p for p in commands() if SHARED <= {q.name for q in _command(p).params}]


def _example(path: tuple[str, ...]) -> list[str]:
    """The arguments of the command's first help example, up to a pipe or redirection,
    without the shared flags (and their values) it may carry, nor `--mark` (a write-back that
    would change the list between two runs)."""
    text = invoke(*path, "--help").stdout
    block = text.split("Examples:", 1)[1].split("\nOptions:", 1)[0]
    line = next(s.strip() for s in block.splitlines() if s.strip().startswith("crmtool "))
    words = shlex.split(re.split(r"[|>]", line)[0])[1 + len(path) :]
    flags = {
        opt: p.is_flag
        for p in _command(path).params
        if p.name in SHARED
        for opt in (*p.opts, *p.secondary_opts)
    }
    out, skip = [], False
    for w in words:
        if skip:
            skip = False
        elif w == "--mark":
            continue
        elif w in flags:
            skip = not flags[w]
        elif w.split("=", 1)[0] in flags:
            continue
        else:
            out.append(w)
    return out


def test_the_list_commands_are_found() -> None:
    """ListOutput's flags are what makes a list command; the lists the docs name are here."""
    assert {"fmt", "out", "where", "sort", "columns", "limit", "mask_pii"} <= SHARED
    assert SHARED == {f.name for f in _option_fields()} and ListOutput().fmt is None
    names = {" ".join(p) for p in LISTS}
    assert {"segment", "churn", "due", "campaign", "leads", "care callbacks"} <= names


@pytest.fixture
def dbfile(demo: Path, tmp_path: Path) -> tuple[Path, Path]:
    """A copy of the demo database (lists may cache rule results in it) and its config."""
    shutil.copyfile(demo / "crmtool-demo.duckdb", tmp_path / "crm.duckdb")
    return tmp_path / "crm.duckdb", demo / "crmtool-demo.toml"


@pytest.mark.parametrize("path", LISTS, ids=" ".join)
def test_list_command_honours_the_shared_flags(
    path: tuple[str, ...], dbfile: tuple[Path, Path], tmp_path: Path
) -> None:
    db, cfg = dbfile
    args = [*path, *_example(path)]

    def run(*more: str):  # noqa: ANN202
        r = invoke(*args, *more, db=db, config=cfg, as_of=AS_OF)
        assert r.exit_code == 0, (args, more, r.stderr)
        return r

    reference = json.loads(run("--format", "json").stdout)
    assert reference, f"{' '.join(args)} lists nothing on the demo"
    columns = list(reference[0])
    key, other = columns[0], columns[1]

    # --where, --sort (descending, nulls last, ties in list order), --columns, --limit
    shaped = json.loads(
        run(
            "--format", "json", "--where", f"{key} IS NOT NULL", "--sort", f"-{key}",
            "--columns", f"{key},{other}", "--limit", "3",
        ).stdout
    )  # fmt: skip
    kept = [r for r in reference if r[key] is not None]
    expected = sorted(kept, key=lambda r: r[key], reverse=True)[:3]
    assert shaped == [{key: r[key], other: r[other]} for r in expected]

    # -o FILE.csv: the format from the extension; GBK; machine names whatever --lang says;
    # phones and names masked
    out = tmp_path / "list.csv"
    run("-o", str(out), "--mask-pii", "--encoding", "gbk", "--lang", "en")
    text = out.read_bytes().decode("gbk")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert list(rows[0]) == columns and len(rows) == len(reference)
    for masked, plain in zip(rows, reference, strict=True):
        if phone := plain.get("phone"):  # 13812345678 -> 138****5678; odd phones starred too
            shape = r"1\d\d\*{4}\d{4}" if re.fullmatch(r"1\d{10}", phone) else r".*\*.*"
            assert re.fullmatch(shape, masked["phone"]), (phone, masked["phone"])
        if plain.get("name") and len(name := plain["name"].strip()) > 1:  # 张三 -> 张*
            assert masked["name"] == name[0] + "*" * (len(name) - 1)
