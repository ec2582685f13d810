//! The Biz Events client (pagoPA "Biz Events Service" v1): a receipt asked for by the ente,
//! IUV and IUR (the new model's receiptId) when it never arrived with paSendRT, today's
//! replacement for nodoChiediCopiaRT. Through [`crate::http_esterno::Api`]: bounded, keyed,
//! journaled (operation `bizRicevuta`).

use crate::http_esterno::{Api, Risposta, Servizio, Voce};
use crate::journal::Journal;
use bytes::Bytes;
use std::sync::Arc;

#[derive(Debug, thiserror::Error)]
pub enum BizError {
    #[error("biz_events.url non configurato")]
    NotConfigured,
    #[error("Biz Events non raggiungibile: {0}")]
    Transport(String),
    #[error("Biz Events: HTTP {status}: {body}")]
    Http { status: u16, body: String },
}

impl BizError {
    pub fn retryable(&self) -> bool {
        match self {
            Self::Transport(_) => true,
            Self::Http { status, .. } => *status >= 500 || *status == 429,
            Self::NotConfigured => false,
        }
    }
}

#[derive(Clone, Default)]
pub struct BizEventsClient {
    api: Option<Arc<Api>>,
}

/// A receipt is a few KiB; this bounds a hostile answer.
const MAX_BODY: usize = 1 << 20;

impl BizEventsClient {
    pub fn from_config(
        c: &crate::config::Config,
        journal: Option<Journal>,
    ) -> anyhow::Result<Self> {
        let b = &c.biz_events;
        let Some(url) = &b.url else {
            return Ok(Self::default());
        };
        let servizio = Servizio {
            what: "biz_events",
            url,
            ca: b.ca.as_deref(),
            subscription_key: b.subscription_key.as_deref(),
            timeout_ms: b.timeout_ms,
        };
        Ok(BizEventsClient {
            api: Some(Arc::new(Api::new(c, &servizio, journal)?)),
        })
    }

    pub fn is_configured(&self) -> bool {
        self.api.is_some()
    }

    /// The receipt of (`org`, `iuv`, `iur`) as Biz Events answers it (JSON), `None` when
    /// it has none.
    pub async fn ricevuta(
        &self,
        org: &str,
        iuv: &str,
        iur: &str,
    ) -> Result<Option<Bytes>, BizError> {
        let api = self.api.as_deref().ok_or(BizError::NotConfigured)?;
        let seg = |s: &str| -> String {
            s.bytes()
                .filter(|b| b.is_ascii_alphanumeric() || *b == b'-' || *b == b'_')
                .map(char::from)
                .collect()
        };
        let path = format!(
            "organizations/{}/receipts/{}/paymentoptions/{}",
            seg(org),
            seg(iur),
            seg(iuv)
        );
        let voce = Voce {
            operation: "bizRicevuta",
            id_dominio: Some(org),
            iuv: Some(iuv),
            ccp: Some(iur),
        };
        let Risposta { status, body, .. } = api
            .get(&path, &[], MAX_BODY, voce)
            .await
            .map_err(BizError::Transport)?;
        match status {
            200 => Ok(Some(body)),
            404 => Ok(None),
            s => Err(BizError::Http {
                status: s,
                body: String::from_utf8_lossy(&body).chars().take(300).collect(),
            }),
        }
    }
}
