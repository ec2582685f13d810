//! Visualizzazione: Riconciliazione and Anomalie (counts per code, the API's filters,
//! paging, a note and hiding on every line), Ricevute telematiche, Rendicontazione pagoPA,
//! Giornale di cassa and Storico segnalazioni.

use super::*;
use crate::recon::classifica::Codice;
use axum::Extension;
use axum::extract::{Form, Path, Query};

type Coppie = Vec<(String, String)>;

fn schede(ente: &str, attiva: &str) -> Blocco {
    let v = [
        ("riconciliazione", "Riconciliazione"),
        ("anomalie", "Anomalie"),
        ("ricevute", "Ricevute telematiche"),
        ("rendicontazione", "Rendicontazione pagoPA"),
        ("tesoreria", "Giornale di cassa"),
        ("segnalazioni", "Storico segnalazioni"),
    ];
    Blocco::Collegamenti(
        v.iter()
            .map(|(p, t)| {
                (
                    format!("/console/enti/{ente}/{p}"),
                    (*t).to_owned(),
                    *p == attiva,
                )
            })
            .collect(),
    )
}

/// The ente's home: where each role leads.
pub async fn ente(
    Extension(api): Extension<Api>,
    op: Operatore,
    Path(id): Path<String>,
) -> Risposta {
    op.ente(&id)?;
    let voci: Vec<_> = menu(&op, &id, "")
        .into_iter()
        .filter(|(_, t, _)| t != "Enti")
        .collect();
    let b = vec![
        Blocco::Testo("Scegli dal menu il lavoro di oggi.".into()),
        Blocco::Collegamenti(voci),
    ];
    Ok(pagina_ente(&api, &op, &id, "", "Console MyPivot", b).await)
}

pub async fn riconciliazione(
    Extension(api): Extension<Api>,
    op: Operatore,
    Path(id): Path<String>,
    Query(f): Query<Coppie>,
) -> Risposta {
    vista(api, op, id, f, "riconciliazione").await
}

pub async fn anomalie(
    Extension(api): Extension<Api>,
    op: Operatore,
    Path(id): Path<String>,
    Query(f): Query<Coppie>,
) -> Risposta {
    vista(api, op, id, f, "anomalie").await
}

fn precondizioni(op: &Operatore, id: &str) -> Result<(), Response> {
    op.richiede(Ruolo::Visualizzazione)?;
    op.ente(id)
}

async fn vista(api: Api, op: Operatore, id: String, f: Coppie, tipo: &str) -> Risposta {
    precondizioni(&op, &id)?;
    let filtri: Coppie = f.into_iter().filter(|(k, _)| k != "vista").collect();
    let mut richiesta = filtri.clone();
    richiesta.push(("vista".into(), tipo.into()));
    let v = api
        .leggi(
            &op,
            &format!("/api/v1/enti/{id}/riconciliazione?{}", query(&richiesta)),
        )
        .await?;
    let base = format!("/console/enti/{id}/{tipo}");
    let positivi = tipo == "riconciliazione";
    let codice_scelto = campo(&filtri, "codice").to_owned();
    let codici: Vec<(String, i64)> = v["conteggi"]
        .as_object()
        .map(|m| {
            m.iter()
                .filter(|(k, _)| {
                    Codice::da_nome(k).is_some_and(|c| {
                        c.positivo() == positivi && (positivi || c != Codice::OTHERS)
                    })
                })
                .map(|(k, n)| (k.clone(), n.as_i64().unwrap_or(0)))
                .collect()
        })
        .unwrap_or_default();
    let mut b = vec![schede(&id, tipo)];
    let mut conteggi = vec![(
        base.clone(),
        "Tutti i codici".to_owned(),
        codice_scelto.is_empty(),
    )];
    conteggi.extend(codici.iter().map(|(c, n)| {
        (
            format!("{base}?codice={}", enc(c)),
            format!("{c} ({n})"),
            *c == codice_scelto,
        )
    }));
    b.push(Blocco::Collegamenti(conteggi));
    let mut scelte = vec![(String::new(), "Tutti".to_owned())];
    scelte.extend(codici.iter().map(|(c, _)| (c.clone(), c.clone())));
    let val = |k: &str| campo(&filtri, k).to_owned();
    b.push(Blocco::Modulo(
        [
            ("iuv", "IUV", Tipo::Testo),
            ("iud", "IUD", Tipo::Testo),
            ("iur", "IUR", Tipo::Testo),
            ("iuf", "Identificativo flusso", Tipo::Testo),
            ("tipo_dovuto", "Tipo dovuto", Tipo::Testo),
            ("cf_pagatore", "Codice fiscale del pagatore", Tipo::Testo),
            ("attestante", "PSP attestante", Tipo::Testo),
            ("ordinante", "Ordinante in tesoreria", Tipo::Testo),
            ("anno_bolletta", "Anno bolletta", Tipo::Numero),
            ("codice_bolletta", "Numero bolletta", Tipo::Testo),
            ("data_esito_da", "Data esito dal", Tipo::Data),
            ("data_esito_a", "Data esito al", Tipo::Data),
            ("data_regolamento_da", "Data regolamento dal", Tipo::Data),
            ("data_regolamento_a", "Data regolamento al", Tipo::Data),
            ("data_contabile_da", "Data contabile dal", Tipo::Data),
            ("data_contabile_a", "Data contabile al", Tipo::Data),
            ("data_valuta_da", "Data valuta dal", Tipo::Data),
            ("data_valuta_a", "Data valuta al", Tipo::Data),
        ]
        .into_iter()
        .fold(
            Modulo::get("filtri", base.clone(), "Cerca")
                .campo(Campo::new("codice", "Codice", Tipo::Scelta(scelte)).valore(val("codice"))),
            |m, (k, t, tipo)| m.campo(Campo::new(k, t, tipo).valore(val(k))),
        )
        .campo(
            Campo::new("nascosti", "Solo le righe nascoste", Tipo::Casella).valore(val("nascosti")),
        ),
    ));
    let totale = v["total"].as_i64().unwrap_or(0);
    let torna = if filtri.is_empty() {
        base.clone()
    } else {
        format!("{base}?{}", query(&filtri))
    };
    let colonne = [
        ("codici", "Codici"),
        ("iuv", "IUV"),
        ("iud", "IUD"),
        ("iuf", "Flusso"),
        ("tipo_dovuto", "Tipo dovuto"),
        ("importo_pagato_cents", "Pagato"),
        ("importo_rendicontato_cents", "Rendicontato"),
        ("importo_tesoreria_cents", "In tesoreria"),
        ("data_esito", "Data esito"),
        ("data_regolamento", "Data regolamento"),
    ];
    let righe = v["righe"].as_array().map_or(&[][..], Vec::as_slice);
    let esatto = v["total_esatto"].as_bool().unwrap_or(true);
    let trovate = if esatto {
        format!("Righe trovate: {totale}")
    } else {
        format!("Righe trovate: più di {totale} (restringi i filtri per il conteggio esatto)")
    };
    let t = tabella(&trovate, righe, &colonne);
    let t = t.con_azione("Nota", righe, |i, riga| {
        let codice = if codice_scelto.is_empty() {
            riga["codici"][0].as_str().unwrap_or_default().to_owned()
        } else {
            codice_scelto.clone()
        };
        let s = |k: &str| riga[k].as_str().unwrap_or_default().to_owned();
        // A note names its line by IUF, IUD or IUV: a treasury line with none of them
        // cannot carry one.
        if s("iuf").is_empty() && s("iud").is_empty() && s("iuv").is_empty() {
            return None;
        }
        Some(
            Modulo::post(
                format!("nota-{i}"),
                format!("/console/enti/{id}/segnalazioni"),
                "Salva",
            )
            .in_linea()
            .campo(Campo::nascosto("codice", codice))
            .campo(Campo::nascosto("iuf", s("iuf")))
            .campo(Campo::nascosto("iud", s("iud")))
            .campo(Campo::nascosto("iuv", s("iuv")))
            .campo(Campo::nascosto("torna", torna.clone()))
            .campo(Campo::new("nota", "Nota", Tipo::Testo).richiesto())
            .campo(Campo::new("nascosto", "Nascondi", Tipo::Casella)),
        )
    });
    b.push(Blocco::Tabella(t));
    let pagina = campo(&filtri, "page").parse().unwrap_or(1);
    let per = campo(&filtri, "per_page").parse().unwrap_or(50);
    let piena = righe.len() as u32 >= per;
    b.extend(if esatto {
        paginazione(&base, &filtri, pagina, totale, per)
    } else {
        paginazione_aperta(&base, &filtri, pagina, piena)
    });
    let titolo = if positivi {
        "Riconciliazione"
    } else {
        "Anomalie"
    };
    Ok(pagina_ente(&api, &op, &id, "Visualizzazione", titolo, b).await)
}

/// A note on a line, hiding it if asked; back to the view it was written on.
pub async fn segnala(
    Extension(api): Extension<Api>,
    op: Operatore,
    Path(id): Path<String>,
    Form(f): Form<Coppie>,
) -> Risposta {
    precondizioni(&op, &id)?;
    let opz = |k: &str| {
        let v = campo(&f, k).trim();
        (!v.is_empty()).then(|| v.to_owned())
    };
    let body = serde_json::json!({
        "codice": campo(&f, "codice"),
        "iuf": opz("iuf"), "iud": opz("iud"), "iuv": opz("iuv"),
        "nota": campo(&f, "nota"),
        "nascosto": campo(&f, "nascosto") == "true",
    });
    if let Err(r) = api
        .json(
            &op,
            Method::POST,
            &format!("/api/v1/enti/{id}/segnalazioni"),
            Some(body),
        )
        .await
    {
        return Err(rifiutato(&op, r));
    }
    let torna = campo(&f, "torna");
    Ok(if torna.starts_with(&format!("/console/enti/{id}/")) {
        vai(torna)
    } else {
        vai(&format!("/console/enti/{id}/segnalazioni"))
    })
}

/// A list view of the API with its filters forwarded.
#[allow(clippy::too_many_arguments)]
async fn elenco(
    api: Api,
    op: Operatore,
    id: String,
    f: Coppie,
    scheda: &str,
    titolo: &str,
    api_path: &str,
    filtri: Modulo,
    colonne: &[(&str, &str)],
    link: Option<(&str, &str)>,
) -> Risposta {
    precondizioni(&op, &id)?;
    let v = api.leggi(&op, &format!("{api_path}?{}", query(&f))).await?;
    let righe = voci(&v);
    let totale = v["total"].as_i64().unwrap_or(righe.len() as i64);
    let mut t = tabella(&format!("{titolo}: {totale}"), righe, colonne);
    if let Some((chiave, base)) = link {
        let col = colonne.iter().position(|(k, _)| *k == chiave).unwrap_or(0);
        for (r, celle) in righe.iter().zip(t.righe.iter_mut()) {
            let val = r[chiave].as_str().unwrap_or_default();
            celle[col] = Cella::Link(val.into(), format!("{base}/{}", enc(val)));
        }
    }
    let base = format!("/console/enti/{id}/{scheda}");
    let mut b = vec![
        schede(&id, scheda),
        Blocco::Modulo(filtri),
        Blocco::Tabella(t),
    ];
    let pagina = campo(&f, "page").parse().unwrap_or(1);
    let per = campo(&f, "per_page").parse().unwrap_or(50);
    b.extend(paginazione(&base, &f, pagina, totale, per));
    Ok(pagina_ente(&api, &op, &id, "Visualizzazione", titolo, b).await)
}

fn testo_di(f: &Coppie, k: &str, t: &str, tipo: Tipo) -> Campo {
    Campo::new(k, t, tipo).valore(campo(f, k))
}

pub async fn ricevute(
    Extension(api): Extension<Api>,
    op: Operatore,
    Path(id): Path<String>,
    Query(f): Query<Coppie>,
) -> Risposta {
    let m = Modulo::get("filtri", format!("/console/enti/{id}/ricevute"), "Cerca")
        .campo(testo_di(&f, "iuv", "IUV", Tipo::Testo))
        .campo(testo_di(&f, "iud", "IUD", Tipo::Testo))
        .campo(testo_di(
            &f,
            "cf_pagatore",
            "Codice fiscale del pagatore",
            Tipo::Testo,
        ))
        .campo(testo_di(&f, "data_esito_da", "Data esito dal", Tipo::Data))
        .campo(testo_di(&f, "data_esito_a", "Data esito al", Tipo::Data));
    let api_path = format!("/api/v1/enti/{id}/ricevute");
    let col = [
        ("iuv", "IUV"),
        ("iur", "IUR"),
        ("iud", "IUD"),
        ("tipo_dovuto", "Tipo dovuto"),
        ("cf_pagatore", "Pagatore"),
        ("importo_cents", "Importo"),
        ("data_esito", "Data esito"),
        ("attestante", "PSP"),
    ];
    elenco(
        api,
        op,
        id,
        f,
        "ricevute",
        "Ricevute telematiche",
        &api_path,
        m,
        &col,
        None,
    )
    .await
}

pub async fn rendicontazione(
    Extension(api): Extension<Api>,
    op: Operatore,
    Path(id): Path<String>,
    Query(f): Query<Coppie>,
) -> Risposta {
    let m = Modulo::get(
        "filtri",
        format!("/console/enti/{id}/rendicontazione"),
        "Cerca",
    )
    .campo(testo_di(&f, "iuf", "Identificativo flusso", Tipo::Testo));
    let api_path = format!("/api/v1/enti/{id}/rendicontazione");
    let col = [
        ("iuf", "Identificativo flusso"),
        ("data_ora_flusso", "Data e ora del flusso"),
        ("id_regolamento", "Identificativo regolamento"),
        ("data_regolamento", "Data regolamento"),
        ("pagamenti", "Pagamenti"),
        ("totale_flusso_cents", "Totale del flusso"),
    ];
    let base = format!("/console/enti/{id}/rendicontazione");
    elenco(
        api,
        op,
        id,
        f,
        "rendicontazione",
        "Rendicontazione pagoPA",
        &api_path,
        m,
        &col,
        Some(("iuf", &base)),
    )
    .await
}

pub async fn flusso(
    Extension(api): Extension<Api>,
    op: Operatore,
    Path((id, iuf)): Path<(String, String)>,
) -> Risposta {
    precondizioni(&op, &id)?;
    let v = api
        .leggi(
            &op,
            &format!("/api/v1/enti/{id}/rendicontazione/{}", enc(&iuf)),
        )
        .await?;
    let col = [
        ("iuv", "IUV"),
        ("iur", "IUR"),
        ("indice", "Indice"),
        ("importo_cents", "Importo"),
        ("esito", "Esito"),
        ("data_esito", "Data esito"),
        ("iud", "IUD"),
        ("importo_ricevuta_cents", "Importo della ricevuta"),
    ];
    let b = vec![
        schede(&id, "rendicontazione"),
        Blocco::Tabella(tabella(
            &format!("Pagamenti del flusso {iuf}"),
            voci(&v),
            &col,
        )),
    ];
    Ok(pagina_ente(
        &api,
        &op,
        &id,
        "Visualizzazione",
        "Flusso di rendicontazione",
        b,
    )
    .await)
}

pub async fn tesoreria(
    Extension(api): Extension<Api>,
    op: Operatore,
    Path(id): Path<String>,
    Query(f): Query<Coppie>,
) -> Risposta {
    let m = Modulo::get("filtri", format!("/console/enti/{id}/tesoreria"), "Cerca")
        .campo(testo_di(&f, "iuf", "Identificativo flusso", Tipo::Testo))
        .campo(testo_di(&f, "iuv", "IUV", Tipo::Testo));
    let api_path = format!("/api/v1/enti/{id}/tesoreria");
    let col = [
        ("anno_bolletta", "Anno"),
        ("codice_bolletta", "Bolletta"),
        ("data_contabile", "Data contabile"),
        ("data_valuta", "Data valuta"),
        ("ordinante", "Ordinante"),
        ("causale", "Causale"),
        ("importo_cents", "Importo"),
        ("iuf", "Flusso"),
        ("iuv", "IUV"),
    ];
    elenco(
        api,
        op,
        id,
        f,
        "tesoreria",
        "Giornale di cassa",
        &api_path,
        m,
        &col,
        None,
    )
    .await
}

pub async fn segnalazioni(
    Extension(api): Extension<Api>,
    op: Operatore,
    Path(id): Path<String>,
    Query(f): Query<Coppie>,
) -> Risposta {
    let m = Modulo::get(
        "filtri",
        format!("/console/enti/{id}/segnalazioni"),
        "Cerca",
    )
    .campo(testo_di(&f, "codice", "Codice", Tipo::Testo));
    let api_path = format!("/api/v1/enti/{id}/segnalazioni");
    let col = [
        ("created_at", "Quando"),
        ("utente", "Chi"),
        ("codice", "Codice"),
        ("iuv", "IUV"),
        ("iud", "IUD"),
        ("iuf", "Flusso"),
        ("nota", "Nota"),
        ("nascosto", "Nascosta"),
        ("attivo", "In vigore"),
    ];
    elenco(
        api,
        op,
        id,
        f,
        "segnalazioni",
        "Storico segnalazioni",
        &api_path,
        m,
        &col,
        None,
    )
    .await
}
