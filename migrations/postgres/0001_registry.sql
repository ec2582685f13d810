-- Registry: the intermediary, enti, tipi dovuto, dovuti with their history, API keys, import jobs.
-- Money is BIGINT cents; timestamps are TIMESTAMPTZ (UTC); dates are DATE.

CREATE TABLE intermediario (
    id BIGINT PRIMARY KEY CHECK (id = 1),
    id_intermediario_pa TEXT NOT NULL,
    id_stazione TEXT NOT NULL,
    password TEXT NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE ente (
    id_dominio TEXT PRIMARY KEY,
    denominazione TEXT NOT NULL,
    codice_ipa TEXT NOT NULL UNIQUE,
    segregation_code BIGINT NOT NULL CHECK (segregation_code BETWEEN 0 AND 99),
    email TEXT,
    telefono TEXT,
    sito_web TEXT,
    -- JSON array of registered IBANs
    ibans TEXT NOT NULL DEFAULT '[]',
    flg_pagati BOOLEAN NOT NULL DEFAULT FALSE,
    flg_tesoreria BOOLEAN NOT NULL DEFAULT FALSE,
    attivo BOOLEAN NOT NULL DEFAULT TRUE,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX ente_denominazione ON ente (lower(denominazione));


CREATE TABLE tipo_dovuto (
    id_dominio TEXT NOT NULL REFERENCES ente (id_dominio),
    codice TEXT NOT NULL,
    descrizione TEXT NOT NULL,
    iban TEXT NOT NULL,
    dati_specifici_riscossione TEXT NOT NULL,
    importo_fisso_cents BIGINT,
    spontaneo BOOLEAN NOT NULL DEFAULT FALSE,
    cf_anonimo BOOLEAN NOT NULL DEFAULT FALSE,
    politica_scadenza TEXT NOT NULL CHECK (politica_scadenza IN ('RIFIUTA', 'ACCETTA')),
    mora_fissa_cents BIGINT NOT NULL DEFAULT 0,
    interesse_annuo_bp BIGINT NOT NULL DEFAULT 0,
    attivo BOOLEAN NOT NULL DEFAULT TRUE,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (id_dominio, codice)
);

-- One counter per ente: IUV bases are unique per ente whichever instance issues them.
CREATE TABLE iuv_sequence (
    id_dominio TEXT PRIMARY KEY REFERENCES ente (id_dominio),
    next_base BIGINT NOT NULL
);

CREATE TABLE dovuto (
    id BIGSERIAL PRIMARY KEY,
    id_dominio TEXT NOT NULL REFERENCES ente (id_dominio),
    iud TEXT NOT NULL,
    iuv TEXT NOT NULL,
    numero_avviso TEXT,
    tipo_dovuto TEXT NOT NULL,
    tipo_soggetto TEXT NOT NULL CHECK (tipo_soggetto IN ('F', 'G')),
    codice_fiscale TEXT NOT NULL,
    anagrafica TEXT NOT NULL,
    indirizzo TEXT,
    civico TEXT,
    cap TEXT,
    localita TEXT,
    provincia TEXT,
    nazione TEXT,
    email TEXT,
    importo_cents BIGINT NOT NULL CHECK (importo_cents > 0),
    commissione_pa_cents BIGINT,
    causale TEXT NOT NULL,
    dati_specifici_riscossione TEXT NOT NULL,
    tipo_versamento TEXT NOT NULL,
    data_scadenza DATE,
    -- JSON array of {cod_capitolo, cod_ufficio, cod_accertamento, importo}
    bilancio TEXT NOT NULL DEFAULT '[]',
    data_validita DATE,
    stato TEXT NOT NULL,
    version BIGINT NOT NULL DEFAULT 1,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    FOREIGN KEY (id_dominio, tipo_dovuto) REFERENCES tipo_dovuto (id_dominio, codice),
    UNIQUE (id_dominio, iud),
    UNIQUE (id_dominio, iuv)
);
CREATE UNIQUE INDEX dovuto_numero_avviso ON dovuto (id_dominio, numero_avviso);
CREATE INDEX dovuto_cf ON dovuto (codice_fiscale);
CREATE INDEX dovuto_stato ON dovuto (id_dominio, stato);


CREATE TABLE dovuto_storia (
    id BIGSERIAL PRIMARY KEY,
    dovuto_id BIGINT NOT NULL REFERENCES dovuto (id) ON DELETE CASCADE,
    stato_da TEXT,
    stato_a TEXT NOT NULL,
    motivo TEXT NOT NULL,
    at TIMESTAMPTZ NOT NULL
);
CREATE INDEX dovuto_storia_dovuto ON dovuto_storia (dovuto_id);

CREATE TABLE api_key (
    id BIGSERIAL PRIMARY KEY,
    id_dominio TEXT NOT NULL REFERENCES ente (id_dominio),
    key_hash TEXT NOT NULL UNIQUE,
    label TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    revoked_at TIMESTAMPTZ
);

CREATE TABLE import_job (
    id TEXT PRIMARY KEY,
    id_dominio TEXT NOT NULL REFERENCES ente (id_dominio),
    tipo TEXT NOT NULL,
    file_name TEXT,
    file_sha256 TEXT NOT NULL,
    versione TEXT,
    stato TEXT NOT NULL,
    righe_lette BIGINT NOT NULL,
    righe_importate BIGINT NOT NULL,
    righe_invariate BIGINT NOT NULL,
    righe_scartate BIGINT NOT NULL,
    scarti TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX import_job_ente ON import_job (id_dominio, created_at);
