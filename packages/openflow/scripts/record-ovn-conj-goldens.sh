#!/usr/bin/env bash
# record-ovn-conj-goldens.sh [OUTDIR]
# ofproto/trace goldens through the conjunctive flows a real ovn-controller (OVN 23.03) installs
# for ACLs on a port group with an address set and a port set: ../shared/oracle's
# ovn-controller scenario (switch underlay-subnet, pods pod1..3, localnet VLAN 341) plus
#   pg_web = {pod1, pod2}; $as_clients = {10.180.204.50, 10.180.204.13, 10.180.204.60}
#   to-lport 1001 outport == @pg_web && ip4.src == $as_clients && tcp.dst == {80,443,8080} allow-related
#   to-lport 1000 outport == @pg_web && ip4 drop
# Output: OUTDIR/ovn-acl-conj/ (bundle/ + cases.txt, the record-goldens.sh format).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../../.." && pwd)
SHARED=${OVNSIM_SHARED:-$(cd "$ROOT/../shared" && pwd)}
OUT=${1:-$HERE/../test/golden}
SB=${OVNSIM_OF_SANDBOX:-/tmp/ovnsim-of-conj-$$}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
"$SHARED/oracle/oracle-up.sh" "$SB" --controller >/dev/null
trap '"$SHARED/oracle/oracle-down.sh" "$SB" --rm >/dev/null 2>&1 || true' EXIT
# shellcheck disable=SC1091
. "$SB/env.sh"
mkdir -p "$SB/out"
"$SHARED/oracle/ovn-controller-scenario.sh" "$SB" "$SB/out" >/dev/null 2>&1
ovn-nbctl pg-add pg_web pod1 pod2
ovn-nbctl create Address_Set name=as_clients addresses='"10.180.204.50","10.180.204.13","10.180.204.60"' >/dev/null
ovn-nbctl acl-add pg_web to-lport 1001 'outport == @pg_web && ip4.src == $as_clients && tcp.dst == {80, 443, 8080}' allow-related
ovn-nbctl acl-add pg_web to-lport 1000 'outport == @pg_web && ip4' drop
ovn-nbctl --timeout=30 --wait=hv sync
D="$OUT/ovn-acl-conj"
rm -rf "$D"; mkdir -p "$D"; : > "$D/cases.txt"
"$ROOT/scripts/capture-bundle.sh" -o "$D/bundle" br-provider br-int >/dev/null
t() { { echo "### $*"; ovs-appctl ofproto/trace "$@" 2>&1 || true; } >> "$D/cases.txt"; }
for src in 13 12; do
  for dst in 11 12; do
    for p in 80 443 22; do
      t br-int "in_port=1$((src - 10)),dl_src=0a:58:0a:b4:cc:$(printf %02x "$src"),dl_dst=0a:58:0a:b4:cc:$(printf %02x "$dst"),tcp,nw_src=10.180.204.$src,nw_dst=10.180.204.$dst,nw_ttl=64,tp_src=5555,tp_dst=$p" --ct-next trk,new --ct-next trk,new
    done
    t br-int "in_port=1$((src - 10)),dl_src=0a:58:0a:b4:cc:$(printf %02x "$src"),dl_dst=0a:58:0a:b4:cc:$(printf %02x "$dst"),udp,nw_src=10.180.204.$src,nw_dst=10.180.204.$dst,nw_ttl=64,udp_src=5555,udp_dst=53" --ct-next trk,new --ct-next trk,new
  done
done
F="in_port=1,dl_vlan=341,dl_src=00:00:5e:00:53:01,tcp,nw_ttl=64,tp_src=40000"
for dst in 11 12 13; do
  for src in 50 51; do
    t br-provider "$F,dl_dst=0a:58:0a:b4:cc:$(printf %02x "$dst"),nw_src=10.180.204.$src,nw_dst=10.180.204.$dst,tp_dst=443" --ct-next trk,new --ct-next trk,new --ct-next trk,new
  done
done
t br-int "in_port=13,dl_src=0a:58:0a:b4:cc:0d,dl_dst=0a:58:0a:b4:cc:0b,tcp,nw_src=10.180.204.13,nw_dst=10.180.204.11,nw_ttl=64,tp_src=5555,tp_dst=8080" --ct-next trk,est --ct-next trk,est
echo "recorded $(grep -c '^### ' "$D/cases.txt") cases in $D"
