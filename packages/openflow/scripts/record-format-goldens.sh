#!/usr/bin/env bash
# record-format-goldens.sh [OUTDIR]
# Records every dump format users capture, from real OVS 3.1 (the shared oracle sandbox), for
# one set of flows, groups and meters (issue 11): dump-flows in OpenFlow 1.0 to 1.5 with and
# without --no-stats and --names, dump-groups (1.1-1.5, --names), dump-meters (1.3-1.5),
# show (1.0-1.5), dump-tlv-map, ovs-vsctl show (bridges with tunnel, patch, internal,
# VLAN-configured ports and options) and ovs-vsctl list Interface. The test reads each file
# and compares what ovnsim prints back with the real text.
# Output: OUTDIR/formats/*.txt; default OUTDIR packages/openflow/test/fixtures.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../../.." && pwd)
SHARED=${OVNSIM_SHARED:-$(cd "$ROOT/../shared" && pwd)}
OUT=${1:-$HERE/../test/fixtures}
SB=${OVNSIM_OF_SANDBOX:-/tmp/ovnsim-fmt-$$}
mkdir -p "$OUT/formats"
OUT=$(cd "$OUT/formats" && pwd)
"$SHARED/oracle/oracle-up.sh" "$SB" --no-ovn >/dev/null
trap '"$SHARED/oracle/oracle-down.sh" "$SB" --rm >/dev/null 2>&1 || true' EXIT
# shellcheck disable=SC1091
. "$SB/env.sh"
P="datapath_type=dummy protocols=OpenFlow10,OpenFlow11,OpenFlow12,OpenFlow13,OpenFlow14,OpenFlow15"
ovs-vsctl add-br br0 -- set bridge br0 $P \
  -- add-port br0 eth0 trunks=10,20,30 -- set interface eth0 type=dummy ofport_request=1 \
  -- add-port br0 vif-a tag=10 -- set interface vif-a type=dummy ofport_request=2 \
  -- add-port br0 vif-b tag=20 vlan_mode=native-untagged -- set interface vif-b type=dummy ofport_request=3 \
  -- add-port br0 mgmt0 -- set interface mgmt0 type=internal ofport_request=4 \
  -- add-port br0 patch-br0-to-br1 -- set interface patch-br0-to-br1 type=patch options:peer=patch-br1-to-br0 ofport_request=5 \
  -- add-port br0 ovn-hv2-0 -- set interface ovn-hv2-0 type=geneve options:remote_ip=192.168.1.2 options:key=flow options:csum=true ofport_request=6 \
  -- add-port br0 vx0 -- set interface vx0 type=vxlan options:remote_ip=flow options:key=5 options:dst_port=8472 ofport_request=7 \
  -- set bridge br0 external_ids:note=formats
ovs-vsctl add-br br1 -- set bridge br1 $P fail_mode=secure \
  -- add-port br1 patch-br1-to-br0 -- set interface patch-br1-to-br0 type=patch options:peer=patch-br0-to-br1 ofport_request=1 \
  -- add-port br1 "0123456789abcdef_h" -- set interface "0123456789abcdef_h" type=dummy ofport_request=2
OF="ovs-ofctl -O OpenFlow15"
$OF add-tlv-map br0 "{class=0x102,type=0x80,len=4}->tun_metadata0"
$OF add-meter br0 "meter=1,kbps,band=type=drop,rate=1000"
$OF add-meter br0 "meter=2,pktps,burst,stats,bands=type=drop,rate=100,burst_size=10"
$OF add-meter br0 "meter=7,kbps,stats,bands=type=drop,rate=50000"
$OF add-groups br0 - <<'EOF2'
group_id=1,type=all,bucket=output:2,bucket=output:3
group_id=2,type=select,selection_method=hash,fields(ip_src,ip_dst),bucket=bucket_id:0,weight:100,actions=output:2,bucket=bucket_id:1,weight:50,actions=output:3
group_id=3,type=select,selection_method=hash,fields=ip_dst,bucket=output:2,bucket=output:3
group_id=4,type=indirect,bucket=set_field:00:00:00:00:00:09->eth_dst,output:5
group_id=5,type=ff,bucket=watch_port:2,output:2,bucket=watch_port:3,output:3
group_id=6,type=select,bucket=output:2,bucket=output:3
EOF2
$OF del-flows br0
$OF add-flows br0 - <<'EOF2'
priority=0,actions=NORMAL
table=0,priority=100,in_port=1,dl_vlan=10,actions=pop_vlan,goto_table:10
table=0,priority=100,in_port=1,dl_vlan=20,actions=strip_vlan,resubmit(,10)
table=0,priority=90,in_port=2,ip,nw_src=10.0.0.0/24,actions=mod_dl_src:00:00:00:00:00:01,mod_nw_tos:16,output:1
table=0,priority=90,in_port=3,ipv6,ipv6_src=fd00::/64,actions=set_field:fd00::9->ipv6_dst,dec_ttl,output:1
table=0,priority=80,cookie=0x1234,tcp,tp_dst=80,actions=ct(table=20,zone=5,nat)
table=0,priority=80,cookie=0xabcd,udp,udp_dst=53,actions=ct(commit,zone=NXM_NX_REG6[0..15],exec(set_field:0x1->ct_mark)),output:4
table=0,priority=70,arp,arp_op=1,actions=load:0x2->NXM_OF_ARP_OP[],move:NXM_OF_ETH_SRC[]->NXM_OF_ETH_DST[],IN_PORT
table=0,priority=60,in_port=6,tun_id=0x5,tun_metadata0=0x10002,actions=output:2
table=0,priority=60,in_port=7,tun_src=192.168.1.9,actions=set_field:0x1->reg0,resubmit(,30)
table=0,priority=50,ip,nw_dst=10.9.0.1,actions=meter:1,output:6
table=0,priority=50,ip,nw_dst=10.9.0.2,actions=meter:2,group:2
table=0,priority=50,ip,nw_dst=10.9.0.3,actions=set_field:0x7->tun_id,set_field:192.168.4.4->tun_dst,output:7
table=0,priority=40,ct_state=+trk+est-new,ct_mark=0x1/0x1,actions=group:1
table=0,priority=40,ct_state=-trk,ip,actions=ct(table=1)
table=0,priority=30,reg0=0x1/0xf,reg1=0x20,metadata=0x7,actions=set_field:0x8/0xff->metadata,goto_table:40
table=0,priority=20,dl_dst=01:00:00:00:00:00/01:00:00:00:00:00,actions=group:3
table=1,priority=10,ct_state=+new+trk,ip,actions=ct(commit,table=2,nat(src=192.168.0.1-192.168.0.9:1000-2000))
table=2,priority=10,actions=output:mgmt0
table=10,priority=10,actions=push_vlan:0x8100,set_field:4106->vlan_vid,output:5
table=20,priority=10,ct_state=+est+trk,actions=group:4
table=20,priority=5,actions=group:5,group:6
table=30,priority=10,reg0=0x1,actions=output:3,CONTROLLER:128
table=40,priority=10,actions=drop
table=40,priority=20,icmp,icmp_type=8,actions=note:01.02.03,output:2
EOF2
$OF add-flows br1 - <<'EOF2'
priority=10,in_port=1,actions=output:2
priority=10,in_port=2,actions=output:1
EOF2
for br in br0 br1; do
  for v in 10 11 12 13 14 15; do
    ovs-ofctl -O OpenFlow$v dump-flows $br > "$OUT/$br.flows.of$v.txt"
    ovs-ofctl -O OpenFlow$v --no-stats dump-flows $br > "$OUT/$br.flows.of$v.no-stats.txt"
    ovs-ofctl -O OpenFlow$v --names dump-flows $br > "$OUT/$br.flows.of$v.names.txt"
    ovs-ofctl -O OpenFlow$v --names --no-stats dump-flows $br > "$OUT/$br.flows.of$v.names.no-stats.txt"
    ovs-ofctl -O OpenFlow$v show $br > "$OUT/$br.show.of$v.txt"
  done
done
for v in 11 12 13 14 15; do
  ovs-ofctl -O OpenFlow$v dump-groups br0 > "$OUT/br0.groups.of$v.txt"
  ovs-ofctl -O OpenFlow$v --names dump-groups br0 > "$OUT/br0.groups.of$v.names.txt"
  if [ "$v" -ge 13 ]; then ovs-ofctl -O OpenFlow$v dump-meters br0 > "$OUT/br0.meters.of$v.txt"; fi
done
ovs-ofctl dump-tlv-map br0 > "$OUT/br0.tlv.txt"
ovs-vsctl show > "$OUT/ovs-vsctl-show.txt"
ovs-vsctl list Interface > "$OUT/ovs-vsctl-list-interface.txt"
ovs-vsctl --columns=name,ofport,type,options,mac_in_use list Interface > "$OUT/ovs-vsctl-list-interface.columns.txt"
ovs-vsctl list Port > "$OUT/ovs-vsctl-list-port.txt"
ovs-appctl dpif/show > "$OUT/dpif-show.txt"
echo "recorded $(ls "$OUT" | wc -l) files in $OUT"
