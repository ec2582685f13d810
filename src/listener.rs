//! What every listener of the gateway shares: a cap on open connections and a deadline for
//! a request's headers. Without them idle or trickling clients hold file descriptors for
//! ever: 1,100 idle connections to the REST port exhausted the process's 1,024 and the Nodo's
//! calls failed. With a cap, a listener stops accepting when full (new clients wait in the
//! kernel's backlog, costing the process nothing), and each listener has its own cap, so a
//! flood on the REST port never takes the PA endpoint's connections.

use axum::Router;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper::server::conn::http1::Builder;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tower::ServiceExt;

/// A listener's bounds (`rest.*` / `pa_soap.*` in the configuration).
#[derive(Debug, Clone, Copy)]
pub struct Limiti {
    /// Connections open at once; beyond, the listener stops accepting until one closes.
    pub max_connections: usize,
    /// From a connection's start, or the end of its previous request, to the end of the
    /// next request's headers: an idle keep-alive connection, or one sending its headers a
    /// byte at a time, is closed after this long.
    pub header_read_timeout: Duration,
}

impl Limiti {
    /// From a listener's `max_connections` and `header_read_timeout_ms` settings.
    pub fn new(max_connections: u32, header_read_timeout_ms: u64) -> Limiti {
        Limiti {
            max_connections: max_connections as usize,
            header_read_timeout: Duration::from_millis(header_read_timeout_ms),
        }
    }
}

impl Default for Limiti {
    /// The gateway's own listeners take theirs from the configuration; this is for the
    /// simulator and test peers.
    fn default() -> Self {
        Limiti {
            max_connections: 1024,
            header_read_timeout: Duration::from_secs(10),
        }
    }
}

/// The HTTP/1.1 connection builder with the header deadline (hyper applies none without a
/// timer). HTTP/1.1 only, served by hyper directly: hyper-util's version-sniffing builder
/// waits for a client's first bytes with no deadline at all.
pub fn builder(l: Limiti) -> Builder {
    let mut b = Builder::new();
    b.timer(TokioTimer::new())
        .header_read_timeout(l.header_read_timeout);
    b
}

/// Accepts the next connection once there is room for it.
pub async fn accept(
    listener: &TcpListener,
    room: &Arc<Semaphore>,
) -> (TcpStream, SocketAddr, OwnedSemaphorePermit) {
    // Closed never: the semaphore lives as long as the listener.
    let permit = loop {
        if let Ok(p) = room.clone().acquire_owned().await {
            break p;
        }
    };
    loop {
        match listener.accept().await {
            Ok((tcp, peer)) => {
                let _ = tcp.set_nodelay(true);
                return (tcp, peer, permit);
            }
            Err(e) => {
                // e.g. EMFILE: back off instead of spinning.
                tracing::warn!(error = %e, "accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }
}

/// Serves `router` over plain HTTP (the REST port, the PA endpoint behind a TLS-terminating
/// proxy) until `shutdown` resolves, then waits up to `drain` for open requests. Requests
/// carry `ConnectInfo<SocketAddr>` like axum's own server gives them.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: Limiti,
    shutdown: impl Future<Output = ()>,
    drain: Duration,
) {
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let builder = builder(limits);
    let room = Arc::new(Semaphore::new(limits.max_connections));
    tokio::pin!(shutdown);
    loop {
        let (tcp, peer, permit) = tokio::select! {
            c = accept(&listener, &room) => c,
            () = &mut shutdown => break,
        };
        let svc = router
            .clone()
            .map_request(move |mut req: axum::http::Request<Incoming>| {
                req.extensions_mut().insert(ConnectInfo(peer));
                req
            });
        let conn = builder.serve_connection(TokioIo::new(tcp), TowerToHyperService::new(svc));
        let conn = graceful.watch(conn);
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                tracing::debug!(%peer, error = %e, "connection ended with error");
            }
            drop(permit);
        });
    }
    drop(listener);
    drain_within(graceful, drain).await;
}

/// After the listener is closed: waits up to `drain` for open connections to finish their
/// requests, then lets them go.
pub async fn drain_within(
    graceful: hyper_util::server::graceful::GracefulShutdown,
    drain: Duration,
) {
    if tokio::time::timeout(drain, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("connections still open after the drain period: closing");
    }
}
