//! MyPivot accounting over REST, per ente: the chart ufficio – capitolo – accertamento (CRUD
//! and the mass import, docs/riconciliazione.md §7.1–§7.2), accertamenti with their
//! lifecycle and history (§7.3), and the statistics with drill-down and CSV (§8).

use super::auth::Caller;
use super::viste::{ImportJob, RicevutaStaged};
use super::viste_contabili::{
    Accertamento, AccertamentoDettaglio, Associazione, Capitolo, FiltroCandidati, FiltroCapitoli,
    ModificaCapitolo, NuovoCapitolo, RigaStatistica,
};
use super::{ApiError, AppState, Problem};
use crate::recon::accertamenti::{self as acc, StatoAccertamento};
use crate::recon::statistiche::{self as stat, Cella, Dimensione, Granularita, Misura};
use crate::registry::{Page, Paging};
use crate::store::RichiestaStatistica;
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use time::{Date, Month};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(capitoli, crea_capitolo))
        .routes(routes!(modifica_capitolo, elimina_capitolo))
        .routes(routes!(importa_capitoli))
        .routes(routes!(accertamenti, crea_accertamento))
        .routes(routes!(accertamento, modifica_accertamento))
        .routes(routes!(candidati))
        .routes(routes!(associa))
        .routes(routes!(rimuovi))
        .routes(routes!(chiudi))
        .routes(routes!(annulla))
        .routes(routes!(statistiche))
        .routes(routes!(dettaglio_statistica))
}

/// Who acts: the credential, and the person the portal names in `X-Operatore` (the API key
/// belongs to the ente's back office, not to one person).
fn autore(c: &Caller, h: &HeaderMap) -> String {
    let base = c.nome();
    match h
        .get("x-operatore")
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty())
    {
        Some(p) => format!("{base} ({})", p.chars().take(120).collect::<String>()),
        None => base,
    }
}

async fn tipo_esistente(s: &AppState, ente: &str, tipo: &str) -> Result<(), ApiError> {
    match s.store.registro().get_tipo_dovuto(ente, tipo).await {
        Ok(_) => Ok(()),
        Err(crate::store::StoreError::NotFound) => Err(ApiError::Validation(format!(
            "tipo dovuto {tipo} sconosciuto per l'ente"
        ))),
        Err(e) => Err(e.into()),
    }
}

// ---- chart ----

#[utoipa::path(get, path = "/api/v1/enti/{id_dominio}/capitoli", tag = "accertamenti",
    params(("id_dominio" = String, Path), FiltroCapitoli, Paging),
    responses((status = 200, body = Page<Capitolo>), (status = 404, body = Problem)), security(("bearer" = [])))]
async fn capitoli(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Query(f): Query<FiltroCapitoli>,
    Query(paging): Query<Paging>,
) -> Result<Json<Page<Capitolo>>, ApiError> {
    caller.scope(&id)?;
    let (limit, offset) = paging.limit_offset().map_err(ApiError::Validation)?;
    let (items, total) = s
        .store
        .contabilita()
        .list_capitoli(&id, &f.into(), limit, offset)
        .await?;
    Ok(Json(Page {
        items: items.into_iter().map(Into::into).collect(),
        page: paging.page,
        per_page: paging.per_page,
        total,
    }))
}

/// Adds a chart line. A code's description must match the one already stored for it
/// (`n/a` placeholders excepted, which the new text replaces).
#[utoipa::path(post, path = "/api/v1/enti/{id_dominio}/capitoli", tag = "accertamenti",
    params(("id_dominio" = String, Path)), request_body = NuovoCapitolo,
    responses((status = 201, body = Capitolo), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)), security(("bearer" = [])))]
async fn crea_capitolo(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(n): Json<NuovoCapitolo>,
) -> Result<(StatusCode, Json<Capitolo>), ApiError> {
    caller.scope(&id)?;
    s.store.registro().get_ente(&id).await?;
    let anno = n.anno.to_string();
    let attivo = n.attivo.to_string();
    let campi = [
        n.cod_ufficio.as_str(),
        &n.de_ufficio,
        &attivo,
        &n.cod_capitolo,
        &n.de_capitolo,
        &anno,
        n.cod_accertamento.as_deref().unwrap_or(""),
        n.de_accertamento.as_deref().unwrap_or(""),
        &n.tipo_dovuto,
        "I",
    ];
    let r = acc::riga_capitolo(&campi).map_err(ApiError::Validation)?;
    tipo_esistente(&s, &id, &r.tipo_dovuto).await?;
    let cid = s.store.contabilita().create_capitolo(&id, &r).await?;
    Ok((
        StatusCode::CREATED,
        Json(s.store.contabilita().get_capitolo(&id, cid).await?.into()),
    ))
}

/// Changes a line's flag or descriptions (a description changes on every line of its code).
#[utoipa::path(put, path = "/api/v1/enti/{id_dominio}/capitoli/{id}", tag = "accertamenti",
    params(("id_dominio" = String, Path), ("id" = i64, Path)), request_body = ModificaCapitolo,
    responses((status = 200, body = Capitolo), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)), security(("bearer" = [])))]
async fn modifica_capitolo(
    State(s): State<AppState>,
    caller: Caller,
    Path((ente, cid)): Path<(String, i64)>,
    Json(m): Json<ModificaCapitolo>,
) -> Result<Json<Capitolo>, ApiError> {
    caller.scope(&ente)?;
    for d in [&m.de_ufficio, &m.de_capitolo, &m.de_accertamento]
        .into_iter()
        .flatten()
    {
        if d.trim().is_empty() || d.chars().count() > 512 {
            return Err(ApiError::Validation(
                "descrizione: da 1 a 512 caratteri".into(),
            ));
        }
    }
    s.store
        .contabilita()
        .update_capitolo(&ente, cid, &m.into())
        .await?;
    Ok(Json(
        s.store.contabilita().get_capitolo(&ente, cid).await?.into(),
    ))
}

#[utoipa::path(delete, path = "/api/v1/enti/{id_dominio}/capitoli/{id}", tag = "accertamenti",
    params(("id_dominio" = String, Path), ("id" = i64, Path)),
    responses((status = 204), (status = 404, body = Problem), (status = 409, body = Problem)), security(("bearer" = [])))]
async fn elimina_capitolo(
    State(s): State<AppState>,
    caller: Caller,
    Path((ente, cid)): Path<(String, i64)>,
) -> Result<StatusCode, ApiError> {
    caller.scope(&ente)?;
    s.store.contabilita().delete_capitolo(&ente, cid).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ImportCapitoliQuery {
    /// The file's name, kept in the report (`<codIPA>-<nomeFlusso>-1_0.zip`).
    nome_file: Option<String>,
}

/// The mass import (docs/riconciliazione.md §7.2): the zip with one CSV (or the CSV
/// itself), 10 quoted fields, `;`, ISO-8859-1, header skipped; azione I inserts (or
/// updates), D deletes. Applied whole or not at all: any refused line refuses the file,
/// and the report lists every refusal.
#[utoipa::path(post, path = "/api/v1/enti/{id_dominio}/capitoli/import", tag = "accertamenti",
    params(("id_dominio" = String, Path), ImportCapitoliQuery),
    request_body(content = Vec<u8>, content_type = "application/octet-stream", description = "The zip with one CSV, or the CSV itself"),
    responses((status = 200, body = ImportJob), (status = 404, body = Problem), (status = 422, body = Problem)), security(("bearer" = [])))]
async fn importa_capitoli(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Query(q): Query<ImportCapitoliQuery>,
    body: Bytes,
) -> Result<Json<ImportJob>, ApiError> {
    caller.scope(&id)?;
    s.store.registro().get_ente(&id).await?;
    let csv = if body.starts_with(b"PK\x03\x04") {
        acc::estrai_zip(&body).map_err(ApiError::Validation)?
    } else {
        body.to_vec()
    };
    let file = acc::leggi_capitoli(&csv);
    if file.lette == 0 {
        return Err(ApiError::Validation("il file non contiene righe".into()));
    }
    let mut job = super::riconciliazione::report(&id, "CAPITOLI", &body, 0, Vec::new());
    job.file_name = q.nome_file;
    Ok(Json(
        s.store
            .contabilita()
            .import_capitoli(&id, &file, job)
            .await?
            .into(),
    ))
}

// ---- accertamenti ----

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FiltroAccertamenti {
    /// INSERITO, CHIUSO or ANNULLATO.
    stato: Option<String>,
    tipo_dovuto: Option<String>,
    /// Name contains (case-insensitive).
    nome: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/enti/{id_dominio}/accertamenti", tag = "accertamenti",
    params(("id_dominio" = String, Path), FiltroAccertamenti, Paging),
    responses((status = 200, body = Page<Accertamento>), (status = 404, body = Problem), (status = 422, body = Problem)), security(("bearer" = [])))]
async fn accertamenti(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Query(f): Query<FiltroAccertamenti>,
    Query(paging): Query<Paging>,
) -> Result<Json<Page<Accertamento>>, ApiError> {
    caller.scope(&id)?;
    if let Some(st) = &f.stato
        && StatoAccertamento::parse(st).is_none()
    {
        return Err(ApiError::Validation(format!(
            "stato '{st}': INSERITO, CHIUSO o ANNULLATO"
        )));
    }
    let (limit, offset) = paging.limit_offset().map_err(ApiError::Validation)?;
    let (items, total) = s
        .store
        .contabilita()
        .list_accertamenti(
            &id,
            f.stato.as_deref(),
            f.tipo_dovuto.as_deref(),
            f.nome.as_deref(),
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

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct NuovoAccertamento {
    pub nome: String,
    pub tipo_dovuto: String,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct ModificaAccertamento {
    pub nome: Option<String>,
    /// Only while no payment is associated.
    pub tipo_dovuto: Option<String>,
}

fn nome_valido(n: &str) -> Result<(), ApiError> {
    if n.trim().is_empty() || n.chars().count() > 256 {
        return Err(ApiError::Validation("nome: da 1 a 256 caratteri".into()));
    }
    Ok(())
}

/// Creates an accertamento (INSERITO) for one tipo dovuto.
#[utoipa::path(post, path = "/api/v1/enti/{id_dominio}/accertamenti", tag = "accertamenti",
    params(("id_dominio" = String, Path)), request_body = NuovoAccertamento,
    responses((status = 201, body = AccertamentoDettaglio), (status = 404, body = Problem), (status = 422, body = Problem)), security(("bearer" = [])))]
async fn crea_accertamento(
    State(s): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Path(id): Path<String>,
    Json(n): Json<NuovoAccertamento>,
) -> Result<(StatusCode, Json<AccertamentoDettaglio>), ApiError> {
    caller.scope(&id)?;
    s.store.registro().get_ente(&id).await?;
    nome_valido(&n.nome)?;
    tipo_esistente(&s, &id, &n.tipo_dovuto).await?;
    let aid = s
        .store
        .contabilita()
        .create_accertamento(
            &id,
            n.nome.trim(),
            &n.tipo_dovuto,
            &autore(&caller, &headers),
        )
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(
            s.store
                .contabilita()
                .get_accertamento(&id, aid)
                .await?
                .into(),
        ),
    ))
}

/// An accertamento with its payments and its history (who changed what and when).
#[utoipa::path(get, path = "/api/v1/enti/{id_dominio}/accertamenti/{id}", tag = "accertamenti",
    params(("id_dominio" = String, Path), ("id" = i64, Path)),
    responses((status = 200, body = AccertamentoDettaglio), (status = 404, body = Problem)), security(("bearer" = [])))]
async fn accertamento(
    State(s): State<AppState>,
    caller: Caller,
    Path((ente, aid)): Path<(String, i64)>,
) -> Result<Json<AccertamentoDettaglio>, ApiError> {
    caller.scope(&ente)?;
    Ok(Json(
        s.store
            .contabilita()
            .get_accertamento(&ente, aid)
            .await?
            .into(),
    ))
}

#[utoipa::path(put, path = "/api/v1/enti/{id_dominio}/accertamenti/{id}", tag = "accertamenti",
    params(("id_dominio" = String, Path), ("id" = i64, Path)), request_body = ModificaAccertamento,
    responses((status = 200, body = AccertamentoDettaglio), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)), security(("bearer" = [])))]
async fn modifica_accertamento(
    State(s): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Path((ente, aid)): Path<(String, i64)>,
    Json(m): Json<ModificaAccertamento>,
) -> Result<Json<AccertamentoDettaglio>, ApiError> {
    caller.scope(&ente)?;
    if let Some(n) = &m.nome {
        nome_valido(n)?;
    }
    if let Some(t) = &m.tipo_dovuto {
        tipo_esistente(&s, &ente, t).await?;
    }
    s.store
        .contabilita()
        .update_accertamento(
            &ente,
            aid,
            m.nome.as_deref().map(str::trim),
            m.tipo_dovuto.as_deref(),
            &autore(&caller, &headers),
        )
        .await?;
    Ok(Json(
        s.store
            .contabilita()
            .get_accertamento(&ente, aid)
            .await?
            .into(),
    ))
}

/// Payments that may be added: receipts of the accertamento's tipo dovuto without a
/// bilancio, not already in a live accertamento.
#[utoipa::path(get, path = "/api/v1/enti/{id_dominio}/accertamenti/{id}/candidati", tag = "accertamenti",
    params(("id_dominio" = String, Path), ("id" = i64, Path), FiltroCandidati, Paging),
    responses((status = 200, body = Page<RicevutaStaged>), (status = 404, body = Problem)), security(("bearer" = [])))]
async fn candidati(
    State(s): State<AppState>,
    caller: Caller,
    Path((ente, aid)): Path<(String, i64)>,
    Query(f): Query<FiltroCandidati>,
    Query(paging): Query<Paging>,
) -> Result<Json<Page<RicevutaStaged>>, ApiError> {
    caller.scope(&ente)?;
    let (limit, offset) = paging.limit_offset().map_err(ApiError::Validation)?;
    let (items, total) = s
        .store
        .contabilita()
        .candidati_accertamento(&ente, aid, &f.into(), limit, offset)
        .await?;
    Ok(Json(Page {
        items: items.into_iter().map(Into::into).collect(),
        page: paging.page,
        per_page: paging.per_page,
        total,
    }))
}

/// Books receipts (each for its whole amount) on a chart line of the accertamento's tipo.
#[utoipa::path(post, path = "/api/v1/enti/{id_dominio}/accertamenti/{id}/pagamenti", tag = "accertamenti",
    params(("id_dominio" = String, Path), ("id" = i64, Path)), request_body = Associazione,
    responses((status = 200, body = AccertamentoDettaglio), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)), security(("bearer" = [])))]
async fn associa(
    State(s): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Path((ente, aid)): Path<(String, i64)>,
    Json(a): Json<Associazione>,
) -> Result<Json<AccertamentoDettaglio>, ApiError> {
    caller.scope(&ente)?;
    if a.ricevute.is_empty() || a.ricevute.len() > 10_000 {
        return Err(ApiError::Validation("ricevute: da 1 a 10000".into()));
    }
    if a.cod_ufficio.trim().is_empty() || a.cod_capitolo.trim().is_empty() {
        return Err(ApiError::Validation(
            "cod_ufficio e cod_capitolo obbligatori".into(),
        ));
    }
    s.store
        .contabilita()
        .associate_pagamenti(&ente, aid, &a.into(), &autore(&caller, &headers))
        .await?;
    Ok(Json(
        s.store
            .contabilita()
            .get_accertamento(&ente, aid)
            .await?
            .into(),
    ))
}

#[utoipa::path(delete, path = "/api/v1/enti/{id_dominio}/accertamenti/{id}/pagamenti/{riga}", tag = "accertamenti",
    params(("id_dominio" = String, Path), ("id" = i64, Path), ("riga" = i64, Path)),
    responses((status = 200, body = AccertamentoDettaglio), (status = 404, body = Problem), (status = 409, body = Problem)), security(("bearer" = [])))]
async fn rimuovi(
    State(s): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Path((ente, aid, riga)): Path<(String, i64, i64)>,
) -> Result<Json<AccertamentoDettaglio>, ApiError> {
    caller.scope(&ente)?;
    s.store
        .contabilita()
        .remove_pagamento(&ente, aid, riga, &autore(&caller, &headers))
        .await?;
    Ok(Json(
        s.store
            .contabilita()
            .get_accertamento(&ente, aid)
            .await?
            .into(),
    ))
}

/// INSERITO → CHIUSO (needs at least one payment); from then on it counts in the statistics.
#[utoipa::path(post, path = "/api/v1/enti/{id_dominio}/accertamenti/{id}/chiudi", tag = "accertamenti",
    params(("id_dominio" = String, Path), ("id" = i64, Path)),
    responses((status = 200, body = AccertamentoDettaglio), (status = 404, body = Problem), (status = 409, body = Problem)), security(("bearer" = [])))]
async fn chiudi(
    State(s): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Path((ente, aid)): Path<(String, i64)>,
) -> Result<Json<AccertamentoDettaglio>, ApiError> {
    cambia_stato(&s, &caller, &headers, &ente, aid, StatoAccertamento::Chiuso).await
}

/// INSERITO → ANNULLATO: its payments become candidates again.
#[utoipa::path(post, path = "/api/v1/enti/{id_dominio}/accertamenti/{id}/annulla", tag = "accertamenti",
    params(("id_dominio" = String, Path), ("id" = i64, Path)),
    responses((status = 200, body = AccertamentoDettaglio), (status = 404, body = Problem), (status = 409, body = Problem)), security(("bearer" = [])))]
async fn annulla(
    State(s): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Path((ente, aid)): Path<(String, i64)>,
) -> Result<Json<AccertamentoDettaglio>, ApiError> {
    cambia_stato(
        &s,
        &caller,
        &headers,
        &ente,
        aid,
        StatoAccertamento::Annullato,
    )
    .await
}

async fn cambia_stato(
    s: &AppState,
    caller: &Caller,
    headers: &HeaderMap,
    ente: &str,
    aid: i64,
    to: StatoAccertamento,
) -> Result<Json<AccertamentoDettaglio>, ApiError> {
    caller.scope(ente)?;
    s.store
        .contabilita()
        .change_stato_accertamento(ente, aid, to, &autore(caller, headers))
        .await?;
    Ok(Json(
        s.store
            .contabilita()
            .get_accertamento(ente, aid)
            .await?
            .into(),
    ))
}

// ---- statistics ----

#[derive(Debug, Default, Deserialize, Serialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StatisticaQuery {
    /// The year (default: every year).
    pub anno: Option<i32>,
    /// The month of `anno`, 1–12.
    pub mese: Option<u8>,
    /// A day range instead of anno/mese.
    #[param(value_type = Option<String>, format = Date)]
    #[serde(default, with = "crate::store::iso_date::option")]
    pub da: Option<Date>,
    #[param(value_type = Option<String>, format = Date)]
    #[serde(default, with = "crate::store::iso_date::option")]
    pub a: Option<Date>,
    /// Default: anno without a year, mese within a year, giorno within a month or range.
    #[param(inline)]
    pub granularita: Option<Granularita>,
    /// totale (default), ufficio, tipo_dovuto, capitolo, accertamento (CHIUSO accertamenti).
    #[param(inline)]
    pub dimensione: Option<Dimensione>,
    pub tipo_dovuto: Option<String>,
    pub cod_ufficio: Option<String>,
    pub cod_capitolo: Option<String>,
    pub cod_accertamento: Option<String>,
    /// json (default) or csv.
    pub formato: Option<String>,
}

fn periodo(q: &StatisticaQuery) -> Result<(Option<Date>, Option<Date>, Granularita), ApiError> {
    let bad = |m: &str| ApiError::Validation(m.to_owned());
    if q.mese.is_some() && q.anno.is_none() {
        return Err(bad("mese richiede anno"));
    }
    let (mut da, mut a, mut g) = (None, None, Granularita::Anno);
    if let Some(y) = q.anno {
        if !(1900..=9999).contains(&y) {
            return Err(bad("anno fuori intervallo"));
        }
        match q.mese {
            Some(m) => {
                let month = Month::try_from(m).map_err(|_| bad("mese: da 1 a 12"))?;
                let first = Date::from_calendar_date(y, month, 1).map_err(|_| bad("mese"))?;
                da = Some(first);
                a = Some(
                    Date::from_calendar_date(y, month, month.length(y)).map_err(|_| bad("mese"))?,
                );
                g = Granularita::Giorno;
            }
            None => {
                da = Date::from_calendar_date(y, Month::January, 1).ok();
                a = Date::from_calendar_date(y, Month::December, 31).ok();
                g = Granularita::Mese;
            }
        }
    }
    if q.da.is_some() || q.a.is_some() {
        da = q.da.or(da);
        a = q.a.or(a);
        g = Granularita::Giorno;
    }
    if let (Some(x), Some(y)) = (da, a)
        && x > y
    {
        return Err(bad("periodo vuoto: da dopo a"));
    }
    Ok((da, a, q.granularita.unwrap_or(g)))
}

fn richiesta(q: &StatisticaQuery) -> Result<RichiestaStatistica, ApiError> {
    let (da, a, granularita) = periodo(q)?;
    Ok(RichiestaStatistica {
        dimensione: q.dimensione.unwrap_or_default(),
        granularita,
        da,
        a,
        tipo_dovuto: q.tipo_dovuto.clone(),
        cod_ufficio: q.cod_ufficio.clone(),
        cod_capitolo: q.cod_capitolo.clone(),
        cod_accertamento: q.cod_accertamento.clone(),
    })
}

fn csv_richiesto(f: &Option<String>) -> Result<bool, ApiError> {
    match f.as_deref() {
        None | Some("json") => Ok(false),
        Some("csv") => Ok(true),
        Some(x) => Err(ApiError::Validation(format!("formato '{x}': json o csv"))),
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Statistiche {
    pub granularita: Granularita,
    pub dimensione: Dimensione,
    pub celle: Vec<Cella>,
}

/// Paid (receipts, data esito), reported (RT_IUF, data regolamento), cashed (RT_IUF_TES /
/// RT_TES, data valuta) and, apart, reported with esito 9 but without a receipt (data esito)
/// per year, month or day; broken down by the CHIUSO accertamenti' ufficio,
/// tipo dovuto, capitolo or accertamento. Descriptions come from the chart of the cell's
/// year. `formato=csv` gives the same cells as CSV.
#[utoipa::path(get, path = "/api/v1/enti/{id_dominio}/statistiche", tag = "accertamenti",
    params(("id_dominio" = String, Path), StatisticaQuery),
    responses((status = 200, content((Statistiche = "application/json"), (String = "text/csv"))), (status = 404, body = Problem), (status = 422, body = Problem)), security(("bearer" = [])))]
async fn statistiche(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Query(q): Query<StatisticaQuery>,
) -> Result<Response, ApiError> {
    caller.scope(&id)?;
    let csv = csv_richiesto(&q.formato)?;
    let r = richiesta(&q)?;
    s.store.registro().get_ente(&id).await?;
    s.store.riconciliazione().process(&id).await?;
    s.store.contabilita().stat_refresh(&id).await?;
    let celle = celle(&s, &id, &r).await?;
    if csv {
        return Ok((
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
                (
                    header::CONTENT_DISPOSITION,
                    "attachment; filename=\"statistiche.csv\"",
                ),
            ],
            stat::csv(&celle, r.dimensione),
        )
            .into_response());
    }
    Ok(Json(Statistiche {
        granularita: r.granularita,
        dimensione: r.dimensione,
        celle,
    })
    .into_response())
}

/// Pivots the aggregates (one per measure) into cells and names the codes.
async fn celle(s: &AppState, ente: &str, r: &RichiestaStatistica) -> Result<Vec<Cella>, ApiError> {
    let agg = s.store.contabilita().statistiche(ente, r).await?;
    type Chiave = (i64, i64, Option<Date>, String, String, String, String);
    let mut per: BTreeMap<Chiave, Cella> = BTreeMap::new();
    let dims = r.dimensione.colonne();
    let some = |c: &str, v: &String| dims.contains(&c).then(|| v.clone());
    for a in agg {
        let Some(m) = Misura::da_codice(&a.misura) else {
            continue;
        };
        let k = (
            a.anno,
            a.mese,
            a.giorno,
            a.tipo_dovuto.clone(),
            a.cod_ufficio.clone(),
            a.cod_capitolo.clone(),
            a.cod_accertamento.clone(),
        );
        let c = per.entry(k).or_insert_with(|| Cella {
            periodo: match (r.granularita, a.giorno) {
                (Granularita::Giorno, Some(g)) => g.to_string(),
                (Granularita::Mese, _) => format!("{:04}-{:02}", a.anno, a.mese),
                _ => format!("{:04}", a.anno),
            },
            anno: a.anno as i32,
            mese: (r.granularita != Granularita::Anno).then_some(a.mese as u8),
            giorno: a.giorno,
            tipo_dovuto: some("tipo_dovuto", &a.tipo_dovuto),
            cod_ufficio: some("cod_ufficio", &a.cod_ufficio),
            cod_capitolo: some("cod_capitolo", &a.cod_capitolo),
            cod_accertamento: some("cod_accertamento", &a.cod_accertamento),
            ..Default::default()
        });
        c.aggiungi(m, a.importo_cents, a.numero);
    }
    let mut celle: Vec<Cella> = per.into_values().collect();
    if r.dimensione != Dimensione::Totale && !celle.is_empty() {
        // Descriptions: the chart line of the cell's year; tipi from the registry.
        let (chart, _) = s
            .store
            .contabilita()
            .list_capitoli(ente, &Default::default(), 100_000, 0)
            .await?;
        let mut de: HashMap<(i64, &str, String), String> = HashMap::new();
        for c in &chart {
            de.insert((c.anno, "u", c.cod_ufficio.clone()), c.de_ufficio.clone());
            de.insert((c.anno, "c", c.cod_capitolo.clone()), c.de_capitolo.clone());
            de.insert(
                (c.anno, "a", c.cod_accertamento.clone()),
                c.de_accertamento.clone(),
            );
        }
        let tipi: HashMap<String, String> = s
            .store
            .registro()
            .list_tipi_dovuto(ente)
            .await?
            .into_iter()
            .map(|t| (t.codice, t.descrizione))
            .collect();
        for c in &mut celle {
            let y = i64::from(c.anno);
            let find = |k: &'static str, v: &Option<String>| {
                v.as_ref()
                    .and_then(|v| de.get(&(y, k, v.clone())).cloned())
                    .or_else(|| v.as_ref().map(|_| crate::model::bilancio::NA.to_owned()))
            };
            c.de_ufficio = find("u", &c.cod_ufficio);
            c.de_capitolo = find("c", &c.cod_capitolo);
            c.de_accertamento = find("a", &c.cod_accertamento);
            c.de_tipo_dovuto = c.tipo_dovuto.as_ref().and_then(|t| tipi.get(t).cloned());
        }
    }
    Ok(celle)
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DettaglioQuery {
    /// pagati, rendicontati, incassati or senza_ricevuta.
    #[param(inline)]
    pub misura: Misura,
}

/// The receipts behind a cell: same period and codes as `/statistiche`, one measure.
#[utoipa::path(get, path = "/api/v1/enti/{id_dominio}/statistiche/dettaglio", tag = "accertamenti",
    params(("id_dominio" = String, Path), DettaglioQuery, StatisticaQuery, Paging),
    responses((status = 200, content((Page<RigaStatistica> = "application/json"), (String = "text/csv"))), (status = 404, body = Problem), (status = 422, body = Problem)), security(("bearer" = [])))]
async fn dettaglio_statistica(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Query(d): Query<DettaglioQuery>,
    Query(q): Query<StatisticaQuery>,
    Query(paging): Query<Paging>,
) -> Result<Response, ApiError> {
    caller.scope(&id)?;
    let csv = csv_richiesto(&q.formato)?;
    let r = richiesta(&q)?;
    s.store.registro().get_ente(&id).await?;
    s.store.riconciliazione().process(&id).await?;
    s.store.contabilita().stat_refresh(&id).await?;
    if csv {
        // Every receipt of the cell, read and sent a page at a time.
        let (mut tx, body) = http_body_util::channel::Channel::<Bytes, std::io::Error>::new(2);
        let store = s.store.clone();
        tokio::spawn(async move {
            let mut out = String::from(
                "ricevuta_id;iuv;iur;indice;iud;tipo_dovuto;cf_pagatore;data;importo;cod_ufficio;cod_capitolo;cod_accertamento\n",
            );
            let mut offset = 0;
            loop {
                let rows = match store
                    .contabilita()
                    .righe_statistica(&id, d.misura, &r, 5_000, offset)
                    .await
                {
                    Ok((rows, _)) => rows,
                    Err(e) => {
                        tx.abort(std::io::Error::other(e.to_string()));
                        return;
                    }
                };
                for x in &rows {
                    let o = |v: &Option<String>| {
                        v.clone()
                            .unwrap_or_default()
                            .replace([';', '\n', '\r'], " ")
                    };
                    out.push_str(&format!(
                        "{};{};{};{};{};{};{};{};{}.{:02};{};{};{}\n",
                        x.ricevuta_id,
                        x.iuv,
                        x.iur.replace(';', " "),
                        x.indice,
                        o(&x.iud),
                        o(&x.tipo_dovuto),
                        o(&x.cf_pagatore),
                        x.data,
                        x.importo_cents / 100,
                        x.importo_cents % 100,
                        o(&x.cod_ufficio),
                        o(&x.cod_capitolo),
                        o(&x.cod_accertamento)
                    ));
                }
                if tx
                    .send_data(Bytes::from(std::mem::take(&mut out)))
                    .await
                    .is_err()
                    || rows.len() < 5_000
                {
                    return;
                }
                offset += 5_000;
            }
        });
        return Ok((
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
                (
                    header::CONTENT_DISPOSITION,
                    "attachment; filename=\"statistiche-dettaglio.csv\"",
                ),
            ],
            axum::body::Body::new(body),
        )
            .into_response());
    }
    let (limit, offset) = paging.limit_offset().map_err(ApiError::Validation)?;
    let (items, total) = s
        .store
        .contabilita()
        .righe_statistica(&id, d.misura, &r, limit, offset)
        .await?;
    Ok(Json(Page {
        items: items
            .into_iter()
            .map(RigaStatistica::from)
            .collect::<Vec<_>>(),
        page: paging.page,
        per_page: paging.per_page,
        total,
    })
    .into_response())
}
