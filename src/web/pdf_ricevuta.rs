//! The receipt as the payer reads it: the page's view and its PDF.

use super::pagine::VistaRicevuta;
use crate::avviso::pdf::{self, Carattere, Pagina};
use crate::model::rpt::Rt;

fn esito(codice: u8) -> (&'static str, bool) {
    match codice {
        0 => ("Pagamento eseguito", true),
        2 => ("Pagamento eseguito in parte", true),
        _ => ("Pagamento non eseguito", false),
    }
}

pub fn vista(rt: &Rt, pdf: String) -> VistaRicevuta {
    let d = &rt.dati_pagamento;
    let (testo, positiva) = esito(d.codice_esito);
    VistaRicevuta {
        id_dominio: rt.dominio.identificativo_dominio.to_string(),
        ente: rt.ente_beneficiario.denominazione.clone(),
        iuv: d.iuv.to_string(),
        pagatore: rt.soggetto_pagatore.anagrafica.clone(),
        cf: rt.soggetto_pagatore.identificativo.codice.clone(),
        psp: rt.istituto_attestante.denominazione.clone(),
        importo: d.importo_totale_pagato.italiano(),
        data: rt.data_ora_messaggio_ricevuta.as_ref().to_owned(),
        esito: testo.to_owned(),
        positiva,
        singoli: d
            .dati_singolo_pagamento
            .iter()
            .map(|s| (s.causale.clone(), s.iur.clone(), s.importo.italiano()))
            .collect(),
        pdf,
    }
}

pub fn pdf(rt: &Rt) -> Vec<u8> {
    let v = vista(rt, String::new());
    let mut p = Pagina::default();
    let (m, w) = (50.0, pdf::LARGHEZZA - 100.0);
    p.testo(
        m,
        70.0,
        18.0,
        Carattere::Grassetto,
        "RICEVUTA DI PAGAMENTO pagoPA",
    );
    p.testo(m, 95.0, 12.0, Carattere::Grassetto, &v.esito);
    p.riga(m, 110.0, w);
    let righe = [
        ("Ente creditore", format!("{} ({})", v.ente, v.id_dominio)),
        ("IUV", v.iuv.clone()),
        ("Pagatore", format!("{} ({})", v.pagatore, v.cf)),
        ("Prestatore del servizio (PSP)", v.psp.clone()),
        ("Importo pagato", format!("{} Euro", v.importo)),
        ("Data", v.data.clone()),
    ];
    let mut y = 135.0;
    for (k, val) in &righe {
        p.testo(m, y, 9.0, Carattere::Normale, k);
        p.testo(m + 170.0, y, 10.0, Carattere::Grassetto, val);
        y += 18.0;
    }
    y += 10.0;
    p.testo(m, y, 11.0, Carattere::Grassetto, "Dettaglio dei pagamenti");
    y += 18.0;
    for (causale, iur, importo) in &v.singoli {
        p.testo(m, y, 9.0, Carattere::Normale, causale);
        p.testo(m + 270.0, y, 9.0, Carattere::Normale, &format!("IUR {iur}"));
        p.testo(
            m + 420.0,
            y,
            9.0,
            Carattere::Grassetto,
            &format!("{importo} Euro"),
        );
        y += 15.0;
    }
    pdf::documento(&[p], &format!("Ricevuta {}", v.iuv))
}
