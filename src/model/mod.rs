//! Domain types of pagoPA and MyPay/MyPivot. Pure: no I/O, so they can be fuzzed and
//! property-tested. Every type parses its wire form once ("parse, don't validate").

pub mod bilancio;
pub mod causale;
pub mod codice_fiscale;
pub mod dovuto;
pub mod flusso;
pub mod iban;
pub mod importo;
pub mod iuv;
pub mod operatore;
pub mod ricevuta_biz;
pub mod rpt;
pub mod scadenza;
pub mod stati;

pub use bilancio::{Bilancio, VoceBilancio};
pub use codice_fiscale::{CodiceFiscale, IdDominio};
pub use dovuto::{DatiSpecificiRiscossione, StatoDovuto, TipoVersamento};
pub use iban::Iban;
pub use importo::Importo;
pub use iuv::{Iuv, NumeroAvviso, RfReference, SegregationCode};
pub use stati::{
    EsitoCarrello, EsitoPagamento, OrigineRpt, StatoCarrello, StatoFlusso, StatoJob, StatoRpt,
    StatoRt, TipoJob,
};

// `YYYY-MM-DD` for serde (`#[serde(with = "iso_date")]` and `iso_date::option`).
time::serde::format_description!(pub iso_date, Date, "[year]-[month]-[day]");

/// Why a value was refused. The message is meant for an operator reading a reject report.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ParseError(pub String);

impl ParseError {
    pub(crate) fn new(msg: impl Into<String>) -> Self {
        Self(msg.into())
    }
}

/// Implements `Display`, `AsRef<str>`, `FromStr` and string serde for a newtype over `String`
/// whose constructor is `parse(&str) -> Result<Self, ParseError>`.
macro_rules! string_newtype {
    ($t:ty) => {
        impl $t {
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }
        impl std::fmt::Display for $t {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }
        impl AsRef<str> for $t {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
        impl std::str::FromStr for $t {
            type Err = $crate::model::ParseError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::parse(s)
            }
        }
        impl serde::Serialize for $t {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(&self.0)
            }
        }
        impl<'de> serde::Deserialize<'de> for $t {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
                Self::parse(&s).map_err(serde::de::Error::custom)
            }
        }
    };
}
pub(crate) use string_newtype;
