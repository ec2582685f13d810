//! The treasurer's journal uploaded by an operator: CSV and OPI read with the IUF / IUV of
//! each causale, per-line rejects, a re-upload that changes nothing, an OPI storno that
//! removes its bolletta, and another ente's operator kept out.

use crate::both_backends;
use crate::helpers::*;
use axum::http::{Method, StatusCode};
use pagopa_gateway::model::Importo;
use pagopa_gateway::sim::tesoreria::{EnteTesoreria, Movimento, csv, opi_xml};

const A: &str = "80007580279";
const IUF: &str = "2026-11-28ABCDITMM-S000000001";

fn movimenti() -> Vec<Movimento> {
    let day = time::Date::from_calendar_date(2026, time::Month::November, 28).unwrap();
    vec![
        Movimento {
            numero: 1,
            data: day,
            importo: Importo::from_cents(52_420).unwrap(),
            ordinante: "PAGOPA SPA".into(),
            causale: format!("/PUR/LGPE-RIVERSAMENTO/URI/{IUF}"),
        },
        Movimento {
            numero: 2,
            data: day,
            importo: Importo::from_cents(1_000).unwrap(),
            ordinante: "ROSSI".into(),
            causale: "/RFB/01000000000000144/10.00".into(),
        },
        Movimento {
            numero: 3,
            data: day,
            importo: Importo::from_cents(12_345).unwrap(),
            ordinante: "BIANCHI".into(),
            causale: "BONIFICO SENZA RIFERIMENTI".into(),
        },
    ]
}

/// POSTs a file body (not JSON) and reads the JSON answer.
async fn post_file(
    app: &TestApp,
    path: &str,
    token: &str,
    content_type: &str,
    body: impl Into<Vec<u8>>,
) -> (StatusCode, serde_json::Value) {
    let (s, _, b) = app
        .raw(Method::POST, path, Some(token), content_type, body.into())
        .await;
    (
        s,
        serde_json::from_slice(&b).unwrap_or(serde_json::Value::Null),
    )
}

async fn upload(
    app: &TestApp,
    token: &str,
    formato: &str,
    body: String,
) -> (StatusCode, serde_json::Value) {
    let path = format!("/api/v1/enti/{A}/tesoreria?formato={formato}");
    post_file(app, &path, token, "text/plain", body).await
}

both_backends!(
    giornale_di_cassa_csv_and_opi_are_imported_with_rejects_and_storni,
    |app| {
        app.seed_ente(A, "c_a", 1).await;
        app.seed_ente("00000000000", "c_b", 1).await;
        let mut text = csv(&movimenti());
        text.push_str("26;9;2026-11-28;X;c;1.00;2026-11-28\n");
        let (s, e) = upload(&app, ADMIN, "csv", text.clone()).await;
        assert_eq!(s, StatusCode::OK, "{e}");
        assert_eq!(
            (
                e["lette"].as_u64(),
                e["importate"].as_u64(),
                e["scartate"].as_u64()
            ),
            (Some(4), Some(3), Some(1)),
            "{e}"
        );
        assert_eq!(e["scarti"][0]["riga"], "5");
        assert!(
            e["scarti"][0]["motivo"]
                .as_str()
                .unwrap()
                .contains("anno bolletta")
        );
        // Again: nothing new, nothing duplicated, and the report says so.
        let (_, e) = upload(&app, ADMIN, "csv", text).await;
        assert_eq!(
            (e["importate"].as_u64(), e["invariate"].as_u64()),
            (Some(0), Some(3)),
            "{e}"
        );
        let job = e["id_importazione"].as_str().unwrap();
        let (_, j) = app
            .get(&format!("/api/v1/enti/{A}/importazioni/{job}"), ADMIN)
            .await;
        assert_eq!(
            (j["righe_importate"].as_i64(), j["righe_invariate"].as_i64()),
            (Some(0), Some(3)),
            "{j}"
        );
        let (_, p) = app.get(&format!("/api/v1/enti/{A}/tesoreria"), ADMIN).await;
        assert_eq!(p["total"], 3);
        let (_, p) = app
            .get(&format!("/api/v1/enti/{A}/tesoreria?iuf={IUF}"), ADMIN)
            .await;
        assert_eq!(
            (p["total"].as_i64(), p["items"][0]["importo_cents"].as_i64()),
            (Some(1), Some(52_420))
        );
        let (_, p) = app
            .get(
                &format!("/api/v1/enti/{A}/tesoreria?iuv=01000000000000144"),
                ADMIN,
            )
            .await;
        assert_eq!(p["total"], 1);
        // The OPI page of the same movements replaces them; then a storno removes bolletta 3.
        let ente = EnteTesoreria {
            codice_fiscale: A.into(),
            codice_ente: "CA0000".into(),
            descrizione: "Comune".into(),
        };
        let day = movimenti()[0].data;
        let (s, e) = upload(&app, ADMIN, "opi", opi_xml(&ente, day, &movimenti())).await;
        assert_eq!(
            (s, e["importate"].as_u64()),
            (StatusCode::OK, Some(3)),
            "{e}"
        );
        let storno = opi_xml(&ente, day, &movimenti()[2..])
            .replace("<tipo_operazione>ESEGUITO<", "<tipo_operazione>STORNATO<");
        let (_, e) = upload(&app, ADMIN, "opi", storno).await;
        assert_eq!(e["stornate"], 1, "{e}");
        // The report says what the answer said: one storno, nothing imported.
        let job = e["id_importazione"].as_str().unwrap();
        let (_, j) = app
            .get(&format!("/api/v1/enti/{A}/importazioni/{job}"), ADMIN)
            .await;
        assert_eq!(
            (
                j["righe_importate"].as_i64(),
                j["righe_stornate"].as_i64(),
                j["righe_invariate"].as_i64()
            ),
            (Some(0), Some(1), Some(0)),
            "{j}"
        );
        let (_, p) = app.get(&format!("/api/v1/enti/{A}/tesoreria"), ADMIN).await;
        assert_eq!(p["total"], 2);
        assert!(
            p["items"]
                .as_array()
                .unwrap()
                .iter()
                .all(|r| r["fonte"] == "OPI")
        );
        // Another ente's journal, malformed XML, an unknown format: refused, nothing applied.
        let other = EnteTesoreria {
            codice_fiscale: "00000000000".into(),
            ..ente
        };
        assert_eq!(
            upload(&app, ADMIN, "opi", opi_xml(&other, day, &movimenti()))
                .await
                .0,
            StatusCode::UNPROCESSABLE_ENTITY
        );
        assert_eq!(
            upload(&app, ADMIN, "opi", "<a><b></a>".into()).await.0,
            StatusCode::UNPROCESSABLE_ENTITY
        );
        assert_eq!(
            upload(&app, ADMIN, "xls", String::new()).await.0,
            StatusCode::UNPROCESSABLE_ENTITY
        );
        // Ente B's operator sees none of it.
        let b = app.operator_key("00000000000").await;
        assert_eq!(
            app.get(&format!("/api/v1/enti/{A}/tesoreria"), &b).await.0,
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            upload(&app, &b, "csv", String::new()).await.0,
            StatusCode::NOT_FOUND
        );
    }
);

both_backends!(
    reconciliation_classifies_treasury_lines_nothing_explains,
    |app| {
        let mut e = ente_json(A, "c_a", 1);
        e["flg_tesoreria"] = serde_json::json!(true);
        assert_eq!(
            app.post("/api/v1/enti", ADMIN, e).await.0,
            StatusCode::CREATED
        );
        upload(&app, ADMIN, "csv", csv(&movimenti())).await;
        let (s, r) = app
            .get(&format!("/api/v1/enti/{A}/riconciliazione"), ADMIN)
            .await;
        assert_eq!(s, StatusCode::OK, "{r}");
        // No receipt, no flow: the IUF and IUV credits are unexplained, the third unreadable.
        assert_eq!(r["conteggi"]["TES_NO_IUF_OR_IUV"], 2, "{r}");
        assert_eq!(r["conteggi"]["TES_NO_MATCH"], 1, "{r}");
        let (_, only) = app
            .get(
                &format!("/api/v1/enti/{A}/riconciliazione?codice=TES_NO_MATCH"),
                ADMIN,
            )
            .await;
        assert_eq!(only["righe"].as_array().unwrap().len(), 1);
        assert_eq!(only["righe"][0]["importo_tesoreria_cents"], 12_345);
    }
);

fn flusso(id: &str, data_ora: &str, ricevente: &str, esiti: &[u8]) -> String {
    use pagopa_gateway::model::Iuv;
    use pagopa_gateway::model::flusso::*;
    use pagopa_gateway::model::rpt::{DataOra, IdentificativoUnivoco};
    let day = time::Date::from_calendar_date(2026, time::Month::November, 27).unwrap();
    let pagamenti: Vec<PagamentoFlusso> = esiti
        .iter()
        .enumerate()
        .map(|(i, e)| PagamentoFlusso {
            // Payments of esito 0 and 9 share an IUV per pair (to build DOPPI cases).
            iuv: Iuv::parse(&format!("01{:013}{:02}", i / 2, (i / 2) % 93)).unwrap(),
            iur: format!("IUR{i}"),
            indice: Some(1),
            importo: Importo::from_cents(1_000).unwrap(),
            codice_esito: *e,
            data_esito: day,
        })
        .collect();
    let ist = |t: &str, c: &str| Istituto {
        identificativo: IdentificativoUnivoco {
            tipo: t.into(),
            codice: c.into(),
        },
        denominazione: None,
    };
    FlussoRiversamento {
        testata: TestataFlusso {
            versione_oggetto: "1.0".into(),
            identificativo_flusso: id.into(),
            data_ora_flusso: DataOra::parse(data_ora).unwrap(),
            identificativo_univoco_regolamento: "TRN1".into(),
            data_regolamento: day,
            istituto_mittente: ist("B", "ABCDITMM"),
            codice_bic_banca_di_riversamento: None,
            istituto_ricevente: ist("G", ricevente),
            numero_totale_pagamenti: esiti.len() as u64,
            importo_totale_pagamenti: Importo::from_cents(1_000 * esiti.len() as i64).unwrap(),
        },
        pagamenti,
    }
    .to_xml()
}

async fn carica(app: &TestApp, ente: &str, xml: String) -> (StatusCode, serde_json::Value) {
    let path = format!("/api/v1/enti/{ente}/flussi");
    post_file(app, &path, ADMIN, "application/xml", xml).await
}

both_backends!(
    uploaded_flows_reconcile_and_esito_9_stands_in_for_the_receipt,
    |app| {
        let mut e = ente_json(A, "c_a", 1);
        e["flg_tesoreria"] = serde_json::json!(true);
        assert_eq!(
            app.post("/api/v1/enti", ADMIN, e).await.0,
            StatusCode::CREATED
        );
        // Two payments: one normal without any receipt here, one paid without RPT (esito 9).
        let v1 = flusso(IUF, "2026-11-28T07:00:00", A, &[0, 9]);
        let (s, f) = carica(&app, A, v1.clone()).await;
        assert_eq!(
            (s, f["stato"].as_str(), f["nuovo"].as_bool()),
            (StatusCode::OK, Some("ACQUISITO"), Some(true)),
            "{f}"
        );
        assert_eq!(
            carica(&app, A, v1).await.1["nuovo"],
            false,
            "the same version again changes nothing"
        );
        assert_eq!(
            carica(
                &app,
                A,
                flusso("OTHER-1", "2026-11-28T07:00:00", "00000000000", &[0])
            )
            .await
            .0,
            StatusCode::UNPROCESSABLE_ENTITY
        );
        assert_eq!(
            carica(&app, A, "<not-a-flow/>".into()).await.0,
            StatusCode::UNPROCESSABLE_ENTITY
        );
        // The transfer of the whole flow (20.00) reaches the treasury.
        let day = time::Date::from_calendar_date(2026, time::Month::November, 28).unwrap();
        let m = Movimento {
            numero: 1,
            data: day,
            importo: Importo::from_cents(2_000).unwrap(),
            ordinante: "PAGOPA".into(),
            causale: format!("/PUR/LGPE-RIVERSAMENTO/URI/{IUF}"),
        };
        upload(&app, ADMIN, "csv", csv(&[m])).await;
        let (_, r) = app
            .get(&format!("/api/v1/enti/{A}/riconciliazione"), ADMIN)
            .await;
        assert_eq!(
            r["conteggi"]["IUV_NO_RT"], 1,
            "the esito 0 payment has no receipt: {r}"
        );
        assert_eq!(
            r["conteggi"]["RT_IUF_TES"], 1,
            "esito 9 reconciles through its surrogate: {r}"
        );
        assert_eq!(r["conteggi"]["RT_IUF"], 1, "{r}");
        // A newer version of the flow replaces its payments.
        let (_, f) = carica(&app, A, flusso(IUF, "2026-11-28T09:00:00", A, &[9, 9])).await;
        assert_eq!(f["nuovo"], true);
        let (_, r) = app
            .get(&format!("/api/v1/enti/{A}/riconciliazione"), ADMIN)
            .await;
        assert!(r["conteggi"].get("IUV_NO_RT").is_none(), "{r}");
        assert_eq!(r["conteggi"]["RT_IUF_TES"], 2, "{r}");
    }
);

both_backends!(
    a_payment_reported_both_as_normal_and_without_rpt_is_doppi,
    |app| {
        let mut e = ente_json(A, "c_a", 1);
        e["flg_tesoreria"] = serde_json::json!(true);
        assert_eq!(
            app.post("/api/v1/enti", ADMIN, e).await.0,
            StatusCode::CREATED
        );
        // The first two payments share an IUV and an amount, with esito 0 and 9; the third is
        // another IUV reported once.
        let (s, f) = carica(
            &app,
            A,
            flusso(
                "2026-11-27ABCDITMM-S000000009",
                "2026-11-28T07:00:00",
                A,
                &[0, 9, 0],
            ),
        )
        .await;
        assert_eq!(s, StatusCode::OK, "{f}");
        let (_, r) = app
            .get(&format!("/api/v1/enti/{A}/riconciliazione"), ADMIN)
            .await;
        assert_eq!(r["conteggi"]["DOPPI"], 2, "both rows of the pair: {r}");
        let single = r["righe"]
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["iur"] == "IUR2")
            .unwrap();
        assert!(
            !single["codici"]
                .as_array()
                .unwrap()
                .contains(&serde_json::json!("DOPPI")),
            "{single}"
        );
        // The flow's transfer reaches the treasury: its line joins the pair's rows (their
        // other codes), but the DOPPI list shows the payments, never the treasury line.
        let m = Movimento {
            numero: 7,
            data: time::Date::from_calendar_date(2026, time::Month::November, 28).unwrap(),
            importo: Importo::from_cents(3_000).unwrap(),
            ordinante: "PAGOPA".into(),
            causale: "/PUR/LGPE-RIVERSAMENTO/URI/2026-11-27ABCDITMM-S000000009".into(),
        };
        upload(&app, ADMIN, "csv", csv(&[m])).await;
        let (_, tutte) = app
            .get(&format!("/api/v1/enti/{A}/riconciliazione"), ADMIN)
            .await;
        let con_bolletta = tutte["righe"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|l| l["codice_bolletta"] == "7")
            .count();
        assert_eq!(
            con_bolletta, 3,
            "the line joins every row of its flow: {tutte}"
        );
        let (_, doppi) = app
            .get(
                &format!("/api/v1/enti/{A}/riconciliazione?codice=DOPPI"),
                ADMIN,
            )
            .await;
        let righe = doppi["righe"].as_array().unwrap();
        assert_eq!(righe.len(), 2, "{doppi}");
        for l in righe {
            assert!(l["iuv"].is_string() && l["iur"].is_string(), "{l}");
            for campo in [
                "codice_bolletta",
                "importo_tesoreria_cents",
                "data_valuta",
                "tesoreria_id",
            ] {
                assert!(l[campo].is_null(), "DOPPI carries no treasury line: {l}");
            }
        }
    }
);

both_backends!(notified_payments_without_receipt_are_iud_no_rt, |app| {
    let mut e = ente_json(A, "c_a", 1);
    e["flg_pagati"] = serde_json::json!(true);
    assert_eq!(
        app.post("/api/v1/enti", ADMIN, e).await.0,
        StatusCode::CREATED
    );
    let csv = "IUD;codIuv;t;c;a;i;c;c;l;p;n;m;data;importo;comm;tipo;tv;causale;dsr\n\
IUD-1;;F;RSSMRA85T10A562S;Mario;;;;;;;;2026-11-28;10.00;;TARI;BBT;TARI;9/0101105IM/\n\
IUD 2;;F;X;a;;;;;;;;2026-11-28;1.00;;TARI;BBT;c;d\n";
    let path = format!("/api/v1/enti/{A}/notifiche");
    let (s, e) = post_file(&app, &path, ADMIN, "text/plain", csv).await;
    assert_eq!(
        (s, e["importate"].as_u64(), e["scartate"].as_u64()),
        (StatusCode::OK, Some(1), Some(1)),
        "{e}"
    );
    // The same file again changes nothing, and its report says so.
    let (_, e) = post_file(&app, &path, ADMIN, "text/plain", csv).await;
    assert_eq!(
        (
            e["importate"].as_u64(),
            e["invariate"].as_u64(),
            e["scartate"].as_u64()
        ),
        (Some(0), Some(1), Some(1)),
        "{e}"
    );
    let (_, r) = app
        .get(&format!("/api/v1/enti/{A}/riconciliazione"), ADMIN)
        .await;
    assert_eq!(r["conteggi"]["IUD_NO_RT"], 1, "{r}");
    assert_eq!(r["righe"][0]["iud"], "IUD-1");
});
