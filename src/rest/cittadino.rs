//! The logged-in citizen's area. The portal authenticates the citizen (SPID, CIE, CNS) and
//! forwards the identity as a signed JWT; the gateway verifies signature (HS256 with a
//! shared secret or RS256 with the portal's public key — never `none`), issuer, audience
//! and expiry, and shows only the dovuti of the fiscal code in the token.

use super::{ApiError, AppState, Problem};
use crate::registry::{Dovuto, Page, Paging};
use crate::store::DovutiFilter;
use axum::Json;
use axum::extract::{FromRequestParts, Query, State};
use axum::http::request::Parts;
use base64::Engine;
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(miei_dovuti))
}

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

/// How tokens are checked (from `rest.jwt_*`).
#[derive(Debug, Clone)]
pub struct JwtConfig {
    pub issuer: String,
    pub audience: String,
    pub hs256_secret: Option<Vec<u8>>,
    /// DER SubjectPublicKeyInfo of the portal's RSA key.
    pub rs256_public_key: Option<Vec<u8>>,
}

impl JwtConfig {
    pub fn from_config(c: &crate::config::Config) -> anyhow::Result<Option<JwtConfig>> {
        let r = &c.rest;
        let (Some(issuer), Some(audience)) = (&r.jwt_issuer, &r.jwt_audience) else {
            return Ok(None);
        };
        let rs = match &r.jwt_rs256_public_key {
            Some(p) => {
                use rustls::pki_types::SubjectPublicKeyInfoDer;
                use rustls::pki_types::pem::PemObject;
                Some(
                    SubjectPublicKeyInfoDer::from_pem_file(p)
                        .map_err(|e| {
                            anyhow::anyhow!("rest.jwt_rs256_public_key {}: {e}", p.display())
                        })?
                        .to_vec(),
                )
            }
            None => None,
        };
        Ok(Some(JwtConfig {
            issuer: issuer.clone(),
            audience: audience.clone(),
            hs256_secret: r.jwt_hs256_secret.as_ref().map(|s| s.as_bytes().to_vec()),
            rs256_public_key: rs,
        }))
    }
}

#[derive(Deserialize)]
struct Header {
    alg: String,
}

#[derive(Deserialize)]
struct Claims {
    iss: Option<String>,
    aud: Option<serde_json::Value>,
    exp: Option<i64>,
    nbf: Option<i64>,
    /// SPID's attribute (`TINIT-<CF>`) or a plain `codice_fiscale`.
    #[serde(alias = "codice_fiscale")]
    fiscal_number: Option<String>,
}

fn b64(s: &str) -> Result<Vec<u8>, JwtError> {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(s)
        .map_err(|_| JwtError::Invalid("base64"))
}

/// Verifies a compact JWS at instant `now` (unix seconds). Pure except for the crypto.
pub fn verifica(token: &str, cfg: &JwtConfig, now: i64) -> Result<Cittadino, JwtError> {
    let mut parts = token.split('.');
    let (Some(h), Some(p), Some(sig), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(JwtError::Invalid("formato"));
    };
    let header: Header =
        serde_json::from_slice(&b64(h)?).map_err(|_| JwtError::Invalid("intestazione"))?;
    let signed = &token[..h.len() + 1 + p.len()];
    let sig = b64(sig)?;
    match (
        header.alg.as_str(),
        &cfg.hs256_secret,
        &cfg.rs256_public_key,
    ) {
        ("HS256", Some(secret), _) => {
            let key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, secret);
            aws_lc_rs::hmac::verify(&key, signed.as_bytes(), &sig)
                .map_err(|_| JwtError::Invalid("firma"))?;
        }
        ("RS256", _, Some(spki)) => {
            let key = aws_lc_rs::signature::ParsedPublicKey::new(
                &aws_lc_rs::signature::RSA_PKCS1_2048_8192_SHA256,
                spki,
            )
            .map_err(|_| JwtError::Invalid("chiave pubblica"))?;
            key.verify_sig(signed.as_bytes(), &sig)
                .map_err(|_| JwtError::Invalid("firma"))?;
        }
        _ => return Err(JwtError::Invalid("algoritmo non ammesso")),
    }
    let c: Claims = serde_json::from_slice(&b64(p)?).map_err(|_| JwtError::Invalid("contenuto"))?;
    const LEEWAY: i64 = 60;
    match c.exp {
        Some(exp) if exp + LEEWAY >= now => {}
        Some(_) => return Err(JwtError::Expired),
        None => return Err(JwtError::Invalid("exp mancante")),
    }
    if c.nbf.is_some_and(|nbf| nbf - LEEWAY > now) {
        return Err(JwtError::Invalid("non ancora valido"));
    }
    if c.iss.as_deref() != Some(cfg.issuer.as_str()) {
        return Err(JwtError::Invalid("emittente"));
    }
    let aud_ok = match &c.aud {
        Some(serde_json::Value::String(a)) => *a == cfg.audience,
        Some(serde_json::Value::Array(a)) => {
            a.iter().any(|v| v.as_str() == Some(cfg.audience.as_str()))
        }
        _ => false,
    };
    if !aud_ok {
        return Err(JwtError::Invalid("destinatario"));
    }
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

impl FromRequestParts<AppState> for Cittadino {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, s: &AppState) -> Result<Self, ApiError> {
        let token = parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .ok_or(ApiError::Unauthorized)?;
        let cfg = s.jwt.as_ref().ok_or(ApiError::Unauthorized)?;
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        verifica(token.trim(), cfg, now).map_err(|e| {
            tracing::info!(error = %e, "citizen token refused");
            ApiError::Unauthorized
        })
    }
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MieiQuery {
    stato: Option<crate::model::StatoDovuto>,
}

/// The logged-in citizen's dovuti, across enti (their fiscal code only).
#[utoipa::path(get, path = "/api/v1/portale/me/dovuti", tag = "portale", params(MieiQuery, Paging),
    responses((status = 200, body = Page<Dovuto>), (status = 401, body = Problem)), security(("citizen_jwt" = [])))]
async fn miei_dovuti(
    State(s): State<AppState>,
    c: Cittadino,
    Query(q): Query<MieiQuery>,
    Query(paging): Query<Paging>,
) -> Result<Json<Page<Dovuto>>, ApiError> {
    let (limit, offset) = paging.limit_offset().map_err(ApiError::Validation)?;
    let f = DovutiFilter {
        codice_fiscale: Some(c.codice_fiscale),
        stato: q.stato,
        ..Default::default()
    };
    let (items, total) = s.store.dovuti().search(&f, limit, offset).await?;
    Ok(Json(Page {
        items,
        page: paging.page,
        per_page: paging.per_page,
        total,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_790_000_000;

    fn cfg() -> JwtConfig {
        JwtConfig {
            issuer: "https://portale.example.it".into(),
            audience: "pagopa-gateway".into(),
            hs256_secret: Some(b"0123456789abcdef0123456789abcdef".to_vec()),
            rs256_public_key: None,
        }
    }

    fn enc(v: &serde_json::Value) -> String {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string())
    }

    /// Signs `claims` with HS256 and `secret` (the test's stand-in for the portal).
    pub(crate) fn hs256(claims: serde_json::Value, secret: &[u8]) -> String {
        let signed = format!(
            "{}.{}",
            enc(&serde_json::json!({"alg": "HS256", "typ": "JWT"})),
            enc(&claims)
        );
        let key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, secret);
        let tag = aws_lc_rs::hmac::sign(&key, signed.as_bytes());
        format!(
            "{signed}.{}",
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(tag.as_ref())
        )
    }

    fn claims() -> serde_json::Value {
        serde_json::json!({"iss": "https://portale.example.it", "aud": "pagopa-gateway", "exp": NOW + 300, "fiscal_number": "TINIT-RSSMRA85T10A562S"})
    }

    #[test]
    fn a_valid_token_names_its_citizen() {
        let t = hs256(claims(), b"0123456789abcdef0123456789abcdef");
        assert_eq!(
            verifica(&t, &cfg(), NOW).unwrap().codice_fiscale,
            "RSSMRA85T10A562S"
        );
        let mut c = claims();
        c["aud"] = serde_json::json!(["other", "pagopa-gateway"]);
        c["codice_fiscale"] = c["fiscal_number"].take();
        c.as_object_mut().unwrap().remove("fiscal_number");
        let t = hs256(c, b"0123456789abcdef0123456789abcdef");
        assert!(verifica(&t, &cfg(), NOW).is_ok());
    }

    #[test]
    fn expired_wrongly_signed_foreign_or_unsigned_tokens_are_refused() {
        let secret = b"0123456789abcdef0123456789abcdef";
        let mut c = claims();
        c["exp"] = serde_json::json!(NOW - 61);
        assert_eq!(
            verifica(&hs256(c, secret), &cfg(), NOW),
            Err(JwtError::Expired)
        );
        assert_eq!(
            verifica(
                &hs256(claims(), b"another secret of thirty-two byt"),
                &cfg(),
                NOW
            ),
            Err(JwtError::Invalid("firma"))
        );
        for (k, v) in [("iss", "https://evil.example"), ("aud", "someone-else")] {
            let mut c = claims();
            c[k] = serde_json::json!(v);
            assert!(verifica(&hs256(c, secret), &cfg(), NOW).is_err(), "{k}");
        }
        let mut c = claims();
        c.as_object_mut().unwrap().remove("exp");
        assert!(verifica(&hs256(c, secret), &cfg(), NOW).is_err());
        // alg none, and a token whose signature was cut off.
        let none = format!(
            "{}.{}.",
            enc(&serde_json::json!({"alg": "none"})),
            enc(&claims())
        );
        assert_eq!(
            verifica(&none, &cfg(), NOW),
            Err(JwtError::Invalid("algoritmo non ammesso"))
        );
        let t = hs256(claims(), secret);
        let cut = &t[..t.rfind('.').unwrap()];
        assert!(verifica(cut, &cfg(), NOW).is_err());
        assert!(verifica("a.b.c.d", &cfg(), NOW).is_err());
    }

    #[test]
    fn rs256_tokens_are_verified_with_the_portals_public_key() {
        use aws_lc_rs::encoding::AsDer;
        use aws_lc_rs::signature::KeyPair;
        let kp = aws_lc_rs::rsa::KeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048).unwrap();
        let spki = kp.public_key().as_der().unwrap();
        let cfg = JwtConfig {
            hs256_secret: None,
            rs256_public_key: Some(spki.as_ref().to_vec()),
            ..cfg()
        };
        let signed = format!(
            "{}.{}",
            enc(&serde_json::json!({"alg": "RS256"})),
            enc(&claims())
        );
        let mut sig = vec![0; kp.public_modulus_len()];
        kp.sign(
            &aws_lc_rs::signature::RSA_PKCS1_SHA256,
            &aws_lc_rs::rand::SystemRandom::new(),
            signed.as_bytes(),
            &mut sig,
        )
        .unwrap();
        let t = format!(
            "{signed}.{}",
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&sig)
        );
        assert_eq!(
            verifica(&t, &cfg, NOW).unwrap().codice_fiscale,
            "RSSMRA85T10A562S"
        );
        // An HS256 token signed with the public key as secret (the classic confusion) fails.
        let forged = hs256(claims(), spki.as_ref());
        assert_eq!(
            verifica(&forged, &cfg, NOW),
            Err(JwtError::Invalid("algoritmo non ammesso"))
        );
    }
}
