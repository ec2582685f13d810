//! Outgoing email: the RT copy to the payer, in CC to the address the citizen logged in
//! with (Portale Pagamenti 5.6). SMTP through lettre (plain for a local relay, STARTTLS or
//! implicit TLS, optional auth) or, by default, `.eml` files under `<data_dir>/mail` for
//! development and the demo. Sending runs from the outbox, which retries and keeps dead
//! letters, so a failure here is returned, never swallowed.

use crate::config::Config;
use crate::model::rpt::Rt;
use lettre::message::header::ContentType;
use lettre::message::{Attachment, Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncFileTransport, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use std::path::PathBuf;

pub use crate::metrics::EMAILS as SENT;

#[derive(Clone)]
enum Transport {
    File(AsyncFileTransport<Tokio1Executor>),
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
}

#[derive(Clone)]
pub struct Mailer {
    transport: Transport,
    from: Mailbox,
    /// Where file-transport messages land (for logs and the demo summary).
    pub dir: Option<PathBuf>,
}

impl Mailer {
    pub fn from_config(c: &Config) -> anyhow::Result<Mailer> {
        let from: Mailbox = c.mail.from.parse()?;
        if c.mail.transport == "file" {
            let dir = c.data_dir.join("mail");
            std::fs::create_dir_all(&dir)?;
            return Ok(Mailer {
                transport: Transport::File(AsyncFileTransport::new(&dir)),
                from,
                dir: Some(dir),
            });
        }
        let m = &c.mail;
        let mut b = match m.smtp_tls.as_str() {
            "tls" => AsyncSmtpTransport::<Tokio1Executor>::relay(&m.smtp_host)?,
            "starttls" => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&m.smtp_host)?,
            _ => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&m.smtp_host),
        }
        .port(m.smtp_port)
        .timeout(Some(std::time::Duration::from_secs(30)));
        if let (Some(u), Some(p)) = (&m.smtp_user, &m.smtp_password) {
            b = b.credentials(Credentials::new(u.clone(), p.clone()));
        }
        Ok(Mailer {
            transport: Transport::Smtp(b.build()),
            from,
            dir: None,
        })
    }

    pub async fn send(&self, msg: Message) -> Result<(), String> {
        let r = match &self.transport {
            Transport::File(t) => t.send(msg).await.map(|_| ()).map_err(|e| e.to_string()),
            Transport::Smtp(t) => t.send(msg).await.map(|_| ()).map_err(|e| e.to_string()),
        };
        metrics::counter!(SENT, "outcome" => if r.is_ok() { "sent" } else { "failed" })
            .increment(1);
        r
    }

    /// The receipt email: to the payer, CC the login address (when different), with the RT
    /// exactly as received and a human-readable receipt. `None` when nobody can receive it.
    pub fn rt_message(
        &self,
        rt: &Rt,
        raw: &[u8],
        to: Option<&str>,
        cc: Option<&str>,
    ) -> Result<Option<Message>, String> {
        let parse = |a: &str| a.trim().parse::<Mailbox>().ok();
        let to = to.and_then(parse);
        let cc = cc
            .and_then(parse)
            .filter(|c| Some(&c.email) != to.as_ref().map(|t| &t.email));
        let (to, cc) = match (to, cc) {
            (Some(t), c) => (t, c),
            (None, Some(c)) => (c, None),
            (None, None) => return Ok(None),
        };
        let d = &rt.dati_pagamento;
        let mut b = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(format!(
                "Ricevuta di pagamento pagoPA - {} - IUV {}",
                rt.ente_beneficiario.denominazione, d.iuv
            ));
        if let Some(cc) = cc {
            b = b.cc(cc);
        }
        let text = format!(
            "Gentile {},\n\nin allegato la ricevuta telematica del pagamento di {} EUR a favore di {} (IUV {}).\n\nQuesto messaggio è generato automaticamente.\n",
            rt.soggetto_pagatore.anagrafica,
            d.importo_totale_pagato,
            rt.ente_beneficiario.denominazione,
            d.iuv
        );
        let file = format!("RT_{}_{}", rt.dominio.identificativo_dominio, d.iuv);
        let msg = b
            .multipart(
                MultiPart::mixed()
                    .singlepart(SinglePart::plain(text))
                    .singlepart(Attachment::new(format!("{file}.xml")).body(
                        raw.to_vec(),
                        ContentType::parse("application/xml").map_err(|e| e.to_string())?,
                    ))
                    .singlepart(
                        Attachment::new(format!("{file}.html"))
                            .body(ricevuta_html(rt), ContentType::TEXT_HTML),
                    ),
            )
            .map_err(|e| e.to_string())?;
        Ok(Some(msg))
    }
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn esito_testo(codice: u8) -> &'static str {
    match codice {
        0 => "Pagamento eseguito",
        2 => "Pagamento parzialmente eseguito",
        _ => "Pagamento non eseguito",
    }
}

/// The same receipt as plain text (for terminals, screen readers and archives).
pub fn ricevuta_txt(rt: &Rt) -> String {
    let d = &rt.dati_pagamento;
    let esito = esito_testo(d.codice_esito);
    let mut out = format!(
        "RICEVUTA DI PAGAMENTO pagoPA\n{esito}\n\nEnte creditore:   {} ({})\nIUV:              {}\nCodice contesto:  {}\nPagatore:         {} ({})\nPrestatore (PSP): {}\nImporto pagato:   {} EUR\nData ricevuta:    {}\n\nDettaglio\n",
        rt.ente_beneficiario.denominazione,
        rt.dominio.identificativo_dominio,
        d.iuv,
        d.ccp,
        rt.soggetto_pagatore.anagrafica,
        rt.soggetto_pagatore.identificativo.codice,
        rt.istituto_attestante.denominazione,
        d.importo_totale_pagato,
        rt.data_ora_messaggio_ricevuta.as_ref() as &str,
    );
    for s in &d.dati_singolo_pagamento {
        out.push_str(&format!(
            "- {} | IUR {} | {} | {} EUR\n",
            s.causale, s.iur, s.data_esito, s.importo
        ));
    }
    out
}

/// A self-contained HTML receipt (no external resources).
pub fn ricevuta_html(rt: &Rt) -> String {
    let d = &rt.dati_pagamento;
    let esito = esito_testo(d.codice_esito);
    let mut righe = String::new();
    for s in &d.dati_singolo_pagamento {
        righe.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td style=\"text-align:right\">{} EUR</td></tr>",
            esc(&s.causale),
            esc(&s.iur),
            s.data_esito,
            s.importo
        ));
    }
    format!(
        "<!DOCTYPE html><html lang=\"it\"><head><meta charset=\"utf-8\"><title>Ricevuta {iuv}</title></head><body>\
<h1>Ricevuta di pagamento pagoPA</h1><p><strong>{esito}</strong></p>\
<table><tr><th>Ente creditore</th><td>{ente} ({dom})</td></tr>\
<tr><th>IUV</th><td>{iuv}</td></tr><tr><th>Codice contesto</th><td>{ccp}</td></tr>\
<tr><th>Pagatore</th><td>{pag} ({cf})</td></tr>\
<tr><th>Prestatore (PSP)</th><td>{psp}</td></tr>\
<tr><th>Importo pagato</th><td>{tot} EUR</td></tr>\
<tr><th>Data ricevuta</th><td>{data}</td></tr></table>\
<h2>Dettaglio</h2><table><tr><th>Causale</th><th>IUR</th><th>Data</th><th>Importo</th></tr>{righe}</table>\
</body></html>",
        iuv = esc(d.iuv.as_str()),
        ccp = esc(&d.ccp),
        ente = esc(&rt.ente_beneficiario.denominazione),
        dom = esc(rt.dominio.identificativo_dominio.as_str()),
        pag = esc(&rt.soggetto_pagatore.anagrafica),
        cf = esc(&rt.soggetto_pagatore.identificativo.codice),
        psp = esc(&rt.istituto_attestante.denominazione),
        tot = d.importo_totale_pagato,
        data = esc(rt.data_ora_messaggio_ricevuta.as_ref()),
    )
}
