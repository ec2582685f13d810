//! Coalesced reads by IUV on PostgreSQL: the dovuto that every paaVerificaRPT,
//! paVerifyPaymentNotice and activation reads (and the portal and the console). Each read alone is one round trip and one
//! statement for a single row, and on a loaded instance the round trips, not the server's
//! work, are most of a verification's cost: the backend, the pool and the request's task
//! each wake up once per read. Reads that arrive while a statement is out wait for it to
//! come back, and the next statement fetches all of them (up to [`PER_ISTRUZIONE`] keys)
//! with one index probe per key. An idle instance sends each read at once, alone: nothing
//! waits for a batch to fill. When the statements out are slow (each past [`LENTO`]), a
//! read arriving, or one waiting, sends the waiting ones in a statement of their own.
//!
//! The queue holds at most one read per request in hand, which the listeners bound
//! (`pa_soap.max_in_flight`, `*.max_connections`). A read waits in it no longer than the
//! pool's acquire timeout (`database.acquire_timeout_ms`), then fails as a read that found
//! no connection would; a statement out waits what any other does.
//!
//! Every read still starts after its request arrived, so it sees what a read of its own
//! would. An error the same for every key (see [`copia`]) reaches every caller of the
//! batch; anything else it cannot answer for a key (any other error, a panic) sends that
//! caller to the single read, so answers never depend on this module.

use super::{Dovuto, DovutoRow, StoreError, StoreResult};
use futures_util::FutureExt;
use sqlx::PgPool;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};
use tokio::sync::oneshot;

/// One statement out at a time gathers the most reads in each. On the bench's 2 cores
/// (client, gateway and PostgreSQL together; every read then went through a task), one
/// out gave 6.3 reads a statement and 10,100–10,800 verifications/s, two 3.5 and
/// 7,400–9,000/s, four 1.9 and 6,600–7,400/s, eight 1.2 and 5,200–5,500/s: below the
/// 6,400–8,400/s of one statement per read, the batching's own cost then showing.
const IN_VOLO: usize = 1;
/// ... unless the statements out are slow (their pages on disk, a server busy elsewhere,
/// a lock): once each has been out this long, a read arriving, or one that has waited
/// this long, sends the waiting reads in a statement of their own, up to
/// [`IN_VOLO_LENTI`] out at once, so that a slow read never holds every other.
const LENTO: Duration = Duration::from_millis(1);
const IN_VOLO_LENTI: usize = 4;
/// Keys per statement: a batch stays one short round trip.
const PER_ISTRUZIONE: usize = 64;

/// The keys as two arrays side by side, each probed through `(id_dominio, iuv)`; OFFSET 0
/// keeps the subquery a subquery (flattened, the planner may hash it against the table).
/// Its text does not depend on how many keys there are: prepared once per connection.
pub(in crate::store) const PER_COPPIE: &str = "SELECT t.* FROM unnest($1::text[], $2::text[]) AS k (e, v) \
     CROSS JOIN LATERAL (SELECT * FROM dovuto WHERE id_dominio = k.e AND iuv = k.v OFFSET 0) AS t";

pub(in crate::store) struct Accorpatore {
    pool: PgPool,
    coda: Mutex<Coda>,
    letture: AtomicU64,
    istruzioni: AtomicU64,
    da_sole: AtomicU64,
}

#[derive(Default)]
struct Coda {
    attese: Vec<Attesa>,
    /// The slots out: each one's number and when its statement left.
    fuori: Vec<(u64, Instant)>,
    numeri: u64,
}

impl Coda {
    /// Whether a read may go out now (taking the ones waiting with it): no statement out,
    /// or every one out for [`LENTO`] and fewer than [`IN_VOLO_LENTI`] of them.
    fn libera(&self) -> bool {
        self.fuori.len() < IN_VOLO
            || (self.fuori.len() < IN_VOLO_LENTI
                && self.fuori.iter().all(|(_, t)| t.elapsed() >= LENTO))
    }

    /// Takes a statement's slot (the caller holds the queue's lock).
    fn decolla(&mut self, a: &Arc<Accorpatore>) -> Volo {
        self.numeri += 1;
        self.fuori.push((self.numeri, Instant::now()));
        Volo {
            accorpatore: a.clone(),
            numero: self.numeri,
            atterrato: false,
        }
    }

    /// Gives a slot back.
    fn atterra(&mut self, numero: u64) {
        self.fuori.retain(|(n, _)| *n != numero);
    }

    /// The same slot, a new statement: it is slow from now on, not from the last one.
    fn riparti(&mut self, numero: u64) {
        if let Some((_, partito)) = self.fuori.iter_mut().find(|(n, _)| *n == numero) {
            *partito = Instant::now();
        }
    }

    /// A statement for the waiting reads, if any wait and a slot may go out now.
    fn parti(&mut self, a: &Arc<Accorpatore>) -> Option<(Volo, Vec<Attesa>)> {
        (!self.attese.is_empty() && self.libera()).then(|| (self.decolla(a), self.prendi()))
    }

    /// The oldest waiting reads, up to a statement's worth.
    fn prendi(&mut self) -> Vec<Attesa> {
        let n = self.attese.len().min(PER_ISTRUZIONE);
        self.attese.drain(..n).collect()
    }
}

struct Attesa {
    ente: String,
    iuv: String,
    tx: oneshot::Sender<Esito>,
}

/// A read's answer from its batch; `None` when the batch cannot answer for its key, and
/// the caller reads it alone.
type Esito = Option<StoreResult<Option<Dovuto>>>;

impl Accorpatore {
    pub(in crate::store) fn new(pool: PgPool) -> Accorpatore {
        Accorpatore {
            pool,
            coda: Mutex::default(),
            letture: AtomicU64::new(0),
            istruzioni: AtomicU64::new(0),
            da_sole: AtomicU64::new(0),
        }
    }

    /// The dovuto of `ente` with `iuv`: read at once by the caller when a slot is free and
    /// no read waits, else in the next statement out; `None` when the caller should read it
    /// alone.
    pub(in crate::store) async fn leggi(
        self: &Arc<Self>,
        ente: &str,
        iuv: &str,
    ) -> Option<StoreResult<Option<Dovuto>>> {
        enum Via {
            Subito(Volo),
            InCoda(oneshot::Receiver<Esito>, Option<(Volo, Vec<Attesa>)>),
        }
        let via = {
            let mut c = self.coda.lock().unwrap_or_else(PoisonError::into_inner);
            if c.attese.is_empty() && c.libera() {
                Via::Subito(c.decolla(self))
            } else {
                let (tx, rx) = oneshot::channel();
                c.attese.push(Attesa {
                    ente: ente.to_owned(),
                    iuv: iuv.to_owned(),
                    tx,
                });
                Via::InCoda(rx, c.parti(self))
            }
        };
        match via {
            // Alone on an idle instance: the caller's own statement, with no hop to a task
            // (what an idle instance's latency is made of).
            Via::Subito(volo) => {
                let r = super::postgres::get_dovuto_by_iuv(&self.pool, ente, iuv).await;
                if r.is_ok() {
                    self.letture.fetch_add(1, Ordering::Relaxed);
                    self.istruzioni.fetch_add(1, Ordering::Relaxed);
                }
                lancia(prossima(volo));
                Some(r)
            }
            Via::InCoda(rx, parte) => {
                lancia(parte);
                self.attendi(rx).await
            }
        }
    }

    /// A queued read's wait. Every [`LENTO`] without an answer it looks at the queue:
    /// when the statements out are all slow, the reads still waiting go out in one of
    /// their own, so a stalled statement holds back no read that arrived after it, even
    /// with no other read arriving. Waiting for a statement is waiting for a connection:
    /// no longer than the pool's acquire timeout, so a stall ahead (a lock) costs the reads
    /// queued behind it what it would cost them alone.
    async fn attendi(self: &Arc<Self>, mut rx: oneshot::Receiver<Esito>) -> Esito {
        let scadenza = Instant::now() + self.pool.options().get_acquire_timeout();
        loop {
            let ora = Instant::now();
            if ora >= scadenza {
                return Some(Err(StoreError::Db(sqlx::Error::PoolTimedOut)));
            }
            match tokio::time::timeout(LENTO.min(scadenza - ora), &mut rx).await {
                Ok(Ok(r)) => return r,
                // The batch's task panicked or its slot was dropped: the caller reads
                // alone.
                Ok(Err(_)) => {
                    self.da_sole.fetch_add(1, Ordering::Relaxed);
                    return None;
                }
                Err(_) => {
                    let parte = self
                        .coda
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner)
                        .parti(self);
                    lancia(parte);
                }
            }
        }
    }

    pub(in crate::store) fn conti(&self) -> crate::store::LettureAccorpate {
        crate::store::LettureAccorpate {
            letture: self.letture.load(Ordering::Relaxed),
            istruzioni: self.istruzioni.load(Ordering::Relaxed),
            da_sole: self.da_sole.load(Ordering::Relaxed),
        }
    }

    async fn rispondi(&self, parte: Vec<Attesa>) {
        let mut chiavi: Vec<(&str, &str)> = parte
            .iter()
            .map(|a| (a.ente.as_str(), a.iuv.as_str()))
            .collect();
        chiavi.sort_unstable();
        chiavi.dedup();
        let (enti, iuvs): (Vec<&str>, Vec<&str>) = chiavi.into_iter().unzip();
        let righe = sqlx::query_as::<_, DovutoRow>(PER_COPPIE)
            .bind(&enti)
            .bind(&iuvs)
            .fetch_all(&self.pool)
            .await;
        let righe = match righe {
            Ok(r) => r,
            Err(e) => {
                for a in parte {
                    let esito = match copia(&e) {
                        Some(e) => Some(Err(StoreError::Db(e))),
                        None => {
                            self.da_sole.fetch_add(1, Ordering::Relaxed);
                            None
                        }
                    };
                    let _ = a.tx.send(esito);
                }
                return;
            }
        };
        self.letture
            .fetch_add(parte.len() as u64, Ordering::Relaxed);
        self.istruzioni.fetch_add(1, Ordering::Relaxed);
        // (id_dominio, iuv) is unique: one row at most per key.
        let trovati: HashMap<(String, String), StoreResult<Dovuto>> = righe
            .into_iter()
            .map(|r| ((r.id_dominio.clone(), r.iuv.clone()), Dovuto::try_from(r)))
            .collect();
        for a in parte {
            let esito = match trovati.get(&(a.ente, a.iuv)) {
                None => Some(Ok(None)),
                Some(Ok(d)) => Some(Ok(Some(d.clone()))),
                Some(Err(StoreError::Corrupt(why))) => Some(Err(StoreError::Corrupt(why.clone()))),
                Some(Err(_)) => {
                    self.da_sole.fetch_add(1, Ordering::Relaxed);
                    None
                }
            };
            let _ = a.tx.send(esito);
        }
    }
}

/// Answers `parte`, then whatever queued meanwhile, until the queue is empty.
async fn esegui(mut volo: Volo, mut parte: Vec<Attesa>) {
    let a = volo.accorpatore.clone();
    loop {
        // A panic fails this batch's callers over to their own reads, not the queue.
        let _ = std::panic::AssertUnwindSafe(a.rispondi(parte))
            .catch_unwind()
            .await;
        match prossima(volo) {
            Some(dopo) => (volo, parte) = dopo,
            None => return,
        }
    }
}

/// A statement came back: the reads queued meanwhile go next, on the same slot.
fn prossima(mut volo: Volo) -> Option<(Volo, Vec<Attesa>)> {
    let a = volo.accorpatore.clone();
    let mut c = a.coda.lock().unwrap_or_else(PoisonError::into_inner);
    if c.attese.is_empty() {
        // Under the lock that saw the queue empty: a read queued after it finds a free
        // slot and sends itself.
        c.atterra(volo.numero);
        volo.atterrato = true;
        return None;
    }
    c.riparti(volo.numero);
    Some((volo, c.prendi()))
}

/// Sends a statement, if there is one, in a task of its own: a caller dropped mid-read
/// would otherwise strand the reads it carries.
fn lancia(parte: Option<(Volo, Vec<Attesa>)>) {
    if let Some((volo, parte)) = parte {
        tokio::spawn(esegui(volo, parte));
    }
}

/// A statement's slot, taken under the queue's lock and given back however its task ends.
/// Dropped before landing (the caller of an inline read cancelled, a runtime shut down
/// before or during the read), it leaves the queue to the other slots out; with none, it
/// sends the queued callers to their own reads: none waits for a task that will not come.
struct Volo {
    accorpatore: Arc<Accorpatore>,
    numero: u64,
    atterrato: bool,
}

impl Drop for Volo {
    fn drop(&mut self) {
        if !self.atterrato {
            let mut c = (self.accorpatore.coda.lock()).unwrap_or_else(PoisonError::into_inner);
            c.atterra(self.numero);
            if c.fuori.is_empty() {
                c.attese.clear();
            }
        }
    }
}

/// The batch's error for each of its callers, where it is the same for all of them: no
/// connection in time, the pool closed, a lock or a cancellation on the server (its code
/// kept, which [`StoreError::is_unavailable`] reads). A connection that broke (it died
/// idle: the pool does not ping before a checkout) fails only the statement it carried, so
/// each caller then reads alone, as it would have without the batch.
fn copia(e: &sqlx::Error) -> Option<sqlx::Error> {
    match e {
        sqlx::Error::PoolTimedOut => Some(sqlx::Error::PoolTimedOut),
        sqlx::Error::PoolClosed => Some(sqlx::Error::PoolClosed),
        sqlx::Error::Database(d) => match d.code().as_deref() {
            Some(codice @ ("55P03" | "57014")) => {
                Some(sqlx::Error::Database(Box::new(ErroreCondiviso {
                    codice: codice.to_owned(),
                    messaggio: d.message().to_owned(),
                })))
            }
            _ => None,
        },
        _ => None,
    }
}

/// A server error the batch met, as each of its callers gets it.
#[derive(Debug)]
struct ErroreCondiviso {
    codice: String,
    messaggio: String,
}

impl std::fmt::Display for ErroreCondiviso {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.messaggio)
    }
}

impl std::error::Error for ErroreCondiviso {}

impl sqlx::error::DatabaseError for ErroreCondiviso {
    fn message(&self) -> &str {
        &self.messaggio
    }
    fn code(&self) -> Option<std::borrow::Cow<'_, str>> {
        Some(std::borrow::Cow::Borrowed(&self.codice))
    }
    fn as_error(&self) -> &(dyn std::error::Error + Send + Sync + 'static) {
        self
    }
    fn as_error_mut(&mut self) -> &mut (dyn std::error::Error + Send + Sync + 'static) {
        self
    }
    fn into_error(self: Box<Self>) -> Box<dyn std::error::Error + Send + Sync + 'static> {
        self
    }
    fn kind(&self) -> sqlx::error::ErrorKind {
        sqlx::error::ErrorKind::Other
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What the batch hands every caller keeps the classification of a caller's own read;
    /// what it does not hand out, each caller meets alone.
    #[test]
    fn a_shared_error_keeps_its_classification() {
        let condiviso = |e: sqlx::Error| copia(&e).map(|e| StoreError::Db(e).is_unavailable());
        assert_eq!(condiviso(sqlx::Error::PoolTimedOut), Some(true));
        assert_eq!(condiviso(sqlx::Error::PoolClosed), Some(true));
        let lock = ErroreCondiviso {
            codice: "55P03".into(),
            messaggio: "canceling statement due to lock timeout".into(),
        };
        let e = copia(&sqlx::Error::Database(Box::new(lock))).unwrap();
        assert_eq!(
            e.to_string(),
            "error returned from database: canceling statement due to lock timeout"
        );
        assert!(StoreError::Db(e).is_unavailable());
        let io = std::io::Error::new(std::io::ErrorKind::ConnectionReset, "reset");
        assert!(copia(&sqlx::Error::Io(io)).is_none());
        let chiusa = ErroreCondiviso {
            codice: "57P01".into(),
            messaggio: "terminating connection due to administrator command".into(),
        };
        assert!(copia(&sqlx::Error::Database(Box::new(chiusa))).is_none());
        assert!(copia(&sqlx::Error::RowNotFound).is_none());
    }
}
