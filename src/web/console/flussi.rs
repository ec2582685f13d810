//! Flussi: imports of receipts (MyPay's export of payments), reporting flows and the
//! giornale di cassa (CSV, XLS, OPI, Poste), each answered with its report line by line;
//! the export tracciati 1.0–1.4 as a booked job whose page shows its progress and, once
//! written, the download.

use super::*;
use axum::Extension;
use axum::extract::{Multipart, Path};

fn precondizioni(op: &Operatore, id: &str) -> Result<(), Response> {
    op.richiede(Ruolo::Amministrazione)?;
    op.ente(id)
}

fn scelta(v: &[(&str, &str)]) -> Tipo {
    Tipo::Scelta(v.iter().map(|(a, b)| ((*a).into(), (*b).into())).collect())
}

pub async fn pagina(
    Extension(api): Extension<Api>,
    op: Operatore,
    Path(id): Path<String>,
) -> Risposta {
    precondizioni(&op, &id)?;
    let b = vec![
        Blocco::Sezione("Giornale di cassa".into()),
        Blocco::Modulo(
            Modulo::post(
                "tesoreria",
                format!("/console/enti/{id}/flussi/tesoreria"),
                "Importa il giornale di cassa",
            )
            .campo(
                Campo::new(
                    "formato",
                    "Formato",
                    scelta(&[
                        ("csv", "CSV"),
                        ("xls", "XLS / XLSX"),
                        ("opi", "OPI (XML)"),
                        ("poste", "Estratto conto Poste"),
                    ]),
                )
                .valore("csv"),
            )
            .campo(Campo::new("file", "File del giornale di cassa", Tipo::File).richiesto()),
        ),
        Blocco::Sezione("Ricevute (export dei pagati)".into()),
        Blocco::Modulo(
            Modulo::post(
                "ricevute",
                format!("/console/enti/{id}/flussi/ricevute"),
                "Importa le ricevute",
            )
            .campo(Campo::new("file", "File CSV delle ricevute", Tipo::File).richiesto()),
        ),
        Blocco::Sezione("Flusso di rendicontazione".into()),
        Blocco::Modulo(
            Modulo::post(
                "flusso",
                format!("/console/enti/{id}/flussi/rendicontazione"),
                "Importa il flusso",
            )
            .campo(
                Campo::new(
                    "file",
                    "File XML del flusso (FlussoRiversamento)",
                    Tipo::File,
                )
                .richiesto(),
            ),
        ),
        Blocco::Sezione("Export della riconciliazione".into()),
        Blocco::Modulo(
            Modulo::post(
                "export",
                format!("/console/enti/{id}/flussi/export"),
                "Prenota l'export",
            )
            .campo(
                Campo::new(
                    "versione",
                    "Versione del tracciato",
                    scelta(&[
                        ("1.4", "1.4"),
                        ("1.3", "1.3"),
                        ("1.2", "1.2"),
                        ("1.1", "1.1"),
                        ("1.0", "1.0"),
                    ]),
                )
                .valore("1.4"),
            )
            .campo(
                Campo::new(
                    "vista",
                    "Righe",
                    scelta(&[
                        ("tutte", "Tutte"),
                        ("riconciliazione", "Riconciliate"),
                        ("anomalie", "Anomalie"),
                    ]),
                )
                .valore("tutte"),
            )
            .campo(Campo::new("data_esito_da", "Data esito dal", Tipo::Data))
            .campo(Campo::new("data_esito_a", "Data esito al", Tipo::Data)),
        ),
    ];
    Ok(pagina_ente(&api, &op, &id, "Flussi", "Flussi", b).await)
}

/// A form with one file: its text fields and the file's bytes (within the body limit).
async fn modulo_con_file(
    mut m: Multipart,
) -> Result<(Vec<(String, String)>, Option<(String, bytes::Bytes)>), String> {
    let mut campi = Vec::new();
    let mut file = None;
    while let Some(f) = m.next_field().await.map_err(|e| e.body_text())? {
        let nome = f.name().unwrap_or_default().to_owned();
        if nome == "file" {
            let nome_file = f.file_name().unwrap_or_default().to_owned();
            let b = f.bytes().await.map_err(|e| e.body_text())?;
            file = Some((nome_file, b));
        } else {
            let v = f.text().await.map_err(|e| e.body_text())?;
            campi.push((nome, v));
        }
    }
    Ok((campi, file.filter(|(_, b)| !b.is_empty())))
}

async fn carica(
    api: &Api,
    op: &Operatore,
    m: Multipart,
    uri: impl FnOnce(&[(String, String)], &str) -> String,
    tipo: &str,
) -> Result<(Value, String), Response> {
    let (campi, file) = modulo_con_file(m)
        .await
        .map_err(|e| errore(&Some(op), StatusCode::BAD_REQUEST, &e))?;
    let Some((nome, bytes)) = file else {
        return Err(errore(
            &Some(op),
            StatusCode::BAD_REQUEST,
            "Scegli il file da importare.",
        ));
    };
    let r = api
        .chiama(
            op,
            Method::POST,
            &uri(&campi, &nome),
            Some(tipo),
            Body::from(bytes),
        )
        .await;
    leggi(r)
        .await
        .map(|v| (v, nome))
        .map_err(|e| rifiutato(op, e))
}

fn scarti(didascalia: &str, v: &Value, colonne: &[(&str, &str)]) -> Blocco {
    Blocco::Tabella(tabella(
        didascalia,
        v.as_array().map_or(&[][..], Vec::as_slice),
        colonne,
    ))
}

pub async fn tesoreria(
    Extension(api): Extension<Api>,
    op: Operatore,
    Path(id): Path<String>,
    m: Multipart,
) -> Risposta {
    precondizioni(&op, &id)?;
    let (v, nome) = carica(
        &api,
        &op,
        m,
        |c, _| {
            format!(
                "/api/v1/enti/{id}/tesoreria?formato={}",
                enc(campo(c, "formato"))
            )
        },
        "application/octet-stream",
    )
    .await?;
    let n = |k: &str| testo(k, &v[k]);
    let mut b = vec![
        Blocco::Avviso("success", format!("Giornale di cassa {nome} importato.")),
        Blocco::Dati(vec![
            ("Formato".into(), n("formato")),
            ("Righe lette".into(), n("lette")),
            ("Righe importate".into(), n("importate")),
            ("Righe già presenti".into(), n("invariate")),
            ("Storni".into(), n("stornate")),
            ("Righe scartate".into(), n("scartate")),
        ]),
    ];
    let col = [
        ("riga", "Riga"),
        ("motivo", "Motivo"),
        ("originale", "Riga originale"),
    ];
    b.push(scarti("Righe scartate, una per una", &v["scarti"], &col));
    if v["ignorate"].as_array().is_some_and(|a| !a.is_empty()) {
        b.push(scarti(
            "Movimenti letti e lasciati da parte",
            &v["ignorate"],
            &col,
        ));
    }
    b.push(Blocco::Collegamenti(vec![
        (
            format!("/console/enti/{id}/tesoreria"),
            "Vai al giornale di cassa".into(),
            false,
        ),
        (
            format!("/console/enti/{id}/flussi"),
            "Importa un altro file".into(),
            false,
        ),
    ]));
    Ok(pagina_ente(&api, &op, &id, "Flussi", "Esito dell'importazione", b).await)
}

fn rapporto_job(v: &Value) -> Vec<Blocco> {
    let n = |k: &str| testo(k, &v[k]);
    vec![
        Blocco::Dati(vec![
            ("Stato".into(), n("stato")),
            ("Righe lette".into(), n("righe_lette")),
            ("Righe importate".into(), n("righe_importate")),
            ("Righe già presenti".into(), n("righe_invariate")),
            ("Righe scartate".into(), n("righe_scartate")),
        ]),
        scarti(
            "Righe scartate, una per una",
            &v["scarti"],
            &[
                ("riga", "Riga"),
                ("codice", "Codice"),
                ("motivo", "Motivo"),
                ("riga_originale", "Riga originale"),
            ],
        ),
    ]
}

pub async fn ricevute(
    Extension(api): Extension<Api>,
    op: Operatore,
    Path(id): Path<String>,
    m: Multipart,
) -> Risposta {
    precondizioni(&op, &id)?;
    let (v, nome) = carica(
        &api,
        &op,
        m,
        |_, _| format!("/api/v1/enti/{id}/ricevute"),
        "text/csv",
    )
    .await?;
    let mut b = vec![Blocco::Avviso("success", format!("File {nome} importato."))];
    b.extend(rapporto_job(&v));
    Ok(pagina_ente(
        &api,
        &op,
        &id,
        "Flussi",
        "Esito dell'importazione delle ricevute",
        b,
    )
    .await)
}

pub async fn rendicontazione(
    Extension(api): Extension<Api>,
    op: Operatore,
    Path(id): Path<String>,
    m: Multipart,
) -> Risposta {
    precondizioni(&op, &id)?;
    let (v, _) = carica(
        &api,
        &op,
        m,
        |_, _| format!("/api/v1/enti/{id}/flussi"),
        "application/xml",
    )
    .await?;
    let n = |k: &str| testo(k, &v[k]);
    let b = vec![
        Blocco::Avviso(
            "success",
            if v["nuovo"].as_bool() == Some(false) {
                format!(
                    "Il flusso {} era già presente: nulla è cambiato.",
                    n("id_flusso")
                )
            } else {
                format!("Flusso {} importato.", n("id_flusso"))
            },
        ),
        Blocco::Dati(vec![
            ("Identificativo".into(), n("id_flusso")),
            ("Data e ora".into(), n("data_ora_flusso")),
            ("Stato".into(), n("stato")),
            ("Pagamenti".into(), n("numero_pagamenti")),
            ("Nota".into(), n("nota")),
        ]),
    ];
    Ok(pagina_ente(
        &api,
        &op,
        &id,
        "Flussi",
        "Esito dell'importazione del flusso",
        b,
    )
    .await)
}

pub async fn prenota(
    Extension(api): Extension<Api>,
    op: Operatore,
    Path(id): Path<String>,
    axum::extract::Form(f): axum::extract::Form<Vec<(String, String)>>,
) -> Risposta {
    precondizioni(&op, &id)?;
    let mut filtri = serde_json::Map::new();
    for k in ["vista", "data_esito_da", "data_esito_a"] {
        let v = campo(&f, k).trim();
        if !v.is_empty() {
            filtri.insert(k.into(), Value::from(v));
        }
    }
    let body = serde_json::json!({ "versione": campo(&f, "versione"), "filtri": filtri });
    let v = api
        .invia(
            &op,
            Method::POST,
            &format!("/api/v1/enti/{id}/riconciliazione/export"),
            Some(body),
        )
        .await?;
    Ok(vai(&format!(
        "/console/enti/{id}/export/{}",
        enc(v["id"].as_str().unwrap_or_default())
    )))
}

/// The booked export: its progress while it is written (the page reloads itself), then
/// the file.
pub async fn export(
    Extension(api): Extension<Api>,
    op: Operatore,
    Path((id, eid)): Path<(String, String)>,
) -> Risposta {
    precondizioni(&op, &id)?;
    let v = api
        .leggi(
            &op,
            &format!("/api/v1/enti/{id}/riconciliazione/export/{}", enc(&eid)),
        )
        .await?;
    let stato = v["stato"].as_str().unwrap_or_default();
    let righe = v["righe"].as_i64().unwrap_or(0);
    let mut b = vec![Blocco::Dati(vec![
        ("Tracciato".into(), testo("versione", &v["versione"])),
        ("Prenotato il".into(), testo("created_at", &v["created_at"])),
        ("Stato".into(), stato.to_owned()),
        ("Righe scritte".into(), righe.to_string()),
    ])];
    let finito = matches!(stato, "ESEGUITO" | "ESEGUITO_NESSUN_RECORD" | "ERRORE");
    match stato {
        "ESEGUITO" => {
            b.push(Blocco::Progresso(1, 1, "Export completato".into()));
            b.push(Blocco::Collegamenti(vec![(
                format!("/console/enti/{id}/export/{}/file", enc(&eid)),
                "Scarica il file".into(),
                false,
            )]));
        }
        "ESEGUITO_NESSUN_RECORD" => b.push(Blocco::Avviso(
            "info",
            "Nessuna riga corrisponde ai filtri: il file non è stato scritto.".into(),
        )),
        "ERRORE" => b.push(Blocco::Avviso(
            "danger",
            format!("Export non riuscito: {}", testo("errore", &v["errore"])),
        )),
        // How many lines the export will have is known only at its end: a progress bar
        // without a value (indeterminate) and the lines written so far.
        _ => b.push(Blocco::Progresso(
            0,
            0,
            format!("Export in corso: {righe} righe scritte finora. Lo stato si aggiorna da solo."),
        )),
    }
    // Until the job ends the page's content is refreshed every 2 seconds.
    let aggiorna = if finito { 0 } else { 2 };
    Ok(pagina_ente_aggiornata(
        &api,
        &op,
        &id,
        "Flussi",
        "Export della riconciliazione",
        b,
        aggiorna,
    )
    .await)
}

/// The export's file, streamed from the API as it answers.
pub async fn file(
    Extension(api): Extension<Api>,
    op: Operatore,
    Path((id, eid)): Path<(String, String)>,
) -> Risposta {
    precondizioni(&op, &id)?;
    let uri = format!(
        "/api/v1/enti/{id}/riconciliazione/export/{}/file",
        enc(&eid)
    );
    // Ids are digits and a uuid: a name the operator recognises among their downloads.
    api.scarica(
        &op,
        &uri,
        &format!("riconciliazione-{id}-{}.csv", enc(&eid)),
    )
    .await
}
