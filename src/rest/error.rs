//! The REST boundary's one error type, rendered as RFC 9457 problem+json with a stable
//! `code`. A middleware also rewrites axum's own plain-text rejections (bad JSON, unknown
//! route, body too large) into the same shape, so clients parse one format.

use crate::store::StoreError;
use axum::body::Body;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

pub const PROBLEM_JSON: &str = "application/problem+json";

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Problem {
    /// `urn:pagopa-gateway:problem:<code>`
    #[serde(rename = "type")]
    pub type_: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// Stable machine-readable code, e.g. `NOT_FOUND`, `VALIDATION_FAILED`.
    pub code: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    NotFound(String),
    #[error("missing or invalid credentials")]
    Unauthorized,
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    Validation(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    Unavailable(String),
    #[error("{0}")]
    TooManyRequests(String),
    #[error("{0}")]
    TooLarge(String),
    /// Existed, and was removed by the retention (`retention.*`).
    #[error("{0}")]
    Gone(String),
    /// The Nodo refused what we forwarded (its fault in the detail).
    #[error("{0}")]
    BadGateway(String),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl ApiError {
    fn parts(&self) -> (StatusCode, &'static str) {
        match self {
            Self::NotFound(_) => (StatusCode::NOT_FOUND, "NOT_FOUND"),
            Self::Unauthorized => (StatusCode::UNAUTHORIZED, "UNAUTHORIZED"),
            Self::Forbidden(_) => (StatusCode::FORBIDDEN, "FORBIDDEN"),
            Self::Validation(_) => (StatusCode::UNPROCESSABLE_ENTITY, "VALIDATION_FAILED"),
            Self::Conflict(_) => (StatusCode::CONFLICT, "CONFLICT"),
            Self::Unavailable(_) => (StatusCode::SERVICE_UNAVAILABLE, "SERVICE_UNAVAILABLE"),
            Self::TooManyRequests(_) => (StatusCode::TOO_MANY_REQUESTS, "TOO_MANY_REQUESTS"),
            Self::TooLarge(_) => (StatusCode::PAYLOAD_TOO_LARGE, "PAYLOAD_TOO_LARGE"),
            Self::Gone(_) => (StatusCode::GONE, "GONE"),
            Self::BadGateway(_) => (StatusCode::BAD_GATEWAY, "NODO_REFUSED"),
            Self::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "INTERNAL_ERROR"),
        }
    }
}

impl From<crate::pagamenti::portale::ErrorePortale> for ApiError {
    fn from(e: crate::pagamenti::portale::ErrorePortale) -> Self {
        use crate::pagamenti::portale::ErrorePortale as E;
        match e {
            E::NonTrovato | E::EnteNonTrovato => ApiError::NotFound(e.to_string()),
            E::Validazione(m) => ApiError::Validation(m),
            E::Store(s) => s.into(),
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => ApiError::NotFound("risorsa non trovata".into()),
            StoreError::Conflict(m) => ApiError::Conflict(m),
            StoreError::Eliminato => ApiError::Gone(
                "documento eliminato dopo il periodo di conservazione configurato".into(),
            ),
            e if e.is_unavailable() => {
                tracing::warn!(error = %e, "database unavailable");
                ApiError::Unavailable("database non disponibile: riprovare tra poco".into())
            }
            other => ApiError::Internal(other.into()),
        }
    }
}

pub fn problem_response(status: StatusCode, code: &str, detail: String) -> Response {
    let body = Problem {
        type_: format!("urn:pagopa-gateway:problem:{}", code.to_ascii_lowercase()),
        title: status.canonical_reason().unwrap_or("Error").to_owned(),
        status: status.as_u16(),
        detail,
        code: code.to_owned(),
        request_id: None,
    };
    let mut r = (
        status,
        serde_json::to_string(&body).expect("problem serializes"),
    )
        .into_response();
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
    r
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code) = self.parts();
        let detail = match &self {
            // Never leak internals; the log has the cause.
            ApiError::Internal(e) => {
                tracing::error!(error = ?e, "internal error");
                "errore interno: l'evento è stato registrato".to_owned()
            }
            other => other.to_string(),
        };
        let mut r = problem_response(status, code, detail);
        if matches!(self, ApiError::Unauthorized) {
            r.headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        r
    }
}

fn code_for(status: StatusCode) -> &'static str {
    match status {
        StatusCode::BAD_REQUEST => "BAD_REQUEST",
        StatusCode::NOT_FOUND => "NOT_FOUND",
        StatusCode::METHOD_NOT_ALLOWED => "METHOD_NOT_ALLOWED",
        StatusCode::PAYLOAD_TOO_LARGE => "PAYLOAD_TOO_LARGE",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "UNSUPPORTED_MEDIA_TYPE",
        StatusCode::UNPROCESSABLE_ENTITY => "VALIDATION_FAILED",
        StatusCode::REQUEST_TIMEOUT => "TIMEOUT",
        s if s.is_server_error() => "INTERNAL_ERROR",
        _ => "ERROR",
    }
}

/// Middleware: turns any error response that is not already problem+json into one, and
/// stamps the request id into every problem.
pub async fn problemize(req: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let request_id = req
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let resp = next.run(req).await;
    let status = resp.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return resp;
    }
    let (mut parts, body) = resp.into_parts();
    let bytes = axum::body::to_bytes(body, 64 * 1024)
        .await
        .unwrap_or_default();
    let is_problem = parts
        .headers
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes() == PROBLEM_JSON.as_bytes());
    let mut value: serde_json::Value = if is_problem {
        serde_json::from_slice(&bytes).unwrap_or_default()
    } else {
        let detail = String::from_utf8_lossy(&bytes).trim().to_owned();
        let detail = if detail.is_empty() {
            status.canonical_reason().unwrap_or("error").to_owned()
        } else {
            detail
        };
        let p = Problem {
            type_: format!(
                "urn:pagopa-gateway:problem:{}",
                code_for(status).to_ascii_lowercase()
            ),
            title: status.canonical_reason().unwrap_or("Error").to_owned(),
            status: status.as_u16(),
            detail,
            code: code_for(status).to_owned(),
            request_id: None,
        };
        serde_json::to_value(p).expect("problem serializes")
    };
    if let (Some(id), Some(obj)) = (request_id, value.as_object_mut()) {
        obj.insert("request_id".into(), id.into());
    }
    parts
        .headers
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, Body::from(serde_json::to_vec(&value).expect("json")))
}
