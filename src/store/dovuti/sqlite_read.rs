//! A synchronous read path for SQLite's hottest query: the dovuto by IUV that every
//! paaVerificaRPT and paaAttivaRPT reads. sqlx hands each SQLite statement to a worker
//! thread per connection and back, two thread wake-ups per query; the benchmark showed
//! that hop to be most of a verification's cost. A point read on a WAL database takes
//! microseconds, so it runs on the calling thread over plain read-only connections.
//! Writes always go through sqlx. Anything unexpected (busy, a value sqlx did not write)
//! makes the caller fall back to the sqlx path, so answers never depend on this module.

use super::{Dovuto, DovutoRow, StoreResult};
use rusqlite::{Connection, OpenFlags, OptionalExtension};
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Duration;
use time::format_description::well_known::Rfc3339;

const IDLE_MAX: usize = 16;

pub(in crate::store) struct Reader {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
}

/// Why the fast path gave up; the caller then asks sqlx.
#[derive(Debug)]
pub(super) struct Fallback(#[allow(dead_code)] String);

impl<E: std::fmt::Display> From<E> for Fallback {
    fn from(e: E) -> Self {
        Fallback(e.to_string())
    }
}

impl Reader {
    /// `None` for databases other connections cannot open by path (in-memory ones, which
    /// sqlx names `file:sqlx-in-memory-N`, and URI names in general).
    pub(in crate::store) fn new(opts: &sqlx::sqlite::SqliteConnectOptions) -> Option<Reader> {
        let path = opts.get_filename();
        let s = path.to_string_lossy();
        if s.is_empty() || s.starts_with("file:") || s.contains(":memory:") {
            return None;
        }
        Some(Reader {
            path: path.to_owned(),
            idle: Mutex::new(Vec::new()),
        })
    }

    fn with<R>(&self, f: impl FnOnce(&Connection) -> Result<R, Fallback>) -> Result<R, Fallback> {
        let pooled = self
            .idle
            .lock()
            .map_err(|_| Fallback("poisoned".into()))?
            .pop();
        let conn = match pooled {
            Some(c) => c,
            None => {
                let c = Connection::open_with_flags(
                    &self.path,
                    OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
                )?;
                // Readers of a WAL database wait only in rare recovery moments; never
                // hold a runtime thread long, fall back instead.
                c.busy_timeout(Duration::from_millis(50))?;
                c
            }
        };
        let r = f(&conn);
        if r.is_ok()
            && let Ok(mut idle) = self.idle.lock()
            && idle.len() < IDLE_MAX
        {
            idle.push(conn);
        }
        r
    }

    pub(super) fn dovuto_by_iuv(
        &self,
        ente: &str,
        iuv: &str,
    ) -> Result<StoreResult<Option<Dovuto>>, Fallback> {
        let row = self.with(|c| {
            let mut st = c.prepare_cached(
                "SELECT id, id_dominio, iud, iuv, numero_avviso, tipo_dovuto, tipo_soggetto,
                        codice_fiscale, anagrafica, indirizzo, civico, cap, localita, provincia,
                        nazione, email, importo_cents, commissione_pa_cents, causale,
                        dati_specifici_riscossione, tipo_versamento, data_scadenza,
                        data_validita, bilancio, stato, version, created_at, updated_at
                 FROM dovuto WHERE id_dominio = ?1 AND iuv = ?2",
            )?;
            let raw = st
                .query_row((ente, iuv), |r| {
                    Ok((
                        (
                            r.get::<_, i64>(0)?,
                            r.get::<_, String>(1)?,
                            r.get::<_, String>(2)?,
                            r.get::<_, String>(3)?,
                            r.get::<_, Option<String>>(4)?,
                            r.get::<_, String>(5)?,
                            r.get::<_, String>(6)?,
                            r.get::<_, String>(7)?,
                            r.get::<_, String>(8)?,
                        ),
                        (
                            r.get::<_, Option<String>>(9)?,
                            r.get::<_, Option<String>>(10)?,
                            r.get::<_, Option<String>>(11)?,
                            r.get::<_, Option<String>>(12)?,
                            r.get::<_, Option<String>>(13)?,
                            r.get::<_, Option<String>>(14)?,
                            r.get::<_, Option<String>>(15)?,
                        ),
                        (
                            r.get::<_, i64>(16)?,
                            r.get::<_, Option<i64>>(17)?,
                            r.get::<_, String>(18)?,
                            r.get::<_, String>(19)?,
                            r.get::<_, String>(20)?,
                            r.get::<_, Option<String>>(21)?,
                            r.get::<_, Option<String>>(22)?,
                            r.get::<_, String>(23)?,
                            r.get::<_, String>(24)?,
                            r.get::<_, i64>(25)?,
                            r.get::<_, String>(26)?,
                            r.get::<_, String>(27)?,
                        ),
                    ))
                })
                .optional()?;
            Ok(raw)
        })?;
        let Some((a, b, c)) = row else {
            return Ok(Ok(None));
        };
        let date = |s: Option<String>| -> Result<Option<time::Date>, Fallback> {
            s.map(|s| {
                time::Date::parse(
                    &s,
                    time::macros::format_description!("[year]-[month]-[day]"),
                )
            })
            .transpose()
            .map_err(Fallback::from)
        };
        let row = DovutoRow {
            id: a.0,
            id_dominio: a.1,
            iud: a.2,
            iuv: a.3,
            numero_avviso: a.4,
            tipo_dovuto: a.5,
            tipo_soggetto: a.6,
            codice_fiscale: a.7,
            anagrafica: a.8,
            indirizzo: b.0,
            civico: b.1,
            cap: b.2,
            localita: b.3,
            provincia: b.4,
            nazione: b.5,
            email: b.6,
            importo_cents: c.0,
            commissione_pa_cents: c.1,
            causale: c.2,
            dati_specifici_riscossione: c.3,
            tipo_versamento: c.4,
            data_scadenza: date(c.5)?,
            data_validita: date(c.6)?,
            bilancio: c.7,
            stato: c.8,
            version: c.9,
            created_at: time::OffsetDateTime::parse(&c.10, &Rfc3339)?,
            updated_at: time::OffsetDateTime::parse(&c.11, &Rfc3339)?,
        };
        Ok(Some(Dovuto::try_from(row)).transpose())
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Store, sqlite};
    use crate::registry::{EnteInput, NuovoDovuto, TipoDovutoInput};
    use serde_json::json;

    async fn store(dir: &std::path::Path) -> Store {
        let url = format!("sqlite://{}", dir.join("t.db").display());
        let s = Store::connect(&url, 4).await.unwrap();
        s.migrate().await.unwrap();
        s
    }

    #[tokio::test]
    async fn fast_read_returns_exactly_what_sqlx_reads_for_every_column() {
        let dir = tempfile::tempdir().unwrap();
        let s = store(dir.path()).await;
        let reader = s
            .reader
            .clone()
            .expect("a file database gets the fast path");
        let ente: EnteInput = serde_json::from_value(json!({"id_dominio": "80007580279", "denominazione": "Comune", "codice_ipa": "c_x", "segregation_code": 1, "ibans": ["IT60X0542811101000000123456"]})).unwrap();
        let ente = s.registro().insert_ente(&ente).await.unwrap();
        let tipo: TipoDovutoInput = serde_json::from_value(json!({"codice": "TARI", "descrizione": "Tassa", "iban": "IT60X0542811101000000123456", "dati_specifici_riscossione": "9/0101105IM/", "politica_scadenza": "RIFIUTA"})).unwrap();
        let tipo = s
            .registro()
            .create_tipo_dovuto("80007580279", &tipo)
            .await
            .unwrap();
        // Every optional column filled (dates, address, commission, bilancio) and a bare one.
        let full: NuovoDovuto = serde_json::from_value(json!({"iud": "FULL", "tipo_dovuto": "TARI",
            "pagatore": {"tipo": "G", "codice_fiscale": "80007580279", "anagrafica": "Ditta Srl", "indirizzo": "Via Roma", "civico": "1", "cap": "00100", "localita": "Roma", "provincia": "RM", "nazione": "IT", "email": "a@b.it"},
            "importo": "10.00", "commissione_pa": "0.50", "causale": "TARI 2026 àèé", "data_scadenza": "2026-12-31", "data_validita": "2026-12-15",
            "bilancio": [{"cod_capitolo": "C1", "importo": "6.00"}, {"cod_capitolo": "C2", "importo": "4.00"}]})).unwrap();
        let bare: NuovoDovuto = serde_json::from_value(json!({"iud": "BARE", "tipo_dovuto": "TARI",
            "pagatore": {"tipo": "F", "codice_fiscale": "RSSMRA85T10A562S", "anagrafica": "Mario Rossi"},
            "importo": "1.00", "causale": "x"})).unwrap();
        for d in [full, bare] {
            let d = s
                .dovuti()
                .insert(&ente, &d.resolve(&ente, &tipo).unwrap(), "test")
                .await
                .unwrap();
            let iuv = d.iuv.to_string();
            let fast = reader
                .dovuto_by_iuv("80007580279", &iuv)
                .unwrap()
                .unwrap()
                .unwrap();
            let slow = sqlite_get(&s, &iuv).await;
            assert_eq!(
                serde_json::to_value(&fast).unwrap(),
                serde_json::to_value(&slow).unwrap()
            );
        }
        assert!(
            reader
                .dovuto_by_iuv("80007580279", "999999999999999")
                .unwrap()
                .unwrap()
                .is_none()
        );
        assert!(
            reader
                .dovuto_by_iuv("00000000000", "0")
                .unwrap()
                .unwrap()
                .is_none()
        );
    }

    async fn sqlite_get(s: &Store, iuv: &str) -> crate::registry::Dovuto {
        let super::super::Pool::Sqlite(p) = &s.pool else {
            unreachable!()
        };
        sqlite::get_dovuto_by_iuv(p, "80007580279", iuv)
            .await
            .unwrap()
            .unwrap()
    }

    #[tokio::test]
    async fn in_memory_databases_have_no_fast_path() {
        let s = Store::connect("sqlite::memory:", 1).await.unwrap();
        assert!(s.reader.is_none());
    }
}
