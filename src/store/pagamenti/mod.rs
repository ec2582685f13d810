//! The payments repository: RPTs and received RTs (stored raw before anything else), the
//! activation, the application of a receipt as the domain decided, and the recovery of RPTs
//! without RT.

use super::*;

pub(in crate::store) mod sqlite {
    use super::*;
    use crate::store::dovuti::sqlite as dovuti_q;
    use crate::store::outbox::sqlite as outbox_q;
    use crate::store::riconciliazione::sqlite as recon_q;
    use crate::store::sqlite::*;
    include!("queries.rs");
}

pub(in crate::store) mod postgres {
    use super::*;
    use crate::store::dovuti::postgres as dovuti_q;
    use crate::store::outbox::postgres as outbox_q;
    use crate::store::postgres::*;
    use crate::store::riconciliazione::postgres as recon_q;
    include!("queries.rs");
}

/// Payments repository: see the module.
pub struct Pagamenti<'s>(pub(super) &'s Store);

impl Pagamenti<'_> {
    pub async fn insert_rpt(&self, r: &NuovaRpt) -> StoreResult<i64> {
        dispatch!(self.0, |q, p| q::insert_rpt(p, r, now()).await)
    }
    /// paaAttivaRPT in one transaction: the RPT, the dovuto to PAGAMENTO_INIZIATO, and the
    /// nodoInviaRPT job in the outbox.
    pub async fn attiva(&self, r: &NuovaRpt, psp: &PspAttiva, dovuto: &Dovuto) -> StoreResult<i64> {
        dispatch!(self.0, |q, p| q::attiva(p, r, psp, dovuto, now()).await)
    }
    /// paGetPayment: the position's activation rows (one per ente, see the query) and its
    /// dovuti moved to PAGAMENTO_INIZIATO, in one transaction; `Conflict` when another
    /// attempt moved a dovuto first.
    pub async fn attiva_nuovo_modello(
        &self,
        righe: &[NuovaRpt],
        sposta: &[(i64, StatoDovuto)],
        motivo: &str,
    ) -> StoreResult<()> {
        dispatch!(self.0, |q, p| q::attiva_nuovo_modello(
            p,
            righe,
            sposta,
            motivo,
            now()
        )
        .await)
    }
    /// The newest new-model activation of (dominio, IUV), whatever its state.
    pub async fn attivazione_nuovo_modello(
        &self,
        dominio: &str,
        iuv: &str,
    ) -> StoreResult<Option<RptRow>> {
        dispatch!(self.0, |q, p| q::attivazione_nuovo_modello(p, dominio, iuv)
            .await)
    }
    /// The RPT document as created, by key (dominio, IUV); the newest if several CCPs.
    pub async fn rpt_xml(&self, dominio: &str, iuv: &str) -> StoreResult<(Vec<u8>, i64)> {
        dispatch!(self.0, |q, p| q::rpt_xml(p, dominio, iuv).await)
    }
    /// Activations older than `cutoff` that never got an RT: the RPT becomes SCADUTA and its
    /// dovuto payable again. Returns how many. Safe to run on several instances at once.
    pub async fn expire_activations(&self, cutoff: OffsetDateTime) -> StoreResult<usize> {
        let cutoff = ceil_secs(cutoff);
        dispatch!(self.0, |q, p| q::expire_activations(p, cutoff, now()).await)
    }
    /// (RTs in quarantine, activations waiting for their RT).
    pub async fn gauges(&self) -> StoreResult<(i64, i64)> {
        dispatch!(self.0, |q, p| q::pa_gauges(p).await)
    }
    pub async fn get_rpt(
        &self,
        dominio: &str,
        iuv: &str,
        ccp: &str,
    ) -> StoreResult<Option<RptRow>> {
        dispatch!(self.0, |q, p| q::get_rpt(p, dominio, iuv, ccp).await)
    }
    /// Commits the raw RT on its own, before anything else looks at it: the path of an RT
    /// that cannot be applied in the same transaction (see [`Self::store_rt_applied`]).
    pub async fn store_rt_raw(
        &self,
        dominio: &str,
        iuv: &str,
        ccp: &str,
        raw: &[u8],
    ) -> StoreResult<RtStored> {
        dispatch!(self.0, |q, p| q::store_rt_raw(
            p,
            dominio,
            iuv,
            ccp,
            raw,
            now()
        )
        .await)
    }
    pub async fn mark_rt(
        &self,
        id: i64,
        stato: StatoRt,
        esito: Option<(u8, Importo)>,
        nota: Option<&str>,
    ) -> StoreResult<()> {
        dispatch!(self.0, |q, p| q::mark_rt(p, id, stato, esito, nota, now())
            .await)
    }
    /// In one transaction: the RT's state, the RPT's, and the dovuto's (paid, or payable
    /// again after a negative outcome). Re-applying the same RT changes nothing.
    /// `false` when another processing applied this receipt first.
    pub async fn apply_rt(&self, rt_id: i64, rpt: &RptRow, esito: &EsitoRt) -> StoreResult<bool> {
        dispatch!(self.0, |q, p| q::apply_rt(p, rt_id, rpt, esito, now())
            .await)
    }
    /// A receipt never delivered before, stored raw and applied (as [`Self::apply_rt`]) in
    /// one transaction: one commit instead of two on the Nodo's hottest write. `None`
    /// (nothing written) when a receipt with its key is held already.
    pub async fn store_rt_applied(
        &self,
        dominio: &str,
        iuv: &str,
        ccp: &str,
        raw: &[u8],
        rpt: &RptRow,
        esito: &EsitoRt,
    ) -> StoreResult<Option<i64>> {
        dispatch!(self.0, |q, p| q::store_rt_applied(
            p,
            dominio,
            iuv,
            ccp,
            raw,
            rpt,
            esito,
            now()
        )
        .await)
    }
    /// Enqueues a recovery check for RPTs sent before `before` and still without RT.
    pub async fn plan_recuperi(&self, before: OffsetDateTime, limit: i64) -> StoreResult<usize> {
        let before = ceil_secs(before);
        dispatch!(self.0, |q, p| q::plan_recuperi(p, before, limit, now())
            .await)
    }
    pub async fn rpt_chiusa_ko(&self, rpt_id: i64, motivo: &str) -> StoreResult<bool> {
        dispatch!(self.0, |q, p| q::rpt_chiusa_ko(p, rpt_id, motivo, now())
            .await)
    }
    pub async fn resend_rpt(&self, rpt_id: i64) -> StoreResult<bool> {
        dispatch!(self.0, |q, p| q::resend_rpt(p, rpt_id, now()).await)
    }
    /// Whether a receipt of (IUV, IUR) is held (see the query).
    pub async fn ricevuta_nota(&self, dom: &str, iuv: &str, iur: &str) -> StoreResult<bool> {
        dispatch!(self.0, |q, p| q::ricevuta_nota(p, dom, iuv, iur).await)
    }
    pub async fn rt_per_iuv(&self, dom: &str, iuv: &str) -> StoreResult<Option<(i64, Vec<u8>)>> {
        match dispatch!(self.0, |q, p| q::rt_per_iuv(p, dom, iuv).await)? {
            Some((_, raw)) if raw.is_empty() => Err(StoreError::Eliminato),
            other => Ok(other),
        }
    }
    /// The RT exactly as received; [`StoreError::Eliminato`] once the retention removed it.
    pub async fn rt_raw(&self, id: i64) -> StoreResult<(RtRicevuta, Vec<u8>)> {
        let (rt, raw) = self.get_rt(id).await?;
        if raw.is_empty() {
            return Err(StoreError::Eliminato);
        }
        Ok((rt, raw))
    }
    /// Empties the raw bytes of receipts received before `before` and done with (applied or
    /// refused; never one still to process or in quarantine), at most `batch`: their parsed
    /// facts stay. Returns how many.
    pub async fn prune_rt_raw(&self, before: OffsetDateTime, batch: i64) -> StoreResult<u64> {
        let before = ceil_secs(before);
        dispatch!(self.0, |q, p| q::prune_rt_raw(p, before, batch).await)
    }
    pub async fn rt_ente(&self, ente: &str) -> StoreResult<Vec<(Vec<u8>, Option<String>)>> {
        dispatch!(self.0, |q, p| q::rt_ente_iud(p, ente).await)
    }
    pub async fn rt_email_data(&self, rt_id: i64) -> StoreResult<RtEmailData> {
        dispatch!(self.0, |q, p| q::rt_email_data(p, rt_id).await)
    }
    pub async fn rpt_da_inviare(&self, id: i64) -> StoreResult<RptDaInviare> {
        dispatch!(self.0, |q, p| q::rpt_da_inviare(p, id).await)
    }
    pub async fn rpt_stato(&self, id: i64, to: StatoRpt) -> StoreResult<bool> {
        dispatch!(self.0, |q, p| q::rpt_stato(p, id, to, now()).await)
    }
    pub async fn rt_da_elaborare(
        &self,
        before: OffsetDateTime,
        limit: i64,
    ) -> StoreResult<Vec<RtGrezza>> {
        let before = ceil_secs(before);
        dispatch!(self.0, |q, p| q::rt_da_elaborare(p, before, limit).await)
    }
    pub async fn list_rt(
        &self,
        id_dominio: Option<&str>,
        stato: Option<&str>,
        limit: i64,
        offset: i64,
    ) -> StoreResult<(Vec<RtRicevuta>, i64)> {
        dispatch!(self.0, |q, p| q::list_rt(
            p, id_dominio, stato, limit, offset
        )
        .await)
    }
    pub async fn get_rt(&self, id: i64) -> StoreResult<(RtRicevuta, Vec<u8>)> {
        dispatch!(self.0, |q, p| q::get_rt(p, id).await)
    }
}
