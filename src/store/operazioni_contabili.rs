//! The store's accounting operations (chart, accertamenti, statistics), dispatched to the
//! backend's query module.

use super::*;

impl Store {
    // ---- accounting: chart, accertamenti, statistics ----

    /// Refreshes the aggregates of the ente's stale days (nothing stale is one read).
    pub async fn stat_refresh(&self, ente: &str) -> StoreResult<usize> {
        if !dispatch!(self, |q, p| q::stat_sporca_presente(p, ente).await)? {
            return Ok(0);
        }
        dispatch!(self, |q, p| q::stat_refresh(p, ente).await)
    }
    pub async fn stat_in_attesa(&self) -> StoreResult<Vec<String>> {
        dispatch!(self, |q, p| q::stat_in_attesa(p).await)
    }
    pub async fn statistiche(
        &self,
        ente: &str,
        r: &RichiestaStatistica,
    ) -> StoreResult<Vec<Aggregato>> {
        dispatch!(self, |q, p| q::statistiche(p, ente, r).await)
    }
    pub async fn righe_statistica(
        &self,
        ente: &str,
        misura: crate::recon::statistiche::Misura,
        r: &RichiestaStatistica,
        limit: i64,
        offset: i64,
    ) -> StoreResult<(Vec<RigaStatistica>, i64)> {
        dispatch!(self, |q, p| q::righe_statistica(
            p, ente, misura, r, limit, offset
        )
        .await)
    }
    pub async fn list_capitoli(
        &self,
        ente: &str,
        f: &FiltroCapitoli,
        limit: i64,
        offset: i64,
    ) -> StoreResult<(Vec<Capitolo>, i64)> {
        dispatch!(self, |q, p| q::list_capitoli(p, ente, f, limit, offset)
            .await)
    }
    pub async fn get_capitolo(&self, ente: &str, id: i64) -> StoreResult<Capitolo> {
        dispatch!(self, |q, p| q::get_capitolo(p, ente, id).await)
    }
    pub async fn create_capitolo(
        &self,
        ente: &str,
        r: &crate::recon::accertamenti::RigaCapitolo,
    ) -> StoreResult<i64> {
        dispatch!(self, |q, p| q::create_capitolo(p, ente, r, now()).await)
    }
    pub async fn update_capitolo(
        &self,
        ente: &str,
        id: i64,
        m: &ModificaCapitolo,
    ) -> StoreResult<()> {
        dispatch!(self, |q, p| q::update_capitolo(p, ente, id, m, now()).await)
    }
    pub async fn delete_capitolo(&self, ente: &str, id: i64) -> StoreResult<()> {
        dispatch!(self, |q, p| q::delete_capitolo(p, ente, id).await)
    }
    pub async fn import_capitoli(
        &self,
        ente: &str,
        file: &crate::recon::accertamenti::FileCapitoli,
        job: ImportJob,
    ) -> StoreResult<ImportJob> {
        dispatch!(self, |q, p| q::import_capitoli(p, ente, file, job, now())
            .await)
    }
    pub async fn create_accertamento(
        &self,
        ente: &str,
        nome: &str,
        tipo: &str,
        utente: &str,
    ) -> StoreResult<i64> {
        dispatch!(self, |q, p| q::create_accertamento(
            p,
            ente,
            nome,
            tipo,
            utente,
            now()
        )
        .await)
    }
    pub async fn list_accertamenti(
        &self,
        ente: &str,
        stato: Option<&str>,
        tipo: Option<&str>,
        nome: Option<&str>,
        limit: i64,
        offset: i64,
    ) -> StoreResult<(Vec<Accertamento>, i64)> {
        dispatch!(self, |q, p| q::list_accertamenti(
            p, ente, stato, tipo, nome, limit, offset
        )
        .await)
    }
    pub async fn get_accertamento(
        &self,
        ente: &str,
        id: i64,
    ) -> StoreResult<AccertamentoDettaglio> {
        dispatch!(self, |q, p| q::get_accertamento(p, ente, id).await)
    }
    pub async fn update_accertamento(
        &self,
        ente: &str,
        id: i64,
        nome: Option<&str>,
        tipo: Option<&str>,
        utente: &str,
    ) -> StoreResult<()> {
        dispatch!(self, |q, p| q::update_accertamento(
            p,
            ente,
            id,
            nome,
            tipo,
            utente,
            now()
        )
        .await)
    }
    pub async fn candidati_accertamento(
        &self,
        ente: &str,
        id: i64,
        f: &FiltroCandidati,
        limit: i64,
        offset: i64,
    ) -> StoreResult<(Vec<RicevutaStaged>, i64)> {
        dispatch!(self, |q, p| q::candidati(p, ente, id, f, limit, offset)
            .await)
    }
    pub async fn associate_pagamenti(
        &self,
        ente: &str,
        id: i64,
        a: &Associazione,
        utente: &str,
    ) -> StoreResult<usize> {
        dispatch!(self, |q, p| q::associa(p, ente, id, a, utente, now()).await)
    }
    pub async fn remove_pagamento(
        &self,
        ente: &str,
        id: i64,
        riga: i64,
        utente: &str,
    ) -> StoreResult<()> {
        dispatch!(self, |q, p| q::remove_pagamento(
            p,
            ente,
            id,
            riga,
            utente,
            now()
        )
        .await)
    }
    pub async fn change_stato_accertamento(
        &self,
        ente: &str,
        id: i64,
        to: crate::recon::accertamenti::StatoAccertamento,
        utente: &str,
    ) -> StoreResult<()> {
        dispatch!(self, |q, p| q::change_stato_accertamento(
            p,
            ente,
            id,
            to,
            utente,
            now()
        )
        .await)
    }
    pub async fn search_riconciliazione(
        &self,
        ente: &str,
        f: &FiltroRiconciliazione,
        limit: i64,
        offset: i64,
    ) -> StoreResult<(Vec<RigaRiconciliazione>, i64)> {
        dispatch!(self, |q, p| q::search_riconciliazione(
            p, ente, f, limit, offset
        )
        .await)
    }
    pub async fn pagina_riconciliazione(
        &self,
        ente: &str,
        f: &FiltroRiconciliazione,
        dopo: i64,
        limit: i64,
    ) -> StoreResult<Vec<RigaRiconciliazione>> {
        dispatch!(self, |q, p| q::pagina_riconciliazione(
            p, ente, f, dopo, limit
        )
        .await)
    }
    pub async fn conteggi_riconciliazione(&self, ente: &str) -> StoreResult<Vec<(u64, i64)>> {
        dispatch!(self, |q, p| q::conteggi_riconciliazione(p, ente).await)
    }
    pub async fn insert_segnalazione(
        &self,
        ente: &str,
        s: &NuovaSegnalazione,
        utente: &str,
    ) -> StoreResult<Segnalazione> {
        dispatch!(self, |q, p| q::insert_segnalazione(
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
        dispatch!(self, |q, p| q::storico_segnalazioni(
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
        dispatch!(self, |q, p| q::search_ricevute(p, ente, f, limit, offset)
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
        dispatch!(self, |q, p| q::search_flussi_rendicontati(
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
        dispatch!(self, |q, p| q::pagamenti_flusso(p, ente, iuf).await)
    }
    pub async fn create_export(
        &self,
        id: &str,
        ente: &str,
        versione: &str,
        filtri: &str,
    ) -> StoreResult<()> {
        dispatch!(self, |q, p| q::create_export(
            p,
            id,
            ente,
            versione,
            filtri,
            now()
        )
        .await)
    }
    /// Takes an export to write; one not written for `stale` is taken over.
    pub async fn take_export(&self, id: &str, stale: Duration) -> StoreResult<bool> {
        let t = now();
        dispatch!(self, |q, p| q::take_export(p, id, t - stale, t).await)
    }
    pub async fn write_parte_export(&self, id: &str, n: i64, dati: &[u8]) -> StoreResult<()> {
        dispatch!(self, |q, p| q::write_parte_export(p, id, n, dati, now())
            .await)
    }
    pub async fn close_export(
        &self,
        id: &str,
        stato: &str,
        righe: i64,
        errore: Option<&str>,
    ) -> StoreResult<()> {
        dispatch!(self, |q, p| q::close_export(
            p,
            id,
            stato,
            righe,
            errore,
            now()
        )
        .await)
    }
    pub async fn get_export(&self, ente: &str, id: &str) -> StoreResult<ExportRiconciliazione> {
        dispatch!(self, |q, p| q::get_export(p, ente, id).await)
    }
    pub async fn parte_export(&self, id: &str, n: i64) -> StoreResult<Option<Vec<u8>>> {
        dispatch!(self, |q, p| q::parte_export(p, id, n).await)
    }
    pub async fn export_in_attesa(&self) -> StoreResult<Vec<ExportRiconciliazione>> {
        dispatch!(self, |q, p| q::export_in_attesa(p).await)
    }
    pub async fn notifiche_ente(&self, ente: &str) -> StoreResult<Vec<(String, i64)>> {
        dispatch!(self, |q, p| q::notifiche_ente(p, ente).await)
    }
    pub async fn rt_email_data(&self, rt_id: i64) -> StoreResult<RtEmailData> {
        dispatch!(self, |q, p| q::rt_email_data(p, rt_id).await)
    }
    pub async fn rpt_da_inviare(&self, id: i64) -> StoreResult<RptDaInviare> {
        dispatch!(self, |q, p| q::rpt_da_inviare(p, id).await)
    }
    pub async fn rpt_stato(&self, id: i64, to: StatoRpt) -> StoreResult<bool> {
        dispatch!(self, |q, p| q::rpt_stato(p, id, to, now()).await)
    }
    pub async fn rt_da_elaborare(
        &self,
        before: OffsetDateTime,
        limit: i64,
    ) -> StoreResult<Vec<RtGrezza>> {
        let before = ceil_secs(before);
        dispatch!(self, |q, p| q::rt_da_elaborare(p, before, limit).await)
    }
    pub async fn list_rt(
        &self,
        id_dominio: Option<&str>,
        stato: Option<&str>,
        limit: i64,
        offset: i64,
    ) -> StoreResult<(Vec<RtRicevuta>, i64)> {
        dispatch!(self, |q, p| q::list_rt(p, id_dominio, stato, limit, offset)
            .await)
    }
    pub async fn get_rt(&self, id: i64) -> StoreResult<(RtRicevuta, Vec<u8>)> {
        dispatch!(self, |q, p| q::get_rt(p, id).await)
    }

    pub async fn insert_api_key(&self, ente: &str, hash: &str, label: &str) -> StoreResult<ApiKey> {
        dispatch!(self, |q, p| q::insert_api_key(p, ente, hash, label, now())
            .await)
    }
    pub async fn list_api_keys(&self, ente: &str) -> StoreResult<Vec<ApiKey>> {
        dispatch!(self, |q, p| q::list_api_keys(p, ente).await)
    }
    pub async fn revoke_api_key(&self, ente: &str, id: i64) -> StoreResult<()> {
        dispatch!(self, |q, p| q::revoke_api_key(p, ente, id, now()).await)
    }
    pub async fn api_key_ente(&self, hash: &str) -> StoreResult<Option<String>> {
        dispatch!(self, |q, p| q::api_key_ente(p, hash).await)
    }
}
