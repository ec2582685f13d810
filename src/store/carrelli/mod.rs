//! The carts repository: a portal cart, its RPTs (WISP) or its dovuti (Checkout), and the
//! answer it got.

use super::*;

pub(in crate::store) mod sqlite {
    use super::*;
    use crate::store::dovuti::sqlite as dovuti_q;
    use crate::store::sqlite::*;
    include!("queries.rs");
}

pub(in crate::store) mod postgres {
    use super::*;
    use crate::store::dovuti::postgres as dovuti_q;
    use crate::store::postgres::*;
    include!("queries.rs");
}

/// Carts repository: see the module.
pub struct Carrelli<'s>(pub(super) &'s Store);

impl Carrelli<'_> {
    /// Returns the id of the send job, already leased to `owner` for `lease`.
    pub async fn create(
        &self,
        c: &NuovoCarrello,
        owner: &str,
        lease: std::time::Duration,
    ) -> StoreResult<i64> {
        let now = now();
        let until = now + lease;
        dispatch!(self.0, |q, p| q::create_carrello(p, c, owner, until, now)
            .await)
    }
    /// A cart for pagoPA Checkout: stored CREATO with the dovuti it lists (see the query).
    pub async fn create_checkout(
        &self,
        id: &str,
        multi_beneficiario: bool,
        email_login: Option<&str>,
        dovuti: &[i64],
    ) -> StoreResult<()> {
        dispatch!(self.0, |q, p| q::create_carrello_checkout(
            p,
            id,
            multi_beneficiario,
            email_login,
            dovuti,
            now()
        )
        .await)
    }
    pub async fn get(&self, id: &str) -> StoreResult<(Carrello, Vec<RptDaInviare>)> {
        dispatch!(self.0, |q, p| q::get_carrello(p, id).await)
    }
    pub async fn record_esito(
        &self,
        id: &str,
        url: Option<&str>,
        errore: Option<&str>,
    ) -> StoreResult<bool> {
        dispatch!(self.0, |q, p| q::esito_carrello(p, id, url, errore, now())
            .await)
    }
    pub async fn con_prefisso(&self, prefix: &str) -> StoreResult<i64> {
        dispatch!(self.0, |q, p| q::carrelli_con_prefisso(p, prefix).await)
    }
    pub async fn esiti(&self, id: &str) -> StoreResult<Vec<EsitoRptCarrello>> {
        dispatch!(self.0, |q, p| q::esiti_carrello(p, id).await)
    }
}
