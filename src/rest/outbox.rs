//! The outbox over REST, for the administrator: pending work, dead letters with their last
//! error, and the retry of a dead letter (back in the queue with a fresh attempt count).
//! Jobs span every ente (a cart may too), so operators of one ente do not see them.

use super::auth::Caller;
use super::viste::OutboxJob;
use super::{ApiError, AppState, Problem};
use crate::registry::{Page, Paging};
use axum::Json;
use axum::extract::{Path, Query, State};
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(retry))
}

/// Work queued in the outbox by an endpoint that answers 202.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct Accodato {
    /// The outbox job doing it (see `/api/v1/outbox`).
    pub job: i64,
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OutboxQuery {
    /// PENDING, DONE or DEAD.
    stato: Option<String>,
    /// nodoInviaRPT, rtEmail, …
    kind: Option<String>,
}

/// Outbox jobs, newest first (`?stato=DEAD` for the dead letters).
#[utoipa::path(get, path = "/api/v1/outbox", tag = "outbox", params(OutboxQuery, Paging),
    responses((status = 200, body = Page<OutboxJob>), (status = 401, body = Problem), (status = 403, body = Problem)), security(("bearer" = [])))]
async fn list(
    State(s): State<AppState>,
    caller: Caller,
    Query(q): Query<OutboxQuery>,
    Query(paging): Query<Paging>,
) -> Result<Json<Page<OutboxJob>>, ApiError> {
    caller.require_admin()?;
    let (limit, offset) = paging.limit_offset().map_err(ApiError::Validation)?;
    let (items, total) = s
        .store
        .outbox()
        .list(q.stato.as_deref(), q.kind.as_deref(), limit, offset)
        .await?;
    Ok(Json(Page {
        items: items.into_iter().map(Into::into).collect(),
        page: paging.page,
        per_page: paging.per_page,
        total,
    }))
}

/// Puts a dead letter back in the queue; 409 when the job is not dead.
#[utoipa::path(post, path = "/api/v1/outbox/{id}/retry", tag = "outbox", params(("id" = i64, Path)),
    responses((status = 200, body = OutboxJob), (status = 404, body = Problem), (status = 409, body = Problem)), security(("bearer" = [])))]
async fn retry(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<Json<OutboxJob>, ApiError> {
    caller.require_admin()?;
    let job = s.store.outbox().get(id).await?;
    if !s.store.outbox().retry(id).await? {
        return Err(ApiError::Conflict(format!(
            "il job {id} è {}: si riprova solo un job DEAD",
            job.stato
        )));
    }
    tracing::info!(id, kind = %job.kind, "dead letter put back in the queue");
    Ok(Json(s.store.outbox().get(id).await?.into()))
}
