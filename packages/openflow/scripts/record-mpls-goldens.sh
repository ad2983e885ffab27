#!/usr/bin/env bash
# record-mpls-goldens.sh [SCENARIO...]   (scenarios: mpls, meter-stack)
# Records ofproto/trace goldens for the MPLS actions (push_mpls, pop_mpls, set_mpls_*,
# dec_mpls_ttl, set_field/load/move on mpls_*) and MPLS packets arriving, from real OVS 3.1 in
# the ../shared/oracle sandbox, in the format of record-goldens.sh (same topology: br0 with
# p1..p5 and patch0 <-> br1 with patch1, q1, q2): OUT/<scenario>/bundle/* and cases.txt.
# With no argument every scenario is recorded; otherwise only the named ones.
# Default OUT: packages/openflow/test/golden. Needs: /work/shared/oracle (OVNSIM_SHARED).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../../.." && pwd)
SHARED=${OVNSIM_SHARED:-$(cd "$ROOT/../shared" && pwd)}
OUT=${OVNSIM_GOLDEN_OUT:-$HERE/../test/golden}
SB=${OVNSIM_OF_SANDBOX:-/tmp/ovnsim-ofm-$$}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
WANT=" $* "

"$SHARED/oracle/oracle-up.sh" "$SB" --no-ovn >/dev/null
trap '"$SHARED/oracle/oracle-down.sh" "$SB" --rm >/dev/null 2>&1 || true' EXIT
# shellcheck disable=SC1091
. "$SB/env.sh"

ovs-vsctl add-br br0 -- set bridge br0 datapath_type=dummy protocols=OpenFlow10,OpenFlow13,OpenFlow15 \
  -- add-port br0 p1 -- set interface p1 type=dummy ofport_request=1 \
  -- add-port br0 p2 tag=10 -- set interface p2 type=dummy ofport_request=2 \
  -- add-port br0 p3 trunks=10,20 -- set interface p3 type=dummy ofport_request=3 \
  -- add-port br0 p4 tag=20 -- set interface p4 type=dummy ofport_request=4 \
  -- add-port br0 p5 -- set interface p5 type=dummy ofport_request=5 \
  -- add-port br0 patch0 -- set interface patch0 type=patch options:peer=patch1 ofport_request=9
ovs-vsctl add-br br1 -- set bridge br1 datapath_type=dummy protocols=OpenFlow10,OpenFlow13,OpenFlow15 \
  -- add-port br1 patch1 -- set interface patch1 type=patch options:peer=patch0 ofport_request=1 \
  -- add-port br1 q1 -- set interface q1 type=dummy ofport_request=2 \
  -- add-port br1 q2 -- set interface q2 type=dummy ofport_request=3

OF="ovs-ofctl -O OpenFlow15"
SCEN=""
scenario() { # name: resets both bridges; returns 1 when the scenario is not selected
  if [ "$WANT" != "  " ] && [[ "$WANT" != *" $1 "* ]]; then return 1; fi
  SCEN=$1
  rm -rf "${OUT:?}/$SCEN"; mkdir -p "$OUT/$SCEN"
  for br in br0 br1; do $OF del-flows $br; $OF del-groups $br; $OF del-meters $br 2>/dev/null || true; done
  : > "$OUT/$SCEN/cases.txt"
}
flows() { $OF add-flows "$1" -; }   # stdin: add-flow lines
flows10() { ovs-ofctl add-flows "$1" -; }   # OpenFlow 1.0 + NXM (what OF1.5 cannot encode)
groups() { $OF add-groups "$1" -; }
capture() { "$ROOT/scripts/capture-bundle.sh" -o "$OUT/$SCEN/bundle" br0 br1 >/dev/null; }
t() { # BRIDGE FLOW [extra args]: one case
  { echo "### $*"; ovs-appctl ofproto/trace "$@" 2>&1 || true; } >> "$OUT/$SCEN/cases.txt"
}

M1=00:00:00:00:01:01; M2=00:00:00:00:02:02; BC=ff:ff:ff:ff:ff:ff
IP="dl_src=$M1,dl_dst=$M2,ip,nw_src=10.0.0.1,nw_dst=10.0.0.2,nw_ttl=64"
TCP="dl_src=$M1,dl_dst=$M2,tcp,nw_src=10.0.0.1,nw_dst=10.0.0.2,nw_ttl=64,tp_src=1234,tp_dst=80"
UDP="dl_src=$M1,dl_dst=$M2,udp,nw_src=10.0.0.1,nw_dst=10.0.0.2,nw_ttl=64,udp_src=5353,udp_dst=53"
ARP="dl_src=$M1,dl_dst=$BC,arp,arp_spa=10.0.0.1,arp_tpa=10.0.0.2,arp_op=1"
TCP6="dl_src=$M1,dl_dst=$M2,tcp6,ipv6_src=fd00::1,ipv6_dst=fd00::2,nw_ttl=64,tp_src=1234,tp_dst=80"

MPLS1="dl_src=$M1,dl_dst=$M2,mpls,mpls_label=100,mpls_tc=3,mpls_ttl=10,mpls_bos=1"
MPLS0="dl_src=$M1,dl_dst=$M2,mpls,mpls_label=200,mpls_tc=1,mpls_ttl=1,mpls_bos=0"
MPLSM="dl_src=$M1,dl_dst=$M2,mplsm,mpls_label=300,mpls_tc=0,mpls_ttl=0,mpls_bos=1"
IPT="dl_src=$M1,dl_dst=$M2,ip,nw_src=10.0.0.1,nw_dst=10.0.0.2,nw_tos=0xb8,nw_ttl=0"

# ---- push/pop/set MPLS, the label stack, TTL exceptions, recirculation after a pop ----
if scenario mpls; then
groups br0 <<EOF2
group_id=1,type=select,selection_method=hash,fields(ip_src),bucket=bucket_id:0,actions=output:5,bucket=bucket_id:1,actions=output:1
group_id=2,type=all,bucket=bucket_id:0,actions=pop_mpls:0x0800,output:5,bucket=bucket_id:1,actions=output:1
EOF2
flows br0 <<EOF2
priority=100,in_port=1,ip,nw_dst=10.0.0.2,actions=push_mpls:0x8847,output:5
priority=100,in_port=1,ip,nw_dst=10.0.0.3,actions=push_mpls:0x8848,set_field:10->mpls_label,set_field:5->mpls_tc,set_mpls_ttl(3),dec_mpls_ttl,output:5
priority=100,in_port=1,ip,nw_dst=10.0.0.4,actions=mod_nw_tos:0x20,push_mpls:0x8847,push_mpls:0x8847,output:5,pop_mpls:0x8847,output:1
priority=100,in_port=1,ip,nw_dst=10.0.0.5,actions=push_mpls:0x8847,resubmit(,1)
priority=100,in_port=1,ip,nw_dst=10.0.0.6,actions=push_mpls:0x8847,pop_mpls:0x0800,output:5
priority=100,in_port=1,ip,nw_dst=10.0.0.7,actions=push_mpls:0x8847,move:NXM_NX_REG0[0..19]->OXM_OF_MPLS_LABEL[],move:NXM_OF_ETH_SRC[0..7]->NXM_NX_MPLS_TTL[],output:5
priority=100,in_port=1,ip,nw_dst=10.0.0.9,actions=clone(push_mpls:0x8847,output:5),output:1
priority=100,in_port=1,ip,nw_dst=10.0.0.10,actions=push_vlan:0x8100,set_field:4106->vlan_vid,push_mpls:0x8847,output:5
priority=100,in_port=2,mpls,actions=pop_mpls:0x0800,output:5
priority=100,in_port=3,mpls,mpls_bos=1,actions=pop_mpls:0x0800,resubmit(,2)
priority=99,in_port=3,mpls,actions=pop_mpls:0x8847,output:5,pop_mpls:0x86dd,output:1
priority=100,in_port=4,mpls,actions=dec_mpls_ttl,set_mpls_ttl(9),output:5
priority=100,in_port=4,mplsm,actions=dec_mpls_ttl,set_field:9->mpls_label,output:5
priority=100,in_port=5,mpls,mpls_label=100,actions=pop_mpls:0x0800,output:9
priority=100,in_port=5,mpls,mpls_label=200,actions=pop_mpls:0x0800,group:1
priority=100,in_port=5,mpls,mpls_label=300,actions=group:2
priority=100,in_port=9,mpls,actions=push_mpls:0x8847,push_mpls:0x8847,push_mpls:0x8847,output:5
priority=90,in_port=2,actions=push_mpls:0x8847,load:0x7->OXM_OF_MPLS_TC[],move:OXM_OF_MPLS_LABEL[]->NXM_NX_REG3[0..19],resubmit(,1)
table=1,priority=10,mpls,reg3=0,actions=output:5
table=1,priority=5,mpls,actions=set_mpls_ttl(200),output:1
table=1,priority=1,actions=output:9
table=2,priority=1,actions=output:1
EOF2
# OpenFlow 1.1+ refuses these (the match does not guarantee the ethertype the action needs).
flows10 br0 <<EOF2
priority=100,in_port=1,ip,nw_dst=10.0.0.8,actions=push_mpls:0x8847,dec_ttl,output:9
priority=100,in_port=1,actions=dec_mpls_ttl,output:5
priority=90,in_port=5,actions=pop_mpls:0x0800,dec_ttl,output:1
priority=90,in_port=9,actions=pop_mpls:0x0800,NORMAL
EOF2
flows br1 <<EOF2
priority=10,in_port=1,mpls,actions=pop_mpls:0x0800,output:2
priority=1,actions=output:3
EOF2
capture
for d in 2 3 4 5 6 7 8 9 10 11; do
  t br0 "in_port=1,dl_src=$M1,dl_dst=$M2,ip,nw_src=10.0.0.1,nw_dst=10.0.0.$d,nw_tos=0x48,nw_ttl=64"
done
t br0 "in_port=1,dl_src=$M1,dl_dst=$M2,ipv6,ipv6_src=fd00::1,ipv6_dst=fd00::2,nw_tos=0xfc,nw_ttl=1"
t br0 "in_port=1,$ARP"
t br0 "in_port=1,$IPT"
t br0 "in_port=1,$TCP"
t br0 "in_port=1,reg0=0x12345,$UDP"
for p in 1 2 3 4 5 9; do
  t br0 "in_port=$p,$MPLS1"
  t br0 "in_port=$p,$MPLS0"
  t br0 "in_port=$p,$MPLSM"
done
t br0 "in_port=2,$IP"
t br0 "in_port=2,$TCP6"
t br0 "in_port=4,dl_vlan=7,$MPLS1"
t br0 "in_port=9,dl_vlan=7,$MPLS0"
t br0 "in_port=5,$IP"
t br1 "in_port=1,$MPLS1"
t br1 "in_port=1,$MPLS0"
fi

# ---- meter_id= in controller(), meter instructions, stack_push/stack_pop around other actions ----
if scenario meter-stack; then
$OF add-meter br0 meter=1,kbps,band=type=drop,rate=1000
$OF add-meter br0 meter=3,pktps,band=type=drop,rate=10
flows br0 <<EOF2
priority=100,ip,nw_dst=10.0.0.2,actions=controller(userdata=00.00.00.02.00.00.00.00,meter_id=3)
priority=100,ip,nw_dst=10.0.0.3,actions=meter:1,controller(meter_id=1),output:5
priority=100,ip,nw_dst=10.0.0.4,actions=controller(reason=no_match,meter_id=3,max_len=128),mod_dl_src:00:00:00:00:0a:0a,output:5
priority=100,ip,nw_dst=10.0.0.5,actions=meter:3,sample(probability=65535,collector_set_id=1,obs_domain_id=2,obs_point_id=3),output:5
priority=100,ip,nw_dst=10.0.0.6,actions=push:NXM_NX_REG0[],push:NXM_OF_IP_SRC[],set_field:0x5->reg0,pop:NXM_OF_IP_DST[],pop:NXM_NX_REG1[],output:5
priority=100,ip,nw_dst=10.0.0.7,actions=push:NXM_OF_ETH_SRC[0..15],resubmit(,1),pop:NXM_NX_REG2[0..15],output:5
priority=100,ip,nw_dst=10.0.0.8,actions=pop:NXM_NX_REG0[],output:5
priority=100,ip,nw_dst=10.0.0.9,actions=push:NXM_NX_REG0[0..7],clone(pop:NXM_NX_REG1[0..7],output:5),pop:NXM_NX_REG2[0..7],controller(meter_id=3)
priority=100,ip,nw_dst=10.0.0.10,actions=push:NXM_OF_IN_PORT[],output:9,pop:NXM_NX_REG3[0..15],resubmit(,2)
priority=100,ip,nw_dst=10.0.0.11,actions=push:NXM_NX_REG0[],push:NXM_NX_REG1[],controller(userdata=aa,meter_id=1),pop:NXM_NX_REG0[],output:5
table=1,priority=1,actions=push:NXM_NX_REG0[],set_field:0x77->reg0,pop:NXM_NX_REG4[]
table=2,priority=10,reg3=1,actions=output:5
table=2,priority=1,actions=output:1
EOF2
flows br1 <<EOF2
priority=1,actions=push:NXM_NX_REG0[],pop:NXM_NX_REG5[],controller(meter_id=3)
EOF2
capture
for d in 2 3 4 5 6 7 8 9 10 11; do
  t br0 "in_port=1,reg0=0x1234,dl_src=$M1,dl_dst=$M2,ip,nw_src=10.0.0.1,nw_dst=10.0.0.$d,nw_ttl=64"
done
fi
