#!/usr/bin/env bash
# `make bench`: runs the benchmarks against DynamoDB Local and writes their
# tables, with the machine and date, to the README's Performance section.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/stack.sh

bash scripts/bootstrap.sh
STACK_LOGS=$ROOT/target/bench-logs
mkdir -p "$STACK_LOGS"
trap stop_stack EXIT
trap 'exit 130' INT TERM
use_local_aws_env
start_dynamodb "$(free_port)"

FUNCTIONS="register login send_message fetch_new_messages fetch_messages delete_message delete_messages conversations logout"
if [ ! -x "$TOOLS/bench-python/bin/python" ]; then
  python3 -m venv "$TOOLS/bench-python"
  "$TOOLS/bench-python/bin/pip" install --quiet --disable-pip-version-check "boto3==1.44.5"
fi
cargo build --quiet --release $(printf -- '-p %s ' $FUNCTIONS)
cargo build --quiet --profile bench-harness -p messenger-tests --bins
export TABLE_NAME=bench-coldstart
target/bench-harness/local_table --seed-demo >/dev/null
targets=()
for function in $FUNCTIONS; do
  targets+=("$function=target/release/$function")
done
targets+=("python-boto3=$TOOLS/bench-python/bin/python scripts/python_baseline.py")

out="$STACK_LOGS/bench.md"
{
  echo "Measured on $(date -u +%Y-%m-%d), $(nproc) cores, $(uname -m), $(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo), DynamoDB Local $(grep -m1 -o '([0-9.]*)' "$TOOLS/dynamodb/README.txt" | tr -d '()') (in memory)."
  COLDSTART_LOG="$STACK_LOGS/coldstart.log" python3 scripts/coldstart.py "${COLD_STARTS:-20}" events "${targets[@]}"
  target/bench-harness/bench
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
echo "bench: README.md Performance section updated"
