//! Reporting flows from FdR REST (organizations API v1) against a fake FdR on a real port:
//! every published revision not yet stored is read with its payments page by page and
//! kept exactly as a SOAP flow would be (same states, same anomalies); a new revision is a
//! new row; the subscription key goes with every call, on the API's own paths.

use crate::fakes::*;
use crate::helpers::*;
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use pagopa_gateway::fdr_client::modello::{
    Flusso, FlussoPubblicato, Metadata, Pagamento, Pagina, da_flusso,
};
use pagopa_gateway::model::flusso::FlussoRiversamento;
use std::sync::{Arc, Mutex};

const A: &str = "80007580279";
const KEY: &str = "test-fdr-key";

/// (fdr, revision, published, flow and payments); a flow without body answers 404.
type Pubblicato = (String, i64, String, Option<(Flusso, Vec<Pagamento>)>);

#[derive(Clone, Default)]
struct FakeFdr {
    flussi: Arc<Mutex<Vec<Pubblicato>>>,
    /// Every request: path?query, and whether it carried the subscription key.
    richieste: Arc<Mutex<Vec<(String, bool)>>>,
}

#[derive(serde::Deserialize)]
struct Paging {
    page: Option<usize>,
    size: Option<usize>,
}

fn pagina<T: Clone + serde::Serialize>(items: &[T], p: &Paging) -> Response {
    let (page, size) = (p.page.unwrap_or(1), p.size.unwrap_or(1000));
    let data: Vec<T> = items
        .iter()
        .skip((page - 1) * size)
        .take(size)
        .cloned()
        .collect();
    Json(Pagina {
        metadata: Metadata {
            page_size: Some(size as i64),
            page_number: Some(page as i64),
            tot_page: Some(items.len().div_ceil(size).max(1) as i64),
        },
        count: Some(data.len() as i64),
        data,
    })
    .into_response()
}

impl FakeFdr {
    fn record(&self, h: &HeaderMap, uri: &axum::http::Uri) {
        let key = h.get("ocp-apim-subscription-key").is_some_and(|v| v == KEY);
        self.richieste.lock().unwrap().push((uri.to_string(), key));
    }

    fn publish(&self, fdr: &str, revision: i64, published: &str, xml: Option<Vec<u8>>) {
        let body = xml.map(|x| {
            let (f, _) = FlussoRiversamento::leggi(&x).unwrap();
            da_flusso(&f, revision, published)
        });
        self.flussi
            .lock()
            .unwrap()
            .push((fdr.into(), revision, published.into(), body));
    }

    async fn serve(self) -> String {
        async fn elenco(
            State(f): State<FakeFdr>,
            Path(org): Path<String>,
            Query(p): Query<Paging>,
            h: HeaderMap,
            uri: axum::http::Uri,
        ) -> Response {
            f.record(&h, &uri);
            let items: Vec<FlussoPubblicato> = f
                .flussi
                .lock()
                .unwrap()
                .iter()
                .map(|(fdr, revision, published, _)| FlussoPubblicato {
                    fdr: fdr.clone(),
                    organization_id: Some(org.clone()),
                    revision: *revision,
                    published: Some(published.clone()),
                })
                .collect();
            pagina(&items, &p)
        }
        type Chiave = (String, String, i64, String);
        fn trova(f: &FakeFdr, fdr: &str, rev: i64, psp: &str) -> Option<(Flusso, Vec<Pagamento>)> {
            assert_eq!(psp, "ABCDITMMXXX", "the PSP read from the flow id");
            f.flussi
                .lock()
                .unwrap()
                .iter()
                .find(|x| x.0 == fdr && x.1 == rev)
                .and_then(|x| x.3.clone())
        }
        async fn flusso(
            State(f): State<FakeFdr>,
            Path((_org, fdr, rev, psp)): Path<Chiave>,
            h: HeaderMap,
            uri: axum::http::Uri,
        ) -> Response {
            f.record(&h, &uri);
            match trova(&f, &fdr, rev, &psp) {
                Some((x, _)) => Json(x).into_response(),
                None => StatusCode::NOT_FOUND.into_response(),
            }
        }
        async fn pagamenti(
            State(f): State<FakeFdr>,
            Path((_org, fdr, rev, psp)): Path<Chiave>,
            Query(p): Query<Paging>,
            h: HeaderMap,
            uri: axum::http::Uri,
        ) -> Response {
            f.record(&h, &uri);
            match trova(&f, &fdr, rev, &psp) {
                Some((_, pag)) => pagina(&pag, &p),
                None => StatusCode::NOT_FOUND.into_response(),
            }
        }
        let base = "/fdr-org/service/v1/organizations/{org}/fdrs";
        let app = axum::Router::new()
            .route(base, axum::routing::get(elenco))
            .route(
                &format!("{base}/{{fdr}}/revisions/{{rev}}/psps/{{psp}}"),
                axum::routing::get(flusso),
            )
            .route(
                &format!("{base}/{{fdr}}/revisions/{{rev}}/psps/{{psp}}/payments"),
                axum::routing::get(pagamenti),
            )
            .with_state(self);
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = l.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(l, app).await });
        format!("http://{addr}/fdr-org/service/v1")
    }
}

async fn scarica(app: &TestApp) {
    let (s, b) = app
        .post(
            &format!("/api/v1/enti/{A}/flussi/scarica"),
            ADMIN,
            serde_json::json!({}),
        )
        .await;
    assert_eq!(s, StatusCode::ACCEPTED, "{b}");
}

async fn fdr_flows_are_read_page_by_page_once_per_revision(backend: Backend) {
    let fdr = FakeFdr::default();
    let url = fdr.clone().serve().await;
    let mut app = TestApp::spawn_with(backend, |c| {
        c.fdr.url = Some(url);
        c.fdr.subscription_key = Some(KEY.into());
        // Small pages, so a five-payment flow takes three.
        c.fdr.page_size = 2;
        c.outbox.poll_ms = 50;
        // Only the downloads asked for (no scheduled one racing them).
        c.outbox.flussi_every_minutes = 0;
    })
    .await;
    app.seed_ente(A, "c_a", 1).await;
    app.start();
    let id = |s: &str| format!("2026-11-27ABCDITMMXXX-{s}");
    let t1 = "2026-11-28T06:00:00Z";
    fdr.publish(
        &id("OK"),
        1,
        t1,
        Some(flusso_xml(&id("OK"), "2026-11-28T06:00:00", A, 5, None)),
    );
    fdr.publish(
        &id("SOMMA"),
        1,
        t1,
        Some(flusso_xml(
            &id("SOMMA"),
            "2026-11-28T06:00:00",
            A,
            2,
            Some(99_999),
        )),
    );
    fdr.publish(
        &id("ALTRO"),
        1,
        t1,
        Some(flusso_xml(
            &id("ALTRO"),
            "2026-11-28T06:00:00",
            "00000000000",
            1,
            None,
        )),
    );
    fdr.publish(&id("SPARITO"), 1, t1, None);
    scarica(&app).await;
    let stored = async |n: i64| {
        let (_, p) = app.get("/api/v1/flussi?per_page=100", ADMIN).await;
        p["total"] == n
    };
    assert!(eventually(20, async || stored(4).await).await);
    let (_, p) = app.get("/api/v1/flussi?per_page=100", ADMIN).await;
    let by_id = |s: &str| {
        p["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["id_flusso"] == id(s))
            .unwrap()
            .clone()
    };
    let ok = by_id("OK");
    assert_eq!(
        (
            ok["stato"].as_str(),
            ok["numero_pagamenti"].as_i64(),
            ok["importo_cents"].as_i64(),
            ok["psp"].as_str()
        ),
        (Some("ACQUISITO"), Some(5), Some(5_000), Some("ABCDITMMXXX")),
        "{ok}"
    );
    assert_eq!(by_id("SOMMA")["stato"], "ANOMALO");
    assert!(
        by_id("SOMMA")["nota"]
            .as_str()
            .unwrap()
            .contains("importoTotalePagamenti")
    );
    assert_eq!(by_id("ALTRO")["stato"], "ENTE_NON_SERVITO");
    assert_eq!(by_id("SPARITO")["stato"], "SCONOSCIUTO");
    // The five payments came in three pages of two.
    let pagine: Vec<String> = fdr
        .richieste
        .lock()
        .unwrap()
        .iter()
        .filter(|(u, _)| {
            u.contains(&format!(
                "{}/revisions/1/psps/ABCDITMMXXX/payments",
                id("OK")
            ))
        })
        .map(|(u, _)| u.clone())
        .collect();
    assert_eq!(pagine.len(), 3, "{pagine:?}");
    assert!(pagine[2].ends_with("page=3&size=2"), "{pagine:?}");
    // Revision 2 of OK is published: only it is read; revision 1 stays.
    let t2 = "2026-11-28T09:30:00Z";
    fdr.publish(
        &id("OK"),
        2,
        t2,
        Some(flusso_xml(&id("OK"), "2026-11-28T09:30:00", A, 4, None)),
    );
    let before = fdr.richieste.lock().unwrap().len();
    scarica(&app).await;
    assert!(eventually(20, async || stored(5).await).await);
    let nuove: Vec<String> = fdr.richieste.lock().unwrap()[before..]
        .iter()
        .map(|(u, _)| u.clone())
        .collect();
    assert!(
        nuove.iter().all(|u| !u.contains("/revisions/1/")),
        "revision 1 is not read again: {nuove:?}"
    );
    let (_, p) = app
        .get("/api/v1/flussi?stato=ACQUISITO&per_page=10", ADMIN)
        .await;
    let revisioni: Vec<_> = p["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["id_flusso"] == id("OK"))
        .map(|f| f["numero_pagamenti"].as_i64().unwrap())
        .collect();
    assert_eq!(revisioni.len(), 2, "{p}");
    assert!(revisioni.contains(&4) && revisioni.contains(&5));
    // Every call carried the key, on the API's paths.
    let r = fdr.richieste.lock().unwrap().clone();
    assert!(r.iter().all(|(u, k)| *k && u.starts_with("/fdr-org/service/v1/organizations/80007580279/fdrs")), "{r:?}");
}

#[tokio::test]
async fn fdr_flows_are_read_page_by_page_once_per_revision_sqlite() {
    fdr_flows_are_read_page_by_page_once_per_revision(Backend::Sqlite).await
}
#[tokio::test]
async fn fdr_flows_are_read_page_by_page_once_per_revision_postgres() {
    fdr_flows_are_read_page_by_page_once_per_revision(Backend::Postgres).await
}

#[tokio::test]
async fn fdr_down_leaves_the_job_to_retry_and_stores_nothing() {
    // Nothing listens there: a transport error, retried by the outbox; no row is written.
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let dead = format!("http://{}/fdr-org/service/v1", l.local_addr().unwrap());
    drop(l);
    let mut app = TestApp::spawn_with(Backend::Sqlite, |c| {
        c.fdr.url = Some(dead);
        c.fdr.timeout_ms = 500;
        c.outbox.poll_ms = 50;
    })
    .await;
    app.seed_ente(A, "c_a", 1).await;
    app.start();
    scarica(&app).await;
    assert!(
        eventually(10, async || {
            let (_, o) = app.get("/api/v1/outbox?kind=flussi", ADMIN).await;
            o["items"][0]["attempts"].as_i64().unwrap_or(0) >= 1
                && o["items"][0]["last_error"]
                    .as_str()
                    .is_some_and(|e| e.contains("FdR non raggiungibile"))
        })
        .await
    );
    let (_, p) = app.get("/api/v1/flussi", ADMIN).await;
    assert_eq!(p["total"], 0);
}
