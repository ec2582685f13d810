//! The real listeners on port 0: plain HTTP for REST, mutual TLS for the PA endpoint.

use crate::helpers::*;
use pagopa_gateway::app::Application;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use std::path::Path;
use std::sync::Arc;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

async fn http_get<S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin>(
    mut s: S,
    path: &str,
) -> std::io::Result<String> {
    s.write_all(
        format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n").as_bytes(),
    )
    .await?;
    let mut out = String::new();
    s.read_to_string(&mut out).await?;
    Ok(out)
}

fn client_config(ca: &Path, identity: Option<(&Path, &Path)>) -> Arc<rustls::ClientConfig> {
    let mut roots = rustls::RootCertStore::empty();
    for c in CertificateDer::pem_file_iter(ca).unwrap() {
        roots.add(c.unwrap()).unwrap();
    }
    let b = rustls::ClientConfig::builder().with_root_certificates(roots);
    Arc::new(match identity {
        Some((cert, key)) => b
            .with_client_auth_cert(
                CertificateDer::pem_file_iter(cert)
                    .unwrap()
                    .map(Result::unwrap)
                    .collect(),
                PrivateKeyDer::from_pem_file(key).unwrap(),
            )
            .unwrap(),
        None => b.with_no_client_auth(),
    })
}

async fn tls_get(
    addr: std::net::SocketAddr,
    cfg: Arc<rustls::ClientConfig>,
    path: &str,
) -> std::io::Result<String> {
    let tcp = TcpStream::connect(addr).await?;
    let tls = tokio_rustls::TlsConnector::from(cfg)
        .connect(ServerName::try_from("localhost").unwrap(), tcp)
        .await?;
    http_get(tls, path).await
}

#[tokio::test]
async fn serve_answers_on_real_sockets_enforces_mtls_and_drains_on_shutdown() {
    pagopa_gateway::tls::install_crypto_provider();
    let dir = tempfile::tempdir().unwrap();
    let url = fresh_database(Backend::Sqlite, dir.path()).await;
    let config = test_config(dir.path(), url);
    let app = Application::build(config).await.unwrap();
    let (rest, soap) = (app.rest_addr(), app.soap_addr());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(app.run_until(async move {
        let _ = stopped.await;
    }));

    let resp = http_get(TcpStream::connect(rest).await.unwrap(), "/healthz")
        .await
        .unwrap();
    assert!(resp.starts_with("HTTP/1.1 200"), "{resp}");
    assert!(resp.contains("x-request-id"), "{resp}");

    let pki = dir.path().join("certs");
    let (ca, cert, key) = (
        pki.join("ca.pem"),
        pki.join("client.pem"),
        pki.join("client.key"),
    );
    // The dev Nodo client certificate is admitted (a GET without ?wsdl is not an operation).
    let resp = tls_get(soap, client_config(&ca, Some((&cert, &key))), "/")
        .await
        .unwrap();
    assert!(resp.starts_with("HTTP/1.1 405"), "{resp}");
    // The WSDL and the schemas it imports, at the paths its relative imports name.
    let client = client_config(&ca, Some((&cert, &key)));
    let resp = tls_get(soap, client.clone(), "/pagamenti-psp?wsdl")
        .await
        .unwrap();
    assert!(
        resp.starts_with("HTTP/1.1 200")
            && resp.contains("paaVerificaRPT")
            && resp.contains("../xsd/PagInf_RPT_RT_6_2_0.xsd"),
        "{resp}"
    );
    let resp = tls_get(soap, client.clone(), "/ricevute?wsdl")
        .await
        .unwrap();
    assert!(
        resp.starts_with("HTTP/1.1 200") && resp.contains("paaInviaRT"),
        "{resp}"
    );
    let resp = tls_get(soap, client.clone(), "/xsd/PagInf_RPT_RT_6_2_0.xsd")
        .await
        .unwrap();
    assert!(
        resp.starts_with("HTTP/1.1 200") && resp.contains("ctRicevutaTelematica"),
        "{resp}"
    );
    // The new model's WSDL, with this endpoint's address, and the schemas it imports.
    let resp = tls_get(soap, client.clone(), "/pa-for-node?wsdl")
        .await
        .unwrap();
    assert!(
        resp.starts_with("HTTP/1.1 200")
            && resp.contains("paGetPaymentV2")
            && resp.contains("paSendRTV2")
            && resp.contains("location=\"https://localhost/pa-for-node\"")
            && resp.contains("schemaLocation=\"xsd/paForNode.xsd\""),
        "{resp}"
    );
    let resp = tls_get(soap, client.clone(), "/xsd/paForNode.xsd")
        .await
        .unwrap();
    assert!(
        resp.starts_with("HTTP/1.1 200")
            && resp.contains("../../xsd-common/sac-common-types-1.0.xsd"),
        "{resp}"
    );
    let resp = tls_get(soap, client.clone(), "/xsd-common/sac-common-types-1.0.xsd")
        .await
        .unwrap();
    assert!(
        resp.starts_with("HTTP/1.1 200") && resp.contains("stPaymentToken"),
        "{resp}"
    );
    let resp = tls_get(soap, client, "/xsd/..%2Fsecret").await.unwrap();
    assert!(resp.starts_with("HTTP/1.1 404"), "{resp}");
    // No client certificate: refused at the handshake.
    let err = tls_get(soap, client_config(&ca, None), "/").await;
    assert!(err.is_err() || err.as_ref().unwrap().is_empty(), "{err:?}");
    // A certificate from another CA: refused too.
    let other = dir.path().join("other");
    pagopa_gateway::pki::write_dev_pki(&other).unwrap();
    let err = tls_get(
        soap,
        client_config(
            &ca,
            Some((&other.join("client.pem"), &other.join("client.key"))),
        ),
        "/",
    )
    .await;
    assert!(err.is_err() || err.as_ref().unwrap().is_empty(), "{err:?}");

    stop.send(()).unwrap();
    tokio::time::timeout(std::time::Duration::from_secs(10), server)
        .await
        .expect("drains in time")
        .unwrap()
        .unwrap();
    assert!(
        TcpStream::connect(rest).await.is_err(),
        "listener closed after shutdown"
    );
}

/// Starts a gateway in `dir` (its dev PKI under `certs/`, made if missing) with `pins`,
/// GETs `/` over mTLS with the dev client certificate, and stops it.
async fn get_with_pins(dir: &Path, pins: &[&str]) -> std::io::Result<String> {
    let url = fresh_database(Backend::Sqlite, dir).await;
    let mut config = test_config(dir, url);
    config.pa_soap.client_subject_pins = pins.iter().map(|p| p.parse().unwrap()).collect();
    let app = Application::build(config).await.unwrap();
    let soap = app.soap_addr();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(app.run_until(async move {
        let _ = stopped.await;
    }));
    let pki = dir.join("certs");
    let r = tls_get(
        soap,
        client_config(
            &pki.join("ca.pem"),
            Some((&pki.join("client.pem"), &pki.join("client.key"))),
        ),
        "/",
    )
    .await;
    stop.send(()).unwrap();
    server.await.unwrap().unwrap();
    r
}

#[tokio::test]
async fn unpinned_client_subject_is_refused() {
    pagopa_gateway::tls::install_crypto_provider();
    let dir = tempfile::tempdir().unwrap();
    let r = get_with_pins(dir.path(), &["CN=Some Other Nodo"]).await;
    assert!(
        r.is_err() || r.as_ref().unwrap().is_empty(),
        "pinned subject mismatch must close: {r:?}"
    );
}

/// A pin is compared with the certificate's subject attribute by attribute: subjects whose
/// text merely contains the pin's (what a substring test served) are refused.
#[tokio::test]
async fn client_subjects_are_pinned_by_attribute_not_by_text() {
    use rcgen::DnType::{CommonName as CN, OrganizationName as O, OrganizationalUnitName as OU};
    pagopa_gateway::tls::install_crypto_provider();
    let cases: [(&[(rcgen::DnType, &str)], bool); 6] = [
        (&[(CN, "nodo.pagopa.it"), (O, "PagoPA S.p.A.")], true),
        (&[(O, "PagoPA S.p.A."), (CN, "NODO.pagopa.it")], true),
        (&[(CN, "nodo.pagopa.it.evil.example")], false),
        (&[(O, "CN=nodo.pagopa.it"), (CN, "attacker")], false),
        (&[(O, "x, CN=nodo.pagopa.it"), (CN, "attacker")], false),
        (&[(OU, "nodo.pagopa.it"), (CN, "attacker")], false),
    ];
    for (subject, served) in cases {
        let dir = tempfile::tempdir().unwrap();
        let pki = dir.path().join("certs");
        pagopa_gateway::pki::write_dev_pki_for(&pki, subject).unwrap();
        let r = get_with_pins(dir.path(), &["CN=nodo.pagopa.it"]).await;
        let answered = r.as_ref().is_ok_and(|b| b.starts_with("HTTP/1.1 "));
        assert_eq!(answered, served, "{subject:?}: {r:?}");
    }
}

/// Idle and trickling clients: a flood of idle connections on the REST port neither keeps
/// its descriptors (closed after the header deadline) nor stops the PA endpoint, whose
/// connections are counted apart; a REST client beyond the cap waits and is then served;
/// a client sending its headers a line at a time over mTLS is cut at the deadline.
#[tokio::test]
async fn idle_and_slow_clients_are_cut_and_a_rest_flood_leaves_the_pa_endpoint_alone() {
    pagopa_gateway::tls::install_crypto_provider();
    let dir = tempfile::tempdir().unwrap();
    let url = fresh_database(Backend::Sqlite, dir.path()).await;
    let mut config = test_config(dir.path(), url);
    config.rest.max_connections = 8;
    config.rest.header_read_timeout_ms = 700;
    config.pa_soap.max_connections = 8;
    config.pa_soap.header_read_timeout_ms = 700;
    let app = Application::build(config).await.unwrap();
    let (rest, soap) = (app.rest_addr(), app.soap_addr());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(app.run_until(async move {
        let _ = stopped.await;
    }));
    let pki = dir.path().join("certs");
    let nodo = || {
        client_config(
            &pki.join("ca.pem"),
            Some((&pki.join("client.pem"), &pki.join("client.key"))),
        )
    };

    // 40 idle connections on the REST port, five times its cap.
    let mut idle = Vec::new();
    for _ in 0..40 {
        idle.push(TcpStream::connect(rest).await.unwrap());
    }
    // The PA endpoint answers meanwhile.
    let r = tls_get(soap, nodo(), "/pagamenti-psp?wsdl").await.unwrap();
    assert!(r.starts_with("HTTP/1.1 200"), "{r}");
    // A REST client beyond the cap is served once the idle ones are cut.
    let started = std::time::Instant::now();
    let r = tokio::time::timeout(
        std::time::Duration::from_secs(10),
        http_get(TcpStream::connect(rest).await.unwrap(), "/healthz"),
    )
    .await
    .expect("served within 10 s")
    .unwrap();
    assert!(r.starts_with("HTTP/1.1 200"), "{r}");
    assert!(started.elapsed() >= std::time::Duration::from_millis(500));
    // Every idle connection was closed by the server.
    for mut c in idle {
        let mut buf = [0u8; 1];
        let n = tokio::time::timeout(std::time::Duration::from_secs(10), c.read(&mut buf))
            .await
            .expect("closed by the server");
        assert!(matches!(n, Ok(0) | Err(_)), "{n:?}");
    }

    // Headers a line every 200 ms over mTLS: cut at the deadline, not served.
    let tcp = TcpStream::connect(soap).await.unwrap();
    let mut tls = tokio_rustls::TlsConnector::from(nodo())
        .connect(ServerName::try_from("localhost").unwrap(), tcp)
        .await
        .unwrap();
    let started = std::time::Instant::now();
    tls.write_all(b"GET /pagamenti-psp?wsdl HTTP/1.1\r\n")
        .await
        .unwrap();
    let mut cut = false;
    for i in 0..50 {
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        if tls
            .write_all(format!("x-trickle-{i}: 1\r\n").as_bytes())
            .await
            .is_err()
        {
            cut = true;
            break;
        }
        let mut buf = [0u8; 64];
        if let Ok(r) =
            tokio::time::timeout(std::time::Duration::from_millis(1), tls.read(&mut buf)).await
        {
            assert!(!matches!(r, Ok(n) if n > 0 && buf.starts_with(b"HTTP/1.1 2")));
            cut = true;
            break;
        }
    }
    assert!(cut, "a trickling client was never cut");
    assert!(started.elapsed() < std::time::Duration::from_secs(5));

    stop.send(()).unwrap();
    server.await.unwrap().unwrap();
}
