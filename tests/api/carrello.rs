//! Carts from the portal through the node client to a fake Nodo over mutual TLS: valid
//! requests, the redirect URL back, multi-beneficiary rules enforced before sending,
//! refusals that leave the dovuti payable, transient faults retried by the outbox, and
//! the RT email in CC to the login address.

use crate::fakes::*;
use crate::helpers::*;
use crate::pa_invia_rt::rt_xml;
use crate::xsd::{assert_valid, wsdl_schema, xsd};
use axum::http::StatusCode;
use pagopa_gateway::model::StatoDovuto;
use pagopa_gateway::node_client::NodoClient;
use pagopa_gateway::pagamenti::{CarrelloError, DaPagare, RichiestaCarrello, checkout};
use pagopa_gateway::soap::sanp2::{
    Base64Doc, IntestazioneCarrelloPPT, IntestazionePPT, NodoInviaCarrelloRPT, PaaInviaRT,
};
use pagopa_gateway::soap::{NS_PPT, read_envelope, write_envelope};
use pagopa_gateway::store::cache::RegistryCache;
use pagopa_gateway::xml::Limits;

const A: &str = "80007580279";
const B: &str = "00000000000";

async fn gateway(backend: Backend, smtp_port: u16) -> (TestApp, FakeNodo) {
    gateway_with(backend, smtp_port, |_| {}).await
}

async fn gateway_with(
    backend: Backend,
    smtp_port: u16,
    tweak: impl FnOnce(&mut pagopa_gateway::config::Config),
) -> (TestApp, FakeNodo) {
    let (nodo, listener, addr) = FakeNodo::bind().await;
    let mut app = TestApp::spawn_with(backend, |c| {
        tweak(c);
        c.nodo.url = Some(format!("https://localhost:{}/nodo", addr.port()));
        c.nodo.read_timeout_ms = 2_000;
        c.outbox.poll_ms = 50;
        c.mail.transport = "smtp".into();
        c.mail.smtp_host = "127.0.0.1".into();
        c.mail.smtp_port = smtp_port;
        c.mail.smtp_tls = "none".into();
    })
    .await;
    nodo.serve(listener, &app.config.pa_soap.dev_pki_dir);
    app.seed_ente(A, "c_a", 1).await;
    // Each ente its own segregation code, as in a region.
    app.seed_ente(B, "c_b", 2).await;
    app.start();
    (app, nodo)
}

async fn dovuto(app: &TestApp, ente: &str, iud: &str, extra: serde_json::Value) -> String {
    let mut d = dovuto_json(iud, "10.00");
    for (k, v) in extra.as_object().unwrap() {
        d[k] = v.clone();
    }
    let (s, b) = app
        .post(&format!("/api/v1/enti/{ente}/dovuti"), ADMIN, d)
        .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    b["iuv"].as_str().unwrap().to_owned()
}

async fn pay(
    app: &TestApp,
    dovuti: &[(&str, &str)],
    multi: bool,
    login: Option<&str>,
) -> Result<pagopa_gateway::pagamenti::EsitoCarrello, CarrelloError> {
    let nodo = NodoClient::from_config(&app.config, None).unwrap();
    let req = RichiestaCarrello {
        dovuti: dovuti
            .iter()
            .map(|(d, i)| DaPagare {
                id_dominio: d.to_string(),
                iuv: i.to_string(),
            })
            .collect(),
        email_login: login.map(str::to_owned),
        multi_beneficiario: multi,
    };
    checkout(&app.store(), &RegistryCache::default(), &nodo, &req).await
}

/// Whether cart `id` reaches `stato` within 20 s.
async fn cart_reaches(app: &TestApp, id: &str, stato: &str) -> bool {
    let store = app.store();
    eventually(20, async || {
        pagopa_gateway::pagamenti::stato(&store, id)
            .await
            .is_ok_and(|c| c.stato.as_str() == stato)
    })
    .await
}

async fn stato(app: &TestApp, ente: &str, iud: &str) -> StatoDovuto {
    app.store().dovuti().get(ente, iud).await.unwrap().stato
}

/// The request the fake received: valid against NodoPerPa, every RPT against PagInf 6.2.0.
fn sent_cart(nodo: &FakeNodo) -> (IntestazioneCarrelloPPT, NodoInviaCarrelloRPT) {
    let sent = nodo.received("nodoInviaCarrelloRPT");
    let env = read_envelope(sent.last().unwrap().body.as_bytes(), Limits::MESSAGE).unwrap();
    assert_valid(
        &wsdl_schema("NodoPerPa.wsdl", NS_PPT),
        &[env.body.xml.to_owned()],
    );
    let body = NodoInviaCarrelloRPT::parse(env.body.xml).unwrap();
    let rpts: Vec<String> = body
        .lista_rpt
        .iter()
        .map(|e| String::from_utf8(e.rpt.0.clone()).unwrap())
        .collect();
    assert_valid(&xsd("PagInf_RPT_RT_6_2_0.xsd"), &rpts);
    // Italian local time without a zone, as the Nodo reads it.
    for r in &rpts {
        let at = r
            .split("<pay_i:dataOraMessaggioRichiesta>")
            .nth(1)
            .and_then(|t| t.split('<').next())
            .unwrap();
        assert_eq!(at.len(), 19, "{at}");
    }
    (
        IntestazioneCarrelloPPT::parse(env.headers[0].xml).unwrap(),
        body,
    )
}

async fn five_dovuti_of_two_enti_go_as_one_cart_and_the_url_comes_back(backend: Backend) {
    let (app, nodo) = gateway(backend, 1).await;
    nodo.script
        .lock()
        .unwrap()
        .push_back(carrello_ok("https://checkout.example/c?idSession=42"));
    let mut keys = Vec::new();
    for (ente, iud) in [(A, "A1"), (A, "A2"), (A, "A3"), (B, "B1"), (B, "B2")] {
        keys.push((ente, dovuto(&app, ente, iud, serde_json::json!({})).await));
    }
    let refs: Vec<(&str, &str)> = keys.iter().map(|(e, i)| (*e, i.as_str())).collect();
    let esito = pay(&app, &refs, false, None).await.unwrap();
    assert_eq!(
        (esito.stato.as_str(), esito.url.as_deref()),
        ("INVIATO", Some("https://checkout.example/c?idSession=42"))
    );
    let (h, body) = sent_cart(&nodo);
    assert_eq!(h.id_carrello, esito.id_carrello);
    assert_eq!(h.id_carrello.len(), 35);
    assert_eq!(
        (body.id_psp.as_str(), body.id_canale.as_str()),
        ("AGID_01", "97735020584_02")
    );
    assert_eq!(body.lista_rpt.len(), 5);
    assert!(body.lista_rpt.iter().all(|e| e.ccp == esito.id_carrello));
    assert!(
        body.lista_rpt
            .iter()
            .all(|e| String::from_utf8_lossy(&e.rpt.0).contains("<pay_i:tipoVersamento>BBT<"))
    );
    assert_eq!(body.multi_beneficiario, None);
    for (ente, iud) in [(A, "A1"), (B, "B2")] {
        assert_eq!(stato(&app, ente, iud).await, StatoDovuto::PagamentoIniziato);
    }
    // A dovuto in payment cannot go in another cart.
    let again = pay(&app, &refs[..1], false, None).await.unwrap_err();
    assert!(
        matches!(&again, CarrelloError::NonPagabile { codice, .. } if codice == "PAA_PAGAMENTO_IN_CORSO"),
        "{again:?}"
    );
    assert_eq!(nodo.received("nodoInviaCarrelloRPT").len(), 1);
}

#[tokio::test]
async fn five_dovuti_of_two_enti_go_as_one_cart_and_the_url_comes_back_sqlite() {
    five_dovuti_of_two_enti_go_as_one_cart_and_the_url_comes_back(Backend::Sqlite).await
}
#[tokio::test]
async fn five_dovuti_of_two_enti_go_as_one_cart_and_the_url_comes_back_postgres() {
    five_dovuti_of_two_enti_go_as_one_cart_and_the_url_comes_back(Backend::Postgres).await
}

async fn multi_beneficiary_cart_is_sent_by_the_rules_and_violations_are_refused_before_sending(
    backend: Backend,
) {
    let (app, nodo) = gateway(backend, 1).await;
    let iuv = dovuto(&app, A, "P", serde_json::json!({})).await;
    // B's own segregation code is 2: A's IUV is refused as B's own, taken as a share of
    // A's position, and a share of a position A does not hold is refused.
    let mut d = dovuto_json("S", "10.00");
    d["iuv"] = iuv.clone().into();
    let (s, b) = app
        .post(&format!("/api/v1/enti/{B}/dovuti"), ADMIN, d.clone())
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{b}");
    assert!(
        b["detail"].as_str().unwrap().contains("segregazione 02"),
        "{b}"
    );
    let mut altrove = d.clone();
    altrove["ente_primario"] = A.into();
    let last = if iuv.ends_with('0') { '1' } else { '0' };
    altrove["iuv"] = format!("{}{last}", &iuv[..16]).into();
    let (s, b) = app
        .post(&format!("/api/v1/enti/{B}/dovuti"), ADMIN, altrove)
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{b}");
    let sec = dovuto(
        &app,
        B,
        "S",
        serde_json::json!({"iuv": iuv, "ente_primario": A}),
    )
    .await;
    assert_eq!(sec, iuv);
    let share = app.store().dovuti().get(B, "S").await.unwrap();
    assert_eq!(
        share.numero_avviso, None,
        "a share is paid through A's notice"
    );
    let other = dovuto(&app, B, "O", serde_json::json!({})).await;
    // Violations: three RPTs, two different IUVs, the same ente twice. Nothing sent.
    for bad in [
        vec![(A, iuv.as_str()), (B, iuv.as_str()), (B, other.as_str())],
        vec![(A, iuv.as_str()), (B, other.as_str())],
    ] {
        let e = pay(&app, &bad, true, None).await.unwrap_err();
        assert!(matches!(e, CarrelloError::Regola(_)), "{e:?}");
    }
    assert!(nodo.received("nodoInviaCarrelloRPT").is_empty());
    assert_eq!(stato(&app, A, "P").await, StatoDovuto::DaPagare);
    nodo.script
        .lock()
        .unwrap()
        .push_back(carrello_ok("https://checkout.example/m"));
    let esito = pay(&app, &[(A, &iuv), (B, &iuv)], true, None)
        .await
        .unwrap();
    let avviso = app
        .store()
        .dovuti()
        .get(A, "P")
        .await
        .unwrap()
        .numero_avviso
        .unwrap()
        .to_string();
    assert_eq!(esito.id_carrello, format!("{A}{avviso}-00001"));
    let (h, body) = sent_cart(&nodo);
    assert_eq!(h.id_carrello, esito.id_carrello);
    assert_eq!(body.multi_beneficiario, Some(true));
    let doms: Vec<&str> = body
        .lista_rpt
        .iter()
        .map(|e| e.id_dominio.as_str())
        .collect();
    assert_eq!(doms, [A, B], "the primary ente first");
    assert!(
        body.lista_rpt
            .iter()
            .all(|e| e.iuv == iuv && e.ccp == esito.id_carrello)
    );
}

#[tokio::test]
async fn multi_beneficiary_cart_follows_the_rules_sqlite() {
    multi_beneficiary_cart_is_sent_by_the_rules_and_violations_are_refused_before_sending(
        Backend::Sqlite,
    )
    .await
}
#[tokio::test]
async fn multi_beneficiary_cart_follows_the_rules_postgres() {
    multi_beneficiary_cart_is_sent_by_the_rules_and_violations_are_refused_before_sending(
        Backend::Postgres,
    )
    .await
}

async fn refused_cart_frees_its_dovuti_and_a_transient_fault_is_retried_then_the_rt_is_emailed_in_cc(
    backend: Backend,
) {
    let (sink_listener, port) = {
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let p = l.local_addr().unwrap().port();
        (l, p)
    };
    let sink = SmtpSink::default();
    sink.serve(sink_listener);
    let (app, nodo) = gateway(backend, port).await;
    let iuv = dovuto(&app, A, "R", serde_json::json!({})).await;
    nodo.script
        .lock()
        .unwrap()
        .push_back(carrello_fault("PPT_IBAN_NON_CENSITO"));
    let e = pay(&app, &[(A, &iuv)], false, None).await.unwrap_err();
    match &e {
        CarrelloError::Rifiutato(n) => assert_eq!(n.fault_code(), Some("PPT_IBAN_NON_CENSITO")),
        other => panic!("{other:?}"),
    }
    assert_eq!(
        stato(&app, A, "R").await,
        StatoDovuto::DaPagare,
        "payable again"
    );
    // Transient: the checkout answers CREATO and the outbox sends it on.
    nodo.script
        .lock()
        .unwrap()
        .push_back(carrello_fault("PPT_SYSTEM_ERROR"));
    let esito = pay(&app, &[(A, &iuv)], false, Some("login@example.org"))
        .await
        .unwrap();
    assert_eq!(esito.stato.as_str(), "CREATO");
    let id = esito.id_carrello.clone();
    assert!(cart_reaches(&app, &id, "INVIATO").await);
    assert_eq!(nodo.received("nodoInviaCarrelloRPT").len(), 3);
    // The RT arrives; the email goes to the payer with the login address in CC.
    let i = &app.config.intermediario;
    let h = IntestazionePPT {
        id_intermediario_pa: i.id_intermediario_pa.clone(),
        id_stazione: i.id_stazione.clone(),
        id_dominio: A.into(),
        iuv: iuv.clone(),
        ccp: id.clone(),
    };
    let rt = rt_xml(&iuv, &id, 0, &[1_000]);
    let env = write_envelope(
        Some(&h.write()),
        &PaaInviaRT {
            tipo_firma: None,
            rt: Base64Doc(rt.into_bytes()),
        }
        .write(),
    );
    let (s, body) = app.soap_post("/ricevute", "paaInviaRT", &env).await;
    assert!(s == 200 && body.contains("<esito>OK</esito>"), "{body}");
    assert_eq!(stato(&app, A, "R").await, StatoDovuto::Pagato);
    assert!(eventually(20, async || !sink.mails.lock().unwrap().is_empty()).await);
    let m = sink.mails.lock().unwrap()[0].clone();
    assert_eq!(m.rcpt, ["mario@example.org", "login@example.org"]);
    assert!(m.data.contains("Cc: login@example.org"), "{}", m.data);
    // An operator has the receipt sent again; another ente's operator cannot.
    let (_, rts) = app.get("/api/v1/rt?stato=ELABORATA", ADMIN).await;
    let rt_id = rts["items"][0]["id"].as_i64().unwrap();
    let other = app.operator_key(B).await;
    let (s, _) = app
        .post(
            &format!("/api/v1/rt/{rt_id}/reinvia-email"),
            &other,
            serde_json::json!({}),
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let own = app.operator_key(A).await;
    let (s, _) = app
        .post(
            &format!("/api/v1/rt/{rt_id}/reinvia-email"),
            &own,
            serde_json::json!({}),
        )
        .await;
    assert_eq!(s, StatusCode::ACCEPTED);
    assert!(eventually(20, async || sink.mails.lock().unwrap().len() == 2).await);
}

#[tokio::test]
async fn refused_cart_frees_its_dovuti_transient_fault_retried_rt_emailed_in_cc_sqlite() {
    refused_cart_frees_its_dovuti_and_a_transient_fault_is_retried_then_the_rt_is_emailed_in_cc(
        Backend::Sqlite,
    )
    .await
}
#[tokio::test]
async fn refused_cart_frees_its_dovuti_transient_fault_retried_rt_emailed_in_cc_postgres() {
    refused_cart_frees_its_dovuti_and_a_transient_fault_is_retried_then_the_rt_is_emailed_in_cc(
        Backend::Postgres,
    )
    .await
}

/// A cart whose send keeps failing transiently ends RIFIUTATO when the outbox gives up, and
/// its dovuti are payable again (they stayed PAGAMENTO_INIZIATO, the PSP told "in corso").
async fn a_cart_the_nodo_never_takes_ends_refused_and_frees_its_dovuti(backend: Backend) {
    let (app, nodo) = gateway_with(backend, 1, |c| c.outbox.max_attempts = 2).await;
    let iuv = dovuto(&app, A, "S", serde_json::json!({})).await;
    for _ in 0..2 {
        nodo.script
            .lock()
            .unwrap()
            .push_back(carrello_fault("PPT_SYSTEM_ERROR"));
    }
    let esito = pay(&app, &[(A, &iuv)], false, None).await.unwrap();
    // CREATO, the dovuto PAGAMENTO_INIZIATO: the outbox takes the send on (and may already
    // have, 200 ms later, so the dovuto is not checked here).
    assert_eq!(esito.stato.as_str(), "CREATO");
    let store = app.store();
    let id = esito.id_carrello.clone();
    assert!(
        cart_reaches(&app, &id, "RIFIUTATO").await,
        "the cart ends refused"
    );
    assert_eq!(
        nodo.received("nodoInviaCarrelloRPT").len(),
        2,
        "two attempts"
    );
    assert_eq!(stato(&app, A, "S").await, StatoDovuto::DaPagare);
    // The job is marked DEAD by the outbox after its handler refused the cart: wait for it.
    let morti = async || {
        store
            .outbox()
            .list(Some("DEAD"), Some("nodoInviaCarrelloRPT"), 10, 0)
            .await
            .unwrap()
            .0
            .len()
    };
    assert!(
        eventually(10, async || morti().await == 1).await,
        "a dead letter for the operator"
    );
    // Payable again: a new cart for the same dovuto goes through.
    let again = pay(&app, &[(A, &iuv)], false, None).await.unwrap();
    assert_eq!(again.stato.as_str(), "INVIATO");
}

#[tokio::test]
async fn a_cart_the_nodo_never_takes_ends_refused_and_frees_its_dovuti_sqlite() {
    a_cart_the_nodo_never_takes_ends_refused_and_frees_its_dovuti(Backend::Sqlite).await
}
#[tokio::test]
async fn a_cart_the_nodo_never_takes_ends_refused_and_frees_its_dovuti_postgres() {
    a_cart_the_nodo_never_takes_ends_refused_and_frees_its_dovuti(Backend::Postgres).await
}
