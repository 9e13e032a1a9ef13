#!/usr/bin/env bash
# `make bench`: builds every function for the host (cold start, memory, the
# HTTP reference) and as the zipped arm64 artifact Lambda runs, runs the
# benchmarks against DynamoDB Local, and writes their tables, with the
# machine and date, to the README's Performance section.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/stack.sh

started=$SECONDS
phase() { echo "bench: $1 ($((SECONDS - started)) s in)" >&2; }

bash scripts/bootstrap.sh
STACK_LOGS=$ROOT/target/bench-logs
mkdir -p "$STACK_LOGS"
trap stop_stack EXIT
trap 'exit 130' INT TERM
export PATH="$TOOLS/venv/bin:$PATH"

FUNCTIONS="register login send_message fetch_new_messages fetch_messages delete_message delete_messages conversations logout"
if [ ! -x "$TOOLS/bench-python/bin/python" ]; then
  python3 -m venv "$TOOLS/bench-python"
  "$TOOLS/bench-python/bin/pip" install --quiet --disable-pip-version-check "boto3==1.44.5"
fi
rustup target add aarch64-unknown-linux-gnu >/dev/null

# The harness is built with the functions' release profile, so the overhead
# it measures is that of the code Lambda runs.
phase "building the release binaries for this machine"
cargo build --quiet --release $(printf -- '-p %s ' $FUNCTIONS)
cargo build --quiet --release -p messenger-tests --bin bench --bin local_table
phase "building the zipped arm64 artifacts"
cargo lambda build --quiet --release --arm64 --output-format zip $(printf -- '--bin %s ' $FUNCTIONS)

phase "starting DynamoDB Local and cargo lambda watch"
use_local_aws_env
start_dynamodb "$(free_port)"
export TABLE_NAME=bench
target/release/local_table --seed-demo >/dev/null
api_port=$(free_port)
# One emulator instance per concurrent caller of the latency benchmark.
WATCH_CONCURRENCY=16 start_watch "$api_port" "$STACK_LOGS/watch.log" --release
export BENCH_HTTP_URL="http://127.0.0.1:$api_port"

targets=()
for function in $FUNCTIONS; do
  targets+=("$function=target/release/$function")
done
targets+=("python-boto3=$TOOLS/bench-python/bin/python scripts/python_baseline.py")

phase "measuring"
out="$STACK_LOGS/bench.md"
{
  echo "Measured on $(date -u +%Y-%m-%d), $(nproc) cores, $(uname -m), $(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo), DynamoDB Local $(grep -m1 -o '([0-9.]*)' "$TOOLS/dynamodb/README.txt" | tr -d '()') (in memory)."
  ARTIFACTS_DIR=target/lambda COLDSTART_LOG="$STACK_LOGS/coldstart.log" \
    python3 scripts/coldstart.py "${COLD_STARTS:-20}" events "${targets[@]}"
  target/release/bench
} | tee "$out"

python3 - "$out" README.md <<'PY'
import sys
table, readme = open(sys.argv[1]).read().strip(), sys.argv[2]
text = open(readme).read()
start, end = "<!-- bench:start -->", "<!-- bench:end -->"
head, rest = text.split(start, 1)
_, tail = rest.split(end, 1)
open(readme, "w").write(f"{head}{start}\n{table}\n{end}{tail}")
PY
phase "done; README.md Performance section updated"
