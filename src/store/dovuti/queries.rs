// Dovuti: their life cycle, history and the MyPay CSV import.
// Compiled once per backend (see the repository's mod.rs).

use crate::model::{Iuv, NumeroAvviso};
use crate::registry::import_csv::{self, Effetto, Riga};
use crate::registry::{DovutoValido, Rifiuto};
use crate::store::righe::corrupt;

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

/// A keyed read of the ente's dovuti, the ente as [`ente!`]: with its value in the plan, a
/// new ente's first load (under the tenth of the table that makes anyone analyse it) is
/// "about one row", `dovuto_stato (id_dominio, stato)` ties with the key's index and the
/// read filters all of the ente's dovuti (5,000 rows per verification for a new ente of
/// 5,000 in a table of 100,000).
macro_rules! per_ente_e {
    ($select:literal, $col:literal) => {
        concat!(
            $select,
            " WHERE id_dominio = ",
            ente!(1),
            " AND ",
            $col,
            " = $2"
        )
    };
}

/// The PA endpoint's read by IUV (and the floor of the `pa_verifica` bench).
pub(crate) const DOVUTO_PER_IUV: &str = per_ente_e!("SELECT * FROM dovuto", "iuv");

async fn iuv_taken(c: &mut Conn, ente: &str, iuv: &str) -> StoreResult<bool> {
    let r: Option<(i64,)> = sqlx::query_as(per_ente_e!("SELECT id FROM dovuto", "iuv"))
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
pub async fn tx_change_stato(
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
    // One text for both statements below (a macro: `concat!` takes only literals).
    macro_rules! sposta {
        () => {
            "UPDATE dovuto SET stato = $1, version = version + 1, updated_at = $2 WHERE id = $3 AND stato = $4"
        };
    }
    let conflitto = || StoreError::Conflict(format!("il dovuto non è più in stato {from}"));
    if IS_POSTGRES {
        // The move and its history row in one round trip (a receipt's transaction is a
        // dozen of them); the history sees the moved row only through RETURNING.
        let r: Option<(i64,)> = sqlx::query_as(concat!(
            "WITH u AS (",
            sposta!(),
            " RETURNING id)
             INSERT INTO dovuto_storia (dovuto_id, stato_da, stato_a, motivo, at) SELECT id, $4, $1, $5, $2 FROM u RETURNING dovuto_id"
        ))
        .bind(to.as_str())
        .bind(now)
        .bind(id)
        .bind(from.as_str())
        .bind(motivo)
        .fetch_optional(&mut *c)
        .await?;
        return r.map(drop).ok_or_else(conflitto);
    }
    let r = sqlx::query(sposta!())
        .bind(to.as_str())
        .bind(now)
        .bind(id)
        .bind(from.as_str())
        .execute(&mut *c)
        .await?;
    if r.rows_affected() == 0 {
        return Err(conflitto());
    }
    add_storia(c, id, Some(from), to, motivo, now).await
}

async fn tx_dovuto_by_iud(c: &mut Conn, ente: &str, iud: &str) -> StoreResult<Option<Dovuto>> {
    sqlx::query_as::<_, DovutoRow>(per_ente_e!("SELECT * FROM dovuto", "iud"))
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

pub async fn dovuti_per_iud(p: &DbPool, ente: &str, iuds: &[String]) -> StoreResult<Vec<Dovuto>> {
    let mut q = sqlx::QueryBuilder::<Db>::new("SELECT * FROM dovuto WHERE id_dominio = ");
    push_ente(&mut q, ente);
    q.push(" AND ");
    push_in(&mut q, "iud", iuds);
    q.build_query_as::<DovutoRow>()
        .fetch_all(p)
        .await?
        .into_iter()
        .map(Dovuto::try_from)
        .collect()
}

pub async fn get_dovuto_by_iuv(p: &DbPool, ente: &str, iuv: &str) -> StoreResult<Option<Dovuto>> {
    sqlx::query_as::<_, DovutoRow>(DOVUTO_PER_IUV)
        .bind(ente)
        .bind(iuv)
        .fetch_optional(p)
        .await?
        .map(Dovuto::try_from)
        .transpose()
}

pub async fn dovuti_con_iuv(p: &DbPool, iuv: &str, limit: i64) -> StoreResult<Vec<Dovuto>> {
    sqlx::query_as::<_, DovutoRow>("SELECT * FROM dovuto WHERE iuv = $1 ORDER BY id DESC LIMIT $2")
        .bind(iuv)
        .bind(limit)
        .fetch_all(p)
        .await?
        .into_iter()
        .map(Dovuto::try_from)
        .collect()
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

/// Applies every parsed line of a dovuti file in ONE transaction, as its parts arrive: a
/// crash, a database error or a reader that stops early leaves nothing half-applied. Lines
/// that break a rule are rejected one by one.
pub async fn apply_dovuti_import(
    p: &DbPool,
    ente: &Ente,
    tipi: &[TipoDovuto],
    pezzi: &mut tokio::sync::mpsc::Receiver<PezzoDovuti>,
    meta: (&str, Option<&str>, &str),
    now: OffsetDateTime,
) -> StoreResult<ImportJob> {
    let (job_id, file_name, sha) = meta;
    // The write transaction waits for the first part: SQLite's one writer is not held
    // while the file is read up to it (or refused before it).
    let interrotta =
        || StoreError::Corrupt("lettura del file interrotta: nessun dovuto importato".into());
    let mut arrivato = Some(pezzi.recv().await.ok_or_else(interrotta)?);
    let mut tx = begin_write(p).await?;
    let c: &mut Conn = &mut tx;
    let dom = ente.id_dominio.as_str();
    let (mut lette, mut imported, mut unchanged, mut scartate) = (0i64, 0i64, 0i64, 0i64);
    let mut scarti = Vec::new();
    let motivo = format!("import {job_id}");
    let versione = loop {
        let pezzo = match arrivato.take() {
            Some(p) => Some(p),
            None => pezzi.recv().await,
        };
        let righe = match pezzo {
            Some(PezzoDovuti::Righe(righe)) => righe,
            Some(PezzoDovuti::Fine(v)) => break v,
            // The reader stopped before the end: nothing of the file is applied.
            None => return Err(interrotta()),
        };
        for l in righe {
            lette += 1;
            // Outer error: the database failed (abort the whole file). Inner: the line is
            // rejected.
            let esito = match l.outcome {
                Ok(riga) => tx_import_line(c, ente, tipi, riga, &motivo, now).await?,
                Err(r) => Err(r),
            };
            match esito {
                Ok(true) => imported += 1,
                Ok(false) => unchanged += 1,
                Err(r) => {
                    scartate += 1;
                    // Beyond, only counted: a file of nothing but bad lines would
                    // otherwise be a report as large as the file.
                    if scarti.len() < crate::recon::pagati::SCARTI_RIPORTATI {
                        scarti.push(Scarto {
                            riga: l.line,
                            codice: r.code.to_owned(),
                            motivo: r.reason,
                            riga_originale: l.raw,
                        });
                    }
                }
            }
        }
    };
    let job = ImportJob {
        id: job_id.to_owned(),
        id_dominio: dom.to_owned(),
        tipo: "DOVUTI_CSV".into(),
        file_name: file_name.map(str::to_owned),
        file_sha256: sha.to_owned(),
        versione: Some(versione.as_str().to_owned()),
        stato: "ESEGUITO".into(),
        righe_lette: lette,
        righe_importate: imported,
        righe_invariate: unchanged,
        righe_stornate: 0,
        righe_scartate: scartate,
        scarti,
        created_at: now,
    };
    import_q::tx_insert_import_job(c, &job).await?;
    tx.commit().await?;
    Ok(job)
}

/// Applies one valid line as the domain decides ([`import_csv::effetto`]): true when it
/// changed a dovuto, false when it found it as the line wants it.
async fn tx_import_line(
    c: &mut Conn,
    ente: &Ente,
    tipi: &[TipoDovuto],
    riga: Riga,
    motivo: &str,
    now: OffsetDateTime,
) -> StoreResult<Result<bool, Rifiuto>> {
    let Some(tipo) = tipi.iter().find(|t| t.codice == riga.dovuto.tipo_dovuto) else {
        return Ok(Err(Rifiuto::new(
            "PAA_IMPORT_SINTASSI_CSV_TIPO_DOVUTO_INESISTENTE",
            format!(
                "tipo dovuto '{}' inesistente per l'ente",
                riga.dovuto.tipo_dovuto
            ),
        )));
    };
    let valid = match riga.dovuto.resolve(ente, tipo) {
        Ok(v) => v,
        Err(r) => return Ok(Err(r)),
    };
    let existing = tx_dovuto_by_iud(c, ente.id_dominio.as_str(), &valid.iud).await?;
    let applied = match import_csv::effetto(riga.azione, &valid, existing.as_ref()) {
        Err(r) => return Ok(Err(r)),
        Ok(Effetto::Invariato) => return Ok(Ok(false)),
        Ok(Effetto::Inserisci) => tx_insert_dovuto(c, ente, &valid, motivo, now)
            .await
            .map(drop),
        Ok(Effetto::Modifica(old)) => tx_update_dovuto(c, old, &valid, motivo, now).await,
        Ok(Effetto::Annulla(old)) => {
            tx_change_stato(c, old.id, old.stato, StatoDovuto::Annullato, motivo, now).await
        }
    };
    match applied {
        Ok(()) => Ok(Ok(true)),
        Err(StoreError::Conflict(m)) => Ok(Err(Rifiuto::new("PAA_IMPORT_CONFLITTO", m))),
        Err(e) => Err(e),
    }
}
