# IPv6 scenario: dual-stack VIFs on an untagged localnet switch, a switch LB with an IPv4 and an
# IPv6 VIP (LB hairpin tables 68–70 for both families), ACLs on an IPv6 address set and on a
# port group's _ip6 set, and a `reject` ACL (after ct_commit on a stateful switch).
# shellcheck disable=SC1091
. "$HERE/ls1-vifs.sh"
ls1_with_vifs
ovn-nbctl lb-add lb4 10.0.9.9:80 10.0.0.1:8080,10.0.0.2:8080 tcp
ovn-nbctl lb-add lb6 [fd00::9:9]:80 [fd00::1]:8080,[fd00::2]:8080 tcp
ovn-nbctl ls-lb-add ls1 lb4 -- ls-lb-add ls1 lb6
ovn-nbctl create Address_Set name=as6 addresses='"fd00::1","fd00::2","fd01::/64"'
ovn-nbctl pg-add pg1 p1 p2
ovn-nbctl acl-add pg1 to-lport 1001 'outport == @pg1 && ip6.src == $as6 && tcp.dst == {80, 8080}' allow-related
ovn-nbctl acl-add pg1 from-lport 1002 'inport == @pg1 && ip6.dst == $pg1_ip6 && udp.dst == 53' allow
ovn-nbctl acl-add ls1 to-lport 1003 'ip6 && tcp.dst == 22' reject
ovn-nbctl acl-add ls1 from-lport 1004 'ip4 && udp.dst == 69' reject
ovn-nbctl --wait=sb sync
bind_vifs
