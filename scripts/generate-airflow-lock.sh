#!/usr/bin/env bash
# Regenerate requirements/airflow-lock.txt from requirements/airflow-top.txt and requirements/airflow-lean.txt.
# Everything runs inside the local Debian 12 VM image, on the Python the VMs really have (3.11.2 on Debian 12
# and on GCE): a lock resolved on a newer 3.11.x picks packages that refuse to install there.
#   1. pip resolves airflow-top.txt into a full venv; `pip check` must pass there.
#   2. scripts/lean_lock.py keeps what the top level needs minus the packages airflow-lean.txt leaves out, and
#      notes the size of what is in and out, and what requires each heavy package.
#   3. A fresh venv gets exactly those pins (--no-deps); every requirement in it must be met except the ones
#      left out on purpose, and every module in requirements/airflow-imports.txt must import.
# The lock is written only if all of that passes. Downloads are cached in ~/.cache/airflow-gcp-kit/pip-lock.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=scripts/lib/kit.sh
source "$repo/scripts/lib/kit.sh"
image=$(bash "$repo/scripts/build-vm-image.sh")
mkdir -p "$AGK_CACHE/pip-lock"
out=$(mktemp)
docker run --rm -v "$repo/requirements:/req:ro" -v "$repo/scripts/lean_lock.py:/lean_lock.py:ro" \
  -v "$AGK_CACHE/pip-lock:/root/.cache/pip" -v /etc/ssl/certs/ca-certificates.crt:/host-ca.crt:ro \
  -e PIP_CERT=/host-ca.crt -e PIP_DISABLE_PIP_VERSION_CHECK=1 "$image" bash -euo pipefail -c '
    apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null
    python3 -m venv /full
    /full/bin/pip install -q -r /req/airflow-top.txt >&2
    /full/bin/pip check >&2
    /full/bin/python /lean_lock.py /req/airflow-top.txt /req/airflow-lean.txt >/tmp/lean.txt
    python3 -m venv --without-pip /lean
    /full/bin/pip --python /lean/bin/python install -q --no-deps -r /tmp/lean.txt >&2
    /lean/bin/python /lean_lock.py --check /req/airflow-lean.txt >&2
    grep -v "^#" /req/airflow-imports.txt | grep . | while read -r module; do
      /lean/bin/python -W ignore -c "import $module" >/dev/null 2>&1 ||
        { echo "the lean lock cannot import $module:" >&2; /lean/bin/python -c "import $module" >&2; exit 1; }
    done
    echo "lean venv: $(du -sm /lean | cut -f1) MB" >&2
    echo "# python $(python3 -c "import platform; print(platform.python_version())") on $(. /etc/os-release; echo $PRETTY_NAME)"
    cat /tmp/lean.txt
  ' >"$out"
{
  cat <<'HEADER'
# Pinned lock for the Airflow virtualenv on every VM (main, workers, edge hosts). Do not edit by hand:
# regenerate with scripts/generate-airflow-lock.sh from requirements/airflow-top.txt minus
# requirements/airflow-lean.txt. Resolved and installed on Debian 12's Python; the full resolve passed
# `pip check`, and a venv of exactly these pins met every requirement but the ones left out on purpose and
# imported every module in requirements/airflow-imports.txt. The VMs install exactly these pins, nothing
# else (`uv pip sync`). Airflow's constraints files are not used.
HEADER
  cat "$out"
} >"$repo/requirements/airflow-lock.txt"
rm -f "$out"
echo "wrote requirements/airflow-lock.txt ($(grep -c '==' "$repo/requirements/airflow-lock.txt") pins)"
