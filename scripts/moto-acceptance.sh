#!/usr/bin/env bash
# Acceptance against moto's Cognito IdP: tokens minted by an implementation we did not write,
# verified by examples/server.rs over real HTTP.
#
# Usage: scripts/moto-acceptance.sh
# Cold (venv created, pip download): about a minute and a half; warm: about 15 s plus the build.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "moto acceptance: building the server example and the acceptance tests" >&2
cargo build --all-features --example server
cargo test --all-features --test moto_acceptance --no-run
cargo test --all-features --test moto_run_time_pools --no-run
export SERVER_BIN="$PWD/target/debug/examples/server"

# The outage test stops moto, so it runs after the others, on its own.
scripts/moto-env.sh -- bash -c '
    set -e
    cargo test --all-features --test moto_acceptance -- --skip outage
    cargo test --all-features --test moto_run_time_pools
    cargo test --all-features --test moto_acceptance outage
'
