#!/usr/bin/env bash
# A virtualenv on the control machine (or in Cloud Build) with exactly the VMs' Airflow lock plus the DAG
# tests' runner (requirements/dag-tests.txt), for the DAG tests. One --no-deps install: the two files pin
# every package, and scripts/lean_lock.py --check proves it (apart from what requirements/airflow-lean.txt
# leaves out on purpose). Cached per checksum of both files. Prints the venv path last.
#   AGK_WHEELHOUSE=DIR  install from a wheel directory first (the local test bed's)
set -euo pipefail
AGK_LOG_TAG=airflow-venv
# shellcheck source=scripts/lib/kit.sh
source "$(dirname "$0")/lib/kit.sh"
AGK_VENV_LEFT_OUT="$AGK_REPO/requirements/airflow-lean.txt" agk_venv airflow --no-deps ${AGK_WHEELHOUSE:+--find-links "$AGK_WHEELHOUSE"} \
  -r "$AGK_REPO/requirements/airflow-lock.txt" -r "$AGK_REPO/requirements/dag-tests.txt"
