//! Day X on the old model (SANP 2): payments from the portal through WISP carts (one ente,
//! two enti, a multi-beneficiary position), notices paid at a PSP counter (on time, late with
//! fee and interest, refused once expired), and the Nodo's mishaps: an RT lost and recovered,
//! an RT delivered twice.

use super::{ASL, COMUNE, Check, Demo, dovuto, esito, http_get, stato, until};
use crate::model::{Importo, StatoDovuto};
use crate::sim::Simulator;
use std::time::Duration;

/// Steps 1 to 6: the portal's carts and the PSP counter.
pub(super) async fn pagamenti(demo: &Demo, c: &mut Check) -> anyhow::Result<()> {
    let store = &demo.store;
    let sim = &demo.sim;
    let later = demo.later;
    let past = demo.past;
    println!("Day X");
    // 1. One dovuto paid from the portal, through the checkout page.
    let d = dovuto(
        store,
        COMUNE,
        "TARI-2026-001",
        "TARI",
        "120.00",
        later,
        "mario.rossi@example.it",
        None,
    )
    .await?;
    let ok = match demo
        .pay(
            vec![(COMUNE, d.iuv.to_string())],
            false,
            Some("mario@login.example.it"),
        )
        .await
    {
        Ok(e) => {
            let session = e
                .url
                .as_deref()
                .and_then(Simulator::sessione)
                .unwrap_or("")
                .to_owned();
            let page = http_get(&e.url.clone().unwrap_or_default()).await;
            sim.paga_sessione(&session, true).await
                && page.contains("Paga")
                && demo.paid(&[(COMUNE, "TARI-2026-001")]).await
        }
        Err(e) => {
            c.record("pagamento singolo dal portale", false, e.to_string());
            false
        }
    };
    c.record(
        "pagamento singolo dal portale (pagina di checkout, RT, dovuto PAGATO)",
        ok,
        "",
    );

    // 2. A cart across the two enti.
    let a = dovuto(
        store,
        COMUNE,
        "TARI-2026-002",
        "TARI",
        "80.00",
        later,
        "anna.bianchi@example.it",
        None,
    )
    .await?;
    let b = dovuto(
        store,
        ASL,
        "TICKET-2026-001",
        "TARI",
        "36.15",
        later,
        "anna.bianchi@example.it",
        None,
    )
    .await?;
    let ok = match demo
        .pay(
            vec![(COMUNE, a.iuv.to_string()), (ASL, b.iuv.to_string())],
            false,
            None,
        )
        .await
    {
        Ok(e) => {
            demo.sul_nodo(&e, true).await
                && demo
                    .paid(&[(COMUNE, "TARI-2026-002"), (ASL, "TICKET-2026-001")])
                    .await
        }
        Err(e) => {
            c.record("carrello", false, e.to_string());
            false
        }
    };
    c.record("carrello di due enti", ok, "");

    // 3. A multi-beneficiary position: the Comune's share and the ASL's, one IUV.
    let p = dovuto(
        store,
        COMUNE,
        "MB-2026-001",
        "TARI",
        "70.00",
        later,
        "luca.verdi@example.it",
        None,
    )
    .await?;
    let iuv = p.iuv.to_string();
    let _s = dovuto(
        store,
        ASL,
        "MB-2026-001-ASL",
        "TARI",
        "30.00",
        later,
        "luca.verdi@example.it",
        Some(&iuv),
    )
    .await?;
    let ok = match demo
        .pay(vec![(COMUNE, iuv.clone()), (ASL, iuv.clone())], true, None)
        .await
    {
        Ok(e) => {
            demo.sul_nodo(&e, true).await
                && demo
                    .paid(&[(COMUNE, "MB-2026-001"), (ASL, "MB-2026-001-ASL")])
                    .await
        }
        Err(e) => {
            c.record("multibeneficiario", false, e.to_string());
            false
        }
    };
    c.record(
        "carrello multibeneficiario (2 RPT, stesso IUV, CCP = id carrello)",
        ok,
        "",
    );

    // 4. A notice paid at a PSP counter (modello 3).
    let n = dovuto(
        store,
        COMUNE,
        "AVVISO-2026-001",
        "TARI",
        "45.00",
        later,
        "sara.neri@example.it",
        None,
    )
    .await?;
    let r = sim.psp_paga_avviso(COMUNE, n.iuv.as_ref()).await;
    let ok = r
        .as_ref()
        .is_ok_and(|i| *i == Importo::from_cents(4_500).unwrap_or(Importo::ZERO))
        && demo.paid(&[(COMUNE, "AVVISO-2026-001")]).await;
    c.record(
        "avviso pagato presso un PSP (verifica, attiva, RPT, RT)",
        ok,
        esito(&r),
    );

    // 5. A late notice whose tipo dovuto accepts late payment: amount with fee and interest.
    let l = dovuto(
        store,
        COMUNE,
        "SANZ-2026-001",
        "SANZIONE",
        "100.00",
        past,
        "paolo.gialli@example.it",
        None,
    )
    .await?;
    let r = sim.psp_paga_avviso(COMUNE, l.iuv.as_ref()).await;
    let ok = r.as_ref().is_ok_and(|i| i.cents() > 10_500)
        && demo.paid(&[(COMUNE, "SANZ-2026-001")]).await;
    c.record("avviso scaduto pagato con mora e interessi", ok, esito(&r));

    // 6. A late notice whose tipo dovuto refuses late payment.
    let x = dovuto(
        store,
        COMUNE,
        "TARI-2025-999",
        "TARI",
        "60.00",
        past,
        "paolo.gialli@example.it",
        None,
    )
    .await?;
    let r = sim.psp_paga_avviso(COMUNE, x.iuv.as_ref()).await;
    let ok = r.as_ref().err().map(String::as_str) == Some("PAA_PAGAMENTO_SCADUTO");
    c.record(
        "avviso scaduto rifiutato (PAA_PAGAMENTO_SCADUTO)",
        ok,
        esito(&r),
    );

    Ok(())
}

/// Steps 7 and 8: an RT lost (recovered with nodoChiediStatoRPT + nodoChiediCopiaRT) and one
/// delivered twice.
pub(super) async fn incidenti(demo: &Demo, c: &mut Check) -> anyhow::Result<()> {
    let store = &demo.store;
    let sim = &demo.sim;
    let later = demo.later;
    // 7. A lost RT, recovered with nodoChiediStatoRPT + nodoChiediCopiaRT.
    sim.faults.lock().expect("lock").lose_rt = true;
    let lost = dovuto(
        store,
        ASL,
        "TICKET-2026-002",
        "TARI",
        "22.50",
        later,
        "giulia.blu@example.it",
        None,
    )
    .await?;
    let ok = match demo
        .pay(vec![(ASL, lost.iuv.to_string())], false, None)
        .await
    {
        Ok(e) => {
            demo.sul_nodo(&e, true).await;
            sim.faults.lock().expect("lock").lose_rt = false;
            let still =
                stato(store, ASL, "TICKET-2026-002").await == Some(StatoDovuto::PagamentoIniziato);
            // The sweep would plan this after outbox.recovery_after_minutes; the demo asks now.
            store
                .pagamenti()
                .plan_recuperi(
                    time::OffsetDateTime::now_utc() + Duration::from_secs(2),
                    100,
                )
                .await?;
            still && demo.paid(&[(ASL, "TICKET-2026-002")]).await
        }
        Err(e) => {
            c.record("RT persa", false, e.to_string());
            false
        }
    };
    c.record("RT persa recuperata con nodoChiediCopiaRT", ok, "");

    // 8. The Nodo delivers an RT twice: the second is PAA_RT_DUPLICATA and changes nothing.
    sim.faults.lock().expect("lock").duplicate_rt = true;
    let dup = dovuto(
        store,
        COMUNE,
        "TARI-2026-003",
        "TARI",
        "15.00",
        later,
        "marco.viola@example.it",
        None,
    )
    .await?;
    let ok = match demo
        .pay(vec![(COMUNE, dup.iuv.to_string())], false, None)
        .await
    {
        Ok(e) => {
            demo.sul_nodo(&e, true).await;
            sim.faults.lock().expect("lock").duplicate_rt = false;
            let f = crate::store::JournalFilter {
                outcome: Some("PAA_RT_DUPLICATA".into()),
                ..Default::default()
            };
            demo.paid(&[(COMUNE, "TARI-2026-003")]).await
                && until(5, async || {
                    store
                        .journal()
                        .search(&f, 10, 0)
                        .await
                        .is_ok_and(|(_, n)| n >= 1)
                })
                .await
        }
        Err(e) => {
            c.record("RT duplicata", false, e.to_string());
            false
        }
    };
    c.record(
        "RT consegnata due volte: la seconda è PAA_RT_DUPLICATA",
        ok,
        "",
    );

    Ok(())
}
