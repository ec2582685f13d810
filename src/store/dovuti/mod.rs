//! The dovuti repository: positions, their state history and the MyPay CSV import.

use super::*;
use crate::registry::DovutoValido;

pub(super) mod postgres_read;
pub(super) mod sqlite_read;

pub(in crate::store) mod sqlite {
    use super::*;
    use crate::store::importazioni::sqlite as import_q;
    use crate::store::sqlite::*;
    include!("queries.rs");
}

pub(in crate::store) mod postgres {
    use super::*;
    use crate::store::importazioni::postgres as import_q;
    use crate::store::postgres::*;
    include!("queries.rs");
}

/// PostgreSQL's coalesced reads by IUV, counted since the store was opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LettureAccorpate {
    /// Reads a statement answered.
    pub letture: u64,
    /// Statements that answered them.
    pub istruzioni: u64,
    /// Reads a batch could not answer, each then sent alone.
    pub da_sole: u64,
}

/// Dovuti repository: see the module.
pub struct Dovuti<'s>(pub(super) &'s Store);

impl Dovuti<'_> {
    pub async fn insert(&self, ente: &Ente, d: &DovutoValido, motivo: &str) -> StoreResult<Dovuto> {
        dispatch!(self.0, |q, p| q::insert_dovuto(p, ente, d, motivo, now())
            .await)
    }
    pub async fn update(
        &self,
        old: &Dovuto,
        d: &DovutoValido,
        motivo: &str,
    ) -> StoreResult<Dovuto> {
        dispatch!(self.0, |q, p| q::update_dovuto(p, old, d, motivo, now())
            .await)
    }
    pub async fn change_stato(
        &self,
        d: &Dovuto,
        to: StatoDovuto,
        motivo: &str,
    ) -> StoreResult<Dovuto> {
        dispatch!(self.0, |q, p| q::change_stato(p, d, to, motivo, now())
            .await)
    }
    pub async fn get(&self, ente: &str, iud: &str) -> StoreResult<Dovuto> {
        dispatch!(self.0, |q, p| q::get_dovuto(p, ente, iud).await)
    }
    /// The ente's dovuti among `iuds`, in one statement (those that exist, in no order).
    pub async fn per_iud(&self, ente: &str, iuds: &[String]) -> StoreResult<Vec<Dovuto>> {
        dispatch!(self.0, |q, p| q::dovuti_per_iud(p, ente, iuds).await)
    }
    /// The dovuti of every ente that carry `iuv` (a multi-beneficiary position's shares),
    /// at most `limit`, newest first: one indexed read, for paGetPayment's hot path.
    pub async fn con_iuv(&self, iuv: &str, limit: i64) -> StoreResult<Vec<Dovuto>> {
        dispatch!(self.0, |q, p| q::dovuti_con_iuv(p, iuv, limit).await)
    }
    /// The dovuto of `ente` with `iuv` (the PA calls', the portal's and the console's
    /// read): on PostgreSQL in a statement shared with the reads that arrive meanwhile
    /// (`postgres_read`).
    pub async fn get_by_iuv(&self, ente: &str, iuv: &str) -> StoreResult<Option<Dovuto>> {
        if let Some(a) = &self.0.accorpate
            && let Some(r) = a.leggi(ente, iuv).await
        {
            return r;
        }
        self.get_by_iuv_alone(ente, iuv).await
    }
    /// The same read in a statement of its own, never coalesced (the benchmark's floor).
    pub async fn get_by_iuv_alone(&self, ente: &str, iuv: &str) -> StoreResult<Option<Dovuto>> {
        if let Some(r) = &self.0.reader {
            match r.dovuto_by_iuv(ente, iuv) {
                Ok(found) => return found,
                Err(why) => tracing::debug!(?why, "SQLite fast read fell back to sqlx"),
            }
        }
        dispatch!(self.0, |q, p| q::get_dovuto_by_iuv(p, ente, iuv).await)
    }
    /// PostgreSQL: how the reads by IUV were coalesced since the start; `None` on SQLite,
    /// which reads each on the calling thread.
    pub fn letture_per_iuv(&self) -> Option<LettureAccorpate> {
        self.0.accorpate.as_ref().map(|a| a.conti())
    }
    pub async fn storia(&self, id: i64) -> StoreResult<Vec<StoricoStato>> {
        dispatch!(self.0, |q, p| q::storia_dovuto(p, id).await)
    }
    pub async fn search(
        &self,
        f: &DovutiFilter,
        limit: i64,
        offset: i64,
    ) -> StoreResult<(Vec<Dovuto>, i64)> {
        dispatch!(self.0, |q, p| q::search_dovuti(p, f, limit, offset).await)
    }
    /// Applies a dovuti CSV read in parts (see [`PezzoDovuti`]) in one transaction.
    pub async fn apply_import(
        &self,
        ente: &Ente,
        tipi: &[TipoDovuto],
        pezzi: &mut tokio::sync::mpsc::Receiver<PezzoDovuti>,
        file_name: Option<&str>,
        sha256: &str,
    ) -> StoreResult<ImportJob> {
        let id = uuid::Uuid::new_v4().to_string();
        dispatch!(self.0, |q, p| q::apply_dovuti_import(
            p,
            ente,
            tipi,
            pezzi,
            (&id, file_name, sha256),
            now()
        )
        .await)
    }
}

#[cfg(test)]
mod piani_tests {
    /// The PA endpoint's read by IUV probes an index on the IUV for a new ente, one the
    /// statistics do not know (analysed with twenty enti, then 5,000 dovuti of a new one):
    /// with the ente's value in the plan it read them all through `(id_dominio, stato)`
    /// and filtered them, per verification.
    #[tokio::test]
    async fn the_read_by_iuv_of_an_ente_the_statistics_do_not_know_probes_the_iuv() {
        let mut c = crate::store::postgres::connessione_di_prova().await;
        // A temporary table with the real one's indexes (migrations 0001 and 0021), in the
        // order they are created there.
        sqlx::raw_sql(
            "CREATE TEMP TABLE dovuto (id bigserial PRIMARY KEY, id_dominio text, iud text, iuv text,
                 numero_avviso text, stato text, codice_fiscale text, causale text,
                 UNIQUE (id_dominio, iud), UNIQUE (id_dominio, iuv));
             CREATE UNIQUE INDEX ON dovuto (id_dominio, numero_avviso);
             CREATE INDEX ON dovuto (codice_fiscale);
             CREATE INDEX ON dovuto (id_dominio, stato);
             CREATE INDEX ON dovuto (iuv);
             INSERT INTO dovuto (id_dominio, iud, iuv, numero_avviso, stato, codice_fiscale, causale)
               SELECT 'E' || (n % 20), 'D' || n, 'V' || n, 'N' || n, 'ATTIVO', 'CF' || (n % 1000), 'x'
                 FROM generate_series(1, 100000) n;
             ANALYZE dovuto;
             INSERT INTO dovuto (id_dominio, iud, iuv, numero_avviso, stato, codice_fiscale, causale)
               SELECT 'NUOVO', 'D' || n, 'W' || n, 'N' || n, 'ATTIVO', 'CF' || (n % 1000), 'x'
                 FROM generate_series(1, 5000) n;
             SET plan_cache_mode = force_custom_plan;",
        )
        .execute(&mut c)
        .await
        .unwrap();
        let sql = super::postgres::DOVUTO_PER_IUV;
        use crate::store::postgres::ValorePiano::T;
        let piano =
            crate::store::postgres::piano_di_prova(&mut c, sql, &[T("NUOVO"), T("W77")]).await;
        // Through the IUV's index or the key's (both read one row), never the ente's.
        assert!(
            piano.contains("Index Cond: ")
                && piano.contains("iuv = ")
                && !piano.contains("stato")
                && !piano.contains("Rows Removed by Filter"),
            "{piano}"
        );
        let (id,): (i64,) = sqlx::query_as(sqlx::AssertSqlSafe(sql.replace('*', "id")))
            .bind("NUOVO")
            .bind("W77")
            .fetch_one(&mut c)
            .await
            .unwrap();
        assert_eq!(id, 100_077);
        // The coalesced read: one probe per (ente, IUV), for a known ente and the new one
        // alike, in a custom plan and in the generic one a prepared statement settles on
        // (EXPLAIN with bound values plans them in; EXECUTE of a PREPAREd statement under
        // force_generic_plan does not).
        let testi = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let (enti, iuvs) = (
            testi(&["NUOVO", "NUOVO", "E3"]),
            testi(&["W77", "W78", "V3"]),
        );
        let sql = super::postgres_read::PER_COPPIE;
        use crate::store::postgres::ValorePiano::Testi;
        let custom =
            crate::store::postgres::piano_di_prova(&mut c, sql, &[Testi(&enti), Testi(&iuvs)])
                .await;
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
            "PREPARE coppie (text[], text[]) AS {sql}; SET plan_cache_mode = force_generic_plan"
        )))
        .execute(&mut c)
        .await
        .unwrap();
        let generic: Vec<(String,)> = sqlx::query_as(
            "EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) \
             EXECUTE coppie ('{NUOVO,NUOVO,E3}', '{W77,W78,V3}')",
        )
        .fetch_all(&mut c)
        .await
        .unwrap();
        let generic: String = generic.into_iter().map(|r| r.0 + "\n").collect();
        let (generici,): (i64,) = sqlx::query_as(
            "SELECT generic_plans FROM pg_prepared_statements WHERE name = 'coppie'",
        )
        .fetch_one(&mut c)
        .await
        .unwrap();
        assert_eq!(generici, 1, "{generic}");
        for piano in [custom, generic] {
            assert!(
                piano.contains("Index Cond: ")
                    && piano.contains("iuv = ")
                    && !piano.contains("stato")
                    && !piano.contains("Seq Scan on dovuto")
                    && !piano.contains("Rows Removed by"),
                "{piano}"
            );
        }
        let mut ids: Vec<(i64,)> = sqlx::query_as(sqlx::AssertSqlSafe(sql.replace("t.*", "t.id")))
            .bind(&enti)
            .bind(&iuvs)
            .fetch_all(&mut c)
            .await
            .unwrap();
        ids.sort_unstable();
        assert_eq!(ids, [(3,), (100_077,), (100_078,)]);
    }
}
