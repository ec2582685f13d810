// What every repository's SQL needs from its backend: the pool and connection types and
// the write transaction.
// Compiled once per backend (see the repository's mod.rs).

use crate::store::StoreResult;

pub type DbPool = sqlx::Pool<Db>;

pub type Conn = <Db as sqlx::Database>::Connection;

/// The columns of `RicevutaStaged`, read by the reconciliation's views and the
/// accertamenti's candidates.
pub const SEL_RICEVUTA: &str = "SELECT id, iuv, iur, indice, iud, tipo_dovuto, importo_cents, totale_cents, data_esito, cf_pagatore, anagrafica_pagatore, cf_versante, anagrafica_versante, attestante, denominazione_attestante, causale, bilancio, fonte FROM ricevuta";

/// Starts a write transaction. On SQLite it takes the write lock at once (IMMEDIATE): a
/// deferred transaction that reads first and writes later can fail with SQLITE_BUSY on the
/// lock upgrade, which the busy timeout does not cover.
#[track_caller]
pub fn begin_write(
    p: &DbPool,
) -> impl std::future::Future<Output = Result<Scrittura, sqlx::Error>> + Send + '_ {
    // The caller's line names the turn (see `store::turno`).
    let sito = std::panic::Location::caller();
    async move {
        // The turn before the connection: a writer waiting in line holds no connection.
        let turno = turno_di_scrittura(p, sito).await?;
        let tx = p
            .begin_with(if IS_POSTGRES {
                "BEGIN"
            } else {
                "BEGIN IMMEDIATE"
            })
            .await?;
        Ok(Scrittura {
            tx: Some(tx),
            turno,
        })
    }
}

/// This process's turn at SQLite's single writer (nothing on PostgreSQL), held by a single
/// write statement run on the pool outside a transaction: `let _turno = turno(p).await?;`
/// before it. Without it such a statement took the database's lock between two turns, and
/// the next turn's `BEGIN IMMEDIATE` met it in SQLite's busy handler, which sleeps 1, 2,
/// 5, 10… ms: that was most of paaInviaRT's p99 on SQLite (an e-mail job's completion, a
/// lease renewal, each an autocommit write beside the receipts' transactions).
#[track_caller]
pub fn turno(
    p: &DbPool,
) -> impl std::future::Future<Output = Result<Turno, sqlx::Error>> + Send + '_ {
    let sito = std::panic::Location::caller();
    async move { turno_di_scrittura(p, sito).await.map(Turno) }
}

/// See [`turno`]; the turn passes on when this is dropped.
#[must_use = "the turn passes on when dropped"]
pub struct Turno(#[allow(dead_code)] Option<crate::store::turno::Permesso>);

/// A write transaction from [`begin_write`], used as the connection it runs on; it ends
/// with `commit` or `rollback` (or, dropped, rolls back).
pub struct Scrittura {
    /// Open until `commit` or `rollback` takes it.
    tx: Option<sqlx::Transaction<'static, Db>>,
    /// SQLite: this process's turn at the database's single writer, until the end.
    turno: Option<crate::store::turno::Permesso>,
}

const APERTA: &str = "a write transaction is open until commit or rollback consumes it";

impl std::ops::Deref for Scrittura {
    type Target = Conn;
    fn deref(&self) -> &Conn {
        self.tx.as_deref().expect(APERTA)
    }
}

impl std::ops::DerefMut for Scrittura {
    fn deref_mut(&mut self) -> &mut Conn {
        self.tx.as_deref_mut().expect(APERTA)
    }
}

impl Scrittura {
    pub async fn commit(mut self) -> Result<(), sqlx::Error> {
        let tx = self.tx.take().expect(APERTA);
        fino_in_fondo(tx.commit(), self.turno.take()).await
    }
    pub async fn rollback(mut self) -> Result<(), sqlx::Error> {
        let tx = self.tx.take().expect(APERTA);
        fino_in_fondo(tx.rollback(), self.turno.take()).await
    }
}

/// Ends a transaction holding SQLite's writer turn: in a task, so that a caller cancelled
/// meanwhile (a request's deadline) cannot pass the turn on while the COMMIT or ROLLBACK
/// it sent is still running on the connection. Without a turn (PostgreSQL) it runs here.
async fn fino_in_fondo(
    fine: impl std::future::Future<Output = Result<(), sqlx::Error>> + Send + 'static,
    turno: Option<crate::store::turno::Permesso>,
) -> Result<(), sqlx::Error> {
    let Some(turno) = turno else {
        return fine.await;
    };
    nel_turno(fine, turno)
        .await
        .map_err(|e| sqlx::Error::Io(std::io::Error::other(e)))?
}

/// Runs `fine` in a task that passes the turn on only once `fine` is over.
fn nel_turno(
    fine: impl std::future::Future<Output = Result<(), sqlx::Error>> + Send + 'static,
    turno: crate::store::turno::Permesso,
) -> tokio::task::JoinHandle<Result<(), sqlx::Error>> {
    tokio::spawn(async move {
        let esito = fine.await;
        drop(turno);
        esito
    })
}

impl Drop for Scrittura {
    /// Dropped open (an error returned with `?`, a cancelled request): sqlx sends the
    /// rollback to the connection without waiting for it, behind any statement still running
    /// there (a cancelled request can leave one). The writer's turn passed on now would hand
    /// the next writer a database still locked, to sit in SQLite's busy handler or fail. So
    /// the rollback is awaited in a task, and the turn passes on after it.
    fn drop(&mut self) {
        if let Some(tx) = self.tx.take()
            && let Some(turno) = self.turno.take()
            && tokio::runtime::Handle::try_current().is_ok()
        {
            // Nobody awaits this one: its failure is logged here.
            nel_turno(
                async move {
                    let esito = tx.rollback().await;
                    if let Err(e) = &esito {
                        tracing::warn!(error = %e, "rollback of an abandoned write transaction failed");
                    }
                    esito
                },
                turno,
            );
        }
    }
}

pub async fn ping(p: &DbPool) -> StoreResult<()> {
    sqlx::query("SELECT 1").execute(p).await?;
    Ok(())
}

/// A key of a set passed as one JSON array: text or integer.
pub trait Chiave: serde::Serialize {
    /// The set as a typed array, for a backend that binds one (PostgreSQL; SQLite takes
    /// the JSON array).
    #[allow(dead_code)] // called by the PostgreSQL store only
    fn vettore(keys: &[Self]) -> Vettore
    where
        Self: Sized;
}

/// A set of keys as one typed array.
#[allow(dead_code)] // built by the PostgreSQL store only
pub enum Vettore {
    Testi(Vec<String>),
    Numeri(Vec<i64>),
}

impl Chiave for String {
    fn vettore(keys: &[Self]) -> Vettore {
        Vettore::Testi(keys.to_vec())
    }
}

impl Chiave for i64 {
    fn vettore(keys: &[Self]) -> Vettore {
        Vettore::Numeri(keys.to_vec())
    }
}

/// Pushes the ente as a bound value, as [`ente!`] writes it.
pub fn push_ente(q: &mut sqlx::QueryBuilder<Db>, ente: &str) {
    if IS_POSTGRES {
        q.push("(SELECT ")
            .push_bind(ente.to_owned())
            .push("::text)");
    } else {
        q.push_bind(ente.to_owned());
    }
}

/// `SELECT <select> FROM <from> WHERE id_dominio = ?` through sqlx.
pub async fn tutte_sqlx<T>(c: &mut Conn, select_from: &str, ente: &str) -> StoreResult<Vec<T>>
where
    T: for<'r> sqlx::FromRow<'r, <Db as sqlx::Database>::Row> + Send + Unpin,
{
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{select_from} WHERE id_dominio = $1"
    )))
    .bind(ente)
    .fetch_all(&mut *c)
    .await?)
}

/// The retention of raw documents: empties `raw` of at most `batch` rows of `table` that
/// `filtro` selects (`$2` is the cut), oldest first; returns how many. The rows stay.
pub async fn svuota_raw(
    p: &DbPool,
    table: &'static str,
    filtro: &'static str,
    before: time::OffsetDateTime,
    batch: i64,
) -> StoreResult<u64> {
    let _turno = turno(p).await?;
    Ok(sqlx::query(sqlx::AssertSqlSafe(format!(
        "UPDATE {table} SET raw = $1 WHERE id IN (SELECT id FROM {table} WHERE {filtro} AND length(raw) > 0 ORDER BY id LIMIT $3)"
    )))
    .bind(Vec::<u8>::new())
    .bind(before)
    .bind(batch)
    .execute(p)
    .await?
    .rows_affected())
}
