# The two commands of the quick start: `make demo` and `make test`. Both install what they need
# offline through scripts/setup-engine.sh (idempotent), then build with SwiftPM. `make test` also
# makes sure headless Chromium is there (scripts/setup-browser.sh) for the HTML report's test.
SHELL := /bin/bash
export TOLLGATE_TOOLS ?= $(CURDIR)/.tools

.PHONY: all setup build test demo bench clean fuzz fuzz-smoke install install-check

all: build

setup:
	@scripts/setup-engine.sh

build:
	swift build

# Every test: unit, adapter (real terraform, every engine setup found, a real PostgreSQL) and
# end-to-end (built binary). A throwaway PostgreSQL is started for the run and always stopped after
# it, keeping the tests' exit status; a TOLLGATE_TEST_DATABASE_URL already set is used as it is.
# Then `make install` into a temporary prefix (scripts/install-check.sh), and the fuzz smoke: a few
# thousand runs of each fuzz target, and every saved regression input.
test: setup
	@scripts/setup-browser.sh
	swift build --build-tests
	@if [ -z "$${TOLLGATE_TEST_DATABASE_URL:-}" ]; then \
		TOLLGATE_TEST_DATABASE_URL="$$(scripts/pg-test-server.sh start)" || exit 1; \
		export TOLLGATE_TEST_DATABASE_URL; \
		trap 'scripts/pg-test-server.sh stop' EXIT; \
	fi; \
	TOLLGATE_TEST_ENGINES="$$(paste -sd: $(TOLLGATE_TOOLS)/engines)" swift test --skip-build
	@scripts/install-check.sh debug
	@scripts/fuzz.sh --smoke

# The binary, a man page per command (share/man/man1) and bash, zsh and fish completions under
# PREFIX; CONFIGURATION=debug installs the debug build. `install-check` installs into a temporary
# prefix and checks what it installed (`test` runs it on the debug build).
PREFIX ?= /usr/local
CONFIGURATION ?= release
install:
	@scripts/install.sh "$(PREFIX)" "$(CONFIGURATION)"

install-check:
	@scripts/install-check.sh "$(CONFIGURATION)"

# libFuzzer over the parsers of untrusted bytes (docs/fuzzing.md): FUZZ_RUNS executions per target
# (default 1000000); fails when any target crashes or hangs. `fuzz-smoke` is the short run `test` ends with.
fuzz:
	@scripts/fuzz.sh

fuzz-smoke:
	@scripts/fuzz.sh --smoke

# Every benchmark under bench/ on the release build, then one table of ratios with their targets.
bench: setup
	swift build -c release --product tollgate
	@TOLLGATE_BINARY="$(CURDIR)/.build/release/tollgate" bench/all

demo: setup build
	@scripts/demo.sh

clean:
	rm -rf .build .tollgate/work
