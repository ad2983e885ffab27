/**
 * What Kube-OVN and MetalLB derive from the manifests (shared/docs/kube-ovn-internals.md §1, §4):
 * - the OVN northbound state kube-ovn-controller writes, as the `ovn-nbctl` / `ovn-sbctl`
 *   commands that build it (pkg/ovs/ovn-nb-*.go; chassis and bindings are what ovn-controller
 *   would report, written as `ovn-sbctl chassis-add` / `lsp-bind`);
 * - per node, the OVS bridges: br-<provider> with the NIC (trunks), the patch port that
 *   ovn-controller creates only when the node has a port of that switch, and kube-ovn-cni's
 *   cookie-0x1000 VIP flows (pkg/daemon/flow_rules_linux.go) plus OVS's default NORMAL flow;
 *   br-int's localnet entry (VLAN strip) and egress (VLAN push) as ovn-controller's physical.c
 *   programs them, and the pods' veth ports;
 * - MetalLB's announcement: the speaker's leader election (speaker/layer2_controller.go:
 *   sha256(node + "#" + ip.String()), lowest first, ETP=Local → only nodes with a ready
 *   endpoint), delegated to @ovnsim/physical's model of the speaker.
 */
import { inCidr4, isSimError, parseIp4, parseIp6, plenToMask6, SimError } from "@ovnsim/packet";
import {
  goIpString,
  type IpAddr,
  type L2Advertisement,
  type LBService,
  type MetalLBSpec,
  type ParsedPool,
  parseIp,
  electAnnouncer as physicalElect,
} from "@ovnsim/physical";
import type { PodSpec, Scenario, ServiceSpec, SubnetSpec } from "./types.js";

/** Kube-OVN's masquerade MAC for external LB access (pkg/util/const.go). */
export const MASQUERADE_EXTERNAL_LB_ACCESS_MAC = "00:00:00:01:00:01";
export const UNDERLAY_SVC_LOCAL_COOKIE_V4 = 0x1000;
export const UNDERLAY_SVC_LOCAL_COOKIE_V6 = 0x1001;
export const UNDERLAY_SVC_LOCAL_PRIORITY = 10000;
export const CLUSTER_TCP_LB = "cluster-tcp-loadbalancer";
export const CLUSTER_UDP_LB = "cluster-udp-loadbalancer";
export const CLUSTER_SCTP_LB = "cluster-sctp-loadbalancer";
export const LOCAL_EXTERNAL_VIP_PREFIX = "kube-ovn.io/local-external-vip/";
/** Kube-OVN's join switch (node ports `node-<name>` live there). */
export const JOIN_SWITCH = "join";
/** Chassis other_config features a 24.03 ovn-controller sets (all "true"). */
export const CHASSIS_FEATURES = [
  "port-up-notif",
  "ct-no-masked-label",
  "mac-binding-timestamp",
  "ovn-ct-lb-related",
  "fdb-timestamp",
  "ls-dpg-column",
  "ct-commit-nat-v2",
  "ct-commit-to-zone",
  "ct-next-zone",
  "ct-state-save",
] as const;

export const localnetPortName = (subnet: string): string => `localnet.${subnet}`;
export const providerPatchPort = (subnet: string): string => `patch-localnet.${subnet}-to-br-int`;
export const brIntPatchPort = (subnet: string): string => `patch-br-int-to-localnet.${subnet}`;
export const bridgeName = (provider: string): string => `br-${provider}`;
/**
 * The host-side veth of a pod as Kube-OVN names it (`<container id[0:12]>_h`); the container id
 * here is a stable hash of the pod's LSP name (FNV-1a, 48 bits as 12 hex digits).
 */
export function podVethName(pod: PodSpec): string {
  let h1 = 0x811c9dc5;
  let h2 = 0x01000193;
  for (let i = 0; i < pod.lsp.length; i++) {
    h1 = Math.imul(h1 ^ pod.lsp.charCodeAt(i), 0x01000193) >>> 0;
    h2 = Math.imul(h2 ^ pod.lsp.charCodeAt(i), 0x811c9dc5) >>> 0;
  }
  return `${h1.toString(16).padStart(8, "0")}${(h2 & 0xffff).toString(16).padStart(4, "0")}_h`;
}

/** The Vlan id and provider of an underlay subnet, or undefined for an overlay one. */
export function underlayOf(
  s: Scenario,
  subnet: SubnetSpec,
): { vlanId: number; provider: string } | undefined {
  if (subnet.vlan === undefined) return undefined;
  const v = s.vlans.find((x) => x.name === subnet.vlan);
  if (!v) return undefined;
  return { vlanId: v.id, provider: v.provider };
}

/** The subnet whose CIDR holds an IPv4 address (the most specific one). */
export function subnetOfIp(s: Scenario, ip: string): SubnetSpec | undefined {
  let n: number;
  try {
    n = parseIp4(ip);
  } catch {
    return undefined;
  }
  let best: SubnetSpec | undefined;
  for (const x of s.subnets) {
    if (inCidr4(n, { ip: x.network, plen: x.plen }) && (!best || x.plen > best.plen)) best = x;
  }
  return best;
}

/**
 * The subnet holding an address of either family: IPv4 by the subnets' CIDRs, IPv6 by the
 * IPv6 half of a dual-stack subnet's cidrBlock.
 */
export function subnetOfAddr(s: Scenario, ip: string): SubnetSpec | undefined {
  if (!ip.includes(":")) return subnetOfIp(s, ip);
  let v: bigint;
  try {
    v = parseIp6(ip);
  } catch {
    return undefined;
  }
  const c = s.cluster?.subnets.find((x) => {
    if (x.cidr6 === undefined) return false;
    const [a, l] = x.cidr6.split("/");
    const m = plenToMask6(Number(l));
    return (parseIp6(a!) & m) === (v & m);
  });
  return c ? s.subnets.find((x) => x.name === c.name) : undefined;
}

/** A pod's address in a family: its IPv4, or its IPv6 on a dual-stack subnet. */
export function podAddr(s: Scenario, p: PodSpec, v6: boolean): string | undefined {
  return v6 ? s.cluster?.podIp6[p.lsp] : p.ip;
}

/** An LB key for an address and port: "ip:port", or "[ip6]:port". */
export const vipKey = (ip: string, port: number): string =>
  ip.includes(":") ? `[${ip}]:${port}` : `${ip}:${port}`;

/** Kube-OVN's LB for a protocol on the default VPC. */
export const lbNameFor = (proto: string): string =>
  proto === "udp" ? CLUSTER_UDP_LB : proto === "sctp" ? CLUSTER_SCTP_LB : CLUSTER_TCP_LB;

/** Pods that are endpoints of a service, resolved. */
export function endpointsOf(s: Scenario, svc: ServiceSpec): PodSpec[] {
  return svc.endpoints.map((lsp) => s.pods.find((p) => p.lsp === lsp)!).filter(Boolean);
}

// ---------------------------------------------------------------------------------------------
// MetalLB

export interface Announcement {
  readonly service: string;
  readonly vip: string;
  /** The elected node, or undefined ("notOwner" everywhere). */
  readonly node: string | undefined;
  /** Candidates in election order with their hash. */
  readonly candidates: readonly { readonly node: string; readonly hash: string }[];
  readonly reason: string;
}

/**
 * MetalLB L2 leader election for one VIP of a service: the scenario mapped onto
 * `@ovnsim/physical`'s `electAnnouncer` (the one model of the speaker's ShouldAnnounce), so the
 * VIP is hashed as Go's `net.IP.String()` prints it (`FD00::FC` → `fd00::fc`), not as written.
 * Kube's scenario has no readiness: every endpoint Pod counts as ready.
 */
export function electAnnouncer(s: Scenario, svc: ServiceSpec, vip: string): Announcement {
  const key = `${svc.namespace}/${svc.name}`;
  let ip: IpAddr;
  try {
    ip = parseIp(vip, `Service ${key} VIP`);
  } catch (e) {
    throw isSimError(e) ? new SimError(e.code, e.message, svc.source ?? {}) : e;
  }
  const advertisements: L2Advertisement[] = s.l2Advertisements.map((a) => ({
    name: a.name,
    ipAddressPools: a.ipAddressPools,
    nodeSelectors: a.nodeSelectors.map((matchLabels) => ({ matchLabels })),
    interfaces: a.interfaces,
  }));
  // parseMetalLB's pool → advertisements rule; a VIP outside every pool (svc.pool undefined)
  // is selected only by advertisements that name no pool.
  const pool: ParsedPool = {
    name: svc.pool ?? "",
    ranges: [],
    autoAssign: true,
    avoidBuggyIPs: false,
    ads: advertisements.filter(
      (a) =>
        (a.ipAddressPools ?? []).length === 0 ||
        (svc.pool !== undefined && (a.ipAddressPools ?? []).includes(svc.pool)),
    ),
  };
  const spec: MetalLBSpec = {
    pools: [],
    advertisements,
    nodes: s.nodes.map((n) => ({ name: n.name, labels: n.labels })),
    speakers: s.nodes.filter((n) => n.speaker).map((n) => n.name),
  };
  const lbSvc: LBService = {
    namespace: svc.namespace,
    name: svc.name,
    externalTrafficPolicy: svc.externalTrafficPolicy,
    endpoints: endpointsOf(s, svc).map((p) => ({ nodeName: p.node, address: p.ip })),
  };
  const e = physicalElect(spec, lbSvc, ip, pool);
  const n = e.candidates.length;
  const reason =
    e.owner !== undefined
      ? `sha256("${e.owner}#${goIpString(ip)}") sorts first among ${n} candidate(s)`
      : e.reason === "no active endpoints"
        ? "the service has no ready endpoint"
        : e.reason === "no L2Advertisement for the pool"
          ? "no L2Advertisement selects the VIP's pool"
          : svc.externalTrafficPolicy === "Local"
            ? "externalTrafficPolicy: Local and no speaker node has a local endpoint"
            : "no eligible speaker node";
  return { service: key, vip, node: e.owner, candidates: e.candidates, reason };
}

// ---------------------------------------------------------------------------------------------
// OVN northbound

/** Tunnel keys ovn-northd would assign: datapaths in ls-add order, ports in lsp-add order from 1. */
export interface OvnKeys {
  readonly datapath: ReadonlyMap<string, number>;
  readonly port: ReadonlyMap<string, number>;
}

export function ovnKeys(s: Scenario): OvnKeys {
  const datapath = new Map<string, number>();
  const port = new Map<string, number>();
  let dk = 1;
  for (const sub of switchesInUse(s)) {
    datapath.set(sub.name, dk++);
    let pk = 1;
    if (underlayOf(s, sub)) port.set(localnetPortName(sub.name), pk++);
    for (const p of s.pods.filter((x) => x.subnet === sub.name)) port.set(p.lsp, pk++);
  }
  return { datapath, port };
}

function switchesInUse(s: Scenario): SubnetSpec[] {
  return s.subnets.filter((x) => !x.implicit || s.pods.some((p) => p.subnet === x.name));
}

const q = (v: string): string => (/^[A-Za-z0-9_.:/-]+$/.test(v) ? v : `"${v.replace(/(["\\$`])/g, "\\$1")}"`);

/**
 * `ip_port_mappings` entries for prefer-local (getIPPortMappingBackend): every endpoint address
 * of the Service's EndpointSlices, both families, IPv6 keys bracketed, mapped to
 * "<pod lsp>:0.0.0.0" (MasqueradeCheckIP).
 */
export function ipPortMappings(s: Scenario, eps: readonly PodSpec[]): string[] {
  const out: string[] = [];
  for (const p of eps) {
    out.push(`ip_port_mappings:${p.ip}=${q(`${p.lsp}:0.0.0.0`)}`);
    const ip6 = s.cluster?.podIp6[p.lsp];
    if (ip6) out.push(`'ip_port_mappings:"[${ip6}]"="${p.lsp}:0.0.0.0"'`);
  }
  return out;
}

/**
 * Whether the release's `LoadBalancerUpdateIPPortMapping` (pkg/ovs/ovn-nb-load_balancer.go)
 * deletes every ip_port_mappings entry of the load balancer that is not in the mapping it is
 * writing ("deleting outdated entry from ipportmapping"): v1.14.0–v1.14.39 and v1.15.0–v1.15.4.
 * v1.14.40 / v1.15.5 keep entries another VIP still uses (#6830; #5723 fixed the delete path).
 * All Services share cluster-tcp-loadbalancer, so each Service's endpoint update wipes the
 * others' entries (kube-ovn #5680).
 */
export function ipPortMappingsOverwritten(s: Scenario): boolean {
  const m = /^v?(\d+)\.(\d+)\.(\d+)/.exec(s.controller.version ?? "");
  if (!m || Number(m[1]) !== 1) return false;
  const [minor, patch] = [Number(m[2]), Number(m[3])];
  return (minor === 14 && patch < 40) || (minor === 15 && patch < 5);
}

/**
 * The prefer-local Services (LoadBalancer, externalTrafficPolicy Local, with endpoints) in the
 * order Kube-OVN handles them when they are created: manifest order (files as read, then
 * document order), as `kubectl apply -f DIR` creates them.
 */
export function preferLocalServicesInOrder(s: Scenario): ServiceSpec[] {
  const fileIdx = (f: string | undefined) => (f === undefined ? -1 : s.files.indexOf(f));
  return s.services
    .filter(
      (x) =>
        x.type === "LoadBalancer" &&
        x.externalTrafficPolicy === "Local" &&
        x.vips.length > 0 &&
        x.endpoints.length > 0,
    )
    .map((x, i) => ({ x, i }))
    .sort(
      (a, b) =>
        fileIdx(a.x.source?.file) - fileIdx(b.x.source?.file) ||
        (a.x.source?.line ?? 0) - (b.x.source?.line ?? 0) ||
        a.i - b.i,
    )
    .map((e) => e.x);
}

/**
 * Whether `svc`'s ip_port_mappings entries are on the load balancer: always, except on a release
 * that overwrites them, where only the last-handled prefer-local Service's survive.
 */
export function keepsIpPortMappings(s: Scenario, svc: ServiceSpec): boolean {
  if (!ipPortMappingsOverwritten(s)) return true;
  const order = preferLocalServicesInOrder(s);
  return order.length === 0 || order[order.length - 1] === svc;
}

/**
 * The NB (and chassis/binding) state as the commands that build it, one per line. The OVN
 * package's `parseNbctl` reads exactly this.
 */
export function deriveNbctl(s: Scenario): string[] {
  const c = s.controller;
  const out: string[] = [
    "# NB state kube-ovn-controller derives (kube-ovn-internals.md §1.5)",
    `ovn-nbctl set NB_Global . options:ls_ct_skip_dst_lport_ips=${c.lsCtSkipDstLportIps} options:ls_dnat_mod_dl_dst=${c.lsDnatModDlDst}`,
  ];
  for (const sub of switchesInUse(s)) {
    out.push(`ovn-nbctl ls-add ${q(sub.name)}`);
    const u = underlayOf(s, sub);
    if (u) {
      const lp = localnetPortName(sub.name);
      out.push(`ovn-nbctl lsp-add ${q(sub.name)} ${q(lp)}`);
      out.push(`ovn-nbctl lsp-set-type ${q(lp)} localnet`);
      out.push(`ovn-nbctl lsp-set-addresses ${q(lp)} unknown`);
      out.push(`ovn-nbctl lsp-set-options ${q(lp)} network_name=${q(u.provider)}`);
      const tag = u.vlanId >= 1 && u.vlanId <= 4095 ? ` tag=${u.vlanId}` : "";
      // CreateLocalnetLogicalSwitchPort: ipv4_network and, on a dual-stack subnet, ipv6_network.
      const cidr6 = s.cluster?.subnets.find((x) => x.name === sub.name)?.cidr6;
      out.push(
        `ovn-nbctl set Logical_Switch_Port ${q(lp)}${tag} external_ids:ipv4_network=${q(sub.cidr)}${cidr6 ? ` external_ids:ipv6_network=${q(cidr6)}` : ""}`,
      );
    }
    for (const p of s.pods.filter((x) => x.subnet === sub.name)) {
      const ip6 = s.cluster?.podIp6[p.lsp];
      out.push(`ovn-nbctl lsp-add ${q(sub.name)} ${q(p.lsp)}`);
      out.push(`ovn-nbctl lsp-set-addresses ${q(p.lsp)} "${p.mac} ${p.ip}${ip6 ? ` ${ip6}` : ""}"`);
    }
  }
  // Load balancers (default VPC): every LoadBalancer ingress IP with prefer-local (§1.2).
  const lbs = new Map<string, { vips: string[]; maps: string[]; ext: string[] }>();
  const lb = (name: string) => {
    let e = lbs.get(name);
    if (!e) {
      e = { vips: [], maps: [], ext: [] };
      lbs.set(name, e);
    }
    return e;
  };
  for (const svc of s.services) {
    if (!c.enableLb || svc.type !== "LoadBalancer" || !c.enableOvnLbPreferLocal) continue;
    if (s.controller.release === "1.14" && svc.externalTrafficPolicy !== "Local") continue;
    const eps = endpointsOf(s, svc);
    for (const vip of svc.vips) {
      const v6 = vip.includes(":");
      for (const port of svc.ports) {
        // getIPPortMappingBackend: the backends of the VIP's family only.
        const backends = eps
          .map((p) => podAddr(s, p, v6))
          .filter((a): a is string => a !== undefined)
          .map((a) => vipKey(a, port.targetPort))
          .join(",");
        // "for performance reason delete lb with no backends" (endpoint_slice.go): a VIP without
        // a backend of its family (an IPv6 VIP over pods without IPv6) is not on the LB at all.
        if (!backends) continue;
        const e = lb(lbNameFor(port.protocol));
        e.vips.push(`${vipKey(vip, port.port)} ${q(backends)}`);
        if (svc.externalTrafficPolicy === "Local") {
          if (keepsIpPortMappings(s, svc)) e.maps.push(...ipPortMappings(s, eps));
          if (c.vipNodeMarkerSupported && metallbHasL2Status(s)) {
            const ann = electAnnouncer(s, svc, vip);
            if (ann.node)
              e.ext.push(
                `'external_ids:"${LOCAL_EXTERNAL_VIP_PREFIX}${vipKey(vip, port.port)}"=node-${ann.node}'`,
              );
          }
        }
      }
    }
  }
  for (const [name, e] of lbs) {
    const proto = name === CLUSTER_UDP_LB ? "udp" : name === CLUSTER_SCTP_LB ? "sctp" : "tcp";
    // Kube-OVN creates the LB empty (CreateLoadBalancer); lb-add creates it with its first VIP.
    for (const v of e.vips) out.push(`ovn-nbctl lb-add ${name} ${v} ${proto}`);
    out.push(
      `ovn-nbctl set Load_Balancer ${name} external_ids:vendor=kube-ovn options:prefer_local_backend=${c.enableOvnLbPreferLocal}`,
    );
    if (e.maps.length > 0) out.push(`ovn-nbctl set Load_Balancer ${name} ${[...new Set(e.maps)].join(" ")}`);
    if (e.ext.length > 0) out.push(`ovn-nbctl set Load_Balancer ${name} ${e.ext.join(" ")}`);
    for (const sub of switchesInUse(s)) out.push(`ovn-nbctl ls-lb-add ${q(sub.name)} ${name}`);
  }
  // The join switch's node ports (`node-<name>`, each node's ovn0), which the VIP-node marker names.
  if (c.vipNodeMarkerSupported && metallbHasL2Status(s)) {
    out.push(`ovn-nbctl ls-add ${JOIN_SWITCH}`);
    s.nodes.forEach((n, i) => {
      const ip = `100.64.0.${i + 2}`;
      out.push(`ovn-nbctl lsp-add ${JOIN_SWITCH} node-${q(n.name)}`);
      out.push(
        `ovn-nbctl lsp-set-addresses node-${q(n.name)} "00:00:00:40:00:${(i + 2).toString(16).padStart(2, "0")} ${ip}"`,
      );
    });
  }
  out.push("# what each node's ovn-controller reports");
  // A real ovn-controller (24.03+) advertises these features; without them northd falls back to
  // ct_lb / ct_label.blocked (kube-ovn-internals.md §9).
  const features = CHASSIS_FEATURES.map((f) => `other_config:${f}=true`).join(" ");
  for (const n of s.nodes) {
    out.push(`ovn-sbctl chassis-add ${q(n.name)} geneve ${n.internalIp}`);
    out.push(`ovn-sbctl set Chassis ${q(n.name)} ${features}`);
  }
  for (const p of s.pods) out.push(`ovn-sbctl lsp-bind ${q(p.lsp)} ${q(p.node)}`);
  if (c.vipNodeMarkerSupported && metallbHasL2Status(s)) {
    for (const n of s.nodes) out.push(`ovn-sbctl lsp-bind node-${q(n.name)} ${q(n.name)}`);
  }
  return out;
}

/** Whether MetalLB publishes ServiceL2Status (v0.14.4+), which the VIP-node marker needs. */
export function metallbHasL2Status(s: Scenario): boolean {
  const m = /^v?(\d+)\.(\d+)(?:\.(\d+))?/.exec(s.physical.metallbVersion);
  if (!m) return true;
  const [maj, min, pat] = [Number(m[1]), Number(m[2]), Number(m[3] ?? 0)];
  return maj > 0 || min > 14 || (min === 14 && pat >= 4);
}

// ---------------------------------------------------------------------------------------------
// OVS bridges per node

export interface BridgePortSpec {
  readonly name: string;
  readonly ofport: number;
  readonly type: "system" | "internal" | "patch";
  /** Peer port name, for patch ports. */
  readonly peer?: string;
  readonly mac?: string;
  /** VLAN config (ovs-vsctl Port: trunks, tag); empty trunks = all. */
  readonly trunks?: readonly number[];
  readonly tag?: number;
}

export interface BridgeSpec {
  readonly name: string;
  /** Bridge MAC (other-config:hwaddr). */
  readonly mac: string;
  readonly ports: readonly BridgePortSpec[];
  /** Flows in `ovs-ofctl add-flow` syntax, in install order. */
  readonly flows: readonly string[];
}

export interface NodeDataplane {
  readonly node: string;
  readonly bridges: readonly BridgeSpec[];
  /** Underlay subnets whose patch port exists on this node (it has pods there). */
  readonly patchedSubnets: readonly string[];
  /** Log lines kube-ovn-cni would print (e.g. a VIP flow skipped for a missing patch port). */
  readonly notes: readonly string[];
}

/** The OVS side of each node: br-<provider> and br-int as far as this scenario uses them. */
export function deriveNodeDataplane(s: Scenario, nodeName: string): NodeDataplane {
  const node = s.nodes.find((n) => n.name === nodeName);
  if (!node) return { node: nodeName, bridges: [], patchedSubnets: [], notes: [] };
  const keys = ovnKeys(s);
  const notes: string[] = [];
  const bridges: BridgeSpec[] = [];
  const brIntPorts: BridgePortSpec[] = [];
  const brIntFlows: string[] = [];
  const patched: string[] = [];
  const providers = [...new Set(s.vlans.map((v) => v.provider))].sort();
  let brIntPort = 1;
  for (const prov of providers) {
    const br = bridgeName(prov);
    const pn = s.providerNetworks.find((p) => p.name === prov);
    if (pn?.excludeNodes.includes(nodeName)) continue;
    const nic = pn?.customInterfaces.find((c) => c.nodes.includes(nodeName))?.interface ?? node.nic;
    const subs = s.subnets.filter((x) => underlayOf(s, x)?.provider === prov);
    const vids = [...new Set(subs.map((x) => underlayOf(s, x)!.vlanId).filter((v) => v > 0))].sort(
      (a, b) => a - b,
    );
    const ports: BridgePortSpec[] = [
      { name: nic, ofport: 1, type: "system", mac: node.nicMac, trunks: vids },
    ];
    const flows: string[] = [];
    let ofp = 2;
    for (const sub of subs) {
      const hasPods = s.pods.some((p) => p.subnet === sub.name && p.node === nodeName);
      if (!hasPods) continue;
      patched.push(sub.name);
      const pp = providerPatchPort(sub.name);
      const ip = brIntPatchPort(sub.name);
      const provOf = ofp++;
      const intOf = brIntPort++;
      ports.push({ name: pp, ofport: provOf, type: "patch", peer: ip });
      brIntPorts.push({ name: ip, ofport: intOf, type: "patch", peer: pp });
      const u = underlayOf(s, sub)!;
      const dp = keys.datapath.get(sub.name) ?? 0;
      const pk = keys.port.get(localnetPortName(sub.name)) ?? 0;
      const load = `set_field:0x${(pk + 0).toString(16)}->reg13,set_field:0x${dp.toString(16)}->metadata,set_field:0x${pk.toString(16)}->reg14,resubmit(,8)`;
      if (u.vlanId > 0) {
        brIntFlows.push(
          `table=0,priority=150,in_port=${intOf},dl_vlan=${u.vlanId} actions=strip_vlan,${load}`,
        );
        brIntFlows.push(
          `table=65,priority=100,reg15=0x${pk.toString(16)},metadata=0x${dp.toString(16)} actions=mod_vlan_vid:${u.vlanId},output:${intOf}`,
        );
      } else {
        brIntFlows.push(`table=0,priority=100,in_port=${intOf} actions=${load}`);
        brIntFlows.push(
          `table=65,priority=100,reg15=0x${pk.toString(16)},metadata=0x${dp.toString(16)} actions=output:${intOf}`,
        );
      }
      // kube-ovn-cni's VIP flows for services whose ingress IP lies in this subnet.
      if (sub.enableExternalLBAddress) {
        const dstMac =
          sub.u2oInterconnection && sub.u2oInterconnectionMac
            ? sub.u2oInterconnectionMac
            : MASQUERADE_EXTERNAL_LB_ACCESS_MAC;
        for (const svc of s.services) {
          if (svc.type !== "LoadBalancer") continue;
          for (const vip of svc.vips) {
            // genLBServiceRules takes every ingress IP of the Service the subnet serves: an IPv6
            // one outside the subnet's CIDRs (a subnet that is not dual-stack) rides with its
            // IPv4 sibling. AddOrUpdateUnderlaySubnetSvcLocalFlowCache: cookie 0x1001, tcp6/udp6
            // and ipv6_dst for an IPv6 ingress IP.
            const v6 = vip.includes(":");
            const v4Sibling = svc.vips.find((v) => !v.includes(":"));
            const home = subnetOfAddr(s, vip) ?? (v6 && v4Sibling ? subnetOfIp(s, v4Sibling) : undefined);
            if (home?.name !== sub.name) continue;
            for (const port of svc.ports) {
              if (port.protocol === "sctp") {
                notes.push(`unsupported protocol sctp for ${svc.namespace}/${svc.name}`);
                continue;
              }
              flows.push(
                `cookie=0x${(v6 ? UNDERLAY_SVC_LOCAL_COOKIE_V6 : UNDERLAY_SVC_LOCAL_COOKIE_V4).toString(16)},priority=10000,in_port=1,${port.protocol}${v6 ? "6" : ""},${v6 ? "ipv6_dst" : "nw_dst"}=${vip},tp_dst=${port.port} actions=mod_dl_dst:${dstMac},output:${provOf}`,
              );
            }
          }
        }
      }
    }
    for (const sub of subs) {
      if (!patched.includes(sub.name) && sub.enableExternalLBAddress) {
        const has = s.services.some(
          (svc) => svc.type === "LoadBalancer" && svc.vips.some((v) => subnetOfAddr(s, v)?.name === sub.name),
        );
        if (has) notes.push(`subnet ${sub.name} may not have pods on this node yet`);
      }
    }
    flows.push("priority=0 actions=NORMAL");
    // The internal port carries every VLAN (no tag): a host VLAN interface such as
    // `br-<provider>.<vid>` (where MetalLB answers) is a kernel VLAN device on it.
    ports.push({ name: br, ofport: 0xfffe, type: "internal", mac: node.nicMac });
    bridges.push({ name: br, mac: node.nicMac, ports, flows });
  }
  // Pod veths on br-int and their ingress/egress entries.
  for (const p of s.pods.filter((x) => x.node === nodeName)) {
    const of = brIntPort++;
    brIntPorts.push({ name: podVethName(p), ofport: of, type: "system", mac: p.mac });
    const dp = keys.datapath.get(p.subnet) ?? 0;
    const pk = keys.port.get(p.lsp) ?? 0;
    brIntFlows.push(
      `table=0,priority=100,in_port=${of} actions=set_field:0x${pk.toString(16)}->reg13,set_field:0x${dp.toString(16)}->metadata,set_field:0x${pk.toString(16)}->reg14,resubmit(,8)`,
    );
    brIntFlows.push(
      `table=65,priority=100,reg15=0x${pk.toString(16)},metadata=0x${dp.toString(16)} actions=output:${of}`,
    );
  }
  brIntPorts.push({ name: "br-int", ofport: 0xfffe, type: "internal" });
  bridges.push({ name: "br-int", mac: "00:00:00:00:00:00", ports: brIntPorts, flows: brIntFlows });
  return { node: nodeName, bridges, patchedSubnets: patched, notes };
}

/** `ovs-ofctl add-flow` lines for one bridge, with the bridge name, as a shell script would hold them. */
export function bridgeFlowsScript(b: BridgeSpec): string[] {
  return b.flows.map((f) => `ovs-ofctl add-flow ${b.name} "${f}"`);
}
