type OperatoreSql = (
    String,
    String,
    String,
    String,
    String,
    bool,
    i64,
    i64,
    Option<OffsetDateTime>,
);

const OPERATORE_COLS: &str = "username, nome, password_hash, totp_secret, ruoli, attivo, totp_ultimo_passo, tentativi_falliti, bloccato_fino";

fn operatore(r: OperatoreSql, enti: Vec<String>) -> StoreResult<Operatore> {
    let (username, nome, password_hash, totp_secret, ruoli, attivo, passo, tentativi, blocco) = r;
    Ok(Operatore {
        username: Username::parse(&username).map_err(|e| StoreError::Corrupt(e.0))?,
        nome,
        password_hash,
        totp_secret,
        ruoli: ruoli
            .parse()
            .map_err(|e: crate::model::ParseError| StoreError::Corrupt(e.0))?,
        enti,
        attivo,
        totp_ultimo_passo: passo,
        tentativi_falliti: tentativi,
        bloccato_fino: blocco,
    })
}

pub async fn upsert_operatore(
    p: &DbPool,
    o: &NuovoOperatore,
    now: OffsetDateTime,
) -> StoreResult<()> {
    let mut tx = begin_write(p).await?;
    sqlx::query(
        "INSERT INTO operatore (username, nome, password_hash, totp_secret, ruoli, attivo, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, TRUE, $6, $6)
         ON CONFLICT (username) DO UPDATE SET nome = excluded.nome, password_hash = excluded.password_hash,
           totp_secret = excluded.totp_secret, ruoli = excluded.ruoli, attivo = TRUE,
           totp_ultimo_passo = 0, tentativi_falliti = 0, bloccato_fino = NULL, updated_at = excluded.updated_at",
    )
    .bind(o.username.as_str())
    .bind(&o.nome)
    .bind(&o.password_hash)
    .bind(&o.totp_secret)
    .bind(o.ruoli.to_string())
    .bind(now)
    .execute(&mut *tx)
    .await?;
    sqlx::query("DELETE FROM operatore_ente WHERE username = $1")
        .bind(o.username.as_str())
        .execute(&mut *tx)
        .await?;
    for e in &o.enti {
        sqlx::query("INSERT INTO operatore_ente (username, id_dominio) VALUES ($1, $2)")
            .bind(o.username.as_str())
            .bind(e)
            .execute(&mut *tx)
            .await
            .map_err(|err| match &err {
                sqlx::Error::Database(d) if d.is_foreign_key_violation() => {
                    StoreError::Conflict(format!("ente {e} sconosciuto"))
                }
                _ => err.into(),
            })?;
    }
    // A replaced operator's sessions end with the old password.
    sqlx::query("DELETE FROM sessione_console WHERE username = $1")
        .bind(o.username.as_str())
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(())
}

async fn enti_of(p: &DbPool, username: &str) -> StoreResult<Vec<String>> {
    let v: Vec<(String,)> = sqlx::query_as(
        "SELECT id_dominio FROM operatore_ente WHERE username = $1 ORDER BY id_dominio",
    )
    .bind(username)
    .fetch_all(p)
    .await?;
    Ok(v.into_iter().map(|(e,)| e).collect())
}

pub async fn get_operatore(p: &DbPool, username: &str) -> StoreResult<Option<Operatore>> {
    let r: Option<OperatoreSql> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {OPERATORE_COLS} FROM operatore WHERE username = $1"
    )))
    .bind(username)
    .fetch_optional(p)
    .await?;
    match r {
        Some(r) => Ok(Some(operatore(r, enti_of(p, username).await?)?)),
        None => Ok(None),
    }
}

pub async fn list_operatori(p: &DbPool) -> StoreResult<Vec<Operatore>> {
    let rows: Vec<OperatoreSql> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {OPERATORE_COLS} FROM operatore ORDER BY username"
    )))
    .fetch_all(p)
    .await?;
    // Every operator's enti in one read, not one per operator.
    let legami: Vec<(String, String)> = sqlx::query_as(
        "SELECT username, id_dominio FROM operatore_ente ORDER BY username, id_dominio",
    )
    .fetch_all(p)
    .await?;
    let mut enti: std::collections::HashMap<String, Vec<String>> = std::collections::HashMap::new();
    for (u, e) in legami {
        enti.entry(u).or_default().push(e);
    }
    rows.into_iter()
        .map(|r| {
            let e = enti.remove(&r.0).unwrap_or_default();
            operatore(r, e)
        })
        .collect()
}

pub async fn count_failure(p: &DbPool, username: &str) -> StoreResult<i64> {
    let _turno = turno(p).await?;
    let r: Option<(i64,)> = sqlx::query_as(
        "UPDATE operatore SET tentativi_falliti = tentativi_falliti + 1 WHERE username = $1 RETURNING tentativi_falliti",
    )
    .bind(username)
    .fetch_optional(p)
    .await?;
    Ok(r.map_or(0, |(n,)| n))
}

pub async fn lock(p: &DbPool, username: &str, until: OffsetDateTime) -> StoreResult<()> {
    let mut tx = begin_write(p).await?;
    sqlx::query(
        "UPDATE operatore SET tentativi_falliti = 0, bloccato_fino = $2 WHERE username = $1",
    )
    .bind(username)
    .bind(until)
    .execute(&mut *tx)
    .await?;
    sqlx::query("DELETE FROM sessione_console WHERE username = $1 AND completa = FALSE")
        .bind(username)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(())
}

pub async fn disable(p: &DbPool, username: &str, now: OffsetDateTime) -> StoreResult<()> {
    let mut tx = begin_write(p).await?;
    let r = sqlx::query("UPDATE operatore SET attivo = FALSE, updated_at = $2 WHERE username = $1")
        .bind(username)
        .bind(now)
        .execute(&mut *tx)
        .await?;
    if r.rows_affected() == 0 {
        return Err(StoreError::NotFound);
    }
    sqlx::query("DELETE FROM sessione_console WHERE username = $1")
        .bind(username)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(())
}

pub async fn use_totp_step(p: &DbPool, username: &str, passo: i64) -> StoreResult<bool> {
    let _turno = turno(p).await?;
    let r = sqlx::query(
        "UPDATE operatore SET totp_ultimo_passo = $2, tentativi_falliti = 0, bloccato_fino = NULL
         WHERE username = $1 AND totp_ultimo_passo < $2",
    )
    .bind(username)
    .bind(passo)
    .execute(p)
    .await?;
    Ok(r.rows_affected() == 1)
}

pub async fn create_session(
    p: &DbPool,
    token_hash: &str,
    username: &str,
    completa: bool,
    scade_il: OffsetDateTime,
    now: OffsetDateTime,
) -> StoreResult<()> {
    let mut tx = begin_write(p).await?;
    if !completa {
        sqlx::query("DELETE FROM sessione_console WHERE username = $1 AND completa = FALSE")
            .bind(username)
            .execute(&mut *tx)
            .await?;
    }
    sqlx::query(
        "INSERT INTO sessione_console (token_hash, username, completa, scade_il, created_at) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(token_hash)
    .bind(username)
    .bind(completa)
    .bind(scade_il)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}

pub async fn get_session(
    p: &DbPool,
    token_hash: &str,
    now: OffsetDateTime,
) -> StoreResult<Option<(String, bool)>> {
    Ok(sqlx::query_as(
        "SELECT username, completa FROM sessione_console WHERE token_hash = $1 AND scade_il > $2",
    )
    .bind(token_hash)
    .bind(now)
    .fetch_optional(p)
    .await?)
}

pub async fn end_session(p: &DbPool, token_hash: &str, now: OffsetDateTime) -> StoreResult<()> {
    let _turno = turno(p).await?;
    sqlx::query("DELETE FROM sessione_console WHERE token_hash = $1 OR scade_il <= $2")
        .bind(token_hash)
        .bind(now)
        .execute(p)
        .await?;
    Ok(())
}

pub async fn record_change(
    p: &DbPool,
    chi: &str,
    metodo: &str,
    percorso: &str,
    stato: i64,
    now: OffsetDateTime,
) -> StoreResult<()> {
    let _turno = turno(p).await?;
    sqlx::query(
        "INSERT INTO registro_modifiche (quando, chi, metodo, percorso, stato) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(now)
    .bind(chi)
    .bind(metodo)
    .bind(percorso)
    .bind(stato)
    .execute(p)
    .await?;
    Ok(())
}

pub async fn list_changes(p: &DbPool, limit: i64) -> StoreResult<Vec<Modifica>> {
    let rows: Vec<(i64, OffsetDateTime, String, String, String, i64)> = sqlx::query_as(
        "SELECT id, quando, chi, metodo, percorso, stato FROM registro_modifiche ORDER BY id DESC LIMIT $1",
    )
    .bind(limit)
    .fetch_all(p)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(id, quando, chi, metodo, percorso, stato)| Modifica {
            id,
            quando,
            chi,
            metodo,
            percorso,
            stato,
        })
        .collect())
}
