//! The PA endpoint behind a TLS-terminating reverse proxy: the client-certificate subject
//! header is believed only from the configured proxy addresses, and pins still apply.

use crate::helpers::*;
use pagopa_gateway::soap::sanp2::{IntestazionePPT, PaaVerificaRPT};
use pagopa_gateway::soap::write_envelope;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const ENTE: &str = "80007580279";

async fn post_plain(
    addr: std::net::SocketAddr,
    subject: Option<&str>,
    body: &str,
) -> (u16, String) {
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    let subject = subject
        .map(|v| format!("X-SSL-Client-S-DN: {v}\r\n"))
        .unwrap_or_default();
    let req = format!(
        "POST /pagamenti-psp HTTP/1.1\r\nHost: gw\r\nSOAPAction: paaVerificaRPT\r\n{subject}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes()).await.unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).await.unwrap();
    (out[9..12].parse().unwrap(), out)
}

async fn verifica_envelope(app: &TestApp) -> String {
    app.seed_ente(ENTE, "c_l736", 1).await;
    let (_, d) = app
        .post(
            &format!("/api/v1/enti/{ENTE}/dovuti"),
            ADMIN,
            dovuto_json("IUD-1", "10.00"),
        )
        .await;
    let i = &app.config.intermediario;
    let h = IntestazionePPT {
        id_intermediario_pa: i.id_intermediario_pa.clone(),
        id_stazione: i.id_stazione.clone(),
        id_dominio: ENTE.into(),
        iuv: d["iuv"].as_str().unwrap().into(),
        ccp: "c".into(),
    };
    write_envelope(
        Some(&h.write()),
        &PaaVerificaRPT { id_psp: "P".into() }.write(),
    )
}

mod trusted_proxy_with_a_pinned_subject_is_served_anything_else_refused {
    use super::*;

    async fn run(backend: Backend) {
        let mut app = TestApp::spawn_with(backend, |c| {
            c.pa_soap.proxy_listen = Some("127.0.0.1:0".parse().unwrap());
            c.pa_soap.trusted_proxies = vec!["127.0.0.1".parse().unwrap()];
            c.pa_soap.client_subject_pins = vec![
                "CN=altro-nodo".parse().unwrap(),
                "CN=nodo-pagopa, O=PagoPA S.p.A.".parse().unwrap(),
            ];
        })
        .await;
        let env = verifica_envelope(&app).await;
        app.start();
        let addr = app.proxy.expect("proxy listener");
        for served in [
            "CN=nodo-pagopa,O=PagoPA S.p.A.",
            "C=IT, O=PagoPA S.p.A., CN=NODO-PAGOPA",
        ] {
            let (status, body) = post_plain(addr, Some(served), &env).await;
            assert_eq!(status, 200, "{served}: {body}");
            assert!(body.contains("<esito>OK</esito>"), "{body}");
        }
        // Names are compared attribute by attribute: text that merely contains the pin's
        // (what a substring test let through) is refused.
        for refused in [
            "CN=nodo-pagopa.evil.example,O=PagoPA S.p.A.",
            "O=CN=nodo-pagopa\\, O=PagoPA S.p.A.,CN=attacker",
            "OU=CN=nodo-pagopa, O=PagoPA S.p.A.,CN=attacker",
            "CN=altro-nodo.evil.example",
            "CN=nodo-pagopa",
        ] {
            let (status, body) = post_plain(addr, Some(refused), &env).await;
            assert!(
                status == 403 && body.contains("not pinned"),
                "{refused}: {body}"
            );
        }
        let (status, body) = post_plain(addr, Some("CN=nodo-pagopa\\"), &env).await;
        assert!(status == 403 && body.contains("unreadable"), "{body}");
        let (status, body) = post_plain(addr, None, &env).await;
        assert!(
            status == 403 && body.contains("no client certificate subject"),
            "{body}"
        );
        let (status, body) = post_plain(addr, Some("CN=someone-else"), &env).await;
        assert!(status == 403 && body.contains("not pinned"), "{body}");
    }

    #[tokio::test]
    async fn sqlite() {
        run(Backend::Sqlite).await
    }
    #[tokio::test]
    async fn postgres() {
        run(Backend::Postgres).await
    }
}

mod subject_header_from_an_untrusted_peer_is_refused {
    use super::*;

    async fn run(backend: Backend) {
        let mut app = TestApp::spawn_with(backend, |c| {
            c.pa_soap.proxy_listen = Some("127.0.0.1:0".parse().unwrap());
            c.pa_soap.trusted_proxies = vec!["10.9.9.9".parse().unwrap()];
        })
        .await;
        let env = verifica_envelope(&app).await;
        app.start();
        let (status, body) = post_plain(app.proxy.unwrap(), Some("CN=nodo"), &env).await;
        assert!(
            status == 403 && body.contains("not a trusted proxy"),
            "{body}"
        );
    }

    #[tokio::test]
    async fn sqlite() {
        run(Backend::Sqlite).await
    }
    #[tokio::test]
    async fn postgres() {
        run(Backend::Postgres).await
    }
}
