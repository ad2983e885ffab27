#!/usr/bin/env bash
# record-northd.sh [CONFIG.nbctl...]
# Re-records the northd goldens: for each ovn-nbctl command file in test/golden/northd/
# (or the ones given), starts a fresh oracle sandbox (real ovn-northd 23.03, no ovn-controller),
# applies the file line by line (lines starting with "ovn-sbctl" go to ovn-sbctl, after a
# `--wait=sb sync` so Port_Bindings exist; other lines to ovn-nbctl), waits for northd and
# saves `ovn-sbctl lflow-list` as NAME.lflow-list.txt next to the config.
# Another northd (e.g. a Kube-OVN-patched build): NORTHD_DIR=<dir holding ovn-northd>
# NB_SCHEMA=<ovn-nb.ovsschema> SB_SCHEMA=<ovn-sb.ovsschema> record-northd.sh CONFIG...
set -euo pipefail
if [ -n "${NORTHD_DIR:-}" ]; then export PATH="$NORTHD_DIR:$PATH"; fi
HERE=$(cd "$(dirname "$0")" && pwd)
GOLD="$HERE/../test/golden/northd"
SHARED=${OVNSIM_SHARED:-$(cd "$HERE/../../../.." && pwd)/shared}
ORACLE="$SHARED/oracle"
DIR=/tmp/o-nd-rec.$$
configs=("$@")
[ ${#configs[@]} -eq 0 ] && configs=("$GOLD"/*.nbctl)

apply_config() { # file
  local f=$1 line n=0
  while IFS= read -r line || [ -n "$line" ]; do
    n=$((n + 1))
    case "$line" in ''|'#'*) continue ;; esac
    if [[ "$line" == ovn-sbctl* ]]; then
      ovn-nbctl --wait=sb sync
      eval "$line" || { echo "$f:$n: failed: $line" >&2; return 1; }
    elif [[ "$line" == ovn-nbctl* ]]; then
      eval "$line" || { echo "$f:$n: failed: $line" >&2; return 1; }
    else
      eval "ovn-nbctl $line" || { echo "$f:$n: failed: $line" >&2; return 1; }
    fi
  done < "$f"
  ovn-nbctl --wait=sb sync
  # ovnsim computes from scratch; the real northd's incremental engine can leave stale flows
  # (e.g. Kube-OVN's 140 flows when Port_Bindings change after the LB), so record its
  # steady state after a full recompute.
  ovn-appctl -t ovn-northd inc-engine/recompute >/dev/null
  ovn-nbctl --wait=sb sync
}

for cfg in "${configs[@]}"; do
  name=$(basename "$cfg" .nbctl)
  "$ORACLE/oracle-up.sh" "$DIR" --no-ovs >/dev/null
  (
    # shellcheck disable=SC1091
    . "$DIR/env.sh"
    apply_config "$cfg" || exit 1
    ovn-sbctl lflow-list > "$(dirname "$cfg")/$name.lflow-list.txt"
  ) || { "$ORACLE/oracle-down.sh" "$DIR" --rm >/dev/null; echo "FAILED: $cfg" >&2; exit 1; }
  "$ORACLE/oracle-down.sh" "$DIR" --rm >/dev/null
  echo "$name: $(grep -c 'table=' "$(dirname "$cfg")/$name.lflow-list.txt") lflows"
done
