//! FlussoRiversamento 1.0.4/1.0.5 (reporting flow, namespace `pay_i`). The reader streams:
//! one pass, bounded memory whatever the file size, one callback per datiSingoliPagamenti,
//! with the hostile-input checks (DTD, depth, control characters) done inline. Totals that
//! do not add up are reported, not fatal: real flows carry such mistakes.

use super::rpt::{DataOra, DocError, IdentificativoUnivoco};
use super::{Importo, Iuv};
use crate::soap::NS_PAY_I;
use crate::xml::{Writer, XmlError};
use quick_xml::events::Event;
use std::io::BufRead;
use time::Date;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Istituto {
    pub identificativo: IdentificativoUnivoco,
    pub denominazione: Option<String>,
}

/// Everything of a flow but its payments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestataFlusso {
    pub versione_oggetto: String,
    pub identificativo_flusso: String,
    pub data_ora_flusso: DataOra,
    pub identificativo_univoco_regolamento: String,
    pub data_regolamento: Date,
    pub istituto_mittente: Istituto,
    pub codice_bic_banca_di_riversamento: Option<String>,
    pub istituto_ricevente: Istituto,
    pub numero_totale_pagamenti: u64,
    pub importo_totale_pagamenti: Importo,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PagamentoFlusso {
    pub iuv: Iuv,
    pub iur: String,
    /// Position in the RT's datiSingoloPagamento (1..5), or idTransfer in the new model.
    pub indice: Option<u8>,
    pub importo: Importo,
    /// 0 eseguito, 3 revocato, 4 stand-in, 8 stand-in senza RPT, 9 eseguito senza RPT.
    pub codice_esito: u8,
    pub data_esito: Date,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlussoRiversamento {
    pub testata: TestataFlusso,
    pub pagamenti: Vec<PagamentoFlusso>,
}

/// What a streamed flow declared against what it carried.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conteggi {
    pub pagamenti: u64,
    pub somma: Importo,
}

impl TestataFlusso {
    /// Inconsistencies between declared and actual totals, in words.
    pub fn anomalie(&self, c: &Conteggi) -> Vec<String> {
        let mut out = Vec::new();
        if self.numero_totale_pagamenti != c.pagamenti {
            out.push(format!(
                "numeroTotalePagamenti {} ma {} datiSingoliPagamenti",
                self.numero_totale_pagamenti, c.pagamenti
            ));
        }
        if self.importo_totale_pagamenti != c.somma {
            out.push(format!(
                "importoTotalePagamenti {} ma somma dei pagamenti {}",
                self.importo_totale_pagamenti, c.somma
            ));
        }
        out
    }
}

fn date(field: &str, v: &str) -> Result<Date, DocError> {
    time::Date::parse(v, time::macros::format_description!("[year]-[month]-[day]"))
        .map_err(|_| DocError::Content(format!("{field}: data non valida '{v}'")))
}

fn importo(field: &str, v: &str) -> Result<Importo, DocError> {
    Importo::parse(v).map_err(|e| DocError::Content(format!("{field}: {e}")))
}

#[derive(Default)]
struct PagamentoParziale {
    iuv: Option<String>,
    iur: Option<String>,
    indice: Option<String>,
    importo: Option<String>,
    esito: Option<String>,
    data: Option<String>,
}

#[derive(Default)]
struct TestataParziale {
    versione: Option<String>,
    id_flusso: Option<String>,
    data_ora: Option<String>,
    iur: Option<String>,
    data_regolamento: Option<String>,
    bic: Option<String>,
    numero: Option<String>,
    totale: Option<String>,
    mittente: [Option<String>; 3],
    ricevente: [Option<String>; 3],
}

const MAX_DEPTH: usize = 8;

fn missing(f: &str) -> DocError {
    DocError::Content(format!("elemento obbligatorio mancante: {f}"))
}

/// Streams a flow from `input`, calling `on_pagamento` for each payment in document order,
/// and returns the header with the actual count and sum. `max_bytes` bounds the input.
pub fn parse_stream<R: BufRead>(
    input: R,
    max_bytes: u64,
    mut on_pagamento: impl FnMut(PagamentoFlusso) -> Result<(), DocError>,
) -> Result<(TestataFlusso, Conteggi), DocError> {
    let mut r = quick_xml::Reader::from_reader(input);
    r.config_mut().check_end_names = true;
    let mut buf = Vec::with_capacity(4096);
    let mut text = String::new();
    let (mut l2, mut l3) = (String::new(), String::new());
    let mut depth = 0usize;
    let mut t = TestataParziale::default();
    let mut p = PagamentoParziale::default();
    let mut conteggi = Conteggi {
        pagamenti: 0,
        somma: Importo::ZERO,
    };
    let mut seen_root = false;
    let malformed = |pos: u64, msg: String| DocError::Xml(crate::xml::malformed(pos, msg));
    loop {
        if r.buffer_position() > max_bytes {
            return Err(DocError::Xml(XmlError::TooLarge(max_bytes as usize)));
        }
        let ev = r
            .read_event_into(&mut buf)
            .map_err(|e| malformed(r.error_position(), e.to_string()))?;
        match ev {
            Event::Start(e) => {
                depth += 1;
                if depth > MAX_DEPTH {
                    return Err(DocError::Xml(XmlError::TooDeep(MAX_DEPTH)));
                }
                let local = std::str::from_utf8(e.local_name().as_ref().as_bytes())
                    .unwrap_or("")
                    .to_owned();
                if depth == 1 {
                    // The root must be pay_i:FlussoRiversamento, by namespace URI.
                    let prefix = e.name().prefix().map(|p| p.as_ref().to_owned());
                    let decl = match &prefix {
                        Some(p) => format!("xmlns:{p}"),
                        None => "xmlns".to_owned(),
                    };
                    let ns_ok = e
                        .attributes()
                        .flatten()
                        .any(|a| a.key.as_ref() == decl.as_str() && a.value.as_ref() == NS_PAY_I);
                    if local != "FlussoRiversamento" || !ns_ok {
                        return Err(DocError::Root {
                            expected: "FlussoRiversamento",
                            found: local,
                        });
                    }
                    seen_root = true;
                } else if depth == 2 {
                    l2 = local;
                } else if depth == 3 {
                    l3 = local;
                }
                text.clear();
            }
            Event::Text(x) => {
                let s = x.xml10_content();
                if s.bytes()
                    .any(|b| b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r'))
                {
                    return Err(malformed(
                        r.buffer_position(),
                        "carattere di controllo non ammesso".into(),
                    ));
                }
                text.push_str(&s);
            }
            Event::CData(x) => text.push_str(&x.xml10_content()),
            Event::GeneralRef(g) => match super::bilancio::resolve_ref(&g) {
                Some(c) => text.push(c),
                None => {
                    return Err(malformed(
                        r.buffer_position(),
                        format!("entità sconosciuta '&{};'", &*g),
                    ));
                }
            },
            Event::DocType(_) => return Err(DocError::Xml(XmlError::Dtd)),
            Event::End(e) => {
                let v = text.trim();
                let local = e.local_name();
                let name = std::str::from_utf8(local.as_ref().as_bytes()).unwrap_or("");
                match depth {
                    2 => match name {
                        "versioneOggetto" => t.versione = Some(v.to_owned()),
                        "identificativoFlusso" => t.id_flusso = Some(v.to_owned()),
                        "dataOraFlusso" => t.data_ora = Some(v.to_owned()),
                        "identificativoUnivocoRegolamento" => t.iur = Some(v.to_owned()),
                        "dataRegolamento" => t.data_regolamento = Some(v.to_owned()),
                        "codiceBicBancaDiRiversamento" => t.bic = Some(v.to_owned()),
                        "numeroTotalePagamenti" => t.numero = Some(v.to_owned()),
                        "importoTotalePagamenti" => t.totale = Some(v.to_owned()),
                        "datiSingoliPagamenti" => {
                            let n = conteggi.pagamenti + 1;
                            let q = std::mem::take(&mut p);
                            let field = |f: Option<String>, name: &str| {
                                f.ok_or_else(|| {
                                    missing(&format!("datiSingoliPagamenti[{n}]/{name}"))
                                })
                            };
                            let pag = PagamentoFlusso {
                                iuv: Iuv::parse(&field(q.iuv, "identificativoUnivocoVersamento")?).map_err(|e| DocError::Content(format!("datiSingoliPagamenti[{n}]: {e}")))?,
                                iur: field(q.iur, "identificativoUnivocoRiscossione")?,
                                indice: match q.indice {
                                    None => None,
                                    Some(i) => Some(i.parse::<u8>().ok().filter(|i| (1..=5).contains(i)).ok_or_else(|| DocError::Content(format!("datiSingoliPagamenti[{n}]: indiceDatiSingoloPagamento '{i}' fuori da 1..5")))?),
                                },
                                importo: importo(&format!("datiSingoliPagamenti[{n}]/singoloImportoPagato"), &field(q.importo, "singoloImportoPagato")?)?,
                                codice_esito: {
                                    let e = field(q.esito, "codiceEsitoSingoloPagamento")?;
                                    e.parse::<u8>().ok().filter(|c| matches!(c, 0 | 3 | 4 | 8 | 9)).ok_or_else(|| DocError::Content(format!("datiSingoliPagamenti[{n}]: codiceEsitoSingoloPagamento '{e}' non previsto")))?
                                },
                                data_esito: date(&format!("datiSingoliPagamenti[{n}]/dataEsitoSingoloPagamento"), &field(q.data, "dataEsitoSingoloPagamento")?)?,
                            };
                            conteggi.pagamenti = n;
                            conteggi.somma =
                                conteggi.somma.checked_add(pag.importo).ok_or_else(|| {
                                    DocError::Content("somma dei pagamenti fuori intervallo".into())
                                })?;
                            on_pagamento(pag)?;
                        }
                        _ => {}
                    },
                    3 => match (l2.as_str(), name) {
                        ("datiSingoliPagamenti", "identificativoUnivocoVersamento") => {
                            p.iuv = Some(v.to_owned())
                        }
                        ("datiSingoliPagamenti", "identificativoUnivocoRiscossione") => {
                            p.iur = Some(v.to_owned())
                        }
                        ("datiSingoliPagamenti", "indiceDatiSingoloPagamento") => {
                            p.indice = Some(v.to_owned())
                        }
                        ("datiSingoliPagamenti", "singoloImportoPagato") => {
                            p.importo = Some(v.to_owned())
                        }
                        ("datiSingoliPagamenti", "codiceEsitoSingoloPagamento") => {
                            p.esito = Some(v.to_owned())
                        }
                        ("datiSingoliPagamenti", "dataEsitoSingoloPagamento") => {
                            p.data = Some(v.to_owned())
                        }
                        ("istitutoMittente", "denominazioneMittente") => {
                            t.mittente[2] = Some(v.to_owned())
                        }
                        ("istitutoRicevente", "denominazioneRicevente") => {
                            t.ricevente[2] = Some(v.to_owned())
                        }
                        _ => {}
                    },
                    4 => {
                        let slot = match (l2.as_str(), l3.as_str()) {
                            ("istitutoMittente", "identificativoUnivocoMittente") => {
                                Some(&mut t.mittente)
                            }
                            ("istitutoRicevente", "identificativoUnivocoRicevente") => {
                                Some(&mut t.ricevente)
                            }
                            _ => None,
                        };
                        if let Some(s) = slot {
                            match name {
                                "tipoIdentificativoUnivoco" => s[0] = Some(v.to_owned()),
                                "codiceIdentificativoUnivoco" => s[1] = Some(v.to_owned()),
                                _ => {}
                            }
                        }
                    }
                    _ => {}
                }
                depth = depth.saturating_sub(1);
                text.clear();
            }
            Event::Empty(_) if depth == 0 => {
                return Err(DocError::Root {
                    expected: "FlussoRiversamento",
                    found: "elemento vuoto".into(),
                });
            }
            Event::Eof => break,
            _ => {}
        }
        buf.clear();
    }
    if !seen_root || depth != 0 {
        return Err(malformed(
            r.buffer_position(),
            "documento incompleto".into(),
        ));
    }
    let istituto = |s: [Option<String>; 3], name: &str| -> Result<Istituto, DocError> {
        let [tipo, codice, denominazione] = s;
        Ok(Istituto {
            identificativo: IdentificativoUnivoco {
                tipo: tipo.ok_or_else(|| missing(&format!("{name}/tipoIdentificativoUnivoco")))?,
                codice: codice
                    .ok_or_else(|| missing(&format!("{name}/codiceIdentificativoUnivoco")))?,
            },
            denominazione,
        })
    };
    let numero = t.numero.ok_or_else(|| missing("numeroTotalePagamenti"))?;
    let testata = TestataFlusso {
        versione_oggetto: t.versione.ok_or_else(|| missing("versioneOggetto"))?,
        identificativo_flusso: t.id_flusso.ok_or_else(|| missing("identificativoFlusso"))?,
        data_ora_flusso: DataOra::parse(&t.data_ora.ok_or_else(|| missing("dataOraFlusso"))?)
            .map_err(|e| DocError::Content(e.0))?,
        identificativo_univoco_regolamento: t
            .iur
            .ok_or_else(|| missing("identificativoUnivocoRegolamento"))?,
        data_regolamento: date(
            "dataRegolamento",
            &t.data_regolamento
                .ok_or_else(|| missing("dataRegolamento"))?,
        )?,
        istituto_mittente: istituto(t.mittente, "istitutoMittente")?,
        codice_bic_banca_di_riversamento: t.bic,
        istituto_ricevente: istituto(t.ricevente, "istitutoRicevente")?,
        numero_totale_pagamenti: numero.parse().map_err(|_| {
            DocError::Content(format!("numeroTotalePagamenti non valido: '{numero}'"))
        })?,
        importo_totale_pagamenti: importo(
            "importoTotalePagamenti",
            &t.totale.ok_or_else(|| missing("importoTotalePagamenti"))?,
        )?,
    };
    if conteggi.pagamenti == 0 {
        return Err(missing("datiSingoliPagamenti"));
    }
    Ok((testata, conteggi))
}

impl FlussoRiversamento {
    /// Whole-document convenience over [`parse_stream`].
    pub fn parse(bytes: &[u8]) -> Result<FlussoRiversamento, DocError> {
        let mut pagamenti = Vec::new();
        let (testata, _) = parse_stream(bytes, crate::xml::Limits::FLOW.max_bytes as u64, |p| {
            pagamenti.push(p);
            Ok(())
        })?;
        Ok(FlussoRiversamento { testata, pagamenti })
    }

    pub fn conteggi(&self) -> Conteggi {
        Conteggi {
            pagamenti: self.pagamenti.len() as u64,
            somma: self
                .pagamenti
                .iter()
                .fold(Importo::ZERO, |a, p| a.checked_add(p.importo).unwrap_or(a)),
        }
    }

    pub fn to_xml(&self) -> String {
        let t = &self.testata;
        let mut w = Writer::with_declaration();
        let d = |d: Date| format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day());
        w.open_with("pay_i:FlussoRiversamento", &[("xmlns:pay_i", NS_PAY_I)])
            .leaf("pay_i:versioneOggetto", &t.versione_oggetto)
            .leaf("pay_i:identificativoFlusso", &t.identificativo_flusso)
            .leaf("pay_i:dataOraFlusso", t.data_ora_flusso.as_str())
            .leaf(
                "pay_i:identificativoUnivocoRegolamento",
                &t.identificativo_univoco_regolamento,
            )
            .leaf("pay_i:dataRegolamento", &d(t.data_regolamento));
        for (outer, suffix, ist) in [
            ("pay_i:istitutoMittente", "Mittente", &t.istituto_mittente),
            (
                "pay_i:istitutoRicevente",
                "Ricevente",
                &t.istituto_ricevente,
            ),
        ] {
            w.open(outer)
                .open(&format!("pay_i:identificativoUnivoco{suffix}"))
                .leaf("pay_i:tipoIdentificativoUnivoco", &ist.identificativo.tipo)
                .leaf(
                    "pay_i:codiceIdentificativoUnivoco",
                    &ist.identificativo.codice,
                )
                .close(&format!("pay_i:identificativoUnivoco{suffix}"))
                .leaf_opt(
                    &format!("pay_i:denominazione{suffix}"),
                    ist.denominazione.as_deref(),
                )
                .close(outer);
            if suffix == "Mittente" {
                w.leaf_opt(
                    "pay_i:codiceBicBancaDiRiversamento",
                    t.codice_bic_banca_di_riversamento.as_deref(),
                );
            }
        }
        w.leaf(
            "pay_i:numeroTotalePagamenti",
            &t.numero_totale_pagamenti.to_string(),
        )
        .leaf(
            "pay_i:importoTotalePagamenti",
            &t.importo_totale_pagamenti.to_string(),
        );
        for p in &self.pagamenti {
            w.open("pay_i:datiSingoliPagamenti")
                .leaf("pay_i:identificativoUnivocoVersamento", p.iuv.as_str())
                .leaf("pay_i:identificativoUnivocoRiscossione", &p.iur)
                .leaf_opt(
                    "pay_i:indiceDatiSingoloPagamento",
                    p.indice.map(|i| i.to_string()).as_deref(),
                )
                .leaf("pay_i:singoloImportoPagato", &p.importo.to_string())
                .leaf(
                    "pay_i:codiceEsitoSingoloPagamento",
                    &p.codice_esito.to_string(),
                )
                .leaf("pay_i:dataEsitoSingoloPagamento", &d(p.data_esito))
                .close("pay_i:datiSingoliPagamenti");
        }
        w.close("pay_i:FlussoRiversamento");
        w.finish()
    }
}
