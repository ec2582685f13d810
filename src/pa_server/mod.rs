//! The PA-side SOAP endpoint the Nodo calls over mutual TLS: paaVerificaRPT and paaAttivaRPT
//! (`/pagamenti-psp`, PaPerNodoPagamentoPsp.wsdl) and paaInviaRT (`/ricevute`,
//! PaPerNodo.wsdl); any of the three may be posted to any path (dispatch is on the body
//! element, cross-checked with SOAPAction). `GET <path>?wsdl` serves the official WSDL, and
//! its relative imports (`../xsd/…`) resolve to `GET /xsd/<file>`.
//!
//! The new model (paForNode.wsdl) is answered on the same listener: paVerifyPaymentNotice,
//! paGetPayment and paGetPaymentV2, paSendRT and paSendRTV2 (`nuovo_modello`), whose
//! broker, station and creditor come in the body instead of a SOAP header. Each is
//! answered in the version it was asked in; `GET /pa-for-node?wsdl` serves paForNode.wsdl.
//!
//! Every call: envelope and header read (→ PAA_SINTASSI_EXTRAXSD), then the intermediary,
//! station and dominio checked against the registry (→ PAA_ID_INTERMEDIARIO_ERRATO,
//! PAA_STAZIONE_INT_ERRATA, PAA_ID_DOMINIO_ERRATO), then the operation.

pub(crate) mod attiva;
pub(crate) mod invia_rt;
pub(crate) mod nuovo_modello;
pub(crate) mod verifica;

use crate::model::NumeroAvviso;
use crate::soap::new_model::{
    Outcome, PaDemandPaymentNoticeRes, PaGetPaymentRes, PaSendRTRes, PaVerifyPaymentNoticeRes,
    QrCode,
};
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
const WSDL_PA_FOR_NODE: &str = include_str!("../../wsdl/new-model/wsdl/paForNode.wsdl");
const XSD_PA_FOR_NODE: &str = include_str!("../../wsdl/new-model/wsdl/xsd/paForNode.xsd");
const XSD_SAC_NEW_MODEL: &str =
    include_str!("../../wsdl/new-model/xsd-common/sac-common-types-1.0.xsd");
/// The address paForNode.wsdl is published with, replaced by the one it is served from.
const PA_FOR_NODE_ADDRESS: &str = "http://pagopa-api.pagopa.gov.it/service/pa/paForNode";

pub use crate::metrics::ACTIVATIONS_EXPIRED;
pub use crate::metrics::ACTIVATIONS_PENDING;
pub use crate::metrics::PA_SOAP_DEADLINE as DEADLINE;
pub use crate::metrics::PA_SOAP_DURATION as SOAP_DURATION;
pub use crate::metrics::PA_SOAP_REQUESTS as SOAP_REQUESTS;
pub use crate::metrics::PA_SOAP_SHED as SHED;
pub use crate::metrics::RT_QUARANTINE;

#[derive(Clone)]
pub struct PaState {
    pub store: Store,
    pub journal: crate::journal::Journal,
    /// In-flight requests beyond these permits are refused at once with PAA_SYSTEM_ERROR,
    /// before their body is read (see [`shed`]).
    pub limiter: std::sync::Arc<tokio::sync::Semaphore>,
    pub cache: std::sync::Arc<crate::store::cache::RegistryCache>,
    /// Past this, a request is answered PAA_SYSTEM_ERROR (`pa_soap.deadline_ms`).
    pub deadline: std::time::Duration,
    /// The service catalogue paDemandPaymentNotice answers (`pa_soap.servizi`).
    pub servizi: std::sync::Arc<Vec<crate::config::ServizioConfig>>,
}

pub fn router(state: PaState) -> Router {
    let limiter = state.limiter.clone();
    Router::new()
        .route("/", get(|q: RawQuery| wsdl(q, WSDL_PSP)).post(soap))
        .route(
            "/pagamenti-psp",
            get(|q: RawQuery| wsdl(q, WSDL_PSP)).post(soap),
        )
        .route("/ricevute", get(|q: RawQuery| wsdl(q, WSDL_RT)).post(soap))
        .route("/pa-for-node", get(wsdl_pa_for_node).post(soap))
        .route("/xsd/{file}", get(xsd))
        // paForNode.xsd imports `../../xsd-common/…`: from `/xsd/` that is `/xsd-common/`.
        .route("/xsd-common/{file}", get(xsd_common))
        .fallback(|| async { StatusCode::NOT_FOUND })
        .with_state(state)
        .layer(axum::middleware::from_fn_with_state(limiter, shed))
        // The SOAP message limit, instead of axum's 2 MiB default.
        .layer(axum::extract::DefaultBodyLimit::max(
            Limits::MESSAGE.max_bytes,
        ))
        // A bug costs the Nodo one PAA_SYSTEM_ERROR (it retries), never the connection.
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(
            |_: Box<dyn std::any::Any + Send>| {
                tracing::error!("panic while handling a PA request");
                xml(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    crate::soap::write_soap_fault(
                        "soapenv:Server",
                        FaultCode::PaaSystemError.fault_string(),
                        None,
                    ),
                )
            },
        ))
}

/// Load shedding, before the body is read: beyond `pa_soap.max_in_flight` requests at once
/// a POST is answered PAA_SYSTEM_ERROR at once (the Nodo gives up after 7 s: a fast "retry
/// later" beats a slow answer), without reading, parsing or journaling what it carries, so
/// an overload costs as little as possible. Counted in `pagopa_gateway_pa_soap_shed_total`.
async fn shed(
    State(limiter): State<std::sync::Arc<tokio::sync::Semaphore>>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    if req.method() != axum::http::Method::POST {
        return next.run(req).await;
    }
    let Ok(permit) = limiter.try_acquire_owned() else {
        metrics::counter!(SHED).increment(1);
        let f = FaultBean::new(
            FaultCode::PaaSystemError,
            "",
            Some("servizio sovraccarico: riprovare".into()),
        );
        // The operation from SOAPAction alone: the body is not read.
        let op = req
            .headers()
            .get("soapaction")
            .and_then(|v| v.to_str().ok())
            .and_then(crate::soap::soap_action)
            .and_then(Operazione::from_element);
        return match op {
            Some(op) => xml(StatusCode::OK, write_envelope(None, &op.ko(f))),
            None => xml(
                StatusCode::INTERNAL_SERVER_ERROR,
                write_soap_fault("soapenv:Server", &f.fault_string, Some(&f)),
            ),
        };
    };
    let response = next.run(req).await;
    drop(permit);
    response
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

/// paForNode.wsdl with this endpoint's own address (`https://<Host>/pa-for-node`: the
/// listener is TLS, or a TLS-terminating proxy's backend).
async fn wsdl_pa_for_node(RawQuery(q): RawQuery, headers: HeaderMap) -> Response {
    if !q.as_deref().is_some_and(|q| q.eq_ignore_ascii_case("wsdl")) {
        return StatusCode::METHOD_NOT_ALLOWED.into_response();
    }
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| {
            h.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b".-:[]".contains(&b))
        });
    match host {
        Some(host) => xml(
            StatusCode::OK,
            WSDL_PA_FOR_NODE.replace(PA_FOR_NODE_ADDRESS, &format!("https://{host}/pa-for-node")),
        ),
        None => xml(StatusCode::OK, WSDL_PA_FOR_NODE),
    }
}

/// The new model's common types (another schema than SANP 2's file of the same name).
async fn xsd_common(Path(file): Path<String>) -> Response {
    match file.as_str() {
        "sac-common-types-1.0.xsd" => xml(StatusCode::OK, XSD_SAC_NEW_MODEL),
        _ => StatusCode::NOT_FOUND.into_response(),
    }
}

async fn xsd(Path(file): Path<String>) -> Response {
    match file.as_str() {
        "paForNode.xsd" => xml(StatusCode::OK, XSD_PA_FOR_NODE),
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
    /// New model: paVerifyPaymentNotice.
    VerifyPaymentNotice,
    GetPayment,
    GetPaymentV2,
    SendRt,
    SendRtV2,
    DemandPaymentNotice,
}

impl Operazione {
    fn from_element(name: &str) -> Option<Self> {
        match name {
            "paaVerificaRPT" => Some(Self::Verifica),
            "paaAttivaRPT" => Some(Self::Attiva),
            "paaInviaRT" => Some(Self::InviaRT),
            "paVerifyPaymentNoticeReq" | "paVerifyPaymentNotice" => Some(Self::VerifyPaymentNotice),
            "paGetPaymentReq" | "paGetPayment" => Some(Self::GetPayment),
            "paGetPaymentV2Request" | "paGetPaymentV2" => Some(Self::GetPaymentV2),
            "paSendRTReq" | "paSendRT" => Some(Self::SendRt),
            "paSendRTV2Request" | "paSendRTV2" => Some(Self::SendRtV2),
            "paDemandPaymentNoticeRequest" | "paDemandPaymentNotice" => {
                Some(Self::DemandPaymentNotice)
            }
            _ => None,
        }
    }
    fn name(self) -> &'static str {
        match self {
            Self::Verifica => "paaVerificaRPT",
            Self::Attiva => "paaAttivaRPT",
            Self::InviaRT => "paaInviaRT",
            Self::VerifyPaymentNotice => "paVerifyPaymentNotice",
            Self::GetPayment => "paGetPayment",
            Self::GetPaymentV2 => "paGetPaymentV2",
            Self::SendRt => "paSendRT",
            Self::SendRtV2 => "paSendRTV2",
            Self::DemandPaymentNotice => "paDemandPaymentNotice",
        }
    }
    /// paForNode: who calls for whom is in the body, not in an intestazionePPT header.
    fn nuovo_modello(self) -> bool {
        !matches!(self, Self::Verifica | Self::Attiva | Self::InviaRT)
    }
    /// The KO answer of this operation, in its own response element (double-wrapped in
    /// SANP 2, `outcome` before `fault` in the new model).
    fn ko(self, fault: FaultBean) -> String {
        match self {
            Self::Verifica => EsitoPaa::ko(fault).write("paaVerificaRPTRisposta"),
            Self::Attiva => EsitoPaa::ko(fault).write("paaAttivaRPTRisposta"),
            Self::InviaRT => EsitoPaaInviaRT {
                fault: Some(fault),
                esito: Esito::KO,
            }
            .write(),
            Self::VerifyPaymentNotice => PaVerifyPaymentNoticeRes {
                outcome: Outcome::KO,
                fault: Some(fault),
                payment_list: None,
                payment_description: None,
                fiscal_code_pa: None,
                company_name: None,
                office_name: None,
            }
            .write(),
            Self::GetPayment | Self::GetPaymentV2 => {
                let r = PaGetPaymentRes {
                    outcome: Outcome::KO,
                    fault: Some(fault),
                    data: None,
                };
                if self == Self::GetPayment {
                    r.write()
                } else {
                    r.write_v2()
                }
            }
            Self::DemandPaymentNotice => PaDemandPaymentNoticeRes::ko(fault).write(),
            Self::SendRt | Self::SendRtV2 => {
                let r = PaSendRTRes {
                    outcome: Outcome::KO,
                    fault: Some(fault),
                };
                if self == Self::SendRt {
                    r.write()
                } else {
                    r.write_v2()
                }
            }
        }
    }
}

/// Who calls for whom in a new-model request, as its body says it.
#[derive(serde::Deserialize)]
struct Chiamante {
    #[serde(rename = "idPA")]
    id_pa: String,
    #[serde(rename = "idBrokerPA")]
    id_broker_pa: String,
    #[serde(rename = "idStation")]
    id_station: String,
    #[serde(rename = "qrCode", default)]
    qr_code: Option<QrCode>,
    #[serde(default)]
    receipt: Option<ChiaveRicevuta>,
}

#[derive(serde::Deserialize)]
struct ChiaveRicevuta {
    #[serde(rename = "receiptId")]
    receipt_id: String,
    #[serde(rename = "creditorReferenceId")]
    creditor_reference_id: String,
}

/// What a new-model request says of who calls for whom, in the shape the registry check
/// and the journal read (the new model has no intestazionePPT header): the broker, the
/// station, and the ente with the IUV: the notice's creditor and the IUV its number
/// carries, or for a receipt the ente it is sent to (`idPA`: each ente of a
/// multi-beneficiary payment gets its own) with the creditorReferenceId, the receiptId in
/// place of the CCP.
// A fault is the answer itself, built once per failed request: no point boxing it.
#[allow(clippy::result_large_err)]
fn new_model_header(body: &str, element: &str) -> Result<IntestazionePPT, FaultBean> {
    let usuale = element
        .starts_with("paVerifyPaymentNotice")
        .then(|| crate::soap::new_model::PaVerifyPaymentNoticeReq::usuale(body))
        .flatten();
    let r: Chiamante = match usuale {
        Some(v) => Chiamante {
            id_pa: v.id_pa,
            id_broker_pa: v.id_broker_pa,
            id_station: v.id_station,
            qr_code: Some(v.qr_code),
            receipt: None,
        },
        None => crate::soap::de(element, body).map_err(|e| e.fault(true, ""))?,
    };
    let (id_dominio, iuv, ccp) = match (r.qr_code, r.receipt) {
        (Some(qr), _) => {
            let avviso = NumeroAvviso::parse(&qr.notice_number).map_err(|e| {
                FaultBean::new(
                    FaultCode::PaaPagamentoSconosciuto,
                    &qr.fiscal_code,
                    Some(e.to_string()),
                )
            })?;
            (qr.fiscal_code, avviso.iuv().to_string(), String::new())
        }
        (None, Some(rc)) => (r.id_pa, rc.creditor_reference_id, rc.receipt_id),
        // paDemandPaymentNotice: the position does not exist yet.
        (None, None) if element.starts_with("paDemandPaymentNotice") => {
            (r.id_pa, String::new(), String::new())
        }
        (None, None) => {
            return Err(FaultBean::new(
                FaultCode::PaaSintassiXsd,
                "",
                Some("qrCode o receipt mancante".into()),
            ));
        }
    };
    Ok(IntestazionePPT {
        id_intermediario_pa: r.id_broker_pa,
        id_stazione: r.id_station,
        id_dominio,
        iuv,
        ccp,
    })
}

/// A request that passed the envelope, header and registry checks.
pub(crate) struct Richiesta<'a> {
    pub header: IntestazionePPT,
    /// The operation's element.
    pub body: &'a str,
    /// The whole request as received (a receipt is stored as it came).
    pub raw: &'a [u8],
}

async fn soap(
    State(s): State<PaState>,
    headers: HeaderMap,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> Response {
    use tracing::Instrument;
    let start = Instant::now();
    let mut out = Trattato::default();
    // One span per exchange: whatever the handling logs carries the operation and keys,
    // and the closing line below (target `exchange`) is the exchange's access log.
    let span = tracing::info_span!(
        "pa_soap",
        operation = tracing::field::Empty,
        dominio = tracing::field::Empty,
        iuv = tracing::field::Empty,
    );
    let (status, payload, body) = match body {
        Ok(body) => {
            let (status, payload) = handle(&s, &headers, &body, &mut out)
                .instrument(span.clone())
                .await;
            (status, payload, body)
        }
        // Over the message limit (or cut off while read): still a SOAP answer the Nodo can
        // read, and journaled like any other exchange (without the body never read whole).
        Err(r) => {
            let f = if r.status() == StatusCode::PAYLOAD_TOO_LARGE {
                crate::soap::SoapError::from(crate::xml::XmlError::TooLarge(
                    Limits::MESSAGE.max_bytes,
                ))
                .fault(true, "")
            } else {
                FaultBean::new(FaultCode::PaaSystemError, "", Some(r.body_text()))
            };
            out.outcome = f.fault_code.clone();
            let payload = write_soap_fault("soapenv:Client", &f.fault_string, Some(&f));
            (StatusCode::INTERNAL_SERVER_ERROR, payload, Bytes::new())
        }
    };
    let elapsed = start.elapsed();
    let op = out.operation.map_or("unknown", Operazione::name);
    metrics::counter!(SOAP_REQUESTS, "operation" => op, "outcome" => out.outcome.clone())
        .increment(1);
    metrics::histogram!(SOAP_DURATION, "operation" => op).record(elapsed.as_secs_f64());
    // The journal shares the request and response buffers instead of copying them.
    let payload = Bytes::from(payload);
    if !span.is_disabled() {
        span.record("operation", op);
        span.in_scope(|| {
            tracing::info!(target: "exchange", outcome = %out.outcome, status = status.as_u16(), duration_ms = elapsed.as_secs_f64() * 1e3, "pa exchange")
        });
    }
    let (id_dominio, iuv, ccp) = match out.header {
        // A new-model request has no CCP.
        Some(h) => (
            Some(h.id_dominio),
            Some(h.iuv),
            Some(h.ccp).filter(|c| !c.is_empty()),
        ),
        None => (None, None, None),
    };
    s.journal.record(crate::store::JournalEntry {
        at: time::OffsetDateTime::now_utc(),
        direction: "IN",
        operation: op.to_owned(),
        id_dominio,
        iuv,
        ccp,
        id_psp: out.id_psp,
        outcome: out.outcome,
        http_status: Some(i64::from(status.as_u16())),
        duration_us: i64::try_from(elapsed.as_micros()).unwrap_or(i64::MAX),
        request: body,
        response: payload.clone(),
    });
    xml(status, payload)
}

/// What the journal and the metrics need to know about a handled request.
#[derive(Default)]
struct Trattato {
    operation: Option<Operazione>,
    header: Option<IntestazionePPT>,
    id_psp: Option<String>,
    /// `OK` or the faultCode.
    outcome: String,
}

/// Returns the HTTP status and the response envelope, filling `out` as it learns.
async fn handle(
    s: &PaState,
    headers: &HeaderMap,
    raw: &Bytes,
    out: &mut Trattato,
) -> (StatusCode, String) {
    let soap_fault = |out: &mut Trattato, f: FaultBean| {
        // No operation can be told: a SOAP Fault carrying the faultBean.
        out.outcome = f.fault_code.clone();
        (
            StatusCode::INTERNAL_SERVER_ERROR,
            write_soap_fault("soapenv:Client", &f.fault_string, Some(&f)),
        )
    };
    let env = match read_envelope(raw, Limits::MESSAGE) {
        Ok(e) => e,
        Err(e) => return soap_fault(out, e.fault(true, "")),
    };
    let action = headers.get("soapaction").and_then(|v| v.to_str().ok());
    let Some(op) = Operazione::from_element(&env.body.name) else {
        let reason = format!(
            "operazione {} non esposta da questo endpoint",
            env.body.name
        );
        return soap_fault(
            out,
            FaultBean::new(FaultCode::PaaSintassiExtraxsd, "", Some(reason)),
        );
    };
    out.operation = Some(op);
    tracing::Span::current().record("operation", op.name());
    let answer = |out: &mut Trattato, f: FaultBean| {
        out.outcome = f.fault_code.clone();
        (StatusCode::OK, write_envelope(None, &op.ko(f)))
    };
    if let Err(e) = crate::soap::operation(&env, action) {
        return answer(out, e.fault(true, ""));
    }
    let header = if op.nuovo_modello() {
        match new_model_header(env.body.xml, &env.body.name) {
            Ok(h) => h,
            Err(f) => return answer(out, f),
        }
    } else {
        match env
            .header(NS_PPTHEAD, "intestazionePPT")
            .map(|h| IntestazionePPT::parse(h.xml))
        {
            Some(Ok(h)) => h,
            Some(Err(e)) => return answer(out, e.fault(true, "")),
            None => {
                return answer(
                    out,
                    FaultBean::new(
                        FaultCode::PaaSintassiExtraxsd,
                        "",
                        Some("header intestazionePPT mancante".into()),
                    ),
                );
            }
        }
    };
    out.header = Some(header.clone());
    let span = tracing::Span::current();
    span.record("dominio", header.id_dominio.as_str());
    span.record("iuv", header.iuv.as_str());
    let id_dominio = header.id_dominio.clone();
    // The work runs in its own task, to its end: a PostgreSQL statement cut off mid-flight
    // (sqlx's connection futures are not cancel-safe) can leave its connection waiting
    // forever and its pool slot with it, until the pool is empty. Neither the deadline
    // below nor a client that goes away cuts it; the database's own waits bound it.
    let (state, body, raw) = (s.clone(), env.body.xml.to_owned(), raw.clone());
    let work = crate::supervise::to_the_end(async move {
        let s = &state;
        let mut id_psp = None;
        let r = async {
            check_registry(s, &header).await?;
            let req = Richiesta {
                header,
                body: &body,
                raw: &raw,
            };
            // Each operation's future on the heap: inline, the largest (a receipt's) set
            // the size of this task for all of them, and a verification paid for moving
            // tens of kilobytes of future state on every request (the profile showed it).
            match op {
                Operazione::Verifica => Box::pin(verifica::verifica(s, &req, &mut id_psp)).await,
                Operazione::InviaRT => Box::pin(invia_rt::invia_rt(&s.store, &req)).await,
                Operazione::Attiva => Box::pin(attiva::attiva(s, &req, &mut id_psp)).await,
                Operazione::VerifyPaymentNotice => {
                    Box::pin(verifica::verify_payment_notice(s, &req)).await
                }
                Operazione::GetPayment => {
                    Box::pin(nuovo_modello::get_payment(s, &req, false)).await
                }
                Operazione::GetPaymentV2 => {
                    Box::pin(nuovo_modello::get_payment(s, &req, true)).await
                }
                Operazione::SendRt => Box::pin(nuovo_modello::send_rt(s, &req, false)).await,
                Operazione::SendRtV2 => Box::pin(nuovo_modello::send_rt(s, &req, true)).await,
                Operazione::DemandPaymentNotice => {
                    Box::pin(nuovo_modello::demand_payment_notice(s, &req)).await
                }
            }
        }
        .await;
        (r, id_psp)
    });
    // A stalled database must not keep the Nodo waiting past its own timeout: answer "retry"
    // in time. The work goes on and may still commit; the Nodo's retry then finds it
    // (every operation is idempotent), and an RT is stored raw before any answer says OK.
    let result = match tokio::time::timeout(s.deadline, work).await {
        Ok(Some((r, id_psp))) => {
            out.id_psp = id_psp;
            r
        }
        Ok(None) => Err(FaultBean::new(
            FaultCode::PaaSystemError,
            &id_dominio,
            Some("servizio in arresto: riprovare".into()),
        )),
        Err(_) => {
            metrics::counter!(DEADLINE).increment(1);
            tracing::warn!(operation = op.name(), deadline = ?s.deadline, "PA request past its deadline");
            Err(FaultBean::new(
                FaultCode::PaaSystemError,
                &id_dominio,
                Some("il servizio non ha risposto in tempo: riprovare".into()),
            ))
        }
    };
    match result {
        Ok(payload) => {
            out.outcome = "OK".into();
            (StatusCode::OK, write_envelope(None, &payload))
        }
        Err(f) => answer(out, f),
    }
}

/// Who may call the plain-HTTP listener meant for a TLS-terminating reverse proxy.
#[derive(Clone)]
pub struct ProxyTrust {
    pub trusted: std::sync::Arc<Vec<std::net::IpAddr>>,
    pub subject_header: axum::http::HeaderName,
    pub pins: std::sync::Arc<Vec<crate::dn::Dn>>,
}

/// Middleware of the proxy listener: the client-certificate subject header is believed
/// only from a trusted proxy address, and must match the pins when there are any.
pub async fn require_trusted_proxy(
    State(t): State<ProxyTrust>,
    axum::extract::ConnectInfo(peer): axum::extract::ConnectInfo<std::net::SocketAddr>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let subject = req
        .headers()
        .get(&t.subject_header)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .unwrap_or("");
    let why = if !t.trusted.contains(&peer.ip()) {
        Some("peer is not a trusted proxy")
    } else if subject.is_empty() {
        Some("no client certificate subject from the proxy")
    } else if t.pins.is_empty() {
        None
    } else {
        match crate::dn::Dn::parse(subject) {
            Err(_) => Some("client certificate subject unreadable"),
            Ok(dn) if !crate::tls::pinned(&dn, &t.pins) => {
                Some("client certificate subject not pinned")
            }
            Ok(_) => None,
        }
    };
    match why {
        Some(why) => {
            tracing::warn!(%peer, subject, why, "PA request refused on the proxy listener");
            let f = FaultBean::new(FaultCode::PaaSystemError, "", Some(why.into()));
            xml(
                StatusCode::FORBIDDEN,
                write_soap_fault("soapenv:Client", why, Some(&f)),
            )
        }
        None => next.run(req).await,
    }
}

/// One pass of the activation sweeper: expires activations older than `timeout` and
/// refreshes the gauges. Returns how many expired.
pub async fn sweep(
    store: &Store,
    timeout: std::time::Duration,
) -> Result<usize, crate::store::StoreError> {
    let cutoff = time::OffsetDateTime::now_utc() - timeout;
    let expired = store.pagamenti().expire_activations(cutoff).await?;
    if expired > 0 {
        tracing::info!(
            expired,
            "activations without RT expired: positions payable again"
        );
        metrics::counter!(ACTIVATIONS_EXPIRED).increment(expired as u64);
    }
    rielabora_rt(store, std::time::Duration::from_secs(60)).await?;
    let (quarantine, pending) = store.pagamenti().gauges().await?;
    metrics::gauge!(RT_QUARANTINE).set(quarantine as f64);
    metrics::gauge!(ACTIVATIONS_PENDING).set(pending as f64);
    Ok(expired)
}

/// Finishes receipts whose raw bytes were committed but whose processing was cut short
/// (database error, crash) and that the Nodo has not re-delivered within `min_age`.
/// Returns how many were processed (applied, or moved to quarantine / invalid).
pub async fn rielabora_rt(
    store: &Store,
    min_age: std::time::Duration,
) -> Result<usize, crate::store::StoreError> {
    let before = time::OffsetDateTime::now_utc() - min_age;
    let rows = store.pagamenti().rt_da_elaborare(before, 100).await?;
    for r in &rows {
        let outcome =
            crate::pagamenti::ricevute::elabora(store, r.id, &r.id_dominio, &r.iuv, &r.ccp, &r.raw)
                .await;
        tracing::info!(id = r.id, iuv = %r.iuv, ccp = %r.ccp, outcome = ?outcome.as_ref().map_err(ToString::to_string), "interrupted RT processed by the sweep");
        if let Err(crate::pagamenti::ricevute::ErroreRt::Store(e)) = outcome {
            return Err(e);
        }
    }
    Ok(rows.len())
}

/// Runs [`sweep`] every minute, forever; also plans the recovery checks of RPTs sent
/// more than `recovery_after` ago without an RT, and every `flussi_every` per ente the
/// reporting-flow download and the nodoChiediListaPendentiRPT check.
pub async fn sweeper(
    store: Store,
    timeout: std::time::Duration,
    recovery_after: std::time::Duration,
    flussi_every: Option<std::time::Duration>,
) {
    loop {
        if let Some(every) = flussi_every {
            let since = time::OffsetDateTime::now_utc() - every;
            // Day X+1 work per ente: reporting flows, and the RPTs the Nodo holds open.
            for kind in [
                crate::model::TipoJob::Flussi,
                crate::model::TipoJob::Pendenti,
            ] {
                match store.outbox().plan_per_ente(kind, since).await {
                    Ok(0) => {}
                    Ok(n) => tracing::info!(n, %kind, "per-ente Nodo checks enqueued"),
                    Err(e) => tracing::warn!(error = %e, %kind, "planning failed"),
                }
            }
        }
        if let Err(e) = sweep(&store, timeout).await {
            tracing::warn!(error = %e, "activation sweep failed");
        }
        let before = time::OffsetDateTime::now_utc() - recovery_after;
        match store.pagamenti().plan_recuperi(before, 200).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(n, "RPTs without RT: recovery checks enqueued"),
            Err(e) => tracing::warn!(error = %e, "recovery planning failed"),
        }
        tokio::time::sleep(std::time::Duration::from_secs(60)).await;
    }
}

/// The header must name our intermediary and station and a dominio we serve; faults carry
/// the dominio as `id`.
async fn check_registry(s: &PaState, h: &IntestazionePPT) -> Result<(), FaultBean> {
    let system = |e: crate::store::StoreError| {
        tracing::error!(error = %e, "registry unavailable");
        FaultBean::new(FaultCode::PaaSystemError, &h.id_dominio, None)
    };
    let i = s.cache.intermediario(&s.store).await.map_err(system)?;
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
    match s
        .cache
        .ente(&s.store, &h.id_dominio)
        .await
        .map_err(system)?
    {
        Some(e) if e.attivo => Ok(()),
        _ => Err(FaultBean::new(
            FaultCode::PaaIdDominioErrato,
            &h.id_dominio,
            None,
        )),
    }
}
