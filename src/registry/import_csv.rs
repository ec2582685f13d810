//! MyPay "import dovuti" CSV, tracciato 1.0 to 1.3 (docs/riconciliazione.md §5.10):
//! `;`-separated, `"` quoted, header row, dates `yyyy-MM-dd`, amounts with a `.` separator.
//! Pure: turns bytes into one outcome per line; applying them is the store's job.

use super::{NuovoDovuto, Pagatore, Rifiuto, TipoSoggetto, check_iud};
use crate::model::codice_fiscale::CF_ANONIMO;
use crate::model::{
    Bilancio, CodiceFiscale, DatiSpecificiRiscossione, Importo, Iuv, TipoVersamento,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub enum Versione {
    #[serde(rename = "1_0")]
    V1_0,
    #[serde(rename = "1_1")]
    V1_1,
    #[serde(rename = "1_2")]
    V1_2,
    #[serde(rename = "1_3")]
    V1_3,
}

impl Versione {
    pub fn parse(s: &str) -> Option<Self> {
        match s.replace('.', "_").as_str() {
            "1_0" => Some(Self::V1_0),
            "1_1" => Some(Self::V1_1),
            "1_2" => Some(Self::V1_2),
            "1_3" => Some(Self::V1_3),
            _ => None,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Self::V1_0 => "1_0",
            Self::V1_1 => "1_1",
            Self::V1_2 => "1_2",
            Self::V1_3 => "1_3",
        }
    }
    pub fn columns(self) -> usize {
        match self {
            Self::V1_0 | Self::V1_1 => 20,
            Self::V1_2 => 21,
            Self::V1_3 => 22,
        }
    }
    /// 20 columns are 1.0 or 1.1: take 1.1, whose only difference is the longer causale.
    fn from_columns(n: usize) -> Option<Self> {
        match n {
            20 => Some(Self::V1_1),
            21 => Some(Self::V1_2),
            22 => Some(Self::V1_3),
            _ => None,
        }
    }
}

/// insert (`I`), modify (`M`), cancel (`A`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Azione {
    Inserisci,
    Modifica,
    Annulla,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Riga {
    pub azione: Azione,
    pub dovuto: NuovoDovuto,
}

#[derive(Debug, Clone, PartialEq)]
pub struct LineaCsv {
    /// 1-based line number in the file (the header is line 1).
    pub line: u64,
    /// The line as it stood in the file, for the reject report.
    pub raw: String,
    pub outcome: Result<Riga, Rifiuto>,
}

#[derive(Debug, PartialEq)]
pub struct FileCsv {
    pub versione: Versione,
    pub lines: Vec<LineaCsv>,
}

/// Decodes UTF-8 (with or without BOM); anything else is taken as Latin-1, which is what
/// older back offices export.
pub fn decode(bytes: &[u8]) -> String {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    match std::str::from_utf8(bytes) {
        Ok(s) => s.to_owned(),
        Err(_) => bytes.iter().map(|&b| char::from(b)).collect(),
    }
}

/// Splits and checks every line. Fails as a whole only when the version cannot be told.
pub fn parse(text: &str, versione: Option<Versione>) -> Result<FileCsv, String> {
    let mut rdr = csv::ReaderBuilder::new()
        .delimiter(b';')
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    // (line, byte offset, record): line numbers are counted from the byte offsets, the
    // one position the csv reader reports reliably for quoted multi-line fields too.
    let mut records = Vec::new();
    let (mut counted_to, mut line) = (0usize, 1u64);
    let bytes = text.as_bytes();
    for r in rdr.records() {
        let (start, rec) = match r {
            Ok(rec) => (rec.position().map_or(0, |p| p.byte() as usize), Ok(rec)),
            Err(e) => (
                e.position().map_or(counted_to, |p| p.byte() as usize),
                Err(e.to_string()),
            ),
        };
        // With CRLF the reported offset is the `\n` ending the previous record.
        let mut start = start.clamp(counted_to, bytes.len());
        while start < bytes.len() && matches!(bytes[start], b'\r' | b'\n') {
            start += 1;
        }
        line += bytes[counted_to..start]
            .iter()
            .filter(|&&b| b == b'\n')
            .count() as u64;
        counted_to = start;
        records.push((line, start, rec));
    }
    let first_is_header = matches!(records.first(), Some((_, _, Ok(r))) if r.get(0).is_some_and(|c| c.trim().eq_ignore_ascii_case("IUD")));
    let versione = match versione {
        Some(v) => v,
        None => {
            let n = match records.first() {
                Some((_, _, Ok(r))) => r.len(),
                _ => return Err(
                    "file vuoto o illeggibile: impossibile determinare la versione del tracciato"
                        .into(),
                ),
            };
            Versione::from_columns(n).ok_or_else(|| {
                format!("{n} colonne: il tracciato dovuti 1.0/1.1 ne ha 20, 1.2 ne ha 21, 1.3 ne ha 22 (1.4 non è supportato)")
            })?
        }
    };
    let ends: Vec<usize> = records
        .iter()
        .skip(1)
        .map(|(_, s, _)| *s)
        .chain([text.len()])
        .collect();
    let mut lines = Vec::with_capacity(records.len());
    for (i, ((line, start, rec), end)) in records.into_iter().zip(ends).enumerate() {
        if i == 0 && first_is_header {
            continue;
        }
        let raw = text
            .get(start..end)
            .unwrap_or("")
            .trim_end_matches(['\r', '\n'])
            .to_owned();
        if raw.trim().is_empty() {
            continue;
        }
        let outcome = match rec {
            Err(e) => Err(Rifiuto::new(
                "PAA_IMPORT_SINTASSI_CSV",
                format!("riga CSV illeggibile: {e}"),
            )),
            Ok(rec) => parse_record(&rec, versione),
        };
        lines.push(LineaCsv { line, raw, outcome });
    }
    Ok(FileCsv { versione, lines })
}

fn opt(s: &str) -> Option<String> {
    let t = s.trim();
    (!t.is_empty()).then(|| t.to_owned())
}

fn parse_record(rec: &csv::StringRecord, v: Versione) -> Result<Riga, Rifiuto> {
    if rec.len() != v.columns() {
        return Err(Rifiuto::new(
            "PAA_IMPORT_SINTASSI_CSV",
            format!(
                "{} colonne, il tracciato {} ne richiede {}",
                rec.len(),
                v.as_str(),
                v.columns()
            ),
        ));
    }
    let c = |i: usize| rec.get(i).unwrap_or("").trim();
    let azione = match c(v.columns() - 1) {
        "I" => Azione::Inserisci,
        "M" => Azione::Modifica,
        "A" => Azione::Annulla,
        other => {
            return Err(Rifiuto::new(
                "PAA_IMPORT_SINTASSI_CSV_AZIONE",
                format!("azione '{other}' non valida (I, M, A)"),
            ));
        }
    };
    let iud = c(0).to_owned();
    check_iud(&iud)?;
    let iuv = match opt(c(1)) {
        None => None,
        Some(s) => {
            Some(Iuv::parse(&s).map_err(|e| Rifiuto::new("PAA_IMPORT_SINTASSI_CSV_IUV", e.0))?)
        }
    };
    if v == Versione::V1_3 && iuv.is_some() && c(20).eq_ignore_ascii_case("true") {
        return Err(Rifiuto::new(
            "PAA_IMPORT_SINTASSI_CSV_IUV",
            "flagGeneraIuv true con codIuv valorizzato",
        ));
    }
    let tipo = TipoSoggetto::parse(c(2)).ok_or_else(|| {
        Rifiuto::new(
            "PAA_IMPORT_SINTASSI_CSV_ID_UNIV_FG",
            format!("tipoIdentificativoUnivoco '{}' non valido (F o G)", c(2)),
        )
    })?;
    let codice_fiscale = if c(3).eq_ignore_ascii_case(CF_ANONIMO) {
        CodiceFiscale::anonimo()
    } else {
        CodiceFiscale::parse(c(3)).map_err(|e| {
            Rifiuto::new(
                if tipo == TipoSoggetto::G {
                    "PAA_IMPORT_SINTASSI_CSV_P_IVA"
                } else {
                    "PAA_IMPORT_SINTASSI_CSV_COD_FISC"
                },
                e.0,
            )
        })?
    };
    let data_scadenza = match opt(c(12)) {
        None if matches!(v, Versione::V1_0 | Versione::V1_1) && azione != Azione::Annulla => {
            return Err(Rifiuto::new(
                "PAA_IMPORT_SINTASSI_CSV_DATA_SCADENZA_PAGAMENTO",
                "dataScadenzaPagamento obbligatoria nel tracciato 1.0/1.1",
            ));
        }
        None => None,
        Some(s) => Some(parse_date(&s).ok_or_else(|| {
            Rifiuto::new(
                "PAA_IMPORT_SINTASSI_CSV_DATA_SCADENZA_PAGAMENTO",
                format!("data '{s}' non nel formato yyyy-MM-dd"),
            )
        })?),
    };
    let importo =
        Importo::parse(c(13)).map_err(|e| Rifiuto::new("PAA_IMPORT_SINTASSI_CSV_IMPORTO", e.0))?;
    let commissione_pa = match opt(c(14)) {
        None => None,
        Some(s) => Some(
            Importo::parse(&s)
                .map_err(|e| Rifiuto::new("PAA_IMPORT_SINTASSI_CSV_COMMISSIONI_PA", e.0))?,
        ),
    };
    let tipo_versamento = TipoVersamento::parse(c(16))
        .map_err(|e| Rifiuto::new("PAA_IMPORT_SINTASSI_CSV_TIPO_VERS", e.0))?;
    let causale = c(17).to_owned();
    if v == Versione::V1_0 && causale.chars().count() > 140 {
        return Err(Rifiuto::new(
            "PAA_IMPORT_SINTASSI_CSV_CAUSALE",
            "causaleVersamento oltre 140 caratteri (tracciato 1.0)",
        ));
    }
    let dsr = DatiSpecificiRiscossione::parse(c(18))
        .map_err(|e| Rifiuto::new("PAA_IMPORT_SINTASSI_CSV_DATI_RISCOSS", e.0))?;
    let bilancio = match (v, opt(c(19))) {
        (Versione::V1_2 | Versione::V1_3, Some(xml)) => {
            if xml.len() > 4096 {
                return Err(Rifiuto::new(
                    "PAA_IMPORT_SINTASSI_CSV_BILANCIO",
                    "bilancio oltre 4096 caratteri",
                ));
            }
            Bilancio::parse_xml(&xml)
                .map_err(|e| Rifiuto::new("PAA_IMPORT_SINTASSI_CSV_BILANCIO", e.0))?
                .0
        }
        _ => Vec::new(),
    };
    Ok(Riga {
        azione,
        dovuto: NuovoDovuto {
            iud,
            iuv,
            tipo_dovuto: c(15).to_owned(),
            pagatore: Pagatore {
                tipo,
                codice_fiscale,
                anagrafica: c(4).to_owned(),
                indirizzo: opt(c(5)),
                civico: opt(c(6)),
                cap: opt(c(7)),
                localita: opt(c(8)),
                provincia: opt(c(9)).map(|p| p.to_ascii_uppercase()),
                nazione: opt(c(10)).map(|n| n.to_ascii_uppercase()),
                email: opt(c(11)),
            },
            importo: Some(importo),
            commissione_pa,
            causale,
            dati_specifici_riscossione: Some(dsr),
            tipo_versamento: Some(tipo_versamento),
            data_scadenza,
            data_validita: None,
            bilancio,
            ente_primario: None,
        },
    })
}

pub fn parse_date(s: &str) -> Option<time::Date> {
    time::Date::parse(s, time::macros::format_description!("[year]-[month]-[day]")).ok()
}

/// The reject report: the original line, then `cod_rifiuto;de_rifiuto`, as MyPay's
/// "scarti" file.
/// Each item is (line, code, reason, original line).
pub fn reject_report<'a>(
    rejects: impl IntoIterator<Item = (u64, &'a str, &'a str, &'a str)>,
) -> String {
    let mut out = String::from(REJECT_HEADER);
    out.push_str(&reject_lines(rejects));
    out
}

/// The reject report's header line.
pub const REJECT_HEADER: &str = "riga;cod_rifiuto;de_rifiuto;riga_originale\n";

/// Lines of the reject report without its header, to stream a report a page at a time.
pub fn reject_lines<'a>(
    rejects: impl IntoIterator<Item = (u64, &'a str, &'a str, &'a str)>,
) -> String {
    let mut out = String::new();
    let q = |s: &str| format!("\"{}\"", s.replace('"', "\"\""));
    for (line, code, reason, raw) in rejects {
        out.push_str(&format!("{line};{code};{};{}\n", q(reason), q(raw)));
    }
    out
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use proptest::prelude::*;

    pub const HEADER_1_3: &str = "IUD;codIuv;tipoIdentificativoUnivoco;codiceIdentificativoUnivoco;anagraficaPagatore;indirizzoPagatore;civicoPagatore;capPagatore;localitaPagatore;provinciaPagatore;nazionePagatore;mailPagatore;dataScadenzaPagamento;importoDovuto;commissioneCaricoPa;tipoDovuto;tipoVersamento;causaleVersamento;datiSpecificiRiscossione;bilancio;flagGeneraIuv;azione";

    fn line(iud: &str, importo: &str) -> String {
        format!(
            "{iud};;F;RSSMRA85T10A562S;Mario Rossi;Via Roma;1;30100;Venezia;ve;IT;mario@example.org;2026-12-31;{importo};;TARI;;\"Tassa; rifiuti\";9/0101105IM/;;true;I"
        )
    }

    #[test]
    fn parses_a_1_3_file_with_header_and_quoted_separator() {
        let text = format!(
            "{HEADER_1_3}\r\n{}\r\n\r\n{}\r\n",
            line("IUD1", "10.50"),
            line("IUD2", "abc")
        );
        let f = parse(&text, None).unwrap();
        assert_eq!(f.versione, Versione::V1_3);
        assert_eq!(f.lines.len(), 2);
        let ok = f.lines[0].outcome.as_ref().unwrap();
        assert_eq!(ok.azione, Azione::Inserisci);
        assert_eq!(ok.dovuto.causale, "Tassa; rifiuti");
        assert_eq!(ok.dovuto.importo.unwrap().cents(), 1050);
        assert_eq!(ok.dovuto.pagatore.provincia.as_deref(), Some("VE"));
        assert_eq!(f.lines[0].line, 2);
        assert_eq!(
            f.lines[1].line, 4,
            "the blank line 3 is skipped but counted"
        );
        assert_eq!(f.lines[1].raw, line("IUD2", "abc"));
        assert_eq!(
            f.lines[1].outcome.as_ref().unwrap_err().code,
            "PAA_IMPORT_SINTASSI_CSV_IMPORTO"
        );
    }

    #[test]
    fn unknown_column_count_is_refused_as_a_whole() {
        assert!(parse("a;b;c\n", None).unwrap_err().contains("3 colonne"));
        assert!(parse("", None).is_err());
    }

    #[test]
    fn wrong_column_count_on_one_line_rejects_that_line_only() {
        let text = format!("{HEADER_1_3}\n{}\nIUD3;x\n", line("IUD1", "1"));
        let f = parse(&text, None).unwrap();
        assert!(f.lines[0].outcome.is_ok());
        assert_eq!(
            f.lines[1].outcome.as_ref().unwrap_err().code,
            "PAA_IMPORT_SINTASSI_CSV"
        );
    }

    #[test]
    fn version_1_0_requires_due_date_and_short_causale() {
        let l = "IUD1;;F;RSSMRA85T10A562S;Mario;;;;;;;;;5.00;;TARI;;causale;9/0101105IM/;I";
        let f = parse(l, Some(Versione::V1_0)).unwrap();
        assert_eq!(
            f.lines[0].outcome.as_ref().unwrap_err().code,
            "PAA_IMPORT_SINTASSI_CSV_DATA_SCADENZA_PAGAMENTO"
        );
    }

    #[test]
    fn latin1_bytes_are_decoded() {
        assert_eq!(decode(b"Citt\xe0"), "Città");
        assert_eq!(decode("\u{feff}Città".as_bytes()), "Città");
    }

    #[test]
    fn reject_report_quotes_fields() {
        assert_eq!(
            reject_report([(3, "X", "a \"b\"", "l;1")]),
            "riga;cod_rifiuto;de_rifiuto;riga_originale\n3;X;\"a \"\"b\"\"\";\"l;1\"\n"
        );
    }

    proptest! {
        #[test]
        fn parse_never_panics(s in "\\PC{0,300}") {
            let _ = parse(&s, None);
            let _ = parse(&s, Some(Versione::V1_2));
        }
    }
}
