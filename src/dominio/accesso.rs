//! How an operator proves who they are: a password kept only as an Argon2id hash, then a
//! one-time code (TOTP, RFC 6238: HMAC-SHA1, 30 s steps, 6 digits, the authenticator apps'
//! default) that is accepted once; after [`MAX_TENTATIVI`] failures in a row the account
//! waits [`BLOCCO`]. Pure but for the hash's CPU time (callers run it off the async
//! threads).

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use std::sync::OnceLock;
use time::{Duration, OffsetDateTime};

/// Failures (password or code) before the account is locked.
pub const MAX_TENTATIVI: i64 = 5;
/// How long a locked account waits.
pub const BLOCCO: Duration = Duration::minutes(15);
/// A TOTP step.
const PASSO_SECONDI: i64 = 30;

/// The PHC string of a new password (Argon2id, the crate's OWASP parameters, random salt).
pub fn hash_password(password: &str) -> String {
    let mut sale = [0u8; 16];
    rand::RngCore::fill_bytes(&mut rand::rng(), &mut sale);
    let Ok(salt) = SaltString::encode_b64(&sale) else {
        return String::new();
    };
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        // Only an invalid parameter set fails, and the defaults are valid.
        .unwrap_or_default()
}

/// Whether `password` matches the stored hash. With no stored hash (unknown username) a
/// hash is still verified, so the answer's time does not tell which usernames exist.
pub fn verify_password(stored: Option<&str>, password: &str) -> bool {
    static FINTO: OnceLock<String> = OnceLock::new();
    let finto = FINTO.get_or_init(|| hash_password("utente inesistente"));
    let phc = stored.unwrap_or(finto);
    let ok = PasswordHash::new(phc)
        .map(|h| {
            Argon2::default()
                .verify_password(password.as_bytes(), &h)
                .is_ok()
        })
        .unwrap_or(false);
    ok && stored.is_some()
}

/// A new random password for an operator created from the command line (printed once).
pub fn new_password() -> String {
    use rand::Rng;
    const ALFABETO: &[u8] = b"abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut r = rand::rng();
    (0..16)
        .map(|_| ALFABETO[r.random_range(0..ALFABETO.len())] as char)
        .collect()
}

/// A new TOTP secret: 20 random bytes (RFC 4226's recommended length), base32 as the apps
/// read it.
pub fn new_totp_secret() -> String {
    let mut b = [0u8; 20];
    rand::RngCore::fill_bytes(&mut rand::rng(), &mut b);
    base32(&b)
}

/// The `otpauth://` URI an authenticator app reads (as a QR code or typed in).
pub fn otpauth_uri(emittente: &str, username: &str, secret: &str) -> String {
    let enc = |s: &str| -> String {
        s.bytes()
            .map(|b| {
                if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_') {
                    (b as char).to_string()
                } else {
                    format!("%{b:02X}")
                }
            })
            .collect()
    };
    format!(
        "otpauth://totp/{}:{}?secret={secret}&issuer={}&algorithm=SHA1&digits=6&period=30",
        enc(emittente),
        enc(username),
        enc(emittente)
    )
}

/// The TOTP step of an instant.
pub fn passo(t: OffsetDateTime) -> i64 {
    t.unix_timestamp().div_euclid(PASSO_SECONDI)
}

/// The 6-digit code of a step (RFC 4226 dynamic truncation of HMAC-SHA1).
pub fn codice(secret: &[u8], passo: i64) -> String {
    use aws_lc_rs::hmac;
    let key = hmac::Key::new(hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, secret);
    let mac = hmac::sign(&key, &passo.to_be_bytes());
    let m = mac.as_ref();
    let o = (m[m.len() - 1] & 0x0f) as usize;
    let n = u32::from_be_bytes([m[o] & 0x7f, m[o + 1], m[o + 2], m[o + 3]]);
    format!("{:06}", n % 1_000_000)
}

/// The step a code proves, if it matches the step of `now` or one either side (clock
/// drift) and is later than `ultimo`, the last step already used: a code is good once.
pub fn verify_totp(secret_b32: &str, code: &str, now: OffsetDateTime, ultimo: i64) -> Option<i64> {
    let secret = from_base32(secret_b32)?;
    let code = code.trim();
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let p = passo(now);
    (p - 1..=p + 1)
        .filter(|s| *s > ultimo)
        .find(|s| same(codice(&secret, *s).as_bytes(), code.as_bytes()))
}

fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Whether the failures counted so far (this one included) lock the account, and until
/// when. The count is kept by the store, incremented in one statement so that attempts in
/// parallel all count.
pub fn lock_after(tentativi: i64, now: OffsetDateTime) -> Option<OffsetDateTime> {
    (tentativi >= MAX_TENTATIVI).then_some(now + BLOCCO)
}

/// Whether the account is locked at `now`.
pub fn locked(bloccato_fino: Option<OffsetDateTime>, now: OffsetDateTime) -> bool {
    bloccato_fino.is_some_and(|t| t > now)
}

const B32: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/// RFC 4648 base32, no padding.
pub fn base32(data: &[u8]) -> String {
    let mut out = String::new();
    let (mut buf, mut bits) = (0u32, 0);
    for &b in data {
        buf = (buf << 8) | b as u32;
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(B32[((buf >> bits) & 31) as usize] as char);
        }
    }
    if bits > 0 {
        out.push(B32[((buf << (5 - bits)) & 31) as usize] as char);
    }
    out
}

/// Reads base32 as apps print it (any case, spaces and padding ignored).
pub fn from_base32(s: &str) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    let (mut buf, mut bits) = (0u32, 0);
    for c in s.bytes().filter(|c| !matches!(c, b' ' | b'=')) {
        let v = B32.iter().position(|x| *x == c.to_ascii_uppercase())? as u32;
        buf = (buf << 5) | v;
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push((buf >> bits) as u8);
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn rfc6238_sha1_vectors() {
        // RFC 6238 appendix B (8 digits there; the last 6 are the 6-digit code).
        let k = b"12345678901234567890";
        for (t, atteso) in [
            (59, "94287082"),
            (1111111109, "07081804"),
            (1234567890, "89005924"),
            (2000000000, "69279037"),
        ] {
            let now = OffsetDateTime::from_unix_timestamp(t).unwrap();
            assert_eq!(codice(k, passo(now)), atteso[2..], "t={t}");
        }
    }

    #[test]
    fn a_code_is_good_once_and_only_near_its_time() {
        let secret = new_totp_secret();
        let raw = from_base32(&secret).unwrap();
        let now = OffsetDateTime::from_unix_timestamp(1_800_000_000).unwrap();
        let c = codice(&raw, passo(now));
        let p = verify_totp(&secret, &c, now, 0).expect("current code");
        assert_eq!(p, passo(now));
        assert_eq!(verify_totp(&secret, &c, now, p), None, "replayed");
        let later = now + Duration::seconds(31);
        assert!(
            verify_totp(&secret, &c, later, 0).is_some(),
            "one step of drift"
        );
        assert!(verify_totp(&secret, &c, now + Duration::minutes(2), 0).is_none());
        for bad in ["", "12345", "1234567", "abcdef"] {
            assert!(verify_totp(&secret, bad, now, 0).is_none());
        }
    }

    #[test]
    fn passwords_verify_only_against_their_hash() {
        let h = hash_password("correct horse");
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password(Some(&h), "correct horse"));
        assert!(!verify_password(Some(&h), "correct hors"));
        assert!(!verify_password(None, "utente inesistente"));
        assert!(!verify_password(Some("not a hash"), "x"));
    }

    #[test]
    fn the_fifth_failure_locks_for_a_quarter_of_an_hour() {
        let now = OffsetDateTime::UNIX_EPOCH;
        for n in 1..MAX_TENTATIVI {
            assert!(lock_after(n, now).is_none());
        }
        let until = lock_after(MAX_TENTATIVI, now).unwrap();
        assert_eq!(until, now + BLOCCO);
        assert!(locked(Some(until), now + Duration::minutes(14)));
        assert!(!locked(Some(until), until));
        assert!(!locked(None, now));
    }

    #[test]
    fn otpauth_uri_is_escaped() {
        let u = otpauth_uri("Regione X", "mario.rossi", "ABC");
        assert_eq!(
            u,
            "otpauth://totp/Regione%20X:mario.rossi?secret=ABC&issuer=Regione%20X&algorithm=SHA1&digits=6&period=30"
        );
    }

    proptest! {
        #[test]
        fn base32_round_trips(data in proptest::collection::vec(any::<u8>(), 0..64)) {
            prop_assert_eq!(from_base32(&base32(&data)).unwrap(), data);
        }
    }
}
