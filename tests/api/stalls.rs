//! A database that stalls (its tables locked by another session): the PA endpoint answers
//! PAA_SYSTEM_ERROR within its deadline and REST 503 within the lock timeout, instead of
//! keeping the caller waiting past the Nodo's 7 s; both recover once the lock is gone.

use crate::fakes::eventually;
use crate::helpers::*;
use crate::pa_attiva::{attiva, setup};
use axum::http::StatusCode;
use pagopa_gateway::soap::sanp2::Esito;
use sqlx::Connection;
use std::time::{Duration, Instant};

/// A gateway with its waits set by `tweak`, a payable dovuto (its IUV), and the `dovuto`
/// table locked by another session.
async fn stalled(
    backend: Backend,
    tweak: impl FnOnce(&mut pagopa_gateway::config::Config),
) -> (TestApp, String, Lock) {
    let mut app = TestApp::spawn_with(backend, tweak).await;
    let iuv = setup(&mut app).await;
    let url = app.config.database.url.clone().unwrap();
    let lock = lock_table(backend, &url, "dovuto").await;
    (app, iuv, lock)
}

async fn a_stalled_database_is_answered_in_time_and_recovered_from(backend: Backend) {
    let (app, iuv, lock) = stalled(backend, |c| {
        c.database.lock_timeout_ms = 1_000;
        c.database.acquire_timeout_ms = 1_000;
        c.pa_soap.deadline_ms = 1_500;
    })
    .await;

    let t = Instant::now();
    let e = attiva(&app, &iuv, "100.00").await;
    let took = t.elapsed();
    assert_eq!(
        (e.esito, e.fault.as_ref().map(|f| f.fault_code.as_str())),
        (Esito::KO, Some("PAA_SYSTEM_ERROR")),
        "{e:?}"
    );
    assert!(took < Duration::from_secs(3), "answered after {took:?}");

    let t = Instant::now();
    let (s, b) = app
        .post(
            "/api/v1/enti/80007580279/dovuti",
            ADMIN,
            dovuto_json("IUD-2", "5.00"),
        )
        .await;
    let took = t.elapsed();
    assert_eq!(
        (s, b["code"].as_str()),
        (StatusCode::SERVICE_UNAVAILABLE, Some("SERVICE_UNAVAILABLE")),
        "{b}"
    );
    assert!(took < Duration::from_secs(3), "answered after {took:?}");

    // Nothing half-applied, and back by itself once the lock is gone.
    lock.release().await;
    let e = attiva(&app, &iuv, "100.00").await;
    assert_eq!(e.esito, Esito::OK, "{e:?}");
    let (s, b) = app
        .post(
            "/api/v1/enti/80007580279/dovuti",
            ADMIN,
            dovuto_json("IUD-2", "5.00"),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
}

#[tokio::test]
async fn a_stalled_database_is_answered_in_time_and_recovered_from_sqlite() {
    a_stalled_database_is_answered_in_time_and_recovered_from(Backend::Sqlite).await
}
#[tokio::test]
async fn a_stalled_database_is_answered_in_time_and_recovered_from_postgres() {
    a_stalled_database_is_answered_in_time_and_recovered_from(Backend::Postgres).await
}

/// A PA request past its deadline is answered at once, but its work is not cut off: a
/// statement cut mid-flight can strand its PostgreSQL connection (sqlx is not cancel-safe)
/// until the pool is empty and nothing is served. The activation answered "retry" goes on
/// and commits once the lock is gone, and the pool is whole afterwards.
async fn work_past_the_deadline_runs_to_its_end(backend: Backend) {
    let (app, iuv, lock) = stalled(backend, |c| {
        c.database.max_connections = 4;
        c.database.lock_timeout_ms = 5_000;
        c.database.acquire_timeout_ms = 5_000;
        c.pa_soap.deadline_ms = 300;
    })
    .await;
    let t = Instant::now();
    let e = attiva(&app, &iuv, "100.00").await;
    assert_eq!(
        e.fault.as_ref().map(|f| f.fault_code.as_str()),
        Some("PAA_SYSTEM_ERROR"),
        "{e:?}"
    );
    assert!(t.elapsed() < Duration::from_secs(2));
    tokio::time::sleep(Duration::from_millis(300)).await;
    lock.release().await;
    let store = app.store();
    assert!(
        eventually(5, async || {
            store
                .dovuti()
                .get("80007580279", "IUD-1")
                .await
                .unwrap()
                .stato
                == pagopa_gateway::model::StatoDovuto::PagamentoIniziato
        })
        .await,
        "the activation answered PAA_SYSTEM_ERROR was cut off instead of completed"
    );
    // Twice as many requests at once as the pool has connections: all served.
    let calls = (0..8).map(|_| app.get("/api/v1/enti/80007580279/dovuti/IUD-1", ADMIN));
    let t = Instant::now();
    for (s, b) in futures_util::future::join_all(calls).await {
        assert_eq!(s, StatusCode::OK, "{b}");
    }
    assert!(t.elapsed() < Duration::from_secs(3), "{:?}", t.elapsed());
}

#[tokio::test]
async fn work_past_the_deadline_runs_to_its_end_sqlite() {
    work_past_the_deadline_runs_to_its_end(Backend::Sqlite).await
}
#[tokio::test]
async fn work_past_the_deadline_runs_to_its_end_postgres() {
    work_past_the_deadline_runs_to_its_end(Backend::Postgres).await
}

/// A PostgreSQL connection that dies while idle in the pool (the server restarted, an
/// administrator terminated it) costs at most the next statement, not a broken pool: the
/// pool does not ping before every checkout (a round trip on every request), so the next
/// statement may fail, and the one after it runs on a new connection.
#[tokio::test]
async fn a_postgres_connection_killed_while_idle_costs_at_most_one_statement() {
    let dir = tempfile::tempdir().unwrap();
    let nome = format!("t_{}", uuid::Uuid::new_v4().simple());
    let url = format!(
        "{}&application_name={nome}",
        fresh_database(Backend::Postgres, dir.path()).await
    );
    let store = pagopa_gateway::store::Store::connect(&url, 1)
        .await
        .unwrap();
    store.ping().await.unwrap();
    let mut admin = sqlx::PgConnection::connect(&pg_base_url()).await.unwrap();
    let (uccise,): (i64,) = sqlx::query_as(
        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = $1",
    )
    .bind(&nome)
    .fetch_one(&mut admin)
    .await
    .unwrap();
    assert_eq!(uccise, 1, "the pool's one connection");
    // The server closes the connection asynchronously: wait until it is gone.
    assert!(
        eventually(5, async || {
            let (n,): (i64,) =
                sqlx::query_as("SELECT count(*) FROM pg_stat_activity WHERE application_name = $1")
                    .bind(&nome)
                    .fetch_one(&mut admin)
                    .await
                    .unwrap();
            n == 0
        })
        .await
    );
    let _ = store.ping().await;
    store
        .ping()
        .await
        .expect("the statement after a dead connection's runs on a new one");
    store.close().await;
}

/// PostgreSQL coalesces the reads by IUV that arrive while one is out: behind a read
/// stalled on a lock, the queued ones fail within the pool's acquire timeout, as reads
/// finding no connection would, not after the stalled one and then their own.
#[tokio::test]
async fn reads_queued_behind_a_stalled_read_wait_no_longer_than_for_a_connection() {
    let (app, iuv, lock) = stalled(Backend::Postgres, |c| {
        c.database.lock_timeout_ms = 4_000;
        c.database.acquire_timeout_ms = 500;
    })
    .await;
    let store = app.store();
    let t = Instant::now();
    let letture: Vec<_> = (0..12)
        .map(|_| {
            let (store, iuv) = (store.clone(), iuv.clone());
            tokio::spawn(async move {
                let r = store.dovuti().get_by_iuv("80007580279", &iuv).await;
                (r.map(|d| d.is_some()), t.elapsed())
            })
        })
        .collect();
    let mut presto = 0;
    for l in letture {
        let (r, took) = l.await.unwrap();
        let e = r.expect_err("the table is locked");
        assert!(e.is_unavailable(), "{e}");
        if took < Duration::from_millis(1_500) {
            presto += 1;
        }
    }
    // The first read waits for the lock (4 s), and so may a few more that found it out
    // over a millisecond (at most four go out); the ones queued behind them wait 0.5 s.
    assert!(presto >= 8, "{presto} of 12 answered within 1.5 s");
    lock.release().await;
    assert_eq!(
        store
            .dovuti()
            .get_by_iuv("80007580279", &iuv)
            .await
            .unwrap()
            .map(|d| d.iuv.to_string()),
        Some(iuv)
    );
}
