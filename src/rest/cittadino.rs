//! The logged-in citizen's area. The portal authenticates the citizen (SPID, CIE, CNS) and
//! forwards the identity as a signed JWT; the gateway verifies signature (HS256 with a
//! shared secret or RS256 with the portal's public key — never `none`), issuer, audience
//! and expiry with the `jsonwebtoken` crate, and shows only the dovuti of the fiscal code
//! in the token.

use super::{ApiError, AppState, Problem};
use crate::registry::{Dovuto, Page, Paging};
use crate::store::DovutiFilter;
use axum::Json;
use axum::extract::{FromRequestParts, Query, State};
use axum::http::request::Parts;
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(miei_dovuti))
}

pub use crate::identita::{Cittadino, JwtConfig, JwtError, LEEWAY_SECS, verifica};

impl FromRequestParts<AppState> for Cittadino {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, s: &AppState) -> Result<Self, ApiError> {
        let token = super::auth::bearer(&parts.headers).ok_or(ApiError::Unauthorized)?;
        let cfg = s.jwt.as_ref().ok_or(ApiError::Unauthorized)?;
        verifica(token, cfg).map_err(|e| {
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
    use base64::Engine;
    use jsonwebtoken::DecodingKey;

    fn now() -> i64 {
        time::OffsetDateTime::now_utc().unix_timestamp()
    }

    fn cfg() -> JwtConfig {
        JwtConfig {
            issuer: "https://portale.example.it".into(),
            audience: "pagopa-gateway".into(),
            hs256: Some(DecodingKey::from_secret(b"0123456789abcdef0123456789abcdef").unwrap()),
            rs256: None,
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
        serde_json::json!({"iss": "https://portale.example.it", "aud": "pagopa-gateway", "exp": now() + 300, "fiscal_number": "TINIT-RSSMRA85T10A562S"})
    }

    #[test]
    fn a_valid_token_names_its_citizen() {
        let t = hs256(claims(), b"0123456789abcdef0123456789abcdef");
        assert_eq!(
            verifica(&t, &cfg()).unwrap().codice_fiscale,
            "RSSMRA85T10A562S"
        );
        let mut c = claims();
        c["aud"] = serde_json::json!(["other", "pagopa-gateway"]);
        c["codice_fiscale"] = c["fiscal_number"].take();
        c.as_object_mut().unwrap().remove("fiscal_number");
        let t = hs256(c, b"0123456789abcdef0123456789abcdef");
        assert!(verifica(&t, &cfg()).is_ok());
    }

    #[test]
    fn expired_wrongly_signed_foreign_or_unsigned_tokens_are_refused() {
        let secret = b"0123456789abcdef0123456789abcdef";
        let mut c = claims();
        c["exp"] = serde_json::json!(now() - 61);
        assert_eq!(verifica(&hs256(c, secret), &cfg()), Err(JwtError::Expired));
        assert_eq!(
            verifica(
                &hs256(claims(), b"another secret of thirty-two byt"),
                &cfg()
            ),
            Err(JwtError::Invalid("firma"))
        );
        for (k, v) in [("iss", "https://evil.example"), ("aud", "someone-else")] {
            let mut c = claims();
            c[k] = serde_json::json!(v);
            assert!(verifica(&hs256(c, secret), &cfg()).is_err(), "{k}");
        }
        let mut c = claims();
        c.as_object_mut().unwrap().remove("exp");
        assert!(verifica(&hs256(c, secret), &cfg()).is_err());
        // alg none, and a token whose signature was cut off.
        let none = format!(
            "{}.{}.",
            enc(&serde_json::json!({"alg": "none"})),
            enc(&claims())
        );
        assert_eq!(
            verifica(&none, &cfg()),
            Err(JwtError::Invalid("intestazione"))
        );
        let t = hs256(claims(), secret);
        let cut = &t[..t.rfind('.').unwrap()];
        assert!(verifica(cut, &cfg()).is_err());
        assert!(verifica("a.b.c.d", &cfg()).is_err());
    }

    #[test]
    fn the_clock_leeway_is_sixty_seconds_and_iss_aud_are_required() {
        let secret = b"0123456789abcdef0123456789abcdef";
        let with = |k: &str, v: serde_json::Value| {
            let mut c = claims();
            c[k] = v;
            verifica(&hs256(c, secret), &cfg())
        };
        assert!(with("exp", serde_json::json!(now() - 30)).is_ok());
        assert!(with("nbf", serde_json::json!(now() + 30)).is_ok());
        assert_eq!(
            with("nbf", serde_json::json!(now() + 120)),
            Err(JwtError::Invalid("non ancora valido"))
        );
        for k in ["iss", "aud"] {
            let mut c = claims();
            c.as_object_mut().unwrap().remove(k);
            assert_eq!(
                verifica(&hs256(c, secret), &cfg()),
                Err(JwtError::Invalid("contenuto")),
                "{k}"
            );
        }
    }

    #[test]
    fn rs256_tokens_are_verified_with_the_portals_public_key() {
        use aws_lc_rs::encoding::AsDer;
        use aws_lc_rs::signature::KeyPair;
        let kp = aws_lc_rs::rsa::KeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048).unwrap();
        let spki = kp.public_key().as_der().unwrap();
        // The key as the portal publishes it: a PEM SubjectPublicKeyInfo.
        let pem = format!(
            "-----BEGIN PUBLIC KEY-----\n{}\n-----END PUBLIC KEY-----\n",
            base64::engine::general_purpose::STANDARD.encode(spki.as_ref())
        );
        let cfg = JwtConfig {
            hs256: None,
            rs256: Some(DecodingKey::from_rsa_pem(pem.as_bytes()).unwrap()),
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
            verifica(&t, &cfg).unwrap().codice_fiscale,
            "RSSMRA85T10A562S"
        );
        // An HS256 token signed with the public key as secret (the classic confusion) fails.
        let forged = hs256(claims(), spki.as_ref());
        assert_eq!(
            verifica(&forged, &cfg),
            Err(JwtError::Invalid("algoritmo non ammesso"))
        );
    }
}
