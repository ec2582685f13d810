//! Day X+1: the reporting flows of the paid receipts and the treasurer's journal of the
//! transfers behind them.

use super::{Simulator, tesoreria};
use crate::model::Importo;
use crate::model::flusso::{FlussoRiversamento, Istituto, PagamentoFlusso, TestataFlusso};
use crate::model::rpt::{DataOra, IdentificativoUnivoco};
use std::collections::HashMap;

impl Simulator {
    /// Day X+1: one FlussoRiversamento per (dominio, PSP) for the positive RTs not yet
    /// reported. Returns how many flows were made.
    pub fn genera_flussi(&self, giorno: time::Date) -> usize {
        let wrong = self.faults.lock().expect("lock").wrong_flow_totals;
        let mut st = self.state.lock().expect("lock");
        let mut gruppi: HashMap<(String, String), Vec<PagamentoFlusso>> = HashMap::new();
        let mut nuove = Vec::new();
        // The RTs of SANP 2 payments and the receipts of new-model ones (each ente's own
        // receipt: a multi-beneficiary payment is reported to each ente in its own flow).
        let consegnate = st
            .rpts
            .iter()
            .filter_map(|(k, s)| Some((k, s.rt.as_deref()?, &s.id_psp)))
            .chain(st.ricevute.iter().map(|(k, (raw, psp))| (k, &raw[..], psp)));
        for (k, raw, id_psp) in consegnate {
            if st.rendicontate.contains(k) {
                continue;
            }
            let Ok((rt, _)) = crate::dominio::ricevuta::leggi(raw) else {
                continue;
            };
            if rt.dati_pagamento.codice_esito != 0 {
                continue;
            }
            for (i, p) in rt.dati_pagamento.dati_singolo_pagamento.iter().enumerate() {
                gruppi
                    .entry((k.0.clone(), id_psp.clone()))
                    .or_default()
                    .push(PagamentoFlusso {
                        iuv: rt.dati_pagamento.iuv.clone(),
                        iur: p.iur.clone(),
                        indice: p.indice.or(u8::try_from(i + 1).ok()),
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
