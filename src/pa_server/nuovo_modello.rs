//! paGetPayment(V2), paSendRT(V2) and paDemandPaymentNotice: a notice paid at a PSP through
//! the new model, and one the payer starts there.
//!
//! paGetPayment prices the position as a verification does (late-notice policy included),
//! answers its data with the transferList (for a multi-beneficiary position the secondary
//! ente's transfer on its own IBAN) and holds it: one attempt row per ente, the dovuti in
//! PAGAMENTO_INIZIATO, expiring like an activation. No RPT is sent: the Nodo holds the
//! payment. Repeated while the attempt is open (the Nodo re-activating with a new token), it
//! answers the same position again without a second attempt. The request's `amount` is
//! informative: the ente's current amount is authoritative (SANP 3).
//!
//! paSendRT stores the whole SOAP request byte for byte, keyed by (idPA,
//! creditorReferenceId, receiptId), and applies it exactly as an RT (`pagamenti::ricevute`):
//! the dovuto paid, the receipt e-mailed, its transfers staged for reconciliation. A new
//! receipt for a known paGetPayment attempt is stored and applied in one transaction (one
//! commit), as paaInviaRT does; anything else, or a failure of it, takes two, the raw
//! request committed first. A receipt already applied answers PAA_RECEIPT_DUPLICATA; one
//! for a position the ente does not have is kept in quarantine and acknowledged (the money
//! was collected; a retry would not make the position appear).

use super::Richiesta;
use super::verifica::quota;
use crate::dominio::nuovo_modello::{self as nm, debitore, testo, trasferimenti};
use crate::model::scadenza::data_italiana;
use crate::model::{Importo, NumeroAvviso, StatoRpt};
use crate::pagamenti::ricevute::{ErroreRt, elabora, registra_e_applica};
use crate::pagamenti::{NonQuotabile, Quota};
use crate::soap::new_model::{
    DatiServizio, Outcome, PaDemandPaymentNoticeReq, PaDemandPaymentNoticeRes, PaGetPaymentReq,
    PaGetPaymentRes, PaSendRTReq, PaSendRTRes, PaymentList, PaymentOptionDescription, PaymentPA,
    QrCode, TransferList,
};
use crate::soap::{FaultBean, FaultCode};
use crate::store::{NuovaRpt, RtStored, StoreError};

pub(super) async fn get_payment(
    s: &super::PaState,
    req: &Richiesta<'_>,
    v2: bool,
) -> Result<String, FaultBean> {
    let (dom, iuv) = (req.header.id_dominio.as_str(), req.header.iuv.as_str());
    PaGetPaymentReq::parse(req.body).map_err(|e| e.fault(true, dom))?;
    let system = |e: StoreError| {
        tracing::error!(error = %e, iuv, "paGetPayment: store error");
        FaultBean::new(FaultCode::PaaSystemError, dom, None)
    };
    let aperta = s
        .store
        .pagamenti()
        .attivazione_nuovo_modello(dom, iuv)
        .await
        .map_err(system)?
        .filter(|r| r.stato == StatoRpt::Creata);
    let ripresa = aperta.is_some();
    let now = time::OffsetDateTime::now_utc();
    let q = quota(s, dom, iuv, now, ripresa).await?;
    let secondaria =
        crate::pagamenti::quota_secondaria(&s.store, &s.cache, &q.dovuto, now, ripresa)
            .await
            .map_err(|e| match e {
                NonQuotabile::Store(e) => system(e),
                e => FaultBean::new(e.fault_code(), dom, None),
            })?;
    let mut transfers = trasferimenti(&parte(&q), secondaria.as_ref().map(parte).as_ref());
    if !v2 {
        // Version 1 transfers have no companyName.
        transfers.iter_mut().for_each(|t| t.company_name = None);
    }
    let totale = transfers
        .iter()
        .try_fold(Importo::ZERO, |a, t| a.checked_add(t.amount))
        .ok_or_else(|| FaultBean::new(FaultCode::PaaSemantica, dom, None))?;
    // A position without a due date is due now: the new model requires one.
    let scadenza = q.dovuto.data_scadenza.unwrap_or(data_italiana(now));
    let res = PaGetPaymentRes {
        outcome: Outcome::OK,
        fault: None,
        data: Some(PaymentPA {
            creditor_reference_id: iuv.to_owned(),
            payment_amount: totale,
            due_date: scadenza.to_string(),
            retention_date: None,
            last_payment: None,
            description: testo(&q.dovuto.causale, 140),
            company_name: Some(testo(&q.ente.denominazione, 140)),
            office_name: None,
            debtor: debitore(&q.dovuto.pagatore),
            transfer_list: TransferList { transfers },
        }),
    };
    let xml = if v2 { res.write_v2() } else { res.write() };
    if ripresa {
        return Ok(xml);
    }
    // One attempt key for the position's rows; unique per (ente, IUV) by construction.
    let ccp = format!("NM{}", now.unix_timestamp_nanos());
    let righe: Vec<NuovaRpt> = std::iter::once(&q)
        .chain(secondaria.as_ref())
        .map(|q| NuovaRpt {
            id_dominio: q.dovuto.id_dominio.to_string(),
            iuv: iuv.to_owned(),
            ccp: ccp.clone(),
            dovuto_id: Some(q.dovuto.id),
            importo: q.prezzo.importo,
            xml: xml.clone().into_bytes(),
        })
        .collect();
    let sposta: Vec<_> = std::iter::once(&q)
        .chain(secondaria.as_ref())
        .map(|q| (q.dovuto.id, q.dovuto.stato))
        .collect();
    let motivo = format!("paGetPayment (tentativo {ccp})");
    match s
        .store
        .pagamenti()
        .attiva_nuovo_modello(&righe, &sposta, &motivo)
        .await
    {
        Ok(()) => Ok(xml),
        // Another attempt took the position first.
        Err(StoreError::Conflict(_)) => {
            Err(FaultBean::new(FaultCode::PaaPagamentoInCorso, dom, None))
        }
        Err(e) => Err(system(e)),
    }
}

pub(super) async fn send_rt(
    s: &super::PaState,
    req: &Richiesta<'_>,
    v2: bool,
) -> Result<String, FaultBean> {
    let h = &req.header;
    let (dom, iuv, receipt_id) = (h.id_dominio.as_str(), h.iuv.as_str(), h.ccp.as_str());
    let msg = PaSendRTReq::parse(req.body).map_err(|e| e.fault(true, dom))?;
    let semantica = |why: String| FaultBean::new(FaultCode::PaaSemantica, dom, Some(why));
    let avviso = NumeroAvviso::parse(&msg.receipt.notice_number)
        .map_err(|e| semantica(format!("noticeNumber: {e}")))?;
    if avviso.iuv().as_str() != iuv {
        return Err(semantica(format!(
            "creditorReferenceId {iuv} non corrisponde al noticeNumber {}",
            msg.receipt.notice_number
        )));
    }
    if receipt_id.is_empty() || receipt_id.len() > 35 {
        return Err(semantica("receiptId vuoto o oltre 35 caratteri".into()));
    }
    let store = &s.store;
    let res = PaSendRTRes {
        outcome: Outcome::OK,
        fault: None,
    };
    let ok = || if v2 { res.write_v2() } else { res.write() };
    if registra_e_applica(store, dom, iuv, receipt_id, req.raw).await {
        return Ok(ok());
    }
    let id = match store
        .pagamenti()
        .store_rt_raw(dom, iuv, receipt_id, req.raw)
        .await
        .map_err(|e| fault(dom, iuv, receipt_id, ErroreRt::Store(e)))?
    {
        RtStored::Esistente { stato, .. } if stato.applicata() => {
            return Err(FaultBean::new(FaultCode::PaaReceiptDuplicata, dom, None));
        }
        RtStored::Esistente { id, .. } | RtStored::Nuova(id) => id,
    };
    match elabora(store, id, dom, iuv, receipt_id, req.raw).await {
        Ok(()) => {}
        Err(ErroreRt::RptSconosciuta) => {
            tracing::warn!(
                dom,
                iuv,
                receipt_id,
                "receipt for a position the ente does not have: kept in quarantine"
            );
        }
        Err(e) => return Err(fault(dom, iuv, receipt_id, e)),
    }
    Ok(ok())
}

/// An ente's part of the position, for the transferList.
fn parte(q: &Quota) -> nm::Quota<'_> {
    nm::Quota {
        id_dominio: q.dovuto.id_dominio.as_str(),
        denominazione: &q.ente.denominazione,
        iban: q.tipo.iban.as_str(),
        causale: &q.dovuto.causale,
        dati_specifici_riscossione: q.dovuto.dati_specifici_riscossione.as_str(),
        importo: q.prezzo.importo,
    }
}

/// paDemandPaymentNotice: a payment the payer starts at a PSP for a service of the ente's
/// catalogue (`pa_soap.servizi`). The service names a tipo dovuto that allows spontaneous
/// payment at a fixed amount; the payer comes from the service's document. A dovuto is
/// created with its notice, which the answer gives with its one payment option; the PSP
/// then pays it as any notice (paGetPayment, paSendRT). There is no protocol key: each
/// request is a new notice.
pub(super) async fn demand_payment_notice(
    s: &super::PaState,
    req: &Richiesta<'_>,
) -> Result<String, FaultBean> {
    let dom = req.header.id_dominio.as_str();
    let msg = PaDemandPaymentNoticeReq::parse(req.body).map_err(|e| e.fault(true, dom))?;
    let semantica = |why: String| FaultBean::new(FaultCode::PaaSemantica, dom, Some(why));
    let system = |e: StoreError| {
        tracing::error!(error = %e, "paDemandPaymentNotice: store error");
        FaultBean::new(FaultCode::PaaSystemError, dom, None)
    };
    let servizio = s
        .servizi
        .iter()
        .find(|x| x.id_servizio == msg.id_servizio && x.id_dominio == dom)
        .ok_or_else(|| {
            semantica(format!(
                "servizio {} non offerto dall'ente",
                msg.id_servizio
            ))
        })?;
    let dati = DatiServizio::parse(&msg.dati)
        .map_err(|why| FaultBean::new(FaultCode::PaaSintassiXsd, dom, Some(why)))?;
    let ente = s.store.registro().get_ente(dom).await.map_err(system)?;
    let tipo = match s
        .store
        .registro()
        .get_tipo_dovuto(dom, &servizio.tipo_dovuto)
        .await
    {
        Ok(t) if t.attivo && t.spontaneo && t.importo_fisso.is_some() => t,
        Ok(_) | Err(StoreError::NotFound) => {
            return Err(semantica(format!(
                "il tipo dovuto {} del servizio non ammette pagamenti spontanei a importo fisso",
                servizio.tipo_dovuto
            )));
        }
        Err(e) => return Err(system(e)),
    };
    let cf = dati.codice_fiscale.trim().to_uppercase();
    let nuovo: crate::registry::NuovoDovuto = serde_json::from_value(serde_json::json!({
        "iud": format!("PSP-{}", &uuid::Uuid::new_v4().simple().to_string()[..30]),
        "tipo_dovuto": tipo.codice,
        "pagatore": {
            "tipo": if cf.len() == 11 { "G" } else { "F" },
            "codice_fiscale": cf,
            "anagrafica": testo(&dati.anagrafica, 70),
            "email": dati.email,
        },
        "causale": testo(&tipo.descrizione, 140),
    }))
    .map_err(|e| semantica(e.to_string()))?;
    let valido = nuovo
        .resolve(&ente, &tipo)
        .map_err(|r| semantica(format!("{r:?}")))?;
    let d = s
        .store
        .dovuti()
        .insert(&ente, &valido, "paDemandPaymentNotice")
        .await
        .map_err(system)?;
    let avviso = d
        .numero_avviso
        .as_ref()
        .ok_or_else(|| semantica("il dovuto creato non ha numero avviso".into()))?;
    let descrizione = testo(&d.causale, 140);
    Ok(PaDemandPaymentNoticeRes {
        outcome: Outcome::OK,
        fault: None,
        qr_code: Some(QrCode {
            fiscal_code: dom.to_owned(),
            notice_number: avviso.to_string(),
        }),
        payment_list: Some(PaymentList {
            option: PaymentOptionDescription {
                amount: d.importo,
                options: "EQ".into(),
                due_date: d.data_scadenza.map(|x| x.to_string()),
                detail_description: Some(descrizione.clone()),
                all_ccp: false,
            },
        }),
        payment_description: Some(descrizione),
        fiscal_code_pa: Some(dom.to_owned()),
        company_name: Some(testo(&ente.denominazione, 140)),
        office_name: None,
    }
    .write())
}

fn fault(dom: &str, iuv: &str, receipt_id: &str, e: ErroreRt) -> FaultBean {
    match e {
        ErroreRt::Illeggibile(e) => e.fault(true, dom),
        ErroreRt::ChiaveErrata(why) => FaultBean::new(FaultCode::PaaSemantica, dom, Some(why)),
        ErroreRt::RptSconosciuta => FaultBean::new(FaultCode::PaaSemantica, dom, None),
        ErroreRt::Duplicata => FaultBean::new(FaultCode::PaaReceiptDuplicata, dom, None),
        ErroreRt::Store(e) => {
            tracing::error!(error = %e, iuv, receipt_id, "paSendRT: store error");
            FaultBean::new(FaultCode::PaaSystemError, dom, None)
        }
    }
}
