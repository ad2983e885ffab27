#!/usr/bin/env bash
# capture-sb.sh OUTDIR [ovn-sbctl options…]
# Captures the OVN southbound bundle that `ovnsim ovn-trace --sb OUTDIR` reads, with standard
# ovn-sbctl commands only (read-only). Run it where ovn-sbctl reaches the SB DB, e.g. inside a
# Kube-OVN ovn-central pod:  kubectl -n kube-system exec deploy/ovn-central -- bash -s < capture-sb.sh
# or pass --db=tcp:IP:6642 after OUTDIR.
#   lflow-list.txt        ovn-sbctl --uuid lflow-list            (required)
#   port-binding.txt      ovn-sbctl list Port_Binding            (required)
#   datapath-binding.txt  ovn-sbctl list Datapath_Binding        (required with >1 datapath)
#   multicast-group.txt   ovn-sbctl list Multicast_Group         (optional: derived when missing)
#   chassis.txt           ovn-sbctl list Chassis                 (optional: names for --chassis)
#   address-set.txt, port-group.txt, load-balancer.txt           (optional)
#   logical-flow.txt      ovn-sbctl --columns=_uuid,external_ids,tags list Logical_Flow
#                         (optional: the northd.c:NNNN source hints ovn-trace prints, and the
#                         order ovn-trace breaks priority ties in)
#   mac-binding.txt, fdb.txt  ovn-sbctl list MAC_Binding / FDB (optional: learned neighbours/MACs)
#   static-mac-binding.txt  ovn-sbctl list Static_MAC_Binding (optional: configured neighbours,
#                         tables 66 / 67 of `ovnsim ovn-controller`)
#   encap.txt             ovn-sbctl list Encap                   (optional: tunnel endpoints, for
#                         `ovnsim ovn-controller`)
#   meter.txt             ovn-sbctl list Meter                   (optional: ovn-controller meters)
#   meter-band.txt        ovn-sbctl list Meter_Band              (optional: their bands)
#   controller-meter.txt  ovn-sbctl --columns=_uuid,controller_meter list Logical_Flow
#                         (optional: CoPP meters on controller actions)
#   ha-chassis-group.txt, ha-chassis.txt  ovn-sbctl list HA_Chassis_Group / HA_Chassis
#                         (optional: gateway ports with several chassis)
#   sb-global.txt         ovn-sbctl list SB_Global               (optional: options northd passes
#                         to ovn-controller, e.g. lb_hairpin_use_ct_mark)
set -euo pipefail
OUT=${1:?usage: capture-sb.sh OUTDIR [ovn-sbctl options]}
shift || true
mkdir -p "$OUT"
sb() { ovn-sbctl "$@"; }
sb "$@" --uuid lflow-list > "$OUT/lflow-list.txt"
sb "$@" list Port_Binding > "$OUT/port-binding.txt"
sb "$@" list Datapath_Binding > "$OUT/datapath-binding.txt"
sb "$@" list Multicast_Group > "$OUT/multicast-group.txt"
sb "$@" list Chassis > "$OUT/chassis.txt"
sb "$@" list Address_Set > "$OUT/address-set.txt"
sb "$@" list Port_Group > "$OUT/port-group.txt"
sb "$@" list Load_Balancer > "$OUT/load-balancer.txt"
sb "$@" --columns=_uuid,external_ids,tags list Logical_Flow > "$OUT/logical-flow.txt"
sb "$@" list MAC_Binding > "$OUT/mac-binding.txt"
sb "$@" list FDB > "$OUT/fdb.txt"
sb "$@" list Static_MAC_Binding > "$OUT/static-mac-binding.txt"
sb "$@" list Encap > "$OUT/encap.txt"
sb "$@" list Meter > "$OUT/meter.txt"
sb "$@" list Meter_Band > "$OUT/meter-band.txt"
sb "$@" --columns=_uuid,controller_meter find Logical_Flow 'controller_meter!=[]' > "$OUT/controller-meter.txt"
sb "$@" list HA_Chassis_Group > "$OUT/ha-chassis-group.txt"
sb "$@" list HA_Chassis > "$OUT/ha-chassis.txt"
sb "$@" list SB_Global > "$OUT/sb-global.txt"
echo "captured SB bundle in $OUT: $(grep -c 'table=' "$OUT/lflow-list.txt") logical flows"
