//! The registry of enti, tipi dovuto and dovuti: types shared by the store and the REST
//! facade, and the pure rules that turn a requested dovuto into a valid one.

pub mod import_csv;

use crate::model::{
    Bilancio, CodiceFiscale, DatiSpecificiRiscossione, Iban, IdDominio, Importo, Iuv, NumeroAvviso,
    SegregationCode, StatoDovuto, TipoVersamento, VoceBilancio,
};
use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};
use utoipa::ToSchema;

// Dates travel as ISO 8601 `YYYY-MM-DD` in JSON.
time::serde::format_description!(iso_date, Date, "[year]-[month]-[day]");

/// Assistance contacts shown on the ente's portal page.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Contatti {
    pub email: Option<String>,
    pub telefono: Option<String>,
    pub sito_web: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Ente {
    #[schema(value_type = String, example = "80007580279")]
    pub id_dominio: IdDominio,
    pub denominazione: String,
    pub codice_ipa: String,
    /// Segregation code for aux digit 3 numeri avviso.
    #[schema(value_type = u8, example = 1)]
    pub segregation_code: SegregationCode,
    pub contatti: Contatti,
    #[schema(value_type = Vec<String>)]
    pub ibans: Vec<Iban>,
    /// The ente's back office notifies payments (MyPivot IUD codes).
    pub flg_pagati: bool,
    /// The ente loads its treasury journal (MyPivot TES codes).
    pub flg_tesoreria: bool,
    pub attivo: bool,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: OffsetDateTime,
}

/// What an administrator sends to create or replace an ente.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EnteInput {
    #[schema(value_type = String, example = "80007580279")]
    pub id_dominio: IdDominio,
    pub denominazione: String,
    pub codice_ipa: String,
    #[schema(value_type = u8)]
    pub segregation_code: SegregationCode,
    #[serde(default)]
    pub contatti: Contatti,
    #[serde(default)]
    #[schema(value_type = Vec<String>)]
    pub ibans: Vec<Iban>,
    #[serde(default)]
    pub flg_pagati: bool,
    #[serde(default)]
    pub flg_tesoreria: bool,
    #[serde(default = "yes")]
    pub attivo: bool,
}

fn yes() -> bool {
    true
}

impl EnteInput {
    pub fn check(&self) -> Result<(), String> {
        check_len("denominazione", &self.denominazione, 1, 70)?;
        if self.codice_ipa.is_empty()
            || self.codice_ipa.len() > 16
            || !self
                .codice_ipa
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_')
        {
            return Err("codice_ipa: 1-16 caratteri alfanumerici".into());
        }
        check_contatti(&self.contatti)
    }
}

fn check_contatti(c: &Contatti) -> Result<(), String> {
    if let Some(e) = &c.email {
        check_email(e).map_err(|e| format!("contatti.email: {e}"))?;
    }
    if let Some(t) = &c.telefono {
        check_len("contatti.telefono", t, 3, 32)?;
    }
    if let Some(w) = &c.sito_web
        && (!(w.starts_with("https://") || w.starts_with("http://")) || w.len() > 255)
    {
        return Err("contatti.sito_web: URL http(s) di al più 255 caratteri".into());
    }
    Ok(())
}

pub fn check_len(field: &str, v: &str, min: usize, max: usize) -> Result<(), String> {
    let n = v.chars().count();
    if n < min || n > max {
        return Err(format!("{field}: lunghezza {n} fuori da {min}..{max}"));
    }
    Ok(())
}

pub fn check_email(e: &str) -> Result<(), String> {
    let ok = e.len() <= 256
        && !e.chars().any(|c| c.is_whitespace() || c.is_control())
        && matches!(e.split_once('@'), Some((l, d)) if !l.is_empty() && d.contains('.') && !d.starts_with('.') && !d.ends_with('.') && !d.contains('@'));
    if ok {
        Ok(())
    } else {
        Err(format!("indirizzo email non valido: '{e}'"))
    }
}

/// What happens when a notice is paid after its due date (Portale Pagamenti 5.6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum PoliticaScadenza {
    /// paaVerificaRPT answers PAA_PAGAMENTO_SCADUTO.
    Rifiuta,
    /// Still payable, with `mora_fissa` and interest added.
    Accetta,
}

impl PoliticaScadenza {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Rifiuta => "RIFIUTA",
            Self::Accetta => "ACCETTA",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "RIFIUTA" => Some(Self::Rifiuta),
            "ACCETTA" => Some(Self::Accetta),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TipoDovuto {
    #[schema(value_type = String)]
    pub id_dominio: IdDominio,
    pub codice: String,
    pub descrizione: String,
    #[schema(value_type = String)]
    pub iban: Iban,
    #[schema(value_type = String, example = "9/0101105IM/")]
    pub dati_specifici_riscossione: DatiSpecificiRiscossione,
    /// Fixed amount; absent when the payer or the operator enters it.
    #[schema(value_type = Option<String>, example = "16.00")]
    pub importo_fisso: Option<Importo>,
    /// Spontaneous payments (created by the payer) allowed.
    pub spontaneo: bool,
    /// The anonymous payer placeholder `ANONIMO` is accepted.
    pub cf_anonimo: bool,
    pub politica_scadenza: PoliticaScadenza,
    /// Late fee added once after the due date (only with `ACCETTA`).
    #[schema(value_type = String, example = "0.00")]
    pub mora_fissa: Importo,
    /// Yearly interest rate in basis points, accrued per day after the due date.
    pub interesse_annuo_bp: i64,
    pub attivo: bool,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TipoDovutoInput {
    pub codice: String,
    pub descrizione: String,
    #[schema(value_type = String)]
    pub iban: Iban,
    #[schema(value_type = String, example = "9/0101105IM/")]
    pub dati_specifici_riscossione: DatiSpecificiRiscossione,
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub importo_fisso: Option<Importo>,
    #[serde(default)]
    pub spontaneo: bool,
    #[serde(default)]
    pub cf_anonimo: bool,
    pub politica_scadenza: PoliticaScadenza,
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub mora_fissa: Option<Importo>,
    #[serde(default)]
    pub interesse_annuo_bp: i64,
    #[serde(default = "yes")]
    pub attivo: bool,
}

impl TipoDovutoInput {
    pub fn check(&self, ente: &Ente) -> Result<(), String> {
        if self.codice.is_empty()
            || self.codice.len() > 64
            || !self
                .codice
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"_-.".contains(&b))
        {
            return Err("codice: 1-64 caratteri [A-Za-z0-9_.-]".into());
        }
        check_len("descrizione", &self.descrizione, 1, 256)?;
        if !ente.ibans.contains(&self.iban) {
            return Err(format!(
                "iban: {} non è tra gli IBAN censiti dell'ente",
                self.iban
            ));
        }
        if matches!(self.importo_fisso, Some(i) if i.is_zero()) {
            return Err("importo_fisso: deve essere maggiore di zero".into());
        }
        if !(0..=10_000).contains(&self.interesse_annuo_bp) {
            return Err("interesse_annuo_bp: fuori da 0..10000".into());
        }
        if self.politica_scadenza == PoliticaScadenza::Rifiuta
            && (self.interesse_annuo_bp != 0 || self.mora_fissa.is_some_and(|m| !m.is_zero()))
        {
            return Err(
                "mora_fissa/interesse_annuo_bp: ammessi solo con politica_scadenza ACCETTA".into(),
            );
        }
        Ok(())
    }
}

/// Natural (`F`) or legal (`G`) person.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub enum TipoSoggetto {
    F,
    G,
}

impl TipoSoggetto {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::F => "F",
            Self::G => "G",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim().to_ascii_uppercase().as_str() {
            "F" => Some(Self::F),
            "G" => Some(Self::G),
            _ => None,
        }
    }
}

/// The payer (soggetto pagatore) of a dovuto.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Pagatore {
    pub tipo: TipoSoggetto,
    #[schema(value_type = String, example = "RSSMRA85T10A562S")]
    pub codice_fiscale: CodiceFiscale,
    pub anagrafica: String,
    #[serde(default)]
    pub indirizzo: Option<String>,
    #[serde(default)]
    pub civico: Option<String>,
    #[serde(default)]
    pub cap: Option<String>,
    #[serde(default)]
    pub localita: Option<String>,
    #[serde(default)]
    pub provincia: Option<String>,
    #[serde(default)]
    pub nazione: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Dovuto {
    pub id: i64,
    #[schema(value_type = String)]
    pub id_dominio: IdDominio,
    pub iud: String,
    #[schema(value_type = String)]
    pub iuv: Iuv,
    #[schema(value_type = Option<String>, example = "301000000000000144")]
    pub numero_avviso: Option<NumeroAvviso>,
    pub tipo_dovuto: String,
    pub pagatore: Pagatore,
    #[schema(value_type = String, example = "10.00")]
    pub importo: Importo,
    #[schema(value_type = Option<String>)]
    pub commissione_pa: Option<Importo>,
    pub causale: String,
    #[schema(value_type = String)]
    pub dati_specifici_riscossione: DatiSpecificiRiscossione,
    #[schema(value_type = String, example = "ALL")]
    pub tipo_versamento: TipoVersamento,
    #[serde(with = "iso_date::option")]
    #[schema(value_type = Option<String>, format = Date)]
    pub data_scadenza: Option<Date>,
    /// Until when the amount holds; after it the amount is recomputed at verification.
    #[serde(with = "iso_date::option")]
    #[schema(value_type = Option<String>, format = Date)]
    pub data_validita: Option<Date>,
    pub bilancio: Vec<VoceBilancio>,
    pub stato: StatoDovuto,
    pub version: i64,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: OffsetDateTime,
}

/// A dovuto as an operator or a file asks for it; [`NuovoDovuto::resolve`] checks it
/// against its ente and tipo dovuto.
#[derive(Debug, Clone, PartialEq, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NuovoDovuto {
    pub iud: String,
    /// Absent: an aux-3 IUV is generated with a numero avviso.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub iuv: Option<Iuv>,
    pub tipo_dovuto: String,
    pub pagatore: Pagatore,
    /// Absent: the tipo dovuto's fixed amount.
    #[serde(default)]
    #[schema(value_type = Option<String>, example = "10.00")]
    pub importo: Option<Importo>,
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub commissione_pa: Option<Importo>,
    pub causale: String,
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub dati_specifici_riscossione: Option<DatiSpecificiRiscossione>,
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub tipo_versamento: Option<TipoVersamento>,
    #[serde(default, with = "iso_date::option")]
    #[schema(value_type = Option<String>, format = Date)]
    pub data_scadenza: Option<Date>,
    #[serde(default, with = "iso_date::option")]
    #[schema(value_type = Option<String>, format = Date)]
    pub data_validita: Option<Date>,
    #[serde(default)]
    pub bilancio: Vec<VoceBilancio>,
    /// The secondary share of a multi-beneficiary position: the ente (id_dominio) whose
    /// position this shares. The IUV is then that ente's, checked against its segregation
    /// code, and the share has no numero avviso of its own.
    #[serde(default)]
    pub ente_primario: Option<String>,
}

/// A dovuto that passed every rule, ready to store.
#[derive(Debug, Clone, PartialEq)]
pub struct DovutoValido {
    pub iud: String,
    pub iuv: Option<(Iuv, Option<NumeroAvviso>)>,
    pub tipo_dovuto: String,
    pub pagatore: Pagatore,
    pub importo: Importo,
    pub commissione_pa: Option<Importo>,
    pub causale: String,
    pub dati_specifici_riscossione: DatiSpecificiRiscossione,
    pub tipo_versamento: TipoVersamento,
    pub data_scadenza: Option<Date>,
    pub data_validita: Option<Date>,
    pub bilancio: Vec<VoceBilancio>,
}

/// A rule a dovuto broke: a stable code (MyPay's PAA_IMPORT_* family) and an explanation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rifiuto {
    pub code: &'static str,
    pub reason: String,
}

impl Rifiuto {
    pub fn new(code: &'static str, reason: impl Into<String>) -> Self {
        Rifiuto {
            code,
            reason: reason.into(),
        }
    }
}

pub fn check_iud(iud: &str) -> Result<(), Rifiuto> {
    if iud.is_empty() || iud.len() > 35 || !iud.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(Rifiuto::new(
            "PAA_IMPORT_SINTASSI_CSV_IUD",
            format!("IUD '{iud}': 1-35 caratteri stampabili senza spazi"),
        ));
    }
    Ok(())
}

impl NuovoDovuto {
    /// Applies the registry rules; `tipo` must be the tipo dovuto named by the request.
    pub fn resolve(self, ente: &Ente, tipo: &TipoDovuto) -> Result<DovutoValido, Rifiuto> {
        self.resolve_share(ente, None, tipo)
    }

    /// [`Self::resolve`] for a dovuto that may be the secondary share of a multi-beneficiary
    /// position: `primario` is the ente named by `ente_primario`, whose segregation code
    /// the IUV must carry (each ente of a region has its own code).
    pub fn resolve_share(
        self,
        ente: &Ente,
        primario: Option<&Ente>,
        tipo: &TipoDovuto,
    ) -> Result<DovutoValido, Rifiuto> {
        check_iud(&self.iud)?;
        let titolare = match (&self.ente_primario, primario) {
            (None, _) => ente,
            (Some(id), Some(p))
                if id.as_str() == p.id_dominio.as_str() && p.id_dominio != ente.id_dominio =>
            {
                if self.iuv.is_none() {
                    return Err(Rifiuto::new(
                        "PAA_IMPORT_SINTASSI_CSV_IUV",
                        "la quota secondaria di un multibeneficiario porta lo IUV dell'ente primario",
                    ));
                }
                p
            }
            (Some(id), _) => {
                return Err(Rifiuto::new(
                    "PAA_IMPORT_SINTASSI_CSV_IUV",
                    format!("ente primario '{id}' non valido per questa quota"),
                ));
            }
        };
        if !tipo.attivo {
            return Err(Rifiuto::new(
                "PAA_IMPORT_TIPO_DOVUTO_NON_ATTIVO_PER_ENTE",
                format!("tipo dovuto '{}' non attivo", tipo.codice),
            ));
        }
        let p = &self.pagatore;
        if p.codice_fiscale.is_anonimo() && !tipo.cf_anonimo {
            return Err(Rifiuto::new(
                "PAA_IMPORT_SINTASSI_CSV_COD_FISC",
                "codice fiscale anonimo non ammesso per il tipo dovuto",
            ));
        }
        check_len("anagrafica", &p.anagrafica, 1, 70)
            .map_err(|e| Rifiuto::new("PAA_IMPORT_SINTASSI_CSV_ANAGRAFICA", e))?;
        for (field, v, max, code) in [
            (
                "indirizzo",
                &p.indirizzo,
                70,
                "PAA_IMPORT_SINTASSI_CSV_INDIRIZZO",
            ),
            ("civico", &p.civico, 16, "PAA_IMPORT_SINTASSI_CSV_CIVICO"),
            ("cap", &p.cap, 16, "PAA_IMPORT_SINTASSI_CSV_CAP"),
            (
                "localita",
                &p.localita,
                35,
                "PAA_IMPORT_SINTASSI_CSV_LOCALITA",
            ),
        ] {
            if let Some(v) = v {
                check_len(field, v, 1, max).map_err(|e| Rifiuto::new(code, e))?;
            }
        }
        if let Some(pr) = &p.provincia
            && (pr.len() != 2 || !pr.bytes().all(|b| b.is_ascii_uppercase()))
        {
            return Err(Rifiuto::new(
                "PAA_IMPORT_SINTASSI_CSV_PROV",
                format!("provincia '{pr}': due lettere maiuscole"),
            ));
        }
        if let Some(n) = &p.nazione
            && (n.len() != 2 || !n.bytes().all(|b| b.is_ascii_uppercase()))
        {
            return Err(Rifiuto::new(
                "PAA_IMPORT_SINTASSI_CSV_NAZ",
                format!("nazione '{n}': codice ISO di due lettere"),
            ));
        }
        if let Some(e) = &p.email {
            check_email(e).map_err(|e| Rifiuto::new("PAA_IMPORT_SINTASSI_CSV_EMAIL", e))?;
        }
        let importo = match (tipo.importo_fisso, self.importo) {
            (Some(f), None) => f,
            (Some(f), Some(i)) if i != f => {
                return Err(Rifiuto::new(
                    "PAA_IMPORT_SINTASSI_CSV_IMPORTO",
                    format!("importo {i} diverso dall'importo fisso {f} del tipo dovuto"),
                ));
            }
            (_, Some(i)) => i,
            (None, None) => {
                return Err(Rifiuto::new(
                    "PAA_IMPORT_SINTASSI_CSV_IMPORTO",
                    "importo mancante",
                ));
            }
        };
        if importo.is_zero() {
            return Err(Rifiuto::new(
                "PAA_IMPORT_SINTASSI_CSV_IMPORTO",
                "importo nullo",
            ));
        }
        check_len("causale", &self.causale, 1, 1024)
            .map_err(|e| Rifiuto::new("PAA_IMPORT_SINTASSI_CSV_CAUSALE", e))?;
        if let (Some(v), Some(s)) = (self.data_validita, self.data_scadenza)
            && v > s
        {
            return Err(Rifiuto::new(
                "PAA_IMPORT_SINTASSI_CSV_DATA_SCADENZA_PAGAMENTO",
                format!("data di validità {v} successiva alla scadenza {s}"),
            ));
        }
        if !self.bilancio.is_empty() {
            Bilancio(self.bilancio.clone())
                .check_totale(importo)
                .map_err(|e| Rifiuto::new("PAA_IMPORT_SINTASSI_CSV_BILANCIO", e.0))?;
        }
        let iuv = match self.iuv {
            None => None,
            Some(iuv) => {
                let avviso = NumeroAvviso::from_aux3_iuv(&iuv)
                    .filter(|n| n.code() == Some(titolare.segregation_code.value()));
                if avviso.is_none()
                    && iuv.as_str().len() == 17
                    && iuv.as_str().bytes().all(|b| b.is_ascii_digit())
                {
                    // A 17-digit numeric IUV looks like an aux-3 one: a wrong check digit or a
                    // foreign segregation code is a mistake, not a free IUV.
                    return Err(Rifiuto::new(
                        "PAA_IMPORT_SINTASSI_CSV_IUV",
                        format!(
                            "IUV '{iuv}' non coerente con il codice di segregazione {:02} dell'ente {}",
                            titolare.segregation_code.value(),
                            titolare.id_dominio
                        ),
                    ));
                }
                // The notice is the primary ente's: a share is paid through it, never alone.
                let avviso = avviso.filter(|_| self.ente_primario.is_none());
                Some((iuv, avviso))
            }
        };
        Ok(DovutoValido {
            iud: self.iud,
            iuv,
            dati_specifici_riscossione: self
                .dati_specifici_riscossione
                .unwrap_or_else(|| tipo.dati_specifici_riscossione.clone()),
            tipo_versamento: self.tipo_versamento.unwrap_or_else(TipoVersamento::all),
            tipo_dovuto: self.tipo_dovuto,
            pagatore: self.pagatore,
            importo,
            commissione_pa: self.commissione_pa,
            causale: self.causale,
            data_scadenza: self.data_scadenza,
            data_validita: self.data_validita,
            bilancio: self.bilancio,
        })
    }
}

impl DovutoValido {
    /// True when `d` already holds exactly this content (a repeated import is a no-op).
    pub fn same_as(&self, d: &Dovuto) -> bool {
        self.iuv.as_ref().is_none_or(|(iuv, _)| *iuv == d.iuv)
            && self.tipo_dovuto == d.tipo_dovuto
            && self.pagatore == d.pagatore
            && self.importo == d.importo
            && self.commissione_pa == d.commissione_pa
            && self.causale == d.causale
            && self.dati_specifici_riscossione == d.dati_specifici_riscossione
            && self.tipo_versamento == d.tipo_versamento
            && self.data_scadenza == d.data_scadenza
            && self.data_validita == d.data_validita
            && self.bilancio == d.bilancio
    }
}

/// A page of results; every list of the API is paginated the same way.
#[derive(Debug, Serialize, ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub page: u32,
    pub per_page: u32,
    pub total: i64,
}

#[derive(Debug, Clone, Copy, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Paging {
    /// 1-based page number.
    #[serde(default = "one")]
    pub page: u32,
    /// Page size, 1 to 500.
    #[serde(default = "fifty")]
    pub per_page: u32,
}

fn one() -> u32 {
    1
}
fn fifty() -> u32 {
    50
}

impl Paging {
    pub fn limit_offset(&self) -> Result<(i64, i64), String> {
        // The documented type is int32: a larger page is out of the schema, not an empty page.
        if self.page == 0 || self.page > i32::MAX as u32 || !(1..=500).contains(&self.per_page) {
            return Err("page da 1 a 2147483647 e per_page in 1..500".into());
        }
        Ok((
            i64::from(self.per_page),
            i64::from(self.page - 1) * i64::from(self.per_page),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::Paging;

    #[test]
    fn paging_stays_within_its_documented_int32_range() {
        let p = |page, per_page| Paging { page, per_page }.limit_offset();
        assert_eq!(p(3, 50), Ok((50, 100)));
        assert!(p(0, 50).is_err());
        assert!(p(1, 501).is_err());
        assert!(p(i32::MAX as u32, 500).is_ok());
        // schemathesis sent page=3766668727 (a valid u32, not an int32) and got 200.
        assert!(p(3_766_668_727, 50).is_err());
    }
}
