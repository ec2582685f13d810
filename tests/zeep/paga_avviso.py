"""A real SOAP client built from the unmodified paForNode.wsdl (zeep) pays a notice on the
gateway over mutual TLS, as the Nodo would: paVerifyPaymentNotice, paGetPaymentV2,
paSendRTV2, then the receipt again (PAA_RECEIPT_DUPLICATA). Exits non-zero on the first
answer that is not what the new model says.

Usage: paga_avviso.py WSDL ADDRESS CERT_DIR ID_PA ID_BROKER ID_STATION NOTICE_NUMBER IBAN
"""
import sys

import requests
from zeep import Client, Settings
from zeep.transports import Transport

wsdl, address, certs, id_pa, broker, station, notice, iban = sys.argv[1:9]
session = requests.Session()
# Only this session's CA and certificate: REQUESTS_CA_BUNDLE and proxies from the
# environment would override them.
session.trust_env = False
session.cert = (f"{certs}/client.pem", f"{certs}/client.key")
session.verify = f"{certs}/ca.pem"
client = Client(wsdl, transport=Transport(session=session), settings=Settings(strict=True))
pa = client.create_service("{http://pagopa-api.pagopa.gov.it/paForNode}paForNodeBinding", address)
who = dict(idPA=id_pa, idBrokerPA=broker, idStation=station)
qr = dict(fiscalCode=id_pa, noticeNumber=notice)


def check(what, cond, answer):
    if not cond:
        print(f"FAIL {what}: {answer}")
        sys.exit(1)
    print(f"ok   {what}")


v = pa.paVerifyPaymentNotice(**who, qrCode=qr)
check("paVerifyPaymentNotice OK", v.outcome == "OK" and v.fault is None, v)
option = v.paymentList.paymentOptionDescription
amount = option.amount
check("one option, EQ", option.options == "EQ", v)

g = pa.paGetPaymentV2(**who, qrCode=qr, amount=amount)
check("paGetPaymentV2 OK", g.outcome == "OK" and g.data is not None, g)
data = g.data
transfers = data.transferList.transfer
check("transferList on the ente's IBAN", len(transfers) == 1 and transfers[0].IBAN == iban, data)
check("paymentAmount as verified", data.paymentAmount == amount, data)

receipt = dict(
    receiptId="zeep0001",
    noticeNumber=notice,
    fiscalCode=id_pa,
    outcome="OK",
    creditorReferenceId=data.creditorReferenceId,
    paymentAmount=data.paymentAmount,
    description=data.description,
    companyName=data.companyName,
    debtor=data.debtor,
    transferList={"transfer": [
        dict(idTransfer=t.idTransfer, transferAmount=t.transferAmount, fiscalCodePA=t.fiscalCodePA,
             IBAN=t.IBAN, remittanceInformation=t.remittanceInformation,
             transferCategory=t.transferCategory)
        for t in transfers
    ]},
    idPSP="BCITITMM",
    PSPCompanyName="Intesa Sanpaolo",
    idChannel="00799960158_01",
    channelDescription="app",
    paymentMethod="creditCard",
    fee="1.50",
    paymentDateTime="2026-12-04T10:11:12",
    applicationDate="2026-12-04",
    transferDate="2026-12-05",
)
s = pa.paSendRTV2(**who, receipt=receipt)
check("paSendRTV2 OK", s.outcome == "OK" and s.fault is None, s)
again = pa.paSendRTV2(**who, receipt=receipt)
check("paSendRTV2 again: PAA_RECEIPT_DUPLICATA",
      again.outcome == "KO" and again.fault.faultCode == "PAA_RECEIPT_DUPLICATA", again)
paid = pa.paVerifyPaymentNotice(**who, qrCode=qr)
check("paid notice: PAA_PAGAMENTO_DUPLICATO",
      paid.outcome == "KO" and paid.fault.faultCode == "PAA_PAGAMENTO_DUPLICATO", paid)
