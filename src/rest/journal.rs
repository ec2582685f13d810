//! The message journal over REST: search, and one exchange with its raw bodies. An operator
//! sees only the exchanges of their ente.

use super::auth::Caller;
use super::viste::JournalSummary;
use super::{ApiError, AppState, Problem};
use crate::registry::{Page, Paging};
use crate::store::JournalFilter;
use axum::Json;
use axum::extract::{Path, Query, State};
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(search))
        .routes(routes!(get_one))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct JournalQuery {
    id_dominio: Option<String>,
    /// SOAP operation, e.g. `paaVerificaRPT`.
    operation: Option<String>,
    iuv: Option<String>,
    /// `OK` or a faultCode.
    outcome: Option<String>,
}

/// Searches the SOAP message journal, newest first.
#[utoipa::path(get, path = "/api/v1/journal", tag = "journal", params(JournalQuery, Paging),
    responses((status = 200, body = Page<JournalSummary>), (status = 401, body = Problem), (status = 422, body = Problem)), security(("bearer" = [])))]
async fn search(
    State(s): State<AppState>,
    caller: Caller,
    Query(q): Query<JournalQuery>,
    Query(paging): Query<Paging>,
) -> Result<Json<Page<JournalSummary>>, ApiError> {
    let (limit, offset) = paging.limit_offset().map_err(ApiError::Validation)?;
    let id_dominio = caller.dominio_filter(q.id_dominio)?;
    let f = JournalFilter {
        id_dominio,
        operation: q.operation,
        iuv: q.iuv,
        outcome: q.outcome,
    };
    let (items, total) = s.store.journal().search(&f, limit, offset).await?;
    Ok(Json(Page {
        items: items.into_iter().map(Into::into).collect(),
        page: paging.page,
        per_page: paging.per_page,
        total,
    }))
}

#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct JournalDetail {
    #[serde(flatten)]
    summary: JournalSummary,
    /// The raw request (invalid UTF-8 replaced).
    request: String,
    response: String,
}

/// One exchange with its raw request and response.
#[utoipa::path(get, path = "/api/v1/journal/{id}", tag = "journal", params(("id" = i64, Path)),
    responses((status = 200, body = JournalDetail), (status = 404, body = Problem)), security(("bearer" = [])))]
async fn get_one(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<Json<JournalDetail>, ApiError> {
    // Ids start at 1; anything lower (i64::MIN included) is simply not there.
    if id < 1 {
        return Err(ApiError::NotFound("risorsa non trovata".into()));
    }
    let e = s
        .store
        .journal()
        .after(id - 1, 1)
        .await?
        .into_iter()
        .find(|e| e.summary.id == id)
        .ok_or_else(|| ApiError::NotFound("risorsa non trovata".into()))?;
    if let Some(own) = caller.enti_visibili()
        && !e
            .summary
            .id_dominio
            .as_ref()
            .is_some_and(|d| own.contains(d))
    {
        return Err(ApiError::NotFound("risorsa non trovata".into()));
    }
    Ok(Json(JournalDetail {
        summary: e.summary.into(),
        request: String::from_utf8_lossy(&e.request).into_owned(),
        response: String::from_utf8_lossy(&e.response).into_owned(),
    }))
}
