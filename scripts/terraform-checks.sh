#!/usr/bin/env bash
# Offline checks of the kit's Terraform: fmt, init, validate, terraform test (mocked
# providers, plan only), checkov, and static contract checks. Needs no credentials and no
# Terraform registry. Exits non-zero when any stage fails; ends with "N passed, N failed"
# counting the stages.
set -uo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TF_DIR="$REPO_ROOT/terraform"
KIT_CACHE="${AIRFLOW_GCP_KIT_CACHE:-$HOME/.cache/airflow-gcp-kit}"
CHECKOV_VENV="$KIT_CACHE/venvs/checkov"
CHECKOV_REQS="$REPO_ROOT/requirements/checkov.txt"
PYTHON="${PYTHON:-python3}"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
# Keep .terraform out of the work tree and never reuse a stale one.
export TF_DATA_DIR="$work/tf-data"
export TF_IN_AUTOMATION=1
export CHECKPOINT_DISABLE=1

declare -a stage_names=() stage_results=() stage_notes=()
passed=0
failed=0

record() { # record NAME RC NOTE
  stage_names+=("$1")
  stage_notes+=("$3")
  if [ "$2" -eq 0 ]; then
    stage_results+=("PASS")
    passed=$((passed + 1))
  else
    stage_results+=("FAIL")
    failed=$((failed + 1))
  fi
}

run_stage() { # run_stage NAME -- command...; output is shown and kept in $work/NAME.log
  local name="$1" start rc
  shift
  printf '\n=== %s\n' "$name"
  start=$(date +%s)
  "$@" 2>&1 | tee "$work/$name.log"
  rc=${PIPESTATUS[0]}
  record "$name" "$rc" "$(($(date +%s) - start))s"
  return "$rc"
}

summary() {
  printf '\n=== summary (terraform checks)\n'
  local i
  for i in "${!stage_names[@]}"; do
    printf '  %-4s  %-22s %s\n' "${stage_results[$i]}" "${stage_names[$i]}" "${stage_notes[$i]}"
  done
  printf '%d passed, %d failed\n' "$passed" "$failed"
  [ "$failed" -eq 0 ]
}

# --- toolchain --------------------------------------------------------------------------
printf '=== toolchain\n'
start=$(date +%s)
if env_out="$(bash "$REPO_ROOT/scripts/terraform-toolchain.sh")"; then
  eval "$env_out"
  export TF_CLI_CONFIG_FILE
  record toolchain 0 "$(($(date +%s) - start))s"
else
  record toolchain 1 "scripts/terraform-toolchain.sh failed"
  summary
  exit 1
fi
tf() { "$TERRAFORM" -chdir="$TF_DIR" "$@"; }
# init/validate/test run on a copy: init writes a .terraform.lock.hcl next to the
# configuration, and one holding the stand-in's hashes must never reach a real init.
TF_RUN_DIR="$work/terraform"
mkdir -p "$TF_RUN_DIR"
(cd "$TF_DIR" && tar --exclude=.terraform --exclude=.terraform.lock.hcl --exclude='*.tfstate*' --exclude='*.tfvars' -cf - .) | tar -C "$TF_RUN_DIR" -xf -
tf_run() { "$TERRAFORM" -chdir="$TF_RUN_DIR" "$@"; }

# --- terraform --------------------------------------------------------------------------
run_stage fmt tf fmt -check -recursive -diff
run_stage init tf_run init -backend=false -input=false -no-color
if [ "${stage_results[-1]}" = PASS ]; then
  run_stage validate tf_run validate -no-color
  run_stage test tf_run test -no-color
  tests_line="$(grep -E '^(Success|Failure)! [0-9]+ passed' "$work/test.log" | tail -n1)"
  [ -n "$tests_line" ] && stage_notes[-1]="${stage_notes[-1]}, terraform test: ${tests_line#*! }"
else
  record validate 1 "skipped: init failed"
  record test 1 "skipped: init failed"
fi

# --- checkov ----------------------------------------------------------------------------
ensure_checkov() {
  local stamp="$CHECKOV_VENV/.requirements.sha256" want
  want="$(sha256sum "$CHECKOV_REQS" | cut -d' ' -f1)"
  if [ -x "$CHECKOV_VENV/bin/checkov" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then
    return 0
  fi
  echo "installing checkov into $CHECKOV_VENV from requirements/checkov.txt"
  rm -rf "$CHECKOV_VENV"
  "$PYTHON" -m venv "$CHECKOV_VENV" &&
    "$CHECKOV_VENV/bin/pip" install --quiet --disable-pip-version-check --no-deps -r "$CHECKOV_REQS" &&
    "$CHECKOV_VENV/bin/pip" check &&
    echo "$want" >"$stamp"
}

checkov_stage() {
  ensure_checkov || return 1
  # Every skip must carry its reason inline.
  local bad
  bad="$(grep -rnE '#\s*checkov:skip=' "$TF_DIR" --include='*.tf' | grep -vE '#checkov:skip=CKV2?_[A-Z0-9]+_[0-9]+:[^ ].{10,}' || true)"
  if [ -n "$bad" ]; then
    echo "checkov skips without a reason:"
    echo "$bad"
    return 1
  fi
  (cd "$TF_DIR" && "$CHECKOV_VENV/bin/checkov" -d . --framework terraform --skip-download \
    --skip-path '\.terraform' --quiet --compact -o cli -o json --output-file-path console,"$work/checkov.json") || true
  "$PYTHON" - "$work/checkov.json" <<'EOF'
import json, sys
data = json.load(open(sys.argv[1]))
reports = data if isinstance(data, list) else [data]
s = {"passed": 0, "failed": 0, "skipped": 0, "parsing_errors": 0}
for r in reports:
    for k in s:
        s[k] += r.get("summary", {}).get(k, 0)
print(f"checkov: {s['passed']} passed checks, {s['failed']} failed, {s['skipped']} skipped (each with its reason), {s['parsing_errors']} parsing errors")
sys.exit(0 if s["failed"] == 0 and s["parsing_errors"] == 0 and s["passed"] > 0 else 1)
EOF
}
run_stage checkov checkov_stage
checkov_line="$(grep -E '^checkov: ' "$work/checkov.log" | tail -n1)"
[ -n "$checkov_line" ] && stage_notes[-1]="${stage_notes[-1]}, ${checkov_line#checkov: }"

# --- contract checks (Python, no extra packages) ---------------------------------------
run_stage contract "$PYTHON" "$REPO_ROOT/tests/terraform/test_contract.py"

# --- the real gcp_compute plugin on fake API answers (needs Ansible + google-auth) ------
# Uses $AIRFLOW_GCP_KIT_ANSIBLE_PYTHON, else the control venv the Ansible side builds.
ansible_py="${AIRFLOW_GCP_KIT_ANSIBLE_PYTHON:-$(ls -d "$KIT_CACHE"/venvs/control-*/bin/python 2>/dev/null | head -n1)}"
if [ -n "$ansible_py" ] && "$ansible_py" -c 'import ansible, ansible_collections.google.cloud, google.auth' 2>/dev/null; then
  run_stage inventory-plugin "$ansible_py" "$REPO_ROOT/tests/terraform/test_gcp_inventory_plugin.py"
else
  printf '\n=== inventory-plugin\nnot run: no Python with ansible, the google.cloud collection and google-auth (set AIRFLOW_GCP_KIT_ANSIBLE_PYTHON)\n'
fi

summary
