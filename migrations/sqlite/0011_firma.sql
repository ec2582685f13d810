-- A digest of each reconciled row's content: a reclassification rewrites only the rows whose
-- content changed (a re-sent flow, a reloaded journal change nothing and write nothing).
-- Rows written before this column have none and are rewritten once.
ALTER TABLE riconciliazione ADD COLUMN firma INTEGER;
