// Keyed bulk reads on SQLite: through rusqlite on the transaction's own connection (see
// sqlite_bulk.rs), falling back to sqlx for a value the fast path refuses.

use crate::store::sqlite_bulk::{self, DaRiga};

/// `ente!(n)`: the ente bound as `$n` (the PostgreSQL twin makes it a run-time value).
macro_rules! ente {
    ($n:literal) => {
        concat!("$", $n)
    };
}
pub(crate) use ente;

pub async fn per_chiavi<T, K>(
    c: &mut Conn,
    select_from: &str,
    ente: &str,
    col: &str,
    keys: &[K],
) -> StoreResult<Vec<T>>
where
    T: for<'r> sqlx::FromRow<'r, <Db as sqlx::Database>::Row> + DaRiga + Send + Unpin,
    K: Chiave,
{
    if keys.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "{select_from} WHERE id_dominio = ?1 AND {col} IN (SELECT value FROM json_each(?2))"
    );
    let json = serde_json::to_string(keys).expect("keys serialize");
    match sqlite_bulk::con_handle(c, |db| sqlite_bulk::leggi(db, &sql, ente, Some(&json))).await? {
        Ok(v) => Ok(v),
        Err(e) => {
            tracing::warn!(error = %e, "reconciliation read: fast path refused, reading through sqlx");
            // The same statement, decoded by sqlx.
            Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
                .bind(ente)
                .bind(json)
                .fetch_all(&mut *c)
                .await?)
        }
    }
}

pub async fn tutte<T>(c: &mut Conn, select_from: &str, ente: &str) -> StoreResult<Vec<T>>
where
    T: for<'r> sqlx::FromRow<'r, <Db as sqlx::Database>::Row> + DaRiga + Send + Unpin,
{
    let sql = format!("{select_from} WHERE id_dominio = ?1");
    match sqlite_bulk::con_handle(c, |db| sqlite_bulk::leggi(db, &sql, ente, None)).await? {
        Ok(v) => Ok(v),
        Err(e) => {
            tracing::warn!(error = %e, "reconciliation read: fast path refused, reading through sqlx");
            tutte_sqlx(c, select_from, ente).await
        }
    }
}

/// Pushes `SELECT <each key>`: the whole set as one bound JSON array, so a statement takes
/// any number of keys (30,000 IUVs of a flow: one statement, not sixty).
pub fn push_chiavi<K: Chiave>(q: &mut sqlx::QueryBuilder<Db>, keys: &[K]) {
    let json = serde_json::to_string(keys).expect("keys serialize");
    q.push("SELECT value FROM json_each(")
        .push_bind(json)
        .push(")");
}

/// Pushes a row source `k` of the pairs, as columns `k.a` and `k.b`: the whole set as one
/// bound JSON array of pairs.
pub fn push_coppie(q: &mut sqlx::QueryBuilder<Db>, coppie: &[(&str, String)]) {
    let json = serde_json::to_string(coppie).expect("pairs serialize");
    q.push("(SELECT value ->> 0 AS a, value ->> 1 AS b FROM json_each(")
        .push_bind(json)
        .push(")) AS k");
}

/// Pushes `<colonna> IN (<keys>)` (see the PostgreSQL twin).
pub fn push_in<K: Chiave>(q: &mut sqlx::QueryBuilder<Db>, colonna: &str, keys: &[K]) {
    q.push(colonna).push(" IN (");
    push_chiavi(q, keys);
    q.push(")");
}

/// This process's turn at the single writer a SQLite database has. Without it, writers that
/// meet at `BEGIN IMMEDIATE` are refused and poll the lock with SQLite's busy handler, which
/// sleeps 1, 2, 5, 10… ms between tries: eight activations arriving together took 5 ms at
/// the median and 80 ms at p99 for half a millisecond of work each. In line (callers first,
/// then background work: `store::turno`) each is woken the moment the one before it commits.
/// Shared by every pool of the process on the same file; waited for as long as a pool
/// connection is (`database.acquire_timeout_ms`). Taken by `begin_write` and, through
/// `turno`, by every single write statement run outside a transaction; writers in other
/// processes still meet the busy handler.
async fn turno_di_scrittura(
    p: &DbPool,
    sito: crate::store::turno::Sito,
) -> Result<Option<crate::store::turno::Permesso>, sqlx::Error> {
    use crate::store::turno::{SenzaTurno, attendi};
    let opzioni = p.connect_options();
    match attendi(
        opzioni.get_filename(),
        sito,
        p.options().get_acquire_timeout(),
    )
    .await
    {
        Ok(turno) => Ok(Some(turno)),
        Err(SenzaTurno::Chiuso) => Err(sqlx::Error::PoolClosed),
        Err(SenzaTurno::Scaduto) => Err(sqlx::Error::PoolTimedOut),
    }
}

#[cfg(test)]
mod turno_tests {
    use super::*;
    use std::time::{Duration, Instant};

    async fn pool(file: &std::path::Path, acquire_ms: u64) -> DbPool {
        pool_con(file, acquire_ms, Duration::from_secs(5)).await
    }

    /// With `lock` as SQLite's busy timeout (zero: a locked database is refused at once).
    async fn pool_con(file: &std::path::Path, acquire_ms: u64, lock: Duration) -> DbPool {
        let attese = crate::store::Attese {
            max_connections: 4,
            acquire: Duration::from_millis(acquire_ms),
            lock,
        };
        let url = format!("sqlite://{}", file.display());
        match crate::store::Store::connect_with(&url, attese)
            .await
            .unwrap()
            .pool
        {
            crate::store::Pool::Sqlite(p) => p,
            crate::store::Pool::Postgres(_) => unreachable!(),
        }
    }

    /// A file with table `t (colonne)` behind a pool with no busy timeout at all: a writer
    /// that meets the lock is refused at once instead of waiting for it.
    async fn senza_attesa(dir: &tempfile::TempDir, colonne: &str) -> DbPool {
        let p = pool_con(&dir.path().join("t.db"), 10_000, Duration::ZERO).await;
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE TABLE t ({colonne})")))
            .execute(&p)
            .await
            .unwrap();
        p
    }

    /// Writers of one process on one file, through two pools, take their turns in the order
    /// they came; one that waits past its pool's acquire timeout gets a "try again later"
    /// error then, not SQLite's busy error after the lock timeout.
    #[tokio::test]
    async fn writers_take_turns_in_order_within_a_deadline() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("turni.db");
        let (a, b) = (pool(&f, 3_000).await, pool(&f, 3_000).await);
        sqlx::query("CREATE TABLE ordine (n INTEGER)")
            .execute(&a)
            .await
            .unwrap();
        let primo = begin_write(&a).await.unwrap();
        let mut in_fila = Vec::new();
        for n in 1..=4i64 {
            let p = if n % 2 == 0 { a.clone() } else { b.clone() };
            in_fila.push(tokio::spawn(async move {
                let mut tx = begin_write(&p).await.unwrap();
                sqlx::query("INSERT INTO ordine (n) VALUES ($1)")
                    .bind(n)
                    .execute(&mut *tx)
                    .await
                    .unwrap();
                tx.commit().await.unwrap();
            }));
            tokio::time::sleep(Duration::from_millis(40)).await;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
        primo.commit().await.unwrap();
        for w in in_fila {
            w.await.unwrap();
        }
        let ordine: Vec<(i64,)> = sqlx::query_as("SELECT n FROM ordine ORDER BY rowid")
            .fetch_all(&a)
            .await
            .unwrap();
        assert_eq!(ordine, vec![(1,), (2,), (3,), (4,)]);

        let breve = pool(&f, 200).await;
        let tenuto = begin_write(&a).await.unwrap();
        let t = Instant::now();
        let e = begin_write(&breve)
            .await
            .err()
            .expect("no turn while another holds it");
        assert!(matches!(e, sqlx::Error::PoolTimedOut), "{e}");
        assert!(t.elapsed() < Duration::from_secs(2), "{:?}", t.elapsed());
        tenuto.rollback().await.unwrap();
        begin_write(&breve).await.unwrap().commit().await.unwrap();
    }

    /// A write transaction dropped open, as a cancelled request drops it in the middle of a
    /// statement, has rolled back by the time the next writer gets its turn: with no busy
    /// timeout at all, the next writer finds the database free, and nothing of the dropped
    /// one is kept. (Its rollback can only run once that statement ends.)
    #[tokio::test]
    async fn a_dropped_write_transaction_rolls_back_before_the_turn_passes_on() {
        let dir = tempfile::tempdir().unwrap();
        let p = senza_attesa(&dir, "n INTEGER").await;
        for n in 1..=3i64 {
            let mut abbandonata = begin_write(&p).await.unwrap();
            sqlx::query("INSERT INTO t (n) VALUES ($1)")
                .bind(-n)
                .execute(&mut *abbandonata)
                .await
                .unwrap();
            let lenta = sqlx::query_as::<_, (i64,)>(
                "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 3000000) SELECT count(*) FROM c",
            )
            .fetch_one(&mut *abbandonata);
            let cancellata = tokio::time::timeout(Duration::from_millis(10), lenta).await;
            assert!(cancellata.is_err(), "the statement outlasts its caller");
            drop(abbandonata);
            let mut tx = begin_write(&p)
                .await
                .unwrap_or_else(|e| panic!("round {n}: the next writer met a lock: {e}"));
            sqlx::query("INSERT INTO t (n) VALUES ($1)")
                .bind(n)
                .execute(&mut *tx)
                .await
                .unwrap();
            tx.commit().await.unwrap();
        }
        let kept: Vec<(i64,)> = sqlx::query_as("SELECT n FROM t ORDER BY n")
            .fetch_all(&p)
            .await
            .unwrap();
        assert_eq!(kept, vec![(1,), (2,), (3,)]);
    }

    /// A single write statement outside a transaction waits for its turn behind a writer
    /// that holds the database, instead of meeting the lock (here with no busy timeout at
    /// all, it would be refused at once), and runs when that writer commits.
    #[tokio::test]
    async fn a_single_write_statement_waits_for_its_turn() {
        let dir = tempfile::tempdir().unwrap();
        let p = senza_attesa(&dir, "n INTEGER").await;
        let mut tenuta = begin_write(&p).await.unwrap();
        sqlx::query("INSERT INTO t (n) VALUES (1)")
            .execute(&mut *tenuta)
            .await
            .unwrap();
        let in_fila = {
            let p = p.clone();
            tokio::spawn(async move {
                let _turno = turno(&p).await.unwrap();
                sqlx::query("INSERT INTO t (n) VALUES (2)")
                    .execute(&p)
                    .await
            })
        };
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert!(!in_fila.is_finished(), "it waits while the turn is held");
        tenuta.commit().await.unwrap();
        in_fila
            .await
            .unwrap()
            .expect("run in its turn, never refused");
        let righe: Vec<(i64,)> = sqlx::query_as("SELECT n FROM t ORDER BY n")
            .fetch_all(&p)
            .await
            .unwrap();
        assert_eq!(righe, vec![(1,), (2,)]);
    }

    /// A commit its caller stopped waiting for (a request's deadline) still ends before the
    /// turn passes on: the next writer, with no busy timeout, finds the file free, and the
    /// commit that was sent has taken effect.
    #[tokio::test]
    async fn a_cancelled_commit_ends_before_the_turn_passes_on() {
        let dir = tempfile::tempdir().unwrap();
        let p = senza_attesa(&dir, "n INTEGER, b BLOB").await;
        for round in 1..=2i64 {
            let mut grande = begin_write(&p).await.unwrap();
            sqlx::query(
                "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 20000) INSERT INTO t SELECT $1, randomblob(1000) FROM c",
            )
            .bind(round)
            .execute(&mut *grande)
            .await
            .unwrap();
            let abbandonato = tokio::time::timeout(Duration::ZERO, grande.commit()).await;
            assert!(
                abbandonato.is_err(),
                "the caller stops waiting for the commit"
            );
            let mut dopo = begin_write(&p)
                .await
                .unwrap_or_else(|e| panic!("round {round}: the next writer met a lock: {e}"));
            sqlx::query("INSERT INTO t (n) VALUES (0)")
                .execute(&mut *dopo)
                .await
                .unwrap();
            dopo.commit().await.unwrap();
            let (n,): (i64,) = sqlx::query_as("SELECT count(*) FROM t WHERE n = $1")
                .bind(round)
                .fetch_one(&p)
                .await
                .unwrap();
            assert_eq!(n, 20_000, "round {round}: the commit sent took effect");
        }
    }

    /// Every write statement the store runs straight on the pool takes the writer's turn
    /// first (see `turno`): read off the store's sources, so a new one that forgets
    /// it fails here rather than in a p99.
    #[test]
    fn every_write_on_the_pool_takes_the_turn() {
        let radice = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/store");
        let mut file = Vec::new();
        let mut cartelle = vec![radice];
        while let Some(d) = cartelle.pop() {
            for e in std::fs::read_dir(d).unwrap() {
                let path = e.unwrap().path();
                if path.is_dir() {
                    cartelle.push(path);
                } else if path.extension().is_some_and(|x| x == "rs")
                    // This file names, in the test, the calls it looks for.
                    && !path.ends_with("comune_sqlite.rs")
                {
                    file.push(path);
                }
            }
        }
        let sul_pool = [
            ".execute(p)",
            ".fetch_one(p)",
            ".fetch_optional(p)",
            ".fetch_all(p)",
        ];
        let mut senza = Vec::new();
        for f in &file {
            let testo = std::fs::read_to_string(f).unwrap();
            let righe: Vec<&str> = testo.lines().collect();
            for (i, riga) in righe.iter().enumerate() {
                if !sul_pool.iter().any(|s| riga.contains(s)) {
                    continue;
                }
                // The statement's first line, and the function around it.
                let Some(inizio) = (0..=i).rev().find(|&j| {
                    ["sqlx::query", "sqlx::raw_sql", "QueryBuilder"]
                        .iter()
                        .any(|s| righe[j].contains(s))
                }) else {
                    continue;
                };
                let istruzione = righe[inizio..=i].join(" ");
                if !["INSERT", "UPDATE", "DELETE"]
                    .iter()
                    .any(|w| istruzione.contains(w))
                {
                    continue;
                }
                let funzione = (0..=inizio)
                    .rev()
                    .find(|&j| righe[j].contains("async fn "))
                    .unwrap_or(0);
                if !righe[funzione..inizio]
                    .iter()
                    .any(|r| r.contains("turno(p)"))
                {
                    senza.push(format!("{}:{}", f.display(), inizio + 1));
                }
            }
        }
        assert!(file.len() > 10, "the repositories' sources are read");
        assert!(
            senza.is_empty(),
            "writes on the pool without the turn: {senza:?}"
        );
    }
}
