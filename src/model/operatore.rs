//! Who works on the MyPivot console: an operator's roles (MyPivot's `ROLE_ADMIN`,
//! `ROLE_VISUAL`, `ROLE_ACC`, `ROLE_STATS`, plus the intermediary's own administrator) and
//! the username that names them in every history.

use super::ParseError;
use std::fmt;

/// A role, as the operator's record stores it (`amministrazione,visualizzazione`) and as
/// pages and API routes require it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Ruolo {
    /// The ente's administrator: its configuration and the Flussi menu (imports, exports).
    Amministrazione,
    /// The Visualizzazione menu: reconciliation views, notes and hidden lines.
    Visualizzazione,
    /// Accertamenti and the chart of capitoli.
    Accertamenti,
    /// Statistiche.
    Statistiche,
    /// The intermediary's administrator: every ente, every role, the operations page.
    Intermediario,
}

impl Ruolo {
    pub const TUTTI: [Ruolo; 5] = [
        Ruolo::Amministrazione,
        Ruolo::Visualizzazione,
        Ruolo::Accertamenti,
        Ruolo::Statistiche,
        Ruolo::Intermediario,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Ruolo::Amministrazione => "amministrazione",
            Ruolo::Visualizzazione => "visualizzazione",
            Ruolo::Accertamenti => "accertamenti",
            Ruolo::Statistiche => "statistiche",
            Ruolo::Intermediario => "intermediario",
        }
    }

    /// What the console shows.
    pub fn etichetta(self) -> &'static str {
        match self {
            Ruolo::Amministrazione => "Amministrazione",
            Ruolo::Visualizzazione => "Visualizzazione",
            Ruolo::Accertamenti => "Accertamento",
            Ruolo::Statistiche => "Statistiche",
            Ruolo::Intermediario => "Amministratore dell'intermediario",
        }
    }

    fn bit(self) -> u8 {
        1 << (self as u8)
    }
}

impl std::str::FromStr for Ruolo {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Self, ParseError> {
        Ruolo::TUTTI
            .into_iter()
            .find(|r| r.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| {
                ParseError::new(format!(
                    "ruolo '{s}' sconosciuto (amministrazione, visualizzazione, accertamenti, statistiche, intermediario)"
                ))
            })
    }
}

/// A set of roles.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Ruoli(u8);

impl Ruoli {
    pub fn con(mut self, r: Ruolo) -> Self {
        self.0 |= r.bit();
        self
    }

    /// The intermediary's administrator holds every role.
    pub fn ha(self, r: Ruolo) -> bool {
        self.0 & (r.bit() | Ruolo::Intermediario.bit()) != 0
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    pub fn elenco(self) -> impl Iterator<Item = Ruolo> {
        Ruolo::TUTTI
            .into_iter()
            .filter(move |r| self.0 & r.bit() != 0)
    }
}

impl fmt::Display for Ruoli {
    /// The stored form: names joined by commas.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let v: Vec<_> = self.elenco().map(Ruolo::as_str).collect();
        f.write_str(&v.join(","))
    }
}

impl std::str::FromStr for Ruoli {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Self, ParseError> {
        s.split(',')
            .filter(|p| !p.trim().is_empty())
            .try_fold(Ruoli::default(), |acc, p| Ok(acc.con(p.parse()?)))
    }
}

/// A username: 3 to 64 of `a-z 0-9 . _ -`, lower case (it names the operator in histories
/// and audit lines, so nothing that could pass for something else).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Username(String);

impl Username {
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        let ok = (3..=64).contains(&s.len())
            && s.bytes().all(|b| {
                b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'_' | b'-')
            });
        if ok {
            Ok(Username(s.to_owned()))
        } else {
            Err(ParseError::new(
                "username: da 3 a 64 caratteri tra a-z, 0-9, '.', '_' e '-'",
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Username {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_round_trip_and_the_intermediary_holds_all() {
        let r: Ruoli = "visualizzazione, statistiche".parse().unwrap();
        assert!(r.ha(Ruolo::Statistiche) && r.ha(Ruolo::Visualizzazione));
        assert!(!r.ha(Ruolo::Accertamenti) && !r.ha(Ruolo::Intermediario));
        assert_eq!(r.to_string(), "visualizzazione,statistiche");
        assert_eq!(r.to_string().parse::<Ruoli>().unwrap(), r);
        let i: Ruoli = "intermediario".parse().unwrap();
        assert!(Ruolo::TUTTI.iter().all(|x| i.ha(*x)));
        assert!("visualizzazione,capo".parse::<Ruoli>().is_err());
        assert!("".parse::<Ruoli>().unwrap().is_empty());
    }

    #[test]
    fn usernames_are_plain() {
        assert!(Username::parse("mario.rossi").is_ok());
        for bad in [
            "ab",
            "Mario",
            "mario rossi",
            "m@x",
            "a\u{0}b",
            &"x".repeat(65),
        ] {
            assert!(Username::parse(bad).is_err(), "{bad:?}");
        }
    }
}
