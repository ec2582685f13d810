//! A position (dovuto) at a date: whether it can be paid now, and the amount of that day.
//! After the due date the tipo dovuto's policy decides: refuse, or add the late fee and
//! the interest accrued (see `model::scadenza`).

use crate::model::scadenza::{self, Componente, Politica, Verifica};
use crate::model::{Importo, StatoDovuto};
use crate::registry::{Dovuto, PoliticaScadenza, TipoDovuto};
use time::Date;

/// Why a dovuto cannot be paid now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NonPagabile {
    /// Paid already.
    Pagato,
    /// A payment attempt holds it.
    InCorso,
    Annullato,
    /// Past its due date, and its tipo refuses late payment (or an operator expired it).
    Scaduto,
}

/// The amount of the day; `componenti` says what was added after the due date (empty
/// before it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prezzo {
    pub importo: Importo,
    pub componenti: Vec<Componente>,
}

/// Whether `dovuto`'s state lets it be paid. `ripresa`: the caller repeats an activation
/// it already holds, so a payment in progress is not a reason to refuse.
pub fn pagabile(dovuto: &Dovuto, ripresa: bool) -> Result<(), NonPagabile> {
    match dovuto.stato {
        StatoDovuto::Pagato => Err(NonPagabile::Pagato),
        StatoDovuto::PagamentoIniziato if !ripresa => Err(NonPagabile::InCorso),
        StatoDovuto::Annullato => Err(NonPagabile::Annullato),
        StatoDovuto::Scaduto => Err(NonPagabile::Scaduto),
        StatoDovuto::DaPagare | StatoDovuto::NonPagato | StatoDovuto::PagamentoIniziato => Ok(()),
    }
}

/// Prices `dovuto` on `oggi` (an Italian calendar day), after [`pagabile`].
pub fn prezzo(
    dovuto: &Dovuto,
    tipo: &TipoDovuto,
    oggi: Date,
    ripresa: bool,
) -> Result<Prezzo, NonPagabile> {
    pagabile(dovuto, ripresa)?;
    let politica = match tipo.politica_scadenza {
        PoliticaScadenza::Rifiuta => Politica::Rifiuta,
        PoliticaScadenza::Accetta => Politica::Accetta {
            mora_fissa: tipo.mora_fissa,
            interesse_annuo_bp: tipo.interesse_annuo_bp,
        },
    };
    match scadenza::verifica(dovuto.importo, dovuto.data_scadenza, oggi, politica) {
        Verifica::Scaduto => Err(NonPagabile::Scaduto),
        Verifica::Pagabile {
            importo,
            componenti,
        } => Ok(Prezzo {
            importo,
            componenti,
        }),
    }
}
