//! paaVerificaRPT throughput and latency over mutual TLS with keep-alive, against the real
//! server on SQLite and on PostgreSQL, and in the same run against a minimal mTLS server
//! answering a fixed SOAP response through the same accept loop (the transport ceiling).
//! Prints verifications/s, the ratio to the ceiling, and p50/p99 at a fixed 1,000 req/s;
//! p50/p99 of paaAttivaRPT and paaInviaRT at 200 req/s, each for its own new payment (the
//! RT issued for the RPT the activation stored), and the same for the new model's
//! paGetPaymentV2 and paSendRTV2; and the memory of the `serve` binary in
//! its own process, idle, at 1,000 verifications/s and saturated.
//!
//! `cargo bench --bench pa_verifica` (PostgreSQL from PAGOPA_TEST_PG_URL, default local).

mod common;
#[path = "common/pa.rs"]
mod pa;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use pa::{Sender, client_config, connect, gateway};
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// What one kind of envelope is: its SOAPAction and the bytes of its OK answer.
type Kind = (&'static str, &'static [u8]);

/// The kind of `body`, found once per phase (not per call: the client shares the cores).
fn kind(body: &Bytes) -> Kind {
    let has = |s: &[u8]| body.windows(s.len()).any(|w| w == s);
    // paGetPayment carries a qrCode too: told apart first.
    if has(b"paGetPaymentV2Request>") {
        ("paGetPaymentV2", b"<outcome>OK<")
    } else if has(b"paSendRTV2Request>") {
        ("paSendRTV2", b"<outcome>OK<")
    } else if has(b"qrCode><f") {
        ("paVerifyPaymentNotice", b"<outcome>OK<")
    } else if has(b"paaAttivaRPT>") {
        ("paaAttivaRPT", b"<esito>OK</es")
    } else if has(b"paaInviaRT>") {
        ("paaInviaRT", b"<esito>OK</es")
    } else {
        ("paaVerificaRPT", b"<esito>OK</es")
    }
}

async fn call(s: &mut Sender, body: &Bytes, (soap_action, ok): Kind) -> Duration {
    let t = Instant::now();
    let req = hyper::Request::post("/pagamenti-psp")
        .header("soapaction", soap_action)
        .header("host", "localhost")
        .body(Full::new(body.clone()))
        .unwrap();
    s.ready().await.unwrap();
    let resp = s.send_request(req).await.unwrap();
    assert_eq!(resp.status(), 200);
    let b = resp.into_body().collect().await.unwrap().to_bytes();
    assert!(
        b.windows(ok.len()).any(|w| w == ok),
        "{soap_action}: {}",
        String::from_utf8_lossy(&b)
    );
    t.elapsed()
}

/// `conns` keep-alive connections sending back to back for `secs`: requests per second.
async fn saturate(
    addr: SocketAddr,
    tls: Arc<rustls::ClientConfig>,
    bodies: Arc<Vec<Bytes>>,
    conns: usize,
    secs: f64,
) -> f64 {
    let deadline = Instant::now() + Duration::from_secs_f64(secs);
    let k = kind(&bodies[0]);
    let mut tasks = Vec::new();
    for c in 0..conns {
        let (tls, bodies) = (tls.clone(), bodies.clone());
        tasks.push(tokio::spawn(async move {
            let mut s = connect(addr, tls).await;
            let mut n = 0usize;
            while Instant::now() < deadline {
                call(&mut s, &bodies[(c + n) % bodies.len()], k).await;
                n += 1;
            }
            n
        }));
    }
    let start = Instant::now();
    let mut total = 0;
    for t in tasks {
        total += t.await.unwrap();
    }
    total as f64 / start.elapsed().as_secs_f64()
}

/// The database's own floor for a verification's work: `conns` tasks reading a dovuto by
/// its IUV through the gateway's own store (its pool, its prepared statement), back to back
/// for `secs`, with no TLS, HTTP, SOAP or pricing around it: reads per second. `DaSola`:
/// one statement per read, as every read was sent before PostgreSQL's reads were
/// coalesced (the issue's floor); `Accorpata`: the store's read as the gateway makes it.
async fn floor(
    store: pagopa_gateway::store::Store,
    iuvs: Arc<Vec<String>>,
    conns: usize,
    secs: f64,
    lettura: Lettura,
) -> f64 {
    let deadline = Instant::now() + Duration::from_secs_f64(secs);
    let start = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..conns {
        let (store, iuvs) = (store.clone(), iuvs.clone());
        tasks.push(tokio::spawn(async move {
            let mut n = 0usize;
            while Instant::now() < deadline {
                let iuv = &iuvs[(c + n) % iuvs.len()];
                let d = match lettura {
                    Lettura::DaSola => store.dovuti().get_by_iuv_alone(pa::ENTE, iuv).await,
                    Lettura::Accorpata => store.dovuti().get_by_iuv(pa::ENTE, iuv).await,
                }
                .unwrap();
                assert!(d.is_some());
                n += 1;
            }
            n
        }));
    }
    let mut total = 0;
    for t in tasks {
        total += t.await.unwrap();
    }
    total as f64 / start.elapsed().as_secs_f64()
}

#[derive(Clone, Copy)]
enum Lettura {
    DaSola,
    Accorpata,
}

/// Reads by IUV per statement on PostgreSQL since `prima` (the store's counts).
fn per_istruzione(
    store: &pagopa_gateway::store::Store,
    prima: Option<pagopa_gateway::store::LettureAccorpate>,
) -> f64 {
    match (prima, store.dovuti().letture_per_iuv()) {
        (Some(p), Some(d)) if d.istruzioni > p.istruzioni => {
            (d.letture - p.letture) as f64 / (d.istruzioni - p.istruzioni) as f64
        }
        _ => 1.0,
    }
}

async fn iuvs(store: &pagopa_gateway::store::Store) -> Arc<Vec<String>> {
    let (dovuti, _) = store
        .dovuti()
        .search(&Default::default(), 1000, 0)
        .await
        .unwrap();
    Arc::new(dovuti.into_iter().map(|d| d.iuv.to_string()).collect())
}

/// A fixed rate over a few connections: (p50, p99) latency in milliseconds. Each body is
/// sent at most once while there are enough of them (activations and receipts are each
/// for their own payment).
async fn at_rate(
    addr: SocketAddr,
    tls: Arc<rustls::ClientConfig>,
    bodies: Arc<Vec<Bytes>>,
    rate: u32,
    secs: u32,
) -> (f64, f64) {
    let conns = 8u32;
    let per_conn_interval = Duration::from_secs_f64(f64::from(conns) / f64::from(rate));
    let k = kind(&bodies[0]);
    let mut tasks = Vec::new();
    for c in 0..conns {
        let (tls, bodies) = (tls.clone(), bodies.clone());
        tasks.push(tokio::spawn(async move {
            let mut s = connect(addr, tls).await;
            // The connections' requests spread over the interval, as arrivals from many
            // PSPs are (not in a burst of eight every interval).
            tokio::time::sleep(per_conn_interval * c / conns).await;
            let mut tick = tokio::time::interval(per_conn_interval);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
            let mut lat = Vec::new();
            let n = rate * secs / conns;
            for i in 0..n {
                tick.tick().await;
                let b = &bodies[(c + i * conns) as usize % bodies.len()];
                lat.push(call(&mut s, b, k).await);
            }
            lat
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    p50_p99(all)
}

/// (p50, p99) of `lat`, in milliseconds.
fn p50_p99(mut lat: Vec<Duration>) -> (f64, f64) {
    lat.sort();
    let pct =
        |p: f64| lat[((lat.len() as f64 * p) as usize).min(lat.len() - 1)].as_secs_f64() * 1000.0;
    (pct(0.50), pct(0.99))
}

/// The ceiling: the same TLS accept loop and HTTP stack, answering a fixed SOAP response.
async fn ceiling(pki: &Path) -> SocketAddr {
    let fixed = Bytes::from(
        r#"<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body><ppt:paaVerificaRPTRisposta xmlns:ppt="http://ws.pagamenti.telematici.gov/"><paaVerificaRPTRisposta><esito>OK</esito></paaVerificaRPTRisposta></ppt:paaVerificaRPTRisposta></soapenv:Body></soapenv:Envelope>"#,
    );
    let router = axum::Router::new().route(
        "/pagamenti-psp",
        axum::routing::post(move || async move { fixed.clone() }),
    );
    let tls = pagopa_gateway::tls::server_config(
        &pki.join("server.pem"),
        &pki.join("server.key"),
        &pki.join("ca.pem"),
    )
    .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(pagopa_gateway::tls::serve(
        listener,
        tls,
        router,
        Arc::new(vec![]),
        pagopa_gateway::config::Config::default().pa_soap.listener(),
        std::future::pending(),
        Duration::from_secs(1),
    ));
    addr
}

/// paaAttivaRPT then (with `ricevute`) paaInviaRT at 200 req/s for `secs` each, every call
/// for its own new payment: an activation writes the RPT, the dovuto's state and the outbox
/// job; a receipt is stored raw, then applied to its RPT and dovuto. (p50, p99) of each.
async fn scritture(
    state: &pagopa_gateway::rest::AppState,
    addr: SocketAddr,
    tls: &Arc<rustls::ClientConfig>,
    secs: u32,
    ricevute: bool,
) -> ((f64, f64), Option<(f64, f64)>) {
    let attivate = pa::attivazioni(state, (200 * secs) as usize).await;
    let attiva = Arc::new(attivate.iter().map(|a| a.envelope.clone()).collect());
    let a = at_rate(addr, tls.clone(), attiva, 200, secs).await;
    if !ricevute {
        return (a, None);
    }
    let invia = Arc::new(pa::ricevute(state, &attivate).await);
    (a, Some(at_rate(addr, tls.clone(), invia, 200, secs).await))
}

/// The same for the new model: paGetPaymentV2 then paSendRTV2 at 200 req/s for `secs`
/// each, every call for its own new payment (the receipt of the position the activation
/// answered). (p50, p99) of each.
async fn scritture_nm(
    state: &pagopa_gateway::rest::AppState,
    addr: SocketAddr,
    tls: &Arc<rustls::ClientConfig>,
    secs: u32,
) -> ((f64, f64), (f64, f64)) {
    let pagamenti = pa::pagamenti_nm(state, (200 * secs) as usize).await;
    let get = Arc::new(pagamenti.iter().map(|p| p.envelope.clone()).collect());
    let g = at_rate(addr, tls.clone(), get, 200, secs).await;
    let send = Arc::new(pa::ricevute_nm(state, &pagamenti).await);
    (g, at_rate(addr, tls.clone(), send, 200, secs).await)
}

/// The database's own floor for a write at 200/s: one connection to the gateway's own
/// database, with the store's durability settings (SQLite: WAL, `synchronous = FULL`),
/// committing one row of a receipt's size (4 KiB) per tick in a table of its own, with
/// nothing else around it. (p50, p99) in ms of the INSERT and its COMMIT.
async fn commit_floor(url: &str, secs: u32) -> (f64, f64) {
    use sqlx::{ConnectOptions, Connection};
    const CREATE: &str =
        "CREATE TABLE IF NOT EXISTS bench_commit_floor (id BIGINT PRIMARY KEY, raw BYTEA NOT NULL)";
    const INSERT: &str = "INSERT INTO bench_commit_floor (id, raw) VALUES ($1, $2)";
    let raw = vec![b'x'; 4096];
    let mut tick = tokio::time::interval(Duration::from_millis(5));
    let mut lat = Vec::new();
    macro_rules! run {
        ($c:expr) => {{
            let mut c = $c;
            sqlx::query(CREATE).execute(&mut c).await.unwrap();
            for i in 0..i64::from(200 * secs) {
                tick.tick().await;
                let t = Instant::now();
                let mut tx = c.begin().await.unwrap();
                sqlx::query(INSERT)
                    .bind(i)
                    .bind(&raw)
                    .execute(&mut *tx)
                    .await
                    .unwrap();
                tx.commit().await.unwrap();
                lat.push(t.elapsed());
            }
        }};
    }
    if url.starts_with("sqlite:") {
        let o: sqlx::sqlite::SqliteConnectOptions = url.parse().unwrap();
        run!(
            o.journal_mode(sqlx::sqlite::SqliteJournalMode::Wal)
                .synchronous(sqlx::sqlite::SqliteSynchronous::Full)
                .busy_timeout(Duration::from_secs(5))
                .connect()
                .await
                .unwrap()
        );
    } else {
        run!(sqlx::PgConnection::connect(url).await.unwrap());
    }
    p50_p99(lat)
}

/// The memory of `serve` as an operator runs it (the release binary, its own process, on a
/// SQLite file this bench seeded): idle, then its peak over 1,000 verifications/s and over
/// `conns` connections sending back to back. (idle, peak at rate, peak saturated) in MiB.
async fn serve_memory(rate_secs: u32, conns: usize, secs: f64) -> (f64, f64, f64) {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("serve.db").display());
    // Seed through the library, then let go of the file before the binary opens it.
    let g = gateway(dir.path(), url.clone(), |_| {}).await;
    let bodies = Arc::new(g.bodies);
    let _ = g.stop.send(());
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_pagopa-gateway"))
        .arg("serve")
        .current_dir(dir.path())
        .env("PAGOPA_GATEWAY_ADMIN_TOKEN", "bench-admin-token-0123456789")
        .env("PAGOPA_GATEWAY_DATA_DIR", dir.path().join("data"))
        .env("PAGOPA_GATEWAY_DATABASE__URL", &url)
        .env("PAGOPA_GATEWAY_REST__LISTEN", "127.0.0.1:0")
        .env("PAGOPA_GATEWAY_PA_SOAP__LISTEN", "127.0.0.1:0")
        .env(
            "PAGOPA_GATEWAY_PA_SOAP__DEV_PKI_DIR",
            dir.path().join("certs"),
        )
        .env("PAGOPA_GATEWAY_LOG__FORMAT", "text")
        .env("RUST_LOG", "warn,pagopa_gateway::app=info")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // The PA listener's port, from the line that says the server listens (port 0 given).
    let log = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        use std::io::BufRead;
        let mut tx = Some(tx);
        for line in std::io::BufReader::new(log).lines().map_while(Result::ok) {
            let addr = line
                .split_whitespace()
                .find_map(|w| w.strip_prefix("pa_soap="))
                .and_then(|a| a.parse::<SocketAddr>().ok());
            // Read to the end all the same: a full pipe would stall the server's logging.
            if let Some(a) = addr
                && let Some(tx) = tx.take()
            {
                let _ = tx.send(a);
            }
        }
    });
    let addr = rx
        .recv_timeout(Duration::from_secs(30))
        .expect("serve did not say where it listens within 30 s");
    // Idle: started, its background jobs through their first round.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let (idle, _) = pa::memoria_mib(&child.id().to_string());
    let tls = client_config(&dir.path().join("certs"));
    at_rate(addr, tls.clone(), bodies.clone(), 1000, rate_secs).await;
    let (_, at_1000) = pa::memoria_mib(&child.id().to_string());
    saturate(addr, tls, bodies, conns, secs).await;
    let (_, saturated) = pa::memoria_mib(&child.id().to_string());
    let _ = child.kill();
    let _ = child.wait();
    (idle, at_1000, saturated)
}

fn main() {
    let measuring = std::env::args().any(|a| a == "--bench");
    let (secs, rate_secs) = if measuring { (4.0, 5) } else { (0.3, 1) };
    pagopa_gateway::tls::install_crypto_provider();
    common::log_se_chiesto();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async move {
        let dir = tempfile::tempdir().unwrap();
        let sqlite_url = format!("sqlite://{}", dir.path().join("bench.db").display());
        let g = gateway(dir.path(), sqlite_url.clone(), |_| {}).await;
        let (sqlite_addr, bodies, stop_sqlite) = (g.soap, g.bodies, g.stop);
        let sqlite_store = g.state.store.clone();
        let sqlite_state = g.state.clone();
        let sqlite_journal = g.journal.clone();
        let notices = Arc::new(g.notices);
        let pki = dir.path().join("certs");
        let tls = client_config(&pki);
        let bodies = Arc::new(bodies);
        let ceiling_addr = ceiling(&pki).await;
        let pg_dir = tempfile::tempdir().unwrap();
        let (pg_url, schema) = common::pg_schema().await;
        let g = gateway(pg_dir.path(), pg_url.clone(), |_| {}).await;
        let (pg_addr, pg_bodies, stop_pg) = (g.soap, g.bodies, g.stop);
        let pg_store = g.state.store.clone();
        let pg_state = g.state.clone();
        let pg_journal = g.journal.clone();
        let pg_notices = Arc::new(g.notices);
        let pg_tls = client_config(&pg_dir.path().join("certs"));
        let pg_bodies = Arc::new(pg_bodies);

        let conns = 16;
        // For a profiler: one phase alone, for 20 s (`PA_VERIFICA_SOLO=sqlite|notice|pg|ceiling`),
        // the PostgreSQL gateway beside its floor (`pg_floor`), or
        // activations then receipts at 200 req/s, 20 s each (`attiva`, `invia`; `nuovo` for
        // paGetPaymentV2 then paSendRTV2; `_pg` for PostgreSQL).
        if let Ok(solo) = std::env::var("PA_VERIFICA_SOLO") {
            let fase = solo.strip_suffix("_pg").unwrap_or(&solo);
            let pg = solo.ends_with("_pg");
            let (state, addr, tls_w, db, url) = if pg {
                (&pg_state, pg_addr, &pg_tls, "PostgreSQL", &pg_url)
            } else {
                (&sqlite_state, sqlite_addr, &tls, "SQLite", &sqlite_url)
            };
            match fase {
                "nuovo" | "attiva" | "invia" => {
                    if fase == "nuovo" {
                        let (g, r) = scritture_nm(state, addr, tls_w, 20).await;
                        println!("paGetPaymentV2 at 200 req/s on {db}: p50 {:.2} ms p99 {:.2} ms", g.0, g.1);
                        println!("paSendRTV2 at 200 req/s on {db}: p50 {:.2} ms p99 {:.2} ms", r.0, r.1);
                    } else {
                        let (a, r) = scritture(state, addr, tls_w, 20, fase == "invia").await;
                        println!("paaAttivaRPT at 200 req/s on {db}: p50 {:.2} ms p99 {:.2} ms", a.0, a.1);
                        if let Some(r) = r {
                            println!("paaInviaRT at 200 req/s on {db}: p50 {:.2} ms p99 {:.2} ms", r.0, r.1);
                        }
                    }
                    let f = commit_floor(url, 20).await;
                    println!("floor: one 4 KiB row committed at 200/s on {db}: p50 {:.2} ms p99 {:.2} ms", f.0, f.1);
                }
                "pg_floor" => {
                    // The PostgreSQL goal alone: the gateway and its floor side by side, 3 rounds.
                    let (mut g, mut f, mut fa) = (vec![], vec![], vec![]);
                    for _ in 0..3 {
                        let prima = pg_store.dovuti().letture_per_iuv();
                        let rps = saturate(pg_addr, pg_tls.clone(), pg_bodies.clone(), conns, 5.0).await;
                        g.push((rps, per_istruzione(&pg_store, prima)));
                        pa::journal_drained(&pg_journal).await;
                        let iuvs = iuvs(&pg_store).await;
                        f.push(floor(pg_store.clone(), iuvs.clone(), conns, 5.0, Lettura::DaSola).await);
                        let prima = pg_store.dovuti().letture_per_iuv();
                        let rps = floor(pg_store.clone(), iuvs, conns, 5.0, Lettura::Accorpata).await;
                        fa.push((rps, per_istruzione(&pg_store, prima)));
                    }
                    for (((gw, gb), fl), (fc, fb)) in g.iter().zip(&f).zip(&fa) {
                        println!("pg {gw:.0} verifications/s ({gb:.1} reads a statement), floor {fl:.0} reads/s: {:.2}; coalesced reads alone {fc:.0}/s ({fb:.1} a statement): {:.2}", gw / fl, gw / fc);
                    }
                }
                _ => {
                    let (addr, tls, b) = match solo.as_str() {
                        "ceiling" => (ceiling_addr, tls.clone(), bodies.clone()),
                        "notice" => (sqlite_addr, tls.clone(), notices.clone()),
                        "pg" => (pg_addr, pg_tls.clone(), pg_bodies.clone()),
                        "sqlite" => (sqlite_addr, tls.clone(), bodies.clone()),
                        other => panic!("PA_VERIFICA_SOLO={other}: sqlite, notice, pg, pg_floor, ceiling, attiva, invia or nuovo"),
                    };
                    let rps = saturate(addr, tls, b, conns, 20.0).await;
                    println!("{solo}: {rps:.0} req/s");
                }
            }
            // Whichever phase ran, the PostgreSQL gateway was seeded: its schema goes.
            let _ = stop_pg.send(());
            tokio::time::sleep(Duration::from_millis(500)).await;
            common::drop_schema(&schema).await;
            return;
        }
        // The ceiling swings by a quarter between runs on a shared 2-core machine: three
        // rounds, each ceiling measured right beside the gateway's phases, medians printed.
        let rounds = if measuring { 3 } else { 1 };
        // The database floors too are measured in each round, right after the gateway's
        // phases on the same database: measured once at the end, the PostgreSQL floor met a
        // journal table grown by every phase and autovacuum at work, and drifted by 10-20 %.
        let (mut c, mut s, mut p, mut sn, mut pn) = (vec![], vec![], vec![], vec![], vec![]);
        let (mut sf, mut pf, mut pfa) = (vec![], vec![], vec![]);
        let mut pg_batch = vec![];
        let (sqlite_iuvs, pg_iuvs) = (iuvs(&sqlite_store).await, iuvs(&pg_store).await);
        for _ in 0..rounds {
            c.push(saturate(ceiling_addr, tls.clone(), bodies.clone(), conns, secs).await);
            s.push(saturate(sqlite_addr, tls.clone(), bodies.clone(), conns, secs).await);
            sn.push(saturate(sqlite_addr, tls.clone(), notices.clone(), conns, secs).await);
            let prima = pg_store.dovuti().letture_per_iuv();
            p.push(saturate(pg_addr, pg_tls.clone(), pg_bodies.clone(), conns, secs).await);
            pg_batch.push(per_istruzione(&pg_store, prima));
            pn.push(saturate(pg_addr, pg_tls.clone(), pg_notices.clone(), conns, secs).await);
            pa::journal_drained(&sqlite_journal).await;
            pa::journal_drained(&pg_journal).await;
            sf.push(floor(sqlite_store.clone(), sqlite_iuvs.clone(), conns, secs, Lettura::DaSola).await);
            pf.push(floor(pg_store.clone(), pg_iuvs.clone(), conns, secs, Lettura::DaSola).await);
            pfa.push(floor(pg_store.clone(), pg_iuvs.clone(), conns, secs, Lettura::Accorpata).await);
        }
        let median = |mut v: Vec<f64>| {
            v.sort_by(f64::total_cmp);
            v[v.len() / 2]
        };
        let (ceiling_rps, sqlite_rps, pg_rps, sqlite_nm, pg_nm) =
            (median(c), median(s), median(p), median(sn), median(pn));
        let (sqlite_floor, pg_floor, pg_coalesced) = (median(sf), median(pf), median(pfa));
        let pg_batch = median(pg_batch);
        let (s50, s99) = at_rate(sqlite_addr, tls.clone(), bodies.clone(), 1000, rate_secs).await;
        let (p50, p99) = at_rate(pg_addr, pg_tls.clone(), pg_bodies, 1000, rate_secs).await;
        let (mut writes, mut writes_nm, mut commits) = (Vec::new(), Vec::new(), Vec::new());
        for (state, addr, tls, url) in [(&sqlite_state, sqlite_addr, &tls, &sqlite_url), (&pg_state, pg_addr, &pg_tls, &pg_url)] {
            let (a, r) = scritture(state, addr, tls, rate_secs, true).await;
            writes.push((a, r.expect("receipts were sent")));
            writes_nm.push(scritture_nm(state, addr, tls, rate_secs).await);
            commits.push(commit_floor(url, rate_secs).await);
        }
        let (idle, at_1000, saturated) = serve_memory(rate_secs, conns, secs).await;
        if !measuring {
            println!("(smoke run under cargo test: debug build, numbers not meaningful; measure with cargo bench)");
        }
        println!("paaVerificaRPT over mTLS, keep-alive, {conns} connections, {secs} s each, median of {rounds} rounds, client and server on this machine:");
        println!("  transport ceiling (fixed SOAP response): {ceiling_rps:>8.0} req/s");
        println!("  gateway on SQLite:                        {sqlite_rps:>8.0} verifications/s  = {:.2} of the ceiling (goal >= 0.33, >= 20000/s)", sqlite_rps / ceiling_rps);
        println!("  gateway on PostgreSQL:                    {pg_rps:>8.0} verifications/s  = {:.2} of the ceiling", pg_rps / ceiling_rps);
        println!("  database floor (the verification's read by IUV through the gateway's store, {conns} tasks, nothing around it, median of the rounds):");
        println!("    SQLite {sqlite_floor:>8.0} reads/s: the gateway does {:.2} of it", sqlite_rps / sqlite_floor);
        println!("    PostgreSQL {pg_floor:>8.0} reads/s, one statement a read: the gateway does {:.2} of it (goal >= 0.5)", pg_rps / pg_floor);
        println!("    PostgreSQL {pg_coalesced:>8.0} reads/s coalesced as the gateway reads ({pg_batch:.1} reads a statement in its phase): the gateway does {:.2} of it", pg_rps / pg_coalesced);
        println!("  paVerifyPaymentNotice (new model) on SQLite:     {sqlite_nm:>8.0}/s = {:.2} of the ceiling (goal >= 0.33)", sqlite_nm / ceiling_rps);
        println!("  paVerifyPaymentNotice (new model) on PostgreSQL: {pg_nm:>8.0}/s = {:.2} of the ceiling", pg_nm / ceiling_rps);
        println!("  at 1000 req/s: SQLite p50 {s50:.2} ms p99 {s99:.2} ms; PostgreSQL p50 {p50:.2} ms p99 {p99:.2} ms (goal p99 <= 2 ms SQLite, <= 4 ms PostgreSQL)");
        for (db, ((a50, a99), (r50, r99)), goal) in [("SQLite", writes[0], 2), ("PostgreSQL", writes[1], 4)] {
            println!("  at 200 req/s on {db}: paaAttivaRPT p50 {a50:.2} ms p99 {a99:.2} ms; paaInviaRT p50 {r50:.2} ms p99 {r99:.2} ms (goal p99 <= {goal} ms)");
        }
        for (db, ((g50, g99), (r50, r99)), (f50, f99)) in [("SQLite", writes_nm[0], commits[0]), ("PostgreSQL", writes_nm[1], commits[1])] {
            println!("  at 200 req/s on {db}, new model: paGetPaymentV2 p50 {g50:.2} ms p99 {g99:.2} ms; paSendRTV2 p50 {r50:.2} ms p99 {r99:.2} ms");
            println!("    floor: one 4 KiB row committed at 200/s on {db}, nothing else: p50 {f50:.2} ms p99 {f99:.2} ms (the disk's and the database's own)");
        }
        println!("  memory of `serve` (its own process, SQLite): idle {idle:.1} MiB (goal <= 50); peak at 1000 req/s {at_1000:.1} MiB, peak saturated ({conns} connections) {saturated:.1} MiB (goal <= 200)");
        let _ = stop_sqlite.send(());
        let _ = stop_pg.send(());
        // The PostgreSQL gateway's pool lets go of its connections first.
        tokio::time::sleep(Duration::from_millis(500)).await;
        common::drop_schema(&schema).await;
    });
}
