//! paaVerificaRPT over the real mTLS listener: every branch, on both backends, each answer
//! validated against the official schema.

use crate::both_backends;
use crate::fakes::eventually;
use crate::helpers::*;
use crate::xsd::{assert_valid, new_model_xsd, wsdl_schema};
use axum::http::StatusCode;
use pagopa_gateway::model::StatoDovuto;
use pagopa_gateway::soap::sanp2::{Esito, EsitoPaa, IntestazionePPT, PaaVerificaRPT, Spezzone};
use pagopa_gateway::soap::{NS_PPT, new_model, read_envelope, write_envelope};
use pagopa_gateway::xml::Limits;
use serde_json::json;

const ENTE: &str = "80007580279";

fn envelope(app: &TestApp, dominio: &str, iuv: &str) -> String {
    let i = &app.config.intermediario;
    let h = IntestazionePPT {
        id_intermediario_pa: i.id_intermediario_pa.clone(),
        id_stazione: i.id_stazione.clone(),
        id_dominio: dominio.into(),
        iuv: iuv.into(),
        ccp: "ccp-psp-1".into(),
    };
    write_envelope(
        Some(&h.write()),
        &PaaVerificaRPT {
            id_psp: "ABCDITMM".into(),
        }
        .write(),
    )
}

/// Posts, checks the answer is schema-valid, and returns it parsed.
async fn verifica(app: &TestApp, env: &str) -> EsitoPaa {
    let (status, body) = app.soap_post("/pagamenti-psp", "paaVerificaRPT", env).await;
    assert_eq!(status, 200, "{body}");
    let e = read_envelope(body.as_bytes(), Limits::MESSAGE).unwrap();
    assert_valid(
        &wsdl_schema("PaPerNodoPagamentoPsp.wsdl", NS_PPT),
        &[e.body.xml.to_owned()],
    );
    EsitoPaa::parse_verifica(e.body.xml).unwrap()
}

async fn setup(app: &mut TestApp) -> String {
    let a = ENTE.to_owned();
    app.seed_ente(&a, "c_l736", 1).await;
    let (s, d) = app
        .post(
            &format!("/api/v1/enti/{a}/dovuti"),
            ADMIN,
            dovuto_json("IUD-1", "100.00"),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{d}");
    app.start();
    d["iuv"].as_str().unwrap().to_owned()
}

fn fault_of(e: &EsitoPaa) -> (&str, &str) {
    let f = e.fault.as_ref().expect("a fault");
    (f.fault_code.as_str(), f.id.as_str())
}

both_backends!(
    verifica_of_a_payable_notice_answers_amount_iban_beneficiary_and_causale,
    |app| {
        let mut app = app;
        let iuv = setup(&mut app).await;
        let e = verifica(&app, &envelope(&app, ENTE, &iuv)).await;
        assert_eq!(e.esito, Esito::OK, "{e:?}");
        let d = e.dati_pagamento_pa.unwrap();
        assert_eq!(d.importo.to_string(), "100.00");
        assert_eq!(d.iban_accredito, IBAN);
        assert_eq!(d.ente_beneficiario.unwrap().identificativo.codice, ENTE);
        assert_eq!(
            d.causale.unwrap(),
            format!("/RFB/{iuv}/100.00/TXT/TARI 2026 rata unica")
        );
        // Side-effect free: the position did not move.
        let dovuto = app.store().dovuti().get(ENTE, "IUD-1").await.unwrap();
        assert_eq!((dovuto.stato, dovuto.version), (StatoDovuto::DaPagare, 1));
    }
);

both_backends!(verifica_answers_the_fault_of_each_state, |app| {
    let mut app = app;
    let iuv = setup(&mut app).await;
    let e = verifica(&app, &envelope(&app, ENTE, "01999999999999999")).await;
    assert_eq!(
        (e.esito, fault_of(&e)),
        (Esito::KO, ("PAA_PAGAMENTO_SCONOSCIUTO", ENTE))
    );
    let store = app.store();
    let d = store.dovuti().get(ENTE, "IUD-1").await.unwrap();
    let d = store
        .dovuti()
        .change_stato(&d, StatoDovuto::PagamentoIniziato, "test")
        .await
        .unwrap();
    assert_eq!(
        fault_of(&verifica(&app, &envelope(&app, ENTE, &iuv)).await).0,
        "PAA_PAGAMENTO_IN_CORSO"
    );
    store
        .dovuti()
        .change_stato(&d, StatoDovuto::Pagato, "test")
        .await
        .unwrap();
    assert_eq!(
        fault_of(&verifica(&app, &envelope(&app, ENTE, &iuv)).await).0,
        "PAA_PAGAMENTO_DUPLICATO"
    );
    let (_, d2) = app
        .post(
            &format!("/api/v1/enti/{ENTE}/dovuti"),
            ADMIN,
            dovuto_json("IUD-2", "5.00"),
        )
        .await;
    app.post(
        &format!("/api/v1/enti/{ENTE}/dovuti/IUD-2/annulla"),
        ADMIN,
        json!({}),
    )
    .await;
    assert_eq!(
        fault_of(&verifica(&app, &envelope(&app, ENTE, d2["iuv"].as_str().unwrap())).await).0,
        "PAA_PAGAMENTO_ANNULLATO"
    );
});

both_backends!(verifica_checks_intermediary_station_and_dominio, |app| {
    let mut app = app;
    let iuv = setup(&mut app).await;
    let good = envelope(&app, ENTE, &iuv);
    let i = app.config.intermediario.clone();
    let wrong_broker = good.replace(
        &format!("<identificativoIntermediarioPA>{}<", i.id_intermediario_pa),
        "<identificativoIntermediarioPA>99999999999<",
    );
    assert_eq!(
        fault_of(&verifica(&app, &wrong_broker).await),
        ("PAA_ID_INTERMEDIARIO_ERRATO", ENTE)
    );
    let wrong_station = good.replace(&format!(">{}<", i.id_stazione), ">altra_stazione<");
    assert_eq!(
        fault_of(&verifica(&app, &wrong_station).await),
        ("PAA_STAZIONE_INT_ERRATA", ENTE)
    );
    let other = cf11("0012345678");
    assert_eq!(
        fault_of(&verifica(&app, &envelope(&app, &other, &iuv)).await),
        ("PAA_ID_DOMINIO_ERRATO", other.as_str())
    );
});

both_backends!(
    verifica_after_the_due_date_prices_or_refuses_by_policy,
    |app| {
        let mut app = app;
        let a = ENTE;
        app.seed_ente(a, "c_l736", 1).await;
        let mut refuse = tipo_json("MULTA");
        refuse["politica_scadenza"] = json!("RIFIUTA");
        refuse["mora_fissa"] = json!(null);
        refuse["interesse_annuo_bp"] = json!(0);
        app.post(&format!("/api/v1/enti/{a}/tipi-dovuto"), ADMIN, refuse)
            .await;
        let today = pagopa_gateway::model::scadenza::data_italiana(time::OffsetDateTime::now_utc());
        let due = (today - time::Duration::days(73)).to_string();
        let mut late = dovuto_json("LATE", "100.00");
        late["data_scadenza"] = json!(due);
        let (_, d_late) = app
            .post(&format!("/api/v1/enti/{a}/dovuti"), ADMIN, late.clone())
            .await;
        late["iud"] = json!("REFUSED");
        late["tipo_dovuto"] = json!("MULTA");
        let (_, d_refused) = app
            .post(&format!("/api/v1/enti/{a}/dovuti"), ADMIN, late)
            .await;
        app.start();
        // TARI accepts late payment: 5.00 fee + 2.50 %/year for 73 days on 100.00 = 0.50.
        let e = verifica(&app, &envelope(&app, a, d_late["iuv"].as_str().unwrap())).await;
        assert_eq!(e.esito, Esito::OK, "{e:?}");
        let d = e.dati_pagamento_pa.unwrap();
        assert_eq!(d.importo.to_string(), "105.50");
        let pieces: Vec<(String, String)> = d
            .spezzoni
            .unwrap()
            .items
            .into_iter()
            .map(|s| match s {
                Spezzone::Strutturato(s) => (s.causale, s.importo.to_string()),
                Spezzone::Testo(t) => (t, String::new()),
            })
            .collect();
        assert_eq!(
            pieces,
            vec![
                ("Importo dovuto".into(), "100.00".into()),
                ("Sanzione ritardo".into(), "5.00".into()),
                ("Interessi di mora".into(), "0.50".into())
            ]
        );
        let e = verifica(&app, &envelope(&app, a, d_refused["iuv"].as_str().unwrap())).await;
        assert_eq!(fault_of(&e), ("PAA_PAGAMENTO_SCADUTO", ENTE));
    }
);

both_backends!(malformed_requests_get_sintassi_extraxsd, |app| {
    let mut app = app;
    let iuv = setup(&mut app).await;
    let (status, body) = app
        .soap_post("/pagamenti-psp", "paaVerificaRPT", "<not-soap")
        .await;
    assert_eq!(status, 500);
    assert!(
        body.contains("soapenv:Fault")
            && body.contains("<faultCode>PAA_SINTASSI_EXTRAXSD</faultCode>"),
        "{body}"
    );
    let no_header = write_envelope(None, &PaaVerificaRPT { id_psp: "P".into() }.write());
    assert_eq!(
        fault_of(&verifica(&app, &no_header).await).0,
        "PAA_SINTASSI_EXTRAXSD"
    );
    let (status, body) = app
        .soap_post("/pagamenti-psp", "paaInviaRT", &envelope(&app, ENTE, &iuv))
        .await;
    assert_eq!(status, 200);
    assert!(
        body.contains("PAA_SINTASSI_EXTRAXSD") && body.contains("SOAPAction"),
        "{body}"
    );
    let empty_psp =
        envelope(&app, ENTE, &iuv).replace("<identificativoPSP>ABCDITMM</identificativoPSP>", "");
    let e = verifica(&app, &empty_psp).await;
    assert_eq!(fault_of(&e).0, "PAA_SINTASSI_EXTRAXSD");
    assert!(
        e.fault
            .unwrap()
            .description
            .unwrap()
            .contains("identificativoPSP")
    );
});

both_backends!(verifica_is_counted_by_outcome_in_metrics, |app| {
    let mut app = app;
    let iuv = setup(&mut app).await;
    verifica(&app, &envelope(&app, ENTE, &iuv)).await;
    verifica(&app, &envelope(&app, ENTE, "01999999999999999")).await;
    let (_, _, body) = app
        .raw(
            axum::http::Method::GET,
            "/metrics",
            None,
            "text/plain",
            vec![],
        )
        .await;
    let text = String::from_utf8(body).unwrap();
    assert!(
        text.contains(
            "pagopa_gateway_pa_soap_requests_total{operation=\"paaVerificaRPT\",outcome=\"OK\"}"
        ),
        "{text}"
    );
    assert!(
        text.contains("outcome=\"PAA_PAGAMENTO_SCONOSCIUTO\""),
        "{text}"
    );
});

both_backends!(
    every_exchange_is_journaled_searchable_exported_and_pruned,
    |app| {
        let mut app = app;
        let iuv = setup(&mut app).await;
        verifica(&app, &envelope(&app, ENTE, &iuv)).await;
        verifica(&app, &envelope(&app, ENTE, "01999999999999999")).await;
        app.soap_post("/pagamenti-psp", "paaVerificaRPT", "<not-soap")
            .await;
        // The journal writer is asynchronous: wait for the three entries.
        let mut page = json!(null);
        for _ in 0..100 {
            let (_, p) = app.get("/api/v1/journal", ADMIN).await;
            // Wait on the items: the count is a separate query and may run ahead of them.
            if p["items"].as_array().is_some_and(|i| i.len() == 3) {
                page = p;
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        let outcomes: Vec<&str> = page["items"]
            .as_array()
            .expect("three entries")
            .iter()
            .map(|i| i["outcome"].as_str().unwrap())
            .collect();
        assert_eq!(
            outcomes,
            ["PAA_SINTASSI_EXTRAXSD", "PAA_PAGAMENTO_SCONOSCIUTO", "OK"]
        );
        let ok = &page["items"][2];
        assert_eq!(
            (
                ok["operation"].as_str(),
                ok["direction"].as_str(),
                ok["http_status"].as_i64()
            ),
            (Some("paaVerificaRPT"), Some("IN"), Some(200))
        );
        assert_eq!(
            (
                ok["id_dominio"].as_str(),
                ok["iuv"].as_str(),
                ok["ccp"].as_str(),
                ok["id_psp"].as_str()
            ),
            (
                Some(ENTE),
                Some(iuv.as_str()),
                Some("ccp-psp-1"),
                Some("ABCDITMM")
            )
        );
        let (s, detail) = app
            .get(&format!("/api/v1/journal/{}", ok["id"]), ADMIN)
            .await;
        assert_eq!(s, StatusCode::OK);
        assert!(
            detail["request"]
                .as_str()
                .unwrap()
                .contains("<identificativoPSP>ABCDITMM</identificativoPSP>")
        );
        assert!(
            detail["response"]
                .as_str()
                .unwrap()
                .contains("<esito>OK</esito>")
        );
        let (_, p) = app
            .get("/api/v1/journal?outcome=PAA_PAGAMENTO_SCONOSCIUTO", ADMIN)
            .await;
        assert_eq!(p["total"], 1);

        // Operators see only their ente's exchanges.
        let other = cf11("0012345678");
        app.seed_ente(&other, "c_f241", 2).await;
        let key_other = app.operator_key(&other).await;
        let (_, p) = app.get("/api/v1/journal", &key_other).await;
        assert_eq!(p["total"], 0);
        let (s, _) = app
            .get(&format!("/api/v1/journal/{}", ok["id"]), &key_other)
            .await;
        assert_eq!(s, StatusCode::NOT_FOUND);
        let (s, _) = app
            .get(&format!("/api/v1/journal?id_dominio={ENTE}"), &key_other)
            .await;
        assert_eq!(s, StatusCode::NOT_FOUND);
        let key_own = app.operator_key(ENTE).await;
        let (_, p) = app.get("/api/v1/journal", &key_own).await;
        assert_eq!(p["total"], 2);

        // `journal export` writes each exchange as <seq>-<operation>-<request|response>.xml.
        let dir = tempfile::tempdir().unwrap();
        let cfg = dir.path().join("gateway.toml");
        std::fs::write(
            &cfg,
            format!(
                "[database]\nurl = \"{}\"\n",
                app.config.database.url.as_ref().unwrap()
            ),
        )
        .unwrap();
        let out_dir = dir.path().join("export");
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_pagopa-gateway"))
            .args(["journal", "export", "--config"])
            .arg(&cfg)
            .arg("--dir")
            .arg(&out_dir)
            .current_dir(dir.path())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let mut files: Vec<String> = std::fs::read_dir(&out_dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        files.sort();
        assert_eq!(files.len(), 6, "{files:?}");
        assert!(
            files[0].ends_with("-paaVerificaRPT-request.xml")
                && files[1].ends_with("-paaVerificaRPT-response.xml"),
            "{files:?}"
        );
        let response = std::fs::read_to_string(out_dir.join(&files[1])).unwrap();
        let e = read_envelope(response.as_bytes(), Limits::MESSAGE).unwrap();
        assert_valid(
            &wsdl_schema("PaPerNodoPagamentoPsp.wsdl", NS_PPT),
            &[e.body.xml.to_owned()],
        );

        // Retention deletes what is older than the cut, a batch at a time.
        let cut = time::OffsetDateTime::now_utc() + time::Duration::days(1);
        let mut batches = Vec::new();
        loop {
            let n = app.store().journal().prune(cut, 2).await.unwrap();
            batches.push(n);
            if n == 0 {
                break;
            }
        }
        assert_eq!(batches, [2, 1, 0]);
    }
);

both_backends!(overload_is_refused_at_once_with_paa_system_error, |app| {
    use tower::ServiceExt;
    app.seed_ente(ENTE, "c_l736", 1).await;
    let (_, d) = app
        .post(
            &format!("/api/v1/enti/{ENTE}/dovuti"),
            ADMIN,
            dovuto_json("IUD-1", "100.00"),
        )
        .await;
    let iuv = d["iuv"].as_str().unwrap().to_owned();
    let (journal, writer) = pagopa_gateway::journal::Journal::start(app.store());
    let limiter = std::sync::Arc::new(tokio::sync::Semaphore::new(1));
    let router = pagopa_gateway::pa_server::router(pagopa_gateway::pa_server::PaState {
        store: app.store(),
        journal,
        limiter: limiter.clone(),
        cache: Default::default(),
        deadline: std::time::Duration::from_secs(5),
        servizi: Default::default(),
    });
    let call = |router: axum::Router, env: String| async move {
        let req = axum::http::Request::post("/pagamenti-psp")
            .header("soapaction", "paaVerificaRPT")
            .body(axum::body::Body::from(env))
            .unwrap();
        let resp = router.oneshot(req).await.unwrap();
        let bytes = http_body_util::BodyExt::collect(resp.into_body())
            .await
            .unwrap()
            .to_bytes();
        String::from_utf8(bytes.to_vec()).unwrap()
    };
    let env = envelope(&app, ENTE, &iuv);
    let busy = limiter.clone().try_acquire_owned().unwrap();
    // Shed before the body is read: a request whose body never ends is answered at once.
    let (_never_sent, endless) =
        http_body_util::channel::Channel::<bytes::Bytes, std::convert::Infallible>::new(1);
    let req = axum::http::Request::post("/pagamenti-psp")
        .header("soapaction", "\"paaVerificaRPT\"")
        .body(axum::body::Body::new(endless))
        .unwrap();
    let resp = tokio::time::timeout(
        std::time::Duration::from_secs(2),
        router.clone().oneshot(req),
    )
    .await
    .expect("shed without waiting for the body")
    .unwrap();
    let bytes = http_body_util::BodyExt::collect(resp.into_body())
        .await
        .unwrap()
        .to_bytes();
    let e = read_envelope(&bytes, Limits::MESSAGE).unwrap();
    assert_valid(
        &wsdl_schema("PaPerNodoPagamentoPsp.wsdl", NS_PPT),
        &[e.body.xml.to_owned()],
    );
    let f = EsitoPaa::parse_verifica(e.body.xml).unwrap().fault.unwrap();
    assert_eq!(f.fault_code.as_str(), "PAA_SYSTEM_ERROR");
    // A whole request is shed the same way.
    let body = call(router.clone(), env.clone()).await;
    assert!(body.contains("PAA_SYSTEM_ERROR"), "{body}");
    drop(busy);
    let body = call(router, env).await;
    assert!(
        body.contains("<esito>OK</esito>"),
        "admitted again once capacity frees: {body}"
    );
    // Shed requests cost no journal entry: only the admitted one is there.
    assert!(writer.close(std::time::Duration::from_secs(10)).await);
    let (_, j) = app.get("/api/v1/journal", ADMIN).await;
    assert_eq!(j["total"], 1, "{j}");
});

// The documented 4 MiB message limit (axum's own 2 MiB default cut it before): a 3 MiB
// request is read, a larger one gets the SOAP fault the Nodo can read, journaled.
both_backends!(
    the_message_limit_is_4_mib_and_beyond_it_a_journaled_soap_fault,
    |app| {
        let mut app = app;
        let iuv = setup(&mut app).await;
        let padded = |mib: usize| {
            let mut env = envelope(&app, ENTE, &iuv);
            env.push_str(&"\n".repeat(mib * 1024 * 1024));
            env
        };
        let e = verifica(&app, &padded(3)).await;
        assert_eq!(e.esito, Esito::OK, "{e:?}");
        let (status, body) = app
            .soap_post("/pagamenti-psp", "paaVerificaRPT", &padded(5))
            .await;
        assert_eq!(status, 500);
        assert!(
            body.contains("soapenv:Fault")
                && body.contains("<faultCode>PAA_SINTASSI_EXTRAXSD</faultCode>"),
            "{body}"
        );
        assert!(
            eventually(20, async || {
                let (_, j) = app
                    .get("/api/v1/journal?outcome=PAA_SINTASSI_EXTRAXSD", ADMIN)
                    .await;
                j["total"] == 1
            })
            .await,
            "the refused request is journaled"
        );
    }
);

/// A new-model verification (paVerifyPaymentNotice, no SOAP header) of the notice number.
async fn verify_notice(
    app: &TestApp,
    station: &str,
    notice: &str,
) -> new_model::PaVerifyPaymentNoticeRes {
    use pagopa_gateway::soap::new_model::{PaVerifyPaymentNoticeReq, QrCode};
    let i = &app.config.intermediario;
    let req = PaVerifyPaymentNoticeReq {
        id_pa: ENTE.into(),
        id_broker_pa: i.id_intermediario_pa.clone(),
        id_station: station.into(),
        qr_code: QrCode {
            fiscal_code: ENTE.into(),
            notice_number: notice.into(),
        },
    };
    let (status, body) = app
        .soap_post(
            "/pagamenti-psp",
            "paVerifyPaymentNotice",
            &write_envelope(None, &req.write()),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let e = read_envelope(body.as_bytes(), Limits::MESSAGE).unwrap();
    assert_eq!(e.body.name, "paVerifyPaymentNoticeRes");
    assert_valid(&new_model_xsd(), &[e.body.xml.to_owned()]);
    new_model::PaVerifyPaymentNoticeRes::parse(e.body.xml).unwrap()
}

both_backends!(
    the_new_model_verification_answers_the_notice_like_paa_verifica_rpt,
    |app| {
        let mut app = app;
        let iuv = setup(&mut app).await;
        let d = app.store().dovuti().get(ENTE, "IUD-1").await.unwrap();
        let notice = d.numero_avviso.unwrap().to_string();
        let station = app.config.intermediario.id_stazione.clone();
        let r = verify_notice(&app, &station, &notice).await;
        assert_eq!(
            (r.outcome, r.fault.as_ref()),
            (new_model::Outcome::OK, None),
            "{r:?}"
        );
        let o = r.payment_list.unwrap().option;
        assert_eq!(
            (o.amount.to_string().as_str(), o.options.as_str()),
            ("100.00", "EQ")
        );
        assert_eq!(r.fiscal_code_pa.as_deref(), Some(ENTE));
        assert_eq!(r.payment_description.as_deref(), Some(d.causale.as_str()));
        assert!(r.company_name.is_some());
        // Another notice of the same ente (valid check digits): unknown.
        let operand = format!("301{:013}", 9_999_999_999_999u64);
        let other = format!("{operand}{:02}", operand.parse::<u64>().unwrap() % 93);
        let r = verify_notice(&app, &station, &other).await;
        assert_eq!(r.outcome, new_model::Outcome::KO);
        assert_eq!(r.fault.unwrap().fault_code, "PAA_PAGAMENTO_SCONOSCIUTO");
        // The station is checked as for SANP 2.
        let r = verify_notice(&app, "00000000000_99", &notice).await;
        assert_eq!(r.fault.unwrap().fault_code, "PAA_STAZIONE_INT_ERRATA");
        // Journaled under its own name, with the IUV the notice carries (written a moment
        // later by the journal's writer).
        assert!(
            eventually(5, async || {
                let (_, p) = app
                    .get("/api/v1/journal?operation=paVerifyPaymentNotice", ADMIN)
                    .await;
                p["items"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|e| e["iuv"] == iuv)
            })
            .await
        );
    }
);

both_backends!(
    /// Verifications that arrive together each get their own position: on PostgreSQL
    /// their reads share statements (coalesced), keyed by ente and IUV, so two enti's
    /// equal IUVs, an IUV asked three times at once and an unknown one must not get each
    /// other's answers.
    concurrent_verifications_each_get_their_own_position,
    |app| {
        let mut app = app;
        let altro = cf11("0213456789");
        app.seed_ente(ENTE, "c_l736", 1).await;
        app.seed_ente(&altro, "c_h501", 1).await;
        let mut attesi = Vec::new();
        for (ente, n) in [(ENTE, 12), (altro.as_str(), 3)] {
            for i in 1..=n {
                let importo = format!("{}.{:02}", i, if ente == ENTE { 0 } else { 50 });
                let (s, d) = app
                    .post(
                        &format!("/api/v1/enti/{ente}/dovuti"),
                        ADMIN,
                        dovuto_json(&format!("IUD-{i}"), &importo),
                    )
                    .await;
                assert_eq!(s, StatusCode::CREATED, "{d}");
                attesi.push((ente.to_owned(), d["iuv"].as_str().unwrap().to_owned(), importo));
            }
        }
        // The second ente's IUVs are issued like the first's: the same strings, other positions.
        assert!(attesi[12..].iter().any(|(_, v, _)| attesi[..12].iter().any(|(_, w, _)| v == w)));
        app.start();
        let mut chiamate = Vec::new();
        for _ in 0..3 {
            for (ente, iuv, importo) in &attesi {
                chiamate.push((ente.clone(), iuv.clone(), Some(importo.clone())));
            }
            chiamate.push((ENTE.to_owned(), "01999999999999999".to_owned(), None));
        }
        // Eight at a time: each opens its own mTLS connection, and in a debug build on one
        // thread dozens of handshakes together outlast the listener's handshake timeout.
        let mut risposte = Vec::new();
        for gruppo in chiamate.chunks(8) {
            risposte.extend(
                futures_util::future::join_all(gruppo.iter().map(|(ente, iuv, _)| async {
                    verifica(&app, &envelope(&app, ente, iuv)).await
                }))
                .await,
            );
        }
        for ((ente, iuv, importo), e) in chiamate.iter().zip(&risposte) {
            match importo {
                Some(importo) => {
                    assert_eq!(e.esito, Esito::OK, "{ente}/{iuv}: {e:?}");
                    let d = e.dati_pagamento_pa.as_ref().unwrap();
                    assert_eq!(&d.importo.to_string(), importo, "{ente}/{iuv}");
                    assert_eq!(d.ente_beneficiario.as_ref().unwrap().identificativo.codice, *ente);
                }
                None => assert_eq!(fault_of(e).0, "PAA_PAGAMENTO_SCONOSCIUTO", "{iuv}"),
            }
        }
        // The store's read alone, from tasks spawned together: on PostgreSQL the reads queued
        // behind the first statements go out together.
        let store = app.store();
        let prima = store.dovuti().letture_per_iuv();
        let compiti: Vec<_> = chiamate
            .iter()
            .cloned()
            .map(|(ente, iuv, importo)| {
                let store = store.clone();
                tokio::spawn(async move {
                    let d = store.dovuti().get_by_iuv(&ente, &iuv).await.unwrap();
                    assert_eq!(
                        d.map(|d| (d.id_dominio.to_string(), d.iuv.to_string(), d.importo.to_string())),
                        importo.map(|i| (ente.clone(), iuv.clone(), i)),
                    );
                })
            })
            .collect();
        for c in compiti {
            c.await.unwrap();
        }
        let dopo = store.dovuti().letture_per_iuv();
        match (prima, dopo) {
            (Some(p), Some(d)) => {
                // Every read answered by a shared statement, none sent back to read alone.
                let (letture, istruzioni) = (d.letture - p.letture, d.istruzioni - p.istruzioni);
                assert_eq!((letture, d.da_sole), (chiamate.len() as u64, p.da_sole));
                assert!(istruzioni < letture / 4, "{istruzioni} statements for {letture} reads");
            }
            (None, None) => assert_eq!(app.store().backend(), "sqlite"),
            other => panic!("{other:?}"),
        }
    }
);
