//! Statistiche (docs/riconciliazione.md §8): paid by data esito, reported (RT_IUF) by data
//! regolamento, cashed (RT_IUF_TES or RT_TES) by data valuta, and apart from them the
//! payments a PSP reported with esito 9 whose receipt never came; per year, month or day; for
//! the whole ente or broken down by the CHIUSO accertamenti' tipo / ufficio / capitolo /
//! accertamento. The store keeps them as daily aggregates; this module names the shapes and
//! writes the CSV.

use serde::{Deserialize, Serialize};
use time::Date;

/// The four measures, as stored (`statistica.misura`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Misura {
    /// Σ amounts attested by a receipt (an RT, a MyPay export line), by data esito.
    Pagati,
    /// Σ of lines classified RT_IUF, by the flow's data regolamento.
    Rendicontati,
    /// Σ of lines classified RT_IUF_TES or RT_TES, by the treasury's data valuta.
    Incassati,
    /// Σ of payments a flow reported with esito 9 (paid without RPT) and no receipt
    /// attests yet, by data esito: money only a PSP vouches for, kept out of `Pagati`.
    /// A receipt for the IUV moves the payment to `Pagati`.
    SenzaRicevuta,
}

impl Misura {
    pub const TUTTE: [Misura; 4] = [
        Misura::Pagati,
        Misura::Rendicontati,
        Misura::Incassati,
        Misura::SenzaRicevuta,
    ];

    pub fn codice(self) -> &'static str {
        match self {
            Misura::Pagati => "P",
            Misura::Rendicontati => "R",
            Misura::Incassati => "I",
            Misura::SenzaRicevuta => "S",
        }
    }

    pub fn da_codice(s: &str) -> Option<Misura> {
        Self::TUTTE.into_iter().find(|m| m.codice() == s)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Granularita {
    #[default]
    Anno,
    Mese,
    Giorno,
}

/// The breakdown: the ente's totals, or the CHIUSO accertamenti by a dimension.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Dimensione {
    #[default]
    Totale,
    Ufficio,
    TipoDovuto,
    /// Per tipo dovuto, ufficio and capitolo (MyPivot's `_uff_td_cap`).
    Capitolo,
    /// Per tipo, ufficio, capitolo and accertamento, `n/a` accertamenti left out.
    Accertamento,
}

impl Dimensione {
    /// The aggregate columns grouped by.
    pub fn colonne(self) -> &'static [&'static str] {
        match self {
            Dimensione::Totale => &[],
            Dimensione::Ufficio => &["cod_ufficio"],
            Dimensione::TipoDovuto => &["tipo_dovuto"],
            Dimensione::Capitolo => &["tipo_dovuto", "cod_ufficio", "cod_capitolo"],
            Dimensione::Accertamento => &[
                "tipo_dovuto",
                "cod_ufficio",
                "cod_capitolo",
                "cod_accertamento",
            ],
        }
    }

    /// `E` (ente totals) or `A` (accertamenti) in `statistica.livello`.
    pub fn livello(self) -> &'static str {
        if self == Dimensione::Totale { "E" } else { "A" }
    }
}

/// One cell: a period (and the breakdown's codes) with the four measures.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Cella {
    /// `2026`, `2026-03` or `2026-03-05`.
    pub periodo: String,
    pub anno: i32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mese: Option<u8>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[serde(with = "crate::model::iso_date::option")]
    #[schema(value_type = Option<String>, format = Date)]
    pub giorno: Option<Date>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tipo_dovuto: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub de_tipo_dovuto: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cod_ufficio: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub de_ufficio: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cod_capitolo: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub de_capitolo: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cod_accertamento: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub de_accertamento: Option<String>,
    pub importo_pagato_cents: i64,
    pub numero_pagati: i64,
    pub importo_rendicontato_cents: i64,
    pub numero_rendicontati: i64,
    pub importo_incassato_cents: i64,
    pub numero_incassati: i64,
    /// Reported with esito 9, no receipt (not part of the paid figures).
    pub importo_senza_ricevuta_cents: i64,
    pub numero_senza_ricevuta: i64,
}

impl Cella {
    pub fn aggiungi(&mut self, m: Misura, importo: i64, numero: i64) {
        let (i, n) = match m {
            Misura::Pagati => (&mut self.importo_pagato_cents, &mut self.numero_pagati),
            Misura::Rendicontati => (
                &mut self.importo_rendicontato_cents,
                &mut self.numero_rendicontati,
            ),
            Misura::Incassati => (
                &mut self.importo_incassato_cents,
                &mut self.numero_incassati,
            ),
            Misura::SenzaRicevuta => (
                &mut self.importo_senza_ricevuta_cents,
                &mut self.numero_senza_ricevuta,
            ),
        };
        *i += importo;
        *n += numero;
    }
}

fn euro(cents: i64) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    format!("{sign}{}.{:02}", cents.abs() / 100, cents.abs() % 100)
}

fn q(s: &str) -> String {
    if s.contains([';', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_owned()
    }
}

/// The cells as CSV (`;`, amounts in euro with a dot), the breakdown's columns included.
pub fn csv(celle: &[Cella], d: Dimensione) -> String {
    let mut out = String::from("periodo");
    let dims: &[(&str, &str)] = match d {
        Dimensione::Totale => &[],
        Dimensione::Ufficio => &[("cod_ufficio", "de_ufficio")],
        Dimensione::TipoDovuto => &[("tipo_dovuto", "de_tipo_dovuto")],
        Dimensione::Capitolo => &[
            ("tipo_dovuto", "de_tipo_dovuto"),
            ("cod_ufficio", "de_ufficio"),
            ("cod_capitolo", "de_capitolo"),
        ],
        Dimensione::Accertamento => &[
            ("tipo_dovuto", "de_tipo_dovuto"),
            ("cod_ufficio", "de_ufficio"),
            ("cod_capitolo", "de_capitolo"),
            ("cod_accertamento", "de_accertamento"),
        ],
    };
    for (c, de) in dims {
        out.push_str(&format!(";{c};{de}"));
    }
    out.push_str(";importo_pagato;numero_pagati;importo_rendicontato;numero_rendicontati;importo_incassato;numero_incassati;importo_senza_ricevuta;numero_senza_ricevuta\n");
    for c in celle {
        out.push_str(&q(&c.periodo));
        for (col, _) in dims {
            let (v, de) = match *col {
                "tipo_dovuto" => (&c.tipo_dovuto, &c.de_tipo_dovuto),
                "cod_ufficio" => (&c.cod_ufficio, &c.de_ufficio),
                "cod_capitolo" => (&c.cod_capitolo, &c.de_capitolo),
                _ => (&c.cod_accertamento, &c.de_accertamento),
            };
            out.push_str(&format!(
                ";{};{}",
                q(v.as_deref().unwrap_or("")),
                q(de.as_deref().unwrap_or(""))
            ));
        }
        out.push_str(&format!(
            ";{};{};{};{};{};{};{};{}\n",
            euro(c.importo_pagato_cents),
            c.numero_pagati,
            euro(c.importo_rendicontato_cents),
            c.numero_rendicontati,
            euro(c.importo_incassato_cents),
            c.numero_incassati,
            euro(c.importo_senza_ricevuta_cents),
            c.numero_senza_ricevuta
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn measures_accumulate_in_their_own_columns() {
        let mut c = Cella::default();
        c.aggiungi(Misura::Pagati, 100, 1);
        c.aggiungi(Misura::Incassati, 50, 2);
        c.aggiungi(Misura::Pagati, 5, 1);
        c.aggiungi(Misura::SenzaRicevuta, 7, 1);
        assert_eq!((c.importo_pagato_cents, c.numero_pagati), (105, 2));
        assert_eq!(
            (c.importo_senza_ricevuta_cents, c.numero_senza_ricevuta),
            (7, 1)
        );
        assert_eq!((c.importo_incassato_cents, c.numero_incassati), (50, 2));
        assert_eq!(c.importo_rendicontato_cents, 0);
        for m in Misura::TUTTE {
            assert_eq!(Misura::da_codice(m.codice()), Some(m));
        }
    }

    #[test]
    fn csv_quotes_descriptions_and_writes_euro() {
        let c = Cella {
            periodo: "2026-03".into(),
            anno: 2026,
            mese: Some(3),
            cod_ufficio: Some("U1".into()),
            de_ufficio: Some("Tributi; sede".into()),
            importo_pagato_cents: 123_456,
            numero_pagati: 3,
            importo_incassato_cents: 5,
            ..Default::default()
        };
        let out = csv(&[c], Dimensione::Ufficio);
        let mut l = out.lines();
        assert!(
            l.next()
                .unwrap()
                .starts_with("periodo;cod_ufficio;de_ufficio;importo_pagato")
        );
        assert_eq!(
            l.next().unwrap(),
            "2026-03;U1;\"Tributi; sede\";1234.56;3;0.00;0;0.05;0;0.00;0"
        );
    }
}
