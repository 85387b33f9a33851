#!/usr/bin/env bash
# A sustained, bounded soak of the HTTP layer on 127.0.0.1 (examples/soak.rs): valid and
# hostile requests mixed, memory sampled, statuses counted; exits non-zero on a 5xx, a refused
# valid token, an accepted hostile one, or memory growth. Not part of CI; SECURITY.md records
# the latest run.
#
#   scripts/soak.sh [SECONDS] [extra flags for the example]
set -euo pipefail
cd "$(dirname "$0")/.."

secs="${1:-70}"
shift || true
cargo build --release --example soak
# Low priority: the machine may be running benchmarks too.
exec nice -n 10 "${CARGO_TARGET_DIR:-target}/release/examples/soak" --secs "$secs" "$@"
