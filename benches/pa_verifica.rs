//! paaVerificaRPT throughput and latency over mutual TLS with keep-alive, against the real
//! server on SQLite and on PostgreSQL, and in the same run against a minimal mTLS server
//! answering a fixed SOAP response through the same accept loop (the transport ceiling).
//! Prints verifications/s, the ratio to the ceiling, and p50/p99 at a fixed 1,000 req/s.
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

/// The SOAPAction of a verification envelope, and the bytes of its OK answer.
fn action(body: &Bytes) -> (&'static str, &'static [u8]) {
    if body.windows(9).any(|w| w == b"qrCode><f") {
        ("paVerifyPaymentNotice", b"<outcome>OK<")
    } else {
        ("paaVerificaRPT", b"<esito>OK</es")
    }
}

async fn call(s: &mut Sender, body: &Bytes) -> Duration {
    let (soap_action, ok) = action(body);
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
        "{}",
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
    let mut tasks = Vec::new();
    for c in 0..conns {
        let (tls, bodies) = (tls.clone(), bodies.clone());
        tasks.push(tokio::spawn(async move {
            let mut s = connect(addr, tls).await;
            let mut n = 0usize;
            while Instant::now() < deadline {
                call(&mut s, &bodies[(c + n) % bodies.len()]).await;
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
/// for `secs`, with no TLS, HTTP, SOAP or pricing around it: reads per second.
async fn floor(
    store: pagopa_gateway::store::Store,
    iuvs: Arc<Vec<String>>,
    conns: usize,
    secs: f64,
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
                let d = store.dovuti().get_by_iuv(pa::ENTE, iuv).await.unwrap();
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

async fn iuvs(store: &pagopa_gateway::store::Store) -> Arc<Vec<String>> {
    let (dovuti, _) = store
        .dovuti()
        .search(&Default::default(), 1000, 0)
        .await
        .unwrap();
    Arc::new(dovuti.into_iter().map(|d| d.iuv.to_string()).collect())
}

/// A fixed rate over a few connections: (p50, p99) latency in milliseconds.
async fn at_rate(
    addr: SocketAddr,
    tls: Arc<rustls::ClientConfig>,
    bodies: Arc<Vec<Bytes>>,
    rate: u32,
    secs: u32,
) -> (f64, f64) {
    let conns = 8u32;
    let per_conn_interval = Duration::from_secs_f64(f64::from(conns) / f64::from(rate));
    let mut tasks = Vec::new();
    for c in 0..conns {
        let (tls, bodies) = (tls.clone(), bodies.clone());
        tasks.push(tokio::spawn(async move {
            let mut s = connect(addr, tls).await;
            let mut tick = tokio::time::interval(per_conn_interval);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
            let mut lat = Vec::new();
            let n = rate * secs / conns;
            for i in 0..n {
                tick.tick().await;
                lat.push(call(&mut s, &bodies[(c as usize + i as usize) % bodies.len()]).await);
            }
            lat
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    all.sort();
    let pct =
        |p: f64| all[((all.len() as f64 * p) as usize).min(all.len() - 1)].as_secs_f64() * 1000.0;
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

fn main() {
    let measuring = std::env::args().any(|a| a == "--bench");
    let (secs, rate_secs) = if measuring { (4.0, 5) } else { (0.3, 1) };
    pagopa_gateway::tls::install_crypto_provider();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async move {
        let dir = tempfile::tempdir().unwrap();
        let g = gateway(dir.path(), format!("sqlite://{}", dir.path().join("bench.db").display()), |_| {}).await;
        let (sqlite_addr, bodies, stop_sqlite) = (g.soap, g.bodies, g.stop);
        let sqlite_store = g.state.store.clone();
        let notices = Arc::new(g.notices);
        let pki = dir.path().join("certs");
        let tls = client_config(&pki);
        let bodies = Arc::new(bodies);
        let ceiling_addr = ceiling(&pki).await;
        let pg_dir = tempfile::tempdir().unwrap();
        let (pg_url, schema) = common::pg_schema().await;
        let g = gateway(pg_dir.path(), pg_url, |_| {}).await;
        let (pg_addr, pg_bodies, stop_pg) = (g.soap, g.bodies, g.stop);
        let pg_store = g.state.store.clone();
        let pg_notices = Arc::new(g.notices);
        let pg_tls = client_config(&pg_dir.path().join("certs"));
        let pg_bodies = Arc::new(pg_bodies);

        let conns = 16;
        // For a profiler: one phase alone, for 20 s (`PA_VERIFICA_SOLO=sqlite|notice|pg|ceiling`).
        if let Ok(solo) = std::env::var("PA_VERIFICA_SOLO") {
            let (addr, tls, b) = match solo.as_str() {
                "ceiling" => (ceiling_addr, tls.clone(), bodies.clone()),
                "notice" => (sqlite_addr, tls.clone(), notices.clone()),
                "pg" => (pg_addr, pg_tls.clone(), pg_bodies.clone()),
                "sqlite" => (sqlite_addr, tls.clone(), bodies.clone()),
                other => panic!("PA_VERIFICA_SOLO={other}: sqlite, notice, pg or ceiling"),
            };
            let rps = saturate(addr, tls, b, conns, 20.0).await;
            println!("{solo}: {rps:.0} req/s");
            return;
        }
        // The ceiling swings by a quarter between runs on a shared 2-core machine: three
        // rounds, each ceiling measured right beside the gateway's phases, medians printed.
        let rounds = if measuring { 3 } else { 1 };
        let (mut c, mut s, mut p, mut sn, mut pn) = (vec![], vec![], vec![], vec![], vec![]);
        for _ in 0..rounds {
            c.push(saturate(ceiling_addr, tls.clone(), bodies.clone(), conns, secs).await);
            s.push(saturate(sqlite_addr, tls.clone(), bodies.clone(), conns, secs).await);
            sn.push(saturate(sqlite_addr, tls.clone(), notices.clone(), conns, secs).await);
            p.push(saturate(pg_addr, pg_tls.clone(), pg_bodies.clone(), conns, secs).await);
            pn.push(saturate(pg_addr, pg_tls.clone(), pg_notices.clone(), conns, secs).await);
        }
        let median = |mut v: Vec<f64>| {
            v.sort_by(f64::total_cmp);
            v[v.len() / 2]
        };
        let (ceiling_rps, sqlite_rps, pg_rps, sqlite_nm, pg_nm) =
            (median(c), median(s), median(p), median(sn), median(pn));
        let (s50, s99) = at_rate(sqlite_addr, tls.clone(), bodies.clone(), 1000, rate_secs).await;
        let (p50, p99) = at_rate(pg_addr, pg_tls, pg_bodies, 1000, rate_secs).await;
        let sqlite_floor = floor(sqlite_store.clone(), iuvs(&sqlite_store).await, conns, secs).await;
        let pg_floor = floor(pg_store.clone(), iuvs(&pg_store).await, conns, secs).await;
        if !measuring {
            println!("(smoke run under cargo test: debug build, numbers not meaningful; measure with cargo bench)");
        }
        println!("paaVerificaRPT over mTLS, keep-alive, {conns} connections, {secs} s each, median of {rounds} rounds, client and server on this machine:");
        println!("  transport ceiling (fixed SOAP response): {ceiling_rps:>8.0} req/s");
        println!("  gateway on SQLite:                        {sqlite_rps:>8.0} verifications/s  = {:.2} of the ceiling (goal >= 0.33, >= 20000/s)", sqlite_rps / ceiling_rps);
        println!("  gateway on PostgreSQL:                    {pg_rps:>8.0} verifications/s  = {:.2} of the ceiling", pg_rps / ceiling_rps);
        println!("  database floor (the verification's read by IUV through the gateway's store, {conns} tasks, nothing around it):");
        println!("    SQLite {sqlite_floor:>8.0} reads/s: the gateway does {:.2} of it", sqlite_rps / sqlite_floor);
        println!("    PostgreSQL {pg_floor:>8.0} reads/s: the gateway does {:.2} of it (goal >= 0.5)", pg_rps / pg_floor);
        println!("  paVerifyPaymentNotice (new model) on SQLite:     {sqlite_nm:>8.0}/s = {:.2} of the ceiling (goal >= 0.33)", sqlite_nm / ceiling_rps);
        println!("  paVerifyPaymentNotice (new model) on PostgreSQL: {pg_nm:>8.0}/s = {:.2} of the ceiling", pg_nm / ceiling_rps);
        println!("  at 1000 req/s: SQLite p50 {s50:.2} ms p99 {s99:.2} ms; PostgreSQL p50 {p50:.2} ms p99 {p99:.2} ms (goal p99 <= 2 ms SQLite, <= 4 ms PostgreSQL)");
        let _ = stop_sqlite.send(());
        let _ = stop_pg.send(());
        // The PostgreSQL gateway's pool lets go of its connections first.
        tokio::time::sleep(Duration::from_millis(500)).await;
        common::drop_schema(&schema).await;
    });
}
