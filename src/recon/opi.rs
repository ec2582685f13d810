//! The OPI "flusso giornale di cassa" XML (Banca d'Italia / SIOPE+, versions 1.4 and 1.6.x+;
//! docs/riconciliazione.md §5.6) as MyPivot reads it: only incoming "sospesi" count
//! (tipo_movimento ENTRATA, tipo_documento SOSPESO ENTRATA); ESEGUITO adds or replaces the
//! bolletta (esercizio, numero_bolletta_quietanza), STORNATO removes it, everything else is
//! ignored. Elements are matched by local name (files come with and without namespaces).
//! Streaming and pure.

use super::causale;
use super::giornale::RigaCassa;
use crate::model::Importo;
use quick_xml::events::Event;

/// What one movement asks of the treasury store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Operazione {
    /// Add or replace the bolletta.
    Esegui(RigaCassa),
    /// Remove the bolletta (anno, numero).
    Storna {
        anno_bolletta: u16,
        codice_bolletta: String,
    },
}

/// A movement that could not be read, with where it was.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScartoOpi {
    pub numero_movimento: Option<String>,
    pub motivo: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GiornaleOpi {
    /// `1.6` when `data_riferimento_GdC` is there, else `1.4`.
    pub versione: &'static str,
    pub codice_fiscale_ente: Option<String>,
    pub esercizio: Option<u16>,
    pub pagina: Option<u32>,
    pub pagine_totali: Option<u32>,
    pub operazioni: Vec<Operazione>,
    pub scarti: Vec<ScartoOpi>,
    /// Movements read and left aside, each with why (payments out, mandati, reversali,
    /// regolarizzazioni…): the import report lists them, nothing is skipped silently.
    pub ignorati: Vec<ScartoOpi>,
}

fn data(v: &str) -> Option<time::Date> {
    time::Date::parse(
        v.get(..10)?,
        time::macros::format_description!("[year]-[month]-[day]"),
    )
    .ok()
}

/// What a movement is to the reconciliation.
enum Letto {
    Operazione(Operazione),
    /// Not an incoming sospeso: why it is left aside.
    Ignorato(String),
}

fn movimento(
    m: &std::collections::HashMap<String, String>,
    esercizio: Option<u16>,
) -> Result<Letto, String> {
    let get = |k: &str| m.get(k).map(|s| s.trim()).filter(|s| !s.is_empty());
    let documento = get("tipo_documento").unwrap_or("senza tipo_documento");
    match get("tipo_movimento") {
        Some("ENTRATA") => {}
        altro => {
            return Ok(Letto::Ignorato(format!(
                "movimento {} ({documento}): si riconciliano solo le entrate",
                altro.unwrap_or("senza tipo_movimento")
            )));
        }
    }
    if documento != "SOSPESO ENTRATA" {
        return Ok(Letto::Ignorato(format!(
            "{documento}: si riconciliano solo i sospesi in entrata"
        )));
    }
    let anno = esercizio.ok_or("esercizio mancante nella testata")?;
    let bolletta = get("numero_bolletta_quietanza").ok_or("numero_bolletta_quietanza mancante")?;
    match get("tipo_operazione") {
        Some("STORNATO") => Ok(Letto::Operazione(Operazione::Storna {
            anno_bolletta: anno,
            codice_bolletta: bolletta.to_owned(),
        })),
        Some("ESEGUITO") => {
            let causale_txt = get("causale").unwrap_or("");
            let estratto = causale::estrai(causale_txt).map_err(|e| e.to_string())?;
            let importo_txt = get("importo").ok_or("importo mancante")?;
            let importo = Importo::parse(importo_txt)
                .map_err(|e| format!("importo '{importo_txt}': {}", e.0))?;
            let data_movimento = get("data_movimento")
                .and_then(data)
                .ok_or("data_movimento mancante o non valida")?;
            Ok(Letto::Operazione(Operazione::Esegui(RigaCassa {
                anno_bolletta: anno,
                codice_bolletta: bolletta.to_owned(),
                data_contabile: data_movimento,
                ordinante: get("anagrafica_cliente")
                    .unwrap_or("")
                    .chars()
                    .take(30)
                    .collect(),
                causale: causale_txt.chars().take(2000).collect(),
                estratto,
                importo,
                data_valuta: get("data_valuta_ente")
                    .and_then(data)
                    .unwrap_or(data_movimento),
                conto: None,
            })))
        }
        altra => Ok(Letto::Ignorato(format!(
            "operazione {}: contano solo ESEGUITO e STORNATO",
            altra.unwrap_or("senza tipo_operazione")
        ))),
    }
}

/// A page number of the header as its schema allows (1 to 9,999,999).
fn numero_pagina(campo: &str, v: &str) -> Result<u32, String> {
    v.parse::<u32>()
        .ok()
        .filter(|n| (1..=9_999_999).contains(n))
        .ok_or_else(|| format!("{campo} '{v}': la testata vuole un intero da 1 a 9999999"))
}

/// Reads one page of a giornale di cassa.
pub fn leggi(xml: &[u8]) -> Result<GiornaleOpi, String> {
    let mut r = quick_xml::Reader::from_reader(xml);
    r.config_mut().check_end_names = true;
    let mut out = GiornaleOpi {
        versione: "1.4",
        codice_fiscale_ente: None,
        esercizio: None,
        pagina: None,
        pagine_totali: None,
        operazioni: Vec::new(),
        scarti: Vec::new(),
        ignorati: Vec::new(),
    };
    let mut buf = Vec::new();
    let mut stack: Vec<String> = Vec::new();
    let mut text = String::new();
    let mut mov: Option<std::collections::HashMap<String, String>> = None;
    loop {
        match r.read_event_into(&mut buf) {
            Ok(Event::Start(e)) => {
                let name: String = e.local_name().as_ref().to_owned();
                if name == "movimento_conto_evidenza" {
                    mov = Some(Default::default());
                }
                stack.push(name);
                text.clear();
            }
            Ok(Event::Text(t)) => text.push_str(&t.xml10_content()),
            Ok(Event::GeneralRef(g)) => {
                if let Some(c) = crate::model::bilancio::resolve_ref(&g) {
                    text.push(c);
                }
            }
            Ok(Event::End(_)) => {
                let name = stack.pop().unwrap_or_default();
                let v = text.trim().to_owned();
                let parent = stack.last().map(String::as_str);
                match (name.as_str(), parent) {
                    ("movimento_conto_evidenza", _) => {
                        if let Some(m) = mov.take() {
                            match movimento(&m, out.esercizio) {
                                Ok(Letto::Operazione(op)) => out.operazioni.push(op),
                                Ok(Letto::Ignorato(motivo)) => out.ignorati.push(ScartoOpi {
                                    numero_movimento: m.get("numero_movimento").cloned(),
                                    motivo,
                                }),
                                Err(motivo) => out.scarti.push(ScartoOpi {
                                    numero_movimento: m.get("numero_movimento").cloned(),
                                    motivo,
                                }),
                            }
                        }
                    }
                    ("data_riferimento_GdC", _) => out.versione = "1.6",
                    ("esercizio", Some("flusso_giornale_di_cassa")) => {
                        out.esercizio = v.parse().ok()
                    }
                    ("pagina", Some("flusso_giornale_di_cassa")) => {
                        out.pagina = Some(numero_pagina("pagina", &v)?)
                    }
                    ("pagine_totali", Some("flusso_giornale_di_cassa")) => {
                        out.pagine_totali = Some(numero_pagina("pagine_totali", &v)?)
                    }
                    ("codice_fiscale_ente", _) => out.codice_fiscale_ente = Some(v),
                    (field, _) => {
                        // Direct fields of the movement and of its cliente.
                        if let Some(m) = mov.as_mut() {
                            m.entry(field.to_owned()).or_insert(v);
                        }
                    }
                }
                text.clear();
            }
            Ok(Event::Eof) => {
                if let (Some(p), Some(t)) = (out.pagina, out.pagine_totali)
                    && p > t
                {
                    return Err(format!("pagina {p} di {t}: oltre le pagine totali"));
                }
                break;
            }
            Ok(_) => {}
            Err(e) => {
                return Err(format!(
                    "XML non valido alla posizione {}: {e}",
                    r.buffer_position()
                ));
            }
        }
        buf.clear();
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::tesoreria::{EnteTesoreria, Movimento, opi_xml};

    fn day() -> time::Date {
        time::Date::from_calendar_date(2026, time::Month::November, 28).unwrap()
    }

    #[test]
    fn the_simulators_opi_journal_reads_back() {
        let ente = EnteTesoreria {
            codice_fiscale: "80007580279".into(),
            codice_ente: "CX0000".into(),
            descrizione: "Comune".into(),
        };
        let movs = [
            Movimento {
                numero: 1,
                data: day(),
                importo: Importo::from_cents(52_420).unwrap(),
                ordinante: "PAGOPA".into(),
                causale: "/PUR/LGPE-RIVERSAMENTO/URI/2026-11-28ABCDITMM-S000000001".into(),
            },
            Movimento {
                numero: 2,
                data: day(),
                importo: Importo::from_cents(12_345).unwrap(),
                ordinante: "ROSSI & FIGLI".into(),
                causale: "BONIFICO".into(),
            },
        ];
        let g = leggi(opi_xml(&ente, day(), &movs).as_bytes()).unwrap();
        assert_eq!(
            (g.versione, g.esercizio, g.pagina, g.pagine_totali),
            ("1.6", Some(2026), Some(1), Some(1))
        );
        assert_eq!(g.codice_fiscale_ente.as_deref(), Some("80007580279"));
        assert!(g.scarti.is_empty(), "{:?}", g.scarti);
        let Operazione::Esegui(r) = &g.operazioni[0] else {
            panic!("{:?}", g.operazioni)
        };
        assert_eq!(
            (
                r.codice_bolletta.as_str(),
                r.importo.cents(),
                r.estratto.iuf.as_deref()
            ),
            ("1", 52_420, Some("2026-11-28ABCDITMM-S000000001"))
        );
        let Operazione::Esegui(r) = &g.operazioni[1] else {
            panic!()
        };
        assert_eq!(r.ordinante, "ROSSI & FIGLI");
    }

    #[test]
    fn only_incoming_sospesi_count_and_a_storno_removes_the_bolletta() {
        let mov = |tm: &str, td: &str, op: &str, n: u32| {
            format!(
                "<movimento_conto_evidenza><numero_movimento>{n}</numero_movimento><tipo_movimento>{tm}</tipo_movimento><tipo_documento>{td}</tipo_documento><tipo_operazione>{op}</tipo_operazione><importo>10.00</importo><numero_bolletta_quietanza>{n}</numero_bolletta_quietanza><data_movimento>2026-11-28</data_movimento><cliente><anagrafica_cliente>X</anagrafica_cliente></cliente><causale>/RFB/01000000000000144</causale></movimento_conto_evidenza>"
            )
        };
        let xml = format!(
            "<opi:flusso_giornale_di_cassa xmlns:opi=\"urn:x\"><esercizio>2026</esercizio><informazioni_conto_evidenza>{}{}{}{}{}</informazioni_conto_evidenza></opi:flusso_giornale_di_cassa>",
            mov("ENTRATA", "SOSPESO ENTRATA", "ESEGUITO", 1),
            mov("ENTRATA", "SOSPESO ENTRATA", "STORNATO", 2),
            mov("USCITA", "SOSPESO USCITA", "ESEGUITO", 3),
            mov("ENTRATA", "REVERSALE", "ESEGUITO", 4),
            mov("ENTRATA", "SOSPESO ENTRATA", "REGOLARIZZATO", 5),
        );
        let g = leggi(xml.as_bytes()).unwrap();
        assert_eq!(g.versione, "1.4");
        assert_eq!(g.operazioni.len(), 2, "{:?}", g.operazioni);
        assert!(
            matches!(&g.operazioni[0], Operazione::Esegui(r) if r.estratto.iuv.as_deref() == Some("01000000000000144") && r.data_valuta == day())
        );
        assert_eq!(
            g.operazioni[1],
            Operazione::Storna {
                anno_bolletta: 2026,
                codice_bolletta: "2".into()
            }
        );
        // The rest is listed with why, not skipped without a word.
        let ignorati: Vec<(&str, &str)> = g
            .ignorati
            .iter()
            .map(|k| (k.numero_movimento.as_deref().unwrap(), k.motivo.as_str()))
            .collect();
        assert_eq!(
            ignorati,
            [
                (
                    "3",
                    "movimento USCITA (SOSPESO USCITA): si riconciliano solo le entrate"
                ),
                ("4", "REVERSALE: si riconciliano solo i sospesi in entrata"),
                (
                    "5",
                    "operazione REGOLARIZZATO: contano solo ESEGUITO e STORNATO"
                ),
            ]
        );
    }

    #[test]
    fn a_header_its_schema_refuses_is_an_error() {
        let page = |p: &str, t: &str| {
            leggi(format!("<flusso_giornale_di_cassa><esercizio>2026</esercizio><pagina>{p}</pagina><pagine_totali>{t}</pagine_totali></flusso_giornale_di_cassa>").as_bytes())
        };
        assert_eq!(page("2", "3").unwrap().pagina, Some(2));
        for (p, t) in [
            ("0", "1"),
            ("uno", "1"),
            ("1", "0"),
            ("4", "3"),
            ("10000000", "10000000"),
        ] {
            assert!(page(p, t).is_err(), "pagina {p} di {t}");
        }
    }

    #[test]
    fn a_broken_movement_is_rejected_and_malformed_xml_is_an_error() {
        let xml = "<flusso_giornale_di_cassa><esercizio>2026</esercizio><movimento_conto_evidenza><numero_movimento>9</numero_movimento><tipo_movimento>ENTRATA</tipo_movimento><tipo_documento>SOSPESO ENTRATA</tipo_documento><tipo_operazione>ESEGUITO</tipo_operazione><importo>1,00</importo><numero_bolletta_quietanza>9</numero_bolletta_quietanza><data_movimento>2026-11-28</data_movimento></movimento_conto_evidenza></flusso_giornale_di_cassa>";
        let g = leggi(xml.as_bytes()).unwrap();
        assert_eq!(g.scarti.len(), 1);
        assert_eq!(g.scarti[0].numero_movimento.as_deref(), Some("9"));
        assert!(leggi(b"<a><b></a>").is_err());
    }
}
