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

crate::both_backends!(
    a_flow_breaking_schema_facets_is_read_leniently_and_its_deviations_recorded,
    |app| {
        app.seed_ente(A, "c_a", 1).await;
        let lungo_iur = "IUR".repeat(14);
        let xml = String::from_utf8(flusso_xml("F-DEV", "2026-11-28T06:00:00", A, 3, None))
            .unwrap()
            // What a sender writes when it puts the transfer's causale in the settlement id.
            .replace(
                "<pay_i:identificativoUnivocoRegolamento>TRN0000000000000001<",
                "<pay_i:identificativoUnivocoRegolamento>/PUR/LGPE-RIVERSAMENTO/URI/2026-11-27ABCDITMMXXX-F-DEV<",
            )
            .replacen("<pay_i:singoloImportoPagato>10.00<", "<pay_i:singoloImportoPagato>10.0<", 2)
            .replacen(
                "<pay_i:identificativoUnivocoRiscossione>IUR000000000000<",
                &format!("<pay_i:identificativoUnivocoRiscossione>{lungo_iur}<"),
                1,
            );
        let (s, _, b) = app
            .raw(
                axum::http::Method::POST,
                &format!("/api/v1/enti/{A}/flussi"),
                Some(ADMIN),
                "application/xml",
                xml.into_bytes(),
            )
            .await;
        let r: serde_json::Value = serde_json::from_slice(&b).unwrap();
        // Kept and usable: the totals add up, so the flow is ACQUISITO.
        assert_eq!(
            (s, r["stato"].as_str()),
            (StatusCode::OK, Some("ACQUISITO")),
            "{r}"
        );
        let dev = r["deviazioni"].as_str().unwrap();
        for atteso in [
            "identificativoUnivocoRegolamento: oltre 35 caratteri (maxLength 35) ('/PUR/LGPE-RIVERSAMENTO/URI/2026-11-27ABCDITMMXXX-F-DEV')",
            &format!(
                "datiSingoliPagamenti/identificativoUnivocoRiscossione: oltre 35 caratteri (maxLength 35) ('{lungo_iur}')"
            ),
            "datiSingoliPagamenti/singoloImportoPagato: non nel formato \\d+\\.\\d{2} ('10.0', 2 volte)",
        ] {
            assert!(dev.contains(atteso), "{atteso} not in {dev}");
        }
        assert_eq!(dev.matches("; ").count(), 2, "{dev}");
        // The flow list shows the sender and what it breaks.
        let (_, p) = app.get("/api/v1/flussi?per_page=10", ADMIN).await;
        let f = &p["items"][0];
        assert_eq!(
            (
                f["id_flusso"].as_str(),
                f["psp"].as_str(),
                f["deviazioni"].as_str()
            ),
            (Some("F-DEV"), Some("ABCDITMMXXX"), Some(dev)),
            "{p}"
        );
        // Counted per field.
        let (_, _, m) = app
            .raw(
                axum::http::Method::GET,
                "/metrics",
                None,
                "text/plain",
                Vec::new(),
            )
            .await;
        let m = String::from_utf8(m.to_vec()).unwrap();
        assert!(
            m.lines().any(|l| l.starts_with(
                "pagopa_gateway_flow_schema_deviations_total{campo=\"identificativoUnivocoRegolamento\"}"
            )),
            "{m}"
        );
        // A flow that keeps to the schema records nothing.
        let (s, _, b) = app
            .raw(
                axum::http::Method::POST,
                &format!("/api/v1/enti/{A}/flussi"),
                Some(ADMIN),
                "application/xml",
                flusso_xml("F-OK", "2026-11-28T06:00:00", A, 2, None),
            )
            .await;
        let r: serde_json::Value = serde_json::from_slice(&b).unwrap();
        assert_eq!(
            (s, &r["deviazioni"]),
            (StatusCode::OK, &serde_json::Value::Null),
            "{r}"
        );
    }
);
