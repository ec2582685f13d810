#![no_main]
use libfuzzer_sys::fuzz_target;
use pagopa_gateway::model::rpt::{Rpt, Rt};

fuzz_target!(|data: &[u8]| {
    // Whatever parses must write back out and parse again to the same value.
    if let Ok(rpt) = Rpt::parse(data) {
        assert_eq!(Rpt::parse(rpt.to_xml().as_bytes()).as_ref(), Ok(&rpt));
    }
    if let Ok(rt) = Rt::parse(data) {
        assert_eq!(Rt::parse(rt.to_xml().as_bytes()).as_ref(), Ok(&rt));
    }
});
