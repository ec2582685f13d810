//! paaAttivaRPT: the same checks as paaVerificaRPT plus the amount the PSP will collect.
//! On OK the RPT is created once (IUV and CCP from the header, tipoVersamento PO, the PSP
//! from the request), stored with the dovuto moved to PAGAMENTO_INIZIATO and its
//! nodoInviaRPT enqueued in the outbox, all in one transaction. A repeated activation with
//! the same key and amount answers the same and re-enqueues the same RPT; it never creates
//! a second one.

use super::Richiesta;
use super::verifica::{dati_pagamento, quota};
use crate::model::{Importo, StatoRpt, TipoJob};
use crate::soap::sanp2::{DatiPagamentoPA, Esito, EsitoPaa, PaaAttivaRPT};
use crate::soap::{FaultBean, FaultCode};
use crate::store::{NuovaRpt, PspAttiva, StoreError};

pub(super) async fn attiva(
    s: &super::PaState,
    req: &Richiesta<'_>,
    id_psp: &mut Option<String>,
) -> Result<String, FaultBean> {
    let store = &s.store;
    let h = &req.header;
    let dom = h.id_dominio.as_str();
    let fault = |c: FaultCode| FaultBean::new(c, dom, None);
    let system = |e: StoreError| {
        tracing::error!(error = %e, iuv = %h.iuv, "paaAttivaRPT: store error");
        fault(FaultCode::PaaSystemError)
    };
    let msg = PaaAttivaRPT::parse(req.body).map_err(|e| e.fault(true, dom))?;
    *id_psp = Some(msg.id_psp.clone());
    let richiesto = msg.dati_pagamento_psp.importo;
    let now = time::OffsetDateTime::now_utc();

    // A repeat of an activation we already took: same answer, same RPT, sent again.
    if let Some(rpt) = store
        .pagamenti()
        .get_rpt(dom, &h.iuv, &h.ccp)
        .await
        .map_err(system)?
    {
        if rpt.stato == StatoRpt::Scaduta {
            // The position is no longer held for this activation: never answer OK for it.
            let why =
                "attivazione scaduta senza RT: riattivare con un nuovo codiceContestoPagamento";
            return Err(FaultBean::new(
                FaultCode::PaaSemantica,
                dom,
                Some(why.into()),
            ));
        }
        let dati = dati_pagamento(&quota(s, dom, &h.iuv, now, true).await?);
        if rpt.importo_cents != richiesto.cents() {
            return Ok(importo_non_valido(dom, dati, richiesto));
        }
        store
            .outbox()
            .enqueue(TipoJob::InviaRpt, rpt.id)
            .await
            .map_err(system)?;
        return Ok(EsitoPaa::ok(dati).write("paaAttivaRPTRisposta"));
    }

    let q = quota(s, dom, &h.iuv, now, false).await?;
    let dati = dati_pagamento(&q);
    if dati.importo != richiesto {
        return Ok(importo_non_valido(dom, dati, richiesto));
    }
    let versante = msg.dati_pagamento_psp.soggetto_versante.clone();
    let rpt = q
        .rpt(&h.ccp, "PO", versante, now)
        .map_err(|e| FaultBean::new(FaultCode::PaaSemantica, dom, Some(e)))?;
    let nuova = NuovaRpt {
        id_dominio: dom.to_owned(),
        iuv: h.iuv.clone(),
        ccp: h.ccp.clone(),
        dovuto_id: Some(q.dovuto.id),
        importo: dati.importo,
        xml: rpt.to_xml().into_bytes(),
    };
    let psp = PspAttiva {
        id_psp: msg.id_psp.clone(),
        id_intermediario_psp: msg.id_intermediario_psp.clone(),
        id_canale: msg.id_canale_psp.clone(),
    };
    match store.pagamenti().attiva(&nuova, &psp, &q.dovuto).await {
        Ok(_) => Ok(EsitoPaa::ok(dati).write("paaAttivaRPTRisposta")),
        // Another activation won the race for this position.
        Err(StoreError::Conflict(_)) => Err(fault(FaultCode::PaaPagamentoInCorso)),
        Err(e) => Err(system(e)),
    }
}

/// KO with the fault and, so the PSP can re-activate, the correct amount.
fn importo_non_valido(dom: &str, corretti: DatiPagamentoPA, richiesto: Importo) -> String {
    let why = format!(
        "importo richiesto {richiesto}, importo dovuto {}",
        corretti.importo
    );
    EsitoPaa {
        fault: Some(FaultBean::new(
            FaultCode::PaaAttivaRptImportoNonValido,
            dom,
            Some(why),
        )),
        esito: Esito::KO,
        dati_pagamento_pa: Some(corretti),
    }
    .write("paaAttivaRPTRisposta")
}
