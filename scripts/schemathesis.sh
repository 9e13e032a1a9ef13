#!/usr/bin/env bash
# Property-based API testing of openapi.yaml against the running stack at
# MESSENGER_API_URL: no 5xx, and no response that contradicts the document.
# /logout runs on its own, with a token it may revoke.
set -euo pipefail
cd "$(dirname "$0")/.."
: "${MESSENGER_API_URL:?the API to test}"

post() { # path, JSON body, token (or ""), field of the reply -> its value
  python3 - "$MESSENGER_API_URL" "$@" <<'PY'
import json, sys, urllib.request
url, path, body, token, field = sys.argv[1:]
headers = {"Content-Type": "application/json"}
if token:
    headers["Authorization"] = "Bearer " + token
request = urllib.request.Request(url + path, data=body.encode(), headers=headers, method="POST")
print(json.load(urllib.request.urlopen(request))[field])
PY
}

register() { # login -> token
  post /register "{\"login\": \"$1\"}" "" token
}

# Checks that hold for this API: every response is documented, matches its
# schema and headers, invalid data is refused, auth is not ignored. Left out:
# positive_data_acceptance (a schema cannot say "period_start before
# period_end" or "recipient must be registered", so valid-looking requests may
# rightly get 400 or 404) and unsupported_method (API Gateway and the local
# router answer an unrouted method with 404, before any function runs).
run() { # token, then filters
  local token=$1
  shift
  PYTHONPATH=tests SCHEMATHESIS_HOOKS=schemathesis_hooks SCHEMATHESIS_TELEMETRY=false \
    .tools/schemathesis/bin/schemathesis run openapi.yaml --url "$MESSENGER_API_URL" \
    -H "Authorization: Bearer $token" \
    --checks all --exclude-checks positive_data_acceptance,unsupported_method \
    --max-examples "${SCHEMATHESIS_EXAMPLES:-50}" --workers 2 --seed 20261121 --no-color "$@"
}

suffix=$(python3 -c 'import secrets; print(secrets.token_hex(4))')
token=$(register "schemathesis-$suffix")
# The caller's groups, with a peer, and a message of the peer's in the
# first, which the hooks (tests/schemathesis_hooks.py) name in place of
# random group ids and logins: the group operations then get past their
# 404s. The caller leaves the second, not the group the others use.
export SCHEMATHESIS_PEER="schemathesis-peer-$suffix"
peer_token=$(register "$SCHEMATHESIS_PEER")
with_peer="{\"name\": \"schemathesis\", \"members\": [\"$SCHEMATHESIS_PEER\"]}"
SCHEMATHESIS_GROUP=$(post /create_group "$with_peer" "$token" group)
SCHEMATHESIS_LEAVING=$(post /create_group "$with_peer" "$token" group)
export SCHEMATHESIS_GROUP SCHEMATHESIS_LEAVING
post /send_message "{\"group\": \"$SCHEMATHESIS_GROUP\", \"message\": \"from the peer\"}" "$peer_token" OK >/dev/null
run "$token" --exclude-path /logout
run "$(register "schemathesis-logout-$suffix")" --include-path /logout
