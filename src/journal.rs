//! The message journal: every SOAP exchange in both directions with its raw bodies, for
//! operators and audits. Recording never makes a request wait on the database: entries go
//! into a queue bounded by bytes (bodies reach 4 MiB, so a count alone bounds nothing) that
//! writer tasks commit in batches, several batches at once on PostgreSQL. Sized so that at
//! any rate the PA endpoint sustains the queue drains (the overload bench prints the
//! writer's capacity against the served rate); beyond it an entry is dropped and counted
//! (`pagopa_gateway_journal_dropped_total{reason}`) rather than slowing the Nodo down. The
//! journal is the audit record; receipts themselves are stored synchronously by their own
//! path before being acknowledged.

use crate::store::{JournalEntry, Store};
use futures_util::FutureExt;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::task::{JoinHandle, JoinSet};

pub use crate::metrics::JOURNAL_DROPPED as DROPPED;
pub use crate::metrics::JOURNAL_QUEUED_BYTES as QUEUED_BYTES;
pub use crate::metrics::JOURNAL_WRITTEN as WRITTEN;
/// Entries per batch: one transaction (and one WAL sync) for up to this many.
const BATCH: usize = 1_000;
const LINGER: Duration = Duration::from_millis(20);
/// What an entry costs in the queue beyond its bodies (its fields and the channel slot).
const OVERHEAD: usize = 256;

/// How much the journal may hold in memory and how many batches it writes at once.
#[derive(Debug, Clone, Copy)]
pub struct Limiti {
    pub queue_bytes: usize,
    pub writers: usize,
}

impl Limiti {
    /// PostgreSQL commits batches in parallel (each waits on its own WAL flush), up to 4
    /// and never more than a quarter of the pool, which serves the Nodo first; SQLite has
    /// one writer anyway.
    pub fn for_store(store: &Store, queue_bytes: usize, pool: u32) -> Limiti {
        let writers = if store.backend() == "postgres" {
            (pool as usize / 4).clamp(1, 4)
        } else {
            1
        };
        Limiti {
            queue_bytes,
            writers,
        }
    }
}

pub const DEFAULT_QUEUE_BYTES: usize = 256 << 20;

#[derive(Clone)]
pub struct Journal {
    tx: mpsc::UnboundedSender<(JournalEntry, usize)>,
    conti: Arc<Conti>,
    budget: usize,
}

/// This journal's own counts (the metrics are process-wide).
#[derive(Default)]
struct Conti {
    queued: AtomicUsize,
    written: AtomicUsize,
    dropped: AtomicUsize,
}

/// The writer task and the switch that ends it (after writing what is queued).
pub struct JournalWriter {
    handle: JoinHandle<()>,
    close: tokio::sync::oneshot::Sender<()>,
}

impl JournalWriter {
    /// Stops accepting entries, writes the queued ones and waits up to `timeout`;
    /// `false` if the writer did not finish in time.
    pub async fn close(self, timeout: Duration) -> bool {
        let _ = self.close.send(());
        tokio::time::timeout(timeout, self.handle).await.is_ok()
    }
}

fn cost(e: &JournalEntry) -> usize {
    e.request.len() + e.response.len() + e.operation.len() + OVERHEAD
}

impl Journal {
    /// Starts the writer with the default limits.
    pub fn start(store: Store) -> (Journal, JournalWriter) {
        let l = Limiti::for_store(&store, DEFAULT_QUEUE_BYTES, 16);
        Self::start_with(store, l)
    }

    /// Starts the writer; it ends, after flushing, when closed or when every `Journal`
    /// clone is dropped.
    pub fn start_with(store: Store, limiti: Limiti) -> (Journal, JournalWriter) {
        let (tx, mut rx) = mpsc::unbounded_channel::<(JournalEntry, usize)>();
        let (close, mut closed) = tokio::sync::oneshot::channel::<()>();
        let conti = Arc::new(Conti::default());
        let in_queue = conti.clone();
        let writers = limiti.writers.max(1);
        let handle = tokio::spawn(async move {
            let mut writing: JoinSet<()> = JoinSet::new();
            let mut closing = false;
            let mut batch = Vec::with_capacity(BATCH);
            loop {
                // A writer free before taking more: the queue, not this task, holds the rest.
                while writing.len() >= writers {
                    writing.join_next().await;
                }
                let n = tokio::select! {
                    n = rx.recv_many(&mut batch, BATCH) => n,
                    Some(_) = writing.join_next(), if !writing.is_empty() => continue,
                    r = &mut closed, if !closing => {
                        // Closed: no new entries; the queued ones are still received below.
                        // (A dropped switch closes nothing: the senders decide then.)
                        if r.is_ok() {
                            rx.close();
                        }
                        closing = true;
                        continue;
                    }
                };
                if n == 0 {
                    break;
                }
                // Linger a little for a fuller batch: under load one commit (and one WAL
                // sync) then carries hundreds of entries instead of a handful.
                if batch.len() < BATCH && !closing {
                    tokio::time::sleep(LINGER).await;
                    while batch.len() < BATCH {
                        match rx.try_recv() {
                            Ok(e) => batch.push(e),
                            Err(_) => break,
                        }
                    }
                }
                // A fresh buffer only when a batch leaves (not on every turn of the loop).
                let full = std::mem::replace(&mut batch, Vec::with_capacity(BATCH));
                // Background work: its batches yield to the writes a caller waits on.
                writing.spawn(crate::store::turno::sullo_sfondo(write_batch(
                    store.clone(),
                    full,
                    in_queue.clone(),
                )));
            }
            while writing.join_next().await.is_some() {}
        });
        (
            Journal {
                tx,
                conti,
                budget: limiti.queue_bytes,
            },
            JournalWriter { handle, close },
        )
    }

    pub fn record(&self, entry: JournalEntry) {
        let c = cost(&entry);
        let q = &self.conti.queued;
        let before = q.fetch_add(c, Ordering::Relaxed);
        let reason = if before + c > self.budget {
            "queue_full"
        } else if self.tx.send((entry, c)).is_err() {
            // The writer is gone (shutdown): nothing will write it.
            "closed"
        } else {
            metrics::gauge!(QUEUED_BYTES).increment(c as f64);
            return;
        };
        q.fetch_sub(c, Ordering::Relaxed);
        self.conti.dropped.fetch_add(1, Ordering::Relaxed);
        metrics::counter!(DROPPED, "reason" => reason).increment(1);
    }

    /// Bytes waiting to be written (entries recorded and not yet committed).
    pub fn queued_bytes(&self) -> usize {
        self.conti.queued.load(Ordering::Relaxed)
    }

    /// Entries this journal committed and entries it dropped, since it started.
    pub fn counts(&self) -> (usize, usize) {
        (
            self.conti.written.load(Ordering::Relaxed),
            self.conti.dropped.load(Ordering::Relaxed),
        )
    }
}

/// Writes one batch, retrying a few times (a database restart), then gives up on it; the
/// queue's bytes are released either way.
async fn write_batch(store: Store, batch: Vec<(JournalEntry, usize)>, conti: Arc<Conti>) {
    let bytes: usize = batch.iter().map(|(_, c)| c).sum();
    let entries: Vec<JournalEntry> = batch.into_iter().map(|(e, _)| e).collect();
    let mut attempt = 0;
    loop {
        // A panic in the write (a bug) fails the attempt, not the writer: the writer is
        // the journal's only consumer, so its end would drop every later exchange.
        let written = match std::panic::AssertUnwindSafe(store.journal().insert(&entries))
            .catch_unwind()
            .await
        {
            Ok(r) => r.map_err(|e| e.to_string()),
            Err(p) => Err(crate::supervise::panic_message(p)),
        };
        match written {
            Ok(()) => {
                conti.written.fetch_add(entries.len(), Ordering::Relaxed);
                metrics::counter!(WRITTEN).increment(entries.len() as u64);
                break;
            }
            Err(e) if attempt < 3 => {
                attempt += 1;
                tracing::warn!(error = %e, attempt, "journal write failed, retrying");
                tokio::time::sleep(Duration::from_millis(200 * attempt)).await;
            }
            Err(e) => {
                tracing::error!(error = %e, lost = entries.len(), "journal batch not written");
                conti.dropped.fetch_add(entries.len(), Ordering::Relaxed);
                metrics::counter!(DROPPED, "reason" => "write_failed")
                    .increment(entries.len() as u64);
                break;
            }
        }
    }
    conti.queued.fetch_sub(bytes, Ordering::Relaxed);
    metrics::gauge!(QUEUED_BYTES).decrement(bytes as f64);
}

/// File names of an exported entry: `<seq>-<operation>-request.xml` / `-response.xml`.
pub fn export_names(id: i64, operation: &str) -> (String, String) {
    let op: String = operation
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect();
    (
        format!("{id:010}-{op}-request.xml"),
        format!("{id:010}-{op}-response.xml"),
    )
}
