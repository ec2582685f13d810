//! SQLite's single writer, shared in turns by this process's writers (see
//! `sqlite::turno_di_scrittura` for why a turn at all). Each turn knows who holds it, the
//! call site that asked for it, so that a write kept waiting can say what it waited for
//! (`RUST_LOG=pagopa_gateway::store::turno=debug`).
//!
//! Writers come in two classes. A caller is waiting on the others: the Nodo for a receipt
//! or an activation, a person for an import. Background work ([`sullo_sfondo`]: the
//! journal's batches, the outbox's claims and marks, the reconciliation's passes, the
//! sweeps) is waited on by no one. In one line, first come first served, a receipt at
//! 200/s waited behind two or three of those at a time: its p99 on SQLite was mostly the
//! turns of others. A freed turn therefore goes to the oldest waiting caller first, and to
//! background work only when no caller waits, or once it has waited [`PRECEDENZA`], one
//! such turn ahead of callers per [`PRECEDENZA`]: the journal and the outbox are delayed
//! under a steady stream of writes, never stopped, and callers keep most turns.

use std::collections::VecDeque;
use std::future::Future;
use std::panic::Location;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError};
use std::time::{Duration, Instant};
use tokio::sync::oneshot;

/// Where a write asked for its turn.
pub type Sito = &'static Location<'static>;

/// A wait for the turn at least this long is logged (debug) with the holder it met.
const ATTESA_DA_DIRE: Duration = Duration::from_millis(2);
/// A turn held at least this long is logged (debug) with its call site.
const TURNO_LUNGO: Duration = Duration::from_millis(5);
/// Background work that has waited this long goes before the callers that wait, one such
/// turn per this long: under a stream of writes that never pauses, background work still
/// gets a turn about this often (the journal lingers as long for a batch anyway), and
/// several background writers aged together do not take turns in a row.
pub const PRECEDENZA: Duration = Duration::from_millis(20);

tokio::task_local! {
    /// Set for the task's whole future by [`sullo_sfondo`].
    static SFONDO: ();
}

/// Runs `f` as background work: its writes at SQLite's writer yield to those a caller
/// waits on. Tasks spawned from `f` are not covered (a task-local): wrap them too.
pub async fn sullo_sfondo<F: Future>(f: F) -> F::Output {
    SFONDO.scope((), f).await
}

/// Whether the current task runs as background work.
pub fn sullo_sfondo_ora() -> bool {
    SFONDO.try_with(|_| ()).is_ok()
}

/// Who waits for a turn, and how a turn is handed to it.
struct InFila {
    passa: oneshot::Sender<()>,
    dal: Instant,
}

#[derive(Default)]
struct Stato {
    /// A turn is out (held, or handed to a waiter not yet run).
    occupata: bool,
    /// The call site holding the turn, if any.
    chi: Option<Sito>,
    chiamanti: VecDeque<InFila>,
    sfondo: VecDeque<InFila>,
    /// When background work last went before a waiting caller.
    precedenza: Option<Instant>,
}

impl Stato {
    /// The waiters of one class.
    fn fila(&mut self, sfondo: bool) -> &mut VecDeque<InFila> {
        if sfondo {
            &mut self.sfondo
        } else {
            &mut self.chiamanti
        }
    }
}

/// The line of writers at one database file.
#[derive(Default)]
struct Linea {
    stato: Mutex<Stato>,
}

impl Linea {
    fn stato(&self) -> MutexGuard<'_, Stato> {
        self.stato.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The turn given back: handed to the next waiter still waiting, or freed.
    fn passa(&self) {
        self.passa_alle(Instant::now());
    }

    /// [`Linea::passa`] at the time `ora` (the tests give it).
    fn passa_alle(&self, ora: Instant) {
        let mut s = self.stato();
        s.chi = None;
        loop {
            let avanti = !s.chiamanti.is_empty()
                && s.sfondo
                    .front()
                    .is_some_and(|w| ora.saturating_duration_since(w.dal) >= PRECEDENZA)
                && s.precedenza
                    .is_none_or(|t| ora.saturating_duration_since(t) >= PRECEDENZA);
            let prossimo = if avanti {
                s.sfondo.pop_front()
            } else {
                s.chiamanti.pop_front().or_else(|| s.sfondo.pop_front())
            };
            match prossimo {
                // A waiter gone (timed out, cancelled) refuses it: try the next.
                Some(w) => {
                    if w.passa.send(()).is_ok() {
                        // Only a turn taken uses up the window.
                        if avanti {
                            s.precedenza = Some(ora);
                        }
                        return;
                    }
                }
                None => {
                    s.occupata = false;
                    return;
                }
            }
        }
    }
}

/// One writer's turn; it passes on when dropped.
pub struct Permesso {
    linea: Arc<Linea>,
    sito: Sito,
    dal: Instant,
}

impl Drop for Permesso {
    fn drop(&mut self) {
        self.linea.passa();
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

/// A place in line. Dropped before its turn came (a timeout, a cancelled caller), it gives
/// back a turn handed to it meanwhile, so that no turn is lost.
struct Attesa {
    arriva: oneshot::Receiver<()>,
    linea: Arc<Linea>,
    presa: bool,
}

impl Drop for Attesa {
    fn drop(&mut self) {
        if !self.presa {
            // Closed first: from here on no turn can be handed to it, so the check below
            // sees every one that was.
            self.arriva.close();
            if self.arriva.try_recv().is_ok() {
                self.linea.passa();
            }
        }
    }
}

/// Waits, at most `limite`, for the turn at `file`'s writer, on behalf of `sito`: callers
/// first come first served, background work (see [`sullo_sfondo`]) after them.
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
                let l = Arc::new(Linea::default());
                linee.insert(file.to_owned(), l.clone());
                l
            }
        }
    };
    let t = Instant::now();
    let sfondo = sullo_sfondo_ora();
    let permesso = |linea| Permesso {
        linea,
        sito,
        dal: Instant::now(),
    };
    let (davanti, attesa) = {
        let mut s = linea.stato();
        if s.occupata {
            let (passa, arriva) = oneshot::channel();
            s.fila(sfondo).push_back(InFila { passa, dal: t });
            let attesa = Attesa {
                arriva,
                linea: linea.clone(),
                presa: false,
            };
            // Who held the turn as the wait began (none: it was passing to a writer not
            // yet run).
            (s.chi, Err(attesa))
        } else {
            s.occupata = true;
            s.chi = Some(sito);
            (None, Ok(permesso(linea.clone())))
        }
    };
    // The turn is a `Permesso` from the moment it is given: nothing in between can lose it.
    let turno = match attesa {
        Ok(turno) => turno,
        Err(mut attesa) => match tokio::time::timeout(limite, &mut attesa.arriva).await {
            Ok(Ok(())) => {
                attesa.presa = true;
                let turno = permesso(linea);
                turno.linea.stato().chi = Some(sito);
                turno
            }
            // The line's senders are dropped only when handed on or when the line is gone.
            Ok(Err(_)) => return Err(SenzaTurno::Chiuso),
            Err(_elapsed) => return Err(SenzaTurno::Scaduto),
        },
    };
    let atteso = t.elapsed();
    let classe = if sfondo { "sfondo" } else { "chiamante" };
    metrics::histogram!(crate::metrics::SQLITE_WRITE_WAIT, "classe" => classe)
        .record(atteso.as_secs_f64());
    if atteso >= ATTESA_DA_DIRE {
        tracing::debug!(
            sito = %sito,
            ms = atteso.as_secs_f64() * 1000.0,
            davanti = davanti.map(|s| s.to_string()).unwrap_or_default(),
            classe,
            "write waited for its turn at SQLite's writer"
        );
    }
    Ok(turno)
}

/// Why no turn was given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SenzaTurno {
    /// The wait's limit passed.
    Scaduto,
    /// The line was closed (never, in practice: lines are never closed).
    Chiuso,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A waiter of either class queued on `linea` (its turn out), waiting since `da` before
    /// `ora`.
    fn in_fila(linea: &Linea, ora: Instant, sfondo: bool, da: Duration) -> oneshot::Receiver<()> {
        let (passa, arriva) = oneshot::channel();
        let w = InFila {
            passa,
            dal: ora.checked_sub(da).unwrap(),
        };
        let mut s = linea.stato();
        s.occupata = true;
        s.fila(sfondo).push_back(w);
        arriva
    }

    /// Who the next turns go to: callers in their order, then background work in its
    /// order; background work that has waited `PRECEDENZA` before any caller, but only one
    /// such turn per `PRECEDENZA`; a waiter gone is skipped; the line is free once nobody
    /// waits.
    #[test]
    fn a_freed_turn_goes_to_callers_first_and_to_background_work_once_it_waited_long() {
        let linea = Linea::default();
        let ora = Instant::now() + PRECEDENZA * 10;
        let ms = Duration::from_millis;
        let mut b1 = in_fila(&linea, ora, true, ms(19));
        let mut c1 = in_fila(&linea, ora, false, ms(18));
        let c2 = in_fila(&linea, ora, false, ms(1));
        let mut c3 = in_fila(&linea, ora, false, ms(1));
        let mut b2 = in_fila(&linea, ora, true, Duration::ZERO);
        drop(c2);
        linea.passa_alle(ora);
        assert!(
            c1.try_recv().is_ok(),
            "the first caller, before older background work"
        );
        assert!(b1.try_recv().is_err());
        linea.passa_alle(ora);
        assert!(c3.try_recv().is_ok(), "a caller gone is skipped");
        linea.passa_alle(ora);
        assert!(
            b1.try_recv().is_ok(),
            "no caller waits: background work, in order"
        );
        assert!(b2.try_recv().is_err());
        linea.passa_alle(ora);
        assert!(b2.try_recv().is_ok());
        assert!(linea.stato().occupata);
        linea.passa_alle(ora);
        assert!(!linea.stato().occupata, "nobody waits: the line is free");

        let vecchio = PRECEDENZA + ms(1);
        let mut v1 = in_fila(&linea, ora, true, vecchio);
        let mut v2 = in_fila(&linea, ora, true, vecchio);
        let mut c1 = in_fila(&linea, ora, false, Duration::ZERO);
        let mut c2 = in_fila(&linea, ora, false, Duration::ZERO);
        linea.passa_alle(ora);
        assert!(
            v1.try_recv().is_ok(),
            "background work waited long: it goes first"
        );
        linea.passa_alle(ora + ms(1));
        assert!(
            c1.try_recv().is_ok(),
            "one such turn per PRECEDENZA: callers again"
        );
        assert!(v2.try_recv().is_err());
        linea.passa_alle(ora + PRECEDENZA);
        assert!(v2.try_recv().is_ok(), "a PRECEDENZA later, the next one");
        linea.passa_alle(ora + PRECEDENZA);
        assert!(c2.try_recv().is_ok());

        // A waiter gone does not use up the window: the next aged one still goes first.
        let dopo = ora + PRECEDENZA * 3;
        drop(in_fila(&linea, dopo, true, vecchio));
        let mut vivo = in_fila(&linea, dopo, true, vecchio);
        let mut c = in_fila(&linea, dopo, false, Duration::ZERO);
        linea.passa_alle(dopo);
        assert!(
            vivo.try_recv().is_ok(),
            "the window is used by a turn taken"
        );
        linea.passa_alle(dopo);
        assert!(c.try_recv().is_ok());
    }

    /// Waiters that give up, by their deadline or cancelled (even after the turn was handed
    /// to them), lose no turn: the next writer still gets one at once.
    #[tokio::test]
    async fn a_waiter_that_gives_up_loses_no_turn() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("linea.db");
        let sito = Location::caller();
        let lungo = Duration::from_secs(5);
        for giro in 0..20 {
            let tenuto = attendi(&f, sito, lungo).await.unwrap();
            // One gives up at its deadline.
            let scaduto = attendi(&f, sito, Duration::from_millis(5)).await;
            assert_eq!(scaduto.err(), Some(SenzaTurno::Scaduto));
            // One, background work, is cancelled around the moment the turn is handed to it.
            let f2 = f.clone();
            let cancellato = tokio::spawn(sullo_sfondo(async move {
                let _p = attendi(&f2, sito, lungo).await;
                std::future::pending::<()>().await;
            }));
            let in_fila = async {
                while tenuto.linea.stato().sfondo.is_empty() {
                    tokio::task::yield_now().await;
                }
            };
            tokio::time::timeout(Duration::from_secs(5), in_fila)
                .await
                .expect("background work waits in its own line");
            drop(tenuto);
            if giro % 2 == 0 {
                tokio::task::yield_now().await;
            }
            cancellato.abort();
            let _ = cancellato.await;
            let t = Instant::now();
            let p = attendi(&f, sito, Duration::from_secs(2)).await;
            assert!(p.is_ok(), "round {giro}: the turn was lost");
            assert!(
                t.elapsed() < Duration::from_secs(1),
                "round {giro}: {:?}",
                t.elapsed()
            );
        }
    }
}
