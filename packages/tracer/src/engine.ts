/**
 * The end-to-end trace: composes the layers the way the packet meets them, as `kubectl ko trace`
 * and `ovnkube-trace` chain ovn-trace and ofproto/trace, but from the external client:
 *
 *   @ovnsim/physical  client → gateway router (ARP for the gateway, then for the VIP, answered
 *                     by MetalLB's announcing node) → switch → the node's provider NIC (VLAN 341)
 *   @ovnsim/openflow  br-provider (Kube-OVN's cookie-0x1000 VIP flow, or NORMAL) → patch port →
 *                     br-int table 0 (the localnet entry strips the VLAN) → resubmit(,8)
 *   @ovnsim/ovn       the logical switch pipeline on that node's chassis (prefer-local LB DNAT,
 *                     l2_lkup) → output port
 *   @ovnsim/conntrack the DNAT connection in the localnet port's zone, which un-DNATs the reply
 *   br-int table 65   → the Pod's veth (delivered), or the localnet port back to the underlay
 *
 * and the reply from the Pod back the same way. Each layer's own trace is kept as the step's
 * `detail` (ofproto/trace and ovn-trace text) and its hops become steps; the packet is shown
 * wherever it changed. A data-plane failure is a step with outcome "drop", never an exception.
 */
import { Conntrack, type CtResult, formatCtState } from "@ovnsim/conntrack";
import {
  type Finding,
  type PodSpec,
  type Scenario,
  diagnose,
  electAnnouncer,
  localnetPortName,
  providerPatchPort,
  subnetOfIp,
  underlayOf,
  podVethName,
} from "@ovnsim/kube";
import {
  FLOW_WORDS,
  type Flow,
  IP_PROTO,
  SimError,
  TCP_FLAG,
  formatIp4,
  formatIp6,
  formatMac,
  flowToKey,
  makeFlow,
  parseIp4,
  parseIp6,
  parseMac,
  withFlow,
} from "@ovnsim/packet";
import * as physical from "@ovnsim/physical";
import {
  type DropPoint,
  StepBuilder,
  TRACE_SCHEMA,
  type TraceDocument,
  type TraceRequest,
  type TraceStep,
  type Verdict,
  type WireFrame,
  findDrop,
  hostPort,
  lazyProperty,
  packetView,
  walkSteps,
} from "./model.js";
import { type BrIntWorld, type Datapath, installBrInt } from "./brint.js";
import { brIntFollow } from "./brint-path.js";
import { type LogicalOutput, type LogicalRun, type OvnWorld, buildOvn, runLogical } from "./ovn.js";
import type { HairpinSession } from "@ovnsim/ovn";
import { type NodeOvs, type OvsRun, buildNodeOvs, logToPhy, runBridge } from "./ovs.js";

export interface TraceInput {
  /** A client, router, node or pod (`pod` or `namespace/pod`) name; default: the first client. */
  readonly from?: string;
  /** Destination IP (default: the first LoadBalancer VIP). */
  readonly to?: string;
  /** Destination port (default: the service port of the VIP, else 80). */
  readonly port?: number;
  readonly proto?: "tcp" | "udp" | "icmp";
  /** Source port (default 40000). */
  readonly srcPort?: number;
  /** Trace the reply too (default true). */
  readonly reply?: boolean;
  /**
   * TCP flags of the request (default SYN). When given, the ct state the logical pipeline sees is
   * not assumed `new` but looked up in the conntrack table of the node the packet reaches
   * (a mid-stream ACK of a connection that node never saw, after a failover).
   */
  readonly tcpFlags?: number;
}

/** Everything built once per scenario; traces run against it and update its state (ARP, MACs, conntrack). */
export interface Simulation {
  readonly scenario: Scenario;
  readonly findings: readonly Finding[];
  readonly net: physical.PhysicalNetwork | null;
  readonly metallb: physical.MetalLB | null;
  readonly ovs: ReadonlyMap<string, NodeOvs>;
  readonly bridges: ReadonlyMap<string, ProviderBridge>;
  readonly ovn: OvnWorld;
  /** Each node's own conntrack (one datapath per node): the forward commits and replies on that node. */
  readonly ctByNode: Map<string, Conntrack>;
  /** Load-balancer hairpin connections (a backend that reached itself through a VIP). */
  readonly hairpins: HairpinSession[];
  readonly missing: readonly string[];
  /**
   * How br-int runs: "logical" (default: table 0 hands the packet to OVN's logical-pipeline
   * executor, table 65 takes it back) or "openflow" (br-int runs ovn-controller's flows).
   */
  readonly datapath?: Datapath;
  /** `--datapath openflow`: the cookie index behind the br-int steps' `logical` annotations. */
  readonly brInt?: BrIntWorld;
}

export interface SimulationOptions {
  /** "logical" (default) or "openflow": see `Simulation.datapath`. */
  readonly datapath?: Datapath;
  /** A simulation of the same scenario whose compiled parts are shared (see createSimulation). */
  readonly reuse?: Simulation;
}

/** br-provider as the physical network sees it: the OpenFlow package's bridge behind physical's seam. */
export class ProviderBridge implements physical.AttachedBridge {
  readonly runs: OvsRun[] = [];
  /** What OVN sends back through the patch port for a frame that entered it (a pod's ARP answer). */
  answer?: (toOvn: Flow) => physical.BridgeAnswer[];
  constructor(
    readonly name: string,
    readonly ovs: NodeOvs,
    /** Stateful conntrack per node (`--datapath openflow`: br-int's ct() runs through it). */
    readonly ct?: Map<string, Conntrack>,
  ) {}
  receive(frame: Flow, inPort: string, _now: number): physical.BridgeResult {
    const table = this.ct?.get(this.ovs.node);
    const r = runBridge(this.ovs, this.name, inPort, frame, table ? { conntrack: table } : {});
    if (table && r.result.conntrack) this.ct!.set(this.ovs.node, r.result.conntrack);
    this.runs.push(r);
    const outputs: physical.BridgeOutput[] = r.exits
      .filter((e) => e.bridge === this.name)
      .map((e) => ({ port: e.port, frame: e.flow }));
    if (r.toOvn) {
      const patch = this.ovs.dataplane.bridges
        .find((b) => b.name === this.name)
        ?.ports.find((p) => p.type === "patch");
      if (patch) outputs.push({ port: patch.name, frame: r.crossing ?? r.toOvn });
    }
    const answers = r.toOvn && this.answer ? this.answer(r.toOvn) : [];
    // The ofproto/trace text is rendered only if the step's detail is read.
    return {
      outputs,
      trace: () => r.text.replace(/\n+$/, "").split("\n"),
      ...(answers.length ? { answers } : {}),
    };
  }
}

function topologyOf(s: Scenario): physical.TopologySpec {
  const hosts: physical.HostSpec[] = [];
  for (const c of s.physical.clients) {
    hosts.push({
      name: c.name,
      role: "client",
      nics: [
        {
          name: "eth0",
          mac: c.mac,
          addresses: [`${c.ip}/${c.plen}`, ...(c.ip6 ? [`${c.ip6}/${c.plen6 ?? 64}`] : [])],
        },
      ],
      routes: [
        ...(c.gateway ? [{ dst: "default", via: c.gateway }] : []),
        ...(c.gateway6 ? [{ dst: "default", via: c.gateway6 }] : []),
      ],
    });
  }
  for (const r of s.physical.routers) {
    hosts.push({
      name: r.name,
      role: "router",
      forwarding: true,
      nics: r.interfaces.map((f) => ({
        name: f.name,
        mac: f.mac,
        addresses: [`${f.ip}/${f.plen}`, ...(f.ip6 ? [`${f.ip6}/${f.plen6 ?? 64}`] : [])],
      })),
    });
  }
  const vlanSub = s.physical.metallbInterface;
  for (const n of s.nodes) {
    const provs = [...new Set(s.vlans.map((v) => v.provider))].sort();
    const bridges: physical.HostBridgeSpec[] = [];
    const nics: physical.NicSpec[] = [{ name: n.nic, mac: n.nicMac }];
    for (const p of provs) {
      const br = `br-${p}`;
      const vids = s.vlans.filter((v) => v.provider === p && v.id > 0).map((v) => v.id);
      const patches = s.subnets
        .filter(
          (x) =>
            underlayOf(s, x)?.provider === p && s.pods.some((q) => q.subnet === x.name && q.node === n.name),
        )
        .map((x) => providerPatchPort(x.name));
      bridges.push({
        name: br,
        ports: [{ name: n.nic, vlanMode: "trunk", trunks: vids }],
        ovsPorts: patches,
      });
      nics.push({ name: br, macFrom: n.nic });
    }
    // `<if>.<vid>`: a kernel VLAN device on the NIC or on a bridge's internal port
    // (`br-provider.341`: its frames enter br-provider tagged, as `ip link add link br-provider
    // name br-provider.341 type vlan id 341` makes them).
    const m = /^(.*)\.(\d+)$/.exec(vlanSub);
    const parent = m?.[1];
    if (m && parent && nics.some((x) => x.name === parent) && Number(m[2]) >= 1 && Number(m[2]) <= 4094) {
      nics.push({ name: vlanSub, parent, vid: Number(m[2]) });
    }
    hosts.push({ name: n.name, role: "node", nics, bridges });
  }
  const switches: physical.SwitchSpec[] = s.physical.switches.map((sw) => ({
    name: sw.name,
    ports: sw.ports.map((p) => ({
      name: p.name,
      vlanMode: p.vlanMode,
      ...(p.vlanMode === "access" ? { tag: p.tag ?? 0 } : {}),
      ...(p.trunks.length > 0 ? { trunks: p.trunks } : {}),
    })),
  }));
  const links: physical.LinkSpec[] = s.physical.switches.flatMap((sw) =>
    sw.ports.map((p) => ({ a: `${sw.name}:${p.name}`, b: p.peer })),
  );
  return { hosts, switches, links };
}

/**
 * Builds the layers for a scenario. With `reuse` (a simulation of the same scenario, logical
 * datapath), the compiled parts that hold no per-packet state — northd's flows and each node's
 * OpenFlow bridges — are shared, and everything a trace changes (MAC tables, ARP caches,
 * MetalLB, conntrack) is fresh: the same result as a new simulation, without recompiling.
 */
export function createSimulation(s: Scenario, opts: SimulationOptions = {}): Simulation {
  const missing: string[] = [];
  const ovs = new Map<string, NodeOvs>();
  const datapath = opts.datapath ?? "logical";
  const r = opts.reuse;
  // br-int in OpenFlow adds to the nodes' bridges: only logical simulations share them.
  const shared =
    r !== undefined && r.scenario === s && datapath === "logical" && r.brInt === undefined ? r : undefined;
  for (const n of s.nodes) {
    const o = shared?.ovs.get(n.name);
    ovs.set(n.name, o ? { ...o, macTables: new Map() } : buildNodeOvs(s, n.name));
  }
  const ovn = shared ? shared.ovn : buildOvn(s);
  const brInt = datapath === "openflow" ? installBrInt(s, ovn, ovs) : undefined;
  const ctByNode = new Map(s.nodes.map((n) => [n.name, Conntrack.empty()]));
  let net: physical.PhysicalNetwork | null = null;
  const bridges = new Map<string, ProviderBridge>();
  net = new physical.PhysicalNetwork(topologyOf(s));
  for (const n of s.nodes) {
    const o = ovs.get(n.name)!;
    for (const b of o.dataplane.bridges) {
      if (b.name === "br-int") continue;
      const pb = new ProviderBridge(b.name, o, brInt ? ctByNode : undefined);
      bridges.set(`${n.name}/${b.name}`, pb);
      net.attachBridge(n.name, pb);
    }
  }
  if (!brInt) {
    for (const [key, pb] of bridges) {
      const node = key.slice(0, key.indexOf("/"));
      pb.answer = (toOvn) => ovnArpAnswer(s, ovn, ovs.get(node)!, node, pb.name, toOvn);
    }
  }
  const metallb = attachMetallb(s, net);
  for (const b of bridges.values()) b.runs.length = 0;
  return {
    scenario: s,
    findings: diagnose(s),
    net,
    metallb,
    ovs,
    bridges,
    ovn,
    ctByNode,
    hairpins: [],
    missing,
    ...(brInt ? { datapath, brInt } : {}),
  };
}

/**
 * A pod's answer to an ARP request that entered its logical switch from the localnet port on
 * `node` (the physical router resolving a pod address on the underlay VLAN), as the logical
 * flows make it: ls_in_arp_rsp answers nothing that comes from a localnet port, ls_in_l2_lkup
 * floods the broadcast (`_MC_flood`), ovn-controller delivers it to this chassis's VIFs only (a
 * VIF on another chassis is reached through the localnet port the request came in by), and the
 * pod that holds the address answers from its own stack; its reply runs the pod's ingress
 * pipeline (`_MC_unknown` → the localnet port) and br-int table 65 back to br-provider.
 * IPv4 ARP only (an IPv6 neighbour solicitation from the underlay is not followed into OVN).
 */
function ovnArpAnswer(
  s: Scenario,
  ovn: OvnWorld,
  o: NodeOvs,
  node: string,
  bridge: string,
  toOvn: Flow,
): physical.BridgeAnswer[] {
  if (toOvn.dl_type !== 0x0806 || toOvn.nw_proto !== physical.ARP_OP.request) return [];
  // The logical pipelines keep no state for an ARP (no conntrack, ovn-trace's put_fdb/put_arp
  // change nothing), so the answer is a function of the compiled world and the frame: every
  // simulation sharing this world (the matrix's pairs, `createSimulation(s, { reuse })`) asks
  // again for each MetalLB gratuitous ARP, which floods a 100-port switch.
  // Keyed by the frame's whole flow key (every field can reach the answer's frames), hashed,
  // and compared word by word: formatting the flow as text for a key was most of the cost.
  let byPlace = ARP_ANSWERS.get(ovn);
  if (!byPlace) {
    byPlace = new Map();
    ARP_ANSWERS.set(ovn, byPlace);
  }
  const place = `${node} ${bridge} ${toOvn.vlans.length}`; // the key holds two VLAN headers
  let memo = byPlace.get(place);
  if (!memo) {
    memo = new Map();
    byPlace.set(place, memo);
  }
  const k = flowToKey(toOvn, ARP_KEY);
  let h = 0x811c9dc5;
  for (let i = 0; i < k.length; i++) h = Math.imul(h ^ k[i]!, 0x01000193);
  let list = memo.get(h);
  if (list) {
    for (const e of list) {
      let same = true;
      for (let i = 0; i < k.length && same; i++) same = e.key[i] === k[i];
      if (same) return e.out.slice();
    }
  } else {
    list = [];
    memo.set(h, list);
  }
  const out = Object.freeze(arpAnswer(s, ovn, o, node, bridge, toOvn));
  list.push({ key: k.slice(), out });
  return out.slice();
}

const ARP_KEY = new Uint32Array(FLOW_WORDS);
const ARP_ANSWERS = new WeakMap<
  OvnWorld,
  Map<string, Map<number, { readonly key: Uint32Array; readonly out: readonly physical.BridgeAnswer[] }[]>>
>();

function arpAnswer(
  s: Scenario,
  ovn: OvnWorld,
  o: NodeOvs,
  node: string,
  bridge: string,
  toOvn: Flow,
): physical.BridgeAnswer[] {
  const inport = portOfKey(ovn, Number(toOvn.metadata), toOvn.regs[14] ?? 0);
  const dp = inport ? ovn.portKeys.get(inport)?.datapath : undefined;
  if (!inport || !dp || localnetPortName(dp) !== inport) return [];
  const clean = withFlow(toOvn, { metadata: 0n, regs: ZERO_REGS, in_port: 0 });
  const lr = runLogical(ovn, node, inport, clean, []);
  const tpa = formatIp4(toOvn.nw_dst);
  const out: physical.BridgeAnswer[] = [];
  for (const req of lr.outputs) {
    const pod = s.pods.find((p) => p.lsp === req.port && p.node === node);
    if (!pod || pod.ip !== tpa) continue;
    const mac = parseMac(pod.mac);
    const reply = withFlow(req.flow, {
      dl_src: mac,
      dl_dst: toOvn.arp_sha,
      nw_proto: physical.ARP_OP.reply,
      nw_src: toOvn.nw_dst,
      nw_dst: toOvn.nw_src,
      arp_sha: mac,
      arp_tha: toOvn.arp_sha,
      vlans: [],
      metadata: 0n,
      regs: ZERO_REGS,
      in_port: 0,
    });
    const back = runLogical(ovn, node, pod.lsp, reply, []);
    for (const b of back.outputs) {
      if (b.port !== inport) continue;
      const key = ovn.portKeys.get(b.port);
      const lp = logToPhy(o, b.flow, { dp: key?.dp ?? 0, outport: key?.key ?? 0 });
      if (!lp?.port) continue;
      const peer = o.dataplane.bridges.flatMap((x) => x.ports).find((p) => p.name === lp.port)?.peer;
      if (!peer || !o.dataplane.bridges.find((x) => x.name === bridge)?.ports.some((p) => p.name === peer))
        continue;
      const how = (r: LogicalRun) =>
        [
          ...new Set(
            r.stages
              .filter((x) => /arp_rsp|l2_lkup|l2_unknown/.test(x.stage))
              .map((x) => `${x.stage} ${x.priority}`),
          ),
        ].join(", ");
      out.push({
        port: peer,
        frame: withFlow(lp.flow, { metadata: 0n, regs: ZERO_REGS }),
        note: `Pod ${pod.namespace}/${pod.name} answers ARP: ${tpa} is-at ${pod.mac} (the request entered ${dp} from ${inport}: ${how(lr)} flood it to the pod; the reply: ${how(back)} → ${inport})`,
      });
    }
  }
  return out;
}

/**
 * Plugs MetalLB's L2 speakers (@ovnsim/physical's MetalLB) into the physical network with the
 * scenario's pools, advertisements, nodes and services (endpoints = the selected pods, ready).
 * MetalLB as its code behaves (an enslaved interface gets no responder); the scenario's
 * `metallb.interface` is the only interface left to announce on.
 */
function otherInterfaces(s: Scenario): string[] {
  const keep = s.physical.metallbInterface;
  const names = new Set<string>();
  for (const n of s.nodes) {
    names.add(n.nic);
    for (const v of s.vlans) names.add(`br-${v.provider}`);
  }
  names.add(keep);
  names.delete(keep);
  return [...names].map((n) => `^${n.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}$`);
}

function attachMetallb(s: Scenario, net: physical.PhysicalNetwork): physical.MetalLB | null {
  const spec: physical.MetalLBSpec = {
    pools: s.pools.map((p) => ({
      name: p.name,
      addresses: p.addresses,
      autoAssign: p.autoAssign,
      avoidBuggyIPs: p.avoidBuggyIPs,
    })),
    advertisements: s.l2Advertisements.map((a) => ({
      name: a.name,
      ipAddressPools: a.ipAddressPools,
      nodeSelectors: a.nodeSelectors.map((m) => ({ matchLabels: m })),
      interfaces: a.interfaces,
    })),
    nodes: s.nodes.map((n) => ({ name: n.name, labels: n.labels })),
    speakers: s.nodes.filter((n) => n.speaker).map((n) => n.name),
    respectMaster: true,
    // The scenario names the one interface the speaker answers on: every other interface of the
    // node goes to MetalLB's announcedInterfacesToExclude.
    excludeInterfaces: [...physical.DEFAULT_EXCLUDE_INTERFACES, ...otherInterfaces(s)],
  };
  const services: physical.LBService[] = s.services
    .filter((x) => x.type === "LoadBalancer")
    .map((x) => ({
      namespace: x.namespace,
      name: x.name,
      type: "LoadBalancer" as const,
      externalTrafficPolicy: x.externalTrafficPolicy,
      loadBalancerIPs: x.vips,
      ports: x.ports
        .filter((p) => p.protocol !== "sctp")
        .map((p) => ({
          port: p.port,
          protocol: p.protocol === "udp" ? ("UDP" as const) : ("TCP" as const),
          targetPort: p.targetPort,
        })),
      endpoints: x.endpoints.map((lsp) => {
        const p = s.pods.find((q) => q.lsp === lsp);
        return { ...(p ? { nodeName: p.node, address: p.ip } : {}), ready: true };
      }),
    }));
  const m = new physical.MetalLB(net, spec, services);
  m.reconcile();
  // Let the gratuitous ARPs finish (5 s of virtual time), as on a cluster that has settled.
  net.advance(6);
  return m;
}

// ---------------------------------------------------------------------------------------------

export interface Ctx {
  readonly sim: Simulation;
  /** The next not-yet-shown br-provider run of the bridge at "host/bridge". */
  readonly bridgeRun: (at: string) => OvsRun | undefined;
  /** The packet being traced (forward or reply), to tell it from floods. */
  request: { dst: string; nw_proto: number } | null;
  /**
   * Every frame seen on a wire or port (for the pcap), or null when nobody asked for them
   * (`trace()`): then neither the frames nor their comments are made.
   */
  readonly frames: WireFrame[] | null;
  /** Virtual step counter for the hop budget. */
  hops: number;
  /** Look the forward packet's ct state up in the node's conntrack instead of assuming `new`. */
  readonly ctLookup: boolean;
  /** The forward packet's ct state where it entered OVN (node, zone, state, whether an entry existed). */
  ctSeen: { node: string; zone: number; state: string; found: boolean } | null;
}

const MAX_HOPS = 12;

/** Registers all zero (frozen, so withFlow shares it instead of copying). */
const ZERO_REGS: readonly number[] = Object.freeze(new Array<number>(16).fill(0));

/** No logical metadata and all registers 0. */
function isClean(f: Flow): boolean {
  if (f.metadata !== 0n) return false;
  if (f.regs === ZERO_REGS) return true;
  for (let i = 0; i < f.regs.length; i++) if (f.regs[i] !== 0) return false;
  return f.regs.length === 16;
}

export function physicalSteps(
  t: physical.Trace,
  into: StepBuilder,
  frames: WireFrame[] | null,
  bridgeRun?: (at: string) => OvsRun | undefined,
): void {
  let cur: StepBuilder | undefined;
  const flush = () => {
    if (cur) into.add(cur.build());
    cur = undefined;
  };
  let prev: physical.TraceEvent | undefined;
  // Only for the frames' comments (runTrace's pcap): the last run of each bridge, so a frame
  // handed through a patch port names br-int's entry rule; why a host sends (its route, the
  // resolution or ARP answer it makes), for the frame it sends next.
  const lastRun = frames ? new Map<string, OvsRun>() : null;
  const why = frames ? new Map<string, string>() : null;
  const route = frames ? new Map<string, string>() : null;
  for (const e of t.events) {
    const dup =
      prev && prev.kind === "send" && e.kind === "wire" && prev.at === e.at && prev.frame === e.frame;
    prev = e;
    if (dup) continue;
    const layer = e.kind === "metallb" ? "metallb" : e.kind === "bridge" ? "openflow" : "physical";
    // An event with a headline (a bridge's) renders the rest of its text only when the detail is read.
    const lazyRest = e.head !== undefined;
    let head: string | undefined;
    // The text after the first line; undefined when there is no second line (an empty one is kept).
    let restText: string | undefined;
    if (lazyRest) head = e.head;
    else {
      const nl = e.text.indexOf("\n");
      head = nl < 0 ? e.text : e.text.slice(0, nl);
      if (nl >= 0) restText = e.text.slice(nl + 1);
    }
    if (e.kind === "bridge" && bridgeRun) {
      // Say which rule decided, not only where the frame went.
      const r = bridgeRun(e.at);
      if (r) {
        head = `${head}: ${summarizeBridge(r)}`;
        lastRun?.set(e.at, r);
      }
    }
    const host = deviceOf(e.at);
    if (frames) {
      // Every hop that shows a frame (wire, switch port, bridge port, delivery), each frame once
      // per place, with who decided it.
      const text = head ?? "";
      if (e.kind === "route") route!.set(host, text);
      else if (e.kind === "metallb" || (e.kind === "host" && text.startsWith("answers")))
        why!.set(host, text);
      else if (e.kind === "neigh" && text.startsWith("resolving"))
        why!.set(host, text.replace(/^(resolving [^:]+):.*$/, "$1"));
      let note = head ?? e.kind;
      if ((e.kind === "wire" || e.kind === "send") && e.at.includes("/")) {
        const reason = why!.get(host) ?? route!.get(host);
        note = `${host} sends out of ${e.at.slice(host.length + 1)}${reason ? `: ${reason}` : ""}`;
        why!.delete(host);
      }
      if (e.frame && e.kind !== "host" && e.kind !== "neigh") {
        if (e.kind === "exit") {
          const entry = lastRun!
            .get(e.at.split(":")[0] ?? "")
            ?.rules.find((x) => x.bridge === "br-int" && x.table === 0);
          if (entry) note = `${note}; br-int table 0 priority ${entry.priority}: ${entry.actions}`;
        }
        const last = frames[frames.length - 1];
        if (!last || last.flow !== e.frame || last.link !== e.at)
          frames.push({ link: e.at, flow: e.frame, kind: e.kind, note: hopNote(e.kind, e.at, note) });
      }
    }
    const at = e.at;
    const device = host;
    const outcome =
      e.kind === "drop" ? ("drop" as const) : e.kind === "deliver" ? ("deliver" as const) : undefined;
    const restOf = lazyRest ? restOfEvent(e) : undefined;
    const where = whereOf(at, device, e.kind);
    if (e.depth === 0) {
      flush();
      cur = new StepBuilder(layer, where, head ?? e.kind, device).seen(into.last);
      if (e.frame) cur.show(e.frame);
      if (outcome) cur.end(outcome);
      if (restText) cur.setDetail(restText);
      else if (restOf) cur.setDetail(restOf);
    } else {
      const target = cur ?? into;
      const extra: Partial<TraceStep> = outcome
        ? restText !== undefined
          ? { device, outcome, detail: restText }
          : { device, outcome }
        : restText !== undefined
          ? { device, detail: restText }
          : { device };
      const st = target.step(layer, where, head ?? e.kind, e.frame, extra);
      if (restOf) lazyProperty(st, "detail", restOf);
    }
  }
  flush();
}

/** An event's text after its headline, rendered when the step's detail is first read. */
const restOfEvent = (e: physical.TraceEvent) => (): string => e.text.slice((e.head?.length ?? 0) + 1);

/** The device part of a place ("tor:p-node3" → "tor", "node3/br-provider:x" → "node3"), per place text. */
const DEVICE_OF = new Map<string, string>();
function deviceOf(at: string): string {
  let d = DEVICE_OF.get(at);
  if (d === undefined) {
    d = at.split(/[/:]/)[0] ?? at;
    if (DEVICE_OF.size >= 4096) DEVICE_OF.clear();
    DEVICE_OF.set(at, d);
  }
  return d;
}

/** The place without its device ("tor:p-node3" → "p-node3"), or the event kind; per place text. */
const WHERE_OF = new Map<string, string>();
function whereOf(at: string, device: string, kind: string): string {
  let w = WHERE_OF.get(at);
  if (w === undefined) {
    w = at.slice(device.length).replace(/^[/:]/, "");
    if (WHERE_OF.size >= 4096) WHERE_OF.clear();
    WHERE_OF.set(at, w);
  }
  return w || kind;
}

/** A frame's comment: who decided ("tor", "br-provider") and what, without the port the capture names. */
function hopNote(kind: string, at: string, note: string): string {
  if (kind === "switch") return `${at.split(":")[0]}: ${note}`;
  if (kind === "bridge" || kind === "exit") return `${at.split("/")[1]?.split(":")[0] ?? at}: ${note}`;
  return note;
}

export interface PathEnd {
  /** Which way the packet being followed goes. */
  phase: "forward" | "reply";
  delivered: { pod: PodSpec; flow: Flow; node: string } | null;
  /** The reply reached a pod (pod-to-pod traces). */
  replyPod: { pod: PodSpec; flow: Flow; node: string } | null;
  dnat: { node: string; backend: string; backendIp: string; vip: string } | null;
  clientDelivery: physical.Delivery | null;
}

/**
 * Frames a provider bridge sent out of the node's NIC go onto the underlay: each is captured,
 * injected into the physical network, and followed to wherever it is delivered or re-enters OVS.
 */
export function toUnderlay(
  ctx: Ctx,
  node: string,
  run: OvsRun,
  nicExits: readonly { readonly bridge: string; readonly port: string; readonly flow: Flow }[],
  root: StepBuilder,
  end: PathEnd,
  replyOf: Flow | null,
): void {
  const net = ctx.sim.net;
  for (const e of nicExits) {
    ctx.frames?.push({
      link: `${node}/${e.port}`,
      flow: e.flow,
      kind: "ovs",
      note: `${node}/${e.bridge}: ${summarizeBridge(run)}`,
    });
    if (!net) continue;
    const t = net.inject(node, e.port, e.flow);
    const ph = new StepBuilder("physical", "underlay", "back on the underlay", node).seen(root.last);
    physicalSteps(t, ph, ctx.frames, ctx.bridgeRun);
    root.add(ph.build());
    for (const d of t.delivered) if (replyOf && dstIp(d.frame) === srcIp(replyOf)) end.clientDelivery = d;
    followExits(ctx, t.exits, root, end, replyOf);
  }
}

/** Continues from frames that left the physical network into OVS ports. */
export function followExits(
  ctx: Ctx,
  exits: readonly physical.BridgeExit[],
  root: StepBuilder,
  end: PathEnd,
  replyOf: Flow | null,
): void {
  const { sim } = ctx;
  for (const ex of exits) {
    if (++ctx.hops > MAX_HOPS) {
      root.step("ovn", "hop limit", `stopped after ${MAX_HOPS} hops`, undefined, { outcome: "drop" });
      return;
    }
    const pb = sim.bridges.get(`${ex.host}/${ex.bridge}`);
    if (sim.brInt) {
      // OpenFlow br-int: the provider bridge's run crossed br-int already (recirculations and
      // NAT included); it is found by the packet that entered it.
      let ofRun: OvsRun | undefined;
      const runs = pb?.runs ?? [];
      for (let i = runs.length - 1; i >= 0; i--) {
        const r = runs[i]!;
        if (r.toOvn && (r.crossing === ex.frame || r.toOvn === ex.frame)) {
          ofRun = r;
          break;
        }
      }
      const entered = ofRun?.result.passes[0]?.packets?.start;
      if (ofRun && entered && isTraced(entered, ctx.request))
        brIntFollow(ctx, ex.host, ofRun, root, end, replyOf, false);
      continue;
    }
    let run: OvsRun | undefined;
    const runs = pb?.runs ?? [];
    for (let i = runs.length - 1; i >= 0; i--) {
      const r = runs[i]!;
      if (r.toOvn && sameL3(r.toOvn, ex.frame)) {
        run = r;
        break;
      }
    }
    if (!run?.toOvn) continue;
    // Only the traced packet is followed into OVN; floods (ARP, other traffic) are noted by physical.
    if (!isTraced(ex.frame, ctx.request)) continue;
    intoOvn(ctx, ex.host, run.toOvn, root, end, replyOf);
  }
}

const isV6Flow = (f: Flow): boolean => f.dl_type === 0x86dd;
/** An output whose source address and port are conntrack's (a reply's un-DNAT). */
const withSourceOf = (o: { port: string; flow: Flow }, ct: Flow): { port: string; flow: Flow } => {
  const v6 = isV6Flow(o.flow);
  if (ct.tp_src === o.flow.tp_src && (v6 ? ct.ipv6_src === o.flow.ipv6_src : ct.nw_src === o.flow.nw_src))
    return o; // conntrack translated nothing
  return {
    port: o.port,
    flow: withFlow(
      o.flow,
      v6 ? { ipv6_src: ct.ipv6_src, tp_src: ct.tp_src } : { nw_src: ct.nw_src, tp_src: ct.tp_src },
    ),
  };
};
/** A packet's source / destination address as text, either family. */
export const srcIp = (f: Flow): string => (isV6Flow(f) ? formatIp6(f.ipv6_src) : formatIp4(f.nw_src));
export const dstIp = (f: Flow): string => (isV6Flow(f) ? formatIp6(f.ipv6_dst) : formatIp4(f.nw_dst));
/** The pod holding an address of either family. */
export function podByAddr(s: Scenario, ip: string): PodSpec | undefined {
  return ip.includes(":")
    ? s.pods.find((p) => s.cluster?.podIp6[p.lsp] === ip)
    : s.pods.find((p) => p.ip === ip);
}

function sameL3(a: Flow, b: Flow): boolean {
  return (
    a.dl_type === b.dl_type &&
    a.nw_src === b.nw_src &&
    a.nw_dst === b.nw_dst &&
    a.ipv6_src === b.ipv6_src &&
    a.ipv6_dst === b.ipv6_dst &&
    a.tp_src === b.tp_src &&
    a.tp_dst === b.tp_dst
  );
}

function isTraced(f: Flow, req: Ctx["request"]): boolean {
  if (!req) return true;
  return (
    (f.dl_type === 0x0800 || f.dl_type === 0x86dd) && f.nw_proto === req.nw_proto && dstIp(f) === req.dst
  );
}

const protoNum = (p: "tcp" | "udp" | "icmp", v6 = false): number =>
  p === "udp" ? IP_PROTO.udp : p === "icmp" ? (v6 ? IP_PROTO.icmpv6 : IP_PROTO.icmp) : IP_PROTO.tcp;

/** The ct states ovn-trace is given for a request's first packet and for its reply. */
const CT_NEW: readonly string[] = Object.freeze(["new", "new", "new", "new"]);
const CT_EST_RPL: readonly string[] = Object.freeze(["est|rpl", "est|rpl", "est|rpl", "est|rpl"]);

/** The logical port with tunnel key `key` on datapath `dp` (a reverse index per world, made once). */
function portOfKey(w: OvnWorld, dp: number, key: number): string | undefined {
  let byKey = PORT_OF_KEY.get(w);
  if (byKey === undefined) {
    byKey = new Map();
    // The first port of a (datapath, key) pair wins, as the scan over portKeys did.
    for (const [name, k] of w.portKeys)
      if (!byKey.has(k.dp * 0x10000 + k.key)) byKey.set(k.dp * 0x10000 + k.key, name);
    PORT_OF_KEY.set(w, byKey);
  }
  return key >= 0 && key < 0x10000 ? byKey.get(dp * 0x10000 + key) : undefined;
}
const PORT_OF_KEY = new WeakMap<OvnWorld, Map<number, string>>();

function intoOvn(
  ctx: Ctx,
  node: string,
  f: Flow,
  root: StepBuilder,
  end: PathEnd,
  replyOf: Flow | null,
): void {
  const { sim } = ctx;
  const s = sim.scenario;
  const inport = portOfKey(sim.ovn, Number(f.metadata), f.regs[14] ?? 0);
  if (!inport) {
    root.step("ovn", "br-int", `no logical port with tunnel key ${f.regs[14]} on datapath ${f.metadata}`, f, {
      outcome: "drop",
    });
    return;
  }
  const zone = f.regs[13] ?? 0;
  const clean = withFlow(f, { metadata: 0n, regs: ZERO_REGS, in_port: 0 });
  const forward = replyOf === null;
  let ct: readonly string[] = forward ? CT_NEW : CT_EST_RPL;
  const nodeCt = sim.ctByNode.get(node) ?? Conntrack.empty();
  let looked: CtResult | null = null;
  let natDst: { ip: string; port: number } | undefined;
  if (forward && ctx.ctLookup) {
    // ls_in_pre_stateful's ct_next in the inport's zone, on this node's datapath: what its
    // conntrack says about this packet (no commit; ct_lb_mark commits below if it DNATs).
    looked = nodeCt.process(clean, { zone, nat: {} });
    const st = formatCtState(looked.ctState);
    ct = Object.freeze([st, st, st, st]);
    ctx.ctSeen = { node, zone, state: st, found: !looked.created && looked.entry !== undefined };
    // An established DNAT connection: the argument-less ct_lb_mark (ct(…,nat) in br-int)
    // translates the packet to the backend the entry was committed with.
    if (looked.natApplied === "dnat") natDst = { ip: dstIp(looked.flow), port: looked.flow.tp_dst };
  }
  const lr = runLogical(sim.ovn, node, inport, clean, ct, natDst, sim.hairpins);
  const dpName = sim.ovn.portKeys.get(inport)?.datapath ?? "?";
  const said = saidOf(lr, inport);
  const sb = new StepBuilder("ovn", `logical switch ${dpName}`, said.summary, node).seen(root.last);
  sb.setDetail(() => lr.text);
  if (looked && ctx.ctSeen) {
    sb.step(
      "conntrack",
      `zone ${zone} on ${node}`,
      `ct_state=${ctx.ctSeen.state}: ${ctx.ctSeen.found ? "connection found in this node's conntrack" : "no entry for this connection in this node's conntrack"}`,
      looked.flow,
    );
  }
  for (const st of said.notable) sb.step("ovn", st.where, st.summary);
  // Conntrack: the forward DNAT is committed in the inport's zone; the reply is un-DNATed there.
  let outs: readonly LogicalOutput[] = lr.outputs;
  if (forward && lr.backend) {
    const b6 = lr.backend.ip.includes(":");
    const dnat = {
      kind: "dnat" as const,
      ip: b6 ? parseIp6(lr.backend.ip) : parseIp4(lr.backend.ip),
      port: lr.backend.port,
    };
    const r = nodeCt.process(clean, { zone, commit: true, nat: dnat });
    sim.ctByNode.set(node, r.table);
    const vip = hostPort(dstIp(clean), clean.tp_dst);
    const backend = hostPort(lr.backend.ip, lr.backend.port);
    const bpod = podByAddr(s, lr.backend.ip);
    const local = bpod?.node === node;
    sb.step(
      "lb",
      "ls_in_lb ct_lb_mark",
      `DNAT ${vip} → ${backend} (${local ? "backend on this chassis" : `backend on ${bpod?.node ?? "?"}`})`,
      r.flow,
    );
    sb.step(
      "conntrack",
      `zone ${zone}`,
      `${r.created ? "committed" : "found"} connection: ${r.notes.join("; ") || "dnat"}`,
    );
    end.dnat = { node, backend, backendIp: lr.backend.ip, vip };
    // The backend is the client itself: ls_in_nat_hairpin's ct_snat_to_vip SNATed the source.
    const hp = outs.find((o) => o.port === inport && srcIp(o.flow) !== srcIp(clean));
    if (hp) {
      sim.hairpins.push({
        vip: srcIp(hp.flow),
        vipPort: clean.tp_dst,
        backend: lr.backend.ip,
        backendPort: lr.backend.port,
        clientPort: clean.tp_src,
        proto: clean.nw_proto,
      });
      sb.step(
        "conntrack",
        "ls_in_nat_hairpin ct_snat_to_vip",
        `hairpin: the backend is the client itself; ct_snat_to_vip commits an SNAT (ovn-controller table 70, ct(commit,nat(src=VIP))): source ${srcIp(clean)} → ${srcIp(hp.flow)}, so the reply comes back through OVN; ls_in_hairpin sends it back out of ${inport}`,
        hp.flow,
      );
    }
  } else if (forward && lr.ctNat) {
    const vip = hostPort(dstIp(clean), clean.tp_dst);
    const backend = hostPort(lr.ctNat.ip, lr.ctNat.port);
    const bnode = podByAddr(s, lr.ctNat.ip)?.node;
    sb.step(
      "lb",
      "ls_in_pre_stateful ct_lb_mark",
      `established connection: its committed DNAT ${vip} → ${backend} applied (${bnode === node ? "backend on this chassis" : `backend on ${bnode ?? "?"}`})`,
      looked?.flow,
    );
    end.dnat = { node, backend, backendIp: lr.ctNat.ip, vip };
  } else if (!forward) {
    outs = outs.map((o) => {
      const p = s.pods.find((x) => x.lsp === o.port);
      if (p && o.port === inport) {
        // A hairpin reply looped back to its pod: its zone reverses the Service DNAT.
        const pz = sim.ovn.portKeys.get(o.port)?.key ?? 0;
        const here = sim.ctByNode.get(node) ?? Conntrack.empty();
        const r = here.process(o.flow, { zone: pz, nat: {} });
        sim.ctByNode.set(node, r.table);
        if (!r.natApplied) return o;
        sb.step(
          "conntrack",
          `zone ${pz} (${o.port})`,
          `reply of the hairpin session, un-SNATed by ct_snat and looped back by ls_in_hairpin; ${o.port}'s zone reverses the DNAT: source ${hostPort(srcIp(o.flow), o.flow.tp_src)} → ${hostPort(srcIp(r.flow), r.flow.tp_src)}`,
          r.flow,
        );
        return withSourceOf(o, r.flow);
      }
      if (p) return o; // pod-to-pod: no localnet zone
      // ls_out_pre_stateful's ct in the localnet port's zone on this node: only the node that
      // committed the DNAT (its ls_in_lb) can reverse it; another node's reply keeps the backend's
      // address, as real OVN's per-chassis conntrack does.
      const lz = sim.ovn.portKeys.get(o.port)?.key ?? 0;
      const r = (sim.ctByNode.get(node) ?? Conntrack.empty()).process(o.flow, { zone: lz, nat: {} });
      sim.ctByNode.set(node, r.table);
      if (r.natApplied) {
        sb.step(
          "conntrack",
          `zone ${lz} (${o.port})`,
          `reply of a DNAT connection: source ${hostPort(srcIp(o.flow), o.flow.tp_src)} → ${hostPort(srcIp(r.flow), r.flow.tp_src)}`,
          r.flow,
        );
      }
      return withSourceOf(o, r.flow);
    });
  }
  if (outs.length === 0) {
    sb.step("ovn", "no output", lr.dropReason ?? "dropped", undefined, { outcome: "drop" });
    root.add(sb.build());
    return;
  }
  root.add(sb.build());
  const o = sim.ovs.get(node)!;
  for (const out0 of outs) {
    // A VIF bound to another chassis is reached, on a switch with a localnet port, through that
    // localnet port (ovn-controller physical.c: no tunnel for localnet datapaths).
    const target = s.pods.find((p) => p.lsp === out0.port);
    const dp = sim.ovn.portKeys.get(out0.port)?.datapath;
    const viaLocalnet = target && target.node !== node && dp && sim.ovn.portKeys.has(localnetPortName(dp));
    const out = viaLocalnet ? { port: localnetPortName(dp), flow: out0.flow } : out0;
    if (viaLocalnet && inport === out.port) {
      root.step(
        "ovn",
        `logical port ${out0.port}`,
        `bound to ${target.node}, not ${node}; the packet came in from ${inport}, so it is not sent back out of it`,
        undefined,
        { device: node, outcome: "drop" },
      );
      continue;
    }
    if (viaLocalnet) {
      root.step(
        "ovn",
        `logical port ${out0.port}`,
        `bound to ${target.node}, not ${node}: sent out of ${out.port} onto the underlay`,
        undefined,
        {
          device: node,
        },
      );
    }
    const key = sim.ovn.portKeys.get(out.port);
    const lp = logToPhy(o, out.flow, { dp: key?.dp ?? 0, outport: key?.key ?? 0 });
    if (!lp?.port) {
      root.step(
        "openflow",
        "br-int table 65",
        `no physical port for logical port ${out.port} on ${node}`,
        out.flow,
        { outcome: "drop" },
      );
      continue;
    }
    // The packet as it leaves br-int: no logical metadata or registers (a logical output's
    // flow mostly has none already, so no copy).
    const phy = isClean(lp.flow) ? lp.flow : withFlow(lp.flow, { metadata: 0n, regs: ZERO_REGS });
    const pod = s.pods.find((p) => p.lsp === out.port);
    if (pod) {
      const local = pod.node === node;
      const step = new StepBuilder(
        "openflow",
        "br-int table 65",
        `output to ${lp.port} (${pod.lsp})`,
        node,
      ).seen(root.last);
      step.setDetail(`bridge("br-int")\n----------------\n${lp.flowText}`);
      step.show(phy);
      root.add(step.build());
      if (local && podVethName(pod) === lp.port) {
        ctx.frames?.push({
          link: `${node}/${lp.port}`,
          flow: phy,
          kind: "pod",
          note: `${logicalNote(lr)}; ${table65Note(lp.flowText)}`,
        });
        root.step(
          "kube",
          `pod ${pod.namespace}/${pod.name}`,
          `delivered to ${pod.name} (${dstIp(phy)}) on ${node}`,
          phy,
          {
            device: node,
            outcome: "deliver",
          },
        );
        if (end.phase === "reply") end.replyPod = { pod, flow: phy, node };
        else end.delivered = { pod, flow: phy, node };
      }
      continue;
    }
    // The localnet port: back out to the underlay through br-<provider>.
    const patch = lp.port;
    let provPort: string | undefined;
    for (const b of o.dataplane.bridges) {
      const p = b.ports.find((x) => x.name === patch);
      if (p) {
        provPort = p.peer;
        break;
      }
    }
    const prov = o.dataplane.bridges.find((b) => b.ports.some((p) => p.name === provPort));
    const step = new StepBuilder(
      "openflow",
      "br-int table 65",
      `output to ${patch} (${out.port})`,
      node,
    ).seen(root.last);
    step.setDetail(`bridge("br-int")\n----------------\n${lp.flowText}`);
    step.show(phy);
    root.add(step.build());
    ctx.frames?.push({
      link: `${node}/br-int:${patch}`,
      flow: phy,
      kind: "ovs",
      note: `${logicalNote(lr)}; ${table65Note(lp.flowText)}`,
    });
    if (!prov || !provPort) continue;
    const r = runBridge(o, prov.name, provPort, phy);
    const bs = new StepBuilder("openflow", prov.name, summarizeBridge(r), node).seen(root.last);
    bs.setDetail(() => r.text);
    for (const ex of r.exits)
      bs.step("openflow", `${ex.bridge} port ${ex.port}`, "leaves the bridge", ex.flow);
    root.add(bs.build());
    const nicExits = r.exits.filter(
      (e) => e.bridge === prov.name && sim.scenario.nodes.find((n) => n.name === node)?.nic === e.port,
    );
    if (nicExits.length === 0) {
      root.step("openflow", prov.name, "nothing leaves through the provider NIC", undefined, {
        outcome: "drop",
      });
    }
    toUnderlay(ctx, node, r, nicExits, root, end, replyOf);
  }
}

/** The logical stages that decided a packet's way, for a pcap comment: "ls_in_lb (table 13) priority 120…". */
function logicalNote(lr: LogicalRun): string {
  const st = lr.stages.filter((x) => NOTABLE.test(x.stage) && x.priority > 0);
  const parts = st.map((x) => `OVN ${x.stage} (table ${x.table}) priority ${x.priority}`);
  if (lr.backend) parts.push(`DNAT to ${hostPort(lr.backend.ip, lr.backend.port)}`);
  return parts.join(", ") || "OVN logical pipeline";
}

/** " 65. reg15=0x2,metadata=0x1, priority 100\n    output:x" → "br-int table 65 priority 100: output:x". */
function table65Note(flowText: string): string {
  const [head = "", ...acts] = flowText.split("\n");
  const prio = /priority (\d+)\s*$/.exec(head)?.[1] ?? "?";
  return `br-int table 65 priority ${prio}: ${acts.map((a) => a.trim()).join(",")}`;
}

const NOTABLE = /^ls_(in_(pre_lb|pre_stateful|lb|l2_lkup|l2_unknown)|out_(pre_lb|pre_stateful))$/;

/**
 * What a logical run's step says (its summary, and a line per notable stage), made once per
 * decision: runLogical hands out one stages list per decision it reuses, and the summary is
 * a function of that decision and the inport.
 */
interface LogicalSaid {
  readonly summary: string;
  readonly notable: readonly { readonly where: string; readonly summary: string }[];
}
const SAID = new WeakMap<LogicalRun["stages"], Map<string, LogicalSaid>>();
function saidOf(lr: LogicalRun, inport: string): LogicalSaid {
  let byInport = SAID.get(lr.stages);
  if (byInport === undefined) {
    byInport = new Map();
    SAID.set(lr.stages, byInport);
  }
  let said = byInport.get(inport);
  if (said === undefined) {
    said = {
      summary: summarizeLogical(lr, inport),
      notable: lr.stages
        .filter((st) => NOTABLE.test(st.stage))
        .map((st) => ({
          where: `${st.stage} (table ${st.table})`,
          summary: `priority ${st.priority}: ${st.match}`,
        })),
    };
    byInport.set(inport, said);
  }
  return said;
}

function summarizeLogical(lr: LogicalRun, inport: string): string {
  const lb = lr.stages.find((x) => x.stage === "ls_in_lb" && x.priority > 0);
  const skip = lr.stages.find((x) => x.stage === "ls_in_pre_lb" && x.priority === 105);
  const outs = lr.outputs.map((o) => o.port).join(", ");
  const parts = [`from ${inport}`];
  if (skip) parts.push("ls_in_pre_lb 105 skips conntrack (ls_ct_skip_dst_lport_ips)");
  if (lb) parts.push(`ls_in_lb ${lb.priority}`);
  if (lr.backend) parts.push(`DNAT → ${hostPort(lr.backend.ip, lr.backend.port)}`);
  parts.push(outs ? `output to ${outs}` : `dropped: ${lr.dropReason ?? "no output"}`);
  return parts.join("; ");
}

export function summarizeBridge(r: OvsRun): string {
  const first = r.rules[0];
  const rule = first
    ? `table ${first.table} priority ${first.priority}${first.cookie !== "0" ? ` cookie ${first.cookie}` : ""}: ${first.actions}`
    : "no rule matched";
  return `${rule}${r.bridges.length > 1 ? ` (then ${r.bridges.slice(1).join(", ")})` : ""}`;
}

// ---------------------------------------------------------------------------------------------

/** Targets already resolved, per scenario (the services do not change while a simulation runs). */
const TARGETS = new WeakMap<Scenario, Map<string, Target>>();
interface Target {
  readonly to: string;
  readonly port: number;
  readonly proto: "tcp" | "udp" | "icmp";
}

function defaultTarget(s: Scenario, input: TraceInput): Target {
  let byKey = TARGETS.get(s);
  if (!byKey) {
    byKey = new Map();
    TARGETS.set(s, byKey);
  }
  const key = `${input.to ?? ""}|${input.port ?? ""}|${input.proto ?? ""}`;
  let t = byKey.get(key);
  if (t) return t;
  const proto = input.proto ?? "tcp";
  const lbs = s.services.filter((x) => x.type === "LoadBalancer" && x.vips.length > 0);
  const to0 = input.to ?? lbs[0]?.vips[0];
  if (!to0)
    throw new SimError("UNKNOWN_OBJECT", "no destination: give --to (the scenario has no LoadBalancer VIP)");
  const to = to0.includes(":") ? formatIp6(parseIp6(to0, "--to")) : formatIp4(parseIp4(to0, "--to"));
  const svc = s.services.find((x) => x.vips.includes(to));
  const port = input.port ?? svc?.ports.find((p) => p.protocol === proto)?.port ?? svc?.ports[0]?.port ?? 80;
  t = { to, port, proto };
  byKey.set(key, t);
  return t;
}

/** Traces one request (and its reply) through a simulation. */
export function trace(sim: Simulation, input: TraceInput = {}): TraceDocument {
  return traceRun(sim, input, false).doc;
}

/** The trace and every frame seen on a wire or port along it (for the pcap). */
export function runTrace(
  sim: Simulation,
  input: TraceInput = {},
): {
  doc: TraceDocument;
  frames: readonly WireFrame[];
  /** With `tcpFlags`: the ct state the request met where it entered OVN. */
  ct: {
    readonly node: string;
    readonly zone: number;
    readonly state: string;
    readonly found: boolean;
  } | null;
} {
  const r = traceRun(sim, input, true);
  const frames = r.frames.map(
    (f, i): WireFrame => ({ ...f, phase: i >= r.replyStart ? "reply" : "forward" }),
  );
  return { doc: r.doc, frames, ct: r.ct };
}

/**
 * The trace, and with `keepFrames` the frames on every wire and port (runTrace's, for the
 * pcap), without their phase; trace() returns the document only, so makes no frames.
 */
function traceRun(
  sim: Simulation,
  input: TraceInput,
  keepFrames: boolean,
): { doc: TraceDocument; frames: readonly WireFrame[]; replyStart: number; ct: Ctx["ctSeen"] } {
  const s = sim.scenario;
  const { to, port, proto } = defaultTarget(s, input);
  const from = input.from ?? s.physical.clients[0]?.name;
  if (!from) throw new SimError("UNKNOWN_OBJECT", "no source: the scenario has no client; give --from");
  const request: TraceRequest = { from, to, port, proto };
  for (const b of sim.bridges.values()) b.runs.length = 0;
  const cursor = new Map<string, number>();
  const bridgeRun = (at: string): OvsRun | undefined => {
    const pb = sim.bridges.get(at);
    if (!pb) return undefined;
    const i = cursor.get(at) ?? 0;
    cursor.set(at, i + 1);
    return pb.runs[i];
  };
  const ctx: Ctx = {
    sim,
    bridgeRun,
    frames: keepFrames ? [] : null,
    hops: 0,
    request: { dst: to, nw_proto: protoNum(proto, to.includes(":")) },
    ctLookup: input.tcpFlags !== undefined,
    ctSeen: null,
  };
  const end: PathEnd = {
    phase: "forward",
    delivered: null,
    replyPod: null,
    dnat: null,
    clientDelivery: null,
  };
  const fwd = new StepBuilder("physical", "forward", `${from} → ${hostPort(to, port)}`);
  const owner = vipOwners(sim, to, port);
  if (owner) fwd.step("kube", "Service", owner);
  const srcPort = input.srcPort ?? 40000;
  const isHost = sim.net?.topology.hosts.has(from) ?? false;
  const pod = s.pods.find((p) => p.name === from || `${p.namespace}/${p.name}` === from);
  let sentFlow: Flow | null = null;
  if (isHost && sim.net) {
    const t = sim.net.send(from, {
      dst: to,
      proto,
      tpSrc: proto === "icmp" ? 8 : srcPort,
      tpDst: proto === "icmp" ? 0 : port,
      tcpFlags: proto === "tcp" ? (input.tcpFlags ?? TCP_FLAG.syn) : 0,
    });
    const sent = t.events.find((e) => e.kind === "send" && e.frame);
    sentFlow = sent?.frame ?? null;
    physicalSteps(t, fwd, ctx.frames, ctx.bridgeRun);
    followExits(ctx, t.exits, fwd, end, null);
  } else if (pod) {
    sentFlow = podSend(ctx, pod, to, port, proto, srcPort, fwd, end, null);
  } else {
    throw new SimError("UNKNOWN_OBJECT", `--from ${from}: no client, router, node or pod of that name`);
  }
  const forward = fwd.build();

  // The reply, from where the request was delivered.
  let reply: TraceStep | null = null;
  let replyStart = Number.POSITIVE_INFINITY;
  if (end.delivered && sentFlow && input.reply !== false) {
    const d = end.delivered;
    const rb = new StepBuilder("kube", "reply", `${d.pod.name} → ${hostPort(srcIp(d.flow), d.flow.tp_src)}`);
    const v6 = isV6Flow(d.flow);
    // A peer on the pod's own subnet (an underlay pod → underlay pod) is answered directly, on
    // the link; anything else goes to the gateway.
    const peerOnLink = !v6 && subnetOfIp(s, formatIp4(d.flow.nw_src))?.name === d.pod.subnet;
    const gwMac = peerOnLink ? null : gatewayMac(s, d.pod, v6);
    const rf = withFlow(d.flow, {
      dl_src: d.flow.dl_dst,
      dl_dst: gwMac ?? d.flow.dl_src,
      ...(v6
        ? { ipv6_src: d.flow.ipv6_dst, ipv6_dst: d.flow.ipv6_src }
        : { nw_src: d.flow.nw_dst, nw_dst: d.flow.nw_src }),
      tp_src: d.flow.tp_dst,
      tp_dst: d.flow.tp_src,
      tcp_flags: proto === "tcp" ? TCP_FLAG.syn | TCP_FLAG.ack : 0,
      nw_ttl: 64,
      ...(proto === "icmp" ? { tp_src: v6 ? 129 : 0, tp_dst: 0 } : {}),
      vlans: [],
    });
    end.phase = "reply";
    replyStart = ctx.frames?.length ?? 0;
    ctx.request = { dst: dstIp(rf), nw_proto: rf.nw_proto };
    ctx.hops = 0;
    rb.step(
      "kube",
      `pod ${d.pod.namespace}/${d.pod.name}`,
      peerOnLink
        ? `replies directly to ${formatIp4(d.flow.nw_src)} (${formatMac(d.flow.dl_src)}): it is on the pod's own subnet ${d.pod.subnet}`
        : `replies via its gateway ${(v6 ? s.cluster?.subnets.find((x) => x.name === d.pod.subnet)?.gateway6 : subnetOf(s, d.pod)?.gateway) ?? "?"} (${gwMac !== null ? formatMac(gwMac) : "MAC unknown"})`,
      rf,
      { device: d.node },
    );
    replyFromPod(ctx, d.pod, rf, rb, end, sentFlow);
    reply = rb.build();
  }

  const verdict = makeVerdict(s, request, forward, reply, end, sentFlow);
  const doc: TraceDocument = {
    schema: TRACE_SCHEMA,
    scenario: s.name,
    request,
    verdict,
    findings: sim.findings.map((f) => ({
      code: f.code,
      severity: f.severity,
      message: f.message,
      fix: f.fix,
    })),
    missingLayers: sim.missing,
    forward,
    reply,
  };
  return { doc, frames: ctx.frames ?? [], replyStart, ct: ctx.ctSeen };
}

/**
 * The Kubernetes objects and the NB row behind a LoadBalancer address: the Service, the MetalLB
 * IPAddressPool it came from, the L2Advertisements that select that pool (an empty
 * ipAddressPools selects every pool), the node MetalLB elected and how it announces (ARP, or
 * NDP for IPv6), and the Load_Balancer row Kube-OVN put the VIP on.
 */
function vipOwners(sim: Simulation, vip: string, port: number): string | undefined {
  // The scenario and its NB are fixed for a simulation: each VIP's line is made once.
  let byVip = VIP_OWNERS.get(sim);
  if (!byVip) {
    byVip = new Map();
    VIP_OWNERS.set(sim, byVip);
  }
  const k = `${vip} ${port}`;
  if (byVip.has(k)) return byVip.get(k);
  const line = vipOwnersLine(sim, vip, port);
  byVip.set(k, line);
  return line;
}
const VIP_OWNERS = new WeakMap<Simulation, Map<string, string | undefined>>();

function vipOwnersLine(sim: Simulation, vip: string, port: number): string | undefined {
  const s = sim.scenario;
  const svc = s.services.find((x) => x.vips.includes(vip));
  if (!svc) return undefined;
  const ads = s.l2Advertisements
    .filter(
      (a) => a.ipAddressPools.length === 0 || (svc.pool !== undefined && a.ipAddressPools.includes(svc.pool)),
    )
    .map((a) => `${a.namespace}/${a.name}`);
  const node = announcerOf(s, svc, vip);
  const key = vip.includes(":") ? `[${vip}]:${port}` : `${vip}:${port}`;
  const lb = sim.ovn.db.loadBalancers.find((l) => l.vips[key] !== undefined);
  return [
    `${vip} is a LoadBalancer address of Service ${svc.namespace}/${svc.name} (externalTrafficPolicy ${svc.externalTrafficPolicy})`,
    svc.pool !== undefined
      ? `MetalLB IPAddressPool ${svc.pool}`
      : `not in any IPAddressPool (${svc.vipSource})`,
    ads.length > 0 ? `L2Advertisement ${ads.join(", ")}` : "no L2Advertisement selects its pool",
    node !== undefined
      ? `announced by ${node} (${vip.includes(":") ? "NDP" : "ARP"})`
      : "announced by no node",
    lb ? `NB Load_Balancer ${lb.name} vips "${key}"` : "no NB Load_Balancer VIP",
  ].join(" · ");
}

function subnetOf(s: Scenario, pod: PodSpec) {
  return s.subnets.find((x) => x.name === pod.subnet);
}

/** The MAC of the pod's gateway, as the pod's ARP would learn it on an underlay subnet. */
function gatewayMac(s: Scenario, pod: PodSpec, v6 = false): number | null {
  const sub = subnetOf(s, pod);
  if (!sub) return null;
  const gw6 = v6 ? s.cluster?.subnets.find((x) => x.name === sub.name)?.gateway6 : undefined;
  for (const r of s.physical.routers)
    for (const f of r.interfaces)
      if (gw6 !== undefined ? f.ip6 === gw6 : f.ip === sub.gateway) return parseMac(f.mac);
  return null;
}

function replyFromPod(
  ctx: Ctx,
  pod: PodSpec,
  f: Flow,
  root: StepBuilder,
  end: PathEnd,
  request: Flow | null,
): void {
  const o = ctx.sim.ovs.get(pod.node);
  if (!o) return;
  if (ctx.sim.brInt) {
    const table = ctx.sim.ctByNode.get(pod.node);
    const r = runBridge(o, "br-int", podVethName(pod), f, table ? { conntrack: table } : {});
    if (r.result.conntrack) ctx.sim.ctByNode.set(pod.node, r.result.conntrack);
    ctx.frames?.push({
      link: `${pod.node}/${podVethName(pod)}`,
      flow: f,
      kind: "pod",
      note: `pod ${pod.namespace}/${pod.name} sends; br-int ${summarizeBridge(r)}`,
    });
    brIntFollow(ctx, pod.node, r, root, end, request, true);
    return;
  }
  const r = runBridge(o, "br-int", podVethName(pod), f);
  ctx.frames?.push({
    link: `${pod.node}/${podVethName(pod)}`,
    flow: f,
    kind: "pod",
    note: `pod ${pod.namespace}/${pod.name} sends; br-int ${summarizeBridge(r)}`,
  });
  const bs = new StepBuilder("openflow", "br-int", summarizeBridge(r), pod.node).seen(root.last);
  bs.setDetail(() => r.text);
  root.add(bs.build());
  if (!r.toOvn) {
    root.step("openflow", "br-int", "the packet never reached OVN's logical pipeline", undefined, {
      outcome: "drop",
    });
    return;
  }
  intoOvn(ctx, pod.node, r.toOvn, root, end, request);
}

function podSend(
  ctx: Ctx,
  pod: PodSpec,
  to: string,
  port: number,
  proto: "tcp" | "udp" | "icmp",
  srcPort: number,
  root: StepBuilder,
  end: PathEnd,
  replyOf: Flow | null,
): Flow {
  const s = ctx.sim.scenario;
  const sub = subnetOf(s, pod);
  const dstPod = s.pods.find((p) => p.ip === to);
  const sameSubnet = subnetOfIp(s, to)?.name === sub?.name;
  const dlDst = dstPod && sameSubnet ? parseMac(dstPod.mac) : (gatewayMac(s, pod) ?? 0);
  const f = withFlow(IP_BASE, {
    dl_src: parseMac(pod.mac),
    dl_dst: dlDst,
    nw_src: parseIp4(pod.ip),
    nw_dst: parseIp4(to),
    nw_proto: proto === "udp" ? IP_PROTO.udp : proto === "icmp" ? IP_PROTO.icmp : IP_PROTO.tcp,
    tp_src: proto === "icmp" ? 8 : srcPort,
    tp_dst: proto === "icmp" ? 0 : port,
    tcp_flags: proto === "tcp" ? TCP_FLAG.syn : 0,
  });
  root.step(
    "kube",
    `pod ${pod.namespace}/${pod.name}`,
    `sends to ${to}${proto !== "icmp" ? `:${port}` : ""}`,
    f,
    { device: pod.node },
  );
  // A pod's own request enters OVN as a new connection (replyOf null), not as a reply.
  replyFromPod(ctx, pod, f, root, end, replyOf);
  return f;
}

const IP_BASE: Flow = makeFlow({ dl_type: 0x0800, nw_ttl: 64 });

function makeVerdict(
  s: Scenario,
  req: TraceRequest,
  forward: TraceStep,
  reply: TraceStep | null,
  end: PathEnd,
  sent: Flow | null,
): Verdict {
  const svc = s.services.find((x) => x.vips.includes(req.to));
  const ann = svc ? announcerOf(s, svc, req.to) : undefined;
  const delivered = end.delivered;
  const dropStep = delivered ? undefined : lastDrop(forward);
  const droppedAt: DropPoint | null = delivered
    ? null
    : dropStep
      ? {
          layer: dropStep.layer,
          where: dropStep.device ? `${dropStep.device} ${dropStep.where}` : dropStep.where,
          reason: dropStep.summary,
        }
      : { layer: "physical", where: req.from, reason: "the packet reached no destination" };
  const clientIp = sent ? srcIp(sent) : null;
  const replyDelivered = reply ? end.clientDelivery !== null || end.replyPod !== null : null;
  return {
    delivered: delivered !== null,
    pod: delivered ? `${delivered.pod.namespace}/${delivered.pod.name}` : null,
    node: delivered?.node ?? null,
    announcingNode: ann ?? null,
    backend: end.dnat?.backend ?? null,
    backendLocal: end.dnat ? podByAddr(s, end.dnat.backendIp)?.node === end.dnat.node : null,
    clientIpPreserved: delivered && clientIp ? srcIp(delivered.flow) === clientIp : null,
    replyDelivered,
    replySourceIp: end.clientDelivery
      ? srcIp(end.clientDelivery.frame)
      : end.replyPod
        ? srcIp(end.replyPod.flow)
        : null,
    droppedAt,
  };
}

/** MetalLB's election depends on the scenario alone: made once per scenario and VIP. */
const ANNOUNCERS = new WeakMap<Scenario, Map<string, string | undefined>>();
function announcerOf(
  s: Scenario,
  svc: Parameters<typeof electAnnouncer>[1],
  vip: string,
): string | undefined {
  let m = ANNOUNCERS.get(s);
  if (!m) {
    m = new Map();
    ANNOUNCERS.set(s, m);
  }
  const key = `${svc.namespace}/${svc.name} ${vip}`;
  if (!m.has(key)) m.set(key, electAnnouncer(s, svc, vip).node);
  return m.get(key);
}

function lastDrop(root: TraceStep): TraceStep | undefined {
  let last: TraceStep | undefined;
  for (const { step } of walkSteps(root)) if (step.outcome === "drop") last = step;
  return last;
}

export interface FailoverInput extends Omit<TraceInput, "tcpFlags" | "reply"> {
  /** What fails on the announcing node: its speaker (default) or the whole node. */
  readonly fail?: "speaker" | "node";
  /** Virtual seconds to let run after the failure (re-election, GARPs); default 6. */
  readonly wait?: number;
}

export interface FailoverResult {
  /** The connection's first packet (SYN) and its reply, before the failure. */
  readonly seed: TraceDocument;
  readonly oldAnnouncer: string | null;
  readonly newAnnouncer: string | null;
  /** MetalLB's events: the failure, the election, the gratuitous ARPs. */
  readonly failover: readonly string[];
  /** The connection's next packet (a TCP ACK) after the failover. */
  readonly next: TraceDocument;
  /** Where the ACK entered OVN and what that node's conntrack said about it. */
  readonly ct: {
    readonly node: string;
    readonly zone: number;
    readonly state: string;
    readonly found: boolean;
  } | null;
  /** One line per fact: announcers, ct state on the new node, where the packet ended. */
  readonly summary: readonly string[];
}

/**
 * Failover of an existing connection: the seed SYN is delivered on the announcing node (its
 * DNAT committed in that node's conntrack), then the announcing node's speaker (or the node)
 * fails, virtual time runs (new leader, gratuitous ARPs update the gateway router's cache), and
 * the next packet of the same connection (an ACK) is traced: it reaches the new announcing node,
 * whose own conntrack decides its ct state, and OVN's logical flows run with that state.
 */
export function traceFailover(sim: Simulation, input: FailoverInput = {}): FailoverResult {
  const m = sim.metallb;
  if (!m || !sim.net)
    throw new SimError("UNSUPPORTED", "failover: the scenario has no MetalLB on a physical network");
  const { to } = defaultTarget(sim.scenario, input);
  const base: TraceInput = { ...input };
  if ((input.proto ?? "tcp") !== "tcp")
    throw new SimError("UNSUPPORTED", "failover: only a TCP connection has a next packet (ACK) to trace");
  const announcer = () => m.status().find((x) => x.vip === to)?.node ?? null;
  const seed = trace(sim, { ...base, reply: true });
  const oldAnnouncer = announcer();
  const events: string[] = [];
  const log = (t: physical.Trace) => {
    for (const e of t.events) if (e.kind === "metallb") events.push(e.text.split("\n")[0] ?? "");
  };
  if (oldAnnouncer) {
    log(input.fail === "node" ? m.setNodeUp(oldAnnouncer, false) : m.setSpeaker(oldAnnouncer, false));
  }
  log(sim.net.advance(input.wait ?? 6));
  const newAnnouncer = announcer();
  const r = runTrace(sim, { ...base, reply: false, tcpFlags: TCP_FLAG.ack });
  const next: TraceDocument = { ...r.doc, verdict: { ...r.doc.verdict, announcingNode: newAnnouncer } };
  const v = next.verdict;
  const summary = [
    `${input.fail === "node" ? "node" : "speaker on"} ${oldAnnouncer ?? "(none)"} down; new announcer: ${newAnnouncer ?? "none"}`,
    r.ct
      ? `the ACK reached ${r.ct.node}; its conntrack (zone ${r.ct.zone}): ct_state=${r.ct.state}${r.ct.found ? "" : " (no entry for this connection on this node)"}`
      : "the ACK never reached OVN on any node",
    v.delivered
      ? `delivered to ${v.pod} on ${v.node}${v.backend ? ` (DNAT to ${v.backend})` : ""}`
      : `dropped at ${v.droppedAt?.where ?? "?"}: ${v.droppedAt?.reason ?? "?"}`,
  ];
  return { seed, oldAnnouncer, newAnnouncer, failover: events, next, ct: r.ct, summary };
}

/** Convenience: a fresh simulation and one trace. */
export function traceScenario(s: Scenario, input: TraceInput = {}): TraceDocument {
  return trace(createSimulation(s), input);
}

export { findDrop, packetView, localnetPortName };
