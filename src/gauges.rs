//! Gauges an operator acts on, read when Prometheus scrapes: the outbox (depth by kind and
//! state, dead letters, age of the oldest job), receipts in quarantine, the reconciliation
//! queue and its lag, when the last flow came, the database pool, and when each
//! certificate expires. Several instances on one database report the same database-wide
//! figures (alert on their `max`); the pool is each instance's own.

use crate::model::{StatoJob, TipoJob};
use crate::store::Store;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::{Duration, Instant};
use time::OffsetDateTime;

/// Scrapes closer together than this reuse the last reading: a dashboard refreshed by
/// many people does not turn into queries.
const FRESH: Duration = Duration::from_secs(5);
/// Longest a reading may wait for the database: a scrape must answer even when the
/// database does not (the gauges then keep their last value).
const WAIT: Duration = Duration::from_secs(2);

pub struct Sonde {
    store: Store,
    certificati: Vec<(&'static str, PathBuf)>,
    last: Mutex<Option<Instant>>,
}

impl Sonde {
    pub fn new(store: Store, certificati: Vec<(&'static str, PathBuf)>) -> Sonde {
        Sonde {
            store,
            certificati,
            last: Mutex::new(None),
        }
    }

    /// Refreshes the gauges unless that was done in the last [`FRESH`].
    pub async fn refresh(&self) {
        {
            let mut last = self.last.lock().unwrap_or_else(|p| p.into_inner());
            if last.is_some_and(|t| t.elapsed() < FRESH) {
                return;
            }
            *last = Some(Instant::now());
        }
        self.pool();
        self.certificates();
        if tokio::time::timeout(WAIT, self.database()).await.is_err() {
            tracing::warn!(
                "metrics: the database did not answer in time; gauges keep their last values"
            );
        }
    }

    fn pool(&self) {
        let (size, idle, max) = self.store.pool_usage();
        let g = |state: &'static str, v: u32| {
            metrics::gauge!(crate::metrics::DB_POOL_CONNECTIONS, "state" => state).set(v)
        };
        g("in_use", size.saturating_sub(idle));
        g("idle", idle);
        metrics::gauge!(crate::metrics::DB_POOL_MAX).set(max);
    }

    fn certificates(&self) {
        for (name, path) in &self.certificati {
            match not_after(path) {
                Some(t) => metrics::gauge!(crate::metrics::CERT_EXPIRY, "certificate" => *name)
                    .set(t.unix_timestamp() as f64),
                None => {
                    tracing::warn!(certificate = name, path = %path.display(), "metrics: certificate unreadable")
                }
            }
        }
    }

    async fn database(&self) {
        let now = OffsetDateTime::now_utc();
        let age =
            |t: Option<OffsetDateTime>| t.map_or(0.0, |t| (now - t).as_seconds_f64().max(0.0));
        match self.store.outbox().stats().await {
            Ok(stats) => {
                // Every kind and state is written, zero included: a gauge left at its last
                // count after the dead letters were retried would keep an alert firing.
                for kind in TipoJob::TUTTI {
                    for stato in [StatoJob::Pending, StatoJob::Dead] {
                        let row = stats
                            .iter()
                            .find(|(k, s, _, _)| k == kind.as_str() && s == stato.as_str());
                        let n = row.map_or(0, |r| r.2);
                        metrics::gauge!(crate::metrics::OUTBOX_DEPTH, "kind" => kind.as_str(), "stato" => stato.as_str())
                            .set(n as f64);
                        if stato == StatoJob::Pending {
                            metrics::gauge!(crate::metrics::OUTBOX_OLDEST, "kind" => kind.as_str())
                                .set(age(row.and_then(|r| r.3)));
                        }
                    }
                }
            }
            Err(e) => tracing::warn!(error = %e, "metrics: outbox not read"),
        }
        match self.store.pagamenti().gauges().await {
            Ok((quarantena, attese)) => {
                metrics::gauge!(crate::metrics::RT_QUARANTINE).set(quarantena as f64);
                metrics::gauge!(crate::metrics::ACTIVATIONS_PENDING).set(attese as f64);
            }
            Err(e) => tracing::warn!(error = %e, "metrics: receipts not read"),
        }
        match self.store.riconciliazione().gauges().await {
            Ok((coda, oldest, flusso)) => {
                metrics::gauge!(crate::metrics::RECON_QUEUE_KEYS).set(coda as f64);
                metrics::gauge!(crate::metrics::RECON_QUEUE_OLDEST).set(age(oldest));
                metrics::gauge!(crate::metrics::FLOWS_LAST_STORED)
                    .set(flusso.map_or(0.0, |t| t.unix_timestamp() as f64));
            }
            Err(e) => tracing::warn!(error = %e, "metrics: reconciliation queue not read"),
        }
    }
}

/// The end of validity of the first certificate in a PEM file.
pub fn not_after(path: &std::path::Path) -> Option<OffsetDateTime> {
    let certs = crate::tls::load_certs(path).ok()?;
    let first = certs.first()?;
    let (_, cert) = x509_parser::parse_x509_certificate(first.as_ref()).ok()?;
    Some(cert.validity().not_after.to_datetime())
}
