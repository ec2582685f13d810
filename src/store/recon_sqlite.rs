// The reconciliation's bulk paths on SQLite (see sqlite_bulk.rs). Included in the SQLite
// backend module last.

use super::sqlite_bulk::{self, DaRiga};

async fn per_chiavi<T, K>(
    c: &mut Conn,
    select_from: &str,
    ente: &str,
    col: &str,
    keys: &[K],
) -> StoreResult<Vec<T>>
where
    T: for<'r> sqlx::FromRow<'r, <Db as sqlx::Database>::Row> + DaRiga + Send + Unpin,
    K: Chiave,
{
    if keys.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "{select_from} WHERE id_dominio = ?1 AND {col} IN (SELECT value FROM json_each(?2))"
    );
    let json = serde_json::to_string(keys).expect("keys serialize");
    match sqlite_bulk::con_handle(c, |db| sqlite_bulk::leggi(db, &sql, ente, Some(&json))).await? {
        Ok(v) => Ok(v),
        Err(e) => {
            tracing::warn!(error = %e, "reconciliation read: fast path refused, reading through sqlx");
            per_chiavi_sqlx(c, select_from, ente, col, keys).await
        }
    }
}

/// A flow's payments with one prepared statement, inside the caller's transaction.
async fn insert_pagamenti_flusso(
    c: &mut Conn,
    f: &NuovoFlusso,
    id: i64,
    regolamento: Date,
    totale: i64,
    validi: &[&crate::model::flusso::PagamentoFlusso],
) -> StoreResult<()> {
    sqlite_bulk::con_handle(c, |db| {
        sqlite_bulk::insert_pagamenti_flusso(db, f, id, regolamento, totale, validi)
    })
    .await?
    .map_err(|e| StoreError::Db(sqlx::Error::Protocol(format!("flow payments write: {e}"))))
}

async fn tutte<T>(c: &mut Conn, select_from: &str, ente: &str) -> StoreResult<Vec<T>>
where
    T: for<'r> sqlx::FromRow<'r, <Db as sqlx::Database>::Row> + DaRiga + Send + Unpin,
{
    let sql = format!("{select_from} WHERE id_dominio = ?1");
    match sqlite_bulk::con_handle(c, |db| sqlite_bulk::leggi(db, &sql, ente, None)).await? {
        Ok(v) => Ok(v),
        Err(e) => {
            tracing::warn!(error = %e, "reconciliation read: fast path refused, reading through sqlx");
            tutte_sqlx(c, select_from, ente).await
        }
    }
}

/// A failure here fails the caller's transaction (nothing applied), never a retry that
/// could insert a row twice.
async fn scrivi(
    c: &mut Conn,
    ente: &str,
    righe: &[motore::Riga<'_>],
    now: OffsetDateTime,
) -> StoreResult<()> {
    sqlite_bulk::con_handle(c, |db| sqlite_bulk::scrivi(db, ente, righe, now))
        .await?
        .map_err(|e| StoreError::Db(sqlx::Error::Protocol(format!("reconciliation write: {e}"))))
}
