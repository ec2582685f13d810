//! The new model (paForNode: paGetPayment, paSendRT) in the gateway's own terms: which
//! transfers a position pays, and what a receipt says, read as the RT the rest of the
//! gateway already understands (the receipt e-mail, the portal, reconciliation).

use crate::model::Importo;
use crate::model::codice_fiscale::IdDominio;
use crate::model::iuv::Iuv;
use crate::model::ricevuta_biz::{RicevutaBiz, RicevutaRecuperata, SoggettoBiz, TrasferimentoBiz};
use crate::model::rpt::{
    DataOra, DatiPagamento, DatiSingoloPagamento, Dominio, Ente, IdentificativoUnivoco, Rt,
    Soggetto,
};
use crate::soap::new_model::{Outcome, PaSendRTReq, Receipt, Subject, Transfer, UniqueIdentifier};
use time::Date;

/// One ente's part of a position: its own IBAN, causale and taxonomy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Quota<'a> {
    pub id_dominio: &'a str,
    pub denominazione: &'a str,
    pub iban: &'a str,
    pub causale: &'a str,
    /// datiSpecificiRiscossione (`9/0101105IM/`): its middle part is the taxonomy code.
    pub dati_specifici_riscossione: &'a str,
    pub importo: Importo,
}

/// A position's transferList: the primary ente's transfer first, then, for a
/// multi-beneficiary position, the secondary ente's with its own IBAN and taxonomy. Each
/// ente is credited only on its own account; `company_name` is written in V2 messages only.
pub fn trasferimenti(primaria: &Quota<'_>, secondaria: Option<&Quota<'_>>) -> Vec<Transfer> {
    std::iter::once(primaria)
        .chain(secondaria)
        .zip(1u8..)
        .map(|(q, id)| Transfer {
            id_transfer: id,
            amount: q.importo,
            fiscal_code_pa: q.id_dominio.to_owned(),
            company_name: Some(testo(q.denominazione, 140)),
            iban: Some(q.iban.to_owned()),
            richiesta_marca_da_bollo: None,
            mbd_attachment: None,
            remittance_information: testo(q.causale, 140),
            transfer_category: categoria(q.dati_specifici_riscossione),
        })
        .collect()
}

/// The taxonomy code of a datiSpecificiRiscossione (`9/0101105IM/` → `0101105IM`); the
/// whole value when it has no such part.
pub fn categoria(dsr: &str) -> String {
    dsr.split('/')
        .nth(1)
        .filter(|c| !c.is_empty())
        .unwrap_or(dsr)
        .to_owned()
}

/// At most `n` characters (the schema's stText140 and the like).
pub fn testo(s: &str, n: usize) -> String {
    s.chars().take(n).collect()
}

/// The debtor of a position as the new model writes it.
pub fn debitore(p: &crate::registry::Pagatore) -> Subject {
    Subject {
        unique_identifier: UniqueIdentifier {
            tipo: p.tipo.as_str().to_owned(),
            value: p.codice_fiscale.to_string(),
        },
        full_name: testo(&p.anagrafica, 70),
        street_name: p.indirizzo.clone(),
        civic_number: p.civico.clone(),
        postal_code: p.cap.clone(),
        city: p.localita.clone(),
        state_province_region: p.provincia.clone(),
        country: p.nazione.clone(),
        email: p.email.clone(),
    }
}

/// A receipt as the RT the ente `ricevente` (the request's `idPA`) would have had: its own
/// transfers only (a multi-beneficiary receipt reaches each ente, each books its share),
/// each keeping its `idTransfer` as the index the reporting flow will carry; the IUR is the
/// receiptId (SANP 3: a reporting flow reports a new-model payment by its receiptId). The
/// CCP is the receiptId too: the key it is stored under.
pub fn come_rt(req: &PaSendRTReq) -> Result<Rt, String> {
    let r = &req.receipt;
    let dominio = IdDominio::parse(&req.id_pa).map_err(|e| format!("idPA: {e}"))?;
    let iuv =
        Iuv::parse(&r.creditor_reference_id).map_err(|e| format!("creditorReferenceId: {e}"))?;
    let data_ora = r
        .payment_date_time
        .as_deref()
        .and_then(|s| DataOra::parse(s).ok());
    let data = |s: Option<&str>| s.and_then(|s| s.get(..10)).and_then(parse_date);
    let data_esito = data(r.application_date.as_deref())
        .or_else(|| data(r.payment_date_time.as_deref()))
        .ok_or("né applicationDate né paymentDateTime leggibili")?;
    let data_ora = data_ora
        .unwrap_or_else(|| DataOra::parse(&format!("{data_esito}T00:00:00")).expect("well-formed"));
    let pagato = r.outcome == Outcome::OK;
    let singoli: Vec<DatiSingoloPagamento> = r
        .transfer_list
        .transfers
        .iter()
        .filter(|t| t.fiscal_code_pa == req.id_pa && pagato)
        .map(|t| DatiSingoloPagamento {
            importo: t.amount,
            esito: Some("ESEGUITO".into()),
            data_esito,
            iur: r.receipt_id.clone(),
            causale: t.remittance_information.clone(),
            dati_specifici_riscossione: t.transfer_category.clone(),
            commissioni_psp: None,
            commissioni_pa: None,
            allegato: None,
            indice: Some(t.id_transfer),
        })
        .collect();
    if pagato && singoli.is_empty() {
        return Err(format!(
            "nessun trasferimento per {} nella ricevuta",
            req.id_pa
        ));
    }
    let totale = singoli
        .iter()
        .try_fold(Importo::ZERO, |a, s| a.checked_add(s.importo))
        .ok_or("somma dei trasferimenti fuori misura")?;
    let ente = Ente::solo;
    let proprio = r
        .transfer_list
        .transfers
        .iter()
        .find(|t| t.fiscal_code_pa == req.id_pa)
        .and_then(|t| t.company_name.as_deref())
        .unwrap_or(&r.company_name);
    Ok(Rt {
        versione_oggetto: "paSendRT".into(),
        dominio: Dominio {
            identificativo_dominio: dominio,
            identificativo_stazione_richiedente: Some(req.id_station.clone())
                .filter(|s| !s.is_empty()),
        },
        identificativo_messaggio_ricevuta: r.receipt_id.clone(),
        data_ora_messaggio_ricevuta: data_ora,
        riferimento_messaggio_richiesta: r.receipt_id.clone(),
        riferimento_data_richiesta: data_esito,
        istituto_attestante: ente("B", &r.id_psp, &r.psp_company_name),
        ente_beneficiario: ente("G", &req.id_pa, proprio),
        soggetto_versante: r.payer.as_ref().map(soggetto),
        soggetto_pagatore: soggetto(&r.debtor),
        dati_pagamento: DatiPagamento {
            codice_esito: if pagato { 0 } else { 1 },
            importo_totale_pagato: totale,
            iuv,
            ccp: r.receipt_id.clone(),
            dati_singolo_pagamento: singoli,
        },
    })
}

/// A receipt recovered from Biz Events as the paSendRT the Nodo would have sent the ente
/// it was asked for (no broker or station: it did not come through one).
pub fn da_biz_events(r: &RicevutaRecuperata) -> Result<PaSendRTReq, String> {
    let b = &r.receipt;
    let euro = |campo: &str, v: f64| -> Result<Importo, String> {
        if !v.is_finite() || v < 0.0 {
            return Err(format!("{campo}: importo non valido {v}"));
        }
        Importo::parse(&format!("{v:.2}")).map_err(|e| format!("{campo}: {e}"))
    };
    let soggetto = |s: &SoggettoBiz| Subject {
        unique_identifier: UniqueIdentifier {
            tipo: s.entity_unique_identifier_type.clone(),
            value: s.entity_unique_identifier_value.clone(),
        },
        full_name: s.full_name.clone(),
        street_name: s.street_name.clone(),
        civic_number: s.civic_number.clone(),
        postal_code: s.postal_code.clone(),
        city: s.city.clone(),
        state_province_region: s.state_province_region.clone(),
        country: s.country.clone(),
        email: s.email.clone(),
    };
    let transfers = b
        .transfer_list
        .iter()
        .zip(1u8..)
        .map(|(t, n)| {
            Ok(Transfer {
                id_transfer: t.id_transfer.unwrap_or(n),
                amount: euro("transferAmount", t.transfer_amount)?,
                fiscal_code_pa: t.fiscal_code_pa.clone(),
                company_name: None,
                iban: Some(t.iban.clone()).filter(|i| !i.is_empty()),
                richiesta_marca_da_bollo: None,
                mbd_attachment: Some(t.mbd_attachment.clone()).filter(|m| !m.is_empty()),
                remittance_information: t.remittance_information.clone(),
                transfer_category: t.transfer_category.clone(),
            })
        })
        .collect::<Result<Vec<_>, String>>()?;
    let outcome = match b.outcome.as_str() {
        "OK" => Outcome::OK,
        "KO" => Outcome::KO,
        o => return Err(format!("outcome '{o}' non previsto")),
    };
    Ok(PaSendRTReq {
        id_pa: r.organization_fiscal_code.clone(),
        id_broker_pa: String::new(),
        id_station: String::new(),
        receipt: Receipt {
            receipt_id: b.receipt_id.clone(),
            notice_number: b.notice_number.clone(),
            fiscal_code: b.fiscal_code.clone(),
            outcome,
            creditor_reference_id: b.creditor_reference_id.clone(),
            payment_amount: euro("paymentAmount", b.payment_amount)?,
            description: b.description.clone(),
            company_name: b.company_name.clone(),
            office_name: b.office_name.clone(),
            debtor: soggetto(&b.debtor),
            transfer_list: crate::soap::new_model::TransferList { transfers },
            id_psp: b.id_psp.clone(),
            psp_fiscal_code: b.psp_fiscal_code.clone(),
            psp_partita_iva: b.psp_partita_iva.clone(),
            psp_company_name: b.psp_company_name.clone(),
            id_channel: b.id_channel.clone(),
            channel_description: b.channel_description.clone().unwrap_or_default(),
            payer: b.payer.as_ref().map(soggetto),
            payment_method: b.payment_method.clone(),
            payment_note: None,
            fee: b.fee.map(|f| euro("fee", f)).transpose()?,
            primary_ci_incurred_fee: None,
            id_bundle: None,
            id_ci_bundle: None,
            payment_date_time: b.payment_date_time.clone(),
            application_date: b.application_date.clone(),
            transfer_date: b.transfer_date.clone(),
            stand_in: None,
        },
    })
}

/// The other way, for the simulator's Biz Events service: a receipt it sent as paSendRT.
pub fn come_biz_events(r: &crate::soap::new_model::Receipt) -> RicevutaBiz {
    let euro = |i: Importo| i.cents() as f64 / 100.0;
    let soggetto = |s: &Subject| SoggettoBiz {
        entity_unique_identifier_type: s.unique_identifier.tipo.clone(),
        entity_unique_identifier_value: s.unique_identifier.value.clone(),
        full_name: s.full_name.clone(),
        street_name: s.street_name.clone(),
        civic_number: s.civic_number.clone(),
        postal_code: s.postal_code.clone(),
        city: s.city.clone(),
        state_province_region: s.state_province_region.clone(),
        country: s.country.clone(),
        email: s.email.clone(),
    };
    RicevutaBiz {
        receipt_id: r.receipt_id.clone(),
        notice_number: r.notice_number.clone(),
        fiscal_code: r.fiscal_code.clone(),
        outcome: r.outcome.as_str().into(),
        creditor_reference_id: r.creditor_reference_id.clone(),
        payment_amount: euro(r.payment_amount),
        description: r.description.clone(),
        company_name: r.company_name.clone(),
        office_name: r.office_name.clone(),
        debtor: soggetto(&r.debtor),
        transfer_list: r
            .transfer_list
            .transfers
            .iter()
            .map(|t| TrasferimentoBiz {
                id_transfer: Some(t.id_transfer),
                transfer_amount: euro(t.amount),
                fiscal_code_pa: t.fiscal_code_pa.clone(),
                iban: t.iban.clone().unwrap_or_default(),
                mbd_attachment: t.mbd_attachment.clone().unwrap_or_default(),
                remittance_information: t.remittance_information.clone(),
                transfer_category: t.transfer_category.clone(),
            })
            .collect(),
        id_psp: r.id_psp.clone(),
        psp_fiscal_code: r.psp_fiscal_code.clone(),
        psp_partita_iva: r.psp_partita_iva.clone(),
        psp_company_name: r.psp_company_name.clone(),
        id_channel: r.id_channel.clone(),
        channel_description: Some(r.channel_description.clone()),
        payer: r.payer.as_ref().map(soggetto),
        payment_method: r.payment_method.clone(),
        fee: r.fee.map(euro),
        payment_date_time: r.payment_date_time.clone(),
        application_date: r.application_date.clone(),
        transfer_date: r.transfer_date.clone(),
    }
}

fn soggetto(s: &Subject) -> Soggetto {
    Soggetto {
        identificativo: IdentificativoUnivoco {
            tipo: s.unique_identifier.tipo.clone(),
            codice: s.unique_identifier.value.clone(),
        },
        anagrafica: s.full_name.clone(),
        indirizzo: s.street_name.clone(),
        civico: s.civic_number.clone(),
        cap: s.postal_code.clone(),
        localita: s.city.clone(),
        provincia: s.state_province_region.clone(),
        nazione: s.country.clone(),
        email: s.email.clone(),
    }
}

fn parse_date(s: &str) -> Option<Date> {
    Date::parse(s, time::macros::format_description!("[year]-[month]-[day]")).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::soap::new_model::{Receipt, TransferList};

    fn quota<'a>(dom: &'a str, cents: i64) -> Quota<'a> {
        Quota {
            id_dominio: dom,
            denominazione: "Comune",
            iban: "IT60X0542811101000000123456",
            causale: "TARI",
            dati_specifici_riscossione: "9/0101101IM/",
            importo: Importo::from_cents(cents).unwrap(),
        }
    }

    #[test]
    fn a_shared_position_has_one_transfer_per_ente_on_its_own_account() {
        let (a, b) = (quota("80000000001", 7000), quota("80000000002", 3000));
        let t = trasferimenti(&a, Some(&b));
        assert_eq!(t.len(), 2);
        assert_eq!((t[0].id_transfer, t[1].id_transfer), (1, 2));
        assert_eq!(t[1].fiscal_code_pa, "80000000002");
        assert_eq!(t[1].amount.cents(), 3000);
        assert_eq!(t[0].transfer_category, "0101101IM");
        assert_eq!(trasferimenti(&a, None).len(), 1);
        assert_eq!(categoria("senza barre"), "senza barre");
    }

    fn ricevuta(transfers: Vec<(u8, &str, i64)>) -> PaSendRTReq {
        let debtor = Subject {
            unique_identifier: UniqueIdentifier {
                tipo: "F".into(),
                value: "RSSMRA85T10A562S".into(),
            },
            full_name: "Mario Rossi".into(),
            street_name: None,
            civic_number: None,
            postal_code: None,
            city: None,
            state_province_region: None,
            country: None,
            email: Some("mario@example.org".into()),
        };
        PaSendRTReq {
            id_pa: "80000000002".into(),
            id_broker_pa: "80000000000".into(),
            id_station: "80000000000_01".into(),
            receipt: Receipt {
                receipt_id: "c0ffee".into(),
                notice_number: "301000000000000144".into(),
                fiscal_code: "80000000001".into(),
                outcome: Outcome::OK,
                creditor_reference_id: "01000000000000144".into(),
                payment_amount: Importo::from_cents(10000).unwrap(),
                description: "TARI".into(),
                company_name: "Comune".into(),
                office_name: None,
                debtor,
                transfer_list: TransferList {
                    transfers: transfers
                        .into_iter()
                        .map(|(id, dom, cents)| Transfer {
                            id_transfer: id,
                            amount: Importo::from_cents(cents).unwrap(),
                            fiscal_code_pa: dom.into(),
                            company_name: None,
                            iban: Some("IT60X0542811101000000123456".into()),
                            richiesta_marca_da_bollo: None,
                            mbd_attachment: None,
                            remittance_information: "TARI".into(),
                            transfer_category: "0101101IM".into(),
                        })
                        .collect(),
                },
                id_psp: "BCITITMM".into(),
                psp_fiscal_code: None,
                psp_partita_iva: None,
                psp_company_name: "Banca".into(),
                id_channel: "BCITITMM_01".into(),
                channel_description: "app".into(),
                payer: None,
                payment_method: None,
                payment_note: None,
                fee: None,
                primary_ci_incurred_fee: None,
                id_bundle: None,
                id_ci_bundle: None,
                payment_date_time: Some("2026-12-04T10:11:12".into()),
                application_date: Some("2026-12-04".into()),
                transfer_date: None,
                stand_in: None,
            },
        }
    }

    #[test]
    fn each_ente_reads_its_own_transfers_with_their_index_and_the_receipt_id_as_iur() {
        let r = ricevuta(vec![(1, "80000000001", 7000), (2, "80000000002", 3000)]);
        let rt = come_rt(&r).unwrap();
        assert_eq!(rt.dominio.identificativo_dominio.as_str(), "80000000002");
        let d = &rt.dati_pagamento;
        assert_eq!(d.importo_totale_pagato.cents(), 3000);
        assert_eq!(d.dati_singolo_pagamento.len(), 1);
        assert_eq!(d.dati_singolo_pagamento[0].indice, Some(2));
        assert_eq!(d.dati_singolo_pagamento[0].iur, "c0ffee");
        assert_eq!(d.ccp, "c0ffee");
        assert!(rt.is_positive());
        assert_eq!(
            rt.soggetto_pagatore.email.as_deref(),
            Some("mario@example.org")
        );
        // Nothing of it for this ente: not a receipt it can book.
        let altrui = ricevuta(vec![(1, "80000000001", 10000)]);
        assert!(come_rt(&altrui).is_err());
    }
}
