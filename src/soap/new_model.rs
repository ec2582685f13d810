//! New model 3 EC messages (paForNode.wsdl): paVerifyPaymentNotice, paGetPayment and paSendRT
//! (V1). Responses put `outcome` before `fault`, the opposite of SANP 2. Children are
//! unqualified; the payload element declares `pafn`.
//! Not yet covered: the V2 variants and the optional `metadata` maps (ignored on input).

use super::{FaultBean, NS_PAFN, SoapError, de};
use crate::model::Importo;
use crate::xml::Writer;
use serde::Deserialize;

fn pafn(name: &str) -> String {
    format!("pafn:{name}")
}

fn open<'a>(w: &'a mut Writer, name: &str) -> &'a mut Writer {
    w.open_with(&pafn(name), &[("xmlns:pafn", NS_PAFN)])
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum Outcome {
    OK,
    KO,
}

impl Outcome {
    fn as_str(self) -> &'static str {
        match self {
            Outcome::OK => "OK",
            Outcome::KO => "KO",
        }
    }
}

fn write_outcome_fault(w: &mut Writer, outcome: Outcome, fault: &Option<FaultBean>) {
    w.leaf("outcome", outcome.as_str());
    if let Some(f) = fault {
        f.write(w, "fault", &[]);
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct QrCode {
    #[serde(rename = "fiscalCode")]
    pub fiscal_code: String,
    #[serde(rename = "noticeNumber")]
    pub notice_number: String,
}

impl QrCode {
    fn write(&self, w: &mut Writer) {
        w.open("qrCode")
            .leaf("fiscalCode", &self.fiscal_code)
            .leaf("noticeNumber", &self.notice_number)
            .close("qrCode");
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct UniqueIdentifier {
    #[serde(rename = "entityUniqueIdentifierType")]
    pub tipo: String,
    #[serde(rename = "entityUniqueIdentifierValue")]
    pub value: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Subject {
    #[serde(rename = "uniqueIdentifier")]
    pub unique_identifier: UniqueIdentifier,
    #[serde(rename = "fullName")]
    pub full_name: String,
    #[serde(rename = "streetName", default)]
    pub street_name: Option<String>,
    #[serde(rename = "civicNumber", default)]
    pub civic_number: Option<String>,
    #[serde(rename = "postalCode", default)]
    pub postal_code: Option<String>,
    #[serde(default)]
    pub city: Option<String>,
    #[serde(rename = "stateProvinceRegion", default)]
    pub state_province_region: Option<String>,
    #[serde(default)]
    pub country: Option<String>,
    #[serde(rename = "e-mail", default)]
    pub email: Option<String>,
}

impl Subject {
    fn write(&self, w: &mut Writer, name: &str) {
        w.open(name)
            .open("uniqueIdentifier")
            .leaf("entityUniqueIdentifierType", &self.unique_identifier.tipo)
            .leaf("entityUniqueIdentifierValue", &self.unique_identifier.value)
            .close("uniqueIdentifier")
            .leaf("fullName", &self.full_name)
            .leaf_opt("streetName", self.street_name.as_deref())
            .leaf_opt("civicNumber", self.civic_number.as_deref())
            .leaf_opt("postalCode", self.postal_code.as_deref())
            .leaf_opt("city", self.city.as_deref())
            .leaf_opt("stateProvinceRegion", self.state_province_region.as_deref())
            .leaf_opt("country", self.country.as_deref())
            .leaf_opt("e-mail", self.email.as_deref())
            .close(name);
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Transfer {
    #[serde(rename = "idTransfer")]
    pub id_transfer: u8,
    #[serde(rename = "transferAmount")]
    pub amount: Importo,
    #[serde(rename = "fiscalCodePA")]
    pub fiscal_code_pa: String,
    #[serde(rename = "IBAN")]
    pub iban: String,
    #[serde(rename = "remittanceInformation")]
    pub remittance_information: String,
    #[serde(rename = "transferCategory")]
    pub transfer_category: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct TransferList {
    #[serde(rename = "transfer")]
    pub transfers: Vec<Transfer>,
}

impl TransferList {
    fn write(&self, w: &mut Writer) {
        w.open("transferList");
        for t in &self.transfers {
            w.open("transfer")
                .leaf("idTransfer", &t.id_transfer.to_string())
                .leaf("transferAmount", &t.amount.to_string())
                .leaf("fiscalCodePA", &t.fiscal_code_pa)
                .leaf("IBAN", &t.iban)
                .leaf("remittanceInformation", &t.remittance_information)
                .leaf("transferCategory", &t.transfer_category)
                .close("transfer");
        }
        w.close("transferList");
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct PaVerifyPaymentNoticeReq {
    #[serde(rename = "idPA")]
    pub id_pa: String,
    #[serde(rename = "idBrokerPA")]
    pub id_broker_pa: String,
    #[serde(rename = "idStation")]
    pub id_station: String,
    #[serde(rename = "qrCode")]
    pub qr_code: QrCode,
}

impl PaVerifyPaymentNoticeReq {
    pub fn parse(xml: &str) -> Result<Self, SoapError> {
        de("paVerifyPaymentNoticeReq", xml)
    }
    pub fn write(&self) -> String {
        let mut w = Writer::new();
        open(&mut w, "paVerifyPaymentNoticeReq")
            .leaf("idPA", &self.id_pa)
            .leaf("idBrokerPA", &self.id_broker_pa)
            .leaf("idStation", &self.id_station);
        self.qr_code.write(&mut w);
        w.close(&pafn("paVerifyPaymentNoticeReq"));
        w.finish()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct PaymentOptionDescription {
    pub amount: Importo,
    /// EQ | LS | GT | ANY
    pub options: String,
    #[serde(rename = "dueDate", default)]
    pub due_date: Option<String>,
    #[serde(rename = "detailDescription", default)]
    pub detail_description: Option<String>,
    #[serde(rename = "allCCP")]
    pub all_ccp: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct PaymentList {
    #[serde(rename = "paymentOptionDescription")]
    pub option: PaymentOptionDescription,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct PaVerifyPaymentNoticeRes {
    pub outcome: Outcome,
    #[serde(default)]
    pub fault: Option<FaultBean>,
    #[serde(rename = "paymentList", default)]
    pub payment_list: Option<PaymentList>,
    #[serde(rename = "paymentDescription", default)]
    pub payment_description: Option<String>,
    #[serde(rename = "fiscalCodePA", default)]
    pub fiscal_code_pa: Option<String>,
    #[serde(rename = "companyName", default)]
    pub company_name: Option<String>,
    #[serde(rename = "officeName", default)]
    pub office_name: Option<String>,
}

impl PaVerifyPaymentNoticeRes {
    pub fn parse(xml: &str) -> Result<Self, SoapError> {
        de("paVerifyPaymentNoticeRes", xml)
    }
    pub fn write(&self) -> String {
        let mut w = Writer::new();
        open(&mut w, "paVerifyPaymentNoticeRes");
        write_outcome_fault(&mut w, self.outcome, &self.fault);
        if let Some(p) = &self.payment_list {
            let o = &p.option;
            w.open("paymentList")
                .open("paymentOptionDescription")
                .leaf("amount", &o.amount.to_string())
                .leaf("options", &o.options)
                .leaf_opt("dueDate", o.due_date.as_deref())
                .leaf_opt("detailDescription", o.detail_description.as_deref())
                .leaf("allCCP", if o.all_ccp { "true" } else { "false" })
                .close("paymentOptionDescription")
                .close("paymentList");
        }
        w.leaf_opt("paymentDescription", self.payment_description.as_deref())
            .leaf_opt("fiscalCodePA", self.fiscal_code_pa.as_deref())
            .leaf_opt("companyName", self.company_name.as_deref())
            .leaf_opt("officeName", self.office_name.as_deref())
            .close(&pafn("paVerifyPaymentNoticeRes"));
        w.finish()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct PaGetPaymentReq {
    #[serde(rename = "idPA")]
    pub id_pa: String,
    #[serde(rename = "idBrokerPA")]
    pub id_broker_pa: String,
    #[serde(rename = "idStation")]
    pub id_station: String,
    #[serde(rename = "qrCode")]
    pub qr_code: QrCode,
    #[serde(default)]
    pub amount: Option<Importo>,
    #[serde(rename = "paymentNote", default)]
    pub payment_note: Option<String>,
    #[serde(rename = "transferType", default)]
    pub transfer_type: Option<String>,
    #[serde(rename = "dueDate", default)]
    pub due_date: Option<String>,
}

impl PaGetPaymentReq {
    pub fn parse(xml: &str) -> Result<Self, SoapError> {
        de("paGetPaymentReq", xml)
    }
    pub fn write(&self) -> String {
        let mut w = Writer::new();
        open(&mut w, "paGetPaymentReq")
            .leaf("idPA", &self.id_pa)
            .leaf("idBrokerPA", &self.id_broker_pa)
            .leaf("idStation", &self.id_station);
        self.qr_code.write(&mut w);
        w.leaf_opt("amount", self.amount.map(|a| a.to_string()).as_deref())
            .leaf_opt("paymentNote", self.payment_note.as_deref())
            .leaf_opt("transferType", self.transfer_type.as_deref())
            .leaf_opt("dueDate", self.due_date.as_deref())
            .close(&pafn("paGetPaymentReq"));
        w.finish()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct PaymentPA {
    #[serde(rename = "creditorReferenceId")]
    pub creditor_reference_id: String,
    #[serde(rename = "paymentAmount")]
    pub payment_amount: Importo,
    #[serde(rename = "dueDate")]
    pub due_date: String,
    #[serde(rename = "retentionDate", default)]
    pub retention_date: Option<String>,
    #[serde(rename = "lastPayment", default)]
    pub last_payment: Option<bool>,
    pub description: String,
    #[serde(rename = "companyName", default)]
    pub company_name: Option<String>,
    #[serde(rename = "officeName", default)]
    pub office_name: Option<String>,
    pub debtor: Subject,
    #[serde(rename = "transferList")]
    pub transfer_list: TransferList,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct PaGetPaymentRes {
    pub outcome: Outcome,
    #[serde(default)]
    pub fault: Option<FaultBean>,
    #[serde(default)]
    pub data: Option<PaymentPA>,
}

impl PaGetPaymentRes {
    pub fn parse(xml: &str) -> Result<Self, SoapError> {
        de("paGetPaymentRes", xml)
    }
    pub fn write(&self) -> String {
        let mut w = Writer::new();
        open(&mut w, "paGetPaymentRes");
        write_outcome_fault(&mut w, self.outcome, &self.fault);
        if let Some(d) = &self.data {
            w.open("data")
                .leaf("creditorReferenceId", &d.creditor_reference_id)
                .leaf("paymentAmount", &d.payment_amount.to_string())
                .leaf("dueDate", &d.due_date)
                .leaf_opt("retentionDate", d.retention_date.as_deref())
                .leaf_opt(
                    "lastPayment",
                    d.last_payment.map(|b| if b { "true" } else { "false" }),
                )
                .leaf("description", &d.description)
                .leaf_opt("companyName", d.company_name.as_deref())
                .leaf_opt("officeName", d.office_name.as_deref());
            d.debtor.write(&mut w, "debtor");
            d.transfer_list.write(&mut w);
            w.close("data");
        }
        w.close(&pafn("paGetPaymentRes"));
        w.finish()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Receipt {
    #[serde(rename = "receiptId")]
    pub receipt_id: String,
    #[serde(rename = "noticeNumber")]
    pub notice_number: String,
    #[serde(rename = "fiscalCode")]
    pub fiscal_code: String,
    pub outcome: Outcome,
    #[serde(rename = "creditorReferenceId")]
    pub creditor_reference_id: String,
    #[serde(rename = "paymentAmount")]
    pub payment_amount: Importo,
    pub description: String,
    #[serde(rename = "companyName")]
    pub company_name: String,
    #[serde(rename = "officeName", default)]
    pub office_name: Option<String>,
    pub debtor: Subject,
    #[serde(rename = "transferList")]
    pub transfer_list: TransferList,
    #[serde(rename = "idPSP")]
    pub id_psp: String,
    #[serde(rename = "pspFiscalCode", default)]
    pub psp_fiscal_code: Option<String>,
    #[serde(rename = "pspPartitaIVA", default)]
    pub psp_partita_iva: Option<String>,
    #[serde(rename = "PSPCompanyName")]
    pub psp_company_name: String,
    #[serde(rename = "idChannel")]
    pub id_channel: String,
    #[serde(rename = "channelDescription")]
    pub channel_description: String,
    #[serde(default)]
    pub payer: Option<Subject>,
    #[serde(rename = "paymentMethod", default)]
    pub payment_method: Option<String>,
    #[serde(default)]
    pub fee: Option<Importo>,
    #[serde(rename = "paymentDateTime", default)]
    pub payment_date_time: Option<String>,
    #[serde(rename = "applicationDate", default)]
    pub application_date: Option<String>,
    #[serde(rename = "transferDate", default)]
    pub transfer_date: Option<String>,
    #[serde(rename = "standIn", default)]
    pub stand_in: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct PaSendRTReq {
    #[serde(rename = "idPA")]
    pub id_pa: String,
    #[serde(rename = "idBrokerPA")]
    pub id_broker_pa: String,
    #[serde(rename = "idStation")]
    pub id_station: String,
    pub receipt: Receipt,
}

impl PaSendRTReq {
    pub fn parse(xml: &str) -> Result<Self, SoapError> {
        de("paSendRTReq", xml)
    }
    pub fn write(&self) -> String {
        let r = &self.receipt;
        let b = |v: bool| if v { "true" } else { "false" };
        let mut w = Writer::new();
        open(&mut w, "paSendRTReq")
            .leaf("idPA", &self.id_pa)
            .leaf("idBrokerPA", &self.id_broker_pa)
            .leaf("idStation", &self.id_station);
        w.open("receipt")
            .leaf("receiptId", &r.receipt_id)
            .leaf("noticeNumber", &r.notice_number)
            .leaf("fiscalCode", &r.fiscal_code)
            .leaf("outcome", r.outcome.as_str())
            .leaf("creditorReferenceId", &r.creditor_reference_id)
            .leaf("paymentAmount", &r.payment_amount.to_string())
            .leaf("description", &r.description)
            .leaf("companyName", &r.company_name)
            .leaf_opt("officeName", r.office_name.as_deref());
        r.debtor.write(&mut w, "debtor");
        r.transfer_list.write(&mut w);
        w.leaf("idPSP", &r.id_psp)
            .leaf_opt("pspFiscalCode", r.psp_fiscal_code.as_deref())
            .leaf_opt("pspPartitaIVA", r.psp_partita_iva.as_deref())
            .leaf("PSPCompanyName", &r.psp_company_name)
            .leaf("idChannel", &r.id_channel)
            .leaf("channelDescription", &r.channel_description);
        if let Some(p) = &r.payer {
            p.write(&mut w, "payer");
        }
        w.leaf_opt("paymentMethod", r.payment_method.as_deref())
            .leaf_opt("fee", r.fee.map(|f| f.to_string()).as_deref())
            .leaf_opt("paymentDateTime", r.payment_date_time.as_deref())
            .leaf_opt("applicationDate", r.application_date.as_deref())
            .leaf_opt("transferDate", r.transfer_date.as_deref())
            .leaf_opt("standIn", r.stand_in.map(b))
            .close("receipt")
            .close(&pafn("paSendRTReq"));
        w.finish()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct PaSendRTRes {
    pub outcome: Outcome,
    #[serde(default)]
    pub fault: Option<FaultBean>,
}

impl PaSendRTRes {
    pub fn parse(xml: &str) -> Result<Self, SoapError> {
        de("paSendRTRes", xml)
    }
    pub fn write(&self) -> String {
        let mut w = Writer::new();
        open(&mut w, "paSendRTRes");
        write_outcome_fault(&mut w, self.outcome, &self.fault);
        w.close(&pafn("paSendRTRes"));
        w.finish()
    }
}
