//! MyPay "export pagati" CSV (MyPivot input E, docs/riconciliazione.md §5.2), for receipts
//! that reached the ente another way: tracciati 1.1, 1.2 (+ bilancio) and 1.3
//! (+ primary-ente data), plain or "con ricevuta" (+ firma, RT, indice, commissioni,
//! allegato), optionally followed by MyPivot's two intermediary columns. The layout is told
//! by the number of columns; the header line is skipped. Pure: lines in, staged receipts and
//! rejects out.

use super::giornale::Scarto;
use crate::dominio::ricevuta::NuovaRicevuta;
use crate::model::Importo;
use crate::model::bilancio::Bilancio;

/// Where the optional columns are, by layout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Layout {
    indice: Option<usize>,
    bilancio: Option<usize>,
}

fn layout(n: usize) -> Option<Layout> {
    // 64 base; "con ricevuta" adds 6 (indice at 66); 1.2 adds bilancio; 1.3 adds 3 more;
    // MyPivot's loader also accepts 2 trailing intermediary / station columns.
    let base = |n: usize| -> Option<Layout> {
        Some(match n {
            64 => Layout {
                indice: None,
                bilancio: None,
            },
            65 | 68 => Layout {
                indice: None,
                bilancio: Some(64),
            },
            70 => Layout {
                indice: Some(66),
                bilancio: None,
            },
            71 | 74 => Layout {
                indice: Some(66),
                bilancio: Some(70),
            },
            _ => return None,
        })
    };
    base(n).or_else(|| n.checked_sub(2).and_then(base))
}

fn riga(rec: &csv::StringRecord, ente: &str) -> Result<NuovaRicevuta, String> {
    let l = layout(rec.len()).ok_or_else(|| {
        format!(
            "{} colonne: attese 64, 65 o 68 (1.1, 1.2, 1.3), 70, 71 o 74 con ricevuta",
            rec.len()
        )
    })?;
    let get = |i: usize| rec.get(i).map(str::trim).unwrap_or("");
    let opt = |i: usize| Some(get(i).to_owned()).filter(|s| !s.is_empty());
    let req = |i: usize, campo: &str| opt(i).ok_or_else(|| format!("{campo} mancante"));
    let dominio = req(5, "identificativoDominio")?;
    if dominio != ente {
        return Err(format!("ricevuta dell'ente {dominio}, non di {ente}"));
    }
    let esito: i64 = get(53)
        .parse()
        .map_err(|_| format!("codiceEsitoPagamento '{}'", get(53)))?;
    if !matches!(esito, 0 | 2) {
        return Err(format!(
            "codiceEsitoPagamento {esito}: nessun pagamento eseguito"
        ));
    }
    let importo = |i: usize, campo: &str| {
        Importo::parse(get(i)).map_err(|e| format!("{campo} '{}': {}", get(i), e.0))
    };
    let singolo = importo(57, "singoloImportoPagato")?;
    let totale = importo(54, "importoTotalePagato")?;
    if singolo.cents() <= 0 {
        return Err("singoloImportoPagato: deve essere maggiore di zero".into());
    }
    let data_esito = time::Date::parse(
        get(59),
        time::macros::format_description!("[year]-[month]-[day]"),
    )
    .map_err(|_| format!("dataEsitoSingoloPagamento '{}': attesa yyyy-MM-dd", get(59)))?;
    let iuv = opt(3).or_else(|| opt(55)).ok_or("codIuv mancante")?;
    if iuv.len() > 35 {
        return Err("codIuv: più di 35 caratteri".into());
    }
    let iur = req(60, "identificativoUnivocoRiscoss")?;
    let indice = match l.indice.map(get).filter(|s| !s.is_empty()) {
        Some(s) => s
            .parse::<i64>()
            .ok()
            .filter(|i| (1..=5).contains(i))
            .ok_or_else(|| format!("indiceDatiSingoloPagamento '{s}'"))?,
        None => 1,
    };
    let bilancio = match l.bilancio.and_then(opt) {
        Some(xml) => {
            let b = Bilancio::parse_xml(&xml).map_err(|e| e.to_string())?;
            b.check_totale(singolo).map_err(|e| e.to_string())?;
            Some(serde_json::to_string(&b.0).map_err(|e| e.to_string())?)
        }
        None => None,
    };
    Ok(NuovaRicevuta {
        iuv,
        iur,
        indice,
        iud: opt(2),
        tipo_dovuto: opt(63),
        importo_cents: singolo.cents(),
        totale_cents: totale.cents(),
        codice_esito: esito,
        data_esito,
        cf_pagatore: opt(44),
        anagrafica_pagatore: opt(45),
        cf_versante: opt(34),
        anagrafica_versante: opt(35),
        attestante: opt(12),
        denominazione_attestante: opt(13),
        causale: opt(61),
        bilancio,
        fonte: "PAGATI",
        rt_id: None,
    })
}

/// Reads a file for `ente`: the receipts and the rejected lines (with the physical line).
/// The rejects a receipts import reports line by line; beyond, they are only counted (a
/// file of nothing but bad lines would otherwise be a report as large as the file).
pub const SCARTI_RIPORTATI: usize = 20_000;

/// What reading a receipts export found besides its receipts: how many valid lines, the
/// first [`SCARTI_RIPORTATI`] rejected lines, and how many lines were rejected in all.
#[derive(Debug, Default)]
pub struct Letti {
    /// Valid lines read (handed over in parts).
    pub valide: usize,
    pub scarti: Vec<Scarto>,
    pub scartate: usize,
}

/// Reads the file a record at a time from `testo` (a spooled upload of any size: a parsed
/// receipt is a few hundred bytes, a "con ricevuta" line carries kilobytes of RT). A read
/// error of the file itself ends the import; a bad line is a reject. It hands the valid
/// receipts over in parts of `pezzo` as it reads, so a file of any size costs one part of
/// memory; `consegna` returning false stops the reading (the receiver is gone).
/// The result holds the rejects and the counts.
pub fn leggi_csv_a_pezzi(
    testo: impl std::io::Read,
    ente: &str,
    pezzo: usize,
    mut consegna: impl FnMut(Vec<NuovaRicevuta>) -> bool,
) -> std::io::Result<Letti> {
    let mut rdr = csv::ReaderBuilder::new()
        .delimiter(b';')
        .has_headers(true)
        .flexible(true)
        .from_reader(testo);
    let mut out = Letti::default();
    let mut parte = Vec::new();
    let scarta = |out: &mut Letti, s: Scarto| {
        out.scartate += 1;
        if out.scarti.len() < SCARTI_RIPORTATI {
            out.scarti.push(s);
        }
    };
    for (n, rec) in rdr.records().enumerate() {
        match rec {
            Ok(rec) if rec.iter().all(|f| f.trim().is_empty()) => {}
            Ok(rec) => match riga(&rec, ente) {
                Ok(r) => {
                    out.valide += 1;
                    parte.push(r);
                    if parte.len() >= pezzo && !consegna(std::mem::take(&mut parte)) {
                        return Ok(out);
                    }
                }
                Err(motivo) => scarta(
                    &mut out,
                    Scarto {
                        riga: rec.position().map_or(n as u64 + 2, |p| p.line()),
                        originale: originale(&rec),
                        motivo,
                    },
                ),
            },
            Err(e) if e.is_io_error() => match e.into_kind() {
                csv::ErrorKind::Io(e) => return Err(e),
                _ => unreachable!("is_io_error"),
            },
            Err(e) => scarta(
                &mut out,
                Scarto {
                    riga: n as u64 + 2,
                    originale: String::new(),
                    motivo: format!("riga CSV illeggibile: {e}"),
                },
            ),
        }
    }
    if !parte.is_empty() {
        consegna(parte);
    }
    Ok(out)
}

/// The rejected line for the report, cut at 2 KiB: the line number finds it in the file,
/// and a "con ricevuta" line would otherwise put its whole RT in the report.
fn originale(rec: &csv::StringRecord) -> String {
    const MAX: usize = 2048;
    let mut s = rec.iter().collect::<Vec<_>>().join(";");
    if s.len() > MAX {
        let mut cut = MAX;
        while !s.is_char_boundary(cut) {
            cut -= 1;
        }
        s.truncate(cut);
        s.push('…');
    }
    s
}

/// Writes one line of the base layout (64 columns; with `bilancio`, the 1.2 layout): for
/// tests and the simulator.
pub fn riga_csv(ente: &str, r: &NuovaRicevuta, bilancio_xml: Option<&str>) -> String {
    let mut c = vec![String::new(); 64];
    c[2] = r.iud.clone().unwrap_or_default();
    c[3] = r.iuv.clone();
    c[4] = "6.2.0".into();
    c[5] = ente.into();
    c[11] = "B".into();
    c[12] = r.attestante.clone().unwrap_or_default();
    c[13] = r.denominazione_attestante.clone().unwrap_or_default();
    c[23] = ente.into();
    c[43] = "F".into();
    c[44] = r.cf_pagatore.clone().unwrap_or_default();
    c[45] = r.anagrafica_pagatore.clone().unwrap_or_default();
    c[53] = r.codice_esito.to_string();
    c[54] = Importo::from_cents(r.totale_cents)
        .map(|i| i.to_string())
        .unwrap_or_default();
    c[55] = r.iuv.clone();
    c[57] = Importo::from_cents(r.importo_cents)
        .map(|i| i.to_string())
        .unwrap_or_default();
    c[58] = "0".into();
    c[59] = r.data_esito.to_string();
    c[60] = r.iur.clone();
    c[61] = r.causale.clone().unwrap_or_default();
    c[62] = "9/0101105IM/".into();
    c[63] = r.tipo_dovuto.clone().unwrap_or_default();
    if let Some(b) = bilancio_xml {
        c.push(b.to_owned());
    }
    let mut w = csv::WriterBuilder::new()
        .delimiter(b';')
        .from_writer(Vec::new());
    let _ = w.write_record(&c);
    String::from_utf8(w.into_inner().unwrap_or_default()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ricevuta() -> NuovaRicevuta {
        NuovaRicevuta {
            iuv: "01000000000000123".into(),
            iur: "IUR-9".into(),
            indice: 1,
            iud: Some("IUD-9".into()),
            tipo_dovuto: Some("TARI".into()),
            importo_cents: 1250,
            totale_cents: 1250,
            codice_esito: 0,
            data_esito: time::macros::date!(2026 - 11 - 20),
            cf_pagatore: Some("RSSMRA85T10A562S".into()),
            anagrafica_pagatore: Some("Mario Rossi".into()),
            cf_versante: None,
            anagrafica_versante: None,
            attestante: Some("ABCDITMM".into()),
            denominazione_attestante: Some("Banca".into()),
            causale: Some("TARI 2026".into()),
            bilancio: None,
            fonte: "PAGATI",
            rt_id: None,
        }
    }

    const HEADER: &str = "h\n";

    /// The whole file at once, as these tests read it.
    struct Letti {
        ricevute: Vec<NuovaRicevuta>,
        scarti: Vec<Scarto>,
        scartate: usize,
    }

    fn leggi_csv(testo: &[u8], ente: &str) -> std::io::Result<Letti> {
        let mut ricevute = Vec::new();
        let l = leggi_csv_a_pezzi(testo, ente, usize::MAX, |mut p| {
            ricevute.append(&mut p);
            true
        })?;
        Ok(Letti {
            ricevute,
            scarti: l.scarti,
            scartate: l.scartate,
        })
    }

    #[test]
    fn a_file_is_handed_over_in_parts_with_its_rejects_counted_once() {
        let mut f = String::from(HEADER);
        for k in 0..7 {
            let mut r = ricevuta();
            r.iur = format!("IUR-{k}");
            f.push_str(&riga_csv("80000000001", &r, None));
            if k == 3 {
                f.push_str("not;a;receipt\n");
            }
        }
        let mut parti = Vec::new();
        let letti = leggi_csv_a_pezzi(f.as_bytes(), "80000000001", 3, |p| {
            parti.push(p.len());
            true
        })
        .unwrap();
        assert_eq!(parti, vec![3, 3, 1]);
        assert_eq!((letti.valide, letti.scartate), (7, 1));
        // A receiver gone stops the reading at once.
        let mut volte = 0;
        let letti = leggi_csv_a_pezzi(f.as_bytes(), "80000000001", 2, |_| {
            volte += 1;
            false
        })
        .unwrap();
        assert_eq!((volte, letti.valide), (1, 2));
    }

    #[test]
    fn a_written_line_reads_back_as_the_same_receipt() {
        let f = format!("{HEADER}{}", riga_csv("80000000001", &ricevuta(), None));
        let Letti {
            ricevute: ok,
            scarti: ko,
            ..
        } = leggi_csv(f.as_bytes(), "80000000001").unwrap();
        assert!(ko.is_empty(), "{ko:?}");
        assert_eq!(ok, vec![ricevuta()]);
    }

    #[test]
    fn version_1_2_carries_the_budget_split_which_must_add_up() {
        let xml = "<bilancio><capitolo><codCapitolo>C1</codCapitolo><accertamento><importo>12.50</importo></accertamento></capitolo></bilancio>";
        let f = format!(
            "{HEADER}{}",
            riga_csv("80000000001", &ricevuta(), Some(xml))
        );
        let Letti {
            ricevute: ok,
            scarti: ko,
            ..
        } = leggi_csv(f.as_bytes(), "80000000001").unwrap();
        assert!(ko.is_empty(), "{ko:?}");
        assert!(ok[0].bilancio.as_deref().unwrap().contains("C1"));
        let wrong = xml.replace("12.50", "2.50");
        let f = format!(
            "{HEADER}{}",
            riga_csv("80000000001", &ricevuta(), Some(&wrong))
        );
        let Letti {
            ricevute: ok,
            scarti: ko,
            ..
        } = leggi_csv(f.as_bytes(), "80000000001").unwrap();
        assert!(ok.is_empty());
        assert!(ko[0].motivo.contains("bilancio"), "{ko:?}");
    }

    #[test]
    fn lines_of_another_ente_negative_outcomes_and_wrong_shapes_are_rejected_with_their_line() {
        let mut neg = ricevuta();
        neg.codice_esito = 1;
        let f = format!(
            "{HEADER}{}{}a;b;c\n",
            riga_csv("99999999999", &ricevuta(), None),
            riga_csv("80000000001", &neg, None)
        );
        let Letti {
            ricevute: ok,
            scarti: ko,
            ..
        } = leggi_csv(f.as_bytes(), "80000000001").unwrap();
        assert!(ok.is_empty());
        assert_eq!(ko.iter().map(|k| k.riga).collect::<Vec<_>>(), [2, 3, 4]);
        assert!(ko[0].motivo.contains("99999999999"));
        assert!(ko[1].motivo.contains("nessun pagamento"));
        assert!(ko[2].motivo.contains("colonne"));
    }

    #[test]
    fn rejects_past_the_reported_ones_are_counted_not_kept() {
        let mut f = String::from("intestazione\n");
        for _ in 0..SCARTI_RIPORTATI + 5 {
            f.push_str("x;y\n");
        }
        let l = leggi_csv(f.as_bytes(), "80000000001").unwrap();
        assert_eq!(
            (l.ricevute.len(), l.scarti.len(), l.scartate),
            (0, SCARTI_RIPORTATI, SCARTI_RIPORTATI + 5)
        );
    }
}
