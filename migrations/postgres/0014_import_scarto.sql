-- An import's rejects one row each, read back a page at a time: a file of a million bad
-- lines is a report of a million rows, not one JSON value loaded whole.
CREATE TABLE import_scarto (
    job_id TEXT NOT NULL REFERENCES import_job (id),
    n BIGINT NOT NULL,
    riga BIGINT NOT NULL,
    codice TEXT NOT NULL,
    motivo TEXT NOT NULL,
    riga_originale TEXT NOT NULL,
    PRIMARY KEY (job_id, n)
);
INSERT INTO import_scarto (job_id, n, riga, codice, motivo, riga_originale)
SELECT j.id, s.n - 1, (s.v ->> 'riga')::BIGINT, s.v ->> 'codice', s.v ->> 'motivo', s.v ->> 'riga_originale'
-- JSON may escape a NUL (\u0000), which jsonb refuses: read as U+FFFD.
FROM import_job j, jsonb_array_elements(replace(j.scarti, '\u0000', '\ufffd')::jsonb) WITH ORDINALITY AS s (v, n);
UPDATE import_job SET scarti = '[]';
