#!/usr/bin/env bash
# The redeploy entry point on an Airflow VM (run as root). Moves the VM's clone of the repository to
# exactly one commit and swaps the DAG folder to that commit's dags/ in one rename(2):
#
#   /opt/airflow/repo                  clone of the hosted repository, checked out (detached) at the commit
#   /opt/airflow/releases/<sha>/dags   dags/ of that commit, read-only for the airflow user
#   /opt/airflow/dags -> releases/<sha>/dags
#
# Running tasks keep the code they already loaded; every later parse or task start reads the new files.
# Nothing is restarted here. The last line of output is a JSON report, e.g.
#   {"host": "agk-main", "previous": "<sha>|null", "target": "<sha>", "changed": true,
#    "dags_changed": true, "converge": false, "converge_paths": []}
# "converge" is true when the step from previous to target touches what only `ansible-playbook site.yml`
# applies (ansible/, templates/, requirements/, plugins/) or when there is no previous release.
#
# Usage: vm-redeploy.sh --repo URL --version SHA|BRANCH [--plan] [--home DIR] [--keep N]
#                       [--ssh-key-secret ID --secret-project PROJECT] [--known-hosts FILE]
#   --plan  fetch and report only: the DAG folder and the checkout are not touched.
# Called by ansible/roles/airflow_dags (site.yml, ansible/redeploy*.yml) and so by scripts/deploy/deploy.sh.
set -euo pipefail

repo_url="" version="" plan=false home=/opt/airflow keep=5 key_secret="" secret_project="" known_hosts=""
group=airflow
while [ $# -gt 0 ]; do
  case "$1" in
    --repo) repo_url=$2; shift 2 ;;
    --version) version=$2; shift 2 ;;
    --plan) plan=true; shift ;;
    --home) home=$2; shift 2 ;;
    --keep) keep=$2; shift 2 ;;
    --group) group=$2; shift 2 ;;
    --ssh-key-secret) key_secret=$2; shift 2 ;;
    --secret-project) secret_project=$2; shift 2 ;;
    --known-hosts) known_hosts=$2; shift 2 ;;
    *) echo "vm-redeploy: unknown argument $1" >&2; exit 2 ;;
  esac
done
[ -n "$repo_url" ] && [ -n "$version" ] || { echo "vm-redeploy: --repo and --version are required" >&2; exit 2; }
[ "$(id -u)" -eq 0 ] || { echo "vm-redeploy: run as root" >&2; exit 2; }

clone="$home/repo"
releases="$home/releases"
link="$home/dags"
converge_dirs=(ansible templates requirements plugins)
changed=false
log() { echo "vm-redeploy: $*" >&2; }

# --- credentials: a read-only deploy key from Secret Manager (GCP), nothing for the local test bed ----
if [ -n "$key_secret" ]; then
  keyfile=$(mktemp /run/agk-deploy-key.XXXXXX)
  trap 'rm -f "$keyfile"' EXIT
  gcloud secrets versions access latest --secret="$key_secret" ${secret_project:+--project="$secret_project"} >"$keyfile"
  chmod 0600 "$keyfile"
  kh=${known_hosts:-$home/.deploy_known_hosts}
  export GIT_SSH_COMMAND="ssh -i $keyfile -o IdentitiesOnly=yes -o BatchMode=yes -o StrictHostKeyChecking=accept-new -o UserKnownHostsFile=$kh"
fi

git_() { git -C "$clone" "$@"; }

# --- the clone ------------------------------------------------------------------------------------
if [ ! -d "$clone/.git" ]; then
  log "cloning $repo_url into $clone"
  rm -rf "$clone"
  git clone --quiet --no-checkout "$repo_url" "$clone"
  chmod 0750 "$clone"
elif [ "$(git_ remote get-url origin)" != "$repo_url" ]; then
  git_ remote set-url origin "$repo_url"
fi

is_sha() { [[ $1 =~ ^[0-9a-f]{40}$ ]]; }
has_commit() { git_ cat-file -e "$1^{commit}" 2>/dev/null; }

# Fetch only when needed: an exact commit we already hold needs no network (and changes nothing).
if is_sha "$version"; then
  if ! has_commit "$version"; then
    git_ fetch --quiet --prune origin
    has_commit "$version" || git_ fetch --quiet origin "$version"
  fi
  target=$version
else
  git_ fetch --quiet --prune origin
  target=$(git_ rev-parse --verify "refs/remotes/origin/$version^{commit}")
fi
has_commit "$target" || { log "commit $target not found in $repo_url"; exit 1; }

# --- what is deployed now -------------------------------------------------------------------------
previous=""
if [ -L "$link" ]; then
  previous=$(basename "$(dirname "$(readlink "$link")")")
  is_sha "$previous" || previous=""
fi

dags_changed=true converge=true converge_paths=""
if [ -n "$previous" ] && has_commit "$previous"; then
  if git_ diff --quiet "$previous" "$target" -- dags; then dags_changed=false; fi
  converge_paths=$(git_ diff --name-only "$previous" "$target" -- "${converge_dirs[@]}")
  [ -n "$converge_paths" ] || converge=false
fi

report() {
  python3 - "$@" <<'EOF'
import json, socket, sys
prev, target, changed, dags, converge, paths = sys.argv[1:7]
print(json.dumps({"host": socket.gethostname(), "previous": prev or None, "target": target,
                  "changed": changed == "true", "dags_changed": dags == "true",
                  "converge": converge == "true", "converge_paths": [p for p in paths.split("\n") if p]}))
EOF
}

if $plan; then
  report "$previous" "$target" false "$dags_changed" "$converge" "$converge_paths"
  exit 0
fi

# --- the checkout: exactly the target commit --------------------------------------------------------
if [ "$(git_ rev-parse -q --verify HEAD || true)" != "$target" ]; then
  git_ -c advice.detachedHead=false checkout --quiet --force --detach "$target"
  changed=true
fi

# --- the release: dags/ of the target, complete before it is visible ------------------------------
install -d -o root -g "$group" -m 0755 "$releases"
release="$releases/$target"
if [ ! -d "$release" ]; then
  tmp=$(mktemp -d "$releases/.incoming.XXXXXX")
  if git_ cat-file -e "$target:dags" 2>/dev/null; then
    git_ archive --format=tar "$target" dags | tar -x -C "$tmp"
  fi
  mkdir -p "$tmp/dags"
  chown -R root:"$group" "$tmp"
  find "$tmp" -type d -exec chmod 0755 {} +
  find "$tmp" -type f -exec chmod 0644 {} +
  mv -T "$tmp" "$release"
  changed=true
fi

# --- the swap: one rename(2), so readers see either the old or the new folder, never a mix ----------
if [ "$(readlink "$link" 2>/dev/null || true)" != "$release/dags" ]; then
  ln -sfn "$release/dags" "$link.next"
  if [ -d "$link" ] && [ ! -L "$link" ]; then
    # First git deploy on a VM whose DAG folder was a plain directory (copy mode): keep it aside.
    mv -T "$link" "$home/dags.before-git"
  fi
  mv -T "$link.next" "$link"
  changed=true
  log "DAG folder now at ${target:0:12} (was ${previous:0:12})"
fi

# --- keep the newest $keep releases (for a quick manual rollback); never the current one ------------
mapfile -t old < <(find "$releases" -mindepth 1 -maxdepth 1 -type d -regex '.*/[0-9a-f]\{40\}' -printf '%T@ %p\n' \
  | sort -rn | awk -v keep="$keep" 'NR > keep {print $2}')
for dir in "${old[@]}"; do
  [ "$dir" = "$release" ] && continue
  rm -rf "$dir"
  changed=true
done

report "$previous" "$target" "$changed" "$([ "$previous" = "$target" ] && echo false || echo "$dags_changed")" \
  "$([ "$previous" = "$target" ] && echo false || echo "$converge")" "$converge_paths"
