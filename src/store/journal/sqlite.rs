// The journal's batch insert on SQLite, through rusqlite on sqlx's own connection (see
// sqlite_bulk.rs): one prepared single-row INSERT run per entry, the bodies bound as
// borrowed slices, instead of sqlx copying every body into an owned argument for the
// connection's worker thread. (A few percent at the Nodo's rate: the rest of the journal's
// cost is SQLite's own, its WAL frames and checkpoints.)

use crate::store::sqlite_bulk;

pub async fn insert_journal(p: &DbPool, entries: &[JournalEntry]) -> StoreResult<()> {
    let mut tx = begin_write(p).await?;
    sqlite_bulk::scrivi_con(&mut tx, "journal write", |db| {
        sqlite_bulk::insert_journal(db, entries)
    })
    .await?;
    tx.commit().await?;
    Ok(())
}
