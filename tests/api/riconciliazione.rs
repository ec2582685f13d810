//! MyPivot reconciliation end to end over REST: a generated month of receipts (MyPay export
//! pagati), reporting flows and treasury lines with known faults, every payment classified
//! as expected after incremental imports and identically after a full rebuild; views,
//! notes that hide lines, exports (streamed and booked), the XLSX journal, and ente
//! isolation.

use crate::both_backends;
use crate::helpers::*;
use axum::http::{Method, StatusCode};
use pagopa_gateway::model::{Importo, Iuv};
use pagopa_gateway::sim::tesoreria::{Movimento, csv};
use pagopa_gateway::store::NuovaRicevuta;
use sqlx::Connection;
use std::collections::{BTreeMap, BTreeSet};
use time::{Date, Month};

const A: &str = "80007580279";
const B: &str = "00000000000";

fn giorno(d: u8) -> Date {
    Date::from_calendar_date(2026, Month::November, d).unwrap()
}

pub(crate) fn iuv(n: usize) -> String {
    Iuv::parse(&format!("01{:013}{:02}", n, n % 93))
        .unwrap()
        .to_string()
}

pub(crate) struct Pagamento {
    pub iuv: String,
    pub iur: String,
    pub cents: i64,
    pub giorno: u8,
}

pub(crate) fn flusso_xml(iuf: &str, ente: &str, day: Date, pagamenti: &[&Pagamento]) -> Vec<u8> {
    use pagopa_gateway::model::flusso::*;
    use pagopa_gateway::model::rpt::{DataOra, IdentificativoUnivoco};
    let ist = |t: &str, c: &str| Istituto {
        identificativo: IdentificativoUnivoco {
            tipo: t.into(),
            codice: c.into(),
        },
        denominazione: None,
    };
    let totale: i64 = pagamenti.iter().map(|p| p.cents).sum();
    FlussoRiversamento {
        testata: TestataFlusso {
            versione_oggetto: "1.0".into(),
            identificativo_flusso: iuf.into(),
            data_ora_flusso: DataOra::parse(&format!("{day}T07:00:00")).unwrap(),
            identificativo_univoco_regolamento: format!("TRN-{iuf}"),
            data_regolamento: day,
            istituto_mittente: ist("B", "ABCDITMMXXX"),
            codice_bic_banca_di_riversamento: None,
            istituto_ricevente: ist("G", ente),
            numero_totale_pagamenti: pagamenti.len() as u64,
            importo_totale_pagamenti: Importo::from_cents(totale).unwrap(),
        },
        pagamenti: pagamenti
            .iter()
            .map(|p| PagamentoFlusso {
                iuv: Iuv::parse(&p.iuv).unwrap(),
                iur: p.iur.clone(),
                indice: Some(1),
                importo: Importo::from_cents(p.cents).unwrap(),
                codice_esito: 0,
                data_esito: giorno(p.giorno),
            })
            .collect(),
    }
    .to_xml()
    .into_bytes()
}

pub(crate) fn ricevuta(p: &Pagamento) -> NuovaRicevuta {
    NuovaRicevuta {
        iuv: p.iuv.clone(),
        iur: p.iur.clone(),
        indice: 1,
        iud: Some(format!("IUD-{}", p.iuv)),
        tipo_dovuto: Some("TARI".into()),
        importo_cents: p.cents,
        totale_cents: p.cents,
        codice_esito: 0,
        data_esito: giorno(p.giorno),
        cf_pagatore: Some("RSSMRA85T10A562S".into()),
        anagrafica_pagatore: Some("Mario Rossi".into()),
        cf_versante: None,
        anagrafica_versante: None,
        attestante: Some("ABCDITMMXXX".into()),
        denominazione_attestante: Some("Banca".into()),
        causale: Some("TARI".into()),
        bilancio: None,
        fonte: "PAGATI",
        rt_id: None,
    }
}

/// A month for ente A: 28 days × 2 PSP flows × 4 payments, every flow transferred to the
/// treasury the day after, except the faults: a transfer that never came, one a cent
/// short, a reported payment whose receipt never arrived, a receipt no flow reports, and a
/// treasury line with no reference. Returns the files and the codes each IUV must carry.
struct Mese {
    pagati: String,
    flussi: Vec<Vec<u8>>,
    tesoreria: Vec<Movimento>,
    attesi: BTreeMap<String, BTreeSet<&'static str>>,
}

fn mese() -> Mese {
    let mut m = Mese {
        pagati: "intestazione\n".into(),
        flussi: Vec::new(),
        tesoreria: Vec::new(),
        attesi: BTreeMap::new(),
    };
    let mut n = 0;
    for d in 1..=28u8 {
        for psp in 0..2 {
            let iuf = format!("{}ABCDITMMXXX-S{d:02}{psp}", giorno(d));
            let pagamenti: Vec<Pagamento> = (0..4)
                .map(|k| {
                    n += 1;
                    Pagamento {
                        iuv: iuv(n),
                        iur: format!("IUR{n:08}"),
                        cents: 1_000 + 37 * n as i64 + k,
                        giorno: d,
                    }
                })
                .collect();
            let mancante = d == 5 && psp == 0;
            let corto = d == 10 && psp == 1;
            let totale: i64 = pagamenti.iter().map(|p| p.cents).sum();
            for (k, p) in pagamenti.iter().enumerate() {
                let senza_rt = d == 15 && psp == 0 && k == 0;
                if !senza_rt {
                    m.pagati.push_str(&pagopa_gateway::recon::pagati::riga_csv(
                        A,
                        &ricevuta(p),
                        None,
                    ));
                }
                let codes: BTreeSet<&str> = match (senza_rt, mancante, corto) {
                    (true, _, _) => ["IUV_NO_RT"].into(),
                    (_, true, _) => ["RT_IUF", "IUF_NO_TES"].into(),
                    (_, _, true) => ["RT_IUF", "IUF_TES_DIV_IMP"].into(),
                    _ => ["RT_IUF", "RT_IUF_TES"].into(),
                };
                m.attesi.insert(p.iuv.clone(), codes);
            }
            m.flussi.push(flusso_xml(
                &iuf,
                A,
                giorno(d),
                &pagamenti.iter().collect::<Vec<_>>(),
            ));
            if !mancante {
                m.tesoreria.push(Movimento {
                    numero: m.tesoreria.len() as u64 + 1,
                    data: giorno(d + 1),
                    importo: Importo::from_cents(totale - i64::from(corto)).unwrap(),
                    ordinante: "PAGOPA SPA".into(),
                    causale: format!("/PUR/LGPE-RIVERSAMENTO/URI/{iuf}"),
                });
            }
        }
    }
    // A receipt no flow reports, and a treasury line nobody can place.
    n += 1;
    let orfano = Pagamento {
        iuv: iuv(n),
        iur: format!("IUR{n:08}"),
        cents: 4_200,
        giorno: 28,
    };
    m.pagati.push_str(&pagopa_gateway::recon::pagati::riga_csv(
        A,
        &ricevuta(&orfano),
        None,
    ));
    m.attesi.insert(orfano.iuv, ["RT_NO_IUF"].into());
    m.tesoreria.push(Movimento {
        numero: m.tesoreria.len() as u64 + 1,
        data: giorno(29),
        importo: Importo::from_cents(777).unwrap(),
        ordinante: "SCONOSCIUTO".into(),
        causale: "BONIFICO SENZA RIFERIMENTI".into(),
    });
    m
}

pub(crate) async fn post_body(
    app: &TestApp,
    path: &str,
    token: &str,
    body: impl Into<Vec<u8>>,
) -> (StatusCode, serde_json::Value) {
    let (s, _, b) = app
        .raw(Method::POST, path, Some(token), "text/plain", body.into())
        .await;
    (
        s,
        serde_json::from_slice(&b).unwrap_or(serde_json::Value::Null),
    )
}

pub(crate) async fn ente_tesoreria(app: &TestApp, id: &str, ipa: &str) {
    let mut e = ente_json(id, ipa, 1);
    e["flg_tesoreria"] = serde_json::json!(true);
    assert_eq!(
        app.post("/api/v1/enti", ADMIN, e).await.0,
        StatusCode::CREATED
    );
}

/// Every line (all codes) as (iuv, iuf, bolletta, codes), sorted.
async fn tutte(
    app: &TestApp,
    ente: &str,
    token: &str,
) -> Vec<(String, String, String, Vec<String>)> {
    let mut out = Vec::new();
    for page in 1.. {
        let (s, r) = app
            .get(
                &format!("/api/v1/enti/{ente}/riconciliazione?per_page=500&page={page}"),
                token,
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{r}");
        let righe = r["righe"].as_array().unwrap();
        for l in righe {
            let t = |k: &str| l[k].as_str().unwrap_or("").to_owned();
            let codes = l["codici"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c.as_str().unwrap().to_owned())
                .collect();
            out.push((
                t("iuv"),
                t("iuf"),
                format!("{}", l["codice_bolletta"]),
                codes,
            ));
        }
        if righe.len() < 500 {
            break;
        }
    }
    out.sort();
    out
}

async fn importa_mese(app: &TestApp, m: &Mese) {
    let (s, j) = post_body(
        app,
        &format!("/api/v1/enti/{A}/ricevute"),
        ADMIN,
        m.pagati.clone(),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{j}");
    assert_eq!(j["righe_scartate"], 0, "{j}");
    for f in &m.flussi {
        let (s, r) = post_body(app, &format!("/api/v1/enti/{A}/flussi"), ADMIN, f.clone()).await;
        assert_eq!(s, StatusCode::OK, "{r}");
    }
    // The treasury journal arrives in two uploads (the second half a week later).
    let (a, b) = m.tesoreria.split_at(m.tesoreria.len() / 2);
    for part in [a, b] {
        let (s, r) = post_body(
            app,
            &format!("/api/v1/enti/{A}/tesoreria?formato=csv"),
            ADMIN,
            csv(part),
        )
        .await;
        assert_eq!(
            (s, r["scartate"].as_u64()),
            (StatusCode::OK, Some(0)),
            "{r}"
        );
    }
}

both_backends!(
    a_generated_month_classifies_every_payment_as_expected_incrementally_and_after_a_rebuild,
    |app| {
        ente_tesoreria(&app, A, "c_a").await;
        let m = mese();
        importa_mese(&app, &m).await;
        let lines = tutte(&app, A, ADMIN).await;
        let mut visti = BTreeMap::new();
        for (iuv, _, _, codes) in &lines {
            if let Some(want) = m.attesi.get(iuv) {
                let got: BTreeSet<&str> = codes.iter().map(String::as_str).collect();
                assert_eq!(&got, want, "IUV {iuv}");
                *visti.entry(iuv.clone()).or_insert(0) += 1;
            }
        }
        assert_eq!(visti.len(), m.attesi.len(), "every payment has its line");
        assert!(visti.values().all(|n| *n == 1), "one line per payment");
        let stray: Vec<_> = lines
            .iter()
            .filter(|l| !m.attesi.contains_key(&l.0))
            .collect();
        assert_eq!(stray.len(), 1, "{stray:?}");
        assert_eq!(stray[0].3, ["TES_NO_MATCH"]);
        // The counts agree with the lines.
        let (_, r) = app
            .get(
                &format!("/api/v1/enti/{A}/riconciliazione?vista=anomalie&per_page=500"),
                ADMIN,
            )
            .await;
        assert_eq!(r["conteggi"]["IUF_NO_TES"], 4, "{}", r["conteggi"]);
        assert_eq!(r["conteggi"]["IUF_TES_DIV_IMP"], 4);
        assert_eq!(r["conteggi"]["RT_NO_IUF"], 1);
        assert_eq!(r["conteggi"]["IUV_NO_RT"], 1);
        assert_eq!(r["total"], 11, "anomalie: 4 + 4 + 1 + 1 + the stray line");
        conteggi_come_le_righe(&app, &lines).await;
        // Importing everything again changes nothing; a full rebuild yields the same lines.
        importa_mese(&app, &m).await;
        assert_eq!(tutte(&app, A, ADMIN).await, lines);
        let prima = ids(&app, A).await;
        let (s, r) = ricalcola(&app, A).await;
        assert_eq!(s, StatusCode::OK, "{r}");
        assert_eq!(tutte(&app, A, ADMIN).await, lines);
        conteggi_come_le_righe(&app, &lines).await;
        // Lines the rebuild finds as they were keep their ids: links and notes survive it.
        assert_eq!(ids(&app, A).await, prima);
    }
);

/// The counts per code (kept by the reclassification, not counted on reading) say what
/// the lines say.
async fn conteggi_come_le_righe(app: &TestApp, lines: &[(String, String, String, Vec<String>)]) {
    let mut attesi: BTreeMap<String, i64> = BTreeMap::new();
    for (_, _, _, codes) in lines {
        for c in codes {
            *attesi.entry(c.clone()).or_default() += 1;
        }
    }
    let (_, r) = app
        .get(
            &format!("/api/v1/enti/{A}/riconciliazione?per_page=1"),
            ADMIN,
        )
        .await;
    let conteggi: BTreeMap<String, i64> = serde_json::from_value(r["conteggi"].clone()).unwrap();
    assert_eq!(conteggi, attesi);
    assert_eq!(r["total"], lines.len());
}

/// The ids of every reconciled line of `ente`, sorted.
async fn ids(app: &TestApp, ente: &str) -> Vec<i64> {
    let mut out = Vec::new();
    for page in 1.. {
        let (_, r) = app
            .get(
                &format!("/api/v1/enti/{ente}/riconciliazione?per_page=500&page={page}"),
                ADMIN,
            )
            .await;
        let righe = r["righe"].as_array().unwrap();
        out.extend(righe.iter().map(|l| l["id"].as_i64().unwrap()));
        if righe.len() < 500 {
            break;
        }
    }
    out.sort();
    assert!(!out.is_empty());
    out
}

// The background worker drains the queue in passes (a transaction each): a queue of many
// passes leaves every line as one transaction over the whole queue would.
both_backends!(
    the_background_passes_drain_a_long_queue_and_change_no_line,
    |app| {
        ente_tesoreria(&app, A, "c_a").await;
        let m = mese();
        importa_mese(&app, &m).await;
        let lines = tutte(&app, A, ADMIN).await;
        // Every payment's IUV queued again, as if its receipt had arrived once more.
        let chiavi: Vec<&String> = m.attesi.keys().collect();
        // SQLite's pass (PostgreSQL's is larger than this month's queue).
        let passata = 64;
        assert!(chiavi.len() > 3 * passata, "{} keys", chiavi.len());
        let url = app.config.database.url.clone().unwrap();
        if app.store().backend() == "postgres" {
            let mut c = sqlx::PgConnection::connect(&url).await.unwrap();
            for k in &chiavi {
                sqlx::query("INSERT INTO recon_coda (id_dominio, tipo, chiave, created_at) VALUES ($1, 'V', $2, now())")
                    .bind(A).bind(k).execute(&mut c).await.unwrap();
            }
        } else {
            let mut c = sqlx::SqliteConnection::connect(&url).await.unwrap();
            for k in &chiavi {
                sqlx::query("INSERT INTO recon_coda (id_dominio, tipo, chiave, created_at) VALUES ($1, 'V', $2, '2026-12-01T00:00:00Z')")
                    .bind(A).bind(k).execute(&mut c).await.unwrap();
            }
        }
        let store = app.store();
        assert_eq!(store.riconciliazione().in_attesa().await.unwrap(), [A]);
        let prese = store
            .riconciliazione()
            .process_a_passate_di(A, passata)
            .await
            .unwrap();
        assert_eq!(prese, chiavi.len());
        assert!(
            store
                .riconciliazione()
                .in_attesa()
                .await
                .unwrap()
                .is_empty()
        );
        assert_eq!(tutte(&app, A, ADMIN).await, lines);
    }
);

both_backends!(
    a_late_transfer_and_a_storno_reclassify_only_what_they_touch,
    |app| {
        ente_tesoreria(&app, A, "c_a").await;
        let p: Vec<Pagamento> = (1..=3)
            .map(|n| Pagamento {
                iuv: iuv(n),
                iur: format!("IUR{n}"),
                cents: 500 * n as i64,
                giorno: 3,
            })
            .collect();
        let iuf = "2026-11-03ABCDITMMXXX-S1";
        let mut pagati = String::from("h\n");
        for x in &p {
            pagati.push_str(&pagopa_gateway::recon::pagati::riga_csv(
                A,
                &ricevuta(x),
                None,
            ));
        }
        post_body(&app, &format!("/api/v1/enti/{A}/ricevute"), ADMIN, pagati).await;
        post_body(
            &app,
            &format!("/api/v1/enti/{A}/flussi"),
            ADMIN,
            flusso_xml(iuf, A, giorno(3), &p.iter().collect::<Vec<_>>()),
        )
        .await;
        let count = |r: &serde_json::Value, c: &str| r["conteggi"][c].as_i64().unwrap_or(0);
        let (_, r) = app
            .get(&format!("/api/v1/enti/{A}/riconciliazione"), ADMIN)
            .await;
        assert_eq!(
            (count(&r, "IUF_NO_TES"), count(&r, "RT_IUF_TES")),
            (3, 0),
            "{r}"
        );
        let ids_prima = ids(&app, A).await;
        // The transfer arrives: the whole flow is cashed.
        let opi_line = Movimento {
            numero: 1,
            data: giorno(4),
            importo: Importo::from_cents(3_000).unwrap(),
            ordinante: "PAGOPA".into(),
            causale: format!("/PUR/LGPE-RIVERSAMENTO/URI/{iuf}"),
        };
        post_body(
            &app,
            &format!("/api/v1/enti/{A}/tesoreria"),
            ADMIN,
            csv(std::slice::from_ref(&opi_line)),
        )
        .await;
        let (_, r) = app
            .get(&format!("/api/v1/enti/{A}/riconciliazione"), ADMIN)
            .await;
        assert_eq!(
            (count(&r, "IUF_NO_TES"), count(&r, "RT_IUF_TES")),
            (0, 3),
            "{r}"
        );
        // Their lines changed codes in place: the same ids.
        assert_eq!(ids(&app, A).await, ids_prima);
        // The treasurer corrects the line's amount: the flow is now short.
        let mut wrong = opi_line.clone();
        wrong.importo = Importo::from_cents(2_999).unwrap();
        post_body(
            &app,
            &format!("/api/v1/enti/{A}/tesoreria"),
            ADMIN,
            csv(&[wrong]),
        )
        .await;
        let (_, r) = app
            .get(&format!("/api/v1/enti/{A}/riconciliazione"), ADMIN)
            .await;
        assert_eq!(
            (count(&r, "IUF_TES_DIV_IMP"), count(&r, "RT_IUF_TES")),
            (3, 0),
            "{r}"
        );
        let before = tutte(&app, A, ADMIN).await;
        ricalcola(&app, A).await;
        assert_eq!(tutte(&app, A, ADMIN).await, before, "incremental = rebuild");
    }
);

both_backends!(
    notes_hide_a_line_keep_their_history_and_exports_stream_or_are_booked,
    |app| {
        ente_tesoreria(&app, A, "c_a").await;
        let m = mese();
        importa_mese(&app, &m).await;
        let stray = format!("/api/v1/enti/{A}/riconciliazione?codice=TES_NO_MATCH");
        let (_, r) = app.get(&stray, ADMIN).await;
        assert_eq!(r["total"], 1);
        let bolletta = r["righe"][0]["codice_bolletta"]
            .as_str()
            .unwrap()
            .to_owned();
        // A note with nothing to identify the line is refused.
        let (s, _) = app
            .post(
                &format!("/api/v1/enti/{A}/segnalazioni"),
                ADMIN,
                serde_json::json!({"codice": "TES_NO_MATCH", "nota": "x"}),
            )
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        // TES_NO_MATCH lines have no IUV / IUF / IUD: a note on such a line needs a key, so
        // hide an anomaly with one instead (the payment without a flow).
        let orphan = m
            .attesi
            .iter()
            .find(|(_, c)| c.contains("RT_NO_IUF"))
            .unwrap()
            .0
            .clone();
        let nota = |testo: &str, nascosto: bool| serde_json::json!({"codice": "RT_NO_IUF", "iuv": orphan, "iud": format!("IUD-{orphan}"), "nota": testo, "nascosto": nascosto});
        let (s, n) = app
            .post(
                &format!("/api/v1/enti/{A}/segnalazioni"),
                ADMIN,
                nota("in verifica con la banca", true),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{n}");
        let (_, r) = app
            .get(
                &format!("/api/v1/enti/{A}/riconciliazione?codice=RT_NO_IUF"),
                ADMIN,
            )
            .await;
        assert_eq!(r["total"], 0, "hidden from the default view");
        let (_, r) = app
            .get(
                &format!("/api/v1/enti/{A}/riconciliazione?codice=RT_NO_IUF&nascosti=true"),
                ADMIN,
            )
            .await;
        assert_eq!(r["total"], 1);
        app.post(
            &format!("/api/v1/enti/{A}/segnalazioni"),
            ADMIN,
            nota("chiarito: riapro", false),
        )
        .await;
        let (_, r) = app
            .get(
                &format!("/api/v1/enti/{A}/riconciliazione?codice=RT_NO_IUF"),
                ADMIN,
            )
            .await;
        assert_eq!(r["total"], 1, "the newer note does not hide it");
        let (_, h) = app
            .get(&format!("/api/v1/enti/{A}/segnalazioni"), ADMIN)
            .await;
        assert_eq!(h["total"], 2);
        assert_eq!(h["items"][0]["attivo"], true);
        assert_eq!(h["items"][1]["attivo"], false);
        assert!(!bolletta.is_empty());

        // Export of the positive view, tracciato 1.2: one line per (payment × code).
        let path =
            format!("/api/v1/enti/{A}/riconciliazione/export?versione=1.2&vista=riconciliazione");
        let (s, _, body) = app
            .raw(Method::GET, &path, Some(ADMIN), "text/plain", Vec::new())
            .await;
        assert_eq!(s, StatusCode::OK);
        let text = String::from_utf8(body.to_vec()).unwrap();
        let expected: usize = m
            .attesi
            .values()
            .map(|c| {
                c.iter()
                    .filter(|x| ["RT_IUF", "RT_IUF_TES"].contains(x))
                    .count()
            })
            .sum();
        assert_eq!(text.lines().count(), 1 + expected);
        assert!(text.lines().next().unwrap().contains("\"codIudE\""));
        assert!(!text.contains("codIudI"), "1.2 has no notification block");
        // The same export booked: written in the background, then downloaded.
        let (s, job) = app
            .post(
                &format!("/api/v1/enti/{A}/riconciliazione/export"),
                ADMIN,
                serde_json::json!({"versione": "1.2", "filtri": {"vista": "riconciliazione"}}),
            )
            .await;
        assert_eq!(s, StatusCode::ACCEPTED, "{job}");
        let id = job["id"].as_str().unwrap().to_owned();
        let mut stato = String::new();
        for _ in 0..100 {
            let (_, j) = app
                .get(
                    &format!("/api/v1/enti/{A}/riconciliazione/export/{id}"),
                    ADMIN,
                )
                .await;
            stato = j["stato"].as_str().unwrap().to_owned();
            if stato.starts_with("ESEGUITO") {
                assert_eq!(j["righe"], expected as i64);
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        assert_eq!(stato, "ESEGUITO");
        let (s, _, file) = app
            .raw(
                Method::GET,
                &format!("/api/v1/enti/{A}/riconciliazione/export/{id}/file"),
                Some(ADMIN),
                "text/plain",
                Vec::new(),
            )
            .await;
        assert_eq!(s, StatusCode::OK);
        let booked = String::from_utf8(file.to_vec()).unwrap();
        // Same lines; only the last-update date column could differ, and it does not here.
        assert_eq!(booked.lines().count(), text.lines().count());
        let (s, _) = app
            .get(
                &format!("/api/v1/enti/{A}/riconciliazione/export?versione=2.0"),
                ADMIN,
            )
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    }
);

both_backends!(
    operators_of_one_ente_never_see_another_entes_reconciliation,
    |app| {
        ente_tesoreria(&app, A, "c_a").await;
        ente_tesoreria(&app, B, "c_b").await;
        importa_mese(&app, &mese()).await;
        let b = app.operator_key(B).await;
        for path in [
            format!("/api/v1/enti/{A}/riconciliazione"),
            format!("/api/v1/enti/{A}/riconciliazione/export"),
            format!("/api/v1/enti/{A}/ricevute"),
            format!("/api/v1/enti/{A}/rendicontazione"),
            format!("/api/v1/enti/{A}/segnalazioni"),
            format!("/api/v1/enti/{A}/tesoreria"),
        ] {
            assert_eq!(app.get(&path, &b).await.0, StatusCode::NOT_FOUND, "{path}");
        }
        let (s, r) = app
            .get(&format!("/api/v1/enti/{B}/riconciliazione"), &b)
            .await;
        assert_eq!((s, r["total"].as_i64()), (StatusCode::OK, Some(0)), "{r}");
        assert_eq!(
            app.get(&format!("/api/v1/enti/{B}/ricevute"), &b).await.1["total"],
            0
        );
        assert_eq!(
            app.get(&format!("/api/v1/enti/{B}/rendicontazione"), &b)
                .await
                .1["total"],
            0
        );
        // A's own operator sees A's flows and a flow's payments with their receipts.
        let a = app.operator_key(A).await;
        let (_, f) = app
            .get(
                &format!("/api/v1/enti/{A}/rendicontazione?per_page=100"),
                &a,
            )
            .await;
        assert_eq!(f["total"], 56);
        let iuf = f["items"][0]["iuf"].as_str().unwrap().to_owned();
        let (s, p) = app
            .get(&format!("/api/v1/enti/{A}/rendicontazione/{iuf}"), &a)
            .await;
        assert_eq!(s, StatusCode::OK, "{p}");
        assert_eq!(p.as_array().unwrap().len(), 4);
        assert!(p[0]["iud"].as_str().unwrap().starts_with("IUD-"));
        assert_eq!(
            app.get(&format!("/api/v1/enti/{B}/rendicontazione/{iuf}"), &b)
                .await
                .0,
            StatusCode::NOT_FOUND
        );
    }
);

/// A bank statement workbook (the same three movements in `xlsx` and in legacy `.xls`) is
/// read by header name: the pagoPA credit reconciles the flow cashed cumulatively, the debit
/// is skipped, the credit naming no IUF or IUV is rejected.
async fn il_giornale_xls_riconcilia(app: &TestApp, bytes: Vec<u8>) {
    un_flusso_da_incassare(app, "2026-11-02ABCDITMMXXX-S7").await;
    let (s, e) = post_body(
        app,
        &format!("/api/v1/enti/{A}/tesoreria?formato=xls"),
        ADMIN,
        bytes,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{e}");
    assert_eq!(
        (e["importate"].as_u64(), e["scartate"].as_u64()),
        (Some(1), Some(1)),
        "the debit is skipped, the unreadable credit rejected: {e}"
    );
    assert!(e["scarti"][0]["motivo"].as_str().unwrap().contains("IUF"));
    // The debit is listed as left aside, with why: nothing is skipped without a word.
    assert_eq!(e["ignorate"].as_array().map(Vec::len), Some(1), "{e}");
    assert_eq!(e["ignorate"][0]["riga"], "3", "{e}");
    assert!(
        e["ignorate"][0]["motivo"]
            .as_str()
            .unwrap()
            .contains("addebito")
    );
    let (_, j) = app
        .get(
            &format!(
                "/api/v1/enti/{A}/importazioni/{}",
                e["id_importazione"].as_str().unwrap()
            ),
            ADMIN,
        )
        .await;
    assert_eq!(j["righe_scartate"], 1, "{j}");
    let (_, r) = app
        .get(
            &format!("/api/v1/enti/{A}/riconciliazione?codice=RT_IUF_TES"),
            ADMIN,
        )
        .await;
    assert_eq!(r["total"], 1, "{r}");
    assert_eq!(r["righe"][0]["conto"], "000001234567");
    assert_eq!(r["righe"][0]["ordinante"], "PAGOPA S.P.A.");
    assert_eq!(r["righe"][0]["data_valuta"], "2026-11-03");
    let (s, _) = post_body(
        app,
        &format!("/api/v1/enti/{A}/tesoreria?formato=xls"),
        ADMIN,
        b"not a workbook".to_vec(),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
}

/// Ente A with one paid receipt of 25.00 reported in flow `iuf` of 2026-11-02, not yet cashed.
async fn un_flusso_da_incassare(app: &TestApp, iuf: &str) {
    ente_tesoreria(app, A, "c_a").await;
    let p = Pagamento {
        iuv: iuv(1),
        iur: "IUR1".into(),
        cents: 2_500,
        giorno: 2,
    };
    post_body(
        app,
        &format!("/api/v1/enti/{A}/ricevute"),
        ADMIN,
        format!(
            "h\n{}",
            pagopa_gateway::recon::pagati::riga_csv(A, &ricevuta(&p), None)
        ),
    )
    .await;
    post_body(
        app,
        &format!("/api/v1/enti/{A}/flussi"),
        ADMIN,
        flusso_xml(iuf, A, giorno(2), &[&p]),
    )
    .await;
}

both_backends!(
    an_xlsx_bank_statement_is_read_by_header_and_reconciles_a_cumulative_transfer,
    |app| {
        use rust_xlsxwriter::{Format, Workbook};
        let iuf = "2026-11-02ABCDITMMXXX-S7";
        let mut wb = Workbook::new();
        let ws = wb.add_worksheet();
        let date = Format::new().set_num_format("dd/mm/yyyy");
        // Columns in an unusual order: they are found by name.
        let headers = [
            "DESCRIZIONE ESTESA",
            "ABI",
            "CAB",
            "CONTO",
            "DIVISA",
            "DATA CONTABILE",
            "DATA VALUTA",
            "IMPORTO",
            "SEGNO",
            "CAUSALE",
            "DESCRIZIONE",
        ];
        for (c, h) in headers.iter().enumerate() {
            ws.write_string(0, c as u16, *h).unwrap();
        }
        let rows: [(&str, f64, &str); 3] = [
            (
                &format!(
                    ":BI2:ABCDITMMXXX:OR1:PAGOPA S.P.A.:RI3:/PUR/LGPE-RIVERSAMENTO/URI/{iuf}:TID:1"
                ),
                25.0,
                "+",
            ),
            (":OR1:UFFICIO:RI3:GIROCONTO", 99.0, "-"),
            (":OR1:ROSSI:RI3:NESSUN RIFERIMENTO", 10.0, "+"),
        ];
        for (r, (estesa, importo, segno)) in rows.iter().enumerate() {
            let r = r as u32 + 1;
            ws.write_string(r, 0, *estesa).unwrap();
            ws.write_string(r, 3, "000001234567").unwrap();
            ws.write_number_with_format(r, 5, 46_329.0, &date).unwrap();
            ws.write_number_with_format(r, 6, 46_329.0, &date).unwrap();
            ws.write_number(r, 7, *importo).unwrap();
            ws.write_string(r, 8, *segno).unwrap();
        }
        let bytes = wb.save_to_buffer().unwrap();
        il_giornale_xls_riconcilia(&app, bytes).await;
        // A DATA VALUTA that is no date is a rejected line, not a silent default.
        let mut wb = Workbook::new();
        let ws = wb.add_worksheet();
        for (c, h) in headers.iter().enumerate() {
            ws.write_string(0, c as u16, *h).unwrap();
        }
        ws.write_string(1, 0, ":OR1:ROSSI:RI3:/RFB/01000000000000144")
            .unwrap();
        ws.write_number_with_format(1, 5, 46_329.0, &date).unwrap();
        ws.write_string(1, 6, "domani").unwrap();
        ws.write_number(1, 7, 5.0).unwrap();
        ws.write_string(1, 8, "+").unwrap();
        let (s, e) = post_body(
            &app,
            &format!("/api/v1/enti/{A}/tesoreria?formato=xls"),
            ADMIN,
            wb.save_to_buffer().unwrap(),
        )
        .await;
        assert_eq!(
            (s, e["scartate"].as_u64()),
            (StatusCode::OK, Some(1)),
            "{e}"
        );
        assert!(
            e["scarti"][0]["motivo"]
                .as_str()
                .unwrap()
                .contains("DATA VALUTA 'domani'"),
            "{e}"
        );
    }
);

both_backends!(
    a_legacy_xls_bank_statement_biff8_is_read_like_the_xlsx_one,
    |app| {
        // fixtures/genera_giornale_xls.py made it with xlwt: a real Excel 97-2003 file.
        let bytes = include_bytes!("../../fixtures/giornale_cbi.xls").to_vec();
        assert_eq!(
            &bytes[..4],
            &[0xD0, 0xCF, 0x11, 0xE0],
            "an OLE2 compound file"
        );
        il_giornale_xls_riconcilia(&app, bytes).await;
    }
);

both_backends!(
    a_poste_account_statement_books_its_credits_and_reconciles_the_flow_it_cashes,
    |app| {
        let iuf = "2026-11-02BPPIITRRXXX-S7";
        un_flusso_da_incassare(&app, iuf).await;
        let estratto = format!(
            "ESTRATTO CONTO BANCOPOSTA\n\
             data_contabile;data_valuta;cod_causale;causale;divisa;importo_debito;importo_credito;accessoria1;causale_movimento\n\
             03/11/2026;03/11/2026;48;BONIFICO PAGOPA;EUR;;25,00;;/PUR/LGPE-RIVERSAMENTO/URI/{iuf}\n\
             03/11/2026;03/11/2026;22;COMMISSIONI;EUR;1,50;;;SPESE\n\
             03/11/2026;03/11/2026;48;VERSAMENTO;EUR;;10,00;;VERSAMENTO SENZA RIFERIMENTI\n\
             03/11/2026;03/11/2026;48;VERSAMENTO;EUR;;10.00;;IMPORTO ILLEGGIBILE\n"
        );
        let url = format!("/api/v1/enti/{A}/tesoreria?formato=poste");
        let (s, e) = post_body(&app, &url, ADMIN, estratto.clone()).await;
        assert_eq!(s, StatusCode::OK, "{e}");
        assert_eq!(
            (e["importate"].as_u64(), e["scartate"].as_u64()),
            (Some(2), Some(1)),
            "two credits booked, the debit skipped, a dot-decimal amount rejected: {e}"
        );
        assert_eq!(e["scarti"][0]["riga"], "6", "{e}");
        let (_, r) = app
            .get(
                &format!("/api/v1/enti/{A}/riconciliazione?codice=RT_IUF_TES"),
                ADMIN,
            )
            .await;
        assert_eq!(r["total"], 1, "{r}");
        assert_eq!(r["righe"][0]["codice_bolletta"], "P307001", "{r}");
        assert_eq!(r["righe"][0]["ordinante"], "BONIFICO PAGOPA");
        let (_, t) = app.get(&format!("/api/v1/enti/{A}/tesoreria"), ADMIN).await;
        assert_eq!(t["total"], 2, "{t}");
        // The same statement again: the same bollette, nothing new.
        let (_, e) = post_body(&app, &url, ADMIN, estratto).await;
        assert_eq!(e["scartate"], 1, "{e}");
        let (_, t) = app.get(&format!("/api/v1/enti/{A}/tesoreria"), ADMIN).await;
        assert_eq!(t["total"], 2, "{t}");
    }
);

both_backends!(
    a_re_sent_flow_rewrites_only_the_rows_whose_content_changed,
    |app| {
        ente_tesoreria(&app, A, "c_a").await;
        let pagamenti: Vec<Pagamento> = (1..=3)
            .map(|n| Pagamento {
                iuv: iuv(n),
                iur: format!("IUR{n}"),
                cents: 1_000 * n as i64,
                giorno: 2,
            })
            .collect();
        let csv: Vec<String> = pagamenti
            .iter()
            .map(|p| pagopa_gateway::recon::pagati::riga_csv(A, &ricevuta(p), None))
            .collect();
        post_body(
            &app,
            &format!("/api/v1/enti/{A}/ricevute"),
            ADMIN,
            format!("h\n{}", csv.join("\n")),
        )
        .await;
        let iuf = "2026-11-02ABCDITMMXXX-R1";
        let tutti: Vec<&Pagamento> = pagamenti.iter().collect();
        let versione = |ora: &str, pag: &[&Pagamento]| {
            String::from_utf8(flusso_xml(iuf, A, giorno(2), pag))
                .unwrap()
                .replace("T07:00:00", ora)
        };
        // Each row's id and codes, by IUV.
        let righe = || async {
            let (_, r) = app
                .get(&format!("/api/v1/enti/{A}/riconciliazione"), ADMIN)
                .await;
            let mut m: BTreeMap<String, Vec<(i64, String)>> = BTreeMap::new();
            for x in r["righe"].as_array().unwrap() {
                m.entry(x["iuv"].as_str().unwrap().to_owned())
                    .or_default()
                    .push((x["id"].as_i64().unwrap(), x["codici"].to_string()));
            }
            m.values_mut().for_each(|v| v.sort());
            m
        };
        let flussi = format!("/api/v1/enti/{A}/flussi");
        post_body(&app, &flussi, ADMIN, versione("T07:00:00", &tutti)).await;
        let prima = righe().await;
        assert_eq!(prima.len(), 3, "{prima:?}");
        // A newer version with the same payments: every row stays as it is.
        post_body(&app, &flussi, ADMIN, versione("T08:00:00", &tutti)).await;
        assert_eq!(righe().await, prima);
        // A version reporting the third payment under another IUR (same amounts, same flow
        // total): only that IUV's rows change — its receipt and payment no longer meet.
        let altro = Pagamento {
            iur: "IUR3-ALTRO".into(),
            iuv: pagamenti[2].iuv.clone(),
            cents: pagamenti[2].cents,
            giorno: 2,
        };
        let (s, e) = post_body(
            &app,
            &flussi,
            ADMIN,
            versione("T09:00:00", &[&pagamenti[0], &pagamenti[1], &altro]),
        )
        .await;
        assert_eq!(s, StatusCode::OK, "{e}");
        let dopo = righe().await;
        assert_eq!(dopo[&iuv(1)], prima[&iuv(1)]);
        assert_eq!(dopo[&iuv(2)], prima[&iuv(2)]);
        // IUV 3 now has two rows: one is its old row rewritten in place (same id, links
        // and notes keep pointing at it, new codes), the other is new.
        let (vecchia, tre) = (&prima[&iuv(3)][0], &dopo[&iuv(3)]);
        assert_eq!(tre.len(), 2, "{dopo:?}");
        let riscritta = tre
            .iter()
            .find(|r| r.0 == vecchia.0)
            .expect("the old id kept");
        assert_ne!(riscritta.1, vecchia.1, "{dopo:?}");
        let massimo = prima.values().flatten().map(|r| r.0).max().unwrap();
        assert!(tre.iter().any(|r| r.0 > massimo), "{dopo:?}");
        let (_, r) = app
            .get(&format!("/api/v1/enti/{A}/riconciliazione"), ADMIN)
            .await;
        assert_eq!(
            r["total"], 4,
            "the receipt and the payment of IUV 3 apart: {r}"
        );
    }
);

/// The IUVs of a view's page, its total and whether the total is exact.
async fn pagina_iuv(app: &TestApp, query: &str) -> (Vec<String>, i64, bool) {
    let (s, r) = app
        .get(&format!("/api/v1/enti/{A}/riconciliazione?{query}"), ADMIN)
        .await;
    assert_eq!(s, StatusCode::OK, "{r}");
    let righe = r["righe"].as_array().unwrap();
    (
        righe
            .iter()
            .map(|l| l["iuv"].as_str().unwrap().to_owned())
            .collect(),
        r["total"].as_i64().unwrap(),
        r["total_esatto"].as_bool().unwrap(),
    )
}

both_backends!(
    a_view_larger_than_its_count_bound_pages_in_the_same_order_and_says_its_total_is_a_floor,
    |app| {
        ente_tesoreria(&app, A, "c_a").await;
        // Two flows not cashed, of 20,100 and 3,000 payments without receipts: one line
        // each, none with a date, so the views' order is the IUV's.
        const GRANDE: usize = 20_100;
        const N: usize = GRANDE + 3_000;
        let p: Vec<Pagamento> = (1..=N)
            .map(|k| Pagamento {
                iuv: iuv(k),
                iur: format!("IUR{k}"),
                cents: 100,
                giorno: 1 + (k % 7) as u8,
            })
            .collect();
        for (iuf, parte) in [
            ("2026-11-08ABCDITMMXXX-GRANDE", &p[..GRANDE]),
            ("2026-11-08ABCDITMMXXX-PICCOLO", &p[GRANDE..]),
        ] {
            let (s, r) = post_body(
                &app,
                &format!("/api/v1/enti/{A}/flussi"),
                ADMIN,
                flusso_xml(iuf, A, giorno(8), &parte.iter().collect::<Vec<_>>()),
            )
            .await;
            assert_eq!(s, StatusCode::OK, "{r}");
        }
        let tutti: Vec<String> = p.iter().map(|x| x.iuv.clone()).collect();
        let attese = |da: usize, a: usize| tutti[da..a.min(N)].to_vec();
        // The codes alone: counted exactly (from the maintained counts), past the bound.
        for (page, da) in [(1, 0), (2, 50), (462, 23_050)] {
            let (iuv, total, esatto) = pagina_iuv(&app, &format!("per_page=50&page={page}")).await;
            assert_eq!((total, esatto), (N as i64, true));
            assert_eq!(iuv, attese(da, da + 50), "page {page}");
        }
        // A filter matching more than the bound: counted up to it only, same order.
        for (page, da) in [(1, 0), (300, 14_950), (402, 20_050)] {
            let (iuv, total, esatto) =
                pagina_iuv(&app, &format!("iuf=grande&per_page=50&page={page}")).await;
            assert_eq!((total, esatto), (20_000, false));
            assert_eq!(iuv, attese(da, (da + 50).min(GRANDE)), "iuf page {page}");
        }
        // A filter matching a few thousand: found through its index, counted exactly.
        for (page, da) in [(1, 0), (60, 2_950)] {
            let (iuv, total, esatto) =
                pagina_iuv(&app, &format!("iuf=piccolo&per_page=50&page={page}")).await;
            assert_eq!((total, esatto), (3_000, true));
            assert_eq!(
                iuv,
                attese(GRANDE + da, GRANDE + da + 50),
                "piccolo page {page}"
            );
        }
        // A "contains" filter that matches no value, and a page past the end.
        assert_eq!(pagina_iuv(&app, "iuf=ALTRO").await, (vec![], 0, true));
        let (iuv, total, _) = pagina_iuv(&app, "per_page=50&page=464").await;
        assert_eq!((iuv.len(), total), (0, N as i64));
        // A hidden line leaves the exact total, and is what the hidden view shows.
        let primo = tutti[0].clone();
        let codice = {
            let (_, r) = app
                .get(
                    &format!("/api/v1/enti/{A}/riconciliazione?per_page=1"),
                    ADMIN,
                )
                .await;
            r["righe"][0]["codici"][0].as_str().unwrap().to_owned()
        };
        let (s, n) = app
            .post(
                &format!("/api/v1/enti/{A}/segnalazioni"),
                ADMIN,
                serde_json::json!({"codice": codice, "iuv": primo, "iuf": "2026-11-08ABCDITMMXXX-GRANDE", "nota": "x", "nascosto": true}),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{n}");
        // A blank key is no key (a note must name its line).
        let (s, _) = app
            .post(
                &format!("/api/v1/enti/{A}/segnalazioni"),
                ADMIN,
                serde_json::json!({"codice": codice, "iuv": " ", "iud": "", "nota": "x", "nascosto": true}),
            )
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        let (iuv, total, esatto) = pagina_iuv(&app, "per_page=50").await;
        assert_eq!((total, esatto), (N as i64 - 1, true));
        assert_eq!(iuv, attese(1, 51));
        assert_eq!(
            pagina_iuv(&app, "nascosti=true").await,
            (vec![primo], 1, true)
        );
    }
);

/// `n` receipts of ente A (IUV 1..=n, 1.00 each) inserted by the database alone.
fn ricevute_sql(pg: bool, n: u32) -> String {
    let (seq, iuv, day, ts) = if pg {
        (
            format!("SELECT g AS n FROM generate_series(1, {n}) g"),
            "lpad(n::text, 17, '0')",
            "DATE '2026-11-02'",
            "now()",
        )
    } else {
        (
            format!(
                "WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < {n}) SELECT n FROM s"
            ),
            "printf('%017d', n)",
            "'2026-11-02'",
            "'2026-11-03T10:00:00Z'",
        )
    };
    format!(
        "INSERT INTO ricevuta (id_dominio, iuv, iur, indice, iud, tipo_dovuto, importo_cents, totale_cents, codice_esito, data_esito, fonte, created_at, updated_at)
         SELECT '{A}', {iuv}, 'R' || n, 1, 'D' || n, 'TARI', 100, 100, 0, {day}, 'TEST', {ts}, {ts} FROM ({seq}) q"
    )
}

/// One value read on a connection of its own (PostgreSQL).
async fn valore_pg<T>(url: &str, sql: &'static str) -> T
where
    T: for<'r> sqlx::Decode<'r, sqlx::Postgres> + sqlx::Type<sqlx::Postgres> + Send + Unpin,
{
    let mut c = sqlx::PgConnection::connect(url).await.unwrap();
    let (v,): (T,) = sqlx::query_as(sql).fetch_one(&mut c).await.unwrap();
    v
}

// A rebuild that writes a great many lines returns with the table tidy on PostgreSQL
// (vacuumed: its pages marked all-visible, its statistics fresh), so the first view pages
// after it do not pay for setting that up line by line; SQLite has nothing to tidy.
// Autovacuum is off for the table here, so only the rebuild can have vacuumed it.
both_backends!(a_large_rebuild_returns_with_the_table_vacuumed, |app| {
    ente_tesoreria(&app, A, "c_a").await;
    let n = 60_000;
    let url = app.config.database.url.clone().unwrap();
    let pg = app.store().backend() == "postgres";
    let ricevute = ricevute_sql(pg, n);
    if pg {
        esegui(
            &app,
            "ALTER TABLE riconciliazione SET (autovacuum_enabled = false)",
        )
        .await;
    }
    esegui(&app, &ricevute).await;
    let (s, r) = ricalcola(&app, A).await;
    assert_eq!(s, StatusCode::OK, "{r}");
    assert_eq!(r["righe"], n, "{r}");
    if pg {
        let mut c = sqlx::PgConnection::connect(&url).await.unwrap();
        let (visibili, pagine): (i32, i32) = sqlx::query_as(
            "SELECT relallvisible, relpages FROM pg_class WHERE oid = 'riconciliazione'::regclass",
        )
        .fetch_one(&mut c)
        .await
        .unwrap();
        assert!(
            pagine > 0 && visibili == pagine,
            "{visibili} of {pagine} pages all-visible"
        );
    }
});

// A bulk load is analysed by the gateway itself on PostgreSQL, with autovacuum off for the
// table (so nothing else can have analysed it): 200 receipts written straight into a table
// never analysed pass autovacuum's rule (50 + 10 % of 0 rows), and within a few rounds of
// `database.analyze_every_seconds` the planner knows the table's size. SQLite keeps no
// statistics to go stale, and the gateway never starts keeping them there.
mod the_gateway_analyses_what_it_bulk_loads {
    use super::*;

    async fn run(backend: Backend) {
        let mut app = TestApp::spawn_with(backend, |c| c.database.analyze_every_seconds = 1).await;
        app.start();
        ente_tesoreria(&app, A, "c_a").await;
        let url = app.config.database.url.clone().unwrap();
        let store = app.store();
        if store.backend() == "sqlite" {
            esegui(&app, &ricevute_sql(false, 200)).await;
            assert_eq!(
                store.analizza_tabelle().await.unwrap(),
                Vec::<String>::new()
            );
            let mut c = sqlx::SqliteConnection::connect(&url).await.unwrap();
            let (stat,): (i64,) =
                sqlx::query_as("SELECT count(*) FROM sqlite_master WHERE name LIKE 'sqlite_stat%'")
                    .fetch_one(&mut c)
                    .await
                    .unwrap();
            assert_eq!(stat, 0, "no statistics kept on SQLite");
            return;
        }
        let mut c = sqlx::PgConnection::connect(&url).await.unwrap();
        let righe = || {
            valore_pg::<f32>(
                &url,
                "SELECT reltuples FROM pg_class WHERE oid = 'ricevuta'::regclass",
            )
        };
        sqlx::raw_sql("ALTER TABLE ricevuta SET (autovacuum_enabled = false)")
            .execute(&mut c)
            .await
            .unwrap();
        assert_eq!(righe().await, -1.0, "never analysed yet");
        sqlx::query(sqlx::AssertSqlSafe(ricevute_sql(true, 200)))
            .execute(&mut c)
            .await
            .unwrap();
        // A session's counts reach the shared statistics when it ends (or idles a while).
        c.close().await.unwrap();
        let modifiche = || {
            valore_pg::<i64>(
                &url,
                "SELECT n_mod_since_analyze FROM pg_stat_user_tables WHERE relid = 'ricevuta'::regclass",
            )
        };
        // Another session holding the table (as an ANALYZE or VACUUM of another instance
        // would): skipped, neither waited for nor reported as analysed.
        let mut tiene = sqlx::PgConnection::connect(&url).await.unwrap();
        sqlx::raw_sql("BEGIN; LOCK TABLE ricevuta IN SHARE UPDATE EXCLUSIVE MODE")
            .execute(&mut tiene)
            .await
            .unwrap();
        let limite = std::time::Instant::now() + std::time::Duration::from_secs(30);
        while modifiche().await < 200 {
            assert!(std::time::Instant::now() < limite, "counts not flushed");
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        let t = std::time::Instant::now();
        let fatte = store.analizza_tabelle().await.unwrap();
        assert!(
            t.elapsed() < std::time::Duration::from_secs(2),
            "not waited for (the lock timeout is 5 s)"
        );
        assert!(!fatte.contains(&"ricevuta".to_owned()), "{fatte:?}");
        assert_eq!(righe().await, -1.0, "skipped while held");
        sqlx::raw_sql("COMMIT").execute(&mut tiene).await.unwrap();
        while righe().await != 200.0 {
            assert!(
                std::time::Instant::now() < limite,
                "ricevuta not analysed within 30 s"
            );
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        // Analysed once: nothing more to do until it changes again.
        assert!(
            !store
                .analizza_tabelle()
                .await
                .unwrap()
                .contains(&"ricevuta".to_owned())
        );
    }

    #[tokio::test]
    async fn sqlite() {
        run(Backend::Sqlite).await
    }

    #[tokio::test]
    async fn postgres() {
        run(Backend::Postgres).await
    }
}

// A receipt staged again (a file imported twice, an RT sent twice) queues nothing for
// reclassification: it was queued in the transaction that first staged it, so a re-import
// of an unchanged month costs reads, not a reclassification of every key it names.
both_backends!(a_receipt_staged_again_queues_nothing, |app| {
    ente_tesoreria(&app, A, "c_a").await;
    let store = app.store();
    let p = Pagamento {
        iuv: iuv(1),
        iur: "IUR1".into(),
        cents: 500,
        giorno: 3,
    };
    let importa = |n: u32| {
        let store = store.clone();
        let r = ricevuta(&p);
        async move {
            let (tx, mut rx) = tokio::sync::mpsc::channel(2);
            tx.send(pagopa_gateway::store::PezzoRicevute::Ricevute(vec![r]))
                .await
                .unwrap();
            let job = pagopa_gateway::store::ImportJob {
                id: format!("job-{n}"),
                id_dominio: A.into(),
                tipo: "RICEVUTE_PAGATI".into(),
                file_name: None,
                file_sha256: "0".repeat(64),
                versione: None,
                stato: "ESEGUITO".into(),
                righe_lette: 1,
                righe_importate: 0,
                righe_invariate: 0,
                righe_stornate: 0,
                righe_scartate: 0,
                scarti: Vec::new(),
                created_at: time::OffsetDateTime::now_utc(),
            };
            tx.send(pagopa_gateway::store::PezzoRicevute::Fine(Box::new(job)))
                .await
                .unwrap();
            store
                .riconciliazione()
                .import_ricevute_a_pezzi(A, &mut rx, "TEST")
                .await
                .unwrap()
        }
    };
    let primo = importa(1).await;
    assert_eq!(primo.righe_importate, 1);
    assert_eq!(store.riconciliazione().in_attesa().await.unwrap(), [A]);
    assert!(store.riconciliazione().process(A).await.unwrap() > 0);
    assert!(
        store
            .riconciliazione()
            .in_attesa()
            .await
            .unwrap()
            .is_empty()
    );
    let lines = tutte(&app, A, ADMIN).await;
    let secondo = importa(2).await;
    assert_eq!(secondo.righe_importate, 0);
    assert!(
        store
            .riconciliazione()
            .in_attesa()
            .await
            .unwrap()
            .is_empty(),
        "nothing queued by a receipt already staged"
    );
    assert_eq!(tutte(&app, A, ADMIN).await, lines);
});

/// The ente's full rebuild, as operators ask for it.
async fn ricalcola(app: &TestApp, ente: &str) -> (StatusCode, serde_json::Value) {
    app.post(
        &format!("/api/v1/enti/{ente}/riconciliazione/ricalcola"),
        ADMIN,
        serde_json::json!({}),
    )
    .await
}

/// Runs one statement on the test's database, whichever backend it is.
async fn esegui(app: &TestApp, sql: &str) {
    let url = app.config.database.url.clone().unwrap();
    if app.store().backend() == "postgres" {
        let mut c = sqlx::PgConnection::connect(&url).await.unwrap();
        sqlx::query(sqlx::AssertSqlSafe(sql.to_owned()))
            .execute(&mut c)
            .await
            .unwrap();
    } else {
        let mut c = sqlx::SqliteConnection::connect(&url).await.unwrap();
        sqlx::query(sqlx::AssertSqlSafe(sql.to_owned()))
            .execute(&mut c)
            .await
            .unwrap();
    }
}
