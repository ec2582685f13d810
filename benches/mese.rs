//! A region's month of reconciliation, imported file by file through the REST API as an
//! operator does, on PostgreSQL and on SQLite in the same run: two enti (one sending its
//! treasury journal as CSV, one as OPI), each with its receipts export in three parts, its
//! notifications, its PSP flows and its journal, from the generator `sim::mese`. Printed:
//! - the first import of the whole month per backend, and PostgreSQL / SQLite
//!   (goal ≤ 1.5);
//! - a full `ricalcola` of the result, and first import / ricalcola (goal ≤ 3);
//! - a re-import of every unchanged file, with stale planner statistics (autovacuum off,
//!   nothing analysed) and after `ANALYZE`, against the first import (goal ≤ 0.2).
//!
//! - the memory a 150 MiB receipts export, then a 150 MiB dovuti CSV, cost while they are
//!   imported (peak RSS over the resident size before each, on SQLite; goal < 200 MB).
//!
//! The gateway's own `ANALYZE` of stale tables (`database.analyze_every_seconds`) is off, so
//! that the statistics stay as stale as autovacuum off leaves them; `MESE_ANALYZE=<seconds>`
//! turns it on, as a deployed gateway runs.
//!
//! `cargo bench --bench mese` (20,000 payments; `MESE_BENCH_N` to change). Without
//! `--bench` (as `cargo test` runs it) it only checks that it works, on a small month.

mod common;
#[path = "common/pa.rs"]
mod pa;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use pagopa_gateway::sim::mese::{Mese, Parametri, genera};
use sqlx::Connection;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

const TOKEN: &str = "bench-admin-token-0123456789";
/// The two enti: (id_dominio, codice IPA, segregation code, OPI codice_ente).
const ENTI: [(&str, &str, u8, Option<&str>); 2] = [
    ("00000000000", "c_a", 11, None),
    ("01234567897", "c_b", 12, Some("ENTE02")),
];

struct Client {
    addr: SocketAddr,
}

impl Client {
    async fn send(
        &self,
        method: &str,
        path: &str,
        ctype: &str,
        body: Vec<u8>,
    ) -> (u16, serde_json::Value) {
        let tcp = tokio::net::TcpStream::connect(self.addr).await.unwrap();
        let (mut s, conn) =
            hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(tcp))
                .await
                .unwrap();
        tokio::spawn(conn);
        let req = hyper::Request::builder()
            .method(method)
            .uri(path)
            .header("host", "localhost")
            .header("authorization", format!("Bearer {TOKEN}"))
            .header("content-type", ctype)
            .body(Full::new(Bytes::from(body)))
            .unwrap();
        let res = s.send_request(req).await.unwrap();
        let status = res.status().as_u16();
        let bytes = res.into_body().collect().await.unwrap().to_bytes();
        (
            status,
            serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null),
        )
    }

    async fn post(&self, path: &str, body: Vec<u8>) -> serde_json::Value {
        let (s, j) = self.send("POST", path, "text/plain", body).await;
        assert_eq!(s, 200, "{path}: {j}");
        j
    }
}

/// Every file of both enti, in the order an operator imports them, each with its REST path
/// and what it is (for the breakdown).
fn files(mesi: &[(&str, Mese)]) -> Vec<(&'static str, String, Vec<u8>)> {
    let mut out = Vec::new();
    for (ente, m) in mesi {
        out.push((
            "notifiche",
            format!("/api/v1/enti/{ente}/notifiche"),
            m.notifiche.clone().into_bytes(),
        ));
        for f in &m.flussi {
            out.push(("flussi", format!("/api/v1/enti/{ente}/flussi"), f.clone()));
        }
        for t in &m.tesoreria {
            out.push((
                "tesoreria",
                format!(
                    "/api/v1/enti/{ente}/tesoreria?formato={}",
                    m.formato_tesoreria
                ),
                t.clone(),
            ));
        }
        // The receipts come last, after the flows: the case an operator meets when the
        // MyPay export is late.
        for r in &m.ricevute {
            out.push((
                "ricevute",
                format!("/api/v1/enti/{ente}/ricevute"),
                r.clone().into_bytes(),
            ));
        }
    }
    out
}

/// Imports every file; the time per kind and in all. `unchanged` asserts that nothing was
/// imported (a re-import).
async fn importa(
    c: &Client,
    files: &[(&'static str, String, Vec<u8>)],
    unchanged: bool,
) -> (Duration, BTreeMap<&'static str, Duration>) {
    let mut per: BTreeMap<&str, Duration> = BTreeMap::new();
    let all = Instant::now();
    for (kind, path, body) in files {
        let t = Instant::now();
        let j = c.post(path, body.clone()).await;
        *per.entry(kind).or_default() += t.elapsed();
        if unchanged {
            let nuove = ["importate", "righe_importate", "pagamenti_nuovi"]
                .iter()
                .filter_map(|k| j[*k].as_u64())
                .sum::<u64>();
            let stato = j["esito"].as_str().or(j["stato"].as_str()).unwrap_or("");
            assert!(
                nuove == 0 || stato == "GIA_ACQUISITO",
                "{kind} {path}: a re-import imported something: {j}"
            );
        }
    }
    (all.elapsed(), per)
}

/// Stale statistics on purpose: PostgreSQL's autovacuum off on every table of the schema.
async fn autovacuum_off(pg_url: &str) {
    let mut c = sqlx::PgConnection::connect(pg_url).await.unwrap();
    let tables: Vec<(String,)> =
        sqlx::query_as("SELECT tablename::text FROM pg_tables WHERE schemaname = current_schema()")
            .fetch_all(&mut c)
            .await
            .unwrap();
    for (t,) in tables {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "ALTER TABLE {t} SET (autovacuum_enabled = false)"
        )))
        .execute(&mut c)
        .await
        .unwrap();
    }
}

async fn analyze(url: &str) {
    if url.starts_with("postgres") {
        let mut c = sqlx::PgConnection::connect(url).await.unwrap();
        sqlx::query("ANALYZE").execute(&mut c).await.unwrap();
    } else {
        let mut c = sqlx::SqliteConnection::connect(url).await.unwrap();
        sqlx::query("ANALYZE").execute(&mut c).await.unwrap();
    }
}

struct Esito {
    /// As many imports of a header-only notifications file as the month has files: HTTP,
    /// authentication and one durable import transaction each, nothing else.
    floor: Duration,
    import: Duration,
    per: BTreeMap<&'static str, Duration>,
    ricalcola: Duration,
    /// Re-imports, in all and per kind.
    stale: (Duration, BTreeMap<&'static str, Duration>),
    fresh: (Duration, BTreeMap<&'static str, Duration>),
}

async fn backend(
    name: &str,
    dir: &std::path::Path,
    url: String,
    files: &[(&'static str, String, Vec<u8>)],
) -> Esito {
    let g = pa::gateway(dir, url.clone(), |c| {
        c.rest.upload_limit_bytes = 512 * 1024 * 1024;
        c.database.analyze_every_seconds = analyze_every();
    })
    .await;
    let c = Client { addr: g.rest };
    if url.starts_with("postgres") {
        autovacuum_off(&url).await;
    }
    for (id, ipa, seg, _) in ENTI {
        let e = serde_json::json!({
            "id_dominio": id, "denominazione": format!("Comune {ipa}"), "codice_ipa": ipa,
            "segregation_code": seg, "ibans": ["IT60X0542811101000000123456"],
            "flg_tesoreria": true, "flg_pagati": true,
        });
        let (s, j) = c
            .send(
                "POST",
                "/api/v1/enti",
                "application/json",
                e.to_string().into_bytes(),
            )
            .await;
        assert_eq!(s, 201, "{j}");
    }
    let vuoto = format!(
        "{}\n",
        pagopa_gateway::sim::mese::genera(&Parametri {
            ente: ENTI[0].0.into(),
            codice_ente_opi: None,
            segregazione: 1,
            pagamenti: 0,
            flussi_al_giorno: 1,
            inizio: time::macros::date!(2026 - 11 - 01)
        })
        .notifiche
        .lines()
        .next()
        .unwrap_or_default()
    );
    let t = Instant::now();
    for _ in 0..files.len() {
        c.post(
            &format!("/api/v1/enti/{}/notifiche", ENTI[0].0),
            vuoto.clone().into_bytes(),
        )
        .await;
    }
    let floor = t.elapsed();
    let (import, per) = importa(&c, files, false).await;
    let t = Instant::now();
    let mut righe = 0;
    for (id, ..) in ENTI {
        righe += c
            .post(
                &format!("/api/v1/enti/{id}/riconciliazione/ricalcola"),
                Vec::new(),
            )
            .await["righe"]
            .as_u64()
            .unwrap();
    }
    let ricalcola = t.elapsed();
    let (stale, per_stale) = importa(&c, files, true).await;
    analyze(&url).await;
    let (fresh, per_fresh) = importa(&c, files, true).await;
    println!(
        "{name}: {} files, {righe} reconciliation lines",
        files.len()
    );
    let _ = g.stop.send(());
    Esito {
        floor,
        import,
        per,
        ricalcola,
        stale: (stale, per_stale),
        fresh: (fresh, per_fresh),
    }
}

/// The process's resident and peak resident size (kB), from /proc.
fn rss_kb() -> (u64, u64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let get = |k: &str| {
        status
            .lines()
            .find(|l| l.starts_with(k))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    (get("VmRSS:"), get("VmHWM:"))
}

/// Imports a receipts export (or with `dovuti` a dovuti CSV, tracciato 1.3) of about `mib`
/// MiB into a fresh SQLite gateway: (lines, MB the import added to the peak resident size).
async fn memoria(dir: &std::path::Path, mib: usize, dovuti: bool) -> (usize, f64) {
    let (id, ipa, seg, _) = ENTI[0];
    let url = format!("sqlite://{}", dir.join("memoria.db").display());
    let g = pa::gateway(dir, url, |c| c.rest.upload_limit_bytes = 512 * 1024 * 1024).await;
    let c = Client { addr: g.rest };
    let e = serde_json::json!({
        "id_dominio": id, "denominazione": format!("Comune {ipa}"), "codice_ipa": ipa,
        "segregation_code": seg, "ibans": ["IT60X0542811101000000123456"],
        "flg_tesoreria": true, "flg_pagati": true,
    });
    c.send(
        "POST",
        "/api/v1/enti",
        "application/json",
        e.to_string().into_bytes(),
    )
    .await;
    let tipo = serde_json::json!({"codice": "TARI", "descrizione": "Tassa rifiuti",
        "iban": "IT60X0542811101000000123456", "dati_specifici_riscossione": "9/0101105IM/",
        "politica_scadenza": "RIFIUTA"});
    c.send(
        "POST",
        &format!("/api/v1/enti/{id}/tipi-dovuto"),
        "application/json",
        tipo.to_string().into_bytes(),
    )
    .await;
    let mut csv = String::new();
    let mut n = 0u64;
    let path = if dovuti {
        csv.push_str("IUD;codIuv;tipoIdentificativoUnivoco;codiceIdentificativoUnivoco;anagraficaPagatore;indirizzoPagatore;civicoPagatore;capPagatore;localitaPagatore;provinciaPagatore;nazionePagatore;mailPagatore;dataScadenzaPagamento;importoDovuto;commissioneCaricoPa;tipoDovuto;tipoVersamento;causaleVersamento;datiSpecificiRiscossione;bilancio;flagGeneraIuv;azione\n");
        while csv.len() < mib << 20 {
            n += 1;
            csv.push_str(&format!(
                "IUD-D{n:010};;F;RSSMRA85T10A562S;Mario Rossi;Via Roma;{};30100;Venezia;VE;IT;mario.rossi@example.org;2026-12-31;{}.{:02};;TARI;;\"TARI 2026; rata {n}\";9/0101105IM/;;true;I\n",
                n % 200,
                10 + n % 500,
                n % 100
            ));
        }
        format!("/api/v1/enti/{id}/dovuti/import")
    } else {
        csv.push_str("intestazione\n");
        while csv.len() < mib << 20 {
            n += 1;
            let iuv = pagopa_gateway::model::Iuv::aux3(
                pagopa_gateway::model::SegregationCode::new(seg).unwrap(),
                n,
            )
            .unwrap();
            let r = pagopa_gateway::sim::mese::ricevuta(
                iuv.as_str(),
                &format!("IUR{n:012}"),
                1_000 + (n % 5_000) as i64,
                time::macros::date!(2026 - 11 - 02),
                Some(format!("IUD{n:012}")),
            );
            csv.push_str(&pagopa_gateway::recon::pagati::riga_csv(id, &r, None));
        }
        format!("/api/v1/enti/{id}/ricevute")
    };
    let body = csv.into_bytes();
    let (prima, _) = rss_kb();
    // Resets the peak to the current size (Linux: "5" to clear_refs).
    let _ = std::fs::write("/proc/self/clear_refs", "5");
    let j = c.post(&path, body).await;
    let (_, picco) = rss_kb();
    assert_eq!(j["righe_importate"].as_u64(), Some(n), "{j}");
    let _ = g.stop.send(());
    (n as usize, picco.saturating_sub(prima) as f64 / 1024.0)
}

/// `MESE_ANALYZE`: the gateway's own `ANALYZE` every so many seconds (default 0: off).
fn analyze_every() -> u64 {
    std::env::var("MESE_ANALYZE")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn main() {
    let measuring = std::env::args().any(|a| a == "--bench");
    common::log_se_chiesto();
    let n: usize = std::env::var("MESE_BENCH_N")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(if measuring { 20_000 } else { 600 });
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    if let Ok(file) = std::env::var("MESE_BENCH_MEMORIA") {
        rt.block_on(async move {
            let dir = tempfile::tempdir().unwrap();
            let mib = if measuring { 150 } else { 2 };
            let dovuti = file == "dovuti";
            let (righe, mb) = memoria(dir.path(), mib, dovuti).await;
            let what = if dovuti { "dovuti CSV" } else { "receipts export" };
            println!("a {mib} MiB {what} ({righe} lines) imported on SQLite: peak resident size +{mb:.0} MB (goal < 200 MB)");
        });
        return;
    }
    rt.block_on(async move {
        let inizio = time::macros::date!(2026 - 11 - 01);
        let mesi: Vec<(&str, Mese)> = ENTI
            .iter()
            .map(|(id, _, seg, opi)| {
                (
                    *id,
                    genera(&Parametri {
                        ente: (*id).into(),
                        codice_ente_opi: opi.map(Into::into),
                        segregazione: *seg,
                        pagamenti: n / ENTI.len(),
                        flussi_al_giorno: if measuring { 8 } else { 2 },
                        inizio,
                    }),
                )
            })
            .collect();
        let files = files(&mesi);
        let bytes: usize = files.iter().map(|f| f.2.len()).sum();
        let ricevute: usize = mesi.iter().map(|m| m.1.righe_ricevute).sum();
        println!(
            "a month of {n} payments, {ricevute} receipts, two enti: {} files, {:.1} MiB; the gateway's own ANALYZE {}",
            files.len(),
            bytes as f64 / 1048576.0,
            match analyze_every() {
                0 => "off".to_owned(),
                s => format!("every {s} s"),
            }
        );
        let dir = tempfile::tempdir().unwrap();
        let (pg_url, schema) = common::pg_schema().await;
        let pg = backend("PostgreSQL", &dir.path().join("pg"), pg_url, &files).await;
        common::drop_schema(&schema).await;
        let sqlite_url = format!("sqlite://{}", dir.path().join("mese.db").display());
        let sqlite = backend("SQLite", &dir.path().join("sqlite"), sqlite_url, &files).await;
        let parti = |per: &BTreeMap<&str, Duration>| {
            per.iter()
                .map(|(k, d)| format!("{k} {:.0} ms", ms(*d)))
                .collect::<Vec<_>>()
                .join(", ")
        };
        for (name, e) in [("PostgreSQL", &pg), ("SQLite", &sqlite)] {
            println!(
                "{name:<10} floor: {} empty imports {:>8.0} ms",
                files.len(),
                ms(e.floor)
            );
            println!(
                "{name:<10} first import {:>8.0} ms ({}) = {:.1}x the floor",
                ms(e.import),
                parti(&e.per),
                e.import.as_secs_f64() / e.floor.as_secs_f64()
            );
            println!(
                "{name:<10} ricalcola   {:>8.0} ms   import / ricalcola {:.2} (goal <= 3)",
                ms(e.ricalcola),
                e.import.as_secs_f64() / e.ricalcola.as_secs_f64()
            );
            println!(
                "{name:<10} re-import, stale statistics {:>8.0} ms  ratio {:.3} (goal <= 0.2) ({})",
                ms(e.stale.0),
                e.stale.0.as_secs_f64() / e.import.as_secs_f64(),
                parti(&e.stale.1)
            );
            println!(
                "{name:<10} re-import, after ANALYZE    {:>8.0} ms  ratio {:.3} (goal <= 0.2) ({})",
                ms(e.fresh.0),
                e.fresh.0.as_secs_f64() / e.import.as_secs_f64(),
                parti(&e.fresh.1)
            );
        }
        println!(
            "first import PostgreSQL / SQLite: {:.2} (goal <= 1.5)",
            pg.import.as_secs_f64() / sqlite.import.as_secs_f64()
        );
        // Each in a process of its own: freed memory a process keeps would hide the
        // import's.
        for file in ["ricevute", "dovuti"] {
            let out = std::process::Command::new(std::env::current_exe().unwrap())
                .args(std::env::args().skip(1))
                .env("MESE_BENCH_MEMORIA", file)
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            print!("{}", String::from_utf8_lossy(&out.stdout));
        }
    });
}
