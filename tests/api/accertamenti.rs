//! MyPivot accounting over REST: the chart and its mass import (whole file or nothing),
//! the accertamento lifecycle with its history, the automatic accertamenti from receipts'
//! bilanci (with missing codes added to the chart), and a generated year whose statistics
//! equal the sums computed here independently.

use crate::both_backends;
use crate::helpers::*;
use crate::riconciliazione::{Pagamento, ente_tesoreria, flusso_xml, iuv, post_body, ricevuta};
use axum::http::{Method, StatusCode};
use pagopa_gateway::model::Importo;
use pagopa_gateway::recon::pagati::riga_csv;
use pagopa_gateway::sim::tesoreria::{Movimento, csv};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use time::{Date, Duration, Month};

const A: &str = "80007580279";
const B: &str = "00000000000";

async fn tipo(app: &TestApp, ente: &str, codice: &str) {
    let (s, r) = app
        .post(
            &format!("/api/v1/enti/{ente}/tipi-dovuto"),
            ADMIN,
            tipo_json(codice),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{r}");
}

fn zip_csv(name: &str, body: &str) -> Vec<u8> {
    use std::io::Write;
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    w.start_file(name, zip::write::SimpleFileOptions::default())
        .unwrap();
    w.write_all(body.as_bytes()).unwrap();
    w.finish().unwrap().into_inner()
}

const HEADER: &str = "\"cod_ufficio\";\"de_ufficio\";\"flg_attivo\";\"cod_capitolo\";\"de_capitolo\";\"de_anno_esercizio\";\"cod_accertamento\";\"de_accertamento\";\"cod_tipo_dovuto\";\"azione\"\n";

fn riga_chart(f: [&str; 10]) -> String {
    let q: Vec<String> = f.iter().map(|x| format!("\"{x}\"")).collect();
    format!("{}\n", q.join(";"))
}

async fn import_chart(app: &TestApp, ente: &str, body: Vec<u8>) -> Value {
    let (s, _, b) = app
        .raw(
            Method::POST,
            &format!("/api/v1/enti/{ente}/capitoli/import?nome_file=c_a-anagrafica-1_0.zip"),
            Some(ADMIN),
            "application/zip",
            body,
        )
        .await;
    let j: Value = serde_json::from_slice(&b).unwrap();
    assert_eq!(s, StatusCode::OK, "{j}");
    j
}

async fn chart(app: &TestApp, ente: &str, query: &str) -> Vec<Value> {
    let (s, r) = app
        .get(
            &format!("/api/v1/enti/{ente}/capitoli?per_page=500{query}"),
            ADMIN,
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{r}");
    r["items"].as_array().unwrap().clone()
}

both_backends!(
    the_chart_mass_import_applies_a_file_whole_or_not_at_all,
    |app| {
        ente_tesoreria(&app, A, "c_a").await;
        tipo(&app, A, "TARI").await;
        let good = [
            riga_chart([
                "U1",
                "Tributi",
                "true",
                "C1",
                "Rifiuti",
                "2026",
                "A1",
                "Ruolo 2026",
                "TARI",
                "I",
            ]),
            riga_chart([
                "U1", "Tributi", "true", "C2", "Sanzioni", "2026", "", "", "TARI", "I",
            ]),
        ]
        .concat();
        let j = import_chart(
            &app,
            A,
            zip_csv("c_a-anagrafica-1_0.csv", &format!("{HEADER}{good}")),
        )
        .await;
        assert_eq!(
            (j["stato"].as_str(), j["righe_importate"].as_i64()),
            (Some("ESEGUITO"), Some(2)),
            "{j}"
        );
        let rows = chart(&app, A, "").await;
        assert_eq!(rows.len(), 2);
        assert!(
            rows.iter()
                .any(|r| r["cod_capitolo"] == "C2" && r["cod_accertamento"] == "n/a")
        );

        // One unknown tipo, one description that contradicts the stored one, one delete of a
        // line that is not there: the whole file is refused, the good line included.
        let bad = [
            riga_chart([
                "U2", "Cultura", "true", "C9", "Musei", "2026", "", "", "TARI", "I",
            ]),
            riga_chart(["U3", "Altro", "true", "C3", "X", "2026", "", "", "IMU", "I"]),
            riga_chart([
                "U1",
                "Ufficio Tributi",
                "true",
                "C4",
                "Y",
                "2026",
                "",
                "",
                "TARI",
                "I",
            ]),
            riga_chart([
                "U1", "Tributi", "true", "C7", "Z", "2026", "", "", "TARI", "D",
            ]),
            "\"U1\";\"solo tre\";\"true\"\n".to_owned(),
        ]
        .concat();
        let j = import_chart(&app, A, format!("{HEADER}{bad}").into_bytes()).await;
        assert_eq!(j["stato"], "RIFIUTATO", "{j}");
        assert_eq!(j["righe_importate"], 0);
        let scarti: Vec<(i64, &str)> = j["scarti"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| (s["riga"].as_i64().unwrap(), s["codice"].as_str().unwrap()))
            .collect();
        assert_eq!(
            scarti,
            [
                (3, "TIPO_DOVUTO"),
                (4, "DESCRIZIONE"),
                (5, "NON_PRESENTE"),
                (6, "FORMATO")
            ]
        );
        assert!(
            j["scarti"][0]["riga_originale"]
                .as_str()
                .unwrap()
                .contains("IMU")
        );
        assert_eq!(chart(&app, A, "").await.len(), 2, "nothing applied");
        // The report stays available.
        let (s, r) = app
            .get(
                &format!(
                    "/api/v1/enti/{A}/importazioni/{}",
                    j["id"].as_str().unwrap()
                ),
                ADMIN,
            )
            .await;
        assert_eq!(
            (s, r["stato"].as_str()),
            (StatusCode::OK, Some("RIFIUTATO"))
        );

        // A delete that matches goes through.
        let del = riga_chart([
            "U1", "Tributi", "true", "C2", "Sanzioni", "2026", "", "", "TARI", "D",
        ]);
        let j = import_chart(&app, A, format!("{HEADER}{del}").into_bytes()).await;
        assert_eq!(j["stato"], "ESEGUITO", "{j}");
        assert_eq!(chart(&app, A, "").await.len(), 1);

        // CRUD: the same rules one line at a time; ente B sees none of A's chart.
        let (s, r) = app
            .post(&format!("/api/v1/enti/{A}/capitoli"), ADMIN, json!({"anno": 2026, "tipo_dovuto": "TARI",
                "cod_ufficio": "U1", "de_ufficio": "Altro nome", "cod_capitolo": "C5", "de_capitolo": "Cap"}))
            .await;
        assert_eq!(s, StatusCode::CONFLICT, "{r}");
        let (s, r) = app
            .post(&format!("/api/v1/enti/{A}/capitoli"), ADMIN, json!({"anno": 2026, "tipo_dovuto": "TARI",
                "cod_ufficio": "U1", "de_ufficio": "Tributi", "cod_capitolo": "C5", "de_capitolo": "Cap"}))
            .await;
        assert_eq!(s, StatusCode::CREATED, "{r}");
        let cid = r["id"].as_i64().unwrap();
        let (s, r) = app
            .put(
                &format!("/api/v1/enti/{A}/capitoli/{cid}"),
                ADMIN,
                json!({"attivo": false, "de_ufficio": "Tributi e tasse"}),
            )
            .await;
        assert_eq!(
            (s, r["attivo"].as_bool()),
            (StatusCode::OK, Some(false)),
            "{r}"
        );
        assert!(
            chart(&app, A, "")
                .await
                .iter()
                .all(|c| c["de_ufficio"] == "Tributi e tasse"),
            "descriptions follow the code"
        );
        ente_tesoreria(&app, B, "c_b").await;
        let kb = app.operator_key(B).await;
        let (s, _) = app.get(&format!("/api/v1/enti/{A}/capitoli"), &kb).await;
        assert_eq!(
            s,
            StatusCode::NOT_FOUND,
            "another ente's chart does not exist for B"
        );
        let (s, _, _) = app
            .raw(
                Method::DELETE,
                &format!("/api/v1/enti/{B}/capitoli/{cid}"),
                Some(&kb),
                "application/json",
                Vec::new(),
            )
            .await;
        assert_eq!(s, StatusCode::NOT_FOUND);
    }
);

/// Receipts of `tipo` paid on the given days, as a MyPay export pagati 1.2 (bilancio column
/// present, empty here).
fn pagati(ente: &str, from: usize, n: usize, tipo: &str, bilanci: &[Option<String>]) -> String {
    let mut out = "intestazione\n".to_owned();
    for k in 0..n {
        let p = Pagamento {
            iuv: iuv(from + k),
            iur: format!("IUR{:08}", from + k),
            cents: 1_000 + k as i64 * 100,
            giorno: 1 + (k % 28) as u8,
        };
        let mut r = ricevuta(&p);
        r.tipo_dovuto = Some(tipo.into());
        r.iud = Some(format!("IUD-{tipo}-{}", from + k));
        let b = bilanci.get(k).cloned().flatten().unwrap_or_default();
        out.push_str(&riga_csv(ente, &r, Some(&b)));
    }
    out
}

async fn accertamento(app: &TestApp, ente: &str, id: i64) -> Value {
    let (s, r) = app
        .get(&format!("/api/v1/enti/{ente}/accertamenti/{id}"), ADMIN)
        .await;
    assert_eq!(s, StatusCode::OK, "{r}");
    r
}

both_backends!(
    an_accertamento_moves_from_inserito_to_chiuso_or_annullato_and_keeps_its_history,
    |app| {
        ente_tesoreria(&app, A, "c_a").await;
        tipo(&app, A, "TOSAP").await;
        tipo(&app, A, "TARI").await;
        // Two chart lines for TOSAP: no automatic booking (MyPivot needs exactly one).
        for cap in ["C1", "C2"] {
            let (s, r) = app
                .post(&format!("/api/v1/enti/{A}/capitoli"), ADMIN, json!({"anno": 2026, "tipo_dovuto": "TOSAP",
                    "cod_ufficio": "U1", "de_ufficio": "Tributi", "cod_capitolo": cap, "de_capitolo": format!("Cap {cap}")}))
                .await;
            assert_eq!(s, StatusCode::CREATED, "{r}");
        }
        let (s, j) = post_body(
            &app,
            &format!("/api/v1/enti/{A}/ricevute"),
            ADMIN,
            pagati(A, 1, 4, "TOSAP", &[]),
        )
        .await;
        assert_eq!(
            (s, j["righe_scartate"].as_i64()),
            (StatusCode::OK, Some(0)),
            "{j}"
        );
        let (s, j) = post_body(
            &app,
            &format!("/api/v1/enti/{A}/ricevute"),
            ADMIN,
            pagati(A, 10, 1, "TARI", &[]),
        )
        .await;
        assert_eq!(s, StatusCode::OK, "{j}");
        let (_, l) = app
            .get(&format!("/api/v1/enti/{A}/accertamenti"), ADMIN)
            .await;
        assert_eq!(
            l["total"], 0,
            "no automatic accertamento without a bilancio or a single chart line"
        );

        let (s, r) = app
            .post(
                &format!("/api/v1/enti/{A}/accertamenti"),
                ADMIN,
                json!({"nome": "TOSAP primo semestre", "tipo_dovuto": "TOSAP"}),
            )
            .await;
        assert_eq!(
            (s, r["stato"].as_str()),
            (StatusCode::CREATED, Some("INSERITO")),
            "{r}"
        );
        let id = r["id"].as_i64().unwrap();
        let (s, r) = app
            .post(
                &format!("/api/v1/enti/{A}/accertamenti"),
                ADMIN,
                json!({"nome": "x", "tipo_dovuto": "IMU"}),
            )
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{r}");

        // Candidates: the four TOSAP receipts, not the TARI one.
        let (_, c) = app
            .get(
                &format!("/api/v1/enti/{A}/accertamenti/{id}/candidati"),
                ADMIN,
            )
            .await;
        assert_eq!(c["total"], 4, "{c}");
        let ids: Vec<i64> = c["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x["id"].as_i64().unwrap())
            .collect();

        // Closing needs a payment.
        let (s, _) = app
            .post(
                &format!("/api/v1/enti/{A}/accertamenti/{id}/chiudi"),
                ADMIN,
                json!({}),
            )
            .await;
        assert_eq!(s, StatusCode::CONFLICT);
        // A chart line that does not exist, or another tipo's receipt, is refused.
        let (s, r) = app
            .post(
                &format!("/api/v1/enti/{A}/accertamenti/{id}/pagamenti"),
                ADMIN,
                json!({"ricevute": [ids[0]], "cod_ufficio": "U1", "cod_capitolo": "C9"}),
            )
            .await;
        assert_eq!(s, StatusCode::CONFLICT, "{r}");
        let (s, _, r) = app
            .raw(Method::POST, &format!("/api/v1/enti/{A}/accertamenti/{id}/pagamenti"), Some(ADMIN), "application/json",
                serde_json::to_vec(&json!({"ricevute": [ids[0], ids[1], ids[2]], "cod_ufficio": "U1", "cod_capitolo": "C1"})).unwrap())
            .await;
        assert_eq!(s, StatusCode::OK, "{}", String::from_utf8_lossy(&r));
        let r = accertamento(&app, A, id).await;
        assert_eq!(
            (r["pagamenti"].as_i64(), r["totale_cents"].as_i64()),
            (Some(3), Some(1_000 + 1_100 + 1_200)),
            "{r}"
        );
        let (_, c) = app
            .get(
                &format!("/api/v1/enti/{A}/accertamenti/{id}/candidati"),
                ADMIN,
            )
            .await;
        assert_eq!(c["total"], 1, "booked receipts are no longer candidates");

        // The same receipt cannot sit in two live accertamenti.
        let (_, r2) = app
            .post(
                &format!("/api/v1/enti/{A}/accertamenti"),
                ADMIN,
                json!({"nome": "Doppione", "tipo_dovuto": "TOSAP"}),
            )
            .await;
        let id2 = r2["id"].as_i64().unwrap();
        // The name filter matches text, its wildcards literally; a control character is a 400.
        for (nome, trovati) in [("semestre", 1), ("%25", 0), ("_", 0), ("o", 2)] {
            let (s, l) = app
                .get(&format!("/api/v1/enti/{A}/accertamenti?nome={nome}"), ADMIN)
                .await;
            assert_eq!(
                (s, l["total"].as_i64()),
                (StatusCode::OK, Some(trovati)),
                "{nome}: {l}"
            );
        }
        let (s, l) = app
            .get(&format!("/api/v1/enti/{A}/accertamenti?nome=a%00"), ADMIN)
            .await;
        assert_eq!(
            (s, l["code"].as_str()),
            (StatusCode::BAD_REQUEST, Some("BAD_REQUEST")),
            "{l}"
        );
        let (s, r) = app
            .post(
                &format!("/api/v1/enti/{A}/accertamenti/{id2}/pagamenti"),
                ADMIN,
                json!({"ricevute": [ids[0]], "cod_ufficio": "U1", "cod_capitolo": "C2"}),
            )
            .await;
        assert_eq!(s, StatusCode::CONFLICT, "{r}");

        // Remove one, close with an operator named, then nothing moves any more.
        let det = accertamento(&app, A, id).await;
        let riga = det["righe"][2]["id"].as_i64().unwrap();
        let (s, _, _) = app
            .raw(
                Method::DELETE,
                &format!("/api/v1/enti/{A}/accertamenti/{id}/pagamenti/{riga}"),
                Some(ADMIN),
                "application/json",
                Vec::new(),
            )
            .await;
        assert_eq!(s, StatusCode::OK);
        let (s, _, b) = app
            .raw_with(
                Method::POST,
                &format!("/api/v1/enti/{A}/accertamenti/{id}/chiudi"),
                Some(ADMIN),
                &[("x-operatore", "Anna Bianchi")],
                "application/json",
                Vec::new(),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{}", String::from_utf8_lossy(&b));
        let det = accertamento(&app, A, id).await;
        assert_eq!(
            (det["stato"].as_str(), det["pagamenti"].as_i64()),
            (Some("CHIUSO"), Some(2))
        );
        assert!(
            det["utente"].as_str().unwrap().contains("Anna Bianchi"),
            "{det}"
        );
        let azioni: Vec<&str> = det["storia"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| h["azione"].as_str().unwrap())
            .collect();
        assert_eq!(
            azioni,
            [
                "CREATO",
                "PAGAMENTI_AGGIUNTI",
                "PAGAMENTO_RIMOSSO",
                "CHIUSO"
            ]
        );
        for (m, path, body) in [
            (Method::POST, "annulla", json!({})),
            (Method::POST, "chiudi", json!({})),
            (Method::PUT, "", json!({"nome": "nuovo"})),
            (
                Method::POST,
                "pagamenti",
                json!({"ricevute": [ids[3]], "cod_ufficio": "U1", "cod_capitolo": "C1"}),
            ),
        ] {
            let p = if path.is_empty() {
                format!("/api/v1/enti/{A}/accertamenti/{id}")
            } else {
                format!("/api/v1/enti/{A}/accertamenti/{id}/{path}")
            };
            let (s, _, b) = app
                .raw(
                    m,
                    &p,
                    Some(ADMIN),
                    "application/json",
                    serde_json::to_vec(&body).unwrap(),
                )
                .await;
            assert_eq!(
                s,
                StatusCode::CONFLICT,
                "{path}: {}",
                String::from_utf8_lossy(&b)
            );
        }

        // Cancelling frees the receipts for another accertamento.
        let (s, r) = app
            .post(
                &format!("/api/v1/enti/{A}/accertamenti/{id2}/pagamenti"),
                ADMIN,
                json!({"ricevute": [ids[2], ids[3]], "cod_ufficio": "U1", "cod_capitolo": "C2"}),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{r}");
        let (s, _) = app
            .post(
                &format!("/api/v1/enti/{A}/accertamenti/{id2}/annulla"),
                ADMIN,
                json!({}),
            )
            .await;
        assert_eq!(s, StatusCode::OK);
        let (_, c) = app
            .get(
                &format!("/api/v1/enti/{A}/accertamenti/{id}/candidati"),
                ADMIN,
            )
            .await;
        assert_eq!(c["total"], 2, "{c}");
        let (_, l) = app
            .get(
                &format!("/api/v1/enti/{A}/accertamenti?stato=ANNULLATO"),
                ADMIN,
            )
            .await;
        assert_eq!(l["total"], 1);
        // Ente B cannot read A's accertamento.
        ente_tesoreria(&app, B, "c_b").await;
        let kb = app.operator_key(B).await;
        let (s, _) = app
            .get(&format!("/api/v1/enti/{B}/accertamenti/{id}"), &kb)
            .await;
        assert_eq!(s, StatusCode::NOT_FOUND);
    }
);

fn bilancio_xml(voci: &[(&str, &str, &str, i64)]) -> String {
    let mut x = "<bilancio>".to_owned();
    for (u, c, a, cents) in voci {
        x.push_str(&format!(
            "<capitolo><codCapitolo>{c}</codCapitolo>{}<accertamento>{}<importo>{}</importo></accertamento></capitolo>",
            if u.is_empty() { String::new() } else { format!("<codUfficio>{u}</codUfficio>") },
            if a.is_empty() { String::new() } else { format!("<codAccertamento>{a}</codAccertamento>") },
            Importo::from_cents(*cents).unwrap()
        ));
    }
    x.push_str("</bilancio>");
    x
}

both_backends!(
    receipts_with_a_bilancio_are_booked_on_an_automatic_closed_accertamento_once,
    |app| {
        ente_tesoreria(&app, A, "c_a").await;
        tipo(&app, A, "TARI").await;
        tipo(&app, A, "TOSAP").await;
        // TOSAP has exactly one active line: receipts without a bilancio go there whole.
        let (s, r) = app
            .post(&format!("/api/v1/enti/{A}/capitoli"), ADMIN, json!({"anno": 2026, "tipo_dovuto": "TOSAP",
                "cod_ufficio": "U5", "de_ufficio": "Suolo", "cod_capitolo": "C5", "de_capitolo": "Occupazioni"}))
            .await;
        assert_eq!(s, StatusCode::CREATED, "{r}");
        let b1 = bilancio_xml(&[("U1", "C1", "A1", 700), ("", "C2", "", 300)]);
        let b2 = bilancio_xml(&[("U1", "C1", "A1", 1_100)]);
        let file = pagati(A, 1, 2, "TARI", &[Some(b1), Some(b2)]);
        let tosap = pagati(A, 5, 1, "TOSAP", &[]);
        for _ in 0..2 {
            for f in [&file, &tosap] {
                let (s, j) = post_body(
                    &app,
                    &format!("/api/v1/enti/{A}/ricevute"),
                    ADMIN,
                    f.clone(),
                )
                .await;
                assert_eq!(
                    (s, j["righe_scartate"].as_i64()),
                    (StatusCode::OK, Some(0)),
                    "{j}"
                );
            }
        }
        let (_, l) = app
            .get(
                &format!("/api/v1/enti/{A}/accertamenti?stato=CHIUSO"),
                ADMIN,
            )
            .await;
        assert_eq!(
            l["total"], 2,
            "one per file and tipo, reloads included: {l}"
        );
        let items = l["items"].as_array().unwrap();
        let tari = items.iter().find(|a| a["tipo_dovuto"] == "TARI").unwrap();
        assert!(tari["automatico"].as_bool().unwrap());
        assert!(tari["nome"].as_str().unwrap().ends_with("_TARI"));
        assert_eq!(
            (tari["pagamenti"].as_i64(), tari["totale_cents"].as_i64()),
            (Some(3), Some(2_100)),
            "{tari}"
        );
        let tosap_acc = items.iter().find(|a| a["tipo_dovuto"] == "TOSAP").unwrap();
        assert_eq!(tosap_acc["totale_cents"], 1_000);
        // The codes the chart lacked were added with n/a descriptions.
        let auto: Vec<(String, String, String, String)> = chart(&app, A, "&tipo_dovuto=TARI")
            .await
            .iter()
            .map(|c| {
                let t = |k: &str| c[k].as_str().unwrap().to_owned();
                (
                    t("cod_ufficio"),
                    t("cod_capitolo"),
                    t("cod_accertamento"),
                    t("de_capitolo"),
                )
            })
            .collect();
        assert_eq!(
            auto,
            [
                ("U1".into(), "C1".into(), "A1".into(), "n/a".into()),
                ("n/a".into(), "C2".into(), "n/a".into(), "n/a".into())
            ]
        );
        // A later import naming the code fills the placeholder everywhere.
        let named = riga_chart([
            "U1", "Tributi", "true", "C1", "Rifiuti", "2026", "A1", "Ruolo", "TARI", "I",
        ]);
        let j = import_chart(&app, A, format!("{HEADER}{named}").into_bytes()).await;
        assert_eq!(j["stato"], "ESEGUITO", "{j}");
        let c = chart(&app, A, "&cod_capitolo=C1").await;
        assert_eq!(
            (c[0]["de_capitolo"].as_str(), c[0]["automatico"].as_bool()),
            (Some("Rifiuti"), Some(false))
        );
    }
);

/// One payment of the generated year and where its money should show.
struct Atteso {
    tipo: &'static str,
    cents: i64,
    esito: Date,
    regolamento: Option<Date>,
    valuta: Option<Date>,
    /// (ufficio, capitolo, accertamento, cents) on a CHIUSO accertamento.
    voci: Vec<(&'static str, &'static str, &'static str, i64)>,
}

#[derive(Default, Debug, PartialEq, Eq, Clone, Copy)]
struct Somme([i64; 6]);

impl Somme {
    fn add(&mut self, m: usize, cents: i64) {
        self.0[m * 2] += cents;
        self.0[m * 2 + 1] += 1;
    }
}

/// A year for ente A: two payments a day; two in three TARI with a bilancio split on two
/// lines (booked automatically), one in three TOSAP booked by hand (first half closed,
/// second half left open); one flow a week reporting them, transferred two days later,
/// except every tenth week (never transferred) and the 7th of ten (a cent short); one
/// payment in fifty is never reported.
fn anno() -> (String, Vec<Vec<u8>>, Vec<Movimento>, Vec<Atteso>) {
    let start = Date::from_calendar_date(2026, Month::January, 1).unwrap();
    let mut pagati = "intestazione\n".to_owned();
    let (mut flussi, mut tesoreria, mut attesi) = (Vec::new(), Vec::new(), Vec::new());
    let mut n = 0usize;
    for w in 0..53 {
        let mut settimana: Vec<Pagamento> = Vec::new();
        let mut indici = Vec::new();
        let fine = (start + Duration::days(w * 7 + 6))
            .min(Date::from_calendar_date(2026, Month::December, 31).unwrap());
        for d in 0..7 {
            let day = start + Duration::days(w * 7 + d);
            if day.year() != 2026 {
                break;
            }
            for _ in 0..2 {
                n += 1;
                let cents = 1_000 + (n as i64 * 37) % 5_000;
                let tipo = if n.is_multiple_of(3) { "TOSAP" } else { "TARI" };
                let p = Pagamento {
                    iuv: iuv(n),
                    iur: format!("IUR{n:08}"),
                    cents,
                    giorno: 1,
                };
                let mut r = ricevuta(&p);
                r.data_esito = day;
                r.tipo_dovuto = Some(tipo.into());
                r.iud = Some(format!("IUD{n}"));
                let (bil, voci) = if tipo == "TARI" {
                    let a = cents * 7 / 10;
                    (
                        bilancio_xml(&[("U1", "C1", "A1", a), ("U2", "C2", "", cents - a)]),
                        vec![("U1", "C1", "A1", a), ("U2", "C2", "n/a", cents - a)],
                    )
                } else if day.month() as u8 <= 6 {
                    (String::new(), vec![("U3", "C3", "A3", cents)])
                } else {
                    (String::new(), Vec::new()) // in an accertamento left INSERITO
                };
                pagati.push_str(&riga_csv(A, &r, Some(&bil)));
                let riportato = !n.is_multiple_of(50);
                attesi.push(Atteso {
                    tipo,
                    cents,
                    esito: day,
                    regolamento: None,
                    valuta: None,
                    voci,
                });
                if riportato {
                    indici.push(attesi.len() - 1);
                    settimana.push(p);
                }
            }
        }
        if settimana.is_empty() {
            continue;
        }
        let reg = fine + Duration::days(1);
        let iuf = format!("{reg}ABCDITMMXXX-W{w:02}");
        flussi.push(flusso_xml(
            &iuf,
            A,
            reg,
            &settimana.iter().collect::<Vec<_>>(),
        ));
        let totale: i64 = settimana.iter().map(|p| p.cents).sum();
        let valuta = reg + Duration::days(2);
        let (mai, corto) = (w % 10 == 3, w % 10 == 7);
        for &i in &indici {
            attesi[i].regolamento = Some(reg);
            if !mai && !corto {
                attesi[i].valuta = Some(valuta);
            }
        }
        if !mai {
            tesoreria.push(Movimento {
                numero: tesoreria.len() as u64 + 1,
                data: valuta,
                importo: Importo::from_cents(totale - i64::from(corto)).unwrap(),
                ordinante: "PAGOPA SPA".into(),
                causale: format!("/PUR/LGPE-RIVERSAMENTO/URI/{iuf}"),
            });
        }
    }
    (pagati, flussi, tesoreria, attesi)
}

/// The cells of a statistics answer as (period, codes…) → sums.
fn celle(r: &Value, dims: &[&str]) -> BTreeMap<Vec<String>, Somme> {
    let mut out = BTreeMap::new();
    for c in r["celle"].as_array().unwrap() {
        let mut k = vec![c["periodo"].as_str().unwrap().to_owned()];
        k.extend(dims.iter().map(|d| c[*d].as_str().unwrap().to_owned()));
        let v = |f: &str| c[f].as_i64().unwrap();
        out.insert(
            k,
            Somme([
                v("importo_pagato_cents"),
                v("numero_pagati"),
                v("importo_rendicontato_cents"),
                v("numero_rendicontati"),
                v("importo_incassato_cents"),
                v("numero_incassati"),
            ]),
        );
    }
    out
}

fn periodo(d: Date, g: &str) -> String {
    match g {
        "anno" => format!("{}", d.year()),
        "mese" => format!("{}-{:02}", d.year(), d.month() as u8),
        _ => d.to_string(),
    }
}

/// The expected cells, computed from the generated data alone.
fn attese(
    att: &[Atteso],
    g: &str,
    dims: &[&str],
    tieni: impl Fn(Date) -> bool,
) -> BTreeMap<Vec<String>, Somme> {
    let mut out: BTreeMap<Vec<String>, Somme> = BTreeMap::new();
    for a in att {
        let righe: Vec<(Vec<String>, i64)> = if dims.is_empty() {
            vec![(Vec::new(), a.cents)]
        } else {
            a.voci
                .iter()
                .filter(|v| !(dims.contains(&"cod_accertamento") && v.2 == "n/a"))
                .map(|v| {
                    let k = dims
                        .iter()
                        .map(|d| match *d {
                            "tipo_dovuto" => a.tipo.to_owned(),
                            "cod_ufficio" => v.0.to_owned(),
                            "cod_capitolo" => v.1.to_owned(),
                            _ => v.2.to_owned(),
                        })
                        .collect();
                    (k, v.3)
                })
                .collect()
        };
        for (m, data) in [(0, Some(a.esito)), (1, a.regolamento), (2, a.valuta)] {
            let Some(d) = data.filter(|d| tieni(*d)) else {
                continue;
            };
            for (k, cents) in &righe {
                let mut key = vec![periodo(d, g)];
                key.extend(k.iter().cloned());
                out.entry(key).or_default().add(m, *cents);
            }
        }
    }
    out
}

both_backends!(
    a_generated_year_of_statistics_equals_the_sums_computed_independently,
    |app| {
        ente_tesoreria(&app, A, "c_a").await;
        tipo(&app, A, "TARI").await;
        tipo(&app, A, "TOSAP").await;
        let chart_file = [
            riga_chart([
                "U3",
                "Suolo pubblico",
                "true",
                "C3",
                "Occupazioni",
                "2026",
                "A3",
                "Ruolo TOSAP",
                "TOSAP",
                "I",
            ]),
            riga_chart([
                "U3",
                "Suolo pubblico",
                "true",
                "C4",
                "Mercati",
                "2026",
                "",
                "",
                "TOSAP",
                "I",
            ]),
            riga_chart([
                "U2",
                "Ambiente",
                "true",
                "C2",
                "Igiene urbana",
                "2026",
                "",
                "",
                "TARI",
                "I",
            ]),
        ]
        .concat();
        assert_eq!(
            import_chart(&app, A, format!("{HEADER}{chart_file}").into_bytes()).await["stato"],
            "ESEGUITO"
        );
        let (pagati, flussi, tesoreria, att) = anno();
        let (s, j) = post_body(&app, &format!("/api/v1/enti/{A}/ricevute"), ADMIN, pagati).await;
        assert_eq!(
            (s, j["righe_scartate"].as_i64()),
            (StatusCode::OK, Some(0)),
            "{j}"
        );
        for f in flussi {
            let (s, r) = post_body(&app, &format!("/api/v1/enti/{A}/flussi"), ADMIN, f).await;
            assert_eq!(s, StatusCode::OK, "{r}");
        }
        let (s, r) = post_body(
            &app,
            &format!("/api/v1/enti/{A}/tesoreria?formato=csv"),
            ADMIN,
            csv(&tesoreria),
        )
        .await;
        assert_eq!(
            (s, r["scartate"].as_u64()),
            (StatusCode::OK, Some(0)),
            "{r}"
        );
        // TOSAP by hand: the first half on a closed accertamento, the second on an open one.
        for (nome, semestre, cap, chiudi) in [
            ("TOSAP I", 1..=6u8, "C3", true),
            ("TOSAP II", 7..=12u8, "C4", false),
        ] {
            let (_, r) = app
                .post(
                    &format!("/api/v1/enti/{A}/accertamenti"),
                    ADMIN,
                    json!({"nome": nome, "tipo_dovuto": "TOSAP"}),
                )
                .await;
            let id = r["id"].as_i64().unwrap();
            let (first, last) = (*semestre.start(), *semestre.end());
            let da = Date::from_calendar_date(2026, Month::try_from(first).unwrap(), 1).unwrap();
            let a = Date::from_calendar_date(
                2026,
                Month::try_from(last).unwrap(),
                Month::try_from(last).unwrap().length(2026),
            )
            .unwrap();
            let (_, c) = app
                .get(&format!("/api/v1/enti/{A}/accertamenti/{id}/candidati?per_page=500&data_esito_da={da}&data_esito_a={a}"), ADMIN)
                .await;
            let ids: Vec<i64> = c["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|x| x["id"].as_i64().unwrap())
                .collect();
            assert_eq!(ids.len() as i64, c["total"].as_i64().unwrap());
            let (s, r) = app
                .post(&format!("/api/v1/enti/{A}/accertamenti/{id}/pagamenti"), ADMIN,
                    json!({"ricevute": ids, "cod_ufficio": "U3", "cod_capitolo": cap, "cod_accertamento": if cap == "C3" { "A3" } else { "n/a" }}))
                .await;
            assert_eq!(s, StatusCode::OK, "{r}");
            if chiudi {
                let (s, _) = app
                    .post(
                        &format!("/api/v1/enti/{A}/accertamenti/{id}/chiudi"),
                        ADMIN,
                        json!({}),
                    )
                    .await;
                assert_eq!(s, StatusCode::OK);
            }
        }
        let y2026 = |d: Date| d.year() == 2026;
        let get = |q: String| {
            let app = &app;
            async move {
                let (s, r) = app
                    .get(&format!("/api/v1/enti/{A}/statistiche?{q}"), ADMIN)
                    .await;
                assert_eq!(s, StatusCode::OK, "{q}: {r}");
                r
            }
        };
        // Years (2027 holds the last week's reporting and cashing).
        let r = get(String::new()).await;
        assert_eq!(celle(&r, &[]), attese(&att, "anno", &[], |_| true));
        // Months of 2026, for the ente and per each breakdown.
        for (dim, cols) in [
            ("totale", vec![]),
            ("ufficio", vec!["cod_ufficio"]),
            ("tipo_dovuto", vec!["tipo_dovuto"]),
            (
                "capitolo",
                vec!["tipo_dovuto", "cod_ufficio", "cod_capitolo"],
            ),
            (
                "accertamento",
                vec![
                    "tipo_dovuto",
                    "cod_ufficio",
                    "cod_capitolo",
                    "cod_accertamento",
                ],
            ),
        ] {
            let r = get(format!("anno=2026&dimensione={dim}")).await;
            let got = celle(&r, &cols);
            assert!(!got.is_empty(), "{dim}");
            assert_eq!(got, attese(&att, "mese", &cols, y2026), "{dim}");
        }
        // Days of March, and a year-level total for one capitolo.
        let marzo = |d: Date| d.year() == 2026 && d.month() == Month::March;
        let r = get("anno=2026&mese=3".into()).await;
        assert_eq!(celle(&r, &[]), attese(&att, "giorno", &[], marzo));
        let r = get("anno=2026&granularita=anno&dimensione=capitolo&cod_capitolo=C1".into()).await;
        let want: BTreeMap<_, _> = attese(
            &att,
            "anno",
            &["tipo_dovuto", "cod_ufficio", "cod_capitolo"],
            y2026,
        )
        .into_iter()
        .filter(|(k, _)| k[3] == "C1")
        .collect();
        assert_eq!(
            celle(&r, &["tipo_dovuto", "cod_ufficio", "cod_capitolo"]),
            want
        );
        assert_eq!(
            r["celle"][0]["de_ufficio"], "n/a",
            "U1 came from a bilancio only"
        );
        let r = get("anno=2026&dimensione=ufficio&cod_ufficio=U3".into()).await;
        assert_eq!(r["celle"][0]["de_ufficio"], "Suolo pubblico");

        // Drill-down: the receipts behind May's cashed money on U1.
        let maggio = |d: Date| d.year() == 2026 && d.month() == Month::May;
        let want = attese(&att, "mese", &["cod_ufficio"], maggio);
        let cell = want
            .get(&vec!["2026-05".to_owned(), "U1".to_owned()])
            .unwrap();
        let (s, r) = app
            .get(&format!("/api/v1/enti/{A}/statistiche/dettaglio?misura=incassati&anno=2026&mese=5&dimensione=ufficio&cod_ufficio=U1&per_page=500"), ADMIN)
            .await;
        assert_eq!(s, StatusCode::OK, "{r}");
        let sum: i64 = r["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x["importo_cents"].as_i64().unwrap())
            .sum();
        assert_eq!((sum, r["total"].as_i64().unwrap()), (cell.0[4], cell.0[5]));
        // Small pages across the days give the same rows, in the same order.
        let mut paged = Vec::new();
        for page in 1.. {
            let (_, p) = app
                .get(&format!("/api/v1/enti/{A}/statistiche/dettaglio?misura=incassati&anno=2026&mese=5&dimensione=ufficio&cod_ufficio=U1&per_page=7&page={page}"), ADMIN)
                .await;
            let items = p["items"].as_array().unwrap().clone();
            let n = items.len();
            paged.extend(items);
            if n < 7 {
                break;
            }
        }
        assert_eq!(&paged, r["items"].as_array().unwrap());
        // The CSV carries the same cells.
        let (s, _, b) = app
            .raw(
                Method::GET,
                &format!("/api/v1/enti/{A}/statistiche?anno=2026&formato=csv"),
                Some(ADMIN),
                "text/plain",
                Vec::new(),
            )
            .await;
        assert_eq!(s, StatusCode::OK);
        let text = String::from_utf8(b).unwrap();
        let jan = attese(&att, "mese", &[], y2026)[&vec!["2026-01".to_owned()]];
        let line = text.lines().find(|l| l.starts_with("2026-01;")).unwrap();
        assert_eq!(
            line.split(';').nth(2).unwrap(),
            jan.0[1].to_string(),
            "{line}"
        );
        let (s, _, b) = app
            .raw(Method::GET, &format!("/api/v1/enti/{A}/statistiche/dettaglio?misura=pagati&anno=2026&mese=1&formato=csv"), Some(ADMIN), "text/plain", Vec::new())
            .await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(
            String::from_utf8(b).unwrap().lines().count() as i64,
            jan.0[1] + 1
        );

        // A full rebuild changes nothing; bad periods are refused; B sees nothing of A.
        let (s, _) = app
            .post(
                &format!("/api/v1/enti/{A}/riconciliazione/ricalcola"),
                ADMIN,
                json!({}),
            )
            .await;
        assert_eq!(s, StatusCode::OK);
        let r = get("anno=2026&dimensione=capitolo".into()).await;
        assert_eq!(
            celle(&r, &["tipo_dovuto", "cod_ufficio", "cod_capitolo"]),
            attese(
                &att,
                "mese",
                &["tipo_dovuto", "cod_ufficio", "cod_capitolo"],
                y2026
            )
        );
        let (s, _) = app
            .get(&format!("/api/v1/enti/{A}/statistiche?mese=3"), ADMIN)
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        let (s, _) = app
            .get(
                &format!("/api/v1/enti/{A}/statistiche?anno=2026&mese=13"),
                ADMIN,
            )
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        ente_tesoreria(&app, B, "c_b").await;
        let kb = app.operator_key(B).await;
        let (s, r) = app.get(&format!("/api/v1/enti/{B}/statistiche"), &kb).await;
        assert_eq!(
            (s, r["celle"].as_array().map(Vec::len)),
            (StatusCode::OK, Some(0))
        );
    }
);

/// A "con ricevuta" export line (70 columns): the base layout and six more, the RT a few
/// kilobytes as a real export carries it.
fn con_ricevuta(ente: &str, k: usize, rt: &str) -> String {
    let p = Pagamento {
        iuv: iuv(k),
        iur: format!("IUR{k:08}"),
        cents: 1_000,
        giorno: 1 + (k % 28) as u8,
    };
    let base = riga_csv(ente, &ricevuta(&p), None);
    format!("{};;{rt};1;;;\n", base.trim_end())
}

/// Receipts exports larger than the request body limit import (spooled to disk), past the
/// upload limit they get 413, and a report of many rejects is paged in the job and whole
/// in scarti.csv.
async fn large_receipts_exports_are_spooled_and_reports_paged(backend: Backend) {
    let app = TestApp::spawn_with(backend, |c| {
        c.rest.body_limit_bytes = 1 << 20;
        c.rest.upload_limit_bytes = 4 << 20;
    })
    .await;
    ente_tesoreria(&app, A, "c_a").await;
    let rt = "R".repeat(2_500);
    let mut file = "intestazione\n".to_owned();
    for k in 0..1_000 {
        file.push_str(&con_ricevuta(A, k, &rt));
    }
    // 300 lines of another ente: rejected, each reported with its line cut at 2 KiB.
    for k in 0..300 {
        // One of them carries a NUL, which PostgreSQL's TEXT refuses.
        let rt = if k == 0 {
            format!("\0{rt}")
        } else {
            rt.clone()
        };
        file.push_str(&con_ricevuta(B, 5_000 + k, &rt));
    }
    assert!(file.len() > 3 << 20 && file.len() < 4 << 20);
    let path = format!("/api/v1/enti/{A}/ricevute");
    let (s, j) = post_body(&app, &path, ADMIN, file.clone()).await;
    assert_eq!(s, StatusCode::OK, "{j}");
    assert_eq!(j["righe_lette"], 1_300);
    assert_eq!(j["righe_importate"], 1_000);
    assert_eq!(j["righe_scartate"], 300);
    let scarti = j["scarti"].as_array().unwrap();
    assert_eq!(scarti.len(), 100, "the job carries the first 100 rejects");
    assert_eq!(scarti[0]["riga"], 1_002);
    let originale = scarti[0]["riga_originale"].as_str().unwrap();
    assert!(originale.len() <= 2_051 && originale.ends_with('…'));
    let (s, _, csv) = app
        .raw(
            Method::GET,
            &format!(
                "/api/v1/enti/{A}/imports/{}/scarti.csv",
                j["id"].as_str().unwrap()
            ),
            Some(ADMIN),
            "text/plain",
            Vec::new(),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    let csv = String::from_utf8(csv.to_vec()).unwrap();
    assert_eq!(csv.lines().count(), 301, "header and every reject");
    assert!(csv.contains('\u{FFFD}'), "the NUL reported as U+FFFD");
    assert!(csv.lines().last().unwrap().starts_with("1301;"));
    // The same file again: nothing new, the same digest.
    let (s, again) = post_body(&app, &path, ADMIN, file.clone()).await;
    assert_eq!(s, StatusCode::OK, "{again}");
    assert_eq!(again["righe_importate"], 0);
    assert_eq!(again["file_sha256"], j["file_sha256"]);
    // Past the upload limit: 413 as a problem, nothing imported.
    file.push_str(&file.clone());
    let (s, p) = post_body(&app, &path, ADMIN, file).await;
    assert_eq!(s, StatusCode::PAYLOAD_TOO_LARGE, "{p}");
    assert_eq!(p["code"], "PAYLOAD_TOO_LARGE");
}

#[tokio::test]
async fn large_receipts_exports_are_spooled_and_reports_paged_sqlite() {
    large_receipts_exports_are_spooled_and_reports_paged(Backend::Sqlite).await
}
#[tokio::test]
async fn large_receipts_exports_are_spooled_and_reports_paged_postgres() {
    large_receipts_exports_are_spooled_and_reports_paged(Backend::Postgres).await
}

both_backends!(
    a_file_of_receipts_held_already_and_new_ones_books_both_once,
    |app| {
        ente_tesoreria(&app, A, "c_a").await;
        tipo(&app, A, "TEFA").await;
        // No chart line yet: the first two receipts are staged and booked on nothing.
        let (s, j) = post_body(
            &app,
            &format!("/api/v1/enti/{A}/ricevute"),
            ADMIN,
            pagati(A, 100, 2, "TEFA", &[]),
        )
        .await;
        assert_eq!(
            (s, j["righe_importate"].as_i64()),
            (StatusCode::OK, Some(2)),
            "{j}"
        );
        let chiusi = || async {
            let (_, l) = app
                .get(
                    &format!("/api/v1/enti/{A}/accertamenti?stato=CHIUSO&tipo_dovuto=TEFA"),
                    ADMIN,
                )
                .await;
            l
        };
        assert_eq!(chiusi().await["total"], 0);
        let (s, r) = app
            .post(&format!("/api/v1/enti/{A}/capitoli"), ADMIN, json!({"anno": 2026, "tipo_dovuto": "TEFA",
                "cod_ufficio": "U7", "de_ufficio": "Ambiente", "cod_capitolo": "C7", "de_capitolo": "Tributo provinciale"}))
            .await;
        assert_eq!(s, StatusCode::CREATED, "{r}");
        // The two held already (read back) and a new one (as its INSERT returned it), in
        // one file: all three booked, each once, also when the file comes again.
        let file = pagati(A, 100, 3, "TEFA", &[]);
        for _ in 0..2 {
            let (s, j) = post_body(
                &app,
                &format!("/api/v1/enti/{A}/ricevute"),
                ADMIN,
                file.clone(),
            )
            .await;
            assert_eq!(s, StatusCode::OK, "{j}");
            let l = chiusi().await;
            assert_eq!(l["total"], 1, "{l}");
            assert_eq!(
                (
                    l["items"][0]["pagamenti"].as_i64(),
                    l["items"][0]["totale_cents"].as_i64()
                ),
                (Some(3), Some(1_000 + 1_100 + 1_200)),
                "{l}"
            );
        }
    }
);
