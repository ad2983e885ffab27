/**
 * In-cluster paths over the topology Kube-OVN builds (kube-ovn-internals.md §10): pod → pod
 * across subnets and nodes, pod → ClusterIP, pod → LoadBalancer VIP, host network (ovn0) → pod,
 * pod → node / outside. The NB state is @ovnsim/kube's `deriveClusterNbctl`, compiled by
 * @ovnsim/ovn's northd for the scenario's Kube-OVN profile with the logical router stages on,
 * and traced with its ovn-trace executor on the source pod's chassis, as ovn-controller runs
 * the whole logical path (switches and ovn-cluster) where the packet enters OVN; only the last
 * switch's egress pipeline runs on the destination chassis, after the Geneve tunnel. That
 * crossing is shown at the logical level (tunnel key = datapath, Geneve option = ports), not
 * as br-int OpenFlow tables.
 *
 * Every hop names the Kubernetes object behind the NB row it used (Subnet, Pod, Node, Service,
 * NetworkPolicy) from the owners @ovnsim/kube recorded while deriving the rows. ovn-trace is
 * stateless: the request runs with `--ct=new`, the reply with `--ct=est|rpl`, and the reply's
 * source is restored to the Service VIP where OVN's conntrack would reverse the DNAT (the
 * client port's zone, in its switch's egress pipeline).
 */
import {
  type ClusterNb,
  type Owner,
  type PodSpec,
  type Scenario,
  deriveClusterNbctl,
  diagnose,
  electAnnouncer,
  nodePortName,
  podVethName,
  routerPortIp,
  routedSubnet,
  routerPortName,
  subnetOfIp,
  underlayOf,
} from "@ovnsim/kube";
import {
  type HairpinSession,
  type LbBackend,
  LogicalNetwork,
  type MFlow,
  type NbDatabase,
  PROFILES,
  type Profile,
  type SbModel,
  type TraceNode,
  type TraceResult,
  hashBackend,
  northd,
  parseNbctl,
  sbModelFromNb,
} from "@ovnsim/ovn";
import {
  type Flow,
  SimError,
  TCP_FLAG,
  formatIp4,
  formatIp6,
  inCidr4,
  makeFlow,
  parseIp4,
  parseIp6,
  parseMac,
  plenToMask6,
} from "@ovnsim/packet";
import {
  type FindingView,
  StepBuilder,
  TRACE_SCHEMA,
  type TraceDocument,
  type TraceStep,
  type Verdict,
  type WireFrame,
  hostPort,
  packetView,
  walkSteps,
} from "./model.js";
import type { CaptureWorld } from "./pcap.js";
import { createSimulation, runTrace } from "./engine.js";

/** The compiled cluster: NB rows with their owners, the southbound model, one network per chassis. */
export interface ClusterWorld {
  readonly scenario: Scenario;
  readonly nb: ClusterNb;
  readonly db: NbDatabase;
  readonly sb: SbModel;
  readonly profile: Profile;
  readonly nets: Map<string, LogicalNetwork>;
}

/** The release's profile with the logical router pipeline built (OVN 24.03 / 25.03 router stages). */
export function clusterProfile(s: Scenario): Profile {
  const base = s.controller.release === "1.14" ? PROFILES["kube-ovn-1.14"] : PROFILES["kube-ovn-1.15"];
  return { ...base, routers: true };
}

export function buildClusterWorld(s: Scenario): ClusterWorld {
  const nb = deriveClusterNbctl(s);
  const db = parseNbctl(nb.lines.join("\n"), { file: "cluster-nb" });
  const profile = clusterProfile(s);
  const sb = sbModelFromNb(db, northd(db, profile));
  return { scenario: s, nb, db, sb, profile, nets: new Map() };
}

function netOn(w: ClusterWorld, chassis: string): LogicalNetwork {
  let n = w.nets.get(chassis);
  if (!n) {
    n = new LogicalNetwork(w.sb, chassis, { ovn: w.profile.ovn });
    w.nets.set(chassis, n);
  }
  return n;
}

/** What a source names: an external client, a node, a pod (`client/`, `node/`, `pod/` of --from). */
export type SourceKind = "client" | "node" | "pod";

export interface ClusterTraceInput {
  /** `NS/NAME` of a pod, or a node name (its host network, through ovn0). */
  readonly from: string;
  /** Whether `from` names a pod or a node (default: a pod of that name first, then a node). */
  readonly fromKind?: "pod" | "node";
  /** TCP/UDP source port (default 40000): what the datapath's ECMP and LB hashes see. */
  readonly srcPort?: number;
  /** Destination IPv4 address (pod, ClusterIP, LoadBalancer VIP, node, anything outside). */
  readonly to: string;
  readonly port?: number;
  readonly proto?: "tcp" | "udp" | "icmp";
  /** TCP flags of the request (default SYN): an ACK is a later packet of the connection. */
  readonly tcpFlags?: number;
  /**
   * The connection this packet belongs to, as a previous trace left it in the data path's
   * conntrack ({@link clusterConnection}); without it the request meets no entry anywhere.
   */
  readonly conn?: ClusterConnection;
  /**
   * The node whose MetalLB speaker answers the VIP's ARP (after a failover: the new announcer,
   * whose gratuitous ARP updated the pod's neighbour entry); default: MetalLB's election.
   */
  readonly announcer?: string;
  /**
   * The endpoint address (IP) kube-proxy's DNAT takes for a node's own connection to a Service
   * (iptables picks one at random per connection: `-m statistic --mode random`); default: one
   * by a hash of node, VIP and port ({@link kubeProxyEndpoint}). It must be one of the
   * Service's ready endpoints ({@link kubeProxyEndpoints}).
   */
  readonly kubeProxyPick?: string;
}

/**
 * What a traced request left in the data path's conntrack: whether its forward leg committed
 * the connection (a `ct_commit` of a stateful ACL, or `ct_lb_mark(backends=…)`'s DNAT), the
 * chassis whose zones hold it (where the request entered OVN, and where the last switch's egress
 * ran), and the backend the DNAT chose. The connection's next packet meets `ct.est` in those
 * zones, and the bare `ct_lb_mark;` of ls_in_pre_stateful applies the committed DNAT (ovn-trace's
 * `--ct=est --lb-dst=BACKEND`); nothing committed means no entry, so `ct.new` again.
 */
export interface ClusterConnection {
  readonly committed: boolean;
  readonly chassis: readonly string[];
  /** "IP:PORT" the connection's DNAT goes to, or null (no load balancer on the path). */
  readonly backend: string | null;
}

/** Where a packet enters OVN. */
interface Origin {
  readonly kind: "pod" | "node";
  readonly label: string;
  readonly chassis: string;
  readonly lsp: string;
  readonly datapath: string;
  readonly mac: string;
  readonly ip: string;
  /** Its IPv6 address on a dual-stack subnet (pod) or join (node's ovn0). */
  readonly ip6: string | undefined;
  /** Where a capture would see it ("node1/<veth>" or "node1/ovn0"). */
  readonly link: string;
  readonly pod?: PodSpec;
  /** A node's InternalIP: the `src` of the host's routes to the subnets via ovn0. */
  readonly internalIp?: string;
}

const SRC_PORT = 40000;

const isV6 = (ip: string): boolean => ip.includes(":");

/** The subnet whose IPv4 CIDR or dual-stack IPv6 CIDR holds `ip`. */
function subnetOfAny(s: Scenario, ip: string): Scenario["subnets"][number] | undefined {
  if (!isV6(ip)) return subnetOfIp(s, ip);
  let v: bigint;
  try {
    v = parseIp6(ip);
  } catch {
    return undefined;
  }
  const c = s.cluster?.subnets.find((x) => x.cidr6 !== undefined && inCidr6(v, x.cidr6));
  return c ? s.subnets.find((x) => x.name === c.name) : undefined;
}

function inCidr6(v: bigint, cidr: string): boolean {
  const [a, l] = cidr.split("/");
  const m = plenToMask6(Number(l));
  return (parseIp6(a!) & m) === (v & m);
}

/** The pod holding `ip` (either family). */
function podOfIp(s: Scenario, ip: string): PodSpec | undefined {
  return isV6(ip) ? s.pods.find((p) => s.cluster?.podIp6[p.lsp] === ip) : s.pods.find((p) => p.ip === ip);
}

/**
 * The origin's address in the destination's family. A node's host network sends to a subnet
 * with the source its route names: kube-ovn-cni (pkg/daemon controller_linux.go routeDiff) adds
 * `<cidr> via <join gw> dev ovn0 src <node InternalIP>` for every routed subnet and only the join
 * CIDR's own route has the ovn0 (join) address as `src`. IPv6 routes get the node's IPv6
 * InternalIP, which the scenario's nodes do not have: the kernel then picks ovn0's join address.
 */
function srcIpFor(o: Origin, dst: string, w?: ClusterWorld): string {
  if (!isV6(dst)) {
    if (o.kind === "node" && o.internalIp !== undefined && w && !inJoin4(w, dst)) return o.internalIp;
    return o.ip;
  }
  if (o.ip6 === undefined)
    throw new SimError(
      "UNKNOWN_OBJECT",
      `--to ${dst}: ${o.label} has no IPv6 address (its subnet${o.kind === "node" ? ", join," : ""} is not dual-stack)`,
    );
  return o.ip6;
}

function inJoin4(w: ClusterWorld, ip: string): boolean {
  const [j, plen] = w.scenario.cluster!.joinCidr.split("/");
  try {
    return inCidr4(parseIp4(ip), { ip: parseIp4(j!), plen: Number(plen) });
  } catch {
    return false;
  }
}

const dstIpOf = (f: Flow): string => (f.dl_type === 0x86dd ? formatIp6(f.ipv6_dst) : formatIp4(f.nw_dst));
const srcIpOf = (f: Flow): string => (f.dl_type === 0x86dd ? formatIp6(f.ipv6_src) : formatIp4(f.nw_src));

function podByRef(s: Scenario, ref: string): PodSpec | undefined {
  const [ns, name] = ref.includes("/") ? (ref.split("/") as [string, string]) : [undefined, ref];
  return s.pods.find((p) => p.name === name && (ns === undefined || p.namespace === ns));
}

function vethOf(p: PodSpec): string {
  return `${p.node}/${podVethName(p)}`;
}

/** Capture names for a cluster trace's frames (pods by their veth, as the seed's captures). */
export function clusterCaptureWorld(s: Scenario): CaptureWorld {
  return {
    pods: s.pods.map((p) => ({ namespace: p.namespace, name: p.name, node: p.node, veth: podVethName(p) })),
  };
}

function originOf(w: ClusterWorld, from: string, kind?: "pod" | "node"): Origin {
  const s = w.scenario;
  const pod = kind === "node" ? undefined : podByRef(s, from);
  if (pod)
    return {
      kind: "pod",
      label: `Pod ${pod.namespace}/${pod.name}`,
      chassis: pod.node,
      lsp: pod.lsp,
      datapath: pod.subnet,
      mac: pod.mac,
      ip: pod.ip,
      ip6: s.cluster?.podIp6[pod.lsp],
      link: vethOf(pod),
      pod,
    };
  const node = kind === "pod" ? undefined : s.cluster?.nodes.find((n) => n.name === from);
  if (node)
    return {
      kind: "node",
      label: `Node ${node.name} (host network, ovn0)`,
      chassis: node.name,
      lsp: nodePortName(node.name),
      datapath: "join",
      mac: node.joinMac,
      ip: node.joinIp,
      ip6: node.joinIp6,
      link: `${node.name}/ovn0`,
      internalIp: s.nodes.find((n) => n.name === node.name)?.internalIp,
    };
  throw new SimError(
    "UNKNOWN_OBJECT",
    `--from ${from}: no Pod or Node of that name in the scenario ${s.name} (a cluster trace starts at a pod or at a node's host network)`,
  );
}

/** The MAC the origin sends to: a same-subnet pod's, else its gateway's (router port or physical). */
function firstHopMac(
  w: ClusterWorld,
  o: Origin,
  dst: string,
  announcer?: string,
): { mac: string; why: string; announcer?: string } {
  const s = w.scenario;
  const lrpMac = (port: string): string | undefined => {
    for (const r of w.db.routers) for (const p of r.ports) if (p.name === port) return p.mac;
    return undefined;
  };
  if (o.kind === "node") {
    return {
      mac: lrpMac(routerPortName("join"))!,
      why: isV6(dst)
        ? `the host routes the cluster's CIDRs via ${joinGateway6(w)} dev ovn0`
        : `the host routes the cluster's CIDRs via ${joinGateway(w)} dev ovn0${o.internalIp !== undefined && !inJoin4(w, dst) ? ` src ${o.internalIp} (kube-ovn-cni's route)` : ""}`,
    };
  }
  const sub = s.subnets.find((x) => x.name === o.datapath)!;
  const dsub = subnetOfAny(s, dst);
  if (dsub?.name === sub.name) {
    const peer = podOfIp(s, dst);
    if (peer) return { mac: peer.mac, why: `${dst} is on the pod's own subnet ${sub.name}` };
    // A VIP inside an underlay subnet: MetalLB's speaker answers the ARP with its node's MAC.
    const svc = s.services.find((x) => x.vips.includes(dst));
    const node = svc
      ? announcer !== undefined
        ? s.nodes.find((n) => n.name === announcer)
        : announcerNode(s, svc, dst)
      : undefined;
    if (node)
      return {
        mac: node.nicMac,
        why: `${dst} is on the pod's own subnet; MetalLB's speaker on ${node.name} answers its ARP with ${node.nicMac}`,
        announcer: node.name,
      };
  }
  if (underlayOf(s, sub) && !lrpMac(routerPortName(sub.name))) {
    const gw = s.physical.routers.flatMap((r) => r.interfaces).find((i) => i.ip === sub.gateway);
    return {
      mac: gw?.mac ?? "ff:ff:ff:ff:ff:ff",
      why: `underlay subnet ${sub.name}: its gateway ${sub.gateway} is the physical router`,
    };
  }
  const gw6 = isV6(dst) ? s.cluster?.subnets.find((x) => x.name === sub.name)?.gateway6 : undefined;
  return {
    mac: lrpMac(routerPortName(sub.name)) ?? "ff:ff:ff:ff:ff:ff",
    why: gw6
      ? `the pod's IPv6 gateway ${gw6} is ovn-cluster's port ${routerPortName(sub.name)} (its neighbour solicitation answered by the router; not traced)`
      : `the pod's gateway ${routerPortIp(s, sub)} is ovn-cluster's port ${routerPortName(sub.name)} (its ARP answered by the router; not traced)`,
  };
}

function joinGateway(w: ClusterWorld): string {
  const c = w.scenario.cluster!;
  return formatIp4(parseIp4(c.joinCidr.split("/")[0]!) + 1);
}

function joinGateway6(w: ClusterWorld): string {
  const c = w.scenario.cluster!.joinCidr6!;
  return formatIp6(parseIp6(c.split("/")[0]!) + 1n);
}

function announcerNode(s: Scenario, svc: Scenario["services"][number], vip: string) {
  try {
    const name = electAnnouncer(s, svc, vip).node;
    return s.nodes.find((n) => n.name === name);
  } catch {
    return undefined;
  }
}

// ---------------------------------------------------------------------------------------------
// Reading ovn-trace's tree

interface Pipe {
  readonly kind: "ingress" | "egress";
  readonly datapath: string;
  readonly inport: string;
  readonly outport: string | undefined;
  readonly tables: { stage: string; table: number; priority: number; match: string; actions: string[] }[];
  readonly depth: number;
}

const PIPE_RE = /^(ingress|egress)\(dp="([^"]+)", inport="([^"]+)"(?:, outport="([^"]+)")?\)/;
const TABLE_RE = /^\s*(\d+)\. (\S+?)(?: \([^)]*\))?: (.*), priority (\d+), uuid/;

function pipelines(tree: readonly TraceNode[]): Pipe[] {
  const out: Pipe[] = [];
  const walk = (nodes: readonly TraceNode[], cur: Pipe | undefined, depth: number): void => {
    for (const n of nodes) {
      let here = cur;
      if (n.kind === "pipeline") {
        const m = PIPE_RE.exec(n.text);
        if (m) {
          here = {
            kind: m[1] as "ingress" | "egress",
            datapath: m[2]!,
            inport: m[3]!,
            outport: m[4],
            tables: [],
            depth,
          };
          out.push(here);
        }
      } else if (n.kind === "table" && cur) {
        const m = TABLE_RE.exec(n.text);
        if (m) {
          const actions: string[] = [];
          for (const c of n.children) if (c.kind !== "pipeline") actions.push(c.text.trim());
          cur.tables.push({
            stage: m[2]!,
            table: Number(m[1]),
            priority: Number(m[4]),
            match: m[3]!,
            actions,
          });
        }
      }
      walk(n.children, here, depth + 1);
    }
  };
  walk(tree, undefined, 0);
  return out;
}

/** The owners of the NB rows a pipeline used, as "Kind name (role) · NB row · lflow". */
function attributions(w: ClusterWorld, p: Pipe): { text: string; owner: Owner; lflow: string }[] {
  const out: { text: string; owner: Owner; lflow: string }[] = [];
  const seen = new Set<string>();
  const push = (key: string, row: string, lflow: string) => {
    const o = w.nb.owners.get(key);
    if (!o || seen.has(key)) return;
    seen.add(key);
    out.push({ text: `${o.kind} ${o.name} (${o.role}) · NB ${row} · lflow ${lflow}`, owner: o, lflow });
  };
  const ds = w.nb.owners.get(`ls:${p.datapath}`);
  if (ds) push(`ls:${p.datapath}`, `Logical_Switch ${p.datapath}`, `${p.kind} pipeline of ${p.datapath}`);
  if (w.nb.owners.has(`lr:${p.datapath}`)) {
    // The router itself, with the routing decision it took (the policy or route rows follow).
    const r = p.tables.find((t) => t.stage.endsWith("_ip_routing") || t.stage.endsWith("_policy"));
    push(
      `lr:${p.datapath}`,
      `Logical_Router ${p.datapath}`,
      r ? `${r.stage} ${r.priority}` : `${p.kind} pipeline of ${p.datapath}`,
    );
  }
  for (const t of p.tables) {
    const lflow = `${t.stage} ${t.priority}`;
    if (t.stage.endsWith("_policy"))
      push(`policy:${t.priority}:${t.match}`, `Logical_Router_Policy ${t.priority} "${t.match}"`, lflow);
    if (t.stage.endsWith("_ip_routing") && t.priority > 0) {
      const prefix = /ip[46]\.dst == ([\d.:a-f/]+)$/.exec(t.match)?.[1];
      if (prefix === undefined && /^reg7 == 0 && ip4/.test(t.match))
        push("route:0.0.0.0/0", "Logical_Router_Static_Route 0.0.0.0/0", lflow);
      if (prefix === undefined && /^reg7 == 0 && ip6/.test(t.match))
        push("route:::/0", "Logical_Router_Static_Route ::/0", lflow);
    }
    if (t.stage.includes("_acl")) {
      for (const [key] of w.nb.owners) {
        if (!key.startsWith("acl:")) continue;
        const m = key.slice(4);
        if (t.match === m || t.match.includes(`(${m})`)) push(key, `ACL "${m}"`, lflow);
      }
    }
    for (const a of t.actions) {
      const be = /ct_lb_mark\(backends=([^;)]*)/.exec(a);
      if (!be) continue;
      const ip = /ip[46]\.dst == ([\d.:a-f]+)/.exec(t.match)?.[1];
      const port = /(?:tcp|udp|sctp)\.dst == (\d+)/.exec(t.match)?.[1];
      if (ip === undefined) continue;
      const vip = port ? (isV6(ip) ? `[${ip}]:${port}` : `${ip}:${port}`) : ip;
      for (const lb of w.db.loadBalancers) {
        if (lb.vips[vip] !== undefined)
          push(`vip:${lb.name}/${vip}`, `Load_Balancer ${lb.name} vips "${vip}"`, lflow);
      }
    }
  }
  if (p.kind === "egress" && p.outport) {
    const key = w.nb.owners.has(`lsp:${p.outport}`) ? `lsp:${p.outport}` : `lrp:${p.outport}`;
    push(
      key,
      `${key.startsWith("lsp") ? "Logical_Switch_Port" : "Logical_Router_Port"} ${p.outport}`,
      `output to ${p.outport}`,
    );
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// One direction

interface Leg {
  readonly step: TraceStep;
  readonly frames: WireFrame[];
  readonly result: TraceResult;
  /** The port the packet left OVN at, and the packet there. */
  readonly exit: { readonly port: string; readonly flow: Flow } | undefined;
  readonly backend: { readonly ip: string; readonly port: number } | null;
  readonly drop: { readonly where: string; readonly reason: string } | null;
  readonly aclDropBy: Owner | undefined;
}

function chassisOfPort(w: ClusterWorld, port: string): string | undefined {
  return w.db.portBindings.find((b) => b.logicalPort === port)?.chassis;
}

function placeOfPort(w: ClusterWorld, port: string, chassis: string): string {
  const pod = w.scenario.pods.find((p) => p.lsp === port);
  if (pod) return vethOf(pod);
  if (port.startsWith("node-")) return `${port.slice(5)}/ovn0`;
  return `${chassis}/br-int:${port}`;
}

/**
 * How many ct actions (ct_next, ct_lb_mark: each takes the next `--ct` state) ran before the
 * first egress pipeline bound to a chassis not in `committed`; undefined if there is none.
 */
function ctActionsBefore(
  w: ClusterWorld,
  tree: readonly TraceNode[],
  committed: readonly string[],
): number | undefined {
  let n = 0;
  let found: number | undefined;
  const walk = (nodes: readonly TraceNode[]): void => {
    for (const x of nodes) {
      if (found !== undefined) return;
      if (x.kind === "pipeline") {
        const m = PIPE_RE.exec(x.text);
        const c = m?.[1] === "egress" && m[4] ? chassisOfPort(w, m[4]) : undefined;
        if (c !== undefined && !committed.includes(c)) {
          found = n;
          return;
        }
      } else if (x.kind === "transformation" && /^ct_(next|lb)/.test(x.text)) n++;
      walk(x.children);
    }
  };
  walk(tree);
  return found;
}

function runLeg(
  w: ClusterWorld,
  o: Origin,
  f: Flow,
  phase: "forward" | "reply",
  title: string,
  why: string,
  unDnat?: {
    readonly vip: string;
    readonly vipPort: number;
    readonly clientPort: string;
    readonly clientSwitch: string;
  },
  hairpin: readonly HairpinSession[] = [],
  conn?: ClusterConnection,
): Leg {
  // The request meets `new` everywhere unless it belongs to a connection its chassis committed.
  const est = phase === "forward" && conn?.committed === true && conn.chassis.includes(o.chassis);
  let ct: string[] = phase === "forward" ? Array(8).fill(est ? "est" : "new") : Array(8).fill("est|rpl");
  let chosen: { ip: string; port: number } | null = null;
  const run = () =>
    netOn(w, o.chassis).traceFlow(o.datapath, o.lsp, f, {
      ct,
      ...(est && conn?.backend ? { lbDst: conn.backend } : {}),
      chassis: o.chassis,
      // The data path's hairpin state (ct_snat_to_vip's SNAT, table 69's learnt reply flow).
      hairpin,
      chooseBackend: (backends: readonly LbBackend[], mf: MFlow) => {
        const i = hashBackend(backends, mf);
        const b = backends[i]!;
        chosen = { ip: b.family === 6 ? formatIp6(b.ip6) : formatIp4(b.ip4), port: b.port };
        return i;
      },
    });
  let result = run();
  if (est && conn) {
    // The last switch's egress on a chassis whose zone never committed the connection (the SYN
    // was dropped before it) meets no entry there: `new` from its first ct action on.
    const k = ctActionsBefore(w, result.tree, conn.chassis);
    if (k !== undefined) {
      ct = [...Array(k).fill("est"), ...Array(8).fill("new")];
      chosen = null;
      result = run();
    }
  }
  const root = new StepBuilder("ovn", `${phase}: ${o.label}`, title, o.chassis);
  root.show(f);
  const frames: WireFrame[] = [
    { link: o.link, flow: f, kind: "send", note: `${o.label} sends (${why})`, phase },
  ];
  root.step("kube", o.kind === "pod" ? "pod eth0" : "ovn0", `${o.label} sends it: ${why}`, f);
  const pipes = pipelines(result.tree);
  if (est && conn?.backend && chosen === null) {
    // The committed DNAT, applied by a bare ct_lb_mark of the connection's zone.
    const i = conn.backend.lastIndexOf(":");
    if (pipes.some((p) => p.tables.some((t) => t.actions.some((x) => /^ct_lb(_mark)?;/.test(x)))))
      chosen = {
        ip: conn.backend.slice(0, i).replace(/^\[|\]$/g, ""),
        port: Number(conn.backend.slice(i + 1)),
      };
  }
  // The packet between chassis: as the last switch's egress receives it (it changes nothing here).
  const onWire = result.deliveries[0]?.flow ?? f;
  let chassis = o.chassis;
  let aclDropBy: Owner | undefined;
  for (const p of pipes) {
    // The last switch's egress runs where its output port is bound: the Geneve crossing.
    if (p.kind === "egress" && p.outport) {
      const target = chassisOfPort(w, p.outport);
      if (target !== undefined && target !== chassis) {
        const a = w.scenario.nodes.find((n) => n.name === chassis);
        const b = w.scenario.nodes.find((n) => n.name === target);
        const dp = w.sb.datapaths.find((d) => d.name === p.datapath)?.tunnelKey ?? 0;
        const pk = w.sb.ports.find((x) => x.name === p.outport)?.tunnelKey ?? 0;
        const ik = w.sb.ports.find((x) => x.name === p.inport)?.tunnelKey ?? 0;
        const ln = w.db.switches.find((x) => x.name === p.datapath)?.ports.find((x) => x.type === "localnet");
        if (ln) {
          // A switch with a localnet port reaches its remote ports over the physical network
          // (ovn-controller physical.c), not over a tunnel.
          const tag = ln.tag !== undefined ? `VLAN ${ln.tag}` : "untagged";
          root.step(
            "physical",
            `${ln.name} ${chassis} → ${target}`,
            `${p.datapath} has a localnet port: ovn-controller on ${chassis} sends it out ${ln.name} (${tag}, provider ${ln.options.network_name ?? "?"}) to ${target}, no Geneve; ${target} runs the egress pipeline (shown at the logical level)`,
          );
          frames.push({
            link: `${chassis}/${ln.name}`,
            flow: onWire,
            kind: "exit",
            note: `out ${ln.name} (${tag}) towards ${target}`,
            phase,
          });
        } else {
          root.step(
            "openflow",
            `Geneve ${chassis} → ${target}`,
            `ovn-controller on ${chassis} sends it over Geneve (${a?.internalIp} → ${b?.internalIp}, VNI = datapath key ${dp} of ${p.datapath}, option 0x0102:0x80 = inport ${ik} / outport ${pk}); ${target} runs the egress pipeline (shown at the logical level, not as br-int tables)`,
          );
          frames.push({
            link: `${chassis}/genev_sys_6081`,
            flow: onWire,
            kind: "exit",
            note: `Geneve to ${b?.internalIp} (tunnel key ${dp}, outport ${pk})`,
            phase,
          });
        }
        chassis = target;
      }
    }
    const attr = attributions(w, p);
    const stages = p.tables.map((t) => `${t.stage} ${t.priority}`).join(", ");
    const dropTable = p.tables.find((t) => t.actions.some((a) => /^drop;?$/.test(a)));
    const aclDrop = p.tables.find(
      (t) => t.stage.includes("_acl") && t.actions.some((a) => /^(drop;?|reg8\[17\] = 1;)/.test(a)),
    );
    if (aclDrop) {
      const byMatch = attr.find((x) => x.lflow === `${aclDrop.stage} ${aclDrop.priority}`);
      if (byMatch) aclDropBy = byMatch.owner;
    }
    const where = `${p.kind}(${p.datapath})`;
    const who = attr.map((x) => x.text);
    const summary = `${p.kind === "ingress" ? "enters" : "leaves"} ${p.datapath}${p.kind === "ingress" ? ` from ${p.inport}` : ` to ${p.outport}`}${who.length ? ` — ${who.join("; ")}` : ""}`;
    const detail = p.tables
      .map(
        (t) =>
          `${t.table}. ${t.stage}: ${t.match}, priority ${t.priority}\n${t.actions.map((a) => `    ${a}`).join("\n")}`,
      )
      .join("\n");
    root.step("ovn", where, summary, undefined, { device: chassis, detail: detail || stages });
    if (dropTable && result.outputs.length === 0 && p === pipes[pipes.length - 1]) break;
  }
  const delivery = result.deliveries[0];
  let exit: Leg["exit"];
  let drop: Leg["drop"] = null;
  if (delivery) {
    let flow = delivery.flow;
    if (phase === "forward" && chosen && srcIpOf(flow) !== srcIpOf(f)) {
      const c = chosen as { ip: string; port: number };
      root.step(
        "conntrack",
        "ls_in_nat_hairpin",
        `hairpin: the load balancer chose ${hostPort(c.ip, c.port)}, the client itself; ls_in_nat_hairpin's ct_snat_to_vip commits an SNAT (ovn-controller table 70, ct(commit,nat(src=VIP))) so the source becomes ${srcIpOf(flow)} and the backend's reply comes back through OVN; ls_in_hairpin sends it back out of ${o.lsp}`,
        flow,
      );
    }
    const session = phase === "reply" ? hairpin.find((h) => h.backend === srcIpOf(f)) : undefined;
    if (session) {
      root.step(
        "conntrack",
        "ls_in_nat_hairpin",
        `reply of the hairpin session: chk_lb_hairpin_reply() matches the flow ovn-controller learnt in table 69 (source ${hostPort(session.backend, session.backendPort)}, destination ${hostPort(session.vip, f.tp_dst)}), ct_snat turns the destination back into ${hostPort(session.backend, session.clientPort)}, ls_in_hairpin loops it back to ${o.lsp}`,
        flow,
      );
    }
    if (unDnat && delivery.port === unDnat.clientPort) {
      flow = isV6(unDnat.vip)
        ? { ...flow, ipv6_src: parseIp6(unDnat.vip), tp_src: unDnat.vipPort }
        : { ...flow, nw_src: parseIp4(unDnat.vip), tp_src: unDnat.vipPort };
      root.step(
        "conntrack",
        `ct zone of ${unDnat.clientPort}`,
        `conntrack reverses the Service DNAT (ct_lb_mark in ${unDnat.clientPort}'s zone, ${unDnat.clientSwitch}'s egress): source back to ${hostPort(unDnat.vip, unDnat.vipPort)}`,
        flow,
      );
    }
    exit = { port: delivery.port, flow };
    const place = placeOfPort(w, delivery.port, chassis);
    frames.push({
      link: place,
      flow,
      kind: phase === "forward" ? "pod" : "deliver",
      note: `output to ${delivery.port}`,
      phase,
    });
    root.step("ovn", `output ${delivery.port}`, `output to ${delivery.port} on ${chassis}`, flow);
  } else {
    const flat: TraceNode[] = [];
    const all = (ns: readonly TraceNode[]) => {
      for (const n of ns) {
        flat.push(n);
        all(n.children);
      }
    };
    all(result.tree);
    const lastTable = [...flat].reverse().find((x) => x.kind === "table");
    const err = flat.find((x) => x.kind === "error");
    const reason = aclDropBy
      ? `dropped by ${aclDropBy.kind} ${aclDropBy.name} (${aclDropBy.role})`
      : err
        ? err.text.trim()
        : `dropped at ${lastTable?.text.trim() ?? "the first table"}`;
    const where = (lastTable && TABLE_RE.exec(lastTable.text)?.[2]) ?? "ovn";
    drop = { where, reason };
    root.step("ovn", where, reason, undefined, { outcome: "drop" });
  }
  return { step: root.build(), frames, result, exit, backend: chosen, drop, aclDropBy };
}

function flowOf(
  src: { mac: string; ip: string },
  dstMac: string,
  dst: string,
  proto: "tcp" | "udp" | "icmp",
  sport: number,
  dport: number,
  reply: boolean,
): Flow {
  const v6 = isV6(dst);
  const p = proto === "tcp" ? 6 : proto === "udp" ? 17 : v6 ? 58 : 1;
  const echo = v6 ? (reply ? 129 : 128) : reply ? 0 : 8;
  return makeFlow({
    dl_src: parseMac(src.mac),
    dl_dst: parseMac(dstMac),
    ...(v6
      ? { dl_type: 0x86dd, ipv6_src: parseIp6(src.ip), ipv6_dst: parseIp6(dst) }
      : { dl_type: 0x0800, nw_src: parseIp4(src.ip), nw_dst: parseIp4(dst) }),
    nw_ttl: 64,
    nw_proto: p,
    tp_src: proto === "icmp" ? echo : sport,
    tp_dst: proto === "icmp" ? 0 : dport,
    ...(p === 6 ? { tcp_flags: reply ? TCP_FLAG.syn | TCP_FLAG.ack : TCP_FLAG.syn } : {}),
  });
}

/**
 * Whether `ovnsim trace` takes this path through the cluster topology: from a pod whose subnet
 * has its gateway in OVN (overlay, logicalGateway, U2O), or from a node's host network, to a
 * ClusterIP or an address the cluster routes; and from any pod to a ClusterIP. Everything else
 * (external clients, a plain underlay pod whose gateway is the physical router) stays with the
 * seed's physical trace, so its findings and verdicts do not change.
 *
 * `kind`: what the user named (`client/NAME`, `node/NAME`, `pod/NS/NAME`), so a client or a node
 * is never taken for a pod of the same name; without it, a pod is looked for first.
 */
export function isClusterPath(s: Scenario, from: string, to: string, kind?: SourceKind): boolean {
  const cl = s.cluster;
  if (!cl || kind === "client") return false;
  const podOf = (ref: string) => (kind === "node" ? undefined : podByRef(s, ref));
  const isNode = (ref: string) => kind !== "pod" && cl.nodes.some((n) => n.name === ref);
  if (cl.services.some((x) => x.clusterIps.includes(to))) return !!podOf(from) || isNode(from);
  const routedIp = (ip: string): boolean => {
    const sub = subnetOfAny(s, ip);
    if (sub) return routedSubnet(s, sub);
    if (isV6(ip)) {
      try {
        return cl.joinCidr6 !== undefined && inCidr6(parseIp6(ip), cl.joinCidr6);
      } catch {
        return false;
      }
    }
    let n: number;
    try {
      n = parseIp4(ip);
    } catch {
      return false;
    }
    const [j, plen] = cl.joinCidr.split("/");
    return inCidr4(n, { ip: parseIp4(j!), plen: Number(plen) });
  };
  if (kind === undefined && s.physical.clients.some((c) => c.name === from)) return false;
  const pod = podOf(from);
  if (pod) {
    const sub = s.subnets.find((x) => x.name === pod.subnet);
    return !!sub && routedSubnet(s, sub);
  }
  if (isNode(from))
    return routedIp(to) || s.services.some((x) => x.type === "LoadBalancer" && x.vips.includes(to));
  return false;
}

/** The end-to-end trace of one in-cluster path, and its frames for the pcap. */
export function traceCluster(
  w: ClusterWorld,
  input: ClusterTraceInput,
): { doc: TraceDocument; frames: readonly WireFrame[] } {
  const s = w.scenario;
  const cl = s.cluster!;
  const o = originOf(w, input.from, input.fromKind);
  const proto = input.proto ?? "tcp";
  const svc = cl.services.find((x) => x.clusterIps.includes(input.to));
  const lbSvc = s.services.find((x) => x.vips.includes(input.to));
  const svcSpec = svc ? s.services.find((x) => x.namespace === svc.namespace && x.name === svc.name) : lbSvc;
  const port = input.port ?? svcSpec?.ports[0]?.port ?? 80;
  // The host network reaches Services through kube-proxy, not OVN: the join switch has no load
  // balancer (Kube-OVN attaches cluster-*-loadbalancer to every subnet switch except join).
  const kp =
    o.kind === "node" && svcSpec
      ? kubeProxy(w, o, svcSpec, input.to, port, proto, input.srcPort, input.kubeProxyPick)
      : undefined;
  const noRoute = o.kind === "node" ? notViaOvn0(s, kp && !("reject" in kp) ? kp.ip : input.to) : undefined;
  const forward = new StepBuilder("ovn", "cluster", `${o.label} → ${hostPort(input.to, port)} (${proto})`);
  if (svcSpec) {
    forward.step(
      "kube",
      "Service",
      `${input.to} is ${svc ? "the ClusterIP" : "a LoadBalancer address"} of Service ${svcSpec.namespace}/${svcSpec.name} (${svcSpec.endpoints.length} endpoint(s): ${svcSpec.endpoints.join(", ") || "none"})`,
    );
  }
  if (kp && "reject" in kp) {
    forward.step("host", `${o.chassis}/kube-proxy`, kp.reject, undefined, { outcome: "drop" });
    return {
      doc: clusterDoc(w, input, port, proto, forward, null, {
        ...NO_VERDICT,
        node: o.chassis,
        droppedAt: { layer: "host", where: `${o.chassis}/kube-proxy`, reason: kp.reject },
      }),
      frames: [],
    };
  }
  if (noRoute) {
    // Not into OVN: the host routes the packet by its own table, i.e. the physical network model
    // (a node without a route there drops it, as `ovnsim trace --from node/… --to <pod IP>` does).
    const dst = kp && !("reject" in kp) ? kp.ip : input.to;
    const dport = kp && !("reject" in kp) ? kp.port : port;
    if (kp && !("reject" in kp))
      forward.step(
        "host",
        `${o.chassis}/kube-proxy`,
        `${kp.note.replace(/; KUBE-POSTROUTING.*$/, "")}; KUBE-POSTROUTING MASQUERADEs the source to the address of the device the host routes it out of`,
      );
    forward.step(
      "host",
      `${o.chassis}/routes`,
      `kube-ovn-cni adds no route via ovn0 for Subnet ${noRoute.name} (${underlayOf(s, noRoute) && noRoute.u2oInterconnection ? "underlay with U2O while enableLb is on" : "underlay without logicalGateway or U2O"}; pkg/daemon controller_linux.go reconcileRouters), so ${o.chassis}'s host routes ${dst} by its own table: the physical network`,
    );
    const phys = runTrace(createSimulation(s), { from: o.chassis, to: dst, port: dport, proto });
    for (const c of phys.doc.forward.children) forward.add(c);
    const pv = phys.doc.verdict;
    let reply = phys.doc.reply;
    let replySourceIp = pv.replySourceIp;
    if (reply && pv.replyDelivered && kp && !("reject" in kp)) {
      // The host's conntrack reverses kube-proxy's DNAT.
      const rs = new StepBuilder("host", "reply", reply.summary, o.chassis);
      rs.add(reply);
      rs.step(
        "conntrack",
        `${o.chassis} host conntrack`,
        `the host's conntrack reverses kube-proxy's NAT: source back to ${hostPort(input.to, port)}; delivered to the host's socket`,
        undefined,
        { outcome: "deliver" },
      );
      reply = rs.build();
      replySourceIp = input.to;
    }
    return {
      doc: clusterDoc(w, input, port, proto, forward, reply, {
        ...pv,
        node: pv.node ?? o.chassis,
        announcingNode: null,
        backend: kp && !("reject" in kp) ? hostPort(kp.ip, kp.port) : pv.backend,
        clientIpPreserved: kp ? (pv.delivered ? false : null) : pv.clientIpPreserved,
        replySourceIp,
      }),
      frames: phys.frames,
    };
  }
  const first = kp ? { mac: kp.gwMac, why: kp.why } : firstHopMac(w, o, input.to, input.announcer);
  const f0 =
    kp?.flow ??
    flowOf(
      { mac: o.mac, ip: srcIpFor(o, input.to, w) },
      first.mac,
      input.to,
      proto,
      input.srcPort ?? SRC_PORT,
      port,
      false,
    );
  const f = input.tcpFlags !== undefined && f0.nw_proto === 6 ? { ...f0, tcp_flags: input.tcpFlags } : f0;
  if (kp) forward.step("host", `${o.chassis}/kube-proxy`, kp.note, f);
  const fwd = runLeg(
    w,
    o,
    f,
    "forward",
    `${o.label} → ${hostPort(input.to, port)}`,
    first.why,
    undefined,
    [],
    input.conn,
  );
  const frames: WireFrame[] = [...fwd.frames];
  forward.add(fwd.step);
  let delivered = false;
  let podName: string | null = null;
  let node: string | null = null;
  let hostNote: string | undefined;
  let handoff: string | undefined;
  const exitPort = fwd.exit?.port;
  const dstPod = exitPort ? s.pods.find((p) => p.lsp === exitPort) : undefined;
  if (dstPod) {
    delivered = true;
    podName = `${dstPod.namespace}/${dstPod.name}`;
    node = dstPod.node;
    forward.step("kube", `pod ${podName}`, `delivered to Pod ${podName} on ${dstPod.node}`, fwd.exit!.flow, {
      outcome: "deliver",
    });
  } else if (exitPort?.startsWith("node-") && svc && svcSpec && o.kind === "pod") {
    // A ClusterIP OVN did not DNAT (no VIP on the pod's switch: no endpoints, or no load
    // balancer there) leaves on a node's ovn0, where that host's kube-proxy takes it.
    return viaHostKubeProxy(w, input, o, f, port, proto, forward, fwd, frames, svcSpec);
  } else if (exitPort?.startsWith("node-") && podOfIp(s, dstIpOf(fwd.exit!.flow))) {
    // A pod OVN does not route to (an underlay subnet without U2O): handed to the host.
    node = exitPort.slice(5);
    const dst = dstIpOf(fwd.exit!.flow);
    const target = podOfIp(s, dst)!;
    handoff = `leaves OVN to ${node}'s host stack on ovn0 (policy 29000): ${dst} is Pod ${target.namespace}/${target.name} on Subnet ${target.subnet}, which has no router port on ovn-cluster (underlay without U2O or logicalGateway), so the host must route it over the physical network; the cluster trace ends here`;
    forward.step("host", `${node}/ovn0`, handoff, fwd.exit!.flow, { outcome: "drop" });
  } else if (exitPort?.startsWith("node-")) {
    node = exitPort.slice(5);
    const n = s.nodes.find((x) => x.name === node)!;
    delivered = true;
    const jn = cl.nodes.find((x) => x.name === node);
    if (n.internalIp === input.to || jn?.joinIp === input.to || jn?.joinIp6 === input.to) {
      hostNote = `delivered to ${node}'s host network stack on ovn0 (${input.to} is the node's own address)`;
    } else {
      const sub = o.pod ? s.subnets.find((x) => x.name === o.pod!.subnet) : undefined;
      hostNote = sub?.natOutgoing
        ? `reaches ${node}'s host stack on ovn0; Subnet ${sub.name} has natOutgoing, so kube-ovn-cni's iptables MASQUERADE rewrites the source to ${n.internalIp} and the host routes it out (the outside is not modelled)`
        : `reaches ${node}'s host stack on ovn0 and is routed out with the pod's own source address (natOutgoing off; the outside is not modelled)`;
    }
    forward.step("host", `${node}/ovn0`, hostNote, fwd.exit!.flow, { outcome: "deliver" });
  } else if (exitPort?.startsWith("localnet.")) {
    node = o.chassis;
    handoff = `leaves OVN through ${exitPort} on ${o.chassis} onto the physical network; the cluster trace ends here`;
    forward.step(
      "physical",
      `${o.chassis}/${exitPort}`,
      `leaves OVN through ${exitPort} on ${o.chassis} onto the physical network (the cluster trace stops here; \`ovnsim trace\` from a client covers the physical side)`,
      fwd.exit!.flow,
      { outcome: "drop" },
    );
  } else if (exitPort) {
    forward.step("ovn", `output ${exitPort}`, `output to ${exitPort}`, fwd.exit!.flow);
  }
  // The reply, from where the request arrived.
  let reply: TraceStep | null = null;
  let replyDelivered: boolean | null = null;
  let replySourceIp: string | null = null;
  if (delivered && fwd.exit) {
    const rf = fwd.exit.flow;
    let ro: Origin | undefined;
    if (dstPod) ro = originOf(w, `${dstPod.namespace}/${dstPod.name}`);
    else if (node) ro = originOf(w, node);
    if (ro) {
      // A hairpinned request arrives from the VIP (ct_snat_to_vip): the backend answers the VIP.
      const hairpin: HairpinSession[] =
        fwd.backend && svcSpec && srcIpOf(rf) !== srcIpOf(f)
          ? [
              {
                vip: srcIpOf(rf),
                vipPort: port,
                backend: fwd.backend.ip,
                backendPort: fwd.backend.port,
                clientPort: rf.tp_src,
                proto: rf.nw_proto,
              },
            ]
          : [];
      const peer = hairpin.length ? srcIpOf(rf) : srcIpOf(f);
      const back = firstHopMac(w, ro, peer);
      const src = { mac: ro.mac, ip: dstIpOf(rf) };
      const r = flowOf(src, back.mac, peer, proto, rf.tp_dst, rf.tp_src, true);
      const unDnat =
        fwd.backend && svcSpec
          ? { vip: input.to, vipPort: port, clientPort: o.lsp, clientSwitch: o.datapath }
          : undefined;
      const rl = runLeg(w, ro, r, "reply", `reply ${src.ip} → ${peer}`, back.why, unDnat, hairpin);
      frames.push(...rl.frames);
      replyDelivered = rl.exit?.port === o.lsp;
      replySourceIp = rl.exit ? srcIpOf(rl.exit.flow) : null;
      if (kp && rl.exit && replyDelivered) {
        // The host's conntrack reverses kube-proxy's DNAT and the MASQUERADE.
        const back6 = isV6(input.to);
        const un = back6
          ? { ...rl.exit.flow, ipv6_src: parseIp6(input.to), ipv6_dst: parseIp6(kp.hostSrc), tp_src: port }
          : { ...rl.exit.flow, nw_src: parseIp4(input.to), nw_dst: parseIp4(kp.hostSrc), tp_src: port };
        const rs = new StepBuilder("host", "reply", rl.step.summary, o.chassis);
        rs.add(rl.step);
        rs.step(
          "conntrack",
          `${o.chassis} host conntrack`,
          `the host's conntrack reverses kube-proxy's NAT: source back to ${hostPort(input.to, port)}, destination back to ${kp.hostSrc} (the socket's address); delivered to the host's socket`,
          un,
          { outcome: "deliver" },
        );
        reply = rs.build();
        replySourceIp = input.to;
      } else reply = rl.step;
    }
  }
  const drop = fwd.drop;
  const verdict: Verdict = {
    delivered,
    pod: podName,
    node,
    announcingNode: null,
    backend: kp ? hostPort(kp.ip, kp.port) : fwd.backend ? hostPort(fwd.backend.ip, fwd.backend.port) : null,
    backendLocal: (fwd.backend || kp) && dstPod ? dstPod.node === o.chassis : null,
    clientIpPreserved:
      delivered && fwd.exit
        ? !kp && srcIpOf(fwd.exit.flow) === srcIpOf(f) && !/MASQUERADE/.test(hostNote ?? "")
        : null,
    replyDelivered,
    replySourceIp,
    droppedAt: drop
      ? { layer: "ovn", where: drop.where, reason: drop.reason }
      : handoff && exitPort
        ? { layer: exitPort.startsWith("node-") ? "host" : "physical", where: exitPort, reason: handoff }
        : null,
  };
  return { doc: clusterDoc(w, input, port, proto, forward, reply, verdict), frames };
}

/**
 * A pod's packet to a ClusterIP that reached a node's host stack on ovn0 (kube-ovn policy 29000
 * or the U2O "no load balancer" 29400 reroute to the node's join IP). kube-ovn-cni's OVN-PREROUTING
 * marks ovn0 traffic from the subnets to the Service CIDR (0x4000) and kube-proxy's nat
 * KUBE-SERVICES DNATs it to an endpoint; OVN-POSTROUTING MASQUERADEs the marked packet to ovn0's
 * address, so it re-enters OVN from the node's port on join (pkg/daemon gateway_linux.go). A
 * Service without endpoints meets kube-proxy's filter KUBE-SERVICES REJECT instead.
 */
function viaHostKubeProxy(
  w: ClusterWorld,
  input: ClusterTraceInput,
  o: Origin,
  f: Flow,
  port: number,
  proto: "tcp" | "udp" | "icmp",
  forward: StepBuilder,
  fwd: Leg,
  frames: WireFrame[],
  svc: Scenario["services"][number],
): { doc: TraceDocument; frames: readonly WireFrame[] } {
  const exit = fwd.exit!;
  const node = exit.port.slice(5);
  const host = originOf(w, node);
  const kp = kubeProxy(w, host, svc, input.to, port, proto, input.srcPort, input.kubeProxyPick);
  if ("reject" in kp) {
    const reason = `reaches ${node}'s host stack on ovn0 (OVN has no VIP for ${hostPort(input.to, port)}: Kube-OVN deletes a VIP without backends), where ${kp.reject.replace(/^kube-proxy on \S+ /, "kube-proxy ")}`;
    forward.step("host", `${node}/kube-proxy`, reason, exit.flow, { outcome: "drop" });
    return {
      doc: clusterDoc(w, input, port, proto, forward, null, {
        ...NO_VERDICT,
        node,
        droppedAt: { layer: "host", where: `${node}/kube-proxy`, reason },
      }),
      frames,
    };
  }
  // kube-ovn-cni's ipset ovn40subnets holds the default VPC's overlay (and logicalGateway)
  // subnets only (getDefaultVpcSubnetsCIDR): an underlay pod's packet is marked by kube-proxy's
  // KUBE-MARK-MASQ instead, its source being outside the cluster CIDR kube-proxy is given.
  const podSub = w.scenario.subnets.find((x) => x.name === o.pod?.subnet);
  const cs = w.scenario.cluster?.subnets.find((x) => x.name === podSub?.name);
  const mark =
    podSub && underlayOf(w.scenario, podSub) && !cs?.logicalGateway
      ? `kube-proxy's KUBE-SVC chain marks it for masquerade (KUBE-MARK-MASQ, 0x4000: ${srcIpOf(f)} of underlay Subnet ${podSub.name} is outside the pod CIDR kube-proxy is given, and not in kube-ovn-cni's ovn40subnets ipset)`
      : `kube-ovn-cni's OVN-PREROUTING marks it (0x4000: from ovn40subnets to ovn40services on ovn0)`;
  forward.step(
    "host",
    `${node}/kube-proxy`,
    `reaches ${node}'s host stack on ovn0; ${mark}, kube-proxy (iptables) DNATs ${hostPort(input.to, port)} → KUBE-SVC → endpoint ${hostPort(kp.ip, kp.port)} (picked by a hash of node, VIP and port), and the 0x4000 mark has the source ${srcIpOf(f)} MASQUERADEd to ovn0's ${srcIpOf(kp.flow)}; back into OVN on ${nodePortName(node)}`,
    kp.flow,
  );
  const leg2 = runLeg(w, host, kp.flow, "forward", `${host.label} → ${hostPort(kp.ip, kp.port)}`, kp.why);
  forward.add(leg2.step);
  frames.push(...leg2.frames);
  const dstPod = leg2.exit ? w.scenario.pods.find((p) => p.lsp === leg2.exit!.port) : undefined;
  let reply: TraceStep | null = null;
  let replyDelivered: boolean | null = null;
  let replySourceIp: string | null = null;
  if (dstPod && leg2.exit) {
    forward.step(
      "kube",
      `pod ${dstPod.namespace}/${dstPod.name}`,
      `delivered to Pod ${dstPod.namespace}/${dstPod.name} on ${dstPod.node}`,
      leg2.exit.flow,
      { outcome: "deliver" },
    );
    // The reply: to ovn0's address, the host's conntrack restores the pod and the ClusterIP, ovn0 → the pod.
    const ro = originOf(w, `${dstPod.namespace}/${dstPod.name}`);
    const rf = leg2.exit.flow;
    const back = firstHopMac(w, ro, srcIpOf(rf));
    const r1 = flowOf(
      { mac: ro.mac, ip: dstIpOf(rf) },
      back.mac,
      srcIpOf(rf),
      proto,
      rf.tp_dst,
      rf.tp_src,
      true,
    );
    const rl1 = runLeg(w, ro, r1, "reply", `reply ${dstIpOf(rf)} → ${srcIpOf(rf)}`, back.why);
    const rs = new StepBuilder(
      "host",
      "reply",
      `reply ${hostPort(kp.ip, kp.port)} → ${o.label} through ${node}'s host`,
      o.chassis,
    );
    rs.add(rl1.step);
    frames.push(...rl1.frames);
    if (rl1.exit?.port === host.lsp) {
      const gwMac = w.db.routers.flatMap((r) => r.ports).find((p) => p.name === routerPortName("join"))!.mac;
      const r2 = flowOf({ mac: host.mac, ip: input.to }, gwMac, srcIpOf(f), proto, port, f.tp_src, true);
      rs.step(
        "conntrack",
        `${node} host conntrack`,
        `the host's conntrack reverses kube-proxy's DNAT and the MASQUERADE: source back to ${hostPort(input.to, port)}, destination back to ${srcIpOf(f)}; the host routes it via ${joinGateway(w)} dev ovn0`,
        r2,
      );
      const rl2 = runLeg(
        w,
        host,
        r2,
        "reply",
        `reply ${input.to} → ${srcIpOf(f)}`,
        `the host routes ${srcIpOf(f)} via ${joinGateway(w)} dev ovn0`,
      );
      rs.add(rl2.step);
      frames.push(...rl2.frames);
      replyDelivered = rl2.exit?.port === o.lsp;
      replySourceIp = rl2.exit ? srcIpOf(rl2.exit.flow) : null;
    } else {
      replyDelivered = false;
    }
    reply = rs.build();
  }
  const drop = leg2.drop;
  return {
    doc: clusterDoc(w, input, port, proto, forward, reply, {
      ...NO_VERDICT,
      delivered: !!dstPod,
      pod: dstPod ? `${dstPod.namespace}/${dstPod.name}` : null,
      node: dstPod?.node ?? node,
      backend: hostPort(kp.ip, kp.port),
      backendLocal: dstPod ? dstPod.node === o.chassis : null,
      clientIpPreserved: dstPod ? false : null,
      replyDelivered,
      replySourceIp,
      droppedAt: drop ? { layer: "ovn", where: drop.where, reason: drop.reason } : null,
    }),
    frames,
  };
}

const NO_VERDICT: Verdict = {
  delivered: false,
  pod: null,
  node: null,
  announcingNode: null,
  backend: null,
  backendLocal: null,
  clientIpPreserved: null,
  replyDelivered: null,
  replySourceIp: null,
  droppedAt: null,
};

function clusterDoc(
  w: ClusterWorld,
  input: ClusterTraceInput,
  port: number,
  proto: "tcp" | "udp" | "icmp",
  forward: StepBuilder,
  reply: TraceStep | null,
  verdict: Verdict,
): TraceDocument {
  const findings: FindingView[] = diagnose(w.scenario)
    .filter((x) => CLUSTER_FINDINGS.has(x.code))
    .map((x) => ({ code: x.code, severity: x.severity, message: x.message, fix: x.fix }));
  return {
    schema: TRACE_SCHEMA,
    scenario: w.scenario.name,
    request: { from: input.from, to: input.to, port, proto },
    verdict,
    findings,
    missingLayers: [],
    forward: forward.build(),
    reply,
  };
}

/**
 * The subnet holding `ip` if the host has no route for it via ovn0: kube-ovn-cni's
 * reconcileRouters skips an underlay subnet unless it has logicalGateway, or U2O with the
 * subnet's enableLb off (enableLb defaults to the controller's --enable-lb).
 */
function notViaOvn0(s: Scenario, ip: string): Scenario["subnets"][number] | undefined {
  const sub = subnetOfAny(s, ip);
  if (!sub || !underlayOf(s, sub)) return undefined;
  const c = s.cluster?.subnets.find((x) => x.name === sub.name);
  if (c?.logicalGateway) return undefined;
  if (sub.u2oInterconnection && !s.controller.enableLb) return undefined;
  return sub;
}

/** FNV-1a, 32 bits: a stable stand-in for kube-proxy's random endpoint pick. */
function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

/**
 * The endpoint kube-proxy sends a node's own connection to `vip:port` to. kube-proxy's iptables
 * mode picks one at random (`-m statistic --mode random --probability 1/n` per KUBE-SEP chain);
 * the simulator needs one pick, the same every run: the ready endpoints of the Service in the
 * address family of `vip`, indexed by a hash of node, VIP and port. Every endpoint gives the
 * same path shape (join → ovn-cluster → the backend's subnet).
 */
export function kubeProxyEndpoint(
  s: Scenario,
  svc: Scenario["services"][number],
  vip: string,
  port: number,
  node: string,
  proto: "tcp" | "udp" | "icmp" = "tcp",
  pick?: string,
): { pod: PodSpec; ip: string; port: number } | undefined {
  const sp = svc.ports.find((p) => p.port === port && p.protocol === proto);
  if (!sp) return undefined;
  const v6 = isV6(vip);
  const eps = svc.endpoints
    .map((lsp) => s.pods.find((p) => p.lsp === lsp))
    .filter((p): p is PodSpec => p !== undefined && (!v6 || s.cluster?.podIp6[p.lsp] !== undefined));
  if (eps.length === 0) return undefined;
  const ipOf = (p: PodSpec) => (v6 ? s.cluster!.podIp6[p.lsp]! : p.ip);
  if (pick !== undefined) {
    const pod = eps.find((p) => ipOf(p) === pick);
    if (!pod)
      throw new SimError(
        "BAD_VALUE",
        `kube-proxy pick ${pick}: not a ready endpoint of Service ${svc.namespace}/${svc.name} (${eps.map(ipOf).join(", ")})`,
      );
    return { pod, ip: pick, port: sp.targetPort };
  }
  const pod = eps[fnv1a(`${node}|${vip}|${port}`) % eps.length]!;
  return { pod, ip: ipOf(pod), port: sp.targetPort };
}

/**
 * Every endpoint kube-proxy's random pick can take for `vip:port`: the Service's ready endpoints
 * in the VIP's address family ([] when it has none or no such port).
 */
export function kubeProxyEndpoints(
  s: Scenario,
  svc: Scenario["services"][number],
  vip: string,
  port: number,
  proto: "tcp" | "udp" | "icmp" = "tcp",
): { readonly pod: PodSpec; readonly ip: string; readonly port: number }[] {
  const sp = svc.ports.find((p) => p.port === port && p.protocol === proto);
  if (!sp) return [];
  const v6 = isV6(vip);
  const out: { pod: PodSpec; ip: string; port: number }[] = [];
  for (const lsp of svc.endpoints) {
    const pod = s.pods.find((x) => x.lsp === lsp);
    const ip = pod ? (v6 ? s.cluster?.podIp6[pod.lsp] : pod.ip) : undefined;
    if (pod && ip !== undefined) out.push({ pod, ip, port: sp.targetPort });
  }
  return out;
}

type KubeProxy =
  | { readonly reject: string }
  | {
      readonly flow: Flow;
      readonly gwMac: string;
      readonly why: string;
      readonly note: string;
      readonly ip: string;
      readonly port: number;
      /** The address the host's socket sent from (before MASQUERADE). */
      readonly hostSrc: string;
    };

/**
 * A node's own connection to a ClusterIP or LoadBalancer address: kube-proxy's iptables rules in
 * the host (nat OUTPUT → KUBE-SERVICES) DNAT it to an endpoint before it reaches ovn0. Traffic to
 * a ClusterIP from outside the cluster CIDR is marked KUBE-MARK-MASQ, and for a LoadBalancer IP
 * with externalTrafficPolicy Local, LOCAL-sourced traffic is masqueraded and sent to the
 * cluster-wide KUBE-SVC chain ("masquerade LOCAL traffic", "route LOCAL traffic … to service
 * chain"); KUBE-POSTROUTING's MASQUERADE then takes the address of the output device, ovn0 (the
 * node's join address). A Service without endpoints gets kube-proxy's REJECT rule.
 */
function kubeProxy(
  w: ClusterWorld,
  o: Origin,
  svc: Scenario["services"][number],
  vip: string,
  port: number,
  proto: "tcp" | "udp" | "icmp",
  srcPort: number | undefined,
  pick: string | undefined,
): KubeProxy {
  const s = w.scenario;
  const name = `${svc.namespace}/${svc.name}`;
  const sp = svc.ports.find((p) => p.port === port && p.protocol === proto);
  if (!sp)
    return {
      reject: `kube-proxy on ${o.chassis} has no rule for ${hostPort(vip, port)}/${proto}: Service ${name} exposes ${svc.ports.map((p) => `${p.port}/${p.protocol}`).join(", ") || "no port"}; the host routes the address by its own table, not into OVN (not modelled)`,
    };
  const ep = kubeProxyEndpoint(s, svc, vip, port, o.chassis, proto, pick);
  if (!ep)
    return {
      reject: `kube-proxy on ${o.chassis} REJECTs it (filter KUBE-SERVICES "has no endpoints" → icmp port-unreachable): Service ${name} has no ready endpoint${isV6(vip) ? " with an IPv6 address" : ""}`,
    };
  const v6 = isV6(vip);
  const src = v6 ? o.ip6 : o.ip;
  if (src === undefined)
    return { reject: `${o.label} has no IPv6 address on join (join is not dual-stack): ovn0 cannot send it` };
  const hostSrc = v6 ? src : (o.internalIp ?? o.ip);
  const gwMac = w.db.routers.flatMap((r) => r.ports).find((p) => p.name === routerPortName("join"))!.mac;
  const flow = flowOf({ mac: o.mac, ip: src }, gwMac, ep.ip, proto, srcPort ?? SRC_PORT, ep.port, false);
  const lb = s.services.find((x) => x === svc)?.vips.includes(vip);
  const chain = lb
    ? `KUBE-EXT (externalTrafficPolicy ${svc.externalTrafficPolicy}${svc.externalTrafficPolicy === "Local" ? ": LOCAL-sourced traffic is masqueraded and sent to the cluster-wide KUBE-SVC chain" : ""})`
    : "KUBE-SVC (KUBE-MARK-MASQ: the source is outside the cluster CIDR)";
  return {
    flow,
    gwMac,
    why: `after kube-proxy's NAT the host routes ${ep.ip} via ${v6 ? joinGateway6(w) : joinGateway(w)} dev ovn0`,
    note: `kube-proxy (iptables) on ${o.chassis}: ${hostPort(vip, port)} → KUBE-SERVICES → ${chain} → DNAT to endpoint ${hostPort(ep.ip, ep.port)} (Pod ${ep.pod.namespace}/${ep.pod.name}; kube-proxy picks an endpoint at random, ${pick !== undefined ? "this trace takes the one asked for" : "this trace takes one by a hash of node, VIP and port"}); KUBE-POSTROUTING MASQUERADEs the source ${hostSrc} to ovn0's ${src}`,
    ip: ep.ip,
    port: ep.port,
    hostSrc,
  };
}

/** The doctor's findings about the cluster topology (the seed's own findings stay with the seed trace). */
export const CLUSTER_FINDINGS: ReadonlySet<string> = new Set([
  "NETWORKPOLICY_EGRESS_TO_SERVICE_CIDR",
  "SERVICE_NO_ENDPOINTS",
  "NETWORKPOLICY_SELECTS_NOTHING",
  "U2O_EXCLUDE_IP_REROUTE",
  "PRIVATE_SUBNET_BLOCKS",
  "CENTRALIZED_GATEWAY_NODE_MISSING",
]);

export { packetView };

/**
 * The connection a cluster trace's request left in conntrack: the chassis of every OVN step of
 * its forward leg whose logical flows committed it (`ct_commit`, `ct_lb_mark(backends=…)`), and
 * the backend its DNAT chose. Carry it as {@link ClusterTraceInput.conn} to trace the
 * connection's next packet.
 */
export function clusterConnection(w: ClusterWorld, doc: TraceDocument): ClusterConnection {
  const nodes = new Set(w.scenario.nodes.map((n) => n.name));
  const chassis = new Set<string>();
  for (const { step } of walkSteps(doc.forward)) {
    if (step.layer !== "ovn" || !step.detail || step.device === undefined || !nodes.has(step.device))
      continue;
    if (/\bct_commit\b|ct_lb(?:_mark)?\(backends=/.test(step.detail)) chassis.add(step.device);
  }
  return { committed: chassis.size > 0, chassis: [...chassis].sort(), backend: doc.verdict.backend };
}

/**
 * The node whose MetalLB speaker a pod's request to `to` goes to at layer 2 (the VIP inside the
 * pod's own subnet: the announcer answers its ARP), or null when the announcer is not on the
 * in-cluster path (the packet goes to the subnet's gateway, and the switch's load balancer
 * DNATs it where it enters OVN).
 */
export function clusterAnnouncerOnPath(
  w: ClusterWorld,
  from: string,
  to: string,
  fromKind?: "pod" | "node",
): string | null {
  const o = originOf(w, from, fromKind);
  if (o.kind !== "pod") return null;
  return firstHopMac(w, o, to).announcer ?? null;
}
