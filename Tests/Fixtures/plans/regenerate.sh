#!/usr/bin/env bash
# Regenerates the Terraform plan JSON fixtures in this directory.
#
# For every fixture below and every engine, in a throw-away temp directory
# (local backend, local state, offline provider install from a filesystem
# mirror):
#   1. copy src/<scenario>/apply/ (if present), init, apply it;
#   2. pipe the state through src/<scenario>/edit-state.jq (if present) and
#      push it back (out-of-band state edit);
#   3. swap in src/<scenario>/plan/ (defaults to apply/), init, then
#      `terraform plan -out=PLANFILE [extra args]`;
#   4. `terraform show -json PLANFILE > terraform-<version>/<fixture>.json`
#      (raw bytes, exactly as Terraform wrote them).
#
# Usage: Tests/Fixtures/plans/regenerate.sh [ENGINE_BINARY...]
#
# Environment:
#   TOLLGATE_TOOLS     tools dir; default <repo>/.tools. The provider mirror is
#                      $TOLLGATE_TOOLS/mirror (hashicorp/null 2.1.2 inside).
#   TERRAFORM          primary engine; default `terraform` on PATH.
#   ONLY               comma-separated fixture names: regenerate just those.
#   TERRAFORM_LEGACY   second engine; default $TOLLGATE_TOOLS/terraform-1.0.3/terraform.
#                      Set to empty to skip it.
# Positional ENGINE_BINARY arguments replace both defaults.
# Output goes to terraform-<version reported by the engine>/ next to this script.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../../.." && pwd)"
tools="${TOLLGATE_TOOLS:-$repo/.tools}"
mirror="$tools/mirror"
src="$here/src"

if [ "$#" -gt 0 ]; then
  engines=("$@")
else
  engines=("${TERRAFORM:-terraform}")
  legacy="${TERRAFORM_LEGACY-$tools/terraform-1.0.3/terraform}"
  if [ -n "$legacy" ]; then engines+=("$legacy"); fi
fi

# fixture name | scenario dir under src/ | extra `terraform plan` arguments | least engine version |
# "errored" when the plan is meant to fail (its saved plan file is still shown)
fixtures=(
  "create|create|"
  "update|update|"
  "replace|replace|-replace=null_resource.forced"
  "delete|delete|"
  "outputs|outputs|"
  "sensitive|sensitive|"
  "empty|empty|"
  "drift|drift|"
  "drift-refresh-only|drift|-refresh-only"
  "targeted|create|-target=null_resource.a"
  "moved-checks|moved-checks||1.5"
  "import|import||1.5"
  "errored|errored||1.5|errored"
)

if [ ! -d "$mirror/registry.terraform.io/hashicorp/null/2.1.2" ]; then
  echo "error: provider mirror not found at $mirror (set TOLLGATE_TOOLS)" >&2
  exit 1
fi

tmp="$(mktemp -d "${TMPDIR:-/tmp}/tollgate-plan-fixtures.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT

# Our own CLI config: offline install from the mirror only, nothing else.
cat >"$tmp/cli.tfrc" <<EOF
provider_installation {
  filesystem_mirror {
    path    = "$mirror"
    include = ["registry.terraform.io/*/*"]
  }
}
EOF
export TF_CLI_CONFIG_FILE="$tmp/cli.tfrc"
export TF_IN_AUTOMATION=1
export CHECKPOINT_DISABLE=1
unset TF_DATA_DIR TF_WORKSPACE TF_PLUGIN_CACHE_DIR TF_LOG TF_LOG_PATH \
  TF_CLI_ARGS TF_CLI_ARGS_init TF_CLI_ARGS_plan TF_CLI_ARGS_apply TF_CLI_ARGS_show
while IFS= read -r v; do unset "$v"; done < <(compgen -e | grep '^TF_VAR_' || true)

log() { printf '%s\n' "$*" >&2; }

# run TF LOGFILE ARGS... : run quietly, dump the log on failure.
run() {
  local tf="$1" logf="$2"
  shift 2
  if ! "$tf" "$@" >>"$logf" 2>&1; then
    log "error: $tf $* failed; log follows"
    cat "$logf" >&2
    return 1
  fi
}

# Replace the configuration in WORK with the contents of DIR, keeping
# .terraform/, the lock file and the state.
load_config() {
  local dir="$1" work="$2"
  find "$work" -mindepth 1 -maxdepth 1 \
    ! -name .terraform ! -name .terraform.lock.hcl \
    ! -name 'terraform.tfstate*' ! -name '*.log' \
    -exec rm -rf {} +
  cp -R "$dir/." "$work/"
}

timed_init() {
  local tf="$1" logf="$2" t0 t1
  t0=$(date +%s.%N)
  run "$tf" "$logf" init -input=false -no-color
  t1=$(date +%s.%N)
  log "    init: $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2fs", b - a }')"
}

for tf in "${engines[@]}"; do
  version="$("$tf" version -json | python3 -c 'import json,sys; print(json.load(sys.stdin)["terraform_version"])')"
  out="$here/terraform-$version"
  mkdir -p "$out"
  log "== $tf (Terraform $version) -> ${out#"$repo"/}"

  for spec in "${fixtures[@]}"; do
    IFS='|' read -r name scenario extra least outcome <<<"$spec"
    if [ -n "${ONLY:-}" ] && [[ ",$ONLY," != *",$name,"* ]]; then continue; fi
    if [ -n "${least:-}" ] && [ "$(printf '%s\n%s\n' "$least" "$version" | sort -V | head -1)" != "$least" ]; then
      log "  $name: skipped (needs Terraform $least)"
      continue
    fi
    sdir="$src/$scenario"
    work="$tmp/$version/$name"
    logf="$tmp/$version-$name.log"
    mkdir -p "$work"
    log "  $name"
    extra_args=()
    if [ -n "$extra" ]; then read -r -a extra_args <<<"$extra"; fi

    (
      cd "$work"
      if [ -d "$sdir/apply" ]; then
        load_config "$sdir/apply" "$work"
        timed_init "$tf" "$logf"
        run "$tf" "$logf" apply -input=false -no-color -auto-approve
      fi
      if [ -f "$sdir/edit-state.jq" ]; then
        "$tf" state pull >"$tmp/state.json"
        jq -f "$sdir/edit-state.jq" "$tmp/state.json" >"$tmp/state-edited.json"
        run "$tf" "$logf" state push "$tmp/state-edited.json"
      fi
      plan_dir="$sdir/plan"
      [ -d "$plan_dir" ] || plan_dir="$sdir/apply"
      load_config "$plan_dir" "$work"
      timed_init "$tf" "$logf"
      if [ "${outcome:-}" = errored ]; then
        if "$tf" plan -input=false -no-color -out="$work/plan.tfplan" ${extra_args[@]+"${extra_args[@]}"} >>"$logf" 2>&1; then
          log "error: $name was meant to fail to plan, and it planned"
          exit 1
        fi
        [ -f "$work/plan.tfplan" ] || { log "error: $name saved no plan file"; cat "$logf" >&2; exit 1; }
      else
        run "$tf" "$logf" plan -input=false -no-color -out="$work/plan.tfplan" \
          ${extra_args[@]+"${extra_args[@]}"}
      fi
      "$tf" show -json -no-color "$work/plan.tfplan" >"$out/$name.json"
    )
  done
done

log "verifying actions"
python3 "$here/verify.py"
