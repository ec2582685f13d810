-- Stale statistics days as marks that are only ever added, never upserted: a change marks
-- its days with rows of its own, and the refresh deletes the marks it sees. The same
-- table as on PostgreSQL, where one row per (ente, day) made receipts wait for the
-- refresh's commit (see migrations/postgres/0019).
CREATE TABLE statistica_sporca_segni (
    id_dominio TEXT NOT NULL,
    giorno TEXT NOT NULL
);
INSERT INTO statistica_sporca_segni (id_dominio, giorno)
    SELECT id_dominio, giorno FROM statistica_sporca;
DROP TABLE statistica_sporca;
ALTER TABLE statistica_sporca_segni RENAME TO statistica_sporca;
CREATE INDEX statistica_sporca_giorno ON statistica_sporca (id_dominio, giorno);
