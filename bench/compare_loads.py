"""Loads with two versions of crmtool give the same database (issue 18, rules §16: every
count, reject line and flag exactly as before).

python bench/compare_loads.py OLD_SRC DATA_UTF8 [DATA_GBK] [--work DIR]

OLD_SRC is a source tree of the version to compare with (`git archive REV | tar -x -C DIR`);
the version compared is the one this script imports. Each scenario loads with both versions
into fresh databases and compares every table (loads, rejects, flags, history_*, the canonical
tables, …) as multisets of rows; TIMESTAMP columns (loaded_at) are left out. Scenarios: the
whole folder in one load (UTF-8, and GB18030 when given); the files one load each, then the
repair orders of the last year again with --force (duplicates, history), then `unload` of that
load. Exit 1 on any difference.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb

HERE = Path(__file__).resolve().parent
NEW_SRC = HERE.parent


def crm(src: Path, db: Path, args: list[str], cwd: Path) -> None:
    """`crmtool ARGS` of the tree `src` (its folder first on PYTHONPATH)."""
    env = {**os.environ, "PYTHONPATH": str(src)}
    cmd = [sys.executable, "-m", "crmtool", "-q", "--db", str(db), *args]
    done = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    if done.returncode not in (0, 1):
        raise SystemExit(f"{src}: {' '.join(args)} failed ({done.returncode}): {done.stderr}")


def scenarios(utf8: Path, gbk: Path | None) -> dict[str, list[list[str]]]:
    files = sorted(p.name for p in utf8.glob("*.csv"))
    ros = [f for f in files if f.startswith("repair_orders")]
    first = [f for f in files if f not in ros]
    out = {"utf8_folder": [["load", str(utf8)]]}
    if gbk is not None:
        out["gbk_folder"] = [["load", str(gbk)]]
    steps = [["load", str(utf8 / f)] for f in first + ros]
    if ros:
        steps.append(["load", "--force", str(utf8 / ros[-1])])
    out["one_by_one"] = steps
    if ros:
        out["unload_last"] = [*steps, ["unload", str(len(steps))]]
    return out


def tables(con: duckdb.DuckDBPyConnection) -> list[str]:
    return [
        r[0]
        for r in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main' "
            "ORDER BY 1"
        ).fetchall()
    ]


def compare(old: Path, new: Path) -> list[str]:
    """Differences between two databases: tables, columns, and rows (multisets)."""
    con = duckdb.connect()
    con.execute(f"ATTACH '{old}' AS o (READ_ONLY)")
    con.execute(f"ATTACH '{new}' AS n (READ_ONLY)")
    con.execute("USE o")
    t_old = tables(con)
    con.execute("USE n")
    t_new = tables(con)
    con.execute("USE memory")
    diffs = []
    if t_old != t_new:
        diffs.append(f"tables differ: {sorted(set(t_old) ^ set(t_new))}")
    for t in sorted(set(t_old) & set(t_new)):
        cols = {
            db: [
                (c, ty) for c, ty, *_ in con.execute(f"DESCRIBE SELECT * FROM {db}.{t}").fetchall()
            ]
            for db in ("o", "n")
        }
        if cols["o"] != cols["n"]:
            diffs.append(f"{t}: columns differ: {cols['o']} vs {cols['n']}")
            continue
        keep = ", ".join(f'"{c}"' for c, ty in cols["o"] if not ty.startswith("TIMESTAMP"))
        n_old, n_new, only_old, only_new = con.execute(f"""
            SELECT (SELECT count(*) FROM o.{t}), (SELECT count(*) FROM n.{t}),
                   (SELECT count(*) FROM (SELECT {keep} FROM o.{t} EXCEPT ALL
                                          SELECT {keep} FROM n.{t})),
                   (SELECT count(*) FROM (SELECT {keep} FROM n.{t} EXCEPT ALL
                                          SELECT {keep} FROM o.{t}))""").fetchall()[0]
        if n_old != n_new or only_old or only_new:
            sample = con.execute(
                f"(SELECT 'old' AS side, * FROM (SELECT {keep} FROM o.{t} EXCEPT ALL "
                f"SELECT {keep} FROM n.{t}) LIMIT 3) UNION ALL (SELECT 'new', * FROM "
                f"(SELECT {keep} FROM n.{t} EXCEPT ALL SELECT {keep} FROM o.{t}) LIMIT 3)"
            ).fetchall()
            diffs.append(
                f"{t}: rows {n_old} vs {n_new}, only old {only_old}, only new {only_new}; "
                f"e.g. {sample}"
            )
    con.close()
    return diffs


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("old_src", type=Path)
    ap.add_argument("utf8", type=Path)
    ap.add_argument("gbk", type=Path, nargs="?")
    ap.add_argument("--work", type=Path, default=Path("/tmp/crmtool-compare-loads"))
    a = ap.parse_args()
    shutil.rmtree(a.work, ignore_errors=True)
    a.work.mkdir(parents=True)
    if (a.utf8 / "crmtool.toml").exists():  # the sample's config (own dealers, series)
        shutil.copy(a.utf8 / "crmtool.toml", a.work / "crmtool.toml")
    bad = 0
    for name, steps in scenarios(a.utf8.resolve(), a.gbk.resolve() if a.gbk else None).items():
        dbs = {}
        for side, src in (("old", a.old_src.resolve()), ("new", NEW_SRC)):
            db = a.work / f"{name}.{side}.duckdb"
            for step in steps:
                crm(src, db, step, a.work)
            dbs[side] = db
        diffs = compare(dbs["old"], dbs["new"])
        print(f"{name}: " + ("identical (every table, every row)" if not diffs else "DIFFERS"))
        for d in diffs:
            print(f"  {d}")
        bad += bool(diffs)
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
