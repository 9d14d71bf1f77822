#!/usr/bin/env bash
# Makes sure headless Chromium is there for the test that renders the HTML report (Debian's
# `chromium` package). Idempotent: a chromium already on PATH, or TOLLGATE_CHROMIUM, is used as it
# is. Installing needs root and apt-get; without them this prints what to run and exits 0, and the
# report test then fails saying the same.
set -euo pipefail

say() { printf 'setup: %s\n' "$*" >&2; }

if [ -n "${TOLLGATE_CHROMIUM:-}" ] || command -v chromium >/dev/null || command -v chromium-browser >/dev/null || command -v google-chrome >/dev/null; then
    exit 0
fi
if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
    say "installing Debian's chromium package (headless Chromium checks the HTML report)"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null \
        || { say "error: could not install chromium; run 'apt-get install chromium' and re-run"; exit 1; }
    exit 0
fi
say "headless Chromium is missing and this shell cannot install it: run 'sudo apt-get install chromium' (or set TOLLGATE_CHROMIUM) before 'make test'"
