//! SQLite's single writer, shared in turns by this process's writers (see
//! `sqlite::turno_di_scrittura` for why a turn at all). Each turn knows who holds it, the
//! call site that asked for it, so that a write kept waiting can say what it waited for:
//! a receipt's p99 on SQLite is mostly the turns of others (the journal's batches, the
//! reconciliation's passes, the outbox), and which ones is what an operator tuning them
//! needs to see (`RUST_LOG=pagopa_gateway::store::turno=debug`).

use std::panic::Location;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::{Duration, Instant};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Where a write asked for its turn.
pub type Sito = &'static Location<'static>;

/// A wait for the turn at least this long is logged (debug) with the holder it met.
const ATTESA_DA_DIRE: Duration = Duration::from_millis(2);
/// A turn held at least this long is logged (debug) with its call site.
const TURNO_LUNGO: Duration = Duration::from_millis(5);

/// The line of writers at one database file.
struct Linea {
    semaforo: Arc<Semaphore>,
    /// The call site holding the turn, if any.
    chi: Mutex<Option<Sito>>,
}

impl Linea {
    fn chi(&self) -> Option<Sito> {
        *self.chi.lock().unwrap_or_else(PoisonError::into_inner)
    }
    fn segna(&self, sito: Option<Sito>) {
        *self.chi.lock().unwrap_or_else(PoisonError::into_inner) = sito;
    }
}

/// One writer's turn; it passes on when dropped.
pub struct Permesso {
    _permesso: OwnedSemaphorePermit,
    linea: Arc<Linea>,
    sito: Sito,
    dal: Instant,
}

impl Drop for Permesso {
    fn drop(&mut self) {
        self.linea.segna(None);
        let tenuto = self.dal.elapsed();
        if tenuto >= TURNO_LUNGO {
            tracing::debug!(
                sito = %self.sito,
                ms = tenuto.as_secs_f64() * 1000.0,
                "long turn at SQLite's writer"
            );
        }
    }
}

/// Waits, at most `limite`, for the turn at `file`'s writer, on behalf of `sito`. Turns are
/// given first come, first served.
pub async fn attendi(file: &Path, sito: Sito, limite: Duration) -> Result<Permesso, SenzaTurno> {
    type Linee = Mutex<std::collections::HashMap<PathBuf, Arc<Linea>>>;
    static LINEE: OnceLock<Linee> = OnceLock::new();
    let linea = {
        let mut linee = LINEE
            .get_or_init(Default::default)
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        match linee.get(file) {
            Some(l) => l.clone(),
            None => {
                // A new file: forget those nobody is writing to (a test's, a closed
                // pool's); a line nobody stands in is as good as a new one.
                linee.retain(|_, l| Arc::strong_count(l) > 1);
                let l = Arc::new(Linea {
                    semaforo: Arc::new(Semaphore::new(1)),
                    chi: Mutex::new(None),
                });
                linee.insert(file.to_owned(), l.clone());
                l
            }
        }
    };
    let t = Instant::now();
    // Who held the turn as the wait began (none: it was passing to a writer not yet run).
    let davanti = linea.chi();
    let permesso = match tokio::time::timeout(limite, linea.semaforo.clone().acquire_owned()).await
    {
        Ok(Ok(p)) => p,
        Ok(Err(_closed)) => return Err(SenzaTurno::Chiuso),
        Err(_elapsed) => return Err(SenzaTurno::Scaduto),
    };
    let atteso = t.elapsed();
    metrics::histogram!(crate::metrics::SQLITE_WRITE_WAIT).record(atteso.as_secs_f64());
    if atteso >= ATTESA_DA_DIRE {
        tracing::debug!(
            sito = %sito,
            ms = atteso.as_secs_f64() * 1000.0,
            davanti = davanti.map(|s| s.to_string()).unwrap_or_default(),
            "write waited for its turn at SQLite's writer"
        );
    }
    linea.segna(Some(sito));
    Ok(Permesso {
        _permesso: permesso,
        linea,
        sito,
        dal: Instant::now(),
    })
}

/// Why no turn was given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SenzaTurno {
    /// The wait's limit passed.
    Scaduto,
    /// The line was closed (never, in practice: lines are never closed).
    Chiuso,
}
