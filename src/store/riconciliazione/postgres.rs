// The reconciliation's bulk writes on PostgreSQL: through COPY.

/// Rows in COPY's text format: tab-separated fields, `\N` for NULL, backslash escapes.
#[derive(Default)]
struct Copia(String, bool);

impl Copia {
    /// A tab before every field but a row's first.
    fn sep(&mut self) {
        if self.1 {
            self.0.push('\t');
        }
        self.1 = true;
    }
    fn testo(&mut self, v: Option<&str>) -> &mut Self {
        self.sep();
        let Some(s) = v else {
            self.0.push_str("\\N");
            return self;
        };
        for ch in s.chars() {
            match ch {
                '\\' => self.0.push_str("\\\\"),
                '\t' => self.0.push_str("\\t"),
                '\n' => self.0.push_str("\\n"),
                '\r' => self.0.push_str("\\r"),
                c => self.0.push(c),
            }
        }
        self
    }
    /// Numbers, dates, timestamps: their Display is a valid COPY value with nothing to escape.
    fn valore(&mut self, v: Option<impl std::fmt::Display>) -> &mut Self {
        use std::fmt::Write;
        self.sep();
        match v {
            Some(v) => write!(self.0, "{v}").expect("write to String"),
            None => self.0.push_str("\\N"),
        }
        self
    }
    fn fine(&mut self) {
        self.0.push('\n');
        self.1 = false;
    }
    async fn invia(self, c: &mut Conn, copy: &str) -> StoreResult<()> {
        if self.0.is_empty() {
            return Ok(());
        }
        let mut w = c.copy_in_raw(copy).await?;
        w.send(self.0.into_bytes()).await?;
        w.finish().await?;
        Ok(())
    }
}

/// A flow's payments through COPY: one round trip and no per-row binding (a flow carries up
/// to tens of thousands of payments).
async fn insert_pagamenti_flusso(
    c: &mut Conn,
    f: &NuovoFlusso,
    id: i64,
    regolamento: Date,
    totale: i64,
    validi: &[&crate::model::flusso::PagamentoFlusso],
) -> StoreResult<()> {
    let iuf_key = f.id_flusso.to_uppercase();
    let mut out = Copia::default();
    for p in validi {
        out.testo(Some(&f.id_dominio))
            .valore(Some(id))
            .testo(Some(&f.id_flusso))
            .testo(Some(&iuf_key))
            .testo(Some(p.iuv.as_str()))
            .testo(Some(&p.iur))
            .valore(p.indice)
            .valore(Some(p.importo.cents()))
            .valore(Some(p.codice_esito))
            .valore(Some(p.data_esito))
            .valore(Some(regolamento))
            .valore(Some(totale))
            .testo(f.id_regolamento.as_deref())
            .testo(Some(&f.data_ora_flusso))
            .fine();
    }
    out.invia(
        c,
        "COPY rendicontazione (id_dominio, flusso_id, iuf, iuf_key, iuv, iur, indice, importo_cents, esito, data_esito, data_regolamento,
           totale_flusso_cents, id_regolamento, data_ora_flusso) FROM STDIN",
    )
    .await
}

/// Classified rows through COPY.
async fn scrivi(
    c: &mut Conn,
    ente: &str,
    righe: &[motore::Riga<'_>],
    now: OffsetDateTime,
) -> StoreResult<()> {
    copia(c, ente, None, righe, now).await
}

/// The ente's stored lines `ids`, by id.
async fn libere(c: &mut Conn, ente: &str, ids: &[i64]) -> StoreResult<Vec<Libera>> {
    Ok(sqlx::query_as(concat!(
        "SELECT id, chiave, iur, indice, tesoreria_id FROM riconciliazione WHERE id = ANY($1) AND id_dominio = ",
        ente!(2)
    ))
    .bind(ids)
    .bind(ente)
    .fetch_all(&mut *c)
    .await?)
}

/// Stored lines rewritten with the computed rows `righe`, line `ids[i]` as `righe[i]`, in
/// the caller's transaction; returns what each line was. On PostgreSQL an update writes a
/// new version of the row and, a code having changed, an entry in every index, as an
/// insert does: the lines are deleted and written again with their ids, by the bulk paths.
async fn riscrivi(
    c: &mut Conn,
    ente: &str,
    ids: &[i64],
    righe: &[motore::Riga<'_>],
    now: OffsetDateTime,
) -> StoreResult<Vec<Tolta>> {
    let mut prima = Vec::with_capacity(ids.len());
    for pezzo in ids.chunks(10_000) {
        let mut q = sqlx::QueryBuilder::<Db>::new("DELETE FROM riconciliazione WHERE ");
        push_in(&mut q, "id", pezzo);
        q.push(" RETURNING codici, data_esito, data_regolamento, data_valuta");
        prima.extend(q.build_query_as::<Tolta>().fetch_all(&mut *c).await?);
    }
    if prima.len() != ids.len() {
        return Err(StoreError::Corrupt(format!(
            "reconciliation: {} of {} lines to rewrite found",
            prima.len(),
            ids.len()
        )));
    }
    copia(c, ente, Some(ids), righe, now).await?;
    Ok(prima)
}

/// `righe` through COPY, with the ids `ids` (one per row) or new ones.
async fn copia(
    c: &mut Conn,
    ente: &str,
    ids: Option<&[i64]>,
    righe: &[motore::Riga<'_>],
    now: OffsetDateTime,
) -> StoreResult<()> {
    let now = now
        .format(&time::format_description::well_known::Rfc3339)
        .map_err(|e| StoreError::Corrupt(e.to_string()))?;
    let colonne = super::COLONNE_SCRITTE.join(", ");
    let copy = match ids {
        Some(_) => format!("COPY riconciliazione (id, {colonne}) FROM STDIN"),
        None => format!("COPY riconciliazione ({colonne}) FROM STDIN"),
    };
    // Bounded batches: a rebuild of a million rows does not build one buffer of all of them.
    for (k, chunk) in righe.chunks(20_000).enumerate() {
        let mut out = Copia::default();
        for (i, r) in chunk.iter().enumerate() {
            if let Some(ids) = ids {
                out.valore(Some(ids[k * 20_000 + i]));
            }
            let t = r.tesoreria.as_ref();
            out.testo(Some(ente))
                .testo(Some(&r.proprietario.chiave()))
                .valore(Some(r.codici as i64))
                .testo(r.iud)
                .testo(r.iuv)
                .testo(r.iur)
                .valore(r.indice)
                .testo(r.iuf)
                .testo(r.iuf.as_ref().map(|s| s.to_uppercase()).as_deref())
                .testo(r.tipo_dovuto)
                .testo(r.cf_pagatore)
                .testo(r.attestante)
                .valore(t.map(|t| t.id))
                .valore(t.map(|t| t.anno_bolletta))
                .testo(t.map(|t| t.codice_bolletta.as_str()))
                .testo(t.map(|t| t.ordinante.as_str()))
                .testo(t.and_then(|t| t.conto.as_deref()))
                .valore(r.importo_notificato_cents)
                .valore(r.importo_pagato_cents)
                .valore(r.totale_pagato_cents)
                .valore(r.importo_rendicontato_cents)
                .valore(r.totale_flusso_cents)
                .valore(t.map(|t| t.importo_cents))
                .valore(r.data_esecuzione)
                .valore(r.data_esito)
                .valore(r.data_regolamento)
                .valore(t.map(|t| t.data_contabile))
                .valore(t.map(|t| t.data_valuta))
                .testo(Some(&now))
                .valore(Some(r.firma()))
                .fine();
        }
        out.invia(c, &copy).await?;
    }
    Ok(())
}

/// After a rebuild that wrote or deleted a great many lines: `VACUUM (ANALYZE)` of the
/// table. Freshly written rows have no hint bits and no all-visible mark, so the first
/// view pages read after a million-line rebuild set them page by page, while autovacuum
/// (which such a load sets off) reads the whole table at the same time: view pages took
/// up to 200 ms then, 65 ms at p99 with the table vacuumed here (docs/riconciliazione.md
/// §3.4). The rebuild is the operators' repair, rare and already seconds long; it returns
/// with the table tidy and its statistics fresh. A failure (another instance vacuuming,
/// the lock timeout) is logged: the rebuild itself is committed, and autovacuum will come.
async fn dopo_riscrittura_massiva(p: &DbPool) {
    let t = std::time::Instant::now();
    match sqlx::raw_sql("VACUUM (ANALYZE) riconciliazione")
        .execute(p)
        .await
    {
        Ok(_) => tracing::debug!(
            ms = t.elapsed().as_millis(),
            "reconciliation table vacuumed after a rebuild"
        ),
        Err(e) => tracing::warn!(error = %e, "reconciliation table not vacuumed after a rebuild"),
    }
}

/// A read transaction with one planner setting for its statements: the view queries that
/// must not hang on how fresh the statistics are.
async fn leggi_con(
    p: &DbPool,
    set_local: &'static str,
) -> StoreResult<sqlx::Transaction<'static, Db>> {
    let mut tx = p.begin().await?;
    sqlx::query(set_local).execute(&mut *tx).await?;
    Ok(tx)
}

/// A view's lines in the views' order, read along the order's index: sorting is switched
/// off for the statement.
const DA_ORDINE: &str = " FROM riconciliazione r";

/// Queue keys per background pass. PostgreSQL has no single writer for a pass to hold (a
/// receipt's transaction takes no lock a pass holds), while every pass pays about fifteen
/// round trips whatever its size: passes of 64 keys, SQLite's, were some twenty a 3-s
/// round at 200 RT/s, 140–500 ms of statements back to back, and paaInviaRT's p99 was made
/// in those bursts.
pub(in crate::store) const PASSATA_DI_FONDO: i64 = 1_024;

/// The lines' IUVs by IUD (the planner takes the IUD's index for a few keys).
const IUV_PER_IUD: &str = "SELECT iuv FROM riconciliazione";

async fn in_ordine(
    p: &DbPool,
    mut q: sqlx::QueryBuilder<Db>,
) -> StoreResult<Vec<RigaRiconciliazione>> {
    let mut tx = leggi_con(p, "SET LOCAL enable_sort = off").await?;
    let righe = q.build_query_as().fetch_all(&mut *tx).await?;
    tx.commit().await?;
    Ok(righe)
}

/// The count of a view's matches, stopped at the bound the query carries. Without bitmap
/// scans: a bitmap reads every match before the first is counted, and statistics older
/// than a bulk load (seen: 11 rows expected, a million found) would choose one.
async fn conta_fino(p: &DbPool, mut q: sqlx::QueryBuilder<Db>) -> StoreResult<i64> {
    let mut tx = leggi_con(p, "SET LOCAL enable_bitmapscan = off").await?;
    let (n,): (i64,) = q.build_query_as().fetch_one(&mut *tx).await?;
    tx.commit().await?;
    Ok(n)
}

#[cfg(test)]
mod copia_tests {
    use super::Copia;

    #[test]
    fn copy_rows_escape_text_mark_nulls_and_keep_empty_first_fields() {
        let mut c = Copia::default();
        c.testo(Some(""))
            .testo(Some("a\tb\\c\nd\re"))
            .valore(None::<i64>)
            .valore(Some(42))
            .fine();
        c.testo(None)
            .valore(Some(time::macros::date!(2026 - 11 - 02)))
            .fine();
        assert_eq!(c.0, "\ta\\tb\\\\c\\nd\\re\t\\N\t42\n\\N\t2026-11-02\n");
    }
}

#[cfg(test)]
mod piani_tests {
    use super::{lock_ente, per_chiavi};
    use crate::store::postgres::ValorePiano::{self, T, Testi};
    use crate::store::postgres::piano_di_prova;
    use sqlx::{Connection, PgConnection};

    /// Executions with a generic plan of the keyed read of table `chiavi_prova`, on this
    /// connection, after `n` more of them.
    async fn generici_dopo(c: &mut PgConnection, n: usize) -> i64 {
        for _ in 0..n {
            // A keyed read as the reclassification made them before `per_chiavi` joined
            // LATERAL (whose generic plan PostgreSQL seldom adopts): one it does adopt.
            let righe: Vec<(String,)> = sqlx::query_as(
                "SELECT iuv FROM chiavi_prova WHERE id_dominio = $1 AND iuv = ANY($2)",
            )
            .bind("E1")
            .bind(["A".to_owned()])
            .fetch_all(&mut *c)
            .await
            .unwrap();
            assert_eq!(righe, vec![("A".to_owned(),)]);
        }
        let (n,): (i64,) = sqlx::query_as(
            "SELECT COALESCE(SUM(generic_plans), 0)::bigint FROM pg_prepared_statements \
             WHERE statement LIKE 'SELECT iuv FROM chiavi_prova%'",
        )
        .fetch_one(&mut *c)
        .await
        .unwrap();
        n
    }

    /// A keyed read probes the key column's index once per key, whatever the statistics
    /// say, where an index on the ente alone competes: on a table never analysed (the
    /// forms it replaced, `= ANY` and `IN (SELECT unnest)`, read every row of the ente
    /// there, and so would this one if its subquery were flattened), and on one analysed
    /// before the ente's rows came (with the ente's value in the plan, "about one row"
    /// made the two indexes tie and the ente's whole rows were filtered for each key).
    #[tokio::test]
    async fn a_keyed_read_probes_the_index_whatever_the_statistics() {
        let mut c = crate::store::postgres::connessione_di_prova().await;
        // Temporary tables are never analysed by autovacuum: the statistics are what the
        // test makes them. The key index is created first: in a tie the later one won.
        sqlx::raw_sql(
            "CREATE TEMP TABLE chiavi_stale (id_dominio text, iuv text, altro text, extra text);
             CREATE INDEX ON chiavi_stale (id_dominio, iuv);
             CREATE INDEX ON chiavi_stale (id_dominio, altro);
             INSERT INTO chiavi_stale SELECT 'E1', 'V' || n, 'A' || n, 'x' FROM generate_series(1, 10000) n;
             SET plan_cache_mode = force_custom_plan;",
        )
        .execute(&mut c)
        .await
        .unwrap();
        let chiavi: Vec<String> = (1..=40).map(|n| format!("V{n}")).collect();
        // Never analysed, then analysed with E1 alone and E2's rows loaded after.
        for (ente, prima) in [
            ("E1", ""),
            (
                "E2",
                "ANALYZE chiavi_stale;
                 INSERT INTO chiavi_stale SELECT 'E2', 'V' || n, 'A' || n, 'x' FROM generate_series(1, 10000) n;",
            ),
        ] {
            sqlx::raw_sql(prima).execute(&mut c).await.unwrap();
            for select in [
                "SELECT iuv, extra FROM chiavi_stale",
                "SELECT DISTINCT iuv, extra FROM chiavi_stale",
            ] {
                let sql = crate::store::postgres::testo_per_chiavi(select, "iuv");
                let piano = piano_di_prova(&mut c, &sql, &[Testi(&chiavi), T(ente)]).await;
                assert!(
                    piano.contains("Nested Loop")
                        && piano.contains("chiavi_stale_id_dominio_iuv_idx")
                        && piano.contains("Index Cond: ((id_dominio = ")
                        && piano.contains(" AND (iuv = k.v))")
                        && !piano.contains("Hash")
                        && !piano.contains("Filter"),
                    "{ente}, {select}: {piano}"
                );
                let righe: Vec<(String, String)> =
                    per_chiavi(&mut c, select, ente, "iuv", &chiavi)
                        .await
                        .unwrap();
                assert_eq!(righe.len(), 40, "{ente}, {select}");
            }
        }
    }

    /// A region's tables (twenty enti, analysed) and a new ente loaded after the analysis:
    /// the statistics do not know it, which is what autovacuum leaves until the new ente's
    /// rows reach a tenth of a table (here autovacuum is off for the tables: the load is
    /// one transaction, and an analysis in the middle of the test would know the ente).
    const REGIONE: &str = "
        ALTER TABLE flusso SET (autovacuum_enabled = off);
        ALTER TABLE rendicontazione SET (autovacuum_enabled = off);
        ALTER TABLE ricevuta SET (autovacuum_enabled = off);
        ALTER TABLE tesoreria SET (autovacuum_enabled = off);
        INSERT INTO flusso (id, id_dominio, id_flusso, data_ora_flusso, raw, stato, created_at)
          SELECT f, 'E' || (f % 20), 'F' || f, '2026-11-01T00:00:00', '', 'ELABORATO', now()
            FROM generate_series(1, 2000) f;
        INSERT INTO rendicontazione (id_dominio, flusso_id, iuf, iuf_key, iuv, iur, indice, importo_cents, esito,
                                     data_esito, data_regolamento, totale_flusso_cents)
          SELECT 'E' || ((n / 50 + 1) % 20), n / 50 + 1, 'F' || (n / 50 + 1), 'F' || (n / 50 + 1), 'V' || n, 'R' || n,
                 1, 100, 0, DATE '2026-11-01', DATE '2026-11-02', 5000
            FROM generate_series(0, 99999) n;
        INSERT INTO ricevuta (id_dominio, iuv, iur, indice, iud, importo_cents, totale_cents, codice_esito, data_esito,
                              fonte, created_at, updated_at)
          SELECT 'E' || ((n / 50 + 1) % 20), 'V' || n, 'R' || n, 1, 'D' || n, 100, 100, 0, DATE '2026-11-01', 'RT',
                 now(), now()
            FROM generate_series(0, 99999) n;
        INSERT INTO tesoreria (id_dominio, anno_bolletta, codice_bolletta, data_contabile, data_valuta, importo_cents,
                               ordinante, causale, iuf, iuf_key, iuv, fonte, created_at, updated_at)
          SELECT 'E' || (n % 20), 2026, 'B' || n, DATE '2026-11-03', DATE '2026-11-03', 5000, 'PSP', 'F' || n,
                 'F' || n, 'F' || n, 'V' || n, 'GIORNALE', now(), now()
            FROM generate_series(1, 20000) n;
        ANALYZE flusso, rendicontazione, ricevuta, tesoreria;
        INSERT INTO flusso (id, id_dominio, id_flusso, data_ora_flusso, raw, stato, created_at)
          SELECT 2000 + f, 'NUOVO', 'G' || f, '2026-11-01T00:00:00', '', 'ELABORATO', now()
            FROM generate_series(1, 100) f;
        INSERT INTO rendicontazione (id_dominio, flusso_id, iuf, iuf_key, iuv, iur, indice, importo_cents, esito,
                                     data_esito, data_regolamento, totale_flusso_cents)
          SELECT 'NUOVO', 2000 + n / 50 + 1, 'G' || (n / 50 + 1), 'G' || (n / 50 + 1), 'W' || n, 'S' || n, 1, 100,
                 CASE WHEN n % 250 = 7 THEN 9 ELSE 0 END, DATE '2026-11-01', DATE '2026-11-02', 5000
            FROM generate_series(0, 4999) n;
        INSERT INTO ricevuta (id_dominio, iuv, iur, indice, iud, importo_cents, totale_cents, codice_esito, data_esito,
                              fonte, created_at, updated_at)
          SELECT 'NUOVO', 'W' || n, 'S' || n, 1, 'D' || n, 100, 100, 0, DATE '2026-11-01',
                 CASE WHEN n % 250 = 7 THEN 'SURROGATO' ELSE 'RT' END, now(), now()
            FROM generate_series(0, 4999) n;
        INSERT INTO tesoreria (id_dominio, anno_bolletta, codice_bolletta, data_contabile, data_valuta, importo_cents,
                               ordinante, causale, iuf, iuf_key, iuv, fonte, created_at, updated_at)
          SELECT 'NUOVO', 2026, 'C' || n, DATE '2026-11-03', DATE '2026-11-03', 5000, 'PSP', 'G' || n,
                 'G' || n, 'G' || n, 'W' || n, 'GIORNALE', now(), now()
            FROM generate_series(1, 2000) n;
        SET plan_cache_mode = force_custom_plan;";

    /// What is wrong with a plan of a keyed statement, if anything: a table read whole, an
    /// index probed on the ente alone, more rows read and thrown away than a key holds (a
    /// flow here holds 50 payments; the ente, 5,000), or an index it should probe missing.
    /// The partial index of the stand-ins (`ricevuta_surrogato`) is on the ente alone but
    /// holds only the stand-ins, which esito 9 makes rare: reading the ente's there is what
    /// it is for.
    fn difetto(piano: &str, indici: &[&str]) -> Option<String> {
        let mut indice = "";
        let riga = piano.lines().find(|l| {
            if let Some(i) = l.find(" using ").or_else(|| l.find(" on ")) {
                indice = &l[i..];
            }
            l.contains("Seq Scan")
                || (l.contains("Index Cond: ")
                    && !l.contains(" AND ")
                    && !indice.starts_with(" using ricevuta_surrogato "))
                || (l.contains("Rows Removed by ")
                    && l.rsplit(": ")
                        .next()
                        .is_some_and(|n| n.trim().parse::<u64>().unwrap_or(u64::MAX) > 50))
        });
        if let Some(r) = riga {
            return Some(r.to_owned());
        }
        let manca = indici.iter().find(|i| !piano.contains(&format!(" {i} ")))?;
        Some(format!("no probe of {manca}"))
    }

    /// On the real schema, a new ente's keyed reads and deletes of the flows, receipts and
    /// treasury probe their keys. With the ente's value in the plan (`$1` where `ente!`
    /// writes a run-time value) each of them read all of the ente's rows, or walked an
    /// index on the ente and a date: the flow's payments view joined every reported payment
    /// to all of the ente's receipts.
    #[tokio::test]
    async fn a_new_entes_keyed_statements_probe_their_keys() {
        let (c, schema) = crate::store::postgres::schema_di_prova().await;
        // Run apart, so that the schema goes whatever the outcome.
        let esito = tokio::spawn(sonda_le_chiavi(c)).await;
        let mut c = crate::store::postgres::connessione_di_prova().await;
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!("DROP SCHEMA {schema} CASCADE")))
            .execute(&mut c)
            .await
            .unwrap();
        if let Err(e) = esito {
            std::panic::resume_unwind(e.into_panic());
        }
    }

    async fn sonda_le_chiavi(mut c: PgConnection) {
        use crate::store::postgres::ValorePiano::N;
        use crate::store::{pagamenti::postgres as pag, riconciliazione::postgres as ric};
        const CHIAVE_RICEVUTA: &str = "ricevuta_id_dominio_iuv_iur_indice_key";
        sqlx::raw_sql(REGIONE).execute(&mut c).await.unwrap();
        // The receipts' view of the new ente searched by IUV (its first page).
        let filtro = crate::store::FiltroRicevute {
            iuv: Some("W8".into()),
            ..Default::default()
        };
        let mut ricerca =
            ric::filtro_ricevute(crate::store::postgres::SEL_RICEVUTA, "NUOVO", &filtro);
        ric::pagina_ricevute(&mut ricerca, 20, 0);
        let ricerca = ricerca.into_string();
        // The deletes last: they run (and the rows go).
        let casi: [(&str, &str, Vec<ValorePiano>, &[&str]); 7] = [
            (
                "pagamenti_flusso",
                ric::PAGAMENTI_FLUSSO,
                vec![T("NUOVO"), T("G7")],
                &["rendicontazione_iuf", CHIAVE_RICEVUTA],
            ),
            (
                "esito 9",
                ric::ESITO9_DEL_FLUSSO,
                vec![T("NUOVO"), T("G1")],
                &["rendicontazione_iuf"],
            ),
            (
                "ricevuta_nota",
                pag::RICEVUTA_NOTA,
                vec![T("NUOVO"), T("W8"), T("S8")],
                &[CHIAVE_RICEVUTA],
            ),
            (
                "ricerca per IUV",
                &ricerca,
                vec![T("NUOVO"), T("W8"), N(20), N(0)],
                &[CHIAVE_RICEVUTA],
            ),
            (
                "surrogato",
                ric::VIA_SURROGATO,
                vec![T("NUOVO"), T("W257"), T("S257"), N(1)],
                &["rendicontazione_iuv"],
            ),
            (
                "tesoreria",
                ric::VIA_TESORERIA,
                vec![T("NUOVO"), N(2026), T("C7")],
                &["tesoreria_id_dominio_anno_bolletta_codice_bolletta_key"],
            ),
            (
                "pagamenti",
                ric::VIA_PAGAMENTI_DEL_FLUSSO,
                vec![T("NUOVO"), T("G3")],
                &["rendicontazione_iuf"],
            ),
        ];
        for (nome, sql, valori, indici) in &casi {
            // First the text with the ente's value in the plan, in a transaction rolled
            // back: the scenario must be one that misleads the planner.
            let mut tx = c.begin().await.unwrap();
            let prima =
                piano_di_prova(&mut tx, &sql.replace("(SELECT $1::text)", "$1"), valori).await;
            tx.rollback().await.unwrap();
            assert!(
                difetto(&prima, indici).is_some(),
                "{nome}, the ente's value in the plan: {prima}"
            );
            let p = piano_di_prova(&mut c, sql, valori).await;
            assert_eq!(difetto(&p, indici), None, "{nome}: {p}");
            assert!(p.contains("InitPlan"), "{nome}: {p}");
        }
        let righe: Vec<(String,)> = sqlx::query_as(ric::PAGAMENTI_FLUSSO)
            .bind("NUOVO")
            .bind("G7")
            .fetch_all(&mut c)
            .await
            .unwrap();
        assert_eq!(righe.len(), 50);
        // A keyed read of the receipts (the stand-ins' check of a receipts import): the
        // rows of its keys fetched, not the ente's five thousand. The counters of the
        // transaction, read before and after (they also carry what is not yet flushed).
        let mut tx = c.begin().await.unwrap();
        const LETTI: &str = "SELECT COALESCE(idx_tup_fetch, 0) + COALESCE(seq_tup_read, 0)
            FROM pg_stat_xact_user_tables WHERE relname = 'ricevuta' AND schemaname = current_schema()";
        let (prima,): (i64,) = sqlx::query_as(LETTI).fetch_one(&mut *tx).await.unwrap();
        let gia: Vec<(String, String)> = crate::store::postgres::per_chiavi(
            &mut tx,
            "SELECT iuv, fonte FROM ricevuta",
            "NUOVO",
            "iuv",
            &["W7".to_owned(), "W8".to_owned()],
        )
        .await
        .unwrap();
        assert_eq!(
            gia,
            [
                ("W7".into(), "SURROGATO".into()),
                ("W8".into(), "RT".into())
            ]
        );
        let (dopo,): (i64,) = sqlx::query_as(LETTI).fetch_one(&mut *tx).await.unwrap();
        assert!(
            dopo - prima <= 4,
            "{} receipts read for two keys",
            dopo - prima
        );
        tx.rollback().await.unwrap();
    }

    /// A prepared keyed read adopts a generic plan after a few executions, planned for the
    /// table as it was then; inside a reclassification's transaction every execution is
    /// planned for its own keys and the table as it is.
    #[tokio::test]
    async fn a_reclassification_plans_each_keyed_read_afresh() {
        let mut c = crate::store::postgres::connessione_di_prova().await;
        // Indexed, and large enough that the index beats a scan: the plans worth keeping.
        sqlx::raw_sql(
            "CREATE TEMP TABLE chiavi_prova (id_dominio text, iuv text);
             CREATE INDEX ON chiavi_prova (id_dominio, iuv);
             INSERT INTO chiavi_prova SELECT 'E1', chr(65 + n % 26) || n FROM generate_series(0, 999) n;
             INSERT INTO chiavi_prova VALUES ('E1', 'A'), ('E2', 'A');",
        )
        .execute(&mut c)
        .await
        .unwrap();

        let mut tx = c.begin().await.unwrap();
        let fuori = generici_dopo(&mut tx, 10).await;
        tx.commit().await.unwrap();
        assert!(
            fuori > 0,
            "outside a reclassification PostgreSQL goes generic"
        );

        let mut tx = c.begin().await.unwrap();
        lock_ente(&mut tx, "E1").await.unwrap();
        assert_eq!(generici_dopo(&mut tx, 10).await, fuori);
        tx.commit().await.unwrap();

        // The setting ends with the transaction: the connection goes back to the pool as
        // it came.
        assert!(generici_dopo(&mut c, 1).await > fuori);
    }
}
