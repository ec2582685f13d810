//! The import jobs repository: an import's state and reject report.

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

/// Import jobs repository: see the module.
pub struct Importazioni<'s>(pub(super) &'s Store);

/// How many rejects a job's view carries; the report has them all (`scarti_after`).
pub const SCARTI_IN_VISTA: i64 = 100;

impl Importazioni<'_> {
    /// One batch of the retention of import reports (jobs created before `before` and their
    /// rejects); 0 when nothing is left to delete.
    pub async fn prune_reports(&self, before: OffsetDateTime, batch: i64) -> StoreResult<u64> {
        let before = ceil_secs(before);
        dispatch!(self.0, |q, p| q::prune_import_reports(p, before, batch)
            .await)
    }
    /// The job with its first [`SCARTI_IN_VISTA`] rejects.
    pub async fn get(&self, ente: &str, id: &str) -> StoreResult<ImportJob> {
        dispatch!(self.0, |q, p| q::get_import_job(p, ente, id).await)
    }
    /// Rejects of job `id` numbered after `after` (-1: from the first), at most `limit`,
    /// with their numbers, to page through a report of any size.
    pub async fn scarti_after(
        &self,
        id: &str,
        after: i64,
        limit: i64,
    ) -> StoreResult<Vec<(i64, Scarto)>> {
        dispatch!(self.0, |q, p| q::scarti_after(p, id, after, limit).await)
    }
}
