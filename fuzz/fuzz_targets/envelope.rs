//! The SOAP envelope reader and every message parser the endpoints dispatch to.
#![no_main]
use libfuzzer_sys::fuzz_target;
use pagopa_gateway::soap::{new_model, read_envelope, sanp2};
use pagopa_gateway::xml::Limits;

fuzz_target!(|data: &[u8]| {
    let Ok(env) = read_envelope(data, Limits::MESSAGE) else { return };
    for h in &env.headers {
        let _ = sanp2::IntestazionePPT::parse(h.xml);
        let _ = sanp2::IntestazioneCarrelloPPT::parse(h.xml);
    }
    let x = env.body.xml;
    let _ = sanp2::PaaVerificaRPT::parse(x);
    let _ = sanp2::PaaAttivaRPT::parse(x);
    let _ = sanp2::PaaInviaRT::parse(x);
    let _ = sanp2::EsitoPaa::parse_verifica(x);
    let _ = sanp2::EsitoPaaInviaRT::parse(x);
    let _ = sanp2::NodoInviaRPT::parse(x);
    let _ = sanp2::NodoInviaCarrelloRPT::parse(x);
    let _ = sanp2::NodoInviaCarrelloRPTRisposta::parse(x);
    let _ = sanp2::NodoChiediStatoRPTRisposta::parse(x);
    let _ = sanp2::NodoChiediCopiaRTRisposta::parse(x);
    let _ = sanp2::NodoChiediElencoFlussiRendicontazioneRisposta::parse(x);
    let _ = sanp2::NodoChiediFlussoRendicontazioneRisposta::parse(x);
    let _ = sanp2::NodoChiediListaPendentiRPTRisposta::parse(x);
    let _ = new_model::PaVerifyPaymentNoticeReq::parse(x);
    let _ = new_model::PaGetPaymentReq::parse(x);
    let _ = new_model::PaSendRTReq::parse(x);
});
