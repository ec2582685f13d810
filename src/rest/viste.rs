//! The JSON shapes of the REST API (and their OpenAPI schemas), apart from the store's rows:
//! a column can change without changing the API, and the API says what it promises.

use crate::model::iso_date;
use crate::store;
use time::{Date, OffsetDateTime};

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
    /// Lines that removed a treasury bolletta (OPI storni).
    pub righe_stornate: i64,
    pub righe_scartate: i64,
    /// The first 100 rejects (`righe_scartate` counts them all); the whole report is
    /// `GET /api/v1/enti/{id_dominio}/imports/{id}/scarti.csv`.
    pub scarti: Vec<Scarto>,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: OffsetDateTime,
}

/// One step of a dovuto's state history.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct StoricoStato {
    pub stato_da: Option<String>,
    pub stato_a: String,
    pub motivo: String,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub at: OffsetDateTime,
}

/// The intermediary and its station, as the Nodo knows them (the password is never shown).
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct Intermediario {
    pub id_intermediario_pa: String,
    pub id_stazione: String,
}

/// What replaces the intermediary: its identifiers and the station password.
#[derive(Debug, Clone, serde::Deserialize, utoipa::ToSchema)]
pub struct NuovoIntermediario {
    pub id_intermediario_pa: String,
    pub id_stazione: String,
    /// The station's password toward the Nodo, 8 to 15 characters; written, never read back.
    #[schema(write_only, min_length = 8, max_length = 15)]
    pub password: String,
}

/// An operator API key as listed (the secret itself is shown once, at creation).
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
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

/// A journal entry as listed (bodies omitted).
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
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

#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
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
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
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
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
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
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
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
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
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

#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
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
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
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
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
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

/// A queued piece of outbound work.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
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

/// A received RT as listed (raw bytes omitted).
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
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

// ---- conversions ----

impl From<Scarto> for store::Scarto {
    fn from(x: Scarto) -> Self {
        store::Scarto {
            riga: x.riga,
            codice: x.codice,
            motivo: x.motivo,
            riga_originale: x.riga_originale,
        }
    }
}

impl From<store::Scarto> for Scarto {
    fn from(x: store::Scarto) -> Self {
        Scarto {
            riga: x.riga,
            codice: x.codice,
            motivo: x.motivo,
            riga_originale: x.riga_originale,
        }
    }
}

impl From<store::ImportJob> for ImportJob {
    fn from(x: store::ImportJob) -> Self {
        ImportJob {
            id: x.id,
            id_dominio: x.id_dominio,
            tipo: x.tipo,
            file_name: x.file_name,
            file_sha256: x.file_sha256,
            versione: x.versione,
            stato: x.stato,
            righe_lette: x.righe_lette,
            righe_importate: x.righe_importate,
            righe_invariate: x.righe_invariate,
            righe_stornate: x.righe_stornate,
            righe_scartate: x.righe_scartate,
            // An import answers with its job: the same first page as reading it later.
            scarti: x
                .scarti
                .into_iter()
                .take(store::SCARTI_IN_VISTA as usize)
                .map(Into::into)
                .collect(),
            created_at: x.created_at,
        }
    }
}

impl From<store::StoricoStato> for StoricoStato {
    fn from(x: store::StoricoStato) -> Self {
        StoricoStato {
            stato_da: x.stato_da,
            stato_a: x.stato_a,
            motivo: x.motivo,
            at: x.at,
        }
    }
}

impl From<NuovoIntermediario> for store::Intermediario {
    fn from(x: NuovoIntermediario) -> Self {
        store::Intermediario {
            id_intermediario_pa: x.id_intermediario_pa,
            id_stazione: x.id_stazione,
            password: x.password,
        }
    }
}

impl From<store::Intermediario> for Intermediario {
    fn from(x: store::Intermediario) -> Self {
        Intermediario {
            id_intermediario_pa: x.id_intermediario_pa,
            id_stazione: x.id_stazione,
        }
    }
}

impl From<store::ApiKey> for ApiKey {
    fn from(x: store::ApiKey) -> Self {
        ApiKey {
            id: x.id,
            id_dominio: x.id_dominio,
            label: x.label,
            created_at: x.created_at,
            revoked_at: x.revoked_at,
        }
    }
}

impl From<store::JournalSummary> for JournalSummary {
    fn from(x: store::JournalSummary) -> Self {
        JournalSummary {
            id: x.id,
            at: x.at,
            direction: x.direction,
            operation: x.operation,
            id_dominio: x.id_dominio,
            iuv: x.iuv,
            ccp: x.ccp,
            id_psp: x.id_psp,
            outcome: x.outcome,
            http_status: x.http_status,
            duration_us: x.duration_us,
        }
    }
}

impl From<NuovaSegnalazione> for store::NuovaSegnalazione {
    fn from(x: NuovaSegnalazione) -> Self {
        store::NuovaSegnalazione {
            codice: x.codice,
            bit: x.bit,
            iuf: x.iuf,
            iud: x.iud,
            iuv: x.iuv,
            nota: x.nota,
            nascosto: x.nascosto,
        }
    }
}

impl From<store::Segnalazione> for Segnalazione {
    fn from(x: store::Segnalazione) -> Self {
        Segnalazione {
            id: x.id,
            codice: x.codice,
            iuf: x.iuf,
            iud: x.iud,
            iuv: x.iuv,
            nota: x.nota,
            nascosto: x.nascosto,
            attivo: x.attivo,
            utente: x.utente,
            created_at: x.created_at,
        }
    }
}

impl From<FiltroRicevute> for store::FiltroRicevute {
    fn from(x: FiltroRicevute) -> Self {
        store::FiltroRicevute {
            tipo_dovuto: x.tipo_dovuto,
            iud: x.iud,
            iuv: x.iuv,
            iur: x.iur,
            attestante: x.attestante,
            cf_pagatore: x.cf_pagatore,
            cf_versante: x.cf_versante,
            fonte: x.fonte,
            data_esito_da: x.data_esito_da,
            data_esito_a: x.data_esito_a,
        }
    }
}

impl From<store::RicevutaStaged> for RicevutaStaged {
    fn from(x: store::RicevutaStaged) -> Self {
        RicevutaStaged {
            id: x.id,
            iuv: x.iuv,
            iur: x.iur,
            indice: x.indice,
            iud: x.iud,
            tipo_dovuto: x.tipo_dovuto,
            importo_cents: x.importo_cents,
            totale_cents: x.totale_cents,
            data_esito: x.data_esito,
            cf_pagatore: x.cf_pagatore,
            anagrafica_pagatore: x.anagrafica_pagatore,
            cf_versante: x.cf_versante,
            anagrafica_versante: x.anagrafica_versante,
            attestante: x.attestante,
            denominazione_attestante: x.denominazione_attestante,
            causale: x.causale,
            bilancio: x.bilancio,
            fonte: x.fonte,
        }
    }
}

impl From<store::FlussoRendicontato> for FlussoRendicontato {
    fn from(x: store::FlussoRendicontato) -> Self {
        FlussoRendicontato {
            iuf: x.iuf,
            data_ora_flusso: x.data_ora_flusso,
            id_regolamento: x.id_regolamento,
            data_regolamento: x.data_regolamento,
            pagamenti: x.pagamenti,
            totale_flusso_cents: x.totale_flusso_cents,
        }
    }
}

impl From<store::PagamentoRendicontato> for PagamentoRendicontato {
    fn from(x: store::PagamentoRendicontato) -> Self {
        PagamentoRendicontato {
            iuv: x.iuv,
            iur: x.iur,
            indice: x.indice,
            importo_cents: x.importo_cents,
            esito: x.esito,
            data_esito: x.data_esito,
            iud: x.iud,
            importo_ricevuta_cents: x.importo_ricevuta_cents,
            data_esito_ricevuta: x.data_esito_ricevuta,
            cf_pagatore: x.cf_pagatore,
            fonte_ricevuta: x.fonte_ricevuta,
        }
    }
}

impl From<store::ExportRiconciliazione> for ExportRiconciliazione {
    fn from(x: store::ExportRiconciliazione) -> Self {
        ExportRiconciliazione {
            id: x.id,
            id_dominio: x.id_dominio,
            versione: x.versione,
            filtri: x.filtri,
            stato: x.stato,
            righe: x.righe,
            errore: x.errore,
            created_at: x.created_at,
            finished_at: x.finished_at,
        }
    }
}

impl From<store::FlussoScaricato> for FlussoScaricato {
    fn from(x: store::FlussoScaricato) -> Self {
        FlussoScaricato {
            id: x.id,
            id_dominio: x.id_dominio,
            id_flusso: x.id_flusso,
            data_ora_flusso: x.data_ora_flusso,
            stato: x.stato.to_string(),
            nota: x.nota,
            psp: x.psp,
            deviazioni: x.deviazioni,
            numero_pagamenti: x.numero_pagamenti,
            importo_cents: x.importo_cents,
            created_at: x.created_at,
        }
    }
}

impl From<store::EsitoRptCarrello> for EsitoRptCarrello {
    fn from(x: store::EsitoRptCarrello) -> Self {
        EsitoRptCarrello {
            id_dominio: x.id_dominio,
            iuv: x.iuv,
            stato_rpt: x.stato_rpt,
            stato_dovuto: x.stato_dovuto,
            codice_esito: x.codice_esito,
            importo_pagato_cents: x.importo_pagato_cents,
        }
    }
}

impl From<store::RigaTesoreria> for RigaTesoreria {
    fn from(x: store::RigaTesoreria) -> Self {
        RigaTesoreria {
            id: x.id,
            id_dominio: x.id_dominio,
            anno_bolletta: x.anno_bolletta,
            codice_bolletta: x.codice_bolletta,
            data_contabile: x.data_contabile,
            data_valuta: x.data_valuta,
            importo_cents: x.importo_cents,
            ordinante: x.ordinante,
            causale: x.causale,
            iuf: x.iuf,
            iuv: x.iuv,
            fonte: x.fonte,
        }
    }
}

impl From<store::OutboxJob> for OutboxJob {
    fn from(x: store::OutboxJob) -> Self {
        OutboxJob {
            id: x.id,
            kind: x.kind,
            ref_id: x.ref_id,
            payload: x.payload,
            stato: x.stato.to_string(),
            attempts: x.attempts,
            next_attempt_at: x.next_attempt_at,
            lease_owner: x.lease_owner,
            last_error: x.last_error,
            result: x.result,
            created_at: x.created_at,
            updated_at: x.updated_at,
        }
    }
}

impl From<store::RtRicevuta> for RtRicevuta {
    fn from(x: store::RtRicevuta) -> Self {
        RtRicevuta {
            id: x.id,
            id_dominio: x.id_dominio,
            iuv: x.iuv,
            ccp: x.ccp,
            stato: x.stato.to_string(),
            codice_esito: x.codice_esito,
            importo_cents: x.importo_cents,
            rpt_id: x.rpt_id,
            nota: x.nota,
            received_at: x.received_at,
            updated_at: x.updated_at,
        }
    }
}
