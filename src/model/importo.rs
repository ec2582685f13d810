//! Amounts in exact euro cents. pagoPA writes them as `\d+\.\d{2}` with a `.` separator and a
//! maximum of 999999999.99 (stImporto in PagInf_RPT_RT_6_2_0.xsd).

use super::ParseError;
use std::fmt;

/// A non-negative amount in euro cents, at most 999 999 999.99 €.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Importo(i64);

impl Importo {
    pub const ZERO: Importo = Importo(0);
    pub const MAX_CENTS: i64 = 99_999_999_999;

    pub fn from_cents(cents: i64) -> Result<Self, ParseError> {
        if !(0..=Self::MAX_CENTS).contains(&cents) {
            return Err(ParseError::new(format!(
                "importo fuori intervallo (0 .. 999999999.99): {cents} centesimi"
            )));
        }
        Ok(Importo(cents))
    }

    pub fn cents(self) -> i64 {
        self.0
    }

    pub fn is_zero(self) -> bool {
        self.0 == 0
    }

    pub fn checked_add(self, other: Importo) -> Option<Importo> {
        Importo::from_cents(self.0.checked_add(other.0)?).ok()
    }

    /// Strict wire form: exactly two decimals (`12.50`), as the pagoPA schemas require.
    pub fn parse_wire(s: &str) -> Result<Self, ParseError> {
        match s.split_once('.') {
            Some((_, dec)) if dec.len() == 2 => Self::parse(s),
            _ => Err(ParseError::new(format!(
                "importo '{s}' non nel formato con due decimali (es. 12.50)"
            ))),
        }
    }

    /// Lenient form for files and JSON: `12`, `12.5`, `12.50` (a `.` separator, no thousands
    /// separator, no sign, at most two decimals).
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        let bad = || ParseError::new(format!("importo non valido: '{s}'"));
        let (int, dec) = match s.split_once('.') {
            Some((i, d)) => (i, d),
            None => (s, ""),
        };
        if int.is_empty()
            || int.len() > 9
            || dec.len() > 2
            || (s.contains('.') && dec.is_empty())
            || !int.bytes().all(|b| b.is_ascii_digit())
            || !dec.bytes().all(|b| b.is_ascii_digit())
        {
            return Err(bad());
        }
        let int: i64 = int.parse().map_err(|_| bad())?;
        let dec: i64 = match dec.len() {
            0 => 0,
            1 => dec.parse::<i64>().map_err(|_| bad())? * 10,
            _ => dec.parse().map_err(|_| bad())?,
        };
        Importo::from_cents(int * 100 + dec)
    }
}

impl Importo {
    /// As Italians read it: `1.234,56` (what pages and notices print; the wire format is
    /// the `Display` one, `1234.56`).
    pub fn italiano(self) -> String {
        let (euro, cent) = (self.0 / 100, self.0 % 100);
        let cifre = euro.to_string();
        let mut out = String::new();
        for (i, c) in cifre.chars().enumerate() {
            if i > 0 && (cifre.len() - i) % 3 == 0 {
                out.push('.');
            }
            out.push(c);
        }
        format!("{out},{cent:02}")
    }
}

impl fmt::Display for Importo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{:02}", self.0 / 100, self.0 % 100)
    }
}

impl std::str::FromStr for Importo {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

// JSON carries amounts as strings ("12.50") so no client ever turns them into floats.
impl serde::Serialize for Importo {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Importo {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Importo::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn italian_format_groups_thousands_and_uses_the_comma() {
        let i = |c| Importo::from_cents(c).unwrap().italiano();
        assert_eq!(
            [i(0), i(5), i(6420), i(123_456), i(100_000_000)],
            ["0,00", "0,05", "64,20", "1.234,56", "1.000.000,00"]
        );
    }
    use proptest::prelude::*;

    #[test]
    fn parses_lenient_forms_to_exact_cents() {
        assert_eq!(Importo::parse("12").unwrap().cents(), 1200);
        assert_eq!(Importo::parse("12.5").unwrap().cents(), 1250);
        assert_eq!(Importo::parse("0.07").unwrap().cents(), 7);
        assert_eq!(
            Importo::parse("999999999.99").unwrap().cents(),
            99_999_999_999
        );
    }

    #[test]
    fn refuses_signs_separators_and_overflow() {
        for bad in [
            "",
            "-1",
            "+1",
            "1,50",
            "1.",
            ".5",
            "1.234",
            "1 000",
            "1e3",
            "1000000000.00",
            "NaN",
        ] {
            assert!(Importo::parse(bad).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn wire_form_requires_two_decimals() {
        assert!(Importo::parse_wire("12.5").is_err());
        assert!(Importo::parse_wire("12").is_err());
        assert_eq!(Importo::parse_wire("12.50").unwrap().to_string(), "12.50");
    }

    proptest! {
        #[test]
        fn display_then_parse_is_identity(c in 0i64..=Importo::MAX_CENTS) {
            let i = Importo::from_cents(c).unwrap();
            let s = i.to_string();
            prop_assert!(s.split_once('.').unwrap().1.len() == 2);
            prop_assert_eq!(Importo::parse_wire(&s).unwrap(), i);
        }

        #[test]
        fn parse_never_panics(s in "\\PC{0,20}") {
            let _ = Importo::parse(&s);
        }
    }
}
