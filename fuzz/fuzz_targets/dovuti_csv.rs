#![no_main]
use libfuzzer_sys::fuzz_target;
use pagopa_gateway::model::Bilancio;
use pagopa_gateway::registry::import_csv;

fuzz_target!(|data: &[u8]| {
    let text = import_csv::decode(data);
    let _ = import_csv::parse(&text, None);
    let _ = Bilancio::parse_xml(&text);
});
