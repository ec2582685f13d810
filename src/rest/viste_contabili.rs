//! The JSON shapes of the accounting API (chart, accertamenti, statistics), apart from the
//! store's rows (see `viste`).

use crate::model::iso_date;
use crate::store;
use time::{Date, OffsetDateTime};

/// A line of the chart ufficio – capitolo – accertamento.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
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

#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
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
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
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

#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
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

/// A receipt behind a statistics cell.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
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

fn vero() -> bool {
    true
}

// ---- conversions ----

impl From<store::Capitolo> for Capitolo {
    fn from(x: store::Capitolo) -> Self {
        Capitolo {
            id: x.id,
            anno: x.anno,
            tipo_dovuto: x.tipo_dovuto,
            cod_ufficio: x.cod_ufficio,
            de_ufficio: x.de_ufficio,
            attivo: x.attivo,
            cod_capitolo: x.cod_capitolo,
            de_capitolo: x.de_capitolo,
            cod_accertamento: x.cod_accertamento,
            de_accertamento: x.de_accertamento,
            automatico: x.automatico,
            updated_at: x.updated_at,
        }
    }
}

impl From<NuovoCapitolo> for store::NuovoCapitolo {
    fn from(x: NuovoCapitolo) -> Self {
        store::NuovoCapitolo {
            anno: x.anno,
            tipo_dovuto: x.tipo_dovuto,
            cod_ufficio: x.cod_ufficio,
            de_ufficio: x.de_ufficio,
            attivo: x.attivo,
            cod_capitolo: x.cod_capitolo,
            de_capitolo: x.de_capitolo,
            cod_accertamento: x.cod_accertamento,
            de_accertamento: x.de_accertamento,
        }
    }
}

impl From<ModificaCapitolo> for store::ModificaCapitolo {
    fn from(x: ModificaCapitolo) -> Self {
        store::ModificaCapitolo {
            attivo: x.attivo,
            de_ufficio: x.de_ufficio,
            de_capitolo: x.de_capitolo,
            de_accertamento: x.de_accertamento,
        }
    }
}

impl From<FiltroCapitoli> for store::FiltroCapitoli {
    fn from(x: FiltroCapitoli) -> Self {
        store::FiltroCapitoli {
            anno: x.anno,
            tipo_dovuto: x.tipo_dovuto,
            cod_ufficio: x.cod_ufficio,
            cod_capitolo: x.cod_capitolo,
            cod_accertamento: x.cod_accertamento,
            attivo: x.attivo,
        }
    }
}

impl From<store::Accertamento> for Accertamento {
    fn from(x: store::Accertamento) -> Self {
        Accertamento {
            id: x.id,
            id_dominio: x.id_dominio,
            tipo_dovuto: x.tipo_dovuto,
            nome: x.nome,
            stato: x.stato,
            automatico: x.automatico,
            utente: x.utente,
            pagamenti: x.pagamenti,
            totale_cents: x.totale_cents,
            created_at: x.created_at,
            updated_at: x.updated_at,
        }
    }
}

impl From<store::PagamentoAccertato> for PagamentoAccertato {
    fn from(x: store::PagamentoAccertato) -> Self {
        PagamentoAccertato {
            id: x.id,
            ricevuta_id: x.ricevuta_id,
            iuv: x.iuv,
            iur: x.iur,
            indice: x.indice,
            iud: x.iud,
            cf_pagatore: x.cf_pagatore,
            data_esito: x.data_esito,
            anno: x.anno,
            cod_ufficio: x.cod_ufficio,
            cod_capitolo: x.cod_capitolo,
            cod_accertamento: x.cod_accertamento,
            importo_cents: x.importo_cents,
            utente: x.utente,
        }
    }
}

impl From<store::StoriaAccertamento> for StoriaAccertamento {
    fn from(x: store::StoriaAccertamento) -> Self {
        StoriaAccertamento {
            azione: x.azione,
            dettaglio: x.dettaglio,
            utente: x.utente,
            at: x.at,
        }
    }
}

impl From<store::AccertamentoDettaglio> for AccertamentoDettaglio {
    fn from(x: store::AccertamentoDettaglio) -> Self {
        AccertamentoDettaglio {
            accertamento: x.accertamento.into(),
            righe: x.righe.into_iter().map(Into::into).collect(),
            storia: x.storia.into_iter().map(Into::into).collect(),
        }
    }
}

impl From<FiltroCandidati> for store::FiltroCandidati {
    fn from(x: FiltroCandidati) -> Self {
        store::FiltroCandidati {
            iud: x.iud,
            iuv: x.iuv,
            cf_pagatore: x.cf_pagatore,
            data_esito_da: x.data_esito_da,
            data_esito_a: x.data_esito_a,
        }
    }
}

impl From<Associazione> for store::Associazione {
    fn from(x: Associazione) -> Self {
        store::Associazione {
            ricevute: x.ricevute,
            anno: x.anno,
            cod_ufficio: x.cod_ufficio,
            cod_capitolo: x.cod_capitolo,
            cod_accertamento: x.cod_accertamento,
        }
    }
}

impl From<store::RigaStatistica> for RigaStatistica {
    fn from(x: store::RigaStatistica) -> Self {
        RigaStatistica {
            ricevuta_id: x.ricevuta_id,
            iuv: x.iuv,
            iur: x.iur,
            indice: x.indice,
            iud: x.iud,
            tipo_dovuto: x.tipo_dovuto,
            cf_pagatore: x.cf_pagatore,
            data: x.data,
            importo_cents: x.importo_cents,
            cod_ufficio: x.cod_ufficio,
            cod_capitolo: x.cod_capitolo,
            cod_accertamento: x.cod_accertamento,
        }
    }
}
