//! "Pagati notificati" (IUD) CSV, input I of MyPivot (docs/riconciliazione.md §5.4): the
//! payments an ente's back office says it received, by IUD. Same shape as the dovuti
//! tracciato 1.2 without `azione`: `IUD; codIuv; tipoIdentificativoUnivoco;
//! codiceIdentificativoUnivoco; anagraficaPagatore; indirizzoPagatore; civicoPagatore;
//! capPagatore; localitaPagatore; provinciaPagatore; nazionePagatore; mailPagatore;
//! dataEsecuzionePagamento; importoDovutoPagato; commissioneCaricoPa; tipoDovuto;
//! tipoVersamento; causaleVersamento; datiSpecificiRiscossione[; bilancio]`. Pure.

use super::giornale::Scarto;
use crate::model::Importo;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notifica {
    pub iud: String,
    pub iuv: Option<String>,
    pub data_esecuzione: time::Date,
    pub importo: Importo,
    pub tipo_dovuto: String,
    pub causale: String,
}

fn riga(rec: &csv::StringRecord) -> Result<Notifica, String> {
    let get = |i: usize, campo: &str| {
        rec.get(i)
            .map(str::trim)
            .ok_or_else(|| format!("{campo}: colonna {} assente", i + 1))
    };
    let iud = get(0, "IUD")?;
    if iud.is_empty() || iud.len() > 35 || iud.chars().any(char::is_whitespace) {
        return Err(format!("IUD '{iud}': da 1 a 35 caratteri senza spazi"));
    }
    let data = get(12, "dataEsecuzionePagamento")?;
    let data_esecuzione = time::Date::parse(
        data,
        time::macros::format_description!("[year]-[month]-[day]"),
    )
    .map_err(|_| format!("dataEsecuzionePagamento '{data}': attesa aaaa-mm-gg"))?;
    let importo_txt = get(13, "importoDovutoPagato")?;
    let importo = Importo::parse(importo_txt)
        .map_err(|e| format!("importoDovutoPagato '{importo_txt}': {}", e.0))?;
    let iuv = get(1, "codIuv")?;
    Ok(Notifica {
        iud: iud.to_owned(),
        iuv: (!iuv.is_empty()).then(|| iuv.to_owned()),
        data_esecuzione,
        importo,
        tipo_dovuto: get(15, "tipoDovuto")?.to_owned(),
        causale: get(17, "causaleVersamento")?.chars().take(140).collect(),
    })
}

/// The notifications of a file and the rejected lines (physical line numbers).
pub fn leggi_csv(testo: &[u8]) -> (Vec<Notifica>, Vec<Scarto>) {
    let mut rdr = csv::ReaderBuilder::new()
        .delimiter(b';')
        .has_headers(true)
        .flexible(true)
        .from_reader(testo);
    let (mut ok, mut ko) = (Vec::new(), Vec::new());
    for (n, rec) in rdr.records().enumerate() {
        match rec {
            Ok(rec) if rec.iter().all(|f| f.trim().is_empty()) => {}
            Ok(rec) => match riga(&rec) {
                Ok(r) => ok.push(r),
                Err(motivo) => ko.push(Scarto {
                    riga: rec.position().map_or(n as u64 + 2, |p| p.line()),
                    originale: rec.iter().collect::<Vec<_>>().join(";"),
                    motivo,
                }),
            },
            Err(e) => ko.push(Scarto {
                riga: n as u64 + 2,
                originale: String::new(),
                motivo: format!("riga CSV illeggibile: {e}"),
            }),
        }
    }
    (ok, ko)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notifications_are_read_and_bad_lines_rejected() {
        let t = "IUD;codIuv;t;c;a;i;c;c;l;p;n;m;dataEsecuzionePagamento;importoDovutoPagato;comm;tipoDovuto;tipoVersamento;causale;dsr\n\
IUD-1;01000000000000144;F;RSSMRA85T10A562S;Mario;;;;;;;;2026-11-28;10.00;;TARI;BBT;TARI 2026;9/0101105IM/\n\
IUD 2;;F;X;a;;;;;;;;2026-11-28;1.00;;TARI;BBT;c;d\n\
IUD-3;;F;X;a;;;;;;;;28/11/2026;1.00;;TARI;BBT;c;d\n";
        let (ok, ko) = leggi_csv(t.as_bytes());
        assert_eq!(ok.len(), 1);
        assert_eq!(
            (
                ok[0].iud.as_str(),
                ok[0].importo.cents(),
                ok[0].iuv.as_deref()
            ),
            ("IUD-1", 1_000, Some("01000000000000144"))
        );
        assert_eq!(ko.len(), 2);
        assert!(
            ko[0].motivo.contains("IUD") && ko[1].motivo.contains("dataEsecuzionePagamento"),
            "{ko:?}"
        );
    }
}
