//! Applying an RT: read it, check it belongs where it was delivered, let the domain decide
//! what it does (`dominio::ricevuta`), and have the store apply that in one transaction:
//! the one that stores its raw bytes when it is new and readable, else a second one after
//! the raw bytes are committed. Shared by paaInviaRT, paSendRT, the sweep that finishes
//! interrupted processings and the recoveries that fetch copies (from the Nodo, from Biz
//! Events), so a receipt means the same whichever way it came.

use crate::dominio::ricevuta::{self, Formato};
use crate::model::rpt::DocError;
use crate::model::{Importo, StatoRt};
use crate::store::{NuovaRpt, RptRow};
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
    let (rt, formato) = match ricevuta::leggi(raw) {
        Ok(letta) => letta,
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
    let rpt = match formato {
        Formato::Rt => store.pagamenti().get_rpt(dom, iuv, ccp).await?,
        Formato::PaSendRt | Formato::BizEvents => attivazione(store, dom, iuv, ccp).await?,
    };
    let Some(rpt) = rpt else {
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
    let piano = ricevuta::valuta(&rt, importo_rpt);
    if store.pagamenti().apply_rt(id, &rpt, &piano).await? {
        Ok(())
    } else {
        // Applied meanwhile by a concurrent delivery: this one is the duplicate.
        Err(ErroreRt::Duplicata)
    }
}

/// The common case of paaInviaRT and paSendRT in one commit: a receipt never delivered
/// before, readable, for the key it was delivered with and for a known RPT (for paSendRT,
/// the position's newest attempt, as [`elabora`] finds it) is stored raw and applied in
/// one transaction (on SQLite's single writer, one fsync instead of two). `false` when it
/// is anything else, or the transaction failed: nothing was written, and the caller takes
/// the two steps (the raw receipt committed first, then [`elabora`]), which keep the
/// receipt and record why it was not applied.
pub async fn registra_e_applica(
    store: &Store,
    dom: &str,
    iuv: &str,
    ccp: &str,
    raw: &[u8],
) -> bool {
    let Ok((rt, formato)) = ricevuta::leggi(raw) else {
        return false;
    };
    if ricevuta::verifica_chiave(&rt, dom, iuv, ccp).is_err() {
        return false;
    }
    let rpt = match formato {
        Formato::Rt => store.pagamenti().get_rpt(dom, iuv, ccp).await,
        // The attempt paGetPayment made. A receipt without one (collected in stand-in)
        // takes the two steps, which make it.
        Formato::PaSendRt => store.pagamenti().attivazione_nuovo_modello(dom, iuv).await,
        Formato::BizEvents => return false,
    };
    let Ok(Some(rpt)) = rpt else {
        return false;
    };
    let importo_rpt = Importo::from_cents(rpt.importo_cents).unwrap_or(Importo::ZERO);
    let piano = ricevuta::valuta(&rt, importo_rpt);
    match store
        .pagamenti()
        .store_rt_applied(dom, iuv, ccp, raw, &rpt, &piano)
        .await
    {
        Ok(stored) => stored.is_some(),
        Err(e) => {
            tracing::warn!(error = %e, iuv, ccp, "RT in one transaction failed: stored first, then applied");
            false
        }
    }
}

/// The attempt a new-model receipt settles: the position's newest paGetPayment at this
/// ente. Without one (the Nodo collected it in stand-in, from the position as it last knew
/// it, without asking us) the dovuto of that IUV gets its attempt now, keyed by the
/// receiptId, holding nothing: the receipt moves the dovuto as any other would. `None`
/// when the ente has no such position at all.
async fn attivazione(
    store: &Store,
    dom: &str,
    iuv: &str,
    receipt_id: &str,
) -> Result<Option<RptRow>, StoreError> {
    if let Some(r) = store
        .pagamenti()
        .attivazione_nuovo_modello(dom, iuv)
        .await?
    {
        return Ok(Some(r));
    }
    let Some(d) = store.dovuti().get_by_iuv(dom, iuv).await? else {
        return Ok(None);
    };
    let riga = NuovaRpt {
        id_dominio: dom.to_owned(),
        iuv: iuv.to_owned(),
        ccp: receipt_id.to_owned(),
        dovuto_id: Some(d.id),
        importo: d.importo,
        xml: Vec::new(),
    };
    match store
        .pagamenti()
        .attiva_nuovo_modello(&[riga], &[], "ricevuta senza paGetPayment")
        .await
    {
        // A concurrent delivery created it first: the same row either way.
        Ok(()) | Err(StoreError::Conflict(_)) => {}
        Err(e) => return Err(e),
    }
    store.pagamenti().attivazione_nuovo_modello(dom, iuv).await
}

/// What a receipt recovery job names: the ente, the IUV and the IUR (the receiptId).
#[derive(serde::Serialize, serde::Deserialize)]
pub struct ChiaveRicevuta {
    pub id_dominio: String,
    pub iuv: String,
    pub iur: String,
}

/// Enqueues the recovery of the receipt of (`dom`, `iuv`, `iur`) from Biz Events.
pub async fn accoda_recupero(
    store: &Store,
    dom: &str,
    iuv: &str,
    iur: &str,
) -> Result<i64, StoreError> {
    let payload = serde_json::to_string(&ChiaveRicevuta {
        id_dominio: dom.to_owned(),
        iuv: iuv.to_owned(),
        iur: iur.to_owned(),
    })
    .unwrap_or_default();
    store
        .outbox()
        .enqueue_payload(
            crate::model::TipoJob::RecuperoRicevuta.as_str(),
            None,
            &payload,
        )
        .await
}
