//! The FdR REST client (pagoPA "Flussi di Rendicontazione", organizations API v1): the
//! flows published for an ente, each revision's header and its payments page by page.
//! It replaces the SOAP primitives (nodoChiediElencoFlussiRendicontazione /
//! nodoChiediFlussoRendicontazione, deprecated since 30 June 2026) when `fdr.url` is set.
//! Every call is bounded in time and size, sends the `Ocp-Apim-Subscription-Key`, and is
//! journaled (`OUT`, operation `fdr…`) with the JSON it received.

pub mod modello;

use crate::journal::Journal;
use crate::store::JournalEntry;
use bytes::Bytes;
use modello::{Flusso, FlussoPubblicato, Pagamento, Pagina};
use std::sync::Arc;
use std::time::{Duration, Instant};

pub const CALLS: &str = "pagopa_gateway_fdr_calls_total";

/// Why an FdR call failed.
#[derive(Debug, thiserror::Error)]
pub enum FdrError {
    #[error("fdr.url non configurato")]
    NotConfigured,
    #[error("FdR non raggiungibile: {0}")]
    Transport(String),
    /// 404: the flow (or the organization) is not known.
    #[error("FdR: non trovato ({0})")]
    NotFound(String),
    #[error("FdR: HTTP {status}: {body}")]
    Http { status: u16, body: String },
    #[error("FdR: risposta illeggibile: {0}")]
    Illeggibile(String),
    /// More pages or payments than the configured bounds allow.
    #[error("FdR: {0}")]
    TroppoGrande(String),
}

impl FdrError {
    /// Worth retrying later (network, 5xx, 429).
    pub fn retryable(&self) -> bool {
        match self {
            Self::Transport(_) => true,
            Self::Http { status, .. } => *status >= 500 || *status == 429,
            _ => false,
        }
    }
}

struct Inner {
    base: reqwest::Url,
    http: reqwest::Client,
    subscription_key: Option<String>,
    timeout: Duration,
    page_size: u32,
    max_payments: usize,
    journal: Option<Journal>,
}

/// A cheap-to-clone FdR client; unconfigured, every call is `NotConfigured`.
#[derive(Clone, Default)]
pub struct FdrClient {
    inner: Option<Arc<Inner>>,
}

/// The largest JSON page read (a 1,000-payment page is ~250 KiB).
const MAX_BODY: usize = 8 << 20;

impl FdrClient {
    pub fn from_config(
        c: &crate::config::Config,
        journal: Option<Journal>,
    ) -> anyhow::Result<Self> {
        let f = &c.fdr;
        let Some(url) = &f.url else {
            return Ok(Self::default());
        };
        let base = crate::http_esterno::base(url, "fdr")?;
        let http = crate::http_esterno::client(c, &base, f.ca.as_deref(), "fdr")?;
        Ok(FdrClient {
            inner: Some(Arc::new(Inner {
                base,
                http,
                subscription_key: f.subscription_key.clone(),
                timeout: Duration::from_millis(f.timeout_ms),
                page_size: f.page_size.clamp(1, 1000),
                max_payments: f.max_payments,
                journal,
            })),
        })
    }

    pub fn is_configured(&self) -> bool {
        self.inner.is_some()
    }

    fn inner(&self) -> Result<&Inner, FdrError> {
        self.inner.as_deref().ok_or(FdrError::NotConfigured)
    }

    /// Every flow published for `org` (all pages).
    pub async fn pubblicati(&self, org: &str) -> Result<Vec<FlussoPubblicato>, FdrError> {
        let i = self.inner()?;
        let path = format!("organizations/{org}/fdrs");
        i.pagine(&path, org, "fdrElencoFlussi", 10_000).await
    }

    /// One revision of a flow with all its payments.
    pub async fn flusso(
        &self,
        org: &str,
        p: &FlussoPubblicato,
    ) -> Result<(Flusso, Vec<Pagamento>), FdrError> {
        let i = self.inner()?;
        let psp = modello::psp_del_flusso(&p.fdr).ok_or_else(|| {
            FdrError::Illeggibile(format!("{}: nessun PSP nell'identificativo", p.fdr))
        })?;
        let path = format!(
            "organizations/{org}/fdrs/{}/revisions/{}/psps/{psp}",
            p.fdr, p.revision
        );
        let body = i.get(&path, &[], org, "fdrFlusso").await?;
        let flusso: Flusso =
            serde_json::from_slice(&body).map_err(|e| FdrError::Illeggibile(e.to_string()))?;
        let pagamenti = i
            .pagine(
                &format!("{path}/payments"),
                org,
                "fdrPagamenti",
                i.max_payments,
            )
            .await?;
        Ok((flusso, pagamenti))
    }
}

impl Inner {
    /// Reads every page of a paginated list, up to `max` items.
    async fn pagine<T: serde::de::DeserializeOwned>(
        &self,
        path: &str,
        org: &str,
        operation: &str,
        max: usize,
    ) -> Result<Vec<T>, FdrError> {
        let mut out = Vec::new();
        let mut page = 1i64;
        loop {
            let q = [
                ("page", page.to_string()),
                ("size", self.page_size.to_string()),
            ];
            let body = self.get(path, &q, org, operation).await?;
            let p: Pagina<T> =
                serde_json::from_slice(&body).map_err(|e| FdrError::Illeggibile(e.to_string()))?;
            let vuota = p.data.is_empty();
            out.extend(p.data);
            if out.len() > max {
                return Err(FdrError::TroppoGrande(format!(
                    "{path}: oltre {max} elementi"
                )));
            }
            let ultima = p.metadata.tot_page.is_none_or(|t| page >= t);
            if ultima || vuota {
                return Ok(out);
            }
            page += 1;
        }
    }

    async fn get(
        &self,
        path: &str,
        query: &[(&str, String)],
        org: &str,
        operation: &str,
    ) -> Result<Bytes, FdrError> {
        let mut url = self
            .base
            .join(path)
            .map_err(|e| FdrError::Transport(format!("{path}: {e}")))?;
        url.query_pairs_mut()
            .extend_pairs(query.iter().map(|(k, v)| (*k, v.as_str())));
        let mut req = self
            .http
            .get(url.clone())
            .header(reqwest::header::ACCEPT, "application/json");
        if let Some(k) = &self.subscription_key {
            req = req.header("ocp-apim-subscription-key", k);
        }
        let started = Instant::now();
        let exchange = async {
            let mut resp = req
                .send()
                .await
                .map_err(|e| FdrError::Transport(crate::http_esterno::causa(&e)))?;
            let status = resp.status().as_u16();
            let body = crate::http_esterno::corpo(&mut resp, MAX_BODY)
                .await
                .map_err(FdrError::TroppoGrande)?;
            Ok::<_, FdrError>((status, body))
        };
        let result = match tokio::time::timeout(self.timeout, exchange).await {
            Ok(r) => r,
            Err(_) => Err(FdrError::Transport(format!(
                "nessuna risposta entro {:?}",
                self.timeout
            ))),
        };
        let (status, body) = match &result {
            Ok((s, b)) => (Some(i64::from(*s)), b.clone()),
            Err(_) => (None, Bytes::new()),
        };
        let outcome = match (&result, status) {
            (Ok(_), Some(200)) => "OK".to_owned(),
            (Ok(_), Some(s)) => format!("HTTP_{s}"),
            (Err(e), _) => format!("{e:?}")
                .split('(')
                .next()
                .unwrap_or("ERR")
                .to_owned(),
            _ => "ERR".to_owned(),
        };
        metrics::counter!(CALLS, "operation" => operation.to_owned(), "outcome" => outcome.clone())
            .increment(1);
        if let Some(j) = &self.journal {
            j.record(JournalEntry {
                at: time::OffsetDateTime::now_utc(),
                direction: "OUT",
                operation: operation.to_owned(),
                id_dominio: Some(org.to_owned()),
                iuv: None,
                ccp: None,
                id_psp: None,
                outcome,
                http_status: status,
                duration_us: i64::try_from(started.elapsed().as_micros()).unwrap_or(i64::MAX),
                request: Bytes::from(format!("GET {url}")),
                response: body,
            });
        }
        let (status, body) = result?;
        match status {
            200 => Ok(body),
            404 => Err(FdrError::NotFound(path.to_owned())),
            s => Err(FdrError::Http {
                status: s,
                body: String::from_utf8_lossy(&body).chars().take(300).collect(),
            }),
        }
    }
}
