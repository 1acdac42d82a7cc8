#!/usr/bin/env bash
# Demo: write a dev config (fresh keys, hashed API tokens, SQLite store) into a temp dir,
# start a sqlgate server on a free 127.0.0.1 port, wait until its gRPC health check says
# SERVING, check examples/migrations as alice (author), show the signed verdict id,
# approve it as bob (approver), then stop the server. The check's exit code is printed,
# not treated as a failure: the examples contain a risky change on purpose.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
PY=.venv/bin/python
SQLGATE=.venv/bin/sqlgate

DEV_DIR=$(mktemp -d -t sqlgate-demo.XXXXXX)
"$SQLGATE" dev-config --dir "$DEV_DIR" >/dev/null
# shellcheck disable=SC1091
set -a; . "$DEV_DIR/tokens.env"; set +a
CONFIG_ARGS=(--config "$DEV_DIR/config.yaml")

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
  rm -rf "$DEV_DIR"
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
echo "== as alice: sqlgate check --server $ADDR --env production examples/migrations"
set +e
SQLGATE_TOKEN=$SQLGATE_TOKEN_ALICE "$SQLGATE" check --server "$ADDR" --env production --target main-db examples/migrations
code=$?
echo "== exit code: $code (0 allow, 1 deny, 3 needs approval, 2 usage/input error)"
set -e
RESULT=$(SQLGATE_TOKEN=$SQLGATE_TOKEN_ALICE "$SQLGATE" check --server "$ADDR" --env production --target main-db --format json examples/migrations || true)
VERDICT=$(printf '%s' "$RESULT" | "$PY" -c 'import json, sys; print(json.load(sys.stdin)["verdict_id"])')
echo "== signed verdict: $VERDICT"
echo
echo "== as bob: sqlgate approve $VERDICT --reason ..."
set +e
SQLGATE_TOKEN=$SQLGATE_TOKEN_BOB "$SQLGATE" approve "$VERDICT" --server "$ADDR" --reason "reviewed: invoices is small, off-peak window"
code=$?
set -e
echo "== approve exit code: $code"
[ "$code" -eq 0 ] || { echo "approval did not yield an allowed verdict"; cat "$LOG"; exit 1; }

echo
echo "== stopping the server"
kill -TERM "$SERVER_PID"
wait "$SERVER_PID" || true
echo "== done"
exit 0
