//! The outbox repository: typed jobs, leased to one worker at a time, retried, dead-lettered.

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

/// Outbox repository: see the module.
pub struct Outbox<'s>(pub(super) &'s Store);

impl Outbox<'_> {
    /// Enqueues another nodoInviaRPT of an existing RPT (a repeated activation).
    pub async fn enqueue(&self, kind: TipoJob, ref_id: i64) -> StoreResult<i64> {
        dispatch!(self.0, |q, p| q::enqueue(p, kind, ref_id, now()).await)
    }
    pub async fn pending(&self, kind: &str) -> StoreResult<Vec<OutboxRow>> {
        dispatch!(self.0, |q, p| q::outbox_pending(p, kind).await)
    }
    pub async fn claim(
        &self,
        owner: &str,
        kinds: Option<&[String]>,
        lease: std::time::Duration,
        limit: i64,
    ) -> StoreResult<Vec<OutboxJob>> {
        let now = now();
        let until = now + lease;
        dispatch!(self.0, |q, p| q::outbox_claim(
            p, owner, kinds, until, limit, now
        )
        .await)
    }
    pub async fn done(&self, id: i64, owner: &str, result: Option<&str>) -> StoreResult<bool> {
        dispatch!(self.0, |q, p| q::outbox_done(p, id, owner, result, now())
            .await)
    }
    /// Completes the jobs of `fatti` (id, result) in one transaction; the ids whose lease
    /// was taken over meanwhile (not completed by this call).
    pub async fn done_many(
        &self,
        fatti: &[(i64, Option<String>)],
        owner: &str,
    ) -> StoreResult<Vec<i64>> {
        dispatch!(self.0, |q, p| q::outbox_done_many(p, fatti, owner, now())
            .await)
    }
    /// Extends the lease of the jobs among `ids` that `owner` still holds unfinished, so a
    /// slow Nodo cannot make another worker take a job in hand; how many were extended.
    pub async fn renew(
        &self,
        ids: &[i64],
        owner: &str,
        lease: std::time::Duration,
    ) -> StoreResult<u64> {
        let now = now();
        let until = now + lease;
        dispatch!(self.0, |q, p| q::outbox_renew(p, ids, owner, until, now)
            .await)
    }
    /// `retry_in = None`: the job becomes a dead letter.
    pub async fn failed(
        &self,
        id: i64,
        owner: &str,
        error: &str,
        retry_in: Option<std::time::Duration>,
    ) -> StoreResult<bool> {
        let now = now();
        let next = retry_in.map(|d| now + d);
        dispatch!(self.0, |q, p| q::outbox_failed(
            p, id, owner, error, next, now
        )
        .await)
    }
    pub async fn retry(&self, id: i64) -> StoreResult<bool> {
        dispatch!(self.0, |q, p| q::outbox_retry(p, id, now()).await)
    }
    pub async fn get(&self, id: i64) -> StoreResult<OutboxJob> {
        dispatch!(self.0, |q, p| q::outbox_get(p, id).await)
    }
    pub async fn list(
        &self,
        stato: Option<&str>,
        kind: Option<&str>,
        limit: i64,
        offset: i64,
    ) -> StoreResult<(Vec<OutboxJob>, i64)> {
        dispatch!(self.0, |q, p| q::outbox_list(p, stato, kind, limit, offset)
            .await)
    }
    pub async fn stats(&self) -> StoreResult<Vec<(String, String, i64, Option<OffsetDateTime>)>> {
        dispatch!(self.0, |q, p| q::outbox_stats(p).await)
    }
    pub async fn enqueue_payload(
        &self,
        kind: &str,
        ref_id: Option<i64>,
        payload: &str,
    ) -> StoreResult<i64> {
        dispatch!(self.0, |q, p| q::outbox_enqueue(
            p,
            kind,
            ref_id,
            payload,
            now()
        )
        .await)
    }
    /// Enqueues a `kind` job (`flussi`, `pendenti`) for every active ente not asked
    /// since `since`.
    pub async fn plan_per_ente(&self, kind: TipoJob, since: OffsetDateTime) -> StoreResult<u64> {
        let since = ceil_secs(since);
        dispatch!(self.0, |q, p| q::plan_per_ente(p, kind, since, now()).await)
    }
}
