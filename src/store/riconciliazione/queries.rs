// The reconciliation store (MyPivot): staged receipts, the queue of touched keys and the
// materialized classified tuples.
// Compiled once per backend (see the repository's mod.rs).

use crate::recon::motore::{self, Dati, Proprietario, RigaE, RigaI, RigaR, RigaT};

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

/// `ricevuta.fonte` of a stand-in: a payment a flow reported with esito 9, no receipt.
const SURROGATO: &str = "SURROGATO";

/// Queue kinds: an IUV, a (normalized) IUF, an IUD, a treasury line id.
pub mod coda {
    pub const IUV: &str = "V";
    pub const IUF: &str = "F";
    pub const IUD: &str = "D";
    pub const TESORERIA: &str = "T";
}

/// Records keys an import touched, in the import's own transaction.
pub async fn tx_accoda(
    c: &mut Conn,
    ente: &str,
    chiavi: &[(&str, String)],
    now: OffsetDateTime,
) -> StoreResult<()> {
    if chiavi.is_empty() {
        return Ok(());
    }
    // Every kind of key in one statement: a receipt's transaction queues its IUV and its
    // IUD in one round trip.
    let mut q = sqlx::QueryBuilder::<Db>::new(
        "INSERT INTO recon_coda (id_dominio, tipo, chiave, created_at) SELECT ",
    );
    q.push_bind(ente)
        .push(", k.a, k.b, ")
        .push_bind(now)
        .push(" FROM ");
    push_coppie(&mut q, chiavi);
    q.build().execute(&mut *c).await?;
    Ok(())
}

const SEL_E: &str = "SELECT iuv, iur, indice, iud, tipo_dovuto, importo_cents, totale_cents, data_esito, cf_pagatore, attestante FROM ricevuta";

const SEL_R: &str = "SELECT id, iuf, iuf_key, iuv, iur, indice, importo_cents, esito, data_regolamento, totale_flusso_cents FROM rendicontazione";

const SEL_I: &str = "SELECT iud, importo_cents, data_esecuzione, tipo_dovuto FROM notifica";

const SEL_T: &str = "SELECT id, iuf, iuf_key, iuv, importo_cents, anno_bolletta, codice_bolletta, data_contabile, data_valuta, ordinante, conto FROM tesoreria";

fn vec_of(s: &HashSet<String>) -> Vec<String> {
    let mut v: Vec<String> = s.iter().cloned().collect();
    v.sort();
    v
}

/// Loads what the engine needs to recompute the owners reachable from the touched keys
/// (see recon::motore): the closure over the join keys, then the rows.
async fn carica(
    c: &mut Conn,
    ente: &str,
    mut v: HashSet<String>,
    mut f: HashSet<String>,
    d: HashSet<String>,
    t0: HashSet<i64>,
) -> StoreResult<(Dati, HashSet<Proprietario>)> {
    // Rows already reconciled through a touched IUF, IUD or treasury line: their IUVs are
    // recomputed even if the data that linked them is gone (a replaced flow, a storno).
    let t0v: Vec<i64> = t0.iter().copied().collect();
    for (sel, col, keys) in [
        ("SELECT iuv FROM riconciliazione", "iuf_key", vec_of(&f)),
        (IUV_PER_IUD, "iud", vec_of(&d)),
    ] {
        let rows: Vec<(Option<String>,)> = per_chiavi(c, sel, ente, col, &keys).await?;
        v.extend(rows.into_iter().filter_map(|r| r.0));
    }
    let rows: Vec<(Option<String>,)> = per_chiavi(
        c,
        "SELECT iuv FROM riconciliazione",
        ente,
        "tesoreria_id",
        &t0v,
    )
    .await?;
    v.extend(rows.into_iter().filter_map(|r| r.0));
    // Touched treasury lines bring their IUF and IUV.
    let ts: Vec<RigaT> = per_chiavi(c, SEL_T, ente, "id", &t0v).await?;
    for t in &ts {
        f.extend(t.iuf_key.clone());
        v.extend(t.iuv.clone());
    }
    // Every payment of a touched flow; every receipt of a touched IUD.
    let rows: Vec<(String,)> = per_chiavi(
        c,
        "SELECT iuv FROM rendicontazione",
        ente,
        "iuf_key",
        &vec_of(&f),
    )
    .await?;
    v.extend(rows.into_iter().map(|r| r.0));
    let rows: Vec<(String,)> =
        per_chiavi(c, "SELECT iuv FROM ricevuta", ente, "iud", &vec_of(&d)).await?;
    v.extend(rows.into_iter().map(|r| r.0));

    let vv = vec_of(&v);
    let e: Vec<RigaE> = per_chiavi(c, SEL_E, ente, "iuv", &vv).await?;
    let r: Vec<RigaR> = per_chiavi(c, SEL_R, ente, "iuv", &vv).await?;
    // The notifications of the receipts are read, but their IUDs are not owners: a
    // notification with a receipt has no line of its own, and a receipt that just got its
    // IUD queued that IUD itself (so its old line, if any, is an owner already).
    let mut d_lette = d.clone();
    d_lette.extend(e.iter().filter_map(|e| e.iud.clone()));
    let i: Vec<RigaI> = per_chiavi(c, SEL_I, ente, "iud", &vec_of(&d_lette)).await?;
    let mut f_read = f.clone();
    f_read.extend(r.iter().map(|r| r.iuf_key.clone()));
    // Treasury lines: of the IUFs and IUVs involved (owners too: whether they stand alone
    // may have changed), then the others sharing their keys (to know which line is first).
    let mut t: Vec<RigaT> = per_chiavi(c, SEL_T, ente, "iuf_key", &vec_of(&f_read)).await?;
    t.extend(per_chiavi::<RigaT, _>(c, SEL_T, ente, "iuv", &vv).await?);
    t.extend(ts);
    let mut seen = HashSet::new();
    t.retain(|x| seen.insert(x.id));
    let mut owners: HashSet<Proprietario> = v.iter().cloned().map(Proprietario::Iuv).collect();
    owners.extend(d.iter().cloned().map(Proprietario::Iud));
    owners.extend(t0.iter().copied().map(Proprietario::Tesoreria));
    owners.extend(t.iter().map(|x| Proprietario::Tesoreria(x.id)));
    let extra_f: HashSet<String> = t
        .iter()
        .filter_map(|x| x.iuf_key.clone())
        .filter(|k| !f_read.contains(k))
        .collect();
    let extra_v: HashSet<String> = t
        .iter()
        .filter_map(|x| x.iuv.clone())
        .filter(|k| !v.contains(k))
        .collect();
    for x in per_chiavi::<RigaT, _>(c, SEL_T, ente, "iuf_key", &vec_of(&extra_f))
        .await?
        .into_iter()
        .chain(per_chiavi::<RigaT, _>(c, SEL_T, ente, "iuv", &vec_of(&extra_v)).await?)
    {
        if seen.insert(x.id) {
            t.push(x);
        }
    }
    let all_f: HashSet<String> = t.iter().filter_map(|x| x.iuf_key.clone()).collect();
    let all_v: HashSet<String> = t.iter().filter_map(|x| x.iuv.clone()).collect();
    let iuf_rendicontati: Vec<(String,)> = per_chiavi(
        c,
        "SELECT DISTINCT iuf_key FROM rendicontazione",
        ente,
        "iuf_key",
        &vec_of(&all_f),
    )
    .await?;
    let mut iuv_noti: HashSet<String> = per_chiavi::<(String,), _>(
        c,
        "SELECT DISTINCT iuv FROM ricevuta",
        ente,
        "iuv",
        &vec_of(&all_v),
    )
    .await?
    .into_iter()
    .map(|r| r.0)
    .collect();
    iuv_noti.extend(
        per_chiavi::<(String,), _>(
            c,
            "SELECT DISTINCT iuv FROM rendicontazione",
            ente,
            "iuv",
            &vec_of(&all_v),
        )
        .await?
        .into_iter()
        .map(|r| r.0),
    );
    let dati = Dati {
        e,
        r,
        i,
        t,
        iuf_rendicontati: iuf_rendicontati.into_iter().map(|r| r.0).collect(),
        iuv_noti,
    };
    Ok((dati, owners))
}

/// One reclassification at a time per ente (instances share the database): on PostgreSQL a
/// transaction-scoped advisory lock; SQLite's write transaction already serializes.
async fn lock_ente(c: &mut Conn, ente: &str) -> StoreResult<()> {
    if IS_POSTGRES {
        // For the rest of this transaction, set by the subquery the lock is taken from
        // (evaluated first, and kept: it is volatile), in the lock's own round trip:
        // - no lock deadline: waiting for another instance's turn is expected (a rebuild
        //   takes seconds);
        // - a plan of its own for every execution of a prepared statement. The keyed reads
        //   run thousands of times on connections that live for hours, while the tables
        //   grow from empty; a generic plan, which PostgreSQL adopts after five executions
        //   and keeps until the table is analysed, was planned for the small table it saw
        //   then (a month's flows took 1.4 times as long with it). The PA endpoints' lookups
        //   keep their generic plans: planning each of them cost 18 % of the verifications
        //   per second.
        sqlx::query(
            "SELECT pg_advisory_xact_lock(hashtext('recon:' || $1)) \
             FROM (SELECT set_config('lock_timeout', '0', true), \
                          set_config('plan_cache_mode', 'force_custom_plan', true)) AS impostazioni",
        )
        .bind(ente)
        .execute(&mut *c)
        .await?;
    }
    Ok(())
}

/// Takes up to `limite` of the ente's queue of touched keys, oldest first: recomputes
/// exactly the owners they reach and replaces those whose content changed, in one
/// transaction.
pub async fn recon_process(
    p: &DbPool,
    ente: &str,
    now: OffsetDateTime,
    limite: i64,
) -> StoreResult<Passata> {
    let mut tx = begin_write(p).await?;
    lock_ente(&mut tx, ente).await?;
    let coda: Vec<(i64, String, String)> = sqlx::query_as(
        "SELECT id, tipo, chiave FROM recon_coda WHERE id_dominio = $1 ORDER BY id LIMIT $2",
    )
    .bind(ente)
    .bind(limite)
    .fetch_all(&mut *tx)
    .await?;
    if coda.is_empty() {
        tx.rollback().await?;
        return Ok(Passata {
            chiavi: 0,
            righe: 0,
        });
    }
    let (mut v, mut f, mut d, mut t) = (
        HashSet::new(),
        HashSet::new(),
        HashSet::new(),
        HashSet::new(),
    );
    for (_, tipo, k) in &coda {
        match tipo.as_str() {
            coda::IUV => {
                v.insert(k.clone());
            }
            coda::IUF => {
                f.insert(k.to_uppercase());
            }
            coda::IUD => {
                d.insert(k.clone());
            }
            _ => {
                if let Ok(id) = k.parse() {
                    t.insert(id);
                }
            }
        }
    }
    let t0 = std::time::Instant::now();
    let (dati, owners) = carica(&mut tx, ente, v, f, d, t).await?;
    let t_carica = t0.elapsed();
    let righe = motore::calcola(&dati, &owners);
    let t_calcola = t0.elapsed();
    // Only what changed is rewritten: the owners' stored rows are matched to the new ones by
    // digest, a changed row rewrites one of its owner's that no longer matches, the rest
    // go or come (a re-sent flow writes nothing).
    let chiavi: Vec<String> = owners.iter().map(Proprietario::chiave).collect();
    let presenti: Vec<(i64, Option<i64>)> = per_chiavi(
        &mut tx,
        "SELECT id, firma FROM riconciliazione",
        ente,
        "chiave",
        &chiavi,
    )
    .await?;
    let totale = righe.len();
    let Allineate {
        nuove, riscritte, ..
    } = allinea(&mut tx, ente, presenti, righe, now).await?;
    let t_cancella = t0.elapsed();
    scrivi(&mut tx, ente, &nuove, now).await?;
    let t_scrivi = t0.elapsed();
    let ids: Vec<i64> = coda.iter().map(|c| c.0).collect();
    let mut q = sqlx::QueryBuilder::<Db>::new("DELETE FROM recon_coda WHERE ");
    push_in(&mut q, "id", &ids);
    q.build().execute(&mut *tx).await?;
    tx.commit().await?;
    // Where a reclassification spends its time, for operators tuning a large ente.
    tracing::debug!(
        ente,
        chiavi = coda.len(),
        proprietari = owners.len(),
        righe = totale,
        nuove = nuove.len(),
        riscritte,
        carica_ms = t_carica.as_millis(),
        calcola_ms = (t_calcola - t_carica).as_millis(),
        cancella_ms = (t_cancella - t_calcola).as_millis(),
        scrivi_ms = (t_scrivi - t_cancella).as_millis(),
        totale_ms = t0.elapsed().as_millis(),
        "riclassificazione"
    );
    Ok(Passata {
        chiavi: coda.len(),
        righe: totale,
    })
}

/// A stored line's (id, owner key, IUR, indice, treasury line id).
type Libera = (i64, String, Option<String>, Option<i64>, Option<i64>);

/// (codes, the three days whose statistics it counted in) of a line as it was stored,
/// before it was deleted or rewritten.
type Tolta = (i64, Option<Date>, Option<Date>, Option<Date>);

/// What [`allinea`] left to write: the new lines, and how many stored lines it deleted and
/// rewrote in place.
struct Allineate<'a> {
    nuove: Vec<motore::Riga<'a>>,
    tolte: usize,
    riscritte: usize,
}

/// Matches the stored rows `presenti` (id, digest) to the computed `righe`: a stored row
/// equal to a computed one (same digest) stays as it is; a computed row that differs takes
/// the place of a stored row of the same owner that no longer matches, rewritten with its
/// id (the id the API showed stays valid, and on SQLite only the indexes of the columns
/// that changed are touched: a flow reaching reconciled receipts changes their codes and
/// flow columns, not the rest); the stored rows left over are deleted, and the computed
/// rows left over are returned, to be written as new. The statistics of the days rows
/// leave and reach are marked stale. Shared by the incremental reclassification and the
/// full rebuild.
async fn allinea<'a>(
    tx: &mut Conn,
    ente: &str,
    presenti: Vec<(i64, Option<i64>)>,
    righe: Vec<motore::Riga<'a>>,
    now: OffsetDateTime,
) -> StoreResult<Allineate<'a>> {
    let mut per_firma: HashMap<i64, Vec<i64>> = HashMap::new();
    let mut via = Vec::new();
    for (id, firma) in presenti {
        match firma {
            Some(f) => per_firma.entry(f).or_default().push(id),
            None => via.push(id),
        }
    }
    let diverse: Vec<motore::Riga<'a>> = righe
        .into_iter()
        .filter(|r| per_firma.get_mut(&r.firma()).and_then(Vec::pop).is_none())
        .collect();
    via.extend(per_firma.into_values().flatten());
    let t0 = std::time::Instant::now();
    let Coppie {
        ids,
        riscritte,
        nuove,
        via,
    } = accoppia(tx, ente, diverse, via).await?;
    let t_accoppia = t0.elapsed();
    let mut tolte: Vec<Tolta> = Vec::new();
    // In chunks: a rebuild may delete a million rows.
    for pezzo in via.chunks(10_000) {
        let mut q = sqlx::QueryBuilder::<Db>::new("DELETE FROM riconciliazione WHERE ");
        push_in(&mut q, "id", pezzo);
        q.push(" RETURNING codici, data_esito, data_regolamento, data_valuta");
        tolte.extend(q.build_query_as::<Tolta>().fetch_all(&mut *tx).await?);
    }
    let tolte_n = tolte.len();
    let t_cancella = t0.elapsed();
    tolte.extend(riscrivi(tx, ente, &ids, &riscritte, now).await?);
    let t_riscrivi = t0.elapsed();
    // The lines per combination of codes move by what leaves and what comes.
    let mut delta: BTreeMap<i64, i64> = BTreeMap::new();
    for r in nuove.iter().chain(&riscritte) {
        *delta.entry(r.codici as i64).or_default() += 1;
    }
    for t in &tolte {
        *delta.entry(t.0).or_default() -= 1;
    }
    delta.retain(|_, n| *n != 0);
    tx_sposta_conteggi(tx, ente, &delta).await?;
    let mut giorni = contab_q::giorni_di(nuove.iter().chain(&riscritte));
    giorni.extend(
        tolte
            .into_iter()
            .flat_map(|(_, a, b, c)| [a, b, c])
            .flatten(),
    );
    contab_q::tx_sporca_giorni(tx, ente, &giorni).await?;
    tracing::debug!(
        ente,
        accoppia_ms = t_accoppia.as_millis(),
        cancella_ms = (t_cancella - t_accoppia).as_millis(),
        riscrivi_ms = (t_riscrivi - t_cancella).as_millis(),
        conteggi_ms = (t0.elapsed() - t_riscrivi).as_millis(),
        "allineamento"
    );
    Ok(Allineate {
        nuove,
        tolte: tolte_n,
        riscritte: ids.len(),
    })
}

/// What [`accoppia`] decided: stored line `ids[i]` is rewritten as `riscritte[i]`; `nuove`
/// are written as new lines, `via` deleted.
struct Coppie<'a> {
    ids: Vec<i64>,
    riscritte: Vec<motore::Riga<'a>>,
    nuove: Vec<motore::Riga<'a>>,
    via: Vec<i64>,
}

/// Pairs each computed row in `diverse` with a stored row of the same owner among those
/// that no longer match (`via`): first the one of the same payment and treasury line (IUR,
/// indice, treasury line id), so that a line keeps its id and only the columns that changed
/// are rewritten; then, within the owner, the oldest one left.
async fn accoppia<'a>(
    tx: &mut Conn,
    ente: &str,
    diverse: Vec<motore::Riga<'a>>,
    via: Vec<i64>,
) -> StoreResult<Coppie<'a>> {
    if diverse.is_empty() || via.is_empty() {
        return Ok(Coppie {
            ids: Vec::new(),
            riscritte: Vec::new(),
            nuove: diverse,
            via,
        });
    }
    // Where a line sits within its owner: (IUR, indice, treasury line id).
    type Posto = (Option<String>, Option<i64>, Option<i64>);
    let mut per_chiave: HashMap<String, Vec<(i64, Posto)>> = HashMap::new();
    for pezzo in via.chunks(10_000) {
        for (id, chiave, iur, indice, t) in libere(tx, ente, pezzo).await? {
            per_chiave
                .entry(chiave)
                .or_default()
                .push((id, (iur, indice, t)));
        }
    }
    for v in per_chiave.values_mut() {
        v.sort_unstable_by_key(|l| l.0);
    }
    let chiavi: Vec<String> = diverse.iter().map(|r| r.proprietario.chiave()).collect();
    let mut presi: Vec<Option<i64>> = vec![None; diverse.len()];
    // The same payment and treasury line first, then any line of the owner.
    for stesso_posto in [true, false] {
        for (i, r) in diverse.iter().enumerate() {
            if presi[i].is_some() {
                continue;
            }
            let Some(libere) = per_chiave.get_mut(&chiavi[i]) else {
                continue;
            };
            let k = if stesso_posto {
                let posto = (r.iur, r.indice, r.tesoreria.as_ref().map(|t| t.id));
                libere
                    .iter()
                    .position(|(_, p)| (p.0.as_deref(), p.1, p.2) == posto)
            } else {
                (!libere.is_empty()).then_some(0)
            };
            if let Some(k) = k {
                presi[i] = Some(libere.remove(k).0);
            }
        }
    }
    let (mut ids, mut riscritte, mut nuove) = (Vec::new(), Vec::new(), Vec::new());
    for (r, preso) in diverse.into_iter().zip(presi) {
        match preso {
            Some(id) => {
                ids.push(id);
                riscritte.push(r);
            }
            None => nuove.push(r),
        }
    }
    let mut via: Vec<i64> = per_chiave
        .into_values()
        .flatten()
        .map(|(id, _)| id)
        .collect();
    via.sort_unstable();
    Ok(Coppie {
        ids,
        riscritte,
        nuove,
        via,
    })
}

/// Adds `delta` (lines per combination of codes) to the ente's maintained counts; a
/// combination no line carries any more is removed.
async fn tx_sposta_conteggi(
    tx: &mut Conn,
    ente: &str,
    delta: &std::collections::BTreeMap<i64, i64>,
) -> StoreResult<()> {
    if delta.is_empty() {
        return Ok(());
    }
    let mut q = sqlx::QueryBuilder::<Db>::new(
        "INSERT INTO riconciliazione_conteggio (id_dominio, codici, n) ",
    );
    q.push_values(delta, |mut b, (codici, n)| {
        b.push_bind(ente).push_bind(*codici).push_bind(*n);
    });
    q.push(
        " ON CONFLICT (id_dominio, codici) DO UPDATE SET n = riconciliazione_conteggio.n + excluded.n",
    );
    q.build().execute(&mut *tx).await?;
    sqlx::query("DELETE FROM riconciliazione_conteggio WHERE id_dominio = $1 AND n = 0")
        .bind(ente)
        .execute(&mut *tx)
        .await?;
    Ok(())
}

/// Enti with keys waiting (a crash between an import and its reclassification).
pub async fn recon_in_attesa(p: &DbPool) -> StoreResult<Vec<String>> {
    let rows: Vec<(String,)> = sqlx::query_as("SELECT DISTINCT id_dominio FROM recon_coda")
        .fetch_all(p)
        .await?;
    Ok(rows.into_iter().map(|r| r.0).collect())
}

/// Lines written and deleted by one rebuild past which the table is tidied at once
/// ([`dopo_riscrittura_massiva`]) rather than left to the database's own schedule.
const RISCRITTURA_MASSIVA: usize = 50_000;

/// Rebuilds the whole reconciliation of an ente from its staged rows.
pub async fn recon_rebuild(p: &DbPool, ente: &str, now: OffsetDateTime) -> StoreResult<usize> {
    let mut tx = begin_write(p).await?;
    lock_ente(&mut tx, ente).await?;
    let t0 = std::time::Instant::now();
    let e: Vec<RigaE> = tutte(&mut tx, SEL_E, ente).await?;
    let r: Vec<RigaR> = tutte(&mut tx, SEL_R, ente).await?;
    let i: Vec<RigaI> = tutte(&mut tx, SEL_I, ente).await?;
    let t: Vec<RigaT> = tutte(&mut tx, SEL_T, ente).await?;
    let t_carica = t0.elapsed();
    let dati = Dati {
        e,
        r,
        i,
        t,
        ..Dati::default()
    };
    let righe = motore::calcola_tutto(&dati);
    let totale = righe.len();
    let t_calcola = t0.elapsed();
    // Rows the rebuild finds as they were keep their ids, and so do rows it changes (the ids
    // the API shows stay valid); only what differs is rewritten.
    let presenti: Vec<(i64, Option<i64>)> =
        sqlx::query_as("SELECT id, firma FROM riconciliazione WHERE id_dominio = $1")
            .bind(ente)
            .fetch_all(&mut *tx)
            .await?;
    let Allineate {
        nuove: righe,
        tolte,
        riscritte,
    } = allinea(&mut tx, ente, presenti, righe, now).await?;
    sqlx::query("DELETE FROM recon_coda WHERE id_dominio = $1")
        .bind(ente)
        .execute(&mut *tx)
        .await?;
    let t_cancella = t0.elapsed();
    scrivi(&mut tx, ente, &righe, now).await?;
    // The rebuild is the operators' repair: the counts per code are recounted from the
    // lines, whatever had moved them before.
    sqlx::query("DELETE FROM riconciliazione_conteggio WHERE id_dominio = $1")
        .bind(ente)
        .execute(&mut *tx)
        .await?;
    sqlx::query(
        "INSERT INTO riconciliazione_conteggio (id_dominio, codici, n)
         SELECT id_dominio, codici, COUNT(*) FROM riconciliazione WHERE id_dominio = $1 GROUP BY id_dominio, codici",
    )
    .bind(ente)
    .execute(&mut *tx)
    .await?;
    let t_scrivi = t0.elapsed();
    tx.commit().await?;
    // A line rewritten counts as one deleted and one written: on PostgreSQL it is both.
    if righe.len() + tolte + 2 * riscritte >= RISCRITTURA_MASSIVA {
        dopo_riscrittura_massiva(p).await;
    }
    tracing::debug!(
        ente,
        righe = totale,
        nuove = righe.len(),
        riscritte,
        tolte,
        carica_ms = t_carica.as_millis(),
        calcola_ms = (t_calcola - t_carica).as_millis(),
        cancella_ms = (t_cancella - t_calcola).as_millis(),
        scrivi_ms = (t_scrivi - t_cancella).as_millis(),
        dopo_ms = (t0.elapsed() - t_scrivi).as_millis(),
        totale_ms = t0.elapsed().as_millis(),
        "ricostruzione"
    );
    Ok(totale)
}

/// Stages receipts (E) and queues their IUVs and IUDs. A receipt already staged is kept.
/// A stand-in (a payment reported with esito 9, fonte SURROGATO) never coexists with a
/// receipt of its IUV, whichever comes first: a receipt removes its IUV's stand-ins, and a
/// stand-in whose IUV already has a receipt is not staged. The days whose statistics this
/// changes (inserted receipts, removed stand-ins) are marked stale here.
/// `origine` names the batch (a file, the day's RTs) for the automatic accertamenti of
/// receipts with a bilancio; stand-ins have none.
pub async fn tx_insert_ricevute(
    c: &mut Conn,
    ente: &str,
    righe: &[NuovaRicevuta],
    origine: Option<&str>,
    now: OffsetDateTime,
) -> StoreResult<u64> {
    // One statement per chunk; a receipt twice in one batch counts once (the first), as a
    // row may not be upserted twice by one statement.
    let mut seen = HashSet::new();
    let mut uniche: Vec<&NuovaRicevuta> = righe
        .iter()
        .filter(|r| seen.insert((&r.iuv, &r.iur, r.indice)))
        .collect();
    let mut giorni = BTreeSet::new();
    let attestati: HashSet<&str> = uniche
        .iter()
        .filter(|r| r.fonte != SURROGATO)
        .map(|r| r.iuv.as_str())
        .collect();
    if uniche.iter().any(|r| r.fonte == SURROGATO) {
        let mut iuv_surrogati: Vec<String> = uniche
            .iter()
            .filter(|r| r.fonte == SURROGATO)
            .map(|r| r.iuv.clone())
            .collect();
        iuv_surrogati.sort_unstable();
        iuv_surrogati.dedup();
        let gia: Vec<(String, String)> = per_chiavi(
            c,
            "SELECT iuv, fonte FROM ricevuta",
            ente,
            "iuv",
            &iuv_surrogati,
        )
        .await?;
        let con_ricevuta: HashSet<&str> = gia
            .iter()
            .filter(|g| g.1 != SURROGATO)
            .map(|g| g.0.as_str())
            .chain(attestati.iter().copied())
            .collect();
        uniche.retain(|r| r.fonte != SURROGATO || !con_ricevuta.contains(r.iuv.as_str()));
    }
    // (IUV, IUD) of what this batch changes: receipts inserted, stand-ins removed.
    let mut toccati: Vec<(String, Option<String>)> = Vec::new();
    if !attestati.is_empty() {
        // The ente's stand-ins are few (esito 9 is rare) and read through a partial index.
        let surrogati: Vec<(i64, String, Date)> = sqlx::query_as("SELECT id, iuv, data_esito FROM ricevuta WHERE id_dominio = $1 AND fonte = 'SURROGATO'")
            .bind(ente)
            .fetch_all(&mut *c)
            .await?;
        let via: Vec<i64> = surrogati
            .iter()
            .filter(|(_, iuv, _)| attestati.contains(iuv.as_str()))
            .map(|(id, iuv, g)| {
                giorni.insert(*g);
                toccati.push((iuv.clone(), None));
                *id
            })
            .collect();
        if !via.is_empty() {
            let mut q = sqlx::QueryBuilder::<Db>::new("DELETE FROM ricevuta WHERE ");
            push_in(&mut q, "id", &via);
            q.build().execute(&mut *c).await?;
        }
    }
    let mut n = 0;
    // The receipts this batch inserted that an automatic accertamento may book.
    let mut nuove = HashMap::new();
    // On PostgreSQL a batch of one statement (an RT's receipts, a small file) that removed
    // no stand-in also marks its days stale and queues its keys in that statement, from
    // the insert's RETURNING (a data-modifying WITH): two round trips fewer in every RT's
    // transaction.
    let in_uno = IS_POSTGRES && toccati.is_empty() && (1..=400).contains(&uniche.len());
    for chunk in uniche.chunks(400) {
        let mut q = sqlx::QueryBuilder::<Db>::new(if in_uno { "WITH e AS (" } else { "" });
        q.push(
            "INSERT INTO ricevuta (id_dominio, iuv, iur, indice, iud, tipo_dovuto, importo_cents, totale_cents, codice_esito, data_esito,
               cf_pagatore, anagrafica_pagatore, cf_versante, anagrafica_versante, attestante, denominazione_attestante, causale, bilancio,
               fonte, rt_id, created_at, updated_at) ",
        );
        q.push_values(chunk, |mut b, r| {
            b.push_bind(ente)
                .push_bind(r.iuv.clone())
                .push_bind(r.iur.clone())
                .push_bind(r.indice)
                .push_bind(r.iud.clone())
                .push_bind(r.tipo_dovuto.clone())
                .push_bind(r.importo_cents)
                .push_bind(r.totale_cents)
                .push_bind(r.codice_esito)
                .push_bind(r.data_esito)
                .push_bind(r.cf_pagatore.clone())
                .push_bind(r.anagrafica_pagatore.clone())
                .push_bind(r.cf_versante.clone())
                .push_bind(r.anagrafica_versante.clone())
                .push_bind(r.attestante.clone())
                .push_bind(r.denominazione_attestante.clone())
                .push_bind(r.causale.clone())
                .push_bind(r.bilancio.clone())
                .push_bind(r.fonte)
                .push_bind(r.rt_id)
                .push_bind(now)
                .push_bind(now);
        });
        // What is staged stays: a stand-in of the same key was removed above. The new rows
        // come back with what booking them needs: no one reads them again for it.
        const RESTITUITE: &str =
            "data_esito, iuv, iud, id, iur, indice, tipo_dovuto, importo_cents, bilancio, fonte";
        q.push(" ON CONFLICT (id_dominio, iuv, iur, indice) DO NOTHING RETURNING ")
            .push(RESTITUITE);
        if in_uno {
            q.push("), s AS (INSERT INTO statistica_sporca (id_dominio, giorno) SELECT DISTINCT ")
                .push_bind(ente)
                .push("::text, data_esito FROM e), c AS (INSERT INTO recon_coda (id_dominio, tipo, chiave, created_at) SELECT ")
                .push_bind(ente)
                .push("::text, k.t, k.c, ")
                .push_bind(now)
                .push(format!(
                    " FROM (SELECT '{v}', iuv FROM e UNION SELECT '{d}', iud FROM e) AS k (t, c) WHERE k.c IS NOT NULL) SELECT {RESTITUITE} FROM e",
                    v = coda::IUV,
                    d = coda::IUD
                ));
        }
        #[allow(clippy::type_complexity)]
        let righe: Vec<(
            Date,
            String,
            Option<String>,
            i64,
            String,
            i64,
            Option<String>,
            i64,
            Option<String>,
            String,
        )> = q
            .build_query_as()
            // Few shapes: a full chunk, and an RT's receipts (one per payment, at most five).
            .persistent(chunk.len() == 400 || chunk.len() <= 5)
            .fetch_all(&mut *c)
            .await?;
        n += righe.len() as u64;
        for (g, iuv, iud, id, iur, indice, tipo, importo_cents, bilancio, fonte) in righe {
            // Days and keys are gathered only for the statements below; the merged one
            // wrote them already.
            if !in_uno {
                giorni.insert(g);
                toccati.push((iuv.clone(), iud));
            }
            if let Some(tipo_dovuto) = tipo.filter(|_| fonte != SURROGATO) {
                nuove.insert(
                    (iuv, iur, indice),
                    crate::recon::accertamenti::RicevutaDaAccertare {
                        id,
                        tipo_dovuto,
                        importo_cents,
                        data_esito: g,
                        bilancio,
                    },
                );
            }
        }
    }
    if !in_uno {
        contab_q::tx_sporca_giorni(c, ente, &giorni).await?;
        // Only what changed is queued: a receipt already staged was queued, in the
        // transaction that staged it, and its lines say so (a re-imported file reclassifies
        // nothing).
        let mut chiavi: Vec<(&str, String)> = Vec::new();
        let mut queued = HashSet::new();
        for (iuv, iud) in toccati {
            if queued.insert((coda::IUV, iuv.clone())) {
                chiavi.push((coda::IUV, iuv));
            }
            if let Some(d) = iud
                && queued.insert((coda::IUD, d.clone()))
            {
                chiavi.push((coda::IUD, d));
            }
        }
        tx_accoda(c, ente, &chiavi, now).await?;
    }
    if let Some(o) = origine {
        contab_q::tx_accertamenti_automatici(c, ente, o, &uniche, nuove, now).await?;
    }
    Ok(n)
}

/// Imports receipts from a MyPay "export pagati" file, in parts as they are read, in one
/// transaction: the report comes last and is closed with the count of what the parts changed.
pub async fn import_ricevute_a_pezzi(
    p: &DbPool,
    ente: &str,
    pezzi: &mut tokio::sync::mpsc::Receiver<PezzoRicevute>,
    origine: &str,
    now: OffsetDateTime,
) -> StoreResult<ImportJob> {
    let mut tx = begin_write(p).await?;
    let mut n = 0;
    while let Some(pezzo) = pezzi.recv().await {
        match pezzo {
            PezzoRicevute::Ricevute(righe) => {
                n += tx_insert_ricevute(&mut tx, ente, &righe, Some(origine), now).await?;
            }
            PezzoRicevute::Fine(mut job) => {
                import_q::tx_chiudi_import(&mut tx, Some(&mut job), n, 0).await?;
                tx.commit().await?;
                return Ok(*job);
            }
        }
    }
    // The reader stopped without its report: nothing of the file is applied.
    Err(StoreError::Corrupt(
        "lettura del file interrotta: nessuna ricevuta importata".into(),
    ))
}
