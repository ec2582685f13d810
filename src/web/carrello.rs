//! The citizen's cart between pages: up to five dovuti (ente, IUV, payer's fiscal code) in
//! a cookie signed with HMAC-SHA256, so a page can trust what it reads back without a
//! server-side session (any instance behind the balancer reads it: the key derives from
//! the admin token they share). `SameSite=Strict`: another site cannot post to the cart.

use aws_lc_rs::hmac;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;

pub const NOME: &str = "carrello";
/// As `dominio::carrello` allows.
pub const MASSIMO: usize = 5;

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Voce {
    pub id_dominio: String,
    pub iuv: String,
    pub codice_fiscale: String,
}

/// The signing key of the portal's cookies, and whether they go over HTTPS only.
#[derive(Clone)]
pub struct Chiave(hmac::Key, bool);

impl Chiave {
    /// The cart's key, derived from the administrator token's digest; `secure`: cookies
    /// carry the `Secure` attribute (`rest.cookie_secure`, for a portal served over HTTPS).
    pub fn da(segreto: &[u8; 32], secure: bool) -> Chiave {
        let radice = hmac::Key::new(hmac::HMAC_SHA256, segreto);
        let derivata = hmac::sign(&radice, b"pagopa-gateway portale carrello v1");
        Chiave(hmac::Key::new(hmac::HMAC_SHA256, derivata.as_ref()), secure)
    }

    fn attributi(&self) -> &'static str {
        if self.1 { "; Secure" } else { "" }
    }

    /// `v` signed for the use `tipo` (a cart's value cannot pass for a payment's).
    fn firma_come<T: serde::Serialize>(&self, tipo: &str, v: &T) -> String {
        let json = serde_json::to_vec(v).expect("a cookie value serializes");
        let tag = hmac::sign(&self.0, &[tipo.as_bytes(), b"|", &json].concat());
        format!("{}.{}", B64.encode(&json), B64.encode(tag.as_ref()))
    }

    fn leggi_come<T: serde::de::DeserializeOwned>(
        &self,
        tipo: &str,
        valore: Option<&str>,
    ) -> Option<T> {
        let (dati, tag) = valore?.split_once('.')?;
        let (json, tag) = (B64.decode(dati).ok()?, B64.decode(tag).ok()?);
        hmac::verify(&self.0, &[tipo.as_bytes(), b"|", &json].concat(), &tag).ok()?;
        serde_json::from_slice(&json).ok()
    }

    pub fn firma(&self, voci: &[Voce]) -> String {
        self.firma_come(NOME, &voci)
    }

    /// The cart in `valore`, or empty if it is missing, altered or not a cart.
    pub fn leggi(&self, valore: Option<&str>) -> Vec<Voce> {
        let mut voci: Vec<Voce> = self.leggi_come(NOME, valore).unwrap_or_default();
        voci.truncate(MASSIMO);
        voci
    }

    pub fn firma_pagamento(&self, p: &Pagamento) -> String {
        self.firma_come(PAGAMENTO, p)
    }

    pub fn leggi_pagamento(&self, valore: Option<&str>) -> Option<Pagamento> {
        self.leggi_come(PAGAMENTO, valore)
    }
}

pub const PAGAMENTO: &str = "pagamento";

/// What this browser sent to pagoPA last: the cart's id and the dovuti with the fiscal code
/// the payer typed. The outcome page links a receipt only from it, so knowing a cart's id
/// (or a IUV) never shows someone else's receipt.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Pagamento {
    pub id_carrello: String,
    pub voci: Vec<Voce>,
    /// Paid from the cart: the cart empties once the outcome is known.
    pub dal_carrello: bool,
}

/// The `Set-Cookie` value of the last payment (an hour: the way to Checkout and back).
pub fn cookie_pagamento(chiave: &Chiave, p: &Pagamento) -> String {
    format!(
        "{PAGAMENTO}={}; Path=/portale; Max-Age=3600; HttpOnly; SameSite=Lax{}",
        chiave.firma_pagamento(p),
        chiave.attributi()
    )
}

/// The cart a request carries, with the key to sign what replaces it.
pub struct Corrente {
    pub chiave: Chiave,
    pub voci: Vec<Voce>,
}

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for Corrente {
    type Rejection = axum::http::StatusCode;
    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _: &S,
    ) -> Result<Self, Self::Rejection> {
        // The web router adds the key to every request.
        let chiave = parts
            .extensions
            .get::<Chiave>()
            .cloned()
            .ok_or(axum::http::StatusCode::INTERNAL_SERVER_ERROR)?;
        let voci = chiave.leggi(valore(&parts.headers, NOME));
        Ok(Corrente { chiave, voci })
    }
}

/// The `Set-Cookie` value for `voci` (an empty cart expires the cookie).
pub fn cookie(chiave: &Chiave, voci: &[Voce]) -> String {
    if voci.is_empty() {
        return format!(
            "{NOME}=; Path=/portale; Max-Age=0; HttpOnly; SameSite=Strict{}",
            chiave.attributi()
        );
    }
    format!(
        "{NOME}={}; Path=/portale; Max-Age=86400; HttpOnly; SameSite=Strict{}",
        chiave.firma(voci),
        chiave.attributi()
    )
}

/// A cookie's value from a request's `Cookie` headers.
pub fn valore<'h>(headers: &'h axum::http::HeaderMap, nome: &str) -> Option<&'h str> {
    crate::rest::auth::cookie(headers, nome)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn voce(i: &str) -> Voce {
        Voce {
            id_dominio: "80007580279".into(),
            iuv: i.into(),
            codice_fiscale: "RSSMRA85T10A562S".into(),
        }
    }

    #[test]
    fn a_signed_cart_reads_back_and_an_altered_one_is_empty() {
        let k = Chiave::da(&[7; 32], false);
        let v = vec![voce("01000000000000144")];
        let firmato = k.firma(&v);
        assert_eq!(k.leggi(Some(&firmato)), v);
        let (dati, tag) = firmato.split_once('.').unwrap();
        let altro = B64.encode(serde_json::to_vec(&[voce("99")]).unwrap());
        assert!(k.leggi(Some(&format!("{altro}.{tag}"))).is_empty());
        assert!(Chiave::da(&[8; 32], false).leggi(Some(&firmato)).is_empty());
        assert!(cookie(&Chiave::da(&[7; 32], true), &v).ends_with("; Secure"));
        assert!(!cookie(&k, &v).contains("Secure"));
        // A cart's value does not pass for a payment's, nor the other way round.
        assert_eq!(k.leggi_pagamento(Some(&firmato)), None);
        let p = Pagamento {
            id_carrello: "c-1".into(),
            voci: v.clone(),
            dal_carrello: true,
        };
        let pagato = k.firma_pagamento(&p);
        assert_eq!(k.leggi_pagamento(Some(&pagato)), Some(p));
        assert!(k.leggi(Some(&pagato)).is_empty());
        assert!(k.leggi(Some(dati)).is_empty());
        assert!(k.leggi(None).is_empty());
    }
}
