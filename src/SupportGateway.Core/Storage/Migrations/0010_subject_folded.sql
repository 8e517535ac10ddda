-- The subject folded for search by the gateway itself (TextFold), not by the engine: SQLite's LOWER() folds ASCII
-- only, so "Отчёт" and "отчет" would not meet. Existing rows are filled by the migrator after this script.
ALTER TABLE tickets ADD COLUMN subject_folded TEXT;
