//! The Checkout client (pagoPA "Checkout - EC API" v2): `POST /carts` with 1–5 notices,
//! answered with a 302 to pagoPA's payment page. The payer pays there; each notice then
//! reaches the gateway as paVerifyPaymentNotice → paGetPayment → paSendRT, like a notice
//! paid at a PSP. Bounded in time, journaled (`OUT`, operation `checkoutCarts`), with the
//! `Ocp-Apim-Subscription-Key`.

use crate::journal::Journal;
use crate::store::JournalEntry;
use bytes::Bytes;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use std::time::{Duration, Instant};

pub const CALLS: &str = "pagopa_gateway_checkout_calls_total";

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
    carts: reqwest::Url,
    return_url: String,
    enti_wisp: Vec<String>,
    http: reqwest::Client,
    subscription_key: Option<String>,
    timeout: Duration,
    journal: Option<Journal>,
}

#[derive(Clone, Default)]
pub struct CheckoutClient {
    inner: Option<Arc<Inner>>,
}

/// The largest error body kept.
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
        let carts = reqwest::Url::parse(&format!("{}/carts", url.trim_end_matches('/')))
            .map_err(|e| anyhow::anyhow!("checkout.url: {e}"))?;
        let http = crate::http_esterno::client(c, &carts, k.ca.as_deref(), "checkout")?;
        Ok(CheckoutClient {
            inner: Some(Arc::new(Inner {
                carts,
                return_url: k.return_url.clone(),
                enti_wisp: k.enti_wisp.clone(),
                http,
                subscription_key: k.subscription_key.clone(),
                timeout: Duration::from_millis(k.timeout_ms),
                journal,
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
        let mut req = i
            .http
            .post(i.carts.clone())
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body.clone());
        if let Some(k) = &i.subscription_key {
            req = req.header("ocp-apim-subscription-key", k);
        }
        let started = Instant::now();
        let exchange = async {
            let mut resp = req
                .send()
                .await
                .map_err(|e| CheckoutError::Transport(crate::http_esterno::causa(&e)))?;
            let status = resp.status().as_u16();
            let location = resp
                .headers()
                .get(reqwest::header::LOCATION)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            // An error body past the bound is not worth reading.
            let buf = crate::http_esterno::corpo(&mut resp, MAX_BODY)
                .await
                .unwrap_or_default();
            Ok::<_, CheckoutError>((status, location, buf))
        };
        let result = match tokio::time::timeout(i.timeout, exchange).await {
            Ok(r) => r,
            Err(_) => Err(CheckoutError::Transport(format!(
                "nessuna risposta entro {:?}",
                i.timeout
            ))),
        };
        let outcome = match &result {
            Ok((302, Some(_), _)) => "OK".to_owned(),
            Ok((s, _, _)) => format!("HTTP_{s}"),
            Err(_) => "TRANSPORT".to_owned(),
        };
        metrics::counter!(CALLS, "outcome" => outcome.clone()).increment(1);
        if let Some(j) = &i.journal {
            let (status, response) = match &result {
                Ok((s, loc, b)) => (
                    Some(i64::from(*s)),
                    Bytes::from(match loc {
                        Some(l) => format!("Location: {l}\n\n{}", String::from_utf8_lossy(b)),
                        None => String::from_utf8_lossy(b).into_owned(),
                    }),
                ),
                Err(_) => (None, Bytes::new()),
            };
            j.record(JournalEntry {
                at: time::OffsetDateTime::now_utc(),
                direction: "OUT",
                operation: "checkoutCarts".into(),
                id_dominio: r.payment_notices.first().map(|a| a.fiscal_code.clone()),
                iuv: None,
                ccp: Some(r.id_cart.clone()).filter(|c| c.len() <= 35),
                id_psp: None,
                outcome,
                http_status: status,
                duration_us: i64::try_from(started.elapsed().as_micros()).unwrap_or(i64::MAX),
                request: Bytes::from(body),
                response,
            });
        }
        let (status, location, body) = result?;
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
