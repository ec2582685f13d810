//! Start-up: configuration → data directory, admin token, TLS material, database and
//! migrations → bound listeners. `Application::build` binds (port 0 allowed, for tests);
//! `run_until` serves until the shutdown future resolves, then drains.

use crate::config::Config;
use crate::rest::AppState;
use crate::store::{Intermediario, Store};
use anyhow::Context;
use rand::RngCore;
use std::future::Future;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;

pub struct Application {
    rest: TcpListener,
    soap: TcpListener,
    /// Plain HTTP for a TLS-terminating reverse proxy, when configured.
    proxy: Option<TcpListener>,
    tls: Arc<rustls::ServerConfig>,
    state: AppState,
    journal: crate::journal::Journal,
    journal_writer: crate::journal::JournalWriter,
}

/// Reads the admin token from `path`, creating it (mode 0600) on first start.
fn dev_admin_token(path: &Path) -> anyhow::Result<String> {
    if let Ok(t) = std::fs::read_to_string(path) {
        let t = t.trim().to_owned();
        if t.len() >= 16 {
            return Ok(t);
        }
    }
    let mut b = [0u8; 24];
    rand::rng().fill_bytes(&mut b);
    let token: String = b.iter().map(|x| format!("{x:02x}")).collect();
    std::fs::write(path, format!("{token}\n"))
        .with_context(|| format!("writing {}", path.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
    }
    Ok(token)
}

impl Application {
    pub async fn build(config: Config) -> anyhow::Result<Application> {
        crate::tls::install_crypto_provider();
        std::fs::create_dir_all(&config.data_dir)
            .with_context(|| format!("creating data_dir {}", config.data_dir.display()))?;

        let admin_token = match &config.admin_token {
            Some(t) => t.clone(),
            None => {
                let path = config.data_dir.join("admin-token");
                let t = dev_admin_token(&path)?;
                tracing::warn!(path = %path.display(), "no admin_token configured: using the generated token stored in this file");
                t
            }
        };

        let (cert, key, ca, dev) = config.pa_soap.tls_files();
        if dev {
            let dir = &config.pa_soap.dev_pki_dir;
            if crate::pki::ensure_dev_pki(dir)? {
                tracing::warn!(dir = %dir.display(), "generated a DEVELOPMENT PKI: never use it in production");
            }
            tracing::warn!(dir = %dir.display(), "PA SOAP endpoint uses the DEVELOPMENT PKI (set pa_soap.cert/key/client_ca in production)");
        }
        let tls =
            crate::tls::server_config(&cert, &key, &ca).context("pa_soap TLS configuration")?;

        let url = config.database_url();
        let store = Store::connect_with(&url, config.database.attese())
            .await
            .with_context(|| {
                format!(
                    "connecting to the database (database.url = {})",
                    redact(&url)
                )
            })?;
        store.migrate().await.context("applying migrations")?;
        let i = &config.intermediario;
        store
            .registro()
            .seed_intermediario(&Intermediario {
                id_intermediario_pa: i.id_intermediario_pa.clone(),
                id_stazione: i.id_stazione.clone(),
                password: i.password.clone(),
            })
            .await?;

        let rest = TcpListener::bind(config.rest.listen)
            .await
            .with_context(|| format!("binding rest.listen {}", config.rest.listen))?;
        let soap = TcpListener::bind(config.pa_soap.listen)
            .await
            .with_context(|| format!("binding pa_soap.listen {}", config.pa_soap.listen))?;
        let proxy = match config.pa_soap.proxy_listen {
            Some(addr) => Some(
                TcpListener::bind(addr)
                    .await
                    .with_context(|| format!("binding pa_soap.proxy_listen {addr}"))?,
            ),
            None => None,
        };
        let (journal, journal_writer) = crate::journal::Journal::start_with(
            store.clone(),
            crate::journal::Limiti::for_store(
                &store,
                (config.journal.queue_mib as usize) << 20,
                config.database.max_connections,
            ),
        );
        // The registry is the one source of the intermediary: the configuration seeds it on
        // the first start, `PUT /api/v1/intermediario` changes it, the PA endpoint checks and
        // the Nodo client sends what it holds.
        let registrato = store.registro().get_intermediario().await?;
        if registrato.id_intermediario_pa != i.id_intermediario_pa
            || registrato.id_stazione != i.id_stazione
            || registrato.password != i.password
        {
            tracing::warn!(
                registry = %registrato.id_intermediario_pa,
                station = %registrato.id_stazione,
                "intermediario.* in the configuration differs from the registry, which is used: change it with PUT /api/v1/intermediario"
            );
        }
        let cache: Arc<crate::store::cache::RegistryCache> = Default::default();
        let nodo = crate::node_client::NodoClient::from_config(&config, Some(journal.clone()))
            .context("Nodo client (nodo.*)")?
            .with_registry(store.clone(), cache.clone());
        let checkout =
            crate::checkout_client::CheckoutClient::from_config(&config, Some(journal.clone()))
                .context("Checkout client (checkout.*)")?;
        let sonde = Arc::new(crate::gauges::Sonde::new(
            store.clone(),
            config.certificati(),
        ));
        let state = AppState {
            store,
            nodo,
            checkout,
            limiti: Arc::new(crate::rest::limite::Limiti::from_config(&config.rest)),
            cache,
            tasks: Default::default(),
            jwt: crate::rest::cittadino::JwtConfig::from_config(&config)
                .context("citizen tokens (rest.jwt_*)")?
                .map(Arc::new),
            admin_token_digest: crate::rest::auth::digest(&admin_token),
            metrics: crate::metrics::install(),
            sonde,
            config: Arc::new(config),
        };
        Ok(Application {
            rest,
            soap,
            proxy,
            tls,
            state,
            journal,
            journal_writer,
        })
    }

    pub fn rest_addr(&self) -> SocketAddr {
        self.rest.local_addr().expect("bound listener")
    }

    pub fn soap_addr(&self) -> SocketAddr {
        self.soap.local_addr().expect("bound listener")
    }

    pub fn proxy_addr(&self) -> Option<SocketAddr> {
        self.proxy
            .as_ref()
            .map(|l| l.local_addr().expect("bound listener"))
    }

    /// The message journal, for a caller that waits for it to drain (the benches).
    pub fn journal(&self) -> &crate::journal::Journal {
        &self.journal
    }
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves both listeners until `shutdown` resolves; in-flight requests then finish.
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let (tx, rx) = tokio::sync::watch::channel(false);
        let wait = |mut rx: tokio::sync::watch::Receiver<bool>| async move {
            let _ = rx.wait_for(|stop| *stop).await;
        };
        tracing::info!(rest = %self.rest_addr(), pa_soap = %self.soap_addr(), backend = self.state.store.backend(), "pagopa-gateway listening");
        let pins = Arc::new(self.state.config.pa_soap.client_subject_pins.clone());
        let store = self.state.store.clone();
        let (journal, journal_writer) = (self.journal, self.journal_writer);
        let max_in_flight = self.state.config.pa_soap.max_in_flight as usize;
        let timeout = Duration::from_secs(
            u64::from(self.state.config.pa_soap.activation_timeout_minutes) * 60,
        );
        let recovery_after =
            Duration::from_secs(u64::from(self.state.config.outbox.recovery_after_minutes) * 60);
        let flussi_every = match self.state.config.outbox.flussi_every_minutes {
            0 => None,
            m => Some(Duration::from_secs(u64::from(m) * 60)),
        };
        // Supervised: a panic restarts them (logged, counted, shown in /readyz).
        let tasks = self.state.tasks.clone();
        let sweeper = tasks.spawn("sweeper", {
            let store = store.clone();
            move || crate::pa_server::sweeper(store.clone(), timeout, recovery_after, flussi_every)
        });
        let recon = tasks.spawn("riconciliazione", {
            let store = store.clone();
            move || crate::riconciliazione::lavoratore(store.clone())
        });
        // SQLite keeps no statistics to go stale (`Store::analizza_tabelle`).
        let analisi = match self.state.config.database.analyze_every_seconds {
            0 => None,
            _ if store.backend() == "sqlite" => None,
            s => Some(tasks.spawn("analyze", {
                let store = store.clone();
                move || analizza_ogni(store.clone(), Duration::from_secs(s))
            })),
        };
        let retention = tasks.spawn("retention", {
            let store = store.clone();
            let politica = crate::retention::Politica::from_config(&self.state.config);
            move || crate::retention::run(store.clone(), politica.clone())
        });
        let config = &self.state.config;
        let nodo = self.state.nodo.clone();
        let mut settings = crate::outbox::Settings::from_config(config);
        let fdr = crate::fdr_client::FdrClient::from_config(config, Some(journal.clone()))
            .context("FdR client (fdr.*)")?;
        let biz =
            crate::bizevents_client::BizEventsClient::from_config(config, Some(journal.clone()))
                .context("Biz Events client (biz_events.*)")?;
        if !nodo.is_configured() {
            tracing::warn!("nodo.url not set: work for the Nodo waits in the outbox");
            let mut kinds = vec![crate::model::TipoJob::RtEmail.as_str().to_owned()];
            if fdr.is_configured() {
                kinds.push(crate::model::TipoJob::Flussi.as_str().to_owned());
            }
            if biz.is_configured() {
                kinds.push(crate::model::TipoJob::RecuperoRicevuta.as_str().to_owned());
            }
            settings.kinds = Some(kinds);
        }
        let mailer = crate::mail::Mailer::from_config(config).context("mail transport (mail.*)")?;
        let outbox = crate::outbox::Outbox::new(
            store.clone(),
            settings,
            Arc::new(crate::jobs::Dispatcher {
                store: store.clone(),
                nodo,
                fdr,
                biz,
                mailer,
            }),
        );
        let outbox = tokio::spawn(outbox.run(wait(rx.clone())));
        let pa_soap = self.state.config.pa_soap.clone();
        let pa = crate::pa_server::router(crate::pa_server::PaState {
            store: store.clone(),
            journal,
            limiter: Arc::new(tokio::sync::Semaphore::new(max_in_flight)),
            cache: self.state.cache.clone(),
            deadline: Duration::from_millis(self.state.config.pa_soap.deadline_ms),
            servizi: Arc::new(self.state.config.pa_soap.servizi.clone()),
        });
        // Behind a TLS-terminating proxy: the same endpoint, trusted only from the proxies.
        let proxy = self.proxy.map(|listener| {
            let trust = crate::pa_server::ProxyTrust {
                trusted: Arc::new(pa_soap.trusted_proxies.clone()),
                subject_header: axum::http::HeaderName::from_bytes(
                    pa_soap.client_subject_header.as_bytes(),
                )
                .expect("validated at load"),
                pins: pins.clone(),
            };
            let router = pa.clone().layer(axum::middleware::from_fn_with_state(
                trust,
                crate::pa_server::require_trusted_proxy,
            ));
            crate::listener::serve(
                listener,
                router,
                pa_soap.listener(),
                wait(rx.clone()),
                DRAIN,
            )
        });
        let proxy = async move {
            if let Some(p) = proxy {
                p.await;
            }
        };
        let rest_limits = self.state.config.rest.listener();
        let rest = crate::listener::serve(
            self.rest,
            // The REST API and the Portale Pagamenti share the port; each keeps its own
            // layers (problem+json and upload limits for the API, small forms for the pages).
            crate::rest::router(self.state.clone()).merge(crate::web::router(self.state)),
            rest_limits,
            wait(rx.clone()),
            DRAIN,
        );
        let soap = crate::tls::serve(
            self.soap,
            self.tls,
            pa,
            pins,
            pa_soap.listener(),
            wait(rx),
            DRAIN,
        );
        let signal = async move {
            shutdown.await;
            tracing::info!("shutting down: draining in-flight requests");
            let _ = tx.send(true);
        };
        tokio::join!(rest, soap, signal, proxy);
        retention.abort();
        sweeper.abort();
        recon.abort();
        if let Some(a) = analisi {
            a.abort();
        }
        // Workers finish the job in hand; they hold journal handles too.
        if tokio::time::timeout(Duration::from_secs(60), outbox)
            .await
            .is_err()
        {
            tracing::warn!("outbox workers did not finish in 60 s; their leases will expire");
        }
        // The listeners are gone, and with them every journal handle: the writer flushes and ends.
        if !journal_writer.close(Duration::from_secs(10)).await {
            tracing::warn!("journal writer did not finish flushing in 10 s");
        }
        store.close().await;
        Ok(())
    }
}

/// How long in-flight requests may take to finish after a shutdown signal.
const DRAIN: Duration = Duration::from_secs(30);

/// Planner statistics kept fresh (`Store::analizza_tabelle`, PostgreSQL): every
/// `every`, the first one `every` after the start, since migrations and seeds are no load
/// worth analysing at once. A failure is logged and the next round tries again.
async fn analizza_ogni(store: Store, every: Duration) {
    let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        if let Err(e) = store.analizza_tabelle().await {
            tracing::warn!(error = %e, "planner statistics not refreshed");
        }
    }
}

/// The URL without its password, for messages.
fn redact(url: &str) -> String {
    match (url.find("://"), url.find('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            match creds.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..s + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

/// Resolves on SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { () = ctrl_c => {}, () = term => {} }
}

#[cfg(test)]
mod tests {
    #[test]
    fn redact_hides_only_the_password() {
        assert_eq!(
            super::redact("postgres://u:secret@h:5432/db"),
            "postgres://u:***@h:5432/db"
        );
        assert_eq!(super::redact("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(
            super::redact("sqlite://./data/gateway.db"),
            "sqlite://./data/gateway.db"
        );
    }
}
