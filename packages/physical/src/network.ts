/**
 * The physical network in motion: frames crossing cables, switches (OVS NORMAL rules from
 * `@ovnsim/l2`), host interfaces (Linux VLAN sub-interfaces, OVS-enslaved NICs, bridge internal
 * ports) and host stacks (ARP as Linux `net/ipv4/arp.c arp_process` does it, IPv6 neighbour
 * discovery as `net/ipv6/ndisc.c`, routing by longest prefix, forwarding on routers), in
 * virtual time.
 *
 * Every action returns a `Trace`: the ordered events (each hop, each learning/flooding
 * decision, each neighbour-cache change, each resolution exchange), the frames delivered to a
 * host stack, and the frames that left the physical network into an OVS bridge port (for the
 * tracer to follow into OVN). A bridging loop is detected (the same frame entering the same
 * switch port twice in one action) and reported, never flooded forever.
 *
 * Neighbour rules modelled from Linux: a request for a local address creates/updates the
 * sender's entry and is answered from the receiving interface (arp_ignore=0); any ARP from a
 * known sender updates its entry if the entry is older than `locktime` (1 s) or the ARP is
 * gratuitous (spa = tpa, and for replies tha = sha); unknown senders create entries only with
 * arp_accept. NA updates an existing entry when it has the Override flag or the entry is
 * incomplete. Not modelled: NUD reachability timers and retransmissions (one request per
 * resolution), proxy ARP, arp_filter/arp_ignore variants.
 *
 * A traced connection crosses this network twice (the request and the reply), thousands of
 * times on one network, so the path of a frame allocates little beyond its events and the
 * frames it changes: the topology is resolved once into per-interface and per-port records
 * (their place names, where their cable leads, VLAN sub-interfaces by VID, neighbour entries by
 * address), route lookups are kept per destination with their output interface, an event keeps
 * what its text is made of and renders it when read (a switch's text once per shared NORMAL
 * decision, a frame's description from parts kept per place), queued frames are slots in one
 * array rather than closures, and that array and the loop detector's lists are kept between
 * actions. A switch's copy that leaves with the tags it came with is the frame itself.
 */
import { type L2PortConfig, MacTable, type NormalDecision, normalDecide } from "@ovnsim/l2";
import {
  ETH_TYPE,
  type Flow,
  formatIp4,
  formatIp6,
  formatMac,
  IP_PROTO,
  SimError,
  type VlanHeader,
  withFlow,
} from "@ovnsim/packet";
import { formatIp, type IpAddr, inPrefix, parseIp, sameIp } from "./addr.js";
import { type AttachedBridge, type BridgeOutput, NormalBridge } from "./bridge.js";
import { type DescribeMemo, describeFrame, describeMemo, describeWith } from "./describe.js";
import {
  ALL_NODES6,
  ARP_OP,
  arpFrame,
  BROADCAST,
  ICMP6,
  ipFrame,
  NA_FLAG,
  naFrame,
  nsFrame,
  rewriteFrame,
} from "./frames.js";
import {
  compileTopology,
  type Host,
  type Nic,
  type Switch,
  type Topology,
  type TopologySpec,
} from "./topology.js";

export type TraceKind =
  | "send"
  | "wire"
  | "switch"
  | "host"
  | "bridge"
  | "neigh"
  | "route"
  | "deliver"
  | "exit"
  | "drop"
  | "loop"
  | "metallb"
  | "timer";

export interface TraceEvent {
  /** Virtual time, seconds. */
  readonly t: number;
  readonly kind: TraceKind;
  /** Device (and port/interface) where it happened: "sw1:p3", "node1/underlay0.341". */
  readonly at: string;
  /** What happened; rendered when first read (a getter: JSON has it, a spread copy lacks it). */
  readonly text: string;
  /**
   * The first line of `text`, set where the rest is rendered only when `text` is read (a
   * bridge's trace): a reader that needs the headline alone does not render the rest.
   */
  readonly head?: string;
  /** Nesting depth (a resolution exchange inside a send is one deeper). */
  readonly depth: number;
  readonly frame?: Flow;
}

export interface Delivery {
  readonly host: string;
  readonly iface: string;
  readonly frame: Flow;
}

export interface BridgeExit {
  readonly host: string;
  readonly bridge: string;
  readonly port: string;
  readonly frame: Flow;
}

export interface Trace {
  readonly events: readonly TraceEvent[];
  readonly delivered: readonly Delivery[];
  readonly exits: readonly BridgeExit[];
  /** Loops detected (each a "switch:port" where a frame came back). */
  readonly loops: readonly string[];
}

export interface NeighEntry {
  readonly host: string;
  readonly iface: string;
  readonly ip: IpAddr;
  /** undefined while INCOMPLETE. */
  readonly mac: number | undefined;
  readonly updated: number;
}

interface MutNeigh {
  ip: IpAddr;
  iface: string;
  mac: number | undefined;
  updated: number;
  /** The "is … (cached)" text for `mac`, made once per address the entry holds. */
  cachedText: string | undefined;
}

/** What a frame tap (e.g. a MetalLB responder) may do from inside a trace. */
export interface TapApi {
  readonly now: number;
  event(kind: TraceKind, at: string, text: string, frame?: Flow): void;
  /** Send `frame` out of `host`'s interface `iface` (through VLAN sub-interfaces / bridges as Linux would). */
  transmit(host: string, iface: string, frame: Flow): void;
}

/** Sees every frame an interface receives (a packet socket), before the bridge or the stack. */
export type FrameTap = (api: TapApi, host: Host, nic: Nic, frame: Flow) => void;

const MAX_STEPS = 100_000;

// How an event's text is made. Events keep what their text is made of and render it when it is
// first read: a reader that skips an event (the tracer skips a send's own wire copy) never pays.
const TEXT = 0;
/** describeFrame(frame) (arg: the DescribeMemo of the place). */
const DESCRIBE = 1;
/** A switch's NORMAL decision (arg: the NormalDecision). */
const SWITCH = 2;
/** A bridge step whose lines are made on demand: the headline, a newline, the lines (arg: their maker). */
const BRIDGE = 3;
/** "delivered to <host> (<dst>)" (arg: the host name; the address from the frame). */
const DELIVER = 4;

/** One event of a trace; `text` is rendered on first read. */
class Ev implements TraceEvent {
  constructor(
    readonly t: number,
    readonly kind: TraceKind,
    readonly at: string,
    readonly depth: number,
    readonly frame: Flow | undefined,
    readonly head: string | undefined,
    private how: number,
    private arg: unknown,
  ) {}
  get text(): string {
    if (this.how !== TEXT) {
      this.arg = renderText(this.how, this.arg, this.frame, this.head);
      this.how = TEXT;
    }
    return this.arg as string;
  }
  /** JSON as the event reads (`text` rendered; not the rendering's internals). */
  toJSON(): object {
    return {
      t: this.t,
      kind: this.kind,
      at: this.at,
      text: this.text,
      ...(this.head !== undefined ? { head: this.head } : {}),
      depth: this.depth,
      ...(this.frame !== undefined ? { frame: this.frame } : {}),
    };
  }
}

function renderText(how: number, arg: unknown, frame: Flow | undefined, head: string | undefined): string {
  switch (how) {
    case DESCRIBE:
      return describeWith(arg as DescribeMemo, frame as Flow);
    case SWITCH: {
      // A decision without learning is one shared object per (port, tag, output): its text once.
      const d = arg as NormalDecision;
      let text = SWITCH_TEXT.get(d);
      if (text === undefined) {
        text = switchText(d);
        SWITCH_TEXT.set(d, text);
      }
      return text;
    }
    case BRIDGE:
      return `${head}\n${(arg as () => readonly string[])().join("\n")}`;
    case DELIVER: {
      const f = frame as Flow;
      const dst = f.dl_type === ETH_TYPE.ipv6 ? formatIp6(f.ipv6_dst) : formatIp4(f.nw_dst >>> 0);
      return `delivered to ${arg as string} (${dst})`;
    }
    default:
      return arg as string;
  }
}

/** Rendered NORMAL decisions (`@ovnsim/l2` hands out the same decision for the same case). */
const SWITCH_TEXT = new WeakMap<NormalDecision, string>();

function switchText(d: NormalDecision): string {
  let notes = "";
  for (let i = 0; i < d.notes.length; i++) notes += i === 0 ? d.notes[i]!.text : `; ${d.notes[i]!.text}`;
  let outs = "";
  for (let i = 0; i < d.outputs.length; i++) {
    const o = d.outputs[i]!;
    let tag = "(untagged)";
    if (o.vlans.length) {
      tag = "(vlan ";
      for (let j = 0; j < o.vlans.length; j++) tag += j === 0 ? `${o.vlans[j]!.vid}` : `.${o.vlans[j]!.vid}`;
      tag += ")";
    }
    outs += i === 0 ? ` -> ${o.name}${tag}` : `, ${o.name}${tag}`;
  }
  const vlan = d.vlan !== undefined ? `VLAN ${d.vlan}: ` : "";
  return `${vlan}${notes}${outs}`;
}

/** Where a cable from a port leads (resolved once from `topology.links`). */
interface LinkEnd {
  /** "dev:port", as the topology names it. */
  readonly end: string;
  readonly sw: SwitchRt | undefined;
  readonly swPort: SwPortRt | undefined;
  readonly host: string;
  readonly nic: string;
  /** The host and its interface when the cable leads to a host (resolved once). */
  readonly hostRt: HostRt | undefined;
  readonly nicRt: NicRt | undefined;
}

interface SwPortRt {
  readonly cfg: L2PortConfig;
  /** "switch:port". */
  readonly at: string;
  peer: LinkEnd | undefined;
}

interface SwitchRt {
  readonly sw: Switch;
  readonly table: MacTable;
  readonly ports: ReadonlyMap<string, SwPortRt>;
}

/** A route lookup's answer, with the texts the trace prints for it (made once per destination). */
interface RouteRt {
  readonly dev: string;
  readonly nh: IpAddr;
  readonly src: IpAddr;
  /** The output interface and the next hop's neighbour key, resolved with the route. */
  readonly out: NicRt | undefined;
  readonly nhKey: number | bigint;
  sendText: string | undefined;
  fwdText: string | undefined;
}

interface NicRt {
  readonly nic: Nic;
  /** "host/nic". */
  readonly at: string;
  /** "host:nic", the cable end. */
  readonly end: string;
  peer: LinkEnd | undefined;
  /** VLAN sub-interfaces on this interface by VID (the first declared wins, as the lookup did). */
  readonly children: Map<number, NicRt>;
  /** Neighbour entries learned on this interface, by address (IPv4 as a number, IPv6 as a bigint). */
  readonly neigh: Map<number | bigint, MutNeigh>;
  /** The parts of the last frame described here (see describeWith). */
  readonly desc: DescribeMemo;
}

interface BridgeRt {
  /** "host/bridge". */
  readonly at: string;
  /** The attached implementation (kept in step with `PhysicalNetwork.bridges`). */
  impl: AttachedBridge;
  /** "in_port … -> …" headlines by input port, then output ports. */
  readonly heads: Map<string, Map<string, string>>;
  /** The exit event's place and text by OVS port. */
  readonly exits: Map<string, { readonly at: string; readonly text: string }>;
}

interface HostRt {
  readonly host: Host;
  readonly nics: ReadonlyMap<string, NicRt>;
  /** Every neighbour entry of the host in creation order (what `neighbours()` lists). */
  readonly neighOrder: MutNeigh[];
  /** Addresses of the host's up interfaces (IPv4 as numbers, IPv6 as bigints, link-locals included). */
  readonly local: ReadonlySet<number | bigint>;
  /** Route lookups by destination (IPv4 as a number, IPv6 as a bigint); null = no route. */
  readonly routes: Map<number | bigint, RouteRt | null>;
  readonly bridges: Map<string, BridgeRt>;
}

/** The key of an address in the per-interface and per-host maps: IPv4 a number, IPv6 a bigint. */
function addrKey(ip: IpAddr): number | bigint {
  return ip.family === 4 ? Number(ip.v) : ip.v;
}

// Job kinds of the frame queue (a frame waiting to cross a cable or re-enter a device).
const J_ARRIVE = 0;
const J_HOST_RECEIVE = 1;
const J_BRIDGE_TRANSMIT = 2;
const J_BRIDGE_RECEIVE = 3;
/** Slots per queued job: kind, three arguments, the frame. */
const JOB = 5;

/** The empty list of a trace with no deliveries, exits or loops (most actions have none of one). */
const NONE: readonly never[] = Object.freeze([]);

/** Loop detection switches from a scan to a hash table past this many entered frames. */
const SEEN_SCAN = 16;

/**
 * The working lists of an action (the frame queue and the loop detector's record), kept by the
 * network between actions so an action does not regrow them: `length = 0` would free their
 * storage, so they keep counts and are cleared by slot.
 */
class Scratch {
  readonly jobs: unknown[] = [];
  readonly seenPorts: SwPortRt[] = [];
  readonly seenFrames: Flow[] = [];
}

/** The network's entry points a trace context calls back (made once per network, not per action). */
interface CtxIo {
  transmit(ctx: Ctx, host: string, iface: string, frame: Flow): void;
  run(ctx: Ctx, kind: number, a: unknown, b: unknown, c: unknown, frame: Flow): void;
  /** The scratch lists no action holds (undefined while one does, or after an action threw). */
  spare: Scratch | undefined;
}

class Ctx implements TapApi {
  readonly events: TraceEvent[] = [];
  delivered: Delivery[] | undefined;
  exits: BridgeExit[] | undefined;
  loops: string[] | undefined;
  /** Frames that entered a switch port in this action (port, frame), for loop detection. */
  private readonly seenPorts: SwPortRt[];
  private readonly seenFrames: Flow[];
  private seen = 0;
  private seenIndex: Map<number, number[]> | undefined;
  /** Pending jobs, JOB slots each, up to `end`; `head` is the next to run. */
  readonly jobs: unknown[];
  head = 0;
  end = 0;
  depth = 0;
  steps = 0;
  constructor(
    private readonly net: PhysicalNetwork,
    private readonly io: CtxIo,
    readonly scratch: Scratch,
  ) {
    this.jobs = scratch.jobs;
    this.seenPorts = scratch.seenPorts;
    this.seenFrames = scratch.seenFrames;
  }
  get now(): number {
    return this.net.now;
  }
  event(kind: TraceKind, at: string, text: string, frame?: Flow): void {
    this.events.push(new Ev(this.net.now, kind, at, this.depth, frame, undefined, TEXT, text));
  }
  /** An event whose text is rendered when read (`how`, `arg`: see renderText). */
  lazy(kind: TraceKind, at: string, how: number, arg: unknown, frame: Flow | undefined, head?: string): void {
    this.events.push(new Ev(this.net.now, kind, at, this.depth, frame, head, how, arg));
  }
  transmit(host: string, iface: string, frame: Flow): void {
    this.io.transmit(this, host, iface, frame);
  }
  push(kind: number, a: unknown, b: unknown, c: unknown, frame: Flow): void {
    const jobs = this.jobs;
    const i = this.end;
    if (i === jobs.length) jobs.push(kind, a, b, c, frame);
    else {
      jobs[i] = kind;
      jobs[i + 1] = a;
      jobs[i + 2] = b;
      jobs[i + 3] = c;
      jobs[i + 4] = frame;
    }
    this.end = i + JOB;
  }
  drain(): void {
    const jobs = this.jobs;
    while (this.head < this.end) {
      const i = this.head;
      this.head = i + JOB;
      this.io.run(this, jobs[i] as number, jobs[i + 1], jobs[i + 2], jobs[i + 3], jobs[i + 4] as Flow);
    }
    if (this.depth === 0) {
      this.truncate(0);
      this.head = 0;
    }
  }
  /** Drops the jobs from slot `end` on (clearing their slots: a kept frame would outlive its trace). */
  truncate(end: number): void {
    const jobs = this.jobs;
    for (let i = end; i < this.end; i++) jobs[i] = undefined;
    this.end = end;
  }
  /** Forgets what the action recorded in the scratch lists (see Scratch). */
  release(): void {
    this.truncate(0);
    this.head = 0;
    const ports = this.seenPorts;
    const frames = this.seenFrames;
    for (let i = 0; i < this.seen; i++) {
      ports[i] = undefined as unknown as SwPortRt;
      frames[i] = undefined as unknown as Flow;
    }
    this.seen = 0;
  }
  addLoop(at: string): void {
    if (this.loops === undefined) this.loops = [];
    this.loops.push(at);
  }
  addExit(x: BridgeExit): void {
    if (this.exits === undefined) this.exits = [];
    this.exits.push(x);
  }
  addDelivery(d: Delivery): void {
    if (this.delivered === undefined) this.delivered = [];
    this.delivered.push(d);
  }
  /** Whether `frame` entered `port` before in this action; records it if not. */
  entered(port: SwPortRt, frame: Flow): boolean {
    const ports = this.seenPorts;
    const frames = this.seenFrames;
    let index = this.seenIndex;
    if (index === undefined) {
      const n = this.seen;
      for (let i = 0; i < n; i++) if (ports[i] === port && sameFrame(frames[i]!, frame)) return true;
      this.record(port, frame);
      if (n + 1 > SEEN_SCAN) {
        index = new Map();
        for (let i = 0; i <= n; i++) {
          const h = frameHash(ports[i]!, frames[i]!);
          const b = index.get(h);
          if (b) b.push(i);
          else index.set(h, [i]);
        }
        this.seenIndex = index;
      }
      return false;
    }
    const h = frameHash(port, frame);
    const bucket = index.get(h);
    if (bucket) for (const i of bucket) if (ports[i] === port && sameFrame(frames[i]!, frame)) return true;
    this.record(port, frame);
    if (bucket) bucket.push(this.seen - 1);
    else index.set(h, [this.seen - 1]);
    return false;
  }
  private record(port: SwPortRt, frame: Flow): void {
    const i = this.seen++;
    if (i === this.seenPorts.length) {
      this.seenPorts.push(port);
      this.seenFrames.push(frame);
    } else {
      this.seenPorts[i] = port;
      this.seenFrames[i] = frame;
    }
  }
  /** The action's result; the scratch lists go back to the network. */
  trace(): Trace {
    this.release();
    this.io.spare = this.scratch;
    return {
      events: this.events,
      delivered: this.delivered ?? NONE,
      exits: this.exits ?? NONE,
      loops: this.loops ?? NONE,
    };
  }
}

export interface SendOptions {
  /** Destination IP address. */
  readonly dst: string | IpAddr;
  readonly proto?: "tcp" | "udp" | "icmp";
  readonly tpSrc?: number;
  readonly tpDst?: number;
  readonly tcpFlags?: number;
}

interface Timer {
  readonly t: number;
  readonly seq: number;
  readonly label: string;
  readonly run: (api: TapApi) => void;
}

/**
 * Whether two frames are the same frame for loop detection: every field a flood could carry
 * unchanged around a loop (addresses, VLAN stack, L3/L4 header fields, ARP/ND fields).
 */
function sameFrame(a: Flow, b: Flow): boolean {
  if (a === b) return true;
  if (
    a.dl_src !== b.dl_src ||
    a.dl_dst !== b.dl_dst ||
    a.dl_type !== b.dl_type ||
    a.nw_src !== b.nw_src ||
    a.nw_dst !== b.nw_dst ||
    a.ipv6_src !== b.ipv6_src ||
    a.ipv6_dst !== b.ipv6_dst ||
    a.nw_proto !== b.nw_proto ||
    a.nw_ttl !== b.nw_ttl ||
    a.tp_src !== b.tp_src ||
    a.tp_dst !== b.tp_dst ||
    a.arp_sha !== b.arp_sha ||
    a.arp_tha !== b.arp_tha ||
    a.nd_target !== b.nd_target ||
    a.tcp_flags !== b.tcp_flags
  )
    return false;
  return sameVlans(a.vlans, b.vlans);
}

const PORT_IDS = new WeakMap<SwPortRt, number>();
let nextPortId = 1;
/** A hash of (port, frame) over the fields sameFrame compares (collisions are settled by sameFrame). */
function frameHash(port: SwPortRt, f: Flow): number {
  let id = PORT_IDS.get(port);
  if (id === undefined) {
    id = nextPortId++;
    PORT_IDS.set(port, id);
  }
  let h = Math.imul(id, 0x9e3779b1);
  for (const x of [f.dl_src, f.dl_dst, f.nw_src, f.nw_dst, f.tp_src, f.tp_dst, f.nw_ttl, f.arp_sha]) {
    h = Math.imul(h ^ (x | 0) ^ Math.floor(x / 2 ** 32), 0x85ebca6b);
    h ^= h >>> 13;
  }
  for (const v of f.vlans) h = Math.imul(h ^ v.vid, 0xc2b2ae35);
  return h;
}

/** The VLAN stack of a frame whose tags were all popped (frames hold their stacks frozen). */
const NO_VLANS: readonly VlanHeader[] = Object.freeze([]);

/** Whether two VLAN stacks carry the same tags. */
function sameVlans(a: readonly VlanHeader[], b: readonly VlanHeader[]): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (x.tpid !== y.tpid || x.pcp !== y.pcp || x.vid !== y.vid) return false;
  }
  return true;
}

function isMulticast(mac: number): boolean {
  return Math.floor(mac / 2 ** 40) % 2 === 1;
}

/** Parsed destination addresses by text (a trace sends to the same few). */
const PARSED = new Map<string, IpAddr>();

export class PhysicalNetwork {
  readonly topology: Topology;
  /** Virtual time, seconds. */
  now = 0;
  private readonly down = new Set<string>();
  private readonly bridges = new Map<string, AttachedBridge>();
  private readonly taps: FrameTap[] = [];
  private readonly listeners = new Map<string, Set<bigint>>();
  private timers: Timer[] = [];
  private seq = 0;
  /** The topology resolved for the hot path (it does not change after construction). */
  private readonly hostRt = new Map<string, HostRt>();
  private readonly switchRt = new Map<string, SwitchRt>();
  private readonly io: CtxIo = {
    transmit: (ctx, host, iface, frame) => this.hostTransmit(ctx, host, iface, frame),
    run: (ctx, kind, a, b, c, frame) => this.runJob(ctx, kind, a, b, c, frame),
    spare: new Scratch(),
  };

  /** A trace context for one action, with the spare scratch lists if no other action holds them. */
  private begin(): Ctx {
    const io = this.io;
    const scratch = io.spare ?? new Scratch();
    io.spare = undefined;
    return new Ctx(this, io, scratch);
  }

  constructor(spec: TopologySpec | Topology) {
    this.topology =
      "links" in spec && spec.links instanceof Map
        ? (spec as Topology)
        : compileTopology(spec as TopologySpec);
    for (const sw of this.topology.switches.values()) {
      const table = new MacTable({ idleTime: sw.macAgingTime });
      const ports = new Map<string, SwPortRt>();
      this.switchRt.set(sw.name, { sw, table, ports });
    }
    for (const h of this.topology.hosts.values()) {
      const nics = new Map<string, NicRt>();
      const local = new Set<number | bigint>();
      for (const n of h.nics.values()) {
        nics.set(n.name, {
          nic: n,
          at: `${h.name}/${n.name}`,
          end: `${h.name}:${n.name}`,
          peer: undefined,
          children: new Map(),
          neigh: new Map(),
          desc: describeMemo(),
        });
        if (!n.up) continue;
        for (const a of n.addresses) local.add(addrKey(a.ip));
        if (n.linkLocal6 !== undefined) local.add(n.linkLocal6);
      }
      for (const n of h.nics.values()) {
        if (n.parent === undefined || n.vid === undefined) continue;
        const children = nics.get(n.parent)?.children;
        if (children && !children.has(n.vid)) children.set(n.vid, nics.get(n.name)!);
      }
      const bridges = new Map<string, BridgeRt>();
      for (const b of h.bridges) {
        const impl = new NormalBridge(b.name, [...b.ports, ...(b.ovsPorts ?? []).map((name) => ({ name }))]);
        this.bridges.set(`${h.name}/${b.name}`, impl);
        bridges.set(b.name, { at: `${h.name}/${b.name}`, impl, heads: new Map(), exits: new Map() });
      }
      this.hostRt.set(h.name, { host: h, nics, neighOrder: [], local, routes: new Map(), bridges });
    }
    for (const s of this.switchRt.values()) {
      for (const cfg of s.sw.ports) {
        (s.ports as Map<string, SwPortRt>).set(cfg.name, {
          cfg,
          at: `${s.sw.name}:${cfg.name}`,
          peer: undefined,
        });
      }
    }
    // Cables last: an end may be a port of a switch declared after this one.
    for (const s of this.switchRt.values()) for (const p of s.ports.values()) p.peer = this.linkEnd(p.at);
    for (const h of this.hostRt.values()) for (const n of h.nics.values()) n.peer = this.linkEnd(n.end);
  }

  /** Where the cable plugged into `end` leads, if there is one. */
  private linkEnd(end: string): LinkEnd | undefined {
    const peer = this.topology.links.get(end);
    if (peer === undefined) return undefined;
    const colon = peer.indexOf(":");
    const dev = peer.slice(0, colon);
    const port = peer.slice(colon + 1);
    const sw = this.switchRt.get(dev);
    const hostRt = sw ? undefined : this.hostRt.get(dev);
    return {
      end: peer,
      sw,
      swPort: sw?.ports.get(port),
      host: dev,
      nic: port,
      hostRt,
      nicRt: hostRt?.nics.get(port),
    };
  }

  // ---- configuration -------------------------------------------------------------------

  /** Plugs an OVS bridge implementation (e.g. the OpenFlow package's br-provider) into a host. */
  attachBridge(host: string, bridge: AttachedBridge): void {
    const h = this.host(host);
    if (!h.bridges.some((b) => b.name === bridge.name)) {
      throw new SimError("UNKNOWN_OBJECT", `host ${host} has no bridge ${bridge.name}`);
    }
    this.bridges.set(`${host}/${bridge.name}`, bridge);
    const brt = this.hostRt.get(host)?.bridges.get(bridge.name);
    if (brt) brt.impl = bridge;
  }

  bridge(host: string, name: string): AttachedBridge {
    const b = this.bridges.get(`${host}/${name}`);
    if (!b) throw new SimError("UNKNOWN_OBJECT", `host ${host} has no bridge ${name}`);
    return b;
  }

  addTap(tap: FrameTap): void {
    this.taps.push(tap);
  }

  /** Join/leave an IPv6 multicast group on a host (MetalLB's NDP Watch of a VIP's solicited-node group). */
  listen(host: string, group: bigint, on: boolean): void {
    let s = this.listeners.get(host);
    if (!s) {
      s = new Set();
      this.listeners.set(host, s);
    }
    if (on) s.add(group);
    else s.delete(group);
  }

  /** Power a host off/on: a down host neither sends nor receives. */
  setHostUp(host: string, up: boolean): void {
    this.host(host);
    if (up) this.down.delete(host);
    else this.down.add(host);
  }

  isHostUp(host: string): boolean {
    return !this.down.has(host);
  }

  host(name: string): Host {
    const h = this.topology.hosts.get(name);
    if (!h) throw new SimError("UNKNOWN_OBJECT", `no host ${name}`);
    return h;
  }

  private rt(name: string): HostRt {
    const h = this.hostRt.get(name);
    if (!h) throw new SimError("UNKNOWN_OBJECT", `no host ${name}`);
    return h;
  }

  // ---- inspection ----------------------------------------------------------------------

  /** The neighbour (ARP/ND) cache of a host. */
  neighbours(host: string): readonly NeighEntry[] {
    return this.rt(host).neighOrder.map((n) => ({
      host,
      iface: n.iface,
      ip: n.ip,
      mac: n.mac,
      updated: n.updated,
    }));
  }

  /** The MAC a host has cached for `ip`, if any. */
  neighbourMac(host: string, ip: string | IpAddr): number | undefined {
    const a = typeof ip === "string" ? parseIpLoose(ip) : ip;
    for (const n of this.hostRt.get(host)?.neighOrder ?? [])
      if (sameIp(n.ip, a) && n.mac !== undefined) return n.mac;
    return undefined;
  }

  /** A switch's forwarding database. */
  fdb(sw: string): MacTable {
    const t = this.switchRt.get(sw);
    if (!t) throw new SimError("UNKNOWN_OBJECT", `no switch ${sw}`);
    return t.table;
  }

  // ---- time ----------------------------------------------------------------------------

  /** Schedules `run` at virtual time `t` (FIFO among equal times). */
  schedule(t: number, label: string, run: (api: TapApi) => void): void {
    this.timers.push({ t, seq: this.seq++, label, run });
    this.timers.sort((a, b) => a.t - b.t || a.seq - b.seq);
  }

  /** Removes pending timers whose label starts with `prefix`. */
  cancel(prefix: string): void {
    this.timers = this.timers.filter((x) => !x.label.startsWith(prefix));
  }

  /** Advances virtual time by `dt` seconds, running every timer due on the way. */
  advance(dt: number): Trace {
    return this.advanceTo(this.now + dt);
  }

  advanceTo(t: number): Trace {
    const ctx = this.begin();
    for (;;) {
      const next = this.timers[0];
      if (!next || next.t > t + 1e-9) break;
      this.timers.shift();
      this.now = Math.max(this.now, next.t);
      ctx.event("timer", "-", next.label);
      next.run(ctx);
      ctx.drain();
    }
    this.now = Math.max(this.now, t);
    return ctx.trace();
  }

  /** Runs `fn` with a trace context (for modules such as MetalLB that act on the network). */
  act(fn: (api: TapApi) => void): Trace {
    const ctx = this.begin();
    fn(ctx);
    ctx.drain();
    return ctx.trace();
  }

  // ---- actions -------------------------------------------------------------------------

  /** Puts a raw frame on the wire from a host interface (through its VLAN parent / bridge as Linux would). */
  inject(host: string, iface: string, frame: Flow): Trace {
    const ctx = this.begin();
    const n = this.nicRt(host, iface);
    ctx.lazy("send", n.at, DESCRIBE, n.desc, frame);
    this.hostTransmit(ctx, host, iface, frame);
    ctx.drain();
    return ctx.trace();
  }

  /** Resolves `ip` from `host` (ARP or neighbour solicitation), as the kernel does before sending. */
  resolve(host: string, ip: string | IpAddr): Trace {
    const ctx = this.begin();
    const dst = typeof ip === "string" ? parseIpLoose(ip) : ip;
    const r = this.routeRt(this.rt(host), dst);
    if (!r) ctx.event("drop", host, `no route to ${formatIp(dst)}`);
    else this.resolveNeighbour(ctx, this.rt(host), r);
    ctx.drain();
    return ctx.trace();
  }

  /** Sends an IP datagram from `host` to `dst`: route lookup, next-hop resolution, then the frame. */
  send(host: string, opts: SendOptions): Trace {
    const ctx = this.begin();
    const dst = typeof opts.dst === "string" ? parseIpLoose(opts.dst) : opts.dst;
    const hr = this.rt(host);
    if (this.down.has(host)) {
      ctx.event("drop", host, "host is down");
      return ctx.trace();
    }
    const r = this.routeRt(hr, dst);
    if (!r) {
      ctx.event("drop", host, `no route to ${formatIp(dst)}`);
      return ctx.trace();
    }
    r.sendText ??= `${formatIp(dst)} via ${formatIp(r.nh)} dev ${r.dev} src ${formatIp(r.src)}`;
    ctx.event("route", host, r.sendText);
    const mac = this.resolveNeighbour(ctx, hr, r);
    if (mac === undefined) return ctx.trace();
    const n = r.out!;
    const proto =
      opts.proto === "udp"
        ? IP_PROTO.udp
        : opts.proto === "icmp"
          ? dst.family === 4
            ? IP_PROTO.icmp
            : IP_PROTO.icmpv6
          : IP_PROTO.tcp;
    const frame = ipFrame({
      dlSrc: n.nic.mac,
      dlDst: mac,
      src: r.src,
      dst,
      proto,
      tpSrc: opts.tpSrc ?? 0,
      tpDst: opts.tpDst ?? 0,
      tcpFlags: opts.tcpFlags ?? 0,
    });
    ctx.lazy("send", n.at, DESCRIBE, n.desc, frame);
    this.hostTransmitRt(ctx, hr, r.dev, frame, false, n);
    ctx.drain();
    return ctx.trace();
  }

  // ---- internals: the path of a frame ---------------------------------------------------

  private nicRt(host: string, name: string): NicRt {
    const n = this.rt(host).nics.get(name);
    if (!n) throw new SimError("UNKNOWN_PORT", `host ${host} has no interface ${name}`);
    return n;
  }

  /** Runs one queued job (see Ctx.drain). */
  private runJob(ctx: Ctx, kind: number, a: unknown, b: unknown, c: unknown, frame: Flow): void {
    switch (kind) {
      case J_ARRIVE:
        this.arrive(ctx, a as LinkEnd, frame);
        return;
      case J_HOST_RECEIVE:
        this.hostReceive(ctx, a as HostRt, b as string, frame);
        return;
      case J_BRIDGE_TRANSMIT:
        this.hostTransmitRt(ctx, a as HostRt, b as string, frame, true);
        return;
      case J_BRIDGE_RECEIVE:
        this.bridgeReceive(ctx, a as HostRt, b as string, c as string, frame);
        return;
    }
  }

  private wireSend(ctx: Ctx, end: string, peer: LinkEnd | undefined, frame: Flow): void {
    if (!peer) {
      ctx.event("drop", end, "no cable on this port");
      return;
    }
    ctx.push(J_ARRIVE, peer, undefined, undefined, frame);
  }

  private arrive(ctx: Ctx, end: LinkEnd, frame: Flow): void {
    if (++ctx.steps > MAX_STEPS) {
      if (ctx.steps === MAX_STEPS + 1)
        ctx.event("drop", end.end, `step limit ${MAX_STEPS} reached, stopping`);
      return;
    }
    if (end.sw) this.switchReceive(ctx, end.sw, end.swPort, frame);
    else this.hostReceive(ctx, end.hostRt ?? this.rt(end.host), end.nic, frame, end.nicRt);
  }

  private switchReceive(ctx: Ctx, s: SwitchRt, p: SwPortRt | undefined, frame: Flow): void {
    if (!p) return;
    const at = p.at;
    if (ctx.entered(p, frame)) {
      ctx.addLoop(at);
      ctx.event(
        "loop",
        at,
        `loop detected: this frame already entered ${at}; dropping the copy (${describeFrame(frame)})`,
      );
      return;
    }
    const d = normalDecide(
      s.sw.ports,
      s.table,
      p.cfg.port,
      frame.vlans,
      frame.dl_src,
      frame.dl_dst,
      this.now,
    );
    ctx.lazy(d.kind === "drop" ? "drop" : "switch", at, SWITCH, d, frame);
    const outputs = d.outputs;
    for (let i = 0; i < outputs.length; i++) {
      const o = outputs[i]!;
      const out = s.ports.get(o.name);
      // A copy leaving with the tags it came with is the same frame (frames are immutable).
      const copy = sameVlans(o.vlans, frame.vlans) ? frame : withFlow(frame, { vlans: o.vlans });
      this.wireSend(ctx, out?.at ?? `${s.sw.name}:${o.name}`, out?.peer, copy);
    }
  }

  private hostReceive(ctx: Ctx, hr: HostRt, nicName: string, frame: Flow, nr?: NicRt): void {
    const hostName = hr.host.name;
    const n = nr ?? hr.nics.get(nicName);
    if (this.down.has(hostName)) {
      ctx.event("drop", n?.at ?? `${hostName}/${nicName}`, "host is down");
      return;
    }
    if (!n) return;
    const nic = n.nic;
    const at = n.at;
    if (!nic.up) {
      ctx.event("drop", at, "interface is down");
      return;
    }
    const host = hr.host;
    if (nic.master !== undefined) {
      // A packet socket on an enslaved interface still sees the frame; then OVS takes it.
      for (const tap of this.taps) tap(ctx, host, nic, frame);
      this.bridgeReceive(ctx, hr, nic.master, nicName, frame);
      return;
    }
    const outer = frame.vlans[0];
    if (outer) {
      const child = n.children.get(outer.vid);
      if (!child) {
        ctx.event(
          "drop",
          at,
          `tagged VLAN ${outer.vid} and no VLAN sub-interface for it on ${nicName}`,
          frame,
        );
        return;
      }
      this.hostReceive(ctx, hr, child.nic.name, withFlow(frame, { vlans: frame.vlans.slice(1) }), child);
      return;
    }
    this.stackReceive(ctx, hr, n, frame);
  }

  private bridgeReceive(ctx: Ctx, hr: HostRt, bridgeName: string, inPort: string, frame: Flow): void {
    const host = hr.host;
    const brt = hr.bridges.get(bridgeName);
    if (!brt) {
      ctx.event("drop", `${host.name}/${bridgeName}`, "no such bridge");
      return;
    }
    const at = brt.at;
    const res = brt.impl.receive(frame, inPort, this.now);
    const head = bridgeHead(brt, inPort, res.outputs);
    const lines = res.trace;
    if (typeof lines === "function") ctx.lazy("bridge", at, BRIDGE, lines, frame, head);
    else ctx.event("bridge", at, `${head}\n${lines.join("\n")}`, frame);
    const outputs = res.outputs;
    for (let i = 0; i < outputs.length; i++) {
      const o = outputs[i]!;
      if (o.port === bridgeName) {
        ctx.push(J_HOST_RECEIVE, hr, bridgeName, undefined, o.frame);
      } else if (host.nics.get(o.port)?.master === bridgeName) {
        ctx.push(J_BRIDGE_TRANSMIT, hr, o.port, undefined, o.frame);
      } else {
        ctx.addExit({ host: host.name, bridge: bridgeName, port: o.port, frame: o.frame });
        let x = brt.exits.get(o.port);
        if (!x) {
          x = { at: `${at}:${o.port}`, text: `left the physical network into OVS port ${o.port}` };
          brt.exits.set(o.port, x);
        }
        ctx.event("exit", x.at, x.text, o.frame);
      }
    }
    const answers = res.answers;
    if (answers === undefined) return;
    for (const a of answers) {
      ctx.event("host", `${at}:${a.port}`, `answers through OVS port ${a.port}: ${a.note}`, a.frame);
      ctx.push(J_BRIDGE_RECEIVE, hr, bridgeName, a.port, a.frame);
    }
  }

  /** A frame leaving a host interface (from the stack, a raw socket or a bridge output). */
  private hostTransmit(ctx: Ctx, hostName: string, nicName: string, frame: Flow): void {
    this.hostTransmitRt(ctx, this.rt(hostName), nicName, frame, false);
  }

  private hostTransmitRt(
    ctx: Ctx,
    hr: HostRt,
    nicName: string,
    frame: Flow,
    fromBridge: boolean,
    nr?: NicRt,
  ): void {
    const hostName = hr.host.name;
    const n = nr ?? hr.nics.get(nicName);
    if (this.down.has(hostName)) {
      ctx.event("drop", n?.at ?? `${hostName}/${nicName}`, "host is down");
      return;
    }
    if (!n) {
      ctx.event("drop", `${hostName}/${nicName}`, "no such interface");
      return;
    }
    const nic = n.nic;
    if (!nic.up) {
      ctx.event("drop", n.at, "interface is down");
      return;
    }
    if (nic.internalOf !== undefined && !fromBridge) {
      this.bridgeReceive(ctx, hr, nic.internalOf, nicName, frame);
      return;
    }
    if (nic.parent !== undefined && nic.vid !== undefined) {
      const tagged = withFlow(frame, {
        vlans: [{ tpid: ETH_TYPE.vlan, pcp: 0, vid: nic.vid }, ...frame.vlans],
      });
      // The VLAN device hands the tagged frame to its lower device as the stack would
      // (dev_queue_xmit): an enslaved NIC puts it on the wire, a bridge internal port into the bridge.
      this.hostTransmitRt(ctx, hr, nic.parent, tagged, false);
      return;
    }
    ctx.lazy("wire", n.at, DESCRIBE, n.desc, frame);
    this.wireSend(ctx, n.end, n.peer, frame);
  }

  private accepts(host: Host, nic: Nic, f: Flow): boolean {
    if (f.dl_dst === nic.mac || f.dl_dst === BROADCAST) return true;
    if (!isMulticast(f.dl_dst)) return false;
    if (Math.floor(f.dl_dst / 2 ** 32) !== 0x3333) return false;
    const low = f.dl_dst % 2 ** 32;
    if (f.dl_dst === 0x333300000001) return true;
    const groups = this.listeners.get(host.name);
    for (const g of groups ?? []) if (Number(g & 0xffffffffn) === low) return true;
    for (const n of host.nics.values()) {
      for (const a of n.addresses)
        if (a.ip.family === 6 && Number(a.ip.v & 0xffffffn) + 0xff000000 === low) return true;
      if (n.linkLocal6 !== undefined && Number(n.linkLocal6 & 0xffffffn) + 0xff000000 === low) return true;
    }
    return false;
  }

  private stackReceive(ctx: Ctx, hr: HostRt, n: NicRt, f: Flow): void {
    const host = hr.host;
    const nic = n.nic;
    for (const tap of this.taps) tap(ctx, host, nic, f);
    if (!this.accepts(host, nic, f)) {
      ctx.event("host", n.at, `not addressed to ${formatMac(nic.mac)}, ignored`, f);
      return;
    }
    if (f.dl_type === ETH_TYPE.arp) this.arpProcess(ctx, hr, n, f);
    else if (f.dl_type === ETH_TYPE.ipv6 && f.nw_proto === IP_PROTO.icmpv6 && f.tp_src === ICMP6.ns)
      this.nsProcess(ctx, hr, n, f);
    else if (f.dl_type === ETH_TYPE.ipv6 && f.nw_proto === IP_PROTO.icmpv6 && f.tp_src === ICMP6.na)
      this.naProcess(ctx, hr, n, f);
    else if (f.dl_type === ETH_TYPE.ip || f.dl_type === ETH_TYPE.ipv6) this.ipProcess(ctx, hr, n, f);
    else ctx.event("host", n.at, "ethertype not handled, ignored", f);
  }

  /** Whether `ip` is an address of interface `n` (the host-wide check is `HostRt.local`). */
  private localOn(n: Nic, ip: IpAddr): boolean {
    if (!n.up) return false;
    for (const a of n.addresses) if (sameIp(a.ip, ip)) return true;
    if (ip.family === 6 && n.linkLocal6 === ip.v) return true;
    return false;
  }

  /** Linux neigh_update: a different address on a valid entry needs `override`. */
  private neighUpdate(
    ctx: Ctx,
    hr: HostRt,
    nr: NicRt,
    ip: IpAddr,
    mac: number,
    opts: { create: boolean; override: boolean; why: string },
  ): void {
    const key = addrKey(ip);
    let n = nr.neigh.get(key);
    const at = nr.at;
    if (!n) {
      if (!opts.create) return;
      n = { ip, iface: nr.nic.name, mac: undefined, updated: this.now, cachedText: undefined };
      nr.neigh.set(key, n);
      hr.neighOrder.push(n);
    }
    // neigh_update moves `updated` only when something changes (a no-op must not extend locktime).
    if (n.mac === mac) return;
    if (n.mac !== undefined && !opts.override) {
      ctx.event(
        "neigh",
        at,
        `${formatIp(ip)} stays ${formatMac(n.mac)}: ${formatMac(mac)} ignored (${opts.why})`,
      );
      return;
    }
    const before = n.mac === undefined ? "new" : `was ${formatMac(n.mac)}`;
    n.mac = mac;
    n.cachedText = undefined;
    n.updated = this.now;
    ctx.event("neigh", at, `${formatIp(ip)} lladdr ${formatMac(mac)} (${before}; ${opts.why})`);
  }

  private arpProcess(ctx: Ctx, hr: HostRt, nr: NicRt, f: Flow): void {
    const host = hr.host;
    const nic = nr.nic;
    const at = nr.at;
    if (nic.noarp) return;
    const sip: IpAddr = { family: 4, v: BigInt(f.nw_src >>> 0) };
    if (f.nw_proto === ARP_OP.request && f.nw_src !== f.nw_dst && hr.local.has(f.nw_dst >>> 0)) {
      const tip: IpAddr = { family: 4, v: BigInt(f.nw_dst >>> 0) };
      this.neighUpdate(ctx, hr, nr, sip, f.arp_sha, {
        create: true,
        override: true,
        why: "ARP request for a local address",
      });
      const reply = arpFrame({
        op: ARP_OP.reply,
        dlSrc: nic.mac,
        dlDst: f.arp_sha,
        sha: nic.mac,
        spa: tip,
        tha: f.arp_sha,
        tpa: sip,
      });
      ctx.event("host", at, `answers ARP for ${formatIp(tip)} with ${formatMac(nic.mac)}`, reply);
      this.hostTransmitRt(ctx, hr, nic.name, reply, false, nr);
      return;
    }
    const garp = f.nw_src === f.nw_dst && (f.nw_proto === ARP_OP.request || f.arp_tha === f.arp_sha);
    const existing = nr.neigh.get(f.nw_src >>> 0);
    const create = host.arpAccept && (garp || f.nw_proto === ARP_OP.reply);
    if (!existing && !create) {
      ctx.event(
        "host",
        at,
        `${describeFrame(f).split(", ").slice(-1)[0]}: no entry for ${formatIp(sip)}, not cached`,
      );
      return;
    }
    const locked = existing?.mac !== undefined && this.now < existing.updated + host.locktime;
    const override = !locked || garp;
    this.neighUpdate(ctx, hr, nr, sip, f.arp_sha, {
      create,
      override,
      why: garp
        ? "gratuitous ARP"
        : locked
          ? `within locktime ${host.locktime}s`
          : f.nw_proto === ARP_OP.reply
            ? "ARP reply"
            : "ARP request",
    });
  }

  private nsProcess(ctx: Ctx, hr: HostRt, nr: NicRt, f: Flow): void {
    const host = hr.host;
    const nic = nr.nic;
    const at = nr.at;
    const target: IpAddr = { family: 6, v: f.nd_target };
    if (!this.localOn(nic, target)) return;
    const src: IpAddr = { family: 6, v: f.ipv6_src };
    if (f.ipv6_src !== 0n && f.arp_sha !== 0) {
      this.neighUpdate(ctx, hr, nr, src, f.arp_sha, {
        create: true,
        override: true,
        why: "neighbor solicitation",
      });
    }
    const na = naFrame({
      dlSrc: nic.mac,
      dlDst: f.ipv6_src === 0n ? 0x333300000001 : f.arp_sha,
      src: f.nd_target,
      dst: f.ipv6_src === 0n ? ALL_NODES6 : f.ipv6_src,
      target: f.nd_target,
      tll: nic.mac,
      flags:
        (host.forwarding ? NA_FLAG.router : 0) |
        (f.ipv6_src === 0n ? 0 : NA_FLAG.solicited) |
        NA_FLAG.override,
    });
    ctx.event("host", at, `answers NS for ${formatIp(target)} with ${formatMac(nic.mac)}`, na);
    this.hostTransmitRt(ctx, hr, nic.name, na, false, nr);
  }

  private naProcess(ctx: Ctx, hr: HostRt, nr: NicRt, f: Flow): void {
    const target: IpAddr = { family: 6, v: f.nd_target };
    const existing = nr.neigh.get(f.nd_target);
    if (!existing) {
      ctx.event("host", nr.at, `NA for ${formatIp(target)}: no entry, not cached`);
      return;
    }
    const o = (f.tcp_flags & NA_FLAG.override) !== 0;
    this.neighUpdate(ctx, hr, nr, target, f.arp_tha, {
      create: false,
      override: o,
      why: o ? "NA with override flag" : "NA without override flag",
    });
  }

  private ipProcess(ctx: Ctx, hr: HostRt, nr: NicRt, f: Flow): void {
    const host = hr.host;
    const at = nr.at;
    const v6 = f.dl_type === ETH_TYPE.ipv6;
    const key = v6 ? f.ipv6_dst : f.nw_dst >>> 0;
    if (hr.local.has(key)) {
      ctx.addDelivery({ host: host.name, iface: nr.nic.name, frame: f });
      ctx.lazy("deliver", at, DELIVER, host.name, f);
      return;
    }
    if (!host.forwarding || f.dl_dst !== nr.nic.mac) {
      ctx.event("drop", at, `${formatIp(ipOfKey(key))} is not local and ${host.name} does not forward it`, f);
      return;
    }
    if (f.nw_ttl <= 1) {
      ctx.event("drop", at, "TTL expired in transit", f);
      return;
    }
    let r = hr.routes.get(key);
    if (r === undefined) r = this.routeRt(hr, ipOfKey(key));
    if (!r) {
      ctx.event("drop", at, `no route to ${formatIp(ipOfKey(key))}`, f);
      return;
    }
    r.fwdText ??= `forward ${formatIp(ipOfKey(key))} via ${formatIp(r.nh)} dev ${r.dev}`;
    ctx.event("route", host.name, r.fwdText);
    const mac = this.resolveNeighbour(ctx, hr, r);
    if (mac === undefined) return;
    const out = r.out!;
    // withFlow(f, { dl_src, dl_dst, nw_ttl, vlans: [] }), written out (see rewriteFrame).
    const fwd = rewriteFrame(
      f,
      out.nic.mac,
      mac,
      f.dl_type,
      NO_VLANS,
      f.nw_src,
      f.nw_dst,
      f.ipv6_src,
      f.ipv6_dst,
      f.nw_proto,
      f.nw_ttl - 1,
      f.tp_src,
      f.tp_dst,
      f.tcp_flags,
    );
    this.hostTransmitRt(ctx, hr, r.dev, fwd, false, out);
  }

  /** Longest-prefix route lookup (connected routes first among equals). */
  route(hostName: string, dst: IpAddr): { dev: string; nh: IpAddr; src: IpAddr } | undefined {
    const r = this.routeRt(this.rt(hostName), dst);
    return r ? { dev: r.dev, nh: r.nh, src: r.src } : undefined;
  }

  /** The route to `dst`, looked up once per destination (the topology does not change). */
  private routeRt(hr: HostRt, dst: IpAddr): RouteRt | undefined {
    const key = addrKey(dst);
    const hit = hr.routes.get(key);
    if (hit !== undefined) return hit ?? undefined;
    const r = lookupRoute(hr, dst);
    if (hr.routes.size >= 4096) hr.routes.clear();
    hr.routes.set(key, r ?? null);
    return r;
  }

  /** Next-hop resolution: the cache, or one ARP request / neighbour solicitation exchange. */
  private resolveNeighbour(ctx: Ctx, hr: HostRt, r: RouteRt): number | undefined {
    const nr = r.out ?? this.nicRt(hr.host.name, r.dev);
    const nic = nr.nic;
    const nh = r.nh;
    const src = r.src;
    const dev = r.dev;
    const key = r.nhKey;
    const hit = nr.neigh.get(key);
    if (hit?.mac !== undefined) {
      hit.cachedText ??= `${formatIp(nh)} is ${formatMac(hit.mac)} (cached)`;
      ctx.event("neigh", nr.at, hit.cachedText);
      return hit.mac;
    }
    if (!hit) {
      const n: MutNeigh = { ip: nh, iface: dev, mac: undefined, updated: this.now, cachedText: undefined };
      nr.neigh.set(key, n);
      hr.neighOrder.push(n);
    }
    const req =
      nh.family === 4
        ? arpFrame({
            op: ARP_OP.request,
            dlSrc: nic.mac,
            dlDst: BROADCAST,
            sha: nic.mac,
            spa: src,
            tha: 0,
            tpa: nh,
          })
        : nsFrame({ dlSrc: nic.mac, src: src.v, target: nh.v });
    ctx.event("neigh", nr.at, `resolving ${formatIp(nh)}: ${describeFrame(req)}`, req);
    // The exchange runs to completion before the packet goes: a nested queue above the outer one.
    const savedHead = ctx.head;
    const base = ctx.end;
    ctx.head = base;
    ctx.depth++;
    this.hostTransmitRt(ctx, hr, dev, req, false, nr);
    ctx.drain();
    ctx.depth--;
    ctx.truncate(base);
    ctx.head = savedHead;
    const mac = nr.neigh.get(key)?.mac;
    if (mac === undefined) {
      ctx.event("drop", nr.at, `${formatIp(nh)} did not answer: next hop unresolved, packet dropped`);
    }
    return mac;
  }
}

/** The "in_port … -> …" headline of a bridge step, made once per input and output ports. */
function bridgeHead(brt: BridgeRt, inPort: string, outputs: readonly BridgeOutput[]): string {
  let outs = "";
  for (let i = 0; i < outputs.length; i++) outs += i === 0 ? outputs[i]!.port : `, ${outputs[i]!.port}`;
  let byOut = brt.heads.get(inPort);
  if (!byOut) {
    byOut = new Map();
    brt.heads.set(inPort, byOut);
  }
  let head = byOut.get(outs);
  if (head === undefined) {
    head = `in_port ${inPort}${outputs.length ? ` -> ${outs}` : " -> drop"}`;
    if (byOut.size >= 256) byOut.clear();
    byOut.set(outs, head);
  }
  return head;
}

/** An address from its map key (see addrKey). */
function ipOfKey(key: number | bigint): IpAddr {
  return typeof key === "bigint" ? { family: 6, v: key } : { family: 4, v: BigInt(key) };
}

function lookupRoute(hr: HostRt, dst: IpAddr): RouteRt | undefined {
  const host = hr.host;
  let best: { plen: number; dev: string; via: IpAddr | undefined } | undefined;
  for (const n of host.nics.values()) {
    if (!n.up) continue;
    for (const a of n.addresses) {
      if (inPrefix(dst, a) && (!best || a.plen > best.plen))
        best = { plen: a.plen, dev: n.name, via: undefined };
    }
  }
  for (const r of host.routes) {
    if (!inPrefix(dst, r.dst) || (best && r.dst.plen <= best.plen)) continue;
    let dev = r.dev;
    if (dev === undefined && r.via !== undefined) {
      const via = r.via;
      dev = [...host.nics.values()].find((n) => n.up && n.addresses.some((a) => inPrefix(via, a)))?.name;
    }
    if (dev !== undefined) best = { plen: r.dst.plen, dev, via: r.via };
  }
  if (!best) return undefined;
  const dev = host.nics.get(best.dev);
  const src =
    dev?.addresses.find((a) => a.ip.family === dst.family)?.ip ??
    [...host.nics.values()].flatMap((n) => n.addresses).find((a) => a.ip.family === dst.family)?.ip;
  if (!src) return undefined;
  const out = hr.nics.get(best.dev);
  const nh = best.via ?? dst;
  return { dev: best.dev, nh, src, out, nhKey: addrKey(nh), sendText: undefined, fwdText: undefined };
}

function parseIpLoose(text: string): IpAddr {
  let ip = PARSED.get(text);
  if (ip === undefined) {
    ip = parseIp(text, "ip");
    if (PARSED.size >= 4096) PARSED.clear();
    PARSED.set(text, ip);
  }
  return ip;
}

/** The trace as text: one event per line, `t=…` then the place and what happened. */
export function formatTrace(trace: Trace): string {
  return trace.events
    .map((e) => {
      const pad = "  ".repeat(e.depth);
      const head = `[${e.t.toFixed(3)}] ${pad}${e.kind.padEnd(7)} ${e.at}: `;
      const body = e.text.split("\n");
      return head + body.map((l, i) => (i === 0 ? l : `${" ".repeat(head.length)}${l}`)).join("\n");
    })
    .join("\n");
}
