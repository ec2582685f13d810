//! The reconciliation export CSV, tracciati 1.0 to 1.4 (docs/riconciliazione.md §6.3):
//! `;`-separated, UTF-8, every field quoted, one line per (reconciled tuple × asked code) as
//! MyPivot's OR-join yields. Columns are MyPivot's names; those of data this gateway does not
//! keep (MyPivot's internal flow ids, CBI tags, OPI provvisorio data, primary-ente data of a
//! multi-beneficiary payment) are present and empty, so consumers of a tracciato find every
//! column where they expect it. Pure: the rows come in, bytes go out, page by page.

use super::classifica::Codice;
use super::riga::RigaRiconciliazione;

#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    serde::Serialize,
    serde::Deserialize,
    utoipa::ToSchema,
)]
pub enum Versione {
    #[serde(rename = "1.0")]
    V1_0,
    #[serde(rename = "1.1")]
    V1_1,
    #[serde(rename = "1.2")]
    V1_2,
    #[serde(rename = "1.3")]
    V1_3,
    #[serde(rename = "1.4")]
    V1_4,
}

impl Versione {
    pub fn parse(s: &str) -> Option<Versione> {
        Some(match s {
            "1.0" => Versione::V1_0,
            "1.1" => Versione::V1_1,
            "1.2" => Versione::V1_2,
            "1.3" => Versione::V1_3,
            "1.4" => Versione::V1_4,
            _ => return None,
        })
    }
}

/// A column: its name and how a line fills it.
type Col = (&'static str, fn(&RigaRiconciliazione) -> String);

fn s(v: &Option<String>) -> String {
    v.clone().unwrap_or_default()
}
fn eur(v: Option<i64>) -> String {
    v.map(|c| {
        let sign = if c < 0 { "-" } else { "" };
        format!("{sign}{}.{:02}", c.abs() / 100, c.abs() % 100)
    })
    .unwrap_or_default()
}
fn d(v: Option<time::Date>) -> String {
    v.map(|d| d.to_string()).unwrap_or_default()
}
fn vuoto(_: &RigaRiconciliazione) -> String {
    String::new()
}

const BLOCCO_I: &[Col] = &[
    ("codIudI", |r| {
        if r.importo_notificato_cents.is_some() {
            s(&r.iud)
        } else {
            String::new()
        }
    }),
    ("codRpSilinviarpIdUnivocoVersamentoI", |r| {
        if r.importo_notificato_cents.is_some() {
            s(&r.iuv)
        } else {
            String::new()
        }
    }),
    ("numRpDatiVersDatiSingVersImportoSingoloVersamentoI", |r| {
        eur(r.importo_notificato_cents)
    }),
    ("dtRpDatiVersDataEsecuzionePagamentoI", |r| {
        d(r.data_esecuzione)
    }),
    ("codTipoDovutoI", |r| {
        if r.importo_notificato_cents.is_some() {
            s(&r.tipo_dovuto)
        } else {
            String::new()
        }
    }),
    ("bilancioI", vuoto),
];

const BLOCCO_E: &[Col] = &[
    ("codIudE", |r| {
        if r.importo_pagato_cents.is_some() {
            s(&r.iud)
        } else {
            String::new()
        }
    }),
    ("codRpSilinviarpIdUnivocoVersamentoE", |r| {
        if r.importo_pagato_cents.is_some() {
            s(&r.iuv)
        } else {
            String::new()
        }
    }),
    ("codEDatiPagDatiSingPagIdUnivocoRiscossE", |r| {
        if r.importo_pagato_cents.is_some() {
            s(&r.iur)
        } else {
            String::new()
        }
    }),
    ("indiceDatiSingoloPagamentoE", |r| {
        if r.importo_pagato_cents.is_some() {
            r.indice.map(|i| i.to_string()).unwrap_or_default()
        } else {
            String::new()
        }
    }),
    ("numEDatiPagDatiSingPagSingoloImportoPagatoE", |r| {
        eur(r.importo_pagato_cents)
    }),
    ("numEDatiPagImportoTotalePagatoE", |r| {
        eur(r.totale_pagato_cents)
    }),
    ("dtEDatiPagDatiSingPagDataEsitoSingoloPagamentoE", |r| {
        d(r.data_esito)
    }),
    (
        "codESoggPagIdUnivPagCodiceIdUnivocoE",
        |r| s(&r.cf_pagatore),
    ),
    (
        "codEIstitAttIdUnivAttCodiceIdUnivocoE",
        |r| s(&r.attestante),
    ),
    ("codTipoDovutoE", |r| {
        if r.importo_pagato_cents.is_some() {
            s(&r.tipo_dovuto)
        } else {
            String::new()
        }
    }),
];

const BLOCCO_R: &[Col] = &[
    ("codIdentificativoFlussoR", |r| {
        if r.importo_rendicontato_cents.is_some() {
            s(&r.iuf)
        } else {
            String::new()
        }
    }),
    ("dtDataRegolamentoR", |r| d(r.data_regolamento)),
    ("numImportoTotalePagamentiR", |r| eur(r.totale_flusso_cents)),
    ("codIdentificativoUnivocoVersamentoR", |r| {
        if r.importo_rendicontato_cents.is_some() {
            s(&r.iuv)
        } else {
            String::new()
        }
    }),
    ("codIdentificativoUnivocoRiscossioneR", |r| {
        if r.importo_rendicontato_cents.is_some() {
            s(&r.iur)
        } else {
            String::new()
        }
    }),
    ("numSingoloImportoPagatoR", |r| {
        eur(r.importo_rendicontato_cents)
    }),
];

const BLOCCO_T: &[Col] = &[
    ("codContoTesoreria", |r| s(&r.conto)),
    ("dtDataContabileT", |r| d(r.data_contabile)),
    ("dtDataValutaT", |r| d(r.data_valuta)),
    ("numImportoTesoreria", |r| eur(r.importo_tesoreria_cents)),
    ("deDescrizioneOrdinanteT", |r| s(&r.ordinante)),
];

const BOLLETTA: &[Col] = &[
    ("codIdUnivocoFlussoT", |r| {
        if r.importo_tesoreria_cents.is_some() {
            s(&r.iuf)
        } else {
            String::new()
        }
    }),
    ("codIdUnivocoVersamentoT", |r| {
        if r.importo_tesoreria_cents.is_some() && r.iuf.is_none() {
            s(&r.iuv)
        } else {
            String::new()
        }
    }),
    ("deAnnoBollettaT", |r| {
        r.anno_bolletta.map(|a| a.to_string()).unwrap_or_default()
    }),
    ("codBollettaT", |r| s(&r.codice_bolletta)),
];

const MANAGE_ID: &[Col] = &[
    ("mygovManageFlussoIdI", vuoto),
    ("mygovManageFlussoIdE", vuoto),
    ("mygovManageFlussoIdR", vuoto),
    ("mygovManageFlussoIdT", vuoto),
];

const CBI_1_0: &[Col] = &[("codBi2T", vuoto), ("codOr1T", vuoto), ("codRi3T", vuoto)];
const CBI_1_1: &[Col] = &[("codOr1T", vuoto)];
const BILANCIO_E: &[Col] = &[("bilancioE", vuoto)];
const SOSPESO: &[Col] = &[
    ("dtEffettivaSospesoT", vuoto),
    ("codiceGestionaleProvvisorioT", vuoto),
];
const PA1: &[Col] = &[
    ("codTipoDovutoPa1", vuoto),
    ("deTipoDovutoPa1", vuoto),
    ("codTassonomicoDovutoPa1", vuoto),
    ("codFiscalePa1", vuoto),
    ("deNomePa1", vuoto),
];

/// The data columns of a tracciato, in order (classification and last update follow).
pub fn colonne(v: Versione) -> Vec<Col> {
    let mut c: Vec<Col> = Vec::new();
    match v {
        Versione::V1_0 => {
            c.extend(MANAGE_ID);
            c.extend(BLOCCO_I);
            c.extend(BLOCCO_E);
            c.extend(BLOCCO_R);
            c.extend(BLOCCO_T);
            c.extend(CBI_1_0);
        }
        Versione::V1_1 => {
            c.extend(BLOCCO_I);
            c.extend(BLOCCO_E);
            c.extend(BLOCCO_R);
            c.extend(BLOCCO_T);
            c.extend(CBI_1_1);
            c.extend(BOLLETTA);
        }
        Versione::V1_2 | Versione::V1_3 | Versione::V1_4 => {
            c.extend(BLOCCO_E);
            c.extend(BILANCIO_E);
            c.extend(BLOCCO_R);
            c.extend(BLOCCO_T);
            c.extend(CBI_1_1);
            c.extend(BOLLETTA);
            if v >= Versione::V1_3 {
                c.extend(SOSPESO);
            }
            if v >= Versione::V1_4 {
                c.extend(PA1);
            }
        }
    }
    c
}

fn writer() -> csv::Writer<Vec<u8>> {
    csv::WriterBuilder::new()
        .delimiter(b';')
        .quote_style(csv::QuoteStyle::Always)
        .from_writer(Vec::new())
}

/// The header line.
pub fn intestazione(v: Versione) -> Vec<u8> {
    let mut w = writer();
    let mut names: Vec<&str> = colonne(v).iter().map(|c| c.0).collect();
    names.push("classificazioneCompletezza");
    names.push("dtDataUltimoAggiornamento");
    // Writing to a Vec cannot fail.
    let _ = w.write_record(&names);
    w.into_inner().unwrap_or_default()
}

/// The lines of a page of rows and how many: one per row and code of `codici` it carries.
/// DOPPI is only in tracciati 1.0 and 1.4, as MyPivot, and its line carries no treasury
/// block (DOPPI is about the payment, [`RigaRiconciliazione::senza_tesoreria`]).
pub fn righe(v: Versione, rows: &[RigaRiconciliazione], codici: u64) -> (Vec<u8>, i64) {
    let cols = colonne(v);
    let mut w = writer();
    let mut n = 0;
    for r in rows {
        for c in Codice::da_maschera(r.codici as u64 & codici) {
            if c == Codice::DOPPI && !matches!(v, Versione::V1_0 | Versione::V1_4) {
                continue;
            }
            let doppio = (c == Codice::DOPPI).then(|| r.senza_tesoreria());
            let r = doppio.as_ref().unwrap_or(r);
            let mut rec: Vec<String> = cols.iter().map(|(_, f)| f(r)).collect();
            rec.push(c.nome().to_owned());
            rec.push(r.aggiornato_at.date().to_string());
            let _ = w.write_record(&rec);
            n += 1;
        }
    }
    (w.into_inner().unwrap_or_default(), n)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn riga(codici: u64) -> RigaRiconciliazione {
        RigaRiconciliazione {
            id: 1,
            codici: codici as i64,
            nomi_codici: Vec::new(),
            iud: Some("IUD1".into()),
            iuv: Some("01234567890123456".into()),
            iur: Some("IUR1".into()),
            indice: Some(1),
            iuf: Some("2026-11-27PSP-1".into()),
            tipo_dovuto: Some("TARI".into()),
            cf_pagatore: Some("RSSMRA85T10A562S".into()),
            attestante: Some("ABCDITMM".into()),
            tesoreria_id: Some(4),
            anno_bolletta: Some(2026),
            codice_bolletta: Some("12".into()),
            ordinante: Some("PSP".into()),
            conto: None,
            importo_notificato_cents: None,
            importo_pagato_cents: Some(1050),
            totale_pagato_cents: Some(1050),
            importo_rendicontato_cents: Some(1050),
            totale_flusso_cents: Some(2100),
            importo_tesoreria_cents: Some(2100),
            data_esecuzione: None,
            data_esito: Some(time::macros::date!(2026 - 11 - 26)),
            data_regolamento: Some(time::macros::date!(2026 - 11 - 27)),
            data_contabile: Some(time::macros::date!(2026 - 11 - 28)),
            data_valuta: Some(time::macros::date!(2026 - 11 - 28)),
            aggiornato_at: time::macros::datetime!(2026-11-28 10:00 UTC),
        }
    }

    fn rows(b: &[u8]) -> Vec<Vec<String>> {
        csv::ReaderBuilder::new()
            .delimiter(b';')
            .has_headers(false)
            .from_reader(b)
            .records()
            .map(|r| r.unwrap().iter().map(str::to_owned).collect())
            .collect()
    }

    #[test]
    fn every_line_has_as_many_fields_as_the_header_in_every_version() {
        for v in [
            Versione::V1_0,
            Versione::V1_1,
            Versione::V1_2,
            Versione::V1_3,
            Versione::V1_4,
        ] {
            let h = rows(&intestazione(v));
            let m = Codice::RT_IUF.bit() | Codice::RT_IUF_TES.bit();
            let (b, n) = righe(v, &[riga(m)], u64::MAX);
            let l = rows(&b);
            assert_eq!(n, 2);
            assert_eq!(l.len(), 2, "one line per code ({v:?})");
            assert!(l.iter().all(|x| x.len() == h[0].len()), "{v:?}");
        }
    }

    #[test]
    fn version_1_2_drops_the_notification_block_and_1_4_adds_primary_ente_columns() {
        let h10 = &rows(&intestazione(Versione::V1_0))[0];
        let h12 = &rows(&intestazione(Versione::V1_2))[0];
        let h14 = &rows(&intestazione(Versione::V1_4))[0];
        assert!(h10.contains(&"codIudI".to_owned()));
        assert!(!h12.contains(&"codIudI".to_owned()));
        assert!(h12.contains(&"bilancioE".to_owned()));
        assert!(h14.ends_with(&[
            "deNomePa1".into(),
            "classificazioneCompletezza".into(),
            "dtDataUltimoAggiornamento".into()
        ]));
    }

    #[test]
    fn amounts_are_decimal_and_doppi_only_in_1_0_and_1_4() {
        let (b, _) = righe(
            Versione::V1_2,
            &[riga(Codice::RT_IUF.bit() | Codice::DOPPI.bit())],
            u64::MAX,
        );
        let l = rows(&b);
        assert_eq!(l.len(), 1);
        assert!(l[0].contains(&"10.50".to_owned()) && l[0].contains(&"21.00".to_owned()));
        assert_eq!(
            rows(&righe(Versione::V1_4, &[riga(Codice::DOPPI.bit())], u64::MAX).0).len(),
            1
        );
    }

    #[test]
    fn a_doppi_line_shows_the_payment_and_never_the_treasury_line() {
        let (b, n) = righe(
            Versione::V1_4,
            &[riga(Codice::RT_IUF_TES.bit() | Codice::DOPPI.bit())],
            u64::MAX,
        );
        assert_eq!(n, 2);
        let l = rows(&b);
        let h = &rows(&intestazione(Versione::V1_4))[0];
        let col = |name: &str| h.iter().position(|c| c == name).unwrap();
        let (tes, bolletta, iuv) = (
            col("numImportoTesoreria"),
            col("codBollettaT"),
            col("codRpSilinviarpIdUnivocoVersamentoE"),
        );
        let (rt_iuf_tes, doppi) = (&l[0], &l[1]);
        assert_eq!(rt_iuf_tes[rt_iuf_tes.len() - 2], "RT_IUF_TES");
        assert_eq!(doppi[doppi.len() - 2], "DOPPI");
        assert_eq!(rt_iuf_tes[tes], "21.00");
        assert!(!rt_iuf_tes[bolletta].is_empty());
        assert_eq!((doppi[tes].as_str(), doppi[bolletta].as_str()), ("", ""));
        assert_eq!(doppi[iuv], rt_iuf_tes[iuv], "the payment stays");
    }
}
