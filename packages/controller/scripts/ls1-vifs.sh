# Shared by the single-switch golden scenarios (acl, ipv6, reject), sourced by them inside
# record-golden.sh: ls1 with an untagged localnet port ln1 and VIFs p1–p3 (IPv4 + IPv6), and
# their binding to hv1 as br-int dummy interfaces (ofports 21–23).
ls1_with_vifs() {
  ovn-nbctl ls-add ls1 \
    -- lsp-add ls1 ln1 -- lsp-set-type ln1 localnet -- lsp-set-addresses ln1 unknown \
    -- lsp-set-options ln1 network_name=provider
  for i in 1 2 3; do
    ovn-nbctl lsp-add ls1 p$i -- lsp-set-addresses p$i "0a:00:00:00:00:0$i 10.0.0.$i fd00::$i"
  done
}
bind_vifs() {
  for i in 1 2 3; do
    ovs-vsctl --may-exist add-port br-int p$i -- set interface p$i type=dummy \
      external_ids:iface-id=p$i ofport_request=2$i
  done
}
