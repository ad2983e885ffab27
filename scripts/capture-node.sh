#!/usr/bin/env bash
# capture-node.sh OUTDIR
# Captures one chassis's Open vSwitch configuration, the node half of the input of
# `ovnsim ovn-controller --sb SBDIR --node OUTDIR --chassis NAME`, with read-only ovs-vsctl,
# ovs-ofctl and ovs-appctl commands. Run it on the node (or in its ovs-ovn / kube-ovn-cni pod):
#   kubectl -n kube-system exec ds/ovs-ovn -c openvswitch -- bash -s < capture-node.sh
#   ovs-vsctl-show.txt              ovs-vsctl show
#   interfaces.txt                  ovs-vsctl list Interface (iface-id, ofport, type, options)
#   bridges.txt                     ovs-vsctl list Bridge (br-int external_ids: ovn-controller's
#                                   persisted ct-zone-<port>=N assignments)
#   open-vswitch-external-ids.txt   ovs-vsctl get Open_vSwitch . external_ids
#                                   (system-id, ovn-bridge-mappings, ovn-encap-type/-ip)
#   B.ports.txt                     ovs-ofctl -O OpenFlow15 show B        (every bridge B)
#   B.flows.txt                     ovs-ofctl -O OpenFlow15 --no-stats dump-flows B
#   B.groups.txt                    ovs-ofctl -O OpenFlow15 dump-groups B
#   B.meters.txt                    ovs-ofctl -O OpenFlow15 dump-meters B
#   dpif-show.txt                   ovs-appctl dpif/show
# The model reads the node's configuration only, never br-int's flows: B.flows.txt of br-int is
# what ovnsim's output is compared with.
set -euo pipefail
OUT=${1:?usage: capture-node.sh OUTDIR}
mkdir -p "$OUT"
ovs-vsctl show > "$OUT/ovs-vsctl-show.txt"
ovs-vsctl list Interface > "$OUT/interfaces.txt"
ovs-vsctl list Bridge > "$OUT/bridges.txt"
ovs-vsctl get Open_vSwitch . external_ids > "$OUT/open-vswitch-external-ids.txt"
for b in $(ovs-vsctl list-br); do
  ovs-ofctl -O OpenFlow15 show "$b" > "$OUT/$b.ports.txt"
  ovs-ofctl -O OpenFlow15 --no-stats dump-flows "$b" > "$OUT/$b.flows.txt"
  ovs-ofctl -O OpenFlow15 dump-groups "$b" > "$OUT/$b.groups.txt"
  ovs-ofctl -O OpenFlow15 dump-meters "$b" > "$OUT/$b.meters.txt"
done
ovs-appctl dpif/show > "$OUT/dpif-show.txt"
echo "captured node bundle in $OUT: bridges $(ovs-vsctl list-br | tr '\n' ' ')"
