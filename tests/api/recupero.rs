//! Recovery of RPTs without RT (SANP 2.1 "casi di errore") against the fake Nodo: a lost
//! RT is fetched with nodoChiediCopiaRT and applied like a delivered one; an RPT the Nodo
//! does not know is sent again; an attempt closed without payment frees the dovuto; one in
//! progress is left to be checked again.

use crate::fakes::*;
use crate::helpers::*;
use crate::pa_invia_rt::rt_xml;
use axum::http::StatusCode;
use pagopa_gateway::model::StatoDovuto;
use pagopa_gateway::node_client::NodoClient;
use pagopa_gateway::pagamenti::{DaPagare, RichiestaCarrello, checkout};
use pagopa_gateway::store::cache::RegistryCache;
use std::time::Duration;

const A: &str = "80007580279";

async fn recovery_follows_the_state_the_nodo_reports(backend: Backend) {
    let (nodo, listener, addr) = FakeNodo::bind().await;
    let mut app = TestApp::spawn_with(backend, |c| {
        c.nodo.url = Some(format!("https://localhost:{}/nodo", addr.port()));
        c.nodo.read_timeout_ms = 200;
        c.outbox.poll_ms = 50;
    })
    .await;
    nodo.serve(listener, &app.config.pa_soap.dev_pki_dir);
    app.seed_ente(A, "c_a", 1).await;
    app.start();
    let client = NodoClient::from_config(&app.config, None).unwrap();
    let store = app.store();
    // Four portal payments, each sent and then silent.
    let mut carts = Vec::new();
    for iud in ["LOST", "UNKNOWN", "KO", "BUSY"] {
        let (s, d) = app
            .post(
                &format!("/api/v1/enti/{A}/dovuti"),
                ADMIN,
                dovuto_json(iud, "10.00"),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED);
        let iuv = d["iuv"].as_str().unwrap().to_owned();
        let req = RichiestaCarrello {
            dovuti: vec![DaPagare {
                id_dominio: A.into(),
                iuv: iuv.clone(),
            }],
            email_login: None,
            multi_beneficiario: false,
        };
        let e = checkout(&store, &RegistryCache::default(), &client, &req)
            .await
            .unwrap();
        assert_eq!(e.stato.as_str(), "INVIATO");
        carts.push((iud, iuv, e.id_carrello));
    }
    let rt = rt_xml(&carts[0].1, &carts[0].2, 0, &[1_000]);
    let answers = [
        (
            "nodoChiediStatoRPT",
            &carts[0].1,
            stato_rpt("RT_ACCETTATA_NODO"),
        ),
        ("nodoChiediCopiaRT", &carts[0].1, copia_rt(rt.as_bytes())),
        (
            "nodoChiediStatoRPT",
            &carts[1].1,
            stato_rpt_fault("PPT_RPT_SCONOSCIUTA"),
        ),
        (
            "nodoChiediStatoRPT",
            &carts[2].1,
            stato_rpt("RPT_RIFIUTATA_PSP"),
        ),
        (
            "nodoChiediStatoRPT",
            &carts[3].1,
            stato_rpt("RPT_ACCETTATA_PSP"),
        ),
    ];
    for (op, iuv, r) in answers {
        nodo.by_iuv
            .lock()
            .unwrap()
            .push((op.into(), iuv.clone(), r));
    }
    // Not yet due: nothing planned.
    let long_ago = time::OffsetDateTime::now_utc() - Duration::from_secs(3600);
    assert_eq!(
        store
            .pagamenti()
            .plan_recuperi(long_ago, 100)
            .await
            .unwrap(),
        0
    );
    // Two seconds later, with a one-second recovery period: all four are due, once.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let before = time::OffsetDateTime::now_utc() - Duration::from_secs(1);
    assert_eq!(
        store.pagamenti().plan_recuperi(before, 100).await.unwrap(),
        4
    );
    assert_eq!(
        store.pagamenti().plan_recuperi(before, 100).await.unwrap(),
        0,
        "each checked once per period"
    );
    let done = async || {
        let (_, p) = app
            .get("/api/v1/outbox?kind=recuperoRT&stato=DONE", ADMIN)
            .await;
        p["total"] == 4
    };
    assert!(eventually(20, done).await);
    // The lost RT, fetched and applied exactly as a delivery: paid, stored, emailed.
    assert_eq!(
        store.dovuti().get(A, "LOST").await.unwrap().stato,
        StatoDovuto::Pagato
    );
    let (_, rts) = app.get("/api/v1/rt?stato=ELABORATA", ADMIN).await;
    assert_eq!(rts["total"], 1);
    let (_, mail) = app.get("/api/v1/outbox?kind=rtEmail", ADMIN).await;
    assert_eq!(mail["total"], 1);
    // Unknown to the Nodo: the same cart (same IUV, same CCP) is sent again.
    let unknown = &carts[1];
    assert!(
        eventually(10, async || nodo
            .received("nodoInviaCarrelloRPT")
            .iter()
            .filter(|r| r.body.contains(&unknown.2))
            .count()
            == 2)
        .await
    );
    assert!(
        eventually(10, async || pagopa_gateway::pagamenti::stato(
            &store, &unknown.2
        )
        .await
        .unwrap()
        .stato
        .as_str()
            == "INVIATO")
        .await
    );
    // Closed without payment: payable again.
    assert_eq!(
        store.dovuti().get(A, "KO").await.unwrap().stato,
        StatoDovuto::DaPagare
    );
    // In progress: untouched.
    assert_eq!(
        store.dovuti().get(A, "BUSY").await.unwrap().stato,
        StatoDovuto::PagamentoIniziato
    );
    let copia = "/api/v1/journal?operation=nodoChiediCopiaRT";
    assert!(
        eventually(10, async || app.get(copia, ADMIN).await.1["total"].as_i64()
            >= Some(1))
        .await
    );
    let (_, j) = app.get(copia, ADMIN).await;
    assert_eq!(j["items"][0]["direction"], "OUT");
    // The Nodo's list of pending RPTs: ours in progress gets a check now, an RPT we have
    // no record of is reported as an orphan.
    let busy = &carts[3];
    nodo.script.lock().unwrap().push_back(lista_pendenti(&[
        (A, &busy.1, &busy.2, "RPT_ACCETTATA_PSP"),
        (A, "01999999999999999", "ORFANA", "RPT_ACCETTATA_NODO"),
    ]));
    let id = store
        .outbox()
        .enqueue_payload("pendenti", None, A)
        .await
        .unwrap();
    assert!(
        eventually(20, async || store
            .outbox()
            .get(id)
            .await
            .unwrap()
            .stato
            .as_str()
            == "DONE")
        .await
    );
    let result = store.outbox().get(id).await.unwrap().result.unwrap();
    assert!(
        result.contains(&format!("orfane: [{A}/01999999999999999/ORFANA]")),
        "{result}"
    );
    let (_, checks) = app.get("/api/v1/outbox?kind=recuperoRT", ADMIN).await;
    assert_eq!(checks["total"], 5, "one more check for the RPT in progress");
    // An operator asks for it too.
    let key = serde_json::json!({"id_dominio": A, "iuv": busy.1, "ccp": busy.2});
    let (s, j) = app.post("/api/v1/rt/richiedi-copia", ADMIN, key).await;
    assert_eq!(s, StatusCode::ACCEPTED, "{j}");
    let (_, checks) = app.get("/api/v1/outbox?kind=recuperoRT", ADMIN).await;
    assert_eq!(checks["total"], 6);
    let unknown = serde_json::json!({"id_dominio": A, "iuv": busy.1, "ccp": "NOPE"});
    assert_eq!(
        app.post("/api/v1/rt/richiedi-copia", ADMIN, unknown)
            .await
            .0,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn recovery_follows_the_state_the_nodo_reports_sqlite() {
    recovery_follows_the_state_the_nodo_reports(Backend::Sqlite).await
}
#[tokio::test]
async fn recovery_follows_the_state_the_nodo_reports_postgres() {
    recovery_follows_the_state_the_nodo_reports(Backend::Postgres).await
}
