# Meters and HA golden: ACL logging through meter m1 (a log meter with a burst), CoPP on lr0
# (every router controller action metered by the same m1), an HA chassis group of three on the
# distributed gateway port lr0-ext (hv2 highest, hv1, hv3: no BFD session is up in the sandbox,
# so nobody claims cr-lr0-ext and hv1 reaches it through an active-backup bundle over the tunnels
# to hv2 then hv3), and an ACL on ct_nw_dst, which 23.03 cannot parse (no OpenFlow at all).
# One meter name only, so that the meter id does not depend on the daemon's flow order.
ovn-sbctl chassis-add hv2 geneve 192.168.0.2
ovn-sbctl chassis-add hv3 geneve 192.168.0.3
ovn-nbctl ls-add ls0 -- ls-add ext
ovn-nbctl lsp-add ext ln-ext -- lsp-set-type ln-ext localnet -- lsp-set-addresses ln-ext unknown \
  -- lsp-set-options ln-ext network_name=provider
ovn-nbctl lsp-add ls0 p1 -- lsp-set-addresses p1 "0a:00:00:00:00:01 10.0.0.1 fd00::1"
ovn-nbctl lsp-add ls0 p2 -- lsp-set-addresses p2 "0a:00:00:00:00:02 10.0.0.2"
ovn-nbctl lr-add lr0
ovn-nbctl lrp-add lr0 lr0-ls0 0a:00:00:00:ff:00 10.0.0.254/24 fd00::fe/64
ovn-nbctl lrp-add lr0 lr0-ext 0a:00:00:00:ff:02 172.16.0.1/24
ovn-nbctl lrp-set-gateway-chassis lr0-ext hv2 30 -- lrp-set-gateway-chassis lr0-ext hv1 20 \
  -- lrp-set-gateway-chassis lr0-ext hv3 10
for s in ls0 ext; do
  ovn-nbctl lsp-add $s $s-lr0 -- lsp-set-type $s-lr0 router -- lsp-set-addresses $s-lr0 router \
    -- lsp-set-options $s-lr0 router-port=lr0-$s
done
ovn-nbctl lr-route-add lr0 0.0.0.0/0 172.16.0.254
ovn-nbctl meter-add m1 drop 10 pktps 5
ovn-nbctl --log --meter=m1 --severity=warning --name=ssh acl-add ls0 to-lport 1001 'ip4 && tcp.dst == 22' allow-related
ovn-nbctl --log --meter=m1 acl-add ls0 from-lport 1002 'ip4 && udp.dst == 53' drop
ovn-nbctl acl-add ls0 to-lport 1003 'ip4 && ct_nw_dst == 10.0.9.9' allow-related
ovn-nbctl copp-add copp0 arp m1 -- copp-add copp0 arp-resolve m1 -- copp-add copp0 icmp4-error m1 \
  -- copp-add copp0 icmp6-error m1 -- copp-add copp0 nd-ns m1 -- copp-add copp0 nd-ns-resolve m1
ovn-nbctl lr-copp-add copp0 lr0
ovn-nbctl --wait=sb sync
ovs-vsctl add-port br-int p1 -- set interface p1 type=dummy external_ids:iface-id=p1 ofport_request=10
ovs-vsctl add-port br-int p2 -- set interface p2 type=dummy external_ids:iface-id=p2 ofport_request=11
