//! A generated month of one ente's reconciliation inputs, as the files reach an operator:
//! the MyPay receipts export (in three parts), the back office's notifications, the PSPs'
//! reporting flows (several a day) and the treasurer's journal (CSV in two uploads, or one
//! OPI file a day). Deterministic: the same parameters give the same bytes, so the
//! reconciliation benchmark can re-import every file unchanged.
//!
//! Besides the ordinary case (receipt, notification, flow and treasury line agreeing) it
//! carries, at fixed rates, the cases an operator meets: receipts no flow reports, reported
//! payments whose receipt never came, receipts without a notification and notifications
//! without a receipt, DOPPI (a payment reported again with esito 9), flows never credited or
//! credited a cent short, causali written loosely (` URI ` for `/URI/`, a space inside the
//! IUF), punctual `/RFB/` credits and credits with no reference at all.

use super::tesoreria::{self, EnteTesoreria, Movimento};
use crate::dominio::ricevuta::NuovaRicevuta;
use crate::model::flusso::{FlussoRiversamento, Istituto, PagamentoFlusso, TestataFlusso};
use crate::model::rpt::{DataOra, IdentificativoUnivoco};
use crate::model::{Importo, Iuv, SegregationCode};
use time::{Date, Duration};

/// What to generate.
#[derive(Debug, Clone)]
pub struct Parametri {
    pub ente: String,
    /// The 6-character OPI `codice_ente`; with it, the journal comes as OPI, else as CSV.
    pub codice_ente_opi: Option<String>,
    pub segregazione: u8,
    /// Paid single payments in the month (receipts and reports are derived from these).
    pub pagamenti: usize,
    pub flussi_al_giorno: usize,
    /// The month's first day; the month has 30 days of payments.
    pub inizio: Date,
}

/// The month's files, in the order an operator receives them within each kind.
#[derive(Debug, Clone, Default)]
pub struct Mese {
    /// "Export pagati" CSV, in three parts of about a third each.
    pub ricevute: Vec<String>,
    /// "Pagati notificati" CSV.
    pub notifiche: String,
    /// One FlussoRiversamento XML per PSP flow.
    pub flussi: Vec<Vec<u8>>,
    /// The treasury journal: CSV in two uploads or one OPI file a day.
    pub tesoreria: Vec<Vec<u8>>,
    /// `csv` or `opi`: the `formato` of the treasury uploads.
    pub formato_tesoreria: &'static str,
    /// How many single payments the receipts carry, for the caller's report.
    pub righe_ricevute: usize,
}

const GIORNI: usize = 30;
const PSP: [&str; 4] = ["ABCDITMMXXX", "BPPIITRRXXX", "UNCRITMMXXX", "BCITITMMXXX"];

/// A MyPay export's receipt of one payment (the month's, and the benchmarks' large exports).
pub fn ricevuta(
    iuv: &str,
    iur: &str,
    cents: i64,
    giorno: Date,
    iud: Option<String>,
) -> NuovaRicevuta {
    NuovaRicevuta {
        iuv: iuv.to_owned(),
        iur: iur.to_owned(),
        indice: 1,
        iud,
        tipo_dovuto: Some(if cents % 3 == 0 { "TARI" } else { "CDS" }.into()),
        importo_cents: cents,
        totale_cents: cents,
        codice_esito: 0,
        data_esito: giorno,
        cf_pagatore: Some("RSSMRA85T10A562S".into()),
        anagrafica_pagatore: Some("Mario Rossi".into()),
        cf_versante: None,
        anagrafica_versante: None,
        attestante: Some(PSP[(cents % 4) as usize].into()),
        denominazione_attestante: Some("Banca".into()),
        causale: Some("Pagamento".into()),
        bilancio: None,
        fonte: "PAGATI",
        rt_id: None,
    }
}

fn notifica(iud: &str, iuv: &str, cents: i64, giorno: Date) -> String {
    let importo = Importo::from_cents(cents).unwrap_or(Importo::ZERO);
    format!(
        "{iud};{iuv};F;RSSMRA85T10A562S;Mario Rossi;;;;;;;;{giorno};{importo};;TARI;BBT;Pagamento;9/0101105IM/\n"
    )
}

fn flusso(
    ente: &str,
    iuf: &str,
    psp: &str,
    giorno: Date,
    pagamenti: Vec<PagamentoFlusso>,
) -> Vec<u8> {
    let ist = |tipo: &str, codice: &str| Istituto {
        identificativo: IdentificativoUnivoco {
            tipo: tipo.into(),
            codice: codice.into(),
        },
        denominazione: None,
    };
    let totale = pagamenti
        .iter()
        .fold(Importo::ZERO, |a, p| a.checked_add(p.importo).unwrap_or(a));
    let data_ora = DataOra::parse(&format!("{giorno}T07:00:00"))
        .or_else(|_| DataOra::parse("2026-01-01T07:00:00"));
    let Ok(data_ora_flusso) = data_ora else {
        return Vec::new();
    };
    FlussoRiversamento {
        testata: TestataFlusso {
            versione_oggetto: "1.0".into(),
            identificativo_flusso: iuf.into(),
            data_ora_flusso,
            identificativo_univoco_regolamento: format!("TRN{}", &iuf[iuf.len() - 9..]),
            data_regolamento: giorno,
            istituto_mittente: ist("B", psp),
            codice_bic_banca_di_riversamento: None,
            istituto_ricevente: ist("G", ente),
            numero_totale_pagamenti: pagamenti.len() as u64,
            importo_totale_pagamenti: totale,
        },
        pagamenti,
    }
    .to_xml()
    .into_bytes()
}

/// Generates the month; see the module documentation for what it contains.
pub fn genera(p: &Parametri) -> Mese {
    let Ok(seg) = SegregationCode::new(p.segregazione) else {
        return Mese::default();
    };
    let flussi_mese = GIORNI * p.flussi_al_giorno.max(1);
    let per_flusso = p.pagamenti.div_ceil(flussi_mese).max(1);
    let mut ricevute: Vec<String> = Vec::new();
    let mut notifiche = String::from(
        "IUD;codIuv;tipoIdentificativoUnivoco;codiceIdentificativoUnivoco;anagraficaPagatore;indirizzoPagatore;civicoPagatore;capPagatore;localitaPagatore;provinciaPagatore;nazionePagatore;mailPagatore;dataEsecuzionePagamento;importoDovutoPagato;commissioneCaricoPa;tipoDovuto;tipoVersamento;causaleVersamento;datiSpecificiRiscossione\n",
    );
    let mut flussi = Vec::new();
    let mut movimenti: Vec<Movimento> = Vec::new();
    let mut n: u64 = 0;
    let mut fatti = 0usize;
    for g in 0..GIORNI {
        let giorno = p.inizio + Duration::days(g as i64);
        for f in 0..p.flussi_al_giorno.max(1) {
            let k = g * p.flussi_al_giorno.max(1) + f;
            let psp = PSP[f % PSP.len()];
            let iuf = format!("{}{psp}-S{:09}", giorno + Duration::days(1), k + 1);
            let mut pagamenti = Vec::new();
            let quanti = per_flusso.min(p.pagamenti.saturating_sub(fatti));
            for _ in 0..quanti {
                n += 1;
                fatti += 1;
                let Ok(iuv) = Iuv::aux3(seg, n) else {
                    continue;
                };
                let iur = format!("IUR{}{n:010}", p.segregazione);
                let cents = 500 + (n as i64 * 7_919) % 49_500;
                let iud = (!n.is_multiple_of(53)).then(|| format!("IUD{n:012}"));
                if let Some(iud) = &iud {
                    notifiche.push_str(&notifica(iud, iuv.as_str(), cents, giorno));
                }
                // A receipt the export never carried: the flow reports it alone.
                if !n.is_multiple_of(97) {
                    ricevute.push(crate::recon::pagati::riga_csv(
                        &p.ente,
                        &ricevuta(iuv.as_str(), &iur, cents, giorno, iud.clone()),
                        None,
                    ));
                }
                // A punctual credit: no flow, the treasury line names the IUV.
                if n.is_multiple_of(89) {
                    movimenti.push(Movimento {
                        numero: 0,
                        data: giorno + Duration::days(2),
                        importo: Importo::from_cents(cents).unwrap_or(Importo::ZERO),
                        ordinante: "MARIO ROSSI".into(),
                        causale: format!(
                            "/RFB/{iuv}/{}/TXT/TARI",
                            Importo::from_cents(cents).unwrap_or(Importo::ZERO)
                        ),
                    });
                    continue;
                }
                let importo = Importo::from_cents(cents).unwrap_or(Importo::ZERO);
                pagamenti.push(PagamentoFlusso {
                    iuv: iuv.clone(),
                    iur: iur.clone(),
                    indice: Some(1),
                    importo,
                    codice_esito: 0,
                    data_esito: giorno,
                });
                // DOPPI: the same payment reported again as paid without RPT.
                if n.is_multiple_of(211) {
                    pagamenti.push(PagamentoFlusso {
                        iuv,
                        iur: format!("{iur}D"),
                        indice: Some(1),
                        importo,
                        codice_esito: 9,
                        data_esito: giorno,
                    });
                }
            }
            // A notification the back office sent for a payment that never happened.
            if k % 17 == 5 {
                notifiche.push_str(&notifica(&format!("IUDX{k:011}"), "", 1_234, giorno));
            }
            if pagamenti.is_empty() {
                continue;
            }
            let totale = pagamenti.iter().fold(0i64, |a, x| a + x.importo.cents());
            let regolamento = giorno + Duration::days(1);
            flussi.push(flusso(&p.ente, &iuf, psp, regolamento, pagamenti));
            // Some flows are never credited; some a cent short; causali written loosely.
            if k % 50 == 7 {
                continue;
            }
            let causale = match k % 5 {
                3 => format!("/PUR/LGPE-RIVERSAMENTO URI {iuf}"),
                4 => format!("/PUR/LGPE-RIVERSAMENTO/URI/{} {}", &iuf[..8], &iuf[8..]),
                _ => format!("/PUR/LGPE-RIVERSAMENTO/URI/{iuf}"),
            };
            movimenti.push(Movimento {
                numero: 0,
                data: regolamento + Duration::days(1),
                importo: Importo::from_cents(totale - i64::from(k % 71 == 3))
                    .unwrap_or(Importo::ZERO),
                ordinante: format!("{psp} PAGOPA"),
                causale,
            });
        }
        // A credit nobody can place.
        if g % 10 == 9 {
            movimenti.push(Movimento {
                numero: 0,
                data: giorno + Duration::days(1),
                importo: Importo::from_cents(777 + g as i64).unwrap_or(Importo::ZERO),
                ordinante: "SCONOSCIUTO".into(),
                causale: "BONIFICO SENZA RIFERIMENTI".into(),
            });
        }
    }
    movimenti.sort_by_key(|m| m.data);
    for (i, m) in movimenti.iter_mut().enumerate() {
        m.numero = i as u64 + 1;
    }
    let righe_ricevute = ricevute.len();
    let terzo = righe_ricevute.div_ceil(3).max(1);
    let ricevute = ricevute
        .chunks(terzo)
        .map(|c| {
            let mut s = String::from("intestazione\n");
            c.iter().for_each(|r| s.push_str(r));
            s
        })
        .collect();
    let (tesoreria, formato_tesoreria) = match &p.codice_ente_opi {
        None => {
            let (a, b) = movimenti.split_at(movimenti.len() / 2);
            (
                vec![
                    tesoreria::csv(a).into_bytes(),
                    tesoreria::csv(b).into_bytes(),
                ],
                "csv",
            )
        }
        Some(codice) => {
            let ente = EnteTesoreria {
                codice_fiscale: p.ente.clone(),
                codice_ente: codice.clone(),
                descrizione: "Comune".into(),
            };
            let mut files = Vec::new();
            for giorno in movimenti.chunk_by(|a, b| a.data == b.data) {
                files.push(tesoreria::opi_xml(&ente, giorno[0].data, giorno).into_bytes());
            }
            (files, "opi")
        }
    };
    Mese {
        ricevute,
        notifiche,
        flussi,
        tesoreria,
        formato_tesoreria,
        righe_ricevute,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_parameters_give_the_same_files_in_the_asked_shape() {
        let p = Parametri {
            ente: "80007580279".into(),
            codice_ente_opi: None,
            segregazione: 1,
            pagamenti: 3_000,
            flussi_al_giorno: 4,
            inizio: time::macros::date!(2026 - 11 - 01),
        };
        let a = genera(&p);
        let b = genera(&p);
        assert_eq!(a.flussi, b.flussi);
        assert_eq!(a.ricevute, b.ricevute);
        assert_eq!(a.ricevute.len(), 3);
        assert_eq!(a.flussi.len(), 120);
        assert_eq!(a.tesoreria.len(), 2);
        // Every payment but the ones the export lost (1 in 97).
        assert_eq!(a.righe_ricevute, 3_000 - 3_000 / 97);
        let opi = genera(&Parametri {
            codice_ente_opi: Some("ENTE01".into()),
            ..p
        });
        assert_eq!(opi.formato_tesoreria, "opi");
        assert!(opi.tesoreria.len() >= 30, "one OPI file a day");
        assert!(
            crate::recon::opi::leggi(&opi.tesoreria[0]).is_ok(),
            "the OPI files read back"
        );
    }
}
