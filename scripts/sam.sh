#!/usr/bin/env bash
# `make sam`: `sam validate --lint` and `sam build` (arm64, cargo-lambda + zig),
# then the zipped size of every function's artifact.
set -euo pipefail
cd "$(dirname "$0")/.."
WITH_SAM=1 bash scripts/bootstrap.sh
export PATH="$PWD/.tools/venv/bin:$PATH"
export SAM_CLI_TELEMETRY=0

# Installed up front: parallel builds would race to install it.
rustup target add aarch64-unknown-linux-gnu >/dev/null
sam validate --lint --region us-east-1
# The web function compiles the built client in.
bash scripts/web.sh
# SAM builds each function with its own `cargo lambda build --bin`, one
# after another (they share the target directory's lock), and each link
# with fat LTO takes about a minute. One build of every function first lets
# cargo link them side by side on every core; SAM's builds then find them
# fresh and only copy them. Binaries are named as SAM names them (`--bin`,
# so cargo unifies features over the same packages), or its builds would
# not find them fresh.
functions=$(awk '/^ *Binary: / { print $2 }' template.yaml)
cargo lambda build --release --arm64 $(printf -- '--bin %s ' $functions)
sam build --parallel
for dir in .aws-sam/build/*Function; do
  size=$(python3 - "$dir/bootstrap" <<'PY'
import io, sys, zipfile
buffer = io.BytesIO()
with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
    archive.write(sys.argv[1], "bootstrap")
print(len(buffer.getvalue()))
PY
)
  printf '%-28s %8d bytes zipped\n' "$(basename "$dir")" "$size"
done
