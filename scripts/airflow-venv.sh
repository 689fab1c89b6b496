#!/usr/bin/env bash
# A virtualenv on the control machine (or in Cloud Build) with exactly the VMs' Airflow lock, for DAG
# tests. Cached per lock checksum outside the repository. Prints the venv path on the last line.
#   AGK_WHEELHOUSE=DIR  install offline from a wheel directory (the local test bed's)
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cache=${AGK_CACHE:-$HOME/.cache/airflow-gcp-kit}
lock="$repo/requirements/airflow-lock.txt"
key=$(cat "$lock" "$repo/requirements/dag-tests.txt" | sha256sum | cut -c1-12)
venv="$cache/venvs/airflow-$key"
if [ ! -f "$venv/.complete" ]; then
  echo "[airflow-venv] installing the Airflow lock into $venv" >&2
  rm -rf "$venv"
  python3 -m venv "$venv"
  offline=()
  if [ -n "${AGK_WHEELHOUSE:-}" ]; then offline=(--find-links "$AGK_WHEELHOUSE"); fi
  # --no-deps: the lock pins every transitive package; nothing is resolved here.
  "$venv/bin/pip" install -q --disable-pip-version-check --no-deps "${offline[@]}" -r "$lock"
  "$venv/bin/pip" install -q --disable-pip-version-check -r "$repo/requirements/dag-tests.txt"
  touch "$venv/.complete"
fi
echo "$venv"
