// The reconciliation's views and notes (segnalazioni).
// Compiled once per backend (see the repository's mod.rs).

const SEL_RIGA: &str = "SELECT r.id, r.codici, r.iud, r.iuv, r.iur, r.indice, r.iuf, r.tipo_dovuto, r.cf_pagatore, r.attestante,
    r.tesoreria_id, r.anno_bolletta, r.codice_bolletta, r.ordinante, r.conto, r.importo_notificato_cents, r.importo_pagato_cents,
    r.totale_pagato_cents, r.importo_rendicontato_cents, r.totale_flusso_cents, r.importo_tesoreria_cents, r.data_esecuzione,
    r.data_esito, r.data_regolamento, r.data_contabile, r.data_valuta, r.aggiornato_at FROM riconciliazione r";

/// Appends the WHERE clause of a reconciliation search (every filter optional).
fn filtro_riconciliazione(q: &mut sqlx::QueryBuilder<Db>, ente: &str, f: &FiltroRiconciliazione) {
    q.push(" WHERE r.id_dominio = ").push_bind(ente.to_owned());
    q.push(" AND (r.codici & ")
        .push_bind(f.codici as i64)
        .push(") <> 0");
    let eq = |q: &mut sqlx::QueryBuilder<Db>, col: &str, v: &Option<String>| {
        if let Some(v) = v {
            q.push(format!(" AND {col} = ")).push_bind(v.clone());
        }
    };
    eq(q, "r.tipo_dovuto", &f.tipo_dovuto);
    eq(q, "r.iud", &f.iud);
    eq(q, "r.iuv", &f.iuv);
    eq(q, "r.iur", &f.iur);
    eq(q, "r.cf_pagatore", &f.cf_pagatore);
    eq(q, "r.codice_bolletta", &f.codice_bolletta);
    if let Some(v) = &f.iuf {
        q.push(" AND r.iuf_key LIKE ")
            .push_bind(crate::store::like_contains(&v.to_uppercase()))
            .push(crate::store::LIKE_ESCAPE);
    }
    if let Some(v) = &f.attestante {
        q.push(" AND r.attestante LIKE ")
            .push_bind(crate::store::like_contains(v))
            .push(crate::store::LIKE_ESCAPE);
    }
    if let Some(v) = &f.ordinante {
        q.push(" AND UPPER(r.ordinante) LIKE ")
            .push_bind(crate::store::like_contains(&v.to_uppercase()))
            .push(crate::store::LIKE_ESCAPE);
    }
    if let Some(v) = f.anno_bolletta {
        q.push(" AND r.anno_bolletta = ").push_bind(v);
    }
    if let Some(v) = f.importo_tesoreria_cents {
        q.push(" AND r.importo_tesoreria_cents = ").push_bind(v);
    }
    for (col, da, a) in [
        ("r.data_esito", f.data_esito_da, f.data_esito_a),
        (
            "r.data_regolamento",
            f.data_regolamento_da,
            f.data_regolamento_a,
        ),
        ("r.data_contabile", f.data_contabile_da, f.data_contabile_a),
        ("r.data_valuta", f.data_valuta_da, f.data_valuta_a),
    ] {
        if let Some(d) = da {
            q.push(format!(" AND {col} >= ")).push_bind(d);
        }
        if let Some(d) = a {
            q.push(format!(" AND {col} <= ")).push_bind(d);
        }
    }
    // A line an operator hid (active note with the flag, same code and keys) shows only
    // when hidden lines are asked for.
    q.push(if f.nascosti {
        " AND EXISTS"
    } else {
        " AND NOT EXISTS"
    });
    q.push(
        " (SELECT 1 FROM segnalazione s WHERE s.id_dominio = r.id_dominio AND s.attivo AND s.nascosto AND (r.codici & s.bit) <> 0
           AND COALESCE(s.iuf, '') = COALESCE(r.iuf, '') AND COALESCE(s.iud, '') = COALESCE(r.iud, '') AND COALESCE(s.iuv, '') = COALESCE(r.iuv, ''))",
    );
}

pub async fn search_riconciliazione(
    p: &DbPool,
    ente: &str,
    f: &FiltroRiconciliazione,
    limit: i64,
    offset: i64,
) -> StoreResult<(Vec<RigaRiconciliazione>, i64)> {
    let mut q = sqlx::QueryBuilder::<Db>::new(SEL_RIGA);
    filtro_riconciliazione(&mut q, ente, f);
    q.push(" ORDER BY COALESCE(r.data_esito, r.data_valuta, r.data_esecuzione), r.iuv, r.iud, r.id LIMIT ").push_bind(limit).push(" OFFSET ").push_bind(offset);
    let rows = q
        .build_query_as::<RigaRiconciliazione>()
        .fetch_all(p)
        .await?;
    let mut c = sqlx::QueryBuilder::<Db>::new("SELECT COUNT(*) FROM riconciliazione r");
    filtro_riconciliazione(&mut c, ente, f);
    let (total,): (i64,) = c.build_query_as().fetch_one(p).await?;
    Ok((rows, total))
}

/// The next page of an export, in id order (keyset: never an OFFSET over a large result).
pub async fn pagina_riconciliazione(
    p: &DbPool,
    ente: &str,
    f: &FiltroRiconciliazione,
    dopo: i64,
    limit: i64,
) -> StoreResult<Vec<RigaRiconciliazione>> {
    let mut q = sqlx::QueryBuilder::<Db>::new(SEL_RIGA);
    filtro_riconciliazione(&mut q, ente, f);
    q.push(" AND r.id > ")
        .push_bind(dopo)
        .push(" ORDER BY r.id LIMIT ")
        .push_bind(limit);
    Ok(q.build_query_as::<RigaRiconciliazione>()
        .fetch_all(p)
        .await?)
}

/// How many (visible) lines carry each code.
pub async fn conteggi_riconciliazione(p: &DbPool, ente: &str) -> StoreResult<Vec<(u64, i64)>> {
    let mut out = Vec::new();
    let rows: Vec<(i64, i64)> = sqlx::query_as(
        "SELECT codici, COUNT(*) FROM riconciliazione WHERE id_dominio = $1 GROUP BY codici",
    )
    .bind(ente)
    .fetch_all(p)
    .await?;
    for (m, n) in rows {
        out.push((m as u64, n));
    }
    Ok(out)
}

pub async fn coda_presente(p: &DbPool, ente: &str) -> StoreResult<bool> {
    let row: Option<(i64,)> =
        sqlx::query_as("SELECT id FROM recon_coda WHERE id_dominio = $1 LIMIT 1")
            .bind(ente)
            .fetch_optional(p)
            .await?;
    Ok(row.is_some())
}

/// A note on a classified line; the previous active note of the same line is kept as history.
pub async fn insert_segnalazione(
    p: &DbPool,
    ente: &str,
    s: &NuovaSegnalazione,
    utente: &str,
    now: OffsetDateTime,
) -> StoreResult<Segnalazione> {
    let mut tx = begin_write(p).await?;
    sqlx::query(
        "UPDATE segnalazione SET attivo = FALSE WHERE id_dominio = $1 AND codice = $2 AND attivo
           AND COALESCE(iuf, '') = COALESCE($3, '') AND COALESCE(iud, '') = COALESCE($4, '') AND COALESCE(iuv, '') = COALESCE($5, '')",
    )
    .bind(ente)
    .bind(&s.codice)
    .bind(&s.iuf)
    .bind(&s.iud)
    .bind(&s.iuv)
    .execute(&mut *tx)
    .await?;
    let row: Segnalazione = sqlx::query_as(
        "INSERT INTO segnalazione (id_dominio, codice, bit, iuf, iud, iuv, nota, nascosto, attivo, utente, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, TRUE, $9, $10)
         RETURNING id, codice, iuf, iud, iuv, nota, nascosto, attivo, utente, created_at",
    )
    .bind(ente)
    .bind(&s.codice)
    .bind(s.bit as i64)
    .bind(&s.iuf)
    .bind(&s.iud)
    .bind(&s.iuv)
    .bind(&s.nota)
    .bind(s.nascosto)
    .bind(utente)
    .bind(now)
    .fetch_one(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(row)
}

pub async fn storico_segnalazioni(
    p: &DbPool,
    ente: &str,
    codice: Option<&str>,
    solo_attive: bool,
    limit: i64,
    offset: i64,
) -> StoreResult<(Vec<Segnalazione>, i64)> {
    let filter = "id_dominio = $1 AND ($2 IS NULL OR codice = $2) AND (attivo OR NOT $3)";
    let rows = sqlx::query_as::<_, Segnalazione>(sqlx::AssertSqlSafe(format!(
        "SELECT id, codice, iuf, iud, iuv, nota, nascosto, attivo, utente, created_at FROM segnalazione WHERE {filter} ORDER BY id DESC LIMIT $4 OFFSET $5"
    )))
    .bind(ente)
    .bind(codice)
    .bind(solo_attive)
    .bind(limit)
    .bind(offset)
    .fetch_all(p)
    .await?;
    let (total,): (i64,) = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT COUNT(*) FROM segnalazione WHERE {filter}"
    )))
    .bind(ente)
    .bind(codice)
    .bind(solo_attive)
    .fetch_one(p)
    .await?;
    Ok((rows, total))
}

/// Ricevute telematiche: the staged receipts.
pub async fn search_ricevute(
    p: &DbPool,
    ente: &str,
    f: &FiltroRicevute,
    limit: i64,
    offset: i64,
) -> StoreResult<(Vec<RicevutaStaged>, i64)> {
    let build = |select: &str| {
        let mut q = sqlx::QueryBuilder::<Db>::new(select);
        q.push(" WHERE id_dominio = ").push_bind(ente.to_owned());
        for (col, v) in [
            ("tipo_dovuto", &f.tipo_dovuto),
            ("iud", &f.iud),
            ("iuv", &f.iuv),
            ("iur", &f.iur),
            ("cf_pagatore", &f.cf_pagatore),
            ("cf_versante", &f.cf_versante),
            ("fonte", &f.fonte),
        ] {
            if let Some(v) = v {
                q.push(format!(" AND {col} = ")).push_bind(v.clone());
            }
        }
        if let Some(v) = &f.attestante {
            q.push(" AND (attestante LIKE ")
                .push_bind(crate::store::like_contains(v))
                .push(crate::store::LIKE_ESCAPE)
                .push(" OR denominazione_attestante LIKE ")
                .push_bind(crate::store::like_contains(v))
                .push(crate::store::LIKE_ESCAPE)
                .push(")");
        }
        if let Some(d) = f.data_esito_da {
            q.push(" AND data_esito >= ").push_bind(d);
        }
        if let Some(d) = f.data_esito_a {
            q.push(" AND data_esito <= ").push_bind(d);
        }
        q
    };
    let mut q = build(SEL_RICEVUTA);
    q.push(" ORDER BY data_esito, iuv, iud, id LIMIT ")
        .push_bind(limit)
        .push(" OFFSET ")
        .push_bind(offset);
    let rows = q.build_query_as::<RicevutaStaged>().fetch_all(p).await?;
    let (total,): (i64,) = build("SELECT COUNT(*) FROM ricevuta")
        .build_query_as()
        .fetch_one(p)
        .await?;
    Ok((rows, total))
}

/// Rendicontazione pagoPA: one line per flow (IUF) with its reported payments.
#[allow(clippy::too_many_arguments)]
pub async fn search_flussi_rendicontati(
    p: &DbPool,
    ente: &str,
    iuf: Option<&str>,
    id_regolamento: Option<&str>,
    da: Option<Date>,
    a: Option<Date>,
    limit: i64,
    offset: i64,
) -> StoreResult<(Vec<FlussoRendicontato>, i64)> {
    let filter = "id_dominio = $1 AND ($2 IS NULL OR iuf_key LIKE $2 ESCAPE '\\') AND ($3 IS NULL OR id_regolamento = $3) AND ($4 IS NULL OR data_regolamento >= $4) AND ($5 IS NULL OR data_regolamento <= $5)";
    let like = iuf.map(|s| crate::store::like_contains(&s.to_uppercase()));
    let rows = sqlx::query_as::<_, FlussoRendicontato>(sqlx::AssertSqlSafe(format!(
        "SELECT iuf, MAX(data_ora_flusso) AS data_ora_flusso, MAX(id_regolamento) AS id_regolamento, MAX(data_regolamento) AS data_regolamento,
                COUNT(*) AS pagamenti, MAX(totale_flusso_cents) AS totale_flusso_cents
         FROM rendicontazione WHERE {filter} GROUP BY iuf ORDER BY MAX(data_regolamento) DESC, iuf LIMIT $6 OFFSET $7"
    )))
    .bind(ente)
    .bind(&like)
    .bind(id_regolamento)
    .bind(da)
    .bind(a)
    .bind(limit)
    .bind(offset)
    .fetch_all(p)
    .await?;
    let (total,): (i64,) = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT COUNT(DISTINCT iuf) FROM rendicontazione WHERE {filter}"
    )))
    .bind(ente)
    .bind(&like)
    .bind(id_regolamento)
    .bind(da)
    .bind(a)
    .fetch_one(p)
    .await?;
    Ok((rows, total))
}

/// A flow's reported payments, each with its receipt (E) when there is one.
pub async fn pagamenti_flusso(
    p: &DbPool,
    ente: &str,
    iuf: &str,
) -> StoreResult<Vec<PagamentoRendicontato>> {
    Ok(sqlx::query_as::<_, PagamentoRendicontato>(
        "SELECT r.iuv, r.iur, r.indice, r.importo_cents, r.esito, r.data_esito, e.iud, e.importo_cents AS importo_ricevuta_cents,
                e.data_esito AS data_esito_ricevuta, e.cf_pagatore, e.fonte AS fonte_ricevuta
         FROM rendicontazione r LEFT JOIN ricevuta e ON e.id_dominio = r.id_dominio AND e.iuv = r.iuv AND e.iur = r.iur AND e.indice = COALESCE(r.indice, e.indice)
         WHERE r.id_dominio = $1 AND r.iuf = $2 ORDER BY r.id",
    )
    .bind(ente)
    .bind(iuf)
    .fetch_all(p)
    .await?)
}
