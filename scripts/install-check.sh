#!/usr/bin/env bash
# Checks `make install` end to end, into a throw-away prefix: the binary runs, every command of the
# binary has a man page that man(1) renders without a warning, and the completions load.
#
#   scripts/install-check.sh [CONFIGURATION]     (default debug: `make test` has built it)
set -euo pipefail
configuration="${1:-debug}"
cd "$(dirname "${BASH_SOURCE[0]}")/.."
prefix="$(mktemp -d "${TMPDIR:-/tmp}/tollgate-install.XXXXXX")"
trap 'rm -rf "$prefix"' EXIT
fail() { echo "install-check: $*" >&2; exit 1; }

scripts/install.sh "$prefix" "$configuration" 2>"$prefix.log" || { cat "$prefix.log" >&2; rm -f "$prefix.log"; fail "scripts/install.sh failed"; }
rm -f "$prefix.log"

version="$("$prefix/bin/tollgate" --version)" || fail "the installed binary does not run"
[ -n "$version" ] || fail "the installed binary printed no version"

# One page per command, named as the generator names them (tollgate.ledger.rotate-key.1).
expected="$("$prefix/bin/tollgate" --experimental-dump-help | python3 -c '
import json, sys
def walk(command, names):
    yield ".".join(names)
    for sub in command.get("subcommands", []):
        yield from walk(sub, names + [sub["commandName"]])
print("\n".join(sorted(walk(json.load(sys.stdin)["command"], ["tollgate"]))))')"
installed="$(cd "$prefix/share/man/man1" && ls tollgate*.1 | sed 's/\.1$//' | sort)"
[ "$expected" = "$installed" ] || fail "the man pages are not one per command: $(diff <(echo "$expected") <(echo "$installed") | tr '\n' ' ')"
for page in "$prefix"/share/man/man1/*.1; do
  warnings="$(groff -mandoc -Tutf8 -ww -z "$page" 2>&1)" || fail "groff cannot render $page: $warnings"
  [ -z "$warnings" ] || fail "groff warns on $page: $warnings"
done
MANPATH="$prefix/share/man" man -P cat tollgate.promote 2>/dev/null | grep -q "Plan, gate and apply a release" \
  || fail "man tollgate.promote does not find the installed page"

completion="$prefix/share/bash-completion/completions/tollgate"
bash -c "source '$completion' && complete -p tollgate" >/dev/null || fail "the bash completion does not register for tollgate"
head -1 "$prefix/share/zsh/site-functions/_tollgate" | grep -q '^#compdef tollgate' || fail "the zsh completion has no '#compdef tollgate' header"
grep -q "^complete -c 'tollgate' " "$prefix/share/fish/vendor_completions.d/tollgate.fish" || fail "the fish completion completes nothing for tollgate"
echo "install-check: $(echo "$installed" | wc -l) man pages, bash, zsh and fish completions, and $version installed and working" >&2
