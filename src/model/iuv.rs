//! IUV, numero avviso and their check digits (SACI cap. 2, SANP 2.1 §7.4) and ISO 11649 "RF"
//! creditor references (SACI appendix 1).
//!
//! Numero avviso = `<aux digit><application or segregation code?><IUV>`:
//! aux 0 = `0 AA <13> CC` (IUV 15), aux 1 = `1 <17>` (no check digit),
//! aux 2 = `2 <15> CC`, aux 3 = `3 SS <13> CC` (IUV 17). The check digit `CC` is the 16-digit
//! number aux + code + base, mod 93.

use super::{ParseError, string_newtype};

/// Identificativo Univoco Versamento: 1 to 35 characters `[A-Za-z0-9]`, unique per ente.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Iuv(String);
string_newtype!(Iuv);

impl Iuv {
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        if s.is_empty() || s.len() > 35 || !s.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(ParseError::new(format!(
                "IUV non valido: '{s}' (1-35 caratteri alfanumerici)"
            )));
        }
        Ok(Iuv(s.to_owned()))
    }

    /// Builds the aux-digit-3 IUV `<segregation 2><base 13><check 2>` from a sequence number.
    pub fn aux3(seg: SegregationCode, base: u64) -> Result<Self, ParseError> {
        if base >= 10u64.pow(13) {
            return Err(ParseError::new("base IUV esaurita (oltre 13 cifre)"));
        }
        let cd = check_digit(3, u64::from(seg.0), base);
        Ok(Iuv(format!("{:02}{base:013}{cd:02}", seg.0)))
    }
}

/// The two-digit segregation code an intermediary assigns to an ente for aux digit 3.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "u8", into = "u8")]
pub struct SegregationCode(u8);

impl SegregationCode {
    pub fn new(code: u8) -> Result<Self, ParseError> {
        if code > 99 {
            return Err(ParseError::new(format!(
                "codice di segregazione {code} fuori intervallo 00-99"
            )));
        }
        Ok(SegregationCode(code))
    }
    pub fn value(self) -> u8 {
        self.0
    }
}

impl TryFrom<u8> for SegregationCode {
    type Error = ParseError;
    fn try_from(v: u8) -> Result<Self, ParseError> {
        Self::new(v)
    }
}
impl From<SegregationCode> for u8 {
    fn from(v: SegregationCode) -> u8 {
        v.0
    }
}

/// (aux digit, application/segregation code, 13-digit base) mod 93. For aux 2 the "code" is
/// the first two digits of the 15-digit base; the operand always has 16 digits.
fn check_digit(aux: u64, code: u64, base13: u64) -> u64 {
    (aux * 10u64.pow(15) + code * 10u64.pow(13) + base13) % 93
}

/// Numero avviso: exactly 18 digits with a consistent check digit (except aux 1).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct NumeroAvviso(String);
string_newtype!(NumeroAvviso);

impl NumeroAvviso {
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        if s.len() != 18 || !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(ParseError::new(format!(
                "numero avviso non valido: '{s}' (18 cifre)"
            )));
        }
        let aux = s.as_bytes()[0] - b'0';
        if aux > 3 {
            return Err(ParseError::new(format!(
                "numero avviso '{s}': aux digit {aux} non previsto (0-3)"
            )));
        }
        if aux != 1 {
            // 16-digit operand and 2-digit check for aux 0, 2, 3 alike.
            let operand: u64 = s[..16].parse().expect("16 ascii digits");
            let cd: u64 = s[16..].parse().expect("2 ascii digits");
            if operand % 93 != cd {
                return Err(ParseError::new(format!(
                    "numero avviso '{s}': check digit errato (atteso {:02})",
                    operand % 93
                )));
            }
        }
        Ok(NumeroAvviso(s.to_owned()))
    }

    pub fn aux_digit(&self) -> u8 {
        self.0.as_bytes()[0] - b'0'
    }

    /// The application code (aux 0) or segregation code (aux 3) carried by the notice.
    pub fn code(&self) -> Option<u8> {
        matches!(self.aux_digit(), 0 | 3).then(|| self.0[1..3].parse().expect("digits"))
    }

    /// The IUV the notice carries: without the aux digit, and without the application code
    /// for aux 0 (whose IUV has 15 digits).
    pub fn iuv(&self) -> Iuv {
        match self.aux_digit() {
            0 => Iuv(self.0[3..].to_owned()),
            _ => Iuv(self.0[1..].to_owned()),
        }
    }

    /// The aux-3 notice number of an IUV generated with [`Iuv::aux3`], if it is one.
    pub fn from_aux3_iuv(iuv: &Iuv) -> Option<Self> {
        let s = iuv.as_str();
        if s.len() != 17 {
            return None;
        }
        NumeroAvviso::parse(&format!("3{s}")).ok()
    }
}

/// ISO 11649 structured creditor reference: `RF` + 2 check digits + 1..21 alphanumerics.
/// Kept in electronic form (no spaces, upper case); `Display` of [`RfReference::printed`]
/// groups by four as on paper.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RfReference(String);
string_newtype!(RfReference);

fn iso7064_mod97(chars: impl Iterator<Item = u8>) -> Option<u32> {
    let mut rem: u32 = 0;
    for c in chars {
        let v = match c {
            b'0'..=b'9' => u32::from(c - b'0'),
            b'A'..=b'Z' => u32::from(c - b'A') + 10,
            _ => return None,
        };
        rem = if v >= 10 {
            (rem * 100 + v) % 97
        } else {
            (rem * 10 + v) % 97
        };
    }
    Some(rem)
}

impl RfReference {
    /// Accepts the printed form too: spaces are dropped and letters upper-cased.
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        let e: String = s
            .chars()
            .filter(|c| !c.is_whitespace())
            .map(|c| c.to_ascii_uppercase())
            .collect();
        let bad = |why: &str| ParseError::new(format!("riferimento RF '{s}' non valido: {why}"));
        // ASCII first: the slices below are byte offsets.
        if !e.bytes().all(|b| b.is_ascii_alphanumeric())
            || !(5..=25).contains(&e.len())
            || !e.starts_with("RF")
        {
            return Err(bad("atteso RF + 2 cifre di controllo + 1-21 caratteri"));
        }
        if !e[2..4].bytes().all(|b| b.is_ascii_digit())
            || !e[4..].bytes().all(|b| b.is_ascii_alphanumeric())
        {
            return Err(bad("caratteri non ammessi"));
        }
        let rotated = e[4..].bytes().chain(e[..4].bytes());
        match iso7064_mod97(rotated) {
            Some(1) => Ok(RfReference(e)),
            _ => Err(bad("cifre di controllo errate")),
        }
    }

    /// Computes the check digits for a reference of 1..21 alphanumerics.
    pub fn create(reference: &str) -> Result<Self, ParseError> {
        let r = reference.to_ascii_uppercase();
        if r.is_empty() || r.len() > 21 || !r.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(ParseError::new(format!(
                "riferimento '{reference}' non valido per RF (1-21 alfanumerici)"
            )));
        }
        let rem = iso7064_mod97(r.bytes().chain(*b"RF00")).expect("alphanumeric");
        Ok(RfReference(format!("RF{:02}{r}", 98 - rem)))
    }

    /// Paper form, in groups of four characters.
    pub fn printed(&self) -> String {
        let b = self.0.as_bytes();
        b.chunks(4)
            .map(|c| std::str::from_utf8(c).expect("ascii"))
            .collect::<Vec<_>>()
            .join(" ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn worked_example_of_the_specification() {
        let iuv = Iuv::aux3(SegregationCode::new(1).unwrap(), 1).unwrap();
        assert_eq!(iuv.as_str(), "01000000000000144");
        let na = NumeroAvviso::from_aux3_iuv(&iuv).unwrap();
        assert_eq!(na.as_str(), "301000000000000144");
        assert_eq!(na.code(), Some(1));
        assert_eq!(na.iuv(), iuv);
    }

    #[test]
    fn wrong_check_digit_is_refused() {
        assert!(NumeroAvviso::parse("301000000000000145").is_err());
        assert!(NumeroAvviso::parse("401000000000000144").is_err());
        assert!(NumeroAvviso::parse("30100000000000014").is_err());
        // aux 1 has no check digit.
        assert!(NumeroAvviso::parse("112345678901234567").is_ok());
    }

    #[test]
    fn aux0_iuv_drops_the_application_code() {
        let operand = "0121234567890123";
        let cd = operand.parse::<u64>().unwrap() % 93;
        let na = NumeroAvviso::parse(&format!("{operand}{cd:02}")).unwrap();
        assert_eq!(na.code(), Some(12));
        assert_eq!(na.iuv().as_str().len(), 15);
    }

    #[test]
    fn rf_standard_example() {
        let rf = RfReference::parse("RF18 5390 0754 7034").unwrap();
        assert_eq!(rf.as_str(), "RF18539007547034");
        assert_eq!(RfReference::create("539007547034").unwrap(), rf);
        assert_eq!(rf.printed(), "RF18 5390 0754 7034");
        assert!(RfReference::parse("RF19 5390 0754 7034").is_err());
    }

    #[test]
    fn rf_with_non_ascii_characters_is_an_error_not_a_panic() {
        assert!(RfReference::parse("RF1\u{80}53900754").is_err());
    }

    proptest! {
        #[test]
        fn every_generated_aux3_avviso_has_a_valid_check_digit(seg in 0u8..=99, base in 0u64..10u64.pow(13)) {
            let iuv = Iuv::aux3(SegregationCode::new(seg).unwrap(), base).unwrap();
            prop_assert_eq!(iuv.as_str().len(), 17);
            let na = NumeroAvviso::from_aux3_iuv(&iuv).unwrap();
            prop_assert_eq!(na.aux_digit(), 3);
            prop_assert_eq!(na.code(), Some(seg));
            prop_assert_eq!(na.iuv(), iuv);
        }

        #[test]
        fn any_single_digit_change_breaks_the_avviso(seg in 0u8..=99, base in 0u64..10u64.pow(13), pos in 0usize..18, delta in 1u8..10) {
            let iuv = Iuv::aux3(SegregationCode::new(seg).unwrap(), base).unwrap();
            let mut s = NumeroAvviso::from_aux3_iuv(&iuv).unwrap().as_str().as_bytes().to_vec();
            s[pos] = b'0' + (s[pos] - b'0' + delta) % 10;
            let changed = String::from_utf8(s).unwrap();
            // Mod 93 catches every single-digit error of a 16-digit operand (93 > 10 and
            // 10^k mod 93 is never 0), and the aux digit itself is range-checked.
            prop_assert!(NumeroAvviso::parse(&changed).is_err() || changed.starts_with('1'));
        }

        #[test]
        fn rf_create_then_parse_is_identity(r in "[A-Z0-9]{1,21}") {
            let rf = RfReference::create(&r).unwrap();
            prop_assert_eq!(RfReference::parse(&rf.printed()).unwrap(), rf);
        }

        #[test]
        fn parsers_never_panic(s in "\\PC{0,40}") {
            let _ = NumeroAvviso::parse(&s);
            let _ = RfReference::parse(&s);
            let _ = Iuv::parse(&s);
        }
    }
}
