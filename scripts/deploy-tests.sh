#!/usr/bin/env bash
# The deploy stage of scripts/test.sh: bring up (or converge) the local cluster with the test-bed git
# server, then tests/deploy — git pushes to agk-git, cloudbuild.yaml's very steps run against the local
# VMs (docker exec instead of IAP). Writes the measured numbers into README.md (deploy markers).
# Exits non-zero on any failure. About 10-13 minutes on a warm cache (2 cores).
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
export PYTHONDONTWRITEBYTECODE=1
start=$SECONDS

venv=$(bash scripts/bootstrap.sh | tail -n 1)
export PATH="$venv/bin:$PATH"
if [ -z "${AGK_WHEELHOUSE:-}" ]; then
  AGK_WHEELHOUSE=$("$venv/bin/python" -c 'import sys; sys.path.insert(0, "scripts"); from kitlib import wheelhouse; print(wheelhouse.ensure())')
fi
export AGK_WHEELHOUSE  # the DAG-test step installs the Airflow lock offline from it

echo "=== local cluster (scripts/demo.py: VMs incl. agk-git, site.yml)"
"$venv/bin/python" scripts/demo.py --venv "$venv" --skip-dag-run
echo "=== cluster ready after $((SECONDS - start)) s"

rc=0
"$venv/bin/python" -m pytest -p no:cacheprovider -q -rA -s tests/deploy || rc=$?
echo "=== scripts/deploy-tests.sh: $([ $rc -eq 0 ] && echo passed || echo FAILED) in $((SECONDS - start)) s"
exit $rc
