//! paaInviaRT: the receipt is never lost: an OK is never sent for an RT we do not hold.
//! A new, readable RT for a known RPT is stored raw and applied to its RPT and dovuto in
//! one transaction (`pagamenti::ricevute::registra_e_applica`, deciding through
//! `dominio::ricevuta`); anything else, or a failure of that transaction, takes two: the
//! raw bytes committed first, then read and applied (`elabora`). Idempotent on
//! (dominio, IUV, CCP): a re-delivery of an applied RT answers PAA_RT_DUPLICATA and
//! changes nothing; one that was never applied (crash in between, unknown RPT,
//! unreadable) is processed again. An RT for an unknown RPT answers PAA_RPT_SCONOSCIUTA
//! and stays in quarantine; amounts that do not match the RPT are accepted (an RT attests
//! money collected) and flagged ANOMALA.

use super::Richiesta;
use crate::pagamenti::ricevute::{ErroreRt, elabora, registra_e_applica};
use crate::soap::sanp2::{Esito, EsitoPaaInviaRT, PaaInviaRT};
use crate::soap::{FaultBean, FaultCode};
use crate::store::{RtStored, Store};

pub(super) async fn invia_rt(store: &Store, req: &Richiesta<'_>) -> Result<String, FaultBean> {
    let h = &req.header;
    let dom = h.id_dominio.as_str();
    let msg = PaaInviaRT::parse(req.body).map_err(|e| e.fault(true, dom))?;
    let raw = msg.rt.0;
    let ok = || {
        EsitoPaaInviaRT {
            fault: None,
            esito: Esito::OK,
        }
        .write()
    };
    if registra_e_applica(store, dom, &h.iuv, &h.ccp, &raw).await {
        return Ok(ok());
    }

    let id = match store
        .pagamenti()
        .store_rt_raw(dom, &h.iuv, &h.ccp, &raw)
        .await
        .map_err(|e| fault(dom, &h.iuv, &h.ccp, ErroreRt::Store(e)))?
    {
        RtStored::Esistente { stato, .. } if stato.applicata() => {
            return Err(FaultBean::new(FaultCode::PaaRtDuplicata, dom, None));
        }
        RtStored::Esistente { id, .. } | RtStored::Nuova(id) => id,
    };
    elabora(store, id, dom, &h.iuv, &h.ccp, &raw)
        .await
        .map_err(|e| fault(dom, &h.iuv, &h.ccp, e))?;
    Ok(ok())
}

/// What paaInviaRT answers for an RT it did not apply.
fn fault(dom: &str, iuv: &str, ccp: &str, e: ErroreRt) -> FaultBean {
    match e {
        ErroreRt::Illeggibile(e) => e.fault(true, dom),
        ErroreRt::ChiaveErrata(why) => FaultBean::new(FaultCode::PaaSemantica, dom, Some(why)),
        ErroreRt::RptSconosciuta => FaultBean::new(FaultCode::PaaRptSconosciuta, dom, None),
        ErroreRt::Duplicata => FaultBean::new(FaultCode::PaaRtDuplicata, dom, None),
        ErroreRt::Store(e) => {
            tracing::error!(error = %e, iuv, ccp, "RT processing: store error");
            FaultBean::new(FaultCode::PaaSystemError, dom, None)
        }
    }
}
