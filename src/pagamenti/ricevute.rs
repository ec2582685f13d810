//! Applying an RT whose raw bytes are already stored: read it, check it belongs where it
//! was delivered, let the domain decide what it does (`dominio::ricevuta`), and have the
//! store apply that in one transaction. Shared by paaInviaRT, the sweep that finishes
//! interrupted processings and the recovery that fetches copies from the Nodo, so a
//! receipt means the same whichever way it came.

use crate::dominio::ricevuta;
use crate::model::rpt::{DocError, Rt};
use crate::model::{Importo, StatoRt};
use crate::store::{Store, StoreError};

/// Why an RT was not applied. Each adapter says it its own way (a SOAP fault for the Nodo,
/// a job outcome for the recovery).
#[derive(Debug, thiserror::Error)]
pub enum ErroreRt {
    /// Unreadable: stored as INVALIDA.
    #[error("RT illeggibile: {0}")]
    Illeggibile(DocError),
    /// For another dominio, IUV or CCP than delivered with: stored as INVALIDA.
    #[error("{0}")]
    ChiaveErrata(String),
    /// No RPT with its key: stored in QUARANTENA until one is known.
    #[error("nessuna RPT con questa chiave")]
    RptSconosciuta,
    /// Applied already (by an earlier or a concurrent delivery).
    #[error("RT già elaborata")]
    Duplicata,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Reads and applies the receipt stored as row `id`, keyed by (`dom`, `iuv`, `ccp`) as it
/// was delivered.
pub async fn elabora(
    store: &Store,
    id: i64,
    dom: &str,
    iuv: &str,
    ccp: &str,
    raw: &[u8],
) -> Result<(), ErroreRt> {
    let rt = match Rt::parse(raw) {
        Ok(rt) => rt,
        Err(e) => {
            store
                .pagamenti()
                .mark_rt(id, StatoRt::Invalida, None, Some(&e.to_string()))
                .await?;
            return Err(ErroreRt::Illeggibile(e));
        }
    };
    let d = &rt.dati_pagamento;
    let esito = (d.codice_esito, d.importo_totale_pagato);
    if let Err(ricevuta::ChiaveErrata(why)) = ricevuta::verifica_chiave(&rt, dom, iuv, ccp) {
        store
            .pagamenti()
            .mark_rt(id, StatoRt::Invalida, Some(esito), Some(&why))
            .await?;
        return Err(ErroreRt::ChiaveErrata(why));
    }
    let Some(rpt) = store.pagamenti().get_rpt(dom, iuv, ccp).await? else {
        store
            .pagamenti()
            .mark_rt(
                id,
                StatoRt::Quarantena,
                Some(esito),
                Some("nessuna RPT con questa chiave"),
            )
            .await?;
        return Err(ErroreRt::RptSconosciuta);
    };
    let importo_rpt = Importo::from_cents(rpt.importo_cents).unwrap_or(Importo::ZERO);
    let piano = ricevuta::valuta(&rt, importo_rpt, id);
    if store.pagamenti().apply_rt(id, &rpt, &piano).await? {
        Ok(())
    } else {
        // Applied meanwhile by a concurrent delivery: this one is the duplicate.
        Err(ErroreRt::Duplicata)
    }
}
