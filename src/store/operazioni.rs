//! The store's operations on the registry, dovuti, keys, journal, payments, outbox, carts,
//! flows and the reconciliation, each dispatched to the backend's query module.

use super::*;

impl Store {
    pub async fn seed_intermediario(&self, i: &Intermediario) -> StoreResult<()> {
        dispatch!(self, |q, p| q::seed_intermediario(p, i, now()).await)
    }
    pub async fn put_intermediario(&self, i: &Intermediario) -> StoreResult<()> {
        dispatch!(self, |q, p| q::put_intermediario(p, i, now()).await)
    }
    pub async fn get_intermediario(&self) -> StoreResult<Intermediario> {
        dispatch!(self, |q, p| q::get_intermediario(p).await)
    }

    pub async fn insert_ente(&self, e: &EnteInput) -> StoreResult<Ente> {
        dispatch!(self, |q, p| q::insert_ente(p, e, now()).await)?;
        self.get_ente(e.id_dominio.as_str()).await
    }
    pub async fn update_ente(&self, e: &EnteInput) -> StoreResult<Ente> {
        dispatch!(self, |q, p| q::update_ente(p, e, now()).await)?;
        self.get_ente(e.id_dominio.as_str()).await
    }
    pub async fn get_ente(&self, id_dominio: &str) -> StoreResult<Ente> {
        dispatch!(self, |q, p| q::get_ente(p, id_dominio).await)
    }
    pub async fn search_enti(
        &self,
        f: &EntiFilter,
        limit: i64,
        offset: i64,
    ) -> StoreResult<(Vec<Ente>, i64)> {
        dispatch!(self, |q, p| q::search_enti(p, f, limit, offset).await)
    }

    pub async fn create_tipo_dovuto(
        &self,
        ente: &str,
        t: &TipoDovutoInput,
    ) -> StoreResult<TipoDovuto> {
        dispatch!(self, |q, p| q::upsert_tipo_dovuto(p, ente, t, true, now())
            .await)?;
        self.get_tipo_dovuto(ente, &t.codice).await
    }
    pub async fn update_tipo_dovuto(
        &self,
        ente: &str,
        t: &TipoDovutoInput,
    ) -> StoreResult<TipoDovuto> {
        dispatch!(self, |q, p| q::upsert_tipo_dovuto(p, ente, t, false, now())
            .await)?;
        self.get_tipo_dovuto(ente, &t.codice).await
    }
    pub async fn get_tipo_dovuto(&self, ente: &str, codice: &str) -> StoreResult<TipoDovuto> {
        dispatch!(self, |q, p| q::get_tipo_dovuto(p, ente, codice).await)
    }
    pub async fn list_tipi_dovuto(&self, ente: &str) -> StoreResult<Vec<TipoDovuto>> {
        dispatch!(self, |q, p| q::list_tipi_dovuto(p, ente).await)
    }

    pub async fn insert_dovuto(
        &self,
        ente: &Ente,
        d: &DovutoValido,
        motivo: &str,
    ) -> StoreResult<Dovuto> {
        dispatch!(self, |q, p| q::insert_dovuto(p, ente, d, motivo, now())
            .await)
    }
    pub async fn update_dovuto(
        &self,
        old: &Dovuto,
        d: &DovutoValido,
        motivo: &str,
    ) -> StoreResult<Dovuto> {
        dispatch!(self, |q, p| q::update_dovuto(p, old, d, motivo, now())
            .await)
    }
    pub async fn change_stato(
        &self,
        d: &Dovuto,
        to: StatoDovuto,
        motivo: &str,
    ) -> StoreResult<Dovuto> {
        dispatch!(self, |q, p| q::change_stato(p, d, to, motivo, now()).await)
    }
    pub async fn get_dovuto(&self, ente: &str, iud: &str) -> StoreResult<Dovuto> {
        dispatch!(self, |q, p| q::get_dovuto(p, ente, iud).await)
    }
    pub async fn get_dovuto_by_iuv(&self, ente: &str, iuv: &str) -> StoreResult<Option<Dovuto>> {
        if let Some(r) = &self.reader {
            match r.dovuto_by_iuv(ente, iuv) {
                Ok(found) => return found,
                Err(why) => tracing::debug!(?why, "SQLite fast read fell back to sqlx"),
            }
        }
        dispatch!(self, |q, p| q::get_dovuto_by_iuv(p, ente, iuv).await)
    }
    pub async fn storia_dovuto(&self, id: i64) -> StoreResult<Vec<StoricoStato>> {
        dispatch!(self, |q, p| q::storia_dovuto(p, id).await)
    }
    pub async fn search_dovuti(
        &self,
        f: &DovutiFilter,
        limit: i64,
        offset: i64,
    ) -> StoreResult<(Vec<Dovuto>, i64)> {
        dispatch!(self, |q, p| q::search_dovuti(p, f, limit, offset).await)
    }

    pub async fn apply_dovuti_import(
        &self,
        ente: &Ente,
        tipi: &[TipoDovuto],
        file: &FileCsv,
        file_name: Option<&str>,
        sha256: &str,
    ) -> StoreResult<ImportJob> {
        let id = uuid::Uuid::new_v4().to_string();
        dispatch!(self, |q, p| q::apply_dovuti_import(
            p,
            ente,
            tipi,
            file,
            (&id, file_name, sha256),
            now()
        )
        .await)
    }
    pub async fn get_import_job(&self, ente: &str, id: &str) -> StoreResult<ImportJob> {
        dispatch!(self, |q, p| q::get_import_job(p, ente, id).await)
    }

    pub async fn insert_journal(&self, entries: &[JournalEntry]) -> StoreResult<()> {
        dispatch!(self, |q, p| q::insert_journal(p, entries).await)
    }
    pub async fn search_journal(
        &self,
        f: &JournalFilter,
        limit: i64,
        offset: i64,
    ) -> StoreResult<(Vec<JournalSummary>, i64)> {
        dispatch!(self, |q, p| q::search_journal(p, f, limit, offset).await)
    }
    /// Entries with id > `after`, oldest first, bodies included.
    pub async fn journal_after(&self, after: i64, limit: i64) -> StoreResult<Vec<JournalFull>> {
        dispatch!(self, |q, p| q::journal_after(p, after, limit).await)
    }
    /// Deletes entries older than `before`; returns how many.
    pub async fn prune_journal(&self, before: OffsetDateTime) -> StoreResult<u64> {
        let before = ceil_secs(before);
        dispatch!(self, |q, p| q::prune_journal(p, before).await)
    }

    pub async fn insert_rpt(&self, r: &NuovaRpt) -> StoreResult<i64> {
        dispatch!(self, |q, p| q::insert_rpt(p, r, now()).await)
    }
    /// paaAttivaRPT in one transaction: the RPT, the dovuto to PAGAMENTO_INIZIATO, and the
    /// nodoInviaRPT job in the outbox.
    pub async fn attiva(&self, r: &NuovaRpt, psp: &PspAttiva, dovuto: &Dovuto) -> StoreResult<i64> {
        dispatch!(self, |q, p| q::attiva(p, r, psp, dovuto, now()).await)
    }
    /// Enqueues another nodoInviaRPT of an existing RPT (a repeated activation).
    pub async fn enqueue(&self, kind: TipoJob, ref_id: i64) -> StoreResult<i64> {
        dispatch!(self, |q, p| q::enqueue(p, kind, ref_id, now()).await)
    }
    pub async fn outbox_pending(&self, kind: &str) -> StoreResult<Vec<OutboxRow>> {
        dispatch!(self, |q, p| q::outbox_pending(p, kind).await)
    }
    /// The RPT document as created, by key (dominio, IUV); the newest if several CCPs.
    pub async fn rpt_xml(&self, dominio: &str, iuv: &str) -> StoreResult<(Vec<u8>, i64)> {
        dispatch!(self, |q, p| q::rpt_xml(p, dominio, iuv).await)
    }
    /// Activations older than `cutoff` that never got an RT: the RPT becomes SCADUTA and its
    /// dovuto payable again. Returns how many. Safe to run on several instances at once.
    pub async fn expire_activations(&self, cutoff: OffsetDateTime) -> StoreResult<usize> {
        let cutoff = ceil_secs(cutoff);
        dispatch!(self, |q, p| q::expire_activations(p, cutoff, now()).await)
    }
    /// (RTs in quarantine, activations waiting for their RT).
    pub async fn pa_gauges(&self) -> StoreResult<(i64, i64)> {
        dispatch!(self, |q, p| q::pa_gauges(p).await)
    }
    pub async fn get_rpt(
        &self,
        dominio: &str,
        iuv: &str,
        ccp: &str,
    ) -> StoreResult<Option<RptRow>> {
        dispatch!(self, |q, p| q::get_rpt(p, dominio, iuv, ccp).await)
    }
    /// Commits the raw RT before anything else looks at it.
    pub async fn store_rt_raw(
        &self,
        dominio: &str,
        iuv: &str,
        ccp: &str,
        raw: &[u8],
    ) -> StoreResult<RtStored> {
        dispatch!(self, |q, p| q::store_rt_raw(
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
        dispatch!(self, |q, p| q::mark_rt(p, id, stato, esito, nota, now())
            .await)
    }
    /// In one transaction: the RT's state, the RPT's, and the dovuto's (paid, or payable
    /// again after a negative outcome). Re-applying the same RT changes nothing.
    /// `false` when another processing applied this receipt first.
    pub async fn apply_rt(&self, rt_id: i64, rpt: &RptRow, esito: &EsitoRt) -> StoreResult<bool> {
        dispatch!(self, |q, p| q::apply_rt(p, rt_id, rpt, esito, now()).await)
    }
    pub async fn outbox_claim(
        &self,
        owner: &str,
        kinds: Option<&[String]>,
        lease: std::time::Duration,
        limit: i64,
    ) -> StoreResult<Vec<OutboxJob>> {
        let now = now();
        let until = now + lease;
        dispatch!(self, |q, p| q::outbox_claim(
            p, owner, kinds, until, limit, now
        )
        .await)
    }
    pub async fn outbox_done(
        &self,
        id: i64,
        owner: &str,
        result: Option<&str>,
    ) -> StoreResult<bool> {
        dispatch!(self, |q, p| q::outbox_done(p, id, owner, result, now())
            .await)
    }
    /// `retry_in = None`: the job becomes a dead letter.
    pub async fn outbox_failed(
        &self,
        id: i64,
        owner: &str,
        error: &str,
        retry_in: Option<std::time::Duration>,
    ) -> StoreResult<bool> {
        let now = now();
        let next = retry_in.map(|d| now + d);
        dispatch!(self, |q, p| q::outbox_failed(
            p, id, owner, error, next, now
        )
        .await)
    }
    pub async fn outbox_retry(&self, id: i64) -> StoreResult<bool> {
        dispatch!(self, |q, p| q::outbox_retry(p, id, now()).await)
    }
    pub async fn outbox_get(&self, id: i64) -> StoreResult<OutboxJob> {
        dispatch!(self, |q, p| q::outbox_get(p, id).await)
    }
    pub async fn outbox_list(
        &self,
        stato: Option<&str>,
        kind: Option<&str>,
        limit: i64,
        offset: i64,
    ) -> StoreResult<(Vec<OutboxJob>, i64)> {
        dispatch!(self, |q, p| q::outbox_list(p, stato, kind, limit, offset)
            .await)
    }
    pub async fn outbox_stats(
        &self,
    ) -> StoreResult<Vec<(String, String, i64, Option<OffsetDateTime>)>> {
        dispatch!(self, |q, p| q::outbox_stats(p).await)
    }
    pub async fn outbox_enqueue(
        &self,
        kind: &str,
        ref_id: Option<i64>,
        payload: &str,
    ) -> StoreResult<i64> {
        dispatch!(self, |q, p| q::outbox_enqueue(
            p,
            kind,
            ref_id,
            payload,
            now()
        )
        .await)
    }
    /// Returns the id of the send job, already leased to `owner` for `lease`.
    pub async fn create_carrello(
        &self,
        c: &NuovoCarrello,
        owner: &str,
        lease: std::time::Duration,
    ) -> StoreResult<i64> {
        let now = now();
        let until = now + lease;
        dispatch!(self, |q, p| q::create_carrello(p, c, owner, until, now)
            .await)
    }
    pub async fn get_carrello(&self, id: &str) -> StoreResult<(Carrello, Vec<RptDaInviare>)> {
        dispatch!(self, |q, p| q::get_carrello(p, id).await)
    }
    pub async fn esito_carrello(
        &self,
        id: &str,
        url: Option<&str>,
        errore: Option<&str>,
    ) -> StoreResult<bool> {
        dispatch!(self, |q, p| q::esito_carrello(p, id, url, errore, now())
            .await)
    }
    pub async fn carrelli_con_prefisso(&self, prefix: &str) -> StoreResult<i64> {
        dispatch!(self, |q, p| q::carrelli_con_prefisso(p, prefix).await)
    }
    /// Enqueues a recovery check for RPTs sent before `before` and still without RT.
    pub async fn plan_recuperi(&self, before: OffsetDateTime, limit: i64) -> StoreResult<usize> {
        let before = ceil_secs(before);
        dispatch!(self, |q, p| q::plan_recuperi(p, before, limit, now()).await)
    }
    pub async fn rpt_chiusa_ko(&self, rpt_id: i64, motivo: &str) -> StoreResult<bool> {
        dispatch!(self, |q, p| q::rpt_chiusa_ko(p, rpt_id, motivo, now())
            .await)
    }
    pub async fn resend_rpt(&self, rpt_id: i64) -> StoreResult<bool> {
        dispatch!(self, |q, p| q::resend_rpt(p, rpt_id, now()).await)
    }
    pub async fn flusso_presente(&self, dom: &str, id: &str, data_ora: &str) -> StoreResult<bool> {
        dispatch!(self, |q, p| q::flusso_presente(p, dom, id, data_ora).await)
    }
    pub async fn insert_flusso(&self, f: &NuovoFlusso) -> StoreResult<()> {
        dispatch!(self, |q, p| q::insert_flusso(p, f, now()).await)
    }
    pub async fn list_flussi(
        &self,
        dom: Option<&str>,
        stato: Option<&str>,
        limit: i64,
        offset: i64,
    ) -> StoreResult<(Vec<FlussoScaricato>, i64)> {
        dispatch!(self, |q, p| q::list_flussi(p, dom, stato, limit, offset)
            .await)
    }
    /// Enqueues a `kind` job (`flussi`, `pendenti`) for every active ente not asked
    /// since `since`.
    pub async fn plan_per_ente(&self, kind: TipoJob, since: OffsetDateTime) -> StoreResult<u64> {
        let since = ceil_secs(since);
        dispatch!(self, |q, p| q::plan_per_ente(p, kind, since, now()).await)
    }
    pub async fn esiti_carrello(&self, id: &str) -> StoreResult<Vec<EsitoRptCarrello>> {
        dispatch!(self, |q, p| q::esiti_carrello(p, id).await)
    }
    pub async fn rt_per_iuv(&self, dom: &str, iuv: &str) -> StoreResult<Option<(i64, Vec<u8>)>> {
        dispatch!(self, |q, p| q::rt_per_iuv(p, dom, iuv).await)
    }
    pub async fn import_tesoreria(
        &self,
        ente: &str,
        righe: &[crate::recon::giornale::RigaCassa],
        storni: &[(u16, String)],
        fonte: &str,
        job: Option<&mut ImportJob>,
    ) -> StoreResult<(u64, u64)> {
        dispatch!(self, |q, p| q::import_tesoreria(
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
        dispatch!(self, |q, p| q::list_tesoreria(
            p, ente, iuf, iuv, limit, offset
        )
        .await)
    }
    pub async fn rendicontazione_ente(&self, ente: &str) -> StoreResult<Vec<RigaRendicontazione>> {
        dispatch!(self, |q, p| q::rendicontazione_ente(p, ente).await)
    }
    pub async fn rt_ente(&self, ente: &str) -> StoreResult<Vec<(Vec<u8>, Option<String>)>> {
        dispatch!(self, |q, p| q::rt_ente_iud(p, ente).await)
    }
    pub async fn import_notifiche(
        &self,
        ente: &str,
        righe: &[crate::recon::notifiche::Notifica],
        job: Option<&mut ImportJob>,
    ) -> StoreResult<u64> {
        dispatch!(self, |q, p| q::import_notifiche(p, ente, righe, job, now())
            .await)
    }
    /// Reclassifies what the ente's imports touched since the last run (nothing to do is
    /// one read, so views call it before answering).
    pub async fn recon_process(&self, ente: &str) -> StoreResult<usize> {
        if !dispatch!(self, |q, p| q::coda_presente(p, ente).await)? {
            return Ok(0);
        }
        dispatch!(self, |q, p| q::recon_process(p, ente, now()).await)
    }
    pub async fn recon_rebuild(&self, ente: &str) -> StoreResult<usize> {
        dispatch!(self, |q, p| q::recon_rebuild(p, ente, now()).await)
    }
    pub async fn recon_in_attesa(&self) -> StoreResult<Vec<String>> {
        dispatch!(self, |q, p| q::recon_in_attesa(p).await)
    }
    /// `origine` (the file) names the automatic accertamenti its receipts' bilanci make.
    pub async fn import_ricevute(
        &self,
        ente: &str,
        righe: &[NuovaRicevuta],
        origine: &str,
        job: Option<&mut ImportJob>,
    ) -> StoreResult<u64> {
        dispatch!(self, |q, p| q::import_ricevute(
            p,
            ente,
            righe,
            origine,
            job,
            now()
        )
        .await)
    }
}
