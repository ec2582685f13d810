//! Shapes of the accounting tables (chart, accertamenti, statistics) as the store returns
//! and takes them; the SQL lives in accertamenti_queries.rs.

use super::iso_date;
use time::{Date, OffsetDateTime};

/// A line of the chart ufficio – capitolo – accertamento.
#[derive(Debug, Clone, serde::Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Capitolo {
    pub id: i64,
    pub anno: i64,
    pub tipo_dovuto: String,
    pub cod_ufficio: String,
    pub de_ufficio: String,
    pub attivo: bool,
    pub cod_capitolo: String,
    pub de_capitolo: String,
    pub cod_accertamento: String,
    pub de_accertamento: String,
    /// Inserted from a receipt's bilancio (descriptions `n/a` until an operator gives them).
    pub automatico: bool,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: OffsetDateTime,
}

#[derive(Debug, Clone, serde::Deserialize, utoipa::ToSchema)]
pub struct NuovoCapitolo {
    pub anno: i32,
    pub tipo_dovuto: String,
    pub cod_ufficio: String,
    pub de_ufficio: String,
    #[serde(default = "vero")]
    pub attivo: bool,
    pub cod_capitolo: String,
    pub de_capitolo: String,
    /// Absent: `n/a` (no accertamento).
    pub cod_accertamento: Option<String>,
    pub de_accertamento: Option<String>,
}

fn vero() -> bool {
    true
}

/// What an operator may change on a chart line: its flag and the descriptions (which
/// follow the code on every line of the ente).
#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::ToSchema)]
pub struct ModificaCapitolo {
    pub attivo: Option<bool>,
    pub de_ufficio: Option<String>,
    pub de_capitolo: Option<String>,
    pub de_accertamento: Option<String>,
}

#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FiltroCapitoli {
    pub anno: Option<i64>,
    pub tipo_dovuto: Option<String>,
    pub cod_ufficio: Option<String>,
    pub cod_capitolo: Option<String>,
    pub cod_accertamento: Option<String>,
    pub attivo: Option<bool>,
}

#[derive(Debug, Clone, serde::Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Accertamento {
    pub id: i64,
    pub id_dominio: String,
    pub tipo_dovuto: String,
    pub nome: String,
    /// INSERITO, CHIUSO or ANNULLATO.
    pub stato: String,
    /// Created CHIUSO from the bilancio of imported receipts.
    pub automatico: bool,
    /// Who created it or last changed its state.
    pub utente: String,
    pub pagamenti: i64,
    pub totale_cents: i64,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: OffsetDateTime,
}

/// A payment booked on an accertamento.
#[derive(Debug, Clone, serde::Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct PagamentoAccertato {
    pub id: i64,
    pub ricevuta_id: i64,
    pub iuv: String,
    pub iur: String,
    pub indice: i64,
    pub iud: Option<String>,
    pub cf_pagatore: Option<String>,
    #[schema(value_type = String, format = Date)]
    #[serde(with = "iso_date")]
    pub data_esito: Date,
    pub anno: i64,
    pub cod_ufficio: String,
    pub cod_capitolo: String,
    pub cod_accertamento: String,
    pub importo_cents: i64,
    pub utente: String,
}

#[derive(Debug, Clone, serde::Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct StoriaAccertamento {
    pub azione: String,
    pub dettaglio: String,
    pub utente: String,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub at: OffsetDateTime,
}

#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct AccertamentoDettaglio {
    #[serde(flatten)]
    pub accertamento: Accertamento,
    pub righe: Vec<PagamentoAccertato>,
    pub storia: Vec<StoriaAccertamento>,
}

/// Filters of the candidate payments ("pagamenti inseribili").
#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FiltroCandidati {
    pub iud: Option<String>,
    pub iuv: Option<String>,
    pub cf_pagatore: Option<String>,
    #[param(value_type = Option<String>, format = Date)]
    #[serde(default, with = "iso_date::option")]
    pub data_esito_da: Option<Date>,
    #[param(value_type = Option<String>, format = Date)]
    #[serde(default, with = "iso_date::option")]
    pub data_esito_a: Option<Date>,
}

/// Books receipts on an ufficio / capitolo / accertamento of the chart.
#[derive(Debug, Clone, serde::Deserialize, utoipa::ToSchema)]
pub struct Associazione {
    /// Ids of receipt rows (`/ricevute`, `/accertamenti/{id}/candidati`).
    pub ricevute: Vec<i64>,
    /// Anno esercizio of the chart line (default: the year of each receipt's data esito).
    pub anno: Option<i32>,
    pub cod_ufficio: String,
    pub cod_capitolo: String,
    /// Default `n/a`.
    pub cod_accertamento: Option<String>,
}

/// One aggregate of `statistica`, summed over the asked period and breakdown.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Aggregato {
    pub anno: i64,
    pub mese: i64,
    pub giorno: Option<Date>,
    pub tipo_dovuto: String,
    pub cod_ufficio: String,
    pub cod_capitolo: String,
    pub cod_accertamento: String,
    pub misura: String,
    pub importo_cents: i64,
    pub numero: i64,
}

/// The asked cells: period, breakdown and filters.
#[derive(Debug, Clone, Default)]
pub struct RichiestaStatistica {
    pub dimensione: crate::recon::statistiche::Dimensione,
    pub granularita: crate::recon::statistiche::Granularita,
    pub da: Option<Date>,
    pub a: Option<Date>,
    pub tipo_dovuto: Option<String>,
    pub cod_ufficio: Option<String>,
    pub cod_capitolo: Option<String>,
    pub cod_accertamento: Option<String>,
}

/// A receipt behind a statistics cell.
#[derive(Debug, Clone, serde::Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct RigaStatistica {
    pub ricevuta_id: i64,
    pub iuv: String,
    pub iur: String,
    pub indice: i64,
    pub iud: Option<String>,
    pub tipo_dovuto: Option<String>,
    pub cf_pagatore: Option<String>,
    /// The measure's date (data esito, regolamento or valuta).
    #[schema(value_type = String, format = Date)]
    #[serde(with = "iso_date")]
    pub data: Date,
    /// The receipt's amount, or the accertamento line's for a breakdown.
    pub importo_cents: i64,
    pub cod_ufficio: Option<String>,
    pub cod_capitolo: Option<String>,
    pub cod_accertamento: Option<String>,
}
