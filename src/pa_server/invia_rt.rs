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
    let fault = |c: FaultCode, d: Option<String>| FaultBean::new(c, dom, d);
    let system = |e: crate::store::StoreError| {
        tracing::error!(error = %e, iuv = %h.iuv, ccp = %h.ccp, "paaInviaRT: store error");
        fault(FaultCode::PaaSystemError, None)
    };
    let msg = PaaInviaRT::parse(req.body).map_err(|e| e.fault(true, dom))?;
    let raw = msg.rt.0;

    let id = match store
        .store_rt_raw(dom, &h.iuv, &h.ccp, &raw)
        .await
        .map_err(system)?
    {
        RtStored::Esistente { stato, .. }
            if stato == stato_rt::ELABORATA || stato == stato_rt::ANOMALA =>
        {
            return Err(fault(FaultCode::PaaRtDuplicata, None));
        }
        RtStored::Esistente { id, .. } | RtStored::Nuova(id) => id,
    };

    let rt = match Rt::parse(&raw) {
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
    if rt.dominio.identificativo_dominio.as_str() != dom
        || d.iuv.as_str() != h.iuv
        || d.ccp != h.ccp
    {
        let why = format!(
            "RT per {}/{}/{} ma intestazione {dom}/{}/{}",
            rt.dominio.identificativo_dominio, d.iuv, d.ccp, h.iuv, h.ccp
        );
        store
            .mark_rt(id, stato_rt::INVALIDA, Some(esito), Some(&why))
            .await
            .map_err(system)?;
        return Err(fault(FaultCode::PaaSemantica, Some(why)));
    }

    let Some(rpt) = store.get_rpt(dom, &h.iuv, &h.ccp).await.map_err(system)? else {
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
    };
    store.apply_rt(id, &rpt, &applied).await.map_err(system)?;
    Ok(EsitoPaaInviaRT {
        fault: None,
        esito: Esito::OK,
    }
    .write())
}
