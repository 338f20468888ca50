"""The README's command lines work as printed (issue 15; rulebook §16: the quick start, tour
and cron lines are run, benchmark lines are checked with --help).

Runs in a fresh folder: `exports/` holds the bundled sample; the cron line gets exports whose
newest month is last month. `pip install …` is the environment this test runs in, so of a
quick-start line only the part after `pip install … &&` runs; the test suite line runs one
small test file instead of the whole suite it is part of."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import pytest

from crmtool.sample import bundled_sample_dir

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def _section(title: str) -> str:
    return README.split(f"## {title}", 1)[1].split("\n## ", 1)[0]


def _code_lines(title: str) -> list[str]:
    """The command lines of a section's code blocks, comments dropped."""
    blocks = re.findall(r"```\w*\n(.*?)```", _section(title), re.S)
    lines = [re.sub(r"\s+#\s.*$", "", line).strip() for b in blocks for line in b.splitlines()]
    return [line for line in lines if line and not line.startswith("#")]


QUICK = _code_lines("Quick start")
TOUR = _code_lines("A tour") + [
    " ".join(m.split())
    for m in re.findall(r"`(crmtool [^`…]+)`", _section("A tour"))
    if "--db crmtool-demo.duckdb" in m or m == "crmtool demo --keep"
]
CRON = _code_lines("Monthly report from cron")
BENCH = re.findall(r"`(python bench/\S+[^`]*)`", _section("Performance"))


def _run(cwd: Path, line: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CRMTOOL_")}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    return subprocess.run(
        line,
        shell=True,
        executable="/bin/bash",
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_the_readme_has_the_lines_this_test_runs() -> None:
    assert len(QUICK) == 2 and len(TOUR) >= 18 and len(CRON) == 1 and BENCH


@pytest.fixture(scope="module")
def tour_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("tour")
    shutil.copytree(
        bundled_sample_dir(),
        folder / "exports",
        ignore=shutil.ignore_patterns("__init__.py", "*.toml", "*.json", "__pycache__"),
    )
    return folder


def test_quick_start(tour_dir: Path) -> None:
    for line in QUICK:
        assert line.startswith("pip install ") and " && " in line, line
        rest = line.split(" && ", 1)[1]
        if rest.startswith("python -m pytest -q"):  # the suite line's flags, on one small file
            rest = f"{rest} -p no:cacheprovider {ROOT / 'tests/test_sample_as_of.py'}"
        proc = _run(tour_dir, rest)
        assert proc.returncode == 0, (line, proc.stderr[-2000:])


def test_tour_lines_run_as_printed(tour_dir: Path) -> None:
    """In order (load first; forget before the report); each exits 0. The tour is written
    for this month's exports; on the sample, each line gets the sample's as_of appended
    (a global option: the same anywhere on the line)."""
    for line in TOUR:
        proc = _run(tour_dir, line if "--as-of" in line else f"{line} --as-of 2021-12-31")
        assert proc.returncode == 0, (line, proc.stderr[-2000:])
        assert "Traceback" not in proc.stderr, line
    assert (tour_dir / "reports" / "crmtool-report-2021-12.html").exists()
    assert (tour_dir / "calls.xlsx").exists() and (tour_dir / "due.xlsx").exists()


def test_cron_line_runs_as_printed(tmp_path: Path) -> None:
    """Last month's exports in exports/: the line loads them and writes last month's report,
    silently (-q), exit 0."""
    (line,) = CRON
    fields = line.split(None, 5)
    assert fields[:5] == ["0", "6", "1", "*", "*"] and fields[5].startswith("cd /srv/crm && ")
    command = fields[5].replace("cd /srv/crm", f"cd {tmp_path}", 1)
    today = date.today()
    last_month_day = today.replace(day=1) - timedelta(days=10)
    (tmp_path / "exports").mkdir()
    (tmp_path / "exports" / "工单.csv").write_text(
        "工单号,经销商代码,VIN,结算日期,维修类型,付费方式,结算金额\n"
        f"R1,D001,LSVAA4183E2000001,{last_month_day},定期保养,自费,600\n"
        f"R2,D001,LSVAA4183E2000001,{today},一般维修,自费,300\n",
        encoding="utf-8",
    )
    proc = _run(tmp_path, command)
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, "", "")
    # the month ending today when today is a month's last day, else last month (rulebook §16)
    label = f"{today:%Y-%m}" if (today + timedelta(days=1)).day == 1 else f"{last_month_day:%Y-%m}"
    assert {p.name for p in (tmp_path / "reports").iterdir()} >= {
        f"crmtool-report-{label}.html",
        f"crmtool-report-{label}.xlsx",
    }


@pytest.mark.parametrize("line", BENCH)
def test_benchmark_lines_are_checked_with_help(line: str) -> None:
    script = line.split()[1]
    proc = subprocess.run(
        [sys.executable, script, "--help"], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0 and proc.stdout.startswith("usage:"), proc.stderr
