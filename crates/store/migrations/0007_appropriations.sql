-- Shared by both backends. The year's appropriation (budget) per benefit component, in
-- centimes; a payroll that would exceed one is refused.
CREATE TABLE appropriations (
    year      BIGINT NOT NULL,
    component TEXT NOT NULL,
    amount    BIGINT NOT NULL,
    PRIMARY KEY (year, component)
);
