-- The payments of each downloaded reporting flow (R in MyPivot's join), esito 3 excluded;
-- a re-sent newer version of a flow replaces the payments of the older one.
CREATE TABLE rendicontazione (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    id_dominio TEXT NOT NULL,
    flusso_id INTEGER NOT NULL REFERENCES flusso (id),
    iuf TEXT NOT NULL,
    iuv TEXT NOT NULL,
    iur TEXT NOT NULL,
    indice INTEGER,
    importo_cents INTEGER NOT NULL,
    esito INTEGER NOT NULL,
    data_esito TEXT NOT NULL,
    data_regolamento TEXT NOT NULL,
    totale_flusso_cents INTEGER NOT NULL
);
CREATE INDEX rendicontazione_iuv ON rendicontazione (id_dominio, iuv);
CREATE INDEX rendicontazione_iuf ON rendicontazione (id_dominio, iuf);
