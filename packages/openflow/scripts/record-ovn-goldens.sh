#!/usr/bin/env bash
# record-ovn-goldens.sh [OUTDIR]
# ofproto/trace goldens through the OpenFlow that a real ovn-controller (OVN 23.03) installs:
# ../shared/oracle's ovn-controller scenario (localnet VLAN 341, 3 pods, LB with
# selection_fields), captured as a bundle, then traced. Output: OUTDIR/ovn-controller/
# (bundle/ + cases.txt in the record-goldens.sh format). Default OUTDIR: test/golden.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../../.." && pwd)
SHARED=${OVNSIM_SHARED:-$(cd "$ROOT/../shared" && pwd)}
OUT=${1:-$HERE/../test/golden}
SB=${OVNSIM_OF_SANDBOX:-/tmp/ovnsim-of-ovn-$$}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
"$SHARED/oracle/oracle-up.sh" "$SB" --controller >/dev/null
trap '"$SHARED/oracle/oracle-down.sh" "$SB" --rm >/dev/null 2>&1 || true' EXIT
# shellcheck disable=SC1091
. "$SB/env.sh"
mkdir -p "$SB/out"
"$SHARED/oracle/ovn-controller-scenario.sh" "$SB" "$SB/out" >/dev/null 2>&1
D="$OUT/ovn-controller"
rm -rf "$D"; mkdir -p "$D"; : > "$D/cases.txt"
"$ROOT/scripts/capture-bundle.sh" -o "$D/bundle" br-provider br-int >/dev/null
t() { { echo "### $*"; ovs-appctl ofproto/trace "$@" 2>&1 || true; } >> "$D/cases.txt"; }
F="in_port=1,dl_vlan=341,dl_src=00:00:5e:00:53:01,dl_dst=0a:58:0a:b4:cc:0b,tcp,nw_src=10.180.204.50,nw_dst=10.180.204.252,nw_ttl=64"
for sp in 40000 40001 40002 40003; do
  t br-provider "$F,tp_src=$sp,tp_dst=80" --ct-next trk,new --ct-next trk,new --ct-next trk,new
done
t br-provider "$F,tp_src=40000,tp_dst=80"
t br-provider "$F,tp_src=40000,tp_dst=80" --ct-next trk,est --ct-next trk,est
t br-provider "$F,tp_src=40000,tp_dst=443"
t br-provider "in_port=1,dl_vlan=341,dl_src=00:00:5e:00:53:01,dl_dst=ff:ff:ff:ff:ff:ff,arp,arp_spa=10.180.204.50,arp_tpa=10.180.204.252,arp_op=1"
t br-provider "in_port=1,dl_vlan=341,dl_src=00:00:5e:00:53:01,dl_dst=ff:ff:ff:ff:ff:ff,arp,arp_spa=10.180.204.50,arp_tpa=10.180.204.11,arp_op=1"
t br-int "in_port=11,dl_src=0a:58:0a:b4:cc:0b,dl_dst=0a:58:0a:b4:cc:0c,ip,nw_src=10.180.204.11,nw_dst=10.180.204.12,nw_ttl=64"
t br-int "in_port=11,dl_src=0a:58:0a:b4:cc:0b,dl_dst=0a:58:0a:b4:cc:0c,tcp,nw_src=10.180.204.11,nw_dst=10.180.204.12,nw_ttl=64,tp_src=5555,tp_dst=80" --ct-next trk,new --ct-next trk,new
t br-int "in_port=12,dl_src=0a:58:0a:b4:cc:0c,dl_dst=ff:ff:ff:ff:ff:ff,arp,arp_spa=10.180.204.12,arp_tpa=10.180.204.11,arp_op=1"
echo "recorded $(grep -c '^### ' "$D/cases.txt") cases in $D"

# The same LB with OVN's default selection_method=dp_hash: ofproto/trace stops at the group.
ovn-nbctl clear load_balancer lb-vip selection_fields
ovn-nbctl --timeout=30 --wait=hv sync
D="$OUT/ovn-controller-dphash"
rm -rf "$D"; mkdir -p "$D"; : > "$D/cases.txt"
"$ROOT/scripts/capture-bundle.sh" -o "$D/bundle" br-provider br-int >/dev/null
t br-provider "$F,tp_src=40000,tp_dst=80" --ct-next trk,new
t br-provider "$F,tp_src=40000,tp_dst=80" --ct-next trk,est
echo "recorded $(grep -c '^### ' "$D/cases.txt") cases in $D"
