-- MyPivot accounting (shared/docs/mypivot.md §2.13, §3, §4): the chart ufficio – capitolo –
-- accertamento, accertamenti with their payments and history, and the statistics kept as
-- daily aggregates, refreshed only for the days a change touched.

-- The chart, per ente, year and tipo dovuto. `n/a` stands for a missing accertamento or an
-- unknown description (codes inserted from a bilancio).
CREATE TABLE capitolo (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    id_dominio TEXT NOT NULL REFERENCES ente (id_dominio),
    anno INTEGER NOT NULL,
    tipo_dovuto TEXT NOT NULL,
    cod_ufficio TEXT NOT NULL,
    de_ufficio TEXT NOT NULL,
    attivo BOOLEAN NOT NULL,
    cod_capitolo TEXT NOT NULL,
    de_capitolo TEXT NOT NULL,
    cod_accertamento TEXT NOT NULL,
    de_accertamento TEXT NOT NULL,
    automatico BOOLEAN NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (id_dominio, anno, tipo_dovuto, cod_ufficio, cod_capitolo, cod_accertamento)
);

CREATE TABLE accertamento (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    id_dominio TEXT NOT NULL REFERENCES ente (id_dominio),
    tipo_dovuto TEXT NOT NULL,
    nome TEXT NOT NULL,
    stato TEXT NOT NULL CHECK (stato IN ('INSERITO', 'CHIUSO', 'ANNULLATO')),
    -- Set on the accertamenti created from receipts' bilanci: `<origine>_<tipo dovuto>`,
    -- unique, so a reload finds its accertamento instead of making another.
    chiave_automatica TEXT UNIQUE,
    utente TEXT NOT NULL,
    version INTEGER NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX accertamento_ente ON accertamento (id_dominio, stato);

-- A payment (one receipt row) booked on an ufficio / capitolo / accertamento of the chart.
CREATE TABLE accertamento_pagamento (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    accertamento_id INTEGER NOT NULL REFERENCES accertamento (id),
    ricevuta_id INTEGER NOT NULL REFERENCES ricevuta (id),
    anno INTEGER NOT NULL,
    cod_ufficio TEXT NOT NULL,
    cod_capitolo TEXT NOT NULL,
    cod_accertamento TEXT NOT NULL,
    importo_cents INTEGER NOT NULL CHECK (importo_cents > 0),
    utente TEXT NOT NULL,
    created_at TEXT NOT NULL,
    UNIQUE (accertamento_id, ricevuta_id, cod_ufficio, cod_capitolo, cod_accertamento)
);
CREATE INDEX accertamento_pagamento_ricevuta ON accertamento_pagamento (ricevuta_id);

-- Who changed what and when.
CREATE TABLE accertamento_storia (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    accertamento_id INTEGER NOT NULL REFERENCES accertamento (id),
    azione TEXT NOT NULL,
    dettaglio TEXT NOT NULL,
    utente TEXT NOT NULL,
    at TEXT NOT NULL
);
CREATE INDEX accertamento_storia_acc ON accertamento_storia (accertamento_id);

-- Daily aggregates. livello E: the ente's totals (codes ''); livello A: the payments of
-- CHIUSO accertamenti by tipo / ufficio / capitolo / accertamento. misura P paid (by data
-- esito), R reported (RT_IUF, by data regolamento), I cashed (RT_IUF_TES or RT_TES, by
-- data valuta).
CREATE TABLE statistica (
    id_dominio TEXT NOT NULL,
    giorno TEXT NOT NULL,
    livello TEXT NOT NULL,
    misura TEXT NOT NULL,
    tipo_dovuto TEXT NOT NULL,
    cod_ufficio TEXT NOT NULL,
    cod_capitolo TEXT NOT NULL,
    cod_accertamento TEXT NOT NULL,
    anno INTEGER NOT NULL,
    mese INTEGER NOT NULL,
    importo_cents INTEGER NOT NULL,
    numero INTEGER NOT NULL,
    PRIMARY KEY (id_dominio, giorno, livello, misura, tipo_dovuto, cod_ufficio, cod_capitolo, cod_accertamento)
);

-- Days whose aggregates a change made stale, written in the change's transaction.
CREATE TABLE statistica_sporca (
    id_dominio TEXT NOT NULL,
    giorno TEXT NOT NULL,
    PRIMARY KEY (id_dominio, giorno)
);

-- A day's lines and receipts in IUV order: a statistics drill-down page stops early.
CREATE INDEX riconciliazione_regolamento ON riconciliazione (id_dominio, data_regolamento, iuv);
CREATE INDEX riconciliazione_valuta ON riconciliazione (id_dominio, data_valuta, iuv);
DROP INDEX ricevuta_esito;
CREATE INDEX ricevuta_esito ON ricevuta (id_dominio, data_esito, iuv);

-- What was reconciled before this migration gets its aggregates on the first refresh.
INSERT INTO statistica_sporca (id_dominio, giorno)
SELECT id_dominio, data_esito FROM ricevuta
UNION SELECT id_dominio, data_regolamento FROM riconciliazione WHERE data_regolamento IS NOT NULL
UNION SELECT id_dominio, data_valuta FROM riconciliazione WHERE data_valuta IS NOT NULL;
