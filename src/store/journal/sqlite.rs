// The journal's batch insert on SQLite, through rusqlite on sqlx's own connection (see
// sqlite_bulk.rs): one prepared single-row INSERT run per entry, the bodies bound as
// borrowed slices. Through sqlx every body was copied into an owned argument and handed to
// the connection's worker thread; at the Nodo's rate that was most of the journal's cost.

use crate::store::sqlite_bulk;

pub async fn insert_journal(p: &DbPool, entries: &[JournalEntry]) -> StoreResult<()> {
    let mut tx = begin_write(p).await?;
    sqlite_bulk::con_handle(&mut tx, |db| sqlite_bulk::insert_journal(db, entries))
        .await?
        .map_err(|e| StoreError::Db(sqlx::Error::Protocol(format!("journal write: {e}"))))?;
    tx.commit().await?;
    Ok(())
}
