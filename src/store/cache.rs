//! A short-lived in-process cache of the registry rows every PA call reads (intermediary,
//! ente, tipo dovuto). They change rarely and by hand; a change reaches every instance
//! within `TTL`. The dovuto itself is always read fresh. Bounded (`moka`): a flood of
//! probes for made-up enti evicts old entries instead of growing the process.

use crate::registry::{Ente, TipoDovuto};
use crate::store::{Intermediario, Store, StoreError};
use moka::sync::Cache;
use std::time::Duration;

pub const TTL: Duration = Duration::from_secs(5);
/// Entries per kind: far above a region's enti and tipi, far below what hurts memory.
pub const CAPACITY: u64 = 50_000;

#[derive(Clone)]
pub struct RegistryCache {
    intermediario: Cache<(), Intermediario>,
    /// `None`: the ente does not exist (cached too, so probing is cheap).
    enti: Cache<String, Option<Ente>>,
    tipi: Cache<(String, String), TipoDovuto>,
}

impl Default for RegistryCache {
    fn default() -> Self {
        Self::with_capacity(CAPACITY)
    }
}

fn cache<K, V>(capacity: u64) -> Cache<K, V>
where
    K: std::hash::Hash + Eq + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
{
    Cache::builder()
        .max_capacity(capacity)
        .time_to_live(TTL)
        .build()
}

impl RegistryCache {
    pub fn with_capacity(capacity: u64) -> Self {
        RegistryCache {
            intermediario: cache(1),
            enti: cache(capacity),
            tipi: cache(capacity),
        }
    }

    pub async fn intermediario(&self, store: &Store) -> Result<Intermediario, StoreError> {
        if let Some(i) = self.intermediario.get(&()) {
            return Ok(i);
        }
        let i = store.registro().get_intermediario().await?;
        self.intermediario.insert((), i.clone());
        Ok(i)
    }

    /// The ente, or `None` when it does not exist.
    pub async fn ente(&self, store: &Store, id: &str) -> Result<Option<Ente>, StoreError> {
        if let Some(v) = self.enti.get(id) {
            return Ok(v);
        }
        let v = match store.registro().get_ente(id).await {
            Ok(e) => Some(e),
            Err(StoreError::NotFound) => None,
            Err(e) => return Err(e),
        };
        self.enti.insert(id.to_owned(), v.clone());
        Ok(v)
    }

    pub async fn tipo(
        &self,
        store: &Store,
        ente: &str,
        codice: &str,
    ) -> Result<TipoDovuto, StoreError> {
        let key = (ente.to_owned(), codice.to_owned());
        if let Some(t) = self.tipi.get(&key) {
            return Ok(t);
        }
        let t = store.registro().get_tipo_dovuto(ente, codice).await?;
        self.tipi.insert(key, t.clone());
        Ok(t)
    }

    /// Entries held now (after pending evictions), for tests and gauges.
    pub fn len(&self) -> u64 {
        self.enti.run_pending_tasks();
        self.tipi.run_pending_tasks();
        self.enti.entry_count() + self.tipi.entry_count()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cache_is_bounded_whatever_is_asked() {
        let c = RegistryCache::with_capacity(100);
        for i in 0..10_000 {
            c.enti.insert(format!("{i:011}"), None);
        }
        assert!(c.len() <= 100, "{} entries held", c.len());
        assert!(!c.is_empty());
    }
}
