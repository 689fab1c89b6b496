#!/usr/bin/env bash
# Prepare an offline Terraform toolchain for the kit's checks (never for users' applies).
#
#   * terraform CLI: the one on PATH when it is >= 1.7, else built once from its Go module.
#   * google provider: an offline stand-in built once from the newest
#     hashicorp/terraform-provider-google source the Go module proxy serves (a 4.9.0
#     development commit) plus the few schema fields the kit uses from the current provider
#     (terraform/offline/patch_google_provider.py explains why and what).
#   * a CLI config (tests only, via TF_CLI_CONFIG_FILE) whose filesystem mirror holds the
#     stand-in; users keep the normal registry and get the release pinned in versions.tf.
#
# Everything lands in ${AIRFLOW_GCP_KIT_CACHE:-~/.cache/airflow-gcp-kit}; a rerun with the
# binaries present does no work. Prints shell assignments (TERRAFORM=..., TF_CLI_CONFIG_FILE=...)
# on stdout for the caller to eval; progress goes to stderr.
set -euo pipefail

KIT_CACHE="${AIRFLOW_GCP_KIT_CACHE:-$HOME/.cache/airflow-gcp-kit}"
TF_CACHE="$KIT_CACHE/terraform"
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

TERRAFORM_VERSION="1.11.4"        # built only when no terraform >= 1.7 is on PATH
TERRAFORM_MIN_VERSION="1.9.0"     # mock_provider (1.7), cross-variable validation (1.9)
# Source of the offline stand-in: a commit of hashicorp/terraform-provider-google from the
# 4.9.0 development cycle (2022-02-01), the newest version of that module the Go proxy serves.
GOOGLE_STANDIN_MODULE="github.com/hashicorp/terraform-provider-google"
GOOGLE_STANDIN_VERSION="v1.20.1-0.20220201002249-bc5fcb3c89a5"
GOOGLE_STANDIN_LABEL="4.9.0-dev.20220201+airflow-gcp-kit.1"   # bump the suffix when the patch changes

export GOMODCACHE="$KIT_CACHE/go/mod"
export GOCACHE="$KIT_CACHE/go/build"
export GOFLAGS="-trimpath -mod=mod -buildvcs=false"
export GOTOOLCHAIN=local
export CGO_ENABLED=0

log() { printf 'terraform-toolchain: %s\n' "$*" >&2; }

version_ge() { # version_ge A B: A >= B
  [ "$(printf '%s\n%s\n' "$2" "$1" | sort -V | head -n1)" = "$2" ]
}

need_go() {
  command -v go >/dev/null 2>&1 || { log "go is required to build the offline toolchain"; exit 1; }
  mkdir -p "$GOMODCACHE" "$GOCACHE"
}

# Copy a downloaded module out of the (read-only) module cache into a writable build dir.
extract_module() { # extract_module MODULE VERSION DEST
  local dir
  dir="$(go mod download -json "$1@$2" | python3 -c 'import json,sys; d=json.load(sys.stdin); sys.exit(d["Error"]) if d.get("Error") else print(d["Dir"])')"
  rm -rf "$3"
  mkdir -p "$3"
  cp -R "$dir/." "$3/"
  chmod -R u+w "$3"
}

timed_build() { # timed_build LOGNAME OUT -- go build args, run in the current dir
  local name="$1" out="$2" start end
  shift 2
  start=$(date +%s)
  go build -ldflags="-s -w" -o "$out.tmp" "$@"
  mv "$out.tmp" "$out"
  end=$(date +%s)
  printf '%s built in %ss, %s bytes (%s)\n' "$name" "$((end - start))" "$(stat -c %s "$out")" "$(date -u +%FT%TZ)" \
    | tee -a "$TF_CACHE/build-times.log" >&2
}

# --- terraform CLI ----------------------------------------------------------------------
terraform_bin=""
if command -v terraform >/dev/null 2>&1; then
  have="$(TF_CLI_CONFIG_FILE=/dev/null terraform version -json 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin)["terraform_version"])' || true)"
  if [ -n "$have" ] && version_ge "$have" "$TERRAFORM_MIN_VERSION"; then
    terraform_bin="$(command -v terraform)"
    log "using terraform $have at $terraform_bin"
  else
    log "terraform on PATH is '${have:-unknown}', need >= $TERRAFORM_MIN_VERSION"
  fi
fi
if [ -z "$terraform_bin" ]; then
  terraform_bin="$TF_CACHE/bin/terraform-$TERRAFORM_VERSION"
  if [ ! -x "$terraform_bin" ]; then
    need_go
    mkdir -p "$TF_CACHE/bin" "$TF_CACHE/src"
    log "building terraform $TERRAFORM_VERSION from its Go module (replace directives rule out 'go install pkg@version')"
    src="$TF_CACHE/src/terraform-$TERRAFORM_VERSION"
    extract_module github.com/hashicorp/terraform "v$TERRAFORM_VERSION" "$src"
    # Its go.mod replaces nested modules that module zips never contain; drop them
    # (terraform/offline/strip_terraform_backends.py says which and why).
    python3 "$REPO_ROOT/terraform/offline/strip_terraform_backends.py" "$src"
    (cd "$src" && timed_build "terraform $TERRAFORM_VERSION" "$terraform_bin" .)
    rm -rf "$src"
  fi
  log "using built terraform at $terraform_bin"
fi

# --- google provider stand-in -----------------------------------------------------------
# Terraform only installs a provider whose version matches the pin in versions.tf, so the
# stand-in is filed in the test-only mirror under the pinned version, with a file name and
# a STANDIN.txt that say what it really is. Users never see this mirror.
google_pin="$(sed -n 's/^ *version *= *"= *\([0-9][0-9.]*\)".*/\1/p' "$REPO_ROOT/terraform/versions.tf" | head -n1)"
[ -n "$google_pin" ] || { log "could not read the exact google provider pin from terraform/versions.tf"; exit 1; }
standin_dir="$TF_CACHE/mirror/registry.terraform.io/hashicorp/google/$google_pin/linux_amd64"
standin_bin="$standin_dir/terraform-provider-google_v${GOOGLE_STANDIN_LABEL//+/-}-standin"
if [ ! -x "$standin_bin" ]; then
  need_go
  mkdir -p "$standin_dir" "$TF_CACHE/src"
  find "$standin_dir" -maxdepth 1 -name 'terraform-provider-google*' -delete
  src="$TF_CACHE/src/terraform-provider-google-$GOOGLE_STANDIN_LABEL"
  log "building the google provider stand-in from $GOOGLE_STANDIN_MODULE@$GOOGLE_STANDIN_VERSION (10-25 min on 2 cores the first time)"
  extract_module "$GOOGLE_STANDIN_MODULE" "$GOOGLE_STANDIN_VERSION" "$src"
  python3 "$REPO_ROOT/terraform/offline/patch_google_provider.py" "$src"
  (cd "$src" && timed_build "google provider stand-in $GOOGLE_STANDIN_LABEL" "$standin_bin" .)
  rm -rf "$src"
  cat >"$standin_dir/STANDIN.txt" <<EOF
Not the registry release $google_pin. Offline stand-in for the kit's checks only:
$GOOGLE_STANDIN_MODULE@$GOOGLE_STANDIN_VERSION (4.9.0 development cycle) plus the schema
fields listed in terraform/offline/patch_google_provider.py. Built by scripts/terraform-toolchain.sh.
EOF
fi
log "google provider stand-in (filed as $google_pin in the test mirror): $standin_bin"

# --- CLI config (tests only) ------------------------------------------------------------
cli_config="$TF_CACHE/terraformrc-offline"
cat >"$cli_config.tmp" <<EOF
# Written by scripts/terraform-toolchain.sh for the kit's offline checks only.
provider_installation {
  filesystem_mirror {
    path    = "$TF_CACHE/mirror"
    include = ["registry.terraform.io/hashicorp/*"]
  }
}
disable_checkpoint = true
EOF
mv "$cli_config.tmp" "$cli_config"

printf 'TERRAFORM=%q\nTF_CLI_CONFIG_FILE=%q\nGOOGLE_STANDIN_BIN=%q\n' "$terraform_bin" "$cli_config" "$standin_bin"
