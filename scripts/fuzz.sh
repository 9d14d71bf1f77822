#!/usr/bin/env bash
# libFuzzer over tollgate's parsers of untrusted bytes (the package under fuzz/, see docs/fuzzing.md).
#
#   scripts/fuzz.sh                  # every target, FUZZ_RUNS executions each (default 1000000)
#   scripts/fuzz.sh --smoke          # every target, FUZZ_SMOKE_RUNS executions each (default 3000)
#   scripts/fuzz.sh plan sshsig      # only these targets
#
# It builds the targets once with `-sanitize=fuzzer,address` into .build/fuzz (its own scratch
# path, so the main build is untouched): optimised for the long run, a debug build (much quicker to
# compile) for the smoke; FUZZ_CONFIGURATION=debug|release picks one. Then it replays every input
# under fuzz/regressions/TARGET and fuzzes from the seeds in fuzz/corpus/TARGET. New inputs the
# fuzzer finds go to the git-ignored .build/fuzz/corpus/TARGET, so later runs start from them; a
# crashing input is written to .build/fuzz/crashes/TARGET/ and the log to .build/fuzz/logs/TARGET.log. Exits non-zero when any
# target crashed, hung (FUZZ_TIMEOUT seconds on one input, default 10) or failed to build.
# FUZZ_MAX_SECONDS, when set, also stops each target after that many seconds.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SCRATCH="$ROOT/.build/fuzz"
TARGETS=(hcl hcl-json plan pipeline allowed-signers sshsig)

# Seeds beyond fuzz/corpus/TARGET: the project's own fixtures, read where they live.
fixture_seeds() {
    case "$1" in
        hcl) echo "$ROOT/Tests/Fixtures/hcl/valid $ROOT/Tests/Fixtures/hcl/invalid" ;;
        plan) echo "$ROOT/Tests/Fixtures/plans/terraform-1.0.3 $ROOT/Tests/Fixtures/plans/terraform-1.11.4" ;;
    esac
}

say() { printf 'fuzz: %s\n' "$*" >&2; }
die() { printf 'fuzz: error: %s\n' "$*" >&2; exit 1; }

runs="${FUZZ_RUNS:-1000000}"
configuration=release
selected=()
for arg in "$@"; do
    case "$arg" in
        --smoke) runs="${FUZZ_SMOKE_RUNS:-3000}"; configuration=debug ;;
        -h|--help) sed -n '2,15p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
        -*) die "unknown option '$arg'; see 'scripts/fuzz.sh --help'" ;;
        *)
            [[ " ${TARGETS[*]} " == *" $arg "* ]] || die "unknown target '$arg'; the targets are: ${TARGETS[*]}"
            selected+=("$arg") ;;
    esac
done
[ "${#selected[@]}" -gt 0 ] || selected=("${TARGETS[@]}")
[[ "$runs" =~ ^[0-9]+$ ]] || die "FUZZ_RUNS must be a whole number, not '$runs'"
configuration="${FUZZ_CONFIGURATION:-$configuration}"
[[ "$configuration" =~ ^(debug|release)$ ]] || die "FUZZ_CONFIGURATION must be debug or release, not '$configuration'"

build=(swift build -c "$configuration" --package-path "$ROOT/fuzz" --scratch-path "$SCRATCH" -Xswiftc -sanitize=fuzzer,address)
say "building the fuzz targets: ${build[*]}"
started=$SECONDS
"${build[@]}" >&2 || die "the fuzz targets did not build"
say "built in $((SECONDS - started)) s"
bin="$("${build[@]}" --show-bin-path)"

# Leak reports would come from the Swift runtime's caches, not from the parsers.
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=0}"

failed=()
summary=()
for target in "${selected[@]}"; do
    exe="$bin/fuzz-$target"
    logs="$SCRATCH/logs" crashes="$SCRATCH/crashes/$target/" corpus="$SCRATCH/corpus/$target"
    mkdir -p "$logs" "$crashes" "$corpus"
    log="$logs/$target.log"

    regressions=()
    if [ -d "$ROOT/fuzz/regressions/$target" ]; then
        while IFS= read -r -d '' file; do regressions+=("$file"); done \
            < <(find "$ROOT/fuzz/regressions/$target" -type f -print0 | sort -z)
    fi
    if [ "${#regressions[@]}" -gt 0 ]; then
        if ! "$exe" -timeout="${FUZZ_TIMEOUT:-10}" "${regressions[@]}" >"$logs/$target-regressions.log" 2>&1; then
            say "$target: a regression input fails again; see $logs/$target-regressions.log"
            failed+=("$target")
            continue
        fi
        say "$target: ${#regressions[@]} regression input(s) pass"
    fi

    say "$target: $runs runs (log: $log)"
    status=0
    "$exe" -runs="$runs" -timeout="${FUZZ_TIMEOUT:-10}" -max_total_time="${FUZZ_MAX_SECONDS:-0}" -print_final_stats=1 \
        -artifact_prefix="$crashes" "$corpus" "$ROOT/fuzz/corpus/$target" $(fixture_seeds "$target") >"$log" 2>&1 || status=$?
    executed="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")"
    speed="$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")"
    if [ "$status" -ne 0 ]; then
        say "$target: failed (exit $status) after ${executed:-?} runs; the input is in $crashes:"
        grep -E '^(==[0-9]+==ERROR|SUMMARY|Fatal error|.*Fatal error)|^artifact_prefix|Test unit written' "$log" | head -5 >&2 || true
        failed+=("$target")
    fi
    summary+=("$(printf '%-16s %10s runs %8s exec/s  %s' "$target" "${executed:-?}" "${speed:-?}" \
        "$([ "$status" -eq 0 ] && echo ok || echo FAILED)")")
done

printf '%s\n' "${summary[@]}" >&2
[ "${#failed[@]}" -eq 0 ] || die "failed: ${failed[*]}"
