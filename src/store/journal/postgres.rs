// The journal's batch insert on PostgreSQL.

/// Bodies per statement: a batch's bodies are bounded only by the journal's queue, and
/// PostgreSQL refuses a message over 1 GiB.
const BYTES_PER_STATEMENT: usize = 64 << 20;

pub async fn insert_journal(p: &DbPool, entries: &[JournalEntry]) -> StoreResult<()> {
    // One statement per batch (or per 64 MiB of bodies), each column bound as an array the
    // server unnests. Its text never changes with the batch's size, so it is parsed and
    // planned once per connection; multi-row VALUES was a new statement (up to 768
    // parameters) to parse and plan for every size but the full chunk.
    let parts = super::parti(entries, BYTES_PER_STATEMENT);
    if let [part] = parts[..] {
        // One statement is atomic on its own: no BEGIN/COMMIT round trips around it.
        return insert_part(&mut *p.acquire().await?, part).await;
    }
    // Several: all or none, as the writer retries the whole batch.
    let mut tx = begin_write(p).await?;
    for part in parts {
        insert_part(&mut tx, part).await?;
    }
    tx.commit().await?;
    Ok(())
}

async fn insert_part(c: &mut Conn, entries: &[JournalEntry]) -> StoreResult<()> {
    use sqlx::postgres::PgBindIterExt;
    let col = |f: fn(&JournalEntry) -> Option<&str>| entries.iter().map(f).bind_iter();
    sqlx::query(
        "INSERT INTO journal (at, direction, operation, id_dominio, iuv, ccp, id_psp, outcome, http_status, duration_us, request, response)
         SELECT * FROM UNNEST($1::timestamptz[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::int8[], $10::int8[], $11::bytea[], $12::bytea[])",
    )
    .bind(entries.iter().map(|e| e.at).bind_iter())
    .bind(entries.iter().map(|e| e.direction).bind_iter())
    .bind(entries.iter().map(|e| e.operation.as_str()).bind_iter())
    .bind(col(|e| e.id_dominio.as_deref()))
    .bind(col(|e| e.iuv.as_deref()))
    .bind(col(|e| e.ccp.as_deref()))
    .bind(col(|e| e.id_psp.as_deref()))
    .bind(entries.iter().map(|e| e.outcome.as_str()).bind_iter())
    .bind(entries.iter().map(|e| e.http_status).bind_iter())
    .bind(entries.iter().map(|e| e.duration_us).bind_iter())
    .bind(entries.iter().map(|e| e.request.as_ref()).bind_iter())
    .bind(entries.iter().map(|e| e.response.as_ref()).bind_iter())
    .execute(&mut *c)
    .await?;
    Ok(())
}
