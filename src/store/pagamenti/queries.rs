// Payments: RPTs and received RTs, activation and the recovery of RPTs without RT.
// Compiled once per backend (see the repository's mod.rs).

pub async fn insert_rpt(p: &DbPool, r: &NuovaRpt, now: OffsetDateTime) -> StoreResult<i64> {
    let _turno = turno(p).await?;
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

pub async fn get_rpt(
    p: &DbPool,
    dominio: &str,
    iuv: &str,
    ccp: &str,
) -> StoreResult<Option<RptRow>> {
    Ok(sqlx::query_as::<_, RptRow>("SELECT id, id_dominio, iuv, ccp, dovuto_id, importo_cents, stato FROM rpt WHERE id_dominio = $1 AND iuv = $2 AND ccp = $3")
        .bind(dominio)
        .bind(iuv)
        .bind(ccp)
        .fetch_optional(p)
        .await?)
}

/// The raw RT as RICEVUTA, in the caller's transaction; `None` (nothing written) when a
/// receipt with its key is held already.
async fn insert_rt_raw(
    tx: &mut Conn,
    dominio: &str,
    iuv: &str,
    ccp: &str,
    raw: &[u8],
    now: OffsetDateTime,
) -> StoreResult<Option<i64>> {
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
    Ok(inserted.map(|(id,)| id))
}

pub async fn store_rt_raw(
    p: &DbPool,
    dominio: &str,
    iuv: &str,
    ccp: &str,
    raw: &[u8],
    now: OffsetDateTime,
) -> StoreResult<RtStored> {
    let mut tx = begin_write(p).await?;
    let out = match insert_rt_raw(&mut tx, dominio, iuv, ccp, raw, now).await? {
        Some(id) => RtStored::Nuova(id),
        None => {
            let (id, stato): (i64, String) = sqlx::query_as(
                "SELECT id, stato FROM rt_ricevuta WHERE id_dominio = $1 AND iuv = $2 AND ccp = $3",
            )
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

pub async fn mark_rt(
    p: &DbPool,
    id: i64,
    stato: StatoRt,
    esito: Option<(u8, Importo)>,
    nota: Option<&str>,
    now: OffsetDateTime,
) -> StoreResult<()> {
    let _turno = turno(p).await?;
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

pub async fn apply_rt(
    p: &DbPool,
    rt_id: i64,
    rpt: &RptRow,
    e: &EsitoRt,
    now: OffsetDateTime,
) -> StoreResult<bool> {
    let mut tx = begin_write(p).await?;
    if !tx_apply_rt(&mut tx, rt_id, rpt, e, now).await? {
        tx.rollback().await?;
        return Ok(false);
    }
    tx.commit().await?;
    Ok(true)
}

/// A receipt never delivered before, stored raw and applied in one transaction: one
/// commit instead of two. `None` (nothing written) when a receipt with its key is held
/// already.
#[allow(clippy::too_many_arguments)]
pub async fn store_rt_applied(
    p: &DbPool,
    dominio: &str,
    iuv: &str,
    ccp: &str,
    raw: &[u8],
    rpt: &RptRow,
    e: &EsitoRt,
    now: OffsetDateTime,
) -> StoreResult<Option<i64>> {
    let mut tx = begin_write(p).await?;
    // Any early return drops `tx`: it rolls back before SQLite's writer turn passes on, so
    // the caller's two-step fallback does not meet a locked database.
    let Some(inserita) = insert_rt_applicata(&mut tx, dominio, iuv, ccp, raw, rpt, e, now).await?
    else {
        return Ok(None);
    };
    let id = inserita.id;
    tx_dopo_rt(&mut tx, id, rpt, e, inserita.gia, now).await?;
    tx.commit().await?;
    Ok(Some(id))
}

/// What a receipt's application needs of its dovuto: the state its esito moves, and what
/// its staged receipts carry (IUD, tipo, budget split).
#[derive(sqlx::FromRow)]
struct DovutoDellaRt {
    id: i64,
    stato: String,
    iud: String,
    tipo_dovuto: String,
    bilancio: String,
}

/// What the statement storing a receipt did already of [`tx_dopo_rt`]'s work, on
/// PostgreSQL (SQLite does none of it there).
#[derive(Default)]
struct GiaFatto {
    /// Its dovuto, read (`None` inside: the RPT has none).
    dovuto: Option<Option<DovutoDellaRt>>,
    /// Its e-mail job settled: queued if the esito asks for one.
    email: bool,
}

/// A receipt stored already applied, and what its statement did besides.
struct Inserita {
    id: i64,
    gia: GiaFatto,
}

/// The raw RT stored already applied (its esito, its RPT) and its RPT moved, in the
/// caller's transaction: what `tx_apply_rt`'s compare-and-set would write, which cannot
/// fail on a row this transaction inserts. `None` (nothing written) when a receipt with
/// its key is held already.
#[allow(clippy::too_many_arguments)]
async fn insert_rt_applicata(
    tx: &mut Conn,
    dominio: &str,
    iuv: &str,
    ccp: &str,
    raw: &[u8],
    rpt: &RptRow,
    e: &EsitoRt,
    now: OffsetDateTime,
) -> StoreResult<Option<Inserita>> {
    // One text for both backends (a macro: `concat!` takes only literals).
    macro_rules! inserisci {
        () => {
            "INSERT INTO rt_ricevuta (id_dominio, iuv, ccp, raw, stato, codice_esito, importo_cents, rpt_id, nota, received_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10) ON CONFLICT (id_dominio, iuv, ccp) DO NOTHING RETURNING id"
        };
    }
    // On PostgreSQL one round trip does more: the RPT moves, the e-mail job is queued (both
    // only if the receipt was inserted: they read the insert's RETURNING, so it runs
    // first), and the dovuto is read (the state change after it is a compare-and-set, as
    // when it is read on its own).
    const PG: &str = concat!(
        "WITH rt AS (",
        inserisci!(),
        "), mossa AS (UPDATE rpt SET stato = $11, updated_at = $10 WHERE id = $8 AND EXISTS (SELECT 1 FROM rt)),
         posta AS (INSERT INTO outbox (kind, ref_id, payload, stato, attempts, next_attempt_at, created_at, updated_at)
                   SELECT $12, id, '{}', 'PENDING', 0, $10, $10, $10 FROM rt WHERE $13)
         SELECT rt.id, d.id, d.stato, d.iud, d.tipo_dovuto, d.bilancio FROM rt LEFT JOIN dovuto d ON d.id = $14"
    );
    const SQLITE: &str = inserisci!();
    // The binds both texts share, $1 to $10.
    macro_rules! comuni {
        ($q:expr) => {
            $q.bind(dominio)
                .bind(iuv)
                .bind(ccp)
                .bind(raw)
                .bind(e.stato.as_str())
                .bind(i64::from(e.esito.codice()))
                .bind(e.importo.cents())
                .bind(rpt.id)
                .bind(&e.nota)
                .bind(now)
        };
    }
    if IS_POSTGRES {
        // The receipt's id, then its dovuto's id, stato, IUD, tipo and bilancio (NULL
        // without one).
        type Riga = (
            i64,
            Option<i64>,
            Option<String>,
            Option<String>,
            Option<String>,
            Option<String>,
        );
        let Some((id, d_id, stato, iud, tipo_dovuto, bilancio)) =
            comuni!(sqlx::query_as::<_, Riga>(PG))
                .bind(StatoRpt::RtRicevuta.as_str())
                .bind(TipoJob::RtEmail.as_str())
                .bind(e.email())
                .bind(rpt.dovuto_id)
                .fetch_optional(&mut *tx)
                .await?
        else {
            return Ok(None);
        };
        let dovuto = match (d_id, stato, iud, tipo_dovuto, bilancio) {
            (Some(id), Some(stato), Some(iud), Some(tipo_dovuto), Some(bilancio)) => {
                Some(DovutoDellaRt {
                    id,
                    stato,
                    iud,
                    tipo_dovuto,
                    bilancio,
                })
            }
            _ => None,
        };
        return Ok(Some(Inserita {
            id,
            gia: GiaFatto {
                dovuto: Some(dovuto),
                email: true,
            },
        }));
    }
    let Some((id,)) = comuni!(sqlx::query_as::<_, (i64,)>(SQLITE))
        .fetch_optional(&mut *tx)
        .await?
    else {
        return Ok(None);
    };
    sposta_rpt(tx, rpt, now).await?;
    Ok(Some(Inserita {
        id,
        gia: GiaFatto::default(),
    }))
}

async fn sposta_rpt(tx: &mut Conn, rpt: &RptRow, now: OffsetDateTime) -> StoreResult<()> {
    sqlx::query("UPDATE rpt SET stato = $1, updated_at = $2 WHERE id = $3")
        .bind(StatoRpt::RtRicevuta.as_str())
        .bind(now)
        .bind(rpt.id)
        .execute(&mut *tx)
        .await?;
    Ok(())
}

/// The application of an RT in the caller's transaction; `false` (nothing written) when the receipt
/// is applied already.
async fn tx_apply_rt(
    tx: &mut Conn,
    rt_id: i64,
    rpt: &RptRow,
    e: &EsitoRt,
    now: OffsetDateTime,
) -> StoreResult<bool> {
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
        return Ok(false);
    }
    sposta_rpt(tx, rpt, now).await?;
    tx_dopo_rt(tx, rt_id, rpt, e, GiaFatto::default(), now).await?;
    Ok(true)
}

/// What an applied RT does past its own row and its RPT: the dovuto, the e-mail, the
/// staged receipts (less what `gia` says the receipt's own statement did).
async fn tx_dopo_rt(
    tx: &mut Conn,
    rt_id: i64,
    rpt: &RptRow,
    e: &EsitoRt,
    gia: GiaFatto,
    now: OffsetDateTime,
) -> StoreResult<()> {
    // The dovuto is read once: its state follows the esito, and its IUD, tipo and budget
    // split go with the staged receipts (the change of state leaves those as they are).
    let row = match (gia.dovuto, rpt.dovuto_id) {
        (Some(letto), _) => letto,
        (None, Some(dovuto_id)) => {
            sqlx::query_as::<_, DovutoDellaRt>(
                "SELECT id, stato, iud, tipo_dovuto, bilancio FROM dovuto WHERE id = $1",
            )
            .bind(dovuto_id)
            .fetch_optional(&mut *tx)
            .await?
        }
        (None, None) => None,
    };
    if let Some(d) = &row {
        let da = StatoDovuto::parse(&d.stato)
            .map_err(|err| crate::store::righe::corrupt("dovuto.stato", err))?;
        if let Some(to) = crate::dominio::ricevuta::stato_dovuto(e.esito, da) {
            let motivo = format!(
                "RT esito {} (IUV {}, CCP {})",
                e.esito.codice(),
                rpt.iuv,
                rpt.ccp
            );
            dovuti_q::tx_change_stato(tx, d.id, da, to, &motivo, now).await?;
        }
    }
    if e.email() && !gia.email {
        outbox_q::tx_enqueue(tx, TipoJob::RtEmail, rt_id, now).await?;
    }
    if !e.ricevute.is_empty() {
        // Staged for reconciliation with the dovuto's IUD, tipo and budget split.
        let ricevute: Vec<NuovaRicevuta> = e
            .ricevute
            .iter()
            .cloned()
            .map(|mut r| {
                if let Some(d) = &row {
                    r.iud = Some(d.iud.clone());
                    r.tipo_dovuto = Some(d.tipo_dovuto.clone());
                    r.bilancio = (d.bilancio != "[]").then(|| d.bilancio.clone());
                }
                // The RT row this receipt comes from, known only here.
                r.rt_id = Some(rt_id);
                r
            })
            .collect();
        // The day's RTs share one automatic accertamento per tipo dovuto.
        let origine = format!("RT-{}", now.date());
        recon_q::tx_insert_ricevute(tx, &rpt.id_dominio, &ricevute, Some(&origine), now).await?;
    }
    Ok(())
}

/// Receipts whose raw bytes were committed but whose processing did not finish (a
/// database error or a crash in between), untouched since `before`.
pub async fn rt_da_elaborare(
    p: &DbPool,
    before: OffsetDateTime,
    limit: i64,
) -> StoreResult<Vec<RtGrezza>> {
    Ok(sqlx::query_as::<_, RtGrezza>("SELECT id, id_dominio, iuv, ccp, raw FROM rt_ricevuta WHERE stato = 'RICEVUTA' AND updated_at < $1 ORDER BY id LIMIT $2")
        .bind(before)
        .bind(limit)
        .fetch_all(p)
        .await?)
}

const RT_COLS: &str = "id, id_dominio, iuv, ccp, stato, codice_esito, importo_cents, rpt_id, nota, received_at, updated_at";

pub async fn list_rt(
    p: &DbPool,
    id_dominio: Option<&str>,
    stato: Option<&str>,
    limit: i64,
    offset: i64,
) -> StoreResult<(Vec<RtRicevuta>, i64)> {
    let filter = "($1 IS NULL OR id_dominio = $1) AND ($2 IS NULL OR stato = $2)";
    let rows = sqlx::query_as::<_, RtRicevuta>(sqlx::AssertSqlSafe(format!(
        "SELECT {RT_COLS} FROM rt_ricevuta WHERE {filter} ORDER BY id DESC LIMIT $3 OFFSET $4"
    )))
    .bind(id_dominio)
    .bind(stato)
    .bind(limit)
    .bind(offset)
    .fetch_all(p)
    .await?;
    let (total,): (i64,) = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT COUNT(*) FROM rt_ricevuta WHERE {filter}"
    )))
    .bind(id_dominio)
    .bind(stato)
    .fetch_one(p)
    .await?;
    Ok((rows, total))
}

pub async fn get_rt(p: &DbPool, id: i64) -> StoreResult<(RtRicevuta, Vec<u8>)> {
    let rt = sqlx::query_as::<_, RtRicevuta>(sqlx::AssertSqlSafe(format!(
        "SELECT {RT_COLS} FROM rt_ricevuta WHERE id = $1"
    )))
    .bind(id)
    .fetch_optional(p)
    .await?
    .ok_or(StoreError::NotFound)?;
    let (raw,): (Vec<u8>,) = sqlx::query_as("SELECT raw FROM rt_ricevuta WHERE id = $1")
        .bind(id)
        .fetch_one(p)
        .await?;
    Ok((rt, raw))
}

pub async fn attiva(
    p: &DbPool,
    r: &NuovaRpt,
    psp: &PspAttiva,
    d: &Dovuto,
    now: OffsetDateTime,
) -> StoreResult<i64> {
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
    dovuti_q::tx_change_stato(
        &mut tx,
        d.id,
        d.stato,
        StatoDovuto::PagamentoIniziato,
        &motivo,
        now,
    )
    .await?;
    outbox_q::tx_enqueue(&mut tx, TipoJob::InviaRpt, id, now).await?;
    tx.commit().await?;
    Ok(id)
}

/// A new-model activation (paGetPayment): one row per ente of the position, all with the
/// same attempt key, each dovuto in `sposta` moved to PAGAMENTO_INIZIATO (compare-and-set
/// on the state it was read in); no send job, the Nodo already holds the payment.
pub async fn attiva_nuovo_modello(
    p: &DbPool,
    righe: &[NuovaRpt],
    sposta: &[(i64, StatoDovuto)],
    motivo: &str,
    now: OffsetDateTime,
) -> StoreResult<()> {
    let mut tx = begin_write(p).await?;
    for r in righe {
        sqlx::query(
            "INSERT INTO rpt (id_dominio, iuv, ccp, dovuto_id, importo_cents, xml, stato, origine, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)",
        )
        .bind(&r.id_dominio)
        .bind(&r.iuv)
        .bind(&r.ccp)
        .bind(r.dovuto_id)
        .bind(r.importo.cents())
        .bind(&r.xml)
        .bind(StatoRpt::Creata.as_str())
        .bind(OrigineRpt::NuovoModello.as_str())
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(|e| if is_unique_violation(&e) { StoreError::Conflict(format!("attivazione {}/{}/{} già presente", r.id_dominio, r.iuv, r.ccp)) } else { e.into() })?;
    }
    for (id, da) in sposta {
        dovuti_q::tx_change_stato(
            &mut tx,
            *id,
            *da,
            StatoDovuto::PagamentoIniziato,
            motivo,
            now,
        )
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// The newest new-model activation of a position at one ente, whatever its state.
pub async fn attivazione_nuovo_modello(
    p: &DbPool,
    dominio: &str,
    iuv: &str,
) -> StoreResult<Option<RptRow>> {
    Ok(sqlx::query_as::<_, RptRow>("SELECT id, id_dominio, iuv, ccp, dovuto_id, importo_cents, stato FROM rpt WHERE id_dominio = $1 AND iuv = $2 AND origine = $3 ORDER BY id DESC LIMIT 1")
        .bind(dominio)
        .bind(iuv)
        .bind(OrigineRpt::NuovoModello.as_str())
        .fetch_optional(p)
        .await?)
}

pub async fn rpt_xml(p: &DbPool, dominio: &str, iuv: &str) -> StoreResult<(Vec<u8>, i64)> {
    let row: Option<(Vec<u8>, i64)> = sqlx::query_as(
        "SELECT xml, id FROM rpt WHERE id_dominio = $1 AND iuv = $2 ORDER BY id DESC LIMIT 1",
    )
    .bind(dominio)
    .bind(iuv)
    .fetch_optional(p)
    .await?;
    row.ok_or(StoreError::NotFound)
}

const PENDING_ACTIVATIONS: &str = "FROM rpt r JOIN dovuto d ON d.id = r.dovuto_id
     WHERE r.stato IN ('CREATA', 'INVIATA', 'RIFIUTATA_NODO') AND r.origine IN ('ATTIVA', 'NUOVO_MODELLO') AND d.stato = 'PAGAMENTO_INIZIATO'";

pub async fn expire_activations(
    p: &DbPool,
    cutoff: OffsetDateTime,
    now: OffsetDateTime,
) -> StoreResult<usize> {
    let mut tx = begin_write(p).await?;
    let due: Vec<(i64, i64)> = sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT r.id, r.dovuto_id {PENDING_ACTIVATIONS} AND r.created_at < $1 ORDER BY r.id LIMIT 500")))
        .bind(cutoff)
        .fetch_all(&mut *tx)
        .await?;
    let mut expired = 0;
    for (rpt_id, dovuto_id) in due {
        sqlx::query("UPDATE rpt SET stato = 'SCADUTA', updated_at = $1 WHERE id = $2 AND stato IN ('CREATA', 'INVIATA', 'RIFIUTATA_NODO')").bind(now).bind(rpt_id).execute(&mut *tx).await?;
        // Compare-and-set: another instance may have moved it already; then nothing happens.
        match dovuti_q::tx_change_stato(
            &mut tx,
            dovuto_id,
            StatoDovuto::PagamentoIniziato,
            StatoDovuto::DaPagare,
            "attivazione scaduta senza RT",
            now,
        )
        .await
        {
            Ok(()) => expired += 1,
            Err(StoreError::Conflict(_)) => {}
            Err(e) => return Err(e),
        }
    }
    tx.commit().await?;
    Ok(expired)
}

pub async fn pa_gauges(p: &DbPool) -> StoreResult<(i64, i64)> {
    let (quarantine,): (i64,) =
        sqlx::query_as("SELECT COUNT(*) FROM rt_ricevuta WHERE stato = 'QUARANTENA'")
            .fetch_one(p)
            .await?;
    let (pending,): (i64,) = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT COUNT(*) {PENDING_ACTIVATIONS}"
    )))
    .fetch_one(p)
    .await?;
    Ok((quarantine, pending))
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
pub async fn rpt_stato(
    p: &DbPool,
    id: i64,
    to: StatoRpt,
    now: OffsetDateTime,
) -> StoreResult<bool> {
    let from: Vec<&str> = StatoRpt::verso(to)
        .into_iter()
        .map(StatoRpt::as_str)
        .collect();
    let from = serde_json::to_string(&from).unwrap_or_default();
    let in_list = if IS_POSTGRES {
        "stato IN (SELECT jsonb_array_elements_text($4::jsonb))"
    } else {
        "stato IN (SELECT value FROM json_each($4))"
    };
    let _turno = turno(p).await?;
    let n = sqlx::query(sqlx::AssertSqlSafe(format!(
        "UPDATE rpt SET stato = $1, updated_at = $2 WHERE id = $3 AND {in_list}"
    )))
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

/// Picks RPTs sent before `before` that have no RT and were not checked since `before`,
/// marks them checked and enqueues a `recuperoRT` job for each, in one transaction (on
/// PostgreSQL instances skip each other's rows).
pub async fn plan_recuperi(
    p: &DbPool,
    before: OffsetDateTime,
    limit: i64,
    now: OffsetDateTime,
) -> StoreResult<usize> {
    let mut tx = begin_write(p).await?;
    let lock = if IS_POSTGRES {
        "FOR UPDATE SKIP LOCKED"
    } else {
        ""
    };
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
        outbox_q::tx_enqueue(&mut tx, TipoJob::RecuperoRt, *id, now).await?;
    }
    tx.commit().await?;
    Ok(ids.len())
}

/// The Nodo closed the attempt without payment: the RPT is CHIUSA_KO and its dovuto
/// payable again.
pub async fn rpt_chiusa_ko(
    p: &DbPool,
    rpt_id: i64,
    motivo: &str,
    now: OffsetDateTime,
) -> StoreResult<bool> {
    let mut tx = begin_write(p).await?;
    let n = sqlx::query(
        "UPDATE rpt SET stato = 'CHIUSA_KO', updated_at = $1 WHERE id = $2 AND stato = 'INVIATA'",
    )
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
        dovuti_q::tx_change_stato(
            &mut tx,
            d,
            StatoDovuto::PagamentoIniziato,
            StatoDovuto::DaPagare,
            motivo,
            now,
        )
        .await?;
    }
    tx.commit().await?;
    Ok(true)
}

/// The Nodo does not know the RPT: send it again with the same IUV and CCP (its whole
/// cart, for a portal payment).
pub async fn resend_rpt(p: &DbPool, rpt_id: i64, now: OffsetDateTime) -> StoreResult<bool> {
    let mut tx = begin_write(p).await?;
    let row: Option<(Option<String>,)> =
        sqlx::query_as("SELECT id_carrello FROM rpt WHERE id = $1 AND stato = 'INVIATA'")
            .bind(rpt_id)
            .fetch_optional(&mut *tx)
            .await?;
    let Some((carrello,)) = row else {
        tx.rollback().await?;
        return Ok(false);
    };
    match carrello {
        Some(c) => {
            sqlx::query("UPDATE carrello SET stato = 'CREATO', updated_at = $1 WHERE id = $2")
                .bind(now)
                .bind(&c)
                .execute(&mut *tx)
                .await?;
            sqlx::query("UPDATE rpt SET stato = 'CREATA', updated_at = $1 WHERE id_carrello = $2 AND stato = 'INVIATA'").bind(now).bind(&c).execute(&mut *tx).await?;
            sqlx::query("INSERT INTO outbox (kind, ref_id, payload, stato, attempts, next_attempt_at, created_at, updated_at) VALUES ($3, NULL, $1, 'PENDING', 0, $2, $2, $2)")
                .bind(&c)
                .bind(now)
                .bind(TipoJob::InviaCarrello.as_str())
                .execute(&mut *tx)
                .await?;
        }
        None => {
            sqlx::query("UPDATE rpt SET stato = 'CREATA', updated_at = $1 WHERE id = $2")
                .bind(now)
                .bind(rpt_id)
                .execute(&mut *tx)
                .await?;
            outbox_q::tx_enqueue(&mut tx, TipoJob::InviaRpt, rpt_id, now).await?;
        }
    }
    tx.commit().await?;
    Ok(true)
}

/// The statement of [`ricevuta_nota`] (`$1` ente, `$2` IUV, `$3` IUR or receiptId).
pub(crate) const RICEVUTA_NOTA: &str = concat!(
    "SELECT (SELECT COUNT(*) FROM rt_ricevuta WHERE id_dominio = $1 AND iuv = $2 AND ccp = $3)
          + (SELECT COUNT(*) FROM ricevuta WHERE id_dominio = ",
    ente!(1),
    " AND iuv = $2 AND iur = $3 AND fonte <> 'SURROGATO')"
);

/// Whether the ente holds a receipt for (IUV, IUR): a stored new-model receipt keyed by its
/// receiptId, or a staged receipt (an RT's, an imported one) that is not a flow's stand-in.
pub async fn ricevuta_nota(p: &DbPool, dominio: &str, iuv: &str, iur: &str) -> StoreResult<bool> {
    let (n,): (i64,) = sqlx::query_as(RICEVUTA_NOTA)
        .bind(dominio)
        .bind(iuv)
        .bind(iur)
        .fetch_one(p)
        .await?;
    Ok(n > 0)
}

/// The latest applied RT for (dominio, IUV), with its raw bytes.
pub async fn rt_per_iuv(
    p: &DbPool,
    dominio: &str,
    iuv: &str,
) -> StoreResult<Option<(i64, Vec<u8>)>> {
    Ok(sqlx::query_as("SELECT id, raw FROM rt_ricevuta WHERE id_dominio = $1 AND iuv = $2 AND stato IN ('ELABORATA', 'ANOMALA') ORDER BY id DESC LIMIT 1")
        .bind(dominio)
        .bind(iuv)
        .fetch_optional(p)
        .await?)
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

pub async fn prune_rt_raw(p: &DbPool, before: OffsetDateTime, batch: i64) -> StoreResult<u64> {
    let finite = "stato IN ('ELABORATA', 'ANOMALA', 'INVALIDA') AND received_at < $2";
    svuota_raw(p, "rt_ricevuta", finite, before, batch).await
}
