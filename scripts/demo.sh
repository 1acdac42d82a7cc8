#!/usr/bin/env bash
# Demo: start a sqlgate server on a free 127.0.0.1 port (embedded Rego policies from
# policies/), wait until its gRPC health check says SERVING, check examples/migrations
# through it as text and as JSON, then stop the server. The check's exit code is
# printed, not treated as a failure: the examples contain a risky change on purpose.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
PY=.venv/bin/python
SQLGATE=.venv/bin/sqlgate

# Hook for the next step of the trust chain: dev signing keys and a SQLite store will be
# generated here (at run time, never committed) and passed to `sqlgate serve --config`.
CONFIG_ARGS=()

PORT=$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
ADDR="127.0.0.1:$PORT"
LOG=$(mktemp -t sqlgate-demo.XXXXXX.log)

"$SQLGATE" serve --listen "$ADDR" "${CONFIG_ARGS[@]}" >"$LOG" 2>&1 &
SERVER_PID=$!
cleanup() {
  if kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  rm -f "$LOG"
}
trap cleanup EXIT

echo "== starting sqlgate on $ADDR"
"$PY" - "$ADDR" "$SERVER_PID" <<'PYEOF' || { echo "server did not become healthy:"; cat "$LOG"; exit 1; }
import os, sys, time
import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

addr, pid = sys.argv[1], int(sys.argv[2])
deadline = time.monotonic() + 60
with grpc.insecure_channel(addr) as channel:
    stub = health_pb2_grpc.HealthStub(channel)
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            sys.exit("server exited")
        try:
            status = stub.Check(health_pb2.HealthCheckRequest(service=""), timeout=1).status
            if status == health_pb2.HealthCheckResponse.SERVING:
                print("== health: SERVING")
                sys.exit(0)
        except grpc.RpcError:
            pass
        time.sleep(0.2)
sys.exit("timed out waiting for SERVING")
PYEOF

echo
echo "== sqlgate check --server $ADDR --env production examples/migrations"
set +e
"$SQLGATE" check --server "$ADDR" --env production --target main-db examples/migrations
code=$?
echo "== exit code: $code (0 allow, 1 deny, 3 needs approval, 2 usage/input error)"
echo
echo "== the same check, --format json"
"$SQLGATE" check --server "$ADDR" --env production --target main-db --format json examples/migrations
set -e

echo
echo "== stopping the server"
kill -TERM "$SERVER_PID"
wait "$SERVER_PID" || true
echo "== done"
exit 0
