//! The citizen's identity as the portal forwards it: a signed JWT (SPID, CIE, CNS behind
//! the portal's login) verified for signature (HS256 with a shared secret or RS256 with the
//! portal's public key — never `none`), issuer, audience and expiry with the
//! `jsonwebtoken` crate. Shared by the REST citizen area and the web personal area.

use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;

/// A verified citizen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cittadino {
    pub codice_fiscale: String,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum JwtError {
    #[error("token non valido: {0}")]
    Invalid(&'static str),
    #[error("token scaduto")]
    Expired,
    #[error("accesso dei cittadini non configurato")]
    NotConfigured,
}

/// How tokens are checked (from `rest.jwt_*`): each configured key with the one algorithm
/// it may verify, so a token can never choose its own (no `none`, no HS/RS confusion).
#[derive(Clone)]
pub struct JwtConfig {
    pub issuer: String,
    pub audience: String,
    pub hs256: Option<DecodingKey>,
    /// The portal's RSA public key.
    pub rs256: Option<DecodingKey>,
}

impl JwtConfig {
    pub fn from_config(c: &crate::config::Config) -> anyhow::Result<Option<JwtConfig>> {
        let r = &c.rest;
        let (Some(issuer), Some(audience)) = (&r.jwt_issuer, &r.jwt_audience) else {
            return Ok(None);
        };
        let rs256 = match &r.jwt_rs256_public_key {
            Some(p) => {
                let pem = std::fs::read(p).map_err(|e| {
                    anyhow::anyhow!("rest.jwt_rs256_public_key {}: {e}", p.display())
                })?;
                Some(DecodingKey::from_rsa_pem(&pem).map_err(|e| {
                    anyhow::anyhow!("rest.jwt_rs256_public_key {}: {e}", p.display())
                })?)
            }
            None => None,
        };
        let hs256 = match &r.jwt_hs256_secret {
            Some(s) => Some(
                DecodingKey::from_secret(s.as_bytes())
                    .map_err(|e| anyhow::anyhow!("rest.jwt_hs256_secret: {e}"))?,
            ),
            None => None,
        };
        Ok(Some(JwtConfig {
            issuer: issuer.clone(),
            audience: audience.clone(),
            hs256,
            rs256,
        }))
    }
}

/// Clock skew tolerated on `exp` and `nbf` between the portal and the gateway.
pub const LEEWAY_SECS: u64 = 60;

#[derive(Deserialize)]
struct Claims {
    /// SPID's attribute (`TINIT-<CF>`) or a plain `codice_fiscale`.
    #[serde(alias = "codice_fiscale")]
    fiscal_number: Option<String>,
}

/// Verifies a compact JWS against the wall clock: signature with the key configured for the
/// header's algorithm, then `exp` (required), `nbf`, `iss` and `aud` (both required) with
/// [`LEEWAY_SECS`]; the checks themselves are the `jsonwebtoken` crate's.
pub fn verifica(token: &str, cfg: &JwtConfig) -> Result<Cittadino, JwtError> {
    use jsonwebtoken::errors::ErrorKind as K;
    let header =
        jsonwebtoken::decode_header(token).map_err(|_| JwtError::Invalid("intestazione"))?;
    let (alg, key) = match (header.alg, &cfg.hs256, &cfg.rs256) {
        (Algorithm::HS256, Some(k), _) => (Algorithm::HS256, k),
        (Algorithm::RS256, _, Some(k)) => (Algorithm::RS256, k),
        _ => return Err(JwtError::Invalid("algoritmo non ammesso")),
    };
    let mut v = Validation::new(alg);
    v.leeway = LEEWAY_SECS;
    v.validate_nbf = true;
    v.set_issuer(&[&cfg.issuer]);
    v.set_audience(&[&cfg.audience]);
    v.set_required_spec_claims(&["exp", "iss", "aud"]);
    let c = jsonwebtoken::decode::<Claims>(token, key, &v)
        .map_err(|e| match e.kind() {
            K::ExpiredSignature => JwtError::Expired,
            K::InvalidSignature => JwtError::Invalid("firma"),
            K::InvalidAlgorithm => JwtError::Invalid("algoritmo non ammesso"),
            K::InvalidIssuer => JwtError::Invalid("emittente"),
            K::InvalidAudience => JwtError::Invalid("destinatario"),
            K::ImmatureSignature => JwtError::Invalid("non ancora valido"),
            K::MissingRequiredClaim(_) | K::InvalidClaimFormat(_) => JwtError::Invalid("contenuto"),
            _ => JwtError::Invalid("formato"),
        })?
        .claims;
    let cf = c
        .fiscal_number
        .ok_or(JwtError::Invalid("codice fiscale mancante"))?;
    let cf = cf
        .strip_prefix("TINIT-")
        .unwrap_or(&cf)
        .trim()
        .to_uppercase();
    if cf.is_empty() {
        return Err(JwtError::Invalid("codice fiscale mancante"));
    }
    Ok(Cittadino { codice_fiscale: cf })
}
