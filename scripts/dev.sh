#!/usr/bin/env bash
# `make dev`: DynamoDB Local + every route of template.yaml on
# http://127.0.0.1:9000 through `cargo lambda watch`, and the WebSocket API
# on ws://127.0.0.1:9001 through the dev-only bridge (which also feeds the
# table's stream to the notifier). The web client is served at / and the
# API reference at /docs, built first when web/ changed. Ctrl-C stops them all.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/stack.sh

bash scripts/bootstrap.sh
STACK_LOGS=${STACK_LOGS:-$ROOT/target/dev-logs}
mkdir -p "$STACK_LOGS"
trap stop_stack EXIT
trap 'exit 130' INT TERM

use_local_aws_env
export PATH="$TOOLS/venv/bin:$PATH"
export TABLE_NAME=${TABLE_NAME:-messenger}
DYNAMODB_PORT=${DYNAMODB_PORT:-8000}
API_PORT=${API_PORT:-9000}
REALTIME_PORT=${REALTIME_PORT:-9001}

bash scripts/web.sh
cargo build --workspace --bins
start_dynamodb "$DYNAMODB_PORT"
# The table tool as the workspace build made it (`cargo run -p` would build
# the SDK again with only that package's features); it names what it
# created, demo users included.
table=$(target/debug/local_table --seed-demo)
echo "dev: DynamoDB Local on 127.0.0.1:$DYNAMODB_PORT (in memory), $table"
echo "dev: serving the API on http://127.0.0.1:$API_PORT, the web client at http://127.0.0.1:$API_PORT/ and the API reference at http://127.0.0.1:$API_PORT/docs (Ctrl-C stops it)"
start_watch "$API_PORT" /dev/stdout
watch_pid=${STACK_PIDS[-1]}
start_bridge "$REALTIME_PORT" "$API_PORT"
echo "dev: WebSocket API on ws://127.0.0.1:$REALTIME_PORT (bridge log: $STACK_LOGS/bridge.log)"
wait "$watch_pid"
