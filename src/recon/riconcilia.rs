//! A first reconciliation run per ente, computed on demand: receipts (E, the gateway's own
//! RTs), reported payments (R, the downloaded flows) and the treasury journal (F, CSV/OPI
//! uploads) joined as MyPivot does (§1.3: E–R on IUV + IUR + indice, treasury by the flow's
//! IUF or by the payment's IUV, unmatched treasury lines on their own) and classified with
//! [`super::classifica`]; notifications (I) join the receipts on the dovuto's IUD. The XLS
//! journal (T) is not imported yet;
//! the materialized, incremental store of issue 8 replaces this full recomputation.

use super::classifica::{Codice, Tupla, classifica};
use crate::model::Importo;
use crate::model::rpt::Rt;
use crate::store::{Store, StoreError};
use std::collections::{BTreeMap, HashMap, HashSet};

#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct RigaRiconciliata {
    /// The dovuto's IUD, from the notification or the receipt's dovuto.
    pub iud: Option<String>,
    pub iuv: Option<String>,
    pub iur: Option<String>,
    pub iuf: Option<String>,
    /// The treasury bolletta (anno/codice), when one joined.
    pub bolletta: Option<String>,
    pub importo_pagato_cents: Option<i64>,
    pub importo_rendicontato_cents: Option<i64>,
    pub importo_tesoreria_cents: Option<i64>,
    #[schema(value_type = Vec<String>)]
    pub codici: Vec<Codice>,
}

#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct Riconciliazione {
    /// How many lines carry each code (a line may carry several).
    #[schema(value_type = BTreeMap<String, usize>)]
    pub conteggi: BTreeMap<Codice, usize>,
    pub righe: Vec<RigaRiconciliata>,
}

fn cents(c: i64) -> Option<Importo> {
    Importo::from_cents(c).ok()
}

pub async fn riconcilia(store: &Store, ente: &str) -> Result<Riconciliazione, StoreError> {
    let e = store.get_ente(ente).await?;
    let flags = super::classifica::Flags {
        pagati: e.flg_pagati,
        tesoreria: e.flg_tesoreria,
    };
    let rts = store.rt_ente(ente).await?;
    let notifiche = store.notifiche_ente(ente).await?;
    let mut i_by_iud: HashMap<&str, usize> = HashMap::new();
    for (n, (iud, _)) in notifiche.iter().enumerate() {
        i_by_iud.insert(iud, n);
    }
    let mut i_used = vec![false; notifiche.len()];
    let rend = store.rendicontazione_ente(ente).await?;
    let (tes, _) = store.list_tesoreria(ente, None, None, i64::MAX, 0).await?;
    let mut tes_iuf: HashMap<String, usize> = HashMap::new();
    let mut tes_iuv: HashMap<String, usize> = HashMap::new();
    for (i, t) in tes.iter().enumerate() {
        if let Some(f) = &t.iuf {
            tes_iuf.entry(f.to_uppercase()).or_insert(i);
        }
        if let Some(v) = &t.iuv {
            tes_iuv.entry(v.clone()).or_insert(i);
        }
    }
    // DOPPI: the same payment reported both as normal (0) and as paid without RPT (9).
    let mut esiti: HashMap<(&str, i64), HashSet<i64>> = HashMap::new();
    for r in &rend {
        esiti
            .entry((&r.iuv, r.importo_cents))
            .or_default()
            .insert(r.esito);
    }
    let doppio = |iuv: &str, c: i64| {
        esiti
            .get(&(iuv, c))
            .is_some_and(|e| e.contains(&0) && e.contains(&9))
    };
    let mut r_by_key: HashMap<(String, String, Option<i64>), Vec<usize>> = HashMap::new();
    for (i, r) in rend.iter().enumerate() {
        r_by_key
            .entry((r.iuv.clone(), r.iur.clone(), r.indice))
            .or_default()
            .push(i);
    }
    let (mut r_used, mut t_used) = (vec![false; rend.len()], vec![false; tes.len()]);
    let mut righe = Vec::new();
    let mut push = |t: Tupla,
                    iud: Option<String>,
                    iuv: Option<String>,
                    iur: Option<String>,
                    iuf: Option<String>,
                    ti: Option<usize>,
                    t_used: &mut Vec<bool>| {
        if let Some(i) = ti {
            t_used[i] = true;
        }
        righe.push(RigaRiconciliata {
            iud,
            iuv,
            iur,
            iuf,
            bolletta: ti.map(|i| format!("{}/{}", tes[i].anno_bolletta, tes[i].codice_bolletta)),
            importo_pagato_cents: t.e_sing.map(|a| a.cents()),
            importo_rendicontato_cents: t.r_sing.map(|a| a.cents()),
            importo_tesoreria_cents: ti.map(|i| tes[i].importo_cents),
            codici: {
                // Only the codes this ente's views offer (its flags), as MyPivot's UI.
                let mut c: Vec<Codice> = classifica(&t)
                    .into_iter()
                    .filter(|c| c.abilitato(flags))
                    .collect();
                if c.is_empty() {
                    c.push(Codice::OTHERS);
                }
                c
            },
        });
    };
    for (raw, iud) in &rts {
        let Ok(rt) = Rt::parse(raw) else { continue };
        // I ⟗ E on the dovuto's IUD (once per receipt).
        let ii = iud
            .as_deref()
            .and_then(|k| i_by_iud.get(k).copied())
            .filter(|i| !i_used[*i]);
        if let Some(i) = ii {
            i_used[i] = true;
        }
        let d = &rt.dati_pagamento;
        for (n, s) in d.dati_singolo_pagamento.iter().enumerate() {
            let iuv = d.iuv.to_string();
            let key = (iuv.clone(), s.iur.clone(), Some(n as i64 + 1));
            let ri = r_by_key
                .get(&key)
                .or_else(|| r_by_key.get(&(iuv.clone(), s.iur.clone(), None)))
                .and_then(|v| v.iter().copied().find(|i| !r_used[*i]));
            let r = ri.map(|i| {
                r_used[i] = true;
                &rend[i]
            });
            let ti_iuf = r.and_then(|r| tes_iuf.get(&r.iuf.to_uppercase()).copied());
            let ti_iuv = tes_iuv.get(&iuv).copied();
            let t = Tupla {
                i: ii.filter(|_| n == 0).and_then(|i| cents(notifiche[i].1)),
                e_sing: Some(s.importo),
                e_tot: Some(d.importo_totale_pagato),
                r_sing: r.and_then(|r| cents(r.importo_cents)),
                r_tot: r.and_then(|r| cents(r.totale_flusso_cents)),
                f_iuf: ti_iuf.and_then(|i| cents(tes[i].importo_cents)),
                f_iuv: ti_iuv.and_then(|i| cents(tes[i].importo_cents)),
                doppio: r.is_some_and(|r| doppio(&r.iuv, r.importo_cents)),
                ..Tupla::default()
            };
            push(
                t,
                iud.clone(),
                Some(iuv),
                Some(s.iur.clone()),
                r.map(|r| r.iuf.clone()),
                ti_iuf.or(ti_iuv),
                &mut t_used,
            );
        }
    }
    for (i, r) in rend.iter().enumerate() {
        if r_used[i] {
            continue;
        }
        let ti_iuf = tes_iuf.get(&r.iuf.to_uppercase()).copied();
        let ti_iuv = tes_iuv.get(&r.iuv).copied();
        // Paid without RPT (esito 9): the reporting stands in for the receipt, as MyPivot's
        // fabricated E row.
        let surrogato = (r.esito == 9).then(|| cents(r.importo_cents)).flatten();
        let t = Tupla {
            e_sing: surrogato,
            e_tot: surrogato,
            r_sing: cents(r.importo_cents),
            r_tot: cents(r.totale_flusso_cents),
            f_iuf: ti_iuf.and_then(|i| cents(tes[i].importo_cents)),
            f_iuv: ti_iuv.and_then(|i| cents(tes[i].importo_cents)),
            doppio: doppio(&r.iuv, r.importo_cents),
            ..Tupla::default()
        };
        push(
            t,
            None,
            Some(r.iuv.clone()),
            Some(r.iur.clone()),
            Some(r.iuf.clone()),
            ti_iuf.or(ti_iuv),
            &mut t_used,
        );
    }
    for (n, (iud, importo)) in notifiche.iter().enumerate() {
        if !i_used[n] {
            let t = Tupla {
                i: cents(*importo),
                ..Tupla::default()
            };
            push(t, Some(iud.clone()), None, None, None, None, &mut t_used);
        }
    }
    for i in 0..tes.len() {
        if t_used[i] {
            continue;
        }
        let row = &tes[i];
        let amount = cents(row.importo_cents);
        let t = Tupla {
            f_iuf: row.iuf.as_ref().and(amount),
            f_iuv: if row.iuf.is_none() {
                row.iuv.as_ref().and(amount)
            } else {
                None
            },
            f0: row.iuf.is_none() && row.iuv.is_none(),
            ..Tupla::default()
        };
        push(
            t,
            None,
            row.iuv.clone(),
            None,
            row.iuf.clone(),
            Some(i),
            &mut t_used,
        );
    }
    let mut conteggi = BTreeMap::new();
    for r in &righe {
        for c in &r.codici {
            *conteggi.entry(*c).or_insert(0) += 1;
        }
    }
    Ok(Riconciliazione { conteggi, righe })
}
