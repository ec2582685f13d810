//! A database that stalls (its tables locked by another session): the PA endpoint answers
//! PAA_SYSTEM_ERROR within its deadline and REST 503 within the lock timeout, instead of
//! keeping the caller waiting past the Nodo's 7 s; both recover once the lock is gone.

use crate::helpers::*;
use crate::pa_attiva::{attiva, setup};
use axum::http::StatusCode;
use pagopa_gateway::soap::sanp2::Esito;
use sqlx::Connection;
use std::time::{Duration, Instant};

/// Holds the write lock on `dovuto` until dropped (rolled back).
enum Lock {
    Pg(sqlx::PgConnection),
    Sqlite(sqlx::SqliteConnection),
}

async fn lock_dovuti(backend: Backend, url: &str) -> Lock {
    match backend {
        Backend::Postgres => {
            let mut c = sqlx::PgConnection::connect(url).await.unwrap();
            sqlx::raw_sql("BEGIN; LOCK TABLE dovuto IN ACCESS EXCLUSIVE MODE")
                .execute(&mut c)
                .await
                .unwrap();
            Lock::Pg(c)
        }
        Backend::Sqlite => {
            // SQLite's one writer: readers go on (WAL), every write waits.
            let mut c = sqlx::SqliteConnection::connect(url).await.unwrap();
            sqlx::raw_sql("BEGIN IMMEDIATE")
                .execute(&mut c)
                .await
                .unwrap();
            Lock::Sqlite(c)
        }
    }
}

impl Lock {
    async fn release(self) {
        match self {
            Lock::Pg(mut c) => {
                sqlx::raw_sql("ROLLBACK").execute(&mut c).await.unwrap();
            }
            Lock::Sqlite(mut c) => {
                sqlx::raw_sql("ROLLBACK").execute(&mut c).await.unwrap();
            }
        }
    }
}

async fn a_stalled_database_is_answered_in_time_and_recovered_from(backend: Backend) {
    let mut app = TestApp::spawn_with(backend, |c| {
        c.database.lock_timeout_ms = 1_000;
        c.database.acquire_timeout_ms = 1_000;
        c.pa_soap.deadline_ms = 1_500;
    })
    .await;
    let iuv = setup(&mut app).await;
    let url = app.config.database.url.clone().unwrap();
    let lock = lock_dovuti(backend, &url).await;

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
