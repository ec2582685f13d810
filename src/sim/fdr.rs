//! The FdR service (organizations API v1): the day's reporting flows, published as
//! revision 1, listed and read page by page as pagoPA's FdR serves them; and Biz Events
//! (v1), the receipts the PSP issued, each by ente, IUR and IUV. Every call needs an
//! `Ocp-Apim-Subscription-Key`, as at pagoPA.

use super::Simulator;
use crate::fdr_client::modello::{FlussoPubblicato, Metadata, Pagina, da_flusso};
use crate::model::flusso::FlussoRiversamento;
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};

#[derive(serde::Deserialize)]
pub(super) struct Paging {
    page: Option<usize>,
    size: Option<usize>,
}

fn pagina<T: Clone + serde::Serialize>(items: &[T], p: &Paging) -> Response {
    let size = p.size.unwrap_or(1000).clamp(1, 1000);
    let page = p.page.unwrap_or(1).max(1);
    let tot = items.len().div_ceil(size).max(1);
    let data: Vec<T> = items
        .iter()
        .skip((page - 1) * size)
        .take(size)
        .cloned()
        .collect();
    Json(Pagina {
        metadata: Metadata {
            page_size: Some(size as i64),
            page_number: Some(page as i64),
            tot_page: Some(tot as i64),
        },
        count: Some(data.len() as i64),
        data,
    })
    .into_response()
}

fn autorizzata(h: &HeaderMap) -> Result<(), Response> {
    if h.contains_key("ocp-apim-subscription-key") {
        Ok(())
    } else {
        Err((StatusCode::UNAUTHORIZED, "subscription key mancante").into_response())
    }
}

impl Simulator {
    /// The published flows of `org`: (flow id, instant published, the flow).
    fn pubblicati(&self, org: &str) -> Vec<(String, String, FlussoRiversamento)> {
        let st = self.state.lock().expect("lock");
        st.flussi
            .iter()
            .filter(|(dom, ..)| dom == org)
            .filter_map(|(_, iuf, data_ora, xml)| {
                let (f, _) = FlussoRiversamento::leggi(xml).ok()?;
                Some((iuf.clone(), format!("{data_ora}Z"), f))
            })
            .collect()
    }
}

pub(super) async fn elenco(
    State(s): State<Simulator>,
    Path(org): Path<String>,
    Query(p): Query<Paging>,
    h: HeaderMap,
) -> Response {
    if let Err(r) = autorizzata(&h) {
        return r;
    }
    let items: Vec<FlussoPubblicato> = s
        .pubblicati(&org)
        .into_iter()
        .map(|(fdr, published, _)| FlussoPubblicato {
            fdr,
            organization_id: Some(org.clone()),
            revision: 1,
            published: Some(published),
        })
        .collect();
    pagina(&items, &p)
}

pub(super) async fn flusso(
    State(s): State<Simulator>,
    Path((org, fdr, revision, _psp)): Path<(String, String, i64, String)>,
    h: HeaderMap,
) -> Response {
    if let Err(r) = autorizzata(&h) {
        return r;
    }
    match s.pubblicati(&org).into_iter().find(|f| f.0 == fdr) {
        Some((_, published, f)) if revision == 1 => {
            Json(da_flusso(&f, 1, &published).0).into_response()
        }
        _ => StatusCode::NOT_FOUND.into_response(),
    }
}

/// Biz Events: a receipt the PSP issued, by ente, IUR (the receiptId) and IUV.
pub(super) async fn ricevuta_biz(
    State(s): State<Simulator>,
    Path((org, iur, iuv)): Path<(String, String, String)>,
    h: HeaderMap,
) -> Response {
    if let Err(r) = autorizzata(&h) {
        return r;
    }
    let raw = s
        .state
        .lock()
        .expect("lock")
        .ricevute
        .get(&(org, iuv, iur))
        .map(|(raw, _)| raw.clone());
    let receipt = raw.and_then(|raw| {
        let env = crate::soap::read_envelope(&raw, crate::xml::Limits::MESSAGE).ok()?;
        crate::soap::new_model::PaSendRTReq::parse(env.body.xml).ok()
    });
    match receipt {
        Some(r) => Json(crate::dominio::nuovo_modello::come_biz_events(&r.receipt)).into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

pub(super) async fn pagamenti(
    State(s): State<Simulator>,
    Path((org, fdr, revision, _psp)): Path<(String, String, i64, String)>,
    Query(p): Query<Paging>,
    h: HeaderMap,
) -> Response {
    if let Err(r) = autorizzata(&h) {
        return r;
    }
    match s.pubblicati(&org).into_iter().find(|f| f.0 == fdr) {
        Some((_, published, f)) if revision == 1 => pagina(&da_flusso(&f, 1, &published).1, &p),
        _ => StatusCode::NOT_FOUND.into_response(),
    }
}
