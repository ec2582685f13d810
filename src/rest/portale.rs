//! The API a regional payment portal builds its pages on (no operator credentials: these
//! are the citizen's pages): the enti and what can be paid to them, the lookup of a notice
//! (the same 404 for "unknown" and "wrong fiscal code", and a per-client rate limit, so
//! notices cannot be enumerated), spontaneous payments, cart checkout through the Nodo with
//! the outcome to poll, and the receipts.

use super::limite::{Client, Limiter};
use super::viste::EsitoRptCarrello;
use super::{ApiError, AppState, Problem};
use crate::model::{CodiceFiscale, Importo};
use crate::pagamenti::portale::{self, Spontaneo};
use crate::pagamenti::{CarrelloError, EsitoCarrello, RichiestaCarrello};
use crate::registry::{Contatti, Page, Paging};
use crate::store::EntiFilter;
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The largest body the portal's public routes read: a cart is 1–5 dovuti, a spontaneous
/// payment a few fields. Anyone may call them, so the REST port's upload limit (64 MiB, for
/// operators' files) must not apply: ten concurrent 60 MiB carts held 900 MB.
pub const BODY_LIMIT: usize = 64 * 1024;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(enti))
        .routes(routes!(ente))
        .routes(routes!(avviso))
        .routes(routes!(spontaneo))
        .routes(routes!(checkout))
        .routes(routes!(carrello))
        .routes(routes!(ricevuta_html))
        .routes(routes!(ricevuta_txt))
        .routes(routes!(ricevuta_xml))
        .layer(axum::extract::DefaultBodyLimit::max(BODY_LIMIT))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EntePortale {
    pub id_dominio: String,
    pub denominazione: String,
    pub codice_ipa: String,
    pub contatti: Contatti,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TipoPortale {
    pub codice: String,
    pub descrizione: String,
    /// Fixed amount; absent when the payer enters it.
    #[schema(value_type = Option<String>)]
    pub importo_fisso: Option<Importo>,
    /// A payer can create and pay it on their own.
    pub spontaneo: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PaginaEnte {
    #[serde(flatten)]
    pub ente: EntePortale,
    pub tipi_dovuto: Vec<TipoPortale>,
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EntiQuery {
    /// Part of the name, codice IPA or fiscal code.
    q: Option<String>,
}

/// The active enti, searchable.
#[utoipa::path(get, path = "/api/v1/portale/enti", tag = "portale", params(EntiQuery, Paging),
    responses((status = 200, body = Page<EntePortale>)))]
async fn enti(
    State(s): State<AppState>,
    Query(q): Query<EntiQuery>,
    Query(paging): Query<Paging>,
) -> Result<Json<Page<EntePortale>>, ApiError> {
    let (limit, offset) = paging.limit_offset().map_err(ApiError::Validation)?;
    let f = EntiFilter {
        q: q.q,
        attivo: Some(true),
        ..Default::default()
    };
    let (items, total) = s.store.registro().search_enti(&f, limit, offset).await?;
    Ok(Json(Page {
        items: items
            .into_iter()
            .map(|e| EntePortale {
                id_dominio: e.id_dominio.to_string(),
                denominazione: e.denominazione,
                codice_ipa: e.codice_ipa,
                contatti: e.contatti,
            })
            .collect(),
        page: paging.page,
        per_page: paging.per_page,
        total,
    }))
}

/// The ente's page: contacts and what can be paid.
#[utoipa::path(get, path = "/api/v1/portale/enti/{id_dominio}", tag = "portale", params(("id_dominio" = String, Path)),
    responses((status = 200, body = PaginaEnte), (status = 404, body = Problem)))]
async fn ente(
    State(s): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<PaginaEnte>, ApiError> {
    let e = s.store.registro().get_ente(&id).await?;
    if !e.attivo {
        return Err(ApiError::NotFound("ente non trovato".into()));
    }
    let tipi = s.store.registro().list_tipi_dovuto(&id).await?;
    Ok(Json(PaginaEnte {
        ente: EntePortale {
            id_dominio: e.id_dominio.to_string(),
            denominazione: e.denominazione,
            codice_ipa: e.codice_ipa,
            contatti: e.contatti,
        },
        tipi_dovuto: tipi
            .into_iter()
            .filter(|t| t.attivo)
            .map(|t| TipoPortale {
                codice: t.codice,
                descrizione: t.descrizione,
                importo_fisso: t.importo_fisso,
                spontaneo: t.spontaneo,
            })
            .collect(),
    }))
}

/// A notice as the payer sees it.
#[derive(Debug, Serialize, ToSchema)]
pub struct Avviso {
    pub id_dominio: String,
    pub ente: String,
    pub iuv: String,
    pub numero_avviso: Option<String>,
    pub causale: String,
    /// The amount to pay today (after the due date: with fee and interest when allowed).
    #[schema(value_type = String)]
    pub importo: Importo,
    #[schema(value_type = String)]
    pub importo_originale: Importo,
    #[serde(with = "crate::model::iso_date::option")]
    #[schema(value_type = Option<String>, format = Date)]
    pub data_scadenza: Option<time::Date>,
    /// PAGABILE, SCADUTO (no longer payable), PAGATO, IN_CORSO, ANNULLATO.
    pub stato: String,
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AvvisoQuery {
    id_dominio: String,
    /// The 18-digit numero avviso, or use `iuv`.
    numero_avviso: Option<String>,
    iuv: Option<String>,
    /// The payer's fiscal code, as printed on the notice.
    codice_fiscale: String,
}

/// 429 when `client` has used up its allowance on `l`.
fn limit(l: &Limiter, client: &Client, what: &str) -> Result<(), ApiError> {
    if l.allow(client.0) {
        return Ok(());
    }
    Err(ApiError::TooManyRequests(format!(
        "{what}: riprovare tra un minuto"
    )))
}

/// Looks a notice up by numero avviso (or IUV) and the payer's fiscal code. Unknown notice
/// and wrong fiscal code answer the same 404; lookups are rate-limited per client.
#[utoipa::path(get, path = "/api/v1/portale/avvisi", tag = "portale", params(AvvisoQuery),
    responses((status = 200, body = Avviso), (status = 404, body = Problem), (status = 422, body = Problem), (status = 429, body = Problem)))]
async fn avviso(
    State(s): State<AppState>,
    client: Client,
    Query(q): Query<AvvisoQuery>,
) -> Result<Json<Avviso>, ApiError> {
    limit(&s.limiti.ricerche, &client, "troppe ricerche di avvisi")?;
    let a = portale::cerca_avviso(
        &s.store,
        &s.cache,
        &q.id_dominio,
        q.numero_avviso.as_deref(),
        q.iuv.as_deref(),
        &q.codice_fiscale,
        time::OffsetDateTime::now_utc(),
    )
    .await?;
    Ok(Json(Avviso {
        id_dominio: q.id_dominio,
        ente: a.ente.denominazione,
        iuv: a.dovuto.iuv.to_string(),
        numero_avviso: a.dovuto.numero_avviso.map(|n| n.to_string()),
        causale: a.dovuto.causale,
        importo: a.importo,
        importo_originale: a.dovuto.importo,
        data_scadenza: a.dovuto.data_scadenza,
        stato: a.stato.as_str().into(),
    }))
}

/// A spontaneous payment: the payer creates a dovuto of a tipo that allows it (amount fixed
/// by the tipo or entered), then pays it now (checkout) or keeps its notice.
#[utoipa::path(post, path = "/api/v1/portale/enti/{id_dominio}/spontanei", tag = "portale", params(("id_dominio" = String, Path)),
    request_body = Spontaneo,
    responses((status = 201, body = Avviso), (status = 404, body = Problem), (status = 422, body = Problem), (status = 429, body = Problem)))]
async fn spontaneo(
    State(s): State<AppState>,
    client: Client,
    Path(id): Path<String>,
    Json(b): Json<Spontaneo>,
) -> Result<(StatusCode, Json<Avviso>), ApiError> {
    limit(&s.limiti.carrelli, &client, "troppi pagamenti avviati")?;
    let (e, d) = portale::crea_spontaneo(&s.store, &id, &b).await?;
    Ok((
        StatusCode::CREATED,
        Json(Avviso {
            id_dominio: id,
            ente: e.denominazione,
            iuv: d.iuv.to_string(),
            numero_avviso: d.numero_avviso.map(|n| n.to_string()),
            causale: d.causale,
            importo: d.importo,
            importo_originale: d.importo,
            data_scadenza: d.data_scadenza,
            stato: "PAGABILE".into(),
        }),
    ))
}

/// Sends the dovuti to the Nodo as one cart; the payer goes to `url`. Everything is checked
/// first: 422 for a cart that breaks a rule, 409 for a dovuto that cannot be paid now, 502
/// with the Nodo's fault when it refuses. `stato = CREATO` without url: the send is being
/// retried, poll the cart.
#[utoipa::path(post, path = "/api/v1/portale/carrelli", tag = "portale",
    request_body = RichiestaCarrello,
    responses((status = 201, body = EsitoCarrello), (status = 409, body = Problem), (status = 422, body = Problem), (status = 429, body = Problem), (status = 502, body = Problem)))]
async fn checkout(
    State(s): State<AppState>,
    client: Client,
    Json(req): Json<RichiestaCarrello>,
) -> Result<(StatusCode, Json<EsitoCarrello>), ApiError> {
    limit(&s.limiti.carrelli, &client, "troppi pagamenti avviati")?;
    match crate::pagamenti::paga(&s.store, &s.cache, &s.nodo, &s.checkout, &req).await {
        Ok(e) => Ok((StatusCode::CREATED, Json(e))),
        Err(CarrelloError::Regola(v)) => Err(ApiError::Validation(v.0)),
        Err(e @ CarrelloError::NonPagabile { .. }) => Err(ApiError::Conflict(e.to_string())),
        Err(CarrelloError::Rifiutato(n)) => Err(ApiError::BadGateway(format!(
            "il Nodo ha rifiutato il carrello ({}): {n}",
            n.fault_code().unwrap_or("errore")
        ))),
        Err(CarrelloError::Checkout(e)) => Err(ApiError::BadGateway(e.to_string())),
        Err(CarrelloError::Store(e)) => Err(e.into()),
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct StatoCarrello {
    pub id_carrello: String,
    /// IN_CORSO, PAGATO (every RPT's RT is positive, esito 0 or 2, as for each dovuto),
    /// NON_PAGATO, PARZIALMENTE_PAGATO (some paid, some not), RIFIUTATO (the Nodo refused it).
    pub esito: crate::model::EsitoCarrello,
    pub url: Option<String>,
    pub rpt: Vec<EsitoRptCarrello>,
}

/// The cart's outcome, for the portal to poll after the payer comes back.
#[utoipa::path(get, path = "/api/v1/portale/carrelli/{id}", tag = "portale", params(("id" = String, Path)),
    responses((status = 200, body = StatoCarrello), (status = 404, body = Problem)))]
async fn carrello(
    State(s): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<StatoCarrello>, ApiError> {
    let (esito, url, rpt) = portale::esito_carrello(&s.store, &id).await?;
    Ok(Json(StatoCarrello {
        id_carrello: id,
        esito,
        url,
        rpt: rpt.into_iter().map(Into::into).collect(),
    }))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RicevutaQuery {
    /// The payer's fiscal code.
    codice_fiscale: String,
}

async fn rt_del_pagatore(
    s: &AppState,
    client: &Client,
    dom: &str,
    iuv: &str,
    cf: &str,
) -> Result<(crate::model::rpt::Rt, Vec<u8>), ApiError> {
    limit(&s.limiti.ricerche, client, "troppe ricerche di ricevute")?;
    let nf = || ApiError::NotFound("ricevuta non trovata per questo codice fiscale".into());
    let (_, raw) = s
        .store
        .pagamenti()
        .rt_per_iuv(dom, iuv)
        .await?
        .ok_or_else(nf)?;
    let (rt, _) =
        crate::dominio::ricevuta::leggi(&raw).map_err(|e| ApiError::Internal(e.into()))?;
    let cf = CodiceFiscale::parse(cf)
        .map(|c| c.to_string())
        .unwrap_or_else(|_| cf.trim().to_uppercase());
    if rt.soggetto_pagatore.identificativo.codice.to_uppercase() != cf {
        return Err(nf());
    }
    Ok((rt, raw))
}

/// The receipt of a paid notice, human-readable (HTML).
#[utoipa::path(get, path = "/api/v1/portale/ricevute/{id_dominio}/{iuv}/ricevuta.html", tag = "portale",
    params(("id_dominio" = String, Path), ("iuv" = String, Path), RicevutaQuery),
    responses((status = 200, content_type = "text/html", body = String), (status = 404, body = Problem), (status = 429, body = Problem)))]
async fn ricevuta_html(
    State(s): State<AppState>,
    client: Client,
    Path((dom, iuv)): Path<(String, String)>,
    Query(q): Query<RicevutaQuery>,
) -> Result<impl IntoResponse, ApiError> {
    let (rt, _) = rt_del_pagatore(&s, &client, &dom, &iuv, &q.codice_fiscale).await?;
    Ok((
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        crate::mail::ricevuta_html(&rt),
    ))
}

/// The receipt of a paid notice as plain text.
#[utoipa::path(get, path = "/api/v1/portale/ricevute/{id_dominio}/{iuv}/ricevuta.txt", tag = "portale",
    params(("id_dominio" = String, Path), ("iuv" = String, Path), RicevutaQuery),
    responses((status = 200, content_type = "text/plain", body = String), (status = 404, body = Problem), (status = 429, body = Problem)))]
async fn ricevuta_txt(
    State(s): State<AppState>,
    client: Client,
    Path((dom, iuv)): Path<(String, String)>,
    Query(q): Query<RicevutaQuery>,
) -> Result<impl IntoResponse, ApiError> {
    let (rt, _) = rt_del_pagatore(&s, &client, &dom, &iuv, &q.codice_fiscale).await?;
    Ok((
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        crate::mail::ricevuta_txt(&rt),
    ))
}

/// The RT exactly as received from the Nodo.
#[utoipa::path(get, path = "/api/v1/portale/ricevute/{id_dominio}/{iuv}/rt.xml", tag = "portale",
    params(("id_dominio" = String, Path), ("iuv" = String, Path), RicevutaQuery),
    responses((status = 200, content_type = "application/xml", body = String), (status = 404, body = Problem), (status = 429, body = Problem)))]
async fn ricevuta_xml(
    State(s): State<AppState>,
    client: Client,
    Path((dom, iuv)): Path<(String, String)>,
    Query(q): Query<RicevutaQuery>,
) -> Result<impl IntoResponse, ApiError> {
    let (_, raw) = rt_del_pagatore(&s, &client, &dom, &iuv, &q.codice_fiscale).await?;
    Ok(([(header::CONTENT_TYPE, "application/xml")], raw))
}
