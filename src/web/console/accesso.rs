//! Signing in: username and password, then the one-time code of the operator's
//! authenticator app; a session in the database (any instance serves it) behind an
//! HttpOnly, SameSite=Strict cookie, renewed once both factors are given. Five failures in
//! a row lock the account for a quarter of an hour (`dominio::accesso`).

use super::*;
use crate::dominio::accesso;
use crate::model::operatore::Username;
use crate::rest::auth::digest_hex;
use axum::extract::{Form, State};
use serde::Deserialize;
use time::{Duration, OffsetDateTime};

/// Between the password and the code.
const DURATA_META: Duration = Duration::minutes(5);
/// A working day.
const DURATA_SESSIONE: Duration = Duration::hours(8);

fn pagina(titolo: &str, blocchi: Vec<Blocco>) -> Response {
    render(&Pagina {
        titolo: titolo.into(),
        utente: None,
        ente: String::new(),
        menu: Vec::new(),
        aggiorna: 0,
        blocchi,
    })
}

fn modulo_password(messaggio: Option<&str>) -> Response {
    let mut b = Vec::new();
    if let Some(m) = messaggio {
        b.push(Blocco::Avviso("danger", m.into()));
    }
    b.push(Blocco::Testo(
        "Accedi con le credenziali di operatore che ti ha dato l'amministratore; ti sarà chiesto anche il codice temporaneo della tua app di autenticazione.".into(),
    ));
    b.push(Blocco::Modulo(
        Modulo::post("accesso", "/console/accesso", "Continua")
            .campo(
                Campo::new("username", "Nome utente", Tipo::Testo)
                    .richiesto()
                    .autocompleta("username"),
            )
            .campo(
                Campo::new("password", "Password", Tipo::Password)
                    .richiesto()
                    .autocompleta("current-password"),
            ),
    ));
    pagina("Accesso alla console MyPivot", b)
}

pub async fn modulo_accesso() -> Response {
    modulo_password(None)
}

fn cookie(token: &str, durata: Duration, secure: bool) -> String {
    format!(
        "{COOKIE_SESSIONE}={token}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}{}",
        durata.whole_seconds(),
        if secure { "; Secure" } else { "" }
    )
}

fn nuovo_token() -> String {
    crate::rest::auth::new_api_key()
        .trim_start_matches("pgw_")
        .to_owned()
}

fn con_cookie(mut r: Response, c: String) -> Response {
    if let Ok(v) = c.parse() {
        r.headers_mut().append(header::SET_COOKIE, v);
    }
    r
}

#[derive(Deserialize)]
pub struct Credenziali {
    username: String,
    password: String,
}

const NON_VALIDE: &str = "Nome utente o password non validi.";
const BLOCCATO: &str = "Troppi tentativi non riusciti: l'accesso è sospeso per qualche minuto.";

/// Password checks at once: Argon2id takes ~19 MiB and tens of milliseconds of CPU each,
/// so a flood of sign-ins must queue for the cores, not pile up threads and memory.
fn verifiche() -> &'static tokio::sync::Semaphore {
    static S: std::sync::OnceLock<tokio::sync::Semaphore> = std::sync::OnceLock::new();
    S.get_or_init(|| {
        tokio::sync::Semaphore::new(std::thread::available_parallelism().map_or(2, |n| n.get()))
    })
}

/// A failure (password or code) counted, and the lock applied when it is the one too many.
async fn fallimento(s: &AppState, username: &str, percorso: &str) -> bool {
    let ops = s.store.operatori();
    let _ = ops.record_change(username, "POST", percorso, 401).await;
    let n = ops.count_failure(username).await.unwrap_or(0);
    match accesso::lock_after(n, OffsetDateTime::now_utc()) {
        Some(until) => ops.lock(username, until).await.is_ok(),
        None => false,
    }
}

pub async fn accedi(State(s): State<AppState>, Form(c): Form<Credenziali>) -> Response {
    let username = Username::parse(c.username.trim()).ok();
    let o = match &username {
        Some(u) => match s.store.operatori().get(u.as_str()).await {
            Ok(o) => o.filter(|o| o.attivo),
            Err(e) => return super::super::da_store(e),
        },
        None => None,
    };
    // Waits at most 10 s for a core; beyond, the service is busy (not a failure counted).
    let Ok(Ok(permesso)) =
        tokio::time::timeout(std::time::Duration::from_secs(10), verifiche().acquire()).await
    else {
        return errore(
            &None,
            StatusCode::SERVICE_UNAVAILABLE,
            "Troppi accessi in corso: riprova tra qualche secondo.",
        );
    };
    let hash = o.as_ref().map(|o| o.password_hash.clone());
    let password = c.password;
    let ok =
        tokio::task::spawn_blocking(move || accesso::verify_password(hash.as_deref(), &password))
            .await
            .unwrap_or(false);
    drop(permesso);
    let Some(o) = o else {
        // An unknown username costs the same check and the same journal line as a known
        // one, so neither the answer nor its time tells which usernames exist.
        if let Some(u) = &username {
            let _ = s
                .store
                .operatori()
                .record_change(u.as_str(), "POST", "/console/accesso", 401)
                .await;
        }
        return modulo_password(Some(NON_VALIDE));
    };
    let user = o.username.as_str();
    if !ok {
        fallimento(&s, user, "/console/accesso").await;
        return modulo_password(Some(NON_VALIDE));
    }
    // Only who knows the password learns that the account is locked.
    if accesso::locked(o.bloccato_fino, OffsetDateTime::now_utc()) {
        let _ = s
            .store
            .operatori()
            .record_change(user, "POST", "/console/accesso", 423)
            .await;
        return modulo_password(Some(BLOCCATO));
    }
    let token = nuovo_token();
    if let Err(e) = s
        .store
        .operatori()
        .create_session(&digest_hex(&token), user, false, DURATA_META)
        .await
    {
        return super::super::da_store(e);
    }
    con_cookie(
        vai("/console/accesso/codice"),
        cookie(&token, DURATA_META, s.config.rest.cookie_secure),
    )
}

/// The session of the first factor, for the code's form.
async fn meta_sessione(
    s: &AppState,
    headers: &HeaderMap,
) -> Option<(String, crate::store::Operatore)> {
    let token = crate::rest::auth::cookie(headers, COOKIE_SESSIONE)?;
    let hash = digest_hex(token);
    let sess = s.store.operatori().session(&hash).await.ok()??;
    (!sess.completa).then_some((hash, sess.operatore))
}

fn modulo_otp(messaggio: Option<&str>) -> Response {
    let mut b = Vec::new();
    if let Some(m) = messaggio {
        b.push(Blocco::Avviso("danger", m.into()));
    }
    b.push(Blocco::Testo(
        "Inserisci il codice di 6 cifre che l'app di autenticazione mostra in questo momento."
            .into(),
    ));
    b.push(Blocco::Modulo(
        Modulo::post("otp", "/console/accesso/codice", "Accedi").campo(
            Campo::new("codice", "Codice temporaneo", Tipo::Testo)
                .richiesto()
                .autocompleta("one-time-code"),
        ),
    ));
    pagina("Codice temporaneo", b)
}

pub async fn modulo_codice(State(s): State<AppState>, headers: HeaderMap) -> Response {
    match meta_sessione(&s, &headers).await {
        Some(_) => modulo_otp(None),
        None => vai("/console/accesso"),
    }
}

#[derive(Deserialize)]
pub struct Codice {
    codice: String,
}

pub async fn verifica_codice(
    State(s): State<AppState>,
    headers: HeaderMap,
    Form(c): Form<Codice>,
) -> Response {
    let Some((hash, o)) = meta_sessione(&s, &headers).await else {
        return vai("/console/accesso");
    };
    let ops = s.store.operatori();
    let now = OffsetDateTime::now_utc();
    let user = o.username.as_str();
    if accesso::locked(o.bloccato_fino, now) {
        let _ = ops.end_session(&hash).await;
        return modulo_password(Some(BLOCCATO));
    }
    let passo = accesso::verify_totp(&o.totp_secret, &c.codice, now, o.totp_ultimo_passo);
    // The step is taken in the database: a code used on another instance meanwhile fails.
    let ok = match passo {
        Some(p) => ops.use_totp_step(user, p).await.unwrap_or(false),
        None => false,
    };
    if !ok {
        if fallimento(&s, user, "/console/accesso/codice").await {
            return modulo_password(Some(BLOCCATO));
        }
        return modulo_otp(Some("Codice non valido o già usato."));
    }
    // A new token once both factors are given: the first one cannot be ridden.
    let token = nuovo_token();
    let _ = ops.end_session(&hash).await;
    if let Err(e) = ops
        .create_session(&digest_hex(&token), user, true, DURATA_SESSIONE)
        .await
    {
        return super::super::da_store(e);
    }
    let _ = ops
        .record_change(user, "POST", "/console/accesso/codice", 200)
        .await;
    con_cookie(
        vai("/console"),
        cookie(&token, DURATA_SESSIONE, s.config.rest.cookie_secure),
    )
}

pub async fn esci(State(s): State<AppState>, headers: HeaderMap) -> Response {
    if let Some(token) = crate::rest::auth::cookie(&headers, COOKIE_SESSIONE) {
        let _ = s.store.operatori().end_session(&digest_hex(token)).await;
    }
    con_cookie(
        vai("/console/accesso"),
        cookie("", Duration::ZERO, s.config.rest.cookie_secure),
    )
}

/// The operator's enti (one: straight to it).
pub async fn home(
    State(_s): State<AppState>,
    axum::Extension(api): axum::Extension<Api>,
    op: Operatore,
) -> Risposta {
    let v = api.leggi(&op, "/api/v1/enti?per_page=500").await?;
    let enti = voci(&v);
    if enti.len() == 1 && !op.persona.intermediario() {
        let id = enti[0]["id_dominio"].as_str().unwrap_or_default();
        return Ok(vai(&format!("/console/enti/{id}")));
    }
    let righe = enti
        .iter()
        .map(|e| {
            let id = e["id_dominio"].as_str().unwrap_or_default();
            vec![
                Cella::Link(
                    testo("denominazione", &e["denominazione"]),
                    format!("/console/enti/{id}"),
                ),
                Cella::Testo(id.into()),
                Cella::Testo(testo("codice_ipa", &e["codice_ipa"])),
            ]
        })
        .collect();
    let mut menu = Vec::new();
    if op.persona.intermediario() {
        menu.push(("/console/ops".into(), "Operazioni".into(), false));
    }
    menu.push(("/console".into(), "Enti".into(), true));
    Ok(render(&Pagina {
        titolo: "I tuoi enti".into(),
        utente: Some(op.persona.nome.clone()),
        ente: String::new(),
        menu,
        aggiorna: 0,
        blocchi: vec![Blocco::Tabella(Tabella {
            didascalia: "Enti su cui lavori".into(),
            colonne: vec!["Ente".into(), "Codice fiscale".into(), "Codice IPA".into()],
            righe,
        })],
    }))
}
