//! Test application: the real `Application` on port 0, with its own data directory and a
//! fresh database (a SQLite file, or a PostgreSQL schema on the local server).

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use http_body_util::BodyExt;
use pagopa_gateway::app::Application;
use pagopa_gateway::config::Config;
use serde_json::{Value, json};
use sqlx::Connection;
use tower::ServiceExt;

pub const ADMIN: &str = "test-admin-token-0123456789";

#[derive(Debug, Clone, Copy)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Base URL of the test PostgreSQL (trust auth); `PAGOPA_TEST_PG_URL` overrides it.
pub fn pg_base_url() -> String {
    std::env::var("PAGOPA_TEST_PG_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

/// A database URL for a fresh, empty database of the backend.
pub async fn fresh_database(backend: Backend, dir: &std::path::Path) -> String {
    match backend {
        Backend::Sqlite => format!("sqlite://{}", dir.join("test.db").display()),
        Backend::Postgres => {
            let schema = format!("t_{}", uuid::Uuid::new_v4().simple());
            let mut c = sqlx::PgConnection::connect(&pg_base_url())
                .await
                .expect("PostgreSQL reachable (is it running?)");
            sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}")))
                .execute(&mut c)
                .await
                .expect("create schema");
            c.close().await.ok();
            format!("{}?options=-c%20search_path%3D{schema}", pg_base_url())
        }
    }
}

pub struct TestApp {
    pub app: Option<Application>,
    pub router: axum::Router,
    pub config: Config,
    store: pagopa_gateway::store::Store,
    /// Set by [`TestApp::start`]: the PA SOAP (mTLS) address and the shutdown trigger.
    pub soap: Option<std::net::SocketAddr>,
    /// The plain-HTTP proxy listener, when configured.
    pub proxy: Option<std::net::SocketAddr>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    /// Kept alive for the test: dropping it deletes the data directory.
    pub _dir: tempfile::TempDir,
}

#[allow(clippy::field_reassign_with_default)]
pub fn test_config(dir: &std::path::Path, db_url: String) -> Config {
    let mut c = Config::default();
    c.admin_token = Some(ADMIN.into());
    c.data_dir = dir.join("data");
    c.database.url = Some(db_url);
    c.database.max_connections = 5;
    c.rest.listen = "127.0.0.1:0".parse().unwrap();
    c.pa_soap.listen = "127.0.0.1:0".parse().unwrap();
    c.pa_soap.dev_pki_dir = dir.join("certs");
    // The gateway's own ANALYZE changes plans mid-test: on only where a test asks for it.
    c.database.analyze_every_seconds = 0;
    c
}

impl TestApp {
    pub async fn spawn(backend: Backend) -> TestApp {
        Self::spawn_with(backend, |_| {}).await
    }

    /// Like [`TestApp::spawn`], with the configuration adjusted by `adjust`.
    pub async fn spawn_with(backend: Backend, adjust: impl FnOnce(&mut Config)) -> TestApp {
        // Internal errors are logged, not returned: show them with the failing test.
        let filter = std::env::var("TEST_LOG").unwrap_or_else(|_| "error".into());
        let _ = tracing_subscriber::fmt()
            .with_test_writer()
            .with_env_filter(filter)
            .try_init();
        let dir = tempfile::tempdir().unwrap();
        let url = fresh_database(backend, dir.path()).await;
        let mut config = test_config(dir.path(), url);
        adjust(&mut config);
        let app = Application::build(config.clone())
            .await
            .expect("application builds");
        let router = pagopa_gateway::rest::router(app.state().clone());
        let store = app.state().store.clone();
        TestApp {
            app: Some(app),
            router,
            config,
            store,
            soap: None,
            proxy: None,
            stop: None,
            _dir: dir,
        }
    }

    pub fn store(&self) -> pagopa_gateway::store::Store {
        self.store.clone()
    }

    /// Runs the real listeners (REST and the mTLS PA endpoint) until the app is dropped.
    pub fn start(&mut self) -> std::net::SocketAddr {
        let app = self.app.take().expect("started once");
        let soap = app.soap_addr();
        self.proxy = app.proxy_addr();
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(app.run_until(async move {
            let _ = rx.await;
        }));
        self.soap = Some(soap);
        self.stop = Some(tx);
        soap
    }

    /// POSTs a SOAP envelope to the PA endpoint over mutual TLS with the dev Nodo client
    /// certificate; returns the HTTP status and body.
    pub async fn soap_post(&self, path: &str, soap_action: &str, envelope: &str) -> (u16, String) {
        soap_post_to(
            self.soap.expect("TestApp::start first"),
            &self.config.pa_soap.dev_pki_dir,
            path,
            soap_action,
            envelope,
        )
        .await
        .unwrap()
    }

    /// One request through the router, in process. Returns status, content type and body.
    pub async fn raw(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        content_type: &str,
        body: Vec<u8>,
    ) -> (StatusCode, String, Vec<u8>) {
        self.raw_with(method, path, token, &[], content_type, body)
            .await
    }

    /// `raw` with extra request headers.
    pub async fn raw_with(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        headers: &[(&str, &str)],
        content_type: &str,
        body: Vec<u8>,
    ) -> (StatusCode, String, Vec<u8>) {
        let mut req = Request::builder()
            .method(method)
            .uri(path)
            .header("content-type", content_type);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        if let Some(t) = token {
            req = req.header("authorization", format!("Bearer {t}"));
        }
        let resp = self
            .router
            .clone()
            .oneshot(req.body(Body::from(body)).unwrap())
            .await
            .unwrap();
        let status = resp.status();
        let ct = resp
            .headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default();
        let bytes = resp
            .into_body()
            .collect()
            .await
            .unwrap()
            .to_bytes()
            .to_vec();
        (status, ct, bytes)
    }

    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let body = body
            .map(|b| serde_json::to_vec(&b).unwrap())
            .unwrap_or_default();
        let (status, ct, bytes) = self
            .raw(method, path, token, "application/json", body)
            .await;
        if status.is_client_error() || status.is_server_error() {
            assert_eq!(
                ct,
                "application/problem+json",
                "errors are problem+json: {}",
                String::from_utf8_lossy(&bytes)
            );
        }
        let v = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes)
                .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into()))
        };
        (status, v)
    }

    pub async fn get(&self, path: &str, token: &str) -> (StatusCode, Value) {
        self.call(Method::GET, path, Some(token), None).await
    }

    pub async fn post(&self, path: &str, token: &str, body: Value) -> (StatusCode, Value) {
        self.call(Method::POST, path, Some(token), Some(body)).await
    }

    pub async fn put(&self, path: &str, token: &str, body: Value) -> (StatusCode, Value) {
        self.call(Method::PUT, path, Some(token), Some(body)).await
    }

    /// Registers an ente with one IBAN and a tipo dovuto `TARI` with a free amount.
    pub async fn seed_ente(&self, id_dominio: &str, codice_ipa: &str, segregation_code: u8) {
        let (s, b) = self
            .post(
                "/api/v1/enti",
                ADMIN,
                ente_json(id_dominio, codice_ipa, segregation_code),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{b}");
        let (s, b) = self
            .post(
                &format!("/api/v1/enti/{id_dominio}/tipi-dovuto"),
                ADMIN,
                tipo_json("TARI"),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{b}");
    }

    /// Issues an operator key for the ente and returns its secret.
    pub async fn operator_key(&self, id_dominio: &str) -> String {
        let (s, b) = self
            .post(
                &format!("/api/v1/enti/{id_dominio}/api-keys"),
                ADMIN,
                json!({"label": "test"}),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{b}");
        b["secret"].as_str().unwrap().to_owned()
    }
}

/// POSTs a SOAP envelope over mutual TLS with the dev Nodo certificate of `pki`; returns
/// the HTTP status and body, or the I/O error (e.g. the server is gone).
pub async fn soap_post_to(
    addr: std::net::SocketAddr,
    pki: &std::path::Path,
    path: &str,
    soap_action: &str,
    envelope: &str,
) -> std::io::Result<(u16, String)> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let tcp = tokio::net::TcpStream::connect(addr).await?;
    let mut tls = tokio_rustls::TlsConnector::from(nodo_client_config(pki))
        .connect(
            rustls::pki_types::ServerName::try_from("localhost").unwrap(),
            tcp,
        )
        .await?;
    let req = format!(
        "POST {path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: text/xml; charset=utf-8\r\nSOAPAction: \"{soap_action}\"\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{envelope}",
        envelope.len()
    );
    tls.write_all(req.as_bytes()).await?;
    let mut out = Vec::new();
    tls.read_to_end(&mut out).await?;
    let text = String::from_utf8_lossy(&out).into_owned();
    let status = text
        .get(9..12)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| std::io::Error::other(format!("no HTTP status in {text:?}")))?;
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    Ok((status, body))
}

/// rustls client config presenting the dev Nodo certificate and trusting the dev CA.
pub fn nodo_client_config(pki: &std::path::Path) -> std::sync::Arc<rustls::ClientConfig> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    pagopa_gateway::tls::install_crypto_provider();
    let mut roots = rustls::RootCertStore::empty();
    for c in CertificateDer::pem_file_iter(pki.join("ca.pem")).unwrap() {
        roots.add(c.unwrap()).unwrap();
    }
    let chain = CertificateDer::pem_file_iter(pki.join("client.pem"))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let key = PrivateKeyDer::from_pem_file(pki.join("client.key")).unwrap();
    std::sync::Arc::new(
        rustls::ClientConfig::builder()
            .with_root_certificates(roots)
            .with_client_auth_cert(chain, key)
            .unwrap(),
    )
}

/// A valid 11-digit fiscal code from 10 digits.
pub fn cf11(first10: &str) -> String {
    let sum: u32 = first10
        .bytes()
        .enumerate()
        .map(|(i, d)| {
            let d = u32::from(d - b'0');
            if i % 2 == 1 {
                if d * 2 > 9 { d * 2 - 9 } else { d * 2 }
            } else {
                d
            }
        })
        .sum();
    format!("{first10}{}", (10 - sum % 10) % 10)
}

pub const IBAN: &str = "IT60X0542811101000000123456";

pub fn ente_json(id_dominio: &str, codice_ipa: &str, segregation_code: u8) -> Value {
    json!({
        "id_dominio": id_dominio,
        "denominazione": format!("Comune di {codice_ipa}"),
        "codice_ipa": codice_ipa,
        "segregation_code": segregation_code,
        "contatti": {"email": "tributi@comune.example.it", "telefono": "041 000000", "sito_web": "https://comune.example.it"},
        "ibans": [IBAN],
    })
}

pub fn tipo_json(codice: &str) -> Value {
    json!({
        "codice": codice,
        "descrizione": "Tassa rifiuti",
        "iban": IBAN,
        "dati_specifici_riscossione": "9/0101105IM/",
        "politica_scadenza": "ACCETTA",
        "mora_fissa": "5.00",
        "interesse_annuo_bp": 250,
    })
}

pub fn dovuto_json(iud: &str, importo: &str) -> Value {
    json!({
        "iud": iud,
        "tipo_dovuto": "TARI",
        "pagatore": {"tipo": "F", "codice_fiscale": "RSSMRA85T10A562S", "anagrafica": "Mario Rossi", "email": "mario@example.org"},
        "importo": importo,
        "causale": "TARI 2026 rata unica",
        "data_scadenza": "2026-12-31",
    })
}

/// Generates `#[tokio::test]`s named `<name>::sqlite` and `<name>::postgres` for a body
/// that takes a fresh `TestApp`.
#[macro_export]
macro_rules! both_backends {
    ($(#[$m:meta])* $name:ident, |$app:ident| $body:block) => {
        $(#[$m])*
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            async fn run($app: $crate::helpers::TestApp) $body
            #[tokio::test]
            async fn sqlite() {
                run($crate::helpers::TestApp::spawn($crate::helpers::Backend::Sqlite).await).await
            }
            #[tokio::test]
            async fn postgres() {
                run($crate::helpers::TestApp::spawn($crate::helpers::Backend::Postgres).await).await
            }
        }
    };
}

/// Another session holding the database's writes until released (rolled back): on
/// PostgreSQL `table` locked, on SQLite its one writer (readers go on in WAL; every write
/// waits).
pub enum Lock {
    Pg(sqlx::PgConnection),
    Sqlite(sqlx::SqliteConnection),
}

pub async fn lock_table(backend: Backend, url: &str, table: &str) -> Lock {
    match backend {
        Backend::Postgres => {
            let mut c = sqlx::PgConnection::connect(url).await.unwrap();
            sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
                "BEGIN; LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE"
            )))
            .execute(&mut c)
            .await
            .unwrap();
            Lock::Pg(c)
        }
        Backend::Sqlite => {
            let mut c = sqlx::SqliteConnection::connect(url).await.unwrap();
            sqlx::raw_sql("BEGIN IMMEDIATE")
                .execute(&mut c)
                .await
                .unwrap();
            Lock::Sqlite(c)
        }
    }
}

impl Lock {
    pub async fn release(self) {
        match self {
            Lock::Pg(mut c) => {
                sqlx::raw_sql("ROLLBACK").execute(&mut c).await.unwrap();
            }
            Lock::Sqlite(mut c) => {
                sqlx::raw_sql("ROLLBACK").execute(&mut c).await.unwrap();
            }
        }
    }
}
