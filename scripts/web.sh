#!/usr/bin/env bash
# Builds the web client and the API reference page (web/ into web/dist,
# which the `web` function compiles in) when anything they are built from
# changed since the last build: the toolchain from the lock file when
# web/node_modules is missing or older than it, then `npm run build` (tsc,
# then vite). make dev, test, lint and sam run it before cargo builds the
# function.
set -euo pipefail
cd "$(dirname "$0")/../web"

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "web: installing the client's toolchain from web/package-lock.json" >&2
  # Not `npm ci`: the registry these machines reach serves rollup's native
  # packages for glibc Linux only, so the lock file lists no other platform's, and
  # `npm ci` refuses a lock file that lacks an optional dependency. `npm
  # install` takes the lock file's versions and checksums all the same, and
  # --no-save keeps it from rewriting the lock file.
  npm install --no-save --no-audit --no-fund --loglevel=error
  touch node_modules/.package-lock.json
fi
# What the build reads: the sources, the pages, the configuration, the
# toolchain and the API document the reference page renders.
stale=$([ -f dist/index.html ] || echo missing)
if [ -z "$stale" ]; then
  stale=$(find src index.html docs.html vite.config.ts tsconfig.json package-lock.json ../openapi.yaml \
    -newer dist/index.html -print -quit)
fi
if [ -n "$stale" ]; then
  echo "web: building web/dist" >&2
  npm run --silent build
fi
