//! The reconciliation repository (MyPivot): reporting flows, the treasury journal,
//! notifications and staged receipts, the classification of what they touched, and its views.

use super::*;

/// Passes per ente per round of the background worker.
pub const PASSATE_PER_GIRO: usize = 1_000;

/// The columns of a reconciled line as the bulk writers give them, in this order (SQLite's
/// many-row INSERT and in-place rewrite, PostgreSQL's COPY).
pub(in crate::store) const COLONNE_SCRITTE: [&str; 30] = [
    "id_dominio",
    "chiave",
    "codici",
    "iud",
    "iuv",
    "iur",
    "indice",
    "iuf",
    "iuf_key",
    "tipo_dovuto",
    "cf_pagatore",
    "attestante",
    "tesoreria_id",
    "anno_bolletta",
    "codice_bolletta",
    "ordinante",
    "conto",
    "importo_notificato_cents",
    "importo_pagato_cents",
    "totale_pagato_cents",
    "importo_rendicontato_cents",
    "totale_flusso_cents",
    "importo_tesoreria_cents",
    "data_esecuzione",
    "data_esito",
    "data_regolamento",
    "data_contabile",
    "data_valuta",
    "aggiornato_at",
    "firma",
];

/// What one pass over the queue did.
pub struct Passata {
    /// Queue entries taken (fewer than the limit: the queue was empty after it).
    pub chiavi: usize,
    /// Rows the recomputed owners have (changed or not).
    pub righe: usize,
}

pub(in crate::store) mod sqlite {
    use super::*;
    use crate::store::contabilita::sqlite as contab_q;
    use crate::store::importazioni::sqlite as import_q;
    use crate::store::sqlite::*;
    include!("queries.rs");
    include!("flussi.rs");
    include!("viste.rs");
    include!("sqlite.rs");
}

pub(in crate::store) mod postgres {
    use super::*;
    use crate::store::contabilita::postgres as contab_q;
    use crate::store::importazioni::postgres as import_q;
    use crate::store::postgres::*;
    include!("queries.rs");
    include!("flussi.rs");
    include!("viste.rs");
    include!("postgres.rs");
}

/// Reconciliation repository (mypivot): see the module.
pub struct Riconciliazione<'s>(pub(super) &'s Store);

impl Riconciliazione<'_> {
    /// (keys waiting for the reconciliation, when the oldest was queued, when the newest
    /// reporting flow was stored).
    pub async fn gauges(
        &self,
    ) -> StoreResult<(i64, Option<OffsetDateTime>, Option<OffsetDateTime>)> {
        dispatch!(self.0, |q, p| q::recon_gauges(p).await)
    }
    /// Empties the raw bytes of up to `batch` flows stored before `before` (their payments
    /// stay); returns how many.
    pub async fn prune_flussi_raw(&self, before: OffsetDateTime, batch: i64) -> StoreResult<u64> {
        let before = ceil_secs(before);
        dispatch!(self.0, |q, p| q::prune_flussi_raw(p, before, batch).await)
    }
    pub async fn flusso_presente(&self, dom: &str, id: &str, data_ora: &str) -> StoreResult<bool> {
        dispatch!(self.0, |q, p| q::flusso_presente(p, dom, id, data_ora)
            .await)
    }
    pub async fn insert_flusso(&self, f: &NuovoFlusso) -> StoreResult<()> {
        dispatch!(self.0, |q, p| q::insert_flusso(p, f, now()).await)
    }
    pub async fn list_flussi(
        &self,
        dom: Option<&str>,
        stato: Option<&str>,
        limit: i64,
        offset: i64,
    ) -> StoreResult<(Vec<FlussoScaricato>, i64)> {
        dispatch!(self.0, |q, p| q::list_flussi(p, dom, stato, limit, offset)
            .await)
    }
    pub async fn import_tesoreria(
        &self,
        ente: &str,
        righe: &[crate::recon::giornale::RigaCassa],
        storni: &[(u16, String)],
        fonte: &str,
        job: Option<&mut ImportJob>,
    ) -> StoreResult<(u64, u64)> {
        dispatch!(self.0, |q, p| q::import_tesoreria(
            p,
            ente,
            righe,
            storni,
            fonte,
            job,
            now()
        )
        .await)
    }
    pub async fn list_tesoreria(
        &self,
        ente: &str,
        iuf: Option<&str>,
        iuv: Option<&str>,
        limit: i64,
        offset: i64,
    ) -> StoreResult<(Vec<RigaTesoreria>, i64)> {
        dispatch!(self.0, |q, p| q::list_tesoreria(
            p, ente, iuf, iuv, limit, offset
        )
        .await)
    }
    pub async fn rendicontazione_ente(&self, ente: &str) -> StoreResult<Vec<RigaRendicontazione>> {
        dispatch!(self.0, |q, p| q::rendicontazione_ente(p, ente).await)
    }
    pub async fn import_notifiche(
        &self,
        ente: &str,
        righe: &[crate::recon::notifiche::Notifica],
        job: Option<&mut ImportJob>,
    ) -> StoreResult<u64> {
        dispatch!(self.0, |q, p| q::import_notifiche(
            p,
            ente,
            righe,
            job,
            now()
        )
        .await)
    }
    /// Reclassifies what the ente's imports touched since the last run (nothing to do is
    /// one read, so views call it before answering), in one transaction.
    pub async fn process(&self, ente: &str) -> StoreResult<usize> {
        if !dispatch!(self.0, |q, p| q::coda_presente(p, ente).await)? {
            return Ok(0);
        }
        let passata = dispatch!(self.0, |q, p| q::recon_process(p, ente, now(), 200_000)
            .await)?;
        Ok(passata.righe)
    }
    /// Queue keys per background pass on this backend (see `PASSATA_DI_FONDO` in each
    /// backend's module).
    pub fn passata_di_fondo(&self) -> usize {
        dispatch!(self.0, |q, _p| q::PASSATA_DI_FONDO as usize)
    }
    /// Reclassifies the ente's queue in passes of [`Riconciliazione::passata_di_fondo`]
    /// keys, each its own transaction: the background worker's way, so that a receipt
    /// arriving meanwhile waits (on SQLite, for the single writer) one pass, not the whole
    /// queue. At most [`PASSATE_PER_GIRO`] passes, so that one busy ente cannot hold the
    /// worker; the next round goes on. Returns the keys taken.
    pub async fn process_a_passate(&self, ente: &str) -> StoreResult<usize> {
        self.process_a_passate_di(ente, self.passata_di_fondo())
            .await
    }
    /// [`Riconciliazione::process_a_passate`] in passes of `per_passata` keys (at least one).
    pub async fn process_a_passate_di(&self, ente: &str, per_passata: usize) -> StoreResult<usize> {
        let per_passata = per_passata.max(1);
        let mut chiavi = 0;
        for _ in 0..PASSATE_PER_GIRO {
            let passata = dispatch!(self.0, |q, p| q::recon_process(
                p,
                ente,
                now(),
                per_passata as i64
            )
            .await)?;
            chiavi += passata.chiavi;
            if passata.chiavi < per_passata {
                break;
            }
        }
        Ok(chiavi)
    }
    pub async fn rebuild(&self, ente: &str) -> StoreResult<usize> {
        dispatch!(self.0, |q, p| q::recon_rebuild(p, ente, now()).await)
    }
    pub async fn in_attesa(&self) -> StoreResult<Vec<String>> {
        dispatch!(self.0, |q, p| q::recon_in_attesa(p).await)
    }
    /// Receipts arriving in parts, applied in one transaction as they come (see
    /// [`PezzoRicevute`]); the report, closed. `origine` (the file) names the automatic
    /// accertamenti its receipts' bilanci make.
    pub async fn import_ricevute_a_pezzi(
        &self,
        ente: &str,
        pezzi: &mut tokio::sync::mpsc::Receiver<PezzoRicevute>,
        origine: &str,
    ) -> StoreResult<ImportJob> {
        dispatch!(self.0, |q, p| q::import_ricevute_a_pezzi(
            p,
            ente,
            &mut *pezzi,
            origine,
            now()
        )
        .await)
    }
    pub async fn search(
        &self,
        ente: &str,
        f: &FiltroRiconciliazione,
        limit: i64,
        offset: i64,
    ) -> StoreResult<PaginaRiconciliazione> {
        dispatch!(self.0, |q, p| q::search_riconciliazione(
            p, ente, f, limit, offset
        )
        .await)
    }
    pub async fn pagina(
        &self,
        ente: &str,
        f: &FiltroRiconciliazione,
        dopo: i64,
        limit: i64,
    ) -> StoreResult<Vec<RigaRiconciliazione>> {
        dispatch!(self.0, |q, p| q::pagina_riconciliazione(
            p, ente, f, dopo, limit
        )
        .await)
    }
    pub async fn conteggi(&self, ente: &str) -> StoreResult<Vec<(u64, i64)>> {
        dispatch!(self.0, |q, p| q::conteggi_riconciliazione(p, ente).await)
    }
    pub async fn insert_segnalazione(
        &self,
        ente: &str,
        s: &NuovaSegnalazione,
        utente: &str,
    ) -> StoreResult<Segnalazione> {
        dispatch!(self.0, |q, p| q::insert_segnalazione(
            p,
            ente,
            s,
            utente,
            now()
        )
        .await)
    }
    pub async fn storico_segnalazioni(
        &self,
        ente: &str,
        codice: Option<&str>,
        solo_attive: bool,
        limit: i64,
        offset: i64,
    ) -> StoreResult<(Vec<Segnalazione>, i64)> {
        dispatch!(self.0, |q, p| q::storico_segnalazioni(
            p,
            ente,
            codice,
            solo_attive,
            limit,
            offset
        )
        .await)
    }
    pub async fn search_ricevute(
        &self,
        ente: &str,
        f: &FiltroRicevute,
        limit: i64,
        offset: i64,
    ) -> StoreResult<(Vec<RicevutaStaged>, i64)> {
        dispatch!(self.0, |q, p| q::search_ricevute(p, ente, f, limit, offset)
            .await)
    }
    #[allow(clippy::too_many_arguments)]
    pub async fn search_flussi_rendicontati(
        &self,
        ente: &str,
        iuf: Option<&str>,
        id_regolamento: Option<&str>,
        da: Option<Date>,
        a: Option<Date>,
        limit: i64,
        offset: i64,
    ) -> StoreResult<(Vec<FlussoRendicontato>, i64)> {
        dispatch!(self.0, |q, p| q::search_flussi_rendicontati(
            p,
            ente,
            iuf,
            id_regolamento,
            da,
            a,
            limit,
            offset
        )
        .await)
    }
    pub async fn pagamenti_flusso(
        &self,
        ente: &str,
        iuf: &str,
    ) -> StoreResult<Vec<PagamentoRendicontato>> {
        dispatch!(self.0, |q, p| q::pagamenti_flusso(p, ente, iuf).await)
    }
    pub async fn notifiche_ente(&self, ente: &str) -> StoreResult<Vec<(String, i64)>> {
        dispatch!(self.0, |q, p| q::notifiche_ente(p, ente).await)
    }
}
