//! Persistence on SQLite (embedded default, WAL) or PostgreSQL (production; several gateway
//! instances on one database), as one repository per aggregate: [`Registro`], [`Dovuti`],
//! [`Importazioni`], [`Journal`], [`Pagamenti`] (RPT and RT), [`Carrelli`], [`Outbox`],
//! [`Riconciliazione`], [`Esportazioni`], [`Contabilita`]. A repository is a borrowed view of
//! the [`Store`] (`store.dovuti().get(…)`); its SQL is written once and compiled once per
//! backend, and a backend-specific path (bulk COPY, rusqlite) sits next to the generic one.

use crate::model::{
    Importo, OrigineRpt, StatoCarrello, StatoDovuto, StatoFlusso, StatoJob, StatoRpt, StatoRt,
    TipoJob,
};
use crate::registry::{Dovuto, Ente, TipoDovuto};
use sqlx::migrate::Migrator;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{PgPool, SqlitePool};
use std::str::FromStr;
use std::time::Duration;
use time::{Date, OffsetDateTime};

// Dates travel as ISO text (yyyy-MM-dd) in JSON and query strings.
pub use crate::model::iso_date;

pub static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("migrations/sqlite");
pub static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("migrations/postgres");

/// Runs `$body` with `$q` bound to the backend's query module and `$p` to its pool.
macro_rules! dispatch {
    ($self:expr, |$q:ident, $p:ident| $body:expr) => {
        match &$self.pool {
            $crate::store::Pool::Sqlite($p) => {
                use self::sqlite as $q;
                $body
            }
            $crate::store::Pool::Postgres($p) => {
                use self::postgres as $q;
                $body
            }
        }
    };
}

mod analisi;
pub mod cache;
mod carrelli;
mod contabilita;
mod dovuti;
mod esportazioni;
mod importazioni;
mod journal;
mod operatori;
mod outbox;
mod pagamenti;
mod registro;
mod riconciliazione;
mod righe;
mod sqlite_bulk;
mod tipi;
pub(crate) mod turno;

pub use carrelli::Carrelli;
pub use contabilita::*;
pub use dovuti::{Dovuti, LettureAccorpate};
pub use esportazioni::Esportazioni;
pub use importazioni::{Importazioni, SCARTI_IN_VISTA};
pub use journal::Journal;
pub use operatori::{Modifica, NuovoOperatore, Operatore, Operatori, Sessione};
pub use outbox::Outbox;
pub use pagamenti::Pagamenti;
pub use registro::Registro;
pub use riconciliazione::Riconciliazione;
pub(crate) use righe::{DovutoRow, EnteRow, TipoDovutoRow};
pub use tipi::*;

/// The store's backend base: what every repository's SQL needs (the pool and connection
/// types, the write transaction, keyed bulk reads). Each repository compiles its SQL once
/// per backend on top of these, so each query is type-checked against its driver without
/// the `Any` driver (which cannot carry PostgreSQL dates) or generic bounds.
pub(crate) mod sqlite {
    pub type Db = sqlx::Sqlite;
    pub const IS_POSTGRES: bool = false;
    include!("comune.rs");
    include!("comune_sqlite.rs");
}

pub(crate) mod postgres {
    pub type Db = sqlx::Postgres;
    pub const IS_POSTGRES: bool = true;
    include!("comune.rs");
    include!("comune_postgres.rs");
}

#[derive(Clone)]
pub enum Pool {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// The store: a cheap-to-clone handle on the pool of one backend.
#[derive(Clone)]
pub struct Store {
    pool: Pool,
    /// SQLite only: the synchronous read path of the hottest query.
    reader: Option<std::sync::Arc<dovuti::sqlite_read::Reader>>,
    /// PostgreSQL only: the same read, coalesced across concurrent requests.
    accorpate: Option<std::sync::Arc<dovuti::postgres_read::Accorpatore>>,
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    /// A uniqueness or state conflict, explained for the caller.
    #[error("{0}")]
    Conflict(String),
    #[error("database error: {0}")]
    Db(#[from] sqlx::Error),
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    /// The document's raw bytes were removed by the retention (`retention.*`): its parsed
    /// facts remain.
    #[error("removed by the retention policy")]
    Eliminato,
}

pub type StoreResult<T> = Result<T, StoreError>;

impl StoreError {
    /// The database could not be reached or did not answer in time (no connection free,
    /// connection lost, a lock not granted within `database.lock_timeout_ms`): a "try
    /// again later", not a bug. The one place that tells.
    pub fn is_unavailable(&self) -> bool {
        let StoreError::Db(e) = self else {
            return false;
        };
        match e {
            sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::Io(_)
            | sqlx::Error::Tls(_) => true,
            // PostgreSQL: lock_not_available, query_canceled, admin/crash shutdown, cannot
            // connect now; SQLite: SQLITE_BUSY, SQLITE_LOCKED.
            sqlx::Error::Database(d) => matches!(
                d.code().as_deref(),
                Some(
                    "55P03"
                        | "57014"
                        | "57P01"
                        | "57P02"
                        | "57P03"
                        | "5"
                        | "6"
                        | "261"
                        | "262"
                        | "517"
                        | "773"
                )
            ),
            _ => false,
        }
    }
}

/// How long the store waits (`database.*` in the configuration).
#[derive(Debug, Clone, Copy)]
pub struct Attese {
    pub max_connections: u32,
    /// For a free connection of the pool.
    pub acquire: Duration,
    /// For a lock (PostgreSQL `lock_timeout`, SQLite busy timeout).
    pub lock: Duration,
}

impl Default for Attese {
    fn default() -> Self {
        Attese {
            max_connections: 16,
            acquire: Duration::from_secs(3),
            lock: Duration::from_secs(5),
        }
    }
}

fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(d) if d.is_unique_violation())
}

impl Store {
    /// Connects by URL: `sqlite://…` or `postgres://…`, with the default waits.
    pub async fn connect(url: &str, max_connections: u32) -> anyhow::Result<Store> {
        Self::connect_with(
            url,
            Attese {
                max_connections,
                ..Attese::default()
            },
        )
        .await
    }

    /// Connects by URL. SQLite files are created if missing.
    pub async fn connect_with(url: &str, a: Attese) -> anyhow::Result<Store> {
        let pool = if url.starts_with("sqlite:") {
            let opts = SqliteConnectOptions::from_str(url)?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                // FULL: a committed receipt survives a power cut, not only a crash.
                .synchronous(SqliteSynchronous::Full)
                .foreign_keys(true)
                .busy_timeout(a.lock);
            Pool::Sqlite(
                SqlitePoolOptions::new()
                    .max_connections(a.max_connections)
                    .acquire_timeout(a.acquire)
                    // A local file: the ping before every checkout would be one more hop
                    // to the connection's worker thread on every query, and proves nothing.
                    .test_before_acquire(false)
                    .connect_with(opts)
                    .await?,
            )
        } else {
            // lock_timeout: a statement waiting for a lock (a table locked by hand, a long
            // transaction) fails after it on the server too, freeing its connection.
            let opts = PgConnectOptions::from_str(url)?
                .options([("lock_timeout", format!("{}ms", a.lock.as_millis()))]);
            Pool::Postgres(
                PgPoolOptions::new()
                    .max_connections(a.max_connections)
                    .acquire_timeout(a.acquire)
                    // No ping before every checkout: a round trip more on every request
                    // (two per receipt). sqlx pings a connection when it comes back and
                    // closes it if broken; only one that broke while idle (the server
                    // restarted) fails its next statement: that request gets the fault of
                    // any database error (PAA_SYSTEM_ERROR, which the Nodo retries).
                    .test_before_acquire(false)
                    .connect_with(opts)
                    .await?,
            )
        };
        Ok(Store::from_pool(pool))
    }

    pub fn from_pool(pool: Pool) -> Store {
        let (reader, accorpate) = match &pool {
            Pool::Sqlite(p) => (
                dovuti::sqlite_read::Reader::new(&p.connect_options()).map(std::sync::Arc::new),
                None,
            ),
            Pool::Postgres(p) => (
                None,
                Some(std::sync::Arc::new(
                    dovuti::postgres_read::Accorpatore::new(p.clone()),
                )),
            ),
        };
        Store {
            pool,
            reader,
            accorpate,
        }
    }

    /// (connections open, of which idle, the pool's limit): how close this instance is to
    /// waiting for a connection.
    pub fn pool_usage(&self) -> (u32, u32, u32) {
        match &self.pool {
            Pool::Sqlite(p) => (
                p.size(),
                p.num_idle() as u32,
                p.options().get_max_connections(),
            ),
            Pool::Postgres(p) => (
                p.size(),
                p.num_idle() as u32,
                p.options().get_max_connections(),
            ),
        }
    }

    pub fn backend(&self) -> &'static str {
        match self.pool {
            Pool::Sqlite(_) => "sqlite",
            Pool::Postgres(_) => "postgres",
        }
    }

    /// Applies pending migrations. On PostgreSQL sqlx takes an advisory lock, so instances
    /// starting together do not race.
    pub async fn migrate(&self) -> anyhow::Result<()> {
        match &self.pool {
            Pool::Sqlite(p) => SQLITE_MIGRATIONS.run(p).await?,
            Pool::Postgres(p) => {
                // Instances starting together wait for each other's migration lock, and a
                // migration may wait for table locks: no lock deadline on this connection.
                let opts = (*p.connect_options())
                    .clone()
                    .options([("lock_timeout", "0")]);
                let mut c = <sqlx::PgConnection as sqlx::Connection>::connect_with(&opts).await?;
                POSTGRES_MIGRATIONS.run(&mut c).await?;
                sqlx::Connection::close(c).await?;
            }
        }
        Ok(())
    }

    /// The database answers within `within`. The ping itself is never cut off (see
    /// `supervise::to_the_end`).
    pub async fn ping_within(&self, within: Duration) -> StoreResult<()> {
        let store = self.clone();
        let ping = crate::supervise::to_the_end(async move { store.ping().await });
        match tokio::time::timeout(within, ping).await {
            Ok(Some(r)) => r,
            Ok(None) => Err(StoreError::Db(sqlx::Error::PoolClosed)),
            Err(_) => Err(StoreError::Db(sqlx::Error::PoolTimedOut)),
        }
    }

    /// A consistent copy of the embedded database into `out` while it serves: SQLite's
    /// `VACUUM INTO` reads one snapshot (writers go on) and writes a compact, self-contained
    /// file that is the database as of that snapshot. PostgreSQL has its own tools.
    pub async fn backup_into(&self, out: &std::path::Path) -> anyhow::Result<()> {
        match &self.pool {
            Pool::Sqlite(p) => {
                let path = out
                    .to_str()
                    .ok_or_else(|| anyhow::anyhow!("{} is not UTF-8", out.display()))?;
                sqlx::query("VACUUM INTO $1").bind(path).execute(p).await?;
                Ok(())
            }
            Pool::Postgres(_) => anyhow::bail!(
                "PostgreSQL is backed up with its own tools: pg_dump (logical) or pg_basebackup with WAL archiving (point in time); see the README"
            ),
        }
    }

    pub async fn ping(&self) -> StoreResult<()> {
        match &self.pool {
            Pool::Sqlite(p) => sqlite::ping(p).await,
            Pool::Postgres(p) => postgres::ping(p).await,
        }
    }

    pub async fn close(&self) {
        match &self.pool {
            Pool::Sqlite(p) => p.close().await,
            Pool::Postgres(p) => p.close().await,
        }
    }
}

/// Whole seconds: SQLite keeps timestamps as RFC 3339 text, whose fraction has a variable
/// length, so only fraction-free values compare correctly as strings (leases, due times).
fn now() -> OffsetDateTime {
    let t = OffsetDateTime::now_utc();
    t.replace_nanosecond(0).unwrap_or(t)
}

/// A cutoff compared with stored (whole-second) timestamps: rounded up, so "older than"
/// includes what was stored within the cutoff's own second.
fn ceil_secs(t: OffsetDateTime) -> OffsetDateTime {
    match t.replace_nanosecond(0) {
        Ok(s) if s != t => s + time::Duration::SECOND,
        _ => t,
    }
}

/// A LIKE pattern matching `v` anywhere, its own `%`, `_` and `\\` taken literally; every
/// LIKE using it ends with [`LIKE_ESCAPE`] (a search for `_` must not match everything).
fn like_contains(v: &str) -> String {
    let escaped = v
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    format!("%{escaped}%")
}

/// The escape clause of [`like_contains`] patterns, the same on both backends.
const LIKE_ESCAPE: &str = " ESCAPE '\\'";

/// The repositories, each a borrowed view of the store.
impl Store {
    /// The registry: intermediary, enti, tipi dovuto, API keys.
    pub fn registro(&self) -> Registro<'_> {
        Registro(self)
    }
    /// Dovuti, their history and CSV import.
    pub fn dovuti(&self) -> Dovuti<'_> {
        Dovuti(self)
    }
    /// Import jobs and their reject reports.
    pub fn importazioni(&self) -> Importazioni<'_> {
        Importazioni(self)
    }
    /// The message journal.
    pub fn journal(&self) -> Journal<'_> {
        Journal(self)
    }
    /// RPTs and received RTs.
    pub fn pagamenti(&self) -> Pagamenti<'_> {
        Pagamenti(self)
    }
    /// Portal carts.
    pub fn carrelli(&self) -> Carrelli<'_> {
        Carrelli(self)
    }
    /// Console operators, their sessions and the journal of changes.
    pub fn operatori(&self) -> Operatori<'_> {
        Operatori(self)
    }
    /// The outbox of typed jobs.
    pub fn outbox(&self) -> Outbox<'_> {
        Outbox(self)
    }
    /// The MyPivot reconciliation store.
    pub fn riconciliazione(&self) -> Riconciliazione<'_> {
        Riconciliazione(self)
    }
    /// Export jobs.
    pub fn esportazioni(&self) -> Esportazioni<'_> {
        Esportazioni(self)
    }
    /// Chart, accertamenti and statistics.
    pub fn contabilita(&self) -> Contabilita<'_> {
        Contabilita(self)
    }
}
