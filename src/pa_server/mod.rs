//! The PA-side SOAP endpoint the Nodo calls over mutual TLS: paaVerificaRPT and paaAttivaRPT
//! (`/pagamenti-psp`, PaPerNodoPagamentoPsp.wsdl) and paaInviaRT (`/ricevute`,
//! PaPerNodo.wsdl); any of the three may be posted to any path (dispatch is on the body
//! element, cross-checked with SOAPAction). `GET <path>?wsdl` serves the official WSDL, and
//! its relative imports (`../xsd/…`) resolve to `GET /xsd/<file>`.
//!
//! Every call: envelope and header read (→ PAA_SINTASSI_EXTRAXSD), then the intermediary,
//! station and dominio checked against the registry (→ PAA_ID_INTERMEDIARIO_ERRATO,
//! PAA_STAZIONE_INT_ERRATA, PAA_ID_DOMINIO_ERRATO), then the operation.

mod verifica;

use crate::soap::sanp2::{Esito, EsitoPaa, EsitoPaaInviaRT, IntestazionePPT};
use crate::soap::{
    FaultBean, FaultCode, NS_PPTHEAD, read_envelope, write_envelope, write_soap_fault,
};
use crate::store::Store;
use crate::xml::Limits;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use std::time::Instant;

const WSDL_PSP: &str = include_str!("../../wsdl/PaPerNodoPagamentoPsp.wsdl");
const WSDL_RT: &str = include_str!("../../wsdl/PaPerNodo.wsdl");
const XSD_PAGINF: &str = include_str!("../../xsd/PagInf_RPT_RT_6_2_0.xsd");
const XSD_SAC: &str = include_str!("../../xsd/sac-common-types-1.0.xsd");

pub const SOAP_REQUESTS: &str = "pagopa_gateway_pa_soap_requests_total";
pub const SOAP_DURATION: &str = "pagopa_gateway_pa_soap_duration_seconds";

#[derive(Clone)]
pub struct PaState {
    pub store: Store,
}

pub fn router(state: PaState) -> Router {
    Router::new()
        .route("/", get(|q: RawQuery| wsdl(q, WSDL_PSP)).post(soap))
        .route(
            "/pagamenti-psp",
            get(|q: RawQuery| wsdl(q, WSDL_PSP)).post(soap),
        )
        .route("/ricevute", get(|q: RawQuery| wsdl(q, WSDL_RT)).post(soap))
        .route("/xsd/{file}", get(xsd))
        .fallback(|| async { StatusCode::NOT_FOUND })
        .with_state(state)
}

fn xml(status: StatusCode, body: impl Into<axum::body::Body>) -> Response {
    Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, "text/xml; charset=utf-8")
        .body(body.into())
        .expect("static headers")
}

async fn wsdl(RawQuery(q): RawQuery, doc: &'static str) -> Response {
    if q.as_deref().is_some_and(|q| q.eq_ignore_ascii_case("wsdl")) {
        xml(StatusCode::OK, doc)
    } else {
        StatusCode::METHOD_NOT_ALLOWED.into_response()
    }
}

async fn xsd(Path(file): Path<String>) -> Response {
    match file.as_str() {
        "PagInf_RPT_RT_6_2_0.xsd" => xml(StatusCode::OK, XSD_PAGINF),
        "sac-common-types-1.0.xsd" => xml(StatusCode::OK, XSD_SAC),
        _ => StatusCode::NOT_FOUND.into_response(),
    }
}

/// The operations this endpoint answers, by body element.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Operazione {
    Verifica,
    Attiva,
    InviaRT,
}

impl Operazione {
    fn from_element(name: &str) -> Option<Self> {
        match name {
            "paaVerificaRPT" => Some(Self::Verifica),
            "paaAttivaRPT" => Some(Self::Attiva),
            "paaInviaRT" => Some(Self::InviaRT),
            _ => None,
        }
    }
    fn name(self) -> &'static str {
        match self {
            Self::Verifica => "paaVerificaRPT",
            Self::Attiva => "paaAttivaRPT",
            Self::InviaRT => "paaInviaRT",
        }
    }
    /// The KO answer of this operation, in its own (double-wrapped) response element.
    fn ko(self, fault: FaultBean) -> String {
        match self {
            Self::Verifica => EsitoPaa::ko(fault).write("paaVerificaRPTRisposta"),
            Self::Attiva => EsitoPaa::ko(fault).write("paaAttivaRPTRisposta"),
            Self::InviaRT => EsitoPaaInviaRT {
                fault: Some(fault),
                esito: Esito::KO,
            }
            .write(),
        }
    }
}

/// A request that passed the envelope, header and registry checks.
pub(crate) struct Richiesta<'a> {
    pub header: IntestazionePPT,
    pub body: &'a str,
}

async fn soap(State(s): State<PaState>, headers: HeaderMap, body: Bytes) -> Response {
    let start = Instant::now();
    let (status, op, outcome, payload) = handle(&s, &headers, &body).await;
    metrics::counter!(SOAP_REQUESTS, "operation" => op, "outcome" => outcome.clone()).increment(1);
    metrics::histogram!(SOAP_DURATION, "operation" => op).record(start.elapsed().as_secs_f64());
    xml(status, payload)
}

/// Returns (HTTP status, operation, outcome = "OK" or the faultCode, response envelope).
async fn handle(
    s: &PaState,
    headers: &HeaderMap,
    body: &[u8],
) -> (StatusCode, &'static str, String, String) {
    let env = match read_envelope(body, Limits::MESSAGE) {
        Ok(e) => e,
        Err(e) => {
            // No operation can be told: a SOAP Fault carrying the faultBean.
            let f = e.fault(true, "");
            return (
                StatusCode::INTERNAL_SERVER_ERROR,
                "unknown",
                f.fault_code.clone(),
                write_soap_fault("soapenv:Client", &f.fault_string, Some(&f)),
            );
        }
    };
    let action = headers.get("soapaction").and_then(|v| v.to_str().ok());
    let Some(op) = Operazione::from_element(&env.body.name) else {
        let f = FaultBean::new(
            FaultCode::PaaSintassiExtraxsd,
            "",
            Some(format!(
                "operazione {} non esposta da questo endpoint",
                env.body.name
            )),
        );
        return (
            StatusCode::INTERNAL_SERVER_ERROR,
            "unknown",
            f.fault_code.clone(),
            write_soap_fault("soapenv:Client", &f.fault_string, Some(&f)),
        );
    };
    let answer = |f: FaultBean| {
        (
            StatusCode::OK,
            op.name(),
            f.fault_code.clone(),
            write_envelope(None, &op.ko(f)),
        )
    };
    if let Err(e) = crate::soap::operation(&env, action) {
        return answer(e.fault(true, ""));
    }
    let header = match env
        .header(NS_PPTHEAD, "intestazionePPT")
        .map(|h| IntestazionePPT::parse(h.xml))
    {
        Some(Ok(h)) => h,
        Some(Err(e)) => return answer(e.fault(true, "")),
        None => {
            return answer(FaultBean::new(
                FaultCode::PaaSintassiExtraxsd,
                "",
                Some("header intestazionePPT mancante".into()),
            ));
        }
    };
    let id = header.id_dominio.clone();
    if let Err(f) = check_registry(&s.store, &header).await {
        return answer(f);
    }
    let req = Richiesta {
        header,
        body: env.body.xml,
    };
    let result = match op {
        Operazione::Verifica => verifica::verifica(&s.store, &req).await,
        Operazione::Attiva | Operazione::InviaRT => Err(FaultBean::new(
            FaultCode::PaaSystemError,
            &id,
            Some(format!(
                "{} non ancora disponibile su questo endpoint",
                op.name()
            )),
        )),
    };
    match result {
        Ok(payload) => (
            StatusCode::OK,
            op.name(),
            "OK".into(),
            write_envelope(None, &payload),
        ),
        Err(f) => answer(f),
    }
}

/// The header must name our intermediary and station and a dominio we serve; faults carry
/// the dominio as `id`.
async fn check_registry(store: &Store, h: &IntestazionePPT) -> Result<(), FaultBean> {
    let system = |e: crate::store::StoreError| {
        tracing::error!(error = %e, "registry unavailable");
        FaultBean::new(FaultCode::PaaSystemError, &h.id_dominio, None)
    };
    let i = store.get_intermediario().await.map_err(system)?;
    if h.id_intermediario_pa != i.id_intermediario_pa {
        return Err(FaultBean::new(
            FaultCode::PaaIdIntermediarioErrato,
            &h.id_dominio,
            None,
        ));
    }
    if h.id_stazione != i.id_stazione {
        return Err(FaultBean::new(
            FaultCode::PaaStazioneIntErrata,
            &h.id_dominio,
            None,
        ));
    }
    match store.get_ente(&h.id_dominio).await {
        Ok(e) if e.attivo => Ok(()),
        Ok(_) | Err(crate::store::StoreError::NotFound) => Err(FaultBean::new(
            FaultCode::PaaIdDominioErrato,
            &h.id_dominio,
            None,
        )),
        Err(e) => Err(system(e)),
    }
}
