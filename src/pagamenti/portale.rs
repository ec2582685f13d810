//! What the citizens' portal does, whichever adapter serves it (the REST API for a
//! portal of the ente's own, the web pages of the Portale Pagamenti): the lookup of a
//! notice by numero avviso (or IUV) and the payer's fiscal code, priced for today, and a
//! spontaneous payment created from a tipo dovuto that allows it.

use crate::dominio::posizione::NonPagabile;
use crate::model::scadenza::Componente;
use crate::model::{Importo, NumeroAvviso, StatoDovuto};
use crate::registry::{Dovuto, Ente, Pagatore};
use crate::store::cache::RegistryCache;
use crate::store::{Store, StoreError};

use super::NonQuotabile;

/// A notice as the payer may see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatoAvviso {
    Pagabile,
    /// Past its due date, and no longer payable.
    Scaduto,
    Pagato,
    /// A payment attempt holds it.
    InCorso,
    Annullato,
}

impl StatoAvviso {
    pub fn as_str(self) -> &'static str {
        match self {
            StatoAvviso::Pagabile => "PAGABILE",
            StatoAvviso::Scaduto => "SCADUTO",
            StatoAvviso::Pagato => "PAGATO",
            StatoAvviso::InCorso => "IN_CORSO",
            StatoAvviso::Annullato => "ANNULLATO",
        }
    }
}

#[derive(Debug, Clone)]
pub struct AvvisoTrovato {
    pub ente: Ente,
    pub dovuto: Dovuto,
    pub stato: StatoAvviso,
    /// The amount to pay today: the dovuto's, plus what `componenti` add after the due date.
    pub importo: Importo,
    pub componenti: Vec<Componente>,
}

#[derive(Debug, thiserror::Error)]
pub enum ErrorePortale {
    /// Unknown notice and wrong fiscal code alike, so notices cannot be enumerated.
    #[error("avviso non trovato per questo codice fiscale")]
    NonTrovato,
    #[error("ente non trovato")]
    EnteNonTrovato,
    #[error("{0}")]
    Validazione(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Finds a notice by `numero_avviso` (or `iuv`) of `dominio` whose payer is `cf`.
pub async fn cerca_avviso(
    store: &Store,
    cache: &RegistryCache,
    dominio: &str,
    numero_avviso: Option<&str>,
    iuv: Option<&str>,
    cf: &str,
    now: time::OffsetDateTime,
) -> Result<AvvisoTrovato, ErrorePortale> {
    let iuv = match (numero_avviso.filter(|n| !n.trim().is_empty()), iuv) {
        (Some(n), _) => {
            let n: String = n.chars().filter(|c| !c.is_whitespace()).collect();
            NumeroAvviso::parse(&n)
                .map_err(|e| ErrorePortale::Validazione(format!("numero avviso: {}", e.0)))?
                .iuv()
                .to_string()
        }
        (None, Some(i)) if !i.trim().is_empty() => i.trim().to_owned(),
        _ => {
            return Err(ErrorePortale::Validazione(
                "numero avviso o IUV obbligatorio".into(),
            ));
        }
    };
    let cf = cf.trim().to_uppercase();
    let d = store
        .dovuti()
        .get_by_iuv(dominio, &iuv)
        .await?
        .ok_or(ErrorePortale::NonTrovato)?;
    if d.pagatore.codice_fiscale.as_ref() != cf.as_str() {
        return Err(ErrorePortale::NonTrovato);
    }
    let ente = store.registro().get_ente(dominio).await?;
    let fermo = |stato| (stato, d.importo, Vec::new());
    let (stato, importo, componenti) = match d.stato {
        StatoDovuto::Pagato => fermo(StatoAvviso::Pagato),
        StatoDovuto::PagamentoIniziato => fermo(StatoAvviso::InCorso),
        StatoDovuto::Annullato => fermo(StatoAvviso::Annullato),
        _ => match super::quota(store, cache, dominio, &iuv, now, false).await {
            Ok(q) => (StatoAvviso::Pagabile, q.prezzo.importo, q.prezzo.componenti),
            Err(NonQuotabile::NonPagabile(NonPagabile::Scaduto)) => fermo(StatoAvviso::Scaduto),
            Err(NonQuotabile::Store(e)) => return Err(e.into()),
            Err(_) => return Err(ErrorePortale::NonTrovato),
        },
    };
    Ok(AvvisoTrovato {
        ente,
        dovuto: d,
        stato,
        importo,
        componenti,
    })
}

/// A spontaneous payment as the payer fills it in.
#[derive(Debug, Clone, serde::Deserialize, utoipa::ToSchema)]
pub struct Spontaneo {
    pub tipo_dovuto: String,
    pub pagatore: Pagatore,
    /// Required unless the tipo dovuto has a fixed amount.
    #[schema(value_type = Option<String>)]
    pub importo: Option<Importo>,
    pub causale: String,
}

/// Creates the dovuto of a spontaneous payment to `id_dominio`, payable at once.
pub async fn crea_spontaneo(
    store: &Store,
    id_dominio: &str,
    b: &Spontaneo,
) -> Result<(Ente, Dovuto), ErrorePortale> {
    let e = match store.registro().get_ente(id_dominio).await {
        Ok(e) if e.attivo => e,
        Ok(_) | Err(StoreError::NotFound) => return Err(ErrorePortale::EnteNonTrovato),
        Err(err) => return Err(err.into()),
    };
    let t = match store
        .registro()
        .get_tipo_dovuto(id_dominio, &b.tipo_dovuto)
        .await
    {
        Ok(t) if t.attivo && t.spontaneo => t,
        Ok(_) | Err(StoreError::NotFound) => {
            return Err(ErrorePortale::Validazione(format!(
                "il tipo dovuto {} non ammette pagamenti spontanei",
                b.tipo_dovuto
            )));
        }
        Err(err) => return Err(err.into()),
    };
    let importo = match (t.importo_fisso, b.importo) {
        (Some(f), Some(i)) if f != i => {
            return Err(ErrorePortale::Validazione(format!(
                "l'importo di {} è fisso: {f}",
                t.codice
            )));
        }
        (Some(f), _) => f,
        (None, Some(i)) => i,
        (None, None) => return Err(ErrorePortale::Validazione("importo obbligatorio".into())),
    };
    let iud = format!("SPONT-{}", &uuid::Uuid::new_v4().simple().to_string()[..29]);
    let nuovo: crate::registry::NuovoDovuto = serde_json::from_value(serde_json::json!({
        "iud": iud, "tipo_dovuto": t.codice, "pagatore": b.pagatore, "importo": importo.to_string(), "causale": b.causale,
    }))
    .map_err(|e| ErrorePortale::Validazione(e.to_string()))?;
    let valido = nuovo
        .resolve(&e, &t)
        .map_err(|r| ErrorePortale::Validazione(format!("{r:?}")))?;
    let d = store
        .dovuti()
        .insert(&e, &valido, "pagamento spontaneo dal portale")
        .await?;
    Ok((e, d))
}

/// A cart's outcome as the payer comes back: its state and, per RPT, what its receipt said.
pub async fn esito_carrello(
    store: &Store,
    id: &str,
) -> Result<
    (
        crate::model::EsitoCarrello,
        Option<String>,
        Vec<crate::store::EsitoRptCarrello>,
    ),
    StoreError,
> {
    let c = super::stato(store, id).await?;
    let rpt = store.carrelli().esiti(id).await?;
    let esiti: Vec<Option<crate::model::EsitoPagamento>> = rpt
        .iter()
        .map(|r| {
            r.codice_esito
                .and_then(|c| u8::try_from(c).ok())
                .and_then(|c| crate::model::EsitoPagamento::da_codice(c).ok())
        })
        .collect();
    let esito = crate::dominio::carrello::esito(c.stato, &esiti);
    Ok((esito, c.url, rpt))
}

/// A PEC mailbox may refuse ordinary mail: the receipt would not arrive.
pub fn email_per_ricevuta(email: &str) -> Result<String, &'static str> {
    let e = email.trim().to_lowercase();
    let Some((locale, dominio)) = e.split_once('@') else {
        return Err("Indirizzo e-mail non valido.");
    };
    if locale.is_empty() || !dominio.contains('.') || e.contains(char::is_whitespace) {
        return Err("Indirizzo e-mail non valido.");
    }
    let pec = dominio.starts_with("pec.")
        || dominio.contains(".pec.")
        || dominio.starts_with("cert.")
        || dominio.contains(".cert.")
        || dominio == "legalmail.it"
        || dominio.ends_with(".legalmail.it")
        || dominio.starts_with("postacert.");
    if pec {
        return Err(
            "Indica un indirizzo e-mail ordinario, non una PEC: la ricevuta è inviata con posta ordinaria.",
        );
    }
    Ok(e)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_receipt_goes_to_an_ordinary_mailbox_not_a_pec() {
        assert_eq!(
            email_per_ricevuta(" Mario@Example.org ").as_deref(),
            Ok("mario@example.org")
        );
        for pec in [
            "m@pec.example.it",
            "m@comune.pec.it",
            "m@legalmail.it",
            "m@cert.ordine.it",
            "m@postacert.it",
        ] {
            assert!(
                email_per_ricevuta(pec).unwrap_err().contains("PEC"),
                "{pec}"
            );
        }
        for bad in [
            "",
            "mario",
            "@example.org",
            "mario@localhost",
            "ma rio@example.org",
        ] {
            assert!(email_per_ricevuta(bad).is_err(), "{bad}");
        }
    }
}
