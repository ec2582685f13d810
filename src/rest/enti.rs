//! Enti, their operators' API keys, tipi dovuto, and the intermediary.

use super::auth::{Caller, digest_hex, new_api_key};
use super::viste::{ApiKey, Intermediario, NuovoIntermediario};
use super::{ApiError, AppState, Problem};
use crate::registry::{Ente, EnteInput, Page, Paging, TipoDovuto, TipoDovutoInput};
use crate::store::EntiFilter;
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_enti, create_ente))
        .routes(routes!(get_ente, update_ente))
        .routes(routes!(list_api_keys, create_api_key))
        .routes(routes!(revoke_api_key))
        .routes(routes!(list_tipi, create_tipo))
        .routes(routes!(get_tipo, update_tipo))
        .routes(routes!(get_intermediario, put_intermediario))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EntiQuery {
    /// Part of the name, codice IPA or fiscal code (case-insensitive).
    q: Option<String>,
    codice_ipa: Option<String>,
    attivo: Option<bool>,
}

/// Lists and searches enti. An operator sees only their own ente.
#[utoipa::path(get, path = "/api/v1/enti", tag = "enti", params(EntiQuery, Paging),
    responses((status = 200, body = Page<Ente>), (status = 401, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
async fn list_enti(
    State(s): State<AppState>,
    caller: Caller,
    Query(q): Query<EntiQuery>,
    Query(paging): Query<Paging>,
) -> Result<Json<Page<Ente>>, ApiError> {
    let (limit, offset) = paging.limit_offset().map_err(ApiError::Validation)?;
    let f = EntiFilter {
        solo: caller.enti_visibili(),
        q: q.q,
        codice_ipa: q.codice_ipa,
        attivo: q.attivo,
    };
    let (items, total) = s.store.registro().search_enti(&f, limit, offset).await?;
    Ok(Json(Page {
        items,
        page: paging.page,
        per_page: paging.per_page,
        total,
    }))
}

/// Registers an ente (administrator only).
#[utoipa::path(post, path = "/api/v1/enti", tag = "enti", request_body = EnteInput,
    responses((status = 201, body = Ente), (status = 401, body = Problem), (status = 403, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
async fn create_ente(
    State(s): State<AppState>,
    caller: Caller,
    Json(e): Json<EnteInput>,
) -> Result<(StatusCode, Json<Ente>), ApiError> {
    caller.require_admin()?;
    e.check().map_err(ApiError::Validation)?;
    Ok((
        StatusCode::CREATED,
        Json(s.store.registro().insert_ente(&e).await?),
    ))
}

/// One ente with its assistance contacts.
#[utoipa::path(get, path = "/api/v1/enti/{id_dominio}", tag = "enti", params(("id_dominio" = String, Path)),
    responses((status = 200, body = Ente), (status = 404, body = Problem)), security(("bearer" = [])))]
async fn get_ente(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Ente>, ApiError> {
    caller.scope(&id)?;
    Ok(Json(s.store.registro().get_ente(&id).await?))
}

/// Replaces an ente's data (administrator only). The segregation code is frozen once
/// dovuti exist.
#[utoipa::path(put, path = "/api/v1/enti/{id_dominio}", tag = "enti", params(("id_dominio" = String, Path)), request_body = EnteInput,
    responses((status = 200, body = Ente), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
async fn update_ente(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(e): Json<EnteInput>,
) -> Result<Json<Ente>, ApiError> {
    caller.require_admin()?;
    if e.id_dominio.as_str() != id {
        return Err(ApiError::Validation(
            "id_dominio del corpo diverso da quello del percorso".into(),
        ));
    }
    e.check().map_err(ApiError::Validation)?;
    Ok(Json(s.store.registro().update_ente(&e).await?))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApiKeyInput {
    /// Who or what holds the key (e.g. "back office tributi").
    label: String,
}

#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct NewApiKey {
    #[serde(flatten)]
    key: ApiKey,
    /// The secret, shown only now: store it, it cannot be read again.
    secret: String,
}

/// The ente's operator API keys (administrator only).
#[utoipa::path(get, path = "/api/v1/enti/{id_dominio}/api-keys", tag = "enti", params(("id_dominio" = String, Path)),
    responses((status = 200, body = Vec<ApiKey>), (status = 403, body = Problem)), security(("bearer" = [])))]
async fn list_api_keys(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Vec<ApiKey>>, ApiError> {
    caller.require_admin()?;
    s.store.registro().get_ente(&id).await?;
    Ok(Json(
        s.store
            .registro()
            .list_api_keys(&id)
            .await?
            .into_iter()
            .map(Into::into)
            .collect(),
    ))
}

/// Issues an operator API key for the ente (administrator only).
#[utoipa::path(post, path = "/api/v1/enti/{id_dominio}/api-keys", tag = "enti", params(("id_dominio" = String, Path)), request_body = ApiKeyInput,
    responses((status = 201, body = NewApiKey), (status = 403, body = Problem), (status = 404, body = Problem)), security(("bearer" = [])))]
async fn create_api_key(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(input): Json<ApiKeyInput>,
) -> Result<(StatusCode, Json<NewApiKey>), ApiError> {
    caller.require_admin()?;
    crate::registry::check_len("label", &input.label, 1, 100).map_err(ApiError::Validation)?;
    s.store.registro().get_ente(&id).await?;
    let secret = new_api_key();
    let key = s
        .store
        .registro()
        .insert_api_key(&id, &digest_hex(&secret), &input.label)
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(NewApiKey {
            key: key.into(),
            secret,
        }),
    ))
}

/// Revokes an operator API key (administrator only).
#[utoipa::path(delete, path = "/api/v1/enti/{id_dominio}/api-keys/{key_id}", tag = "enti",
    params(("id_dominio" = String, Path), ("key_id" = i64, Path)),
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem)), security(("bearer" = [])))]
async fn revoke_api_key(
    State(s): State<AppState>,
    caller: Caller,
    Path((id, key_id)): Path<(String, i64)>,
) -> Result<StatusCode, ApiError> {
    caller.require_admin()?;
    s.store.registro().revoke_api_key(&id, key_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The ente's tipi dovuto.
#[utoipa::path(get, path = "/api/v1/enti/{id_dominio}/tipi-dovuto", tag = "tipi-dovuto", params(("id_dominio" = String, Path)),
    responses((status = 200, body = Vec<TipoDovuto>), (status = 404, body = Problem)), security(("bearer" = [])))]
async fn list_tipi(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Vec<TipoDovuto>>, ApiError> {
    caller.scope(&id)?;
    s.store.registro().get_ente(&id).await?;
    Ok(Json(s.store.registro().list_tipi_dovuto(&id).await?))
}

/// Creates a tipo dovuto; its IBAN must be one of the ente's.
#[utoipa::path(post, path = "/api/v1/enti/{id_dominio}/tipi-dovuto", tag = "tipi-dovuto", params(("id_dominio" = String, Path)), request_body = TipoDovutoInput,
    responses((status = 201, body = TipoDovuto), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)), security(("bearer" = [])))]
async fn create_tipo(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(t): Json<TipoDovutoInput>,
) -> Result<(StatusCode, Json<TipoDovuto>), ApiError> {
    caller.scope(&id)?;
    let ente = s.store.registro().get_ente(&id).await?;
    t.check(&ente).map_err(ApiError::Validation)?;
    Ok((
        StatusCode::CREATED,
        Json(s.store.registro().create_tipo_dovuto(&id, &t).await?),
    ))
}

/// One tipo dovuto.
#[utoipa::path(get, path = "/api/v1/enti/{id_dominio}/tipi-dovuto/{codice}", tag = "tipi-dovuto",
    params(("id_dominio" = String, Path), ("codice" = String, Path)),
    responses((status = 200, body = TipoDovuto), (status = 404, body = Problem)), security(("bearer" = [])))]
async fn get_tipo(
    State(s): State<AppState>,
    caller: Caller,
    Path((id, codice)): Path<(String, String)>,
) -> Result<Json<TipoDovuto>, ApiError> {
    caller.scope(&id)?;
    Ok(Json(
        s.store.registro().get_tipo_dovuto(&id, &codice).await?,
    ))
}

/// Replaces a tipo dovuto.
#[utoipa::path(put, path = "/api/v1/enti/{id_dominio}/tipi-dovuto/{codice}", tag = "tipi-dovuto",
    params(("id_dominio" = String, Path), ("codice" = String, Path)), request_body = TipoDovutoInput,
    responses((status = 200, body = TipoDovuto), (status = 404, body = Problem), (status = 422, body = Problem)), security(("bearer" = [])))]
async fn update_tipo(
    State(s): State<AppState>,
    caller: Caller,
    Path((id, codice)): Path<(String, String)>,
    Json(t): Json<TipoDovutoInput>,
) -> Result<Json<TipoDovuto>, ApiError> {
    caller.scope(&id)?;
    if t.codice != codice {
        return Err(ApiError::Validation(
            "codice del corpo diverso da quello del percorso".into(),
        ));
    }
    let ente = s.store.registro().get_ente(&id).await?;
    t.check(&ente).map_err(ApiError::Validation)?;
    Ok(Json(s.store.registro().update_tipo_dovuto(&id, &t).await?))
}

/// The intermediary and its station (administrator only; the password is never returned).
#[utoipa::path(get, path = "/api/v1/intermediario", tag = "enti",
    responses((status = 200, body = Intermediario), (status = 403, body = Problem)), security(("bearer" = [])))]
async fn get_intermediario(
    State(s): State<AppState>,
    caller: Caller,
) -> Result<Json<Intermediario>, ApiError> {
    caller.require_admin()?;
    Ok(Json(s.store.registro().get_intermediario().await?.into()))
}

/// Replaces the intermediary's identifiers and station password (administrator only).
#[utoipa::path(put, path = "/api/v1/intermediario", tag = "enti", request_body = NuovoIntermediario,
    responses((status = 200, body = Intermediario), (status = 403, body = Problem), (status = 422, body = Problem)), security(("bearer" = [])))]
async fn put_intermediario(
    State(s): State<AppState>,
    caller: Caller,
    Json(i): Json<NuovoIntermediario>,
) -> Result<Json<Intermediario>, ApiError> {
    caller.require_admin()?;
    crate::model::IdDominio::parse(&i.id_intermediario_pa)
        .map_err(|e| ApiError::Validation(format!("id_intermediario_pa: {e}")))?;
    crate::registry::check_len("id_stazione", &i.id_stazione, 1, 35)
        .map_err(ApiError::Validation)?;
    crate::registry::check_len("password", &i.password, 8, 15).map_err(ApiError::Validation)?;
    s.store.registro().put_intermediario(&i.into()).await?;
    Ok(Json(s.store.registro().get_intermediario().await?.into()))
}
