//! Portal carts through pagoPA Checkout against a fake Checkout on a real port: the request
//! validated against the Checkout OpenAPI document, the payer sent to the page it answers
//! with, each notice then paid through the new model and the cart's outcome read from the
//! receipts; a refusal leaves nothing held; an ente kept on WISP never reaches Checkout.

use crate::helpers::*;
use crate::nuovo_modello::{fault_code, get_payment, receipt, send_rt};
use crate::openapi::{assert_conforms, document};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use pagopa_gateway::model::StatoDovuto;
use std::sync::{Arc, Mutex};

const A: &str = "80007580279";
const B: &str = "00000000000";
const KEY: &str = "test-checkout-key";

#[derive(Clone, Default)]
struct FakeCheckout {
    /// Every POST /carts: its body and whether it carried the subscription key.
    carts: Arc<Mutex<Vec<(serde_json::Value, bool)>>>,
    /// The next answers (status, Location); empty: 302 to the page.
    script: Arc<Mutex<std::collections::VecDeque<u16>>>,
}

impl FakeCheckout {
    async fn serve(self) -> String {
        async fn carts(
            axum::extract::State(f): axum::extract::State<FakeCheckout>,
            h: HeaderMap,
            body: axum::body::Bytes,
        ) -> Response {
            let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
            let key = h.get("ocp-apim-subscription-key").is_some_and(|k| k == KEY);
            f.carts.lock().unwrap().push((v, key));
            match f.script.lock().unwrap().pop_front() {
                Some(400) => (
                    StatusCode::BAD_REQUEST,
                    [(header::CONTENT_TYPE, "application/json")],
                    r#"{"title":"Bad Request","status":400,"detail":"avviso non valido"}"#,
                )
                    .into_response(),
                Some(s) => StatusCode::from_u16(s).unwrap().into_response(),
                None => (
                    StatusCode::FOUND,
                    [(header::LOCATION, "https://checkout.example/c/abc123")],
                )
                    .into_response(),
            }
        }
        let app = axum::Router::new()
            .route("/checkout/ec/v2/carts", axum::routing::post(carts))
            .with_state(self);
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = l.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(l, app).await });
        format!("http://{addr}/checkout/ec/v2")
    }
}

async fn dovuto(app: &TestApp, ente: &str, iud: &str, importo: &str) -> (String, String) {
    let (s, b) = app
        .post(
            &format!("/api/v1/enti/{ente}/dovuti"),
            ADMIN,
            dovuto_json(iud, importo),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    (
        b["iuv"].as_str().unwrap().to_owned(),
        b["numero_avviso"].as_str().unwrap_or_default().to_owned(),
    )
}

async fn cart(app: &TestApp, items: &[(&str, &str)]) -> (StatusCode, serde_json::Value) {
    let dovuti: Vec<_> = items
        .iter()
        .map(|(d, i)| serde_json::json!({"id_dominio": d, "iuv": i}))
        .collect();
    app.post(
        "/api/v1/portale/carrelli",
        ADMIN,
        serde_json::json!({"dovuti": dovuti, "email_login": "login@example.org"}),
    )
    .await
}

async fn stato(app: &TestApp, iud: &str) -> StatoDovuto {
    app.store().dovuti().get(A, iud).await.unwrap().stato
}

async fn a_checkout_cart_goes_to_the_page_and_is_paid_through_the_new_model(backend: Backend) {
    let fake = FakeCheckout::default();
    let url = fake.clone().serve().await;
    let mut app = TestApp::spawn_with(backend, |c| {
        c.checkout.url = Some(url);
        c.checkout.subscription_key = Some(KEY.into());
        c.checkout.return_url = "https://portale.example/esito".into();
        c.checkout.enti_wisp = vec![B.into()];
    })
    .await;
    app.seed_ente(A, "c_a", 1).await;
    app.seed_ente(B, "c_b", 2).await;
    app.start();
    let (iuv1, avviso1) = dovuto(&app, A, "C1", "12.00").await;
    let (iuv2, avviso2) = dovuto(&app, A, "C2", "30.50").await;

    let (s, e) = cart(&app, &[(A, &iuv1), (A, &iuv2)]).await;
    assert_eq!(s, StatusCode::CREATED, "{e}");
    assert_eq!(
        (e["stato"].as_str(), e["url"].as_str()),
        (Some("INVIATO"), Some("https://checkout.example/c/abc123"))
    );
    let id = e["id_carrello"].as_str().unwrap().to_owned();
    // What Checkout got: valid against its OpenAPI document, with the key.
    let (body, key) = fake.carts.lock().unwrap()[0].clone();
    assert!(key, "the subscription key goes with the cart");
    assert_conforms(&document("checkout_v2.json"), "CartRequestV2", &body);
    let notices: Vec<_> = body["paymentNotices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| {
            (
                n["noticeNumber"].as_str().unwrap().to_owned(),
                n["amount"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        notices,
        [(avviso1.clone(), 1_200), (avviso2.clone(), 3_050)]
    );
    assert_eq!(body["idCart"], id.as_str());
    assert_eq!(body["emailNotice"], "login@example.org");
    assert_eq!(
        body["returnUrls"]["returnOkUrl"],
        format!("https://portale.example/esito?idCarrello={id}&esito=OK")
    );
    // Nothing is held until the Nodo asks for a position.
    assert_eq!(stato(&app, "C1").await, StatoDovuto::DaPagare);
    let (_, c) = app
        .get(&format!("/api/v1/portale/carrelli/{id}"), ADMIN)
        .await;
    assert_eq!(c["esito"], "IN_CORSO", "{c}");

    // The payer pays on Checkout: each notice comes as paGetPaymentV2 and paSendRTV2.
    for (n, (avviso, iuv)) in [(&avviso1, &iuv1), (&avviso2, &iuv2)]
        .into_iter()
        .enumerate()
    {
        let r = get_payment(&app, avviso, true).await;
        assert_eq!(fault_code(r.outcome, &r.fault), "OK", "{r:?}");
        let t = r.data.unwrap().transfer_list.transfers;
        let r = send_rt(
            &app,
            &receipt(&app, A, &format!("tok-{n}"), avviso, iuv, &t),
        )
        .await;
        assert_eq!(fault_code(r.outcome, &r.fault), "OK", "{r:?}");
    }
    let (_, c) = app
        .get(&format!("/api/v1/portale/carrelli/{id}"), ADMIN)
        .await;
    assert_eq!(c["esito"], "PAGATO", "{c}");
    assert_eq!(c["rpt"].as_array().unwrap().len(), 2, "{c}");

    // Checkout refuses a cart: 502 with its reason, the cart RIFIUTATO, nothing held.
    let (iuv3, _) = dovuto(&app, A, "C3", "5.00").await;
    fake.script.lock().unwrap().push_back(400);
    let (s, p) = cart(&app, &[(A, &iuv3)]).await;
    assert_eq!(s, StatusCode::BAD_GATEWAY, "{p}");
    assert!(
        p["detail"].as_str().unwrap().contains("avviso non valido"),
        "{p}"
    );
    assert_eq!(stato(&app, "C3").await, StatoDovuto::DaPagare);
    // Unreachable or failing: the same, the payer may simply retry.
    fake.script.lock().unwrap().push_back(503);
    let (s, _) = cart(&app, &[(A, &iuv3)]).await;
    assert_eq!(s, StatusCode::BAD_GATEWAY);
    let (s, e) = cart(&app, &[(A, &iuv3)]).await;
    assert_eq!(
        (s, e["stato"].as_str()),
        (StatusCode::CREATED, Some("INVIATO"))
    );

    // An ente kept on WISP never reaches Checkout (its cart waits for the Nodo here).
    let before = fake.carts.lock().unwrap().len();
    let (iuv_b, _) = dovuto(&app, B, "W1", "7.00").await;
    let (s, e) = cart(&app, &[(B, &iuv_b)]).await;
    assert_eq!(s, StatusCode::CREATED, "{e}");
    assert_eq!(e["stato"], "CREATO", "{e}");
    assert_eq!(fake.carts.lock().unwrap().len(), before);
}

#[tokio::test]
async fn a_checkout_cart_goes_to_the_page_and_is_paid_through_the_new_model_sqlite() {
    a_checkout_cart_goes_to_the_page_and_is_paid_through_the_new_model(Backend::Sqlite).await
}
#[tokio::test]
async fn a_checkout_cart_goes_to_the_page_and_is_paid_through_the_new_model_postgres() {
    a_checkout_cart_goes_to_the_page_and_is_paid_through_the_new_model(Backend::Postgres).await
}
