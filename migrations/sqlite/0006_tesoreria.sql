-- The treasurer's journal (giornale di cassa), one row per bolletta, from CSV or OPI
-- uploads; IUF / IUV as extracted from the causale (MyPivot §1.2) for reconciliation.
CREATE TABLE tesoreria (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    id_dominio TEXT NOT NULL,
    anno_bolletta INTEGER NOT NULL,
    codice_bolletta TEXT NOT NULL,
    data_contabile TEXT NOT NULL,
    data_valuta TEXT NOT NULL,
    importo_cents INTEGER NOT NULL,
    ordinante TEXT NOT NULL,
    causale TEXT NOT NULL,
    iuf TEXT,
    iuv TEXT,
    fonte TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (id_dominio, anno_bolletta, codice_bolletta)
);
CREATE INDEX tesoreria_iuf ON tesoreria (id_dominio, iuf);
CREATE INDEX tesoreria_iuv ON tesoreria (id_dominio, iuv);
