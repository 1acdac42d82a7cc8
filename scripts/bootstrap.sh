#!/usr/bin/env bash
# Create .venv (if missing) and install sqlgate with its dev tools into it. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
stamp=.venv/.sqlgate-installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  .venv/bin/python -m pip install --quiet --upgrade pip
  .venv/bin/python -m pip install --quiet -e ".[dev]"
  touch "$stamp"
fi
# OPA 1.20 in-process for the parity tests (tests/policy/test_opa_parity.py); the wheel
# declares Python >= 3.14 but works on 3.11. Not a runtime dependency of sqlgate.
if ! .venv/bin/python -c "import opa_bindings" 2>/dev/null; then
  .venv/bin/python -m pip install --quiet --ignore-requires-python "opa-golib-python-bindings==0.4.4"
fi
