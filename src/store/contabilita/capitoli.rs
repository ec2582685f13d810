// The chart ufficio – capitolo – accertamento and its mass import (docs/riconciliazione.md
// §7.1–§7.2).
// Compiled once per backend (see the repository's mod.rs).

const SEL_CAPITOLO: &str = "SELECT id, anno, tipo_dovuto, cod_ufficio, de_ufficio, attivo, cod_capitolo, de_capitolo, cod_accertamento, de_accertamento, automatico, updated_at FROM capitolo";

pub async fn list_capitoli(
    p: &DbPool,
    ente: &str,
    f: &FiltroCapitoli,
    limit: i64,
    offset: i64,
) -> StoreResult<(Vec<Capitolo>, i64)> {
    let build = |select: &str| {
        let mut q = sqlx::QueryBuilder::<Db>::new(select);
        q.push(" WHERE id_dominio = ").push_bind(ente.to_owned());
        if let Some(a) = f.anno {
            q.push(" AND anno = ").push_bind(a);
        }
        for (c, v) in [
            ("tipo_dovuto", &f.tipo_dovuto),
            ("cod_ufficio", &f.cod_ufficio),
            ("cod_capitolo", &f.cod_capitolo),
            ("cod_accertamento", &f.cod_accertamento),
        ] {
            if let Some(v) = v {
                q.push(format!(" AND {c} = ")).push_bind(v.clone());
            }
        }
        if let Some(a) = f.attivo {
            q.push(" AND attivo = ").push_bind(a);
        }
        q
    };
    let mut q = build(SEL_CAPITOLO);
    q.push(" ORDER BY anno DESC, tipo_dovuto, cod_ufficio, cod_capitolo, cod_accertamento LIMIT ")
        .push_bind(limit)
        .push(" OFFSET ")
        .push_bind(offset);
    let rows = q.build_query_as::<Capitolo>().fetch_all(p).await?;
    let (total,): (i64,) = build("SELECT COUNT(*) FROM capitolo")
        .build_query_as()
        .fetch_one(p)
        .await?;
    Ok((rows, total))
}

pub async fn get_capitolo(p: &DbPool, ente: &str, id: i64) -> StoreResult<Capitolo> {
    sqlx::query_as::<_, Capitolo>(sqlx::AssertSqlSafe(format!(
        "{SEL_CAPITOLO} WHERE id_dominio = $1 AND id = $2"
    )))
    .bind(ente)
    .bind(id)
    .fetch_optional(p)
    .await?
    .ok_or(StoreError::NotFound)
}

/// The descriptions stored per code (for the coherence rule of docs/riconciliazione.md §7.1).
async fn descrizioni(
    c: &mut Conn,
    ente: &str,
) -> StoreResult<HashMap<(acc::Codice, String), String>> {
    let mut out = HashMap::new();
    for (k, cod, de) in [
        (acc::Codice::Ufficio, "cod_ufficio", "de_ufficio"),
        (acc::Codice::Capitolo, "cod_capitolo", "de_capitolo"),
        (
            acc::Codice::Accertamento,
            "cod_accertamento",
            "de_accertamento",
        ),
    ] {
        let rows: Vec<(String, String)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {cod}, MAX({de}) FROM capitolo WHERE id_dominio = $1 AND {de} <> 'n/a' GROUP BY {cod}"
        )))
        .bind(ente)
        .fetch_all(&mut *c)
        .await?;
        out.extend(rows.into_iter().map(|(c, d)| ((k, c), d)));
    }
    Ok(out)
}

/// Inserts (or updates) chart lines and gives `n/a` descriptions of their codes the new
/// text on every line of the ente.
async fn tx_scrivi_capitoli(
    c: &mut Conn,
    ente: &str,
    righe: &[&RigaCapitolo],
    now: OffsetDateTime,
) -> StoreResult<()> {
    for r in righe {
        sqlx::query(
            "INSERT INTO capitolo (id_dominio, anno, tipo_dovuto, cod_ufficio, de_ufficio, attivo, cod_capitolo, de_capitolo, cod_accertamento, de_accertamento, automatico, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, FALSE, $11, $11)
             ON CONFLICT (id_dominio, anno, tipo_dovuto, cod_ufficio, cod_capitolo, cod_accertamento) DO UPDATE SET
               de_ufficio = excluded.de_ufficio, de_capitolo = excluded.de_capitolo, de_accertamento = excluded.de_accertamento,
               attivo = excluded.attivo, automatico = FALSE, updated_at = excluded.updated_at",
        )
        .bind(ente)
        .bind(i64::from(r.anno))
        .bind(&r.tipo_dovuto)
        .bind(&r.cod_ufficio)
        .bind(&r.de_ufficio)
        .bind(r.attivo)
        .bind(&r.cod_capitolo)
        .bind(&r.de_capitolo)
        .bind(&r.cod_accertamento)
        .bind(&r.de_accertamento)
        .bind(now)
        .execute(&mut *c)
        .await?;
        for (cod, de, vc, vd) in [
            ("cod_ufficio", "de_ufficio", &r.cod_ufficio, &r.de_ufficio),
            (
                "cod_capitolo",
                "de_capitolo",
                &r.cod_capitolo,
                &r.de_capitolo,
            ),
            (
                "cod_accertamento",
                "de_accertamento",
                &r.cod_accertamento,
                &r.de_accertamento,
            ),
        ] {
            if vd != crate::model::bilancio::NA {
                sqlx::query(sqlx::AssertSqlSafe(format!(
                    "UPDATE capitolo SET {de} = $1, updated_at = $2 WHERE id_dominio = $3 AND {cod} = $4 AND {de} = 'n/a'"
                )))
                .bind(vd)
                .bind(now)
                .bind(ente)
                .bind(vc)
                .execute(&mut *c)
                .await?;
            }
        }
    }
    Ok(())
}

/// A chart line by its natural key: its id and whether it is active.
async fn voce(
    c: &mut Conn,
    ente: &str,
    anno: i32,
    tipo: &str,
    ufficio: &str,
    capitolo: &str,
    accertamento: &str,
) -> StoreResult<Option<(i64, bool)>> {
    Ok(sqlx::query_as("SELECT id, attivo FROM capitolo WHERE id_dominio = $1 AND anno = $2 AND tipo_dovuto = $3 AND cod_ufficio = $4 AND cod_capitolo = $5 AND cod_accertamento = $6")
        .bind(ente)
        .bind(i64::from(anno))
        .bind(tipo)
        .bind(ufficio)
        .bind(capitolo)
        .bind(accertamento)
        .fetch_optional(&mut *c)
        .await?)
}

async fn voce_di(c: &mut Conn, ente: &str, r: &RigaCapitolo) -> StoreResult<Option<(i64, bool)>> {
    voce(
        c,
        ente,
        r.anno,
        &r.tipo_dovuto,
        &r.cod_ufficio,
        &r.cod_capitolo,
        &r.cod_accertamento,
    )
    .await
}

/// Whether live accertamenti book payments on a chart line.
async fn capitolo_in_uso(c: &mut Conn, ente: &str, r: &RigaCapitolo) -> StoreResult<bool> {
    let (n,): (i64,) = sqlx::query_as(
        "SELECT COUNT(*) FROM accertamento_pagamento p JOIN accertamento a ON a.id = p.accertamento_id
         WHERE a.id_dominio = $1 AND a.stato <> 'ANNULLATO' AND a.tipo_dovuto = $2 AND p.anno = $3 AND p.cod_ufficio = $4 AND p.cod_capitolo = $5 AND p.cod_accertamento = $6",
    )
    .bind(ente)
    .bind(&r.tipo_dovuto)
    .bind(i64::from(r.anno))
    .bind(&r.cod_ufficio)
    .bind(&r.cod_capitolo)
    .bind(&r.cod_accertamento)
    .fetch_one(&mut *c)
    .await?;
    Ok(n > 0)
}

/// Creates one chart line (REST), under the same rules as the mass import.
pub async fn create_capitolo(
    p: &DbPool,
    ente: &str,
    r: &RigaCapitolo,
    now: OffsetDateTime,
) -> StoreResult<i64> {
    let mut tx = begin_write(p).await?;
    let esistenti = descrizioni(&mut tx, ente).await?;
    if let Some((_, motivo)) =
        acc::descrizioni_coerenti(&[(1, r.clone(), String::new())], &esistenti)
            .into_iter()
            .next()
    {
        return Err(StoreError::Conflict(motivo));
    }
    if voce_di(&mut tx, ente, r).await?.is_some() {
        return Err(StoreError::Conflict(
            "la voce (anno, tipo dovuto, ufficio, capitolo, accertamento) esiste già".into(),
        ));
    }
    tx_scrivi_capitoli(&mut tx, ente, &[r], now).await?;
    let (id, _) = voce_di(&mut tx, ente, r)
        .await?
        .ok_or_else(|| StoreError::Corrupt("voce appena scritta assente".into()))?;
    tx.commit().await?;
    Ok(id)
}

/// Changes a line's flag and descriptions; a description follows its code on every line.
pub async fn update_capitolo(
    p: &DbPool,
    ente: &str,
    id: i64,
    m: &ModificaCapitolo,
    now: OffsetDateTime,
) -> StoreResult<()> {
    let mut tx = begin_write(p).await?;
    let cur = sqlx::query_as::<_, Capitolo>(sqlx::AssertSqlSafe(format!(
        "{SEL_CAPITOLO} WHERE id_dominio = $1 AND id = $2"
    )))
    .bind(ente)
    .bind(id)
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(StoreError::NotFound)?;
    if let Some(a) = m.attivo {
        sqlx::query("UPDATE capitolo SET attivo = $1, updated_at = $2 WHERE id = $3")
            .bind(a)
            .bind(now)
            .bind(id)
            .execute(&mut *tx)
            .await?;
    }
    for (cod, de, v, nuovo) in [
        ("cod_ufficio", "de_ufficio", &cur.cod_ufficio, &m.de_ufficio),
        (
            "cod_capitolo",
            "de_capitolo",
            &cur.cod_capitolo,
            &m.de_capitolo,
        ),
        (
            "cod_accertamento",
            "de_accertamento",
            &cur.cod_accertamento,
            &m.de_accertamento,
        ),
    ] {
        if let Some(d) = nuovo {
            if cod == "cod_accertamento" && v == crate::model::bilancio::NA {
                return Err(StoreError::Conflict(
                    "una voce senza accertamento non ha descrizione dell'accertamento".into(),
                ));
            }
            sqlx::query(sqlx::AssertSqlSafe(format!("UPDATE capitolo SET {de} = $1, automatico = FALSE, updated_at = $2 WHERE id_dominio = $3 AND {cod} = $4")))
                .bind(d)
                .bind(now)
                .bind(ente)
                .bind(v)
                .execute(&mut *tx)
                .await?;
        }
    }
    tx.commit().await?;
    Ok(())
}

/// Deletes a chart line no live accertamento books payments on.
pub async fn delete_capitolo(p: &DbPool, ente: &str, id: i64) -> StoreResult<()> {
    let mut tx = begin_write(p).await?;
    let c = sqlx::query_as::<_, Capitolo>(sqlx::AssertSqlSafe(format!(
        "{SEL_CAPITOLO} WHERE id_dominio = $1 AND id = $2"
    )))
    .bind(ente)
    .bind(id)
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(StoreError::NotFound)?;
    let r = riga_di(&c, AzioneCapitolo::Cancella);
    if capitolo_in_uso(&mut tx, ente, &r).await? {
        return Err(StoreError::Conflict(
            "la voce è usata da accertamenti non annullati".into(),
        ));
    }
    sqlx::query("DELETE FROM capitolo WHERE id = $1")
        .bind(id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(())
}

fn riga_di(c: &Capitolo, azione: AzioneCapitolo) -> RigaCapitolo {
    RigaCapitolo {
        cod_ufficio: c.cod_ufficio.clone(),
        de_ufficio: c.de_ufficio.clone(),
        attivo: c.attivo,
        cod_capitolo: c.cod_capitolo.clone(),
        de_capitolo: c.de_capitolo.clone(),
        anno: c.anno as i32,
        cod_accertamento: c.cod_accertamento.clone(),
        de_accertamento: c.de_accertamento.clone(),
        tipo_dovuto: c.tipo_dovuto.clone(),
        azione,
    }
}

/// The mass import (docs/riconciliazione.md §7.2): every line checked against the ente's
/// tipi dovuto, the stored descriptions and the lines to delete; the file is applied whole
/// or not at all. The report is written in the same transaction.
pub async fn import_capitoli(
    p: &DbPool,
    ente: &str,
    file: &acc::FileCapitoli,
    mut job: ImportJob,
    now: OffsetDateTime,
) -> StoreResult<ImportJob> {
    let mut tx = begin_write(p).await?;
    let tipi: HashSet<String> =
        sqlx::query_as::<_, (String,)>("SELECT codice FROM tipo_dovuto WHERE id_dominio = $1")
            .bind(ente)
            .fetch_all(&mut *tx)
            .await?
            .into_iter()
            .map(|r| r.0)
            .collect();
    let mut scarti: Vec<Scarto> = file
        .scarti
        .iter()
        .map(|s| Scarto {
            riga: s.riga,
            codice: "FORMATO".into(),
            motivo: s.motivo.clone(),
            riga_originale: s.originale.clone(),
        })
        .collect();
    let esistenti = descrizioni(&mut tx, ente).await?;
    let incoerenti: HashMap<u64, String> = acc::descrizioni_coerenti(&file.righe, &esistenti)
        .into_iter()
        .collect();
    let mut da_cancellare = Vec::new();
    for (n, r, raw) in &file.righe {
        let motivo = if !tipi.contains(&r.tipo_dovuto) {
            Some((
                "TIPO_DOVUTO",
                format!("tipo dovuto {} sconosciuto per l'ente", r.tipo_dovuto),
            ))
        } else if let Some(m) = incoerenti.get(n) {
            Some(("DESCRIZIONE", m.clone()))
        } else if r.azione == AzioneCapitolo::Cancella {
            let presente = voce_di(&mut tx, ente, r).await?;
            if let Some((vid, _)) = presente {
                da_cancellare.push(vid);
            }
            if presente.is_none() {
                Some(("NON_PRESENTE", "voce da cancellare non presente".to_owned()))
            } else if capitolo_in_uso(&mut tx, ente, r).await? {
                Some((
                    "IN_USO",
                    "voce usata da accertamenti non annullati".to_owned(),
                ))
            } else {
                None
            }
        } else {
            None
        };
        if let Some((codice, motivo)) = motivo {
            scarti.push(Scarto {
                riga: *n,
                codice: codice.into(),
                motivo,
                riga_originale: raw.clone(),
            });
        }
    }
    scarti.sort_by_key(|s| s.riga);
    job.righe_lette = file.lette as i64;
    job.righe_scartate = scarti.len() as i64;
    if scarti.is_empty() {
        let ins: Vec<&RigaCapitolo> = file
            .righe
            .iter()
            .filter(|r| r.1.azione == AzioneCapitolo::Inserisci)
            .map(|r| &r.1)
            .collect();
        tx_scrivi_capitoli(&mut tx, ente, &ins, now).await?;
        if !da_cancellare.is_empty() {
            let mut q = sqlx::QueryBuilder::<Db>::new("DELETE FROM capitolo WHERE id IN (");
            push_chiavi(&mut q, &da_cancellare);
            q.push(")");
            q.build().execute(&mut *tx).await?;
        }
        job.righe_importate = file.righe.len() as i64;
        job.stato = "ESEGUITO".into();
    } else {
        // Whole file or nothing: the good lines are not applied either.
        job.righe_importate = 0;
        job.righe_invariate =
            (file.righe.len() as i64 + file.scarti.len() as i64) - job.righe_scartate;
        job.stato = "RIFIUTATO".into();
    }
    job.scarti = scarti;
    import_q::tx_insert_import_job(&mut tx, &job).await?;
    tx.commit().await?;
    Ok(job)
}
