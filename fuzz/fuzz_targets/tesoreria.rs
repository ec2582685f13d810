#![no_main]
use libfuzzer_sys::fuzz_target;
use pagopa_gateway::recon::{causale, giornale, opi};

// Treasury inputs come from operators' uploads: the causale rules, the giornale di cassa
// CSV and the OPI XML reader must answer (lines or rejects), never panic.
fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(Some(iuf)) = causale::iuf(text) {
            let _ = causale::psp_da_iuf(&iuf);
        }
        let _ = causale::iuv(text);
    }
    let _ = giornale::leggi_csv(data, &giornale::Colonne::default());
    let _ = opi::leggi(data);
});
