#!/usr/bin/env bash
# Cloud Build's deploy build (cloudbuild-deploy.yaml), the manual redeploy and rollback, and the local tests'
# deploy: move every Airflow VM to exactly one commit, restarting only what that commit needs.
#
# Usage: scripts/deploy/deploy.sh COMMIT_SHA
#
# Route, chosen from ansible/redeploy-plan.yml (each VM fetches the commit and compares it with the commit
# its DAG folder serves):
#   unchanged  every VM serves the commit already: nothing else runs, nothing changes, nothing restarts
#   dags       no VM's step touches ansible/, templates/, requirements/ or plugins/: ansible/redeploy.yml
#              swaps the DAG folders atomically (workers first, then main + `airflow dags reserialize`);
#              no service restarts
#   converge   config, plugins or requirements changed (or a VM has no release yet): ansible-playbook
#              site.yml at this commit; its handlers restart only what changed, workers one VM at a time,
#              each draining its running tasks first (warm shutdown, TimeoutStopSec > task time limit)
#
# Environment:
#   AGK_INVENTORY          inventory under ansible/ (default inventories/gcp; the local tests use inventories/local)
#   AGK_BUILT_COMMIT       the commit this checkout is at (Cloud Build's deploy build: the branch's head); when it is
#                          not COMMIT_SHA, the branch moved on after COMMIT_SHA's tests: nothing is deployed
#   AGK_REPO_URL           URL the VMs fetch (default: the inventory's airflow_dags_git_repo)
#   AGK_DEPLOY_KEY_SECRET  Secret Manager id of the VMs' read-only deploy key (GCP)
#   AGK_TF_OUTPUTS         Terraform's `ansible` output as JSON, read by the GCP inventory (Cloud Build has no state)
#   AGK_OSLOGIN_SETUP=1    register a short-lived SSH key with OS Login for this account first (Cloud Build)
#   AGK_DEPLOY_REPORT      also write the JSON report to this file
#   AGK_ANSIBLE_ARGS       extra ansible-playbook arguments (split on spaces)
# The last line of output is the JSON report.
set -euo pipefail
sha=${1:-}
[[ $sha =~ ^[0-9a-f]{40}$ ]] || { echo "usage: $0 COMMIT_SHA (40 hex digits)" >&2; exit 2; }
AGK_LOG_TAG=deploy
# shellcheck source=scripts/lib/control.sh
source "$(dirname "$0")/../lib/control.sh"
# This checkout's playbooks would converge the VMs against another commit's DAGs; the newer commit's own tests
# start its own deploy.
if [ -n "${AGK_BUILT_COMMIT:-}" ] && [ "$AGK_BUILT_COMMIT" != "$sha" ]; then
  agk_log "the branch is at ${AGK_BUILT_COMMIT:0:12}, ${sha:0:12} was tested: nothing deployed (the newer commit's build deploys)"
  echo "{\"commit\": \"$sha\", \"route\": \"superseded\", \"changed\": false, \"head\": \"$AGK_BUILT_COMMIT\"}"
  exit 0
fi
inventory=${AGK_INVENTORY:-inventories/gcp}
work=$(mktemp -d "${TMPDIR:-/tmp}/agk-deploy.XXXXXX")
trap 'rm -rf "$work"' EXIT
start=$SECONDS

# --- tooling: the pinned control venv with kitlib (no Docker: this runs in Cloud Build too) -----------
# Debian's python3 has no ensurepip without python3-venv, which the gcloud builder image (cloudbuild-deploy.yaml)
# lacks: the build step runs as root there, so it installs it; anywhere else the message says what to install.
if ! python3 -c 'import ensurepip' 2>/dev/null; then
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
    agk_log "python3 cannot make a venv (no ensurepip): installing python3-venv"
    apt-get -qq update >&2 && DEBIAN_FRONTEND=noninteractive apt-get -qq install -y python3-venv >&2
  else
    echo "deploy: python3 cannot make a virtualenv: install python3-venv (Debian, Ubuntu)" >&2
    exit 1
  fi
fi
venv=$(agk_control_venv)
export PATH="$venv/bin:$PATH"

# --- GCP: an OS Login identity for SSH through IAP (the inventory reads $AGK_TF_OUTPUTS itself) ---------
if [ "${AGK_OSLOGIN_SETUP:-0}" = 1 ]; then
  key=${AGK_SSH_KEY:-$HOME/.ssh/google_compute_engine}
  mkdir -p "$(dirname "$key")"
  [ -f "$key" ] || ssh-keygen -q -t ed25519 -N '' -C "cloudbuild-${BUILD_ID:-manual}" -f "$key"
  gcloud compute os-login ssh-keys add --key-file="$key.pub" --ttl=2h >/dev/null
  AGK_SSH_USER=$(gcloud compute os-login describe-profile --format='value(posixAccounts[0].username)')
  export AGK_SSH_KEY=$key AGK_SSH_USER
fi

extra=(-e "airflow_dags_git_version=$sha")
[ -z "${AGK_REPO_URL:-}" ] || extra+=(-e "airflow_dags_git_repo=$AGK_REPO_URL")
[ -z "${AGK_DEPLOY_KEY_SECRET:-}" ] || extra+=(-e "airflow_dags_git_ssh_key_secret=$AGK_DEPLOY_KEY_SECRET")
# shellcheck disable=SC2206
[ -z "${AGK_ANSIBLE_ARGS:-}" ] || extra+=($AGK_ANSIBLE_ARGS)

cd "$AGK_REPO/ansible"
agk_log "plan: every VM fetches ${sha:0:12}"
ansible-playbook -i "$inventory" redeploy-plan.yml "${extra[@]}" -e "redeploy_plan_file=$work/plan.json" \
  >"$work/plan.log" 2>&1 || { cat "$work/plan.log" >&2; agk_log "plan failed: nothing was deployed"; exit 1; }

# The route (unchanged, dags or converge) and its playbook: kitlib/redeploy.py (tests/cloudbuild).
decision=$(python -m kitlib.redeploy route "$work/plan.json" "$sha")
read -r route playbook <<<"$decision"
agk_log "route: $route"

if [ "$playbook" != - ]; then
  agk_log "ansible-playbook -i $inventory $playbook"
  if ! ansible-playbook -i "$inventory" "$playbook" "${extra[@]}" 2>&1 | tee "$work/apply.log" >&2; then
    agk_log "ansible-playbook $playbook failed"
    exit 1
  fi
fi

python -m kitlib.redeploy report "$work/plan.json" "$sha" "$route" --apply-log "$work/apply.log" \
  --seconds "$((SECONDS - start))" ${AGK_DEPLOY_REPORT:+--out "$AGK_DEPLOY_REPORT"}
