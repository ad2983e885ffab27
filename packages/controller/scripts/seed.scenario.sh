# Seed-like switch: localnet tag 341 on provider:br-provider, 3 VIFs bound here, a TCP LB.
ovn-nbctl ls-add underlay-subnet \
  -- lsp-add underlay-subnet localnet-port \
  -- lsp-set-type localnet-port localnet \
  -- lsp-set-addresses localnet-port unknown \
  -- lsp-set-options localnet-port network_name=provider \
  -- set logical_switch_port localnet-port tag=341
for i in 1 2 3; do
  mac=$(printf '0a:58:0a:b4:cc:%02x' $((10 + i)))
  ovn-nbctl lsp-add underlay-subnet pod$i \
    -- lsp-set-addresses pod$i "$mac 10.180.204.1$i" \
    -- lsp-set-port-security pod$i "$mac 10.180.204.1$i"
done
ovn-nbctl lb-add lb-vip 10.180.204.252:80 10.180.204.11:80,10.180.204.12:80,10.180.204.13:80 tcp
ovn-nbctl ls-lb-add underlay-subnet lb-vip
ovn-nbctl --wait=sb sync
for i in 1 2 3; do
  ovs-vsctl --may-exist add-port br-int pod$i -- set interface pod$i type=dummy \
    external_ids:iface-id=pod$i ofport_request=1$i
done
