// The registry: the intermediary, enti, tipi dovuto and API keys.
// Compiled once per backend (see the repository's mod.rs).

use crate::registry::{EnteInput, TipoDovutoInput};

pub async fn seed_intermediario(
    p: &DbPool,
    i: &Intermediario,
    now: OffsetDateTime,
) -> StoreResult<()> {
    let _turno = turno(p).await?;
    sqlx::query(
        "INSERT INTO intermediario (id, id_intermediario_pa, id_stazione, password, updated_at)
         VALUES (1, $1, $2, $3, $4) ON CONFLICT (id) DO NOTHING",
    )
    .bind(&i.id_intermediario_pa)
    .bind(&i.id_stazione)
    .bind(&i.password)
    .bind(now)
    .execute(p)
    .await?;
    Ok(())
}

pub async fn put_intermediario(
    p: &DbPool,
    i: &Intermediario,
    now: OffsetDateTime,
) -> StoreResult<()> {
    let _turno = turno(p).await?;
    sqlx::query(
        "INSERT INTO intermediario (id, id_intermediario_pa, id_stazione, password, updated_at)
         VALUES (1, $1, $2, $3, $4)
         ON CONFLICT (id) DO UPDATE SET id_intermediario_pa = $1, id_stazione = $2, password = $3, updated_at = $4",
    )
    .bind(&i.id_intermediario_pa)
    .bind(&i.id_stazione)
    .bind(&i.password)
    .bind(now)
    .execute(p)
    .await?;
    Ok(())
}

pub async fn get_intermediario(p: &DbPool) -> StoreResult<Intermediario> {
    sqlx::query_as::<_, Intermediario>(
        "SELECT id_intermediario_pa, id_stazione, password FROM intermediario WHERE id = 1",
    )
    .fetch_optional(p)
    .await?
    .ok_or(StoreError::NotFound)
}

pub async fn insert_ente(p: &DbPool, e: &EnteInput, now: OffsetDateTime) -> StoreResult<()> {
    let ibans = serde_json::to_string(&e.ibans).expect("strings serialize");
    let _turno = turno(p).await?;
    sqlx::query(
        "INSERT INTO ente (id_dominio, denominazione, codice_ipa, segregation_code, email, telefono, sito_web,
                           ibans, flg_pagati, flg_tesoreria, attivo, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12)",
    )
    .bind(e.id_dominio.as_str())
    .bind(&e.denominazione)
    .bind(&e.codice_ipa)
    .bind(i64::from(e.segregation_code.value()))
    .bind(&e.contatti.email)
    .bind(&e.contatti.telefono)
    .bind(&e.contatti.sito_web)
    .bind(ibans)
    .bind(e.flg_pagati)
    .bind(e.flg_tesoreria)
    .bind(e.attivo)
    .bind(now)
    .execute(p)
    .await
    .map_err(|err| {
        if is_unique_violation(&err) {
            StoreError::Conflict(format!("ente {} o codice IPA {} già registrato", e.id_dominio, e.codice_ipa))
        } else {
            err.into()
        }
    })?;
    Ok(())
}

pub async fn update_ente(p: &DbPool, e: &EnteInput, now: OffsetDateTime) -> StoreResult<()> {
    let mut tx = begin_write(p).await?;
    let current: Option<(i64,)> =
        sqlx::query_as("SELECT segregation_code FROM ente WHERE id_dominio = $1")
            .bind(e.id_dominio.as_str())
            .fetch_optional(&mut *tx)
            .await?;
    let Some((seg,)) = current else {
        return Err(StoreError::NotFound);
    };
    if seg != i64::from(e.segregation_code.value()) {
        let issued: Option<(i64,)> =
            sqlx::query_as("SELECT id FROM dovuto WHERE id_dominio = $1 LIMIT 1")
                .bind(e.id_dominio.as_str())
                .fetch_optional(&mut *tx)
                .await?;
        if issued.is_some() {
            return Err(StoreError::Conflict(
                "il codice di segregazione non può cambiare: l'ente ha già dovuti con numero avviso".into(),
            ));
        }
    }
    let ibans = serde_json::to_string(&e.ibans).expect("strings serialize");
    sqlx::query(
        "UPDATE ente SET denominazione = $2, codice_ipa = $3, segregation_code = $4, email = $5, telefono = $6,
                sito_web = $7, ibans = $8, flg_pagati = $9, flg_tesoreria = $10, attivo = $11, updated_at = $12
         WHERE id_dominio = $1",
    )
    .bind(e.id_dominio.as_str())
    .bind(&e.denominazione)
    .bind(&e.codice_ipa)
    .bind(i64::from(e.segregation_code.value()))
    .bind(&e.contatti.email)
    .bind(&e.contatti.telefono)
    .bind(&e.contatti.sito_web)
    .bind(ibans)
    .bind(e.flg_pagati)
    .bind(e.flg_tesoreria)
    .bind(e.attivo)
    .bind(now)
    .execute(&mut *tx)
    .await
    .map_err(|err| {
        if is_unique_violation(&err) {
            StoreError::Conflict(format!("codice IPA {} già usato da un altro ente", e.codice_ipa))
        } else {
            err.into()
        }
    })?;
    tx.commit().await?;
    Ok(())
}

pub async fn get_ente(p: &DbPool, id_dominio: &str) -> StoreResult<Ente> {
    sqlx::query_as::<_, EnteRow>("SELECT * FROM ente WHERE id_dominio = $1")
        .bind(id_dominio)
        .fetch_optional(p)
        .await?
        .ok_or(StoreError::NotFound)?
        .try_into()
}

// $1: the enti allowed, comma-joined (ids are digits only, so no escaping is needed).
const ENTI_WHERE: &str = "($1 IS NULL OR (',' || $1 || ',') LIKE ('%,' || id_dominio || ',%'))
      AND ($2 IS NULL OR lower(denominazione) LIKE $2 ESCAPE '\\' OR lower(codice_ipa) LIKE $2 ESCAPE '\\' OR id_dominio LIKE $2 ESCAPE '\\')
      AND ($3 IS NULL OR codice_ipa = $3)
      AND ($4 IS NULL OR attivo = $4)";

pub async fn search_enti(
    p: &DbPool,
    f: &EntiFilter,
    limit: i64,
    offset: i64,
) -> StoreResult<(Vec<Ente>, i64)> {
    let pattern =
        f.q.as_deref()
            .map(|q| crate::store::like_contains(&q.to_lowercase()));
    let solo = f.solo.as_ref().map(|v| v.join(","));
    let sql = format!(
        "SELECT * FROM ente WHERE {ENTI_WHERE} ORDER BY denominazione, id_dominio LIMIT $5 OFFSET $6"
    );
    let rows = sqlx::query_as::<_, EnteRow>(sqlx::AssertSqlSafe(sql))
        .bind(&solo)
        .bind(&pattern)
        .bind(&f.codice_ipa)
        .bind(f.attivo)
        .bind(limit)
        .bind(offset)
        .fetch_all(p)
        .await?;
    let (total,): (i64,) = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT COUNT(*) FROM ente WHERE {ENTI_WHERE}"
    )))
    .bind(&solo)
    .bind(&pattern)
    .bind(&f.codice_ipa)
    .bind(f.attivo)
    .fetch_one(p)
    .await?;
    Ok((
        rows.into_iter()
            .map(Ente::try_from)
            .collect::<StoreResult<_>>()?,
        total,
    ))
}

pub async fn upsert_tipo_dovuto(
    p: &DbPool,
    ente: &str,
    t: &TipoDovutoInput,
    create: bool,
    now: OffsetDateTime,
) -> StoreResult<()> {
    let sql = if create {
        "INSERT INTO tipo_dovuto (id_dominio, codice, descrizione, iban, dati_specifici_riscossione, importo_fisso_cents,
                                  spontaneo, cf_anonimo, politica_scadenza, mora_fissa_cents, interesse_annuo_bp, attivo,
                                  created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13)"
    } else {
        "UPDATE tipo_dovuto SET descrizione = $3, iban = $4, dati_specifici_riscossione = $5, importo_fisso_cents = $6,
                spontaneo = $7, cf_anonimo = $8, politica_scadenza = $9, mora_fissa_cents = $10,
                interesse_annuo_bp = $11, attivo = $12, updated_at = $13
         WHERE id_dominio = $1 AND codice = $2"
    };
    let _turno = turno(p).await?;
    let r = sqlx::query(sql)
        .bind(ente)
        .bind(&t.codice)
        .bind(&t.descrizione)
        .bind(t.iban.as_str())
        .bind(t.dati_specifici_riscossione.as_str())
        .bind(t.importo_fisso.map(Importo::cents))
        .bind(t.spontaneo)
        .bind(t.cf_anonimo)
        .bind(t.politica_scadenza.as_str())
        .bind(t.mora_fissa.unwrap_or_default().cents())
        .bind(t.interesse_annuo_bp)
        .bind(t.attivo)
        .bind(now)
        .execute(p)
        .await
        .map_err(|err| {
            if is_unique_violation(&err) {
                StoreError::Conflict(format!("tipo dovuto {} già presente", t.codice))
            } else {
                err.into()
            }
        })?;
    if r.rows_affected() == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

pub async fn get_tipo_dovuto(p: &DbPool, ente: &str, codice: &str) -> StoreResult<TipoDovuto> {
    sqlx::query_as::<_, TipoDovutoRow>(
        "SELECT * FROM tipo_dovuto WHERE id_dominio = $1 AND codice = $2",
    )
    .bind(ente)
    .bind(codice)
    .fetch_optional(p)
    .await?
    .ok_or(StoreError::NotFound)?
    .try_into()
}

pub async fn list_tipi_dovuto(p: &DbPool, ente: &str) -> StoreResult<Vec<TipoDovuto>> {
    sqlx::query_as::<_, TipoDovutoRow>(
        "SELECT * FROM tipo_dovuto WHERE id_dominio = $1 ORDER BY codice",
    )
    .bind(ente)
    .fetch_all(p)
    .await?
    .into_iter()
    .map(TipoDovuto::try_from)
    .collect()
}

pub async fn insert_api_key(
    p: &DbPool,
    ente: &str,
    hash: &str,
    label: &str,
    now: OffsetDateTime,
) -> StoreResult<ApiKey> {
    let _turno = turno(p).await?;
    Ok(sqlx::query_as::<_, ApiKey>(
        "INSERT INTO api_key (id_dominio, key_hash, label, created_at) VALUES ($1, $2, $3, $4)
         RETURNING id, id_dominio, label, created_at, revoked_at",
    )
    .bind(ente)
    .bind(hash)
    .bind(label)
    .bind(now)
    .fetch_one(p)
    .await?)
}

pub async fn list_api_keys(p: &DbPool, ente: &str) -> StoreResult<Vec<ApiKey>> {
    Ok(sqlx::query_as::<_, ApiKey>("SELECT id, id_dominio, label, created_at, revoked_at FROM api_key WHERE id_dominio = $1 ORDER BY id")
        .bind(ente)
        .fetch_all(p)
        .await?)
}

pub async fn revoke_api_key(
    p: &DbPool,
    ente: &str,
    id: i64,
    now: OffsetDateTime,
) -> StoreResult<()> {
    let _turno = turno(p).await?;
    let r = sqlx::query("UPDATE api_key SET revoked_at = $3 WHERE id_dominio = $1 AND id = $2 AND revoked_at IS NULL")
        .bind(ente)
        .bind(id)
        .bind(now)
        .execute(p)
        .await?;
    if r.rows_affected() == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

/// The ente an active key belongs to.
pub async fn api_key_ente(p: &DbPool, hash: &str) -> StoreResult<Option<String>> {
    let r: Option<(String,)> =
        sqlx::query_as("SELECT id_dominio FROM api_key WHERE key_hash = $1 AND revoked_at IS NULL")
            .bind(hash)
            .fetch_optional(p)
            .await?;
    Ok(r.map(|(d,)| d))
}
