//! TLS for the PA-side endpoint: rustls with mandatory client certificates chained to the
//! configured CA bundle, optional subject pinning, and an accept loop (after axum's
//! low-level-rustls example) that handshakes each connection in its own task, so a slow
//! handshake never blocks the others, and drains open connections on shutdown.

use crate::dn::Dn;
use anyhow::Context;
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::WebPkiClientVerifier;
use rustls::{RootCertStore, ServerConfig};
use std::future::Future;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;
use tower::ServiceExt;

/// The authenticated peer of a connection, put into every request's extensions.
#[derive(Debug, Clone)]
pub struct ClientIdentity {
    /// For logs and the journal.
    pub subject: String,
    pub serial: String,
    /// The subject as attributes, what pins are compared with.
    pub dn: Dn,
}

/// No pins: every verified client; else one pin the subject satisfies.
pub fn pinned(subject: &Dn, pins: &[Dn]) -> bool {
    pins.is_empty() || pins.iter().any(|p| subject.satisfies(p))
}

pub fn install_crypto_provider() {
    // Fails only when already installed, which is fine.
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
}

pub fn load_certs(path: &Path) -> anyhow::Result<Vec<CertificateDer<'static>>> {
    let certs = CertificateDer::pem_file_iter(path)
        .with_context(|| format!("reading certificates from {}", path.display()))?
        .collect::<Result<Vec<_>, _>>()
        .with_context(|| format!("parsing certificates in {}", path.display()))?;
    anyhow::ensure!(!certs.is_empty(), "no certificate in {}", path.display());
    Ok(certs)
}

/// Server config requiring a client certificate that chains to `client_ca`.
pub fn server_config(
    cert: &Path,
    key: &Path,
    client_ca: &Path,
) -> anyhow::Result<Arc<ServerConfig>> {
    install_crypto_provider();
    let chain = load_certs(cert)?;
    let key = PrivateKeyDer::from_pem_file(key)
        .with_context(|| format!("reading private key {}", key.display()))?;
    let mut roots = RootCertStore::empty();
    for ca in load_certs(client_ca)? {
        roots.add(ca).context("adding client CA")?;
    }
    let verifier = WebPkiClientVerifier::builder(Arc::new(roots))
        .build()
        .context("building client verifier")?;
    let mut cfg = ServerConfig::builder()
        .with_client_cert_verifier(verifier)
        .with_single_cert(chain, key)
        .context("server certificate and key do not match")?;
    cfg.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(cfg))
}

fn identity(cert: &CertificateDer<'_>) -> ClientIdentity {
    match x509_parser::parse_x509_certificate(cert.as_ref()) {
        Ok((_, c)) => ClientIdentity {
            subject: c.subject().to_string(),
            serial: c.raw_serial_as_string(),
            // From the certificate's own structure, never from its text form (which does not
            // escape a comma inside a value). A value that is not a string is left out: a
            // pin can then only fail on it, never pass.
            dn: Dn::from_attributes(c.subject().iter_attributes().filter_map(|a| {
                let v = a.as_str().ok()?;
                Some((a.attr_type().to_id_string(), v.to_owned()))
            })),
        },
        Err(_) => ClientIdentity {
            subject: String::new(),
            serial: String::new(),
            dn: Dn::default(),
        },
    }
}

/// Serves `router` over mutual TLS until `shutdown` resolves, then waits up to `drain` for
/// open connections to finish their requests.
pub async fn serve(
    listener: TcpListener,
    tls: Arc<ServerConfig>,
    router: Router,
    subject_pins: Arc<Vec<Dn>>,
    limits: crate::listener::Limiti,
    shutdown: impl Future<Output = ()>,
    drain: Duration,
) {
    let acceptor = TlsAcceptor::from(tls);
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let builder = crate::listener::builder(limits);
    let room = Arc::new(tokio::sync::Semaphore::new(limits.max_connections));
    tokio::pin!(shutdown);
    loop {
        let (tcp, peer, permit) = tokio::select! {
            c = crate::listener::accept(&listener, &room) => c,
            () = &mut shutdown => break,
        };
        let (acceptor, router, builder, pins) = (
            acceptor.clone(),
            router.clone(),
            builder.clone(),
            subject_pins.clone(),
        );
        let watcher = graceful.watcher();
        tokio::spawn(async move {
            // The connection's room is given back when this task ends, however it ends.
            let _permit = permit;
            let stream = match tokio::time::timeout(
                limits.header_read_timeout,
                acceptor.accept(tcp),
            )
            .await
            {
                Ok(Ok(s)) => s,
                Ok(Err(e)) => {
                    tracing::info!(%peer, error = %e, "TLS handshake refused");
                    return;
                }
                Err(_) => {
                    tracing::info!(%peer, "TLS handshake timed out");
                    return;
                }
            };
            let Some(id) = stream
                .get_ref()
                .1
                .peer_certificates()
                .and_then(|c| c.first())
                .map(identity)
            else {
                return; // unreachable: the verifier requires a certificate
            };
            if !pinned(&id.dn, &pins) {
                tracing::warn!(%peer, subject = %id.subject, "client certificate subject not pinned: connection closed");
                return;
            }
            let svc = router.map_request(move |mut req: axum::http::Request<Incoming>| {
                req.extensions_mut().insert(id.clone());
                req
            });
            let conn =
                builder.serve_connection(TokioIo::new(stream), TowerToHyperService::new(svc));
            if let Err(e) = watcher.watch(conn).await {
                tracing::debug!(%peer, error = %e, "connection ended with error");
            }
        });
    }
    drop(listener);
    crate::listener::drain_within(graceful, drain).await;
}
