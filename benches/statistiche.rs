//! Statistics speed on a year of a large ente, ratios measured in the same run:
//! every statistics query (years, months, days; ente totals and each breakdown by the
//! CHIUSO accertamenti; a drill-down page) against the same numbers computed by a full
//! rescan of receipts, lines and accertamenti (the baseline), and the refresh of one day
//! changed against the first build of all days.
//!
//! `cargo bench --bench statistiche` (N = 2,000,000 receipts; `STAT_BENCH_N` to change;
//! PostgreSQL from PAGOPA_TEST_PG_URL, default local). Without `--bench` (as `cargo test`
//! runs it) it only checks that it works, on small numbers.

mod common;

use pagopa_gateway::recon::statistiche::{Dimensione, Granularita, Misura};
use pagopa_gateway::store::{RichiestaStatistica, Store};
use sqlx::Connection;
use std::time::{Duration, Instant};
use time::macros::date;

const ENTE: &str = "80007580279";

/// Receipts `from..=to` spread over `giorni` days from `inizio`, each with its reconciled
/// line (reported the next day; cashed two days later, except one in ten) and booked on
/// one of four CHIUSO accertamenti (5 uffici × 20 capitoli × 40 accertamenti).
fn seed_sql(pg: bool, from: i64, to: i64, inizio: &str, giorni: i64) -> Vec<String> {
    let seq = if pg {
        format!("SELECT g AS n FROM generate_series({from}, {to}) g")
    } else {
        format!(
            "WITH RECURSIVE s(n) AS (SELECT {from} UNION ALL SELECT n + 1 FROM s WHERE n < {to}) SELECT n FROM s"
        )
    };
    let (iuv, ts) = if pg {
        (
            "lpad(n::text, 17, '0')",
            "TIMESTAMPTZ '2026-11-03 10:00:00Z'",
        )
    } else {
        ("printf('%017d', n)", "'2026-11-03T10:00:00Z'")
    };
    let plus = |col: &str, k: i64| {
        if pg {
            format!("({col} + {k})")
        } else {
            format!("date({col}, '+{k} days')")
        }
    };
    let esito = if pg {
        format!("(DATE '{inizio}' + (n % {giorni})::int)")
    } else {
        format!("date('{inizio}', '+' || (n % {giorni}) || ' days')")
    };
    vec![
        format!(
            "INSERT INTO ricevuta (id_dominio, iuv, iur, indice, iud, tipo_dovuto, importo_cents, totale_cents, codice_esito, data_esito, fonte, created_at, updated_at)
             SELECT '{ENTE}', {iuv}, 'R' || n, 1, 'D' || n, 'T' || (n % 4), 100 + n % 1000, 100 + n % 1000, 0, {esito}, 'BENCH', {ts}, {ts} FROM ({seq}) q"
        ),
        format!(
            "INSERT INTO riconciliazione (id_dominio, chiave, codici, iuv, iur, indice, importo_pagato_cents, data_esito, data_regolamento, data_valuta, aggiornato_at)
             SELECT e.id_dominio, 'V:' || e.iuv, CASE WHEN e.id % 10 = 0 THEN 8 ELSE 10 END, e.iuv, e.iur, 1, e.importo_cents, e.data_esito,
                    {reg}, CASE WHEN e.id % 10 = 0 THEN NULL ELSE {val} END, {ts}
             FROM ricevuta e WHERE e.id BETWEEN {from} AND {to}",
            reg = plus("e.data_esito", 1),
            val = plus("e.data_esito", 3),
        ),
        format!(
            "INSERT INTO accertamento_pagamento (accertamento_id, ricevuta_id, anno, cod_ufficio, cod_capitolo, cod_accertamento, importo_cents, utente, created_at)
             SELECT (e.id % 4) + 1, e.id, 2026, 'U' || (e.id % 5), 'C' || (e.id % 20), 'A' || (e.id % 40), e.importo_cents, 'bench', {ts}
             FROM ricevuta e WHERE e.id BETWEEN {from} AND {to}"
        ),
        format!(
            "INSERT INTO statistica_sporca (id_dominio, giorno)
             SELECT DISTINCT id_dominio, data_esito FROM ricevuta WHERE id BETWEEN {from} AND {to}
             UNION SELECT id_dominio, data_regolamento FROM riconciliazione WHERE data_regolamento IS NOT NULL AND id BETWEEN {from} AND {to}
             UNION SELECT id_dominio, data_valuta FROM riconciliazione WHERE data_valuta IS NOT NULL AND id BETWEEN {from} AND {to}"
        ),
    ]
}

fn setup_sql(pg: bool) -> Vec<String> {
    let ts = if pg {
        "TIMESTAMPTZ '2026-11-03 10:00:00Z'"
    } else {
        "'2026-11-03T10:00:00Z'"
    };
    let mut v = vec![format!(
        "INSERT INTO ente (id_dominio, denominazione, codice_ipa, segregation_code, created_at, updated_at) VALUES ('{ENTE}', 'Bench', 'c_bench', 1, {ts}, {ts})"
    )];
    for k in 0..4 {
        v.push(format!(
            "INSERT INTO accertamento (id, id_dominio, tipo_dovuto, nome, stato, chiave_automatica, utente, created_at, updated_at)
             VALUES ({}, '{ENTE}', 'T{k}', 'bench_T{k}', 'CHIUSO', 'bench_T{k}', 'bench', {ts}, {ts})",
            k + 1
        ));
    }
    v
}

async fn run_sql(url: &str, pg: bool, qs: Vec<String>) {
    if pg {
        let mut c = sqlx::PgConnection::connect(url).await.unwrap();
        for q in qs {
            sqlx::query(sqlx::AssertSqlSafe(q))
                .execute(&mut c)
                .await
                .unwrap();
        }
        sqlx::query("ANALYZE").execute(&mut c).await.unwrap();
    } else {
        let mut c = sqlx::SqliteConnection::connect(url).await.unwrap();
        for q in qs {
            sqlx::query(sqlx::AssertSqlSafe(q))
                .execute(&mut c)
                .await
                .unwrap();
        }
        sqlx::query("ANALYZE").execute(&mut c).await.unwrap();
    }
}

/// The baseline: paid, reported and cashed per month and capitolo of 2026, by rescanning.
fn rescan_sql(pg: bool) -> String {
    let mese = |c: &str| {
        if pg {
            format!("EXTRACT(MONTH FROM {c})")
        } else {
            format!("strftime('%m', {c})")
        }
    };
    let tra = |c: &str| format!("{c} >= '2026-01-01' AND {c} <= '2026-12-31'");
    format!(
        "SELECT m, tipo, uff, cap, SUM(p), SUM(r), SUM(i) FROM (
           SELECT {me} AS m, a.tipo_dovuto AS tipo, d.cod_ufficio AS uff, d.cod_capitolo AS cap, d.importo_cents AS p, 0 AS r, 0 AS i
             FROM ricevuta e JOIN accertamento_pagamento d ON d.ricevuta_id = e.id JOIN accertamento a ON a.id = d.accertamento_id AND a.stato = 'CHIUSO'
             WHERE e.id_dominio = '{ENTE}' AND {te}
           UNION ALL
           SELECT {mr}, a.tipo_dovuto, d.cod_ufficio, d.cod_capitolo, 0, d.importo_cents, 0
             FROM riconciliazione x JOIN ricevuta e ON e.id_dominio = x.id_dominio AND e.iuv = x.iuv AND e.iur = x.iur AND e.indice = x.indice
             JOIN accertamento_pagamento d ON d.ricevuta_id = e.id JOIN accertamento a ON a.id = d.accertamento_id AND a.stato = 'CHIUSO'
             WHERE x.id_dominio = '{ENTE}' AND (x.codici & 8) <> 0 AND {tr}
           UNION ALL
           SELECT {mv}, a.tipo_dovuto, d.cod_ufficio, d.cod_capitolo, 0, 0, d.importo_cents
             FROM riconciliazione x JOIN ricevuta e ON e.id_dominio = x.id_dominio AND e.iuv = x.iuv AND e.iur = x.iur AND e.indice = x.indice
             JOIN accertamento_pagamento d ON d.ricevuta_id = e.id JOIN accertamento a ON a.id = d.accertamento_id AND a.stato = 'CHIUSO'
             WHERE x.id_dominio = '{ENTE}' AND (x.codici & 6) <> 0 AND {tv}
         ) s GROUP BY m, tipo, uff, cap",
        me = mese("e.data_esito"),
        mr = mese("x.data_regolamento"),
        mv = mese("x.data_valuta"),
        te = tra("e.data_esito"),
        tr = tra("x.data_regolamento"),
        tv = tra("x.data_valuta"),
    )
}

async fn rescan(url: &str, pg: bool) -> Duration {
    let q = rescan_sql(pg);
    if pg {
        let mut c = sqlx::PgConnection::connect(url).await.unwrap();
        let t = Instant::now();
        sqlx::query(sqlx::AssertSqlSafe(q))
            .fetch_all(&mut c)
            .await
            .unwrap();
        return t.elapsed();
    }
    let mut c = sqlx::SqliteConnection::connect(url).await.unwrap();
    let t = Instant::now();
    sqlx::query(sqlx::AssertSqlSafe(q))
        .fetch_all(&mut c)
        .await
        .unwrap();
    t.elapsed()
}

fn richieste() -> Vec<(&'static str, RichiestaStatistica)> {
    let anno = |d: Dimensione| RichiestaStatistica {
        dimensione: d,
        granularita: Granularita::Mese,
        da: Some(date!(2026 - 01 - 01)),
        a: Some(date!(2026 - 12 - 31)),
        ..Default::default()
    };
    vec![
        ("years, ente totals", RichiestaStatistica::default()),
        ("2026 by month, totals", anno(Dimensione::Totale)),
        ("2026 by month, ufficio", anno(Dimensione::Ufficio)),
        ("2026 by month, tipo dovuto", anno(Dimensione::TipoDovuto)),
        ("2026 by month, capitolo", anno(Dimensione::Capitolo)),
        (
            "2026 by month, accertamento",
            anno(Dimensione::Accertamento),
        ),
        (
            "March by day, capitolo C7",
            RichiestaStatistica {
                dimensione: Dimensione::Capitolo,
                granularita: Granularita::Giorno,
                da: Some(date!(2026 - 03 - 01)),
                a: Some(date!(2026 - 03 - 31)),
                cod_capitolo: Some("C7".into()),
                ..Default::default()
            },
        ),
    ]
}

/// p50 and worst of the runs (the first one reads cold pages), and the worst's ratio to the
/// rescan.
fn report(label: &str, v: &mut [Duration], base: Duration) {
    v.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    let worst = v[v.len() - 1];
    println!(
        "  {label:<32} p50 {:>6.1} ms, worst of {} {:>6.1} ms  ratio to rescan {:.4} (goal <= 200 ms)",
        ms(v[v.len() / 2]),
        v.len(),
        ms(worst),
        worst.as_secs_f64() / base.as_secs_f64()
    );
}

async fn backend(name: &str, store: &Store, url: &str, pg: bool, n: i64, runs: usize) {
    run_sql(url, pg, setup_sql(pg)).await;
    run_sql(url, pg, seed_sql(pg, 1, n, "2026-01-01", 365)).await;
    let t = Instant::now();
    let days = store.contabilita().stat_refresh(ENTE).await.unwrap();
    let build = t.elapsed();
    let base = rescan(url, pg).await;
    println!(
        "{name}: {n} receipts over a year; first build of {days} days' aggregates {:.0} ms",
        build.as_secs_f64() * 1e3
    );
    println!(
        "  baseline full rescan (2026 by month and capitolo): {:>7.1} ms",
        base.as_secs_f64() * 1e3
    );
    for (label, r) in richieste() {
        let mut v = Vec::new();
        for _ in 0..runs {
            let t = Instant::now();
            let cells = store.contabilita().statistiche(ENTE, &r).await.unwrap();
            v.push(t.elapsed());
            assert!(!cells.is_empty(), "{label}");
        }
        report(label, &mut v, base);
    }
    let drill = RichiestaStatistica {
        dimensione: Dimensione::Ufficio,
        granularita: Granularita::Giorno,
        da: Some(date!(2026 - 03 - 01)),
        a: Some(date!(2026 - 03 - 31)),
        cod_ufficio: Some("U1".into()),
        ..Default::default()
    };
    let mut v = Vec::new();
    for _ in 0..runs {
        let t = Instant::now();
        let (rows, total) = store
            .contabilita()
            .righe_statistica(ENTE, Misura::Incassati, &drill, 50, 0)
            .await
            .unwrap();
        v.push(t.elapsed());
        assert!(!rows.is_empty() && total > 0);
    }
    report("drill-down page (March, U1)", &mut v, base);
    // A day's new receipts: only that day (and its reporting / cashing days) is recomputed.
    let extra = (n / 365).max(10);
    run_sql(url, pg, seed_sql(pg, n + 1, n + extra, "2026-06-15", 1)).await;
    let t = Instant::now();
    let days = store.contabilita().stat_refresh(ENTE).await.unwrap();
    let inc = t.elapsed();
    println!(
        "  refresh after {extra} new receipts ({days} days): {:.1} ms  ratio to first build {:.4}",
        inc.as_secs_f64() * 1e3,
        inc.as_secs_f64() / build.as_secs_f64()
    );
}

fn main() {
    let measuring = std::env::args().any(|a| a == "--bench");
    common::log_se_chiesto();
    let n: i64 = std::env::var("STAT_BENCH_N")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(if measuring { 2_000_000 } else { 4_000 });
    let runs = if measuring { 20 } else { 2 };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async move {
        let dir = tempfile::tempdir().unwrap();
        let sqlite_url = format!("sqlite://{}", dir.path().join("stat.db").display());
        let sqlite = Store::connect(&sqlite_url, 4).await.unwrap();
        sqlite.migrate().await.unwrap();
        let (pg_url, schema) = common::pg_schema().await;
        let pg = Store::connect(&pg_url, 4).await.unwrap();
        pg.migrate().await.unwrap();
        backend("PostgreSQL", &pg, &pg_url, true, n, runs).await;
        backend("SQLite", &sqlite, &sqlite_url, false, n, runs).await;
        pg.close().await;
        common::drop_schema(&schema).await;
    });
}
