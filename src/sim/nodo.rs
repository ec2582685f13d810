//! The simulated Nodo's NodoPerPa endpoint: the SOAP dispatch, the checks the Nodo makes
//! on each request, and the answers (faults included).

use super::{Key, SimRpt, Simulator, fault};
use crate::model::Importo;
use crate::model::rpt::Rpt;
use crate::soap::sanp2::{
    Base64Doc, ElencoFlussiRendicontazione, Esito, EsitoChiediStatoRPT, IdRendicontazione,
    IntestazioneCarrelloPPT, IntestazionePPT, ListaRPTPendenti, NodoChiediCopiaRTRisposta,
    NodoChiediElencoFlussiRendicontazione, NodoChiediElencoFlussiRendicontazioneRisposta,
    NodoChiediFlussoRendicontazione, NodoChiediFlussoRendicontazioneRisposta,
    NodoChiediListaPendentiRPT, NodoChiediListaPendentiRPTRisposta, NodoInviaCarrelloRPT,
    NodoInviaCarrelloRPTRisposta, NodoInviaRPT, NodoInviaRPTRisposta, RichiestaRPT, RptPendente,
};
use crate::soap::{FaultBean, read_envelope, write_envelope};
use crate::xml::Limits;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;

impl Simulator {
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

pub(super) async fn nodo_soap(
    State(s): State<Simulator>,
    _h: HeaderMap,
    body: Bytes,
) -> ([(axum::http::HeaderName, &'static str); 1], String) {
    (
        [(axum::http::header::CONTENT_TYPE, "text/xml; charset=utf-8")],
        s.dispatch(&body).await,
    )
}
