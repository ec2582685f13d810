-- An import's rejects one row each, read back a page at a time: a file of a million bad
-- lines is a report of a million rows, not one JSON value loaded whole.
CREATE TABLE import_scarto (
    job_id TEXT NOT NULL REFERENCES import_job (id),
    n INTEGER NOT NULL,
    riga INTEGER NOT NULL,
    codice TEXT NOT NULL,
    motivo TEXT NOT NULL,
    riga_originale TEXT NOT NULL,
    PRIMARY KEY (job_id, n)
);
INSERT INTO import_scarto (job_id, n, riga, codice, motivo, riga_originale)
SELECT j.id, CAST(s.key AS INTEGER), json_extract(s.value, '$.riga'), json_extract(s.value, '$.codice'),
       json_extract(s.value, '$.motivo'), json_extract(s.value, '$.riga_originale')
FROM import_job j, json_each(j.scarti) s;
UPDATE import_job SET scarti = '[]';
