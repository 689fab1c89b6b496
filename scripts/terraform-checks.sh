#!/usr/bin/env bash
# Checks of the kit's Terraform on the real hashicorp/google and hashicorp/random providers, with no
# credentials (stage `terraform` of `make test`, and `make terraform`):
#   fmt, init -backend=false, validate, terraform test (mocked google provider), per-profile plans
#   (terraform plan with a fake access token and -refresh=false, then assertions on `terraform show -json`
#   and a proof that no generated secret is in the plan), checkov on the source and on the plans, the
#   Terraform <-> Ansible contract, and the GCP inventory on a fake `terraform output`.
# Providers come from the mirror scripts/terraform-toolchain.sh sets up (AGK_TF_REGISTRY=1: the registry).
# Ends with "N passed, N failed" over the stages; exits non-zero when one failed.
set -uo pipefail

# shellcheck source=lib/control.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/control.sh"  # kit.sh too
AGK_LOG_TAG=terraform-checks

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
export TF_IN_AUTOMATION=1 CHECKPOINT_DISABLE=1
export TF_PLUGIN_CACHE_DIR="" TF_DATA_DIR="" # a user's settings must not leak in

toolchain() {
  local env_out
  env_out="$(bash "$AGK_REPO/scripts/terraform-toolchain.sh")" || return 1
  eval "$env_out"
  export TERRAFORM TF_CLI_CONFIG_FILE
}

# Terraform runs on a copy of terraform/ (and of the two Ansible files it reads), never in the work tree:
# init writes a .terraform.lock.hcl, and one holding the mirror's hashes must never reach a user's init.
SRC="$work/src"
copy_sources() {
  mkdir -p "$SRC" &&
    (cd "$AGK_REPO" && tar --exclude=.terraform --exclude=.terraform.lock.hcl --exclude='*.tfstate*' \
      --exclude='*.tfvars' -cf - terraform ansible/roles/airflow_base/defaults ansible/roles/cluster_secrets/vars) |
    tar -C "$SRC" -xf -
}
tf() { "$TERRAFORM" -chdir="$SRC/terraform" "$@"; }
init_stage() { copy_sources && tf init -backend=false -input=false -no-color; }

# terraform test runs its files one after the other, on one core: the files go to two runs side by side (each file
# in one of them, the largest first to the emptier one), and the counts add up.
test_stage() {
  local -a files groups=("" "") sizes=(0 0)
  local file size rc=0 passed=0 failed=0 i p f
  mapfile -t files < <(cd "$SRC/terraform" && wc -c tests/*.tftest.hcl | grep -v ' total$' | sort -rn | awk '{print $2}')
  for file in "${files[@]}"; do
    size=$(wc -c <"$SRC/terraform/$file")
    i=$((sizes[0] <= sizes[1] ? 0 : 1))
    groups[i]+=" -filter=$file"
    sizes[i]=$((sizes[i] + size))
  done
  for i in 0 1; do
    # shellcheck disable=SC2086 # one -filter per file
    tf test -no-color ${groups[i]} >"$work/test-$i.log" 2>&1 &
  done
  for i in 0 1; do
    wait -n || rc=1
  done
  for i in 0 1; do
    cat "$work/test-$i.log"
    p="" f=""
    read -r p f < <(grep -E '^(Success|Failure)! [0-9]+ passed, [0-9]+ failed' "$work/test-$i.log" | tail -n1 |
      sed -E 's/^[A-Za-z]+! ([0-9]+) passed, ([0-9]+) failed.*/\1 \2/')
    [ -n "${p:-}" ] || rc=1
    passed=$((passed + ${p:-0})) failed=$((failed + ${f:-0}))
  done
  agk_stage_note test "terraform test: $passed passed, $failed failed."
  return "$rc"
}

plans_stage() {
  python3 "$AGK_REPO/tests/terraform/test_plans.py" --src "$SRC" --out "$work/plans" | tee "$work/plans.log"
  local rc=${PIPESTATUS[0]}
  agk_stage_note plans "$(grep -E '^plans: ' "$work/plans.log" | tail -n1 | cut -d' ' -f2-)"
  return "$rc"
}

checkov_stage() {
  local venv bad
  venv="$(agk_venv checkov --no-deps -r "$AGK_REPO/requirements/checkov.txt")" || return 1
  # Every skip carries its reason inline.
  bad="$(grep -rnE '#\s*checkov:skip=' "$AGK_REPO/terraform" --include='*.tf' |
    grep -vE '#checkov:skip=CKV2?_[A-Z0-9]+_[0-9]+:[^ ].{10,}' || true)"
  if [ -n "$bad" ]; then
    printf 'checkov skips without a reason:\n%s\n' "$bad"
    return 1
  fi
  # Each scan's own verdict counts (checkov exits non-zero on a failed check or its own error), and so does its
  # result file: a scan that crashed before writing one fails the stage.
  local source_rc=0 plans_rc=0
  (cd "$AGK_REPO/terraform" && "$venv/bin/checkov" -d . --framework terraform --skip-download \
    --skip-path '\.terraform' --quiet --compact -o cli -o json --output-file-path "console,$work/checkov-source") ||
    source_rc=$?
  ls "$work"/plans/*.json >/dev/null 2>&1 || { echo "no plan JSON to scan (the plans stage failed)"; return 1; }
  # The plans carry what the source leaves to variables and modules. checkov does not map the source's
  # inline skips onto planned resources inside modules, so the same check ids (each skipped, with its
  # reason, in the source) are skipped here by id; nothing is skipped for the plans alone.
  local skips
  skips="$(grep -rhoE '#checkov:skip=CKV2?_[A-Z0-9]+_[0-9]+' "$AGK_REPO/terraform" --include='*.tf' | cut -d= -f2 | sort -u | paste -sd, -)"
  echo "plan scan skips (reasons in the source): $skips"
  mkdir -p "$work/plan-json" && cp "$work"/plans/*.json "$work/plan-json/"
  "$venv/bin/checkov" -d "$work/plan-json" --framework terraform_plan --skip-download --quiet --compact \
    --skip-check "$skips" -o cli -o json --output-file-path "console,$work/checkov-plans" || plans_rc=$?
  python3 - "$work" "source=$source_rc" "plans=$plans_rc" <<'EOF' | tee "$work/checkov.summary"
import json, pathlib, sys
work = pathlib.Path(sys.argv[1])
ok = True
parts = []
for scan, rc in (arg.split("=") for arg in sys.argv[2:]):
    path = work / f"checkov-{scan}"
    path = path / "results_json.json" if path.is_dir() else path
    if not path.is_file():
        ok = False
        parts.append(f"{scan}: no results written (checkov exited {rc})")
        continue
    data = json.loads(path.read_text())
    reports = data if isinstance(data, list) else [data]
    s = {k: sum(r.get("summary", {}).get(k, 0) for r in reports) for k in ("passed", "failed", "skipped", "parsing_errors")}
    ok = ok and rc == "0" and s["failed"] == 0 and s["parsing_errors"] == 0 and s["passed"] > 0
    parts.append(f"{scan}: {s['passed']} passed, {s['failed']} failed, {s['skipped']} skipped"
                 + ("" if rc == "0" else f", checkov exited {rc}"))
print("checkov " + "; ".join(parts))
sys.exit(0 if ok else 1)
EOF
  local rc=${PIPESTATUS[0]}
  agk_stage_note checkov "$(cut -d' ' -f2- "$work/checkov.summary")"
  return "$rc"
}

# The Python checks run under pytest in the control venv (Ansible for the inventory, the kit's tooling).
pytest_stage() {
  local venv
  venv=$(agk_control_venv) || return 1
  "$venv/bin/python" -m pytest -p no:cacheprovider -q "$@"
}

if agk_stage toolchain toolchain; then
  agk_stage fmt "$TERRAFORM" fmt -check -recursive -diff "$AGK_REPO/terraform"
  if agk_stage init init_stage; then
    agk_stage validate tf validate -no-color
    agk_stage test test_stage
    agk_stage plans plans_stage
  fi
  agk_stage checkov checkov_stage
fi
agk_stage contract pytest_stage "$AGK_REPO/tests/terraform/test_contract.py"
agk_stage inventory pytest_stage "$AGK_REPO/tests/terraform/test_gcp_inventory.py"

agk_stage_summary "terraform checks"
