//! Test doubles that speak the real protocols: a Nodo over mutual TLS (the dev PKI) that
//! records what it receives and answers from a script, and an SMTP sink on a real socket.

use axum::body::Bytes;
use axum::http::HeaderMap;
use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

#[derive(Clone, Debug)]
pub struct Received {
    pub soap_action: String,
    pub body: String,
}

#[derive(Clone, Default)]
pub struct FakeNodo {
    pub received: Arc<Mutex<Vec<Received>>>,
    /// Response bodies (the operation's element) served in order to requests of their
    /// operation; when none is left, an OK for the operation asked.
    pub script: Arc<Mutex<VecDeque<String>>>,
    /// Fixed answers by (operation, a value the request carries: IUV, flow id), before
    /// the script.
    pub by_iuv: Arc<Mutex<Vec<(String, String, String)>>>,
    /// The next request of this operation is answered only after this long (a Nodo that
    /// times out).
    pub delay_next: Arc<Mutex<Option<(String, std::time::Duration)>>>,
}

pub fn invia_rpt_ok(url: &str) -> String {
    format!(
        r#"<ppt:nodoInviaRPTRisposta xmlns:ppt="http://ws.pagamenti.telematici.gov/"><esito>OK</esito><redirect>1</redirect><url>{url}</url></ppt:nodoInviaRPTRisposta>"#
    )
}

pub fn invia_rpt_fault(code: &str) -> String {
    format!(
        r#"<ppt:nodoInviaRPTRisposta xmlns:ppt="http://ws.pagamenti.telematici.gov/"><fault><faultCode>{code}</faultCode><faultString>errore</faultString><id>NodoDeiPagamentiSPC</id></fault><esito>KO</esito></ppt:nodoInviaRPTRisposta>"#
    )
}

impl FakeNodo {
    /// Binds now (so the gateway can be configured with the URL), serves once `pki` exists.
    pub async fn bind() -> (FakeNodo, tokio::net::TcpListener, SocketAddr) {
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let a = l.local_addr().unwrap();
        (FakeNodo::default(), l, a)
    }

    pub fn serve(&self, listener: tokio::net::TcpListener, pki: &std::path::Path) {
        let me = self.clone();
        let router = axum::Router::new().route(
            "/nodo",
            axum::routing::post(move |headers: HeaderMap, body: Bytes| {
                let me = me.clone();
                async move {
                    let action = headers
                        .get("soapaction")
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or("")
                        .trim_matches('"')
                        .to_owned();
                    me.received.lock().unwrap().push(Received {
                        soap_action: action.clone(),
                        body: String::from_utf8_lossy(&body).into_owned(),
                    });
                    let delay = {
                        let mut d = me.delay_next.lock().unwrap();
                        if d.as_ref().is_some_and(|(op, _)| *op == action) {
                            d.take().map(|(_, t)| t)
                        } else {
                            None
                        }
                    };
                    if let Some(d) = delay {
                        tokio::time::sleep(d).await;
                    }
                    let text = String::from_utf8_lossy(&body).into_owned();
                    let keyed = me
                        .by_iuv
                        .lock()
                        .unwrap()
                        .iter()
                        .find(|(op, iuv, _)| *op == action && text.contains(&format!(">{iuv}<")))
                        .map(|(_, _, r)| r.clone());
                    // The first scripted answer for this operation (by its element name).
                    let next = keyed.or_else(|| {
                        let mut script = me.script.lock().unwrap();
                        let head = format!("<ppt:{action}Risposta");
                        let at = script.iter().position(|r| r.starts_with(&head))?;
                        script.remove(at)
                    });
                    let inner = next.unwrap_or_else(|| match action.as_str() {
                        "nodoInviaCarrelloRPT" => {
                            carrello_ok("https://checkout.example/c?idSession=1")
                        }
                        "nodoChiediElencoFlussiRendicontazione" => elenco_flussi(&[]),
                        "nodoChiediListaPendentiRPT" => lista_pendenti(&[]),
                        _ => invia_rpt_ok("https://wisp.example/pay?idSession=1"),
                    });
                    pagopa_gateway::soap::write_envelope(None, &inner)
                }
            }),
        );
        let tls = pagopa_gateway::tls::server_config(
            &pki.join("server.pem"),
            &pki.join("server.key"),
            &pki.join("ca.pem"),
        )
        .unwrap();
        tokio::spawn(pagopa_gateway::tls::serve(
            listener,
            tls,
            router,
            Arc::new(vec![]),
            pagopa_gateway::listener::Limiti::default(),
            std::future::pending(),
            std::time::Duration::from_secs(1),
        ));
    }

    pub fn received(&self, action: &str) -> Vec<Received> {
        self.received
            .lock()
            .unwrap()
            .iter()
            .filter(|r| r.soap_action == action)
            .cloned()
            .collect()
    }
}

/// One message as the sink received it.
#[derive(Clone, Debug)]
pub struct Mail {
    pub from: String,
    pub rcpt: Vec<String>,
    pub data: String,
}

/// A minimal SMTP server (RFC 5321 commands a client needs to deliver one message).
#[derive(Clone, Default)]
pub struct SmtpSink {
    pub mails: Arc<Mutex<Vec<Mail>>>,
}

impl SmtpSink {
    pub fn serve(&self, l: tokio::net::TcpListener) {
        let mails = self.mails.clone();
        tokio::spawn(async move {
            while let Ok((s, _)) = l.accept().await {
                let mails = mails.clone();
                tokio::spawn(async move {
                    let (r, mut w) = s.into_split();
                    let mut r = BufReader::new(r);
                    let _ = w.write_all(b"220 sink.test ESMTP\r\n").await;
                    let (mut from, mut rcpt) = (String::new(), Vec::new());
                    let mut line = String::new();
                    loop {
                        line.clear();
                        if r.read_line(&mut line).await.unwrap_or(0) == 0 {
                            break;
                        }
                        let cmd = line.trim_end().to_owned();
                        let up = cmd.to_ascii_uppercase();
                        let reply: &[u8] = if up.starts_with("EHLO") || up.starts_with("HELO") {
                            b"250-sink.test\r\n250 8BITMIME\r\n"
                        } else if up.starts_with("MAIL FROM:") {
                            from = cmd[10..].trim().to_owned();
                            b"250 OK\r\n"
                        } else if up.starts_with("RCPT TO:") {
                            rcpt.push(cmd[8..].trim().trim_matches(['<', '>']).to_owned());
                            b"250 OK\r\n"
                        } else if up == "DATA" {
                            let _ = w.write_all(b"354 go ahead\r\n").await;
                            let mut data = String::new();
                            loop {
                                line.clear();
                                if r.read_line(&mut line).await.unwrap_or(0) == 0 {
                                    return;
                                }
                                if line == ".\r\n" {
                                    break;
                                }
                                data.push_str(&line);
                            }
                            mails.lock().unwrap().push(Mail {
                                from: std::mem::take(&mut from),
                                rcpt: std::mem::take(&mut rcpt),
                                data,
                            });
                            b"250 queued\r\n"
                        } else if up == "QUIT" {
                            let _ = w.write_all(b"221 bye\r\n").await;
                            break;
                        } else {
                            b"250 OK\r\n"
                        };
                        let _ = w.write_all(reply).await;
                    }
                });
            }
        });
    }
}

/// Polls `f` every 50 ms until it is true or `secs` pass.
pub async fn eventually(secs: u64, mut f: impl AsyncFnMut() -> bool) -> bool {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(secs);
    while std::time::Instant::now() < deadline {
        if f().await {
            return true;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    false
}

pub fn carrello_ok(url: &str) -> String {
    format!(
        r#"<ppt:nodoInviaCarrelloRPTRisposta xmlns:ppt="http://ws.pagamenti.telematici.gov/"><esitoComplessivoOperazione>OK</esitoComplessivoOperazione><url>{url}</url></ppt:nodoInviaCarrelloRPTRisposta>"#
    )
}

pub fn carrello_fault(code: &str) -> String {
    format!(
        r#"<ppt:nodoInviaCarrelloRPTRisposta xmlns:ppt="http://ws.pagamenti.telematici.gov/"><fault><faultCode>{code}</faultCode><faultString>errore</faultString><id>NodoDeiPagamentiSPC</id></fault><esitoComplessivoOperazione>KO</esitoComplessivoOperazione></ppt:nodoInviaCarrelloRPTRisposta>"#
    )
}

pub fn stato_rpt(stato: &str) -> String {
    format!(
        r#"<ppt:nodoChiediStatoRPTRisposta xmlns:ppt="http://ws.pagamenti.telematici.gov/"><esito><stato>{stato}</stato></esito></ppt:nodoChiediStatoRPTRisposta>"#
    )
}

pub fn stato_rpt_fault(code: &str) -> String {
    format!(
        r#"<ppt:nodoChiediStatoRPTRisposta xmlns:ppt="http://ws.pagamenti.telematici.gov/"><fault><faultCode>{code}</faultCode><faultString>errore</faultString><id>NodoDeiPagamentiSPC</id></fault></ppt:nodoChiediStatoRPTRisposta>"#
    )
}

pub fn copia_rt(rt: &[u8]) -> String {
    pagopa_gateway::soap::sanp2::NodoChiediCopiaRTRisposta {
        fault: None,
        tipo_firma: None,
        rt: Some(pagopa_gateway::soap::sanp2::Base64Doc(rt.to_vec())),
    }
    .write()
}

/// A FlussoRiversamento for `ricevente` with `n` payments of 10.00; `totale_dichiarato`
/// overrides the declared total (to make one that does not add up).
pub fn flusso_xml(
    id: &str,
    data_ora: &str,
    ricevente: &str,
    n: usize,
    totale_dichiarato: Option<i64>,
) -> Vec<u8> {
    use pagopa_gateway::model::flusso::*;
    use pagopa_gateway::model::rpt::{DataOra, IdentificativoUnivoco};
    use pagopa_gateway::model::{Importo, Iuv};
    let day = time::Date::from_calendar_date(2026, time::Month::November, 27).unwrap();
    let pagamenti: Vec<PagamentoFlusso> = (0..n)
        .map(|i| PagamentoFlusso {
            iuv: Iuv::parse(&format!("01{:013}{:02}", i, i % 93)).unwrap(),
            iur: format!("IUR{i:012}"),
            indice: Some(1),
            importo: Importo::from_cents(1_000).unwrap(),
            codice_esito: 0,
            data_esito: day,
        })
        .collect();
    let istituto = |t: &str, c: &str| Istituto {
        identificativo: IdentificativoUnivoco {
            tipo: t.into(),
            codice: c.into(),
        },
        denominazione: None,
    };
    FlussoRiversamento {
        testata: TestataFlusso {
            versione_oggetto: "1.0".into(),
            identificativo_flusso: id.into(),
            data_ora_flusso: DataOra::parse(data_ora).unwrap(),
            identificativo_univoco_regolamento: "TRN0000000000000001".into(),
            data_regolamento: day,
            istituto_mittente: istituto("B", "ABCDITMMXXX"),
            codice_bic_banca_di_riversamento: None,
            istituto_ricevente: istituto("G", ricevente),
            numero_totale_pagamenti: n as u64,
            importo_totale_pagamenti: Importo::from_cents(
                totale_dichiarato.unwrap_or(1_000 * n as i64),
            )
            .unwrap(),
        },
        pagamenti,
    }
    .to_xml()
    .into_bytes()
}

pub fn elenco_flussi(flussi: &[(&str, &str)]) -> String {
    let mut s = format!(
        r#"<ppt:nodoChiediElencoFlussiRendicontazioneRisposta xmlns:ppt="http://ws.pagamenti.telematici.gov/"><elencoFlussiRendicontazione><totRestituiti>{}</totRestituiti>"#,
        flussi.len()
    );
    for (id, data) in flussi {
        s.push_str(&format!("<idRendicontazione><identificativoFlusso>{id}</identificativoFlusso><dataOraFlusso>{data}</dataOraFlusso></idRendicontazione>"));
    }
    s.push_str(
        "</elencoFlussiRendicontazione></ppt:nodoChiediElencoFlussiRendicontazioneRisposta>",
    );
    s
}

pub fn flusso_risposta(xml: Option<&[u8]>, fault: Option<&str>) -> String {
    use base64::Engine;
    let mut s = String::from(
        r#"<ppt:nodoChiediFlussoRendicontazioneRisposta xmlns:ppt="http://ws.pagamenti.telematici.gov/">"#,
    );
    if let Some(code) = fault {
        s.push_str(&format!("<fault><faultCode>{code}</faultCode><faultString>errore</faultString><id>NodoDeiPagamentiSPC</id></fault>"));
    }
    if let Some(x) = xml {
        s.push_str(&format!(
            "<xmlRendicontazione>{}</xmlRendicontazione>",
            base64::engine::general_purpose::STANDARD.encode(x)
        ));
    }
    s.push_str("</ppt:nodoChiediFlussoRendicontazioneRisposta>");
    s
}

pub fn lista_pendenti(rpts: &[(&str, &str, &str, &str)]) -> String {
    let mut s = format!(
        r#"<ppt:nodoChiediListaPendentiRPTRisposta xmlns:ppt="http://ws.pagamenti.telematici.gov/"><listaRPTPendenti><totRestituiti>{}</totRestituiti>"#,
        rpts.len()
    );
    for (d, i, c, st) in rpts {
        s.push_str(&format!("<rptPendente><identificativoDominio>{d}</identificativoDominio><identificativoUnivocoVersamento>{i}</identificativoUnivocoVersamento><codiceContestoPagamento>{c}</codiceContestoPagamento><stato>{st}</stato></rptPendente>"));
    }
    s.push_str("</listaRPTPendenti></ppt:nodoChiediListaPendentiRPTRisposta>");
    s
}

/// An HTTP proxy that only tunnels (CONNECT), as intermediaries often must cross to reach
/// pagoPA; records where each tunnel went. TLS stays end to end, so it sees no content.
#[derive(Clone, Default)]
pub struct FakeProxy {
    pub tunnels: Arc<Mutex<Vec<String>>>,
}

impl FakeProxy {
    pub async fn start() -> (FakeProxy, SocketAddr) {
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = l.local_addr().unwrap();
        let proxy = FakeProxy::default();
        let tunnels = proxy.tunnels.clone();
        tokio::spawn(async move {
            while let Ok((client, _)) = l.accept().await {
                let tunnels = tunnels.clone();
                tokio::spawn(async move {
                    let mut client = BufReader::new(client);
                    let mut line = String::new();
                    client.read_line(&mut line).await.ok()?;
                    let target = line.strip_prefix("CONNECT ")?.split(' ').next()?.to_owned();
                    // The rest of the request head.
                    loop {
                        let mut h = String::new();
                        if client.read_line(&mut h).await.ok()? == 0 || h == "\r\n" {
                            break;
                        }
                    }
                    let mut upstream = tokio::net::TcpStream::connect(&target).await.ok()?;
                    tunnels.lock().unwrap().push(target);
                    let mut client = client.into_inner();
                    client
                        .write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
                        .await
                        .ok()?;
                    tokio::io::copy_bidirectional(&mut client, &mut upstream)
                        .await
                        .ok();
                    Some(())
                });
            }
        });
        (proxy, addr)
    }
}
