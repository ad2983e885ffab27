// Random OVN configurations with logical routers for the live differentials (br-int flows and
// ofproto/trace): switches with local and remote VIFs (IPv4, some dual-stack), localnet ports
// with and without a VLAN tag, a distributed router lr0 (IPv6 on some ports, static routes, a
// distributed gateway port on a localnet switch hosted on hv1 or hv2, SNAT / dnat_and_snat, an
// LB), a gateway router gr0 bound with options:chassis behind a join switch, switch LBs with
// IPv4 and IPv6 VIPs, ACLs on a port group and address sets (IPv4, IPv6, the group's _ip6 set),
// reject ACLs, meters, learned and static MAC bindings. The output is shell lines run in an
// `oracle-up.sh --controller` sandbox (ovn-nbctl / ovn-sbctl / ovs-vsctl).
import { rng } from "@ovnsim/oracle";

export interface RouterScenario {
  /** Shell lines building the configuration and binding the VIFs. */
  readonly script: string;
  /** VIFs bound on hv1 as br-int dummy ports: name, ofport, MAC, IPv4, IPv6 (or ""). */
  readonly vifs: readonly { name: string; ofport: number; mac: string; ip4: string; ip6: string }[];
  /** Addresses packets may be sent to (router ports, VIPs, NAT addresses, other VIFs). */
  readonly targets: readonly { mac: string; ip4: string; ip6: string }[];
}

export function generateRouterScenario(seed: number): RouterScenario {
  const r = rng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const L: string[] = [];
  // hv2 first, so that northd's view of the chassis features (ct_lb vs ct_lb_mark) never
  // changes once flows exist: a change re-creates groups under new ids.
  L.push("ovn-sbctl chassis-add hv2 geneve 192.168.0.2", "ovn-sbctl chassis-add hv3 geneve 192.168.0.3");
  const nSw = 1 + Math.floor(r() * 3);
  const all: { name: string; sw: number; mac: string; ip4: string; ip6: string }[] = [];
  const targets: { mac: string; ip4: string; ip6: string }[] = [];
  const v6 = new Set<number>();
  for (let s = 0; s < nSw; s++) {
    const sw = `sw${s}`;
    L.push(`ovn-nbctl ls-add ${sw}`);
    if (r() < 0.4) {
      L.push(
        `ovn-nbctl lsp-add ${sw} ln${s} -- lsp-set-type ln${s} localnet -- lsp-set-addresses ln${s} unknown -- lsp-set-options ln${s} network_name=provider`,
      );
      if (r() < 0.5) L.push(`ovn-nbctl set logical_switch_port ln${s} tag=${100 + s}`);
    }
    if (r() < 0.5) v6.add(s);
    const nPods = 1 + Math.floor(r() * 3);
    for (let p = 0; p < nPods; p++) {
      const name = `${sw}p${p}`;
      const mac = `0a:00:00:00:0${s}:0${p + 1}`;
      const ip4 = `10.${s}.0.${p + 1}`;
      const ip6 = v6.has(s) && r() < 0.7 ? `fd0${s}::${p + 1}` : "";
      L.push(
        `ovn-nbctl lsp-add ${sw} ${name} -- lsp-set-addresses ${name} "${mac} ${ip4}${ip6 ? ` ${ip6}` : ""}"`,
      );
      if (r() < 0.4 && !ip6) L.push(`ovn-nbctl lsp-set-port-security ${name} "${mac} ${ip4}"`);
      all.push({ name, sw: s, mac, ip4, ip6 });
    }
    if (r() < 0.4) {
      const proto = r() < 0.5 ? "tcp" : "udp";
      L.push(
        `ovn-nbctl lb-add lb${s} 10.${s}.9.9:80 10.${s}.0.1:8080${nPods > 1 ? `,10.${s}.0.2:8080` : ""} ${proto}`,
        `ovn-nbctl ls-lb-add ${sw} lb${s}`,
      );
      // An IPv6 VIP on the same LB when the switch has IPv6 VIFs (northd: ct_lb_mark with
      // [fd0s::…] backends; ovn-controller: IPv6 hairpin flows on xxreg1).
      const b6 = all.filter((v) => v.sw === s && v.ip6 !== "").slice(0, 2);
      const vip6 = b6.length && r() < 0.7 ? `fd0${s}::9:9` : "";
      if (vip6)
        L.push(`ovn-nbctl lb-add lb${s} [${vip6}]:80 ${b6.map((v) => `[${v.ip6}]:8080`).join(",")} ${proto}`);
      targets.push({ mac: "", ip4: `10.${s}.9.9`, ip6: vip6 });
    }
  }
  // Distributed router lr0 on every switch.
  L.push("ovn-nbctl lr-add lr0");
  for (let s = 0; s < nSw; s++) {
    const mac = `0a:00:00:00:ff:0${s}`;
    const ip6 = v6.has(s) ? ` fd0${s}::fe/64` : "";
    L.push(
      `ovn-nbctl lrp-add lr0 lr0-sw${s} ${mac} 10.${s}.0.254/24${ip6}`,
      `ovn-nbctl lsp-add sw${s} sw${s}-lr0 -- lsp-set-type sw${s}-lr0 router -- lsp-set-addresses sw${s}-lr0 router -- lsp-set-options sw${s}-lr0 router-port=lr0-sw${s}`,
    );
    targets.push({ mac, ip4: `10.${s}.0.254`, ip6: v6.has(s) ? `fd0${s}::fe` : "" });
  }
  // A distributed gateway port on a localnet switch "ext".
  if (r() < 0.7) {
    L.push(
      "ovn-nbctl ls-add ext",
      "ovn-nbctl lsp-add ext ln-ext -- lsp-set-type ln-ext localnet -- lsp-set-addresses ln-ext unknown -- lsp-set-options ln-ext network_name=provider",
    );
    if (r() < 0.5) L.push("ovn-nbctl set logical_switch_port ln-ext tag=30");
    L.push(
      "ovn-nbctl lrp-add lr0 lr0-ext 0a:00:00:00:ff:ee 172.16.0.1/24",
      "ovn-nbctl lsp-add ext ext-lr0 -- lsp-set-type ext-lr0 router -- lsp-set-addresses ext-lr0 router -- lsp-set-options ext-lr0 router-port=lr0-ext",
      "ovn-nbctl lr-route-add lr0 0.0.0.0/0 172.16.0.254",
    );
    // One gateway chassis, or an HA chassis group of two or three (priorities drawn; hv2 and
    // hv3 are never alive here, so hv1 never has a BFD session up and never claims the port).
    const gw = r();
    if (gw < 0.5) L.push(`ovn-nbctl lrp-set-gateway-chassis lr0-ext ${r() < 0.7 ? "hv1" : "hv2"} 10`);
    else {
      const members = gw < 0.8 ? ["hv1", "hv2"] : r() < 0.5 ? ["hv1", "hv2", "hv3"] : ["hv2", "hv3"];
      const prios = [10, 20, 30].sort(() => r() - 0.5);
      for (const [i, m] of members.entries())
        L.push(`ovn-nbctl lrp-set-gateway-chassis lr0-ext ${m} ${prios[i]}`);
    }
    targets.push({ mac: "0a:00:00:00:ff:ee", ip4: "172.16.0.1", ip6: "" });
    if (r() < 0.7) L.push("ovn-nbctl lr-nat-add lr0 snat 172.16.0.1 10.0.0.0/8");
    if (r() < 0.6 && all.length) {
      const v = pick(all);
      L.push(`ovn-nbctl lr-nat-add lr0 dnat_and_snat 172.16.0.10 ${v.ip4}`);
      targets.push({ mac: "", ip4: "172.16.0.10", ip6: "" });
    }
    if (r() < 0.5) {
      L.push("ovn-nbctl lb-add rlb 172.16.0.100:80 10.0.0.1:8080 tcp", "ovn-nbctl lr-lb-add lr0 rlb");
      targets.push({ mac: "", ip4: "172.16.0.100", ip6: "" });
    }
  }
  // A gateway router bound to a chassis, behind a join switch that lr0 also reaches.
  if (r() < 0.6) {
    L.push(
      `ovn-nbctl lr-add gr0 -- set logical_router gr0 options:chassis=${r() < 0.7 ? "hv1" : "hv2"}`,
      "ovn-nbctl ls-add join",
      "ovn-nbctl lrp-add gr0 gr0-join 0a:00:00:00:fe:00 100.64.0.1/16",
      "ovn-nbctl lsp-add join join-gr0 -- lsp-set-type join-gr0 router -- lsp-set-addresses join-gr0 router -- lsp-set-options join-gr0 router-port=gr0-join",
      "ovn-nbctl lrp-add lr0 lr0-join 0a:00:00:00:fe:01 100.64.0.2/16",
      "ovn-nbctl lsp-add join join-lr0 -- lsp-set-type join-lr0 router -- lsp-set-addresses join-lr0 router -- lsp-set-options join-lr0 router-port=lr0-join",
      "ovn-nbctl lr-route-add gr0 10.0.0.0/8 100.64.0.2",
    );
    if (r() < 0.6) L.push("ovn-nbctl lr-nat-add gr0 snat 100.64.0.1 10.0.0.0/8");
    if (r() < 0.5) {
      L.push("ovn-nbctl lb-add glb 100.64.9.9:443 10.0.0.1:443 tcp", "ovn-nbctl lr-lb-add gr0 glb");
      targets.push({ mac: "", ip4: "100.64.9.9", ip6: "" });
    }
    targets.push({ mac: "0a:00:00:00:fe:00", ip4: "100.64.0.1", ip6: "" });
  }
  // ACLs on a port group and address sets.
  L.push(`ovn-nbctl create Address_Set name=as1 addresses='"10.0.0.1","10.1.0.2","192.168.0.0/16"'`);
  L.push(
    `ovn-nbctl pg-add pg1 ${all
      .slice(0, 2)
      .map((v) => v.name)
      .join(" ")}`,
  );
  L.push(
    `ovn-nbctl acl-add pg1 to-lport 1001 'outport == @pg1 && ip4.src == $as1 && tcp.dst == ${r() < 0.5 ? "{80, 443}" : "22"}' allow-related`,
  );
  // IPv6 ACLs: an IPv6 address set, and the port group's own _ip6 set (northd syncs pg1_ip6).
  const addr6 = all.filter((v) => v.ip6 !== "").map((v) => v.ip6);
  if (addr6.length && r() < 0.7) {
    L.push(
      `ovn-nbctl create Address_Set name=as6 addresses='${[...addr6.slice(0, 2), "fd09::/64"].map((a) => `"${a}"`).join(",")}'`,
      `ovn-nbctl acl-add pg1 to-lport 1008 'outport == @pg1 && ip6.src == $as6 && tcp.dst == {80, 8080}' allow-related`,
    );
    if (r() < 0.5)
      L.push(
        "ovn-nbctl acl-add pg1 from-lport 1009 'inport == @pg1 && ip6.dst == $pg1_ip6 && udp.dst == 53' allow",
      );
  }
  // reject ACLs (a TCP RST / ICMP unreachable from pinctrl; on a stateful switch after ct_commit).
  if (r() < 0.4) L.push("ovn-nbctl acl-add sw0 to-lport 1010 'ip4 && tcp.dst == 23' reject");
  if (r() < 0.3) L.push("ovn-nbctl acl-add sw0 from-lport 1011 'ip6 && udp.dst == 69' reject");
  if (r() < 0.5) L.push("ovn-nbctl acl-add sw0 from-lport 900 'udp.dst >= 100 && udp.dst <= 200' drop");
  if (r() < 0.5) L.push("ovn-nbctl acl-add pg1 from-lport 1002 'inport == @pg1 && ip6' allow");
  // Meters: ACL logging through a meter (a fair one gives a meter per ACL), CoPP meters on the
  // routers' controller actions, QoS rate limits (set_meter, a meter per logical flow).
  if (r() < 0.6) {
    L.push(
      `ovn-nbctl meter-add m1 drop ${1 + Math.floor(r() * 100)} pktps${r() < 0.5 ? ` ${1 + Math.floor(r() * 20)}` : ""}`,
      `ovn-nbctl meter-add m2 drop ${100 * (1 + Math.floor(r() * 50))} kbps${r() < 0.5 ? " 300" : ""}`,
      `ovn-nbctl --log --meter=m1 --severity=${pick(["alert", "warning", "notice", "info", "debug"])} --name=acl-log acl-add sw0 to-lport 1003 'ip4 && tcp.dst == 22' allow-related`,
    );
    if (r() < 0.5)
      L.push("ovn-nbctl --log --meter=m2 acl-add pg1 from-lport 1004 'inport == @pg1 && udp.dst == 53' drop");
    if (r() < 0.4)
      L.push(
        "ovn-nbctl --fair meter-add mf drop 5 pktps",
        "ovn-nbctl --log --meter=mf --name=f1 acl-add sw0 from-lport 1005 'ip4 && udp.dst == 54' allow",
        "ovn-nbctl --log --meter=mf --name=f2 acl-add sw0 from-lport 1006 'ip4 && udp.dst == 55' allow",
      );
    if (r() < 0.6) {
      const protos = [
        "arp",
        "arp-resolve",
        "icmp4-error",
        "icmp6-error",
        "nd-ns",
        "nd-ns-resolve",
        "event-elb",
      ];
      const chosen = protos.filter(() => r() < 0.5);
      if (chosen.length) {
        L.push(
          `ovn-nbctl ${chosen.map((p) => `copp-add copp0 ${p} ${r() < 0.5 ? "m1" : "m2"}`).join(" -- ")}`,
        );
        L.push("ovn-nbctl lr-copp-add copp0 lr0");
      }
    }
  }
  if (r() < 0.4)
    L.push(
      `ovn-nbctl qos-add sw0 from-lport 100 'ip4 && udp' rate=${1000 * (1 + Math.floor(r() * 9))}${r() < 0.5 ? " burst=100" : ""}`,
    );
  // ct_nw_dst / ct_ip6_dst are no match fields in 23.03: ovn-controller installs nothing for
  // these ACLs' flows (the model skips them with the same parse error).
  if (r() < 0.3) L.push("ovn-nbctl acl-add sw0 to-lport 1007 'ip4 && ct_nw_dst == 10.0.9.9' allow-related");
  // Static MAC bindings.
  if (r() < 0.5) L.push("ovn-nbctl static-mac-binding-add lr0-sw0 10.0.0.77 0a:00:00:00:77:77");
  L.push("ovn-nbctl --wait=sb sync");
  // Learned MAC bindings, as pinctrl would write them.
  if (r() < 0.6) {
    L.push(
      "dp=$(ovn-sbctl --bare --columns=_uuid find Datapath_Binding external_ids:name=lr0)",
      `ovn-sbctl create MAC_Binding logical_port=lr0-sw0 ip=10.0.0.55 mac='"0a:00:00:00:55:55"' datapath=$dp`,
    );
    if (v6.has(0))
      L.push(
        `ovn-sbctl create MAC_Binding logical_port=lr0-sw0 ip='"fd00::55"' mac='"0a:00:00:00:55:56"' datapath=$dp`,
      );
  }
  const remote = all.filter((_, i) => i > 0 && r() < 0.3);
  for (const v of remote) L.push(`ovn-sbctl lsp-bind ${v.name} hv2`);
  let ofport = 10;
  const vifs: RouterScenario["vifs"][number][] = [];
  for (const v of all) {
    if (remote.includes(v)) {
      targets.push({ mac: v.mac, ip4: v.ip4, ip6: v.ip6 });
      continue;
    }
    L.push(
      `ovs-vsctl --may-exist add-port br-int ${v.name} -- set interface ${v.name} type=dummy external_ids:iface-id=${v.name} ofport_request=${ofport}`,
    );
    vifs.push({ name: v.name, ofport, mac: v.mac, ip4: v.ip4, ip6: v.ip6 });
    ofport++;
  }
  L.push("ovn-nbctl --timeout=30 --wait=hv sync");
  return { script: `${L.join("\n")}\n`, vifs, targets: [...targets, ...vifs] };
}
