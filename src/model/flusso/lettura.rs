//! The FlussoRiversamento reader: a window of the input at a time, read in place by the
//! flow's own tokenizer ([`scansione`]), with the hostile-input checks and the schema's
//! facets (deviations) done as it goes.

use super::scansione::{self, Arresto, Evento};
use super::{Conteggi, Deviazione, Istituto, PagamentoFlusso, TestataFlusso};
use crate::model::rpt::{DataOra, DocError, IdentificativoUnivoco};
use crate::model::{Importo, Iuv};
use crate::xml::{NS_PAY_I, XmlError};
use std::io::BufRead;
use time::Date;

/// Collects deviations; bounded by the number of (field, rule) pairs checked.
#[derive(Default)]
struct Deviazioni(Vec<Deviazione>);

impl Deviazioni {
    fn nota(&mut self, campo: &'static str, regola: &'static str, valore: &str) {
        match self
            .0
            .iter_mut()
            .find(|d| d.campo == campo && d.regola == regola)
        {
            Some(d) => d.volte += 1,
            None => self.0.push(Deviazione {
                campo,
                regola,
                volte: 1,
                esempio: valore.chars().take(70).collect(),
            }),
        }
    }

    /// `stText35`, `stText70`, `stText140`: 1 to `max` characters.
    fn testo(&mut self, campo: &'static str, max: usize, valore: &str) {
        if valore.is_empty() {
            self.nota(campo, "vuoto (minLength 1)", valore);
        } else if valore.len() > max && valore.chars().count() > max {
            let regola = match max {
                35 => "oltre 35 caratteri (maxLength 35)",
                70 => "oltre 70 caratteri (maxLength 70)",
                _ => "oltre 140 caratteri (maxLength 140)",
            };
            self.nota(campo, regola, valore);
        }
    }

    /// `\d+\.\d{2}`: the lenient amount reader also takes `12` and `12.5`.
    fn importo(&mut self, campo: &'static str, valore: &str) {
        if valore.split_once('.').is_none_or(|(_, d)| d.len() != 2) {
            self.nota(campo, "non nel formato \\d+\\.\\d{2}", valore);
        }
    }
}

/// `[a-zA-Z0-9\-_]{1,35}` (stIdentificativoFlusso).
fn id_flusso_valido(v: &str) -> bool {
    (1..=35).contains(&v.len())
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

fn importo(field: &str, v: &str) -> Result<Importo, DocError> {
    Importo::parse(v).map_err(|e| DocError::Content(format!("{field}: {e}")))
}

/// Element names the parser cares about, matched once per start tag without allocating.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tag {
    Versione,
    IdFlusso,
    DataOraFlusso,
    IdRegolamento,
    DataRegolamento,
    Mittente,
    Bic,
    Ricevente,
    Numero,
    Totale,
    Dati,
    Iuv,
    Iur,
    Indice,
    Importo,
    Esito,
    DataEsito,
    IdUnivoco,
    Denominazione,
    Tipo,
    Codice,
    Other,
}

/// An element whose text the reader uses (the others hold elements, or are unknown).
fn foglia(t: Tag) -> bool {
    !matches!(
        t,
        Tag::Other | Tag::Dati | Tag::Mittente | Tag::Ricevente | Tag::IdUnivoco
    )
}

fn tag(depth: usize, parent: Tag, name: &[u8]) -> Tag {
    match (depth, parent, name) {
        (2, _, b"versioneOggetto") => Tag::Versione,
        (2, _, b"identificativoFlusso") => Tag::IdFlusso,
        (2, _, b"dataOraFlusso") => Tag::DataOraFlusso,
        (2, _, b"identificativoUnivocoRegolamento") => Tag::IdRegolamento,
        (2, _, b"dataRegolamento") => Tag::DataRegolamento,
        (2, _, b"istitutoMittente") => Tag::Mittente,
        (2, _, b"codiceBicBancaDiRiversamento") => Tag::Bic,
        (2, _, b"istitutoRicevente") => Tag::Ricevente,
        (2, _, b"numeroTotalePagamenti") => Tag::Numero,
        (2, _, b"importoTotalePagamenti") => Tag::Totale,
        (2, _, b"datiSingoliPagamenti") => Tag::Dati,
        (3, Tag::Dati, b"identificativoUnivocoVersamento") => Tag::Iuv,
        (3, Tag::Dati, b"identificativoUnivocoRiscossione") => Tag::Iur,
        (3, Tag::Dati, b"indiceDatiSingoloPagamento") => Tag::Indice,
        (3, Tag::Dati, b"singoloImportoPagato") => Tag::Importo,
        (3, Tag::Dati, b"codiceEsitoSingoloPagamento") => Tag::Esito,
        (3, Tag::Dati, b"dataEsitoSingoloPagamento") => Tag::DataEsito,
        (3, Tag::Mittente, b"identificativoUnivocoMittente")
        | (3, Tag::Ricevente, b"identificativoUnivocoRicevente") => Tag::IdUnivoco,
        (3, Tag::Mittente, b"denominazioneMittente")
        | (3, Tag::Ricevente, b"denominazioneRicevente") => Tag::Denominazione,
        (4, Tag::IdUnivoco, b"tipoIdentificativoUnivoco") => Tag::Tipo,
        (4, Tag::IdUnivoco, b"codiceIdentificativoUnivoco") => Tag::Codice,
        _ => Tag::Other,
    }
}

/// `YYYY-MM-DD` without the generic formatter: this runs once per payment.
fn fast_date(v: &str) -> Option<Date> {
    let b = v.as_bytes();
    let num = |r: std::ops::Range<usize>| -> Option<u32> {
        b.get(r.clone())
            .filter(|x| x.iter().all(u8::is_ascii_digit))
            .map(|x| x.iter().fold(0u32, |a, d| a * 10 + u32::from(d - b'0')))
    };

    (b.len() == 10 && b[4] == b'-' && b[7] == b'-')
        .then(|| Some((num(0..4)?, num(5..7)?, num(8..10)?)))
        .flatten()
        .and_then(|(y, m, d)| {
            Date::from_calendar_date(y as i32, time::Month::try_from(m as u8).ok()?, d as u8).ok()
        })
}

#[derive(Default)]
struct PagamentoParziale {
    iuv: Option<Iuv>,
    iur: Option<String>,
    indice: Option<u8>,
    importo: Option<Importo>,
    esito: Option<u8>,
    data: Option<Date>,
}

#[derive(Default)]
struct TestataParziale {
    versione: Option<String>,
    id_flusso: Option<String>,
    data_ora: Option<String>,
    iur: Option<String>,
    data_regolamento: Option<String>,
    bic: Option<String>,
    numero: Option<String>,
    totale: Option<String>,
    mittente: [Option<String>; 3],
    ricevente: [Option<String>; 3],
}

const MAX_DEPTH: usize = 8;

fn missing(f: &str) -> DocError {
    DocError::Content(format!("elemento obbligatorio mancante: {f}"))
}

/// How much of the input the reader holds at once (see [`a_finestre`]).
pub(super) const FINESTRA: usize = 256 * 1024;

/// Streams a flow from `input`, calling `on_pagamento` for each payment in document order,
/// and returns the header with the actual count and sum. `max_bytes` bounds the input.
pub fn parse_stream<R: BufRead>(
    input: R,
    max_bytes: u64,
    on_pagamento: impl FnMut(PagamentoFlusso) -> Result<(), DocError>,
) -> Result<(TestataFlusso, Conteggi), DocError> {
    a_finestre(input, max_bytes, FINESTRA, on_pagamento)
}

const BOM_UTF8: &[u8] = b"\xEF\xBB\xBF";

/// Starts with a byte order mark (UTF-8, or UTF-16 either way).
fn con_marca(b: &[u8]) -> bool {
    [BOM_UTF8, b"\xFF\xFE", b"\xFE\xFF"]
        .iter()
        .any(|m| b.starts_with(m))
}

/// Appends to `win` what `input` has ready, up to `voluto` bytes in all; 0 at its end.
fn riempi(input: &mut impl BufRead, win: &mut Vec<u8>, voluto: usize) -> std::io::Result<usize> {
    let pronto = loop {
        match input.fill_buf() {
            Ok(b) => break b,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    };
    let n = pronto.len().min(voluto.saturating_sub(win.len()));
    // Exactly what the window may hold: the bound on memory is the window's, not twice it.
    win.reserve_exact(voluto.saturating_sub(win.len()));
    win.extend_from_slice(&pronto[..n]);
    input.consume(n);
    Ok(n)
}

/// Bytes a text needs a second look at: control characters XML forbids, references, and
/// carriage returns (a line end is read as `\n`).
static SPECIALE: [bool; 256] = {
    let mut t = [false; 256];
    let mut b = 0;
    while b < 0x20 {
        t[b] = b != b'\t' as usize && b != b'\n' as usize;
        b += 1;
    }
    t[b'&' as usize] = true;
    t
};

/// Not XML at input position `pos`.
fn malformato(pos: u64, msg: impl Into<String>) -> DocError {
    DocError::Xml(crate::xml::malformed(pos, msg))
}

fn non_utf8(pos: u64) -> DocError {
    malformato(pos, "byte non valido in UTF-8")
}

/// Checks a raw text (or, without `riferimenti`, a CDATA section's content) found at input
/// position `at`, and appends it to `out` when given: references resolved, line ends read
/// as `\n`, as XML 1.0 reads them.
fn decodifica(
    raw: &[u8],
    at: u64,
    riferimenti: bool,
    out: Option<&mut String>,
) -> Result<(), DocError> {
    // The common case: a leaf's value, or the indentation between elements (a good part of
    // a flow's bytes), which is checked but never decoded nor kept.
    if !raw.iter().any(|&b| SPECIALE[usize::from(b)]) {
        if let Some(out) = out {
            out.push_str(std::str::from_utf8(raw).map_err(|_| non_utf8(at))?);
        }
        return Ok(());
    }
    let s = std::str::from_utf8(raw).map_err(|_| non_utf8(at))?;
    let b = s.as_bytes();
    let mut out = out;
    let mut spingi = |x: &str| {
        if let Some(o) = out.as_deref_mut() {
            o.push_str(x);
        }
    };
    let (mut i, mut tratto) = (0, 0);
    while i < b.len() {
        if !SPECIALE[usize::from(b[i])] {
            i += 1;
            continue;
        }
        // Every special byte is ASCII: the cuts fall between characters.
        spingi(&s[tratto..i]);
        match b[i] {
            b'\r' => {
                spingi("\n");
                i += if b.get(i + 1) == Some(&b'\n') { 2 } else { 1 };
            }
            b'&' if riferimenti => {
                let pos = at + i as u64;
                let Some(n) = memchr::memchr(b';', &b[i + 1..]) else {
                    return Err(malformato(pos, "errore di sintassi: riferimento senza ';'"));
                };
                let nome = &s[i + 1..i + 1 + n];
                let Some(c) = crate::xml::resolve_ref_name(nome) else {
                    return Err(malformato(pos, format!("entità sconosciuta '&{nome};'")));
                };
                spingi(c.encode_utf8(&mut [0; 4]));
                i += n + 2;
            }
            b'&' => {
                spingi("&");
                i += 1;
            }
            _ => {
                return Err(malformato(
                    at + i as u64,
                    "carattere di controllo non ammesso",
                ));
            }
        }
        tratto = i;
    }
    spingi(&s[tratto..]);
    Ok(())
}

/// The reader proper; the window's size is a parameter so that tests can cut the input
/// anywhere.
///
/// The input is read a window at a time. The window's new bytes are checked to be UTF-8 as
/// they arrive, then its constructs are read in place by [`scansione::evento`] up to the
/// first one the window cuts, which the next window starts with (a window that holds not
/// even one grows, up to one byte past the bound). Whatever the cuts, the same constructs
/// are read: a fault is found at the same position, after the same payments.
pub(super) fn a_finestre<R: BufRead>(
    mut input: R,
    max_bytes: u64,
    finestra: usize,
    mut on_pagamento: impl FnMut(PagamentoFlusso) -> Result<(), DocError>,
) -> Result<(TestataFlusso, Conteggi), DocError> {
    let troppo = || DocError::Xml(XmlError::TooLarge(max_bytes as usize));
    let mut win: Vec<u8> = Vec::with_capacity(finestra);
    // Where win[0] is in the input; how much the next window must hold; input exhausted.
    let mut base = 0u64;
    // No window holds a byte past one beyond the bound: whatever the window, an input over
    // the bound is refused, and no sooner than where it passes it.
    let al_limite = |base: u64| {
        usize::try_from(max_bytes.saturating_add(1).saturating_sub(base)).unwrap_or(usize::MAX)
    };
    // The first window holds at least what the check of the input's start reads.
    let mut voluto = finestra.max(2 * BOM_UTF8.len()).min(al_limite(0));
    let mut finito = false;
    let mut inizio_visto = false;
    // How much of the window is known to be UTF-8.
    let mut valido = 0usize;
    // The open elements' qualified names, for the end tags' check.
    let mut nomi: Vec<u8> = Vec::new();
    let mut inizi = [0usize; MAX_DEPTH + 1];
    let mut text = String::new();
    // The open element at each depth (index = depth).
    let mut stack = [Tag::Other; MAX_DEPTH + 1];
    let mut depth = 0usize;
    let mut t = TestataParziale::default();
    let mut p = PagamentoParziale::default();
    let mut conteggi = Conteggi {
        pagamenti: 0,
        somma: Importo::ZERO,
        deviazioni: Vec::new(),
    };
    let mut dev = Deviazioni::default();
    let mut seen_root = false;
    let fine = 'finestre: loop {
        while !finito && win.len() < voluto {
            finito = riempi(&mut input, &mut win, voluto)
                .map_err(|e| malformato(base + win.len() as u64, format!("I/O error: {e}")))?
                == 0;
        }
        // The input's start, once: one UTF-8 byte order mark is dropped; a second one, or
        // a UTF-16 one, says the flow is not in UTF-8.
        if !inizio_visto && (win.len() >= 2 * BOM_UTF8.len() || finito) {
            inizio_visto = true;
            if win.starts_with(BOM_UTF8) {
                win.drain(..BOM_UTF8.len());
                base = BOM_UTF8.len() as u64;
            }
            if con_marca(&win) {
                return Err(malformato(
                    base,
                    "codifica non ammessa: un flusso è in UTF-8, con al più un BOM",
                ));
            }
        }
        // The constructs are read up to the first byte that is not UTF-8 (`guasto`), or up
        // to a character the window cuts.
        let (limite, guasto) = match std::str::from_utf8(&win[valido..]) {
            Ok(_) => (win.len(), false),
            Err(e) => (valido + e.valid_up_to(), e.error_len().is_some() || finito),
        };
        valido = limite;
        let in_fondo = finito && !guasto && limite == win.len();
        let buf = &win[..limite];
        let mut pos = 0usize;
        // How far the window was read: to the start of the construct it cuts.
        let letto = loop {
            if pos == buf.len() {
                if in_fondo {
                    break 'finestre base + pos as u64;
                }
                if guasto {
                    return Err(non_utf8(base + pos as u64));
                }
                break pos;
            }
            let at = base + pos as u64;
            let (ev, dopo) = match scansione::evento(buf, pos, in_fondo) {
                Ok(x) => x,
                Err(Arresto::Incompleto) if guasto => return Err(non_utf8(base + limite as u64)),
                Err(Arresto::Incompleto) => break pos,
                Err(Arresto::Errore(i, msg)) => return Err(malformato(base + i as u64, msg)),
            };
            pos = dopo;
            match ev {
                Evento::Apertura { vuoto: true, .. } if depth == 0 => {
                    return Err(DocError::Root {
                        expected: "FlussoRiversamento",
                        found: "elemento vuoto".into(),
                    });
                }
                // An empty element holds nothing the reader uses.
                Evento::Apertura { vuoto: true, .. } | Evento::Altro => {}
                Evento::Apertura {
                    nome, attributi, ..
                } => {
                    depth += 1;
                    if depth > MAX_DEPTH {
                        return Err(DocError::Xml(XmlError::TooDeep(MAX_DEPTH)));
                    }
                    inizi[depth] = nomi.len();
                    nomi.extend_from_slice(nome);
                    let (prefix, name) = match memchr::memchr(b':', nome) {
                        Some(i) => (Some(&nome[..i]), &nome[i + 1..]),
                        None => (None, nome),
                    };
                    if depth == 1 {
                        if seen_root {
                            return Err(malformato(at, "un secondo elemento radice"));
                        }
                        // The root must be pay_i:FlussoRiversamento, by namespace URI.
                        let decl = match prefix {
                            Some(p) => [b"xmlns:", p].concat(),
                            None => b"xmlns".to_vec(),
                        };
                        let ns_ok =
                            scansione::attributo(attributi, &decl) == Some(NS_PAY_I.as_bytes());
                        if name != b"FlussoRiversamento" || !ns_ok {
                            return Err(DocError::Root {
                                expected: "FlussoRiversamento",
                                found: String::from_utf8_lossy(name).into_owned(),
                            });
                        }
                        seen_root = true;
                    } else {
                        stack[depth] = tag(depth, stack[depth - 1], name);
                    }
                    text.clear();
                }
                Evento::Testo(raw) if depth == 0 && raw.iter().any(|&b| !scansione::spazio(b)) => {
                    return Err(malformato(at, "testo fuori dall'elemento radice"));
                }
                // Only a leaf's text is kept.
                Evento::Testo(raw) => decodifica(
                    raw,
                    at,
                    true,
                    (depth > 1 && foglia(stack[depth])).then_some(&mut text),
                )?,
                Evento::CData(raw) => decodifica(
                    raw,
                    at + b"<![CDATA[".len() as u64,
                    false,
                    (depth > 1 && foglia(stack[depth])).then_some(&mut text),
                )?,
                Evento::Dtd => return Err(DocError::Xml(XmlError::Dtd)),
                Evento::Chiusura { nome } => {
                    let atteso = (depth > 0).then(|| &nomi[inizi[depth]..]);
                    if atteso != Some(nome) {
                        let trovato = String::from_utf8_lossy(nome);
                        let msg = match atteso {
                            Some(a) => format!(
                                "atteso `</{}>`, trovato `</{trovato}>`",
                                String::from_utf8_lossy(a)
                            ),
                            None => format!("`</{trovato}>` non chiude alcun elemento"),
                        };
                        return Err(malformato(at, msg));
                    }
                    nomi.truncate(inizi[depth]);
                    let v = text.trim();
                    let n = conteggi.pagamenti + 1;
                    let bad = |what: &str, e: String| {
                        DocError::Content(format!("datiSingoliPagamenti[{n}]/{what}: {e}"))
                    };
                    match (depth, stack[depth], stack[depth.saturating_sub(1)]) {
                        (2, Tag::Versione, _) => t.versione = Some(v.to_owned()),
                        (2, Tag::IdFlusso, _) => t.id_flusso = Some(v.to_owned()),
                        (2, Tag::DataOraFlusso, _) => t.data_ora = Some(v.to_owned()),
                        (2, Tag::IdRegolamento, _) => t.iur = Some(v.to_owned()),
                        (2, Tag::DataRegolamento, _) => t.data_regolamento = Some(v.to_owned()),
                        (2, Tag::Bic, _) => t.bic = Some(v.to_owned()),
                        (2, Tag::Numero, _) => t.numero = Some(v.to_owned()),
                        (2, Tag::Totale, _) => t.totale = Some(v.to_owned()),
                        (2, Tag::Dati, _) => {
                            let q = std::mem::take(&mut p);
                            let field =
                                |name: &str| missing(&format!("datiSingoliPagamenti[{n}]/{name}"));
                            let pag = PagamentoFlusso {
                                iuv: q
                                    .iuv
                                    .ok_or_else(|| field("identificativoUnivocoVersamento"))?,
                                iur: q
                                    .iur
                                    .ok_or_else(|| field("identificativoUnivocoRiscossione"))?,
                                indice: q.indice,
                                importo: q.importo.ok_or_else(|| field("singoloImportoPagato"))?,
                                codice_esito: q
                                    .esito
                                    .ok_or_else(|| field("codiceEsitoSingoloPagamento"))?,
                                data_esito: q
                                    .data
                                    .ok_or_else(|| field("dataEsitoSingoloPagamento"))?,
                            };
                            conteggi.pagamenti = n;
                            conteggi.somma =
                                conteggi.somma.checked_add(pag.importo).ok_or_else(|| {
                                    DocError::Content("somma dei pagamenti fuori intervallo".into())
                                })?;
                            on_pagamento(pag)?;
                        }
                        (3, Tag::Iuv, _) => {
                            p.iuv = Some(
                                Iuv::parse(v)
                                    .map_err(|e| bad("identificativoUnivocoVersamento", e.0))?,
                            )
                        }
                        (3, Tag::Iur, _) => {
                            dev.testo(
                                "datiSingoliPagamenti/identificativoUnivocoRiscossione",
                                35,
                                v,
                            );
                            p.iur = Some(v.to_owned())
                        }
                        (3, Tag::Indice, _) => {
                            p.indice = Some(
                                v.parse::<u8>()
                                    .ok()
                                    .filter(|i| (1..=5).contains(i))
                                    .ok_or_else(|| {
                                        bad(
                                            "indiceDatiSingoloPagamento",
                                            format!("'{v}' fuori da 1..5"),
                                        )
                                    })?,
                            )
                        }
                        (3, Tag::Importo, _) => {
                            let i =
                                Importo::parse(v).map_err(|e| bad("singoloImportoPagato", e.0))?;
                            const CAMPO: &str = "datiSingoliPagamenti/singoloImportoPagato";
                            dev.importo(CAMPO, v);
                            if i == Importo::ZERO {
                                dev.nota(CAMPO, "zero (minInclusive 0.01)", v);
                            }
                            p.importo = Some(i)
                        }
                        (3, Tag::Esito, _) => {
                            p.esito = Some(
                                v.parse::<u8>()
                                    .ok()
                                    .filter(|c| matches!(c, 0 | 3 | 4 | 8 | 9))
                                    .ok_or_else(|| {
                                        bad(
                                            "codiceEsitoSingoloPagamento",
                                            format!("'{v}' non previsto"),
                                        )
                                    })?,
                            )
                        }
                        (3, Tag::DataEsito, _) => {
                            p.data = Some(fast_date(v).ok_or_else(|| {
                                bad(
                                    "dataEsitoSingoloPagamento",
                                    format!("data non valida '{v}'"),
                                )
                            })?)
                        }
                        (3, Tag::Denominazione, Tag::Mittente) => {
                            dev.testo("istitutoMittente/denominazioneMittente", 70, v);
                            t.mittente[2] = Some(v.to_owned())
                        }
                        (3, Tag::Denominazione, Tag::Ricevente) => {
                            dev.testo("istitutoRicevente/denominazioneRicevente", 140, v);
                            t.ricevente[2] = Some(v.to_owned())
                        }
                        (4, leaf @ (Tag::Tipo | Tag::Codice), Tag::IdUnivoco) => {
                            let slot = if stack[2] == Tag::Mittente {
                                &mut t.mittente
                            } else {
                                &mut t.ricevente
                            };
                            slot[usize::from(leaf == Tag::Codice)] = Some(v.to_owned());
                        }
                        _ => {}
                    }
                    depth = depth.saturating_sub(1);
                    text.clear();
                }
            }
        };
        win.drain(..letto);
        base += letto as u64;
        valido -= letto;
        // Nothing whole in the window: a construct longer than it, read with more at once,
        // up to one byte past the bound.
        voluto = if letto == 0 {
            if base + win.len() as u64 > max_bytes {
                return Err(troppo());
            }
            win.len().saturating_mul(2).max(finestra)
        } else {
            finestra
        }
        .min(al_limite(base));
    };
    if !seen_root || depth != 0 {
        return Err(malformato(fine, "documento incompleto"));
    }
    let istituto = |s: [Option<String>; 3], name: &str| -> Result<Istituto, DocError> {
        let [tipo, codice, denominazione] = s;
        Ok(Istituto {
            identificativo: IdentificativoUnivoco {
                tipo: tipo.ok_or_else(|| missing(&format!("{name}/tipoIdentificativoUnivoco")))?,
                codice: codice
                    .ok_or_else(|| missing(&format!("{name}/codiceIdentificativoUnivoco")))?,
            },
            denominazione,
        })
    };
    controlla_testata(&t, &mut dev);
    let numero = t.numero.ok_or_else(|| missing("numeroTotalePagamenti"))?;
    let testata = TestataFlusso {
        versione_oggetto: t.versione.ok_or_else(|| missing("versioneOggetto"))?,
        identificativo_flusso: t.id_flusso.ok_or_else(|| missing("identificativoFlusso"))?,
        data_ora_flusso: DataOra::parse(&t.data_ora.ok_or_else(|| missing("dataOraFlusso"))?)
            .map_err(|e| DocError::Content(e.0))?,
        identificativo_univoco_regolamento: t
            .iur
            .ok_or_else(|| missing("identificativoUnivocoRegolamento"))?,
        data_regolamento: {
            let d = t
                .data_regolamento
                .ok_or_else(|| missing("dataRegolamento"))?;
            fast_date(&d).ok_or_else(|| {
                DocError::Content(format!("dataRegolamento: data non valida '{d}'"))
            })?
        },
        istituto_mittente: istituto(t.mittente, "istitutoMittente")?,
        codice_bic_banca_di_riversamento: t.bic,
        istituto_ricevente: istituto(t.ricevente, "istitutoRicevente")?,
        numero_totale_pagamenti: numero.parse().map_err(|_| {
            DocError::Content(format!("numeroTotalePagamenti non valido: '{numero}'"))
        })?,
        importo_totale_pagamenti: importo(
            "importoTotalePagamenti",
            &t.totale.ok_or_else(|| missing("importoTotalePagamenti"))?,
        )?,
    };
    if conteggi.pagamenti == 0 {
        return Err(missing("datiSingoliPagamenti"));
    }
    conteggi.deviazioni = dev.0;
    Ok((testata, conteggi))
}

/// The header's facets (checked once, on the values as read).
fn controlla_testata(t: &TestataParziale, dev: &mut Deviazioni) {
    if let Some(v) = &t.versione
        && !matches!(v.as_str(), "1.0" | "1.1")
    {
        dev.nota("versioneOggetto", "non tra 1.0 e 1.1", v);
    }
    if let Some(v) = &t.id_flusso
        && !id_flusso_valido(v)
    {
        dev.nota(
            "identificativoFlusso",
            "non nel formato [a-zA-Z0-9\\-_]{1,35}",
            v,
        );
    }
    for (campo, v) in [
        ("identificativoUnivocoRegolamento", &t.iur),
        ("codiceBicBancaDiRiversamento", &t.bic),
        (
            "istitutoMittente/identificativoUnivocoMittente/codiceIdentificativoUnivoco",
            &t.mittente[1],
        ),
        (
            "istitutoRicevente/identificativoUnivocoRicevente/codiceIdentificativoUnivoco",
            &t.ricevente[1],
        ),
    ] {
        if let Some(v) = v {
            dev.testo(campo, 35, v);
        }
    }
    if let Some(v) = &t.mittente[0]
        && !matches!(v.as_str(), "G" | "A" | "B")
    {
        dev.nota(
            "istitutoMittente/identificativoUnivocoMittente/tipoIdentificativoUnivoco",
            "non tra G, A e B",
            v,
        );
    }
    if let Some(v) = &t.ricevente[0]
        && v != "G"
    {
        dev.nota(
            "istitutoRicevente/identificativoUnivocoRicevente/tipoIdentificativoUnivoco",
            "non G",
            v,
        );
    }
    if let Some(v) = &t.totale {
        dev.importo("importoTotalePagamenti", v);
    }
}
