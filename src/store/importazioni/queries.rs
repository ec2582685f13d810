// Import jobs and their reject reports, written in the importing transaction.
// Compiled once per backend (see the repository's mod.rs).

pub async fn get_import_job(p: &DbPool, ente: &str, id: &str) -> StoreResult<ImportJob> {
    sqlx::query_as::<_, ImportJobRow>("SELECT * FROM import_job WHERE id_dominio = $1 AND id = $2")
        .bind(ente)
        .bind(id)
        .fetch_optional(p)
        .await?
        .ok_or(StoreError::NotFound)?
        .try_into()
}

/// Completes an import's report with the rows the import changed and writes it in the
/// import's own transaction: a report exists exactly when its data does.
pub async fn tx_chiudi_import(
    c: &mut Conn,
    job: Option<&mut ImportJob>,
    importate: u64,
) -> StoreResult<()> {
    let Some(job) = job else {
        return Ok(());
    };
    job.righe_importate = importate as i64;
    job.righe_invariate = (job.righe_lette - job.righe_scartate - job.righe_importate).max(0);
    tx_insert_import_job(c, job).await
}

/// Writes an import's report (in the caller's transaction, when it has one).
pub async fn tx_insert_import_job(c: &mut Conn, job: &ImportJob) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO import_job (id, id_dominio, tipo, file_name, file_sha256, versione, stato, righe_lette,
                                 righe_importate, righe_invariate, righe_scartate, scarti, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
    )
    .bind(&job.id)
    .bind(&job.id_dominio)
    .bind(&job.tipo)
    .bind(&job.file_name)
    .bind(&job.file_sha256)
    .bind(&job.versione)
    .bind(&job.stato)
    .bind(job.righe_lette)
    .bind(job.righe_importate)
    .bind(job.righe_invariate)
    .bind(job.righe_scartate)
    .bind(serde_json::to_string(&job.scarti).expect("scarti serialize"))
    .bind(job.created_at)
    .execute(&mut *c)
    .await?;
    Ok(())
}
