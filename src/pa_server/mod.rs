//! The PA-side SOAP endpoint the Nodo calls over mutual TLS (paaVerificaRPT, paaAttivaRPT,
//! paaInviaRT). Until those operations land, every call gets a SOAP 1.1 Server fault, so a
//! caller never mistakes the endpoint for a working one.

use axum::Router;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;

pub fn router() -> Router {
    Router::new().fallback(not_available)
}

async fn not_available() -> impl IntoResponse {
    let body = concat!(
        r#"<?xml version="1.0" encoding="UTF-8"?>"#,
        r#"<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body>"#,
        r#"<soapenv:Fault><faultcode>soapenv:Server</faultcode><faultstring>operation not available</faultstring></soapenv:Fault>"#,
        r#"</soapenv:Body></soapenv:Envelope>"#
    );
    (
        StatusCode::SERVICE_UNAVAILABLE,
        [(header::CONTENT_TYPE, "text/xml; charset=utf-8")],
        body,
    )
}
