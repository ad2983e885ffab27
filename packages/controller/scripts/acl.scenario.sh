# ACL scenario: untagged localnet, 3 local VIFs with IPv4 + IPv6, a port group and address
# sets in ACLs (conjunctive matches), a port range, and an allow-related ACL.
# shellcheck disable=SC1091
. "$HERE/ls1-vifs.sh"
ls1_with_vifs
ovn-nbctl lsp-set-port-security p1 "0a:00:00:00:00:01 10.0.0.1"
ovn-nbctl create Address_Set name=as1 addresses='"10.0.0.1","10.0.0.2","10.0.0.3","192.168.0.0/16"'
ovn-nbctl create Address_Set name=as6 addresses='"fd00::1","fd00::2"'
ovn-nbctl pg-add pg1 p1 p2
ovn-nbctl acl-add pg1 to-lport 1001 'outport == @pg1 && ip4.src == $as1 && tcp.dst == {80, 443}' allow-related
ovn-nbctl acl-add pg1 from-lport 1002 'inport == @pg1 && ip4.dst == {10.0.0.10, 10.0.0.11} && udp.dst == 53' allow
ovn-nbctl acl-add ls1 to-lport 900 'ip4.src == 10.0.0.0/24 && tcp.dst >= 1000 && tcp.dst <= 1005' drop
ovn-nbctl acl-add ls1 to-lport 901 'ip6.src == $as6 && icmp6' allow-related
ovn-nbctl acl-add ls1 from-lport 902 'ip4.src != 10.0.0.3 && udp' drop
ovn-nbctl --wait=sb sync
bind_vifs
