//! pagoPA Checkout (EC API v2): `POST /checkout/ec/v2/carts` checked as the OpenAPI document
//! says (1–5 notices, an 18-digit notice number, an 11-digit fiscal code, an amount of at
//! least one cent, the four return URLs, a subscription key), answered with a 302 to its
//! page; paying there runs each notice through the new model (paVerifyPaymentNotice,
//! paGetPaymentV2, paSendRTV2), cancelling asks the gateway nothing.

use super::Simulator;
use crate::checkout_client::RichiestaCarrello;
use crate::model::Importo;
use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};

fn problema(status: StatusCode, detail: &str) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/problem+json")],
        serde_json::json!({"title": "Bad Request", "status": status.as_u16(), "detail": detail})
            .to_string(),
    )
        .into_response()
}

/// What the OpenAPI document requires of a CartRequestV2 beyond its JSON shape.
fn valida(r: &RichiestaCarrello) -> Result<(), String> {
    let n = r.payment_notices.len();
    if !(1..=5).contains(&n) {
        return Err(format!("paymentNotices: da 1 a 5, non {n}"));
    }
    let cifre = |s: &str, len: usize| s.len() == len && s.bytes().all(|b| b.is_ascii_digit());
    for (i, a) in r.payment_notices.iter().enumerate() {
        if !cifre(&a.notice_number, 18) {
            return Err(format!("paymentNotices[{i}].noticeNumber: 18 cifre"));
        }
        if !cifre(&a.fiscal_code, 11) {
            return Err(format!("paymentNotices[{i}].fiscalCode: 11 cifre"));
        }
        if a.amount < 1 {
            return Err(format!("paymentNotices[{i}].amount: almeno 1"));
        }
        if a.company_name.chars().count() > 140 || a.description.chars().count() > 140 {
            return Err(format!("paymentNotices[{i}]: testi oltre 140 caratteri"));
        }
    }
    let u = &r.return_urls;
    if [
        &u.return_ok_url,
        &u.return_cancel_url,
        &u.return_error_url,
        &u.return_waiting_url,
    ]
    .iter()
    .any(|x| x.is_empty())
    {
        return Err("returnUrls: i quattro indirizzi sono obbligatori".into());
    }
    Ok(())
}

pub(super) async fn carts(
    State(s): State<Simulator>,
    h: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    if !h.contains_key("ocp-apim-subscription-key") {
        return problema(StatusCode::UNAUTHORIZED, "subscription key mancante");
    }
    let r: RichiestaCarrello = match serde_json::from_slice(&body) {
        Ok(r) => r,
        Err(e) => return problema(StatusCode::BAD_REQUEST, &e.to_string()),
    };
    if let Err(why) = valida(&r) {
        return problema(StatusCode::BAD_REQUEST, &why);
    }
    let id = uuid::Uuid::new_v4().simple().to_string();
    let url = format!(
        "{}/checkout/pay?idCart={id}",
        s.checkout_base.lock().expect("lock")
    );
    s.state.lock().expect("lock").checkout.insert(id, r);
    (StatusCode::FOUND, [(header::LOCATION, url)]).into_response()
}

#[derive(serde::Deserialize)]
pub(super) struct CartQuery {
    #[serde(rename = "idCart")]
    id_cart: String,
}

pub(super) async fn pagina(State(s): State<Simulator>, Query(q): Query<CartQuery>) -> Html<String> {
    let st = s.state.lock().expect("lock");
    let Some(r) = st.checkout.get(&q.id_cart) else {
        return Html("<p>Carrello sconosciuto</p>".into());
    };
    let righe: String = r
        .payment_notices
        .iter()
        .map(|a| {
            format!(
                "<li>{} — {} EUR</li>",
                a.description,
                Importo::from_cents(a.amount).unwrap_or(Importo::ZERO)
            )
        })
        .collect();
    Html(format!(
        "<!DOCTYPE html><html lang=\"it\"><head><meta charset=\"utf-8\"><title>pagoPA Checkout - simulatore</title></head><body>\
<h1>Checkout</h1><ul>{righe}</ul><form method=\"post\" action=\"/checkout/pay/{id}\">\
<button name=\"esito\" value=\"paga\">Paga</button> <button name=\"esito\" value=\"annulla\">Annulla</button></form></body></html>",
        id = q.id_cart
    ))
}

#[derive(serde::Deserialize)]
pub(super) struct Scelta {
    esito: String,
}

pub(super) async fn paga(
    State(s): State<Simulator>,
    Path(id): Path<String>,
    Form(f): Form<Scelta>,
) -> Response {
    let urls = s
        .state
        .lock()
        .expect("lock")
        .checkout
        .get(&id)
        .map(|r| r.return_urls.clone());
    let Some(u) = urls else {
        return Html("<p>Carrello sconosciuto</p>").into_response();
    };
    // As Checkout does: back to the ente's page for the outcome.
    let dest = match s.paga_checkout(&id, f.esito == "paga").await {
        Ok(r) if r.is_empty() => u.return_cancel_url,
        Ok(_) => u.return_ok_url,
        Err(e) => {
            tracing::warn!(error = %e, "simulated Checkout: payment failed");
            u.return_error_url
        }
    };
    (StatusCode::SEE_OTHER, [(header::LOCATION, dest)]).into_response()
}

impl Simulator {
    /// The payer on Checkout's page of cart `id_or_url` (the id, or the URL Checkout
    /// answered): pays every notice through the new model, or cancels. The amount and
    /// receiptId of each notice paid.
    pub async fn paga_checkout(
        &self,
        id_or_url: &str,
        pagato: bool,
    ) -> Result<Vec<(Importo, String)>, String> {
        let id = id_or_url.split("idCart=").nth(1).unwrap_or(id_or_url);
        let r = self
            .state
            .lock()
            .expect("lock")
            .checkout
            .get(id)
            .cloned()
            .ok_or("carrello sconosciuto")?;
        if !pagato {
            return Ok(Vec::new());
        }
        let mut out = Vec::new();
        for a in &r.payment_notices {
            out.push(
                self.psp_paga_avviso_nuovo_modello(&a.fiscal_code, &a.notice_number)
                    .await?,
            );
        }
        Ok(out)
    }
}
