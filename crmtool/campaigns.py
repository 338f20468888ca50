"""Campaign call lists (rules §9): maintenance due, warranty expiry, insurance renewal,
loyal reward and win-back. Each list is one query; `churn.call_list` adds the owner's contact
and leaves out scrapped / transferred vehicles."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import duckdb

from . import churn, codes, engine, facts
from .churn import ListResult
from .config import Config
from .period import Period, add_months, parse_period
from .segment import rates_sql
from .sqltext import in_list, literal
from .value_tiers import tiers_sql

SERVICE_TYPES = in_list(codes.SERVICE_TYPES)


def _intervals_sql(cfg: Config) -> str:
    """Maintenance intervals per series or brand name ([maintenance.series.<name>])."""
    m = cfg.maintenance
    keys = ("first_months", "first_km", "interval_months", "interval_km")
    rows = [
        f"({literal(name)}, "
        + ", ".join(str(float(over.get(k, getattr(m, k)))) for k in keys)
        + ")"
        for name, over in m.series.items()
    ]
    cols = "name, " + ", ".join(keys)
    if not rows:
        nulls = ", ".join(f"CAST(NULL AS DOUBLE) AS {k}" for k in keys)
        return f"SELECT CAST(NULL AS VARCHAR) AS name, {nulls}"
    return f"SELECT * FROM (VALUES {', '.join(rows)}) t({cols})"


# -- maintenance due 保养提醒 --------------------------------------------------------------------


def _rates(con: duckdb.DuckDBPyConnection, cfg: Config, day: date) -> str | None:
    """Under a snapshot (the report: several lists and figures at a day), the km rates at
    `day` (segment.rates_sql) as a table computed once (facts.rule_source); else None: each
    query computes its own."""
    if not facts.is_snapshot(con):
        return None
    return facts.rule_source(con, rates_sql(cfg), {"as_of": day})[0]


def _due_sql(cfg: Config, rates: str | None = None, since: str | None = None) -> str:
    """Every vehicle ours at $basis with its next service due date (time or km, first wins);
    `since` (a parameter such as $start): only the vehicles whose time due date is on or
    after it (or unknown), with the km rates of those alone (the due date, the earlier of
    the two, of any other is before it).

    No first_service/maintenance yet and sold by us: sale_date + first_months or first_km;
    else the last first_service/maintenance (any dealer) + interval_months or + interval_km.
    The km date: last reading date + (target km − last reading) / daily km (segment.rates_sql
    at $basis), rounded up.
    """
    m = cfg.maintenance
    return f"""
        WITH svc AS (
            SELECT vin, max(settle_date) AS last_service_date,
                   arg_max(mileage_km, {{'d': settle_date, 'km': coalesce(mileage_km, 0)}})
                       FILTER (WHERE mileage_km IS NOT NULL) AS last_service_km
            FROM ro WHERE ro_type IN {SERVICE_TYPES} AND settle_date <= $basis GROUP BY vin),
        iv AS ({_intervals_sql(cfg)}),
        veh AS (
            SELECT o.vin, v.sale_date, sb.vin IS NOT NULL AS sold_by_us,
                   coalesce(si.first_months, bi.first_months, {m.first_months}) AS first_months,
                   coalesce(si.first_km, bi.first_km, {float(m.first_km)}) AS first_km,
                   coalesce(si.interval_months, bi.interval_months, {m.interval_months})
                       AS interval_months,
                   coalesce(si.interval_km, bi.interval_km, {float(m.interval_km)}) AS interval_km
            FROM ({facts.ours_sql(cfg, "$basis")}) o LEFT JOIN vehicles v USING (vin)
            LEFT JOIN sold_by_us sb USING (vin)
            LEFT JOIN iv si ON si.name = v.series LEFT JOIN iv bi ON bi.name = v.brand),
        basis AS (
            SELECT veh.vin, veh.sale_date, s.last_service_date, s.last_service_km,
                   CASE WHEN s.vin IS NULL THEN 'first_service' ELSE 'maintenance' END
                       AS due_service,
                   CASE WHEN s.vin IS NULL
                        THEN CAST(veh.sale_date + to_months(CAST(first_months AS INTEGER)) AS DATE)
                        ELSE CAST(s.last_service_date
                                  + to_months(CAST(interval_months AS INTEGER)) AS DATE)
                        END AS time_date,
                   CASE WHEN s.vin IS NULL THEN first_km
                        ELSE s.last_service_km + interval_km END AS target_km
            FROM veh LEFT JOIN svc s USING (vin)
            WHERE s.vin IS NOT NULL OR veh.sold_by_us),
        due_basis AS (
            SELECT * FROM basis
            {f"WHERE time_date >= {since} OR time_date IS NULL" if since else ""}),
        due_rates AS ({
        f"SELECT * FROM {rates}"
        if rates
        else rates_sql(cfg, "$basis", "SELECT vin FROM due_basis" if since else None)
    }),
        dated AS (
            SELECT b.*,
                   coalesce(r.last_reading_date, b.sale_date)
                   + CAST(ceil((target_km - coalesce(r.last_reading, 0)) / r.daily_km) AS INTEGER)
                       AS km_date
            FROM due_basis b LEFT JOIN due_rates r USING (vin))
        SELECT vin, due_service, last_service_date, last_service_km,
               least(time_date, km_date) AS due_date,
               CASE WHEN km_date < time_date THEN 'km' ELSE 'time' END AS due_by
        FROM dated
        WHERE least(time_date, km_date) IS NOT NULL
    """


def _month_basis(month: Period, as_of: date) -> date:
    """Service history counts up to as_of, or up to the month's eve for a past month."""
    return min(as_of, month.start - timedelta(days=1))


def maintenance_due(
    con: duckdb.DuckDBPyConnection, cfg: Config, month: Period, as_of: date
) -> ListResult:
    """Vehicles whose service falls due in `month`, plus the overdue ones (due before the
    month, not serviced since, at most overdue_max_days late on the month's first day)."""
    rates = _rates(con, cfg, _month_basis(month, as_of))
    sql, params, order, _ = maintenance_due_query(cfg, month, as_of, rates)
    return churn.call_list(con, sql, params, order, advisor_until=None)


def maintenance_due_query(
    cfg: Config, month: Period, as_of: date, rates: str | None = None
) -> tuple[str, dict[str, Any], str, date]:
    """`maintenance_due`'s query, parameters and order, and the day of the service history
    and km rates it reads (basis). Its rows carry no $as_of: the last advisor is taken from
    every order (call_list's advisor_until=None). `rates`: a table of the rates at basis
    (`_rates`)."""
    basis = _month_basis(month, as_of)
    sql = f"""
        SELECT *, due_date < $start AS overdue,
               greatest(date_diff('day', due_date, $start), 0) AS days_overdue
        FROM ({_due_sql(cfg, rates)}) due
        WHERE due_date <= $end
          AND date_diff('day', due_date, $start) <= {int(cfg.maintenance.overdue_max_days)}
    """
    params = {"basis": basis, "start": month.start, "end": month.end}
    return sql, params, "due_date, l.vin", basis


def _months(period: Period) -> list[Period]:
    out, day = [], period.start.replace(day=1)
    while day <= period.end:
        out.append(parse_period(f"{day.year}-{day.month:02d}"))
        day = add_months(day, 1)
    return out


def maintenance_return_rate(
    con: duckdb.DuckDBPyConnection, cfg: Config, period: Period
) -> dict[str, Any]:
    """定期保养入库率 (docs/rules.md §9): of the vehicles due in the period's months, those with an own
    first_service/maintenance visit from return_before_days before the due date to
    return_after_days after it. Scrapped / transferred vehicles are not counted."""
    m = cfg.maintenance
    due = returned = 0
    for month in _months(period):
        basis = month.start - timedelta(days=1)
        # the km rates of the vehicles that can fall due in the month alone (not the fleet's:
        # no other figure reads the rates at this basis)
        row = engine.of(con).rows(
            f"""
            WITH due AS (SELECT * FROM ({_due_sql(cfg, since="$start")}) due_all
                         WHERE due_date BETWEEN $start AND $end
                           AND vin NOT IN (SELECT vin FROM vehicles
                                           WHERE vehicle_status IN {in_list(codes.GONE)})),
            back AS (
                SELECT DISTINCT due.vin FROM due JOIN ro ON ro.vin = due.vin AND ro.is_own
                  AND ro.ro_type IN {SERVICE_TYPES}
                  AND ro.settle_date BETWEEN due.due_date - {int(m.return_before_days)}
                                         AND due.due_date + {int(m.return_after_days)})
            SELECT count(*) AS due, count(back.vin) AS returned
            FROM due LEFT JOIN back ON back.vin = due.vin
        """,
            {"basis": basis, "start": month.start, "end": month.end},
        )[0]
        due, returned = due + int(row[0]), returned + int(row[1])
    return {"due": due, "returned": returned, "rate": round(returned / due, 4) if due else 0.0}


# -- warranty expiry 脱保 / 延保 ------------------------------------------------------------------


def warranty_expiring(
    con: duckdb.DuckDBPyConnection, cfg: Config, as_of: date, days: int | None = None
) -> ListResult:
    """Vehicles ours whose warranty ends in the next `days` days (as_of+1 … as_of+days).

    Warranty end = the earlier of warranty_end (else sale_date + years) and the day the
    estimated mileage reaches the warranty km; ends_by says which.
    """
    return churn.call_list(con, *warranty_query(cfg, as_of, days, _rates(con, cfg, as_of)))


def warranty_query(
    cfg: Config, as_of: date, days: int | None = None, rates: str | None = None
) -> tuple[str, dict[str, Any], str]:
    """`warranty_expiring`'s query, parameters and order; `rates`: a table of the rates at
    as_of (`_rates`)."""
    w = cfg.warranty
    days = w.horizon_days if days is None else days
    sql = f"""
        WITH w_rates AS ({f"SELECT * FROM {rates}" if rates else rates_sql(cfg)}),
        ends AS (
            SELECT o.vin, v.sale_date,
                   coalesce(v.warranty_end, CAST(v.sale_date + to_years({int(w.years)}) AS DATE))
                       AS date_end,
                   coalesce(r.last_reading_date, v.sale_date)
                   + CAST(ceil(({float(w.km)} - coalesce(r.last_reading, 0)) / r.daily_km)
                          AS INTEGER) AS km_end,
                   round(r.est_mileage) AS est_mileage
            FROM ({facts.ours_sql(cfg, "$as_of")}) o JOIN vehicles v USING (vin)
            LEFT JOIN w_rates r USING (vin))
        SELECT vin, sale_date, least(date_end, km_end) AS warranty_end,
               CASE WHEN km_end < date_end OR date_end IS NULL THEN 'km' ELSE 'date' END
                   AS ends_by,
               date_diff('day', $as_of, least(date_end, km_end)) AS days_left, est_mileage
        FROM ends
        WHERE least(date_end, km_end) > $as_of AND least(date_end, km_end) <= $as_of + {int(days)}
    """
    return sql, {"as_of": as_of}, "warranty_end, l.vin"


# -- insurance renewal pre-move 续保前移 -----------------------------------------------------------


def insurance_renewal(
    con: duckdb.DuckDBPyConnection, cfg: Config, as_of: date, days: int | None = None
) -> ListResult:
    """Own insurance-paid repair orders settled in the last `days` days (as_of − days + 1 …
    as_of) with total ≥ the first band; bands [b0, b1), [b1, b2], (b2, ∞) with their gifts.
    One row per repair order."""
    ins = cfg.insurance
    days = ins.days if days is None else days
    b0, b1, b2 = (float(b) for b in ins.bands)
    labels = (f"{b0:g}≤t<{b1:g}", f"{b1:g}≤t≤{b2:g}", f"t>{b2:g}")
    gifts = [ins.gifts[i] if i < len(ins.gifts) else "" for i in range(3)]

    def by_band(values: list[str] | tuple[str, ...]) -> str:
        arms = " ".join(f"WHEN {i + 1} THEN {literal(v)}" for i, v in enumerate(values))
        return f"CAST(CASE band {arms} END AS VARCHAR)"

    sql = f"""
        SELECT vin, ro_id, settle_date, ro_type, total_amount, band,
               {by_band(labels)} AS band_label, {by_band(gifts)} AS gift, advisor
        FROM (
            SELECT vin, ro_id, settle_date, ro_type,
                   {facts.round_exact("total_amount")} AS total_amount,
                   CASE WHEN total_amount < {b1} THEN 1 WHEN total_amount <= {b2} THEN 2
                        ELSE 3 END AS band,
                   advisor
            FROM ro
            WHERE is_own AND payer = 'insurance' AND total_amount >= {b0}
              AND settle_date BETWEEN $as_of - {int(days) - 1} AND $as_of) ins
    """
    return churn.call_list(
        con, sql, {"as_of": as_of}, "settle_date DESC, l.ro_id", last_advisor=False
    )


# -- loyal reward 忠诚客户回馈 ---------------------------------------------------------------------


def loyal_reward(con: duckdb.DuckDBPyConnection, cfg: Config, period: Period) -> ListResult:
    """Vehicles with at least loyal.year_visits own visits in a year period (half_visits in a
    half-year or shorter period); tier A and B first, then most visits."""
    need = cfg.loyal.half_visits if period.days <= 184 else cfg.loyal.year_visits
    # the tiers at the period's end ($as_of); the contact's advisor is the latest one
    tiers = tiers_sql(cfg)
    sql = f"""
        SELECT v.vin, count(*) AS own_visits, CAST(sum(paid_amount) AS DOUBLE) AS paid_amount,
               any_value(t.tier) AS tier, {literal(cfg.loyal.gift)} AS gift
        FROM visits v LEFT JOIN ({tiers}) t USING (vin)
        WHERE is_own AND day BETWEEN $start AND $end
        GROUP BY v.vin HAVING count(*) >= {int(need)}
    """
    return churn.call_list(
        con,
        sql,
        {"start": period.start, "end": period.end, "as_of": period.end},
        f"coalesce(tier IN {in_list(codes.TIERS[:2])}, false) DESC, own_visits DESC, tier, l.vin",
        advisor_until=None,
    )


# -- win-back 流失客户招揽 -------------------------------------------------------------------------


def winback(con: duckdb.DuckDBPyConnection, cfg: Config, as_of: date) -> ListResult:
    """Lost and at_risk vehicles, highest lifetime paid amount first, with the reason
    (never_returned, then defected with the dealer, then out_of_channel) and the gift."""
    sql, params, _ = churn.churn_list_query(cfg, as_of, codes.AT_RISK)
    cols = (
        "vin, status, days_since, last_own_visit, reason, other_dealer, other_dealer_name, "
        "last_other_visit, lifetime_paid"
    )
    return churn.call_list(
        con,
        f"SELECT {cols}, {literal(cfg.winback.gift)} AS gift FROM ({sql}) wb",
        params,
        "l.lifetime_paid DESC, l.vin",
    )
