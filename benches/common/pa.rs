//! What the benches that drive the PA endpoint share: a gateway on loopback seeded with
//! dovuti and their paaVerificaRPT envelopes, and an mTLS keep-alive client.
// Each bench uses a part of it.
#![allow(dead_code)]

use bytes::Bytes;
use http_body_util::Full;
use pagopa_gateway::app::Application;
use pagopa_gateway::config::{Config, IntermediarioConfig};
use pagopa_gateway::registry::{EnteInput, NuovoDovuto, TipoDovutoInput};
use pagopa_gateway::soap::new_model::{
    PaGetPaymentReq, PaGetPaymentRes, PaSendRTReq, PaVerifyPaymentNoticeReq, QrCode,
};
use pagopa_gateway::soap::sanp2::{
    Base64Doc, DatiPagamentoPSP, IntestazionePPT, PaaAttivaRPT, PaaInviaRT, PaaVerificaRPT,
};
use pagopa_gateway::soap::write_envelope;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

pub const ENTE: &str = "80007580279";
pub const DOVUTI: usize = 200;

pub fn client_config(pki: &Path) -> Arc<rustls::ClientConfig> {
    let mut roots = rustls::RootCertStore::empty();
    for c in CertificateDer::pem_file_iter(pki.join("ca.pem")).unwrap() {
        roots.add(c.unwrap()).unwrap();
    }
    let chain = CertificateDer::pem_file_iter(pki.join("client.pem"))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let key = PrivateKeyDer::from_pem_file(pki.join("client.key")).unwrap();
    Arc::new(
        rustls::ClientConfig::builder()
            .with_root_certificates(roots)
            .with_client_auth_cert(chain, key)
            .unwrap(),
    )
}

pub type Sender = hyper::client::conn::http1::SendRequest<Full<Bytes>>;

pub async fn connect(addr: SocketAddr, tls: Arc<rustls::ClientConfig>) -> Sender {
    let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    tcp.set_nodelay(true).unwrap();
    let stream = tokio_rustls::TlsConnector::from(tls)
        .connect(ServerName::try_from("localhost").unwrap(), tcp)
        .await
        .unwrap();
    let (sender, conn) =
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
            .await
            .unwrap();
    tokio::spawn(conn);
    sender
}

/// The header the Nodo sends for a payment of the bench's ente.
fn intestazione(i: &IntermediarioConfig, iuv: String, ccp: String) -> IntestazionePPT {
    IntestazionePPT {
        id_intermediario_pa: i.id_intermediario_pa.clone(),
        id_stazione: i.id_stazione.clone(),
        id_dominio: ENTE.into(),
        iuv,
        ccp,
    }
}

/// The dovuti and, per dovuto, a paaVerificaRPT envelope and a paVerifyPaymentNotice one.
pub async fn seed(app: &Application) -> (Vec<Bytes>, Vec<Bytes>) {
    let store = &app.state().store;
    let ente: EnteInput = serde_json::from_value(serde_json::json!({"id_dominio": ENTE, "denominazione": "Comune", "codice_ipa": "c_x", "segregation_code": 1, "ibans": ["IT60X0542811101000000123456"]})).unwrap();
    let ente = store.registro().insert_ente(&ente).await.unwrap();
    let tipo: TipoDovutoInput = serde_json::from_value(serde_json::json!({"codice": "TARI", "descrizione": "Tassa", "iban": "IT60X0542811101000000123456", "dati_specifici_riscossione": "9/0101105IM/", "politica_scadenza": "RIFIUTA"})).unwrap();
    let tipo = store
        .registro()
        .create_tipo_dovuto(ENTE, &tipo)
        .await
        .unwrap();
    let i = &app.state().config.intermediario;
    let (mut bodies, mut notices) = (Vec::new(), Vec::new());
    for n in 0..DOVUTI {
        let d: NuovoDovuto = serde_json::from_value(serde_json::json!({"iud": format!("IUD{n}"), "tipo_dovuto": "TARI", "pagatore": {"tipo": "F", "codice_fiscale": "RSSMRA85T10A562S", "anagrafica": "Mario Rossi"}, "importo": "10.00", "causale": "TARI 2026"})).unwrap();
        let d = store
            .dovuti()
            .insert(&ente, &d.resolve(&ente, &tipo).unwrap(), "bench")
            .await
            .unwrap();
        let h = intestazione(i, d.iuv.to_string(), format!("ccp{n}"));
        bodies.push(Bytes::from(write_envelope(
            Some(&h.write()),
            &PaaVerificaRPT {
                id_psp: "ABCDITMM".into(),
            }
            .write(),
        )));
        let req = PaVerifyPaymentNoticeReq {
            id_pa: ENTE.into(),
            id_broker_pa: i.id_intermediario_pa.clone(),
            id_station: i.id_stazione.clone(),
            qr_code: QrCode {
                fiscal_code: ENTE.into(),
                notice_number: d.numero_avviso.expect("aux-3 notice").to_string(),
            },
        };
        notices.push(Bytes::from(write_envelope(None, &req.write())));
    }
    (bodies, notices)
}

/// A new payment as a PSP activates it: its key and its paaAttivaRPT envelope.
pub struct Attivazione {
    pub iuv: String,
    pub ccp: String,
    pub envelope: Bytes,
}

/// `n` new dovuti of the seeded ente, each for its own payment.
async fn nuovi_dovuti(
    app_state: &pagopa_gateway::rest::AppState,
    n: usize,
    prefisso: &str,
) -> Vec<pagopa_gateway::registry::Dovuto> {
    let store = &app_state.store;
    let ente = store.registro().get_ente(ENTE).await.unwrap();
    let tipo = store
        .registro()
        .get_tipo_dovuto(ENTE, "TARI")
        .await
        .unwrap();
    let mut out = Vec::with_capacity(n);
    for k in 0..n {
        let d: NuovoDovuto = serde_json::from_value(serde_json::json!({"iud": format!("{prefisso}{k}-{}", &uuid::Uuid::new_v4().simple().to_string()[..12]), "tipo_dovuto": "TARI", "pagatore": {"tipo": "F", "codice_fiscale": "RSSMRA85T10A562S", "anagrafica": "Mario Rossi"}, "importo": "10.00", "causale": "TARI 2026"})).unwrap();
        out.push(
            store
                .dovuti()
                .insert(&ente, &d.resolve(&ente, &tipo).unwrap(), "bench")
                .await
                .unwrap(),
        );
    }
    out
}

/// `n` new dovuti of the seeded ente, each with the activation a PSP sends to collect it
/// (its own CCP).
pub async fn attivazioni(app_state: &pagopa_gateway::rest::AppState, n: usize) -> Vec<Attivazione> {
    let i = &app_state.config.intermediario;
    let mut out = Vec::with_capacity(n);
    for (k, d) in nuovi_dovuti(app_state, n, "ATT")
        .await
        .into_iter()
        .enumerate()
    {
        let ccp = format!("att{k}");
        let h = intestazione(i, d.iuv.to_string(), ccp.clone());
        let attiva = PaaAttivaRPT {
            id_psp: "ABCDITMM".into(),
            dati_pagamento_psp: DatiPagamentoPSP::solo_importo(d.importo),
            id_intermediario_psp: "97735020584".into(),
            id_canale_psp: "97735020584_03".into(),
        };
        out.push(Attivazione {
            iuv: d.iuv.to_string(),
            ccp,
            envelope: Bytes::from(write_envelope(Some(&h.write()), &attiva.write())),
        });
    }
    out
}

/// A new-model payment of the bench's ente: its notice and the paGetPaymentV2 envelope
/// the Nodo sends to activate it.
pub struct PagamentoNm {
    pub iuv: String,
    pub avviso: String,
    pub envelope: Bytes,
}

/// `n` new dovuti of the seeded ente, each with its paGetPaymentV2.
pub async fn pagamenti_nm(
    app_state: &pagopa_gateway::rest::AppState,
    n: usize,
) -> Vec<PagamentoNm> {
    let i = &app_state.config.intermediario;
    let mut out = Vec::with_capacity(n);
    for d in nuovi_dovuti(app_state, n, "NM").await {
        let avviso = d.numero_avviso.expect("aux-3 notice").to_string();
        let get = PaGetPaymentReq {
            id_pa: ENTE.into(),
            id_broker_pa: i.id_intermediario_pa.clone(),
            id_station: i.id_stazione.clone(),
            qr_code: QrCode {
                fiscal_code: ENTE.into(),
                notice_number: avviso.clone(),
            },
            amount: Some(d.importo),
            payment_note: None,
            transfer_type: None,
            due_date: None,
        };
        out.push(PagamentoNm {
            iuv: d.iuv.to_string(),
            avviso,
            envelope: Bytes::from(write_envelope(None, &get.write_v2())),
        });
    }
    out
}

/// For each payment paGetPaymentV2 activated: the paSendRTV2 envelope carrying its receipt,
/// built from the position the gateway answered with (as it stored it).
pub async fn ricevute_nm(
    app_state: &pagopa_gateway::rest::AppState,
    pagamenti: &[PagamentoNm],
) -> Vec<Bytes> {
    let i = &app_state.config.intermediario;
    let mut out = Vec::with_capacity(pagamenti.len());
    for (k, p) in pagamenti.iter().enumerate() {
        let (xml, _) = app_state
            .store
            .pagamenti()
            .rpt_xml(ENTE, &p.iuv)
            .await
            .unwrap();
        let res = PaGetPaymentRes::parse(std::str::from_utf8(&xml).unwrap()).unwrap();
        let data = res.data.expect("the position paGetPaymentV2 answered");
        let receipt = pagopa_gateway::sim::rt::da_pagamento(
            &data,
            &p.avviso,
            ENTE,
            &format!("RCPT{k}"),
            pagopa_gateway::sim::PSP[0],
        );
        let send = PaSendRTReq {
            id_pa: ENTE.into(),
            id_broker_pa: i.id_intermediario_pa.clone(),
            id_station: i.id_stazione.clone(),
            receipt,
        };
        out.push(Bytes::from(write_envelope(None, &send.write_v2())));
    }
    out
}

/// For each activated (IUV, CCP): the paaInviaRT envelope carrying the positive RT of the
/// RPT the gateway stored, as the simulated PSP would issue it.
pub async fn ricevute(
    app_state: &pagopa_gateway::rest::AppState,
    attivate: &[Attivazione],
) -> Vec<Bytes> {
    let i = &app_state.config.intermediario;
    let mut out = Vec::with_capacity(attivate.len());
    for (k, Attivazione { iuv, ccp, .. }) in attivate.iter().enumerate() {
        let (xml, _) = app_state
            .store
            .pagamenti()
            .rpt_xml(ENTE, iuv)
            .await
            .unwrap();
        let rpt = pagopa_gateway::model::rpt::Rpt::parse(&xml).unwrap();
        let rt = pagopa_gateway::sim::rt::da_rpt(&rpt, true, "ABCDITMM", &format!("IUR{k}"));
        let h = intestazione(i, iuv.clone(), ccp.clone());
        let invia = PaaInviaRT {
            tipo_firma: None,
            rt: Base64Doc(rt.into_bytes()),
        };
        out.push(Bytes::from(write_envelope(
            Some(&h.write()),
            &invia.write(),
        )));
    }
    out
}

/// A gateway on loopback (REST and mTLS PA listeners on port 0) with `DOVUTI` dovuti.
pub struct Gateway {
    pub soap: SocketAddr,
    pub rest: SocketAddr,
    /// One paaVerificaRPT envelope per dovuto.
    pub bodies: Vec<Bytes>,
    /// One paVerifyPaymentNotice envelope per dovuto.
    pub notices: Vec<Bytes>,
    pub state: pagopa_gateway::rest::AppState,
    pub journal: pagopa_gateway::journal::Journal,
    pub stop: tokio::sync::oneshot::Sender<()>,
}

#[allow(clippy::field_reassign_with_default)]
pub async fn gateway(dir: &Path, url: String, tweak: impl FnOnce(&mut Config)) -> Gateway {
    let mut c = Config::default();
    c.admin_token = Some("bench-admin-token-0123456789".into());
    c.data_dir = dir.join("data");
    c.database.url = Some(url);
    c.rest.listen = "127.0.0.1:0".parse().unwrap();
    c.pa_soap.listen = "127.0.0.1:0".parse().unwrap();
    c.pa_soap.dev_pki_dir = dir.join("certs");
    tweak(&mut c);
    let url = c.database.url.clone().unwrap_or_default();
    let app = Application::build(c).await.unwrap();
    let (bodies, notices) = seed(&app).await;
    if url.starts_with("postgres") {
        // What autovacuum does within its first minute. Never analysed, the 200 fresh
        // dovuti are estimated at one row per ente, and the planner then reads a dovuto
        // by IUV through the smaller (id_dominio, stato) index, filtering every dovuto of
        // the ente: the gateway and its floor both measured that scan before this was added.
        let mut c = <sqlx::PgConnection as sqlx::Connection>::connect(&url)
            .await
            .unwrap();
        sqlx::query("ANALYZE ente, tipo_dovuto, dovuto")
            .execute(&mut c)
            .await
            .unwrap();
    }
    let (soap, rest, state) = (app.soap_addr(), app.rest_addr(), app.state().clone());
    let journal = app.journal().clone();
    let (stop, rx) = tokio::sync::oneshot::channel();
    tokio::spawn(app.run_until(async move {
        let _ = rx.await;
    }));
    Gateway {
        soap,
        rest,
        bodies,
        notices,
        state,
        journal,
        stop,
    }
}

/// Waits (at most 30 s) until the journal has committed what it was given: a floor
/// measured while it still writes would be lowered by it.
pub async fn journal_drained(journal: &pagopa_gateway::journal::Journal) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while journal.queued_bytes() > 0 && std::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
}

/// (resident, peak resident) memory of a process (`self` or a pid), in MiB.
pub fn memoria_mib(processo: &str) -> (f64, f64) {
    let s = std::fs::read_to_string(format!("/proc/{processo}/status")).unwrap_or_default();
    let mib = |k: &str| {
        s.lines()
            .find(|l| l.starts_with(k))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(f64::NAN)
            / 1024.0
    };
    (mib("VmRSS:"), mib("VmHWM:"))
}
