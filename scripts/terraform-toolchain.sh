#!/usr/bin/env bash
# The Terraform toolchain of the kit's checks (never of users' applies):
#
#   * terraform CLI: the one on PATH when it is >= 1.11 (ephemeral resources and write-only arguments),
#     else Terraform 1.11.4 built once from its Go module.
#   * providers: the real hashicorp/google and hashicorp/random releases from the filesystem mirror in
#     ../shared/terraform-providers/tf-providers.tar.xz (or $AGK_TF_PROVIDERS_TARBALL), unpacked once into
#     $AGK_CACHE/tf-mirror and used through a CLI config that only the checks point TF_CLI_CONFIG_FILE at.
#     With AGK_TF_REGISTRY=1 the checks use the public registry instead (no CLI config).
#
# Prints shell assignments (TERRAFORM=..., TF_CLI_CONFIG_FILE=...) on stdout for the caller to eval;
# progress goes to stderr. A rerun with everything in place does no work.
set -euo pipefail

# shellcheck source=lib/kit.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/kit.sh"
AGK_LOG_TAG=terraform-toolchain

TF_CACHE="$AGK_CACHE/terraform"
TERRAFORM_VERSION="1.11.4"     # built only when no terraform >= TERRAFORM_MIN_VERSION is on PATH
TERRAFORM_MIN_VERSION="1.11.0" # ephemeral resources (1.10) and write-only arguments (1.11)
PROVIDERS_TARBALL="${AGK_TF_PROVIDERS_TARBALL:-$AGK_REPO/../shared/terraform-providers/tf-providers.tar.xz}"
MIRROR="$AGK_CACHE/tf-mirror"

version_ge() { # version_ge A B: A >= B
  [ "$(printf '%s\n%s\n' "$2" "$1" | sort -V | head -n1)" = "$2" ]
}

# --- terraform CLI ----------------------------------------------------------------------------------
terraform_bin=""
if command -v terraform >/dev/null 2>&1; then
  have="$(TF_CLI_CONFIG_FILE=/dev/null terraform version -json 2>/dev/null |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["terraform_version"])' || true)"
  if [ -n "$have" ] && version_ge "$have" "$TERRAFORM_MIN_VERSION"; then
    terraform_bin="$(command -v terraform)"
    agk_log "using terraform $have at $terraform_bin"
  else
    agk_log "terraform on PATH is '${have:-unknown}', need >= $TERRAFORM_MIN_VERSION"
  fi
fi
if [ -z "$terraform_bin" ]; then
  terraform_bin="$TF_CACHE/bin/terraform-$TERRAFORM_VERSION"
  if [ ! -x "$terraform_bin" ]; then
    command -v go >/dev/null 2>&1 || { agk_log "no terraform >= $TERRAFORM_MIN_VERSION and no go to build one"; exit 1; }
    export GOMODCACHE="$AGK_CACHE/go/mod" GOCACHE="$AGK_CACHE/go/build" GOTOOLCHAIN=local CGO_ENABLED=0
    export GOFLAGS="-trimpath -mod=mod -buildvcs=false"
    mkdir -p "$TF_CACHE/bin" "$TF_CACHE/src" "$GOMODCACHE" "$GOCACHE"
    agk_log "building terraform $TERRAFORM_VERSION from its Go module (about 2.5 min on 2 cores)"
    src="$TF_CACHE/src/terraform-$TERRAFORM_VERSION"
    dir="$(go mod download -json "github.com/hashicorp/terraform@v$TERRAFORM_VERSION" |
      python3 -c 'import json,sys; d=json.load(sys.stdin); sys.exit(d["Error"]) if d.get("Error") else print(d["Dir"])')"
    rm -rf "$src" && mkdir -p "$src" && cp -R "$dir/." "$src/" && chmod -R u+w "$src"
    # go.mod replaces nine nested modules (eight remote-state backends and internal/legacy) that a module
    # zip never contains: drop them and the backends' registrations. The checks only use -backend=false.
    sed -i -e '\#github.com/hashicorp/terraform/internal/#d' -e '/^godebug tlskyber/d' "$src/go.mod"
    init_go="$src/internal/backend/init/init.go"
    backends='backend(Azure|Consul|Cos|GCS|Kubernetes|OSS|Pg|S3)'
    [ "$(grep -cE "\\b$backends\\b" "$init_go")" -eq 16 ] || { agk_log "unexpected $init_go layout"; exit 1; }
    sed -E -i "/\\b$backends\\b/d" "$init_go"
    (cd "$src" && go build -ldflags="-s -w" -o "$terraform_bin.tmp" . && mv "$terraform_bin.tmp" "$terraform_bin")
    rm -rf "$src"
  fi
  agk_log "using built terraform at $terraform_bin"
fi

# --- providers: the filesystem mirror (tests only) -------------------------------------------------
if [ "${AGK_TF_REGISTRY:-0}" = 1 ]; then
  agk_log "AGK_TF_REGISTRY=1: providers come from the public registry"
  printf 'TERRAFORM=%q\nTF_CLI_CONFIG_FILE=\n' "$terraform_bin"
  exit 0
fi
[ -f "$PROVIDERS_TARBALL" ] || { agk_log "no provider mirror at $PROVIDERS_TARBALL (set AGK_TF_PROVIDERS_TARBALL, or AGK_TF_REGISTRY=1)"; exit 1; }
stamp="$MIRROR/.unpacked-$(sha256sum "$PROVIDERS_TARBALL" | cut -c1-16)"
if [ ! -f "$stamp" ]; then
  agk_log "unpacking $PROVIDERS_TARBALL into $MIRROR"
  rm -rf "$MIRROR" && mkdir -p "$MIRROR"
  tar -xJf "$PROVIDERS_TARBALL" -C "$MIRROR"
  touch "$stamp"
fi

cli_config="$AGK_CACHE/terraformrc-mirror"
cat >"$cli_config.tmp" <<EOF
# Written by scripts/terraform-toolchain.sh for the kit's checks only: the real providers, from a
# filesystem mirror, where the registry cannot be reached. Users install from the registry.
provider_installation {
  filesystem_mirror {
    path    = "$MIRROR"
    include = ["registry.terraform.io/hashicorp/*"]
  }
}
disable_checkpoint = true
EOF
mv "$cli_config.tmp" "$cli_config"
agk_log "providers: $(cd "$MIRROR/registry.terraform.io" && find . -mindepth 3 -maxdepth 3 -type d | sed 's#^\./##' | sort | tr '\n' ' ')"

printf 'TERRAFORM=%q\nTF_CLI_CONFIG_FILE=%q\n' "$terraform_bin" "$cli_config"
