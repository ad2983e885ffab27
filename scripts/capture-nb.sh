#!/usr/bin/env bash
# capture-nb.sh OUTDIR [ovn-nbctl options…]
# Captures the northbound rows a southbound logical flow's external_ids:stage-hint names, so
# `ovnsim trace --sb SBDIR --nb OUTDIR --node NODEDIR FLOW` can show the NB object behind each
# cookie as ovn-detrace does (read-only ovn-nbctl commands). Run it where ovn-nbctl reaches the
# NB DB, e.g.  kubectl -n kube-system exec deploy/ovn-central -- bash -s < capture-nb.sh
#   acl.txt, logical-switch-port.txt, logical-router-port.txt, load-balancer.txt, nat.txt,
#   logical-router-static-route.txt, logical-router-policy.txt, qos.txt, dhcp-options.txt,
#   forwarding-group.txt          ovn-nbctl list TABLE
set -euo pipefail
OUT=${1:?usage: capture-nb.sh OUTDIR [ovn-nbctl options]}
shift || true
mkdir -p "$OUT"
for t in ACL Logical_Switch_Port Logical_Router_Port Load_Balancer NAT Logical_Router_Static_Route \
  Logical_Router_Policy QoS DHCP_Options Forwarding_Group; do
  f=$(echo "$t" | tr 'A-Z_' 'a-z-')
  ovn-nbctl "$@" list "$t" > "$OUT/$f.txt"
done
echo "captured NB rows in $OUT"
