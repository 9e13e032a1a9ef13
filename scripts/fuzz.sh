#!/usr/bin/env bash
# `make fuzz`: runs the request-parsing fuzz target (fuzz/) for a bounded
# time with cargo fuzz on nightly Rust (installed here if missing).
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p target
SECONDS_TO_FUZZ=${FUZZ_SECONDS:-60}
rustup toolchain list | grep -q '^nightly' || rustup toolchain install nightly --profile minimal
if [ ! -x .tools/cargo/bin/cargo-fuzz ]; then
  cargo install --quiet --locked --root .tools/cargo cargo-fuzz@0.13.2
fi
export PATH="$PWD/.tools/cargo/bin:$PATH"
cargo +nightly fuzz run requests --fuzz-dir fuzz -- -max_total_time="$SECONDS_TO_FUZZ" -max_len=4096 2>&1 |
  tee target/fuzz.log | grep -E '^(Done|INFO: Seed|==[0-9]+==|SUMMARY)' || true
grep -q '^Done ' target/fuzz.log
