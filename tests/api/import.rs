use crate::both_backends;
use crate::helpers::*;
use axum::http::{Method, StatusCode};
use serde_json::Value;

pub(crate) const HEADER_1_3: &str = "IUD;codIuv;tipoIdentificativoUnivoco;codiceIdentificativoUnivoco;anagraficaPagatore;indirizzoPagatore;civicoPagatore;capPagatore;localitaPagatore;provinciaPagatore;nazionePagatore;mailPagatore;dataScadenzaPagamento;importoDovuto;commissioneCaricoPa;tipoDovuto;tipoVersamento;causaleVersamento;datiSpecificiRiscossione;bilancio;flagGeneraIuv;azione";

#[allow(clippy::too_many_arguments)]
fn line(
    iud: &str,
    cf: &str,
    importo: &str,
    tipo: &str,
    data: &str,
    email: &str,
    bilancio: &str,
    azione: &str,
) -> String {
    format!(
        "{iud};;F;{cf};Mario Rossi;Via Roma;1;30100;Venezia;VE;IT;{email};{data};{importo};;{tipo};;\"TARI 2026; rata {iud}\";9/0101105IM/;{bilancio};true;{azione}"
    )
}

fn good(i: usize) -> String {
    line(
        &format!("IUD-{i:04}"),
        "RSSMRA85T10A562S",
        &format!("{}.{:02}", 10 + i, i % 100),
        "TARI",
        "2026-12-31",
        "mario@example.org",
        "",
        "I",
    )
}

/// 1,000 lines, 10 of them wrong in 10 different ways; returns the file and the bad lines'
/// file line numbers (the header is line 1).
fn file_with_ten_bad_lines() -> (String, Vec<u64>) {
    let bil_ok = "<bilancio><capitolo><codCapitolo>C1</codCapitolo><accertamento><importo>11.01</importo></accertamento></capitolo></bilancio>";
    let bil_bad = "<bilancio><capitolo><codCapitolo>C1</codCapitolo><accertamento><importo>2.00</importo></accertamento></capitolo></bilancio>";
    let bad = [
        line(
            "BAD-01",
            "RSSMRA85T10A562T",
            "1.00",
            "TARI",
            "2026-12-31",
            "",
            "",
            "I",
        ),
        line(
            "BAD-02",
            "RSSMRA85T10A562S",
            "1,00",
            "TARI",
            "2026-12-31",
            "",
            "",
            "I",
        ),
        line(
            "BAD-03",
            "RSSMRA85T10A562S",
            "1.00",
            "NOPE",
            "2026-12-31",
            "",
            "",
            "I",
        ),
        line(
            "BAD-04",
            "RSSMRA85T10A562S",
            "1.00",
            "TARI",
            "31/12/2026",
            "",
            "",
            "I",
        ),
        line(
            "BAD-05",
            "RSSMRA85T10A562S",
            "1.00",
            "TARI",
            "2026-12-31",
            "not-an-email",
            "",
            "I",
        ),
        line(
            "BAD-06",
            "RSSMRA85T10A562S",
            "1.00",
            "TARI",
            "2026-12-31",
            "",
            "",
            "X",
        ),
        line(
            "BAD-07",
            "RSSMRA85T10A562S",
            "1.00",
            "TARI",
            "2026-12-31",
            "",
            bil_bad,
            "I",
        ),
        "BAD-08;too;few;columns".to_owned(),
        line(
            "BAD-09-THIS-IUD-IS-WAY-TOO-LONG-FOR-MYPAY",
            "RSSMRA85T10A562S",
            "1.00",
            "TARI",
            "2026-12-31",
            "",
            "",
            "I",
        ),
        line(
            "BAD-10",
            "RSSMRA85T10A562S",
            "1.00",
            "TARI",
            "2026-12-31",
            "",
            "",
            "M",
        ),
    ];
    let mut lines = vec![HEADER_1_3.to_owned()];
    let mut bad_lines = Vec::new();
    let mut bad_iter = bad.into_iter();
    for i in 0..1000 {
        if i % 100 == 50 {
            lines.push(bad_iter.next().unwrap());
            bad_lines.push(lines.len() as u64);
        } else if i == 1 {
            // one good line with a correct budget split
            lines.push(line(
                "IUD-BIL",
                "RSSMRA85T10A562S",
                "11.01",
                "TARI",
                "2026-12-31",
                "",
                bil_ok,
                "I",
            ));
        } else {
            lines.push(good(i));
        }
    }
    (lines.join("\r\n") + "\r\n", bad_lines)
}

async fn import(
    app: &TestApp,
    ente: &str,
    token: &str,
    csv: &str,
    query: &str,
) -> (StatusCode, Value) {
    let (s, _, body) = app
        .raw(
            Method::POST,
            &format!("/api/v1/enti/{ente}/dovuti/import{query}"),
            Some(token),
            "text/csv",
            csv.as_bytes().to_vec(),
        )
        .await;
    (s, serde_json::from_slice(&body).unwrap())
}

both_backends!(
    import_of_1000_lines_stores_990_rejects_10_and_reimport_changes_nothing,
    |app| {
        let a = cf11("8000758027");
        let other = cf11("0012345678");
        app.seed_ente(&a, "c_l736", 1).await;
        app.seed_ente(&other, "c_f241", 2).await;
        let (csv, bad_lines) = file_with_ten_bad_lines();
        let (s, job) = import(&app, &a, ADMIN, &csv, "?file_name=c_l736-1-1_3.csv").await;
        assert_eq!(s, StatusCode::OK, "{job}");
        assert_eq!(
            (
                job["righe_lette"].as_i64(),
                job["righe_importate"].as_i64(),
                job["righe_scartate"].as_i64()
            ),
            (Some(1000), Some(990), Some(10))
        );
        assert_eq!(job["versione"], "1_3");
        let scarti = job["scarti"].as_array().unwrap();
        let rejected_lines: Vec<u64> = scarti.iter().map(|s| s["riga"].as_u64().unwrap()).collect();
        assert_eq!(rejected_lines, bad_lines);
        let codes: Vec<&str> = scarti
            .iter()
            .map(|s| s["codice"].as_str().unwrap())
            .collect();
        assert_eq!(
            codes,
            [
                "PAA_IMPORT_SINTASSI_CSV_COD_FISC",
                "PAA_IMPORT_SINTASSI_CSV_IMPORTO",
                "PAA_IMPORT_SINTASSI_CSV_TIPO_DOVUTO_INESISTENTE",
                "PAA_IMPORT_SINTASSI_CSV_DATA_SCADENZA_PAGAMENTO",
                "PAA_IMPORT_SINTASSI_CSV_EMAIL",
                "PAA_IMPORT_SINTASSI_CSV_AZIONE",
                "PAA_IMPORT_SINTASSI_CSV_BILANCIO",
                "PAA_IMPORT_SINTASSI_CSV",
                "PAA_IMPORT_SINTASSI_CSV_IUD",
                "PAA_IMPORT_IUD_INESISTENTE",
            ]
        );
        assert!(
            scarti
                .iter()
                .all(|s| !s["motivo"].as_str().unwrap().is_empty())
        );
        assert!(
            scarti[0]["riga_originale"]
                .as_str()
                .unwrap()
                .starts_with("BAD-01;")
        );

        let (_, page) = app
            .get(&format!("/api/v1/enti/{a}/dovuti?per_page=1"), ADMIN)
            .await;
        assert_eq!(page["total"], 990);
        let (_, page) = app
            .get(&format!("/api/v1/enti/{other}/dovuti?per_page=1"), ADMIN)
            .await;
        assert_eq!(page["total"], 0, "nothing else changed");
        let (_, d) = app
            .get(&format!("/api/v1/enti/{a}/dovuti/IUD-BIL"), ADMIN)
            .await;
        assert_eq!(d["bilancio"][0]["cod_capitolo"], "C1");
        let before = app.store().dovuti().get(&a, "IUD-0999").await.unwrap();

        let (s, job2) = import(&app, &a, ADMIN, &csv, "").await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(
            (
                job2["righe_importate"].as_i64(),
                job2["righe_invariate"].as_i64(),
                job2["righe_scartate"].as_i64()
            ),
            (Some(0), Some(990), Some(10))
        );
        let (_, page) = app
            .get(&format!("/api/v1/enti/{a}/dovuti?per_page=1"), ADMIN)
            .await;
        assert_eq!(page["total"], 990);
        let after = app.store().dovuti().get(&a, "IUD-0999").await.unwrap();
        assert_eq!(
            (after.version, after.updated_at, after.iuv),
            (before.version, before.updated_at, before.iuv)
        );

        // The report can be fetched again later, as CSV too.
        let id = job["id"].as_str().unwrap();
        let (s, j) = app
            .get(&format!("/api/v1/enti/{a}/imports/{id}"), ADMIN)
            .await;
        assert_eq!(
            (s, j["righe_scartate"].as_i64()),
            (StatusCode::OK, Some(10))
        );
        let (s, ct, body) = app
            .raw(
                Method::GET,
                &format!("/api/v1/enti/{a}/imports/{id}/scarti.csv"),
                Some(ADMIN),
                "text/csv",
                vec![],
            )
            .await;
        assert_eq!(s, StatusCode::OK);
        assert!(ct.starts_with("text/csv"));
        let text = String::from_utf8(body).unwrap();
        assert_eq!(text.lines().count(), 11);
        assert!(
            text.lines().nth(1).unwrap().starts_with(&format!(
                "{};PAA_IMPORT_SINTASSI_CSV_COD_FISC;",
                bad_lines[0]
            )),
            "{text}"
        );
    }
);

both_backends!(import_modify_and_cancel_lines_apply_once, |app| {
    let a = cf11("8000758027");
    app.seed_ente(&a, "c_l736", 1).await;
    let ins = format!("{HEADER_1_3}\n{}\n{}\n", good(1), good(2));
    import(&app, &a, ADMIN, &ins, "").await;
    let upd = format!(
        "{HEADER_1_3}\n{}\n{}\n",
        line(
            "IUD-0001",
            "RSSMRA85T10A562S",
            "99.00",
            "TARI",
            "2026-12-31",
            "mario@example.org",
            "",
            "M"
        ),
        line(
            "IUD-0002",
            "RSSMRA85T10A562S",
            "12.02",
            "TARI",
            "2026-12-31",
            "mario@example.org",
            "",
            "A"
        )
    );
    let (_, job) = import(&app, &a, ADMIN, &upd, "").await;
    assert_eq!(
        (
            job["righe_importate"].as_i64(),
            job["righe_scartate"].as_i64()
        ),
        (Some(2), Some(0)),
        "{job}"
    );
    let (_, job) = import(&app, &a, ADMIN, &upd, "").await;
    assert_eq!(
        (
            job["righe_importate"].as_i64(),
            job["righe_invariate"].as_i64()
        ),
        (Some(0), Some(2)),
        "{job}"
    );
    let (_, d1) = app
        .get(&format!("/api/v1/enti/{a}/dovuti/IUD-0001"), ADMIN)
        .await;
    let (_, d2) = app
        .get(&format!("/api/v1/enti/{a}/dovuti/IUD-0002"), ADMIN)
        .await;
    assert_eq!(
        (d1["importo"].as_str(), d2["stato"].as_str()),
        (Some("99.00"), Some("ANNULLATO"))
    );
    // An insert line that contradicts a stored dovuto is rejected, not applied.
    let clash = format!(
        "{HEADER_1_3}\n{}\n",
        line(
            "IUD-0001",
            "RSSMRA85T10A562S",
            "1.00",
            "TARI",
            "2026-12-31",
            "",
            "",
            "I"
        )
    );
    let (_, job) = import(&app, &a, ADMIN, &clash, "").await;
    assert_eq!(job["scarti"][0]["codice"], "PAA_IMPORT_IUD_DUPLICATO");
});

both_backends!(
    import_reads_older_tracciati_and_refuses_unknown_shapes,
    |app| {
        let a = cf11("8000758027");
        app.seed_ente(&a, "c_l736", 1).await;
        let v11 = "IUD;codIuv;tipo;cf;anag;ind;civ;cap;loc;prov;naz;mail;scad;importo;comm;tipoDovuto;tipoVers;causale;dsr;azione\n\
               V11-1;;F;RSSMRA85T10A562S;Mario;;;;;;;;2026-12-31;5.00;;TARI;BBT|PO;causale;9/0101105IM/;I\n\
               V11-2;;F;RSSMRA85T10A562S;Mario;;;;;;;;;5.00;;TARI;;causale;9/0101105IM/;I\n";
        let (s, job) = import(&app, &a, ADMIN, v11, "").await;
        assert_eq!(s, StatusCode::OK, "{job}");
        assert_eq!(
            (job["versione"].as_str(), job["righe_importate"].as_i64()),
            (Some("1_1"), Some(1))
        );
        assert_eq!(
            job["scarti"][0]["codice"],
            "PAA_IMPORT_SINTASSI_CSV_DATA_SCADENZA_PAGAMENTO"
        );
        let (_, d) = app
            .get(&format!("/api/v1/enti/{a}/dovuti/V11-1"), ADMIN)
            .await;
        assert_eq!(d["tipo_versamento"], "BBT|PO");
        let (s, b) = import(&app, &a, ADMIN, "a;b;c\n1;2;3\n", "").await;
        assert_eq!(
            (s, b["code"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("VALIDATION_FAILED"))
        );
        let (s, _) = import(&app, &a, ADMIN, "", "").await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        let (s, _) = import(&app, &a, ADMIN, v11, "?versione=2_0").await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        let (_, page) = app.get(&format!("/api/v1/enti/{a}/dovuti"), ADMIN).await;
        assert_eq!(page["total"], 1, "refused files change nothing");
    }
);

/// A dovuti file larger than the request body limit imports (spooled to disk and read in
/// parts), in Latin-1 as older back offices write it; a rejected line is reported with its
/// number after a quoted field spanning lines, cut at 2 KiB; past the upload limit, 413.
async fn large_dovuti_files_are_spooled_and_read_in_parts(backend: Backend) {
    let app = TestApp::spawn_with(backend, |c| {
        c.rest.body_limit_bytes = 64 << 10;
        c.rest.upload_limit_bytes = 2 << 20;
    })
    .await;
    let a = cf11("8000758027");
    app.seed_ente(&a, "c_l736", 1).await;
    let mut text = format!("{HEADER_1_3}\r\n");
    for i in 0..3_000 {
        let l = good(i).replace("Mario Rossi", "Nicolò Rossi");
        text.push_str(&l);
        text.push_str("\r\n");
        if i == 10 {
            // A causale in quotes over three lines: one record, three physical lines.
            text.push_str(
                &l.replace("\"TARI 2026; rata IUD-0010\"", "\"TARI\r\n2026\r\nrata\"")
                    .replace("IUD-0010", "IUD-ML"),
            );
            text.push_str("\r\n");
        }
    }
    // Line 3,005 (after the header, 3,000 lines and a record over three): a wrong tax code
    // and a 5,000-byte address.
    let long = line(
        "IUD-LONG",
        "RSSMRA85T10A562T",
        "1.00",
        "TARI",
        "2026-12-31",
        "",
        "",
        "I",
    )
    .replace("Via Roma", &"V".repeat(5_000));
    text.push_str(&long);
    text.push_str("\r\n");
    // Latin-1, one byte per character.
    let latin1: Vec<u8> = text
        .chars()
        .map(|c| u8::try_from(c as u32).unwrap())
        .collect();
    assert!(latin1.len() > 64 << 10 && latin1.len() < 2 << 20);
    let post = |body: Vec<u8>| {
        let app = &app;
        let a = &a;
        async move {
            let (s, _, r) = app
                .raw(
                    Method::POST,
                    &format!("/api/v1/enti/{a}/dovuti/import"),
                    Some(ADMIN),
                    "text/csv",
                    body,
                )
                .await;
            (s, serde_json::from_slice::<Value>(&r).unwrap())
        }
    };
    let (s, job) = post(latin1.clone()).await;
    assert_eq!(s, StatusCode::OK, "{job}");
    assert_eq!(
        (
            job["righe_lette"].as_i64(),
            job["righe_importate"].as_i64(),
            job["righe_scartate"].as_i64()
        ),
        (Some(3_002), Some(3_001), Some(1)),
        "{job}"
    );
    let scarto = &job["scarti"][0];
    assert_eq!(scarto["riga"], 3_005, "{scarto}");
    assert_eq!(scarto["codice"], "PAA_IMPORT_SINTASSI_CSV_COD_FISC");
    let originale = scarto["riga_originale"].as_str().unwrap();
    assert!(originale.starts_with("IUD-LONG;") && originale.ends_with('…'));
    assert_eq!(originale.chars().count(), 2_049);
    let (_, d) = app
        .get(&format!("/api/v1/enti/{a}/dovuti/IUD-2999"), ADMIN)
        .await;
    assert_eq!(d["pagatore"]["anagrafica"], "Nicolò Rossi", "{d}");
    let (_, d) = app
        .get(&format!("/api/v1/enti/{a}/dovuti/IUD-ML"), ADMIN)
        .await;
    assert_eq!(d["causale"], "TARI\r\n2026\r\nrata", "{d}");
    // The same bytes as UTF-8 with a byte order mark: the same dovuti, nothing changes.
    let mut utf8 = b"\xEF\xBB\xBF".to_vec();
    utf8.extend_from_slice(text.as_bytes());
    let (s, again) = post(utf8).await;
    assert_eq!(s, StatusCode::OK, "{again}");
    assert_eq!(
        (
            again["righe_invariate"].as_i64(),
            again["righe_scartate"].as_i64()
        ),
        (Some(3_001), Some(1)),
        "{again}"
    );
    // Past the upload limit: 413 as a problem, nothing imported.
    let mut big = latin1.clone();
    while big.len() <= 2 << 20 {
        big.extend_from_slice(&latin1);
    }
    let (s, p) = post(big).await;
    assert_eq!(s, StatusCode::PAYLOAD_TOO_LARGE, "{p}");
    // A quote left open makes the rest of the file one record: past 1 MiB the file is
    // refused, after more than a part of good lines was read and handed over.
    let mut open = format!("{HEADER_1_3}\n");
    for i in 0..2_500 {
        open.push_str(&good(i).replace("IUD-", "APERTA-"));
        open.push('\n');
    }
    open.push_str("APERTA-X;;F;\"");
    open.push_str(&"x".repeat(1_200_000));
    let (s, p) = post(open.into_bytes()).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{p}");
    assert!(
        p["detail"].as_str().unwrap().contains("dopo la riga 2501"),
        "{p}"
    );
    let (_, page) = app
        .get(&format!("/api/v1/enti/{a}/dovuti?per_page=1"), ADMIN)
        .await;
    assert_eq!(page["total"], 3_001);
}

#[tokio::test]
async fn large_dovuti_files_are_spooled_and_read_in_parts_sqlite() {
    large_dovuti_files_are_spooled_and_read_in_parts(Backend::Sqlite).await
}
#[tokio::test]
async fn large_dovuti_files_are_spooled_and_read_in_parts_postgres() {
    large_dovuti_files_are_spooled_and_read_in_parts(Backend::Postgres).await
}
