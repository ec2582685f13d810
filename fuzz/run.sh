#!/usr/bin/env bash
# Runs every fuzz target for SECONDS (default 60) on stable Rust, from the committed seeds.
# Needs cargo-fuzz: cargo install cargo-fuzz --version 0.13.2 --locked
# Usage: fuzz/run.sh [SECONDS] [TARGET...]
set -euo pipefail
cd "$(dirname "$0")/.."
secs="${1:-60}"; shift || true
targets=("$@"); [ ${#targets[@]} -gt 0 ] || targets=(envelope rpt_rt flusso dovuti_csv tesoreria)
for t in "${targets[@]}"; do
  mkdir -p "fuzz/corpus/$t"
  cp -n fuzz/seeds/"$t"/* "fuzz/corpus/$t/" 2>/dev/null || true
  echo "== fuzzing $t for ${secs}s"
  # -s none: no sanitizer, which runs on the stable toolchain (RUSTC_BOOTSTRAP=1 for ASan).
  cargo fuzz run -s none "$t" "fuzz/corpus/$t" -- -max_total_time="$secs" -max_len=65536 -rss_limit_mb=2048
done
