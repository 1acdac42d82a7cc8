#!/usr/bin/env bash
# The policies under real OPA (0.61, ../shared/tools/opa, or $OPA): they must load with
# `opa check --strict`, be `opa fmt`-clean, and pass `opa test` as a bundle built by
# `sqlgate policy build` (data mounted where the policies read it), so the Rego that
# security teams edit with OPA's own tools is the Rego sqlgate runs. Missing OPA fails.
set -euo pipefail
cd "$(dirname "$0")/.."
opa=${OPA:-../shared/tools/opa}
if [ ! -x "$opa" ]; then
  echo "policy_check: OPA not found at $opa (set OPA=/path/to/opa)" >&2
  exit 1
fi
echo "== opa check --strict"; "$opa" check --strict policies/
echo "== opa fmt --list"
unformatted=$("$opa" fmt --list policies/)
if [ -n "$unformatted" ]; then
  echo "not opa-fmt formatted (run: $opa fmt -w policies/):" >&2
  echo "$unformatted" >&2
  exit 1
fi
echo "== opa test (bundle with tests)"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
.venv/bin/sqlgate policy build policies --with-tests -o "$tmp/bundle.tar.gz" >/dev/null
"$opa" test --bundle "$tmp/bundle.tar.gz"
