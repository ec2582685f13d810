//! Shapes of the accounting tables (chart, accertamenti, statistics) as the store returns
//! and takes them; the SQL lives in accertamenti.rs, capitoli.rs and statistiche.rs beside it.

use time::{Date, OffsetDateTime};

/// A line of the chart ufficio – capitolo – accertamento.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Capitolo {
    pub id: i64,
    pub anno: i64,
    pub tipo_dovuto: String,
    pub cod_ufficio: String,
    pub de_ufficio: String,
    pub attivo: bool,
    pub cod_capitolo: String,
    pub de_capitolo: String,
    pub cod_accertamento: String,
    pub de_accertamento: String,
    /// Inserted from a receipt's bilancio (descriptions `n/a` until an operator gives them).
    pub automatico: bool,
    pub updated_at: OffsetDateTime,
}

#[derive(Debug, Clone)]
pub struct NuovoCapitolo {
    pub anno: i32,
    pub tipo_dovuto: String,
    pub cod_ufficio: String,
    pub de_ufficio: String,
    pub attivo: bool,
    pub cod_capitolo: String,
    pub de_capitolo: String,
    /// Absent: `n/a` (no accertamento).
    pub cod_accertamento: Option<String>,
    pub de_accertamento: Option<String>,
}

/// What an operator may change on a chart line: its flag and the descriptions (which
/// follow the code on every line of the ente).
#[derive(Debug, Clone, Default)]
pub struct ModificaCapitolo {
    pub attivo: Option<bool>,
    pub de_ufficio: Option<String>,
    pub de_capitolo: Option<String>,
    pub de_accertamento: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct FiltroCapitoli {
    pub anno: Option<i64>,
    pub tipo_dovuto: Option<String>,
    pub cod_ufficio: Option<String>,
    pub cod_capitolo: Option<String>,
    pub cod_accertamento: Option<String>,
    pub attivo: Option<bool>,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Accertamento {
    pub id: i64,
    pub id_dominio: String,
    pub tipo_dovuto: String,
    pub nome: String,
    /// INSERITO, CHIUSO or ANNULLATO.
    pub stato: String,
    /// Created CHIUSO from the bilancio of imported receipts.
    pub automatico: bool,
    /// Who created it or last changed its state.
    pub utente: String,
    pub pagamenti: i64,
    pub totale_cents: i64,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

/// A payment booked on an accertamento.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PagamentoAccertato {
    pub id: i64,
    pub ricevuta_id: i64,
    pub iuv: String,
    pub iur: String,
    pub indice: i64,
    pub iud: Option<String>,
    pub cf_pagatore: Option<String>,
    pub data_esito: Date,
    pub anno: i64,
    pub cod_ufficio: String,
    pub cod_capitolo: String,
    pub cod_accertamento: String,
    pub importo_cents: i64,
    pub utente: String,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct StoriaAccertamento {
    pub azione: String,
    pub dettaglio: String,
    pub utente: String,
    pub at: OffsetDateTime,
}

#[derive(Debug, Clone)]
pub struct AccertamentoDettaglio {
    pub accertamento: Accertamento,
    pub righe: Vec<PagamentoAccertato>,
    pub storia: Vec<StoriaAccertamento>,
}

/// Filters of the candidate payments ("pagamenti inseribili").
#[derive(Debug, Clone, Default)]
pub struct FiltroCandidati {
    pub iud: Option<String>,
    pub iuv: Option<String>,
    pub cf_pagatore: Option<String>,
    pub data_esito_da: Option<Date>,
    pub data_esito_a: Option<Date>,
}

/// Books receipts on an ufficio / capitolo / accertamento of the chart.
#[derive(Debug, Clone)]
pub struct Associazione {
    /// Ids of receipt rows (`/ricevute`, `/accertamenti/{id}/candidati`).
    pub ricevute: Vec<i64>,
    /// Anno esercizio of the chart line (default: the year of each receipt's data esito).
    pub anno: Option<i32>,
    pub cod_ufficio: String,
    pub cod_capitolo: String,
    /// Default `n/a`.
    pub cod_accertamento: Option<String>,
}

/// One aggregate of `statistica`, summed over the asked period and breakdown.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Aggregato {
    pub anno: i64,
    pub mese: i64,
    pub giorno: Option<Date>,
    pub tipo_dovuto: String,
    pub cod_ufficio: String,
    pub cod_capitolo: String,
    pub cod_accertamento: String,
    pub misura: String,
    pub importo_cents: i64,
    pub numero: i64,
}

/// The asked cells: period, breakdown and filters.
#[derive(Debug, Clone, Default)]
pub struct RichiestaStatistica {
    pub dimensione: crate::recon::statistiche::Dimensione,
    pub granularita: crate::recon::statistiche::Granularita,
    pub da: Option<Date>,
    pub a: Option<Date>,
    pub tipo_dovuto: Option<String>,
    pub cod_ufficio: Option<String>,
    pub cod_capitolo: Option<String>,
    pub cod_accertamento: Option<String>,
}

/// A receipt behind a statistics cell.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct RigaStatistica {
    pub ricevuta_id: i64,
    pub iuv: String,
    pub iur: String,
    pub indice: i64,
    pub iud: Option<String>,
    pub tipo_dovuto: Option<String>,
    pub cf_pagatore: Option<String>,
    /// The measure's date (data esito, regolamento or valuta).
    pub data: Date,
    /// The receipt's amount, or the accertamento line's for a breakdown.
    pub importo_cents: i64,
    pub cod_ufficio: Option<String>,
    pub cod_capitolo: Option<String>,
    pub cod_accertamento: Option<String>,
}

use super::{ImportJob, RicevutaStaged, Store, StoreResult, now};

pub(in crate::store) mod sqlite {
    use super::*;
    use crate::store::importazioni::sqlite as import_q;
    use crate::store::sqlite::*;
    use crate::store::*;
    include!("accertamenti.rs");
    include!("capitoli.rs");
    include!("statistiche.rs");
}

pub(in crate::store) mod postgres {
    use super::*;
    use crate::store::importazioni::postgres as import_q;
    use crate::store::postgres::*;
    use crate::store::*;
    include!("accertamenti.rs");
    include!("capitoli.rs");
    include!("statistiche.rs");
}

/// Accounting repository: see the module.
pub struct Contabilita<'s>(pub(super) &'s Store);

impl Contabilita<'_> {
    /// Refreshes the aggregates of the ente's stale days (nothing stale is one read).
    pub async fn stat_refresh(&self, ente: &str) -> StoreResult<usize> {
        if !dispatch!(self.0, |q, p| q::stat_sporca_presente(p, ente).await)? {
            return Ok(0);
        }
        dispatch!(self.0, |q, p| q::stat_refresh(p, ente).await)
    }
    pub async fn stat_in_attesa(&self) -> StoreResult<Vec<String>> {
        dispatch!(self.0, |q, p| q::stat_in_attesa(p).await)
    }
    pub async fn statistiche(
        &self,
        ente: &str,
        r: &RichiestaStatistica,
    ) -> StoreResult<Vec<Aggregato>> {
        dispatch!(self.0, |q, p| q::statistiche(p, ente, r).await)
    }
    pub async fn righe_statistica(
        &self,
        ente: &str,
        misura: crate::recon::statistiche::Misura,
        r: &RichiestaStatistica,
        limit: i64,
        offset: i64,
    ) -> StoreResult<(Vec<RigaStatistica>, i64)> {
        dispatch!(self.0, |q, p| q::righe_statistica(
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
        dispatch!(self.0, |q, p| q::list_capitoli(p, ente, f, limit, offset)
            .await)
    }
    pub async fn get_capitolo(&self, ente: &str, id: i64) -> StoreResult<Capitolo> {
        dispatch!(self.0, |q, p| q::get_capitolo(p, ente, id).await)
    }
    pub async fn create_capitolo(
        &self,
        ente: &str,
        r: &crate::recon::accertamenti::RigaCapitolo,
    ) -> StoreResult<i64> {
        dispatch!(self.0, |q, p| q::create_capitolo(p, ente, r, now()).await)
    }
    pub async fn update_capitolo(
        &self,
        ente: &str,
        id: i64,
        m: &ModificaCapitolo,
    ) -> StoreResult<()> {
        dispatch!(self.0, |q, p| q::update_capitolo(p, ente, id, m, now())
            .await)
    }
    pub async fn delete_capitolo(&self, ente: &str, id: i64) -> StoreResult<()> {
        dispatch!(self.0, |q, p| q::delete_capitolo(p, ente, id).await)
    }
    pub async fn import_capitoli(
        &self,
        ente: &str,
        file: &crate::recon::accertamenti::FileCapitoli,
        job: ImportJob,
    ) -> StoreResult<ImportJob> {
        dispatch!(self.0, |q, p| q::import_capitoli(p, ente, file, job, now())
            .await)
    }
    pub async fn create_accertamento(
        &self,
        ente: &str,
        nome: &str,
        tipo: &str,
        utente: &str,
    ) -> StoreResult<i64> {
        dispatch!(self.0, |q, p| q::create_accertamento(
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
        dispatch!(self.0, |q, p| q::list_accertamenti(
            p, ente, stato, tipo, nome, limit, offset
        )
        .await)
    }
    pub async fn get_accertamento(
        &self,
        ente: &str,
        id: i64,
    ) -> StoreResult<AccertamentoDettaglio> {
        dispatch!(self.0, |q, p| q::get_accertamento(p, ente, id).await)
    }
    pub async fn update_accertamento(
        &self,
        ente: &str,
        id: i64,
        nome: Option<&str>,
        tipo: Option<&str>,
        utente: &str,
    ) -> StoreResult<()> {
        dispatch!(self.0, |q, p| q::update_accertamento(
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
        dispatch!(self.0, |q, p| q::candidati(p, ente, id, f, limit, offset)
            .await)
    }
    pub async fn associate_pagamenti(
        &self,
        ente: &str,
        id: i64,
        a: &Associazione,
        utente: &str,
    ) -> StoreResult<usize> {
        dispatch!(self.0, |q, p| q::associa(p, ente, id, a, utente, now())
            .await)
    }
    pub async fn remove_pagamento(
        &self,
        ente: &str,
        id: i64,
        riga: i64,
        utente: &str,
    ) -> StoreResult<()> {
        dispatch!(self.0, |q, p| q::remove_pagamento(
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
        dispatch!(self.0, |q, p| q::change_stato_accertamento(
            p,
            ente,
            id,
            to,
            utente,
            now()
        )
        .await)
    }
}
