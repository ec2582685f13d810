//! paaAttivaRPT: the same checks as paaVerificaRPT plus the amount the PSP will collect.
//! On OK the RPT is created once (IUV and CCP from the header, tipoVersamento PO, the PSP
//! from the request), stored with the dovuto moved to PAGAMENTO_INIZIATO and its
//! nodoInviaRPT enqueued in the outbox, all in one transaction. A repeated activation with
//! the same key and amount answers the same and re-enqueues the same RPT; it never creates
//! a second one.

use super::Richiesta;
use super::verifica::dati_pagamento;
use crate::model::causale::{Causale, Riferimento};
use crate::model::rpt::{
    DataOra, DatiSingoloVersamento, DatiVersamento, Dominio, IdentificativoUnivoco, Rpt, Soggetto,
};
use crate::model::scadenza::data_italiana;
use crate::model::{IdDominio, Importo};
use crate::registry::{Dovuto, Pagatore};
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
    if let Some(rpt) = store.get_rpt(dom, &h.iuv, &h.ccp).await.map_err(system)? {
        if rpt.stato == "SCADUTA" {
            // The position is no longer held for this activation: never answer OK for it.
            let why =
                "attivazione scaduta senza RT: riattivare con un nuovo codiceContestoPagamento";
            return Err(FaultBean::new(
                FaultCode::PaaSemantica,
                dom,
                Some(why.into()),
            ));
        }
        let (dati, _) = dati_pagamento(&s.store, &s.cache, dom, &h.iuv, now, true).await?;
        if rpt.importo_cents != richiesto.cents() {
            return Ok(importo_non_valido(dom, dati, richiesto));
        }
        store
            .enqueue("nodoInviaRPT", rpt.id)
            .await
            .map_err(system)?;
        return Ok(EsitoPaa::ok(dati).write("paaAttivaRPTRisposta"));
    }

    let (dati, dovuto) = dati_pagamento(&s.store, &s.cache, dom, &h.iuv, now, false).await?;
    if dati.importo != richiesto {
        return Ok(importo_non_valido(dom, dati, richiesto));
    }
    let versante = msg.dati_pagamento_psp.soggetto_versante.clone();
    let rpt = build_rpt(dom, &h.iuv, &h.ccp, &dovuto, &dati, "PO", versante, now)
        .map_err(|e| FaultBean::new(FaultCode::PaaSemantica, dom, Some(e)))?;
    let nuova = NuovaRpt {
        id_dominio: dom.to_owned(),
        iuv: h.iuv.clone(),
        ccp: h.ccp.clone(),
        dovuto_id: Some(dovuto.id),
        importo: dati.importo,
        xml: rpt.to_xml().into_bytes(),
    };
    let psp = PspAttiva {
        id_psp: msg.id_psp.clone(),
        id_intermediario_psp: msg.id_intermediario_psp.clone(),
        id_canale: msg.id_canale_psp.clone(),
    };
    match store.attiva(&nuova, &psp, &dovuto).await {
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

/// The RPT pagoPA schema 6.2.0 expects; e-mails the RPT pattern would refuse are left out.
/// `tipo_versamento`: PO after paaAttivaRPT, BBT for payments started at the portal.
#[allow(clippy::too_many_arguments)]
pub(crate) fn build_rpt(
    dom: &str,
    iuv: &str,
    ccp: &str,
    d: &Dovuto,
    dati: &DatiPagamentoPA,
    tipo_versamento: &str,
    versante: Option<Soggetto>,
    now: time::OffsetDateTime,
) -> Result<Rpt, String> {
    let id_dominio = IdDominio::parse(dom).map_err(|e| e.0)?;
    let pagatore = soggetto(&d.pagatore);
    let ente = dati
        .ente_beneficiario
        .clone()
        .ok_or("ente beneficiario mancante")?;
    let causale = Causale {
        riferimento: Riferimento::Rfb(iuv.to_owned()),
        importo: Some(dati.importo),
        testo: Some(d.causale.clone()),
    }
    .format();
    let stamp = time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");
    Ok(Rpt {
        versione_oggetto: "6.2.0".into(),
        dominio: Dominio {
            identificativo_dominio: id_dominio,
            identificativo_stazione_richiedente: None,
        },
        identificativo_messaggio_richiesta: uuid::Uuid::new_v4().simple().to_string(),
        data_ora_messaggio_richiesta: DataOra::parse(
            &now.format(stamp).map_err(|e| e.to_string())?,
        )
        .map_err(|e| e.0)?,
        autenticazione_soggetto: "N/A".into(),
        soggetto_versante: versante,
        soggetto_pagatore: pagatore,
        ente_beneficiario: ente,
        dati_versamento: DatiVersamento {
            data_esecuzione_pagamento: data_italiana(now),
            importo_totale: dati.importo,
            tipo_versamento: tipo_versamento.into(),
            iuv: crate::model::Iuv::parse(iuv).map_err(|e| e.0)?,
            ccp: ccp.to_owned(),
            iban_addebito: None,
            bic_addebito: None,
            firma_ricevuta: "0".into(),
            dati_singolo_versamento: vec![DatiSingoloVersamento {
                importo: dati.importo,
                commissione_carico_pa: None,
                iban_accredito: Some(dati.iban_accredito.clone()),
                bic_accredito: None,
                iban_appoggio: None,
                bic_appoggio: None,
                credenziali_pagatore: None,
                causale,
                dati_specifici_riscossione: d.dati_specifici_riscossione.to_string(),
                marca_bollo: None,
            }],
        },
    })
}

fn soggetto(p: &Pagatore) -> Soggetto {
    let email_ok = |e: &&String| {
        e.split_once('@').is_some_and(|(l, dom)| {
            !l.is_empty()
                && l.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"_.+-".contains(&b))
                && dom.split('.').all(|part| {
                    !part.is_empty() && part.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                })
        })
    };
    Soggetto {
        identificativo: IdentificativoUnivoco {
            tipo: p.tipo.as_str().into(),
            codice: p.codice_fiscale.to_string(),
        },
        anagrafica: p.anagrafica.clone(),
        indirizzo: p.indirizzo.clone(),
        civico: p.civico.clone(),
        cap: p.cap.clone(),
        localita: p.localita.clone(),
        provincia: p.provincia.clone(),
        nazione: p.nazione.clone(),
        email: p.email.as_ref().filter(email_ok).cloned(),
    }
}
