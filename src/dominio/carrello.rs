//! The cart rules of SANP 2.x (nodoInviaCarrelloRPT) and of the multi-beneficiary cart
//! (SANP 2.5.1 §3.1.4), checked before anything is sent, the notices a cart asks pagoPA
//! Checkout to collect, and a cart's outcome from its RPTs' esiti. Pure functions.

use crate::model::{EsitoCarrello, EsitoPagamento, StatoCarrello};

/// What the rules need to know of each RPT the cart will carry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RptPrevista {
    pub id_dominio: String,
    pub iuv: String,
    pub versamenti: usize,
    /// The payer's fiscal code.
    pub pagatore: String,
    pub marca_bollo: bool,
}

/// A broken rule, said so a portal can show it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Violazione(pub String);

impl Violazione {
    pub fn new(s: impl Into<String>) -> Self {
        Violazione(s.into())
    }
}

/// A priced dovuto of a cart going to pagoPA Checkout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VoceCheckout {
    pub id_dominio: String,
    pub numero_avviso: Option<String>,
    pub importo: crate::model::Importo,
    pub ente: String,
    pub causale: String,
}

/// What Checkout is asked to collect: one notice per dovuto; a multi-beneficiary position
/// (already checked by [`verifica`]: the primary first, then the share) is the primary's one
/// notice for the whole amount, as paGetPayment will split it into two transfers. Checkout
/// pays notices: a dovuto without a numero avviso cannot go (but a share).
pub fn avvisi_checkout(
    voci: &[VoceCheckout],
    multi: bool,
) -> Result<Vec<VoceCheckout>, Violazione> {
    let da_pagare = if multi {
        &voci[..1.min(voci.len())]
    } else {
        voci
    };
    let mut out = Vec::with_capacity(da_pagare.len());
    for v in da_pagare {
        if v.numero_avviso.is_none() {
            return Err(Violazione::new(format!(
                "il dovuto {} dell'ente {} non ha numero avviso: Checkout paga avvisi",
                v.causale, v.id_dominio
            )));
        }
        let mut v = v.clone();
        if multi {
            v.importo = voci
                .iter()
                .try_fold(crate::model::Importo::ZERO, |a, x| a.checked_add(x.importo))
                .ok_or_else(|| Violazione::new("importo del carrello fuori misura"))?;
        }
        out.push(v);
    }
    Ok(out)
}

pub fn verifica(rpts: &[RptPrevista], multi: bool) -> Result<(), Violazione> {
    if rpts.is_empty() || rpts.len() > 5 {
        return Err(Violazione::new(format!(
            "un carrello contiene da 1 a 5 RPT, non {}",
            rpts.len()
        )));
    }
    for (i, r) in rpts.iter().enumerate() {
        if r.versamenti == 0 || r.versamenti > 5 {
            return Err(Violazione::new(format!(
                "la RPT {} ha {} versamenti (da 1 a 5)",
                i + 1,
                r.versamenti
            )));
        }
        if rpts[..i]
            .iter()
            .any(|o| o.id_dominio == r.id_dominio && o.iuv == r.iuv)
        {
            return Err(Violazione::new(format!(
                "il dovuto {}/{} compare due volte",
                r.id_dominio, r.iuv
            )));
        }
    }
    if !multi {
        return Ok(());
    }
    let [primo, secondo] = rpts else {
        return Err(Violazione::new(format!(
            "un carrello multibeneficiario ha esattamente 2 RPT, non {}",
            rpts.len()
        )));
    };
    if primo.iuv != secondo.iuv {
        return Err(Violazione::new(
            "le due RPT di un multibeneficiario hanno lo stesso IUV",
        ));
    }
    if primo.id_dominio == secondo.id_dominio {
        return Err(Violazione::new(
            "la seconda RPT di un multibeneficiario è di un altro ente",
        ));
    }
    if secondo.versamenti != 1 {
        return Err(Violazione::new(
            "la seconda RPT di un multibeneficiario ha un solo versamento",
        ));
    }
    if primo.versamenti + secondo.versamenti > 5 {
        return Err(Violazione::new(
            "un multibeneficiario ha al massimo 5 versamenti in tutto",
        ));
    }
    if primo.pagatore != secondo.pagatore {
        return Err(Violazione::new(
            "le RPT di un multibeneficiario hanno lo stesso pagatore",
        ));
    }
    if primo.marca_bollo || secondo.marca_bollo {
        return Err(Violazione::new(
            "un multibeneficiario non ammette la marca da bollo",
        ));
    }
    Ok(())
}

/// `<CF 11><numero avviso 18>-<progressivo 5>` (35 characters).
pub fn id_carrello_multi(cf: &str, avviso: &str, progressivo: i64) -> Result<String, Violazione> {
    if cf.len() != 11 || avviso.len() != 18 || !(1..=99_999).contains(&progressivo) {
        return Err(Violazione::new(format!(
            "identificativoCarrello non componibile da {cf}, {avviso}, {progressivo}"
        )));
    }
    Ok(format!("{cf}{avviso}-{progressivo:05}"))
}

/// `Anno(4) idDominio(11) codiceSorgente(2) Progressivo(18)`: the suggested syntax for an
/// ordinary cart, the progressive random so instances never coordinate.
pub fn id_carrello(anno: i32, id_dominio: &str) -> String {
    let n = uuid::Uuid::new_v4().as_u128() % 1_000_000_000_000_000_000;
    format!("{anno:04}{id_dominio}01{n:018}")
}

/// The cart's outcome for the payer: refused by the Nodo, waiting for an RT, or paid when
/// every RPT's RT is positive (`EsitoPagamento::positivo`, the same rule that makes each
/// dovuto PAGATO), unpaid when none is, partly paid otherwise. `esiti`: each RPT's RT
/// esito, `None` while it has none.
pub fn esito(stato: StatoCarrello, esiti: &[Option<EsitoPagamento>]) -> EsitoCarrello {
    if stato == StatoCarrello::Rifiutato {
        return EsitoCarrello::Rifiutato;
    }
    if esiti.is_empty() || esiti.iter().any(Option::is_none) {
        return EsitoCarrello::InCorso;
    }
    let pagati = esiti.iter().flatten().filter(|e| e.positivo()).count();
    match pagati {
        0 => EsitoCarrello::NonPagato,
        n if n == esiti.len() => EsitoCarrello::Pagato,
        _ => EsitoCarrello::ParzialmentePagato,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checkout_gets_one_notice_per_dovuto_and_one_for_a_shared_position() {
        let voce = |dom: &str, avviso: Option<&str>, cents: i64| VoceCheckout {
            id_dominio: dom.into(),
            numero_avviso: avviso.map(Into::into),
            importo: crate::model::Importo::from_cents(cents).unwrap(),
            ente: "Ente".into(),
            causale: "TARI".into(),
        };
        let due = [voce("A", Some("301"), 1_000), voce("B", Some("302"), 500)];
        assert_eq!(avvisi_checkout(&due, false).unwrap(), due);
        let multi = [voce("A", Some("301"), 7_000), voce("B", None, 3_000)];
        let a = avvisi_checkout(&multi, true).unwrap();
        assert_eq!((a.len(), a[0].importo.cents()), (1, 10_000));
        assert!(avvisi_checkout(&[voce("A", None, 1)], false).is_err());
    }
    use proptest::prelude::*;

    #[test]
    fn a_cart_is_paid_when_each_of_its_dovuti_is() {
        use EsitoPagamento::*;
        let e = |v: &[Option<EsitoPagamento>]| esito(StatoCarrello::Inviato, v);
        assert_eq!(
            e(&[Some(Eseguito), Some(ParzialmenteEseguito)]),
            EsitoCarrello::Pagato
        );
        // Esito 2 pays its dovuto, so a cart of one such RPT is paid, not partly paid.
        assert_eq!(e(&[Some(ParzialmenteEseguito)]), EsitoCarrello::Pagato);
        assert_eq!(
            e(&[Some(Eseguito), Some(DecorrenzaTermini)]),
            EsitoCarrello::ParzialmentePagato
        );
        assert_eq!(
            e(&[Some(NonEseguito), Some(DecorrenzaTerminiParziale)]),
            EsitoCarrello::NonPagato
        );
        assert_eq!(e(&[Some(Eseguito), None]), EsitoCarrello::InCorso);
        assert_eq!(
            esito(StatoCarrello::Rifiutato, &[None]),
            EsitoCarrello::Rifiutato
        );
    }

    fn rpt(dom: &str, iuv: &str) -> RptPrevista {
        RptPrevista {
            id_dominio: dom.into(),
            iuv: iuv.into(),
            versamenti: 1,
            pagatore: "RSSMRA85T10A562S".into(),
            marca_bollo: false,
        }
    }

    #[test]
    fn ordinary_cart_holds_one_to_five_distinct_rpts() {
        assert!(verifica(&[], false).is_err());
        let five: Vec<_> = (0..5)
            .map(|i| rpt("80007580279", &format!("0{i}")))
            .collect();
        assert!(verifica(&five, false).is_ok());
        let mut six = five.clone();
        six.push(rpt("80007580279", "09"));
        assert!(verifica(&six, false).is_err());
        assert!(verifica(&[rpt("1", "a"), rpt("1", "a")], false).is_err());
        let mut many = rpt("1", "a");
        many.versamenti = 6;
        assert!(verifica(&[many], false).is_err());
    }

    #[test]
    fn multi_beneficiary_rules_each_refused() {
        let ok = [rpt("80007580279", "X"), rpt("00000000000", "X")];
        assert_eq!(verifica(&ok, true), Ok(()));
        assert!(
            verifica(&ok[..1], true)
                .unwrap_err()
                .0
                .contains("esattamente 2")
        );
        let other_iuv = [rpt("80007580279", "X"), rpt("00000000000", "Y")];
        assert!(
            verifica(&other_iuv, true)
                .unwrap_err()
                .0
                .contains("stesso IUV")
        );
        let same_ente = [rpt("80007580279", "X"), rpt("80007580279", "X")];
        assert!(verifica(&same_ente, true).is_err());
        let mut two = ok.clone();
        two[1].versamenti = 2;
        assert!(
            verifica(&two, true)
                .unwrap_err()
                .0
                .contains("un solo versamento")
        );
        let mut five = ok.clone();
        five[0].versamenti = 5;
        assert!(
            verifica(&five, true)
                .unwrap_err()
                .0
                .contains("al massimo 5")
        );
        let mut payer = ok.clone();
        payer[1].pagatore = "VRDGPP80A01H501X".into();
        assert!(
            verifica(&payer, true)
                .unwrap_err()
                .0
                .contains("stesso pagatore")
        );
        let mut bollo = ok.clone();
        bollo[0].marca_bollo = true;
        assert!(
            verifica(&bollo, true)
                .unwrap_err()
                .0
                .contains("marca da bollo")
        );
    }

    #[test]
    fn multi_beneficiary_cart_id_has_the_documented_35_character_shape() {
        let id = id_carrello_multi("12345678912", "301123456789034214", 1).unwrap();
        assert_eq!(id, "12345678912301123456789034214-00001");
        assert_eq!(id.len(), 35);
        assert!(id_carrello_multi("1234567891", "301123456789034214", 1).is_err());
        assert!(id_carrello_multi("12345678912", "301123456789034214", 100_000).is_err());
    }

    proptest! {
        #[test]
        fn ordinary_cart_ids_are_35_digits_starting_with_year_and_ente(anno in 2000i32..2100) {
            let id = id_carrello(anno, "80007580279");
            prop_assert_eq!(id.len(), 35);
            prop_assert!(id.bytes().all(|b| b.is_ascii_digit()));
            let prefix = format!("{anno}80007580279");
            prop_assert!(id.starts_with(&prefix));
        }
    }
}
