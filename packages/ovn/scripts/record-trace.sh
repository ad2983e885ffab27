#!/usr/bin/env bash
# record-trace.sh [SCENARIO_DIR...]
# Re-records the ovn-trace goldens. Each scenario directory under test/golden/trace/ holds
#   config.nbctl  ovn-nbctl commands, one per line (the "ovn-nbctl" prefix may be omitted;
#                 "ovn-sbctl …" lines run after a sync, e.g. to add MAC_Binding/FDB rows)
#   cases.txt     NAME|ovn-trace arguments (shell words), one case per line
# For each scenario this starts a fresh oracle sandbox (real ovn-northd 23.03, no
# ovn-controller), applies the config, captures the SB bundle into sb/ with
# scripts/capture-sb.sh, and runs every case with real ovn-trace in the three output modes,
# saving NAME.detailed.txt / NAME.summary.txt / NAME.minimal.txt, each starting with the
# command line ("$ ovn-trace 'arg' …") as in ../shared/oracle/samples.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
GOLD="$HERE/../test/golden/trace"
REPO=$(cd "$HERE/../../.." && pwd)
SHARED=${OVNSIM_SHARED:-$(cd "$REPO/.." && pwd)/shared}
ORACLE="$SHARED/oracle"
DIR=/tmp/o-ot-rec.$$
scen=("$@")
[ ${#scen[@]} -eq 0 ] && scen=("$GOLD"/*/)

apply_config() { # file
  local f=$1 line
  while IFS= read -r line || [ -n "$line" ]; do
    case "$line" in ''|'#'*) continue ;; esac
    if [[ "$line" == ovn-sbctl* ]]; then
      ovn-nbctl --wait=sb sync
      eval "$line"
    elif [[ "$line" == ovn-nbctl* ]]; then eval "$line"; else eval "ovn-nbctl $line"; fi
  done < "$f"
  ovn-nbctl --wait=sb sync
}

for s in "${scen[@]}"; do
  s=${s%/}
  name=$(basename "$s")
  "$ORACLE/oracle-up.sh" "$DIR" --no-ovs >/dev/null
  (
    # shellcheck disable=SC1091
    . "$DIR/env.sh"
    apply_config "$s/config.nbctl"
    rm -rf "$s/sb" && "$REPO/scripts/capture-sb.sh" "$s/sb" >/dev/null
    rm -f "$s"/*.detailed.txt "$s"/*.summary.txt "$s"/*.minimal.txt
    n=0
    while IFS='|' read -r cname cargs || [ -n "$cname" ]; do
      case "$cname" in ''|'#'*) continue ;; esac
      for mode in detailed summary minimal; do
        eval "set -- --$mode $cargs"
        { printf '$ ovn-trace'; printf " '%s'" "$@"; echo
          ovn-trace "$@" 2>&1 || true; } > "$s/$cname.$mode.txt"
      done
      n=$((n + 1))
    done < "$s/cases.txt"
    echo "$name: $(grep -c 'table=' "$s/sb/lflow-list.txt") lflows, $n cases"
  ) || { "$ORACLE/oracle-down.sh" "$DIR" --rm >/dev/null; echo "FAILED: $s" >&2; exit 1; }
  "$ORACLE/oracle-down.sh" "$DIR" --rm >/dev/null
done
