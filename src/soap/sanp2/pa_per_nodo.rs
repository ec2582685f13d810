//! PaPerNodo.wsdl (and PaPerNodoPagamentoPsp.wsdl): the requests the Nodo sends to the EC
//! (paaVerificaRPT, paaAttivaRPT, paaInviaRT) and the EC's double-wrapped answers.

use super::{Base64Doc, Esito, MAX_DOC_BYTES, ppt};
use crate::model::Importo;
use crate::model::rpt::{Ente, Soggetto};
use crate::soap::{FaultBean, NS_PAY_I, NS_PPT, SoapError, de};
use crate::xml::Writer;
use serde::Deserialize;

// ---- paaVerificaRPT / paaAttivaRPT (EC side) ----

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct PaaVerificaRPT {
    #[serde(rename = "identificativoPSP")]
    pub id_psp: String,
}

impl PaaVerificaRPT {
    pub fn parse(xml: &str) -> Result<Self, SoapError> {
        match crate::soap::foglie(xml, ["identificativoPSP"]) {
            Some([psp]) => Ok(PaaVerificaRPT {
                id_psp: psp.to_owned(),
            }),
            None => de("paaVerificaRPT", xml),
        }
    }
    pub fn write(&self) -> String {
        let (n, a) = ppt("paaVerificaRPT");
        let mut w = Writer::new();
        w.open_with(&n, &a)
            .leaf("identificativoPSP", &self.id_psp)
            .close(&n);
        w.finish()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct SpezzoneStrutturato {
    #[serde(rename = "causaleSpezzone")]
    pub causale: String,
    #[serde(rename = "importoSpezzone")]
    pub importo: Importo,
}

/// One piece of spezzoniCausaleVersamento: free text or structured (tributo + interessi…).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub enum Spezzone {
    #[serde(rename = "spezzoneCausaleVersamento")]
    Testo(String),
    #[serde(rename = "spezzoneStrutturatoCausaleVersamento")]
    Strutturato(SpezzoneStrutturato),
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Spezzoni {
    #[serde(rename = "$value")]
    pub items: Vec<Spezzone>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct DatiPagamentoPA {
    #[serde(rename = "importoSingoloVersamento")]
    pub importo: Importo,
    #[serde(rename = "ibanAccredito")]
    pub iban_accredito: String,
    #[serde(rename = "bicAccredito", default)]
    pub bic_accredito: Option<String>,
    #[serde(rename = "enteBeneficiario", default)]
    pub ente_beneficiario: Option<Ente>,
    #[serde(rename = "credenzialiPagatore", default)]
    pub credenziali_pagatore: Option<String>,
    #[serde(rename = "causaleVersamento", default)]
    pub causale: Option<String>,
    #[serde(rename = "spezzoniCausaleVersamento", default)]
    pub spezzoni: Option<Spezzoni>,
}

impl DatiPagamentoPA {
    fn write(&self, w: &mut Writer) {
        w.open("datiPagamentoPA")
            .leaf("importoSingoloVersamento", &self.importo.to_string())
            .leaf("ibanAccredito", &self.iban_accredito)
            .leaf_opt("bicAccredito", self.bic_accredito.as_deref());
        if let Some(e) = &self.ente_beneficiario {
            e.write(w, "enteBeneficiario", "Beneficiario");
        }
        w.leaf_opt("credenzialiPagatore", self.credenziali_pagatore.as_deref());
        // The schema makes causale and spezzoni a choice: spezzoni win when both are set.
        match &self.spezzoni {
            Some(s) => {
                w.open("spezzoniCausaleVersamento");
                for it in &s.items {
                    match it {
                        Spezzone::Testo(t) => {
                            w.leaf("spezzoneCausaleVersamento", t);
                        }
                        Spezzone::Strutturato(s) => {
                            w.open("spezzoneStrutturatoCausaleVersamento")
                                .leaf("causaleSpezzone", &s.causale)
                                .leaf("importoSpezzone", &s.importo.to_string())
                                .close("spezzoneStrutturatoCausaleVersamento");
                        }
                    }
                }
                w.close("spezzoniCausaleVersamento");
            }
            None => {
                w.leaf_opt("causaleVersamento", self.causale.as_deref());
            }
        }
        w.close("datiPagamentoPA");
    }
}

/// esitoVerificaRPT / esitoAttivaRPT, the inner element of the double-wrapped response.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct EsitoPaa {
    #[serde(default)]
    pub fault: Option<FaultBean>,
    pub esito: Esito,
    #[serde(rename = "datiPagamentoPA", default)]
    pub dati_pagamento_pa: Option<DatiPagamentoPA>,
}

#[derive(Deserialize)]
struct VerificaOuter {
    #[serde(rename = "paaVerificaRPTRisposta")]
    inner: EsitoPaa,
}

#[derive(Deserialize)]
struct AttivaOuter {
    #[serde(rename = "paaAttivaRPTRisposta")]
    inner: EsitoPaa,
}

impl EsitoPaa {
    pub fn ok(dati: DatiPagamentoPA) -> Self {
        EsitoPaa {
            fault: None,
            esito: Esito::OK,
            dati_pagamento_pa: Some(dati),
        }
    }

    pub fn ko(fault: FaultBean) -> Self {
        EsitoPaa {
            fault: Some(fault),
            esito: Esito::KO,
            dati_pagamento_pa: None,
        }
    }

    pub fn parse_verifica(xml: &str) -> Result<Self, SoapError> {
        de::<VerificaOuter>("paaVerificaRPTRisposta", xml).map(|o| o.inner)
    }

    pub fn parse_attiva(xml: &str) -> Result<Self, SoapError> {
        de::<AttivaOuter>("paaAttivaRPTRisposta", xml).map(|o| o.inner)
    }

    /// `element` is `paaVerificaRPTRisposta` or `paaAttivaRPTRisposta`.
    pub fn write(&self, element: &str) -> String {
        let outer = format!("ppt:{element}");
        let mut w = Writer::new();
        w.open_with(&outer, &[("xmlns:ppt", NS_PPT), ("xmlns:pay_i", NS_PAY_I)])
            .open(element);
        crate::soap::fault::write_fault(&mut w, &self.fault);
        w.leaf("esito", self.esito.as_str());
        if let Some(d) = &self.dati_pagamento_pa {
            d.write(&mut w);
        }
        w.close(element).close(&outer);
        w.finish()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct DatiPagamentoPSP {
    #[serde(rename = "importoSingoloVersamento")]
    pub importo: Importo,
    #[serde(rename = "ibanAppoggio", default)]
    pub iban_appoggio: Option<String>,
    #[serde(rename = "bicAppoggio", default)]
    pub bic_appoggio: Option<String>,
    #[serde(rename = "soggettoVersante", default)]
    pub soggetto_versante: Option<Soggetto>,
    #[serde(rename = "ibanAddebito", default)]
    pub iban_addebito: Option<String>,
    #[serde(rename = "bicAddebito", default)]
    pub bic_addebito: Option<String>,
    #[serde(rename = "soggettoPagatore", default)]
    pub soggetto_pagatore: Option<Soggetto>,
}

impl DatiPagamentoPSP {
    /// The amount alone, as a PSP that names no accounts or subjects sends it.
    pub fn solo_importo(importo: Importo) -> Self {
        DatiPagamentoPSP {
            importo,
            iban_appoggio: None,
            bic_appoggio: None,
            soggetto_versante: None,
            iban_addebito: None,
            bic_addebito: None,
            soggetto_pagatore: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct PaaAttivaRPT {
    #[serde(rename = "identificativoPSP")]
    pub id_psp: String,
    #[serde(rename = "datiPagamentoPSP")]
    pub dati_pagamento_psp: DatiPagamentoPSP,
    #[serde(rename = "identificativoIntermediarioPSP")]
    pub id_intermediario_psp: String,
    #[serde(rename = "identificativoCanalePSP")]
    pub id_canale_psp: String,
}

impl PaaAttivaRPT {
    pub fn parse(xml: &str) -> Result<Self, SoapError> {
        de("paaAttivaRPT", xml)
    }
    pub fn write(&self) -> String {
        let (n, _) = ppt("paaAttivaRPT");
        let d = &self.dati_pagamento_psp;
        let mut w = Writer::new();
        w.open_with(&n, &[("xmlns:ppt", NS_PPT), ("xmlns:pay_i", NS_PAY_I)])
            .leaf("identificativoPSP", &self.id_psp)
            .open("datiPagamentoPSP")
            .leaf("importoSingoloVersamento", &d.importo.to_string())
            .leaf_opt("ibanAppoggio", d.iban_appoggio.as_deref())
            .leaf_opt("bicAppoggio", d.bic_appoggio.as_deref());
        if let Some(v) = &d.soggetto_versante {
            v.write(&mut w, "soggettoVersante", "Versante");
        }
        w.leaf_opt("ibanAddebito", d.iban_addebito.as_deref())
            .leaf_opt("bicAddebito", d.bic_addebito.as_deref());
        if let Some(p) = &d.soggetto_pagatore {
            p.write(&mut w, "soggettoPagatore", "Pagatore");
        }
        w.close("datiPagamentoPSP")
            .leaf("identificativoIntermediarioPSP", &self.id_intermediario_psp)
            .leaf("identificativoCanalePSP", &self.id_canale_psp)
            .close(&n);
        w.finish()
    }
}

// ---- paaInviaRT ----

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaaInviaRT {
    /// Deprecated; real senders omit it.
    pub tipo_firma: Option<String>,
    pub rt: Base64Doc,
}

#[derive(Deserialize)]
struct PaaInviaRTWire {
    #[serde(rename = "tipoFirma", default)]
    tipo_firma: Option<String>,
    rt: String,
}

impl PaaInviaRT {
    pub fn parse(xml: &str) -> Result<Self, SoapError> {
        let w: PaaInviaRTWire = de("paaInviaRT", xml)?;
        Ok(PaaInviaRT {
            tipo_firma: w.tipo_firma.filter(|t| !t.is_empty()),
            rt: Base64Doc::decode(&w.rt, MAX_DOC_BYTES, "paaInviaRT/rt")?,
        })
    }
    pub fn write(&self) -> String {
        let (n, a) = ppt("paaInviaRT");
        let mut w = Writer::new();
        // tipoFirma is mandatory in the schema: send the neutral value when unset.
        w.open_with(&n, &a)
            .leaf("tipoFirma", self.tipo_firma.as_deref().unwrap_or(""))
            .leaf("rt", &self.rt.encode())
            .close(&n);
        w.finish()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct EsitoPaaInviaRT {
    #[serde(default)]
    pub fault: Option<FaultBean>,
    pub esito: Esito,
}

#[derive(Deserialize)]
struct InviaRTOuter {
    #[serde(rename = "paaInviaRTRisposta")]
    inner: EsitoPaaInviaRT,
}

impl EsitoPaaInviaRT {
    pub fn parse(xml: &str) -> Result<Self, SoapError> {
        de::<InviaRTOuter>("paaInviaRTRisposta", xml).map(|o| o.inner)
    }
    pub fn write(&self) -> String {
        let mut w = Writer::new();
        w.open_with("ppt:paaInviaRTRisposta", &[("xmlns:ppt", NS_PPT)])
            .open("paaInviaRTRisposta");
        crate::soap::fault::write_fault(&mut w, &self.fault);
        w.leaf("esito", self.esito.as_str())
            .close("paaInviaRTRisposta")
            .close("ppt:paaInviaRTRisposta");
        w.finish()
    }
}
