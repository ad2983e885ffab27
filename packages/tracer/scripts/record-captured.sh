#!/usr/bin/env bash
# record-captured.sh SANDBOX OUTDIR
# Records the golden of `ovnsim trace --sb --node` (test/golden/remote): the controller's
# `remote` scenario (hv1 local, hv2 a remote chassis over Geneve) in the real ovn-controller
# 23.03 sandbox, its SB, NB and node captures (capture-sb.sh, capture-nb.sh, capture-node.sh), and the real
# `ovs-appctl ofproto/trace br-int FLOW` of each flow in OUTDIR/flows.txt (one per line)
# into OUTDIR/traces/N.txt, and that trace through the real ovn-detrace into N.detrace.txt.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../../.." && pwd)
SHARED=${OVNSIM_SHARED:-$ROOT/../shared}
SB=${1:?usage: record-captured.sh SANDBOX OUTDIR}
OUT=${2:?}
"$SHARED/oracle/oracle-up.sh" "$SB" --controller >/dev/null
trap '"$SHARED/oracle/oracle-down.sh" "$SB" --rm >/dev/null 2>&1 || true' EXIT
# shellcheck disable=SC1091
. "$SB/env.sh"
# shellcheck disable=SC1091
. "$ROOT/packages/controller/scripts/remote.scenario.sh"
ovn-nbctl --timeout=30 --wait=hv sync
sleep 0.5
mkdir -p "$OUT/traces"
"$ROOT/scripts/capture-sb.sh" "$OUT/sb" >/dev/null
"$ROOT/scripts/capture-node.sh" "$OUT/node" >/dev/null
"$ROOT/scripts/capture-nb.sh" "$OUT/nb" >/dev/null
n=0
while IFS= read -r flow; do
  [ -z "$flow" ] && continue
  n=$((n + 1))
  ovs-appctl ofproto/trace br-int "$flow" > "$OUT/traces/$n.txt"
  # The same trace through the real ovn-detrace (live SB/NB/OVS databases).
  ovn-detrace --ovnsb="$OVN_SB_DB" --ovnnb="$OVN_NB_DB" --ovsdb="unix:$OVS_RUNDIR/db.sock" \
    < "$OUT/traces/$n.txt" > "$OUT/traces/$n.detrace.txt" 2>&1 || true
done < "$OUT/flows.txt"
echo "recorded $OUT: $n traces"
