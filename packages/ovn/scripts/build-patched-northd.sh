#!/usr/bin/env bash
# build-patched-northd.sh OUTDIR [RELEASE]
# Builds the ovn-northd Kube-OVN ships: OVN at the commit its release branch's
# dist/images/Dockerfile.base names, plus every patch that file applies (release-1.14: OVN
# ef8f5c1ac on branch-24.03). Needs git clones of ovn-org/ovn, openvswitch/ovs and
# kubeovn/kube-ovn (OVN_GIT, OVS_GIT, KUBEOVN_GIT), autoconf/automake/libtool and a C compiler.
# Leaves OUTDIR/ovn-northd and OUTDIR/ovn-{nb,sb}.ovsschema for record-northd.sh.
set -euo pipefail
OUT=${1:?usage: build-patched-northd.sh OUTDIR [release-1.14]}
REL=${2:-release-1.14}
OVN_GIT=${OVN_GIT:?path to an ovn-org/ovn clone}
OVS_GIT=${OVS_GIT:?path to an openvswitch/ovs clone}
KUBEOVN_GIT=${KUBEOVN_GIT:?path to a kubeovn/kube-ovn clone}
mkdir -p "$OUT"; OUT=$(cd "$OUT" && pwd)
SRC="$OUT/src"; rm -rf "$SRC"; mkdir -p "$SRC"
DF=$(git -C "$KUBEOVN_GIT" show "$REL:dist/images/Dockerfile.base")
COMMIT=$(echo "$DF" | sed -n 's/.*git fetch --depth=1 origin \([0-9a-f]\{40\}\).*/\1/p' | head -1)
[ -n "$COMMIT" ] || { echo "no OVN commit in $REL Dockerfile.base" >&2; exit 1; }
git -C "$OVN_GIT" archive "$COMMIT" | tar -x -C "$SRC"
# OVN patches: the `git apply` lines after the ovn checkout.
echo "$DF" | awk '/git init ovn|clone .*ovn.git/{f=1} f && /git apply/{print}' | sed 's/.*\$SRC_DIR\///; s/ .*//' | while read -r p; do
  git -C "$KUBEOVN_GIT" show "$REL:dist/images/patches/$p" > "$OUT/$p"
  (cd "$SRC" && git apply "$OUT/$p")
done
OVS_COMMIT=$(git -C "$OVN_GIT" ls-tree "$COMMIT" ovs | awk '{print $3}')
mkdir -p "$SRC/ovs"; git -C "$OVS_GIT" archive "$OVS_COMMIT" | tar -x -C "$SRC/ovs"
# Only the OVS libraries ovn-northd links (generated headers first: BUILT_SOURCES).
(cd "$SRC/ovs" && ./boot.sh && ./configure --enable-silent-rules \
   && make -j"$(nproc)" $(make -f Makefile -f <(printf 'print-%%:\n\t@echo $(%s)\n' '$*') print-BUILT_SOURCES) \
   && make -j"$(nproc)" lib/libopenvswitch.la lib/libsflow.la ovsdb/libovsdb.la)
(cd "$SRC" && ./boot.sh && ./configure --with-ovs-source="$SRC/ovs" --enable-silent-rules \
   && make -j"$(nproc)" lib/ovn-nb-idl.h lib/ovn-sb-idl.h lib/ovn-ic-nb-idl.h lib/ovn-ic-sb-idl.h \
   && make -j"$(nproc)" northd/ovn-northd)
cp "$SRC/northd/ovn-northd" "$SRC/ovn-nb.ovsschema" "$SRC/ovn-sb.ovsschema" "$OUT/"
echo "built $OUT/ovn-northd ($REL, OVN $COMMIT)"
