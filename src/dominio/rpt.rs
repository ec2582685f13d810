//! The RPT (pagoPA 6.2.0) of one payment attempt for one dovuto: one versamento, credited
//! to the tipo dovuto's IBAN, the causale carrying the IUV and the amount of the day.

use crate::model::causale::{Causale, Riferimento};
use crate::model::rpt::{
    DataOra, DatiSingoloVersamento, DatiVersamento, Dominio, Ente, IdentificativoUnivoco, Rpt,
    Soggetto,
};
use crate::model::scadenza::data_italiana;
use crate::model::{IdDominio, Importo};
use crate::registry::{Dovuto, Pagatore};

/// The PSP that will collect an RPT: WISP's for portal payments, the activating PSP's for
/// modello 3.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Psp {
    pub id_psp: String,
    pub id_intermediario_psp: String,
    pub id_canale: String,
}

impl Psp {
    /// WISP 2.0 ids for payments started at the ente's portal (SANP 2.1 §8.1.1.5): the
    /// one place they are written.
    pub fn wisp() -> Psp {
        Psp {
            id_psp: "AGID_01".into(),
            id_intermediario_psp: "97735020584".into(),
            id_canale: "97735020584_02".into(),
        }
    }
}

/// The ente creditore as the RPT and paaVerificaRPT name it: its fiscal code and name.
pub fn ente_beneficiario(dominio: &str, denominazione: &str) -> Ente {
    let nome: String = denominazione.chars().take(70).collect();
    Ente::solo("G", dominio, &nome)
}

/// What an attempt's RPT is made of.
pub struct Tentativo<'a> {
    pub dovuto: &'a Dovuto,
    /// codiceContestoPagamento: the PSP's (paaAttivaRPT) or the cart id (portal).
    pub ccp: &'a str,
    /// The amount of the day (`posizione::prezzo`).
    pub importo: Importo,
    pub ente: Ente,
    pub iban_accredito: &'a str,
    /// PO after paaAttivaRPT, BBT for payments started at the portal.
    pub tipo_versamento: &'a str,
    pub versante: Option<Soggetto>,
    pub ora: time::OffsetDateTime,
}

/// The RPT pagoPA schema 6.2.0 expects; e-mails the RPT pattern would refuse are left out.
pub fn rpt(t: Tentativo<'_>) -> Result<Rpt, String> {
    let d = t.dovuto;
    let iuv = d.iuv.as_str();
    let id_dominio = IdDominio::parse(d.id_dominio.as_str()).map_err(|e| e.0)?;
    let causale = Causale {
        riferimento: Riferimento::Rfb(iuv.to_owned()),
        importo: Some(t.importo),
        testo: Some(d.causale.clone()),
    }
    .format();
    // Italian local time without zone, as the RPT's ISODateTime is read by the Nodo.
    let stamp = time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]");
    Ok(Rpt {
        versione_oggetto: "6.2.0".into(),
        dominio: Dominio {
            identificativo_dominio: id_dominio,
            identificativo_stazione_richiedente: None,
        },
        identificativo_messaggio_richiesta: uuid::Uuid::new_v4().simple().to_string(),
        data_ora_messaggio_richiesta: DataOra::parse(
            &crate::model::scadenza::ora_italiana(t.ora)
                .format(stamp)
                .map_err(|e| e.to_string())?,
        )
        .map_err(|e| e.0)?,
        autenticazione_soggetto: "N/A".into(),
        soggetto_versante: t.versante,
        soggetto_pagatore: soggetto(&d.pagatore),
        ente_beneficiario: t.ente,
        dati_versamento: DatiVersamento {
            data_esecuzione_pagamento: data_italiana(t.ora),
            importo_totale: t.importo,
            tipo_versamento: t.tipo_versamento.into(),
            iuv: d.iuv.clone(),
            ccp: t.ccp.to_owned(),
            iban_addebito: None,
            bic_addebito: None,
            firma_ricevuta: "0".into(),
            dati_singolo_versamento: vec![DatiSingoloVersamento {
                importo: t.importo,
                commissione_carico_pa: None,
                iban_accredito: Some(t.iban_accredito.to_owned()),
                bic_accredito: None,
                iban_appoggio: None,
                bic_appoggio: None,
                credenziali_pagatore: None,
                causale,
                dati_specifici_riscossione: d.dati_specifici_riscossione.to_string(),
                marca_bollo: None,
            }],
        },
    })
}

fn soggetto(p: &Pagatore) -> Soggetto {
    let email_ok = |e: &&String| {
        e.split_once('@').is_some_and(|(l, dom)| {
            !l.is_empty()
                && l.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"_.+-".contains(&b))
                && dom.split('.').all(|part| {
                    !part.is_empty() && part.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                })
        })
    };
    Soggetto {
        identificativo: IdentificativoUnivoco {
            tipo: p.tipo.as_str().into(),
            codice: p.codice_fiscale.to_string(),
        },
        anagrafica: p.anagrafica.clone(),
        indirizzo: p.indirizzo.clone(),
        civico: p.civico.clone(),
        cap: p.cap.clone(),
        localita: p.localita.clone(),
        provincia: p.provincia.clone(),
        nazione: p.nazione.clone(),
        email: p.email.as_ref().filter(email_ok).cloned(),
    }
}
