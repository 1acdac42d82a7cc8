#!/usr/bin/env bash
# Static checks: ruff (lint + format), mypy --strict on hand-written code, buf lint on
# the protos, a regenerate-and-diff check on the committed gRPC stubs, and the policies
# under real OPA (scripts/policy_check.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
bin=.venv/bin
echo "== ruff check";  "$bin/ruff" check .
echo "== ruff format"; "$bin/ruff" format --check .
echo "== mypy --strict"; "$bin/mypy"
echo "== buf lint";    (cd proto && "../$bin/buf" lint)
echo "== generated stubs"; "$bin/python" scripts/gen_proto.py --check
bash scripts/policy_check.sh
echo "== CI files vs their schemas"
"$bin/check-jsonschema" --builtin-schema vendor.github-workflows deploy/github-actions/sqlgate.yml
"$bin/check-jsonschema" --builtin-schema vendor.github-actions action.yml
"$bin/check-jsonschema" --builtin-schema vendor.gitlab-ci deploy/gitlab-ci/.gitlab-ci.yml
"$bin/check-jsonschema" --builtin-schema vendor.compose-spec deploy/compose.yaml
echo "lint: all checks passed"
