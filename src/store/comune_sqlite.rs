// Keyed bulk reads on SQLite: through rusqlite on the transaction's own connection (see
// sqlite_bulk.rs), falling back to sqlx for a value the fast path refuses.

use crate::store::sqlite_bulk::{self, DaRiga};

pub async fn per_chiavi<T, K>(
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

pub async fn tutte<T>(c: &mut Conn, select_from: &str, ente: &str) -> StoreResult<Vec<T>>
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

/// Pushes `SELECT <each key>`: the whole set as one bound JSON array, so a statement takes
/// any number of keys (30,000 IUVs of a flow: one statement, not sixty).
pub fn push_chiavi<K: Chiave>(q: &mut sqlx::QueryBuilder<Db>, keys: &[K]) {
    let json = serde_json::to_string(keys).expect("keys serialize");
    q.push("SELECT value FROM json_each(")
        .push_bind(json)
        .push(")");
}

/// Pushes `<colonna> IN (<keys>)` (see the PostgreSQL twin).
pub fn push_in<K: Chiave>(q: &mut sqlx::QueryBuilder<Db>, colonna: &str, keys: &[K]) {
    q.push(colonna).push(" IN (");
    push_chiavi(q, keys);
    q.push(")");
}
