// The reconciliation's views and notes (segnalazioni).
// Compiled once per backend (see the repository's mod.rs).

macro_rules! colonne_riga {
    () => {
        "SELECT r.id, r.codici, r.iud, r.iuv, r.iur, r.indice, r.iuf, r.tipo_dovuto, r.cf_pagatore, r.attestante,
    r.tesoreria_id, r.anno_bolletta, r.codice_bolletta, r.ordinante, r.conto, r.importo_notificato_cents, r.importo_pagato_cents,
    r.totale_pagato_cents, r.importo_rendicontato_cents, r.totale_flusso_cents, r.importo_tesoreria_cents, r.data_esecuzione,
    r.data_esito, r.data_regolamento, r.data_contabile, r.data_valuta, r.aggiornato_at"
    };
}
const COLONNE_RIGA: &str = colonne_riga!();
const SEL_RIGA: &str = concat!(colonne_riga!(), " FROM riconciliazione r");
/// The views' order; the same expression as the index `riconciliazione_ordine`.
const ORDINE: &str =
    " ORDER BY COALESCE(r.data_esito, r.data_valuta, r.data_esecuzione), r.iuv, r.iud, r.id";

/// A view whose matches are more than this is "dense": its page walks the order's index
/// (each page costs what precedes it) and its total says "more than this" instead of
/// counting a million lines on every page. Up to this, the matches are found through their
/// filter's own index and sorted, and counted exactly.
pub const DENSO: i64 = 20_000;

/// Which lines an operator's hidden notes concern: the hidden notes hide a line when they
/// name its code and its keys (absent keys match absent keys). Driven from the ente's notes,
/// few, through the index of the first key each note names (every note names one, never
/// blank). An IUF is ASCII (the flow's and the causale's grammar), so SQL's UPPER gives the
/// same key as the one written.
fn push_ids_nascosti(q: &mut sqlx::QueryBuilder<Db>, ente: &str) {
    let nasconde = nota_nasconde("h");
    const RAMI: [(&str, &str); 3] = [
        ("h.iuv = s.iuv", "s.iuv IS NOT NULL"),
        ("h.iud = s.iud", "s.iuv IS NULL AND s.iud IS NOT NULL"),
        (
            "h.iuf_key = UPPER(s.iuf)",
            "s.iuv IS NULL AND s.iud IS NULL AND s.iuf IS NOT NULL",
        ),
    ];
    for (i, (chiave, quali)) in RAMI.into_iter().enumerate() {
        if i > 0 {
            q.push(" UNION ALL ");
        }
        q.push(format!(
            "SELECT h.id FROM segnalazione s JOIN riconciliazione h ON h.id_dominio = s.id_dominio AND {chiave}
              WHERE s.id_dominio = "
        ))
        .push_bind(ente.to_owned())
        .push(format!(" AND {quali} AND {nasconde}"));
    }
}

/// An active hidden note `s` hides the line `riga`: it names one of the line's codes and the
/// line's keys (an absent key matches an absent key).
fn nota_nasconde(riga: &str) -> String {
    format!(
        "s.attivo AND s.nascosto AND ({riga}.codici & s.bit) <> 0
         AND COALESCE(s.iuf, '') = COALESCE({riga}.iuf, '') AND COALESCE(s.iud, '') = COALESCE({riga}.iud, '')
         AND COALESCE(s.iuv, '') = COALESCE({riga}.iuv, '')"
    )
}

/// What a search learns before it reads lines, and its filters then use.
#[derive(Default)]
struct Piano {
    /// The ente has active hidden notes (without, no line is hidden: no check).
    nascoste: bool,
    /// The combinations of codes asked, when they are few enough lines for an index on the
    /// codes to read (the bit test cannot use one).
    codici_in: Option<Vec<i64>>,
    simili: Simili,
}

/// Appends the WHERE clause of a reconciliation search (every filter optional).
fn filtro_riconciliazione(
    q: &mut sqlx::QueryBuilder<Db>,
    ente: &str,
    f: &FiltroRiconciliazione,
    piano: &Piano,
) {
    let simili = &piano.simili;
    q.push(" WHERE r.id_dominio = ").push_bind(ente.to_owned());
    match &piano.codici_in {
        Some(v) => {
            q.push(" AND r.codici IN (");
            let mut sep = q.separated(", ");
            for c in v {
                sep.push_bind(*c);
            }
            q.push(")");
        }
        None => {
            q.push(" AND (r.codici & ")
                .push_bind(f.codici as i64)
                .push(") <> 0");
        }
    }
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
    for (filtro, col, trovati) in [
        (&f.iuf, "iuf_key", &simili.iuf),
        (&f.attestante, "attestante", &simili.attestante),
        (&f.ordinante, "ordinante", &simili.ordinante),
    ] {
        let Some(v) = filtro else { continue };
        match trovati {
            Some(valori) => {
                q.push(format!(" AND r.{col} IN ("));
                let mut sep = q.separated(", ");
                for x in valori {
                    sep.push_bind(x.clone());
                }
                // No value matches: an empty IN is not SQL.
                if valori.is_empty() {
                    q.push("NULL");
                }
                q.push(")");
            }
            None => {
                let (espr, modello) = contiene(col, &format!("r.{col}"), v);
                q.push(format!(" AND {espr} LIKE "))
                    .push_bind(modello)
                    .push(crate::store::LIKE_ESCAPE);
            }
        }
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
    if f.nascosti {
        q.push(" AND r.id IN (");
        push_ids_nascosti(q, ente);
        q.push(")");
    } else if piano.nascoste {
        q.push(format!(
            " AND NOT EXISTS (SELECT 1 FROM segnalazione s WHERE s.id_dominio = r.id_dominio AND {})",
            nota_nasconde("r")
        ));
    }
}

/// The "contains" filters (IUF, attestante, ordinante), turned into the list of the
/// column's values that match, when the column has few distinct values: an index then
/// finds their lines, where the pattern would read every line of the ente. `None`: the
/// column has too many values to list, the pattern stays.
#[derive(Default)]
struct Simili {
    iuf: Option<Vec<String>>,
    attestante: Option<Vec<String>>,
    ordinante: Option<Vec<String>>,
}

/// Distinct values listed at most (each costs one probe of the column's index).
const VALORI_DISTINTI: i64 = 5_000;

/// The expression over `valore` and the pattern of a "contains" filter on `col`.
fn contiene(col: &str, valore: &str, v: &str) -> (String, String) {
    match col {
        // The IUF is searched whatever its case (iuf_key is upper case).
        "iuf_key" => (
            valore.to_owned(),
            crate::store::like_contains(&v.to_uppercase()),
        ),
        "ordinante" => (
            format!("UPPER({valore})"),
            crate::store::like_contains(&v.to_uppercase()),
        ),
        _ => (valore.to_owned(), crate::store::like_contains(v)),
    }
}

async fn simili(p: &DbPool, ente: &str, f: &FiltroRiconciliazione) -> StoreResult<Simili> {
    Ok(Simili {
        iuf: valori_simili(p, ente, "iuf_key", f.iuf.as_deref()).await?,
        attestante: valori_simili(p, ente, "attestante", f.attestante.as_deref()).await?,
        ordinante: valori_simili(p, ente, "ordinante", f.ordinante.as_deref()).await?,
    })
}

/// The values of `col` (indexed with the ente first) that contain `v`, walking the index
/// from one distinct value to the next; `None` past [`VALORI_DISTINTI`] values.
/// (`IS NOT NULL` on the first step: the index is partial, and SQLite takes it for the
/// MIN only when the query says so.)
async fn valori_simili(
    p: &DbPool,
    ente: &str,
    col: &str,
    v: Option<&str>,
) -> StoreResult<Option<Vec<String>>> {
    let Some(v) = v else { return Ok(None) };
    let (espr, modello) = contiene(col, "x", v);
    let sql = format!(
        "WITH RECURSIVE v(x, k) AS (
           SELECT (SELECT MIN({col}) FROM riconciliazione WHERE id_dominio = $1 AND {col} IS NOT NULL), 1
           UNION ALL
           SELECT (SELECT MIN({col}) FROM riconciliazione WHERE id_dominio = $1 AND {col} > v.x), k + 1
             FROM v WHERE v.x IS NOT NULL AND k <= $3
         )
         SELECT x, k > $3 FROM v WHERE k > $3 OR {} LIKE $2{}",
        espr,
        crate::store::LIKE_ESCAPE
    );
    let righe: Vec<(Option<String>, bool)> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(ente)
        .bind(modello)
        .bind(VALORI_DISTINTI)
        .fetch_all(p)
        .await?;
    if righe.iter().any(|r| r.1) {
        return Ok(None);
    }
    Ok(Some(righe.into_iter().filter_map(|r| r.0).collect()))
}

/// Whether the ente has any active hidden note (most have none).
async fn ha_nascoste(p: &DbPool, ente: &str) -> StoreResult<bool> {
    let row: Option<(i64,)> = sqlx::query_as(
        "SELECT id FROM segnalazione WHERE id_dominio = $1 AND attivo AND nascosto LIMIT 1",
    )
    .bind(ente)
    .fetch_optional(p)
    .await?;
    Ok(row.is_some())
}

/// A page of the view, its total (a floor past [`DENSO`] filtered lines) and the counts
/// per code it was read with.
pub async fn search_riconciliazione(
    p: &DbPool,
    ente: &str,
    f: &FiltroRiconciliazione,
    limit: i64,
    offset: i64,
) -> StoreResult<PaginaRiconciliazione> {
    let conteggi = conteggi_riconciliazione(p, ente).await?;
    let pagina = |righe, total, total_esatto| PaginaRiconciliazione {
        righe,
        total,
        total_esatto,
        conteggi: conteggi.clone(),
    };
    let nascoste = ha_nascoste(p, ente).await?;
    let (mut scelti, mut dei_codici) = (Vec::new(), 0);
    for (m, n) in conteggi.iter().filter(|(m, _)| m & f.codici != 0) {
        scelti.push(*m as i64);
        dei_codici += n;
    }
    if dei_codici == 0 || (f.nascosti && !nascoste) {
        return Ok(pagina(Vec::new(), 0, true));
    }
    let piano = Piano {
        nascoste,
        // Where the codes are selective (an anomaly's few lines under a broad filter).
        codici_in: (dei_codici <= DENSO).then_some(scelti),
        simili: simili(p, ente, f).await?,
    };
    // Only the codes asked: the total is the maintained counts' (less the hidden lines).
    let (total, esatto) = if f.solo_codici() {
        let mut total = dei_codici;
        if nascoste {
            let mut q = sqlx::QueryBuilder::<Db>::new(
                "SELECT COUNT(*) FROM riconciliazione r WHERE r.id IN (",
            );
            push_ids_nascosti(&mut q, ente);
            q.push(") AND (r.codici & ")
                .push_bind(f.codici as i64)
                .push(") <> 0");
            let (n,): (i64,) = q.build_query_as().fetch_one(p).await?;
            total -= n;
        }
        (total, true)
    } else {
        let mut q =
            sqlx::QueryBuilder::<Db>::new("SELECT COUNT(*) FROM (SELECT 1 FROM riconciliazione r");
        filtro_riconciliazione(&mut q, ente, f, &piano);
        q.push(" LIMIT ").push_bind(DENSO + 1).push(") m");
        let n = conta_fino(p, q).await?;
        (n.min(DENSO), n <= DENSO)
    };
    if total == 0 || (esatto && offset >= total) {
        return Ok(pagina(Vec::new(), total, esatto));
    }
    let righe = if esatto && total <= DENSO {
        // Few: found through their filter's index (no ORDER BY inside the fence to tempt a
        // planner onto the order's index), then sorted.
        let mut q = sqlx::QueryBuilder::<Db>::new("WITH m AS MATERIALIZED (");
        q.push(SEL_RIGA);
        filtro_riconciliazione(&mut q, ente, f, &piano);
        q.push(" LIMIT ")
            .push_bind(DENSO + 1)
            .push(") SELECT r.* FROM m r")
            .push(ORDINE)
            .push(" LIMIT ")
            .push_bind(limit)
            .push(" OFFSET ")
            .push_bind(offset);
        q.build_query_as::<RigaRiconciliazione>()
            .fetch_all(p)
            .await?
    } else {
        // Many: the order's index walked, the filters checked on the way (the codes are
        // not selective here: `codici_in` is unset).
        let mut q = sqlx::QueryBuilder::<Db>::new(COLONNE_RIGA);
        q.push(DA_ORDINE);
        filtro_riconciliazione(&mut q, ente, f, &piano);
        q.push(ORDINE)
            .push(" LIMIT ")
            .push_bind(limit)
            .push(" OFFSET ")
            .push_bind(offset);
        in_ordine(p, q).await?
    };
    Ok(pagina(righe, total, esatto))
}

/// The next page of an export, in id order (keyset: never an OFFSET over a large result).
pub async fn pagina_riconciliazione(
    p: &DbPool,
    ente: &str,
    f: &FiltroRiconciliazione,
    dopo: i64,
    limit: i64,
) -> StoreResult<Vec<RigaRiconciliazione>> {
    let piano = Piano {
        nascoste: ha_nascoste(p, ente).await?,
        ..Piano::default()
    };
    let mut q = sqlx::QueryBuilder::<Db>::new(SEL_RIGA);
    filtro_riconciliazione(&mut q, ente, f, &piano);
    q.push(" AND r.id > ")
        .push_bind(dopo)
        .push(" ORDER BY r.id LIMIT ")
        .push_bind(limit);
    Ok(q.build_query_as::<RigaRiconciliazione>()
        .fetch_all(p)
        .await?)
}

/// How many lines (hidden ones too) carry each combination of codes: the maintained counts.
pub async fn conteggi_riconciliazione(p: &DbPool, ente: &str) -> StoreResult<Vec<(u64, i64)>> {
    let mut out = Vec::new();
    let rows: Vec<(i64, i64)> = sqlx::query_as(
        "SELECT codici, n FROM riconciliazione_conteggio WHERE id_dominio = $1 AND n > 0",
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

/// `<select> WHERE <the filters of the receipts' view>`. The ente as [`ente!`]: with its
/// value in the plan, a search by IUV of an ente the statistics do not know walked the
/// ente's receipts in date order, filtering them, instead of probing the receipts' key.
pub(crate) fn filtro_ricevute(
    select: &str,
    ente: &str,
    f: &FiltroRicevute,
) -> sqlx::QueryBuilder<Db> {
    let mut q = sqlx::QueryBuilder::<Db>::new(select);
    q.push(" WHERE id_dominio = ");
    push_ente(&mut q, ente);
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
}

/// The order and page of the receipts' view.
pub(crate) fn pagina_ricevute(q: &mut sqlx::QueryBuilder<Db>, limit: i64, offset: i64) {
    q.push(" ORDER BY data_esito, iuv, iud, id LIMIT ")
        .push_bind(limit)
        .push(" OFFSET ")
        .push_bind(offset);
}

/// Ricevute telematiche: the staged receipts.
pub async fn search_ricevute(
    p: &DbPool,
    ente: &str,
    f: &FiltroRicevute,
    limit: i64,
    offset: i64,
) -> StoreResult<(Vec<RicevutaStaged>, i64)> {
    let mut q = filtro_ricevute(SEL_RICEVUTA, ente, f);
    pagina_ricevute(&mut q, limit, offset);
    let rows = q.build_query_as::<RicevutaStaged>().fetch_all(p).await?;
    let (total,): (i64,) = filtro_ricevute("SELECT COUNT(*) FROM ricevuta", ente, f)
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

/// The statement of [`pagamenti_flusso`] (`$1` ente, `$2` IUF).
pub(crate) const PAGAMENTI_FLUSSO: &str = concat!(
    "SELECT r.iuv, r.iur, r.indice, r.importo_cents, r.esito, r.data_esito, e.iud, e.importo_cents AS importo_ricevuta_cents,
            e.data_esito AS data_esito_ricevuta, e.cf_pagatore, e.fonte AS fonte_ricevuta
     FROM rendicontazione r LEFT JOIN ricevuta e ON e.id_dominio = r.id_dominio AND e.iuv = r.iuv AND e.iur = r.iur AND e.indice = COALESCE(r.indice, e.indice)
     WHERE r.id_dominio = ",
    ente!(1),
    " AND r.iuf = $2 ORDER BY r.id"
);

/// A flow's reported payments, each with its receipt (E) when there is one.
pub async fn pagamenti_flusso(
    p: &DbPool,
    ente: &str,
    iuf: &str,
) -> StoreResult<Vec<PagamentoRendicontato>> {
    Ok(sqlx::query_as::<_, PagamentoRendicontato>(PAGAMENTI_FLUSSO)
        .bind(ente)
        .bind(iuf)
        .fetch_all(p)
        .await?)
}
