//! paaInviaRT over the real mTLS listener: a receipt is stored before it is acknowledged,
//! applied once, quarantined when its RPT is unknown, flagged when amounts disagree.

use crate::both_backends;
use crate::helpers::*;
use crate::xsd::{assert_valid, wsdl_schema};
use axum::http::{Method, StatusCode};
use pagopa_gateway::model::rpt::*;
use pagopa_gateway::model::{IdDominio, Importo, Iuv, StatoDovuto};
use pagopa_gateway::soap::sanp2::{Base64Doc, Esito, EsitoPaaInviaRT, IntestazionePPT, PaaInviaRT};
use pagopa_gateway::soap::{NS_PPT, read_envelope, write_envelope};
use pagopa_gateway::store::NuovaRpt;
use pagopa_gateway::xml::Limits;

const ENTE: &str = "80007580279";
const CCP: &str = "ccp-1";

pub(crate) fn rt_xml(iuv: &str, ccp: &str, esito: u8, singoli_cents: &[i64]) -> String {
    let day = time::Date::from_calendar_date(2026, time::Month::November, 28).unwrap();
    let id = |t: &str, c: &str| IdentificativoUnivoco {
        tipo: t.into(),
        codice: c.into(),
    };
    let ente = |t: &str, c: &str, n: &str| Ente {
        identificativo: id(t, c),
        denominazione: n.into(),
        codice_unit_oper: None,
        denom_unit_oper: None,
        indirizzo: None,
        civico: None,
        cap: None,
        localita: None,
        provincia: None,
        nazione: None,
    };
    let singoli: Vec<DatiSingoloPagamento> = singoli_cents
        .iter()
        .map(|&c| DatiSingoloPagamento {
            indice: None,
            importo: Importo::from_cents(c).unwrap(),
            esito: None,
            data_esito: day,
            iur: "IUR-1".into(),
            causale: "TARI".into(),
            dati_specifici_riscossione: "9/0101105IM/".into(),
            commissioni_psp: None,
            commissioni_pa: None,
            allegato: None,
        })
        .collect();
    Rt {
        versione_oggetto: "6.2.0".into(),
        dominio: Dominio {
            identificativo_dominio: IdDominio::parse(ENTE).unwrap(),
            identificativo_stazione_richiedente: None,
        },
        identificativo_messaggio_ricevuta: "RT-1".into(),
        data_ora_messaggio_ricevuta: DataOra::parse("2026-11-28T10:00:00").unwrap(),
        riferimento_messaggio_richiesta: "RPT-1".into(),
        riferimento_data_richiesta: day,
        istituto_attestante: ente("B", "ABCDITMM", "Banca"),
        ente_beneficiario: ente("G", ENTE, "Comune"),
        soggetto_versante: None,
        soggetto_pagatore: Soggetto {
            identificativo: id("F", "RSSMRA85T10A562S"),
            anagrafica: "Mario Rossi".into(),
            indirizzo: None,
            civico: None,
            cap: None,
            localita: None,
            provincia: None,
            nazione: None,
            email: None,
        },
        dati_pagamento: DatiPagamento {
            codice_esito: esito,
            importo_totale_pagato: Importo::from_cents(singoli_cents.iter().sum()).unwrap(),
            iuv: Iuv::parse(iuv).unwrap(),
            ccp: ccp.into(),
            dati_singolo_pagamento: singoli,
        },
    }
    .to_xml()
}

fn envelope(app: &TestApp, iuv: &str, ccp: &str, rt: &[u8]) -> String {
    let i = &app.config.intermediario;
    let h = IntestazionePPT {
        id_intermediario_pa: i.id_intermediario_pa.clone(),
        id_stazione: i.id_stazione.clone(),
        id_dominio: ENTE.into(),
        iuv: iuv.into(),
        ccp: ccp.into(),
    };
    write_envelope(
        Some(&h.write()),
        &PaaInviaRT {
            tipo_firma: None,
            rt: Base64Doc(rt.to_vec()),
        }
        .write(),
    )
}

async fn invia(app: &TestApp, env: &str) -> EsitoPaaInviaRT {
    let (status, body) = app.soap_post("/ricevute", "paaInviaRT", env).await;
    assert_eq!(status, 200, "{body}");
    let e = read_envelope(body.as_bytes(), Limits::MESSAGE).unwrap();
    assert_valid(
        &wsdl_schema("PaPerNodo.wsdl", NS_PPT),
        &[e.body.xml.to_owned()],
    );
    EsitoPaaInviaRT::parse(e.body.xml).unwrap()
}

fn code(e: &EsitoPaaInviaRT) -> &str {
    e.fault.as_ref().map_or("OK", |f| f.fault_code.as_str())
}

/// An ente, a dovuto of 100.00 being paid, and its RPT (IUV, CCP); the app running.
async fn setup(app: &mut TestApp) -> String {
    setup_with(app, dovuto_json("IUD-1", "100.00")).await
}

async fn setup_with(app: &mut TestApp, dovuto: serde_json::Value) -> String {
    let iuv = prepara(app, dovuto).await;
    app.start();
    iuv
}

/// The ente, its dovuto in PAGAMENTO_INIZIATO and the RPT of `CCP`, nothing running.
async fn prepara(app: &mut TestApp, dovuto: serde_json::Value) -> String {
    app.seed_ente(ENTE, "c_l736", 1).await;
    let (_, d) = app
        .post(&format!("/api/v1/enti/{ENTE}/dovuti"), ADMIN, dovuto)
        .await;
    let iuv = d["iuv"].as_str().unwrap().to_owned();
    let store = app.store();
    let dovuto = store.dovuti().get(ENTE, "IUD-1").await.unwrap();
    store
        .dovuti()
        .change_stato(&dovuto, StatoDovuto::PagamentoIniziato, "test")
        .await
        .unwrap();
    store
        .pagamenti()
        .insert_rpt(&NuovaRpt {
            id_dominio: ENTE.into(),
            iuv: iuv.clone(),
            ccp: CCP.into(),
            dovuto_id: Some(dovuto.id),
            importo: Importo::from_cents(10_000).unwrap(),
            xml: b"<RPT/>".to_vec(),
        })
        .await
        .unwrap();
    iuv
}

async fn received(app: &TestApp, stato: &str) -> serde_json::Value {
    let (s, p) = app.get(&format!("/api/v1/rt?stato={stato}"), ADMIN).await;
    assert_eq!(s, StatusCode::OK);
    p
}

both_backends!(
    positive_rt_marks_the_dovuto_paid_and_a_redelivery_is_a_duplicate,
    |app| {
        let mut app = app;
        let iuv = setup(&mut app).await;
        let rt = rt_xml(&iuv, CCP, 0, &[10_000]);
        let env = envelope(&app, &iuv, CCP, rt.as_bytes());
        assert_eq!(code(&invia(&app, &env).await), "OK");
        let d = app.store().dovuti().get(ENTE, "IUD-1").await.unwrap();
        assert_eq!(d.stato, StatoDovuto::Pagato);
        let p = received(&app, "ELABORATA").await;
        assert_eq!(
            (
                p["total"].as_i64(),
                p["items"][0]["codice_esito"].as_i64(),
                p["items"][0]["importo_cents"].as_i64()
            ),
            (Some(1), Some(0), Some(10_000))
        );
        // Stored exactly as received.
        let (s, _, raw) = app
            .raw(
                Method::GET,
                &format!("/api/v1/rt/{}/xml", p["items"][0]["id"]),
                Some(ADMIN),
                "",
                vec![],
            )
            .await;
        assert_eq!((s, raw), (StatusCode::OK, rt.clone().into_bytes()));
        // The Nodo delivers again: duplicate, nothing changes.
        let e = invia(&app, &env).await;
        assert_eq!((e.esito, code(&e)), (Esito::KO, "PAA_RT_DUPLICATA"));
        assert_eq!(e.fault.unwrap().id, ENTE);
        assert_eq!(
            app.store()
                .dovuti()
                .get(ENTE, "IUD-1")
                .await
                .unwrap()
                .version,
            d.version
        );
    }
);

/// Rows of `sql` (every column cast to text by the query), read over a connection of
/// the test's own.
async fn righe(app: &TestApp, sql: &'static str) -> Vec<Vec<String>> {
    use sqlx::{Connection, Row};
    let url = app.config.database.url.clone().unwrap();
    macro_rules! leggi {
        ($c:ty) => {{
            let mut c = <$c>::connect(&url).await.unwrap();
            sqlx::query(sql)
                .fetch_all(&mut c)
                .await
                .unwrap()
                .iter()
                .map(|r| (0..r.len()).map(|i| r.get::<String, _>(i)).collect())
                .collect()
        }};
    }
    if app.store().backend() == "postgres" {
        leggi!(sqlx::PgConnection)
    } else {
        leggi!(sqlx::SqliteConnection)
    }
}

both_backends!(
    an_rt_applied_in_one_transaction_queues_its_email_its_keys_and_its_day_once,
    |app| {
        // On PostgreSQL the receipt's statements queue these in fewer round trips (the
        // e-mail with the RT's insert, the day and the keys with the staged receipt's): the
        // same rows either way, and none again for a duplicate.
        let mut app = app;
        let iuv = prepara(&mut app, dovuto_json("IUD-1", "100.00")).await;
        let store = app.store();
        let rt = rt_xml(&iuv, CCP, 0, &[10_000]);
        let applica = || {
            pagopa_gateway::pagamenti::ricevute::registra_e_applica(
                &store,
                ENTE,
                &iuv,
                CCP,
                rt.as_bytes(),
            )
        };
        assert!(applica().await, "applied in one transaction");
        let stato = || async {
            (
                righe(&app, "SELECT CAST(id AS TEXT), stato FROM rt_ricevuta").await,
                righe(&app, "SELECT CAST(ref_id AS TEXT) FROM outbox WHERE kind = 'rtEmail'").await,
                righe(&app, "SELECT tipo, chiave FROM recon_coda ORDER BY tipo, chiave").await,
                righe(&app, "SELECT id_dominio, CAST(giorno AS TEXT) FROM statistica_sporca").await,
                righe(&app, "SELECT iud, tipo_dovuto, CAST(rt_id AS TEXT), CAST(data_esito AS TEXT) FROM ricevuta").await,
            )
        };
        let (rt_rows, email, coda, sporca, ricevute) = stato().await;
        let [rt_row] = &rt_rows[..] else {
            panic!("{rt_rows:?}")
        };
        assert_eq!(rt_row[1], "ELABORATA");
        let rt_id = rt_row[0].clone();
        assert_eq!(email, [[rt_id.clone()]]);
        assert_eq!(
            coda,
            [
                ["D".to_owned(), "IUD-1".to_owned()],
                ["V".to_owned(), iuv.clone()]
            ]
        );
        let [ricevuta] = &ricevute[..] else {
            panic!("{ricevute:?}")
        };
        assert_eq!(
            &ricevuta[..3],
            ["IUD-1", "TARI", rt_id.as_str()],
            "{ricevuta:?}"
        );
        assert_eq!(sporca, [[ENTE.to_owned(), ricevuta[3].clone()]]);
        assert_eq!(
            store.dovuti().get(ENTE, "IUD-1").await.unwrap().stato,
            StatoDovuto::Pagato
        );
        // Delivered again: held already, nothing queued twice.
        assert!(!applica().await);
        assert_eq!(stato().await, (rt_rows, email, coda, sporca, ricevute));
    }
);

both_backends!(
    the_dovuto_bilancio_reaches_the_receipt_and_books_it_on_the_days_automatic_accertamento,
    |app| {
        let mut app = app;
        let mut d = dovuto_json("IUD-1", "100.00");
        d["bilancio"] = serde_json::json!([
            {"cod_capitolo": "C1", "cod_ufficio": "U1", "cod_accertamento": "A1", "importo": "60.00"},
            {"cod_capitolo": "C2", "importo": "40.00"}
        ]);
        let iuv = setup_with(&mut app, d).await;
        let env = envelope(&app, &iuv, CCP, rt_xml(&iuv, CCP, 0, &[10_000]).as_bytes());
        assert_eq!(code(&invia(&app, &env).await), "OK");
        let (s, l) = app
            .get(
                &format!("/api/v1/enti/{ENTE}/accertamenti?stato=CHIUSO"),
                ADMIN,
            )
            .await;
        assert_eq!((s, l["total"].as_i64()), (StatusCode::OK, Some(1)), "{l}");
        let a = &l["items"][0];
        let today = time::OffsetDateTime::now_utc().date();
        assert_eq!(a["nome"], format!("RT-{today}_TARI"));
        let (_, det) = app
            .get(
                &format!("/api/v1/enti/{ENTE}/accertamenti/{}", a["id"]),
                ADMIN,
            )
            .await;
        let voci: Vec<(&str, &str, i64)> = det["righe"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                (
                    r["cod_capitolo"].as_str().unwrap(),
                    r["cod_ufficio"].as_str().unwrap(),
                    r["importo_cents"].as_i64().unwrap(),
                )
            })
            .collect();
        assert_eq!(voci, [("C1", "U1", 6_000), ("C2", "n/a", 4_000)]);
    }
);

both_backends!(
    an_rt_with_esito_2_pays_its_one_versamento_dovuto_and_a_short_one_is_flagged,
    |app| {
        // Our RPTs carry one versamento: a "partially executed" RT attests that versamento
        // paid. The dovuto is PAGATO (as the cart's outcome says, see dominio::carrello),
        // the e-mail goes out; paying less than the RPT is an anomaly, never a refusal.
        let mut app = app;
        let iuv = setup(&mut app).await;
        let env = envelope(&app, &iuv, CCP, rt_xml(&iuv, CCP, 2, &[6_000]).as_bytes());
        assert_eq!(code(&invia(&app, &env).await), "OK");
        let d = app.store().dovuti().get(ENTE, "IUD-1").await.unwrap();
        assert_eq!(d.stato, StatoDovuto::Pagato);
        let p = received(&app, "ANOMALA").await;
        assert_eq!(
            (p["total"].as_i64(), p["items"][0]["codice_esito"].as_i64()),
            (Some(1), Some(2)),
            "{p}"
        );
        assert!(
            p["items"][0]["nota"]
                .as_str()
                .unwrap()
                .contains("pagati 60.00 su una RPT di 10000 centesimi"),
            "{p}"
        );
        let (_, o) = app.get("/api/v1/outbox?kind=rtEmail", ADMIN).await;
        assert_eq!(o["total"].as_i64(), Some(1), "{o}");
    }
);

both_backends!(negative_rt_makes_the_dovuto_payable_again, |app| {
    let mut app = app;
    let iuv = setup(&mut app).await;
    let env = envelope(&app, &iuv, CCP, rt_xml(&iuv, CCP, 1, &[]).as_bytes());
    assert_eq!(code(&invia(&app, &env).await), "OK");
    let d = app.store().dovuti().get(ENTE, "IUD-1").await.unwrap();
    assert_eq!(d.stato, StatoDovuto::NonPagato);
    assert!(d.stato.is_payable());
});

both_backends!(
    rt_for_an_unknown_rpt_is_quarantined_then_applied_when_its_rpt_exists,
    |app| {
        let mut app = app;
        let iuv = setup(&mut app).await;
        let env = envelope(
            &app,
            &iuv,
            "ccp-unknown",
            rt_xml(&iuv, "ccp-unknown", 0, &[10_000]).as_bytes(),
        );
        let e = invia(&app, &env).await;
        assert_eq!(code(&e), "PAA_RPT_SCONOSCIUTA");
        let p = received(&app, "QUARANTENA").await;
        assert_eq!(
            (p["total"].as_i64(), p["items"][0]["ccp"].as_str()),
            (Some(1), Some("ccp-unknown"))
        );
        // Once the RPT is known, the Nodo's next delivery is applied.
        let dovuto = app.store().dovuti().get(ENTE, "IUD-1").await.unwrap();
        app.store()
            .pagamenti()
            .insert_rpt(&NuovaRpt {
                id_dominio: ENTE.into(),
                iuv: iuv.clone(),
                ccp: "ccp-unknown".into(),
                dovuto_id: Some(dovuto.id),
                importo: Importo::from_cents(10_000).unwrap(),
                xml: b"<RPT/>".to_vec(),
            })
            .await
            .unwrap();
        assert_eq!(code(&invia(&app, &env).await), "OK");
        assert_eq!(received(&app, "QUARANTENA").await["total"], 0);
        assert_eq!(
            app.store().dovuti().get(ENTE, "IUD-1").await.unwrap().stato,
            StatoDovuto::Pagato
        );
    }
);

both_backends!(
    rt_with_amounts_not_matching_the_rpt_is_accepted_and_flagged,
    |app| {
        let mut app = app;
        let iuv = setup(&mut app).await;
        let env = envelope(&app, &iuv, CCP, rt_xml(&iuv, CCP, 0, &[9_000]).as_bytes());
        assert_eq!(code(&invia(&app, &env).await), "OK");
        let p = received(&app, "ANOMALA").await;
        assert_eq!(p["total"], 1);
        assert!(
            p["items"][0]["nota"].as_str().unwrap().contains("10000"),
            "{p}"
        );
        assert_eq!(
            app.store().dovuti().get(ENTE, "IUD-1").await.unwrap().stato,
            StatoDovuto::Pagato
        );
    }
);

both_backends!(
    unreadable_or_mismatched_rt_is_kept_and_refused_with_the_right_fault,
    |app| {
        let mut app = app;
        let iuv = setup(&mut app).await;
        let broken = rt_xml(&iuv, CCP, 0, &[10_000]).replace(
            "<pay_i:importoTotalePagato>100.00",
            "<pay_i:importoTotalePagato>1OO.00",
        );
        assert_eq!(
            code(&invia(&app, &envelope(&app, &iuv, CCP, broken.as_bytes())).await),
            "PAA_SINTASSI_XSD"
        );
        let p = received(&app, "INVALIDA").await;
        assert_eq!(p["total"], 1, "an unreadable RT is kept too");
        // An RT whose key disagrees with the header.
        let other = rt_xml(&iuv, "another-ccp", 0, &[10_000]);
        assert_eq!(
            code(&invia(&app, &envelope(&app, &iuv, CCP, other.as_bytes())).await),
            "PAA_SEMANTICA"
        );
        // The corrected delivery replaces the unreadable one and is applied.
        let good = rt_xml(&iuv, CCP, 0, &[10_000]);
        assert_eq!(
            code(&invia(&app, &envelope(&app, &iuv, CCP, good.as_bytes())).await),
            "OK"
        );
        assert_eq!(received(&app, "INVALIDA").await["total"], 0);
        assert_eq!(
            app.store().dovuti().get(ENTE, "IUD-1").await.unwrap().stato,
            StatoDovuto::Pagato
        );
        // Operators of another ente see none of it.
        let other_ente = cf11("0012345678");
        app.seed_ente(&other_ente, "c_f241", 2).await;
        let key = app.operator_key(&other_ente).await;
        let (_, p) = app.get("/api/v1/rt", &key).await;
        assert_eq!(p["total"], 0);
    }
);

both_backends!(
    an_rt_whose_processing_was_cut_short_is_finished_by_the_sweep,
    |app| {
        let mut app = app;
        let iuv = setup(&mut app).await;
        let store = app.store();
        // As after a crash between the raw commit and the application: stored, RICEVUTA.
        let rt = rt_xml(&iuv, CCP, 0, &[10_000]);
        store
            .pagamenti()
            .store_rt_raw(ENTE, &iuv, CCP, rt.as_bytes())
            .await
            .unwrap();
        assert_eq!(received(&app, "RICEVUTA").await["total"], 1);
        // Too recent for the sweep: an in-flight delivery may be processing it.
        let min_age = std::time::Duration::from_secs(3600);
        assert_eq!(
            pagopa_gateway::pa_server::rielabora_rt(&store, min_age)
                .await
                .unwrap(),
            0
        );
        let zero = std::time::Duration::ZERO;
        assert_eq!(
            pagopa_gateway::pa_server::rielabora_rt(&store, zero)
                .await
                .unwrap(),
            1
        );
        assert_eq!(received(&app, "ELABORATA").await["total"], 1);
        assert_eq!(
            store.dovuti().get(ENTE, "IUD-1").await.unwrap().stato,
            StatoDovuto::Pagato
        );
        // Nothing left to finish; the Nodo's re-delivery is a duplicate.
        assert_eq!(
            pagopa_gateway::pa_server::rielabora_rt(&store, zero)
                .await
                .unwrap(),
            0
        );
        let env = envelope(&app, &iuv, CCP, rt.as_bytes());
        assert_eq!(code(&invia(&app, &env).await), "PAA_RT_DUPLICATA");
    }
);

// A new RT is stored raw and applied in one transaction; when that transaction fails, the
// receipt is still committed raw before the answer, and nothing of its application stays.
both_backends!(
    an_rt_whose_application_fails_is_kept_raw_and_applied_on_redelivery,
    |app| {
        use sqlx::Connection;
        let mut app = app;
        let iuv = setup(&mut app).await;
        let url = app.config.database.url.clone().unwrap();
        let postgres = app.store().backend() == "postgres";
        // Every update of an RPT fails, as a database fault would.
        let (guasta, ripara) = if postgres {
            (
                "CREATE FUNCTION guasto() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'guasto di prova'; END $$;
                 CREATE TRIGGER rpt_guasta BEFORE UPDATE ON rpt FOR EACH ROW EXECUTE FUNCTION guasto();",
                "DROP TRIGGER rpt_guasta ON rpt",
            )
        } else {
            (
                "CREATE TRIGGER rpt_guasta BEFORE UPDATE ON rpt BEGIN SELECT RAISE(ABORT, 'guasto di prova'); END",
                "DROP TRIGGER rpt_guasta",
            )
        };
        let esegui = async |sql: &'static str| {
            if postgres {
                let mut c = sqlx::PgConnection::connect(&url).await.unwrap();
                sqlx::raw_sql(sql).execute(&mut c).await.unwrap();
            } else {
                let mut c = sqlx::SqliteConnection::connect(&url).await.unwrap();
                sqlx::raw_sql(sql).execute(&mut c).await.unwrap();
            }
        };
        esegui(guasta).await;
        let rt = rt_xml(&iuv, CCP, 0, &[10_000]);
        let env = envelope(&app, &iuv, CCP, rt.as_bytes());
        assert_eq!(code(&invia(&app, &env).await), "PAA_SYSTEM_ERROR");
        assert_eq!(received(&app, "RICEVUTA").await["total"], 1, "kept raw");
        assert_eq!(received(&app, "ELABORATA").await["total"], 0);
        let store = app.store();
        assert_eq!(
            store.dovuti().get(ENTE, "IUD-1").await.unwrap().stato,
            StatoDovuto::PagamentoIniziato
        );
        // The fault gone, the Nodo's re-delivery applies the receipt it holds.
        esegui(ripara).await;
        assert_eq!(code(&invia(&app, &env).await), "OK");
        assert_eq!(received(&app, "ELABORATA").await["total"], 1);
        assert_eq!(
            store.dovuti().get(ENTE, "IUD-1").await.unwrap().stato,
            StatoDovuto::Pagato
        );
    }
);

both_backends!(
    retention_removes_old_raw_receipts_and_import_reports_in_batches_and_keeps_what_they_decided,
    |app| {
        use pagopa_gateway::retention::{Politica, Tipo, pass};
        let mut app = app;
        let iuv = setup(&mut app).await;
        let rt = rt_xml(&iuv, CCP, 0, &[10_000]);
        assert_eq!(
            code(&invia(&app, &envelope(&app, &iuv, CCP, rt.as_bytes())).await),
            "OK"
        );
        let id = received(&app, "ELABORATA").await["items"][0]["id"].clone();
        // An import report with two rejects.
        let empty = ";".repeat(21);
        let csv = format!("{}\r\nx{empty}\r\ny{empty}\r\n", crate::import::HEADER_1_3);
        let (s, _, body) = app
            .raw(
                Method::POST,
                &format!("/api/v1/enti/{ENTE}/dovuti/import"),
                Some(ADMIN),
                "text/csv",
                csv.as_bytes().to_vec(),
            )
            .await;
        let job: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(
            (s, job["righe_scartate"].as_i64()),
            (StatusCode::OK, Some(2)),
            "{job}"
        );
        let job_path = format!(
            "/api/v1/enti/{ENTE}/imports/{}",
            job["id"].as_str().unwrap()
        );

        // A reporting flow as downloaded.
        let store = app.store();
        let mut flusso = pagopa_gateway::store::NuovoFlusso::da_leggere(
            ENTE,
            "2026-11-28ABI00000-S0001",
            "2026-11-28T10:00:00",
        );
        flusso.raw = b"<FlussoRiversamento/>".to_vec();
        store
            .riconciliazione()
            .insert_flusso(&flusso)
            .await
            .unwrap();

        let dieci_anni = std::time::Duration::from_secs(3650 * 86_400);
        let mut politica = Politica::from_config(&app.config);
        politica.rt_raw = Some(dieci_anni);
        politica.flussi_raw = Some(dieci_anni);
        politica.import_report = Some(std::time::Duration::from_secs(400 * 86_400));
        politica.batch = 1;
        politica.pausa = std::time::Duration::ZERO;
        let count = |r: &[(Tipo, u64)]| {
            let n = |t: Tipo| r.iter().find(|(k, _)| *k == t).map(|x| x.1);
            (n(Tipo::RtRaw), n(Tipo::FlussiRaw), n(Tipo::ImportReport))
        };
        // Today nothing is old enough.
        let now = time::OffsetDateTime::now_utc();
        let r = pass(&store, &politica, now).await;
        assert_eq!(count(&r), (Some(0), Some(0), Some(0)));
        assert_eq!(app.get(&job_path, ADMIN).await.0, StatusCode::OK);
        // Eleven years on: the raw receipt, the raw flow and the report go (two rejects, then the job,
        // one row per batch); a second pass finds nothing.
        let later = now + time::Duration::days(11 * 365);
        let r = pass(&store, &politica, later).await;
        assert_eq!(count(&r), (Some(1), Some(1), Some(3)));
        let r = pass(&store, &politica, later).await;
        assert_eq!(count(&r), (Some(0), Some(0), Some(0)));
        let (s, p) = app.get(&format!("/api/v1/rt/{id}/xml"), ADMIN).await;
        assert_eq!(
            (s, p["code"].as_str()),
            (StatusCode::GONE, Some("GONE")),
            "{p}"
        );
        assert_eq!(app.get(&job_path, ADMIN).await.0, StatusCode::NOT_FOUND);
        // What the receipt decided stays: the dovuto paid, the receipt listed as applied.
        let d = store.dovuti().get(ENTE, "IUD-1").await.unwrap();
        assert_eq!(d.stato, StatoDovuto::Pagato);
        assert_eq!(received(&app, "ELABORATA").await["total"], 1);
    }
);
