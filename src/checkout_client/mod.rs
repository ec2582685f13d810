//! The Checkout client (pagoPA "Checkout - EC API" v2): `POST /carts` with 1–5 notices,
//! answered with a 302 to pagoPA's payment page. The payer pays there; each notice then
//! reaches the gateway as paVerifyPaymentNotice → paGetPayment → paSendRT, like a notice
//! paid at a PSP. Through [`crate::http_esterno::Api`]: bounded, keyed, journaled (operation
//! `checkoutCarts`).

use crate::http_esterno::{Api, Risposta, Servizio, Voce};
use crate::journal::Journal;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// CartRequestV2.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RichiestaCarrello {
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub email_notice: Option<String>,
    pub payment_notices: Vec<Avviso>,
    pub return_urls: ReturnUrls,
    pub id_cart: String,
    #[serde(rename = "allCCP")]
    pub all_ccp: bool,
}

/// PaymentNotice: the amount in euro cents.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Avviso {
    pub notice_number: String,
    pub fiscal_code: String,
    pub amount: i64,
    pub company_name: String,
    pub description: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReturnUrls {
    pub return_ok_url: String,
    pub return_cancel_url: String,
    pub return_error_url: String,
    pub return_waiting_url: String,
}

#[derive(Debug, thiserror::Error)]
pub enum CheckoutError {
    #[error("checkout.url non configurato")]
    NotConfigured,
    #[error("Checkout non raggiungibile: {0}")]
    Transport(String),
    /// 4xx: the cart itself was refused (ProblemJson's detail).
    #[error("Checkout ha rifiutato il carrello (HTTP {status}): {detail}")]
    Rifiutato { status: u16, detail: String },
    /// 5xx, or a 302 without a usable Location.
    #[error("Checkout: {0}")]
    Risposta(String),
}

impl CheckoutError {
    /// Worth trying again later (the payer can simply retry: nothing was held).
    pub fn transitorio(&self) -> bool {
        matches!(self, Self::Transport(_) | Self::Risposta(_))
    }
}

struct Inner {
    api: Api,
    return_url: String,
    enti_wisp: Vec<String>,
}

#[derive(Clone, Default)]
pub struct CheckoutClient {
    inner: Option<Arc<Inner>>,
}

/// The largest answer read (a 302, or a ProblemJson).
const MAX_BODY: usize = 64 << 10;

impl CheckoutClient {
    pub fn from_config(
        c: &crate::config::Config,
        journal: Option<Journal>,
    ) -> anyhow::Result<Self> {
        let k = &c.checkout;
        let Some(url) = &k.url else {
            return Ok(Self::default());
        };
        let servizio = Servizio {
            what: "checkout",
            url,
            ca: k.ca.as_deref(),
            subscription_key: k.subscription_key.as_deref(),
            timeout_ms: k.timeout_ms,
        };
        Ok(CheckoutClient {
            inner: Some(Arc::new(Inner {
                api: Api::new(c, &servizio, journal)?,
                return_url: k.return_url.clone(),
                enti_wisp: k.enti_wisp.clone(),
            })),
        })
    }

    pub fn is_configured(&self) -> bool {
        self.inner.is_some()
    }

    /// Whether a cart of these enti goes to Checkout: configured, and none of them kept
    /// on WISP (one cart, one route).
    pub fn per_enti<'a>(&self, mut enti: impl Iterator<Item = &'a str>) -> bool {
        self.inner
            .as_deref()
            .is_some_and(|i| !enti.any(|e| i.enti_wisp.iter().any(|w| w == e)))
    }

    /// Where the payer comes back to, for each outcome.
    pub fn return_urls(&self, id_carrello: &str) -> ReturnUrls {
        let base = self.inner.as_deref().map_or("", |i| i.return_url.as_str());
        let sep = if base.contains('?') { '&' } else { '?' };
        let url = |esito: &str| format!("{base}{sep}idCarrello={id_carrello}&esito={esito}");
        ReturnUrls {
            return_ok_url: url("OK"),
            return_cancel_url: url("ANNULLATO"),
            return_error_url: url("ERRORE"),
            return_waiting_url: url("IN_ATTESA"),
        }
    }

    /// Posts the cart; the payment page's URL (the 302's Location).
    pub async fn crea_carrello(&self, r: &RichiestaCarrello) -> Result<String, CheckoutError> {
        let i = self.inner.as_deref().ok_or(CheckoutError::NotConfigured)?;
        let body = serde_json::to_vec(r).map_err(|e| CheckoutError::Risposta(e.to_string()))?;
        let voce = Voce {
            operation: "checkoutCarts",
            id_dominio: r.payment_notices.first().map(|a| a.fiscal_code.as_str()),
            iuv: None,
            ccp: Some(&r.id_cart),
        };
        let Risposta {
            status,
            location,
            body,
        } = i
            .api
            .post_json("carts", body, MAX_BODY, voce)
            .await
            .map_err(CheckoutError::Transport)?;
        let detail = || {
            serde_json::from_slice::<serde_json::Value>(&body)
                .ok()
                .and_then(|v| v["detail"].as_str().map(str::to_owned))
                .unwrap_or_else(|| String::from_utf8_lossy(&body).chars().take(300).collect())
        };
        match (status, location) {
            (302 | 303, Some(l)) if l.starts_with("https://") || l.starts_with("http://") => Ok(l),
            (302 | 303, _) => Err(CheckoutError::Risposta("302 senza Location".into())),
            (s @ 400..=499, _) => Err(CheckoutError::Rifiutato {
                status: s,
                detail: detail(),
            }),
            (s, _) => Err(CheckoutError::Risposta(format!("HTTP {s}: {}", detail()))),
        }
    }
}
