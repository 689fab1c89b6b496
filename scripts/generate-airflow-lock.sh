#!/usr/bin/env bash
# Regenerate requirements/airflow-lock.txt from requirements/airflow-top.txt.
# The resolve and the verifying install run inside the local Debian 12 VM image, on the Python the VMs
# really have (3.11.2 on Debian 12 and on GCE): a lock resolved on a newer 3.11.x picks packages that
# refuse to install there. The lock is written only if `pip check` and an import of every provider pass.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
image=$(bash "$repo/scripts/build-vm-image.sh")
out=$(mktemp)
docker run --rm -v "$repo/requirements:/req:ro" -v /etc/ssl/certs/ca-certificates.crt:/host-ca.crt:ro \
  -e PIP_CERT=/host-ca.crt -e PIP_DISABLE_PIP_VERSION_CHECK=1 "$image" bash -euo pipefail -c '
    apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null
    python3 -m venv /venv
    /venv/bin/pip install -q -r /req/airflow-top.txt >&2
    /venv/bin/pip check >&2
    /venv/bin/python -c "import airflow.providers.celery.executors.celery_executor, airflow.providers.google.cloud.log.gcs_task_handler, airflow.providers.fab.auth_manager.fab_auth_manager, airflow.providers.postgres.hooks.postgres" >&2
    echo "# python $(python3 -c "import platform; print(platform.python_version())") on $(. /etc/os-release; echo $PRETTY_NAME)"
    /venv/bin/pip freeze --all --exclude pip --exclude setuptools --exclude wheel
  ' >"$out"
{
  cat <<'HEADER'
# Pinned lock for the Airflow virtualenv on every VM (main and workers). Do not edit by hand:
# regenerate with scripts/generate-airflow-lock.sh from requirements/airflow-top.txt. It was resolved and
# installed on Debian 12's Python and verified there (`pip check`, provider imports). The VMs install
# exactly these pins with `pip install --no-deps -r`. Airflow's constraints files are not used.
HEADER
  cat "$out"
} >"$repo/requirements/airflow-lock.txt"
rm -f "$out"
echo "wrote requirements/airflow-lock.txt ($(grep -c '==' "$repo/requirements/airflow-lock.txt") pins)"
