// The journal's batch insert on PostgreSQL.

pub async fn insert_journal(p: &DbPool, entries: &[JournalEntry]) -> StoreResult<()> {
    // Multi-row INSERTs: one statement per chunk instead of one per entry (12 binds per row,
    // well under PostgreSQL's parameter limit).
    let mut tx = begin_write(p).await?;
    for chunk in entries.chunks(64) {
        let mut q = sqlx::QueryBuilder::new(
            "INSERT INTO journal (at, direction, operation, id_dominio, iuv, ccp, id_psp, outcome, http_status, duration_us, request, response) ",
        );
        q.push_values(chunk, |mut b, e| {
            b.push_bind(e.at)
                .push_bind(e.direction)
                .push_bind(&e.operation)
                .push_bind(&e.id_dominio)
                .push_bind(&e.iuv)
                .push_bind(&e.ccp)
                .push_bind(&e.id_psp)
                .push_bind(&e.outcome)
                .push_bind(e.http_status)
                .push_bind(e.duration_us)
                .push_bind(e.request.as_ref())
                .push_bind(e.response.as_ref());
        });
        // Only the full-size statement is worth keeping prepared.
        q.build()
            .persistent(chunk.len() == 64)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(())
}
