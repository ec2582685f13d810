-- A stand-in (a payment a flow reported with esito 9, fonte SURROGATO) never coexists with
-- a receipt of its IUV: the ones that do are removed (their IUVs queued for
-- reclassification), and "pagati" no longer counts stand-ins (they are measure S), so the
-- days of every stand-in are recomputed.
INSERT INTO statistica_sporca (id_dominio, giorno)
SELECT DISTINCT id_dominio, data_esito FROM ricevuta WHERE fonte = 'SURROGATO'
ON CONFLICT DO NOTHING;
INSERT INTO recon_coda (id_dominio, tipo, chiave, created_at)
SELECT DISTINCT s.id_dominio, 'V', s.iuv, now() FROM ricevuta s
WHERE s.fonte = 'SURROGATO' AND EXISTS (
    SELECT 1 FROM ricevuta e WHERE e.id_dominio = s.id_dominio AND e.iuv = s.iuv AND e.fonte <> 'SURROGATO');
DELETE FROM ricevuta WHERE fonte = 'SURROGATO' AND EXISTS (
    SELECT 1 FROM ricevuta e WHERE e.id_dominio = ricevuta.id_dominio AND e.iuv = ricevuta.iuv AND e.fonte <> 'SURROGATO');
-- The ente's stand-ins are read whenever receipts are staged: few rows, their own index.
CREATE INDEX ricevuta_surrogato ON ricevuta (id_dominio) WHERE fonte = 'SURROGATO';
