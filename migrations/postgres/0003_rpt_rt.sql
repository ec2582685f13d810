-- RPTs we created (by paaAttivaRPT or for the portal) and RTs we received.
CREATE TABLE rpt (
    id BIGSERIAL PRIMARY KEY,
    id_dominio TEXT NOT NULL,
    iuv TEXT NOT NULL,
    ccp TEXT NOT NULL,
    dovuto_id BIGINT REFERENCES dovuto (id),
    importo_cents BIGINT NOT NULL,
    xml BYTEA NOT NULL,
    stato TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    UNIQUE (id_dominio, iuv, ccp)
);

-- Every RT exactly as received, stored before it is processed or acknowledged.
-- stato: RICEVUTA (stored, not yet processed), ELABORATA, ANOMALA (processed, amounts do
-- not match the RPT), QUARANTENA (no such RPT), INVALIDA (not a valid RT).
CREATE TABLE rt_ricevuta (
    id BIGSERIAL PRIMARY KEY,
    id_dominio TEXT NOT NULL,
    iuv TEXT NOT NULL,
    ccp TEXT NOT NULL,
    raw BYTEA NOT NULL,
    stato TEXT NOT NULL,
    codice_esito BIGINT,
    importo_cents BIGINT,
    rpt_id BIGINT REFERENCES rpt (id),
    nota TEXT,
    received_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    UNIQUE (id_dominio, iuv, ccp)
);
CREATE INDEX rt_ricevuta_stato ON rt_ricevuta (stato, id_dominio);
