-- RPTs we created (by paaAttivaRPT or for the portal) and RTs we received.
CREATE TABLE rpt (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    id_dominio TEXT NOT NULL,
    iuv TEXT NOT NULL,
    ccp TEXT NOT NULL,
    dovuto_id INTEGER REFERENCES dovuto (id),
    importo_cents INTEGER NOT NULL,
    xml BLOB NOT NULL,
    stato TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (id_dominio, iuv, ccp)
);

-- Every RT exactly as received, stored before it is processed or acknowledged.
-- stato: RICEVUTA (stored, not yet processed), ELABORATA, ANOMALA (processed, amounts do
-- not match the RPT), QUARANTENA (no such RPT), INVALIDA (not a valid RT).
CREATE TABLE rt_ricevuta (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    id_dominio TEXT NOT NULL,
    iuv TEXT NOT NULL,
    ccp TEXT NOT NULL,
    raw BLOB NOT NULL,
    stato TEXT NOT NULL,
    codice_esito INTEGER,
    importo_cents INTEGER,
    rpt_id INTEGER REFERENCES rpt (id),
    nota TEXT,
    received_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (id_dominio, iuv, ccp)
);
CREATE INDEX rt_ricevuta_stato ON rt_ricevuta (stato, id_dominio);
