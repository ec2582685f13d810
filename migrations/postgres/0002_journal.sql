-- Message journal: every SOAP exchange, both directions, with raw bodies.
CREATE TABLE journal (
    id BIGSERIAL PRIMARY KEY,
    at TIMESTAMPTZ NOT NULL,
    direction TEXT NOT NULL CHECK (direction IN ('IN', 'OUT')),
    operation TEXT NOT NULL,
    id_dominio TEXT,
    iuv TEXT,
    ccp TEXT,
    id_psp TEXT,
    outcome TEXT NOT NULL,
    http_status BIGINT,
    duration_us BIGINT NOT NULL,
    request BYTEA NOT NULL,
    response BYTEA NOT NULL
);
CREATE INDEX journal_at ON journal (at);
CREATE INDEX journal_key ON journal (id_dominio, iuv);
