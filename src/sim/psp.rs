//! The PSP side: a notice collected at the counter (paaVerificaRPT, paaAttivaRPT), the end
//! of a payment with its RTs, and their delivery to the gateway (paaInviaRT); and a notice
//! paid through the new model (paVerifyPaymentNotice, paGetPaymentV2, paSendRTV2).

use super::{Key, PSP, Simulator, rt};
use crate::model::Importo;
use crate::node_client::{Chiave, NodoError};
use crate::soap::new_model::{
    Outcome, PaGetPaymentReq, PaGetPaymentRes, PaSendRTReq, PaSendRTRes, PaVerifyPaymentNoticeReq,
    PaVerifyPaymentNoticeRes, QrCode,
};
use crate::soap::sanp2::{
    Base64Doc, DatiPagamentoPSP, EsitoPaa, IntestazionePPT, PaaAttivaRPT, PaaInviaRT,
    PaaVerificaRPT,
};
use std::time::Duration;

impl Simulator {
    /// Ends the payment of `keys`: RTs built (positive when `pagato`), stored at the Nodo
    /// and delivered to the gateway (unless RTs are being lost), twice if duplicating.
    pub async fn concludi(&self, keys: &[Key], pagato: bool) {
        let psp = PSP[0];
        let mut consegne = Vec::new();
        {
            let mut st = self.state.lock().expect("lock");
            st.seq += 1;
            let seq = st.seq;
            for (n, k) in keys.iter().enumerate() {
                let Some(s) = st.rpts.get_mut(k) else {
                    continue;
                };
                if s.rt.is_some() {
                    continue;
                }
                let id_psp = if s.id_psp == "AGID_01" {
                    psp.0.to_owned()
                } else {
                    s.id_psp.clone()
                };
                let rt = rt::da_rpt(&s.rpt, pagato, &id_psp, &format!("IUR{seq:08}{n}"));
                s.rt = Some(rt.clone().into_bytes());
                // Paid or not, the Nodo now holds an RT (negative when not paid).
                s.stato = "RT_ACCETTATA_NODO".into();
                s.id_psp = id_psp;
                consegne.push((k.clone(), rt.into_bytes()));
            }
        }
        let f = self.faults.lock().expect("lock").clone();
        if f.lose_rt {
            tracing::info!(n = consegne.len(), "simulator: RTs lost on purpose");
            return;
        }
        for (k, rt) in consegne {
            let times = if f.duplicate_rt { 2 } else { 1 };
            for _ in 0..times {
                self.consegna_rt(&k, &rt).await;
            }
        }
    }

    /// paaInviaRT, up to 5 attempts.
    async fn consegna_rt(&self, k: &Key, rt: &[u8]) {
        let h = IntestazionePPT {
            id_intermediario_pa: self.id_intermediario_pa.clone(),
            id_stazione: self.id_stazione.clone(),
            id_dominio: k.0.clone(),
            iuv: k.1.clone(),
            ccp: k.2.clone(),
        };
        let body = PaaInviaRT {
            tipo_firma: None,
            rt: Base64Doc(rt.to_vec()),
        }
        .write();
        for attempt in 1..=5u32 {
            let key = Chiave::rpt(&k.0, &k.1, &k.2);
            match self
                .gateway
                .call("paaInviaRT", Some(&h.write()), &body, key)
                .await
            {
                Ok(xml) => {
                    let code = crate::soap::sanp2::EsitoPaaInviaRT::parse(&xml)
                        .ok()
                        .and_then(|e| e.fault.map(|f| f.fault_code));
                    let mut st = self.state.lock().expect("lock");
                    if let Some(s) = st.rpts.get_mut(k) {
                        s.stato =
                            if code.is_none() || code.as_deref() == Some("PAA_RT_DUPLICATA") {
                                "RT_ACCETTATA_PA"
                            } else {
                                "RT_RIFIUTATA_PA"
                            }
                            .into();
                    }
                    return;
                }
                Err(e) => {
                    tracing::warn!(attempt, error = %e, "simulator: paaInviaRT failed");
                    tokio::time::sleep(Duration::from_millis(200 * u64::from(attempt))).await;
                }
            }
        }
    }

    /// A PSP collects notice `numero_avviso` of `dom` at the counter: paaVerificaRPT, then
    /// paaAttivaRPT for the amount it was told, then the gateway sends the RPT and the RT
    /// follows. Returns the amount paid, or the fault that stopped it.
    pub async fn psp_paga_avviso(&self, dom: &str, iuv: &str) -> Result<Importo, String> {
        let ccp = format!("psp{}", &uuid::Uuid::new_v4().simple().to_string()[..12]);
        let h = IntestazionePPT {
            id_intermediario_pa: self.id_intermediario_pa.clone(),
            id_stazione: self.id_stazione.clone(),
            id_dominio: dom.into(),
            iuv: iuv.into(),
            ccp: ccp.clone(),
        };
        let key = || Chiave {
            id_dominio: Some(dom.into()),
            iuv: Some(iuv.into()),
            ccp: Some(ccp.clone()),
            id_psp: Some(PSP[0].0.into()),
        };
        let err = |e: NodoError| e.to_string();
        let v = self
            .gateway
            .call(
                "paaVerificaRPT",
                Some(&h.write()),
                &PaaVerificaRPT {
                    id_psp: PSP[0].0.into(),
                }
                .write(),
                key(),
            )
            .await
            .map_err(err)?;
        let v = EsitoPaa::parse_verifica(&v).map_err(|e| e.to_string())?;
        if let Some(f) = v.fault {
            return Err(f.fault_code);
        }
        let importo = v.dati_pagamento_pa.ok_or("verifica senza dati")?.importo;
        let attiva = PaaAttivaRPT {
            id_psp: PSP[0].0.into(),
            dati_pagamento_psp: DatiPagamentoPSP::solo_importo(importo),
            id_intermediario_psp: "97735020584".into(),
            id_canale_psp: "97735020584_03".into(),
        };
        let a = self
            .gateway
            .call("paaAttivaRPT", Some(&h.write()), &attiva.write(), key())
            .await
            .map_err(err)?;
        let a = EsitoPaa::parse_attiva(&a).map_err(|e| e.to_string())?;
        if let Some(f) = a.fault {
            return Err(f.fault_code);
        }
        // The gateway's nodoInviaRPT arrives through its outbox; the RT follows it.
        let k: Key = (dom.into(), iuv.into(), ccp);
        for _ in 0..200 {
            if self
                .state
                .lock()
                .expect("lock")
                .rpts
                .get(&k)
                .is_some_and(|s| s.stato == "RT_ACCETTATA_PA")
            {
                return Ok(importo);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Err("RT non consegnata entro 10 s".into())
    }
}

impl Simulator {
    /// A PSP collects notice `avviso` of `dom` through the new model: paVerifyPaymentNotice,
    /// paGetPaymentV2 (the Nodo activating the payment), then the receipt (paSendRTV2) to
    /// every ente of the transferList, each kept for the day's reporting flows. Returns
    /// the amount paid and the receiptId, or the fault that stopped it.
    pub async fn psp_paga_avviso_nuovo_modello(
        &self,
        dom: &str,
        avviso: &str,
    ) -> Result<(Importo, String), String> {
        let psp = PSP[0];
        let qr = QrCode {
            fiscal_code: dom.into(),
            notice_number: avviso.into(),
        };
        let key = |ente: &str| Chiave {
            id_dominio: Some(ente.into()),
            iuv: avviso.get(1..).map(str::to_owned),
            ccp: None,
            id_psp: Some(psp.0.into()),
        };
        let err = |e: NodoError| e.to_string();
        let ko = |f: Option<crate::soap::FaultBean>| f.map_or("KO".into(), |f| f.fault_code);
        let verifica = PaVerifyPaymentNoticeReq {
            id_pa: dom.into(),
            id_broker_pa: self.id_intermediario_pa.clone(),
            id_station: self.id_stazione.clone(),
            qr_code: qr.clone(),
        };
        let v = self
            .gateway
            .call("paVerifyPaymentNotice", None, &verifica.write(), key(dom))
            .await
            .map_err(err)?;
        let v = PaVerifyPaymentNoticeRes::parse(&v).map_err(|e| e.to_string())?;
        if v.outcome != Outcome::OK {
            return Err(ko(v.fault));
        }
        let importo = v
            .payment_list
            .ok_or("verifica senza importo")?
            .option
            .amount;
        let get = PaGetPaymentReq {
            id_pa: dom.into(),
            id_broker_pa: self.id_intermediario_pa.clone(),
            id_station: self.id_stazione.clone(),
            qr_code: qr,
            amount: Some(importo),
            payment_note: None,
            transfer_type: None,
            due_date: None,
        };
        let g = self
            .gateway
            .call("paGetPaymentV2", None, &get.write_v2(), key(dom))
            .await
            .map_err(err)?;
        let g = PaGetPaymentRes::parse(&g).map_err(|e| e.to_string())?;
        let data = match (g.outcome, g.data) {
            (Outcome::OK, Some(d)) => d,
            (_, _) => return Err(ko(g.fault)),
        };
        let receipt_id = uuid::Uuid::new_v4().simple().to_string();
        let receipt = rt::da_pagamento(&data, avviso, dom, &receipt_id, psp);
        // The Nodo sends the receipt to each ente the payment credits.
        let mut enti: Vec<String> = data
            .transfer_list
            .transfers
            .iter()
            .map(|t| t.fiscal_code_pa.clone())
            .collect();
        enti.dedup();
        // Receipts lost on the way (a fault): kept here, so the flows report them and Biz
        // Events has them, but never delivered.
        let perse = self.faults.lock().expect("lock").lose_rt;
        for ente in enti {
            let body = PaSendRTReq {
                id_pa: ente.clone(),
                id_broker_pa: self.id_intermediario_pa.clone(),
                id_station: self.id_stazione.clone(),
                receipt: receipt.clone(),
            }
            .write_v2();
            let mut consegnata = perse;
            for attempt in (1..=5u32).filter(|_| !perse) {
                match self
                    .gateway
                    .call("paSendRTV2", None, &body, key(&ente))
                    .await
                {
                    Ok(xml) => {
                        let r = PaSendRTRes::parse(&xml).map_err(|e| e.to_string())?;
                        let code = r.fault.map(|f| f.fault_code);
                        if r.outcome != Outcome::OK
                            && code.as_deref() != Some("PAA_RECEIPT_DUPLICATA")
                        {
                            return Err(code.unwrap_or_else(|| "KO".into()));
                        }
                        consegnata = true;
                        break;
                    }
                    Err(e) => {
                        tracing::warn!(attempt, error = %e, "simulator: paSendRTV2 failed");
                        tokio::time::sleep(Duration::from_millis(200 * u64::from(attempt))).await;
                    }
                }
            }
            if !consegnata {
                return Err(format!("ricevuta non consegnata a {ente}"));
            }
            let raw = crate::soap::write_envelope(None, &body).into_bytes();
            self.state.lock().expect("lock").ricevute.insert(
                (ente, data.creditor_reference_id.clone(), receipt_id.clone()),
                (raw, psp.0.into()),
            );
        }
        Ok((data.payment_amount, receipt_id))
    }
}
