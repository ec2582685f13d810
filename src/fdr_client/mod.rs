//! The FdR REST client (pagoPA "Flussi di Rendicontazione", organizations API v1): the
//! flows published for an ente, each revision's header and its payments page by page.
//! It replaces the SOAP primitives (nodoChiediElencoFlussiRendicontazione /
//! nodoChiediFlussoRendicontazione, deprecated since 30 June 2026) when `fdr.url` is set.
//! Every call goes through [`crate::http_esterno::Api`]: bounded, keyed, journaled
//! (operations `fdrElencoFlussi`, `fdrFlusso`, `fdrPagamenti`).

pub mod modello;

use crate::http_esterno::{Api, Servizio, Voce};
use crate::journal::Journal;
use bytes::Bytes;
use modello::{Flusso, FlussoPubblicato, Pagamento, Pagina};
use std::sync::Arc;

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
    api: Api,
    page_size: u32,
    max_payments: usize,
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
        let servizio = Servizio {
            what: "fdr",
            url,
            ca: f.ca.as_deref(),
            subscription_key: f.subscription_key.as_deref(),
            timeout_ms: f.timeout_ms,
        };
        Ok(FdrClient {
            inner: Some(Arc::new(Inner {
                api: Api::new(c, &servizio, journal)?,
                page_size: f.page_size.clamp(1, 1000),
                max_payments: f.max_payments,
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
        operation: &'static str,
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
        operation: &'static str,
    ) -> Result<Bytes, FdrError> {
        let voce = Voce {
            operation,
            id_dominio: Some(org),
            iuv: None,
            ccp: None,
        };
        let r = self
            .api
            .get(path, query, MAX_BODY, voce)
            .await
            .map_err(FdrError::Transport)?;
        match r.status {
            200 => Ok(r.body),
            404 => Err(FdrError::NotFound(path.to_owned())),
            s => Err(FdrError::Http {
                status: s,
                body: String::from_utf8_lossy(&r.body).chars().take(300).collect(),
            }),
        }
    }
}
