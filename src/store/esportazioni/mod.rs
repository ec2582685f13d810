//! The exports repository: asynchronous exports of the reconciliation, in parts.

use super::*;

pub(in crate::store) mod sqlite {
    use super::*;
    use crate::store::sqlite::*;
    include!("queries.rs");
}

pub(in crate::store) mod postgres {
    use super::*;
    use crate::store::postgres::*;
    include!("queries.rs");
}

/// Exports repository: see the module.
pub struct Esportazioni<'s>(pub(super) &'s Store);

impl Esportazioni<'_> {
    pub async fn create(
        &self,
        id: &str,
        ente: &str,
        versione: &str,
        filtri: &str,
    ) -> StoreResult<()> {
        dispatch!(self.0, |q, p| q::create_export(
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
    pub async fn take(&self, id: &str, stale: Duration) -> StoreResult<bool> {
        let t = now();
        dispatch!(self.0, |q, p| q::take_export(p, id, t - stale, t).await)
    }
    pub async fn write_parte(&self, id: &str, n: i64, dati: &[u8]) -> StoreResult<()> {
        dispatch!(self.0, |q, p| q::write_parte_export(p, id, n, dati, now())
            .await)
    }
    pub async fn close(
        &self,
        id: &str,
        stato: &str,
        righe: i64,
        errore: Option<&str>,
    ) -> StoreResult<()> {
        dispatch!(self.0, |q, p| q::close_export(
            p,
            id,
            stato,
            righe,
            errore,
            now()
        )
        .await)
    }
    pub async fn get(&self, ente: &str, id: &str) -> StoreResult<ExportRiconciliazione> {
        dispatch!(self.0, |q, p| q::get_export(p, ente, id).await)
    }
    pub async fn parte(&self, id: &str, n: i64) -> StoreResult<Option<Vec<u8>>> {
        dispatch!(self.0, |q, p| q::parte_export(p, id, n).await)
    }
    pub async fn in_attesa(&self) -> StoreResult<Vec<ExportRiconciliazione>> {
        dispatch!(self.0, |q, p| q::export_in_attesa(p).await)
    }
}
