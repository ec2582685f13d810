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

/// A part is handed over at this many bytes of records too, whatever its lines.
const PEZZO_BYTE: usize = 8 << 20;

/// The longest record read: a quote left open would otherwise make the rest of the file one
/// record, held in memory.
pub const RECORD_MAX: u64 = 1 << 20;

/// The original line kept for the reject report is cut here: the line number finds the
/// rest in the file.
const RAW_MAX: usize = 2048;

/// Reads a dovuti CSV a record at a time and hands its lines over in parts of `pezzo` (or
/// of [`PEZZO_BYTE`]), so a file of any size costs a part of memory. `apri` opens the file
/// from its first byte: it is read three times at once (the encoding is told first, then
/// the records and the original lines are read side by side). `consegna` returning false
/// stops the reading (the receiver is gone). Outer error: the file could not be read;
/// inner: the file is refused as a whole (the tracciato cannot be told, a record is over
/// [`RECORD_MAX`]): the caller must not apply what was handed over.
pub fn leggi_a_pezzi<R: std::io::Read>(
    apri: impl Fn() -> std::io::Result<R>,
    versione: Option<Versione>,
    pezzo: usize,
    mut consegna: impl FnMut(Vec<LineaCsv>) -> bool,
) -> std::io::Result<Result<Versione, String>> {
    let (bom, utf8) = codifica(apri()?)?;
    let salta = if bom { BOM.len() as u64 } else { 0 };
    let inizio_record = std::rc::Rc::new(std::cell::Cell::new(0u64));
    let mut sorgente = Limitato {
        r: apri()?,
        letti: 0,
        inizio_record: inizio_record.clone(),
    };
    std::io::copy(
        &mut std::io::Read::take(&mut sorgente, salta),
        &mut std::io::sink(),
    )?;
    sorgente.letti = 0;
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
    let (mut parte, mut byte_parte) = (Vec::new(), 0);
    loop {
        let altro = match rdr.read_byte_record(&mut letto) {
            Ok(altro) => altro,
            Err(e) => match into_io(e) {
                e if e.get_ref().is_some_and(|e| e.is::<TroppoLungo>()) => {
                    // The record before the long one ends where the long one starts.
                    let dopo = if attende {
                        let (line, _, _) = seguace.record(Some(inizio_record.get()))?;
                        format!("dopo la riga {line}")
                    } else {
                        "all'inizio del file".to_owned()
                    };
                    return Ok(Err(format!(
                        "un record {dopo} supera {} MiB (virgolette non chiuse?): nessun dovuto importato",
                        RECORD_MAX >> 20
                    )));
                }
                e => return Err(e),
            },
        };
        let inizio = altro.then(|| letto.position().map_or(0, csv::Position::byte));
        // The next record starts here: the source counts its length from here.
        let fine_letto = rdr.position().byte();
        if attende {
            let (line, raw, tagliata) = seguace.record(inizio)?;
            let raw = testo_originale(&raw, tagliata, utf8);
            let rec = stringhe(&in_attesa, utf8);
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
            // A line of blanks is skipped (as a text editor leaves them); `""` is not blank.
            let blank = !tagliata && raw.trim().is_empty();
            if !blank && !header {
                byte_parte += in_attesa.as_slice().len();
                parte.push(LineaCsv {
                    line,
                    raw,
                    outcome: parse_record(&rec, v),
                });
                if parte.len() >= pezzo || byte_parte >= PEZZO_BYTE {
                    byte_parte = 0;
                    if !consegna(std::mem::take(&mut parte)) {
                        return Ok(Ok(v));
                    }
                }
            }
        }
        if !altro {
            break;
        }
        std::mem::swap(&mut letto, &mut in_attesa);
        attende = true;
        inizio_record.set(fine_letto);
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

/// The csv reader's source: refuses to read more than [`RECORD_MAX`] past the start of
/// the record being read (its buffer's worth allowed on top).
struct Limitato<R> {
    r: R,
    letti: u64,
    inizio_record: std::rc::Rc<std::cell::Cell<u64>>,
}

#[derive(Debug)]
struct TroppoLungo;

impl std::fmt::Display for TroppoLungo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "record oltre {RECORD_MAX} byte")
    }
}

impl std::error::Error for TroppoLungo {}

impl<R: std::io::Read> std::io::Read for Limitato<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.letti.saturating_sub(self.inizio_record.get()) > RECORD_MAX + (1 << 16) {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                TroppoLungo,
            ));
        }
        let n = self.r.read(buf)?;
        self.letti += n as u64;
        Ok(n)
    }
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
pub(crate) mod tests;
