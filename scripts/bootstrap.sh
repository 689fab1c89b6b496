#!/usr/bin/env bash
# Prepare the control machine: a Docker engine that answers, debootstrap, and the pinned Python tooling
# (ansible, molecule, testinfra, linters) in a virtualenv cached outside the repository.
# Safe to run again: each step is skipped when already done. Prints the venv path on the last line.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
cache=${AGK_CACHE:-$HOME/.cache/airflow-gcp-kit}
mkdir -p "$cache"

log() { printf '[bootstrap] %s\n' "$*" >&2; }

need_apt=()
command -v debootstrap >/dev/null 2>&1 || need_apt+=(debootstrap)
if ! docker info >/dev/null 2>&1 && ! command -v dockerd >/dev/null 2>&1; then
  need_apt+=(docker.io)
fi
if [ ${#need_apt[@]} -gt 0 ]; then
  log "installing ${need_apt[*]} from Debian"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

if ! docker info >/dev/null 2>&1; then
  log "no Docker engine answers: starting dockerd in the background (log: $cache/dockerd.log)"
  nohup dockerd >"$cache/dockerd.log" 2>&1 &
  for _ in $(seq 1 60); do
    docker info >/dev/null 2>&1 && break
    sleep 1
  done
  docker info >/dev/null 2>&1 || { log "dockerd did not come up; see $cache/dockerd.log"; tail -20 "$cache/dockerd.log" >&2; exit 1; }
fi

# Tooling venv, keyed by the lock's checksum so a changed lock gives a fresh venv.
lock="$repo/requirements/control.txt"
key=$(sha256sum "$lock" | cut -c1-12)
venv="$cache/venvs/control-$key"
if [ ! -x "$venv/bin/ansible-playbook" ] || [ ! -f "$venv/.complete" ]; then
  log "creating the tooling venv $venv"
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check -r "$lock"
  touch "$venv/.complete"
fi
echo "$venv"
