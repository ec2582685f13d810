#![no_main]
use libfuzzer_sys::fuzz_target;
use pagopa_gateway::model::flusso::FlussoRiversamento;

fuzz_target!(|data: &[u8]| {
    if let Ok(f) = FlussoRiversamento::parse(data) {
        let again = FlussoRiversamento::parse(f.to_xml().as_bytes()).expect("own output parses");
        assert_eq!(again, f);
    }
});
