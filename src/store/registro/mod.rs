//! The registry repository: the intermediary, enti, tipi dovuto and API keys.

use super::*;
use crate::registry::{EnteInput, TipoDovutoInput};

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

/// Registry repository: see the module.
pub struct Registro<'s>(pub(super) &'s Store);

impl Registro<'_> {
    pub async fn seed_intermediario(&self, i: &Intermediario) -> StoreResult<()> {
        dispatch!(self.0, |q, p| q::seed_intermediario(p, i, now()).await)
    }
    pub async fn put_intermediario(&self, i: &Intermediario) -> StoreResult<()> {
        dispatch!(self.0, |q, p| q::put_intermediario(p, i, now()).await)
    }
    pub async fn get_intermediario(&self) -> StoreResult<Intermediario> {
        dispatch!(self.0, |q, p| q::get_intermediario(p).await)
    }
    pub async fn insert_ente(&self, e: &EnteInput) -> StoreResult<Ente> {
        dispatch!(self.0, |q, p| q::insert_ente(p, e, now()).await)?;
        self.get_ente(e.id_dominio.as_str()).await
    }
    pub async fn update_ente(&self, e: &EnteInput) -> StoreResult<Ente> {
        dispatch!(self.0, |q, p| q::update_ente(p, e, now()).await)?;
        self.get_ente(e.id_dominio.as_str()).await
    }
    pub async fn get_ente(&self, id_dominio: &str) -> StoreResult<Ente> {
        dispatch!(self.0, |q, p| q::get_ente(p, id_dominio).await)
    }
    pub async fn search_enti(
        &self,
        f: &EntiFilter,
        limit: i64,
        offset: i64,
    ) -> StoreResult<(Vec<Ente>, i64)> {
        dispatch!(self.0, |q, p| q::search_enti(p, f, limit, offset).await)
    }
    pub async fn create_tipo_dovuto(
        &self,
        ente: &str,
        t: &TipoDovutoInput,
    ) -> StoreResult<TipoDovuto> {
        dispatch!(self.0, |q, p| q::upsert_tipo_dovuto(
            p,
            ente,
            t,
            true,
            now()
        )
        .await)?;
        self.get_tipo_dovuto(ente, &t.codice).await
    }
    pub async fn update_tipo_dovuto(
        &self,
        ente: &str,
        t: &TipoDovutoInput,
    ) -> StoreResult<TipoDovuto> {
        dispatch!(self.0, |q, p| q::upsert_tipo_dovuto(
            p,
            ente,
            t,
            false,
            now()
        )
        .await)?;
        self.get_tipo_dovuto(ente, &t.codice).await
    }
    pub async fn get_tipo_dovuto(&self, ente: &str, codice: &str) -> StoreResult<TipoDovuto> {
        dispatch!(self.0, |q, p| q::get_tipo_dovuto(p, ente, codice).await)
    }
    pub async fn list_tipi_dovuto(&self, ente: &str) -> StoreResult<Vec<TipoDovuto>> {
        dispatch!(self.0, |q, p| q::list_tipi_dovuto(p, ente).await)
    }
    pub async fn insert_api_key(&self, ente: &str, hash: &str, label: &str) -> StoreResult<ApiKey> {
        dispatch!(self.0, |q, p| q::insert_api_key(
            p,
            ente,
            hash,
            label,
            now()
        )
        .await)
    }
    pub async fn list_api_keys(&self, ente: &str) -> StoreResult<Vec<ApiKey>> {
        dispatch!(self.0, |q, p| q::list_api_keys(p, ente).await)
    }
    pub async fn revoke_api_key(&self, ente: &str, id: i64) -> StoreResult<()> {
        dispatch!(self.0, |q, p| q::revoke_api_key(p, ente, id, now()).await)
    }
    pub async fn api_key_ente(&self, hash: &str) -> StoreResult<Option<String>> {
        dispatch!(self.0, |q, p| q::api_key_ente(p, hash).await)
    }
}
