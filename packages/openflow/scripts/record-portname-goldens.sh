#!/usr/bin/env bash
# record-portname-goldens.sh [OUTDIR]
# Records the `portnames` golden scenario from real OVS 3.1 (issue 18): a Kube-OVN-like node
# whose port names OpenFlow truncates (15 bytes) and where truncated names collide — two
# underlay subnets' `patch-localnet.<subnet>-to-br-int` on br-provider, ovn-controller's
# `patch-br-int-to-<localnet>` on br-int, long VIF names, a name starting with a digit. The
# bundle is captured by scripts/capture-bundle.sh, then its flows files are replaced by
# `ovs-ofctl --names` dumps (OF1.5 with stats on br-provider, OF1.3 --no-stats on br-int),
# which print truncated, quoted names, and numbers where names collide. Cases are traced
# with and without `ofproto/trace --names`.
# Output: OUTDIR/portnames/{bundle/*,cases.txt}; default OUTDIR packages/openflow/test/golden.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../../.." && pwd)
SHARED=${OVNSIM_SHARED:-$(cd "$ROOT/../shared" && pwd)}
OUT=${1:-$HERE/../test/golden}
SB=${OVNSIM_OF_SANDBOX:-/tmp/ovnsim-pn-$$}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
"$SHARED/oracle/oracle-up.sh" "$SB" --no-ovn >/dev/null
trap '"$SHARED/oracle/oracle-down.sh" "$SB" --rm >/dev/null 2>&1 || true' EXIT
# shellcheck disable=SC1091
. "$SB/env.sh"

SCEN=portnames
rm -rf "${OUT:?}/$SCEN"; mkdir -p "$OUT/$SCEN"
PA=patch-localnet.subnet-a-to-br-int PB=patch-localnet.subnet-b-to-br-int
IA=patch-br-int-to-localnet.subnet-a IB=patch-br-int-to-localnet.subnet-b
V1=0a1b2c3d4e5f_h V2=veth-pod-with-a-long-name V3=veth-pod-with-a-long-name2
ovs-vsctl add-br br-provider -- set bridge br-provider datapath_type=dummy protocols=OpenFlow10,OpenFlow13,OpenFlow15 \
  -- add-port br-provider eth0 trunks=100,200 -- set interface eth0 type=dummy \
  -- add-port br-provider $PA -- set interface $PA type=patch options:peer=$IA \
  -- add-port br-provider $PB -- set interface $PB type=patch options:peer=$IB
ovs-vsctl add-br br-int -- set bridge br-int datapath_type=dummy protocols=OpenFlow10,OpenFlow13,OpenFlow15 \
  -- add-port br-int $IA -- set interface $IA type=patch options:peer=$PA \
  -- add-port br-int $IB -- set interface $IB type=patch options:peer=$PB \
  -- add-port br-int $V1 -- set interface $V1 type=dummy \
  -- add-port br-int $V2 -- set interface $V2 type=dummy \
  -- add-port br-int $V3 -- set interface $V3 type=dummy \
  -- add-port br-int vif7 -- set interface vif7 type=dummy
OF="ovs-ofctl -O OpenFlow15"
$OF del-flows br-provider; $OF del-flows br-int
# Flows written with full names (ovs-ofctl resolves them through the port descriptions' names,
# so long names are written by number here).
n() { ovs-vsctl get Interface "$1" ofport; }
$OF add-flows br-provider - <<EOF2
priority=100,in_port=eth0,dl_vlan=100,actions=strip_vlan,output:$(n $PA)
priority=100,in_port=eth0,dl_vlan=200,actions=strip_vlan,output:$(n $PB)
priority=100,in_port=$(n $PA),actions=mod_vlan_vid:100,output:eth0
priority=100,in_port=$(n $PB),actions=mod_vlan_vid:200,output:eth0
priority=0,actions=NORMAL
EOF2
$OF add-flows br-int - <<EOF2
priority=100,in_port=$(n $IA),ip,nw_dst=10.0.1.5,actions=output:$(n $V1)
priority=100,in_port=$(n $IA),ip,nw_dst=10.0.1.6,actions=output:$(n $V2)
priority=100,in_port=$(n $IB),ip,nw_dst=10.0.2.7,actions=output:$(n $V3)
priority=100,in_port=$(n $IB),ip,nw_dst=10.0.2.8,actions=output:vif7
priority=90,in_port=$(n $IB),actions=resubmit($(n $V1),1)
table=1,priority=10,in_port=$(n $V1),actions=output:$(n $IA),output:vif7
priority=100,in_port=$(n $V1),actions=output:$(n $IA)
priority=100,in_port=$(n $V2),actions=output:$(n $IA)
priority=100,in_port=$(n $V3),actions=output:$(n $IB)
priority=100,in_port=vif7,actions=output:$(n $IB)
priority=0,actions=NORMAL
EOF2
B="$OUT/$SCEN/bundle"
"$ROOT/scripts/capture-bundle.sh" -o "$B" br-provider br-int >/dev/null
ovs-ofctl -O OpenFlow15 --names dump-flows br-provider > "$B/br-provider.flows.txt"
ovs-ofctl -O OpenFlow13 --names --no-stats dump-flows br-int > "$B/br-int.flows.txt"
t() { { echo "### $*"; ovs-appctl ofproto/trace "$@" 2>&1 || true; } >> "$OUT/$SCEN/cases.txt"; }
: > "$OUT/$SCEN/cases.txt"
M="dl_src=00:00:5e:00:53:01,dl_dst=00:00:5e:00:53:02"
for nm in "" "--names"; do
  t $nm br-provider "in_port=eth0,dl_vlan=100,$M,ip,nw_src=10.0.9.1,nw_dst=10.0.1.5"
  t $nm br-provider "in_port=eth0,dl_vlan=100,$M,ip,nw_src=10.0.9.1,nw_dst=10.0.1.6"
  t $nm br-provider "in_port=eth0,dl_vlan=200,$M,ip,nw_src=10.0.9.1,nw_dst=10.0.2.7"
  t $nm br-provider "in_port=eth0,dl_vlan=200,$M,ip,nw_src=10.0.9.1,nw_dst=10.0.2.8"
  t $nm br-provider "in_port=eth0,dl_vlan=200,$M,arp,arp_spa=10.0.9.1,arp_tpa=10.0.2.9,arp_op=1"
  t $nm br-int "in_port=$V1,$M,ip,nw_src=10.0.1.5,nw_dst=10.0.9.1"
  t $nm br-int "in_port=$V2,$M,ip,nw_src=10.0.1.6,nw_dst=10.0.9.1"
  t $nm br-int "in_port=$V3,$M,ip,nw_src=10.0.2.7,nw_dst=10.0.9.1"
  t $nm br-int "in_port=vif7,$M,ip,nw_src=10.0.2.8,nw_dst=10.0.9.1"
  t $nm br-int "in_port=$(n $IB),$M,ip,nw_src=10.0.9.1,nw_dst=10.0.2.99"
  t $nm br-int "in_port=$(n $IA),$M,ip,nw_src=10.0.9.1,nw_dst=10.0.1.99"
done
echo "recorded $(grep -c '^### ' "$OUT/$SCEN/cases.txt") cases in $OUT/$SCEN"
