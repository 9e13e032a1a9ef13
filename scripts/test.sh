#!/usr/bin/env bash
# `make test`: unit tests, handler tests on the sample events, end-to-end
# and concurrency tests over HTTP through `cargo lambda watch`, all against
# DynamoDB Local (its own, on a free port, unless AWS_ENDPOINT_URL_DYNAMODB
# is set); then schemathesis and the web client in headless Chromium. Arguments select tests as `cargo test` would: before `--`, the
# targets; after it, test names, as in `--test api -- e2e::`
# (one suite of the test binary).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/stack.sh

selected=$#
MAX_RESENDS=${MAX_RESENDS:-30}
cargo_args=()
test_args=()
while [ $# -gt 0 ]; do
  if [ "$1" = -- ]; then
    shift
    test_args=("$@")
    break
  fi
  cargo_args+=("$1")
  shift
done

# The whole run also drives the web client in a browser (Debian's chromium).
WITH_SCHEMATHESIS=1 WITH_BROWSER=$([ "$selected" -eq 0 ] && echo 1 || true) bash scripts/bootstrap.sh
STACK_LOGS=${STACK_LOGS:-$ROOT/target/test-logs}
rm -rf "$STACK_LOGS"
mkdir -p "$STACK_LOGS"
trap stop_stack EXIT
trap 'exit 130' INT TERM

use_local_aws_env
export PATH="$TOOLS/venv/bin:$PATH"
if [ -z "${AWS_ENDPOINT_URL_DYNAMODB:-}" ]; then
  start_dynamodb "$(free_port)"
fi
# A table of its own, so a shared DynamoDB Local keeps its other data.
export TABLE_NAME="messenger-test-$(date +%s)-$$"

bash scripts/web.sh
cargo build --workspace --all-targets
# The table tool as the workspace build made it: `cargo run -p` would build
# the SDK again with only that package's features.
target/debug/local_table --seed-demo
# The suites register hundreds of users from one address and send far
# more than a user would: no rate limits on this stack (0 is off). The
# rate-limit suite sets low ones on an App of its own.
export SEND_RATE_PER_MINUTE=0 REGISTRATIONS_PER_HOUR=0
api_port=$(free_port)
REALTIME_PORT=$(free_port)
start_watch "$api_port" "$STACK_LOGS/watch.log"
start_bridge "$REALTIME_PORT" "$api_port"
# Requests the tests sent again because the emulator lost their reply
# ("cargo lambda watch loses large replies" in the README), a line each.
export MESSENGER_RESEND_LOG="$STACK_LOGS/emulator-resends.log"
: >"$MESSENGER_RESEND_LOG"
export MESSENGER_API_URL="http://127.0.0.1:$api_port"
export MESSENGER_WEBSOCKET_URL="ws://127.0.0.1:$REALTIME_PORT"
echo "test: DynamoDB Local at $AWS_ENDPOINT_URL_DYNAMODB, API at $MESSENGER_API_URL, WebSocket API at $MESSENGER_WEBSOCKET_URL, table $TABLE_NAME"

# The test binaries run directly, not under `cargo test`: cargo would hold
# the target directory's lock for the whole run, and `cargo lambda watch`
# starts each new function instance with `cargo run`, which would wait for it.
status=0
cargo test --workspace --no-run --message-format=json "${cargo_args[@]}" >"$STACK_LOGS/test-binaries.json"
python3 - "$STACK_LOGS/test-binaries.json" >"$STACK_LOGS/test-binaries.txt" <<'PY'
import json, os, sys
for line in open(sys.argv[1]):
    message = json.loads(line)
    if message.get("reason") == "compiler-artifact" and message.get("executable") and message["profile"]["test"]:
        print(os.path.dirname(message["manifest_path"]), message["executable"])
PY
run_tests() { # manifest-dir executable [test args]
  local dir=$1 exe=$2
  shift 2
  echo "     Running $(basename "$exe")"
  (cd "$dir" && "$exe" "$@")
}
while read -r dir exe; do
  run_tests "$dir" "$exe" "${test_args[@]}" 2>&1 | tee -a "$STACK_LOGS/cargo-test.log" || status=1
done <"$STACK_LOGS/test-binaries.txt"
if [ "$status" -eq 0 ] && [ "$selected" -eq 0 ]; then
  bash scripts/schemathesis.sh 2>&1 | tee "$STACK_LOGS/schemathesis.log" || status=1
fi
if [ "$status" -eq 0 ] && [ "$selected" -eq 0 ]; then
  # The web client's own logic, then two users in two browser contexts
  # against this stack (screenshots of each step in target/browser-screenshots/).
  rm -rf target/browser-screenshots
  (cd web && npm run --silent test:unit && npm run --silent test:browser) 2>&1 |
    tee "$STACK_LOGS/web-tests.log" || status=1
fi
if [ "$status" -eq 0 ] && [ "$selected" -eq 0 ]; then
  # Last, on the whole run's function logs: what they say and never say
  # (the logs suite's one ignored test).
  suites=$(awk '$2 ~ /\/api-[0-9a-f]+$/ { print }' "$STACK_LOGS/test-binaries.txt")
  MESSENGER_FUNCTION_LOG="$STACK_LOGS/watch.log" run_tests $suites logs:: --ignored 2>&1 |
    tee -a "$STACK_LOGS/cargo-test.log" || status=1
fi
# One closing line for the whole run, summed over every test binary and
# the web client's (node's test runner closes with "ℹ pass N", "ℹ fail N").
touch "$STACK_LOGS/web-tests.log"
awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($(i+1) ~ /^passed/) p += $i; if ($(i+1) ~ /^failed/) f += $i } }
     /^ℹ pass [0-9]+$/ { p += $3 } /^ℹ fail [0-9]+$/ { f += $3 }
     END { printf "%d passed, %d failed\n", p, f }' "$STACK_LOGS/cargo-test.log" "$STACK_LOGS/web-tests.log"
# A few lost replies a run are the emulator's; many would hide a defect of ours.
resends=$(wc -l <"$MESSENGER_RESEND_LOG")
echo "$resends requests sent again after the emulator lost their reply (at most $MAX_RESENDS allowed)"
if [ "$resends" -gt "$MAX_RESENDS" ]; then
  sort "$MESSENGER_RESEND_LOG" | uniq -c | sort -rn | head >&2
  status=1
fi
if [ "$status" -ne 0 ]; then
  # What the functions and the emulator reported as errors, for a CI log
  # that keeps only the output.
  grep -E '"level":"ERROR"|panicked| ERROR ' "$STACK_LOGS/watch.log" | tail -n 20 >&2 || true
  echo "test: failed; the function logs are in $STACK_LOGS/watch.log" >&2
  exit "$status"
fi
