//! IBAN with its ISO 13616 mod-97 check; Italian IBANs also checked for their 27-char length.

use super::{ParseError, string_newtype};

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Iban(String);
string_newtype!(Iban);

impl Iban {
    /// The postal current account number of an Italian IBAN at Poste Italiane (ABI 07601):
    /// its last 12 digits, printed on the notice's bollettino. `None` for any other bank.
    pub fn conto_postale(&self) -> Option<&str> {
        let e = self.0.as_str();
        (e.starts_with("IT") && e.len() == 27 && &e[5..10] == "07601").then(|| &e[15..])
    }

    pub fn parse(s: &str) -> Result<Self, ParseError> {
        let e: String = s
            .chars()
            .filter(|c| !c.is_whitespace())
            .map(|c| c.to_ascii_uppercase())
            .collect();
        let bad = |why: &str| ParseError::new(format!("IBAN '{s}' non valido: {why}"));
        // ASCII first: the slices below are byte offsets (a multi-byte character there
        // would be a panic, not an error).
        if !e.bytes().all(|b| b.is_ascii_alphanumeric())
            || !(15..=34).contains(&e.len())
            || !e[..2].bytes().all(|b| b.is_ascii_uppercase())
            || !e[2..4].bytes().all(|b| b.is_ascii_digit())
            || !e.bytes().all(|b| b.is_ascii_alphanumeric())
        {
            return Err(bad("formato"));
        }
        if e.starts_with("IT") && e.len() != 27 {
            return Err(bad("un IBAN italiano ha 27 caratteri"));
        }
        let mut rem: u32 = 0;
        for c in e[4..].bytes().chain(e[..4].bytes()) {
            let v = if c.is_ascii_digit() {
                u32::from(c - b'0')
            } else {
                u32::from(c - b'A') + 10
            };
            rem = if v >= 10 {
                (rem * 100 + v) % 97
            } else {
                (rem * 10 + v) % 97
            };
        }
        if rem != 1 {
            return Err(bad("cifre di controllo errate"));
        }
        Ok(Iban(e))
    }

    /// Postal current accounts (ABI 07601) get special handling from pagoPA.
    pub fn is_postale(&self) -> bool {
        self.0.starts_with("IT") && &self.0[5..10] == "07601"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_poste_iban_names_its_postal_account() {
        let poste = Iban::parse("IT30N0760101600000012345678").unwrap();
        assert_eq!(poste.conto_postale(), Some("000012345678"));
        let banca = Iban::parse("IT60X0542811101000000123456").unwrap();
        assert_eq!(banca.conto_postale(), None);
    }
    use proptest::prelude::*;

    #[test]
    fn non_ascii_characters_are_an_error_not_a_panic() {
        // Found by schemathesis: a two-byte character across the country/check boundary.
        assert!(Iban::parse("0\u{80}00000\u{80}\u{80}\u{800}").is_err());
        assert!(Iban::parse("IT6\u{e8}X0542811101000000123456").is_err());
    }

    proptest! {
        #[test]
        fn parse_never_panics(s in "\\PC{0,40}") {
            let _ = Iban::parse(&s);
        }
    }

    #[test]
    fn valid_and_invalid_ibans() {
        assert!(Iban::parse("IT60 X054 2811 1010 0000 0123 456").is_ok());
        assert!(Iban::parse("IT60X0542811101000000123457").is_err());
        assert!(Iban::parse("GB82WEST12345698765432").is_ok());
        assert!(Iban::parse("IT60X05428111010000001234").is_err());
        assert!(Iban::parse("").is_err());
    }
}
