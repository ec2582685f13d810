//! NodoPerPa.wsdl: the requests the gateway sends to the Nodo (nodoInviaRPT,
//! nodoInviaCarrelloRPT, nodoChiediStatoRPT, nodoChiediCopiaRT, the reporting-flow queries,
//! nodoChiediListaPendentiRPT) and the Nodo's answers.

use super::{Base64Doc, Esito, MAX_DOC_BYTES, MAX_FLOW_BYTES, ppt};
use crate::soap::{FaultBean, SoapError, de};
use crate::xml::Writer;
use serde::Deserialize;

// ---- nodoInviaRPT ----

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodoInviaRPT {
    pub password: String,
    pub id_psp: String,
    pub id_intermediario_psp: String,
    pub id_canale: String,
    pub tipo_firma: Option<String>,
    pub rpt: Base64Doc,
}

#[derive(Deserialize)]
struct NodoInviaRPTWire {
    password: String,
    #[serde(rename = "identificativoPSP")]
    id_psp: String,
    #[serde(rename = "identificativoIntermediarioPSP")]
    id_intermediario_psp: String,
    #[serde(rename = "identificativoCanale")]
    id_canale: String,
    #[serde(rename = "tipoFirma", default)]
    tipo_firma: Option<String>,
    rpt: String,
}

impl NodoInviaRPT {
    pub fn parse(xml: &str) -> Result<Self, SoapError> {
        let w: NodoInviaRPTWire = de("nodoInviaRPT", xml)?;
        Ok(NodoInviaRPT {
            rpt: Base64Doc::decode(&w.rpt, MAX_DOC_BYTES, "nodoInviaRPT/rpt")?,
            password: w.password,
            id_psp: w.id_psp,
            id_intermediario_psp: w.id_intermediario_psp,
            id_canale: w.id_canale,
            tipo_firma: w.tipo_firma.filter(|t| !t.is_empty()),
        })
    }
    pub fn write(&self) -> String {
        let (n, a) = ppt("nodoInviaRPT");
        let mut w = Writer::new();
        w.open_with(&n, &a)
            .leaf("password", &self.password)
            .leaf("identificativoPSP", &self.id_psp)
            .leaf("identificativoIntermediarioPSP", &self.id_intermediario_psp)
            .leaf("identificativoCanale", &self.id_canale)
            .leaf_opt("tipoFirma", self.tipo_firma.as_deref())
            .leaf("rpt", &self.rpt.encode())
            .close(&n);
        w.finish()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct NodoInviaRPTRisposta {
    #[serde(default)]
    pub fault: Option<FaultBean>,
    pub esito: Esito,
    #[serde(default)]
    pub redirect: Option<u8>,
    #[serde(default)]
    pub url: Option<String>,
}

impl NodoInviaRPTRisposta {
    pub fn parse(xml: &str) -> Result<Self, SoapError> {
        de("nodoInviaRPTRisposta", xml)
    }
    pub fn write(&self) -> String {
        let (n, a) = ppt("nodoInviaRPTRisposta");
        let mut w = Writer::new();
        w.open_with(&n, &a);
        crate::soap::fault::write_fault(&mut w, &self.fault);
        w.leaf("esito", self.esito.as_str())
            .leaf_opt("redirect", self.redirect.map(|r| r.to_string()).as_deref())
            .leaf_opt("url", self.url.as_deref())
            .close(&n);
        w.finish()
    }
}

// ---- nodoInviaCarrelloRPT ----

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ElementoListaRPT {
    pub id_dominio: String,
    pub iuv: String,
    pub ccp: String,
    pub tipo_firma: Option<String>,
    pub rpt: Base64Doc,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodoInviaCarrelloRPT {
    pub password: String,
    pub id_psp: String,
    pub id_intermediario_psp: String,
    pub id_canale: String,
    pub lista_rpt: Vec<ElementoListaRPT>,
    pub require_light_payment: Option<u8>,
    pub codice_convenzione: Option<String>,
    pub multi_beneficiario: Option<bool>,
}

#[derive(Deserialize)]
struct ElementoListaRPTWire {
    #[serde(rename = "identificativoDominio")]
    id_dominio: String,
    #[serde(rename = "identificativoUnivocoVersamento")]
    iuv: String,
    #[serde(rename = "codiceContestoPagamento")]
    ccp: String,
    #[serde(rename = "tipoFirma", default)]
    tipo_firma: Option<String>,
    rpt: String,
}

#[derive(Deserialize)]
struct ListaRPTWire {
    #[serde(rename = "elementoListaRPT", default)]
    elementi: Vec<ElementoListaRPTWire>,
}

#[derive(Deserialize)]
struct NodoInviaCarrelloRPTWire {
    password: String,
    #[serde(rename = "identificativoPSP")]
    id_psp: String,
    #[serde(rename = "identificativoIntermediarioPSP")]
    id_intermediario_psp: String,
    #[serde(rename = "identificativoCanale")]
    id_canale: String,
    #[serde(rename = "listaRPT")]
    lista: ListaRPTWire,
    #[serde(rename = "requireLightPayment", default)]
    require_light_payment: Option<u8>,
    #[serde(rename = "codiceConvenzione", default)]
    codice_convenzione: Option<String>,
    #[serde(rename = "multiBeneficiario", default)]
    multi_beneficiario: Option<String>,
}

impl NodoInviaCarrelloRPT {
    pub fn parse(xml: &str) -> Result<Self, SoapError> {
        let w: NodoInviaCarrelloRPTWire = de("nodoInviaCarrelloRPT", xml)?;
        let n = w.lista.elementi.len();
        if !(1..=5).contains(&n) {
            return Err(SoapError::Payload {
                element: "nodoInviaCarrelloRPT/listaRPT".into(),
                reason: format!("{n} RPT (1-5)"),
            });
        }
        let mut lista = Vec::with_capacity(n);
        for e in w.lista.elementi {
            lista.push(ElementoListaRPT {
                rpt: Base64Doc::decode(&e.rpt, MAX_DOC_BYTES, "elementoListaRPT/rpt")?,
                id_dominio: e.id_dominio,
                iuv: e.iuv,
                ccp: e.ccp,
                tipo_firma: e.tipo_firma.filter(|t| !t.is_empty()),
            });
        }
        let multi = match w.multi_beneficiario.as_deref().map(str::trim) {
            None => None,
            Some("true" | "1") => Some(true),
            Some("false" | "0") => Some(false),
            Some(other) => {
                return Err(SoapError::Payload {
                    element: "multiBeneficiario".into(),
                    reason: format!("'{other}' non è un boolean"),
                });
            }
        };
        Ok(NodoInviaCarrelloRPT {
            password: w.password,
            id_psp: w.id_psp,
            id_intermediario_psp: w.id_intermediario_psp,
            id_canale: w.id_canale,
            lista_rpt: lista,
            require_light_payment: w.require_light_payment,
            codice_convenzione: w.codice_convenzione,
            multi_beneficiario: multi,
        })
    }
    pub fn write(&self) -> String {
        let (n, a) = ppt("nodoInviaCarrelloRPT");
        let mut w = Writer::new();
        w.open_with(&n, &a)
            .leaf("password", &self.password)
            .leaf("identificativoPSP", &self.id_psp)
            .leaf("identificativoIntermediarioPSP", &self.id_intermediario_psp)
            .leaf("identificativoCanale", &self.id_canale)
            .open("listaRPT");
        for e in &self.lista_rpt {
            w.open("elementoListaRPT")
                .leaf("identificativoDominio", &e.id_dominio)
                .leaf("identificativoUnivocoVersamento", &e.iuv)
                .leaf("codiceContestoPagamento", &e.ccp)
                .leaf_opt("tipoFirma", e.tipo_firma.as_deref())
                .leaf("rpt", &e.rpt.encode())
                .close("elementoListaRPT");
        }
        w.close("listaRPT")
            .leaf_opt(
                "requireLightPayment",
                self.require_light_payment.map(|v| v.to_string()).as_deref(),
            )
            .leaf_opt("codiceConvenzione", self.codice_convenzione.as_deref())
            .leaf_opt(
                "multiBeneficiario",
                self.multi_beneficiario
                    .map(|b| if b { "true" } else { "false" }),
            )
            .close(&n);
        w.finish()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Default)]
pub struct ListaErroriRPT {
    #[serde(rename = "fault", default)]
    pub faults: Vec<FaultBean>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct NodoInviaCarrelloRPTRisposta {
    #[serde(default)]
    pub fault: Option<FaultBean>,
    #[serde(rename = "esitoComplessivoOperazione")]
    pub esito: Esito,
    #[serde(default)]
    pub url: Option<String>,
    #[serde(rename = "listaErroriRPT", default)]
    pub lista_errori: Option<ListaErroriRPT>,
}

impl NodoInviaCarrelloRPTRisposta {
    pub fn parse(xml: &str) -> Result<Self, SoapError> {
        de("nodoInviaCarrelloRPTRisposta", xml)
    }
    pub fn write(&self) -> String {
        let (n, a) = ppt("nodoInviaCarrelloRPTRisposta");
        let mut w = Writer::new();
        w.open_with(&n, &a);
        crate::soap::fault::write_fault(&mut w, &self.fault);
        w.leaf("esitoComplessivoOperazione", self.esito.as_str())
            .leaf_opt("url", self.url.as_deref());
        if let Some(l) = &self.lista_errori {
            w.open("listaErroriRPT");
            for f in &l.faults {
                f.write(&mut w, "fault", &[]);
            }
            w.close("listaErroriRPT");
        }
        w.close(&n);
        w.finish()
    }
}

// ---- nodoChiediStatoRPT / nodoChiediCopiaRT (same request shape) ----

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct RichiestaRPT {
    #[serde(rename = "identificativoIntermediarioPA")]
    pub id_intermediario_pa: String,
    #[serde(rename = "identificativoStazioneIntermediarioPA")]
    pub id_stazione: String,
    pub password: String,
    #[serde(rename = "identificativoDominio")]
    pub id_dominio: String,
    #[serde(rename = "identificativoUnivocoVersamento")]
    pub iuv: String,
    #[serde(rename = "codiceContestoPagamento")]
    pub ccp: String,
}

impl RichiestaRPT {
    /// `operation` is `nodoChiediStatoRPT` or `nodoChiediCopiaRT`.
    pub fn parse(operation: &str, xml: &str) -> Result<Self, SoapError> {
        de(operation, xml)
    }
    pub fn write(&self, operation: &str) -> String {
        let (n, a) = ppt(operation);
        let mut w = Writer::new();
        w.open_with(&n, &a)
            .leaf("identificativoIntermediarioPA", &self.id_intermediario_pa)
            .leaf("identificativoStazioneIntermediarioPA", &self.id_stazione)
            .leaf("password", &self.password)
            .leaf("identificativoDominio", &self.id_dominio)
            .leaf("identificativoUnivocoVersamento", &self.iuv)
            .leaf("codiceContestoPagamento", &self.ccp)
            .close(&n);
        w.finish()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ElementoStorico {
    pub data: String,
    pub stato: String,
    pub descrizione: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ElementoStoricoVersamento {
    pub progressivo: i32,
    pub data: String,
    pub stato: String,
    pub descrizione: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct EsitoChiediStatoRPT {
    pub stato: String,
    #[serde(default)]
    pub redirect: Option<u8>,
    #[serde(default)]
    pub url: Option<String>,
    #[serde(rename = "elementoStoricoRPT", default)]
    pub storico_rpt: Vec<ElementoStorico>,
    #[serde(rename = "elementoStoricoVersamento", default)]
    pub storico_versamento: Vec<ElementoStoricoVersamento>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct NodoChiediStatoRPTRisposta {
    #[serde(default)]
    pub fault: Option<FaultBean>,
    #[serde(default)]
    pub esito: Option<EsitoChiediStatoRPT>,
}

impl NodoChiediStatoRPTRisposta {
    pub fn parse(xml: &str) -> Result<Self, SoapError> {
        de("nodoChiediStatoRPTRisposta", xml)
    }
    pub fn write(&self) -> String {
        let (n, a) = ppt("nodoChiediStatoRPTRisposta");
        let mut w = Writer::new();
        w.open_with(&n, &a);
        crate::soap::fault::write_fault(&mut w, &self.fault);
        // The schema requires esito even next to a fault: an empty stato then.
        let empty = EsitoChiediStatoRPT {
            stato: String::new(),
            redirect: None,
            url: None,
            storico_rpt: vec![],
            storico_versamento: vec![],
        };
        {
            let e = self.esito.as_ref().unwrap_or(&empty);
            w.open("esito")
                .leaf("stato", &e.stato)
                .leaf_opt("redirect", e.redirect.map(|r| r.to_string()).as_deref())
                .leaf_opt("url", e.url.as_deref());
            for s in &e.storico_rpt {
                w.open("elementoStoricoRPT")
                    .leaf("data", &s.data)
                    .leaf("stato", &s.stato)
                    .leaf("descrizione", &s.descrizione)
                    .close("elementoStoricoRPT");
            }
            for s in &e.storico_versamento {
                w.open("elementoStoricoVersamento")
                    .leaf("progressivo", &s.progressivo.to_string())
                    .leaf("data", &s.data)
                    .leaf("stato", &s.stato)
                    .leaf("descrizione", &s.descrizione)
                    .close("elementoStoricoVersamento");
            }
            w.close("esito");
        }
        w.close(&n);
        w.finish()
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodoChiediCopiaRTRisposta {
    pub fault: Option<FaultBean>,
    pub tipo_firma: Option<String>,
    pub rt: Option<Base64Doc>,
}

#[derive(Deserialize)]
struct NodoChiediCopiaRTRispostaWire {
    #[serde(default)]
    fault: Option<FaultBean>,
    #[serde(rename = "tipoFirma", default)]
    tipo_firma: Option<String>,
    #[serde(default)]
    rt: Option<String>,
}

impl NodoChiediCopiaRTRisposta {
    pub fn parse(xml: &str) -> Result<Self, SoapError> {
        let w: NodoChiediCopiaRTRispostaWire = de("nodoChiediCopiaRTRisposta", xml)?;
        Ok(NodoChiediCopiaRTRisposta {
            fault: w.fault,
            tipo_firma: w.tipo_firma,
            rt: w
                .rt
                .filter(|r| !r.trim().is_empty())
                .map(|r| Base64Doc::decode(&r, MAX_DOC_BYTES, "nodoChiediCopiaRTRisposta/rt"))
                .transpose()?,
        })
    }
    pub fn write(&self) -> String {
        let (n, a) = ppt("nodoChiediCopiaRTRisposta");
        let mut w = Writer::new();
        w.open_with(&n, &a);
        crate::soap::fault::write_fault(&mut w, &self.fault);
        w.leaf_opt("tipoFirma", self.tipo_firma.as_deref())
            .leaf_opt("rt", self.rt.as_ref().map(Base64Doc::encode).as_deref())
            .close(&n);
        w.finish()
    }
}

// ---- rendicontazione ----

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct NodoChiediElencoFlussiRendicontazione {
    #[serde(rename = "identificativoIntermediarioPA")]
    pub id_intermediario_pa: String,
    #[serde(rename = "identificativoStazioneIntermediarioPA")]
    pub id_stazione: String,
    pub password: String,
    #[serde(rename = "identificativoDominio", default)]
    pub id_dominio: Option<String>,
    #[serde(rename = "identificativoPSP", default)]
    pub id_psp: Option<String>,
}

impl NodoChiediElencoFlussiRendicontazione {
    pub fn parse(xml: &str) -> Result<Self, SoapError> {
        de("nodoChiediElencoFlussiRendicontazione", xml)
    }
    pub fn write(&self) -> String {
        let (n, a) = ppt("nodoChiediElencoFlussiRendicontazione");
        let mut w = Writer::new();
        w.open_with(&n, &a)
            .leaf("identificativoIntermediarioPA", &self.id_intermediario_pa)
            .leaf("identificativoStazioneIntermediarioPA", &self.id_stazione)
            .leaf("password", &self.password)
            .leaf_opt("identificativoDominio", self.id_dominio.as_deref())
            .leaf_opt("identificativoPSP", self.id_psp.as_deref())
            .close(&n);
        w.finish()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct IdRendicontazione {
    #[serde(rename = "identificativoFlusso")]
    pub identificativo_flusso: String,
    #[serde(rename = "dataOraFlusso")]
    pub data_ora_flusso: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Default)]
pub struct ElencoFlussiRendicontazione {
    /// Real responses may omit it on an empty list.
    #[serde(rename = "totRestituiti", default)]
    pub tot_restituiti: Option<u32>,
    #[serde(rename = "idRendicontazione", default)]
    pub flussi: Vec<IdRendicontazione>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct NodoChiediElencoFlussiRendicontazioneRisposta {
    #[serde(default)]
    pub fault: Option<FaultBean>,
    #[serde(rename = "elencoFlussiRendicontazione", default)]
    pub elenco: Option<ElencoFlussiRendicontazione>,
}

impl NodoChiediElencoFlussiRendicontazioneRisposta {
    pub fn parse(xml: &str) -> Result<Self, SoapError> {
        de("nodoChiediElencoFlussiRendicontazioneRisposta", xml)
    }
    pub fn write(&self) -> String {
        let (n, a) = ppt("nodoChiediElencoFlussiRendicontazioneRisposta");
        let mut w = Writer::new();
        w.open_with(&n, &a);
        crate::soap::fault::write_fault(&mut w, &self.fault);
        if let Some(e) = &self.elenco {
            w.open("elencoFlussiRendicontazione").leaf(
                "totRestituiti",
                &e.tot_restituiti
                    .unwrap_or(e.flussi.len() as u32)
                    .to_string(),
            );
            for f in &e.flussi {
                w.open("idRendicontazione")
                    .leaf("identificativoFlusso", &f.identificativo_flusso)
                    .leaf("dataOraFlusso", &f.data_ora_flusso)
                    .close("idRendicontazione");
            }
            w.close("elencoFlussiRendicontazione");
        }
        w.close(&n);
        w.finish()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct NodoChiediFlussoRendicontazione {
    #[serde(rename = "identificativoIntermediarioPA")]
    pub id_intermediario_pa: String,
    #[serde(rename = "identificativoStazioneIntermediarioPA")]
    pub id_stazione: String,
    pub password: String,
    #[serde(rename = "identificativoDominio", default)]
    pub id_dominio: Option<String>,
    #[serde(rename = "identificativoPSP", default)]
    pub id_psp: Option<String>,
    #[serde(rename = "identificativoFlusso")]
    pub id_flusso: String,
}

impl NodoChiediFlussoRendicontazione {
    pub fn parse(xml: &str) -> Result<Self, SoapError> {
        de("nodoChiediFlussoRendicontazione", xml)
    }
    pub fn write(&self) -> String {
        let (n, a) = ppt("nodoChiediFlussoRendicontazione");
        let mut w = Writer::new();
        w.open_with(&n, &a)
            .leaf("identificativoIntermediarioPA", &self.id_intermediario_pa)
            .leaf("identificativoStazioneIntermediarioPA", &self.id_stazione)
            .leaf("password", &self.password)
            .leaf_opt("identificativoDominio", self.id_dominio.as_deref())
            .leaf_opt("identificativoPSP", self.id_psp.as_deref())
            .leaf("identificativoFlusso", &self.id_flusso)
            .close(&n);
        w.finish()
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodoChiediFlussoRendicontazioneRisposta {
    pub fault: Option<FaultBean>,
    pub xml_rendicontazione: Option<Base64Doc>,
}

#[derive(Deserialize)]
struct NodoChiediFlussoRendicontazioneRispostaWire {
    #[serde(default)]
    fault: Option<FaultBean>,
    #[serde(rename = "xmlRendicontazione", default)]
    xml: Option<String>,
}

impl NodoChiediFlussoRendicontazioneRisposta {
    pub fn parse(xml: &str) -> Result<Self, SoapError> {
        let w: NodoChiediFlussoRendicontazioneRispostaWire =
            de("nodoChiediFlussoRendicontazioneRisposta", xml)?;
        Ok(Self {
            fault: w.fault,
            xml_rendicontazione: w
                .xml
                .filter(|x| !x.trim().is_empty())
                .map(|x| Base64Doc::decode(&x, MAX_FLOW_BYTES, "xmlRendicontazione"))
                .transpose()?,
        })
    }
    pub fn write(&self) -> String {
        let (n, a) = ppt("nodoChiediFlussoRendicontazioneRisposta");
        let mut w = Writer::new();
        w.open_with(&n, &a);
        crate::soap::fault::write_fault(&mut w, &self.fault);
        w.leaf_opt(
            "xmlRendicontazione",
            self.xml_rendicontazione
                .as_ref()
                .map(Base64Doc::encode)
                .as_deref(),
        )
        .close(&n);
        w.finish()
    }
}

// ---- nodoChiediListaPendentiRPT ----

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct NodoChiediListaPendentiRPT {
    #[serde(rename = "identificativoIntermediarioPA")]
    pub id_intermediario_pa: String,
    #[serde(rename = "identificativoStazioneIntermediarioPA")]
    pub id_stazione: String,
    pub password: String,
    #[serde(rename = "identificativoDominio", default)]
    pub id_dominio: Option<String>,
    #[serde(rename = "rangeDa", default)]
    pub range_da: Option<String>,
    #[serde(rename = "rangeA", default)]
    pub range_a: Option<String>,
    #[serde(rename = "dimensioneLista")]
    pub dimensione_lista: u32,
}

impl NodoChiediListaPendentiRPT {
    pub fn parse(xml: &str) -> Result<Self, SoapError> {
        de("nodoChiediListaPendentiRPT", xml)
    }
    pub fn write(&self) -> String {
        let (n, a) = ppt("nodoChiediListaPendentiRPT");
        let mut w = Writer::new();
        w.open_with(&n, &a)
            .leaf("identificativoIntermediarioPA", &self.id_intermediario_pa)
            .leaf("identificativoStazioneIntermediarioPA", &self.id_stazione)
            .leaf("password", &self.password)
            .leaf_opt("identificativoDominio", self.id_dominio.as_deref())
            .leaf_opt("rangeDa", self.range_da.as_deref())
            .leaf_opt("rangeA", self.range_a.as_deref())
            .leaf("dimensioneLista", &self.dimensione_lista.to_string())
            .close(&n);
        w.finish()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct RptPendente {
    #[serde(rename = "identificativoDominio")]
    pub id_dominio: String,
    #[serde(rename = "identificativoUnivocoVersamento")]
    pub iuv: String,
    #[serde(rename = "codiceContestoPagamento")]
    pub ccp: String,
    pub stato: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Default)]
pub struct ListaRPTPendenti {
    #[serde(rename = "totRestituiti", default)]
    pub tot_restituiti: Option<u32>,
    #[serde(rename = "rptPendente", default)]
    pub rpt: Vec<RptPendente>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct NodoChiediListaPendentiRPTRisposta {
    #[serde(default)]
    pub fault: Option<FaultBean>,
    #[serde(rename = "listaRPTPendenti", default)]
    pub lista: Option<ListaRPTPendenti>,
}

impl NodoChiediListaPendentiRPTRisposta {
    pub fn parse(xml: &str) -> Result<Self, SoapError> {
        de("nodoChiediListaPendentiRPTRisposta", xml)
    }
    pub fn write(&self) -> String {
        let (n, a) = ppt("nodoChiediListaPendentiRPTRisposta");
        let mut w = Writer::new();
        w.open_with(&n, &a);
        crate::soap::fault::write_fault(&mut w, &self.fault);
        if let Some(l) = &self.lista {
            w.open("listaRPTPendenti").leaf(
                "totRestituiti",
                &l.tot_restituiti.unwrap_or(l.rpt.len() as u32).to_string(),
            );
            for r in &l.rpt {
                w.open("rptPendente")
                    .leaf("identificativoDominio", &r.id_dominio)
                    .leaf("identificativoUnivocoVersamento", &r.iuv)
                    .leaf("codiceContestoPagamento", &r.ccp)
                    .leaf("stato", &r.stato)
                    .close("rptPendente");
            }
            w.close("listaRPTPendenti");
        }
        w.close(&n);
        w.finish()
    }
}
