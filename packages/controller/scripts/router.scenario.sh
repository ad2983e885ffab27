# Router golden: a distributed router lr0 (ls0 with IPv6, ls1, a distributed gateway port on
# the tagged localnet switch ext hosted here, SNAT / dnat_and_snat, static route, an LB), a
# gateway router gr0 bound to hv1 with SNAT behind the join switch, a VIF on hv2 (Geneve),
# a learned (MAC_Binding) and a static MAC binding. hv2 is registered first so that northd's
# chassis-feature view (ct_lb vs ct_lb_mark) is stable once flows exist.
ovn-sbctl chassis-add hv2 geneve 192.168.0.2
ovn-nbctl ls-add ls0 -- ls-add ls1 -- ls-add ext -- ls-add join
ovn-nbctl lsp-add ext ln-ext -- lsp-set-type ln-ext localnet -- lsp-set-addresses ln-ext unknown \
  -- lsp-set-options ln-ext network_name=provider -- set logical_switch_port ln-ext tag=30
ovn-nbctl lsp-add ls0 p1 -- lsp-set-addresses p1 "0a:00:00:00:00:01 10.0.0.1 fd00::1"
ovn-nbctl lsp-add ls0 p2 -- lsp-set-addresses p2 "0a:00:00:00:00:02 10.0.0.2"
ovn-nbctl lsp-set-port-security p2 "0a:00:00:00:00:02 10.0.0.2"
ovn-nbctl lsp-add ls1 p3 -- lsp-set-addresses p3 "0a:00:00:00:00:03 10.0.1.3"
ovn-nbctl lsp-add ls1 p4 -- lsp-set-addresses p4 "0a:00:00:00:00:04 10.0.1.4"
ovn-nbctl lr-add lr0
ovn-nbctl lrp-add lr0 lr0-ls0 0a:00:00:00:ff:00 10.0.0.254/24 fd00::fe/64
ovn-nbctl lrp-add lr0 lr0-ls1 0a:00:00:00:ff:01 10.0.1.254/24
ovn-nbctl lrp-add lr0 lr0-ext 0a:00:00:00:ff:02 172.16.0.1/24
ovn-nbctl lrp-set-gateway-chassis lr0-ext hv1 10
for s in ls0 ls1 ext; do
  ovn-nbctl lsp-add $s $s-lr0 -- lsp-set-type $s-lr0 router -- lsp-set-addresses $s-lr0 router \
    -- lsp-set-options $s-lr0 router-port=lr0-$s
done
ovn-nbctl lr-nat-add lr0 snat 172.16.0.1 10.0.0.0/24
ovn-nbctl lr-nat-add lr0 dnat_and_snat 172.16.0.10 10.0.1.3
ovn-nbctl lr-route-add lr0 0.0.0.0/0 172.16.0.254
ovn-nbctl lb-add rlb 172.16.0.100:80 10.0.0.1:8080,10.0.0.2:8080 tcp
ovn-nbctl lr-lb-add lr0 rlb
ovn-nbctl lr-add gr0 -- set logical_router gr0 options:chassis=hv1
ovn-nbctl lrp-add gr0 gr0-join 0a:00:00:00:fe:00 100.64.0.1/16
ovn-nbctl lsp-add join join-gr0 -- lsp-set-type join-gr0 router -- lsp-set-addresses join-gr0 router \
  -- lsp-set-options join-gr0 router-port=gr0-join
ovn-nbctl lr-nat-add gr0 snat 100.64.0.1 10.0.0.0/8
ovn-nbctl --wait=sb sync
ovn-nbctl static-mac-binding-add lr0-ls0 10.0.0.77 0a:00:00:00:77:77
ovn-nbctl --wait=sb sync
dp=$(ovn-sbctl --bare --columns=_uuid find Datapath_Binding external_ids:name=lr0)
ovn-sbctl create MAC_Binding logical_port=lr0-ls0 ip=10.0.0.55 mac='"0a:00:00:00:55:55"' datapath=$dp
ovn-sbctl create MAC_Binding logical_port=lr0-ls0 ip='"fd00::55"' mac='"0a:00:00:00:55:56"' datapath=$dp
ovn-sbctl lsp-bind p4 hv2
for i in 1 2 3; do
  ovs-vsctl --may-exist add-port br-int p$i -- set interface p$i type=dummy \
    external_ids:iface-id=p$i ofport_request=2$i
done
