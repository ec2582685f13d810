//! Development PKI: a CA, the server pair of the mTLS endpoint and the client pair a
//! simulated Nodo presents. Never for production: the keys sit unencrypted on disk.

use anyhow::Context;
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use std::path::Path;

pub const FILES: [&str; 5] = [
    "ca.pem",
    "server.pem",
    "server.key",
    "client.pem",
    "client.key",
];

/// The subject of the development client certificate (the simulated Nodo).
pub const DEV_CLIENT_SUBJECT: [(DnType, &str); 2] = [
    (DnType::CommonName, "NodoDeiPagamentiSPC (dev)"),
    (DnType::OrganizationName, "pagopa-gateway dev"),
];

/// Writes `ca.pem`, `server.pem`, `server.key`, `client.pem`, `client.key` into `dir`.
pub fn write_dev_pki(dir: &Path) -> anyhow::Result<()> {
    write_dev_pki_for(dir, &DEV_CLIENT_SUBJECT)
}

/// The same, with the client certificate's subject made of `client_subject`, in order
/// (tests of subject pinning craft hostile ones).
pub fn write_dev_pki_for(dir: &Path, client_subject: &[(DnType, &str)]) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let ca_key = KeyPair::generate()?;
    let mut ca = CertificateParams::new(Vec::<String>::new())?;
    ca.distinguished_name.push(
        DnType::CommonName,
        "pagopa-gateway DEVELOPMENT CA (not for production)",
    );
    ca.distinguished_name
        .push(DnType::OrganizationName, "pagopa-gateway dev");
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let ca_cert = ca.self_signed(&ca_key)?;
    let issuer = Issuer::new(ca, ca_key);

    let leaf = |subject: &[(DnType, &str)],
                sans: Vec<String>,
                eku: ExtendedKeyUsagePurpose|
     -> anyhow::Result<(String, String)> {
        let key = KeyPair::generate()?;
        let mut p = CertificateParams::new(sans)?;
        p.distinguished_name = rcgen::DistinguishedName::new();
        for (t, v) in subject {
            p.distinguished_name.push(t.clone(), *v);
        }
        p.extended_key_usages = vec![eku];
        let cert = p.signed_by(&key, &issuer)?;
        Ok((cert.pem(), key.serialize_pem()))
    };
    let (server_pem, server_key) = leaf(
        &[
            (DnType::CommonName, "localhost"),
            (DnType::OrganizationName, "pagopa-gateway dev"),
        ],
        vec!["localhost".into(), "127.0.0.1".into(), "::1".into()],
        ExtendedKeyUsagePurpose::ServerAuth,
    )?;
    let (client_pem, client_key) =
        leaf(client_subject, vec![], ExtendedKeyUsagePurpose::ClientAuth)?;

    for (name, body) in FILES.iter().zip([
        ca_cert.pem(),
        server_pem,
        server_key,
        client_pem,
        client_key,
    ]) {
        let path = dir.join(name);
        std::fs::write(&path, body).with_context(|| format!("writing {}", path.display()))?;
        #[cfg(unix)]
        if name.ends_with(".key") {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))?;
        }
    }
    Ok(())
}

/// Generates the dev PKI unless every file is already there.
pub fn ensure_dev_pki(dir: &Path) -> anyhow::Result<bool> {
    if FILES.iter().all(|f| dir.join(f).exists()) {
        return Ok(false);
    }
    write_dev_pki(dir)?;
    Ok(true)
}
