#!/usr/bin/env bash
# record-normal.sh DIR [OUT]: records real OVS 3.1 NORMAL decisions (ofproto/trace + learning
# through netdev-dummy/receive + fdb/show) for @ovnsim/l2's golden test.
# Needs a sandbox: /work/shared/oracle/oracle-up.sh DIR --no-ovn
set -euo pipefail
DIR=$(cd "${1:?usage: record-normal.sh DIR [OUT]}" && pwd)
OUT=${2:-$(dirname "$0")/../test/golden/normal-traces.txt}
# shellcheck disable=SC1091
. "$DIR/env.sh"
ovs-vsctl --if-exists del-br br0
ovs-vsctl add-br br0 -- set bridge br0 datapath_type=dummy \
  -- add-port br0 p1 -- set interface p1 type=dummy ofport_request=1 -- set port p1 trunks=341 \
  -- add-port br0 p2 -- set interface p2 type=dummy ofport_request=2 -- set port p2 tag=341 \
  -- add-port br0 p3 -- set interface p3 type=dummy ofport_request=3 -- set port p3 tag=341 \
  -- add-port br0 p4 -- set interface p4 type=dummy ofport_request=4 -- set port p4 tag=342 \
  -- add-port br0 p5 -- set interface p5 type=dummy ofport_request=5 -- set port p5 vlan_mode=native-untagged tag=10 trunks=341 \
  -- add-port br0 p6 -- set interface p6 type=dummy ofport_request=6 \
  -- add-port br0 p7 -- set interface p7 type=dummy ofport_request=7 -- set port p7 vlan_mode=native-tagged tag=341
A=00:00:5e:00:53:01; B=00:00:5e:00:53:02; C=00:00:5e:00:53:03
run() { echo "\$ $*"; "$@" 2>&1; echo; }
tr() { run ovs-appctl ofproto/trace br0 "$1"; }
{
  run ovs-appctl dpif/show
  tr "in_port=2,dl_src=$A,dl_dst=ff:ff:ff:ff:ff:ff"
  tr "in_port=1,dl_vlan=341,dl_src=$A,dl_dst=$B"
  tr "in_port=1,dl_vlan=342,dl_src=$A,dl_dst=$B"
  tr "in_port=1,dl_src=$A,dl_dst=$B"
  tr "in_port=2,dl_vlan=7,dl_src=$A,dl_dst=$B"
  tr "in_port=5,dl_src=$A,dl_dst=$B"
  tr "in_port=5,dl_vlan=10,dl_src=$A,dl_dst=$B"
  tr "in_port=6,dl_src=$A,dl_dst=$B"
  tr "in_port=6,dl_vlan=341,dl_vlan_pcp=3,dl_src=$A,dl_dst=$B"
  tr "in_port=7,dl_src=$A,dl_dst=$B"
  tr "in_port=4,dl_src=$A,dl_dst=01:80:c2:00:00:00"
  # Learning: real packets (ofproto/trace never learns). Time stopped so fdb/show ages are 0.
  ovs-appctl time/stop >/dev/null
  run ovs-appctl netdev-dummy/receive p1 "in_port(1),eth(src=$B,dst=ff:ff:ff:ff:ff:ff),eth_type(0x8100),vlan(vid=341,pcp=0),encap(eth_type(0x0800),ipv4(src=10.0.0.2,dst=10.0.0.255,proto=17,tos=0,ttl=64,frag=no),udp(src=1,dst=2))"
  run ovs-appctl netdev-dummy/receive p3 "in_port(3),eth(src=$C,dst=ff:ff:ff:ff:ff:ff),eth_type(0x0800),ipv4(src=10.0.0.3,dst=10.0.0.255,proto=17,tos=0,ttl=64,frag=no),udp(src=1,dst=2)"
  run ovs-appctl fdb/show br0
  tr "in_port=2,dl_src=$A,dl_dst=$B"
  tr "in_port=1,dl_vlan=341,dl_src=$A,dl_dst=$B"
  tr "in_port=1,dl_vlan=341,dl_src=$A,dl_dst=$C"
  tr "in_port=4,dl_src=$A,dl_dst=$B"
} > "$OUT"
ovs-vsctl del-br br0

# MAC aging in (warped) virtual time: learn A at 0 s and B at 200 s, show at 299 s and 300 s.
AGING=$(dirname "$OUT")/normal-aging.txt
ovs-vsctl add-br br9 -- set bridge br9 datapath_type=dummy \
  -- add-port br9 q1 -- set interface q1 type=dummy ofport_request=1 \
  -- add-port br9 q2 -- set interface q2 type=dummy ofport_request=2
rx() { ovs-appctl netdev-dummy/receive q1 "in_port(1),eth(src=$1,dst=ff:ff:ff:ff:ff:ff),eth_type(0x0800),ipv4(src=10.0.0.2,dst=10.0.0.255,proto=17,tos=0,ttl=64,frag=no),udp(src=1,dst=2)"; }
{
  ovs-appctl time/stop
  echo "t=0 learn 00:00:5e:00:53:0a"; rx 00:00:5e:00:53:0a
  ovs-appctl time/warp 200000 1000 >/dev/null
  echo "t=200 learn 00:00:5e:00:53:0b"; rx 00:00:5e:00:53:0b
  ovs-appctl time/warp 99000 1000 >/dev/null
  echo "t=299 fdb/show"; ovs-appctl fdb/show br9
  ovs-appctl time/warp 1000 1000 >/dev/null
  echo "t=300 fdb/show"; ovs-appctl fdb/show br9
  ovs-appctl time/warp 100000 1000 >/dev/null
  echo "t=400 fdb/show"; ovs-appctl fdb/show br9
  ovs-appctl time/warp 100000 1000 >/dev/null
  echo "t=500 fdb/show"; ovs-appctl fdb/show br9
} > "$AGING"
ovs-vsctl del-br br9
