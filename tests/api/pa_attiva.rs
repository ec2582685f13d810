//! paaAttivaRPT over the real mTLS listener: one RPT per activation key, valid against the
//! official schema, the dovuto in payment and its nodoInviaRPT enqueued atomically.

use crate::both_backends;
use crate::helpers::*;
use crate::xsd::{assert_valid, wsdl_schema, xsd};
use axum::http::StatusCode;
use pagopa_gateway::model::rpt::Rpt;
use pagopa_gateway::model::{Importo, StatoDovuto};
use pagopa_gateway::soap::sanp2::{
    Base64Doc, DatiPagamentoPSP, Esito, EsitoPaa, EsitoPaaInviaRT, IntestazionePPT, PaaAttivaRPT,
    PaaInviaRT,
};
use pagopa_gateway::soap::{NS_PPT, read_envelope, write_envelope};
use pagopa_gateway::xml::Limits;

const ENTE: &str = "80007580279";
pub(crate) const CCP: &str = "psp-ccp-42";

fn header(app: &TestApp, iuv: &str) -> String {
    let i = &app.config.intermediario;
    IntestazionePPT {
        id_intermediario_pa: i.id_intermediario_pa.clone(),
        id_stazione: i.id_stazione.clone(),
        id_dominio: ENTE.into(),
        iuv: iuv.into(),
        ccp: CCP.into(),
    }
    .write()
}

pub(crate) async fn attiva(app: &TestApp, iuv: &str, importo: &str) -> EsitoPaa {
    let body = PaaAttivaRPT {
        id_psp: "ABCDITMM".into(),
        dati_pagamento_psp: DatiPagamentoPSP::solo_importo(Importo::parse(importo).unwrap()),
        id_intermediario_psp: "97735020584".into(),
        id_canale_psp: "97735020584_03".into(),
    }
    .write();
    let (status, resp) = app
        .soap_post(
            "/pagamenti-psp",
            "paaAttivaRPT",
            &write_envelope(Some(&header(app, iuv)), &body),
        )
        .await;
    assert_eq!(status, 200, "{resp}");
    let e = read_envelope(resp.as_bytes(), Limits::MESSAGE).unwrap();
    assert_valid(
        &wsdl_schema("PaPerNodoPagamentoPsp.wsdl", NS_PPT),
        &[e.body.xml.to_owned()],
    );
    EsitoPaa::parse_attiva(e.body.xml).unwrap()
}

pub(crate) async fn setup(app: &mut TestApp) -> String {
    app.seed_ente(ENTE, "c_l736", 1).await;
    let (s, d) = app
        .post(
            &format!("/api/v1/enti/{ENTE}/dovuti"),
            ADMIN,
            dovuto_json("IUD-1", "100.00"),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED);
    app.start();
    d["iuv"].as_str().unwrap().to_owned()
}

both_backends!(
    attiva_creates_one_valid_rpt_moves_the_dovuto_and_enqueues_its_send,
    |app| {
        let mut app = app;
        let iuv = setup(&mut app).await;
        let e = attiva(&app, &iuv, "100.00").await;
        assert_eq!(e.esito, Esito::OK, "{e:?}");
        assert_eq!(e.dati_pagamento_pa.as_ref().unwrap().iban_accredito, IBAN);
        let store = app.store();
        assert_eq!(
            store.dovuti().get(ENTE, "IUD-1").await.unwrap().stato,
            StatoDovuto::PagamentoIniziato
        );
        let rpt_row = store
            .pagamenti()
            .get_rpt(ENTE, &iuv, CCP)
            .await
            .unwrap()
            .expect("RPT stored");
        assert_eq!(rpt_row.importo_cents, 10_000);
        let jobs = store.outbox().pending("nodoInviaRPT").await.unwrap();
        assert_eq!(
            jobs.iter().map(|j| j.ref_id).collect::<Vec<_>>(),
            vec![Some(rpt_row.id)]
        );
        // The RPT is valid against the official schema and says what it must.
        let xml = stored_rpt_xml(&app, &iuv).await;
        assert_valid(&xsd("PagInf_RPT_RT_6_2_0.xsd"), std::slice::from_ref(&xml));
        let rpt = Rpt::parse(xml.as_bytes()).unwrap();
        assert_eq!(
            (
                rpt.dati_versamento.tipo_versamento.as_str(),
                rpt.dati_versamento.ccp.as_str()
            ),
            ("PO", CCP)
        );
        assert_eq!(rpt.dati_versamento.importo_totale.to_string(), "100.00");
        assert_eq!(
            rpt.soggetto_pagatore.identificativo.codice,
            "RSSMRA85T10A562S"
        );
        // A repeat answers the same, re-sends the same RPT, never creates a second one.
        let again = attiva(&app, &iuv, "100.00").await;
        assert_eq!(again.esito, Esito::OK);
        assert_eq!(
            store
                .pagamenti()
                .get_rpt(ENTE, &iuv, CCP)
                .await
                .unwrap()
                .unwrap()
                .id,
            rpt_row.id
        );
        assert_eq!(
            store.outbox().pending("nodoInviaRPT").await.unwrap().len(),
            2
        );
        // Meanwhile a verification sees the payment in progress.
        let i = &app.config.intermediario;
        let h = IntestazionePPT {
            id_intermediario_pa: i.id_intermediario_pa.clone(),
            id_stazione: i.id_stazione.clone(),
            id_dominio: ENTE.into(),
            iuv: iuv.clone(),
            ccp: "other".into(),
        };
        let env = write_envelope(
            Some(&h.write()),
            &pagopa_gateway::soap::sanp2::PaaVerificaRPT { id_psp: "X".into() }.write(),
        );
        let (_, body) = app
            .soap_post("/pagamenti-psp", "paaVerificaRPT", &env)
            .await;
        assert!(body.contains("PAA_PAGAMENTO_IN_CORSO"), "{body}");
    }
);

/// The stored RPT document.
async fn stored_rpt_xml(app: &TestApp, iuv: &str) -> String {
    let (xml, _) = app.store().pagamenti().rpt_xml(ENTE, iuv).await.unwrap();
    String::from_utf8(xml).unwrap()
}

both_backends!(
    attiva_with_another_amount_gets_importo_non_valido_with_the_correct_one,
    |app| {
        let mut app = app;
        let iuv = setup(&mut app).await;
        let e = attiva(&app, &iuv, "90.00").await;
        let f = e.fault.as_ref().unwrap();
        assert_eq!(
            (e.esito, f.fault_code.as_str(), f.id.as_str()),
            (Esito::KO, "PAA_ATTIVA_RPT_IMPORTO_NON_VALIDO", ENTE)
        );
        assert_eq!(
            e.dati_pagamento_pa.unwrap().importo.to_string(),
            "100.00",
            "the correct amount travels back"
        );
        let store = app.store();
        assert_eq!(
            store.dovuti().get(ENTE, "IUD-1").await.unwrap().stato,
            StatoDovuto::DaPagare
        );
        assert!(
            store
                .pagamenti()
                .get_rpt(ENTE, &iuv, CCP)
                .await
                .unwrap()
                .is_none()
        );
        assert!(
            store
                .outbox()
                .pending("nodoInviaRPT")
                .await
                .unwrap()
                .is_empty()
        );
    }
);

both_backends!(
    activation_then_receipt_completes_a_payment_at_the_psp,
    |app| {
        let mut app = app;
        let iuv = setup(&mut app).await;
        assert_eq!(attiva(&app, &iuv, "100.00").await.esito, Esito::OK);
        let rt = crate::pa_invia_rt::rt_xml(&iuv, CCP, 0, &[10_000]);
        let env = write_envelope(
            Some(&header(&app, &iuv)),
            &PaaInviaRT {
                tipo_firma: None,
                rt: Base64Doc(rt.into_bytes()),
            }
            .write(),
        );
        let (status, body) = app.soap_post("/ricevute", "paaInviaRT", &env).await;
        assert_eq!(status, 200);
        let e = read_envelope(body.as_bytes(), Limits::MESSAGE).unwrap();
        assert_eq!(
            EsitoPaaInviaRT::parse(e.body.xml).unwrap().esito,
            Esito::OK,
            "{body}"
        );
        assert_eq!(
            app.store().dovuti().get(ENTE, "IUD-1").await.unwrap().stato,
            StatoDovuto::Pagato
        );
        let (_, p) = app.get("/api/v1/rt?stato=ELABORATA", ADMIN).await;
        assert_eq!(p["total"], 1);
    }
);

both_backends!(
    an_activation_without_rt_expires_and_a_late_rt_still_counts,
    |app| {
        use pagopa_gateway::pa_server::sweep;
        use std::time::Duration;
        let mut app = app;
        let iuv = setup(&mut app).await;
        assert_eq!(attiva(&app, &iuv, "100.00").await.esito, Esito::OK);
        let store = app.store();
        assert_eq!(
            store.pagamenti().gauges().await.unwrap(),
            (0, 1),
            "one activation waiting for its RT"
        );
        assert_eq!(
            sweep(&store, Duration::from_secs(3600)).await.unwrap(),
            0,
            "not due yet"
        );
        assert_eq!(
            store.dovuti().get(ENTE, "IUD-1").await.unwrap().stato,
            StatoDovuto::PagamentoIniziato
        );
        assert_eq!(sweep(&store, Duration::ZERO).await.unwrap(), 1);
        assert_eq!(
            sweep(&store, Duration::ZERO).await.unwrap(),
            0,
            "expires once"
        );
        assert_eq!(
            store.dovuti().get(ENTE, "IUD-1").await.unwrap().stato,
            StatoDovuto::DaPagare
        );
        assert_eq!(store.pagamenti().gauges().await.unwrap(), (0, 0));
        // The PSP repeating the expired activation is told to activate anew, never OK.
        let again = attiva(&app, &iuv, "100.00").await;
        assert_eq!(
            again.fault.as_ref().map(|f| f.fault_code.as_str()),
            Some("PAA_SEMANTICA"),
            "{again:?}"
        );
        assert_eq!(
            store.dovuti().get(ENTE, "IUD-1").await.unwrap().stato,
            StatoDovuto::DaPagare
        );
        let (_, _, metrics) = app
            .raw(
                axum::http::Method::GET,
                "/metrics",
                None,
                "text/plain",
                vec![],
            )
            .await;
        let metrics = String::from_utf8(metrics).unwrap();
        assert!(
            metrics.contains("pagopa_gateway_activations_pending")
                && metrics.contains("pagopa_gateway_rt_quarantine"),
            "{metrics}"
        );
        // The RT of the expired activation arrives late: an RT attests a payment, it counts.
        let rt = crate::pa_invia_rt::rt_xml(&iuv, CCP, 0, &[10_000]);
        let env = write_envelope(
            Some(&header(&app, &iuv)),
            &PaaInviaRT {
                tipo_firma: None,
                rt: Base64Doc(rt.into_bytes()),
            }
            .write(),
        );
        let (_, body) = app.soap_post("/ricevute", "paaInviaRT", &env).await;
        let e = read_envelope(body.as_bytes(), Limits::MESSAGE).unwrap();
        assert_eq!(
            EsitoPaaInviaRT::parse(e.body.xml).unwrap().esito,
            Esito::OK,
            "{body}"
        );
        assert_eq!(
            store.dovuti().get(ENTE, "IUD-1").await.unwrap().stato,
            StatoDovuto::Pagato
        );
    }
);
