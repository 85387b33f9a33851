#!/usr/bin/env bash
# The revocation list shared through Redis, against a real redis-server that each test starts
# on 127.0.0.1 (tests/redis_revocation.rs). Installs Debian's redis-server when it is missing.
#
# Usage: scripts/redis-tests.sh [test name filter]
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ -z "${REDIS_SERVER:-}" ]] && ! command -v redis-server >/dev/null; then
    echo "redis tests: installing Debian's redis-server" >&2
    sudo=()
    [[ $(id -u) -eq 0 ]] || sudo=(sudo)
    "${sudo[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends redis-server >/dev/null
fi
# The package's own service is not needed: each test starts its own server on a free port.
cargo build --all-features --example server
cargo test --all-features --test redis_revocation -- "$@"
