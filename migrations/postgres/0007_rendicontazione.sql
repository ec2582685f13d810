-- The payments of each downloaded reporting flow (R in MyPivot's join), esito 3 excluded;
-- a re-sent newer version of a flow replaces the payments of the older one.
CREATE TABLE rendicontazione (
    id BIGSERIAL PRIMARY KEY,
    id_dominio TEXT NOT NULL,
    flusso_id BIGINT NOT NULL REFERENCES flusso (id),
    iuf TEXT NOT NULL,
    iuv TEXT NOT NULL,
    iur TEXT NOT NULL,
    indice BIGINT,
    importo_cents BIGINT NOT NULL,
    esito BIGINT NOT NULL,
    data_esito DATE NOT NULL,
    data_regolamento DATE NOT NULL,
    totale_flusso_cents BIGINT NOT NULL
);
CREATE INDEX rendicontazione_iuv ON rendicontazione (id_dominio, iuv);
CREATE INDEX rendicontazione_iuf ON rendicontazione (id_dominio, iuf);
