#!/usr/bin/env bash
# record-goldens.sh [OUTDIR]
# Records ofproto/trace goldens from real OVS 3.1 (the ../shared/oracle sandbox, --no-ovn):
# for each scenario it installs flows/groups on br0 (+ br1 behind a patch port), captures the
# bundle with scripts/capture-bundle.sh, and runs `ovs-appctl ofproto/trace` for each case.
# Output: OUTDIR/<scenario>/bundle/* and OUTDIR/<scenario>/cases.txt, where each case is
#   ### BRIDGE FLOW [--ct-next FLAGS]...
#   <the exact ofproto/trace output>
# Default OUTDIR: packages/openflow/test/golden. Needs: /work/shared/oracle (OVNSIM_SHARED).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../../.." && pwd)
SHARED=${OVNSIM_SHARED:-$(cd "$ROOT/../shared" && pwd)}
OUT=${1:-$HERE/../test/golden}
SB=${OVNSIM_OF_SANDBOX:-/tmp/ovnsim-of-rec-$$}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)

"$SHARED/oracle/oracle-up.sh" "$SB" --no-ovn >/dev/null
trap '"$SHARED/oracle/oracle-down.sh" "$SB" --rm >/dev/null 2>&1 || true' EXIT
# shellcheck disable=SC1091
. "$SB/env.sh"

# ---- topology: br0 (p1..p5, patch0) <-> br1 (patch1, q1, q2) ----
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
scenario() { # name: resets both bridges
  SCEN=$1
  rm -rf "${OUT:?}/$SCEN"; mkdir -p "$OUT/$SCEN"
  for br in br0 br1; do $OF del-flows $br; $OF del-groups $br; done
  : > "$OUT/$SCEN/cases.txt"
}
flows() { $OF add-flows "$1" -; }   # stdin: add-flow lines
groups() { $OF add-groups "$1" -; }
capture() { "$ROOT/scripts/capture-bundle.sh" -o "$OUT/$SCEN/bundle" br0 br1 >/dev/null; }
t() { # BRIDGE FLOW [extra args]: one case
  { echo "### $*"; ovs-appctl ofproto/trace "$@" 2>&1 || true; } >> "$OUT/$SCEN/cases.txt"
}

M1=00:00:00:00:01:01; M2=00:00:00:00:02:02; M3=00:00:00:00:03:03; BC=ff:ff:ff:ff:ff:ff
IP="dl_src=$M1,dl_dst=$M2,ip,nw_src=10.0.0.1,nw_dst=10.0.0.2,nw_ttl=64"
TCP="dl_src=$M1,dl_dst=$M2,tcp,nw_src=10.0.0.1,nw_dst=10.0.0.2,nw_ttl=64,tp_src=1234,tp_dst=80"
UDP="dl_src=$M1,dl_dst=$M2,udp,nw_src=10.0.0.1,nw_dst=10.0.0.2,nw_ttl=64,udp_src=5353,udp_dst=53"

# ---- 1. NORMAL and VLAN rules ----
scenario normal
flows br0 <<<"priority=0,actions=NORMAL"
flows br1 <<<"priority=0,actions=NORMAL"
capture
for inp in 1 2 3 4 5; do
  t br0 "in_port=$inp,dl_src=$M1,dl_dst=$BC,arp,arp_spa=10.0.0.1,arp_tpa=10.0.0.2,arp_op=1"
  t br0 "in_port=$inp,$IP"
done
for v in 10 20 30; do
  t br0 "in_port=3,dl_vlan=$v,$IP"
  t br0 "in_port=1,dl_vlan=$v,$TCP"
  t br0 "in_port=2,dl_vlan=$v,$UDP"
done
t br0 "in_port=1,dl_src=$M1,dl_dst=01:80:c2:00:00:00,$(echo "$IP" | cut -d, -f3-)"
t br1 "in_port=2,$TCP"
t br1 "in_port=1,dl_vlan=10,$TCP"

# ---- 1b. NORMAL after real packets taught the MAC tables (netdev-dummy/receive, ODP syntax) ----
scenario normal-learned
flows br0 <<<"priority=0,actions=NORMAL"
flows br1 <<<"priority=0,actions=NORMAL"
ovs-appctl netdev-dummy/receive p1 "in_port(1),eth(src=$M1,dst=$BC),eth_type(0x0806),arp(sip=10.0.0.1,tip=10.0.0.2,op=1,sha=$M1,tha=00:00:00:00:00:00)"
ovs-appctl netdev-dummy/receive p5 "in_port(5),eth(src=$M2,dst=$M1),eth_type(0x0806),arp(sip=10.0.0.2,tip=10.0.0.1,op=2,sha=$M2,tha=$M1)"
ovs-appctl netdev-dummy/receive p2 "in_port(2),eth(src=$M3,dst=$BC),eth_type(0x0806),arp(sip=10.0.0.3,tip=10.0.0.2,op=1,sha=$M3,tha=00:00:00:00:00:00)"
ovs-appctl netdev-dummy/receive q1 "in_port(6),eth(src=00:00:00:00:04:04,dst=$BC),eth_type(0x0806),arp(sip=10.0.0.4,tip=10.0.0.2,op=1,sha=00:00:00:00:04:04,tha=00:00:00:00:00:00)"
sleep 0.3
capture
t br0 "in_port=1,$IP"
t br0 "in_port=5,dl_src=$M2,dl_dst=$M1,ip,nw_src=10.0.0.2,nw_dst=10.0.0.1,nw_ttl=64"
t br0 "in_port=1,dl_src=$M1,dl_dst=$M1,ip,nw_src=10.0.0.2,nw_dst=10.0.0.1,nw_ttl=64"
t br0 "in_port=3,dl_vlan=10,dl_src=$M1,dl_dst=$M3,ip,nw_src=10.0.0.1,nw_dst=10.0.0.3,nw_ttl=64"
t br0 "in_port=1,dl_src=$M1,dl_dst=$M3,ip,nw_src=10.0.0.1,nw_dst=10.0.0.3,nw_ttl=64"
t br0 "in_port=1,dl_src=$M1,dl_dst=00:00:00:00:04:04,ip,nw_src=10.0.0.1,nw_dst=10.0.0.4,nw_ttl=64"
t br1 "in_port=2,dl_src=00:00:00:00:04:04,dl_dst=$M2,ip,nw_src=10.0.0.4,nw_dst=10.0.0.2,nw_ttl=64"

# ---- 2. matches: every field family ----
scenario match
flows br0 <<EOF
table=0,priority=300,in_port=1,dl_src=$M3,actions=output:2
table=0,priority=290,in_port=1,dl_dst=01:00:00:00:00:00/01:00:00:00:00:00,actions=output:3
table=0,priority=280,in_port=1,dl_vlan=100,actions=output:4
table=0,priority=275,in_port=1,vlan_tci=0x2000/0xe000,actions=output:5
table=0,priority=270,arp,arp_op=2,actions=output:2
table=0,priority=265,arp,arp_spa=10.1.0.0/16,actions=output:3
table=0,priority=260,ip,nw_src=192.168.0.0/16,actions=output:4
table=0,priority=255,ip,nw_dst=10.9.9.9,actions=output:5
table=0,priority=250,tcp,tp_dst=22,actions=output:2
table=0,priority=245,tcp,tp_src=0x1000/0xf000,actions=output:3
table=0,priority=240,udp,udp_dst=67,actions=output:4
table=0,priority=235,icmp,icmp_type=8,icmp_code=0,actions=output:5
table=0,priority=230,ip,nw_tos=32,actions=output:2
table=0,priority=225,ip,nw_ttl=1,actions=output:3
table=0,priority=220,ipv6,ipv6_src=fd00::/64,actions=output:4
table=0,priority=215,tcp6,ipv6_dst=fd00:1::1,tp_dst=443,actions=output:5
table=0,priority=210,sctp,sctp_dst=9,actions=output:2
table=0,priority=205,ip,nw_proto=47,actions=output:3
table=0,priority=200,tcp,tcp_flags=+syn-ack,actions=output:4
table=0,priority=195,ip,ip_dscp=46,actions=output:5
table=0,priority=190,ip,nw_frag=yes,actions=output:2
table=0,priority=100,ip,actions=output:9
table=0,priority=0,actions=drop
table=0,priority=50,in_port=5,actions=output:1
EOF
flows br1 <<<"priority=0,actions=output:2"
capture
t br0 "in_port=1,dl_src=$M3,dl_dst=$M2"
t br0 "in_port=1,dl_src=$M1,dl_dst=01:00:5e:00:00:01,$(echo "$IP" | cut -d, -f3-)"
t br0 "in_port=1,dl_vlan=100,$IP"
t br0 "in_port=2,dl_vlan=7,dl_vlan_pcp=1,$IP"
t br0 "in_port=2,dl_vlan=7,dl_vlan_pcp=3,$IP"
t br0 "in_port=2,dl_src=$M1,dl_dst=$M2,arp,arp_op=2,arp_spa=10.2.0.1,arp_tpa=10.2.0.2"
t br0 "in_port=2,dl_src=$M1,dl_dst=$M2,arp,arp_op=1,arp_spa=10.1.3.4,arp_tpa=10.2.0.2"
t br0 "in_port=2,dl_src=$M1,dl_dst=$M2,arp,arp_op=1,arp_spa=10.3.3.4,arp_tpa=10.2.0.2"
t br0 "in_port=2,dl_src=$M1,dl_dst=$M2,ip,nw_src=192.168.5.5,nw_dst=10.0.0.2"
t br0 "in_port=2,dl_src=$M1,dl_dst=$M2,ip,nw_src=10.0.0.1,nw_dst=10.9.9.9"
t br0 "in_port=2,dl_src=$M1,dl_dst=$M2,tcp,nw_src=10.0.0.1,nw_dst=10.0.0.2,tp_src=40000,tp_dst=22"
t br0 "in_port=2,dl_src=$M1,dl_dst=$M2,tcp,nw_src=10.0.0.1,nw_dst=10.0.0.2,tp_src=4100,tp_dst=80"
t br0 "in_port=2,dl_src=$M1,dl_dst=$M2,tcp,nw_src=10.0.0.1,nw_dst=10.0.0.2,tp_src=5000,tp_dst=80,tcp_flags=syn"
t br0 "in_port=2,dl_src=$M1,dl_dst=$M2,tcp,nw_src=10.0.0.1,nw_dst=10.0.0.2,tp_src=5000,tp_dst=80,tcp_flags=syn|ack"
t br0 "in_port=2,dl_src=$M1,dl_dst=$M2,udp,nw_src=10.0.0.1,nw_dst=10.0.0.2,udp_src=68,udp_dst=67"
t br0 "in_port=2,dl_src=$M1,dl_dst=$M2,icmp,nw_src=10.0.0.1,nw_dst=10.0.0.2,icmp_type=8,icmp_code=0"
t br0 "in_port=2,dl_src=$M1,dl_dst=$M2,icmp,nw_src=10.0.0.1,nw_dst=10.0.0.2,icmp_type=0,icmp_code=0"
t br0 "in_port=2,dl_src=$M1,dl_dst=$M2,ip,nw_src=10.0.0.1,nw_dst=10.0.0.2,nw_tos=32"
t br0 "in_port=2,dl_src=$M1,dl_dst=$M2,ip,nw_src=10.0.0.1,nw_dst=10.0.0.2,nw_tos=184"
t br0 "in_port=2,dl_src=$M1,dl_dst=$M2,ip,nw_src=10.0.0.1,nw_dst=10.0.0.2,nw_ttl=1"
t br0 "in_port=2,dl_src=$M1,dl_dst=$M2,ipv6,ipv6_src=fd00::5,ipv6_dst=fd00:1::1"
t br0 "in_port=2,dl_src=$M1,dl_dst=$M2,tcp6,ipv6_src=fd01::5,ipv6_dst=fd00:1::1,tp_src=1,tp_dst=443"
t br0 "in_port=2,dl_src=$M1,dl_dst=$M2,sctp,nw_src=10.0.0.1,nw_dst=10.0.0.2,sctp_src=1,sctp_dst=9"
t br0 "in_port=2,dl_src=$M1,dl_dst=$M2,ip,nw_src=10.0.0.1,nw_dst=10.0.0.2,nw_proto=47"
t br0 "in_port=2,dl_src=$M1,dl_dst=$M2,ip,nw_src=10.0.0.1,nw_dst=10.0.0.2,nw_frag=first"
t br0 "in_port=2,dl_src=$M1,dl_dst=$M2,dl_type=0x88cc"
t br0 "in_port=5,$IP"

# ---- 3. registers, metadata, tables ----
scenario regs
flows br0 <<EOF
table=0,priority=100,in_port=1,actions=load:0x2a->NXM_NX_REG0[],load:0x5->NXM_NX_REG1[0..3],set_field:0x7->reg2,write_metadata:0x10/0xff,goto_table:10
table=0,priority=90,in_port=2,actions=move:NXM_OF_IN_PORT[]->NXM_NX_REG3[0..15],move:NXM_OF_ETH_SRC[0..31]->NXM_NX_REG4[],goto_table:20
table=0,priority=80,in_port=3,actions=set_field:0xabc/0xfff->reg5,resubmit(4,30)
table=0,priority=70,in_port=4,actions=resubmit(,30),resubmit(,40),output:5
table=10,priority=100,reg0=0x2a,reg1=0x5/0xf,metadata=0x10/0xff,actions=output:2
table=10,priority=50,reg0=0x2a,actions=output:3
table=20,priority=100,reg3=2,actions=move:NXM_NX_REG4[0..15]->NXM_NX_REG6[16..31],resubmit(,21)
table=21,priority=10,reg6=0x2020000/0xffff0000,actions=output:4
table=21,priority=5,actions=output:5
table=30,priority=100,in_port=4,actions=set_field:0x1->reg7,resubmit(,31)
table=31,priority=100,reg7=1,reg5=0xabc,actions=output:1
table=31,priority=90,reg7=1,actions=output:2
table=40,priority=0,actions=output:3
EOF
flows br1 <<<"priority=0,actions=NORMAL"
capture
for inp in 1 2 3 4 5; do
  t br0 "in_port=$inp,$IP"
  t br0 "in_port=$inp,$TCP"
done
t br0 "in_port=2,dl_src=00:00:02:02:02:02,dl_dst=$M2,$(echo "$IP" | cut -d, -f3-)"
t br0 "in_port=1,reg0=0x2a,$IP"

# ---- 4. header rewrites, VLAN push/pop, dec_ttl ----
scenario rewrite
flows br0 <<EOF
table=0,priority=100,in_port=1,tcp,actions=mod_dl_src:00:00:00:00:aa:aa,mod_dl_dst:00:00:00:00:bb:bb,mod_nw_src:172.16.0.1,mod_nw_dst:172.16.0.2,mod_tp_src:1111,mod_tp_dst:2222,output:2
table=0,priority=100,in_port=1,udp,actions=set_field:172.16.9.9->ip_dst,set_field:99->udp_dst,mod_nw_tos:64,output:2
table=0,priority=90,in_port=1,ip,actions=dec_ttl,mod_nw_ttl:9,output:3
table=0,priority=100,in_port=2,actions=push_vlan:0x8100,set_field:4196->vlan_vid,output:3
table=0,priority=100,in_port=3,dl_vlan=10,actions=strip_vlan,output:5
table=0,priority=100,in_port=3,dl_vlan=20,actions=mod_vlan_vid:30,mod_vlan_pcp:5,output:1
table=0,priority=90,in_port=3,actions=mod_vlan_vid:40,output:1
table=0,priority=100,in_port=4,ip,actions=dec_ttl,output:5
table=0,priority=100,in_port=5,actions=push_vlan:0x88a8,set_field:4097->vlan_vid,push_vlan:0x8100,set_field:4098->vlan_vid,output:9
table=0,priority=10,ipv6,actions=dec_ttl,output:2
EOF
flows br1 <<<"priority=0,actions=output:2"
capture
t br0 "in_port=1,$TCP"
t br0 "in_port=1,$UDP"
t br0 "in_port=1,$IP"
t br0 "in_port=1,dl_src=$M1,dl_dst=$M2,ip,nw_src=10.0.0.1,nw_dst=10.0.0.2,nw_ttl=1"
t br0 "in_port=2,$IP"
t br0 "in_port=2,dl_vlan=5,$IP"
t br0 "in_port=3,dl_vlan=10,$TCP"
t br0 "in_port=3,dl_vlan=20,dl_vlan_pcp=2,$TCP"
t br0 "in_port=3,$TCP"
t br0 "in_port=3,dl_vlan=99,$TCP"
t br0 "in_port=4,$IP"
t br0 "in_port=4,dl_src=$M1,dl_dst=$M2,ip,nw_src=10.0.0.1,nw_dst=10.0.0.2,nw_ttl=1"
t br0 "in_port=4,dl_src=$M1,dl_dst=$M2,ip,nw_src=10.0.0.1,nw_dst=10.0.0.2,nw_ttl=0"
t br0 "in_port=4,dl_src=$M1,dl_dst=$M2,ip,nw_src=10.0.0.1,nw_dst=10.0.0.2,nw_ttl=2"
t br0 "in_port=5,$TCP"
t br0 "in_port=2,dl_src=$M1,dl_dst=$M2,ipv6,ipv6_src=fd00::1,ipv6_dst=fd00::2,nw_ttl=5"
t br0 "in_port=2,dl_src=$M1,dl_dst=$M2,arp,arp_op=1"

# ---- 5. groups ----
scenario groups
groups br0 <<EOF
group_id=1,type=all,bucket=actions=output:2,bucket=actions=mod_dl_dst:00:00:00:00:cc:cc,output:3,bucket=actions=output:9
group_id=2,type=indirect,bucket=actions=set_field:0x9->reg0,resubmit(,10)
group_id=3,type=select,selection_method=hash,fields(ip_src,tcp_src),bucket=bucket_id:0,weight:100,actions=output:2,bucket=bucket_id:1,weight:100,actions=output:3,bucket=bucket_id:2,weight:100,actions=output:4
group_id=4,type=select,selection_method=hash,fields(eth_src,ip_dst),bucket=bucket_id:0,weight:10,actions=output:2,bucket=bucket_id:1,weight:30,actions=output:3
group_id=5,type=select,bucket=bucket_id:0,actions=output:2,bucket=bucket_id:1,actions=output:3
group_id=6,type=ff,bucket=watch_port:2,actions=output:2,bucket=watch_port:3,actions=output:3
group_id=7,type=select,selection_method=hash,fields(ip_src=255.255.255.0,udp_dst),bucket=bucket_id:5,weight:50,actions=output:4,bucket=bucket_id:6,weight:50,actions=output:5,bucket=bucket_id:7,weight:50,actions=output:2
EOF
flows br0 <<EOF
table=0,priority=100,in_port=1,ip,nw_dst=10.0.0.1,actions=group:1
table=0,priority=100,in_port=1,ip,nw_dst=10.0.0.2,actions=group:2
table=0,priority=100,in_port=1,tcp,nw_dst=10.0.0.3,actions=group:3
table=0,priority=100,in_port=1,ip,nw_dst=10.0.0.4,actions=group:4
table=0,priority=100,in_port=1,ip,nw_dst=10.0.0.5,actions=group:5
table=0,priority=100,in_port=1,ip,nw_dst=10.0.0.6,actions=group:6
table=0,priority=100,in_port=1,udp,nw_dst=10.0.0.7,actions=group:7
table=10,priority=100,reg0=9,actions=output:5
EOF
flows br1 <<<"priority=0,actions=output:3"
capture
for d in 1 2 5 6 8; do t br0 "in_port=1,dl_src=$M1,dl_dst=$M2,ip,nw_src=10.0.0.9,nw_dst=10.0.0.$d"; done
for sp in 1000 1001 1002 2000 3000 4000 5000 6000 40000 50000 60000; do
  t br0 "in_port=1,dl_src=$M1,dl_dst=$M2,tcp,nw_src=192.0.2.$((sp % 250)),nw_dst=10.0.0.3,tp_src=$sp,tp_dst=80"
done
for s in 1 2 3 4 5 6; do
  t br0 "in_port=1,dl_src=00:00:00:00:00:0$s,dl_dst=$M2,ip,nw_src=10.0.$s.1,nw_dst=10.0.0.4"
  t br0 "in_port=1,dl_src=$M1,dl_dst=$M2,udp,nw_src=10.0.$s.1,nw_dst=10.0.0.7,udp_src=1,udp_dst=$((s * 1000))"
done

# ---- 6. conntrack ----
scenario ct
flows br0 <<EOF
table=0,priority=100,in_port=1,tcp,actions=ct(table=10,zone=7)
table=0,priority=100,in_port=1,udp,actions=load:0x3->NXM_NX_REG13[0..15],ct(table=10,zone=NXM_NX_REG13[0..15],nat)
table=0,priority=100,in_port=2,tcp,actions=ct(commit,zone=9,nat(src=172.16.0.1-172.16.0.9:1000-2000)),output:3
table=0,priority=100,in_port=2,udp,actions=ct(commit,zone=9,exec(set_field:0x1->ct_mark,set_field:0x2/0xff->ct_label)),output:3
table=0,priority=100,in_port=3,tcp,actions=ct(table=20,zone=1,nat),ct_clear,output:5
table=0,priority=100,in_port=4,tcp,actions=ct(commit,table=30,zone=2,nat(dst=10.9.0.1:8080)),output:5
table=0,priority=100,in_port=4,udp,actions=ct(commit,table=40,zone=3,nat(src=10.8.0.1))
table=10,priority=100,ct_state=+new+trk,tcp,actions=ct(commit,zone=7,exec(set_field:0x5->ct_mark)),output:2
table=10,priority=100,ct_state=+est+trk,actions=output:3
table=10,priority=90,ct_state=+inv+trk,actions=drop
table=10,priority=80,ct_state=+new+trk,udp,actions=ct(commit,table=11,zone=3)
table=10,priority=0,actions=output:4
table=11,priority=10,ct_state=+trk,ct_zone=3,actions=output:5
table=20,priority=10,ct_state=+trk,actions=output:4
table=30,priority=10,ct_state=+dnat+trk,actions=output:2
table=30,priority=5,actions=output:3
table=40,priority=10,actions=output:9
table=0,priority=100,in_port=5,actions=output:9
EOF
flows br1 <<EOF
priority=10,ct_state=-trk,tcp,actions=ct(table=5,zone=100)
priority=0,actions=output:2
table=5,priority=10,ct_state=+new+trk,actions=output:3
table=5,priority=0,actions=drop
EOF
capture
for cs in "" "--ct-next trk,new" "--ct-next trk,est" "--ct-next trk,inv" "--ct-next trk,rel" "--ct-next trk,new --ct-next trk,est"; do
  # shellcheck disable=SC2086
  t br0 "in_port=1,$TCP" $cs
  # shellcheck disable=SC2086
  t br0 "in_port=1,$UDP" $cs
done
t br0 "in_port=2,$TCP"
t br0 "in_port=2,$UDP"
t br0 "in_port=3,$TCP"
t br0 "in_port=3,$TCP" --ct-next trk,est
t br0 "in_port=4,$TCP"
t br0 "in_port=4,$TCP" --ct-next trk,new,dnat
t br0 "in_port=4,$UDP"
t br0 "in_port=4,$UDP" --ct-next trk,new,snat
t br0 "in_port=5,$TCP"
t br0 "in_port=5,$TCP" --ct-next trk,est

# ---- 7. limits, misses, special ports ----
scenario limits
flows br0 <<EOF
table=0,priority=100,in_port=1,actions=resubmit(,1)
table=1,priority=100,actions=resubmit(,0)
table=0,priority=100,in_port=2,actions=resubmit(,5)
table=5,priority=100,actions=resubmit(,6),resubmit(,6)
table=6,priority=100,actions=resubmit(,7),resubmit(,7)
table=7,priority=100,actions=resubmit(,8),resubmit(,8)
table=8,priority=100,actions=resubmit(,9),resubmit(,9)
table=9,priority=100,actions=resubmit(,10),resubmit(,10)
table=10,priority=100,actions=resubmit(,11),resubmit(,11)
table=11,priority=100,actions=resubmit(,12),resubmit(,12)
table=12,priority=100,actions=resubmit(,13),resubmit(,13)
table=13,priority=100,actions=resubmit(,14),resubmit(,14)
table=14,priority=100,actions=resubmit(,15),resubmit(,15)
table=15,priority=100,actions=resubmit(,16),resubmit(,16)
table=16,priority=100,actions=resubmit(,17),resubmit(,17)
table=17,priority=100,actions=resubmit(,18),resubmit(,18)
table=18,priority=100,actions=note:01.02,output:3
table=0,priority=100,in_port=3,actions=goto_table:50
table=0,priority=100,in_port=4,actions=output:in_port,output:4,output:LOCAL,output:5
table=0,priority=100,in_port=5,ip,actions=clone(mod_dl_dst:00:00:00:00:dd:dd,output:1),output:2,exit,output:3
table=0,priority=90,in_port=5,actions=FLOOD
table=0,priority=100,in_port=9,actions=ALL
table=0,priority=100,in_port=LOCAL,actions=resubmit(1,60)
table=60,priority=100,in_port=1,actions=output:2
EOF
flows br1 <<<"priority=0,actions=in_port"
capture
t br0 "in_port=1,$IP"
t br0 "in_port=2,$IP"
t br0 "in_port=3,$IP"
t br0 "in_port=4,$IP"
t br0 "in_port=5,$IP"
t br0 "in_port=5,dl_src=$M1,dl_dst=$M2,arp"
t br0 "in_port=9,$IP"
t br0 "in_port=LOCAL,$IP"
t br1 "in_port=2,$IP"
t br1 "in_port=1,$IP"
t br0 "in_port=7,$IP"

# ---- 8. cookies and priorities ----
scenario cookies
flows br0 <<EOF
cookie=0x1234,table=0,priority=500,ip,nw_dst=10.0.0.0/8,actions=resubmit(,1)
cookie=0xdeadbeef,table=0,priority=400,ip,actions=output:3
cookie=0x1,table=1,priority=65535,tcp,actions=output:2
cookie=0x2,table=1,actions=output:4
cookie=0x3,table=1,priority=0,actions=output:5
EOF
capture
t br0 "in_port=1,$TCP"
t br0 "in_port=1,$UDP"
t br0 "in_port=1,dl_src=$M1,dl_dst=$M2,ip,nw_src=10.0.0.1,nw_dst=11.0.0.2"
t br0 "in_port=1,dl_src=$M1,dl_dst=$M2,arp"
t br0 "in_port=2,$IP"
t br0 "in_port=1,dl_src=$M1,dl_dst=$M2,tcp,nw_src=10.0.0.1,nw_dst=10.200.0.2,tp_src=1,tp_dst=2"
t br0 "in_port=1,dl_src=$M1,dl_dst=$M2,tcp6,ipv6_src=fd00::1,ipv6_dst=fd00::2,tp_src=1,tp_dst=2"
t br0 "in_port=3,dl_src=$M1,dl_dst=$M2,udp,nw_src=10.0.0.1,nw_dst=10.1.0.2,udp_src=1,udp_dst=2"
t br0 "in_port=3,dl_src=$M1,dl_dst=$M2,icmp,nw_src=10.0.0.1,nw_dst=10.1.0.2,icmp_type=3,icmp_code=1"

# ---- 9. Kube-OVN br-provider VIP flow (kube-ovn-internals.md 1.1) ----
scenario kubeovn
flows br0 <<EOF
cookie=0x1000,table=0,priority=10000,in_port=1,tcp,nw_dst=10.180.204.252,tp_dst=80,actions=mod_dl_dst:00:00:00:01:00:01,output:9
priority=0,actions=NORMAL
EOF
flows br1 <<EOF
priority=100,in_port=1,dl_dst=00:00:00:01:00:01,actions=output:2
priority=0,actions=NORMAL
EOF
capture
t br0 "in_port=1,dl_src=$M1,dl_dst=$M2,tcp,nw_src=192.0.2.10,nw_dst=10.180.204.252,nw_ttl=64,tp_src=40000,tp_dst=80"
t br0 "in_port=1,dl_src=$M1,dl_dst=$M2,tcp,nw_src=192.0.2.10,nw_dst=10.180.204.252,nw_ttl=64,tp_src=40000,tp_dst=443"
t br0 "in_port=1,dl_src=$M1,dl_dst=$M2,udp,nw_src=192.0.2.10,nw_dst=10.180.204.252,nw_ttl=64,udp_src=1,udp_dst=80"
t br0 "in_port=2,dl_src=$M1,dl_dst=$M2,tcp,nw_src=192.0.2.10,nw_dst=10.180.204.252,nw_ttl=64,tp_src=40000,tp_dst=80"
t br0 "in_port=1,dl_src=$M1,dl_dst=$BC,arp,arp_spa=192.0.2.10,arp_tpa=10.180.204.252,arp_op=1"
t br1 "in_port=2,$TCP"

# ---- 10. the seed's Kube-OVN node: br-provider (NIC underlay0 trunking VLAN 341) patched to
# br-int, with the VIP flow of kube-ovn-internals.md 1.1 and ovn-controller's localnet table-0
# flow (physical.c: tagged localnet, priority 150, strip_vlan, then the logical pipeline).
SCEN=kubeovn-seed
rm -rf "${OUT:?}/$SCEN"; mkdir -p "$OUT/$SCEN"; : > "$OUT/$SCEN/cases.txt"
ovs-vsctl add-br br-provider -- set bridge br-provider datapath_type=dummy protocols=OpenFlow10,OpenFlow13,OpenFlow15 \
  -- add-port br-provider underlay0 trunks=341 -- set interface underlay0 type=dummy ofport_request=1 \
  -- add-port br-provider patch-localnet.underlay-subnet-to-br-int \
  -- set interface patch-localnet.underlay-subnet-to-br-int type=patch options:peer=patch-br-int-to-localnet.underlay-subnet ofport_request=2
ovs-vsctl add-br br-int -- set bridge br-int datapath_type=dummy protocols=OpenFlow10,OpenFlow13,OpenFlow15 \
  -- add-port br-int patch-br-int-to-localnet.underlay-subnet \
  -- set interface patch-br-int-to-localnet.underlay-subnet type=patch options:peer=patch-localnet.underlay-subnet-to-br-int ofport_request=4 \
  -- add-port br-int pod1 -- set interface pod1 type=dummy ofport_request=11 \
  -- add-port br-int pod2 -- set interface pod2 type=dummy ofport_request=12
$OF del-flows br-provider
$OF del-flows br-int
flows br-provider <<EOF2
cookie=0x1000,priority=10000,in_port=1,tcp,nw_dst=10.180.204.252,tp_dst=80,actions=mod_dl_dst:00:00:00:01:00:01,output:2
priority=0,actions=NORMAL
EOF2
flows br-int <<EOF2
cookie=0x7aed837a,priority=150,in_port=4,dl_vlan=341,actions=strip_vlan,set_field:0xa->reg11,set_field:0x9->reg12,set_field:0x7->metadata,set_field:0x1->reg14,resubmit(,8)
cookie=0x1,table=8,priority=100,metadata=0x7,ip,nw_dst=10.180.204.252,actions=output:11
cookie=0x2,table=8,priority=50,metadata=0x7,actions=output:12
priority=0,actions=drop
EOF2
"$ROOT/scripts/capture-bundle.sh" -o "$OUT/$SCEN/bundle" br-provider br-int >/dev/null
VF="dl_src=00:00:5e:00:53:01,dl_dst=00:00:5e:00:53:ff,tcp,nw_src=192.0.2.10,nw_dst=10.180.204.252,nw_ttl=64,tp_src=40000,tp_dst=80"
t br-provider "in_port=1,dl_vlan=341,$VF"
t br-provider "in_port=1,$VF"
t br-provider "in_port=1,dl_vlan=341,dl_src=00:00:5e:00:53:01,dl_dst=00:00:5e:00:53:ff,tcp,nw_src=192.0.2.10,nw_dst=10.180.204.252,nw_ttl=64,tp_src=40000,tp_dst=443"
t br-provider "in_port=1,dl_vlan=341,dl_src=00:00:5e:00:53:01,dl_dst=ff:ff:ff:ff:ff:ff,arp,arp_spa=192.0.2.10,arp_tpa=10.180.204.252,arp_op=1"
t br-provider "in_port=1,dl_vlan=342,$VF"

echo "goldens recorded in $OUT: $(grep -c '^### ' "$OUT"/*/cases.txt | awk -F: '{s+=$2} END {print s}') cases"
