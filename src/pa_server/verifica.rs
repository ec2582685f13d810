//! paaVerificaRPT: side-effect free and repeatable. Answers from the dovuto's state, and
//! after the due date from the tipo dovuto's policy (refuse, or the updated amount with
//! its components as structured pieces of the causale).

use super::Richiesta;
use crate::model::StatoDovuto;
use crate::model::causale::{Causale, Riferimento};
use crate::model::rpt::{Ente as EnteRpt, IdentificativoUnivoco};
use crate::model::scadenza::{self, Politica, Verifica};
use crate::registry::PoliticaScadenza;
use crate::soap::sanp2::{
    DatiPagamentoPA, EsitoPaa, PaaVerificaRPT, Spezzone, SpezzoneStrutturato, Spezzoni,
};
use crate::soap::{FaultBean, FaultCode};

/// `id_psp` is filled as soon as the request names it, for the journal.
pub(super) async fn verifica(
    s: &super::PaState,
    req: &Richiesta<'_>,
    id_psp: &mut Option<String>,
) -> Result<String, FaultBean> {
    let dom = req.header.id_dominio.as_str();
    *id_psp = Some(
        PaaVerificaRPT::parse(req.body)
            .map_err(|e| e.fault(true, dom))?
            .id_psp,
    );
    let (dati, _) = dati_pagamento(
        &s.store,
        &s.cache,
        dom,
        &req.header.iuv,
        time::OffsetDateTime::now_utc(),
        false,
    )
    .await?;
    Ok(EsitoPaa::ok(dati).write("paaVerificaRPTRisposta"))
}

/// What paaVerificaRPT and paaAttivaRPT answer for a payable position at instant `now`;
/// `allow_in_corso` for a repeated activation of the RPT we already created.
/// Returns the dovuto too, for the activation.
pub(crate) async fn dati_pagamento(
    store: &crate::store::Store,
    cache: &super::cache::RegistryCache,
    dom: &str,
    iuv: &str,
    now: time::OffsetDateTime,
    allow_in_corso: bool,
) -> Result<(DatiPagamentoPA, crate::registry::Dovuto), FaultBean> {
    let fault = |c: FaultCode| FaultBean::new(c, dom, None);
    let system = |e: crate::store::StoreError| {
        tracing::error!(error = %e, "store error while pricing a notice");
        fault(FaultCode::PaaSystemError)
    };
    let dovuto = store
        .get_dovuto_by_iuv(dom, iuv)
        .await
        .map_err(system)?
        .ok_or_else(|| fault(FaultCode::PaaPagamentoSconosciuto))?;
    match dovuto.stato {
        StatoDovuto::Pagato => return Err(fault(FaultCode::PaaPagamentoDuplicato)),
        StatoDovuto::PagamentoIniziato if !allow_in_corso => {
            return Err(fault(FaultCode::PaaPagamentoInCorso));
        }
        StatoDovuto::Annullato => return Err(fault(FaultCode::PaaPagamentoAnnullato)),
        StatoDovuto::Scaduto => return Err(fault(FaultCode::PaaPagamentoScaduto)),
        StatoDovuto::DaPagare | StatoDovuto::NonPagato | StatoDovuto::PagamentoIniziato => {}
    }
    let ente = cache
        .ente(store, dom)
        .await
        .map_err(system)?
        .ok_or_else(|| fault(FaultCode::PaaIdDominioErrato))?;
    let tipo = cache
        .tipo(store, dom, &dovuto.tipo_dovuto)
        .await
        .map_err(system)?;
    let politica = match tipo.politica_scadenza {
        PoliticaScadenza::Rifiuta => Politica::Rifiuta,
        PoliticaScadenza::Accetta => Politica::Accetta {
            mora_fissa: tipo.mora_fissa,
            interesse_annuo_bp: tipo.interesse_annuo_bp,
        },
    };
    let (importo, componenti) = match scadenza::verifica(
        dovuto.importo,
        dovuto.data_scadenza,
        scadenza::data_italiana(now),
        politica,
    ) {
        Verifica::Scaduto => return Err(fault(FaultCode::PaaPagamentoScaduto)),
        Verifica::Pagabile {
            importo,
            componenti,
        } => (importo, componenti),
    };
    // After the due date the causale explains the new amount, piece by piece.
    let (causale, spezzoni) = if componenti.is_empty() {
        let c = Causale {
            riferimento: Riferimento::Rfb(dovuto.iuv.to_string()),
            importo: Some(importo),
            testo: Some(dovuto.causale.clone()),
        };
        (Some(c.format()), None)
    } else {
        let items = componenti
            .iter()
            .map(|c| {
                Spezzone::Strutturato(SpezzoneStrutturato {
                    causale: c.descrizione.chars().take(25).collect(),
                    importo: c.importo,
                })
            })
            .collect();
        (None, Some(Spezzoni { items }))
    };
    Ok((
        DatiPagamentoPA {
            importo,
            iban_accredito: tipo.iban.to_string(),
            bic_accredito: None,
            ente_beneficiario: Some(EnteRpt {
                identificativo: IdentificativoUnivoco {
                    tipo: "G".into(),
                    codice: dom.to_owned(),
                },
                denominazione: ente.denominazione.chars().take(70).collect(),
                codice_unit_oper: None,
                denom_unit_oper: None,
                indirizzo: None,
                civico: None,
                cap: None,
                localita: None,
                provincia: None,
                nazione: None,
            }),
            credenziali_pagatore: None,
            causale,
            spezzoni,
        },
        dovuto,
    ))
}
