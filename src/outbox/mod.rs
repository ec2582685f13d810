//! The durable outbox: every piece of outbound work (RPT sends, RT emails, …) is a row
//! written in the same transaction as the state change that calls for it. Workers claim
//! due rows with a lease (SKIP LOCKED on PostgreSQL, so several instances share one queue
//! and never take the same job), run them, and mark them done, due again after the SANP
//! backoff `slot × (2^k − 1)`, or dead after the last attempt. A crash leaves the lease to
//! expire and the job runs again, so handlers are idempotent on their protocol key.

use crate::store::{OutboxJob, Store};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

pub use crate::metrics::OUTBOX_DEPTH as DEPTH;
pub use crate::metrics::OUTBOX_JOBS as JOBS;
pub use crate::metrics::OUTBOX_OLDEST as OLDEST;

/// Why a job did not finish.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobError {
    /// Transient: try again after the backoff (dead after the last attempt).
    Retry(String),
    /// Will not succeed by repeating: a dead letter now, for an operator to look at.
    Permanent(String),
}

/// `Ok(result)`: done, with an optional result kept on the row (a redirect URL).
pub type JobResult = Result<Option<String>, JobError>;

pub trait Handler: Send + Sync + 'static {
    fn handle<'a>(
        &'a self,
        job: &'a OutboxJob,
    ) -> Pin<Box<dyn Future<Output = JobResult> + Send + 'a>>;

    /// The job failed for the last time: release what waits on it (a cart's dovuti), before
    /// it becomes a dead letter. Must be idempotent: after a crash it may run again. An
    /// error keeps the job pending, so the release is tried again after the backoff.
    fn dead<'a>(
        &'a self,
        _job: &'a OutboxJob,
        _why: &'a str,
    ) -> Pin<Box<dyn Future<Output = Result<(), String>> + Send + 'a>> {
        Box::pin(async { Ok(()) })
    }
}

#[derive(Debug, Clone)]
pub struct Settings {
    pub workers: u32,
    pub lease: Duration,
    pub max_attempts: u32,
    /// The SANP slot time of the backoff.
    pub slot: Duration,
    pub poll: Duration,
    /// Only these kinds (all when `None`): lets tests and specialised instances split work.
    pub kinds: Option<Vec<String>>,
}

impl Settings {
    pub fn from_config(c: &crate::config::Config) -> Settings {
        Settings {
            workers: c.outbox.workers,
            lease: Duration::from_secs(u64::from(c.outbox.lease_seconds)),
            max_attempts: c.outbox.max_attempts,
            slot: Duration::from_millis(c.nodo.read_timeout_ms),
            poll: Duration::from_millis(c.outbox.poll_ms),
            kinds: None,
        }
    }
}

/// The wait after the `k`-th failed attempt (k ≥ 1): `slot × (2^k − 1)`.
pub fn backoff(slot: Duration, k: u32) -> Duration {
    slot.saturating_mul((1u32 << k.min(16)) - 1)
}

/// Jobs a worker claims at once.
const BATCH: i64 = 8;
/// How long a job done may wait to be marked so with the others of its batch.
const SEGNA_ENTRO: Duration = Duration::from_millis(50);

#[derive(Clone)]
pub struct Outbox {
    store: Store,
    owner: String,
    settings: Settings,
    handler: Arc<dyn Handler>,
}

impl Outbox {
    /// `owner` names this instance in leases (host + process + random, by default).
    pub fn new(store: Store, settings: Settings, handler: Arc<dyn Handler>) -> Outbox {
        let owner = format!(
            "{}-{}-{}",
            hostname(),
            std::process::id(),
            &uuid::Uuid::new_v4().simple().to_string()[..8]
        );
        Outbox {
            store,
            owner,
            settings,
            handler,
        }
    }

    pub fn owner(&self) -> &str {
        &self.owner
    }

    /// Claims and runs one batch; how many jobs were taken.
    pub async fn run_once(&self, batch: i64) -> Result<usize, crate::store::StoreError> {
        let jobs = self
            .store
            .outbox()
            .claim(
                &self.owner,
                self.settings.kinds.as_deref(),
                self.settings.lease,
                batch,
            )
            .await?;
        if jobs.is_empty() {
            return Ok(0);
        }
        // The batch is run one job at a time while its leases are renewed every third of a
        // lease: a job waiting behind a slow one, or a call slower than the lease, is never
        // taken by another worker and sent twice.
        let ids: Vec<i64> = jobs.iter().map(|j| j.id).collect();
        // The batch's own writes on its rows (marks, renewals) one at a time: they run
        // beside the jobs, and two of them at once would lock the same rows in different
        // orders (a deadlock on PostgreSQL).
        let righe = tokio::sync::Mutex::new(());
        let run = async {
            // Jobs done are marked so together, one transaction for the batch (on SQLite
            // one turn at the single writer instead of one per job: each turn is a commit a
            // receipt from the Nodo may have to wait for), yet no later than SEGNA_ENTRO
            // after the first of them, even while a slow job runs (its outcome is what an
            // operator or a retried cart reads). A crash before the mark runs a job again,
            // which its handler's protocol key makes harmless.
            let mut fatti: Vec<(i64, Option<String>)> = Vec::new();
            let mut entro = tokio::time::Instant::now();
            for job in &jobs {
                let corsa = self.run_job(job);
                tokio::pin!(corsa);
                let esito = if fatti.is_empty() {
                    corsa.await
                } else {
                    tokio::select! {
                        r = &mut corsa => r,
                        () = tokio::time::sleep_until(entro) => {
                            // Marked while the job goes on: the job may be waiting for
                            // SQLite's writer itself, and a mark in line behind a job that
                            // nobody polls would hold every writer until its deadline.
                            let (segnati, r) = tokio::join!(
                                self.segna_fatti(&righe, &jobs, std::mem::take(&mut fatti)),
                                &mut corsa
                            );
                            segnati?;
                            r
                        }
                    }
                };
                let esito = match esito {
                    Ok(esito) => esito,
                    Err(scrittura) => {
                        // This job's outcome could not be written (the database went away
                        // for a moment): the jobs done before it are still marked, if the
                        // database lets us, rather than run again once their lease ends.
                        if let Err(segno) = self.segna_fatti(&righe, &jobs, fatti).await {
                            tracing::warn!(error = %segno, "jobs done but not marked: they run again after their lease");
                        }
                        return Err(scrittura);
                    }
                };
                if let Some(risultato) = esito {
                    if fatti.is_empty() {
                        entro = tokio::time::Instant::now() + SEGNA_ENTRO;
                    }
                    fatti.push((job.id, risultato));
                }
            }
            self.segna_fatti(&righe, &jobs, fatti).await?;
            Ok(jobs.len())
        };
        tokio::pin!(run);
        let every = (self.settings.lease / 3).max(Duration::from_millis(100));
        loop {
            tokio::select! {
                r = &mut run => return r,
                () = tokio::time::sleep(every) => {
                    // Renewed while the batch goes on, for the same reason as the marks.
                    let rinnovo = async {
                        let _righe = righe.lock().await;
                        self.store
                            .outbox()
                            .renew(&ids, &self.owner, self.settings.lease)
                            .await
                    };
                    tokio::pin!(rinnovo);
                    let finito = tokio::select! {
                        r = &mut run => Some(r),
                        e = &mut rinnovo => {
                            rinnovo_fallito(e);
                            None
                        }
                    };
                    if let Some(r) = finito {
                        rinnovo_fallito(rinnovo.await);
                        return r;
                    }
                }
            }
        }
    }

    /// Marks done, in one transaction, the jobs of `fatti` (id, result), of the batch `jobs`,
    /// once no other write of the batch on its rows (`righe`) runs.
    async fn segna_fatti(
        &self,
        righe: &tokio::sync::Mutex<()>,
        jobs: &[OutboxJob],
        fatti: Vec<(i64, Option<String>)>,
    ) -> Result<(), crate::store::StoreError> {
        if fatti.is_empty() {
            return Ok(());
        }
        let _righe = righe.lock().await;
        for id in self.store.outbox().done_many(&fatti, &self.owner).await? {
            let kind = jobs.iter().find(|j| j.id == id).map(|j| j.kind.as_str());
            tracing::warn!(id, kind, "job finished after its lease was taken over");
        }
        Ok(())
    }

    /// Runs one job; `Some(result)` when it is done and waits to be marked so (by the
    /// caller, with the batch's others), `None` when its outcome is written already.
    async fn run_job(
        &self,
        job: &OutboxJob,
    ) -> Result<Option<Option<String>>, crate::store::StoreError> {
        use tracing::Instrument;
        // Every line the handler logs (a Nodo call, a flow stored, an e-mail) carries the
        // job, so one payment is followed from its request to what was sent for it. The
        // claim counted this attempt already.
        let span = tracing::info_span!("job", id = job.id, kind = %job.kind, ref_id = job.ref_id, attempt = job.attempts);
        self.run_job_in_span(job).instrument(span).await
    }

    async fn run_job_in_span(
        &self,
        job: &OutboxJob,
    ) -> Result<Option<Option<String>>, crate::store::StoreError> {
        use futures_util::FutureExt;
        // A handler that panics fails this attempt (retried after the backoff, like any
        // transient failure) instead of killing the worker and leaving the job to its lease.
        let outcome = std::panic::AssertUnwindSafe(self.handler.handle(job))
            .catch_unwind()
            .await
            .unwrap_or_else(|p| {
                tracing::error!(id = job.id, kind = %job.kind, "job handler panicked");
                Err(JobError::Retry(crate::supervise::panic_message(p)))
            });
        let attempts = u32::try_from(job.attempts).unwrap_or(u32::MAX);
        let mut fatto = None;
        let label = match outcome {
            Ok(result) => {
                fatto = Some(result);
                "done"
            }
            Err(JobError::Retry(why)) if attempts < self.settings.max_attempts => {
                let wait = backoff(self.settings.slot, attempts);
                tracing::info!(id = job.id, kind = %job.kind, attempts, ?wait, error = %why, "job will be retried");
                self.store
                    .outbox()
                    .failed(job.id, &self.owner, &why, Some(wait))
                    .await?;
                "retry"
            }
            Err(JobError::Retry(why) | JobError::Permanent(why)) => {
                if let Err(e) = self.handler.dead(job, &why).await {
                    let wait = backoff(self.settings.slot, attempts);
                    tracing::warn!(id = job.id, kind = %job.kind, error = %e, "releasing a failed job's work failed: kept pending");
                    self.store
                        .outbox()
                        .failed(job.id, &self.owner, &why, Some(wait))
                        .await?;
                    "retry"
                } else {
                    tracing::error!(id = job.id, kind = %job.kind, attempts, error = %why, "job is a dead letter");
                    self.store
                        .outbox()
                        .failed(job.id, &self.owner, &why, None)
                        .await?;
                    "dead"
                }
            }
        };
        metrics::counter!(JOBS, "kind" => job.kind.clone(), "outcome" => label).increment(1);
        tracing::info!(outcome = label, "job ran");
        Ok(fatto)
    }

    /// Runs the workers until `shutdown` resolves; a job in hand is finished first.
    pub async fn run(self, shutdown: impl Future<Output = ()> + Send + 'static) {
        let (tx, rx) = tokio::sync::watch::channel(false);
        let mut tasks = Vec::new();
        for n in 0..self.settings.workers {
            let (me, mut rx) = (self.clone(), rx.clone());
            // Background work: its claims and marks yield to the writes a caller waits
            // on (`store::turno`).
            tasks.push(tokio::spawn(crate::store::turno::sullo_sfondo(
                async move {
                    loop {
                        if *rx.borrow() {
                            break;
                        }
                        // A batch less than full means the queue is drained: the worker
                        // waits a poll before claiming again, so that under a steady trickle
                        // (an e-mail per receipt) jobs are claimed and marked done several at
                        // a time, not one commit each, while a backlog is worked through
                        // without pause.
                        let idle = match me.run_once(BATCH).await {
                            Ok(n) => n < BATCH as usize,
                            Err(e) => {
                                tracing::warn!(error = %e, worker = n, "outbox claim failed");
                                true
                            }
                        };
                        if idle {
                            tokio::select! {
                                _ = tokio::time::sleep(me.settings.poll) => {}
                                _ = rx.changed() => {}
                            }
                        }
                    }
                },
            )));
        }
        shutdown.await;
        let _ = tx.send(true);
        for t in tasks {
            let _ = t.await;
        }
    }
}

fn rinnovo_fallito<T>(e: Result<T, crate::store::StoreError>) {
    if let Err(e) = e {
        tracing::warn!(error = %e, "outbox lease renewal failed");
    }
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_owned())
        .unwrap_or_else(|_| "gateway".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_is_the_sanp_slot_times_two_to_the_k_minus_one() {
        let s = Duration::from_secs(2);
        let waits: Vec<u64> = (1..=5).map(|k| backoff(s, k).as_secs()).collect();
        assert_eq!(waits, [2, 6, 14, 30, 62]);
        assert_eq!(backoff(s, 0), Duration::ZERO);
    }
}
