#!/usr/bin/env bash
# Installs tollgate under a prefix: the binary, its man pages and its shell completions.
#
#   scripts/install.sh PREFIX [CONFIGURATION]      (make install PREFIX=/usr/local)
#
#   PREFIX/bin/tollgate
#   PREFIX/share/man/man1/tollgate.1, tollgate.promote.1, … (one page per command)
#   PREFIX/share/bash-completion/completions/tollgate
#   PREFIX/share/zsh/site-functions/_tollgate
#   PREFIX/share/fish/vendor_completions.d/tollgate.fish
#
# CONFIGURATION is release (the default) or debug. The man pages are generated from the command
# definitions by swift-argument-parser's manual generator (its `generate-manual` package plugin),
# the completions by the binary itself (`--generate-completion-script`). Everything is built
# offline from the resolved packages. DESTDIR, when set, is put in front of PREFIX (for packaging).
set -euo pipefail

prefix="${1:?usage: scripts/install.sh PREFIX [release|debug]}"
configuration="${2:-release}"
case "$configuration" in
  release|debug) ;;
  *) echo "install: the configuration is 'release' or 'debug', not '$configuration'" >&2; exit 64 ;;
esac
case "$prefix" in
  /*) ;;
  *) echo "install: PREFIX must be an absolute path, not '$prefix'" >&2; exit 64 ;;
esac
root="${DESTDIR:-}$prefix"
cd "$(dirname "${BASH_SOURCE[0]}")/.."

echo "install: building tollgate ($configuration)" >&2
swift build -c "$configuration" --product tollgate
binary="$(swift build -c "$configuration" --show-bin-path)/tollgate"

# The plugin documents every executable product, the test-clock harness among them, and that
# harness refuses to start without a pinned time; its pages are generated and left out.
echo "install: generating the man pages" >&2
TOLLGATE_TEST_NOW=2000-01-01T00:00:00Z swift package generate-manual --configuration "$configuration" --multi-page >&2
pages=".build/plugins/GenerateManual/outputs/tollgate"
if ! compgen -G "$pages/tollgate*.1" >/dev/null; then
  echo "install: the manual generator wrote no pages into $pages" >&2
  exit 1
fi

install -d "$root/bin" "$root/share/man/man1" "$root/share/bash-completion/completions" \
  "$root/share/zsh/site-functions" "$root/share/fish/vendor_completions.d"
install -m 0755 "$binary" "$root/bin/tollgate"
install -m 0644 "$pages"/tollgate*.1 "$root/share/man/man1/"
"$binary" --generate-completion-script bash > "$root/share/bash-completion/completions/tollgate"
"$binary" --generate-completion-script zsh > "$root/share/zsh/site-functions/_tollgate"
"$binary" --generate-completion-script fish > "$root/share/fish/vendor_completions.d/tollgate.fish"
echo "install: installed $root/bin/tollgate, $(find "$root/share/man/man1" -name 'tollgate*.1' | wc -l) man pages and bash, zsh and fish completions" >&2
