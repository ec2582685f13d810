//! A pagoPA Nodo simulator for development, demos and load tests (never started by
//! `serve`): the NodoPerPa operations the gateway uses over mutual TLS, validating requests
//! as the Nodo does; a checkout page behind the WISP redirect URL; pagoPA Checkout
//! (`POST /carts` and its page); a PSP that pays notices at the counter (paaVerificaRPT →
//! paaAttivaRPT → the gateway's nodoInviaRPT → paaInviaRT) or through the new model
//! (paVerifyPaymentNotice → paGetPaymentV2 → paSendRTV2 to each ente); and day X+1, the
//! reporting flows of the paid receipts, also published on an FdR service. Faults are injected at run time
//! (lost or duplicated RTs, PPT_SYSTEM_ERROR, slow answers, flows whose totals are wrong).
//!
//! `nodo` answers the NodoPerPa operations, `checkout` serves the payment page,
//! `psp` plays the PSP (collections, RTs delivered to the gateway) and `flussi` makes
//! day X+1's reporting flows and the treasurer's journal; this file holds the shared state
//! and starts the listeners.

// Faults travel as values here as on the wire; the sim is not a hot path.
#![allow(clippy::result_large_err)]

mod checkout;
mod checkout_pagopa;
pub mod demo;
mod fdr;
mod flussi;
pub mod mese;
mod nodo;
mod psp;
pub mod rt;
pub mod tesoreria;

use crate::config::Config;
use crate::model::Importo;
use crate::model::rpt::Rpt;
use crate::node_client::NodoClient;
use crate::soap::FaultBean;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Faults to inject, changeable while the simulator runs.
#[derive(Debug, Clone, Default)]
pub struct Faults {
    /// RTs are not delivered: the gateway finds them only with nodoChiediCopiaRT.
    pub lose_rt: bool,
    /// Every RT is delivered twice.
    pub duplicate_rt: bool,
    /// The next N NodoPerPa requests answer PPT_SYSTEM_ERROR.
    pub system_errors: u32,
    /// Every NodoPerPa answer waits this long.
    pub delay: Option<Duration>,
    /// Flows are generated with a declared total one cent off.
    pub wrong_flow_totals: bool,
    /// The treasury journal leaves out the first transfer.
    pub treasury_missing_transfer: bool,
    /// The treasury journal has an extra incoming line that matches nothing.
    pub treasury_unmatched_line: bool,
}

#[derive(Debug, Clone)]
struct SimRpt {
    rpt: Rpt,
    stato: String,
    rt: Option<Vec<u8>>,
    id_psp: String,
}

type Key = (String, String, String);

#[derive(Default)]
struct SimState {
    rpts: HashMap<Key, SimRpt>,
    /// Checkout sessions: the RPTs paid together.
    sessions: HashMap<String, Vec<Key>>,
    carrelli: std::collections::HashSet<String>,
    /// (dominio, identificativoFlusso, dataOraFlusso, xml)
    flussi: Vec<(String, String, String, Vec<u8>)>,
    /// New-model receipts the PSP sent, per ente: (ente, IUV, receiptId) → (the paSendRTV2
    /// request as sent, PSP).
    ricevute: HashMap<Key, (Vec<u8>, String)>,
    /// Carts posted to Checkout (`POST /carts`), by id.
    checkout: HashMap<String, crate::checkout_client::RichiestaCarrello>,
    /// RTs and receipts already in a flow.
    rendicontate: std::collections::HashSet<Key>,
    /// Transfers the PSPs made for the flows: (dominio, IUF, money actually sent, day),
    /// waiting for the treasury journal.
    bonifici: Vec<(String, String, Importo, time::Date)>,
    movimenti: u64,
    seq: u64,
}

/// The PSPs the checkout offers (id, name, max fee in cents).
pub const PSP: [(&str, &str, i64); 3] = [
    ("ABCDITMM", "Banca Esempio", 150),
    ("POSTITMM", "Poste Esempio", 200),
    ("PAYPITMM", "Pay Esempio", 100),
];

#[derive(Clone)]
pub struct Simulator {
    state: Arc<Mutex<SimState>>,
    pub faults: Arc<Mutex<Faults>>,
    /// What the simulator calls on the gateway (as the Nodo, with the Nodo's certificate).
    gateway: NodoClient,
    password: String,
    id_intermediario_pa: String,
    id_stazione: String,
    /// Domini the Nodo knows (empty: any).
    pub domini: Arc<Mutex<Vec<String>>>,
    checkout_base: Arc<Mutex<String>>,
}

fn fault(code: &str, descr: impl Into<String>) -> FaultBean {
    FaultBean {
        fault_code: code.into(),
        fault_string: code
            .trim_start_matches("PPT_")
            .replace('_', " ")
            .to_lowercase(),
        id: crate::soap::fault::NODO_ID.into(),
        description: Some(descr.into()),
        serial: None,
        original_fault_code: None,
        original_fault_string: None,
        original_description: None,
    }
}

impl Simulator {
    /// `gateway_pa_url`: the gateway's PA endpoint (`https://…/`), reached with the dev
    /// client certificate of `config.pa_soap.dev_pki_dir`.
    pub fn new(config: &Config, gateway_pa_url: &str) -> anyhow::Result<Simulator> {
        let mut c = config.clone();
        c.nodo.url = Some(gateway_pa_url.to_owned());
        c.nodo.ca = None;
        c.nodo.client_cert = None;
        c.nodo.client_key = None;
        c.nodo.read_timeout_ms = 15_000;
        Ok(Simulator {
            state: Arc::default(),
            faults: Arc::default(),
            gateway: NodoClient::from_config(&c, None)?,
            password: config.intermediario.password.clone(),
            id_intermediario_pa: config.intermediario.id_intermediario_pa.clone(),
            id_stazione: config.intermediario.id_stazione.clone(),
            domini: Arc::default(),
            checkout_base: Arc::default(),
        })
    }

    /// Serves NodoPerPa over mutual TLS on `nodo`, and over HTTP on `checkout` the WISP
    /// checkout page, pagoPA Checkout (`/checkout/ec/v2/carts` and its page) and the FdR
    /// service (`/fdr-org/service/v1`), until `shutdown`.
    pub async fn serve(
        self,
        nodo: tokio::net::TcpListener,
        checkout: tokio::net::TcpListener,
        pki: std::path::PathBuf,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        *self.checkout_base.lock().expect("lock") = format!("http://{}", checkout.local_addr()?);
        let tls = crate::tls::server_config(
            &pki.join("server.pem"),
            &pki.join("server.key"),
            &pki.join("ca.pem"),
        )?;
        let api = axum::Router::new()
            .route("/nodo", axum::routing::post(nodo::nodo_soap))
            .with_state(self.clone());
        let page = axum::Router::new()
            .route("/pay", axum::routing::get(checkout::pagina))
            .route("/pay/{session}", axum::routing::post(checkout::paga))
            .route(
                "/checkout/ec/v2/carts",
                axum::routing::post(checkout_pagopa::carts),
            )
            .route("/checkout/pay", axum::routing::get(checkout_pagopa::pagina))
            .route(
                "/checkout/pay/{id}",
                axum::routing::post(checkout_pagopa::paga),
            )
            .route(
                "/bizevents/service/v1/organizations/{org}/receipts/{iur}/paymentoptions/{iuv}",
                axum::routing::get(fdr::ricevuta_biz),
            )
            .route(
                "/fdr-org/service/v1/organizations/{org}/fdrs",
                axum::routing::get(fdr::elenco),
            )
            .route(
                "/fdr-org/service/v1/organizations/{org}/fdrs/{fdr}/revisions/{revision}/psps/{psp}",
                axum::routing::get(fdr::flusso),
            )
            .route(
                "/fdr-org/service/v1/organizations/{org}/fdrs/{fdr}/revisions/{revision}/psps/{psp}/payments",
                axum::routing::get(fdr::pagamenti),
            )
            .with_state(self.clone());
        let (tx, rx) = tokio::sync::watch::channel(false);
        let wait = |mut rx: tokio::sync::watch::Receiver<bool>| async move {
            let _ = rx.wait_for(|s| *s).await;
        };
        let a = tokio::spawn(crate::tls::serve(
            nodo,
            tls,
            api,
            Arc::new(vec![]),
            crate::listener::Limiti::default(),
            wait(rx.clone()),
            Duration::from_secs(5),
        ));
        let b = tokio::spawn(async move {
            axum::serve(checkout, page)
                .with_graceful_shutdown(wait(rx))
                .await
        });
        shutdown.await;
        let _ = tx.send(true);
        let _ = a.await;
        let _ = b.await;
        Ok(())
    }

    fn new_session(&self, keys: Vec<Key>) -> String {
        let id = uuid::Uuid::new_v4().simple().to_string();
        self.state
            .lock()
            .expect("lock")
            .sessions
            .insert(id.clone(), keys);
        id
    }

    fn url(&self, session: &str) -> String {
        format!(
            "{}/pay?idSession={session}",
            self.checkout_base.lock().expect("lock")
        )
    }

    /// The state the simulated Nodo holds for an RPT.
    pub fn stato(&self, dom: &str, iuv: &str, ccp: &str) -> Option<String> {
        self.state
            .lock()
            .expect("lock")
            .rpts
            .get(&(dom.into(), iuv.into(), ccp.into()))
            .map(|s| s.stato.clone())
    }

    /// The checkout session of a redirect URL.
    pub fn sessione(url: &str) -> Option<&str> {
        url.split("idSession=").nth(1)
    }
}

/// Binds both listeners on loopback ports (0: any).
pub async fn bind(
    nodo: SocketAddr,
    checkout: SocketAddr,
) -> anyhow::Result<(tokio::net::TcpListener, tokio::net::TcpListener)> {
    Ok((
        tokio::net::TcpListener::bind(nodo).await?,
        tokio::net::TcpListener::bind(checkout).await?,
    ))
}
