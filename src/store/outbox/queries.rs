// The outbox: typed jobs, their leases, retries and dead letters.
// Compiled once per backend (see the repository's mod.rs).

pub async fn tx_enqueue(
    c: &mut Conn,
    kind: TipoJob,
    ref_id: i64,
    now: OffsetDateTime,
) -> StoreResult<i64> {
    let (id,): (i64,) = sqlx::query_as(
        "INSERT INTO outbox (kind, ref_id, payload, stato, attempts, next_attempt_at, created_at, updated_at)
         VALUES ($1, $2, '{}', 'PENDING', 0, $3, $3, $3) RETURNING id",
    )
    .bind(kind.as_str())
    .bind(ref_id)
    .bind(now)
    .fetch_one(&mut *c)
    .await?;
    Ok(id)
}

pub async fn enqueue(
    p: &DbPool,
    kind: TipoJob,
    ref_id: i64,
    now: OffsetDateTime,
) -> StoreResult<i64> {
    let _turno = turno(p).await?;
    let mut c = p.acquire().await?;
    tx_enqueue(&mut c, kind, ref_id, now).await
}

pub async fn outbox_pending(p: &DbPool, kind: &str) -> StoreResult<Vec<OutboxRow>> {
    Ok(sqlx::query_as::<_, OutboxRow>("SELECT id, kind, ref_id, stato, attempts FROM outbox WHERE kind = $1 AND stato = 'PENDING' ORDER BY id")
        .bind(kind)
        .fetch_all(p)
        .await?)
}

const OUTBOX_COLS: &str = "id, kind, ref_id, payload, stato, attempts, next_attempt_at, lease_owner, last_error, result, created_at, updated_at";

/// Claims up to `limit` due jobs for `owner` until `lease_until`. On PostgreSQL several
/// instances claim concurrently without waiting on each other (SKIP LOCKED); SQLite has
/// one writer and the immediate transaction serialises claims.
pub async fn outbox_claim(
    p: &DbPool,
    owner: &str,
    kinds: Option<&[String]>,
    lease_until: OffsetDateTime,
    limit: i64,
    now: OffsetDateTime,
) -> StoreResult<Vec<OutboxJob>> {
    let mut tx = begin_write(p).await?;
    let lock = if IS_POSTGRES {
        "FOR UPDATE SKIP LOCKED"
    } else {
        ""
    };
    let kinds_json = kinds.map(|k| serde_json::to_string(k).unwrap_or_default());
    let kind_filter = if IS_POSTGRES {
        "($5::text IS NULL OR kind IN (SELECT jsonb_array_elements_text($5::jsonb)))"
    } else {
        "($5 IS NULL OR kind IN (SELECT value FROM json_each($5)))"
    };
    let jobs = sqlx::query_as::<_, OutboxJob>(sqlx::AssertSqlSafe(format!(
        "UPDATE outbox SET lease_owner = $1, lease_until = $2, attempts = attempts + 1, updated_at = $3
         WHERE id IN (SELECT id FROM outbox WHERE stato = 'PENDING' AND next_attempt_at <= $3
                        AND (lease_until IS NULL OR lease_until < $3) AND {kind_filter}
                      ORDER BY next_attempt_at, id LIMIT $4 {lock})
         RETURNING {OUTBOX_COLS}"
    )))
    .bind(owner)
    .bind(lease_until)
    .bind(now)
    .bind(limit)
    .bind(kinds_json)
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(jobs)
}

/// Completes a job the caller still holds; `false` if its lease was taken over.
pub async fn outbox_done(
    p: &DbPool,
    id: i64,
    owner: &str,
    result: Option<&str>,
    now: OffsetDateTime,
) -> StoreResult<bool> {
    let _turno = turno(p).await?;
    let mut c = p.acquire().await?;
    tx_done(&mut c, id, owner, result, now).await
}

/// Completes several jobs the caller still holds, in one transaction (one commit, on SQLite
/// one turn at the writer, for a worker's batch); the ids whose lease was taken over.
pub async fn outbox_done_many(
    p: &DbPool,
    fatti: &[(i64, Option<String>)],
    owner: &str,
    now: OffsetDateTime,
) -> StoreResult<Vec<i64>> {
    let mut tx = begin_write(p).await?;
    let mut persi = Vec::new();
    for (id, result) in fatti {
        if !tx_done(&mut tx, *id, owner, result.as_deref(), now).await? {
            persi.push(*id);
        }
    }
    tx.commit().await?;
    Ok(persi)
}

async fn tx_done(
    c: &mut Conn,
    id: i64,
    owner: &str,
    result: Option<&str>,
    now: OffsetDateTime,
) -> StoreResult<bool> {
    let n = sqlx::query("UPDATE outbox SET stato = 'DONE', result = $1, lease_until = NULL, last_error = NULL, updated_at = $2 WHERE id = $3 AND lease_owner = $4 AND stato = 'PENDING'")
        .bind(result)
        .bind(now)
        .bind(id)
        .bind(owner)
        .execute(&mut *c)
        .await?
        .rows_affected();
    Ok(n == 1)
}

/// Extends the lease of jobs the caller still holds and has not finished; how many.
pub async fn outbox_renew(
    p: &DbPool,
    ids: &[i64],
    owner: &str,
    until: OffsetDateTime,
    now: OffsetDateTime,
) -> StoreResult<u64> {
    if ids.is_empty() {
        return Ok(0);
    }
    // One statement for the batch (at most a claim's worth of ids).
    let _turno = turno(p).await?;
    let mut q = sqlx::QueryBuilder::new("UPDATE outbox SET lease_until = ");
    q.push_bind(until)
        .push(", updated_at = ")
        .push_bind(now)
        .push(" WHERE lease_owner = ")
        .push_bind(owner)
        .push(" AND stato = 'PENDING' AND lease_until IS NOT NULL AND id IN (");
    let mut list = q.separated(", ");
    for id in ids {
        list.push_bind(*id);
    }
    q.push(")");
    Ok(q.build().execute(p).await?.rows_affected())
}

/// A failed attempt: due again at `next` or, with `next = None`, a dead letter.
pub async fn outbox_failed(
    p: &DbPool,
    id: i64,
    owner: &str,
    error: &str,
    next: Option<OffsetDateTime>,
    now: OffsetDateTime,
) -> StoreResult<bool> {
    let _turno = turno(p).await?;
    let n = sqlx::query("UPDATE outbox SET stato = $1, next_attempt_at = COALESCE($2, next_attempt_at), lease_until = NULL, last_error = $3, updated_at = $4 WHERE id = $5 AND lease_owner = $6 AND stato = 'PENDING'")
        .bind(if next.is_some() { "PENDING" } else { "DEAD" })
        .bind(next)
        .bind(error)
        .bind(now)
        .bind(id)
        .bind(owner)
        .execute(p)
        .await?
        .rows_affected();
    Ok(n == 1)
}

/// A dead letter back in the queue with a fresh attempt count.
pub async fn outbox_retry(p: &DbPool, id: i64, now: OffsetDateTime) -> StoreResult<bool> {
    let _turno = turno(p).await?;
    let n = sqlx::query("UPDATE outbox SET stato = 'PENDING', attempts = 0, next_attempt_at = $1, lease_until = NULL, updated_at = $1 WHERE id = $2 AND stato = 'DEAD'")
        .bind(now)
        .bind(id)
        .execute(p)
        .await?
        .rows_affected();
    Ok(n == 1)
}

pub async fn outbox_get(p: &DbPool, id: i64) -> StoreResult<OutboxJob> {
    sqlx::query_as::<_, OutboxJob>(sqlx::AssertSqlSafe(format!(
        "SELECT {OUTBOX_COLS} FROM outbox WHERE id = $1"
    )))
    .bind(id)
    .fetch_optional(p)
    .await?
    .ok_or(StoreError::NotFound)
}

pub async fn outbox_list(
    p: &DbPool,
    stato: Option<&str>,
    kind: Option<&str>,
    limit: i64,
    offset: i64,
) -> StoreResult<(Vec<OutboxJob>, i64)> {
    let filter = "($1 IS NULL OR stato = $1) AND ($2 IS NULL OR kind = $2)";
    let rows = sqlx::query_as::<_, OutboxJob>(sqlx::AssertSqlSafe(format!(
        "SELECT {OUTBOX_COLS} FROM outbox WHERE {filter} ORDER BY id DESC LIMIT $3 OFFSET $4"
    )))
    .bind(stato)
    .bind(kind)
    .bind(limit)
    .bind(offset)
    .fetch_all(p)
    .await?;
    let (total,): (i64,) = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT COUNT(*) FROM outbox WHERE {filter}"
    )))
    .bind(stato)
    .bind(kind)
    .fetch_one(p)
    .await?;
    Ok((rows, total))
}

/// Per kind and state: how many jobs and when the oldest was created (for the gauges).
pub async fn outbox_stats(
    p: &DbPool,
) -> StoreResult<Vec<(String, String, i64, Option<OffsetDateTime>)>> {
    Ok(sqlx::query_as("SELECT kind, stato, COUNT(*), MIN(created_at) FROM outbox WHERE stato <> 'DONE' GROUP BY kind, stato")
        .fetch_all(p)
        .await?)
}

/// Enqueues a job with a payload.
pub async fn outbox_enqueue(
    p: &DbPool,
    kind: &str,
    ref_id: Option<i64>,
    payload: &str,
    now: OffsetDateTime,
) -> StoreResult<i64> {
    let _turno = turno(p).await?;
    let (id,): (i64,) = sqlx::query_as(
        "INSERT INTO outbox (kind, ref_id, payload, stato, attempts, next_attempt_at, created_at, updated_at)
         VALUES ($1, $2, $3, 'PENDING', 0, $4, $4, $4) RETURNING id",
    )
    .bind(kind)
    .bind(ref_id)
    .bind(payload)
    .bind(now)
    .fetch_one(p)
    .await?;
    Ok(id)
}

/// One `kind` job (`flussi`, `pendenti`) per active ente not asked since `since`.
pub async fn plan_per_ente(
    p: &DbPool,
    kind: TipoJob,
    since: OffsetDateTime,
    now: OffsetDateTime,
) -> StoreResult<u64> {
    let _turno = turno(p).await?;
    Ok(sqlx::query(
        "INSERT INTO outbox (kind, ref_id, payload, stato, attempts, next_attempt_at, created_at, updated_at)
         SELECT $3, NULL, e.id_dominio, 'PENDING', 0, $1, $1, $1 FROM ente e
         WHERE e.attivo AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.kind = $3 AND o.payload = e.id_dominio AND o.created_at > $2)",
    )
    .bind(now)
    .bind(since)
    .bind(kind.as_str())
    .execute(p)
    .await?
    .rows_affected())
}
