//! The RT the simulated Nodo/PSP issues for an RPT: positive (every versamento paid in
//! full) or negative (esito 1, nothing paid), valid against PagInf 6.2.0.

use crate::model::Importo;
use crate::model::rpt::{DataOra, DatiPagamento, DatiSingoloPagamento, Ente, Rpt, Rt};

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
