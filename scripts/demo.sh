#!/usr/bin/env bash
# The demo: scaffold the example into a temp directory and run it through tollgate on the real
# engine. Run it through `make demo`, which installs the engine and builds tollgate first.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export TOLLGATE_TOOLS="${TOLLGATE_TOOLS:-$ROOT/.tools}"
TOLLGATE="${TOLLGATE_BINARY:-$ROOT/.build/debug/tollgate}"
DEMO_ROOT="$(mktemp -d "${TMPDIR:-/tmp}/tollgate-demo.XXXXXX")"
export TOLLGATE_CACHE_DIR="$DEMO_ROOT/cache"

if [ -t 1 ] && [ -z "${NO_COLOR:-}" ] && [ -z "${CI:-}" ]; then bold=$'\033[1m' plain=$'\033[0m'; else bold='' plain=''; fi
step() { printf '\n%s$ %s%s\n' "$bold" "$*" "$plain"; }
run() { step "$*"; "$@"; }

"$TOLLGATE" demo --dir "$DEMO_ROOT"
