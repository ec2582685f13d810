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
    p.begin_with(if IS_POSTGRES { "BEGIN" } else { "BEGIN IMMEDIATE" }).await
}

pub async fn ping(p: &DbPool) -> StoreResult<()> {
    sqlx::query("SELECT 1").execute(p).await?;
    Ok(())
}

// ---- intermediario ----

pub async fn seed_intermediario(p: &DbPool, i: &Intermediario, now: OffsetDateTime) -> StoreResult<()> {
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

pub async fn put_intermediario(p: &DbPool, i: &Intermediario, now: OffsetDateTime) -> StoreResult<()> {
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
    sqlx::query_as::<_, Intermediario>("SELECT id_intermediario_pa, id_stazione, password FROM intermediario WHERE id = 1")
        .fetch_optional(p)
        .await?
        .ok_or(StoreError::NotFound)
}

// ---- enti ----

fn like_pattern(q: &str) -> String {
    let escaped = q.to_lowercase().replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
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
    let current: Option<(i64,)> = sqlx::query_as("SELECT segregation_code FROM ente WHERE id_dominio = $1")
        .bind(e.id_dominio.as_str())
        .fetch_optional(&mut *tx)
        .await?;
    let Some((seg,)) = current else { return Err(StoreError::NotFound) };
    if seg != i64::from(e.segregation_code.value()) {
        let issued: Option<(i64,)> = sqlx::query_as("SELECT id FROM dovuto WHERE id_dominio = $1 LIMIT 1")
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

pub async fn search_enti(p: &DbPool, f: &EntiFilter, limit: i64, offset: i64) -> StoreResult<(Vec<Ente>, i64)> {
    let pattern = f.q.as_deref().map(like_pattern);
    let sql = format!("SELECT * FROM ente WHERE {ENTI_WHERE} ORDER BY denominazione, id_dominio LIMIT $5 OFFSET $6");
    let rows = sqlx::query_as::<_, EnteRow>(sqlx::AssertSqlSafe(sql))
        .bind(&f.id_dominio)
        .bind(&pattern)
        .bind(&f.codice_ipa)
        .bind(f.attivo)
        .bind(limit)
        .bind(offset)
        .fetch_all(p)
        .await?;
    let (total,): (i64,) = sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT COUNT(*) FROM ente WHERE {ENTI_WHERE}")))
        .bind(&f.id_dominio)
        .bind(&pattern)
        .bind(&f.codice_ipa)
        .bind(f.attivo)
        .fetch_one(p)
        .await?;
    Ok((rows.into_iter().map(Ente::try_from).collect::<StoreResult<_>>()?, total))
}

// ---- tipi dovuto ----

pub async fn upsert_tipo_dovuto(p: &DbPool, ente: &str, t: &TipoDovutoInput, create: bool, now: OffsetDateTime) -> StoreResult<()> {
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
    sqlx::query_as::<_, TipoDovutoRow>("SELECT * FROM tipo_dovuto WHERE id_dominio = $1 AND codice = $2")
        .bind(ente)
        .bind(codice)
        .fetch_optional(p)
        .await?
        .ok_or(StoreError::NotFound)?
        .try_into()
}

pub async fn list_tipi_dovuto(p: &DbPool, ente: &str) -> StoreResult<Vec<TipoDovuto>> {
    sqlx::query_as::<_, TipoDovutoRow>("SELECT * FROM tipo_dovuto WHERE id_dominio = $1 ORDER BY codice")
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
    let r: Option<(i64,)> = sqlx::query_as("SELECT id FROM dovuto WHERE id_dominio = $1 AND iuv = $2")
        .bind(ente)
        .bind(iuv)
        .fetch_optional(&mut *c)
        .await?;
    Ok(r.is_some())
}

async fn add_storia(c: &mut Conn, dovuto_id: i64, da: Option<StatoDovuto>, a: StatoDovuto, motivo: &str, now: OffsetDateTime) -> StoreResult<()> {
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
async fn tx_insert_dovuto(c: &mut Conn, ente: &Ente, d: &DovutoValido, motivo: &str, now: OffsetDateTime) -> StoreResult<i64> {
    let dom = ente.id_dominio.as_str();
    let (iuv, avviso): (Iuv, Option<NumeroAvviso>) = match &d.iuv {
        Some((iuv, avviso)) => {
            if iuv_taken(c, dom, iuv.as_str()).await? {
                return Err(StoreError::Conflict(format!("IUV {iuv} già assegnato a un altro dovuto dell'ente")));
            }
            (iuv.clone(), avviso.clone())
        }
        None => loop {
            let base = next_iuv_base(c, dom).await?;
            let iuv = Iuv::aux3(ente.segregation_code, base).map_err(|e| StoreError::Conflict(e.0))?;
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
async fn tx_update_dovuto(c: &mut Conn, old: &Dovuto, d: &DovutoValido, motivo: &str, now: OffsetDateTime) -> StoreResult<()> {
    if !old.stato.is_modifiable() {
        return Err(StoreError::Conflict(format!("dovuto {} in stato {}: non modificabile", old.iud, old.stato)));
    }
    let stato = if old.stato == StatoDovuto::Scaduto { StatoDovuto::DaPagare } else { old.stato };
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
        return Err(StoreError::Conflict(format!("dovuto {} modificato nel frattempo: riprovare", old.iud)));
    }
    add_storia(c, old.id, Some(old.stato), stato, motivo, now).await
}

/// Moves a dovuto from `from` to `to`, refusing moves the state machine does not allow and
/// losing no concurrent change (the UPDATE matches the expected state).
async fn tx_change_stato(c: &mut Conn, id: i64, from: StatoDovuto, to: StatoDovuto, motivo: &str, now: OffsetDateTime) -> StoreResult<()> {
    if !from.can_become(to) {
        return Err(StoreError::Conflict(format!("transizione {from} → {to} non ammessa")));
    }
    let r = sqlx::query("UPDATE dovuto SET stato = $1, version = version + 1, updated_at = $2 WHERE id = $3 AND stato = $4")
        .bind(to.as_str())
        .bind(now)
        .bind(id)
        .bind(from.as_str())
        .execute(&mut *c)
        .await?;
    if r.rows_affected() == 0 {
        return Err(StoreError::Conflict(format!("il dovuto non è più in stato {from}")));
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

pub async fn insert_dovuto(p: &DbPool, ente: &Ente, d: &DovutoValido, motivo: &str, now: OffsetDateTime) -> StoreResult<Dovuto> {
    let mut tx = begin_write(p).await?;
    tx_insert_dovuto(&mut tx, ente, d, motivo, now).await?;
    let out = tx_dovuto_by_iud(&mut tx, ente.id_dominio.as_str(), &d.iud).await?.ok_or(StoreError::NotFound)?;
    tx.commit().await?;
    Ok(out)
}

pub async fn update_dovuto(p: &DbPool, old: &Dovuto, d: &DovutoValido, motivo: &str, now: OffsetDateTime) -> StoreResult<Dovuto> {
    let mut tx = begin_write(p).await?;
    tx_update_dovuto(&mut tx, old, d, motivo, now).await?;
    let out = tx_dovuto_by_iud(&mut tx, old.id_dominio.as_str(), &old.iud).await?.ok_or(StoreError::NotFound)?;
    tx.commit().await?;
    Ok(out)
}

pub async fn change_stato(p: &DbPool, d: &Dovuto, to: StatoDovuto, motivo: &str, now: OffsetDateTime) -> StoreResult<Dovuto> {
    let mut tx = begin_write(p).await?;
    tx_change_stato(&mut tx, d.id, d.stato, to, motivo, now).await?;
    let out = tx_dovuto_by_iud(&mut tx, d.id_dominio.as_str(), &d.iud).await?.ok_or(StoreError::NotFound)?;
    tx.commit().await?;
    Ok(out)
}

pub async fn get_dovuto(p: &DbPool, ente: &str, iud: &str) -> StoreResult<Dovuto> {
    let mut c = p.acquire().await?;
    tx_dovuto_by_iud(&mut c, ente, iud).await?.ok_or(StoreError::NotFound)
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
    Ok(sqlx::query_as::<_, StoricoStato>("SELECT stato_da, stato_a, motivo, at FROM dovuto_storia WHERE dovuto_id = $1 ORDER BY id")
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

pub async fn search_dovuti(p: &DbPool, f: &DovutiFilter, limit: i64, offset: i64) -> StoreResult<(Vec<Dovuto>, i64)> {
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
    let (total,): (i64,) = sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT COUNT(*) FROM dovuto WHERE {DOVUTI_WHERE}")))
        .bind(&f.id_dominio)
        .bind(stato)
        .bind(&f.codice_fiscale)
        .bind(&f.iud)
        .bind(&f.iuv)
        .bind(&f.numero_avviso)
        .bind(&f.tipo_dovuto)
        .fetch_one(p)
        .await?;
    Ok((rows.into_iter().map(Dovuto::try_from).collect::<StoreResult<_>>()?, total))
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
                    format!("tipo dovuto '{}' inesistente per l'ente", riga.dovuto.tipo_dovuto),
                )));
            };
            let existing = tx_dovuto_by_iud(c, dom, &riga.dovuto.iud).await?;
            let valid = match riga.dovuto.resolve(ente, tipo) {
                Ok(v) => v,
                Err(r) => return Ok(Err(r)),
            };
            let applied = match (riga.azione, existing) {
                (Azione::Inserisci | Azione::Modifica, Some(old)) if valid.same_as(&old) => return Ok(Ok(false)),
                (Azione::Annulla, Some(old)) if old.stato == StatoDovuto::Annullato => return Ok(Ok(false)),
                (Azione::Inserisci, Some(_)) => {
                    return Ok(Err(Rifiuto::new("PAA_IMPORT_IUD_DUPLICATO", "IUD già presente con dati diversi: usare l'azione M per modificarlo")));
                }
                (Azione::Modifica | Azione::Annulla, None) => {
                    return Ok(Err(Rifiuto::new("PAA_IMPORT_IUD_INESISTENTE", "IUD non presente: impossibile modificare o annullare")));
                }
                (Azione::Inserisci, None) => tx_insert_dovuto(c, ente, &valid, &motivo, now).await.map(drop),
                (Azione::Modifica, Some(old)) => tx_update_dovuto(c, &old, &valid, &motivo, now).await,
                (Azione::Annulla, Some(old)) if !old.stato.is_modifiable() => {
                    return Ok(Err(Rifiuto::new("PAA_IMPORT_DOVUTO_NON_ANNULLABILE", format!("dovuto in stato {}: non annullabile", old.stato))));
                }
                (Azione::Annulla, Some(old)) => tx_change_stato(c, old.id, old.stato, StatoDovuto::Annullato, &motivo, now).await,
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
            Err(r) => scarti.push(Scarto { riga: l.line, codice: r.code.to_owned(), motivo: r.reason, riga_originale: l.raw.clone() }),
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

pub async fn insert_api_key(p: &DbPool, ente: &str, hash: &str, label: &str, now: OffsetDateTime) -> StoreResult<ApiKey> {
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

pub async fn revoke_api_key(p: &DbPool, ente: &str, id: i64, now: OffsetDateTime) -> StoreResult<()> {
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
    let r: Option<(String,)> = sqlx::query_as("SELECT id_dominio FROM api_key WHERE key_hash = $1 AND revoked_at IS NULL")
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
        q.build().persistent(chunk.len() == 64).execute(&mut *tx).await?;
    }
    tx.commit().await?;
    Ok(())
}

const JOURNAL_WHERE: &str = "($1 IS NULL OR id_dominio = $1) AND ($2 IS NULL OR operation = $2) AND ($3 IS NULL OR iuv = $3) AND ($4 IS NULL OR outcome = $4)";
const JOURNAL_COLS: &str = "id, at, direction, operation, id_dominio, iuv, ccp, id_psp, outcome, http_status, duration_us";

pub async fn search_journal(p: &DbPool, f: &JournalFilter, limit: i64, offset: i64) -> StoreResult<(Vec<JournalSummary>, i64)> {
    let rows = sqlx::query_as::<_, JournalSummary>(sqlx::AssertSqlSafe(format!("SELECT {JOURNAL_COLS} FROM journal WHERE {JOURNAL_WHERE} ORDER BY id DESC LIMIT $5 OFFSET $6")))
        .bind(&f.id_dominio)
        .bind(&f.operation)
        .bind(&f.iuv)
        .bind(&f.outcome)
        .bind(limit)
        .bind(offset)
        .fetch_all(p)
        .await?;
    let (total,): (i64,) = sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT COUNT(*) FROM journal WHERE {JOURNAL_WHERE}")))
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
    Ok(sqlx::query("DELETE FROM journal WHERE at < $1").bind(before).execute(p).await?.rows_affected())
}

// ---- RPT and received RT ----

pub async fn insert_rpt(p: &DbPool, r: &NuovaRpt, now: OffsetDateTime) -> StoreResult<i64> {
    let (id,): (i64,) = sqlx::query_as(
        "INSERT INTO rpt (id_dominio, iuv, ccp, dovuto_id, importo_cents, xml, stato, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, 'CREATA', $7, $7) RETURNING id",
    )
    .bind(&r.id_dominio)
    .bind(&r.iuv)
    .bind(&r.ccp)
    .bind(r.dovuto_id)
    .bind(r.importo.cents())
    .bind(&r.xml)
    .bind(now)
    .fetch_one(p)
    .await
    .map_err(|e| if is_unique_violation(&e) { StoreError::Conflict(format!("RPT {}/{}/{} già presente", r.id_dominio, r.iuv, r.ccp)) } else { e.into() })?;
    Ok(id)
}

pub async fn get_rpt(p: &DbPool, dominio: &str, iuv: &str, ccp: &str) -> StoreResult<Option<RptRow>> {
    Ok(sqlx::query_as::<_, RptRow>("SELECT id, id_dominio, iuv, ccp, dovuto_id, importo_cents, stato FROM rpt WHERE id_dominio = $1 AND iuv = $2 AND ccp = $3")
        .bind(dominio)
        .bind(iuv)
        .bind(ccp)
        .fetch_optional(p)
        .await?)
}

pub async fn store_rt_raw(p: &DbPool, dominio: &str, iuv: &str, ccp: &str, raw: &[u8], now: OffsetDateTime) -> StoreResult<RtStored> {
    let mut tx = begin_write(p).await?;
    let inserted: Option<(i64,)> = sqlx::query_as(
        "INSERT INTO rt_ricevuta (id_dominio, iuv, ccp, raw, stato, received_at, updated_at) VALUES ($1, $2, $3, $4, 'RICEVUTA', $5, $5)
         ON CONFLICT (id_dominio, iuv, ccp) DO NOTHING RETURNING id",
    )
    .bind(dominio)
    .bind(iuv)
    .bind(ccp)
    .bind(raw)
    .bind(now)
    .fetch_optional(&mut *tx)
    .await?;
    let out = match inserted {
        Some((id,)) => RtStored::Nuova(id),
        None => {
            let (id, stato): (i64, String) = sqlx::query_as("SELECT id, stato FROM rt_ricevuta WHERE id_dominio = $1 AND iuv = $2 AND ccp = $3")
                .bind(dominio)
                .bind(iuv)
                .bind(ccp)
                .fetch_one(&mut *tx)
                .await?;
            let stato = StatoRt::parse(&stato).map_err(|e| StoreError::Corrupt(e.0))?;
            if stato.can_become(StatoRt::Ricevuta) {
                // A corrected re-delivery replaces what could not be read.
                sqlx::query("UPDATE rt_ricevuta SET raw = $1, stato = 'RICEVUTA', nota = NULL, updated_at = $2 WHERE id = $3")
                    .bind(raw)
                    .bind(now)
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                RtStored::Nuova(id)
            } else {
                RtStored::Esistente { id, stato }
            }
        }
    };
    tx.commit().await?;
    Ok(out)
}

pub async fn mark_rt(p: &DbPool, id: i64, stato: StatoRt, esito: Option<(u8, Importo)>, nota: Option<&str>, now: OffsetDateTime) -> StoreResult<()> {
    sqlx::query("UPDATE rt_ricevuta SET stato = $1, codice_esito = $2, importo_cents = $3, nota = $4, updated_at = $5 WHERE id = $6")
        .bind(stato.as_str())
        .bind(esito.map(|(c, _)| i64::from(c)))
        .bind(esito.map(|(_, i)| i.cents()))
        .bind(nota)
        .bind(now)
        .bind(id)
        .execute(p)
        .await?;
    Ok(())
}

pub async fn apply_rt(p: &DbPool, rt_id: i64, rpt: &RptRow, e: &EsitoRt, now: OffsetDateTime) -> StoreResult<bool> {
    let mut tx = begin_write(p).await?;
    // Compare-and-set: of two concurrent processings of one receipt (a re-delivery racing
    // the sweep, two instances) exactly one applies it.
    let moved = sqlx::query("UPDATE rt_ricevuta SET stato = $1, codice_esito = $2, importo_cents = $3, rpt_id = $4, nota = $5, updated_at = $6 WHERE id = $7 AND stato IN ('RICEVUTA', 'QUARANTENA')")
        .bind(e.stato.as_str())
        .bind(i64::from(e.esito.codice()))
        .bind(e.importo.cents())
        .bind(rpt.id)
        .bind(&e.nota)
        .bind(now)
        .bind(rt_id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    if moved == 0 {
        tx.rollback().await?;
        return Ok(false);
    }
    sqlx::query("UPDATE rpt SET stato = $1, updated_at = $2 WHERE id = $3").bind(StatoRpt::RtRicevuta.as_str()).bind(now).bind(rpt.id).execute(&mut *tx).await?;
    if let Some(dovuto_id) = rpt.dovuto_id {
        let row = sqlx::query_as::<_, DovutoRow>("SELECT * FROM dovuto WHERE id = $1").bind(dovuto_id).fetch_optional(&mut *tx).await?;
        if let Some(d) = row.map(Dovuto::try_from).transpose()?
            && let Some(to) = crate::dominio::ricevuta::stato_dovuto(e.esito, d.stato)
        {
            let motivo = format!("RT esito {} (IUV {}, CCP {})", e.esito.codice(), rpt.iuv, rpt.ccp);
            tx_change_stato(&mut tx, d.id, d.stato, to, &motivo, now).await?;
        }
    }
    if e.email() {
        tx_enqueue(&mut tx, TipoJob::RtEmail, rt_id, now).await?;
    }
    if !e.ricevute.is_empty() {
        // Staged for reconciliation with the dovuto's IUD, tipo and budget split.
        let dovuto: Option<(String, String, String)> = match rpt.dovuto_id {
            Some(id) => sqlx::query_as("SELECT iud, tipo_dovuto, bilancio FROM dovuto WHERE id = $1").bind(id).fetch_optional(&mut *tx).await?,
            None => None,
        };
        let ricevute: Vec<NuovaRicevuta> = e
            .ricevute
            .iter()
            .cloned()
            .map(|mut r| {
                if let Some((iud, tipo, bilancio)) = &dovuto {
                    r.iud = Some(iud.clone());
                    r.tipo_dovuto = Some(tipo.clone());
                    r.bilancio = (bilancio != "[]").then(|| bilancio.clone());
                }
                r
            })
            .collect();
        // The day's RTs share one automatic accertamento per tipo dovuto.
        let origine = format!("RT-{}", now.date());
        tx_insert_ricevute(&mut tx, &rpt.id_dominio, &ricevute, Some(&origine), now).await?;
    }
    tx.commit().await?;
    Ok(true)
}

/// Receipts whose raw bytes were committed but whose processing did not finish (a
/// database error or a crash in between), untouched since `before`.
pub async fn rt_da_elaborare(p: &DbPool, before: OffsetDateTime, limit: i64) -> StoreResult<Vec<RtGrezza>> {
    Ok(sqlx::query_as::<_, RtGrezza>("SELECT id, id_dominio, iuv, ccp, raw FROM rt_ricevuta WHERE stato = 'RICEVUTA' AND updated_at < $1 ORDER BY id LIMIT $2")
        .bind(before)
        .bind(limit)
        .fetch_all(p)
        .await?)
}

const RT_COLS: &str = "id, id_dominio, iuv, ccp, stato, codice_esito, importo_cents, rpt_id, nota, received_at, updated_at";

pub async fn list_rt(p: &DbPool, id_dominio: Option<&str>, stato: Option<&str>, limit: i64, offset: i64) -> StoreResult<(Vec<RtRicevuta>, i64)> {
    let filter = "($1 IS NULL OR id_dominio = $1) AND ($2 IS NULL OR stato = $2)";
    let rows = sqlx::query_as::<_, RtRicevuta>(sqlx::AssertSqlSafe(format!("SELECT {RT_COLS} FROM rt_ricevuta WHERE {filter} ORDER BY id DESC LIMIT $3 OFFSET $4")))
        .bind(id_dominio)
        .bind(stato)
        .bind(limit)
        .bind(offset)
        .fetch_all(p)
        .await?;
    let (total,): (i64,) = sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT COUNT(*) FROM rt_ricevuta WHERE {filter}")))
        .bind(id_dominio)
        .bind(stato)
        .fetch_one(p)
        .await?;
    Ok((rows, total))
}

pub async fn get_rt(p: &DbPool, id: i64) -> StoreResult<(RtRicevuta, Vec<u8>)> {
    let rt = sqlx::query_as::<_, RtRicevuta>(sqlx::AssertSqlSafe(format!("SELECT {RT_COLS} FROM rt_ricevuta WHERE id = $1")))
        .bind(id)
        .fetch_optional(p)
        .await?
        .ok_or(StoreError::NotFound)?;
    let (raw,): (Vec<u8>,) = sqlx::query_as("SELECT raw FROM rt_ricevuta WHERE id = $1").bind(id).fetch_one(p).await?;
    Ok((rt, raw))
}

// ---- activation and outbox ----

async fn tx_enqueue(c: &mut Conn, kind: TipoJob, ref_id: i64, now: OffsetDateTime) -> StoreResult<i64> {
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

pub async fn attiva(p: &DbPool, r: &NuovaRpt, psp: &PspAttiva, d: &Dovuto, now: OffsetDateTime) -> StoreResult<i64> {
    let mut tx = begin_write(p).await?;
    let (id,): (i64,) = sqlx::query_as(
        "INSERT INTO rpt (id_dominio, iuv, ccp, dovuto_id, importo_cents, xml, stato, id_psp, id_intermediario_psp, id_canale, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, 'CREATA', $7, $8, $9, $10, $10) RETURNING id",
    )
    .bind(&r.id_dominio)
    .bind(&r.iuv)
    .bind(&r.ccp)
    .bind(r.dovuto_id)
    .bind(r.importo.cents())
    .bind(&r.xml)
    .bind(&psp.id_psp)
    .bind(&psp.id_intermediario_psp)
    .bind(&psp.id_canale)
    .bind(now)
    .fetch_one(&mut *tx)
    .await
    .map_err(|e| if is_unique_violation(&e) { StoreError::Conflict(format!("RPT {}/{}/{} già presente", r.id_dominio, r.iuv, r.ccp)) } else { e.into() })?;
    let motivo = format!("paaAttivaRPT PSP {} (CCP {})", psp.id_psp, r.ccp);
    tx_change_stato(&mut tx, d.id, d.stato, StatoDovuto::PagamentoIniziato, &motivo, now).await?;
    tx_enqueue(&mut tx, TipoJob::InviaRpt, id, now).await?;
    tx.commit().await?;
    Ok(id)
}

pub async fn enqueue(p: &DbPool, kind: TipoJob, ref_id: i64, now: OffsetDateTime) -> StoreResult<i64> {
    let mut c = p.acquire().await?;
    tx_enqueue(&mut c, kind, ref_id, now).await
}

pub async fn outbox_pending(p: &DbPool, kind: &str) -> StoreResult<Vec<OutboxRow>> {
    Ok(sqlx::query_as::<_, OutboxRow>("SELECT id, kind, ref_id, stato, attempts FROM outbox WHERE kind = $1 AND stato = 'PENDING' ORDER BY id")
        .bind(kind)
        .fetch_all(p)
        .await?)
}

pub async fn rpt_xml(p: &DbPool, dominio: &str, iuv: &str) -> StoreResult<(Vec<u8>, i64)> {
    let row: Option<(Vec<u8>, i64)> = sqlx::query_as("SELECT xml, id FROM rpt WHERE id_dominio = $1 AND iuv = $2 ORDER BY id DESC LIMIT 1")
        .bind(dominio)
        .bind(iuv)
        .fetch_optional(p)
        .await?;
    row.ok_or(StoreError::NotFound)
}

const PENDING_ACTIVATIONS: &str = "FROM rpt r JOIN dovuto d ON d.id = r.dovuto_id
     WHERE r.stato IN ('CREATA', 'INVIATA', 'RIFIUTATA_NODO') AND r.origine = 'ATTIVA' AND d.stato = 'PAGAMENTO_INIZIATO'";

pub async fn expire_activations(p: &DbPool, cutoff: OffsetDateTime, now: OffsetDateTime) -> StoreResult<usize> {
    let mut tx = begin_write(p).await?;
    let due: Vec<(i64, i64)> = sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT r.id, r.dovuto_id {PENDING_ACTIVATIONS} AND r.created_at < $1 ORDER BY r.id LIMIT 500")))
        .bind(cutoff)
        .fetch_all(&mut *tx)
        .await?;
    let mut expired = 0;
    for (rpt_id, dovuto_id) in due {
        sqlx::query("UPDATE rpt SET stato = 'SCADUTA', updated_at = $1 WHERE id = $2 AND stato IN ('CREATA', 'INVIATA', 'RIFIUTATA_NODO')").bind(now).bind(rpt_id).execute(&mut *tx).await?;
        // Compare-and-set: another instance may have moved it already; then nothing happens.
        match tx_change_stato(&mut tx, dovuto_id, StatoDovuto::PagamentoIniziato, StatoDovuto::DaPagare, "attivazione scaduta senza RT", now).await {
            Ok(()) => expired += 1,
            Err(StoreError::Conflict(_)) => {}
            Err(e) => return Err(e),
        }
    }
    tx.commit().await?;
    Ok(expired)
}

pub async fn pa_gauges(p: &DbPool) -> StoreResult<(i64, i64)> {
    let (quarantine,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM rt_ricevuta WHERE stato = 'QUARANTENA'").fetch_one(p).await?;
    let (pending,): (i64,) = sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT COUNT(*) {PENDING_ACTIVATIONS}"))).fetch_one(p).await?;
    Ok((quarantine, pending))
}

// ---- outbox workers ----

const OUTBOX_COLS: &str = "id, kind, ref_id, payload, stato, attempts, next_attempt_at, lease_owner, last_error, result, created_at, updated_at";

/// Claims up to `limit` due jobs for `owner` until `lease_until`. On PostgreSQL several
/// instances claim concurrently without waiting on each other (SKIP LOCKED); SQLite has
/// one writer and the immediate transaction serialises claims.
pub async fn outbox_claim(p: &DbPool, owner: &str, kinds: Option<&[String]>, lease_until: OffsetDateTime, limit: i64, now: OffsetDateTime) -> StoreResult<Vec<OutboxJob>> {
    let mut tx = begin_write(p).await?;
    let lock = if IS_POSTGRES { "FOR UPDATE SKIP LOCKED" } else { "" };
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
pub async fn outbox_done(p: &DbPool, id: i64, owner: &str, result: Option<&str>, now: OffsetDateTime) -> StoreResult<bool> {
    let n = sqlx::query("UPDATE outbox SET stato = 'DONE', result = $1, lease_until = NULL, last_error = NULL, updated_at = $2 WHERE id = $3 AND lease_owner = $4 AND stato = 'PENDING'")
        .bind(result)
        .bind(now)
        .bind(id)
        .bind(owner)
        .execute(p)
        .await?
        .rows_affected();
    Ok(n == 1)
}

/// A failed attempt: due again at `next` or, with `next = None`, a dead letter.
pub async fn outbox_failed(p: &DbPool, id: i64, owner: &str, error: &str, next: Option<OffsetDateTime>, now: OffsetDateTime) -> StoreResult<bool> {
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
    let n = sqlx::query("UPDATE outbox SET stato = 'PENDING', attempts = 0, next_attempt_at = $1, lease_until = NULL, updated_at = $1 WHERE id = $2 AND stato = 'DEAD'")
        .bind(now)
        .bind(id)
        .execute(p)
        .await?
        .rows_affected();
    Ok(n == 1)
}

pub async fn outbox_get(p: &DbPool, id: i64) -> StoreResult<OutboxJob> {
    sqlx::query_as::<_, OutboxJob>(sqlx::AssertSqlSafe(format!("SELECT {OUTBOX_COLS} FROM outbox WHERE id = $1")))
        .bind(id)
        .fetch_optional(p)
        .await?
        .ok_or(StoreError::NotFound)
}

pub async fn outbox_list(p: &DbPool, stato: Option<&str>, kind: Option<&str>, limit: i64, offset: i64) -> StoreResult<(Vec<OutboxJob>, i64)> {
    let filter = "($1 IS NULL OR stato = $1) AND ($2 IS NULL OR kind = $2)";
    let rows = sqlx::query_as::<_, OutboxJob>(sqlx::AssertSqlSafe(format!("SELECT {OUTBOX_COLS} FROM outbox WHERE {filter} ORDER BY id DESC LIMIT $3 OFFSET $4")))
        .bind(stato)
        .bind(kind)
        .bind(limit)
        .bind(offset)
        .fetch_all(p)
        .await?;
    let (total,): (i64,) = sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT COUNT(*) FROM outbox WHERE {filter}")))
        .bind(stato)
        .bind(kind)
        .fetch_one(p)
        .await?;
    Ok((rows, total))
}

/// Per kind and state: how many jobs and when the oldest was created (for the gauges).
pub async fn outbox_stats(p: &DbPool) -> StoreResult<Vec<(String, String, i64, Option<OffsetDateTime>)>> {
    Ok(sqlx::query_as("SELECT kind, stato, COUNT(*), MIN(created_at) FROM outbox WHERE stato <> 'DONE' GROUP BY kind, stato")
        .fetch_all(p)
        .await?)
}

/// Enqueues a job with a payload.
pub async fn outbox_enqueue(p: &DbPool, kind: &str, ref_id: Option<i64>, payload: &str, now: OffsetDateTime) -> StoreResult<i64> {
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

/// What the nodoInviaRPT job sends.
pub async fn rpt_da_inviare(p: &DbPool, id: i64) -> StoreResult<RptDaInviare> {
    sqlx::query_as::<_, RptDaInviare>("SELECT id, id_dominio, iuv, ccp, xml, stato, origine, id_psp, id_intermediario_psp, id_canale FROM rpt WHERE id = $1")
        .bind(id)
        .fetch_optional(p)
        .await?
        .ok_or(StoreError::NotFound)
}

/// Moves an RPT between states only from `from` (compare-and-set).
/// Moves an RPT to `to` from any state that may become it (`StatoRpt::can_become`).
pub async fn rpt_stato(p: &DbPool, id: i64, to: StatoRpt, now: OffsetDateTime) -> StoreResult<bool> {
    let from: Vec<&str> = StatoRpt::verso(to).into_iter().map(StatoRpt::as_str).collect();
    let from = serde_json::to_string(&from).unwrap_or_default();
    let in_list = if IS_POSTGRES { "stato IN (SELECT jsonb_array_elements_text($4::jsonb))" } else { "stato IN (SELECT value FROM json_each($4))" };
    let n = sqlx::query(sqlx::AssertSqlSafe(format!("UPDATE rpt SET stato = $1, updated_at = $2 WHERE id = $3 AND {in_list}")))
        .bind(to.as_str())
        .bind(now)
        .bind(id)
        .bind(from)
        .execute(p)
        .await?
        .rows_affected();
    Ok(n == 1)
}

/// What the RT email needs: the RT and the addresses known for its payment.
pub async fn rt_email_data(p: &DbPool, rt_id: i64) -> StoreResult<RtEmailData> {
    sqlx::query_as::<_, RtEmailData>(
        "SELECT rt.raw, d.email AS email_dovuto, c.email_login FROM rt_ricevuta rt
         LEFT JOIN rpt r ON r.id = rt.rpt_id
         LEFT JOIN dovuto d ON d.id = r.dovuto_id
         LEFT JOIN carrello c ON c.id = r.id_carrello
         WHERE rt.id = $1",
    )
    .bind(rt_id)
    .fetch_optional(p)
    .await?
    .ok_or(StoreError::NotFound)
}

// ---- carts (payments started at the portal) ----

/// Creates the cart, its RPTs and the claimed send job, and moves every dovuto to
/// PAGAMENTO_INIZIATO, all or nothing. `Conflict` when a dovuto changed state meanwhile
/// or the cart id exists.
pub async fn crea_carrello(p: &DbPool, c: &NuovoCarrello, owner: &str, lease_until: OffsetDateTime, now: OffsetDateTime) -> StoreResult<i64> {
    let mut tx = begin_write(p).await?;
    sqlx::query("INSERT INTO carrello (id, multi_beneficiario, stato, email_login, created_at, updated_at) VALUES ($1, $2, 'CREATO', $3, $4, $4)")
        .bind(&c.id)
        .bind(c.multi_beneficiario)
        .bind(&c.email_login)
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(|e| if is_unique_violation(&e) { StoreError::Conflict(format!("carrello {} già presente", c.id)) } else { e.into() })?;
    for (r, d) in &c.rpts {
        sqlx::query(
            "INSERT INTO rpt (id_dominio, iuv, ccp, dovuto_id, importo_cents, xml, stato, origine, id_carrello, id_psp, id_intermediario_psp, id_canale, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, 'CREATA', 'PORTALE', $7, 'AGID_01', '97735020584', '97735020584_02', $8, $8)",
        )
        .bind(&r.id_dominio)
        .bind(&r.iuv)
        .bind(&r.ccp)
        .bind(r.dovuto_id)
        .bind(r.importo.cents())
        .bind(&r.xml)
        .bind(&c.id)
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(|e| if is_unique_violation(&e) { StoreError::Conflict(format!("RPT {}/{}/{} già presente", r.id_dominio, r.iuv, r.ccp)) } else { e.into() })?;
        tx_change_stato(&mut tx, d.id, d.stato, StatoDovuto::PagamentoIniziato, &format!("carrello {}", c.id), now).await?;
    }
    let (job,): (i64,) = sqlx::query_as(
        "INSERT INTO outbox (kind, ref_id, payload, stato, attempts, next_attempt_at, lease_owner, lease_until, created_at, updated_at)
         VALUES ($5, NULL, $1, 'PENDING', 1, $2, $3, $4, $2, $2) RETURNING id",
    )
    .bind(&c.id)
    .bind(now)
    .bind(owner)
    .bind(lease_until)
    .bind(TipoJob::InviaCarrello.as_str())
    .fetch_one(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(job)
}

pub async fn get_carrello(p: &DbPool, id: &str) -> StoreResult<(Carrello, Vec<RptDaInviare>)> {
    let c = sqlx::query_as::<_, Carrello>("SELECT id, multi_beneficiario, stato, url, email_login, errore, created_at, updated_at FROM carrello WHERE id = $1")
        .bind(id)
        .fetch_optional(p)
        .await?
        .ok_or(StoreError::NotFound)?;
    let rpts = sqlx::query_as::<_, RptDaInviare>("SELECT id, id_dominio, iuv, ccp, xml, stato, origine, id_psp, id_intermediario_psp, id_canale FROM rpt WHERE id_carrello = $1 ORDER BY id")
        .bind(id)
        .fetch_all(p)
        .await?;
    Ok((c, rpts))
}

/// The cart's send outcome: INVIATO with the URL, or RIFIUTATO (its RPTs refused and the
/// dovuti payable again). Only from CREATO.
pub async fn esito_carrello(p: &DbPool, id: &str, url: Option<&str>, errore: Option<&str>, now: OffsetDateTime) -> StoreResult<bool> {
    let mut tx = begin_write(p).await?;
    let stato = if errore.is_some() { StatoCarrello::Rifiutato } else { StatoCarrello::Inviato };
    let n = sqlx::query("UPDATE carrello SET stato = $1, url = $2, errore = $3, updated_at = $4 WHERE id = $5 AND stato = 'CREATO'")
        .bind(stato.as_str())
        .bind(url)
        .bind(errore)
        .bind(now)
        .bind(id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    if n == 0 {
        tx.rollback().await?;
        return Ok(false);
    }
    let rpt_stato = if errore.is_some() { StatoRpt::RifiutataNodo } else { StatoRpt::Inviata };
    sqlx::query("UPDATE rpt SET stato = $1, updated_at = $2 WHERE id_carrello = $3 AND stato = 'CREATA'")
        .bind(rpt_stato.as_str())
        .bind(now)
        .bind(id)
        .execute(&mut *tx)
        .await?;
    if errore.is_some() {
        let dovuti: Vec<(i64,)> = sqlx::query_as("SELECT d.id FROM dovuto d JOIN rpt r ON r.dovuto_id = d.id WHERE r.id_carrello = $1 AND d.stato = 'PAGAMENTO_INIZIATO'")
            .bind(id)
            .fetch_all(&mut *tx)
            .await?;
        for (d,) in dovuti {
            tx_change_stato(&mut tx, d, StatoDovuto::PagamentoIniziato, StatoDovuto::DaPagare, &format!("carrello {id} rifiutato dal Nodo"), now).await?;
        }
    }
    tx.commit().await?;
    Ok(true)
}

pub async fn carrelli_con_prefisso(p: &DbPool, prefix: &str) -> StoreResult<i64> {
    let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM carrello WHERE substr(id, 1, length($1)) = $1")
        .bind(prefix)
        .fetch_one(p)
        .await?;
    Ok(n)
}

// ---- recovery of RPTs without RT ----

/// Picks RPTs sent before `before` that have no RT and were not checked since `before`,
/// marks them checked and enqueues a `recuperoRT` job for each, in one transaction (on
/// PostgreSQL instances skip each other's rows).
pub async fn pianifica_recuperi(p: &DbPool, before: OffsetDateTime, limit: i64, now: OffsetDateTime) -> StoreResult<usize> {
    let mut tx = begin_write(p).await?;
    let lock = if IS_POSTGRES { "FOR UPDATE SKIP LOCKED" } else { "" };
    let ids: Vec<(i64,)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "UPDATE rpt SET verificata_at = $1 WHERE id IN (
            SELECT id FROM rpt WHERE stato = 'INVIATA' AND updated_at < $2 AND (verificata_at IS NULL OR verificata_at < $2)
            ORDER BY id LIMIT $3 {lock}) RETURNING id"
    )))
    .bind(now)
    .bind(before)
    .bind(limit)
    .fetch_all(&mut *tx)
    .await?;
    for (id,) in &ids {
        tx_enqueue(&mut tx, TipoJob::RecuperoRt, *id, now).await?;
    }
    tx.commit().await?;
    Ok(ids.len())
}

/// The Nodo closed the attempt without payment: the RPT is CHIUSA_KO and its dovuto
/// payable again.
pub async fn rpt_chiusa_ko(p: &DbPool, rpt_id: i64, motivo: &str, now: OffsetDateTime) -> StoreResult<bool> {
    let mut tx = begin_write(p).await?;
    let n = sqlx::query("UPDATE rpt SET stato = 'CHIUSA_KO', updated_at = $1 WHERE id = $2 AND stato = 'INVIATA'")
        .bind(now)
        .bind(rpt_id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    if n == 0 {
        tx.rollback().await?;
        return Ok(false);
    }
    let dovuto: Option<(i64,)> = sqlx::query_as("SELECT d.id FROM dovuto d JOIN rpt r ON r.dovuto_id = d.id WHERE r.id = $1 AND d.stato = 'PAGAMENTO_INIZIATO'")
        .bind(rpt_id)
        .fetch_optional(&mut *tx)
        .await?;
    if let Some((d,)) = dovuto {
        tx_change_stato(&mut tx, d, StatoDovuto::PagamentoIniziato, StatoDovuto::DaPagare, motivo, now).await?;
    }
    tx.commit().await?;
    Ok(true)
}

/// The Nodo does not know the RPT: send it again with the same IUV and CCP (its whole
/// cart, for a portal payment).
pub async fn reinvia_rpt(p: &DbPool, rpt_id: i64, now: OffsetDateTime) -> StoreResult<bool> {
    let mut tx = begin_write(p).await?;
    let row: Option<(Option<String>,)> = sqlx::query_as("SELECT id_carrello FROM rpt WHERE id = $1 AND stato = 'INVIATA'")
        .bind(rpt_id)
        .fetch_optional(&mut *tx)
        .await?;
    let Some((carrello,)) = row else {
        tx.rollback().await?;
        return Ok(false);
    };
    match carrello {
        Some(c) => {
            sqlx::query("UPDATE carrello SET stato = 'CREATO', updated_at = $1 WHERE id = $2").bind(now).bind(&c).execute(&mut *tx).await?;
            sqlx::query("UPDATE rpt SET stato = 'CREATA', updated_at = $1 WHERE id_carrello = $2 AND stato = 'INVIATA'").bind(now).bind(&c).execute(&mut *tx).await?;
            sqlx::query("INSERT INTO outbox (kind, ref_id, payload, stato, attempts, next_attempt_at, created_at, updated_at) VALUES ($3, NULL, $1, 'PENDING', 0, $2, $2, $2)")
                .bind(&c)
                .bind(now)
                .bind(TipoJob::InviaCarrello.as_str())
                .execute(&mut *tx)
                .await?;
        }
        None => {
            sqlx::query("UPDATE rpt SET stato = 'CREATA', updated_at = $1 WHERE id = $2").bind(now).bind(rpt_id).execute(&mut *tx).await?;
            tx_enqueue(&mut tx, TipoJob::InviaRpt, rpt_id, now).await?;
        }
    }
    tx.commit().await?;
    Ok(true)
}

// ---- reporting flows ----

/// Whether this version (dataOraFlusso) of the flow is already stored.
pub async fn flusso_presente(p: &DbPool, dominio: &str, id_flusso: &str, data_ora: &str) -> StoreResult<bool> {
    let row: Option<(i64,)> = sqlx::query_as("SELECT id FROM flusso WHERE id_dominio = $1 AND id_flusso = $2 AND data_ora_flusso = $3")
        .bind(dominio)
        .bind(id_flusso)
        .bind(data_ora)
        .fetch_optional(p)
        .await?;
    Ok(row.is_some())
}

/// Stores a downloaded flow version; an existing one is left as it is (idempotent).
pub async fn insert_flusso(p: &DbPool, f: &NuovoFlusso, now: OffsetDateTime) -> StoreResult<()> {
    let mut tx = begin_write(p).await?;
    let id: Option<(i64,)> = sqlx::query_as(
        "INSERT INTO flusso (id_dominio, id_flusso, data_ora_flusso, raw, stato, nota, numero_pagamenti, importo_cents, created_at, psp, deviazioni)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT (id_dominio, id_flusso, data_ora_flusso) DO NOTHING RETURNING id",
    )
    .bind(&f.id_dominio)
    .bind(&f.id_flusso)
    .bind(&f.data_ora_flusso)
    .bind(&f.raw)
    .bind(f.stato)
    .bind(&f.nota)
    .bind(f.numero_pagamenti)
    .bind(f.importo_cents)
    .bind(now)
    .bind(&f.psp)
    .bind(&f.deviazioni)
    .fetch_optional(&mut *tx)
    .await?;
    // A version older than one already stored (a late download) is kept, not applied.
    let piu_recente: Option<(String,)> = sqlx::query_as("SELECT data_ora_flusso FROM flusso WHERE id_dominio = $1 AND id_flusso = $2 AND data_ora_flusso > $3 LIMIT 1")
        .bind(&f.id_dominio)
        .bind(&f.id_flusso)
        .bind(&f.data_ora_flusso)
        .fetch_optional(&mut *tx)
        .await?;
    if let (Some((id,)), Some(regolamento), None) = (id, f.data_regolamento, piu_recente) {
        // This version's payments replace an older version's (esito 3, revoked, excluded).
        let esito9_prima: Vec<(String, String, Option<i64>)> = sqlx::query_as("SELECT iuv, iur, indice FROM rendicontazione WHERE id_dominio = $1 AND iuf = $2 AND esito = 9")
            .bind(&f.id_dominio)
            .bind(&f.id_flusso)
            .fetch_all(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM rendicontazione WHERE id_dominio = $1 AND iuf = $2")
            .bind(&f.id_dominio)
            .bind(&f.id_flusso)
            .execute(&mut *tx)
            .await?;
        let totale = f.importo_cents.unwrap_or(0);
        let validi: Vec<_> = f.pagamenti.iter().filter(|p| p.codice_esito != 3).collect();
        inserisci_pagamenti_flusso(&mut tx, f, id, regolamento, totale, &validi).await?;
        // Paid without RPT (esito 9): the reporting stands in for a receipt, as MyPivot's
        // fabricated E row; a real receipt, if one comes, replaces it.
        let surrogati: Vec<NuovaRicevuta> = validi
            .iter()
            .filter(|p| p.codice_esito == 9)
            .map(|p| NuovaRicevuta {
                iuv: p.iuv.to_string(),
                iur: p.iur.clone(),
                indice: p.indice.map_or(1, i64::from),
                iud: None,
                tipo_dovuto: None,
                importo_cents: p.importo.cents(),
                totale_cents: p.importo.cents(),
                codice_esito: 0,
                data_esito: p.data_esito,
                cf_pagatore: None,
                anagrafica_pagatore: None,
                cf_versante: None,
                anagrafica_versante: None,
                attestante: None,
                denominazione_attestante: None,
                causale: None,
                bilancio: None,
                fonte: "SURROGATO",
                rt_id: None,
            })
            .collect();
        if !surrogati.is_empty() {
            tx_insert_ricevute(&mut tx, &f.id_dominio, &surrogati, None, now).await?;
        }
        // A stand-in the replaced version made, for a payment this version no longer reports
        // with esito 9 (nor does any other flow), goes with it.
        let mut chiavi = vec![(coda::IUF, f.id_flusso.to_uppercase())];
        let mut giorni = std::collections::BTreeSet::new();
        for (iuv, iur, indice) in esito9_prima {
            let indice = indice.unwrap_or(1);
            if surrogati.iter().any(|s| s.iuv == iuv && s.iur == iur && s.indice == indice) {
                continue;
            }
            let via: Option<(Date,)> = sqlx::query_as(
                "DELETE FROM ricevuta WHERE id_dominio = $1 AND fonte = 'SURROGATO' AND iuv = $2 AND iur = $3 AND indice = $4
                 AND NOT EXISTS (SELECT 1 FROM rendicontazione r WHERE r.id_dominio = $1 AND r.iuv = $2 AND r.iur = $3 AND r.esito = 9)
                 RETURNING data_esito",
            )
            .bind(&f.id_dominio)
            .bind(&iuv)
            .bind(&iur)
            .bind(indice)
            .fetch_optional(&mut *tx)
            .await?;
            if let Some((g,)) = via {
                giorni.insert(g);
                chiavi.push((coda::IUV, iuv));
            }
        }
        tx_sporca_giorni(&mut tx, &f.id_dominio, &giorni).await?;
        tx_accoda(&mut tx, &f.id_dominio, &chiavi, now).await?;
    }
    tx.commit().await?;
    Ok(())
}

pub async fn list_flussi(p: &DbPool, dominio: Option<&str>, stato: Option<&str>, limit: i64, offset: i64) -> StoreResult<(Vec<FlussoScaricato>, i64)> {
    let filter = "($1 IS NULL OR id_dominio = $1) AND ($2 IS NULL OR stato = $2)";
    let rows = sqlx::query_as::<_, FlussoScaricato>(sqlx::AssertSqlSafe(format!("SELECT id, id_dominio, id_flusso, data_ora_flusso, stato, nota, psp, deviazioni, numero_pagamenti, importo_cents, created_at FROM flusso WHERE {filter} ORDER BY id DESC LIMIT $3 OFFSET $4")))
        .bind(dominio)
        .bind(stato)
        .bind(limit)
        .bind(offset)
        .fetch_all(p)
        .await?;
    let (total,): (i64,) = sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT COUNT(*) FROM flusso WHERE {filter}")))
        .bind(dominio)
        .bind(stato)
        .fetch_one(p)
        .await?;
    Ok((rows, total))
}

/// One `kind` job (`flussi`, `pendenti`) per active ente not asked since `since`.
pub async fn pianifica_per_ente(p: &DbPool, kind: TipoJob, since: OffsetDateTime, now: OffsetDateTime) -> StoreResult<u64> {
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

// ---- portal ----

/// Each RPT of a cart with its dovuto's state and its RT's esito, if any.
pub async fn esiti_carrello(p: &DbPool, id: &str) -> StoreResult<Vec<EsitoRptCarrello>> {
    Ok(sqlx::query_as::<_, EsitoRptCarrello>(
        "SELECT r.id_dominio, r.iuv, r.stato AS stato_rpt, d.stato AS stato_dovuto, t.codice_esito, t.importo_cents AS importo_pagato_cents
         FROM rpt r LEFT JOIN dovuto d ON d.id = r.dovuto_id
         LEFT JOIN rt_ricevuta t ON t.rpt_id = r.id AND t.stato IN ('ELABORATA', 'ANOMALA')
         WHERE r.id_carrello = $1 ORDER BY r.id",
    )
    .bind(id)
    .fetch_all(p)
    .await?)
}

/// The latest applied RT for (dominio, IUV), with its raw bytes.
pub async fn rt_per_iuv(p: &DbPool, dominio: &str, iuv: &str) -> StoreResult<Option<(i64, Vec<u8>)>> {
    Ok(sqlx::query_as("SELECT id, raw FROM rt_ricevuta WHERE id_dominio = $1 AND iuv = $2 AND stato IN ('ELABORATA', 'ANOMALA') ORDER BY id DESC LIMIT 1")
        .bind(dominio)
        .bind(iuv)
        .fetch_optional(p)
        .await?)
}

// ---- treasury journal (recon) ----

/// Applies one upload in one transaction: every movement added or replaced on (ente, anno,
/// codice bolletta), every storno removing its bolletta. Returns (upserted, removed).
pub async fn importa_tesoreria(p: &DbPool, ente: &str, righe: &[crate::recon::giornale::RigaCassa], storni: &[(u16, String)], fonte: &str, job: Option<&mut ImportJob>, now: OffsetDateTime) -> StoreResult<(u64, u64)> {
    let mut tx = begin_write(p).await?;
    let mut n = 0;
    let mut chiavi = Vec::new();
    for r in righe {
        // The line as it was: a changed causale may move it to another IUF / IUV.
        let prima: Option<(i64, Option<String>, Option<String>)> = sqlx::query_as("SELECT id, iuf_key, iuv FROM tesoreria WHERE id_dominio = $1 AND anno_bolletta = $2 AND codice_bolletta = $3")
            .bind(ente)
            .bind(i64::from(r.anno_bolletta))
            .bind(&r.codice_bolletta)
            .fetch_optional(&mut *tx)
            .await?;
        if let Some((_, f, v)) = prima {
            chiavi.extend(f.map(|f| (coda::IUF, f)));
            chiavi.extend(v.map(|v| (coda::IUV, v)));
        }
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO tesoreria (id_dominio, anno_bolletta, codice_bolletta, data_contabile, data_valuta, importo_cents, ordinante, causale, iuf, iuv, fonte, created_at, updated_at, iuf_key, conto)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12, $13, $14)
             ON CONFLICT (id_dominio, anno_bolletta, codice_bolletta) DO UPDATE SET
               data_contabile = excluded.data_contabile, data_valuta = excluded.data_valuta, importo_cents = excluded.importo_cents,
               ordinante = excluded.ordinante, causale = excluded.causale, iuf = excluded.iuf, iuv = excluded.iuv, fonte = excluded.fonte, updated_at = excluded.updated_at,
               iuf_key = excluded.iuf_key, conto = excluded.conto
             RETURNING id",
        )
        .bind(ente)
        .bind(i64::from(r.anno_bolletta))
        .bind(&r.codice_bolletta)
        .bind(r.data_contabile)
        .bind(r.data_valuta)
        .bind(r.importo.cents())
        .bind(&r.ordinante)
        .bind(&r.causale)
        .bind(&r.estratto.iuf)
        .bind(&r.estratto.iuv)
        .bind(fonte)
        .bind(now)
        .bind(r.estratto.iuf.as_ref().map(|f| f.to_uppercase()))
        .bind(&r.conto)
        .fetch_one(&mut *tx)
        .await?;
        n += 1;
        chiavi.push((coda::TESORERIA, id.to_string()));
    }
    let mut removed = 0;
    for (anno, codice) in storni {
        let gone: Option<(i64, Option<String>, Option<String>)> = sqlx::query_as("DELETE FROM tesoreria WHERE id_dominio = $1 AND anno_bolletta = $2 AND codice_bolletta = $3 RETURNING id, iuf_key, iuv")
            .bind(ente)
            .bind(i64::from(*anno))
            .bind(codice)
            .fetch_optional(&mut *tx)
            .await?;
        if let Some((id, f, v)) = gone {
            removed += 1;
            chiavi.push((coda::TESORERIA, id.to_string()));
            chiavi.extend(f.map(|f| (coda::IUF, f)));
            chiavi.extend(v.map(|v| (coda::IUV, v)));
        }
    }
    tx_accoda(&mut tx, ente, &chiavi, now).await?;
    tx_chiudi_import(&mut tx, job, n + removed).await?;
    tx.commit().await?;
    Ok((n, removed))
}

pub async fn list_tesoreria(p: &DbPool, ente: &str, iuf: Option<&str>, iuv: Option<&str>, limit: i64, offset: i64) -> StoreResult<(Vec<RigaTesoreria>, i64)> {
    let filter = "id_dominio = $1 AND ($2 IS NULL OR iuf = $2) AND ($3 IS NULL OR iuv = $3)";
    let rows = sqlx::query_as::<_, RigaTesoreria>(sqlx::AssertSqlSafe(format!("SELECT id, id_dominio, anno_bolletta, codice_bolletta, data_contabile, data_valuta, importo_cents, ordinante, causale, iuf, iuv, fonte FROM tesoreria WHERE {filter} ORDER BY data_contabile DESC, id DESC LIMIT $4 OFFSET $5")))
        .bind(ente)
        .bind(iuf)
        .bind(iuv)
        .bind(limit)
        .bind(offset)
        .fetch_all(p)
        .await?;
    let (total,): (i64,) = sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT COUNT(*) FROM tesoreria WHERE {filter}")))
        .bind(ente)
        .bind(iuf)
        .bind(iuv)
        .fetch_one(p)
        .await?;
    Ok((rows, total))
}

/// The reporting rows of an ente (R), for reconciliation.
pub async fn rendicontazione_ente(p: &DbPool, ente: &str) -> StoreResult<Vec<RigaRendicontazione>> {
    Ok(sqlx::query_as::<_, RigaRendicontazione>("SELECT iuf, iuv, iur, indice, importo_cents, esito, totale_flusso_cents FROM rendicontazione WHERE id_dominio = $1 ORDER BY id")
        .bind(ente)
        .fetch_all(p)
        .await?)
}


/// Upserts notifications on (ente, IUD) in one transaction.
pub async fn importa_notifiche(p: &DbPool, ente: &str, righe: &[crate::recon::notifiche::Notifica], job: Option<&mut ImportJob>, now: OffsetDateTime) -> StoreResult<u64> {
    let mut tx = begin_write(p).await?;
    let mut n = 0;
    for r in righe {
        n += sqlx::query(
            "INSERT INTO notifica (id_dominio, iud, iuv, data_esecuzione, importo_cents, tipo_dovuto, causale, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)
             ON CONFLICT (id_dominio, iud) DO UPDATE SET iuv = excluded.iuv, data_esecuzione = excluded.data_esecuzione,
               importo_cents = excluded.importo_cents, tipo_dovuto = excluded.tipo_dovuto, causale = excluded.causale, updated_at = excluded.updated_at",
        )
        .bind(ente)
        .bind(&r.iud)
        .bind(&r.iuv)
        .bind(r.data_esecuzione)
        .bind(r.importo.cents())
        .bind(&r.tipo_dovuto)
        .bind(&r.causale)
        .bind(now)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    }
    let chiavi: Vec<(&str, String)> = righe.iter().map(|r| (coda::IUD, r.iud.clone())).collect();
    tx_accoda(&mut tx, ente, &chiavi, now).await?;
    tx_chiudi_import(&mut tx, job, n).await?;
    tx.commit().await?;
    Ok(n)
}

/// (IUD, amount in cents) of an ente's notifications.
pub async fn notifiche_ente(p: &DbPool, ente: &str) -> StoreResult<Vec<(String, i64)>> {
    Ok(sqlx::query_as("SELECT iud, importo_cents FROM notifica WHERE id_dominio = $1 ORDER BY id").bind(ente).fetch_all(p).await?)
}

/// The applied receipts of an ente (raw) with the IUD of the dovuto they paid, if any.
pub async fn rt_ente_iud(p: &DbPool, ente: &str) -> StoreResult<Vec<(Vec<u8>, Option<String>)>> {
    Ok(sqlx::query_as(
        "SELECT t.raw, d.iud FROM rt_ricevuta t LEFT JOIN rpt r ON r.id = t.rpt_id LEFT JOIN dovuto d ON d.id = r.dovuto_id
         WHERE t.id_dominio = $1 AND t.stato IN ('ELABORATA', 'ANOMALA') ORDER BY t.id",
    )
    .bind(ente)
    .fetch_all(p)
    .await?)
}
