"""The tier computation of tiers_baseline.sql in idiomatic, vectorised pandas (bench only).

python bench/tiers_pandas.py REPAIR_ORDERS.parquet VEHICLES.parquet AS_OF OUT.parquet
"""

from __future__ import annotations

import sys

import numpy as np
import pandas as pd


def tiers(ro: pd.DataFrame, veh: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    ro = ro[ro["settle_date"] <= as_of]
    ro = ro[ro["dealer_code"].isna() | (ro["dealer_code"] == "D001")]
    ro = ro[~ro["ro_type"].isin(["pds", "internal"])]
    paid_ro = (ro["payer"] == "customer") & (ro["total_amount"] > 0)
    ro = ro.assign(paid=paid_ro, amount=ro["total_amount"].where(paid_ro))
    days = (ro.groupby(["vin", "settle_date"], sort=False)
              .agg(paid=("paid", "any"), amount=("amount", "sum"))
              .reset_index().rename(columns={"settle_date": "day"}))
    sold = veh.loc[veh["sale_channel"].isin(["own", "secondary"])
                   & (veh["sale_date"] <= as_of), ["vin", "sale_date"]]
    events = pd.concat([sold.rename(columns={"sale_date": "day"}), days[["vin", "day"]]])
    last = events.groupby("vin", sort=False)["day"].max()
    ours = last[last >= as_of - pd.Timedelta(days=1096)].index.to_frame(index=False)

    paid = days[days["paid"]]
    win = paid[paid["day"] > as_of - pd.Timedelta(days=365)]
    w = win.groupby("vin", sort=False).agg(n=("day", "size"), amount=("amount", "sum"),
                                            first=("day", "min"), last=("day", "max"))
    w["span"] = (w["last"] - w["first"]).dt.days
    life = paid.groupby("vin", sort=False)["day"].max().rename("last_paid")
    d = ours.join(w, on="vin").join(life, on="vin")
    n = d["n"].fillna(0).astype("int64")
    d["ticket"] = d["amount"] / d["n"]
    d["visits_12m"] = n
    d["cycle_days"] = np.where(n >= 2, d["span"] / (n - 1),
                               (as_of - d["last_paid"]).dt.days)
    grade = [  # 0 = A … 3 = D; the tier is the lowest grade (the highest number)
        np.select([d["ticket"] >= 700, d["ticket"] >= 550, d["ticket"] >= 400], [0, 1, 2], 3),
        np.select([n >= 4, n >= 2, n >= 1], [0, 1, 2], 3),
        np.select([d["cycle_days"] <= 90, d["cycle_days"] <= 180, d["cycle_days"] <= 365],
                  [0, 1, 2], 3),
    ]
    d["tier"] = np.array(list("ABCD"))[np.maximum.reduce(grade)]
    return d[["vin", "tier", "ticket", "visits_12m", "cycle_days"]].assign(
        ticket=d["ticket"].round(2), cycle_days=d["cycle_days"].astype("float64").round(2))


def main() -> None:
    ro_path, veh_path, as_of, out = sys.argv[1:5]
    ro = pd.read_parquet(ro_path, columns=["vin", "settle_date", "dealer_code", "ro_type",
                                           "payer", "total_amount"])
    veh = pd.read_parquet(veh_path, columns=["vin", "sale_channel", "sale_date"])
    for frame, col in ((ro, "settle_date"), (veh, "sale_date")):
        frame[col] = pd.to_datetime(frame[col])
    tiers(ro, veh, pd.Timestamp(as_of)).to_parquet(out, index=False)


if __name__ == "__main__":
    main()
