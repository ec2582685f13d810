//! The checkout page behind the redirect URL, and paying or abandoning its session.

use super::{PSP, Simulator};
use crate::model::Importo;
use axum::extract::{Form, Path, Query, State};
use axum::response::Html;

impl Simulator {
    /// Pays (or abandons) the checkout session, as the payer's browser would.
    pub async fn paga_sessione(&self, session: &str, pagato: bool) -> bool {
        let keys = self
            .state
            .lock()
            .expect("lock")
            .sessions
            .get(session)
            .cloned();
        match keys {
            Some(k) => {
                self.concludi(&k, pagato).await;
                true
            }
            None => false,
        }
    }
}

#[derive(serde::Deserialize)]
pub(super) struct SessionQuery {
    #[serde(rename = "idSession")]
    id_session: String,
}

/// The checkout page (WISP 2.0 style): payment methods and PSPs with their maximum fee.
pub(super) async fn pagina(
    State(s): State<Simulator>,
    Query(q): Query<SessionQuery>,
) -> Html<String> {
    let st = s.state.lock().expect("lock");
    let Some(keys) = st.sessions.get(&q.id_session) else {
        return Html("<p>Sessione sconosciuta</p>".into());
    };
    let totale = keys
        .iter()
        .filter_map(|k| st.rpts.get(k))
        .fold(Importo::ZERO, |a, r| {
            a.checked_add(r.rpt.dati_versamento.importo_totale)
                .unwrap_or(a)
        });
    let psp: String = PSP
        .iter()
        .map(|(id, nome, fee)| {
            format!(
                "<option value=\"{id}\">{nome} (commissione massima {} EUR)</option>",
                Importo::from_cents(*fee).unwrap_or(Importo::ZERO)
            )
        })
        .collect();
    Html(format!(
        "<!DOCTYPE html><html lang=\"it\"><head><meta charset=\"utf-8\"><title>pagoPA - simulatore</title></head><body>\
<h1>Paga {totale} EUR</h1><form method=\"post\" action=\"/pay/{sid}\">\
<fieldset><legend>Metodo</legend><label><input type=\"radio\" name=\"metodo\" value=\"carta\" checked> Carta</label>\
<label><input type=\"radio\" name=\"metodo\" value=\"conto\"> Conto corrente</label>\
<label><input type=\"radio\" name=\"metodo\" value=\"altro\"> Altri metodi</label></fieldset>\
<label>PSP <select name=\"psp\">{psp}</select></label>\
<button name=\"esito\" value=\"paga\">Paga</button> <button name=\"esito\" value=\"annulla\">Annulla</button></form></body></html>",
        sid = q.id_session
    ))
}

#[derive(serde::Deserialize)]
pub(super) struct Scelta {
    #[allow(dead_code)]
    metodo: Option<String>,
    #[allow(dead_code)]
    psp: Option<String>,
    esito: String,
}

pub(super) async fn paga(
    State(s): State<Simulator>,
    Path(session): Path<String>,
    Form(f): Form<Scelta>,
) -> Html<String> {
    let pagato = f.esito == "paga";
    if s.paga_sessione(&session, pagato).await {
        Html(format!(
            "<p>{}</p>",
            if pagato {
                "Pagamento eseguito"
            } else {
                "Pagamento annullato"
            }
        ))
    } else {
        Html("<p>Sessione sconosciuta</p>".into())
    }
}
