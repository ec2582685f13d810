#!/usr/bin/env bash
# The new model against a real SOAP client: zeep (PyPI) builds its client from the
# unmodified paForNode.wsdl and pays a notice on the real binary over mutual TLS
# (tests/zeep/paga_avviso.py); the dovuto must end PAGATO. Usage: tests/zeep.sh [BINARY]
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/pagopa-gateway/target}"
bin="${1:-$CARGO_TARGET_DIR/debug/pagopa-gateway}"
[ -x "$bin" ] || cargo build --locked --bin pagopa-gateway
venv="$HOME/.cache/pagopa-gateway/zeep-venv"
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import zeep' 2>/dev/null; then
  echo "== installing zeep into $venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q "zeep>=4.2,<5"
fi

# shellcheck source=tests/lib/serve.sh
source tests/lib/serve.sh

api() { curl -fsS -H "Authorization: Bearer $token" -H 'Content-Type: application/json' "$@"; }
ente=80007580279
iban=IT60X0542811101000000123456
api "http://127.0.0.1:$rest/api/v1/enti" -d "{\"id_dominio\":\"$ente\",\"denominazione\":\"Comune di Esempio\",\"codice_ipa\":\"c_x000\",\"segregation_code\":1,\"contatti\":{\"email\":\"tributi@comune.example.it\"},\"ibans\":[\"$iban\"]}" >/dev/null
api "http://127.0.0.1:$rest/api/v1/enti/$ente/tipi-dovuto" -d "{\"codice\":\"TARI\",\"descrizione\":\"Tassa rifiuti\",\"iban\":\"$iban\",\"dati_specifici_riscossione\":\"9/0101105IM/\",\"politica_scadenza\":\"RIFIUTA\"}" >/dev/null
dovuto=$(api "http://127.0.0.1:$rest/api/v1/enti/$ente/dovuti" -d '{"iud":"ZEEP-1","tipo_dovuto":"TARI","pagatore":{"tipo":"F","codice_fiscale":"RSSMRA85T10A562S","anagrafica":"Mario Rossi","email":"mario@example.org"},"importo":"64.20","causale":"TARI 2026","data_scadenza":"2099-12-31"}')
notice=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["numero_avviso"])' <<<"$dovuto")

echo "== zeep (paForNode.wsdl) against https://localhost:$soap/pa-for-node"
"$venv/bin/python" tests/zeep/paga_avviso.py wsdl/new-model/wsdl/paForNode.wsdl \
  "https://localhost:$soap/pa-for-node" "$work/certs" "$ente" 80012345676 80012345676_01 "$notice" "$iban"
stato=$(api "http://127.0.0.1:$rest/api/v1/enti/$ente/dovuti/ZEEP-1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["stato"])')
[ "$stato" = PAGATO ] || { echo "FAIL: the dovuto is $stato, not PAGATO"; exit 1; }
echo "ok   the dovuto is PAGATO"
