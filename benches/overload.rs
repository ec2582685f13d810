//! The gateway under attack and faults, on loopback, each figure printed against the same
//! run without the fault:
//!
//! - a retry storm on the PA endpoint: 600 clients sending back to back (issue 18 item 4),
//!   with the default limits and with `pa_soap.max_in_flight` low enough to shed;
//! - the REST port flooded with 1,100 idle connections while the Nodo verifies (item 1);
//! - the database stalled: a table lock held on PostgreSQL while the Nodo verifies, then
//!   released (item 3);
//! - the journal writers' capacity against the rate the PA endpoint serves (item 4);
//! - memory (item 5): ten concurrent 60 MiB posts to the portal's cart endpoint, a 60 MiB
//!   dovuti file of bad lines and its report, a 139 MiB receipts export.
//!
//! Per scenario: verifications served per second, p99 of the accepted ones, shed answers
//! per second, journal entries dropped, resident memory.
//!
//! `cargo bench --bench overload` (PostgreSQL from PAGOPA_TEST_PG_URL, default local).

mod common;
#[path = "common/pa.rs"]
mod pa;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use pa::{Gateway, Sender, client_config, connect, gateway};
use pagopa_gateway::journal::Journal;
use pagopa_gateway::store::JournalEntry;
use sqlx::Connection;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::time::timeout_at;

/// What one load run saw.
#[derive(Default)]
struct Misura {
    secs: f64,
    ok: Vec<Duration>,
    all: Vec<Duration>,
    shed: usize,
    /// Clients the server had not accepted (or answered) when the run ended.
    waiting: usize,
}

impl Misura {
    fn served(&self) -> f64 {
        self.ok.len() as f64 / self.secs
    }
    fn shed_rate(&self) -> f64 {
        self.shed as f64 / self.secs
    }
    fn p99(v: &[Duration]) -> f64 {
        let mut v = v.to_vec();
        v.sort();
        v.get(((v.len() as f64 * 0.99) as usize).min(v.len().saturating_sub(1)))
            .map_or(f64::NAN, |d| d.as_secs_f64() * 1000.0)
    }
}

enum Esito {
    Ok,
    Shed,
    Other,
}

async fn call(s: &mut Sender, body: &Bytes) -> Option<Esito> {
    let req = hyper::Request::post("/pagamenti-psp")
        .header("soapaction", "paaVerificaRPT")
        .header("host", "localhost")
        .body(Full::new(body.clone()))
        .ok()?;
    s.ready().await.ok()?;
    let resp = s.send_request(req).await.ok()?;
    let b = resp.into_body().collect().await.ok()?.to_bytes();
    let has = |n: &[u8]| b.windows(n.len()).any(|w| w == n);
    Some(if has(b"<esito>OK</esito>") {
        Esito::Ok
    } else if has(b"PAA_SYSTEM_ERROR") {
        Esito::Shed
    } else {
        Esito::Other
    })
}

/// `clients` connections, each sending back to back and retrying at once, for `secs`.
async fn load(
    addr: SocketAddr,
    tls: Arc<rustls::ClientConfig>,
    bodies: Arc<Vec<Bytes>>,
    clients: usize,
    secs: f64,
) -> Misura {
    let start = Instant::now();
    let deadline = tokio::time::Instant::now() + Duration::from_secs_f64(secs);
    let mut tasks = Vec::new();
    for c in 0..clients {
        let (tls, bodies) = (tls.clone(), bodies.clone());
        tasks.push(tokio::spawn(async move {
            let mut m = Misura::default();
            let Ok(mut s) = timeout_at(deadline, connect(addr, tls)).await else {
                m.waiting = 1;
                return m;
            };
            let mut n = c;
            loop {
                let t = Instant::now();
                match timeout_at(deadline, call(&mut s, &bodies[n % bodies.len()])).await {
                    Err(_) => {
                        m.waiting += usize::from(m.all.is_empty());
                        return m;
                    }
                    Ok(None) => return m,
                    Ok(Some(e)) => {
                        let d = t.elapsed();
                        m.all.push(d);
                        match e {
                            Esito::Ok => m.ok.push(d),
                            Esito::Shed => m.shed += 1,
                            Esito::Other => {}
                        }
                    }
                }
                n += 1;
            }
        }));
    }
    let mut total = Misura::default();
    for t in tasks {
        let m = t.await.unwrap();
        total.ok.extend(m.ok);
        total.all.extend(m.all);
        total.shed += m.shed;
        total.waiting += m.waiting;
    }
    total.secs = start.elapsed().as_secs_f64();
    total
}

/// Resident and peak resident memory of this process (client and server), MiB.
fn rss() -> (f64, f64) {
    pa::memoria_mib("self")
}

/// Journal entries dropped so far, process-wide (the metric both gateways feed).
fn dropped(g: &Gateway) -> f64 {
    g.state
        .metrics
        .render()
        .lines()
        .filter(|l| l.starts_with(pagopa_gateway::journal::DROPPED))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

fn row(name: &str, m: &Misura, drops: f64) {
    let (rss, hwm) = rss();
    println!(
        "  {name:<44} {:>8.0} {:>9.2} {:>9.0} {:>8} {:>7.0} {:>7.0}{}",
        m.served(),
        Misura::p99(&m.ok),
        m.shed_rate(),
        drops,
        rss,
        hwm,
        if m.waiting > 0 {
            format!(
                "  ({} clients never answered: not accepted or still waiting)",
                m.waiting
            )
        } else {
            String::new()
        }
    );
}

/// A GET over plain HTTP/1.1 on a fresh connection: status and how long it took.
async fn get(addr: SocketAddr, path: &str) -> (u16, Duration) {
    let t = Instant::now();
    let r = tokio::time::timeout(Duration::from_secs(30), async {
        let tcp = tokio::net::TcpStream::connect(addr).await.ok()?;
        let (mut s, conn) =
            hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(tcp))
                .await
                .ok()?;
        tokio::spawn(conn);
        let req = hyper::Request::get(path)
            .header("host", "localhost")
            .header("authorization", format!("Bearer {ADMIN}"))
            .body(Full::new(Bytes::new()))
            .ok()?;
        Some(s.send_request(req).await.ok()?.status().as_u16())
    })
    .await;
    (r.ok().flatten().unwrap_or(0), t.elapsed())
}

const ADMIN: &str = "bench-admin-token-0123456789";

/// A POST over plain HTTP/1.1 with the admin token: status and body.
async fn post(addr: SocketAddr, path: &str, ctype: &str, body: Bytes) -> (u16, Bytes) {
    let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    let (mut s, conn) = hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(tcp))
        .await
        .unwrap();
    tokio::spawn(conn);
    let req = hyper::Request::post(path)
        .header("host", "localhost")
        .header("authorization", format!("Bearer {ADMIN}"))
        .header("content-type", ctype)
        .body(Full::new(body))
        .unwrap();
    match s.send_request(req).await {
        Ok(r) => {
            let status = r.status().as_u16();
            (
                status,
                r.into_body()
                    .collect()
                    .await
                    .map(|b| b.to_bytes())
                    .unwrap_or_default(),
            )
        }
        // The server may answer 413 and close before the body is all sent.
        Err(_) => (0, Bytes::new()),
    }
}

/// Peak resident memory reset (Linux: `5` to clear_refs), so a step reports its own peak.
fn reset_peak() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

/// Runs `step`, printing the resident memory before, the step's peak, and after.
async fn memory<T>(name: &str, step: impl std::future::Future<Output = T>) -> T {
    // Let the allocator give back what earlier steps freed before measuring.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let (before, _) = rss();
    reset_peak();
    let t = Instant::now();
    let out = step.await;
    let took = t.elapsed().as_secs_f64();
    let (after, peak) = rss();
    println!("  {name:<60} {before:>7.0} {peak:>7.0} {after:>7.0} {took:>7.1}");
    out
}

/// How many journal entries per second the writers commit, recording as fast as possible.
async fn journal_capacity(g: &Gateway, n: usize) -> f64 {
    let request = g.bodies[0].clone();
    let response = Bytes::from(vec![b'r'; 900]);
    let (journal, writer) = Journal::start(g.state.store.clone());
    let t = Instant::now();
    for i in 0..n {
        journal.record(JournalEntry {
            at: time::OffsetDateTime::now_utc(),
            direction: "IN",
            operation: "paaVerificaRPT".into(),
            id_dominio: Some(pa::ENTE.into()),
            iuv: Some(format!("{i:017}")),
            ccp: Some("ccp".into()),
            id_psp: Some("ABCDITMM".into()),
            outcome: "OK".into(),
            http_status: Some(200),
            duration_us: 500,
            request: request.clone(),
            response: response.clone(),
        });
        if i % 1_000 == 999 {
            tokio::task::yield_now().await;
        }
    }
    assert!(writer.close(Duration::from_secs(600)).await);
    let (written, lost) = journal.counts();
    assert_eq!((written, lost), (n, 0), "the capacity run drops nothing");
    n as f64 / t.elapsed().as_secs_f64()
}

fn main() {
    let measuring = std::env::args().any(|a| a == "--bench");
    common::log_se_chiesto();
    // The smoke run under `cargo test` (debug build) only proves the scenarios run.
    let (secs, storm, flood, journal_n) = if measuring {
        (5.0, 600, 1_100, 50_000)
    } else {
        (0.5, 48, 64, 2_000)
    };
    pagopa_gateway::tls::install_crypto_provider();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async move {
        let dir = tempfile::tempdir().unwrap();
        let sqlite = |name: &str| format!("sqlite://{}", dir.path().join(name).display());
        // Idle REST connections are cut after 2 s here (default 10 s), to see it in the run.
        let g = gateway(&dir.path().join("a"), sqlite("a.db"), |c| {
            c.rest.header_read_timeout_ms = 2_000;
        })
        .await;
        let tls = client_config(&dir.path().join("a").join("certs"));
        let bodies = Arc::new(g.bodies.clone());
        // A second gateway that sheds: fewer requests at once than connections.
        let gs = gateway(&dir.path().join("s"), sqlite("s.db"), |c| {
            c.pa_soap.max_in_flight = 32;
            c.pa_soap.max_connections = 1_024;
        })
        .await;
        let tls_s = client_config(&dir.path().join("s").join("certs"));
        let bodies_s = Arc::new(gs.bodies.clone());

        if !measuring {
            println!("(smoke run under cargo test: debug build, small loads, numbers not meaningful; measure with cargo bench)");
        }

        // Item 5: memory, before any load (the client's buffers are part of the figures).
        let mib = |n: usize| if measuring { n << 20 } else { n << 14 };
        println!("memory (MiB; client and server in this process, the client holds what it sends):");
        println!("  {:<60} {:>7} {:>7} {:>7} {:>7}", "step", "before", "peak", "after", "s");
        let cart = Bytes::from(format!("{{\"dovuti\": [{}]}}", "{\"id_dominio\": \"80007580279\", \"iuv\": \"x\"},".repeat(mib(60) / 46)));
        let statuses = memory("10 concurrent 60 MiB posts to /portale/carrelli", async {
            let mut tasks = Vec::new();
            for _ in 0..10 {
                let (addr, cart) = (g.rest, cart.clone());
                tasks.push(tokio::spawn(async move { post(addr, "/api/v1/portale/carrelli", "application/json", cart).await.0 }));
            }
            let mut v = Vec::new();
            for t in tasks {
                v.push(t.await.unwrap());
            }
            v
        })
        .await;
        println!("    answers: {statuses:?} (413: over the portal's 64 KiB; 0: cut while sending)");
        drop(cart);
        let header = "IUD;codIuv;tipoIdentificativoUnivoco;codiceIdentificativoUnivoco;anagraficaPagatore;indirizzoPagatore;civicoPagatore;capPagatore;localitaPagatore;provinciaPagatore;nazionePagatore;mailPagatore;dataScadenzaPagamento;importoDovuto;commissioneCaricoPa;tipoDovuto;tipoVersamento;causaleVersamento;datiSpecificiRiscossione;bilancio;flagGeneraIuv;azione\n";
        let mut bad = String::from(header);
        let causale = "c".repeat(300);
        let mut n = 0;
        while bad.len() < mib(60) {
            bad.push_str(&format!("IUD{n};;F;NONVALIDO;Mario Rossi;Via Roma;1;30100;Venezia;VE;IT;m@example.org;2026-12-31;10.00;;TARI;;{causale};9/0101105IM/;;true;I\n"));
            n += 1;
        }
        let bad = Bytes::from(bad);
        let path = format!("/api/v1/enti/{}/dovuti/import", pa::ENTE);
        let job = memory(&format!("dovuti import, {} MiB, {n} bad lines", bad.len() >> 20), post(g.rest, &path, "text/csv", bad.clone())).await;
        drop(bad);
        assert_eq!(job.0, 200, "{}", String::from_utf8_lossy(&job.1));
        let job: serde_json::Value = serde_json::from_slice(&job.1).unwrap();
        assert_eq!(job["righe_scartate"], n);
        let id = job["id"].as_str().unwrap().to_owned();
        let report = memory("  its job (JSON) and its whole scarti.csv", async {
            let a = get(g.rest, &format!("/api/v1/enti/{}/imports/{id}", pa::ENTE)).await;
            let tcp = tokio::net::TcpStream::connect(g.rest).await.unwrap();
            let (mut s, conn) = hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(tcp)).await.unwrap();
            tokio::spawn(conn);
            let req = hyper::Request::get(format!("/api/v1/enti/{}/imports/{id}/scarti.csv", pa::ENTE))
                .header("host", "localhost")
                .header("authorization", format!("Bearer {ADMIN}"))
                .body(Full::new(Bytes::new()))
                .unwrap();
            let mut body = s.send_request(req).await.unwrap().into_body();
            // Counted as it streams, not collected.
            let mut bytes = 0usize;
            while let Some(f) = body.frame().await {
                bytes += f.unwrap().data_ref().map_or(0, |d| d.len());
            }
            (a.0, bytes)
        })
        .await;
        println!("    job answered HTTP {}; scarti.csv {} MiB streamed", report.0, report.1 >> 20);
        let rt = "R".repeat(4_000);
        let mut pagati = String::from("intestazione\n");
        let mut k = 0;
        while pagati.len() < mib(139) {
            let r = pagopa_gateway::dominio::ricevuta::NuovaRicevuta {
                iuv: format!("RF{k:020}"),
                iur: format!("IUR{k:010}"),
                indice: 1,
                iud: None,
                tipo_dovuto: Some("TARI".into()),
                importo_cents: 1_000,
                totale_cents: 1_000,
                codice_esito: 0,
                data_esito: time::macros::date!(2026 - 11 - 02),
                cf_pagatore: Some("RSSMRA85T10A562S".into()),
                anagrafica_pagatore: Some("Mario Rossi".into()),
                cf_versante: None,
                anagrafica_versante: None,
                attestante: Some("ABCDITMM".into()),
                denominazione_attestante: Some("PSP".into()),
                causale: Some("TARI".into()),
                bilancio: None,
                fonte: "PAGATI",
                rt_id: None,
            };
            let line = pagopa_gateway::recon::pagati::riga_csv(pa::ENTE, &r, None);
            pagati.push_str(&format!("{};;{rt};1;;;\n", line.trim_end()));
            k += 1;
        }
        let pagati = Bytes::from(pagati);
        let path = format!("/api/v1/enti/{}/ricevute", pa::ENTE);
        let imported = memory(&format!("receipts export \"con ricevuta\", {} MiB, {k} lines", pagati.len() >> 20), post(g.rest, &path, "text/csv", pagati.clone())).await;
        drop(pagati);
        let v: serde_json::Value = serde_json::from_slice(&imported.1).unwrap_or_default();
        println!("    HTTP {}: {} receipts imported, {} rejected", imported.0, v["righe_importate"], v["righe_scartate"]);
        assert_eq!(imported.0, 200);

        // Item 4: a retry storm.
        println!("paaVerificaRPT over mTLS on loopback, {secs} s per scenario, client and server in this process (RSS includes both):");
        println!("  {:<44} {:>8} {:>9} {:>9} {:>8} {:>7} {:>7}", "scenario", "served/s", "p99 ms", "shed/s", "j.drops", "RSS MiB", "peak");
        // Warm up (connections, caches, the database's pages) before the reference run.
        load(g.soap, tls.clone(), bodies.clone(), 16, secs / 2.0).await;
        let d0 = dropped(&g);
        let base = load(g.soap, tls.clone(), bodies.clone(), 16, secs).await;
        row("SQLite, 16 clients (no fault)", &base, dropped(&g) - d0);
        let d0 = dropped(&g);
        let m = load(g.soap, tls.clone(), bodies.clone(), storm, secs).await;
        row(&format!("SQLite, {storm} clients retrying at once"), &m, dropped(&g) - d0);
        println!("    = {:.2} of the rate without the fault, p99 {:.1}x", m.served() / base.served(), Misura::p99(&m.ok) / Misura::p99(&base.ok));
        let d0 = dropped(&gs);
        let m = load(gs.soap, tls_s.clone(), bodies_s.clone(), storm, secs).await;
        row("  same, max_in_flight 32: shedding", &m, dropped(&gs) - d0);
        println!("    = {:.2} of the rate without the fault, p99 {:.1}x, {:.0}% of answers shed", m.served() / base.served(), Misura::p99(&m.ok) / Misura::p99(&base.ok), 100.0 * m.shed as f64 / m.all.len().max(1) as f64);

        // Item 1: the REST port flooded with idle connections while the Nodo verifies.
        let mut idle = Vec::new();
        for _ in 0..flood {
            match tokio::net::TcpStream::connect(g.rest).await {
                Ok(s) => idle.push(s),
                Err(_) => break,
            }
        }
        let opened = Instant::now();
        let d0 = dropped(&g);
        let m = load(g.soap, tls.clone(), bodies.clone(), 16, secs).await;
        row(&format!("SQLite, 16 clients, {} idle REST conns", idle.len()), &m, dropped(&g) - d0);
        println!("    = {:.2} of the rate without the fault, p99 {:.1}x", m.served() / base.served(), Misura::p99(&m.ok) / Misura::p99(&base.ok));
        let (status, took) = get(g.rest, "/healthz").await;
        println!("    REST /healthz during the flood: HTTP {status} after {:.2} s (idle connections are cut after rest.header_read_timeout_ms = 2 s)", took.as_secs_f64());
        tokio::time::sleep(Duration::from_secs(3).saturating_sub(opened.elapsed())).await;
        let mut closed = 0;
        for s in &mut idle {
            let mut b = [0u8; 1];
            // End of stream or reset: the server closed it; still waiting: open.
            if let Ok(Ok(0) | Err(_)) = tokio::time::timeout(
                Duration::from_millis(2),
                tokio::io::AsyncReadExt::read(s, &mut b),
            )
            .await
            {
                closed += 1;
            }
        }
        println!("    idle REST connections closed by the server 3 s after opening: {closed} of {}", idle.len());
        drop(idle);

        // Item 3: PostgreSQL with a table the verification reads locked, then released.
        let (pg_url, schema) = common::pg_schema().await;
        let pg_dir = tempfile::tempdir().unwrap();
        let gp = gateway(pg_dir.path(), pg_url.clone(), |c| {
            if !measuring {
                // Keep the smoke run short: the same path with shorter waits.
                c.database.lock_timeout_ms = 300;
                c.pa_soap.deadline_ms = 500;
            }
        })
        .await;
        let tls_p = client_config(&pg_dir.path().join("certs"));
        let bodies_p = Arc::new(gp.bodies.clone());
        load(gp.soap, tls_p.clone(), bodies_p.clone(), 16, secs / 2.0).await;
        let d0 = dropped(&gp);
        let base_p = load(gp.soap, tls_p.clone(), bodies_p.clone(), 16, secs).await;
        row("PostgreSQL, 16 clients (no fault)", &base_p, dropped(&gp) - d0);
        let mut locker = sqlx::PgConnection::connect(&pg_url).await.unwrap();
        sqlx::query("BEGIN").execute(&mut locker).await.unwrap();
        sqlx::query("LOCK TABLE dovuto IN ACCESS EXCLUSIVE MODE")
            .execute(&mut locker)
            .await
            .unwrap();
        let d0 = dropped(&gp);
        let stall_secs = if measuring { 12.0 } else { secs.max(1.5) };
        let m = load(gp.soap, tls_p.clone(), bodies_p.clone(), 16, stall_secs).await;
        let (ready, ready_took) = get(gp.rest, "/readyz").await;
        row("PostgreSQL, dovuto table locked", &m, dropped(&gp) - d0);
        println!(
            "    every answer within p99 {:.0} ms ({} answers, {} PAA_SYSTEM_ERROR; the Nodo gives up at 7,000 ms); /readyz HTTP {ready} in {:.2} s",
            Misura::p99(&m.all),
            m.all.len(),
            m.shed,
            ready_took.as_secs_f64()
        );
        sqlx::query("ROLLBACK").execute(&mut locker).await.unwrap();
        let d0 = dropped(&gp);
        let m = load(gp.soap, tls_p.clone(), bodies_p.clone(), 16, secs).await;
        row("PostgreSQL, lock released (recovery)", &m, dropped(&gp) - d0);
        println!("    = {:.2} of the rate before the fault", m.served() / base_p.served());
        let (ready, _) = get(gp.rest, "/readyz").await;
        println!("    /readyz HTTP {ready}");

        // Item 4: the journal's writers against the rate served.
        let cap_s = journal_capacity(&g, journal_n).await;
        let cap_p = journal_capacity(&gp, journal_n).await;
        println!("journal writers, {journal_n} entries of ~1.6 KB recorded as fast as possible, nothing dropped:");
        println!("  SQLite:     {cap_s:>8.0} entries/s = {:.1}x the rate the PA endpoint served (goal > 1: at any sustained rate nothing is dropped)", cap_s / base.served());
        println!("  PostgreSQL: {cap_p:>8.0} entries/s = {:.1}x the rate the PA endpoint served", cap_p / base_p.served());

        for s in [g.stop, gs.stop, gp.stop] {
            let _ = s.send(());
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
        common::drop_schema(&schema).await;
    });
}
