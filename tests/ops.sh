#!/usr/bin/env bash
# What operators run against the gateway, checked with Prometheus' own tool: the alert rules
# (syntax and `promtool test rules`), every expression of the Grafana dashboard (as PromQL),
# and the real binary's /metrics after traffic (`promtool check metrics`: names, units,
# help, types), with the operator gauges present. Usage: tests/ops.sh [BINARY]
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/pagopa-gateway/target}"
bin="${1:-$CARGO_TARGET_DIR/debug/pagopa-gateway}"
[ -x "$bin" ] || cargo build --locked --bin pagopa-gateway
if ! command -v promtool >/dev/null; then
  echo "== installing prometheus (promtool)"
  apt-get update -qq && apt-get install -y -qq --no-install-recommends prometheus >/dev/null
fi

echo "== promtool: alert rules"
promtool check rules ops/prometheus/alerts.yml
(cd ops/prometheus && promtool test rules alerts.test.yml)

echo "== promtool: the dashboard's expressions"
rules=$(mktemp --suffix=.yml)
python3 - ops/grafana/pagopa-gateway.json "$rules" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
exprs = [t["expr"] for p in d["panels"] for t in p.get("targets", [])]
assert len(exprs) >= 20, exprs
with open(sys.argv[2], "w") as f:
    f.write("groups:\n  - name: dashboard\n    rules:\n")
    for i, e in enumerate(exprs):
        # Grafana's variables, as Grafana would substitute them.
        e = e.replace("$__rate_interval", "5m").replace('=~"$instance"', '=~".*"')
        assert "$" not in e, e
        f.write(f"      - record: dashboard:panel_{i}\n        expr: {json.dumps(e)}\n")
PY
promtool check rules "$rules"
rm -f "$rules"

# JSON logs, to follow the exchanges below in them.
SERVE_LOG=info SERVE_LOG_FORMAT=json
# shellcheck source=tests/lib/serve.sh
source tests/lib/serve.sh

echo "== promtool: /metrics of the real binary after traffic"
api() { curl -fsS -H "Authorization: Bearer $token" -H 'Content-Type: application/json' "$@"; }
api "http://127.0.0.1:$rest/api/v1/enti" >/dev/null
curl -sS -o /dev/null "http://127.0.0.1:$rest/api/v1/enti" # 401, a second status
envelope='<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:pafn="http://pagopa-api.pagopa.gov.it/pa/paForNode.xsd"><soapenv:Body><pafn:paVerifyPaymentNoticeReq><idPA>80007580279</idPA><idBrokerPA>80012345676</idBrokerPA><idStation>80012345676_01</idStation><qrCode><fiscalCode>80007580279</fiscalCode><noticeNumber>301000000000000043</noticeNumber></qrCode></pafn:paVerifyPaymentNoticeReq></soapenv:Body></soapenv:Envelope>'
answer=$(curl -sS --cacert "$work/certs/ca.pem" --cert "$work/certs/client.pem" --key "$work/certs/client.key" \
  -H 'Content-Type: text/xml' -H 'SOAPAction: paVerifyPaymentNotice' --data "$envelope" "https://localhost:$soap/pa-for-node")
grep -q 'faultCode>PAA_ID_DOMINIO_ERRATO<' <<<"$answer" || { echo "FAIL: unexpected answer: $answer"; exit 1; }
metrics=$(curl -fsS "http://127.0.0.1:$rest/metrics")
if ! out=$(promtool check metrics <<<"$metrics" 2>&1); then
  echo "FAIL: promtool check metrics"; echo "$out"; exit 1
fi
[ -z "$out" ] || { echo "FAIL: promtool check metrics found problems:"; echo "$out"; exit 1; }
for want in \
  'pagopa_gateway_pa_soap_requests_total{operation="paVerifyPaymentNotice",outcome="PAA_ID_DOMINIO_ERRATO"} 1' \
  'pagopa_gateway_certificate_expiry_timestamp_seconds{certificate="server"}' \
  'pagopa_gateway_certificate_expiry_timestamp_seconds{certificate="client_ca"}' \
  'pagopa_gateway_db_pool_max_connections ' \
  'pagopa_gateway_db_pool_connections{state="in_use"}' \
  'pagopa_gateway_outbox_depth{kind="nodoInviaRPT",stato="DEAD"} 0' \
  'pagopa_gateway_recon_queue_keys 0' \
  'pagopa_gateway_rt_quarantine 0' \
  '# HELP pagopa_gateway_pa_soap_duration_seconds '; do
  grep -qF "$want" <<<"$metrics" || { echo "FAIL: /metrics lacks: $want"; exit 1; }
done
# The server certificate of the development PKI is valid for years: its expiry is ahead.
expiry=$(sed -nE 's/^pagopa_gateway_certificate_expiry_timestamp_seconds\{certificate="server"\} ([0-9.e+]+)$/\1/p' <<<"$metrics")
python3 -c "import sys,time; sys.exit(0 if float('$expiry') > time.time() + 30*86400 else 1)" \
  || { echo "FAIL: server certificate expiry $expiry is not ahead"; exit 1; }
echo "ok   $(grep -c '^# TYPE pagopa_gateway_' <<<"$metrics") metric families pass promtool"

echo "== log.format = json: the exchanges above, one object per line"
python3 - "$work/serve.log" <<'PY'
import json, sys
lines = [l for l in open(sys.argv[1]) if l.strip()]
objs = [json.loads(l) for l in lines]  # every line is one JSON object
pa = [o for o in objs if o.get("target") == "exchange"]
assert pa, "no PA exchange line"
e = pa[0]
assert e["span"]["name"] == "pa_soap", e
assert (e["span"].get("operation"), e["span"].get("dominio"), e["span"].get("iuv")) == (
    "paVerifyPaymentNotice", "80007580279", "01000000000000043"), e
assert e["outcome"] == "PAA_ID_DOMINIO_ERRATO" and e["duration_ms"] > 0, e
http = [o for o in objs if o.get("span", {}).get("name") == "http" and o["span"].get("route") == "/api/v1/enti"]
assert len(http) >= 2 and all(len(o["span"]["request_id"]) == 36 for o in http), http
assert not any("codice_fiscale" in l for l in lines), "a fiscal code in the log"
assert not any("\x1b[" in l for l in lines), "escape codes in a log file"
print(f"ok   {len(objs)} JSON lines; the PA exchange and the REST requests carry their keys")
PY
