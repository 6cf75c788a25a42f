#!/usr/bin/env bash
# A real S3-compatible server (moto, via scripts/s3_test_server.py) on 127.0.0.1 for the test suites, and a
# Python with pyarrow (CAUCE_TEST_PYTHON) to check our Parquet reads elsewhere.
#
#   scripts/s3-test-server.sh install   create .s3-venv with moto (idempotent)
#   scripts/s3-test-server.sh start     install if needed, start, create the bucket,
#                                       print the environment as `export` lines
#   scripts/s3-test-server.sh env       print the environment of the running server
#   scripts/s3-test-server.sh stop      stop it
#
# Typical use:  eval "$(scripts/s3-test-server.sh start)"; cargo test; scripts/s3-test-server.sh stop
# Progress goes to stderr; only the `export` lines go to stdout.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${CAUCE_S3_VENV:-$ROOT/.s3-venv}"
STATE="$ROOT/target/s3-test-server"
BUCKET="${CAUCE_TEST_S3_BUCKET:-cauce-test}"
PYTHON="${PYTHON:-python3}"

log() { echo "s3-test-server: $*" >&2; }

# moto is the S3 server; pyarrow lets tests check that other tools read our Parquet.
PACKAGES=('moto[s3]==5.2.5' 'flask>=3,<4' 'flask-cors>=6,<7' 'pyarrow==21.0.0')

install() {
    if [ -x "$VENV/bin/moto_server" ] && "$VENV/bin/python" -c 'import pyarrow' 2>/dev/null; then
        return
    fi
    log "installing moto and pyarrow into $VENV (about a minute)"
    "$PYTHON" -m venv "$VENV"
    "$VENV/bin/pip" install --quiet --disable-pip-version-check "${PACKAGES[@]}" >&2
}

running() {
    [ -f "$STATE/pid" ] && kill -0 "$(cat "$STATE/pid")" 2>/dev/null
}

print_env() {
    local port
    port="$(cat "$STATE/port")"
    cat <<ENV
export AWS_ENDPOINT_URL=http://127.0.0.1:$port
export AWS_ALLOW_HTTP=true
export AWS_ACCESS_KEY_ID=cauce-test
export AWS_SECRET_ACCESS_KEY=cauce-test
export AWS_REGION=us-east-1
export CAUCE_TEST_S3_BUCKET=$BUCKET
export CAUCE_TEST_PYTHON=$VENV/bin/python
ENV
}

# HTTP helper without curl (not every fresh machine has it): METHOD URL
http() {
    "$PYTHON" - "$1" "$2" <<'PY'
import sys, urllib.request
req = urllib.request.Request(sys.argv[2], method=sys.argv[1])
try:
    urllib.request.urlopen(req, timeout=2).read()
except Exception as e:
    sys.exit(f"{sys.argv[1]} {sys.argv[2]}: {e}")
PY
}

start() {
    if running; then
        print_env
        return
    fi
    install
    mkdir -p "$STATE"
    local port
    port="$("$PYTHON" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
    nohup "$VENV/bin/python" "$ROOT/scripts/s3_test_server.py" -H 127.0.0.1 -p "$port" >"$STATE/server.log" 2>&1 &
    echo $! >"$STATE/pid"
    echo "$port" >"$STATE/port"
    for _ in $(seq 1 100); do
        if http GET "http://127.0.0.1:$port/" 2>/dev/null; then
            http PUT "http://127.0.0.1:$port/$BUCKET"
            log "moto listening on 127.0.0.1:$port (pid $(cat "$STATE/pid")), bucket '$BUCKET'"
            print_env
            return
        fi
        if ! running; then
            break
        fi
        sleep 0.2
    done
    log "moto did not start; its log:"
    cat "$STATE/server.log" >&2
    stop
    exit 1
}

stop() {
    if running; then
        kill "$(cat "$STATE/pid")" 2>/dev/null || true
        log "stopped"
    fi
    rm -f "$STATE/pid" "$STATE/port"
}

case "${1:-}" in
    install) install ;;
    start) start ;;
    env)
        running || { log "not running (use: $0 start)"; exit 1; }
        print_env
        ;;
    stop) stop ;;
    *)
        echo "usage: $0 install|start|env|stop" >&2
        exit 2
        ;;
esac
