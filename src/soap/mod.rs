//! SOAP 1.1 for pagoPA, pure (no I/O): the envelope reader (namespace-aware by URI, so any
//! prefixes are accepted), the envelope writer (fixed prefixes), faults, and the typed
//! messages of SANP 2 and of the new model.
//!
//! Reading is two-step: [`read_envelope`] checks the envelope by namespace URI and cuts out
//! the header and body elements; each message type then deserializes its element by local
//! names (quick-xml serde), which tolerates senders' prefix choices.

pub mod fault;
pub mod new_model;
pub mod sanp2;

/// Defined beside the documents that use it; kept here so `soap::NS_PAY_I` paths still work.
pub use crate::xml::NS_PAY_I;
pub use fault::{FaultBean, FaultCode};

use crate::xml::{Limits, XmlError};
use quick_xml::events::Event;
use quick_xml::name::ResolveResult;

pub const NS_SOAP_ENV: &str = "http://schemas.xmlsoap.org/soap/envelope/";
pub const NS_PPT: &str = "http://ws.pagamenti.telematici.gov/";
pub const NS_PPTHEAD: &str = "http://ws.pagamenti.telematici.gov/ppthead";
pub const NS_PAFN: &str = "http://pagopa-api.pagopa.gov.it/pa/paForNode.xsd";

/// One element cut out of the envelope: its namespace, local name and exact text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part<'a> {
    pub ns: String,
    pub name: String,
    pub xml: &'a str,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope<'a> {
    pub headers: Vec<Part<'a>>,
    pub body: Part<'a>,
}

impl Envelope<'_> {
    pub fn header(&self, ns: &str, name: &str) -> Option<&Part<'_>> {
        self.headers.iter().find(|h| h.ns == ns && h.name == name)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SoapError {
    #[error(transparent)]
    Xml(#[from] XmlError),
    #[error("non è una SOAP 1.1 Envelope: {0}")]
    NotSoap(String),
    /// The payload element does not match its message type (missing or malformed field).
    #[error("{element}: {reason}")]
    Payload { element: String, reason: String },
}

/// Validates and splits a SOAP 1.1 envelope. Refuses SOAP 1.2, a wrong namespace on
/// `Envelope`/`Body`, an empty body and anything the hostile-input guard refuses.
pub fn read_envelope(bytes: &[u8], limits: Limits) -> Result<Envelope<'_>, SoapError> {
    // One pass: the byte-level guard, then the event-level guard rules (DTD, depth,
    // entities, one root) applied while cutting the envelope, not in a parse of their own.
    let text = crate::xml::precheck(bytes, limits)?;
    let bad = |pos: u64, msg: String| {
        SoapError::Xml(crate::xml::with_line(
            bytes,
            crate::xml::malformed(pos, msg),
        ))
    };
    let mut r = quick_xml::NsReader::from_str(text);
    r.config_mut().check_end_names = true;
    let mut depth = 0usize;
    let mut roots = 0usize;
    let mut section: Option<&'static str> = None; // "Header" or "Body" while inside one
    let mut open: Option<(String, String, usize)> = None; // element being cut: ns, name, start
    let mut headers = Vec::new();
    let mut body: Option<Part<'_>> = None;
    loop {
        let start = r.buffer_position() as usize;
        let (res, ev) = match r.read_resolved_event() {
            Ok(x) => x,
            Err(e) => {
                let msg = e.to_string();
                return Err(bad(r.error_position(), msg));
            }
        };
        match ev {
            Event::Start(ref e) | Event::Empty(ref e) => {
                let empty = matches!(ev, Event::Empty(_));
                if depth == 0 {
                    roots += 1;
                    if roots > 1 {
                        return Err(bad(start as u64, "più di un elemento radice".into()));
                    }
                }
                if !empty && depth + 1 > limits.max_depth {
                    return Err(SoapError::Xml(XmlError::TooDeep(limits.max_depth)));
                }
                // Names matter only for the envelope, its sections and their children.
                if depth <= 2 {
                    let ns = match &res {
                        ResolveResult::Bound(ns) => ns.as_ref().to_owned(),
                        _ => String::new(),
                    };
                    let name = e.local_name().as_ref().to_owned();
                    match depth {
                        0 if ns == NS_SOAP_ENV && name == "Envelope" => {}
                        0 => return Err(SoapError::NotSoap(format!("radice {{{ns}}}{name}"))),
                        1 if ns == NS_SOAP_ENV && (name == "Header" || name == "Body") => {
                            if name == "Body" && body.is_some() {
                                return Err(SoapError::NotSoap("più di un Body".into()));
                            }
                            section = Some(if name == "Header" { "Header" } else { "Body" });
                        }
                        1 => {
                            return Err(SoapError::NotSoap(format!(
                                "elemento inatteso {{{ns}}}{name} nell'Envelope"
                            )));
                        }
                        _ => {
                            if section == Some("Body") && body.is_some() {
                                return Err(SoapError::NotSoap(
                                    "il Body contiene più di un elemento".into(),
                                ));
                            }
                            if empty {
                                let part = Part {
                                    ns,
                                    name,
                                    xml: &text[start..r.buffer_position() as usize],
                                };
                                if section == Some("Body") {
                                    body = Some(part)
                                } else {
                                    headers.push(part)
                                }
                            } else {
                                open = Some((ns, name, start));
                            }
                        }
                    }
                }
                if !empty {
                    depth += 1;
                } else if depth == 1 {
                    section = None;
                }
            }
            Event::End(_) => {
                depth -= 1;
                if depth == 2 {
                    if let Some((ns, name, s)) = open.take() {
                        let part = Part {
                            ns,
                            name,
                            xml: &text[s..r.buffer_position() as usize],
                        };
                        if section == Some("Body") {
                            body = Some(part)
                        } else {
                            headers.push(part)
                        }
                    }
                } else if depth == 1 {
                    section = None;
                }
            }
            Event::Text(t) if depth <= 2 && !t.xml10_content().trim().is_empty() => {
                return Err(SoapError::NotSoap(
                    "testo fuori dagli elementi del messaggio".into(),
                ));
            }
            Event::DocType(_) => return Err(SoapError::Xml(XmlError::Dtd)),
            Event::GeneralRef(g) if crate::xml::resolve_ref(&g).is_none() => {
                return Err(bad(
                    r.buffer_position(),
                    format!("entità sconosciuta '&{};'", &*g),
                ));
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if depth != 0 || roots != 1 {
        return Err(bad(r.buffer_position(), "documento incompleto".into()));
    }
    let body = body.ok_or_else(|| SoapError::NotSoap("Body assente o vuoto".into()))?;
    Ok(Envelope { headers, body })
}

/// The operation named by a SOAPAction header: quoted or bare, with or without a namespace
/// or path before the name (`"paaInviaRT"`, `paaInviaRT`, `"urn:x/paaInviaRT"`).
pub fn soap_action(header: &str) -> Option<&str> {
    let v = header.trim().trim_matches('"').trim();
    let name = v.rsplit(['/', '#', ':']).next().unwrap_or(v);
    (!name.is_empty()).then_some(name)
}

/// The operation of a request: the body element's local name, which must agree with the
/// SOAPAction when the sender gives one (a mismatch is a malformed request).
pub fn operation<'a>(
    env: &'a Envelope<'_>,
    soap_action_header: Option<&str>,
) -> Result<&'a str, SoapError> {
    let body = env.body.name.as_str();
    match soap_action_header.and_then(soap_action) {
        Some(a) if a != body && !body.starts_with(a) => Err(SoapError::NotSoap(format!(
            "SOAPAction '{a}' diverso dall'operazione nel Body '{body}'"
        ))),
        _ => Ok(body),
    }
}

/// Wraps header and body payloads (each declaring its own namespaces) in an envelope.
pub fn write_envelope(header: Option<&str>, body: &str) -> String {
    let mut s = String::with_capacity(body.len() + header.map_or(0, str::len) + 200);
    s.push_str(r#"<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/">"#);
    if let Some(h) = header {
        s.push_str("<soapenv:Header>");
        s.push_str(h);
        s.push_str("</soapenv:Header>");
    }
    s.push_str("<soapenv:Body>");
    s.push_str(body);
    s.push_str("</soapenv:Body></soapenv:Envelope>");
    s
}

/// A SOAP 1.1 Fault (`soapenv:Client` or `soapenv:Server`), for requests so broken that
/// no operation can be told; `detail` may carry a faultBean.
pub fn write_soap_fault(faultcode: &str, faultstring: &str, detail: Option<&FaultBean>) -> String {
    let mut w = crate::xml::Writer::new();
    w.open("soapenv:Fault")
        .leaf("faultcode", faultcode)
        .leaf("faultstring", faultstring);
    if let Some(f) = detail {
        w.open("detail");
        f.write(&mut w, "ppt:faultBean", &[("xmlns:ppt", NS_PPT)]);
        w.close("detail");
    }
    w.close("soapenv:Fault");
    write_envelope(None, &w.finish())
}

impl SoapError {
    /// The fault for a request that cannot be read: `<erogatore>_SINTASSI_EXTRAXSD` with the
    /// reason (element, line) in `description`. `pa` chooses PAA_ (we answer the Nodo) or
    /// PPT_ (the simulator answers us).
    pub fn fault(&self, pa: bool, id: &str) -> FaultBean {
        let code = if pa {
            FaultCode::PaaSintassiExtraxsd
        } else {
            FaultCode::PptSintassiExtraxsd
        };
        FaultBean::new(code, id, Some(self.to_string()))
    }
}

impl crate::model::rpt::DocError {
    /// The fault for an invalid embedded RPT/RT/flow: `<erogatore>_SINTASSI_XSD`.
    pub fn fault(&self, pa: bool, id: &str) -> FaultBean {
        let code = if pa {
            FaultCode::PaaSintassiXsd
        } else {
            FaultCode::PptSintassiXsd
        };
        FaultBean::new(code, id, Some(self.to_string()))
    }
}

/// The values of an element made of exactly the leaves `names`, in that order, each
/// unprefixed, without attributes and holding plain text: the shape every Nodo sends for
/// intestazionePPT, paaVerificaRPT and paVerifyPaymentNotice. A leaf inside a child
/// element is named by its path, one level deep (`qrCode/fiscalCode`), and a child's
/// leaves are named one after the other. `None` for anything else
/// (entities, CDATA, comments, whitespace around a value, an extra or missing leaf), which
/// the caller then reads with [`de`]: for the shapes it accepts this gives what `de`
/// gives, at a fraction of serde's cost on the hottest path (the profile put `de` at 6 %
/// of a verification).
pub(crate) fn foglie<'a, const N: usize>(xml: &'a str, names: [&str; N]) -> Option<[&'a str; N]> {
    use quick_xml::events::Event;
    let mut r = quick_xml::Reader::from_str(xml);
    let mut pos = 0usize;
    // The next event that is not whitespace between elements, with the text it spans.
    let mut next = |r: &mut quick_xml::Reader<&'a [u8]>| loop {
        let ev = r.read_event().ok()?;
        let end = r.buffer_position() as usize;
        let span = xml.get(pos..end)?;
        pos = end;
        match ev {
            Event::Text(_) if span.bytes().all(|b| b.is_ascii_whitespace()) => {}
            ev => return Some((ev, span)),
        }
    };
    let plain_start = |ev: &Event<'_>, name: &str| matches!(ev, Event::Start(e) if e.name().as_ref() == name && e.attributes_raw().trim().is_empty());
    let end_of =
        |ev: &Event<'_>, name: &str| matches!(ev, Event::End(e) if e.name().as_ref() == name);
    let Event::Start(root) = next(&mut r)?.0 else {
        return None;
    };
    // The child element open around the current leaf, if any.
    let mut open: Option<&str> = None;
    let mut values = [""; N];
    for (path, value) in names.iter().zip(values.iter_mut()) {
        let (parent, leaf) = match path.split_once('/') {
            Some((parent, leaf)) => (Some(parent), leaf),
            None => (None, *path),
        };
        if open != parent {
            if let Some(closing) = open.take() {
                end_of(&next(&mut r)?.0, closing).then_some(())?;
            }
            if let Some(opening) = parent {
                plain_start(&next(&mut r)?.0, opening).then_some(())?;
                open = Some(opening);
            }
        }
        plain_start(&next(&mut r)?.0, leaf).then_some(())?;
        let (Event::Text(_), text) = next(&mut r)? else {
            return None;
        };
        // Only what serde would hand over as it is: no trimming, no line-end or
        // control-character rules to reproduce.
        if text.bytes().any(|b| b < 0x20) || text.trim() != text {
            return None;
        }
        end_of(&next(&mut r)?.0, leaf).then_some(())?;
        *value = text;
    }
    if let Some(closing) = open {
        end_of(&next(&mut r)?.0, closing).then_some(())?;
    }
    match (next(&mut r)?.0, next(&mut r)?.0) {
        (Event::End(e), Event::Eof) if e.name() == root.name() => Some(values),
        _ => None,
    }
}

/// Deserializes a payload element by local names; errors name the element.
pub(crate) fn de<T: serde::de::DeserializeOwned>(element: &str, xml: &str) -> Result<T, SoapError> {
    quick_xml::de::from_str(xml).map_err(|e| SoapError::Payload {
        element: element.to_owned(),
        reason: e.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const BODY: &str = "<ppt:paaVerificaRPT xmlns:ppt=\"http://ws.pagamenti.telematici.gov/\"><identificativoPSP>PSP</identificativoPSP></ppt:paaVerificaRPT>";

    #[test]
    fn reads_any_prefix_and_cuts_parts() {
        let jaxws = r#"<S:Envelope xmlns:S="http://schemas.xmlsoap.org/soap/envelope/"><S:Header><h:intestazionePPT xmlns:h="http://ws.pagamenti.telematici.gov/ppthead"><x>1</x></h:intestazionePPT></S:Header><S:Body><ns2:paaVerificaRPT xmlns:ns2="http://ws.pagamenti.telematici.gov/"><identificativoPSP>P</identificativoPSP></ns2:paaVerificaRPT></S:Body></S:Envelope>"#;
        let e = read_envelope(jaxws.as_bytes(), Limits::MESSAGE).unwrap();
        assert_eq!(
            (e.body.ns.as_str(), e.body.name.as_str()),
            (NS_PPT, "paaVerificaRPT")
        );
        assert!(
            e.body.xml.starts_with("<ns2:paaVerificaRPT")
                && e.body.xml.ends_with("</ns2:paaVerificaRPT>")
        );
        assert!(
            e.header(NS_PPTHEAD, "intestazionePPT")
                .unwrap()
                .xml
                .contains("<x>1</x>")
        );
        let ours = write_envelope(None, BODY);
        assert_eq!(
            read_envelope(ours.as_bytes(), Limits::MESSAGE)
                .unwrap()
                .body
                .xml,
            BODY
        );
    }

    #[test]
    fn refuses_soap12_wrong_namespaces_and_empty_bodies() {
        let w = format!(
            r#"<soapenv:Envelope xmlns:soapenv="http://www.w3.org/2003/05/soap-envelope"><soapenv:Body>{BODY}</soapenv:Body></soapenv:Envelope>"#
        );
        assert!(matches!(
            read_envelope(w.as_bytes(), Limits::MESSAGE),
            Err(SoapError::NotSoap(_))
        ));
        let empty = r#"<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body/></soapenv:Envelope>"#;
        assert!(matches!(
            read_envelope(empty.as_bytes(), Limits::MESSAGE),
            Err(SoapError::NotSoap(_))
        ));
        // The guard's rules hold in the single pass: one root, bounded depth, no DTD.
        let second_root = format!("{}<x/>", write_envelope(None, BODY));
        assert!(matches!(
            read_envelope(second_root.as_bytes(), Limits::MESSAGE),
            Err(SoapError::Xml(XmlError::Malformed { .. }))
        ));
        let deep = write_envelope(
            None,
            &format!("<a>{}</a>", "<b>".repeat(40) + &"</b>".repeat(40)),
        );
        assert!(matches!(
            read_envelope(deep.as_bytes(), Limits::MESSAGE),
            Err(SoapError::Xml(XmlError::TooDeep(_)))
        ));
        let dtd = format!(
            "<!DOCTYPE x []>{}",
            write_envelope(None, BODY)
                .trim_start_matches(r#"<?xml version="1.0" encoding="UTF-8"?>"#)
        );
        assert!(matches!(
            read_envelope(dtd.as_bytes(), Limits::MESSAGE),
            Err(SoapError::Xml(XmlError::Dtd))
        ));
        let two = write_envelope(None, &format!("{BODY}{BODY}"));
        assert!(matches!(
            read_envelope(two.as_bytes(), Limits::MESSAGE),
            Err(SoapError::NotSoap(_))
        ));
        assert!(matches!(
            read_envelope(b"<a/>", Limits::MESSAGE),
            Err(SoapError::NotSoap(_))
        ));
        let truncated = write_envelope(None, BODY);
        assert!(matches!(
            read_envelope(
                &truncated.as_bytes()[..truncated.len() - 5],
                Limits::MESSAGE
            ),
            Err(SoapError::Xml(_))
        ));
    }

    #[test]
    fn soap_action_is_read_quoted_or_bare_and_checked_against_the_body() {
        assert_eq!(soap_action("\"paaInviaRT\""), Some("paaInviaRT"));
        assert_eq!(soap_action(" paaInviaRT "), Some("paaInviaRT"));
        assert_eq!(
            soap_action("\"http://ws.pagamenti.telematici.gov/paaInviaRT\""),
            Some("paaInviaRT")
        );
        assert_eq!(soap_action("\"\""), None);
        let env = write_envelope(None, BODY);
        let e = read_envelope(env.as_bytes(), Limits::MESSAGE).unwrap();
        assert_eq!(
            operation(&e, Some("\"paaVerificaRPT\"")).unwrap(),
            "paaVerificaRPT"
        );
        assert_eq!(operation(&e, None).unwrap(), "paaVerificaRPT");
        assert!(operation(&e, Some("paaInviaRT")).is_err());
    }

    #[test]
    fn soap_fault_carries_a_well_formed_fault_bean() {
        let f = FaultBean::new(
            FaultCode::PaaSintassiExtraxsd,
            "80012345676",
            Some("Body assente".into()),
        );
        let x = write_soap_fault("soapenv:Client", f.fault_string.as_str(), Some(&f));
        let e = read_envelope(x.as_bytes(), Limits::MESSAGE).unwrap();
        assert_eq!(e.body.name, "Fault");
        assert!(
            e.body
                .xml
                .contains("<faultCode>PAA_SINTASSI_EXTRAXSD</faultCode>")
        );
    }

    /// The header every Nodo sends, and the same with the variations `foglie` leaves to
    /// serde: the fast path must take the first (or it saves nothing) and agree with serde
    /// on whatever it takes.
    const HEADER: &str = "<ppthead:intestazionePPT xmlns:ppthead=\"http://ws.pagamenti.telematici.gov/ppthead\">\n  <identificativoIntermediarioPA>01234567890</identificativoIntermediarioPA>\n  <identificativoStazioneIntermediarioPA>01234567890_01</identificativoStazioneIntermediarioPA><identificativoDominio>80007580279</identificativoDominio><identificativoUnivocoVersamento>01000000000000144</identificativoUnivocoVersamento><codiceContestoPagamento>n/a</codiceContestoPagamento></ppthead:intestazionePPT>";

    #[test]
    fn the_usual_header_and_verification_take_the_fast_path() {
        let h = sanp2::IntestazionePPT::parse(HEADER).unwrap();
        assert_eq!(
            h,
            de::<sanp2::IntestazionePPT>("intestazionePPT", HEADER).unwrap()
        );
        assert_eq!(
            foglie(HEADER, sanp2::IntestazionePPT::FOGLIE),
            Some([
                "01234567890",
                "01234567890_01",
                "80007580279",
                "01000000000000144",
                "n/a"
            ])
        );
        assert_eq!(foglie(BODY, ["identificativoPSP"]), Some(["PSP"]));
        // Anything else goes to serde, which still reads what it can.
        for other in [
            "<h><identificativoPSP>A&amp;B</identificativoPSP></h>",
            "<h><identificativoPSP><![CDATA[AB]]></identificativoPSP></h>",
            "<h><identificativoPSP> AB</identificativoPSP></h>",
            "<h><identificativoPSP>AB</identificativoPSP><x>1</x></h>",
            "<h><!-- c --><identificativoPSP>AB</identificativoPSP></h>",
            "<h><p:identificativoPSP xmlns:p=\"u\">AB</p:identificativoPSP></h>",
            "<h><identificativoPSP a=\"1\">AB</identificativoPSP></h>",
            "<h><identificativoPSP/></h>",
            "<h/>",
        ] {
            assert_eq!(foglie(other, ["identificativoPSP"]), None, "{other}");
        }
        assert_eq!(
            sanp2::PaaVerificaRPT::parse("<h><identificativoPSP>A&amp;B</identificativoPSP></h>")
                .unwrap()
                .id_psp,
            "A&B"
        );
        assert!(sanp2::PaaVerificaRPT::parse("<h><altro>A</altro></h>").is_err());
    }

    proptest::proptest! {
        /// Whatever the fast path accepts, serde reads the same: headers stitched from
        /// pieces that each either keep the usual shape or break it in one of the ways a
        /// sender might.
        #[test]
        fn the_fast_path_agrees_with_serde(pieces in proptest::prop_oneof![4 => proptest::collection::vec(0usize..24, 5..=5), 1 => proptest::collection::vec(0usize..24, 0..9)], text in "[ A-Za-z0-9_/&;<>\\-]{0,6}") {
            const NAMES: [&str; 5] = sanp2::IntestazionePPT::FOGLIE;
            let mut xml = String::from("<ppthead:intestazionePPT xmlns:ppthead=\"u\">");
            for (i, p) in pieces.iter().enumerate() {
                let name = NAMES[i % 5];
                let mut t = String::new();
                crate::xml::escape_into(&mut t, &text, false);
                xml.push_str(&match p {
                    0 => format!("<{name}>{t}</{name}>"),
                    1 => format!("<{name}>X{t}Y</{name}>"),
                    2 => format!(" <{name}>V{i}</{name}>\n"),
                    3 => format!("<{name}>A&amp;{t}</{name}>"),
                    4 => format!("<{name}><![CDATA[{text}]]></{name}>"),
                    5 => format!("<{name}/>"),
                    6 => format!("<{name} a=\"1\">V</{name}>"),
                    7 => format!("<!-- {i} --><{name}>V</{name}>"),
                    8 => format!("<p:{name} xmlns:p=\"u\">V</p:{name}>"),
                    9 => format!("<altro>{t}</altro>"),
                    10 => format!("<{name}>\r\nV</{name}>"),
                    11 => format!("<{name}><b>V</b></{name}>"),
                    12 => format!("<{name}>V&#65;</{name}>"),
                    _ => format!("<{name}>V{i}</{name}>"),
                });
            }
            xml.push_str("</ppthead:intestazionePPT>");
            if let Some(v) = foglie(&xml, NAMES) {
                let s: sanp2::IntestazionePPT = de("intestazionePPT", &xml).unwrap();
                proptest::prop_assert_eq!(v, [s.id_intermediario_pa.as_str(), s.id_stazione.as_str(), s.id_dominio.as_str(), s.iuv.as_str(), s.ccp.as_str()]);
            }
        }
    }

    const AVVISO: [&str; 5] = new_model::PaVerifyPaymentNoticeReq::FOGLIE;

    #[test]
    fn a_leaf_inside_a_child_is_read_by_its_path() {
        let usual = "<nfpa:paVerifyPaymentNoticeReq xmlns:nfpa=\"http://pagopa-api.pagopa.gov.it/pa/paForNode.xsd\"><idPA>80007580279</idPA><idBrokerPA>01234567890</idBrokerPA><idStation>01234567890_01</idStation><qrCode>\n<fiscalCode>80007580279</fiscalCode><noticeNumber>301000000000000144</noticeNumber></qrCode></nfpa:paVerifyPaymentNoticeReq>";
        assert_eq!(
            foglie(usual, AVVISO),
            Some([
                "80007580279",
                "01234567890",
                "01234567890_01",
                "80007580279",
                "301000000000000144"
            ])
        );
        assert_eq!(
            new_model::PaVerifyPaymentNoticeReq::usuale(usual),
            Some(de("paVerifyPaymentNoticeReq", usual).unwrap())
        );
        for other in [
            // the notice outside its qrCode, an empty qrCode, the leaves swapped
            "<r><idPA>A</idPA><idBrokerPA>B</idBrokerPA><idStation>S</idStation><fiscalCode>F</fiscalCode><noticeNumber>N</noticeNumber></r>",
            "<r><idPA>A</idPA><idBrokerPA>B</idBrokerPA><idStation>S</idStation><qrCode/></r>",
            "<r><idPA>A</idPA><idBrokerPA>B</idBrokerPA><idStation>S</idStation><qrCode><noticeNumber>N</noticeNumber><fiscalCode>F</fiscalCode></qrCode></r>",
            "<r><idPA>A</idPA><idBrokerPA>B</idBrokerPA><idStation>S</idStation><qrCode><fiscalCode>F</fiscalCode></qrCode><noticeNumber>N</noticeNumber></r>",
            "<r><idPA>A</idPA><idBrokerPA>B</idBrokerPA><idStation>S</idStation><qrCode><fiscalCode>F</fiscalCode><noticeNumber>N</noticeNumber><x>1</x></qrCode></r>",
        ] {
            assert_eq!(foglie(other, AVVISO), None, "{other}");
        }
    }

    proptest::proptest! {
        /// The same agreement with serde for a leaf path inside a child element: the usual
        /// paVerifyPaymentNotice with each piece kept or broken.
        #[test]
        fn the_fast_path_agrees_with_serde_inside_a_child(pieces in proptest::collection::vec(0usize..14, 7..=7)) {
            let piece = |k: usize, i: usize, usual: &str| -> String {
                match pieces[k] {
                    0 => String::new(),
                    1 => format!("<!--{i}-->{usual}"),
                    2 => format!("{usual}<altro>{i}</altro>"),
                    3 => format!(" {usual}\n"),
                    4 => usual.replace(">V", "> V"),
                    5 => usual.replace(">V", "><![CDATA[V]]>"),
                    6 => format!("{usual}{usual}"),
                    _ => usual.to_owned(),
                }
            };
            let xml = format!(
                "<r>{}{}{}{}{}{}{}</r>",
                piece(0, 0, "<idPA>V0</idPA>"),
                piece(1, 1, "<idBrokerPA>V1</idBrokerPA>"),
                piece(2, 2, "<idStation>V2</idStation>"),
                piece(3, 3, "<qrCode>"),
                piece(4, 4, "<fiscalCode>V4</fiscalCode>"),
                piece(5, 5, "<noticeNumber>V5</noticeNumber>"),
                piece(6, 6, "</qrCode>"),
            );
            if let Some(v) = foglie(&xml, AVVISO) {
                let a: new_model::PaVerifyPaymentNoticeReq = de("paVerifyPaymentNoticeReq", &xml).unwrap();
                proptest::prop_assert_eq!(v, [a.id_pa.as_str(), a.id_broker_pa.as_str(), a.id_station.as_str(), a.qr_code.fiscal_code.as_str(), a.qr_code.notice_number.as_str()]);
            }
        }
    }
}
