# shellcheck shell=bash
# Sourced by the kit's shell scripts: where the cache is, virtualenvs keyed by what they install, and the
# stage runner whose report ends in "N passed, N failed". One copy of each chore.
#
#   AGK_CACHE  everything heavy the kit builds or downloads (default ~/.cache/airflow-gcp-kit); every kit
#              environment variable starts with AGK_.

AGK_REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
AGK_CACHE=${AGK_CACHE:-$HOME/.cache/airflow-gcp-kit}
export AGK_CACHE

agk_log() { printf '[%s] %s\n' "${AGK_LOG_TAG:-kit}" "$*" >&2; }

# agk_venv NAME PIP_INSTALL_ARGS...
# A virtualenv in $AGK_CACHE/venvs/NAME-<key> with `pip install PIP_INSTALL_ARGS` done once; prints its path.
# The key is the checksum of every requirements file named with -r and of --no-deps, so a changed pin gives
# a fresh venv and an unchanged one costs nothing. --find-links/--index-url only say where the same pins come
# from and do not change the key. After a --no-deps install, `pip check` proves the files pin every
# dependency; with AGK_VENV_LEFT_OUT=FILE (a lean lock's exclusions) scripts/lean_lock.py --check does, and
# accepts the requirements FILE leaves out on purpose. A venv whose install did not finish (no .complete
# stamp) is rebuilt.
agk_venv() {
  local name=$1 arg prev="" key_input="" venv
  shift
  for arg in "$@"; do
    if [ "$prev" = -r ]; then key_input+="$(cat "$arg")"$'\n'; fi
    [ "$arg" = --no-deps ] && key_input+=$'--no-deps\n'
    prev=$arg
  done
  venv="$AGK_CACHE/venvs/$name-$(printf '%s' "$key_input" | sha256sum | cut -c1-12)"
  if [ ! -f "$venv/.complete" ]; then
    agk_log "creating venv $venv"
    rm -rf "$venv"
    python3 -m venv "$venv" &&
      "$venv/bin/pip" install -q --disable-pip-version-check "$@" || { rm -rf "$venv"; return 1; }
    if [[ " $* " == *" --no-deps "* ]]; then
      if [ -n "${AGK_VENV_LEFT_OUT:-}" ]; then
        "$venv/bin/python" "$AGK_REPO/scripts/lean_lock.py" --check "$AGK_VENV_LEFT_OUT" >&2
      else
        "$venv/bin/pip" check >&2
      fi || { rm -rf "$venv"; return 1; }
    fi
    touch "$venv/.complete"
  fi
  printf '%s\n' "$venv"
}

# Stage runner: agk_stage NAME COMMAND... runs one stage (its output as it comes, and kept in a log),
# records passed/FAILED and its wall time; agk_stage_note NAME TEXT adds a note to its summary line;
# agk_stage_summary prints the table and the closing "N passed, N failed" line and returns non-zero when a
# stage failed. Every stage runs, even after an earlier one failed. A failed stage's last lines are printed
# again just above the summary: CI often keeps only the end of a long run's output.
declare -a AGK_STAGES=()
declare -A AGK_STAGE_RESULT=() AGK_STAGE_SECONDS=() AGK_STAGE_NOTE=() AGK_STAGE_LOG=()
AGK_STAGE_TAIL_LINES=${AGK_STAGE_TAIL_LINES:-40}

agk_stage() {
  local name=$1 start=$SECONDS rc=0 log
  shift
  printf '\n=== stage: %s\n' "$name"
  log=$(mktemp "${TMPDIR:-/tmp}/agk-stage-$name.XXXXXX")
  AGK_STAGE_LOG[$name]=$log
  "$@" > >(tee "$log") 2>&1 || rc=$?
  wait "$!" 2>/dev/null || true  # that tee: the stage's last lines are out before its verdict
  AGK_STAGES+=("$name")
  AGK_STAGE_SECONDS[$name]=$((SECONDS - start))
  if [ "$rc" -eq 0 ]; then AGK_STAGE_RESULT[$name]=passed; else AGK_STAGE_RESULT[$name]=FAILED; fi
  printf '=== stage %s: %s in %d s\n' "$name" "${AGK_STAGE_RESULT[$name]}" "${AGK_STAGE_SECONDS[$name]}"
  return "$rc"
}

agk_stage_note() { AGK_STAGE_NOTE[$1]="${AGK_STAGE_NOTE[$1]:+${AGK_STAGE_NOTE[$1]}; }$2"; }

agk_stage_summary() {
  local title=$1 name passed=0 failed=0
  for name in "${AGK_STAGES[@]}"; do
    if [ "${AGK_STAGE_RESULT[$name]}" != passed ]; then
      printf '\n--- stage %s FAILED; its last %d lines (all of them: %s):\n' "$name" "$AGK_STAGE_TAIL_LINES" \
        "${AGK_STAGE_LOG[$name]}"
      tail -n "$AGK_STAGE_TAIL_LINES" "${AGK_STAGE_LOG[$name]}"
    fi
  done
  printf '\nSummary (%s):\n' "$title"
  for name in "${AGK_STAGES[@]}"; do
    printf '  %-18s %-7s %5d s  %s\n' "$name" "${AGK_STAGE_RESULT[$name]}" "${AGK_STAGE_SECONDS[$name]}" \
      "${AGK_STAGE_NOTE[$name]:-}"
    if [ "${AGK_STAGE_RESULT[$name]}" = passed ]; then passed=$((passed + 1)); else failed=$((failed + 1)); fi
  done
  printf '%d passed, %d failed\n' "$passed" "$failed"
  [ "$failed" -eq 0 ]
}
