//! The avviso di pagamento (payment notice) as a PDF in pagoPA's layout: who asks, who
//! pays, how much and by when, where to pay, and the codes a PSP or a post office reads:
//! the QR code `PAGOPA|002|<numero avviso>|<CF ente>|<importo in cents>` (version 4, ECC M)
//! and, when the money goes to a postal account, Poste's Data Matrix for the bollettino
//! PA (tipo documento 896). Pure: data in, bytes out.

pub mod pdf;

use crate::model::{Importo, NumeroAvviso};
use pdf::{Carattere, Pagina};
use time::Date;

/// What one notice prints.
#[derive(Debug, Clone)]
pub struct DatiAvviso {
    pub ente: String,
    pub cf_ente: String,
    /// The ente's CBILL code, when it has one.
    pub cbill: Option<String>,
    pub pagatore: String,
    pub cf_pagatore: String,
    pub causale: String,
    pub numero_avviso: NumeroAvviso,
    pub importo: Importo,
    pub data_scadenza: Option<Date>,
    /// The postal current account (12 digits) the amount goes to, when it is one.
    pub conto_postale: Option<String>,
}

impl DatiAvviso {
    /// A dovuto's notice; `iban`: where its money goes (a postal account adds the
    /// bollettino). `None` for a dovuto without a numero avviso.
    pub fn di(
        ente: &crate::registry::Ente,
        d: &crate::registry::Dovuto,
        iban: Option<&crate::model::Iban>,
    ) -> Option<DatiAvviso> {
        Some(DatiAvviso {
            ente: ente.denominazione.clone(),
            cf_ente: ente.id_dominio.to_string(),
            cbill: None,
            pagatore: d.pagatore.anagrafica.clone(),
            cf_pagatore: d.pagatore.codice_fiscale.to_string(),
            causale: d.causale.clone(),
            numero_avviso: d.numero_avviso.clone()?,
            importo: d.importo,
            data_scadenza: d.data_scadenza,
            conto_postale: iban.and_then(|i| i.conto_postale()).map(str::to_owned),
        })
    }

    /// The QR code's content (pagoPA, "Avviso di pagamento" guidelines).
    pub fn qr(&self) -> String {
        format!(
            "PAGOPA|002|{}|{}|{}",
            self.numero_avviso,
            self.cf_ente,
            self.importo.cents()
        )
    }

    /// Poste's Data Matrix content for the bollettino PA: 256 characters of fixed fields.
    pub fn datamatrix(&self) -> Option<String> {
        let conto = self.conto_postale.as_deref()?;
        // Ten digits of cents: a bollettino cannot carry 100 million euro or more.
        if self.importo.cents() > 9_999_999_999 {
            return None;
        }
        let campo = |s: &str, n: usize| -> String {
            let mut v: String = s
                .chars()
                .map(|c| {
                    if c.is_ascii() && !c.is_ascii_control() {
                        c.to_ascii_uppercase()
                    } else {
                        ' '
                    }
                })
                .take(n)
                .collect();
            while v.len() < n {
                v.push(' ');
            }
            v
        };
        Some(format!(
            "codfase=NBPA;18{}12{conto:0>12}10{:010}3896{}{}{}{}{}A",
            self.numero_avviso,
            self.importo.cents(),
            campo(&format!("1P1{}", self.cf_ente), 14),
            campo(&self.cf_pagatore, 16),
            campo(&self.pagatore, 40),
            campo(&self.causale, 110),
            campo("", 12),
        ))
    }
}

/// The numero avviso as printed: groups of four digits.
pub fn a_gruppi(n: &NumeroAvviso) -> String {
    let s = n.to_string();
    s.as_bytes()
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

fn data(d: Date) -> String {
    format!("{:02}/{:02}/{}", d.day(), u8::from(d.month()), d.year())
}

/// One PDF with a page per notice.
pub fn pdf(avvisi: &[DatiAvviso]) -> Vec<u8> {
    let pagine: Vec<Pagina> = avvisi.iter().map(pagina).collect();
    let titolo = match avvisi {
        [uno] => format!("Avviso di pagamento {}", uno.numero_avviso),
        _ => format!("{} avvisi di pagamento", avvisi.len()),
    };
    pdf::documento(&pagine, &titolo)
}

fn pagina(a: &DatiAvviso) -> Pagina {
    use Carattere::{Grassetto as B, Normale as N};
    let mut p = Pagina::default();
    let (m, w) = (40.0, pdf::LARGHEZZA - 80.0);
    // Heading: what it is, for what, from whom.
    p.testo(m, 60.0, 18.0, B, "AVVISO DI PAGAMENTO");
    p.paragrafo(m, 82.0, w * 0.6, 11.0, &a.causale);
    p.testo(m + w * 0.62, 60.0, 11.0, B, &a.ente);
    p.testo(
        m + w * 0.62,
        76.0,
        9.0,
        N,
        &format!("Codice fiscale {}", a.cf_ente),
    );
    p.riga(m, 120.0, w);
    // Who asks and who pays.
    p.testo(m, 140.0, 8.0, B, "ENTE CREDITORE");
    p.testo(m, 156.0, 11.0, B, &a.ente);
    p.testo(m, 171.0, 9.0, N, &format!("Cod. Fiscale {}", a.cf_ente));
    p.testo(m + w / 2.0, 140.0, 8.0, B, "DESTINATARIO AVVISO");
    p.testo(m + w / 2.0, 156.0, 11.0, B, &a.pagatore);
    p.testo(
        m + w / 2.0,
        171.0,
        9.0,
        N,
        &format!("Cod. Fiscale {}", a.cf_pagatore),
    );
    // How much and by when.
    p.rettangolo(m, 190.0, w, 96.0, 0.93);
    p.testo(m + 10.0, 210.0, 8.0, B, "QUANTO E QUANDO PAGARE?");
    p.testo(
        m + 10.0,
        236.0,
        20.0,
        B,
        &format!("{} Euro", a.importo.italiano()),
    );
    if let Some(d) = a.data_scadenza {
        p.testo(
            m + w / 2.0,
            236.0,
            14.0,
            B,
            &format!("entro il {}", data(d)),
        );
    }
    p.paragrafo(
        m + 10.0,
        256.0,
        w - 20.0,
        8.0,
        "Puoi pagare con una unica rata. L'importo è aggiornato automaticamente dal sistema e potrebbe subire variazioni per eventuali sgravi, note di credito, indennità di mora, sanzioni o interessi, ecc. Un operatore, il sito o l'app che userai ti potrebbero quindi chiedere una cifra diversa da quella qui indicata.",
    );
    // Where to pay.
    p.testo(
        m,
        300.0,
        8.0,
        B,
        "DOVE PAGARE? Lista dei canali di pagamento su www.pagopa.gov.it",
    );
    let y = p.paragrafo(
        m,
        318.0,
        w / 2.0 - 10.0,
        9.0,
        "PAGA SUL SITO O CON LE APP del tuo Ente Creditore, della tua Banca o degli altri canali di pagamento. Potrai pagare con carte, conto corrente, CBILL.",
    );
    p.paragrafo(
        m + w / 2.0,
        318.0,
        w / 2.0,
        9.0,
        "PAGA SUL TERRITORIO in tutti gli Uffici Postali, in Banca, in Ricevitoria, dal Tabaccaio, al Bancomat, al Supermercato. Potrai pagare in contanti, con carte o conto corrente.",
    );
    let _ = y;
    // The part the payer hands over or scans: the codes and what identifies the notice.
    let top = 400.0;
    p.riga(m, top - 10.0, w);
    p.testo(m, top + 8.0, 10.0, B, "BANCHE E ALTRI CANALI");
    p.testo(m + w / 2.0, top + 8.0, 9.0, N, "RATA UNICA");
    if let Some(d) = a.data_scadenza {
        p.testo(
            m + w * 0.75,
            top + 8.0,
            9.0,
            N,
            &format!("entro il {}", data(d)),
        );
    }
    let qr_size = 110.0;
    if let Ok(code) = qrcode::QrCode::with_version(
        a.qr().as_bytes(),
        qrcode::Version::Normal(4),
        qrcode::EcLevel::M,
    ) {
        let n = code.width();
        let colors = code.to_colors();
        let modulo = qr_size / (n + 8) as f32;
        p.codice(
            m + 4.0 * modulo,
            top + 20.0 + 4.0 * modulo,
            modulo,
            (n, n),
            |c, r| colors[r * n + c] == qrcode::Color::Dark,
        );
    }
    let x = m + qr_size + 20.0;
    let righe: [(&str, String); 5] = [
        ("Destinatario", a.pagatore.clone()),
        ("Ente Creditore", a.ente.clone()),
        ("Oggetto del pagamento", a.causale.clone()),
        ("Codice Avviso", a_gruppi(&a.numero_avviso)),
        ("Cod. Fiscale Ente Creditore", a.cf_ente.clone()),
    ];
    let mut y = top + 34.0;
    for (etichetta, valore) in &righe {
        p.testo(x, y, 8.0, N, etichetta);
        p.testo(x + 130.0, y, 9.0, B, valore);
        y += 15.0;
    }
    if let Some(cbill) = &a.cbill {
        p.testo(x, y, 8.0, N, "Codice CBILL");
        p.testo(x + 130.0, y, 9.0, B, cbill);
        y += 15.0;
    }
    p.testo(x, y + 6.0, 8.0, N, "Euro");
    p.testo(x + 130.0, y + 6.0, 14.0, B, &a.importo.italiano());
    p.paragrafo(
        m,
        top + 150.0,
        w,
        8.0,
        "Qui accanto trovi il codice QR e il codice interbancario CBILL per pagare attraverso il circuito bancario e gli altri canali di pagamento abilitati.",
    );
    // Poste's bollettino, for a postal account.
    if let (Some(dm), Some(conto)) = (a.datamatrix(), a.conto_postale.as_deref()) {
        let top = 600.0;
        p.riga(m, top - 10.0, w);
        p.testo(m, top + 8.0, 10.0, B, "BOLLETTINO POSTALE PA");
        p.paragrafo(
            m + w / 2.0,
            top + 2.0,
            w / 2.0,
            8.0,
            "Bollettino Postale pagabile in tutti gli Uffici Postali e sui canali fisici o digitali abilitati di Poste Italiane e dell'Ente Creditore",
        );
        if let Ok(code) = datamatrix::DataMatrix::encode(
            dm.as_bytes(),
            datamatrix::SymbolList::default().enforce_square(),
        ) {
            let bitmap = code.bitmap();
            let (cols, rows) = (bitmap.width(), bitmap.height());
            let dark: std::collections::HashSet<(usize, usize)> = bitmap.pixels().collect();
            let modulo = 110.0 / (cols + 4) as f32;
            p.codice(
                m + 2.0 * modulo,
                top + 20.0 + 2.0 * modulo,
                modulo,
                (cols, rows),
                |c, r| dark.contains(&(c, r)),
            );
        }
        let righe: [(&str, String); 5] = [
            ("sul C/C n.", conto.to_owned()),
            ("Intestato a", a.ente.clone()),
            ("Destinatario", a.pagatore.clone()),
            ("Oggetto del pagamento", a.causale.clone()),
            ("Codice Avviso", a_gruppi(&a.numero_avviso)),
        ];
        let mut y = top + 34.0;
        for (etichetta, valore) in &righe {
            p.testo(x, y, 8.0, N, etichetta);
            p.testo(x + 130.0, y, 9.0, B, valore);
            y += 15.0;
        }
        p.testo(x, y, 8.0, N, "Tipo");
        p.testo(x + 130.0, y, 9.0, B, "P1");
        p.testo(x + 200.0, y, 8.0, N, "Euro");
        p.testo(x + 240.0, y, 12.0, B, &a.importo.italiano());
    }
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    fn avviso(postale: bool) -> DatiAvviso {
        DatiAvviso {
            ente: "Comune di Esempio".into(),
            cf_ente: "80007580279".into(),
            cbill: None,
            pagatore: "Mario Rossi".into(),
            cf_pagatore: "RSSMRA85T10A562S".into(),
            causale: "TARI 2026 – rata unica".into(),
            numero_avviso: NumeroAvviso::parse("301000000000000144").unwrap(),
            importo: Importo::from_cents(6420).unwrap(),
            data_scadenza: Some(time::macros::date!(2026 - 12 - 31)),
            conto_postale: postale.then(|| "000012345678".to_owned()),
        }
    }

    #[test]
    fn the_qr_payload_is_pagopas() {
        assert_eq!(
            avviso(false).qr(),
            "PAGOPA|002|301000000000000144|80007580279|6420"
        );
        assert_eq!(
            a_gruppi(&avviso(false).numero_avviso),
            "3010 0000 0000 0001 44"
        );
    }

    #[test]
    fn the_poste_data_matrix_has_its_256_characters_only_for_a_postal_account() {
        assert_eq!(avviso(false).datamatrix(), None);
        let dm = avviso(true).datamatrix().unwrap();
        assert_eq!(dm.len(), 256, "{dm}");
        assert!(
            dm.starts_with("codfase=NBPA;18301000000000000144120000123456781000000064203896"),
            "{dm}"
        );
        assert!(dm.ends_with('A'));
    }

    #[test]
    fn a_pdf_has_a_page_per_notice() {
        let bytes = pdf(&[avviso(false), avviso(true)]);
        assert!(bytes.starts_with(b"%PDF-1.4"));
        let s = String::from_utf8_lossy(&bytes);
        assert!(s.contains("/Count 2"));
        assert!(s.contains("(AVVISO DI PAGAMENTO)"));
        assert!(s.contains("(BOLLETTINO POSTALE PA)"));
    }
}
