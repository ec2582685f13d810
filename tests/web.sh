#!/usr/bin/env bash
# The Portale Pagamenti in a real browser: headless Chromium (Debian's chromium and its
# driver, installed when missing) driven through Selenium (PyPI, in a venv) over the real
# binary, with the simulated Nodo and Checkout (`pagopa-gateway sim`) behind it. A citizen
# pays a notice found by numero avviso and fiscal code, reads a late notice's explained
# amount, pays a cart of spontaneous payments to two enti, reads outcome and receipts and
# the personal area; every page is checked with axe-core in the browser (no serious or
# critical violation); the notice PDF is read back (pdftotext) and its QR code decoded
# (zbarimg). Then the MyPivot console (tests/web/console.py): operators with password
# and TOTP, imports, anomalies, accertamenti, statistics, exports, roles and enti.
# Screenshots go to $CARGO_TARGET_DIR/portale-screenshots/.
# Usage: tests/web.sh [BINARY]
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/pagopa-gateway/target}"
bin="${1:-$CARGO_TARGET_DIR/debug/pagopa-gateway}"
[ -x "$bin" ] || cargo build --locked --bin pagopa-gateway
need=()
command -v chromium >/dev/null || need+=(chromium)
command -v chromedriver >/dev/null || need+=(chromium-driver)
command -v pdftotext >/dev/null || need+=(poppler-utils)
command -v zbarimg >/dev/null || need+=(zbar-tools)
if [ ${#need[@]} -gt 0 ]; then
  echo "== installing ${need[*]}"
  apt-get update -qq && apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
venv="$HOME/.cache/pagopa-gateway/web-venv"
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import selenium' 2>/dev/null; then
  echo "== installing selenium into $venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q "selenium>=4.20,<5"
fi

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
work=$(mktemp -d)
rest=$(free_port); soap=$(free_port); nodo=$(free_port); checkout=$(free_port)
token="test-admin-token-$(date +%s%N)"
secret="portale-secret-0123456789abcdef-0123"
shots="$CARGO_TARGET_DIR/portale-screenshots"
export PAGOPA_GATEWAY_PA_SOAP__DEV_PKI_DIR="$work/certs"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT
(
  cd "$work"
  PAGOPA_GATEWAY_ADMIN_TOKEN="$token" PAGOPA_GATEWAY_REST__LISTEN="127.0.0.1:$rest" \
  PAGOPA_GATEWAY_PA_SOAP__LISTEN="127.0.0.1:$soap" \
  PAGOPA_GATEWAY_NODO__URL="https://localhost:$nodo/nodo" \
  PAGOPA_GATEWAY_CHECKOUT__URL="http://127.0.0.1:$checkout/checkout/ec/v2" \
  PAGOPA_GATEWAY_CHECKOUT__CA="$work/certs/ca.pem" \
  PAGOPA_GATEWAY_CHECKOUT__SUBSCRIPTION_KEY="chiave-di-prova" \
  PAGOPA_GATEWAY_CHECKOUT__RETURN_URL="http://127.0.0.1:$rest/portale/esito" \
  PAGOPA_GATEWAY_REST__JWT_ISSUER="https://portale.example.it" PAGOPA_GATEWAY_REST__JWT_AUDIENCE="pagopa-gateway" \
  PAGOPA_GATEWAY_REST__JWT_HS256_SECRET="$secret" \
  RUST_LOG=warn exec "$bin" serve
) > "$work/serve.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 50); do curl -fsS "http://127.0.0.1:$rest/readyz" >/dev/null 2>&1 && break; sleep 0.2; done
( cd "$work" && RUST_LOG=warn exec "$bin" sim --listen "127.0.0.1:$nodo" --checkout "127.0.0.1:$checkout" \
  --gateway "https://localhost:$soap/" ) > "$work/sim.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 50); do curl -s -o /dev/null "http://127.0.0.1:$checkout/checkout/pay" && break; sleep 0.2; done

rm -rf "$shots"; mkdir -p "$shots"
# WEB_TESTS=console runs only the console's (while working on it).
suites="${WEB_TESTS:-portale console}"
if [[ " $suites " == *" portale "* ]] && ! "$venv/bin/python" tests/web/portale.py "http://127.0.0.1:$rest" "$token" "$secret" "$shots" "$work"; then
  echo "--- serve.log"; tail -n 40 "$work/serve.log"; echo "--- sim.log"; tail -n 20 "$work/sim.log"
  exit 1
fi
if [[ " $suites " == *" console "* ]] && ! "$venv/bin/python" tests/web/console.py "http://127.0.0.1:$rest" "$token" "$shots" "$work" "$(realpath "$bin")"; then
  echo "--- serve.log"; tail -n 40 "$work/serve.log"
  exit 1
fi
echo "ok   screenshots in $shots"
