// Compiled twice, inside `store::sqlite` and `store::postgres` (see store/mod.rs): `Db`
// and `IS_POSTGRES` come from the including module. Only functions live here; shared types
// live in store/mod.rs. The SQL is the common dialect of SQLite >= 3.35 and PostgreSQL.

use super::*;
use crate::model::{Iuv, NumeroAvviso};
use crate::registry::import_csv::{Azione, FileCsv};
use crate::registry::{DovutoValido, EnteInput, Rifiuto, TipoDovutoInput};

type DbPool = sqlx::Pool<Db>;
type Conn = <Db as sqlx::Database>::Connection;

/// Starts a write transaction. On SQLite it takes the write lock at once (IMMEDIATE): a
/// deferred transaction that reads first and writes later can fail with SQLITE_BUSY on the
/// lock upgrade, which the busy timeout does not cover.
async fn begin_write(p: &DbPool) -> Result<sqlx::Transaction<'static, Db>, sqlx::Error> {
    p.begin_with(if IS_POSTGRES {
        "BEGIN"
    } else {
        "BEGIN IMMEDIATE"
    })
    .await
}

pub async fn ping(p: &DbPool) -> StoreResult<()> {
    sqlx::query("SELECT 1").execute(p).await?;
    Ok(())
}

// ---- intermediario ----

pub async fn seed_intermediario(
    p: &DbPool,
    i: &Intermediario,
    now: OffsetDateTime,
) -> StoreResult<()> {
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

// ---- enti ----

fn like_pattern(q: &str) -> String {
    let escaped = q
        .to_lowercase()
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    format!("%{escaped}%")
}

pub async fn insert_ente(p: &DbPool, e: &EnteInput, now: OffsetDateTime) -> StoreResult<()> {
    let ibans = serde_json::to_string(&e.ibans).expect("strings serialize");
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

const ENTI_WHERE: &str = "($1 IS NULL OR id_dominio = $1)
      AND ($2 IS NULL OR lower(denominazione) LIKE $2 ESCAPE '\\' OR lower(codice_ipa) LIKE $2 ESCAPE '\\' OR id_dominio LIKE $2 ESCAPE '\\')
      AND ($3 IS NULL OR codice_ipa = $3)
      AND ($4 IS NULL OR attivo = $4)";

pub async fn search_enti(
    p: &DbPool,
    f: &EntiFilter,
    limit: i64,
    offset: i64,
) -> StoreResult<(Vec<Ente>, i64)> {
    let pattern = f.q.as_deref().map(like_pattern);
    let sql = format!(
        "SELECT * FROM ente WHERE {ENTI_WHERE} ORDER BY denominazione, id_dominio LIMIT $5 OFFSET $6"
    );
    let rows = sqlx::query_as::<_, EnteRow>(sqlx::AssertSqlSafe(sql))
        .bind(&f.id_dominio)
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
    .bind(&f.id_dominio)
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

// ---- tipi dovuto ----

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

// ---- dovuti ----

/// Next IUV base of the ente. The upsert locks the ente's counter row, so concurrent
/// callers (any instance) get distinct values.
async fn next_iuv_base(c: &mut Conn, ente: &str) -> StoreResult<u64> {
    let (base,): (i64,) = sqlx::query_as(
        "INSERT INTO iuv_sequence (id_dominio, next_base) VALUES ($1, 2)
         ON CONFLICT (id_dominio) DO UPDATE SET next_base = iuv_sequence.next_base + 1
         RETURNING next_base - 1",
    )
    .bind(ente)
    .fetch_one(&mut *c)
    .await?;
    u64::try_from(base).map_err(|e| corrupt("iuv_sequence", e))
}

async fn iuv_taken(c: &mut Conn, ente: &str, iuv: &str) -> StoreResult<bool> {
    let r: Option<(i64,)> =
        sqlx::query_as("SELECT id FROM dovuto WHERE id_dominio = $1 AND iuv = $2")
            .bind(ente)
            .bind(iuv)
            .fetch_optional(&mut *c)
            .await?;
    Ok(r.is_some())
}

async fn add_storia(
    c: &mut Conn,
    dovuto_id: i64,
    da: Option<StatoDovuto>,
    a: StatoDovuto,
    motivo: &str,
    now: OffsetDateTime,
) -> StoreResult<()> {
    sqlx::query("INSERT INTO dovuto_storia (dovuto_id, stato_da, stato_a, motivo, at) VALUES ($1, $2, $3, $4, $5)")
        .bind(dovuto_id)
        .bind(da.map(StatoDovuto::as_str))
        .bind(a.as_str())
        .bind(motivo)
        .bind(now)
        .execute(&mut *c)
        .await?;
    Ok(())
}

/// Inserts a validated dovuto, generating its IUV and numero avviso when it has none.
async fn tx_insert_dovuto(
    c: &mut Conn,
    ente: &Ente,
    d: &DovutoValido,
    motivo: &str,
    now: OffsetDateTime,
) -> StoreResult<i64> {
    let dom = ente.id_dominio.as_str();
    let (iuv, avviso): (Iuv, Option<NumeroAvviso>) = match &d.iuv {
        Some((iuv, avviso)) => {
            if iuv_taken(c, dom, iuv.as_str()).await? {
                return Err(StoreError::Conflict(format!(
                    "IUV {iuv} già assegnato a un altro dovuto dell'ente"
                )));
            }
            (iuv.clone(), avviso.clone())
        }
        None => loop {
            let base = next_iuv_base(c, dom).await?;
            let iuv =
                Iuv::aux3(ente.segregation_code, base).map_err(|e| StoreError::Conflict(e.0))?;
            // A manually supplied IUV may already hold this value: skip it.
            if !iuv_taken(c, dom, iuv.as_str()).await? {
                let avviso = NumeroAvviso::from_aux3_iuv(&iuv);
                break (iuv, avviso);
            }
        },
    };
    let p = &d.pagatore;
    let (id,): (i64,) = sqlx::query_as(
        "INSERT INTO dovuto (id_dominio, iud, iuv, numero_avviso, tipo_dovuto, tipo_soggetto, codice_fiscale, anagrafica,
                             indirizzo, civico, cap, localita, provincia, nazione, email, importo_cents, commissione_pa_cents,
                             causale, dati_specifici_riscossione, tipo_versamento, data_scadenza, data_validita, bilancio,
                             stato, version, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23,
                 $24, 1, $25, $25)
         RETURNING id",
    )
    .bind(dom)
    .bind(&d.iud)
    .bind(iuv.as_str())
    .bind(avviso.as_ref().map(NumeroAvviso::as_str))
    .bind(&d.tipo_dovuto)
    .bind(p.tipo.as_str())
    .bind(p.codice_fiscale.as_str())
    .bind(&p.anagrafica)
    .bind(&p.indirizzo)
    .bind(&p.civico)
    .bind(&p.cap)
    .bind(&p.localita)
    .bind(&p.provincia)
    .bind(&p.nazione)
    .bind(&p.email)
    .bind(d.importo.cents())
    .bind(d.commissione_pa.map(Importo::cents))
    .bind(&d.causale)
    .bind(d.dati_specifici_riscossione.as_str())
    .bind(d.tipo_versamento.as_str())
    .bind(d.data_scadenza)
    .bind(d.data_validita)
    .bind(serde_json::to_string(&d.bilancio).expect("bilancio serializes"))
    .bind(StatoDovuto::DaPagare.as_str())
    .bind(now)
    .fetch_one(&mut *c)
    .await
    .map_err(|err| {
        if is_unique_violation(&err) {
            StoreError::Conflict(format!("IUD {} già presente per l'ente", d.iud))
        } else {
            err.into()
        }
    })?;
    add_storia(c, id, None, StatoDovuto::DaPagare, motivo, now).await?;
    Ok(id)
}

/// Rewrites the content of a modifiable dovuto (an expired one becomes payable again).
async fn tx_update_dovuto(
    c: &mut Conn,
    old: &Dovuto,
    d: &DovutoValido,
    motivo: &str,
    now: OffsetDateTime,
) -> StoreResult<()> {
    if !old.stato.is_modifiable() {
        return Err(StoreError::Conflict(format!(
            "dovuto {} in stato {}: non modificabile",
            old.iud, old.stato
        )));
    }
    let stato = if old.stato == StatoDovuto::Scaduto {
        StatoDovuto::DaPagare
    } else {
        old.stato
    };
    let p = &d.pagatore;
    let r = sqlx::query(
        "UPDATE dovuto SET tipo_dovuto = $3, tipo_soggetto = $4, codice_fiscale = $5, anagrafica = $6, indirizzo = $7,
                civico = $8, cap = $9, localita = $10, provincia = $11, nazione = $12, email = $13, importo_cents = $14,
                commissione_pa_cents = $15, causale = $16, dati_specifici_riscossione = $17, tipo_versamento = $18,
                data_scadenza = $19, data_validita = $20, bilancio = $21, stato = $22, version = version + 1, updated_at = $23
         WHERE id = $1 AND version = $2",
    )
    .bind(old.id)
    .bind(old.version)
    .bind(&d.tipo_dovuto)
    .bind(p.tipo.as_str())
    .bind(p.codice_fiscale.as_str())
    .bind(&p.anagrafica)
    .bind(&p.indirizzo)
    .bind(&p.civico)
    .bind(&p.cap)
    .bind(&p.localita)
    .bind(&p.provincia)
    .bind(&p.nazione)
    .bind(&p.email)
    .bind(d.importo.cents())
    .bind(d.commissione_pa.map(Importo::cents))
    .bind(&d.causale)
    .bind(d.dati_specifici_riscossione.as_str())
    .bind(d.tipo_versamento.as_str())
    .bind(d.data_scadenza)
    .bind(d.data_validita)
    .bind(serde_json::to_string(&d.bilancio).expect("bilancio serializes"))
    .bind(stato.as_str())
    .bind(now)
    .execute(&mut *c)
    .await?;
    if r.rows_affected() == 0 {
        return Err(StoreError::Conflict(format!(
            "dovuto {} modificato nel frattempo: riprovare",
            old.iud
        )));
    }
    add_storia(c, old.id, Some(old.stato), stato, motivo, now).await
}

/// Moves a dovuto from `from` to `to`, refusing moves the state machine does not allow and
/// losing no concurrent change (the UPDATE matches the expected state).
async fn tx_change_stato(
    c: &mut Conn,
    id: i64,
    from: StatoDovuto,
    to: StatoDovuto,
    motivo: &str,
    now: OffsetDateTime,
) -> StoreResult<()> {
    if !from.can_become(to) {
        return Err(StoreError::Conflict(format!(
            "transizione {from} → {to} non ammessa"
        )));
    }
    let r = sqlx::query("UPDATE dovuto SET stato = $1, version = version + 1, updated_at = $2 WHERE id = $3 AND stato = $4")
        .bind(to.as_str())
        .bind(now)
        .bind(id)
        .bind(from.as_str())
        .execute(&mut *c)
        .await?;
    if r.rows_affected() == 0 {
        return Err(StoreError::Conflict(format!(
            "il dovuto non è più in stato {from}"
        )));
    }
    add_storia(c, id, Some(from), to, motivo, now).await
}

async fn tx_dovuto_by_iud(c: &mut Conn, ente: &str, iud: &str) -> StoreResult<Option<Dovuto>> {
    sqlx::query_as::<_, DovutoRow>("SELECT * FROM dovuto WHERE id_dominio = $1 AND iud = $2")
        .bind(ente)
        .bind(iud)
        .fetch_optional(&mut *c)
        .await?
        .map(Dovuto::try_from)
        .transpose()
}

pub async fn insert_dovuto(
    p: &DbPool,
    ente: &Ente,
    d: &DovutoValido,
    motivo: &str,
    now: OffsetDateTime,
) -> StoreResult<Dovuto> {
    let mut tx = begin_write(p).await?;
    tx_insert_dovuto(&mut tx, ente, d, motivo, now).await?;
    let out = tx_dovuto_by_iud(&mut tx, ente.id_dominio.as_str(), &d.iud)
        .await?
        .ok_or(StoreError::NotFound)?;
    tx.commit().await?;
    Ok(out)
}

pub async fn update_dovuto(
    p: &DbPool,
    old: &Dovuto,
    d: &DovutoValido,
    motivo: &str,
    now: OffsetDateTime,
) -> StoreResult<Dovuto> {
    let mut tx = begin_write(p).await?;
    tx_update_dovuto(&mut tx, old, d, motivo, now).await?;
    let out = tx_dovuto_by_iud(&mut tx, old.id_dominio.as_str(), &old.iud)
        .await?
        .ok_or(StoreError::NotFound)?;
    tx.commit().await?;
    Ok(out)
}

pub async fn change_stato(
    p: &DbPool,
    d: &Dovuto,
    to: StatoDovuto,
    motivo: &str,
    now: OffsetDateTime,
) -> StoreResult<Dovuto> {
    let mut tx = begin_write(p).await?;
    tx_change_stato(&mut tx, d.id, d.stato, to, motivo, now).await?;
    let out = tx_dovuto_by_iud(&mut tx, d.id_dominio.as_str(), &d.iud)
        .await?
        .ok_or(StoreError::NotFound)?;
    tx.commit().await?;
    Ok(out)
}

pub async fn get_dovuto(p: &DbPool, ente: &str, iud: &str) -> StoreResult<Dovuto> {
    let mut c = p.acquire().await?;
    tx_dovuto_by_iud(&mut c, ente, iud)
        .await?
        .ok_or(StoreError::NotFound)
}

pub async fn get_dovuto_by_iuv(p: &DbPool, ente: &str, iuv: &str) -> StoreResult<Option<Dovuto>> {
    sqlx::query_as::<_, DovutoRow>("SELECT * FROM dovuto WHERE id_dominio = $1 AND iuv = $2")
        .bind(ente)
        .bind(iuv)
        .fetch_optional(p)
        .await?
        .map(Dovuto::try_from)
        .transpose()
}

pub async fn storia_dovuto(p: &DbPool, id: i64) -> StoreResult<Vec<StoricoStato>> {
    Ok(sqlx::query_as::<_, StoricoStato>(
        "SELECT stato_da, stato_a, motivo, at FROM dovuto_storia WHERE dovuto_id = $1 ORDER BY id",
    )
    .bind(id)
    .fetch_all(p)
    .await?)
}

const DOVUTI_WHERE: &str = "($1 IS NULL OR id_dominio = $1)
      AND ($2 IS NULL OR stato = $2)
      AND ($3 IS NULL OR codice_fiscale = $3)
      AND ($4 IS NULL OR iud = $4)
      AND ($5 IS NULL OR iuv = $5)
      AND ($6 IS NULL OR numero_avviso = $6)
      AND ($7 IS NULL OR tipo_dovuto = $7)";

pub async fn search_dovuti(
    p: &DbPool,
    f: &DovutiFilter,
    limit: i64,
    offset: i64,
) -> StoreResult<(Vec<Dovuto>, i64)> {
    let stato = f.stato.map(StatoDovuto::as_str);
    let rows = sqlx::query_as::<_, DovutoRow>(sqlx::AssertSqlSafe(format!(
        "SELECT * FROM dovuto WHERE {DOVUTI_WHERE} ORDER BY id DESC LIMIT $8 OFFSET $9"
    )))
    .bind(&f.id_dominio)
    .bind(stato)
    .bind(&f.codice_fiscale)
    .bind(&f.iud)
    .bind(&f.iuv)
    .bind(&f.numero_avviso)
    .bind(&f.tipo_dovuto)
    .bind(limit)
    .bind(offset)
    .fetch_all(p)
    .await?;
    let (total,): (i64,) = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT COUNT(*) FROM dovuto WHERE {DOVUTI_WHERE}"
    )))
    .bind(&f.id_dominio)
    .bind(stato)
    .bind(&f.codice_fiscale)
    .bind(&f.iud)
    .bind(&f.iuv)
    .bind(&f.numero_avviso)
    .bind(&f.tipo_dovuto)
    .fetch_one(p)
    .await?;
    Ok((
        rows.into_iter()
            .map(Dovuto::try_from)
            .collect::<StoreResult<_>>()?,
        total,
    ))
}

// ---- dovuti CSV import ----

/// Applies every parsed line of a dovuti file in ONE transaction: a crash or a database
/// error leaves nothing half-applied. Lines that break a rule are rejected one by one.
pub async fn apply_dovuti_import(
    p: &DbPool,
    ente: &Ente,
    tipi: &[TipoDovuto],
    file: &FileCsv,
    meta: (&str, Option<&str>, &str),
    now: OffsetDateTime,
) -> StoreResult<ImportJob> {
    let (job_id, file_name, sha) = meta;
    let mut tx = begin_write(p).await?;
    let c: &mut Conn = &mut tx;
    let dom = ente.id_dominio.as_str();
    let (mut imported, mut unchanged) = (0i64, 0i64);
    let mut scarti = Vec::new();
    let motivo = format!("import {job_id}");
    for l in &file.lines {
        // Outer error: the database failed (abort the whole file). Inner: the line is rejected.
        let outcome: StoreResult<Result<bool, Rifiuto>> = async {
            let riga = match &l.outcome {
                Ok(r) => r.clone(),
                Err(r) => return Ok(Err(r.clone())),
            };
            let Some(tipo) = tipi.iter().find(|t| t.codice == riga.dovuto.tipo_dovuto) else {
                return Ok(Err(Rifiuto::new(
                    "PAA_IMPORT_SINTASSI_CSV_TIPO_DOVUTO_INESISTENTE",
                    format!(
                        "tipo dovuto '{}' inesistente per l'ente",
                        riga.dovuto.tipo_dovuto
                    ),
                )));
            };
            let existing = tx_dovuto_by_iud(c, dom, &riga.dovuto.iud).await?;
            let valid = match riga.dovuto.resolve(ente, tipo) {
                Ok(v) => v,
                Err(r) => return Ok(Err(r)),
            };
            let applied = match (riga.azione, existing) {
                (Azione::Inserisci | Azione::Modifica, Some(old)) if valid.same_as(&old) => {
                    return Ok(Ok(false));
                }
                (Azione::Annulla, Some(old)) if old.stato == StatoDovuto::Annullato => {
                    return Ok(Ok(false));
                }
                (Azione::Inserisci, Some(_)) => {
                    return Ok(Err(Rifiuto::new(
                        "PAA_IMPORT_IUD_DUPLICATO",
                        "IUD già presente con dati diversi: usare l'azione M per modificarlo",
                    )));
                }
                (Azione::Modifica | Azione::Annulla, None) => {
                    return Ok(Err(Rifiuto::new(
                        "PAA_IMPORT_IUD_INESISTENTE",
                        "IUD non presente: impossibile modificare o annullare",
                    )));
                }
                (Azione::Inserisci, None) => tx_insert_dovuto(c, ente, &valid, &motivo, now)
                    .await
                    .map(drop),
                (Azione::Modifica, Some(old)) => {
                    tx_update_dovuto(c, &old, &valid, &motivo, now).await
                }
                (Azione::Annulla, Some(old)) if !old.stato.is_modifiable() => {
                    return Ok(Err(Rifiuto::new(
                        "PAA_IMPORT_DOVUTO_NON_ANNULLABILE",
                        format!("dovuto in stato {}: non annullabile", old.stato),
                    )));
                }
                (Azione::Annulla, Some(old)) => {
                    tx_change_stato(c, old.id, old.stato, StatoDovuto::Annullato, &motivo, now)
                        .await
                }
            };
            match applied {
                Ok(()) => Ok(Ok(true)),
                Err(StoreError::Conflict(m)) => Ok(Err(Rifiuto::new("PAA_IMPORT_CONFLITTO", m))),
                Err(e) => Err(e),
            }
        }
        .await;
        match outcome? {
            Ok(true) => imported += 1,
            Ok(false) => unchanged += 1,
            Err(r) => scarti.push(Scarto {
                riga: l.line,
                codice: r.code.to_owned(),
                motivo: r.reason,
                riga_originale: l.raw.clone(),
            }),
        }
    }
    let job = ImportJob {
        id: job_id.to_owned(),
        id_dominio: dom.to_owned(),
        tipo: "DOVUTI_CSV".into(),
        file_name: file_name.map(str::to_owned),
        file_sha256: sha.to_owned(),
        versione: Some(file.versione.as_str().to_owned()),
        stato: "ESEGUITO".into(),
        righe_lette: file.lines.len() as i64,
        righe_importate: imported,
        righe_invariate: unchanged,
        righe_scartate: scarti.len() as i64,
        scarti,
        created_at: now,
    };
    tx_insert_import_job(c, &job).await?;
    tx.commit().await?;
    Ok(job)
}

pub async fn get_import_job(p: &DbPool, ente: &str, id: &str) -> StoreResult<ImportJob> {
    sqlx::query_as::<_, ImportJobRow>("SELECT * FROM import_job WHERE id_dominio = $1 AND id = $2")
        .bind(ente)
        .bind(id)
        .fetch_optional(p)
        .await?
        .ok_or(StoreError::NotFound)?
        .try_into()
}

// ---- API keys ----

pub async fn insert_api_key(
    p: &DbPool,
    ente: &str,
    hash: &str,
    label: &str,
    now: OffsetDateTime,
) -> StoreResult<ApiKey> {
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

// ---- message journal ----

pub async fn insert_journal(p: &DbPool, entries: &[JournalEntry]) -> StoreResult<()> {
    // Multi-row INSERTs: one statement per chunk instead of one per entry (12 binds per row,
    // well under both backends' parameter limits).
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

pub async fn journal_after(p: &DbPool, after: i64, limit: i64) -> StoreResult<Vec<JournalFull>> {
    Ok(sqlx::query_as::<_, JournalFull>(sqlx::AssertSqlSafe(format!("SELECT {JOURNAL_COLS}, request, response FROM journal WHERE id > $1 ORDER BY id LIMIT $2")))
        .bind(after)
        .bind(limit)
        .fetch_all(p)
        .await?)
}

pub async fn prune_journal(p: &DbPool, before: OffsetDateTime) -> StoreResult<u64> {
    Ok(sqlx::query("DELETE FROM journal WHERE at < $1")
        .bind(before)
        .execute(p)
        .await?
        .rows_affected())
}
