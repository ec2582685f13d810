#!/usr/bin/env bash
# Property-based check of the REST API against its own OpenAPI document with schemathesis
# (PyPI): the real binary on free loopback ports with a fresh data directory; no 5xx, and
# every status code, content type, header and body as documented. Bounded: a fixed number
# of examples per operation and a time limit. Usage: tests/schemathesis.sh [BINARY]
#
# Excluded check: positive_data_acceptance (a request valid for the JSON Schema must be
# accepted). Our rules (IBAN and fiscal-code check digits, cart rules, state machines) are
# stricter than a JSON Schema can say, so such requests get a documented 422.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/pagopa-gateway/target}"
bin="${1:-$CARGO_TARGET_DIR/debug/pagopa-gateway}"
[ -x "$bin" ] || cargo build --locked --bin pagopa-gateway
venv="$HOME/.cache/pagopa-gateway/schemathesis-venv"
if [ ! -x "$venv/bin/st" ]; then
  echo "== installing schemathesis into $venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q "schemathesis>=4,<5"
fi

# shellcheck source=tests/lib/serve.sh
source tests/lib/serve.sh

echo "== schemathesis against http://127.0.0.1:$rest/api/v1/openapi.json"
timeout 300 "$venv/bin/st" run "http://127.0.0.1:$rest/api/v1/openapi.json" \
  -H "Authorization: Bearer $token" \
  --checks all --exclude-checks positive_data_acceptance \
  --phases examples,fuzzing --max-examples 25 --seed 20261128 \
  --suppress-health-check all --no-color
