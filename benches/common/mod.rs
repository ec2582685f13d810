//! What the benches that touch PostgreSQL share: a fresh schema per run in the shared test
//! database, dropped at the end (runs seed millions of rows; a leaked schema once held 9.6 GB).

use sqlx::Connection;

pub fn pg_base() -> String {
    std::env::var("PAGOPA_TEST_PG_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

/// A fresh schema for this run: its URL and name.
pub async fn pg_schema() -> (String, String) {
    let base = pg_base();
    let schema = format!("bench_{}", uuid::Uuid::new_v4().simple());
    let mut c = sqlx::PgConnection::connect(&base).await.unwrap();
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}")))
        .execute(&mut c)
        .await
        .unwrap();
    (
        format!("{base}?options=-c%20search_path%3D{schema}"),
        schema,
    )
}

/// Drops the run's schema; a failure is reported, never fails the run.
pub async fn drop_schema(schema: &str) {
    let dropped = async {
        let mut c = sqlx::PgConnection::connect(&pg_base()).await?;
        sqlx::query("SET lock_timeout = '10s'")
            .execute(&mut c)
            .await?;
        sqlx::query(sqlx::AssertSqlSafe(format!("DROP SCHEMA {schema} CASCADE")))
            .execute(&mut c)
            .await
    }
    .await;
    if let Err(e) = dropped {
        eprintln!("schema {schema} left behind: {e}");
    }
}

/// With `RUST_LOG` set, the gateway's own logs on stderr (where a phase spends its time,
/// what a write waited for).
pub fn log_se_chiesto() {
    if std::env::var_os("RUST_LOG").is_some() {
        tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
            .init();
    }
}
