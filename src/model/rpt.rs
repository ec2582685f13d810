//! RPT and RT, PagInf_RPT_RT_6_2_0.xsd (namespace `pay_i`, every element qualified).
//! Reading is lenient where real senders are sloppy (amounts without decimals, any prefix);
//! writing follows the schema's order and facets.

use super::{IdDominio, Importo, Iuv, ParseError, string_newtype};
use crate::xml::{Limits, NS_PAY_I, Writer};
use serde::Deserialize;
use time::Date;

time::serde::format_description!(pub xsd_date, Date, "[year]-[month]-[day]");

/// xsd:dateTime as sent (`YYYY-MM-DDThh:mm:ss[.fff][Z|±hh:mm]`); kept verbatim.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataOra(String);
string_newtype!(DataOra);

impl DataOra {
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        let b = s.as_bytes();
        let digits = |r: std::ops::Range<usize>| {
            b.get(r.clone())
                .is_some_and(|x| x.iter().all(u8::is_ascii_digit))
        };
        let mut ok = b.len() >= 19
            && digits(0..4)
            && b[4] == b'-'
            && digits(5..7)
            && b[7] == b'-'
            && digits(8..10)
            && b[10] == b'T'
            && digits(11..13)
            && b[13] == b':'
            && digits(14..16)
            && b[16] == b':'
            && digits(17..19);
        if ok {
            let mut rest = &s[19..];
            if let Some(frac) = rest.strip_prefix('.') {
                let n = frac.bytes().take_while(u8::is_ascii_digit).count();
                ok &= n > 0;
                rest = &frac[n..];
            }
            ok &= rest.is_empty()
                || rest == "Z"
                || (rest.len() == 6
                    && matches!(rest.as_bytes()[0], b'+' | b'-')
                    && rest.as_bytes()[3] == b':');
        }
        if !ok {
            return Err(ParseError::new(format!("dateTime non valido: '{s}'")));
        }
        Ok(DataOra(s.to_owned()))
    }

    /// Local Italian time of `t`, without offset, as pagoPA messages carry it.
    pub fn from_offset(t: time::OffsetDateTime) -> Self {
        let f = time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]");
        DataOra(t.format(f).expect("formattable"))
    }
}

fn fmt_date(d: Date) -> String {
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct IdentificativoUnivoco {
    /// `F`/`G` for persons, `G`/`A`/`B` for the attesting institution.
    #[serde(rename = "tipoIdentificativoUnivoco")]
    pub tipo: String,
    #[serde(rename = "codiceIdentificativoUnivoco")]
    pub codice: String,
}

impl IdentificativoUnivoco {
    /// Writes `<outer>` with the `pay_i:`-qualified tipo/codice pair.
    pub fn write(&self, w: &mut Writer, outer: &str) {
        w.open(outer)
            .leaf("pay_i:tipoIdentificativoUnivoco", &self.tipo)
            .leaf("pay_i:codiceIdentificativoUnivoco", &self.codice)
            .close(outer);
    }
}

/// soggettoPagatore / soggettoVersante (same shape, element names suffixed).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Soggetto {
    #[serde(
        rename = "identificativoUnivocoPagatore",
        alias = "identificativoUnivocoVersante"
    )]
    pub identificativo: IdentificativoUnivoco,
    #[serde(rename = "anagraficaPagatore", alias = "anagraficaVersante")]
    pub anagrafica: String,
    #[serde(rename = "indirizzoPagatore", alias = "indirizzoVersante", default)]
    pub indirizzo: Option<String>,
    #[serde(rename = "civicoPagatore", alias = "civicoVersante", default)]
    pub civico: Option<String>,
    #[serde(rename = "capPagatore", alias = "capVersante", default)]
    pub cap: Option<String>,
    #[serde(rename = "localitaPagatore", alias = "localitaVersante", default)]
    pub localita: Option<String>,
    #[serde(rename = "provinciaPagatore", alias = "provinciaVersante", default)]
    pub provincia: Option<String>,
    #[serde(rename = "nazionePagatore", alias = "nazioneVersante", default)]
    pub nazione: Option<String>,
    #[serde(rename = "e-mailPagatore", alias = "e-mailVersante", default)]
    pub email: Option<String>,
}

impl Soggetto {
    /// Writes `<outer>` with `pay_i:`-qualified children suffixed `Pagatore` or `Versante`.
    pub fn write(&self, w: &mut Writer, outer: &str, suffix: &str) {
        let n = |base: &str| format!("pay_i:{base}{suffix}");
        w.open(outer);
        self.identificativo.write(w, &n("identificativoUnivoco"));
        w.leaf(&n("anagrafica"), &self.anagrafica)
            .leaf_opt(&n("indirizzo"), self.indirizzo.as_deref())
            .leaf_opt(&n("civico"), self.civico.as_deref())
            .leaf_opt(&n("cap"), self.cap.as_deref())
            .leaf_opt(&n("localita"), self.localita.as_deref())
            .leaf_opt(&n("provincia"), self.provincia.as_deref())
            .leaf_opt(&n("nazione"), self.nazione.as_deref())
            .leaf_opt(&format!("pay_i:e-mail{suffix}"), self.email.as_deref())
            .close(outer);
    }
}

/// enteBeneficiario / istitutoAttestante (same shape, suffixed `Beneficiario`/`Attestante`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Ente {
    #[serde(
        rename = "identificativoUnivocoBeneficiario",
        alias = "identificativoUnivocoAttestante"
    )]
    pub identificativo: IdentificativoUnivoco,
    #[serde(
        rename = "denominazioneBeneficiario",
        alias = "denominazioneAttestante"
    )]
    pub denominazione: String,
    #[serde(
        rename = "codiceUnitOperBeneficiario",
        alias = "codiceUnitOperAttestante",
        default
    )]
    pub codice_unit_oper: Option<String>,
    #[serde(
        rename = "denomUnitOperBeneficiario",
        alias = "denomUnitOperAttestante",
        default
    )]
    pub denom_unit_oper: Option<String>,
    #[serde(
        rename = "indirizzoBeneficiario",
        alias = "indirizzoAttestante",
        default
    )]
    pub indirizzo: Option<String>,
    #[serde(rename = "civicoBeneficiario", alias = "civicoAttestante", default)]
    pub civico: Option<String>,
    #[serde(rename = "capBeneficiario", alias = "capAttestante", default)]
    pub cap: Option<String>,
    #[serde(rename = "localitaBeneficiario", alias = "localitaAttestante", default)]
    pub localita: Option<String>,
    #[serde(
        rename = "provinciaBeneficiario",
        alias = "provinciaAttestante",
        default
    )]
    pub provincia: Option<String>,
    #[serde(rename = "nazioneBeneficiario", alias = "nazioneAttestante", default)]
    pub nazione: Option<String>,
}

impl Ente {
    /// An institution by its identifier and name only (no unit, no address).
    pub fn solo(tipo: &str, codice: &str, denominazione: &str) -> Ente {
        Ente {
            identificativo: IdentificativoUnivoco {
                tipo: tipo.into(),
                codice: codice.into(),
            },
            denominazione: denominazione.into(),
            codice_unit_oper: None,
            denom_unit_oper: None,
            indirizzo: None,
            civico: None,
            cap: None,
            localita: None,
            provincia: None,
            nazione: None,
        }
    }

    pub fn write(&self, w: &mut Writer, outer: &str, suffix: &str) {
        let n = |base: &str| format!("pay_i:{base}{suffix}");
        w.open(outer);
        self.identificativo.write(w, &n("identificativoUnivoco"));
        w.leaf(&n("denominazione"), &self.denominazione)
            .leaf_opt(&n("codiceUnitOper"), self.codice_unit_oper.as_deref())
            .leaf_opt(&n("denomUnitOper"), self.denom_unit_oper.as_deref())
            .leaf_opt(&n("indirizzo"), self.indirizzo.as_deref())
            .leaf_opt(&n("civico"), self.civico.as_deref())
            .leaf_opt(&n("cap"), self.cap.as_deref())
            .leaf_opt(&n("localita"), self.localita.as_deref())
            .leaf_opt(&n("provincia"), self.provincia.as_deref())
            .leaf_opt(&n("nazione"), self.nazione.as_deref())
            .close(outer);
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Dominio {
    #[serde(rename = "identificativoDominio")]
    pub identificativo_dominio: IdDominio,
    #[serde(rename = "identificativoStazioneRichiedente", default)]
    pub identificativo_stazione_richiedente: Option<String>,
}

impl Dominio {
    fn write(&self, w: &mut Writer) {
        w.open("pay_i:dominio")
            .leaf(
                "pay_i:identificativoDominio",
                self.identificativo_dominio.as_str(),
            )
            .leaf_opt(
                "pay_i:identificativoStazioneRichiedente",
                self.identificativo_stazione_richiedente.as_deref(),
            )
            .close("pay_i:dominio");
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct MarcaBolloDigitale {
    #[serde(rename = "tipoBollo")]
    pub tipo_bollo: String,
    #[serde(rename = "hashDocumento")]
    pub hash_documento: String,
    #[serde(rename = "provinciaResidenza")]
    pub provincia_residenza: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct DatiSingoloVersamento {
    #[serde(rename = "importoSingoloVersamento")]
    pub importo: Importo,
    #[serde(rename = "commissioneCaricoPA", default)]
    pub commissione_carico_pa: Option<Importo>,
    #[serde(rename = "ibanAccredito", default)]
    pub iban_accredito: Option<String>,
    #[serde(rename = "bicAccredito", default)]
    pub bic_accredito: Option<String>,
    #[serde(rename = "ibanAppoggio", default)]
    pub iban_appoggio: Option<String>,
    #[serde(rename = "bicAppoggio", default)]
    pub bic_appoggio: Option<String>,
    #[serde(rename = "credenzialiPagatore", default)]
    pub credenziali_pagatore: Option<String>,
    #[serde(rename = "causaleVersamento")]
    pub causale: String,
    #[serde(rename = "datiSpecificiRiscossione")]
    pub dati_specifici_riscossione: String,
    #[serde(rename = "datiMarcaBolloDigitale", default)]
    pub marca_bollo: Option<MarcaBolloDigitale>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct DatiVersamento {
    #[serde(rename = "dataEsecuzionePagamento", with = "xsd_date")]
    pub data_esecuzione_pagamento: Date,
    #[serde(rename = "importoTotaleDaVersare")]
    pub importo_totale: Importo,
    #[serde(rename = "tipoVersamento")]
    pub tipo_versamento: String,
    #[serde(rename = "identificativoUnivocoVersamento")]
    pub iuv: Iuv,
    #[serde(rename = "codiceContestoPagamento")]
    pub ccp: String,
    #[serde(rename = "ibanAddebito", default)]
    pub iban_addebito: Option<String>,
    #[serde(rename = "bicAddebito", default)]
    pub bic_addebito: Option<String>,
    #[serde(rename = "firmaRicevuta")]
    pub firma_ricevuta: String,
    #[serde(rename = "datiSingoloVersamento")]
    pub dati_singolo_versamento: Vec<DatiSingoloVersamento>,
}

/// Richiesta di Pagamento Telematico.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Rpt {
    #[serde(rename = "versioneOggetto")]
    pub versione_oggetto: String,
    pub dominio: Dominio,
    #[serde(rename = "identificativoMessaggioRichiesta")]
    pub identificativo_messaggio_richiesta: String,
    #[serde(rename = "dataOraMessaggioRichiesta")]
    pub data_ora_messaggio_richiesta: DataOra,
    #[serde(rename = "autenticazioneSoggetto")]
    pub autenticazione_soggetto: String,
    #[serde(rename = "soggettoVersante", default)]
    pub soggetto_versante: Option<Soggetto>,
    #[serde(rename = "soggettoPagatore")]
    pub soggetto_pagatore: Soggetto,
    #[serde(rename = "enteBeneficiario")]
    pub ente_beneficiario: Ente,
    #[serde(rename = "datiVersamento")]
    pub dati_versamento: DatiVersamento,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct AllegatoRicevuta {
    #[serde(rename = "tipoAllegatoRicevuta")]
    pub tipo: String,
    #[serde(rename = "testoAllegato")]
    pub testo: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct DatiSingoloPagamento {
    #[serde(rename = "singoloImportoPagato")]
    pub importo: Importo,
    #[serde(rename = "esitoSingoloPagamento", default)]
    pub esito: Option<String>,
    #[serde(rename = "dataEsitoSingoloPagamento", with = "xsd_date")]
    pub data_esito: Date,
    #[serde(rename = "identificativoUnivocoRiscossione")]
    pub iur: String,
    #[serde(rename = "causaleVersamento")]
    pub causale: String,
    #[serde(rename = "datiSpecificiRiscossione")]
    pub dati_specifici_riscossione: String,
    #[serde(rename = "commissioniApplicatePSP", default)]
    pub commissioni_psp: Option<Importo>,
    #[serde(rename = "commissioniApplicatePA", default)]
    pub commissioni_pa: Option<Importo>,
    #[serde(rename = "allegatoRicevuta", default)]
    pub allegato: Option<AllegatoRicevuta>,
    /// Not in the RT: the `idTransfer` of a new-model receipt read as an RT, which its
    /// reporting flow carries as the index (an RT's index is its position).
    #[serde(skip)]
    pub indice: Option<u8>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct DatiPagamento {
    /// 0 eseguito, 1 non eseguito, 2 parzialmente eseguito, 3 decorrenza termini,
    /// 4 decorrenza termini parziale.
    #[serde(rename = "codiceEsitoPagamento")]
    pub codice_esito: u8,
    #[serde(rename = "importoTotalePagato")]
    pub importo_totale_pagato: Importo,
    #[serde(rename = "identificativoUnivocoVersamento")]
    pub iuv: Iuv,
    /// Capital C in the RT, unlike the RPT.
    #[serde(rename = "CodiceContestoPagamento")]
    pub ccp: String,
    #[serde(rename = "datiSingoloPagamento", default)]
    pub dati_singolo_pagamento: Vec<DatiSingoloPagamento>,
}

/// Ricevuta Telematica.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Rt {
    #[serde(rename = "versioneOggetto")]
    pub versione_oggetto: String,
    pub dominio: Dominio,
    #[serde(rename = "identificativoMessaggioRicevuta")]
    pub identificativo_messaggio_ricevuta: String,
    #[serde(rename = "dataOraMessaggioRicevuta")]
    pub data_ora_messaggio_ricevuta: DataOra,
    #[serde(rename = "riferimentoMessaggioRichiesta")]
    pub riferimento_messaggio_richiesta: String,
    #[serde(rename = "riferimentoDataRichiesta", with = "xsd_date")]
    pub riferimento_data_richiesta: Date,
    #[serde(rename = "istitutoAttestante")]
    pub istituto_attestante: Ente,
    #[serde(rename = "enteBeneficiario")]
    pub ente_beneficiario: Ente,
    #[serde(rename = "soggettoVersante", default)]
    pub soggetto_versante: Option<Soggetto>,
    #[serde(rename = "soggettoPagatore")]
    pub soggetto_pagatore: Soggetto,
    #[serde(rename = "datiPagamento")]
    pub dati_pagamento: DatiPagamento,
}

/// Why an embedded document was refused (maps to *_SINTASSI_XSD).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DocError {
    #[error(transparent)]
    Xml(#[from] crate::xml::XmlError),
    #[error("radice attesa {expected}, trovata {found}")]
    Root {
        expected: &'static str,
        found: String,
    },
    #[error("{0}")]
    Content(String),
}

/// Checks the root element (by namespace URI and local name) then deserializes.
pub(crate) fn parse_doc<T: serde::de::DeserializeOwned>(
    bytes: &[u8],
    root: &'static str,
    limits: Limits,
) -> Result<T, DocError> {
    let text = crate::xml::guard(bytes, limits)?;
    let mut r = quick_xml::NsReader::from_str(text);
    loop {
        match r
            .read_resolved_event()
            .map_err(|e| DocError::Content(e.to_string()))?
        {
            (res, quick_xml::events::Event::Start(e) | quick_xml::events::Event::Empty(e)) => {
                let local = e.local_name().as_ref().to_owned();
                let ns_ok = matches!(res, quick_xml::name::ResolveResult::Bound(ns) if ns.as_ref() == NS_PAY_I);
                if local != root || !ns_ok {
                    return Err(DocError::Root {
                        expected: root,
                        found: local,
                    });
                }
                break;
            }
            (_, quick_xml::events::Event::Eof) => {
                return Err(DocError::Content("documento vuoto".into()));
            }
            _ => {}
        }
    }
    quick_xml::de::from_str(text).map_err(|e| DocError::Content(e.to_string()))
}

fn imp(i: Importo) -> String {
    i.to_string()
}

impl Rpt {
    pub fn parse(bytes: &[u8]) -> Result<Rpt, DocError> {
        let rpt: Rpt = parse_doc(bytes, "RPT", Limits::MESSAGE)?;
        let n = rpt.dati_versamento.dati_singolo_versamento.len();
        if !(1..=5).contains(&n) {
            return Err(DocError::Content(format!(
                "datiSingoloVersamento: {n} elementi (1-5)"
            )));
        }
        Ok(rpt)
    }

    /// Σ importoSingoloVersamento, the value importoTotaleDaVersare must hold.
    pub fn somma_versamenti(&self) -> Option<Importo> {
        self.dati_versamento
            .dati_singolo_versamento
            .iter()
            .try_fold(Importo::ZERO, |a, d| a.checked_add(d.importo))
    }

    pub fn to_xml(&self) -> String {
        let mut w = Writer::with_declaration();
        w.open_with("pay_i:RPT", &[("xmlns:pay_i", NS_PAY_I)])
            .leaf("pay_i:versioneOggetto", &self.versione_oggetto);
        self.dominio.write(&mut w);
        w.leaf(
            "pay_i:identificativoMessaggioRichiesta",
            &self.identificativo_messaggio_richiesta,
        )
        .leaf(
            "pay_i:dataOraMessaggioRichiesta",
            self.data_ora_messaggio_richiesta.as_str(),
        )
        .leaf(
            "pay_i:autenticazioneSoggetto",
            &self.autenticazione_soggetto,
        );
        if let Some(v) = &self.soggetto_versante {
            v.write(&mut w, "pay_i:soggettoVersante", "Versante");
        }
        self.soggetto_pagatore
            .write(&mut w, "pay_i:soggettoPagatore", "Pagatore");
        self.ente_beneficiario
            .write(&mut w, "pay_i:enteBeneficiario", "Beneficiario");
        let d = &self.dati_versamento;
        w.open("pay_i:datiVersamento")
            .leaf(
                "pay_i:dataEsecuzionePagamento",
                &fmt_date(d.data_esecuzione_pagamento),
            )
            .leaf("pay_i:importoTotaleDaVersare", &imp(d.importo_totale))
            .leaf("pay_i:tipoVersamento", &d.tipo_versamento)
            .leaf("pay_i:identificativoUnivocoVersamento", d.iuv.as_str())
            .leaf("pay_i:codiceContestoPagamento", &d.ccp)
            .leaf_opt("pay_i:ibanAddebito", d.iban_addebito.as_deref())
            .leaf_opt("pay_i:bicAddebito", d.bic_addebito.as_deref())
            .leaf("pay_i:firmaRicevuta", &d.firma_ricevuta);
        for s in &d.dati_singolo_versamento {
            w.open("pay_i:datiSingoloVersamento")
                .leaf("pay_i:importoSingoloVersamento", &imp(s.importo))
                .leaf_opt(
                    "pay_i:commissioneCaricoPA",
                    s.commissione_carico_pa.map(imp).as_deref(),
                )
                .leaf_opt("pay_i:ibanAccredito", s.iban_accredito.as_deref())
                .leaf_opt("pay_i:bicAccredito", s.bic_accredito.as_deref())
                .leaf_opt("pay_i:ibanAppoggio", s.iban_appoggio.as_deref())
                .leaf_opt("pay_i:bicAppoggio", s.bic_appoggio.as_deref())
                .leaf_opt(
                    "pay_i:credenzialiPagatore",
                    s.credenziali_pagatore.as_deref(),
                )
                .leaf("pay_i:causaleVersamento", &s.causale)
                .leaf(
                    "pay_i:datiSpecificiRiscossione",
                    &s.dati_specifici_riscossione,
                );
            if let Some(m) = &s.marca_bollo {
                w.open("pay_i:datiMarcaBolloDigitale")
                    .leaf("pay_i:tipoBollo", &m.tipo_bollo)
                    .leaf("pay_i:hashDocumento", &m.hash_documento)
                    .leaf("pay_i:provinciaResidenza", &m.provincia_residenza)
                    .close("pay_i:datiMarcaBolloDigitale");
            }
            w.close("pay_i:datiSingoloVersamento");
        }
        w.close("pay_i:datiVersamento").close("pay_i:RPT");
        w.finish()
    }
}

impl Rt {
    pub fn parse(bytes: &[u8]) -> Result<Rt, DocError> {
        let rt: Rt = parse_doc(bytes, "RT", Limits::MESSAGE)?;
        let d = &rt.dati_pagamento;
        if d.codice_esito > 4 {
            return Err(DocError::Content(format!(
                "codiceEsitoPagamento {} non previsto (0-4)",
                d.codice_esito
            )));
        }
        if d.dati_singolo_pagamento.len() > 5 {
            return Err(DocError::Content(
                "datiSingoloPagamento oltre 5 elementi".into(),
            ));
        }
        Ok(rt)
    }

    /// codiceEsitoPagamento (checked to be 0–4 by `parse`).
    pub fn esito(&self) -> super::EsitoPagamento {
        super::EsitoPagamento::da_codice(self.dati_pagamento.codice_esito)
            .unwrap_or(super::EsitoPagamento::NonEseguito)
    }

    /// The RT attests money collected (see `EsitoPagamento::positivo`).
    pub fn is_positive(&self) -> bool {
        self.esito().positivo()
    }

    pub fn somma_pagamenti(&self) -> Option<Importo> {
        self.dati_pagamento
            .dati_singolo_pagamento
            .iter()
            .try_fold(Importo::ZERO, |a, d| a.checked_add(d.importo))
    }

    pub fn to_xml(&self) -> String {
        let mut w = Writer::with_declaration();
        w.open_with("pay_i:RT", &[("xmlns:pay_i", NS_PAY_I)])
            .leaf("pay_i:versioneOggetto", &self.versione_oggetto);
        self.dominio.write(&mut w);
        w.leaf(
            "pay_i:identificativoMessaggioRicevuta",
            &self.identificativo_messaggio_ricevuta,
        )
        .leaf(
            "pay_i:dataOraMessaggioRicevuta",
            self.data_ora_messaggio_ricevuta.as_str(),
        )
        .leaf(
            "pay_i:riferimentoMessaggioRichiesta",
            &self.riferimento_messaggio_richiesta,
        )
        .leaf(
            "pay_i:riferimentoDataRichiesta",
            &fmt_date(self.riferimento_data_richiesta),
        );
        self.istituto_attestante
            .write(&mut w, "pay_i:istitutoAttestante", "Attestante");
        self.ente_beneficiario
            .write(&mut w, "pay_i:enteBeneficiario", "Beneficiario");
        if let Some(v) = &self.soggetto_versante {
            v.write(&mut w, "pay_i:soggettoVersante", "Versante");
        }
        self.soggetto_pagatore
            .write(&mut w, "pay_i:soggettoPagatore", "Pagatore");
        let d = &self.dati_pagamento;
        w.open("pay_i:datiPagamento")
            .leaf("pay_i:codiceEsitoPagamento", &d.codice_esito.to_string())
            .leaf("pay_i:importoTotalePagato", &imp(d.importo_totale_pagato))
            .leaf("pay_i:identificativoUnivocoVersamento", d.iuv.as_str())
            .leaf("pay_i:CodiceContestoPagamento", &d.ccp);
        for s in &d.dati_singolo_pagamento {
            w.open("pay_i:datiSingoloPagamento")
                .leaf("pay_i:singoloImportoPagato", &imp(s.importo))
                .leaf_opt("pay_i:esitoSingoloPagamento", s.esito.as_deref())
                .leaf("pay_i:dataEsitoSingoloPagamento", &fmt_date(s.data_esito))
                .leaf("pay_i:identificativoUnivocoRiscossione", &s.iur)
                .leaf("pay_i:causaleVersamento", &s.causale)
                .leaf(
                    "pay_i:datiSpecificiRiscossione",
                    &s.dati_specifici_riscossione,
                )
                .leaf_opt(
                    "pay_i:commissioniApplicatePSP",
                    s.commissioni_psp.map(imp).as_deref(),
                )
                .leaf_opt(
                    "pay_i:commissioniApplicatePA",
                    s.commissioni_pa.map(imp).as_deref(),
                );
            if let Some(a) = &s.allegato {
                w.open("pay_i:allegatoRicevuta")
                    .leaf("pay_i:tipoAllegatoRicevuta", &a.tipo)
                    .leaf("pay_i:testoAllegato", &a.testo)
                    .close("pay_i:allegatoRicevuta");
            }
            w.close("pay_i:datiSingoloPagamento");
        }
        w.close("pay_i:datiPagamento").close("pay_i:RT");
        w.finish()
    }
}
