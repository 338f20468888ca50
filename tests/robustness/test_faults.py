"""Issue 7: faults. `crmtool load` and `crmtool report` are interrupted (SIGINT, SIGTERM,
SIGKILL) at seeded random moments in a real process; the database is then exactly as before or
exactly as after a complete load, never in between, and the report folder holds the previous
files, intact, and nothing partial. Two loads at once; a full disk (RLIMIT_FSIZE)."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import random
import resource
import shutil
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import duckdb
import pytest

from crmtool import db

V1 = "LSVAA4183E2000001"
H = "工单号,VIN,结算日期,结算金额\n"
N_FILES = 8
SEED = 7  # the random kill moments are reproducible
pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals and rlimits")


def crmtool(*args: str, **kw) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "crmtool", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, **kw)


def finish(p: subprocess.Popen, timeout: float = 120) -> tuple[int, str, str]:
    out, err = p.communicate(timeout=timeout)
    return p.returncode, out, err


def _check_exit(rc: int, err: str, sig: int) -> None:
    """0 (finished first), 130 with at most the one line 'interrupted', or killed by the signal
    itself (SIGKILL; SIGTERM before the handler is installed; SIGINT after the work is done).
    SIGTERM is handled as Ctrl-C, so one that lands while the interpreter exits, after the
    work is done, ends the process as SIGINT does."""
    assert "Traceback" not in err, err
    if rc == 130:
        assert err.splitlines()[-1:] in (["crmtool: error: interrupted"], []), err
    else:
        also = (-signal.SIGINT,) if sig == signal.SIGTERM else ()
        assert rc in (0, -signal.SIGKILL, -int(sig), *also), err


def state(path: Path) -> dict[str, tuple[int, str]]:
    """Every table: (rows, checksum of its contents); load timestamps left out."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        tables = [t for (t,) in con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE NOT temporary ORDER BY 1").fetchall()]
        out = {}
        for t in tables:
            rows = con.execute(f'SELECT * FROM "{t}"').fetchall()
            clean = sorted(repr(tuple(v for v in r if not isinstance(v, dt.datetime)))
                           for r in rows)
            out[t] = (len(rows), hashlib.sha256("\n".join(clean).encode()).hexdigest())
        return out
    finally:
        con.close()


@pytest.fixture(scope="module")
def exports(tmp_path_factory) -> Path:
    """Many small files (a load slow enough to interrupt) and a first, already loaded one."""
    root = tmp_path_factory.mktemp("exports")
    (root / "in").mkdir()
    for k in range(N_FILES):
        body = "".join(f"R{k}_{i},{V1},2021-01-{1 + i % 28:02d},{i}\n" for i in range(25))
        (root / "in" / f"ro{k:03d}.csv").write_bytes((H + body).encode("gbk"))
    (root / "first.csv").write_bytes(("客户编号,姓名,手机\nC1,张三,13800138000\n"
                                      "C2,李四,13900139000\n").encode("gbk"))
    base = root / "before.duckdb"
    rc, _, err = finish(crmtool("--db", str(base), "load", str(root / "first.csv")))
    assert rc == 0, err
    after = root / "after.duckdb"
    shutil.copy(base, after)
    started = time.monotonic()
    rc, _, err = finish(crmtool("--db", str(after), "load", str(root / "in")))
    assert rc == 0, err
    (root / "duration").write_text(str(time.monotonic() - started))
    return root


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM, signal.SIGKILL],
                         ids=["SIGINT", "SIGTERM", "SIGKILL"])
def test_interrupted_load_is_all_or_nothing(exports, tmp_path, sig):
    before, after = state(exports / "before.duckdb"), state(exports / "after.duckdb")
    assert before != after and after["repair_orders"][0] == N_FILES * 25
    duration = float((exports / "duration").read_text())
    rng = random.Random(f"{SEED}-{int(sig)}")
    outcomes = []
    for _ in range(3):
        target = tmp_path / "crm.duckdb"
        target.unlink(missing_ok=True)
        target.with_suffix(".duckdb.wal").unlink(missing_ok=True)
        shutil.copy(exports / "before.duckdb", target)
        p = crmtool("--db", str(target), "load", str(exports / "in"))
        time.sleep(rng.uniform(0.2, duration * 1.1))
        p.send_signal(sig)
        rc, out, err = finish(p)
        now = state(target)
        assert now in (before, after), f"half-loaded database after {sig!r}"
        assert "Traceback" not in err
        _check_exit(rc, err, sig)
        if rc == 0:
            assert now == after
        outcomes.append("after" if now == after else "before")
    assert outcomes  # recorded for the report: every run ended in one of the two states


def _report_db(path: Path) -> None:
    con = db.connect(path)
    con.execute("INSERT INTO customers (customer_id, name, phone) VALUES"
                " ('C1', '张三', '13800138000'), ('C2', '李四', '13900139000')")
    con.execute("INSERT INTO vehicles (vin, customer_id, series, sale_date, sale_channel) VALUES"
                " ('V1', 'C1', '迈腾', DATE '2021-01-01', 'own'),"
                " ('V2', 'C2', '朗逸', DATE '2021-10-01', 'own')")
    con.execute("INSERT INTO repair_orders (ro_id, dealer_code, vin, settle_date, ro_type, payer,"
                " total_amount) VALUES ('R1', 'D001', 'V1', DATE '2021-06-01', 'maintenance',"
                " 'customer', 500), ('R9', 'D001', 'V2', DATE '2022-05-20', 'body_paint',"
                " 'insurance', 12000)")
    con.close()


def _visible(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in folder.iterdir() if not p.name.startswith(".")}


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM, signal.SIGKILL],
                         ids=["SIGINT", "SIGTERM", "SIGKILL"])
def test_interrupted_report_leaves_previous_files(tmp_path, sig):
    dbp = tmp_path / "crm.duckdb"
    _report_db(dbp)
    out = tmp_path / "reports"
    args = ["--db", str(dbp), "--as-of", "2022-06-30", "report", "--period", "2022-05",
            "--out", str(out)]
    started = time.monotonic()
    rc, _, err = finish(crmtool(*args))
    duration = time.monotonic() - started
    assert rc == 0, err
    previous = _visible(out)
    assert sorted(previous) == ["crmtool-report-2022-05.html", "crmtool-report-2022-05.xlsx"]
    rng = random.Random(f"{SEED}-report-{int(sig)}")
    for _ in range(2):
        p = crmtool(*args)
        time.sleep(rng.uniform(duration * 0.3, duration * 1.05))
        p.send_signal(sig)
        rc, _, err = finish(p)
        _check_exit(rc, err, sig)
        now = _visible(out)
        assert sorted(now) == sorted(previous)  # nothing partial or temporary is visible
        html = "crmtool-report-2022-05.html"
        assert now[html] == previous[html]  # same input, same page, finished or not
        xlsx = out / "crmtool-report-2022-05.xlsx"  # the previous or a new, complete one
        with zipfile.ZipFile(xlsx) as z:
            assert z.testzip() is None and "xl/workbook.xml" in z.namelist()


def test_two_loads_at_once_one_waits_or_fails_cleanly(exports, tmp_path):
    target = tmp_path / "crm.duckdb"
    shutil.copy(exports / "before.duckdb", target)
    second = tmp_path / "second.csv"
    second.write_bytes((H + f"S1,{V1},2021-03-01,5\n").encode())
    a = crmtool("--db", str(target), "load", str(exports / "in"))
    time.sleep(0.8)  # a holds the database (or, on a slow machine, has not opened it yet)
    b = crmtool("--db", str(target), "load", str(second))
    rc_b, _, err_b = finish(b)
    rc_a, _, err_a = finish(a)
    assert rc_a == 0, err_a
    if rc_b != 0:  # refused while a held the database: one line, nothing loaded by b
        assert err_b == (f"crmtool: error: database {target} is in use by another crmtool "
                         "process; try again later or pass --wait SECONDS\n")
    now = state(target)
    assert now["repair_orders"][0] == N_FILES * 25 + (rc_b == 0)
    # with --wait both complete, in some order, nothing lost
    c = crmtool("--db", str(target), "--wait", "60", "load", str(exports / "first.csv"))
    d = crmtool("--db", str(target), "--wait", "60", "load", str(second))
    assert finish(c)[0] == 0 and finish(d)[0] == 0
    con = duckdb.connect(str(target), read_only=True)
    assert con.execute("SELECT count(*) FROM repair_orders").fetchall() == \
        [(N_FILES * 25 + 1,)]
    con.close()


def _limit_file_size(limit: int):
    def pre() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # the write fails with EFBIG instead
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    return pre


def _list_db(path: Path) -> None:
    con = db.connect(path)
    con.execute("INSERT INTO customers (customer_id, name, phone) SELECT 'C' || i, '客户' || i,"
                " '138' || lpad(i::VARCHAR, 8, '0') FROM range(400) t(i)")
    con.execute("INSERT INTO vehicles (vin, customer_id, series, sale_date, sale_channel) "
                "SELECT 'V' || i, 'C' || i, '迈腾', DATE '2021-01-01', 'own' FROM range(400) t(i)")
    con.close()


def test_full_disk_on_list_output(tmp_path):
    dbp = tmp_path / "crm.duckdb"
    _list_db(dbp)
    out = tmp_path / "out"
    out.mkdir()
    p = crmtool("--db", str(dbp), "--as-of", "2022-06-30", "churn", "--format", "csv", "-o",
                str(out / "calls.csv"), preexec_fn=_limit_file_size(4096))
    rc, stdout, err = finish(p)
    assert (rc, stdout) == (1, "")
    assert err.startswith("crmtool: error: ") and len(err.splitlines()) == 1, err
    assert "too large" in err.lower(), err
    assert _visible(out) == {}


def test_full_disk_on_report(tmp_path):
    dbp = tmp_path / "crm.duckdb"
    _report_db(dbp)
    out = tmp_path / "reports"
    out.mkdir()
    (out / "keep.txt").write_text("previous")
    p = crmtool("--db", str(dbp), "--as-of", "2022-06-30", "report", "--period", "2022-05",
                "--out", str(out), preexec_fn=_limit_file_size(8192))
    rc, stdout, err = finish(p)
    assert rc == 1, err
    assert err.startswith("crmtool: error: ") and len(err.splitlines()) == 1, err
    assert "too large" in err.lower(), err
    assert _visible(out) == {"keep.txt": b"previous"}
    assert not list((out / ".crmtool-tmp").glob("*")) if (out / ".crmtool-tmp").exists() else True
    assert os.listdir(out) in (["keep.txt"], )
