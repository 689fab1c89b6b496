#!/usr/bin/env bash
# The deploy stage of scripts/test.sh: bring up (or converge) the local cluster with the test-bed git
# server and the Edge host; a second site.yml must change nothing; the Molecule scenarios' verify tests run
# against it (the multi-host layout is checked here, on the cluster the later suites use, not on a cluster of
# its own); then tests/edge and tests/deploy: git pushes to the git server VM, cloudbuild.yaml's very steps run
# against the local VMs (docker exec instead of IAP). Writes the measured numbers into README.md (deploy
# markers). Exits non-zero on any failure.
set -euo pipefail
AGK_LOG_TAG=deploy-tests
# shellcheck source=scripts/lib/control.sh
source "$(dirname "$0")/lib/control.sh"
cd "$AGK_REPO"
export PYTHONDONTWRITEBYTECODE=1
start=$SECONDS

venv=$(bash scripts/bootstrap.sh | tail -n 1)
export PATH="$venv/bin:$PATH"
agk_wheelhouse  # the DAG-test step installs the Airflow lock offline from it

echo "=== local cluster (scripts/demo.py: the VMs of inventories/local incl. the git server, site.yml)"
python scripts/demo.py --skip-dag-run
echo "=== cluster ready after $((SECONDS - start)) s"

rc=0
# What Molecule's multi_host scenario would prove, on this cluster instead of a second one: a second site.yml
# changes nothing, then the scenarios' verify tests whose outcome depends on the layout (which VM runs what, a DAG
# run over every worker VM, task code attacking its worker and Edge VMs, TLS from another VM, DB connections from
# the main VM only, maintenance jobs on the worker VMs, metrics from every VM) against the local inventory.
python -m pytest -p no:cacheprovider -q -rA -s tests/cluster || rc=$?
echo "=== idempotence checked after $((SECONDS - start)) s"
AGK_VERIFY_INVENTORY="$AGK_REPO/ansible/inventories/local" AGK_CLUSTER_NAME=local \
  python -m pytest -p no:cacheprovider -q -rA -s molecule/shared/tests/test_hosts.py \
  molecule/shared/tests/test_dag_runs.py molecule/shared/tests/test_untrusted_tasks.py \
  molecule/shared/tests/test_broker_acl.py molecule/shared/tests/test_task_runner.py \
  molecule/shared/tests/test_tls.py molecule/shared/tests/test_db_connections.py \
  molecule/shared/tests/test_maintenance.py molecule/shared/tests/test_metrics.py || rc=$?
echo "=== the layout's verify tests done after $((SECONDS - start)) s"
# The Edge suite next: the redeploy tests leave the VMs on commits of their own.
python -m pytest -p no:cacheprovider -q -rA -s tests/edge tests/deploy || rc=$?
echo "=== scripts/deploy-tests.sh: $([ $rc -eq 0 ] && echo passed || echo FAILED) in $((SECONDS - start)) s"
exit $rc
