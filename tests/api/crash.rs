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

/// A database with the ente and N RPTs awaiting their RT, and a server configuration.
struct Preparato {
    dir: tempfile::TempDir,
    url: String,
    intermediario: Intermediario,
    cfg: std::path::PathBuf,
    pki: std::path::PathBuf,
    rest: u16,
    soap: u16,
}

async fn prepare(backend: Backend) -> Preparato {
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
    Preparato {
        dir,
        url,
        intermediario,
        cfg,
        pki,
        rest,
        soap,
    }
}

/// 8 concurrent senders of the N RTs; each acknowledged IUV is pushed to `acked`.
fn burst(
    p: &Preparato,
    acked: &Arc<std::sync::Mutex<Vec<String>>>,
) -> Vec<tokio::task::JoinHandle<()>> {
    let addr: std::net::SocketAddr = format!("127.0.0.1:{}", p.soap).parse().unwrap();
    (0..8)
        .map(|t| {
            let (acked, pki, intermediario) =
                (acked.clone(), p.pki.clone(), p.intermediario.clone());
            tokio::spawn(async move {
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
                        acked.lock().unwrap().push(iuv);
                    }
                }
            })
        })
        .collect()
}

async fn kill_during_burst(backend: Backend) {
    let p = prepare(backend).await;
    let mut child = spawn_server(&p.cfg, p.dir.path());
    wait_ready(p.rest).await;

    // 8 concurrent senders; the process is killed once a third of the RTs are acknowledged.
    let acked = Arc::new(std::sync::Mutex::new(Vec::new()));
    let tasks = burst(&p, &acked);
    while acked.lock().unwrap().len() < N / 3 {
        tokio::time::sleep(std::time::Duration::from_millis(1)).await;
    }
    child.kill().unwrap(); // SIGKILL: no drain, no flush
    child.wait().unwrap();
    for t in tasks {
        t.await.unwrap();
    }
    let ok: Vec<String> = acked.lock().unwrap().clone();
    let Preparato {
        dir,
        url,
        intermediario,
        cfg,
        pki,
        rest,
        soap,
    } = p;
    let addr: std::net::SocketAddr = format!("127.0.0.1:{soap}").parse().unwrap();
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
        assert_eq!(r.stato.as_str(), "ELABORATA", "{iuv}");
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

/// `backup` while a burst of paaInviaRT is being acknowledged: the copy holds every RT
/// acknowledged before it began, byte for byte, and after a restore (the copy put in the
/// database's place) the gateway serves from it and knows those RTs as duplicates.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_backup_taken_during_a_burst_holds_every_rt_acknowledged_before_it() {
    let p = prepare(Backend::Sqlite).await;
    let mut child = spawn_server(&p.cfg, p.dir.path());
    wait_ready(p.rest).await;
    let acked = Arc::new(std::sync::Mutex::new(Vec::new()));
    let tasks = burst(&p, &acked);
    while acked.lock().unwrap().len() < N / 3 {
        tokio::time::sleep(std::time::Duration::from_millis(1)).await;
    }
    let before: Vec<String> = acked.lock().unwrap().clone();
    let out = p.dir.path().join("backup.db");
    let backup = |out: &std::path::Path| {
        std::process::Command::new(env!("CARGO_BIN_EXE_pagopa-gateway"))
            .arg("backup")
            .arg("--out")
            .arg(out)
            .arg("--config")
            .arg(&p.cfg)
            .output()
            .unwrap()
    };
    let b = backup(&out);
    assert!(b.status.success(), "{}", String::from_utf8_lossy(&b.stderr));
    assert!(
        !backup(&out).status.success(),
        "an existing file is not overwritten"
    );
    for t in tasks {
        t.await.unwrap();
    }
    child.kill().unwrap();
    child.wait().unwrap();

    // Restore: the copy in the database's place.
    std::fs::copy(&out, p.dir.path().join("test.db")).unwrap();
    for ext in ["-wal", "-shm"] {
        let _ = std::fs::remove_file(p.dir.path().join(format!("test.db{ext}")));
    }
    let store = Store::connect(&p.url, 2).await.unwrap();
    for iuv in &before {
        let (stored, _) = store
            .pagamenti()
            .list_rt(Some(ENTE), None, 1_000, 0)
            .await
            .unwrap();
        let r = stored
            .iter()
            .find(|r| &r.iuv == iuv)
            .unwrap_or_else(|| panic!("RT {iuv} acknowledged before the backup is not in it"));
        assert_eq!(store.pagamenti().get_rt(r.id).await.unwrap().1, rt(iuv));
    }
    store.close().await;
    let mut child = spawn_server(&p.cfg, p.dir.path());
    wait_ready(p.rest).await;
    let addr: std::net::SocketAddr = format!("127.0.0.1:{}", p.soap).parse().unwrap();
    let (status, body) = soap_post_to(
        addr,
        &p.pki,
        "/ricevute",
        "paaInviaRT",
        &envelope(&p.intermediario, &before[0]),
    )
    .await
    .unwrap();
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!((status, outcome(&body).as_str()), (200, "PAA_RT_DUPLICATA"));
}
