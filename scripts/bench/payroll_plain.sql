-- The core rules of the monthly payroll in plain SQL (issue 6's comparison), PostgreSQL:
-- for the households awarded in the month (table `awards`, as `sanad bench payroll` seeds it),
-- the amount of the month under the asd-2026-11 rule set, with INSERT … SELECT.
--
--   psql postgres://sanad:sanad@localhost/sanad_bench -v month=2026-11 -f scripts/bench/payroll_plain.sql
--
-- Core rules only (rules/asd-2026-11.toml, /work/shared/domain/asd-rules.md §2, §4.1, §4.2):
-- eligibility (score in force on the month's first day ≤ 9.743001; no living member a public
-- employee, a pensioner or receiving family allowance); children (child, kafala child, ward)
-- alive and under 21 ranked oldest first, at most 6 paid: ranks 1–3 300 MAD if under 6 or in
-- school, else 200, a paternal orphan 400 (200 out of school); ranks 4–6 36 / 24; 100 MAD per
-- severely or profoundly disabled child under 21 (any rank); a floor of 500 MAD with children;
-- 500 MAD flat without. The award restricts: a child-allowance award pays only the child
-- lines (and floor), a flat-rate award only the flat rate. Left out: birth and school-start
-- grants, arrears, re-issues, recoveries, ledger, payments, files — what the Rust cycle does
-- beyond the amount.
\timing on
\set on :month '-01'

DROP TABLE IF EXISTS plain_payroll_lines;
CREATE UNLOGGED TABLE plain_payroll_lines (
    rsu_id     TEXT PRIMARY KEY,
    region     TEXT NOT NULL,
    component  TEXT NOT NULL,
    amount     BIGINT NOT NULL -- centimes
);

INSERT INTO plain_payroll_lines (rsu_id, region, component, amount)
WITH awarded AS (
    SELECT rsu_id, min(component) AS component
    FROM awards
    WHERE start_month <= :'month' AND (end_month IS NULL OR end_month >= :'month')
    GROUP BY rsu_id
),
scored AS (
    SELECT a.rsu_id, a.component, h.region,
           (SELECT s.value_millionths FROM score_history s
             WHERE s.household_id = a.rsu_id AND s.valid_from <= :'on'::date
             ORDER BY s.valid_from DESC, s.computed_on DESC LIMIT 1) AS score
    FROM awarded a JOIN households h ON h.rsu_id = a.rsu_id
),
eligible AS (
    SELECT sc.* FROM scored sc
    WHERE sc.score IS NOT NULL AND sc.score <= 9743001
      AND NOT EXISTS (
          SELECT 1 FROM persons p
          WHERE p.household_id = sc.rsu_id
            AND p.birth_date <= :'on'::date
            AND (p.death_date IS NULL OR p.death_date > :'on'::date)
            AND (p.public_employee_date IS NOT NULL OR p.pensioner_date IS NOT NULL
                 OR p.family_allowance_date IS NOT NULL))
),
children AS (
    SELECT e.rsu_id,
           row_number() OVER (PARTITION BY e.rsu_id ORDER BY p.birth_date, p.position) AS rank,
           date_part('year', age(:'on'::date, p.birth_date)) AS age,
           p.schooling <> 'none' AS in_school,
           p.father_deceased,
           p.disability IN ('severe', 'profound') AS disabled
    FROM eligible e JOIN persons p ON p.household_id = e.rsu_id
    WHERE p.relation IN ('child', 'kafala_child', 'ward')
      AND p.birth_date <= :'on'::date
      AND (p.death_date IS NULL OR p.death_date > :'on'::date)
      AND date_part('year', age(:'on'::date, p.birth_date)) < 21
),
child_sums AS (
    SELECT rsu_id,
           sum(CASE
                 WHEN rank > 6 THEN 0
                 WHEN rank <= 3 AND father_deceased AND (age < 6 OR in_school) THEN 40000
                 WHEN rank <= 3 AND (age < 6 OR in_school) THEN 30000
                 WHEN rank <= 3 THEN 20000
                 WHEN age < 6 OR in_school THEN 3600
                 ELSE 2400
               END
             + CASE WHEN disabled THEN 10000 ELSE 0 END) AS amount
    FROM children GROUP BY rsu_id
)
SELECT e.rsu_id, e.region, e.component,
       CASE
         WHEN cs.rsu_id IS NULL AND e.component = 'flat_rate' THEN 50000
         WHEN cs.rsu_id IS NOT NULL AND e.component = 'child_allowance' THEN greatest(cs.amount, 50000)
         ELSE 0
       END
FROM eligible e LEFT JOIN child_sums cs ON cs.rsu_id = e.rsu_id;

SELECT count(*) AS households, count(*) FILTER (WHERE amount > 0) AS paid,
       sum(amount) AS total_centimes
FROM plain_payroll_lines;
