//! The operators repository: console operators with their roles and enti, their sessions
//! (kept in the database, so any instance serves any session) and the journal of changes.
//! The rules (password, one-time code, lockout) are `dominio::accesso`'s; this stores what
//! they decided.

use super::*;
use crate::model::operatore::{Ruoli, Username};

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

/// An operator as stored.
#[derive(Debug, Clone)]
pub struct Operatore {
    pub username: Username,
    pub nome: String,
    pub password_hash: String,
    pub totp_secret: String,
    pub ruoli: Ruoli,
    pub enti: Vec<String>,
    pub attivo: bool,
    pub totp_ultimo_passo: i64,
    pub tentativi_falliti: i64,
    pub bloccato_fino: Option<OffsetDateTime>,
}

/// A new operator (the password already hashed).
#[derive(Debug, Clone)]
pub struct NuovoOperatore {
    pub username: Username,
    pub nome: String,
    pub password_hash: String,
    pub totp_secret: String,
    pub ruoli: Ruoli,
    pub enti: Vec<String>,
}

/// A live session: who, and whether the one-time code was given.
#[derive(Debug, Clone)]
pub struct Sessione {
    pub operatore: Operatore,
    pub completa: bool,
}

/// One line of the journal of changes.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Modifica {
    pub id: i64,
    #[serde(with = "time::serde::rfc3339")]
    pub quando: OffsetDateTime,
    pub chi: String,
    pub metodo: String,
    pub percorso: String,
    pub stato: i64,
}

/// Operators repository: see the module.
pub struct Operatori<'s>(pub(super) &'s Store);

impl Operatori<'_> {
    /// Creates the operator, or replaces one of the same username (password, secret,
    /// roles and enti: what `operatore crea` is asked again for).
    pub async fn upsert(&self, o: &NuovoOperatore) -> StoreResult<()> {
        dispatch!(self.0, |q, p| q::upsert_operatore(p, o, now()).await)
    }
    pub async fn get(&self, username: &str) -> StoreResult<Option<Operatore>> {
        dispatch!(self.0, |q, p| q::get_operatore(p, username).await)
    }
    pub async fn list(&self) -> StoreResult<Vec<Operatore>> {
        dispatch!(self.0, |q, p| q::list_operatori(p).await)
    }
    /// Counts a failed attempt (password or code) in one statement, so attempts in
    /// parallel all count: the failures in a row so far.
    pub async fn count_failure(&self, username: &str) -> StoreResult<i64> {
        dispatch!(self.0, |q, p| q::count_failure(p, username).await)
    }
    /// Locks the account as the domain decided: the count starts again and every session
    /// still waiting for its code ends (a lock must not leave guesses open elsewhere).
    pub async fn lock(&self, username: &str, until: OffsetDateTime) -> StoreResult<()> {
        dispatch!(self.0, |q, p| q::lock(p, username, until).await)
    }
    /// Disables an operator (they leave, or lose their phone) and ends their sessions.
    pub async fn disable(&self, username: &str) -> StoreResult<()> {
        dispatch!(self.0, |q, p| q::disable(p, username, now()).await)
    }
    /// Takes a TOTP step as used, if no later or equal one was: false when the code was
    /// already spent (by this or another instance).
    pub async fn use_totp_step(&self, username: &str, passo: i64) -> StoreResult<bool> {
        dispatch!(self.0, |q, p| q::use_totp_step(p, username, passo).await)
    }
    /// A new session. One waiting for its code replaces any earlier such session of the
    /// operator: a password gives one set of guesses at a time.
    pub async fn create_session(
        &self,
        token_hash: &str,
        username: &str,
        completa: bool,
        durata: time::Duration,
    ) -> StoreResult<()> {
        let now = now();
        dispatch!(self.0, |q, p| q::create_session(
            p,
            token_hash,
            username,
            completa,
            now + durata,
            now
        )
        .await)
    }
    /// The unexpired session of a token, with its active operator.
    pub async fn session(&self, token_hash: &str) -> StoreResult<Option<Sessione>> {
        let Some((username, completa)) =
            dispatch!(self.0, |q, p| q::get_session(p, token_hash, now()).await)?
        else {
            return Ok(None);
        };
        Ok(self
            .get(&username)
            .await?
            .filter(|o| o.attivo)
            .map(|operatore| Sessione {
                operatore,
                completa,
            }))
    }
    /// Ends a session (and, in passing, removes every expired one).
    pub async fn end_session(&self, token_hash: &str) -> StoreResult<()> {
        dispatch!(self.0, |q, p| q::end_session(p, token_hash, now()).await)
    }
    pub async fn record_change(
        &self,
        chi: &str,
        metodo: &str,
        percorso: &str,
        stato: u16,
    ) -> StoreResult<()> {
        dispatch!(self.0, |q, p| q::record_change(
            p,
            chi,
            metodo,
            percorso,
            stato as i64,
            now()
        )
        .await)
    }
    /// The latest changes, newest first.
    pub async fn changes(&self, limit: i64) -> StoreResult<Vec<Modifica>> {
        dispatch!(self.0, |q, p| q::list_changes(p, limit).await)
    }
}
