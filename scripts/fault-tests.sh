#!/usr/bin/env bash
# The faults stage of scripts/test.sh: tests/faults against the local cluster (make demo's VMs). It reuses
# the cluster the deploy stage leaves running (one cluster for both suites) and brings it up only when a VM
# of it is not running. Writes the recovery times into README.md (faults markers). About 10-12 minutes.
set -euo pipefail
AGK_LOG_TAG=fault-tests
# shellcheck source=scripts/lib/control.sh
source "$(dirname "$0")/lib/control.sh"
cd "$AGK_REPO"
export PYTHONDONTWRITEBYTECODE=1
start=$SECONDS

venv=$(bash scripts/bootstrap.sh | tail -n 1)
export PATH="$venv/bin:$PATH"

if ! python -m kitlib.testbed status |
    python -c 'import json, sys; sys.exit(any(s != "running" for s in json.load(sys.stdin).values()))'; then
  agk_wheelhouse
  echo "=== local cluster (scripts/demo.py: not every VM was running)"
  python scripts/demo.py --skip-dag-run
fi

rc=0
python -m pytest -p no:cacheprovider -q -rA -s tests/faults || rc=$?
echo "=== scripts/fault-tests.sh: $([ $rc -eq 0 ] && echo passed || echo FAILED) in $((SECONDS - start)) s"
exit $rc
