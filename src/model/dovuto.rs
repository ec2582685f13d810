//! Rules of a dovuto (debt position): its state machine, tipoVersamento list and
//! datiSpecificiRiscossione.

use super::{ParseError, string_newtype};

/// Life cycle of a dovuto. Payable states are `DaPagare` and `NonPagato` (the last attempt
/// failed); `Pagato` and `Annullato` are final.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum StatoDovuto {
    DaPagare,
    PagamentoIniziato,
    Pagato,
    NonPagato,
    Annullato,
    Scaduto,
}

impl StatoDovuto {
    pub const ALL: [StatoDovuto; 6] = [
        Self::DaPagare,
        Self::PagamentoIniziato,
        Self::Pagato,
        Self::NonPagato,
        Self::Annullato,
        Self::Scaduto,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::DaPagare => "DA_PAGARE",
            Self::PagamentoIniziato => "PAGAMENTO_INIZIATO",
            Self::Pagato => "PAGATO",
            Self::NonPagato => "NON_PAGATO",
            Self::Annullato => "ANNULLATO",
            Self::Scaduto => "SCADUTO",
        }
    }

    pub fn parse(s: &str) -> Result<Self, ParseError> {
        Self::ALL
            .into_iter()
            .find(|st| st.as_str() == s)
            .ok_or_else(|| ParseError::new(format!("stato dovuto sconosciuto: '{s}'")))
    }

    pub fn is_payable(self) -> bool {
        matches!(self, Self::DaPagare | Self::NonPagato)
    }

    /// The operator may still change or cancel the position: nobody is paying it and it was
    /// never paid.
    pub fn is_modifiable(self) -> bool {
        matches!(self, Self::DaPagare | Self::NonPagato | Self::Scaduto)
    }

    pub fn can_become(self, to: StatoDovuto) -> bool {
        use StatoDovuto::*;
        match (self, to) {
            (DaPagare | NonPagato, PagamentoIniziato | Annullato | Scaduto) => true,
            // An RT settles the attempt; an activation that expires makes it payable again.
            (PagamentoIniziato, Pagato | NonPagato | DaPagare) => true,
            // A late RT for an attempt we already gave up on still attests a payment.
            (DaPagare | NonPagato | Scaduto, Pagato) => true,
            // An operator may revive an expired position by changing it.
            (Scaduto, DaPagare | Annullato) => true,
            _ => false,
        }
    }
}

impl std::fmt::Display for StatoDovuto {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The payment methods a dovuto may be paid with: `ALL` or a subset of the pagoPA kinds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TipoVersamento(String);
string_newtype!(TipoVersamento);

const TIPI_VERSAMENTO: [&str; 6] = ["BBT", "BP", "AD", "CP", "PO", "OBEP"];

impl TipoVersamento {
    pub fn all() -> Self {
        TipoVersamento("ALL".into())
    }

    /// `|`-separated list; empty means `ALL`; `ALL` must stand alone.
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        let s = s.trim();
        if s.is_empty() || s == "ALL" {
            return Ok(Self::all());
        }
        let mut seen = Vec::new();
        for part in s.split('|') {
            if !TIPI_VERSAMENTO.contains(&part) {
                return Err(ParseError::new(format!(
                    "tipoVersamento '{part}' non ammesso (BBT, BP, AD, CP, PO, OBEP o ALL da solo)"
                )));
            }
            if !seen.contains(&part) {
                seen.push(part);
            }
        }
        Ok(TipoVersamento(seen.join("|")))
    }
}

/// datiSpecificiRiscossione: `<tipo contabilità 0|1|2|9>/<codice contabilità 3..138>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatiSpecificiRiscossione(String);
string_newtype!(DatiSpecificiRiscossione);

impl DatiSpecificiRiscossione {
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        let ok = s.len() <= 140
            && matches!(s.as_bytes().first(), Some(b'0' | b'1' | b'2' | b'9'))
            && s.as_bytes().get(1) == Some(&b'/')
            && (3..=138).contains(&s[2..].len())
            && !s[2..].chars().any(char::is_whitespace);
        if !ok {
            return Err(ParseError::new(format!(
                "datiSpecificiRiscossione '{s}' non valido (es. 9/0101105IM/)"
            )));
        }
        Ok(DatiSpecificiRiscossione(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_machine_allows_only_documented_moves() {
        use StatoDovuto::*;
        assert!(DaPagare.can_become(PagamentoIniziato));
        assert!(PagamentoIniziato.can_become(Pagato));
        assert!(!Pagato.can_become(DaPagare));
        assert!(!Annullato.can_become(PagamentoIniziato));
        assert!(!PagamentoIniziato.can_become(Annullato));
        for s in StatoDovuto::ALL {
            assert_eq!(StatoDovuto::parse(s.as_str()).unwrap(), s);
            assert!(!s.can_become(s), "{s} to itself");
        }
    }

    #[test]
    fn tipo_versamento_rules() {
        assert_eq!(TipoVersamento::parse("").unwrap().as_str(), "ALL");
        assert_eq!(
            TipoVersamento::parse("BBT|PO|BBT").unwrap().as_str(),
            "BBT|PO"
        );
        assert!(TipoVersamento::parse("ALL|BBT").is_err());
        assert!(TipoVersamento::parse("XYZ").is_err());
    }

    #[test]
    fn dati_specifici_riscossione_pattern() {
        assert!(DatiSpecificiRiscossione::parse("9/0101105IM/").is_ok());
        assert!(DatiSpecificiRiscossione::parse("3/0101105IM/").is_err());
        assert!(DatiSpecificiRiscossione::parse("9/ab").is_err());
        assert!(DatiSpecificiRiscossione::parse("9/a b c").is_err());
    }
}
