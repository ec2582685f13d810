//! What the clients of pagoPA's REST APIs share (FdR, Checkout, Biz Events): an HTTP/1.1
//! client that follows no redirect, trusts the platform's roots or one private CA, goes
//! through `nodo.proxy` when one is set (never through one from the environment), and
//! bounds the connection with `nodo.connect_timeout_ms`; a bounded body read; an error that
//! names its causes.

use bytes::{Bytes, BytesMut};
use std::path::Path;
use std::time::Duration;

/// A client for `base` (its scheme decides TLS), trusting `ca` instead of the platform's
/// roots when given. `what` names the configuration section in errors.
pub fn client(
    c: &crate::config::Config,
    base: &reqwest::Url,
    ca: Option<&Path>,
    what: &str,
) -> anyhow::Result<reqwest::Client> {
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
            if let Some(ca) = ca {
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
        other => anyhow::bail!("{what}.url: scheme {other} is neither https nor http"),
    }
    Ok(http.build()?)
}

/// `url` with a trailing slash, so relative joins keep its path.
pub fn base(url: &str, what: &str) -> anyhow::Result<reqwest::Url> {
    reqwest::Url::parse(&format!("{}/", url.trim_end_matches('/')))
        .map_err(|e| anyhow::anyhow!("{what}.url: {e}"))
}

/// The error with its causes (reqwest's own message names only the URL).
pub fn causa(e: &reqwest::Error) -> String {
    let mut msg = e.to_string();
    let mut cause = std::error::Error::source(e);
    while let Some(c) = cause {
        msg.push_str(": ");
        msg.push_str(&c.to_string());
        cause = c.source();
    }
    msg
}

/// The response body, refused past `max` bytes.
pub async fn corpo(resp: &mut reqwest::Response, max: usize) -> Result<Bytes, String> {
    let mut buf = BytesMut::new();
    while let Some(chunk) = resp.chunk().await.map_err(|e| causa(&e))? {
        if buf.len() + chunk.len() > max {
            return Err(format!("risposta oltre {max} byte"));
        }
        buf.extend_from_slice(&chunk);
    }
    Ok(buf.freeze())
}
