#!/usr/bin/env bash
# Run Agon's browser tests: Debian's Chromium (/usr/bin/chromium) driven by playwright-core
# against the real binary and tests/fake_backend.py.
#   tests/browser/run.sh            (from anywhere; AGON_BIN defaults to build/agon)
# Needs: nodejs, npm, chromium, python3 (apt-get install nodejs npm chromium python3).
# Screenshots are written to tests/browser/artifacts/; with AGON_UPDATE_SCREENSHOTS=1 the
# desktop ones of both pages are also copied to docs/screenshots/ (linked from the README).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
cd "$repo"

export AGON_BIN="${AGON_BIN:-build/agon}"

if [ ! -d "$here/node_modules/playwright-core" ]; then
  (cd "$here" && npm ci --no-audit --no-fund)
fi

# The test files are listed explicitly (same set as `node --test tests/browser/`): newer
# Node versions take glob patterns rather than directories.
exec node --test tests/browser/*.test.mjs
