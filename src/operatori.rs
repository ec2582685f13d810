//! Creating console operators (the `operatore crea` command and the demo): the password
//! (given or generated) hashed, a new TOTP secret, roles and enti checked, and what the
//! person needs printed once, as nothing else can show it again.

use crate::dominio::accesso;
use crate::model::operatore::{Ruoli, Username};
use crate::store::{NuovoOperatore, Store};

/// What the new operator is told once.
pub struct Credenziali {
    pub username: String,
    /// Only when generated here.
    pub password: Option<String>,
    pub totp_secret: String,
    pub otpauth: String,
}

/// Creates the operator, or replaces one of the same username (new password and secret,
/// their sessions ended).
pub async fn crea(
    store: &Store,
    username: &str,
    nome: &str,
    ruoli: &str,
    enti: &[String],
    password: Option<String>,
) -> anyhow::Result<Credenziali> {
    let username = Username::parse(username)?;
    let ruoli: Ruoli = ruoli.parse()?;
    if ruoli.is_empty() {
        anyhow::bail!("serve almeno un ruolo");
    }
    if enti.is_empty() && !ruoli.ha(crate::model::operatore::Ruolo::Intermediario) {
        anyhow::bail!("serve almeno un ente (o il ruolo intermediario)");
    }
    let generata = password.is_none();
    let password = password.unwrap_or_else(accesso::new_password);
    if password.chars().count() < 12 {
        anyhow::bail!("la password deve avere almeno 12 caratteri");
    }
    let totp_secret = accesso::new_totp_secret();
    let pw = password.clone();
    let password_hash = tokio::task::spawn_blocking(move || accesso::hash_password(&pw)).await?;
    store
        .operatori()
        .upsert(&NuovoOperatore {
            username: username.clone(),
            nome: nome.to_owned(),
            password_hash,
            totp_secret: totp_secret.clone(),
            ruoli,
            enti: enti.to_vec(),
        })
        .await?;
    Ok(Credenziali {
        otpauth: accesso::otpauth_uri("MyPivot", username.as_str(), &totp_secret),
        username: username.to_string(),
        password: generata.then_some(password),
        totp_secret,
    })
}

impl Credenziali {
    /// The lines printed for the person.
    pub fn stampa(&self) {
        println!("  operatore: {}", self.username);
        if let Some(p) = &self.password {
            println!("  password: {p}");
        }
        println!(
            "  segreto TOTP (mostrato una sola volta): {}",
            self.totp_secret
        );
        println!("  per l'app di autenticazione: {}", self.otpauth);
    }
}
