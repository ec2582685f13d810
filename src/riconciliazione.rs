//! The reconciliation services (above the store; the rules are `recon`'s). Reading the
//! materialized reconciliation: which codes a view offers the ente (its flags),
//! the count of lines per code and a filtered page of lines. Every read first drains the
//! ente's queue of touched keys, so a view never shows a state older than the last import.

use crate::recon::classifica::{Codice, Flags};
use crate::store::{FiltroRiconciliazione, RigaRiconciliazione, Store, StoreError};
use std::collections::BTreeMap;

/// Riconciliazione (positive codes), Anomalie (negative) or every code.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, serde::Serialize, utoipa::ToSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Vista {
    Riconciliazione,
    Anomalie,
    Tutte,
}

/// The bit set of the codes a view offers an ente with these flags.
pub fn codici_offerti(vista: Vista, flags: Flags) -> u64 {
    Codice::TUTTI
        .into_iter()
        .filter(|c| c.abilitato(flags))
        .filter(|c| match vista {
            Vista::Riconciliazione => c.positivo(),
            Vista::Anomalie => !c.positivo() && *c != Codice::OTHERS,
            Vista::Tutte => true,
        })
        .fold(0, |m, c| m | c.bit())
}

/// The names of the codes in `maschera` that `offerti` allows.
pub fn nomi(maschera: u64, offerti: u64) -> Vec<String> {
    let v: Vec<String> = Codice::da_maschera(maschera & offerti)
        .into_iter()
        .map(|c| c.nome().to_owned())
        .collect();
    if v.is_empty() {
        vec![Codice::OTHERS.nome().to_owned()]
    } else {
        v
    }
}

#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct Riconciliazione {
    /// How many lines carry each code the ente's views offer (a line may carry several).
    #[schema(value_type = BTreeMap<String, i64>)]
    pub conteggi: BTreeMap<String, i64>,
    /// The lines of the asked codes and filters, this page.
    pub righe: Vec<RigaRiconciliazione>,
    /// How many lines match; with `total_esatto` false, only that there are more than this.
    pub total: i64,
    /// False when more lines than `total` match: a filtered view is counted up to
    /// 20,000 lines (a view of the codes alone is always counted exactly).
    pub total_esatto: bool,
}

pub async fn flags(store: &Store, ente: &str) -> Result<Flags, StoreError> {
    let e = store.registro().get_ente(ente).await?;
    Ok(Flags {
        pagati: e.flg_pagati,
        tesoreria: e.flg_tesoreria,
    })
}

/// Counts per code, only codes offered by `flags`.
pub async fn conteggi(
    store: &Store,
    ente: &str,
    flags: Flags,
) -> Result<BTreeMap<String, i64>, StoreError> {
    Ok(per_codice(
        store.riconciliazione().conteggi(ente).await?,
        flags,
    ))
}

/// Lines per combination of codes, as lines per code offered by `flags` (a line with
/// several codes counts in each).
fn per_codice(conteggi: Vec<(u64, i64)>, flags: Flags) -> BTreeMap<String, i64> {
    let offerti = codici_offerti(Vista::Tutte, flags);
    let mut out = BTreeMap::new();
    for (m, n) in conteggi {
        for c in nomi(m, offerti) {
            *out.entry(c).or_insert(0) += n;
        }
    }
    out
}

/// A page of the reconciliation, `filtro.codici` already restricted to what is offered.
pub async fn riconciliazione(
    store: &Store,
    ente: &str,
    filtro: &FiltroRiconciliazione,
    limit: i64,
    offset: i64,
) -> Result<Riconciliazione, StoreError> {
    store.riconciliazione().process(ente).await?;
    let f = flags(store, ente).await?;
    let offerti = codici_offerti(Vista::Tutte, f);
    let pagina = store
        .riconciliazione()
        .search(ente, filtro, limit, offset)
        .await?;
    let mut righe = pagina.righe;
    // The DOPPI list shows the payments reported twice, not the treasury line their rows
    // also carry (that belongs to the rows' other codes).
    let solo_doppi = filtro.codici == Codice::DOPPI.bit();
    for r in &mut righe {
        if solo_doppi {
            *r = r.senza_tesoreria();
        }
        r.nomi_codici = nomi(r.codici as u64, offerti);
    }
    Ok(Riconciliazione {
        conteggi: per_codice(pagina.conteggi, f),
        righe,
        total: pagina.total,
        total_esatto: pagina.total_esatto,
    })
}

/// Rows read per page when exporting (keyset pages, never the whole result in memory).
const PAGINA: i64 = 2_000;
/// An async export's file is stored in parts of about this size.
const PARTE: usize = 1 << 20;

/// An export read page by page (keyset on the row id): each call gives the next chunk of
/// the file, the header first, and counts the lines given.
pub struct Esportazione {
    store: Store,
    ente: String,
    filtro: FiltroRiconciliazione,
    versione: crate::recon::export::Versione,
    dopo: Option<i64>,
    fine: bool,
    pub righe: i64,
}

impl Esportazione {
    /// Starts an export; what the ente's imports left queued is reclassified first.
    pub async fn apri(
        store: &Store,
        ente: &str,
        filtro: FiltroRiconciliazione,
        versione: crate::recon::export::Versione,
    ) -> Result<Esportazione, StoreError> {
        store.riconciliazione().process(ente).await?;
        Ok(Esportazione {
            store: store.clone(),
            ente: ente.to_owned(),
            filtro,
            versione,
            dopo: None,
            fine: false,
            righe: 0,
        })
    }

    /// The next chunk of the file, `None` at the end.
    pub async fn prossima(&mut self) -> Result<Option<Vec<u8>>, StoreError> {
        let Some(dopo) = self.dopo else {
            self.dopo = Some(0);
            return Ok(Some(crate::recon::export::intestazione(self.versione)));
        };
        if self.fine {
            return Ok(None);
        }
        let rows = self
            .store
            .riconciliazione()
            .pagina(&self.ente, &self.filtro, dopo, PAGINA)
            .await?;
        self.fine = (rows.len() as i64) < PAGINA;
        let Some(last) = rows.last() else {
            return Ok(None);
        };
        self.dopo = Some(last.id);
        let (bytes, n) = crate::recon::export::righe(self.versione, &rows, self.filtro.codici);
        self.righe += n;
        Ok(Some(bytes))
    }
}

/// Runs a booked export to completion (or takes over one whose writer stopped).
pub async fn esegui_export(
    store: &Store,
    e: &crate::store::ExportRiconciliazione,
) -> Result<(), StoreError> {
    if !store
        .esportazioni()
        .take(&e.id, std::time::Duration::from_secs(120))
        .await?
    {
        return Ok(());
    }
    let outcome = async {
        let filtro: FiltroRiconciliazione = serde_json::from_str(&e.filtri)
            .map_err(|x| StoreError::Corrupt(format!("recon_export.filtri: {x}")))?;
        let versione = crate::recon::export::Versione::parse(&e.versione)
            .ok_or_else(|| StoreError::Corrupt(format!("versione {}", e.versione)))?;
        let mut x = Esportazione::apri(store, &e.id_dominio, filtro, versione).await?;
        let (mut parte, mut n) = (Vec::new(), 0);
        while let Some(bytes) = x.prossima().await? {
            parte.extend_from_slice(&bytes);
            if parte.len() >= PARTE {
                store.esportazioni().write_parte(&e.id, n, &parte).await?;
                parte.clear();
                n += 1;
            }
        }
        if !parte.is_empty() {
            store.esportazioni().write_parte(&e.id, n, &parte).await?;
        }
        Ok::<_, StoreError>(x.righe)
    }
    .await;
    match outcome {
        Ok(0) => {
            store
                .esportazioni()
                .close(&e.id, "ESEGUITO_NESSUN_RECORD", 0, None)
                .await
        }
        Ok(n) => store.esportazioni().close(&e.id, "ESEGUITO", n, None).await,
        Err(x) => {
            store
                .esportazioni()
                .close(&e.id, "ERRORE", 0, Some(&x.to_string()))
                .await?;
            Err(x)
        }
    }
}

/// The background side of reconciliation: every few seconds it reclassifies what receipts
/// (applied by the PA server, which does not wait for it) and crashed imports left queued,
/// and finishes booked exports whose writer died with its instance.
pub async fn lavoratore(store: Store) {
    /// Rounds (3 s each) between background statistics refreshes.
    const STAT_OGNI_GIRI: u64 = 20;
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(3));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut giro: u64 = 0;
    loop {
        tick.tick().await;
        giro += 1;
        match store.riconciliazione().in_attesa().await {
            Ok(enti) => {
                for e in enti {
                    if let Err(x) = store.riconciliazione().process_a_passate(&e).await {
                        tracing::warn!(error = %x, ente = %e, "reclassification postponed");
                    }
                }
            }
            Err(x) => tracing::warn!(error = %x, "reconciliation queue unreadable"),
        }
        // Statistics of the days reclassification or accertamenti touched, once a minute:
        // recomputing a day holds the write for a few milliseconds per thousand of its
        // receipts, and every statistics answer refreshes first anyway.
        if giro.is_multiple_of(STAT_OGNI_GIRI)
            && let Ok(enti) = store.contabilita().stat_in_attesa().await
        {
            for e in enti {
                if let Err(x) = store.contabilita().stat_refresh(&e).await {
                    tracing::warn!(error = %x, ente = %e, "statistics refresh postponed");
                }
            }
        }
        if let Ok(jobs) = store.esportazioni().in_attesa().await {
            for j in jobs {
                if let Err(x) = esegui_export(&store, &j).await {
                    tracing::warn!(error = %x, export = %j.id, "export failed");
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn views_offer_codes_by_the_ente_flags() {
        let none = Flags::default();
        let m = codici_offerti(Vista::Anomalie, none);
        assert!(m & Codice::RT_NO_IUF.bit() != 0);
        assert!(m & Codice::DOPPI.bit() != 0);
        assert!(m & Codice::IUF_NO_TES.bit() == 0, "needs flg_tesoreria");
        assert!(m & Codice::IUD_NO_RT.bit() == 0, "needs flg_pagati");
        let all = Flags {
            pagati: true,
            tesoreria: true,
        };
        let r = codici_offerti(Vista::Riconciliazione, all);
        assert_eq!(Codice::da_maschera(r).len(), 5);
        assert!(r & Codice::RT_NO_IUD.bit() == 0);
    }

    #[test]
    fn a_line_whose_codes_are_all_hidden_by_flags_reads_others() {
        let m = Codice::IUF_NO_TES.bit();
        assert_eq!(
            nomi(m, codici_offerti(Vista::Tutte, Flags::default())),
            ["OTHERS"]
        );
    }
}
