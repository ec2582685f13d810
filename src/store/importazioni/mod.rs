//! The import jobs repository: an import's state and reject report.

use super::*;

pub(in crate::store) mod sqlite {
    use super::*;
    use crate::store::sqlite::*;
    include!("queries.rs");
}

pub(in crate::store) mod postgres {
    use super::*;
    use crate::store::postgres::*;
    include!("queries.rs");
}

/// Import jobs repository: see the module.
pub struct Importazioni<'s>(pub(super) &'s Store);

impl Importazioni<'_> {
    pub async fn get(&self, ente: &str, id: &str) -> StoreResult<ImportJob> {
        dispatch!(self.0, |q, p| q::get_import_job(p, ente, id).await)
    }
}
