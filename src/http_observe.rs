//! What every HTTP request of the REST API and of the web pages gets: a span (request id,
//! route template) and the request metrics.

use axum::extract::{MatchedPath, Request};
use axum::middleware::Next;
use axum::response::Response;
use std::time::Instant;

/// A request's span: its id (also in the `x-request-id` response header, so a caller's
/// report finds the log lines) and the route template. Not the URI: a query may carry a
/// codice fiscale, which has no place in a log.
pub fn request_span<B>(req: &axum::http::Request<B>) -> tracing::Span {
    let id = req
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or("unmatched", |p| p.as_str());
    tracing::info_span!("http", request_id = %id, method = %req.method(), route = %route)
}

pub async fn record_metrics(req: Request, next: Next) -> Response {
    let start = Instant::now();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let method = req.method().to_string();
    let resp = next.run(req).await;
    let status = resp.status().as_u16().to_string();
    metrics::counter!(crate::metrics::HTTP_REQUESTS, "method" => method.clone(), "route" => route.clone(), "status" => status).increment(1);
    metrics::histogram!(crate::metrics::HTTP_DURATION, "method" => method, "route" => route)
        .record(start.elapsed().as_secs_f64());
    resp
}

/// Whether the path or the query carries a percent-encoded control character (`%00`,
/// `%0A`, `%7F`…): no valid input anywhere, and PostgreSQL refuses a NUL with an error
/// that would turn into a 500. REST and web refuse such a request with a 400 of their own.
pub fn control_characters(uri: &axum::http::Uri) -> bool {
    let bad = |s: &str| {
        let b = s.as_bytes();
        let hex = |c: u8| char::from(c).to_digit(16);
        b.windows(3).any(|w| match (w[0], hex(w[1]), hex(w[2])) {
            (b'%', Some(h), Some(l)) => h < 2 || (h == 7 && l == 0xf),
            _ => false,
        })
    };
    bad(uri.path()) || uri.query().is_some_and(bad)
}
