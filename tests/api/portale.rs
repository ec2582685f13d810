//! The portal API without operator credentials: enti pages, notice lookup that cannot be
//! used to enumerate notices, spontaneous payments, and a cart paid end to end through the
//! Nodo simulator with the outcome polled and the receipt served to its payer only.

use crate::helpers::*;
use axum::http::{Method, StatusCode};
use pagopa_gateway::sim::Simulator;
use serde_json::json;

const A: &str = "80007580279";
const CF: &str = "RSSMRA85T10A562S";

async fn public(
    app: &TestApp,
    method: Method,
    path: &str,
    body: Option<serde_json::Value>,
) -> (StatusCode, serde_json::Value) {
    app.call(method, path, None, body).await
}

/// A gateway wired to the simulator, one ente with a tipo that accepts late payment and one
/// spontaneous tipo with a fixed amount.
async fn gateway_with_sim(backend: Backend) -> (TestApp, Simulator) {
    let nodo = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let checkout = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = nodo.local_addr().unwrap().port();
    let mut app = TestApp::spawn_with(backend, |c| {
        c.nodo.url = Some(format!("https://localhost:{port}/nodo"));
        c.outbox.poll_ms = 50;
        c.rest.lookups_per_minute = 8;
    })
    .await;
    app.seed_ente(A, "c_a", 1).await;
    let mut t = tipo_json("PASSO");
    t["descrizione"] = json!("Passo carrabile");
    t["spontaneo"] = json!(true);
    t["importo_fisso"] = json!("25.00");
    let (s, b) = app
        .post(&format!("/api/v1/enti/{A}/tipi-dovuto"), ADMIN, t)
        .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    let soap = app.start();
    let sim = Simulator::new(&app.config, &format!("https://localhost:{}/", soap.port())).unwrap();
    tokio::spawn(sim.clone().serve(
        nodo,
        checkout,
        app.config.pa_soap.dev_pki_dir.clone(),
        std::future::pending(),
    ));
    (app, sim)
}

async fn enti_pages_and_notice_lookup_resist_enumeration(backend: Backend) {
    let (app, _sim) = gateway_with_sim(backend).await;
    let (s, p) = public(&app, Method::GET, "/api/v1/portale/enti?q=c_a", None).await;
    assert_eq!((s, p["total"].as_i64()), (StatusCode::OK, Some(1)));
    let (s, e) = public(
        &app,
        Method::GET,
        &format!("/api/v1/portale/enti/{A}"),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(e["contatti"]["email"], "tributi@comune.example.it");
    let tipi: Vec<&str> = e["tipi_dovuto"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["codice"].as_str().unwrap())
        .collect();
    assert_eq!(tipi.len(), 2, "{e}");
    // A notice due in the past, of a tipo that accepts late payment: today's amount.
    let mut d = dovuto_json("LATE", "100.00");
    d["data_scadenza"] = json!("2026-01-31");
    let (_, d) = app
        .post(&format!("/api/v1/enti/{A}/dovuti"), ADMIN, d)
        .await;
    let avviso = d["numero_avviso"].as_str().unwrap().to_owned();
    let q = |cf: &str, n: &str| {
        format!("/api/v1/portale/avvisi?id_dominio={A}&numero_avviso={n}&codice_fiscale={cf}")
    };
    let (s, a) = public(&app, Method::GET, &q(CF, &avviso), None).await;
    assert_eq!(s, StatusCode::OK, "{a}");
    assert_eq!(
        (a["stato"].as_str(), a["importo_originale"].as_str()),
        (Some("PAGABILE"), Some("100.00"))
    );
    // A date, as the OpenAPI document says (it was the pair [year, ordinal]).
    assert_eq!(a["data_scadenza"], "2026-01-31", "{a}");
    assert!(
        a["importo"].as_str().unwrap() > "105.00",
        "fee and interest: {a}"
    );
    // Wrong fiscal code and unknown notice: the same answer.
    let (s1, wrong) = public(&app, Method::GET, &q("VRDGPP80A01H501U", &avviso), None).await;
    use pagopa_gateway::model::{Iuv, NumeroAvviso, SegregationCode};
    let unknown_iuv = Iuv::aux3(SegregationCode::new(1).unwrap(), 9_999_999_999_999).unwrap();
    let unknown_avviso = NumeroAvviso::from_aux3_iuv(&unknown_iuv)
        .unwrap()
        .to_string();
    let (s2, unknown) = public(&app, Method::GET, &q(CF, &unknown_avviso), None).await;
    assert_eq!((s1, s2), (StatusCode::NOT_FOUND, StatusCode::NOT_FOUND));
    assert_eq!(wrong["detail"], unknown["detail"]);
    // The per-client limit (8 a minute here): 3 lookups so far, the 9th is refused.
    let mut last = StatusCode::OK;
    for _ in 0..6 {
        last = public(&app, Method::GET, &q(CF, &avviso), None).await.0;
    }
    assert_eq!(last, StatusCode::TOO_MANY_REQUESTS);
}

/// Receipts and carts are limited per client like notice lookups; behind a trusted proxy
/// each forwarded client has its own allowance, and a forged leftmost hop changes nothing.
async fn receipts_and_carts_are_limited_per_client_behind_a_trusted_proxy(backend: Backend) {
    let app = TestApp::spawn_with(backend, |c| {
        c.rest.lookups_per_minute = 3;
        c.rest.carts_per_minute = 2;
        // The in-process test client comes from 127.0.0.1: our "proxy".
        c.rest.trusted_proxies = vec!["127.0.0.1".parse().unwrap()];
    })
    .await;
    app.seed_ente(A, "c_a", 1).await;
    let get = |xff: &'static str| {
        let app = &app;
        async move {
            let path = format!(
                "/api/v1/portale/ricevute/{A}/01000000000000099/ricevuta.txt?codice_fiscale={CF}"
            );
            app.raw_with(
                Method::GET,
                &path,
                None,
                &[("x-forwarded-for", xff)],
                "application/json",
                Vec::new(),
            )
            .await
            .0
        }
    };
    for _ in 0..3 {
        assert_eq!(get("203.0.113.1").await, StatusCode::NOT_FOUND);
    }
    assert_eq!(get("203.0.113.1").await, StatusCode::TOO_MANY_REQUESTS);
    // The client cannot pass for someone else by prepending an address.
    assert_eq!(
        get("203.0.113.2, 203.0.113.1").await,
        StatusCode::TOO_MANY_REQUESTS
    );
    assert_eq!(get("203.0.113.2").await, StatusCode::NOT_FOUND);
    let cart = |xff: &'static str| {
        let app = &app;
        async move {
            let body = serde_json::to_vec(&json!({"dovuti": []})).unwrap();
            app.raw_with(
                Method::POST,
                "/api/v1/portale/carrelli",
                None,
                &[("x-forwarded-for", xff)],
                "application/json",
                body,
            )
            .await
            .0
        }
    };
    for _ in 0..2 {
        assert_eq!(cart("203.0.113.3").await, StatusCode::UNPROCESSABLE_ENTITY);
    }
    assert_eq!(cart("203.0.113.3").await, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(cart("203.0.113.4").await, StatusCode::UNPROCESSABLE_ENTITY);
    // The public routes read at most 64 KiB (a cart is 1-5 dovuti); operators' routes keep
    // the upload limit.
    let big = |n: usize| {
        let mut b = b"{\"dovuti\": []".to_vec();
        b.extend(std::iter::repeat_n(b' ', n));
        b.push(b'}');
        b
    };
    let (s, ct, body) = app
        .raw_with(
            Method::POST,
            "/api/v1/portale/carrelli",
            None,
            &[("x-forwarded-for", "203.0.113.5")],
            "application/json",
            big(200 * 1024),
        )
        .await;
    let p: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(
        (s, ct.as_str(), p["code"].as_str()),
        (
            StatusCode::PAYLOAD_TOO_LARGE,
            "application/problem+json",
            Some("PAYLOAD_TOO_LARGE")
        )
    );
    let (s, _, _) = app
        .raw(
            Method::POST,
            &format!("/api/v1/enti/{A}/dovuti"),
            Some(ADMIN),
            "application/json",
            big(200 * 1024),
        )
        .await;
    assert_ne!(s, StatusCode::PAYLOAD_TOO_LARGE);
}

#[tokio::test]
async fn receipts_and_carts_are_limited_per_client_behind_a_trusted_proxy_sqlite() {
    receipts_and_carts_are_limited_per_client_behind_a_trusted_proxy(Backend::Sqlite).await
}
#[tokio::test]
async fn receipts_and_carts_are_limited_per_client_behind_a_trusted_proxy_postgres() {
    receipts_and_carts_are_limited_per_client_behind_a_trusted_proxy(Backend::Postgres).await
}

#[tokio::test]
async fn enti_pages_and_notice_lookup_resist_enumeration_sqlite() {
    enti_pages_and_notice_lookup_resist_enumeration(Backend::Sqlite).await
}
#[tokio::test]
async fn enti_pages_and_notice_lookup_resist_enumeration_postgres() {
    enti_pages_and_notice_lookup_resist_enumeration(Backend::Postgres).await
}

async fn spontaneous_payment_through_checkout_to_paid_and_its_receipt(backend: Backend) {
    let (app, sim) = gateway_with_sim(backend).await;
    // Only tipi that allow it, at their fixed amount.
    let pagatore = json!({"tipo": "F", "codice_fiscale": CF, "anagrafica": "Mario Rossi", "email": "mario@example.org"});
    let (s, _) = public(&app, Method::POST, &format!("/api/v1/portale/enti/{A}/spontanei"), Some(json!({"tipo_dovuto": "TARI", "pagatore": pagatore, "importo": "10.00", "causale": "x"}))).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    let (s, _) = public(&app, Method::POST, &format!("/api/v1/portale/enti/{A}/spontanei"), Some(json!({"tipo_dovuto": "PASSO", "pagatore": pagatore, "importo": "30.00", "causale": "x"}))).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "the amount is fixed");
    let (s, d) = public(&app, Method::POST, &format!("/api/v1/portale/enti/{A}/spontanei"), Some(json!({"tipo_dovuto": "PASSO", "pagatore": pagatore, "causale": "Passo carrabile 2026"}))).await;
    assert_eq!(s, StatusCode::CREATED, "{d}");
    assert_eq!(d["importo"], "25.00");
    let iuv = d["iuv"].as_str().unwrap().to_owned();
    // A cart that breaks a rule: 422, nothing sent.
    let (s, _) = public(
        &app,
        Method::POST,
        "/api/v1/portale/carrelli",
        Some(json!({"dovuti": [], "multi_beneficiario": false})),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    let (s, c) = public(
        &app,
        Method::POST,
        "/api/v1/portale/carrelli",
        Some(
            json!({"dovuti": [{"id_dominio": A, "iuv": iuv}], "email_login": "login@example.org"}),
        ),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{c}");
    let url = c["url"].as_str().unwrap().to_owned();
    let id = c["id_carrello"].as_str().unwrap().to_owned();
    // Already in payment: 409.
    let (s, _) = public(
        &app,
        Method::POST,
        "/api/v1/portale/carrelli",
        Some(json!({"dovuti": [{"id_dominio": A, "iuv": iuv}]})),
    )
    .await;
    assert_eq!(s, StatusCode::CONFLICT);
    let (_, st) = public(
        &app,
        Method::GET,
        &format!("/api/v1/portale/carrelli/{id}"),
        None,
    )
    .await;
    assert_eq!(st["esito"], "IN_CORSO");
    // The payer pays on the simulator's checkout page.
    assert!(
        sim.paga_sessione(Simulator::sessione(&url).unwrap(), true)
            .await
    );
    let polled = async || {
        public(
            &app,
            Method::GET,
            &format!("/api/v1/portale/carrelli/{id}"),
            None,
        )
        .await
        .1["esito"]
            == "PAGATO"
    };
    assert!(crate::fakes::eventually(10, polled).await);
    // The receipt was emailed (file transport here): to the payer, CC the login address.
    let mail_dir = app.config.data_dir.join("mail");
    let eml = async || {
        std::fs::read_dir(&mail_dir)
            .ok()
            .and_then(|mut d| d.next())
            .and_then(|e| e.ok())
            .map(|e| std::fs::read_to_string(e.path()).unwrap())
    };
    assert!(crate::fakes::eventually(10, async || eml().await.is_some()).await);
    let m = eml().await.unwrap();
    assert!(
        m.contains("To: mario@example.org") && m.contains("Cc: login@example.org"),
        "{m}"
    );
    // The receipt, to its payer only.
    let base = format!("/api/v1/portale/ricevute/{A}/{iuv}");
    let (s, _, html) = app
        .raw(
            Method::GET,
            &format!("{base}/ricevuta.html?codice_fiscale={CF}"),
            None,
            "",
            vec![],
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    assert!(String::from_utf8_lossy(&html).contains("Pagamento eseguito"));
    let (s, _, txt) = app
        .raw(
            Method::GET,
            &format!("{base}/ricevuta.txt?codice_fiscale={CF}"),
            None,
            "",
            vec![],
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    assert!(String::from_utf8_lossy(&txt).contains("Importo pagato:   25.00 EUR"));
    let (s, _, xml) = app
        .raw(
            Method::GET,
            &format!("{base}/rt.xml?codice_fiscale={CF}"),
            None,
            "",
            vec![],
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    assert!(String::from_utf8_lossy(&xml).contains(&iuv));
    let (s, _) = public(
        &app,
        Method::GET,
        &format!("{base}/rt.xml?codice_fiscale=VRDGPP80A01H501U"),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn spontaneous_payment_through_checkout_to_paid_and_its_receipt_sqlite() {
    spontaneous_payment_through_checkout_to_paid_and_its_receipt(Backend::Sqlite).await
}
#[tokio::test]
async fn spontaneous_payment_through_checkout_to_paid_and_its_receipt_postgres() {
    spontaneous_payment_through_checkout_to_paid_and_its_receipt(Backend::Postgres).await
}

const SECRET: &str = "portal-shared-secret-0123456789abcdef";

fn token(cf: &str, exp_in: i64, secret: &str) -> String {
    use base64::Engine;
    let b = |v: serde_json::Value| {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string())
    };
    let exp = time::OffsetDateTime::now_utc().unix_timestamp() + exp_in;
    let signed = format!(
        "{}.{}",
        b(json!({"alg": "HS256", "typ": "JWT"})),
        b(
            json!({"iss": "https://portale.example.it", "aud": "pagopa-gateway", "exp": exp, "fiscal_number": format!("TINIT-{cf}")})
        )
    );
    let key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, secret.as_bytes());
    let tag = aws_lc_rs::hmac::sign(&key, signed.as_bytes());
    format!(
        "{signed}.{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(tag.as_ref())
    )
}

async fn a_citizen_sees_only_their_own_dovuti(backend: Backend) {
    let app = TestApp::spawn_with(backend, |c| {
        c.rest.jwt_issuer = Some("https://portale.example.it".into());
        c.rest.jwt_audience = Some("pagopa-gateway".into());
        c.rest.jwt_hs256_secret = Some(SECRET.into());
    })
    .await;
    app.seed_ente(A, "c_a", 1).await;
    let mut other = dovuto_json("Y-1", "20.00");
    other["pagatore"]["codice_fiscale"] = json!("VRDGPP80A01H501U");
    for d in [
        dovuto_json("X-1", "10.00"),
        dovuto_json("X-2", "11.00"),
        other,
    ] {
        assert_eq!(
            app.post(&format!("/api/v1/enti/{A}/dovuti"), ADMIN, d)
                .await
                .0,
            StatusCode::CREATED
        );
    }
    let (s, p) = app
        .get("/api/v1/portale/me/dovuti", &token(CF, 300, SECRET))
        .await;
    assert_eq!(s, StatusCode::OK, "{p}");
    let iuds: Vec<&str> = p["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["iud"].as_str().unwrap())
        .collect();
    assert_eq!(
        (p["total"].as_i64(), iuds.contains(&"Y-1")),
        (Some(2), false),
        "{p}"
    );
    let (_, p) = app
        .get(
            "/api/v1/portale/me/dovuti",
            &token("VRDGPP80A01H501U", 300, SECRET),
        )
        .await;
    assert_eq!(p["total"], 1);
    // Expired, wrongly signed, no token, an operator key: 401 (problem+json).
    for t in [
        token(CF, -3600, SECRET),
        token(CF, 300, "a-different-secret-0123456789abcdef"),
        ADMIN.to_owned(),
    ] {
        assert_eq!(
            app.get("/api/v1/portale/me/dovuti", &t).await.0,
            StatusCode::UNAUTHORIZED
        );
    }
    assert_eq!(
        app.call(Method::GET, "/api/v1/portale/me/dovuti", None, None)
            .await
            .0,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn a_citizen_sees_only_their_own_dovuti_sqlite() {
    a_citizen_sees_only_their_own_dovuti(Backend::Sqlite).await
}
#[tokio::test]
async fn a_citizen_sees_only_their_own_dovuti_postgres() {
    a_citizen_sees_only_their_own_dovuti(Backend::Postgres).await
}
