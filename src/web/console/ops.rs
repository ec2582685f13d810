//! The intermediary administrator's operations page: the enti and their configuration,
//! the console's operators, the outbox's dead letters (retry), quarantined RTs (process
//! again), the SOAP message journal with each exchange's XML, the journal of changes.

use super::*;
use axum::Extension;
use axum::extract::{Path, State};

fn amministratore(op: &Operatore) -> Result<(), Response> {
    op.richiede(Ruolo::Intermediario)
}

fn pagina_ops(op: &Operatore, titolo: &str, blocchi: Vec<Blocco>) -> Response {
    render(&Pagina {
        titolo: titolo.into(),
        utente: Some(op.persona.nome.clone()),
        ente: "Operazioni dell'intermediario".into(),
        menu: vec![
            ("/console/ops".into(), "Operazioni".into(), true),
            ("/console".into(), "Enti".into(), false),
        ],
        aggiorna: 0,
        blocchi,
    })
}

pub async fn pagina(
    State(s): State<AppState>,
    Extension(api): Extension<Api>,
    op: Operatore,
) -> Risposta {
    amministratore(&op)?;
    let (enti, dead, quarantena, journal) = match tokio::try_join!(
        api.get(&op, "/api/v1/enti?per_page=500"),
        api.get(&op, "/api/v1/outbox?stato=DEAD&per_page=50"),
        api.get(&op, "/api/v1/rt?stato=QUARANTENA&per_page=50"),
        api.get(&op, "/api/v1/journal?per_page=50"),
    ) {
        Ok(x) => x,
        Err(r) => return Err(rifiutato(&op, r)),
    };
    let mut b = Vec::new();

    b.push(Blocco::Sezione("Enti".into()));
    let righe = voci(&enti);
    let mut t = tabella(
        &format!("Enti: {}", enti["total"]),
        righe,
        &[
            ("denominazione", "Ente"),
            ("id_dominio", "Codice fiscale"),
            ("codice_ipa", "Codice IPA"),
            ("segregation_code", "Segregation code"),
            ("flg_pagati", "Notifica i pagati"),
            ("flg_tesoreria", "Carica la tesoreria"),
            ("attivo", "Attivo"),
        ],
    );
    for (e, r) in righe.iter().zip(t.righe.iter_mut()) {
        r[0] = Cella::Link(
            testo("denominazione", &e["denominazione"]),
            format!(
                "/console/enti/{}",
                e["id_dominio"].as_str().unwrap_or_default()
            ),
        );
    }
    b.push(Blocco::Tabella(t));

    b.push(Blocco::Sezione("Operatori".into()));
    match s.store.operatori().list().await {
        Ok(list) => b.push(Blocco::Tabella(Tabella {
            didascalia: "Operatori della console (si creano con il comando operatore crea)".into(),
            colonne: vec![
                "Utente".into(),
                "Nome".into(),
                "Ruoli".into(),
                "Enti".into(),
                "Attivo".into(),
            ],
            righe: list
                .into_iter()
                .map(|o| {
                    vec![
                        Cella::Testo(o.username.to_string()),
                        Cella::Testo(o.nome),
                        Cella::Testo(
                            o.ruoli
                                .elenco()
                                .map(Ruolo::etichetta)
                                .collect::<Vec<_>>()
                                .join(", "),
                        ),
                        Cella::Testo(o.enti.join(", ")),
                        Cella::Testo(if o.attivo { "Sì" } else { "No" }.into()),
                    ]
                })
                .collect(),
        })),
        Err(e) => b.push(Blocco::Avviso(
            "danger",
            format!("Operatori non letti: {e}"),
        )),
    }

    b.push(Blocco::Sezione("Outbox: lavori non riusciti".into()));
    let righe = voci(&dead);
    let t = tabella(
        &format!("Lavori in DEAD: {}", dead["total"]),
        righe,
        &[
            ("id", "Id"),
            ("kind", "Tipo"),
            ("attempts", "Tentativi"),
            ("last_error", "Ultimo errore"),
            ("updated_at", "Aggiornato"),
        ],
    );
    let t = t.con_azione("Azione", righe, |_, j| {
        Some(
            Modulo::post(
                format!("riprova-{}", j["id"]),
                format!("/console/ops/outbox/{}/retry", j["id"]),
                "Riprova",
            )
            .in_linea(),
        )
    });
    b.push(Blocco::Tabella(t));

    b.push(Blocco::Sezione("RT in quarantena".into()));
    let righe = voci(&quarantena);
    let t = tabella(
        &format!("RT in quarantena: {}", quarantena["total"]),
        righe,
        &[
            ("id", "Id"),
            ("id_dominio", "Ente"),
            ("iuv", "IUV"),
            ("ccp", "CCP"),
            ("codice_esito", "Esito"),
            ("nota", "Nota"),
            ("received_at", "Ricevuta il"),
        ],
    );
    let t = t.con_azione("Azione", righe, |_, j| {
        Some(
            Modulo::post(
                format!("rielabora-{}", j["id"]),
                format!("/console/ops/rt/{}/rielabora", j["id"]),
                "Rielabora",
            )
            .in_linea(),
        )
    });
    b.push(Blocco::Tabella(t));

    b.push(Blocco::Sezione("Giornale dei messaggi".into()));
    let righe = voci(&journal);
    let mut t = tabella(
        "Ultimi scambi SOAP",
        righe,
        &[
            ("id", "Id"),
            ("at", "Quando"),
            ("direction", "Verso"),
            ("operation", "Operazione"),
            ("id_dominio", "Ente"),
            ("iuv", "IUV"),
            ("outcome", "Esito"),
        ],
    );
    for (j, r) in righe.iter().zip(t.righe.iter_mut()) {
        r[0] = Cella::Link(
            j["id"].to_string(),
            format!("/console/ops/journal/{}", j["id"]),
        );
    }
    b.push(Blocco::Tabella(t));

    b.push(Blocco::Sezione("Registro delle modifiche".into()));
    match s.store.operatori().changes(100).await {
        Ok(list) => {
            let v: Vec<Value> = list
                .iter()
                .filter_map(|m| serde_json::to_value(m).ok())
                .collect();
            b.push(Blocco::Tabella(tabella(
                "Ultime modifiche, con chi le ha fatte",
                &v,
                &[
                    ("quando", "Quando"),
                    ("chi", "Chi"),
                    ("metodo", "Metodo"),
                    ("percorso", "Percorso"),
                    ("stato", "Esito HTTP"),
                ],
            )));
        }
        Err(e) => b.push(Blocco::Avviso("danger", format!("Registro non letto: {e}"))),
    }
    Ok(pagina_ops(&op, "Operazioni", b))
}

pub async fn messaggio(
    Extension(api): Extension<Api>,
    op: Operatore,
    Path(jid): Path<i64>,
) -> Risposta {
    amministratore(&op)?;
    let v = api.leggi(&op, &format!("/api/v1/journal/{jid}")).await?;
    // The summary's fields are flattened beside the request and the response.
    let s = &v;
    let b = vec![
        Blocco::Dati(vec![
            ("Operazione".into(), testo("operation", &s["operation"])),
            ("Verso".into(), testo("direction", &s["direction"])),
            ("Ente".into(), testo("id_dominio", &s["id_dominio"])),
            ("IUV".into(), testo("iuv", &s["iuv"])),
            ("Esito".into(), testo("outcome", &s["outcome"])),
            ("Quando".into(), testo("at", &s["at"])),
        ]),
        Blocco::Sezione("Richiesta".into()),
        Blocco::Codice(v["request"].as_str().unwrap_or_default().into()),
        Blocco::Sezione("Risposta".into()),
        Blocco::Codice(v["response"].as_str().unwrap_or_default().into()),
    ];
    Ok(pagina_ops(&op, &format!("Messaggio {jid}"), b))
}

pub async fn riprova(
    Extension(api): Extension<Api>,
    op: Operatore,
    Path(jid): Path<i64>,
) -> Risposta {
    amministratore(&op)?;
    api.invia(
        &op,
        Method::POST,
        &format!("/api/v1/outbox/{jid}/retry"),
        None,
    )
    .await?;
    Ok(vai("/console/ops"))
}

pub async fn rielabora(
    Extension(api): Extension<Api>,
    op: Operatore,
    Path(rid): Path<i64>,
) -> Risposta {
    amministratore(&op)?;
    api.invia(
        &op,
        Method::POST,
        &format!("/api/v1/rt/{rid}/rielabora"),
        None,
    )
    .await?;
    Ok(vai("/console/ops"))
}
