# Reject scenario: ACL reject with and without logging (a log meter, an unmetered log) on a
# stateful switch (an allow-related ACL), a reject ACL on a port group, CoPP's reject meter, a
# router port. 23.03 loses the ct(commit) of a reject flow whose log() comes first.
# shellcheck disable=SC1091
. "$HERE/ls1-vifs.sh"
ls1_with_vifs
ovn-nbctl pg-add pg1 p1 p2
ovn-nbctl acl-add pg1 to-lport 1001 'outport == @pg1 && tcp.dst == 80' allow-related
ovn-nbctl meter-add m1 drop 10 pktps
ovn-nbctl --log --meter=m1 --name=rj acl-add ls1 to-lport 1003 'ip4 && tcp.dst == 22' reject
ovn-nbctl --log acl-add pg1 from-lport 1004 'inport == @pg1 && udp.dst == 69' reject
ovn-nbctl acl-add pg1 to-lport 1005 'outport == @pg1 && ip4.src == 10.0.0.3' reject
ovn-nbctl copp-add copp0 reject m1 -- ls-copp-add copp0 ls1
ovn-nbctl lr-add lr0 -- lrp-add lr0 lr0-ls1 0a:00:00:00:ff:01 10.0.0.254/24 fd00::fe/64
ovn-nbctl lsp-add ls1 ls1-lr0 -- lsp-set-type ls1-lr0 router -- lsp-set-addresses ls1-lr0 router -- lsp-set-options ls1-lr0 router-port=lr0-ls1
ovn-nbctl --wait=sb sync
bind_vifs
