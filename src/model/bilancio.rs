//! Bilancio: the budget split (capitolo / ufficio / accertamento) a dovuto carries, as the
//! MyPay CSV 1.2+ column `bilancio` holds it (docs/riconciliazione.md §5.9). Missing
//! ufficio and accertamento are stored as `n/a`, as MyPivot does.

use super::{Importo, ParseError};
/// Moved to [`crate::xml`]; re-exported so `model::bilancio::resolve_ref` keeps working.
pub use crate::xml::resolve_ref;
use quick_xml::events::Event;

pub const NA: &str = "n/a";

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct VoceBilancio {
    pub cod_capitolo: String,
    #[serde(default = "na")]
    pub cod_ufficio: String,
    #[serde(default = "na")]
    pub cod_accertamento: String,
    #[schema(value_type = String, example = "10.00")]
    pub importo: Importo,
}

fn na() -> String {
    NA.to_owned()
}

/// A non-empty list of budget lines.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Bilancio(pub Vec<VoceBilancio>);

impl Bilancio {
    pub fn totale(&self) -> Option<Importo> {
        self.0
            .iter()
            .try_fold(Importo::ZERO, |acc, v| acc.checked_add(v.importo))
    }

    /// Checks the MyPay rule: the accertamento amounts add up to the dovuto amount.
    pub fn check_totale(&self, importo: Importo) -> Result<(), ParseError> {
        match self.totale() {
            Some(t) if t == importo => Ok(()),
            Some(t) => Err(ParseError::new(format!(
                "bilancio: somma degli importi {t} diversa dall'importo dovuto {importo}"
            ))),
            None => Err(ParseError::new(
                "bilancio: somma degli importi fuori intervallo",
            )),
        }
    }

    /// Parses the XML form, whatever its namespace prefix (matching is by local name).
    /// DTDs are refused: quick-xml never expands external entities, and a DOCTYPE in a
    /// budget line can only be an attack or a mistake.
    pub fn parse_xml(xml: &str) -> Result<Self, ParseError> {
        let err = |m: String| ParseError::new(format!("bilancio: {m}"));
        let mut r = quick_xml::Reader::from_str(xml);
        let mut path: Vec<String> = Vec::new();
        let mut text = String::new();
        let mut out = Vec::new();
        let mut cap: Option<(String, String)> = None; // (capitolo, ufficio)
        let mut acc: Option<(String, Option<Importo>)> = None;
        let mut in_capitolo = 0usize;
        loop {
            match r
                .read_event()
                .map_err(|e| err(format!("XML non valido: {e}")))?
            {
                Event::Start(s) => {
                    let name = s.local_name().as_ref().to_owned();
                    if path.len() > 8 {
                        return Err(err("annidamento eccessivo".into()));
                    }
                    if path.is_empty() && name != "bilancio" {
                        return Err(err(format!("radice attesa 'bilancio', trovata '{name}'")));
                    }
                    // Only elements in their schema position count; anything else is ignored.
                    if at(&path, &["bilancio"]) && name == "capitolo" {
                        cap = Some((String::new(), NA.to_owned()));
                        in_capitolo = 0;
                    } else if at(&path, &["bilancio", "capitolo"]) && name == "accertamento" {
                        acc = Some((NA.to_owned(), None));
                    }
                    path.push(name);
                    text.clear();
                }
                Event::Text(t) => text.push_str(&t.xml10_content()),
                Event::CData(t) => text.push_str(&t.xml10_content()),
                Event::GeneralRef(g) => text.push(
                    resolve_ref(&g).ok_or_else(|| err(format!("entità '{}' non ammessa", &*g)))?,
                ),
                Event::End(_) => {
                    let name = path.pop().unwrap_or_default();
                    let v = std::mem::take(&mut text).trim().to_owned();
                    if at(&path, &["bilancio", "capitolo", "accertamento"]) {
                        let Some(a) = acc.as_mut() else { continue };
                        match name.as_str() {
                            "codAccertamento" if !v.is_empty() => a.0 = v,
                            "importo" => {
                                let i = Importo::parse(&v).map_err(|e| err(e.0))?;
                                if i.is_zero() {
                                    return Err(err("importo di accertamento nullo".into()));
                                }
                                a.1 = Some(i);
                            }
                            _ => {}
                        }
                    } else if at(&path, &["bilancio", "capitolo"]) {
                        match (name.as_str(), cap.as_mut(), acc.take()) {
                            ("codCapitolo", Some(c), _) => c.0 = v,
                            ("codUfficio", Some(c), _) if !v.is_empty() => c.1 = v,
                            ("accertamento", _, Some((cod_accertamento, imp))) => {
                                let importo =
                                    imp.ok_or_else(|| err("accertamento senza importo".into()))?;
                                out.push(VoceBilancio {
                                    cod_capitolo: String::new(),
                                    cod_ufficio: String::new(),
                                    cod_accertamento,
                                    importo,
                                });
                                in_capitolo += 1;
                            }
                            _ => {}
                        }
                    } else if at(&path, &["bilancio"]) && name == "capitolo" {
                        let Some((cod_cap, uff)) = cap.take() else {
                            continue;
                        };
                        if cod_cap.is_empty() || cod_cap.len() > 64 {
                            return Err(err(
                                "codCapitolo mancante o più lungo di 64 caratteri".into()
                            ));
                        }
                        if in_capitolo == 0 {
                            return Err(err(format!("capitolo '{cod_cap}' senza accertamenti")));
                        }
                        // codCapitolo/codUfficio may follow the accertamenti in sloppy input.
                        for v in out.iter_mut().rev().take(in_capitolo) {
                            v.cod_capitolo = cod_cap.clone();
                            v.cod_ufficio = uff.clone();
                        }
                    }
                }
                Event::DocType(_) => return Err(err("DTD non ammessa".into())),
                Event::Eof => break,
                _ => {}
            }
        }
        if !path.is_empty() {
            return Err(err("documento troncato".into()));
        }
        if out.is_empty() {
            return Err(err("nessun capitolo".into()));
        }
        Ok(Bilancio(out))
    }
}

/// True when the open elements are exactly `names` (the element's schema position).
fn at(path: &[String], names: &[&str]) -> bool {
    path.len() == names.len() && path.iter().zip(names).all(|(p, n)| p == n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_sample_shape_with_defaults() {
        let x = r#"<bil:bilancio xmlns:bil="http://www.regione.veneto.it/schemas/2012/Pagamenti/Ente/">
            <bil:capitolo><bil:codCapitolo>CAP&amp;1</bil:codCapitolo><bil:codUfficio>UFF</bil:codUfficio>
              <bil:accertamento><bil:codAccertamento>ACC1</bil:codAccertamento><bil:importo>7.50</bil:importo></bil:accertamento>
              <bil:accertamento><bil:importo>2.50</bil:importo></bil:accertamento>
            </bil:capitolo>
            <bil:capitolo><bil:codCapitolo>CAP2</bil:codCapitolo><bil:accertamento><bil:importo>1</bil:importo></bil:accertamento></bil:capitolo>
          </bil:bilancio>"#;
        let b = Bilancio::parse_xml(x).unwrap();
        assert_eq!(b.0.len(), 3);
        assert_eq!(b.0[1].cod_accertamento, NA);
        assert_eq!(b.0[2].cod_ufficio, NA);
        assert_eq!(b.0[2].cod_capitolo, "CAP2");
        assert_eq!(b.0[0].cod_capitolo, "CAP&1");
        assert_eq!(b.0[0].cod_ufficio, "UFF");
        assert!(b.check_totale(Importo::parse("11.00").unwrap()).is_ok());
        assert!(b.check_totale(Importo::parse("10.99").unwrap()).is_err());
    }

    #[test]
    fn refuses_dtd_and_garbage() {
        assert!(Bilancio::parse_xml(r#"<!DOCTYPE x [<!ENTITY a "b">]><bilancio/>"#).is_err());
        assert!(Bilancio::parse_xml("<bilancio><capitolo>").is_err());
        assert!(Bilancio::parse_xml("<x/>").is_err());
        // Found by fuzzing: leaves outside their schema position are ignored, not trusted.
        assert!(
            Bilancio::parse_xml("<bilancio><x><y><importo>1</importo></y></x></bilancio>").is_err()
        );
        assert!(
            Bilancio::parse_xml(
                "<bilancio><x><accertamento><importo>1</importo></accertamento></x></bilancio>"
            )
            .is_err()
        );
        assert!(Bilancio::parse_xml("<bilancio><capitolo><codCapitolo>C</codCapitolo><x><importo>1</importo></x><accertamento><importo>2</importo></accertamento></capitolo></bilancio>").unwrap().0.len() == 1);
        assert!(
            Bilancio::parse_xml(
                "<bilancio><capitolo><codCapitolo>&xxe;</codCapitolo></capitolo></bilancio>"
            )
            .is_err()
        );
        assert!(Bilancio::parse_xml("<bilancio></bilancio>").is_err());
        assert!(Bilancio::parse_xml("<bilancio><capitolo><codCapitolo>C</codCapitolo><accertamento><importo>0</importo></accertamento></capitolo></bilancio>").is_err());
    }
}
