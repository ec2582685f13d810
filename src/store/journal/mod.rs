//! The message journal repository: every SOAP exchange, for audit and replay.

use super::*;

pub(in crate::store) mod sqlite {
    use super::*;
    use crate::store::sqlite::*;
    include!("queries.rs");
    include!("sqlite.rs");
}

pub(in crate::store) mod postgres {
    use super::*;
    use crate::store::postgres::*;
    include!("queries.rs");
    include!("postgres.rs");
}

/// Message journal repository: see the module.
pub struct Journal<'s>(pub(super) &'s Store);

impl Journal<'_> {
    pub async fn insert(&self, entries: &[JournalEntry]) -> StoreResult<()> {
        dispatch!(self.0, |q, p| q::insert_journal(p, entries).await)
    }
    pub async fn search(
        &self,
        f: &JournalFilter,
        limit: i64,
        offset: i64,
    ) -> StoreResult<(Vec<JournalSummary>, i64)> {
        dispatch!(self.0, |q, p| q::search_journal(p, f, limit, offset).await)
    }
    /// Every entry, oldest first, bodies included, as one statement streams them: one
    /// snapshot, so an export never shows a later batch while missing an earlier one
    /// still committing (writers run in parallel on PostgreSQL), and rows are read as
    /// they are written out, not held.
    pub fn all(&self) -> futures_util::stream::BoxStream<'_, StoreResult<JournalFull>> {
        dispatch!(self.0, |q, p| q::journal_all(p))
    }
    /// Entries with id > `after`, oldest first, bodies included.
    pub async fn after(&self, after: i64, limit: i64) -> StoreResult<Vec<JournalFull>> {
        dispatch!(self.0, |q, p| q::journal_after(p, after, limit).await)
    }
    /// Deletes entries older than `before`, at most `batch` (a short transaction, so
    /// traffic goes on between batches); returns how many.
    pub async fn prune(&self, before: OffsetDateTime, batch: i64) -> StoreResult<u64> {
        let before = ceil_secs(before);
        dispatch!(self.0, |q, p| q::prune_journal(p, before, batch).await)
    }
}
