#!/usr/bin/env bash
# capture-bundle.sh [-o DIR] BRIDGE...
# Captures what `ovnsim ofproto-trace --bundle DIR` reads, with standard OVS commands, on a
# real node or against the ../shared/oracle sandbox (source its env.sh first):
#   ovs-vsctl-show.txt      ovs-vsctl show
#   ovs-vsctl-list-interface.txt
#                           ovs-vsctl --columns=name,ofport,type,options,mac_in_use list Interface
#                           (full port names with their OpenFlow numbers: `ovs-ofctl show`
#                           truncates names to 15 bytes, and long ones collide)
#   ovs-vsctl-list-port.txt ovs-vsctl --columns=name,tag,trunks,vlan_mode list Port
#                           (ovs-vsctl show never prints vlan_mode)
#   <bridge>.ports.txt      ovs-ofctl -O OpenFlow15 show <bridge>
#   <bridge>.flows.txt      ovs-ofctl -O OpenFlow15 dump-flows <bridge>
#   <bridge>.groups.txt     ovs-ofctl -O OpenFlow15 dump-groups <bridge>
#   <bridge>.fdb.txt        ovs-appctl fdb/show <bridge>    (MAC learning table for NORMAL)
#   <bridge>.tlv.txt        ovs-ofctl dump-tlv-map <bridge> (Geneve options as tun_metadata<N>)
#   <bridge>.meters.txt     ovs-ofctl -O OpenFlow15 dump-meters <bridge>
#   dpif-show.txt           ovs-appctl dpif/show            (datapath port numbers)
# With no BRIDGE, every bridge of `ovs-vsctl list-br` is captured.
set -euo pipefail
OUT=bundle
if [ "${1:-}" = "-o" ]; then OUT=${2:?-o needs a directory}; shift 2; fi
mkdir -p "$OUT"
if [ "$#" -eq 0 ]; then
  mapfile -t BRIDGES < <(ovs-vsctl list-br)
else
  BRIDGES=("$@")
fi
ovs-vsctl show > "$OUT/ovs-vsctl-show.txt"
ovs-vsctl --columns=name,ofport,type,options,mac_in_use list Interface > "$OUT/ovs-vsctl-list-interface.txt"
ovs-vsctl --columns=name,tag,trunks,vlan_mode list Port > "$OUT/ovs-vsctl-list-port.txt"
for br in "${BRIDGES[@]}"; do
  ovs-ofctl -O OpenFlow15 show "$br" > "$OUT/$br.ports.txt"
  ovs-ofctl -O OpenFlow15 dump-flows "$br" > "$OUT/$br.flows.txt"
  ovs-ofctl -O OpenFlow15 dump-groups "$br" > "$OUT/$br.groups.txt" 2>/dev/null || rm -f "$OUT/$br.groups.txt"
  ovs-appctl fdb/show "$br" > "$OUT/$br.fdb.txt" 2>/dev/null || rm -f "$OUT/$br.fdb.txt"
  ovs-ofctl dump-tlv-map "$br" > "$OUT/$br.tlv.txt" 2>/dev/null || rm -f "$OUT/$br.tlv.txt"
  ovs-ofctl -O OpenFlow15 dump-meters "$br" > "$OUT/$br.meters.txt" 2>/dev/null || rm -f "$OUT/$br.meters.txt"
done
ovs-appctl dpif/show > "$OUT/dpif-show.txt" 2>/dev/null || rm -f "$OUT/dpif-show.txt"
echo "bundle written to $OUT (bridges: ${BRIDGES[*]})"
