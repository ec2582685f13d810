//! Dovuti (debt positions): create, read, modify, cancel, search, history, and the bulk
//! import of the MyPay CSV tracciato with its per-line reject report.

use super::auth::Caller;
use super::viste::{ImportJob, StoricoStato};
use super::{ApiError, AppState, Problem};
use crate::model::StatoDovuto;
use crate::registry::import_csv::{self, Versione};
use crate::registry::{Dovuto, Ente, NuovoDovuto, Page, Paging, Rifiuto};
use crate::store::{self, DovutiFilter, StoreError};
use axum::Json;
use axum::body::{Body, Bytes};
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(search_dovuti, create_dovuto))
        .routes(routes!(get_dovuto, modify_dovuto))
        .routes(routes!(cancel_dovuto))
        .routes(routes!(storia))
        .routes(routes!(import_dovuti))
        .routes(routes!(get_import))
        .routes(routes!(get_import_scarti))
        .routes(routes!(avvisi_pdf))
}

/// The tipo dovuto a request names; an unknown one is the request's fault (422).
async fn tipo_dovuto_of(
    s: &AppState,
    ente: &str,
    codice: &str,
) -> Result<crate::registry::TipoDovuto, ApiError> {
    match s.store.registro().get_tipo_dovuto(ente, codice).await {
        Err(StoreError::NotFound) => Err(ApiError::Validation(format!(
            "tipo_dovuto '{codice}' inesistente per l'ente"
        ))),
        other => Ok(other?),
    }
}

fn rifiuto(r: Rifiuto) -> ApiError {
    ApiError::Validation(format!("{}: {}", r.code, r.reason))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DovutiQuery {
    stato: Option<StatoDovuto>,
    codice_fiscale: Option<String>,
    iud: Option<String>,
    iuv: Option<String>,
    numero_avviso: Option<String>,
    tipo_dovuto: Option<String>,
}

/// Searches the ente's dovuti, newest first.
#[utoipa::path(get, path = "/api/v1/enti/{id_dominio}/dovuti", tag = "dovuti", params(("id_dominio" = String, Path), DovutiQuery, Paging),
    responses((status = 200, body = Page<Dovuto>), (status = 404, body = Problem), (status = 422, body = Problem)), security(("bearer" = [])))]
async fn search_dovuti(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Query(q): Query<DovutiQuery>,
    Query(paging): Query<Paging>,
) -> Result<Json<Page<Dovuto>>, ApiError> {
    caller.scope(&id)?;
    let (limit, offset) = paging.limit_offset().map_err(ApiError::Validation)?;
    let f = DovutiFilter {
        id_dominio: Some(id),
        stato: q.stato,
        codice_fiscale: q.codice_fiscale.map(|c| c.to_ascii_uppercase()),
        iud: q.iud,
        iuv: q.iuv,
        numero_avviso: q.numero_avviso,
        tipo_dovuto: q.tipo_dovuto,
    };
    let (items, total) = s.store.dovuti().search(&f, limit, offset).await?;
    Ok(Json(Page {
        items,
        page: paging.page,
        per_page: paging.per_page,
        total,
    }))
}

/// Creates a dovuto; an IUV and numero avviso (aux digit 3) are generated when absent.
/// Idempotent on the IUD: the same request again answers 200 with the stored dovuto.
#[utoipa::path(post, path = "/api/v1/enti/{id_dominio}/dovuti", tag = "dovuti", params(("id_dominio" = String, Path)), request_body = NuovoDovuto,
    responses((status = 201, body = Dovuto), (status = 200, description = "already created by an identical request", body = Dovuto),
              (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)), security(("bearer" = [])))]
async fn create_dovuto(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(d): Json<NuovoDovuto>,
) -> Result<(StatusCode, Json<Dovuto>), ApiError> {
    caller.scope(&id)?;
    let ente = s.store.registro().get_ente(&id).await?;
    let tipo = tipo_dovuto_of(&s, &id, &d.tipo_dovuto).await?;
    let primario = primario_of(&s, &caller, &id, &d).await?;
    let valid = d
        .resolve_share(&ente, primario.as_ref(), &tipo)
        .map_err(rifiuto)?;
    match s.store.dovuti().get(&id, &valid.iud).await {
        Ok(existing) if valid.same_as(&existing) => return Ok((StatusCode::OK, Json(existing))),
        Ok(_) => {
            return Err(ApiError::Conflict(format!(
                "IUD {} già presente con dati diversi",
                valid.iud
            )));
        }
        Err(StoreError::NotFound) => {}
        Err(e) => return Err(e.into()),
    }
    Ok((
        StatusCode::CREATED,
        Json(
            s.store
                .dovuti()
                .insert(&ente, &valid, "creato via API")
                .await?,
        ),
    ))
}

/// The primary ente a secondary share names, which must hold a payable position with that
/// IUV and its notice, shared with no third ente (a multi-beneficiary cart has exactly two
/// RPTs): a share created before (or without) its position would be paid alone. The caller
/// must be allowed on the primary ente too (an operator of one ente cannot probe another's
/// positions through it).
async fn primario_of(
    s: &AppState,
    caller: &Caller,
    ente: &str,
    d: &NuovoDovuto,
) -> Result<Option<Ente>, ApiError> {
    let Some(id) = &d.ente_primario else {
        return Ok(None);
    };
    caller.scope(id)?;
    let primario = match s.store.registro().get_ente(id).await {
        Ok(e) => e,
        Err(StoreError::NotFound) => {
            return Err(ApiError::Validation(format!(
                "ente primario {id} sconosciuto"
            )));
        }
        Err(e) => return Err(e.into()),
    };
    let Some(iuv) = &d.iuv else {
        // resolve_share refuses it with its own reason.
        return Ok(Some(primario));
    };
    let f = DovutiFilter {
        iuv: Some(iuv.to_string()),
        ..Default::default()
    };
    let (stessi, _) = s.store.dovuti().search(&f, 10, 0).await?;
    let posizione = stessi.iter().find(|x| x.id_dominio.as_str() == id.as_str());
    match posizione {
        Some(p) if p.numero_avviso.is_some() && p.stato == StatoDovuto::DaPagare => {}
        Some(_) => {
            return Err(ApiError::Validation(format!(
                "la posizione {iuv} dell'ente primario {id} non è pagabile con avviso"
            )));
        }
        None => {
            return Err(ApiError::Validation(format!(
                "l'ente primario {id} non ha una posizione con IUV {iuv}"
            )));
        }
    }
    if stessi
        .iter()
        .any(|x| x.id_dominio.as_str() != id.as_str() && x.id_dominio.as_str() != ente)
    {
        return Err(ApiError::Conflict(format!(
            "la posizione {iuv} ha già la sua quota secondaria"
        )));
    }
    Ok(Some(primario))
}

/// One dovuto by IUD.
#[utoipa::path(get, path = "/api/v1/enti/{id_dominio}/dovuti/{iud}", tag = "dovuti", params(("id_dominio" = String, Path), ("iud" = String, Path)),
    responses((status = 200, body = Dovuto), (status = 404, body = Problem)), security(("bearer" = [])))]
async fn get_dovuto(
    State(s): State<AppState>,
    caller: Caller,
    Path((id, iud)): Path<(String, String)>,
) -> Result<Json<Dovuto>, ApiError> {
    caller.scope(&id)?;
    Ok(Json(s.store.dovuti().get(&id, &iud).await?))
}

/// Modifies a dovuto nobody is paying (refused while a payment is in progress or after it).
#[utoipa::path(put, path = "/api/v1/enti/{id_dominio}/dovuti/{iud}", tag = "dovuti", params(("id_dominio" = String, Path), ("iud" = String, Path)), request_body = NuovoDovuto,
    responses((status = 200, body = Dovuto), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)), security(("bearer" = [])))]
async fn modify_dovuto(
    State(s): State<AppState>,
    caller: Caller,
    Path((id, iud)): Path<(String, String)>,
    Json(d): Json<NuovoDovuto>,
) -> Result<Json<Dovuto>, ApiError> {
    caller.scope(&id)?;
    if d.iud != iud {
        return Err(ApiError::Validation(
            "iud del corpo diverso da quello del percorso".into(),
        ));
    }
    let ente = s.store.registro().get_ente(&id).await?;
    let old = s.store.dovuti().get(&id, &iud).await?;
    let tipo = tipo_dovuto_of(&s, &id, &d.tipo_dovuto).await?;
    let primario = primario_of(&s, &caller, &id, &d).await?;
    let valid = d
        .resolve_share(&ente, primario.as_ref(), &tipo)
        .map_err(rifiuto)?;
    if valid.iuv.as_ref().is_some_and(|(iuv, _)| *iuv != old.iuv) {
        return Err(ApiError::Validation(
            "lo IUV di un dovuto non si può cambiare".into(),
        ));
    }
    if valid.same_as(&old) {
        return Ok(Json(old));
    }
    Ok(Json(
        s.store
            .dovuti()
            .update(&old, &valid, "modificato via API")
            .await?,
    ))
}

/// Cancels a dovuto (idempotent; refused while a payment is in progress or once paid).
#[utoipa::path(post, path = "/api/v1/enti/{id_dominio}/dovuti/{iud}/annulla", tag = "dovuti", params(("id_dominio" = String, Path), ("iud" = String, Path)),
    responses((status = 200, body = Dovuto), (status = 404, body = Problem), (status = 409, body = Problem)), security(("bearer" = [])))]
async fn cancel_dovuto(
    State(s): State<AppState>,
    caller: Caller,
    Path((id, iud)): Path<(String, String)>,
) -> Result<Json<Dovuto>, ApiError> {
    caller.scope(&id)?;
    let d = s.store.dovuti().get(&id, &iud).await?;
    if d.stato == StatoDovuto::Annullato {
        return Ok(Json(d));
    }
    if !d.stato.is_modifiable() {
        return Err(ApiError::Conflict(format!(
            "dovuto in stato {}: non annullabile",
            d.stato
        )));
    }
    Ok(Json(
        s.store
            .dovuti()
            .change_stato(&d, StatoDovuto::Annullato, "annullato via API")
            .await?,
    ))
}

/// The dovuto's state history, oldest first.
#[utoipa::path(get, path = "/api/v1/enti/{id_dominio}/dovuti/{iud}/storia", tag = "dovuti", params(("id_dominio" = String, Path), ("iud" = String, Path)),
    responses((status = 200, body = Vec<StoricoStato>), (status = 404, body = Problem)), security(("bearer" = [])))]
async fn storia(
    State(s): State<AppState>,
    caller: Caller,
    Path((id, iud)): Path<(String, String)>,
) -> Result<Json<Vec<StoricoStato>>, ApiError> {
    caller.scope(&id)?;
    let d = s.store.dovuti().get(&id, &iud).await?;
    Ok(Json(
        s.store
            .dovuti()
            .storia(d.id)
            .await?
            .into_iter()
            .map(Into::into)
            .collect(),
    ))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ImportQuery {
    /// Tracciato version `1_0`..`1_3`; absent: told from the column count.
    versione: Option<String>,
    /// Original file name, kept in the job for the operator.
    file_name: Option<String>,
}

/// Imports a MyPay dovuti CSV (tracciato 1.0-1.3). Every valid line is applied in one
/// transaction; the others are listed with line number, code and reason. Idempotent on the
/// IUD: importing the same file again changes nothing. The file is spooled to disk as it
/// arrives (up to `rest.upload_limit_bytes`) and read from there in parts.
#[utoipa::path(post, path = "/api/v1/enti/{id_dominio}/dovuti/import", tag = "dovuti", params(("id_dominio" = String, Path), ImportQuery),
    request_body(content = String, content_type = "text/csv"),
    responses((status = 200, body = ImportJob), (status = 404, body = Problem), (status = 422, body = Problem)), security(("bearer" = [])))]
async fn import_dovuti(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Query(q): Query<ImportQuery>,
    body: Body,
) -> Result<Json<ImportJob>, ApiError> {
    caller.scope(&id)?;
    let ente = s.store.registro().get_ente(&id).await?;
    let versione = match q.versione.as_deref() {
        None => None,
        Some(v) => Some(Versione::parse(v).ok_or_else(|| {
            ApiError::Validation(format!(
                "versione '{v}' non supportata (1_0, 1_1, 1_2, 1_3)"
            ))
        })?),
    };
    let _slot = super::upload::slot()?;
    let file = super::upload::Upload::receive(body, s.config.rest.upload_limit_bytes).await?;
    if file.len == 0 {
        return Err(ApiError::Validation("file vuoto".into()));
    }
    let sha = file.sha256_hex();
    tracing::info!(ente = %id, bytes = file.len, "dovuti file spooled");
    let tipi = s.store.registro().list_tipi_dovuto(&id).await?;
    // Parsing is CPU work, off the async workers: the parser fills the next part while the
    // last one is applied, so a file of any size costs two parts of memory.
    let (tx, mut rx) = tokio::sync::mpsc::channel(1);
    let lettore = tokio::task::spawn_blocking(move || {
        let letto = import_csv::leggi_a_pezzi(
            || file.reader(),
            versione,
            import_csv::PEZZO,
            |p| tx.blocking_send(store::PezzoDovuti::Righe(p)).is_ok(),
        )?;
        // Without a tracciato the sender is dropped without its end: nothing is applied.
        if let Ok(v) = letto {
            let _ = tx.blocking_send(store::PezzoDovuti::Fine(v));
        }
        Ok::<_, std::io::Error>(letto)
    });
    let applicato = s
        .store
        .dovuti()
        .apply_import(&ente, &tipi, &mut rx, q.file_name.as_deref(), &sha)
        .await;
    drop(rx);
    super::upload::letto(lettore)
        .await?
        .map_err(ApiError::Validation)?;
    let job = applicato?;
    for (outcome, n) in [
        ("imported", job.righe_importate),
        ("unchanged", job.righe_invariate),
        ("rejected", job.righe_scartate),
    ] {
        metrics::counter!(crate::metrics::DOVUTI_IMPORTED, "outcome" => outcome)
            .increment(n as u64);
    }
    Ok(Json(job.into()))
}

/// An import job with its report.
#[utoipa::path(get, path = "/api/v1/enti/{id_dominio}/imports/{job_id}", tag = "dovuti", params(("id_dominio" = String, Path), ("job_id" = String, Path)),
    responses((status = 200, body = ImportJob), (status = 404, body = Problem)), security(("bearer" = [])))]
async fn get_import(
    State(s): State<AppState>,
    caller: Caller,
    Path((id, job)): Path<(String, String)>,
) -> Result<Json<ImportJob>, ApiError> {
    caller.scope(&id)?;
    Ok(Json(s.store.importazioni().get(&id, &job).await?.into()))
}

/// The rejects of an import as CSV (original line, code, reason), MyPay's "scarti" file,
/// streamed a page at a time (a report can be larger than the memory it may use).
#[utoipa::path(get, path = "/api/v1/enti/{id_dominio}/imports/{job_id}/scarti.csv", tag = "dovuti", params(("id_dominio" = String, Path), ("job_id" = String, Path)),
    responses((status = 200, content_type = "text/csv", body = String), (status = 404, body = Problem)), security(("bearer" = [])))]
async fn get_import_scarti(
    State(s): State<AppState>,
    caller: Caller,
    Path((id, job)): Path<(String, String)>,
) -> Result<impl IntoResponse, ApiError> {
    caller.scope(&id)?;
    // The job must be the ente's: the pages below are read by job id alone.
    s.store.importazioni().get(&id, &job).await?;
    let (mut tx, body) = http_body_util::channel::Channel::<Bytes, std::io::Error>::new(2);
    let store = s.store.clone();
    tokio::spawn(async move {
        if tx
            .send_data(Bytes::from_static(import_csv::REJECT_HEADER.as_bytes()))
            .await
            .is_err()
        {
            return;
        }
        let mut after = -1;
        loop {
            let page = match store.importazioni().scarti_after(&job, after, 1_000).await {
                Ok(p) => p,
                Err(e) => {
                    tracing::warn!(error = %e, "reject report interrupted");
                    // A broken body, not a report that looks complete.
                    tx.abort(std::io::Error::other(e.to_string()));
                    return;
                }
            };
            let Some((last, _)) = page.last() else {
                return;
            };
            after = *last;
            let lines = import_csv::reject_lines(page.iter().map(|(_, sc)| {
                (
                    sc.riga,
                    sc.codice.as_str(),
                    sc.motivo.as_str(),
                    sc.riga_originale.as_str(),
                )
            }));
            if tx.send_data(Bytes::from(lines)).await.is_err() {
                return;
            }
        }
    });
    Ok((
        [(header::CONTENT_TYPE, "text/csv; charset=utf-8")],
        axum::body::Body::new(body),
    ))
}

/// The dovuti whose notices to print, by IUD.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct RichiestaAvvisi {
    /// 1 to 1,000 IUDs of the ente's dovuti.
    pub iud: Vec<String>,
}

/// Notices printed at once: a page each, a few kilobytes a page.
pub const MAX_AVVISI: usize = 1000;

/// The notices (avvisi di pagamento) of a list of dovuti as one PDF, a page each, in
/// pagoPA's layout with the QR code (and Poste's Data Matrix for a postal account), for
/// the ente to print or send. 422 names the dovuti without a notice (no numero avviso)
/// or unknown.
#[utoipa::path(post, path = "/api/v1/enti/{id_dominio}/avvisi.pdf", tag = "dovuti", params(("id_dominio" = String, Path)),
    request_body = RichiestaAvvisi,
    responses((status = 200, content_type = "application/pdf", body = Vec<u8>), (status = 404, body = Problem), (status = 422, body = Problem)), security(("bearer" = [])))]
async fn avvisi_pdf(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(r): Json<RichiestaAvvisi>,
) -> Result<impl IntoResponse, ApiError> {
    caller.scope(&id)?;
    if r.iud.is_empty() || r.iud.len() > MAX_AVVISI {
        return Err(ApiError::Validation(format!(
            "iud: da 1 a {MAX_AVVISI} dovuti, non {}",
            r.iud.len()
        )));
    }
    let ente = s.store.registro().get_ente(&id).await?;
    // Two reads for the whole list: the dovuti, and the tipi (their IBANs).
    let dovuti: std::collections::HashMap<String, Dovuto> = s
        .store
        .dovuti()
        .per_iud(&id, &r.iud)
        .await?
        .into_iter()
        .map(|d| (d.iud.clone(), d))
        .collect();
    let tipi: std::collections::HashMap<String, crate::model::Iban> = s
        .store
        .registro()
        .list_tipi_dovuto(&id)
        .await?
        .into_iter()
        .map(|t| (t.codice, t.iban))
        .collect();
    let (mut avvisi, mut senza) = (Vec::with_capacity(r.iud.len()), Vec::new());
    for iud in &r.iud {
        // In the order asked.
        let Some(d) = dovuti.get(iud) else {
            senza.push(format!("{iud} (sconosciuto)"));
            continue;
        };
        match crate::avviso::DatiAvviso::di(&ente, d, tipi.get(&d.tipo_dovuto)) {
            Some(a) => avvisi.push(a),
            None => senza.push(format!("{iud} (senza numero avviso)")),
        }
    }
    if !senza.is_empty() {
        return Err(ApiError::Validation(format!(
            "nessun avviso per: {}",
            senza.join(", ")
        )));
    }
    Ok((
        [
            (header::CONTENT_TYPE, "application/pdf"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"avvisi.pdf\"",
            ),
        ],
        // A thousand pages of QR codes is CPU work: off the async workers.
        tokio::task::spawn_blocking(move || crate::avviso::pdf(&avvisi))
            .await
            .map_err(|e| ApiError::Internal(e.into()))?,
    ))
}
