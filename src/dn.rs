//! X.500 distinguished names, compared attribute by attribute. A subject pin is a DN; a
//! certificate subject satisfies it when every attribute of the pin is among the subject's
//! with an equal value. Comparing text instead (a substring test) let
//! `CN=nodo.pagopa.it.evil.example` and `O=CN=nodo.pagopa.it, CN=x` pass a pin on
//! `CN=nodo.pagopa.it`.

use std::fmt;

/// One attribute: its type as a keyword (`CN`, `O`…) or a dotted OID when it has none,
/// and its value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attributo {
    pub tipo: String,
    pub valore: String,
}

/// Read from and written to the configuration as its RFC 4514 string.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Deserialize, serde::Serialize)]
#[serde(try_from = "String", into = "String")]
pub struct Dn(Vec<Attributo>);

impl TryFrom<String> for Dn {
    type Error = DnError;
    fn try_from(s: String) -> Result<Dn, DnError> {
        Dn::parse(&s)
    }
}

impl From<Dn> for String {
    fn from(d: Dn) -> String {
        d.to_string()
    }
}

impl std::str::FromStr for Dn {
    type Err = DnError;
    fn from_str(s: &str) -> Result<Dn, DnError> {
        Dn::parse(s)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DnError(pub String);

impl fmt::Display for DnError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "distinguished name: {}", self.0)
    }
}

impl std::error::Error for DnError {}

/// Keywords of RFC 4514 §3 and the common extras, with their OIDs.
const KEYWORDS: [(&str, &str); 14] = [
    ("CN", "2.5.4.3"),
    ("SERIALNUMBER", "2.5.4.5"),
    ("C", "2.5.4.6"),
    ("L", "2.5.4.7"),
    ("ST", "2.5.4.8"),
    ("STREET", "2.5.4.9"),
    ("O", "2.5.4.10"),
    ("OU", "2.5.4.11"),
    ("TITLE", "2.5.4.12"),
    ("GIVENNAME", "2.5.4.42"),
    ("SURNAME", "2.5.4.4"),
    ("ORGANIZATIONIDENTIFIER", "2.5.4.97"),
    ("EMAILADDRESS", "1.2.840.113549.1.9.1"),
    ("DC", "0.9.2342.19200300.100.1.25"),
];

/// Other spellings seen in the wild (OpenSSL, Windows).
const ALIASES: [(&str, &str); 4] = [
    ("S", "ST"),
    ("E", "EMAILADDRESS"),
    ("SN", "SURNAME"),
    ("G", "GIVENNAME"),
];

/// The canonical type for a keyword, alias or OID (`None`: not a valid type).
fn tipo(raw: &str) -> Option<String> {
    let raw = raw.trim();
    let dotted = raw
        .strip_prefix("OID.")
        .or_else(|| raw.strip_prefix("oid."));
    if let Some(oid) = dotted.or(Some(raw)).filter(|s| is_oid(s)) {
        return Some(tipo_oid(oid));
    }
    if raw.is_empty() || !raw.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
        return None;
    }
    let up = raw.to_ascii_uppercase();
    let up = ALIASES
        .iter()
        .find(|(a, _)| *a == up)
        .map_or(up.clone(), |(_, k)| (*k).to_owned());
    Some(up)
}

/// The keyword for an OID when it has one, else the OID itself.
pub fn tipo_oid(oid: &str) -> String {
    KEYWORDS
        .iter()
        .find(|(_, o)| *o == oid)
        .map_or_else(|| oid.to_owned(), |(k, _)| (*k).to_owned())
}

fn is_oid(s: &str) -> bool {
    !s.is_empty()
        && s.split('.')
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
        && s.contains('.')
}

impl Dn {
    pub fn from_attributes(attrs: impl IntoIterator<Item = (String, String)>) -> Dn {
        Dn(attrs
            .into_iter()
            .map(|(t, v)| Attributo {
                tipo: tipo(&t).unwrap_or(t),
                valore: v,
            })
            .collect())
    }

    pub fn attributi(&self) -> &[Attributo] {
        &self.0
    }

    /// An RFC 4514 string (`CN=a\, b,O=c`), as a proxy's `ssl_client_s_dn` or a pin in the
    /// configuration is written; `;` separates like `,`, `"…"` quoting of RFC 1779 is read.
    pub fn parse(s: &str) -> Result<Dn, DnError> {
        let err = |m: &str| DnError(format!("{m} in {s:?}"));
        let mut attrs = Vec::new();
        let mut chars = s.chars().peekable();
        loop {
            // type
            let mut t = String::new();
            let mut equals = false;
            for c in chars.by_ref() {
                if c == '=' {
                    equals = true;
                    break;
                }
                if matches!(c, ',' | ';' | '+') {
                    return Err(err("an attribute without '='"));
                }
                t.push(c);
            }
            if !equals {
                return Err(err("an attribute without '='"));
            }
            let tipo = tipo(&t).ok_or_else(|| err("an attribute type that is not one"))?;
            // value
            while chars.peek() == Some(&' ') {
                chars.next();
            }
            let mut bytes: Vec<u8> = Vec::new();
            let mut end = None;
            if chars.peek() == Some(&'"') {
                chars.next();
                loop {
                    match chars.next() {
                        None => return Err(err("an unterminated quoted value")),
                        Some('"') => break,
                        Some('\\') => escape(&mut chars, &mut bytes).map_err(&err)?,
                        Some(c) => push(&mut bytes, c),
                    }
                }
                for c in chars.by_ref() {
                    match c {
                        ' ' => {}
                        ',' | ';' | '+' => {
                            end = Some(c);
                            break;
                        }
                        _ => return Err(err("text after a quoted value")),
                    }
                }
            } else {
                // Length up to the last escaped or non-space byte: trailing unescaped
                // spaces are not part of the value.
                let mut kept = 0;
                while let Some(c) = chars.next() {
                    match c {
                        ',' | ';' | '+' => {
                            end = Some(c);
                            break;
                        }
                        '\\' => {
                            escape(&mut chars, &mut bytes).map_err(&err)?;
                            kept = bytes.len();
                        }
                        ' ' => bytes.push(b' '),
                        c => {
                            push(&mut bytes, c);
                            kept = bytes.len();
                        }
                    }
                }
                bytes.truncate(kept);
            }
            let valore = String::from_utf8(bytes).map_err(|_| err("a value that is not UTF-8"))?;
            attrs.push(Attributo { tipo, valore });
            if end.is_none() {
                break;
            }
        }
        Ok(Dn(attrs))
    }

    /// Every attribute of `pin` is among this name's, with an equal value (compared ignoring
    /// case, as X.520 matches these attributes); order and extra attributes do not matter.
    pub fn satisfies(&self, pin: &Dn) -> bool {
        !pin.0.is_empty()
            && pin.0.iter().all(|p| {
                self.0
                    .iter()
                    .any(|a| a.tipo == p.tipo && a.valore.to_lowercase() == p.valore.to_lowercase())
            })
    }
}

fn push(bytes: &mut Vec<u8>, c: char) {
    let mut b = [0; 4];
    bytes.extend_from_slice(c.encode_utf8(&mut b).as_bytes());
}

/// After a backslash: a special character stands for itself, two hex digits for a byte.
fn escape(
    chars: &mut std::iter::Peekable<std::str::Chars<'_>>,
    bytes: &mut Vec<u8>,
) -> Result<(), &'static str> {
    match chars.next() {
        None => Err("a trailing backslash"),
        Some(h) if h.is_ascii_hexdigit() => {
            let l = chars
                .next()
                .filter(char::is_ascii_hexdigit)
                .ok_or("a broken hex escape")?;
            let hex = |c: char| c.to_digit(16).unwrap_or(0) as u8;
            bytes.push((hex(h) << 4) | hex(l));
            Ok(())
        }
        Some(c) => {
            push(bytes, c);
            Ok(())
        }
    }
}

impl fmt::Display for Dn {
    /// RFC 4514 form, escaping what must be.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, a) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write!(f, "{}=", a.tipo)?;
            let n = a.valore.chars().count();
            for (j, c) in a.valore.chars().enumerate() {
                let special = matches!(c, '"' | '+' | ',' | ';' | '<' | '>' | '\\')
                    || (j == 0 && (c == '#' || c == ' '))
                    || (j + 1 == n && c == ' ');
                if special {
                    f.write_str("\\")?;
                }
                write!(f, "{c}")?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dn(s: &str) -> Dn {
        Dn::parse(s).unwrap()
    }

    #[test]
    fn a_pin_is_matched_attribute_by_attribute_not_as_text() {
        let pin = dn("CN=nodo.pagopa.it");
        assert!(dn("CN=nodo.pagopa.it,O=PagoPA S.p.A.,C=IT").satisfies(&pin));
        assert!(dn("C=IT, O=PagoPA S.p.A., CN=NODO.pagopa.it").satisfies(&pin));
        assert!(!dn("CN=nodo.pagopa.it.evil.example").satisfies(&pin));
        assert!(!dn("O=CN=nodo.pagopa.it, CN=attacker").satisfies(&pin));
        assert!(!dn("O=x\\, CN=nodo.pagopa.it, CN=attacker").satisfies(&pin));
        assert!(!dn("OU=nodo.pagopa.it").satisfies(&pin));
        // Every attribute of the pin must be there.
        let pin = dn("CN=nodo.pagopa.it, O=PagoPA S.p.A.");
        assert!(dn("CN=nodo.pagopa.it,O=PagoPA S.p.A.,C=IT").satisfies(&pin));
        assert!(!dn("CN=nodo.pagopa.it,O=Other").satisfies(&pin));
        assert!(!dn("CN=x").satisfies(&Dn::default()));
    }

    #[test]
    fn escapes_quotes_aliases_and_oids_are_read() {
        assert_eq!(
            dn("CN=a\\, b\\2Bc ,  O = \"x, y\" ; 2.5.4.6=IT+E=p@q").attributi(),
            &[
                Attributo {
                    tipo: "CN".into(),
                    valore: "a, b+c".into()
                },
                Attributo {
                    tipo: "O".into(),
                    valore: "x, y".into()
                },
                Attributo {
                    tipo: "C".into(),
                    valore: "IT".into()
                },
                Attributo {
                    tipo: "EMAILADDRESS".into(),
                    valore: "p@q".into()
                },
            ]
        );
        assert_eq!(dn("CN=\\C3\\A0 \\ ").attributi()[0].valore, "à  ");
        for bad in [
            "",
            "CN",
            "=x",
            "CN=a,",
            "C N=x",
            "CN=\\",
            "CN=\\4",
            "CN=\"x",
            "CN=\"x\"y",
            "CN=\\FF",
        ] {
            assert!(Dn::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn display_round_trips() {
        for s in ["CN=a\\, b,O=\\#x\\ ", "CN=x+OU=y,C=IT", "2.5.4.99=z"] {
            let d = dn(s);
            assert_eq!(dn(&d.to_string()), d, "{s}");
        }
    }
}
