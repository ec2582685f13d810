//! The node client and the outbox over real sockets: RPTs created by paaAttivaRPT reach a
//! fake Nodo over mutual TLS as schema-valid nodoInviaRPT, transient faults are retried
//! with the SANP backoff, permanent ones become dead letters an operator can retry, and a
//! positive RT is emailed through a real SMTP conversation.

use crate::fakes::*;
use crate::helpers::*;
use crate::pa_attiva::{CCP, attiva, setup};
use crate::pa_invia_rt::rt_xml;
use crate::xsd::{assert_valid, wsdl_schema};
use axum::http::StatusCode;
use pagopa_gateway::soap::sanp2::{Base64Doc, IntestazionePPT, NodoInviaRPT, PaaInviaRT};
use pagopa_gateway::soap::{NS_PPT, read_envelope, write_envelope};
use pagopa_gateway::xml::Limits;

const ENTE: &str = "80007580279";

/// A gateway whose Nodo is `nodo` (served once the dev PKI exists) and whose mail goes
/// to an SMTP sink on `smtp_port`.
async fn gateway(backend: Backend, smtp_port: u16) -> (TestApp, FakeNodo) {
    let (nodo, listener, addr) = FakeNodo::bind().await;
    let app = TestApp::spawn_with(backend, |c| {
        c.nodo.url = Some(format!("https://localhost:{}/nodo", addr.port()));
        c.nodo.read_timeout_ms = 200; // also the retry slot: 200 ms, 600 ms, …
        c.outbox.poll_ms = 50;
        c.mail.transport = "smtp".into();
        c.mail.smtp_host = "127.0.0.1".into();
        c.mail.smtp_port = smtp_port;
        c.mail.smtp_tls = "none".into();
    })
    .await;
    nodo.serve(listener, &app.config.pa_soap.dev_pki_dir);
    (app, nodo)
}

fn outcomes(journal: &serde_json::Value) -> Vec<&str> {
    journal["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["outcome"].as_str().unwrap())
        .collect()
}

/// The nodoInviaRPT journal once it holds `n` entries (the writer batches).
async fn journal_with(app: &TestApp, n: i64) -> serde_json::Value {
    let path = "/api/v1/journal?operation=nodoInviaRPT";
    eventually(10, async || {
        app.get(path, ADMIN).await.1["total"].as_i64() >= Some(n)
    })
    .await;
    app.get(path, ADMIN).await.1
}

/// Whether the RPT of `iuv` reaches INVIATA within `secs`.
async fn rpt_sent(app: &TestApp, iuv: &str, secs: u64) -> bool {
    let store = app.store();
    eventually(secs, async || {
        store
            .pagamenti()
            .get_rpt(ENTE, iuv, CCP)
            .await
            .unwrap()
            .is_some_and(|r| r.stato.as_str() == "INVIATA")
    })
    .await
}

async fn job(app: &TestApp, kind: &str) -> serde_json::Value {
    let (s, p) = app.get(&format!("/api/v1/outbox?kind={kind}"), ADMIN).await;
    assert_eq!(s, StatusCode::OK, "{p}");
    p["items"][0].clone()
}

async fn activated_rpt_is_sent_to_the_nodo_over_mtls_after_a_transient_fault(backend: Backend) {
    let (mut app, nodo) = gateway(backend, 1).await;
    nodo.script
        .lock()
        .unwrap()
        .push_back(invia_rpt_fault("PPT_SYSTEM_ERROR"));
    let iuv = setup(&mut app).await;
    assert_eq!(attiva(&app, &iuv, "100.00").await.esito.as_str(), "OK");
    assert!(rpt_sent(&app, &iuv, 20).await, "RPT sent");
    let sent = nodo.received("nodoInviaRPT");
    assert_eq!(sent.len(), 2, "one PPT_SYSTEM_ERROR, then the retry");
    for s in &sent {
        let env = read_envelope(s.body.as_bytes(), Limits::MESSAGE).unwrap();
        assert_valid(
            &wsdl_schema("NodoPerPa.wsdl", NS_PPT),
            &[env.body.xml.to_owned()],
        );
        let h = IntestazionePPT::parse(env.headers[0].xml).unwrap();
        assert_eq!(
            (h.id_dominio.as_str(), h.iuv.as_str(), h.ccp.as_str()),
            (ENTE, iuv.as_str(), CCP)
        );
        let body = NodoInviaRPT::parse(env.body.xml).unwrap();
        // Modello 3: the activating PSP's ids, the station password, the RPT we stored.
        assert_eq!(
            (body.id_psp.as_str(), body.id_canale.as_str()),
            ("ABCDITMM", "97735020584_03")
        );
        assert_eq!(body.password, app.config.intermediario.password);
        let (xml, _) = app.store().pagamenti().rpt_xml(ENTE, &iuv).await.unwrap();
        assert_eq!(body.rpt.0, xml);
    }
    let j = job(&app, "nodoInviaRPT").await;
    assert!(
        eventually(5, async || job(&app, "nodoInviaRPT").await["stato"]
            == "DONE")
        .await,
        "{j}"
    );
    // Both directions are in the journal (written in batches), outbound ones marked OUT.
    let journal = journal_with(&app, 2).await;
    let outcomes = outcomes(&journal);
    assert!(
        outcomes.contains(&"PPT_SYSTEM_ERROR") && outcomes.contains(&"OK"),
        "{journal}"
    );
    assert!(
        journal["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["direction"] == "OUT")
    );
}

#[tokio::test]
async fn activated_rpt_is_sent_over_mtls_after_a_transient_fault_sqlite() {
    activated_rpt_is_sent_to_the_nodo_over_mtls_after_a_transient_fault(Backend::Sqlite).await
}
#[tokio::test]
async fn activated_rpt_is_sent_over_mtls_after_a_transient_fault_postgres() {
    activated_rpt_is_sent_to_the_nodo_over_mtls_after_a_transient_fault(Backend::Postgres).await
}

async fn permanent_fault_is_a_dead_letter_and_a_retry_after_rpt_duplicata_is_done(
    backend: Backend,
) {
    let (mut app, nodo) = gateway(backend, 1).await;
    nodo.script
        .lock()
        .unwrap()
        .push_back(invia_rpt_fault("PPT_SEMANTICA"));
    let iuv = setup(&mut app).await;
    attiva(&app, &iuv, "100.00").await;
    assert!(
        eventually(20, async || job(&app, "nodoInviaRPT").await["stato"]
            == "DEAD")
        .await
    );
    let j = job(&app, "nodoInviaRPT").await;
    assert!(
        j["last_error"].as_str().unwrap().contains("PPT_SEMANTICA"),
        "{j}"
    );
    assert_eq!(j["attempts"], 1, "a permanent fault is not repeated");
    let store = app.store();
    assert_eq!(
        store
            .pagamenti()
            .get_rpt(ENTE, &iuv, CCP)
            .await
            .unwrap()
            .unwrap()
            .stato
            .as_str(),
        "RIFIUTATA_NODO"
    );
    // Dead letters are counted in the metrics and listed for operators.
    let (_, dead) = app.get("/api/v1/outbox?stato=DEAD", ADMIN).await;
    assert_eq!(dead["total"], 1);
    // An operator retries it: the RPT is no longer CREATA, so the job completes without
    // sending it a second time.
    let (s, _) = app
        .post(
            &format!("/api/v1/outbox/{}/retry", j["id"]),
            ADMIN,
            serde_json::json!({}),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        eventually(10, async || job(&app, "nodoInviaRPT").await["stato"]
            == "DONE")
        .await
    );
    assert_eq!(nodo.received("nodoInviaRPT").len(), 1);
    let (s, _) = app
        .post(
            &format!("/api/v1/outbox/{}/retry", j["id"]),
            ADMIN,
            serde_json::json!({}),
        )
        .await;
    assert_eq!(s, StatusCode::CONFLICT, "only dead letters are retried");
}

#[tokio::test]
async fn permanent_fault_is_a_dead_letter_that_an_operator_can_retry_sqlite() {
    permanent_fault_is_a_dead_letter_and_a_retry_after_rpt_duplicata_is_done(Backend::Sqlite).await
}
#[tokio::test]
async fn permanent_fault_is_a_dead_letter_that_an_operator_can_retry_postgres() {
    permanent_fault_is_a_dead_letter_and_a_retry_after_rpt_duplicata_is_done(Backend::Postgres)
        .await
}

async fn positive_rt_is_emailed_with_both_attachments_even_when_smtp_was_down(backend: Backend) {
    // Reserve a port and keep the sink down at first.
    let hold = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = hold.local_addr().unwrap().port();
    drop(hold);
    let (mut app, _nodo) = gateway(backend, port).await;
    let iuv = setup(&mut app).await;
    attiva(&app, &iuv, "100.00").await;
    // The RT names the payer's email.
    let rt = rt_xml(&iuv, CCP, 0, &[10_000]).replace(
        "</pay_i:soggettoPagatore>",
        "<pay_i:e-mailPagatore>mario.rossi@example.it</pay_i:e-mailPagatore></pay_i:soggettoPagatore>",
    );
    assert!(rt.contains("e-mailPagatore"));
    let i = &app.config.intermediario;
    let h = IntestazionePPT {
        id_intermediario_pa: i.id_intermediario_pa.clone(),
        id_stazione: i.id_stazione.clone(),
        id_dominio: ENTE.into(),
        iuv: iuv.clone(),
        ccp: CCP.into(),
    };
    let env = write_envelope(
        Some(&h.write()),
        &PaaInviaRT {
            tipo_firma: None,
            rt: Base64Doc(rt.clone().into_bytes()),
        }
        .write(),
    );
    let (s, body) = app.soap_post("/ricevute", "paaInviaRT", &env).await;
    assert_eq!(s, 200);
    assert!(body.contains("<esito>OK</esito>"), "{body}");
    // SMTP down: the job is retried, not lost.
    assert!(
        eventually(10, async || job(&app, "rtEmail").await["attempts"]
            .as_i64()
            .unwrap_or(0)
            >= 1)
        .await
    );
    assert_eq!(job(&app, "rtEmail").await["stato"], "PENDING");
    let l = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .unwrap();
    let sink = SmtpSink::default();
    sink.serve(l);
    assert!(
        eventually(20, async || !sink.mails.lock().unwrap().is_empty()).await,
        "email delivered once the server is up"
    );
    assert!(eventually(5, async || job(&app, "rtEmail").await["stato"] == "DONE").await);
    let mails = sink.mails.lock().unwrap().clone();
    assert_eq!(mails.len(), 1);
    let m = &mails[0];
    assert_eq!(m.rcpt, ["mario.rossi@example.it"]);
    assert_eq!(m.from, format!("<{}>", app.config.mail.from));
    assert!(m.data.contains(&format!("IUV {iuv}")), "{}", m.data);
    assert!(
        m.data.contains(&format!(
            "=\"RT_{ENTE}_{iuv}.xml\"\r\nContent-Type: application/xml"
        )),
        "{}",
        m.data
    );
    assert!(
        m.data.contains(&format!(
            "=\"RT_{ENTE}_{iuv}.html\"\r\nContent-Type: text/html"
        )),
        "{}",
        m.data
    );
}

#[tokio::test]
async fn positive_rt_is_emailed_with_both_attachments_even_when_smtp_was_down_sqlite() {
    positive_rt_is_emailed_with_both_attachments_even_when_smtp_was_down(Backend::Sqlite).await
}
#[tokio::test]
async fn positive_rt_is_emailed_with_both_attachments_even_when_smtp_was_down_postgres() {
    positive_rt_is_emailed_with_both_attachments_even_when_smtp_was_down(Backend::Postgres).await
}

async fn a_nodo_that_does_not_answer_in_time_is_asked_again_after_the_backoff(backend: Backend) {
    let (mut app, nodo) = gateway(backend, 1).await;
    // Longer than nodo.read_timeout_ms (200 ms): the first attempt gives up.
    *nodo.delay_next.lock().unwrap() = Some((
        "nodoInviaRPT".into(),
        std::time::Duration::from_millis(1_500),
    ));
    let iuv = setup(&mut app).await;
    attiva(&app, &iuv, "100.00").await;
    assert!(rpt_sent(&app, &iuv, 20).await, "sent on the retry");
    let journal = journal_with(&app, 2).await;
    let outcomes = outcomes(&journal);
    assert!(outcomes.contains(&"TRANSPORT"), "{journal}");
    let j = job(&app, "nodoInviaRPT").await;
    assert_eq!(
        (j["stato"].as_str(), j["attempts"].as_i64()),
        (Some("DONE"), Some(2)),
        "{j}"
    );
}

#[tokio::test]
async fn a_nodo_that_does_not_answer_in_time_is_asked_again_sqlite() {
    a_nodo_that_does_not_answer_in_time_is_asked_again_after_the_backoff(Backend::Sqlite).await
}
#[tokio::test]
async fn a_nodo_that_does_not_answer_in_time_is_asked_again_postgres() {
    a_nodo_that_does_not_answer_in_time_is_asked_again_after_the_backoff(Backend::Postgres).await
}

async fn the_nodo_is_reached_through_the_configured_proxy(backend: Backend) {
    let (nodo, listener, addr) = FakeNodo::bind().await;
    let (proxy, proxy_addr) = FakeProxy::start().await;
    let mut app = TestApp::spawn_with(backend, |c| {
        c.nodo.url = Some(format!("https://localhost:{}/nodo", addr.port()));
        c.nodo.proxy = Some(format!("http://{proxy_addr}"));
        c.outbox.poll_ms = 50;
    })
    .await;
    nodo.serve(listener, &app.config.pa_soap.dev_pki_dir);
    let iuv = setup(&mut app).await;
    attiva(&app, &iuv, "100.00").await;
    assert!(rpt_sent(&app, &iuv, 10).await, "sent through the proxy");
    assert_eq!(nodo.received("nodoInviaRPT").len(), 1);
    let tunnels = proxy.tunnels.lock().unwrap().clone();
    let target = format!("localhost:{}", addr.port());
    assert!(
        !tunnels.is_empty() && tunnels.iter().all(|t| *t == target),
        "{tunnels:?}"
    );
}

#[tokio::test]
async fn the_nodo_is_reached_through_the_configured_proxy_sqlite() {
    the_nodo_is_reached_through_the_configured_proxy(Backend::Sqlite).await
}
#[tokio::test]
async fn the_nodo_is_reached_through_the_configured_proxy_postgres() {
    the_nodo_is_reached_through_the_configured_proxy(Backend::Postgres).await
}

/// The registry is the one source of the intermediary: after `PUT /api/v1/intermediario`
/// (a new station password) the Nodo client sends the new password, on every instance
/// within the registry cache's 5 s, although the configuration still holds the old one.
async fn the_nodo_client_sends_the_intermediary_of_the_registry(backend: Backend) {
    let (mut app, nodo) = gateway(backend, 1).await;
    let iuv = setup(&mut app).await;
    let i = app.config.intermediario.clone();
    let (s, b) = app
        .put(
            "/api/v1/intermediario",
            ADMIN,
            serde_json::json!({"id_intermediario_pa": i.id_intermediario_pa, "id_stazione": i.id_stazione, "password": "nuovaPass1"}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_ne!(i.password, "nuovaPass1");
    // Past the registry cache's time-to-live.
    tokio::time::sleep(std::time::Duration::from_millis(5_200)).await;
    assert_eq!(attiva(&app, &iuv, "100.00").await.esito.as_str(), "OK");
    assert!(rpt_sent(&app, &iuv, 20).await, "RPT sent");
    let sent = nodo.received("nodoInviaRPT");
    let env = read_envelope(sent[0].body.as_bytes(), Limits::MESSAGE).unwrap();
    assert_eq!(
        NodoInviaRPT::parse(env.body.xml).unwrap().password,
        "nuovaPass1"
    );
}

#[tokio::test]
async fn the_nodo_client_sends_the_intermediary_of_the_registry_sqlite() {
    the_nodo_client_sends_the_intermediary_of_the_registry(Backend::Sqlite).await
}
#[tokio::test]
async fn the_nodo_client_sends_the_intermediary_of_the_registry_postgres() {
    the_nodo_client_sends_the_intermediary_of_the_registry(Backend::Postgres).await
}
