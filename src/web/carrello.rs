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

#[derive(Clone)]
pub struct Chiave(hmac::Key);

impl Chiave {
    /// The cart's key, derived from the administrator token's digest.
    pub fn da(segreto: &[u8; 32]) -> Chiave {
        let radice = hmac::Key::new(hmac::HMAC_SHA256, segreto);
        let derivata = hmac::sign(&radice, b"pagopa-gateway portale carrello v1");
        Chiave(hmac::Key::new(hmac::HMAC_SHA256, derivata.as_ref()))
    }

    pub fn firma(&self, voci: &[Voce]) -> String {
        let json = serde_json::to_vec(voci).expect("a cart serializes");
        let tag = hmac::sign(&self.0, &json);
        format!("{}.{}", B64.encode(&json), B64.encode(tag.as_ref()))
    }

    /// The cart in `valore`, or empty if it is missing, altered or not a cart.
    pub fn leggi(&self, valore: Option<&str>) -> Vec<Voce> {
        let Some((dati, tag)) = valore.and_then(|v| v.split_once('.')) else {
            return Vec::new();
        };
        let (Ok(json), Ok(tag)) = (B64.decode(dati), B64.decode(tag)) else {
            return Vec::new();
        };
        if hmac::verify(&self.0, &json, &tag).is_err() {
            return Vec::new();
        }
        let mut voci: Vec<Voce> = serde_json::from_slice(&json).unwrap_or_default();
        voci.truncate(MASSIMO);
        voci
    }
}

/// The `Set-Cookie` value for `voci` (an empty cart expires the cookie).
pub fn cookie(chiave: &Chiave, voci: &[Voce]) -> String {
    if voci.is_empty() {
        return format!("{NOME}=; Path=/portale; Max-Age=0; HttpOnly; SameSite=Strict");
    }
    format!(
        "{NOME}={}; Path=/portale; Max-Age=86400; HttpOnly; SameSite=Strict",
        chiave.firma(voci)
    )
}

/// A cookie's value from a request's `Cookie` headers.
pub fn valore<'h>(headers: &'h axum::http::HeaderMap, nome: &str) -> Option<&'h str> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().split_once('='))
        .find(|(k, _)| *k == nome)
        .map(|(_, v)| v)
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
        let k = Chiave::da(&[7; 32]);
        let v = vec![voce("01000000000000144")];
        let firmato = k.firma(&v);
        assert_eq!(k.leggi(Some(&firmato)), v);
        let (dati, tag) = firmato.split_once('.').unwrap();
        let altro = B64.encode(serde_json::to_vec(&[voce("99")]).unwrap());
        assert!(k.leggi(Some(&format!("{altro}.{tag}"))).is_empty());
        assert!(Chiave::da(&[8; 32]).leggi(Some(&firmato)).is_empty());
        assert!(k.leggi(Some(dati)).is_empty());
        assert!(k.leggi(None).is_empty());
    }
}
