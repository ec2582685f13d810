//! paaInviaRT: the receipt is never lost. Its raw bytes are committed before anything else
//! (so an OK is never sent for an RT we do not hold), then it is read and applied to its
//! RPT and dovuto in one transaction. Idempotent on (dominio, IUV, CCP): a re-delivery of
//! an applied RT answers PAA_RT_DUPLICATA and changes nothing; one that was never applied
//! (crash in between, unknown RPT, unreadable) is processed again. An RT for an unknown
//! RPT answers PAA_RPT_SCONOSCIUTA and stays in quarantine; amounts that do not match the
//! RPT are accepted (an RT attests money collected) and flagged ANOMALA.

use super::Richiesta;
use crate::model::rpt::Rt;
use crate::soap::sanp2::{Esito, EsitoPaaInviaRT, PaaInviaRT};
use crate::soap::{FaultBean, FaultCode};
use crate::store::{EsitoRt, RtStored, Store, stato_rt};

pub(super) async fn invia_rt(store: &Store, req: &Richiesta<'_>) -> Result<String, FaultBean> {
    let h = &req.header;
    let dom = h.id_dominio.as_str();
    let msg = PaaInviaRT::parse(req.body).map_err(|e| e.fault(true, dom))?;
    let raw = msg.rt.0;

    let id = match store
        .store_rt_raw(dom, &h.iuv, &h.ccp, &raw)
        .await
        .map_err(|e| system(dom, &h.iuv, &h.ccp, e))?
    {
        RtStored::Esistente { stato, .. }
            if stato == stato_rt::ELABORATA || stato == stato_rt::ANOMALA =>
        {
            return Err(FaultBean::new(FaultCode::PaaRtDuplicata, dom, None));
        }
        RtStored::Esistente { id, .. } | RtStored::Nuova(id) => id,
    };
    elabora_rt(store, id, dom, &h.iuv, &h.ccp, &raw).await?;
    Ok(EsitoPaaInviaRT {
        fault: None,
        esito: Esito::OK,
    }
    .write())
}

fn system(dom: &str, iuv: &str, ccp: &str, e: crate::store::StoreError) -> FaultBean {
    tracing::error!(error = %e, iuv, ccp, "RT processing: store error");
    FaultBean::new(FaultCode::PaaSystemError, dom, None)
}

/// Reads and applies a receipt whose raw bytes are stored as row `id`, keyed by
/// (`dom`, `iuv`, `ccp`) as it was delivered. Shared by paaInviaRT, the sweep that
/// finishes interrupted processings, and the recovery that fetches copies from the Nodo,
/// so a receipt means the same whichever way it came. The error is what paaInviaRT answers.
pub(crate) async fn elabora_rt(
    store: &Store,
    id: i64,
    dom: &str,
    iuv: &str,
    ccp: &str,
    raw: &[u8],
) -> Result<(), FaultBean> {
    let fault = |c: FaultCode, d: Option<String>| FaultBean::new(c, dom, d);
    let system = |e| system(dom, iuv, ccp, e);
    let rt = match Rt::parse(raw) {
        Ok(rt) => rt,
        Err(e) => {
            store
                .mark_rt(id, stato_rt::INVALIDA, None, Some(&e.to_string()))
                .await
                .map_err(system)?;
            return Err(e.fault(true, dom));
        }
    };
    let d = &rt.dati_pagamento;
    let esito = (d.codice_esito, d.importo_totale_pagato);
    if rt.dominio.identificativo_dominio.as_str() != dom || d.iuv.as_str() != iuv || d.ccp != ccp {
        let why = format!(
            "RT per {}/{}/{} ma intestazione {dom}/{iuv}/{ccp}",
            rt.dominio.identificativo_dominio, d.iuv, d.ccp
        );
        store
            .mark_rt(id, stato_rt::INVALIDA, Some(esito), Some(&why))
            .await
            .map_err(system)?;
        return Err(fault(FaultCode::PaaSemantica, Some(why)));
    }

    let Some(rpt) = store.get_rpt(dom, iuv, ccp).await.map_err(system)? else {
        store
            .mark_rt(
                id,
                stato_rt::QUARANTENA,
                Some(esito),
                Some("nessuna RPT con questa chiave"),
            )
            .await
            .map_err(system)?;
        return Err(fault(FaultCode::PaaRptSconosciuta, None));
    };

    let mut anomalie = Vec::new();
    if rt.somma_pagamenti() != Some(d.importo_totale_pagato) {
        anomalie.push(format!(
            "importoTotalePagato {} diverso dalla somma dei singoli pagamenti",
            d.importo_totale_pagato
        ));
    }
    if d.codice_esito == 0 && d.importo_totale_pagato.cents() != rpt.importo_cents {
        anomalie.push(format!(
            "pagati {} su una RPT di {} centesimi",
            d.importo_totale_pagato, rpt.importo_cents
        ));
    }
    let applied = EsitoRt {
        codice_esito: d.codice_esito,
        importo: d.importo_totale_pagato,
        stato: if anomalie.is_empty() {
            stato_rt::ELABORATA
        } else {
            stato_rt::ANOMALA
        },
        nota: (!anomalie.is_empty()).then(|| anomalie.join("; ")),
        ricevute: crate::store::NuovaRicevuta::da_rt(&rt, Some(id)),
    };
    if store.apply_rt(id, &rpt, &applied).await.map_err(system)? {
        Ok(())
    } else {
        // Applied meanwhile by a concurrent delivery: this one is the duplicate.
        Err(fault(FaultCode::PaaRtDuplicata, None))
    }
}
