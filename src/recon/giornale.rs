//! The treasury journal (giornale di cassa) CSV as MyPivot reads it (docs/riconciliazione.md
//! §5.5): `;`-separated, `"` quotes, `\` escape, a header line, empty lines skipped, values
//! trimmed; seven fields whose column positions the operator chooses at upload (default
//! 1..7, PU's `ESERCIZIO; N.PROVV.; DATA ESEC.; ANAGRAFICA CLIENTE; DESCRIZIONE CAUSALE;
//! IMPORTO PROVVISORIO; VALUTA ENTE`). Each line is a movement or a reject with its reason;
//! pure, so the import (one transaction, reject report) wraps it.

use super::causale::{self, Estratto};
use crate::model::Importo;

/// 1-based column of each field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, utoipa::ToSchema)]
pub struct Colonne {
    pub anno_bolletta: usize,
    pub codice_bolletta: usize,
    pub data_contabile: usize,
    pub ordinante: usize,
    pub causale: usize,
    pub importo: usize,
    pub data_valuta: usize,
}

impl Default for Colonne {
    fn default() -> Self {
        Colonne {
            anno_bolletta: 1,
            codice_bolletta: 2,
            data_contabile: 3,
            ordinante: 4,
            causale: 5,
            importo: 6,
            data_valuta: 7,
        }
    }
}

/// One incoming movement of the treasurer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RigaCassa {
    pub anno_bolletta: u16,
    pub codice_bolletta: String,
    pub data_contabile: time::Date,
    /// Truncated to 30 characters, as MyPivot stores it.
    pub ordinante: String,
    /// At most 2,000 characters.
    pub causale: String,
    pub estratto: Estratto,
    pub importo: Importo,
    pub data_valuta: time::Date,
    /// The account (XLS bank statements carry it; CSV and OPI do not).
    pub conto: Option<String>,
}

/// A line not imported, with the line as read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scarto {
    /// 1-based line number in the file (the header is line 1).
    pub riga: u64,
    pub originale: String,
    pub motivo: String,
}

fn data(campo: &str, v: &str) -> Result<time::Date, String> {
    let ok = v.len() == 10 && v.as_bytes()[4] == b'-' && v.as_bytes()[7] == b'-';
    ok.then(|| time::Date::parse(v, time::macros::format_description!("[year]-[month]-[day]")).ok())
        .flatten()
        .ok_or_else(|| format!("{campo} '{v}': attesa una data aaaa-mm-gg"))
}

fn riga(rec: &csv::StringRecord, c: &Colonne) -> Result<RigaCassa, String> {
    let get = |pos: usize, campo: &str| {
        rec.get(pos.wrapping_sub(1))
            .map(str::trim)
            .ok_or_else(|| format!("{campo}: colonna {pos} assente"))
    };
    let anno = get(c.anno_bolletta, "anno bolletta")?;
    if anno.len() != 4 || !anno.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("anno bolletta '{anno}': attese 4 cifre"));
    }
    let codice = get(c.codice_bolletta, "codice bolletta")?;
    if codice.is_empty() || codice.chars().count() > 7 {
        return Err(format!("codice bolletta '{codice}': da 1 a 7 caratteri"));
    }
    let causale_txt = get(c.causale, "causale")?;
    let estratto = causale::estrai(causale_txt).map_err(|e| e.to_string())?;
    let importo_txt = get(c.importo, "importo")?;
    let importo =
        Importo::parse(importo_txt).map_err(|e| format!("importo '{importo_txt}': {}", e.0))?;
    Ok(RigaCassa {
        anno_bolletta: anno.parse().map_err(|_| "anno bolletta".to_owned())?,
        codice_bolletta: codice.to_owned(),
        data_contabile: data("data contabile", get(c.data_contabile, "data contabile")?)?,
        ordinante: get(c.ordinante, "ordinante")?.chars().take(30).collect(),
        causale: causale_txt.chars().take(2000).collect(),
        estratto,
        importo,
        data_valuta: data("data valuta", get(c.data_valuta, "data valuta")?)?,
        conto: None,
    })
}

/// The physical line (1-based) of a record starting at `byte`.
pub(crate) fn line_of(testo: &[u8], byte: u64) -> u64 {
    let mut end = usize::try_from(byte).unwrap_or(usize::MAX).min(testo.len());
    // A record after blank lines is positioned at the first of them.
    while end < testo.len() && matches!(testo[end], b'\n' | b'\r') {
        end += 1;
    }
    testo[..end].iter().filter(|b| **b == b'\n').count() as u64 + 1
}

/// Reads a whole file: the movements and the rejects, in file order.
pub fn leggi_csv(testo: &[u8], colonne: &Colonne) -> (Vec<RigaCassa>, Vec<Scarto>) {
    let mut rdr = csv::ReaderBuilder::new()
        .delimiter(b';')
        .quote(b'"')
        .escape(Some(b'\\'))
        .has_headers(true)
        .flexible(true)
        .from_reader(testo);
    let (mut ok, mut ko) = (Vec::new(), Vec::new());
    for rec in rdr.records() {
        match rec {
            Ok(rec) => {
                // The physical line (the reader's own count skips blank lines).
                let n = rec.position().map_or(0, |p| line_of(testo, p.byte()));
                if rec.iter().all(|f| f.trim().is_empty()) {
                    continue;
                }
                match riga(&rec, colonne) {
                    Ok(r) => ok.push(r),
                    Err(motivo) => ko.push(Scarto {
                        riga: n,
                        originale: rec.iter().collect::<Vec<_>>().join(";"),
                        motivo,
                    }),
                }
            }
            Err(e) => ko.push(Scarto {
                riga: e.position().map_or(0, |p| line_of(testo, p.byte())),
                originale: String::new(),
                motivo: format!("riga CSV illeggibile: {e}"),
            }),
        }
    }
    (ok, ko)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::tesoreria::{Movimento, csv as scrivi_csv};

    #[test]
    fn the_simulators_journal_reads_back_with_its_iufs() {
        let day = time::Date::from_calendar_date(2026, time::Month::November, 28).unwrap();
        let m = |n: u64, cents: i64, causale: &str| Movimento {
            numero: n,
            data: day,
            importo: Importo::from_cents(cents).unwrap(),
            ordinante: "PAGOPA SPA RIVERSAMENTO PSP CON UN NOME LUNGO".into(),
            causale: causale.into(),
        };
        let testo = scrivi_csv(&[
            m(
                1,
                52_420,
                "/PUR/LGPE-RIVERSAMENTO/URI/2026-11-28ABCDITMM-S000000001",
            ),
            m(2, 12_345, "BONIFICO DA PRIVATO SENZA RIFERIMENTI"),
        ]);
        let (ok, ko) = leggi_csv(testo.as_bytes(), &Colonne::default());
        assert!(ko.is_empty(), "{ko:?}");
        assert_eq!(ok.len(), 2);
        assert_eq!(
            ok[0].estratto.iuf.as_deref(),
            Some("2026-11-28ABCDITMM-S000000001")
        );
        assert_eq!(
            (
                ok[0].importo.cents(),
                ok[0].anno_bolletta,
                ok[0].data_valuta
            ),
            (52_420, 2026, day)
        );
        assert_eq!(ok[0].ordinante.chars().count(), 30);
        assert_eq!(ok[1].estratto, Estratto::default());
    }

    #[test]
    fn bad_lines_are_rejected_with_their_reason_and_the_rest_is_read() {
        let testo = "\
ESERCIZIO;N.PROVV.;DATA ESEC.;ANAGRAFICA CLIENTE;DESCRIZIONE CAUSALE;IMPORTO PROVVISORIO;VALUTA ENTE
2026;1;2026-11-28;\"ROSSI; MARIO\";/RFB/01000000000000144/10.00;10.00;2026-11-28

26;2;2026-11-28;X;c;1.00;2026-11-28
2026;12345678;2026-11-28;X;c;1.00;2026-11-28
2026;3;28/11/2026;X;c;1.00;2026-11-28
2026;4;2026-11-28;X;c;1,00;2026-11-28
2026;5;2026-11-28;X;/RFB/1234567890123456789012345678901234567;1.00;2026-11-28
2026;6;2026-11-28;X
";
        let (ok, ko) = leggi_csv(testo.as_bytes(), &Colonne::default());
        assert_eq!(ok.len(), 1);
        assert_eq!(ok[0].ordinante, "ROSSI; MARIO");
        assert_eq!(ok[0].estratto.iuv.as_deref(), Some("01000000000000144"));
        let motivi: Vec<(u64, &str)> = ko.iter().map(|s| (s.riga, s.motivo.as_str())).collect();
        assert_eq!(motivi.len(), 6, "{motivi:?}");
        assert!(
            motivi[0].1.contains("anno bolletta") && motivi[0].0 == 4,
            "{motivi:?}"
        );
        assert!(motivi[1].1.contains("codice bolletta"));
        assert!(motivi[2].1.contains("data contabile"));
        assert!(motivi[3].1.contains("importo"));
        assert!(motivi[4].1.contains("IUV"));
        assert!(motivi[5].1.contains("assente"));
    }

    #[test]
    fn the_operator_chooses_the_columns() {
        let testo = "h\n10.00;2026-11-28;2026;7;2026-11-28;ORD;/RFB/X1\n";
        let c = Colonne {
            importo: 1,
            data_contabile: 2,
            anno_bolletta: 3,
            codice_bolletta: 4,
            data_valuta: 5,
            ordinante: 6,
            causale: 7,
        };
        let (ok, ko) = leggi_csv(testo.as_bytes(), &c);
        assert!(ko.is_empty(), "{ko:?}");
        assert_eq!(
            (
                ok[0].codice_bolletta.as_str(),
                ok[0].estratto.iuv.as_deref()
            ),
            ("7", Some("X1"))
        );
    }
}
