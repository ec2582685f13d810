//! The store's public types: filters, what an operation takes and gives back, and the
//! rows views read.

use super::righe::corrupt;
use super::*;

/// Filters of the enti search; `None` matches everything.
#[derive(Debug, Default, Clone)]
pub struct EntiFilter {
    /// Restricts to these enti (an operator sees only their own).
    pub solo: Option<Vec<String>>,
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
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Scarto {
    pub riga: u64,
    pub codice: String,
    pub motivo: String,
    pub riga_originale: String,
}

/// An import job and its report, kept so the operator can fetch the rejects later.
#[derive(Debug, Clone)]
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
    /// Lines that removed a bolletta (OPI storni).
    pub righe_stornate: i64,
    pub righe_scartate: i64,
    pub scarti: Vec<Scarto>,
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
    righe_stornate: i64,
    righe_scartate: i64,
    scarti: String,
    created_at: OffsetDateTime,
}

impl TryFrom<ImportJobRow> for ImportJob {
    type Error = StoreError;
    fn try_from(r: ImportJobRow) -> StoreResult<ImportJob> {
        Ok(ImportJob {
            // Rows of import_scarto since migration 0014; an older value is still read.
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
            righe_stornate: r.righe_stornate,
            righe_scartate: r.righe_scartate,
            created_at: r.created_at,
        })
    }
}

/// One step of a dovuto's state history.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct StoricoStato {
    pub stato_da: Option<String>,
    pub stato_a: String,
    pub motivo: String,
    pub at: OffsetDateTime,
}

/// The intermediary and its station, as the Nodo knows them.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Intermediario {
    pub id_intermediario_pa: String,
    pub id_stazione: String,
    /// Never returned by the API.
    pub password: String,
}

/// An operator API key as listed (the secret itself is shown once, at creation).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ApiKey {
    pub id: i64,
    pub id_dominio: String,
    pub label: String,
    pub created_at: OffsetDateTime,
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
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct JournalSummary {
    pub id: i64,
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
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Carrello {
    pub id: String,
    pub multi_beneficiario: bool,
    #[sqlx(try_from = "String")]
    pub stato: StatoCarrello,
    pub url: Option<String>,
    pub email_login: Option<String>,
    pub errore: Option<String>,
    pub created_at: OffsetDateTime,
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
    pub stato: StatoFlusso,
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
            stato: StatoFlusso::Sconosciuto,
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
#[derive(Debug, Clone, Default, PartialEq, serde::Deserialize, serde::Serialize)]
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

impl FiltroRiconciliazione {
    /// No filter but the codes (and the visible lines): what the maintained counts answer.
    /// Any other field set, today's or one added later, makes it differ from the default.
    pub fn solo_codici(&self) -> bool {
        *self
            == FiltroRiconciliazione {
                codici: self.codici,
                ..FiltroRiconciliazione::default()
            }
    }
}

/// A page of the reconciliation as the store read it.
#[derive(Debug)]
pub struct PaginaRiconciliazione {
    pub righe: Vec<RigaRiconciliazione>,
    /// How many lines match; only a floor when `total_esatto` is false.
    pub total: i64,
    pub total_esatto: bool,
    /// The counts per combination of codes the page was read with (hidden lines too).
    pub conteggi: Vec<(u64, i64)>,
}

pub use crate::recon::riga::RigaRiconciliazione;

#[derive(Debug, Clone)]
pub struct NuovaSegnalazione {
    /// The classification code of the line.
    pub codice: String,
    pub bit: u64,
    pub iuf: Option<String>,
    pub iud: Option<String>,
    pub iuv: Option<String>,
    pub nota: String,
    /// Hide the line from the default views.
    pub nascosto: bool,
}

#[derive(Debug, Clone, sqlx::FromRow)]
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
    pub created_at: OffsetDateTime,
}

#[derive(Debug, Clone, Default)]
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
    pub data_esito_da: Option<Date>,
    pub data_esito_a: Option<Date>,
}

/// A staged receipt's single payment (Ricevute telematiche view).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct RicevutaStaged {
    pub id: i64,
    pub iuv: String,
    pub iur: String,
    pub indice: i64,
    pub iud: Option<String>,
    pub tipo_dovuto: Option<String>,
    pub importo_cents: i64,
    pub totale_cents: i64,
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
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct FlussoRendicontato {
    pub iuf: String,
    pub data_ora_flusso: Option<String>,
    pub id_regolamento: Option<String>,
    pub data_regolamento: Option<Date>,
    pub pagamenti: i64,
    pub totale_flusso_cents: Option<i64>,
}

/// A reported payment with its receipt, if any.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PagamentoRendicontato {
    pub iuv: String,
    pub iur: String,
    pub indice: Option<i64>,
    pub importo_cents: i64,
    pub esito: i64,
    pub data_esito: Date,
    pub iud: Option<String>,
    pub importo_ricevuta_cents: Option<i64>,
    pub data_esito_ricevuta: Option<Date>,
    pub cf_pagatore: Option<String>,
    pub fonte_ricevuta: Option<String>,
}

/// A booked reconciliation export.
#[derive(Debug, Clone, sqlx::FromRow)]
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
    pub created_at: OffsetDateTime,
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

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct FlussoScaricato {
    pub id: i64,
    pub id_dominio: String,
    pub id_flusso: String,
    pub data_ora_flusso: String,
    #[sqlx(try_from = "String")]
    pub stato: StatoFlusso,
    pub nota: Option<String>,
    /// The sending PSP (istitutoMittente), once read.
    pub psp: Option<String>,
    /// Schema facets (FlussoRiversamento 1.0.4) the flow breaks but that were read
    /// leniently: field, rule, first value, count; `; `-separated.
    pub deviazioni: Option<String>,
    pub numero_pagamenti: Option<i64>,
    pub importo_cents: Option<i64>,
    pub created_at: OffsetDateTime,
}

/// One RPT of a cart as the portal polls it.
#[derive(Debug, Clone, sqlx::FromRow)]
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
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct RigaTesoreria {
    pub id: i64,
    pub id_dominio: String,
    pub anno_bolletta: i64,
    pub codice_bolletta: String,
    pub data_contabile: Date,
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
    #[sqlx(try_from = "String")]
    pub stato: StatoJob,
    pub attempts: i64,
}

/// A queued piece of outbound work.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OutboxJob {
    pub id: i64,
    /// `nodoInviaRPT`, `rtEmail`, … Text, not [`crate::model::TipoJob`]: a kind this build
    /// does not know (enqueued by a newer instance sharing the database) must reach the
    /// dispatcher and become a dead letter, not fail the claim of the whole batch.
    pub kind: String,
    pub ref_id: Option<i64>,
    pub payload: String,
    /// A dead letter (`DEAD`) is retried over REST.
    #[sqlx(try_from = "String")]
    pub stato: StatoJob,
    pub attempts: i64,
    pub next_attempt_at: OffsetDateTime,
    pub lease_owner: Option<String>,
    pub last_error: Option<String>,
    pub result: Option<String>,
    pub created_at: OffsetDateTime,
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
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct RtRicevuta {
    pub id: i64,
    pub id_dominio: String,
    pub iuv: String,
    pub ccp: String,
    #[sqlx(try_from = "String")]
    pub stato: StatoRt,
    pub codice_esito: Option<i64>,
    pub importo_cents: Option<i64>,
    pub rpt_id: Option<i64>,
    pub nota: Option<String>,
    pub received_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

/// A receipts export arriving in parts (bounded memory): parts of receipts, then the
/// report of the whole file. A channel closed before [`PezzoRicevute::Fine`] (the file
/// could not be read) applies nothing.
#[derive(Debug)]
pub enum PezzoRicevute {
    Ricevute(Vec<crate::dominio::ricevuta::NuovaRicevuta>),
    Fine(Box<ImportJob>),
}

/// A dovuti CSV arriving in parts (bounded memory): parts of lines, then the file's
/// tracciato. A channel closed before [`PezzoDovuti::Fine`] applies nothing.
#[derive(Debug)]
pub enum PezzoDovuti {
    Righe(Vec<crate::registry::import_csv::LineaCsv>),
    Fine(crate::registry::import_csv::Versione),
}
