//! Italian fiscal codes: the 16-character code of a natural person (with omocodia
//! substitutions) and the 11-digit code / partita IVA of legal persons, each with its check
//! character. `IdDominio` is the 11-digit fiscal code of an ente creditore.

use super::{ParseError, string_newtype};

/// Placeholder MyPay accepts for anonymous payers when the tipo dovuto allows it.
pub const CF_ANONIMO: &str = "ANONIMO";

/// A payer's fiscal code: 16-character personal code or 11-digit numeric code, upper-cased.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CodiceFiscale(String);
string_newtype!(CodiceFiscale);

/// identificativoDominio: the ente's 11-digit fiscal code.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct IdDominio(String);
string_newtype!(IdDominio);

impl CodiceFiscale {
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        let u = s.trim().to_ascii_uppercase();
        match u.len() {
            16 => check_personal(&u)?,
            11 => check_numeric(&u)?,
            _ => {
                return Err(ParseError::new(format!(
                    "codice fiscale '{s}': attesi 16 caratteri o 11 cifre"
                )));
            }
        }
        Ok(CodiceFiscale(u))
    }

    /// The anonymous placeholder, accepted only where the caller allows it.
    pub fn anonimo() -> Self {
        CodiceFiscale(CF_ANONIMO.to_owned())
    }

    pub fn is_anonimo(&self) -> bool {
        self.0 == CF_ANONIMO
    }

    /// `F` (natural person) for a 16-character code, `G` (legal person) for an 11-digit one;
    /// a person may also hold a temporary 11-digit code, so this is a default, not a rule.
    pub fn tipo_default(&self) -> char {
        if self.0.len() == 16 { 'F' } else { 'G' }
    }
}

impl IdDominio {
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        if s.len() != 11 {
            return Err(ParseError::new(format!(
                "identificativo dominio '{s}': attese 11 cifre"
            )));
        }
        check_numeric(s)?;
        Ok(IdDominio(s.to_owned()))
    }
}

/// Check digit of an 11-digit fiscal code / partita IVA over its first 10 digits.
pub fn numeric_check_digit(first10: &[u8]) -> u8 {
    let sum: u32 = first10
        .iter()
        .enumerate()
        .map(|(i, &d)| {
            let d = u32::from(d - b'0');
            if i % 2 == 1 {
                let x = d * 2;
                if x > 9 { x - 9 } else { x }
            } else {
                d
            }
        })
        .sum();
    ((10 - sum % 10) % 10) as u8
}

fn check_numeric(s: &str) -> Result<(), ParseError> {
    let b = s.as_bytes();
    if b.len() != 11 || !b.iter().all(u8::is_ascii_digit) {
        return Err(ParseError::new(format!(
            "codice fiscale numerico '{s}': attese 11 cifre"
        )));
    }
    if numeric_check_digit(&b[..10]) != b[10] - b'0' {
        return Err(ParseError::new(format!(
            "codice fiscale/partita IVA '{s}': cifra di controllo errata"
        )));
    }
    Ok(())
}

/// Letters that replace digits in omocodia cases, indexed by the digit they stand for.
const OMOCODIA: &[u8; 10] = b"LMNPQRSTUV";
const MONTHS: &[u8; 12] = b"ABCDEHLMPRST";
/// Values of the characters at odd positions (1st, 3rd, …) for 0-9 and A-Z alike.
const ODD: [u32; 26] = [
    1, 0, 5, 7, 9, 13, 15, 17, 19, 21, 2, 4, 18, 20, 11, 3, 6, 8, 12, 14, 16, 10, 22, 25, 24, 23,
];

pub fn personal_check_char(first15: &[u8]) -> u8 {
    let sum: u32 = first15
        .iter()
        .enumerate()
        .map(|(i, &c)| {
            let idx = if c.is_ascii_digit() {
                c - b'0'
            } else {
                c - b'A'
            } as usize;
            if i % 2 == 0 { ODD[idx] } else { idx as u32 }
        })
        .sum();
    b'A' + (sum % 26) as u8
}

fn check_personal(s: &str) -> Result<(), ParseError> {
    let b = s.as_bytes();
    let letter = |i: usize| b[i].is_ascii_uppercase();
    let digitish = |i: usize| b[i].is_ascii_digit() || OMOCODIA.contains(&b[i]);
    let shape = (0..6).all(letter)
        && digitish(6)
        && digitish(7)
        && MONTHS.contains(&b[8])
        && digitish(9)
        && digitish(10)
        && letter(11)
        && (12..15).all(digitish)
        && letter(15);
    if !shape {
        return Err(ParseError::new(format!(
            "codice fiscale '{s}': formato non valido"
        )));
    }
    let day = [b[9], b[10]].map(|c| match OMOCODIA.iter().position(|&o| o == c) {
        Some(d) => d as u32,
        None => u32::from(c - b'0'),
    });
    let day = day[0] * 10 + day[1];
    if !(1..=31).contains(&day) && !(41..=71).contains(&day) {
        return Err(ParseError::new(format!(
            "codice fiscale '{s}': giorno di nascita non valido"
        )));
    }
    if personal_check_char(&b[..15]) != b[15] {
        return Err(ParseError::new(format!(
            "codice fiscale '{s}': carattere di controllo errato"
        )));
    }
    Ok(())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Completes 10 digits into a valid 11-digit fiscal code.
    pub fn numeric_cf(first10: &str) -> String {
        format!("{first10}{}", numeric_check_digit(first10.as_bytes()))
    }

    #[test]
    fn known_valid_codes() {
        // The textbook example of the personal code, and its omocodia variant.
        assert!(CodiceFiscale::parse("RSSMRA85T10A562S").is_ok());
        assert!(CodiceFiscale::parse("rssmra85t10a562s").is_ok());
        assert!(CodiceFiscale::parse("RSSMRA85T10A562T").is_err());
        assert!(CodiceFiscale::parse("RSSMRA85T10A56NH").is_ok());
        assert!(IdDominio::parse(&numeric_cf("8000758027")).is_ok());
    }

    #[test]
    fn malformed_codes_are_refused() {
        for bad in [
            "",
            "RSSMRA85T10A56",
            "RSSMRA85Z10A562S",
            "RSSMRA85T99A562S",
            "1234567890A",
            "12345678901",
        ] {
            assert!(CodiceFiscale::parse(bad).is_err(), "{bad} accepted");
        }
        assert!(IdDominio::parse("RSSMRA85T10A562S").is_err());
    }

    proptest! {
        #[test]
        fn generated_numeric_codes_validate_and_a_digit_change_breaks_them(d in "[0-9]{10}", pos in 0usize..11, delta in 1u8..10) {
            let cf = numeric_cf(&d);
            prop_assert!(IdDominio::parse(&cf).is_ok());
            let mut b = cf.into_bytes();
            b[pos] = b'0' + (b[pos] - b'0' + delta) % 10;
            prop_assert!(IdDominio::parse(&String::from_utf8(b).unwrap()).is_err());
        }

        #[test]
        fn generated_personal_codes_validate(p in "[A-Z]{6}[0-9]{2}[ABCDEHLMPRST](0[1-9]|[12][0-9]|3[01]|4[1-9]|[56][0-9]|7[01])[A-Z][0-9]{3}") {
            let full = format!("{}{}", p, personal_check_char(p.as_bytes()) as char);
            let parsed = CodiceFiscale::parse(&full);
            prop_assert!(parsed.is_ok(), "{} refused: {:?}", full, parsed);
        }

        #[test]
        fn parse_never_panics(s in "\\PC{0,20}") {
            let _ = CodiceFiscale::parse(&s);
            let _ = IdDominio::parse(&s);
        }
    }
}
