-- MyPivot's reconciliation store (shared/docs/mypivot.md §1): receipts as staged rows (E),
-- the materialized classified tuples, the queue of keys an import touched, operators' notes
-- (segnalazioni) and reconciliation exports.

-- IUFs compare case-insensitively (MyPivot joins on upper(IUF)): a normalized key column.
ALTER TABLE tesoreria ADD COLUMN iuf_key TEXT;
ALTER TABLE tesoreria ADD COLUMN conto TEXT;
UPDATE tesoreria SET iuf_key = UPPER(iuf);
CREATE INDEX tesoreria_iuf_key ON tesoreria (id_dominio, iuf_key);
ALTER TABLE rendicontazione ADD COLUMN iuf_key TEXT;
ALTER TABLE rendicontazione ADD COLUMN id_regolamento TEXT;
ALTER TABLE rendicontazione ADD COLUMN data_ora_flusso TEXT;
UPDATE rendicontazione SET iuf_key = UPPER(iuf);
CREATE INDEX rendicontazione_iuf_key ON rendicontazione (id_dominio, iuf_key);

-- E: one row per single payment of a positive receipt, from the gateway's own RTs, the MyPay
-- "export pagati" CSV, or a reporting row with esito 9 standing in for a receipt.
CREATE TABLE ricevuta (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    id_dominio TEXT NOT NULL,
    iuv TEXT NOT NULL,
    iur TEXT NOT NULL,
    indice INTEGER NOT NULL,
    iud TEXT,
    tipo_dovuto TEXT,
    importo_cents INTEGER NOT NULL,
    totale_cents INTEGER NOT NULL,
    codice_esito INTEGER NOT NULL,
    data_esito TEXT NOT NULL,
    cf_pagatore TEXT,
    anagrafica_pagatore TEXT,
    cf_versante TEXT,
    anagrafica_versante TEXT,
    attestante TEXT,
    denominazione_attestante TEXT,
    causale TEXT,
    bilancio TEXT,
    fonte TEXT NOT NULL,
    rt_id INTEGER,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (id_dominio, iuv, iur, indice)
);
CREATE INDEX ricevuta_iud ON ricevuta (id_dominio, iud);
CREATE INDEX ricevuta_esito ON ricevuta (id_dominio, data_esito);

-- The classified tuples; `chiave` names the owner whose recomputation rewrites the row:
-- V:<iuv> (receipts and reported payments of one IUV), D:<iud> (a notification without a
-- receipt), T:<tesoreria id> (a treasury line no payment claimed).
CREATE TABLE riconciliazione (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    id_dominio TEXT NOT NULL,
    chiave TEXT NOT NULL,
    codici INTEGER NOT NULL,
    iud TEXT,
    iuv TEXT,
    iur TEXT,
    indice INTEGER,
    iuf TEXT,
    iuf_key TEXT,
    tipo_dovuto TEXT,
    cf_pagatore TEXT,
    attestante TEXT,
    tesoreria_id INTEGER,
    anno_bolletta INTEGER,
    codice_bolletta TEXT,
    ordinante TEXT,
    conto TEXT,
    importo_notificato_cents INTEGER,
    importo_pagato_cents INTEGER,
    totale_pagato_cents INTEGER,
    importo_rendicontato_cents INTEGER,
    totale_flusso_cents INTEGER,
    importo_tesoreria_cents INTEGER,
    data_esecuzione TEXT,
    data_esito TEXT,
    data_regolamento TEXT,
    data_contabile TEXT,
    data_valuta TEXT,
    aggiornato_at TEXT NOT NULL
);
CREATE INDEX riconciliazione_chiave ON riconciliazione (id_dominio, chiave);
CREATE INDEX riconciliazione_iuv ON riconciliazione (id_dominio, iuv);
CREATE INDEX riconciliazione_iuf ON riconciliazione (id_dominio, iuf_key);
CREATE INDEX riconciliazione_iud ON riconciliazione (id_dominio, iud);
CREATE INDEX riconciliazione_tesoreria ON riconciliazione (id_dominio, tesoreria_id);

-- Keys touched by an import, written in the import's transaction and drained by the
-- reclassification (right after the import, or by the sweep after a crash).
CREATE TABLE recon_coda (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    id_dominio TEXT NOT NULL,
    tipo TEXT NOT NULL,
    chiave TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX recon_coda_ente ON recon_coda (id_dominio, id);

CREATE TABLE segnalazione (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    id_dominio TEXT NOT NULL,
    codice TEXT NOT NULL,
    -- The code's bit (recon::classifica::Codice::bit), to match a line's code set.
    bit INTEGER NOT NULL,
    iuf TEXT,
    iud TEXT,
    iuv TEXT,
    nota TEXT NOT NULL,
    nascosto BOOLEAN NOT NULL,
    attivo BOOLEAN NOT NULL,
    utente TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX segnalazione_ente ON segnalazione (id_dominio, codice, attivo);

CREATE TABLE recon_export (
    id TEXT PRIMARY KEY,
    id_dominio TEXT NOT NULL,
    versione TEXT NOT NULL,
    filtri TEXT NOT NULL,
    stato TEXT NOT NULL,
    righe INTEGER NOT NULL,
    errore TEXT,
    created_at TEXT NOT NULL,
    finished_at TEXT
);
CREATE TABLE recon_export_parte (
    export_id TEXT NOT NULL REFERENCES recon_export (id) ON DELETE CASCADE,
    n INTEGER NOT NULL,
    dati BLOB NOT NULL,
    PRIMARY KEY (export_id, n)
);
