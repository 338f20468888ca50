-- Value tier A-D per vehicle (rulebook §3), hand-written from the rulebook, independently of
-- crmtool's code. Default config: own dealer D001 (no dealer code = own), visits exclude
-- ro_type pds and internal, window = 365 days, every series in threshold group A
-- (ticket 700/550/400), visits 4/2/1, cycle_days 90/180/365, tier = the lowest grade.
-- Input: the loaded tables repair_orders and vehicles; the variable as_of (a DATE).
-- Output: vin, tier, ticket, visits_12m, cycle_days of every vehicle ours at as_of.
WITH own_days AS (          -- own visits (vin, day) with their customer-paid amount
    SELECT vin, settle_date AS day,
           bool_or(payer = 'customer' AND total_amount > 0) AS paid,
           sum(total_amount) FILTER (WHERE payer = 'customer' AND total_amount > 0) AS amount
    FROM repair_orders
    WHERE settle_date <= getvariable('as_of')
      AND coalesce(dealer_code = 'D001', true)
      AND coalesce(ro_type NOT IN ('pds', 'internal'), true)
    GROUP BY vin, settle_date),
ours AS (                   -- latest sale by us or own visit at most 1096 days back
    SELECT vin FROM (
        SELECT vin, sale_date AS day FROM vehicles
        WHERE sale_channel IN ('own', 'secondary') AND sale_date <= getvariable('as_of')
        UNION ALL
        SELECT vin, day FROM own_days)
    GROUP BY vin HAVING max(day) >= getvariable('as_of') - 1096),
paid AS (                   -- per vehicle: window figures and the last paid visit ever
    SELECT vin,
           count(*) FILTER (WHERE day > getvariable('as_of') - 365) AS n,
           sum(amount) FILTER (WHERE day > getvariable('as_of') - 365) AS amount,
           -- mean gap between consecutive visits = (last - first) / (n - 1)
           (max(day) FILTER (WHERE day > getvariable('as_of') - 365)
            - min(day) FILTER (WHERE day > getvariable('as_of') - 365)) AS span,
           max(day) AS last_paid
    FROM own_days WHERE paid GROUP BY vin),
dims AS (
    SELECT o.vin, p.amount / nullif(p.n, 0) AS ticket, coalesce(p.n, 0) AS visits_12m,
           CASE WHEN p.n >= 2 THEN p.span / (p.n - 1)
                ELSE getvariable('as_of') - p.last_paid END AS cycle_days
    FROM ours o LEFT JOIN paid p USING (vin))
SELECT vin,
       greatest(
           CASE WHEN ticket >= 700 THEN 'A' WHEN ticket >= 550 THEN 'B'
                WHEN ticket >= 400 THEN 'C' ELSE 'D' END,
           CASE WHEN visits_12m >= 4 THEN 'A' WHEN visits_12m >= 2 THEN 'B'
                WHEN visits_12m >= 1 THEN 'C' ELSE 'D' END,
           CASE WHEN cycle_days <= 90 THEN 'A' WHEN cycle_days <= 180 THEN 'B'
                WHEN cycle_days <= 365 THEN 'C' ELSE 'D' END) AS tier,
       round(ticket, 2) AS ticket, visits_12m, round(cycle_days, 2) AS cycle_days
FROM dims
