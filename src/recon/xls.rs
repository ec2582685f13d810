//! Giornale di cassa XLS / XLSX (MyPivot tipo T, docs/riconciliazione.md §5.7): the bank's
//! CBI "movimenti di conto" export, first sheet, columns found by header name. Only credits
//! (`SEGNO` `+`) count; debits are skipped, as MyPivot drops them. IUF / IUV come from
//! `DESCRIZIONE ESTESA` (docs/riconciliazione.md §2; the `:RI3:` remittance tag holds the
//! `/PUR/LGPE-RIVERSAMENTO/URI/…`), the ordering party from its `:OR1:` tag. A line with
//! neither IUF nor IUV is rejected, as in MyPivot. Lines are keyed by what identifies them
//! (the IUF, or the IUV) within the year of their accounting date, so a re-imported
//! statement updates instead of duplicating.

use super::causale;
use super::giornale::{RigaCassa, Scarto};
use crate::model::Importo;
use calamine::{Data, Reader};
use std::collections::HashMap;
use time::{Date, Duration, Month};

/// What the file held: credits read, rejected lines, debits left aside (each listed, with
/// why, in the import report).
#[derive(Debug, Default)]
pub struct GiornaleXls {
    pub righe: Vec<RigaCassa>,
    pub scarti: Vec<Scarto>,
    pub addebiti_ignorati: Vec<Scarto>,
}

fn cella(d: &Data) -> String {
    match d {
        Data::String(s) | Data::DateTimeIso(s) | Data::DurationIso(s) => s.trim().to_owned(),
        Data::Float(f) => f.to_string(),
        Data::Int(i) => i.to_string(),
        Data::Bool(b) => b.to_string(),
        Data::DateTime(x) => x.as_f64().to_string(),
        Data::Error(e) => format!("#{e:?}"),
        Data::Empty => String::new(),
    }
}

/// An Excel serial day (1900 system; 25569 = 1970-01-01) or a written date.
fn data(d: &Data) -> Option<Date> {
    let serial = match d {
        Data::DateTime(x) => Some(x.as_f64()),
        Data::Float(f) => Some(*f),
        Data::Int(i) => Some(*i as f64),
        _ => None,
    };
    if let Some(s) = serial {
        if !(1.0..2_958_466.0).contains(&s) {
            return None;
        }
        let base = Date::from_calendar_date(1899, Month::December, 30).ok()?;
        return base.checked_add(Duration::days(s.floor() as i64));
    }
    let t = cella(d);
    let t = t.get(..10).unwrap_or(&t);
    let iso = time::macros::format_description!("[year]-[month]-[day]");
    let it = time::macros::format_description!("[day]/[month]/[year]");
    Date::parse(t, iso).or_else(|_| Date::parse(t, it)).ok()
}

/// An amount cell: a number (rounded to cents, never kept as a float) or text with `,` or
/// `.` as decimal separator.
fn importo(d: &Data) -> Result<Importo, String> {
    match d {
        Data::Float(f) if f.is_finite() && f.abs() < 1e13 => {
            Importo::from_cents((f * 100.0).round() as i64).map_err(|e| e.0)
        }
        Data::Int(i) => i
            .checked_mul(100)
            .ok_or_else(|| "importo fuori intervallo".to_owned())
            .and_then(|c| Importo::from_cents(c).map_err(|e| e.0)),
        _ => {
            let t = cella(d);
            let norm = if t.contains(',') {
                t.replace('.', "").replace(',', ".")
            } else {
                t.clone()
            };
            Importo::parse(&norm).map_err(|e| format!("'{t}': {}", e.0))
        }
    }
}

/// The value of a CBI tag in a `DESCRIZIONE ESTESA` (text up to the next `:`).
pub fn tag<'a>(testo: &'a str, nome: &str) -> Option<&'a str> {
    let start = testo.find(&format!(":{nome}:"))? + nome.len() + 2;
    let rest = &testo[start..];
    let end = rest.find(':').unwrap_or(rest.len());
    Some(rest[..end].trim()).filter(|s| !s.is_empty())
}

/// Reads a workbook (xls, xlsx, xlsb or ods, told by its content).
pub fn leggi(bytes: &[u8]) -> Result<GiornaleXls, String> {
    let mut wb = calamine::open_workbook_auto_from_rs(std::io::Cursor::new(bytes))
        .map_err(|e| format!("file XLS/XLSX illeggibile: {e}"))?;
    let range = wb
        .worksheet_range_at(0)
        .ok_or("il file non ha fogli")?
        .map_err(|e| format!("primo foglio illeggibile: {e}"))?;
    let mut rows = range.rows();
    let header = rows.next().ok_or("foglio vuoto")?;
    let pos: HashMap<String, usize> = header
        .iter()
        .enumerate()
        .map(|(i, h)| (cella(h).to_uppercase(), i))
        .collect();
    let col = |n: &str| pos.get(n).copied().ok_or(format!("colonna '{n}' mancante"));
    let (c_conto, c_contabile, c_valuta, c_importo, c_segno, c_estesa) = (
        col("CONTO")?,
        col("DATA CONTABILE")?,
        col("DATA VALUTA")?,
        col("IMPORTO")?,
        col("SEGNO")?,
        col("DESCRIZIONE ESTESA")?,
    );
    let c_descr = pos.get("DESCRIZIONE").copied();
    let mut out = GiornaleXls::default();
    for (n, row) in rows.enumerate() {
        let riga = n as u64 + 2;
        let get = |i: usize| row.get(i).unwrap_or(&Data::Empty);
        if row.iter().all(|c| cella(c).is_empty()) {
            continue;
        }
        let originale = row.iter().map(cella).collect::<Vec<_>>().join(";");
        let letta: Result<Option<RigaCassa>, String> = (|| {
            if cella(get(c_segno)) != "+" {
                return Ok(None);
            }
            let estesa = cella(get(c_estesa));
            // The remittance information is in :RI3: (some banks write :R I3:), else the whole text.
            let causale_txt = tag(&estesa, "RI3")
                .or_else(|| tag(&estesa, "R I3"))
                .unwrap_or(&estesa);
            let mut estratto = causale::estrai(causale_txt).map_err(|e| e.to_string())?;
            if estratto.iuf.is_none() && estratto.iuv.is_none() {
                estratto = causale::estrai(&estesa).map_err(|e| e.to_string())?;
            }
            let chiave = match (&estratto.iuf, &estratto.iuv) {
                (Some(f), _) => format!("F-{f}"),
                (None, Some(v)) => format!("V-{v}"),
                (None, None) => {
                    return Err("Non è stato possibile decodificare un codice IUF oppure un codice IUV dalla DESCRIZIONE ESTESA".into());
                }
            };
            let contabile = data(get(c_contabile)).ok_or("DATA CONTABILE non valida")?;
            // An empty DATA VALUTA is the day of the entry; one that is not a date is an error.
            let valuta = match get(c_valuta) {
                Data::Empty => contabile,
                c => match data(c) {
                    Some(d) => d,
                    None if cella(c).is_empty() => contabile,
                    None => return Err(format!("DATA VALUTA '{}' non è una data", cella(c))),
                },
            };
            let ordinante = tag(&estesa, "OR1")
                .map(str::to_owned)
                .or_else(|| c_descr.map(|i| cella(get(i))))
                .unwrap_or_default();
            Ok(Some(RigaCassa {
                anno_bolletta: u16::try_from(contabile.year()).map_err(|_| "anno")?,
                codice_bolletta: chiave,
                data_contabile: contabile,
                ordinante: ordinante.chars().take(30).collect(),
                causale: estesa.chars().take(2000).collect(),
                estratto,
                importo: importo(get(c_importo)).map_err(|e| format!("IMPORTO {e}"))?,
                data_valuta: valuta,
                conto: Some(cella(get(c_conto))).filter(|s| !s.is_empty()),
            }))
        })();
        match letta {
            Ok(Some(r)) => out.righe.push(r),
            Ok(None) => out.addebiti_ignorati.push(Scarto {
                riga,
                originale,
                motivo: "addebito (SEGNO diverso da +): si riconciliano solo gli accrediti".into(),
            }),
            Err(motivo) => out.scarti.push(Scarto {
                riga,
                originale,
                motivo,
            }),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cbi_tags_are_read_up_to_the_next_colon() {
        let t = ":BI2:ABCDITMM:OR1:PAGOPA SPA :RI3:/PUR/LGPE-RIVERSAMENTO/URI/2026-11-27ABCDITMM-S1:TID:9";
        assert_eq!(tag(t, "OR1"), Some("PAGOPA SPA"));
        assert_eq!(tag(t, "BI2"), Some("ABCDITMM"));
        assert_eq!(tag(t, "XXX"), None);
    }

    #[test]
    fn excel_serial_days_and_written_dates_read_as_dates() {
        assert_eq!(
            data(&Data::Float(46_354.0)),
            Some(time::macros::date!(2026 - 11 - 28))
        );
        assert_eq!(
            data(&Data::String("28/11/2026".into())),
            Some(time::macros::date!(2026 - 11 - 28))
        );
        assert_eq!(data(&Data::Float(-3.0)), None);
    }

    #[test]
    fn amounts_become_exact_cents() {
        assert_eq!(importo(&Data::Float(0.1 + 0.2)).unwrap().cents(), 30);
        assert_eq!(
            importo(&Data::String("1.234,56".into())).unwrap().cents(),
            123_456
        );
        assert!(importo(&Data::Float(f64::NAN)).is_err());
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        assert!(leggi(b"not a workbook").is_err());
    }
}
