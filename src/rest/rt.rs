//! Received RTs over REST, quarantine included: an RT attests a payment, so every one is
//! visible with its state and its raw bytes. An operator sees only their ente's.

use super::auth::Caller;
use super::outbox::Accodato;
use super::viste::RtRicevuta;
use super::{ApiError, AppState, Problem};
use crate::pagamenti::ricevute::{ErroreRt, elabora};
use crate::registry::{Page, Paging};
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::IntoResponse;
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(raw))
        .routes(routes!(reinvia_email))
        .routes(routes!(richiedi_copia))
        .routes(routes!(recupera_ricevuta))
        .routes(routes!(rielabora))
}

/// Applies again a receipt kept in quarantine (its RPT or position was unknown), once the
/// operator has created or corrected what it pays: applied as when it came (the dovuto
/// paid, the e-mail, reconciliation), or still in quarantine (409). The receipt is the one
/// stored, byte for byte; only a quarantined one can be processed again.
#[utoipa::path(post, path = "/api/v1/rt/{id}/rielabora", tag = "rt", params(("id" = i64, Path)),
    responses((status = 200, body = RtRicevuta), (status = 404, body = Problem), (status = 409, body = Problem)), security(("bearer" = [])))]
async fn rielabora(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<Json<RtRicevuta>, ApiError> {
    let (rt, raw) = s.store.pagamenti().get_rt(id).await?;
    caller.scope(&rt.id_dominio)?;
    if rt.stato != crate::model::StatoRt::Quarantena {
        return Err(ApiError::Conflict(format!(
            "la ricevuta è {}: solo una ricevuta in quarantena si rielabora",
            rt.stato
        )));
    }
    match elabora(&s.store, id, &rt.id_dominio, &rt.iuv, &rt.ccp, &raw).await {
        Ok(()) | Err(ErroreRt::Duplicata) => {}
        Err(ErroreRt::RptSconosciuta) => {
            return Err(ApiError::Conflict(
                "ancora nessuna posizione per questa ricevuta: resta in quarantena".into(),
            ));
        }
        Err(ErroreRt::Store(e)) => return Err(e.into()),
        Err(e) => return Err(ApiError::Conflict(e.to_string())),
    }
    let (rt, _) = s.store.pagamenti().get_rt(id).await?;
    Ok(Json(rt.into()))
}

/// Sends the receipt email again (a positive RT only).
#[utoipa::path(post, path = "/api/v1/rt/{id}/reinvia-email", tag = "rt", params(("id" = i64, Path)),
    responses((status = 202, body = Accodato), (status = 404, body = Problem), (status = 409, body = Problem)), security(("bearer" = [])))]
async fn reinvia_email(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<(axum::http::StatusCode, Json<Accodato>), ApiError> {
    let (rt, _) = s.store.pagamenti().get_rt(id).await?;
    caller.scope(&rt.id_dominio)?;
    if !matches!(rt.codice_esito, Some(0 | 2)) {
        return Err(ApiError::Conflict(
            "solo una RT con pagamento eseguito ha una ricevuta da inviare".into(),
        ));
    }
    let job = s
        .store
        .outbox()
        .enqueue_payload(crate::model::TipoJob::RtEmail.as_str(), Some(id), "{}")
        .await?;
    Ok((axum::http::StatusCode::ACCEPTED, Json(Accodato { job })))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct ChiaveRpt {
    pub id_dominio: String,
    pub iuv: String,
    pub ccp: String,
}

/// Asks the Nodo where an RPT stands and fetches its RT (nodoChiediStatoRPT, then
/// nodoChiediCopiaRT), as the recovery does on its own after a while.
#[utoipa::path(post, path = "/api/v1/rt/richiedi-copia", tag = "rt", request_body = ChiaveRpt,
    responses((status = 202, body = Accodato), (status = 404, body = Problem)), security(("bearer" = [])))]
async fn richiedi_copia(
    State(s): State<AppState>,
    caller: Caller,
    Json(k): Json<ChiaveRpt>,
) -> Result<(axum::http::StatusCode, Json<Accodato>), ApiError> {
    caller.scope(&k.id_dominio)?;
    let rpt = s
        .store
        .pagamenti()
        .get_rpt(&k.id_dominio, &k.iuv, &k.ccp)
        .await?
        .ok_or_else(|| ApiError::NotFound("RPT non trovata".into()))?;
    let job = s
        .store
        .outbox()
        .enqueue_payload(
            crate::model::TipoJob::RecuperoRt.as_str(),
            Some(rpt.id),
            "{}",
        )
        .await?;
    Ok((axum::http::StatusCode::ACCEPTED, Json(Accodato { job })))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct ChiaveRicevuta {
    pub id_dominio: String,
    pub iuv: String,
    /// The IUR the reporting flow gives: for the new model, the receiptId.
    pub iur: String,
}

/// Asks Biz Events for a new-model receipt that never came (as the gateway does on its own
/// for every payment a reporting flow reports without its receipt); applied like a
/// paSendRT when found. 409 without `biz_events.url`.
#[utoipa::path(post, path = "/api/v1/rt/recupera-ricevuta", tag = "rt", request_body = ChiaveRicevuta,
    responses((status = 202, body = Accodato), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)), security(("bearer" = [])))]
async fn recupera_ricevuta(
    State(s): State<AppState>,
    caller: Caller,
    Json(k): Json<ChiaveRicevuta>,
) -> Result<(axum::http::StatusCode, Json<Accodato>), ApiError> {
    caller.scope(&k.id_dominio)?;
    if s.config.biz_events.url.is_none() {
        return Err(ApiError::Conflict(
            "biz_events.url non configurato: nessun servizio a cui chiedere".into(),
        ));
    }
    crate::model::Iuv::parse(&k.iuv).map_err(|e| ApiError::Validation(format!("iuv: {e}")))?;
    if k.iur.is_empty() || k.iur.len() > 35 {
        return Err(ApiError::Validation("iur: da 1 a 35 caratteri".into()));
    }
    s.store.registro().get_ente(&k.id_dominio).await?;
    let job = crate::pagamenti::ricevute::accoda_recupero(&s.store, &k.id_dominio, &k.iuv, &k.iur)
        .await?;
    Ok((axum::http::StatusCode::ACCEPTED, Json(Accodato { job })))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RtQuery {
    id_dominio: Option<String>,
    /// RICEVUTA, ELABORATA, ANOMALA, QUARANTENA or INVALIDA.
    stato: Option<String>,
}

/// Received RTs, newest first (e.g. `?stato=QUARANTENA`).
#[utoipa::path(get, path = "/api/v1/rt", tag = "rt", params(RtQuery, Paging),
    responses((status = 200, body = Page<RtRicevuta>), (status = 401, body = Problem), (status = 404, body = Problem)), security(("bearer" = [])))]
async fn list(
    State(s): State<AppState>,
    caller: Caller,
    Query(q): Query<RtQuery>,
    Query(paging): Query<Paging>,
) -> Result<Json<Page<RtRicevuta>>, ApiError> {
    let (limit, offset) = paging.limit_offset().map_err(ApiError::Validation)?;
    let dominio = caller.dominio_filter(q.id_dominio)?;
    let (items, total) = s
        .store
        .pagamenti()
        .list_rt(dominio.as_deref(), q.stato.as_deref(), limit, offset)
        .await?;
    Ok(Json(Page {
        items: items.into_iter().map(Into::into).collect(),
        page: paging.page,
        per_page: paging.per_page,
        total,
    }))
}

/// The RT exactly as received.
#[utoipa::path(get, path = "/api/v1/rt/{id}/xml", tag = "rt", params(("id" = i64, Path)),
    responses((status = 200, content_type = "application/xml", body = String), (status = 404, body = Problem), (status = 410, body = Problem)), security(("bearer" = [])))]
async fn raw(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<impl IntoResponse, ApiError> {
    let (rt, raw) = s.store.pagamenti().rt_raw(id).await?;
    caller.scope(&rt.id_dominio)?;
    Ok(([(header::CONTENT_TYPE, "application/xml")], raw))
}
