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

pub use contabilita::*;

mod sqlite {
    pub type Db = sqlx::Sqlite;
    pub const IS_POSTGRES: bool = false;
    include!("queries.rs");
    include!("recon_queries.rs");
    include!("accertamenti_queries.rs");
    include!("recon_sqlite.rs");
}

mod postgres {
    pub type Db = sqlx::Postgres;
    pub const IS_POSTGRES: bool = true;
    include!("queries.rs");
    include!("recon_queries.rs");
    include!("accertamenti_queries.rs");
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
                use self::sqlite as $q;
                $body
            }
            Pool::Postgres($p) => {
                use self::postgres as $q;
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

/// Filters of the enti search; `None` matches everything.
#[derive(Debug, Default, Clone)]
pub struct EntiFilter {
    /// Restricts to one ente (an operator sees only their own).
    pub id_dominio: Option<String>,
    /// Substring of the name, codice IPA or fiscal code, case-insensitive.
    pub q: Option<String>,
    pub codice_ipa: Option<String>,
    pub attivo: Option<bool>,
}

#[derive(Debug, Default, Clone)]
pub struct DovutiFilter {
    pub id_dominio: Option<String>,
    pub stato: Option<StatoDovuto>,
    pub codice_fiscale: Option<String>,
    pub iud: Option<String>,
    pub iuv: Option<String>,
    pub numero_avviso: Option<String>,
    pub tipo_dovuto: Option<String>,
}

/// One line of a file import that was not applied.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct Scarto {
    pub riga: u64,
    pub codice: String,
    pub motivo: String,
    pub riga_originale: String,
}

/// An import job and its report, kept so the operator can fetch the rejects later.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct ImportJob {
    pub id: String,
    pub id_dominio: String,
    pub tipo: String,
    pub file_name: Option<String>,
    pub file_sha256: String,
    pub versione: Option<String>,
    pub stato: String,
    pub righe_lette: i64,
    pub righe_importate: i64,
    pub righe_invariate: i64,
    pub righe_scartate: i64,
    pub scarti: Vec<Scarto>,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: OffsetDateTime,
}

#[derive(sqlx::FromRow)]
pub(crate) struct ImportJobRow {
    id: String,
    id_dominio: String,
    tipo: String,
    file_name: Option<String>,
    file_sha256: String,
    versione: Option<String>,
    stato: String,
    righe_lette: i64,
    righe_importate: i64,
    righe_invariate: i64,
    righe_scartate: i64,
    scarti: String,
    created_at: OffsetDateTime,
}

impl TryFrom<ImportJobRow> for ImportJob {
    type Error = StoreError;
    fn try_from(r: ImportJobRow) -> StoreResult<ImportJob> {
        Ok(ImportJob {
            scarti: serde_json::from_str(&r.scarti).map_err(|e| corrupt("import_job.scarti", e))?,
            id: r.id,
            id_dominio: r.id_dominio,
            tipo: r.tipo,
            file_name: r.file_name,
            file_sha256: r.file_sha256,
            versione: r.versione,
            stato: r.stato,
            righe_lette: r.righe_lette,
            righe_importate: r.righe_importate,
            righe_invariate: r.righe_invariate,
            righe_scartate: r.righe_scartate,
            created_at: r.created_at,
        })
    }
}

/// One step of a dovuto's state history.
#[derive(Debug, Clone, serde::Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct StoricoStato {
    pub stato_da: Option<String>,
    pub stato_a: String,
    pub motivo: String,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub at: OffsetDateTime,
}

/// The intermediary and its station, as the Nodo knows them.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Intermediario {
    pub id_intermediario_pa: String,
    pub id_stazione: String,
    /// Never returned by the API.
    #[serde(skip_serializing)]
    pub password: String,
}

/// An operator API key as listed (the secret itself is shown once, at creation).
#[derive(Debug, Clone, serde::Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct ApiKey {
    pub id: i64,
    pub id_dominio: String,
    pub label: String,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub revoked_at: Option<OffsetDateTime>,
}

/// One SOAP exchange, as the journal keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JournalEntry {
    pub at: OffsetDateTime,
    /// `IN`: the Nodo called us; `OUT`: we called the Nodo.
    pub direction: &'static str,
    pub operation: String,
    pub id_dominio: Option<String>,
    pub iuv: Option<String>,
    pub ccp: Option<String>,
    pub id_psp: Option<String>,
    /// `OK` or the faultCode.
    pub outcome: String,
    pub http_status: Option<i64>,
    pub duration_us: i64,
    /// Shared with the HTTP layer, not copied.
    pub request: bytes::Bytes,
    pub response: bytes::Bytes,
}

/// A journal entry as listed (bodies omitted).
#[derive(Debug, Clone, serde::Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct JournalSummary {
    pub id: i64,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub at: OffsetDateTime,
    pub direction: String,
    pub operation: String,
    pub id_dominio: Option<String>,
    pub iuv: Option<String>,
    pub ccp: Option<String>,
    pub id_psp: Option<String>,
    pub outcome: String,
    pub http_status: Option<i64>,
    pub duration_us: i64,
}

/// A journal entry with its raw bodies.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct JournalFull {
    #[sqlx(flatten)]
    pub summary: JournalSummary,
    pub request: Vec<u8>,
    pub response: Vec<u8>,
}

#[derive(Debug, Default, Clone)]
pub struct JournalFilter {
    pub id_dominio: Option<String>,
    pub operation: Option<String>,
    pub iuv: Option<String>,
    pub outcome: Option<String>,
}

/// An RPT to record (created by paaAttivaRPT or for a portal payment).
#[derive(Debug, Clone)]
pub struct NuovaRpt {
    pub id_dominio: String,
    pub iuv: String,
    pub ccp: String,
    pub dovuto_id: Option<i64>,
    pub importo: Importo,
    pub xml: Vec<u8>,
}

/// A cart to create: its RPTs with the dovuti they pay (as read, for compare-and-set).
#[derive(Debug, Clone)]
pub struct NuovoCarrello {
    pub id: String,
    pub multi_beneficiario: bool,
    pub email_login: Option<String>,
    pub rpts: Vec<(NuovaRpt, Dovuto)>,
}

/// A cart as stored. stato: CREATO, INVIATO (the Nodo accepted it: `url`), RIFIUTATO.
#[derive(Debug, Clone, serde::Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Carrello {
    pub id: String,
    pub multi_beneficiario: bool,
    #[sqlx(try_from = "String")]
    pub stato: StatoCarrello,
    pub url: Option<String>,
    pub email_login: Option<String>,
    pub errore: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: OffsetDateTime,
}

/// A downloaded reporting flow to store. stato: ACQUISITO (read, totals consistent),
/// ANOMALO (read, totals do not add up), ILLEGGIBILE, ENTE_NON_SERVITO (another
/// istitutoRicevente), SCONOSCIUTO (listed, then PPT_ID_FLUSSO_SCONOSCIUTO: no bytes).
#[derive(Debug, Clone)]
pub struct NuovoFlusso {
    pub id_dominio: String,
    pub id_flusso: String,
    pub data_ora_flusso: String,
    pub raw: Vec<u8>,
    pub stato: &'static str,
    pub nota: Option<String>,
    pub numero_pagamenti: Option<i64>,
    pub importo_cents: Option<i64>,
    /// When read: the settlement day and the payments (kept for reconciliation).
    pub data_regolamento: Option<Date>,
    pub id_regolamento: Option<String>,
    pub pagamenti: Vec<crate::model::flusso::PagamentoFlusso>,
    /// The sender (istitutoMittente's code), when read.
    pub psp: Option<String>,
    /// Schema facets the flow breaks but that were read leniently, `; `-separated.
    pub deviazioni: Option<String>,
}

impl NuovoFlusso {
    /// A flow about to be read: nothing known but its keys.
    pub fn da_leggere(id_dominio: &str, id_flusso: &str, data_ora_flusso: &str) -> NuovoFlusso {
        NuovoFlusso {
            id_dominio: id_dominio.to_owned(),
            id_flusso: id_flusso.to_owned(),
            data_ora_flusso: data_ora_flusso.to_owned(),
            raw: Vec::new(),
            stato: "SCONOSCIUTO",
            nota: None,
            numero_pagamenti: None,
            importo_cents: None,
            data_regolamento: None,
            id_regolamento: None,
            pagamenti: Vec::new(),
            psp: None,
            deviazioni: None,
        }
    }
}

pub use crate::dominio::ricevuta::{EsitoRt, NuovaRicevuta};

/// Filters of the Riconciliazione / Anomalie views (docs/riconciliazione.md §6.1); `codici`
/// is the set of codes asked for (bits of recon::classifica::Codice).
#[derive(Debug, Clone, Default, serde::Deserialize, serde::Serialize)]
pub struct FiltroRiconciliazione {
    #[serde(default)]
    pub codici: u64,
    pub tipo_dovuto: Option<String>,
    pub iud: Option<String>,
    pub iuv: Option<String>,
    pub iur: Option<String>,
    pub iuf: Option<String>,
    pub attestante: Option<String>,
    pub cf_pagatore: Option<String>,
    pub ordinante: Option<String>,
    pub anno_bolletta: Option<i64>,
    pub codice_bolletta: Option<String>,
    pub importo_tesoreria_cents: Option<i64>,
    #[serde(default, with = "iso_date::option")]
    pub data_esito_da: Option<Date>,
    #[serde(default, with = "iso_date::option")]
    pub data_esito_a: Option<Date>,
    #[serde(default, with = "iso_date::option")]
    pub data_regolamento_da: Option<Date>,
    #[serde(default, with = "iso_date::option")]
    pub data_regolamento_a: Option<Date>,
    #[serde(default, with = "iso_date::option")]
    pub data_contabile_da: Option<Date>,
    #[serde(default, with = "iso_date::option")]
    pub data_contabile_a: Option<Date>,
    #[serde(default, with = "iso_date::option")]
    pub data_valuta_da: Option<Date>,
    #[serde(default, with = "iso_date::option")]
    pub data_valuta_a: Option<Date>,
    /// Only the lines an operator hid (instead of only the visible ones).
    #[serde(default)]
    pub nascosti: bool,
}

pub use crate::recon::riga::RigaRiconciliazione;

#[derive(Debug, Clone, serde::Deserialize, utoipa::ToSchema)]
pub struct NuovaSegnalazione {
    /// The classification code of the line.
    pub codice: String,
    #[serde(skip)]
    pub bit: u64,
    pub iuf: Option<String>,
    pub iud: Option<String>,
    pub iuv: Option<String>,
    pub nota: String,
    /// Hide the line from the default views.
    #[serde(default)]
    pub nascosto: bool,
}

#[derive(Debug, Clone, serde::Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Segnalazione {
    pub id: i64,
    pub codice: String,
    pub iuf: Option<String>,
    pub iud: Option<String>,
    pub iuv: Option<String>,
    pub nota: String,
    pub nascosto: bool,
    /// False once a newer note on the same line superseded it.
    pub attivo: bool,
    pub utente: String,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: OffsetDateTime,
}

#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FiltroRicevute {
    pub tipo_dovuto: Option<String>,
    pub iud: Option<String>,
    pub iuv: Option<String>,
    pub iur: Option<String>,
    /// Code or name of the attesting PSP (contains).
    pub attestante: Option<String>,
    pub cf_pagatore: Option<String>,
    pub cf_versante: Option<String>,
    /// GATEWAY, PAGATI or SURROGATO.
    pub fonte: Option<String>,
    #[param(value_type = Option<String>, format = Date)]
    #[serde(default, with = "iso_date::option")]
    pub data_esito_da: Option<Date>,
    #[param(value_type = Option<String>, format = Date)]
    #[serde(default, with = "iso_date::option")]
    pub data_esito_a: Option<Date>,
}

/// A staged receipt's single payment (Ricevute telematiche view).
#[derive(Debug, Clone, serde::Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct RicevutaStaged {
    pub id: i64,
    pub iuv: String,
    pub iur: String,
    pub indice: i64,
    pub iud: Option<String>,
    pub tipo_dovuto: Option<String>,
    pub importo_cents: i64,
    pub totale_cents: i64,
    #[schema(value_type = String, format = Date)]
    #[serde(with = "iso_date")]
    pub data_esito: Date,
    pub cf_pagatore: Option<String>,
    pub anagrafica_pagatore: Option<String>,
    pub cf_versante: Option<String>,
    pub anagrafica_versante: Option<String>,
    pub attestante: Option<String>,
    pub denominazione_attestante: Option<String>,
    pub causale: Option<String>,
    pub bilancio: Option<String>,
    pub fonte: String,
}

/// A reporting flow as the Rendicontazione view lists it.
#[derive(Debug, Clone, serde::Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct FlussoRendicontato {
    pub iuf: String,
    pub data_ora_flusso: Option<String>,
    pub id_regolamento: Option<String>,
    #[schema(value_type = Option<String>, format = Date)]
    #[serde(default, with = "iso_date::option")]
    pub data_regolamento: Option<Date>,
    pub pagamenti: i64,
    pub totale_flusso_cents: Option<i64>,
}

/// A reported payment with its receipt, if any.
#[derive(Debug, Clone, serde::Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct PagamentoRendicontato {
    pub iuv: String,
    pub iur: String,
    pub indice: Option<i64>,
    pub importo_cents: i64,
    pub esito: i64,
    #[schema(value_type = String, format = Date)]
    #[serde(with = "iso_date")]
    pub data_esito: Date,
    pub iud: Option<String>,
    pub importo_ricevuta_cents: Option<i64>,
    #[schema(value_type = Option<String>, format = Date)]
    #[serde(default, with = "iso_date::option")]
    pub data_esito_ricevuta: Option<Date>,
    pub cf_pagatore: Option<String>,
    pub fonte_ricevuta: Option<String>,
}

/// A booked reconciliation export.
#[derive(Debug, Clone, serde::Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct ExportRiconciliazione {
    pub id: String,
    pub id_dominio: String,
    pub versione: String,
    /// The filters as booked (JSON).
    pub filtri: String,
    /// PRENOTATO, IN_CORSO, ESEGUITO, ESEGUITO_NESSUN_RECORD, ERRORE.
    pub stato: String,
    pub righe: i64,
    pub errore: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub finished_at: Option<OffsetDateTime>,
}

/// One reported payment (R).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct RigaRendicontazione {
    pub iuf: String,
    pub iuv: String,
    pub iur: String,
    pub indice: Option<i64>,
    pub importo_cents: i64,
    pub esito: i64,
    pub totale_flusso_cents: i64,
}

#[derive(Debug, Clone, serde::Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct FlussoScaricato {
    pub id: i64,
    pub id_dominio: String,
    pub id_flusso: String,
    pub data_ora_flusso: String,
    pub stato: String,
    pub nota: Option<String>,
    /// The sending PSP (istitutoMittente), once read.
    pub psp: Option<String>,
    /// Schema facets (FlussoRiversamento 1.0.4) the flow breaks but that were read
    /// leniently: field, rule, first value, count; `; `-separated.
    pub deviazioni: Option<String>,
    pub numero_pagamenti: Option<i64>,
    pub importo_cents: Option<i64>,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: OffsetDateTime,
}

/// One RPT of a cart as the portal polls it.
#[derive(Debug, Clone, serde::Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct EsitoRptCarrello {
    pub id_dominio: String,
    pub iuv: String,
    pub stato_rpt: String,
    pub stato_dovuto: Option<String>,
    /// The RT's codiceEsitoPagamento (0 paid, 1 not paid, 2 partially paid, …) once it came.
    pub codice_esito: Option<i64>,
    pub importo_pagato_cents: Option<i64>,
}

/// A stored treasury journal line.
#[derive(Debug, Clone, serde::Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct RigaTesoreria {
    pub id: i64,
    pub id_dominio: String,
    pub anno_bolletta: i64,
    pub codice_bolletta: String,
    #[schema(value_type = String, format = Date)]
    #[serde(with = "iso_date")]
    pub data_contabile: Date,
    #[schema(value_type = String, format = Date)]
    #[serde(with = "iso_date")]
    pub data_valuta: Date,
    pub importo_cents: i64,
    pub ordinante: String,
    pub causale: String,
    /// Flow identifier from the causale (a cumulative transfer).
    pub iuf: Option<String>,
    /// Payment identifier from the causale (a punctual transfer).
    pub iuv: Option<String>,
    /// `CSV` or `OPI`.
    pub fonte: String,
}

/// The PSP that will collect, from paaAttivaRPT.
#[derive(Debug, Clone)]
pub struct PspAttiva {
    pub id_psp: String,
    pub id_intermediario_psp: String,
    pub id_canale: String,
}

/// A pending piece of outbound work.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OutboxRow {
    pub id: i64,
    pub kind: String,
    pub ref_id: Option<i64>,
    pub stato: String,
    pub attempts: i64,
}

/// A queued piece of outbound work.
#[derive(Debug, Clone, serde::Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct OutboxJob {
    pub id: i64,
    /// `nodoInviaRPT`, `rtEmail`, …
    pub kind: String,
    pub ref_id: Option<i64>,
    pub payload: String,
    /// `PENDING`, `DONE` or `DEAD` (a dead letter: retry it over REST).
    pub stato: String,
    pub attempts: i64,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub next_attempt_at: OffsetDateTime,
    pub lease_owner: Option<String>,
    pub last_error: Option<String>,
    pub result: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: OffsetDateTime,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct RtEmailData {
    pub raw: Vec<u8>,
    pub email_dovuto: Option<String>,
    pub email_login: Option<String>,
}

/// An RPT with what sending it needs.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct RptDaInviare {
    pub id: i64,
    pub id_dominio: String,
    pub iuv: String,
    pub ccp: String,
    pub xml: Vec<u8>,
    #[sqlx(try_from = "String")]
    pub stato: StatoRpt,
    pub origine: String,
    pub id_psp: Option<String>,
    pub id_intermediario_psp: Option<String>,
    pub id_canale: Option<String>,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct RptRow {
    pub id: i64,
    pub id_dominio: String,
    pub iuv: String,
    pub ccp: String,
    pub dovuto_id: Option<i64>,
    pub importo_cents: i64,
    #[sqlx(try_from = "String")]
    pub stato: StatoRpt,
}

/// Where a freshly received RT stands after its raw bytes were committed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RtStored {
    /// Stored now (first delivery, or replacing an invalid one): process it.
    Nuova(i64),
    /// Already received in this state.
    Esistente { id: i64, stato: StatoRt },
}

/// A stored receipt's key and raw bytes, for processing it again.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct RtGrezza {
    pub id: i64,
    pub id_dominio: String,
    pub iuv: String,
    pub ccp: String,
    pub raw: Vec<u8>,
}

/// A received RT as listed (raw bytes omitted).
#[derive(Debug, Clone, serde::Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct RtRicevuta {
    pub id: i64,
    pub id_dominio: String,
    pub iuv: String,
    pub ccp: String,
    /// RICEVUTA, ELABORATA, ANOMALA, QUARANTENA or INVALIDA.
    pub stato: String,
    pub codice_esito: Option<i64>,
    pub importo_cents: Option<i64>,
    pub rpt_id: Option<i64>,
    pub nota: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub received_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: OffsetDateTime,
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

impl Store {
    pub async fn seed_intermediario(&self, i: &Intermediario) -> StoreResult<()> {
        dispatch!(self, |q, p| q::seed_intermediario(p, i, now()).await)
    }
    pub async fn put_intermediario(&self, i: &Intermediario) -> StoreResult<()> {
        dispatch!(self, |q, p| q::put_intermediario(p, i, now()).await)
    }
    pub async fn get_intermediario(&self) -> StoreResult<Intermediario> {
        dispatch!(self, |q, p| q::get_intermediario(p).await)
    }

    pub async fn insert_ente(&self, e: &EnteInput) -> StoreResult<Ente> {
        dispatch!(self, |q, p| q::insert_ente(p, e, now()).await)?;
        self.get_ente(e.id_dominio.as_str()).await
    }
    pub async fn update_ente(&self, e: &EnteInput) -> StoreResult<Ente> {
        dispatch!(self, |q, p| q::update_ente(p, e, now()).await)?;
        self.get_ente(e.id_dominio.as_str()).await
    }
    pub async fn get_ente(&self, id_dominio: &str) -> StoreResult<Ente> {
        dispatch!(self, |q, p| q::get_ente(p, id_dominio).await)
    }
    pub async fn search_enti(
        &self,
        f: &EntiFilter,
        limit: i64,
        offset: i64,
    ) -> StoreResult<(Vec<Ente>, i64)> {
        dispatch!(self, |q, p| q::search_enti(p, f, limit, offset).await)
    }

    pub async fn create_tipo_dovuto(
        &self,
        ente: &str,
        t: &TipoDovutoInput,
    ) -> StoreResult<TipoDovuto> {
        dispatch!(self, |q, p| q::upsert_tipo_dovuto(p, ente, t, true, now())
            .await)?;
        self.get_tipo_dovuto(ente, &t.codice).await
    }
    pub async fn update_tipo_dovuto(
        &self,
        ente: &str,
        t: &TipoDovutoInput,
    ) -> StoreResult<TipoDovuto> {
        dispatch!(self, |q, p| q::upsert_tipo_dovuto(p, ente, t, false, now())
            .await)?;
        self.get_tipo_dovuto(ente, &t.codice).await
    }
    pub async fn get_tipo_dovuto(&self, ente: &str, codice: &str) -> StoreResult<TipoDovuto> {
        dispatch!(self, |q, p| q::get_tipo_dovuto(p, ente, codice).await)
    }
    pub async fn list_tipi_dovuto(&self, ente: &str) -> StoreResult<Vec<TipoDovuto>> {
        dispatch!(self, |q, p| q::list_tipi_dovuto(p, ente).await)
    }

    pub async fn insert_dovuto(
        &self,
        ente: &Ente,
        d: &DovutoValido,
        motivo: &str,
    ) -> StoreResult<Dovuto> {
        dispatch!(self, |q, p| q::insert_dovuto(p, ente, d, motivo, now())
            .await)
    }
    pub async fn update_dovuto(
        &self,
        old: &Dovuto,
        d: &DovutoValido,
        motivo: &str,
    ) -> StoreResult<Dovuto> {
        dispatch!(self, |q, p| q::update_dovuto(p, old, d, motivo, now())
            .await)
    }
    pub async fn change_stato(
        &self,
        d: &Dovuto,
        to: StatoDovuto,
        motivo: &str,
    ) -> StoreResult<Dovuto> {
        dispatch!(self, |q, p| q::change_stato(p, d, to, motivo, now()).await)
    }
    pub async fn get_dovuto(&self, ente: &str, iud: &str) -> StoreResult<Dovuto> {
        dispatch!(self, |q, p| q::get_dovuto(p, ente, iud).await)
    }
    pub async fn get_dovuto_by_iuv(&self, ente: &str, iuv: &str) -> StoreResult<Option<Dovuto>> {
        if let Some(r) = &self.reader {
            match r.dovuto_by_iuv(ente, iuv) {
                Ok(found) => return found,
                Err(why) => tracing::debug!(?why, "SQLite fast read fell back to sqlx"),
            }
        }
        dispatch!(self, |q, p| q::get_dovuto_by_iuv(p, ente, iuv).await)
    }
    pub async fn storia_dovuto(&self, id: i64) -> StoreResult<Vec<StoricoStato>> {
        dispatch!(self, |q, p| q::storia_dovuto(p, id).await)
    }
    pub async fn search_dovuti(
        &self,
        f: &DovutiFilter,
        limit: i64,
        offset: i64,
    ) -> StoreResult<(Vec<Dovuto>, i64)> {
        dispatch!(self, |q, p| q::search_dovuti(p, f, limit, offset).await)
    }

    pub async fn apply_dovuti_import(
        &self,
        ente: &Ente,
        tipi: &[TipoDovuto],
        file: &FileCsv,
        file_name: Option<&str>,
        sha256: &str,
    ) -> StoreResult<ImportJob> {
        let id = uuid::Uuid::new_v4().to_string();
        dispatch!(self, |q, p| q::apply_dovuti_import(
            p,
            ente,
            tipi,
            file,
            (&id, file_name, sha256),
            now()
        )
        .await)
    }
    pub async fn get_import_job(&self, ente: &str, id: &str) -> StoreResult<ImportJob> {
        dispatch!(self, |q, p| q::get_import_job(p, ente, id).await)
    }

    pub async fn insert_journal(&self, entries: &[JournalEntry]) -> StoreResult<()> {
        dispatch!(self, |q, p| q::insert_journal(p, entries).await)
    }
    pub async fn search_journal(
        &self,
        f: &JournalFilter,
        limit: i64,
        offset: i64,
    ) -> StoreResult<(Vec<JournalSummary>, i64)> {
        dispatch!(self, |q, p| q::search_journal(p, f, limit, offset).await)
    }
    /// Entries with id > `after`, oldest first, bodies included.
    pub async fn journal_after(&self, after: i64, limit: i64) -> StoreResult<Vec<JournalFull>> {
        dispatch!(self, |q, p| q::journal_after(p, after, limit).await)
    }
    /// Deletes entries older than `before`; returns how many.
    pub async fn prune_journal(&self, before: OffsetDateTime) -> StoreResult<u64> {
        let before = ceil_secs(before);
        dispatch!(self, |q, p| q::prune_journal(p, before).await)
    }

    pub async fn insert_rpt(&self, r: &NuovaRpt) -> StoreResult<i64> {
        dispatch!(self, |q, p| q::insert_rpt(p, r, now()).await)
    }
    /// paaAttivaRPT in one transaction: the RPT, the dovuto to PAGAMENTO_INIZIATO, and the
    /// nodoInviaRPT job in the outbox.
    pub async fn attiva(&self, r: &NuovaRpt, psp: &PspAttiva, dovuto: &Dovuto) -> StoreResult<i64> {
        dispatch!(self, |q, p| q::attiva(p, r, psp, dovuto, now()).await)
    }
    /// Enqueues another nodoInviaRPT of an existing RPT (a repeated activation).
    pub async fn enqueue(&self, kind: TipoJob, ref_id: i64) -> StoreResult<i64> {
        dispatch!(self, |q, p| q::enqueue(p, kind, ref_id, now()).await)
    }
    pub async fn outbox_pending(&self, kind: &str) -> StoreResult<Vec<OutboxRow>> {
        dispatch!(self, |q, p| q::outbox_pending(p, kind).await)
    }
    /// The RPT document as created, by key (dominio, IUV); the newest if several CCPs.
    pub async fn rpt_xml(&self, dominio: &str, iuv: &str) -> StoreResult<(Vec<u8>, i64)> {
        dispatch!(self, |q, p| q::rpt_xml(p, dominio, iuv).await)
    }
    /// Activations older than `cutoff` that never got an RT: the RPT becomes SCADUTA and its
    /// dovuto payable again. Returns how many. Safe to run on several instances at once.
    pub async fn expire_activations(&self, cutoff: OffsetDateTime) -> StoreResult<usize> {
        let cutoff = ceil_secs(cutoff);
        dispatch!(self, |q, p| q::expire_activations(p, cutoff, now()).await)
    }
    /// (RTs in quarantine, activations waiting for their RT).
    pub async fn pa_gauges(&self) -> StoreResult<(i64, i64)> {
        dispatch!(self, |q, p| q::pa_gauges(p).await)
    }
    pub async fn get_rpt(
        &self,
        dominio: &str,
        iuv: &str,
        ccp: &str,
    ) -> StoreResult<Option<RptRow>> {
        dispatch!(self, |q, p| q::get_rpt(p, dominio, iuv, ccp).await)
    }
    /// Commits the raw RT before anything else looks at it.
    pub async fn store_rt_raw(
        &self,
        dominio: &str,
        iuv: &str,
        ccp: &str,
        raw: &[u8],
    ) -> StoreResult<RtStored> {
        dispatch!(self, |q, p| q::store_rt_raw(
            p,
            dominio,
            iuv,
            ccp,
            raw,
            now()
        )
        .await)
    }
    pub async fn mark_rt(
        &self,
        id: i64,
        stato: StatoRt,
        esito: Option<(u8, Importo)>,
        nota: Option<&str>,
    ) -> StoreResult<()> {
        dispatch!(self, |q, p| q::mark_rt(p, id, stato, esito, nota, now())
            .await)
    }
    /// In one transaction: the RT's state, the RPT's, and the dovuto's (paid, or payable
    /// again after a negative outcome). Re-applying the same RT changes nothing.
    /// `false` when another processing applied this receipt first.
    pub async fn apply_rt(&self, rt_id: i64, rpt: &RptRow, esito: &EsitoRt) -> StoreResult<bool> {
        dispatch!(self, |q, p| q::apply_rt(p, rt_id, rpt, esito, now()).await)
    }
    pub async fn outbox_claim(
        &self,
        owner: &str,
        kinds: Option<&[String]>,
        lease: std::time::Duration,
        limit: i64,
    ) -> StoreResult<Vec<OutboxJob>> {
        let now = now();
        let until = now + lease;
        dispatch!(self, |q, p| q::outbox_claim(
            p, owner, kinds, until, limit, now
        )
        .await)
    }
    pub async fn outbox_done(
        &self,
        id: i64,
        owner: &str,
        result: Option<&str>,
    ) -> StoreResult<bool> {
        dispatch!(self, |q, p| q::outbox_done(p, id, owner, result, now())
            .await)
    }
    /// `retry_in = None`: the job becomes a dead letter.
    pub async fn outbox_failed(
        &self,
        id: i64,
        owner: &str,
        error: &str,
        retry_in: Option<std::time::Duration>,
    ) -> StoreResult<bool> {
        let now = now();
        let next = retry_in.map(|d| now + d);
        dispatch!(self, |q, p| q::outbox_failed(
            p, id, owner, error, next, now
        )
        .await)
    }
    pub async fn outbox_retry(&self, id: i64) -> StoreResult<bool> {
        dispatch!(self, |q, p| q::outbox_retry(p, id, now()).await)
    }
    pub async fn outbox_get(&self, id: i64) -> StoreResult<OutboxJob> {
        dispatch!(self, |q, p| q::outbox_get(p, id).await)
    }
    pub async fn outbox_list(
        &self,
        stato: Option<&str>,
        kind: Option<&str>,
        limit: i64,
        offset: i64,
    ) -> StoreResult<(Vec<OutboxJob>, i64)> {
        dispatch!(self, |q, p| q::outbox_list(p, stato, kind, limit, offset)
            .await)
    }
    pub async fn outbox_stats(
        &self,
    ) -> StoreResult<Vec<(String, String, i64, Option<OffsetDateTime>)>> {
        dispatch!(self, |q, p| q::outbox_stats(p).await)
    }
    pub async fn outbox_enqueue(
        &self,
        kind: &str,
        ref_id: Option<i64>,
        payload: &str,
    ) -> StoreResult<i64> {
        dispatch!(self, |q, p| q::outbox_enqueue(
            p,
            kind,
            ref_id,
            payload,
            now()
        )
        .await)
    }
    /// Returns the id of the send job, already leased to `owner` for `lease`.
    pub async fn crea_carrello(
        &self,
        c: &NuovoCarrello,
        owner: &str,
        lease: std::time::Duration,
    ) -> StoreResult<i64> {
        let now = now();
        let until = now + lease;
        dispatch!(self, |q, p| q::crea_carrello(p, c, owner, until, now).await)
    }
    pub async fn get_carrello(&self, id: &str) -> StoreResult<(Carrello, Vec<RptDaInviare>)> {
        dispatch!(self, |q, p| q::get_carrello(p, id).await)
    }
    pub async fn esito_carrello(
        &self,
        id: &str,
        url: Option<&str>,
        errore: Option<&str>,
    ) -> StoreResult<bool> {
        dispatch!(self, |q, p| q::esito_carrello(p, id, url, errore, now())
            .await)
    }
    pub async fn carrelli_con_prefisso(&self, prefix: &str) -> StoreResult<i64> {
        dispatch!(self, |q, p| q::carrelli_con_prefisso(p, prefix).await)
    }
    /// Enqueues a recovery check for RPTs sent before `before` and still without RT.
    pub async fn pianifica_recuperi(
        &self,
        before: OffsetDateTime,
        limit: i64,
    ) -> StoreResult<usize> {
        let before = ceil_secs(before);
        dispatch!(self, |q, p| q::pianifica_recuperi(p, before, limit, now())
            .await)
    }
    pub async fn rpt_chiusa_ko(&self, rpt_id: i64, motivo: &str) -> StoreResult<bool> {
        dispatch!(self, |q, p| q::rpt_chiusa_ko(p, rpt_id, motivo, now())
            .await)
    }
    pub async fn reinvia_rpt(&self, rpt_id: i64) -> StoreResult<bool> {
        dispatch!(self, |q, p| q::reinvia_rpt(p, rpt_id, now()).await)
    }
    pub async fn flusso_presente(&self, dom: &str, id: &str, data_ora: &str) -> StoreResult<bool> {
        dispatch!(self, |q, p| q::flusso_presente(p, dom, id, data_ora).await)
    }
    pub async fn insert_flusso(&self, f: &NuovoFlusso) -> StoreResult<()> {
        dispatch!(self, |q, p| q::insert_flusso(p, f, now()).await)
    }
    pub async fn list_flussi(
        &self,
        dom: Option<&str>,
        stato: Option<&str>,
        limit: i64,
        offset: i64,
    ) -> StoreResult<(Vec<FlussoScaricato>, i64)> {
        dispatch!(self, |q, p| q::list_flussi(p, dom, stato, limit, offset)
            .await)
    }
    /// Enqueues a `kind` job (`flussi`, `pendenti`) for every active ente not asked
    /// since `since`.
    pub async fn pianifica_per_ente(
        &self,
        kind: TipoJob,
        since: OffsetDateTime,
    ) -> StoreResult<u64> {
        let since = ceil_secs(since);
        dispatch!(self, |q, p| q::pianifica_per_ente(p, kind, since, now())
            .await)
    }
    pub async fn esiti_carrello(&self, id: &str) -> StoreResult<Vec<EsitoRptCarrello>> {
        dispatch!(self, |q, p| q::esiti_carrello(p, id).await)
    }
    pub async fn rt_per_iuv(&self, dom: &str, iuv: &str) -> StoreResult<Option<(i64, Vec<u8>)>> {
        dispatch!(self, |q, p| q::rt_per_iuv(p, dom, iuv).await)
    }
    pub async fn importa_tesoreria(
        &self,
        ente: &str,
        righe: &[crate::recon::giornale::RigaCassa],
        storni: &[(u16, String)],
        fonte: &str,
        job: Option<&mut ImportJob>,
    ) -> StoreResult<(u64, u64)> {
        dispatch!(self, |q, p| q::importa_tesoreria(
            p,
            ente,
            righe,
            storni,
            fonte,
            job,
            now()
        )
        .await)
    }
    pub async fn list_tesoreria(
        &self,
        ente: &str,
        iuf: Option<&str>,
        iuv: Option<&str>,
        limit: i64,
        offset: i64,
    ) -> StoreResult<(Vec<RigaTesoreria>, i64)> {
        dispatch!(self, |q, p| q::list_tesoreria(
            p, ente, iuf, iuv, limit, offset
        )
        .await)
    }
    pub async fn rendicontazione_ente(&self, ente: &str) -> StoreResult<Vec<RigaRendicontazione>> {
        dispatch!(self, |q, p| q::rendicontazione_ente(p, ente).await)
    }
    pub async fn rt_ente(&self, ente: &str) -> StoreResult<Vec<(Vec<u8>, Option<String>)>> {
        dispatch!(self, |q, p| q::rt_ente_iud(p, ente).await)
    }
    pub async fn importa_notifiche(
        &self,
        ente: &str,
        righe: &[crate::recon::notifiche::Notifica],
        job: Option<&mut ImportJob>,
    ) -> StoreResult<u64> {
        dispatch!(self, |q, p| q::importa_notifiche(
            p,
            ente,
            righe,
            job,
            now()
        )
        .await)
    }
    /// Reclassifies what the ente's imports touched since the last run (nothing to do is
    /// one read, so views call it before answering).
    pub async fn recon_elabora(&self, ente: &str) -> StoreResult<usize> {
        if !dispatch!(self, |q, p| q::coda_presente(p, ente).await)? {
            return Ok(0);
        }
        dispatch!(self, |q, p| q::recon_elabora(p, ente, now()).await)
    }
    pub async fn recon_ricostruisci(&self, ente: &str) -> StoreResult<usize> {
        dispatch!(self, |q, p| q::recon_ricostruisci(p, ente, now()).await)
    }
    pub async fn recon_in_attesa(&self) -> StoreResult<Vec<String>> {
        dispatch!(self, |q, p| q::recon_in_attesa(p).await)
    }
    /// `origine` (the file) names the automatic accertamenti its receipts' bilanci make.
    pub async fn importa_ricevute(
        &self,
        ente: &str,
        righe: &[NuovaRicevuta],
        origine: &str,
        job: Option<&mut ImportJob>,
    ) -> StoreResult<u64> {
        dispatch!(self, |q, p| q::importa_ricevute(
            p,
            ente,
            righe,
            origine,
            job,
            now()
        )
        .await)
    }

    // ---- accounting: chart, accertamenti, statistics ----

    /// Refreshes the aggregates of the ente's stale days (nothing stale is one read).
    pub async fn stat_aggiorna(&self, ente: &str) -> StoreResult<usize> {
        if !dispatch!(self, |q, p| q::stat_sporca_presente(p, ente).await)? {
            return Ok(0);
        }
        dispatch!(self, |q, p| q::stat_aggiorna(p, ente).await)
    }
    pub async fn stat_in_attesa(&self) -> StoreResult<Vec<String>> {
        dispatch!(self, |q, p| q::stat_in_attesa(p).await)
    }
    pub async fn statistiche(
        &self,
        ente: &str,
        r: &RichiestaStatistica,
    ) -> StoreResult<Vec<Aggregato>> {
        dispatch!(self, |q, p| q::statistiche(p, ente, r).await)
    }
    pub async fn righe_statistica(
        &self,
        ente: &str,
        misura: crate::recon::statistiche::Misura,
        r: &RichiestaStatistica,
        limit: i64,
        offset: i64,
    ) -> StoreResult<(Vec<RigaStatistica>, i64)> {
        dispatch!(self, |q, p| q::righe_statistica(
            p, ente, misura, r, limit, offset
        )
        .await)
    }
    pub async fn lista_capitoli(
        &self,
        ente: &str,
        f: &FiltroCapitoli,
        limit: i64,
        offset: i64,
    ) -> StoreResult<(Vec<Capitolo>, i64)> {
        dispatch!(self, |q, p| q::lista_capitoli(p, ente, f, limit, offset)
            .await)
    }
    pub async fn get_capitolo(&self, ente: &str, id: i64) -> StoreResult<Capitolo> {
        dispatch!(self, |q, p| q::get_capitolo(p, ente, id).await)
    }
    pub async fn crea_capitolo(
        &self,
        ente: &str,
        r: &crate::recon::accertamenti::RigaCapitolo,
    ) -> StoreResult<i64> {
        dispatch!(self, |q, p| q::crea_capitolo(p, ente, r, now()).await)
    }
    pub async fn modifica_capitolo(
        &self,
        ente: &str,
        id: i64,
        m: &ModificaCapitolo,
    ) -> StoreResult<()> {
        dispatch!(self, |q, p| q::modifica_capitolo(p, ente, id, m, now())
            .await)
    }
    pub async fn elimina_capitolo(&self, ente: &str, id: i64) -> StoreResult<()> {
        dispatch!(self, |q, p| q::elimina_capitolo(p, ente, id).await)
    }
    pub async fn importa_capitoli(
        &self,
        ente: &str,
        file: &crate::recon::accertamenti::FileCapitoli,
        job: ImportJob,
    ) -> StoreResult<ImportJob> {
        dispatch!(self, |q, p| q::importa_capitoli(p, ente, file, job, now())
            .await)
    }
    pub async fn crea_accertamento(
        &self,
        ente: &str,
        nome: &str,
        tipo: &str,
        utente: &str,
    ) -> StoreResult<i64> {
        dispatch!(self, |q, p| q::crea_accertamento(
            p,
            ente,
            nome,
            tipo,
            utente,
            now()
        )
        .await)
    }
    pub async fn lista_accertamenti(
        &self,
        ente: &str,
        stato: Option<&str>,
        tipo: Option<&str>,
        nome: Option<&str>,
        limit: i64,
        offset: i64,
    ) -> StoreResult<(Vec<Accertamento>, i64)> {
        dispatch!(self, |q, p| q::lista_accertamenti(
            p, ente, stato, tipo, nome, limit, offset
        )
        .await)
    }
    pub async fn get_accertamento(
        &self,
        ente: &str,
        id: i64,
    ) -> StoreResult<AccertamentoDettaglio> {
        dispatch!(self, |q, p| q::get_accertamento(p, ente, id).await)
    }
    pub async fn modifica_accertamento(
        &self,
        ente: &str,
        id: i64,
        nome: Option<&str>,
        tipo: Option<&str>,
        utente: &str,
    ) -> StoreResult<()> {
        dispatch!(self, |q, p| q::modifica_accertamento(
            p,
            ente,
            id,
            nome,
            tipo,
            utente,
            now()
        )
        .await)
    }
    pub async fn candidati_accertamento(
        &self,
        ente: &str,
        id: i64,
        f: &FiltroCandidati,
        limit: i64,
        offset: i64,
    ) -> StoreResult<(Vec<RicevutaStaged>, i64)> {
        dispatch!(self, |q, p| q::candidati(p, ente, id, f, limit, offset)
            .await)
    }
    pub async fn associa_pagamenti(
        &self,
        ente: &str,
        id: i64,
        a: &Associazione,
        utente: &str,
    ) -> StoreResult<usize> {
        dispatch!(self, |q, p| q::associa(p, ente, id, a, utente, now()).await)
    }
    pub async fn rimuovi_pagamento(
        &self,
        ente: &str,
        id: i64,
        riga: i64,
        utente: &str,
    ) -> StoreResult<()> {
        dispatch!(self, |q, p| q::rimuovi_pagamento(
            p,
            ente,
            id,
            riga,
            utente,
            now()
        )
        .await)
    }
    pub async fn cambia_stato_accertamento(
        &self,
        ente: &str,
        id: i64,
        to: crate::recon::accertamenti::StatoAccertamento,
        utente: &str,
    ) -> StoreResult<()> {
        dispatch!(self, |q, p| q::cambia_stato_accertamento(
            p,
            ente,
            id,
            to,
            utente,
            now()
        )
        .await)
    }
    pub async fn cerca_riconciliazione(
        &self,
        ente: &str,
        f: &FiltroRiconciliazione,
        limit: i64,
        offset: i64,
    ) -> StoreResult<(Vec<RigaRiconciliazione>, i64)> {
        dispatch!(self, |q, p| q::cerca_riconciliazione(
            p, ente, f, limit, offset
        )
        .await)
    }
    pub async fn pagina_riconciliazione(
        &self,
        ente: &str,
        f: &FiltroRiconciliazione,
        dopo: i64,
        limit: i64,
    ) -> StoreResult<Vec<RigaRiconciliazione>> {
        dispatch!(self, |q, p| q::pagina_riconciliazione(
            p, ente, f, dopo, limit
        )
        .await)
    }
    pub async fn conteggi_riconciliazione(&self, ente: &str) -> StoreResult<Vec<(u64, i64)>> {
        dispatch!(self, |q, p| q::conteggi_riconciliazione(p, ente).await)
    }
    pub async fn inserisci_segnalazione(
        &self,
        ente: &str,
        s: &NuovaSegnalazione,
        utente: &str,
    ) -> StoreResult<Segnalazione> {
        dispatch!(self, |q, p| q::inserisci_segnalazione(
            p,
            ente,
            s,
            utente,
            now()
        )
        .await)
    }
    pub async fn storico_segnalazioni(
        &self,
        ente: &str,
        codice: Option<&str>,
        solo_attive: bool,
        limit: i64,
        offset: i64,
    ) -> StoreResult<(Vec<Segnalazione>, i64)> {
        dispatch!(self, |q, p| q::storico_segnalazioni(
            p,
            ente,
            codice,
            solo_attive,
            limit,
            offset
        )
        .await)
    }
    pub async fn cerca_ricevute(
        &self,
        ente: &str,
        f: &FiltroRicevute,
        limit: i64,
        offset: i64,
    ) -> StoreResult<(Vec<RicevutaStaged>, i64)> {
        dispatch!(self, |q, p| q::cerca_ricevute(p, ente, f, limit, offset)
            .await)
    }
    #[allow(clippy::too_many_arguments)]
    pub async fn cerca_flussi_rendicontati(
        &self,
        ente: &str,
        iuf: Option<&str>,
        id_regolamento: Option<&str>,
        da: Option<Date>,
        a: Option<Date>,
        limit: i64,
        offset: i64,
    ) -> StoreResult<(Vec<FlussoRendicontato>, i64)> {
        dispatch!(self, |q, p| q::cerca_flussi_rendicontati(
            p,
            ente,
            iuf,
            id_regolamento,
            da,
            a,
            limit,
            offset
        )
        .await)
    }
    pub async fn pagamenti_flusso(
        &self,
        ente: &str,
        iuf: &str,
    ) -> StoreResult<Vec<PagamentoRendicontato>> {
        dispatch!(self, |q, p| q::pagamenti_flusso(p, ente, iuf).await)
    }
    pub async fn crea_export(
        &self,
        id: &str,
        ente: &str,
        versione: &str,
        filtri: &str,
    ) -> StoreResult<()> {
        dispatch!(self, |q, p| q::crea_export(
            p,
            id,
            ente,
            versione,
            filtri,
            now()
        )
        .await)
    }
    /// Takes an export to write; one not written for `stale` is taken over.
    pub async fn prendi_export(&self, id: &str, stale: Duration) -> StoreResult<bool> {
        let t = now();
        dispatch!(self, |q, p| q::prendi_export(p, id, t - stale, t).await)
    }
    pub async fn scrivi_parte_export(&self, id: &str, n: i64, dati: &[u8]) -> StoreResult<()> {
        dispatch!(self, |q, p| q::scrivi_parte_export(p, id, n, dati, now())
            .await)
    }
    pub async fn chiudi_export(
        &self,
        id: &str,
        stato: &str,
        righe: i64,
        errore: Option<&str>,
    ) -> StoreResult<()> {
        dispatch!(self, |q, p| q::chiudi_export(
            p,
            id,
            stato,
            righe,
            errore,
            now()
        )
        .await)
    }
    pub async fn get_export(&self, ente: &str, id: &str) -> StoreResult<ExportRiconciliazione> {
        dispatch!(self, |q, p| q::get_export(p, ente, id).await)
    }
    pub async fn parte_export(&self, id: &str, n: i64) -> StoreResult<Option<Vec<u8>>> {
        dispatch!(self, |q, p| q::parte_export(p, id, n).await)
    }
    pub async fn export_in_attesa(&self) -> StoreResult<Vec<ExportRiconciliazione>> {
        dispatch!(self, |q, p| q::export_in_attesa(p).await)
    }
    pub async fn notifiche_ente(&self, ente: &str) -> StoreResult<Vec<(String, i64)>> {
        dispatch!(self, |q, p| q::notifiche_ente(p, ente).await)
    }
    pub async fn rt_email_data(&self, rt_id: i64) -> StoreResult<RtEmailData> {
        dispatch!(self, |q, p| q::rt_email_data(p, rt_id).await)
    }
    pub async fn rpt_da_inviare(&self, id: i64) -> StoreResult<RptDaInviare> {
        dispatch!(self, |q, p| q::rpt_da_inviare(p, id).await)
    }
    pub async fn rpt_stato(&self, id: i64, to: StatoRpt) -> StoreResult<bool> {
        dispatch!(self, |q, p| q::rpt_stato(p, id, to, now()).await)
    }
    pub async fn rt_da_elaborare(
        &self,
        before: OffsetDateTime,
        limit: i64,
    ) -> StoreResult<Vec<RtGrezza>> {
        let before = ceil_secs(before);
        dispatch!(self, |q, p| q::rt_da_elaborare(p, before, limit).await)
    }
    pub async fn list_rt(
        &self,
        id_dominio: Option<&str>,
        stato: Option<&str>,
        limit: i64,
        offset: i64,
    ) -> StoreResult<(Vec<RtRicevuta>, i64)> {
        dispatch!(self, |q, p| q::list_rt(p, id_dominio, stato, limit, offset)
            .await)
    }
    pub async fn get_rt(&self, id: i64) -> StoreResult<(RtRicevuta, Vec<u8>)> {
        dispatch!(self, |q, p| q::get_rt(p, id).await)
    }

    pub async fn insert_api_key(&self, ente: &str, hash: &str, label: &str) -> StoreResult<ApiKey> {
        dispatch!(self, |q, p| q::insert_api_key(p, ente, hash, label, now())
            .await)
    }
    pub async fn list_api_keys(&self, ente: &str) -> StoreResult<Vec<ApiKey>> {
        dispatch!(self, |q, p| q::list_api_keys(p, ente).await)
    }
    pub async fn revoke_api_key(&self, ente: &str, id: i64) -> StoreResult<()> {
        dispatch!(self, |q, p| q::revoke_api_key(p, ente, id, now()).await)
    }
    pub async fn api_key_ente(&self, hash: &str) -> StoreResult<Option<String>> {
        dispatch!(self, |q, p| q::api_key_ente(p, hash).await)
    }
}
