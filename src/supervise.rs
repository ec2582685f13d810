//! Background tasks that must not stop silently (the activation sweeper, the reconciliation
//! worker, the journal's retention): each runs under a supervisor that restarts it after a
//! panic or an unexpected end, with a pause that grows from one second to a minute, logs and
//! counts it, and reports every task's state for `/readyz`.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::task::JoinHandle;

pub use crate::metrics::TASK_RESTARTS as RESTARTS;

/// A task's state as `/readyz` shows it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StatoTask {
    pub running: bool,
    pub restarts: u64,
    /// Why it last stopped (the panic message).
    pub last_failure: Option<String>,
}

/// The supervised tasks of this instance; cheap to clone.
#[derive(Clone)]
pub struct Supervisor {
    tasks: Arc<Mutex<BTreeMap<&'static str, StatoTask>>>,
    first_pause: Duration,
}

impl Default for Supervisor {
    fn default() -> Self {
        Supervisor::with_pause(Duration::from_secs(1))
    }
}

/// A run that lasted this long was healthy: the next failure pauses briefly again.
const HEALTHY_RUN: Duration = Duration::from_secs(300);
const MAX_PAUSE: Duration = Duration::from_secs(60);

/// Aborts the task it holds when dropped, so aborting the supervisor stops the task too.
struct AbortOnDrop(JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl Supervisor {
    pub fn with_pause(first_pause: Duration) -> Supervisor {
        Supervisor {
            tasks: Arc::default(),
            first_pause,
        }
    }

    /// Runs `make()` as task `name` until the returned handle is aborted, starting it again
    /// whenever it panics or returns.
    pub fn spawn<F, Fut>(&self, name: &'static str, make: F) -> JoinHandle<()>
    where
        F: Fn() -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let me = self.clone();
        tokio::spawn(async move {
            let mut pause = me.first_pause;
            loop {
                me.update(name, |t| t.running = true);
                let started = Instant::now();
                // Background work: its writes yield to those a caller waits on.
                let mut run = AbortOnDrop(tokio::spawn(crate::store::turno::sullo_sfondo(make())));
                let why = match (&mut run.0).await {
                    Ok(()) => "ended".to_owned(),
                    Err(e) if e.is_panic() => panic_message(e.into_panic()),
                    Err(_) => return, // aborted from outside: shutting down
                };
                if started.elapsed() >= HEALTHY_RUN {
                    pause = me.first_pause;
                }
                tracing::error!(task = name, why = %why, ?pause, "background task stopped: restarting");
                metrics::counter!(RESTARTS, "task" => name).increment(1);
                me.update(name, |t| {
                    t.running = false;
                    t.restarts += 1;
                    t.last_failure = Some(why.clone());
                });
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(MAX_PAUSE);
            }
        })
    }

    fn update(&self, name: &'static str, f: impl FnOnce(&mut StatoTask)) {
        if let Ok(mut t) = self.tasks.lock() {
            f(t.entry(name).or_default());
        }
    }

    /// Every supervised task and its state.
    pub fn stato(&self) -> BTreeMap<&'static str, StatoTask> {
        self.tasks.lock().map(|t| t.clone()).unwrap_or_default()
    }
}

/// The text a panic carries, for logs and the task's state.
/// Runs `work` in its own task (in the current span) and waits for it; dropping the wait
/// (a deadline, a client gone) does not cut the work, which runs to its end: sqlx's
/// PostgreSQL statements are not cancel-safe, and one cut mid-flight can strand its pooled
/// connection for good. A panic in `work` resumes in the caller; `None`: the runtime
/// cancelled it (shutting down).
pub async fn to_the_end<T: Send + 'static>(
    work: impl Future<Output = T> + Send + 'static,
) -> Option<T> {
    use tracing::Instrument;
    match tokio::spawn(work.in_current_span()).await {
        Ok(t) => Some(t),
        Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
        Err(_) => None,
    }
}

pub fn panic_message(p: Box<dyn std::any::Any + Send>) -> String {
    match p.downcast::<String>() {
        Ok(s) => format!("panic: {s}"),
        Err(p) => match p.downcast::<&'static str>() {
            Ok(s) => format!("panic: {s}"),
            Err(_) => "panic".to_owned(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};

    #[tokio::test]
    async fn a_task_that_panics_is_restarted_and_reported() {
        /// Tells when the running task is dropped.
        struct Dropped(Arc<AtomicBool>);
        impl Drop for Dropped {
            fn drop(&mut self) {
                self.0.store(true, Ordering::SeqCst);
            }
        }
        let s = Supervisor::with_pause(Duration::from_millis(10));
        let runs = Arc::new(AtomicU32::new(0));
        let dropped = Arc::new(AtomicBool::new(false));
        let (r, d) = (runs.clone(), dropped.clone());
        let h = s.spawn("flaky", move || {
            let (r, d) = (r.clone(), d.clone());
            async move {
                if r.fetch_add(1, Ordering::SeqCst) < 2 {
                    panic!("boom");
                }
                let _guard = Dropped(d);
                std::future::pending::<()>().await;
            }
        });
        let deadline = Instant::now() + Duration::from_secs(5);
        while runs.load(Ordering::SeqCst) < 3 {
            assert!(Instant::now() < deadline, "not restarted");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let t = s.stato()["flaky"].clone();
        assert_eq!(
            t,
            StatoTask {
                running: true,
                restarts: 2,
                last_failure: Some("panic: boom".into())
            }
        );
        // Aborting the supervisor stops the task it runs.
        assert!(!dropped.load(Ordering::SeqCst));
        h.abort();
        let _ = h.await;
        let deadline = Instant::now() + Duration::from_secs(5);
        while !dropped.load(Ordering::SeqCst) {
            assert!(
                Instant::now() < deadline,
                "the task outlived its supervisor"
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        assert_eq!(runs.load(Ordering::SeqCst), 3);
    }
}
