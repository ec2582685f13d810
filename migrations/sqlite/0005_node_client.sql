-- Outbox leases name their holder, so only the holder completes a job; a finished job
-- may keep a result (the redirect URL of a sent RPT).
ALTER TABLE outbox ADD COLUMN lease_owner TEXT;
ALTER TABLE outbox ADD COLUMN result TEXT;
CREATE INDEX outbox_kind_ref ON outbox (kind, ref_id);

-- Carts sent with nodoInviaCarrelloRPT (also single portal payments, a cart of one).
CREATE TABLE carrello (
    id TEXT PRIMARY KEY,
    multi_beneficiario BOOLEAN NOT NULL DEFAULT FALSE,
    stato TEXT NOT NULL,
    url TEXT,
    email_login TEXT,
    errore TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

-- origine: ATTIVA (modello 3, created by paaAttivaRPT) or PORTALE (modello 1, a cart).
ALTER TABLE rpt ADD COLUMN origine TEXT NOT NULL DEFAULT 'ATTIVA';
ALTER TABLE rpt ADD COLUMN id_carrello TEXT REFERENCES carrello (id);
ALTER TABLE rpt ADD COLUMN verificata_at TEXT;
CREATE INDEX rpt_stato ON rpt (stato, updated_at);

-- Reporting flows as downloaded: raw bytes first, then what parsing found.
CREATE TABLE flusso (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    id_dominio TEXT NOT NULL,
    id_flusso TEXT NOT NULL,
    data_ora_flusso TEXT NOT NULL,
    raw BLOB NOT NULL,
    stato TEXT NOT NULL,
    nota TEXT,
    numero_pagamenti INTEGER,
    importo_cents INTEGER,
    created_at TEXT NOT NULL,
    UNIQUE (id_dominio, id_flusso, data_ora_flusso)
);
