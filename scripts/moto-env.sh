#!/usr/bin/env bash
# Run a command against a freshly provisioned moto Cognito IdP emulator.
#
# Usage: scripts/moto-env.sh -- COMMAND [ARGS...]
#
#   1. Ensures a Python venv in target/moto-venv with the pinned packages of
#      scripts/moto-requirements.txt (rebuilt when that file or the Python
#      version changes).
#   2. Starts `moto_server` on a free 127.0.0.1 port, log in
#      target/moto-server.log, and waits (at most 60 s) until it answers HTTP.
#   3. Runs scripts/moto_provision.py, which writes target/moto-tokens.json.
#   4. Runs COMMAND ARGS... (in the caller's working directory) with
#        MOTO_TOKENS_FILE  absolute path of the tokens JSON file
#        MOTO_ENDPOINT     http://127.0.0.1:PORT
#        MOTO_PID          pid of moto_server (a test may kill it on purpose)
#      exported, and exits with COMMAND's exit status.
#   5. Always stops moto_server on exit, failure or interrupt.
#
# Environment: MOTO_PYTHON  interpreter used to create the venv (default python3).
# Progress lines go to stderr so COMMAND's stdout stays clean.

if [[ "${BASH_SOURCE[0]}" != "$0" ]]; then
    echo "moto-env.sh: run it, do not source it: scripts/moto-env.sh -- COMMAND [ARGS...]" >&2
    return 2
fi

set -euo pipefail

usage() {
    echo "usage: $0 -- COMMAND [ARGS...]" >&2
    exit 2
}

[[ $# -ge 2 && $1 == "--" ]] || usage
shift

CALLER_DIR=$PWD
ROOT=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd -P)
cd "$ROOT"

TARGET=$ROOT/target
VENV=$TARGET/moto-venv
REQUIREMENTS=$ROOT/scripts/moto-requirements.txt
PROVISION=$ROOT/scripts/moto_provision.py
STAMP=$VENV/.requirements.sha256
SERVER_LOG=$TARGET/moto-server.log
TOKENS=$TARGET/moto-tokens.json
PYTHON=${MOTO_PYTHON:-python3}
READY_TIMEOUT=60

# Never send loopback traffic through an HTTP proxy from the environment.
export NO_PROXY="127.0.0.1,localhost${NO_PROXY:+,$NO_PROXY}"
export no_proxy="127.0.0.1,localhost${no_proxy:+,$no_proxy}"

# --- progress output --------------------------------------------------------

now_us() {
    local t=${EPOCHREALTIME/[.,]/}
    echo "$((10#$t))"
}

elapsed() { # elapsed START_US -> "12.3s"
    local d=$((($(now_us) - $1) / 100000))
    printf '%d.%ds' $((d / 10)) $((d % 10))
}

log() { echo "moto: $*" >&2; }

# --- cleanup ------------------------------------------------------------------

MOTO_PID=""

# True while PID is a live (not zombie) moto_server process.  Checking the
# command line avoids signalling an unrelated process that reused the PID
# after a test killed moto_server itself.
server_alive() {
    local line
    line=$(ps -o stat=,args= -p "$1" 2>/dev/null) || return 1
    [[ $line != Z* && $line == *moto_server* ]]
}

stop_server() {
    local pid=$MOTO_PID i
    [[ -n $pid ]] || return 0
    MOTO_PID=""
    if server_alive "$pid"; then
        kill -TERM "$pid" 2>/dev/null || true
        for ((i = 0; i < 50; i++)); do
            server_alive "$pid" || break
            sleep 0.1
        done
        if server_alive "$pid"; then
            log "moto_server (pid $pid) ignored SIGTERM, sending SIGKILL"
            kill -KILL "$pid" 2>/dev/null || true
        fi
    fi
    wait "$pid" 2>/dev/null || true
}

on_exit() {
    local rc=$?
    trap - EXIT INT TERM HUP
    set +e
    stop_server
    exit "$rc"
}

trap on_exit EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

mkdir -p "$TARGET"

# --- 1. venv ------------------------------------------------------------------

t0=$(now_us)
want=$({
    sha256sum <"$REQUIREMENTS"
    "$PYTHON" -c 'import sys; print(sys.version)'
} | sha256sum | cut -d' ' -f1)

# Serialise venv creation between concurrent runs.
exec 9>"$TARGET/moto-venv.lock"
if command -v flock >/dev/null 2>&1; then
    flock 9
fi

have=""
if [[ -x $VENV/bin/python && -f $STAMP ]]; then
    have=$(<"$STAMP")
fi

if [[ $have != "$want" ]]; then
    log "creating venv in target/moto-venv (pip install, may take a minute)"
    rm -rf "$VENV"
    "$PYTHON" -m venv "$VENV"
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check \
        --no-input -r "$REQUIREMENTS"
    echo "$want" >"$STAMP"
    log "venv ready ($(elapsed "$t0"))"
else
    log "venv up to date ($(elapsed "$t0"))"
fi
exec 9>&-

# --- 2. free port ---------------------------------------------------------------

PORT=$("$VENV/bin/python" -c '
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()
')
ENDPOINT="http://127.0.0.1:$PORT"

# --- 3. moto_server -----------------------------------------------------------

# If this script is killed outright (SIGKILL, e.g. by a test harness timeout)
# the EXIT trap cannot run; where setpriv offers it, a parent-death signal
# stops moto_server anyway.  setpriv execs, so $! is still moto_server's pid.
LAUNCH=()
if command -v setpriv >/dev/null 2>&1 && setpriv --help 2>/dev/null | grep -q -- --pdeathsig; then
    LAUNCH=(setpriv --pdeathsig TERM --)
fi

t0=$(now_us)
"${LAUNCH[@]}" "$VENV/bin/moto_server" -H 127.0.0.1 -p "$PORT" </dev/null >"$SERVER_LOG" 2>&1 &
MOTO_PID=$!

if ! "$VENV/bin/python" - "$ENDPOINT" "$MOTO_PID" "$READY_TIMEOUT" <<'PY'; then
import os, sys, time, urllib.error, urllib.request

endpoint, pid, timeout = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
deadline = time.monotonic() + timeout

def alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False
    except OSError:
        try:
            os.kill(pid, 0)
            return True
        except OSError:
            return False

opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
while True:
    try:
        opener.open(endpoint + "/moto-api/data.json", timeout=2).read()
        sys.exit(0)
    except urllib.error.HTTPError:
        sys.exit(0)  # any HTTP answer means the server is up
    except OSError:
        pass
    if not alive(pid):
        print("moto: moto_server exited during start-up", file=sys.stderr)
        sys.exit(1)
    if time.monotonic() >= deadline:
        print(f"moto: moto_server did not answer within {timeout:.0f}s", file=sys.stderr)
        sys.exit(1)
    time.sleep(0.1)
PY
    log "last lines of target/moto-server.log:"
    tail -n 20 "$SERVER_LOG" >&2 || true
    exit 1
fi
log "server up on $ENDPOINT, pid $MOTO_PID ($(elapsed "$t0"))"

# --- 4. provisioning ----------------------------------------------------------

t0=$(now_us)
rm -f "$TOKENS"
"$VENV/bin/python" "$PROVISION" --endpoint "$ENDPOINT" --out "$TOKENS"
log "provisioned target/moto-tokens.json ($(elapsed "$t0"))"

# --- 5. the command -----------------------------------------------------------

export MOTO_TOKENS_FILE=$TOKENS
export MOTO_ENDPOINT=$ENDPOINT
export MOTO_PID

cd "$CALLER_DIR"
t0=$(now_us)
status=0
"$@" || status=$?
log "command exited with status $status ($(elapsed "$t0"))"
exit "$status"
