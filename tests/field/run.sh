#!/usr/bin/env bash
# Runs the field page's browser tests (CTest: field_page_main, field_page_timeout).
#   run.sh SUITE SERVER_BIN SIM_BIN ARTIFACTS_DIR
# Needs Debian's chromium, node, npm and sqlite3 (installed here when missing and
# run as root), and playwright-core + ws from package-lock.json (npm ci).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)

need=()
[ -x /usr/bin/chromium ] || need+=(chromium)
command -v node >/dev/null || need+=(nodejs)
command -v npm >/dev/null || need+=(npm)
command -v sqlite3 >/dev/null || need+=(sqlite3)
# One installer at a time: ctest -j runs both suites at once.
exec 9>/tmp/anxin-field-setup.lock
flock 9
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "field tests: missing ${need[*]} (apt-get install -y ${need[*]})" >&2
    exit 1
  fi
  echo "field tests: installing ${need[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get update -q
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${need[@]}"
fi
if [ ! -f "$here/node_modules/playwright-core/package.json" ] || [ ! -f "$here/node_modules/ws/package.json" ]; then
  (cd "$here" && npm ci --no-audit --no-fund --loglevel=error)
fi
flock -u 9

cd "$here"
exec node --test-reporter=spec field.test.mjs "$@"
