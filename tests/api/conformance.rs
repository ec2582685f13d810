//! Every message and document the gateway emits, over property-generated values: the round
//! trip (emit → parse) is the identity, and the emitted XML validates against the official
//! schema (xmllint). Text values include XML metacharacters and accented letters.

use crate::xsd::*;
use pagopa_gateway::model::flusso::{FlussoRiversamento, Istituto, PagamentoFlusso, TestataFlusso};
use pagopa_gateway::model::rpt::*;
use pagopa_gateway::model::{IdDominio, Importo, Iuv};
use pagopa_gateway::soap::new_model::*;
use pagopa_gateway::soap::sanp2::*;
use pagopa_gateway::soap::{
    FaultBean, FaultCode, NS_PPT, NS_PPTHEAD, read_envelope, write_envelope,
};
use pagopa_gateway::xml::Limits;
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::TestRunner;

const CASES: usize = 48;

/// Generates `CASES` values, checks `roundtrip(value, xml)` for each, then validates all
/// the XML against `schema` in one xmllint run.
fn check<T: std::fmt::Debug>(
    strategy: impl Strategy<Value = T>,
    emit: impl Fn(&T) -> String,
    roundtrip: impl Fn(&T, &str),
    schema: std::path::PathBuf,
) {
    let mut runner = TestRunner::deterministic();
    let mut docs = Vec::with_capacity(CASES);
    for _ in 0..CASES {
        let v = strategy.new_tree(&mut runner).unwrap().current();
        let xml = emit(&v);
        roundtrip(&v, &xml);
        docs.push(xml);
    }
    assert_valid(&schema, &docs);
}

// ---- value generators, within the schemas' facets ----

/// 1..=max characters, no leading/trailing space, with XML metacharacters and accents.
fn text(max: usize) -> BoxedStrategy<String> {
    let edge = "[A-Za-z0-9àèéìòù&<>\"']";
    let mid = "[A-Za-z0-9àèéìòù&<>\"' .,/-]";
    if max == 1 {
        return proptest::string::string_regex(edge).unwrap().boxed();
    }
    proptest::string::string_regex(&format!("{edge}({mid}{{0,{}}}{edge})?", max - 2))
        .unwrap()
        .boxed()
}

fn opt<T: std::fmt::Debug + Clone + 'static>(
    s: impl Strategy<Value = T> + 'static,
) -> BoxedStrategy<Option<T>> {
    proptest::option::of(s).boxed()
}

fn re(r: &str) -> BoxedStrategy<String> {
    proptest::string::string_regex(r).unwrap().boxed()
}

fn importo(min_cents: i64, max_cents: i64) -> BoxedStrategy<Importo> {
    (min_cents..=max_cents)
        .prop_map(|c| Importo::from_cents(c).unwrap())
        .boxed()
}

fn date() -> BoxedStrategy<time::Date> {
    (2000i32..2100, 1u8..=12, 1u8..=28)
        .prop_map(|(y, m, d)| {
            time::Date::from_calendar_date(y, time::Month::try_from(m).unwrap(), d).unwrap()
        })
        .boxed()
}

fn data_ora() -> BoxedStrategy<DataOra> {
    re("20[0-9]{2}-(0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\\.[0-9]{3})?(Z|\\+01:00)?").prop_map(|s| DataOra::parse(&s).unwrap()).boxed()
}

fn id_dominio() -> BoxedStrategy<IdDominio> {
    re("[0-9]{10}")
        .prop_map(|d| {
            let c = pagopa_gateway::model::codice_fiscale::numeric_check_digit(d.as_bytes());
            IdDominio::parse(&format!("{d}{c}")).unwrap()
        })
        .boxed()
}

fn iuv() -> BoxedStrategy<Iuv> {
    re("[A-Za-z0-9]{1,35}")
        .prop_map(|s| Iuv::parse(&s).unwrap())
        .boxed()
}

fn iban() -> BoxedStrategy<String> {
    re("IT[0-9]{2}[A-Z][0-9]{10}[A-Z0-9]{12}")
}

fn bic() -> BoxedStrategy<String> {
    re("[A-Z]{6}[A-Z2-9][A-NP-Z0-9]([A-Z0-9]{3})?")
}

fn identificativo(tipi: &'static [&'static str]) -> BoxedStrategy<IdentificativoUnivoco> {
    (proptest::sample::select(tipi), re("[A-Z0-9]{2,16}"))
        .prop_map(|(t, c)| IdentificativoUnivoco {
            tipo: t.to_owned(),
            codice: c,
        })
        .boxed()
}

fn soggetto() -> BoxedStrategy<Soggetto> {
    (
        identificativo(&["F", "G"]),
        text(70),
        opt(text(70)),
        opt(text(16)),
        opt(text(16)),
        opt(text(35)),
        opt(text(35)),
        opt(re("[A-Z]{2}")),
        opt(re("[a-z0-9._]{1,10}@[a-z0-9]{1,10}\\.it")),
    )
        .prop_map(
            |(
                identificativo,
                anagrafica,
                indirizzo,
                civico,
                cap,
                localita,
                provincia,
                nazione,
                email,
            )| Soggetto {
                identificativo,
                anagrafica,
                indirizzo,
                civico,
                cap,
                localita,
                provincia,
                nazione,
                email,
            },
        )
        .boxed()
}

fn ente(tipi: &'static [&'static str]) -> BoxedStrategy<Ente> {
    (
        identificativo(tipi),
        text(70),
        opt(text(35)),
        opt(text(70)),
        opt(text(70)),
        opt(text(16)),
        opt(text(16)),
        (opt(text(35)), opt(text(35)), opt(re("[A-Z]{2}"))),
    )
        .prop_map(
            |(
                identificativo,
                denominazione,
                codice_unit_oper,
                denom_unit_oper,
                indirizzo,
                civico,
                cap,
                (localita, provincia, nazione),
            )| Ente {
                identificativo,
                denominazione,
                codice_unit_oper,
                denom_unit_oper,
                indirizzo,
                civico,
                cap,
                localita,
                provincia,
                nazione,
            },
        )
        .boxed()
}

fn dsr() -> BoxedStrategy<String> {
    re("[0129]/[A-Za-z0-9./]{3,30}")
}

fn rpt() -> BoxedStrategy<Rpt> {
    let singolo = (
        importo(1, 99_999_999),
        opt(importo(1, 9_999)),
        opt(iban()),
        opt(bic()),
        opt(iban()),
        opt(bic()),
        opt(text(35)),
        text(140),
        dsr(),
        opt((
            re("[A-Z]{2}"),
            proptest::collection::vec(any::<u8>(), 32)
                .prop_map(|b| pagopa_gateway::xml::encode_base64(&b)),
        )),
    )
        .prop_map(
            |(
                importo,
                commissione_carico_pa,
                iban_accredito,
                bic_accredito,
                iban_appoggio,
                bic_appoggio,
                credenziali_pagatore,
                causale,
                dati_specifici_riscossione,
                mb,
            )| DatiSingoloVersamento {
                importo,
                commissione_carico_pa,
                iban_accredito,
                bic_accredito,
                iban_appoggio,
                bic_appoggio,
                credenziali_pagatore,
                causale,
                dati_specifici_riscossione,
                marca_bollo: mb.map(|(p, h)| MarcaBolloDigitale {
                    tipo_bollo: "01".into(),
                    hash_documento: h,
                    provincia_residenza: p,
                }),
            },
        );
    let versamento = (
        date(),
        proptest::sample::select(
            &[
                "BBT", "BP", "AD", "CP", "PO", "OBEP", "OTH", "JIF", "MYBK", "PPAL",
            ][..],
        ),
        iuv(),
        text(35),
        opt(iban()),
        opt(bic()),
        proptest::collection::vec(singolo, 1..=5),
    )
        .prop_map(
            |(data, tipo, iuv, ccp, iban_addebito, bic_addebito, singoli)| DatiVersamento {
                data_esecuzione_pagamento: data,
                importo_totale: singoli
                    .iter()
                    .fold(Importo::ZERO, |a, s| a.checked_add(s.importo).unwrap()),
                tipo_versamento: tipo.to_owned(),
                iuv,
                ccp,
                iban_addebito,
                bic_addebito,
                firma_ricevuta: "0".into(),
                dati_singolo_versamento: singoli,
            },
        );
    (
        id_dominio(),
        opt(text(35)),
        text(35),
        data_ora(),
        proptest::sample::select(&["CNS", "USR", "OTH", "N/A"][..]),
        opt(soggetto()),
        soggetto(),
        ente(&["G"]),
        versamento,
    )
        .prop_map(
            |(dom, stazione, idm, dataora, aut, versante, pagatore, beneficiario, dv)| Rpt {
                versione_oggetto: "6.2.0".into(),
                dominio: Dominio {
                    identificativo_dominio: dom,
                    identificativo_stazione_richiedente: stazione,
                },
                identificativo_messaggio_richiesta: idm,
                data_ora_messaggio_richiesta: dataora,
                autenticazione_soggetto: aut.to_owned(),
                soggetto_versante: versante,
                soggetto_pagatore: pagatore,
                ente_beneficiario: beneficiario,
                dati_versamento: dv,
            },
        )
        .boxed()
}

fn rt() -> BoxedStrategy<Rt> {
    let singolo = (
        importo(0, 99_999_999),
        opt(text(35)),
        date(),
        text(35),
        text(140),
        dsr(),
        opt(importo(0, 9_999)),
        opt(importo(1, 9_999)),
        opt((
            proptest::sample::select(&["ES", "BD"][..]),
            proptest::collection::vec(any::<u8>(), 1..60)
                .prop_map(|b| pagopa_gateway::xml::encode_base64(&b)),
        )),
    )
        .prop_map(
            |(importo, esito, data_esito, iur, causale, dsr, psp, pa, all)| DatiSingoloPagamento {
                indice: None,
                importo,
                esito,
                data_esito,
                iur,
                causale,
                dati_specifici_riscossione: dsr,
                commissioni_psp: psp,
                commissioni_pa: pa,
                allegato: all.map(|(t, x)| AllegatoRicevuta {
                    tipo: t.to_owned(),
                    testo: x,
                }),
            },
        );
    let pagamento = (
        0u8..=4,
        iuv(),
        text(35),
        proptest::collection::vec(singolo, 0..=5),
    )
        .prop_map(|(esito, iuv, ccp, singoli)| DatiPagamento {
            codice_esito: esito,
            importo_totale_pagato: singoli
                .iter()
                .fold(Importo::ZERO, |a, s| a.checked_add(s.importo).unwrap()),
            iuv,
            ccp,
            dati_singolo_pagamento: singoli,
        });
    (
        id_dominio(),
        text(35),
        data_ora(),
        text(35),
        date(),
        ente(&["G", "A", "B"]),
        ente(&["G"]),
        opt(soggetto()),
        soggetto(),
        pagamento,
    )
        .prop_map(
            |(
                dom,
                idr,
                dataora,
                rif,
                rifdata,
                attestante,
                beneficiario,
                versante,
                pagatore,
                dp,
            )| Rt {
                versione_oggetto: "6.2.0".into(),
                dominio: Dominio {
                    identificativo_dominio: dom,
                    identificativo_stazione_richiedente: None,
                },
                identificativo_messaggio_ricevuta: idr,
                data_ora_messaggio_ricevuta: dataora,
                riferimento_messaggio_richiesta: rif,
                riferimento_data_richiesta: rifdata,
                istituto_attestante: attestante,
                ente_beneficiario: beneficiario,
                soggetto_versante: versante,
                soggetto_pagatore: pagatore,
                dati_pagamento: dp,
            },
        )
        .boxed()
}

fn flusso(esiti: &'static [u8]) -> BoxedStrategy<FlussoRiversamento> {
    let pag = (
        iuv(),
        text(35),
        opt(1u8..=5),
        importo(1, 9_999_999),
        proptest::sample::select(esiti),
        date(),
    )
        .prop_map(
            |(iuv, iur, indice, importo, codice_esito, data_esito)| PagamentoFlusso {
                iuv,
                iur,
                indice,
                importo,
                codice_esito,
                data_esito,
            },
        );
    let ist = |tipi: &'static [&'static str], max: usize| {
        (
            identificativo(tipi),
            opt(re(&format!(
                "[A-Za-z][A-Za-z &<>]{{1,{}}}[A-Za-z]",
                max - 2
            ))),
        )
            .prop_map(|(identificativo, denominazione)| Istituto {
                identificativo,
                denominazione,
            })
    };
    (
        re("[a-zA-Z0-9_-]{1,35}"),
        data_ora(),
        text(35),
        date(),
        ist(&["G", "A", "B"], 70),
        opt(bic()),
        ist(&["G"], 140),
        proptest::collection::vec(pag, 1..40),
        any::<bool>(),
    )
        .prop_map(
            |(id, dataora, iur, datareg, mittente, bic, ricevente, pagamenti, sbagliato)| {
                let somma = pagamenti
                    .iter()
                    .fold(Importo::ZERO, |a, p| a.checked_add(p.importo).unwrap());
                FlussoRiversamento {
                    testata: TestataFlusso {
                        versione_oggetto: "1.0".into(),
                        identificativo_flusso: id,
                        data_ora_flusso: dataora,
                        identificativo_univoco_regolamento: iur,
                        data_regolamento: datareg,
                        istituto_mittente: mittente,
                        codice_bic_banca_di_riversamento: bic,
                        istituto_ricevente: ricevente,
                        // Some flows declare totals that do not add up: still schema-valid, reported.
                        numero_totale_pagamenti: pagamenti.len() as u64 + u64::from(sbagliato),
                        importo_totale_pagamenti: somma,
                    },
                    pagamenti,
                }
            },
        )
        .boxed()
}

fn fault() -> BoxedStrategy<FaultBean> {
    (
        proptest::sample::select(FaultCode::ALL),
        text(35),
        opt(text(100)),
        opt(0i32..5),
        opt(text(35)),
    )
        .prop_map(|(c, id, description, serial, original)| {
            let mut f = FaultBean::new(c, id, description);
            f.serial = serial;
            f.original_fault_code = original.clone();
            f.original_fault_string = original.clone();
            f.original_description = original;
            f
        })
        .boxed()
}

fn password() -> BoxedStrategy<String> {
    re("[A-Za-z0-9]{8,15}")
}

fn doc() -> BoxedStrategy<Base64Doc> {
    proptest::collection::vec(any::<u8>(), 1..200)
        .prop_map(Base64Doc)
        .boxed()
}

fn xsd_datetime() -> BoxedStrategy<String> {
    data_ora().prop_map(|d| d.as_str().to_owned()).boxed()
}

fn url() -> BoxedStrategy<String> {
    re("https://[a-z]{3,10}\\.it/[a-z0-9]{1,10}\\?idSession=[a-z0-9-]{8,36}")
}

// ---- the documents ----

#[test]
fn rpt_round_trips_and_validates_against_paginf_6_2_0() {
    check(
        rpt(),
        Rpt::to_xml,
        |v, x| assert_eq!(&Rpt::parse(x.as_bytes()).unwrap(), v, "{x}"),
        xsd("PagInf_RPT_RT_6_2_0.xsd"),
    );
}

#[test]
fn rt_round_trips_and_validates_against_paginf_6_2_0() {
    check(
        rt(),
        Rt::to_xml,
        |v, x| assert_eq!(&Rt::parse(x.as_bytes()).unwrap(), v, "{x}"),
        xsd("PagInf_RPT_RT_6_2_0.xsd"),
    );
}

#[test]
fn flusso_without_revoked_payments_validates_against_1_0_5() {
    check(
        flusso(&[0, 4, 8, 9]),
        FlussoRiversamento::to_xml,
        |v, x| assert_eq!(&FlussoRiversamento::parse(x.as_bytes()).unwrap(), v),
        xsd("FlussoRiversamento_1_0_5.xsd"),
    );
}

#[test]
fn flusso_round_trips_streaming_and_validates_against_1_0_4() {
    check(
        flusso(&[0, 3, 4, 8, 9]),
        FlussoRiversamento::to_xml,
        |v, x| {
            let parsed = FlussoRiversamento::parse(x.as_bytes()).unwrap();
            assert_eq!(&parsed, v, "{x}");
            let anomalie = parsed.testata.anomalie(&parsed.conteggi());
            assert_eq!(
                anomalie.is_empty(),
                v.testata.numero_totale_pagamenti == v.pagamenti.len() as u64,
                "{anomalie:?}"
            );
        },
        xsd("FlussoRiversamento_1_0_4.xsd"),
    );
}

// ---- SANP 2: headers, NodoPerPa requests and responses ----

#[test]
fn intestazioni_round_trip_and_validate() {
    let s = (text(35), text(35), text(35), text(35), text(35)).prop_map(|(a, b, c, d, e)| {
        IntestazionePPT {
            id_intermediario_pa: a,
            id_stazione: b,
            id_dominio: c,
            iuv: d,
            ccp: e,
        }
    });
    check(
        s,
        IntestazionePPT::write,
        |v, x| assert_eq!(&IntestazionePPT::parse(x).unwrap(), v),
        wsdl_schema("NodoPerPa.wsdl", NS_PPTHEAD),
    );
    let s = (text(35), text(35), re("[A-Za-z0-9-]{1,35}")).prop_map(|(a, b, c)| {
        IntestazioneCarrelloPPT {
            id_intermediario_pa: a,
            id_stazione: b,
            id_carrello: c,
        }
    });
    check(
        s,
        IntestazioneCarrelloPPT::write,
        |v, x| assert_eq!(&IntestazioneCarrelloPPT::parse(x).unwrap(), v),
        wsdl_schema("NodoPerPa.wsdl", NS_PPTHEAD),
    );
}

#[test]
fn nodo_invia_rpt_and_carrello_round_trip_and_validate() {
    let schema = || wsdl_schema("NodoPerPa.wsdl", NS_PPT);
    let s = (
        password(),
        text(35),
        text(35),
        text(35),
        opt(text(10)),
        doc(),
    )
        .prop_map(
            |(password, id_psp, id_intermediario_psp, id_canale, tipo_firma, rpt)| NodoInviaRPT {
                password,
                id_psp,
                id_intermediario_psp,
                id_canale,
                tipo_firma,
                rpt,
            },
        );
    check(
        s,
        NodoInviaRPT::write,
        |v, x| assert_eq!(&NodoInviaRPT::parse(x).unwrap(), v),
        schema(),
    );
    let s = (
        opt(fault()),
        proptest::sample::select(&[Esito::OK, Esito::KO][..]),
        opt(0u8..=1),
        opt(url()),
    )
        .prop_map(|(fault, esito, redirect, url)| NodoInviaRPTRisposta {
            fault,
            esito,
            redirect,
            url,
        });
    check(
        s,
        NodoInviaRPTRisposta::write,
        |v, x| assert_eq!(&NodoInviaRPTRisposta::parse(x).unwrap(), v),
        schema(),
    );
    let el = (text(35), text(35), text(35), opt(text(10)), doc()).prop_map(
        |(id_dominio, iuv, ccp, tipo_firma, rpt)| ElementoListaRPT {
            id_dominio,
            iuv,
            ccp,
            tipo_firma,
            rpt,
        },
    );
    let s = (
        password(),
        text(35),
        text(35),
        text(35),
        proptest::collection::vec(el, 1..=5),
        opt(0u8..=1),
        opt(re("[A-Z0-9]{5,35}")),
        opt(any::<bool>()),
    )
        .prop_map(
            |(
                password,
                id_psp,
                id_intermediario_psp,
                id_canale,
                lista_rpt,
                require_light_payment,
                codice_convenzione,
                multi_beneficiario,
            )| NodoInviaCarrelloRPT {
                password,
                id_psp,
                id_intermediario_psp,
                id_canale,
                lista_rpt,
                require_light_payment,
                codice_convenzione,
                multi_beneficiario,
            },
        );
    check(
        s,
        NodoInviaCarrelloRPT::write,
        |v, x| assert_eq!(&NodoInviaCarrelloRPT::parse(x).unwrap(), v),
        schema(),
    );
    let s = (
        opt(fault()),
        proptest::sample::select(&[Esito::OK, Esito::KO][..]),
        opt(url()),
        opt(proptest::collection::vec(fault(), 1..4)),
    )
        .prop_map(|(fault, esito, url, errs)| NodoInviaCarrelloRPTRisposta {
            fault,
            esito,
            url,
            lista_errori: errs.map(|faults| ListaErroriRPT { faults }),
        });
    check(
        s,
        NodoInviaCarrelloRPTRisposta::write,
        |v, x| assert_eq!(&NodoInviaCarrelloRPTRisposta::parse(x).unwrap(), v),
        schema(),
    );
}

#[test]
fn nodo_stato_copia_and_pendenti_round_trip_and_validate() {
    let schema = || wsdl_schema("NodoPerPa.wsdl", NS_PPT);
    let req = || {
        (text(35), text(35), password(), text(35), text(35), text(35)).prop_map(
            |(a, b, password, d, iuv, ccp)| RichiestaRPT {
                id_intermediario_pa: a,
                id_stazione: b,
                password,
                id_dominio: d,
                iuv,
                ccp,
            },
        )
    };
    for op in ["nodoChiediStatoRPT", "nodoChiediCopiaRT"] {
        check(
            req(),
            |v| v.write(op),
            |v, x| assert_eq!(&RichiestaRPT::parse(op, x).unwrap(), v),
            schema(),
        );
    }
    let storico = (xsd_datetime(), text(35), text(60)).prop_map(|(data, stato, descrizione)| {
        ElementoStorico {
            data,
            stato,
            descrizione,
        }
    });
    let storico_v = (1i32..6, xsd_datetime(), text(35), text(60)).prop_map(
        |(progressivo, data, stato, descrizione)| ElementoStoricoVersamento {
            progressivo,
            data,
            stato,
            descrizione,
        },
    );
    let esito = (
        text(35),
        opt(0u8..=1),
        opt(url()),
        proptest::collection::vec(storico, 0..3),
        proptest::collection::vec(storico_v, 0..3),
    )
        .prop_map(|(stato, redirect, url, storico_rpt, storico_versamento)| {
            EsitoChiediStatoRPT {
                stato,
                redirect,
                url,
                storico_rpt,
                storico_versamento,
            }
        });
    let s = (opt(fault()), esito).prop_map(|(fault, esito)| NodoChiediStatoRPTRisposta {
        fault,
        esito: Some(esito),
    });
    check(
        s,
        NodoChiediStatoRPTRisposta::write,
        |v, x| assert_eq!(&NodoChiediStatoRPTRisposta::parse(x).unwrap(), v),
        schema(),
    );
    let s = (opt(fault()), opt(text(10)), opt(doc())).prop_map(|(fault, tipo_firma, rt)| {
        NodoChiediCopiaRTRisposta {
            fault,
            tipo_firma,
            rt,
        }
    });
    check(
        s,
        NodoChiediCopiaRTRisposta::write,
        |v, x| assert_eq!(&NodoChiediCopiaRTRisposta::parse(x).unwrap(), v),
        schema(),
    );
    let s = (
        text(35),
        text(35),
        password(),
        opt(text(35)),
        opt(xsd_datetime()),
        opt(xsd_datetime()),
        1u32..1000,
    )
        .prop_map(
            |(a, b, password, id_dominio, range_da, range_a, dimensione_lista)| {
                NodoChiediListaPendentiRPT {
                    id_intermediario_pa: a,
                    id_stazione: b,
                    password,
                    id_dominio,
                    range_da,
                    range_a,
                    dimensione_lista,
                }
            },
        );
    check(
        s,
        NodoChiediListaPendentiRPT::write,
        |v, x| assert_eq!(&NodoChiediListaPendentiRPT::parse(x).unwrap(), v),
        schema(),
    );
    let p = (text(35), text(35), text(35), text(35)).prop_map(|(id_dominio, iuv, ccp, stato)| {
        RptPendente {
            id_dominio,
            iuv,
            ccp,
            stato,
        }
    });
    let s = (opt(fault()), opt(proptest::collection::vec(p, 0..4))).prop_map(|(fault, l)| {
        NodoChiediListaPendentiRPTRisposta {
            fault,
            lista: l.map(|rpt| ListaRPTPendenti {
                tot_restituiti: Some(rpt.len() as u32),
                rpt,
            }),
        }
    });
    check(
        s,
        NodoChiediListaPendentiRPTRisposta::write,
        |v, x| assert_eq!(&NodoChiediListaPendentiRPTRisposta::parse(x).unwrap(), v),
        schema(),
    );
}

#[test]
fn rendicontazione_requests_and_responses_round_trip_and_validate() {
    let schema = || wsdl_schema("NodoPerPa.wsdl", NS_PPT);
    let s = (text(35), text(35), password(), opt(text(35)), opt(text(35))).prop_map(
        |(a, b, password, id_dominio, id_psp)| NodoChiediElencoFlussiRendicontazione {
            id_intermediario_pa: a,
            id_stazione: b,
            password,
            id_dominio,
            id_psp,
        },
    );
    check(
        s,
        NodoChiediElencoFlussiRendicontazione::write,
        |v, x| assert_eq!(&NodoChiediElencoFlussiRendicontazione::parse(x).unwrap(), v),
        schema(),
    );
    let id = (re("[a-zA-Z0-9_-]{1,35}"), xsd_datetime()).prop_map(
        |(identificativo_flusso, data_ora_flusso)| IdRendicontazione {
            identificativo_flusso,
            data_ora_flusso,
        },
    );
    let s = (opt(fault()), opt(proptest::collection::vec(id, 0..5))).prop_map(|(fault, l)| {
        NodoChiediElencoFlussiRendicontazioneRisposta {
            fault,
            elenco: l.map(|flussi| ElencoFlussiRendicontazione {
                tot_restituiti: Some(flussi.len() as u32),
                flussi,
            }),
        }
    });
    check(
        s,
        NodoChiediElencoFlussiRendicontazioneRisposta::write,
        |v, x| {
            assert_eq!(
                &NodoChiediElencoFlussiRendicontazioneRisposta::parse(x).unwrap(),
                v
            )
        },
        schema(),
    );
    let s = (
        text(35),
        text(35),
        password(),
        opt(text(35)),
        opt(text(35)),
        re("[a-zA-Z0-9_-]{1,35}"),
    )
        .prop_map(|(a, b, password, id_dominio, id_psp, id_flusso)| {
            NodoChiediFlussoRendicontazione {
                id_intermediario_pa: a,
                id_stazione: b,
                password,
                id_dominio,
                id_psp,
                id_flusso,
            }
        });
    check(
        s,
        NodoChiediFlussoRendicontazione::write,
        |v, x| assert_eq!(&NodoChiediFlussoRendicontazione::parse(x).unwrap(), v),
        schema(),
    );
    let s = (opt(fault()), opt(doc())).prop_map(|(fault, xml_rendicontazione)| {
        NodoChiediFlussoRendicontazioneRisposta {
            fault,
            xml_rendicontazione,
        }
    });
    check(
        s,
        NodoChiediFlussoRendicontazioneRisposta::write,
        |v, x| {
            assert_eq!(
                &NodoChiediFlussoRendicontazioneRisposta::parse(x).unwrap(),
                v
            )
        },
        schema(),
    );
}

// ---- SANP 2: what the Nodo calls on the EC ----

fn dati_pagamento_pa() -> BoxedStrategy<DatiPagamentoPA> {
    let spezzone = prop_oneof![
        text(35).prop_map(Spezzone::Testo),
        (text(25), importo(1, 999_999)).prop_map(|(causale, importo)| Spezzone::Strutturato(
            SpezzoneStrutturato { causale, importo }
        )),
    ];
    (
        importo(1, 99_999_999),
        iban(),
        opt(bic()),
        opt(ente(&["G"])),
        opt(text(35)),
        prop_oneof![
            text(140).prop_map(|c| (Some(c), None)),
            proptest::collection::vec(spezzone, 1..=6)
                .prop_map(|items| (None, Some(Spezzoni { items })))
        ],
    )
        .prop_map(
            |(
                importo,
                iban_accredito,
                bic_accredito,
                ente_beneficiario,
                credenziali_pagatore,
                (causale, spezzoni),
            )| DatiPagamentoPA {
                importo,
                iban_accredito,
                bic_accredito,
                ente_beneficiario,
                credenziali_pagatore,
                causale,
                spezzoni,
            },
        )
        .boxed()
}

#[test]
fn paa_verifica_and_attiva_round_trip_and_validate() {
    let schema = || wsdl_schema("PaPerNodoPagamentoPsp.wsdl", NS_PPT);
    check(
        text(35).prop_map(|id_psp| PaaVerificaRPT { id_psp }),
        PaaVerificaRPT::write,
        |v, x| assert_eq!(&PaaVerificaRPT::parse(x).unwrap(), v),
        schema(),
    );
    let esito = prop_oneof![
        dati_pagamento_pa().prop_map(EsitoPaa::ok),
        fault().prop_map(EsitoPaa::ko)
    ];
    check(
        esito.clone(),
        |v| v.write("paaVerificaRPTRisposta"),
        |v, x| assert_eq!(&EsitoPaa::parse_verifica(x).unwrap(), v, "{x}"),
        schema(),
    );
    check(
        esito,
        |v| v.write("paaAttivaRPTRisposta"),
        |v, x| assert_eq!(&EsitoPaa::parse_attiva(x).unwrap(), v, "{x}"),
        schema(),
    );
    let psp = (
        importo(1, 99_999_999),
        opt(iban()),
        opt(bic()),
        opt(soggetto()),
        opt(iban()),
        opt(bic()),
        opt(soggetto()),
    )
        .prop_map(
            |(
                importo,
                iban_appoggio,
                bic_appoggio,
                soggetto_versante,
                iban_addebito,
                bic_addebito,
                soggetto_pagatore,
            )| DatiPagamentoPSP {
                importo,
                iban_appoggio,
                bic_appoggio,
                soggetto_versante,
                iban_addebito,
                bic_addebito,
                soggetto_pagatore,
            },
        );
    let s = (text(35), psp, text(35), text(35)).prop_map(
        |(id_psp, dati_pagamento_psp, id_intermediario_psp, id_canale_psp)| PaaAttivaRPT {
            id_psp,
            dati_pagamento_psp,
            id_intermediario_psp,
            id_canale_psp,
        },
    );
    check(
        s,
        PaaAttivaRPT::write,
        |v, x| assert_eq!(&PaaAttivaRPT::parse(x).unwrap(), v),
        schema(),
    );
}

#[test]
fn paa_invia_rt_round_trips_and_validates() {
    let schema = || wsdl_schema("PaPerNodo.wsdl", NS_PPT);
    let s = (opt(re("[0-9]")), doc()).prop_map(|(tipo_firma, rt)| PaaInviaRT { tipo_firma, rt });
    check(
        s,
        PaaInviaRT::write,
        |v, x| assert_eq!(&PaaInviaRT::parse(x).unwrap(), v),
        schema(),
    );
    let s = prop_oneof![
        Just(EsitoPaaInviaRT {
            fault: None,
            esito: Esito::OK
        }),
        fault().prop_map(|f| EsitoPaaInviaRT {
            fault: Some(f),
            esito: Esito::KO
        })
    ];
    check(
        s,
        EsitoPaaInviaRT::write,
        |v, x| assert_eq!(&EsitoPaaInviaRT::parse(x).unwrap(), v),
        schema(),
    );
}

// ---- new model ----

fn subject() -> BoxedStrategy<Subject> {
    (
        (
            proptest::sample::select(&["F", "G"][..]),
            re("[A-Z0-9]{2,16}"),
        ),
        text(70),
        opt(text(70)),
        opt(text(16)),
        opt(text(16)),
        opt(text(35)),
        opt(text(35)),
        opt(re("[A-Z]{2}")),
        opt(re("[a-z0-9._]{1,10}@[a-z0-9]{1,10}\\.it")),
    )
        .prop_map(
            |(
                (t, v),
                full_name,
                street_name,
                civic_number,
                postal_code,
                city,
                state_province_region,
                country,
                email,
            )| Subject {
                unique_identifier: UniqueIdentifier {
                    tipo: t.to_owned(),
                    value: v,
                },
                full_name,
                street_name,
                civic_number,
                postal_code,
                city,
                state_province_region,
                country,
                email,
            },
        )
        .boxed()
}

#[derive(Clone, Copy, PartialEq)]
enum TransferKind {
    V1,
    V2Payment,
    V2Receipt,
}

fn transfers(kind: TransferKind) -> BoxedStrategy<TransferList> {
    let b64 = |n: std::ops::Range<usize>| {
        proptest::collection::vec(any::<u8>(), n)
            .prop_map(|b| pagopa_gateway::xml::encode_base64(&b))
    };
    let bollo = (b64(32..33), re("[A-Z]{2}")).prop_map(|(h, p)| RichiestaMarcaDaBollo {
        hash_documento: h,
        tipo_bollo: "01".into(),
        provincia_residenza: p,
    });
    // (iban, marca da bollo, MBD attachment): exactly one, as the version allows.
    let dest = match kind {
        TransferKind::V1 => iban().prop_map(|i| (Some(i), None, None)).boxed(),
        TransferKind::V2Payment => prop_oneof![
            iban().prop_map(|i| (Some(i), None, None)),
            bollo.prop_map(|m| (None, Some(m), None))
        ]
        .boxed(),
        TransferKind::V2Receipt => prop_oneof![
            iban().prop_map(|i| (Some(i), None, None)),
            b64(1..100).prop_map(|a| (None, None, Some(a)))
        ]
        .boxed(),
    };
    let company = if kind == TransferKind::V1 {
        Just(None).boxed()
    } else {
        opt(text(140))
    };
    proptest::collection::vec(
        (
            importo(1, 9_999_999),
            re("[0-9]{11}"),
            company,
            dest,
            text(140),
            text(140),
        ),
        1..=5,
    )
    .prop_map(|ts| TransferList {
        transfers: ts
            .into_iter()
            .enumerate()
            .map(
                |(
                    i,
                    (
                        amount,
                        fiscal_code_pa,
                        company_name,
                        (iban, richiesta_marca_da_bollo, mbd_attachment),
                        remittance_information,
                        transfer_category,
                    ),
                )| Transfer {
                    id_transfer: i as u8 + 1,
                    amount,
                    fiscal_code_pa,
                    company_name,
                    iban,
                    richiesta_marca_da_bollo,
                    mbd_attachment,
                    remittance_information,
                    transfer_category,
                },
            )
            .collect(),
    })
    .boxed()
}

fn nm_fault() -> BoxedStrategy<FaultBean> {
    // common:stFaultCode is a free string; keep the catalogue's codes.
    fault()
}

#[test]
fn new_model_messages_round_trip_and_validate() {
    let qr = || {
        (re("[0-9]{11}"), re("[0-9]{18}")).prop_map(|(fiscal_code, notice_number)| QrCode {
            fiscal_code,
            notice_number,
        })
    };
    let s = (text(35), text(35), text(35), qr()).prop_map(
        |(id_pa, id_broker_pa, id_station, qr_code)| PaVerifyPaymentNoticeReq {
            id_pa,
            id_broker_pa,
            id_station,
            qr_code,
        },
    );
    check(
        s,
        PaVerifyPaymentNoticeReq::write,
        |v, x| assert_eq!(&PaVerifyPaymentNoticeReq::parse(x).unwrap(), v),
        new_model_xsd(),
    );
    let option = (
        importo(1, 99_999_999),
        proptest::sample::select(&["EQ", "LS", "GT", "ANY"][..]),
        opt(date()),
        opt(text(140)),
        any::<bool>(),
    )
        .prop_map(|(amount, options, due, detail_description, all_ccp)| {
            PaymentOptionDescription {
                amount,
                options: options.to_owned(),
                due_date: due.map(|d| d.to_string()),
                detail_description,
                all_ccp,
            }
        });
    let s = prop_oneof![
        (
            option,
            opt(text(140)),
            opt(re("[0-9]{11}")),
            opt(text(140)),
            opt(text(140))
        )
            .prop_map(
                |(o, payment_description, fiscal_code_pa, company_name, office_name)| {
                    PaVerifyPaymentNoticeRes {
                        outcome: Outcome::OK,
                        fault: None,
                        payment_list: Some(PaymentList { option: o }),
                        payment_description,
                        fiscal_code_pa,
                        company_name,
                        office_name,
                    }
                }
            ),
        nm_fault().prop_map(|f| PaVerifyPaymentNoticeRes {
            outcome: Outcome::KO,
            fault: Some(f),
            payment_list: None,
            payment_description: None,
            fiscal_code_pa: None,
            company_name: None,
            office_name: None
        }),
    ];
    check(
        s,
        PaVerifyPaymentNoticeRes::write,
        |v, x| assert_eq!(&PaVerifyPaymentNoticeRes::parse(x).unwrap(), v),
        new_model_xsd(),
    );
    let s = (
        text(35),
        text(35),
        text(35),
        qr(),
        opt(importo(0, 99_999_999)),
        opt(text(210)),
        opt(proptest::sample::select(&["POSTAL", "PAGOPA"][..])),
        opt(date()),
    )
        .prop_map(
            |(id_pa, id_broker_pa, id_station, qr_code, amount, payment_note, t, due)| {
                PaGetPaymentReq {
                    id_pa,
                    id_broker_pa,
                    id_station,
                    qr_code,
                    amount,
                    payment_note,
                    transfer_type: t.map(str::to_owned),
                    due_date: due.map(|d| d.to_string()),
                }
            },
        );
    check(
        s.clone(),
        PaGetPaymentReq::write,
        |v, x| assert_eq!(&PaGetPaymentReq::parse(x).unwrap(), v),
        new_model_xsd(),
    );
    check(
        s,
        PaGetPaymentReq::write_v2,
        |v, x| assert_eq!(&PaGetPaymentReq::parse(x).unwrap(), v),
        new_model_xsd(),
    );
    for v2 in [false, true] {
        let data = (
            text(35),
            importo(1, 99_999_999),
            date(),
            opt(xsd_datetime()),
            opt(any::<bool>()),
            text(140),
            if v2 {
                text(140).prop_map(Some).boxed()
            } else {
                opt(text(140))
            },
            opt(text(140)),
            subject(),
            transfers(if v2 {
                TransferKind::V2Payment
            } else {
                TransferKind::V1
            }),
        )
            .prop_map(
                |(
                    creditor_reference_id,
                    payment_amount,
                    due,
                    retention_date,
                    last_payment,
                    description,
                    company_name,
                    office_name,
                    debtor,
                    transfer_list,
                )| PaymentPA {
                    creditor_reference_id,
                    payment_amount,
                    due_date: due.to_string(),
                    retention_date,
                    last_payment,
                    description,
                    company_name,
                    office_name,
                    debtor,
                    transfer_list,
                },
            );
        let s = prop_oneof![
            data.prop_map(|d| PaGetPaymentRes {
                outcome: Outcome::OK,
                fault: None,
                data: Some(d)
            }),
            nm_fault().prop_map(|f| PaGetPaymentRes {
                outcome: Outcome::KO,
                fault: Some(f),
                data: None
            }),
        ];
        check(
            s,
            move |v: &PaGetPaymentRes| if v2 { v.write_v2() } else { v.write() },
            |v, x| assert_eq!(&PaGetPaymentRes::parse(x).unwrap(), v),
            new_model_xsd(),
        );
        let receipt = (
            (
                text(35),
                re("[0-9]{18}"),
                re("[0-9]{11}"),
                proptest::sample::select(&[Outcome::OK, Outcome::KO][..]),
                text(35),
                importo(0, 99_999_999),
                text(140),
                text(140),
                opt(text(140)),
            ),
            (
                subject(),
                transfers(if v2 {
                    TransferKind::V2Receipt
                } else {
                    TransferKind::V1
                }),
                text(35),
                opt(text(70)),
                opt(re("[0-9]{11}")),
                text(70),
                text(35),
                text(35),
            ),
            (
                opt(subject()),
                opt(text(35)),
                opt(importo(0, 9_999)),
                opt(xsd_datetime()),
                opt(date()),
                opt(date()),
                opt(any::<bool>()),
            ),
            if v2 {
                (
                    opt(text(210)),
                    opt(importo(0, 9_999)),
                    opt(text(70)),
                    opt(text(70)),
                )
                    .boxed()
            } else {
                Just((None, None, None, None)).boxed()
            },
        )
            .prop_map(
                |(
                    (
                        receipt_id,
                        notice_number,
                        fiscal_code,
                        outcome,
                        creditor_reference_id,
                        payment_amount,
                        description,
                        company_name,
                        office_name,
                    ),
                    (
                        debtor,
                        transfer_list,
                        id_psp,
                        psp_fiscal_code,
                        psp_partita_iva,
                        psp_company_name,
                        id_channel,
                        channel_description,
                    ),
                    (
                        payer,
                        payment_method,
                        fee,
                        payment_date_time,
                        application_date,
                        transfer_date,
                        stand_in,
                    ),
                    (payment_note, primary_ci_incurred_fee, id_bundle, id_ci_bundle),
                )| Receipt {
                    receipt_id,
                    notice_number,
                    fiscal_code,
                    outcome,
                    creditor_reference_id,
                    payment_amount,
                    description,
                    company_name,
                    office_name,
                    debtor,
                    transfer_list,
                    id_psp,
                    psp_fiscal_code,
                    psp_partita_iva,
                    psp_company_name,
                    id_channel,
                    channel_description,
                    payer,
                    payment_method,
                    payment_note,
                    fee,
                    primary_ci_incurred_fee,
                    id_bundle,
                    id_ci_bundle,
                    payment_date_time,
                    application_date: application_date.map(|d| d.to_string()),
                    transfer_date: transfer_date.map(|d| d.to_string()),
                    stand_in,
                },
            );
        let s = (text(35), text(35), text(35), receipt).prop_map(
            |(id_pa, id_broker_pa, id_station, receipt)| PaSendRTReq {
                id_pa,
                id_broker_pa,
                id_station,
                receipt,
            },
        );
        check(
            s,
            move |v: &PaSendRTReq| if v2 { v.write_v2() } else { v.write() },
            |v, x| assert_eq!(&PaSendRTReq::parse(x).unwrap(), v),
            new_model_xsd(),
        );
        let s = prop_oneof![
            Just(PaSendRTRes {
                outcome: Outcome::OK,
                fault: None
            }),
            nm_fault().prop_map(|f| PaSendRTRes {
                outcome: Outcome::KO,
                fault: Some(f)
            })
        ];
        check(
            s,
            move |v: &PaSendRTRes| if v2 { v.write_v2() } else { v.write() },
            |v, x| assert_eq!(&PaSendRTRes::parse(x).unwrap(), v),
            new_model_xsd(),
        );
    }
}

#[test]
fn envelopes_validate_against_the_soap_1_1_schema_and_read_back() {
    let header = IntestazionePPT {
        id_intermediario_pa: "80012345676".into(),
        id_stazione: "80012345676_01".into(),
        id_dominio: "80007580279".into(),
        iuv: "01000000000000144".into(),
        ccp: "abc".into(),
    };
    let body = PaaVerificaRPT {
        id_psp: "PSP<&>".into(),
    }
    .write();
    let env = write_envelope(Some(&header.write()), &body);
    assert_valid(&xsd("envelope.xsd"), std::slice::from_ref(&env));
    let e = read_envelope(env.as_bytes(), Limits::MESSAGE).unwrap();
    assert_eq!(e.body.xml, body);
    assert_eq!(
        IntestazionePPT::parse(e.header(NS_PPTHEAD, "intestazionePPT").unwrap().xml).unwrap(),
        header
    );
    assert_eq!(PaaVerificaRPT::parse(e.body.xml).unwrap().id_psp, "PSP<&>");
}
