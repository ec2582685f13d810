//! The one binary's subcommands.

use crate::app::{Application, shutdown_signal};
use crate::config::Config;
use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, Parser)]
#[command(
    name = "pagopa-gateway",
    version,
    about = "pagoPA intermediario tecnologico"
)]
struct Cli {
    /// TOML configuration file; without it the built-in development defaults apply.
    #[arg(long, global = true, env = "PAGOPA_GATEWAY_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Debug, Subcommand)]
enum Cmd {
    /// Runs every listener until SIGINT/SIGTERM, then drains in-flight requests.
    Serve,
    /// Applies the schema migrations and exits.
    Migrate,
    /// Certificate helpers.
    Certs {
        #[command(subcommand)]
        cmd: CertsCmd,
    },
    /// The SOAP message journal.
    Journal {
        #[command(subcommand)]
        cmd: JournalCmd,
    },
}

#[derive(Debug, Subcommand)]
enum JournalCmd {
    /// Writes every journal entry as `<seq>-<operation>-<request|response>.xml` into DIR.
    Export {
        #[arg(long)]
        dir: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
enum CertsCmd {
    /// Writes a development PKI: ca.pem, server.pem/.key, client.pem/.key.
    Dev {
        #[arg(long)]
        out: PathBuf,
    },
}

fn init_tracing(filter: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(filter));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .try_init();
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Cmd::Certs {
        cmd: CertsCmd::Dev { out },
    } = &cli.cmd
    {
        return match crate::pki::write_dev_pki(out) {
            Ok(()) => {
                println!(
                    "development PKI written to {} ({})",
                    out.display(),
                    crate::pki::FILES.join(", ")
                );
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("error: {e:#}");
                ExitCode::FAILURE
            }
        };
    }
    let config = match Config::load(cli.config.as_deref()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    init_tracing(&config.log.filter);
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = rt.block_on(async move {
        match cli.cmd {
            Cmd::Serve => {
                Application::build(config)
                    .await?
                    .run_until(shutdown_signal())
                    .await
            }
            Cmd::Migrate => {
                let store = crate::store::Store::connect(&config.database_url(), 1).await?;
                store.migrate().await?;
                println!("migrations applied ({})", store.backend());
                Ok(())
            }
            Cmd::Journal {
                cmd: JournalCmd::Export { dir },
            } => {
                let store = crate::store::Store::connect(&config.database_url(), 2).await?;
                store.migrate().await?;
                std::fs::create_dir_all(&dir)?;
                let (mut after, mut n) = (0i64, 0usize);
                loop {
                    let page = store.journal_after(after, 500).await?;
                    let Some(last) = page.last() else { break };
                    after = last.summary.id;
                    for e in &page {
                        let (req, resp) =
                            crate::journal::export_names(e.summary.id, &e.summary.operation);
                        std::fs::write(dir.join(req), &e.request)?;
                        std::fs::write(dir.join(resp), &e.response)?;
                        n += 1;
                    }
                }
                println!("{n} exchanges written to {}", dir.display());
                Ok(())
            }
            Cmd::Certs { .. } => unreachable!("handled above"),
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
