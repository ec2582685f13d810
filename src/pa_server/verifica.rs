//! paaVerificaRPT: side-effect free and repeatable. Answers from the dovuto's state, and
//! after the due date from the tipo dovuto's policy (refuse, or the updated amount with
//! its components as structured pieces of the causale). The decisions are the domain's
//! (`dominio::posizione`, through `pagamenti::quota`); this file says them in SANP 2.

use super::Richiesta;
use crate::dominio::rpt::ente_beneficiario;
use crate::model::causale::{Causale, Riferimento};
use crate::pagamenti::{NonQuotabile, Quota};
use crate::soap::FaultBean;
use crate::soap::new_model::{
    Outcome, PaVerifyPaymentNoticeRes, PaymentList, PaymentOptionDescription,
};
use crate::soap::sanp2::{
    DatiPagamentoPA, EsitoPaa, PaaVerificaRPT, Spezzone, SpezzoneStrutturato, Spezzoni,
};

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
    let q = quota_now(s, req).await?;
    Ok(EsitoPaa::ok(dati_pagamento(&q)).write("paaVerificaRPTRisposta"))
}

/// paVerifyPaymentNotice (new model): the same pricing and faults as paaVerificaRPT, said
/// as one payment option of today's amount (a late notice under ACCETTA: the updated
/// amount, its due date the original one).
pub(super) async fn verify_payment_notice(
    s: &super::PaState,
    req: &Richiesta<'_>,
) -> Result<String, FaultBean> {
    let dom = req.header.id_dominio.as_str();
    let q = quota_now(s, req).await?;
    let text140 = |t: &str| -> String { t.chars().take(140).collect() };
    let descrizione = text140(&q.dovuto.causale);
    Ok(PaVerifyPaymentNoticeRes {
        outcome: Outcome::OK,
        fault: None,
        payment_list: Some(PaymentList {
            option: PaymentOptionDescription {
                amount: q.prezzo.importo,
                // The amount is due as it is: no partial or greater payment.
                options: "EQ".into(),
                due_date: q.dovuto.data_scadenza.map(|d| d.to_string()),
                detail_description: Some(descrizione.clone()),
                all_ccp: false,
            },
        }),
        payment_description: Some(descrizione),
        fiscal_code_pa: Some(dom.to_owned()),
        company_name: Some(text140(&q.ente.denominazione)),
        office_name: None,
    }
    .write())
}

/// The request's position priced now (a verification, either model).
async fn quota_now(s: &super::PaState, req: &Richiesta<'_>) -> Result<Quota, FaultBean> {
    let now = time::OffsetDateTime::now_utc();
    quota(s, &req.header.id_dominio, &req.header.iuv, now, false).await
}

/// The dovuto priced at `now`, or the fault that says why it cannot be paid.
/// `ripresa` for a repeated activation of the RPT we already created.
pub(super) async fn quota(
    s: &super::PaState,
    dom: &str,
    iuv: &str,
    now: time::OffsetDateTime,
    ripresa: bool,
) -> Result<Quota, FaultBean> {
    crate::pagamenti::quota(&s.store, &s.cache, dom, iuv, now, ripresa)
        .await
        .map_err(|e| {
            if let NonQuotabile::Store(e) = &e {
                tracing::error!(error = %e, "store error while pricing a notice");
            }
            FaultBean::new(e.fault_code(), dom, None)
        })
}

/// What paaVerificaRPT and paaAttivaRPT answer for a priced position. After the due date
/// the causale explains the new amount, piece by piece.
pub(super) fn dati_pagamento(q: &Quota) -> DatiPagamentoPA {
    let (dovuto, prezzo) = (&q.dovuto, &q.prezzo);
    let (causale, spezzoni) = if prezzo.componenti.is_empty() {
        let c = Causale {
            riferimento: Riferimento::Rfb(dovuto.iuv.to_string()),
            importo: Some(prezzo.importo),
            testo: Some(dovuto.causale.clone()),
        };
        (Some(c.format()), None)
    } else {
        let items = prezzo
            .componenti
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
    DatiPagamentoPA {
        importo: prezzo.importo,
        iban_accredito: q.tipo.iban.to_string(),
        bic_accredito: None,
        ente_beneficiario: Some(ente_beneficiario(
            dovuto.id_dominio.as_str(),
            &q.ente.denominazione,
        )),
        credenziali_pagatore: None,
        causale,
        spezzoni,
    }
}
