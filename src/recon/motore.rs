//! The reconciliation engine, pure: from the staged rows of an ente — receipts (E),
//! reported payments (R), notifications (I), treasury lines (T/F) — it builds the joined
//! tuples of MyPivot's outer join (docs/riconciliazione.md §3) for a set of *owners* and
//! classifies each (docs/riconciliazione.md §4).
//!
//! Every output row has one owner, so an import recomputes only the owners it touched:
//! - `V:<iuv>`: all receipts and reported payments of one IUV, E ⟗ R on IUR + indice (a
//!   reported payment without indice takes the first receipt of its IUR), each with the
//!   notification of its IUD, the treasury line of its flow's IUF (cumulative) and the one of
//!   its IUV (punctual);
//! - `D:<iud>`: a notification no receipt carries;
//! - `T:<id>`: a treasury line no tuple claimed (neither the first line of a reported IUF
//!   nor of a paid or reported IUV), including those with neither IUF nor IUV (F0).
//!
//! Decisions on MyPivot's quirks (docs/riconciliazione.md §3.5): the IUF join is scoped to
//! the ente; a treasury line whose causale yields both an IUF and an IUV joins by either (it
//! never vanishes); when several lines carry one IUF or IUV, the oldest joins and the others
//! stand alone (a second credit for one flow is an anomaly worth seeing).

use super::classifica::{Codice, Tupla, classifica};
use crate::model::Importo;
use std::collections::{HashMap, HashSet};
use time::Date;

/// A receipt's single payment (E).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct RigaE {
    pub iuv: String,
    pub iur: String,
    pub indice: i64,
    pub iud: Option<String>,
    pub tipo_dovuto: Option<String>,
    pub importo_cents: i64,
    pub totale_cents: i64,
    pub data_esito: Date,
    pub cf_pagatore: Option<String>,
    pub attestante: Option<String>,
}

/// A reported payment (R), esito 3 already excluded.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct RigaR {
    pub id: i64,
    pub iuf: String,
    pub iuf_key: String,
    pub iuv: String,
    pub iur: String,
    pub indice: Option<i64>,
    pub importo_cents: i64,
    pub esito: i64,
    pub data_regolamento: Date,
    pub totale_flusso_cents: i64,
}

/// A notification (I).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct RigaI {
    pub iud: String,
    pub importo_cents: i64,
    pub data_esecuzione: Date,
    pub tipo_dovuto: String,
}

/// A treasury line (F; the XLS journal's T lines are stored alike).
#[derive(Debug, Clone, PartialEq, Eq, Hash, sqlx::FromRow)]
pub struct RigaT {
    pub id: i64,
    pub iuf: Option<String>,
    pub iuf_key: Option<String>,
    pub iuv: Option<String>,
    pub importo_cents: i64,
    pub anno_bolletta: i64,
    pub codice_bolletta: String,
    pub data_contabile: Date,
    pub data_valuta: Date,
    pub ordinante: String,
    pub conto: Option<String>,
}

/// Who owns a reconciled row (see the module doc).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Proprietario {
    Iuv(String),
    Iud(String),
    Tesoreria(i64),
}

impl Proprietario {
    pub fn chiave(&self) -> String {
        match self {
            Proprietario::Iuv(v) => format!("V:{v}"),
            Proprietario::Iud(d) => format!("D:{d}"),
            Proprietario::Tesoreria(t) => format!("T:{t}"),
        }
    }
}

/// The rows the engine needs for a set of owners: every E and R of their IUVs, every E
/// carrying their IUDs, the notifications of those IUDs, and every treasury line of the
/// IUFs and IUVs involved (plus the owned lines); `iuf_rendicontati` / `iuv_noti` say which
/// IUFs have reported payments and which IUVs have a receipt or a reported payment.
#[derive(Debug, Default, Clone)]
pub struct Dati {
    pub e: Vec<RigaE>,
    pub r: Vec<RigaR>,
    pub i: Vec<RigaI>,
    pub t: Vec<RigaT>,
    pub iuf_rendicontati: HashSet<String>,
    pub iuv_noti: HashSet<String>,
}

/// One classified row; its text borrows the staged rows it joins (a rebuild makes a
/// million of them: no copies).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Riga<'a> {
    pub proprietario: Proprietario,
    pub codici: u64,
    pub iud: Option<&'a str>,
    pub iuv: Option<&'a str>,
    pub iur: Option<&'a str>,
    pub indice: Option<i64>,
    pub iuf: Option<&'a str>,
    pub tipo_dovuto: Option<&'a str>,
    pub cf_pagatore: Option<&'a str>,
    pub attestante: Option<&'a str>,
    pub tesoreria: Option<&'a RigaT>,
    pub importo_notificato_cents: Option<i64>,
    pub importo_pagato_cents: Option<i64>,
    pub totale_pagato_cents: Option<i64>,
    pub importo_rendicontato_cents: Option<i64>,
    pub totale_flusso_cents: Option<i64>,
    pub data_esecuzione: Option<Date>,
    pub data_esito: Option<Date>,
    pub data_regolamento: Option<Date>,
}

impl Riga<'_> {
    /// A digest of everything the row stores (owner, codes, keys, amounts, dates, treasury
    /// line): equal digests mean a stored row need not be rewritten. std's hasher with its
    /// fixed keys is deterministic; should a Rust release change it, rows differ once and
    /// are rewritten — a digest never makes a changed row look unchanged short of a 64-bit
    /// collision.
    pub fn firma(&self) -> i64 {
        use std::hash::{Hash, Hasher};
        let mut h = std::hash::DefaultHasher::new();
        (
            &self.proprietario,
            self.codici,
            self.iud,
            self.iuv,
            self.iur,
            self.indice,
            self.iuf,
            self.tipo_dovuto,
            self.cf_pagatore,
            self.attestante,
            self.tesoreria,
        )
            .hash(&mut h);
        (
            self.importo_notificato_cents,
            self.importo_pagato_cents,
            self.totale_pagato_cents,
            self.importo_rendicontato_cents,
            self.totale_flusso_cents,
            self.data_esecuzione,
            self.data_esito,
            self.data_regolamento,
        )
            .hash(&mut h);
        h.finish() as i64
    }
}

/// The codes of a tuple as a bit set (bit = the code's position, see [`Codice::bit`]).
pub fn maschera(codici: &[Codice]) -> u64 {
    codici.iter().fold(0, |m, c| m | c.bit())
}

fn cents(c: i64) -> Option<Importo> {
    Importo::from_cents(c).ok()
}

/// Classifies every row the given owners own.
pub fn calcola<'a>(d: &'a Dati, proprietari: &HashSet<Proprietario>) -> Vec<Riga<'a>> {
    let mut owners: Vec<&Proprietario> = proprietari.iter().collect();
    owners.sort_unstable();
    Indici::new(d).righe(
        owners,
        |k| d.iuf_rendicontati.contains(k),
        |v| d.iuv_noti.contains(v),
    )
}

/// Classifies every row of an ente, `d` holding all its staged rows: the owners, the IUFs
/// with reported payments and the IUVs with a receipt or a reported payment come from the
/// rows themselves (`iuf_rendicontati` and `iuv_noti` are not read). Same rows, same order
/// as [`calcola`] with every owner.
pub fn calcola_tutto(d: &Dati) -> Vec<Riga<'_>> {
    let mut iuvs: Vec<&str> =
        d.e.iter()
            .map(|e| e.iuv.as_str())
            .chain(d.r.iter().map(|r| r.iuv.as_str()))
            .collect();
    iuvs.sort_unstable();
    iuvs.dedup();
    let mut iuds: Vec<&str> = d.i.iter().map(|i| i.iud.as_str()).collect();
    iuds.sort_unstable();
    iuds.dedup();
    let mut ts: Vec<i64> = d.t.iter().map(|t| t.id).collect();
    ts.sort_unstable();
    ts.dedup();
    // The variants' order is Proprietario's: IUVs, then IUDs, then treasury lines.
    let owners: Vec<Proprietario> = iuvs
        .into_iter()
        .map(|v| Proprietario::Iuv(v.to_owned()))
        .chain(iuds.into_iter().map(|k| Proprietario::Iud(k.to_owned())))
        .chain(ts.into_iter().map(Proprietario::Tesoreria))
        .collect();
    let rendicontati: Insieme<&str> = d.r.iter().map(|r| r.iuf_key.as_str()).collect();
    let idx = Indici::new(d);
    idx.righe(
        owners.iter(),
        |k| rendicontati.contains(k),
        |v| idx.e_per_iuv.contains_key(v) || idx.r_per_iuv.contains_key(v),
    )
}

/// The engine's own maps. Their keys are the ente's staged rows, hashed with foldhash
/// (seeded per process) rather than std's SipHash, which stood out in the profile of a
/// million-line rebuild.
type Mappa<K, V> = HashMap<K, V, foldhash::fast::RandomState>;
type Insieme<K> = HashSet<K, foldhash::fast::RandomState>;

/// The staged rows indexed by the join keys, built once per computation.
struct Indici<'a> {
    t_per_id: Mappa<i64, &'a RigaT>,
    t_per_iuf: Mappa<&'a str, &'a RigaT>,
    t_per_iuv: Mappa<&'a str, &'a RigaT>,
    i_per_iud: Mappa<&'a str, &'a RigaI>,
    /// Each IUV's receipts in (IUR, indice) order.
    e_per_iuv: Mappa<&'a str, Vec<&'a RigaE>>,
    iud_con_e: Insieme<&'a str>,
    /// Each IUV's reported payments in id order.
    r_per_iuv: Mappa<&'a str, Vec<&'a RigaR>>,
}

impl<'a> Indici<'a> {
    fn new(d: &'a Dati) -> Self {
        // The oldest treasury line of each IUF / IUV joins; the index is over every line given.
        let mut t_per_iuf: Mappa<&str, &RigaT> = Mappa::default();
        let mut t_per_iuv: Mappa<&str, &RigaT> = Mappa::default();
        for t in &d.t {
            if let Some(k) = &t.iuf_key {
                let e = t_per_iuf.entry(k).or_insert(t);
                if t.id < e.id {
                    *e = t;
                }
            }
            if let Some(v) = &t.iuv {
                let e = t_per_iuv.entry(v).or_insert(t);
                if t.id < e.id {
                    *e = t;
                }
            }
        }
        let mut e_per_iuv: Mappa<&str, Vec<&RigaE>> =
            Mappa::with_capacity_and_hasher(d.e.len(), Default::default());
        let mut iud_con_e: Insieme<&str> = Insieme::default();
        for e in &d.e {
            e_per_iuv.entry(&e.iuv).or_default().push(e);
            if let Some(k) = &e.iud {
                iud_con_e.insert(k);
            }
        }
        for es in e_per_iuv.values_mut() {
            es.sort_by(|a, b| (&a.iur, a.indice).cmp(&(&b.iur, b.indice)));
        }
        let mut r_per_iuv: Mappa<&str, Vec<&RigaR>> =
            Mappa::with_capacity_and_hasher(d.r.len(), Default::default());
        for r in &d.r {
            r_per_iuv.entry(&r.iuv).or_default().push(r);
        }
        for rs in r_per_iuv.values_mut() {
            rs.sort_by_key(|r| r.id);
        }
        Indici {
            t_per_id: d.t.iter().map(|t| (t.id, t)).collect(),
            t_per_iuf,
            t_per_iuv,
            i_per_iud: d.i.iter().map(|i| (i.iud.as_str(), i)).collect(),
            e_per_iuv,
            iud_con_e,
            r_per_iuv,
        }
    }

    /// The rows of `owners`, in their order; `rendicontato(iuf_key)` and `noto(iuv)` say
    /// whether an IUF has reported payments and an IUV a receipt or a reported payment.
    fn righe<'p>(
        &self,
        owners: impl IntoIterator<Item = &'p Proprietario>,
        rendicontato: impl Fn(&str) -> bool,
        noto: impl Fn(&str) -> bool,
    ) -> Vec<Riga<'a>> {
        let mut out = Vec::new();
        for p in owners {
            match p {
                Proprietario::Iuv(v) => {
                    let es = self
                        .e_per_iuv
                        .get(v.as_str())
                        .map_or(&[][..], Vec::as_slice);
                    let rs = self
                        .r_per_iuv
                        .get(v.as_str())
                        .map_or(&[][..], Vec::as_slice);
                    tuple_iuv(p, es, rs, self, &mut out);
                }
                Proprietario::Iud(k) => {
                    if self.iud_con_e.contains(k.as_str()) {
                        continue;
                    }
                    if let Some(i) = self.i_per_iud.get(k.as_str()) {
                        let t = Tupla {
                            i: cents(i.importo_cents),
                            ..Tupla::default()
                        };
                        out.push(Riga {
                            proprietario: p.clone(),
                            codici: maschera(&classifica(&t)),
                            iud: Some(&i.iud),
                            tipo_dovuto: Some(&i.tipo_dovuto),
                            importo_notificato_cents: Some(i.importo_cents),
                            data_esecuzione: Some(i.data_esecuzione),
                            ..vuota(p)
                        });
                    }
                }
                Proprietario::Tesoreria(id) => {
                    let Some(t) = self.t_per_id.get(id).copied() else {
                        continue;
                    };
                    let per_iuf = t.iuf_key.as_deref().is_some_and(|k| {
                        rendicontato(k) && self.t_per_iuf.get(k).is_some_and(|x| x.id == t.id)
                    });
                    let per_iuv = t.iuv.as_deref().is_some_and(|v| {
                        noto(v) && self.t_per_iuv.get(v).is_some_and(|x| x.id == t.id)
                    });
                    if per_iuf || per_iuv {
                        continue;
                    }
                    let amount = cents(t.importo_cents);
                    let tu = Tupla {
                        f_iuf: t.iuf.as_ref().and(amount),
                        f_iuv: if t.iuf.is_none() {
                            t.iuv.as_ref().and(amount)
                        } else {
                            None
                        },
                        f0: t.iuf.is_none() && t.iuv.is_none(),
                        ..Tupla::default()
                    };
                    out.push(Riga {
                        proprietario: p.clone(),
                        codici: maschera(&classifica(&tu)),
                        iuv: t.iuv.as_deref(),
                        iuf: t.iuf.as_deref(),
                        tesoreria: Some(t),
                        ..vuota(p)
                    });
                }
            }
        }
        out
    }
}

fn vuota<'a>(p: &Proprietario) -> Riga<'a> {
    Riga {
        proprietario: p.clone(),
        codici: 0,
        iud: None,
        iuv: None,
        iur: None,
        indice: None,
        iuf: None,
        tipo_dovuto: None,
        cf_pagatore: None,
        attestante: None,
        tesoreria: None,
        importo_notificato_cents: None,
        importo_pagato_cents: None,
        totale_pagato_cents: None,
        importo_rendicontato_cents: None,
        totale_flusso_cents: None,
        data_esecuzione: None,
        data_esito: None,
        data_regolamento: None,
    }
}

fn tuple_iuv<'a>(
    p: &Proprietario,
    es: &[&'a RigaE],
    rs: &[&'a RigaR],
    idx: &Indici<'a>,
    out: &mut Vec<Riga<'a>>,
) {
    // DOPPI: the same payment (IUV and amount; the IUR may differ) reported both as normal
    // (0) and as paid without RPT (9).
    let doppio = |r: &RigaR| {
        let con = |esito: i64| {
            rs.iter()
                .any(|x| x.importo_cents == r.importo_cents && x.esito == esito)
        };
        con(0) && con(9)
    };
    // An owner IUV left without rows (its flow replaced, say) has no row any more.
    let Some(iuv) = es
        .first()
        .map(|e| e.iuv.as_str())
        .or_else(|| rs.first().map(|r| r.iuv.as_str()))
    else {
        return;
    };
    let tv = idx.t_per_iuv.get(iuv).copied();
    let mut r_used = vec![false; rs.len()];
    let mut pairs: Vec<(Option<&RigaE>, Option<&RigaR>)> = Vec::new();
    for e in es {
        let pos = rs
            .iter()
            .enumerate()
            .position(|(n, r)| !r_used[n] && r.iur == e.iur && r.indice == Some(e.indice))
            .or_else(|| {
                rs.iter()
                    .enumerate()
                    .position(|(n, r)| !r_used[n] && r.iur == e.iur && r.indice.is_none())
            });
        if let Some(n) = pos {
            r_used[n] = true;
        }
        pairs.push((Some(e), pos.map(|n| rs[n])));
    }
    for (n, r) in rs.iter().enumerate() {
        if !r_used[n] {
            pairs.push((None, Some(r)));
        }
    }
    for (e, r) in pairs {
        let i = e
            .and_then(|e| e.iud.as_deref())
            .and_then(|k| idx.i_per_iud.get(k).copied());
        let tf = r.and_then(|r| idx.t_per_iuf.get(r.iuf_key.as_str()).copied());
        let t = Tupla {
            i: i.and_then(|i| cents(i.importo_cents)),
            e_sing: e.and_then(|e| cents(e.importo_cents)),
            e_tot: e.and_then(|e| cents(e.totale_cents)),
            r_sing: r.and_then(|r| cents(r.importo_cents)),
            r_tot: r.and_then(|r| cents(r.totale_flusso_cents)),
            f_iuf: tf.and_then(|t| cents(t.importo_cents)),
            f_iuv: tv.and_then(|t| cents(t.importo_cents)),
            doppio: r.is_some_and(doppio),
            ..Tupla::default()
        };
        out.push(Riga {
            proprietario: p.clone(),
            codici: maschera(&classifica(&t)),
            iud: e.and_then(|e| e.iud.as_deref()),
            iuv: e.map(|e| e.iuv.as_str()).or(r.map(|r| r.iuv.as_str())),
            iur: e.map(|e| e.iur.as_str()).or(r.map(|r| r.iur.as_str())),
            indice: e.map(|e| e.indice).or_else(|| r.and_then(|r| r.indice)),
            iuf: r.map(|r| r.iuf.as_str()),
            tipo_dovuto: e
                .and_then(|e| e.tipo_dovuto.as_deref())
                .or(i.map(|i| i.tipo_dovuto.as_str())),
            cf_pagatore: e.and_then(|e| e.cf_pagatore.as_deref()),
            attestante: e.and_then(|e| e.attestante.as_deref()),
            tesoreria: tf.or(tv),
            importo_notificato_cents: i.map(|i| i.importo_cents),
            importo_pagato_cents: e.map(|e| e.importo_cents),
            totale_pagato_cents: e.map(|e| e.totale_cents),
            importo_rendicontato_cents: r.map(|r| r.importo_cents),
            totale_flusso_cents: r.map(|r| r.totale_flusso_cents),
            data_esecuzione: i.map(|i| i.data_esecuzione),
            data_esito: e.map(|e| e.data_esito),
            data_regolamento: r.map(|r| r.data_regolamento),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    fn e(iuv: &str, iur: &str, c: i64, iud: Option<&str>) -> RigaE {
        RigaE {
            iuv: iuv.into(),
            iur: iur.into(),
            indice: 1,
            iud: iud.map(Into::into),
            tipo_dovuto: Some("TARI".into()),
            importo_cents: c,
            totale_cents: c,
            data_esito: date!(2026 - 10 - 01),
            cf_pagatore: None,
            attestante: None,
        }
    }

    fn r(id: i64, iuf: &str, iuv: &str, iur: &str, c: i64, tot: i64, esito: i64) -> RigaR {
        RigaR {
            id,
            iuf: iuf.into(),
            iuf_key: iuf.to_uppercase(),
            iuv: iuv.into(),
            iur: iur.into(),
            indice: Some(1),
            importo_cents: c,
            esito,
            data_regolamento: date!(2026 - 10 - 02),
            totale_flusso_cents: tot,
        }
    }

    fn t(id: i64, iuf: Option<&str>, iuv: Option<&str>, c: i64) -> RigaT {
        RigaT {
            id,
            iuf: iuf.map(Into::into),
            iuf_key: iuf.map(str::to_uppercase),
            iuv: iuv.map(Into::into),
            importo_cents: c,
            anno_bolletta: 2026,
            codice_bolletta: id.to_string(),
            data_contabile: date!(2026 - 10 - 03),
            data_valuta: date!(2026 - 10 - 03),
            ordinante: "PSP".into(),
            conto: None,
        }
    }

    fn tutti(d: &Dati) -> HashSet<Proprietario> {
        let mut p: HashSet<Proprietario> =
            d.e.iter()
                .map(|e| Proprietario::Iuv(e.iuv.clone()))
                .collect();
        p.extend(d.r.iter().map(|r| Proprietario::Iuv(r.iuv.clone())));
        p.extend(d.i.iter().map(|i| Proprietario::Iud(i.iud.clone())));
        p.extend(d.t.iter().map(|t| Proprietario::Tesoreria(t.id)));
        p
    }

    fn indici(d: &mut Dati) {
        d.iuf_rendicontati = d.r.iter().map(|r| r.iuf_key.clone()).collect();
        d.iuv_noti =
            d.e.iter()
                .map(|e| e.iuv.clone())
                .chain(d.r.iter().map(|r| r.iuv.clone()))
                .collect();
    }

    #[test]
    fn the_whole_ente_computation_equals_the_one_over_every_owner() {
        let mut d = Dati {
            e: vec![
                e("01", "a", 100, Some("IUD1")),
                e("02", "b", 250, None),
                e("03", "c", 70, None),
            ],
            r: vec![
                r(1, "F1", "01", "a", 100, 350, 0),
                r(2, "F1", "02", "b", 250, 350, 0),
                r(3, "F2", "04", "x", 90, 90, 9),
                r(4, "F3", "04", "y", 90, 90, 0),
            ],
            i: vec![
                RigaI {
                    iud: "IUD1".into(),
                    importo_cents: 100,
                    data_esecuzione: date!(2026 - 10 - 01),
                    tipo_dovuto: "TARI".into(),
                },
                RigaI {
                    iud: "IUD9".into(),
                    importo_cents: 5,
                    data_esecuzione: date!(2026 - 10 - 01),
                    tipo_dovuto: "TARI".into(),
                },
            ],
            t: vec![
                t(7, Some("F1"), None, 350),
                t(8, Some("F1"), None, 350),
                t(9, None, Some("03"), 70),
                t(10, None, None, 12),
                t(11, Some("NOFLOW"), None, 5),
            ],
            ..Dati::default()
        };
        indici(&mut d);
        let senza_insiemi = Dati {
            iuf_rendicontati: HashSet::new(),
            iuv_noti: HashSet::new(),
            ..d.clone()
        };
        let tutte = calcola_tutto(&senza_insiemi);
        assert_eq!(tutte, calcola(&d, &tutti(&d)));
        assert_eq!(tutte.len(), 9, "{tutte:#?}");
    }

    fn ha(r: &Riga, c: Codice) -> bool {
        r.codici & c.bit() != 0
    }

    #[test]
    fn a_flow_cashed_cumulatively_reconciles_every_payment_and_claims_its_treasury_line() {
        let mut d = Dati {
            e: vec![e("01", "a", 100, None), e("02", "b", 250, None)],
            r: vec![
                r(1, "2026-10-02PSP-1", "01", "a", 100, 350, 0),
                r(2, "2026-10-02PSP-1", "02", "b", 250, 350, 0),
            ],
            t: vec![t(7, Some("2026-10-02psp-1"), None, 350)],
            ..Dati::default()
        };
        indici(&mut d);
        let out = calcola(&d, &tutti(&d));
        assert_eq!(out.len(), 2, "{out:#?}");
        assert!(
            out.iter()
                .all(|r| ha(r, Codice::RT_IUF_TES) && ha(r, Codice::RT_IUF))
        );
        assert!(
            out.iter()
                .all(|r| r.tesoreria.as_ref().map(|t| t.id) == Some(7))
        );
    }

    #[test]
    fn a_second_credit_for_one_flow_stands_alone() {
        let mut d = Dati {
            e: vec![e("01", "a", 100, None)],
            r: vec![r(1, "F1", "01", "a", 100, 100, 0)],
            t: vec![t(8, Some("F1"), None, 100), t(7, Some("F1"), None, 100)],
            ..Dati::default()
        };
        indici(&mut d);
        let out = calcola(&d, &tutti(&d));
        let alone: Vec<_> = out.iter().filter(|r| r.iuv.is_none()).collect();
        assert_eq!(alone.len(), 1);
        assert_eq!(alone[0].proprietario, Proprietario::Tesoreria(8));
        assert!(ha(alone[0], Codice::TES_NO_IUF_OR_IUV));
    }

    #[test]
    fn a_notification_with_its_receipt_is_not_repeated_alone() {
        let mut d = Dati {
            e: vec![e("01", "a", 100, Some("IUD1"))],
            i: vec![RigaI {
                iud: "IUD1".into(),
                importo_cents: 100,
                data_esecuzione: date!(2026 - 10 - 01),
                tipo_dovuto: "TARI".into(),
            }],
            ..Dati::default()
        };
        indici(&mut d);
        let out = calcola(&d, &tutti(&d));
        assert_eq!(out.len(), 1);
        assert!(!ha(&out[0], Codice::RT_NO_IUD));
        assert!(ha(&out[0], Codice::RT_NO_IUF));
    }

    #[test]
    fn a_treasury_line_with_both_iuf_and_iuv_joins_by_iuv_when_no_flow_has_its_iuf() {
        let mut d = Dati {
            e: vec![e("01", "a", 100, None)],
            t: vec![t(3, Some("NOFLOW-2026-10-01"), Some("01"), 100)],
            ..Dati::default()
        };
        indici(&mut d);
        let out = calcola(&d, &tutti(&d));
        assert_eq!(out.len(), 1, "{out:#?}");
        assert!(ha(&out[0], Codice::RT_TES));
    }

    #[test]
    fn only_owned_rows_are_produced() {
        let mut d = Dati {
            e: vec![e("01", "a", 100, None), e("02", "b", 100, None)],
            ..Dati::default()
        };
        indici(&mut d);
        let own = HashSet::from([Proprietario::Iuv("02".into())]);
        let out = calcola(&d, &own);
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].iuv, Some("02"));
    }

    #[test]
    fn doppi_marks_a_payment_reported_with_esito_0_and_9() {
        let mut d = Dati {
            e: vec![e("01", "a", 100, None)],
            r: vec![
                r(1, "F1", "01", "a", 100, 100, 0),
                r(2, "F2", "01", "a", 100, 100, 9),
            ],
            ..Dati::default()
        };
        indici(&mut d);
        let out = calcola(&d, &tutti(&d));
        assert_eq!(out.len(), 2);
        assert!(out.iter().all(|r| ha(r, Codice::DOPPI)));
    }
}
