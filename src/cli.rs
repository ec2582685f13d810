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
    /// Gateway and simulated Nodo in one process on loopback ports: seeds two enti, runs a
    /// day of payments and the next day's reporting, checks every outcome (exit 0 = all as
    /// expected). Keeps its data in `./data` (replacing only an earlier demo's).
    #[cfg(feature = "sim")]
    Demo,
    /// The pagoPA Nodo simulator alone (development and load tests; never in production).
    #[cfg(feature = "sim")]
    Sim {
        /// NodoPerPa endpoint (mutual TLS, dev PKI).
        #[arg(long, default_value = "127.0.0.1:9443")]
        listen: std::net::SocketAddr,
        /// Checkout page (plain HTTP) behind the redirect URLs.
        #[arg(long, default_value = "127.0.0.1:9080")]
        checkout: std::net::SocketAddr,
        /// The gateway's PA endpoint the simulator calls as the Nodo.
        #[arg(long, default_value = "https://localhost:8443/")]
        gateway: String,
        /// RTs are not delivered (only nodoChiediCopiaRT finds them).
        #[arg(long)]
        lose_rt: bool,
        /// Every RT is delivered twice.
        #[arg(long)]
        duplicate_rt: bool,
        /// The first N requests answer PPT_SYSTEM_ERROR.
        #[arg(long, default_value_t = 0)]
        system_errors: u32,
        /// Flows are generated with a declared total one cent off.
        #[arg(long)]
        wrong_flow_totals: bool,
    },
    /// A consistent copy of the embedded SQLite database into OUT, safe while `serve` runs
    /// (restore: stop the gateway, put the copy in the database's place, start it).
    Backup {
        #[arg(long)]
        out: PathBuf,
    },
    /// The SOAP message journal.
    Journal {
        #[command(subcommand)]
        cmd: JournalCmd,
    },
    /// The MyPivot console's operators.
    Operatore {
        #[command(subcommand)]
        cmd: OperatoreCmd,
    },
}

#[derive(Debug, Subcommand)]
enum OperatoreCmd {
    /// Creates an operator (or replaces one of the same username) and prints the password
    /// (when generated) and the TOTP secret once.
    Crea {
        #[arg(long)]
        username: String,
        /// Full name, as the console shows it.
        #[arg(long)]
        nome: String,
        /// Comma-separated: amministrazione, visualizzazione, accertamenti, statistiche,
        /// intermediario (every ente, every role, the operations page).
        #[arg(long)]
        ruoli: String,
        /// Comma-separated ids (codice fiscale) of the enti the operator works on.
        #[arg(long, value_delimiter = ',', default_value = "")]
        enti: Vec<String>,
        /// Generated when not given (at least 12 characters; prefer the environment to the
        /// command line, which other users of the machine may read; not `PAGOPA_GATEWAY_*`,
        /// which is the configuration's).
        #[arg(long, env = "PAGOPA_OPERATORE_PASSWORD", hide_env_values = true)]
        password: Option<String>,
    },
    /// Lists the operators.
    Elenco,
    /// Disables an operator (they leave, or lose their phone) and ends their sessions;
    /// `crea` again for the same username enables them with new credentials.
    Disattiva {
        #[arg(long)]
        username: String,
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

/// Logs go to stderr (stdout is the commands' own output); colours only on a terminal, so
/// no escape codes land in a log file.
fn init_tracing(log: &crate::config::LogConfig) {
    use std::io::IsTerminal;
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(&log.filter));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal());
    let _ = match log.format {
        crate::config::LogFormat::Text => builder.with_target(false).try_init(),
        crate::config::LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .try_init(),
    };
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
    init_tracing(&config.log);
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
            #[cfg(feature = "sim")]
            Cmd::Demo => {
                if crate::sim::demo::run(config).await? {
                    Ok(())
                } else {
                    Err(anyhow::anyhow!(
                        "the demo found unexpected outcomes (see above)"
                    ))
                }
            }
            #[cfg(feature = "sim")]
            Cmd::Sim {
                listen,
                checkout,
                gateway,
                lose_rt,
                duplicate_rt,
                system_errors,
                wrong_flow_totals,
            } => {
                crate::pki::ensure_dev_pki(&config.pa_soap.dev_pki_dir)?;
                let sim = crate::sim::Simulator::new(&config, &gateway)?;
                *sim.faults.lock().expect("lock") = crate::sim::Faults {
                    lose_rt,
                    duplicate_rt,
                    system_errors,
                    delay: None,
                    wrong_flow_totals,
                    ..Default::default()
                };
                let (n, c) = crate::sim::bind(listen, checkout).await?;
                println!(
                    "simulated Nodo: https://{listen}/nodo (mTLS), checkout http://{checkout}/pay"
                );
                sim.serve(n, c, config.pa_soap.dev_pki_dir.clone(), shutdown_signal())
                    .await
            }
            Cmd::Migrate => {
                let store = crate::store::Store::connect(&config.database_url(), 1).await?;
                store.migrate().await?;
                println!("migrations applied ({})", store.backend());
                Ok(())
            }
            Cmd::Backup { out } => {
                if out.exists() {
                    anyhow::bail!("{} exists: refusing to overwrite it", out.display());
                }
                let store = crate::store::Store::connect(&config.database_url(), 1).await?;
                store.backup_into(&out).await?;
                println!("backup written to {}", out.display());
                Ok(())
            }
            Cmd::Journal {
                cmd: JournalCmd::Export { dir },
            } => {
                let store = crate::store::Store::connect(&config.database_url(), 2).await?;
                store.migrate().await?;
                std::fs::create_dir_all(&dir)?;
                use futures_util::TryStreamExt;
                let journal = store.journal();
                let mut all = journal.all();
                let mut n = 0usize;
                while let Some(e) = all.try_next().await? {
                    let (req, resp) =
                        crate::journal::export_names(e.summary.id, &e.summary.operation);
                    std::fs::write(dir.join(req), &e.request)?;
                    std::fs::write(dir.join(resp), &e.response)?;
                    n += 1;
                }
                println!("{n} exchanges written to {}", dir.display());
                Ok(())
            }
            Cmd::Operatore { cmd } => {
                let store = crate::store::Store::connect(&config.database_url(), 2).await?;
                store.migrate().await?;
                match cmd {
                    OperatoreCmd::Crea {
                        username,
                        nome,
                        ruoli,
                        enti,
                        password,
                    } => {
                        let enti: Vec<String> = enti
                            .into_iter()
                            .map(|e| e.trim().to_owned())
                            .filter(|e| !e.is_empty())
                            .collect();
                        let c = crate::operatori::crea(
                            &store, &username, &nome, &ruoli, &enti, password,
                        )
                        .await?;
                        println!("operatore creato");
                        c.stampa();
                    }
                    OperatoreCmd::Disattiva { username } => {
                        store.operatori().disable(&username).await?;
                        println!("operatore {username} disattivato, sessioni chiuse");
                    }
                    OperatoreCmd::Elenco => {
                        for o in store.operatori().list().await? {
                            println!(
                                "{}\t{}\t{}\t{}\t{}",
                                o.username,
                                o.nome,
                                o.ruoli,
                                o.enti.join(","),
                                if o.attivo { "attivo" } else { "disattivato" }
                            );
                        }
                    }
                }
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
