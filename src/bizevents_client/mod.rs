//! The Biz Events client (pagoPA "Biz Events Service" v1): a receipt asked for by the ente,
//! IUV and IUR (the new model's receiptId) when it never arrived with paSendRT, today's
//! replacement for nodoChiediCopiaRT. Bounded, keyed (`Ocp-Apim-Subscription-Key`) and
//! journaled (`OUT`, operation `bizRicevuta`).

use crate::journal::Journal;
use crate::store::JournalEntry;
use bytes::Bytes;
use std::sync::Arc;
use std::time::{Duration, Instant};

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

struct Inner {
    base: reqwest::Url,
    http: reqwest::Client,
    subscription_key: Option<String>,
    timeout: Duration,
    journal: Option<Journal>,
}

#[derive(Clone, Default)]
pub struct BizEventsClient {
    inner: Option<Arc<Inner>>,
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
        let base = crate::http_esterno::base(url, "biz_events")?;
        let http = crate::http_esterno::client(c, &base, b.ca.as_deref(), "biz_events")?;
        Ok(BizEventsClient {
            inner: Some(Arc::new(Inner {
                base,
                http,
                subscription_key: b.subscription_key.clone(),
                timeout: Duration::from_millis(b.timeout_ms),
                journal,
            })),
        })
    }

    pub fn is_configured(&self) -> bool {
        self.inner.is_some()
    }

    /// The receipt of (`org`, `iuv`, `iur`) as Biz Events answers it (JSON), `None` when
    /// it has none.
    pub async fn ricevuta(
        &self,
        org: &str,
        iuv: &str,
        iur: &str,
    ) -> Result<Option<Bytes>, BizError> {
        let i = self.inner.as_deref().ok_or(BizError::NotConfigured)?;
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
        let url = i
            .base
            .join(&path)
            .map_err(|e| BizError::Transport(format!("{path}: {e}")))?;
        let mut req = i
            .http
            .get(url.clone())
            .header(reqwest::header::ACCEPT, "application/json")
            .header("x-request-id", uuid::Uuid::new_v4().to_string());
        if let Some(k) = &i.subscription_key {
            req = req.header("ocp-apim-subscription-key", k);
        }
        let started = Instant::now();
        let exchange = async {
            let mut resp = req
                .send()
                .await
                .map_err(|e| BizError::Transport(crate::http_esterno::causa(&e)))?;
            let status = resp.status().as_u16();
            let body = crate::http_esterno::corpo(&mut resp, MAX_BODY)
                .await
                .map_err(BizError::Transport)?;
            Ok::<_, BizError>((status, body))
        };
        let result = match tokio::time::timeout(i.timeout, exchange).await {
            Ok(r) => r,
            Err(_) => Err(BizError::Transport(format!(
                "nessuna risposta entro {:?}",
                i.timeout
            ))),
        };
        if let Some(j) = &i.journal {
            let (status, body, outcome) = match &result {
                Ok((s, b)) => (
                    Some(i64::from(*s)),
                    b.clone(),
                    if *s == 200 {
                        "OK".into()
                    } else {
                        format!("HTTP_{s}")
                    },
                ),
                Err(_) => (None, Bytes::new(), "TRANSPORT".to_owned()),
            };
            j.record(JournalEntry {
                at: time::OffsetDateTime::now_utc(),
                direction: "OUT",
                operation: "bizRicevuta".into(),
                id_dominio: Some(org.to_owned()),
                iuv: Some(iuv.to_owned()),
                ccp: Some(iur.to_owned()).filter(|c| c.len() <= 35),
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
            200 => Ok(Some(body)),
            404 => Ok(None),
            s => Err(BizError::Http {
                status: s,
                body: String::from_utf8_lossy(&body).chars().take(300).collect(),
            }),
        }
    }
}
