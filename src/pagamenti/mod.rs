//! Payments started at the ente's portal: one or more dovuti, of one or several enti we
//! serve, sent to the Nodo as one cart (nodoInviaCarrelloRPT, WISP PSP ids, tipoVersamento
//! BBT); the payer is redirected to the returned URL. Everything is checked before the
//! Nodo is called (nothing is sent for an invalid cart), the cart, its RPTs, the dovuti's
//! moves and the send job are stored in one transaction, and the send runs at once under
//! the job's lease: if it fails transiently the outbox retries it, and a re-send that
//! finds the cart already at the Nodo counts as sent.

pub mod portale;
pub mod ricevute;

/// The cart rules, kept under their old path.
pub use crate::dominio::carrello as regole;

use crate::checkout_client::CheckoutClient;
use crate::dominio::posizione::{self, NonPagabile, Prezzo};
use crate::dominio::rpt::{Tentativo, ente_beneficiario};
use crate::model::scadenza::data_italiana;
use crate::model::{StatoCarrello, TipoJob};
use crate::node_client::ops::{Psp, RptInCarrello};
use crate::node_client::{NodoClient, NodoError};
use crate::outbox::{JobError, JobResult};
use crate::registry::{Dovuto, Ente, TipoDovuto};
use crate::soap::FaultCode;
use crate::store::cache::RegistryCache;
use crate::store::{Carrello, NuovaRpt, NuovoCarrello, Store, StoreError};
use regole::{RptPrevista, Violazione};
use std::time::Duration;

/// The cart send job's kind.
pub const INVIA_CARRELLO: TipoJob = TipoJob::InviaCarrello;

/// A dovuto priced for payment now, with the registry rows it was priced from.
#[derive(Debug, Clone)]
pub struct Quota {
    pub dovuto: Dovuto,
    pub ente: Ente,
    pub tipo: TipoDovuto,
    pub prezzo: Prezzo,
}

/// Why a dovuto could not be priced.
#[derive(Debug, thiserror::Error)]
pub enum NonQuotabile {
    #[error("dovuto sconosciuto")]
    Sconosciuto,
    #[error("ente sconosciuto")]
    EnteSconosciuto,
    #[error("dovuto non pagabile: {0:?}")]
    NonPagabile(NonPagabile),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Prices a dovuto as paaVerificaRPT, paaAttivaRPT and the portal do: read fresh, its ente
/// and tipo through the registry cache, priced by `dominio::posizione` at `now` (Italian
/// day). `ripresa` for an activation repeated by the PSP that holds it.
pub async fn quota(
    store: &Store,
    cache: &RegistryCache,
    dom: &str,
    iuv: &str,
    now: time::OffsetDateTime,
    ripresa: bool,
) -> Result<Quota, NonQuotabile> {
    let dovuto = store
        .dovuti()
        .get_by_iuv(dom, iuv)
        .await?
        .ok_or(NonQuotabile::Sconosciuto)?;
    posizione::pagabile(&dovuto, ripresa).map_err(NonQuotabile::NonPagabile)?;
    let ente = cache
        .ente(store, dom)
        .await?
        .ok_or(NonQuotabile::EnteSconosciuto)?;
    let tipo = cache.tipo(store, dom, &dovuto.tipo_dovuto).await?;
    let prezzo = posizione::prezzo(&dovuto, &tipo, data_italiana(now), ripresa)
        .map_err(NonQuotabile::NonPagabile)?;
    Ok(Quota {
        dovuto,
        ente,
        tipo,
        prezzo,
    })
}

/// The secondary share of a multi-beneficiary position `primaria` (a dovuto of another
/// ente we serve with the same IUV and no notice of its own), priced like its primary, if
/// it can be paid now. A share that cannot (cancelled, paid on its own) leaves the
/// primary to be paid alone.
pub async fn quota_secondaria(
    store: &Store,
    cache: &RegistryCache,
    primaria: &Dovuto,
    now: time::OffsetDateTime,
    ripresa: bool,
) -> Result<Option<Quota>, NonQuotabile> {
    let stessi = store.dovuti().con_iuv(primaria.iuv.as_str(), 10).await?;
    let Some(quota) = stessi.into_iter().find(|d| {
        d.id_dominio != primaria.id_dominio
            && d.numero_avviso.is_none()
            && posizione::pagabile(d, ripresa).is_ok()
    }) else {
        return Ok(None);
    };
    let dom = quota.id_dominio.to_string();
    let Some(ente) = cache.ente(store, &dom).await?.filter(|e| e.attivo) else {
        return Ok(None);
    };
    let tipo = cache.tipo(store, &dom, &quota.tipo_dovuto).await?;
    let prezzo = posizione::prezzo(&quota, &tipo, data_italiana(now), ripresa)
        .map_err(NonQuotabile::NonPagabile)?;
    Ok(Some(Quota {
        dovuto: quota,
        ente,
        tipo,
        prezzo,
    }))
}

impl Quota {
    /// This quota's RPT for attempt `ccp` (see `dominio::rpt`).
    pub fn rpt(
        &self,
        ccp: &str,
        tipo_versamento: &str,
        versante: Option<crate::model::rpt::Soggetto>,
        ora: time::OffsetDateTime,
    ) -> Result<crate::model::rpt::Rpt, String> {
        crate::dominio::rpt::rpt(Tentativo {
            dovuto: &self.dovuto,
            ccp,
            importo: self.prezzo.importo,
            ente: ente_beneficiario(self.dovuto.id_dominio.as_str(), &self.ente.denominazione),
            iban_accredito: self.tipo.iban.as_str(),
            tipo_versamento,
            versante,
            ora,
        })
    }
}

/// A dovuto to pay, by ente and IUV.
#[derive(Debug, Clone, serde::Deserialize, utoipa::ToSchema)]
pub struct DaPagare {
    pub id_dominio: String,
    pub iuv: String,
}

#[derive(Debug, Clone, serde::Deserialize, utoipa::ToSchema)]
pub struct RichiestaCarrello {
    /// 1 to 5 dovuti; for a multi-beneficiary position exactly 2 with the same IUV, the
    /// primary ente's first.
    pub dovuti: Vec<DaPagare>,
    /// The email the citizen logged in with (receives the RT in CC).
    #[serde(default)]
    pub email_login: Option<String>,
    #[serde(default)]
    pub multi_beneficiario: bool,
}

#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct EsitoCarrello {
    pub id_carrello: String,
    /// INVIATO (pay at `url`) or CREATO (the send is being retried: poll the cart).
    pub stato: StatoCarrello,
    pub url: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum CarrelloError {
    /// The cart breaks a rule: nothing was stored or sent.
    #[error("{0}")]
    Regola(#[from] Violazione),
    /// A dovuto cannot be paid now (unknown, paid, in payment, cancelled, expired).
    #[error("dovuto {id_dominio}/{iuv} non pagabile: {codice}")]
    NonPagabile {
        id_dominio: String,
        iuv: String,
        codice: String,
    },
    /// The Nodo refused the cart, with its fault (the dovuti are payable again).
    #[error("il Nodo ha rifiutato il carrello: {0}")]
    Rifiutato(NodoError),
    /// pagoPA Checkout refused the cart or could not be reached (nothing was held).
    #[error(transparent)]
    Checkout(#[from] crate::checkout_client::CheckoutError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Every dovuto of a cart priced as paaVerificaRPT would (late policy included), and the
/// cart rules checked on them: nothing is stored or sent for a cart that fails.
async fn prezza(
    store: &Store,
    cache: &RegistryCache,
    req: &RichiestaCarrello,
    now: time::OffsetDateTime,
) -> Result<Vec<Quota>, CarrelloError> {
    let mut prezzati = Vec::new();
    for d in &req.dovuti {
        let q = quota(store, cache, &d.id_dominio, &d.iuv, now, false)
            .await
            .map_err(|e| CarrelloError::NonPagabile {
                id_dominio: d.id_dominio.clone(),
                iuv: d.iuv.clone(),
                codice: e.fault_code().code().into(),
            })?;
        prezzati.push(q);
    }
    let previste: Vec<RptPrevista> = prezzati
        .iter()
        .map(|Quota { dovuto: d, .. }| RptPrevista {
            id_dominio: d.id_dominio.to_string(),
            iuv: d.iuv.to_string(),
            versamenti: 1,
            pagatore: d.pagatore.codice_fiscale.to_string(),
            marca_bollo: false,
        })
        .collect();
    regole::verifica(&previste, req.multi_beneficiario)?;
    Ok(prezzati)
}

/// Starts the payment of a portal cart on the ente's route: pagoPA Checkout (`POST /carts`,
/// the default once `checkout.url` is set) or WISP (nodoInviaCarrelloRPT, [`checkout`]) for
/// the enti kept on it.
pub async fn paga(
    store: &Store,
    cache: &RegistryCache,
    nodo: &NodoClient,
    pagopa: &CheckoutClient,
    req: &RichiestaCarrello,
) -> Result<EsitoCarrello, CarrelloError> {
    // The receipt goes to that address too: a PEC mailbox may refuse ordinary mail.
    if let Some(e) = &req.email_login {
        portale::email_per_ricevuta(e)
            .map_err(|m| CarrelloError::Regola(crate::dominio::carrello::Violazione(m.into())))?;
    }
    if pagopa.per_enti(req.dovuti.iter().map(|d| d.id_dominio.as_str())) {
        paga_con_checkout(store, cache, pagopa, req).await
    } else {
        checkout(store, cache, nodo, req).await
    }
}

/// A cart through pagoPA Checkout: priced and checked as a WISP cart, stored with its
/// dovuti (nothing is held: each position is held when the Nodo asks for it with
/// paGetPayment), then posted; the payer goes to the page Checkout answers with. A refusal
/// or an unreachable Checkout leaves the cart RIFIUTATO and every dovuto payable.
async fn paga_con_checkout(
    store: &Store,
    cache: &RegistryCache,
    pagopa: &CheckoutClient,
    req: &RichiestaCarrello,
) -> Result<EsitoCarrello, CarrelloError> {
    let now = time::OffsetDateTime::now_utc();
    let prezzati = prezza(store, cache, req, now).await?;
    let voci: Vec<regole::VoceCheckout> = prezzati
        .iter()
        .map(|q| regole::VoceCheckout {
            id_dominio: q.dovuto.id_dominio.to_string(),
            numero_avviso: q.dovuto.numero_avviso.as_ref().map(ToString::to_string),
            importo: q.prezzo.importo,
            ente: q.ente.denominazione.clone(),
            causale: q.dovuto.causale.clone(),
        })
        .collect();
    let avvisi = regole::avvisi_checkout(&voci, req.multi_beneficiario)?;
    let email = match &req.email_login {
        Some(e) if e.parse::<lettre::message::Mailbox>().is_err() => {
            return Err(Violazione::new(format!("email di login non valida: {e}")).into());
        }
        Some(e) => Some(e.clone()),
        None => prezzati[0].dovuto.pagatore.email.clone(),
    };
    let id = regole::id_carrello(now.year(), &req.dovuti[0].id_dominio);
    let ids: Vec<i64> = prezzati.iter().map(|q| q.dovuto.id).collect();
    store
        .carrelli()
        .create_checkout(
            &id,
            req.multi_beneficiario,
            req.email_login.as_deref(),
            &ids,
        )
        .await?;
    let testo = crate::dominio::nuovo_modello::testo;
    let richiesta = crate::checkout_client::RichiestaCarrello {
        email_notice: email,
        payment_notices: avvisi
            .iter()
            .map(|a| crate::checkout_client::Avviso {
                notice_number: a.numero_avviso.clone().unwrap_or_default(),
                fiscal_code: a.id_dominio.clone(),
                amount: a.importo.cents(),
                company_name: testo(&a.ente, 140),
                description: testo(&a.causale, 140),
            })
            .collect(),
        return_urls: pagopa.return_urls(&id),
        id_cart: id.clone(),
        all_ccp: false,
    };
    match pagopa.crea_carrello(&richiesta).await {
        Ok(url) => {
            store.carrelli().record_esito(&id, Some(&url), None).await?;
            Ok(EsitoCarrello {
                id_carrello: id,
                stato: StatoCarrello::Inviato,
                url: Some(url),
            })
        }
        Err(e) => {
            tracing::warn!(id_carrello = %id, error = %e, "Checkout did not take the cart");
            store
                .carrelli()
                .record_esito(&id, None, Some(&e.to_string()))
                .await?;
            Err(e.into())
        }
    }
}

/// Checks, stores and sends a cart; see the module documentation.
pub async fn checkout(
    store: &Store,
    cache: &RegistryCache,
    nodo: &NodoClient,
    req: &RichiestaCarrello,
) -> Result<EsitoCarrello, CarrelloError> {
    let now = time::OffsetDateTime::now_utc();
    let prezzati = prezza(store, cache, req, now).await?;
    if let Some(e) = &req.email_login
        && e.parse::<lettre::message::Mailbox>().is_err()
    {
        return Err(Violazione::new(format!("email di login non valida: {e}")).into());
    }

    let id = if req.multi_beneficiario {
        let primary = &prezzati[0].dovuto;
        let avviso = primary.numero_avviso.as_ref().ok_or_else(|| {
            Violazione::new("il dovuto principale di un multibeneficiario non ha numero avviso")
        })?;
        let prefix = format!("{}{}-", primary.id_dominio, avviso);
        let n = store.carrelli().con_prefisso(&prefix).await?;
        regole::id_carrello_multi(primary.id_dominio.as_str(), avviso.as_ref(), n + 1)?
    } else {
        regole::id_carrello(now.year(), &req.dovuti[0].id_dominio)
    };
    let mut rpts = Vec::new();
    for q in &prezzati {
        let dovuto = &q.dovuto;
        // The CCP of a portal RPT is the cart id: unique per attempt, and required so
        // for multi-beneficiary carts.
        let rpt = q.rpt(&id, "BBT", None, now).map_err(Violazione::new)?;
        rpts.push((
            NuovaRpt {
                id_dominio: dovuto.id_dominio.to_string(),
                iuv: dovuto.iuv.to_string(),
                ccp: id.clone(),
                dovuto_id: Some(dovuto.id),
                importo: q.prezzo.importo,
                xml: rpt.to_xml().into_bytes(),
            },
            dovuto.clone(),
        ));
    }
    let carrello = NuovoCarrello {
        id: id.clone(),
        multi_beneficiario: req.multi_beneficiario,
        email_login: req.email_login.clone(),
        rpts,
    };
    let owner = format!("checkout-{}", uuid::Uuid::new_v4().simple());
    let lease = Duration::from_secs(120);
    let job = match store.carrelli().create(&carrello, &owner, lease).await {
        Ok(j) => j,
        Err(StoreError::Conflict(why)) => {
            // A dovuto moved meanwhile (another payment started): nothing was stored.
            return Err(CarrelloError::NonPagabile {
                id_dominio: req.dovuti[0].id_dominio.clone(),
                iuv: req.dovuti[0].iuv.clone(),
                codice: format!("PAGAMENTO_IN_CORSO ({why})"),
            });
        }
        Err(e) => return Err(e.into()),
    };
    match invia(store, nodo, &id).await {
        Ok(url) => {
            store.outbox().done(job, &owner, url.as_deref()).await?;
            Ok(EsitoCarrello {
                id_carrello: id,
                stato: StatoCarrello::Inviato,
                url,
            })
        }
        Err((JobError::Permanent(why), e)) => {
            store.outbox().failed(job, &owner, &why, None).await?;
            Err(CarrelloError::Rifiutato(
                e.unwrap_or(NodoError::Invalid(why)),
            ))
        }
        Err((JobError::Retry(why), _)) => {
            let wait = crate::outbox::backoff(nodo.slot(), 1);
            store.outbox().failed(job, &owner, &why, Some(wait)).await?;
            Ok(EsitoCarrello {
                id_carrello: id,
                stato: StatoCarrello::Creato,
                url: None,
            })
        }
    }
}

/// Sends a stored cart (the outbox job and the checkout's first attempt). A cart the Nodo
/// already holds (PPT_ID_CARRELLO_DUPLICATO, PPT_RPT_DUPLICATA on a re-send) is sent.
pub async fn invia(
    store: &Store,
    nodo: &NodoClient,
    id: &str,
) -> Result<Option<String>, (JobError, Option<NodoError>)> {
    let retry = |e: StoreError| (JobError::Retry(format!("store: {e}")), None);
    let (c, rpts) = store.carrelli().get(id).await.map_err(retry)?;
    if c.stato != StatoCarrello::Creato {
        return Ok(c.url);
    }
    let lista: Vec<RptInCarrello> = rpts
        .iter()
        .map(|r| RptInCarrello {
            id_dominio: r.id_dominio.clone(),
            iuv: r.iuv.clone(),
            ccp: r.ccp.clone(),
            xml: r.xml.clone(),
        })
        .collect();
    match nodo
        .invia_carrello(id, &Psp::wisp(), &lista, c.multi_beneficiario)
        .await
    {
        Ok(url) => {
            store
                .carrelli()
                .record_esito(id, url.as_deref(), None)
                .await
                .map_err(retry)?;
            Ok(url)
        }
        Err(NodoError::Fault(f))
            if f.fault_code == "PPT_ID_CARRELLO_DUPLICATO"
                || f.fault_code == "PPT_RPT_DUPLICATA" =>
        {
            store
                .carrelli()
                .record_esito(id, None, None)
                .await
                .map_err(retry)?;
            Ok(None)
        }
        Err(e) if e.retryable() => Err((JobError::Retry(e.to_string()), Some(e))),
        Err(e) => {
            store
                .carrelli()
                .record_esito(id, None, Some(&e.to_string()))
                .await
                .map_err(retry)?;
            Err((JobError::Permanent(e.to_string()), Some(e)))
        }
    }
}

/// The outbox's retry of a cart send.
pub async fn job(store: &Store, nodo: &NodoClient, id: &str) -> JobResult {
    invia(store, nodo, id).await.map_err(|(e, _)| e)
}

/// The outbox gave up sending a cart: it ends RIFIUTATO and its dovuti are payable again
/// (a cart never sent must not hold them). Nothing happens to a cart already past CREATO,
/// so a repeat is harmless.
pub async fn rinuncia(store: &Store, id: &str, why: &str) -> Result<(), StoreError> {
    let why = format!("invio non riuscito dopo l'ultimo tentativo: {why}");
    if store.carrelli().record_esito(id, None, Some(&why)).await? {
        tracing::warn!(
            carrello = id,
            "cart never sent: refused, its dovuti payable again"
        );
    }
    Ok(())
}

pub async fn stato(store: &Store, id: &str) -> Result<Carrello, StoreError> {
    Ok(store.carrelli().get(id).await?.0)
}

impl NonQuotabile {
    /// The pagoPA fault that says it: what paaVerificaRPT answers, and what the portal
    /// reports for a dovuto it cannot pay.
    pub fn fault_code(&self) -> FaultCode {
        match self {
            NonQuotabile::Sconosciuto => FaultCode::PaaPagamentoSconosciuto,
            NonQuotabile::EnteSconosciuto => FaultCode::PaaIdDominioErrato,
            NonQuotabile::NonPagabile(NonPagabile::Pagato) => FaultCode::PaaPagamentoDuplicato,
            NonQuotabile::NonPagabile(NonPagabile::InCorso) => FaultCode::PaaPagamentoInCorso,
            NonQuotabile::NonPagabile(NonPagabile::Annullato) => FaultCode::PaaPagamentoAnnullato,
            NonQuotabile::NonPagabile(NonPagabile::Scaduto) => FaultCode::PaaPagamentoScaduto,
            NonQuotabile::Store(_) => FaultCode::PaaSystemError,
        }
    }
}
