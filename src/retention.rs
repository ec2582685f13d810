//! Retention: what grows without end is trimmed, kind by kind, as `retention.*` and
//! `journal.retention_days` say. Each pass deletes in short batches with a pause between
//! them, so that PA requests and imports never wait behind one long statement; several
//! instances may run it at once (each batch is idempotent).

use crate::config::Config;
use crate::store::{Store, StoreResult};
use std::future::Future;
use std::path::PathBuf;
use std::time::{Duration, SystemTime};
use time::OffsetDateTime;

/// What is kept, and for how long.
#[derive(Debug, Clone)]
pub struct Politica {
    pub journal: Duration,
    pub rt_raw: Option<Duration>,
    pub flussi_raw: Option<Duration>,
    pub import_report: Option<Duration>,
    /// The directory of `.eml` files and how long they stay (file transport only).
    pub mail: Option<(PathBuf, Duration)>,
    pub batch: u32,
    /// Between two batches.
    pub pausa: Duration,
}

/// The kinds of data, as the `kind` label of `pagopa_gateway_retention_deleted_total`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tipo {
    Journal,
    RtRaw,
    FlussiRaw,
    ImportReport,
    Mail,
}

impl Tipo {
    pub fn as_str(self) -> &'static str {
        match self {
            Tipo::Journal => "journal",
            Tipo::RtRaw => "rt_raw",
            Tipo::FlussiRaw => "flussi_raw",
            Tipo::ImportReport => "import_report",
            Tipo::Mail => "mail",
        }
    }
}

fn days(d: u32) -> Duration {
    Duration::from_secs(u64::from(d) * 86_400)
}

impl Politica {
    pub fn from_config(c: &Config) -> Politica {
        let r = &c.retention;
        Politica {
            journal: days(c.journal.retention_days),
            rt_raw: r.rt_raw_days.map(days),
            flussi_raw: r.flussi_raw_days.map(days),
            import_report: r.import_report_days.map(days),
            mail: (c.mail.transport == "file")
                .then_some(r.mail_days)
                .flatten()
                .map(|d| (c.data_dir.join("mail"), days(d))),
            batch: r.batch,
            pausa: Duration::from_millis(50),
        }
    }
}

/// Runs a pass now and then every six hours.
pub async fn run(store: Store, politica: Politica) {
    loop {
        let deleted = pass(&store, &politica, OffsetDateTime::now_utc()).await;
        for (tipo, n) in deleted {
            if n > 0 {
                tracing::info!(kind = tipo.as_str(), deleted = n, "retention pass");
            }
        }
        tokio::time::sleep(Duration::from_secs(6 * 3600)).await;
    }
}

/// One pass as of `now`: per kind, how many rows (or files) went. A kind that fails is
/// logged and left for the next pass; the others go on.
pub async fn pass(store: &Store, p: &Politica, now: OffsetDateTime) -> Vec<(Tipo, u64)> {
    let cutoff = |d: Duration| now - d;
    let batch = i64::from(p.batch);
    let mut out = Vec::new();
    let j = drain(p, Tipo::Journal, |_| async move {
        store.journal().prune(cutoff(p.journal), batch).await
    });
    out.push((Tipo::Journal, j.await));
    if let Some(d) = p.rt_raw {
        let n = drain(p, Tipo::RtRaw, |_| async move {
            store.pagamenti().prune_rt_raw(cutoff(d), batch).await
        });
        out.push((Tipo::RtRaw, n.await));
    }
    if let Some(d) = p.flussi_raw {
        let n = drain(p, Tipo::FlussiRaw, |_| async move {
            store
                .riconciliazione()
                .prune_flussi_raw(cutoff(d), batch)
                .await
        });
        out.push((Tipo::FlussiRaw, n.await));
    }
    if let Some(d) = p.import_report {
        let n = drain(p, Tipo::ImportReport, |_| async move {
            store.importazioni().prune_reports(cutoff(d), batch).await
        });
        out.push((Tipo::ImportReport, n.await));
    }
    if let Some((dir, d)) = &p.mail {
        let n = prune_mail(dir.clone(), SystemTime::from(cutoff(*d))).await;
        metrics::counter!(crate::metrics::RETENTION_DELETED, "kind" => Tipo::Mail.as_str())
            .increment(n);
        out.push((Tipo::Mail, n));
    }
    out
}

/// Runs `batch` until a batch finds nothing, pausing between batches; the total.
async fn drain<F, Fut>(p: &Politica, tipo: Tipo, mut batch: F) -> u64
where
    F: FnMut(()) -> Fut,
    Fut: Future<Output = StoreResult<u64>>,
{
    let mut total = 0;
    loop {
        match batch(()).await {
            Ok(0) => return total,
            Ok(n) => {
                total += n;
                metrics::counter!(crate::metrics::RETENTION_DELETED, "kind" => tipo.as_str())
                    .increment(n);
                tokio::time::sleep(p.pausa).await;
            }
            Err(e) => {
                tracing::warn!(kind = tipo.as_str(), error = %e, "retention batch failed");
                return total;
            }
        }
    }
}

/// Removes `.eml` files last modified before `before` (on a blocking thread: a directory
/// of years of mail is a long listing).
async fn prune_mail(dir: PathBuf, before: SystemTime) -> u64 {
    let work = tokio::task::spawn_blocking(move || {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            return 0;
        };
        let mut n = 0;
        for e in entries.flatten() {
            let path = e.path();
            let old = e
                .metadata()
                .and_then(|m| m.modified())
                .is_ok_and(|t| t < before);
            if old && path.extension().is_some_and(|x| x == "eml") {
                match std::fs::remove_file(&path) {
                    Ok(()) => n += 1,
                    Err(err) => {
                        tracing::warn!(path = %path.display(), error = %err, "mail file not removed")
                    }
                }
            }
        }
        n
    });
    work.await.unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn only_old_mail_files_are_removed() {
        let dir = tempfile::tempdir().unwrap();
        let old = SystemTime::now() - Duration::from_secs(100 * 86_400);
        for (name, when) in [
            ("vecchia.eml", old),
            ("recente.eml", SystemTime::now()),
            ("vecchio.txt", old),
        ] {
            let f = std::fs::File::create(dir.path().join(name)).unwrap();
            f.set_modified(when).unwrap();
        }
        let cut = SystemTime::now() - Duration::from_secs(90 * 86_400);
        assert_eq!(prune_mail(dir.path().to_owned(), cut).await, 1);
        let mut left: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        left.sort();
        assert_eq!(left, ["recente.eml", "vecchio.txt"]);
        // A directory not there (no mail sent yet) is nothing to do.
        assert_eq!(prune_mail(dir.path().join("assente"), cut).await, 0);
    }
}
