#!/usr/bin/env bash
# Measures what the by_sender index's projection costs (scripts/projection_cost.py)
# against its own DynamoDB Local; prints the table of README's "What it costs".
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/stack.sh
bash scripts/bootstrap.sh
STACK_LOGS=$ROOT/target/projection-logs
mkdir -p "$STACK_LOGS"
trap stop_stack EXIT
use_local_aws_env
start_dynamodb "$(free_port)"
AWS_DEFAULT_REGION=$AWS_REGION "$(bench_python)" scripts/projection_cost.py
