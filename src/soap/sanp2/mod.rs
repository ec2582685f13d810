//! SANP 2 messages (NodoPerPa.wsdl, PaPerNodo.wsdl, PaPerNodoPagamentoPsp.wsdl): headers,
//! requests and responses, each with `parse` (local names, any prefixes) and `write` (the
//! payload element with its own namespace declarations, children unqualified; RPT-typed
//! contents `pay_i`-qualified). Responses put `fault` before `esito`; EC responses are
//! double-wrapped (`ppt:paaXxxRisposta/paaXxxRisposta`).
//!
//! By direction: `nodo_per_pa` holds the NodoPerPa operations the gateway calls on the
//! Nodo, `pa_per_nodo` those the Nodo calls on the EC (PaPerNodo); this file the pieces both
//! share (headers, [`Esito`], [`Base64Doc`], size limits). Every message type is re-exported
//! here, so `soap::sanp2::X` paths do not depend on the split.

mod nodo_per_pa;
mod pa_per_nodo;

pub use nodo_per_pa::{
    ElementoListaRPT, ElementoStorico, ElementoStoricoVersamento, ElencoFlussiRendicontazione,
    EsitoChiediStatoRPT, IdRendicontazione, ListaErroriRPT, ListaRPTPendenti,
    NodoChiediCopiaRTRisposta, NodoChiediElencoFlussiRendicontazione,
    NodoChiediElencoFlussiRendicontazioneRisposta, NodoChiediFlussoRendicontazione,
    NodoChiediFlussoRendicontazioneRisposta, NodoChiediListaPendentiRPT,
    NodoChiediListaPendentiRPTRisposta, NodoChiediStatoRPTRisposta, NodoInviaCarrelloRPT,
    NodoInviaCarrelloRPTRisposta, NodoInviaRPT, NodoInviaRPTRisposta, RichiestaRPT, RptPendente,
};
pub use pa_per_nodo::{
    DatiPagamentoPA, DatiPagamentoPSP, EsitoPaa, EsitoPaaInviaRT, PaaAttivaRPT, PaaInviaRT,
    PaaVerificaRPT, Spezzone, SpezzoneStrutturato, Spezzoni,
};

use super::{NS_PPT, NS_PPTHEAD, SoapError, de};
use crate::xml::{Writer, decode_base64, encode_base64};
use serde::Deserialize;

/// Largest embedded RPT/RT accepted after base64 decoding.
pub const MAX_DOC_BYTES: usize = 1024 * 1024;
/// Largest embedded reporting flow accepted after base64 decoding.
pub const MAX_FLOW_BYTES: usize = 200 * 1024 * 1024;

fn ppt(name: &str) -> (String, [(&'static str, &'static str); 1]) {
    (format!("ppt:{name}"), [("xmlns:ppt", NS_PPT)])
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum Esito {
    OK,
    KO,
}

impl Esito {
    pub fn as_str(self) -> &'static str {
        match self {
            Esito::OK => "OK",
            Esito::KO => "KO",
        }
    }
}

/// A base64 payload, decoded after a size check (see [`decode_base64`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Base64Doc(pub Vec<u8>);

impl Base64Doc {
    fn decode(text: &str, max: usize, element: &str) -> Result<Self, SoapError> {
        decode_base64(text, max)
            .map(Base64Doc)
            .map_err(|e| SoapError::Payload {
                element: element.into(),
                reason: e.to_string(),
            })
    }
    fn encode(&self) -> String {
        encode_base64(&self.0)
    }
}

// ---- headers ----

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct IntestazionePPT {
    #[serde(rename = "identificativoIntermediarioPA")]
    pub id_intermediario_pa: String,
    #[serde(rename = "identificativoStazioneIntermediarioPA")]
    pub id_stazione: String,
    #[serde(rename = "identificativoDominio")]
    pub id_dominio: String,
    #[serde(rename = "identificativoUnivocoVersamento")]
    pub iuv: String,
    #[serde(rename = "codiceContestoPagamento")]
    pub ccp: String,
}

impl IntestazionePPT {
    /// Its leaves in order, as `soap::foglie` reads them.
    pub(crate) const FOGLIE: [&str; 5] = [
        "identificativoIntermediarioPA",
        "identificativoStazioneIntermediarioPA",
        "identificativoDominio",
        "identificativoUnivocoVersamento",
        "codiceContestoPagamento",
    ];
    pub fn parse(xml: &str) -> Result<Self, SoapError> {
        match crate::soap::foglie(xml, Self::FOGLIE) {
            Some([i, s, d, v, c]) => Ok(IntestazionePPT {
                id_intermediario_pa: i.to_owned(),
                id_stazione: s.to_owned(),
                id_dominio: d.to_owned(),
                iuv: v.to_owned(),
                ccp: c.to_owned(),
            }),
            None => de("intestazionePPT", xml),
        }
    }
    pub fn write(&self) -> String {
        let mut w = Writer::new();
        w.open_with("ppthead:intestazionePPT", &[("xmlns:ppthead", NS_PPTHEAD)])
            .leaf("identificativoIntermediarioPA", &self.id_intermediario_pa)
            .leaf("identificativoStazioneIntermediarioPA", &self.id_stazione)
            .leaf("identificativoDominio", &self.id_dominio)
            .leaf("identificativoUnivocoVersamento", &self.iuv)
            .leaf("codiceContestoPagamento", &self.ccp)
            .close("ppthead:intestazionePPT");
        w.finish()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct IntestazioneCarrelloPPT {
    #[serde(rename = "identificativoIntermediarioPA")]
    pub id_intermediario_pa: String,
    #[serde(rename = "identificativoStazioneIntermediarioPA")]
    pub id_stazione: String,
    #[serde(rename = "identificativoCarrello")]
    pub id_carrello: String,
}

impl IntestazioneCarrelloPPT {
    pub fn parse(xml: &str) -> Result<Self, SoapError> {
        de("intestazioneCarrelloPPT", xml)
    }
    pub fn write(&self) -> String {
        let mut w = Writer::new();
        w.open_with(
            "ppthead:intestazioneCarrelloPPT",
            &[("xmlns:ppthead", NS_PPTHEAD)],
        )
        .leaf("identificativoIntermediarioPA", &self.id_intermediario_pa)
        .leaf("identificativoStazioneIntermediarioPA", &self.id_stazione)
        .leaf("identificativoCarrello", &self.id_carrello)
        .close("ppthead:intestazioneCarrelloPPT");
        w.finish()
    }
}
