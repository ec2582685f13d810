//! A notice paid at a PSP through the new model, over the real mTLS listener:
//! paVerifyPaymentNotice → paGetPaymentV2 → paSendRTV2, for one ente and for a
//! multi-beneficiary position (one receipt to each ente), on both backends. Every answer is
//! validated against paForNode.xsd; the receipt is kept byte for byte, the dovuto paid, the
//! e-mail delivered to a real SMTP listener, the transfers staged for reconciliation and met
//! by each ente's reporting flow.

use crate::fakes::*;
use crate::helpers::*;
use crate::xsd::{assert_valid, new_model_xsd};
use axum::http::StatusCode;
use pagopa_gateway::model::{Importo, StatoDovuto};
use pagopa_gateway::soap::new_model::{
    Outcome, PaDemandPaymentNoticeReq, PaDemandPaymentNoticeRes, PaGetPaymentReq, PaGetPaymentRes,
    PaSendRTReq, PaSendRTRes, QrCode, Receipt, Subject, Transfer, TransferList, UniqueIdentifier,
};
use pagopa_gateway::soap::{read_envelope, write_envelope};
use pagopa_gateway::xml::Limits;

const A: &str = "80007580279";
const B: &str = "00000000000";

async fn gateway(backend: Backend, smtp_port: u16) -> TestApp {
    let mut app = TestApp::spawn_with(backend, |c| {
        c.outbox.poll_ms = 50;
        c.mail.transport = "smtp".into();
        c.mail.smtp_host = "127.0.0.1".into();
        c.mail.smtp_port = smtp_port;
        c.mail.smtp_tls = "none".into();
    })
    .await;
    app.seed_ente(A, "c_a", 1).await;
    app.seed_ente(B, "c_b", 2).await;
    app.start();
    app
}

async fn smtp() -> (SmtpSink, u16) {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = l.local_addr().unwrap().port();
    let sink = SmtpSink::default();
    sink.serve(l);
    (sink, port)
}

async fn dovuto(app: &TestApp, ente: &str, iud: &str, importo: &str, extra: serde_json::Value) {
    let mut d = dovuto_json(iud, importo);
    for (k, v) in extra.as_object().unwrap() {
        d[k] = v.clone();
    }
    let (s, b) = app
        .post(&format!("/api/v1/enti/{ente}/dovuti"), ADMIN, d)
        .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
}

fn qr(notice: &str) -> QrCode {
    QrCode {
        fiscal_code: A.into(),
        notice_number: notice.into(),
    }
}

/// Posts one new-model request to the paForNode path; the answer's payload element,
/// checked against paForNode.xsd.
async fn call(app: &TestApp, action: &str, payload: &str) -> (String, String) {
    let (status, body) = app
        .soap_post("/pa-for-node", action, &write_envelope(None, payload))
        .await;
    assert_eq!(status, 200, "{body}");
    let e = read_envelope(body.as_bytes(), Limits::MESSAGE).unwrap();
    assert_valid(&new_model_xsd(), &[e.body.xml.to_owned()]);
    (e.body.name.clone(), e.body.xml.to_owned())
}

pub(crate) async fn get_payment(app: &TestApp, notice: &str, v2: bool) -> PaGetPaymentRes {
    let i = &app.config.intermediario;
    let req = PaGetPaymentReq {
        id_pa: A.into(),
        id_broker_pa: i.id_intermediario_pa.clone(),
        id_station: i.id_stazione.clone(),
        qr_code: qr(notice),
        amount: None,
        payment_note: None,
        transfer_type: None,
        due_date: None,
    };
    let (name, xml) = if v2 {
        call(app, "paGetPaymentV2", &req.write_v2()).await
    } else {
        call(app, "paGetPayment", &req.write()).await
    };
    let expected = if v2 {
        "paGetPaymentV2Response"
    } else {
        "paGetPaymentRes"
    };
    assert_eq!(name, expected);
    PaGetPaymentRes::parse(&xml).unwrap()
}

/// The receipt the Nodo sends to `id_pa` for a payment of `transfers` on `notice`.
pub(crate) fn receipt(
    app: &TestApp,
    id_pa: &str,
    receipt_id: &str,
    notice: &str,
    iuv: &str,
    transfers: &[Transfer],
) -> String {
    let i = &app.config.intermediario;
    let total = transfers
        .iter()
        .fold(Importo::ZERO, |a, t| a.checked_add(t.amount).unwrap());
    PaSendRTReq {
        id_pa: id_pa.into(),
        id_broker_pa: i.id_intermediario_pa.clone(),
        id_station: i.id_stazione.clone(),
        receipt: Receipt {
            receipt_id: receipt_id.into(),
            notice_number: notice.into(),
            fiscal_code: A.into(),
            outcome: Outcome::OK,
            creditor_reference_id: iuv.into(),
            payment_amount: total,
            description: "TARI 2026 rata unica".into(),
            company_name: "Comune A".into(),
            office_name: None,
            debtor: Subject {
                unique_identifier: UniqueIdentifier {
                    tipo: "F".into(),
                    value: "RSSMRA85T10A562S".into(),
                },
                full_name: "Mario Rossi".into(),
                street_name: None,
                civic_number: None,
                postal_code: None,
                city: None,
                state_province_region: None,
                country: None,
                email: Some("mario@example.org".into()),
            },
            transfer_list: TransferList {
                transfers: transfers.to_vec(),
            },
            id_psp: "BCITITMM".into(),
            psp_fiscal_code: Some("00799960158".into()),
            psp_partita_iva: None,
            psp_company_name: "Intesa Sanpaolo".into(),
            id_channel: "00799960158_01".into(),
            channel_description: "app".into(),
            payer: None,
            payment_method: Some("creditCard".into()),
            payment_note: None,
            fee: Some(Importo::from_cents(150).unwrap()),
            primary_ci_incurred_fee: None,
            id_bundle: None,
            id_ci_bundle: None,
            payment_date_time: Some("2026-12-04T10:11:12".into()),
            application_date: Some("2026-12-04".into()),
            transfer_date: Some("2026-12-05".into()),
            stand_in: Some(false),
        },
    }
    .write_v2()
}

pub(crate) async fn send_rt(app: &TestApp, payload: &str) -> PaSendRTRes {
    let (name, xml) = call(app, "paSendRTV2", payload).await;
    assert_eq!(name, "paSendRTV2Response");
    PaSendRTRes::parse(&xml).unwrap()
}

pub(crate) fn fault_code(o: Outcome, f: &Option<pagopa_gateway::soap::FaultBean>) -> String {
    match (o, f) {
        (Outcome::OK, None) => "OK".into(),
        (_, Some(f)) => f.fault_code.clone(),
        (Outcome::KO, None) => "KO without fault".into(),
    }
}

async fn stato(app: &TestApp, ente: &str, iud: &str) -> StatoDovuto {
    app.store().dovuti().get(ente, iud).await.unwrap().stato
}

async fn staged(app: &TestApp, ente: &str) -> Vec<(String, i64, i64)> {
    let (s, p) = app
        .get(&format!("/api/v1/enti/{ente}/ricevute"), ADMIN)
        .await;
    assert_eq!(s, StatusCode::OK, "{p}");
    p["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["iur"].as_str().unwrap().to_owned(),
                r["indice"].as_i64().unwrap(),
                r["importo_cents"].as_i64().unwrap(),
            )
        })
        .collect()
}

async fn a_notice_paid_through_the_new_model_is_paid_stored_emailed_and_staged(backend: Backend) {
    let (sink, port) = smtp().await;
    let app = gateway(backend, port).await;
    dovuto(&app, A, "N1", "100.00", serde_json::json!({})).await;
    let d = app.store().dovuti().get(A, "N1").await.unwrap();
    let (notice, iuv) = (d.numero_avviso.unwrap().to_string(), d.iuv.to_string());

    let r = get_payment(&app, &notice, true).await;
    assert_eq!(fault_code(r.outcome, &r.fault), "OK", "{r:?}");
    let data = r.data.unwrap();
    assert_eq!(data.creditor_reference_id, iuv);
    assert_eq!(data.payment_amount.to_string(), "100.00");
    assert_eq!(data.due_date, "2026-12-31");
    assert_eq!(data.debtor.unique_identifier.value, "RSSMRA85T10A562S");
    let t = &data.transfer_list.transfers;
    assert_eq!(t.len(), 1);
    assert_eq!(
        (t[0].fiscal_code_pa.as_str(), t[0].iban.as_deref()),
        (A, Some(IBAN))
    );
    assert_eq!(stato(&app, A, "N1").await, StatoDovuto::PagamentoIniziato);
    // The Nodo activating again (a new token) gets the same position, not IN_CORSO.
    let again = get_payment(&app, &notice, true).await;
    assert_eq!(fault_code(again.outcome, &again.fault), "OK");
    assert_eq!(again.data.unwrap().transfer_list, data.transfer_list);

    let payload = receipt(&app, A, "token-0001", &notice, &iuv, t);
    let r = send_rt(&app, &payload).await;
    assert_eq!(fault_code(r.outcome, &r.fault), "OK", "{r:?}");
    assert_eq!(stato(&app, A, "N1").await, StatoDovuto::Pagato);
    // Stored as it came: the whole request, byte for byte.
    let (rows, _) = app
        .store()
        .pagamenti()
        .list_rt(Some(A), None, 10, 0)
        .await
        .unwrap();
    assert_eq!(rows.len(), 1);
    let (row, raw) = app.store().pagamenti().get_rt(rows[0].id).await.unwrap();
    assert_eq!(raw, write_envelope(None, &payload).into_bytes());
    assert_eq!(
        (row.stato.as_str(), row.ccp.as_str()),
        ("ELABORATA", "token-0001")
    );
    // Delivered again: the duplicate fault, nothing changes.
    let r = send_rt(&app, &payload).await;
    assert_eq!(fault_code(r.outcome, &r.fault), "PAA_RECEIPT_DUPLICATA");
    // Staged for reconciliation as the reporting flow will report it: IUR = receiptId.
    assert_eq!(staged(&app, A).await, [("token-0001".into(), 1, 10_000)]);
    // The receipt e-mail reaches the debtor.
    assert!(eventually(20, async || !sink.mails.lock().unwrap().is_empty()).await);
    let m = sink.mails.lock().unwrap()[0].clone();
    assert!(
        m.rcpt.contains(&"mario@example.org".to_owned()),
        "{:?}",
        m.rcpt
    );
    // Once paid, the notice is no longer payable.
    let r = get_payment(&app, &notice, true).await;
    assert_eq!(fault_code(r.outcome, &r.fault), "PAA_PAGAMENTO_DUPLICATO");
}

#[tokio::test]
async fn a_notice_paid_through_the_new_model_is_paid_stored_emailed_and_staged_sqlite() {
    a_notice_paid_through_the_new_model_is_paid_stored_emailed_and_staged(Backend::Sqlite).await
}
#[tokio::test]
async fn a_notice_paid_through_the_new_model_is_paid_stored_emailed_and_staged_postgres() {
    a_notice_paid_through_the_new_model_is_paid_stored_emailed_and_staged(Backend::Postgres).await
}

async fn a_multi_beneficiary_position_pays_each_ente_on_its_own_account(backend: Backend) {
    let app = gateway(backend, 1).await;
    dovuto(&app, A, "P", "70.00", serde_json::json!({})).await;
    let p = app.store().dovuti().get(A, "P").await.unwrap();
    let (notice, iuv) = (p.numero_avviso.unwrap().to_string(), p.iuv.to_string());
    dovuto(
        &app,
        B,
        "S",
        "30.00",
        serde_json::json!({"iuv": iuv, "ente_primario": A}),
    )
    .await;
    let r = get_payment(&app, &notice, true).await;
    assert_eq!(fault_code(r.outcome, &r.fault), "OK", "{r:?}");
    let data = r.data.unwrap();
    assert_eq!(data.payment_amount.to_string(), "100.00");
    let t = data.transfer_list.transfers.clone();
    let parts: Vec<_> = t
        .iter()
        .map(|t| (t.id_transfer, t.fiscal_code_pa.as_str(), t.amount.cents()))
        .collect();
    assert_eq!(parts, [(1, A, 7_000), (2, B, 3_000)]);
    assert!(
        t.iter()
            .all(|t| t.iban.is_some() && t.company_name.is_some())
    );
    for (ente, iud) in [(A, "P"), (B, "S")] {
        assert_eq!(stato(&app, ente, iud).await, StatoDovuto::PagamentoIniziato);
    }
    // The Nodo sends the receipt to each ente of the transferList.
    for ente in [A, B] {
        let r = send_rt(&app, &receipt(&app, ente, "token-multi", &notice, &iuv, &t)).await;
        assert_eq!(fault_code(r.outcome, &r.fault), "OK", "{ente}: {r:?}");
    }
    for (ente, iud) in [(A, "P"), (B, "S")] {
        assert_eq!(stato(&app, ente, iud).await, StatoDovuto::Pagato, "{ente}");
    }
    // Each ente books its own transfer, under the index the flow will carry.
    assert_eq!(staged(&app, A).await, [("token-multi".into(), 1, 7_000)]);
    assert_eq!(staged(&app, B).await, [("token-multi".into(), 2, 3_000)]);
    let (rows, _) = app
        .store()
        .pagamenti()
        .list_rt(None, Some("ELABORATA"), 10, 0)
        .await
        .unwrap();
    assert_eq!(rows.len(), 2, "no anomaly on either share");
    // Day X+1: each ente's reporting flow reports its transfer (IUR = receiptId, index =
    // idTransfer); receipt and flow meet in each ente's reconciliation.
    for (ente, indice, cents) in [(A, 1u8, 7_000i64), (B, 2, 3_000)] {
        let iuf = format!("2026-12-05BCITITMM-{ente}");
        let (s, _, b) = app
            .raw(
                axum::http::Method::POST,
                &format!("/api/v1/enti/{ente}/flussi"),
                Some(ADMIN),
                "application/xml",
                flusso(&iuf, ente, &iuv, "token-multi", indice, cents),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{}", String::from_utf8_lossy(&b));
        let (_, r) = app
            .get(
                &format!("/api/v1/enti/{ente}/riconciliazione?per_page=50"),
                ADMIN,
            )
            .await;
        let riga = r["righe"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["iur"] == "token-multi")
            .unwrap_or_else(|| panic!("{r}"))
            .clone();
        assert_eq!(
            (
                riga["iuf"].as_str(),
                riga["indice"].as_i64(),
                riga["importo_pagato_cents"].as_i64(),
                riga["importo_rendicontato_cents"].as_i64()
            ),
            (
                Some(iuf.as_str()),
                Some(i64::from(indice)),
                Some(cents),
                Some(cents)
            ),
            "{riga}"
        );
        assert!(
            riga["codici"]
                .as_array()
                .unwrap()
                .iter()
                .any(|c| c == "RT_IUF"),
            "{riga}"
        );
    }
}

/// A reporting flow of one payment, as a PSP reports a new-model transfer.
fn flusso(iuf: &str, ente: &str, iuv: &str, iur: &str, indice: u8, cents: i64) -> Vec<u8> {
    use pagopa_gateway::model::Iuv;
    use pagopa_gateway::model::flusso::*;
    use pagopa_gateway::model::rpt::{DataOra, IdentificativoUnivoco};
    let ist = |t: &str, c: &str| Istituto {
        identificativo: IdentificativoUnivoco {
            tipo: t.into(),
            codice: c.into(),
        },
        denominazione: None,
    };
    let day = time::Date::from_calendar_date(2026, time::Month::December, 5).unwrap();
    FlussoRiversamento {
        testata: TestataFlusso {
            versione_oggetto: "1.0".into(),
            identificativo_flusso: iuf.into(),
            data_ora_flusso: DataOra::parse("2026-12-05T07:00:00").unwrap(),
            identificativo_univoco_regolamento: format!("TRN-{ente}"),
            data_regolamento: day,
            istituto_mittente: ist("B", "BCITITMM"),
            codice_bic_banca_di_riversamento: None,
            istituto_ricevente: ist("G", ente),
            numero_totale_pagamenti: 1,
            importo_totale_pagamenti: Importo::from_cents(cents).unwrap(),
        },
        pagamenti: vec![PagamentoFlusso {
            iuv: Iuv::parse(iuv).unwrap(),
            iur: iur.into(),
            indice: Some(indice),
            importo: Importo::from_cents(cents).unwrap(),
            codice_esito: 0,
            data_esito: day,
        }],
    }
    .to_xml()
    .into_bytes()
}

#[tokio::test]
async fn a_multi_beneficiary_position_pays_each_ente_on_its_own_account_sqlite() {
    a_multi_beneficiary_position_pays_each_ente_on_its_own_account(Backend::Sqlite).await
}
#[tokio::test]
async fn a_multi_beneficiary_position_pays_each_ente_on_its_own_account_postgres() {
    a_multi_beneficiary_position_pays_each_ente_on_its_own_account(Backend::Postgres).await
}

async fn version_one_stand_in_and_bad_receipts(backend: Backend) {
    let app = gateway(backend, 1).await;
    dovuto(&app, A, "V1", "20.00", serde_json::json!({})).await;
    dovuto(&app, A, "SI", "15.00", serde_json::json!({})).await;
    let v1 = app.store().dovuti().get(A, "V1").await.unwrap();
    let si = app.store().dovuti().get(A, "SI").await.unwrap();
    // Version 1: paGetPaymentRes, transfers without companyName (valid against the XSD).
    let r = get_payment(&app, v1.numero_avviso.unwrap().as_ref(), false).await;
    assert_eq!(fault_code(r.outcome, &r.fault), "OK", "{r:?}");
    assert!(
        r.data
            .unwrap()
            .transfer_list
            .transfers
            .iter()
            .all(|t| t.company_name.is_none())
    );
    // Stand-in: the Nodo collected it without asking us. The receipt pays the dovuto.
    let (notice, iuv) = (si.numero_avviso.unwrap().to_string(), si.iuv.to_string());
    let transfer = Transfer {
        id_transfer: 1,
        amount: Importo::from_cents(1_500).unwrap(),
        fiscal_code_pa: A.into(),
        company_name: None,
        iban: Some(IBAN.into()),
        richiesta_marca_da_bollo: None,
        mbd_attachment: None,
        remittance_information: "TARI".into(),
        transfer_category: "0101101IM".into(),
    };
    let r = send_rt(
        &app,
        &receipt(
            &app,
            A,
            "stand-in-1",
            &notice,
            &iuv,
            std::slice::from_ref(&transfer),
        ),
    )
    .await;
    assert_eq!(fault_code(r.outcome, &r.fault), "OK", "{r:?}");
    assert_eq!(stato(&app, A, "SI").await, StatoDovuto::Pagato);
    // A creditorReferenceId that is not the notice's IUV: refused, nothing stored.
    let before = app
        .store()
        .pagamenti()
        .list_rt(None, None, 100, 0)
        .await
        .unwrap()
        .1;
    let wrong = receipt(
        &app,
        A,
        "bad-1",
        &notice,
        "01000000000009999",
        std::slice::from_ref(&transfer),
    );
    let r = send_rt(&app, &wrong).await;
    assert_eq!(fault_code(r.outcome, &r.fault), "PAA_SEMANTICA");
    // A receipt with no transfer for the ente it is sent to: kept, and refused as unreadable.
    let altrui = Transfer {
        fiscal_code_pa: "99999999999".into(),
        ..transfer.clone()
    };
    let r = send_rt(&app, &receipt(&app, A, "bad-2", &notice, &iuv, &[altrui])).await;
    assert_eq!(fault_code(r.outcome, &r.fault), "PAA_SINTASSI_XSD");
    let (rows, after) = app
        .store()
        .pagamenti()
        .list_rt(None, None, 100, 0)
        .await
        .unwrap();
    assert_eq!(after, before + 1, "only the readable key was stored");
    assert_eq!(rows[0].stato.as_str(), "INVALIDA");
    // A receipt for a position this ente does not hold: acknowledged, kept in quarantine.
    let operand = format!("301{:013}", 9_999_999_999_999u64);
    let unknown = format!("{operand}{:02}", operand.parse::<u64>().unwrap() % 93);
    let r = send_rt(
        &app,
        &receipt(&app, A, "orphan-1", &unknown, &unknown[1..], &[transfer]),
    )
    .await;
    assert_eq!(fault_code(r.outcome, &r.fault), "OK", "{r:?}");
    let (rows, _) = app
        .store()
        .pagamenti()
        .list_rt(None, Some("QUARANTENA"), 10, 0)
        .await
        .unwrap();
    assert_eq!(rows.len(), 1);
    // The operator processes it again: still no position, it stays; once the position
    // exists, it is applied as when it came.
    let rielabora = format!("/api/v1/rt/{}/rielabora", rows[0].id);
    let (s, p) = app.post(&rielabora, ADMIN, serde_json::json!({})).await;
    assert_eq!(s, StatusCode::CONFLICT, "{p}");
    let mut d = dovuto_json("ORFANO", "15.00");
    d["iuv"] = unknown[1..].into();
    let (s, b) = app
        .post(&format!("/api/v1/enti/{A}/dovuti"), ADMIN, d)
        .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    let (s, p) = app.post(&rielabora, ADMIN, serde_json::json!({})).await;
    assert_eq!(
        (s, p["stato"].as_str()),
        (StatusCode::OK, Some("ELABORATA")),
        "{p}"
    );
    assert_eq!(stato(&app, A, "ORFANO").await, StatoDovuto::Pagato);
    let (s, _) = app.post(&rielabora, ADMIN, serde_json::json!({})).await;
    assert_eq!(s, StatusCode::CONFLICT, "only a quarantined receipt");
}

#[tokio::test]
async fn version_one_stand_in_and_bad_receipts_sqlite() {
    version_one_stand_in_and_bad_receipts(Backend::Sqlite).await
}
#[tokio::test]
async fn version_one_stand_in_and_bad_receipts_postgres() {
    version_one_stand_in_and_bad_receipts(Backend::Postgres).await
}

async fn a_payment_started_at_a_psp_creates_its_notice_and_is_paid(backend: Backend) {
    let mut app = TestApp::spawn_with(backend, |c| {
        c.pa_soap.servizi = vec![pagopa_gateway::config::ServizioConfig {
            id_servizio: "00042".into(),
            id_dominio: A.into(),
            tipo_dovuto: "CERT".into(),
        }];
    })
    .await;
    app.seed_ente(A, "c_a", 1).await;
    let mut tipo = tipo_json("CERT");
    tipo["descrizione"] = "Diritti di segreteria".into();
    tipo["spontaneo"] = true.into();
    tipo["importo_fisso"] = "16.00".into();
    let (s, b) = app
        .post(&format!("/api/v1/enti/{A}/tipi-dovuto"), ADMIN, tipo)
        .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    app.start();
    let i = &app.config.intermediario;
    let demand = |servizio: &str, dati: &str| PaDemandPaymentNoticeReq {
        id_pa: A.into(),
        id_broker_pa: i.id_intermediario_pa.clone(),
        id_station: i.id_stazione.clone(),
        id_servizio: servizio.into(),
        id_soggetto_servizio: "00001".into(),
        dati: dati.into(),
    };
    use base64::Engine;
    let dati = base64::engine::general_purpose::STANDARD.encode(
        "<ds:datiSpecificiServizio xmlns:ds=\"urn:example:servizio\"><ds:codiceFiscale>RSSMRA85T10A562S</ds:codiceFiscale>\
         <ds:anagrafica>Mario Rossi</ds:anagrafica><ds:email>mario@example.org</ds:email></ds:datiSpecificiServizio>",
    );
    let ask = async |req: PaDemandPaymentNoticeReq| {
        let (name, xml) = call(&app, "paDemandPaymentNotice", &req.write()).await;
        assert_eq!(name, "paDemandPaymentNoticeResponse");
        PaDemandPaymentNoticeRes::parse(&xml).unwrap()
    };
    let r = ask(demand("00042", &dati)).await;
    assert_eq!(fault_code(r.outcome, &r.fault), "OK", "{r:?}");
    let notice = r.qr_code.unwrap().notice_number;
    assert_eq!(r.payment_list.unwrap().option.amount.to_string(), "16.00");
    assert_eq!(
        r.payment_description.as_deref(),
        Some("Diritti di segreteria")
    );
    // The notice it made is a position like any other: activated and paid.
    let g = get_payment(&app, &notice, true).await;
    assert_eq!(fault_code(g.outcome, &g.fault), "OK", "{g:?}");
    let data = g.data.unwrap();
    assert_eq!(data.debtor.unique_identifier.value, "RSSMRA85T10A562S");
    let iuv = data.creditor_reference_id.clone();
    let s = send_rt(
        &app,
        &receipt(
            &app,
            A,
            "tok-demand",
            &notice,
            &iuv,
            &data.transfer_list.transfers,
        ),
    )
    .await;
    assert_eq!(fault_code(s.outcome, &s.fault), "OK", "{s:?}");
    let d = app
        .store()
        .dovuti()
        .get_by_iuv(A, &iuv)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (d.stato, d.importo.to_string().as_str()),
        (StatoDovuto::Pagato, "16.00")
    );
    // A service the ente does not offer, a document that is not base64, one without payer.
    let r = ask(demand("00099", &dati)).await;
    assert_eq!(fault_code(r.outcome, &r.fault), "PAA_SEMANTICA");
    let r = ask(demand("00042", "non base64!")).await;
    assert_eq!(fault_code(r.outcome, &r.fault), "PAA_SINTASSI_XSD");
    let senza =
        base64::engine::general_purpose::STANDARD.encode("<x><anagrafica>A</anagrafica></x>");
    let r = ask(demand("00042", &senza)).await;
    assert_eq!(fault_code(r.outcome, &r.fault), "PAA_SINTASSI_XSD");
}

#[tokio::test]
async fn a_payment_started_at_a_psp_creates_its_notice_and_is_paid_sqlite() {
    a_payment_started_at_a_psp_creates_its_notice_and_is_paid(Backend::Sqlite).await
}
#[tokio::test]
async fn a_payment_started_at_a_psp_creates_its_notice_and_is_paid_postgres() {
    a_payment_started_at_a_psp_creates_its_notice_and_is_paid(Backend::Postgres).await
}
