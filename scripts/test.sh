#!/usr/bin/env bash
# The whole test suite, as the README documents it and CI runs it:
# installs what is missing, builds every component for wasm32-wasip2 (the
# console's web assets first), checks formatting and lints, then runs every
# unit and end-to-end test (the latter start the platform on the embedded
# host, on SQLite and on Redis) and the console's browser tests.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

step "system packages"
scripts/install-deps.sh

step "wasm components"
scripts/build-wasm.sh

step "formatting (cargo fmt --check)"
cargo fmt --all -- --check

step "lints (cargo clippy -D warnings)"
cargo clippy --workspace --all-targets --locked -- -D warnings

# The worker uses every runtime, so the workspace builds qmarket-runtime with
# all its features: its WASM, Python (real pip installs, sandboxed
# executions) and Docker tests run here too.
step "tests"
cargo test --workspace --locked "$@"

# The web console in Debian's Chromium, against the platform (`qmarket up`)
# and a worker that the tests start themselves. They run target/debug/qmarket
# as the test build made it: `cargo test --no-run` with the same workspace
# resolves the same features, so it builds nothing when the tests ran whole
# (`cargo build -p qmarket` alone resolves fewer and would compile wasmtime's
# code generator a second time).
step "browser tests of the web console (node --test)"
cargo test --workspace --locked --no-run
(cd components/console/web && npm run --silent test:browser)
