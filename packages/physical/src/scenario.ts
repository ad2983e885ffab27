/**
 * The seed scenario's physical side (Kube-OVN doc "Integrating MetalLB with Kube-OVN
 * Underlay", kube-ovn-internals §1.1/§4): an external client on its own network, a gateway
 * router 10.180.204.1 on VLAN 341, a top-of-rack switch, and N nodes whose provider NIC
 * `underlay0.341` (a VLAN sub-interface of `underlay0`) is a port of `br-provider`, whose
 * internal interface holds the node IP with the NIC's MAC (Kube-OVN pins it with
 * other-config:hwaddr and moves the addresses onto the bridge).
 *
 * Two MetalLB profiles, because the doc and the code disagree on the answering interface:
 * - `doc`: MetalLB answers on `underlay0.341` (the doc: "MetalLB must use the same network
 *   interface as the Kube-OVN Underlay subnet (e.g., underlay0.341)"): `respectMaster: false`
 *   and an L2Advertisement restricted to `underlay0.341`.
 * - `code`: MetalLB as written (an enslaved interface gets no responder) with the advertisement
 *   of Kube-OVN's e2e test (no interfaces): `br-provider` answers (and `underlay0` would, for
 *   untagged frames). The reply MAC is the NIC MAC in both, because br-provider is pinned to it.
 */
import type { LBService, MetalLBSpec } from "./metallb.js";
import type { HostSpec, TopologySpec } from "./topology.js";

export type MetalLBProfile = "doc" | "code";

export interface SeedOptions {
  readonly nodes?: number;
  readonly vlan?: number;
  readonly profile?: MetalLBProfile;
  /** Add IPv6 (fd00:10:180:204::/64 underlay, 2001:db8:1::/64 client side). */
  readonly ipv6?: boolean;
  /**
   * How the node meets VLAN 341. `subif` (default): the OVS port is the kernel VLAN
   * sub-interface `underlay0.341` (the reading under which the doc's advice works). `trunk`:
   * the OVS port is `underlay0` itself with `trunks=[341]` (a Kube-OVN Vlan CR with id 341) and
   * `underlay0.341` does not exist; the node IP stays untagged on br-provider.
   */
  readonly attachment?: "subif" | "trunk";
}

export interface SeedScenario {
  readonly topology: TopologySpec;
  readonly metallb: MetalLBSpec;
  readonly service: LBService;
  readonly service6?: LBService;
  readonly nodeNames: readonly string[];
}

const hex = (n: number) => n.toString(16).padStart(2, "0");

export function seedScenario(opts: SeedOptions = {}): SeedScenario {
  const n = opts.nodes ?? 3;
  const vlan = opts.vlan ?? 341;
  const profile = opts.profile ?? "code";
  const v6 = opts.ipv6 ?? false;
  const trunk = opts.attachment === "trunk";
  const nodeNames = Array.from({ length: n }, (_, i) => `node${i + 1}`);
  const nodes: HostSpec[] = nodeNames.map((name, i) => ({
    name,
    role: "node",
    nics: [
      { name: "underlay0", mac: `00:00:5e:00:54:${hex(i + 1)}`, linkLocal6: false },
      ...(trunk ? [] : [{ name: `underlay0.${vlan}`, parent: "underlay0", vid: vlan, linkLocal6: v6 }]),
      {
        name: "br-provider",
        macFrom: "underlay0",
        addresses: [
          `10.180.204.${11 + i}/24`,
          ...(v6 ? [`fd00:10:180:204::${(0x11 + i).toString(16)}/64`] : []),
        ],
        linkLocal6: v6,
      },
    ],
    routes: [
      { dst: "default", via: "10.180.204.1" },
      ...(v6 ? [{ dst: "default", via: "fd00:10:180:204::1" }] : []),
    ],
    bridges: [
      {
        name: "br-provider",
        ports: trunk ? [{ name: "underlay0", trunks: [vlan] }] : [{ name: `underlay0.${vlan}` }],
        ovsPorts: ["patch-localnet.underlay-subnet-to-br-int"],
      },
    ],
  }));
  const topology: TopologySpec = {
    hosts: [
      {
        name: "client",
        nics: [
          {
            name: "eth0",
            mac: "00:00:5e:00:53:01",
            addresses: ["192.0.2.10/24", ...(v6 ? ["2001:db8:1::10/64"] : [])],
          },
        ],
        routes: [
          { dst: "default", via: "192.0.2.1" },
          ...(v6 ? [{ dst: "default", via: "2001:db8:1::1" }] : []),
        ],
      },
      {
        name: "gw",
        role: "router",
        nics: [
          {
            name: "eth0",
            mac: "00:00:5e:00:53:fe",
            addresses: ["192.0.2.1/24", ...(v6 ? ["2001:db8:1::1/64"] : [])],
          },
          { name: "eth1", mac: "00:00:5e:00:53:fd", linkLocal6: false },
          {
            name: `eth1.${vlan}`,
            parent: "eth1",
            vid: vlan,
            addresses: ["10.180.204.1/24", ...(v6 ? ["fd00:10:180:204::1/64"] : [])],
          },
        ],
      },
      ...nodes,
    ],
    switches: [
      {
        name: "tor",
        ports: [
          { name: "client", tag: 100 },
          { name: "gw-client", tag: 100 },
          { name: "gw-underlay", trunks: [vlan] },
          ...nodeNames.map((nn) => ({ name: nn, trunks: [vlan] })),
        ],
      },
    ],
    links: [
      { a: "client:eth0", b: "tor:client" },
      { a: "gw:eth0", b: "tor:gw-client" },
      { a: "gw:eth1", b: "tor:gw-underlay" },
      ...nodeNames.map((nn) => ({ a: `${nn}:underlay0`, b: `tor:${nn}` })),
    ],
  };
  const metallb: MetalLBSpec = {
    pools: [
      {
        name: "underlay-pool",
        addresses: [
          "10.180.204.250-10.180.204.254",
          ...(v6 ? ["fd00:10:180:204::fa-fd00:10:180:204::fe"] : []),
        ],
      },
    ],
    advertisements: [
      profile === "doc"
        ? { name: "l2-advert", ipAddressPools: ["underlay-pool"], interfaces: [`underlay0.${vlan}`] }
        : { name: "l2-advert", ipAddressPools: ["underlay-pool"] },
    ],
    nodes: nodeNames.map((name) => ({ name, labels: { "kubernetes.io/hostname": name } })),
    respectMaster: profile === "code",
  };
  const endpoints = nodeNames.map((nodeName, i) => ({
    nodeName,
    ready: true,
    address: `10.180.204.${101 + i}`,
  }));
  const ports = [{ port: 80, protocol: "TCP" as const, targetPort: 80 }];
  const service: LBService = {
    namespace: "default",
    name: "nginx-lb",
    externalTrafficPolicy: "Local",
    loadBalancerIPs: ["10.180.204.252"],
    ports,
    endpoints,
  };
  const service6: LBService = {
    namespace: "default",
    name: "nginx-lb6",
    externalTrafficPolicy: "Local",
    loadBalancerIPs: ["fd00:10:180:204::fc"],
    ipFamilies: ["IPv6"],
    ports,
    endpoints,
  };
  return { topology, metallb, service, ...(v6 ? { service6 } : {}), nodeNames };
}
