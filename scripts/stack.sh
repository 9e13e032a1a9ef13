# Helpers to run the local stack (sourced by dev.sh and test.sh):
# DynamoDB Local from .tools/, and `cargo lambda watch` serving every route.

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TOOLS="$ROOT/.tools"
STACK_PIDS=()

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

wait_for_port() { # port seconds what
  local port=$1 deadline=$((SECONDS + $2))
  until python3 -c "import socket,sys; socket.create_connection(('127.0.0.1', $port), 1)" 2>/dev/null; do
    if [ $SECONDS -ge $deadline ]; then
      echo "stack: $3 did not open port $port within $2 s" >&2
      return 1
    fi
    sleep 0.3
  done
}

stop_stack() {
  local pid
  for pid in "${STACK_PIDS[@]}"; do
    # Each service runs in its own process group (setsid): stop the group.
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
  done
  for pid in "${STACK_PIDS[@]}"; do
    wait "$pid" 2>/dev/null || true
  done
  STACK_PIDS=()
}

# Starts DynamoDB Local in memory on $1 and exports the SDK's endpoint variable.
start_dynamodb() {
  local port=$1
  setsid java -Djava.library.path="$TOOLS/dynamodb/DynamoDBLocal_lib" \
    -jar "$TOOLS/dynamodb/DynamoDBLocal.jar" -inMemory -port "$port" \
    >"$STACK_LOGS/dynamodb.log" 2>&1 &
  STACK_PIDS+=($!)
  wait_for_port "$port" 60 "DynamoDB Local"
  export AWS_ENDPOINT_URL_DYNAMODB="http://127.0.0.1:$port"
}

# Dummy credentials and a region: DynamoDB Local accepts any.
use_local_aws_env() {
  export AWS_REGION=${AWS_REGION:-us-east-1}
  export AWS_ACCESS_KEY_ID=${AWS_ACCESS_KEY_ID:-local}
  export AWS_SECRET_ACCESS_KEY=${AWS_SECRET_ACCESS_KEY:-local}
}

# boto3 in a venv of its own, for the Python figures beside ours.
bench_python() {
  if [ ! -x "$TOOLS/bench-python/bin/python" ]; then
    python3 -m venv "$TOOLS/bench-python"
    "$TOOLS/bench-python/bin/pip" install --quiet --disable-pip-version-check "boto3==1.44.5"
  fi
  echo "$TOOLS/bench-python/bin/python"
}

# A parameter's Default in template.yaml, e.g. `template_default SendRatePerMinute`.
template_default() {
  awk -v name="  $1:" '$0 == name { found = 1; next }
    found && /^    Default:/ { print $2; exit }
    found && /^  [^ ]/ { exit }' "$ROOT/template.yaml"
}

# Serves every route of the watch router on 127.0.0.1:$1, 4 instances per
# function (WATCH_CONCURRENCY); further arguments go to `cargo lambda watch`.
# The rate limits come from SEND_RATE_PER_MINUTE and REGISTRATIONS_PER_HOUR
# when set, else from the template's defaults. The real-time functions reach
# the WebSocket bridge (start_bridge) on REALTIME_PORT, chosen beforehand.
start_watch() {
  local port=$1 log=$2
  shift 2
  setsid cargo lambda watch -A 127.0.0.1 -P "$port" "$@" \
    --concurrency "${WATCH_CONCURRENCY:-4}" --ignore-changes \
    --env-var "TABLE_NAME=$TABLE_NAME" \
    --env-var "AWS_ENDPOINT_URL_DYNAMODB=$AWS_ENDPOINT_URL_DYNAMODB" \
    --env-var "AWS_REGION=$AWS_REGION" \
    --env-var "AWS_ACCESS_KEY_ID=$AWS_ACCESS_KEY_ID" \
    --env-var "AWS_SECRET_ACCESS_KEY=$AWS_SECRET_ACCESS_KEY" \
    --env-var "SEND_RATE_PER_MINUTE=${SEND_RATE_PER_MINUTE:-$(template_default SendRatePerMinute)}" \
    --env-var "REGISTRATIONS_PER_HOUR=${REGISTRATIONS_PER_HOUR:-$(template_default RegistrationsPerHour)}" \
    --env-var "RUST_LOG=${RUST_LOG:-info}" \
    --env-var "AWS_ENDPOINT_URL_APIGATEWAYMANAGEMENTAPI=http://127.0.0.1:$REALTIME_PORT" \
    --env-var "WEBSOCKET_URL=ws://127.0.0.1:$REALTIME_PORT" \
    >"$log" 2>&1 &
  STACK_PIDS+=($!)
  wait_for_port "$port" 300 "cargo lambda watch"
}

# The dev-only WebSocket bridge on 127.0.0.1:$1 (WebSocket API and
# Management API), invoking the functions of the watch on port $2 and
# feeding TABLE_NAME's stream to the notifier. Runs the binary the
# workspace build made, as the table tool does: of the profile $3
# (default debug; the bench builds release).
start_bridge() {
  local port=$1 watch_port=$2 profile=${3:-debug}
  setsid "$ROOT/target/$profile/realtime_bridge" --port "$port" --watch "http://127.0.0.1:$watch_port" \
    >"$STACK_LOGS/bridge.log" 2>&1 &
  STACK_PIDS+=($!)
  wait_for_port "$port" 30 "the WebSocket bridge"
}
