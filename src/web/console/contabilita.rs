//! Accertamento (the accertamenti: create, book receipts on the chart's lines, close or
//! cancel; the chart of capitoli with its mass import) and Statistiche (totals by year,
//! month or day and by ufficio, tipo dovuto, capitolo or accertamento, as a chart and a
//! table, each bar and line leading to its receipts; the CSV).

use super::*;
use axum::Extension;
use axum::extract::{Form, Multipart, Path, Query};

type Coppie = Vec<(String, String)>;

fn accertatore(op: &Operatore, id: &str) -> Result<(), Response> {
    op.richiede(Ruolo::Accertamenti)?;
    op.ente(id)
}

fn schede(ente: &str, attiva: &str) -> Blocco {
    Blocco::Collegamenti(vec![
        (
            format!("/console/enti/{ente}/accertamenti"),
            "Accertamenti".into(),
            attiva == "accertamenti",
        ),
        (
            format!("/console/enti/{ente}/capitoli"),
            "Piano dei capitoli".into(),
            attiva == "capitoli",
        ),
    ])
}

/// The ente's tipi dovuto as options (a text field when the list cannot be read).
async fn tipi(api: &Api, op: &Operatore, id: &str) -> Tipo {
    match api.get(op, &format!("/api/v1/enti/{id}/tipi-dovuto")).await {
        Ok(v) => Tipo::Scelta(
            voci(&v)
                .iter()
                .filter_map(|t| {
                    let c = t["codice"].as_str()?;
                    Some((
                        c.to_owned(),
                        format!("{c} - {}", t["descrizione"].as_str().unwrap_or_default()),
                    ))
                })
                .collect(),
        ),
        Err(_) => Tipo::Testo,
    }
}

pub async fn accertamenti(
    Extension(api): Extension<Api>,
    op: Operatore,
    Path(id): Path<String>,
    Query(f): Query<Coppie>,
) -> Risposta {
    accertatore(&op, &id)?;
    let v = api
        .leggi(
            &op,
            &format!("/api/v1/enti/{id}/accertamenti?{}", query(&f)),
        )
        .await?;
    let righe = voci(&v);
    let col = [
        ("nome", "Nome"),
        ("tipo_dovuto", "Tipo dovuto"),
        ("stato", "Stato"),
        ("pagamenti", "Pagamenti"),
        ("totale_cents", "Totale"),
        ("utente", "Creato da"),
        ("updated_at", "Ultima modifica"),
    ];
    let mut t = tabella(&format!("Accertamenti: {}", v["total"]), righe, &col);
    for (r, celle) in righe.iter().zip(t.righe.iter_mut()) {
        celle[0] = Cella::Link(
            testo("nome", &r["nome"]),
            format!("/console/enti/{id}/accertamenti/{}", r["id"]),
        );
    }
    let b = vec![
        schede(&id, "accertamenti"),
        Blocco::Modulo(
            Modulo::get(
                "filtri",
                format!("/console/enti/{id}/accertamenti"),
                "Cerca",
            )
            .campo(
                Campo::new(
                    "stato",
                    "Stato",
                    Tipo::Scelta(
                        [
                            ("", "Tutti"),
                            ("INSERITO", "Inserito"),
                            ("CHIUSO", "Chiuso"),
                            ("ANNULLATO", "Annullato"),
                        ]
                        .iter()
                        .map(|(a, b)| ((*a).into(), (*b).into()))
                        .collect(),
                    ),
                )
                .valore(campo(&f, "stato")),
            )
            .campo(Campo::new("nome", "Nome contiene", Tipo::Testo).valore(campo(&f, "nome"))),
        ),
        Blocco::Tabella(t),
        Blocco::Sezione("Nuovo accertamento".into()),
        Blocco::Modulo(
            Modulo::post(
                "nuovo",
                format!("/console/enti/{id}/accertamenti"),
                "Crea l'accertamento",
            )
            .campo(Campo::new("nome", "Nome", Tipo::Testo).richiesto())
            .campo(
                Campo::new("tipo_dovuto", "Tipo dovuto", tipi(&api, &op, &id).await).richiesto(),
            ),
        ),
    ];
    Ok(pagina_ente(&api, &op, &id, "Accertamento", "Accertamenti", b).await)
}

pub async fn crea(
    Extension(api): Extension<Api>,
    op: Operatore,
    Path(id): Path<String>,
    Form(f): Form<Coppie>,
) -> Risposta {
    accertatore(&op, &id)?;
    let body =
        serde_json::json!({ "nome": campo(&f, "nome"), "tipo_dovuto": campo(&f, "tipo_dovuto") });
    let v = api
        .invia(
            &op,
            Method::POST,
            &format!("/api/v1/enti/{id}/accertamenti"),
            Some(body),
        )
        .await?;
    Ok(vai(&format!("/console/enti/{id}/accertamenti/{}", v["id"])))
}

pub async fn accertamento(
    Extension(api): Extension<Api>,
    op: Operatore,
    Path((id, aid)): Path<(String, i64)>,
    Query(f): Query<Coppie>,
) -> Risposta {
    accertatore(&op, &id)?;
    let v = api
        .leggi(&op, &format!("/api/v1/enti/{id}/accertamenti/{aid}"))
        .await?;
    // The accertamento's fields are flattened beside its lines and history.
    let a = &v;
    let stato = a["stato"].as_str().unwrap_or_default().to_owned();
    let base = format!("/console/enti/{id}/accertamenti/{aid}");
    let mut b = vec![
        schede(&id, "accertamenti"),
        Blocco::Dati(vec![
            ("Nome".into(), testo("nome", &a["nome"])),
            (
                "Tipo dovuto".into(),
                testo("tipo_dovuto", &a["tipo_dovuto"]),
            ),
            ("Stato".into(), stato.clone()),
            ("Pagamenti".into(), testo("pagamenti", &a["pagamenti"])),
            ("Totale".into(), testo("totale_cents", &a["totale_cents"])),
        ]),
    ];
    let pagati = v["righe"].as_array().map_or(&[][..], Vec::as_slice);
    let mut t = tabella(
        "Pagamenti accertati",
        pagati,
        &[
            ("iuv", "IUV"),
            ("iud", "IUD"),
            ("data_esito", "Data esito"),
            ("cod_ufficio", "Ufficio"),
            ("cod_capitolo", "Capitolo"),
            ("cod_accertamento", "Accertamento"),
            ("importo_cents", "Importo"),
            ("utente", "Da"),
        ],
    );
    if stato == "INSERITO" {
        t = t.con_azione("Azione", pagati, |_, p| {
            Some(
                Modulo::post(
                    format!("rimuovi-{}", p["id"]),
                    format!("{base}/rimuovi/{}", p["id"]),
                    "Rimuovi",
                )
                .in_linea(),
            )
        });
    }
    b.push(Blocco::Tabella(t));
    if stato == "INSERITO" {
        b.push(Blocco::Modulo(Modulo::post(
            "chiudi",
            format!("{base}/chiudi"),
            "Chiudi l'accertamento",
        )));
        b.push(Blocco::Modulo(Modulo::post(
            "annulla",
            format!("{base}/annulla"),
            "Annulla l'accertamento",
        )));
        // The chart's lines of this tipo dovuto, to book receipts on.
        let tipo = a["tipo_dovuto"].as_str().unwrap_or_default();
        let voci_piano: Vec<(String, String)> = match api
            .get(
                &op,
                &format!(
                    "/api/v1/enti/{id}/capitoli?tipo_dovuto={}&attivo=true&per_page=500",
                    enc(tipo)
                ),
            )
            .await
        {
            Ok(c) => voci(&c)
                .iter()
                .map(|c| {
                    let s = |k: &str| c[k].as_str().unwrap_or_default().to_owned();
                    (
                        format!(
                            "{}|{}|{}|{}",
                            c["anno"],
                            s("cod_ufficio"),
                            s("cod_capitolo"),
                            s("cod_accertamento")
                        ),
                        format!(
                            "{} {} / {} / {} - {}",
                            c["anno"],
                            s("cod_ufficio"),
                            s("cod_capitolo"),
                            s("cod_accertamento"),
                            s("de_capitolo")
                        ),
                    )
                })
                .collect(),
            Err(r) => return Err(rifiutato(&op, r)),
        };
        b.push(Blocco::Sezione("Ricevute da accertare".into()));
        if voci_piano.is_empty() {
            b.push(Blocco::Avviso(
                "warning",
                "Nessun capitolo attivo per questo tipo dovuto: aggiungilo al piano dei capitoli."
                    .into(),
            ));
        } else {
            let c = api
                .leggi(
                    &op,
                    &format!(
                        "/api/v1/enti/{id}/accertamenti/{aid}/candidati?{}",
                        query(&f)
                    ),
                )
                .await?;
            let righe = voci(&c);
            let t = tabella(
                &format!("Ricevute candidate: {}", c["total"]),
                righe,
                &[
                    ("iuv", "IUV"),
                    ("iud", "IUD"),
                    ("cf_pagatore", "Pagatore"),
                    ("data_esito", "Data esito"),
                    ("importo_cents", "Importo"),
                ],
            )
            .con_azione("Capitolo", righe, |i, r| {
                Some(
                    Modulo::post(format!("associa-{i}"), format!("{base}/associa"), "Associa")
                        .in_linea()
                        .campo(Campo::nascosto("ricevuta", r["id"].to_string()))
                        .campo(Campo::new(
                            "voce",
                            "Capitolo",
                            Tipo::Scelta(voci_piano.clone()),
                        )),
                )
            });
            b.push(Blocco::Tabella(t));
        }
    }
    b.push(Blocco::Tabella(tabella(
        "Storia dell'accertamento",
        v["storia"].as_array().map_or(&[][..], Vec::as_slice),
        &[
            ("at", "Quando"),
            ("utente", "Chi"),
            ("azione", "Azione"),
            ("dettaglio", "Dettaglio"),
        ],
    )));
    Ok(pagina_ente(
        &api,
        &op,
        &id,
        "Accertamento",
        &format!("Accertamento {}", testo("nome", &a["nome"])),
        b,
    )
    .await)
}

pub async fn associa(
    Extension(api): Extension<Api>,
    op: Operatore,
    Path((id, aid)): Path<(String, i64)>,
    Form(f): Form<Coppie>,
) -> Risposta {
    accertatore(&op, &id)?;
    let voce: Vec<&str> = campo(&f, "voce").split('|').collect();
    let (Ok(ricevuta), [anno, ufficio, capitolo, acc]) =
        (campo(&f, "ricevuta").parse::<i64>(), voce.as_slice())
    else {
        return Err(errore(
            &Some(&op),
            StatusCode::BAD_REQUEST,
            "Scegli la ricevuta e il capitolo.",
        ));
    };
    let body = serde_json::json!({
        "ricevute": [ricevuta],
        "anno": anno.parse::<i32>().ok(),
        "cod_ufficio": ufficio, "cod_capitolo": capitolo, "cod_accertamento": acc,
    });
    api.invia(
        &op,
        Method::POST,
        &format!("/api/v1/enti/{id}/accertamenti/{aid}/pagamenti"),
        Some(body),
    )
    .await?;
    Ok(vai(&format!("/console/enti/{id}/accertamenti/{aid}")))
}

pub async fn rimuovi(
    Extension(api): Extension<Api>,
    op: Operatore,
    Path((id, aid, riga)): Path<(String, i64, i64)>,
) -> Risposta {
    accertatore(&op, &id)?;
    api.invia(
        &op,
        Method::DELETE,
        &format!("/api/v1/enti/{id}/accertamenti/{aid}/pagamenti/{riga}"),
        None,
    )
    .await?;
    Ok(vai(&format!("/console/enti/{id}/accertamenti/{aid}")))
}

pub async fn cambia_stato(
    Extension(api): Extension<Api>,
    op: Operatore,
    Path((id, aid, azione)): Path<(String, i64, String)>,
) -> Risposta {
    accertatore(&op, &id)?;
    if !matches!(azione.as_str(), "chiudi" | "annulla") {
        return Err(errore(
            &Some(&op),
            StatusCode::NOT_FOUND,
            "Pagina non trovata.",
        ));
    }
    api.invia(
        &op,
        Method::POST,
        &format!("/api/v1/enti/{id}/accertamenti/{aid}/{azione}"),
        None,
    )
    .await?;
    Ok(vai(&format!("/console/enti/{id}/accertamenti/{aid}")))
}

pub async fn capitoli(
    Extension(api): Extension<Api>,
    op: Operatore,
    Path(id): Path<String>,
    Query(f): Query<Coppie>,
) -> Risposta {
    accertatore(&op, &id)?;
    let v = api
        .leggi(&op, &format!("/api/v1/enti/{id}/capitoli?{}", query(&f)))
        .await?;
    let totale = v["total"].as_i64().unwrap_or(0);
    let mut b = vec![
        schede(&id, "capitoli"),
        Blocco::Tabella(tabella(
            &format!("Voci del piano: {totale}"),
            voci(&v),
            &[
                ("anno", "Anno"),
                ("tipo_dovuto", "Tipo dovuto"),
                ("cod_ufficio", "Ufficio"),
                ("de_ufficio", "Descrizione ufficio"),
                ("cod_capitolo", "Capitolo"),
                ("de_capitolo", "Descrizione capitolo"),
                ("cod_accertamento", "Accertamento"),
                ("attivo", "Attivo"),
            ],
        )),
    ];
    let pagina = campo(&f, "page").parse().unwrap_or(1);
    b.extend(paginazione(
        &format!("/console/enti/{id}/capitoli"),
        &f,
        pagina,
        totale,
        50,
    ));
    b.push(Blocco::Sezione("Nuova voce".into()));
    b.push(Blocco::Modulo(
        Modulo::post(
            "capitolo",
            format!("/console/enti/{id}/capitoli"),
            "Aggiungi la voce",
        )
        .campo(Campo::new("anno", "Anno esercizio", Tipo::Numero).richiesto())
        .campo(Campo::new("tipo_dovuto", "Tipo dovuto", tipi(&api, &op, &id).await).richiesto())
        .campo(Campo::new("cod_ufficio", "Codice ufficio", Tipo::Testo).richiesto())
        .campo(Campo::new("de_ufficio", "Descrizione ufficio", Tipo::Testo).richiesto())
        .campo(Campo::new("cod_capitolo", "Codice capitolo", Tipo::Testo).richiesto())
        .campo(Campo::new("de_capitolo", "Descrizione capitolo", Tipo::Testo).richiesto())
        .campo(Campo::new(
            "cod_accertamento",
            "Codice accertamento (facoltativo)",
            Tipo::Testo,
        ))
        .campo(Campo::new(
            "de_accertamento",
            "Descrizione accertamento (facoltativa)",
            Tipo::Testo,
        )),
    ));
    b.push(Blocco::Sezione("Importazione massiva".into()));
    b.push(Blocco::Testo("Il file zip con un CSV (o il CSV stesso) nel tracciato del piano dei capitoli: azione I inserisce o aggiorna, D elimina. Il file è applicato per intero o per niente.".into()));
    b.push(Blocco::Modulo(
        Modulo::post(
            "import-capitoli",
            format!("/console/enti/{id}/capitoli/import"),
            "Importa il piano",
        )
        .campo(Campo::new("file", "File del piano dei capitoli", Tipo::File).richiesto()),
    ));
    Ok(pagina_ente(&api, &op, &id, "Accertamento", "Piano dei capitoli", b).await)
}

pub async fn crea_capitolo(
    Extension(api): Extension<Api>,
    op: Operatore,
    Path(id): Path<String>,
    Form(f): Form<Coppie>,
) -> Risposta {
    accertatore(&op, &id)?;
    let opz = |k: &str| {
        let v = campo(&f, k).trim();
        (!v.is_empty()).then(|| v.to_owned())
    };
    let body = serde_json::json!({
        "anno": campo(&f, "anno").trim().parse::<i32>().unwrap_or(0),
        "tipo_dovuto": campo(&f, "tipo_dovuto"),
        "cod_ufficio": campo(&f, "cod_ufficio"), "de_ufficio": campo(&f, "de_ufficio"),
        "attivo": true,
        "cod_capitolo": campo(&f, "cod_capitolo"), "de_capitolo": campo(&f, "de_capitolo"),
        "cod_accertamento": opz("cod_accertamento"), "de_accertamento": opz("de_accertamento"),
    });
    api.invia(
        &op,
        Method::POST,
        &format!("/api/v1/enti/{id}/capitoli"),
        Some(body),
    )
    .await?;
    Ok(vai(&format!("/console/enti/{id}/capitoli")))
}

pub async fn importa_capitoli(
    Extension(api): Extension<Api>,
    op: Operatore,
    Path(id): Path<String>,
    mut m: Multipart,
) -> Risposta {
    accertatore(&op, &id)?;
    let mut file = None;
    loop {
        match m.next_field().await {
            Ok(Some(f)) if f.name() == Some("file") => {
                let nome = f.file_name().unwrap_or_default().to_owned();
                match f.bytes().await {
                    Ok(b) => file = Some((nome, b)),
                    Err(e) => {
                        return Err(errore(&Some(&op), StatusCode::BAD_REQUEST, &e.body_text()));
                    }
                }
            }
            Ok(Some(_)) => {}
            Ok(None) => break,
            Err(e) => return Err(errore(&Some(&op), StatusCode::BAD_REQUEST, &e.body_text())),
        }
    }
    let Some((nome, bytes)) = file.filter(|(_, b)| !b.is_empty()) else {
        return Err(errore(
            &Some(&op),
            StatusCode::BAD_REQUEST,
            "Scegli il file da importare.",
        ));
    };
    let r = api
        .chiama(
            &op,
            Method::POST,
            &format!("/api/v1/enti/{id}/capitoli/import?nome_file={}", enc(&nome)),
            Some("application/octet-stream"),
            Body::from(bytes),
        )
        .await;
    let v = match leggi(r).await {
        Ok(v) => v,
        Err(r) => return Err(rifiutato(&op, r)),
    };
    let n = |k: &str| testo(k, &v[k]);
    let b = vec![
        schede(&id, "capitoli"),
        Blocco::Dati(vec![
            ("File".into(), nome),
            ("Stato".into(), n("stato")),
            ("Righe lette".into(), n("righe_lette")),
            ("Righe importate".into(), n("righe_importate")),
            ("Righe scartate".into(), n("righe_scartate")),
        ]),
        Blocco::Tabella(tabella(
            "Righe scartate, una per una",
            v["scarti"].as_array().map_or(&[][..], Vec::as_slice),
            &[
                ("riga", "Riga"),
                ("codice", "Codice"),
                ("motivo", "Motivo"),
                ("riga_originale", "Riga originale"),
            ],
        )),
    ];
    Ok(pagina_ente(
        &api,
        &op,
        &id,
        "Accertamento",
        "Esito dell'importazione del piano",
        b,
    )
    .await)
}

// ---- Statistiche ----

fn statistico(op: &Operatore, id: &str) -> Result<(), Response> {
    op.richiede(Ruolo::Statistiche)?;
    op.ente(id)
}

const DIMENSIONI: [(&str, &str); 5] = [
    ("totale", "Totale"),
    ("ufficio", "Ufficio"),
    ("tipo_dovuto", "Tipo dovuto"),
    ("capitolo", "Capitolo"),
    ("accertamento", "Accertamento"),
];

/// The query of the receipts behind a cell: its period and its codes.
fn dettaglio_di(c: &Value, filtri: &Coppie) -> Coppie {
    let mut q: Coppie = Vec::new();
    if let Some(g) = c["giorno"].as_str() {
        q.push(("da".into(), g.into()));
        q.push(("a".into(), g.into()));
    } else {
        q.push(("anno".into(), c["anno"].to_string()));
        if let Some(m) = c["mese"].as_u64() {
            q.push(("mese".into(), m.to_string()));
        }
    }
    for k in [
        "tipo_dovuto",
        "cod_ufficio",
        "cod_capitolo",
        "cod_accertamento",
    ] {
        if let Some(v) = c[k].as_str() {
            q.push((k.into(), v.into()));
        } else if !campo(filtri, k).is_empty() {
            q.push((k.into(), campo(filtri, k).into()));
        }
    }
    q.push(("dimensione".into(), campo(filtri, "dimensione").into()));
    q.push(("misura".into(), "pagati".into()));
    q
}

pub async fn statistiche(
    Extension(api): Extension<Api>,
    op: Operatore,
    Path(id): Path<String>,
    Query(f): Query<Coppie>,
) -> Risposta {
    statistico(&op, &id)?;
    let richiesta: Coppie = f.iter().filter(|(k, _)| k != "formato").cloned().collect();
    let v = api
        .leggi(
            &op,
            &format!("/api/v1/enti/{id}/statistiche?{}", query(&richiesta)),
        )
        .await?;
    let celle = v["celle"].as_array().map_or(&[][..], Vec::as_slice);
    let dim = v["dimensione"].as_str().unwrap_or("totale");
    let etichetta_dim = |c: &Value| -> Option<String> {
        [
            "cod_accertamento",
            "cod_capitolo",
            "cod_ufficio",
            "tipo_dovuto",
        ]
        .iter()
        .find_map(|k| c[*k].as_str().map(str::to_owned))
    };
    let base = format!("/console/enti/{id}/statistiche/dettaglio");
    let barre: Vec<_> = celle
        .iter()
        .take(24)
        .map(|c| {
            let periodo = c["periodo"].as_str().unwrap_or_default().to_owned();
            let etichetta = match (dim, etichetta_dim(c)) {
                ("totale", _) | (_, None) => periodo,
                (_, Some(d)) => format!("{periodo} {d}"),
            };
            let cents = c["importo_pagato_cents"].as_i64().unwrap_or(0);
            (
                etichetta,
                cents,
                euro(cents),
                format!("{base}?{}", query(&dettaglio_di(c, &richiesta))),
            )
        })
        .collect();
    let mut b = vec![Blocco::Modulo(
        Modulo::get(
            "filtri",
            format!("/console/enti/{id}/statistiche"),
            "Mostra",
        )
        .campo(Campo::new("anno", "Anno", Tipo::Numero).valore(campo(&f, "anno")))
        .campo(Campo::new("mese", "Mese (1-12)", Tipo::Numero).valore(campo(&f, "mese")))
        .campo(
            Campo::new(
                "dimensione",
                "Suddivisione",
                Tipo::Scelta(
                    DIMENSIONI
                        .iter()
                        .map(|(a, b)| ((*a).into(), (*b).into()))
                        .collect(),
                ),
            )
            .valore(campo(&f, "dimensione")),
        ),
    )];
    if celle.is_empty() {
        b.push(Blocco::Avviso(
            "info",
            "Nessun pagamento nel periodo scelto.".into(),
        ));
    } else {
        b.push(Blocco::Grafico(Grafico::barre(
            "Importo pagato per periodo".into(),
            barre,
        )));
    }
    let col = [
        ("periodo", "Periodo"),
        ("tipo_dovuto", "Tipo dovuto"),
        ("cod_ufficio", "Ufficio"),
        ("cod_capitolo", "Capitolo"),
        ("cod_accertamento", "Accertamento"),
        ("numero_pagati", "Pagati"),
        ("importo_pagato_cents", "Importo pagato"),
        ("numero_rendicontati", "Rendicontati"),
        ("importo_rendicontato_cents", "Importo rendicontato"),
        ("numero_incassati", "Incassati"),
        ("importo_incassato_cents", "Importo incassato"),
    ];
    let col: Vec<_> = col
        .into_iter()
        .filter(|(k, _)| {
            !matches!(
                *k,
                "tipo_dovuto" | "cod_ufficio" | "cod_capitolo" | "cod_accertamento"
            ) || celle.iter().any(|c| !c[*k].is_null())
        })
        .collect();
    let mut t = tabella("Totali del periodo", celle, &col);
    for (c, r) in celle.iter().zip(t.righe.iter_mut()) {
        r[0] = Cella::Link(
            testo("periodo", &c["periodo"]),
            format!("{base}?{}", query(&dettaglio_di(c, &richiesta))),
        );
    }
    b.push(Blocco::Tabella(t));
    b.push(Blocco::Collegamenti(vec![(
        format!("/console/enti/{id}/statistiche.csv?{}", query(&richiesta)),
        "Scarica in CSV".into(),
        false,
    )]));
    Ok(pagina_ente(&api, &op, &id, "Statistiche", "Statistiche", b).await)
}

pub async fn dettaglio(
    Extension(api): Extension<Api>,
    op: Operatore,
    Path(id): Path<String>,
    Query(f): Query<Coppie>,
) -> Risposta {
    statistico(&op, &id)?;
    let v = api
        .leggi(
            &op,
            &format!("/api/v1/enti/{id}/statistiche/dettaglio?{}", query(&f)),
        )
        .await?;
    let totale = v["total"].as_i64().unwrap_or(0);
    let mut b = vec![Blocco::Tabella(tabella(
        &format!("Ricevute: {totale}"),
        voci(&v),
        &[
            ("iuv", "IUV"),
            ("iur", "IUR"),
            ("iud", "IUD"),
            ("tipo_dovuto", "Tipo dovuto"),
            ("cf_pagatore", "Pagatore"),
            ("data", "Data"),
            ("importo_cents", "Importo"),
            ("cod_ufficio", "Ufficio"),
            ("cod_capitolo", "Capitolo"),
            ("cod_accertamento", "Accertamento"),
        ],
    ))];
    let pagina = campo(&f, "page").parse().unwrap_or(1);
    b.extend(paginazione(
        &format!("/console/enti/{id}/statistiche/dettaglio"),
        &f,
        pagina,
        totale,
        50,
    ));
    b.push(Blocco::Collegamenti(vec![(
        format!("/console/enti/{id}/statistiche"),
        "Torna alle statistiche".into(),
        false,
    )]));
    Ok(pagina_ente(&api, &op, &id, "Statistiche", "Ricevute del periodo", b).await)
}

pub async fn statistiche_csv(
    Extension(api): Extension<Api>,
    op: Operatore,
    Path(id): Path<String>,
    Query(f): Query<Coppie>,
) -> Risposta {
    statistico(&op, &id)?;
    let mut q: Coppie = f.into_iter().filter(|(k, _)| k != "formato").collect();
    q.push(("formato".into(), "csv".into()));
    api.scarica(
        &op,
        &format!("/api/v1/enti/{id}/statistiche?{}", query(&q)),
        "statistiche.csv",
    )
    .await
}
