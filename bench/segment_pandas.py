"""The segment list of segment_baseline.sql in idiomatic, vectorised pandas (bench only).

python bench/segment_pandas.py REPAIR_ORDERS.parquet VEHICLES.parquet CUSTOMERS.parquet AS_OF OUT

Reads Parquet exports of the loaded tables (segment_sql.py --export) and writes crmtool
segment's 23 columns. Everything is vectorised except one place: the mileage rule is
sequential (a reading is dropped when it is below the last kept reading or more than 500 km/day
above it). Without the per-day test "kept" is a running maximum, which is vectorised; only the
rare vehicles where a reading kept that way fails the per-day test against the kept reading
before it (a typo such as 350000 for 35000) are walked reading by reading in a Python loop.
"""

from __future__ import annotations

import sys

import numpy as np
import pandas as pd

OWN, EXCLUDED, WINDOW, OURS_DAYS = "D001", ["pds", "internal"], 365, 1096
MAX_KM, MIN_DAYS, DEFAULT_KM = 500.0, 30, 35.0


def _days(delta: pd.Series) -> pd.Series:
    return delta.dt.days


def _round(x: pd.Series | np.ndarray, digits: int = 0) -> np.ndarray:
    """Round half away from zero (as SQL does; numpy rounds half to even)."""
    y = np.abs(np.asarray(x, dtype="float64")) * 10.0**digits
    return np.sign(x) * (np.floor(y) + (y - np.floor(y) >= 0.5)) / 10.0**digits


def _walk(r: pd.DataFrame) -> pd.DataFrame:
    """The last kept reading (last_km, last_day) per vin by the sequential rule; r is sorted by
    vin, day, km. A plain loop, for the few vehicles that need it."""
    days = r["day"].to_numpy().astype("datetime64[D]").astype("int64")
    last: dict[str, tuple[float, int]] = {}
    for vin, km, day in zip(r["vin"].to_numpy(), r["km"].to_numpy(), days, strict=True):
        kept = last.get(vin)
        if kept is None or (km >= kept[0] and (km - kept[0]) / max(day - kept[1], 1) <= MAX_KM):
            last[vin] = (km, day)
    out = pd.DataFrame(list(last.values()), index=list(last), columns=["last_km", "last_day"])
    return out.assign(
        last_day=out["last_day"].to_numpy().astype("datetime64[D]").astype(r["day"].dtype)
    )


def mileage(r: pd.DataFrame) -> pd.DataFrame:
    """Per vin with readings (vin, day, km): first_km, first_day, last_km, last_day (the last
    kept reading)."""
    r = r.sort_values(["vin", "day", "km"], ignore_index=True)
    g = r.groupby("vin", sort=False)
    prev_max = g["km"].cummax().groupby(r["vin"]).shift()
    kept = prev_max.isna() | (r["km"] >= prev_max)
    # the last kept reading before each one: the latest reading at the running maximum
    prev_day = r["day"].where(kept).groupby(r["vin"]).ffill().groupby(r["vin"]).shift()
    jump = kept & ((r["km"] - prev_max) / _days(r["day"] - prev_day).clip(lower=1) > MAX_KM)
    out = g.agg(first_km=("km", "first"), first_day=("day", "first"))
    last = r[kept].groupby("vin", sort=False).agg(last_km=("km", "last"), last_day=("day", "last"))
    out = out.join(last)
    slow = r[r["vin"].isin(r.loc[jump, "vin"])]  # rare: walk the rule reading by reading
    if len(slow):
        out.update(_walk(slow))
    return out


def per_vin(ro: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    """Own visits, paid visits, last advisor and mileage per vin, from orders up to as_of."""
    upto = ro["settle_date"] <= as_of
    own = upto & (ro["dealer_code"].isna() | (ro["dealer_code"] == OWN))
    visit = own & ~ro["ro_type"].isin(EXCLUDED)
    start = as_of - pd.Timedelta(days=WINDOW)  # the window: start < day <= as_of
    days = ro.loc[visit, ["vin", "settle_date"]].drop_duplicates()
    out = pd.DataFrame(
        {
            "last_visit": days.groupby("vin")["settle_date"].max(),
            "own_12m": days[days["settle_date"] > start].groupby("vin").size(),
        }
    )
    paid = ro.loc[
        visit & (ro["payer"] == "customer") & (ro["total_amount"] > 0),
        ["vin", "settle_date", "total_amount"],
    ]
    out["last_paid"] = paid.groupby("vin")["settle_date"].max()
    w = (
        paid[paid["settle_date"] > start]
        .groupby("vin")
        .agg(
            paid_12m=("settle_date", "nunique"),
            amount_12m=("total_amount", "sum"),
            first_paid=("settle_date", "min"),
            last_paid_12m=("settle_date", "max"),
        )
    )
    # the advisor of the latest own order (same day: the highest ro_id)
    a = ro.loc[own & ro["advisor"].notna(), ["vin", "settle_date", "ro_id", "advisor"]]
    a = a[a["settle_date"] == a.groupby("vin")["settle_date"].transform("max")]
    adv = (
        a.sort_values("ro_id")
        .drop_duplicates("vin", keep="last")
        .set_index("vin")["advisor"]
        .rename("last_advisor")
    )
    readings = ro.loc[upto & (ro["mileage_km"] > 0), ["vin", "settle_date", "mileage_km"]].rename(
        columns={"settle_date": "day", "mileage_km": "km"}
    )
    return out.join([w, adv], how="outer").join(mileage(readings), how="outer")


def _label(cond: list[pd.Series], labels: list[str], default: str) -> np.ndarray:
    return np.select(cond, labels, default)


def segment(
    ro: pd.DataFrame, veh: pd.DataFrame, cus: pd.DataFrame, as_of: pd.Timestamp
) -> pd.DataFrame:
    """crmtool segment's list: vehicles ours at as_of (not scrapped or transferred) with tier,
    segments, status and the owner's contact, ordered by tier, vin."""
    d = veh.merge(per_vin(ro, as_of), left_on="vin", right_index=True, how="outer")
    sold = d["sale_date"].where(
        d["sale_channel"].isin(["own", "secondary"]) & (d["sale_date"] <= as_of)
    )
    ours = pd.concat([d["last_visit"], sold], axis=1).max(axis=1)  # the latest event
    d = d[
        (ours >= as_of - pd.Timedelta(days=OURS_DAYS))
        & ~d["vehicle_status"].isin(["scrapped", "transferred"])
    ]
    owners = cus.dropna(subset=["customer_id"]).rename(columns={"phone": "owner_phone"})
    d = d.merge(owners, on="customer_id", how="left")  # (pandas would match NaN keys)

    n = d["paid_12m"].fillna(0).astype("int64")
    ticket = d["amount_12m"] / d["paid_12m"]
    cycle = pd.Series(
        np.where(
            n >= 2,
            _days(d["last_paid_12m"] - d["first_paid"]) / (n - 1),
            _days(as_of - d["last_paid"]),
        ),
        index=d.index,
    )
    grade = np.maximum.reduce(
        [  # 0 = A … 3 = D; the tier is the lowest grade
            np.select([ticket >= 700, ticket >= 550, ticket >= 400], [0, 1, 2], 3),
            np.select([n >= 4, n >= 2, n >= 1], [0, 1, 2], 3),
            np.select([cycle <= 90, cycle <= 180, cycle <= 365], [0, 1, 2], 3),
        ]
    )

    span = _days(d["last_day"] - d["first_day"])
    since_sale = _days(d["last_day"] - d["sale_date"])
    rate = np.minimum(
        np.select(
            [span >= MIN_DAYS, since_sale >= MIN_DAYS],
            [(d["last_km"] - d["first_km"]) / span, d["last_km"] / since_sale],
            DEFAULT_KM,
        ),
        MAX_KM,
    )
    est = pd.Series(
        np.where(
            d["last_km"].notna(),
            d["last_km"] + rate * _days(as_of - d["last_day"]),
            rate * _days(as_of - d["sale_date"]).clip(lower=0),
        ),
        index=d.index,
    )
    est = pd.Series(_round(est), index=d.index)  # whole km, NaN: no estimate

    years = _days(as_of - d["sale_date"]) / 365.25
    own12 = d["own_12m"].fillna(0).astype("int64")
    days_since = _days(as_of - d["last_visit"].fillna(d["sale_date"]))
    birth = d["birth_date"].dt.year.fillna(d["birth_year"])
    out = pd.DataFrame(
        {
            "vin": d["vin"],
            "plate": d["plate"],
            "customer_id": d["customer_id"],
            "name": d["name"],
            "phone": d["owner_phone"].fillna(d["phone"]),
            "series": d["series"],
            "model": d["model"],
            "tier": np.array(list("ABCD"))[grade],
            "ticket": _round(ticket, 2),
            "visits_12m": n,
            "cycle_days": _round(cycle, 2),
            "age_stage": _label(
                [d["sale_date"].isna(), years < 3, years < 6], ["unknown", "new", "mid"], "old"
            ),
            "est_mileage": est.astype("Int64"),
            "mileage_band": _label(
                [est.isna(), est < 10_000, est < 30_000, est < 60_000, est < 100_000],
                ["unknown", "<10k", "10k-30k", "30k-60k", "60k-100k"],
                "100k+",
            ),
            "frequency_band": _label([own12 >= 4, own12 >= 2, own12 == 1], ["4+", "2-3", "1"], "0"),
            "usage": d["usage"],
            "area_type": d["area_type"],
            "birth_decade": (birth // 10 % 10).astype("Int64").astype("string") + "0后",
            "occupation": d["occupation"],
            "last_visit": d["last_visit"].astype("date32[pyarrow]"),
            "last_advisor": d["last_advisor"],
            "status": _label(
                [
                    d["last_visit"].isna() & (days_since <= 180),
                    days_since > 365,
                    days_since > 180,
                    own12 >= 3,
                ],
                ["new", "lost", "at_risk", "loyal"],
                "general",
            ),
            "days_since": days_since.astype("Int64"),
        }
    )
    return out.sort_values(["tier", "vin"], ignore_index=True)


def main() -> None:
    ro_path, veh_path, cus_path, as_of, out = sys.argv[1:6]
    ro = pd.read_parquet(
        ro_path,
        columns=[
            "ro_id",
            "dealer_code",
            "vin",
            "settle_date",
            "mileage_km",
            "ro_type",
            "payer",
            "total_amount",
            "advisor",
        ],
    )
    veh = pd.read_parquet(
        veh_path,
        columns=[
            "vin",
            "plate",
            "customer_id",
            "phone",
            "series",
            "model",
            "sale_date",
            "sale_channel",
            "usage",
            "vehicle_status",
        ],
    )
    cus = pd.read_parquet(
        cus_path,
        columns=[
            "customer_id",
            "name",
            "phone",
            "birth_date",
            "birth_year",
            "area_type",
            "occupation",
        ],
    )
    for frame, col in ((ro, "settle_date"), (veh, "sale_date"), (cus, "birth_date")):
        frame[col] = pd.to_datetime(frame[col])
    segment(ro, veh, cus, pd.Timestamp(as_of)).to_parquet(out, index=False)


if __name__ == "__main__":
    main()
