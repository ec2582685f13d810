//! Accertamenti and the chart ufficio – capitolo – accertamento (docs/riconciliazione.md
//! §7): the lifecycle, the mass-import file, and the plan of the automatic accertamenti a
//! receipt's bilancio produces. Pure: the store applies what these functions decide.

use crate::model::bilancio::{NA, VoceBilancio};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use time::Date;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum StatoAccertamento {
    Inserito,
    Chiuso,
    Annullato,
}

impl StatoAccertamento {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Inserito => "INSERITO",
            Self::Chiuso => "CHIUSO",
            Self::Annullato => "ANNULLATO",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::Inserito, Self::Chiuso, Self::Annullato]
            .into_iter()
            .find(|x| x.as_str() == s)
    }

    /// INSERITO → CHIUSO | ANNULLATO; the two are final (a closed accertamento feeds the
    /// statistics and the bilancio answers, so it does not move again).
    pub fn puo_diventare(self, to: Self) -> bool {
        matches!(
            (self, to),
            (Self::Inserito, Self::Chiuso) | (Self::Inserito, Self::Annullato)
        )
    }

    /// Only an INSERITO accertamento is edited (name, tipo, payments).
    pub fn modificabile(self) -> bool {
        self == Self::Inserito
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AzioneCapitolo {
    Inserisci,
    Cancella,
}

/// One line of the chart (a mass-import line, or a REST body once checked).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RigaCapitolo {
    pub cod_ufficio: String,
    pub de_ufficio: String,
    pub attivo: bool,
    pub cod_capitolo: String,
    pub de_capitolo: String,
    pub anno: i32,
    pub cod_accertamento: String,
    pub de_accertamento: String,
    pub tipo_dovuto: String,
    pub azione: AzioneCapitolo,
}

/// A chart line refused, with its original text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScartoCapitolo {
    pub riga: u64,
    pub motivo: String,
    pub originale: String,
}

#[derive(Debug, Default)]
pub struct FileCapitoli {
    pub lette: u64,
    pub righe: Vec<(u64, RigaCapitolo, String)>,
    pub scarti: Vec<ScartoCapitolo>,
}

/// The docs/riconciliazione.md §7.2 zip: exactly one `.csv` inside (read in memory).
pub fn estrai_zip(bytes: &[u8]) -> Result<Vec<u8>, String> {
    use std::io::Read;
    let mut z = zip::ZipArchive::new(std::io::Cursor::new(bytes))
        .map_err(|e| format!("zip illeggibile: {e}"))?;
    let csv: Vec<usize> = (0..z.len())
        .filter(|&i| {
            z.name_for_index(i)
                .and_then(Result::ok)
                .is_some_and(|n| n.to_ascii_lowercase().ends_with(".csv") && !n.ends_with('/'))
        })
        .collect();
    let [i] = csv[..] else {
        return Err(format!(
            "lo zip deve contenere esattamente un file .csv (ne contiene {})",
            csv.len()
        ));
    };
    let mut f = z.by_index(i).map_err(|e| format!("zip illeggibile: {e}"))?;
    // A chart is a few thousand lines: a bomb is cut off, not inflated.
    let mut out = Vec::new();
    (&mut f)
        .take(64 << 20)
        .read_to_end(&mut out)
        .map_err(|e| format!("zip illeggibile: {e}"))?;
    Ok(out)
}

fn campo(v: &str, nome: &str, max: usize, obbligatorio: bool) -> Result<Option<String>, String> {
    let v = v.trim();
    if v.is_empty() {
        return if obbligatorio {
            Err(format!("{nome} obbligatorio"))
        } else {
            Ok(None)
        };
    }
    if v.chars().count() > max {
        return Err(format!("{nome} oltre {max} caratteri"));
    }
    Ok(Some(v.to_owned()))
}

/// Checks the fields of one chart line (the 10 of docs/riconciliazione.md §7.2, in order).
pub fn riga_capitolo(f: &[&str]) -> Result<RigaCapitolo, String> {
    if f.len() != 10 {
        return Err(format!("attesi 10 campi, trovati {}", f.len()));
    }
    let req = |i: usize, n: &str, max: usize| -> Result<String, String> {
        campo(f[i], n, max, true).map(Option::unwrap_or_default)
    };
    let attivo = match f[2].trim().to_ascii_lowercase().as_str() {
        "true" => true,
        "false" => false,
        x => return Err(format!("flg_attivo '{x}': atteso true o false")),
    };
    let anno_s = req(5, "de_anno_esercizio", 4)?;
    if !anno_s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("de_anno_esercizio '{anno_s}' non numerico"));
    }
    let anno: i32 = anno_s.parse().map_err(|_| "de_anno_esercizio non valido")?;
    if !(1900..=9999).contains(&anno) {
        return Err(format!("de_anno_esercizio {anno} fuori intervallo"));
    }
    let azione = match f[9].trim() {
        "I" => AzioneCapitolo::Inserisci,
        "D" => AzioneCapitolo::Cancella,
        x => return Err(format!("azione '{x}': attesa I o D")),
    };
    Ok(RigaCapitolo {
        cod_ufficio: req(0, "cod_ufficio", 64)?,
        de_ufficio: req(1, "de_ufficio", 512)?,
        attivo,
        cod_capitolo: req(3, "cod_capitolo", 64)?,
        de_capitolo: req(4, "de_capitolo", 512)?,
        anno,
        cod_accertamento: campo(f[6], "cod_accertamento", 64, false)?.unwrap_or_else(|| NA.into()),
        de_accertamento: campo(f[7], "de_accertamento", 512, false)?.unwrap_or_else(|| NA.into()),
        tipo_dovuto: req(8, "cod_tipo_dovuto", 64)?,
        azione,
    })
}

/// Reads the mass-import CSV: ISO-8859-1 (UTF-8 accepted), header skipped, `;`, quoted
/// fields. Every line is checked; the caller applies the file only if none is refused.
pub fn leggi_capitoli(bytes: &[u8]) -> FileCapitoli {
    let text = crate::registry::import_csv::decode(bytes);
    let mut out = FileCapitoli::default();
    let mut rdr = csv::ReaderBuilder::new()
        .delimiter(b';')
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let lines: Vec<&str> = text.lines().collect();
    for (n, rec) in rdr.records().enumerate() {
        if n == 0 {
            continue; // the header
        }
        let riga = rec
            .as_ref()
            .ok()
            .and_then(|r| r.position())
            .map_or(n as u64 + 1, |p| p.line());
        let originale = lines
            .get(riga as usize - 1)
            .map_or_else(String::new, |l| (*l).to_owned());
        if originale.trim().is_empty() {
            continue;
        }
        out.lette += 1;
        let esito = match &rec {
            Ok(r) => riga_capitolo(&r.iter().collect::<Vec<_>>()),
            Err(e) => Err(format!("riga illeggibile: {e}")),
        };
        match esito {
            Ok(r) => out.righe.push((riga, r, originale)),
            Err(motivo) => out.scarti.push(ScartoCapitolo {
                riga,
                motivo,
                originale,
            }),
        }
    }
    out
}

/// A description already stored for a code (ufficio, capitolo or accertamento).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Codice {
    Ufficio,
    Capitolo,
    Accertamento,
}

/// MyPivot's rule: the description of a known code must match the stored one. An `n/a`
/// (a code inserted from a bilancio) is a placeholder the import may fill in; the lines of
/// one file must agree among themselves too. Returns the refused lines' reasons.
pub fn descrizioni_coerenti(
    righe: &[(u64, RigaCapitolo, String)],
    esistenti: &HashMap<(Codice, String), String>,
) -> Vec<(u64, String)> {
    let mut visti: HashMap<(Codice, String), String> = HashMap::new();
    let mut out = Vec::new();
    for (n, r, _) in righe {
        if r.azione != AzioneCapitolo::Inserisci {
            continue;
        }
        let mut codici = vec![
            (Codice::Ufficio, &r.cod_ufficio, &r.de_ufficio),
            (Codice::Capitolo, &r.cod_capitolo, &r.de_capitolo),
        ];
        if r.cod_accertamento != NA {
            codici.push((
                Codice::Accertamento,
                &r.cod_accertamento,
                &r.de_accertamento,
            ));
        }
        for (k, cod, de) in codici {
            let key = (k, cod.clone());
            let attesa = visti
                .get(&key)
                .or_else(|| esistenti.get(&key).filter(|d| d.as_str() != NA));
            match attesa {
                Some(d) if d != de => {
                    out.push((
                        *n,
                        format!(
                            "{} {cod}: descrizione '{de}' diversa da quella registrata '{d}'",
                            match k {
                                Codice::Ufficio => "ufficio",
                                Codice::Capitolo => "capitolo",
                                Codice::Accertamento => "accertamento",
                            }
                        ),
                    ));
                    break;
                }
                _ => {
                    visti.insert(key, de.clone());
                }
            }
        }
    }
    out
}

/// A staged receipt an automatic accertamento may take.
#[derive(Debug, Clone)]
pub struct RicevutaDaAccertare {
    pub id: i64,
    pub tipo_dovuto: String,
    pub importo_cents: i64,
    pub data_esito: Date,
    pub bilancio: Option<String>,
}

/// One payment line of an automatic accertamento.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct VoceAutomatica {
    pub tipo_dovuto: String,
    pub ricevuta_id: i64,
    pub anno: i32,
    pub cod_ufficio: String,
    pub cod_capitolo: String,
    pub cod_accertamento: String,
    pub importo_cents: i64,
}

/// The bilancio lines of a receipt, when they add up to its amount (one receipt row of a
/// multi-beneficiary RT carries the dovuto's bilancio only if it is the whole of it). Lines
/// with the same codes are merged.
pub fn voci_bilancio(
    bilancio: &str,
    importo_cents: i64,
) -> Option<Vec<(String, String, String, i64)>> {
    let voci: Vec<VoceBilancio> = serde_json::from_str(bilancio).ok()?;
    let mut per_codici: BTreeMap<(String, String, String), i64> = BTreeMap::new();
    for v in &voci {
        *per_codici
            .entry((
                v.cod_ufficio.clone(),
                v.cod_capitolo.clone(),
                v.cod_accertamento.clone(),
            ))
            .or_default() += v.importo.cents();
    }
    let totale: i64 = per_codici.values().sum();
    (!per_codici.is_empty() && totale == importo_cents).then(|| {
        per_codici
            .into_iter()
            .filter(|(_, c)| *c > 0)
            .map(|((u, c, a), i)| (u, c, a, i))
            .collect()
    })
}

/// docs/riconciliazione.md §7.4: a receipt with a bilancio is booked line by line; without
/// one, it is booked whole on the chart's only active (ufficio, capitolo, accertamento) for
/// its tipo dovuto and year, if there is exactly one (`unica`); otherwise it waits for an
/// operator.
pub fn piano_automatico(
    ricevute: &[RicevutaDaAccertare],
    unica: impl Fn(&str, i32) -> Option<(String, String, String)>,
) -> Vec<VoceAutomatica> {
    let mut out = Vec::new();
    for r in ricevute {
        let anno = r.data_esito.year();
        let voci = r
            .bilancio
            .as_deref()
            .and_then(|b| voci_bilancio(b, r.importo_cents))
            .or_else(|| {
                unica(&r.tipo_dovuto, anno).map(|(u, c, a)| vec![(u, c, a, r.importo_cents)])
            });
        for (u, c, a, importo) in voci.into_iter().flatten() {
            out.push(VoceAutomatica {
                tipo_dovuto: r.tipo_dovuto.clone(),
                ricevuta_id: r.id,
                anno,
                cod_ufficio: u,
                cod_capitolo: c,
                cod_accertamento: a,
                importo_cents: importo,
            });
        }
    }
    out.sort();
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn riga(s: &str) -> Result<RigaCapitolo, String> {
        riga_capitolo(&s.split(';').collect::<Vec<_>>())
    }

    #[test]
    fn lifecycle_moves_only_from_inserito() {
        use StatoAccertamento::*;
        assert!(Inserito.puo_diventare(Chiuso));
        assert!(Inserito.puo_diventare(Annullato));
        for from in [Chiuso, Annullato] {
            for to in [Inserito, Chiuso, Annullato] {
                assert!(!from.puo_diventare(to), "{from:?} -> {to:?}");
            }
        }
        assert!(!Inserito.puo_diventare(Inserito));
    }

    #[test]
    fn a_chart_line_has_ten_fields_and_defaults_the_accertamento_to_na() {
        let r = riga("U1;Ufficio tributi;true;C1;Capitolo TARI;2026;;;TARI;I").unwrap();
        assert_eq!(
            (r.cod_accertamento.as_str(), r.de_accertamento.as_str()),
            (NA, NA)
        );
        assert_eq!(r.anno, 2026);
        assert!(r.attivo);
        assert!(
            riga("U1;Uff;true;C1;Cap;2026;;;TARI")
                .unwrap_err()
                .contains("10 campi")
        );
        assert!(
            riga("U1;Uff;si;C1;Cap;2026;;;TARI;I")
                .unwrap_err()
                .contains("flg_attivo")
        );
        assert!(
            riga("U1;Uff;true;C1;Cap;26a;;;TARI;I")
                .unwrap_err()
                .contains("numerico")
        );
        assert!(
            riga("U1;Uff;true;C1;Cap;2026;;;TARI;X")
                .unwrap_err()
                .contains("azione")
        );
        assert!(
            riga(";Uff;true;C1;Cap;2026;;;TARI;I")
                .unwrap_err()
                .contains("cod_ufficio")
        );
        let lungo = "x".repeat(65);
        assert!(
            riga(&format!("U1;Uff;true;{lungo};Cap;2026;;;TARI;I"))
                .unwrap_err()
                .contains("64")
        );
    }

    #[test]
    fn the_import_file_skips_its_header_and_reports_bad_lines_with_their_text() {
        let f = "\"cod_ufficio\";\"de_ufficio\";\"flg\";\"cap\";\"de\";\"anno\";\"acc\";\"de\";\"tipo\";\"azione\"\n\
                 \"U1\";\"Tributi; sede\";\"true\";\"C1\";\"Cap\";\"2026\";\"A1\";\"Acc 1\";\"TARI\";\"I\"\n\
                 \"U1\";\"Tributi\";\"true\";\"C1\"\n";
        let out = leggi_capitoli(f.as_bytes());
        assert_eq!(out.lette, 2);
        assert_eq!(out.righe.len(), 1);
        assert_eq!(out.righe[0].1.de_ufficio, "Tributi; sede");
        assert_eq!(out.scarti.len(), 1);
        assert_eq!(out.scarti[0].riga, 3);
        assert!(out.scarti[0].originale.contains("\"C1\""));
    }

    #[test]
    fn latin1_descriptions_are_decoded() {
        let mut f = b"h\nU1;Attivit\xe0;true;C1;Cap;2026;;;TARI;I\n".to_vec();
        let out = leggi_capitoli(&f);
        assert_eq!(out.righe[0].1.de_ufficio, "Attività");
        f.clear();
    }

    #[test]
    fn descriptions_must_match_the_stored_ones_except_placeholders() {
        let r = |n: u64, s: &str| (n, riga(s).unwrap(), s.to_owned());
        let mut esistenti = HashMap::new();
        esistenti.insert((Codice::Ufficio, "U1".to_owned()), "Tributi".to_owned());
        esistenti.insert((Codice::Capitolo, "C9".to_owned()), NA.to_owned());
        let righe = vec![
            r(2, "U1;Tributi;true;C1;Cap;2026;;;TARI;I"),
            r(3, "U1;Altro;true;C2;Cap2;2026;;;TARI;I"),
            r(4, "U2;Nuovo;true;C9;Finalmente descritto;2026;;;TARI;I"),
            r(5, "U3;X;true;C1;Cap diverso;2026;;;TARI;I"),
        ];
        let ko = descrizioni_coerenti(&righe, &esistenti);
        assert_eq!(ko.iter().map(|k| k.0).collect::<Vec<_>>(), [3, 5], "{ko:?}");
    }

    fn r(id: i64, cents: i64, bilancio: Option<&str>) -> RicevutaDaAccertare {
        RicevutaDaAccertare {
            id,
            tipo_dovuto: "TARI".into(),
            importo_cents: cents,
            data_esito: time::macros::date!(2026 - 03 - 01),
            bilancio: bilancio.map(str::to_owned),
        }
    }

    #[test]
    fn a_bilancio_that_adds_up_is_booked_line_by_line_else_the_only_chart_line_takes_it() {
        let b = r#"[{"cod_capitolo":"C1","cod_ufficio":"U1","cod_accertamento":"A1","importo":"7.00"},
                    {"cod_capitolo":"C2","importo":"3.00"}]"#;
        let unica = |t: &str, a: i32| {
            (t == "TARI" && a == 2026).then(|| ("U9".into(), "C9".into(), NA.into()))
        };
        let p = piano_automatico(
            &[r(1, 1000, Some(b)), r(2, 999, Some(b)), r(3, 500, None)],
            unica,
        );
        let got: Vec<(i64, &str, &str, i64)> = p
            .iter()
            .map(|v| {
                (
                    v.ricevuta_id,
                    v.cod_capitolo.as_str(),
                    v.cod_ufficio.as_str(),
                    v.importo_cents,
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                (1, "C1", "U1", 700),
                (1, "C2", NA, 300),
                (2, "C9", "U9", 999),
                (3, "C9", "U9", 500)
            ]
        );
        // No chart line, or several: nothing is booked automatically.
        assert!(piano_automatico(&[r(3, 500, None)], |_, _| None).is_empty());
    }

    proptest! {
        #[test]
        fn chart_parsing_never_panics(b in proptest::collection::vec(any::<u8>(), 0..400)) {
            let _ = leggi_capitoli(&b);
        }

        #[test]
        fn booked_lines_always_add_up_to_the_receipt(parts in proptest::collection::vec(1i64..10_000, 1..6)) {
            let total: i64 = parts.iter().sum();
            let voci: Vec<serde_json::Value> = parts.iter().enumerate().map(|(i, c)| serde_json::json!({
                "cod_capitolo": format!("C{}", i % 3), "importo": format!("{}.{:02}", c / 100, c % 100)})).collect();
            let b = serde_json::to_string(&voci).unwrap();
            let p = piano_automatico(&[r(1, total, Some(&b))], |_, _| None);
            prop_assert_eq!(p.iter().map(|v| v.importo_cents).sum::<i64>(), total);
        }
    }
}
