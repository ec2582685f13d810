//! XML plumbing shared by the SOAP layer and the pagoPA documents: a strict writer, the
//! guard every input passes before it is parsed (size, DOCTYPE, nesting depth, base64 size),
//! the resolver of the entities XML allows without a DTD, and the documents' namespace.
//! Pure: no I/O, and no dependency on `model` or `soap` (both build on it).

use base64::Engine;
use quick_xml::events::Event;

/// The pagoPA documents' namespace (RPT, RT, FlussoRiversamento); the SOAP layer re-exports
/// it as `soap::NS_PAY_I`.
pub const NS_PAY_I: &str = "http://www.digitpa.gov.it/schemas/2011/Pagamenti/";

/// Bounds for untrusted input.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_bytes: usize,
    pub max_depth: usize,
}

impl Limits {
    /// SOAP requests and responses carrying at most an RPT/RT cart.
    pub const MESSAGE: Limits = Limits {
        max_bytes: 4 * 1024 * 1024,
        max_depth: 32,
    };
    /// Reporting flows: 100,000 payments are about 50 MB.
    pub const FLOW: Limits = Limits {
        max_bytes: 256 * 1024 * 1024,
        max_depth: 16,
    };
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum XmlError {
    #[error("documento oltre il limite di {0} byte")]
    TooLarge(usize),
    #[error("DTD/DOCTYPE non ammessa")]
    Dtd,
    #[error("annidamento oltre {0} livelli")]
    TooDeep(usize),
    #[error("XML non ben formato (riga {line}, byte {pos}): {msg}")]
    Malformed { pos: u64, line: u64, msg: String },
    #[error("{0}")]
    Invalid(String),
}

/// Rejects what must never reach a parser: oversize input, any DTD (so no entity expansion
/// or external entity can happen), nesting beyond the limit, non-UTF-8 or malformed XML.
pub fn guard(xml: &[u8], limits: Limits) -> Result<&str, XmlError> {
    guard_inner(xml, limits).map_err(|e| with_line(xml, e))
}

/// Fills in the line of a malformed-input error from its byte position in `xml`.
pub fn with_line(xml: &[u8], e: XmlError) -> XmlError {
    match e {
        XmlError::Malformed { pos, msg, .. } => {
            let upto = (pos as usize).min(xml.len());
            let line = 1 + xml[..upto].iter().filter(|&&b| b == b'\n').count() as u64;
            XmlError::Malformed { pos, line, msg }
        }
        other => other,
    }
}

/// The byte-level half of [`guard`]: size, UTF-8 and C0 controls. A reader that makes its
/// own single pass (the SOAP envelope reader) calls this and applies the event-level rules
/// (DTD, depth, entities, one root) itself.
pub fn precheck(xml: &[u8], limits: Limits) -> Result<&str, XmlError> {
    if xml.len() > limits.max_bytes {
        return Err(XmlError::TooLarge(limits.max_bytes));
    }
    let text =
        std::str::from_utf8(xml).map_err(|e| malformed(e.valid_up_to() as u64, "non UTF-8"))?;
    // XML 1.0 forbids C0 controls other than tab, LF and CR; the parser does not check.
    if let Some(pos) = xml
        .iter()
        .position(|&b| b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r'))
    {
        return Err(malformed(pos as u64, "carattere di controllo non ammesso"));
    }
    Ok(text)
}

/// A malformed-input error whose line is filled in by [`guard`] or the caller.
pub fn malformed(pos: u64, msg: impl Into<String>) -> XmlError {
    XmlError::Malformed {
        pos,
        line: 0,
        msg: msg.into(),
    }
}

fn guard_inner(xml: &[u8], limits: Limits) -> Result<&str, XmlError> {
    let text = precheck(xml, limits)?;
    let mut r = quick_xml::Reader::from_str(text);
    r.config_mut().check_end_names = true;
    let mut depth = 0usize;
    let mut roots = 0usize;
    loop {
        let ev = r
            .read_event()
            .map_err(|e| malformed(r.error_position(), e.to_string()))?;
        match ev {
            Event::DocType(_) => return Err(XmlError::Dtd),
            Event::Start(_) => {
                if depth == 0 {
                    roots += 1;
                }
                depth += 1;
                if depth > limits.max_depth {
                    return Err(XmlError::TooDeep(limits.max_depth));
                }
            }
            Event::Empty(_) if depth == 0 => roots += 1,
            Event::End(_) => depth -= 1,
            Event::GeneralRef(g)
                // Only the five predefined entities and character references exist without a DTD.
                if resolve_ref(&g).is_none() => {
                    return Err(malformed(
                        r.buffer_position(),
                        format!("entità sconosciuta '&{};'", &*g),
                    ));
                }
            Event::Eof => break,
            _ => {}
        }
    }
    if depth != 0 || roots != 1 {
        return Err(malformed(
            r.buffer_position(),
            "documento incompleto o con più radici",
        ));
    }
    Ok(text)
}

/// Decodes base64 after checking that the decoded size cannot exceed `max_decoded`; XML
/// line breaks and spaces inside the text are tolerated.
pub fn decode_base64(text: &str, max_decoded: usize) -> Result<Vec<u8>, XmlError> {
    let significant = text.bytes().filter(|b| !b.is_ascii_whitespace()).count();
    if significant / 4 * 3 > max_decoded + 3 {
        return Err(XmlError::TooLarge(max_decoded));
    }
    let compact: Vec<u8> = text.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    base64::engine::general_purpose::STANDARD
        .decode(&compact)
        .map_err(|e| XmlError::Invalid(format!("base64 non valido: {e}")))
}

pub fn encode_base64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// A strict, minimal XML writer: elements in the order written, text escaped, characters
/// that XML 1.0 forbids dropped.
#[derive(Debug, Default)]
pub struct Writer {
    buf: String,
}

/// XML 1.0 `Char`: what a document may contain, literally or as a character reference.
pub fn is_xml_char(c: char) -> bool {
    matches!(c, '\u{9}' | '\u{A}' | '\u{D}' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..='\u{10FFFF}')
}

/// The five predefined entities and character references to characters XML allows;
/// anything else would need a DTD, which is never processed.
pub fn resolve_ref(r: &quick_xml::events::BytesRef<'_>) -> Option<char> {
    if r.is_char_ref() {
        return r
            .resolve_char_ref()
            .ok()
            .flatten()
            .filter(|&c| is_xml_char(c));
    }
    resolve_ref_name(r)
}

/// A reference by what stands between `&` and `;`: a predefined entity, or a character
/// reference (`#65`, `#x41`) to a character XML allows.
pub fn resolve_ref_name(name: &str) -> Option<char> {
    let codice = match name.strip_prefix('#') {
        Some(n) => match n.strip_prefix('x') {
            Some(h) if !h.is_empty() && h.bytes().all(|b| b.is_ascii_hexdigit()) => {
                u32::from_str_radix(h, 16).ok()
            }
            None if !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) => n.parse().ok(),
            _ => None,
        },
        None => {
            return match name {
                "amp" => Some('&'),
                "lt" => Some('<'),
                "gt" => Some('>'),
                "quot" => Some('"'),
                "apos" => Some('\''),
                _ => None,
            };
        }
    };
    codice.and_then(char::from_u32).filter(|&c| is_xml_char(c))
}

pub fn escape_into(buf: &mut String, text: &str, attr: bool) {
    for c in text.chars() {
        match c {
            '&' => buf.push_str("&amp;"),
            '<' => buf.push_str("&lt;"),
            '>' => buf.push_str("&gt;"),
            '"' if attr => buf.push_str("&quot;"),
            // A raw CR would be normalized away by the reader: keep it as a reference.
            '\r' => buf.push_str("&#13;"),
            c if is_xml_char(c) => buf.push(c),
            _ => {}
        }
    }
}

impl Writer {
    pub fn new() -> Self {
        Writer {
            buf: String::with_capacity(2048),
        }
    }

    pub fn with_declaration() -> Self {
        let mut w = Self::new();
        w.buf.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>");
        w
    }

    pub fn open(&mut self, name: &str) -> &mut Self {
        self.open_with(name, &[])
    }

    pub fn open_with(&mut self, name: &str, attrs: &[(&str, &str)]) -> &mut Self {
        self.buf.push('<');
        self.buf.push_str(name);
        for (k, v) in attrs {
            self.buf.push(' ');
            self.buf.push_str(k);
            self.buf.push_str("=\"");
            escape_into(&mut self.buf, v, true);
            self.buf.push('"');
        }
        self.buf.push('>');
        self
    }

    pub fn close(&mut self, name: &str) -> &mut Self {
        self.buf.push_str("</");
        self.buf.push_str(name);
        self.buf.push('>');
        self
    }

    pub fn leaf(&mut self, name: &str, text: &str) -> &mut Self {
        self.open(name);
        escape_into(&mut self.buf, text, false);
        self.close(name)
    }

    pub fn leaf_opt(&mut self, name: &str, text: Option<&str>) -> &mut Self {
        if let Some(t) = text {
            self.leaf(name, t);
        }
        self
    }

    /// Inserts already well-formed XML produced by another writer.
    pub fn raw(&mut self, xml: &str) -> &mut Self {
        self.buf.push_str(xml);
        self
    }

    pub fn finish(self) -> String {
        self.buf
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guard_refuses_dtd_entities_depth_size_and_garbage() {
        let billion = r#"<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;">]><a>&lol2;</a>"#;
        assert_eq!(
            guard(billion.as_bytes(), Limits::MESSAGE),
            Err(XmlError::Dtd)
        );
        let xxe = r#"<!DOCTYPE a [<!ENTITY x SYSTEM "file:///etc/passwd">]><a>&x;</a>"#;
        assert_eq!(guard(xxe.as_bytes(), Limits::MESSAGE), Err(XmlError::Dtd));
        assert!(matches!(
            guard(b"<a>&x;</a>", Limits::MESSAGE),
            Err(XmlError::Malformed { .. })
        ));
        let deep = "<a>".repeat(10_000) + &"</a>".repeat(10_000);
        assert_eq!(
            guard(deep.as_bytes(), Limits::MESSAGE),
            Err(XmlError::TooDeep(32))
        );
        assert_eq!(
            guard(&vec![b' '; Limits::MESSAGE.max_bytes + 1], Limits::MESSAGE),
            Err(XmlError::TooLarge(Limits::MESSAGE.max_bytes))
        );
        for bad in ["<a>", "<a></b>", "", "<a/><b/>", "text", "<a>\u{0}</a>"] {
            assert!(
                guard(bad.as_bytes(), Limits::MESSAGE).is_err(),
                "{bad:?} accepted"
            );
        }
        assert!(guard(b"\xff<a/>", Limits::MESSAGE).is_err());
        match guard(b"<a>\n<b>\n</a>", Limits::MESSAGE) {
            Err(XmlError::Malformed { line, .. }) => assert_eq!(line, 3),
            other => panic!("{other:?}"),
        }
        assert!(
            guard(
                b"<?xml version=\"1.0\"?><a x=\"&amp;\">&lt;&#233;</a>",
                Limits::MESSAGE
            )
            .is_ok()
        );
    }

    #[test]
    fn base64_is_size_checked_before_decoding() {
        assert_eq!(decode_base64("aGVs\nbG8=", 10).unwrap(), b"hello");
        assert_eq!(
            decode_base64(&"A".repeat(4000), 100),
            Err(XmlError::TooLarge(100))
        );
        assert!(decode_base64("!!!!", 10).is_err());
    }

    #[test]
    fn writer_escapes_and_drops_forbidden_characters() {
        let mut w = Writer::new();
        w.open_with("a", &[("k", "\"<&")])
            .leaf("b", "x < y & z\u{1}\r")
            .close("a");
        assert_eq!(
            w.finish(),
            "<a k=\"&quot;&lt;&amp;\"><b>x &lt; y &amp; z&#13;</b></a>"
        );
    }
}
