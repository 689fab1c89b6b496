#!/usr/bin/env bash
# Cloud Build step 1 (cloudbuild.yaml), and the same locally: the DAG integrity tests (tests/dags: every
# DAG imports, no cycles, the kit's rules) in a venv with exactly the VMs' pinned Airflow lock.
# A non-zero exit stops the build: nothing is deployed.
#   AGK_WHEELHOUSE=DIR  install the lock offline (the local test bed)
#   AGK_DAGS_DIR=DIR    test another DAG folder (default: this checkout's dags/)
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
cd "$repo"
export PYTHONDONTWRITEBYTECODE=1
afvenv=$(bash scripts/airflow-venv.sh | tail -n 1)
exec "$afvenv/bin/python" -m pytest -p no:cacheprovider -q tests/dags "$@"
