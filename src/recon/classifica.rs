//! The MyPivot classification (docs/riconciliazione.md §4): for one joined tuple of
//! notification (I), receipt (E), reporting (R) and treasury rows — T from the XLS
//! "riversamento" journal, F from the CSV/OPI giornale di cassa, each by IUF (cumulative)
//! or by IUV (punctual) — every code whose predicate holds (multi-label, as MyPivot's
//! OR-join); none → OTHERS. Amounts compare exactly. Pure.

use crate::model::Importo;

/// The 13 view codes, DOPPI and OTHERS.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, utoipa::ToSchema,
)]
#[allow(non_camel_case_types)]
pub enum Codice {
    IUD_RT_IUF_TES,
    RT_IUF_TES,
    RT_TES,
    RT_IUF,
    IUD_RT_IUF,
    IUD_NO_RT,
    RT_NO_IUD,
    RT_NO_IUF,
    IUV_NO_RT,
    IUF_NO_TES,
    IUF_TES_DIV_IMP,
    TES_NO_IUF_OR_IUV,
    TES_NO_MATCH,
    DOPPI,
    OTHERS,
}

/// The ente's flags that decide which codes its views offer.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Flags {
    /// The back office notifies payments (IUD).
    pub pagati: bool,
    /// The treasury journal is loaded.
    pub tesoreria: bool,
}

impl Codice {
    /// Riconciliazione (positive) or Anomalie (negative).
    pub fn positivo(self) -> bool {
        use Codice::*;
        matches!(
            self,
            IUD_RT_IUF_TES | RT_IUF_TES | RT_TES | RT_IUF | IUD_RT_IUF
        )
    }

    /// Every code, in order (the bit of each is its position).
    pub const TUTTI: [Codice; 15] = {
        use Codice::*;
        [
            IUD_RT_IUF_TES,
            RT_IUF_TES,
            RT_TES,
            RT_IUF,
            IUD_RT_IUF,
            IUD_NO_RT,
            RT_NO_IUD,
            RT_NO_IUF,
            IUV_NO_RT,
            IUF_NO_TES,
            IUF_TES_DIV_IMP,
            TES_NO_IUF_OR_IUV,
            TES_NO_MATCH,
            DOPPI,
            OTHERS,
        ]
    };

    /// The code's bit in a stored code set.
    pub fn bit(self) -> u64 {
        1 << (self as u32)
    }

    /// The codes of a stored bit set, in order.
    pub fn da_maschera(m: u64) -> Vec<Codice> {
        Self::TUTTI
            .into_iter()
            .filter(|c| m & c.bit() != 0)
            .collect()
    }

    pub fn nome(self) -> &'static str {
        use Codice::*;
        match self {
            IUD_RT_IUF_TES => "IUD_RT_IUF_TES",
            RT_IUF_TES => "RT_IUF_TES",
            RT_TES => "RT_TES",
            RT_IUF => "RT_IUF",
            IUD_RT_IUF => "IUD_RT_IUF",
            IUD_NO_RT => "IUD_NO_RT",
            RT_NO_IUD => "RT_NO_IUD",
            RT_NO_IUF => "RT_NO_IUF",
            IUV_NO_RT => "IUV_NO_RT",
            IUF_NO_TES => "IUF_NO_TES",
            IUF_TES_DIV_IMP => "IUF_TES_DIV_IMP",
            TES_NO_IUF_OR_IUV => "TES_NO_IUF_OR_IUV",
            TES_NO_MATCH => "TES_NO_MATCH",
            DOPPI => "DOPPI",
            OTHERS => "OTHERS",
        }
    }

    pub fn da_nome(s: &str) -> Option<Codice> {
        Self::TUTTI.into_iter().find(|c| c.nome() == s)
    }

    /// Whether the ente's views offer this code.
    pub fn abilitato(self, f: Flags) -> bool {
        use Codice::*;
        match self {
            IUD_RT_IUF_TES => f.pagati && f.tesoreria,
            RT_IUF_TES | RT_TES | IUV_NO_RT | IUF_NO_TES | IUF_TES_DIV_IMP | TES_NO_IUF_OR_IUV
            | TES_NO_MATCH => f.tesoreria,
            IUD_RT_IUF | IUD_NO_RT | RT_NO_IUD => f.pagati,
            RT_IUF | RT_NO_IUF | DOPPI | OTHERS => true,
        }
    }
}

/// The amounts of one joined tuple; `None` = that part is absent.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tupla {
    /// I: the notified amount.
    pub i: Option<Importo>,
    /// E: the receipt's single payment and total paid.
    pub e_sing: Option<Importo>,
    pub e_tot: Option<Importo>,
    /// R: the reported single payment and the flow's total.
    pub r_sing: Option<Importo>,
    pub r_tot: Option<Importo>,
    pub t_iuf: Option<Importo>,
    pub t_iuv: Option<Importo>,
    pub f_iuf: Option<Importo>,
    pub f_iuv: Option<Importo>,
    /// Only an unidentifiable treasury line (neither IUF nor IUV in its causale).
    pub f0: bool,
    /// Another reporting row has the same payment with the complementary esito (0 ↔ 9).
    pub doppio: bool,
}

fn eq(a: Option<Importo>, b: Option<Importo>) -> bool {
    matches!((a, b), (Some(x), Some(y)) if x == y)
}

/// Every code the tuple satisfies, in code order; `[OTHERS]` when none.
pub fn classifica(t: &Tupla) -> Vec<Codice> {
    use Codice::*;
    let (i, e, r) = (t.i.is_some(), t.e_sing.is_some(), t.r_sing.is_some());
    let r_tot = t.r_tot.is_some();
    let cumulativo = eq(t.t_iuf, t.r_tot) || eq(t.f_iuf, t.r_tot);
    let puntuale = eq(t.t_iuv, t.e_tot) || eq(t.f_iuv, t.e_tot);
    let rt_iuf = e && r && eq(t.e_sing, t.r_sing);
    let iud_rt = i && e && eq(t.i, t.e_sing);
    let tesorerie = [t.t_iuf, t.t_iuv, t.f_iuf, t.f_iuv];
    let qualche_tesoreria = tesorerie.iter().any(Option::is_some);
    let mut out = Vec::new();
    let mut add = |c: Codice, cond: bool| {
        if cond {
            out.push(c);
        }
    };
    add(
        IUD_RT_IUF_TES,
        iud_rt && ((rt_iuf && r_tot && cumulativo) || puntuale),
    );
    add(RT_IUF_TES, rt_iuf && r_tot && cumulativo);
    add(RT_TES, e && !r && puntuale);
    add(RT_IUF, rt_iuf);
    add(IUD_RT_IUF, iud_rt && rt_iuf);
    add(IUD_NO_RT, i && (!e || !eq(t.i, t.e_sing)));
    add(RT_NO_IUD, e && !i);
    add(
        RT_NO_IUF,
        e && t.t_iuv.is_none() && t.f_iuv.is_none() && (!r || !eq(t.e_sing, t.r_sing)),
    );
    add(IUV_NO_RT, r && !e);
    add(IUF_NO_TES, r && !qualche_tesoreria);
    add(
        IUF_TES_DIV_IMP,
        r && tesorerie.iter().flatten().any(|a| Some(*a) != t.r_tot),
    );
    add(TES_NO_IUF_OR_IUV, qualche_tesoreria && !r && !e && !i);
    add(TES_NO_MATCH, t.f0 && !qualche_tesoreria && !r && !e && !i);
    add(DOPPI, t.doppio && r);
    if out.is_empty() {
        out.push(OTHERS);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::Codice::*;
    use super::*;

    fn eur(c: i64) -> Option<Importo> {
        Importo::from_cents(c).ok()
    }

    /// A payment notified, paid, reported in a flow of 100.00 and credited by IUF.
    fn completo() -> Tupla {
        Tupla {
            i: eur(1_000),
            e_sing: eur(1_000),
            e_tot: eur(1_000),
            r_sing: eur(1_000),
            r_tot: eur(10_000),
            t_iuf: eur(10_000),
            ..Tupla::default()
        }
    }

    fn has(t: &Tupla, c: Codice) -> bool {
        classifica(t).contains(&c)
    }

    #[test]
    fn a_fully_reconciled_payment_carries_the_four_positive_codes_and_nothing_else() {
        assert_eq!(
            classifica(&completo()),
            [IUD_RT_IUF_TES, RT_IUF_TES, RT_IUF, IUD_RT_IUF]
        );
        // The same with the credit in the CSV/OPI journal instead of the XLS one.
        let f = Tupla {
            t_iuf: None,
            f_iuf: eur(10_000),
            ..completo()
        };
        assert_eq!(
            classifica(&f),
            [IUD_RT_IUF_TES, RT_IUF_TES, RT_IUF, IUD_RT_IUF]
        );
    }

    #[test]
    fn iud_rt_iuf_tes_needs_the_notification_to_match_and_some_treasury() {
        assert!(!has(
            &Tupla {
                i: eur(999),
                ..completo()
            },
            IUD_RT_IUF_TES
        ));
        assert!(!has(
            &Tupla {
                t_iuf: eur(9_999),
                ..completo()
            },
            IUD_RT_IUF_TES
        ));
        // Punctual credit instead of a flow.
        let p = Tupla {
            r_sing: None,
            r_tot: None,
            t_iuf: None,
            t_iuv: eur(1_000),
            ..completo()
        };
        assert!(has(&p, IUD_RT_IUF_TES));
    }

    #[test]
    fn rt_iuf_tes_and_rt_iuf_need_equal_single_amounts() {
        let t = Tupla {
            i: None,
            ..completo()
        };
        assert!(has(&t, RT_IUF_TES) && has(&t, RT_IUF));
        let diff = Tupla {
            r_sing: eur(999),
            ..t
        };
        assert!(!has(&diff, RT_IUF_TES) && !has(&diff, RT_IUF));
        assert!(!has(&Tupla { t_iuf: None, ..t }, RT_IUF_TES));
        assert!(has(&Tupla { t_iuf: None, ..t }, RT_IUF));
    }

    #[test]
    fn rt_tes_is_a_punctual_credit_without_reporting() {
        let t = Tupla {
            e_sing: eur(500),
            e_tot: eur(500),
            f_iuv: eur(500),
            ..Tupla::default()
        };
        assert!(has(&t, RT_TES));
        assert!(!has(
            &Tupla {
                f_iuv: eur(499),
                ..t
            },
            RT_TES
        ));
        assert!(!has(
            &Tupla {
                r_sing: eur(500),
                r_tot: eur(500),
                ..t
            },
            RT_TES
        ));
    }

    #[test]
    fn iud_rt_iuf_is_notified_paid_and_reported() {
        let t = Tupla {
            t_iuf: None,
            ..completo()
        };
        assert!(has(&t, IUD_RT_IUF));
        assert!(!has(
            &Tupla {
                r_sing: None,
                r_tot: None,
                ..t
            },
            IUD_RT_IUF
        ));
    }

    #[test]
    fn notification_anomalies() {
        // Notified, never paid; or paid another amount.
        assert!(has(
            &Tupla {
                i: eur(100),
                ..Tupla::default()
            },
            IUD_NO_RT
        ));
        assert!(has(
            &Tupla {
                i: eur(100),
                e_sing: eur(90),
                e_tot: eur(90),
                ..Tupla::default()
            },
            IUD_NO_RT
        ));
        assert!(!has(&completo(), IUD_NO_RT));
        // Paid, never notified.
        assert!(has(
            &Tupla {
                i: None,
                ..completo()
            },
            RT_NO_IUD
        ));
        assert!(!has(&completo(), RT_NO_IUD));
    }

    #[test]
    fn reporting_anomalies() {
        // Paid but not (correctly) reported, and not credited punctually.
        let pagato = Tupla {
            e_sing: eur(100),
            e_tot: eur(100),
            ..Tupla::default()
        };
        assert!(has(&pagato, RT_NO_IUF));
        assert!(has(
            &Tupla {
                r_sing: eur(90),
                r_tot: eur(90),
                ..pagato
            },
            RT_NO_IUF
        ));
        assert!(!has(
            &Tupla {
                t_iuv: eur(100),
                ..pagato
            },
            RT_NO_IUF
        ));
        assert!(!has(&completo(), RT_NO_IUF));
        // Reported, no receipt.
        let rend = Tupla {
            r_sing: eur(100),
            r_tot: eur(100),
            ..Tupla::default()
        };
        assert!(has(&rend, IUV_NO_RT) && has(&rend, IUF_NO_TES));
        assert!(!has(&completo(), IUV_NO_RT) && !has(&completo(), IUF_NO_TES));
    }

    #[test]
    fn treasury_anomalies() {
        assert!(has(
            &Tupla {
                t_iuf: eur(9_999),
                ..completo()
            },
            IUF_TES_DIV_IMP
        ));
        assert!(!has(&completo(), IUF_TES_DIV_IMP));
        // Money credited that nothing explains, with or without an identifier.
        let t = Tupla {
            f_iuf: eur(5_000),
            ..Tupla::default()
        };
        assert_eq!(classifica(&t), [TES_NO_IUF_OR_IUV]);
        let f0 = Tupla {
            f0: true,
            ..Tupla::default()
        };
        assert_eq!(classifica(&f0), [TES_NO_MATCH]);
        assert!(!has(
            &Tupla {
                f0: true,
                ..completo()
            },
            TES_NO_MATCH
        ));
    }

    #[test]
    fn doppi_marks_a_payment_reported_both_as_normal_and_without_rpt() {
        assert!(has(
            &Tupla {
                doppio: true,
                ..completo()
            },
            DOPPI
        ));
        assert!(!has(&completo(), DOPPI));
    }

    #[test]
    fn nothing_present_is_others_and_flags_decide_what_is_offered() {
        assert_eq!(classifica(&Tupla::default()), [OTHERS]);
        let none = Flags::default();
        assert!(RT_IUF.abilitato(none) && RT_NO_IUF.abilitato(none));
        assert!(!RT_IUF_TES.abilitato(none) && !IUD_NO_RT.abilitato(none));
        assert!(IUD_RT_IUF_TES.abilitato(Flags {
            pagati: true,
            tesoreria: true
        }));
        assert!(!IUD_RT_IUF_TES.abilitato(Flags {
            pagati: true,
            tesoreria: false
        }));
        assert!(RT_TES.positivo() && !TES_NO_MATCH.positivo());
    }
}
