// The reconciliation's bulk writes on SQLite (see sqlite_bulk.rs).

use crate::store::sqlite_bulk;

/// A flow's payments with one prepared statement, inside the caller's transaction.
async fn insert_pagamenti_flusso(
    c: &mut Conn,
    f: &NuovoFlusso,
    id: i64,
    regolamento: Date,
    totale: i64,
    validi: &[&crate::model::flusso::PagamentoFlusso],
) -> StoreResult<()> {
    sqlite_bulk::scrivi_con(c, "flow payments write", |db| {
        sqlite_bulk::insert_pagamenti_flusso(db, f, id, regolamento, totale, validi)
    })
    .await
}

/// Classified lines, many to a statement, inside the caller's transaction.
async fn scrivi(
    c: &mut Conn,
    ente: &str,
    righe: &[motore::Riga<'_>],
    now: OffsetDateTime,
) -> StoreResult<()> {
    sqlite_bulk::scrivi_con(c, "reconciliation write", |db| {
        sqlite_bulk::scrivi(db, ente, righe, now)
    })
    .await
}

/// The ente's stored lines `ids`, by id. The ente is only checked (`+` keeps SQLite's
/// planner, which has no statistics, from walking an index of the ente's whole lines
/// instead of probing each id).
async fn libere(c: &mut Conn, ente: &str, ids: &[i64]) -> StoreResult<Vec<Libera>> {
    const SQL: &str = "SELECT id, chiave, iur, indice, tesoreria_id FROM riconciliazione
         WHERE id IN (SELECT value FROM json_each(?2)) AND +id_dominio = ?1";
    let json = serde_json::to_string(ids).expect("ids serialize");
    sqlite_bulk::scrivi_con(c, "reconciliation read", |db| {
        sqlite_bulk::leggi(db, SQL, ente, Some(&json))
    })
    .await
}

/// Stored lines rewritten in place with the computed rows `righe`, line `ids[i]` as
/// `righe[i]`, in the caller's transaction; returns what each line was. Each update sets
/// only the columns whose value changed, so SQLite touches only the indexes on them.
async fn riscrivi(
    c: &mut Conn,
    ente: &str,
    ids: &[i64],
    righe: &[motore::Riga<'_>],
    now: OffsetDateTime,
) -> StoreResult<Vec<Tolta>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    sqlite_bulk::scrivi_con(c, "reconciliation rewrite", |db| {
        sqlite_bulk::riscrivi(db, ente, ids, righe, now)
    })
    .await
}

/// Nothing to tidy after a large rebuild on SQLite: it keeps no per-row visibility marks,
/// and the views' plans are pinned by `INDEXED BY`, not chosen from statistics.
async fn dopo_riscrittura_massiva(_p: &DbPool) {}

/// Queue keys per background pass. On the reference machine a pass of 64 receipts' keys
/// holds the writer 3–5 ms (about 2 ms of it fixed cost per pass), where the 600 receipts
/// of 3 s at 200 RT/s took 15–20 ms in one transaction, every receipt arriving meanwhile
/// waiting for it.
pub(in crate::store) const PASSATA_DI_FONDO: i64 = 64;

/// The lines' IUVs by IUD, through the IUD's index: left to itself, SQLite's planner reads
/// every line of the ente through the order's index, which holds both columns (50 ms a
/// reclassification at 200,000 lines, against a few probes).
const IUV_PER_IUD: &str = "SELECT iuv FROM riconciliazione INDEXED BY riconciliazione_iud";

/// A view's lines in the views' order, read along the order's index (SQLite's planner,
/// without statistics, would rather take a filter's index and sort a million lines).
const DA_ORDINE: &str = " FROM riconciliazione r INDEXED BY riconciliazione_ordine";

async fn in_ordine(
    p: &DbPool,
    mut q: sqlx::QueryBuilder<Db>,
) -> StoreResult<Vec<RigaRiconciliazione>> {
    Ok(q.build_query_as().fetch_all(p).await?)
}

/// The count of a view's matches, stopped at the bound the query carries.
async fn conta_fino(p: &DbPool, mut q: sqlx::QueryBuilder<Db>) -> StoreResult<i64> {
    let (n,): (i64,) = q.build_query_as().fetch_one(p).await?;
    Ok(n)
}
