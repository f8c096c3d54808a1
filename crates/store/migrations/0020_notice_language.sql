-- Shared by both backends. The language of a household's notices is that of its latest
-- application: a column, so notices find it without reading the application's JSON.
ALTER TABLE applications ADD COLUMN language TEXT NOT NULL DEFAULT 'fr' CHECK (language IN ('fr', 'ar'));
UPDATE applications SET language = 'ar' WHERE body LIKE '%"language":"ar"%';
