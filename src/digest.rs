//! SHA-256 from aws-lc-rs, the crypto library rustls already brings (no second one).

use aws_lc_rs::digest::{SHA256, digest};

pub fn sha256(data: &[u8]) -> [u8; 32] {
    let mut out = [0; 32];
    out.copy_from_slice(digest(&SHA256, data).as_ref());
    out
}

/// Lower-case hex, as import jobs record their file's digest.
pub fn sha256_hex(data: &[u8]) -> String {
    hex(&sha256(data))
}

/// Lower-case hex of a digest.
pub fn hex(digest: &[u8; 32]) -> String {
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// SHA-256 of data that arrives in pieces (an upload as it streams).
pub struct Sha256(aws_lc_rs::digest::Context);

impl Default for Sha256 {
    fn default() -> Self {
        Sha256(aws_lc_rs::digest::Context::new(&SHA256))
    }
}

impl Sha256 {
    pub fn update(&mut self, data: &[u8]) {
        self.0.update(data);
    }
    pub fn finish(self) -> [u8; 32] {
        let mut out = [0; 32];
        out.copy_from_slice(self.0.finish().as_ref());
        out
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn in_pieces_as_whole() {
        let mut h = super::Sha256::default();
        h.update(b"a");
        h.update(b"bc");
        assert_eq!(super::hex(&h.finish()), super::sha256_hex(b"abc"));
    }

    #[test]
    fn known_answer() {
        assert_eq!(
            super::sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
