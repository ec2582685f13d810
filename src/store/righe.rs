//! Rows as stored, and their conversion to the registry's types (a value the database
//! should never hold is reported as corrupt, not a panic).

use super::{StoreError, StoreResult};
use crate::model::{Importo, StatoDovuto};
use crate::registry::{
    Contatti, Dovuto, Ente, Pagatore, PoliticaScadenza, TipoDovuto, TipoSoggetto,
};
use time::{Date, OffsetDateTime};

pub(crate) fn corrupt(what: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("{what}: {e}"))
}

pub(crate) fn importo(cents: i64) -> StoreResult<Importo> {
    Importo::from_cents(cents).map_err(|e| corrupt("importo", e))
}

#[derive(sqlx::FromRow)]
pub(crate) struct EnteRow {
    pub(crate) id_dominio: String,
    pub(crate) denominazione: String,
    pub(crate) codice_ipa: String,
    pub(crate) segregation_code: i64,
    pub(crate) email: Option<String>,
    pub(crate) telefono: Option<String>,
    pub(crate) sito_web: Option<String>,
    pub(crate) ibans: String,
    pub(crate) flg_pagati: bool,
    pub(crate) flg_tesoreria: bool,
    pub(crate) attivo: bool,
    pub(crate) created_at: OffsetDateTime,
    pub(crate) updated_at: OffsetDateTime,
}

impl TryFrom<EnteRow> for Ente {
    type Error = StoreError;
    fn try_from(r: EnteRow) -> StoreResult<Ente> {
        Ok(Ente {
            id_dominio: r
                .id_dominio
                .parse()
                .map_err(|e| corrupt("ente.id_dominio", e))?,
            denominazione: r.denominazione,
            codice_ipa: r.codice_ipa,
            segregation_code: u8::try_from(r.segregation_code)
                .ok()
                .and_then(|c| crate::model::SegregationCode::new(c).ok())
                .ok_or_else(|| corrupt("ente.segregation_code", r.segregation_code))?,
            contatti: Contatti {
                email: r.email,
                telefono: r.telefono,
                sito_web: r.sito_web,
            },
            ibans: serde_json::from_str(&r.ibans).map_err(|e| corrupt("ente.ibans", e))?,
            flg_pagati: r.flg_pagati,
            flg_tesoreria: r.flg_tesoreria,
            attivo: r.attivo,
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct TipoDovutoRow {
    pub(crate) id_dominio: String,
    pub(crate) codice: String,
    pub(crate) descrizione: String,
    pub(crate) iban: String,
    pub(crate) dati_specifici_riscossione: String,
    pub(crate) importo_fisso_cents: Option<i64>,
    pub(crate) spontaneo: bool,
    pub(crate) cf_anonimo: bool,
    pub(crate) politica_scadenza: String,
    pub(crate) mora_fissa_cents: i64,
    pub(crate) interesse_annuo_bp: i64,
    pub(crate) attivo: bool,
}

impl TryFrom<TipoDovutoRow> for TipoDovuto {
    type Error = StoreError;
    fn try_from(r: TipoDovutoRow) -> StoreResult<TipoDovuto> {
        Ok(TipoDovuto {
            id_dominio: r
                .id_dominio
                .parse()
                .map_err(|e| corrupt("tipo_dovuto.id_dominio", e))?,
            codice: r.codice,
            descrizione: r.descrizione,
            iban: r.iban.parse().map_err(|e| corrupt("tipo_dovuto.iban", e))?,
            dati_specifici_riscossione: r
                .dati_specifici_riscossione
                .parse()
                .map_err(|e| corrupt("tipo_dovuto.dsr", e))?,
            importo_fisso: r.importo_fisso_cents.map(importo).transpose()?,
            spontaneo: r.spontaneo,
            cf_anonimo: r.cf_anonimo,
            politica_scadenza: PoliticaScadenza::parse(&r.politica_scadenza)
                .ok_or_else(|| corrupt("tipo_dovuto.politica_scadenza", &r.politica_scadenza))?,
            mora_fissa: importo(r.mora_fissa_cents)?,
            interesse_annuo_bp: r.interesse_annuo_bp,
            attivo: r.attivo,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct DovutoRow {
    pub(crate) id: i64,
    pub(crate) id_dominio: String,
    pub(crate) iud: String,
    pub(crate) iuv: String,
    pub(crate) numero_avviso: Option<String>,
    pub(crate) tipo_dovuto: String,
    pub(crate) tipo_soggetto: String,
    pub(crate) codice_fiscale: String,
    pub(crate) anagrafica: String,
    pub(crate) indirizzo: Option<String>,
    pub(crate) civico: Option<String>,
    pub(crate) cap: Option<String>,
    pub(crate) localita: Option<String>,
    pub(crate) provincia: Option<String>,
    pub(crate) nazione: Option<String>,
    pub(crate) email: Option<String>,
    pub(crate) importo_cents: i64,
    pub(crate) commissione_pa_cents: Option<i64>,
    pub(crate) causale: String,
    pub(crate) dati_specifici_riscossione: String,
    pub(crate) tipo_versamento: String,
    pub(crate) data_scadenza: Option<Date>,
    pub(crate) data_validita: Option<Date>,
    pub(crate) bilancio: String,
    pub(crate) stato: String,
    pub(crate) version: i64,
    pub(crate) created_at: OffsetDateTime,
    pub(crate) updated_at: OffsetDateTime,
}

impl TryFrom<DovutoRow> for Dovuto {
    type Error = StoreError;
    fn try_from(r: DovutoRow) -> StoreResult<Dovuto> {
        let cf = if r.codice_fiscale == crate::model::codice_fiscale::CF_ANONIMO {
            crate::model::CodiceFiscale::anonimo()
        } else {
            r.codice_fiscale
                .parse()
                .map_err(|e| corrupt("dovuto.codice_fiscale", e))?
        };
        Ok(Dovuto {
            id: r.id,
            id_dominio: r
                .id_dominio
                .parse()
                .map_err(|e| corrupt("dovuto.id_dominio", e))?,
            iud: r.iud,
            iuv: r.iuv.parse().map_err(|e| corrupt("dovuto.iuv", e))?,
            numero_avviso: r
                .numero_avviso
                .map(|n| n.parse())
                .transpose()
                .map_err(|e| corrupt("dovuto.numero_avviso", e))?,
            tipo_dovuto: r.tipo_dovuto,
            pagatore: Pagatore {
                tipo: TipoSoggetto::parse(&r.tipo_soggetto)
                    .ok_or_else(|| corrupt("dovuto.tipo_soggetto", &r.tipo_soggetto))?,
                codice_fiscale: cf,
                anagrafica: r.anagrafica,
                indirizzo: r.indirizzo,
                civico: r.civico,
                cap: r.cap,
                localita: r.localita,
                provincia: r.provincia,
                nazione: r.nazione,
                email: r.email,
            },
            importo: importo(r.importo_cents)?,
            commissione_pa: r.commissione_pa_cents.map(importo).transpose()?,
            causale: r.causale,
            dati_specifici_riscossione: r
                .dati_specifici_riscossione
                .parse()
                .map_err(|e| corrupt("dovuto.dsr", e))?,
            tipo_versamento: r
                .tipo_versamento
                .parse()
                .map_err(|e| corrupt("dovuto.tipo_versamento", e))?,
            data_scadenza: r.data_scadenza,
            data_validita: r.data_validita,
            bilancio: serde_json::from_str(&r.bilancio)
                .map_err(|e| corrupt("dovuto.bilancio", e))?,
            stato: StatoDovuto::parse(&r.stato).map_err(|e| corrupt("dovuto.stato", e))?,
            version: r.version,
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }
}
