-- The treasurer's journal (giornale di cassa), one row per bolletta, from CSV or OPI
-- uploads; IUF / IUV as extracted from the causale (MyPivot §1.2) for reconciliation.
CREATE TABLE tesoreria (
    id BIGSERIAL PRIMARY KEY,
    id_dominio TEXT NOT NULL,
    anno_bolletta BIGINT NOT NULL,
    codice_bolletta TEXT NOT NULL,
    data_contabile DATE NOT NULL,
    data_valuta DATE NOT NULL,
    importo_cents BIGINT NOT NULL,
    ordinante TEXT NOT NULL,
    causale TEXT NOT NULL,
    iuf TEXT,
    iuv TEXT,
    fonte TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    UNIQUE (id_dominio, anno_bolletta, codice_bolletta)
);
CREATE INDEX tesoreria_iuf ON tesoreria (id_dominio, iuf);
CREATE INDEX tesoreria_iuv ON tesoreria (id_dominio, iuv);
