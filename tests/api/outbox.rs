//! The outbox's promise: several instances on one database take every job exactly once,
//! and a job whose holder died is taken over when its lease expires.

use crate::helpers::*;
use pagopa_gateway::model::StatoJob;
use pagopa_gateway::outbox::{Handler, JobError, JobResult, Outbox, Settings};
use pagopa_gateway::store::{OutboxJob, Store};
use sqlx::Connection;
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Counts how often each job ran; each run takes `takes` (none: a yield); with
/// `panics_first` a job's first run panics.
#[derive(Default)]
struct Counting {
    runs: Mutex<HashMap<i64, u32>>,
    takes: Option<Duration>,
    panics_first: bool,
}

impl Handler for Counting {
    fn handle<'a>(
        &'a self,
        job: &'a OutboxJob,
    ) -> Pin<Box<dyn Future<Output = JobResult> + Send + 'a>> {
        Box::pin(async move {
            let n = {
                let mut runs = self.runs.lock().unwrap();
                let n = runs.entry(job.id).or_default();
                *n += 1;
                *n
            };
            assert!(!(self.panics_first && n == 1), "a bug in a job handler");
            match self.takes {
                Some(t) => tokio::time::sleep(t).await,
                None => tokio::task::yield_now().await,
            }
            Ok(None)
        })
    }
}

fn settings(workers: u32) -> Settings {
    Settings {
        workers,
        lease: Duration::from_secs(60),
        max_attempts: 5,
        slot: Duration::from_millis(100),
        poll: Duration::from_millis(20),
        kinds: Some(vec!["test".into()]),
    }
}

/// `n` jobs of kind `test` in one statement.
async fn enqueue_many(backend: Backend, url: &str, n: i64) {
    let sql = match backend {
        Backend::Postgres => "INSERT INTO outbox (kind, ref_id, payload, stato, attempts, next_attempt_at, created_at, updated_at)
             SELECT 'test', g, '{}', 'PENDING', 0, now() - interval '1 minute', now(), now() FROM generate_series(1, $1) g",
        Backend::Sqlite => "WITH RECURSIVE g(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM g WHERE x < $1)
             INSERT INTO outbox (kind, ref_id, payload, stato, attempts, next_attempt_at, created_at, updated_at)
             SELECT 'test', x, '{}', 'PENDING', 0, '2000-01-01T00:00:00Z', '2000-01-01T00:00:00Z', '2000-01-01T00:00:00Z' FROM g",
    };
    match backend {
        Backend::Postgres => {
            let mut c = sqlx::PgConnection::connect(url).await.unwrap();
            sqlx::query(sql).bind(n).execute(&mut c).await.unwrap();
        }
        Backend::Sqlite => {
            let mut c = sqlx::SqliteConnection::connect(url).await.unwrap();
            sqlx::query(sql).bind(n).execute(&mut c).await.unwrap();
        }
    }
}

/// Runs `a` and `b` until `n` jobs of kind `test` are done (at most `within`), then stops
/// both and waits for them.
async fn run_until_done(store: &Store, a: Outbox, b: Outbox, n: i64, within: Duration) {
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let stop = |mut rx: tokio::sync::watch::Receiver<bool>| async move {
        let _ = rx.wait_for(|s| *s).await;
    };
    let ta = tokio::spawn(a.run(stop(stop_rx.clone())));
    let tb = tokio::spawn(b.run(stop(stop_rx)));
    let deadline = std::time::Instant::now() + within;
    loop {
        let (_, done) = store
            .outbox()
            .list(Some("DONE"), Some("test"), 1, 0)
            .await
            .unwrap();
        if done == n {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "only {done} of {n} done"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    stop_tx.send(true).unwrap();
    ta.await.unwrap();
    tb.await.unwrap();
}

async fn two_instances_do_every_job_exactly_once(backend: Backend, n: i64) {
    let app = TestApp::spawn(backend).await;
    let url = app.config.database.url.clone().unwrap();
    enqueue_many(backend, &url, n).await;
    let counting = Arc::new(Counting::default());
    // Two instances: two pools on the same database, four workers each.
    let a = Outbox::new(app.store(), settings(4), counting.clone());
    let other = Store::connect(&url, 5).await.unwrap();
    let b = Outbox::new(other, settings(4), counting.clone());
    assert_ne!(a.owner(), b.owner());
    let store = app.store();
    run_until_done(&store, a, b, n, Duration::from_secs(240)).await;
    let runs = counting.runs.lock().unwrap().clone();
    assert_eq!(runs.len() as i64, n, "every job ran");
    let twice: Vec<_> = runs.iter().filter(|(_, c)| **c != 1).collect();
    assert!(twice.is_empty(), "jobs run more than once: {twice:?}");
    // Both instances took part.
    let (jobs, _) = store
        .outbox()
        .list(Some("DONE"), Some("test"), 10_000, 0)
        .await
        .unwrap();
    let owners: std::collections::HashSet<_> =
        jobs.iter().filter_map(|j| j.lease_owner.clone()).collect();
    assert_eq!(owners.len(), 2, "both instances worked");
}

#[tokio::test]
async fn two_instances_on_one_postgres_do_each_of_10000_jobs_exactly_once() {
    two_instances_do_every_job_exactly_once(Backend::Postgres, 10_000).await
}

#[tokio::test]
async fn two_instances_on_one_sqlite_file_do_each_of_1000_jobs_exactly_once() {
    two_instances_do_every_job_exactly_once(Backend::Sqlite, 1_000).await
}

/// A worker that claimed a job and died: the job waits for its lease, then another
/// instance runs it; a failing job is retried after the backoff and dies after the
/// last attempt.
async fn expired_lease_is_taken_over_and_failures_end_as_dead_letters(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let store = app.store();
    let id = store
        .outbox()
        .enqueue_payload("test", Some(1), "{}")
        .await
        .unwrap();
    let kinds = vec!["test".to_owned()];
    let claimed = store
        .outbox()
        .claim("crashed", Some(&kinds), Duration::from_secs(1), 10)
        .await
        .unwrap();
    assert_eq!(claimed.len(), 1);
    assert!(
        store
            .outbox()
            .claim("other", Some(&kinds), Duration::from_secs(60), 10)
            .await
            .unwrap()
            .is_empty(),
        "leased"
    );
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let again = store
        .outbox()
        .claim("other", Some(&kinds), Duration::from_secs(60), 10)
        .await
        .unwrap();
    assert_eq!((again.len(), again[0].id, again[0].attempts), (1, id, 2));
    // The crashed holder can no longer complete it; the new one can.
    assert!(!store.outbox().done(id, "crashed", None).await.unwrap());
    assert!(
        store
            .outbox()
            .failed(id, "other", "boom", None)
            .await
            .unwrap()
    );
    let j = store.outbox().get(id).await.unwrap();
    assert_eq!(
        (j.stato, j.last_error.as_deref()),
        (StatoJob::Dead, Some("boom"))
    );
    assert!(store.outbox().retry(id).await.unwrap());
    assert_eq!(
        store.outbox().get(id).await.unwrap().stato,
        StatoJob::Pending
    );
}

#[tokio::test]
async fn expired_lease_is_taken_over_and_failures_end_as_dead_letters_sqlite() {
    expired_lease_is_taken_over_and_failures_end_as_dead_letters(Backend::Sqlite).await
}
#[tokio::test]
async fn expired_lease_is_taken_over_and_failures_end_as_dead_letters_postgres() {
    expired_lease_is_taken_over_and_failures_end_as_dead_letters(Backend::Postgres).await
}

/// Two instances with a 1 s lease and jobs that take 2.5 s each: the holder renews its
/// leases (of the job in hand and of those waiting in its batch), so no job is taken over
/// and sent twice. Without the renewal every job ran two or three times.
async fn a_job_slower_than_its_lease_is_not_taken_over(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let url = app.config.database.url.clone().unwrap();
    enqueue_many(backend, &url, 3).await;
    let slow = Arc::new(Counting {
        takes: Some(Duration::from_millis(2500)),
        ..Counting::default()
    });
    let lease = Settings {
        lease: Duration::from_secs(1),
        ..settings(1)
    };
    let a = Outbox::new(app.store(), lease.clone(), slow.clone());
    let b = Outbox::new(Store::connect(&url, 2).await.unwrap(), lease, slow.clone());
    run_until_done(&app.store(), a, b, 3, Duration::from_secs(60)).await;
    let runs = slow.runs.lock().unwrap().clone();
    assert_eq!(runs.len(), 3, "{runs:?}");
    assert!(
        runs.values().all(|n| *n == 1),
        "jobs run more than once: {runs:?}"
    );
}

#[tokio::test]
async fn a_job_slower_than_its_lease_is_not_taken_over_sqlite() {
    a_job_slower_than_its_lease_is_not_taken_over(Backend::Sqlite).await
}
#[tokio::test]
async fn a_job_slower_than_its_lease_is_not_taken_over_postgres() {
    a_job_slower_than_its_lease_is_not_taken_over(Backend::Postgres).await
}

/// A handler that panics fails that attempt only: the job is retried after the backoff and
/// done, and the workers (one per instance here) live on to run the other jobs.
async fn a_panicking_handler_fails_one_attempt_not_the_worker(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let url = app.config.database.url.clone().unwrap();
    enqueue_many(backend, &url, 3).await;
    let flaky = Arc::new(Counting {
        panics_first: true,
        ..Counting::default()
    });
    let a = Outbox::new(app.store(), settings(1), flaky.clone());
    let b = Outbox::new(app.store(), settings(1), flaky.clone());
    run_until_done(&app.store(), a, b, 3, Duration::from_secs(30)).await;
    let runs = flaky.runs.lock().unwrap().clone();
    assert!(runs.values().all(|n| *n == 2), "{runs:?}");
    let (jobs, _) = app
        .store()
        .outbox()
        .list(Some("DONE"), Some("test"), 10, 0)
        .await
        .unwrap();
    assert!(jobs.iter().all(|j| j.attempts == 2), "{jobs:?}");
}

#[tokio::test]
async fn a_panicking_handler_fails_one_attempt_not_the_worker_sqlite() {
    a_panicking_handler_fails_one_attempt_not_the_worker(Backend::Sqlite).await
}
#[tokio::test]
async fn a_panicking_handler_fails_one_attempt_not_the_worker_postgres() {
    a_panicking_handler_fails_one_attempt_not_the_worker(Backend::Postgres).await
}

/// A worker marks the jobs of its batch done together, yet a job done is marked within a
/// fraction of a second even while the next one in its batch runs for seconds (its outcome
/// is what an operator or a retried cart reads).
async fn a_job_done_is_marked_while_a_slow_one_runs(backend: Backend) {
    /// The job of ref 1 is quick, every other one takes 3 s.
    struct UnoVeloce;
    impl Handler for UnoVeloce {
        fn handle<'a>(
            &'a self,
            job: &'a OutboxJob,
        ) -> Pin<Box<dyn Future<Output = JobResult> + Send + 'a>> {
            Box::pin(async move {
                if job.ref_id != Some(1) {
                    tokio::time::sleep(Duration::from_secs(3)).await;
                }
                Ok(Some(format!("fatto {:?}", job.ref_id)))
            })
        }
    }
    let app = TestApp::spawn(backend).await;
    let url = app.config.database.url.clone().unwrap();
    enqueue_many(backend, &url, 2).await;
    let store = app.store();
    let (stop_tx, mut stop_rx) = tokio::sync::watch::channel(false);
    let worker = tokio::spawn(
        Outbox::new(store.clone(), settings(1), Arc::new(UnoVeloce)).run(async move {
            let _ = stop_rx.wait_for(|s| *s).await;
        }),
    );
    let t = std::time::Instant::now();
    let stato = |store: Store| async move {
        let (jobs, _) = store
            .outbox()
            .list(None, Some("test"), 10, 0)
            .await
            .unwrap();
        jobs.into_iter()
            .map(|j| (j.ref_id, (j.stato, j.result)))
            .collect::<HashMap<_, _>>()
    };
    loop {
        let s = stato(store.clone()).await;
        if s[&Some(1)].0 == StatoJob::Done {
            assert_eq!(s[&Some(1)].1.as_deref(), Some("fatto Some(1)"));
            assert_eq!(s[&Some(2)].0, StatoJob::Pending, "the slow job still runs");
            break;
        }
        assert!(
            t.elapsed() < Duration::from_millis(1500),
            "the quick job waited for the slow one to be marked done"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // The slow one is marked when it ends.
    loop {
        if stato(store.clone()).await[&Some(2)].0 == StatoJob::Done {
            break;
        }
        assert!(t.elapsed() < Duration::from_secs(20), "slow job never done");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    stop_tx.send(true).unwrap();
    worker.await.unwrap();
}

#[tokio::test]
async fn a_job_done_is_marked_while_a_slow_one_runs_sqlite() {
    a_job_done_is_marked_while_a_slow_one_runs(Backend::Sqlite).await
}
#[tokio::test]
async fn a_job_done_is_marked_while_a_slow_one_runs_postgres() {
    a_job_done_is_marked_while_a_slow_one_runs(Backend::Postgres).await
}

/// A job done is marked while the next job of its batch waits for a write of its own. On
/// SQLite the mark waits for the writer's turn that job takes: the mark and the job must go
/// on together, or the job (holding the turn, never polled) held the mark, and every
/// writer of the process, until the mark gave up after the acquire timeout.
async fn a_job_done_is_marked_while_the_next_one_waits_to_write(backend: Backend) {
    /// The batch's first job has the database held by another writer for 400 ms, well past
    /// the 50 ms within which a job done is marked, and ends; the second writes (an empty
    /// journal batch: one write transaction), so it waits for that writer.
    struct SecondoScrive {
        store: Store,
        backend: Backend,
        url: String,
        n: std::sync::atomic::AtomicUsize,
    }
    impl Handler for SecondoScrive {
        fn handle<'a>(
            &'a self,
            job: &'a OutboxJob,
        ) -> Pin<Box<dyn Future<Output = JobResult> + Send + 'a>> {
            Box::pin(async move {
                if self.n.fetch_add(1, std::sync::atomic::Ordering::SeqCst) == 0 {
                    let (presa, tenuta) = tokio::sync::oneshot::channel();
                    tokio::spawn(tieni(self.backend, self.url.clone(), presa));
                    tenuta.await.expect("the database held");
                } else {
                    self.store
                        .journal()
                        .insert(&[])
                        .await
                        .map_err(|e| JobError::Retry(e.to_string()))?;
                }
                Ok(Some(format!("fatto {:?}", job.ref_id)))
            })
        }
    }
    /// Holds the journal table (PostgreSQL) or the whole file (SQLite) for 400 ms, saying
    /// so on `presa` once it does.
    async fn tieni(backend: Backend, url: String, presa: tokio::sync::oneshot::Sender<()>) {
        let lock = lock_table(backend, &url, "journal").await;
        let _ = presa.send(());
        tokio::time::sleep(Duration::from_millis(400)).await;
        lock.release().await;
    }
    let app = TestApp::spawn(backend).await;
    let url = app.config.database.url.clone().unwrap();
    enqueue_many(backend, &url, 2).await;
    let store = app.store();
    let handler = SecondoScrive {
        store: store.clone(),
        backend,
        url,
        n: Default::default(),
    };
    let t = std::time::Instant::now();
    let outbox = Outbox::new(store.clone(), settings(1), Arc::new(handler));
    let fatti = tokio::time::timeout(Duration::from_secs(10), outbox.run_once(2))
        .await
        .expect("the batch ended");
    assert_eq!(fatti.unwrap(), 2);
    assert!(
        t.elapsed() < Duration::from_millis(2500),
        "the batch took {:?}: the mark held by the job that waits to write",
        t.elapsed()
    );
    let (done, _) = store
        .outbox()
        .list(Some("DONE"), Some("test"), 10, 0)
        .await
        .unwrap();
    assert_eq!(done.len(), 2, "both jobs marked done");
}

#[tokio::test]
async fn a_job_done_is_marked_while_the_next_one_waits_to_write_sqlite() {
    a_job_done_is_marked_while_the_next_one_waits_to_write(Backend::Sqlite).await
}
#[tokio::test]
async fn a_job_done_is_marked_while_the_next_one_waits_to_write_postgres() {
    a_job_done_is_marked_while_the_next_one_waits_to_write(Backend::Postgres).await
}

/// Jobs marked done together: each with its result, in one call; one whose lease another
/// instance holds is left to it and named.
async fn jobs_are_marked_done_together_except_those_taken_over(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let url = app.config.database.url.clone().unwrap();
    enqueue_many(backend, &url, 3).await;
    let store = app.store();
    let kinds = vec!["test".to_owned()];
    let mine = store
        .outbox()
        .claim("a", Some(&kinds), Duration::from_secs(60), 2)
        .await
        .unwrap();
    let theirs = store
        .outbox()
        .claim("b", Some(&kinds), Duration::from_secs(60), 10)
        .await
        .unwrap();
    assert_eq!((mine.len(), theirs.len()), (2, 1));
    let fatti = vec![
        (mine[0].id, Some("uno".to_owned())),
        (mine[1].id, None),
        (theirs[0].id, Some("non mio".to_owned())),
    ];
    let persi = store.outbox().done_many(&fatti, "a").await.unwrap();
    assert_eq!(persi, vec![theirs[0].id]);
    let j0 = store.outbox().get(mine[0].id).await.unwrap();
    assert_eq!(
        (j0.stato.as_str(), j0.result.as_deref()),
        ("DONE", Some("uno"))
    );
    assert_eq!(
        store.outbox().get(mine[1].id).await.unwrap().stato,
        StatoJob::Done
    );
    let t = store.outbox().get(theirs[0].id).await.unwrap();
    assert_eq!(
        (t.stato.as_str(), t.lease_owner.as_deref(), t.result),
        ("PENDING", Some("b"), None)
    );
}

#[tokio::test]
async fn jobs_are_marked_done_together_except_those_taken_over_sqlite() {
    jobs_are_marked_done_together_except_those_taken_over(Backend::Sqlite).await
}
#[tokio::test]
async fn jobs_are_marked_done_together_except_those_taken_over_postgres() {
    jobs_are_marked_done_together_except_those_taken_over(Backend::Postgres).await
}

/// A job whose outcome cannot be written (the database refuses the write) ends the batch
/// with the error, but the jobs done before it in the batch are still marked done: they are
/// not run again when their lease ends. A trigger refuses exactly that one write.
async fn jobs_done_before_a_failed_write_are_still_marked(backend: Backend) {
    use pagopa_gateway::outbox::JobError;
    /// Ref 1 succeeds; every other job fails with the error the trigger refuses to store.
    struct SecondoRotto;
    impl Handler for SecondoRotto {
        fn handle<'a>(
            &'a self,
            job: &'a OutboxJob,
        ) -> Pin<Box<dyn Future<Output = JobResult> + Send + 'a>> {
            Box::pin(async move {
                if job.ref_id == Some(1) {
                    Ok(Some("fatto".to_owned()))
                } else {
                    Err(JobError::Retry("rompi".to_owned()))
                }
            })
        }
    }
    let app = TestApp::spawn(backend).await;
    let url = app.config.database.url.clone().unwrap();
    enqueue_many(backend, &url, 2).await;
    match backend {
        Backend::Postgres => {
            let mut c = sqlx::PgConnection::connect(&url).await.unwrap();
            sqlx::raw_sql(
                "CREATE FUNCTION rifiuta() RETURNS trigger LANGUAGE plpgsql AS
                   $$ BEGIN RAISE EXCEPTION 'scrittura rifiutata'; END $$;
                 CREATE TRIGGER rompi BEFORE UPDATE ON outbox FOR EACH ROW
                   WHEN (NEW.last_error = 'rompi') EXECUTE FUNCTION rifiuta();",
            )
            .execute(&mut c)
            .await
            .unwrap();
        }
        Backend::Sqlite => {
            let mut c = sqlx::SqliteConnection::connect(&url).await.unwrap();
            sqlx::query(
                "CREATE TRIGGER rompi BEFORE UPDATE ON outbox WHEN NEW.last_error = 'rompi'
                 BEGIN SELECT RAISE(ABORT, 'scrittura rifiutata'); END",
            )
            .execute(&mut c)
            .await
            .unwrap();
        }
    }
    let store = app.store();
    let outbox = Outbox::new(store.clone(), settings(1), Arc::new(SecondoRotto));
    let e = outbox
        .run_once(8)
        .await
        .expect_err("the refused write ends the batch");
    assert!(e.to_string().contains("scrittura rifiutata"), "{e}");
    let (jobs, _) = store
        .outbox()
        .list(None, Some("test"), 10, 0)
        .await
        .unwrap();
    let per_ref: HashMap<_, _> = jobs
        .into_iter()
        .map(|j| (j.ref_id, (j.stato, j.result)))
        .collect();
    assert_eq!(
        per_ref[&Some(1)],
        (StatoJob::Done, Some("fatto".to_owned())),
        "the job done before the failure is marked"
    );
    assert_eq!(per_ref[&Some(2)].0, StatoJob::Pending);
}

#[tokio::test]
async fn jobs_done_before_a_failed_write_are_still_marked_sqlite() {
    jobs_done_before_a_failed_write_are_still_marked(Backend::Sqlite).await
}
#[tokio::test]
async fn jobs_done_before_a_failed_write_are_still_marked_postgres() {
    jobs_done_before_a_failed_write_are_still_marked(Backend::Postgres).await
}
