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

FUNCTIONS="register login send_message fetch_new_messages fetch_messages delete_message delete_messages conversations logout
  realtime_ticket realtime_connect realtime_disconnect realtime_default realtime_notifier"
bench_python >/dev/null
rustup target add aarch64-unknown-linux-gnu >/dev/null

# One invocation builds the functions and the harness, with the features
# cargo unifies across the workspace, as `cargo lambda watch` and `sam build`
# build them: the watch below reuses these binaries, and the harness measures
# the code Lambda runs, optimised the same way.
phase "building the release binaries for this machine"
cargo build --quiet --release $(printf -- '--bin %s ' $FUNCTIONS bench realtime_bridge)

phase "building the zipped arm64 artifacts, meanwhile counting capacity"
use_local_aws_env
start_dynamodb "$(free_port)"
export TABLE_NAME=bench
target/release/bench prepare
setsid cargo lambda build --quiet --release --arm64 --output-format zip $(printf -- '--bin %s ' $FUNCTIONS) &
arm64_build=$!
STACK_PIDS+=("$arm64_build")
# Capacity units are counts, not timings: the build may load the machine.
target/release/bench capacity >"$STACK_LOGS/capacity.md"
wait "$arm64_build"

targets=()
for function in $FUNCTIONS; do
  targets+=("$function=target/release/$function")
done
targets+=("python-boto3=$TOOLS/bench-python/bin/python scripts/python_baseline.py")
# The WebSocket bridge's port, which the functions are told before they
# start (the bridge itself starts for the push phase).
export REALTIME_PORT
REALTIME_PORT=$(free_port)
phase "measuring cold starts"
WEBSOCKET_URL="ws://127.0.0.1:$REALTIME_PORT" AWS_ENDPOINT_URL_APIGATEWAYMANAGEMENTAPI="http://127.0.0.1:$REALTIME_PORT" \
  ARTIFACTS_DIR=target/lambda COLDSTART_LOG="$STACK_LOGS/coldstart.log" \
  python3 scripts/coldstart.py "${COLD_STARTS:-20}" events "${targets[@]}" >"$STACK_LOGS/coldstart.md"

phase "measuring latency"
api_port=$(free_port)
# One emulator instance per concurrent caller of the latency benchmark;
# rate limits that count, as a deployment's do, but are never reached.
export SEND_RATE_PER_MINUTE=4294967295 REGISTRATIONS_PER_HOUR=4294967295
WATCH_CONCURRENCY=16 start_watch "$api_port" "$STACK_LOGS/watch.log" --release
BENCH_HTTP_URL="http://127.0.0.1:$api_port" target/release/bench latency >"$STACK_LOGS/latency.md"

# Before the bridge starts: nothing runs the notifier for the groups' sends
# (the phase times the notifier's handler itself).
phase "measuring group conversations"
target/release/bench groups >"$STACK_LOGS/groups.md"

phase "measuring a hot mailbox and a hot group through the fault proxy's AWS conflict rules"
target/release/bench hot >"$STACK_LOGS/hot.md"

# The bridge starts after the timings above: while it runs, every message
# stored goes through the stream to the notifier, which would load the
# machine under them.
phase "measuring push through the WebSocket bridge"
start_bridge "$REALTIME_PORT" "$api_port" release
BENCH_HTTP_URL="http://127.0.0.1:$api_port" BENCH_WEBSOCKET_URL="ws://127.0.0.1:$REALTIME_PORT" \
  target/release/bench push >"$STACK_LOGS/push.md"

out="$STACK_LOGS/bench.md"
{
  echo "Measured on $(date -u +%Y-%m-%d), $(nproc) cores, $(uname -m), $(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo), DynamoDB Local $(grep -m1 -o '([0-9.]*)' "$TOOLS/dynamodb/README.txt" | tr -d '()') (in memory)."
  cat "$STACK_LOGS/coldstart.md" "$STACK_LOGS/capacity.md" "$STACK_LOGS/latency.md" "$STACK_LOGS/groups.md" \
    "$STACK_LOGS/push.md" "$STACK_LOGS/hot.md"
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
