// Statistics (docs/riconciliazione.md §8): the daily aggregates, their stale days and
// refresh, the cells and the drill-down.
// Compiled once per backend (see the repository's mod.rs).

use crate::recon::motore;

/// Where a measure's rows live (see [`fonte`]).
struct Fonte {
    /// The date column the measure is counted by.
    data: &'static str,
    /// The FROM, with the receipt as `e` (and the reconciled line as `r`).
    from: &'static str,
    /// The code bits a line must carry (none for receipts).
    bits: Option<i64>,
    /// Which receipts count: attested ones for `Pagati`, esito-9 stand-ins for
    /// `SenzaRicevuta` (a stand-in never coexists with a receipt of its IUV).
    ricevute: &'static str,
}

fn fonte(m: Misura) -> Fonte {
    use crate::recon::classifica::Codice;
    const RIGHE: &str = "riconciliazione r JOIN ricevuta e ON e.id_dominio = r.id_dominio AND e.iuv = r.iuv AND e.iur = r.iur AND e.indice = r.indice";
    let ricevute = |data, ricevute| Fonte {
        data,
        from: "ricevuta e",
        bits: None,
        ricevute,
    };
    let righe = |data, bits: u64| Fonte {
        data,
        from: RIGHE,
        bits: Some(bits as i64),
        ricevute: "",
    };
    match m {
        Misura::Pagati => ricevute("e.data_esito", " AND e.fonte <> 'SURROGATO'"),
        Misura::SenzaRicevuta => ricevute("e.data_esito", " AND e.fonte = 'SURROGATO'"),
        Misura::Rendicontati => righe("r.data_regolamento", Codice::RT_IUF.bit()),
        Misura::Incassati => righe(
            "r.data_valuta",
            Codice::RT_IUF_TES.bit() | Codice::RT_TES.bit(),
        ),
    }
}

/// ` AND <col> = <day>` for one day (the planner then knows the selectivity), else
/// ` AND <col> IN (<days>)`.
fn push_in_giorni(q: &mut sqlx::QueryBuilder<Db>, col: &str, giorni: &BTreeSet<Date>) {
    match giorni.iter().next() {
        Some(g) if giorni.len() == 1 => {
            q.push(format!(" AND {col} = ")).push_bind(*g);
        }
        _ => {
            q.push(format!(" AND {col} IN ("));
            push_giorni(q, giorni);
            q.push(")");
        }
    }
}

/// Marks days whose aggregates are stale, in the caller's transaction. Marks are only
/// added (migration 0019): a concurrent refresh never makes this wait, and never takes
/// a mark of a change it could not see.
pub async fn tx_sporca_giorni(
    c: &mut Conn,
    ente: &str,
    giorni: &BTreeSet<Date>,
) -> StoreResult<()> {
    if giorni.is_empty() {
        return Ok(());
    }
    let mut q =
        sqlx::QueryBuilder::<Db>::new("INSERT INTO statistica_sporca (id_dominio, giorno) SELECT ");
    q.push_bind(ente.to_owned()).push(", g.value FROM (");
    push_giorni(&mut q, giorni);
    q.push(if IS_POSTGRES {
        ") AS g (value)"
    } else {
        ") AS g"
    });
    q.push(" WHERE g.value IS NOT NULL");
    q.build().execute(&mut *c).await?;
    Ok(())
}

/// The days new reconciled rows bring.
pub fn giorni_di<'r, 'a: 'r>(
    righe: impl IntoIterator<Item = &'r motore::Riga<'a>>,
) -> BTreeSet<Date> {
    let mut out = BTreeSet::new();
    for r in righe {
        out.extend(r.data_esito);
        out.extend(r.data_regolamento);
        out.extend(r.tesoreria.as_ref().map(|t| t.data_valuta));
    }
    out
}

/// The days of receipts' measures: their data esito and their lines' dates.
async fn tx_sporca_ricevute(c: &mut Conn, ente: &str, ricevute: &[i64]) -> StoreResult<()> {
    if ricevute.is_empty() {
        return Ok(());
    }
    let mut q = sqlx::QueryBuilder::<Db>::new(
        "INSERT INTO statistica_sporca (id_dominio, giorno) SELECT DISTINCT id_dominio, g FROM (SELECT e.id_dominio, e.data_esito AS g FROM ricevuta e WHERE ",
    );
    push_in(&mut q, "e.id", ricevute);
    for col in ["data_regolamento", "data_valuta"] {
        // CROSS JOIN fixes SQLite's join order: from the import's own receipts (by rowid)
        // to their lines, never a scan of the ente's lines probing each receipt (20 s on
        // a region's month when the receipts come after the flows). PostgreSQL plans it as
        // an inner join.
        q.push(format!(" UNION ALL SELECT r.id_dominio, r.{col} AS g FROM ricevuta e CROSS JOIN riconciliazione r WHERE r.id_dominio = e.id_dominio AND r.iuv = e.iuv AND r.iur = e.iur AND r.indice = e.indice AND "));
        push_in(&mut q, "e.id", ricevute);
    }
    q.push(") x WHERE g IS NOT NULL AND id_dominio = ")
        .push_bind(ente.to_owned());
    q.build().execute(&mut *c).await?;
    Ok(())
}

/// Recomputes the aggregates of the ente's stale days, in one transaction. Instances
/// sharing the database take turns (advisory lock). The marks deleted are those the
/// DELETE sees; the recomputation's later statements see at least what those marks
/// stood for. A mark committed after the DELETE's snapshot stays for the next refresh.
pub async fn stat_refresh(p: &DbPool, ente: &str) -> StoreResult<usize> {
    let mut tx = begin_write(p).await?;
    if IS_POSTGRES {
        // Waiting for another instance's turn is expected (a rebuild takes seconds):
        // no lock deadline for the rest of this transaction.
        sqlx::query("SET LOCAL lock_timeout = 0")
            .execute(&mut *tx)
            .await?;
        sqlx::query("SELECT pg_advisory_xact_lock(hashtext('stat:' || $1))")
            .bind(ente)
            .execute(&mut *tx)
            .await?;
    }
    let giorni: Vec<(Date,)> =
        sqlx::query_as("DELETE FROM statistica_sporca WHERE id_dominio = $1 RETURNING giorno")
            .bind(ente)
            .fetch_all(&mut *tx)
            .await?;
    if giorni.is_empty() {
        tx.rollback().await?;
        return Ok(0);
    }
    let giorni: BTreeSet<Date> = giorni.into_iter().map(|g| g.0).collect();
    if IS_POSTGRES {
        // Small, selective statements: compiling them would cost more than running them.
        sqlx::query("SET LOCAL jit = off").execute(&mut *tx).await?;
    }
    // A few days (the usual case): one day at a time, so each statement reads that day's
    // rows through the date indexes; many days (a first build): set-based, by hash joins.
    if giorni.len() <= 31 {
        for g in &giorni {
            stat_ricalcola(&mut tx, ente, &BTreeSet::from([*g])).await?;
        }
    } else {
        stat_ricalcola(&mut tx, ente, &giorni).await?;
    }
    tx.commit().await?;
    Ok(giorni.len())
}

/// Replaces the aggregates of the given days (both levels, every measure).
async fn stat_ricalcola(c: &mut Conn, ente: &str, giorni: &BTreeSet<Date>) -> StoreResult<()> {
    let mut q = sqlx::QueryBuilder::<Db>::new("DELETE FROM statistica WHERE id_dominio = ");
    q.push_bind(ente.to_owned());
    push_in_giorni(&mut q, "giorno", giorni);
    q.build().execute(&mut *c).await?;
    for misura in Misura::TUTTE {
        let Fonte {
            data,
            from,
            bits,
            ricevute,
        } = fonte(misura);
        let alias = if bits.is_some() { "r" } else { "e" };
        for livello in ["E", "A"] {
            let (dims, join, importo) = if livello == "E" {
                (
                    "'', '', '', ''",
                    String::new(),
                    if bits.is_some() {
                        "r.importo_pagato_cents"
                    } else {
                        "e.importo_cents"
                    },
                )
            } else {
                (
                    "a.tipo_dovuto, p.cod_ufficio, p.cod_capitolo, p.cod_accertamento",
                    " JOIN accertamento_pagamento p ON p.ricevuta_id = e.id JOIN accertamento a ON a.id = p.accertamento_id AND a.stato = 'CHIUSO'".to_owned(),
                    "p.importo_cents",
                )
            };
            let mut q = sqlx::QueryBuilder::<Db>::new(format!(
                "INSERT INTO statistica (id_dominio, giorno, livello, misura, tipo_dovuto, cod_ufficio, cod_capitolo, cod_accertamento, anno, mese, importo_cents, numero)
                 SELECT {alias}.id_dominio, {data}, '{livello}', '{m}', {dims}, {anno}, {mese}, CAST(SUM({importo}) AS BIGINT), COUNT(*)
                 FROM {from}{join} WHERE {alias}.id_dominio = ",
                // The ente's totals of lines need no receipt: a line carrying RT_IUF or a
                // cashed code has one, and its amount.
                from = if livello == "E" && bits.is_some() { "riconciliazione r" } else { from },
                m = misura.codice(),
                anno = anno_di(data),
                mese = mese_di(data),
            ));
            q.push_bind(ente.to_owned());
            if bits.is_some() && livello == "A" {
                // The receipt's own ente (the join is on it already; this helps the planner).
                q.push(" AND e.id_dominio = ").push_bind(ente.to_owned());
            }
            push_in_giorni(&mut q, data, giorni);
            q.push(ricevute);
            if let Some(b) = bits {
                q.push(" AND (r.codici & ").push_bind(b).push(") <> 0");
            }
            q.push(format!(" GROUP BY {alias}.id_dominio, {data}"));
            if livello == "A" {
                q.push(", a.tipo_dovuto, p.cod_ufficio, p.cod_capitolo, p.cod_accertamento");
            }
            q.build().execute(&mut *c).await?;
        }
    }
    Ok(())
}

pub async fn stat_sporca_presente(p: &DbPool, ente: &str) -> StoreResult<bool> {
    let r: Option<(i32,)> =
        sqlx::query_as("SELECT 1 FROM statistica_sporca WHERE id_dominio = $1 LIMIT 1")
            .bind(ente)
            .fetch_optional(p)
            .await?;
    Ok(r.is_some())
}

/// Enti with stale days (for the background refresh).
pub async fn stat_in_attesa(p: &DbPool) -> StoreResult<Vec<String>> {
    let rows: Vec<(String,)> = sqlx::query_as("SELECT DISTINCT id_dominio FROM statistica_sporca")
        .fetch_all(p)
        .await?;
    Ok(rows.into_iter().map(|r| r.0).collect())
}

/// The aggregates of a period, summed per period unit and breakdown.
pub async fn statistiche(
    p: &DbPool,
    ente: &str,
    r: &RichiestaStatistica,
) -> StoreResult<Vec<Aggregato>> {
    let dims = r.dimensione.colonne();
    let col = |c: &str| {
        if dims.contains(&c) {
            c.to_owned()
        } else {
            format!("'' AS {c}")
        }
    };
    let (periodo_sel, periodo_grp) = match r.granularita {
        Granularita::Anno => ("anno, CAST(0 AS BIGINT) AS mese, NULL AS giorno", "anno"),
        Granularita::Mese => ("anno, mese, NULL AS giorno", "anno, mese"),
        Granularita::Giorno => ("anno, mese, giorno", "anno, mese, giorno"),
    };
    let giorno_null = if IS_POSTGRES {
        periodo_sel.replace("NULL AS giorno", "CAST(NULL AS DATE) AS giorno")
    } else {
        periodo_sel.to_owned()
    };
    let mut q = sqlx::QueryBuilder::<Db>::new(format!(
        "SELECT {giorno_null}, {}, {}, {}, {}, misura, CAST(SUM(importo_cents) AS BIGINT) AS importo_cents, CAST(SUM(numero) AS BIGINT) AS numero
         FROM statistica WHERE id_dominio = ",
        col("tipo_dovuto"),
        col("cod_ufficio"),
        col("cod_capitolo"),
        col("cod_accertamento"),
    ));
    q.push_bind(ente.to_owned())
        .push(" AND livello = ")
        .push_bind(r.dimensione.livello());
    if let Some(d) = r.da {
        q.push(" AND giorno >= ").push_bind(d);
    }
    if let Some(d) = r.a {
        q.push(" AND giorno <= ").push_bind(d);
    }
    for (c, v) in [
        ("tipo_dovuto", &r.tipo_dovuto),
        ("cod_ufficio", &r.cod_ufficio),
        ("cod_capitolo", &r.cod_capitolo),
        ("cod_accertamento", &r.cod_accertamento),
    ] {
        if let Some(v) = v {
            q.push(format!(" AND {c} = ")).push_bind(v.clone());
        }
    }
    if r.dimensione == Dimensione::Accertamento {
        q.push(" AND cod_accertamento <> ")
            .push_bind(crate::model::bilancio::NA);
    }
    q.push(format!(" GROUP BY {periodo_grp}"));
    for d in dims {
        q.push(format!(", {d}"));
    }
    q.push(format!(", misura ORDER BY {periodo_grp}"));
    for d in dims {
        q.push(format!(", {d}"));
    }
    Ok(q.build_query_as::<Aggregato>().fetch_all(p).await?)
}

/// The receipts behind a statistics cell (drill-down), a page at a time. The cell's
/// per-day counts come from the aggregates, so the total is free and a page reads only
/// the days it spans, each through its date index.
pub async fn righe_statistica(
    p: &DbPool,
    ente: &str,
    misura: Misura,
    r: &RichiestaStatistica,
    limit: i64,
    offset: i64,
) -> StoreResult<(Vec<RigaStatistica>, i64)> {
    let dettaglio = r.dimensione != Dimensione::Totale
        || r.tipo_dovuto.is_some()
        || r.cod_ufficio.is_some()
        || r.cod_capitolo.is_some()
        || r.cod_accertamento.is_some();
    let dims = [
        ("tipo_dovuto", &r.tipo_dovuto),
        ("cod_ufficio", &r.cod_ufficio),
        ("cod_capitolo", &r.cod_capitolo),
        ("cod_accertamento", &r.cod_accertamento),
    ];
    let mut q = sqlx::QueryBuilder::<Db>::new(
        "SELECT giorno, CAST(SUM(numero) AS BIGINT) FROM statistica WHERE id_dominio = ",
    );
    q.push_bind(ente.to_owned())
        .push(" AND livello = ")
        .push_bind(if dettaglio { "A" } else { "E" });
    q.push(" AND misura = ").push_bind(misura.codice());
    if let Some(d) = r.da {
        q.push(" AND giorno >= ").push_bind(d);
    }
    if let Some(d) = r.a {
        q.push(" AND giorno <= ").push_bind(d);
    }
    for (c, v) in dims {
        if let Some(v) = v {
            q.push(format!(" AND {c} = ")).push_bind(v.clone());
        }
    }
    if r.dimensione == Dimensione::Accertamento {
        q.push(" AND cod_accertamento <> ")
            .push_bind(crate::model::bilancio::NA);
    }
    q.push(" GROUP BY giorno ORDER BY giorno");
    let giorni: Vec<(Date, i64)> = q.build_query_as().fetch_all(p).await?;
    let total = giorni.iter().map(|g| g.1).sum();

    let Fonte {
        data,
        from,
        bits,
        ricevute,
    } = fonte(misura);
    // In the order of the day's date index (IUV), so a page stops early.
    let chiave = if bits.is_some() {
        "r.iuv, r.id"
    } else {
        "e.iuv, e.id"
    };
    let (importo, codici, ordine) = if dettaglio {
        (
            "p.importo_cents",
            "p.cod_ufficio, p.cod_capitolo, p.cod_accertamento",
            format!("{chiave}, p.id"),
        )
    } else if bits.is_some() {
        (
            "r.importo_pagato_cents",
            "NULL AS cod_ufficio, NULL AS cod_capitolo, NULL AS cod_accertamento",
            chiave.to_owned(),
        )
    } else {
        (
            "e.importo_cents",
            "NULL AS cod_ufficio, NULL AS cod_capitolo, NULL AS cod_accertamento",
            chiave.to_owned(),
        )
    };
    let codici = if IS_POSTGRES {
        codici.replace("NULL AS", "CAST(NULL AS TEXT) AS")
    } else {
        codici.to_owned()
    };
    let mut out = Vec::new();
    let mut salta = offset;
    for (g, n) in giorni {
        if salta >= n {
            salta -= n;
            continue;
        }
        let mut q = sqlx::QueryBuilder::<Db>::new(format!(
            "SELECT e.id AS ricevuta_id, e.iuv, e.iur, e.indice, e.iud, e.tipo_dovuto, e.cf_pagatore, {data} AS data, {importo} AS importo_cents, {codici} FROM {from}"
        ));
        if dettaglio {
            q.push(" JOIN accertamento_pagamento p ON p.ricevuta_id = e.id JOIN accertamento a ON a.id = p.accertamento_id AND a.stato = 'CHIUSO'");
        }
        q.push(" WHERE e.id_dominio = ").push_bind(ente.to_owned());
        q.push(format!(" AND {data} = ")).push_bind(g);
        q.push(ricevute);
        if let Some(b) = bits {
            q.push(" AND (r.codici & ").push_bind(b).push(") <> 0");
        }
        for (c, v) in dims {
            if let Some(v) = v {
                q.push(format!(
                    " AND {} = ",
                    if c == "tipo_dovuto" {
                        "a.tipo_dovuto".to_owned()
                    } else {
                        format!("p.{c}")
                    }
                ))
                .push_bind(v.clone());
            }
        }
        if r.dimensione == Dimensione::Accertamento {
            q.push(" AND p.cod_accertamento <> ")
                .push_bind(crate::model::bilancio::NA);
        }
        q.push(format!(" ORDER BY {ordine} LIMIT "))
            .push_bind(limit - out.len() as i64)
            .push(" OFFSET ")
            .push_bind(salta);
        salta = 0;
        out.extend(q.build_query_as::<RigaStatistica>().fetch_all(p).await?);
        if out.len() as i64 >= limit {
            break;
        }
    }
    Ok((out, total))
}
