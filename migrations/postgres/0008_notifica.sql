-- Payments an ente's back office notifies, by IUD (MyPivot's input I).
CREATE TABLE notifica (
    id BIGSERIAL PRIMARY KEY,
    id_dominio TEXT NOT NULL,
    iud TEXT NOT NULL,
    iuv TEXT,
    data_esecuzione DATE NOT NULL,
    importo_cents BIGINT NOT NULL,
    tipo_dovuto TEXT NOT NULL,
    causale TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    UNIQUE (id_dominio, iud)
);
