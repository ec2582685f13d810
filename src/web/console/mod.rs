//! The MyPivot console: the ente operators' pages (Visualizzazione, Flussi, Accertamento,
//! Statistiche) and the intermediary's operations page, server-rendered in Italian.
//!
//! Every page is a rendering of the REST API, called in process with the operator's own
//! session ([`Api`]): the same handler, the same checks of ente and role
//! (`rest::auth::ruolo_richiesto`), the same journal of changes. A page can never show or do
//! what the API would refuse its operator, and there is one place to change a rule. The
//! pages add only what people need: forms, tables, a chart, a progress bar.

// A handler's error is the page that says what went wrong: a response, as big as any.
#![allow(clippy::result_large_err)]

mod accesso;
mod contabilita;
mod flussi;
mod ops;
mod viste;

use crate::model::operatore::Ruolo;
use crate::rest::AppState;
use crate::rest::auth::{COOKIE_SESSIONE, Persona, SessioneVerificata};
use askama::Template;
use axum::Router;
use axum::body::Body;
use axum::extract::{DefaultBodyLimit, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde_json::Value;
use std::sync::Arc;
use tower::ServiceExt;

pub fn router(state: &AppState) -> Router<AppState> {
    let api = Api(crate::rest::router(state.clone()));
    Router::new()
        .route("/console", get(accesso::home))
        .route(
            "/console/accesso",
            get(accesso::modulo_accesso).post(accesso::accedi),
        )
        .route(
            "/console/accesso/codice",
            get(accesso::modulo_codice).post(accesso::verifica_codice),
        )
        .route("/console/esci", post(accesso::esci))
        .route("/console/enti/{id}", get(viste::ente))
        .route(
            "/console/enti/{id}/riconciliazione",
            get(viste::riconciliazione),
        )
        .route("/console/enti/{id}/anomalie", get(viste::anomalie))
        .route("/console/enti/{id}/ricevute", get(viste::ricevute))
        .route(
            "/console/enti/{id}/rendicontazione",
            get(viste::rendicontazione),
        )
        .route(
            "/console/enti/{id}/rendicontazione/{iuf}",
            get(viste::flusso),
        )
        .route("/console/enti/{id}/tesoreria", get(viste::tesoreria))
        .route(
            "/console/enti/{id}/segnalazioni",
            get(viste::segnalazioni).post(viste::segnala),
        )
        .route("/console/enti/{id}/flussi", get(flussi::pagina))
        .route(
            "/console/enti/{id}/flussi/tesoreria",
            post(flussi::tesoreria),
        )
        .route("/console/enti/{id}/flussi/ricevute", post(flussi::ricevute))
        .route(
            "/console/enti/{id}/flussi/rendicontazione",
            post(flussi::rendicontazione),
        )
        .route("/console/enti/{id}/flussi/export", post(flussi::prenota))
        .route("/console/enti/{id}/export/{eid}", get(flussi::export))
        .route("/console/enti/{id}/export/{eid}/file", get(flussi::file))
        .route(
            "/console/enti/{id}/accertamenti",
            get(contabilita::accertamenti).post(contabilita::crea),
        )
        .route(
            "/console/enti/{id}/accertamenti/{aid}",
            get(contabilita::accertamento),
        )
        .route(
            "/console/enti/{id}/accertamenti/{aid}/associa",
            post(contabilita::associa),
        )
        .route(
            "/console/enti/{id}/accertamenti/{aid}/rimuovi/{riga}",
            post(contabilita::rimuovi),
        )
        .route(
            "/console/enti/{id}/accertamenti/{aid}/{azione}",
            post(contabilita::cambia_stato),
        )
        .route(
            "/console/enti/{id}/capitoli",
            get(contabilita::capitoli).post(contabilita::crea_capitolo),
        )
        .route(
            "/console/enti/{id}/capitoli/import",
            post(contabilita::importa_capitoli),
        )
        .route(
            "/console/enti/{id}/statistiche",
            get(contabilita::statistiche),
        )
        .route(
            "/console/enti/{id}/statistiche/dettaglio",
            get(contabilita::dettaglio),
        )
        .route(
            "/console/enti/{id}/statistiche.csv",
            get(contabilita::statistiche_csv),
        )
        .route("/console/ops", get(ops::pagina))
        .route("/console/ops/journal/{jid}", get(ops::messaggio))
        .route("/console/ops/outbox/{jid}/retry", post(ops::riprova))
        .route("/console/ops/rt/{rid}/rielabora", post(ops::rielabora))
        .layer(axum::Extension(api))
        // Uploads (giornale di cassa, receipts, flows, the chart) as large as the API takes.
        .layer(DefaultBodyLimit::max(
            state.config.rest.body_limit_bytes + 64 * 1024,
        ))
}

/// The REST API, called in process.
#[derive(Clone)]
pub(super) struct Api(Router);

/// What the API refused, as a page shows it.
#[derive(Debug)]
pub(super) struct Rifiuto {
    pub status: StatusCode,
    pub messaggio: String,
}

impl Api {
    /// Calls the API as the operator signed in for this page.
    pub async fn chiama(
        &self,
        op: &Operatore,
        metodo: Method,
        uri: &str,
        tipo: Option<&str>,
        body: Body,
    ) -> Response {
        // The operator this page already signed in, and the browser's origin headers: the
        // API's checks (roles, enti, cross-site) apply as to a direct call.
        let mut req = axum::http::Request::builder()
            .method(metodo)
            .uri(uri)
            .extension(SessioneVerificata(op.persona.clone()));
        for h in [header::HOST, header::ORIGIN, header::USER_AGENT] {
            if let Some(v) = op.headers.get(&h) {
                req = req.header(h, v);
            }
        }
        if let Some(v) = op.headers.get("sec-fetch-site") {
            req = req.header("sec-fetch-site", v);
        }
        if let Some(t) = tipo {
            req = req.header(header::CONTENT_TYPE, t);
        }
        let Ok(req) = req.body(body) else {
            return StatusCode::BAD_REQUEST.into_response();
        };
        match self.0.clone().oneshot(req).await {
            Ok(r) => r,
            Err(never) => match never {},
        }
    }

    /// A JSON call: the answer's JSON, or what the API refused and why.
    pub async fn json(
        &self,
        op: &Operatore,
        metodo: Method,
        uri: &str,
        body: Option<Value>,
    ) -> Result<Value, Rifiuto> {
        let (tipo, b) = match body {
            Some(v) => (Some("application/json"), Body::from(v.to_string())),
            None => (None, Body::empty()),
        };
        let r = self.chiama(op, metodo, uri, tipo, b).await;
        leggi(r).await
    }

    pub async fn get(&self, op: &Operatore, uri: &str) -> Result<Value, Rifiuto> {
        self.json(op, Method::GET, uri, None).await
    }

    /// A read whose refusal is the page's answer.
    pub async fn leggi(&self, op: &Operatore, uri: &str) -> Result<Value, Response> {
        self.get(op, uri).await.map_err(|r| rifiutato(op, r))
    }

    /// A change whose refusal is the page's answer.
    pub async fn invia(
        &self,
        op: &Operatore,
        metodo: Method,
        uri: &str,
        body: Option<Value>,
    ) -> Result<Value, Response> {
        self.json(op, metodo, uri, body)
            .await
            .map_err(|r| rifiutato(op, r))
    }
}

impl Api {
    /// A file of the API handed to the browser as it streams, as a download named
    /// `nome` (names made of ids and fixed words: no quoting needed).
    pub async fn scarica(&self, op: &Operatore, uri: &str, nome: &str) -> Risposta {
        let mut r = self.chiama(op, Method::GET, uri, None, Body::empty()).await;
        if !r.status().is_success() {
            return Err(match leggi(r).await {
                Ok(_) => errore(&Some(op), StatusCode::BAD_GATEWAY, "Risposta inattesa."),
                Err(e) => rifiutato(op, e),
            });
        }
        if let Ok(v) =
            axum::http::HeaderValue::from_str(&format!("attachment; filename=\"{nome}\""))
        {
            r.headers_mut().insert(header::CONTENT_DISPOSITION, v);
        }
        Ok(r)
    }
}

/// A page, or the page that says why not (refused, not found, not allowed).
pub(super) type Risposta = Result<Response, Response>;

/// Reads an API answer: its JSON when it succeeded, else the problem's detail.
pub(super) async fn leggi(r: Response) -> Result<Value, Rifiuto> {
    let status = r.status();
    // The API's own body limit already bounds what it answers with.
    let bytes = axum::body::to_bytes(r.into_body(), 256 * 1024 * 1024)
        .await
        .unwrap_or_default();
    let v: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    if status.is_success() {
        return Ok(v);
    }
    let messaggio = v["detail"]
        .as_str()
        .or(v["title"].as_str())
        .unwrap_or("richiesta non riuscita")
        .to_owned();
    Err(Rifiuto { status, messaggio })
}

/// The signed-in operator of a page (password and one-time code given). Without one the
/// page sends to the sign-in form.
pub(super) struct Operatore {
    pub persona: Arc<Persona>,
    pub headers: HeaderMap,
}

impl FromRequestParts<AppState> for Operatore {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, s: &AppState) -> Result<Self, Response> {
        match crate::rest::auth::persona(s, &parts.headers).await {
            Ok(Some(persona)) => Ok(Operatore {
                persona: Arc::new(persona),
                headers: parts.headers.clone(),
            }),
            Ok(None) => Err(Redirect::to("/console/accesso").into_response()),
            Err(_) => Err(errore(
                &None,
                StatusCode::SERVICE_UNAVAILABLE,
                "Servizio momentaneamente non disponibile",
            )),
        }
    }
}

impl Operatore {
    /// The page's role: refused with 403 (the API would refuse it too).
    pub fn richiede(&self, r: Ruolo) -> Result<(), Response> {
        if self.persona.ruoli.ha(r) {
            Ok(())
        } else {
            Err(errore(
                &Some(self),
                StatusCode::FORBIDDEN,
                &format!(
                    "Accesso non consentito: questa pagina richiede il ruolo {}.",
                    r.etichetta()
                ),
            ))
        }
    }

    /// An ente of the operator's; any other is "not found", as on the API.
    pub fn ente(&self, id: &str) -> Result<(), Response> {
        if self.persona.vede(id) {
            Ok(())
        } else {
            Err(errore(
                &Some(self),
                StatusCode::NOT_FOUND,
                "Pagina non trovata.",
            ))
        }
    }
}

// ---- what a page is made of ----

#[derive(Template)]
#[template(path = "console/pagina.html")]
pub(super) struct Pagina {
    pub titolo: String,
    pub utente: Option<String>,
    /// The ente's name in the header.
    pub ente: String,
    pub menu: Vec<(String, String, bool)>,
    /// While work is in progress (a booked export), the seconds between refreshes of the
    /// page's content in place (`web/static/console/aggiorna.js`); 0: the work is over.
    pub aggiorna: u32,
    pub blocchi: Vec<Blocco>,
}

pub(super) enum Blocco {
    Sezione(String),
    Testo(String),
    /// (Bootstrap alert kind, text).
    Avviso(&'static str, String),
    Codice(String),
    /// (href, text, current).
    Collegamenti(Vec<(String, String, bool)>),
    Dati(Vec<(String, String)>),
    Modulo(Modulo),
    /// (value, max, label); max 0: indeterminate.
    Progresso(i64, i64, String),
    Grafico(Grafico),
    Tabella(Tabella),
}

pub(super) struct Tabella {
    pub didascalia: String,
    pub colonne: Vec<String>,
    pub righe: Vec<Vec<Cella>>,
}

pub(super) enum Cella {
    Testo(String),
    Link(String, String),
    Modulo(Modulo),
}

pub(super) struct Modulo {
    /// Unique on the page: fields' ids are `<id>-<name>`.
    pub id: String,
    pub azione: String,
    pub metodo: &'static str,
    pub multipart: bool,
    pub in_linea: bool,
    /// Fields three to a row (the filters of a view).
    pub griglia: bool,
    pub campi: Vec<Campo>,
    pub invio: String,
}

impl Modulo {
    pub fn post(id: impl Into<String>, azione: impl Into<String>, invio: &str) -> Self {
        Modulo {
            id: id.into(),
            azione: azione.into(),
            metodo: "post",
            multipart: false,
            in_linea: false,
            griglia: false,
            campi: Vec::new(),
            invio: invio.into(),
        }
    }
    pub fn get(id: impl Into<String>, azione: impl Into<String>, invio: &str) -> Self {
        Modulo {
            metodo: "get",
            griglia: true,
            ..Modulo::post(id, azione, invio)
        }
    }
    pub fn campo(mut self, c: Campo) -> Self {
        if c.tipo.html() == "file" {
            self.multipart = true;
        }
        self.campi.push(c);
        self
    }
    pub fn in_linea(mut self) -> Self {
        self.in_linea = true;
        self
    }
}

pub(super) struct Campo {
    pub nome: String,
    pub etichetta: String,
    pub tipo: Tipo,
    pub valore: String,
    pub richiesto: bool,
    /// The HTML `autocomplete` token (empty: none).
    pub autocompleta: &'static str,
}

pub(super) enum Tipo {
    Testo,
    Numero,
    Data,
    Password,
    File,
    Nascosto,
    Casella,
    /// (value, text) options.
    Scelta(Vec<(String, String)>),
}

impl Tipo {
    pub fn html(&self) -> &'static str {
        match self {
            Tipo::Testo => "text",
            Tipo::Numero => "number",
            Tipo::Data => "date",
            Tipo::Password => "password",
            Tipo::File => "file",
            Tipo::Nascosto => "hidden",
            Tipo::Casella => "checkbox",
            Tipo::Scelta(_) => "select",
        }
    }
}

impl Campo {
    pub fn new(nome: &str, etichetta: &str, tipo: Tipo) -> Self {
        Campo {
            nome: nome.into(),
            etichetta: etichetta.into(),
            tipo,
            valore: String::new(),
            richiesto: false,
            autocompleta: "",
        }
    }
    pub fn autocompleta(mut self, token: &'static str) -> Self {
        self.autocompleta = token;
        self
    }
    pub fn valore(mut self, v: impl Into<String>) -> Self {
        self.valore = v.into();
        self
    }
    pub fn richiesto(mut self) -> Self {
        self.richiesto = true;
        self
    }
    pub fn nascosto(nome: &str, v: impl Into<String>) -> Self {
        Campo::new(nome, nome, Tipo::Nascosto).valore(v)
    }
}

pub(super) struct Grafico {
    pub titolo: String,
    pub larghezza: i64,
    pub altezza: i64,
    pub barre: Vec<Barra>,
}

pub(super) struct Barra {
    pub etichetta: String,
    pub valore: String,
    pub link: String,
    pub x: i64,
    pub y: i64,
    pub w: i64,
    pub h: i64,
    /// The label's centre.
    pub tx: i64,
}

impl Grafico {
    /// Bars scaled to the largest value; each links to what makes it up.
    pub fn barre(titolo: String, dati: Vec<(String, i64, String, String)>) -> Grafico {
        let (altezza, passo) = (240, 64);
        let max = dati.iter().map(|d| d.1).max().unwrap_or(0).max(1);
        let barre = dati
            .into_iter()
            .enumerate()
            .map(|(i, (etichetta, v, valore, link))| {
                let h = (v * (altezza - 24) / max).max(if v > 0 { 2 } else { 0 });
                let x = 48 + i as i64 * passo;
                Barra {
                    etichetta,
                    valore,
                    link,
                    x,
                    y: altezza - h,
                    w: passo - 16,
                    h,
                    tx: x + (passo - 16) / 2,
                }
            })
            .collect::<Vec<_>>();
        Grafico {
            titolo,
            larghezza: 48 + (barre.len() as i64).max(4) * passo,
            altezza,
            barre,
        }
    }
}

/// The menus an operator sees on an ente's pages, by role.
pub(super) fn menu(op: &Operatore, ente: &str, attiva: &str) -> Vec<(String, String, bool)> {
    let r = op.persona.ruoli;
    let mut m = Vec::new();
    let mut voce = |ruolo: Ruolo, href: String, t: &str| {
        if r.ha(ruolo) {
            m.push((href, t.to_owned(), t == attiva));
        }
    };
    voce(
        Ruolo::Visualizzazione,
        format!("/console/enti/{ente}/riconciliazione"),
        "Visualizzazione",
    );
    voce(
        Ruolo::Amministrazione,
        format!("/console/enti/{ente}/flussi"),
        "Flussi",
    );
    voce(
        Ruolo::Accertamenti,
        format!("/console/enti/{ente}/accertamenti"),
        "Accertamento",
    );
    voce(
        Ruolo::Statistiche,
        format!("/console/enti/{ente}/statistiche"),
        "Statistiche",
    );
    voce(Ruolo::Intermediario, "/console/ops".into(), "Operazioni");
    if op.persona.enti.len() > 1 || op.persona.intermediario() {
        m.push(("/console".into(), "Enti".into(), attiva == "Enti"));
    }
    m
}

/// A page of an ente: its name in the header, the menus, the blocks.
pub(super) async fn pagina_ente(
    api: &Api,
    op: &Operatore,
    ente: &str,
    attiva: &str,
    titolo: &str,
    blocchi: Vec<Blocco>,
) -> Response {
    pagina_ente_aggiornata(api, op, ente, attiva, titolo, blocchi, 0).await
}

/// As [`pagina_ente`], its content refreshed in place every `aggiorna` seconds while the
/// work it shows goes on (0: never).
pub(super) async fn pagina_ente_aggiornata(
    api: &Api,
    op: &Operatore,
    ente: &str,
    attiva: &str,
    titolo: &str,
    blocchi: Vec<Blocco>,
    aggiorna: u32,
) -> Response {
    let nome = api
        .get(op, &format!("/api/v1/enti/{ente}"))
        .await
        .ok()
        .and_then(|v| v["denominazione"].as_str().map(str::to_owned))
        .unwrap_or_else(|| ente.to_owned());
    render(&Pagina {
        titolo: titolo.into(),
        utente: Some(op.persona.nome.clone()),
        ente: nome,
        menu: menu(op, ente, attiva),
        aggiorna,
        blocchi,
    })
}

pub(super) fn render(t: &Pagina) -> Response {
    match t.render() {
        Ok(html) => Html(html).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "console page not rendered");
            (StatusCode::INTERNAL_SERVER_ERROR, "errore interno").into_response()
        }
    }
}

pub(super) fn errore(op: &Option<&Operatore>, status: StatusCode, messaggio: &str) -> Response {
    let titolo = match status {
        StatusCode::FORBIDDEN => "Accesso non consentito",
        StatusCode::NOT_FOUND => "Pagina non trovata",
        s if s.is_client_error() => "Richiesta non valida",
        _ => "Si è verificato un errore",
    };
    let mut r = render(&Pagina {
        titolo: titolo.into(),
        utente: op.map(|o| o.persona.nome.clone()),
        ente: String::new(),
        menu: op.map_or_else(Vec::new, |_| {
            vec![("/console".into(), "Enti".into(), false)]
        }),
        aggiorna: 0,
        blocchi: vec![Blocco::Avviso("danger", messaggio.into())],
    });
    *r.status_mut() = status;
    r
}

/// What the API refused, as a page.
pub(super) fn rifiutato(op: &Operatore, r: Rifiuto) -> Response {
    errore(&Some(op), r.status, &r.messaggio)
}

// ---- formatting the API's JSON for people ----

/// A JSON value as a cell's text: amounts in cents as `1.234,56 €`, dates as
/// `31/12/2026`, booleans as Sì/No, lists joined.
pub(super) fn testo(chiave: &str, v: &Value) -> String {
    match v {
        Value::Null => "—".into(),
        Value::Bool(b) => if *b { "Sì" } else { "No" }.into(),
        Value::Number(n) if chiave.ends_with("_cents") => {
            n.as_i64().map_or_else(|| n.to_string(), euro)
        }
        Value::Number(n) => n.to_string(),
        Value::String(s) => data(s).unwrap_or_else(|| s.clone()),
        Value::Array(a) => a
            .iter()
            .map(|x| testo(chiave, x))
            .collect::<Vec<_>>()
            .join(", "),
        Value::Object(_) => v.to_string(),
    }
}

pub(super) fn euro(cents: i64) -> String {
    let segno = if cents < 0 { "-" } else { "" };
    let c = cents.unsigned_abs();
    let interi = (c / 100).to_string();
    let mut gruppi = String::new();
    for (i, ch) in interi.chars().enumerate() {
        if i > 0 && (interi.len() - i).is_multiple_of(3) {
            gruppi.push('.');
        }
        gruppi.push(ch);
    }
    format!("{segno}{gruppi},{:02} €", c % 100)
}

/// `2026-12-31` (or an RFC 3339 instant) as Italians write it.
fn data(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let iso = b.len() >= 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b[..4].iter().all(u8::is_ascii_digit)
        && (b.len() == 10 || b[10] == b'T');
    if !iso {
        return None;
    }
    let (y, m, d) = (&s[..4], &s[5..7], &s[8..10]);
    // `THH:MM` only when it is there as digits (a note may look like a date and go on).
    let ora = s
        .get(11..16)
        .filter(|h| {
            let h = h.as_bytes();
            h[2] == b':' && [h[0], h[1], h[3], h[4]].iter().all(u8::is_ascii_digit)
        })
        .map(|h| format!(" {h}"));
    Some(format!("{d}/{m}/{y}{}", ora.unwrap_or_default()))
}

/// The rows of a list answer (`items` of a page, or the array itself).
pub(super) fn voci(v: &Value) -> &[Value] {
    v["items"]
        .as_array()
        .or(v.as_array())
        .map_or(&[], Vec::as_slice)
}

/// A table of JSON objects with the given (key, heading) columns.
pub(super) fn tabella(didascalia: &str, righe: &[Value], colonne: &[(&str, &str)]) -> Tabella {
    Tabella {
        didascalia: didascalia.into(),
        colonne: colonne.iter().map(|(_, t)| (*t).to_owned()).collect(),
        righe: righe
            .iter()
            .map(|r| {
                colonne
                    .iter()
                    .map(|(k, _)| Cella::Testo(testo(k, &r[*k])))
                    .collect()
            })
            .collect(),
    }
}

impl Tabella {
    /// A last column with a form on each line (a note, a retry, a booking), made from the
    /// line's JSON.
    pub fn con_azione(
        mut self,
        titolo: &str,
        righe: &[Value],
        modulo: impl Fn(usize, &Value) -> Option<Modulo>,
    ) -> Tabella {
        self.colonne.push(titolo.into());
        for (i, (r, celle)) in righe.iter().zip(self.righe.iter_mut()).enumerate() {
            celle.push(match modulo(i, r) {
                Some(m) => Cella::Modulo(m),
                None => Cella::Testo("—".into()),
            });
        }
        self
    }
}

/// Percent-encodes a query value.
pub(super) fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A query string of the non-empty pairs.
pub(super) fn query(coppie: &[(String, String)]) -> String {
    coppie
        .iter()
        .filter(|(_, v)| !v.trim().is_empty())
        .map(|(k, v)| format!("{}={}", enc(k), enc(v.trim())))
        .collect::<Vec<_>>()
        .join("&")
}

/// A form's value by name.
pub(super) fn campo<'a>(coppie: &'a [(String, String)], nome: &str) -> &'a str {
    coppie
        .iter()
        .find(|(k, _)| k == nome)
        .map_or("", |(_, v)| v.as_str())
}

/// Previous and next page links, keeping the filters.
pub(super) fn paginazione(
    base: &str,
    filtri: &[(String, String)],
    pagina: u32,
    totale: i64,
    per_pagina: u32,
) -> Option<Blocco> {
    let pagine = ((totale.max(0) as u64).div_ceil(per_pagina as u64)).max(1) as u32;
    if pagine <= 1 {
        return None;
    }
    collegamenti_pagine(base, filtri, pagina, Some(pagine), pagina < pagine)
}

/// Previous and next page links of a result whose total is not known (only that it is
/// more than a page can tell): "Pagina N", the next one offered while pages come full.
pub(super) fn paginazione_aperta(
    base: &str,
    filtri: &[(String, String)],
    pagina: u32,
    pagina_piena: bool,
) -> Option<Blocco> {
    collegamenti_pagine(base, filtri, pagina, None, pagina_piena)
}

fn collegamenti_pagine(
    base: &str,
    filtri: &[(String, String)],
    pagina: u32,
    pagine: Option<u32>,
    successiva: bool,
) -> Option<Blocco> {
    let link = |p: u32| {
        let mut f: Vec<_> = filtri
            .iter()
            .filter(|(k, _)| k != "page")
            .cloned()
            .collect();
        f.push(("page".into(), p.to_string()));
        format!("{base}?{}", query(&f))
    };
    let mut v = Vec::new();
    if pagina > 1 {
        v.push((link(pagina - 1), "Pagina precedente".into(), false));
    }
    let questa = match pagine {
        Some(n) => format!("Pagina {pagina} di {n}"),
        None => format!("Pagina {pagina}"),
    };
    v.push((link(pagina), questa, true));
    if successiva {
        v.push((link(pagina + 1), "Pagina successiva".into(), false));
    }
    Some(Blocco::Collegamenti(v))
}

/// Sends the browser on after a form (303: the reload does not post again).
pub(super) fn vai(uri: &str) -> Response {
    Redirect::to(uri).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_and_dates_as_people_read_them() {
        assert_eq!(euro(123456), "1.234,56 €");
        assert_eq!(euro(5), "0,05 €");
        assert_eq!(euro(-100000000), "-1.000.000,00 €");
        assert_eq!(testo("importo_pagato_cents", &Value::from(1999)), "19,99 €");
        assert_eq!(
            testo("data_esito", &Value::from("2026-12-03")),
            "03/12/2026"
        );
        assert_eq!(
            testo("created_at", &Value::from("2026-12-03T10:15:00Z")),
            "03/12/2026 10:15"
        );
        assert_eq!(testo("x", &Value::from("2026X")), "2026X");
        // Looks like a date and goes on: no time read from it, no panic on a multi-byte
        // character where the time would be.
        assert_eq!(
            testo("nota", &Value::from("2026-01-01Tciaoè…")),
            "01/01/2026"
        );
        assert_eq!(testo("x", &Value::Null), "—");
    }

    #[test]
    fn queries_keep_only_what_was_filled() {
        let q = query(&[("iuv".into(), "RF 1&2".into()), ("iud".into(), " ".into())]);
        assert_eq!(q, "iuv=RF%201%262");
    }
}
