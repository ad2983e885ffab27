#!/usr/bin/env bash
# record-action-goldens.sh [SCENARIO...]
# Records ofproto/trace goldens for the ovs-actions(7) families (issue 11), MPLS included, from real OVS 3.1 in
# the ../shared/oracle sandbox, in the format of record-goldens.sh (same topology: br0 with
# p1..p5 and patch0 <-> br1 with patch1, q1, q2): OUT/<scenario>/bundle/* and cases.txt.
# With no argument every scenario is recorded; otherwise only the named ones.
# Default OUT: packages/openflow/test/golden; the stated-* scenarios only with
# OVNSIM_GOLDEN_OUT=packages/openflow/test/stated. Needs: /work/shared/oracle (OVNSIM_SHARED).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../../.." && pwd)
SHARED=${OVNSIM_SHARED:-$(cd "$ROOT/../shared" && pwd)}
OUT=${OVNSIM_GOLDEN_OUT:-$HERE/../test/golden}
SB=${OVNSIM_OF_SANDBOX:-/tmp/ovnsim-ofa-$$}
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
  # stated-* scenarios hold differences kept on purpose (test/stated.test.ts): they are recorded
  # into test/stated (OVNSIM_GOLDEN_OUT), never among the goldens that must agree.
  if [[ $1 == stated-* ]] && [[ $OUT != */stated ]]; then return 1; fi
  if [[ $1 != stated-* ]] && [[ $OUT == */stated ]]; then return 1; fi
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

# ---- output to a patch port after ct()/NAT: the peer bridge inside clone(...) ----
if scenario patch-clone; then
groups br0 <<EOF2
group_id=1,type=all,bucket=bucket_id:0,actions=output:9,bucket=bucket_id:1,actions=output:9,bucket=bucket_id:2,actions=output:5
EOF2
flows br0 <<EOF2
priority=100,tcp,in_port=1,actions=ct(commit,zone=5,nat(src=10.9.9.9)),output:9,output:5
priority=100,tcp,in_port=2,actions=ct(table=5,zone=5),output:9
priority=100,tcp,in_port=3,actions=output:9,mod_dl_dst:00:00:00:00:07:07,output:5
priority=100,tcp,in_port=4,actions=mod_nw_dst:10.7.7.7,output:9,output:5
priority=100,tcp,in_port=5,actions=output:9,output:9
priority=100,udp,in_port=1,actions=clone(ct(commit,zone=9),output:5),output:1
priority=100,udp,in_port=2,actions=clone(mod_dl_src:00:00:00:00:0a:0a,output:5),output:1
priority=100,udp,in_port=3,actions=mod_dl_src:00:00:00:00:0b:0b,clone(ct(commit,zone=9,exec(set_field:0x3->ct_mark)),output:5),mod_dl_dst:00:00:00:00:0c:0c,output:1
priority=100,udp,in_port=4,actions=FLOOD
priority=100,udp,in_port=5,actions=group:1,output:1
priority=90,ip,in_port=1,actions=resubmit(,3),output:5
priority=90,ip,in_port=2,actions=ct(commit,zone=2),resubmit(,3)
table=3,priority=1,actions=output:9
table=5,priority=1,actions=mod_dl_dst:00:00:00:00:09:09,output:9,output:5
EOF2
flows br1 <<EOF2
priority=100,tcp,tp_dst=80,actions=ct(commit,zone=7),output:2
priority=100,tcp,tp_dst=81,actions=ct(table=3,zone=7)
priority=100,tcp,tp_dst=82,actions=mod_dl_src:00:00:00:00:0d:0d,output:2
priority=100,tcp,tp_dst=83,actions=ct(commit,zone=7,nat(dst=10.1.1.1:8080)),mod_dl_src:00:00:00:00:0e:0e,output:2
priority=100,udp,actions=ct(commit,zone=8),output:3
priority=90,ip,actions=resubmit(,2)
priority=50,actions=output:3
table=2,priority=1,ip,actions=ct(commit,zone=4),output:2
table=3,priority=1,actions=output:3
EOF2
capture
for p in 80 81 82 83 90; do
  for inp in 1 2 3 4 5; do
    t br0 "in_port=$inp,dl_src=$M1,dl_dst=$M2,tcp,nw_src=10.0.0.1,nw_dst=10.0.0.2,nw_ttl=64,tp_src=1234,tp_dst=$p"
  done
done
for inp in 1 2 3 4 5; do t br0 "in_port=$inp,$UDP"; done
t br0 "in_port=1,$IP"
t br0 "in_port=2,$IP"
t br0 "in_port=2,dl_src=$M1,dl_dst=$M2,tcp,nw_src=10.0.0.1,nw_dst=10.0.0.2,nw_ttl=64,tp_src=1234,tp_dst=80" --ct-next trk,est
fi

# ---- ct() reaching ARP and other non-IP packets (through group buckets, which OVS does not check) ----
if scenario ct-nonip; then
groups br0 <<EOF2
group_id=1,type=all,bucket=bucket_id:0,actions=ct(commit,zone=5),output:5
group_id=2,type=all,bucket=bucket_id:0,actions=ct(table=5,zone=5)
group_id=3,type=all,bucket=bucket_id:0,actions=ct(commit,zone=5,nat(src=10.9.9.9))
group_id=4,type=all,bucket=bucket_id:0,actions=ct_clear,bucket=bucket_id:1,actions=ct(commit,zone=3)
group_id=5,type=indirect,bucket=bucket_id:0,actions=set_field:0x1->reg0,ct(table=6,zone=NXM_NX_REG0[0..15])
EOF2
flows br0 <<EOF2
priority=90,in_port=1,actions=group:1,output:9
priority=90,in_port=2,actions=group:2
priority=90,in_port=3,actions=group:3,output:5
priority=90,in_port=4,actions=group:4,output:5
priority=90,in_port=5,actions=group:5
table=5,priority=1,actions=mod_dl_dst:00:00:00:00:09:09,output:9,output:5
table=6,priority=10,ct_state=+trk,actions=output:1
table=6,priority=1,actions=output:2
EOF2
flows br1 <<<"priority=0,actions=output:2"
capture
for inp in 1 2 3 4 5; do
  t br0 "in_port=$inp,$ARP"
  t br0 "in_port=$inp,$TCP"
  t br0 "in_port=$inp,dl_src=$M1,dl_dst=$M2,dl_type=0x88cc"
  t br0 "in_port=$inp,$TCP6"
done
t br0 "in_port=2,$ARP" --ct-next trk,est
fi

# ---- output to the input port, IN_PORT, and dec_ttl around them ----
if scenario inport-decttl; then
flows br0 <<EOF2
priority=100,ip,in_port=1,nw_dst=10.0.0.2,actions=dec_ttl,output:1
priority=100,ip,in_port=1,nw_dst=10.0.0.3,actions=dec_ttl,in_port
priority=100,ip,in_port=1,nw_dst=10.0.0.4,actions=output:1,dec_ttl,output:5
priority=100,ip,in_port=1,nw_dst=10.0.0.5,actions=dec_ttl,output:5,in_port
priority=100,ip,in_port=1,nw_dst=10.0.0.6,actions=dec_ttl(7,9),output:5
priority=100,ip,in_port=1,nw_dst=10.0.0.7,actions=dec_ttl,dec_ttl,output:5
priority=100,ip,in_port=1,nw_dst=10.0.0.8,actions=mod_dl_dst:00:00:00:00:08:08,dec_ttl,resubmit(,2)
priority=100,ip,in_port=1,nw_dst=10.0.0.9,actions=dec_ttl,set_field:5->in_port,output:5,output:1,in_port
priority=100,ipv6,in_port=1,actions=dec_ttl,in_port
table=2,priority=1,actions=in_port,output:1,output:9
EOF2
flows10 br0 <<EOF2
priority=90,in_port=1,actions=dec_ttl,in_port,output:5
priority=80,in_port=5,actions=dec_ttl,output:5,IN_PORT
priority=80,in_port=9,actions=dec_ttl,in_port
EOF2
flows10 br1 <<<"priority=0,actions=dec_ttl,in_port,output:2"
capture
for ttl in 64 2 1 0; do
  for d in 2 3 4 5 6 7 8 9; do
    t br0 "in_port=1,dl_src=$M1,dl_dst=$M2,ip,nw_src=10.0.0.1,nw_dst=10.0.0.$d,nw_ttl=$ttl"
  done
  t br0 "in_port=1,dl_src=$M1,dl_dst=$M2,ipv6,ipv6_src=fd00::1,ipv6_dst=fd00::2,nw_ttl=$ttl"
  t br0 "in_port=5,$(echo "$IP" | sed "s/nw_ttl=64/nw_ttl=$ttl/")"
  t br1 "in_port=1,$(echo "$IP" | sed "s/nw_ttl=64/nw_ttl=$ttl/")"
done
t br0 "in_port=1,$ARP"
t br0 "in_port=5,$ARP"
fi

# ---- a packet bounced between two bridges over their patch ports (IN_PORT / in_port):
# the peer bridge's errors (depth 64 included) do not propagate back, each caller goes on ----
if scenario patch-bounce; then
flows br0 <<EOF2
priority=100,ip,in_port=1,actions=output:9,mod_dl_dst:00:00:00:00:07:07,output:5
priority=100,ip,in_port=9,actions=resubmit(,2),output:5
priority=100,tcp,in_port=2,actions=output:9,load:0x3->NXM_NX_REG10[],output:in_port
priority=100,udp,in_port=2,actions=output:9
table=2,priority=1,ip,actions=mod_nw_tos:32,IN_PORT,output:4
EOF2
flows br1 <<EOF2
priority=100,tcp,actions=mod_dl_src:00:00:00:00:0e:0e,IN_PORT,output:2
priority=100,udp,actions=in_port
priority=50,actions=output:3
EOF2
capture
t br0 "in_port=2,$TCP"
t br0 "in_port=1,$UDP"
t br0 "in_port=1,$ARP"
t br1 "in_port=2,$TCP"
fi

# ---- megaflows of tables with conjunctive matches: the soft and conj_id rules share the
# classifier (tries, subtables) with the rest, so they widen the megaflow as OVS's do ----
if scenario conj-megaflow; then
flows br0 <<EOF2
priority=187,in_port=2,actions=output:5
priority=1000,tcp,nw_src=10.180.204.11,actions=conjunction(1,1/3)
priority=1000,tcp,nw_src=10.180.204.12,actions=conjunction(1,1/3)
priority=1000,tcp,nw_dst=10.180.204.11,actions=conjunction(1,2/3)
priority=1000,tcp,tp_dst=443,actions=conjunction(1,3/3)
priority=1000,conj_id=1,tcp,reg14=0x5,metadata=0x3,actions=output:1
priority=100,ip,nw_src=10.180.204.252,actions=conjunction(42,1/2)
priority=100,ip,nw_dst=192.0.2.10,actions=conjunction(42,2/2)
priority=100,conj_id=42,ip,actions=output:3
priority=90,ip,nw_src=10.1.0.0/16,actions=conjunction(7,1/2)
priority=90,ip,nw_dst=10.2.0.0/16,actions=conjunction(7,2/2)
priority=90,conj_id=7,ip,reg0=0x1,actions=output:4
priority=80,ip,nw_src=10.1.0.0/16,actions=output:5
priority=0,actions=drop
EOF2
capture
for inp in 1 2; do
  for src in 10.180.204.11 10.180.204.252 10.1.2.3 192.0.2.10; do
    for dst in 10.180.204.11 192.0.2.10 10.2.0.9 10.0.0.2; do
      t br0 "in_port=$inp,dl_src=$M1,dl_dst=$M2,tcp,nw_src=$src,nw_dst=$dst,nw_ttl=64,tp_src=1234,tp_dst=443"
    done
  done
  t br0 "in_port=$inp,reg14=0x5,metadata=0x3,dl_src=$M1,dl_dst=$M2,tcp,nw_src=10.180.204.12,nw_dst=10.180.204.11,nw_ttl=64,tp_src=1234,tp_dst=443"
  t br0 "in_port=$inp,reg0=0x1,$(echo "$IP" | sed 's/10.0.0.1/10.1.0.7/;s/10.0.0.2/10.2.9.9/')"
  t br0 "in_port=$inp,$(echo "$IP" | sed 's/10.0.0.1/10.1.0.7/;s/10.0.0.2/10.2.9.9/')"
  t br0 "in_port=$inp,$(echo "$IP" | sed 's/10.0.0.1/10.180.204.252/;s/10.0.0.2/192.0.2.10/')"
  t br0 "in_port=$inp,$ARP"
done
fi

# ---- flows added over OpenFlow 1.0 (plain ovs-ofctl): the OF1.5 dump shows reset_counts and
# OF1.5 spellings, ofproto/trace the OpenFlow 1.0 ones the switch kept ----
if scenario of10-spelling; then
flows10 br0 <<EOF2
priority=100,tcp,in_port=1,actions=mod_tp_src:80,set_field:81->tcp_dst,set_field:32->nw_tos,mod_nw_src:10.9.9.9,set_field:10.8.8.8->ip_dst,mod_dl_dst:00:00:00:00:07:07,set_field:00:00:00:00:08:08->eth_src,output:5
priority=100,udp,in_port=1,actions=mod_tp_dst:53,load:0x7->NXM_NX_TUN_ID[],set_field:0x5->reg1,set_field:0x3/0x3->reg2,set_field:0x5/0x5->reg3,load:0x10->OXM_OF_METADATA[0..7],enqueue:5:3,output:2
priority=100,ip,in_port=1,actions=mod_vlan_vid:30,mod_vlan_pcp:5,output:3,strip_vlan,set_vlan_vid:7,output:5
priority=100,ip,in_port=2,actions=ct(commit,zone=3,exec(set_field:0x1->ct_mark,load:0x2->NXM_NX_CT_LABEL[0..7])),clone(mod_dl_dst:00:00:00:00:00:01,set_field:0x5/0x5->reg3,output:5),output:1
priority=100,ip,in_port=3,actions=set_field:5->nw_ttl,set_field:0x1->pkt_mark,output:5
priority=100,ip,in_port=3,dl_vlan=10,actions=mod_vlan_vid:20,mod_vlan_pcp:3,output:5,strip_vlan,output:5
priority=100,arp,actions=set_field:1.2.3.4->arp_spa,set_field:2->arp_op,load:0x2->NXM_NX_ARP_THA[],output:5
priority=100,ipv6,actions=set_field:fd00::9->ipv6_src,set_field:0x12345->ipv6_label,output:5
EOF2
capture
t br0 "in_port=1,$TCP"
t br0 "in_port=1,$UDP"
t br0 "in_port=1,$IP"
t br0 "in_port=1,dl_vlan=10,$IP"
t br0 "in_port=2,$IP"
t br0 "in_port=3,$IP"
t br0 "in_port=3,dl_vlan=10,$IP"
t br0 "in_port=3,dl_vlan=20,$IP"
t br0 "in_port=1,$ARP"
t br0 "in_port=1,$TCP6"
fi

# ---- sets no datapath implements (ARP fields, ICMP type/code: the userspace slow path) and
# the IPv6 flow label; what they un-wildcard ----
if scenario slow-sets; then
flows br0 <<EOF2
priority=100,arp,in_port=1,actions=set_field:01:00:5e:00:00:01->arp_sha,output:5,set_field:1.1.1.1->arp_spa,set_field:3->arp_op,output:5
priority=100,arp,in_port=2,actions=move:NXM_OF_ETH_SRC[]->NXM_NX_ARP_THA[],output:5
priority=100,arp,in_port=3,actions=load:0x1->NXM_NX_ARP_THA[0..3],output:5
priority=100,rarp,in_port=1,actions=set_field:1.1.1.1->arp_tpa,output:5
priority=100,icmp,in_port=1,actions=set_field:3->icmp_type,output:5,set_field:1->icmp_code,output:5
priority=100,icmp6,in_port=1,actions=set_field:129->icmpv6_type,output:5
priority=100,ipv6,in_port=2,actions=set_field:0x54321->ipv6_label,output:5,set_field:0x1->ipv6_label,output:5
priority=100,ip,in_port=1,actions=mod_nw_tos:0,output:5
priority=90,arp,actions=NORMAL
EOF2
flows br1 <<<"priority=0,arp,actions=set_field:00:00:00:00:00:09->arp_tha,output:2"
capture
for inp in 1 2 3 4; do
  t br0 "in_port=$inp,$ARP"
  t br0 "in_port=$inp,dl_src=$M1,dl_dst=$M2,arp,arp_spa=10.0.0.1,arp_tpa=10.0.0.2,arp_op=2,arp_sha=$M1"
done
t br0 "in_port=1,dl_src=$M1,dl_dst=$BC,rarp,arp_spa=10.0.0.1,arp_tpa=10.0.0.2,arp_op=3"
t br0 "in_port=1,dl_src=$M1,dl_dst=$M2,icmp,nw_src=10.0.0.1,nw_dst=10.0.0.2,nw_ttl=64,icmp_type=8,icmp_code=0"
t br0 "in_port=1,dl_src=$M1,dl_dst=$M2,icmp,nw_src=10.0.0.1,nw_dst=10.0.0.2,nw_ttl=64,icmp_type=3,icmp_code=1"
t br0 "in_port=1,dl_src=$M1,dl_dst=$M2,icmp6,ipv6_src=fd00::1,ipv6_dst=fd00::2,nw_ttl=64,icmpv6_type=128,icmpv6_code=0"
t br0 "in_port=2,$TCP6"
t br0 "in_port=2,dl_src=$M1,dl_dst=$M2,ipv6,ipv6_src=fd00::1,ipv6_dst=fd00::2,ipv6_label=0x54321,nw_ttl=64"
t br0 "in_port=1,dl_src=$M1,dl_dst=$M2,ip,nw_src=10.0.0.1,nw_dst=10.0.0.2,nw_ttl=64,nw_tos=32"
fi

# ---- lookup stages: OVS's L3 segment ends at nd_target, so arp_sha/arp_tha, nd_target and
# tcp_flags are looked up with the ports (OVN's port-security tables match them) ----
if scenario stages; then
flows br0 <<EOF2
priority=90,arp,reg14=0x2,metadata=0x1,dl_src=$M1,arp_spa=10.0.0.1,arp_sha=$M1,actions=output:1
priority=80,arp,reg14=0x2,metadata=0x1,actions=output:2
priority=90,icmp6,reg14=0x2,metadata=0x1,nw_ttl=255,icmp_type=135,icmp_code=0,nd_sll=$M1,actions=output:1
priority=90,icmp6,reg14=0x2,metadata=0x1,nw_ttl=255,icmp_type=136,icmp_code=0,nd_target=fd00::1,actions=output:1
priority=80,icmp6,reg14=0x2,metadata=0x1,actions=output:2
priority=70,tcp,tcp_flags=+syn-ack,nw_dst=10.0.0.2,actions=output:3
priority=60,tcp,tp_dst=80,actions=output:4
priority=0,actions=drop
EOF2
capture
for spa in 10.0.0.1 10.0.0.9; do
  for sha in $M1 $M2; do
    t br0 "in_port=1,reg14=2,metadata=1,dl_src=$M1,dl_dst=$BC,arp,arp_spa=$spa,arp_tpa=10.0.0.2,arp_op=1,arp_sha=$sha"
  done
done
t br0 "in_port=1,reg14=2,metadata=1,dl_src=$M2,dl_dst=$BC,arp,arp_spa=10.0.0.1,arp_tpa=10.0.0.2,arp_op=1,arp_sha=$M1"
t br0 "in_port=1,reg14=2,metadata=1,dl_src=$M1,dl_dst=$M2,icmp6,ipv6_src=fd00::1,ipv6_dst=ff02::1:ff00:2,nw_ttl=255,icmpv6_type=135,icmpv6_code=0,nd_target=fd00::2,nd_sll=$M2"
t br0 "in_port=1,reg14=2,metadata=1,dl_src=$M1,dl_dst=$M2,icmp6,ipv6_src=fd00::1,ipv6_dst=fd00::2,nw_ttl=255,icmpv6_type=136,icmpv6_code=0,nd_target=fd00::3"
t br0 "in_port=1,dl_src=$M1,dl_dst=$M2,tcp,nw_src=10.0.0.1,nw_dst=10.0.0.2,nw_ttl=64,tp_src=1234,tp_dst=80,tcp_flags=ack"
t br0 "in_port=1,dl_src=$M1,dl_dst=$M2,tcp,nw_src=10.0.0.1,nw_dst=10.0.0.3,nw_ttl=64,tp_src=1234,tp_dst=80,tcp_flags=syn"
t br0 "in_port=1,dl_src=$M1,dl_dst=$M2,tcp,nw_src=10.0.0.1,nw_dst=10.0.0.2,nw_ttl=64,tp_src=1234,tp_dst=80,tcp_flags=syn"
fi

# ---- VLAN push/pop around NORMAL on trunk and access ports ----
if scenario vlan-normal; then
flows br0 <<EOF2
priority=100,in_port=1,dl_vlan=0xffff,actions=mod_vlan_vid:10,NORMAL
priority=100,in_port=1,dl_vlan=10,actions=strip_vlan,NORMAL
priority=100,in_port=1,dl_vlan=20,actions=mod_vlan_vid:10,NORMAL
priority=100,in_port=1,dl_vlan=30,actions=push_vlan:0x8100,set_field:4116->vlan_vid,NORMAL
priority=100,in_port=3,dl_vlan=10,actions=strip_vlan,NORMAL
priority=100,in_port=3,dl_vlan=20,actions=NORMAL,strip_vlan,output:5
priority=100,in_port=3,dl_vlan=0xffff,actions=mod_vlan_vid:20,NORMAL,output:5
priority=100,in_port=5,actions=push_vlan:0x8100,mod_vlan_vid:20,NORMAL,strip_vlan,NORMAL
priority=100,in_port=4,actions=mod_vlan_vid:10,mod_vlan_pcp:3,NORMAL
priority=50,actions=NORMAL
EOF2
flows10 br0 <<<"priority=100,in_port=2,actions=strip_vlan,NORMAL"
flows br1 <<<"priority=0,actions=NORMAL"
capture
for inp in 1 2 3 4 5; do
  for v in none 10 20 30; do
    if [ $v = none ]; then vv=""; else vv="dl_vlan=$v,"; fi
    t br0 "in_port=$inp,${vv}$TCP"
  done
  t br0 "in_port=$inp,$ARP"
done
fi

# ---- conjunctive matches: conjunction(id,k/n) + conj_id (OVN address sets / port groups) ----
if scenario conjunction; then
flows br0 <<EOF2
table=0,priority=100,ip,nw_src=10.0.0.1,actions=conjunction(7,1/2)
table=0,priority=100,ip,nw_src=10.0.0.3,actions=conjunction(7,1/2),conjunction(8,1/2)
table=0,priority=100,ip,nw_src=10.0.0.0/29,actions=conjunction(9,1/3),note:aa.bb
table=0,priority=100,tcp,tp_dst=80,actions=conjunction(7,2/2)
table=0,priority=100,tcp,tp_dst=443,actions=conjunction(8,2/2),conjunction(9,2/3)
table=0,priority=100,in_port=2,actions=conjunction(9,3/3)
table=0,priority=100,conj_id=7,ip,actions=output:2
table=0,priority=100,conj_id=8,actions=output:3
table=0,priority=100,conj_id=9,tcp,actions=mod_dl_dst:00:00:00:00:09:09,output:4
table=0,priority=200,ip,nw_dst=10.9.9.9,actions=output:5
table=0,priority=50,ip,actions=resubmit(,1)
table=0,priority=10,actions=drop
table=1,priority=300,udp,udp_dst=53,actions=conjunction(20,1/2)
table=1,priority=300,ip,nw_dst=10.0.0.2,actions=conjunction(20,2/2)
table=1,priority=200,udp,udp_dst=53,actions=conjunction(21,1/2)
table=1,priority=200,ip,nw_dst=10.0.0.2,actions=conjunction(22,2/2)
table=1,priority=200,ip,nw_dst=10.0.0.4,actions=conjunction(21,2/2)
table=1,priority=300,conj_id=20,actions=set_field:0x14->reg0,resubmit(,2)
table=1,priority=200,conj_id=21,actions=set_field:0x15->reg0,resubmit(,2)
table=1,priority=250,udp,actions=set_field:0x1->reg0,resubmit(,2)
table=1,priority=100,ip,nw_dst=10.0.0.2,actions=output:9
table=1,priority=0,actions=output:5
table=2,priority=10,reg0=0x14,actions=output:2
table=2,priority=10,reg0=0x15,actions=output:3
table=2,priority=5,actions=output:4
EOF2
flows br1 <<<"priority=0,actions=output:2"
capture
for s in 1 2 3 5 9; do
  for p in 80 443 22; do
    for inp in 1 2; do
      t br0 "in_port=$inp,dl_src=$M1,dl_dst=$M2,tcp,nw_src=10.0.0.$s,nw_dst=10.0.0.2,nw_ttl=64,tp_src=1234,tp_dst=$p"
    done
  done
done
t br0 "in_port=1,dl_src=$M1,dl_dst=$M2,tcp,nw_src=10.0.0.1,nw_dst=10.9.9.9,nw_ttl=64,tp_src=1234,tp_dst=80"
for d in 2 4 5; do
  for p in 53 54; do
    t br0 "in_port=1,dl_src=$M1,dl_dst=$M2,udp,nw_src=10.0.0.8,nw_dst=10.0.0.$d,nw_ttl=64,udp_src=5353,udp_dst=$p"
  done
done
t br0 "in_port=1,dl_src=$M1,dl_dst=$M2,ip,nw_src=10.0.0.8,nw_dst=10.0.0.2,nw_ttl=64"
t br0 "in_port=1,$ARP"
fi

# ---- groups: every type, selection method and fields= form; buckets as action sets ----
if scenario groups-all; then
groups br0 <<EOF2
group_id=1,type=select,selection_method=hash,fields=ip_dst,bucket=bucket_id:0,actions=output:2,bucket=bucket_id:1,actions=output:3,bucket=bucket_id:2,actions=output:4
group_id=2,type=select,selection_method=hash,fields(ip_src,tcp_dst),bucket=bucket_id:0,weight:10,actions=output:2,bucket=bucket_id:1,weight:30,actions=output:3
group_id=3,type=select,selection_method=hash,fields(ip_dst=255.255.255.0,eth_src),bucket=bucket_id:0,actions=output:2,bucket=bucket_id:1,actions=output:3
group_id=4,type=select,selection_method=dp_hash,bucket=bucket_id:0,actions=output:2,bucket=bucket_id:1,actions=output:3
group_id=5,type=select,selection_method=dp_hash,selection_method_param=0x100000000,bucket=bucket_id:0,actions=output:2,bucket=bucket_id:1,actions=output:3
group_id=6,type=select,bucket=bucket_id:0,actions=output:2,bucket=bucket_id:1,actions=output:3
group_id=7,type=indirect,bucket=bucket_id:0,actions=mod_dl_dst:00:00:00:00:07:07,output:5
group_id=8,type=all,bucket=bucket_id:0,actions=output:2,output:3,bucket=bucket_id:1,actions=note:aa.bb,output:4,bucket=bucket_id:2,actions=ct(commit,zone=3),output:5
group_id=9,type=all,bucket=bucket_id:0,actions=output:5,mod_dl_src:00:00:00:00:0a:0a,dec_ttl,set_field:0x1->reg1,bucket=bucket_id:1,actions=group:7,output:2
group_id=10,type=ff,bucket=bucket_id:0,watch_port:7,actions=output:2,bucket=bucket_id:1,watch_port:3,actions=output:3,bucket=bucket_id:2,watch_port:4,actions=output:4
group_id=11,type=ff,bucket=bucket_id:0,watch_port:7,actions=output:2,bucket=bucket_id:1,watch_port:8,actions=output:3
group_id=12,type=all,bucket=bucket_id:0,actions=output:9,bucket=bucket_id:1,actions=output:5
group_id=13,type=select,selection_method=hash,fields(ip_dst,udp_dst),bucket=bucket_id:0,actions=set_field:0xd->reg0,resubmit(,3),bucket=bucket_id:1,actions=set_field:0xe->reg0,resubmit(,3)
group_id=14,type=all,bucket=bucket_id:0,actions=push_vlan:0x8100,set_field:4106->vlan_vid,output:3,bucket=bucket_id:1,actions=pop_vlan,output:5
group_id=15,type=select,selection_method=hash,fields=eth_dst,bucket=bucket_id:0,actions=output:2,bucket=bucket_id:1,actions=output:3,bucket=bucket_id:2,actions=output:4,bucket=bucket_id:3,actions=output:5
group_id=16,type=all,bucket=bucket_id:0,actions=ct(table=4,zone=6)
EOF2
flows br0 <<EOF2
priority=100,ip,in_port=1,nw_src=10.0.0.1,actions=group:1
priority=100,ip,in_port=1,nw_src=10.0.0.2,actions=group:2
priority=100,ip,in_port=1,nw_src=10.0.0.3,actions=group:3
priority=100,ip,in_port=1,nw_src=10.0.0.4,actions=group:4
priority=100,ip,in_port=1,nw_src=10.0.0.5,actions=group:5
priority=100,ip,in_port=1,nw_src=10.0.0.6,actions=group:6
priority=100,ip,in_port=1,nw_src=10.0.0.7,actions=group:7,output:4
priority=100,ip,in_port=1,nw_src=10.0.0.8,actions=group:8
priority=100,ip,in_port=1,nw_src=10.0.0.9,actions=group:9,output:3
priority=100,ip,in_port=1,nw_src=10.0.0.10,actions=group:10
priority=100,ip,in_port=1,nw_src=10.0.0.11,actions=group:11,output:5
priority=100,ip,in_port=1,nw_src=10.0.0.12,actions=group:12
priority=100,ip,in_port=1,nw_src=10.0.0.13,actions=group:13
priority=100,ip,in_port=1,nw_src=10.0.0.14,actions=group:14
priority=100,ip,in_port=1,nw_src=10.0.0.15,actions=group:15,group:1
priority=100,ip,in_port=1,nw_src=10.0.0.16,actions=group:16,output:5
priority=100,ip,in_port=1,nw_src=10.0.0.17,actions=group:12,output:4
priority=100,dl_vlan=10,in_port=3,actions=group:14
table=3,priority=10,reg0=0xd,actions=output:2
table=3,priority=10,reg0=0xe,actions=output:3
table=4,priority=10,ct_state=+trk,actions=output:2
EOF2
flows br1 <<EOF2
priority=100,ip,actions=ct(commit,zone=9),output:2
priority=0,actions=output:3
EOF2
capture
for s in $(seq 1 17); do
  for d in 2 3 77; do
    t br0 "in_port=1,dl_src=$M1,dl_dst=00:00:00:00:0$((d % 10)):0$((d % 7)),tcp,nw_src=10.0.0.$s,nw_dst=10.0.$d.$d,nw_ttl=64,tp_src=$((1000 + d)),tp_dst=$((80 + d))"
  done
  t br0 "in_port=1,dl_src=$M1,dl_dst=$M2,udp,nw_src=10.0.0.$s,nw_dst=10.0.0.2,nw_ttl=1,udp_src=5353,udp_dst=53"
done
t br0 "in_port=3,dl_vlan=10,$TCP"
t br0 "in_port=1,dl_src=$M1,dl_dst=$M2,tcp,nw_src=10.0.0.16,nw_dst=10.0.0.2,nw_ttl=64,tp_src=1,tp_dst=2" --ct-next trk,est
fi

# ---- learn, check_pkt_larger, controller, note, sample, meter, queues, stack, action set ----
if scenario misc-actions; then
$OF add-meter br0 meter=1,kbps,band=type=drop,rate=1000
$OF add-meter br0 meter=2,pktps,band=type=drop,rate=10
groups br0 <<EOF2
group_id=1,type=all,bucket=bucket_id:0,actions=CONTROLLER:128,bucket=bucket_id:1,actions=output:5
group_id=2,type=indirect,bucket=bucket_id:0,actions=set_field:0x7->reg1,output:3
group_id=3,type=all,bucket=bucket_id:0,actions=resubmit(,14),bucket=bucket_id:1,actions=output:5
EOF2
flows br0 <<EOF2
priority=100,ip,nw_dst=10.0.0.1,actions=learn(table=10,idle_timeout=60,priority=5,NXM_OF_ETH_DST[]=NXM_OF_ETH_SRC[],load:NXM_OF_IN_PORT[]->NXM_NX_REG0[0..15],output:NXM_OF_IN_PORT[]),resubmit(,10),output:5
priority=100,ip,nw_dst=10.0.0.2,actions=check_pkt_larger(1500)->NXM_NX_REG0[0],resubmit(,11)
priority=100,ip,nw_dst=10.0.0.3,actions=controller(reason=no_match,max_len=128,id=5,userdata=01.02),output:5
priority=100,ip,nw_dst=10.0.0.4,actions=meter:1,note:01.02.03,sample(probability=65535,collector_set_id=1,obs_domain_id=2,obs_point_id=3),set_queue:3,output:5,pop_queue,set_queue:7,output:2,pop_queue
priority=100,tcp,nw_dst=10.0.0.5,actions=fin_timeout(idle_timeout=10,hard_timeout=20),learn(table=12,priority=9,eth_type=0x800,nw_proto=6,NXM_OF_IP_SRC[],NXM_OF_TCP_DST[],load:0x1->NXM_NX_REG5[]),resubmit(,11)
priority=100,ip,nw_dst=10.0.0.6,actions=push:NXM_NX_REG0[],set_field:0x5->reg0,pop:NXM_NX_REG1[],push:NXM_OF_ETH_SRC[0..15],pop:NXM_NX_REG2[0..7],pop:NXM_NX_REG3[],output:NXM_NX_REG1[0..15]
priority=100,ip,nw_dst=10.0.0.7,actions=write_actions(mod_dl_dst:00:00:00:00:07:07,output:4),write_metadata:0x5/0xff,goto_table:12
priority=100,ip,nw_dst=10.0.0.8,actions=write_actions(group:2,output:4,push_vlan:0x8100,set_field:4106->vlan_vid),goto_table:13
priority=100,ip,nw_dst=10.0.0.9,actions=controller(max_len=100),CONTROLLER:65535,group:1,controller(id=3,userdata=aa)
priority=100,ip,nw_dst=10.0.0.10,actions=ct_clear,clone(mod_dl_dst:00:00:00:00:01:01,output:2),output:3,exit,output:4
priority=100,ip,nw_dst=10.0.0.11,actions=meter:2,check_pkt_larger(200)->NXM_NX_REG4[3],output:5
priority=100,ip,nw_dst=10.0.0.12,actions=mod_dl_src:00:00:00:00:0c:0c,check_pkt_larger(1000)->NXM_NX_REG0[0],output:2,resubmit(,11),output:4
priority=100,ip,nw_dst=10.0.0.13,actions=set_queue:5,output:9,write_actions(set_queue:6,output:3)
priority=100,ip,nw_dst=10.0.0.14,actions=clone(ct(commit,zone=4),output:2),output:3
priority=100,ip,nw_dst=10.0.0.15,actions=output:3,clear_actions,write_actions(output:2)
priority=100,ip,nw_dst=10.0.0.16,actions=pop:NXM_NX_REG0[],output:4
priority=100,ip,nw_dst=10.0.0.17,actions=write_actions(ct(commit,zone=3),output:5)
priority=100,ip,nw_dst=10.0.0.18,actions=write_actions(CONTROLLER:64),goto_table:12
priority=100,udp,nw_dst=10.0.0.20,udp_dst=67,actions=controller(userdata=00.00.00.02.00,pause),resubmit(,11),output:2
priority=100,ip,nw_dst=10.0.0.20,actions=mod_dl_dst:00:00:00:00:09:09,controller(userdata=aa,pause,meter_id=2),output:3
priority=100,ip,nw_dst=10.0.0.21,actions=set_field:0x5->reg0,push:NXM_NX_REG0[],controller(pause,id=3,max_len=200),output:3
priority=100,ip,nw_dst=10.0.0.22,actions=group:3,output:4
priority=100,ip,nw_dst=10.0.0.23,actions=output(port=2,max_len=100),mod_dl_dst:00:00:00:00:23:23,output(port=3,max_len=64),output:4,output(port=9,max_len=64),output(port=1,max_len=80),output(port=LOCAL,max_len=70)
priority=100,ip,nw_dst=10.0.0.24,actions=clone(output(port=2,max_len=100)),output:3
priority=100,ip,nw_dst=10.0.0.19,actions=controller(reason=invalid_ttl),controller(reason=action_set,max_len=10),controller(reason=group),controller(reason=packet_out,id=65535)
table=10,priority=1,actions=output:3
table=11,priority=10,reg0=0x1/0x1,actions=output:2
table=11,priority=5,actions=output:3
table=12,priority=1,actions=clear_actions,write_actions(output:3)
table=13,priority=1,actions=write_actions(output:5)
table=14,priority=1,actions=mod_dl_src:00:00:00:00:0e:0e,controller(userdata=bb,pause),output:2
EOF2
flows br1 <<<"priority=0,actions=output:2"
capture
for d in $(seq 1 24); do
  t br0 "in_port=1,dl_src=$M1,dl_dst=$M2,tcp,nw_src=10.0.0.1,nw_dst=10.0.0.$d,nw_ttl=64,tp_src=1234,tp_dst=80"
  t br0 "in_port=2,dl_src=$M2,dl_dst=$M1,udp,nw_src=10.0.0.2,nw_dst=10.0.0.$d,nw_ttl=64,udp_src=1,udp_dst=2"
done
t br0 "in_port=2,dl_src=$M2,dl_dst=$BC,udp,nw_src=0.0.0.0,nw_dst=10.0.0.20,nw_ttl=64,udp_src=68,udp_dst=67"
t br0 "in_port=1,skb_priority=9,dl_src=$M1,dl_dst=$M2,tcp,nw_src=10.0.0.1,nw_dst=10.0.0.4,nw_ttl=64,tp_src=1234,tp_dst=80"
t br0 "in_port=1,reg0=0x1234,dl_src=$M1,dl_dst=$M2,tcp,nw_src=10.0.0.1,nw_dst=10.0.0.6,nw_ttl=64,tp_src=1234,tp_dst=80"
fi

# ---- move/load on many fields, output:NXM, resubmit variants, special ports ----
if scenario moveload; then
flows br0 <<EOF2
priority=100,ip,nw_dst=10.0.0.1,actions=move:NXM_OF_ETH_SRC[]->NXM_OF_ETH_DST[],move:NXM_OF_IP_SRC[]->NXM_NX_REG0[],move:NXM_NX_REG0[0..7]->NXM_NX_IP_TTL[],output:5
priority=100,ip,nw_dst=10.0.0.2,actions=load:0x2->NXM_NX_REG1[0..15],output:NXM_NX_REG1[0..15]
priority=100,tcp,nw_dst=10.0.0.3,actions=load:0xa0a0a0a->NXM_OF_IP_DST[],load:0x1f->NXM_OF_TCP_DST[0..7],load:0x3->NXM_OF_VLAN_TCI[13..15],output:5
priority=100,tcp,nw_dst=10.0.0.4,actions=move:NXM_OF_TCP_SRC[]->NXM_OF_TCP_DST[],move:NXM_OF_TCP_DST[]->NXM_NX_REG2[16..31],set_field:0x5->pkt_mark,output:5
priority=100,ip,nw_dst=10.0.0.5,actions=move:NXM_NX_CT_STATE[]->NXM_NX_REG3[],move:NXM_OF_IN_PORT[]->NXM_NX_REG4[0..15],move:OXM_OF_METADATA[0..31]->NXM_NX_REG5[],output:LOCAL
priority=100,ip,nw_dst=10.0.0.6,actions=resubmit(,2),resubmit(5,2),resubmit(5),resubmit:3,output:ALL
priority=100,ip,nw_dst=10.0.0.7,actions=set_field:0x1234->reg8,set_field:0xab->metadata,move:OXM_OF_METADATA[0..15]->NXM_NX_XXREG0[0..15],FLOOD
priority=100,ip,nw_dst=10.0.0.8,actions=set_field:1->in_port,resubmit(,2),output:IN_PORT,output:1,TABLE
priority=100,udp,nw_dst=10.0.0.9,actions=move:NXM_OF_ETH_DST[0..31]->NXM_NX_XXREG1[64..95],move:NXM_NX_XXREG1[64..79]->NXM_OF_UDP_DST[],load:0xffff->NXM_NX_REG6[0..15],output:5
priority=100,ip,nw_dst=10.0.0.10,actions=set_field:fe:dc:00:00:00:00/ff:ff:00:00:00:00->eth_src,set_field:10.9.0.0/255.255.0.0->ip_src,set_field:0x30->ip_dscp,output:5
priority=100,ip,nw_dst=10.0.0.11,actions=load:0->NXM_OF_IN_PORT[],output:2,resubmit(0,2),output:IN_PORT
priority=100,ip,nw_dst=10.0.0.12,actions=set_field:0x3->reg7,output:NXM_NX_REG7[],output:NXM_NX_REG7[0..1]
table=2,priority=10,in_port=5,actions=output:3
table=2,priority=5,actions=output:4
table=0,priority=50,in_port=5,actions=output:1
table=0,priority=49,in_port=3,actions=output:2
EOF2
flows br1 <<<"priority=0,actions=output:2"
capture
for d in $(seq 1 12); do
  t br0 "in_port=1,dl_src=$M1,dl_dst=$M2,tcp,nw_src=10.0.0.1,nw_dst=10.0.0.$d,nw_ttl=64,tp_src=1234,tp_dst=80"
  t br0 "in_port=2,dl_vlan=10,dl_src=$M2,dl_dst=$M1,udp,nw_src=10.0.0.2,nw_dst=10.0.0.$d,nw_ttl=64,udp_src=1,udp_dst=2"
  t br0 "in_port=3,metadata=0x55,reg0=0x77,dl_src=$M2,dl_dst=$M1,udp,nw_src=10.0.0.2,nw_dst=10.0.0.$d,nw_ttl=64,udp_src=1,udp_dst=2" --ct-next trk,est
done
t br0 "in_port=LOCAL,dl_src=$M1,dl_dst=$M2,tcp,nw_src=10.0.0.1,nw_dst=10.0.0.6,nw_ttl=64,tp_src=1234,tp_dst=80"
fi

# ---- multipath, bundle, bundle_load: hash-chosen links and members ----
if scenario multipath-bundle; then
flows br0 <<EOF2
priority=100,ip,nw_dst=10.0.0.1,actions=multipath(eth_src,50,modulo_n,2,0,NXM_NX_REG0[0..3]),resubmit(,11)
priority=100,ip,nw_dst=10.0.0.2,actions=multipath(symmetric_l4,0,hash_threshold,3,0,NXM_NX_REG0[0..3]),resubmit(,11)
priority=100,ip,nw_dst=10.0.0.3,actions=multipath(symmetric_l3l4,7,hrw,4,0,NXM_NX_REG0[]),resubmit(,11)
priority=100,ip,nw_dst=10.0.0.4,actions=multipath(symmetric_l3l4+udp,1024,iter_hash,5,8,NXM_NX_REG0[0..3]),resubmit(,11)
priority=100,ip,nw_dst=10.0.0.5,actions=multipath(nw_src,0,modulo_n,7,0,NXM_NX_REG0[0..15]),multipath(nw_dst,9,hrw,3,0,NXM_NX_REG1[0..7]),multipath(symmetric_l3,5,modulo_n,6,0,NXM_NX_REG2[]),resubmit(,11)
priority=100,ip,nw_dst=10.0.0.6,actions=bundle(eth_src,0,active_backup,ofport,members:7,3,2)
priority=100,ip,nw_dst=10.0.0.7,actions=bundle(symmetric_l4,60,hrw,ofport,members:2,3,4,5)
priority=100,ip,nw_dst=10.0.0.8,actions=bundle_load(eth_src,0,hrw,ofport,NXM_NX_REG1[],members:4,5),output:NXM_NX_REG1[0..15]
priority=100,ip,nw_dst=10.0.0.9,actions=bundle_load(nw_src,3,active_backup,ofport,NXM_NX_REG1[0..15],members:8,5,2),output:NXM_NX_REG1[0..15]
priority=100,ip,nw_dst=10.0.0.10,actions=bundle(symmetric_l3l4+udp,0,hrw,ofport,members:2,7,9)
table=11,priority=10,reg0=0,actions=output:2
table=11,priority=10,reg0=1,actions=output:3
table=11,priority=10,reg0=2,actions=output:4
table=11,priority=5,actions=output:5
EOF2
flows br1 <<<"priority=0,actions=output:2"
capture
for d in $(seq 1 10); do
  for s in 1 2 3 4 5 6; do
    t br0 "in_port=1,dl_src=00:00:00:00:0$s:01,dl_dst=$M2,tcp,nw_src=10.0.$s.1,nw_dst=10.0.0.$d,nw_ttl=64,tp_src=$((1000 + s)),tp_dst=80"
  done
  t br0 "in_port=1,dl_src=$M1,dl_dst=$M2,udp,nw_src=10.0.0.1,nw_dst=10.0.0.$d,nw_ttl=64,udp_src=5353,udp_dst=53"
  t br0 "in_port=1,dl_src=$M1,dl_dst=$M2,ipv6,ipv6_src=fd00::1,ipv6_dst=fd00::$d"
done
fi

# ---- MPLS actions (push_mpls, pop_mpls, set_mpls_*, dec_mpls_ttl, set_field/load/move on mpls_*), MPLS packets arriving; stack and meters (scenarios mpls, meter-stack) ----
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

# ---- exit and controller(pause) inside clone(), a bucket and a patch port: what they end ----
if scenario clone-exit; then
groups br0 <<EOF2
group_id=1,type=all,bucket=bucket_id:0,actions=resubmit(,4),bucket=bucket_id:1,actions=mod_dl_dst:00:00:00:00:0d:0d,output:5
EOF2
flows br0 <<EOF2
priority=100,tcp,nw_dst=10.0.0.2,actions=clone(mod_dl_src:00:00:00:00:09:09,output:5,exit),output:1
priority=100,tcp,nw_dst=10.0.0.3,actions=clone(mod_dl_src:00:00:00:00:09:09,output:5,exit),resubmit(,3)
priority=100,tcp,nw_dst=10.0.0.4,actions=clone(set_field:443->tcp_dst,resubmit(,4)),output:1,clear_actions
priority=100,tcp,nw_dst=10.0.0.5,actions=mod_dl_dst:00:00:00:00:0e:0e,clone(ct(commit,zone=3),resubmit(,4)),output:1
priority=100,tcp,nw_dst=10.0.0.6,actions=group:1,ct(commit,zone=4),output:1
priority=100,tcp,nw_dst=10.0.0.7,actions=resubmit(,3),output:1
priority=100,tcp,nw_dst=10.0.0.8,actions=output:9,mod_dl_src:00:00:00:00:0f:0f,output:1
priority=100,tcp,nw_dst=10.0.0.9,actions=clone(resubmit(,5)),output:1
table=3,priority=1,actions=mod_dl_src:00:00:00:00:0a:0b,exit,output:5
table=4,priority=1,actions=push_vlan:0x8100,set_field:4106->vlan_vid,mod_dl_src:00:00:00:00:0c:0c,controller(userdata=00.00.00.0c.00.00.00.00,pause),output:5
table=5,priority=1,actions=mod_dl_src:00:00:00:00:0a:0a,exit
EOF2
flows br1 <<EOF2
priority=1,actions=mod_dl_dst:00:00:00:00:0b:0b,output:2,controller(pause),output:3
EOF2
capture
for d in 2 3 4 5 6 7 8 9; do
  t br0 "in_port=1,dl_src=$M1,dl_dst=$M2,tcp,nw_src=10.0.0.1,nw_dst=10.0.0.$d,nw_ttl=64,tp_src=1234,tp_dst=80"
done
fi

# ---- fin_timeout: the megaflow matches nw_proto (ARP opcode on ARP) ----
if scenario fin-timeout; then
flows10 br0 <<EOF2
priority=100,in_port=1,actions=fin_timeout(idle_timeout=10,hard_timeout=20),output:5
priority=100,in_port=2,actions=fin_timeout(idle_timeout=5),resubmit(,1)
table=1,priority=10,ip,nw_dst=10.0.0.2,actions=output:5
table=1,priority=1,actions=output:1
EOF2
capture
t br0 "in_port=1,$TCP"
t br0 "in_port=1,$UDP"
t br0 "in_port=1,$ARP"
t br0 "in_port=1,dl_src=$M1,dl_dst=$M2,dl_type=0x88cc"
t br0 "in_port=2,$TCP"
t br0 "in_port=2,$ARP"
t br0 "in_port=2,$TCP6"
fi

# ---- output to CONTROLLER in a group bucket: OFPR_GROUP (reason=4) only from the bucket's own
# actions; what a resubmit, a patch port, clone() or ct(exec) reached from it translates
# reports OFPR_ACTION (1), or OFPR_ACTION_SET (3) from an action set (do_xlate_actions's
# group_bucket_action argument; seed 880301, program 172) ----
if scenario bucket-reason; then
groups br0 <<EOF2
group_id=1,type=all,bucket=bucket_id:0,actions=CONTROLLER:128,bucket=bucket_id:1,actions=resubmit(,4)
group_id=2,type=select,selection_method=hash,fields(eth_src,eth_dst),bucket=bucket_id:0,weight:10,actions=output:9,bucket=bucket_id:1,weight:100,actions=output:9
group_id=3,type=all,bucket=bucket_id:0,actions=clone(CONTROLLER:64),bucket=bucket_id:1,actions=output:5
group_id=4,type=indirect,bucket=bucket_id:0,actions=resubmit(,5)
group_id=5,type=all,bucket=bucket_id:0,actions=group:6,bucket=bucket_id:1,actions=CONTROLLER:32
group_id=6,type=indirect,bucket=bucket_id:0,actions=CONTROLLER:16
EOF2
flows br0 <<EOF2
priority=100,ip,nw_dst=10.0.0.2,actions=group:1
priority=100,ip,nw_dst=10.0.0.3,actions=group:2
priority=100,ip,nw_dst=10.0.0.4,actions=group:3
priority=100,ip,nw_dst=10.0.0.5,actions=group:4
priority=100,ip,nw_dst=10.0.0.6,actions=group:5
priority=100,ip,nw_dst=10.0.0.7,actions=clone(resubmit(,5)),output:2
priority=100,ip,nw_dst=10.0.0.8,actions=check_pkt_larger(200)->NXM_NX_REG0[0],resubmit(,7),output:2
table=7,priority=1,actions=write_actions(output:4)
priority=100,arp,actions=mod_dl_src:00:00:00:00:0a:0a,group:2
table=4,priority=1,actions=CONTROLLER:65535,output:5
table=5,priority=1,actions=write_actions(CONTROLLER:100),goto_table:6
table=6,priority=1,actions=output:5
EOF2
flows br1 <<EOF2
priority=1,actions=mod_dl_dst:00:00:00:00:0b:0b,resubmit(,4)
table=4,priority=1,actions=CONTROLLER:65535,set_field:0x2->reg15
EOF2
capture
for d in 2 3 4 5 6 7 8; do
  t br0 "in_port=1,dl_src=$M1,dl_dst=$M2,ip,nw_src=10.0.0.1,nw_dst=10.0.0.$d,nw_ttl=64"
done
t br0 "in_port=1,$ARP" --ct-next trk,new
fi

# ---- which TOS writes make the megaflow match nw_proto: OpenFlow 1.0 mod_nw_tos and set_field
# or load of nw_tos do, set_field of ip_dscp (how OpenFlow 1.1+ carries mod_nw_tos) and move do
# not (seed 55555, program 253) ----
if scenario tos-proto; then
flows10 br0 <<EOF2
priority=100,ip,nw_dst=10.0.0.2,actions=mod_nw_tos:32,output:5
priority=100,ip,nw_dst=10.0.0.3,actions=mod_nw_tos:64,ct(table=3,zone=3,nat)
priority=100,ip,nw_dst=10.0.0.4,actions=mod_nw_ecn:2,output:5
EOF2
flows br0 <<EOF2
priority=100,ip,nw_dst=10.0.0.5,actions=mod_nw_tos:32,output:5
priority=100,ip,nw_dst=10.0.0.6,actions=set_field:32->nw_tos,output:5
priority=100,ip,nw_dst=10.0.0.7,actions=load:0x8->NXM_OF_IP_TOS[2..7],output:5
priority=100,ip,nw_dst=10.0.0.8,actions=move:NXM_NX_REG0[0..5]->NXM_OF_IP_TOS[2..7],output:5
priority=100,ip,nw_dst=10.0.0.9,actions=set_field:8->ip_dscp,output:5
EOF2
capture
for d in 2 3 4 5 6 7 8 9; do
  t br0 "in_port=1,dl_src=$M1,dl_dst=$M2,tcp,nw_src=10.0.0.1,nw_dst=10.0.0.$d,nw_tos=32,nw_ttl=64,tp_src=1234,tp_dst=80"
  t br0 "in_port=1,dl_src=$M1,dl_dst=$M2,icmp,nw_src=10.0.0.1,nw_dst=10.0.0.$d,nw_ttl=64,icmp_type=8,icmp_code=0"
done
t br0 "in_port=1,dl_src=$M1,dl_dst=$M2,tcp6,ipv6_src=fd00::1,ipv6_dst=fd00::2,nw_tos=32,nw_ttl=64,tp_src=1234,tp_dst=80"
fi

# ---- recirc ids: a frozen state (table, metadata, stack, action set, userdata) is shared ----
if scenario recirc-share; then
flows br0 <<EOF2
priority=100,tcp,nw_dst=10.0.0.2,actions=ct(table=4,zone=1)
priority=100,tcp,nw_dst=10.0.0.3,actions=ct(table=4,zone=1),ct(table=4,zone=2)
priority=100,tcp,nw_dst=10.0.0.4,actions=ct(table=5,zone=1)
priority=100,tcp,nw_dst=10.0.0.5,actions=push:NXM_NX_REG0[],ct(table=4,zone=1)
priority=100,tcp,nw_dst=10.0.0.6,actions=ct(table=6,zone=1),set_field:0x1->reg0,ct(table=6,zone=1)
table=4,priority=1,tcp,actions=dec_ttl(1,2)
table=5,priority=1,tcp,actions=controller(userdata=01.02),controller,output:5
table=6,priority=1,tcp,actions=controller,output:5
EOF2
flows br1 <<EOF2
priority=1,tcp,actions=ct(table=4,zone=1)
table=4,priority=1,tcp,actions=dec_ttl(1,2)
EOF2
capture
for d in 2 3 4 5 6; do
  t br0 "in_port=1,dl_src=$M1,dl_dst=$M2,tcp,nw_src=10.0.0.1,nw_dst=10.0.0.$d,nw_ttl=1,tp_src=1234,tp_dst=80"
done
# From a patch port xin->xport_uuid is zero: the controller's state is the ct's, so is its id.
t br1 "in_port=1,dl_src=$M1,dl_dst=$M2,tcp,nw_src=10.0.0.1,nw_dst=10.0.0.2,nw_ttl=1,tp_src=1234,tp_dst=80"
t br1 "in_port=2,dl_src=$M1,dl_dst=$M2,tcp,nw_src=10.0.0.1,nw_dst=10.0.0.2,nw_ttl=1,tp_src=1234,tp_dst=80"
fi

# ---- ct() on frames that are not IP: ARP, LLDP, MPLS, tagged ARP, with nat/exec/table ----
if scenario ct-nonip-more; then
# ct() needs an IP match in a flow (OFPBAC_MATCH_INCONSISTENT), not in a bucket.
groups br0 <<EOF2
group_id=1,type=all,bucket=bucket_id:0,actions=ct(commit,zone=7,nat(src=10.9.9.9)),bucket=bucket_id:1,actions=output:5
group_id=2,type=indirect,bucket=bucket_id:0,actions=ct(table=3,zone=7,nat)
group_id=3,type=all,bucket=bucket_id:0,actions=ct(commit,zone=8),bucket=bucket_id:1,actions=ct(table=3,zone=8)
group_id=4,type=indirect,bucket=bucket_id:0,actions=ct(commit,zone=9,exec(set_field:0x5->ct_mark))
EOF2
flows br0 <<EOF2
priority=100,in_port=1,actions=group:1,output:3
priority=100,in_port=2,actions=group:2,output:5
priority=100,in_port=3,actions=group:3,output:5
priority=100,in_port=4,actions=ct_clear,group:4,resubmit(,3)
priority=100,in_port=5,actions=group:4,group:3
table=3,priority=10,ct_state=+trk,actions=output:1
table=3,priority=1,actions=output:2
EOF2
capture
for p in 1 2 3 4 5; do
  t br0 "in_port=$p,$ARP"
  t br0 "in_port=$p,dl_src=$M1,dl_dst=$M2,dl_type=0x88cc"
done
t br0 "in_port=2,dl_src=$M1,dl_dst=$M2,dl_type=0x8847,mpls_label=5,mpls_bos=1,mpls_ttl=64"
t br0 "in_port=3,dl_vlan=10,$ARP"
t br0 "in_port=2,$ARP" --ct-next trk,est
t br0 "in_port=5,dl_src=$M1,dl_dst=$M2,dl_type=0x88cc" --ct-next trk,new --ct-next trk,rpl,est
fi

# ---- stated differences (OVNSIM_GOLDEN_OUT=.../test/stated; see test/stated.ts) ----
# Datapath meter ids count the meters of every bridge of the datapath, in the order they were
# added: br0's meter takes id 0, br1's meters 1 and 2; a capture (dump-meters) does not say.
if scenario stated-meter-ids; then
$OF add-meter br0 meter=1,kbps,band=type=drop,rate=1000
$OF add-meter br1 meter=1,kbps,band=type=drop,rate=1000
$OF add-meter br1 meter=2,pktps,band=type=drop,rate=10
flows br0 <<EOF2
priority=100,ip,actions=meter:1,output:5
EOF2
flows br1 <<EOF2
priority=100,ip,nw_dst=10.0.0.2,actions=meter:2,output:2
priority=100,ip,nw_dst=10.0.0.3,actions=meter:1,output:3
priority=100,ip,nw_dst=10.0.0.4,actions=controller(meter_id=2),output:2
EOF2
capture
t br0 "in_port=1,$IP"
for d in 2 3 4; do t br1 "in_port=2,dl_src=$M1,dl_dst=$M2,ip,nw_src=10.0.0.1,nw_dst=10.0.0.$d,nw_ttl=64"; done
fi

# ct(nat) in a group bucket: ofproto/trace prints the NAT of a copy of the bucket's actions that
# xlate_group_bucket() has released by then (empty, or another bucket's NAT).
if scenario stated-bucket-nat; then
groups br0 <<EOF2
group_id=1,type=all,bucket=bucket_id:0,actions=ct(commit,table=5,zone=3,nat(dst=10.1.1.1:80))
group_id=2,type=all,bucket=bucket_id:0,actions=ct(commit,table=5,zone=3,nat(dst=10.1.1.1:80)),bucket=bucket_id:1,actions=output:5,bucket=bucket_id:2,actions=ct(commit,table=5,zone=3,nat(dst=10.2.2.2:8080))
EOF2
flows br0 <<EOF2
priority=100,ip,nw_dst=10.0.0.2,actions=group:1
priority=100,ip,nw_dst=10.0.0.3,actions=group:2
table=5,priority=10,ip,nw_dst=10.1.1.1,actions=output:3
table=5,priority=1,actions=output:1
EOF2
capture
t br0 "in_port=1,$TCP"
t br0 "in_port=1,dl_src=$M1,dl_dst=$M2,tcp,nw_src=10.0.0.1,nw_dst=10.0.0.3,nw_ttl=64,tp_src=1234,tp_dst=80"
fi

# Both at once (seed 880301, program 202): a NORMAL flood reaches two patch ports (OVS's hash
# order, ovnsim's port order), and the peer's group bucket runs ct(nat) (released copy). A second
# patch pair br0 patch2 <-> br1 patch3 exists for this scenario only.
if scenario stated-flood-bucket-nat; then
ovs-vsctl add-port br0 patch2 -- set interface patch2 type=patch options:peer=patch3 ofport_request=8 \
  -- add-port br1 patch3 -- set interface patch3 type=patch options:peer=patch2 ofport_request=4
groups br1 <<EOF2
group_id=1,type=all,bucket=bucket_id:0,actions=ct(commit,table=5,zone=3,nat(dst=10.1.1.1:80),exec(set_field:0x2/0x2->ct_mark)),bucket=bucket_id:1,actions=output:1,bucket=bucket_id:2,actions=set_field:0/0x80->reg10,output:2
EOF2
flows br0 <<EOF2
priority=0,actions=NORMAL
EOF2
flows br1 <<EOF2
priority=100,in_port=1,actions=group:1
priority=100,in_port=4,actions=mod_dl_src:00:00:00:00:04:04,output:3
table=5,priority=10,ip,nw_dst=10.1.1.1,actions=output:3
table=5,priority=1,actions=output:2
EOF2
capture
t br0 "in_port=5,$TCP"
t br0 "in_port=5,dl_src=$M1,dl_dst=$M2,udp,nw_src=10.0.0.1,nw_dst=10.0.0.2,nw_ttl=64,udp_src=5353,udp_dst=53"
ovs-vsctl del-port br0 patch2 -- del-port br1 patch3
fi

# A NORMAL flood reaching three patch ports whose peer runs ct(table=5): each peer forks a
# recirculation, so the recirc ids (and the order of the resumed passes) follow the flood order,
# OVS's hash order against ovnsim's port order (live-router seed 1888926483: br-provider's flood
# into two localnet patch ports). Patch pairs br0 patch2/patch4 <-> br1 patch3/patch5 exist for
# this scenario only.
if scenario stated-flood-recirc; then
ovs-vsctl add-port br0 patch2 -- set interface patch2 type=patch options:peer=patch3 ofport_request=8 \
  -- add-port br1 patch3 -- set interface patch3 type=patch options:peer=patch2 ofport_request=4 \
  -- add-port br0 patch4 -- set interface patch4 type=patch options:peer=patch5 ofport_request=7 \
  -- add-port br1 patch5 -- set interface patch5 type=patch options:peer=patch4 ofport_request=5
flows br0 <<EOF2
priority=0,actions=NORMAL
EOF2
flows br1 <<EOF2
priority=100,ip,in_port=1,actions=set_field:0x1->reg0,ct(table=5,zone=1,nat)
priority=100,ip,in_port=4,actions=set_field:0x2->reg0,ct(table=5,zone=2,nat)
priority=100,ip,in_port=5,actions=set_field:0x3->reg0,ct(table=5,zone=3,nat)
table=5,priority=10,ip,reg0=0x1,actions=ct(commit,zone=1,nat(src)),output:2
table=5,priority=10,ip,reg0=0x2,actions=mod_dl_src:00:00:00:00:04:04,output:3
table=5,priority=10,ip,reg0=0x3,actions=ct(commit,zone=3,exec(set_field:0x1/0x1->ct_label)),output:2,output:3
EOF2
capture
t br0 "in_port=5,$TCP"
t br0 "in_port=1,$UDP"
t br0 "in_port=5,$ARP"
ovs-vsctl del-port br0 patch2 -- del-port br1 patch3 -- del-port br0 patch4 -- del-port br1 patch5
fi

# OpenFlow 1.0 set_tunnel: ofproto/trace keeps the OF1.0 name; the OF1.5 dump prints
# set_field:0x5->tun_id as for a load, so a capture cannot tell them apart.
if scenario stated-set-tunnel; then
flows10 br0 <<EOF2
priority=100,ip,nw_dst=10.0.0.2,actions=set_tunnel:5,output:5
priority=100,ip,nw_dst=10.0.0.3,actions=set_tunnel64:0x1234567890,output:5
priority=100,ip,nw_dst=10.0.0.4,actions=load:0x5->NXM_NX_TUN_ID[],output:5
EOF2
capture
for d in 2 3 4; do t br0 "in_port=1,dl_src=$M1,dl_dst=$M2,ip,nw_src=10.0.0.1,nw_dst=10.0.0.$d,nw_ttl=64"; done
fi
