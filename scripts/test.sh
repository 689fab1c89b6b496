#!/usr/bin/env bash
# The whole test suite (`make test`, and what .ci/run calls). Stages, in order; name some to run only those:
#   lint       yamllint, ansible-lint (production profile)
#   unit       bad-input tests of site.yml, DAG integrity tests on the pinned Airflow lock
#   terraform  fmt, validate, terraform test (mock provider) and checkov, offline
#   molecule   both layouts (all_in_one, multi_host) converge, idempotence, verify on local Debian 12 VMs
#   deploy     the local demo cluster (make demo), then the git-push redeploy flow against it (cloudbuild.yaml's scripts)
# Every stage runs even if an earlier one failed; the last line is "N passed, N failed" (stages).
set -uo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
export PYTHONDONTWRITEBYTECODE=1

venv=$(bash scripts/bootstrap.sh | tail -n 1) || { echo "bootstrap failed"; exit 1; }
export PATH="$venv/bin:$PATH"

stages=("$@")
[ ${#stages[@]} -gt 0 ] || stages=(lint unit terraform molecule deploy)

declare -A took result
passed=0
failed=0

prepare_testbed() {
  # The VM image and the wheelhouse are built once and cached outside the repository.
  AGK_IMAGE=$(bash scripts/build-vm-image.sh) || return 1
  AGK_WHEELHOUSE=$("$venv/bin/python" -c 'import sys; sys.path.insert(0, "scripts"); from kitlib import wheelhouse; print(wheelhouse.ensure())') || return 1
  export AGK_IMAGE AGK_WHEELHOUSE
}

stage_lint() {
  yamllint -s . &&
    ansible-lint --profile production --offline ansible/site.yml ansible/roles
}

stage_unit() {
  prepare_testbed || return 1
  local afvenv
  afvenv=$(AGK_WHEELHOUSE="$AGK_WHEELHOUSE" bash scripts/airflow-venv.sh | tail -n 1) || return 1
  pytest -p no:cacheprovider -q tests/ansible $( [ -d tests/cloudbuild ] && echo tests/cloudbuild ) &&
    "$afvenv/bin/python" -m pytest -p no:cacheprovider -q tests/dags
}

stage_terraform() {
  bash scripts/terraform-checks.sh
}

stage_molecule() {
  prepare_testbed || return 1
  local rc=0 scenario
  for scenario in all_in_one multi_host; do
    echo "--- molecule test -s $scenario"
    molecule test -s "$scenario" || rc=1
  done
  return $rc
}

stage_deploy() {
  prepare_testbed || return 1
  bash scripts/deploy-tests.sh
}

for stage in "${stages[@]}"; do
  echo "=== stage: $stage"
  start=$SECONDS
  if "stage_$stage"; then
    result[$stage]=passed; passed=$((passed + 1))
  else
    result[$stage]=FAILED; failed=$((failed + 1))
  fi
  took[$stage]=$((SECONDS - start))
  echo "=== stage $stage: ${result[$stage]} in ${took[$stage]} s"
done

echo
echo "Summary (stages):"
for stage in "${stages[@]}"; do
  printf '  %-10s %-7s %5d s\n' "$stage" "${result[$stage]}" "${took[$stage]}"
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
