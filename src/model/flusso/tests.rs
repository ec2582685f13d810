//! The reader's tests: deviations, and windows cut anywhere reading what one whole window
//! reads.

use super::lettura::{FINESTRA, a_finestre};
use super::*;
use crate::xml::XmlError;

fn flusso() -> FlussoRiversamento {
    let day = Date::from_calendar_date(2026, time::Month::November, 27).expect("date");
    let ist = |tipo: &str, codice: &str| Istituto {
        identificativo: IdentificativoUnivoco {
            tipo: tipo.into(),
            codice: codice.into(),
        },
        denominazione: None,
    };
    FlussoRiversamento {
        testata: TestataFlusso {
            versione_oggetto: "1.0".into(),
            identificativo_flusso: "2026-11-27ABCDITMMXXX-S1".into(),
            data_ora_flusso: DataOra::parse("2026-11-28T07:00:00").expect("dt"),
            identificativo_univoco_regolamento: "TRN20261127000000001".into(),
            data_regolamento: day,
            istituto_mittente: ist("B", "ABCDITMMXXX"),
            codice_bic_banca_di_riversamento: None,
            istituto_ricevente: ist("G", "80007580279"),
            numero_totale_pagamenti: 1,
            importo_totale_pagamenti: Importo::from_cents(1_000).expect("cents"),
        },
        pagamenti: vec![PagamentoFlusso {
            iuv: Iuv::parse("01000000000000001").expect("iuv"),
            iur: "IUR1".into(),
            indice: Some(1),
            importo: Importo::from_cents(1_000).expect("cents"),
            codice_esito: 0,
            data_esito: day,
        }],
    }
}

fn deviazioni(xml: &str) -> Vec<String> {
    let (_, c) = FlussoRiversamento::leggi(xml.as_bytes()).expect("read leniently");
    c.deviazioni.iter().map(ToString::to_string).collect()
}

#[test]
fn a_flow_within_the_schema_has_no_deviation() {
    assert!(deviazioni(&flusso().to_xml()).is_empty());
}

#[test]
fn header_facets_are_read_leniently_and_each_recorded_once() {
    let mut f = flusso();
    f.testata.versione_oggetto = "2.0".into();
    f.testata.identificativo_flusso = "2026-11-27 ABCD.S1".into();
    f.testata.istituto_ricevente.identificativo.tipo = "B".into();
    f.testata.istituto_mittente.denominazione = Some("B".repeat(71));
    f.testata.codice_bic_banca_di_riversamento = Some(String::new());
    let xml = f
        .to_xml()
        .replace(">10.00</pay_i:importoTotale", ">10</pay_i:importoTotale");
    assert_eq!(
        deviazioni(&xml),
        [
            format!(
                "istitutoMittente/denominazioneMittente: oltre 70 caratteri (maxLength 70) ('{}')",
                "B".repeat(70)
            ),
            "versioneOggetto: non tra 1.0 e 1.1 ('2.0')".to_owned(),
            "identificativoFlusso: non nel formato [a-zA-Z0-9\\-_]{1,35} ('2026-11-27 ABCD.S1')"
                .to_owned(),
            "codiceBicBancaDiRiversamento: vuoto (minLength 1) ('')".to_owned(),
            "istitutoRicevente/identificativoUnivocoRicevente/tipoIdentificativoUnivoco: non G ('B')"
                .to_owned(),
            "importoTotalePagamenti: non nel formato \\d+\\.\\d{2} ('10')".to_owned(),
        ]
    );
}

/// Reads `xml` in windows of every size from 1 to 64 bytes, so that a cut falls
/// everywhere (in comments, CDATA and quoted values holding `>`), and checks that each
/// reading gives what one whole window gives: the same flow, or the same fault at the
/// same position. Returns that outcome.
fn uguale_a_ogni_taglio(xml: &[u8]) -> String {
    uguale_a_ogni_taglio_entro(xml, u64::MAX)
}

/// [`uguale_a_ogni_taglio`] with a bound on the input's bytes.
fn uguale_a_ogni_taglio_entro(xml: &[u8], max_bytes: u64) -> String {
    let leggi = |finestra| {
        let mut pagamenti = Vec::new();
        let r = a_finestre(xml, max_bytes, finestra, |p| {
            pagamenti.push(p);
            Ok(())
        });
        format!("{r:?} {pagamenti:?}")
    };
    let intero = leggi(xml.len() + 1);
    for finestra in 1..=64 {
        assert_eq!(leggi(finestra), intero, "window of {finestra} bytes");
    }
    intero
}

#[test]
fn windows_cut_anywhere_read_the_same_flow() {
    let mut f = flusso();
    let mut secondo = f.pagamenti[0].clone();
    secondo.iur = "IUR2".into();
    f.pagamenti.push(secondo);
    let xml = f.to_xml();
    let xml = format!("\u{feff}{xml}")
        .replacen(
            "<pay_i:istitutoMittente>",
            "<!-- a <b> c --><?pi x<y?><pay_i:istitutoMittente>",
            1,
        )
        .replacen(
            "<pay_i:datiSingoliPagamenti>",
            "<pay_i:datiSingoliPagamenti nota=\"a>b\" altra = 'c\"d'>",
            1,
        )
        .replacen(">IUR2<", "><![CDATA[IUR<2>]]> &amp; &#x3C;3<", 1);
    let out = uguale_a_ogni_taglio(xml.as_bytes());
    assert!(out.starts_with("Ok("), "{out}");
    assert!(out.contains("iur: \"IUR<2> & <3\""), "{out}");
    assert!(out.contains("iur: \"IUR1\""), "{out}");
    // Text after a construct a small window reads alone: a leading U+FEFF is text,
    // and a comment after it is cut and read again like any other.
    let xml = flusso()
        .to_xml()
        .replacen(">IUR1<", ">\u{feff}IUR1<!-- a<b --><", 1);
    let out = uguale_a_ogni_taglio(xml.as_bytes());
    assert!(out.contains(r#"iur: "\u{feff}IUR1""#), "{out}");
}

#[test]
fn windows_cut_anywhere_report_the_same_faults() {
    let xml = flusso().to_xml();
    let faults = [
        (
            xml.replacen("</pay_i:dataRegolamento>", "</pay_i:dataRegolament>", 1),
            "atteso `</pay_i:dataRegolamento>`, trovato `</pay_i:dataRegolament>`",
        ),
        (format!("</x>{xml}"), "`</x>`"),
        (
            xml.replacen("</pay_i:FlussoRiversamento>", "<!-- < ", 1),
            "commento non chiuso",
        ),
        (
            xml.replacen("</pay_i:FlussoRiversamento>", "", 1),
            "documento incompleto",
        ),
        (
            xml.replacen(">IUR1<", ">IUR\u{1}<", 1),
            "carattere di controllo",
        ),
        (xml.replacen(">IUR1<", ">&nope;<", 1), "entità sconosciuta"),
        (
            xml.replacen("<pay_i:Flusso", "<!DOCTYPE x><pay_i:Flusso", 1),
            "Dtd",
        ),
        // Syntax errors in the middle of the input, not cut by a window.
        (
            xml.replacen(
                "<pay_i:istitutoMittente>",
                "<!x><pay_i:istitutoMittente>",
                1,
            ),
            "errore di sintassi",
        ),
        (
            xml.replacen("<pay_i:istitutoMittente>", "<?><pay_i:istitutoMittente>", 1),
            "errore di sintassi",
        ),
        (
            xml.replacen(
                "<pay_i:istitutoMittente>",
                "<!-x--><pay_i:istitutoMittente>",
                1,
            ),
            "errore di sintassi",
        ),
        // One root, and nothing but whitespace, comments and instructions around it.
        (format!("{xml}{xml}"), "un secondo elemento radice"),
        (format!("x{xml}"), "testo fuori dall'elemento radice"),
        // A quote where an attribute's name goes cannot hide a payment in a tag.
        (
            xml.replacen(
                "<pay_i:datiSingoliPagamenti>",
                "<pay_i:x '><pay_i:datiSingoliPagamenti>",
                1,
            )
            .replacen(
                "</pay_i:datiSingoliPagamenti>",
                "</pay_i:datiSingoliPagamenti>'/>",
                1,
            ),
            "tag di apertura malformato",
        ),
        // Byte order marks: one UTF-8 mark is read, a second or a UTF-16 one refused.
        (format!("\u{feff}\u{feff}{xml}"), "codifica non ammessa"),
    ];
    let mut faults: Vec<(Vec<u8>, &str)> = faults
        .into_iter()
        .map(|(x, f)| (x.into_bytes(), f))
        .collect();
    let mut utf16 = b"\xFF\xFE".to_vec();
    utf16.extend_from_slice(xml.as_bytes());
    faults.push((utf16, "codifica non ammessa"));
    // Not UTF-8 where a window may start, after a construct read alone.
    faults.push((
        xml.replacen(">IUR1<", ">\u{1}\u{2}IUR1<", 1)
            .into_bytes()
            .into_iter()
            .map(|b| match b {
                1 => 0xFF,
                2 => 0xFE,
                b => b,
            })
            .collect(),
        "UTF-8",
    ));
    // Not UTF-8 in a text.
    faults.push((
        xml.replacen(">IUR1<", ">IUR\u{1}<", 1)
            .into_bytes()
            .into_iter()
            .map(|b| if b == 1 { 0xFF } else { b })
            .collect(),
        "UTF-8",
    ));
    for (bad, fault) in faults {
        let out = uguale_a_ogni_taglio(&bad);
        assert!(
            out.starts_with("Err(") && out.contains(fault),
            "{fault}: {out}"
        );
    }
}

/// Reads `inizio` followed by 50 MB of `x` in windows of `finestra` bytes: the fault, and
/// how many of the 50 MB were read before it.
fn rifiuto_dopo(inizio: &str, max_bytes: u64, finestra: usize) -> (DocError, u64) {
    use std::io::Read;
    const FIUME: u64 = 50_000_000;
    let mut input =
        std::io::BufReader::new(inizio.as_bytes().chain(std::io::repeat(b'x').take(FIUME)));
    let err = a_finestre(&mut input, max_bytes, finestra, |_| Ok(())).unwrap_err();
    (err, FIUME - input.get_ref().get_ref().1.limit())
}

#[test]
fn a_construct_past_the_byte_bound_is_refused_before_it_is_read_whole() {
    let radice = format!("<pay_i:FlussoRiversamento xmlns:pay_i=\"{NS_PAY_I}\">");
    let (err, letti) = rifiuto_dopo(&format!("{radice}<!-- "), 1_000_000, FINESTRA);
    assert!(matches!(err, DocError::Xml(XmlError::TooLarge(_))), "{err}");
    assert!(letti < 3_000_000, "read {letti} bytes");
    // A syntax error in the middle is refused where it is, with no bound to reach.
    let (err, letti) = rifiuto_dopo(&format!("{radice}<!x>"), u64::MAX, FINESTRA);
    assert!(err.to_string().contains("errore di sintassi"), "{err}");
    assert!(letti < 3_000_000, "read {letti} bytes");
    // So is a whole but faulty construct the window's cut follows, in any window.
    for guasto in ["<?><a>", "<!<", "<!-x--><a>", "</a b", "<a x <"] {
        for finestra in [16, FINESTRA] {
            let (err, letti) = rifiuto_dopo(&format!("{radice}{guasto}"), u64::MAX, finestra);
            assert!(
                err.to_string().contains("errore di sintassi"),
                "{guasto}: {err}"
            );
            assert!(letti < 3_000_000, "{guasto}: read {letti} bytes");
        }
    }
}

/// Pieces that make a window's cut matter: constructs holding `<` or `>`, faulty ones,
/// marks and bytes that are not UTF-8, references, stray markup.
const PEZZI: &[&[u8]] = &[
    b"<!-- a<b -->",
    b"<![CDATA[x<y]]>",
    b"<?p a<b?>",
    b"\xEF\xBB\xBF",
    b"\xFF\xFE",
    b"&amp;",
    b"&",
    b"<!x>",
    b"<?>",
    b"<!<",
    b"<",
    b">",
    b"</x>",
    b"<x a=\"<>\"/>",
    b"<x a=\">\" b = '\"' />",
    b"\xFF",
    b" \n\t",
];

proptest::proptest! {
    #![proptest_config(proptest::test_runner::Config::with_cases(96))]
    // Whatever is inserted wherever, every window size reads what one whole window
    // reads: the same flow, or the same fault at the same position.
    #[test]
    fn any_insertion_reads_the_same_at_every_window_size(
        inserti in proptest::collection::vec(
            (proptest::bool::ANY, 0.0f64..1.0, 0..PEZZI.len()),
            1..4,
        )
    ) {
        let mut xml = flusso().to_xml().into_bytes();
        for (dopo_tag, dove, pezzo) in inserti {
            // Anywhere, or right after a tag (where a leaf's text or a window starts).
            let posti: Vec<usize> = if dopo_tag {
                (1..=xml.len()).filter(|&i| xml[i - 1] == b'>').collect()
            } else {
                (0..=xml.len()).collect()
            };
            let at = posti[((posti.len() as f64) * dove) as usize % posti.len()];
            xml.splice(at..at, PEZZI[pezzo].iter().copied());
        }
        uguale_a_ogni_taglio(&xml);
    }
}

#[test]
fn a_long_value_counts_characters_not_bytes() {
    let mut f = flusso();
    // 35 characters, 70 bytes: within maxLength 35.
    f.testata.identificativo_univoco_regolamento = "è".repeat(35);
    assert!(deviazioni(&f.to_xml()).is_empty());
    f.testata.identificativo_univoco_regolamento = "è".repeat(36);
    assert_eq!(deviazioni(&f.to_xml()).len(), 1);
}

#[test]
fn the_byte_bound_is_the_same_at_every_window_size() {
    let xml = flusso().to_xml();
    let n = xml.len() as u64;
    assert!(uguale_a_ogni_taglio_entro(xml.as_bytes(), n).starts_with("Ok("));
    for (input, max) in [(xml.clone(), n - 1), (format!("{xml}\n"), n), (xml, 100)] {
        let out = uguale_a_ogni_taglio_entro(input.as_bytes(), max);
        assert!(out.starts_with("Err(Xml(TooLarge"), "{max}: {out}");
    }
}
