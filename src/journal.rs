//! The message journal: every SOAP exchange in both directions with its raw bodies, for
//! operators and audits. Recording never makes a request wait on the database: entries go
//! through a bounded channel to one writer task that commits them in batches. A full
//! channel drops the entry and counts it (`pagopa_gateway_journal_dropped_total`) rather
//! than slowing the Nodo down. The journal is a diagnostic record; receipts themselves are
//! stored synchronously by their own path before being acknowledged.

use crate::store::{JournalEntry, Store};
use futures_util::FutureExt;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

pub const DROPPED: &str = "pagopa_gateway_journal_dropped_total";
pub const WRITTEN: &str = "pagopa_gateway_journal_written_total";
const CAPACITY: usize = 10_000;
const BATCH: usize = 500;
const LINGER: Duration = Duration::from_millis(20);

#[derive(Clone)]
pub struct Journal {
    tx: mpsc::Sender<JournalEntry>,
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

impl Journal {
    /// Starts the writer; it ends, after flushing, when closed or when every `Journal`
    /// clone is dropped.
    pub fn start(store: Store) -> (Journal, JournalWriter) {
        let (tx, mut rx) = mpsc::channel::<JournalEntry>(CAPACITY);
        let (close, mut closed) = tokio::sync::oneshot::channel::<()>();
        let handle = tokio::spawn(async move {
            let mut batch = Vec::with_capacity(BATCH);
            let mut closing = false;
            loop {
                let n = tokio::select! {
                    n = rx.recv_many(&mut batch, BATCH) => n,
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
                // Retry a failing batch a few times (database restart), then give up on it.
                let mut attempt = 0;
                loop {
                    // A panic in the write (a bug) fails the attempt, not the writer: the
                    // writer is the journal's only consumer, so its end would drop every
                    // later exchange.
                    let written = match std::panic::AssertUnwindSafe(store.journal().insert(&batch))
                        .catch_unwind()
                        .await
                    {
                        Ok(r) => r.map_err(|e| e.to_string()),
                        Err(p) => Err(crate::supervise::panic_message(p)),
                    };
                    match written {
                        Ok(()) => {
                            metrics::counter!(WRITTEN).increment(batch.len() as u64);
                            break;
                        }
                        Err(e) if attempt < 3 => {
                            attempt += 1;
                            tracing::warn!(error = %e, attempt, "journal write failed, retrying");
                            tokio::time::sleep(Duration::from_millis(200 * attempt)).await;
                        }
                        Err(e) => {
                            tracing::error!(error = %e, lost = batch.len(), "journal batch not written");
                            metrics::counter!(DROPPED).increment(batch.len() as u64);
                            break;
                        }
                    }
                }
                batch.clear();
            }
        });
        (Journal { tx }, JournalWriter { handle, close })
    }

    pub fn record(&self, entry: JournalEntry) {
        if self.tx.try_send(entry).is_err() {
            metrics::counter!(DROPPED).increment(1);
        }
    }
}

/// Deletes entries older than `retention_days`, now and then every six hours.
pub async fn retention(store: Store, retention_days: u32) {
    loop {
        let before =
            time::OffsetDateTime::now_utc() - time::Duration::days(i64::from(retention_days));
        match store.journal().prune(before).await {
            Ok(n) if n > 0 => tracing::info!(deleted = n, retention_days, "journal pruned"),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "journal pruning failed"),
        }
        tokio::time::sleep(Duration::from_secs(6 * 3600)).await;
    }
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
