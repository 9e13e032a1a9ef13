.PHONY: dev test lint sam fuzz bench tools clean-tools web

# Runs the whole API locally: DynamoDB Local + every route on http://127.0.0.1:9000.
dev:
	bash scripts/dev.sh

# Runs the full test suite against its own DynamoDB Local and `cargo lambda watch`.
test:
	bash scripts/test.sh

# Formatting and lints, as CI checks them (the web function compiles the
# built client in, so it is built first).
lint: web
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets -- -D warnings

# Lints template.yaml and cross-compiles every function for arm64 with SAM
# (aws-sam-cli from PyPI into .tools/venv; no Docker or AWS account needed).
sam:
	bash scripts/sam.sh

# Fuzzes request parsing and validation for FUZZ_SECONDS (default 60) with
# cargo fuzz on nightly Rust.
fuzz:
	bash scripts/fuzz.sh

# Benchmarks against DynamoDB Local; writes the README's Performance section.
bench:
	bash scripts/bench.sh

# Installs every tool into .tools/: cargo-lambda, DynamoDB Local, schemathesis,
# aws-sam-cli (each target installs what it needs on its own).
tools:
	WITH_SCHEMATHESIS=1 WITH_SAM=1 bash scripts/bootstrap.sh

# The web client and the API reference page, into web/dist (when changed).
web:
	bash scripts/web.sh

clean-tools:
	rm -rf .tools
