//! The gateway's outbox jobs, an adapter over the queue (`outbox`): what each job kind
//! (`model::TipoJob`) asks for and how a result or a failure of the Nodo or the mail
//! server maps to done / retry / dead.

use crate::mail::Mailer;
use crate::model::{StatoFlusso, StatoRpt, TipoJob};
use crate::node_client::ops::Psp;
use crate::node_client::{NodoClient, NodoError};
use crate::outbox::{Handler, JobError, JobResult};
use crate::pagamenti::ricevute::ErroreRt;
use crate::store::{OutboxJob, Store, StoreError};
use std::future::Future;
use std::pin::Pin;

/// Schema facets broken by flows read leniently, per field (`campo`), counted per value.
pub use crate::metrics::FLOW_SCHEMA_DEVIATIONS;
pub use crate::metrics::FLOWS_DOWNLOADED as FLOWS;
pub use crate::metrics::RPT_ORPHANS as ORPHANS;
pub use crate::metrics::RT_RECOVERED as RECOVERED;

/// Closed without payment (SANP 2.1 Tab. 35): the IUV may be paid again.
const CHIUSE_KO: [&str; 4] = [
    "RPT_RIFIUTATA_NODO",
    "RPT_RIFIUTATA_PSP",
    "RPT_ERRORE_INVIO_A_PSP",
    "RPT_DECORSI_TERMINI",
];

pub struct Dispatcher {
    pub store: Store,
    pub nodo: NodoClient,
    /// Set: reporting flows come from FdR REST instead of the SOAP primitives.
    pub fdr: crate::fdr_client::FdrClient,
    /// Set: receipts a flow reports but that never came are asked of Biz Events.
    pub biz: crate::bizevents_client::BizEventsClient,
    pub mailer: Mailer,
}

fn store_err(e: StoreError) -> JobError {
    JobError::Retry(format!("store: {e}"))
}

fn nodo_err(e: NodoError) -> JobError {
    if e.retryable() {
        JobError::Retry(e.to_string())
    } else {
        JobError::Permanent(e.to_string())
    }
}

impl Handler for Dispatcher {
    fn handle<'a>(
        &'a self,
        job: &'a OutboxJob,
    ) -> Pin<Box<dyn Future<Output = JobResult> + Send + 'a>> {
        Box::pin(async move {
            let kind = TipoJob::parse(&job.kind)
                .map_err(|_| JobError::Permanent(format!("unknown job kind {}", job.kind)))?;
            let ref_id = || {
                job.ref_id
                    .ok_or_else(|| JobError::Permanent("job without ref_id".into()))
            };
            match kind {
                TipoJob::InviaCarrello => {
                    crate::pagamenti::job(&self.store, &self.nodo, &job.payload).await
                }
                TipoJob::Flussi => self.flussi(&job.payload).await,
                TipoJob::RecuperoRicevuta => self.recupero_ricevuta(&job.payload).await,
                TipoJob::Pendenti => self.pendenti(&job.payload).await,
                TipoJob::InviaRpt => self.invia_rpt(ref_id()?).await,
                TipoJob::RtEmail => self.rt_email(ref_id()?).await,
                TipoJob::RecuperoRt => self.recupero_rt(ref_id()?).await,
            }
        })
    }

    fn dead<'a>(
        &'a self,
        job: &'a OutboxJob,
        why: &'a str,
    ) -> Pin<Box<dyn Future<Output = Result<(), String>> + Send + 'a>> {
        Box::pin(self.release(job, why))
    }
}

impl Dispatcher {
    /// What a job gives up holding when it dies.
    async fn release(&self, job: &OutboxJob, why: &str) -> Result<(), String> {
        match TipoJob::parse(&job.kind) {
            Ok(TipoJob::InviaCarrello) => {
                crate::pagamenti::rinuncia(&self.store, &job.payload, why)
                    .await
                    .map_err(|e| e.to_string())
            }
            _ => Ok(()),
        }
    }

    /// nodoInviaRPT for an RPT still waiting to be sent. PPT_RPT_DUPLICATA means the Nodo
    /// already holds it (an earlier attempt whose answer was lost): sent.
    async fn invia_rpt(&self, rpt_id: i64) -> JobResult {
        let r = self
            .store
            .pagamenti()
            .rpt_da_inviare(rpt_id)
            .await
            .map_err(store_err)?;
        if r.stato != StatoRpt::Creata {
            return Ok(Some(format!("RPT già in stato {}", r.stato)));
        }
        let psp = match (&r.id_psp, &r.id_intermediario_psp, &r.id_canale) {
            (Some(p), Some(i), Some(c))
                if r.origine == crate::model::OrigineRpt::Attiva.as_str() =>
            {
                Psp {
                    id_psp: p.clone(),
                    id_intermediario_psp: i.clone(),
                    id_canale: c.clone(),
                }
            }
            _ => Psp::wisp(),
        };
        let sent = match self
            .nodo
            .invia_rpt(&r.id_dominio, &r.iuv, &r.ccp, &psp, &r.xml)
            .await
        {
            Ok(url) => url,
            Err(NodoError::Fault(f)) if f.fault_code == "PPT_RPT_DUPLICATA" => None,
            Err(e) => {
                if !e.retryable() {
                    self.store
                        .pagamenti()
                        .rpt_stato(rpt_id, StatoRpt::RifiutataNodo)
                        .await
                        .map_err(store_err)?;
                }
                return Err(nodo_err(e));
            }
        };
        self.store
            .pagamenti()
            .rpt_stato(rpt_id, StatoRpt::Inviata)
            .await
            .map_err(store_err)?;
        Ok(sent)
    }

    /// The RT email for a positive receipt. Nobody to write to is not an error.
    async fn rt_email(&self, rt_id: i64) -> JobResult {
        let m = self
            .store
            .pagamenti()
            .rt_email_data(rt_id)
            .await
            .map_err(store_err)?;
        let rt = crate::dominio::ricevuta::leggi(&m.raw)
            .map(|(rt, _)| rt)
            .map_err(|e| JobError::Permanent(format!("RT illeggibile: {e}")))?;
        let to = rt
            .soggetto_pagatore
            .email
            .clone()
            .or(m.email_dovuto.clone());
        let msg = self
            .mailer
            .rt_message(&rt, &m.raw, to.as_deref(), m.email_login.as_deref())
            .map_err(JobError::Permanent)?;
        let Some(msg) = msg else {
            return Ok(Some("nessun indirizzo email".into()));
        };
        self.mailer.send(msg).await.map_err(JobError::Retry)?;
        Ok(Some("inviata".into()))
    }

    /// An RPT sent long ago without RT (SANP 2.1 "casi di errore"): ask the Nodo where it
    /// stands. A receipt there is fetched with nodoChiediCopiaRT and processed exactly as if
    /// paaInviaRT had delivered it; an RPT the Nodo does not know is sent again with the
    /// same IUV and CCP; an attempt closed without payment frees the dovuto (a new attempt
    /// gets a new CCP, the avviso's IUV stays); an attempt in progress is checked again
    /// after `outbox.recovery_after_minutes`.
    async fn recupero_rt(&self, rpt_id: i64) -> JobResult {
        let r = self
            .store
            .pagamenti()
            .rpt_da_inviare(rpt_id)
            .await
            .map_err(store_err)?;
        if r.stato != StatoRpt::Inviata {
            return Ok(Some(format!("RPT in stato {}", r.stato)));
        }
        let (dom, iuv, ccp) = (&r.id_dominio, &r.iuv, &r.ccp);
        let stato = match self.nodo.chiedi_stato_rpt(dom, iuv, ccp).await {
            Ok(s) => s.stato,
            Err(NodoError::Fault(f)) if f.fault_code == "PPT_RPT_SCONOSCIUTA" => {
                self.store
                    .pagamenti()
                    .resend_rpt(rpt_id)
                    .await
                    .map_err(store_err)?;
                tracing::warn!(dom, iuv, ccp, "RPT unknown to the Nodo: sent again");
                return Ok(Some("RPT sconosciuta al Nodo: reinviata".into()));
            }
            Err(e) => return Err(nodo_err(e)),
        };
        if stato.starts_with("RT_") {
            let raw = self
                .nodo
                .chiedi_copia_rt(dom, iuv, ccp)
                .await
                .map_err(nodo_err)?;
            let id = match self
                .store
                .pagamenti()
                .store_rt_raw(dom, iuv, ccp, &raw)
                .await
                .map_err(store_err)?
            {
                crate::store::RtStored::Nuova(id)
                | crate::store::RtStored::Esistente { id, .. } => id,
            };
            let outcome =
                crate::pagamenti::ricevute::elabora(&self.store, id, dom, iuv, ccp, &raw).await;
            metrics::counter!(RECOVERED).increment(1);
            return match outcome {
                Ok(()) => Ok(Some(format!("RT recuperata ({stato})"))),
                Err(ErroreRt::Duplicata) => Ok(Some("RT già elaborata".into())),
                Err(ErroreRt::Store(e)) => Err(store_err(e)),
                // Stored and flagged (quarantine, invalid): visible over REST, nothing to redo.
                Err(e) => Ok(Some(format!("RT recuperata e segnalata: {e}"))),
            };
        }
        if CHIUSE_KO.contains(&stato.as_str()) {
            self.store
                .pagamenti()
                .rpt_chiusa_ko(rpt_id, &format!("Nodo: {stato}"))
                .await
                .map_err(store_err)?;
            return Ok(Some(format!("chiusa senza pagamento ({stato})")));
        }
        Ok(Some(format!("in corso ({stato})")))
    }

    /// nodoChiediListaPendentiRPT for one dominio: an RPT the Nodo holds open that we sent
    /// gets its recovery check now; one we have no record of (an orphan) is reported.
    async fn pendenti(&self, dom: &str) -> JobResult {
        let lista = self
            .nodo
            .chiedi_lista_pendenti(dom, 1000)
            .await
            .map_err(nodo_err)?;
        let (mut verifiche, mut orfane) = (0, Vec::new());
        for p in &lista {
            match self
                .store
                .pagamenti()
                .get_rpt(&p.id_dominio, &p.iuv, &p.ccp)
                .await
                .map_err(store_err)?
            {
                Some(r) if r.stato == StatoRpt::Inviata => {
                    self.store
                        .outbox()
                        .enqueue_payload(TipoJob::RecuperoRt.as_str(), Some(r.id), "{}")
                        .await
                        .map_err(store_err)?;
                    verifiche += 1;
                }
                Some(_) => {}
                None => {
                    tracing::warn!(dom = %p.id_dominio, iuv = %p.iuv, ccp = %p.ccp, stato = %p.stato, "RPT pending at the Nodo that we have no record of");
                    metrics::counter!(ORPHANS).increment(1);
                    orfane.push(format!("{}/{}/{}", p.id_dominio, p.iuv, p.ccp));
                }
            }
        }
        Ok(Some(format!(
            "{} pendenti, {verifiche} verifiche, orfane: [{}]",
            lista.len(),
            orfane.join(", ")
        )))
    }

    /// Downloads the reporting flows of one dominio: the list, then every flow (or newer
    /// version of one) not yet stored. Each flow is stored with what reading it found; one
    /// that fails does not stop the others. The Nodo unreachable: the whole job retries.
    async fn flussi(&self, dom: &str) -> JobResult {
        if self.fdr.is_configured() {
            return self.flussi_fdr(dom).await;
        }
        let elenco = self
            .nodo
            .chiedi_elenco_flussi(dom)
            .await
            .map_err(nodo_err)?;
        let (mut nuovi, mut segnalati) = (0, 0);
        for f in &elenco {
            let presente = self
                .store
                .riconciliazione()
                .flusso_presente(dom, &f.identificativo_flusso, &f.data_ora_flusso)
                .await
                .map_err(store_err)?;
            if presente {
                continue;
            }
            let mut row = crate::store::NuovoFlusso::da_leggere(
                dom,
                &f.identificativo_flusso,
                &f.data_ora_flusso,
            );
            match self.nodo.chiedi_flusso(dom, &f.identificativo_flusso).await {
                Ok(raw) => {
                    leggi_flusso(dom, &raw, &mut row);
                    row.raw = raw;
                }
                Err(NodoError::Fault(e)) if e.fault_code == "PPT_ID_FLUSSO_SCONOSCIUTO" => {
                    row.nota = Some("elencato ma PPT_ID_FLUSSO_SCONOSCIUTO".into());
                }
                Err(e) if e.retryable() => return Err(JobError::Retry(e.to_string())),
                Err(e) => {
                    row.stato = StatoFlusso::Illeggibile;
                    row.nota = Some(e.to_string());
                }
            }
            if !self.conserva_flusso(dom, &row).await? {
                segnalati += 1;
            }
            nuovi += 1;
        }
        Ok(Some(format!(
            "{} in elenco, {nuovi} nuovi, {segnalati} segnalati",
            elenco.len()
        )))
    }
}

impl Dispatcher {
    /// The reporting flows of one dominio from FdR REST: every published revision not yet
    /// stored (keyed by flow id and the revision's publication instant, so a new revision
    /// is a new row as a re-sent SOAP flow is), read with its payments page by page and
    /// stored exactly as a SOAP flow (`leggi_flusso` on the FlussoRiversamento it maps to:
    /// the same totals check, the same anomalies). FdR unreachable: the job retries.
    async fn flussi_fdr(&self, dom: &str) -> JobResult {
        use crate::fdr_client::FdrError;
        let fdr_err = |e: FdrError| {
            if e.retryable() {
                JobError::Retry(e.to_string())
            } else {
                JobError::Permanent(e.to_string())
            }
        };
        let elenco = self.fdr.pubblicati(dom).await.map_err(fdr_err)?;
        let (mut nuovi, mut segnalati) = (0, 0);
        for p in &elenco {
            let chiave = p
                .published
                .clone()
                .unwrap_or_else(|| format!("revisione {}", p.revision));
            let presente = self
                .store
                .riconciliazione()
                .flusso_presente(dom, &p.fdr, &chiave)
                .await
                .map_err(store_err)?;
            if presente {
                continue;
            }
            let mut row = crate::store::NuovoFlusso::da_leggere(dom, &p.fdr, &chiave);
            match self.fdr.flusso(dom, p).await {
                Ok((f, pagamenti)) => {
                    match crate::fdr_client::modello::come_flusso(&f, &pagamenti) {
                        Ok(x) => {
                            let xml = x.to_xml().into_bytes();
                            leggi_flusso(dom, &xml, &mut row);
                            row.raw = xml;
                        }
                        Err(why) => {
                            row.stato = StatoFlusso::Illeggibile;
                            row.nota = Some(why);
                        }
                    }
                }
                Err(FdrError::NotFound(_)) => {
                    row.nota = Some("elencato ma non trovato su FdR".into());
                }
                Err(e) if e.retryable() => return Err(JobError::Retry(e.to_string())),
                Err(e) => {
                    row.stato = StatoFlusso::Illeggibile;
                    row.nota = Some(e.to_string());
                }
            }
            if !self.conserva_flusso(dom, &row).await? {
                segnalati += 1;
            }
            nuovi += 1;
        }
        Ok(Some(format!(
            "FdR: {} pubblicati, {nuovi} nuovi, {segnalati} segnalati",
            elenco.len()
        )))
    }
}

impl Dispatcher {
    /// Stores a flow read from either source, counts it, and asks for the receipts it
    /// reports that never came. `false` when the flow has a problem (logged).
    async fn conserva_flusso(
        &self,
        dom: &str,
        row: &crate::store::NuovoFlusso,
    ) -> Result<bool, JobError> {
        let ok = row.stato == StatoFlusso::Acquisito;
        if !ok {
            tracing::warn!(dom, id_flusso = %row.id_flusso, stato = %row.stato, nota = ?row.nota, "reporting flow with a problem");
        }
        metrics::counter!(FLOWS, "stato" => row.stato.as_str()).increment(1);
        self.store
            .riconciliazione()
            .insert_flusso(row)
            .await
            .map_err(store_err)?;
        self.pianifica_recuperi(dom, &row.pagamenti).await?;
        Ok(ok)
    }

    /// After a flow is stored: each payment it reports as executed whose receipt never
    /// came (a paSendRT lost on the way) is asked of Biz Events. Nothing without
    /// `biz_events.url`.
    async fn pianifica_recuperi(
        &self,
        dom: &str,
        pagamenti: &[crate::model::flusso::PagamentoFlusso],
    ) -> Result<usize, JobError> {
        if !self.biz.is_configured() {
            return Ok(0);
        }
        let mut n = 0;
        for p in pagamenti.iter().filter(|p| p.codice_esito == 0) {
            let iuv = p.iuv.to_string();
            let nota = self
                .store
                .pagamenti()
                .ricevuta_nota(dom, &iuv, &p.iur)
                .await
                .map_err(store_err)?;
            if !nota {
                crate::pagamenti::ricevute::accoda_recupero(&self.store, dom, &iuv, &p.iur)
                    .await
                    .map_err(store_err)?;
                n += 1;
            }
        }
        if n > 0 {
            tracing::warn!(
                dom,
                n,
                "payments reported without their receipt: asked of Biz Events"
            );
        }
        Ok(n)
    }

    /// A receipt that never came, asked of Biz Events and then handled exactly as a
    /// paSendRT: stored as received (with the ente it was asked for) before anything else,
    /// then applied. None there: done, said so (the next flow or an operator may ask again).
    async fn recupero_ricevuta(&self, payload: &str) -> JobResult {
        let k: crate::pagamenti::ricevute::ChiaveRicevuta = serde_json::from_str(payload)
            .map_err(|e| JobError::Permanent(format!("payload: {e}")))?;
        let (dom, iuv, iur) = (&k.id_dominio, &k.iuv, &k.iur);
        if self
            .store
            .pagamenti()
            .ricevuta_nota(dom, iuv, iur)
            .await
            .map_err(store_err)?
        {
            return Ok(Some("ricevuta già presente".into()));
        }
        let body = match self.biz.ricevuta(dom, iuv, iur).await {
            Ok(Some(b)) => b,
            Ok(None) => return Ok(Some("nessuna ricevuta su Biz Events".into())),
            Err(e) if e.retryable() => return Err(JobError::Retry(e.to_string())),
            Err(e) => return Err(JobError::Permanent(e.to_string())),
        };
        let r: crate::model::ricevuta_biz::RicevutaBiz = serde_json::from_slice(&body)
            .map_err(|e| JobError::Permanent(format!("ricevuta illeggibile: {e}")))?;
        if r.creditor_reference_id != *iuv || r.receipt_id != *iur {
            return Err(JobError::Permanent(format!(
                "Biz Events ha risposto con la ricevuta {}/{}",
                r.creditor_reference_id, r.receipt_id
            )));
        }
        let raw = crate::model::ricevuta_biz::RicevutaRecuperata::avvolgi(dom, &body);
        let id = match self
            .store
            .pagamenti()
            .store_rt_raw(dom, iuv, iur, &raw)
            .await
            .map_err(store_err)?
        {
            crate::store::RtStored::Esistente { stato, .. } if stato.applicata() => {
                return Ok(Some("ricevuta già presente".into()));
            }
            crate::store::RtStored::Esistente { id, .. } | crate::store::RtStored::Nuova(id) => id,
        };
        metrics::counter!(RECOVERED).increment(1);
        match crate::pagamenti::ricevute::elabora(&self.store, id, dom, iuv, iur, &raw).await {
            Ok(()) => Ok(Some("ricevuta recuperata da Biz Events e applicata".into())),
            Err(ErroreRt::RptSconosciuta) => Ok(Some("ricevuta recuperata, in quarantena".into())),
            Err(ErroreRt::Duplicata) => Ok(Some("ricevuta già applicata".into())),
            Err(ErroreRt::Store(e)) => Err(store_err(e)),
            Err(e) => Err(JobError::Permanent(e.to_string())),
        }
    }
}

/// Reads a downloaded flow into `row`: its totals, whether it is for this dominio and
/// adds up, and the schema facets it breaks (kept on the row and counted in
/// [`FLOW_SCHEMA_DEVIATIONS`] per field). Pure but for the counter, so it is tested
/// without a Nodo.
pub fn leggi_flusso(dom: &str, raw: &[u8], row: &mut crate::store::NuovoFlusso) {
    match crate::model::flusso::FlussoRiversamento::leggi(raw) {
        Err(e) => {
            row.stato = StatoFlusso::Illeggibile;
            row.nota = Some(e.to_string());
        }
        Ok((f, conteggi)) => {
            let t = &f.testata;
            row.data_regolamento = Some(t.data_regolamento);
            row.id_regolamento = Some(t.identificativo_univoco_regolamento.clone());
            row.numero_pagamenti = i64::try_from(t.numero_totale_pagamenti).ok();
            row.importo_cents = Some(t.importo_totale_pagamenti.cents());
            row.psp = Some(t.istituto_mittente.identificativo.codice.clone());
            if !conteggi.deviazioni.is_empty() {
                for d in &conteggi.deviazioni {
                    metrics::counter!(FLOW_SCHEMA_DEVIATIONS, "campo" => d.campo)
                        .increment(d.volte);
                }
                tracing::warn!(dom, id_flusso = %row.id_flusso, psp = %t.istituto_mittente.identificativo.codice,
                    deviazioni = conteggi.deviazioni.len(), "reporting flow breaks schema facets; read leniently");
                row.deviazioni = Some(
                    conteggi
                        .deviazioni
                        .iter()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>()
                        .join("; "),
                );
            }
            let ricevente = &t.istituto_ricevente.identificativo.codice;
            let anomalie = t.anomalie(&conteggi);
            if ricevente != dom {
                row.stato = StatoFlusso::EnteNonServito;
                row.nota = Some(format!(
                    "istitutoRicevente {ricevente}, richiesto per {dom}"
                ));
            } else if t.identificativo_flusso != row.id_flusso {
                row.stato = StatoFlusso::Anomalo;
                row.nota = Some(format!(
                    "il documento è il flusso {}",
                    t.identificativo_flusso
                ));
            } else if !anomalie.is_empty() {
                row.stato = StatoFlusso::Anomalo;
                row.nota = Some(anomalie.join("; "));
            } else {
                row.stato = StatoFlusso::Acquisito;
            }
            if row.stato == StatoFlusso::EnteNonServito {
                row.data_regolamento = None;
            } else {
                row.pagamenti = f.pagamenti;
            }
        }
    }
}
