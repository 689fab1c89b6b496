#!/usr/bin/env bash
# Prepare the control machine for the local test bed: a Docker engine that answers, debootstrap, and the
# pinned tooling venv with this checkout's kitlib (scripts/lib/control.sh: agk_control_venv, which is all
# that scripts/deploy/deploy.sh needs). Safe to run again: each step is skipped when already done.
# Prints the venv path on the last line.
set -euo pipefail
AGK_LOG_TAG=bootstrap
# shellcheck source=scripts/lib/control.sh
source "$(dirname "$0")/lib/control.sh"
mkdir -p "$AGK_CACHE"

# The tooling venv comes from PyPI and the packages below from Debian: on a fresh machine both download at once.
venv_out=$(mktemp)
trap 'rm -f "$venv_out"' EXIT
agk_control_venv >"$venv_out" &
venv_job=$!

need_apt=()
command -v debootstrap >/dev/null 2>&1 || need_apt+=(debootstrap)
# systemd-analyze verifies the kit's rendered units in the unit stage (tests/ansible/test_maintenance_units.py).
command -v systemd-analyze >/dev/null 2>&1 || need_apt+=(systemd)
if ! docker info >/dev/null 2>&1 && ! command -v dockerd >/dev/null 2>&1; then
  need_apt+=(docker.io)
fi
if [ ${#need_apt[@]} -gt 0 ]; then
  agk_log "installing ${need_apt[*]} from Debian"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

if ! docker info >/dev/null 2>&1; then
  agk_log "no Docker engine answers: starting dockerd in the background (log: $AGK_CACHE/dockerd.log)"
  nohup dockerd >"$AGK_CACHE/dockerd.log" 2>&1 &
  for _ in $(seq 1 60); do
    docker info >/dev/null 2>&1 && break
    sleep 1
  done
  docker info >/dev/null 2>&1 || {
    agk_log "dockerd did not come up; see $AGK_CACHE/dockerd.log"
    tail -20 "$AGK_CACHE/dockerd.log" >&2
    exit 1
  }
fi

wait "$venv_job" || { agk_log "the tooling venv could not be built (its output is above)"; exit 1; }
cat "$venv_out"
