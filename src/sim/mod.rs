//! A pagoPA Nodo simulator for development, demos and load tests (never started by
//! `serve`): the NodoPerPa operations the gateway uses over mutual TLS, validating requests
//! as the Nodo does; a checkout page behind the redirect URL; a PSP that pays notices at
//! the counter (paaVerificaRPT → paaAttivaRPT → the gateway's nodoInviaRPT → paaInviaRT);
//! and day X+1, the reporting flows of the paid receipts. Faults are injected at run time
//! (lost or duplicated RTs, PPT_SYSTEM_ERROR, slow answers, flows whose totals are wrong).

// Faults travel as values here as on the wire; the sim is not a hot path.
#![allow(clippy::result_large_err)]

pub mod demo;
mod rt;
pub mod tesoreria;

use crate::config::Config;
use crate::model::Importo;
use crate::model::flusso::{FlussoRiversamento, Istituto, PagamentoFlusso, TestataFlusso};
use crate::model::rpt::{DataOra, IdentificativoUnivoco, Rpt};
use crate::node_client::{Chiave, NodoClient, NodoError};
use crate::soap::sanp2::{
    Base64Doc, DatiPagamentoPSP, ElencoFlussiRendicontazione, Esito, EsitoChiediStatoRPT, EsitoPaa,
    IdRendicontazione, IntestazioneCarrelloPPT, IntestazionePPT, ListaRPTPendenti,
    NodoChiediCopiaRTRisposta, NodoChiediElencoFlussiRendicontazione,
    NodoChiediElencoFlussiRendicontazioneRisposta, NodoChiediFlussoRendicontazione,
    NodoChiediFlussoRendicontazioneRisposta, NodoChiediListaPendentiRPT,
    NodoChiediListaPendentiRPTRisposta, NodoInviaCarrelloRPT, NodoInviaCarrelloRPTRisposta,
    NodoInviaRPT, NodoInviaRPTRisposta, PaaAttivaRPT, PaaInviaRT, PaaVerificaRPT, RichiestaRPT,
    RptPendente,
};
use crate::soap::{FaultBean, read_envelope, write_envelope};
use crate::xml::Limits;
use axum::body::Bytes;
use axum::extract::{Form, Path, Query, State};
use axum::http::HeaderMap;
use axum::response::Html;
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
    /// RTs already in a flow.
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

    /// Serves NodoPerPa over mutual TLS on `nodo` and the checkout page over HTTP on
    /// `checkout`, until `shutdown`.
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
            .route("/nodo", axum::routing::post(nodo_soap))
            .with_state(self.clone());
        let page = axum::Router::new()
            .route("/pay", axum::routing::get(pagina))
            .route("/pay/{session}", axum::routing::post(paga))
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

    fn check_station(&self, id_int: &str, stazione: &str, password: &str) -> Result<(), FaultBean> {
        if id_int != self.id_intermediario_pa {
            return Err(fault("PPT_INTERMEDIARIO_PA_SCONOSCIUTO", id_int));
        }
        if stazione != self.id_stazione {
            return Err(fault("PPT_STAZIONE_INT_PA_SCONOSCIUTA", stazione));
        }
        if password != self.password {
            return Err(fault("PPT_AUTENTICAZIONE", "password errata"));
        }
        Ok(())
    }

    fn check_dominio(&self, dom: &str) -> Result<(), FaultBean> {
        let known = self.domini.lock().expect("lock");
        if !known.is_empty() && !known.iter().any(|d| d == dom) {
            return Err(fault("PPT_DOMINIO_SCONOSCIUTO", dom));
        }
        Ok(())
    }

    /// Reads and checks one RPT against the keys it travels with.
    fn leggi_rpt(&self, dom: &str, iuv: &str, ccp: &str, raw: &[u8]) -> Result<Rpt, FaultBean> {
        self.check_dominio(dom)?;
        let rpt = Rpt::parse(raw).map_err(|e| fault("PPT_SINTASSI_XSD", e.to_string()))?;
        let v = &rpt.dati_versamento;
        if rpt.dominio.identificativo_dominio.as_str() != dom
            || v.iuv.as_str() != iuv
            || v.ccp != ccp
        {
            return Err(fault(
                "PPT_SEMANTICA",
                "chiavi della RPT diverse dall'intestazione",
            ));
        }
        if v.dati_singolo_versamento.is_empty() || v.dati_singolo_versamento.len() > 5 {
            return Err(fault("PPT_SEMANTICA", "da 1 a 5 datiSingoloVersamento"));
        }
        let somma = v
            .dati_singolo_versamento
            .iter()
            .try_fold(Importo::ZERO, |a, s| a.checked_add(s.importo));
        if somma != Some(v.importo_totale) {
            return Err(fault(
                "PPT_SEMANTICA",
                "importoTotaleDaVersare diverso dalla somma",
            ));
        }
        if self
            .state
            .lock()
            .expect("lock")
            .rpts
            .contains_key(&(dom.into(), iuv.into(), ccp.into()))
        {
            return Err(fault("PPT_RPT_DUPLICATA", format!("{dom}/{iuv}/{ccp}")));
        }
        Ok(rpt)
    }

    async fn dispatch(&self, body: &[u8]) -> String {
        let env = match read_envelope(body, Limits::MESSAGE) {
            Ok(e) => e,
            Err(e) => {
                return crate::soap::write_soap_fault("soapenv:Client", &e.to_string(), None);
            }
        };
        let delay = self.faults.lock().expect("lock").delay;
        if let Some(d) = delay {
            tokio::time::sleep(d).await;
        }
        let op = env.body.name.clone();
        let injected = {
            let mut f = self.faults.lock().expect("lock");
            if f.system_errors > 0 {
                f.system_errors -= 1;
                true
            } else {
                false
            }
        };
        let header = env.headers.first().map(|h| h.xml);
        let out = if injected {
            Err(fault("PPT_SYSTEM_ERROR", "errore iniettato dal simulatore"))
        } else {
            self.operation(&op, header, env.body.xml).await
        };
        let inner = match out {
            Ok(x) => x,
            Err(f) => fault_response(&op, f),
        };
        write_envelope(None, &inner)
    }

    async fn operation(
        &self,
        op: &str,
        header: Option<&str>,
        body: &str,
    ) -> Result<String, FaultBean> {
        let bad = |e: crate::soap::SoapError| fault("PPT_SINTASSI_EXTRAXSD", e.to_string());
        match op {
            "nodoInviaRPT" => {
                let h = IntestazionePPT::parse(header.unwrap_or("")).map_err(bad)?;
                let b = NodoInviaRPT::parse(body).map_err(bad)?;
                self.check_station(&h.id_intermediario_pa, &h.id_stazione, &b.password)?;
                let rpt = self.leggi_rpt(&h.id_dominio, &h.iuv, &h.ccp, &b.rpt.0)?;
                let key = (h.id_dominio.clone(), h.iuv.clone(), h.ccp.clone());
                let modello3 = rpt.dati_versamento.tipo_versamento == "PO";
                let session = (!modello3).then(|| self.new_session(vec![key.clone()]));
                self.state.lock().expect("lock").rpts.insert(
                    key.clone(),
                    SimRpt {
                        rpt,
                        stato: "RPT_ACCETTATA_NODO".into(),
                        rt: None,
                        id_psp: b.id_psp.clone(),
                    },
                );
                if modello3 {
                    // The PSP that activated it collects now: the RT follows.
                    let me = self.clone();
                    tokio::spawn(async move { me.concludi(&[key], true).await });
                }
                Ok(NodoInviaRPTRisposta {
                    fault: None,
                    esito: Esito::OK,
                    redirect: session.as_ref().map(|_| 1),
                    url: session.map(|s| self.url(&s)),
                }
                .write())
            }
            "nodoInviaCarrelloRPT" => {
                let h = IntestazioneCarrelloPPT::parse(header.unwrap_or("")).map_err(bad)?;
                let b = NodoInviaCarrelloRPT::parse(body).map_err(bad)?;
                self.check_station(&h.id_intermediario_pa, &h.id_stazione, &b.password)?;
                if self
                    .state
                    .lock()
                    .expect("lock")
                    .carrelli
                    .contains(&h.id_carrello)
                {
                    return Err(fault("PPT_ID_CARRELLO_DUPLICATO", h.id_carrello));
                }
                let mut lette = Vec::new();
                for e in &b.lista_rpt {
                    let rpt = self.leggi_rpt(&e.id_dominio, &e.iuv, &e.ccp, &e.rpt.0)?;
                    lette.push(((e.id_dominio.clone(), e.iuv.clone(), e.ccp.clone()), rpt));
                }
                let previste: Vec<_> = lette
                    .iter()
                    .map(|(k, r)| crate::pagamenti::regole::RptPrevista {
                        id_dominio: k.0.clone(),
                        iuv: k.1.clone(),
                        versamenti: r.dati_versamento.dati_singolo_versamento.len(),
                        pagatore: r.soggetto_pagatore.identificativo.codice.clone(),
                        marca_bollo: r
                            .dati_versamento
                            .dati_singolo_versamento
                            .iter()
                            .any(|s| s.marca_bollo.is_some()),
                    })
                    .collect();
                let multi = b.multi_beneficiario == Some(true);
                crate::pagamenti::regole::verifica(&previste, multi)
                    .map_err(|v| fault("PPT_SEMANTICA", v.0))?;
                if multi && lette.iter().any(|(k, _)| k.2 != h.id_carrello) {
                    return Err(fault(
                        "PPT_SEMANTICA",
                        "nel multibeneficiario ogni CCP è l'identificativoCarrello",
                    ));
                }
                let keys: Vec<Key> = lette.iter().map(|(k, _)| k.clone()).collect();
                let session = self.new_session(keys);
                let mut st = self.state.lock().expect("lock");
                st.carrelli.insert(h.id_carrello.clone());
                for (k, rpt) in lette {
                    st.rpts.insert(
                        k,
                        SimRpt {
                            rpt,
                            stato: "RPT_ACCETTATA_NODO".into(),
                            rt: None,
                            id_psp: b.id_psp.clone(),
                        },
                    );
                }
                drop(st);
                Ok(NodoInviaCarrelloRPTRisposta {
                    fault: None,
                    esito: Esito::OK,
                    url: Some(self.url(&session)),
                    lista_errori: None,
                }
                .write())
            }
            "nodoChiediStatoRPT" | "nodoChiediCopiaRT" => {
                let r = RichiestaRPT::parse(op, body).map_err(bad)?;
                self.check_station(&r.id_intermediario_pa, &r.id_stazione, &r.password)?;
                let st = self.state.lock().expect("lock");
                let found = st
                    .rpts
                    .get(&(r.id_dominio.clone(), r.iuv.clone(), r.ccp.clone()));
                if op == "nodoChiediStatoRPT" {
                    let s = found.ok_or_else(|| {
                        fault("PPT_RPT_SCONOSCIUTA", format!("{}/{}", r.iuv, r.ccp))
                    })?;
                    Ok(stato_rpt_xml(&s.stato))
                } else {
                    let s = found.ok_or_else(|| {
                        fault("PPT_RT_SCONOSCIUTA", format!("{}/{}", r.iuv, r.ccp))
                    })?;
                    let rt = s
                        .rt
                        .clone()
                        .ok_or_else(|| fault("PPT_RT_NONDISPONIBILE", "RT non ancora pronta"))?;
                    Ok(NodoChiediCopiaRTRisposta {
                        fault: None,
                        tipo_firma: None,
                        rt: Some(Base64Doc(rt)),
                    }
                    .write())
                }
            }
            "nodoChiediElencoFlussiRendicontazione" => {
                let r = NodoChiediElencoFlussiRendicontazione::parse(body).map_err(bad)?;
                self.check_station(&r.id_intermediario_pa, &r.id_stazione, &r.password)?;
                let st = self.state.lock().expect("lock");
                let flussi: Vec<IdRendicontazione> = st
                    .flussi
                    .iter()
                    .filter(|f| r.id_dominio.as_deref().is_none_or(|d| d == f.0))
                    .map(|f| IdRendicontazione {
                        identificativo_flusso: f.1.clone(),
                        data_ora_flusso: f.2.clone(),
                    })
                    .collect();
                Ok(NodoChiediElencoFlussiRendicontazioneRisposta {
                    fault: None,
                    elenco: Some(ElencoFlussiRendicontazione {
                        tot_restituiti: Some(flussi.len() as u32),
                        flussi,
                    }),
                }
                .write())
            }
            "nodoChiediFlussoRendicontazione" => {
                let r = NodoChiediFlussoRendicontazione::parse(body).map_err(bad)?;
                self.check_station(&r.id_intermediario_pa, &r.id_stazione, &r.password)?;
                let st = self.state.lock().expect("lock");
                // The most recent version of the id.
                let f = st
                    .flussi
                    .iter()
                    .filter(|f| f.1 == r.id_flusso)
                    .max_by(|a, b| a.2.cmp(&b.2))
                    .ok_or_else(|| fault("PPT_ID_FLUSSO_SCONOSCIUTO", r.id_flusso.clone()))?;
                Ok(NodoChiediFlussoRendicontazioneRisposta {
                    fault: None,
                    xml_rendicontazione: Some(Base64Doc(f.3.clone())),
                }
                .write())
            }
            "nodoChiediListaPendentiRPT" => {
                let r = NodoChiediListaPendentiRPT::parse(body).map_err(bad)?;
                self.check_station(&r.id_intermediario_pa, &r.id_stazione, &r.password)?;
                let st = self.state.lock().expect("lock");
                let rpt: Vec<RptPendente> = st
                    .rpts
                    .iter()
                    .filter(|(k, s)| {
                        s.rt.is_none() && r.id_dominio.as_deref().is_none_or(|d| d == k.0)
                    })
                    .take(r.dimensione_lista as usize)
                    .map(|(k, s)| RptPendente {
                        id_dominio: k.0.clone(),
                        iuv: k.1.clone(),
                        ccp: k.2.clone(),
                        stato: s.stato.clone(),
                    })
                    .collect();
                Ok(NodoChiediListaPendentiRPTRisposta {
                    fault: None,
                    lista: Some(ListaRPTPendenti {
                        tot_restituiti: Some(rpt.len() as u32),
                        rpt,
                    }),
                }
                .write())
            }
            other => Err(fault(
                "PPT_SINTASSI_EXTRAXSD",
                format!("operazione {other} non supportata"),
            )),
        }
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

    /// Ends the payment of `keys`: RTs built (positive when `pagato`), stored at the Nodo
    /// and delivered to the gateway (unless RTs are being lost), twice if duplicating.
    pub async fn concludi(&self, keys: &[Key], pagato: bool) {
        let psp = PSP[0];
        let mut consegne = Vec::new();
        {
            let mut st = self.state.lock().expect("lock");
            st.seq += 1;
            let seq = st.seq;
            for (n, k) in keys.iter().enumerate() {
                let Some(s) = st.rpts.get_mut(k) else {
                    continue;
                };
                if s.rt.is_some() {
                    continue;
                }
                let id_psp = if s.id_psp == "AGID_01" {
                    psp.0.to_owned()
                } else {
                    s.id_psp.clone()
                };
                let rt = rt::da_rpt(&s.rpt, pagato, &id_psp, &format!("IUR{seq:08}{n}"));
                s.rt = Some(rt.clone().into_bytes());
                // Paid or not, the Nodo now holds an RT (negative when not paid).
                s.stato = "RT_ACCETTATA_NODO".into();
                s.id_psp = id_psp;
                consegne.push((k.clone(), rt.into_bytes()));
            }
        }
        let f = self.faults.lock().expect("lock").clone();
        if f.lose_rt {
            tracing::info!(n = consegne.len(), "simulator: RTs lost on purpose");
            return;
        }
        for (k, rt) in consegne {
            let times = if f.duplicate_rt { 2 } else { 1 };
            for _ in 0..times {
                self.consegna_rt(&k, &rt).await;
            }
        }
    }

    /// paaInviaRT, up to 5 attempts.
    async fn consegna_rt(&self, k: &Key, rt: &[u8]) {
        let h = IntestazionePPT {
            id_intermediario_pa: self.id_intermediario_pa.clone(),
            id_stazione: self.id_stazione.clone(),
            id_dominio: k.0.clone(),
            iuv: k.1.clone(),
            ccp: k.2.clone(),
        };
        let body = PaaInviaRT {
            tipo_firma: None,
            rt: Base64Doc(rt.to_vec()),
        }
        .write();
        for attempt in 1..=5u32 {
            let key = Chiave::rpt(&k.0, &k.1, &k.2);
            match self
                .gateway
                .call("paaInviaRT", Some(&h.write()), &body, key)
                .await
            {
                Ok(xml) => {
                    let code = crate::soap::sanp2::EsitoPaaInviaRT::parse(&xml)
                        .ok()
                        .and_then(|e| e.fault.map(|f| f.fault_code));
                    let mut st = self.state.lock().expect("lock");
                    if let Some(s) = st.rpts.get_mut(k) {
                        s.stato =
                            if code.is_none() || code.as_deref() == Some("PAA_RT_DUPLICATA") {
                                "RT_ACCETTATA_PA"
                            } else {
                                "RT_RIFIUTATA_PA"
                            }
                            .into();
                    }
                    return;
                }
                Err(e) => {
                    tracing::warn!(attempt, error = %e, "simulator: paaInviaRT failed");
                    tokio::time::sleep(Duration::from_millis(200 * u64::from(attempt))).await;
                }
            }
        }
    }

    /// Pays (or abandons) the checkout session, as the payer's browser would.
    pub async fn paga_sessione(&self, session: &str, pagato: bool) -> bool {
        let keys = self
            .state
            .lock()
            .expect("lock")
            .sessions
            .get(session)
            .cloned();
        match keys {
            Some(k) => {
                self.concludi(&k, pagato).await;
                true
            }
            None => false,
        }
    }

    /// A PSP collects notice `numero_avviso` of `dom` at the counter: paaVerificaRPT, then
    /// paaAttivaRPT for the amount it was told, then the gateway sends the RPT and the RT
    /// follows. Returns the amount paid, or the fault that stopped it.
    pub async fn psp_paga_avviso(&self, dom: &str, iuv: &str) -> Result<Importo, String> {
        let ccp = format!("psp{}", &uuid::Uuid::new_v4().simple().to_string()[..12]);
        let h = IntestazionePPT {
            id_intermediario_pa: self.id_intermediario_pa.clone(),
            id_stazione: self.id_stazione.clone(),
            id_dominio: dom.into(),
            iuv: iuv.into(),
            ccp: ccp.clone(),
        };
        let key = || Chiave {
            id_dominio: Some(dom.into()),
            iuv: Some(iuv.into()),
            ccp: Some(ccp.clone()),
            id_psp: Some(PSP[0].0.into()),
        };
        let err = |e: NodoError| e.to_string();
        let v = self
            .gateway
            .call(
                "paaVerificaRPT",
                Some(&h.write()),
                &PaaVerificaRPT {
                    id_psp: PSP[0].0.into(),
                }
                .write(),
                key(),
            )
            .await
            .map_err(err)?;
        let v = EsitoPaa::parse_verifica(&v).map_err(|e| e.to_string())?;
        if let Some(f) = v.fault {
            return Err(f.fault_code);
        }
        let importo = v.dati_pagamento_pa.ok_or("verifica senza dati")?.importo;
        let attiva = PaaAttivaRPT {
            id_psp: PSP[0].0.into(),
            dati_pagamento_psp: DatiPagamentoPSP {
                importo,
                iban_appoggio: None,
                bic_appoggio: None,
                soggetto_versante: None,
                iban_addebito: None,
                bic_addebito: None,
                soggetto_pagatore: None,
            },
            id_intermediario_psp: "97735020584".into(),
            id_canale_psp: "97735020584_03".into(),
        };
        let a = self
            .gateway
            .call("paaAttivaRPT", Some(&h.write()), &attiva.write(), key())
            .await
            .map_err(err)?;
        let a = EsitoPaa::parse_attiva(&a).map_err(|e| e.to_string())?;
        if let Some(f) = a.fault {
            return Err(f.fault_code);
        }
        // The gateway's nodoInviaRPT arrives through its outbox; the RT follows it.
        let k: Key = (dom.into(), iuv.into(), ccp);
        for _ in 0..200 {
            if self
                .state
                .lock()
                .expect("lock")
                .rpts
                .get(&k)
                .is_some_and(|s| s.stato == "RT_ACCETTATA_PA")
            {
                return Ok(importo);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Err("RT non consegnata entro 10 s".into())
    }

    /// Day X+1: one FlussoRiversamento per (dominio, PSP) for the positive RTs not yet
    /// reported. Returns how many flows were made.
    pub fn genera_flussi(&self, giorno: time::Date) -> usize {
        let wrong = self.faults.lock().expect("lock").wrong_flow_totals;
        let mut st = self.state.lock().expect("lock");
        let mut gruppi: HashMap<(String, String), Vec<PagamentoFlusso>> = HashMap::new();
        let mut nuove = Vec::new();
        for (k, s) in &st.rpts {
            let Some(raw) = &s.rt else { continue };
            if st.rendicontate.contains(k) {
                continue;
            }
            let Ok(rt) = crate::model::rpt::Rt::parse(raw) else {
                continue;
            };
            if rt.dati_pagamento.codice_esito != 0 {
                continue;
            }
            for (i, p) in rt.dati_pagamento.dati_singolo_pagamento.iter().enumerate() {
                gruppi
                    .entry((k.0.clone(), s.id_psp.clone()))
                    .or_default()
                    .push(PagamentoFlusso {
                        iuv: rt.dati_pagamento.iuv.clone(),
                        iur: p.iur.clone(),
                        indice: u8::try_from(i + 1).ok(),
                        importo: p.importo,
                        codice_esito: 0,
                        data_esito: giorno,
                    });
            }
            nuove.push(k.clone());
        }
        let n = gruppi.len();
        let data_ora = format!("{giorno}T07:00:00");
        for (i, ((dom, psp), pagamenti)) in gruppi.into_iter().enumerate() {
            let somma = pagamenti
                .iter()
                .fold(Importo::ZERO, |a, p| a.checked_add(p.importo).unwrap_or(a));
            let dichiarato = if wrong && i == 0 {
                somma
                    .checked_add(Importo::from_cents(1).unwrap_or(Importo::ZERO))
                    .unwrap_or(somma)
            } else {
                somma
            };
            let iuf = format!("{giorno}{psp}-S{:09}", st.flussi.len() + 1);
            let f = FlussoRiversamento {
                testata: TestataFlusso {
                    versione_oggetto: "1.0".into(),
                    identificativo_flusso: iuf.clone(),
                    data_ora_flusso: DataOra::parse(&data_ora).unwrap_or_else(|_| {
                        DataOra::parse("2026-01-01T00:00:00").expect("literal")
                    }),
                    // The settlement's reference (a TRN, ≤ 35 characters); the
                    // `/PUR/LGPE-RIVERSAMENTO/URI/<IUF>` text is the credit transfer's
                    // causale, which only the treasury journal carries.
                    identificativo_univoco_regolamento: trn(giorno, st.flussi.len() + 1),
                    data_regolamento: giorno,
                    istituto_mittente: Istituto {
                        identificativo: IdentificativoUnivoco {
                            tipo: "B".into(),
                            codice: psp.clone(),
                        },
                        denominazione: None,
                    },
                    codice_bic_banca_di_riversamento: None,
                    istituto_ricevente: Istituto {
                        identificativo: IdentificativoUnivoco {
                            tipo: "G".into(),
                            codice: dom.clone(),
                        },
                        denominazione: None,
                    },
                    numero_totale_pagamenti: pagamenti.len() as u64,
                    importo_totale_pagamenti: dichiarato,
                },
                pagamenti,
            };
            st.bonifici.push((dom.clone(), iuf.clone(), somma, giorno));
            st.flussi
                .push((dom, iuf, data_ora.clone(), f.to_xml().into_bytes()));
        }
        st.rendicontate.extend(nuove);
        n
    }

    /// The treasurer's journal of the day for each dominio: one incoming movement per
    /// transfer not yet journaled (causale `/PUR/LGPE-RIVERSAMENTO/URI/<IUF>`), with the
    /// treasury faults applied.
    pub fn genera_tesoreria(
        &self,
        giorno: time::Date,
    ) -> HashMap<String, Vec<tesoreria::Movimento>> {
        let f = self.faults.lock().expect("lock").clone();
        let mut st = self.state.lock().expect("lock");
        let bonifici = std::mem::take(&mut st.bonifici);
        let mut out: HashMap<String, Vec<tesoreria::Movimento>> = HashMap::new();
        for (i, (dom, iuf, importo, _)) in bonifici.into_iter().enumerate() {
            if f.treasury_missing_transfer && i == 0 {
                continue;
            }
            st.movimenti += 1;
            out.entry(dom).or_default().push(tesoreria::Movimento {
                numero: st.movimenti,
                data: giorno,
                importo,
                ordinante: "PAGOPA SPA RIVERSAMENTO PSP".into(),
                causale: format!("/PUR/LGPE-RIVERSAMENTO/URI/{iuf}"),
            });
        }
        if f.treasury_unmatched_line {
            let dom = out
                .keys()
                .next()
                .cloned()
                .or_else(|| self.domini.lock().expect("lock").first().cloned());
            if let Some(dom) = dom {
                st.movimenti += 1;
                out.entry(dom).or_default().push(tesoreria::Movimento {
                    numero: st.movimenti,
                    data: giorno,
                    importo: Importo::from_cents(12_345).unwrap_or(Importo::ZERO),
                    ordinante: "ROSSI MARIO".into(),
                    causale: "BONIFICO DA PRIVATO SENZA RIFERIMENTI".into(),
                });
            }
        }
        out
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

fn stato_rpt_xml(stato: &str) -> String {
    let e = EsitoChiediStatoRPT {
        stato: stato.into(),
        redirect: None,
        url: None,
        storico_rpt: Vec::new(),
        storico_versamento: Vec::new(),
    };
    crate::soap::sanp2::NodoChiediStatoRPTRisposta {
        fault: None,
        esito: Some(e),
    }
    .write()
}

/// The operation's response carrying `f` (esito KO where the response has one).
fn fault_response(op: &str, f: FaultBean) -> String {
    match op {
        "nodoInviaRPT" => NodoInviaRPTRisposta {
            fault: Some(f),
            esito: Esito::KO,
            redirect: None,
            url: None,
        }
        .write(),
        "nodoInviaCarrelloRPT" => NodoInviaCarrelloRPTRisposta {
            fault: Some(f),
            esito: Esito::KO,
            url: None,
            lista_errori: None,
        }
        .write(),
        "nodoChiediStatoRPT" => crate::soap::sanp2::NodoChiediStatoRPTRisposta {
            fault: Some(f),
            esito: None,
        }
        .write(),
        "nodoChiediCopiaRT" => NodoChiediCopiaRTRisposta {
            fault: Some(f),
            tipo_firma: None,
            rt: None,
        }
        .write(),
        "nodoChiediElencoFlussiRendicontazione" => NodoChiediElencoFlussiRendicontazioneRisposta {
            fault: Some(f),
            elenco: None,
        }
        .write(),
        "nodoChiediFlussoRendicontazione" => NodoChiediFlussoRendicontazioneRisposta {
            fault: Some(f),
            xml_rendicontazione: None,
        }
        .write(),
        "nodoChiediListaPendentiRPT" => NodoChiediListaPendentiRPTRisposta {
            fault: Some(f),
            lista: None,
        }
        .write(),
        _ => crate::soap::write_soap_fault("soapenv:Client", &f.fault_string, Some(&f)),
    }
}

async fn nodo_soap(
    State(s): State<Simulator>,
    _h: HeaderMap,
    body: Bytes,
) -> ([(axum::http::HeaderName, &'static str); 1], String) {
    (
        [(axum::http::header::CONTENT_TYPE, "text/xml; charset=utf-8")],
        s.dispatch(&body).await,
    )
}

#[derive(serde::Deserialize)]
struct SessionQuery {
    #[serde(rename = "idSession")]
    id_session: String,
}

/// The checkout page (WISP 2.0 style): payment methods and PSPs with their maximum fee.
async fn pagina(State(s): State<Simulator>, Query(q): Query<SessionQuery>) -> Html<String> {
    let st = s.state.lock().expect("lock");
    let Some(keys) = st.sessions.get(&q.id_session) else {
        return Html("<p>Sessione sconosciuta</p>".into());
    };
    let totale = keys
        .iter()
        .filter_map(|k| st.rpts.get(k))
        .fold(Importo::ZERO, |a, r| {
            a.checked_add(r.rpt.dati_versamento.importo_totale)
                .unwrap_or(a)
        });
    let psp: String = PSP
        .iter()
        .map(|(id, nome, fee)| {
            format!(
                "<option value=\"{id}\">{nome} (commissione massima {} EUR)</option>",
                Importo::from_cents(*fee).unwrap_or(Importo::ZERO)
            )
        })
        .collect();
    Html(format!(
        "<!DOCTYPE html><html lang=\"it\"><head><meta charset=\"utf-8\"><title>pagoPA - simulatore</title></head><body>\
<h1>Paga {totale} EUR</h1><form method=\"post\" action=\"/pay/{sid}\">\
<fieldset><legend>Metodo</legend><label><input type=\"radio\" name=\"metodo\" value=\"carta\" checked> Carta</label>\
<label><input type=\"radio\" name=\"metodo\" value=\"conto\"> Conto corrente</label>\
<label><input type=\"radio\" name=\"metodo\" value=\"altro\"> Altri metodi</label></fieldset>\
<label>PSP <select name=\"psp\">{psp}</select></label>\
<button name=\"esito\" value=\"paga\">Paga</button> <button name=\"esito\" value=\"annulla\">Annulla</button></form></body></html>",
        sid = q.id_session
    ))
}

#[derive(serde::Deserialize)]
struct Scelta {
    #[allow(dead_code)]
    metodo: Option<String>,
    #[allow(dead_code)]
    psp: Option<String>,
    esito: String,
}

async fn paga(
    State(s): State<Simulator>,
    Path(session): Path<String>,
    Form(f): Form<Scelta>,
) -> Html<String> {
    let pagato = f.esito == "paga";
    if s.paga_sessione(&session, pagato).await {
        Html(format!(
            "<p>{}</p>",
            if pagato {
                "Pagamento eseguito"
            } else {
                "Pagamento annullato"
            }
        ))
    } else {
        Html("<p>Sessione sconosciuta</p>".into())
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

/// A settlement reference shaped like a SEPA TRN: day and a sequence, 20 characters.
fn trn(giorno: time::Date, n: usize) -> String {
    format!(
        "TRN{:04}{:02}{:02}{n:09}",
        giorno.year(),
        u8::from(giorno.month()),
        giorno.day()
    )
}
