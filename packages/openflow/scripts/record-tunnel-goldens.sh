#!/usr/bin/env bash
# record-tunnel-goldens.sh [OUTDIR]
# Records the `tunnels` golden scenario from real OVS 3.1 (issue 11): Geneve, VXLAN and GRE
# ports (remote_ip/local_ip/key as numbers or `flow`, csum, tos/ttl inherit, IPv6), a Geneve
# TLV map, set_field/load/move on tun_* fields, output to tunnels and input from them.
#
# The shared oracle starts ovs-vswitchd with --enable-dummy=override, which turns tunnel ports
# into plain dummy ports; this script starts its own ovsdb-server + ovs-vswitchd with
# --enable-dummy (real tunnel vports on the dummy datapath) and switches the datapath to
# kernel-style tunnelling (`dpif/set-dp-features BR tnl_push_pop false`), which prints
# `set(tunnel(...)),<vport>` as Linux nodes with the kernel datapath do.
# Output: OUTDIR/tunnels/{bundle/*,cases.txt}; default OUTDIR packages/openflow/test/golden.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../../.." && pwd)
OUT=${1:-$HERE/../test/golden}
D=${OVNSIM_OF_SANDBOX:-/tmp/ovnsim-tn-$$}
mkdir -p "$OUT" "$D"
OUT=$(cd "$OUT" && pwd)
D=$(cd "$D" && pwd)
export OVS_RUNDIR=$D OVS_LOGDIR=$D OVS_DBDIR=$D OVS_SYSCONFDIR=$D
stop() {
  for p in ovs-vswitchd ovsdb-server; do
    [ -f "$D/$p.pid" ] || continue
    pid=$(cat "$D/$p.pid")
    if grep -q "$D" "/proc/$pid/cmdline" 2>/dev/null; then kill "$pid" 2>/dev/null || true; fi
  done
  sleep 0.2
  rm -rf "$D"
}
trap stop EXIT
ovsdb-tool create "$D/conf.db" /usr/share/openvswitch/vswitch.ovsschema
ovsdb-server --detach --no-chdir --pidfile="$D/ovsdb-server.pid" --log-file="$D/ovsdb-server.log" \
  -vconsole:off -vsyslog:off --remote=punix:"$D/db.sock" "$D/conf.db" 2>/dev/null
ovs-vsctl --db=unix:"$D/db.sock" --no-wait -- init
ovs-vswitchd unix:"$D/db.sock" --detach --no-chdir --pidfile="$D/ovs-vswitchd.pid" \
  --log-file="$D/ovs-vswitchd.log" -vconsole:off -vsyslog:off \
  --enable-dummy --disable-system --disable-system-route 2>/dev/null

SCEN=tunnels
rm -rf "${OUT:?}/$SCEN"; mkdir -p "$OUT/$SCEN"
ovs-vsctl add-br br-int -- set bridge br-int datapath_type=dummy protocols=OpenFlow10,OpenFlow13,OpenFlow15 \
  -- add-port br-int p1 -- set interface p1 type=dummy ofport_request=1 \
  -- add-port br-int p2 -- set interface p2 type=dummy ofport_request=2 \
  -- add-port br-int p3 -- set interface p3 type=dummy ofport_request=3 \
  -- add-port br-int p4 -- set interface p4 type=dummy ofport_request=4 \
  -- add-port br-int p5 -- set interface p5 type=dummy ofport_request=5 \
  -- add-port br-int p6 -- set interface p6 type=dummy ofport_request=6 \
  -- add-port br-int p7 -- set interface p7 type=dummy ofport_request=7 \
  -- add-port br-int p8 -- set interface p8 type=dummy ofport_request=8 \
  -- add-port br-int ovn-hv2-0 -- set interface ovn-hv2-0 type=geneve ofport_request=10 \
       options:remote_ip=192.168.1.2 options:key=flow options:csum=true \
  -- add-port br-int gnvflow -- set interface gnvflow type=geneve ofport_request=11 \
       options:remote_ip=flow options:local_ip=192.168.1.1 options:key=flow \
  -- add-port br-int ovn-hv3-0 -- set interface ovn-hv3-0 type=geneve ofport_request=12 \
       options:remote_ip=192.168.1.3 options:key=flow \
  -- add-port br-int vx0 -- set interface vx0 type=vxlan ofport_request=13 \
       options:remote_ip=flow options:key=5 \
  -- add-port br-int vx1 -- set interface vx1 type=vxlan ofport_request=14 \
       options:remote_ip=192.168.1.4 options:key=flow options:tos=inherit options:ttl=inherit \
  -- add-port br-int gre0 -- set interface gre0 type=gre ofport_request=15 \
       options:remote_ip=192.168.1.5 options:local_ip=192.168.1.1 \
  -- add-port br-int gnv6 -- set interface gnv6 type=geneve ofport_request=16 \
       options:remote_ip=fd00::2 options:key=flow \
  -- add-port br-int gnvnokey -- set interface gnvnokey type=geneve ofport_request=17 \
       options:remote_ip=192.168.1.6 options:df_default=false
ovs-appctl dpif/set-dp-features br-int tnl_push_pop false >/dev/null
OF="ovs-ofctl -O OpenFlow15"
$OF add-tlv-map br-int "{class=0x102,type=0x80,len=4}->tun_metadata0,{class=0x102,type=0x81,len=4}->tun_metadata5"
$OF del-flows br-int
$OF add-flows br-int - <<'EOF2'
priority=100,in_port=1,actions=set_field:0x5->tun_id,set_field:0x10002->tun_metadata0,output:10
priority=100,in_port=2,ip,actions=load:0x7->NXM_NX_TUN_ID[0..23],move:NXM_OF_IP_DST[]->NXM_NX_TUN_METADATA5[0..31],set_field:0x3->tun_metadata0,output:12
priority=100,in_port=3,actions=set_field:192.168.7.7->tun_dst,set_field:0x9->tun_id,output:11
priority=100,in_port=4,actions=output:14
priority=100,in_port=5,actions=output:15,output:16,output:17
priority=100,in_port=6,actions=output:13
priority=100,in_port=7,actions=set_field:0x99->tun_gbp_id,set_field:192.168.8.8->tun_dst,output:13
priority=100,in_port=8,actions=set_field:0x5->tun_id,output:10,output:12,set_field:0x6->tun_id,output:12,output:1
priority=100,in_port=10,tun_id=0x5,tun_metadata0=0x10002,actions=output:1
priority=90,in_port=10,tun_id=0x5,actions=output:12
priority=80,in_port=10,actions=move:NXM_NX_TUN_ID[0..15]->NXM_NX_REG1[0..15],resubmit(,1)
priority=100,in_port=12,tun_src=192.168.1.3,actions=output:10
priority=100,in_port=13,tun_src=192.168.9.9,actions=set_field:0x1->tun_gbp_flags,output:2
priority=90,in_port=13,tun_flags=+oam,actions=output:3
priority=100,in_port=16,tun_ipv6_src=fd00::2,actions=output:2
priority=0,actions=drop
table=1,priority=10,reg1=0x2a,actions=output:2
table=1,priority=5,actions=output:3
EOF2
"$ROOT/scripts/capture-bundle.sh" -o "$OUT/$SCEN/bundle" br-int >/dev/null
t() { { echo "### $*"; ovs-appctl ofproto/trace "$@" 2>&1 || true; } >> "$OUT/$SCEN/cases.txt"; }
: > "$OUT/$SCEN/cases.txt"
M="dl_src=00:00:5e:00:53:01,dl_dst=00:00:5e:00:53:02"
IP="$M,ip,nw_src=10.0.0.1,nw_dst=10.0.0.2,nw_ttl=64"
for p in 1 2 3 4 5 6 7 8; do
  t br-int "in_port=$p,$IP"
  t br-int "in_port=$p,$M,arp,arp_spa=10.0.0.1,arp_tpa=10.0.0.2,arp_op=1"
done
t br-int "in_port=4,$M,ip,nw_src=10.0.0.1,nw_dst=10.0.0.2,nw_ttl=17,nw_tos=0x20,nw_ecn=3"
t br-int "in_port=1,$M,ip,nw_src=10.0.0.1,nw_dst=10.0.0.2,nw_tos=0x10,nw_ecn=1"
T="tun_src=192.168.1.2,tun_dst=192.168.1.1"
t br-int "in_port=10,tun_id=0x5,$T,tun_metadata0=0x10002,$IP"
t br-int "in_port=10,tun_id=0x5,$T,$IP"
t br-int "in_port=10,tun_id=0x5,$T,tun_metadata0=0x10003,$IP"
t br-int "in_port=10,tun_id=0x2a,$T,$IP"
t br-int "in_port=10,tun_id=0x12,$T,$IP"
t br-int "in_port=10,tun_id=0x5,$T,tun_metadata0=0x10002,$IP,nw_ecn=3"
t br-int "in_port=12,tun_id=0x7,tun_src=192.168.1.3,tun_dst=192.168.1.1,$IP"
t br-int "in_port=13,tun_id=0x5,tun_src=192.168.9.9,tun_dst=192.168.1.1,$IP"
t br-int "in_port=13,tun_id=0x5,tun_src=192.168.9.8,tun_dst=192.168.1.1,tun_flags=oam,$IP"
t br-int "in_port=16,tun_id=0x5,tun_ipv6_src=fd00::2,tun_ipv6_dst=fd00::1,$IP"
t br-int "in_port=12,tun_id=0x7,tun_src=192.168.1.2,tun_dst=192.168.1.1,$IP"
t --names br-int "in_port=1,$IP"
t --names br-int "in_port=p8,$IP"
echo "recorded $(grep -c '^### ' "$OUT/$SCEN/cases.txt") cases in $OUT/$SCEN"
