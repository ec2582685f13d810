//! Planner statistics kept fresh by the gateway itself (PostgreSQL).
//!
//! The gateway bulk-loads: a receipts export, a month of flows, a treasury journal, a
//! rebuild write tens of thousands of rows in seconds. Until the table is analysed the
//! planner sees its size from before the load (or none, if it was never analysed), and
//! where two indexes look alike at "about one row of the ente" it may take the one that
//! reads every row of the ente. The keyed reads do not depend on that any more
//! (`per_chiavi`, docs/riconciliazione.md §3.4), but the view queries, the statistics and
//! the PA endpoint's reads still plan by the statistics. Autovacuum analyses a table once
//! its modifications pass a threshold, within a minute, when it is on and keeping up; a
//! database where it is off, or behind after a load, is normal. So the gateway applies
//! autovacuum's own rule, with the server's own settings, to the tables of its schema
//! every `database.analyze_every_seconds`.
//!
//! SQLite keeps no statistics unless `ANALYZE` is run: its planner then chooses by the
//! shape of the indexes alone (an equality on every column of an index wins), which cannot
//! go stale. Analysing it once would start the staleness this avoids, so on SQLite this does
//! nothing.

use super::{Pool, Store, StoreResult};

/// The shortest time between two analyses of a table (autovacuum's default naptime): a
/// small table that changes all the time (a queue, the outbox) passes the threshold in
/// every round, and each `ANALYZE` makes every connection plan its statements on the table
/// again. A table never analysed is due at once.
const INTERVALLO_MINIMO_S: f64 = 60.0;

/// A table of the schema, as the statistics see it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct Tabella {
    pub nome: String,
    /// `schema.table`, quoted: what `ANALYZE` is given, whatever the `search_path`.
    pub qualificato: String,
    /// Rows inserted, updated or deleted since the table was last analysed.
    pub modifiche: i64,
    /// The planner's row count, from the last `ANALYZE` or `VACUUM` (-1: never).
    pub righe_stimate: f32,
    /// Analyses so far, by anyone (manual and autovacuum's).
    pub analisi: i64,
    /// Since the last one (none: never analysed).
    pub secondi_da_ultima: Option<f64>,
    /// The server's `autovacuum_analyze_threshold` and `autovacuum_analyze_scale_factor`.
    pub soglia: f64,
    pub fattore: f64,
}

impl Tabella {
    /// Autovacuum's rule: analyse when the modifications pass the threshold plus the scale
    /// factor's share of the rows (a table never analysed counts as empty); and not again
    /// within [`INTERVALLO_MINIMO_S`] of the last analysis.
    pub fn da_analizzare(&self) -> bool {
        let righe = f64::from(self.righe_stimate.max(0.0));
        self.modifiche as f64 > self.soglia + self.fattore * righe
            && self
                .secondi_da_ultima
                .is_none_or(|s| s >= INTERVALLO_MINIMO_S)
    }
}

/// The tables of the store's schema that this role may analyse (owner, database owner,
/// superuser: another's table would only draw a warning, and stay due, every round).
const TABELLE: &str = "SELECT s.relname::text AS nome,
        format('%I.%I', s.schemaname, s.relname) AS qualificato,
        s.n_mod_since_analyze AS modifiche, c.reltuples AS righe_stimate,
        s.analyze_count + s.autoanalyze_count AS analisi,
        EXTRACT(EPOCH FROM now() - GREATEST(s.last_analyze, s.last_autoanalyze))::float8
            AS secondi_da_ultima,
        current_setting('autovacuum_analyze_threshold')::float8 AS soglia,
        current_setting('autovacuum_analyze_scale_factor')::float8 AS fattore
   FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid
  WHERE s.schemaname = current_schema()
    AND (pg_has_role(c.relowner, 'USAGE')
         OR pg_has_role((SELECT datdba FROM pg_database
                          WHERE datname = current_database()), 'USAGE'))
  ORDER BY s.relname";

impl Store {
    /// Analyses every table of the store's schema whose modifications since its last
    /// `ANALYZE` pass autovacuum's rule; returns the tables analysed. A table another
    /// session is analysing or vacuuming is skipped (`SKIP_LOCKED`), not waited for, and is
    /// not among those returned: the next round sees it analysed or still due. A table that
    /// fails (dropped meanwhile, a lock timeout) is logged and the others go on. The counts
    /// come from the server's cumulative statistics, which each session flushes within a
    /// second or so of going idle, and which every instance on the database shares.
    pub async fn analizza_tabelle(&self) -> StoreResult<Vec<String>> {
        let Pool::Postgres(p) = &self.pool else {
            return Ok(Vec::new());
        };
        let dovute: Vec<Tabella> = sqlx::query_as::<_, Tabella>(TABELLE)
            .fetch_all(p)
            .await?
            .into_iter()
            .filter(Tabella::da_analizzare)
            .collect();
        if dovute.is_empty() {
            return Ok(Vec::new());
        }
        // Those the server ran, with their time in ms.
        let mut eseguite = Vec::new();
        for t in dovute {
            let inizio = std::time::Instant::now();
            let sql = format!("ANALYZE (SKIP_LOCKED) {}", t.qualificato);
            match sqlx::raw_sql(sqlx::AssertSqlSafe(sql)).execute(p).await {
                Ok(_) => eseguite.push((t, inizio.elapsed().as_millis())),
                Err(e) => tracing::warn!(tabella = %t.nome, error = %e, "table not analysed"),
            }
        }
        if eseguite.is_empty() {
            return Ok(Vec::new());
        }
        // Skipped for a lock, ANALYZE only warns: the analyses counted tell.
        let dopo: std::collections::HashMap<String, i64> = sqlx::query_as::<_, Tabella>(TABELLE)
            .fetch_all(p)
            .await?
            .into_iter()
            .map(|t| (t.nome, t.analisi))
            .collect();
        let mut fatte = Vec::new();
        for (t, ms) in eseguite {
            if dopo.get(&t.nome).is_some_and(|n| *n > t.analisi) {
                tracing::info!(
                    tabella = %t.nome,
                    modifiche = t.modifiche,
                    righe_stimate = t.righe_stimate,
                    ms,
                    "table analysed: its statistics had gone stale"
                );
                fatte.push(t.nome);
            } else {
                tracing::debug!(tabella = %t.nome, "table not analysed: another session holds it");
            }
        }
        Ok(fatte)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(modifiche: i64, righe_stimate: f32) -> Tabella {
        Tabella {
            nome: "t".into(),
            qualificato: "\"s\".\"t\"".into(),
            modifiche,
            righe_stimate,
            analisi: 0,
            secondi_da_ultima: None,
            soglia: 50.0,
            fattore: 0.1,
        }
    }

    #[test]
    fn a_table_is_due_past_autovacuums_threshold() {
        // Never analysed: counted as empty, due past the fixed threshold alone.
        assert!(!t(50, -1.0).da_analizzare());
        assert!(t(51, -1.0).da_analizzare());
        // Analysed empty: the same.
        assert!(!t(50, 0.0).da_analizzare());
        assert!(t(51, 0.0).da_analizzare());
        // 10,000 rows: 50 + 1,000.
        assert!(!t(1_050, 10_000.0).da_analizzare());
        assert!(t(1_051, 10_000.0).da_analizzare());
        // Nothing changed: never due, however small the table.
        assert!(!t(0, 0.0).da_analizzare());
    }

    #[test]
    fn a_table_analysed_a_moment_ago_waits_a_minute() {
        let mut x = t(5_000, 100.0);
        x.secondi_da_ultima = Some(59.0);
        assert!(!x.da_analizzare());
        x.secondi_da_ultima = Some(60.0);
        assert!(x.da_analizzare());
        // Due by time, not by changes: still not.
        x.modifiche = 10;
        assert!(!x.da_analizzare());
    }

    #[test]
    fn the_servers_settings_move_the_threshold() {
        let mut x = t(600, 10_000.0);
        assert!(!x.da_analizzare());
        x.fattore = 0.05;
        assert!(x.da_analizzare());
        x.soglia = 100.0;
        assert!(!x.da_analizzare());
    }
}
