//! The ente's pages and the cart: enti, an ente's contacts and spontaneous payments, the
//! cart of up to five kept in its signed cookie, and paying it.

use super::*;

#[derive(Deserialize)]
pub(super) struct CercaEnti {
    q: Option<String>,
}

pub(super) async fn enti(State(s): State<AppState>, Query(f): Query<CercaEnti>) -> Pagina {
    let q = f.q.filter(|q| !q.trim().is_empty());
    Ok(render(&pagine::Enti {
        enti: elenco_enti(&s, q.clone()).await?,
        q: q.unwrap_or_default(),
    }))
}

pub(super) async fn pagina_ente(s: &AppState, id: &str, errore_form: Option<String>) -> Pagina {
    let e = s.store.registro().get_ente(id).await.map_err(da_store)?;
    if !e.attivo {
        return Err(errore(
            StatusCode::NOT_FOUND,
            "Ente non trovato",
            "Questo ente non è attivo sul portale.",
        ));
    }
    let tipi = s
        .store
        .registro()
        .list_tipi_dovuto(id)
        .await
        .map_err(da_store)?;
    Ok(render(&pagine::Ente {
        id_dominio: id.to_owned(),
        ente: e.denominazione,
        email: e.contatti.email,
        sito: e.contatti.sito_web,
        telefono: e.contatti.telefono,
        tipi: tipi
            .into_iter()
            .filter(|t| t.attivo && t.spontaneo)
            .map(|t| pagine::TipoSpontaneo {
                codice: t.codice,
                descrizione: t.descrizione,
                importo_fisso: t.importo_fisso.map(|i| i.italiano()),
            })
            .collect(),
        errore: errore_form,
    }))
}

pub(super) async fn ente(State(s): State<AppState>, Path(id): Path<String>) -> Pagina {
    pagina_ente(&s, &id, None).await
}

#[derive(Deserialize)]
pub(super) struct FormSpontaneo {
    tipo_dovuto: String,
    codice_fiscale: String,
    anagrafica: String,
    causale: String,
    importo: Option<String>,
}

/// An amount as typed: `1.234,56` the Italian way; without a comma a dot is the decimal
/// point (`2.50` is two euro fifty, never 250).
pub(super) fn importo_it(s: &str) -> Option<crate::model::Importo> {
    let t = s.trim();
    let t = if t.contains(',') {
        t.replace('.', "").replace(',', ".")
    } else {
        t.to_owned()
    };
    t.parse().ok()
}

pub(super) async fn spontaneo(
    State(s): State<AppState>,
    c: Client,
    carrello::Corrente { chiave, mut voci }: carrello::Corrente,
    Path(id): Path<String>,
    Form(f): Form<FormSpontaneo>,
) -> Pagina {
    limite(&s, &s.limiti.carrelli, &c)?;
    if voci.len() >= carrello::MASSIMO {
        return pagina_ente(
            &s,
            &id,
            Some(format!(
                "Il carrello contiene già {} pagamenti: pagali prima di aggiungerne altri.",
                carrello::MASSIMO
            )),
        )
        .await;
    }
    let importo = match f.importo.as_deref().filter(|i| !i.trim().is_empty()) {
        Some(i) => match importo_it(i) {
            Some(v) => Some(v),
            None => {
                return pagina_ente(
                    &s,
                    &id,
                    Some(format!("Importo «{i}» non valido: scrivilo come 12,50.")),
                )
                .await;
            }
        },
        None => None,
    };
    let cf = f.codice_fiscale.trim().to_uppercase();
    let pagatore = serde_json::json!({"tipo": if cf.len() == 11 { "G" } else { "F" }, "codice_fiscale": cf, "anagrafica": f.anagrafica.trim()});
    let pagatore = match serde_json::from_value(pagatore) {
        Ok(p) => p,
        Err(_) => {
            return pagina_ente(&s, &id, Some(format!("Codice fiscale «{cf}» non valido."))).await;
        }
    };
    let b = portale::Spontaneo {
        tipo_dovuto: f.tipo_dovuto,
        pagatore,
        importo,
        causale: f.causale.trim().to_owned(),
    };
    match portale::crea_spontaneo(&s.store, &id, &b).await {
        Ok((_, d)) => {
            voci.push(Voce {
                id_dominio: id,
                iuv: d.iuv.to_string(),
                codice_fiscale: cf,
            });
            Ok(al_carrello(&chiave, &voci))
        }
        Err(ErrorePortale::Validazione(m)) => pagina_ente(&s, &id, Some(m)).await,
        Err(ErrorePortale::Store(e)) => Err(da_store(e)),
        Err(e) => Err(errore(
            StatusCode::NOT_FOUND,
            "Ente non trovato",
            e.to_string(),
        )),
    }
}

pub(super) fn al_carrello(chiave: &Chiave, voci: &[Voce]) -> Response {
    let mut r = Redirect::to("/portale/carrello").into_response();
    if let Ok(v) = HeaderValue::from_str(&carrello::cookie(chiave, voci)) {
        r.headers_mut().append(header::SET_COOKIE, v);
    }
    r
}

#[derive(Deserialize)]
pub(super) struct FormVoce {
    id_dominio: String,
    iuv: String,
    codice_fiscale: String,
}

pub(super) async fn aggiungi(
    State(s): State<AppState>,
    c: Client,
    carrello::Corrente { chiave, mut voci }: carrello::Corrente,
    Form(f): Form<FormVoce>,
) -> Pagina {
    let v = super::verificata(&s, &c, f.id_dominio, f.iuv, &f.codice_fiscale).await?;
    if !voci.contains(&v) && voci.len() < carrello::MASSIMO {
        voci.push(v);
    }
    Ok(al_carrello(&chiave, &voci))
}

#[derive(Deserialize)]
pub(super) struct FormIndice {
    indice: usize,
}

pub(super) async fn rimuovi(
    carrello::Corrente { chiave, mut voci }: carrello::Corrente,
    Form(f): Form<FormIndice>,
) -> Response {
    if f.indice < voci.len() {
        voci.remove(f.indice);
    }
    al_carrello(&chiave, &voci)
}

pub(super) async fn pagina_carrello(
    s: &AppState,
    voci: &[Voce],
    errore_form: Option<String>,
) -> Pagina {
    let now = time::OffsetDateTime::now_utc();
    let mut righe = Vec::new();
    let mut totale = 0i64;
    let mut tutte_pagabili = true;
    for v in voci {
        match portale::cerca_avviso(
            &s.store,
            &s.cache,
            &v.id_dominio,
            None,
            Some(&v.iuv),
            &v.codice_fiscale,
            now,
        )
        .await
        {
            Ok(a) => {
                // Only what can be paid counts, and a cart with anything else is not
                // sent: the total is what the payer will pay.
                let pagabile = a.stato == portale::StatoAvviso::Pagabile;
                tutte_pagabili &= pagabile;
                if pagabile {
                    totale += a.importo.cents();
                }
                righe.push(pagine::VoceCarrello {
                    ente: a.ente.denominazione,
                    causale: a.dovuto.causale,
                    importo: a.importo.italiano(),
                    stato: super::testo_stato(a.stato),
                });
            }
            Err(ErrorePortale::Store(e)) => return Err(da_store(e)),
            Err(_) => {
                tutte_pagabili = false;
                righe.push(pagine::VoceCarrello {
                    ente: v.id_dominio.clone(),
                    causale: format!("IUV {}", v.iuv),
                    importo: "-".into(),
                    stato: "Non più disponibile",
                })
            }
        }
    }
    let totale = crate::model::Importo::from_cents(totale)
        .map(|i| i.italiano())
        .unwrap_or_default();
    let errore = errore_form.or_else(|| {
        (!tutte_pagabili).then(|| {
            "Alcuni pagamenti del carrello non si possono più pagare: rimuovili per pagare gli altri.".to_owned()
        })
    });
    Ok(render(&pagine::Carrello {
        voci: righe,
        totale,
        massimo: carrello::MASSIMO,
        errore,
        pagabile: tutte_pagabili,
    }))
}

pub(super) async fn vedi_carrello(
    State(s): State<AppState>,
    carrello::Corrente { voci, .. }: carrello::Corrente,
) -> Pagina {
    pagina_carrello(&s, &voci, None).await
}

#[derive(Deserialize)]
pub(super) struct FormEmail {
    email: String,
}

pub(super) async fn paga_carrello(
    State(s): State<AppState>,
    c: Client,
    carrello::Corrente { voci, .. }: carrello::Corrente,
    Form(f): Form<FormEmail>,
) -> Pagina {
    limite(&s, &s.limiti.carrelli, &c)?;
    if voci.is_empty() {
        return Ok(Redirect::to("/portale/carrello").into_response());
    }
    match portale::email_per_ricevuta(&f.email) {
        Ok(email) => paga(&s, &voci, email, true).await,
        Err(m) => {
            let mut r = pagina_carrello(&s, &voci, Some(m.into())).await?;
            *r.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
            Ok(r)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_are_typed_the_italian_way() {
        let c = |s: &str| importo_it(s).map(|i| i.cents());
        assert_eq!(
            [c("2,50"), c("2.50"), c("1.234,56"), c(" 16 "), c("abc")],
            [Some(250), Some(250), Some(123_456), Some(1600), None]
        );
    }
}
