// Import jobs and their reject reports, written in the importing transaction.
// Compiled once per backend (see the repository's mod.rs).

/// The job with its first `SCARTI_IN_VISTA` rejects (the rest a page at a time).
pub async fn get_import_job(p: &DbPool, ente: &str, id: &str) -> StoreResult<ImportJob> {
    let mut job: ImportJob = sqlx::query_as::<_, ImportJobRow>(
        "SELECT * FROM import_job WHERE id_dominio = $1 AND id = $2",
    )
    .bind(ente)
    .bind(id)
    .fetch_optional(p)
    .await?
    .ok_or(StoreError::NotFound)?
    .try_into()?;
    job.scarti = scarti_after(p, id, -1, SCARTI_IN_VISTA)
        .await?
        .into_iter()
        .map(|(_, s)| s)
        .collect();
    Ok(job)
}

/// Rejects of job `id` numbered after `after`, in file order, with their numbers.
pub async fn scarti_after(
    p: &DbPool,
    id: &str,
    after: i64,
    limit: i64,
) -> StoreResult<Vec<(i64, Scarto)>> {
    let rows: Vec<(i64, i64, String, String, String)> = sqlx::query_as(
        "SELECT n, riga, codice, motivo, riga_originale FROM import_scarto WHERE job_id = $1 AND n > $2 ORDER BY n LIMIT $3",
    )
    .bind(id)
    .bind(after)
    .bind(limit)
    .fetch_all(p)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(n, riga, codice, motivo, riga_originale)| {
            (
                n,
                Scarto {
                    riga: riga.max(0) as u64,
                    codice,
                    motivo,
                    riga_originale,
                },
            )
        })
        .collect())
}

/// Completes an import's report with the rows the import changed and writes it in the
/// import's own transaction: a report exists exactly when its data does.
pub async fn tx_chiudi_import(
    c: &mut Conn,
    job: Option<&mut ImportJob>,
    importate: u64,
    stornate: u64,
) -> StoreResult<()> {
    let Some(job) = job else {
        return Ok(());
    };
    job.righe_importate = importate as i64;
    job.righe_stornate = stornate as i64;
    job.righe_invariate =
        (job.righe_lette - job.righe_scartate - job.righe_importate - job.righe_stornate).max(0);
    tx_insert_import_job(c, job).await
}

/// PostgreSQL's TEXT refuses NUL, which a rejected line may well contain: shown as U+FFFD.
fn senza_nul(s: &str) -> std::borrow::Cow<'_, str> {
    if s.contains('\0') {
        std::borrow::Cow::Owned(s.replace('\0', "\u{FFFD}"))
    } else {
        std::borrow::Cow::Borrowed(s)
    }
}

/// Writes an import's report (in the caller's transaction, when it has one).
pub async fn tx_insert_import_job(c: &mut Conn, job: &ImportJob) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO import_job (id, id_dominio, tipo, file_name, file_sha256, versione, stato, righe_lette,
                                 righe_importate, righe_invariate, righe_scartate, scarti, created_at, righe_stornate)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
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
    // The rejects are rows of import_scarto; the column stays for older readers.
    .bind("[]")
    .bind(job.created_at)
    .bind(job.righe_stornate)
    .execute(&mut *c)
    .await?;
    // Multi-row INSERTs, 6 binds a row.
    for (k, chunk) in job.scarti.chunks(100).enumerate() {
        let mut q = sqlx::QueryBuilder::new(
            "INSERT INTO import_scarto (job_id, n, riga, codice, motivo, riga_originale) ",
        );
        q.push_values(chunk.iter().enumerate(), |mut b, (i, s)| {
            b.push_bind(&job.id)
                .push_bind((k * 100 + i) as i64)
                .push_bind(s.riga as i64)
                .push_bind(&s.codice)
                .push_bind(senza_nul(&s.motivo))
                .push_bind(senza_nul(&s.riga_originale));
        });
        q.build()
            .persistent(chunk.len() == 100)
            .execute(&mut *c)
            .await?;
    }
    Ok(())
}

/// One batch of the retention of import reports: up to `batch` rejects of jobs created
/// before `before`, or, once those are gone, up to `batch` such jobs. Returns how many rows.
pub async fn prune_import_reports(
    p: &DbPool,
    before: OffsetDateTime,
    batch: i64,
) -> StoreResult<u64> {
    // One turn for either statement: a second `turno` here would wait on this one.
    let _turno = turno(p).await?;
    let scarti = sqlx::query(
        "DELETE FROM import_scarto WHERE (job_id, n) IN (SELECT s.job_id, s.n FROM import_scarto s JOIN import_job j ON j.id = s.job_id WHERE j.created_at < $1 LIMIT $2)",
    )
    .bind(before)
    .bind(batch)
    .execute(p)
    .await?
    .rows_affected();
    if scarti > 0 {
        return Ok(scarti);
    }
    Ok(sqlx::query(
        "DELETE FROM import_job WHERE id IN (SELECT id FROM import_job j WHERE j.created_at < $1 AND NOT EXISTS (SELECT 1 FROM import_scarto s WHERE s.job_id = j.id) LIMIT $2)",
    )
    .bind(before)
    .bind(batch)
    .execute(p)
    .await?
    .rows_affected())
}
