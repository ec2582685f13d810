//! The pages' templates (`web/templates/`, checked at compile time by askama) and what
//! each one shows, already in words and formats a citizen reads (`1.234,56`, `31/12/2026`).

use askama::Template;

#[derive(Template)]
#[template(path = "home.html")]
pub struct Home {
    /// (id_dominio, denominazione) of every active ente.
    pub enti: Vec<(String, String)>,
    pub scelta: String,
    pub numero: String,
    pub cf: String,
    pub errore: Option<String>,
}

pub struct VistaAvviso {
    pub id_dominio: String,
    pub ente: String,
    pub iuv: String,
    pub numero: String,
    pub causale: String,
    pub pagatore: String,
    pub cf: String,
    pub scadenza: String,
    pub importo: String,
    pub importo_originale: String,
    /// What was added after the due date: (description, amount).
    pub componenti: Vec<(String, String)>,
    pub stato: &'static str,
    pub pagabile: bool,
    pub pagato: bool,
    pub pdf: String,
    pub ricevuta: String,
}

#[derive(Template)]
#[template(path = "avviso.html")]
pub struct Avviso {
    pub a: VistaAvviso,
}

#[derive(Template)]
#[template(path = "enti.html")]
pub struct Enti {
    pub q: String,
    pub enti: Vec<(String, String)>,
}

pub struct TipoSpontaneo {
    pub codice: String,
    pub descrizione: String,
    pub importo_fisso: Option<String>,
}

#[derive(Template)]
#[template(path = "ente.html")]
pub struct Ente {
    pub id_dominio: String,
    pub ente: String,
    pub email: Option<String>,
    pub sito: Option<String>,
    pub telefono: Option<String>,
    pub tipi: Vec<TipoSpontaneo>,
    pub errore: Option<String>,
}

pub struct VoceCarrello {
    pub ente: String,
    pub causale: String,
    pub importo: String,
    pub stato: &'static str,
}

#[derive(Template)]
#[template(path = "carrello.html")]
pub struct Carrello {
    pub voci: Vec<VoceCarrello>,
    pub totale: String,
    pub massimo: usize,
    pub errore: Option<String>,
    /// Every item can be paid now: only then the cart can be sent.
    pub pagabile: bool,
}

#[derive(Template)]
#[template(path = "esito.html")]
pub struct Esito {
    pub esito: &'static str,
    pub classe: &'static str,
    pub titolo: &'static str,
    pub spiegazione: &'static str,
    pub in_corso: bool,
    /// (label, link) of each receipt.
    pub ricevute: Vec<(String, String)>,
    /// Not this browser's payment: its receipts are in the e-mail and the personal area.
    pub altrove: bool,
}

pub struct VistaRicevuta {
    pub id_dominio: String,
    pub ente: String,
    pub iuv: String,
    pub pagatore: String,
    pub cf: String,
    pub psp: String,
    pub importo: String,
    pub data: String,
    pub esito: String,
    pub positiva: bool,
    /// (causale, IUR, importo) of each single payment.
    pub singoli: Vec<(String, String, String)>,
    pub pdf: String,
}

#[derive(Template)]
#[template(path = "ricevuta.html")]
pub struct Ricevuta {
    pub r: VistaRicevuta,
}

pub struct RigaArea {
    pub ente: String,
    pub causale: String,
    pub scadenza: String,
    pub importo: String,
    pub link: String,
}

#[derive(Template)]
#[template(path = "area.html")]
pub struct Area {
    pub cf: Option<String>,
    pub da_pagare: Vec<RigaArea>,
    pub pagati: Vec<RigaArea>,
}

#[derive(Template)]
#[template(path = "testo.html")]
pub struct Testo {
    pub titolo: &'static str,
    pub sezioni: &'static [(&'static str, &'static str)],
}

#[derive(Template)]
#[template(path = "errore.html")]
pub struct Errore {
    pub titolo: &'static str,
    pub messaggio: String,
}

pub const INFO: &[(&str, &str)] = &[
    (
        "Come pago un avviso?",
        "Scegli l'ente che ha emesso l'avviso, inserisci il codice avviso di 18 cifre (o lo IUV) e il codice fiscale o la partita IVA dell'intestatario, come sono stampati sull'avviso. Controlla l'importo, inserisci un indirizzo e-mail per ricevere la ricevuta e premi «Paga con pagoPA»: sceglierai lì come pagare (carta, conto, app) e il prestatore di servizi di pagamento.",
    ),
    (
        "Perché l'importo è diverso da quello stampato?",
        "Dopo la scadenza alcuni enti accettano il pagamento aggiungendo una maggiorazione fissa e gli interessi maturati giorno per giorno: la pagina dell'avviso mostra l'importo di oggi e il dettaglio di ogni voce aggiunta. Se l'ente non accetta pagamenti dopo la scadenza, l'avviso risulta scaduto: contatta l'ente.",
    ),
    (
        "Posso pagare più avvisi insieme?",
        "Sì: aggiungi al carrello fino a cinque pagamenti, anche di enti diversi, e pagali con un'unica operazione.",
    ),
    (
        "Come pago un servizio senza avviso?",
        "Dalla pagina dell'ente, alla voce «Altre tipologie di pagamento», scegli il servizio, compila i dati del pagatore e aggiungilo al carrello.",
    ),
    (
        "Dove trovo la ricevuta?",
        "Al termine del pagamento la pagina di esito mostra la ricevuta, che puoi scaricare in PDF; una copia arriva all'indirizzo e-mail indicato. Con l'accesso all'area personale trovi tutte le tue ricevute.",
    ),
    (
        "Perché non posso usare una PEC?",
        "La ricevuta è inviata con posta elettronica ordinaria, che una casella PEC potrebbe rifiutare: indica un indirizzo e-mail ordinario.",
    ),
    (
        "A chi mi rivolgo se ho un problema?",
        "Per l'importo o i dati dell'avviso rivolgiti all'ente creditore: i suoi contatti sono nella sua pagina. Per un pagamento addebitato ma non registrato conserva la ricevuta del prestatore di servizi di pagamento e contatta l'ente.",
    ),
];

pub const PRIVACY: &[(&str, &str)] = &[
    (
        "Titolare del trattamento",
        "Titolare del trattamento dei dati dei pagamenti è l'ente creditore a cui è destinato il pagamento; l'intermediario tecnologico che gestisce questo portale tratta i dati per suo conto come responsabile (art. 28 del Regolamento UE 2016/679).",
    ),
    (
        "Quali dati trattiamo e perché",
        "Codice fiscale, nome e indirizzo e-mail del pagatore, dati dell'avviso e del pagamento: sono necessari per eseguire il pagamento tramite pagoPA, inviare la ricevuta e consentire all'ente la riconciliazione contabile.",
    ),
    (
        "Per quanto tempo",
        "Le ricevute e i flussi di rendicontazione sono documenti contabili dell'ente e sono conservati per almeno dieci anni; gli altri dati per il tempo necessario al servizio.",
    ),
    (
        "I tuoi diritti",
        "Puoi chiedere all'ente creditore l'accesso ai tuoi dati, la rettifica e, nei limiti di legge, la cancellazione o la limitazione del trattamento, e proporre reclamo al Garante per la protezione dei dati personali.",
    ),
];

pub const COOKIE: &[(&str, &str)] = &[
    (
        "Cookie tecnici",
        "Il portale usa un solo cookie tecnico, «carrello», che conserva per un giorno i pagamenti che hai aggiunto al carrello. È necessario al servizio e non richiede consenso.",
    ),
    (
        "Nessuna profilazione",
        "Il portale non usa cookie di profilazione né di terze parti e non traccia la navigazione.",
    ),
];
