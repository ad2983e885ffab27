#!/usr/bin/env bash
# record-golden.sh SANDBOX OUTDIR SCENARIO
# Records a golden for @ovnsim/controller from the real ovn-controller 23.03: starts
# `oracle-up.sh SANDBOX --controller`, applies SCENARIO (a file of shell lines run with the
# sandbox's env: ovn-nbctl / ovs-vsctl commands), waits for the chassis (--wait=hv), then writes
# OUTDIR/sb (capture-sb.sh) and OUTDIR/node (capture-node.sh; node/br-int.flows.txt is the
# expected output) and stops the sandbox.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../../.." && pwd)
SHARED=${OVNSIM_SHARED:-$ROOT/../shared}
SB=${1:?usage: record-golden.sh SANDBOX OUTDIR SCENARIO}
OUT=${2:?}
SCEN=$(cd "$(dirname "${3:?}")" && pwd)/$(basename "$3")
"$SHARED/oracle/oracle-up.sh" "$SB" --controller >/dev/null
trap '"$SHARED/oracle/oracle-down.sh" "$SB" --rm >/dev/null 2>&1 || true' EXIT
# shellcheck disable=SC1091
. "$SB/env.sh"
# shellcheck disable=SC1090
. "$SCEN"
ovn-nbctl --timeout=30 --wait=hv sync
sleep 0.5
mkdir -p "$OUT"
"$ROOT/scripts/capture-sb.sh" "$OUT/sb" >/dev/null
"$ROOT/scripts/capture-node.sh" "$OUT/node" >/dev/null
echo "recorded $OUT: $(grep -c 'table=' "$OUT/node/br-int.flows.txt") br-int flows"
