//! A short-lived in-process cache of the registry rows every PA call reads (intermediary,
//! ente, tipo dovuto). They change rarely and by hand; a change reaches every instance
//! within `TTL`. The dovuto itself is always read fresh.

use crate::registry::{Ente, TipoDovuto};
use crate::store::{Intermediario, Store, StoreError};
use std::collections::HashMap;
use std::sync::RwLock;
use std::time::{Duration, Instant};

pub const TTL: Duration = Duration::from_secs(5);

type Slot<T> = RwLock<HashMap<String, (Instant, Option<T>)>>;

#[derive(Default)]
pub struct RegistryCache {
    intermediario: RwLock<Option<(Instant, Intermediario)>>,
    enti: Slot<Ente>,
    tipi: Slot<TipoDovuto>,
}

fn fresh<T: Clone>(slot: &Slot<T>, key: &str) -> Option<Option<T>> {
    let map = slot.read().expect("cache lock");
    map.get(key)
        .filter(|(at, _)| at.elapsed() < TTL)
        .map(|(_, v)| v.clone())
}

fn put<T>(slot: &Slot<T>, key: String, v: Option<T>) {
    let mut map = slot.write().expect("cache lock");
    if map.len() > 10_000 {
        map.retain(|_, (at, _)| at.elapsed() < TTL);
    }
    map.insert(key, (Instant::now(), v));
}

impl RegistryCache {
    pub async fn intermediario(&self, store: &Store) -> Result<Intermediario, StoreError> {
        if let Some((at, i)) = self.intermediario.read().expect("cache lock").as_ref()
            && at.elapsed() < TTL
        {
            return Ok(i.clone());
        }
        let i = store.registro().get_intermediario().await?;
        *self.intermediario.write().expect("cache lock") = Some((Instant::now(), i.clone()));
        Ok(i)
    }

    /// The ente, or `None` when it does not exist (also cached, so probing is cheap).
    pub async fn ente(&self, store: &Store, id: &str) -> Result<Option<Ente>, StoreError> {
        if let Some(v) = fresh(&self.enti, id) {
            return Ok(v);
        }
        let v = match store.registro().get_ente(id).await {
            Ok(e) => Some(e),
            Err(StoreError::NotFound) => None,
            Err(e) => return Err(e),
        };
        put(&self.enti, id.to_owned(), v.clone());
        Ok(v)
    }

    pub async fn tipo(
        &self,
        store: &Store,
        ente: &str,
        codice: &str,
    ) -> Result<TipoDovuto, StoreError> {
        let key = format!("{ente}\u{0}{codice}");
        if let Some(Some(t)) = fresh(&self.tipi, &key) {
            return Ok(t);
        }
        let t = store.registro().get_tipo_dovuto(ente, codice).await?;
        put(&self.tipi, key, Some(t.clone()));
        Ok(t)
    }
}
