//! Who is calling: the administrator (bearer token from the configuration) or an operator
//! of one ente (per-ente API key). Keys are stored only as SHA-256 digests. An operator
//! asking for another ente's data gets 404, not 403, so ente ids cannot be probed.

use super::{ApiError, AppState};
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use rand::RngCore;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Caller {
    Admin,
    Operator { id_dominio: String },
}

pub fn digest(secret: &str) -> [u8; 32] {
    crate::digest::sha256(secret.as_bytes())
}

pub fn digest_hex(secret: &str) -> String {
    crate::digest::hex(&digest(secret))
}

/// A new operator key: `pgw_` and 32 random bytes in hex.
pub fn new_api_key() -> String {
    let mut b = [0u8; 32];
    rand::rng().fill_bytes(&mut b);
    format!(
        "pgw_{}",
        b.iter().map(|x| format!("{x:02x}")).collect::<String>()
    )
}

/// Compares digests without an early exit, so timing does not reveal the token.
/// The token of an `Authorization: Bearer …` header. The scheme name is case-insensitive
/// (RFC 9110 §11.1), so `bearer` and `BEARER` are read too.
pub fn bearer(headers: &axum::http::HeaderMap) -> Option<&str> {
    let v = headers
        .get(axum::http::header::AUTHORIZATION)?
        .to_str()
        .ok()?;
    let (scheme, token) = v.trim_start().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

fn same(a: &[u8; 32], b: &[u8; 32]) -> bool {
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

impl Caller {
    pub fn require_admin(&self) -> Result<(), ApiError> {
        match self {
            Caller::Admin => Ok(()),
            Caller::Operator { .. } => Err(ApiError::Forbidden(
                "operazione riservata all'amministratore".into(),
            )),
        }
    }

    /// Admits the admin and the ente's own operators; anybody else gets 404.
    pub fn scope(&self, id_dominio: &str) -> Result<(), ApiError> {
        match self {
            Caller::Admin => Ok(()),
            Caller::Operator { id_dominio: own } if own == id_dominio => Ok(()),
            Caller::Operator { .. } => Err(ApiError::NotFound("risorsa non trovata".into())),
        }
    }

    /// The ente filter of a search: the admin's choice, or the operator's own ente (asking
    /// for another one is 404, as for every other access to it).
    pub fn dominio_filter(&self, asked: Option<String>) -> Result<Option<String>, ApiError> {
        match (self.only_ente(), asked) {
            (Some(own), Some(asked)) if own != asked => {
                Err(ApiError::NotFound("risorsa non trovata".into()))
            }
            (Some(own), _) => Ok(Some(own)),
            (None, asked) => Ok(asked),
        }
    }

    /// Who acts, as histories and notes record it.
    pub fn nome(&self) -> String {
        match self {
            Caller::Admin => "admin".into(),
            Caller::Operator { id_dominio } => format!("operatore {id_dominio}"),
        }
    }

    /// The only ente an operator may see; `None` for the admin.
    pub fn only_ente(&self) -> Option<String> {
        match self {
            Caller::Admin => None,
            Caller::Operator { id_dominio } => Some(id_dominio.clone()),
        }
    }
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let token = bearer(&parts.headers).ok_or(ApiError::Unauthorized)?;
        let d = digest(token);
        if same(&d, &state.admin_token_digest) {
            return Ok(Caller::Admin);
        }
        if !token.starts_with("pgw_") {
            return Err(ApiError::Unauthorized);
        }
        let hex: String = d.iter().map(|b| format!("{b:02x}")).collect();
        match state.store.registro().api_key_ente(&hex).await? {
            Some(id_dominio) => Ok(Caller::Operator { id_dominio }),
            None => Err(ApiError::Unauthorized),
        }
    }
}
