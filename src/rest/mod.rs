//! The REST facade (JSON over HTTP) for portals and operators, plus the operational
//! endpoints: `/healthz`, `/readyz`, `/metrics`, `/api/v1/openapi.json`, `/swagger-ui`.

mod accertamenti;
pub mod auth;
pub mod cittadino;
mod dovuti;
mod enti;
pub mod error;
mod flussi;
mod journal;
pub mod limite;
pub(crate) mod outbox;
pub mod portale;
mod riconciliazione;
mod rt;
mod tesoreria;
mod upload;
mod viste;
mod viste_contabili;

pub use error::{ApiError, Problem};

use crate::store::Store;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::{Json, Router};
use metrics_exporter_prometheus::PrometheusHandle;
use std::collections::BTreeMap;
use std::sync::Arc;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;
use utoipa_swagger_ui::SwaggerUi;

#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    /// The client toward the Nodo (journaled), for portal payments.
    pub nodo: crate::node_client::NodoClient,
    /// pagoPA Checkout, for portal carts of enti not kept on WISP.
    pub checkout: crate::checkout_client::CheckoutClient,
    /// Per-client limits of the portal's public endpoints.
    pub limiti: Arc<limite::Limiti>,
    /// The registry rows every payment reads, shared with the PA endpoint.
    pub cache: Arc<crate::store::cache::RegistryCache>,
    /// The supervised background tasks, for `/readyz`.
    pub tasks: crate::supervise::Supervisor,
    /// How citizen tokens are verified; `None`: the citizen area answers 401.
    pub jwt: Option<Arc<cittadino::JwtConfig>>,
    pub admin_token_digest: [u8; 32],
    pub metrics: PrometheusHandle,
    /// The gauges read at each scrape (outbox, quarantine, queues, pool, certificates).
    pub sonde: Arc<crate::gauges::Sonde>,
    pub config: Arc<crate::config::Config>,
}

#[derive(OpenApi)]
#[openapi(
    info(title = "pagopa-gateway", description = "REST facade of the pagoPA intermediary: registry of enti, tipi dovuto and dovuti; portal and MyPivot APIs. Errors are application/problem+json."),
    modifiers(&BearerAuth),
    tags(
        (name = "system", description = "Health, readiness, metrics"),
        (name = "enti", description = "Enti creditori, their operators' API keys and the intermediary"),
        (name = "tipi-dovuto", description = "Tipi dovuto per ente"),
        (name = "dovuti", description = "Debt positions and their bulk import"),
        (name = "journal", description = "Every SOAP exchange with the Nodo, both directions"),
        (name = "rt", description = "Received RTs, quarantine included"),
        (name = "accertamenti", description = "MyPivot accounting: chart ufficio–capitolo–accertamento, accertamenti, statistics"),
    )
)]
struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("Admin token or per-ente operator API key (pgw_…)"))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "citizen_jwt",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some("The citizen's identity, signed by the portal (HS256 or RS256; iss, aud, exp checked)"))
                    .build(),
            ),
        );
    }
}

/// The documented routes, with their OpenAPI document.
fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(utoipa_axum::routes!(healthz))
        .routes(utoipa_axum::routes!(readyz))
        .routes(utoipa_axum::routes!(metrics))
        .merge(enti::router())
        .merge(dovuti::router())
        .merge(journal::router())
        .merge(rt::router())
        .merge(outbox::router())
        .merge(flussi::router())
        .merge(portale::router())
        .merge(cittadino::router())
        .merge(tesoreria::router())
        .merge(riconciliazione::router())
        .merge(accertamenti::router())
}

/// The OpenAPI document served at `/api/v1/openapi.json`.
pub fn openapi() -> utoipa::openapi::OpenApi {
    let mut doc = api().into_openapi();
    document_errors(&mut doc);
    doc
}

/// Errors are problem+json everywhere, and some can come from any route: documents them
/// once here instead of on every path. Every operation may answer 400 (unreadable path,
/// query or body), 422 (invalid values), 500 and 503 (database unavailable); a protected one
/// also 401, 403 and 404 (another ente's data); one with a body also 413 and 415.
fn document_errors(doc: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::path::Operation;
    use utoipa::openapi::{Content, Ref, RefOr, ResponseBuilder};
    const PROBLEM: &str = "application/problem+json";
    let problem = || Content::new(Some(Ref::from_schema_name("Problem")));
    let is_problem = |c: &RefOr<Content>| match c {
        RefOr::T(c) => {
            matches!(&c.schema, Some(RefOr::Ref(r)) if r.ref_location.ends_with("/Problem"))
        }
        RefOr::Ref(_) => false,
    };
    let fix = |op: &mut Operation| {
        for r in op.responses.responses.values_mut() {
            if let RefOr::T(r) = r
                && let Some(c) = r.content.get("application/json")
                && is_problem(c)
            {
                let c = r.content.shift_remove("application/json").expect("present");
                r.content.insert(PROBLEM.into(), c);
            }
        }
        let secured = op.security.as_ref().is_some_and(|s| !s.is_empty());
        let mut codes = vec![
            ("400", "Unreadable request (path, query or body)"),
            ("422", "Invalid values"),
            ("500", "Internal error"),
            ("503", "Database unavailable"),
        ];
        if secured {
            codes.extend([
                ("401", "Missing or invalid credentials"),
                ("403", "Not allowed for this caller"),
                ("404", "Not found (or another ente's)"),
            ]);
        }
        if op.request_body.is_some() {
            codes.extend([
                ("413", "Body too large"),
                ("415", "Unsupported content type"),
            ]);
        }
        for (code, why) in codes {
            op.responses
                .responses
                .entry(code.into())
                .or_insert_with(|| {
                    RefOr::T(
                        ResponseBuilder::new()
                            .description(why)
                            .content(PROBLEM, problem())
                            .build(),
                    )
                });
        }
    };
    for item in doc.paths.paths.values_mut() {
        for op in [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.patch,
        ]
        .into_iter()
        .flatten()
        {
            fix(op);
        }
    }
}

pub fn router(state: AppState) -> Router {
    let (router, mut openapi) = api().split_for_parts();
    document_errors(&mut openapi);
    let cfg = state.config.clone();
    let request_id = HeaderName::from_static("x-request-id");
    let mut app = router
        .merge(SwaggerUi::new("/swagger-ui").url("/api/v1/openapi.json", openapi))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            record_changes,
        ))
        // A bug must cost one request a 500, never the connection or the process.
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(
            |_: Box<dyn std::any::Any + Send>| {
                tracing::error!("panic while handling a REST request");
                error::problem_response(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "INTERNAL_ERROR",
                    "errore interno".into(),
                )
            },
        ))
        .layer(middleware::from_fn(run_to_end))
        .layer(middleware::from_fn(refuse_control_characters))
        .layer(middleware::from_fn(crate::http_observe::record_metrics))
        .layer(middleware::from_fn(error::problemize))
        .layer(DefaultBodyLimit::max(cfg.rest.body_limit_bytes))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(crate::http_observe::request_span)
                .on_request(())
                .on_response(
                    tower_http::trace::DefaultOnResponse::new()
                        .level(tracing::Level::INFO)
                        .latency_unit(tower_http::LatencyUnit::Micros),
                ),
        )
        .layer(PropagateRequestIdLayer::new(request_id.clone()))
        .layer(SetRequestIdLayer::new(request_id, MakeRequestUuid))
        .with_state(state);
    if !cfg.rest.cors_origins.is_empty() {
        let origins: Vec<HeaderValue> = cfg
            .rest
            .cors_origins
            .iter()
            .filter_map(|o| o.parse().ok())
            .collect();
        app = app.layer(
            CorsLayer::new()
                .allow_origin(AllowOrigin::list(origins))
                .allow_methods(tower_http::cors::Any)
                .allow_headers(tower_http::cors::Any),
        );
    }
    app
}

/// Every change an operator, a machine or the administrator makes (a request that is not
/// a read) goes to the journal of changes with who made it, the route and the answer's
/// status, refusals included. Citizens' calls (no [`auth::Caller`]) are not operators'
/// changes and stay out.
async fn record_changes(
    State(s): State<AppState>,
    mut req: axum::extract::Request,
    next: middleware::Next,
) -> Response {
    if matches!(
        *req.method(),
        axum::http::Method::GET | axum::http::Method::HEAD | axum::http::Method::OPTIONS
    ) {
        return next.run(req).await;
    }
    let chi = auth::Chi::default();
    req.extensions_mut().insert(chi.clone());
    let metodo = req.method().to_string();
    let percorso = req.uri().path().to_owned();
    let r = next.run(req).await;
    // Answered 503: the database is stalled or gone, nothing was changed, and the record
    // would only wait out the same lock (doubling the caller's wait) to fail in turn.
    if r.status() == StatusCode::SERVICE_UNAVAILABLE {
        if let Some(nome) = chi.0.get() {
            tracing::warn!(operatore = %nome, %metodo, %percorso, "database unavailable: refused change not recorded");
        }
        return r;
    }
    if let Some(nome) = chi.0.get()
        && let Err(e) = s
            .store
            .operatori()
            .record_change(nome, &metodo, &percorso, r.status().as_u16())
            .await
    {
        tracing::warn!(error = %e, %percorso, "change not recorded in the journal of changes");
    }
    r
}

/// A handler runs to its end in its own task, even when the client goes away (hyper then
/// drops the request's future): sqlx's PostgreSQL statements are not cancel-safe, and one
/// cut off mid-flight can leave its connection waiting forever with its pool slot, until
/// the pool is empty and every request fails. The panic layer runs inside the task; the
/// request's span follows it.
async fn run_to_end(req: Request, next: Next) -> Response {
    crate::supervise::to_the_end(next.run(req))
        .await
        .unwrap_or_else(|| ApiError::Unavailable("servizio in arresto".into()).into_response())
}

/// A control character percent-encoded in the path or the query (`%00`, `%0A`…) is no
/// valid input anywhere in this API; PostgreSQL would refuse a NUL with an error that turns
/// into a 500. Refused here once with 400, before any handler or database sees it.
async fn refuse_control_characters(req: Request, next: Next) -> Response {
    if crate::http_observe::control_characters(req.uri()) {
        return error::problem_response(
            StatusCode::BAD_REQUEST,
            "BAD_REQUEST",
            "caratteri di controllo non ammessi nell'indirizzo".into(),
        );
    }
    next.run(req).await
}

#[derive(serde::Serialize, utoipa::ToSchema)]
struct Health {
    status: &'static str,
    version: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    database: Option<&'static str>,
    /// The background tasks (sweeper, riconciliazione, retention): running, and how often
    /// they were restarted after a panic. A task that keeps restarting is an alert
    /// (`pagopa_gateway_task_restarts_total`), not a reason to stop serving payments.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    tasks: BTreeMap<&'static str, StatoTask>,
}

/// A background task's state.
#[derive(serde::Serialize, utoipa::ToSchema)]
struct StatoTask {
    running: bool,
    restarts: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    last_failure: Option<String>,
}

/// Liveness: the process answers.
#[utoipa::path(get, path = "/healthz", tag = "system", responses((status = 200, body = Health)))]
async fn healthz() -> Json<Health> {
    Json(Health {
        status: "ok",
        version: env!("CARGO_PKG_VERSION"),
        database: None,
        tasks: BTreeMap::new(),
    })
}

/// Readiness: the database answers.
#[utoipa::path(get, path = "/readyz", tag = "system", responses((status = 200, body = Health), (status = 503, body = Problem)))]
async fn readyz(State(s): State<AppState>) -> Result<Json<Health>, ApiError> {
    s.store
        .ping_within(std::time::Duration::from_secs(2))
        .await
        .map_err(|e| ApiError::Unavailable(format!("database non raggiungibile: {e}")))?;
    let tasks = s
        .tasks
        .stato()
        .into_iter()
        .map(|(name, t)| {
            let view = StatoTask {
                running: t.running,
                restarts: t.restarts,
                last_failure: t.last_failure,
            };
            (name, view)
        })
        .collect();
    Ok(Json(Health {
        status: "ready",
        version: env!("CARGO_PKG_VERSION"),
        database: Some(s.store.backend()),
        tasks,
    }))
}

/// Prometheus text exposition.
#[utoipa::path(get, path = "/metrics", tag = "system", responses((status = 200, content_type = "text/plain", body = String)))]
async fn metrics(State(s): State<AppState>) -> impl IntoResponse {
    s.sonde.refresh().await;
    (
        StatusCode::OK,
        [("content-type", "text/plain; version=0.0.4")],
        s.metrics.render(),
    )
}
