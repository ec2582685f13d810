//! The flow reader's tokenizer: one XML construct at a time, read in place from a slice of
//! the input that may end anywhere.
//!
//! It is the part of XML a FlussoRiversamento uses and what hostile input needs refused:
//! elements, text, CDATA, comments and processing instructions are read; a DTD is reported
//! (the reader refuses it); any other markup is a syntax error where it starts. A construct
//! that runs past the slice is [`Arresto::Incompleto`] unless the slice is the input's end,
//! so the caller can read it again with more input: no cut of the input changes what is read.
//! Text stays raw here (references and line ends are the reader's, for the leaves it keeps).

use memchr::{memchr, memchr2, memmem};

#[derive(Debug, PartialEq, Eq)]
pub(super) enum Evento<'a> {
    /// `<nome attributi>` or, when `vuoto`, `<nome attributi/>`.
    Apertura {
        nome: &'a [u8],
        attributi: &'a [u8],
        vuoto: bool,
    },
    Chiusura {
        nome: &'a [u8],
    },
    /// Raw character data up to the next `<` (references not resolved).
    Testo(&'a [u8]),
    /// The content of a CDATA section.
    CData(&'a [u8]),
    /// A comment or a processing instruction (the XML declaration too): nothing to read.
    Altro,
    /// A document type declaration: never processed.
    Dtd,
}

#[derive(Debug, PartialEq, Eq)]
pub(super) enum Arresto {
    /// The construct runs past the slice, which is not the input's end.
    Incompleto,
    /// Not XML: the position in the slice and what is wrong.
    Errore(usize, &'static str),
}

/// XML's whitespace (not `trim_ascii`'s, which also takes a form feed).
pub(super) fn spazio(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r')
}

/// The bytes a name may hold: not whitespace, a control character, nor markup run together
/// (`<a<b>`, `<a"b>`, `<a/b>`).
static NEL_NOME: [bool; 256] = {
    let mut t = [true; 256];
    let mut b = 0;
    while b <= 0x20 {
        t[b] = false;
        b += 1;
    }
    let vietati = b"<>\"'=/&";
    let mut i = 0;
    while i < vietati.len() {
        t[vietati[i] as usize] = false;
        i += 1;
    }
    t
};

/// Where the name at `i` ends: at the first byte a name cannot hold, or at the slice's end.
#[inline]
fn fine_nome(buf: &[u8], i: usize) -> usize {
    buf[i..]
        .iter()
        .position(|&b| !NEL_NOME[usize::from(b)])
        .map_or(buf.len(), |n| i + n)
}

/// A construct at `pos` that runs past the slice: a fault if the input ends there (`fine`),
/// else more input is wanted.
fn corto(pos: usize, fine: bool, msg: &'static str) -> Arresto {
    if fine {
        Arresto::Errore(pos, msg)
    } else {
        Arresto::Incompleto
    }
}

/// Reads the construct at `pos` (`pos < buf.len()`); `fine` says that `buf` ends where the
/// input does. Returns the event and the position after it.
#[inline]
pub(super) fn evento(buf: &[u8], pos: usize, fine: bool) -> Result<(Evento<'_>, usize), Arresto> {
    // Past the slice: more input, or a fault at the input's end.
    let corto = |msg| corto(pos, fine, msg);
    if buf[pos] != b'<' {
        return match memchr(b'<', &buf[pos..]) {
            Some(i) => Ok((Evento::Testo(&buf[pos..pos + i]), pos + i)),
            None if fine => Ok((Evento::Testo(&buf[pos..]), buf.len())),
            None => Err(Arresto::Incompleto),
        };
    }
    let Some(&dopo) = buf.get(pos + 1) else {
        return Err(corto("errore di sintassi: '<' alla fine del documento"));
    };
    match dopo {
        b'/' => {
            // `</name S?>`, refused at the first byte that cannot be there.
            let malformato = Arresto::Errore(pos, "errore di sintassi: tag di chiusura malformato");
            let inizio = pos + 2;
            let mut i = fine_nome(buf, inizio);
            let nome = &buf[inizio..i];
            while i < buf.len() && spazio(buf[i]) {
                i += 1;
            }
            match buf.get(i) {
                None => Err(corto("errore di sintassi: tag di chiusura non chiuso")),
                Some(b'>') if !nome.is_empty() => Ok((Evento::Chiusura { nome }, i + 1)),
                Some(_) => Err(malformato),
            }
        }
        b'!' => markup(buf, pos, fine),
        b'?' => {
            match buf.get(pos + 2) {
                None => return Err(corto("errore di sintassi: istruzione non chiusa")),
                Some(&b) if b.is_ascii_alphabetic() || b == b'_' || b == b':' || b >= 0x80 => {}
                Some(_) => {
                    return Err(Arresto::Errore(
                        pos,
                        "errore di sintassi: istruzione senza destinatario",
                    ));
                }
            }
            match memmem::find(&buf[pos + 2..], b"?>") {
                Some(i) => Ok((Evento::Altro, pos + 2 + i + 2)),
                None => Err(corto("errore di sintassi: istruzione non chiusa")),
            }
        }
        _ => apertura(buf, pos, fine),
    }
}

/// `<!`: a comment, a CDATA section or a DTD; anything else is a syntax error.
fn markup(buf: &[u8], pos: usize, fine: bool) -> Result<(Evento<'_>, usize), Arresto> {
    let resto = &buf[pos..];
    // Whether `resto` starts with `p`: `None` while the slice is too short to tell.
    let inizia = |p: &[u8]| {
        let n = resto.len().min(p.len());
        if resto[..n] != p[..n] {
            Some(false)
        } else if n == p.len() {
            Some(true)
        } else {
            None
        }
    };
    let corto = |msg| corto(pos, fine, msg);
    let commento = inizia(b"<!--");
    let cdata = inizia(b"<![CDATA[");
    let dtd = inizia(b"<!DOCTYPE");
    if commento == Some(true) {
        return match memmem::find(&resto[4..], b"-->") {
            Some(i) => Ok((Evento::Altro, pos + 4 + i + 3)),
            None => Err(corto("errore di sintassi: commento non chiuso")),
        };
    }
    if cdata == Some(true) {
        return match memmem::find(&resto[9..], b"]]>") {
            Some(i) => Ok((Evento::CData(&resto[9..9 + i]), pos + 9 + i + 3)),
            None => Err(corto("errore di sintassi: CDATA non chiuso")),
        };
    }
    if dtd == Some(true) {
        return Ok((Evento::Dtd, pos + 9));
    }
    if [commento, cdata, dtd].contains(&None) {
        return Err(corto("errore di sintassi: markup non chiuso"));
    }
    Err(Arresto::Errore(
        pos,
        "errore di sintassi: markup sconosciuto dopo '<!'",
    ))
}

/// A start tag: its name, then `S name S? = S? "value"` pairs (a value may hold `>`, not
/// `<`), refused at the first byte that cannot be there.
fn apertura(buf: &[u8], pos: usize, fine: bool) -> Result<(Evento<'_>, usize), Arresto> {
    let corto = || corto(pos, fine, "errore di sintassi: tag di apertura non chiuso");
    let malformato = || Arresto::Errore(pos, "errore di sintassi: tag di apertura malformato");
    let salta_spazi = |mut i: usize| {
        while i < buf.len() && spazio(buf[i]) {
            i += 1;
        }
        i
    };
    let inizio = pos + 1;
    let mut i = fine_nome(buf, inizio);
    if buf
        .get(i)
        .is_some_and(|&b| !spazio(b) && b != b'/' && b != b'>')
    {
        return Err(malformato());
    }
    let nome = &buf[inizio..i];
    if i < buf.len() && nome.is_empty() {
        return Err(malformato());
    }
    let attr = i;
    loop {
        let dopo_valore = i;
        i = salta_spazi(i);
        let Some(&b) = buf.get(i) else {
            return Err(corto());
        };
        let vuoto = match b {
            b'>' => false,
            b'/' => match buf.get(i + 1) {
                None => return Err(corto()),
                Some(b'>') => true,
                Some(_) => return Err(malformato()),
            },
            // An attribute, after whitespace.
            _ if i == dopo_valore => return Err(malformato()),
            _ => {
                let inizio_nome = i;
                i = fine_nome(buf, i);
                if i == inizio_nome {
                    return Err(malformato());
                }
                i = salta_spazi(i);
                match buf.get(i) {
                    None => return Err(corto()),
                    Some(b'=') => i = salta_spazi(i + 1),
                    Some(_) => return Err(malformato()),
                }
                let q = match buf.get(i) {
                    None => return Err(corto()),
                    Some(&q @ (b'"' | b'\'')) => q,
                    Some(_) => return Err(malformato()),
                };
                match memchr2(q, b'<', &buf[i + 1..]) {
                    None => return Err(corto()),
                    Some(j) if buf[i + 1 + j] == b'<' => return Err(malformato()),
                    Some(j) => i += 1 + j + 1,
                }
                continue;
            }
        };
        let attributi = &buf[attr..i];
        return Ok((
            Evento::Apertura {
                nome,
                attributi,
                vuoto,
            },
            i + if vuoto { 2 } else { 1 },
        ));
    }
}

/// The raw value of attribute `nome` in a start tag's attributes, if well formed there.
pub(super) fn attributo<'a>(attributi: &'a [u8], nome: &[u8]) -> Option<&'a [u8]> {
    let mut resto = attributi;
    loop {
        resto = resto.trim_ascii_start();
        if resto.is_empty() {
            return None;
        }
        let uguale = memchr(b'=', resto)?;
        let chiave = resto[..uguale].trim_ascii_end();
        let valore = resto[uguale + 1..].trim_ascii_start();
        let (&q, valore) = valore.split_first()?;
        if q != b'"' && q != b'\'' {
            return None;
        }
        let fine = memchr(q, valore)?;
        if chiave == nome {
            return Some(&valore[..fine]);
        }
        resto = &valore[fine + 1..];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tutti(xml: &[u8]) -> Result<Vec<Evento<'_>>, Arresto> {
        let mut pos = 0;
        let mut out = Vec::new();
        while pos < xml.len() {
            let (e, dopo) = evento(xml, pos, true)?;
            out.push(e);
            pos = dopo;
        }
        Ok(out)
    }

    #[test]
    fn reads_each_construct_a_flow_may_hold() {
        let xml = br#"<?xml version="1.0"?><a:r xmlns:a="u>v"><!-- <x> --><b/> t&amp;<![CDATA[<c>]]></a:r >"#;
        assert_eq!(
            tutti(xml).unwrap(),
            [
                Evento::Altro,
                Evento::Apertura {
                    nome: b"a:r",
                    attributi: br#" xmlns:a="u>v""#,
                    vuoto: false
                },
                Evento::Altro,
                Evento::Apertura {
                    nome: b"b",
                    attributi: b"",
                    vuoto: true
                },
                Evento::Testo(b" t&amp;"),
                Evento::CData(b"<c>"),
                Evento::Chiusura { nome: b"a:r" },
            ]
        );
        assert_eq!(
            attributo(br#" xmlns:a="u>v" b = 'c'"#, b"b"),
            Some(&b"c"[..])
        );
        assert_eq!(attributo(br#" xmlns:a=u"#, b"xmlns:a"), None);
    }

    #[test]
    fn a_construct_cut_by_the_slice_is_incomplete_unless_the_input_ends_there() {
        let xml = br#"<a x="1>2">t<!-- c --><![CDATA[d]]><?p q?><!DOCTYPE a></a>"#;
        let intero = tutti(xml).unwrap();
        for taglio in 1..xml.len() {
            // Read up to the cut, then again from the construct the cut stopped.
            let mut pos = 0;
            let mut letti = Vec::new();
            loop {
                match evento(&xml[..taglio], pos, false) {
                    Ok((e, dopo)) => {
                        letti.push(e);
                        pos = dopo;
                        if pos == taglio {
                            break;
                        }
                    }
                    Err(Arresto::Incompleto) => break,
                    Err(e) => panic!("cut at {taglio}: {e:?}"),
                }
            }
            letti.extend(tutti(&xml[pos..]).unwrap());
            assert_eq!(letti, intero, "cut at {taglio}");
        }
    }

    #[test]
    fn faulty_markup_is_refused_where_it_starts() {
        for (xml, pos) in [
            (&b"<!x>"[..], 0),
            (b"<!-x-->", 0),
            (b"<!<", 0),
            (b"a<?>", 1),
            (b"<a<b>", 0),
            (b"<>", 0),
            (b"</>", 0),
            (b"</a b>", 0),
            (b"<a x='1' <b>", 0),
            (b"<x '><y>'/>", 0),
            (b"<a x='<'>", 0),
            (b"<a/x>", 0),
            (b"<a x=/>", 0),
            (b"<a x='1'y='2'>", 0),
            (b"<a =''>", 0),
            (b"</a b", 0),
            (b"<a x <", 0),
            (b"</a\x0C>", 0),
            (b"<a\x01>", 0),
        ] {
            let at = xml.iter().position(|&b| b == b'<').unwrap();
            match evento(xml, at, false) {
                Err(Arresto::Errore(p, msg)) => {
                    assert_eq!(p, pos, "{}", String::from_utf8_lossy(xml));
                    assert!(msg.contains("sintassi"), "{msg}");
                }
                other => panic!("{}: {other:?}", String::from_utf8_lossy(xml)),
            }
        }
        // Unclosed at the input's end: a fault there; before it, more input is wanted.
        for xml in [
            &b"<!-- a"[..],
            b"<a",
            b"</a",
            b"<?p",
            b"<![CDATA[x",
            b"<a x='",
            b"</a ",
            b"<a x",
            b"<a x =",
            b"<a/",
            b"<",
        ] {
            assert!(matches!(evento(xml, 0, true), Err(Arresto::Errore(0, _))));
            assert_eq!(evento(xml, 0, false), Err(Arresto::Incompleto));
        }
    }
}
