//! What the clients of pagoPA's REST APIs share (FdR, Checkout, Biz Events): one [`Api`] per
//! service, an HTTP/1.1 client that follows no redirect, trusts the platform's roots or one
//! private CA, goes through `nodo.proxy` when one is set (never through one from the
//! environment), bounds the connection with `nodo.connect_timeout_ms` and each exchange with
//! the service's timeout and a body size, sends the `Ocp-Apim-Subscription-Key`, and
//! journals every exchange (`OUT`) with what it received.

use crate::journal::Journal;
use crate::store::JournalEntry;
use bytes::{Bytes, BytesMut};
use std::path::Path;
use std::time::{Duration, Instant};

pub use crate::metrics::PAGOPA_REST_CALLS as CALLS;

/// One pagoPA REST service.
pub struct Api {
    base: reqwest::Url,
    http: reqwest::Client,
    subscription_key: Option<String>,
    timeout: Duration,
    journal: Option<Journal>,
}

/// Where an exchange goes in the journal.
pub struct Voce<'a> {
    pub operation: &'static str,
    pub id_dominio: Option<&'a str>,
    pub iuv: Option<&'a str>,
    pub ccp: Option<&'a str>,
}

/// What came back.
pub struct Risposta {
    pub status: u16,
    pub location: Option<String>,
    pub body: Bytes,
}

/// The configuration of one service (`fdr`, `checkout`, `biz_events`).
pub struct Servizio<'a> {
    pub what: &'a str,
    pub url: &'a str,
    pub ca: Option<&'a Path>,
    pub subscription_key: Option<&'a str>,
    pub timeout_ms: u64,
}

impl Api {
    pub fn new(
        c: &crate::config::Config,
        s: &Servizio<'_>,
        journal: Option<Journal>,
    ) -> anyhow::Result<Api> {
        // A trailing slash, so relative joins keep the base path.
        let base = reqwest::Url::parse(&format!("{}/", s.url.trim_end_matches('/')))
            .map_err(|e| anyhow::anyhow!("{}.url: {e}", s.what))?;
        let mut http = reqwest::Client::builder()
            .http1_only()
            .connect_timeout(Duration::from_millis(c.nodo.connect_timeout_ms))
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy();
        if let Some(p) = &c.nodo.proxy {
            http = http.proxy(
                reqwest::Proxy::all(p.as_str()).map_err(|e| anyhow::anyhow!("nodo.proxy: {e}"))?,
            );
        }
        match base.scheme() {
            "https" => {
                if let Some(ca) = s.ca {
                    let mut roots = rustls::RootCertStore::empty();
                    for c in crate::tls::load_certs(ca)? {
                        roots.add(c)?;
                    }
                    http = http.use_preconfigured_tls(
                        rustls::ClientConfig::builder()
                            .with_root_certificates(roots)
                            .with_no_client_auth(),
                    );
                }
                http = http.https_only(true);
            }
            "http" => {}
            other => anyhow::bail!("{}.url: scheme {other} is neither https nor http", s.what),
        }
        Ok(Api {
            base,
            http: http.build()?,
            subscription_key: s.subscription_key.map(str::to_owned),
            timeout: Duration::from_millis(s.timeout_ms),
            journal,
        })
    }

    /// `GET <base>/<path>?<query>`.
    pub async fn get(
        &self,
        path: &str,
        query: &[(&str, String)],
        max: usize,
        voce: Voce<'_>,
    ) -> Result<Risposta, String> {
        let mut url = self.base.join(path).map_err(|e| format!("{path}: {e}"))?;
        if !query.is_empty() {
            url.query_pairs_mut()
                .extend_pairs(query.iter().map(|(k, v)| (*k, v.as_str())));
        }
        let req = self
            .http
            .get(url.clone())
            .header(reqwest::header::ACCEPT, "application/json");
        self.send(req, Bytes::from(format!("GET {url}")), max, voce)
            .await
    }

    /// `POST <base>/<path>` with a JSON body.
    pub async fn post_json(
        &self,
        path: &str,
        body: Vec<u8>,
        max: usize,
        voce: Voce<'_>,
    ) -> Result<Risposta, String> {
        let url = self.base.join(path).map_err(|e| format!("{path}: {e}"))?;
        let body = Bytes::from(body);
        let req = self
            .http
            .post(url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body.clone());
        self.send(req, body, max, voce).await
    }

    /// One exchange, bounded as a whole by the timeout and its body by `max` bytes, counted
    /// and journaled; `Err` when nothing usable came back (network, timeout, size).
    async fn send(
        &self,
        req: reqwest::RequestBuilder,
        journaled: Bytes,
        max: usize,
        voce: Voce<'_>,
    ) -> Result<Risposta, String> {
        let req = match &self.subscription_key {
            Some(k) => req.header("ocp-apim-subscription-key", k),
            None => req,
        };
        let started = Instant::now();
        let exchange = async {
            let mut resp = req.send().await.map_err(|e| causa(&e))?;
            let status = resp.status().as_u16();
            let location = resp
                .headers()
                .get(reqwest::header::LOCATION)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            let mut body = BytesMut::new();
            while let Some(chunk) = resp.chunk().await.map_err(|e| causa(&e))? {
                if body.len() + chunk.len() > max {
                    return Err(format!("risposta oltre {max} byte"));
                }
                body.extend_from_slice(&chunk);
            }
            Ok(Risposta {
                status,
                location,
                body: body.freeze(),
            })
        };
        let result = match tokio::time::timeout(self.timeout, exchange).await {
            Ok(r) => r,
            Err(_) => Err(format!("nessuna risposta entro {:?}", self.timeout)),
        };
        let outcome = match &result {
            Ok(r) if (200..300).contains(&r.status) || r.status == 302 => "OK".to_owned(),
            Ok(r) => format!("HTTP_{}", r.status),
            Err(_) => "TRANSPORT".to_owned(),
        };
        metrics::counter!(CALLS, "operation" => voce.operation, "outcome" => outcome.clone())
            .increment(1);
        if let Some(j) = &self.journal {
            let (status, response) = match &result {
                Ok(r) => (Some(i64::from(r.status)), r.body.clone()),
                Err(_) => (None, Bytes::new()),
            };
            j.record(JournalEntry {
                at: time::OffsetDateTime::now_utc(),
                direction: "OUT",
                operation: voce.operation.to_owned(),
                id_dominio: voce.id_dominio.map(str::to_owned),
                iuv: voce.iuv.map(str::to_owned),
                ccp: voce.ccp.filter(|c| c.len() <= 35).map(str::to_owned),
                id_psp: None,
                outcome,
                http_status: status,
                duration_us: i64::try_from(started.elapsed().as_micros()).unwrap_or(i64::MAX),
                request: journaled,
                response,
            });
        }
        result
    }
}

/// The error with its causes (reqwest's own message names only the URL).
fn causa(e: &reqwest::Error) -> String {
    let mut msg = e.to_string();
    let mut cause = std::error::Error::source(e);
    while let Some(c) = cause {
        msg.push_str(": ");
        msg.push_str(&c.to_string());
        cause = c.source();
    }
    msg
}
