//! Persistence on SQLite (embedded default, WAL) or PostgreSQL (production; several gateway
//! instances on one database). The SQL is written once in `queries.rs` and compiled twice,
//! once per backend with a concrete `Db`, so each query is type-checked against its driver
//! without the `Any` driver (which cannot carry PostgreSQL dates) or generic bounds.

use crate::model::{Importo, StatoCarrello, StatoDovuto, StatoRpt, StatoRt, TipoJob};
use crate::registry::{
    Contatti, Dovuto, Ente, Pagatore, PoliticaScadenza, TipoDovuto, TipoSoggetto,
};
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

pub mod cache;
mod contabilita;
mod sqlite_bulk;
mod sqlite_read;
mod tipi;

pub use contabilita::*;
pub use tipi::*;

mod sqlite {
    pub type Db = sqlx::Sqlite;
    pub const IS_POSTGRES: bool = false;
    include!("queries.rs");
    include!("dovuti_queries.rs");
    include!("journal_queries.rs");
    include!("pagamenti_queries.rs");
    include!("flussi_queries.rs");
    include!("recon_queries.rs");
    include!("recon_viste_queries.rs");
    include!("accertamenti_queries.rs");
    include!("capitoli_queries.rs");
    include!("statistiche_queries.rs");
    include!("recon_sqlite.rs");
}

mod postgres {
    pub type Db = sqlx::Postgres;
    pub const IS_POSTGRES: bool = true;
    include!("queries.rs");
    include!("dovuti_queries.rs");
    include!("journal_queries.rs");
    include!("pagamenti_queries.rs");
    include!("flussi_queries.rs");
    include!("recon_queries.rs");
    include!("recon_viste_queries.rs");
    include!("accertamenti_queries.rs");
    include!("capitoli_queries.rs");
    include!("statistiche_queries.rs");
    include!("recon_postgres.rs");
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
    reader: Option<std::sync::Arc<sqlite_read::Reader>>,
}

/// Runs `$body` with `$q` bound to the backend's query module and `$p` to its pool.
macro_rules! dispatch {
    ($self:expr, |$q:ident, $p:ident| $body:expr) => {
        match &$self.pool {
            Pool::Sqlite($p) => {
                use $crate::store::sqlite as $q;
                $body
            }
            Pool::Postgres($p) => {
                use $crate::store::postgres as $q;
                $body
            }
        }
    };
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
}

pub type StoreResult<T> = Result<T, StoreError>;

fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(d) if d.is_unique_violation())
}

impl Store {
    /// Connects by URL: `sqlite://…` or `postgres://…`. SQLite files are created if missing.
    pub async fn connect(url: &str, max_connections: u32) -> anyhow::Result<Store> {
        let pool = if url.starts_with("sqlite:") {
            let opts = SqliteConnectOptions::from_str(url)?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                // FULL: a committed receipt survives a power cut, not only a crash.
                .synchronous(SqliteSynchronous::Full)
                .foreign_keys(true)
                .busy_timeout(Duration::from_secs(10));
            Pool::Sqlite(
                SqlitePoolOptions::new()
                    .max_connections(max_connections)
                    // A local file: the ping before every checkout would be one more hop
                    // to the connection's worker thread on every query, and proves nothing.
                    .test_before_acquire(false)
                    .connect_with(opts)
                    .await?,
            )
        } else {
            let opts = PgConnectOptions::from_str(url)?;
            Pool::Postgres(Self::pg_pool(opts, max_connections).await?)
        };
        Ok(Store::from_pool(pool))
    }

    pub async fn pg_pool(
        opts: PgConnectOptions,
        max_connections: u32,
    ) -> Result<PgPool, sqlx::Error> {
        PgPoolOptions::new()
            .max_connections(max_connections)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(opts)
            .await
    }

    pub fn from_pool(pool: Pool) -> Store {
        let reader = match &pool {
            Pool::Sqlite(p) => {
                sqlite_read::Reader::new(&p.connect_options()).map(std::sync::Arc::new)
            }
            Pool::Postgres(_) => None,
        };
        Store { pool, reader }
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
            Pool::Postgres(p) => POSTGRES_MIGRATIONS.run(p).await?,
        }
        Ok(())
    }

    pub async fn ping(&self) -> StoreResult<()> {
        dispatch!(self, |q, p| q::ping(p).await)
    }

    pub async fn close(&self) {
        match &self.pool {
            Pool::Sqlite(p) => p.close().await,
            Pool::Postgres(p) => p.close().await,
        }
    }
}

// ---- rows ----------------------------------------------------------------------------

fn corrupt(what: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("{what}: {e}"))
}

fn importo(cents: i64) -> StoreResult<Importo> {
    Importo::from_cents(cents).map_err(|e| corrupt("importo", e))
}

#[derive(sqlx::FromRow)]
pub(crate) struct EnteRow {
    id_dominio: String,
    denominazione: String,
    codice_ipa: String,
    segregation_code: i64,
    email: Option<String>,
    telefono: Option<String>,
    sito_web: Option<String>,
    ibans: String,
    flg_pagati: bool,
    flg_tesoreria: bool,
    attivo: bool,
    created_at: OffsetDateTime,
    updated_at: OffsetDateTime,
}

impl TryFrom<EnteRow> for Ente {
    type Error = StoreError;
    fn try_from(r: EnteRow) -> StoreResult<Ente> {
        Ok(Ente {
            id_dominio: r
                .id_dominio
                .parse()
                .map_err(|e| corrupt("ente.id_dominio", e))?,
            denominazione: r.denominazione,
            codice_ipa: r.codice_ipa,
            segregation_code: u8::try_from(r.segregation_code)
                .ok()
                .and_then(|c| crate::model::SegregationCode::new(c).ok())
                .ok_or_else(|| corrupt("ente.segregation_code", r.segregation_code))?,
            contatti: Contatti {
                email: r.email,
                telefono: r.telefono,
                sito_web: r.sito_web,
            },
            ibans: serde_json::from_str(&r.ibans).map_err(|e| corrupt("ente.ibans", e))?,
            flg_pagati: r.flg_pagati,
            flg_tesoreria: r.flg_tesoreria,
            attivo: r.attivo,
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct TipoDovutoRow {
    id_dominio: String,
    codice: String,
    descrizione: String,
    iban: String,
    dati_specifici_riscossione: String,
    importo_fisso_cents: Option<i64>,
    spontaneo: bool,
    cf_anonimo: bool,
    politica_scadenza: String,
    mora_fissa_cents: i64,
    interesse_annuo_bp: i64,
    attivo: bool,
}

impl TryFrom<TipoDovutoRow> for TipoDovuto {
    type Error = StoreError;
    fn try_from(r: TipoDovutoRow) -> StoreResult<TipoDovuto> {
        Ok(TipoDovuto {
            id_dominio: r
                .id_dominio
                .parse()
                .map_err(|e| corrupt("tipo_dovuto.id_dominio", e))?,
            codice: r.codice,
            descrizione: r.descrizione,
            iban: r.iban.parse().map_err(|e| corrupt("tipo_dovuto.iban", e))?,
            dati_specifici_riscossione: r
                .dati_specifici_riscossione
                .parse()
                .map_err(|e| corrupt("tipo_dovuto.dsr", e))?,
            importo_fisso: r.importo_fisso_cents.map(importo).transpose()?,
            spontaneo: r.spontaneo,
            cf_anonimo: r.cf_anonimo,
            politica_scadenza: PoliticaScadenza::parse(&r.politica_scadenza)
                .ok_or_else(|| corrupt("tipo_dovuto.politica_scadenza", &r.politica_scadenza))?,
            mora_fissa: importo(r.mora_fissa_cents)?,
            interesse_annuo_bp: r.interesse_annuo_bp,
            attivo: r.attivo,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct DovutoRow {
    id: i64,
    id_dominio: String,
    iud: String,
    iuv: String,
    numero_avviso: Option<String>,
    tipo_dovuto: String,
    tipo_soggetto: String,
    codice_fiscale: String,
    anagrafica: String,
    indirizzo: Option<String>,
    civico: Option<String>,
    cap: Option<String>,
    localita: Option<String>,
    provincia: Option<String>,
    nazione: Option<String>,
    email: Option<String>,
    importo_cents: i64,
    commissione_pa_cents: Option<i64>,
    causale: String,
    dati_specifici_riscossione: String,
    tipo_versamento: String,
    data_scadenza: Option<Date>,
    data_validita: Option<Date>,
    bilancio: String,
    stato: String,
    version: i64,
    created_at: OffsetDateTime,
    updated_at: OffsetDateTime,
}

impl TryFrom<DovutoRow> for Dovuto {
    type Error = StoreError;
    fn try_from(r: DovutoRow) -> StoreResult<Dovuto> {
        let cf = if r.codice_fiscale == crate::model::codice_fiscale::CF_ANONIMO {
            crate::model::CodiceFiscale::anonimo()
        } else {
            r.codice_fiscale
                .parse()
                .map_err(|e| corrupt("dovuto.codice_fiscale", e))?
        };
        Ok(Dovuto {
            id: r.id,
            id_dominio: r
                .id_dominio
                .parse()
                .map_err(|e| corrupt("dovuto.id_dominio", e))?,
            iud: r.iud,
            iuv: r.iuv.parse().map_err(|e| corrupt("dovuto.iuv", e))?,
            numero_avviso: r
                .numero_avviso
                .map(|n| n.parse())
                .transpose()
                .map_err(|e| corrupt("dovuto.numero_avviso", e))?,
            tipo_dovuto: r.tipo_dovuto,
            pagatore: Pagatore {
                tipo: TipoSoggetto::parse(&r.tipo_soggetto)
                    .ok_or_else(|| corrupt("dovuto.tipo_soggetto", &r.tipo_soggetto))?,
                codice_fiscale: cf,
                anagrafica: r.anagrafica,
                indirizzo: r.indirizzo,
                civico: r.civico,
                cap: r.cap,
                localita: r.localita,
                provincia: r.provincia,
                nazione: r.nazione,
                email: r.email,
            },
            importo: importo(r.importo_cents)?,
            commissione_pa: r.commissione_pa_cents.map(importo).transpose()?,
            causale: r.causale,
            dati_specifici_riscossione: r
                .dati_specifici_riscossione
                .parse()
                .map_err(|e| corrupt("dovuto.dsr", e))?,
            tipo_versamento: r
                .tipo_versamento
                .parse()
                .map_err(|e| corrupt("dovuto.tipo_versamento", e))?,
            data_scadenza: r.data_scadenza,
            data_validita: r.data_validita,
            bilancio: serde_json::from_str(&r.bilancio)
                .map_err(|e| corrupt("dovuto.bilancio", e))?,
            stato: StatoDovuto::parse(&r.stato).map_err(|e| corrupt("dovuto.stato", e))?,
            version: r.version,
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }
}

// ---- the store's operations, dispatched to the backend ----

use crate::registry::import_csv::FileCsv;
use crate::registry::{DovutoValido, EnteInput, TipoDovutoInput};

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

// The operations, one file per area (each an `impl Store` dispatching to the backend).
mod operazioni;
mod operazioni_contabili;
