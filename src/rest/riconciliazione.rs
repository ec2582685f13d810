//! MyPivot over REST, per ente (docs/riconciliazione.md): the Riconciliazione / Anomalie
//! views with their filters (§6.1), the export tracciati 1.0–1.4 streamed or as booked jobs
//! (§6.3, §6.4), operators' notes with history and hidden lines (§6.2), the Ricevute
//! telematiche and Rendicontazione views, the MyPay "export pagati" import (§5.2) and a
//! full rebuild.

use super::auth::Caller;
use super::viste::{
    ExportRiconciliazione, FiltroRicevute, FlussoRendicontato, ImportJob, NuovaSegnalazione,
    PagamentoRendicontato, RicevutaStaged, Segnalazione,
};
use super::{ApiError, AppState, Problem};
use crate::recon::classifica::Codice;
use crate::recon::export::Versione;
use crate::registry::{Page, Paging};
use crate::riconciliazione::{self as riconcilia, Riconciliazione, Vista};
use crate::store;
use crate::store::FiltroRiconciliazione;
use axum::Json;
use axum::body::{Body, Bytes};
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use time::Date;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(vista))
        .routes(routes!(ricalcola))
        .routes(routes!(esporta_stream, prenota_export))
        .routes(routes!(stato_export))
        .routes(routes!(file_export))
        .routes(routes!(segnala, storico))
        .routes(routes!(ricevute, importa_ricevute))
        .routes(routes!(flussi_rendicontati))
        .routes(routes!(pagamenti_flusso))
        .routes(routes!(importazione))
}

/// The filters of the views and exports (all optional).
#[derive(Debug, Default, Deserialize, Serialize, utoipa::IntoParams, utoipa::ToSchema)]
#[into_params(parameter_in = Query)]
pub struct Filtri {
    /// riconciliazione (positive codes), anomalie (negative), tutte (default).
    #[param(inline)]
    pub vista: Option<Vista>,
    /// One code only (RT_IUF_TES, IUF_NO_TES, …); it must be one the ente's flags offer.
    pub codice: Option<String>,
    pub tipo_dovuto: Option<String>,
    pub iud: Option<String>,
    pub iuv: Option<String>,
    pub iur: Option<String>,
    /// Flow identifier (contains, case-insensitive).
    pub iuf: Option<String>,
    /// Attesting PSP code (contains).
    pub attestante: Option<String>,
    pub cf_pagatore: Option<String>,
    /// Treasury ordering party (contains).
    pub ordinante: Option<String>,
    pub anno_bolletta: Option<i64>,
    pub codice_bolletta: Option<String>,
    pub importo_tesoreria_cents: Option<i64>,
    #[param(value_type = Option<String>, format = Date)]
    #[serde(default, with = "crate::store::iso_date::option")]
    #[schema(value_type = Option<String>, format = Date)]
    pub data_esito_da: Option<Date>,
    #[param(value_type = Option<String>, format = Date)]
    #[serde(default, with = "crate::store::iso_date::option")]
    #[schema(value_type = Option<String>, format = Date)]
    pub data_esito_a: Option<Date>,
    #[param(value_type = Option<String>, format = Date)]
    #[serde(default, with = "crate::store::iso_date::option")]
    #[schema(value_type = Option<String>, format = Date)]
    pub data_regolamento_da: Option<Date>,
    #[param(value_type = Option<String>, format = Date)]
    #[serde(default, with = "crate::store::iso_date::option")]
    #[schema(value_type = Option<String>, format = Date)]
    pub data_regolamento_a: Option<Date>,
    #[param(value_type = Option<String>, format = Date)]
    #[serde(default, with = "crate::store::iso_date::option")]
    #[schema(value_type = Option<String>, format = Date)]
    pub data_contabile_da: Option<Date>,
    #[param(value_type = Option<String>, format = Date)]
    #[serde(default, with = "crate::store::iso_date::option")]
    #[schema(value_type = Option<String>, format = Date)]
    pub data_contabile_a: Option<Date>,
    #[param(value_type = Option<String>, format = Date)]
    #[serde(default, with = "crate::store::iso_date::option")]
    #[schema(value_type = Option<String>, format = Date)]
    pub data_valuta_da: Option<Date>,
    #[param(value_type = Option<String>, format = Date)]
    #[serde(default, with = "crate::store::iso_date::option")]
    #[schema(value_type = Option<String>, format = Date)]
    pub data_valuta_a: Option<Date>,
    /// Only the lines operators hid.
    pub nascosti: Option<bool>,
}

async fn filtro(s: &AppState, ente: &str, f: &Filtri) -> Result<FiltroRiconciliazione, ApiError> {
    let flags = riconcilia::flags(&s.store, ente).await?;
    let mut codici = riconcilia::codici_offerti(f.vista.unwrap_or(Vista::Tutte), flags);
    if let Some(c) = &f.codice {
        let code = Codice::da_nome(c)
            .ok_or_else(|| ApiError::Validation(format!("codice '{c}' sconosciuto")))?;
        if codici & code.bit() == 0 {
            return Err(ApiError::Validation(format!(
                "codice {c} non offerto a questo ente in questa vista (flg_pagati / flg_tesoreria)"
            )));
        }
        codici = code.bit();
    }
    Ok(FiltroRiconciliazione {
        codici,
        tipo_dovuto: f.tipo_dovuto.clone(),
        iud: f.iud.clone(),
        iuv: f.iuv.clone(),
        iur: f.iur.clone(),
        iuf: f.iuf.clone(),
        attestante: f.attestante.clone(),
        cf_pagatore: f.cf_pagatore.clone(),
        ordinante: f.ordinante.clone(),
        anno_bolletta: f.anno_bolletta,
        codice_bolletta: f.codice_bolletta.clone(),
        importo_tesoreria_cents: f.importo_tesoreria_cents,
        data_esito_da: f.data_esito_da,
        data_esito_a: f.data_esito_a,
        data_regolamento_da: f.data_regolamento_da,
        data_regolamento_a: f.data_regolamento_a,
        data_contabile_da: f.data_contabile_da,
        data_contabile_a: f.data_contabile_a,
        data_valuta_da: f.data_valuta_da,
        data_valuta_a: f.data_valuta_a,
        nascosti: f.nascosti.unwrap_or(false),
    })
}

/// The ente's reconciliation: counts per code and the lines of the asked view, code and
/// filters (one line may carry several codes, as in MyPivot).
#[utoipa::path(get, path = "/api/v1/enti/{id_dominio}/riconciliazione", tag = "riconciliazione",
    params(("id_dominio" = String, Path), Filtri, Paging),
    responses((status = 200, body = Riconciliazione), (status = 404, body = Problem), (status = 422, body = Problem)), security(("bearer" = [])))]
async fn vista(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Query(f): Query<Filtri>,
    Query(paging): Query<Paging>,
) -> Result<Json<Riconciliazione>, ApiError> {
    caller.scope(&id)?;
    let (limit, offset) = paging.limit_offset().map_err(ApiError::Validation)?;
    let filtro = filtro(&s, &id, &f).await?;
    Ok(Json(
        riconcilia::riconciliazione(&s.store, &id, &filtro, limit, offset).await?,
    ))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Ricalcolo {
    pub righe: usize,
}

/// Rebuilds the ente's whole reconciliation from its inputs (imports keep it current on
/// their own; this is for operators after a bulk correction).
#[utoipa::path(post, path = "/api/v1/enti/{id_dominio}/riconciliazione/ricalcola", tag = "riconciliazione",
    params(("id_dominio" = String, Path)),
    responses((status = 200, body = Ricalcolo), (status = 404, body = Problem)), security(("bearer" = [])))]
async fn ricalcola(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Ricalcolo>, ApiError> {
    caller.scope(&id)?;
    s.store.registro().get_ente(&id).await?;
    Ok(Json(Ricalcolo {
        righe: s.store.riconciliazione().rebuild(&id).await?,
    }))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct VersioneQuery {
    /// Tracciato 1.0, 1.1, 1.2, 1.3 or 1.4 (default 1.4).
    versione: Option<String>,
}

fn versione(v: Option<&str>) -> Result<Versione, ApiError> {
    let v = v.unwrap_or("1.4");
    Versione::parse(v)
        .ok_or_else(|| ApiError::Validation(format!("versione tracciato '{v}': 1.0 … 1.4")))
}

/// The export CSV of the asked codes and filters, streamed as it is read.
#[utoipa::path(get, path = "/api/v1/enti/{id_dominio}/riconciliazione/export", tag = "riconciliazione",
    params(("id_dominio" = String, Path), VersioneQuery, Filtri),
    responses((status = 200, content_type = "text/csv", body = String), (status = 404, body = Problem), (status = 422, body = Problem)), security(("bearer" = [])))]
async fn esporta_stream(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Query(v): Query<VersioneQuery>,
    Query(f): Query<Filtri>,
) -> Result<Response, ApiError> {
    caller.scope(&id)?;
    let versione = versione(v.versione.as_deref())?;
    let filtro = filtro(&s, &id, &f).await?;
    let (mut tx, body) = http_body_util::channel::Channel::<Bytes, std::io::Error>::new(4);
    let mut x = riconcilia::Esportazione::apri(&s.store, &id, filtro, versione).await?;
    tokio::spawn(async move {
        loop {
            match x.prossima().await {
                Ok(Some(b)) => {
                    if tx.send_data(Bytes::from(b)).await.is_err() {
                        return;
                    }
                }
                Ok(None) => return,
                Err(e) => {
                    tracing::warn!(error = %e, "export interrupted");
                    // The client sees a broken body, not a truncated file that looks complete.
                    tx.abort(std::io::Error::other(e.to_string()));
                    return;
                }
            }
        }
    });
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"riconciliazione.csv\"",
            ),
        ],
        Body::new(body),
    )
        .into_response())
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct Prenotazione {
    /// Tracciato 1.0 … 1.4 (default 1.4).
    pub versione: Option<String>,
    #[serde(default)]
    pub filtri: Filtri,
}

/// Books an export of a large result: written in the background, fetched when ESEGUITO.
#[utoipa::path(post, path = "/api/v1/enti/{id_dominio}/riconciliazione/export", tag = "riconciliazione",
    params(("id_dominio" = String, Path)), request_body = Prenotazione,
    responses((status = 202, body = ExportRiconciliazione), (status = 404, body = Problem), (status = 422, body = Problem)), security(("bearer" = [])))]
async fn prenota_export(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(p): Json<Prenotazione>,
) -> Result<(StatusCode, Json<ExportRiconciliazione>), ApiError> {
    caller.scope(&id)?;
    let versione = versione(p.versione.as_deref())?;
    let filtro = filtro(&s, &id, &p.filtri).await?;
    let job = uuid::Uuid::new_v4().to_string();
    let v = serde_json::to_value(versione).map_err(|e| ApiError::Internal(e.into()))?;
    let filtri = serde_json::to_string(&filtro).map_err(|e| ApiError::Internal(e.into()))?;
    s.store
        .esportazioni()
        .create(&job, &id, v.as_str().unwrap_or("1.4"), &filtri)
        .await?;
    let e = s.store.esportazioni().get(&id, &job).await?;
    let store = s.store.clone();
    let booked = e.clone();
    // Nobody waits for it: background work at SQLite's writer (`store::turno`).
    tokio::spawn(crate::store::turno::sullo_sfondo(async move {
        if let Err(x) = riconcilia::esegui_export(&store, &booked).await {
            tracing::warn!(error = %x, export = %booked.id, "export failed");
        }
    }));
    Ok((StatusCode::ACCEPTED, Json(e.into())))
}

#[utoipa::path(get, path = "/api/v1/enti/{id_dominio}/riconciliazione/export/{id}", tag = "riconciliazione",
    params(("id_dominio" = String, Path), ("id" = String, Path)),
    responses((status = 200, body = ExportRiconciliazione), (status = 404, body = Problem)), security(("bearer" = [])))]
async fn stato_export(
    State(s): State<AppState>,
    caller: Caller,
    Path((ente, id)): Path<(String, String)>,
) -> Result<Json<ExportRiconciliazione>, ApiError> {
    caller.scope(&ente)?;
    Ok(Json(s.store.esportazioni().get(&ente, &id).await?.into()))
}

/// The file of a finished export, streamed part by part.
#[utoipa::path(get, path = "/api/v1/enti/{id_dominio}/riconciliazione/export/{id}/file", tag = "riconciliazione",
    params(("id_dominio" = String, Path), ("id" = String, Path)),
    responses((status = 200, content_type = "text/csv", body = String), (status = 404, body = Problem), (status = 409, body = Problem)), security(("bearer" = [])))]
async fn file_export(
    State(s): State<AppState>,
    caller: Caller,
    Path((ente, id)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    caller.scope(&ente)?;
    let e = s.store.esportazioni().get(&ente, &id).await?;
    if !e.stato.starts_with("ESEGUITO") {
        return Err(ApiError::Conflict(format!("export in stato {}", e.stato)));
    }
    let (mut tx, body) = http_body_util::channel::Channel::<Bytes, std::io::Error>::new(2);
    let store = s.store.clone();
    tokio::spawn(async move {
        let mut n = 0;
        loop {
            match store.esportazioni().parte(&id, n).await {
                Ok(Some(b)) => {
                    if tx.send_data(Bytes::from(b)).await.is_err() {
                        return;
                    }
                    n += 1;
                }
                Ok(None) => return,
                Err(e) => {
                    tx.abort(std::io::Error::other(e.to_string()));
                    return;
                }
            }
        }
    });
    Ok((
        [(header::CONTENT_TYPE, "text/csv; charset=utf-8")],
        Body::new(body),
    )
        .into_response())
}

/// Adds a note to a classified line (the previous note of that line stays as history);
/// `nascosto` hides the line from the default views.
#[utoipa::path(post, path = "/api/v1/enti/{id_dominio}/segnalazioni", tag = "riconciliazione",
    params(("id_dominio" = String, Path)), request_body = NuovaSegnalazione,
    responses((status = 201, body = Segnalazione), (status = 404, body = Problem), (status = 422, body = Problem)), security(("bearer" = [])))]
async fn segnala(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(mut n): Json<NuovaSegnalazione>,
) -> Result<(StatusCode, Json<Segnalazione>), ApiError> {
    caller.scope(&id)?;
    s.store.registro().get_ente(&id).await?;
    let c = Codice::da_nome(&n.codice)
        .ok_or_else(|| ApiError::Validation(format!("codice '{}' sconosciuto", n.codice)))?;
    // A blank key is no key: stored as absent, as the views compare it (an empty string
    // and an absent key name the same lines).
    for k in [&mut n.iuf, &mut n.iud, &mut n.iuv] {
        *k = k
            .take()
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty());
    }
    if n.iuf.is_none() && n.iud.is_none() && n.iuv.is_none() {
        return Err(ApiError::Validation(
            "almeno una chiave tra iuf, iud e iuv".into(),
        ));
    }
    if n.nota.trim().is_empty() || n.nota.len() > 4000 {
        return Err(ApiError::Validation("nota: da 1 a 4000 caratteri".into()));
    }
    n.bit = c.bit();
    let out = s
        .store
        .riconciliazione()
        .insert_segnalazione(&id, &n.into(), &caller.nome())
        .await?;
    Ok((StatusCode::CREATED, Json(out.into())))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StoricoQuery {
    codice: Option<String>,
    /// Only the current notes (default: the whole history).
    solo_attive: Option<bool>,
}

/// Storico segnalazioni: every note, newest first.
#[utoipa::path(get, path = "/api/v1/enti/{id_dominio}/segnalazioni", tag = "riconciliazione",
    params(("id_dominio" = String, Path), StoricoQuery, Paging),
    responses((status = 200, body = Page<Segnalazione>), (status = 404, body = Problem)), security(("bearer" = [])))]
async fn storico(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Query(q): Query<StoricoQuery>,
    Query(paging): Query<Paging>,
) -> Result<Json<Page<Segnalazione>>, ApiError> {
    caller.scope(&id)?;
    let (limit, offset) = paging.limit_offset().map_err(ApiError::Validation)?;
    let (items, total) = s
        .store
        .riconciliazione()
        .storico_segnalazioni(
            &id,
            q.codice.as_deref(),
            q.solo_attive.unwrap_or(false),
            limit,
            offset,
        )
        .await?;
    Ok(Json(Page {
        items: items.into_iter().map(Into::into).collect(),
        page: paging.page,
        per_page: paging.per_page,
        total,
    }))
}

/// Ricevute telematiche: the receipts reconciliation knows (the gateway's, imported ones,
/// and esito-9 stand-ins).
#[utoipa::path(get, path = "/api/v1/enti/{id_dominio}/ricevute", tag = "riconciliazione",
    params(("id_dominio" = String, Path), FiltroRicevute, Paging),
    responses((status = 200, body = Page<RicevutaStaged>), (status = 404, body = Problem)), security(("bearer" = [])))]
async fn ricevute(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Query(f): Query<FiltroRicevute>,
    Query(paging): Query<Paging>,
) -> Result<Json<Page<RicevutaStaged>>, ApiError> {
    caller.scope(&id)?;
    let (limit, offset) = paging.limit_offset().map_err(ApiError::Validation)?;
    let (items, total) = s
        .store
        .riconciliazione()
        .search_ricevute(&id, &f.into(), limit, offset)
        .await?;
    Ok(Json(Page {
        items: items.into_iter().map(Into::into).collect(),
        page: paging.page,
        per_page: paging.per_page,
        total,
    }))
}

/// Receipts per part of an import: a few MB of parsed rows, and statements of a size the
/// store already batches.
const PEZZO_RICEVUTE: usize = 5_000;

/// Imports receipts from a MyPay "export pagati" CSV (1.1 / 1.2 / 1.3, plain or "con
/// ricevuta"): valid lines in one transaction, the others in the job's reject report. The
/// file is spooled to disk as it arrives (up to `rest.upload_limit_bytes`) and read from
/// there a record at a time.
#[utoipa::path(post, path = "/api/v1/enti/{id_dominio}/ricevute", tag = "riconciliazione",
    params(("id_dominio" = String, Path)),
    request_body(content = String, content_type = "text/csv"),
    responses((status = 200, body = ImportJob), (status = 404, body = Problem)), security(("bearer" = [])))]
async fn importa_ricevute(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    body: Body,
) -> Result<Json<ImportJob>, ApiError> {
    caller.scope(&id)?;
    s.store.registro().get_ente(&id).await?;
    let _slot = super::upload::slot()?;
    let file = super::upload::Upload::receive(body, s.config.rest.upload_limit_bytes).await?;
    let sha = file.sha256_hex();
    tracing::info!(ente = %id, bytes = file.len, "receipts export spooled");
    // The file's digest names its automatic accertamenti: a reload finds them again.
    let origine = format!("PAGATI-{}", &sha[..12]);
    // Read and applied in parts (one transaction): the parser fills the next part while
    // the last one is written, and a file of any size costs two parts of memory.
    let (tx, mut rx) = tokio::sync::mpsc::channel(1);
    let ente = id.clone();
    // A read error drops the sender without a report: the import rolls back.
    let lettore = tokio::task::spawn_blocking(move || {
        let l = file.reader().and_then(|r| {
            crate::recon::pagati::leggi_csv_a_pezzi(r, &ente, PEZZO_RICEVUTE, |p| {
                tx.blocking_send(store::PezzoRicevute::Ricevute(p)).is_ok()
            })
        })?;
        let job = report_sha(
            &ente,
            "RICEVUTE_PAGATI",
            sha,
            l.valide,
            l.scarti,
            l.scartate,
        );
        let _ = tx.blocking_send(store::PezzoRicevute::Fine(Box::new(job)));
        Ok::<(), std::io::Error>(())
    });
    let applicato = s
        .store
        .riconciliazione()
        .import_ricevute_a_pezzi(&id, &mut rx, &origine)
        .await;
    drop(rx);
    super::upload::letto(lettore).await?;
    let job = applicato?;
    s.store.riconciliazione().process(&id).await?;
    Ok(Json(job.into()))
}

/// The report of an import before it is applied (what it changed is filled in by the
/// import's own transaction): rows read, rejected.
pub fn report(
    ente: &str,
    tipo: &str,
    body: &[u8],
    valide: usize,
    scarti: Vec<crate::recon::giornale::Scarto>,
) -> store::ImportJob {
    let scartate = scarti.len();
    report_sha(
        ente,
        tipo,
        crate::digest::sha256_hex(body),
        valide,
        scarti,
        scartate,
    )
}

/// [`report`] of a file whose digest is known (a spooled upload); `scarti` may be the
/// first of `scartate` rejected lines.
pub fn report_sha(
    ente: &str,
    tipo: &str,
    sha: String,
    valide: usize,
    scarti: Vec<crate::recon::giornale::Scarto>,
    scartate: usize,
) -> store::ImportJob {
    store::ImportJob {
        id: uuid::Uuid::new_v4().to_string(),
        id_dominio: ente.to_owned(),
        tipo: tipo.to_owned(),
        file_name: None,
        file_sha256: sha,
        versione: None,
        stato: "ESEGUITO".into(),
        righe_lette: (valide + scartate) as i64,
        righe_importate: 0,
        righe_invariate: valide as i64,
        righe_stornate: 0,
        righe_scartate: scartate as i64,
        scarti: scarti
            .into_iter()
            .map(|k| store::Scarto {
                riga: k.riga,
                codice: "SCARTO".into(),
                motivo: k.motivo,
                riga_originale: k.originale,
            })
            .collect(),
        created_at: time::OffsetDateTime::now_utc()
            .replace_nanosecond(0)
            .unwrap_or_else(|_| time::OffsetDateTime::now_utc()),
    }
}

/// An import's report (any kind: dovuti, treasury journal, notifications, receipts).
#[utoipa::path(get, path = "/api/v1/enti/{id_dominio}/importazioni/{id}", tag = "riconciliazione",
    params(("id_dominio" = String, Path), ("id" = String, Path)),
    responses((status = 200, body = ImportJob), (status = 404, body = Problem)), security(("bearer" = [])))]
async fn importazione(
    State(s): State<AppState>,
    caller: Caller,
    Path((ente, id)): Path<(String, String)>,
) -> Result<Json<ImportJob>, ApiError> {
    caller.scope(&ente)?;
    Ok(Json(s.store.importazioni().get(&ente, &id).await?.into()))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RendicontazioneQuery {
    /// Flow identifier (contains, case-insensitive).
    iuf: Option<String>,
    id_regolamento: Option<String>,
    #[param(value_type = Option<String>, format = Date)]
    #[serde(default, with = "crate::store::iso_date::option")]
    data_regolamento_da: Option<Date>,
    #[param(value_type = Option<String>, format = Date)]
    #[serde(default, with = "crate::store::iso_date::option")]
    data_regolamento_a: Option<Date>,
}

/// Rendicontazione pagoPA: the ente's reported flows, newest settlement first.
#[utoipa::path(get, path = "/api/v1/enti/{id_dominio}/rendicontazione", tag = "riconciliazione",
    params(("id_dominio" = String, Path), RendicontazioneQuery, Paging),
    responses((status = 200, body = Page<FlussoRendicontato>), (status = 404, body = Problem)), security(("bearer" = [])))]
async fn flussi_rendicontati(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Query(q): Query<RendicontazioneQuery>,
    Query(paging): Query<Paging>,
) -> Result<Json<Page<FlussoRendicontato>>, ApiError> {
    caller.scope(&id)?;
    let (limit, offset) = paging.limit_offset().map_err(ApiError::Validation)?;
    let (items, total) = s
        .store
        .riconciliazione()
        .search_flussi_rendicontati(
            &id,
            q.iuf.as_deref(),
            q.id_regolamento.as_deref(),
            q.data_regolamento_da,
            q.data_regolamento_a,
            limit,
            offset,
        )
        .await?;
    Ok(Json(Page {
        items: items.into_iter().map(Into::into).collect(),
        page: paging.page,
        per_page: paging.per_page,
        total,
    }))
}

/// A flow's reported payments, each with its receipt when there is one.
#[utoipa::path(get, path = "/api/v1/enti/{id_dominio}/rendicontazione/{iuf}", tag = "riconciliazione",
    params(("id_dominio" = String, Path), ("iuf" = String, Path)),
    responses((status = 200, body = Vec<PagamentoRendicontato>), (status = 404, body = Problem)), security(("bearer" = [])))]
async fn pagamenti_flusso(
    State(s): State<AppState>,
    caller: Caller,
    Path((ente, iuf)): Path<(String, String)>,
) -> Result<Json<Vec<PagamentoRendicontato>>, ApiError> {
    caller.scope(&ente)?;
    let v = s
        .store
        .riconciliazione()
        .pagamenti_flusso(&ente, &iuf)
        .await?;
    if v.is_empty() {
        return Err(ApiError::NotFound(format!(
            "flusso {iuf} non rendicontato per l'ente"
        )));
    }
    Ok(Json(v.into_iter().map(Into::into).collect()))
}
