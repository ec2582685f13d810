//! The reconciliation's bulk reads and writes on SQLite, through rusqlite on sqlx's own
//! connection handle, inside the caller's transaction. sqlx hands every row from its worker
//! thread to the caller and boxes every argument; for a flow of 30,000 payments, and even
//! more for a rebuild of a million rows, that traffic was most of the time (the same reads
//! and writes in SQLite's own API take a fraction of it). Reads that fail here (a value
//! sqlx did not write) are redone through sqlx by the caller; a failed write fails the
//! caller's transaction, which then applies nothing.

use crate::recon::motore::{Riga, RigaE, RigaI, RigaR, RigaT};
use rusqlite::types::{ToSqlOutput, ValueRef};
use rusqlite::{CachedStatement, Connection, Row, ToSql};
use time::format_description::well_known::Rfc3339;
use time::{Date, OffsetDateTime};

/// A row type read straight from SQLite, with the encodings sqlx writes (dates as
/// `yyyy-MM-dd` text).
pub(crate) trait DaRiga: Sized {
    fn da_riga(r: &Row<'_>) -> rusqlite::Result<Self>;
}

const FORMATO_DATA: &[time::format_description::BorrowedFormatItem<'static>] =
    time::macros::format_description!("[year]-[month]-[day]");

fn data(r: &Row<'_>, i: usize) -> rusqlite::Result<Date> {
    let s: String = r.get(i)?;
    Date::parse(&s, FORMATO_DATA).map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(i, rusqlite::types::Type::Text, Box::new(e))
    })
}

fn data_opz(r: &Row<'_>, i: usize) -> rusqlite::Result<Option<Date>> {
    match r.get_ref(i)? {
        ValueRef::Null => Ok(None),
        _ => data(r, i).map(Some),
    }
}

/// An instant as sqlx writes it to SQLite (RFC 3339 text, compared and read as such).
fn testo_istante(t: OffsetDateTime) -> rusqlite::Result<String> {
    t.format(&Rfc3339)
        .map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))
}

fn testo_data(d: Option<Date>) -> Option<TestoData> {
    let d = d?;
    match u32::try_from(d.year()) {
        Ok(y @ 0..=9999) => {
            let (m, g) = (u8::from(d.month()), d.day());
            let mut b = *b"0000-00-00";
            for (i, c) in [y / 1000, y / 100 % 10, y / 10 % 10, y % 10]
                .into_iter()
                .enumerate()
            {
                b[i] = b'0' + c as u8;
            }
            (b[5], b[6], b[8], b[9]) = (b'0' + m / 10, b'0' + m % 10, b'0' + g / 10, b'0' + g % 10);
            Some(TestoData::Breve(b))
        }
        _ => d.format(FORMATO_DATA).ok().map(TestoData::Lunga),
    }
}

/// A date's text as `testo_data` makes it: on the stack for the years of four digits (the
/// bulk writes bind five dates a line), through `time` for any other.
enum TestoData {
    Breve([u8; 10]),
    Lunga(String),
}

impl ToSql for TestoData {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        let b = match self {
            TestoData::Breve(b) => &b[..],
            TestoData::Lunga(s) => s.as_bytes(),
        };
        Ok(rusqlite::types::ToSqlOutput::Borrowed(
            rusqlite::types::ValueRef::Text(b),
        ))
    }
}

impl DaRiga for RigaE {
    fn da_riga(r: &Row<'_>) -> rusqlite::Result<Self> {
        Ok(RigaE {
            iuv: r.get(0)?,
            iur: r.get(1)?,
            indice: r.get(2)?,
            iud: r.get(3)?,
            tipo_dovuto: r.get(4)?,
            importo_cents: r.get(5)?,
            totale_cents: r.get(6)?,
            data_esito: data(r, 7)?,
            cf_pagatore: r.get(8)?,
            attestante: r.get(9)?,
        })
    }
}

impl DaRiga for RigaR {
    fn da_riga(r: &Row<'_>) -> rusqlite::Result<Self> {
        Ok(RigaR {
            id: r.get(0)?,
            iuf: r.get(1)?,
            iuf_key: r.get(2)?,
            iuv: r.get(3)?,
            iur: r.get(4)?,
            indice: r.get(5)?,
            importo_cents: r.get(6)?,
            esito: r.get(7)?,
            data_regolamento: data(r, 8)?,
            totale_flusso_cents: r.get(9)?,
        })
    }
}

impl DaRiga for RigaI {
    fn da_riga(r: &Row<'_>) -> rusqlite::Result<Self> {
        Ok(RigaI {
            iud: r.get(0)?,
            importo_cents: r.get(1)?,
            data_esecuzione: data(r, 2)?,
            tipo_dovuto: r.get(3)?,
        })
    }
}

impl DaRiga for RigaT {
    fn da_riga(r: &Row<'_>) -> rusqlite::Result<Self> {
        Ok(RigaT {
            id: r.get(0)?,
            iuf: r.get(1)?,
            iuf_key: r.get(2)?,
            iuv: r.get(3)?,
            importo_cents: r.get(4)?,
            anno_bolletta: r.get(5)?,
            codice_bolletta: r.get(6)?,
            data_contabile: data(r, 7)?,
            data_valuta: data(r, 8)?,
            ordinante: r.get(9)?,
            conto: r.get(10)?,
        })
    }
}

impl DaRiga for (String,) {
    fn da_riga(r: &Row<'_>) -> rusqlite::Result<Self> {
        Ok((r.get(0)?,))
    }
}

impl DaRiga for (String, String) {
    fn da_riga(r: &Row<'_>) -> rusqlite::Result<Self> {
        Ok((r.get(0)?, r.get(1)?))
    }
}

impl DaRiga for (Option<String>,) {
    fn da_riga(r: &Row<'_>) -> rusqlite::Result<Self> {
        Ok((r.get(0)?,))
    }
}

impl DaRiga for (i64, Option<i64>) {
    fn da_riga(r: &Row<'_>) -> rusqlite::Result<Self> {
        Ok((r.get(0)?, r.get(1)?))
    }
}

impl DaRiga for (i64, String, Option<String>, Option<i64>, Option<i64>) {
    fn da_riga(r: &Row<'_>) -> rusqlite::Result<Self> {
        Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
    }
}

impl DaRiga for (i64, Option<String>, Date, i64) {
    fn da_riga(r: &Row<'_>) -> rusqlite::Result<Self> {
        Ok((r.get(0)?, r.get(1)?, data(r, 2)?, r.get(3)?))
    }
}

/// Runs `f` on the connection's handle while sqlx's worker is kept off it.
// The crate's one justified unsafe: rusqlite must borrow sqlx's raw SQLite handle (see SAFETY).
#[allow(unsafe_code)]
pub(super) async fn con_handle<R>(
    c: &mut sqlx::SqliteConnection,
    f: impl FnOnce(&Connection) -> rusqlite::Result<R>,
) -> Result<rusqlite::Result<R>, sqlx::Error> {
    let mut h = c.lock_handle().await?;
    let raw = h.as_raw_handle().as_ptr();
    let run = move || {
        // SAFETY: while `h` lives sqlx makes no call on this handle; the rusqlite
        // connection does not own it (never closes it) and is dropped, its statements
        // finalized, before `h` is released.
        let db = unsafe { Connection::from_handle(raw) }?;
        let r = f(&db);
        drop(db);
        r
    };
    // Bulk work holds a thread for a while: let a multi-threaded runtime move its other
    // tasks elsewhere meanwhile.
    let multi = tokio::runtime::Handle::try_current()
        .is_ok_and(|h| h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread);
    let r = if multi {
        tokio::task::block_in_place(run)
    } else {
        run()
    };
    drop(h);
    Ok(r)
}

/// A bulk write on the connection's handle, inside the caller's transaction; a failure
/// (named by `cosa`) fails that transaction, nothing applied, never retried row by row.
pub(super) async fn scrivi_con<R>(
    c: &mut sqlx::SqliteConnection,
    cosa: &str,
    f: impl FnOnce(&Connection) -> rusqlite::Result<R>,
) -> crate::store::StoreResult<R> {
    con_handle(c, f)
        .await?
        .map_err(|e| crate::store::StoreError::Db(sqlx::Error::Protocol(format!("{cosa}: {e}"))))
}

/// Every row of `select` (which takes the ente as `?1` and, optionally, a JSON array as `?2`).
pub(super) fn leggi<T: DaRiga>(
    db: &Connection,
    select: &str,
    ente: &str,
    json: Option<&str>,
) -> rusqlite::Result<Vec<T>> {
    let mut st = db.prepare_cached(select)?;
    let rows = match json {
        Some(j) => st.query_map(rusqlite::params![ente, j], T::da_riga)?,
        None => st.query_map(rusqlite::params![ente], T::da_riga)?,
    };
    rows.collect()
}

/// Inserts a flow's payments (esito 3 already left out), `RIGHE_PER_INSERT` to a statement,
/// `OR FAIL` as the lines are (`INSERT_RIGHE`). `OR FAIL` does not cover the foreign key to
/// the flow: a violation fails the statement, and the caller's transaction, as any error.
pub(super) fn insert_pagamenti_flusso(
    db: &Connection,
    f: &super::NuovoFlusso,
    id: i64,
    regolamento: Date,
    totale: i64,
    validi: &[&crate::model::flusso::PagamentoFlusso],
) -> rusqlite::Result<()> {
    const TESTA: &str = "INSERT OR FAIL INTO rendicontazione (id_dominio, flusso_id, iuf, iuf_key, iuv, iur, indice, importo_cents, esito, data_esito,
           data_regolamento, totale_flusso_cents, id_regolamento, data_ora_flusso)
         VALUES ";
    let iuf_key = f.id_flusso.to_uppercase();
    let regolamento = testo_data(Some(regolamento));
    a_blocchi(db, TESTA, 14, validi.len(), |st, prima, i| {
        let p = validi[i];
        let values: [&dyn ToSql; 14] = [
            &f.id_dominio,
            &id,
            &f.id_flusso,
            &iuf_key,
            &p.iuv.as_str(),
            &p.iur,
            &p.indice.map(i64::from),
            &p.importo.cents(),
            &i64::from(p.codice_esito),
            &testo_data(Some(p.data_esito)),
            &regolamento,
            &totale,
            &f.id_regolamento,
            &f.data_ora_flusso,
        ];
        lega(st, prima, values)
    })
}

/// Many lines to a statement (`RIGHE_PER_INSERT`), and `OR FAIL`: a statement of many
/// lines that may abort (the NOT NULL columns) keeps a statement journal, the first image
/// of every page it changes, to undo its own lines; across twenty indexes that journal
/// spills to a file, and the write of a million lines took as long as with one line a
/// statement (22–26 s, `recon` bench). `FAIL` stops without undoing the statement's
/// earlier lines, so SQLite keeps no such journal (12–14 s); the error still fails the
/// caller's transaction, which then applies nothing.
const INSERT_RIGHE: &str = "INSERT OR FAIL INTO riconciliazione (";

/// The columns of a line, in the order [`con_valori`] gives their values.
use super::riconciliazione::COLONNE_SCRITTE as NOMI;

/// Where [`NOMI`] has column `nome`, found at compile time.
const fn posizione(nome: &str) -> usize {
    let mut i = 0;
    while i < COLONNE {
        let (a, b) = (NOMI[i].as_bytes(), nome.as_bytes());
        if a.len() == b.len() {
            let mut k = 0;
            while k < a.len() && a[k] == b[k] {
                k += 1;
            }
            if k == a.len() {
                return i;
            }
        }
        i += 1;
    }
    panic!("not a column of a line")
}

// What a rewrite returns of the line it replaces, and the width of its mask of changed columns.
const CODICI: usize = posizione("codici");
const DATA_ESITO: usize = posizione("data_esito");
const DATA_REGOLAMENTO: usize = posizione("data_regolamento");
const DATA_VALUTA: usize = posizione("data_valuta");
const _: () = assert!(COLONNE <= u32::BITS as usize);

/// Inserts classified lines, `RIGHE_PER_INSERT` to a statement.
pub(super) fn scrivi(
    db: &Connection,
    ente: &str,
    righe: &[Riga<'_>],
    now: OffsetDateTime,
) -> rusqlite::Result<()> {
    let now = testo_istante(now)?;
    let testa = format!("{INSERT_RIGHE}{}) VALUES ", NOMI.join(", "));
    a_blocchi(db, &testa, COLONNE, righe.len(), |st, prima, i| {
        con_valori(ente, &righe[i], &now, |v| lega(st, prima, *v))
    })
}

/// (codes, data esito, data regolamento, data valuta) of a line before it was rewritten.
pub(super) type Prima = (i64, Option<Date>, Option<Date>, Option<Date>);

/// Rewrites line `ids[i]` as `righe[i]`, setting only the columns whose value differs from
/// the stored one: an update maintains the indexes of the columns it sets, whether or not
/// their value changed, and the table has one for every filter of the views. Returns what
/// each line was.
pub(super) fn riscrivi(
    db: &Connection,
    ente: &str,
    ids: &[i64],
    righe: &[Riga<'_>],
    now: OffsetDateTime,
) -> rusqlite::Result<Vec<Prima>> {
    let now = testo_istante(now)?;
    let mut leggi = db.prepare_cached(&format!(
        "SELECT {} FROM riconciliazione WHERE id = ?1",
        NOMI.join(", ")
    ))?;
    let mut prima = Vec::with_capacity(ids.len());
    let mut testi: std::collections::HashMap<u32, String> = std::collections::HashMap::new();
    for (id, r) in ids.iter().zip(righe) {
        con_valori(ente, r, &now, |v| {
            let (cambiate, era) = leggi.query_row([id], |old| {
                let mut cambiate = 0u32;
                for (i, nuovo) in v.iter().enumerate() {
                    let uguale = match nuovo.to_sql()? {
                        ToSqlOutput::Borrowed(n) => old.get_ref(i)? == n,
                        ToSqlOutput::Owned(n) => old.get_ref(i)? == ValueRef::from(&n),
                        _ => false,
                    };
                    if !uguale {
                        cambiate |= 1 << i;
                    }
                }
                Ok((
                    cambiate,
                    (
                        old.get(CODICI)?,
                        data_opz(old, DATA_ESITO)?,
                        data_opz(old, DATA_REGOLAMENTO)?,
                        data_opz(old, DATA_VALUTA)?,
                    ),
                ))
            })?;
            if cambiate != 0 {
                // One text per set of changed columns, made once (a flow's lines share one).
                let testo = testi.entry(cambiate).or_insert_with(|| {
                    let set: Vec<String> = (0..COLONNE)
                        .filter(|i| cambiate & (1 << i) != 0)
                        .map(|i| format!("{} = ?", NOMI[i]))
                        .collect();
                    format!("UPDATE riconciliazione SET {} WHERE id = ?", set.join(", "))
                });
                let mut st = db.prepare_cached(testo)?;
                let mut k = 0;
                for (i, valore) in v.iter().enumerate() {
                    if cambiate & (1 << i) != 0 {
                        k += 1;
                        st.raw_bind_parameter(k, valore)?;
                    }
                }
                st.raw_bind_parameter(k + 1, id)?;
                st.raw_execute()?;
            }
            prima.push(era);
            Ok(())
        })?;
    }
    Ok(prima)
}

/// Rows per INSERT: one statement's cursors (the table and each of its indexes) are opened
/// and closed once for this many rows instead of once a row.
const RIGHE_PER_INSERT: usize = 32;

/// Writes `n` rows, `RIGHE_PER_INSERT` to a statement: `testa` is an INSERT up to its
/// `VALUES`, of `colonne` columns, and `riga(st, prima, i)` binds row `i` to the
/// placeholders after the `prima` first. The full statements, then one for the rest (a
/// write of a few rows prepares only that).
fn a_blocchi(
    db: &Connection,
    testa: &str,
    colonne: usize,
    n: usize,
    mut riga: impl FnMut(&mut CachedStatement<'_>, usize, usize) -> rusqlite::Result<()>,
) -> rusqlite::Result<()> {
    let piene = n - n % RIGHE_PER_INSERT;
    let mut esegui = |st: &mut CachedStatement<'_>, da: usize, quante: usize| {
        for k in 0..quante {
            riga(st, k * colonne, da + k)?;
        }
        st.raw_execute().map(drop)
    };
    if piene > 0 {
        let mut st = db.prepare_cached(&valori(testa, colonne, RIGHE_PER_INSERT))?;
        for da in (0..piene).step_by(RIGHE_PER_INSERT) {
            esegui(&mut st, da, RIGHE_PER_INSERT)?;
        }
    }
    if n > piene {
        let mut st = db.prepare_cached(&valori(testa, colonne, n - piene))?;
        esegui(&mut st, piene, n - piene)?;
    }
    Ok(())
}

/// The columns of a line ([`NOMI`]).
const COLONNE: usize = NOMI.len();

/// `testa` with `n` rows of `colonne` placeholders.
fn valori(testa: &str, colonne: usize, n: usize) -> String {
    let riga = format!("({})", vec!["?"; colonne].join(","));
    format!("{testa}{}", vec![riga; n].join(","))
}

/// Binds `values` to the placeholders after the `prima` first.
fn lega<const N: usize>(
    st: &mut CachedStatement<'_>,
    prima: usize,
    values: [&dyn ToSql; N],
) -> rusqlite::Result<()> {
    for (c, v) in values.into_iter().enumerate() {
        st.raw_bind_parameter(prima + c + 1, v)?;
    }
    Ok(())
}

/// Line `r`'s values, in the order of [`NOMI`], given to `f`.
fn con_valori<T>(
    ente: &str,
    r: &Riga<'_>,
    now: &str,
    f: impl FnOnce(&[&dyn ToSql; COLONNE]) -> rusqlite::Result<T>,
) -> rusqlite::Result<T> {
    let t = r.tesoreria.as_ref();
    let values: [&dyn ToSql; COLONNE] = [
        &ente,
        &r.proprietario.chiave(),
        &(r.codici as i64),
        &r.iud,
        &r.iuv,
        &r.iur,
        &r.indice,
        &r.iuf,
        &r.iuf.as_ref().map(|s| s.to_uppercase()),
        &r.tipo_dovuto,
        &r.cf_pagatore,
        &r.attestante,
        &t.map(|t| t.id),
        &t.map(|t| t.anno_bolletta),
        &t.map(|t| t.codice_bolletta.as_str()),
        &t.map(|t| t.ordinante.as_str()),
        &t.and_then(|t| t.conto.as_deref()),
        &r.importo_notificato_cents,
        &r.importo_pagato_cents,
        &r.totale_pagato_cents,
        &r.importo_rendicontato_cents,
        &r.totale_flusso_cents,
        &t.map(|t| t.importo_cents),
        &testo_data(r.data_esecuzione),
        &testo_data(r.data_esito),
        &testo_data(r.data_regolamento),
        &testo_data(t.map(|t| t.data_contabile)),
        &testo_data(t.map(|t| t.data_valuta)),
        &now,
        &r.firma(),
    ];
    f(&values)
}

/// A batch of journal entries with one prepared statement.
pub(super) fn insert_journal(
    db: &Connection,
    entries: &[super::JournalEntry],
) -> rusqlite::Result<()> {
    let mut st = db.prepare_cached(
        "INSERT INTO journal (at, direction, operation, id_dominio, iuv, ccp, id_psp, outcome, http_status, duration_us, request, response)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
    )?;
    for e in entries {
        st.execute(rusqlite::params![
            testo_istante(e.at)?,
            e.direction,
            e.operation,
            e.id_dominio,
            e.iuv,
            e.ccp,
            e.id_psp,
            e.outcome,
            e.http_status,
            e.duration_us,
            e.request.as_ref(),
            e.response.as_ref(),
        ])?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn testo(d: Date) -> String {
        let t = testo_data(Some(d)).unwrap();
        match t.to_sql().unwrap() {
            rusqlite::types::ToSqlOutput::Borrowed(rusqlite::types::ValueRef::Text(b)) => {
                String::from_utf8(b.to_vec()).unwrap()
            }
            _ => unreachable!(),
        }
    }

    proptest! {
        /// The stack-made text is the text `time` (and sqlx) would write, for any date.
        #[test]
        fn testo_data_come_time(g in Date::MIN.to_julian_day()..=Date::MAX.to_julian_day()) {
            let d = Date::from_julian_day(g).unwrap();
            prop_assert_eq!(testo(d), d.format(FORMATO_DATA).unwrap());
        }
    }

    /// Lines written many to a statement land all, in order, each in its own columns:
    /// none, only a shorter statement, only full ones, and full ones and the rest.
    #[test]
    fn scrivi_a_blocchi() {
        for n in [0, 6, RIGHE_PER_INSERT, 2 * RIGHE_PER_INSERT + 6] {
            scrivi_e_rileggi(n);
        }
    }

    fn scrivi_e_rileggi(n: usize) {
        let db = Connection::open_in_memory().unwrap();
        tabella(&db);
        let giorno = Date::from_calendar_date(2026, time::Month::November, 2).unwrap();
        let iuv: Vec<String> = (0..n).map(|i| format!("{i:017}")).collect();
        let righe: Vec<Riga<'_>> = iuv
            .iter()
            .enumerate()
            .map(|(i, v)| Riga {
                proprietario: crate::recon::motore::Proprietario::Iuv(v.clone()),
                codici: 1,
                iud: None,
                iuv: Some(v),
                iur: Some("R1"),
                indice: Some(1),
                iuf: Some("iuf-1"),
                tipo_dovuto: None,
                cf_pagatore: None,
                attestante: None,
                tesoreria: None,
                importo_notificato_cents: None,
                importo_pagato_cents: Some(i as i64),
                totale_pagato_cents: None,
                importo_rendicontato_cents: None,
                totale_flusso_cents: None,
                data_esecuzione: None,
                data_esito: Some(giorno),
                data_regolamento: None,
            })
            .collect();
        let now = OffsetDateTime::from_unix_timestamp(0).unwrap();
        scrivi(&db, "E1", &righe, now).unwrap();
        let letti: Vec<(String, String, String, String, i64, String, i64)> = tutte(
            &db,
            "SELECT id_dominio, chiave, iuv, iuf_key, importo_pagato_cents, data_esito, firma FROM riconciliazione ORDER BY id",
        );
        assert_eq!(letti.len(), righe.len());
        for (i, (l, r)) in letti.iter().zip(&righe).enumerate() {
            assert_eq!(l.0, "E1");
            assert_eq!(l.1, format!("V:{}", iuv[i]));
            assert_eq!(l.2, iuv[i]);
            assert_eq!(l.3, "IUF-1");
            assert_eq!(l.4, i as i64);
            assert_eq!(l.5, "2026-11-02");
            assert_eq!(l.6, r.firma());
        }
    }

    fn tabella(db: &Connection) {
        db.execute_batch(&format!(
            "CREATE TABLE riconciliazione (id INTEGER PRIMARY KEY, {})",
            NOMI.join(", ")
        ))
        .unwrap();
    }

    /// A line rewritten in place gets the new row's values, keeps its id, says what it was,
    /// and sets only the columns that changed: an `UPDATE OF` trigger fires when its column
    /// is set, whatever the value, as an index on it is maintained.
    #[test]
    fn riscrivi_solo_le_colonne_cambiate() {
        let db = Connection::open_in_memory().unwrap();
        tabella(&db);
        db.execute_batch(
            "CREATE TABLE toccate (colonna TEXT);
             CREATE TRIGGER t_iuv AFTER UPDATE OF iuv ON riconciliazione BEGIN INSERT INTO toccate VALUES ('iuv'); END;
             CREATE TRIGGER t_esito AFTER UPDATE OF data_esito ON riconciliazione BEGIN INSERT INTO toccate VALUES ('data_esito'); END;
             CREATE TRIGGER t_codici AFTER UPDATE OF codici ON riconciliazione BEGIN INSERT INTO toccate VALUES ('codici'); END;
             CREATE TRIGGER t_iuf AFTER UPDATE OF iuf_key ON riconciliazione BEGIN INSERT INTO toccate VALUES ('iuf_key'); END;",
        )
        .unwrap();
        let giorno = Date::from_calendar_date(2026, time::Month::November, 2).unwrap();
        let riga = |codici: u64, iuf: Option<&'static str>, regolamento: Option<Date>| Riga {
            proprietario: crate::recon::motore::Proprietario::Iuv("01".into()),
            codici,
            iud: None,
            iuv: Some("01"),
            iur: Some("R1"),
            indice: Some(1),
            iuf,
            tipo_dovuto: Some("TARI"),
            cf_pagatore: None,
            attestante: None,
            tesoreria: None,
            importo_notificato_cents: None,
            importo_pagato_cents: Some(100),
            totale_pagato_cents: Some(100),
            importo_rendicontato_cents: iuf.map(|_| 100),
            totale_flusso_cents: None,
            data_esecuzione: None,
            data_esito: Some(giorno),
            data_regolamento: regolamento,
        };
        let t0 = OffsetDateTime::from_unix_timestamp(0).unwrap();
        scrivi(&db, "E1", &[riga(1, None, None)], t0).unwrap();
        let id: i64 = db
            .query_row("SELECT id FROM riconciliazione", [], |r| r.get(0))
            .unwrap();
        // The flow arrives: codes, the flow's columns and the settlement day change.
        let nuova = riga(3, Some("iuf-1"), giorno.next_day());
        let t1 = OffsetDateTime::from_unix_timestamp(60).unwrap();
        let prima = riscrivi(&db, "E1", &[id], std::slice::from_ref(&nuova), t1).unwrap();
        assert_eq!(prima, vec![(1, Some(giorno), None, None)]);
        let toccate: Vec<(String,)> = tutte(&db, "SELECT colonna FROM toccate ORDER BY colonna");
        assert_eq!(
            toccate,
            vec![("codici".to_owned(),), ("iuf_key".to_owned(),)]
        );
        let letta: (i64, i64, String, String, i64, String) = db
            .query_row(
                "SELECT id, codici, iuf_key, data_regolamento, firma, aggiornato_at FROM riconciliazione",
                [],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?)),
            )
            .unwrap();
        assert_eq!(
            letta,
            (
                id,
                3,
                "IUF-1".into(),
                "2026-11-03".into(),
                nuova.firma(),
                testo_istante(t1).unwrap()
            )
        );
        // Rewritten as it already is (same update time too): nothing is set.
        db.execute_batch("DELETE FROM toccate").unwrap();
        let prima = riscrivi(&db, "E1", &[id], std::slice::from_ref(&nuova), t1).unwrap();
        assert_eq!(prima, vec![(3, Some(giorno), giorno.next_day(), None)]);
        let toccate: Vec<(String,)> = tutte(&db, "SELECT colonna FROM toccate");
        assert!(toccate.is_empty(), "{toccate:?}");
    }

    /// A flow's payments written many to a statement land all, in order, in their columns.
    #[test]
    fn pagamenti_flusso_a_blocchi() {
        use crate::model::flusso::PagamentoFlusso;
        use crate::model::{Importo, Iuv};
        let giorno = Date::from_calendar_date(2026, time::Month::November, 2).unwrap();
        for n in [0, 6, RIGHE_PER_INSERT, 2 * RIGHE_PER_INSERT + 6] {
            let db = Connection::open_in_memory().unwrap();
            db.execute_batch(
                "CREATE TABLE rendicontazione (id INTEGER PRIMARY KEY, id_dominio, flusso_id, iuf, iuf_key, iuv, iur, indice,
                   importo_cents, esito, data_esito, data_regolamento, totale_flusso_cents, id_regolamento, data_ora_flusso)",
            )
            .unwrap();
            let f = super::super::NuovoFlusso {
                id_dominio: "E1".into(),
                id_flusso: "2026-11-02abc-1".into(),
                data_ora_flusso: "2026-11-02T07:00:00".into(),
                raw: Vec::new(),
                stato: crate::model::StatoFlusso::Acquisito,
                nota: None,
                numero_pagamenti: None,
                importo_cents: None,
                data_regolamento: Some(giorno),
                id_regolamento: Some("TRN1".into()),
                pagamenti: (0..n)
                    .map(|i| PagamentoFlusso {
                        iuv: Iuv::parse(&format!("{i:017}")).unwrap(),
                        iur: format!("R{i}"),
                        indice: Some(1),
                        importo: Importo::from_cents(100 + i as i64).unwrap(),
                        codice_esito: 0,
                        data_esito: giorno,
                    })
                    .collect(),
                psp: None,
                deviazioni: None,
            };
            let validi: Vec<_> = f.pagamenti.iter().collect();
            insert_pagamenti_flusso(&db, &f, 7, giorno, 1234, &validi).unwrap();
            let letti: Vec<(i64, String, String, String, i64, String, String)> = tutte(
                &db,
                "SELECT flusso_id, iuf_key, iuv, iur, importo_cents, data_esito, id_regolamento FROM rendicontazione ORDER BY id",
            );
            assert_eq!(letti.len(), n, "{n} payments");
            for (i, l) in letti.iter().enumerate() {
                let atteso = (
                    7,
                    "2026-11-02ABC-1".to_owned(),
                    format!("{i:017}"),
                    format!("R{i}"),
                    100 + i as i64,
                    "2026-11-02".to_owned(),
                    "TRN1".to_owned(),
                );
                assert_eq!(*l, atteso);
            }
        }
    }

    /// Every row of `select`, as a tuple.
    fn tutte<T>(db: &Connection, select: &str) -> Vec<T>
    where
        T: for<'a> TryFrom<&'a Row<'a>, Error = rusqlite::Error>,
    {
        let mut st = db.prepare(select).unwrap();
        st.query_map([], |r| T::try_from(r))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    }

    #[test]
    fn testo_data_ai_bordi() {
        for (y, atteso) in [(0, "0000-01-01"), (999, "0999-01-01"), (9999, "9999-01-01")] {
            let d = Date::from_calendar_date(y, time::Month::January, 1).unwrap();
            assert_eq!(testo(d), atteso);
        }
        assert!(testo_data(None).is_none());
        let prima = Date::from_calendar_date(-1, time::Month::December, 31).unwrap();
        assert_eq!(testo(prima), prima.format(FORMATO_DATA).unwrap());
    }
}
