//! `pagopa-gateway demo`: the gateway and the simulated Nodo in one process on loopback
//! ports, embedded SQLite in `./data`, the dev PKI and `.eml` mail files. It seeds two enti
//! and runs day X (portal payments, carts, a multi-beneficiary position, notices paid at a
//! PSP on time, late and expired, a lost RT, a duplicate delivery) and day X+1 (reporting
//! flows), checks every outcome, prints a summary and exits 0 only if all went as expected.

use super::Simulator;
use crate::app::Application;
use crate::config::Config;
use crate::model::{Importo, StatoDovuto};
use crate::pagamenti::{DaPagare, RichiestaCarrello};
use crate::registry::{EnteInput, NuovoDovuto, TipoDovutoInput};
use crate::store::Store;
use crate::store::cache::RegistryCache;
use serde_json::json;
use std::path::Path;
use std::time::{Duration, Instant};

const COMUNE: &str = "80007580279";
const ASL: &str = "01234567897";
/// An ente joined after Checkout: its portal carts go to pagoPA Checkout (the Comune and the
/// ASL are kept on WISP by configuration).
const UNIONE: &str = "80002220277";
const MARKER: &str = ".pagopa-gateway-demo";

/// `./data` may only be replaced when it is empty or an earlier demo's.
fn prepare_data_dir(dir: &Path) -> anyhow::Result<()> {
    if dir.exists() {
        let empty = std::fs::read_dir(dir)?.next().is_none();
        if !empty && !dir.join(MARKER).exists() {
            anyhow::bail!(
                "{} holds data that is not from an earlier demo: refusing to touch it (move it away or run the demo elsewhere)",
                dir.display()
            );
        }
        std::fs::remove_dir_all(dir)?;
    }
    std::fs::create_dir_all(dir)?;
    std::fs::write(
        dir.join(MARKER),
        "created by `pagopa-gateway demo`; replaced by the next demo run\n",
    )?;
    Ok(())
}

struct Check {
    passi: Vec<(String, bool, String)>,
}

impl Check {
    fn record(&mut self, name: &str, ok: bool, detail: impl Into<String>) {
        let detail = detail.into();
        println!(
            "  [{}] {name}{}",
            if ok { " OK " } else { "FAIL" },
            if detail.is_empty() {
                String::new()
            } else {
                format!(": {detail}")
            }
        );
        self.passi.push((name.into(), ok, detail));
    }
}

async fn until(secs: u64, mut f: impl AsyncFnMut() -> bool) -> bool {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while Instant::now() < deadline {
        if f().await {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    false
}

async fn stato(store: &Store, ente: &str, iud: &str) -> Option<StatoDovuto> {
    store.dovuti().get(ente, iud).await.ok().map(|d| d.stato)
}

async fn seed(store: &Store) -> anyhow::Result<()> {
    let enti = [
        (
            COMUNE,
            "Comune di Esempio",
            "c_x000",
            "IT60X0542811101000000123456",
            1,
        ),
        (
            ASL,
            "ASL di Esempio",
            "asl_x00",
            "IT07X0542811101000000654321",
            2,
        ),
        (
            UNIONE,
            "Unione dei Comuni di Esempio",
            "uc_x000",
            "IT03X0542811101000000777777",
            3,
        ),
    ];
    // Each ente its own segregation code, as in a region (the multi-beneficiary position
    // then carries the primary's code in the secondary's RPT).
    for (id, nome, ipa, iban, codice) in enti {
        let e: EnteInput = serde_json::from_value(
            json!({"id_dominio": id, "denominazione": nome, "codice_ipa": ipa, "segregation_code": codice, "flg_tesoreria": true, "flg_pagati": true, "ibans": [iban], "contatti": {"email": format!("pagamenti@{ipa}.example.it")}}),
        )?;
        let ente = store.registro().insert_ente(&e).await?;
        let tipi = [
            json!({"codice": "TARI", "descrizione": "Tassa rifiuti", "iban": iban, "dati_specifici_riscossione": "9/0101105IM/", "politica_scadenza": "RIFIUTA"}),
            json!({"codice": "SANZIONE", "descrizione": "Sanzione amministrativa", "iban": iban, "dati_specifici_riscossione": "9/0302101SA/", "politica_scadenza": "ACCETTA", "mora_fissa": "5.00", "interesse_annuo_bp": 500}),
        ];
        for t in tipi {
            let t: TipoDovutoInput = serde_json::from_value(t)?;
            store.registro().create_tipo_dovuto(id, &t).await?;
        }
        let _ = ente;
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)]
async fn dovuto(
    store: &Store,
    ente: &str,
    iud: &str,
    tipo: &str,
    importo: &str,
    scadenza: time::Date,
    email: &str,
    iuv: Option<&str>,
) -> anyhow::Result<crate::registry::Dovuto> {
    let e = store.registro().get_ente(ente).await?;
    let t = store.registro().get_tipo_dovuto(ente, tipo).await?;
    let mut d = json!({"iud": iud, "tipo_dovuto": tipo,
        "pagatore": {"tipo": "F", "codice_fiscale": "RSSMRA85T10A562S", "anagrafica": "Mario Rossi", "email": email},
        "importo": importo, "causale": format!("{tipo} {iud}"), "data_scadenza": scadenza.to_string()});
    // An IUV given is the Comune's: the dovuto is the secondary share of its position.
    let primario = match iuv {
        Some(i) => {
            d["iuv"] = json!(i);
            d["ente_primario"] = json!(COMUNE);
            Some(store.registro().get_ente(COMUNE).await?)
        }
        None => None,
    };
    let n: NuovoDovuto = serde_json::from_value(d)?;
    let v = n
        .resolve_share(&e, primario.as_ref(), &t)
        .map_err(|r| anyhow::anyhow!("{r:?}"))?;
    Ok(store.dovuti().insert(&e, &v, "demo").await?)
}

/// Runs the demo; `Ok(true)` when every check passed.
pub async fn run(base: Config) -> anyhow::Result<bool> {
    let started = Instant::now();
    let data = base.data_dir.clone();
    prepare_data_dir(&data)?;
    let (nodo_l, checkout_l) = super::bind("127.0.0.1:0".parse()?, "127.0.0.1:0".parse()?).await?;
    let nodo_port = nodo_l.local_addr()?.port();
    let mut config = base.clone();
    config.database.url = None;
    config.rest.listen = "127.0.0.1:0".parse()?;
    config.pa_soap.listen = "127.0.0.1:0".parse()?;
    config.pa_soap.proxy_listen = None;
    config.mail.transport = "file".into();
    config.nodo.url = Some(format!("https://localhost:{nodo_port}/nodo"));
    config.nodo.read_timeout_ms = 2_000;
    // Day X+1's flows come from the simulator's FdR service (REST), as at pagoPA today.
    config.fdr.url = Some(format!(
        "http://{}/fdr-org/service/v1",
        checkout_l.local_addr()?
    ));
    config.fdr.ca = None;
    config.fdr.subscription_key = Some("demo-fdr-subscription-key".into());
    // Portal carts go to pagoPA Checkout, but for the two enti kept on WISP.
    config.checkout.url = Some(format!(
        "http://{}/checkout/ec/v2",
        checkout_l.local_addr()?
    ));
    config.checkout.ca = None;
    config.checkout.subscription_key = Some("demo-checkout-subscription-key".into());
    config.checkout.enti_wisp = vec![COMUNE.into(), ASL.into()];
    // Receipts that never came are asked of the simulator's Biz Events.
    config.biz_events.url = Some(format!(
        "http://{}/bizevents/service/v1",
        checkout_l.local_addr()?
    ));
    config.biz_events.subscription_key = Some("demo-biz-events-subscription-key".into());
    config.outbox.poll_ms = 100;
    config.outbox.flussi_every_minutes = 0;
    let app = Application::build(config.clone()).await?;
    let store = app.state().store.clone();
    // The application's own client: cart sends are journaled like everything else.
    let nodo = app.state().nodo.clone();
    let app_checkout = app.state().checkout.clone();
    let soap = app.soap_addr();
    let rest = app.rest_addr();
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let wait = |mut rx: tokio::sync::watch::Receiver<bool>| async move {
        let _ = rx.wait_for(|s| *s).await;
    };
    let gateway = tokio::spawn(app.run_until(wait(stop_rx.clone())));
    let sim = Simulator::new(&config, &format!("https://localhost:{}/", soap.port()))?;
    *sim.domini.lock().expect("lock") = vec![COMUNE.into(), ASL.into(), UNIONE.into()];
    let sim_task = tokio::spawn(sim.clone().serve(
        nodo_l,
        checkout_l,
        config.pa_soap.dev_pki_dir.clone(),
        wait(stop_rx),
    ));

    println!(
        "pagopa-gateway demo: gateway REST http://{rest}, PA endpoint https://{soap} (mTLS), simulated Nodo https://localhost:{nodo_port}/nodo"
    );
    seed(&store).await?;
    let today = crate::model::scadenza::data_italiana(time::OffsetDateTime::now_utc());
    let later = today + time::Duration::days(30);
    let past = today - time::Duration::days(40);
    let cache = RegistryCache::default();
    let mut c = Check { passi: Vec::new() };
    let pay = async |dovuti: Vec<(&str, String)>, multi: bool, login: Option<&str>| {
        let req = RichiestaCarrello {
            dovuti: dovuti
                .into_iter()
                .map(|(d, i)| DaPagare {
                    id_dominio: d.into(),
                    iuv: i,
                })
                .collect(),
            email_login: login.map(str::to_owned),
            multi_beneficiario: multi,
        };
        crate::pagamenti::checkout(&store, &cache, &nodo, &req).await
    };
    let paid = async |items: &[(&str, &str)]| {
        until(15, async || {
            for (e, i) in items {
                if stato(&store, e, i).await != Some(StatoDovuto::Pagato) {
                    return false;
                }
            }
            true
        })
        .await
    };

    println!("Day X");
    // 1. One dovuto paid from the portal, through the checkout page.
    let d = dovuto(
        &store,
        COMUNE,
        "TARI-2026-001",
        "TARI",
        "120.00",
        later,
        "mario.rossi@example.it",
        None,
    )
    .await?;
    let ok = match pay(
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
                && paid(&[(COMUNE, "TARI-2026-001")]).await
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
        &store,
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
        &store,
        ASL,
        "TICKET-2026-001",
        "TARI",
        "36.15",
        later,
        "anna.bianchi@example.it",
        None,
    )
    .await?;
    let ok = match pay(
        vec![(COMUNE, a.iuv.to_string()), (ASL, b.iuv.to_string())],
        false,
        None,
    )
    .await
    {
        Ok(e) => {
            sim.paga_sessione(
                Simulator::sessione(&e.url.unwrap_or_default()).unwrap_or(""),
                true,
            )
            .await
                && paid(&[(COMUNE, "TARI-2026-002"), (ASL, "TICKET-2026-001")]).await
        }
        Err(e) => {
            c.record("carrello", false, e.to_string());
            false
        }
    };
    c.record("carrello di due enti", ok, "");

    // 3. A multi-beneficiary position: the Comune's share and the ASL's, one IUV.
    let p = dovuto(
        &store,
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
        &store,
        ASL,
        "MB-2026-001-ASL",
        "TARI",
        "30.00",
        later,
        "luca.verdi@example.it",
        Some(&iuv),
    )
    .await?;
    let ok = match pay(vec![(COMUNE, iuv.clone()), (ASL, iuv.clone())], true, None).await {
        Ok(e) => {
            sim.paga_sessione(
                Simulator::sessione(&e.url.unwrap_or_default()).unwrap_or(""),
                true,
            )
            .await
                && paid(&[(COMUNE, "MB-2026-001"), (ASL, "MB-2026-001-ASL")]).await
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
        &store,
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
        && paid(&[(COMUNE, "AVVISO-2026-001")]).await;
    c.record(
        "avviso pagato presso un PSP (verifica, attiva, RPT, RT)",
        ok,
        esito(&r),
    );

    // 5. A late notice whose tipo dovuto accepts late payment: amount with fee and interest.
    let l = dovuto(
        &store,
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
    let ok =
        r.as_ref().is_ok_and(|i| i.cents() > 10_500) && paid(&[(COMUNE, "SANZ-2026-001")]).await;
    c.record("avviso scaduto pagato con mora e interessi", ok, esito(&r));

    // 6. A late notice whose tipo dovuto refuses late payment.
    let x = dovuto(
        &store,
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
        &store,
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
        && paid(&[(COMUNE, "AVVISO-NM-001")]).await;
    c.record(
        "nuovo modello: avviso pagato (paVerifyPaymentNotice, paGetPaymentV2, paSendRTV2)",
        ok,
        esito_nm(&r),
    );
    if let Ok((_, id)) = &r {
        nuovo_modello.push((COMUNE, id.clone()));
    }
    let primaria = dovuto(
        &store,
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
        &store,
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
        && paid(&[(COMUNE, "NM-MULTI-2026"), (ASL, "NM-MULTI-QUOTA")]).await;
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
        &store,
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
    let ok =
        r.as_ref().is_ok_and(|(i, _)| i.cents() > 8_500) && paid(&[(COMUNE, "SANZ-NM-001")]).await;
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
    let checkout_client = app_checkout.clone();
    let mut voci = Vec::new();
    for (iud, importo) in [("UC-2026-001", "12.00"), ("UC-2026-002", "30.50")] {
        let d = dovuto(
            &store,
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
    let ok = match crate::pagamenti::paga(&store, &cache, &nodo, &checkout_client, &req).await {
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
                && paid(&[(UNIONE, "UC-2026-001"), (UNIONE, "UC-2026-002")]).await
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
        &store,
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
        stato(&store, COMUNE, "AVVISO-NM-PERSO").await == Some(StatoDovuto::PagamentoIniziato);
    let ricevuta_persa = r.as_ref().ok().map(|(_, id)| id.clone());
    c.record(
        "nuovo modello: ricevuta persa, posizione in attesa",
        r.is_ok() && in_attesa,
        esito_nm(&r),
    );

    // 7. A lost RT, recovered with nodoChiediStatoRPT + nodoChiediCopiaRT.
    sim.faults.lock().expect("lock").lose_rt = true;
    let lost = dovuto(
        &store,
        ASL,
        "TICKET-2026-002",
        "TARI",
        "22.50",
        later,
        "giulia.blu@example.it",
        None,
    )
    .await?;
    let ok = match pay(vec![(ASL, lost.iuv.to_string())], false, None).await {
        Ok(e) => {
            sim.paga_sessione(
                Simulator::sessione(&e.url.unwrap_or_default()).unwrap_or(""),
                true,
            )
            .await;
            sim.faults.lock().expect("lock").lose_rt = false;
            let still =
                stato(&store, ASL, "TICKET-2026-002").await == Some(StatoDovuto::PagamentoIniziato);
            // The sweep would plan this after outbox.recovery_after_minutes; the demo asks now.
            store
                .pagamenti()
                .plan_recuperi(
                    time::OffsetDateTime::now_utc() + Duration::from_secs(2),
                    100,
                )
                .await?;
            still && paid(&[(ASL, "TICKET-2026-002")]).await
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
        &store,
        COMUNE,
        "TARI-2026-003",
        "TARI",
        "15.00",
        later,
        "marco.viola@example.it",
        None,
    )
    .await?;
    let ok = match pay(vec![(COMUNE, dup.iuv.to_string())], false, None).await {
        Ok(e) => {
            sim.paga_sessione(
                Simulator::sessione(&e.url.unwrap_or_default()).unwrap_or(""),
                true,
            )
            .await;
            sim.faults.lock().expect("lock").duplicate_rt = false;
            let f = crate::store::JournalFilter {
                outcome: Some("PAA_RT_DUPLICATA".into()),
                ..Default::default()
            };
            paid(&[(COMUNE, "TARI-2026-003")]).await
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
    let acquisiti = rows.iter().filter(|f| f.stato == "ACQUISITO").count();
    c.record(
        "flussi di rendicontazione letti da FdR REST (elenco, flusso, pagamenti)",
        ok && acquisiti == flussi && flussi > 0,
        format!("{flussi} generati, {acquisiti} acquisiti"),
    );
    // The lost receipt, reported by its flow, recovered from Biz Events and applied.
    let ok = ricevuta_persa.is_some() && paid(&[(COMUNE, "AVVISO-NM-PERSO")]).await;
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
        let t = super::tesoreria::EnteTesoreria {
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
            super::tesoreria::csv(movimenti),
        )?;
        let opi = d.join(format!("GDC_{today}.xml"));
        std::fs::write(&opi, super::tesoreria::opi_xml(&t, today, movimenti))?;
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
        let csv = super::tesoreria::csv(movimenti);
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
        let flags = crate::riconciliazione::flags(&store, ente).await?;
        for (k, n) in crate::riconciliazione::conteggi(&store, ente, flags).await? {
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
        let (righe, _) = store.riconciliazione().search(ente, &f, 10, 0).await?;
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

    // Summary.
    let (dovuti, _) = store.dovuti().search(&Default::default(), 1000, 0).await?;
    let pagati: Vec<_> = dovuti
        .iter()
        .filter(|d| d.stato == StatoDovuto::Pagato)
        .collect();
    let totale = pagati.iter().fold(0i64, |a, d| a + d.importo.cents());
    let (rt, _) = store.pagamenti().list_rt(None, None, 1000, 0).await?;
    let incassato = rt.iter().filter_map(|r| r.importo_cents).sum::<i64>();
    let anomalie = rows.iter().filter(|f| f.stato != "ACQUISITO").count();
    println!();
    println!("Summary");
    println!(
        "  dovuti: {} ({} paid, {} EUR by their amounts)",
        dovuti.len(),
        pagati.len(),
        Importo::from_cents(totale).unwrap_or(Importo::ZERO)
    );
    println!(
        "  receipts (RT) stored: {}; collected {} EUR (late fees and interest included)",
        rt.len(),
        Importo::from_cents(incassato).unwrap_or(Importo::ZERO)
    );
    println!(
        "  reporting flows: {} ({} with anomalies)",
        rows.len(),
        anomalie
    );
    println!(
        "  emails: {} in {}",
        count_files(&mail_dir),
        mail_dir.display()
    );
    println!(
        "  data: {} (SQLite {}), message journal: `pagopa-gateway journal export --dir DIR`",
        data.display(),
        data.join("gateway.db").display()
    );
    let failed = c.passi.iter().filter(|p| !p.1).count();
    println!(
        "  checks: {} passed, {failed} failed, in {:.1} s",
        c.passi.len() - failed,
        started.elapsed().as_secs_f64()
    );

    let _ = stop_tx.send(true);
    let _ = gateway.await;
    let _ = sim_task.await;
    Ok(failed == 0)
}

fn esito_nm(r: &Result<(Importo, String), String>) -> String {
    esito(&r.as_ref().map(|(i, _)| *i).map_err(Clone::clone))
}

fn esito(r: &Result<Importo, String>) -> String {
    match r {
        Ok(i) => format!("pagati {i} EUR"),
        Err(e) => format!("rifiutato: {e}"),
    }
}

fn count_files(dir: &Path) -> usize {
    std::fs::read_dir(dir)
        .map(|d| {
            d.filter(|e| {
                e.as_ref()
                    .is_ok_and(|e| e.path().extension().is_some_and(|x| x == "eml"))
            })
            .count()
        })
        .unwrap_or(0)
}

/// GET over plain HTTP (the checkout page), returning the body or an empty string.
async fn http_get(url: &str) -> String {
    use http_body_util::BodyExt;
    let Ok(uri) = url.parse::<hyper::Uri>() else {
        return String::new();
    };
    let (Some(host), Some(port)) = (uri.host(), uri.port_u16()) else {
        return String::new();
    };
    let Ok(tcp) = tokio::net::TcpStream::connect((host, port)).await else {
        return String::new();
    };
    let Ok((mut sender, conn)) = hyper::client::conn::http1::handshake::<
        _,
        http_body_util::Empty<bytes::Bytes>,
    >(hyper_util::rt::TokioIo::new(tcp))
    .await
    else {
        return String::new();
    };
    tokio::spawn(conn);
    let req = hyper::Request::get(uri.path_and_query().map_or("/", |p| p.as_str()))
        .header("host", format!("{host}:{port}"))
        .body(http_body_util::Empty::new());
    let Ok(req) = req else { return String::new() };
    match sender.send_request(req).await {
        Ok(resp) => resp
            .into_body()
            .collect()
            .await
            .map(|b| String::from_utf8_lossy(&b.to_bytes()).into_owned())
            .unwrap_or_default(),
        Err(_) => String::new(),
    }
}
