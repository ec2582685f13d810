//! Reporting-flow parsing speed: our streaming parser against `xmllint --stream` (libxml2's
//! streaming reader, no validation) on the same generated 100,000-payment FlussoRiversamento,
//! in the same run. Prints the ratio of throughputs (goal: ours ≥ 1.5× xmllint).
//!
//! `cargo bench --bench flusso`

use criterion::{Criterion, Throughput};
use pagopa_gateway::model::flusso::{
    FlussoRiversamento, Istituto, PagamentoFlusso, TestataFlusso, parse_stream,
};
use pagopa_gateway::model::rpt::{DataOra, IdentificativoUnivoco};
use pagopa_gateway::model::{Importo, Iuv};
use std::io::BufReader;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

const PAYMENTS: usize = 100_000;

fn generate(path: &Path, payments: usize) -> u64 {
    let day = time::Date::from_calendar_date(2026, time::Month::November, 27).unwrap();
    let pagamenti: Vec<PagamentoFlusso> = (0..payments)
        .map(|i| PagamentoFlusso {
            iuv: Iuv::parse(&format!("01{:013}{:02}", i, i % 93)).unwrap(),
            iur: format!("IUR{i:012}"),
            indice: Some(1),
            importo: Importo::from_cents(1_000 + (i as i64 % 50_000)).unwrap(),
            codice_esito: 0,
            data_esito: day,
        })
        .collect();
    let somma = pagamenti
        .iter()
        .fold(Importo::ZERO, |a, p| a.checked_add(p.importo).unwrap());
    let f = FlussoRiversamento {
        testata: TestataFlusso {
            versione_oggetto: "1.0".into(),
            identificativo_flusso: "2026-11-27ABCDITMMXXX-S000000001".into(),
            data_ora_flusso: DataOra::parse("2026-11-28T06:00:00").unwrap(),
            identificativo_univoco_regolamento: "TRN0000000000000001".into(),
            data_regolamento: day,
            istituto_mittente: Istituto {
                identificativo: IdentificativoUnivoco {
                    tipo: "B".into(),
                    codice: "ABCDITMMXXX".into(),
                },
                denominazione: Some("Banca di prova".into()),
            },
            codice_bic_banca_di_riversamento: None,
            istituto_ricevente: Istituto {
                identificativo: IdentificativoUnivoco {
                    tipo: "G".into(),
                    codice: "80007580279".into(),
                },
                denominazione: Some("Comune di prova".into()),
            },
            numero_totale_pagamenti: payments as u64,
            importo_totale_pagamenti: somma,
        },
        pagamenti,
    };
    let xml = f.to_xml();
    std::fs::write(path, &xml).unwrap();
    xml.len() as u64
}

fn ours(path: &Path, payments: usize) -> u64 {
    let file = std::fs::File::open(path).unwrap();
    let (_, c) = parse_stream(BufReader::with_capacity(64 * 1024, file), u64::MAX, |p| {
        std::hint::black_box(p);
        Ok(())
    })
    .unwrap();
    assert_eq!(c.pagamenti, payments as u64);
    c.pagamenti
}

/// A reference point: quick-xml's borrowing tokenizer alone (what the reader was built on
/// until it had its own) over the whole file read into memory (the fastest way quick-xml reads), every event read and
/// dropped (no names matched, no text kept, nothing checked).
fn tokenizer(path: &Path) -> u64 {
    let bytes = std::fs::read(path).unwrap();
    let mut r = quick_xml::Reader::from_reader(&bytes[..]);
    let mut events = 0u64;
    loop {
        match r.read_event().unwrap() {
            quick_xml::events::Event::Eof => break,
            e => {
                std::hint::black_box(&e);
                events += 1;
            }
        }
    }
    events
}

fn xmllint(path: &Path) {
    let st = Command::new("xmllint")
        .args(["--stream", "--noout"])
        .arg(path)
        .status()
        .expect("xmllint installed");
    assert!(st.success());
}

fn best_of(n: usize, mut f: impl FnMut()) -> Duration {
    (0..n)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed()
        })
        .min()
        .unwrap()
}

fn main() {
    // `cargo test --all-targets` runs benches without `--bench`: then a quick smoke run only.
    let measuring = std::env::args().any(|a| a == "--bench");
    let payments = if measuring { PAYMENTS } else { 1_000 };
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("flusso.xml");
    let bytes = generate(&path, payments);
    let mb = bytes as f64 / 1e6;

    let mut c = Criterion::default()
        .sample_size(10)
        .measurement_time(Duration::from_secs(8))
        .configure_from_args();
    let mut g = c.benchmark_group("flusso_100k");
    g.throughput(Throughput::Bytes(bytes));
    g.bench_function("pagopa_gateway_parse_stream", |b| {
        b.iter(|| ours(&path, payments))
    });
    g.bench_function("xmllint_stream", |b| b.iter(|| xmllint(&path)));
    g.finish();

    if !measuring {
        return;
    }
    // The ratio, from best-of-5 wall times measured back to back in this run.
    let t_ours = best_of(5, || {
        ours(&path, payments);
    });
    let t_lint = best_of(5, || xmllint(&path));
    let t_tok = best_of(5, || {
        tokenizer(&path);
    });
    let mbs_tok = mb / t_tok.as_secs_f64();
    let (mbs_ours, mbs_lint) = (mb / t_ours.as_secs_f64(), mb / t_lint.as_secs_f64());
    println!(
        "flusso 100k payments, {mb:.1} MB: pagopa-gateway {mbs_ours:.0} MB/s ({t_ours:?}), xmllint --stream {mbs_lint:.0} MB/s ({t_lint:?})"
    );
    println!(
        "ratio pagopa-gateway / xmllint --stream = {:.2}x (goal >= 1.5x)",
        mbs_ours / mbs_lint
    );
    println!(
        "quick-xml tokenizer alone {mbs_tok:.0} MB/s: pagopa-gateway reads at {:.2} of it (goal >= 700 MB/s)",
        mbs_ours / mbs_tok
    );
    c.final_summary();
}
