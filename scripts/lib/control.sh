# shellcheck shell=bash
# Sourced by scripts that need the control machine's tooling: agk_control_venv prints the path of the pinned
# tooling venv (requirements/control.txt: ansible, molecule, testinfra, linters) with this checkout's kitlib
# installed in it. Nothing else: no Docker, no apt (scripts/bootstrap.sh adds those for the local test bed;
# scripts/deploy/deploy.sh, which runs in Cloud Build, needs only this). A separate file beside kit.sh,
# built on its agk_venv.
# shellcheck source=scripts/lib/kit.sh
source "$(dirname "${BASH_SOURCE[0]}")/kit.sh"

# kitlib's content hash: pyproject.toml and every file of the package, by path and content.
agk_kitlib_hash() {
  (cd "$AGK_REPO" && find pyproject.toml scripts/kitlib -type f -name '*.py' -o -name pyproject.toml |
    LC_ALL=C sort | xargs sha256sum | sha256sum | cut -c1-16)
}

# The venv is shared by every checkout on this machine (it is keyed by control.txt only), so kitlib is
# installed non-editable, from a copy of this checkout's sources, whenever the hash recorded in the venv is
# not this checkout's. A lock serialises checkouts that install at the same moment.
agk_control_venv() {
  local venv want tmp
  venv=$(agk_venv control -r "$AGK_REPO/requirements/control.txt") || return 1
  want=$(agk_kitlib_hash)
  if [ "$(cat "$venv/.kitlib-hash" 2>/dev/null)" != "$want" ]; then
    (
      flock 9
      [ "$(cat "$venv/.kitlib-hash" 2>/dev/null)" = "$want" ] && exit 0
      agk_log "installing kitlib $want from $AGK_REPO into $venv"
      # A copy keeps setuptools' build/ and *.egg-info out of the checkout.
      tmp=$(mktemp -d "${TMPDIR:-/tmp}/agk-kitlib.XXXXXX")
      trap 'rm -rf "$tmp"' EXIT
      mkdir -p "$tmp/scripts"
      cp "$AGK_REPO/pyproject.toml" "$tmp/" && cp -r "$AGK_REPO/scripts/kitlib" "$tmp/scripts/" &&
        find "$tmp" -name __pycache__ -prune -exec rm -rf {} + &&
        "$venv/bin/pip" install -q --disable-pip-version-check --no-deps --no-build-isolation \
          --force-reinstall "$tmp" >&2 &&
        printf '%s\n' "$want" >"$venv/.kitlib-hash"
    ) 9>"$venv/.kitlib.lock" || return 1
  fi
  printf '%s\n' "$venv"
}

# agk_wheelhouse: export AGK_WHEELHOUSE, the wheel folder the test-bed VMs install from (and the DAG tests'
# venv, offline), built once by kitlib.wheelhouse. Needs the control venv's python on PATH.
agk_wheelhouse() {
  [ -n "${AGK_WHEELHOUSE:-}" ] || AGK_WHEELHOUSE=$(python -m kitlib.wheelhouse) || return 1
  export AGK_WHEELHOUSE
}
