"""Issue 14 item 5 (outputs): no private data left behind when a report or list write is killed
with SIGTERM. The signal is sent by the process to itself at a chosen point (a patched hook),
so the test is deterministic: no sleeps, no timing."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from crmtool import db

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")

# Runs crmtool in a fresh interpreter after patching HOOK (module:attribute) so that, once it
# has run, the process sends itself SIGTERM; crmtool's handler turns it into an interrupt.
SCRIPT = textwrap.dedent("""
    import importlib, os, signal, sys
    module, _, attr = sys.argv[1].rpartition(":")
    owner_path, _, name = attr.rpartition(".")
    owner = importlib.import_module(module)
    for part in filter(None, owner_path.split(".")):
        owner = getattr(owner, part)
    original = getattr(owner, name)

    def hook(*args, **kwargs):
        out = original(*args, **kwargs)
        os.kill(os.getpid(), signal.SIGTERM)
        return out

    setattr(owner, name, hook)
    from crmtool.cli.app import main
    main(sys.argv[2:])
""")
XLSX_PARTS = "xlsxwriter.packager:Packager._create_package"  # parts assembled, not yet zipped


def run_killed(hook: str, tmpdir: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "TMPDIR": str(tmpdir), "TEMP": str(tmpdir), "TMP": str(tmpdir)}
    return subprocess.run(
        [sys.executable, "-c", SCRIPT, hook, *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )


@pytest.fixture(scope="module")
def dbfile(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("leftovers") / "crm.duckdb"
    con = db.connect(path)
    con.execute(
        "INSERT INTO customers (customer_id, name, phone) VALUES"
        " ('C1', '张三', '13800138000'), ('C2', '李四', '13900139000')"
    )
    con.execute(
        "INSERT INTO vehicles (vin, customer_id, series, sale_date, sale_channel) VALUES"
        " ('V1', 'C1', '迈腾', DATE '2021-01-01', 'own'),"
        " ('V2', 'C2', '朗逸', DATE '2021-10-01', 'own')"
    )
    con.execute(
        "INSERT INTO repair_orders (ro_id, dealer_code, vin, settle_date, ro_type, payer,"
        " total_amount) VALUES ('R1', 'D001', 'V1', DATE '2021-06-01', 'maintenance',"
        " 'customer', 500), ('R9', 'D001', 'V2', DATE '2022-05-20', 'body_paint',"
        " 'insurance', 12000)"
    )
    con.close()
    return path


def everything(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


def assert_interrupted(r: subprocess.CompletedProcess) -> None:
    assert "Traceback" not in r.stderr, r.stderr
    assert (r.returncode, r.stderr) == (130, "crmtool: error: interrupted\n")


def test_sigterm_during_report_leaves_nothing(dbfile, tmp_path):
    tmpdir, out = tmp_path / "tmp", tmp_path / "reports"
    tmpdir.mkdir()
    out.mkdir()
    (out / "keep.txt").write_text("previous")
    r = run_killed(
        XLSX_PARTS,
        tmpdir,
        "--db",
        str(dbfile),
        "--as-of",
        "2022-06-30",
        "report",
        "--period",
        "2022-05",
        "--out",
        str(out),
    )
    assert_interrupted(r)
    assert everything(tmpdir) == []  # no workbook part with phones in $TMPDIR
    # the HTML was complete in .crmtool-tmp when the workbook was killed: removed too
    assert everything(out) == ["keep.txt"]


@pytest.mark.parametrize(
    "args",
    [
        ["segment", "-o", "{out}/calls.xlsx"],
        ["segment", "--format", "xlsx", "-o", "{out}/calls.bin"],
        [
            "churn",
            "--status",
            "lost,at_risk,general,loyal,new",
            "-o",
            "{out}/churn.xlsx",
            "--split-by",
            "series",
        ],
    ],
    ids=["segment", "segment-format", "churn-split"],
)
def test_sigterm_during_list_write_leaves_nothing(dbfile, tmp_path, args):
    tmpdir, out = tmp_path / "tmp", tmp_path / "lists"
    tmpdir.mkdir()
    out.mkdir()
    r = run_killed(
        XLSX_PARTS,
        tmpdir,
        "--db",
        str(dbfile),
        "--as-of",
        "2022-06-30",
        *[a.format(out=out) for a in args],
    )
    assert_interrupted(r)
    assert everything(tmpdir) == []
    assert everything(out) == []


def test_sigterm_after_the_temp_file_is_written_leaves_nothing(dbfile, tmp_path):
    """Killed once the list's bytes are in the temp file, before the rename."""
    tmpdir, out = tmp_path / "tmp", tmp_path / "lists"
    tmpdir.mkdir()
    out.mkdir()
    r = run_killed(
        "pathlib:Path.write_bytes",
        tmpdir,
        "--db",
        str(dbfile),
        "--as-of",
        "2022-06-30",
        "segment",
        "-o",
        str(out / "calls.csv"),
    )
    assert_interrupted(r)
    assert everything(tmpdir) == []
    assert everything(out) == []


def test_uninterrupted_run_of_the_harness_writes_the_file(dbfile, tmp_path):
    """The hook harness itself is sound: a hook that never fires lets the write finish."""
    tmpdir, out = tmp_path / "tmp", tmp_path / "lists"
    tmpdir.mkdir()
    out.mkdir()
    env = {**os.environ, "TMPDIR": str(tmpdir)}
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "crmtool",
            "--db",
            str(dbfile),
            "--as-of",
            "2022-06-30",
            "segment",
            "-o",
            str(out / "calls.xlsx"),
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert r.returncode == 0, r.stderr
    assert everything(out) == ["calls.xlsx"] and everything(tmpdir) == []
