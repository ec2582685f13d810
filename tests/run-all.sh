#!/usr/bin/env bash
# Runs every check and test of pagopa-gateway on a fresh machine: starts PostgreSQL when it
# is down, then format check, clippy, unit and integration tests (each database test runs on
# SQLite and on PostgreSQL). Usage: ./tests/run-all.sh
set -euo pipefail
cd "$(dirname "$0")/.."

# A target dir outside the checkout, so CI clones reuse earlier builds.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/pagopa-gateway/target}"
export PAGOPA_TEST_PG_URL="${PAGOPA_TEST_PG_URL:-postgres://postgres@127.0.0.1:5432/test}"

# xmllint validates every emitted message against the official schemas in the tests.
if ! command -v xmllint >/dev/null; then
  echo "== installing libxml2-utils (xmllint)"
  apt-get update -qq && apt-get install -y -qq libxml2-utils >/dev/null
fi

pg_up() { pg_isready -q -h 127.0.0.1 -p 5432; }
if ! pg_up; then
  echo "== starting PostgreSQL"
  version=$(ls /etc/postgresql 2>/dev/null | sort -n | tail -n1)
  pg_ctlcluster --skip-systemctl-redirect "${version:-15}" main start
  for _ in $(seq 1 30); do pg_up && break; sleep 1; done
  pg_up || { echo "PostgreSQL did not start" >&2; exit 1; }
fi
psql -h 127.0.0.1 -U postgres -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = 'test'" | grep -q 1 \
  || psql -h 127.0.0.1 -U postgres -d postgres -qc "CREATE DATABASE test"
# Each test makes its own schema t_<uuid>; drop those of earlier runs.
psql -h 127.0.0.1 -U postgres -d test -qAt -c \
  "SELECT format('DROP SCHEMA %I CASCADE;', nspname) FROM pg_namespace WHERE nspname ~ '^t_[0-9a-f]{32}$'" \
  | psql -h 127.0.0.1 -U postgres -d test -q >/dev/null

echo "== cargo fmt --check"
cargo fmt --all -- --check
# The repositories' SQL files are include!d once per backend, not modules: cargo fmt does
# not see them, so every file an include! names is checked here.
included=$(grep -rl 'include!("' src/store | while read -r m; do
  sed -nE "s|^ *include!\(\"([^\"]+)\"\);|$(dirname "$m")/\1|p" "$m"
done | sort -u)
rustfmt --edition 2024 --check $included
echo "== cargo clippy"
cargo clippy --all-targets --locked -- -D warnings
# The production build (no simulator, no demo) must keep compiling cleanly too.
cargo clippy --locked --no-default-features --bin pagopa-gateway -- -D warnings
echo "== cargo test (SQLite and PostgreSQL)"
cargo test --all-targets --locked
echo "== schemathesis (REST API against its OpenAPI document)"
tests/schemathesis.sh "$CARGO_TARGET_DIR/debug/pagopa-gateway"
echo "== zeep (the new model from a SOAP client built on paForNode.wsdl)"
tests/zeep.sh "$CARGO_TARGET_DIR/debug/pagopa-gateway"
echo "== promtool (alert rules and their tests, the dashboard's queries, /metrics of the real binary)"
tests/ops.sh "$CARGO_TARGET_DIR/debug/pagopa-gateway"
echo "== Portale Pagamenti in headless Chromium (Selenium, axe-core, the notice PDF read back)"
tests/web.sh "$CARGO_TARGET_DIR/debug/pagopa-gateway"
