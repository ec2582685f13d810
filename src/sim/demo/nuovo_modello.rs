//! Day X on the new model, as pagoPA routes payments today: notices paid at a PSP
//! (paVerifyPaymentNotice → paGetPaymentV2 → paSendRTV2, a multi-beneficiary position with a
//! receipt to each ente, a late notice), a portal cart through pagoPA Checkout, and a receipt
//! lost on the way for day X+1 to recover.

use super::{ASL, COMUNE, Check, Demo, UNIONE, dovuto, esito_nm, http_get, stato};
use crate::model::StatoDovuto;
use crate::pagamenti::{DaPagare, RichiestaCarrello};

/// What day X+1 checks of the new model's day.
pub(super) struct Ricevute {
    /// (ente, receiptId) of every receipt that must meet its flow.
    pub consegnate: Vec<(&'static str, String)>,
    /// The receiptId of the receipt lost on the way, if its payment went through.
    pub persa: Option<String>,
}

pub(super) async fn pagamenti(demo: &Demo, c: &mut Check) -> anyhow::Result<Ricevute> {
    let store = &demo.store;
    let sim = &demo.sim;
    let nodo = &demo.nodo;
    let cache = &demo.cache;
    let later = demo.later;
    let past = demo.past;
    // 6b. The new model, as pagoPA routes a notice paid at a PSP today: paVerifyPaymentNotice,
    // paGetPaymentV2, paSendRTV2 (to each ente of a multi-beneficiary position), and a late
    // notice priced with its fee and interest. Their receipts go into day X+1's flows.
    let mut nuovo_modello = Vec::new();
    let avviso = |d: &crate::registry::Dovuto| {
        d.numero_avviso
            .as_ref()
            .map(ToString::to_string)
            .unwrap_or_default()
    };
    let nm = dovuto(
        store,
        COMUNE,
        "AVVISO-NM-001",
        "TARI",
        "38.00",
        later,
        "elena.rosa@example.it",
        None,
    )
    .await?;
    let r = sim
        .psp_paga_avviso_nuovo_modello(COMUNE, &avviso(&nm))
        .await;
    let ok = r.as_ref().is_ok_and(|(i, _)| i.cents() == 3_800)
        && demo.paid(&[(COMUNE, "AVVISO-NM-001")]).await;
    c.record(
        "nuovo modello: avviso pagato (paVerifyPaymentNotice, paGetPaymentV2, paSendRTV2)",
        ok,
        esito_nm(&r),
    );
    if let Ok((_, id)) = &r {
        nuovo_modello.push((COMUNE, id.clone()));
    }
    let primaria = dovuto(
        store,
        COMUNE,
        "NM-MULTI-2026",
        "TARI",
        "60.00",
        later,
        "elena.rosa@example.it",
        None,
    )
    .await?;
    dovuto(
        store,
        ASL,
        "NM-MULTI-QUOTA",
        "TARI",
        "25.00",
        later,
        "elena.rosa@example.it",
        Some(primaria.iuv.as_ref()),
    )
    .await?;
    let r = sim
        .psp_paga_avviso_nuovo_modello(COMUNE, &avviso(&primaria))
        .await;
    let ok = r.as_ref().is_ok_and(|(i, _)| i.cents() == 8_500)
        && demo
            .paid(&[(COMUNE, "NM-MULTI-2026"), (ASL, "NM-MULTI-QUOTA")])
            .await;
    c.record(
        "nuovo modello: multibeneficiario (2 transfer, una ricevuta per ente)",
        ok,
        esito_nm(&r),
    );
    if let Ok((_, id)) = &r {
        nuovo_modello.push((COMUNE, id.clone()));
        nuovo_modello.push((ASL, id.clone()));
    }
    let tardi = dovuto(
        store,
        COMUNE,
        "SANZ-NM-001",
        "SANZIONE",
        "80.00",
        past,
        "paolo.gialli@example.it",
        None,
    )
    .await?;
    let r = sim
        .psp_paga_avviso_nuovo_modello(COMUNE, &avviso(&tardi))
        .await;
    let ok = r.as_ref().is_ok_and(|(i, _)| i.cents() > 8_500)
        && demo.paid(&[(COMUNE, "SANZ-NM-001")]).await;
    c.record(
        "nuovo modello: avviso scaduto pagato con mora e interessi",
        ok,
        esito_nm(&r),
    );
    if let Ok((_, id)) = &r {
        nuovo_modello.push((COMUNE, id.clone()));
    }

    // 6c. A portal cart of an ente on Checkout: POST /carts, the payer on Checkout's page,
    // each notice then paid through the new model; the cart's outcome from its receipts.
    let checkout_client = &demo.checkout;
    let mut voci = Vec::new();
    for (iud, importo) in [("UC-2026-001", "12.00"), ("UC-2026-002", "30.50")] {
        let d = dovuto(
            store,
            UNIONE,
            iud,
            "TARI",
            importo,
            later,
            "anna.verdi@example.it",
            None,
        )
        .await?;
        voci.push((UNIONE, d.iuv.to_string()));
    }
    let req = RichiestaCarrello {
        dovuti: voci
            .iter()
            .map(|(d, i)| DaPagare {
                id_dominio: (*d).into(),
                iuv: i.clone(),
            })
            .collect(),
        email_login: Some("anna.login@example.it".into()),
        multi_beneficiario: false,
    };
    let ok = match crate::pagamenti::paga(store, cache, nodo, checkout_client, &req).await {
        Ok(e) => {
            let url = e.url.clone().unwrap_or_default();
            let page = http_get(&url).await;
            let r = sim.paga_checkout(&url, true).await;
            if let Ok(pagati) = &r {
                for (_, id) in pagati {
                    nuovo_modello.push((UNIONE, id.clone()));
                }
            }
            let esiti = store.carrelli().esiti(&e.id_carrello).await?;
            page.contains("Checkout")
                && r.is_ok_and(|p| p.len() == 2)
                && demo
                    .paid(&[(UNIONE, "UC-2026-001"), (UNIONE, "UC-2026-002")])
                    .await
                && esiti.len() == 2
                && esiti.iter().all(|x| x.codice_esito == Some(0))
        }
        Err(e) => {
            c.record("carrello Checkout", false, e.to_string());
            false
        }
    };
    c.record(
        "carrello con pagoPA Checkout (POST /carts, pagina Checkout, nuovo modello, esito dal carrello)",
        ok,
        "",
    );

    // 6d. A new-model receipt lost on the way: the position stays in payment until day
    // X+1, when its flow reports it and the gateway asks Biz Events for it.
    sim.faults.lock().expect("lock").lose_rt = true;
    let perso = dovuto(
        store,
        COMUNE,
        "AVVISO-NM-PERSO",
        "TARI",
        "27.00",
        later,
        "luca.bruni@example.it",
        None,
    )
    .await?;
    let r = sim
        .psp_paga_avviso_nuovo_modello(COMUNE, &avviso(&perso))
        .await;
    sim.faults.lock().expect("lock").lose_rt = false;
    let in_attesa =
        stato(store, COMUNE, "AVVISO-NM-PERSO").await == Some(StatoDovuto::PagamentoIniziato);
    let ricevuta_persa = r.as_ref().ok().map(|(_, id)| id.clone());
    c.record(
        "nuovo modello: ricevuta persa, posizione in attesa",
        r.is_ok() && in_attesa,
        esito_nm(&r),
    );

    Ok(Ricevute {
        consegnate: nuovo_modello,
        persa: ricevuta_persa,
    })
}
