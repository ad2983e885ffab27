#!/usr/bin/env bash
# record-golden.sh [OUTDIR]: records real OVS 3.1 outputs that the packet package's text forms
# are checked against byte for byte (test/golden.test.ts):
#   trace-*.txt      `ovs-appctl ofproto/trace br0 FLOW` of varied flows (Flow:, Final flow:,
#                    Megaflow: lines; inputs that OVS refuses, with its error)
#   packet-*.txt     the same with a frame built by scripts/frames.mts (flow_extract of our bytes)
#   dump-flows.tsv   `ovs-ofctl add-flow` of varied matches, then dump-flows (match_format)
# Needs the oracle (../../../../shared/oracle); starts and stops its own sandbox. Re-running it
# changes only the flood order of NORMAL in "Datapath actions:" (hash-map order in OVS).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
OUT=${1:-$HERE/../test/golden}
SHARED=${OVNSIM_SHARED:-$(cd "$HERE/../../../.." && pwd)/shared}
SB=/tmp/ovnsim-pkt-rec-$$
mkdir -p "$OUT"
"$SHARED/oracle/oracle-up.sh" "$SB" --no-ovn >/dev/null
trap '"$SHARED/oracle/oracle-down.sh" "$SB" --rm >/dev/null 2>&1 || true' EXIT
# shellcheck disable=SC1091
. "$SB/env.sh"
ovs-vsctl set Open_vSwitch . other_config:vlan-limit=0
ovs-vsctl add-br br0 -- set bridge br0 datapath_type=dummy protocols=OpenFlow10,OpenFlow13,OpenFlow15 \
  -- add-port br0 p1 -- set interface p1 type=dummy ofport_request=1 \
  -- add-port br0 p2 -- set interface p2 type=dummy ofport_request=2 \
  -- add-port br0 p3 -- set interface p3 type=dummy ofport_request=3

ovs-ofctl -O OpenFlow13 add-flows br0 - <<'FLOWS'
table=0,priority=300,ip,nw_frag=later,actions=output:3
table=0,priority=200,ct_state=-trk,tcp,nw_dst=10.0.0.0/8,actions=ct(table=1,zone=7)
table=0,priority=150,arp,arp_op=1,actions=output:2
table=0,priority=140,icmp6,icmp_type=135,actions=output:2
table=0,priority=130,ip,dl_vlan=341,actions=pop_vlan,resubmit(,1)
table=0,priority=0,actions=resubmit(,1)
table=1,priority=100,tcp,tp_dst=0x40/0xffc0,actions=set_field:0x5->reg0,set_field:0x1234->metadata,mod_nw_tos:16,push_vlan:0x8100,set_field:4196->vlan_vid,output:2
table=1,priority=95,ct_state=+trk+est,tcp,actions=ct(commit,zone=7,exec(set_field:0x3->ct_mark)),output:2
table=1,priority=90,udp,nw_src=10.0.0.0/8,actions=dec_ttl,mod_tp_dst:5353,output:3
table=1,priority=80,ipv6,ipv6_dst=fd00::/64,actions=set_field:0xabcde->ipv6_label,output:2
table=1,priority=70,tcp,tcp_flags=+syn-ack,actions=set_field:0x2->reg1,output:2
table=1,priority=60,icmp,icmp_type=8,actions=set_field:10.9.8.7->nw_dst,mod_dl_src:00:00:5e:00:53:aa,output:2
table=1,priority=50,sctp,actions=set_field:7->sctp_dst,output:3
table=1,priority=40,ct_state=+trk+new,ip,actions=ct(commit,zone=7,exec(set_field:0x1->ct_mark)),output:2
table=1,priority=10,actions=NORMAL
FLOWS

n=0
trace() { # trace NAME FLOW [ofproto/trace options...]
  local name=$1 flow=$2
  shift 2
  n=$((n + 1))
  {
    echo "\$ ovs-appctl ofproto/trace br0 $flow${*:+ $*}"
    ovs-appctl ofproto/trace br0 "$flow" "$@" 2>&1 || true
  } >"$OUT/trace-$name.txt"
}
S=00:00:5e:00:53:01
D=00:00:5e:00:53:ff
trace tcp-basic "in_port=1,tcp,dl_src=$S,dl_dst=$D,nw_src=192.0.2.10,nw_dst=192.0.2.20,tp_src=40000,tp_dst=80,nw_ttl=64"
trace tcp-vlan "in_port=1,dl_vlan=341,dl_vlan_pcp=3,tcp,dl_src=$S,dl_dst=$D,nw_src=192.0.2.10,nw_dst=10.180.204.252,tp_src=40000,tp_dst=80,nw_ttl=64,tcp_flags=syn"
trace tcp-ct "in_port=1,tcp,nw_src=192.0.2.10,nw_dst=10.1.2.3,tp_src=1234,tp_dst=22,nw_ttl=64" --ct-next trk,est
trace tcp-ct-new "in_port=1,tcp,nw_src=192.0.2.10,nw_dst=10.1.2.3,tp_src=1234,tp_dst=23,nw_ttl=64,tcp_flags=syn|ack"
trace tcp-flags-syn "in_port=2,tcp,nw_src=192.0.2.10,nw_dst=192.0.2.30,tp_src=1,tp_dst=2,tcp_flags=syn"
trace tcp-flags-hex "in_port=2,tcp,nw_src=192.0.2.10,nw_dst=192.0.2.30,tp_src=1,tp_dst=2,tcp_flags=0x012"
trace udp "in_port=2,udp,nw_src=10.1.2.3,nw_dst=10.9.9.9,udp_src=5000,udp_dst=53,nw_ttl=64,nw_tos=32,nw_ecn=1"
trace udp-tp_src "in_port=2,udp,nw_src=10.1.2.3,tp_src=53"
trace udp-public "in_port=2,udp,nw_src=192.0.2.1,nw_dst=198.51.100.7,udp_src=123,udp_dst=123,nw_ttl=1"
trace icmp "in_port=1,icmp,dl_src=$S,dl_dst=$D,nw_src=192.0.2.10,nw_dst=192.0.2.1,icmp_type=8,icmp_code=0,nw_ttl=64"
trace icmp-unreach "in_port=1,icmp,nw_src=192.0.2.10,nw_dst=192.0.2.1,icmp_type=3,icmp_code=4"
trace icmp6-ns "in_port=1,icmp6,dl_src=$S,dl_dst=33:33:ff:00:00:02,ipv6_src=fe80::1,ipv6_dst=ff02::1:ff00:2,icmpv6_type=135,icmpv6_code=0,nd_target=fe80::2,nd_sll=$S,nw_ttl=255"
trace icmp6-na "in_port=1,icmp6,ipv6_src=fe80::2,ipv6_dst=fe80::1,icmpv6_type=136,icmpv6_code=0,nd_target=fe80::2,nd_tll=00:00:5e:00:53:02,nw_ttl=255"
trace icmp6-echo "in_port=1,icmp6,ipv6_src=2001:db8::1,ipv6_dst=2001:db8:0:1::2,icmpv6_type=128,icmpv6_code=0,nw_ttl=64"
trace icmp6-icmp_type "in_port=1,icmp6,icmp_type=135,icmp_code=0"
trace tcp6 "in_port=1,tcp6,ipv6_src=2001:db8::10,ipv6_dst=fd00::5,ipv6_label=0x12345,tp_src=33333,tp_dst=443,nw_ttl=64,nw_tos=8"
trace udp6 "in_port=3,udp6,ipv6_src=::ffff:192.0.2.1,ipv6_dst=::1,udp_src=1,udp_dst=2"
trace ipv6-plain "in_port=3,ipv6,ipv6_src=2001:db8:0:0:1:0:0:1,ipv6_dst=2001:0:0:1::1,nw_proto=59,nw_ttl=3"
trace sctp "in_port=1,sctp,nw_src=192.0.2.10,nw_dst=192.0.2.11,sctp_src=1000,sctp_dst=2000"
trace sctp6 "in_port=1,sctp6,ipv6_src=2001:db8::1,ipv6_dst=2001:db8::2,sctp_src=1000,sctp_dst=2000"
trace arp-req "in_port=1,arp,dl_src=$S,dl_dst=ff:ff:ff:ff:ff:ff,arp_spa=192.0.2.10,arp_tpa=192.0.2.1,arp_op=1,arp_sha=$S"
trace arp-reply "in_port=2,arp,dl_src=00:00:5e:00:53:02,dl_dst=$S,arp_spa=192.0.2.1,arp_tpa=192.0.2.10,arp_op=2,arp_sha=00:00:5e:00:53:02,arp_tha=$S"
trace rarp "in_port=2,rarp,arp_op=3"
trace frag-first "in_port=1,tcp,nw_src=192.0.2.10,nw_dst=192.0.2.20,nw_frag=first,tp_src=5,tp_dst=6"
trace frag-later "in_port=1,udp,nw_src=192.0.2.10,nw_dst=192.0.2.20,nw_frag=later"
trace frag-yes "in_port=1,udp,nw_frag=yes"
trace ct-fields "in_port=1,recirc_id=0x5,ct_state=est|trk|rpl,ct_zone=7,ct_mark=0x10,ct_label=0x1f,ct_nw_src=10.0.0.1,ct_nw_dst=10.0.0.2,ct_nw_proto=6,ct_tp_src=1000,ct_tp_dst=80,tcp,nw_src=10.0.0.2,nw_dst=10.0.0.1,tp_src=80,tp_dst=1000"
trace ct-inv "in_port=1,ct_state=inv|trk,ct_nw_proto=6,ct_nw_src=10.0.0.1,tcp,nw_src=10.0.0.2"
trace regs "in_port=1,reg0=0x1,reg5=0xdeadbeef,reg15=7,metadata=0xabc,ip,nw_src=192.0.2.10"
trace xregs "in_port=1,xreg3=0x1122334455667788,xxreg0=0x10000000000000000000000000000001,ip"
trace local "in_port=LOCAL,ip,nw_src=192.0.2.10,nw_dst=192.0.2.20"
trace no-in-port "tcp,nw_src=192.0.2.10,tp_dst=80"
trace marks "in_port=1,pkt_mark=0x7,skb_priority=0x3,dp_hash=0x99,ip"
trace lldp "in_port=1,dl_type=0x88cc,dl_dst=01:80:c2:00:00:0e"
trace gre "in_port=1,ip,nw_proto=47,nw_src=192.0.2.10,nw_dst=192.0.2.20"
trace vlan-tci "in_port=1,vlan_tci=0x6155,ip"
trace dl-type-ip "in_port=1,dl_type=0x0800,nw_proto=6,tp_dst=80"
trace igmp "in_port=1,ip,nw_proto=2,nw_src=192.0.2.10,nw_dst=224.0.0.1"
trace err-order "in_port=1,tp_dst=80,tcp"
trace err-dup "in_port=1,tcp,nw_src=1.2.3.4,nw_src=1.2.3.5"
trace err-mask "in_port=1,tcp,nw_src=10.0.0.0/8"
trace err-value "in_port=1,tcp,tp_dst=8o"
trace err-field "in_port=1,tcp,foo=1"
trace err-proto "in_port=1,tcp,udp"
trace err-ip "in_port=1,ip,nw_src=1.2.3"
trace err-port "in_port=eth9,ip"
# Frames built by this package, traced as packets: OVS's flow_extract() reads our bytes.
FRAMES=$(cd "$HERE/../../.." && pnpm -s exec tsx packages/packet/scripts/frames.mts)
while read -r name hex; do
  n=$((n + 1))
  {
    echo "\$ ovs-appctl ofproto/trace br0 in_port=1 $hex"
    ovs-appctl ofproto/trace br0 in_port=1 "$hex" 2>&1 || true
  } >"$OUT/packet-$name.txt"
done <<<"$FRAMES"
echo "recorded $n traces" >&2

# Matches: add-flow, then dump-flows (default OpenFlow 1.0 + NXM: exact VLAN TCI, every field).
MATCHES=(
  "tcp,tp_dst=80"
  "udp,tp_dst=53"
  "tcp,tp_dst=0x40/0xffc0"
  "ip,nw_src=10.0.0.0/8,nw_dst=192.168.1.0/255.255.255.0"
  "ip,nw_dst=10.1.2.3/255.0.255.0"
  "ipv6,ipv6_src=2001:db8::/32,ipv6_dst=fd00::1"
  "ipv6,ipv6_dst=fd00::/ffff:0:ffff::"
  "dl_src=00:00:5e:00:53:01/ff:ff:ff:00:00:00,dl_dst=01:00:00:00:00:00/01:00:00:00:00:00"
  "ct_state=+trk-new"
  "ct_state=+new-est-rel-rpl-inv+trk,ct_mark=0/0x1,ip"
  "ct_state=new|trk"
  "ct_state=-trk"
  "ct_zone=5,ct_mark=0x2/0x2,ct_label=0x1/0x1,ip"
  "ct_state=+trk+est,ct_nw_proto=6,ct_nw_dst=10.180.204.252,ct_tp_dst=80,ip"
  "tcp,tcp_flags=+syn-ack"
  "tcp,tcp_flags=syn"
  "ip,nw_frag=no"
  "ip,nw_frag=yes"
  "ip,nw_frag=first"
  "ip,nw_frag=later"
  "ip,nw_frag=not_later"
  "reg0=0x1/0xf,reg15=0x1,metadata=0x1"
  "xreg0=0x100000002"
  "xxreg1=0x1/0x1"
  "metadata=0x10/0xf0"
  "in_port=LOCAL"
  "in_port=2,dl_vlan=341"
  "dl_vlan=341,dl_vlan_pcp=5"
  "dl_vlan_pcp=5"
  "vlan_tci=0x1155/0x1fff"
  "vlan_tci=0x0000"
  "vlan_tci=0/0x1000"
  "vlan_tci=0x1000/0x1000"
  "vlan_tci=0x5155/0xf0ff"
  "arp,arp_op=1,arp_spa=192.0.2.0/24,arp_tpa=192.0.2.1,arp_sha=00:00:5e:00:53:01"
  "rarp"
  "icmp,icmp_type=8,icmp_code=0"
  "icmp6,icmp_type=135,nd_target=fe80::1"
  "icmp6,icmp_type=136,icmp_code=0,nd_target=fe80::1,nd_tll=00:00:5e:00:53:01"
  "icmp6,icmpv6_type=135,icmpv6_code=0,nd_sll=00:00:5e:00:53:02"
  "ip,nw_tos=16,nw_ecn=2,nw_ttl=9"
  "ipv6,ipv6_label=0x12345"
  "ipv6,ipv6_label=0x1/0xf"
  "ip,nw_proto=47"
  "ipv6,nw_proto=59"
  "sctp,sctp_src=1"
  "udp6,udp_dst=53"
  "tcp6,tcp_src=0x1000/0xf000"
  "dl_type=0x88cc"
  "pkt_mark=0x1/0x1"
  "recirc_id=0x5"
  "dp_hash=0x1/0xf"
  "ip,reg3=0x4/0x4"
  "ip,reg0=0x4/0x4"
  "tcp,nw_src=192.0.2.10,nw_dst=10.180.204.252,tp_src=40000,tp_dst=80"
  "eth,tcp"
  "ip,nw_dst=0.0.0.0/0"
  "priority=5,ip"
  "priority=32768,ip"
)
{
  i=0
  for m in "${MATCHES[@]}"; do
    i=$((i + 1))
    ovs-ofctl del-flows br0
    if err=$(ovs-ofctl add-flow br0 "table=9,$m,actions=drop" 2>&1); then
      got=$(ovs-ofctl --no-stats dump-flows br0 table=9 | sed -e 's/^ *table=9, *//' -e 's/ *actions=drop$//')
      printf '%s\t%s\n' "$m" "$got"
    else
      printf '%s\tERROR %s\n' "$m" "$(echo "$err" | tr '\n' ' ')"
    fi
  done
} >"$OUT/dump-flows.tsv"
echo "recorded ${#MATCHES[@]} matches" >&2
