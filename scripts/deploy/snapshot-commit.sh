#!/usr/bin/env bash
# Print a commit of this repository's working tree as it is now (tracked and untracked files, .gitignore
# respected), with HEAD as parent; prints HEAD itself when the tree is clean. The user's index, branches
# and files are not touched: the commit lives only in the object store until someone pushes it.
# The local test bed pushes it to its git remote (ansible/roles/git_remote_local, tests/deploy), standing
# in for "the developer pushed to main".
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
index=$(mktemp -u "${TMPDIR:-/tmp}/agk-snapshot-index.XXXXXX")
trap 'rm -f "$index"' EXIT
export GIT_INDEX_FILE=$index
git -C "$repo" read-tree HEAD
git -C "$repo" add -A .
tree=$(git -C "$repo" write-tree)
if [ "$tree" = "$(git -C "$repo" rev-parse 'HEAD^{tree}')" ]; then
  git -C "$repo" rev-parse HEAD
  exit 0
fi
# Same tree on the same HEAD -> same commit id (fixed identity and date), so re-seeding is a no-op.
date=$(git -C "$repo" log -1 --format=%cI HEAD)
GIT_AUTHOR_NAME=airflow-gcp-kit GIT_AUTHOR_EMAIL=snapshot@airflow-gcp-kit.invalid GIT_AUTHOR_DATE=$date \
GIT_COMMITTER_NAME=airflow-gcp-kit GIT_COMMITTER_EMAIL=snapshot@airflow-gcp-kit.invalid GIT_COMMITTER_DATE=$date \
  git -C "$repo" commit-tree "$tree" -p HEAD -m "Working tree snapshot of $(git -C "$repo" rev-parse --short HEAD)"
