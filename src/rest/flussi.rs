//! Reporting flows (FlussoRiversamento) downloaded from the Nodo: list them with the state
//! reading found (ACQUISITO, ANOMALO, ILLEGGIBILE, ENTE_NON_SERVITO, SCONOSCIUTO), and ask
//! a download now for one ente (it runs through the outbox like the scheduled ones).

use super::auth::Caller;
use super::outbox::Accodato;
use super::viste::FlussoScaricato;
use super::{ApiError, AppState, Problem};
use crate::registry::{Page, Paging};
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(scarica))
        .routes(routes!(carica))
}

#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct FlussoCaricato {
    pub id_flusso: String,
    pub data_ora_flusso: String,
    /// ACQUISITO, or ANOMALO when its totals do not add up (kept, and said).
    pub stato: String,
    pub nota: Option<String>,
    /// Schema facets the flow breaks but that were read leniently (see the flow list).
    pub deviazioni: Option<String>,
    pub numero_pagamenti: Option<i64>,
    /// `false` when this very version was already stored (nothing changed).
    pub nuovo: bool,
}

/// Uploads a FlussoRiversamento received another way (the body is the XML). It must be for
/// this ente; a newer version of a stored flow replaces its payments; the same version again
/// changes nothing.
#[utoipa::path(post, path = "/api/v1/enti/{id_dominio}/flussi", tag = "flussi", params(("id_dominio" = String, Path)),
    request_body(content = String, content_type = "application/xml"),
    responses((status = 200, body = FlussoCaricato), (status = 404, body = Problem), (status = 422, body = Problem)), security(("bearer" = [])))]
async fn carica(
    State(s): State<AppState>,
    caller: Caller,
    Path(id_dominio): Path<String>,
    body: axum::body::Bytes,
) -> Result<Json<FlussoCaricato>, ApiError> {
    caller.scope(&id_dominio)?;
    s.store.registro().get_ente(&id_dominio).await?;
    let f = crate::model::flusso::FlussoRiversamento::parse(&body)
        .map_err(|e| ApiError::Validation(format!("flusso illeggibile: {e}")))?;
    let t = &f.testata;
    let mut row = crate::store::NuovoFlusso::da_leggere(
        &id_dominio,
        &t.identificativo_flusso,
        t.data_ora_flusso.as_ref(),
    );
    crate::jobs::leggi_flusso(&id_dominio, &body, &mut row);
    if row.stato == crate::model::StatoFlusso::EnteNonServito {
        return Err(ApiError::Validation(row.nota.unwrap_or_default()));
    }
    row.raw = body.to_vec();
    let nuovo = !s
        .store
        .riconciliazione()
        .flusso_presente(&id_dominio, &row.id_flusso, &row.data_ora_flusso)
        .await?;
    // The same version again: nothing to store or reclassify (a re-sent month costs reads).
    if nuovo {
        s.store.riconciliazione().insert_flusso(&row).await?;
        s.store.riconciliazione().process(&id_dominio).await?;
    }
    Ok(Json(FlussoCaricato {
        id_flusso: row.id_flusso,
        data_ora_flusso: row.data_ora_flusso,
        stato: row.stato.to_string(),
        nota: row.nota,
        deviazioni: row.deviazioni,
        numero_pagamenti: row.numero_pagamenti,
        nuovo,
    }))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FlussiQuery {
    id_dominio: Option<String>,
    stato: Option<String>,
}

/// Downloaded flows, newest first.
#[utoipa::path(get, path = "/api/v1/flussi", tag = "flussi", params(FlussiQuery, Paging),
    responses((status = 200, body = Page<FlussoScaricato>), (status = 401, body = Problem), (status = 404, body = Problem)), security(("bearer" = [])))]
async fn list(
    State(s): State<AppState>,
    caller: Caller,
    Query(q): Query<FlussiQuery>,
    Query(paging): Query<Paging>,
) -> Result<Json<Page<FlussoScaricato>>, ApiError> {
    let (limit, offset) = paging.limit_offset().map_err(ApiError::Validation)?;
    let dominio = caller.dominio_filter(q.id_dominio)?;
    let (items, total) = s
        .store
        .riconciliazione()
        .list_flussi(dominio.as_deref(), q.stato.as_deref(), limit, offset)
        .await?;
    Ok(Json(Page {
        items: items.into_iter().map(Into::into).collect(),
        page: paging.page,
        per_page: paging.per_page,
        total,
    }))
}

/// Downloads the ente's flows now (202: queued in the outbox).
#[utoipa::path(post, path = "/api/v1/enti/{id_dominio}/flussi/scarica", tag = "flussi", params(("id_dominio" = String, Path)),
    responses((status = 202, body = Accodato), (status = 404, body = Problem)), security(("bearer" = [])))]
async fn scarica(
    State(s): State<AppState>,
    caller: Caller,
    Path(id_dominio): Path<String>,
) -> Result<(StatusCode, Json<Accodato>), ApiError> {
    caller.scope(&id_dominio)?;
    let ente = s.store.registro().get_ente(&id_dominio).await?;
    let job = s
        .store
        .outbox()
        .enqueue_payload(
            crate::model::TipoJob::Flussi.as_str(),
            None,
            ente.id_dominio.as_str(),
        )
        .await?;
    Ok((StatusCode::ACCEPTED, Json(Accodato { job })))
}
