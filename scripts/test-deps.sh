#!/usr/bin/env bash
# Installs what the browser test needs from npm, into .test-deps/ (git-ignored):
#   axe-core   the accessibility rules the test runs on the print desk and the preview
# Only with WITH_BROWSER=1 (CI) or when npm is there; the browser test skips without it
# (and fails under CI, which must run it).
set -euo pipefail
cd "$(dirname "$0")/.."
AXE_VERSION=4.14.1   # pinned: a newer axe may add rules, and `make test` must not fail for that alone
target=.test-deps/node_modules/axe-core/axe.min.js
if [[ -f $target ]] && grep -q "axe v$AXE_VERSION" "$target" 2>/dev/null; then
  exit 0
fi
if ! command -v npm >/dev/null 2>&1; then
  [[ "${WITH_BROWSER:-0}" == 1 ]] && { echo "test-deps: npm is missing (scripts/system-deps.sh installs it)" >&2; exit 1; }
  exit 0
fi
echo "test-deps: installing axe-core $AXE_VERSION into .test-deps/"
npm install --prefix .test-deps --no-audit --no-fund --no-save --loglevel=error \
  "axe-core@$AXE_VERSION" >/dev/null
