//! Statistics against esito-9 stand-ins: a generated month whose flows report payments with
//! esito 0, 3 and 9, with and without their receipt. The expected cells and drill-downs are
//! computed here from the generated payments alone (never from the gateway's tables), and
//! compared with every daily, monthly and yearly cell and every day's drill-down, for the
//! two arrival orders (receipts before flows on ente A, flows before receipts on ente B).

use crate::both_backends;
use crate::helpers::*;
use crate::riconciliazione::{ente_tesoreria, iuv, post_body};
use axum::http::StatusCode;
use pagopa_gateway::model::flusso::{FlussoRiversamento, Istituto, PagamentoFlusso, TestataFlusso};
use pagopa_gateway::model::rpt::{DataOra, IdentificativoUnivoco};
use pagopa_gateway::model::{Importo, Iuv};
use pagopa_gateway::recon::pagati::riga_csv;
use pagopa_gateway::store::NuovaRicevuta;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use time::{Date, Duration, Month};

/// Receipts arrive before the flows.
const A: &str = "80007580279";
/// Flows arrive before the receipts.
const B: &str = "00000000000";

/// What happens to one generated payment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Caso {
    /// Receipt, reported with esito 0.
    Riportato,
    /// Receipt, never reported.
    NonRiportato,
    /// Receipt, reported with esito 3 (revoked: not a reported payment).
    Revocato,
    /// Reported with esito 9, no receipt ever: only a PSP vouches for it.
    SoloEsito9,
    /// Reported with esito 9, and its receipt arrives too (same IUR).
    Esito9ConRicevuta,
    /// Reported with esito 9 under another IUR than its receipt's.
    Esito9AltroIur,
}

const CASI: [Caso; 6] = [
    Caso::Riportato,
    Caso::NonRiportato,
    Caso::Revocato,
    Caso::SoloEsito9,
    Caso::Esito9ConRicevuta,
    Caso::Esito9AltroIur,
];

struct Voce {
    iuv: String,
    iur: String,
    cents: i64,
    esito: Date,
    caso: Caso,
}

impl Voce {
    fn ha_ricevuta(&self) -> bool {
        self.caso != Caso::SoloEsito9
    }

    /// The flow's row: (IUR, esito), if the payment is reported.
    fn riportato(&self) -> Option<(String, u8)> {
        match self.caso {
            Caso::NonRiportato => None,
            Caso::Riportato => Some((self.iur.clone(), 0)),
            Caso::Revocato => Some((self.iur.clone(), 3)),
            Caso::SoloEsito9 | Caso::Esito9ConRicevuta => Some((self.iur.clone(), 9)),
            Caso::Esito9AltroIur => Some((format!("PSP{}", self.iur), 9)),
        }
    }
}

fn giorno(d: u8) -> Date {
    Date::from_calendar_date(2026, Month::November, d).unwrap()
}

/// November 2026: six payments a day for 28 days, one of each case; each day's reported
/// ones in one flow settled the next day.
fn mese() -> Vec<Voce> {
    let mut out = Vec::new();
    for d in 1..=28u8 {
        for (k, caso) in CASI.into_iter().enumerate() {
            let n = usize::from(d) * 10 + k;
            out.push(Voce {
                iuv: iuv(n),
                iur: format!("IUR{n:08}"),
                cents: 1_000 + (n as i64 * 53) % 7_000,
                esito: giorno(d),
                caso,
            });
        }
    }
    out
}

fn ricevute_csv(ente: &str, voci: &[Voce]) -> String {
    let mut out = "intestazione\n".to_owned();
    for v in voci.iter().filter(|v| v.ha_ricevuta()) {
        let r = NuovaRicevuta {
            iuv: v.iuv.clone(),
            iur: v.iur.clone(),
            indice: 1,
            iud: Some(format!("IUD-{}", v.iuv)),
            tipo_dovuto: Some("TARI".into()),
            importo_cents: v.cents,
            totale_cents: v.cents,
            codice_esito: 0,
            data_esito: v.esito,
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
        };
        out.push_str(&riga_csv(ente, &r, None));
    }
    out
}

/// One flow per day of payments, settled the day after.
fn flussi(ente: &str, voci: &[Voce]) -> Vec<Vec<u8>> {
    let mut per_giorno: BTreeMap<Date, Vec<PagamentoFlusso>> = BTreeMap::new();
    for v in voci {
        if let Some((iur, esito)) = v.riportato() {
            per_giorno
                .entry(v.esito)
                .or_default()
                .push(PagamentoFlusso {
                    iuv: Iuv::parse(&v.iuv).unwrap(),
                    iur,
                    indice: Some(1),
                    importo: Importo::from_cents(v.cents).unwrap(),
                    codice_esito: esito,
                    data_esito: v.esito,
                });
        }
    }
    per_giorno
        .into_iter()
        .map(|(d, pagamenti)| {
            let reg = d + Duration::days(1);
            let iuf = format!("{reg}ABCDITMMXXX-S{}", d.day());
            flusso(ente, &iuf, reg, &format!("{reg}T07:00:00"), pagamenti)
        })
        .collect()
}

/// One version of a flow settled on `reg`.
fn flusso(
    ente: &str,
    iuf: &str,
    reg: Date,
    data_ora: &str,
    pagamenti: Vec<PagamentoFlusso>,
) -> Vec<u8> {
    let ist = |t: &str, c: &str| Istituto {
        identificativo: IdentificativoUnivoco {
            tipo: t.into(),
            codice: c.into(),
        },
        denominazione: None,
    };
    let totale: i64 = pagamenti.iter().map(|p| p.importo.cents()).sum();
    FlussoRiversamento {
        testata: TestataFlusso {
            versione_oggetto: "1.0".into(),
            identificativo_flusso: iuf.into(),
            data_ora_flusso: DataOra::parse(data_ora).unwrap(),
            identificativo_univoco_regolamento: format!("TRN{}", reg.day()),
            data_regolamento: reg,
            istituto_mittente: ist("B", "ABCDITMMXXX"),
            codice_bic_banca_di_riversamento: None,
            istituto_ricevente: ist("G", ente),
            numero_totale_pagamenti: pagamenti.len() as u64,
            importo_totale_pagamenti: Importo::from_cents(totale).unwrap(),
        },
        pagamenti,
    }
    .to_xml()
    .into_bytes()
}

/// A measure's expected receipts: (day, iuv, iur, cents).
type Attese = BTreeSet<(Date, String, String, i64)>;

/// What each measure must hold, from the generated payments and the documented rules:
/// pagati = every receipt by data esito; senza_ricevuta = esito 9 without a receipt, by
/// the flow's data esito; rendicontati = a receipt (or the stand-in) whose reported row
/// has the same IUR and amount and an esito other than 3, by data regolamento.
fn attese(voci: &[Voce]) -> BTreeMap<&'static str, Attese> {
    let mut out: BTreeMap<&'static str, Attese> = BTreeMap::new();
    for m in ["pagati", "rendicontati", "incassati", "senza_ricevuta"] {
        out.insert(m, BTreeSet::new());
    }
    for v in voci {
        let riga = |d: Date| (d, v.iuv.clone(), v.iur.clone(), v.cents);
        if v.ha_ricevuta() {
            out.get_mut("pagati").unwrap().insert(riga(v.esito));
        } else {
            out.get_mut("senza_ricevuta").unwrap().insert(riga(v.esito));
        }
        if let Some((iur, esito)) = v.riportato()
            && esito != 3
            && iur == v.iur
        {
            out.get_mut("rendicontati")
                .unwrap()
                .insert(riga(v.esito + Duration::days(1)));
        }
    }
    out
}

/// The cells of the expected rows, per period: (importo, numero) per measure.
fn celle_attese(
    attese: &BTreeMap<&'static str, Attese>,
    periodo: impl Fn(Date) -> String,
) -> BTreeMap<(String, &'static str), (i64, i64)> {
    let mut out: BTreeMap<(String, &'static str), (i64, i64)> = BTreeMap::new();
    for (m, righe) in attese {
        for (d, _, _, cents) in righe {
            let c = out.entry((periodo(*d), *m)).or_default();
            c.0 += cents;
            c.1 += 1;
        }
    }
    out
}

/// The cells of a statistics answer, measures with nothing left out.
fn celle(r: &Value) -> BTreeMap<(String, &'static str), (i64, i64)> {
    let mut out = BTreeMap::new();
    for c in r["celle"].as_array().unwrap() {
        let p = c["periodo"].as_str().unwrap().to_owned();
        for (m, importo, numero) in [
            ("pagati", "importo_pagato_cents", "numero_pagati"),
            (
                "rendicontati",
                "importo_rendicontato_cents",
                "numero_rendicontati",
            ),
            ("incassati", "importo_incassato_cents", "numero_incassati"),
            (
                "senza_ricevuta",
                "importo_senza_ricevuta_cents",
                "numero_senza_ricevuta",
            ),
        ] {
            let v = (c[importo].as_i64().unwrap(), c[numero].as_i64().unwrap());
            if v != (0, 0) {
                out.insert((p.clone(), m), v);
            }
        }
    }
    out
}

async fn get_ok(app: &TestApp, path: String) -> Value {
    let (s, r) = app.get(&path, ADMIN).await;
    assert_eq!(s, StatusCode::OK, "{path}: {r}");
    r
}

/// Every cell (years, months of 2026, days of November) and every day's drill-down of
/// every measure equal what the generated payments say.
async fn verifica(app: &TestApp, ente: &str, voci: &[Voce]) {
    let att = attese(voci);
    let base = format!("/api/v1/enti/{ente}/statistiche");
    let anni = get_ok(app, format!("{base}?granularita=anno")).await;
    assert_eq!(
        celle(&anni),
        celle_attese(&att, |d| d.year().to_string()),
        "{ente}: years"
    );
    let mesi = get_ok(app, format!("{base}?anno=2026")).await;
    assert_eq!(
        celle(&mesi),
        celle_attese(&att, |d| format!("{}-{:02}", d.year(), d.month() as u8)),
        "{ente}: months"
    );
    let giorni = get_ok(app, format!("{base}?anno=2026&mese=11")).await;
    assert_eq!(
        celle(&giorni),
        celle_attese(&att, |d| d.to_string()),
        "{ente}: days"
    );
    // The CSV carries the stand-ins in their own columns.
    let (_, _, csv) = app
        .raw(
            axum::http::Method::GET,
            &format!("{base}?anno=2026&mese=11&formato=csv"),
            Some(ADMIN),
            "text/plain",
            Vec::new(),
        )
        .await;
    let csv = String::from_utf8(csv.to_vec()).unwrap();
    assert!(
        csv.lines()
            .next()
            .unwrap()
            .ends_with(";importo_senza_ricevuta;numero_senza_ricevuta"),
        "{csv}"
    );
    for (m, righe) in &att {
        let giorni: BTreeSet<Date> = righe.iter().map(|r| r.0).collect();
        for g in giorni {
            let d = get_ok(
                app,
                format!("{base}/dettaglio?misura={m}&da={g}&a={g}&per_page=100"),
            )
            .await;
            let trovate: Attese = d["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|x| {
                    (
                        g,
                        x["iuv"].as_str().unwrap().to_owned(),
                        x["iur"].as_str().unwrap().to_owned(),
                        x["importo_cents"].as_i64().unwrap(),
                    )
                })
                .collect();
            let attese: Attese = righe.iter().filter(|r| r.0 == g).cloned().collect();
            assert_eq!(trovate, attese, "{ente}: {m} on {g}");
            assert_eq!(d["total"].as_i64(), Some(attese.len() as i64));
        }
    }
}

async fn carica_ricevute(app: &TestApp, ente: &str, voci: &[Voce]) {
    let (s, j) = post_body(
        app,
        &format!("/api/v1/enti/{ente}/ricevute"),
        ADMIN,
        ricevute_csv(ente, voci),
    )
    .await;
    assert_eq!(
        (s, j["righe_scartate"].as_i64()),
        (StatusCode::OK, Some(0)),
        "{j}"
    );
}

async fn carica_flussi(app: &TestApp, ente: &str, voci: &[Voce]) {
    for f in flussi(ente, voci) {
        let (s, r) = post_body(app, &format!("/api/v1/enti/{ente}/flussi"), ADMIN, f).await;
        assert_eq!(s, StatusCode::OK, "{r}");
    }
}

both_backends!(
    a_stand_in_never_coexists_with_its_receipt_in_either_arrival_order,
    |app| {
        let voci = mese();
        ente_tesoreria(&app, A, "c_a").await;
        ente_tesoreria(&app, B, "c_b").await;
        // A: receipts, then flows; B: flows (stand-ins made), then receipts (they replace them).
        carica_ricevute(&app, A, &voci).await;
        carica_flussi(&app, A, &voci).await;
        carica_flussi(&app, B, &voci).await;
        // Before B's receipts come, every esito-9 payment is a stand-in of B.
        let att = attese(&voci);
        let prima = get_ok(&app, format!("/api/v1/enti/{B}/statistiche?anno=2026")).await;
        let esito9 = voci
            .iter()
            .filter(|v| v.riportato().is_some_and(|r| r.1 == 9))
            .count() as i64;
        assert_eq!(
            prima["celle"][0]["numero_senza_ricevuta"].as_i64(),
            Some(esito9),
            "{prima}"
        );
        assert_eq!(prima["celle"][0]["numero_pagati"].as_i64(), Some(0));
        carica_ricevute(&app, B, &voci).await;
        verifica(&app, A, &voci).await;
        verifica(&app, B, &voci).await;
        // The money counted once: receipts are what "pagati" adds up to.
        let pagati: i64 = voci
            .iter()
            .filter(|v| v.ha_ricevuta())
            .map(|v| v.cents)
            .sum();
        assert_eq!(att["pagati"].iter().map(|r| r.3).sum::<i64>(), pagati);
        // Re-sending everything changes nothing; nor does a rebuild.
        carica_flussi(&app, A, &voci).await;
        carica_ricevute(&app, B, &voci).await;
        for ente in [A, B] {
            let (s, r) = app
                .post(
                    &format!("/api/v1/enti/{ente}/riconciliazione/ricalcola"),
                    ADMIN,
                    serde_json::json!({}),
                )
                .await;
            assert!(s.is_success(), "{r}");
            verifica(&app, ente, &voci).await;
        }
        // The receipts view never shows a stand-in beside a receipt of its IUV.
        for ente in [A, B] {
            let r = get_ok(
                &app,
                format!("/api/v1/enti/{ente}/ricevute?fonte=SURROGATO&per_page=500"),
            )
            .await;
            let iuv_surrogati: BTreeSet<String> = r["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|x| x["iuv"].as_str().unwrap().to_owned())
                .collect();
            let attesi: BTreeSet<String> = voci
                .iter()
                .filter(|v| v.caso == Caso::SoloEsito9)
                .map(|v| v.iuv.clone())
                .collect();
            assert_eq!(iuv_surrogati, attesi, "{ente}");
        }
    }
);

both_backends!(a_stand_in_goes_with_the_flow_version_that_made_it, |app| {
    ente_tesoreria(&app, A, "c_a").await;
    let pagamento = |n: usize, esito: u8| PagamentoFlusso {
        iuv: Iuv::parse(&iuv(n)).unwrap(),
        iur: format!("IUR{n:08}"),
        indice: Some(1),
        importo: Importo::from_cents(2_500).unwrap(),
        codice_esito: esito,
        data_esito: giorno(10),
    };
    let iuf = "2026-11-11ABCDITMMXXX-V";
    let reg = giorno(11);
    let v1 = flusso(
        A,
        iuf,
        reg,
        "2026-11-11T07:00:00",
        vec![pagamento(1, 0), pagamento(2, 9)],
    );
    // The PSP corrects the flow: payment 2 was not paid after all.
    let v2 = flusso(A, iuf, reg, "2026-11-11T09:00:00", vec![pagamento(1, 0)]);
    let senza = async |app: &TestApp| {
        let r = get_ok(app, format!("/api/v1/enti/{A}/statistiche?anno=2026")).await;
        r["celle"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["numero_senza_ricevuta"].as_i64().unwrap())
            .sum::<i64>()
    };
    let carica = async |app: &TestApp, f: Vec<u8>| {
        let (s, r) = post_body(app, &format!("/api/v1/enti/{A}/flussi"), ADMIN, f).await;
        assert_eq!(s, StatusCode::OK, "{r}");
    };
    carica(&app, v1.clone()).await;
    assert_eq!(senza(&app).await, 1);
    carica(&app, v2.clone()).await;
    assert_eq!(senza(&app).await, 0, "the stand-in went with v1");
    let r = get_ok(&app, format!("/api/v1/enti/{A}/ricevute?fonte=SURROGATO")).await;
    assert_eq!(r["total"].as_i64(), Some(0), "{r}");

    // On ente B the versions arrive in the other order: the late older one is kept but
    // does not replace the newer one's payments.
    ente_tesoreria(&app, B, "c_b").await;
    let v1 = flusso(
        B,
        iuf,
        reg,
        "2026-11-11T07:00:00",
        vec![pagamento(1, 0), pagamento(2, 9)],
    );
    let v2 = flusso(B, iuf, reg, "2026-11-11T09:00:00", vec![pagamento(1, 0)]);
    for f in [v2, v1] {
        let (s, r) = post_body(&app, &format!("/api/v1/enti/{B}/flussi"), ADMIN, f).await;
        assert_eq!(s, StatusCode::OK, "{r}");
    }
    let r = get_ok(&app, format!("/api/v1/enti/{B}/ricevute?fonte=SURROGATO")).await;
    assert_eq!(r["total"].as_i64(), Some(0), "{r}");
    let r = get_ok(&app, format!("/api/v1/enti/{B}/rendicontazione/{iuf}")).await;
    assert!(!r.to_string().contains(&iuv(2)), "{r}");
    assert!(r.to_string().contains(&iuv(1)), "{r}");
});

// Receipts of one day imported one by one while the statistics are refreshed over and
// over: every receipt is counted in the end. A receipt marks its day with a mark of its
// own; a refresh takes only the marks it sees, so one that ran between a receipt's mark
// and its commit leaves that receipt's mark for the next refresh.
both_backends!(receipts_imported_during_refreshes_are_all_counted, |app| {
    ente_tesoreria(&app, A, "c_a").await;
    let voci: Vec<Voce> = (0..48)
        .map(|k| Voce {
            iuv: iuv(5_000 + k),
            iur: format!("IURC{k:07}"),
            cents: 100 + k as i64,
            esito: giorno(5),
            caso: Caso::NonRiportato,
        })
        .collect();
    let fatto = std::sync::atomic::AtomicBool::new(false);
    let store = app.store();
    let aggiorna = async {
        let mut giri = 0;
        while !fatto.load(std::sync::atomic::Ordering::Relaxed) {
            store.contabilita().stat_refresh(A).await.unwrap();
            giri += 1;
        }
        giri
    };
    let importa = async {
        // One receipt per import, one import at a time: uploads are limited process-wide
        // and the other tests of this binary import too.
        for v in &voci {
            carica_ricevute(&app, A, std::slice::from_ref(v)).await;
        }
        fatto.store(true, std::sync::atomic::Ordering::Relaxed);
    };
    let (giri, ()) = tokio::join!(aggiorna, importa);
    assert!(giri > 1, "the refresh ran beside the imports");
    let r = get_ok(
        &app,
        format!("/api/v1/enti/{A}/statistiche?anno=2026&mese=11"),
    )
    .await;
    let somma: i64 = voci.iter().map(|v| v.cents).sum();
    assert_eq!(
        celle(&r),
        BTreeMap::from([((giorno(5).to_string(), "pagati"), (somma, 48))]),
        "{r}"
    );

    // On PostgreSQL a change and a refresh can overlap: a change in flight holds its mark
    // uncommitted while the refresh deletes the committed marks of the same day. The
    // refresh must not wait for it, and the in-flight mark must survive it.
    if app.store().backend() == "postgres" {
        use sqlx::Connection;
        let url = app.config.database.url.clone().unwrap();
        let segna = "INSERT INTO statistica_sporca (id_dominio, giorno) VALUES ($1, $2)";
        let mut c = sqlx::PgConnection::connect(&url).await.unwrap();
        sqlx::query(segna)
            .bind(A)
            .bind(giorno(5))
            .execute(&mut c)
            .await
            .unwrap();
        let mut tx = c.begin().await.unwrap();
        sqlx::query(segna)
            .bind(A)
            .bind(giorno(5))
            .execute(&mut *tx)
            .await
            .unwrap();
        let presi = tokio::time::timeout(
            std::time::Duration::from_secs(5),
            app.store().contabilita().stat_refresh(A),
        )
        .await
        .expect("the refresh does not wait for a change in flight")
        .unwrap();
        assert_eq!(presi, 1, "the committed mark's day is recomputed");
        tx.commit().await.unwrap();
        assert_eq!(
            app.store().contabilita().stat_in_attesa().await.unwrap(),
            vec![A.to_owned()],
            "the in-flight mark is left for the next refresh"
        );
    }
});
