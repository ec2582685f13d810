//! The reader against its former self (the whole file in memory), cut at every byte.

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

/// Hands out at most one byte per read: every buffer boundary falls everywhere.
struct UnByte<'a>(&'a [u8]);
impl std::io::Read for UnByte<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let Some((&b, rest)) = self.0.split_first() else {
            return Ok(0);
        };
        if buf.is_empty() {
            return Ok(0);
        }
        buf[0] = b;
        self.0 = rest;
        Ok(1)
    }
}

fn leggi_tutto(
    bytes: &[u8],
    pezzo: usize,
    a_byte: bool,
) -> Result<(Versione, Vec<LineaCsv>), String> {
    let mut lines = Vec::new();
    let mut parti = 0;
    let consegna = |p: Vec<LineaCsv>| {
        assert!(p.len() <= pezzo);
        parti += 1;
        lines.extend(p);
        true
    };
    let v = if a_byte {
        leggi_a_pezzi(|| Ok(UnByte(bytes)), None, pezzo, consegna)
    } else {
        leggi_a_pezzi(|| Ok(bytes), None, pezzo, consegna)
    }
    .unwrap()?;
    assert!(parti >= lines.len().div_ceil(pezzo));
    Ok((v, lines))
}

#[test]
fn every_part_size_and_every_read_size_give_the_same_lines() {
    let text = format!(
        "\u{feff}{HEADER_1_3}\r\n{}\r\n\r\n   \r\n{}\n{}\r\n{}",
        line("IUD1", "10.50").replace("Mario", "Nicolò"),
        line("IUD2", "1").replace("\"Tassa; rifiuti\"", "\"Tassa\r\n\nrifiuti\""),
        line("IUD3", "abc"),
        line("IUD4", "2"),
    );
    let whole = leggi_tutto(text.as_bytes(), usize::MAX, false).unwrap();
    assert_eq!(whole.0, Versione::V1_3);
    let lines: Vec<u64> = whole.1.iter().map(|l| l.line).collect();
    assert_eq!(
        lines,
        [2, 5, 8, 9],
        "blank lines and a field over three lines counted"
    );
    assert_eq!(
        whole.1[0].raw,
        line("IUD1", "10.50").replace("Mario", "Nicolò")
    );
    let ok = whole.1[1].outcome.as_ref().unwrap();
    assert_eq!(ok.dovuto.causale, "Tassa\r\n\nrifiuti");
    assert_eq!(
        whole.1[3].raw,
        line("IUD4", "2"),
        "the last line needs no break"
    );
    for pezzo in [1, 2, 3, 1000] {
        for a_byte in [false, true] {
            assert_eq!(leggi_tutto(text.as_bytes(), pezzo, a_byte).unwrap(), whole);
        }
    }
    // The same file in Latin-1: the same lines.
    let latin1: Vec<u8> = text
        .trim_start_matches('\u{feff}')
        .chars()
        .map(|c| u8::try_from(u32::from(c)).unwrap())
        .collect();
    assert_eq!(leggi_tutto(&latin1, 2, true).unwrap(), whole);
}

#[test]
fn a_long_original_line_is_cut_on_a_character() {
    let long = line("IUD1", "x").replace("Via Roma", &"è".repeat(3_000));
    let text = format!("{long}\n{}\n", line("IUD2", "1"));
    let (_, lines) = leggi_tutto(text.as_bytes(), 10, false).unwrap();
    assert!(lines[0].raw.ends_with("è…"), "{}", lines[0].raw);
    assert!(lines[0].raw.len() <= RAW_MAX + '…'.len_utf8());
    assert_eq!(lines[1].line, 2);
    assert_eq!(lines[1].raw, line("IUD2", "1"), "not cut");
}

#[test]
fn a_quoted_empty_line_is_a_line_and_blanks_are_not() {
    let text = format!(
        "{}\n\"\"\n  \t \n{}\n",
        line("IUD1", "1"),
        line("IUD2", "1")
    );
    let (_, lines) = leggi_tutto(text.as_bytes(), 10, false).unwrap();
    let numbers: Vec<u64> = lines.iter().map(|l| l.line).collect();
    assert_eq!(numbers, [1, 2, 4]);
    assert_eq!(
        lines[1].outcome.as_ref().unwrap_err().code,
        "PAA_IMPORT_SINTASSI_CSV"
    );
}

#[test]
fn a_record_past_the_limit_refuses_the_file() {
    let mut text = format!("{}\n{}\n", line("IUD1", "1"), line("IUD2", "1"));
    text.push_str("IUD3;\"");
    text.push_str(&"x".repeat(RECORD_MAX as usize + (1 << 17)));
    let mut parti = 0;
    let esito = leggi_a_pezzi(
        || Ok(text.as_bytes()),
        None,
        1,
        |_| {
            parti += 1;
            true
        },
    )
    .unwrap();
    let e = esito.unwrap_err();
    assert!(
        e.contains("dopo la riga 2") && e.contains("virgolette"),
        "{e}"
    );
    // IUD1 was handed over (IUD2 waits for the end of the next record): the caller drops it.
    assert_eq!(parti, 1);
    // Within the limit, a long record is a line.
    let text = format!(
        "{}\n{}",
        line("IUD1", "1"),
        line("IUD2", &"9".repeat(900_000))
    );
    let (_, lines) = leggi_tutto(text.as_bytes(), 10, false).unwrap();
    assert_eq!(lines.len(), 2);
}

#[test]
fn a_stopped_receiver_stops_the_reading() {
    let text: String = (0..10)
        .map(|i| line(&format!("I{i}"), "1") + "\n")
        .collect();
    let mut parti = 0;
    let v = leggi_a_pezzi(
        || Ok(text.as_bytes()),
        None,
        2,
        |_| {
            parti += 1;
            false
        },
    );
    assert_eq!(v.unwrap(), Ok(Versione::V1_3));
    assert_eq!(parti, 1);
}

/// The reader before it streamed (a whole file decoded in memory), kept as the
/// reference the streaming reader must agree with.
fn riferimento(bytes: &[u8], versione: Option<Versione>) -> Result<FileCsv, String> {
    let text = decode(bytes);
    let text = text.as_str();
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

    #[test]
    fn reading_a_byte_at_a_time_changes_nothing(
        bytes in proptest::collection::vec(prop_oneof![
            Just(b';'), Just(b'"'), Just(b'\n'), Just(b'\r'), Just(0xE0u8), Just(0xC3), Just(0xA0), Just(b'I'),
            Just(b' '), Just(b'\t'),
        ], 0..120)
    ) {
        let mut text = format!("{}\n", line("IUD0", "1")).into_bytes();
        text.extend_from_slice(&bytes);
        prop_assert_eq!(leggi_tutto(&text, 2, true), leggi_tutto(&text, usize::MAX, false));
        let prima = riferimento(&text, None).map(|f| (f.versione, f.lines));
        prop_assert_eq!(leggi_tutto(&text, 2, true), prima);
    }
}
