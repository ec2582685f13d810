//! The Poste Italiane account statement (estratto conto Poste, MyPivot's import type `Y`;
//! docs/riconciliazione.md §5.8): `;`-separated, two header lines, columns `data_contabile;
//! data_valuta; cod_causale; causale; divisa; importo_debito; importo_credito; accessoria1;
//! causale_movimento`, dates `dd/MM/yyyy`, amounts with a decimal comma (a `.` groups
//! thousands). Only credits are movements of the giornale di cassa; debits are skipped as the
//! XLS statement's `-` rows are. IUF / IUV come from `causale_movimento` by the rule of
//! docs/riconciliazione.md §2.
//!
//! The statement has no bolletta number, so one is made, `P` + day of the year (3 digits) +
//! the credit's order among that day's credits in the file (3 digits), in the year of the
//! data contabile: a statement loaded twice gives the same codes (the import is idempotent),
//! and a day holds up to 999 credits (one more is rejected with its reason). Poste names no
//! ordering party: the movement's description (`causale`) stands in, cut to 30 characters.

use super::causale;
use super::giornale::{RigaCassa, Scarto, line_of};
use crate::model::Importo;
use std::collections::HashMap;

const COLONNE: usize = 9;

fn data(campo: &str, v: &str) -> Result<time::Date, String> {
    time::Date::parse(
        v,
        time::macros::format_description!("[day]/[month]/[year repr:full]"),
    )
    .map_err(|_| format!("{campo} '{v}': attesa una data gg/mm/aaaa"))
}

/// `1.234,56` → 123456 cents; empty → none.
fn importo(campo: &str, v: &str) -> Result<Option<Importo>, String> {
    if v.is_empty() {
        return Ok(None);
    }
    let (intera, decimali) = v.split_once(',').unwrap_or((v, ""));
    let gruppi_ok = intera
        .split('.')
        .enumerate()
        .all(|(n, g)| !g.is_empty() && (n == 0 || g.len() == 3));
    let cifre = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if !gruppi_ok || !cifre(&intera.replace('.', "")) || !cifre(decimali) || decimali.len() > 2 {
        return Err(format!("{campo} '{v}': atteso un importo come 1.234,56"));
    }
    let testo = format!("{}.{decimali:0<2}", intera.replace('.', ""));
    let i = Importo::parse(&testo).map_err(|e| format!("{campo} '{v}': {}", e.0))?;
    Ok((i.cents() != 0).then_some(i))
}

/// What one line is: a credit, a debit to skip, or a reject.
enum Letta {
    Accredito(RigaCassa),
    Addebito,
}

fn riga(rec: &csv::StringRecord) -> Result<Letta, String> {
    if rec.len() < COLONNE {
        return Err(format!("attese {COLONNE} colonne, trovate {}", rec.len()));
    }
    let get = |n: usize| rec.get(n).map(str::trim).unwrap_or_default();
    let credito = importo("importo credito", get(6))?;
    let debito = importo("importo debito", get(5))?;
    let importo = match (credito, debito) {
        (Some(c), None) => c,
        (None, Some(_)) => return Ok(Letta::Addebito),
        (Some(_), Some(_)) => return Err("importo sia a credito sia a debito".into()),
        (None, None) => return Err("nessun importo".into()),
    };
    if !get(4).is_empty() && !get(4).eq_ignore_ascii_case("EUR") {
        return Err(format!("divisa '{}': attesa EUR", get(4)));
    }
    let data_contabile = data("data contabile", get(0))?;
    let movimento = get(8);
    let estratto = causale::estrai(movimento).map_err(|e| e.to_string())?;
    Ok(Letta::Accredito(RigaCassa {
        anno_bolletta: u16::try_from(data_contabile.year())
            .map_err(|_| "anno della data contabile".to_owned())?,
        codice_bolletta: String::new(),
        data_contabile,
        ordinante: get(3).chars().take(30).collect(),
        causale: movimento.chars().take(2000).collect(),
        estratto,
        importo,
        data_valuta: data("data valuta", get(1))?,
        conto: None,
    }))
}

/// Reads a whole statement: the credits and the rejects, in file order (lines numbered from
/// the file's first line).
pub fn leggi(testo: &[u8]) -> (Vec<RigaCassa>, Vec<Scarto>) {
    let mut rdr = csv::ReaderBuilder::new()
        .delimiter(b';')
        .has_headers(false)
        .flexible(true)
        .from_reader(testo);
    let (mut ok, mut ko) = (Vec::new(), Vec::new());
    let mut per_giorno: HashMap<time::Date, u32> = HashMap::new();
    for (n, rec) in rdr.records().enumerate() {
        let rec = match rec {
            Ok(r) => r,
            Err(e) => {
                ko.push(Scarto {
                    riga: e.position().map_or(0, |p| line_of(testo, p.byte())),
                    originale: String::new(),
                    motivo: format!("riga CSV illeggibile: {e}"),
                });
                continue;
            }
        };
        // The two header records, and blank lines.
        if n < 2 || rec.iter().all(|f| f.trim().is_empty()) {
            continue;
        }
        let riga_n = rec.position().map_or(0, |p| line_of(testo, p.byte()));
        let originale = rec.iter().collect::<Vec<_>>().join(";");
        match riga(&rec) {
            Ok(Letta::Addebito) => {}
            Ok(Letta::Accredito(mut r)) => {
                let ordine = per_giorno.entry(r.data_contabile).or_default();
                *ordine += 1;
                if *ordine > 999 {
                    ko.push(Scarto {
                        riga: riga_n,
                        originale,
                        motivo: "più di 999 accrediti nello stesso giorno".into(),
                    });
                    continue;
                }
                r.codice_bolletta = format!("P{:03}{:03}", r.data_contabile.ordinal(), ordine);
                ok.push(r);
            }
            Err(motivo) => ko.push(Scarto {
                riga: riga_n,
                originale,
                motivo,
            }),
        }
    }
    (ok, ko)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const TESTA: &str = "ESTRATTO CONTO BANCOPOSTA n. 001234567890\n\
        data_contabile;data_valuta;cod_causale;causale;divisa;importo_debito;importo_credito;accessoria1;causale_movimento\n";

    #[test]
    fn credits_become_bollette_with_their_iuf_and_debits_are_skipped() {
        let testo = format!(
            "{TESTA}\
02/11/2026;03/11/2026;48;ACCREDITO BONIFICO PAGOPA SPA LUNGO OLTRE TRENTA;EUR;;1.234,56;;/PUR/LGPE-RIVERSAMENTO/URI/2026-11-02BPPIITRRXXX-S1
02/11/2026;02/11/2026;22;COMMISSIONI;EUR;1,50;;;SPESE TENUTA CONTO
02/11/2026;02/11/2026;48;ACCREDITO BONIFICO;EUR;;25;;/RFB/01000000000000144/25.00
"
        );
        let (ok, ko) = leggi(testo.as_bytes());
        assert!(ko.is_empty(), "{ko:?}");
        assert_eq!(ok.len(), 2);
        assert_eq!(ok[0].codice_bolletta, "P306001");
        assert_eq!(ok[1].codice_bolletta, "P306002");
        assert_eq!(ok[0].anno_bolletta, 2026);
        assert_eq!(ok[0].importo.cents(), 123_456);
        assert_eq!(
            ok[0].estratto.iuf.as_deref(),
            Some("2026-11-02BPPIITRRXXX-S1")
        );
        assert_eq!(ok[0].ordinante.chars().count(), 30);
        assert_eq!(ok[0].data_valuta, time::macros::date!(2026 - 11 - 03));
        assert_eq!(ok[1].importo.cents(), 2_500);
        assert_eq!(ok[1].estratto.iuv.as_deref(), Some("01000000000000144"));
    }

    #[test]
    fn a_statement_read_twice_gives_the_same_bollette() {
        let testo = format!(
            "{TESTA}02/11/2026;02/11/2026;48;A;EUR;;1,00;;X\n03/11/2026;03/11/2026;48;B;EUR;;2,00;;Y\n02/11/2026;02/11/2026;48;C;EUR;;3,00;;Z\n"
        );
        let (a, _) = leggi(testo.as_bytes());
        let (b, _) = leggi(testo.as_bytes());
        assert_eq!(a, b);
        let codici: Vec<&str> = a.iter().map(|r| r.codice_bolletta.as_str()).collect();
        assert_eq!(codici, ["P306001", "P307001", "P306002"]);
    }

    #[test]
    fn bad_lines_are_rejected_with_their_line_and_reason() {
        let testo = format!(
            "{TESTA}\
2026-11-02;02/11/2026;48;A;EUR;;1,00;;X
02/11/2026;02/11/2026;48;A;EUR;;1.00;;X
02/11/2026;02/11/2026;48;A;USD;;1,00;;X
02/11/2026;02/11/2026;48;A;EUR;1,00;1,00;;X
02/11/2026;02/11/2026;48;A;EUR;;;;X
02/11/2026;02/11/2026;48;A;EUR;;1,00
02/11/2026;02/11/2026;48;A;EUR;;1,00;;/RFB/1234567890123456789012345678901234567
"
        );
        let (ok, ko) = leggi(testo.as_bytes());
        assert!(ok.is_empty(), "{ok:?}");
        let motivi: Vec<(u64, &str)> = ko.iter().map(|s| (s.riga, s.motivo.as_str())).collect();
        assert_eq!(motivi.len(), 7, "{motivi:?}");
        assert_eq!(motivi[0].0, 3);
        assert!(motivi[0].1.contains("data contabile"), "{motivi:?}");
        assert!(motivi[1].1.contains("importo credito"), "{motivi:?}");
        assert!(motivi[2].1.contains("divisa"), "{motivi:?}");
        assert!(motivi[3].1.contains("sia a credito sia a debito"));
        assert!(motivi[4].1.contains("nessun importo"));
        assert!(motivi[5].1.contains("colonne"));
        assert!(motivi[6].1.contains("IUV"), "{motivi:?}");
    }

    proptest! {
        #[test]
        fn any_bytes_are_read_without_panicking(b in proptest::collection::vec(any::<u8>(), 0..600)) {
            let (ok, _) = leggi(&b);
            for r in ok {
                prop_assert!(r.codice_bolletta.len() == 7 && r.codice_bolletta.starts_with('P'));
            }
        }

        #[test]
        fn amounts_with_a_decimal_comma_read_exactly(cents in 1i64..10_000_000_000) {
            let euro = cents / 100;
            let mut intera = String::new();
            for (n, c) in euro.to_string().chars().rev().enumerate() {
                if n > 0 && n % 3 == 0 {
                    intera.insert(0, '.');
                }
                intera.insert(0, c);
            }
            let v = format!("{intera},{:02}", cents % 100);
            prop_assert_eq!(importo("x", &v).unwrap().map(|i| i.cents()), Some(cents));
        }
    }
}
