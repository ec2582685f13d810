//! Paying a notice after its due date (Portale Pagamenti 5.6; docs/glossario.md §1): the
//! tipo dovuto either refuses (PAA_PAGAMENTO_SCADUTO) or accepts with a fixed late fee and
//! yearly interest accrued per calendar day. Pure, exact cents.
//!
//! Rounding: interest = importo × rate_bp × days / (10,000 × 365), rounded half up to the
//! cent, computed once on the whole period (not per day), in integers.

use super::Importo;
use time::{Date, Duration, Month, OffsetDateTime, UtcOffset, Weekday};

/// Italian civil date of an instant: CET (UTC+1), CEST (UTC+2) from the last Sunday of
/// March 01:00 UTC to the last Sunday of October 01:00 UTC (EU rule).
pub fn data_italiana(now: OffsetDateTime) -> Date {
    ora_italiana(now).date()
}

/// The wall-clock time in Italy (CET, CEST from the last Sunday of March to the last of
/// October, changing at 01:00 UTC), without zone: what the SANP's local date-times carry.
pub fn ora_italiana(now: OffsetDateTime) -> time::PrimitiveDateTime {
    let utc = now.to_offset(UtcOffset::UTC);
    let last_sunday = |m: Month| {
        let mut d = Date::from_calendar_date(utc.year(), m, 31).expect("31 March/October exists");
        while d.weekday() != Weekday::Sunday {
            d = d.previous_day().expect("in range");
        }
        d.with_hms(1, 0, 0).expect("valid").assume_utc()
    };
    let summer = utc >= last_sunday(Month::March) && utc < last_sunday(Month::October);
    let offset = if summer { 2 } else { 1 };
    let local = utc + Duration::hours(offset);
    local.date().with_time(local.time())
}

/// One part of an amount after the due date, as shown to the payer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Componente {
    pub descrizione: &'static str,
    pub importo: Importo,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verifica {
    /// Payable with this amount; `componenti` is empty when nothing was added.
    Pagabile {
        importo: Importo,
        componenti: Vec<Componente>,
    },
    /// Past its due date and the tipo dovuto refuses late payment.
    Scaduto,
}

/// The late-payment policy of a tipo dovuto.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Politica {
    Rifiuta,
    Accetta {
        mora_fissa: Importo,
        interesse_annuo_bp: i64,
    },
}

pub fn verifica(
    importo: Importo,
    data_scadenza: Option<Date>,
    oggi: Date,
    politica: Politica,
) -> Verifica {
    let Some(scadenza) = data_scadenza.filter(|s| oggi > *s) else {
        return Verifica::Pagabile {
            importo,
            componenti: Vec::new(),
        };
    };
    let (mora, bp) = match politica {
        Politica::Rifiuta => return Verifica::Scaduto,
        Politica::Accetta {
            mora_fissa,
            interesse_annuo_bp,
        } => (mora_fissa, interesse_annuo_bp),
    };
    let giorni = i128::from((oggi - scadenza).whole_days());
    let den: i128 = 10_000 * 365;
    let interessi = (i128::from(importo.cents()) * i128::from(bp) * giorni * 2 + den) / (2 * den);
    let interessi = Importo::from_cents(
        i64::try_from(interessi)
            .unwrap_or(i64::MAX)
            .min(Importo::MAX_CENTS),
    )
    .expect("bounded");
    let mut componenti = vec![Componente {
        descrizione: "Importo dovuto",
        importo,
    }];
    if !mora.is_zero() {
        componenti.push(Componente {
            descrizione: "Sanzione ritardo",
            importo: mora,
        });
    }
    if !interessi.is_zero() {
        componenti.push(Componente {
            descrizione: "Interessi di mora",
            importo: interessi,
        });
    }
    if componenti.len() == 1 {
        return Verifica::Pagabile {
            importo,
            componenti: Vec::new(),
        };
    }
    let totale = componenti
        .iter()
        .try_fold(Importo::ZERO, |a, c| a.checked_add(c.importo));
    match totale {
        Some(t) => Verifica::Pagabile {
            importo: t,
            componenti,
        },
        // Beyond the pagoPA maximum: it cannot be collected in one payment.
        None => Verifica::Scaduto,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use time::macros::{date, datetime};

    fn eur(c: i64) -> Importo {
        Importo::from_cents(c).unwrap()
    }

    #[test]
    fn before_or_on_the_due_date_nothing_changes() {
        let p = Politica::Accetta {
            mora_fissa: eur(500),
            interesse_annuo_bp: 250,
        };
        assert_eq!(
            verifica(
                eur(10_000),
                Some(date!(2026 - 12 - 31)),
                date!(2026 - 12 - 31),
                p
            ),
            Verifica::Pagabile {
                importo: eur(10_000),
                componenti: vec![]
            }
        );
        assert_eq!(
            verifica(eur(10_000), None, date!(2030 - 01 - 01), Politica::Rifiuta),
            Verifica::Pagabile {
                importo: eur(10_000),
                componenti: vec![]
            }
        );
    }

    #[test]
    fn late_payment_is_refused_or_priced() {
        assert_eq!(
            verifica(
                eur(10_000),
                Some(date!(2026 - 01 - 31)),
                date!(2026 - 02 - 01),
                Politica::Rifiuta
            ),
            Verifica::Scaduto
        );
        // 100.00 € at 2.50 %/year for 73 days = 0.50 €, plus a 5.00 € fee.
        let p = Politica::Accetta {
            mora_fissa: eur(500),
            interesse_annuo_bp: 250,
        };
        match verifica(
            eur(10_000),
            Some(date!(2026 - 01 - 01)),
            date!(2026 - 03 - 15),
            p,
        ) {
            Verifica::Pagabile {
                importo,
                componenti,
            } => {
                assert_eq!(importo, eur(10_550));
                assert_eq!(
                    componenti
                        .iter()
                        .map(|c| c.importo.cents())
                        .collect::<Vec<_>>(),
                    vec![10_000, 500, 50]
                );
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn italian_time_has_no_zone_and_follows_cet_and_cest() {
        assert_eq!(
            ora_italiana(datetime!(2026-01-15 10:20:30 UTC)),
            datetime!(2026-01-15 11:20:30)
        );
        assert_eq!(
            ora_italiana(datetime!(2026-07-15 10:20:30 UTC)),
            datetime!(2026-07-15 12:20:30)
        );
    }

    #[test]
    fn italian_date_follows_cet_and_cest() {
        assert_eq!(
            data_italiana(datetime!(2026-01-15 23:30 UTC)),
            date!(2026 - 01 - 16)
        );
        assert_eq!(
            data_italiana(datetime!(2026-01-15 22:30 UTC)),
            date!(2026 - 01 - 15)
        );
        assert_eq!(
            data_italiana(datetime!(2026-07-15 22:30 UTC)),
            date!(2026 - 07 - 16)
        );
        assert_eq!(
            data_italiana(datetime!(2026-07-15 21:30 UTC)),
            date!(2026 - 07 - 15)
        );
        // 2026: CEST from 29 March 01:00 UTC to 25 October 01:00 UTC.
        assert_eq!(
            data_italiana(datetime!(2026-03-29 00:59 UTC)),
            date!(2026 - 03 - 29)
        );
        assert_eq!(
            data_italiana(datetime!(2026-10-24 22:30 UTC)),
            date!(2026 - 10 - 25)
        );
        assert_eq!(
            data_italiana(datetime!(2026-10-25 23:30 UTC)),
            date!(2026 - 10 - 26)
        );
    }

    proptest! {
        #[test]
        fn components_add_up_and_the_amount_never_drops(cents in 1i64..1_000_000_000, fee in 0i64..10_000, bp in 0i64..10_000, late in 0i64..3_650) {
            let scadenza = date!(2026 - 01 - 01);
            let oggi = scadenza + Duration::days(late);
            match verifica(eur(cents), Some(scadenza), oggi, Politica::Accetta { mora_fissa: eur(fee), interesse_annuo_bp: bp }) {
                Verifica::Pagabile { importo, componenti } => {
                    prop_assert!(importo >= eur(cents));
                    if !componenti.is_empty() {
                        let sum = componenti.iter().fold(0, |a, c| a + c.importo.cents());
                        prop_assert_eq!(sum, importo.cents());
                    }
                }
                Verifica::Scaduto => prop_assert!(cents + fee > Importo::MAX_CENTS / 2),
            }
        }
    }
}
