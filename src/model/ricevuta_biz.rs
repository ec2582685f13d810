//! A receipt as pagoPA's Biz Events service returns it (CtReceiptModelResponse, v1): the
//! same receipt the Nodo sends with paSendRT, in JSON, amounts in euro as numbers. Read
//! when a receipt never arrived and is recovered (`dominio::nuovo_modello::da_biz_events`).

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RicevutaBiz {
    pub receipt_id: String,
    pub notice_number: String,
    pub fiscal_code: String,
    pub outcome: String,
    pub creditor_reference_id: String,
    pub payment_amount: f64,
    pub description: String,
    pub company_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub office_name: Option<String>,
    pub debtor: SoggettoBiz,
    pub transfer_list: Vec<TrasferimentoBiz>,
    #[serde(rename = "idPSP")]
    pub id_psp: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub psp_fiscal_code: Option<String>,
    #[serde(
        rename = "pspPartitaIVA",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub psp_partita_iva: Option<String>,
    pub psp_company_name: String,
    pub id_channel: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel_description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payer: Option<SoggettoBiz>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment_method: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fee: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment_date_time: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub application_date: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transfer_date: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SoggettoBiz {
    /// F or G.
    pub entity_unique_identifier_type: String,
    pub entity_unique_identifier_value: String,
    pub full_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub street_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub civic_number: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub postal_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub city: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state_province_region: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TrasferimentoBiz {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id_transfer: Option<u8>,
    pub transfer_amount: f64,
    #[serde(rename = "fiscalCodePA")]
    pub fiscal_code_pa: String,
    #[serde(default)]
    pub iban: String,
    #[serde(default)]
    pub mbd_attachment: String,
    pub remittance_information: String,
    pub transfer_category: String,
}

/// What the gateway keeps of a recovered receipt: the ente it was asked for and the body
/// Biz Events answered, verbatim.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RicevutaRecuperata {
    pub organization_fiscal_code: String,
    pub receipt: RicevutaBiz,
}

impl RicevutaRecuperata {
    /// The stored form: `{"organizationFiscalCode": …, "receipt": <the body as received>}`.
    pub fn avvolgi(org: &str, body: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(body.len() + 64);
        out.extend_from_slice(b"{\"organizationFiscalCode\":");
        out.extend_from_slice(serde_json::to_string(org).unwrap_or_default().as_bytes());
        out.extend_from_slice(b",\"receipt\":");
        out.extend_from_slice(body);
        out.push(b'}');
        out
    }
}
