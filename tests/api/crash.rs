//! Nothing lost: the server process is killed (SIGKILL) during a burst of paaInviaRT; every
//! RT it acknowledged OK is in the store afterwards, byte for byte, and after a restart the
//! Nodo's re-deliveries are answered consistently (duplicate if acknowledged, applied if not).

use crate::helpers::*;
use pagopa_gateway::model::Importo;
use pagopa_gateway::registry::EnteInput;
use pagopa_gateway::soap::sanp2::{Base64Doc, EsitoPaaInviaRT, IntestazionePPT, PaaInviaRT};
use pagopa_gateway::soap::{read_envelope, write_envelope};
use pagopa_gateway::store::{Intermediario, NuovaRpt, Store};
use pagopa_gateway::xml::Limits;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

const ENTE: &str = "80007580279";
const N: usize = 240;

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A valid RT for the key (built from the model, as the other receipt tests do); its bytes
/// are what must survive.
fn rt(iuv: &str) -> Vec<u8> {
    crate::pa_invia_rt::rt_xml(iuv, "ccp", 0, &[1000]).into_bytes()
}

fn envelope(i: &Intermediario, iuv: &str) -> String {
    let h = IntestazionePPT {
        id_intermediario_pa: i.id_intermediario_pa.clone(),
        id_stazione: i.id_stazione.clone(),
        id_dominio: ENTE.into(),
        iuv: iuv.into(),
        ccp: "ccp".into(),
    };
    write_envelope(
        Some(&h.write()),
        &PaaInviaRT {
            tipo_firma: None,
            rt: Base64Doc(rt(iuv)),
        }
        .write(),
    )
}

fn outcome(body: &str) -> String {
    let e = read_envelope(body.as_bytes(), Limits::MESSAGE).unwrap();
    EsitoPaaInviaRT::parse(e.body.xml)
        .unwrap()
        .fault
        .map_or("OK".into(), |f| f.fault_code)
}

fn spawn_server(cfg: &std::path::Path, dir: &std::path::Path) -> std::process::Child {
    std::process::Command::new(env!("CARGO_BIN_EXE_pagopa-gateway"))
        .arg("serve")
        .arg("--config")
        .arg(cfg)
        .current_dir(dir)
        .stdout(std::process::Stdio::null())
        .stderr(std::fs::File::create(dir.join("server.log")).unwrap())
        .spawn()
        .unwrap()
}

async fn wait_ready(rest: u16) {
    for _ in 0..200 {
        if tokio::net::TcpStream::connect(("127.0.0.1", rest))
            .await
            .is_ok()
        {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("server did not start");
}

async fn kill_during_burst(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let url = fresh_database(backend, dir.path()).await;
    let defaults = pagopa_gateway::config::Config::default().intermediario;
    let intermediario = Intermediario {
        id_intermediario_pa: defaults.id_intermediario_pa,
        id_stazione: defaults.id_stazione,
        password: defaults.password,
    };
    {
        let store = Store::connect(&url, 2).await.unwrap();
        store.migrate().await.unwrap();
        store
            .registro()
            .seed_intermediario(&intermediario)
            .await
            .unwrap();
        let ente: EnteInput = serde_json::from_value(ente_json(ENTE, "c_l736", 1)).unwrap();
        store.registro().insert_ente(&ente).await.unwrap();
        for i in 0..N {
            let r = NuovaRpt {
                id_dominio: ENTE.into(),
                iuv: format!("IUV{i:05}"),
                ccp: "ccp".into(),
                dovuto_id: None,
                importo: Importo::from_cents(1000).unwrap(),
                xml: b"<RPT/>".to_vec(),
            };
            store.pagamenti().insert_rpt(&r).await.unwrap();
        }
        store.close().await;
    }
    let (rest, soap) = (free_port(), free_port());
    let pki = dir.path().join("certs");
    let cfg = dir.path().join("gateway.toml");
    std::fs::write(
        &cfg,
        format!(
            "admin_token = \"{ADMIN}\"\ndata_dir = \"{}\"\n[database]\nurl = \"{url}\"\n[rest]\nlisten = \"127.0.0.1:{rest}\"\n[pa_soap]\nlisten = \"127.0.0.1:{soap}\"\ndev_pki_dir = \"{}\"\n",
            dir.path().join("data").display(),
            pki.display()
        ),
    )
    .unwrap();
    let mut child = spawn_server(&cfg, dir.path());
    wait_ready(rest).await;
    let addr: std::net::SocketAddr = format!("127.0.0.1:{soap}").parse().unwrap();

    // 8 concurrent senders; the process is killed once a third of the RTs are acknowledged.
    let acked = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for t in 0..8 {
        let (acked, pki, intermediario) = (acked.clone(), pki.clone(), intermediario.clone());
        tasks.push(tokio::spawn(async move {
            let mut ok = Vec::new();
            for i in (t..N).step_by(8) {
                let iuv = format!("IUV{i:05}");
                if let Ok((200, body)) = soap_post_to(
                    addr,
                    &pki,
                    "/ricevute",
                    "paaInviaRT",
                    &envelope(&intermediario, &iuv),
                )
                .await
                    && outcome(&body) == "OK"
                {
                    acked.fetch_add(1, Ordering::SeqCst);
                    ok.push(iuv);
                }
            }
            ok
        }));
    }
    while acked.load(Ordering::SeqCst) < N / 3 {
        tokio::time::sleep(std::time::Duration::from_millis(1)).await;
    }
    child.kill().unwrap(); // SIGKILL: no drain, no flush
    child.wait().unwrap();
    let mut ok: Vec<String> = Vec::new();
    for t in tasks {
        ok.extend(t.await.unwrap());
    }
    assert!(
        ok.len() >= N / 3 && ok.len() < N,
        "the kill must land mid-burst ({} acknowledged)",
        ok.len()
    );

    // Every acknowledged RT is stored, byte for byte.
    let store = Store::connect(&url, 2).await.unwrap();
    let (stored, total) = store
        .pagamenti()
        .list_rt(Some(ENTE), None, 1_000, 0)
        .await
        .unwrap();
    assert!(total as usize >= ok.len());
    for iuv in &ok {
        let r = stored
            .iter()
            .find(|r| &r.iuv == iuv)
            .unwrap_or_else(|| panic!("acknowledged RT {iuv} lost"));
        assert_eq!(r.stato, "ELABORATA", "{iuv}");
        assert_eq!(
            store.pagamenti().get_rt(r.id).await.unwrap().1,
            rt(iuv),
            "{iuv} stored as received"
        );
    }
    store.close().await;

    // After a restart the Nodo re-delivers everything: acknowledged ones are duplicates; an
    // unacknowledged one is either applied now (redo) or was applied before the kill cut the
    // answer (keep: duplicate). Nothing is left unprocessed.
    let mut child = spawn_server(&cfg, dir.path());
    wait_ready(rest).await;
    for i in 0..N {
        let iuv = format!("IUV{i:05}");
        let (status, body) = soap_post_to(
            addr,
            &pki,
            "/ricevute",
            "paaInviaRT",
            &envelope(&intermediario, &iuv),
        )
        .await
        .unwrap();
        assert_eq!(status, 200);
        let got = outcome(&body);
        if ok.contains(&iuv) {
            assert_eq!(got, "PAA_RT_DUPLICATA", "{iuv}");
        } else {
            assert!(got == "OK" || got == "PAA_RT_DUPLICATA", "{iuv}: {got}");
        }
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let store = Store::connect(&url, 2).await.unwrap();
    let (_, elaborated) = store
        .pagamenti()
        .list_rt(Some(ENTE), Some("ELABORATA"), 1, 0)
        .await
        .unwrap();
    assert_eq!(elaborated as usize, N);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn killed_during_a_burst_of_paa_invia_rt_loses_no_acknowledged_rt_sqlite() {
    kill_during_burst(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn killed_during_a_burst_of_paa_invia_rt_loses_no_acknowledged_rt_postgres() {
    kill_during_burst(Backend::Postgres).await;
}
