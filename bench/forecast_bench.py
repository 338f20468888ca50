"""Forecast benchmark (issue 17): crmtool's BG/NBD + Gamma-Gamma against `lifetimes` and
PyMC-Marketing's MAP fit on the same summary arrays, and the whole `crmtool forecast` command
on a store with ≈ 10 repair orders per vehicle.

    python bench/forecast_bench.py --vehicles 50000            # a check that it works
    python bench/forecast_bench.py --vehicles 1000000          # the issue's size (not in CI)

Every measurement runs in a fresh process (`--worker NAME`): CPU seconds of the BG/NBD fit,
the Gamma-Gamma fit and the 12-month value per vehicle, and the process's peak RSS. Times in
days, spend in thousands of yuan for all (rulebook §16); PyMC-Marketing gets flat priors
(HalfFlat) so its MAP is the maximum-likelihood estimate. A baseline that fails or does not
converge is reported as such. The libraries are bench extras (`pip install -e .[bench]`),
never imported by crmtool.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
CACHE = HERE / "cache" / "forecast"
AS_OF = date(2021, 12, 31)
TRUE = {"r": 2.0, "alpha": 200.0, "a": 0.6, "b": 6.0, "p": 4.0, "q": 5.0, "gamma": 2000.0}
HORIZON = 365


def simulate(n: int, seed: int = 17) -> dict[str, np.ndarray]:
    """BG/NBD vehicles (days) with Gamma-Gamma spends (yuan): x, t_x, T, the mean repeat spend
    and, for the store, every paid visit day offset and amount."""
    g = np.random.default_rng(seed)
    lam, p = g.gamma(TRUE["r"], 1 / TRUE["alpha"], n), g.beta(TRUE["a"], TRUE["b"], n)
    T = g.integers(30, 2000, n).astype(float)
    events, dropout = g.poisson(lam * T), g.geometric(p)
    x = np.minimum(events, dropout)
    tx = np.floor(np.where(x > 0, T * g.beta(np.maximum(x, 1), np.maximum(events - x + 1, 1)), 0.0))
    nu = g.gamma(TRUE["q"], 1 / TRUE["gamma"], n)
    visits = x + 1  # the first paid visit, then x repeats; inner ones uniform in (0, t_x)
    owner = np.repeat(np.arange(n), visits)
    start = np.cumsum(visits) - visits
    rank = np.arange(owner.size) - np.repeat(start, visits)
    span = np.repeat(tx, visits)
    offset = np.where(
        rank == 0,
        0.0,
        np.where(rank == np.repeat(x, visits), span, g.uniform(0, 1, owner.size) * span),
    )
    amount = np.round(g.gamma(TRUE["p"], 1 / nu[owner]), 2)
    repeat_sum = np.bincount(owner, weights=np.where(rank > 0, amount, 0.0), minlength=n)
    mean = np.where(x > 0, repeat_sum / np.maximum(x, 1), 0.0)
    return {
        "x": x.astype(float),
        "t_x": tx,
        "T": T,
        "mean": mean,
        "owner": owner,
        "offset": np.floor(offset),
        "amount": amount,
    }


def _data(n: int) -> Path:
    path = CACHE / f"summary-{n}.npz"
    if not path.exists():
        CACHE.mkdir(parents=True, exist_ok=True)
        np.savez(path, **simulate(n))
    return path


# -- workers (each in its own process) -------------------------------------------------------


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def worker_crmtool(d: dict[str, np.ndarray]) -> dict[str, object]:
    from crmtool import forecast_model as fm

    x, tx, T, m = d["x"], d["t_x"], d["T"], d["mean"] / 1000
    t0 = _cpu()
    bg = fm.fit_bgnbd(x, tx, T)
    t1 = _cpu()
    gg = fm.fit_gamma_gamma(x, m)
    t2 = _cpu()
    value = fm.expected_visits(bg.params, HORIZON, x, tx, T) * fm.expected_ticket(gg.params, x, m)
    t3 = _cpu()
    return {
        "bgnbd_s": t1 - t0,
        "gg_s": t2 - t1,
        "clv_s": t3 - t2,
        "params": {**bg.as_dict(), **gg.as_dict()},
        "ll": bg.log_likelihood,
        "converged": bg.converged and gg.converged,
        "value_sum": float(value.sum()),
    }


def worker_lifetimes(d: dict[str, np.ndarray]) -> dict[str, object]:
    import pandas as pd
    from lifetimes import BetaGeoFitter, GammaGammaFitter

    x, tx, T, m = d["x"], d["t_x"], d["T"], d["mean"] / 1000
    t0 = _cpu()
    bg = BetaGeoFitter(penalizer_coef=0.0)
    bg.fit(pd.Series(x), pd.Series(tx), pd.Series(T))
    t1 = _cpu()
    rep = x > 0
    gg = GammaGammaFitter(penalizer_coef=0.0)
    gg.fit(pd.Series(x[rep]), pd.Series(m[rep]))
    t2 = _cpu()
    # lifetimes' CLV walks months of 30 days; 12 of them = 360 days (its own definition)
    value = gg.customer_lifetime_value(
        bg,
        pd.Series(x),
        pd.Series(tx),
        pd.Series(T),
        pd.Series(m),
        time=12,
        freq="D",
        discount_rate=0.0,
    )
    t3 = _cpu()
    params = {
        **{k: float(v) for k, v in bg.params_.items()},
        **{k if k != "v" else "gamma": float(v) for k, v in gg.params_.items()},
    }
    conv = bool(getattr(bg, "_scipy_result", None) is None or bg._scipy_result.success)  # noqa: SLF001
    return {
        "bgnbd_s": t1 - t0,
        "gg_s": t2 - t1,
        "clv_s": t3 - t2,
        "params": params,
        "ll": None,
        "converged": conv,
        "value_sum": float(np.asarray(value).sum()),
    }


def worker_pymc(d: dict[str, np.ndarray]) -> dict[str, object]:
    import pandas as pd
    from pymc_marketing.clv import BetaGeoModel, GammaGammaModel
    from pymc_marketing.prior import Prior

    x, tx, T, m = d["x"], d["t_x"], d["T"], d["mean"] / 1000
    ids = np.arange(len(x))
    flat = {k: Prior("HalfFlat") for k in ("r", "alpha", "a", "b")}
    t0 = _cpu()
    bg = BetaGeoModel(
        data=pd.DataFrame({"customer_id": ids, "frequency": x, "recency": tx, "T": T}),
        model_config=flat,
    )
    bg.fit(method="map", progressbar=False)
    t1 = _cpu()
    rep = x > 0
    gg = GammaGammaModel(
        data=pd.DataFrame({"customer_id": ids[rep], "frequency": x[rep], "monetary_value": m[rep]}),
        model_config={k: Prior("HalfFlat") for k in ("p", "q", "v")},
    )
    gg.fit(method="map", progressbar=False)
    t2 = _cpu()
    frame = pd.DataFrame(
        {
            "customer_id": ids,
            "frequency": x,
            "recency": tx,
            "T": T,
            "monetary_value": np.where(rep, m, np.nan),
        }
    )[rep]
    value = gg.expected_customer_lifetime_value(
        transaction_model=bg, data=frame, future_t=12, discount_rate=0.0, time_unit="D"
    )
    t3 = _cpu()

    def first(result: object, k: str) -> float:  # fit_result: the posterior (one MAP draw)
        data = getattr(result, "posterior", result)
        return float(data[k].values.ravel()[0])

    post = {k: first(bg.fit_result, k) for k in ("r", "alpha", "a", "b")}
    post.update({("gamma" if k == "v" else k): first(gg.fit_result, k) for k in ("p", "q", "v")})
    return {
        "bgnbd_s": t1 - t0,
        "gg_s": t2 - t1,
        "clv_s": t3 - t2,
        "params": post,
        "ll": None,
        "converged": None,
        "value_sum": float(np.asarray(value).sum()),
    }


def worker_pipeline(d: dict[str, np.ndarray], db: str) -> dict[str, object]:
    """The whole `crmtool forecast` as a user runs it, in a child process (visits summary in
    DuckDB, both fits, scoring, the list with tiers and status, written to parquet): wall
    time, the child's CPU seconds (DuckDB's threads included) and its peak RSS."""
    out = str(CACHE / "forecast.parquet")
    cmd = [sys.executable, "-m", "crmtool", "--db", db, "--as-of", AS_OF.isoformat()]
    cmd += ["forecast", "--format", "parquet", "-o", out]
    env = {"CRMTOOL_THREADS": str(os.cpu_count() or 2), "CRMTOOL_MEMORY_LIMIT": "1GB"}
    env.update({k: v for k, v in os.environ.items() if k.startswith("CRMTOOL_")})
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    w0 = time.perf_counter()
    proc = subprocess.run(
        cmd, capture_output=True, text=True, check=False, env={**os.environ, **env}
    )
    wall = time.perf_counter() - w0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {
        "cpu_s": cpu,
        "wall_s": wall,
        "rc": proc.returncode,
        "stderr": proc.stderr[-300:],
        "child_rss_mb": after.ru_maxrss / 1024,
        "threads": env["CRMTOOL_THREADS"],
        "memory_limit": env["CRMTOOL_MEMORY_LIMIT"],
    }


def build_store(d: dict[str, np.ndarray], db: str, seed: int = 18) -> int:
    """A crmtool store: one customer-paid maintenance order per simulated paid visit, plus
    what a real store also holds so that the visits summary has to sort it out: a PDS order
    (internal) on each vehicle's sale day, warranty orders on 15 % of the paid visit days
    and on other days, and a reversal (a negative customer-paid order, then a re-issued one)
    on 2 % of the paid visits; ≈ 10 orders per 7.5 paid visits."""
    import polars as pl

    from crmtool import db as crmdb

    g = np.random.default_rng(seed)
    n = len(d["x"])
    first = np.datetime64(AS_OF) - d["T"].astype("timedelta64[D]")
    days = first[d["owner"]] + d["offset"].astype("timedelta64[D]")
    vins = np.char.add("V", np.arange(n).astype(str))
    paid = len(days)
    same = g.random(paid) < 0.15  # warranty work on the same day as a paid visit
    rev = g.random(paid) < 0.02  # a paid order reversed (−amount) and re-issued (+amount)
    k_other = int(0.05 * paid)  # warranty-only days
    other_owner = g.integers(0, n, k_other)
    other_day = first[other_owner] + g.integers(0, 400, k_other).astype("timedelta64[D]")
    other_day = np.minimum(other_day, np.datetime64(AS_OF))
    parts = [
        (d["owner"], days, "maintenance", "customer", d["amount"]),
        (np.arange(n), first - np.timedelta64(30, "D"), "pds", "internal", np.full(n, 300.0)),
        (d["owner"][same], days[same], "warranty", "warranty", np.full(int(same.sum()), 900.0)),
        (other_owner, other_day, "warranty", "warranty", np.full(k_other, 650.0)),
        (d["owner"][rev], days[rev], "maintenance", "customer", -d["amount"][rev]),
        (d["owner"][rev], days[rev], "maintenance", "customer", d["amount"][rev]),
    ]
    ros = pl.concat(
        [
            pl.DataFrame(
                {
                    "vin": vins[owner],
                    "settle_date": day,
                    "ro_type": kind,
                    "payer": payer,
                    "total_amount": amount,
                }
            )
            for owner, day, kind, payer, amount in parts
        ]
    )
    ros = ros.with_columns(
        ro_id=pl.format("R{}", pl.int_range(pl.len())), dealer_code=pl.lit("D001")
    ).select("ro_id", "dealer_code", "vin", "settle_date", "ro_type", "payer", "total_amount")
    vehicles = pl.DataFrame(
        {"vin": vins, "sale_channel": "own", "sale_date": first - np.timedelta64(30, "D")}
    )
    con = crmdb.connect(db)
    con.register("_ros", ros)
    con.register("_veh", vehicles)
    con.execute(
        "INSERT INTO repair_orders (ro_id, dealer_code, vin, settle_date, ro_type, "
        "payer, total_amount) SELECT * FROM _ros"
    )
    con.execute("INSERT INTO vehicles (vin, sale_channel, sale_date) SELECT * FROM _veh")
    con.close()
    return ros.height


def _run_worker(name: str, data: Path, extra: list[str]) -> dict[str, object]:
    cmd = [sys.executable, __file__, "--worker", name, "--data", str(data), *extra]
    load0 = os.getloadavg()[0]
    w = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - w
    load = (load0, os.getloadavg()[0])  # 1-minute load average before and after
    rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    try:
        out = json.loads(proc.stdout.strip().splitlines()[-1])
    except (IndexError, json.JSONDecodeError):
        tail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        out = {"error": tail[:200]}
    out.setdefault("rss_mb", out.get("rss_mb") or rss)
    out["wall_s"] = out.get("wall_s", wall)
    out["load"] = load
    return out


def _orders(db: str) -> int:
    import duckdb

    with duckdb.connect(db, read_only=True) as con:
        return int(con.execute("SELECT count(*) FROM repair_orders").fetchall()[0][0])


def _sig(a: float, b: float) -> bool:
    """The same to 3 significant digits."""
    return f"{a:.3g}" == f"{b:.3g}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--vehicles", type=int, default=50_000)
    ap.add_argument("--libs", default="crmtool,lifetimes,pymc")
    ap.add_argument("--no-pipeline", action="store_true")
    ap.add_argument("--worker")
    ap.add_argument("--data")
    ap.add_argument("--db")
    args = ap.parse_args()
    if args.worker:  # one measurement in this fresh process
        d = dict(np.load(args.data))
        fn = {"crmtool": worker_crmtool, "lifetimes": worker_lifetimes, "pymc": worker_pymc}
        try:
            out = worker_pipeline(d, args.db) if args.worker == "pipeline" else fn[args.worker](d)
        except Exception as e:  # a failing baseline is a result, not a crash
            out = {"error": f"{type(e).__name__}: {str(e).splitlines()[0][:200]}"}
        out["rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(json.dumps(out, default=float))
        return
    n = args.vehicles
    data = _data(n)
    d = dict(np.load(data))
    print(
        f"# forecast bench: {n:,} vehicles, {int((d['x'] + 1).sum()):,} paid visits; "
        f"{os.cpu_count()} cores; Python {platform.python_version()}",
        flush=True,
    )
    results = {}
    for lib in args.libs.split(","):
        results[lib] = _run_worker(lib, data, [])
        print(lib, json.dumps(results[lib], default=float), flush=True)
    if not args.no_pipeline:
        db = str(CACHE / f"store-{n}.duckdb")
        if not Path(db).exists():
            print("building store:", build_store(d, db), "repair orders", flush=True)
        results["pipeline"] = _run_worker("pipeline", data, ["--db", db])
        results["pipeline"]["orders"] = _orders(db)
        print("pipeline", json.dumps(results["pipeline"], default=float), flush=True)
    print()
    print(table(results, n))


def table(results: dict[str, dict], n: int) -> str:
    """The markdown table of RESULTS.md."""
    ours = results.get("crmtool", {})
    lines = [
        f"| {n:,} vehicles | BG/NBD fit CPU s | Gamma-Gamma fit CPU s | 12-month value "
        "CPU s | fit + score CPU s | time / crmtool's | peak RSS MB | r | α (days) | a | "
        "b | p | q | γ (thousands) | agree to 3 sig. digits |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    base = sum(ours.get(k, 0) for k in ("bgnbd_s", "gg_s", "clv_s")) or None
    for lib, r in results.items():
        if lib == "pipeline":
            continue
        if "error" in r:
            lines.append(f"| {lib} | failed: {r['error']} |" + " |" * 13)
            continue
        total = r["bgnbd_s"] + r["gg_s"] + r["clv_s"]
        ratio = f"{total / base:.1f}×" if base else ""
        p = r["params"]
        agree = (
            "—"
            if lib == "crmtool"
            else "yes"
            if all(_sig(p[k], ours["params"][k]) for k in ours.get("params", {}))
            else "no: "
            + ", ".join(k for k in ours.get("params", {}) if not _sig(p[k], ours["params"][k]))
        )
        conv = "" if r.get("converged") is not False else " (**not converged**)"
        lines.append(
            f"| {lib}{conv} | {r['bgnbd_s']:.2f} | {r['gg_s']:.2f} | {r['clv_s']:.2f} | "
            f"{total:.2f} | {ratio} | {r['rss_mb']:.0f} | "
            + " | ".join(f"{p[k]:.4g}" for k in ("r", "alpha", "a", "b", "p", "q", "gamma"))
            + f" | {agree} |"
        )
    loads = [
        f"{lib} {r['load'][0]:.1f} → {r['load'][1]:.1f}"
        for lib, r in results.items()
        if lib != "pipeline" and "load" in r
    ]
    if loads:
        lines.append("")
        lines.append(
            "Wall seconds per library process (imports and data included): "
            + ", ".join(
                f"{lib} {r['wall_s']:.0f}" for lib, r in results.items() if lib != "pipeline"
            )
            + f". 1-minute load average before → after each: {', '.join(loads)} "
            f"({os.cpu_count()} cores)."
        )
    if "pipeline" in results:
        r = results["pipeline"]
        lines.append("")
        lines.append(
            f"Whole `crmtool forecast` (DuckDB visits summary, both fits, scoring, list "
            f"to parquet; {r.get('orders', '?'):,} repair orders; CRMTOOL_THREADS="
            f"{r.get('threads')}, CRMTOOL_MEMORY_LIMIT={r.get('memory_limit')}): "
            f"{r.get('wall_s', float('nan')):.1f} s wall, "
            f"{r.get('cpu_s', float('nan')):.1f} CPU s, peak RSS "
            f"{r.get('child_rss_mb', float('nan')):.0f} MB, exit {r.get('rc', r.get('error'))}; "
            f"load average {r['load'][0]:.1f} before, {r['load'][1]:.1f} after."
        )
    return "\n".join(lines)


if __name__ == "__main__":
    main()
