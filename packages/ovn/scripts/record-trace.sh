#!/usr/bin/env bash
# record-trace.sh SCENARIO_DIR...
# Records an ovn-trace golden scenario from the real OVN 23.03 of ../shared/oracle: applies
# SCENARIO_DIR/config.nbctl to a fresh sandbox (lines as ovn-nbctl arguments, "ovn-sbctl …"
# lines as they are), captures the southbound bundle into SCENARIO_DIR/sb (scripts/capture-sb.sh)
# and, for each "NAME|ARGS" line of SCENARIO_DIR/cases.txt, saves the real ovn-trace output
# of every mode as NAME.{detailed,summary,minimal}.txt, headed by the command line.
set -euo pipefail
shopt -s inherit_errexit
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../../.." && pwd)
SHARED=${OVNSIM_SHARED:-$(cd "$ROOT/.." && pwd)/shared}
DIR=/tmp/o-trec.$$
for scen in "$@"; do
  "$SHARED/oracle/oracle-up.sh" "$DIR" --no-ovs >/dev/null
  (
    # shellcheck disable=SC1091
    . "$DIR/env.sh"
    while IFS= read -r line || [ -n "$line" ]; do
      case "$line" in ''|'#'*) continue ;; esac
      if [[ "$line" == ovn-sbctl* ]]; then ovn-nbctl --wait=sb sync; eval "$line"; else eval "ovn-nbctl $line"; fi
    done < "$scen/config.nbctl"
    ovn-nbctl --wait=sb sync
    rm -rf "$scen/sb"
    "$ROOT/scripts/capture-sb.sh" "$scen/sb" >/dev/null
    while IFS='|' read -r name args || [ -n "$name" ]; do
      case "$name" in ''|'#'*) continue ;; esac
      for mode in detailed summary minimal; do
        eval "set -- --$mode $args"
        {
          printf '$ ovn-trace'
          for a in "$@"; do printf " '%s'" "${a//\'/\'\\\'\'}"; done
          printf '\n'
          ovn-trace "$@"
        } > "$scen/$name.$mode.txt"
      done
    done < "$scen/cases.txt"
  ) || { "$SHARED/oracle/oracle-down.sh" "$DIR" --rm >/dev/null; echo "FAILED: $scen" >&2; exit 1; }
  "$SHARED/oracle/oracle-down.sh" "$DIR" --rm >/dev/null
  echo "$(basename "$scen"): $(grep -c . "$scen/cases.txt") cases"
done
