//! `pagopa-gateway demo` as a process, in a fresh directory: it exits 0 with every check
//! passed, refuses a `./data` that is not an earlier demo's, and what it leaves behind
//! (`journal export`) validates against the official schemas: every exchanged message, both
//! directions (SANP 2 and the new model's paForNode), and every payload carried inside one
//! (RPTs, RTs sent and copied, reporting flows: those read from FdR REST as the
//! FlussoRiversamento they are stored as).

use crate::openapi::{assert_conforms, document};
use crate::xsd::{assert_valid, new_model_xsd, wsdl_schema, xsd};
use pagopa_gateway::fdr_client::modello::{Flusso, Pagamento, Pagina, come_flusso};
use pagopa_gateway::soap::sanp2::{
    NodoChiediCopiaRTRisposta, NodoChiediFlussoRendicontazioneRisposta, NodoInviaCarrelloRPT,
    NodoInviaRPT, PaaInviaRT,
};
use pagopa_gateway::soap::{NS_PPT, read_envelope};
use pagopa_gateway::xml::Limits;
use std::collections::BTreeMap;
use std::process::Command;

fn bin(dir: &std::path::Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_pagopa-gateway"));
    c.current_dir(dir)
        .env_remove("PAGOPA_GATEWAY_CONFIG")
        .env("RUST_LOG", "error");
    c
}

#[test]
fn demo_passes_every_check_and_its_journal_validates_against_the_official_schemas() {
    let dir = tempfile::tempdir().unwrap();
    // A ./data that is not a demo's is never touched.
    std::fs::create_dir_all(dir.path().join("data")).unwrap();
    std::fs::write(dir.path().join("data/precious.txt"), "keep me").unwrap();
    let out = bin(dir.path()).arg("demo").output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("refusing to touch it"));
    assert!(dir.path().join("data/precious.txt").exists());
    std::fs::remove_dir_all(dir.path().join("data")).unwrap();

    let out = bin(dir.path()).arg("demo").output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("0 failed"), "{stdout}");
    assert!(!stdout.contains("[FAIL]"), "{stdout}");
    // Run twice: an earlier demo's data is replaced.
    let again = bin(dir.path()).arg("demo").output().unwrap();
    assert!(
        again.status.success(),
        "{}",
        String::from_utf8_lossy(&again.stdout)
    );

    let export = dir.path().join("export");
    let out = bin(dir.path())
        .args(["journal", "export", "--dir"])
        .arg(&export)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Group message bodies by the WSDL that defines them; collect the RPTs and RTs carried.
    let mut by_wsdl: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    let (mut rpts, mut rts, mut flussi) = (Vec::new(), Vec::new(), Vec::new());
    let mut ops = std::collections::BTreeSet::new();
    let mut nuovo_modello = Vec::new();
    let (checkout_api, fdr_api, biz_api) = (
        document("checkout_v2.json"),
        document("fdr_organization.json"),
        document("biz_events.json"),
    );
    // FdR REST exchanges (JSON): each flow's header with its pages of payments.
    let mut fdr: BTreeMap<String, (Option<String>, Vec<String>)> = BTreeMap::new();
    let mut files: Vec<_> = std::fs::read_dir(&export)
        .unwrap()
        .map(|f| f.unwrap().path())
        .collect();
    files.sort();
    for path in files {
        let bytes = std::fs::read(&path).unwrap();
        if bytes.is_empty() {
            continue; // an exchange that got no answer
        }
        let file = path.file_name().unwrap().to_string_lossy().into_owned();
        if file.contains("-bizRicevuta-") {
            ops.insert("bizRicevuta".to_owned());
            if file.ends_with("-response.xml") {
                let json: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
                assert_conforms(&biz_api, "CtReceiptModelResponse", &json);
            }
            continue;
        }
        if file.contains("-checkoutCarts-") {
            ops.insert("checkoutCarts".to_owned());
            if file.ends_with("-request.xml") {
                let cart: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
                assert_conforms(&checkout_api, "CartRequestV2", &cart);
            }
            continue;
        }
        if file.contains("-fdr") {
            let op = file.split('-').nth(1).unwrap().to_owned();
            ops.insert(op.clone());
            if file.ends_with("-response.xml") {
                // What the simulated FdR served, as pagoPA's FdR must.
                let schema = match op.as_str() {
                    "fdrElencoFlussi" => "PaginatedFlowsPublishedResponse",
                    "fdrFlusso" => "SingleFlowResponse",
                    _ => "PaginatedPaymentsResponse",
                };
                let json: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
                assert_conforms(&fdr_api, schema, &json);
            }
            if file.ends_with("-response.xml") && op != "fdrElencoFlussi" {
                // The flow's id is in the request's URL: …/fdrs/<id>/revisions/…
                let request = std::fs::read_to_string(
                    path.with_file_name(file.replace("-response.xml", "-request.xml")),
                )
                .unwrap();
                let id = request
                    .split("/fdrs/")
                    .nth(1)
                    .and_then(|r| r.split('/').next())
                    .unwrap()
                    .to_owned();
                let body = String::from_utf8(bytes).unwrap();
                let e = fdr.entry(id).or_default();
                if op == "fdrFlusso" {
                    e.0 = Some(body);
                } else {
                    e.1.push(body);
                }
            }
            continue;
        }
        let env = read_envelope(&bytes, Limits::MESSAGE).unwrap();
        let name = env.body.name.as_str();
        let op = name.trim_end_matches("Risposta");
        ops.insert(op.to_owned());
        if op.starts_with("pa") && !op.starts_with("paa") {
            nuovo_modello.push(env.body.xml.to_owned());
            continue;
        }
        let wsdl = match op {
            "paaVerificaRPT" | "paaAttivaRPT" => "PaPerNodoPagamentoPsp.wsdl",
            "paaInviaRT" => "PaPerNodo.wsdl",
            o if o.starts_with("nodo") => "NodoPerPa.wsdl",
            other => panic!("unexpected body {other}"),
        };
        by_wsdl
            .entry(wsdl)
            .or_default()
            .push(env.body.xml.to_owned());
        match name {
            "nodoInviaRPT" => rpts
                .push(String::from_utf8(NodoInviaRPT::parse(env.body.xml).unwrap().rpt.0).unwrap()),
            "nodoInviaCarrelloRPT" => rpts.extend(
                NodoInviaCarrelloRPT::parse(env.body.xml)
                    .unwrap()
                    .lista_rpt
                    .into_iter()
                    .map(|e| String::from_utf8(e.rpt.0).unwrap()),
            ),
            "paaInviaRT" => {
                rts.push(String::from_utf8(PaaInviaRT::parse(env.body.xml).unwrap().rt.0).unwrap())
            }
            "nodoChiediCopiaRTRisposta" => rts.extend(
                NodoChiediCopiaRTRisposta::parse(env.body.xml)
                    .unwrap()
                    .rt
                    .map(|rt| String::from_utf8(rt.0).unwrap()),
            ),
            "nodoChiediFlussoRendicontazioneRisposta" => flussi.extend(
                NodoChiediFlussoRendicontazioneRisposta::parse(env.body.xml)
                    .unwrap()
                    .xml_rendicontazione
                    .map(|f| String::from_utf8(f.0).unwrap()),
            ),
            _ => {}
        }
    }

    for op in [
        "paaVerificaRPT",
        "paaAttivaRPT",
        "paaInviaRT",
        "nodoInviaRPT",
        "nodoInviaCarrelloRPT",
        "nodoChiediStatoRPT",
        "nodoChiediCopiaRT",
        "paVerifyPaymentNoticeReq",
        "paVerifyPaymentNoticeRes",
        "paGetPaymentV2Request",
        "paGetPaymentV2Response",
        "paSendRTV2Request",
        "paSendRTV2Response",
        "fdrElencoFlussi",
        "fdrFlusso",
        "fdrPagamenti",
        "checkoutCarts",
        "bizRicevuta",
    ] {
        assert!(ops.contains(op), "{op} missing from the journal: {ops:?}");
    }
    for (wsdl, docs) in by_wsdl {
        assert_valid(&wsdl_schema(wsdl, NS_PPT), &docs);
    }
    assert_valid(&xsd("PagInf_RPT_RT_6_2_0.xsd"), &rpts);
    assert_valid(&xsd("PagInf_RPT_RT_6_2_0.xsd"), &rts);
    // The new model's messages, both directions, against paForNode.xsd.
    assert_valid(&new_model_xsd(), &nuovo_modello);
    // The flows read from FdR, as the FlussoRiversamento the gateway stores them as.
    for (id, (testata, pagine)) in &fdr {
        let testata: Flusso = serde_json::from_str(testata.as_deref().unwrap()).unwrap();
        let pagamenti: Vec<Pagamento> = pagine
            .iter()
            .flat_map(|p| serde_json::from_str::<Pagina<Pagamento>>(p).unwrap().data)
            .collect();
        let x = come_flusso(&testata, &pagamenti).unwrap();
        assert_eq!(&x.testata.identificativo_flusso, id);
        flussi.push(x.to_xml());
    }
    // The reporting flows, as the PSPs' flows must be.
    assert!(!flussi.is_empty(), "no reporting flow in the journal");
    assert_valid(&xsd("FlussoRiversamento_1_0_4.xsd"), &flussi);

    // The treasurer's journals: OPI 1.6.1 valid against Banca d'Italia's schema, and the CSV
    // with PU's headers; each transfer's causale names its flow (IUF).
    let mut opi = Vec::new();
    for ente in std::fs::read_dir(dir.path().join("data/tesoreria")).unwrap() {
        for f in std::fs::read_dir(ente.unwrap().path()).unwrap() {
            let p = f.unwrap().path();
            let text = std::fs::read_to_string(&p).unwrap();
            if p.extension().unwrap() == "xml" {
                opi.push(text);
            } else {
                assert!(text.starts_with("ESERCIZIO;N.PROVV.;DATA ESEC.;ANAGRAFICA CLIENTE;DESCRIZIONE CAUSALE;IMPORTO PROVVISORIO;VALUTA ENTE\n"), "{text}");
            }
        }
    }
    assert!(!opi.is_empty());
    assert!(
        opi.iter()
            .any(|x| x.contains("/PUR/LGPE-RIVERSAMENTO/URI/"))
    );
    assert_valid(&xsd("opi/OPI_GIORNALE_DI_CASSA_V_1_6_1.XSD"), &opi);
}
