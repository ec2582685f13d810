//! The ente's treasury journal (giornale di cassa) as the treasurer bank would send it,
//! for the money the simulated PSPs transferred: the CSV with PU's fixed headers and the
//! OPI 1.6.1 XML (SIOPE+). Each reporting flow's transfer is one incoming movement whose
//! causale is the SCT remittance `/PUR/LGPE-RIVERSAMENTO/URI/<IUF>`.

use crate::model::Importo;
use crate::xml::Writer;

/// One incoming movement (a "sospeso di entrata").
#[derive(Debug, Clone)]
pub struct Movimento {
    pub numero: u64,
    pub data: time::Date,
    pub importo: Importo,
    pub ordinante: String,
    pub causale: String,
}

/// The treasury's copy of an ente, as its header needs it.
#[derive(Debug, Clone)]
pub struct EnteTesoreria {
    pub codice_fiscale: String,
    /// The 6-character code the OPI header wants (`[A-Z0-9]{6}`).
    pub codice_ente: String,
    pub descrizione: String,
}

fn csv_field(s: &str) -> String {
    format!("\"{}\"", s.replace('"', "\"\""))
}

/// Giornale di cassa CSV (PU "CSV v1.0" headers; `;`, quoted, ISO dates, `.` decimals).
pub fn csv(movimenti: &[Movimento]) -> String {
    let mut out = String::from(
        "ESERCIZIO;N.PROVV.;DATA ESEC.;ANAGRAFICA CLIENTE;DESCRIZIONE CAUSALE;IMPORTO PROVVISORIO;VALUTA ENTE\n",
    );
    for m in movimenti {
        out.push_str(&format!(
            "{};{};{};{};{};{};{}\n",
            m.data.year(),
            m.numero,
            m.data,
            csv_field(&m.ordinante.chars().take(30).collect::<String>()),
            csv_field(&m.causale),
            m.importo,
            m.data
        ));
    }
    out
}

/// OPI "flusso giornale di cassa" 1.6.1, one page. The `ds:Signature` is a well-formed
/// placeholder (a digest of the movements, no key): the simulator is not a bank.
pub fn opi_xml(ente: &EnteTesoreria, giorno: time::Date, movimenti: &[Movimento]) -> String {
    let d = giorno.to_string();
    let compact = d.replace('-', "");
    let mut w = Writer::with_declaration();
    w.open("flusso_giornale_di_cassa");
    w.open("testata_messaggio")
        .leaf("codice_ABI_BT", "03069")
        .leaf("data_ora_creazione_flusso", &format!("{d}T07:30:00"))
        .leaf("codice_ente", &ente.codice_ente)
        .leaf("descrizione_ente", &ente.descrizione)
        .leaf("codice_istat_ente", "000000000")
        .leaf("codice_fiscale_ente", &ente.codice_fiscale)
        .leaf("codice_tramite_ente", "A2A-00000001")
        .leaf("codice_tramite_BT", "A2A-00000002")
        .leaf("codice_ente_BT", &ente.codice_fiscale)
        .close("testata_messaggio");
    w.leaf(
        "identificativo_flusso_BT",
        &format!("GDC-{compact}{}#001#001", ente.codice_fiscale),
    )
    .leaf("pagina", "1")
    .leaf("pagine_totali", "1")
    .leaf("esercizio", &giorno.year().to_string())
    .leaf("data_riferimento_GdC", &d);
    w.open("informazioni_conto_evidenza")
        .leaf("conto_evidenza", "0000001")
        .leaf("descrizione_conto_evidenza", "Conto di tesoreria");
    for m in movimenti {
        let md = m.data.to_string();
        w.open("movimento_conto_evidenza")
            .leaf(
                "identificativo_flusso",
                &format!("GDC-{compact}-{}", m.numero),
            )
            .leaf("numero_movimento", &m.numero.to_string())
            .leaf("tipo_movimento", "ENTRATA")
            .leaf("tipo_documento", "SOSPESO ENTRATA")
            .leaf("tipo_operazione", "ESEGUITO")
            .leaf("numero_documento", &m.numero.to_string())
            .leaf("progressivo_documento", "1")
            .leaf("importo", &m.importo.to_string())
            .leaf("numero_bolletta_quietanza", &m.numero.to_string())
            .leaf("data_movimento", &md)
            .leaf("data_movimento_siope", &md)
            .leaf("data_valuta_ente", &md)
            .leaf("tipo_esecuzione", "ACCREDITO BANCA D'ITALIA")
            .leaf("assoggettamento_bollo", "ESENTE BOLLO");
        w.open("cliente")
            .leaf("anagrafica_cliente", &m.ordinante)
            .close("cliente");
        w.leaf("causale", &m.causale)
            .close("movimento_conto_evidenza");
    }
    w.close("informazioni_conto_evidenza");
    let digest = crate::xml::encode_base64(&crate::digest::sha256(csv(movimenti).as_bytes()));
    w.open_with(
        "ds:Signature",
        &[("xmlns:ds", "http://www.w3.org/2000/09/xmldsig#")],
    );
    w.open("ds:SignedInfo");
    w.open_with(
        "ds:CanonicalizationMethod",
        &[("Algorithm", "http://www.w3.org/2001/10/xml-exc-c14n#")],
    )
    .close("ds:CanonicalizationMethod");
    w.open_with(
        "ds:SignatureMethod",
        &[(
            "Algorithm",
            "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256",
        )],
    )
    .close("ds:SignatureMethod");
    w.open_with("ds:Reference", &[("URI", "")]);
    w.open_with(
        "ds:DigestMethod",
        &[("Algorithm", "http://www.w3.org/2001/04/xmlenc#sha256")],
    )
    .close("ds:DigestMethod");
    w.leaf("ds:DigestValue", &digest).close("ds:Reference");
    w.close("ds:SignedInfo")
        .leaf("ds:SignatureValue", &digest)
        .close("ds:Signature");
    w.close("flusso_giornale_di_cassa");
    w.finish()
}
