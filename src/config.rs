//! Configuration: built-in development defaults, then an optional TOML file, then
//! `PAGOPA_GATEWAY_*` environment variables (`__` separates sections, e.g.
//! `PAGOPA_GATEWAY_DATABASE__URL`). Every key is documented in README.md.

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Bearer token of the administrator. Unset: read from (or generated into)
    /// `<data_dir>/admin-token`.
    pub admin_token: Option<String>,
    /// Where SQLite, the generated admin token and mail files live.
    pub data_dir: PathBuf,
    pub database: DatabaseConfig,
    pub rest: RestConfig,
    pub pa_soap: PaSoapConfig,
    pub intermediario: IntermediarioConfig,
    pub journal: JournalConfig,
    pub nodo: NodoConfig,
    pub fdr: FdrConfig,
    pub checkout: CheckoutConfig,
    pub biz_events: BizEventsConfig,
    pub outbox: OutboxConfig,
    pub mail: MailConfig,
    pub log: LogConfig,
    #[serde(default)]
    pub retention: RetentionConfig,
}

/// How long each kind of data is kept (the journal's is `journal.retention_days`). Checked
/// at start and every six hours; deleted in short batches so payments go on meanwhile.
/// Unset: kept for ever. See README, "Retention", for the legal minimums.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetentionConfig {
    /// Raw bytes of receipts applied or refused this many days ago (their parsed facts stay:
    /// positions, reconciliation, statistics). At least [`MINIMO_LEGALE_GIORNI`].
    pub rt_raw_days: Option<u32>,
    /// Raw bytes of reporting flows stored this many days ago (their payments stay). At
    /// least [`MINIMO_LEGALE_GIORNI`].
    pub flussi_raw_days: Option<u32>,
    /// Import jobs and their per-line reports.
    pub import_report_days: Option<u32>,
    /// `.eml` files written by `mail.transport = "file"`.
    pub mail_days: Option<u32>,
    /// Rows deleted per statement.
    pub batch: u32,
}

/// Ten years: receipts and reporting flows are accounting records of the ente (art. 2220
/// codice civile), and the intermediary keeps them on its behalf.
pub const MINIMO_LEGALE_GIORNI: u32 = 3650;

impl Default for RetentionConfig {
    fn default() -> Self {
        RetentionConfig {
            rt_raw_days: None,
            flussi_raw_days: None,
            import_report_days: Some(400),
            mail_days: Some(90),
            batch: 1000,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodoConfig {
    /// The Nodo's NodoPerPa SOAP endpoint. Unset: nothing is sent (outbound work waits in
    /// the outbox until it is configured).
    pub url: Option<String>,
    /// CA bundle that signs the Nodo's server certificate. Unset: the dev CA.
    pub ca: Option<PathBuf>,
    /// Our client certificate and key toward the Nodo. Unset: the dev client certificate.
    pub client_cert: Option<PathBuf>,
    pub client_key: Option<PathBuf>,
    /// Sent as `Ocp-Apim-Subscription-Key` when set (the "nuova connettività").
    pub subscription_key: Option<String>,
    pub connect_timeout_ms: u64,
    /// How long one call may take, connecting included; also the SANP retry slot
    /// (wait = slot × (2^k − 1)).
    pub read_timeout_ms: u64,
    /// A keep-alive connection unused this long is closed.
    pub idle_timeout_seconds: u64,
    /// HTTP(S) proxy toward the Nodo (`http://host:port`; HTTPS goes through CONNECT).
    /// Unset: direct, whatever the environment says.
    pub proxy: Option<String>,
}

/// The FdR REST API (Flussi di Rendicontazione, organizations v1). Set: the reporting
/// flows are read from it instead of the SOAP primitives.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FdrConfig {
    /// Base URL, e.g. `https://api.platform.pagopa.it/fdr-org/service/v1`.
    pub url: Option<String>,
    /// A private CA to trust instead of the platform's roots (the simulator's).
    pub ca: Option<PathBuf>,
    /// Sent as `Ocp-Apim-Subscription-Key`.
    pub subscription_key: Option<String>,
    /// How long one call may take.
    pub timeout_ms: u64,
    /// Items per page asked for (1–1,000).
    pub page_size: u32,
    /// A flow with more payments than this is refused (memory bound).
    pub max_payments: usize,
}

/// pagoPA Checkout (EC API v2). Set: portal carts go to Checkout (`POST /carts`) instead of
/// WISP (nodoInviaCarrelloRPT), except for the enti listed in `enti_wisp`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckoutConfig {
    /// Base URL, e.g. `https://api.platform.pagopa.it/checkout/ec/v2`.
    pub url: Option<String>,
    /// A private CA to trust instead of the platform's roots (the simulator's).
    pub ca: Option<PathBuf>,
    /// Sent as `Ocp-Apim-Subscription-Key`.
    pub subscription_key: Option<String>,
    pub timeout_ms: u64,
    /// The portal page the payer comes back to; `?idCarrello=…&esito=OK|ANNULLATO|ERRORE|IN_ATTESA`
    /// is appended.
    pub return_url: String,
    /// Enti whose carts still go through WISP (Checkout is the default for every other).
    pub enti_wisp: Vec<String>,
}

/// pagoPA Biz Events (v1). Set: a receipt a reporting flow reports but that never arrived
/// is asked for there, by ente, IUV and IUR.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BizEventsConfig {
    /// Base URL, e.g. `https://api.platform.pagopa.it/bizevents/service/v1`.
    pub url: Option<String>,
    pub ca: Option<PathBuf>,
    pub subscription_key: Option<String>,
    pub timeout_ms: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutboxConfig {
    /// Worker tasks per instance.
    pub workers: u32,
    /// How long a claimed job is held before another instance may take it over.
    pub lease_seconds: u32,
    /// Attempts before a job becomes a dead letter (SANP: at most 5).
    pub max_attempts: u32,
    /// Idle poll interval.
    pub poll_ms: u64,
    /// An RPT without RT for this long is checked with nodoChiediStatoRPT.
    pub recovery_after_minutes: u32,
    /// Reporting flows are fetched for every ente this often (0: only on demand).
    pub flussi_every_minutes: u32,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MailConfig {
    /// `file` (writes `.eml` files under `<data_dir>/mail`) or `smtp`.
    pub transport: String,
    pub from: String,
    pub smtp_host: String,
    pub smtp_port: u16,
    /// `none` (plain, for a local relay or a test sink), `starttls` or `tls`.
    pub smtp_tls: String,
    pub smtp_user: Option<String>,
    pub smtp_password: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JournalConfig {
    /// Journal entries older than this are deleted (checked at start and every 6 hours).
    pub retention_days: u32,
    /// Memory for entries waiting to be written (MiB); beyond it entries are dropped and
    /// counted. At the rate the PA endpoint sustains the queue stays far below it.
    #[serde(default = "journal_queue_mib")]
    pub queue_mib: u32,
}

fn upload_limit_bytes() -> u64 {
    256 << 20
}

fn analyze_every_seconds() -> u64 {
    10
}

fn journal_queue_mib() -> u32 {
    256
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseConfig {
    /// `sqlite://PATH` (embedded) or `postgres://USER@HOST:PORT/DB` (production). Unset:
    /// `sqlite://<data_dir>/gateway.db`.
    pub url: Option<String>,
    pub max_connections: u32,
    /// Longest wait for a free connection of the pool.
    pub acquire_timeout_ms: u64,
    /// Longest wait for a lock (PostgreSQL `lock_timeout`, SQLite busy timeout); beyond it
    /// the statement fails and the request answers 503 / PAA_SYSTEM_ERROR.
    pub lock_timeout_ms: u64,
    /// PostgreSQL: how often the gateway looks for tables whose planner statistics went
    /// stale (autovacuum's rule, the server's settings) and analyses them; 0: never.
    #[serde(default = "analyze_every_seconds")]
    pub analyze_every_seconds: u64,
}

impl DatabaseConfig {
    pub fn attese(&self) -> crate::store::Attese {
        crate::store::Attese {
            max_connections: self.max_connections,
            acquire: std::time::Duration::from_millis(self.acquire_timeout_ms),
            lock: std::time::Duration::from_millis(self.lock_timeout_ms),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RestConfig {
    pub listen: SocketAddr,
    /// Origins allowed by CORS (the portal's). Empty: no CORS headers.
    pub cors_origins: Vec<String>,
    /// Largest accepted request body (dovuti CSV uploads included).
    pub body_limit_bytes: usize,
    /// Largest file the receipts import takes: it is spooled to a temporary file
    /// (`TMPDIR`) as it arrives and read from there, never held in memory whole.
    #[serde(default = "upload_limit_bytes")]
    pub upload_limit_bytes: u64,
    /// Notice lookups and receipt downloads allowed per client address and minute.
    pub lookups_per_minute: u32,
    /// Carts and spontaneous payments started per client address and minute.
    pub carts_per_minute: u32,
    /// Reverse proxies in front of the REST port: from these peers `X-Forwarded-For` names
    /// the client (for the rate limits); from any other peer it is ignored.
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// Connections open at once on the REST port; beyond, new ones wait unaccepted.
    pub max_connections: u32,
    /// The Portale Pagamenti's cookies (cart, last payment) carry `Secure`: set it when the
    /// portal is served over HTTPS (a TLS proxy in front), as in production.
    #[serde(default)]
    pub cookie_secure: bool,
    /// An idle connection, or one whose request headers are not all in, is closed after
    /// this long.
    pub header_read_timeout_ms: u64,
    /// Citizen tokens from the portal: required issuer and audience (both set to enable).
    pub jwt_issuer: Option<String>,
    pub jwt_audience: Option<String>,
    /// HS256 shared secret (≥ 32 bytes), and/or the portal's RS256 public key (PEM).
    pub jwt_hs256_secret: Option<String>,
    pub jwt_rs256_public_key: Option<PathBuf>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PaSoapConfig {
    pub listen: SocketAddr,
    /// Server certificate chain (PEM). Unset together with `key` and `client_ca`: a
    /// development PKI generated once under `dev_pki_dir`.
    pub cert: Option<PathBuf>,
    pub key: Option<PathBuf>,
    /// CA bundle the Nodo's client certificate must chain to.
    pub client_ca: Option<PathBuf>,
    /// If not empty, the client certificate subject must satisfy one of these
    /// distinguished names: each of a pin's attributes among the subject's, equal in value.
    pub client_subject_pins: Vec<crate::dn::Dn>,
    pub dev_pki_dir: PathBuf,
    /// An activation (paaAttivaRPT) without an RT after this long expires: the position
    /// becomes payable again. A later RT is still applied.
    pub activation_timeout_minutes: u32,
    /// Requests handled at once; more are refused immediately with PAA_SYSTEM_ERROR.
    pub max_in_flight: u32,
    /// A PA request not answered within this long (the database stalled) is answered
    /// PAA_SYSTEM_ERROR: below the Nodo's own 7 s, so it learns to retry.
    pub deadline_ms: u64,
    /// Connections open at once on the PA listeners (each: mTLS and proxy); beyond, new
    /// ones wait unaccepted. Apart from the REST port's, so a flood there cannot take them.
    pub max_connections: u32,
    /// A TLS handshake, an idle connection, or request headers not all in, are cut after
    /// this long.
    pub header_read_timeout_ms: u64,
    /// Plain-HTTP listener for a TLS-terminating reverse proxy that verifies the Nodo's
    /// client certificate itself. Unset: no such listener.
    pub proxy_listen: Option<SocketAddr>,
    /// Peer addresses of the reverse proxies; requests from anywhere else are refused.
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// Header in which the proxy passes the verified client certificate subject.
    pub client_subject_header: String,
    /// The pagoPA service catalogue entries answered by paDemandPaymentNotice (a payment the
    /// payer starts at a PSP): each `id_servizio` (5 characters) of `id_dominio` creates a
    /// dovuto of `tipo_dovuto`, which must allow spontaneous payment and have a fixed amount.
    pub servizi: Vec<ServizioConfig>,
}

/// One service of the catalogue (`pa_soap.servizi`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServizioConfig {
    pub id_servizio: String,
    pub id_dominio: String,
    pub tipo_dovuto: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IntermediarioConfig {
    /// identificativoIntermediarioPA (the intermediary's fiscal code); seeds the registry
    /// on first start.
    pub id_intermediario_pa: String,
    pub id_stazione: String,
    pub password: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogConfig {
    /// tracing filter directive, e.g. `info,sqlx=warn`. `RUST_LOG` wins when set.
    pub filter: String,
    /// `text` (human-readable) or `json` (one object per line, with the current span's
    /// fields, for a log collector). Either way colours only on a terminal.
    #[serde(default)]
    pub format: LogFormat,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            admin_token: None,
            data_dir: PathBuf::from("./data"),
            database: DatabaseConfig {
                url: None,
                max_connections: 16,
                acquire_timeout_ms: 3_000,
                lock_timeout_ms: 5_000,
                analyze_every_seconds: analyze_every_seconds(),
            },
            rest: RestConfig {
                listen: "127.0.0.1:8080".parse().expect("literal"),
                cors_origins: Vec::new(),
                body_limit_bytes: 64 * 1024 * 1024,
                upload_limit_bytes: upload_limit_bytes(),
                lookups_per_minute: 30,
                carts_per_minute: 10,
                trusted_proxies: Vec::new(),
                max_connections: 384,
                cookie_secure: false,
                header_read_timeout_ms: 10_000,
                jwt_issuer: None,
                jwt_audience: None,
                jwt_hs256_secret: None,
                jwt_rs256_public_key: None,
            },
            pa_soap: PaSoapConfig {
                listen: "127.0.0.1:8443".parse().expect("literal"),
                cert: None,
                key: None,
                client_ca: None,
                client_subject_pins: Vec::new(),
                dev_pki_dir: PathBuf::from("./certs/dev"),
                activation_timeout_minutes: 60,
                max_in_flight: 512,
                deadline_ms: 5_000,
                max_connections: 192,
                header_read_timeout_ms: 10_000,
                proxy_listen: None,
                trusted_proxies: Vec::new(),
                client_subject_header: "x-ssl-client-s-dn".into(),
                servizi: Vec::new(),
            },
            intermediario: IntermediarioConfig {
                // A syntactically valid fiscal code, for development only.
                id_intermediario_pa: "80012345676".into(),
                id_stazione: "80012345676_01".into(),
                password: "devPassword1".into(),
            },
            journal: JournalConfig {
                retention_days: 90,
                queue_mib: journal_queue_mib(),
            },
            nodo: NodoConfig {
                url: None,
                ca: None,
                client_cert: None,
                client_key: None,
                subscription_key: None,
                connect_timeout_ms: 5_000,
                read_timeout_ms: 30_000,
                idle_timeout_seconds: 50,
                proxy: None,
            },
            fdr: FdrConfig {
                url: None,
                ca: None,
                subscription_key: None,
                timeout_ms: 30_000,
                page_size: 1_000,
                max_payments: 200_000,
            },
            checkout: CheckoutConfig {
                url: None,
                ca: None,
                subscription_key: None,
                timeout_ms: 10_000,
                return_url: "http://localhost:8080/portale/esito".into(),
                enti_wisp: Vec::new(),
            },
            biz_events: BizEventsConfig {
                url: None,
                ca: None,
                subscription_key: None,
                timeout_ms: 15_000,
            },
            outbox: OutboxConfig {
                workers: 4,
                lease_seconds: 120,
                max_attempts: 5,
                poll_ms: 500,
                recovery_after_minutes: 30,
                flussi_every_minutes: 360,
            },
            mail: MailConfig {
                transport: "file".into(),
                from: "pagamenti@gateway.invalid".into(),
                smtp_host: "localhost".into(),
                smtp_port: 587,
                smtp_tls: "starttls".into(),
                smtp_user: None,
                smtp_password: None,
            },
            log: LogConfig {
                filter: "info,sqlx=warn".into(),
                format: LogFormat::Text,
            },
            retention: RetentionConfig::default(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("configuration file {0} not found")]
    MissingFile(PathBuf),
    #[error("invalid configuration: {0}")]
    Invalid(String),
}

impl RestConfig {
    pub fn listener(&self) -> crate::listener::Limiti {
        crate::listener::Limiti::new(self.max_connections, self.header_read_timeout_ms)
    }
}

impl PaSoapConfig {
    /// (server certificate, its key, the client CA), and whether they are the development
    /// PKI under `dev_pki_dir` (used unless all three are set).
    pub fn tls_files(&self) -> (PathBuf, PathBuf, PathBuf, bool) {
        match (&self.cert, &self.key, &self.client_ca) {
            (Some(c), Some(k), Some(a)) => (c.clone(), k.clone(), a.clone(), false),
            _ => {
                let dir = &self.dev_pki_dir;
                let f = |n: &str| dir.join(n);
                (f("server.pem"), f("server.key"), f("ca.pem"), true)
            }
        }
    }

    pub fn listener(&self) -> crate::listener::Limiti {
        crate::listener::Limiti::new(self.max_connections, self.header_read_timeout_ms)
    }
}

impl Config {
    /// The certificates whose expiry is watched (`pagopa_gateway_certificate_expiry_…`):
    /// the PA endpoint's server certificate and client CA, and our client certificate
    /// toward the Nodo when it is reached over HTTPS.
    pub fn certificati(&self) -> Vec<(&'static str, PathBuf)> {
        let (server, _, client_ca, _) = self.pa_soap.tls_files();
        let mut out = vec![("server", server), ("client_ca", client_ca)];
        if self
            .nodo
            .url
            .as_deref()
            .is_some_and(|u| u.starts_with("https:"))
        {
            let cert = self.nodo.client_cert.clone();
            out.push((
                "nodo_client",
                cert.unwrap_or_else(|| self.pa_soap.dev_pki_dir.join("client.pem")),
            ));
        }
        out
    }

    /// Loads defaults, then `file` (which must exist if given), then the environment.
    pub fn load(file: Option<&Path>) -> Result<Self, ConfigError> {
        let mut fig = Figment::from(Serialized::defaults(Config::default()));
        if let Some(f) = file {
            if !f.exists() {
                return Err(ConfigError::MissingFile(f.to_owned()));
            }
            fig = fig.merge(Toml::file_exact(f));
        }
        // PAGOPA_GATEWAY_CONFIG names the file itself (see the CLI), it is not a key.
        Self::from_figment(
            fig.merge(
                Env::prefixed("PAGOPA_GATEWAY_")
                    .ignore(&["config"])
                    .split("__"),
            ),
        )
    }

    fn from_figment(fig: Figment) -> Result<Self, ConfigError> {
        let cfg: Config = fig.extract().map_err(|e| {
            // figment names the key path ("for key `rest.listen`"); keep every error.
            ConfigError::Invalid(
                e.into_iter()
                    .map(|e| e.to_string())
                    .collect::<Vec<_>>()
                    .join("; "),
            )
        })?;
        cfg.validate()?;
        Ok(cfg)
    }

    fn validate(&self) -> Result<(), ConfigError> {
        let bad = |k: &str, why: &str| Err(ConfigError::Invalid(format!("key `{k}`: {why}")));
        if let Some(url) = &self.database.url
            && !(url.starts_with("sqlite:")
                || url.starts_with("postgres://")
                || url.starts_with("postgresql://"))
        {
            return bad(
                "database.url",
                "must start with sqlite:, postgres:// or postgresql://",
            );
        }
        if self.database.max_connections == 0 {
            return bad("database.max_connections", "must be at least 1");
        }
        if self.database.acquire_timeout_ms == 0 || self.database.lock_timeout_ms == 0 {
            return bad(
                "database.acquire_timeout_ms",
                "acquire_timeout_ms and lock_timeout_ms must be at least 1",
            );
        }
        if !(100..=60_000).contains(&self.pa_soap.deadline_ms) {
            return bad("pa_soap.deadline_ms", "between 100 and 60000");
        }
        let tls = [
            &self.pa_soap.cert,
            &self.pa_soap.key,
            &self.pa_soap.client_ca,
        ];
        if tls.iter().any(|p| p.is_some()) && !tls.iter().all(|p| p.is_some()) {
            return bad(
                "pa_soap.cert",
                "pa_soap.cert, pa_soap.key and pa_soap.client_ca go together",
            );
        }
        if let Some(t) = &self.admin_token
            && t.len() < 16
        {
            return bad("admin_token", "must be at least 16 characters");
        }
        if crate::model::IdDominio::parse(&self.intermediario.id_intermediario_pa).is_err() {
            return bad(
                "intermediario.id_intermediario_pa",
                "must be an 11-digit fiscal code",
            );
        }
        if !(8..=15).contains(&self.intermediario.password.len()) {
            return bad(
                "intermediario.password",
                "the station password has 8 to 15 characters",
            );
        }
        if self.pa_soap.proxy_listen.is_some() && self.pa_soap.trusted_proxies.is_empty() {
            return bad(
                "pa_soap.trusted_proxies",
                "pa_soap.proxy_listen needs the proxies' addresses",
            );
        }
        if axum::http::HeaderName::from_bytes(self.pa_soap.client_subject_header.as_bytes())
            .is_err()
        {
            return bad(
                "pa_soap.client_subject_header",
                "not a valid HTTP header name",
            );
        }
        if let Some(u) = &self.nodo.url
            && !(u.starts_with("https://") || u.starts_with("http://"))
        {
            return bad("nodo.url", "must be an http(s):// URL");
        }
        if [&self.nodo.client_cert, &self.nodo.client_key]
            .iter()
            .filter(|p| p.is_some())
            .count()
            == 1
        {
            return bad(
                "nodo.client_cert",
                "nodo.client_cert and nodo.client_key go together",
            );
        }
        if self.outbox.workers == 0 || self.outbox.lease_seconds == 0 {
            return bad(
                "outbox.workers",
                "workers and lease_seconds must be at least 1",
            );
        }
        if u64::from(self.outbox.lease_seconds) * 1000 < self.nodo.read_timeout_ms.saturating_mul(2)
        {
            // A lease shorter than a call to the Nodo lets another worker take the job in
            // hand and send it again; leases are renewed, but only while the holder lives.
            return bad(
                "outbox.lease_seconds",
                "must be at least twice nodo.read_timeout_ms",
            );
        }
        for (k, n, t) in [
            (
                "rest",
                self.rest.max_connections,
                self.rest.header_read_timeout_ms,
            ),
            (
                "pa_soap",
                self.pa_soap.max_connections,
                self.pa_soap.header_read_timeout_ms,
            ),
        ] {
            if n == 0 || t == 0 {
                return bad(
                    &format!("{k}.max_connections"),
                    "max_connections and header_read_timeout_ms must be at least 1",
                );
            }
        }
        if !(1..=10).contains(&self.outbox.max_attempts) {
            return bad("outbox.max_attempts", "between 1 and 10");
        }
        if !["file", "smtp"].contains(&self.mail.transport.as_str()) {
            return bad("mail.transport", "`file` or `smtp`");
        }
        if !["none", "starttls", "tls"].contains(&self.mail.smtp_tls.as_str()) {
            return bad("mail.smtp_tls", "`none`, `starttls` or `tls`");
        }
        if self.mail.from.parse::<lettre::message::Mailbox>().is_err() {
            return bad("mail.from", "not an email address");
        }
        if self
            .rest
            .jwt_hs256_secret
            .as_ref()
            .is_some_and(|s| s.len() < 32)
        {
            return bad("rest.jwt_hs256_secret", "at least 32 bytes");
        }
        if (self.rest.jwt_issuer.is_some() || self.rest.jwt_audience.is_some())
            && (self.rest.jwt_hs256_secret.is_none() && self.rest.jwt_rs256_public_key.is_none())
        {
            return bad(
                "rest.jwt_issuer",
                "citizen tokens need rest.jwt_hs256_secret or rest.jwt_rs256_public_key",
            );
        }
        if self.nodo.idle_timeout_seconds == 0 {
            return bad("nodo.idle_timeout_seconds", "must be at least 1");
        }
        if self.rest.lookups_per_minute == 0 {
            return bad("rest.lookups_per_minute", "must be at least 1");
        }
        if self.rest.carts_per_minute == 0 {
            return bad("rest.carts_per_minute", "must be at least 1");
        }
        if self.pa_soap.max_in_flight == 0 {
            return bad("pa_soap.max_in_flight", "must be at least 1");
        }
        if self.pa_soap.activation_timeout_minutes == 0 {
            return bad("pa_soap.activation_timeout_minutes", "must be at least 1");
        }
        if !(1..=16_384).contains(&self.journal.queue_mib) {
            return bad("journal.queue_mib", "must be 1 to 16384");
        }
        for (k, v) in [
            ("retention.rt_raw_days", self.retention.rt_raw_days),
            ("retention.flussi_raw_days", self.retention.flussi_raw_days),
        ] {
            if v.is_some_and(|d| d < MINIMO_LEGALE_GIORNI) {
                return bad(
                    k,
                    "below the legal minimum of 3650 days (10 years, art. 2220 c.c.)",
                );
            }
        }
        if self.retention.import_report_days == Some(0) || self.retention.mail_days == Some(0) {
            return bad(
                "retention.*_days",
                "must be at least 1 (unset: kept for ever)",
            );
        }
        if self.retention.batch == 0 || self.retention.batch > 100_000 {
            return bad("retention.batch", "must be between 1 and 100000");
        }
        if self.journal.retention_days == 0 {
            return bad("journal.retention_days", "must be at least 1");
        }
        if self.rest.body_limit_bytes < 1024 {
            return bad("rest.body_limit_bytes", "must be at least 1024");
        }
        if self.rest.upload_limit_bytes < 1024 {
            return bad("rest.upload_limit_bytes", "must be at least 1024");
        }
        Ok(())
    }

    pub fn database_url(&self) -> String {
        match &self.database.url {
            Some(u) => u.clone(),
            None => format!("sqlite://{}", self.data_dir.join("gateway.db").display()),
        }
    }

    pub fn uses_dev_pki(&self) -> bool {
        self.pa_soap.cert.is_none()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn from_toml(s: &str) -> Result<Config, ConfigError> {
        Config::from_figment(
            Figment::from(Serialized::defaults(Config::default())).merge(Toml::string(s)),
        )
    }

    #[test]
    fn defaults_are_the_documented_dev_setup() {
        let c = from_toml("").unwrap();
        assert_eq!(c.rest.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(c.pa_soap.listen.to_string(), "127.0.0.1:8443");
        assert_eq!(c.database_url(), "sqlite://./data/gateway.db");
        assert!(c.uses_dev_pki());
    }

    #[test]
    fn invalid_values_name_their_key() {
        let e = from_toml("[rest]\nlisten = \"nowhere\"")
            .unwrap_err()
            .to_string();
        assert!(e.contains("rest.listen"), "{e}");
        let e = from_toml("[database]\nurl = \"mysql://x\"")
            .unwrap_err()
            .to_string();
        assert!(e.contains("database.url"), "{e}");
        let e = from_toml("[pa_soap]\ncert = \"a.pem\"")
            .unwrap_err()
            .to_string();
        assert!(e.contains("pa_soap.cert"), "{e}");
        let e = from_toml("unknown_key = 1").unwrap_err().to_string();
        assert!(e.contains("unknown_key"), "{e}");
        let e = from_toml("admin_token = \"short\"")
            .unwrap_err()
            .to_string();
        assert!(e.contains("admin_token"), "{e}");
        // A lease shorter than twice a Nodo call (default 30 s) would let a job in hand
        // be taken and sent again.
        let e = from_toml("[outbox]\nlease_seconds = 59")
            .unwrap_err()
            .to_string();
        assert!(e.contains("outbox.lease_seconds"), "{e}");
        assert!(from_toml("[outbox]\nlease_seconds = 60").is_ok());
        // Subject pins are distinguished names, read at start.
        let e = from_toml("[pa_soap]\nclient_subject_pins = [\"CN=a,\"]")
            .unwrap_err()
            .to_string();
        assert!(e.contains("client_subject_pins"), "{e}");
        let c =
            from_toml("[pa_soap]\nclient_subject_pins = [\"CN=nodo\\\\, spa, O=PagoPA\"]").unwrap();
        assert_eq!(c.pa_soap.client_subject_pins[0].attributi().len(), 2);
    }
}
