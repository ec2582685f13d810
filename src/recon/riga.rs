//! One classified line of the materialized reconciliation, as views and exports read it.

use crate::model::iso_date;
use time::{Date, OffsetDateTime};

/// One classified line of the reconciliation.
#[derive(Debug, Clone, serde::Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct RigaRiconciliazione {
    pub id: i64,
    #[serde(skip)]
    pub codici: i64,
    /// The line's codes (those the ente's views offer).
    #[sqlx(skip)]
    #[serde(rename = "codici")]
    pub nomi_codici: Vec<String>,
    pub iud: Option<String>,
    pub iuv: Option<String>,
    pub iur: Option<String>,
    pub indice: Option<i64>,
    pub iuf: Option<String>,
    pub tipo_dovuto: Option<String>,
    pub cf_pagatore: Option<String>,
    pub attestante: Option<String>,
    pub tesoreria_id: Option<i64>,
    pub anno_bolletta: Option<i64>,
    pub codice_bolletta: Option<String>,
    pub ordinante: Option<String>,
    pub conto: Option<String>,
    pub importo_notificato_cents: Option<i64>,
    pub importo_pagato_cents: Option<i64>,
    pub totale_pagato_cents: Option<i64>,
    pub importo_rendicontato_cents: Option<i64>,
    pub totale_flusso_cents: Option<i64>,
    pub importo_tesoreria_cents: Option<i64>,
    #[schema(value_type = Option<String>, format = Date)]
    #[serde(default, with = "iso_date::option")]
    pub data_esecuzione: Option<Date>,
    #[schema(value_type = Option<String>, format = Date)]
    #[serde(default, with = "iso_date::option")]
    pub data_esito: Option<Date>,
    #[schema(value_type = Option<String>, format = Date)]
    #[serde(default, with = "iso_date::option")]
    pub data_regolamento: Option<Date>,
    #[schema(value_type = Option<String>, format = Date)]
    #[serde(default, with = "iso_date::option")]
    pub data_contabile: Option<Date>,
    #[schema(value_type = Option<String>, format = Date)]
    #[serde(default, with = "iso_date::option")]
    pub data_valuta: Option<Date>,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub aggiornato_at: OffsetDateTime,
}

impl RigaRiconciliazione {
    /// The line without its treasury part. DOPPI is a check on the reporting flows (a
    /// payment reported twice), so a DOPPI line shows the payment only: the treasury line the
    /// row also carries belongs to its other codes, never to DOPPI.
    pub fn senza_tesoreria(&self) -> RigaRiconciliazione {
        RigaRiconciliazione {
            tesoreria_id: None,
            anno_bolletta: None,
            codice_bolletta: None,
            ordinante: None,
            conto: None,
            importo_tesoreria_cents: None,
            data_contabile: None,
            data_valuta: None,
            ..self.clone()
        }
    }
}
