/**
 * fast-check arbitraries for property tests against the simulator: scenario variants of the
 * MetalLB-underlay topology (nodes, replicas, traffic policy, Kube-OVN flags, release), flows
 * (plain OVS flow keys for the OpenFlow/OVN layers) and client packets to a VIP.
 */
import { ETH_TYPE, type Flow, IP_PROTO, makeFlow } from "@ovnsim/packet";
import fc from "fast-check";

/** Knobs of a MetalLB-underlay scenario; `scenarioYaml` turns one into manifests. */
export interface TopologyParams {
  readonly nodes: number;
  readonly replicas: number;
  readonly etpLocal: boolean;
  readonly preferLocal: boolean;
  readonly ctSkip: boolean;
  readonly dnatModDlDst: boolean;
  readonly externalLb: boolean;
  readonly release: "v1.14.5" | "v1.15.20";
  readonly vlan: number;
}

export const arbTopology = (): fc.Arbitrary<TopologyParams> =>
  fc.record({
    nodes: fc.integer({ min: 1, max: 4 }),
    replicas: fc.integer({ min: 0, max: 5 }),
    etpLocal: fc.boolean(),
    preferLocal: fc.boolean(),
    ctSkip: fc.boolean(),
    dnatModDlDst: fc.boolean(),
    externalLb: fc.boolean(),
    release: fc.constantFrom("v1.14.5" as const, "v1.15.20" as const),
    vlan: fc.integer({ min: 2, max: 4094 }),
  });

/** The seed topology's manifests for these knobs (VIP 10.180.204.252 from status). */
export function scenarioYaml(p: TopologyParams): string {
  const nodes = Array.from({ length: p.nodes }, (_, i) => `node${i + 1}`);
  return `apiVersion: apps/v1
kind: Deployment
metadata: {name: kube-ovn-controller, namespace: kube-system}
spec:
  template:
    spec:
      hostNetwork: true
      containers:
      - name: kube-ovn-controller
        image: kubeovn/kube-ovn:${p.release}
        args: [--enable-ovn-lb-prefer-local=${p.preferLocal}, --ls-ct-skip-dst-lport-ips=${p.ctSkip}, --ls-dnat-mod-dl-dst=${p.dnatModDlDst}]
---
apiVersion: kubeovn.io/v1
kind: ProviderNetwork
metadata: {name: provider}
spec: {defaultInterface: underlay0}
---
apiVersion: kubeovn.io/v1
kind: Vlan
metadata: {name: vlan${p.vlan}}
spec: {id: ${p.vlan}, provider: provider}
---
apiVersion: kubeovn.io/v1
kind: Subnet
metadata: {name: underlay-subnet}
spec:
  cidrBlock: 10.180.204.0/24
  gateway: 10.180.204.1
  vlan: vlan${p.vlan}
  excludeIps: [10.180.204.250..10.180.204.254]
  enableExternalLBAddress: ${p.externalLb}
---
apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: {name: underlay-pool, namespace: metallb-system}
spec: {addresses: [10.180.204.250-10.180.204.254]}
---
apiVersion: metallb.io/v1beta1
kind: L2Advertisement
metadata: {name: l2-advert, namespace: metallb-system}
spec: {ipAddressPools: [underlay-pool]}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: ${p.replicas}
  template:
    metadata:
      labels: {app: web}
      annotations: {ovn.kubernetes.io/logical_switch: underlay-subnet}
---
apiVersion: v1
kind: Service
metadata: {name: web-lb}
spec:
  type: LoadBalancer
  externalTrafficPolicy: ${p.etpLocal ? "Local" : "Cluster"}
  selector: {app: web}
  ports: [{port: 80, targetPort: 8080, protocol: TCP}]
status:
  loadBalancer:
    ingress: [{ip: 10.180.204.252}]
${nodes.map((n) => `---\napiVersion: v1\nkind: Node\nmetadata: {name: ${n}}\n`).join("")}`;
}

const mac = () =>
  fc.integer({ min: 0, max: 2 ** 48 - 1 }).map((m) => m - (Math.floor(m / 2 ** 40) % 2) * 2 ** 40);
const ip4 = () => fc.integer({ min: 0, max: 0xffffffff });

/** Arbitrary IPv4 TCP/UDP/ICMP or ARP flow keys, optionally VLAN-tagged. */
export const arbFlow = (): fc.Arbitrary<Flow> =>
  fc
    .record({
      dl_src: mac(),
      dl_dst: mac(),
      vid: fc.option(fc.integer({ min: 1, max: 4094 }), { nil: undefined }),
      kind: fc.constantFrom("tcp", "udp", "icmp", "arp"),
      nw_src: ip4(),
      nw_dst: ip4(),
      tp_src: fc.integer({ min: 1, max: 65535 }),
      tp_dst: fc.integer({ min: 1, max: 65535 }),
      ttl: fc.integer({ min: 1, max: 255 }),
    })
    .map((r) =>
      makeFlow({
        dl_src: r.dl_src,
        dl_dst: r.dl_dst,
        vlans: r.vid !== undefined ? [{ tpid: 0x8100, pcp: 0, vid: r.vid }] : [],
        dl_type: r.kind === "arp" ? ETH_TYPE.arp : ETH_TYPE.ip,
        nw_src: r.nw_src >>> 0,
        nw_dst: r.nw_dst >>> 0,
        nw_proto:
          r.kind === "arp"
            ? 1
            : r.kind === "tcp"
              ? IP_PROTO.tcp
              : r.kind === "udp"
                ? IP_PROTO.udp
                : IP_PROTO.icmp,
        nw_ttl: r.kind === "arp" ? 0 : r.ttl,
        tp_src: r.kind === "arp" ? 0 : r.kind === "icmp" ? 8 : r.tp_src,
        tp_dst: r.kind === "arp" || r.kind === "icmp" ? 0 : r.tp_dst,
        tcp_flags: r.kind === "tcp" ? 2 : 0,
      }),
    );

/** A client request to a VIP: source port and protocol, for `trace(sim, packet)`. */
export const arbPacket = (): fc.Arbitrary<{ srcPort: number; proto: "tcp" | "udp" }> =>
  fc.record({
    srcPort: fc.integer({ min: 1024, max: 65535 }),
    proto: fc.constantFrom("tcp" as const, "udp" as const),
  });
