//! The RT the simulated Nodo/PSP issues for an RPT: positive (every versamento paid in
//! full) or negative (esito 1, nothing paid), valid against PagInf 6.2.0.

use crate::model::Importo;
use crate::model::rpt::{DataOra, DatiPagamento, DatiSingoloPagamento, Ente, Rpt, Rt};
use crate::soap::new_model::{Outcome, PaymentPA, Receipt};

pub fn da_rpt(rpt: &Rpt, pagato: bool, id_psp: &str, iur: &str) -> String {
    let now = time::OffsetDateTime::now_utc();
    let oggi = crate::model::scadenza::data_italiana(now);
    let stamp = time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]");
    let data_ora = now
        .format(stamp)
        .ok()
        .and_then(|s| DataOra::parse(&s).ok())
        .unwrap_or_else(|| rpt.data_ora_messaggio_richiesta.clone());
    let richiesta = time::Date::parse(
        rpt.data_ora_messaggio_richiesta
            .as_ref()
            .get(..10)
            .unwrap_or(""),
        time::macros::format_description!("[year]-[month]-[day]"),
    )
    .unwrap_or(oggi);
    let v = &rpt.dati_versamento;
    let singoli: Vec<DatiSingoloPagamento> = if pagato {
        v.dati_singolo_versamento
            .iter()
            .enumerate()
            .map(|(i, s)| DatiSingoloPagamento {
                indice: None,
                importo: s.importo,
                esito: Some("ESEGUITO".into()),
                data_esito: oggi,
                iur: format!("{iur}{i}"),
                causale: s.causale.clone(),
                dati_specifici_riscossione: s.dati_specifici_riscossione.clone(),
                commissioni_psp: None,
                commissioni_pa: None,
                allegato: None,
            })
            .collect()
    } else {
        Vec::new()
    };
    let psp = crate::sim::PSP
        .iter()
        .find(|p| p.0 == id_psp)
        .map_or("PSP", |p| p.1);
    Rt {
        versione_oggetto: "6.2.0".into(),
        dominio: rpt.dominio.clone(),
        identificativo_messaggio_ricevuta: uuid::Uuid::new_v4().simple().to_string(),
        data_ora_messaggio_ricevuta: data_ora,
        riferimento_messaggio_richiesta: rpt.identificativo_messaggio_richiesta.clone(),
        riferimento_data_richiesta: richiesta,
        istituto_attestante: Ente::solo("B", id_psp, psp),
        ente_beneficiario: rpt.ente_beneficiario.clone(),
        soggetto_versante: rpt.soggetto_versante.clone(),
        soggetto_pagatore: rpt.soggetto_pagatore.clone(),
        dati_pagamento: DatiPagamento {
            codice_esito: if pagato { 0 } else { 1 },
            importo_totale_pagato: if pagato {
                v.importo_totale
            } else {
                Importo::ZERO
            },
            iuv: v.iuv.clone(),
            ccp: v.ccp.clone(),
            dati_singolo_pagamento: singoli,
        },
    }
    .to_xml()
}

/// The receipt the Nodo issues, now, for notice `avviso` of `dom` paid in full at PSP
/// `psp` (id, name, fee in cents), from the position paGetPayment answered (`data`).
pub fn da_pagamento(
    data: &PaymentPA,
    avviso: &str,
    dom: &str,
    receipt_id: &str,
    psp: (&str, &str, i64),
) -> Receipt {
    let now = time::OffsetDateTime::now_utc();
    let oggi = crate::model::scadenza::data_italiana(now);
    Receipt {
        receipt_id: receipt_id.to_owned(),
        notice_number: avviso.into(),
        fiscal_code: dom.into(),
        outcome: Outcome::OK,
        creditor_reference_id: data.creditor_reference_id.clone(),
        payment_amount: data.payment_amount,
        description: data.description.clone(),
        company_name: data.company_name.clone().unwrap_or_else(|| dom.into()),
        office_name: None,
        debtor: data.debtor.clone(),
        transfer_list: data.transfer_list.clone(),
        id_psp: psp.0.into(),
        psp_fiscal_code: None,
        psp_partita_iva: None,
        psp_company_name: psp.1.into(),
        id_channel: format!("{}_01", psp.0),
        channel_description: "app".into(),
        payer: None,
        payment_method: Some("creditCard".into()),
        payment_note: None,
        fee: Importo::from_cents(psp.2).ok(),
        primary_ci_incurred_fee: None,
        id_bundle: None,
        id_ci_bundle: None,
        payment_date_time: Some(DataOra::from_offset(now).to_string()),
        application_date: Some(oggi.to_string()),
        transfer_date: Some((oggi + time::Duration::days(1)).to_string()),
        stand_in: Some(false),
    }
}
