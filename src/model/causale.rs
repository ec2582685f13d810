//! Causale di versamento (SACI cap. 3): `/RFB/<IUV>[/<importo>][/TXT/<testo>]` for numeric
//! IUVs, `/RFS/<RF reference>/<importo>[/TXT/<testo>]` for ISO 11649 ones. What is
//! generated is strict (≤ 140 characters, two-decimal amount); what is read is lenient, as
//! real senders write `RFB/` without the leading slash or spaces inside the RF reference.

use super::{Importo, ParseError, RfReference};

pub const MAX_LEN: usize = 140;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Riferimento {
    /// IUV not in ISO 11649 form.
    Rfb(String),
    /// ISO 11649 creditor reference; the amount is then mandatory.
    Rfs(RfReference),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Causale {
    pub riferimento: Riferimento,
    pub importo: Option<Importo>,
    pub testo: Option<String>,
}

impl Causale {
    pub fn parse(s: &str) -> Result<Causale, ParseError> {
        let bad = |why: &str| ParseError::new(format!("causale '{s}' non riconosciuta: {why}"));
        let t = s.trim();
        let t = t.strip_prefix('/').unwrap_or(t);
        let (kind, rest) = t
            .split_once('/')
            .ok_or_else(|| bad("manca /RFB/ o /RFS/"))?;
        let (head, testo) = match rest.find("/TXT/") {
            Some(i) => (&rest[..i], Some(rest[i + 5..].to_owned())),
            None => (rest, None),
        };
        let mut parts = head.splitn(2, '/');
        let rif = parts.next().unwrap_or("").trim();
        let importo = match parts.next().map(str::trim).filter(|p| !p.is_empty()) {
            None => None,
            Some(p) => Some(Importo::parse(p).map_err(|e| bad(&e.0))?),
        };
        let riferimento = match kind.to_ascii_uppercase().as_str() {
            "RFB" => {
                if rif.is_empty() {
                    return Err(bad("IUV mancante"));
                }
                Riferimento::Rfb(rif.to_owned())
            }
            "RFS" => {
                if importo.is_none() {
                    return Err(bad("con RFS l'importo è obbligatorio"));
                }
                Riferimento::Rfs(RfReference::parse(rif).map_err(|e| bad(&e.0))?)
            }
            _ => return Err(bad("atteso RFB o RFS")),
        };
        Ok(Causale {
            riferimento,
            importo,
            testo: testo.filter(|t| !t.is_empty()),
        })
    }

    /// The strict form, cutting the free text so the whole fits in 140 characters.
    pub fn format(&self) -> String {
        let mut s = match &self.riferimento {
            Riferimento::Rfb(iuv) => format!("/RFB/{iuv}"),
            Riferimento::Rfs(rf) => format!("/RFS/{}", rf.printed()),
        };
        if let Some(i) = self.importo {
            s.push('/');
            s.push_str(&i.to_string());
        }
        if let Some(t) = &self.testo {
            let room = MAX_LEN.saturating_sub(s.chars().count() + 5);
            if room > 0 {
                s.push_str("/TXT/");
                s.extend(t.chars().take(room));
            }
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn reads_the_documented_forms_and_sloppy_variants() {
        let c = Causale::parse("/RFB/9876096598656344/12.34/TXT/Richiesta certificato").unwrap();
        assert_eq!(c.riferimento, Riferimento::Rfb("9876096598656344".into()));
        assert_eq!(c.importo.unwrap().cents(), 1234);
        assert_eq!(c.testo.as_deref(), Some("Richiesta certificato"));
        let sloppy = Causale::parse("RFB/01000000000000144/10/TXT/a/b").unwrap();
        assert_eq!(
            (sloppy.importo.unwrap().cents(), sloppy.testo.as_deref()),
            (1000, Some("a/b"))
        );
        assert!(
            Causale::parse("/RFB/01000000000000144")
                .unwrap()
                .importo
                .is_none()
        );
        let rfs = Causale::parse("/RFS/RF18 5390 0754 7034/45.56").unwrap();
        assert!(matches!(rfs.riferimento, Riferimento::Rfs(_)));
        for bad in [
            "",
            "TARI 2026",
            "/RFS/RF18 5390 0754 7034",
            "/RFX/1/1.00",
            "/RFB//1.00",
            "/RFB/1/1,00",
        ] {
            assert!(Causale::parse(bad).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn format_is_strict_and_bounded() {
        let c = Causale {
            riferimento: Riferimento::Rfb("01000000000000144".into()),
            importo: Some(Importo::from_cents(1000).unwrap()),
            testo: Some("x".repeat(300)),
        };
        let s = c.format();
        assert!(s.starts_with("/RFB/01000000000000144/10.00/TXT/xxx"));
        assert_eq!(s.chars().count(), MAX_LEN);
    }

    proptest! {
        #[test]
        fn format_then_parse_is_identity(iuv in "[0-9]{17}", cents in proptest::option::of(1i64..10_000_000), testo in proptest::option::of("[A-Za-z0-9 àè]{1,60}[A-Za-z]")) {
            let c = Causale { riferimento: Riferimento::Rfb(iuv), importo: cents.map(|c| Importo::from_cents(c).unwrap()), testo };
            prop_assert_eq!(Causale::parse(&c.format()).unwrap(), c);
        }

        #[test]
        fn parse_never_panics(s in "\\PC{0,160}") {
            let _ = Causale::parse(&s);
        }
    }
}
