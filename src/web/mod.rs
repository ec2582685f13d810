//! The Portale Pagamenti: the citizens' web pages, server-rendered in Italian with the
//! design system of Italian public services (Bootstrap Italia, vendored under
//! `web/static/` and embedded in the binary). Pay a notice found by its code and the
//! payer's fiscal code (its amount of today, the late fee and interest explained), an
//! ente's page with its contacts and spontaneous payments, a cart of up to five, the
//! outcome page that refreshes itself until the receipt comes, the receipt (HTML, PDF),
//! the notice as a PDF, the personal area with the portal's identity (the signed JWT, from
//! the `portale_token` cookie or a bearer header), the guide, privacy and cookie pages.
//! The rules are the payment services' (`pagamenti`), as for the REST API.

// A handler's error is the page that says what went wrong: a response, as big as any.
#![allow(clippy::result_large_err)]

mod acquisti;
mod carrello;
mod console;
mod pagine;
mod pdf_ricevuta;

use crate::model::scadenza::Componente;
use crate::pagamenti::portale::{self, AvvisoTrovato, ErrorePortale, StatoAvviso};
use crate::pagamenti::{CarrelloError, DaPagare, RichiestaCarrello};
use crate::rest::AppState;
use crate::rest::limite::Client;
use acquisti::*;
use askama::Template;
use axum::Router;
use axum::extract::{DefaultBodyLimit, Form, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use carrello::{Chiave, Voce};
use serde::Deserialize;

mod statici {
    include!(concat!(env!("OUT_DIR"), "/statici.rs"));
}

/// Forms are a few fields; nothing bigger is read.
const BODY_LIMIT: usize = 16 * 1024;

pub fn router(state: AppState) -> Router {
    let chiave = Chiave::da(&state.admin_token_digest, state.config.rest.cookie_secure);
    Router::new()
        .route("/", get(|| async { Redirect::to("/portale") }))
        .route("/static/{*path}", get(statico))
        .route("/portale", get(home))
        .route("/portale/avviso", get(avviso))
        .route("/portale/avviso.pdf", get(avviso_pdf))
        .route("/portale/avviso/paga", post(paga_avviso))
        .route("/portale/enti", get(enti))
        .route("/portale/enti/{id}", get(ente))
        .route("/portale/enti/{id}/spontaneo", post(spontaneo))
        .route("/portale/carrello", get(vedi_carrello))
        .route("/portale/carrello/aggiungi", post(aggiungi))
        .route("/portale/carrello/rimuovi", post(rimuovi))
        .route("/portale/carrello/paga", post(paga_carrello))
        .route("/portale/esito", get(esito))
        .route("/portale/ricevuta", get(ricevuta))
        .route("/portale/ricevuta.pdf", get(ricevuta_pdf))
        .route("/portale/area", get(area))
        .route(
            "/portale/info",
            get(|| async { testo("Guida al pagamento e domande frequenti", pagine::INFO) }),
        )
        .route(
            "/portale/privacy",
            get(|| async {
                testo(
                    "Informativa sul trattamento dei dati personali",
                    pagine::PRIVACY,
                )
            }),
        )
        .route(
            "/portale/cookie",
            get(|| async { testo("Cookie", pagine::COOKIE) }),
        )
        .layer(axum::Extension(chiave))
        .merge(console::router(&state))
        // As for the REST API: a bug costs one request a page, a client that goes away
        // never cuts a statement mid-flight, a control character never reaches the
        // database; plus what a browser needs (no caching of personal pages, no framing,
        // no cross-site form posts).
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(
            |_: Box<dyn std::any::Any + Send>| {
                tracing::error!("panic while rendering a portal page");
                errore(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Si è verificato un errore",
                    "L'errore è stato registrato. Riprova più tardi.",
                )
            },
        ))
        .layer(axum::middleware::from_fn(run_to_end))
        .layer(axum::middleware::from_fn(difesa))
        .layer(axum::middleware::from_fn(
            crate::http_observe::record_metrics,
        ))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(
            tower_http::trace::TraceLayer::new_for_http()
                .make_span_with(crate::http_observe::request_span)
                .on_request(()),
        )
        .layer(tower_http::request_id::PropagateRequestIdLayer::new(
            header::HeaderName::from_static("x-request-id"),
        ))
        .layer(tower_http::request_id::SetRequestIdLayer::new(
            header::HeaderName::from_static("x-request-id"),
            tower_http::request_id::MakeRequestUuid,
        ))
        .with_state(state)
}

/// See `rest::run_to_end`: sqlx's PostgreSQL statements are not cancel-safe.
async fn run_to_end(req: axum::extract::Request, next: axum::middleware::Next) -> Response {
    crate::supervise::to_the_end(next.run(req))
        .await
        .unwrap_or_else(|| {
            errore(
                StatusCode::SERVICE_UNAVAILABLE,
                "Servizio in arresto",
                "Riprova tra qualche minuto.",
            )
        })
}

/// The browser's side of safety: a form posted from another site is refused (the
/// `Sec-Fetch-Site` header, or an `Origin` that is not this host), a control character in
/// the address gets a 400 page, and pages carry headers that keep them out of caches and
/// frames.
async fn difesa(req: axum::extract::Request, next: axum::middleware::Next) -> Response {
    if crate::http_observe::control_characters(req.uri()) {
        return errore(
            StatusCode::BAD_REQUEST,
            "Indirizzo non valido",
            "L'indirizzo contiene caratteri non ammessi.",
        );
    }
    if req.method() == axum::http::Method::POST && crate::rest::auth::cross_site(req.headers()) {
        return errore(
            StatusCode::FORBIDDEN,
            "Richiesta non ammessa",
            "Il modulo è stato inviato da un altro sito.",
        );
    }
    let statico = req.uri().path().starts_with("/static/");
    let mut r = next.run(req).await;
    let h = r.headers_mut();
    if !statico {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    r
}

/// A page, or a page saying what went wrong, with its status.
type Pagina = Result<Response, Response>;

fn render(t: &impl Template) -> Response {
    match t.render() {
        Ok(html) => Html(html).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "page not rendered");
            (StatusCode::INTERNAL_SERVER_ERROR, "errore interno").into_response()
        }
    }
}

fn errore(status: StatusCode, titolo: &'static str, messaggio: impl Into<String>) -> Response {
    let mut r = render(&pagine::Errore {
        titolo,
        messaggio: messaggio.into(),
    });
    *r.status_mut() = status;
    r
}

fn da_store(e: crate::store::StoreError) -> Response {
    if e.is_unavailable() {
        return errore(
            StatusCode::SERVICE_UNAVAILABLE,
            "Servizio momentaneamente non disponibile",
            "Riprova tra qualche minuto.",
        );
    }
    if matches!(e, crate::store::StoreError::NotFound) {
        return errore(
            StatusCode::NOT_FOUND,
            "Pagina non trovata",
            "Quello che cerchi non c'è.",
        );
    }
    tracing::error!(error = %e, "portal page failed");
    errore(
        StatusCode::INTERNAL_SERVER_ERROR,
        "Si è verificato un errore",
        "L'errore è stato registrato. Riprova più tardi.",
    )
}

fn limite(s: &AppState, l: &crate::rest::limite::Limiter, c: &Client) -> Result<(), Response> {
    if l.allow(c.0) {
        return Ok(());
    }
    Err(errore(
        StatusCode::TOO_MANY_REQUESTS,
        "Troppe richieste",
        format!(
            "Hai fatto troppe ricerche in poco tempo (al massimo {} al minuto): riprova tra un minuto.",
            s.config.rest.lookups_per_minute
        ),
    ))
}

fn testo(titolo: &'static str, sezioni: &'static [(&'static str, &'static str)]) -> Response {
    render(&pagine::Testo { titolo, sezioni })
}

async fn statico(Path(path): Path<String>) -> Response {
    let Some((_, bytes)) = statici::STATICI.iter().find(|(p, _)| *p == path) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let tipo = match path.rsplit('.').next() {
        Some("css") => "text/css; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("woff2") => "font/woff2",
        Some("woff") => "font/woff",
        Some("ttf") => "font/ttf",
        Some("png") => "image/png",
        _ => "application/octet-stream",
    };
    (
        [
            (header::CONTENT_TYPE, tipo),
            (header::CACHE_CONTROL, "public, max-age=86400"),
        ],
        *bytes,
    )
        .into_response()
}

async fn elenco_enti(s: &AppState, q: Option<String>) -> Result<Vec<(String, String)>, Response> {
    let f = crate::store::EntiFilter {
        q,
        attivo: Some(true),
        ..Default::default()
    };
    let (enti, _) = s
        .store
        .registro()
        .search_enti(&f, 500, 0)
        .await
        .map_err(da_store)?;
    Ok(enti
        .into_iter()
        .map(|e| (e.id_dominio.to_string(), e.denominazione))
        .collect())
}

async fn home(State(s): State<AppState>) -> Pagina {
    Ok(render(&pagine::Home {
        enti: elenco_enti(&s, None).await?,
        scelta: String::new(),
        numero: String::new(),
        cf: String::new(),
        errore: None,
    }))
}

#[derive(Deserialize)]
struct CercaAvviso {
    id_dominio: String,
    numero_avviso: String,
    codice_fiscale: String,
}

fn data_it(d: Option<time::Date>) -> String {
    d.map_or_else(
        || "nessuna".to_owned(),
        |d| format!("{:02}/{:02}/{}", d.day(), u8::from(d.month()), d.year()),
    )
}

fn q(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn link_ricevuta(dom: &str, iuv: &str, cf: &str) -> String {
    format!(
        "/portale/ricevuta?id_dominio={}&iuv={}&codice_fiscale={}",
        q(dom),
        q(iuv),
        q(cf)
    )
}

fn vista(a: &AvvisoTrovato, cf: &str) -> pagine::VistaAvviso {
    let d = &a.dovuto;
    let numero = d
        .numero_avviso
        .as_ref()
        .map(|n| n.to_string())
        .unwrap_or_else(|| d.iuv.to_string());
    pagine::VistaAvviso {
        id_dominio: d.id_dominio.to_string(),
        ente: a.ente.denominazione.clone(),
        iuv: d.iuv.to_string(),
        numero: numero.clone(),
        causale: d.causale.clone(),
        pagatore: d.pagatore.anagrafica.clone(),
        cf: cf.to_owned(),
        scadenza: data_it(d.data_scadenza),
        importo: a.importo.italiano(),
        importo_originale: d.importo.italiano(),
        componenti: a
            .componenti
            .iter()
            .map(|c: &Componente| (c.descrizione.to_owned(), c.importo.italiano()))
            .collect(),
        stato: testo_stato(a.stato),
        pagabile: a.stato == StatoAvviso::Pagabile,
        pagato: a.stato == StatoAvviso::Pagato,
        pdf: format!(
            "/portale/avviso.pdf?id_dominio={}&numero_avviso={}&codice_fiscale={}",
            q(d.id_dominio.as_ref()),
            q(&numero),
            q(cf)
        ),
        ricevuta: link_ricevuta(d.id_dominio.as_ref(), d.iuv.as_ref(), cf),
    }
}

/// A notice's state as the payer reads it.
pub(super) fn testo_stato(s: StatoAvviso) -> &'static str {
    match s {
        StatoAvviso::Pagabile => "Da pagare",
        StatoAvviso::Scaduto => "Scaduto: non più pagabile",
        StatoAvviso::Pagato => "Pagato",
        StatoAvviso::InCorso => "Pagamento in corso",
        StatoAvviso::Annullato => "Annullato",
    }
}

async fn trova(
    s: &AppState,
    c: &Client,
    dom: &str,
    numero: &str,
    cf: &str,
) -> Result<AvvisoTrovato, (StatusCode, String)> {
    if !s.limiti.ricerche.allow(c.0) {
        return Err((
            StatusCode::TOO_MANY_REQUESTS,
            "Troppe ricerche in poco tempo: riprova tra un minuto.".into(),
        ));
    }
    let (numero, iuv) = if numero.trim().chars().filter(char::is_ascii_digit).count() == 18 {
        (Some(numero), None)
    } else {
        (None, Some(numero))
    };
    let now = time::OffsetDateTime::now_utc();
    portale::cerca_avviso(&s.store, &s.cache, dom, numero, iuv, cf, now)
        .await
        .map_err(|e| match e {
            ErrorePortale::Store(e) if e.is_unavailable() => (
                StatusCode::SERVICE_UNAVAILABLE,
                "Servizio momentaneamente non disponibile: riprova tra qualche minuto.".into(),
            ),
            ErrorePortale::Store(e) => {
                tracing::error!(error = %e, "notice lookup failed");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Si è verificato un errore.".into(),
                )
            }
            ErrorePortale::Validazione(m) => (StatusCode::UNPROCESSABLE_ENTITY, m),
            other => (
                StatusCode::NOT_FOUND,
                format!(
                    "{}: controlla i dati inseriti.",
                    capitalize(&other.to_string())
                ),
            ),
        })
}

fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map_or_else(String::new, |f| f.to_uppercase().chain(c).collect())
}

async fn avviso(State(s): State<AppState>, c: Client, Query(f): Query<CercaAvviso>) -> Pagina {
    match trova(&s, &c, &f.id_dominio, &f.numero_avviso, &f.codice_fiscale).await {
        Ok(a) => Ok(render(&pagine::Avviso {
            a: vista(&a, &f.codice_fiscale.trim().to_uppercase()),
        })),
        Err((status, m)) => {
            let mut r = render(&pagine::Home {
                enti: elenco_enti(&s, None).await?,
                scelta: f.id_dominio,
                numero: f.numero_avviso,
                cf: f.codice_fiscale,
                errore: Some(m),
            });
            *r.status_mut() = status;
            Ok(r)
        }
    }
}

async fn avviso_pdf(State(s): State<AppState>, c: Client, Query(f): Query<CercaAvviso>) -> Pagina {
    let a = trova(&s, &c, &f.id_dominio, &f.numero_avviso, &f.codice_fiscale)
        .await
        .map_err(|(st, m)| errore(st, "Avviso non disponibile", m))?;
    let tipo = s
        .store
        .registro()
        .get_tipo_dovuto(&f.id_dominio, &a.dovuto.tipo_dovuto)
        .await
        .map_err(da_store)?;
    let Some(dati) = crate::avviso::DatiAvviso::di(&a.ente, &a.dovuto, Some(&tipo.iban)) else {
        return Err(errore(
            StatusCode::NOT_FOUND,
            "Avviso non disponibile",
            "Questo pagamento non ha un codice avviso.",
        ));
    };
    Ok(pdf_response(
        crate::avviso::pdf(&[dati]),
        &format!("avviso-{}.pdf", a.dovuto.iuv),
    ))
}

fn pdf_response(bytes: Vec<u8>, nome: &str) -> Response {
    let disp = format!("inline; filename=\"{nome}\"");
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/pdf"),
            ),
            (
                header::CONTENT_DISPOSITION,
                HeaderValue::from_str(&disp).unwrap_or(HeaderValue::from_static("inline")),
            ),
        ],
        bytes,
    )
        .into_response()
}

#[derive(Deserialize)]
struct PagaAvviso {
    id_dominio: String,
    iuv: String,
    codice_fiscale: String,
    email: String,
}

async fn paga_avviso(State(s): State<AppState>, c: Client, Form(f): Form<PagaAvviso>) -> Pagina {
    limite(&s, &s.limiti.carrelli, &c)?;
    let email = portale::email_per_ricevuta(&f.email)
        .map_err(|m| errore(StatusCode::UNPROCESSABLE_ENTITY, "Dati non validi", m))?;
    let voce = verificata(&s, &c, f.id_dominio, f.iuv, &f.codice_fiscale).await?;
    paga(&s, &[voce], email, false).await
}

/// A dovuto the payer may put in a cart or pay: found by ente, IUV and the fiscal code they
/// typed (a lookup, counted against `rest.lookups_per_minute` like any other), so neither
/// the cart nor a payment can be used to probe notices.
pub(super) async fn verificata(
    s: &AppState,
    c: &Client,
    id_dominio: String,
    iuv: String,
    cf: &str,
) -> Result<Voce, Response> {
    let cf = cf.trim().to_uppercase();
    match trova(s, c, &id_dominio, &iuv, &cf).await {
        Ok(a) if a.dovuto.iuv.as_ref() == iuv.as_str() => Ok(Voce {
            id_dominio,
            iuv,
            codice_fiscale: cf,
        }),
        Ok(_) => Err(errore(
            StatusCode::NOT_FOUND,
            "Avviso non trovato",
            "Controlla i dati inseriti.",
        )),
        Err((status, m)) => Err(errore(status, "Avviso non trovato", m)),
    }
}

/// Sends the cart and takes the payer to pagoPA's page (or to the outcome page while the
/// send is being retried).
async fn paga(s: &AppState, voci: &[Voce], email: String, dal_carrello: bool) -> Pagina {
    let req = RichiestaCarrello {
        dovuti: voci
            .iter()
            .map(|v| DaPagare {
                id_dominio: v.id_dominio.clone(),
                iuv: v.iuv.clone(),
            })
            .collect(),
        email_login: Some(email),
        multi_beneficiario: false,
    };
    let e = crate::pagamenti::paga(&s.store, &s.cache, &s.nodo, &s.checkout, &req)
        .await
        .map_err(|e| match e {
            CarrelloError::Regola(v) => errore(
                StatusCode::UNPROCESSABLE_ENTITY,
                "Pagamento non possibile",
                v.0,
            ),
            e @ CarrelloError::NonPagabile { .. } => errore(
                StatusCode::CONFLICT,
                "Pagamento non possibile",
                format!("Uno dei pagamenti non si può eseguire ora ({e})."),
            ),
            CarrelloError::Rifiutato(_) | CarrelloError::Checkout(_) => errore(
                StatusCode::BAD_GATEWAY,
                "pagoPA non ha accettato il pagamento",
                "Riprova tra qualche minuto.",
            ),
            CarrelloError::Store(e) => da_store(e),
        })?;
    let dest = e.url.unwrap_or_else(|| {
        format!(
            "/portale/esito?idCarrello={}&esito=IN_ATTESA",
            q(&e.id_carrello)
        )
    });
    let mut r = Redirect::to(&dest).into_response();
    // What this browser paid, for the outcome page: the cart stays until the outcome is
    // known (a payment cancelled on Checkout keeps it).
    let pagamento = carrello::Pagamento {
        id_carrello: e.id_carrello.clone(),
        voci: voci.to_vec(),
        dal_carrello,
    };
    let chiave = Chiave::da(&s.admin_token_digest, s.config.rest.cookie_secure);
    if let Ok(v) = HeaderValue::from_str(&carrello::cookie_pagamento(&chiave, &pagamento)) {
        r.headers_mut().append(header::SET_COOKIE, v);
    }
    Ok(r)
}

#[derive(Deserialize)]
struct RitornoCheckout {
    #[serde(rename = "idCarrello")]
    id_carrello: String,
    esito: Option<String>,
}

async fn esito(
    State(s): State<AppState>,
    axum::Extension(chiave): axum::Extension<Chiave>,
    headers: HeaderMap,
    Query(r): Query<RitornoCheckout>,
) -> Pagina {
    use crate::model::EsitoCarrello as E;
    // This browser's own payment, if it is this one: only then are receipts linked.
    let mio = chiave
        .leggi_pagamento(carrello::valore(&headers, carrello::PAGAMENTO))
        .filter(|p| p.id_carrello == r.id_carrello);
    let (esito, _, rpt) = portale::esito_carrello(&s.store, &r.id_carrello)
        .await
        .map_err(da_store)?;
    let annullato = r.esito.as_deref() == Some("ANNULLATO");
    let erroneo = r.esito.as_deref() == Some("ERRORE");
    let (classe, titolo, spiegazione, in_corso) = match esito {
        E::Pagato => (
            "success",
            "Pagamento eseguito",
            "Grazie: il pagamento è stato registrato. Trovi qui sotto la ricevuta, che ti abbiamo anche inviato per e-mail.",
            false,
        ),
        E::ParzialmentePagato => (
            "warning",
            "Pagamento eseguito in parte",
            "Alcuni pagamenti del carrello sono stati eseguiti, altri no: trovi qui sotto le ricevute.",
            false,
        ),
        E::NonPagato => (
            "danger",
            "Pagamento non eseguito",
            "Il pagamento non è andato a buon fine: non ti è stato addebitato nulla. Puoi riprovare.",
            false,
        ),
        E::Rifiutato => (
            "danger",
            "Pagamento non accettato",
            "pagoPA non ha accettato il pagamento: riprova più tardi.",
            false,
        ),
        E::InCorso if annullato => (
            "warning",
            "Pagamento annullato",
            "Hai annullato il pagamento: non ti è stato addebitato nulla. L'avviso tornerà pagabile entro breve.",
            false,
        ),
        E::InCorso if erroneo => (
            "danger",
            "Pagamento non riuscito",
            "Si è verificato un errore durante il pagamento. Se ti è stato addebitato l'importo, la ricevuta arriverà comunque: questa pagina si aggiorna da sola.",
            true,
        ),
        E::InCorso => (
            "info",
            "Pagamento in corso di conferma",
            "Stiamo aspettando la ricevuta da pagoPA: di solito bastano pochi secondi.",
            true,
        ),
    };
    let mut ricevute = Vec::new();
    if let Some(p) = &mio {
        for r in rpt.iter().filter(|r| r.codice_esito.is_some()) {
            let Some(v) = p
                .voci
                .iter()
                .find(|v| v.id_dominio == r.id_dominio && v.iuv == r.iuv)
            else {
                continue;
            };
            if let Ok(Some(d)) = s.store.dovuti().get_by_iuv(&r.id_dominio, &r.iuv).await {
                ricevute.push((
                    format!("Ricevuta di {}", d.causale),
                    link_ricevuta(&r.id_dominio, &r.iuv, &v.codice_fiscale),
                ));
            }
        }
    }
    let mut risposta = render(&pagine::Esito {
        esito: esito.as_str(),
        classe,
        titolo,
        spiegazione,
        in_corso,
        ricevute,
        altrove: mio.is_none() && !in_corso,
    });
    // Paid from the cart: the cart has done its job.
    if mio.as_ref().is_some_and(|p| p.dal_carrello)
        && matches!(esito, E::Pagato | E::ParzialmentePagato)
        && let Ok(v) = HeaderValue::from_str(&carrello::cookie(&chiave, &[]))
    {
        risposta.headers_mut().append(header::SET_COOKIE, v);
    }
    Ok(risposta)
}

#[derive(Deserialize)]
struct CercaRicevuta {
    id_dominio: String,
    iuv: String,
    codice_fiscale: String,
}

async fn rt_del_pagatore(
    s: &AppState,
    c: &Client,
    f: &CercaRicevuta,
) -> Result<crate::model::rpt::Rt, Response> {
    limite(s, &s.limiti.ricerche, c)?;
    let nf = || {
        errore(
            StatusCode::NOT_FOUND,
            "Ricevuta non trovata",
            "Nessuna ricevuta per questo pagamento e questo codice fiscale.",
        )
    };
    // The payer first: a receipt removed by the retention is "gone" only to its payer.
    let cf = f.codice_fiscale.trim().to_uppercase();
    match s.store.dovuti().get_by_iuv(&f.id_dominio, &f.iuv).await {
        Ok(Some(d)) if d.pagatore.codice_fiscale.as_ref() != cf.as_str() => return Err(nf()),
        Ok(_) => {}
        Err(e) => return Err(da_store(e)),
    }
    let (_, raw) = match s.store.pagamenti().rt_per_iuv(&f.id_dominio, &f.iuv).await {
        Ok(Some(r)) => r,
        Ok(None) => return Err(nf()),
        Err(crate::store::StoreError::Eliminato) => {
            return Err(errore(
                StatusCode::GONE,
                "Ricevuta non più disponibile",
                "La ricevuta è stata eliminata dopo il periodo di conservazione: chiedine copia all'ente.",
            ));
        }
        Err(e) => return Err(da_store(e)),
    };
    let (rt, _) = crate::dominio::ricevuta::leggi(&raw).map_err(|e| {
        tracing::error!(error = %e, "stored receipt unreadable");
        nf()
    })?;
    if rt.soggetto_pagatore.identificativo.codice.to_uppercase()
        != f.codice_fiscale.trim().to_uppercase()
    {
        return Err(nf());
    }
    Ok(rt)
}

async fn ricevuta(State(s): State<AppState>, c: Client, Query(f): Query<CercaRicevuta>) -> Pagina {
    let rt = rt_del_pagatore(&s, &c, &f).await?;
    Ok(render(&pagine::Ricevuta {
        r: pdf_ricevuta::vista(
            &rt,
            format!(
                "/portale/ricevuta.pdf?id_dominio={}&iuv={}&codice_fiscale={}",
                q(&f.id_dominio),
                q(&f.iuv),
                q(&f.codice_fiscale)
            ),
        ),
    }))
}

async fn ricevuta_pdf(
    State(s): State<AppState>,
    c: Client,
    Query(f): Query<CercaRicevuta>,
) -> Pagina {
    let rt = rt_del_pagatore(&s, &c, &f).await?;
    Ok(pdf_response(
        pdf_ricevuta::pdf(&rt),
        &format!("ricevuta-{}.pdf", f.iuv),
    ))
}

async fn area(State(s): State<AppState>, headers: HeaderMap) -> Pagina {
    let token =
        carrello::valore(&headers, "portale_token").or_else(|| crate::rest::auth::bearer(&headers));
    let cittadino = match (token, s.jwt.as_ref()) {
        (Some(t), Some(cfg)) => crate::identita::verifica(t, cfg)
            .map_err(|e| tracing::info!(error = %e, "citizen token refused"))
            .ok(),
        _ => None,
    };
    let Some(c) = cittadino else {
        let mut r = render(&pagine::Area {
            cf: None,
            da_pagare: Vec::new(),
            pagati: Vec::new(),
        });
        *r.status_mut() = StatusCode::UNAUTHORIZED;
        return Ok(r);
    };
    let f = crate::store::DovutiFilter {
        codice_fiscale: Some(c.codice_fiscale.clone()),
        ..Default::default()
    };
    let (dovuti, _) = s
        .store
        .dovuti()
        .search(&f, 200, 0)
        .await
        .map_err(da_store)?;
    let mut nomi = std::collections::HashMap::new();
    let (mut da_pagare, mut pagati) = (Vec::new(), Vec::new());
    for d in dovuti {
        let dom = d.id_dominio.to_string();
        if !nomi.contains_key(&dom) {
            let n = s
                .store
                .registro()
                .get_ente(&dom)
                .await
                .map(|e| e.denominazione)
                .unwrap_or_else(|_| dom.clone());
            nomi.insert(dom.clone(), n);
        }
        let numero = d
            .numero_avviso
            .as_ref()
            .map(|n| n.to_string())
            .unwrap_or_else(|| d.iuv.to_string());
        let mut riga = pagine::RigaArea {
            ente: nomi[&dom].clone(),
            causale: d.causale.clone(),
            scadenza: data_it(d.data_scadenza),
            importo: d.importo.italiano(),
            link: format!(
                "/portale/avviso?id_dominio={}&numero_avviso={}&codice_fiscale={}",
                q(&dom),
                q(&numero),
                q(&c.codice_fiscale)
            ),
        };
        match d.stato {
            crate::model::StatoDovuto::Pagato => {
                riga.link = link_ricevuta(&dom, d.iuv.as_ref(), &c.codice_fiscale);
                pagati.push(riga);
            }
            crate::model::StatoDovuto::DaPagare | crate::model::StatoDovuto::NonPagato => {
                da_pagare.push(riga)
            }
            _ => {}
        }
    }
    Ok(render(&pagine::Area {
        cf: Some(c.codice_fiscale),
        da_pagare,
        pagati,
    }))
}
