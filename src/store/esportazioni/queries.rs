// Export jobs of the reconciliation and their parts.
// Compiled once per backend (see the repository's mod.rs).

pub async fn create_export(
    p: &DbPool,
    id: &str,
    ente: &str,
    versione: &str,
    filtri: &str,
    now: OffsetDateTime,
) -> StoreResult<()> {
    let _turno = turno(p).await?;
    sqlx::query("INSERT INTO recon_export (id, id_dominio, versione, filtri, stato, righe, created_at) VALUES ($1, $2, $3, $4, 'PRENOTATO', 0, $5)")
        .bind(id)
        .bind(ente)
        .bind(versione)
        .bind(filtri)
        .bind(now)
        .execute(p)
        .await?;
    Ok(())
}

/// Takes a booked export (or one whose writer died) for writing: its parts start over.
pub async fn take_export(
    p: &DbPool,
    id: &str,
    stale: OffsetDateTime,
    now: OffsetDateTime,
) -> StoreResult<bool> {
    let mut tx = begin_write(p).await?;
    let n = sqlx::query("UPDATE recon_export SET stato = 'IN_CORSO', finished_at = $1 WHERE id = $2 AND (stato = 'PRENOTATO' OR (stato = 'IN_CORSO' AND finished_at < $3))")
        .bind(now)
        .bind(id)
        .bind(stale)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    if n == 1 {
        sqlx::query("DELETE FROM recon_export_parte WHERE export_id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(n == 1)
}

pub async fn write_parte_export(
    p: &DbPool,
    id: &str,
    n: i64,
    dati: &[u8],
    now: OffsetDateTime,
) -> StoreResult<()> {
    let mut tx = begin_write(p).await?;
    sqlx::query("INSERT INTO recon_export_parte (export_id, n, dati) VALUES ($1, $2, $3)")
        .bind(id)
        .bind(n)
        .bind(dati)
        .execute(&mut *tx)
        .await?;
    // The heartbeat: a writer that stops beating is taken over.
    sqlx::query("UPDATE recon_export SET finished_at = $1 WHERE id = $2")
        .bind(now)
        .bind(id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(())
}

pub async fn close_export(
    p: &DbPool,
    id: &str,
    stato: &str,
    righe: i64,
    errore: Option<&str>,
    now: OffsetDateTime,
) -> StoreResult<()> {
    let _turno = turno(p).await?;
    sqlx::query("UPDATE recon_export SET stato = $1, righe = $2, errore = $3, finished_at = $4 WHERE id = $5")
        .bind(stato)
        .bind(righe)
        .bind(errore)
        .bind(now)
        .bind(id)
        .execute(p)
        .await?;
    Ok(())
}

pub async fn get_export(p: &DbPool, ente: &str, id: &str) -> StoreResult<ExportRiconciliazione> {
    sqlx::query_as::<_, ExportRiconciliazione>("SELECT id, id_dominio, versione, filtri, stato, righe, errore, created_at, finished_at FROM recon_export WHERE id_dominio = $1 AND id = $2")
        .bind(ente)
        .bind(id)
        .fetch_optional(p)
        .await?
        .ok_or(StoreError::NotFound)
}

pub async fn parte_export(p: &DbPool, id: &str, n: i64) -> StoreResult<Option<Vec<u8>>> {
    let row: Option<(Vec<u8>,)> =
        sqlx::query_as("SELECT dati FROM recon_export_parte WHERE export_id = $1 AND n = $2")
            .bind(id)
            .bind(n)
            .fetch_optional(p)
            .await?;
    Ok(row.map(|r| r.0))
}

/// Exports booked and not finished (their writer may have died with its instance).
pub async fn export_in_attesa(p: &DbPool) -> StoreResult<Vec<ExportRiconciliazione>> {
    Ok(sqlx::query_as::<_, ExportRiconciliazione>("SELECT id, id_dominio, versione, filtri, stato, righe, errore, created_at, finished_at FROM recon_export WHERE stato IN ('PRENOTATO', 'IN_CORSO') ORDER BY created_at")
        .fetch_all(p)
        .await?)
}
