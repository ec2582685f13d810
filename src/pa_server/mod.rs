//! The PA-side SOAP endpoint the Nodo calls over mutual TLS: paaVerificaRPT and paaAttivaRPT
//! (`/pagamenti-psp`, PaPerNodoPagamentoPsp.wsdl) and paaInviaRT (`/ricevute`,
//! PaPerNodo.wsdl). `GET <path>?wsdl` serves the official WSDL; its relative imports
//! (`../xsd/…`) resolve to `GET /xsd/<file>`. Until the operations land, every call gets a
//! SOAP 1.1 Server fault, so a caller never mistakes the endpoint for a working one.

use axum::Router;
use axum::extract::{Path, RawQuery};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

const WSDL_PSP: &str = include_str!("../../wsdl/PaPerNodoPagamentoPsp.wsdl");
const WSDL_RT: &str = include_str!("../../wsdl/PaPerNodo.wsdl");
const XSD_PAGINF: &str = include_str!("../../xsd/PagInf_RPT_RT_6_2_0.xsd");
const XSD_SAC: &str = include_str!("../../xsd/sac-common-types-1.0.xsd");

pub fn router() -> Router {
    Router::new()
        .route(
            "/",
            get(|q: RawQuery| wsdl(q, WSDL_PSP)).post(not_available),
        )
        .route(
            "/pagamenti-psp",
            get(|q: RawQuery| wsdl(q, WSDL_PSP)).post(not_available),
        )
        .route(
            "/ricevute",
            get(|q: RawQuery| wsdl(q, WSDL_RT)).post(not_available),
        )
        .route("/xsd/{file}", get(xsd))
        .fallback(not_available)
}

fn xml(status: StatusCode, body: &'static str) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/xml; charset=utf-8")],
        body,
    )
        .into_response()
}

async fn wsdl(RawQuery(q): RawQuery, doc: &'static str) -> Response {
    if q.as_deref().is_some_and(|q| q.eq_ignore_ascii_case("wsdl")) {
        xml(StatusCode::OK, doc)
    } else {
        not_available().await
    }
}

async fn xsd(Path(file): Path<String>) -> Response {
    match file.as_str() {
        "PagInf_RPT_RT_6_2_0.xsd" => xml(StatusCode::OK, XSD_PAGINF),
        "sac-common-types-1.0.xsd" => xml(StatusCode::OK, XSD_SAC),
        _ => StatusCode::NOT_FOUND.into_response(),
    }
}

async fn not_available() -> Response {
    let body = concat!(
        r#"<?xml version="1.0" encoding="UTF-8"?>"#,
        r#"<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body>"#,
        r#"<soapenv:Fault><faultcode>soapenv:Server</faultcode><faultstring>operation not available</faultstring></soapenv:Fault>"#,
        r#"</soapenv:Body></soapenv:Envelope>"#
    );
    xml(StatusCode::SERVICE_UNAVAILABLE, body)
}
