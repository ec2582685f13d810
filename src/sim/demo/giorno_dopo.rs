//! Day X+1: the reporting flows read from FdR (and the lost receipt they report recovered
//! from Biz Events), the treasurer's journal, the first MyPivot reconciliation, statistics and
//! the receipts e-mailed.

use super::nuovo_modello::Ricevute;
use super::{ASL, COMUNE, Check, Demo, UNIONE, count_files, until};
use crate::model::Importo;

pub(super) async fn riconciliazione(demo: &Demo, c: &mut Check, r: Ricevute) -> anyhow::Result<()> {
    let store = &demo.store;
    let sim = &demo.sim;
    let today = demo.today;
    let data = &demo.data;
    let Ricevute {
        consegnate: mut nuovo_modello,
        persa: ricevuta_persa,
    } = r;
    println!("Day X+1");
    let flussi = sim.genera_flussi(today);
    for ente in [COMUNE, ASL, UNIONE] {
        store
            .outbox()
            .enqueue_payload(crate::model::TipoJob::Flussi.as_str(), None, ente)
            .await?;
    }
    let ok = until(15, async || {
        store
            .riconciliazione()
            .list_flussi(None, None, 1, 0)
            .await
            .is_ok_and(|(_, n)| n as usize == flussi)
    })
    .await;
    let (rows, _) = store
        .riconciliazione()
        .list_flussi(None, None, 100, 0)
        .await?;
    let acquisiti = rows
        .iter()
        .filter(|f| f.stato == crate::model::StatoFlusso::Acquisito)
        .count();
    c.record(
        "flussi di rendicontazione letti da FdR REST (elenco, flusso, pagamenti)",
        ok && acquisiti == flussi && flussi > 0,
        format!("{flussi} generati, {acquisiti} acquisiti"),
    );
    // The lost receipt, reported by its flow, recovered from Biz Events and applied.
    let ok = ricevuta_persa.is_some() && demo.paid(&[(COMUNE, "AVVISO-NM-PERSO")]).await;
    c.record(
        "nuovo modello: ricevuta persa recuperata da Biz Events (riportata dal flusso)",
        ok,
        "",
    );
    if let Some(id) = ricevuta_persa {
        nuovo_modello.push((COMUNE, id));
    }
    // The treasurer's journal of the same money, with one transfer missing and one line
    // that matches nothing (what reconciliation must flag).
    {
        let mut f = sim.faults.lock().expect("lock");
        f.treasury_missing_transfer = true;
        f.treasury_unmatched_line = true;
    }
    let giornale = sim.genera_tesoreria(today);
    let dir = data.join("tesoreria");
    let mut scritti = Vec::new();
    for (dom, movimenti) in &giornale {
        let ente = store.registro().get_ente(dom).await?;
        let t = crate::sim::tesoreria::EnteTesoreria {
            codice_fiscale: dom.clone(),
            codice_ente: ente
                .codice_ipa
                .to_uppercase()
                .chars()
                .filter(char::is_ascii_alphanumeric)
                .chain(std::iter::repeat('0'))
                .take(6)
                .collect(),
            descrizione: ente.denominazione.clone(),
        };
        let d = dir.join(dom);
        std::fs::create_dir_all(&d)?;
        std::fs::write(
            d.join(format!("GDC_{today}.csv")),
            crate::sim::tesoreria::csv(movimenti),
        )?;
        let opi = d.join(format!("GDC_{today}.xml"));
        std::fs::write(&opi, crate::sim::tesoreria::opi_xml(&t, today, movimenti))?;
        scritti.push(opi);
    }
    // One movement per flow, less the missing transfer, plus the stray line.
    let righe: usize = giornale.values().map(Vec::len).sum();
    c.record(
        "giornale di cassa del tesoriere (CSV e OPI 1.6.1)",
        flussi > 0 && righe == flussi && !scritti.is_empty(),
        format!(
            "{righe} movimenti in {} (un bonifico mancante, una riga estranea)",
            dir.display()
        ),
    );
    // The operator uploads the CSV journal; reconciliation joins and classifies.
    use crate::recon::classifica::Codice;
    let mut conteggi: std::collections::BTreeMap<crate::recon::classifica::Codice, i64> =
        Default::default();
    for (dom, movimenti) in &giornale {
        let csv = crate::sim::tesoreria::csv(movimenti);
        let (righe, scarti) =
            crate::recon::giornale::leggi_csv(csv.as_bytes(), &Default::default());
        if !scarti.is_empty() {
            c.record("giornale di cassa importato", false, format!("{scarti:?}"));
        }
        store
            .riconciliazione()
            .import_tesoreria(dom, &righe, &[], "CSV", None)
            .await?;
    }
    // The Comune's back office notifies what it saw paid (one it never saw is missing).
    let mut notifiche = Vec::new();
    for iud in ["TARI-2026-001", "TARI-2026-002", "AVVISO-2026-001"] {
        let d = store.dovuti().get(COMUNE, iud).await?;
        notifiche.push(crate::recon::notifiche::Notifica {
            iud: iud.into(),
            iuv: Some(d.iuv.to_string()),
            data_esecuzione: today,
            importo: d.importo,
            tipo_dovuto: d.tipo_dovuto.clone(),
            causale: d.causale.clone(),
        });
    }
    store
        .riconciliazione()
        .import_notifiche(COMUNE, &notifiche, None)
        .await?;
    for ente in [COMUNE, ASL, UNIONE] {
        store.riconciliazione().process(ente).await?;
        let flags = crate::riconciliazione::flags(store, ente).await?;
        for (k, n) in crate::riconciliazione::conteggi(store, ente, flags).await? {
            if let Some(k) = Codice::da_nome(&k) {
                *conteggi.entry(k).or_insert(0) += n;
            }
        }
    }
    // Each new-model receipt met its reporting flow (IUR = receiptId).
    let mut riconciliate = 0;
    for (ente, receipt_id) in &nuovo_modello {
        let f = crate::store::FiltroRiconciliazione {
            // Every code: any row of this receipt.
            codici: u64::MAX,
            iur: Some(receipt_id.clone()),
            ..Default::default()
        };
        let righe = store.riconciliazione().search(ente, &f, 10, 0).await?.righe;
        if righe
            .iter()
            .any(|r| r.iuf.is_some() && r.importo_pagato_cents.is_some())
        {
            riconciliate += 1;
        }
    }
    c.record(
        "nuovo modello: ricevute riconciliate con i flussi",
        riconciliate == nuovo_modello.len() && riconciliate == 7,
        format!("{riconciliate} di {}", nuovo_modello.len()),
    );
    let attesi = [
        Codice::RT_IUF,
        Codice::RT_IUF_TES,
        Codice::IUD_RT_IUF,
        Codice::RT_NO_IUD,
        Codice::IUF_NO_TES,
        Codice::TES_NO_MATCH,
    ];
    c.record(
        "riconciliazione MyPivot (notifiche, RT, flussi, giornale di cassa)",
        attesi.iter().all(|k| conteggi.contains_key(k)),
        conteggi
            .iter()
            .map(|(k, n)| format!("{k:?} {n}"))
            .collect::<Vec<_>>()
            .join(", "),
    );

    // Statistics from the daily aggregates equal the receipts they summarize.
    let mut pagato = (0i64, 0i64);
    let mut atteso = (0i64, 0i64);
    for ente in [COMUNE, ASL, UNIONE] {
        store.contabilita().stat_refresh(ente).await?;
        for a in store
            .contabilita()
            .statistiche(ente, &crate::store::RichiestaStatistica::default())
            .await?
            .into_iter()
            .filter(|a| a.misura == "P")
        {
            pagato = (pagato.0 + a.importo_cents, pagato.1 + a.numero);
        }
        let (ricevute, _) = store
            .riconciliazione()
            .search_ricevute(ente, &Default::default(), 10_000, 0)
            .await?;
        atteso = (
            atteso.0 + ricevute.iter().map(|r| r.importo_cents).sum::<i64>(),
            atteso.1 + ricevute.len() as i64,
        );
    }
    c.record(
        "statistiche MyPivot (pagato per data esito)",
        pagato == atteso && pagato.1 > 0,
        format!(
            "{} pagamenti, {} EUR",
            pagato.1,
            Importo::from_cents(pagato.0).unwrap_or(Importo::ZERO)
        ),
    );

    // Receipts emailed (each positive RT).
    let mail_dir = data.join("mail");
    let (rts, _) = store.pagamenti().list_rt(None, None, 1000, 0).await?;
    let attese = rts
        .iter()
        .filter(|r| matches!(r.codice_esito, Some(0 | 2)))
        .count();
    let ok = until(15, async || count_files(&mail_dir) >= attese).await;
    c.record(
        "ricevute inviate per email (.eml), una per RT positiva",
        ok,
        format!(
            "{} di {attese} in {}",
            count_files(&mail_dir),
            mail_dir.display()
        ),
    );

    Ok(())
}
