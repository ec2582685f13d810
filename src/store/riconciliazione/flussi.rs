// Reporting flows, the treasury journal and payment notifications.
// Compiled once per backend (see the repository's mod.rs).

// Keyed reads and deletes of tables with several indexes on `id_dominio`: the ente goes
// in as `ente!` (see comune_postgres.rs), named so that the plan tests read them.

/// A flow's payments with esito 9 (`$1` ente, `$2` IUF).
pub(crate) const ESITO9_DEL_FLUSSO: &str = concat!(
    "SELECT iuv, iur, indice FROM rendicontazione WHERE id_dominio = ",
    ente!(1),
    " AND iuf = $2 AND esito = 9"
);
/// Removes a flow's payments (`$1` ente, `$2` IUF).
pub(crate) const VIA_PAGAMENTI_DEL_FLUSSO: &str = concat!(
    "DELETE FROM rendicontazione WHERE id_dominio = ",
    ente!(1),
    " AND iuf = $2"
);
/// Removes a flow's stand-in receipt (`$1` ente, `$2` IUV, `$3` IUR, `$4` indice) unless
/// another flow still reports it with esito 9.
pub(crate) const VIA_SURROGATO: &str = concat!(
    "DELETE FROM ricevuta WHERE id_dominio = ",
    ente!(1),
    " AND fonte = 'SURROGATO' AND iuv = $2 AND iur = $3 AND indice = $4
     AND NOT EXISTS (SELECT 1 FROM rendicontazione r WHERE r.id_dominio = ",
    ente!(1),
    " AND r.iuv = $2 AND r.iur = $3 AND r.esito = 9)
     RETURNING data_esito"
);
/// Removes a treasury line (`$1` ente, `$2` anno, `$3` codice of the bolletta).
pub(crate) const VIA_TESORERIA: &str = concat!(
    "DELETE FROM tesoreria WHERE id_dominio = ",
    ente!(1),
    " AND anno_bolletta = $2 AND codice_bolletta = $3 RETURNING id, iuf_key, iuv"
);

/// Whether this version (dataOraFlusso) of the flow is already stored.
pub async fn flusso_presente(
    p: &DbPool,
    dominio: &str,
    id_flusso: &str,
    data_ora: &str,
) -> StoreResult<bool> {
    let row: Option<(i64,)> = sqlx::query_as(
        "SELECT id FROM flusso WHERE id_dominio = $1 AND id_flusso = $2 AND data_ora_flusso = $3",
    )
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
    .bind(f.stato.as_str())
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
        let esito9_prima: Vec<(String, String, Option<i64>)> = sqlx::query_as(ESITO9_DEL_FLUSSO)
            .bind(&f.id_dominio)
            .bind(&f.id_flusso)
            .fetch_all(&mut *tx)
            .await?;
        sqlx::query(VIA_PAGAMENTI_DEL_FLUSSO)
            .bind(&f.id_dominio)
            .bind(&f.id_flusso)
            .execute(&mut *tx)
            .await?;
        let totale = f.importo_cents.unwrap_or(0);
        let validi: Vec<_> = f.pagamenti.iter().filter(|p| p.codice_esito != 3).collect();
        insert_pagamenti_flusso(&mut tx, f, id, regolamento, totale, &validi).await?;
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
            if surrogati
                .iter()
                .any(|s| s.iuv == iuv && s.iur == iur && s.indice == indice)
            {
                continue;
            }
            let via: Option<(Date,)> = sqlx::query_as(VIA_SURROGATO)
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
        contab_q::tx_sporca_giorni(&mut tx, &f.id_dominio, &giorni).await?;
        tx_accoda(&mut tx, &f.id_dominio, &chiavi, now).await?;
    }
    tx.commit().await?;
    Ok(())
}

pub async fn list_flussi(
    p: &DbPool,
    dominio: Option<&str>,
    stato: Option<&str>,
    limit: i64,
    offset: i64,
) -> StoreResult<(Vec<FlussoScaricato>, i64)> {
    let filter = "($1 IS NULL OR id_dominio = $1) AND ($2 IS NULL OR stato = $2)";
    let rows = sqlx::query_as::<_, FlussoScaricato>(sqlx::AssertSqlSafe(format!("SELECT id, id_dominio, id_flusso, data_ora_flusso, stato, nota, psp, deviazioni, numero_pagamenti, importo_cents, created_at FROM flusso WHERE {filter} ORDER BY id DESC LIMIT $3 OFFSET $4")))
        .bind(dominio)
        .bind(stato)
        .bind(limit)
        .bind(offset)
        .fetch_all(p)
        .await?;
    let (total,): (i64,) = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT COUNT(*) FROM flusso WHERE {filter}"
    )))
    .bind(dominio)
    .bind(stato)
    .fetch_one(p)
    .await?;
    Ok((rows, total))
}

/// Applies one upload in one transaction: every movement added or replaced on (ente, anno,
/// codice bolletta), every storno removing its bolletta. Returns (upserted, removed).
pub async fn import_tesoreria(
    p: &DbPool,
    ente: &str,
    righe: &[crate::recon::giornale::RigaCassa],
    storni: &[(u16, String)],
    fonte: &str,
    job: Option<&mut ImportJob>,
    now: OffsetDateTime,
) -> StoreResult<(u64, u64)> {
    let mut tx = begin_write(p).await?;
    let mut n = 0;
    let mut chiavi = Vec::new();
    // A bolletta the file repeats: the last line wins, as if applied one by one.
    let mut ultime: HashMap<(u16, &str), &crate::recon::giornale::RigaCassa> = HashMap::new();
    for r in righe {
        ultime.insert((r.anno_bolletta, r.codice_bolletta.as_str()), r);
    }
    let mut uniche: Vec<&crate::recon::giornale::RigaCassa> = ultime.into_values().collect();
    uniche.sort_by(|a, b| {
        (a.anno_bolletta, &a.codice_bolletta).cmp(&(b.anno_bolletta, &b.codice_bolletta))
    });
    // In statements of a few hundred lines, not one round trip per line: on PostgreSQL the
    // round trips were most of a journal's import.
    for chunk in uniche.chunks(400) {
        // The lines as they were: a changed causale may move one to another IUF / IUV. Read
        // per year (a chunk is sorted, so mostly one), through the (ente, anno, codice) key.
        let mut per_anno: BTreeMap<u16, Vec<String>> = BTreeMap::new();
        for r in chunk {
            per_anno
                .entry(r.anno_bolletta)
                .or_default()
                .push(r.codice_bolletta.clone());
        }
        let mut prima: HashMap<(i64, String), (Option<String>, Option<String>)> = HashMap::new();
        for (anno, codici) in per_anno {
            let mut q = sqlx::QueryBuilder::<Db>::new(
                "SELECT anno_bolletta, codice_bolletta, iuf_key, iuv FROM tesoreria WHERE id_dominio = ",
            );
            push_ente(&mut q, ente);
            q.push(" AND anno_bolletta = ")
                .push_bind(i64::from(anno))
                .push(" AND ");
            push_in(&mut q, "codice_bolletta", &codici);
            let righe: Vec<(i64, String, Option<String>, Option<String>)> =
                q.build_query_as().fetch_all(&mut *tx).await?;
            prima.extend(righe.into_iter().map(|(a, c, f, v)| ((a, c), (f, v))));
        }
        // A line the file repeats unchanged is neither written nor queued: a re-import of
        // the same journal changes nothing and reclassifies nothing.
        let mut q = sqlx::QueryBuilder::<Db>::new(
            "INSERT INTO tesoreria (id_dominio, anno_bolletta, codice_bolletta, data_contabile, data_valuta, importo_cents, ordinante, causale, iuf, iuv, fonte, created_at, updated_at, iuf_key, conto) ",
        );
        q.push_values(chunk, |mut b, r| {
            b.push_bind(ente)
                .push_bind(i64::from(r.anno_bolletta))
                .push_bind(&r.codice_bolletta)
                .push_bind(r.data_contabile)
                .push_bind(r.data_valuta)
                .push_bind(r.importo.cents())
                .push_bind(&r.ordinante)
                .push_bind(&r.causale)
                .push_bind(&r.estratto.iuf)
                .push_bind(&r.estratto.iuv)
                .push_bind(fonte)
                .push_bind(now)
                .push_bind(now)
                .push_bind(r.estratto.iuf.as_ref().map(|f| f.to_uppercase()))
                .push_bind(&r.conto);
        });
        q.push(
            " ON CONFLICT (id_dominio, anno_bolletta, codice_bolletta) DO UPDATE SET
               data_contabile = excluded.data_contabile, data_valuta = excluded.data_valuta, importo_cents = excluded.importo_cents,
               ordinante = excluded.ordinante, causale = excluded.causale, iuf = excluded.iuf, iuv = excluded.iuv, fonte = excluded.fonte, updated_at = excluded.updated_at,
               iuf_key = excluded.iuf_key, conto = excluded.conto
             WHERE tesoreria.data_contabile IS DISTINCT FROM excluded.data_contabile
                OR tesoreria.data_valuta IS DISTINCT FROM excluded.data_valuta
                OR tesoreria.importo_cents IS DISTINCT FROM excluded.importo_cents
                OR tesoreria.ordinante IS DISTINCT FROM excluded.ordinante
                OR tesoreria.causale IS DISTINCT FROM excluded.causale
                OR tesoreria.iuf IS DISTINCT FROM excluded.iuf
                OR tesoreria.iuv IS DISTINCT FROM excluded.iuv
                OR tesoreria.fonte IS DISTINCT FROM excluded.fonte
                OR tesoreria.conto IS DISTINCT FROM excluded.conto
             RETURNING id, anno_bolletta, codice_bolletta",
        );
        let scritte: Vec<(i64, i64, String)> = q.build_query_as().fetch_all(&mut *tx).await?;
        for (id, anno, codice) in scritte {
            if let Some((f, v)) = prima.get(&(anno, codice)) {
                chiavi.extend(f.clone().map(|f| (coda::IUF, f)));
                chiavi.extend(v.clone().map(|v| (coda::IUV, v)));
            }
            n += 1;
            chiavi.push((coda::TESORERIA, id.to_string()));
        }
    }
    let mut removed = 0;
    for (anno, codice) in storni {
        let gone: Option<(i64, Option<String>, Option<String>)> = sqlx::query_as(VIA_TESORERIA)
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
    import_q::tx_chiudi_import(&mut tx, job, n, removed).await?;
    tx.commit().await?;
    Ok((n, removed))
}

pub async fn list_tesoreria(
    p: &DbPool,
    ente: &str,
    iuf: Option<&str>,
    iuv: Option<&str>,
    limit: i64,
    offset: i64,
) -> StoreResult<(Vec<RigaTesoreria>, i64)> {
    let filter = concat!(
        "id_dominio = ",
        ente!(1),
        " AND ($2 IS NULL OR iuf = $2) AND ($3 IS NULL OR iuv = $3)"
    );
    let rows = sqlx::query_as::<_, RigaTesoreria>(sqlx::AssertSqlSafe(format!("SELECT id, id_dominio, anno_bolletta, codice_bolletta, data_contabile, data_valuta, importo_cents, ordinante, causale, iuf, iuv, fonte FROM tesoreria WHERE {filter} ORDER BY data_contabile DESC, id DESC LIMIT $4 OFFSET $5")))
        .bind(ente)
        .bind(iuf)
        .bind(iuv)
        .bind(limit)
        .bind(offset)
        .fetch_all(p)
        .await?;
    let (total,): (i64,) = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT COUNT(*) FROM tesoreria WHERE {filter}"
    )))
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
pub async fn import_notifiche(
    p: &DbPool,
    ente: &str,
    righe: &[crate::recon::notifiche::Notifica],
    job: Option<&mut ImportJob>,
    now: OffsetDateTime,
) -> StoreResult<u64> {
    let mut tx = begin_write(p).await?;
    let mut n = 0;
    let mut chiavi: Vec<(&str, String)> = Vec::new();
    // An IUD the file repeats: the last line wins, as if applied one by one.
    let mut ultime: HashMap<&str, &crate::recon::notifiche::Notifica> = HashMap::new();
    for r in righe {
        ultime.insert(r.iud.as_str(), r);
    }
    let mut uniche: Vec<&crate::recon::notifiche::Notifica> = ultime.into_values().collect();
    uniche.sort_by(|a, b| a.iud.cmp(&b.iud));
    for chunk in uniche.chunks(500) {
        // Unchanged: not written, not queued (a re-import is nearly free).
        let mut q = sqlx::QueryBuilder::<Db>::new(
            "INSERT INTO notifica (id_dominio, iud, iuv, data_esecuzione, importo_cents, tipo_dovuto, causale, created_at, updated_at) ",
        );
        q.push_values(chunk, |mut b, r| {
            b.push_bind(ente)
                .push_bind(&r.iud)
                .push_bind(&r.iuv)
                .push_bind(r.data_esecuzione)
                .push_bind(r.importo.cents())
                .push_bind(&r.tipo_dovuto)
                .push_bind(&r.causale)
                .push_bind(now)
                .push_bind(now);
        });
        q.push(
            " ON CONFLICT (id_dominio, iud) DO UPDATE SET iuv = excluded.iuv, data_esecuzione = excluded.data_esecuzione,
               importo_cents = excluded.importo_cents, tipo_dovuto = excluded.tipo_dovuto, causale = excluded.causale, updated_at = excluded.updated_at
             WHERE notifica.iuv IS DISTINCT FROM excluded.iuv
                OR notifica.data_esecuzione IS DISTINCT FROM excluded.data_esecuzione
                OR notifica.importo_cents IS DISTINCT FROM excluded.importo_cents
                OR notifica.tipo_dovuto IS DISTINCT FROM excluded.tipo_dovuto
                OR notifica.causale IS DISTINCT FROM excluded.causale
             RETURNING iud",
        );
        let scritte: Vec<(String,)> = q.build_query_as().fetch_all(&mut *tx).await?;
        n += scritte.len() as u64;
        chiavi.extend(scritte.into_iter().map(|(iud,)| (coda::IUD, iud)));
    }
    tx_accoda(&mut tx, ente, &chiavi, now).await?;
    import_q::tx_chiudi_import(&mut tx, job, n, 0).await?;
    tx.commit().await?;
    Ok(n)
}

/// (IUD, amount in cents) of an ente's notifications.
pub async fn notifiche_ente(p: &DbPool, ente: &str) -> StoreResult<Vec<(String, i64)>> {
    Ok(
        sqlx::query_as("SELECT iud, importo_cents FROM notifica WHERE id_dominio = $1 ORDER BY id")
            .bind(ente)
            .fetch_all(p)
            .await?,
    )
}

/// (keys waiting in the reconciliation queue, when the oldest was queued, when the newest
/// flow was stored). By id, not by a scan of dates: the flows' rows carry their raw bytes.
pub async fn recon_gauges(
    p: &DbPool,
) -> StoreResult<(i64, Option<OffsetDateTime>, Option<OffsetDateTime>)> {
    let (coda,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM recon_coda")
        .fetch_one(p)
        .await?;
    let oldest: Option<(OffsetDateTime,)> =
        sqlx::query_as("SELECT created_at FROM recon_coda ORDER BY id LIMIT 1")
            .fetch_optional(p)
            .await?;
    let flusso: Option<(OffsetDateTime,)> =
        sqlx::query_as("SELECT created_at FROM flusso ORDER BY id DESC LIMIT 1")
            .fetch_optional(p)
            .await?;
    Ok((coda, oldest.map(|r| r.0), flusso.map(|r| r.0)))
}

/// Empties the raw bytes of flows stored before `before`, at most `batch` of them; the
/// parsed payments stay (the reconciliation reads those). Returns how many.
pub async fn prune_flussi_raw(p: &DbPool, before: OffsetDateTime, batch: i64) -> StoreResult<u64> {
    svuota_raw(p, "flusso", "created_at < $2", before, batch).await
}
