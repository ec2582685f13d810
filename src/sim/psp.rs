//! The PSP side: a notice collected at the counter (paaVerificaRPT, paaAttivaRPT), the end
//! of a payment with its RTs, and their delivery to the gateway (paaInviaRT).

use super::{Key, PSP, Simulator, rt};
use crate::model::Importo;
use crate::node_client::{Chiave, NodoError};
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
            dati_pagamento_psp: DatiPagamentoPSP {
                importo,
                iban_appoggio: None,
                bic_appoggio: None,
                soggetto_versante: None,
                iban_addebito: None,
                bic_addebito: None,
                soggetto_pagatore: None,
            },
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
