# Sourced by tests/schemathesis.sh and tests/zeep.sh: the real binary ($bin) on free
# loopback ports with a fresh data directory and development PKI, stopped and cleaned up
# on exit. Sets $work, $rest, $soap, $token. Logs go to $work/serve.log ($SERVE_LOG filter,
# error by default; $SERVE_LOG_FORMAT text or json).
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
work=$(mktemp -d)
rest=$(free_port); soap=$(free_port)
token="test-admin-token-$(date +%s%N)"
(
  cd "$work"
  PAGOPA_GATEWAY_ADMIN_TOKEN="$token" PAGOPA_GATEWAY_REST__LISTEN="127.0.0.1:$rest" \
  PAGOPA_GATEWAY_PA_SOAP__LISTEN="127.0.0.1:$soap" PAGOPA_GATEWAY_PA_SOAP__DEV_PKI_DIR="$work/certs" \
  PAGOPA_GATEWAY_LOG__FORMAT="${SERVE_LOG_FORMAT:-text}" RUST_LOG="${SERVE_LOG:-error}" exec "$bin" serve
) > "$work/serve.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true; wait $server 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 1 50); do curl -fsS "http://127.0.0.1:$rest/readyz" >/dev/null 2>&1 && break; sleep 0.2; done
