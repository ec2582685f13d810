-- A treasury import's storni (OPI STORNATO removing a bolletta) counted apart from the
-- lines it wrote, so the report says what the answer said (183 imported + 2 storni, not
-- 185 imported).
ALTER TABLE import_job ADD COLUMN righe_stornate BIGINT NOT NULL DEFAULT 0;
