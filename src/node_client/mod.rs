//! What the gateway calls on the Nodo (NodoPerPa, SANP 2.x): HTTPS with our client
//! certificate and/or the `Ocp-Apim-Subscription-Key`, the Nodo's certificate checked
//! against a configured CA, connect and call timeouts, pooled keep-alive connections that
//! expire when idle, an optional HTTP(S) proxy, and every exchange in the message journal
//! (direction `OUT`). The HTTP client is `reqwest` on our rustls configuration. Retrying is
//! the outbox's business: this layer says whether a failure is worth retrying
//! ([`NodoError::retryable`]).

pub mod ops;

use crate::journal::Journal;
use crate::soap::{FaultBean, read_envelope, write_envelope};
use crate::store::JournalEntry;
use crate::xml::Limits;
use bytes::{Bytes, BytesMut};
use std::sync::Arc;
use std::time::{Duration, Instant};

pub use crate::metrics::NODO_CALL_DURATION as LATENCY;
pub use crate::metrics::NODO_CALLS as CALLS;

#[derive(Debug, thiserror::Error)]
pub enum NodoError {
    /// No answer: connection refused or reset, TLS failure, timeout. Whether the Nodo acted
    /// is unknown.
    #[error("Nodo unreachable: {0}")]
    Transport(String),
    #[error("Nodo answered HTTP {0}")]
    Http(u16),
    /// A PPT_* fault, from the response's faultBean or a SOAP Fault's detail.
    #[error("Nodo fault {}: {}", .0.fault_code, .0.fault_string)]
    Fault(Box<FaultBean>),
    /// An answer we cannot read as the operation's response.
    #[error("unreadable Nodo response: {0}")]
    Invalid(String),
    #[error("no Nodo configured (nodo.url)")]
    NotConfigured,
}

impl NodoError {
    /// Transient failures, worth another attempt after the SANP backoff. Faults that
    /// describe the request itself (syntax, semantics, unknown dominio) are not.
    pub fn retryable(&self) -> bool {
        match self {
            NodoError::Transport(_) | NodoError::NotConfigured => true,
            NodoError::Http(s) => *s >= 500 || *s == 429 || *s == 408,
            NodoError::Fault(f) => matches!(
                f.fault_code.as_str(),
                "PPT_SYSTEM_ERROR"
                    | "PPT_SUPERAMENTOSOGLIA"
                    | "PPT_CANALE_TIMEOUT"
                    | "PPT_CANALE_IRRAGGIUNGIBILE"
                    | "PPT_CANALE_INDISPONIBILE"
                    | "PPT_STAZIONE_INT_PA_TIMEOUT"
                    | "PPT_RT_NONDISPONIBILE"
            ),
            NodoError::Invalid(_) => false,
        }
    }

    pub fn fault_code(&self) -> Option<&str> {
        match self {
            NodoError::Fault(f) => Some(&f.fault_code),
            _ => None,
        }
    }

    /// For the journal and metrics: the faultCode or the kind of failure.
    pub fn outcome(&self) -> String {
        match self {
            NodoError::Transport(_) => "TRANSPORT".into(),
            NodoError::Http(s) => format!("HTTP_{s}"),
            NodoError::Fault(f) => f.fault_code.clone(),
            NodoError::Invalid(_) => "INVALID_RESPONSE".into(),
            NodoError::NotConfigured => "NOT_CONFIGURED".into(),
        }
    }
}

/// Keys of a call, for the journal.
#[derive(Debug, Default, Clone)]
pub struct Chiave {
    pub id_dominio: Option<String>,
    pub iuv: Option<String>,
    pub ccp: Option<String>,
    pub id_psp: Option<String>,
}

impl Chiave {
    /// The keys of one RPT (no PSP).
    pub fn rpt(dom: &str, iuv: &str, ccp: &str) -> Chiave {
        Chiave {
            id_dominio: Some(dom.into()),
            iuv: Some(iuv.into()),
            ccp: Some(ccp.into()),
            id_psp: None,
        }
    }

    /// Only the dominio (flows, pending lists).
    pub fn dominio(dom: &str) -> Chiave {
        Chiave {
            id_dominio: Some(dom.into()),
            ..Chiave::default()
        }
    }
}

/// Idle keep-alive connections kept per Nodo host.
const MAX_IDLE: usize = 32;

struct Inner {
    url: reqwest::Url,
    http: reqwest::Client,
    subscription_key: Option<String>,
    read_timeout: Duration,
    journal: Option<Journal>,
}

/// Who we are toward the Nodo: the intermediary, its station and the station password.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stazione {
    pub id_intermediario_pa: String,
    pub id_stazione: String,
    pub password: String,
}

/// Where the station comes from. The gateway reads it from the registry, the one place an
/// operator changes it (`PUT /api/v1/intermediario`), through the 5 s cache, so every
/// instance uses what the PA endpoint checks; a client with no store (tests, tools) uses
/// the configuration's.
#[derive(Clone)]
enum FonteStazione {
    Fissa(Stazione),
    Registro {
        store: crate::store::Store,
        cache: Arc<crate::store::cache::RegistryCache>,
    },
}

/// A cheap-to-clone client for one Nodo endpoint.
#[derive(Clone)]
pub struct NodoClient {
    inner: Option<Arc<Inner>>,
    stazione: FonteStazione,
}

impl NodoClient {
    /// From the configuration; without `nodo.url` every call fails with `NotConfigured`.
    pub fn from_config(
        c: &crate::config::Config,
        journal: Option<Journal>,
    ) -> anyhow::Result<Self> {
        let base = NodoClient {
            inner: None,
            stazione: FonteStazione::Fissa(Stazione {
                id_intermediario_pa: c.intermediario.id_intermediario_pa.clone(),
                id_stazione: c.intermediario.id_stazione.clone(),
                password: c.intermediario.password.clone(),
            }),
        };
        let Some(url) = &c.nodo.url else {
            return Ok(base);
        };
        let url = reqwest::Url::parse(url).map_err(|e| anyhow::anyhow!("nodo.url: {e}"))?;
        let mut http = reqwest::Client::builder()
            .http1_only()
            .tcp_nodelay(true)
            .connect_timeout(Duration::from_millis(c.nodo.connect_timeout_ms))
            .pool_max_idle_per_host(MAX_IDLE)
            // The Nodo's gateways drop idle connections on their own schedule; closing
            // ours first avoids writing a request into a connection already gone.
            .pool_idle_timeout(Duration::from_secs(c.nodo.idle_timeout_seconds))
            .redirect(reqwest::redirect::Policy::none());
        http = match url.scheme() {
            "https" => {
                let dev = &c.pa_soap.dev_pki_dir;
                let ca = c.nodo.ca.clone().unwrap_or_else(|| dev.join("ca.pem"));
                let (cert, key) = match (&c.nodo.client_cert, &c.nodo.client_key) {
                    (Some(c), Some(k)) => (c.clone(), k.clone()),
                    _ => (dev.join("client.pem"), dev.join("client.key")),
                };
                http.use_preconfigured_tls(client_tls(&ca, &cert, &key)?)
                    .https_only(true)
            }
            "http" => http,
            other => anyhow::bail!("nodo.url: scheme {other} is neither https nor http"),
        };
        // Only the configured proxy: never one picked up from the environment.
        http = match &c.nodo.proxy {
            Some(p) => http.proxy(
                reqwest::Proxy::all(p.as_str()).map_err(|e| anyhow::anyhow!("nodo.proxy: {e}"))?,
            ),
            None => http.no_proxy(),
        };
        Ok(NodoClient {
            inner: Some(Arc::new(Inner {
                url,
                http: http.build()?,
                subscription_key: c.nodo.subscription_key.clone(),
                read_timeout: Duration::from_millis(c.nodo.read_timeout_ms),
                journal,
            })),
            ..base
        })
    }

    /// The station read from the registry at each call (cached 5 s) instead of the
    /// configuration.
    pub fn with_registry(
        mut self,
        store: crate::store::Store,
        cache: Arc<crate::store::cache::RegistryCache>,
    ) -> Self {
        self.stazione = FonteStazione::Registro { store, cache };
        self
    }

    /// The station to name in the next call.
    pub async fn stazione(&self) -> Result<Stazione, NodoError> {
        match &self.stazione {
            FonteStazione::Fissa(s) => Ok(s.clone()),
            FonteStazione::Registro { store, cache } => {
                let i = cache
                    .intermediario(store)
                    .await
                    .map_err(|e| NodoError::Transport(format!("reading the intermediary: {e}")))?;
                Ok(Stazione {
                    id_intermediario_pa: i.id_intermediario_pa,
                    id_stazione: i.id_stazione,
                    password: i.password,
                })
            }
        }
    }

    pub fn is_configured(&self) -> bool {
        self.inner.is_some()
    }

    /// The SANP retry slot: the longest a call may take.
    pub fn slot(&self) -> Duration {
        self.inner
            .as_ref()
            .map_or(Duration::from_secs(30), |i| i.read_timeout)
    }

    /// Posts one operation and returns the response body element's XML. A SOAP Fault
    /// becomes [`NodoError::Fault`] (its faultBean detail, or PPT_SYSTEM_ERROR).
    pub async fn call(
        &self,
        operation: &str,
        header: Option<&str>,
        body: &str,
        key: Chiave,
    ) -> Result<String, NodoError> {
        let inner = self.inner.as_ref().ok_or(NodoError::NotConfigured)?;
        let request = Bytes::from(write_envelope(header, body));
        let started = Instant::now();
        let result = inner.post(operation, request.clone()).await;
        let (status, response) = match &result {
            Ok((s, b)) => (Some(i64::from(*s)), b.clone()),
            Err(_) => (None, Bytes::new()),
        };
        let parsed = result.and_then(|(s, b)| interpret(operation, s, &b));
        let outcome = match &parsed {
            // A response may carry its fault inside (esito KO): journal that code.
            Ok(xml) => fault_code_in(xml).unwrap_or_else(|| "OK".to_owned()),
            Err(e) => e.outcome(),
        };
        let elapsed = started.elapsed();
        metrics::counter!(CALLS, "operation" => operation.to_owned(), "outcome" => label_of(&outcome))
            .increment(1);
        metrics::histogram!(LATENCY, "operation" => operation.to_owned())
            .record(elapsed.as_secs_f64());
        if let Some(j) = &inner.journal {
            j.record(JournalEntry {
                at: time::OffsetDateTime::now_utc(),
                direction: "OUT",
                operation: operation.to_owned(),
                id_dominio: key.id_dominio,
                iuv: key.iuv,
                ccp: key.ccp,
                id_psp: key.id_psp,
                outcome,
                http_status: status,
                duration_us: i64::try_from(elapsed.as_micros()).unwrap_or(i64::MAX),
                request,
                response,
            });
        }
        if let Err(e) = &parsed {
            tracing::warn!(operation, error = %e, "Nodo call failed");
        }
        parsed
    }
}

/// The response body element, or the fault it carries at SOAP level.
fn interpret(operation: &str, status: u16, body: &[u8]) -> Result<String, NodoError> {
    let env = match read_envelope(body, Limits::MESSAGE) {
        Ok(e) => e,
        Err(_) if status != 200 => return Err(NodoError::Http(status)),
        Err(e) => return Err(NodoError::Invalid(e.to_string())),
    };
    if env.body.name == "Fault" {
        return Err(NodoError::Fault(Box::new(soap_fault_bean(env.body.xml))));
    }
    if status != 200 {
        return Err(NodoError::Http(status));
    }
    // SANP 2 answers `<op>Risposta`; paForNode `<op>Res` (V1) or `<op>Response` (V2).
    let risposta = env
        .body
        .name
        .strip_prefix(operation)
        .is_some_and(|s| matches!(s, "Risposta" | "Res" | "Response"));
    if !risposta {
        return Err(NodoError::Invalid(format!(
            "expected {operation}Risposta, got {}",
            env.body.name
        )));
    }
    Ok(env.body.xml.to_owned())
}

/// The faultCode of a response's `fault` child (unqualified, per the WSDL schemas).
/// A fault code as a metric label: the Nodo's codes are a short list of upper-case words,
/// anything else (a broken or hostile answer) is one `OTHER`, so the label set stays bounded.
fn label_of(outcome: &str) -> String {
    let plausible = (1..=40).contains(&outcome.len())
        && outcome
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b == b'_' || b.is_ascii_digit());
    if plausible {
        outcome.to_owned()
    } else {
        "OTHER".to_owned()
    }
}

fn fault_code_in(xml: &str) -> Option<String> {
    let start = xml.find("<faultCode>")? + "<faultCode>".len();
    let len = xml[start..].find("</faultCode>")?;
    Some(xml[start..start + len].trim().to_owned())
}

/// The faultBean in a SOAP Fault's detail, by local names; PPT_SYSTEM_ERROR with the
/// SOAP faultstring when the detail carries none.
fn soap_fault_bean(xml: &str) -> FaultBean {
    use quick_xml::events::Event;
    let mut r = quick_xml::Reader::from_str(xml);
    let (mut code, mut string, mut id, mut descr, mut soap_string) = (None, None, None, None, None);
    let mut current = String::new();
    loop {
        match r.read_event() {
            Ok(Event::Start(e)) => current = e.local_name().as_ref().to_owned(),
            Ok(Event::Text(t)) => {
                let v = t.xml10_content().trim().to_owned();
                if v.is_empty() {
                    continue;
                }
                match current.as_str() {
                    "faultCode" => code = Some(v),
                    "faultString" => string = Some(v),
                    "id" => id = Some(v),
                    "description" => descr = Some(v),
                    "faultstring" => soap_string = Some(v),
                    _ => {}
                }
            }
            Ok(Event::End(_)) => current.clear(),
            Ok(Event::Eof) | Err(_) => break,
            _ => {}
        }
    }
    FaultBean {
        fault_code: code.unwrap_or_else(|| "PPT_SYSTEM_ERROR".into()),
        fault_string: string
            .or(soap_string)
            .unwrap_or_else(|| "SOAP Fault".into()),
        id: id.unwrap_or_else(|| "NodoDeiPagamentiSPC".into()),
        description: descr,
        serial: None,
        original_fault_code: None,
        original_fault_string: None,
        original_description: None,
    }
}

impl Inner {
    /// One exchange, bounded as a whole by the read timeout (connecting included) and in
    /// size by the SOAP message limit.
    async fn post(&self, operation: &str, body: Bytes) -> Result<(u16, Bytes), NodoError> {
        let mut req = self
            .http
            .post(self.url.clone())
            .header(reqwest::header::CONTENT_TYPE, "text/xml; charset=utf-8")
            .header("soapaction", format!("\"{operation}\""))
            .body(body);
        if let Some(k) = &self.subscription_key {
            req = req.header("ocp-apim-subscription-key", k);
        }
        let exchange = async {
            let mut resp = req.send().await.map_err(transport)?;
            let status = resp.status().as_u16();
            let max = Limits::MESSAGE.max_bytes;
            let mut buf = BytesMut::new();
            while let Some(chunk) = resp.chunk().await.map_err(transport)? {
                if buf.len() + chunk.len() > max {
                    return Err(NodoError::Transport(format!(
                        "response larger than {max} bytes"
                    )));
                }
                buf.extend_from_slice(&chunk);
            }
            Ok::<_, NodoError>((status, buf.freeze()))
        };
        tokio::time::timeout(self.read_timeout, exchange)
            .await
            .map_err(|_| {
                NodoError::Transport(format!("no answer within {:?}", self.read_timeout))
            })?
    }
}

/// The error with its causes (reqwest's own message names only the URL).
fn transport(e: reqwest::Error) -> NodoError {
    let mut msg = e.to_string();
    let mut cause = std::error::Error::source(&e);
    while let Some(c) = cause {
        msg.push_str(": ");
        msg.push_str(&c.to_string());
        cause = c.source();
    }
    NodoError::Transport(msg)
}

/// Trusts only `ca` for the Nodo and presents our certificate.
pub fn client_tls(
    ca: &std::path::Path,
    cert: &std::path::Path,
    key: &std::path::Path,
) -> anyhow::Result<rustls::ClientConfig> {
    use rustls::pki_types::PrivateKeyDer;
    use rustls::pki_types::pem::PemObject;
    let mut roots = rustls::RootCertStore::empty();
    for c in crate::tls::load_certs(ca)? {
        roots.add(c)?;
    }
    let chain = crate::tls::load_certs(cert)?;
    let key =
        PrivateKeyDer::from_pem_file(key).map_err(|e| anyhow::anyhow!("{}: {e}", key.display()))?;
    Ok(rustls::ClientConfig::builder()
        .with_root_certificates(roots)
        .with_client_auth_cert(chain, key)?)
}
