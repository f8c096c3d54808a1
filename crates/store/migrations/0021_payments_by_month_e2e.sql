-- Shared by both backends. A release queues its "payment issued" notices a page of payments at
-- a time, by EndToEndId within the month: this index serves each page as a range, where the
-- (month, status) index made every page sort the whole month.
CREATE INDEX payments_month_e2e ON payments (month, end_to_end_id);
