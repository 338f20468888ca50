-- The segment list (rules §3 value tiers, §4 segments, §5 status), hand-written from the
-- rulebook, independently of crmtool's code. Default config: own dealer D001 (no dealer code =
-- own), visits exclude ro_type pds and internal, window = 365 days ending on as_of, "ours" =
-- latest sale by us (own/secondary) or own visit at most 1096 days back, every series in
-- threshold group A (ticket 700/550/400), visits 4/2/1, cycle_days 90/180/365, tier = the
-- lowest grade; mileage: 500 km/day cap, 30-day minimum span, 35 km/day default.
-- Input: the loaded tables repair_orders, vehicles, customers; the variable as_of (a DATE).
-- Output: crmtool segment's 23 columns for every vehicle ours at as_of except scrapped and
-- transferred ones, ordered by tier, vin.
WITH per_vin AS (           -- one pass over the repair orders up to as_of
    SELECT vin,
           max(settle_date) FILTER (WHERE own_visit) AS last_visit,
           count(DISTINCT settle_date) FILTER (WHERE own_visit AND recent) AS own_visits_12m,
           -- paid visits: own visit days with a customer-paid order of a visit type
           count(DISTINCT settle_date) FILTER (WHERE paid AND recent) AS paid_12m,
           sum(total_amount) FILTER (WHERE paid AND recent) AS amount_12m,
           min(settle_date) FILTER (WHERE paid AND recent) AS first_paid_12m,
           max(settle_date) FILTER (WHERE paid AND recent) AS last_paid_12m,
           max(settle_date) FILTER (WHERE paid) AS last_paid,
           arg_max(advisor, (settle_date, ro_id)) FILTER (WHERE own AND advisor IS NOT NULL)
               AS last_advisor,
           -- mileage readings of any dealer, sorted by day (same day: lower reading first)
           list_sort(list({'day': settle_date, 'km': mileage_km}) FILTER (WHERE mileage_km > 0))
               AS readings
    FROM (SELECT *, own AND coalesce(ro_type NOT IN ('pds', 'internal'), true) AS own_visit,
                 own AND coalesce(ro_type NOT IN ('pds', 'internal'), true)
                     AND payer = 'customer' AND total_amount > 0 AS paid,
                 settle_date > getvariable('as_of') - 365 AS recent
          FROM (SELECT *, coalesce(dealer_code = 'D001', true) AS own FROM repair_orders
                WHERE settle_date <= getvariable('as_of')))
    GROUP BY vin),
cars AS (                   -- vehicles ours at as_of, not scrapped or transferred
    SELECT *,
           readings[1] AS first_r,
           -- the last kept reading: a reading below the last kept one, or more than 500 km
           -- per day (same day: per 1 day) above it, is dropped
           list_reduce(readings, lambda k, r: CASE
               WHEN r.km >= k.km AND (r.km - k.km) / greatest(r.day - k.day, 1) <= 500
               THEN r ELSE k END) AS last_r
    FROM vehicles v FULL JOIN per_vin p USING (vin)
    -- the latest of last own visit and sale by us (greatest skips NULLs)
    WHERE greatest(p.last_visit, CASE WHEN v.sale_channel IN ('own', 'secondary')
                                           AND v.sale_date <= getvariable('as_of')
                                      THEN v.sale_date END) >= getvariable('as_of') - 1096
      AND coalesce(v.vehicle_status NOT IN ('scrapped', 'transferred'), true)),
dims AS (
    SELECT c.*, o.name, coalesce(o.phone, c.phone) AS owner_phone, o.area_type,
           o.occupation, coalesce(year(o.birth_date), o.birth_year) AS birth_year_,
           amount_12m / paid_12m AS ticket_, coalesce(paid_12m, 0) AS visits_12m,
           CASE WHEN paid_12m >= 2 THEN (last_paid_12m - first_paid_12m) / (paid_12m - 1)
                ELSE getvariable('as_of') - last_paid END AS cycle_,
           least(CASE WHEN last_r.day - first_r.day >= 30
                          THEN (last_r.km - first_r.km) / (last_r.day - first_r.day)
                      WHEN last_r.day - sale_date >= 30 THEN last_r.km / (last_r.day - sale_date)
                      ELSE 35 END, 500) AS daily_km,
           getvariable('as_of') - coalesce(last_visit, sale_date) AS days_since,
           coalesce(own_visits_12m, 0) AS own_12m
    FROM cars c LEFT JOIN customers o USING (customer_id)),
seg AS (
    SELECT *,
           greatest(
               CASE WHEN ticket_ >= 700 THEN 'A' WHEN ticket_ >= 550 THEN 'B'
                    WHEN ticket_ >= 400 THEN 'C' ELSE 'D' END,
               CASE WHEN visits_12m >= 4 THEN 'A' WHEN visits_12m >= 2 THEN 'B'
                    WHEN visits_12m >= 1 THEN 'C' ELSE 'D' END,
               CASE WHEN cycle_ <= 90 THEN 'A' WHEN cycle_ <= 180 THEN 'B'
                    WHEN cycle_ <= 365 THEN 'C' ELSE 'D' END) AS tier,
           CAST(round(CASE WHEN last_r IS NOT NULL
                               THEN last_r.km + daily_km * (getvariable('as_of') - last_r.day)
                           WHEN sale_date IS NOT NULL  -- no reading: since the sale
                               THEN daily_km * greatest(getvariable('as_of') - sale_date, 0)
                           END)
                AS BIGINT) AS est_mileage
    FROM dims)
SELECT vin, plate, customer_id, name, owner_phone AS phone, series, model, tier,
       round(ticket_, 2) AS ticket, visits_12m, round(cycle_, 2) AS cycle_days,
       CASE WHEN sale_date IS NULL THEN 'unknown'
            WHEN (getvariable('as_of') - sale_date) / 365.25 < 3 THEN 'new'
            WHEN (getvariable('as_of') - sale_date) / 365.25 < 6 THEN 'mid'
            ELSE 'old' END AS age_stage,
       est_mileage,
       CASE WHEN est_mileage IS NULL THEN 'unknown' WHEN est_mileage < 10000 THEN '<10k'
            WHEN est_mileage < 30000 THEN '10k-30k' WHEN est_mileage < 60000 THEN '30k-60k'
            WHEN est_mileage < 100000 THEN '60k-100k' ELSE '100k+' END AS mileage_band,
       CASE WHEN own_12m >= 4 THEN '4+' WHEN own_12m >= 2 THEN '2-3'
            ELSE CAST(own_12m AS VARCHAR) END AS frequency_band,
       usage, area_type,
       lpad(CAST(birth_year_ // 10 % 10 * 10 AS VARCHAR), 2, '0') || '后' AS birth_decade,
       occupation, last_visit, last_advisor,
       CASE WHEN last_visit IS NULL AND days_since <= 180 THEN 'new'
            WHEN days_since > 365 THEN 'lost' WHEN days_since > 180 THEN 'at_risk'
            WHEN own_12m >= 3 THEN 'loyal' ELSE 'general' END AS status,
       days_since
FROM seg
ORDER BY tier, vin
