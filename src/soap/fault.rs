//! pagoPA faults: the catalogue of PAA_* (raised by the ente creditore) and PPT_* (raised by
//! the Nodo) codes with their official faultString (SANP 2.1 chap. 10, tab. 52, punctuation
//! included), and the `faultBean` that carries them. Texts for the few PPT codes absent from
//! that table (intermediario/iscrizione/RT_DUPLICATA/TIMEOUT/ERRORE_RESPONSE) follow the
//! catalogue's wording and are only emitted by the simulator.

use crate::xml::Writer;
use serde::Deserialize;

macro_rules! fault_codes {
    ($($variant:ident = $code:literal, $text:literal;)*) => {
        /// Every fault code with a defined meaning. Unknown codes from the wire are kept as
        /// strings in [`FaultBean::fault_code`].
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum FaultCode { $($variant,)* }

        impl FaultCode {
            pub const ALL: &'static [FaultCode] = &[$(FaultCode::$variant,)*];

            pub fn code(self) -> &'static str {
                match self { $(FaultCode::$variant => $code,)* }
            }

            /// The official faultString paired 1:1 with the code.
            pub fn fault_string(self) -> &'static str {
                match self { $(FaultCode::$variant => $text,)* }
            }

            pub fn parse(s: &str) -> Option<FaultCode> {
                match s { $($code => Some(FaultCode::$variant),)* _ => None }
            }
        }
    };
}

fault_codes! {
    PaaPagamentoSconosciuto = "PAA_PAGAMENTO_SCONOSCIUTO", "Pagamento in attesa risulta sconosciuto all'Ente Creditore";
    PaaPagamentoDuplicato = "PAA_PAGAMENTO_DUPLICATO", "Pagamento in attesa risulta concluso all'Ente Creditore";
    PaaPagamentoInCorso = "PAA_PAGAMENTO_IN_CORSO", "Pagamento in attesa risulta in corso all'Ente Creditore";
    PaaPagamentoAnnullato = "PAA_PAGAMENTO_ANNULLATO", "Pagamento in attesa risulta annullato all'Ente Creditore";
    PaaPagamentoScaduto = "PAA_PAGAMENTO_SCADUTO", "Pagamento in attesa risulta scaduto all'Ente Creditore";
    PaaAttivaRptImportoNonValido = "PAA_ATTIVA_RPT_IMPORTO_NON_VALIDO", "L'importo del pagamento in attesa non è congruente con il dato indicato dal PSP";
    PaaSintassiXsd = "PAA_SINTASSI_XSD", "Errore di sintassi XSD";
    PaaSintassiExtraxsd = "PAA_SINTASSI_EXTRAXSD", "Errore di sintassi extra XSD";
    PaaSemantica = "PAA_SEMANTICA", "Errore semantico";
    PaaIdDominioErrato = "PAA_ID_DOMINIO_ERRATO", "La PAA non corrisponde al Dominio indicato";
    PaaIdIntermediarioErrato = "PAA_ID_INTERMEDIARIO_ERRATO", "Identificativo intermediario non corrispondente";
    PaaStazioneIntErrata = "PAA_STAZIONE_INT_ERRATA", "Stazione intermediario non corrispondente";
    PaaRptSconosciuta = "PAA_RPT_SCONOSCIUTA", "La RPT risulta sconosciuta";
    PaaRtDuplicata = "PAA_RT_DUPLICATA", "La RT è già stata accettata";
    PaaRtSconosciuta = "PAA_RT_SCONOSCIUTA", "RT sconosciuta";
    PaaReceiptDuplicata = "PAA_RECEIPT_DUPLICATA", "La CtReceipt è già stata accettata";
    PaaErDuplicata = "PAA_ER_DUPLICATA", "Esito Revoca duplicato";
    PaaTipofirmaSconosciuto = "PAA_TIPOFIRMA_SCONOSCIUTO", "Il campo tipoFirma non corrisponde ad alcun valore previsto";
    PaaErroreFormatoBustaFirmata = "PAA_ERRORE_FORMATO_BUSTA_FIRMATA", "Formato busta di firma errato o non corrispondente al tipoFirma";
    PaaFirmaErrata = "PAA_FIRMA_ERRATA", "Errore di firma";
    PaaFirmaIndisponibile = "PAA_FIRMA_INDISPONIBILE", "Impossibile firmare";
    PaaSystemError = "PAA_SYSTEM_ERROR", "Errore generico";
    PptAutenticazione = "PPT_AUTENTICAZIONE", "Errore di autenticazione";
    PptAutorizzazione = "PPT_AUTORIZZAZIONE", "Il richiedente non ha i diritti per l'operazione";
    PptCanaleDisabilitato = "PPT_CANALE_DISABILITATO", "Canale conosciuto ma disabilitato da configurazione.";
    PptCanaleErrParamPagImm = "PPT_CANALE_ERR_PARAM_PAG_IMM", "Parametri restituiti dal Canale per identificare il pagamento non corretti";
    PptCanaleErrore = "PPT_CANALE_ERRORE", "Errore restituito dal Canale.";
    PptCanaleErroreResponse = "PPT_CANALE_ERRORE_RESPONSE", "La response ricevuta dal Canale è vuota o non corretta sintatticamente o semanticamente";
    PptCanaleIndisponibile = "PPT_CANALE_INDISPONIBILE", "Nessun canale utilizzabile e abilitato.";
    PptCanaleIrraggiungibile = "PPT_CANALE_IRRAGGIUNGIBILE", "Errore di connessione verso il Canale.";
    PptCanaleNonrisolvibile = "PPT_CANALE_NONRISOLVIBILE", "Il canale non è specificato, e nessun canale risulta utilizzabile secondo configurazione.";
    PptCanaleSconosciuto = "PPT_CANALE_SCONOSCIUTO", "Canale sconosciuto.";
    PptCanaleServizioNonattivo = "PPT_CANALE_SERVIZIO_NONATTIVO", "Il Servizio Applicativo del Canale non è attivo.";
    PptCanaleTimeout = "PPT_CANALE_TIMEOUT", "Timeout risposta dal Canale.";
    PptCodificaPspSconosciuta = "PPT_CODIFICA_PSP_SCONOSCIUTA", "Valore di codificaInfrastruttura PSP non censito.";
    PptDominioDisabilitato = "PPT_DOMINIO_DISABILITATO", "Dominio disabilitato";
    PptDominioSconosciuto = "PPT_DOMINIO_SCONOSCIUTO", "Identificativo Dominio sconosciuto.";
    PptErroreEmessoDaPaa = "PPT_ERRORE_EMESSO_DA_PAA", "Errore restituito dall’Ente Creditore.";
    PptErroreFormatoBustaFirmata = "PPT_ERRORE_FORMATO_BUSTA_FIRMATA", "Formato busta di firma errato o non corrispondente al tipoFirma.";
    PptFirmaIndisponibile = "PPT_FIRMA_INDISPONIBILE", "Impossibile firmare.";
    PptIbanNonCensito = "PPT_IBAN_NON_CENSITO", "Il codice IBAN indicato dal EC non è presente nella lista degli IBAN comunicati al sistema pagoPA";
    PptIdCarrelloDuplicato = "PPT_ID_CARRELLO_DUPLICATO", "Identificativo Carrello RPT duplicato.";
    PptIdFlussoSconosciuto = "PPT_ID_FLUSSO_SCONOSCIUTO", "Identificativo flusso sconosciuto.";
    PptIntermediarioPaDisabilitato = "PPT_INTERMEDIARIO_PA_DISABILITATO", "Intermediario dominio disabilitato";
    PptIntermediarioPaSconosciuto = "PPT_INTERMEDIARIO_PA_SCONOSCIUTO", "IdentificativoIntermediarioPA sconosciuto";
    PptIntermediarioPspDisabilitato = "PPT_INTERMEDIARIO_PSP_DISABILITATO", "Intermediario PSP disabilitato";
    PptIntermediarioPspSconosciuto = "PPT_INTERMEDIARIO_PSP_SCONOSCIUTO", "Intermediario PSP sconosciuto";
    PptIscrizioneNonPresente = "PPT_ISCRIZIONE_NON_PRESENTE", "Iscrizione non presente";
    PptUlterioreIscrizione = "PPT_ULTERIORE_ISCRIZIONE", "Ulteriore iscrizione precedentemente censita";
    PptOperNonRevocabile = "PPT_OPER_NON_REVOCABILE", "Operazione non revocabile";
    PptOperNonStornabile = "PPT_OPER_NON_STORNABILE", "Operazione non stornabile.";
    PptPspDisabilitato = "PPT_PSP_DISABILITATO", "PSP conosciuto ma disabilitato da configurazione";
    PptPspSconosciuto = "PPT_PSP_SCONOSCIUTO", "PSP sconosciuto";
    PptRptDuplicata = "PPT_RPT_DUPLICATA", "RPT duplicata.";
    PptRptNonInoltrabile = "PPT_RPT_NON_INOLTRABILE", "RPT non inoltrabile";
    PptRptSconosciuta = "PPT_RPT_SCONOSCIUTA", "RPT sconosciuta.";
    PptRtDuplicata = "PPT_RT_DUPLICATA", "RT duplicata";
    PptRtNondisponibile = "PPT_RT_NONDISPONIBILE", "RT non ancora pronta.";
    PptRtSconosciuta = "PPT_RT_SCONOSCIUTA", "RT sconosciuta.";
    PptSemantica = "PPT_SEMANTICA", "Errore semantico.";
    PptSintassiExtraxsd = "PPT_SINTASSI_EXTRAXSD", "Errore di sintassi extra XSD.";
    PptSintassiXsd = "PPT_SINTASSI_XSD", "Errore di sintassi XSD.";
    PptStazioneIntPaDisabilitata = "PPT_STAZIONE_INT_PA_DISABILITATA", "Stazione disabilitata.";
    PptStazioneIntPaIrraggiungibile = "PPT_STAZIONE_INT_PA_IRRAGGIUNGIBILE", "Errore di connessione verso la Stazione";
    PptStazioneIntPaSconosciuta = "PPT_STAZIONE_INT_PA_SCONOSCIUTA", "IdentificativoStazioneRichiedente sconosciuto.";
    PptStazioneIntPaServizioNonattivo = "PPT_STAZIONE_INT_PA_SERVIZIO_NONATTIVO", "Il Servizio Applicativo della Stazione non e’attivo";
    PptStazioneIntPaTimeout = "PPT_STAZIONE_INT_PA_TIMEOUT", "Timeout risposta dalla Stazione";
    PptStazioneIntPaErroreResponse = "PPT_STAZIONE_INT_PA_ERRORE_RESPONSE", "Errore di risposta dalla stazione";
    PptSuperamentosoglia = "PPT_SUPERAMENTOSOGLIA", "Una qualche soglia fissata per PPT è temporaneamente superata e la richiesta è quindi rifiutata.";
    PptSystemError = "PPT_SYSTEM_ERROR", "Errore generico.";
    PptTipofirmaSconosciuto = "PPT_TIPOFIRMA_SCONOSCIUTO", "Il campo tipoFirma non corrisponde ad alcun valore previsto.";
    PptWispSessioneSconosciuta = "PPT_WISP_SESSIONE_SCONOSCIUTA", "La tripletta idDominio+keyPA+keyWISP non corrisponde ad alcuna sessione memorizzata nella componente WISP.";
    PptWispTimeoutRecuperoScelta = "PPT_WISP_TIMEOUT_RECUPERO_SCELTA", "La tripletta idDominio+keyPA+keyWISP è relativa ad una scelta effettuata scaduta.";
}

/// Who raises Nodo faults.
pub const NODO_ID: &str = "NodoDeiPagamentiSPC";

/// `ppt:faultBean` (also `common:ctFaultBean` in the new model: same fields).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct FaultBean {
    #[serde(rename = "faultCode")]
    pub fault_code: String,
    #[serde(rename = "faultString")]
    pub fault_string: String,
    pub id: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub serial: Option<i32>,
    #[serde(rename = "originalFaultCode", default)]
    pub original_fault_code: Option<String>,
    #[serde(rename = "originalFaultString", default)]
    pub original_fault_string: Option<String>,
    #[serde(rename = "originalDescription", default)]
    pub original_description: Option<String>,
}

impl FaultBean {
    /// A fault with the official string for its code.
    pub fn new(code: FaultCode, id: impl Into<String>, description: Option<String>) -> Self {
        FaultBean {
            fault_code: code.code().to_owned(),
            fault_string: code.fault_string().to_owned(),
            id: id.into(),
            description,
            serial: None,
            original_fault_code: None,
            original_fault_string: None,
            original_description: None,
        }
    }

    pub fn code(&self) -> Option<FaultCode> {
        FaultCode::parse(&self.fault_code)
    }

    /// The code that matters to the caller: the EC's original one when the Nodo relays it
    /// (PPT_ERRORE_EMESSO_DA_PAA), else the fault's own.
    pub fn effective_code(&self) -> &str {
        match (&self.original_fault_code, self.fault_code.as_str()) {
            (Some(o), "PPT_ERRORE_EMESSO_DA_PAA" | "PPT_CANALE_ERRORE") => o,
            _ => &self.fault_code,
        }
    }

    /// Writes `<{name} attrs…>` with the fields in schema order (unqualified children).
    pub fn write(&self, w: &mut Writer, name: &str, attrs: &[(&str, &str)]) {
        w.open_with(name, attrs)
            .leaf("faultCode", &self.fault_code)
            .leaf("faultString", &self.fault_string)
            .leaf("id", &self.id)
            .leaf_opt("description", self.description.as_deref());
        if let Some(s) = self.serial {
            w.leaf("serial", &s.to_string());
        }
        w.leaf_opt("originalFaultCode", self.original_fault_code.as_deref())
            .leaf_opt("originalFaultString", self.original_fault_string.as_deref())
            .leaf_opt("originalDescription", self.original_description.as_deref())
            .close(name);
    }
}

/// Writes `<fault>` when there is one (responses put it first in SANP 2, after `outcome`
/// in the new model).
pub fn write_fault(w: &mut Writer, fault: &Option<FaultBean>) {
    if let Some(f) = fault {
        f.write(w, "fault", &[]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_round_trips_and_has_its_prefix() {
        for &c in FaultCode::ALL {
            assert_eq!(FaultCode::parse(c.code()), Some(c));
            assert!(c.code().starts_with("PAA_") || c.code().starts_with("PPT_"));
            assert!(!c.fault_string().is_empty());
        }
        assert_eq!(
            FaultCode::PaaRtDuplicata.fault_string(),
            "La RT è già stata accettata"
        );
        assert_eq!(FaultCode::parse("PPT_SOMETHING_NEW"), None);
    }

    #[test]
    fn relayed_ec_fault_exposes_the_original_code() {
        let mut f = FaultBean::new(FaultCode::PptErroreEmessoDaPaa, "77777777777", None);
        f.original_fault_code = Some("PAA_PAGAMENTO_SCADUTO".into());
        assert_eq!(f.effective_code(), "PAA_PAGAMENTO_SCADUTO");
    }
}
