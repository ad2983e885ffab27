# Remote chassis hv2 (Geneve 192.168.0.2): ls1 has a tagged localnet (remote p3 is reached
# through it), ls2 has none (remote p5 is reached through the Geneve tunnel).
ovn-nbctl ls-add ls1 \
  -- lsp-add ls1 ln1 -- lsp-set-type ln1 localnet -- lsp-set-addresses ln1 unknown \
  -- lsp-set-options ln1 network_name=provider -- set logical_switch_port ln1 tag=20
for i in 1 2 3; do
  ovn-nbctl lsp-add ls1 p$i -- lsp-set-addresses p$i "0a:00:00:00:00:0$i 10.0.0.$i"
done
ovn-nbctl ls-add ls2
for i in 4 5; do
  ovn-nbctl lsp-add ls2 p$i -- lsp-set-addresses p$i "0a:00:00:00:00:0$i 10.0.1.$i"
done
ovn-nbctl --wait=sb sync
ovn-sbctl chassis-add hv2 geneve 192.168.0.2
ovn-sbctl lsp-bind p3 hv2
ovn-sbctl lsp-bind p5 hv2
for i in 1 2 4; do
  ovs-vsctl --may-exist add-port br-int p$i -- set interface p$i type=dummy \
    external_ids:iface-id=p$i ofport_request=2$i
done
