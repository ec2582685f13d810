//! Reporting flows (FlussoRiversamento) downloaded from the Nodo: list them with the state
//! reading found (ACQUISITO, ANOMALO, ILLEGGIBILE, ENTE_NON_SERVITO, SCONOSCIUTO), and ask
//! a download now for one ente (it runs through the outbox like the scheduled ones).

use super::auth::Caller;
use super::{ApiError, AppState, Problem};
use crate::registry::{Page, Paging};
use crate::store::FlussoScaricato;
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
        .list_flussi(dominio.as_deref(), q.stato.as_deref(), limit, offset)
        .await?;
    Ok(Json(Page {
        items,
        page: paging.page,
        per_page: paging.per_page,
        total,
    }))
}

#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct Accodato {
    /// The outbox job that will download the flows (see `/api/v1/outbox`).
    pub job: i64,
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
    let ente = s.store.get_ente(&id_dominio).await?;
    let job = s
        .store
        .outbox_enqueue(crate::outbox::jobs::FLUSSI, None, ente.id_dominio.as_str())
        .await?;
    Ok((StatusCode::ACCEPTED, Json(Accodato { job })))
}
