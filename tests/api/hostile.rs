//! Malformed and hostile input yields the official fault, never a panic: envelope or
//! request invalid → PAA_SINTASSI_EXTRAXSD; embedded RT/RPT/flow invalid → PAA_SINTASSI_XSD.

use crate::both_backends;
use crate::helpers::*;
use axum::http::{Method, StatusCode};
use pagopa_gateway::model::flusso::FlussoRiversamento;
use pagopa_gateway::model::rpt::{Rpt, Rt};
use pagopa_gateway::soap::sanp2::{IntestazionePPT, PaaAttivaRPT, PaaInviaRT};
use pagopa_gateway::soap::{NS_PPTHEAD, read_envelope, write_envelope};
use pagopa_gateway::xml::{Limits, encode_base64};

const DOMINIO: &str = "80007580279";

/// What the PA endpoint will do with a paaInviaRT: the fault code it answers, or "OK".
fn classify_invia_rt(bytes: &[u8]) -> String {
    let env = match read_envelope(bytes, Limits::MESSAGE) {
        Ok(e) => e,
        Err(e) => return e.fault(true, DOMINIO).fault_code,
    };
    let header = env
        .header(NS_PPTHEAD, "intestazionePPT")
        .map(|h| IntestazionePPT::parse(h.xml));
    if !matches!(header, Some(Ok(_))) {
        return "PAA_SINTASSI_EXTRAXSD".into();
    }
    let req = match PaaInviaRT::parse(env.body.xml) {
        Ok(r) => r,
        Err(e) => return e.fault(true, DOMINIO).fault_code,
    };
    match Rt::parse(&req.rt.0) {
        Ok(_) => "OK".into(),
        Err(e) => e.fault(true, DOMINIO).fault_code,
    }
}

fn header() -> String {
    IntestazionePPT {
        id_intermediario_pa: "80012345676".into(),
        id_stazione: "80012345676_01".into(),
        id_dominio: DOMINIO.into(),
        iuv: "01000000000000144".into(),
        ccp: "ccp".into(),
    }
    .write()
}

fn invia_rt(rt_base64: &str) -> String {
    write_envelope(
        Some(&header()),
        &format!(
            "<ppt:paaInviaRT xmlns:ppt=\"http://ws.pagamenti.telematici.gov/\"><tipoFirma></tipoFirma><rt>{rt_base64}</rt></ppt:paaInviaRT>"
        ),
    )
}

fn valid_rt(importo: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><RT xmlns="http://www.digitpa.gov.it/schemas/2011/Pagamenti/"><versioneOggetto>6.2.0</versioneOggetto><dominio><identificativoDominio>{DOMINIO}</identificativoDominio></dominio><identificativoMessaggioRicevuta>R1</identificativoMessaggioRicevuta><dataOraMessaggioRicevuta>2026-11-28T10:00:00</dataOraMessaggioRicevuta><riferimentoMessaggioRichiesta>M1</riferimentoMessaggioRichiesta><riferimentoDataRichiesta>2026-11-28</riferimentoDataRichiesta><istitutoAttestante><identificativoUnivocoAttestante><tipoIdentificativoUnivoco>B</tipoIdentificativoUnivoco><codiceIdentificativoUnivoco>ABCDITMM</codiceIdentificativoUnivoco></identificativoUnivocoAttestante><denominazioneAttestante>Banca</denominazioneAttestante></istitutoAttestante><enteBeneficiario><identificativoUnivocoBeneficiario><tipoIdentificativoUnivoco>G</tipoIdentificativoUnivoco><codiceIdentificativoUnivoco>{DOMINIO}</codiceIdentificativoUnivoco></identificativoUnivocoBeneficiario><denominazioneBeneficiario>Comune</denominazioneBeneficiario></enteBeneficiario><soggettoPagatore><identificativoUnivocoPagatore><tipoIdentificativoUnivoco>F</tipoIdentificativoUnivoco><codiceIdentificativoUnivoco>RSSMRA85T10A562S</codiceIdentificativoUnivoco></identificativoUnivocoPagatore><anagraficaPagatore>Mario</anagraficaPagatore></soggettoPagatore><datiPagamento><codiceEsitoPagamento>0</codiceEsitoPagamento><importoTotalePagato>{importo}</importoTotalePagato><identificativoUnivocoVersamento>01000000000000144</identificativoUnivocoVersamento><CodiceContestoPagamento>ccp</CodiceContestoPagamento><datiSingoloPagamento><singoloImportoPagato>{importo}</singoloImportoPagato><dataEsitoSingoloPagamento>2026-11-28</dataEsitoSingoloPagamento><identificativoUnivocoRiscossione>IUR1</identificativoUnivocoRiscossione><causaleVersamento>c</causaleVersamento><datiSpecificiRiscossione>9/abc</datiSpecificiRiscossione></datiSingoloPagamento></datiPagamento></RT>"#
    )
}

#[test]
fn a_valid_rt_with_a_foreign_default_namespace_is_accepted() {
    assert_eq!(
        classify_invia_rt(invia_rt(&encode_base64(valid_rt("10.00").as_bytes())).as_bytes()),
        "OK"
    );
    // Real senders drop the decimals: accepted on input.
    assert_eq!(
        classify_invia_rt(invia_rt(&encode_base64(valid_rt("10").as_bytes())).as_bytes()),
        "OK"
    );
}

#[test]
fn malformed_envelopes_get_sintassi_extraxsd() {
    let good = invia_rt(&encode_base64(valid_rt("10.00").as_bytes()));
    let deep = format!("{}{}{}", "<a>".repeat(10_000), "x", "</a>".repeat(10_000));
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("truncated", good.as_bytes()[..good.len() / 2].to_vec()),
        ("empty", vec![]),
        ("not xml", b"hello".to_vec()),
        ("soap 1.2 namespace", good.replace("http://schemas.xmlsoap.org/soap/envelope/", "http://www.w3.org/2003/05/soap-envelope").into_bytes()),
        ("billion laughs", format!(r#"<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]>{}"#, good.trim_start_matches(r#"<?xml version="1.0" encoding="UTF-8"?>"#)).into_bytes()),
        ("external entity", good.replace("<tipoFirma></tipoFirma>", "<tipoFirma>&xxe;</tipoFirma>").into_bytes()),
        ("10,000-deep nesting", write_envelope(Some(&header()), &deep).into_bytes()),
        ("200 MB body", { let mut v = good.clone().into_bytes(); v.resize(200 * 1024 * 1024, b' '); v }),
        ("invalid base64", invia_rt("@@@not-base64@@@").into_bytes()),
        ("base64 too large", invia_rt(&"QUFB".repeat(400_000)).into_bytes()),
        ("missing rt", write_envelope(Some(&header()), "<ppt:paaInviaRT xmlns:ppt=\"http://ws.pagamenti.telematici.gov/\"/>").into_bytes()),
        ("missing header", write_envelope(None, &format!("<ppt:paaInviaRT xmlns:ppt=\"http://ws.pagamenti.telematici.gov/\"><rt>{}</rt></ppt:paaInviaRT>", encode_base64(valid_rt("1.00").as_bytes()))).into_bytes()),
        ("NUL byte", good.replacen("<tipoFirma>", "<tipoFirma>\u{0}", 1).into_bytes()),
        ("not UTF-8", { let mut v = good.clone().into_bytes(); v.insert(200, 0xff); v }),
    ];
    for (name, bytes) in cases {
        assert_eq!(classify_invia_rt(&bytes), "PAA_SINTASSI_EXTRAXSD", "{name}");
    }
}

#[test]
fn invalid_embedded_documents_get_sintassi_xsd() {
    let cases = vec![
        ("wrong amount", valid_rt("10,00")),
        ("negative amount", valid_rt("-1.00")),
        ("amount overflow", valid_rt("1000000000.00")),
        ("wrong root", valid_rt("1.00").replace("<RT ", "<RPT ").replace("</RT>", "</RPT>")),
        ("wrong namespace", valid_rt("1.00").replace("http://www.digitpa.gov.it/schemas/2011/Pagamenti/", "urn:other")),
        ("truncated", valid_rt("1.00")[..300].to_owned()),
        ("dtd inside the rt", valid_rt("1.00").replace("<?xml version=\"1.0\" encoding=\"UTF-8\"?>", "<!DOCTYPE RT [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>")),
        ("esito out of range", valid_rt("1.00").replace("<codiceEsitoPagamento>0<", "<codiceEsitoPagamento>7<")),
        ("bad date", valid_rt("1.00").replace("<riferimentoDataRichiesta>2026-11-28<", "<riferimentoDataRichiesta>28/11/2026<")),
        ("missing iuv", valid_rt("1.00").replace("<identificativoUnivocoVersamento>01000000000000144</identificativoUnivocoVersamento>", "")),
        ("binary garbage", "\u{1}\u{2}PK".to_owned()),
        ("forbidden character reference (found by fuzzing)", valid_rt("1.00").replace("<anagraficaPagatore>Mario", "<anagraficaPagatore>&#22;Mario")),
    ];
    for (name, rt) in cases {
        let fault = classify_invia_rt(invia_rt(&encode_base64(rt.as_bytes())).as_bytes());
        assert_eq!(fault, "PAA_SINTASSI_XSD", "{name}");
    }
}

#[test]
fn fault_description_names_the_element_and_line() {
    let e = read_envelope(b"<soapenv:Envelope xmlns:soapenv=\"http://schemas.xmlsoap.org/soap/envelope/\">\n<soapenv:Body>\n<x></y>", Limits::MESSAGE).unwrap_err();
    let d = e.fault(true, DOMINIO).description.unwrap();
    assert!(d.contains("riga 3"), "{d}");
    let attiva = "<ppt:paaAttivaRPT xmlns:ppt=\"http://ws.pagamenti.telematici.gov/\"><identificativoPSP>P</identificativoPSP></ppt:paaAttivaRPT>";
    let d = PaaAttivaRPT::parse(attiva)
        .unwrap_err()
        .fault(true, DOMINIO)
        .description
        .unwrap();
    assert!(
        d.contains("paaAttivaRPT") && d.contains("datiPagamentoPSP"),
        "{d}"
    );
}

#[test]
fn rpt_and_flow_parsers_refuse_garbage_without_panicking() {
    for bytes in [
        &b""[..],
        b"<RPT/>",
        b"\xff\xfe",
        b"<pay_i:RPT xmlns:pay_i=\"http://www.digitpa.gov.it/schemas/2011/Pagamenti/\"/>",
    ] {
        assert!(Rpt::parse(bytes).is_err());
        assert!(FlussoRiversamento::parse(bytes).is_err());
    }
    let deep = format!(
        "<pay_i:FlussoRiversamento xmlns:pay_i=\"http://www.digitpa.gov.it/schemas/2011/Pagamenti/\">{}",
        "<a>".repeat(100)
    );
    assert!(FlussoRiversamento::parse(deep.as_bytes()).is_err());
}

/// A flow of `n` payments produced piece by piece: the whole document never exists in
/// memory, so parsing it proves the reader streams.
struct GeneratedFlow {
    n: usize,
    next: usize,
    pending: Vec<u8>,
    done: bool,
}

impl std::io::Read for GeneratedFlow {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        if self.pending.is_empty() && !self.done {
            self.pending = if self.next == 0 {
                format!(r#"<?xml version="1.0"?><pay_i:FlussoRiversamento xmlns:pay_i="http://www.digitpa.gov.it/schemas/2011/Pagamenti/"><pay_i:versioneOggetto>1.0</pay_i:versioneOggetto><pay_i:identificativoFlusso>2026-11-27PSP-1</pay_i:identificativoFlusso><pay_i:dataOraFlusso>2026-11-28T06:00:00</pay_i:dataOraFlusso><pay_i:identificativoUnivocoRegolamento>TRN1</pay_i:identificativoUnivocoRegolamento><pay_i:dataRegolamento>2026-11-27</pay_i:dataRegolamento><pay_i:istitutoMittente><pay_i:identificativoUnivocoMittente><pay_i:tipoIdentificativoUnivoco>B</pay_i:tipoIdentificativoUnivoco><pay_i:codiceIdentificativoUnivoco>ABCDITMM</pay_i:codiceIdentificativoUnivoco></pay_i:identificativoUnivocoMittente></pay_i:istitutoMittente><pay_i:istitutoRicevente><pay_i:identificativoUnivocoRicevente><pay_i:tipoIdentificativoUnivoco>G</pay_i:tipoIdentificativoUnivoco><pay_i:codiceIdentificativoUnivoco>{DOMINIO}</pay_i:codiceIdentificativoUnivoco></pay_i:identificativoUnivocoRicevente></pay_i:istitutoRicevente><pay_i:numeroTotalePagamenti>{}</pay_i:numeroTotalePagamenti><pay_i:importoTotalePagamenti>{}.00</pay_i:importoTotalePagamenti>"#, self.n, self.n).into_bytes()
            } else if self.next <= self.n {
                format!("<pay_i:datiSingoliPagamenti><pay_i:identificativoUnivocoVersamento>IUV{}</pay_i:identificativoUnivocoVersamento><pay_i:identificativoUnivocoRiscossione>IUR{}</pay_i:identificativoUnivocoRiscossione><pay_i:indiceDatiSingoloPagamento>1</pay_i:indiceDatiSingoloPagamento><pay_i:singoloImportoPagato>1.00</pay_i:singoloImportoPagato><pay_i:codiceEsitoSingoloPagamento>0</pay_i:codiceEsitoSingoloPagamento><pay_i:dataEsitoSingoloPagamento>2026-11-27</pay_i:dataEsitoSingoloPagamento></pay_i:datiSingoliPagamenti>", self.next, self.next).into_bytes()
            } else {
                self.done = true;
                b"</pay_i:FlussoRiversamento>".to_vec()
            };
            self.next += 1;
        }
        let k = out.len().min(self.pending.len());
        out[..k].copy_from_slice(&self.pending[..k]);
        self.pending.drain(..k);
        Ok(k)
    }
}

#[test]
fn a_100k_payment_flow_is_parsed_streaming_with_totals_checked() {
    let flow = GeneratedFlow {
        n: 100_000,
        next: 0,
        pending: Vec::new(),
        done: false,
    };
    let mut seen = 0u64;
    let (testata, c) =
        pagopa_gateway::model::flusso::parse_stream(std::io::BufReader::new(flow), u64::MAX, |p| {
            seen += 1;
            assert_eq!(p.iur, format!("IUR{seen}"));
            Ok(())
        })
        .unwrap();
    assert_eq!((seen, c.pagamenti), (100_000, 100_000));
    assert!(
        testata.anomalie(&c).is_empty(),
        "{:?}",
        testata.anomalie(&c)
    );
    // Declared totals that do not add up are reported, not fatal.
    let flow = GeneratedFlow {
        n: 3,
        next: 0,
        pending: Vec::new(),
        done: false,
    };
    let (mut testata, c) = pagopa_gateway::model::flusso::parse_stream(
        std::io::BufReader::new(flow),
        u64::MAX,
        |_| Ok(()),
    )
    .unwrap();
    testata.numero_totale_pagamenti = 1;
    assert_eq!(testata.anomalie(&c).len(), 1);
    // The byte bound is enforced while streaming.
    let flow = GeneratedFlow {
        n: 100_000,
        next: 0,
        pending: Vec::new(),
        done: false,
    };
    let err = pagopa_gateway::model::flusso::parse_stream(
        std::io::BufReader::new(flow),
        1_000_000,
        |_| Ok(()),
    )
    .unwrap_err();
    assert!(
        matches!(
            err,
            pagopa_gateway::model::rpt::DocError::Xml(pagopa_gateway::xml::XmlError::TooLarge(_))
        ),
        "{err}"
    );
}

both_backends!(extreme_numeric_ids_in_paths_answer_404_never_500, |app| {
    // Found by schemathesis: i64::MIN used to overflow into a panic.
    for path in [
        "/api/v1/journal/-9223372036854775808",
        "/api/v1/journal/0",
        "/api/v1/journal/9223372036854775807",
        "/api/v1/rt/-9223372036854775808/xml",
        "/api/v1/outbox/-9223372036854775808/retry",
    ] {
        let method = if path.ends_with("retry") {
            Method::POST
        } else {
            Method::GET
        };
        let (s, _) = app.call(method, path, Some(ADMIN), None).await;
        assert_eq!(s, StatusCode::NOT_FOUND, "{path}");
    }
});
