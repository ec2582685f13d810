//! Who is calling: the administrator (bearer token from the configuration), a machine of
//! one ente (per-ente API key) or a person signed in on the MyPivot console (the session
//! cookie, after password and one-time code), with the enti and roles of their record.
//! Keys and session tokens are stored only as SHA-256 digests. Anybody asking for another
//! ente's data gets 404, not 403, so ente ids cannot be probed; a person without the role
//! a route needs ([`ruolo_richiesto`], the one table of it) gets 403.

use super::{ApiError, AppState};
use crate::model::operatore::{Ruoli, Ruolo, Username};
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, header};
use rand::RngCore;
use std::sync::{Arc, OnceLock};

/// The console's session cookie.
pub const COOKIE_SESSIONE: &str = "console_sessione";

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Caller {
    Admin,
    /// A machine of one ente (API key): every role on that ente.
    Operator {
        id_dominio: String,
    },
    /// A person signed in on the console.
    Persona(Arc<Persona>),
}

/// An operator as a session carries them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Persona {
    pub username: Username,
    pub nome: String,
    pub enti: Vec<String>,
    pub ruoli: Ruoli,
}

impl Persona {
    pub fn intermediario(&self) -> bool {
        self.ruoli.ha(Ruolo::Intermediario)
    }
    pub fn vede(&self, id_dominio: &str) -> bool {
        self.intermediario() || self.enti.iter().any(|e| e == id_dominio)
    }
}

/// The role a person needs for a route (its matched path template); `None`: any role of
/// theirs will do. MyPivot's menus: Statistiche, Accertamento (accertamenti and capitoli),
/// Visualizzazione (every other read, notes and hidden lines, the notices' PDF),
/// Amministrazione (the Flussi menu's imports and exports, and every other change). The
/// ente itself and its tipi dovuto are read by every page, whatever the role. Machines (API
/// keys) and the administrator are not asked.
pub fn ruolo_richiesto(metodo: &Method, percorso: &str) -> Option<Ruolo> {
    let lettura = matches!(*metodo, Method::GET | Method::HEAD);
    let ente = matches!(
        percorso,
        "/api/v1/enti"
            | "/api/v1/enti/{id_dominio}"
            | "/api/v1/enti/{id_dominio}/tipi-dovuto"
            | "/api/v1/enti/{id_dominio}/tipi-dovuto/{codice}"
    );
    if lettura && ente {
        return None;
    }
    let r = if percorso.contains("/statistiche") {
        Ruolo::Statistiche
    } else if percorso.contains("/accertamenti") || percorso.contains("/capitoli") {
        Ruolo::Accertamenti
    } else if percorso.ends_with("/segnalazioni") || percorso.ends_with("/avvisi.pdf") {
        Ruolo::Visualizzazione
    } else if percorso.contains("/riconciliazione/export")
        || percorso.ends_with("/riconciliazione/ricalcola")
    {
        Ruolo::Amministrazione
    } else if lettura {
        Ruolo::Visualizzazione
    } else {
        Ruolo::Amministrazione
    };
    Some(r)
}

/// A person the console already signed in for this very request: the console calls the
/// API in process with it (an extension, which no client can set), so a page costs one
/// session lookup, not one per API call it makes.
#[derive(Debug, Clone)]
pub struct SessioneVerificata(pub Arc<Persona>);

/// Where the journal of changes learns who made one: the REST layer that records changes
/// puts an empty slot in the request, the caller's extraction fills it.
#[derive(Debug, Clone, Default)]
pub struct Chi(pub Arc<OnceLock<String>>);

/// A cookie's value from the request's `Cookie` headers.
pub fn cookie<'h>(headers: &'h HeaderMap, nome: &str) -> Option<&'h str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().split_once('='))
        .find(|(k, _)| *k == nome)
        .map(|(_, v)| v)
        .filter(|v| !v.is_empty())
}

/// A form or call from another site (`Sec-Fetch-Site: cross-site`, or an `Origin` that is
/// not this host): refused when it would ride on a session cookie.
pub fn cross_site(h: &HeaderMap) -> bool {
    let cross = h
        .get("sec-fetch-site")
        .is_some_and(|v| v.as_bytes() == b"cross-site");
    let host = h.get(header::HOST).and_then(|v| v.to_str().ok());
    let origin = h.get(header::ORIGIN).and_then(|v| v.to_str().ok());
    let altra_origine = match (origin, host) {
        (Some("null"), _) => true,
        (Some(o), Some(host)) => o.split_once("://").map(|(_, rest)| rest) != Some(host),
        _ => false,
    };
    cross || altra_origine
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
            Caller::Persona(p) if p.intermediario() => Ok(()),
            _ => Err(ApiError::Forbidden(
                "operazione riservata all'amministratore".into(),
            )),
        }
    }

    /// Admits the admin and the ente's own operators; anybody else gets 404.
    pub fn scope(&self, id_dominio: &str) -> Result<(), ApiError> {
        let ok = match self {
            Caller::Admin => true,
            Caller::Operator { id_dominio: own } => own == id_dominio,
            Caller::Persona(p) => p.vede(id_dominio),
        };
        if ok {
            Ok(())
        } else {
            Err(ApiError::NotFound("risorsa non trovata".into()))
        }
    }

    /// A person without `ruolo` is refused (403); machines and the administrator pass.
    pub fn ruolo(&self, ruolo: Ruolo) -> Result<(), ApiError> {
        match self {
            Caller::Persona(p) if !p.ruoli.ha(ruolo) => Err(ApiError::Forbidden(format!(
                "serve il ruolo {}",
                ruolo.as_str()
            ))),
            _ => Ok(()),
        }
    }

    /// The ente filter of a search: the admin's choice, or one of the caller's own enti
    /// (asking for another one is 404, as for every other access to it; a person with
    /// several enti names one).
    pub fn dominio_filter(&self, asked: Option<String>) -> Result<Option<String>, ApiError> {
        match (self.enti_visibili(), asked) {
            (None, asked) => Ok(asked),
            (Some(own), Some(asked)) => {
                if own.contains(&asked) {
                    Ok(Some(asked))
                } else {
                    Err(ApiError::NotFound("risorsa non trovata".into()))
                }
            }
            (Some(mut own), None) if own.len() == 1 => Ok(own.pop()),
            (Some(_), None) => Err(ApiError::Validation(
                "indicare l'ente (id_dominio) tra quelli dell'operatore".into(),
            )),
        }
    }

    /// Who acts, as histories, notes and the journal of changes record it.
    pub fn nome(&self) -> String {
        match self {
            Caller::Admin => "admin".into(),
            Caller::Operator { id_dominio } => format!("operatore {id_dominio}"),
            Caller::Persona(p) => p.username.to_string(),
        }
    }

    /// The enti the caller may see; `None`: every one.
    pub fn enti_visibili(&self) -> Option<Vec<String>> {
        match self {
            Caller::Admin => None,
            Caller::Operator { id_dominio } => Some(vec![id_dominio.clone()]),
            Caller::Persona(p) if p.intermediario() => None,
            Caller::Persona(p) => Some(p.enti.clone()),
        }
    }
}

/// The person of a console session cookie, once both factors were given.
pub async fn persona(s: &AppState, headers: &HeaderMap) -> Result<Option<Persona>, ApiError> {
    let Some(token) = cookie(headers, COOKIE_SESSIONE) else {
        return Ok(None);
    };
    let Some(sessione) = s.store.operatori().session(&digest_hex(token)).await? else {
        return Ok(None);
    };
    if !sessione.completa {
        return Ok(None);
    }
    let o = sessione.operatore;
    Ok(Some(Persona {
        username: o.username,
        nome: o.nome,
        enti: o.enti,
        ruoli: o.ruoli,
    }))
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let caller = identify(parts, state).await?;
        // Before any check: a refusal is journaled with who was refused.
        if let Some(chi) = parts.extensions.get::<Chi>() {
            let _ = chi.0.set(caller.nome());
        }
        if let Caller::Persona(_) = &caller {
            if !matches!(parts.method, Method::GET | Method::HEAD) && cross_site(&parts.headers) {
                return Err(ApiError::Forbidden(
                    "richiesta da un altro sito con la sessione della console".into(),
                ));
            }
            let percorso = parts
                .extensions
                .get::<axum::extract::MatchedPath>()
                .map_or(parts.uri.path(), |m| m.as_str());
            if let Some(r) = ruolo_richiesto(&parts.method, percorso) {
                caller.ruolo(r)?;
            }
        }
        Ok(caller)
    }
}

async fn identify(parts: &Parts, state: &AppState) -> Result<Caller, ApiError> {
    if let Some(SessioneVerificata(p)) = parts.extensions.get() {
        return Ok(Caller::Persona(p.clone()));
    }
    let Some(token) = bearer(&parts.headers) else {
        return match persona(state, &parts.headers).await? {
            Some(p) => Ok(Caller::Persona(Arc::new(p))),
            None => Err(ApiError::Unauthorized),
        };
    };
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_route_asks_the_role_of_its_menu() {
        let get = |p| ruolo_richiesto(&Method::GET, p);
        let post = |p| ruolo_richiesto(&Method::POST, p);
        assert_eq!(get("/api/v1/enti/{id_dominio}"), None);
        assert_eq!(get("/api/v1/enti/{id_dominio}/tipi-dovuto"), None);
        assert_eq!(
            ruolo_richiesto(&Method::PUT, "/api/v1/enti/{id_dominio}"),
            Some(Ruolo::Amministrazione)
        );
        assert_eq!(
            get("/api/v1/enti/{id_dominio}/statistiche/dettaglio"),
            Some(Ruolo::Statistiche)
        );
        assert_eq!(
            post("/api/v1/enti/{id_dominio}/accertamenti/{id}/chiudi"),
            Some(Ruolo::Accertamenti)
        );
        assert_eq!(
            post("/api/v1/enti/{id_dominio}/capitoli/import"),
            Some(Ruolo::Accertamenti)
        );
        assert_eq!(
            post("/api/v1/enti/{id_dominio}/segnalazioni"),
            Some(Ruolo::Visualizzazione)
        );
        assert_eq!(
            get("/api/v1/enti/{id_dominio}/riconciliazione"),
            Some(Ruolo::Visualizzazione)
        );
        assert_eq!(
            get("/api/v1/enti/{id_dominio}/riconciliazione/export/{id}/file"),
            Some(Ruolo::Amministrazione)
        );
        assert_eq!(
            post("/api/v1/enti/{id_dominio}/tesoreria"),
            Some(Ruolo::Amministrazione)
        );
        assert_eq!(
            post("/api/v1/enti/{id_dominio}/avvisi.pdf"),
            Some(Ruolo::Visualizzazione)
        );
        assert_eq!(get("/api/v1/journal"), Some(Ruolo::Visualizzazione));
    }

    #[test]
    fn cookies_and_cross_site_requests_are_read_as_browsers_send_them() {
        let mut h = HeaderMap::new();
        h.append(header::COOKIE, "a=1; console_sessione=abc".parse().unwrap());
        h.append(header::COOKIE, "b=2".parse().unwrap());
        assert_eq!(cookie(&h, COOKIE_SESSIONE), Some("abc"));
        assert_eq!(cookie(&h, "b"), Some("2"));
        assert_eq!(cookie(&h, "c"), None);
        h.insert(header::HOST, "gw.example.it".parse().unwrap());
        assert!(!cross_site(&h));
        h.insert(header::ORIGIN, "https://gw.example.it".parse().unwrap());
        assert!(!cross_site(&h));
        h.insert(header::ORIGIN, "https://evil.example".parse().unwrap());
        assert!(cross_site(&h));
        h.insert(header::ORIGIN, "null".parse().unwrap());
        assert!(cross_site(&h));
        h.remove(header::ORIGIN);
        h.insert("sec-fetch-site", "cross-site".parse().unwrap());
        assert!(cross_site(&h));
    }
}
