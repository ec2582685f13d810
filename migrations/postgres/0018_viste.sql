-- The reconciliation's view pages at a region's scale (a million lines per ente).
--
-- How many lines carry each combination of codes, kept by the reclassification in the
-- same transaction as the lines: the counts per code and the total of an unfiltered view
-- are read from here, not counted over the lines on every page.
CREATE TABLE riconciliazione_conteggio (
    id_dominio TEXT NOT NULL,
    codici BIGINT NOT NULL,
    n BIGINT NOT NULL,
    PRIMARY KEY (id_dominio, codici)
);
INSERT INTO riconciliazione_conteggio (id_dominio, codici, n)
    SELECT id_dominio, codici, COUNT(*) FROM riconciliazione GROUP BY id_dominio, codici;

-- The views' order: a page of a large result walks this index instead of sorting.
CREATE INDEX riconciliazione_ordine ON riconciliazione
    (id_dominio, (COALESCE(data_esito, data_valuta, data_esecuzione)), iuv, iud, id);
-- Every filter of a view that compares for equality or a range has an index, so that a
-- few matches among a million lines are found without reading the million.
CREATE INDEX riconciliazione_codici ON riconciliazione (id_dominio, codici);
CREATE INDEX riconciliazione_iur ON riconciliazione (id_dominio, iur);
CREATE INDEX riconciliazione_tipo_dovuto ON riconciliazione (id_dominio, tipo_dovuto);
CREATE INDEX riconciliazione_cf_pagatore ON riconciliazione (id_dominio, cf_pagatore);
CREATE INDEX riconciliazione_bolletta ON riconciliazione (id_dominio, codice_bolletta);
CREATE INDEX riconciliazione_anno_bolletta ON riconciliazione (id_dominio, anno_bolletta);
CREATE INDEX riconciliazione_importo_tesoreria ON riconciliazione (id_dominio, importo_tesoreria_cents);
CREATE INDEX riconciliazione_esito ON riconciliazione (id_dominio, data_esito);
CREATE INDEX riconciliazione_contabile ON riconciliazione (id_dominio, data_contabile);
-- The "contains" filters list the matching values of these columns through their index.
CREATE INDEX riconciliazione_attestante ON riconciliazione (id_dominio, attestante);
CREATE INDEX riconciliazione_ordinante ON riconciliazione (id_dominio, ordinante);

-- A note's blank key is an absent one (the REST API now stores it so); the views find a
-- note's lines through the first key it names.
UPDATE segnalazione SET iuf = NULLIF(iuf, ''), iud = NULLIF(iud, ''), iuv = NULLIF(iuv, '');
