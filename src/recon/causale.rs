//! What a treasury journal line's causale says about pagoPA money (docs/riconciliazione.md
//! §2, MyPivot's behaviour including the "dirty" variants bank systems produce):
//! - a cumulative transfer of a reporting flow carries `/PUR/LGPE-RIVERSAMENTO/URI/<IUF>`;
//! - a punctual transfer of one payment carries `/RFB/<IUV>[/<importo>]` or
//!   `/RFS/<RF reference>/…`.
//!
//! Pure functions, so every variant is a unit or property test.

/// What a causale yields. A line may carry both an IUF and an IUV.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Estratto {
    pub iuf: Option<String>,
    pub iuv: Option<String>,
}

/// A causale whose identifier is longer than MyPivot stores (35): the line is rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{campo} di {len} caratteri (massimo 35): {valore}")]
pub struct TroppoLungo {
    pub campo: &'static str,
    pub valore: String,
    pub len: usize,
}

const MARKERS: [&str; 5] = [
    "LGPE-RIVERSAMENTO",
    "LGPE- RIVERSAMENTO",
    "LGPE -RIVERSAMENTO",
    "LGPE - RIVERSAMENTO",
    "L GPE-RIVERSAMENTO",
];
const MAX: usize = 35;

fn token_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '-' || c == '_'
}

/// `YYYY-MM-DD` somewhere in `s`.
fn has_date(s: &str) -> bool {
    first_date(s).is_some()
}

/// Byte offset of the first `YYYY-MM-DD` in `s`.
fn first_date(s: &str) -> Option<usize> {
    let b = s.as_bytes();
    (0..b.len().saturating_sub(9)).find(|&i| {
        let w = &b[i..i + 10];
        w[..4].iter().all(u8::is_ascii_digit)
            && w[4] == b'-'
            && w[5..7].iter().all(u8::is_ascii_digit)
            && w[7] == b'-'
            && w[8..10].iter().all(u8::is_ascii_digit)
    })
}

/// The token starting at `s` (a run of `[A-Za-z0-9-_]`); in continuation mode a second run
/// after one stretch of whitespace is glued on.
fn token(s: &str, continuation: bool) -> String {
    let first: String = s.chars().take_while(|c| token_char(*c)).collect();
    if !continuation || first.is_empty() {
        return first;
    }
    let rest = &s[first.len()..];
    let after_ws = rest.trim_start();
    if after_ws.len() == rest.len() {
        return first;
    }
    let second: String = after_ws.chars().take_while(|c| token_char(*c)).collect();
    first + &second
}

/// A date written with a space inside, at the start of `s`: `YYYY-MM- DD` (`space_at` =
/// 8) or `YYYY-MM-D D` (9). Returns the rest of the token with the space removed.
fn spaced_date_token(s: &str, space_at: usize) -> Option<String> {
    let b = s.as_bytes();
    if b.len() < 11 || b[space_at] != b' ' {
        return None;
    }
    let mut joined: Vec<u8> = b[..11].to_vec();
    joined.remove(space_at);
    let d = std::str::from_utf8(&joined).ok()?;
    if first_date(d) != Some(0) {
        return None;
    }
    Some(format!("{d}{}", token(&s[11..], false)))
}

/// The IUF of a cumulative transfer, as MyPivot reads it.
pub fn iuf(causale: &str) -> Result<Option<String>, TroppoLungo> {
    let Some(after) = MARKERS
        .iter()
        .find_map(|m| causale.find(m).map(|i| &causale[i + m.len()..]))
    else {
        return Ok(None);
    };
    let continuation = causale.trim_start().starts_with("ACCREDITI VARI");
    let after_sep = |sep: &str| after.find(sep).map(|i| &after[i + sep.len()..]);
    // Candidates in MyPivot's order; each with whether it may be an old-style IUF.
    let mut candidates: Vec<(String, bool)> = Vec::new();
    for (sep, space_at) in [("/URI/", 8), (" URI ", 8), ("/URI/", 9), (" URI ", 9)] {
        if let Some(t) = after_sep(sep).and_then(|r| spaced_date_token(r, space_at)) {
            candidates.push((t, false));
        }
    }
    if let Some(r) = after_sep("/URI/") {
        candidates.push((token(r, continuation), true));
    }
    if let Some(r) = after_sep(" URI ") {
        candidates.push((token(r, continuation), false));
    }
    for (c, old_style_ok) in candidates {
        let c: String = c.chars().filter(|ch| !ch.is_whitespace()).collect();
        if c.is_empty() {
            continue;
        }
        let old_style = old_style_ok && c.chars().all(|ch| ch.is_ascii_alphanumeric());
        if has_date(&c) || old_style {
            if c.len() > MAX {
                return Err(TroppoLungo {
                    campo: "IUF",
                    len: c.len(),
                    valore: c,
                });
            }
            return Ok(Some(c));
        }
    }
    Ok(None)
}

/// The IUV of a punctual transfer (`RFB`, else `RFS`), as MyPivot reads it: a raw
/// substring match, so a word containing "RFB" can yield a false IUV, as there.
pub fn iuv(causale: &str) -> Result<Option<String>, TroppoLungo> {
    let found = if let Some(i) = causale.find("RFB") {
        let rest = &causale[i..];
        let slash = rest
            .find("RFB/")
            .map(|j| {
                rest[j + 4..]
                    .split('/')
                    .next()
                    .unwrap_or("")
                    .trim()
                    .to_owned()
            })
            .filter(|s| !s.is_empty());
        slash.or_else(|| {
            rest.find("RFB ")
                .map(|j| rest[j + 4..].split(' ').next().unwrap_or("").to_owned())
                .filter(|s| !s.is_empty())
        })
    } else if causale.contains("RFS") {
        let first25 = |s: &str| {
            s.chars()
                .filter(|c| !c.is_whitespace())
                .take(25)
                .collect::<String>()
        };
        match causale.find("RFS/") {
            Some(j) => {
                let t = causale[j + 4..].split('/').next().unwrap_or("");
                Some(if t.chars().count() > 25 {
                    first25(t)
                } else {
                    t.to_owned()
                })
            }
            None => causale.rfind("RFS").map(|j| first25(&causale[j + 3..])),
        }
        .filter(|s| !s.is_empty())
    } else {
        None
    };
    match found {
        Some(v) if v.len() > MAX => Err(TroppoLungo {
            campo: "IUV",
            len: v.len(),
            valore: v,
        }),
        other => Ok(other),
    }
}

/// Both identifiers of a causale.
pub fn estrai(causale: &str) -> Result<Estratto, TroppoLungo> {
    Ok(Estratto {
        iuf: iuf(causale)?,
        iuv: iuv(causale)?,
    })
}

/// The PSP id inside an IUF: the first word after its date
/// (`2024-07-26PPAYITR1XXX-S2024072600` → `PPAYITR1XXX`).
pub fn psp_da_iuf(iuf: &str) -> Option<String> {
    let d = first_date(iuf)?;
    let rest = &iuf[d + 10..];
    let w: String = rest
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect();
    (!w.is_empty()).then_some(w)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const IUF: &str = "2026-11-27ABCDITMMXXX-S000000001";

    #[test]
    fn the_sanp_remittance_yields_the_iuf() {
        let c = format!("/PUR/LGPE-RIVERSAMENTO/URI/{IUF}");
        assert_eq!(iuf(&c), Ok(Some(IUF.into())));
        assert_eq!(psp_da_iuf(IUF).as_deref(), Some("ABCDITMMXXX"));
        assert_eq!(
            psp_da_iuf("2024-07-26PPAYITR1XXX-S2024072600").as_deref(),
            Some("PPAYITR1XXX")
        );
    }

    #[test]
    fn dirty_markers_and_separators_are_read() {
        for m in [
            "LGPE- RIVERSAMENTO",
            "LGPE -RIVERSAMENTO",
            "LGPE - RIVERSAMENTO",
            "L GPE-RIVERSAMENTO",
        ] {
            let c = format!("BONIFICO /PUR/{m}/URI/{IUF} ALTRO");
            assert_eq!(iuf(&c), Ok(Some(IUF.into())), "{m}");
        }
        // Spaces instead of slashes, and a date broken by a space (both positions).
        assert_eq!(
            iuf(&format!("/PUR/LGPE-RIVERSAMENTO URI {IUF}")),
            Ok(Some(IUF.into()))
        );
        assert_eq!(
            iuf("/PUR/LGPE-RIVERSAMENTO/URI/2026-11- 27ABCDITMMXXX-S000000001"),
            Ok(Some(IUF.into()))
        );
        assert_eq!(
            iuf("/PUR/LGPE-RIVERSAMENTO URI 2026-11-2 7ABCDITMMXXX-S000000001"),
            Ok(Some(IUF.into()))
        );
    }

    #[test]
    fn accrediti_vari_glue_a_token_split_by_whitespace() {
        let c = "ACCREDITI VARI /PUR/LGPE-RIVERSAMENTO/URI/2026-11-27ABCDITMMXXX -S000000001";
        assert_eq!(iuf(c), Ok(Some(IUF.into())));
        // Without the continuation mode the token stops at the space.
        let c = "BONIFICO /PUR/LGPE-RIVERSAMENTO/URI/2026-11-27ABCDITMMXXX -S000000001";
        assert_eq!(iuf(c), Ok(Some("2026-11-27ABCDITMMXXX".into())));
    }

    #[test]
    fn no_marker_no_date_or_too_long_is_said_so() {
        assert_eq!(iuf(&format!("/PUR/URI/{IUF}")), Ok(None));
        // An old-style IUF (letters and digits only) is accepted after /URI/ …
        assert_eq!(
            iuf("/PUR/LGPE-RIVERSAMENTO/URI/ABC123"),
            Ok(Some("ABC123".into()))
        );
        // … but not after the " URI " fallback, which needs a date.
        assert_eq!(iuf("/PUR/LGPE-RIVERSAMENTO URI ABC123"), Ok(None));
        assert_eq!(iuf("/PUR/LGPE-RIVERSAMENTO/URI/ABC-123"), Ok(None));
        let long = format!("/PUR/LGPE-RIVERSAMENTO/URI/2026-11-27{}", "X".repeat(30));
        assert!(matches!(iuf(&long), Err(TroppoLungo { campo: "IUF", .. })));
    }

    #[test]
    fn iuv_from_rfb_and_rfs() {
        assert_eq!(
            iuv("/RFB/01000000000000144/10.00/TXT/TARI"),
            Ok(Some("01000000000000144".into()))
        );
        assert_eq!(
            iuv("PAGAMENTO RFB 01000000000000144 TARI"),
            Ok(Some("01000000000000144".into()))
        );
        assert_eq!(
            iuv("/RFB/01000000000000144"),
            Ok(Some("01000000000000144".into()))
        );
        assert_eq!(
            iuv("/RFS/RF18539007547034/10.00"),
            Ok(Some("RF18539007547034".into()))
        );
        assert_eq!(
            iuv("CAUSALE RFS RF18 5390 0754 7034"),
            Ok(Some("RF18539007547034".into()))
        );
        assert_eq!(
            iuv("/RFS/RF18539007547034ABCDEFGHIJKLMNOP/1.00"),
            Ok(Some("RF18539007547034ABCDEFGHI".into()))
        );
        assert_eq!(iuv("BONIFICO DA PRIVATO"), Ok(None));
        // MyPivot's raw match: a word ending in RFB before a slash yields a (false) IUV;
        // RFB followed by neither `/` nor a space yields nothing.
        assert_eq!(iuv("XRFB/123/"), Ok(Some("123".into())));
        assert_eq!(iuv("TRANSFER RFBXYZ"), Ok(None));
        assert!(iuv(&format!("/RFB/{}", "1".repeat(36))).is_err());
        // A line may carry both.
        let e = estrai(&format!(
            "/PUR/LGPE-RIVERSAMENTO/URI/{IUF} /RFB/01000000000000144"
        ))
        .unwrap();
        assert_eq!(
            (e.iuf.as_deref(), e.iuv.as_deref()),
            (Some(IUF), Some("01000000000000144"))
        );
    }

    proptest! {
        #[test]
        fn extraction_never_panics(s in "\\PC{0,120}") {
            let _ = estrai(&s);
            if let Ok(Some(i)) = iuf(&s) { let _ = psp_da_iuf(&i); }
        }

        #[test]
        fn any_dated_iuf_round_trips_through_the_sanp_remittance(
            psp in "[A-Z0-9]{8,11}", n in 0u32..1_000_000, pre in "[A-Z ]{0,20}", post in "( [A-Z0-9 ]{0,20})?"
        ) {
            let iuf_in = format!("2026-11-27{psp}-S{n:09}");
            let c = format!("{pre}/PUR/LGPE-RIVERSAMENTO/URI/{iuf_in}{post}");
            prop_assume!(!pre.trim_start().starts_with("ACCREDITI VARI"));
            prop_assert_eq!(iuf(&c), Ok(Some(iuf_in.clone())));
            prop_assert_eq!(psp_da_iuf(&iuf_in), Some(psp));
        }
    }
}
