//! The binary's subcommands, run as a process.

use crate::helpers::*;
use std::process::Command;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_pagopa-gateway"))
}

#[test]
fn certs_dev_writes_the_five_files() {
    let dir = tempfile::tempdir().unwrap();
    let out = bin()
        .args(["certs", "dev", "--out"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    for f in [
        "ca.pem",
        "server.pem",
        "server.key",
        "client.pem",
        "client.key",
    ] {
        let text = std::fs::read_to_string(dir.path().join(f)).unwrap();
        assert!(text.starts_with("-----BEGIN"), "{f}");
    }
}

#[tokio::test]
async fn migrate_applies_the_schema_on_both_backends() {
    for backend in [Backend::Sqlite, Backend::Postgres] {
        let dir = tempfile::tempdir().unwrap();
        let url = fresh_database(backend, dir.path()).await;
        let cfg = dir.path().join("gateway.toml");
        std::fs::write(&cfg, format!("[database]\nurl = \"{url}\"\n")).unwrap();
        let out = bin()
            .arg("migrate")
            .arg("--config")
            .arg(&cfg)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{backend:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(String::from_utf8_lossy(&out.stdout).contains("migrations applied"));
        // Twice is fine: migrations are idempotent.
        assert!(
            bin()
                .arg("migrate")
                .arg("--config")
                .arg(&cfg)
                .output()
                .unwrap()
                .status
                .success()
        );
    }
}

#[test]
fn invalid_configuration_fails_at_start_naming_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("gateway.toml");
    std::fs::write(&cfg, "[rest]\nlisten = \"not an address\"\n").unwrap();
    let out = bin()
        .arg("serve")
        .arg("--config")
        .arg(&cfg)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("rest.listen"),
        "{out:?}"
    );
    let out = bin()
        .arg("serve")
        .arg("--config")
        .arg(dir.path().join("missing.toml"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let out = bin()
        .arg("serve")
        .env("PAGOPA_GATEWAY_DATABASE__URL", "mysql://x")
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("database.url"),
        "{out:?}"
    );
}

#[tokio::test]
async fn config_file_can_be_named_by_environment() {
    let dir = tempfile::tempdir().unwrap();
    let url = fresh_database(Backend::Sqlite, dir.path()).await;
    let cfg = dir.path().join("gateway.toml");
    std::fs::write(&cfg, format!("[database]\nurl = \"{url}\"\n")).unwrap();
    let out = bin()
        .arg("migrate")
        .env("PAGOPA_GATEWAY_CONFIG", &cfg)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test]
async fn postgres_connection_can_use_tls() {
    use sqlx::Connection;
    let dir = tempfile::tempdir().unwrap();
    let url = fresh_database(Backend::Postgres, dir.path()).await;
    let tls_url = format!("{url}&sslmode=require");
    let server_offers_tls = {
        let mut c = sqlx::PgConnection::connect(&pg_base_url()).await.unwrap();
        let (ssl,): (String,) = sqlx::query_as("SHOW ssl").fetch_one(&mut c).await.unwrap();
        ssl == "on"
    };
    if !server_offers_tls {
        // Without TLS on the server, requiring it must fail rather than silently downgrade.
        assert!(
            pagopa_gateway::store::Store::connect(&tls_url, 1)
                .await
                .is_err()
        );
        return;
    }
    let store = pagopa_gateway::store::Store::connect(&tls_url, 1)
        .await
        .unwrap();
    store.migrate().await.unwrap();
    let mut c = sqlx::PgConnection::connect(&tls_url).await.unwrap();
    let (ssl,): (bool,) =
        sqlx::query_as("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
            .fetch_one(&mut c)
            .await
            .unwrap();
    assert!(ssl, "the connection is encrypted");
}

/// `log.format = json`: every log line an object a collector can read, no colour codes
/// (stderr is not a terminal here), and the command's own output apart on stdout.
#[tokio::test]
async fn json_logs_are_one_object_per_line_on_stderr() {
    let dir = tempfile::tempdir().unwrap();
    let url = fresh_database(Backend::Sqlite, dir.path()).await;
    let out = bin()
        .arg("migrate")
        .env("PAGOPA_GATEWAY_DATABASE__URL", &url)
        .env("PAGOPA_GATEWAY_LOG__FORMAT", "json")
        .env("PAGOPA_GATEWAY_LOG__FILTER", "debug")
        .env_remove("RUST_LOG")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("migrations applied"));
    let err = String::from_utf8(out.stderr).unwrap();
    let lines: Vec<&str> = err.lines().filter(|l| !l.is_empty()).collect();
    assert!(!lines.is_empty(), "debug logging says something");
    for l in lines {
        let v: serde_json::Value = serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}"));
        assert!(v["level"].is_string() && v["timestamp"].is_string(), "{l}");
    }
    assert!(!err.contains('\u{1b}'), "no colour codes off a terminal");
}

/// PostgreSQL is backed up with its own tools: the command says so instead of copying.
#[tokio::test]
async fn backup_on_postgres_points_to_its_own_tools() {
    let dir = tempfile::tempdir().unwrap();
    let url = fresh_database(Backend::Postgres, dir.path()).await;
    let out = bin()
        .arg("backup")
        .arg("--out")
        .arg(dir.path().join("b"))
        .env("PAGOPA_GATEWAY_DATABASE__URL", &url)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("pg_dump"));
}

#[tokio::test]
async fn operatore_creates_lists_and_disables_console_operators_on_both_backends() {
    for backend in [Backend::Sqlite, Backend::Postgres] {
        let dir = tempfile::tempdir().unwrap();
        let url = fresh_database(backend, dir.path()).await;
        let cfg = dir.path().join("gateway.toml");
        std::fs::write(&cfg, format!("[database]\nurl = \"{url}\"\n")).unwrap();
        let run = |args: &[&str], password: Option<&str>| {
            let mut c = bin();
            c.args(args).arg("--config").arg(&cfg);
            c.env_remove("PAGOPA_OPERATORE_PASSWORD");
            if let Some(p) = password {
                c.env("PAGOPA_OPERATORE_PASSWORD", p);
            }
            c.output().unwrap()
        };
        let crea = [
            "operatore",
            "crea",
            "--username",
            "regione.admin",
            "--nome",
            "Admin",
            "--ruoli",
            "intermediario",
        ];
        // A generated password is printed once, with the TOTP secret and its URI.
        let out = run(&crea, None);
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{backend:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            text.contains("password: ")
                && text.contains("otpauth://totp/MyPivot:regione.admin?secret="),
            "{text}"
        );
        // A given one is not; a short one, an unknown role or an ente that does not exist is refused.
        let out = run(&crea, Some("una-password-lunga"));
        assert!(
            out.status.success() && !String::from_utf8_lossy(&out.stdout).contains("password: ")
        );
        assert!(!run(&crea, Some("corta")).status.success());
        let mut ruolo = crea;
        ruolo[7] = "capo";
        assert!(!run(&ruolo, None).status.success());
        let out = run(
            &[
                "operatore",
                "crea",
                "--username",
                "mario.rossi",
                "--nome",
                "M",
                "--ruoli",
                "statistiche",
                "--enti",
                "80007580279",
            ],
            None,
        );
        assert!(!out.status.success());
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("ente 80007580279 sconosciuto"),
            "{out:?}"
        );

        let out = run(&["operatore", "elenco"], None);
        let text = String::from_utf8_lossy(&out.stdout);
        assert_eq!(
            text.trim(),
            "regione.admin\tAdmin\tintermediario\t\tattivo",
            "{backend:?}"
        );
        assert!(
            run(
                &["operatore", "disattiva", "--username", "regione.admin"],
                None
            )
            .status
            .success()
        );
        assert!(
            String::from_utf8_lossy(&run(&["operatore", "elenco"], None).stdout)
                .contains("disattivato")
        );
        assert!(
            !run(&["operatore", "disattiva", "--username", "nessuno"], None)
                .status
                .success()
        );
    }
}
