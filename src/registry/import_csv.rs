//! MyPay "import dovuti" CSV, tracciato 1.0 to 1.3 (docs/riconciliazione.md §5.10):
//! `;`-separated, `"` quoted, header row, dates `yyyy-MM-dd`, amounts with a `.` separator.
//! Pure: turns bytes into one outcome per line and decides what a line does to the stored
//! dovuto ([`effetto`]); applying it is the store's job.

use super::{Dovuto, DovutoValido, NuovoDovuto, Pagatore, Rifiuto, TipoSoggetto, check_iud};
use crate::model::codice_fiscale::CF_ANONIMO;
use crate::model::{
    Bilancio, CodiceFiscale, DatiSpecificiRiscossione, Importo, Iuv, StatoDovuto, TipoVersamento,
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

#[cfg(test)]
#[derive(Debug, PartialEq)]
pub struct FileCsv {
    pub versione: Versione,
    pub lines: Vec<LineaCsv>,
}

/// Decodes UTF-8 (with or without BOM); anything else is taken as Latin-1, which is what
/// older back offices export. [`leggi_a_pezzi`] reads a file the same way.
pub fn decode(bytes: &[u8]) -> String {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    match std::str::from_utf8(bytes) {
        Ok(s) => s.to_owned(),
        Err(_) => bytes.iter().map(|&b| char::from(b)).collect(),
    }
}

/// Dovuti lines handed to the store per part: a few MB of parsed lines.
pub const PEZZO: usize = 2_000;

/// The original line kept for the reject report is cut here: the line number finds the
/// rest in the file.
const RAW_MAX: usize = 2048;

/// Reads a dovuti CSV a record at a time and hands its lines over in parts of `pezzo`, so a
/// file of any size costs a part of memory. `apri` opens the file from its first byte: it is
/// read three times at once (the encoding is told first, then the records and the original
/// lines are read side by side). `consegna` returning false stops the reading (the receiver
/// is gone). Outer error: the file could not be read; inner: the tracciato cannot be told,
/// and nothing was handed over.
pub fn leggi_a_pezzi<R: std::io::Read>(
    apri: impl Fn() -> std::io::Result<R>,
    versione: Option<Versione>,
    pezzo: usize,
    mut consegna: impl FnMut(Vec<LineaCsv>) -> bool,
) -> std::io::Result<Result<Versione, String>> {
    let (bom, utf8) = codifica(apri()?)?;
    let salta = if bom { BOM.len() as u64 } else { 0 };
    let mut sorgente = apri()?;
    std::io::copy(
        &mut std::io::Read::take(&mut sorgente, salta),
        &mut std::io::sink(),
    )?;
    let mut rdr = csv::ReaderBuilder::new()
        .delimiter(b';')
        .has_headers(false)
        .flexible(true)
        .buffer_capacity(1 << 16)
        .from_reader(sorgente);
    let mut seguace = Seguace::new(apri()?, salta)?;
    // Record k is complete when record k+1 starts: its original line ends there.
    let (mut letto, mut in_attesa) = (csv::ByteRecord::new(), csv::ByteRecord::new());
    let mut versione = versione;
    let (mut primo, mut attende) = (true, false);
    let mut parte = Vec::new();
    loop {
        let altro = rdr.read_byte_record(&mut letto).map_err(into_io)?;
        let inizio = altro.then(|| letto.position().map_or(0, csv::Position::byte));
        if attende {
            let (line, raw, tagliata) = seguace.record(inizio)?;
            let rec = stringhe(&in_attesa, utf8);
            let blank = rec.len() == 1 && rec[0].trim().is_empty();
            let header = primo
                && rec
                    .get(0)
                    .is_some_and(|c| c.trim().eq_ignore_ascii_case("IUD"));
            if primo {
                primo = false;
                if versione.is_none() {
                    match Versione::from_columns(rec.len()) {
                        Some(v) => versione = Some(v),
                        None => {
                            return Ok(Err(format!(
                                "{} colonne: il tracciato dovuti 1.0/1.1 ne ha 20, 1.2 ne ha 21, 1.3 ne ha 22 (1.4 non è supportato)",
                                rec.len()
                            )));
                        }
                    }
                }
            }
            let v = versione.expect("told from the first record");
            if !blank && !header {
                parte.push(LineaCsv {
                    line,
                    raw: testo_originale(&raw, tagliata, utf8),
                    outcome: parse_record(&rec, v),
                });
                if parte.len() >= pezzo && !consegna(std::mem::take(&mut parte)) {
                    return Ok(Ok(v));
                }
            }
        }
        if !altro {
            break;
        }
        std::mem::swap(&mut letto, &mut in_attesa);
        attende = true;
    }
    let Some(v) = versione else {
        return Ok(Err(
            "file vuoto o illeggibile: impossibile determinare la versione del tracciato".into(),
        ));
    };
    if !parte.is_empty() {
        consegna(parte);
    }
    Ok(Ok(v))
}

/// Every line of a file in memory, for tests.
#[cfg(test)]
pub fn parse(text: &str, versione: Option<Versione>) -> Result<FileCsv, String> {
    let mut lines = Vec::new();
    let versione = leggi_a_pezzi(
        || Ok(text.as_bytes()),
        versione,
        3,
        |p| {
            lines.extend(p);
            true
        },
    )
    .expect("reading memory")?;
    Ok(FileCsv { versione, lines })
}

const BOM: &[u8] = b"\xEF\xBB\xBF";

/// Whether the file starts with a byte order mark, and whether the rest is UTF-8 (else it
/// is read as Latin-1, as [`decode`] does).
fn codifica(mut r: impl std::io::Read) -> std::io::Result<(bool, bool)> {
    let mut buf = vec![0u8; 1 << 16];
    let (mut len, mut fine) = (0, false);
    while len < BOM.len() && !fine {
        let n = r.read(&mut buf[len..])?;
        fine = n == 0;
        len += n;
    }
    let bom = buf[..len].starts_with(BOM);
    if bom {
        buf.copy_within(BOM.len()..len, 0);
        len -= BOM.len();
    }
    loop {
        // A character cut by the buffer's end waits at its start for the rest.
        let tengo = match std::str::from_utf8(&buf[..len]) {
            Ok(_) => 0,
            Err(e) if e.error_len().is_none() => len - e.valid_up_to(),
            Err(_) => return Ok((bom, false)),
        };
        if fine {
            return Ok((bom, tengo == 0));
        }
        buf.copy_within(len - tengo..len, 0);
        let n = r.read(&mut buf[tengo..])?;
        fine = n == 0;
        len = tengo + n;
    }
}

fn into_io(e: csv::Error) -> std::io::Error {
    match e.into_kind() {
        csv::ErrorKind::Io(e) => e,
        other => std::io::Error::other(format!("{other:?}")),
    }
}

/// A field in the file's encoding (the file was checked: UTF-8 cannot fail here).
fn stringhe(rec: &csv::ByteRecord, utf8: bool) -> csv::StringRecord {
    let mut s = csv::StringRecord::with_capacity(rec.as_slice().len(), rec.len());
    for f in rec {
        if utf8 {
            s.push_field(&String::from_utf8_lossy(f));
        } else {
            s.push_field(&f.iter().map(|&b| char::from(b)).collect::<String>());
        }
    }
    s
}

/// The kept part of an original line as text, marked when cut.
fn testo_originale(raw: &[u8], tagliata: bool, utf8: bool) -> String {
    let mut s = if utf8 {
        match std::str::from_utf8(raw) {
            Ok(s) => s.to_owned(),
            // Only the cut can split a character.
            Err(e) => String::from_utf8_lossy(&raw[..e.valid_up_to()]).into_owned(),
        }
    } else {
        raw.iter().map(|&b| char::from(b)).collect()
    };
    if tagliata {
        s.push('…');
    }
    s
}

/// Follows the records' reader on a second handle of the file: the bytes between two
/// records' starts are the first one's original line, and the line breaks before it give
/// its line number (the csv reader's own line count is not kept for every record).
struct Seguace<R> {
    r: std::io::BufReader<R>,
    pos: u64,
    /// Line breaks before `pos`.
    righe: u64,
}

impl<R: std::io::Read> Seguace<R> {
    fn new(r: R, salta: u64) -> std::io::Result<Self> {
        let mut r = std::io::BufReader::with_capacity(1 << 16, r);
        std::io::copy(
            &mut std::io::Read::take(&mut r, salta),
            &mut std::io::sink(),
        )?;
        Ok(Self {
            r,
            pos: 0,
            righe: 0,
        })
    }

    /// The record from here to `fine` (None: the end of the file): the number of its first
    /// line with content, its bytes without the line breaks around them, cut at
    /// [`RAW_MAX`], and whether they were cut.
    fn record(&mut self, fine: Option<u64>) -> std::io::Result<(u64, Vec<u8>, bool)> {
        use std::io::BufRead;
        let mut raw = Vec::new();
        let (mut line, mut tagliata) = (None, false);
        while fine.is_none_or(|f| self.pos < f) {
            let buf = self.r.fill_buf()?;
            if buf.is_empty() {
                break;
            }
            let n = fine.map_or(buf.len(), |f| buf.len().min((f - self.pos) as usize));
            let mut pezzo = &buf[..n];
            if line.is_none() {
                // With CRLF a record's reported start is the `\n` ending the one before.
                let vuote = pezzo
                    .iter()
                    .take_while(|&&b| matches!(b, b'\r' | b'\n'))
                    .count();
                self.righe += memchr::memchr_iter(b'\n', &pezzo[..vuote]).count() as u64;
                pezzo = &pezzo[vuote..];
                if !pezzo.is_empty() {
                    line = Some(self.righe + 1);
                }
            }
            self.righe += memchr::memchr_iter(b'\n', pezzo).count() as u64;
            let (tenuto, oltre) = pezzo.split_at(pezzo.len().min(RAW_MAX - raw.len()));
            raw.extend_from_slice(tenuto);
            tagliata |= oltre.iter().any(|b| !matches!(b, b'\r' | b'\n'));
            self.r.consume(n);
            self.pos += n as u64;
        }
        while raw.last().is_some_and(|b| matches!(b, b'\r' | b'\n')) {
            raw.pop();
        }
        Ok((line.unwrap_or(self.righe + 1), raw, tagliata))
    }
}

/// What a valid import line does to the dovuto its IUD names.
#[derive(Debug)]
pub enum Effetto<'a> {
    /// The dovuto already holds this content (or is already cancelled): a repeated import.
    Invariato,
    Inserisci,
    Modifica(&'a Dovuto),
    Annulla(&'a Dovuto),
}

/// Decides a line against the dovuto stored under its IUD (`None`: there is none).
pub fn effetto<'a>(
    azione: Azione,
    valido: &DovutoValido,
    esistente: Option<&'a Dovuto>,
) -> Result<Effetto<'a>, Rifiuto> {
    match (azione, esistente) {
        (Azione::Inserisci | Azione::Modifica, Some(old)) if valido.same_as(old) => {
            Ok(Effetto::Invariato)
        }
        (Azione::Annulla, Some(old)) if old.stato == StatoDovuto::Annullato => {
            Ok(Effetto::Invariato)
        }
        (Azione::Inserisci, Some(_)) => Err(Rifiuto::new(
            "PAA_IMPORT_IUD_DUPLICATO",
            "IUD già presente con dati diversi: usare l'azione M per modificarlo",
        )),
        (Azione::Modifica | Azione::Annulla, None) => Err(Rifiuto::new(
            "PAA_IMPORT_IUD_INESISTENTE",
            "IUD non presente: impossibile modificare o annullare",
        )),
        (Azione::Inserisci, None) => Ok(Effetto::Inserisci),
        (Azione::Modifica, Some(old)) => Ok(Effetto::Modifica(old)),
        (Azione::Annulla, Some(old)) if !old.stato.is_modifiable() => Err(Rifiuto::new(
            "PAA_IMPORT_DOVUTO_NON_ANNULLABILE",
            format!("dovuto in stato {}: non annullabile", old.stato),
        )),
        (Azione::Annulla, Some(old)) => Ok(Effetto::Annulla(old)),
    }
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
            ], 0..120)
        ) {
            let mut text = format!("{}\n", line("IUD0", "1")).into_bytes();
            text.extend_from_slice(&bytes);
            prop_assert_eq!(leggi_tutto(&text, 2, true), leggi_tutto(&text, usize::MAX, false));
        }
    }
}
