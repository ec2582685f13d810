//! The FdR "organizations" API's documents (fdr_organization.json, v1) and how a published
//! flow reads as the FlussoRiversamento the reconciliation already stores: the same
//! fields the API documents as the XML tags they map to.

use crate::model::flusso::{FlussoRiversamento, Istituto, PagamentoFlusso, TestataFlusso};
use crate::model::rpt::{DataOra, IdentificativoUnivoco};
use crate::model::{Importo, Iuv};
use serde::{Deserialize, Serialize};
use time::Date;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Metadata {
    #[serde(default)]
    pub page_size: Option<i64>,
    #[serde(default)]
    pub page_number: Option<i64>,
    #[serde(default)]
    pub tot_page: Option<i64>,
}

/// One entry of `GET /organizations/{org}/fdrs`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FlussoPubblicato {
    pub fdr: String,
    #[serde(default)]
    pub organization_id: Option<String>,
    pub revision: i64,
    #[serde(default)]
    pub published: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pagina<T> {
    #[serde(default)]
    pub metadata: Metadata,
    #[serde(default)]
    pub count: Option<i64>,
    #[serde(default = "Vec::new")]
    pub data: Vec<T>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Mittente {
    /// LEGAL_PERSON, ABI_CODE or BIC_CODE.
    #[serde(rename = "type")]
    pub tipo: String,
    pub id: String,
    pub psp_id: String,
    pub psp_name: String,
    pub psp_broker_id: String,
    pub channel_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Ricevente {
    pub id: String,
    pub organization_id: String,
    pub organization_name: String,
}

/// `GET …/fdrs/{fdr}/revisions/{revision}/psps/{pspId}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Flusso {
    #[serde(default)]
    pub status: Option<String>,
    pub revision: i64,
    pub fdr: String,
    pub fdr_date: String,
    pub regulation: String,
    pub regulation_date: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bic_code_pouring_bank: Option<String>,
    pub sender: Mittente,
    pub receiver: Ricevente,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub published: Option<String>,
    pub tot_payments: i64,
    pub sum_payments: f64,
}

/// One payment of `…/payments`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Pagamento {
    pub index: i64,
    pub iuv: String,
    pub iur: String,
    pub id_transfer: i64,
    pub pay: f64,
    /// EXECUTED, REVOKED, STAND_IN, STAND_IN_NO_RPT, NO_RPT.
    pub pay_status: String,
    pub pay_date: String,
}

/// The flow identifier names its sender: `<regulation day YYYY-MM-DD><PSP>-<free text>`
/// (the list does not carry the PSP the single-flow path needs).
pub fn psp_del_flusso(fdr: &str) -> Option<&str> {
    let rest = fdr.get(10..)?;
    let psp = &rest[..rest.find('-')?];
    (!psp.is_empty()).then_some(psp)
}

/// The amount in euro as the API writes it (a JSON number with up to two decimals).
fn euro(campo: &str, v: f64) -> Result<Importo, String> {
    if !v.is_finite() || v < 0.0 {
        return Err(format!("{campo}: importo non valido {v}"));
    }
    Importo::parse(&format!("{v:.2}")).map_err(|e| format!("{campo}: {e}"))
}

fn data(campo: &str, v: &str) -> Result<Date, String> {
    Date::parse(
        v.get(..10).unwrap_or(v),
        time::macros::format_description!("[year]-[month]-[day]"),
    )
    .map_err(|_| format!("{campo}: data non valida '{v}'"))
}

/// payStatus → codiceEsitoSingoloPagamento.
fn esito(s: &str) -> Result<u8, String> {
    Ok(match s {
        "EXECUTED" => 0,
        "REVOKED" => 3,
        "STAND_IN" => 4,
        "STAND_IN_NO_RPT" => 8,
        "NO_RPT" => 9,
        other => return Err(format!("payStatus sconosciuto '{other}'")),
    })
}

fn esito_fdr(c: u8) -> &'static str {
    match c {
        3 => "REVOKED",
        4 => "STAND_IN",
        8 => "STAND_IN_NO_RPT",
        9 => "NO_RPT",
        _ => "EXECUTED",
    }
}

/// A published flow and its payments as a FlussoRiversamento: declared totals as declared
/// (the reader then compares them with what the payments add up to, as for SOAP flows);
/// the receiving institution is the organization (the dominio the flow is for).
pub fn come_flusso(f: &Flusso, pagamenti: &[Pagamento]) -> Result<FlussoRiversamento, String> {
    let tipo_mittente = match f.sender.tipo.as_str() {
        "ABI_CODE" => "A",
        "BIC_CODE" => "B",
        _ => "G",
    };
    let testata = TestataFlusso {
        versione_oggetto: "1.0".into(),
        identificativo_flusso: f.fdr.clone(),
        data_ora_flusso: DataOra::parse(&f.fdr_date).map_err(|e| format!("fdrDate: {e}"))?,
        identificativo_univoco_regolamento: f.regulation.clone(),
        data_regolamento: data("regulationDate", &f.regulation_date)?,
        istituto_mittente: Istituto {
            identificativo: IdentificativoUnivoco {
                tipo: tipo_mittente.into(),
                codice: f.sender.id.clone(),
            },
            denominazione: Some(f.sender.psp_name.clone()).filter(|n| !n.is_empty()),
        },
        codice_bic_banca_di_riversamento: f.bic_code_pouring_bank.clone(),
        istituto_ricevente: Istituto {
            identificativo: IdentificativoUnivoco {
                tipo: "G".into(),
                codice: f.receiver.organization_id.clone(),
            },
            denominazione: Some(f.receiver.organization_name.clone()).filter(|n| !n.is_empty()),
        },
        numero_totale_pagamenti: u64::try_from(f.tot_payments)
            .map_err(|_| format!("totPayments negativo: {}", f.tot_payments))?,
        importo_totale_pagamenti: euro("sumPayments", f.sum_payments)?,
    };
    let pagamenti = pagamenti
        .iter()
        .map(|p| {
            Ok(PagamentoFlusso {
                iuv: Iuv::parse(&p.iuv).map_err(|e| format!("pagamento {}: iuv: {e}", p.index))?,
                iur: p.iur.clone(),
                indice: u8::try_from(p.id_transfer)
                    .ok()
                    .filter(|i| (1..=5).contains(i)),
                importo: euro("pay", p.pay)?,
                codice_esito: esito(&p.pay_status)?,
                data_esito: data("payDate", &p.pay_date)?,
            })
        })
        .collect::<Result<Vec<_>, String>>()?;
    Ok(FlussoRiversamento { testata, pagamenti })
}

/// The other way, for the simulator's FdR service: a FlussoRiversamento published as
/// revision `revision`.
pub fn da_flusso(
    f: &FlussoRiversamento,
    revision: i64,
    published: &str,
) -> (Flusso, Vec<Pagamento>) {
    let t = &f.testata;
    let psp = t.istituto_mittente.identificativo.codice.clone();
    let flusso = Flusso {
        status: Some("PUBLISHED".into()),
        revision,
        fdr: t.identificativo_flusso.clone(),
        fdr_date: t.data_ora_flusso.to_string(),
        regulation: t.identificativo_univoco_regolamento.clone(),
        regulation_date: t.data_regolamento.to_string(),
        bic_code_pouring_bank: t.codice_bic_banca_di_riversamento.clone(),
        sender: Mittente {
            tipo: "BIC_CODE".into(),
            id: psp.clone(),
            psp_id: psp.clone(),
            psp_name: t
                .istituto_mittente
                .denominazione
                .clone()
                .unwrap_or_else(|| psp.clone()),
            psp_broker_id: psp.clone(),
            channel_id: format!("{psp}_01"),
            password: None,
        },
        receiver: Ricevente {
            id: t.istituto_ricevente.identificativo.codice.clone(),
            organization_id: t.istituto_ricevente.identificativo.codice.clone(),
            // Required by the API (1–140 characters): the code when the flow names none.
            organization_name: t
                .istituto_ricevente
                .denominazione
                .clone()
                .unwrap_or_else(|| t.istituto_ricevente.identificativo.codice.clone()),
        },
        published: Some(published.into()),
        tot_payments: i64::try_from(t.numero_totale_pagamenti).unwrap_or(i64::MAX),
        sum_payments: t.importo_totale_pagamenti.cents() as f64 / 100.0,
    };
    let pagamenti = f
        .pagamenti
        .iter()
        .zip(1..)
        .map(|(p, index)| Pagamento {
            index,
            iuv: p.iuv.to_string(),
            iur: p.iur.clone(),
            id_transfer: i64::from(p.indice.unwrap_or(1)),
            pay: p.importo.cents() as f64 / 100.0,
            pay_status: esito_fdr(p.codice_esito).into(),
            pay_date: format!("{}T12:00:00Z", p.data_esito),
        })
        .collect();
    (flusso, pagamenti)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sender_is_read_from_the_flow_id() {
        assert_eq!(
            psp_del_flusso("2025-01-0188888888888-0000001"),
            Some("88888888888")
        );
        assert_eq!(
            psp_del_flusso("2026-12-04ABCDITMM-S000000001"),
            Some("ABCDITMM")
        );
        assert_eq!(psp_del_flusso("2026-12-04-x"), None);
        assert_eq!(psp_del_flusso("corto"), None);
    }

    #[test]
    fn a_published_flow_reads_as_the_xml_flow_and_back() {
        let f: Flusso = serde_json::from_str(
            r#"{"status":"PUBLISHED","revision":2,"created":"2026-12-04T07:00:00Z",
            "fdr":"2026-12-04ABCDITMM-S000000001","fdrDate":"2026-12-04T07:00:00Z",
            "regulation":"TRN2026120400000001","regulationDate":"2026-12-04",
            "sender":{"type":"BIC_CODE","id":"ABCDITMM","pspId":"ABCDITMM","pspName":"Banca",
            "pspBrokerId":"ABCDITMM","channelId":"ABCDITMM_01"},
            "receiver":{"id":"80007580279","organizationId":"80007580279","organizationName":"Comune"},
            "published":"2026-12-04T07:00:01Z","totPayments":2,"sumPayments":100.95}"#,
        )
        .unwrap();
        let p: Vec<Pagamento> = serde_json::from_str(
            r#"[{"index":1,"iuv":"01000000000000144","iur":"abc","idTransfer":1,"pay":70.9,
            "payStatus":"EXECUTED","payDate":"2026-12-03T10:00:00Z"},
            {"index":2,"iuv":"01000000000000144","iur":"abc","idTransfer":2,"pay":30.05,
            "payStatus":"STAND_IN","payDate":"2026-12-03T10:00:00Z"}]"#,
        )
        .unwrap();
        let x = come_flusso(&f, &p).unwrap();
        assert_eq!(x.testata.importo_totale_pagamenti.cents(), 10_095);
        assert_eq!(
            x.testata.istituto_ricevente.identificativo.codice,
            "80007580279"
        );
        assert_eq!(x.pagamenti[0].importo.cents(), 7_090);
        assert_eq!(
            (x.pagamenti[1].indice, x.pagamenti[1].codice_esito),
            (Some(2), 4)
        );
        let (f2, p2) = da_flusso(&x, 2, "2026-12-04T07:00:01Z");
        assert_eq!(come_flusso(&f2, &p2).unwrap(), x);
        let bad = Pagamento {
            pay_status: "BOH".into(),
            ..p[0].clone()
        };
        assert!(come_flusso(&f, &[bad]).is_err());
    }
}
