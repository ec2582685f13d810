//! The treasurer's journal (giornale di cassa) over REST, per ente: upload a CSV
//! (docs/riconciliazione.md §5.5, default column order or the operator's mapping) or an OPI
//! XML page (§5.6); valid lines are applied in one transaction (upsert on anno + codice
//! bolletta, OPI storni remove), the others come back in a per-line reject report; and the
//! journal as stored, with the IUF / IUV read from each causale.

use super::auth::Caller;
use super::viste::RigaTesoreria;
use super::{ApiError, AppState, Problem};
use crate::recon::giornale::{Colonne, leggi_csv};
use crate::recon::opi::{Operazione, leggi};
use crate::registry::{Page, Paging};
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(importa, elenco))
        .routes(routes!(notifiche))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct EsitoNotifiche {
    /// The import's report, at /api/v1/enti/{id}/importazioni/{id_importazione}.
    pub id_importazione: String,
    pub lette: usize,
    /// Notifications written (new or changed).
    pub importate: u64,
    /// Notifications already held as they are: nothing written, nothing reclassified.
    pub invariate: u64,
    pub scartate: usize,
    pub scarti: Vec<ScartoTesoreria>,
}

/// Uploads the back office's "pagati notificati" CSV (docs/riconciliazione.md §5.4; upsert on IUD).
#[utoipa::path(post, path = "/api/v1/enti/{id_dominio}/notifiche", tag = "tesoreria",
    params(("id_dominio" = String, Path)),
    request_body(content = String, content_type = "text/plain"),
    responses((status = 200, body = EsitoNotifiche), (status = 404, body = Problem)), security(("bearer" = [])))]
async fn notifiche(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<EsitoNotifiche>, ApiError> {
    caller.scope(&id)?;
    s.store.registro().get_ente(&id).await?;
    let (ok, ko) = crate::recon::notifiche::leggi_csv(&body);
    let mut job = super::riconciliazione::report(&id, "NOTIFICHE", &body, ok.len(), ko.clone());
    let importate = s
        .store
        .riconciliazione()
        .import_notifiche(&id, &ok, Some(&mut job))
        .await?;
    s.store.riconciliazione().process(&id).await?;
    Ok(Json(EsitoNotifiche {
        id_importazione: job.id,
        lette: ok.len() + ko.len(),
        importate,
        invariate: (ok.len() as u64).saturating_sub(importate),
        scartate: ko.len(),
        scarti: ko.into_iter().map(ScartoTesoreria::from).collect(),
    }))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ImportQuery {
    /// `csv` (default), `opi`, `xls` (XLS or XLSX bank statement, read by header name) or
    /// `poste` (Poste Italiane account statement: credits only, bolletta `P`+day+order).
    formato: Option<String>,
    /// CSV column of each field (1-based); defaults 1..7 in this order.
    pos_anno_bolletta: Option<usize>,
    pos_codice_bolletta: Option<usize>,
    pos_data_contabile: Option<usize>,
    pos_ordinante: Option<usize>,
    pos_causale: Option<usize>,
    pos_importo: Option<usize>,
    pos_data_valuta: Option<usize>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ScartoTesoreria {
    /// The file line (CSV) or the numero_movimento (OPI).
    pub riga: String,
    pub originale: String,
    pub motivo: String,
}

/// A line-numbered reject (CSV, XLS, Poste statement, notifications).
impl From<crate::recon::giornale::Scarto> for ScartoTesoreria {
    fn from(k: crate::recon::giornale::Scarto) -> Self {
        ScartoTesoreria {
            riga: k.riga.to_string(),
            originale: k.originale,
            motivo: k.motivo,
        }
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct EsitoImport {
    /// The import's report, at /api/v1/enti/{id}/importazioni/{id_importazione}.
    pub id_importazione: String,
    pub formato: String,
    pub lette: usize,
    /// Lines written (new or changed).
    pub importate: u64,
    /// Lines the ente's journal already held as they are: nothing written, nothing
    /// reclassified.
    pub invariate: u64,
    pub stornate: u64,
    pub scartate: usize,
    pub scarti: Vec<ScartoTesoreria>,
    /// Movements read and left aside, each with why (OPI payments out, mandati, reversali,
    /// regolarizzazioni; debits of a bank statement): not errors, not reconciled.
    pub ignorate: Vec<ScartoTesoreria>,
}

/// Uploads a giornale di cassa (the body is the file: CSV text or OPI XML).
#[utoipa::path(post, path = "/api/v1/enti/{id_dominio}/tesoreria", tag = "tesoreria",
    params(("id_dominio" = String, Path), ImportQuery),
    request_body(content = String, content_type = "text/plain"),
    responses((status = 200, body = EsitoImport), (status = 404, body = Problem), (status = 422, body = Problem)), security(("bearer" = [])))]
async fn importa(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Query(q): Query<ImportQuery>,
    body: Bytes,
) -> Result<Json<EsitoImport>, ApiError> {
    caller.scope(&id)?;
    s.store.registro().get_ente(&id).await?;
    let formato = q.formato.clone().unwrap_or_else(|| "csv".into());
    let (righe, storni, scarti, ignorate) = match formato.as_str() {
        "csv" => {
            let d = Colonne::default();
            let c = Colonne {
                anno_bolletta: q.pos_anno_bolletta.unwrap_or(d.anno_bolletta),
                codice_bolletta: q.pos_codice_bolletta.unwrap_or(d.codice_bolletta),
                data_contabile: q.pos_data_contabile.unwrap_or(d.data_contabile),
                ordinante: q.pos_ordinante.unwrap_or(d.ordinante),
                causale: q.pos_causale.unwrap_or(d.causale),
                importo: q.pos_importo.unwrap_or(d.importo),
                data_valuta: q.pos_data_valuta.unwrap_or(d.data_valuta),
            };
            let (ok, ko) = leggi_csv(&body, &c);
            let scarti: Vec<ScartoTesoreria> = ko.into_iter().map(ScartoTesoreria::from).collect();
            (ok, Vec::new(), scarti, Vec::new())
        }
        "opi" => {
            let g = leggi(&body).map_err(ApiError::Validation)?;
            if let Some(cf) = &g.codice_fiscale_ente
                && cf != &id
            {
                return Err(ApiError::Validation(format!(
                    "il giornale è dell'ente {cf}, non di {id}"
                )));
            }
            let (mut righe, mut storni) = (Vec::new(), Vec::new());
            for op in g.operazioni {
                match op {
                    Operazione::Esegui(r) => righe.push(r),
                    Operazione::Storna {
                        anno_bolletta,
                        codice_bolletta,
                    } => storni.push((anno_bolletta, codice_bolletta)),
                }
            }
            let per_movimento = |k: crate::recon::opi::ScartoOpi| ScartoTesoreria {
                riga: k.numero_movimento.unwrap_or_default(),
                originale: String::new(),
                motivo: k.motivo,
            };
            let scarti: Vec<ScartoTesoreria> = g.scarti.into_iter().map(per_movimento).collect();
            let ignorate = g.ignorati.into_iter().map(per_movimento).collect();
            (righe, storni, scarti, ignorate)
        }
        "poste" => {
            let (ok, ko) = crate::recon::poste::leggi(&body);
            let scarti: Vec<ScartoTesoreria> = ko.into_iter().map(ScartoTesoreria::from).collect();
            (ok, Vec::new(), scarti, Vec::new())
        }
        "xls" => {
            let g = crate::recon::xls::leggi(&body).map_err(ApiError::Validation)?;
            let scarti: Vec<ScartoTesoreria> =
                g.scarti.into_iter().map(ScartoTesoreria::from).collect();
            let ignorate = g
                .addebiti_ignorati
                .into_iter()
                .map(ScartoTesoreria::from)
                .collect();
            (g.righe, Vec::new(), scarti, ignorate)
        }
        other => {
            return Err(ApiError::Validation(format!(
                "formato '{other}': csv, opi, xls oppure poste"
            )));
        }
    };
    let lette = righe.len() + storni.len() + scarti.len();
    let mut job = super::riconciliazione::report(
        &id,
        &format!("TESORERIA_{}", formato.to_uppercase()),
        &body,
        lette - scarti.len(),
        scarti
            .iter()
            .map(|k| crate::recon::giornale::Scarto {
                riga: k.riga.parse().unwrap_or(0),
                originale: k.originale.clone(),
                motivo: k.motivo.clone(),
            })
            .collect(),
    );
    let (importate, stornate) = s
        .store
        .riconciliazione()
        .import_tesoreria(
            &id,
            &righe,
            &storni,
            &formato.to_uppercase(),
            Some(&mut job),
        )
        .await?;
    s.store.riconciliazione().process(&id).await?;
    Ok(Json(EsitoImport {
        id_importazione: job.id,
        formato,
        lette,
        importate,
        invariate: (righe.len() as u64).saturating_sub(importate),
        stornate,
        scartate: scarti.len(),
        scarti,
        ignorate,
    }))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ElencoQuery {
    iuf: Option<String>,
    iuv: Option<String>,
}

/// The ente's treasury journal, newest first.
#[utoipa::path(get, path = "/api/v1/enti/{id_dominio}/tesoreria", tag = "tesoreria",
    params(("id_dominio" = String, Path), ElencoQuery, Paging),
    responses((status = 200, body = Page<RigaTesoreria>), (status = 404, body = Problem)), security(("bearer" = [])))]
async fn elenco(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Query(q): Query<ElencoQuery>,
    Query(paging): Query<Paging>,
) -> Result<Json<Page<RigaTesoreria>>, ApiError> {
    caller.scope(&id)?;
    let (limit, offset) = paging.limit_offset().map_err(ApiError::Validation)?;
    let (items, total) = s
        .store
        .riconciliazione()
        .list_tesoreria(&id, q.iuf.as_deref(), q.iuv.as_deref(), limit, offset)
        .await?;
    Ok(Json(Page {
        items: items.into_iter().map(Into::into).collect(),
        page: paging.page,
        per_page: paging.per_page,
        total,
    }))
}
