//! A new-model receipt that never came, recovered from a fake Biz Events on a real port: on
//! the operator's request it is asked by ente, IUR and IUV, stored as received (with the ente
//! it was asked for), and applied like a paSendRT; a receipt Biz Events does not have ends
//! the job saying so. What the fake serves is checked against the Biz Events OpenAPI
//! document. (The automatic path, a flow reporting a payment without its receipt, runs in
//! the demo.)

use crate::fakes::*;
use crate::helpers::*;
use crate::nuovo_modello::{get_payment, receipt};
use crate::openapi::{assert_conforms, document};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use pagopa_gateway::model::StatoDovuto;
use pagopa_gateway::soap::new_model::PaSendRTReq;
use pagopa_gateway::soap::read_envelope;
use pagopa_gateway::xml::Limits;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

const A: &str = "80007580279";
const KEY: &str = "test-biz-key";

/// (org, iur, iuv) → the JSON body served.
type Ricevute = HashMap<(String, String, String), String>;

#[derive(Clone, Default)]
struct FakeBiz {
    ricevute: Arc<Mutex<Ricevute>>,
    /// Every request: whether it carried the key.
    chiamate: Arc<Mutex<Vec<bool>>>,
}

impl FakeBiz {
    async fn serve(self) -> String {
        async fn get(
            State(f): State<FakeBiz>,
            Path((org, iur, iuv)): Path<(String, String, String)>,
            h: HeaderMap,
        ) -> Response {
            f.chiamate
                .lock()
                .unwrap()
                .push(h.get("ocp-apim-subscription-key").is_some_and(|k| k == KEY));
            match f.ricevute.lock().unwrap().get(&(org, iur, iuv)) {
                Some(b) => (
                    [(axum::http::header::CONTENT_TYPE, "application/json")],
                    b.clone(),
                )
                    .into_response(),
                None => StatusCode::NOT_FOUND.into_response(),
            }
        }
        let app = axum::Router::new()
            .route(
                "/bizevents/service/v1/organizations/{org}/receipts/{iur}/paymentoptions/{iuv}",
                axum::routing::get(get),
            )
            .with_state(self);
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = l.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(l, app).await });
        format!("http://{addr}/bizevents/service/v1")
    }
}

async fn job_result(app: &TestApp, job: i64) -> Option<String> {
    let (_, o) = app
        .get("/api/v1/outbox?kind=recuperoRicevuta&per_page=50", ADMIN)
        .await;
    o["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|j| j["id"] == job && j["stato"] == "DONE")
        .and_then(|j| j["result"].as_str().map(str::to_owned))
}

async fn a_lost_receipt_is_recovered_from_biz_events_and_applied(backend: Backend) {
    let fake = FakeBiz::default();
    let url = fake.clone().serve().await;
    let mut app = TestApp::spawn_with(backend, |c| {
        c.biz_events.url = Some(url);
        c.biz_events.subscription_key = Some(KEY.into());
        c.outbox.poll_ms = 50;
    })
    .await;
    app.seed_ente(A, "c_a", 1).await;
    app.start();
    let (s, d) = app
        .post(
            &format!("/api/v1/enti/{A}/dovuti"),
            ADMIN,
            dovuto_json("L1", "40.00"),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{d}");
    let (iuv, avviso) = (
        d["iuv"].as_str().unwrap().to_owned(),
        d["numero_avviso"].as_str().unwrap().to_owned(),
    );
    // Paid at a PSP; the paSendRT never arrives.
    let r = get_payment(&app, &avviso, true).await;
    let t = r.data.unwrap().transfer_list.transfers;
    let sent = receipt(&app, A, "tok-lost-1", &avviso, &iuv, &t);
    let req = PaSendRTReq::parse(&sent).unwrap();
    let json = serde_json::to_string(&pagopa_gateway::dominio::nuovo_modello::come_biz_events(
        &req.receipt,
    ))
    .unwrap();
    assert_conforms(
        &document("biz_events.json"),
        "CtReceiptModelResponse",
        &serde_json::from_str(&json).unwrap(),
    );
    fake.ricevute
        .lock()
        .unwrap()
        .insert((A.into(), "tok-lost-1".into(), iuv.clone()), json.clone());
    assert_eq!(
        app.store().dovuti().get(A, "L1").await.unwrap().stato,
        StatoDovuto::PagamentoIniziato
    );

    let (s, b) = app
        .post(
            "/api/v1/rt/recupera-ricevuta",
            ADMIN,
            serde_json::json!({"id_dominio": A, "iuv": iuv, "iur": "tok-lost-1"}),
        )
        .await;
    assert_eq!(s, StatusCode::ACCEPTED, "{b}");
    let job = b["job"].as_i64().unwrap();
    assert!(eventually(20, async || job_result(&app, job).await.is_some()).await);
    assert!(
        job_result(&app, job)
            .await
            .unwrap()
            .contains("recuperata da Biz Events e applicata")
    );
    assert_eq!(
        app.store().dovuti().get(A, "L1").await.unwrap().stato,
        StatoDovuto::Pagato
    );
    // Kept as received, with the ente it was asked for.
    let (rows, _) = app
        .store()
        .pagamenti()
        .list_rt(Some(A), None, 10, 0)
        .await
        .unwrap();
    let (row, raw) = app.store().pagamenti().get_rt(rows[0].id).await.unwrap();
    assert_eq!(
        (row.stato.as_str(), row.ccp.as_str()),
        ("ELABORATA", "tok-lost-1")
    );
    let raw = String::from_utf8(raw).unwrap();
    assert!(raw.contains(&json), "the body verbatim: {raw}");
    assert!(raw.starts_with(&format!("{{\"organizationFiscalCode\":\"{A}\"")));
    assert!(read_envelope(raw.as_bytes(), Limits::MESSAGE).is_err());
    // Asked again: already held, Biz Events not called.
    let calls = fake.chiamate.lock().unwrap().len();
    let (_, b) = app
        .post(
            "/api/v1/rt/recupera-ricevuta",
            ADMIN,
            serde_json::json!({"id_dominio": A, "iuv": iuv, "iur": "tok-lost-1"}),
        )
        .await;
    let again = b["job"].as_i64().unwrap();
    assert!(eventually(20, async || job_result(&app, again).await.is_some()).await);
    assert_eq!(
        job_result(&app, again).await.as_deref(),
        Some("ricevuta già presente")
    );
    assert_eq!(fake.chiamate.lock().unwrap().len(), calls);
    // One Biz Events does not have: said so, nothing stored.
    let (_, b) = app
        .post(
            "/api/v1/rt/recupera-ricevuta",
            ADMIN,
            serde_json::json!({"id_dominio": A, "iuv": iuv, "iur": "tok-mai-visto"}),
        )
        .await;
    let none = b["job"].as_i64().unwrap();
    assert!(eventually(20, async || job_result(&app, none).await.is_some()).await);
    assert_eq!(
        job_result(&app, none).await.as_deref(),
        Some("nessuna ricevuta su Biz Events")
    );
    assert!(
        fake.chiamate.lock().unwrap().iter().all(|k| *k),
        "the key every time"
    );
    // Bad keys are refused before anything is queued.
    let (s, _) = app
        .post(
            "/api/v1/rt/recupera-ricevuta",
            ADMIN,
            serde_json::json!({"id_dominio": A, "iuv": iuv, "iur": ""}),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn a_lost_receipt_is_recovered_from_biz_events_and_applied_sqlite() {
    a_lost_receipt_is_recovered_from_biz_events_and_applied(Backend::Sqlite).await
}
#[tokio::test]
async fn a_lost_receipt_is_recovered_from_biz_events_and_applied_postgres() {
    a_lost_receipt_is_recovered_from_biz_events_and_applied(Backend::Postgres).await
}
