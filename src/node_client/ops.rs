//! The NodoPerPa operations the gateway uses, typed: a fault inside a response (esito KO)
//! is an error like a SOAP Fault, so callers match on [`NodoError::Fault`] codes.

use super::{Chiave, NodoClient, NodoError, Stazione};
use crate::soap::sanp2::{
    Base64Doc, ElementoListaRPT, Esito, EsitoChiediStatoRPT, IdRendicontazione,
    IntestazioneCarrelloPPT, IntestazionePPT, NodoChiediCopiaRTRisposta,
    NodoChiediElencoFlussiRendicontazione, NodoChiediElencoFlussiRendicontazioneRisposta,
    NodoChiediFlussoRendicontazione, NodoChiediFlussoRendicontazioneRisposta,
    NodoChiediListaPendentiRPT, NodoChiediListaPendentiRPTRisposta, NodoChiediStatoRPTRisposta,
    NodoInviaCarrelloRPT, NodoInviaCarrelloRPTRisposta, NodoInviaRPT, NodoInviaRPTRisposta,
    RichiestaRPT, RptPendente,
};
use crate::soap::{FaultBean, SoapError};

pub use crate::dominio::rpt::Psp;

/// One RPT of a cart.
#[derive(Debug, Clone)]
pub struct RptInCarrello {
    pub id_dominio: String,
    pub iuv: String,
    pub ccp: String,
    pub xml: Vec<u8>,
}

fn invalid(e: SoapError) -> NodoError {
    NodoError::Invalid(e.to_string())
}

/// A fault the Nodo implied without sending a faultBean.
fn nodo_fault(code: &str, string: &str) -> NodoError {
    NodoError::Fault(Box::new(FaultBean {
        fault_code: code.into(),
        fault_string: string.into(),
        id: crate::soap::fault::NODO_ID.into(),
        description: None,
        serial: None,
        original_fault_code: None,
        original_fault_string: None,
        original_description: None,
    }))
}

fn ko(fault: Option<FaultBean>) -> NodoError {
    match fault {
        Some(f) => NodoError::Fault(Box::new(f)),
        None => nodo_fault("PPT_SYSTEM_ERROR", "esito KO senza faultBean"),
    }
}

impl NodoClient {
    fn header(st: &Stazione, dom: &str, iuv: &str, ccp: &str) -> IntestazionePPT {
        IntestazionePPT {
            id_intermediario_pa: st.id_intermediario_pa.clone(),
            id_stazione: st.id_stazione.clone(),
            id_dominio: dom.into(),
            iuv: iuv.into(),
            ccp: ccp.into(),
        }
    }

    fn richiesta(st: Stazione, dom: &str, iuv: &str, ccp: &str) -> RichiestaRPT {
        RichiestaRPT {
            id_intermediario_pa: st.id_intermediario_pa,
            id_stazione: st.id_stazione,
            password: st.password,
            id_dominio: dom.into(),
            iuv: iuv.into(),
            ccp: ccp.into(),
        }
    }

    /// nodoInviaRPT: the redirect URL (modello 1), none for modello 3.
    pub async fn invia_rpt(
        &self,
        dom: &str,
        iuv: &str,
        ccp: &str,
        psp: &Psp,
        rpt: &[u8],
    ) -> Result<Option<String>, NodoError> {
        let st = self.stazione().await?;
        let body = NodoInviaRPT {
            password: st.password.clone(),
            id_psp: psp.id_psp.clone(),
            id_intermediario_psp: psp.id_intermediario_psp.clone(),
            id_canale: psp.id_canale.clone(),
            tipo_firma: None,
            rpt: Base64Doc(rpt.to_vec()),
        }
        .write();
        let key = Chiave {
            id_dominio: Some(dom.into()),
            iuv: Some(iuv.into()),
            ccp: Some(ccp.into()),
            id_psp: Some(psp.id_psp.clone()),
        };
        let xml = self
            .call(
                "nodoInviaRPT",
                Some(&Self::header(&st, dom, iuv, ccp).write()),
                &body,
                key,
            )
            .await?;
        let r = NodoInviaRPTRisposta::parse(&xml).map_err(invalid)?;
        match r.esito {
            Esito::OK => Ok(r.url),
            Esito::KO => Err(ko(r.fault)),
        }
    }

    /// nodoInviaCarrelloRPT: the checkout URL. The cart is accepted or refused whole.
    pub async fn invia_carrello(
        &self,
        id_carrello: &str,
        psp: &Psp,
        rpts: &[RptInCarrello],
        multi_beneficiario: bool,
    ) -> Result<Option<String>, NodoError> {
        let st = self.stazione().await?;
        let header = IntestazioneCarrelloPPT {
            id_intermediario_pa: st.id_intermediario_pa.clone(),
            id_stazione: st.id_stazione.clone(),
            id_carrello: id_carrello.into(),
        };
        let body = NodoInviaCarrelloRPT {
            password: st.password.clone(),
            id_psp: psp.id_psp.clone(),
            id_intermediario_psp: psp.id_intermediario_psp.clone(),
            id_canale: psp.id_canale.clone(),
            lista_rpt: rpts
                .iter()
                .map(|r| ElementoListaRPT {
                    id_dominio: r.id_dominio.clone(),
                    iuv: r.iuv.clone(),
                    ccp: r.ccp.clone(),
                    tipo_firma: None,
                    rpt: Base64Doc(r.xml.clone()),
                })
                .collect(),
            require_light_payment: None,
            codice_convenzione: None,
            multi_beneficiario: multi_beneficiario.then_some(true),
        }
        .write();
        let first = rpts.first();
        let key = Chiave {
            id_dominio: first.map(|r| r.id_dominio.clone()),
            iuv: first.map(|r| r.iuv.clone()),
            ccp: Some(id_carrello.into()),
            id_psp: Some(psp.id_psp.clone()),
        };
        let xml = self
            .call("nodoInviaCarrelloRPT", Some(&header.write()), &body, key)
            .await?;
        let r = NodoInviaCarrelloRPTRisposta::parse(&xml).map_err(invalid)?;
        match r.esito {
            Esito::OK => Ok(r.url),
            Esito::KO => {
                // The first per-RPT error explains a refusal without a global fault.
                let per_rpt = r.lista_errori.and_then(|l| l.faults.into_iter().next());
                Err(ko(r.fault.or(per_rpt)))
            }
        }
    }

    pub async fn chiedi_stato_rpt(
        &self,
        dom: &str,
        iuv: &str,
        ccp: &str,
    ) -> Result<EsitoChiediStatoRPT, NodoError> {
        let st = self.stazione().await?;
        let key = Chiave::rpt(dom, iuv, ccp);
        let body = Self::richiesta(st, dom, iuv, ccp).write("nodoChiediStatoRPT");
        let xml = self.call("nodoChiediStatoRPT", None, &body, key).await?;
        let r = NodoChiediStatoRPTRisposta::parse(&xml).map_err(invalid)?;
        match (r.fault, r.esito) {
            (None, Some(e)) => Ok(e),
            (f, _) => Err(ko(f)),
        }
    }

    /// nodoChiediCopiaRT: the RT bytes exactly as the Nodo holds them.
    pub async fn chiedi_copia_rt(
        &self,
        dom: &str,
        iuv: &str,
        ccp: &str,
    ) -> Result<Vec<u8>, NodoError> {
        let st = self.stazione().await?;
        let key = Chiave::rpt(dom, iuv, ccp);
        let body = Self::richiesta(st, dom, iuv, ccp).write("nodoChiediCopiaRT");
        let xml = self.call("nodoChiediCopiaRT", None, &body, key).await?;
        let r = NodoChiediCopiaRTRisposta::parse(&xml).map_err(invalid)?;
        match (r.fault, r.rt) {
            (None, Some(rt)) => Ok(rt.0),
            (Some(f), _) => Err(NodoError::Fault(Box::new(f))),
            (None, None) => Err(nodo_fault(
                "PPT_RT_SCONOSCIUTA",
                "RT non presente nella risposta",
            )),
        }
    }

    /// nodoChiediElencoFlussiRendicontazione for one dominio (an empty list is fine).
    pub async fn chiedi_elenco_flussi(
        &self,
        dom: &str,
    ) -> Result<Vec<IdRendicontazione>, NodoError> {
        let st = self.stazione().await?;
        let body = NodoChiediElencoFlussiRendicontazione {
            id_intermediario_pa: st.id_intermediario_pa.clone(),
            id_stazione: st.id_stazione.clone(),
            password: st.password.clone(),
            id_dominio: Some(dom.into()),
            id_psp: None,
        }
        .write();
        let key = Chiave::dominio(dom);
        let xml = self
            .call("nodoChiediElencoFlussiRendicontazione", None, &body, key)
            .await?;
        let r = NodoChiediElencoFlussiRendicontazioneRisposta::parse(&xml).map_err(invalid)?;
        if let Some(f) = r.fault {
            return Err(NodoError::Fault(Box::new(f)));
        }
        Ok(r.elenco.map(|e| e.flussi).unwrap_or_default())
    }

    /// nodoChiediFlussoRendicontazione: the FlussoRiversamento bytes.
    pub async fn chiedi_flusso(&self, dom: &str, id_flusso: &str) -> Result<Vec<u8>, NodoError> {
        let st = self.stazione().await?;
        let body = NodoChiediFlussoRendicontazione {
            id_intermediario_pa: st.id_intermediario_pa.clone(),
            id_stazione: st.id_stazione.clone(),
            password: st.password.clone(),
            id_dominio: Some(dom.into()),
            id_psp: None,
            id_flusso: id_flusso.into(),
        }
        .write();
        let key = Chiave::dominio(dom);
        let xml = self
            .call("nodoChiediFlussoRendicontazione", None, &body, key)
            .await?;
        let r = NodoChiediFlussoRendicontazioneRisposta::parse(&xml).map_err(invalid)?;
        match (r.fault, r.xml_rendicontazione) {
            (None, Some(x)) => Ok(x.0),
            (f, _) => Err(ko(f)),
        }
    }

    /// nodoChiediListaPendentiRPT: the dominio's RPTs the Nodo still holds open.
    pub async fn chiedi_lista_pendenti(
        &self,
        dom: &str,
        dimensione: u32,
    ) -> Result<Vec<RptPendente>, NodoError> {
        let st = self.stazione().await?;
        let body = NodoChiediListaPendentiRPT {
            id_intermediario_pa: st.id_intermediario_pa.clone(),
            id_stazione: st.id_stazione.clone(),
            password: st.password.clone(),
            id_dominio: Some(dom.into()),
            range_da: None,
            range_a: None,
            dimensione_lista: dimensione,
        }
        .write();
        let key = Chiave::dominio(dom);
        let xml = self
            .call("nodoChiediListaPendentiRPT", None, &body, key)
            .await?;
        let r = NodoChiediListaPendentiRPTRisposta::parse(&xml).map_err(invalid)?;
        if let Some(f) = r.fault {
            return Err(NodoError::Fault(Box::new(f)));
        }
        Ok(r.lista.map(|l| l.rpt).unwrap_or_default())
    }
}
