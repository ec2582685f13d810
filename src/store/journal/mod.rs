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

/// `entries` cut, in order, into runs whose bodies stay within `limit` bytes (a run of one
/// entry may exceed it).
fn parti(entries: &[JournalEntry], limit: usize) -> Vec<&[JournalEntry]> {
    let mut parts = Vec::new();
    let (mut from, mut bytes) = (0, 0);
    for (i, e) in entries.iter().enumerate() {
        let b = e.request.len() + e.response.len();
        if i > from && bytes + b > limit {
            parts.push(&entries[from..i]);
            (from, bytes) = (i, 0);
        }
        bytes += b;
    }
    parts.push(&entries[from..]);
    parts
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

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(bytes: usize) -> JournalEntry {
        JournalEntry {
            at: OffsetDateTime::UNIX_EPOCH,
            direction: "IN",
            operation: "paaVerificaRPT".into(),
            id_dominio: None,
            iuv: None,
            ccp: None,
            id_psp: None,
            outcome: "OK".into(),
            http_status: None,
            duration_us: 0,
            request: bytes::Bytes::from(vec![b'q'; bytes / 2]),
            response: bytes::Bytes::from(vec![b'r'; bytes - bytes / 2]),
        }
    }

    #[test]
    fn a_batch_is_cut_by_its_bodies_bytes_in_order_and_whole() {
        let e: Vec<_> = [40, 50, 10, 100, 5, 5, 200].map(entry).into();
        let sizes = |parts: Vec<&[JournalEntry]>| -> Vec<Vec<usize>> {
            parts
                .iter()
                .map(|p| {
                    p.iter()
                        .map(|e| e.request.len() + e.response.len())
                        .collect()
                })
                .collect()
        };
        // Up to 100 bytes a run; an entry larger than that goes alone.
        assert_eq!(
            sizes(parti(&e, 100)),
            vec![vec![40, 50, 10], vec![100], vec![5, 5], vec![200]]
        );
        assert_eq!(
            sizes(parti(&e, 10_000)),
            vec![vec![40, 50, 10, 100, 5, 5, 200]]
        );
        assert_eq!(parti(&[], 100).len(), 1);
    }
}
