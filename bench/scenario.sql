-- The what-if scenario of `sanad simulate --month 2026-11 --threshold 10` as one PostgreSQL
-- query, for the comparison in BENCHMARKS.md: eligible households and monthly cost under the
-- 2026 schedule, for the threshold in force (9.743001) and the scenario's (10), in one pass.
-- Core rules only (eligibility, ranks 1–6 by birth order, young/in-school rates, orphan rate,
-- disability supplement, floor, flat rate); one-off grants are left out, as in the comparison.
-- Run: psql URL -f bench/scenario.sql
\timing on
WITH score AS (
    SELECT DISTINCT ON (household_id) household_id, value_millionths
    FROM score_history WHERE valid_from <= DATE '2026-11-30'
    ORDER BY household_id, valid_from DESC, computed_on DESC
), alive AS (
    SELECT * FROM persons
    WHERE household_id IS NOT NULL AND birth_date <= DATE '2026-11-01'
      AND (death_date IS NULL OR death_date > DATE '2026-11-01')
), excluded AS (
    SELECT DISTINCT household_id FROM alive
    WHERE public_employee_date IS NOT NULL OR pensioner_date IS NOT NULL OR family_allowance_date IS NOT NULL
), candidates AS (
    SELECT s.household_id, s.value_millionths FROM score s
    WHERE s.value_millionths <= 10000000 AND NOT EXISTS (SELECT 1 FROM excluded e WHERE e.household_id = s.household_id)
), kids AS (
    SELECT a.household_id, a.schooling, a.disability, a.father_deceased,
           date_part('year', age(DATE '2026-11-01', a.birth_date)) AS age,
           row_number() OVER (PARTITION BY a.household_id ORDER BY a.birth_date, a.position) AS rank
    FROM alive a JOIN candidates c ON c.household_id = a.household_id
    WHERE a.relation IN ('child', 'kafala_child', 'ward') AND a.birth_date > DATE '2026-11-01' - INTERVAL '21 years'
), amounts AS (
    SELECT household_id, count(*) AS children, sum(
        CASE
          WHEN rank <= 3 AND father_deceased AND (age < 6 OR schooling <> 'none') THEN 40000
          WHEN rank <= 3 AND (age < 6 OR schooling <> 'none') THEN 30000
          WHEN rank <= 3 THEN 20000
          WHEN rank <= 6 AND (age < 6 OR schooling <> 'none') THEN 3600
          WHEN rank <= 6 THEN 2400
          ELSE 0
        END
        + CASE WHEN disability IN ('severe', 'profound') THEN 10000 ELSE 0 END) AS amount
    FROM kids GROUP BY household_id
), monthly AS (
    SELECT c.value_millionths, CASE WHEN k.children IS NULL THEN 50000 ELSE greatest(50000, k.amount) END AS amount
    FROM candidates c LEFT JOIN amounts k ON k.household_id = c.household_id
)
SELECT count(*) FILTER (WHERE value_millionths <= 9743001) AS eligible_in_force,
       sum(amount) FILTER (WHERE value_millionths <= 9743001)::bigint AS monthly_centimes_in_force,
       count(*) AS eligible_scenario,
       sum(amount)::bigint AS monthly_centimes_scenario
FROM monthly;
