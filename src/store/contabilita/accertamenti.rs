// Accertamenti (docs/riconciliazione.md §7): their life cycle and payments, the automatic
// accertamenti of receipts with a bilancio, and the date helpers the chart and the
// statistics share.
// Compiled once per backend (see the repository's mod.rs).
use std::collections::HashSet;

use crate::recon::accertamenti::{self as acc, AzioneCapitolo, RigaCapitolo, StatoAccertamento};
use crate::recon::statistiche::{Dimensione, Granularita, Misura};
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// `SELECT <each date>` from one bound JSON array of ISO dates.
fn push_giorni(q: &mut sqlx::QueryBuilder<Db>, giorni: &BTreeSet<Date>) {
    let json = serde_json::to_string(&giorni.iter().map(|d| d.to_string()).collect::<Vec<_>>())
        .expect("dates serialize");
    if IS_POSTGRES {
        q.push("SELECT json_array_elements_text(")
            .push_bind(json)
            .push("::json)::date");
    } else {
        q.push("SELECT value FROM json_each(")
            .push_bind(json)
            .push(")");
    }
}

fn anno_di(col: &str) -> String {
    if IS_POSTGRES {
        format!("CAST(EXTRACT(YEAR FROM {col}) AS BIGINT)")
    } else {
        format!("CAST(strftime('%Y', {col}) AS INTEGER)")
    }
}

fn mese_di(col: &str) -> String {
    if IS_POSTGRES {
        format!("CAST(EXTRACT(MONTH FROM {col}) AS BIGINT)")
    } else {
        format!("CAST(strftime('%m', {col}) AS INTEGER)")
    }
}

const SEL_ACC: &str = "SELECT a.id, a.id_dominio, a.tipo_dovuto, a.nome, a.stato, a.chiave_automatica IS NOT NULL AS automatico, a.utente,
    (SELECT COUNT(*) FROM accertamento_pagamento p WHERE p.accertamento_id = a.id) AS pagamenti,
    COALESCE((SELECT CAST(SUM(p.importo_cents) AS BIGINT) FROM accertamento_pagamento p WHERE p.accertamento_id = a.id), 0) AS totale_cents,
    a.created_at, a.updated_at FROM accertamento a";

async fn tx_storia(
    c: &mut Conn,
    id: i64,
    azione: &str,
    dettaglio: &str,
    utente: &str,
    now: OffsetDateTime,
) -> StoreResult<()> {
    sqlx::query("INSERT INTO accertamento_storia (accertamento_id, azione, dettaglio, utente, at) VALUES ($1, $2, $3, $4, $5)")
        .bind(id)
        .bind(azione)
        .bind(dettaglio)
        .bind(utente)
        .bind(now)
        .execute(&mut *c)
        .await?;
    Ok(())
}

pub async fn create_accertamento(
    p: &DbPool,
    ente: &str,
    nome: &str,
    tipo: &str,
    utente: &str,
    now: OffsetDateTime,
) -> StoreResult<i64> {
    let mut tx = begin_write(p).await?;
    let (id,): (i64,) = sqlx::query_as(
        "INSERT INTO accertamento (id_dominio, tipo_dovuto, nome, stato, utente, created_at, updated_at) VALUES ($1, $2, $3, 'INSERITO', $4, $5, $5) RETURNING id",
    )
    .bind(ente)
    .bind(tipo)
    .bind(nome)
    .bind(utente)
    .bind(now)
    .fetch_one(&mut *tx)
    .await?;
    tx_storia(
        &mut tx,
        id,
        "CREATO",
        &format!("nome '{nome}', tipo dovuto {tipo}"),
        utente,
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

pub async fn list_accertamenti(
    p: &DbPool,
    ente: &str,
    stato: Option<&str>,
    tipo: Option<&str>,
    nome: Option<&str>,
    limit: i64,
    offset: i64,
) -> StoreResult<(Vec<Accertamento>, i64)> {
    let build = |select: &str| {
        let mut q = sqlx::QueryBuilder::<Db>::new(select);
        q.push(" WHERE a.id_dominio = ").push_bind(ente.to_owned());
        if let Some(s) = stato {
            q.push(" AND a.stato = ").push_bind(s.to_owned());
        }
        if let Some(t) = tipo {
            q.push(" AND a.tipo_dovuto = ").push_bind(t.to_owned());
        }
        if let Some(n) = nome {
            q.push(" AND UPPER(a.nome) LIKE ")
                .push_bind(crate::store::like_contains(&n.to_uppercase()))
                .push(crate::store::LIKE_ESCAPE);
        }
        q
    };
    let mut q = build(SEL_ACC);
    q.push(" ORDER BY a.updated_at DESC, a.id DESC LIMIT ")
        .push_bind(limit)
        .push(" OFFSET ")
        .push_bind(offset);
    let rows = q.build_query_as::<Accertamento>().fetch_all(p).await?;
    let (total,): (i64,) = build("SELECT COUNT(*) FROM accertamento a")
        .build_query_as()
        .fetch_one(p)
        .await?;
    Ok((rows, total))
}

async fn tx_get_accertamento(c: &mut Conn, ente: &str, id: i64) -> StoreResult<Accertamento> {
    sqlx::query_as::<_, Accertamento>(sqlx::AssertSqlSafe(format!(
        "{SEL_ACC} WHERE a.id_dominio = $1 AND a.id = $2"
    )))
    .bind(ente)
    .bind(id)
    .fetch_optional(&mut *c)
    .await?
    .ok_or(StoreError::NotFound)
}

pub async fn get_accertamento(
    p: &DbPool,
    ente: &str,
    id: i64,
) -> StoreResult<AccertamentoDettaglio> {
    let mut c = p.acquire().await?;
    let accertamento = tx_get_accertamento(&mut c, ente, id).await?;
    let righe = sqlx::query_as::<_, PagamentoAccertato>(
        "SELECT p.id, p.ricevuta_id, e.iuv, e.iur, e.indice, e.iud, e.cf_pagatore, e.data_esito, p.anno, p.cod_ufficio, p.cod_capitolo,
                p.cod_accertamento, p.importo_cents, p.utente
         FROM accertamento_pagamento p JOIN ricevuta e ON e.id = p.ricevuta_id WHERE p.accertamento_id = $1 ORDER BY e.data_esito, e.iuv, p.id",
    )
    .bind(id)
    .fetch_all(&mut *c)
    .await?;
    let storia = sqlx::query_as::<_, StoriaAccertamento>("SELECT azione, dettaglio, utente, at FROM accertamento_storia WHERE accertamento_id = $1 ORDER BY id")
        .bind(id)
        .fetch_all(&mut *c)
        .await?;
    Ok(AccertamentoDettaglio {
        accertamento,
        righe,
        storia,
    })
}

/// Locks an accertamento for a change and checks it is still INSERITO.
async fn tx_modificabile(c: &mut Conn, ente: &str, id: i64) -> StoreResult<Accertamento> {
    if IS_POSTGRES {
        sqlx::query("SELECT id FROM accertamento WHERE id = $1 FOR UPDATE")
            .bind(id)
            .execute(&mut *c)
            .await?;
    }
    let a = tx_get_accertamento(c, ente, id).await?;
    let stato = StatoAccertamento::parse(&a.stato)
        .ok_or_else(|| StoreError::Corrupt(format!("stato accertamento {}", a.stato)))?;
    if !stato.modificabile() {
        return Err(StoreError::Conflict(format!(
            "accertamento in stato {}: non modificabile",
            a.stato
        )));
    }
    Ok(a)
}

pub async fn update_accertamento(
    p: &DbPool,
    ente: &str,
    id: i64,
    nome: Option<&str>,
    tipo: Option<&str>,
    utente: &str,
    now: OffsetDateTime,
) -> StoreResult<()> {
    let mut tx = begin_write(p).await?;
    let a = tx_modificabile(&mut tx, ente, id).await?;
    if let Some(t) = tipo.filter(|t| *t != a.tipo_dovuto) {
        if a.pagamenti > 0 {
            return Err(StoreError::Conflict(
                "il tipo dovuto cambia solo senza pagamenti associati".into(),
            ));
        }
        sqlx::query("UPDATE accertamento SET tipo_dovuto = $1, updated_at = $2, version = version + 1 WHERE id = $3").bind(t).bind(now).bind(id).execute(&mut *tx).await?;
        tx_storia(
            &mut tx,
            id,
            "MODIFICATO",
            &format!("tipo dovuto {} → {t}", a.tipo_dovuto),
            utente,
            now,
        )
        .await?;
    }
    if let Some(n) = nome.filter(|n| *n != a.nome) {
        sqlx::query("UPDATE accertamento SET nome = $1, updated_at = $2, version = version + 1 WHERE id = $3").bind(n).bind(now).bind(id).execute(&mut *tx).await?;
        tx_storia(
            &mut tx,
            id,
            "MODIFICATO",
            &format!("nome '{}' → '{n}'", a.nome),
            utente,
            now,
        )
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Receipts of the accertamento's tipo dovuto, without a bilancio (those are booked
/// automatically), not in a live accertamento.
pub async fn candidati(
    p: &DbPool,
    ente: &str,
    id: i64,
    f: &FiltroCandidati,
    limit: i64,
    offset: i64,
) -> StoreResult<(Vec<RicevutaStaged>, i64)> {
    let mut c = p.acquire().await?;
    let a = tx_get_accertamento(&mut c, ente, id).await?;
    let build = |select: &str| {
        let mut q = sqlx::QueryBuilder::<Db>::new(select);
        q.push(" WHERE e.id_dominio = ")
            .push_bind(ente.to_owned())
            .push(" AND e.tipo_dovuto = ")
            .push_bind(a.tipo_dovuto.clone());
        q.push(" AND e.bilancio IS NULL AND NOT EXISTS (SELECT 1 FROM accertamento_pagamento p JOIN accertamento x ON x.id = p.accertamento_id WHERE p.ricevuta_id = e.id AND x.stato <> 'ANNULLATO')");
        for (col, v) in [
            ("e.iud", &f.iud),
            ("e.iuv", &f.iuv),
            ("e.cf_pagatore", &f.cf_pagatore),
        ] {
            if let Some(v) = v {
                q.push(format!(" AND {col} = ")).push_bind(v.clone());
            }
        }
        if let Some(d) = f.data_esito_da {
            q.push(" AND e.data_esito >= ").push_bind(d);
        }
        if let Some(d) = f.data_esito_a {
            q.push(" AND e.data_esito <= ").push_bind(d);
        }
        q
    };
    let mut q = build(&format!("{SEL_RICEVUTA} e"));
    q.push(" ORDER BY e.data_esito, e.iuv, e.iud, e.id LIMIT ")
        .push_bind(limit)
        .push(" OFFSET ")
        .push_bind(offset);
    let rows = q
        .build_query_as::<RicevutaStaged>()
        .fetch_all(&mut *c)
        .await?;
    let (total,): (i64,) = build("SELECT COUNT(*) FROM ricevuta e")
        .build_query_as()
        .fetch_one(&mut *c)
        .await?;
    Ok((rows, total))
}

/// Books receipts on a chart line of the accertamento's tipo dovuto, each for its whole
/// amount. Refused as a whole if a receipt is another tipo's, already in a live
/// accertamento, or the chart line is missing or inactive.
pub async fn associa(
    p: &DbPool,
    ente: &str,
    id: i64,
    a: &Associazione,
    utente: &str,
    now: OffsetDateTime,
) -> StoreResult<usize> {
    let mut tx = begin_write(p).await?;
    let acc_row = tx_modificabile(&mut tx, ente, id).await?;
    let ids: Vec<i64> = a
        .ricevute
        .iter()
        .copied()
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    if ids.is_empty() {
        return Err(StoreError::Conflict("nessuna ricevuta indicata".into()));
    }
    let rows: Vec<(i64, Option<String>, Date, i64)> = per_chiavi(
        &mut tx,
        "SELECT id, tipo_dovuto, data_esito, importo_cents FROM ricevuta",
        ente,
        "id",
        &ids,
    )
    .await?;
    if rows.len() != ids.len() {
        let found: HashSet<i64> = rows.iter().map(|r| r.0).collect();
        let missing: Vec<String> = ids
            .iter()
            .filter(|i| !found.contains(i))
            .map(i64::to_string)
            .collect();
        return Err(StoreError::Conflict(format!(
            "ricevute sconosciute: {}",
            missing.join(", ")
        )));
    }
    if let Some(r) = rows
        .iter()
        .find(|r| r.1.as_deref() != Some(acc_row.tipo_dovuto.as_str()))
    {
        return Err(StoreError::Conflict(format!(
            "la ricevuta {} non è del tipo dovuto {}",
            r.0, acc_row.tipo_dovuto
        )));
    }
    let mut q = sqlx::QueryBuilder::<Db>::new(
        "SELECT DISTINCT p.ricevuta_id FROM accertamento_pagamento p JOIN accertamento x ON x.id = p.accertamento_id WHERE x.stato <> 'ANNULLATO' AND ",
    );
    push_in(&mut q, "p.ricevuta_id", &ids);
    let occupate: Vec<(i64,)> = q.build_query_as().fetch_all(&mut *tx).await?;
    if !occupate.is_empty() {
        let v: Vec<String> = occupate.iter().map(|r| r.0.to_string()).collect();
        return Err(StoreError::Conflict(format!(
            "ricevute già in un accertamento: {}",
            v.join(", ")
        )));
    }
    let cod_acc = a
        .cod_accertamento
        .clone()
        .unwrap_or_else(|| crate::model::bilancio::NA.to_owned());
    let anni: BTreeSet<i32> = rows.iter().map(|r| a.anno.unwrap_or(r.2.year())).collect();
    for anno in anni {
        match voce(
            &mut tx,
            ente,
            anno,
            &acc_row.tipo_dovuto,
            &a.cod_ufficio,
            &a.cod_capitolo,
            &cod_acc,
        )
        .await?
        {
            Some((_, true)) => {}
            Some((_, false)) => {
                return Err(StoreError::Conflict(format!(
                    "voce {}/{}/{cod_acc} del {anno} non attiva",
                    a.cod_ufficio, a.cod_capitolo
                )));
            }
            None => {
                return Err(StoreError::Conflict(format!(
                    "voce {}/{}/{cod_acc} del {anno} assente nell'anagrafica per il tipo {}",
                    a.cod_ufficio, a.cod_capitolo, acc_row.tipo_dovuto
                )));
            }
        }
    }
    for chunk in rows.chunks(300) {
        let mut q = sqlx::QueryBuilder::<Db>::new(
            "INSERT INTO accertamento_pagamento (accertamento_id, ricevuta_id, anno, cod_ufficio, cod_capitolo, cod_accertamento, importo_cents, utente, created_at) ",
        );
        q.push_values(chunk, |mut b, (rid, _, data, importo)| {
            b.push_bind(id)
                .push_bind(*rid)
                .push_bind(i64::from(a.anno.unwrap_or(data.year())))
                .push_bind(a.cod_ufficio.clone())
                .push_bind(a.cod_capitolo.clone())
                .push_bind(cod_acc.clone())
                .push_bind(*importo)
                .push_bind(utente.to_owned())
                .push_bind(now);
        });
        q.build().execute(&mut *tx).await?;
    }
    let n = rows.len();
    let elenco: Vec<String> = ids.iter().map(i64::to_string).collect();
    tx_storia(
        &mut tx,
        id,
        "PAGAMENTI_AGGIUNTI",
        &format!(
            "ricevute {} su {}/{}/{cod_acc}",
            elenco.join(", "),
            a.cod_ufficio,
            a.cod_capitolo
        ),
        utente,
        now,
    )
    .await?;
    sqlx::query("UPDATE accertamento SET updated_at = $1, version = version + 1 WHERE id = $2")
        .bind(now)
        .bind(id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(n)
}

pub async fn remove_pagamento(
    p: &DbPool,
    ente: &str,
    id: i64,
    riga: i64,
    utente: &str,
    now: OffsetDateTime,
) -> StoreResult<()> {
    let mut tx = begin_write(p).await?;
    tx_modificabile(&mut tx, ente, id).await?;
    let r: Option<(i64, String, String, String)> = sqlx::query_as("DELETE FROM accertamento_pagamento WHERE id = $1 AND accertamento_id = $2 RETURNING ricevuta_id, cod_ufficio, cod_capitolo, cod_accertamento")
        .bind(riga)
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?;
    let (rid, u, c, a) = r.ok_or(StoreError::NotFound)?;
    tx_storia(
        &mut tx,
        id,
        "PAGAMENTO_RIMOSSO",
        &format!("ricevuta {rid} da {u}/{c}/{a}"),
        utente,
        now,
    )
    .await?;
    sqlx::query("UPDATE accertamento SET updated_at = $1, version = version + 1 WHERE id = $2")
        .bind(now)
        .bind(id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(())
}

/// INSERITO → CHIUSO (with at least one payment) or ANNULLATO. Closing makes the payments
/// count in the statistics: their days are marked stale in the same transaction.
pub async fn change_stato_accertamento(
    p: &DbPool,
    ente: &str,
    id: i64,
    to: StatoAccertamento,
    utente: &str,
    now: OffsetDateTime,
) -> StoreResult<()> {
    let mut tx = begin_write(p).await?;
    let a = tx_modificabile(&mut tx, ente, id).await?;
    let da =
        StatoAccertamento::parse(&a.stato).ok_or_else(|| StoreError::Corrupt(a.stato.clone()))?;
    if !da.puo_diventare(to) {
        return Err(StoreError::Conflict(format!(
            "transizione {} → {} non ammessa",
            a.stato,
            to.as_str()
        )));
    }
    if to == StatoAccertamento::Chiuso && a.pagamenti == 0 {
        return Err(StoreError::Conflict(
            "un accertamento si chiude con almeno un pagamento".into(),
        ));
    }
    sqlx::query("UPDATE accertamento SET stato = $1, utente = $2, updated_at = $3, version = version + 1 WHERE id = $4")
        .bind(to.as_str())
        .bind(utente)
        .bind(now)
        .bind(id)
        .execute(&mut *tx)
        .await?;
    tx_storia(
        &mut tx,
        id,
        to.as_str(),
        &format!("{} → {}", a.stato, to.as_str()),
        utente,
        now,
    )
    .await?;
    if to == StatoAccertamento::Chiuso {
        let ricevute: Vec<(i64,)> = sqlx::query_as(
            "SELECT ricevuta_id FROM accertamento_pagamento WHERE accertamento_id = $1",
        )
        .bind(id)
        .fetch_all(&mut *tx)
        .await?;
        tx_sporca_ricevute(
            &mut tx,
            ente,
            &ricevute.into_iter().map(|r| r.0).collect::<Vec<_>>(),
        )
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// docs/riconciliazione.md §7.4, for receipts just staged: those with a bilancio (or whose
/// tipo dovuto and year have exactly one active chart line) are booked on an accertamento
/// created CHIUSO, one per (origin, tipo dovuto), named `<origine>_<tipo>`; codes missing
/// from the chart are added with `n/a` descriptions. A receipt already in a live
/// accertamento is left alone, so a reload books nothing twice.
pub async fn tx_accertamenti_automatici(
    c: &mut Conn,
    ente: &str,
    origine: &str,
    righe: &[&NuovaRicevuta],
    nuove: HashMap<(String, String, i64), acc::RicevutaDaAccertare>,
    now: OffsetDateTime,
) -> StoreResult<()> {
    let con_tipo: Vec<&&NuovaRicevuta> = righe
        .iter()
        .filter(|r| r.tipo_dovuto.is_some() && r.fonte != "SURROGATO")
        .collect();
    if con_tipo.is_empty() {
        return Ok(());
    }
    // A receipt this batch inserted is in no accertamento yet (ids are never reused: a
    // sequence on PostgreSQL, AUTOINCREMENT on SQLite); the others (held already) are read
    // back, and booked unless a live accertamento has them.
    // `nuove` holds exactly the receipts of `con_tipo` the batch inserted.
    let inserite: HashSet<(&str, &str, i64)> = nuove
        .keys()
        .map(|(iuv, iur, indice)| (iuv.as_str(), iur.as_str(), *indice))
        .collect();
    let chiavi: HashSet<(&str, &str, i64)> = con_tipo
        .iter()
        .map(|r| (r.iuv.as_str(), r.iur.as_str(), r.indice))
        .filter(|k| !inserite.contains(k))
        .collect();
    let mut ricevute: Vec<acc::RicevutaDaAccertare> = nuove.into_values().collect();
    if !chiavi.is_empty() {
        let iuvs: Vec<String> = chiavi
            .iter()
            .map(|k| k.0.to_owned())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let mut q = sqlx::QueryBuilder::<Db>::new(
            "SELECT e.id, e.iuv, e.iur, e.indice, e.tipo_dovuto, e.importo_cents, e.data_esito, e.bilancio FROM ricevuta e WHERE e.id_dominio = ",
        );
        push_ente(&mut q, ente);
        q.push(" AND e.tipo_dovuto IS NOT NULL AND ");
        // Through the receipts' key index whatever the statistics say: planned as a join
        // against the unnested keys, a stale count made it walk all of the ente's receipts
        // for each RT (5–25 ms per paaInviaRT, growing with the table); and with the ente's
        // value in the plan, a new ente tied the key's index with another on the ente.
        push_in(&mut q, "e.iuv", &iuvs);
        q.push(" AND NOT EXISTS (SELECT 1 FROM accertamento_pagamento p JOIN accertamento x ON x.id = p.accertamento_id WHERE p.ricevuta_id = e.id AND x.stato <> 'ANNULLATO')");
        #[allow(clippy::type_complexity)]
        let rows: Vec<(i64, String, String, i64, String, i64, Date, Option<String>)> =
            q.build_query_as().fetch_all(&mut *c).await?;
        ricevute.extend(
            rows.into_iter()
                .filter(|r| chiavi.contains(&(r.1.as_str(), r.2.as_str(), r.3)))
                .map(|r| acc::RicevutaDaAccertare {
                    id: r.0,
                    tipo_dovuto: r.4,
                    importo_cents: r.5,
                    data_esito: r.6,
                    bilancio: r.7,
                }),
        );
    }
    if ricevute.is_empty() {
        return Ok(());
    }
    // The chart's single active line per (tipo, year), for receipts without a bilancio.
    let tipi: Vec<String> = ricevute
        .iter()
        .map(|r| r.tipo_dovuto.clone())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let mut q = sqlx::QueryBuilder::<Db>::new(
        "SELECT tipo_dovuto, anno, cod_ufficio, cod_capitolo, cod_accertamento FROM capitolo WHERE attivo AND id_dominio = ",
    );
    q.push_bind(ente.to_owned()).push(" AND tipo_dovuto IN (");
    push_chiavi(&mut q, &tipi);
    q.push(")");
    let chart: Vec<(String, i64, String, String, String)> =
        q.build_query_as().fetch_all(&mut *c).await?;
    // (tipo, anno) → its active (ufficio, capitolo, accertamento) lines
    type Linee = HashMap<(String, i64), Vec<(String, String, String)>>;
    let mut linee: Linee = HashMap::new();
    for (t, a, u, cap, ac) in chart {
        linee.entry((t, a)).or_default().push((u, cap, ac));
    }
    let piano = acc::piano_automatico(&ricevute, |t, anno| {
        match linee
            .get(&(t.to_owned(), i64::from(anno)))
            .map(Vec::as_slice)
        {
            Some([unica]) => Some(unica.clone()),
            _ => None,
        }
    });
    if piano.is_empty() {
        return Ok(());
    }
    // Codes the chart lacks, with placeholder descriptions (each code once, not per receipt).
    let codici: BTreeSet<(&str, i32, &str, &str, &str)> = piano
        .iter()
        .map(|v| {
            (
                v.tipo_dovuto.as_str(),
                v.anno,
                v.cod_ufficio.as_str(),
                v.cod_capitolo.as_str(),
                v.cod_accertamento.as_str(),
            )
        })
        .collect();
    for (tipo, anno, ufficio, capitolo, accertamento) in codici {
        sqlx::query(
            "INSERT INTO capitolo (id_dominio, anno, tipo_dovuto, cod_ufficio, de_ufficio, attivo, cod_capitolo, de_capitolo, cod_accertamento, de_accertamento, automatico, created_at, updated_at)
             VALUES ($1, $2, $3, $4, 'n/a', TRUE, $5, 'n/a', $6, 'n/a', TRUE, $7, $7)
             ON CONFLICT (id_dominio, anno, tipo_dovuto, cod_ufficio, cod_capitolo, cod_accertamento) DO NOTHING",
        )
        .bind(ente)
        .bind(i64::from(anno))
        .bind(tipo)
        .bind(ufficio)
        .bind(capitolo)
        .bind(accertamento)
        .bind(now)
        .execute(&mut *c)
        .await?;
    }
    let mut per_tipo: BTreeMap<&str, Vec<&acc::VoceAutomatica>> = BTreeMap::new();
    for v in &piano {
        per_tipo.entry(v.tipo_dovuto.as_str()).or_default().push(v);
    }
    for (tipo, voci) in per_tipo {
        let chiave = format!("{ente}:{origine}_{tipo}");
        let nome = format!("{origine}_{tipo}");
        sqlx::query(
            "INSERT INTO accertamento (id_dominio, tipo_dovuto, nome, stato, chiave_automatica, utente, created_at, updated_at)
             VALUES ($1, $2, $3, 'CHIUSO', $4, 'sistema', $5, $5) ON CONFLICT (chiave_automatica) DO NOTHING",
        )
        .bind(ente)
        .bind(tipo)
        .bind(&nome)
        .bind(&chiave)
        .bind(now)
        .execute(&mut *c)
        .await?;
        let (id,): (i64,) =
            sqlx::query_as("SELECT id FROM accertamento WHERE chiave_automatica = $1")
                .bind(&chiave)
                .fetch_one(&mut *c)
                .await?;
        for chunk in voci.chunks(300) {
            let mut q = sqlx::QueryBuilder::<Db>::new(
                "INSERT INTO accertamento_pagamento (accertamento_id, ricevuta_id, anno, cod_ufficio, cod_capitolo, cod_accertamento, importo_cents, utente, created_at) ",
            );
            q.push_values(chunk, |mut b, v| {
                b.push_bind(id)
                    .push_bind(v.ricevuta_id)
                    .push_bind(i64::from(v.anno))
                    .push_bind(v.cod_ufficio.clone())
                    .push_bind(v.cod_capitolo.clone())
                    .push_bind(v.cod_accertamento.clone())
                    .push_bind(v.importo_cents)
                    .push_bind("sistema")
                    .push_bind(now);
            });
            q.push(" ON CONFLICT DO NOTHING");
            q.build().execute(&mut *c).await?;
        }
        let n = voci
            .iter()
            .map(|v| v.ricevuta_id)
            .collect::<BTreeSet<_>>()
            .len();
        tx_storia(
            &mut *c,
            id,
            "PAGAMENTI_AGGIUNTI",
            &format!("{n} ricevute dal bilancio ({origine})"),
            "sistema",
            now,
        )
        .await?;
    }
    // The days of the booked receipts (their data esito, and their lines' dates: they may
    // already be reconciled).
    let ids: Vec<i64> = piano
        .iter()
        .map(|v| v.ricevuta_id)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    tx_sporca_ricevute(c, ente, &ids).await?;
    Ok(())
}
