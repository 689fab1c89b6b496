#!/usr/bin/env bash
# The whole test suite (`make test`, and what .ci/run calls). Stages, in order; name some to run only those:
#   lint       yamllint, ansible-lint (production profile)
#   unit       bad-input tests of site.yml, cloudbuild.yaml and the redeploy's route and report, the test bed's
#              layout (kitlib.testbed), DAG integrity tests and the StatsD bridge fed by Airflow's own StatsD
#              client, on the pinned Airflow lock
#   terraform  scripts/terraform-checks.sh: fmt, validate, terraform test, per-profile plans, checkov, contract, on
#              the real providers from the shared mirror
#   molecule   the all-in-one layout: converge, idempotence, verify on local Debian 12 VMs
#   deploy     the local demo cluster (make demo: the multi-host layout), its idempotence and the same verify
#              tests as Molecule's, the Edge worker, then the git-push redeploy flow (cloudbuild.yaml's scripts)
#   faults     on that same cluster: workers, VMs, Redis, PostgreSQL, the API server and the scheduler killed or
#              restarted while DAG runs are in flight; every run must succeed (recovery times printed)
# Every stage runs even if an earlier one failed; the last line is "N passed, N failed" (stages).
set -uo pipefail
AGK_LOG_TAG=test
# shellcheck source=scripts/lib/control.sh
source "$(dirname "$0")/lib/control.sh"
cd "$AGK_REPO"
export PYTHONDONTWRITEBYTECODE=1

venv=$(bash scripts/bootstrap.sh | tail -n 1) || { echo "bootstrap failed"; exit 1; }
export PATH="$venv/bin:$PATH"

stages=("$@")
[ ${#stages[@]} -gt 0 ] || stages=(lint unit terraform molecule deploy faults)

stage_lint() {
  # The kit's own module, action plugin (managed_files) and lookup, as ansible/ansible.cfg points Ansible at them:
  # ansible-lint checks each role's task files on their own, where nothing is beside a playbook.
  yamllint -s . &&
    ANSIBLE_LIBRARY=ansible/library ANSIBLE_ACTION_PLUGINS=ansible/action_plugins \
      ANSIBLE_LOOKUP_PLUGINS=ansible/lookup_plugins ansible-lint --profile production --offline ansible/site.yml ansible/roles
}

stage_unit() {
  agk_wheelhouse || return 1
  local afvenv
  afvenv=$(bash scripts/airflow-venv.sh | tail -n 1) || return 1
  pytest -p no:cacheprovider -q tests/ansible tests/cloudbuild tests/kitlib &&
    "$afvenv/bin/python" -m pytest -p no:cacheprovider -q tests/dags tests/metrics
}

stage_terraform() {
  bash scripts/terraform-checks.sh
}

stage_molecule() {
  local rc=0 scenario
  # multi_host is the demo cluster's layout: the deploy stage converges and verifies it there (molecule test
  # -s multi_host still runs it on VMs of its own)
  for scenario in all_in_one; do
    echo "--- molecule test -s $scenario"
    molecule test -s "$scenario" || rc=1
  done
  return $rc
}

stage_deploy() {
  bash scripts/deploy-tests.sh
}

stage_faults() {
  bash scripts/fault-tests.sh
}

# The stages that bring up local VMs need the VM image: on a fresh machine debootstrap waits on the Debian mirror for
# about a minute, which the CPU-bound stages before them can use (build-vm-image.sh takes a lock; the later call finds
# the image built, or waits for it).
if printf '%s\n' "${stages[@]}" | grep -qxE 'molecule|deploy|faults'; then
  mkdir -p "$AGK_CACHE"
  bash scripts/build-vm-image.sh >"$AGK_CACHE/vm-image-build.log" 2>&1 &
fi

for stage in "${stages[@]}"; do
  agk_stage "$stage" "stage_$stage"
done
wait
agk_stage_summary stages
