//! Reporting flows from the fake Nodo: every listed flow not yet stored is downloaded and
//! kept with what reading it found; a re-sent newer version is downloaded again; an
//! inconsistent flow, an unknown id and a flow for an ente we do not serve are each
//! recorded, none stops the others.

use crate::fakes::*;
use crate::helpers::*;
use axum::http::StatusCode;

const A: &str = "80007580279";

async fn flows_are_downloaded_once_per_version_and_problems_recorded(backend: Backend) {
    let (nodo, listener, addr) = FakeNodo::bind().await;
    let mut app = TestApp::spawn_with(backend, |c| {
        c.nodo.url = Some(format!("https://localhost:{}/nodo", addr.port()));
        c.outbox.poll_ms = 50;
    })
    .await;
    nodo.serve(listener, &app.config.pa_soap.dev_pki_dir);
    app.seed_ente(A, "c_a", 1).await;
    app.start();
    let t1 = "2026-11-28T06:00:00";
    let keyed = [
        (
            "F-OK",
            flusso_risposta(Some(&flusso_xml("F-OK", t1, A, 3, None)), None),
        ),
        (
            "F-SOMMA",
            flusso_risposta(Some(&flusso_xml("F-SOMMA", t1, A, 2, Some(99_999))), None),
        ),
        (
            "F-IGNOTO",
            flusso_risposta(None, Some("PPT_ID_FLUSSO_SCONOSCIUTO")),
        ),
        (
            "F-ALTRO",
            flusso_risposta(
                Some(&flusso_xml("F-ALTRO", t1, "00000000000", 1, None)),
                None,
            ),
        ),
    ];
    for (id, r) in keyed {
        nodo.by_iuv
            .lock()
            .unwrap()
            .push(("nodoChiediFlussoRendicontazione".into(), id.into(), r));
    }
    nodo.script.lock().unwrap().push_back(elenco_flussi(&[
        ("F-OK", t1),
        ("F-SOMMA", t1),
        ("F-IGNOTO", t1),
        ("F-ALTRO", t1),
    ]));
    let (s, b) = app
        .post(
            &format!("/api/v1/enti/{A}/flussi/scarica"),
            ADMIN,
            serde_json::json!({}),
        )
        .await;
    assert_eq!(s, StatusCode::ACCEPTED, "{b}");
    let stored = async |n: i64| {
        let (_, p) = app.get("/api/v1/flussi?per_page=100", ADMIN).await;
        p["total"] == n
    };
    assert!(eventually(20, async || stored(4).await).await);
    let (_, p) = app.get("/api/v1/flussi?per_page=100", ADMIN).await;
    let by_id = |id: &str| {
        p["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["id_flusso"] == id)
            .unwrap()
            .clone()
    };
    assert_eq!(
        (
            by_id("F-OK")["stato"].as_str(),
            by_id("F-OK")["numero_pagamenti"].as_i64(),
            by_id("F-OK")["importo_cents"].as_i64()
        ),
        (Some("ACQUISITO"), Some(3), Some(3_000))
    );
    assert_eq!(by_id("F-SOMMA")["stato"], "ANOMALO");
    assert!(
        by_id("F-SOMMA")["nota"]
            .as_str()
            .unwrap()
            .contains("importoTotalePagamenti")
    );
    assert_eq!(by_id("F-IGNOTO")["stato"], "SCONOSCIUTO");
    assert_eq!(by_id("F-ALTRO")["stato"], "ENTE_NON_SERVITO");
    // The next listing: F-OK again (skipped) and re-sent with a newer dataOraFlusso.
    let t2 = "2026-11-28T09:30:00";
    nodo.by_iuv
        .lock()
        .unwrap()
        .retain(|(_, id, _)| id != "F-OK");
    nodo.by_iuv.lock().unwrap().push((
        "nodoChiediFlussoRendicontazione".into(),
        "F-OK".into(),
        flusso_risposta(Some(&flusso_xml("F-OK", t2, A, 4, None)), None),
    ));
    nodo.script
        .lock()
        .unwrap()
        .push_back(elenco_flussi(&[("F-OK", t1), ("F-OK", t2)]));
    let before = nodo.received("nodoChiediFlussoRendicontazione").len();
    let (s, _) = app
        .post(
            &format!("/api/v1/enti/{A}/flussi/scarica"),
            ADMIN,
            serde_json::json!({}),
        )
        .await;
    assert_eq!(s, StatusCode::ACCEPTED);
    assert!(eventually(20, async || stored(5).await).await);
    assert_eq!(
        nodo.received("nodoChiediFlussoRendicontazione").len(),
        before + 1,
        "only the new version"
    );
    let (_, p) = app.get("/api/v1/flussi?stato=ACQUISITO", ADMIN).await;
    assert_eq!(p["items"][0]["data_ora_flusso"], t2);
    assert_eq!(p["items"][0]["numero_pagamenti"], 4);
    // An ente we do not have: 404, nothing queued.
    let (s, _) = app
        .post(
            "/api/v1/enti/00000000000/flussi/scarica",
            ADMIN,
            serde_json::json!({}),
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn flows_are_downloaded_once_per_version_and_problems_recorded_sqlite() {
    flows_are_downloaded_once_per_version_and_problems_recorded(Backend::Sqlite).await
}
#[tokio::test]
async fn flows_are_downloaded_once_per_version_and_problems_recorded_postgres() {
    flows_are_downloaded_once_per_version_and_problems_recorded(Backend::Postgres).await
}
