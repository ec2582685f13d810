// The message journal.
// Compiled once per backend (see the repository's mod.rs).

const JOURNAL_WHERE: &str = "($1 IS NULL OR id_dominio = $1) AND ($2 IS NULL OR operation = $2) AND ($3 IS NULL OR iuv = $3) AND ($4 IS NULL OR outcome = $4)";

const JOURNAL_COLS: &str =
    "id, at, direction, operation, id_dominio, iuv, ccp, id_psp, outcome, http_status, duration_us";

pub async fn search_journal(
    p: &DbPool,
    f: &JournalFilter,
    limit: i64,
    offset: i64,
) -> StoreResult<(Vec<JournalSummary>, i64)> {
    let rows = sqlx::query_as::<_, JournalSummary>(sqlx::AssertSqlSafe(format!("SELECT {JOURNAL_COLS} FROM journal WHERE {JOURNAL_WHERE} ORDER BY id DESC LIMIT $5 OFFSET $6")))
        .bind(&f.id_dominio)
        .bind(&f.operation)
        .bind(&f.iuv)
        .bind(&f.outcome)
        .bind(limit)
        .bind(offset)
        .fetch_all(p)
        .await?;
    let (total,): (i64,) = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT COUNT(*) FROM journal WHERE {JOURNAL_WHERE}"
    )))
    .bind(&f.id_dominio)
    .bind(&f.operation)
    .bind(&f.iuv)
    .bind(&f.outcome)
    .fetch_one(p)
    .await?;
    Ok((rows, total))
}

pub fn journal_all(p: &DbPool) -> futures_util::stream::BoxStream<'_, StoreResult<JournalFull>> {
    use futures_util::{StreamExt, TryStreamExt};
    sqlx::query_as::<_, JournalFull>(sqlx::AssertSqlSafe(format!(
        "SELECT {JOURNAL_COLS}, request, response FROM journal ORDER BY id"
    )))
    .fetch(p)
    .map_err(StoreError::from)
    .boxed()
}

pub async fn journal_after(p: &DbPool, after: i64, limit: i64) -> StoreResult<Vec<JournalFull>> {
    Ok(sqlx::query_as::<_, JournalFull>(sqlx::AssertSqlSafe(format!("SELECT {JOURNAL_COLS}, request, response FROM journal WHERE id > $1 ORDER BY id LIMIT $2")))
        .bind(after)
        .bind(limit)
        .fetch_all(p)
        .await?)
}

pub async fn prune_journal(p: &DbPool, before: OffsetDateTime, batch: i64) -> StoreResult<u64> {
    let _turno = turno(p).await?;
    Ok(sqlx::query(
        "DELETE FROM journal WHERE id IN (SELECT id FROM journal WHERE at < $1 ORDER BY id LIMIT $2)",
    )
        .bind(before)
        .bind(batch)
        .execute(p)
        .await?
        .rows_affected())
}
