//! What an RT does. Read and checked against the RPT it settles, it becomes a plan the store
//! applies in one transaction: the RT's state (ELABORATA, or ANOMALA with the reasons), the
//! RPT settled, the dovuto's move, the receipt e-mail, and the receipts staged for
//! reconciliation.

use crate::model::rpt::{DocError, Rt};
use crate::model::{EsitoPagamento, Importo, StatoDovuto, StatoRt};
use time::Date;

/// The plan of an RT that can be applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EsitoRt {
    pub esito: EsitoPagamento,
    pub importo: Importo,
    /// ELABORATA, or ANOMALA with `nota`.
    pub stato: StatoRt,
    pub nota: Option<String>,
    /// The paid single payments, staged for reconciliation with the receipt.
    pub ricevute: Vec<NuovaRicevuta>,
}

impl EsitoRt {
    /// The receipt e-mail goes out with a payment, or not at all.
    pub fn email(&self) -> bool {
        self.esito.positivo()
    }
}

/// How a stored receipt came: an RT (paaInviaRT, nodoChiediCopiaRT), a new-model
/// paSendRT(V2) request, stored as the whole SOAP envelope received, or a new-model receipt
/// recovered from Biz Events (JSON, stored with the ente it was asked for).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Formato {
    Rt,
    PaSendRt,
    BizEvents,
}

/// Reads a stored receipt whichever way it came, as an RT (a new-model receipt as the RT
/// of the ente it was sent to, see `nuovo_modello::come_rt`).
pub fn leggi(raw: &[u8]) -> Result<(Rt, Formato), DocError> {
    if raw.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{') {
        let r: crate::model::ricevuta_biz::RicevutaRecuperata = serde_json::from_slice(raw)
            .map_err(|e| DocError::Content(format!("ricevuta Biz Events: {e}")))?;
        let req = super::nuovo_modello::da_biz_events(&r).map_err(DocError::Content)?;
        let rt = super::nuovo_modello::come_rt(&req).map_err(DocError::Content)?;
        return Ok((rt, Formato::BizEvents));
    }
    match Rt::parse(raw) {
        Err(DocError::Root { found, .. }) if found == "Envelope" => {}
        rt => return Ok((rt?, Formato::Rt)),
    }
    let env = crate::soap::read_envelope(raw, crate::xml::Limits::MESSAGE)
        .map_err(|e| DocError::Content(e.to_string()))?;
    if !matches!(env.body.name.as_str(), "paSendRTReq" | "paSendRTV2Request") {
        return Err(DocError::Root {
            expected: "paSendRTV2Request",
            found: env.body.name.clone(),
        });
    }
    let req = crate::soap::new_model::PaSendRTReq::parse(env.body.xml)
        .map_err(|e| DocError::Content(e.to_string()))?;
    let rt = super::nuovo_modello::come_rt(&req).map_err(DocError::Content)?;
    Ok((rt, Formato::PaSendRt))
}

/// An RT that does not belong where it was delivered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChiaveErrata(pub String);

/// The RT must be for the dominio, IUV and CCP it was delivered with.
pub fn verifica_chiave(rt: &Rt, dominio: &str, iuv: &str, ccp: &str) -> Result<(), ChiaveErrata> {
    let d = &rt.dati_pagamento;
    if rt.dominio.identificativo_dominio.as_str() != dominio
        || d.iuv.as_str() != iuv
        || d.ccp != ccp
    {
        return Err(ChiaveErrata(format!(
            "RT per {}/{}/{} ma intestazione {dominio}/{iuv}/{ccp}",
            rt.dominio.identificativo_dominio, d.iuv, d.ccp
        )));
    }
    Ok(())
}

/// Decides what an RT does to the RPT of `importo_rpt`. An RT attests money collected, so
/// amounts that do not add up are accepted and flagged (ANOMALA), never refused.
pub fn valuta(rt: &Rt, importo_rpt: Importo) -> EsitoRt {
    let d = &rt.dati_pagamento;
    let esito = rt.esito();
    let mut anomalie = Vec::new();
    if rt.somma_pagamenti() != Some(d.importo_totale_pagato) {
        anomalie.push(format!(
            "importoTotalePagato {} diverso dalla somma dei singoli pagamenti",
            d.importo_totale_pagato
        ));
    }
    // A paid RT (esito 0, or 2 on our one-versamento RPTs) must pay the RPT's amount.
    if esito.positivo() && d.importo_totale_pagato != importo_rpt {
        anomalie.push(format!(
            "pagati {} su una RPT di {} centesimi",
            d.importo_totale_pagato,
            importo_rpt.cents()
        ));
    }
    EsitoRt {
        esito,
        importo: d.importo_totale_pagato,
        stato: if anomalie.is_empty() {
            StatoRt::Elaborata
        } else {
            StatoRt::Anomala
        },
        nota: (!anomalie.is_empty()).then(|| anomalie.join("; ")),
        // Linked to their RT row by the store, which applies them with it.
        ricevute: NuovaRicevuta::da_rt(rt, None),
    }
}

/// Where an RT with `esito` moves a dovuto now in `attuale`: paid, or — if the attempt it
/// settles was holding it — payable again. `None`: it stays (a late negative RT for a
/// dovuto already paid or changed by an operator).
pub fn stato_dovuto(esito: EsitoPagamento, attuale: StatoDovuto) -> Option<StatoDovuto> {
    let target = if esito.positivo() {
        StatoDovuto::Pagato
    } else if attuale == StatoDovuto::PagamentoIniziato {
        StatoDovuto::NonPagato
    } else {
        return None;
    };
    attuale.can_become(target).then_some(target)
}

/// A receipt's single payment to stage for reconciliation (E).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NuovaRicevuta {
    pub iuv: String,
    pub iur: String,
    pub indice: i64,
    pub iud: Option<String>,
    pub tipo_dovuto: Option<String>,
    pub importo_cents: i64,
    pub totale_cents: i64,
    pub codice_esito: i64,
    pub data_esito: Date,
    pub cf_pagatore: Option<String>,
    pub anagrafica_pagatore: Option<String>,
    pub cf_versante: Option<String>,
    pub anagrafica_versante: Option<String>,
    pub attestante: Option<String>,
    pub denominazione_attestante: Option<String>,
    pub causale: Option<String>,
    /// The budget split (JSON, as the dovuto's), when known.
    pub bilancio: Option<String>,
    /// GATEWAY (our RT), PAGATI (MyPay export), SURROGATO (reported with esito 9).
    pub fonte: &'static str,
    pub rt_id: Option<i64>,
}

impl NuovaRicevuta {
    /// The paid single payments of an RT (esito 0 or 2; unpaid ones carry no amount).
    pub fn da_rt(rt: &crate::model::rpt::Rt, rt_id: Option<i64>) -> Vec<NuovaRicevuta> {
        let d = &rt.dati_pagamento;
        if !rt.esito().positivo() {
            return Vec::new();
        }
        let id = |s: &crate::model::rpt::Soggetto| Some(s.identificativo.codice.clone());
        d.dati_singolo_pagamento
            .iter()
            .enumerate()
            .filter(|(_, s)| s.importo.cents() > 0)
            .map(|(n, s)| NuovaRicevuta {
                iuv: d.iuv.to_string(),
                iur: s.iur.clone(),
                indice: s.indice.map_or(n as i64 + 1, i64::from),
                iud: None,
                tipo_dovuto: None,
                importo_cents: s.importo.cents(),
                totale_cents: d.importo_totale_pagato.cents(),
                codice_esito: i64::from(d.codice_esito),
                data_esito: s.data_esito,
                cf_pagatore: id(&rt.soggetto_pagatore),
                anagrafica_pagatore: Some(rt.soggetto_pagatore.anagrafica.clone()),
                cf_versante: rt.soggetto_versante.as_ref().and_then(id),
                anagrafica_versante: rt.soggetto_versante.as_ref().map(|v| v.anagrafica.clone()),
                attestante: Some(rt.istituto_attestante.identificativo.codice.clone()),
                denominazione_attestante: Some(rt.istituto_attestante.denominazione.clone()),
                causale: Some(s.causale.clone()),
                bilancio: None,
                fonte: "GATEWAY",
                rt_id,
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::StatoDovuto::*;

    #[test]
    fn a_positive_rt_pays_the_dovuto_a_negative_one_frees_the_attempt() {
        for c in 0..=4u8 {
            let e = EsitoPagamento::da_codice(c).unwrap();
            let atteso = if matches!(c, 0 | 2) {
                Some(Pagato)
            } else {
                Some(NonPagato)
            };
            assert_eq!(stato_dovuto(e, PagamentoIniziato), atteso, "esito {c}");
        }
        // A late RT: paid counts even after the attempt expired; unpaid changes nothing.
        assert_eq!(
            stato_dovuto(EsitoPagamento::ParzialmenteEseguito, DaPagare),
            Some(Pagato)
        );
        assert_eq!(stato_dovuto(EsitoPagamento::NonEseguito, DaPagare), None);
        assert_eq!(stato_dovuto(EsitoPagamento::Eseguito, Pagato), None);
        assert_eq!(stato_dovuto(EsitoPagamento::Eseguito, Annullato), None);
    }
}
