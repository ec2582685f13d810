//! FlussoRiversamento 1.0.4/1.0.5 (reporting flow, namespace `pay_i`). The reader streams:
//! one pass, bounded memory whatever the file size, one callback per datiSingoliPagamenti,
//! with the hostile-input checks (DTD, depth, control characters) done inline. Totals that
//! do not add up are reported, not fatal: real flows carry such mistakes. So are values
//! that break a facet of the FlussoRiversamento 1.0.4 schema (a length, a pattern, an
//! enumeration) where the value is still usable: the read stays lenient, and each kind of
//! deviation is counted and kept with one example, so an operator sees which PSP sends what.
//!
//! The reader is [`lettura`]; this module holds the types and writes the XML.

mod lettura;
mod scansione;
#[cfg(test)]
mod tests;

pub use lettura::parse_stream;

use super::rpt::{DataOra, DocError, IdentificativoUnivoco};
use super::{Importo, Iuv};
use crate::xml::{NS_PAY_I, Writer};
use time::Date;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Istituto {
    pub identificativo: IdentificativoUnivoco,
    pub denominazione: Option<String>,
}

/// Everything of a flow but its payments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestataFlusso {
    pub versione_oggetto: String,
    pub identificativo_flusso: String,
    pub data_ora_flusso: DataOra,
    pub identificativo_univoco_regolamento: String,
    pub data_regolamento: Date,
    pub istituto_mittente: Istituto,
    pub codice_bic_banca_di_riversamento: Option<String>,
    pub istituto_ricevente: Istituto,
    pub numero_totale_pagamenti: u64,
    pub importo_totale_pagamenti: Importo,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PagamentoFlusso {
    pub iuv: Iuv,
    pub iur: String,
    /// Position in the RT's datiSingoloPagamento (1..5), or idTransfer in the new model.
    pub indice: Option<u8>,
    pub importo: Importo,
    /// 0 eseguito, 3 revocato, 4 stand-in, 8 stand-in senza RPT, 9 eseguito senza RPT.
    pub codice_esito: u8,
    pub data_esito: Date,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlussoRiversamento {
    pub testata: TestataFlusso,
    pub pagamenti: Vec<PagamentoFlusso>,
}

/// What a streamed flow declared against what it carried.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conteggi {
    pub pagamenti: u64,
    pub somma: Importo,
    /// The schema facets the flow breaks, one entry per field and rule.
    pub deviazioni: Vec<Deviazione>,
}

/// A schema facet a flow breaks, read leniently: which field, which rule, how many
/// times, and the first offending value (cut to 70 characters).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deviazione {
    /// The element's path below FlussoRiversamento, e.g. `identificativoUnivocoRegolamento`.
    pub campo: &'static str,
    pub regola: &'static str,
    pub volte: u64,
    pub esempio: String,
}

impl std::fmt::Display for Deviazione {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {} ('{}'", self.campo, self.regola, self.esempio)?;
        if self.volte > 1 {
            write!(f, ", {} volte", self.volte)?;
        }
        write!(f, ")")
    }
}

impl TestataFlusso {
    /// Inconsistencies between declared and actual totals, in words.
    pub fn anomalie(&self, c: &Conteggi) -> Vec<String> {
        let mut out = Vec::new();
        if self.numero_totale_pagamenti != c.pagamenti {
            out.push(format!(
                "numeroTotalePagamenti {} ma {} datiSingoliPagamenti",
                self.numero_totale_pagamenti, c.pagamenti
            ));
        }
        if self.importo_totale_pagamenti != c.somma {
            out.push(format!(
                "importoTotalePagamenti {} ma somma dei pagamenti {}",
                self.importo_totale_pagamenti, c.somma
            ));
        }
        out
    }
}

impl FlussoRiversamento {
    /// Whole-document convenience over [`parse_stream`].
    pub fn parse(bytes: &[u8]) -> Result<FlussoRiversamento, DocError> {
        Self::leggi(bytes).map(|(f, _)| f)
    }

    /// Like [`FlussoRiversamento::parse`], with what the reading counted: totals and the
    /// schema deviations it let through.
    pub fn leggi(bytes: &[u8]) -> Result<(FlussoRiversamento, Conteggi), DocError> {
        let mut pagamenti = Vec::new();
        let (testata, c) = parse_stream(bytes, crate::xml::Limits::FLOW.max_bytes as u64, |p| {
            pagamenti.push(p);
            Ok(())
        })?;
        Ok((FlussoRiversamento { testata, pagamenti }, c))
    }

    /// Totals of the payments held (no deviations: those belong to a reading).
    pub fn conteggi(&self) -> Conteggi {
        Conteggi {
            pagamenti: self.pagamenti.len() as u64,
            somma: self
                .pagamenti
                .iter()
                .fold(Importo::ZERO, |a, p| a.checked_add(p.importo).unwrap_or(a)),
            deviazioni: Vec::new(),
        }
    }

    pub fn to_xml(&self) -> String {
        let t = &self.testata;
        let mut w = Writer::with_declaration();
        let d = |d: Date| format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day());
        w.open_with("pay_i:FlussoRiversamento", &[("xmlns:pay_i", NS_PAY_I)])
            .leaf("pay_i:versioneOggetto", &t.versione_oggetto)
            .leaf("pay_i:identificativoFlusso", &t.identificativo_flusso)
            .leaf("pay_i:dataOraFlusso", t.data_ora_flusso.as_str())
            .leaf(
                "pay_i:identificativoUnivocoRegolamento",
                &t.identificativo_univoco_regolamento,
            )
            .leaf("pay_i:dataRegolamento", &d(t.data_regolamento));
        for (outer, suffix, ist) in [
            ("pay_i:istitutoMittente", "Mittente", &t.istituto_mittente),
            (
                "pay_i:istitutoRicevente",
                "Ricevente",
                &t.istituto_ricevente,
            ),
        ] {
            w.open(outer);
            ist.identificativo
                .write(&mut w, &format!("pay_i:identificativoUnivoco{suffix}"));
            w.leaf_opt(
                &format!("pay_i:denominazione{suffix}"),
                ist.denominazione.as_deref(),
            )
            .close(outer);
            if suffix == "Mittente" {
                w.leaf_opt(
                    "pay_i:codiceBicBancaDiRiversamento",
                    t.codice_bic_banca_di_riversamento.as_deref(),
                );
            }
        }
        w.leaf(
            "pay_i:numeroTotalePagamenti",
            &t.numero_totale_pagamenti.to_string(),
        )
        .leaf(
            "pay_i:importoTotalePagamenti",
            &t.importo_totale_pagamenti.to_string(),
        );
        for p in &self.pagamenti {
            w.open("pay_i:datiSingoliPagamenti")
                .leaf("pay_i:identificativoUnivocoVersamento", p.iuv.as_str())
                .leaf("pay_i:identificativoUnivocoRiscossione", &p.iur)
                .leaf_opt(
                    "pay_i:indiceDatiSingoloPagamento",
                    p.indice.map(|i| i.to_string()).as_deref(),
                )
                .leaf("pay_i:singoloImportoPagato", &p.importo.to_string())
                .leaf(
                    "pay_i:codiceEsitoSingoloPagamento",
                    &p.codice_esito.to_string(),
                )
                .leaf("pay_i:dataEsitoSingoloPagamento", &d(p.data_esito))
                .close("pay_i:datiSingoliPagamenti");
        }
        w.close("pay_i:FlussoRiversamento");
        w.finish()
    }
}
