//! `pagopa-gateway demo`: the gateway and the simulated Nodo in one process on loopback
//! ports, embedded SQLite in `./data`, the dev PKI and `.eml` mail files. It seeds three enti
//! and runs day X on the old model (`giorno_x`) and on the new one (`nuovo_modello`), then
//! day X+1 (`giorno_dopo`: flows, treasury, reconciliation), checks every outcome, prints a
//! summary and exits 0 only if all went as expected. This file sets the stage and sums up.

mod giorno_dopo;
mod giorno_x;
mod nuovo_modello;

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

/// What every step works with: the gateway's store and clients, the simulator, the days.
struct Demo {
    store: Store,
    sim: Simulator,
    /// The application's own client: cart sends are journaled like everything else.
    nodo: crate::node_client::NodoClient,
    checkout: crate::checkout_client::CheckoutClient,
    cache: RegistryCache,
    today: time::Date,
    later: time::Date,
    past: time::Date,
    data: std::path::PathBuf,
}

impl Demo {
    /// A portal cart through WISP (nodoInviaCarrelloRPT).
    async fn pay(
        &self,
        dovuti: Vec<(&str, String)>,
        multi: bool,
        login: Option<&str>,
    ) -> Result<crate::pagamenti::EsitoCarrello, crate::pagamenti::CarrelloError> {
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
        crate::pagamenti::checkout(&self.store, &self.cache, &self.nodo, &req).await
    }

    /// The payer on the Nodo's WISP page of a cart just sent: pays (or not) in the session
    /// its redirect URL names.
    async fn sul_nodo(&self, e: &crate::pagamenti::EsitoCarrello, pagato: bool) -> bool {
        let url = e.url.as_deref().unwrap_or_default();
        self.sim
            .paga_sessione(Simulator::sessione(url).unwrap_or(""), pagato)
            .await
    }

    /// Every (ente, IUD) PAGATO within 15 s.
    async fn paid(&self, items: &[(&str, &str)]) -> bool {
        until(15, async || {
            for (e, i) in items {
                if stato(&self.store, e, i).await != Some(StatoDovuto::Pagato) {
                    return false;
                }
            }
            true
        })
        .await
    }
}

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
    let mut c = Check { passi: Vec::new() };
    let d = Demo {
        store: store.clone(),
        sim: sim.clone(),
        nodo,
        checkout: app_checkout,
        cache: RegistryCache::default(),
        today,
        later,
        past,
        data: data.clone(),
    };

    giorno_x::pagamenti(&d, &mut c).await?;
    let ricevute = nuovo_modello::pagamenti(&d, &mut c).await?;
    giorno_x::incidenti(&d, &mut c).await?;
    giorno_dopo::riconciliazione(&d, &mut c, ricevute).await?;

    // Summary.
    let (dovuti, _) = store.dovuti().search(&Default::default(), 1000, 0).await?;
    let pagati: Vec<_> = dovuti
        .iter()
        .filter(|d| d.stato == StatoDovuto::Pagato)
        .collect();
    let totale = pagati.iter().fold(0i64, |a, d| a + d.importo.cents());
    let (rt, _) = store.pagamenti().list_rt(None, None, 1000, 0).await?;
    let incassato = rt.iter().filter_map(|r| r.importo_cents).sum::<i64>();
    let (rows, _) = store
        .riconciliazione()
        .list_flussi(None, None, 100, 0)
        .await?;
    let anomalie = rows
        .iter()
        .filter(|f| f.stato != crate::model::StatoFlusso::Acquisito)
        .count();
    let mail_dir = data.join("mail");
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
    println!(
        "  Portale Pagamenti: `pagopa-gateway serve` on these data, then http://{}/portale (the demo's notices: ente 80007580279, payer RSSMRA85T10A562S)",
        base.rest.listen
    );
    // The console on these data: an operator of the demo's enti with every role.
    let enti: Vec<String> = [COMUNE, ASL, UNIONE]
        .iter()
        .map(|e| e.to_string())
        .collect();
    let cred = crate::operatori::crea(
        &store,
        "demo",
        "Operatore dimostrativo",
        "amministrazione,visualizzazione,accertamenti,statistiche,intermediario",
        &enti,
        None,
    )
    .await?;
    println!(
        "  MyPivot console: `pagopa-gateway serve` on these data, then http://{}/console",
        base.rest.listen
    );
    cred.stampa();
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
