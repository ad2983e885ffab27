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
 */
import { MacTable, normalDecide } from "@ovnsim/l2";
import { ETH_TYPE, type Flow, formatMac, IP_PROTO, SimError, withFlow } from "@ovnsim/packet";
import { formatIp, type IpAddr, inPrefix, ipKey, parseIp, sameIp } from "./addr.js";
import { type AttachedBridge, NormalBridge } from "./bridge.js";
import { describeFrame } from "./describe.js";
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
} from "./frames.js";
import { compileTopology, type Host, type Nic, type Topology, type TopologySpec } from "./topology.js";

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

class Ctx implements TapApi {
  readonly events: TraceEvent[] = [];
  readonly delivered: Delivery[] = [];
  readonly exits: BridgeExit[] = [];
  readonly loops: string[] = [];
  readonly seen = new Set<string>();
  queue: (() => void)[] = [];
  depth = 0;
  steps = 0;
  constructor(
    private readonly net: PhysicalNetwork,
    private readonly transmitFn: (ctx: Ctx, host: string, iface: string, frame: Flow) => void,
  ) {}
  get now(): number {
    return this.net.now;
  }
  event(kind: TraceKind, at: string, text: string, frame?: Flow): void {
    this.events.push({ t: this.net.now, kind, at, text, depth: this.depth, ...(frame ? { frame } : {}) });
  }
  /** An event whose text is `head`, a newline and `rest()`, rendered when the text is first read. */
  lazyEvent(kind: TraceKind, at: string, head: string, rest: () => string, frame?: Flow): void {
    let text: string | undefined;
    const e = {
      t: this.net.now,
      kind,
      at,
      get text(): string {
        text ??= `${head}\n${rest()}`;
        return text;
      },
      head,
      depth: this.depth,
      ...(frame ? { frame } : {}),
    };
    this.events.push(e);
  }
  transmit(host: string, iface: string, frame: Flow): void {
    this.transmitFn(this, host, iface, frame);
  }
  drain(): void {
    while (this.queue.length > 0) {
      const job = this.queue.shift();
      job?.();
    }
  }
  trace(): Trace {
    return { events: this.events, delivered: this.delivered, exits: this.exits, loops: this.loops };
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

function frameKey(f: Flow): string {
  return [
    f.dl_src,
    f.dl_dst,
    f.dl_type,
    f.vlans.map((v) => `${v.tpid}.${v.pcp}.${v.vid}`).join("/"),
    f.nw_src,
    f.nw_dst,
    f.ipv6_src.toString(16),
    f.ipv6_dst.toString(16),
    f.nw_proto,
    f.nw_ttl,
    f.tp_src,
    f.tp_dst,
    f.arp_sha,
    f.arp_tha,
    f.nd_target.toString(16),
    f.tcp_flags,
  ].join(",");
}

function isMulticast(mac: number): boolean {
  return Math.floor(mac / 2 ** 40) % 2 === 1;
}

export class PhysicalNetwork {
  readonly topology: Topology;
  /** Virtual time, seconds. */
  now = 0;
  private readonly fdbs = new Map<string, MacTable>();
  private readonly neigh = new Map<string, Map<string, MutNeigh>>();
  private readonly down = new Set<string>();
  private readonly bridges = new Map<string, AttachedBridge>();
  private readonly taps: FrameTap[] = [];
  private readonly listeners = new Map<string, Set<bigint>>();
  private timers: Timer[] = [];
  private seq = 0;

  constructor(spec: TopologySpec | Topology) {
    this.topology =
      "links" in spec && spec.links instanceof Map
        ? (spec as Topology)
        : compileTopology(spec as TopologySpec);
    for (const sw of this.topology.switches.values()) {
      this.fdbs.set(sw.name, new MacTable({ idleTime: sw.macAgingTime }));
    }
    for (const h of this.topology.hosts.values()) {
      this.neigh.set(h.name, new Map());
      for (const b of h.bridges) {
        this.bridges.set(
          `${h.name}/${b.name}`,
          new NormalBridge(b.name, [...b.ports, ...(b.ovsPorts ?? []).map((name) => ({ name }))]),
        );
      }
    }
  }

  // ---- configuration -------------------------------------------------------------------

  /** Plugs an OVS bridge implementation (e.g. the OpenFlow package's br-provider) into a host. */
  attachBridge(host: string, bridge: AttachedBridge): void {
    const h = this.host(host);
    if (!h.bridges.some((b) => b.name === bridge.name)) {
      throw new SimError("UNKNOWN_OBJECT", `host ${host} has no bridge ${bridge.name}`);
    }
    this.bridges.set(`${host}/${bridge.name}`, bridge);
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

  // ---- inspection ----------------------------------------------------------------------

  /** The neighbour (ARP/ND) cache of a host. */
  neighbours(host: string): readonly NeighEntry[] {
    this.host(host);
    return [...(this.neigh.get(host)?.values() ?? [])].map((n) => ({
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
    for (const n of this.neigh.get(host)?.values() ?? [])
      if (sameIp(n.ip, a) && n.mac !== undefined) return n.mac;
    return undefined;
  }

  /** A switch's forwarding database. */
  fdb(sw: string): MacTable {
    const t = this.fdbs.get(sw);
    if (!t) throw new SimError("UNKNOWN_OBJECT", `no switch ${sw}`);
    return t;
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
    const ctx = this.ctx();
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
    const ctx = this.ctx();
    fn(ctx);
    ctx.drain();
    return ctx.trace();
  }

  private ctx(): Ctx {
    return new Ctx(this, (c, h, i, f) => this.hostTransmit(c, h, i, f));
  }

  // ---- actions -------------------------------------------------------------------------

  /** Puts a raw frame on the wire from a host interface (through its VLAN parent / bridge as Linux would). */
  inject(host: string, iface: string, frame: Flow): Trace {
    const ctx = this.ctx();
    this.nic(host, iface);
    ctx.event("send", `${host}/${iface}`, describeFrame(frame), frame);
    this.hostTransmit(ctx, host, iface, frame);
    ctx.drain();
    return ctx.trace();
  }

  /** Resolves `ip` from `host` (ARP or neighbour solicitation), as the kernel does before sending. */
  resolve(host: string, ip: string | IpAddr): Trace {
    const ctx = this.ctx();
    const dst = typeof ip === "string" ? parseIpLoose(ip) : ip;
    const r = this.route(host, dst);
    if (!r) ctx.event("drop", host, `no route to ${formatIp(dst)}`);
    else this.resolveNeighbour(ctx, host, r.dev, r.nh, r.src);
    ctx.drain();
    return ctx.trace();
  }

  /** Sends an IP datagram from `host` to `dst`: route lookup, next-hop resolution, then the frame. */
  send(host: string, opts: SendOptions): Trace {
    const ctx = this.ctx();
    const dst = typeof opts.dst === "string" ? parseIpLoose(opts.dst) : opts.dst;
    this.host(host);
    if (this.down.has(host)) {
      ctx.event("drop", host, "host is down");
      return ctx.trace();
    }
    const r = this.route(host, dst);
    if (!r) {
      ctx.event("drop", host, `no route to ${formatIp(dst)}`);
      return ctx.trace();
    }
    ctx.event("route", host, `${formatIp(dst)} via ${formatIp(r.nh)} dev ${r.dev} src ${formatIp(r.src)}`);
    const mac = this.resolveNeighbour(ctx, host, r.dev, r.nh, r.src);
    if (mac === undefined) return ctx.trace();
    const nic = this.nic(host, r.dev);
    const proto =
      opts.proto === "udp"
        ? IP_PROTO.udp
        : opts.proto === "icmp"
          ? dst.family === 4
            ? IP_PROTO.icmp
            : IP_PROTO.icmpv6
          : IP_PROTO.tcp;
    const frame = ipFrame({
      dlSrc: nic.mac,
      dlDst: mac,
      src: r.src,
      dst,
      proto,
      tpSrc: opts.tpSrc ?? 0,
      tpDst: opts.tpDst ?? 0,
      tcpFlags: opts.tcpFlags ?? 0,
    });
    ctx.event("send", `${host}/${r.dev}`, describeFrame(frame), frame);
    this.hostTransmit(ctx, host, r.dev, frame);
    ctx.drain();
    return ctx.trace();
  }

  // ---- internals: the path of a frame ---------------------------------------------------

  private nic(host: string, name: string): Nic {
    const n = this.host(host).nics.get(name);
    if (!n) throw new SimError("UNKNOWN_PORT", `host ${host} has no interface ${name}`);
    return n;
  }

  private wireSend(ctx: Ctx, end: string, frame: Flow): void {
    const peer = this.topology.links.get(end);
    if (!peer) {
      ctx.event("drop", end, "no cable on this port");
      return;
    }
    ctx.queue.push(() => this.arrive(ctx, peer, frame));
  }

  private arrive(ctx: Ctx, end: string, frame: Flow): void {
    if (++ctx.steps > MAX_STEPS) {
      if (ctx.steps === MAX_STEPS + 1) ctx.event("drop", end, `step limit ${MAX_STEPS} reached, stopping`);
      return;
    }
    const colon = end.indexOf(":");
    const dev = end.slice(0, colon);
    const port = end.slice(colon + 1);
    if (this.topology.switches.has(dev)) this.switchReceive(ctx, dev, port, frame);
    else this.hostReceive(ctx, dev, port, frame);
  }

  private switchReceive(ctx: Ctx, swName: string, portName: string, frame: Flow): void {
    const at = `${swName}:${portName}`;
    const key = `${at}|${frameKey(frame)}`;
    if (ctx.seen.has(key)) {
      ctx.loops.push(at);
      ctx.event(
        "loop",
        at,
        `loop detected: this frame already entered ${at}; dropping the copy (${describeFrame(frame)})`,
      );
      return;
    }
    ctx.seen.add(key);
    const sw = this.topology.switches.get(swName);
    const cfg = sw?.portByName.get(portName);
    const table = this.fdbs.get(swName);
    if (!sw || !cfg || !table) return;
    const d = normalDecide(sw.ports, table, cfg.port, frame.vlans, frame.dl_src, frame.dl_dst, this.now);
    const notes = d.notes.map((n) => n.text).join("; ");
    const outs = d.outputs.map(
      (o) => `${o.name}${o.vlans.length ? `(vlan ${o.vlans.map((v) => v.vid).join(".")})` : "(untagged)"}`,
    );
    const vlan = d.vlan !== undefined ? `VLAN ${d.vlan}: ` : "";
    ctx.event(
      d.kind === "drop" ? "drop" : "switch",
      at,
      `${vlan}${notes}${outs.length ? ` -> ${outs.join(", ")}` : ""}`,
      frame,
    );
    for (const o of d.outputs) this.wireSend(ctx, `${swName}:${o.name}`, withFlow(frame, { vlans: o.vlans }));
  }

  private hostReceive(ctx: Ctx, hostName: string, nicName: string, frame: Flow): void {
    const host = this.host(hostName);
    const at = `${hostName}/${nicName}`;
    if (this.down.has(hostName)) {
      ctx.event("drop", at, "host is down");
      return;
    }
    const nic = host.nics.get(nicName);
    if (!nic) return;
    if (!nic.up) {
      ctx.event("drop", at, "interface is down");
      return;
    }
    if (nic.master !== undefined) {
      // A packet socket on an enslaved interface still sees the frame; then OVS takes it.
      for (const tap of this.taps) tap(ctx, host, nic, frame);
      this.bridgeReceive(ctx, host, nic.master, nicName, frame);
      return;
    }
    const outer = frame.vlans[0];
    if (outer) {
      const child = [...host.nics.values()].find((n) => n.parent === nicName && n.vid === outer.vid);
      if (!child) {
        ctx.event(
          "drop",
          at,
          `tagged VLAN ${outer.vid} and no VLAN sub-interface for it on ${nicName}`,
          frame,
        );
        return;
      }
      this.hostReceive(ctx, hostName, child.name, withFlow(frame, { vlans: frame.vlans.slice(1) }));
      return;
    }
    this.stackReceive(ctx, host, nic, frame);
  }

  private bridgeReceive(ctx: Ctx, host: Host, bridgeName: string, inPort: string, frame: Flow): void {
    const br = this.bridges.get(`${host.name}/${bridgeName}`);
    const at = `${host.name}/${bridgeName}`;
    if (!br) {
      ctx.event("drop", at, "no such bridge");
      return;
    }
    const res = br.receive(frame, inPort, this.now);
    const outs = res.outputs.map((o) => o.port);
    const head = `in_port ${inPort}${outs.length ? ` -> ${outs.join(", ")}` : " -> drop"}`;
    const lines = res.trace;
    if (typeof lines === "function") ctx.lazyEvent("bridge", at, head, () => lines().join("\n"), frame);
    else ctx.event("bridge", at, `${head}\n${lines.join("\n")}`, frame);
    for (const o of res.outputs) {
      if (o.port === bridgeName) {
        ctx.queue.push(() => this.hostReceive(ctx, host.name, bridgeName, o.frame));
      } else if (host.nics.get(o.port)?.master === bridgeName) {
        ctx.queue.push(() => this.hostTransmit(ctx, host.name, o.port, o.frame, true));
      } else {
        ctx.exits.push({ host: host.name, bridge: bridgeName, port: o.port, frame: o.frame });
        ctx.event("exit", `${at}:${o.port}`, `left the physical network into OVS port ${o.port}`, o.frame);
      }
    }
    for (const a of res.answers ?? []) {
      ctx.event("host", `${at}:${a.port}`, `answers through OVS port ${a.port}: ${a.note}`, a.frame);
      ctx.queue.push(() => this.bridgeReceive(ctx, host, bridgeName, a.port, a.frame));
    }
  }

  /** A frame leaving a host interface (from the stack, a raw socket or a bridge output). */
  private hostTransmit(ctx: Ctx, hostName: string, nicName: string, frame: Flow, fromBridge = false): void {
    const host = this.host(hostName);
    const at = `${hostName}/${nicName}`;
    if (this.down.has(hostName)) {
      ctx.event("drop", at, "host is down");
      return;
    }
    const nic = host.nics.get(nicName);
    if (!nic) {
      ctx.event("drop", at, "no such interface");
      return;
    }
    if (!nic.up) {
      ctx.event("drop", at, "interface is down");
      return;
    }
    if (nic.internalOf !== undefined && !fromBridge) {
      this.bridgeReceive(ctx, host, nic.internalOf, nicName, frame);
      return;
    }
    if (nic.parent !== undefined && nic.vid !== undefined) {
      const tagged = withFlow(frame, {
        vlans: [{ tpid: ETH_TYPE.vlan, pcp: 0, vid: nic.vid }, ...frame.vlans],
      });
      // The VLAN device hands the tagged frame to its lower device as the stack would
      // (dev_queue_xmit): an enslaved NIC puts it on the wire, a bridge internal port into the bridge.
      this.hostTransmit(ctx, hostName, nic.parent, tagged);
      return;
    }
    ctx.event("wire", at, describeFrame(frame), frame);
    this.wireSend(ctx, `${hostName}:${nicName}`, frame);
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

  private stackReceive(ctx: Ctx, host: Host, nic: Nic, f: Flow): void {
    const at = `${host.name}/${nic.name}`;
    for (const tap of this.taps) tap(ctx, host, nic, f);
    if (!this.accepts(host, nic, f)) {
      ctx.event("host", at, `not addressed to ${formatMac(nic.mac)}, ignored`, f);
      return;
    }
    if (f.dl_type === ETH_TYPE.arp) this.arpProcess(ctx, host, nic, f);
    else if (f.dl_type === ETH_TYPE.ipv6 && f.nw_proto === IP_PROTO.icmpv6 && f.tp_src === ICMP6.ns)
      this.nsProcess(ctx, host, nic, f);
    else if (f.dl_type === ETH_TYPE.ipv6 && f.nw_proto === IP_PROTO.icmpv6 && f.tp_src === ICMP6.na)
      this.naProcess(ctx, host, nic, f);
    else if (f.dl_type === ETH_TYPE.ip || f.dl_type === ETH_TYPE.ipv6) this.ipProcess(ctx, host, nic, f);
    else ctx.event("host", at, "ethertype not handled, ignored", f);
  }

  private localOn(host: Host, ip: IpAddr, only?: Nic): boolean {
    for (const n of only ? [only] : host.nics.values()) {
      if (!n.up) continue;
      for (const a of n.addresses) if (sameIp(a.ip, ip)) return true;
      if (ip.family === 6 && n.linkLocal6 === ip.v) return true;
    }
    return false;
  }

  private neighTable(host: string): Map<string, MutNeigh> {
    let m = this.neigh.get(host);
    if (!m) {
      m = new Map();
      this.neigh.set(host, m);
    }
    return m;
  }

  /** Linux neigh_update: a different address on a valid entry needs `override`. */
  private neighUpdate(
    ctx: Ctx,
    host: Host,
    nic: Nic,
    ip: IpAddr,
    mac: number,
    opts: { create: boolean; override: boolean; why: string },
  ): void {
    const table = this.neighTable(host.name);
    const key = `${nic.name}|${ipKey(ip)}`;
    let n = table.get(key);
    const at = `${host.name}/${nic.name}`;
    if (!n) {
      if (!opts.create) return;
      n = { ip, iface: nic.name, mac: undefined, updated: this.now };
      table.set(key, n);
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
    n.updated = this.now;
    ctx.event("neigh", at, `${formatIp(ip)} lladdr ${formatMac(mac)} (${before}; ${opts.why})`);
  }

  private arpProcess(ctx: Ctx, host: Host, nic: Nic, f: Flow): void {
    const at = `${host.name}/${nic.name}`;
    if (nic.noarp) return;
    const sip: IpAddr = { family: 4, v: BigInt(f.nw_src >>> 0) };
    const tip: IpAddr = { family: 4, v: BigInt(f.nw_dst >>> 0) };
    if (f.nw_proto === ARP_OP.request && f.nw_src !== f.nw_dst && this.localOn(host, tip)) {
      this.neighUpdate(ctx, host, nic, sip, f.arp_sha, {
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
      this.hostTransmit(ctx, host.name, nic.name, reply);
      return;
    }
    const garp = f.nw_src === f.nw_dst && (f.nw_proto === ARP_OP.request || f.arp_tha === f.arp_sha);
    const existing = this.neighTable(host.name).get(`${nic.name}|${ipKey(sip)}`);
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
    this.neighUpdate(ctx, host, nic, sip, f.arp_sha, {
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

  private nsProcess(ctx: Ctx, host: Host, nic: Nic, f: Flow): void {
    const at = `${host.name}/${nic.name}`;
    const target: IpAddr = { family: 6, v: f.nd_target };
    if (!this.localOn(host, target, nic)) return;
    const src: IpAddr = { family: 6, v: f.ipv6_src };
    if (f.ipv6_src !== 0n && f.arp_sha !== 0) {
      this.neighUpdate(ctx, host, nic, src, f.arp_sha, {
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
    this.hostTransmit(ctx, host.name, nic.name, na);
  }

  private naProcess(ctx: Ctx, host: Host, nic: Nic, f: Flow): void {
    const target: IpAddr = { family: 6, v: f.nd_target };
    const existing = this.neighTable(host.name).get(`${nic.name}|${ipKey(target)}`);
    if (!existing) {
      ctx.event("host", `${host.name}/${nic.name}`, `NA for ${formatIp(target)}: no entry, not cached`);
      return;
    }
    const o = (f.tcp_flags & NA_FLAG.override) !== 0;
    this.neighUpdate(ctx, host, nic, target, f.arp_tha, {
      create: false,
      override: o,
      why: o ? "NA with override flag" : "NA without override flag",
    });
  }

  private ipProcess(ctx: Ctx, host: Host, nic: Nic, f: Flow): void {
    const at = `${host.name}/${nic.name}`;
    const v6 = f.dl_type === ETH_TYPE.ipv6;
    const dst: IpAddr = v6 ? { family: 6, v: f.ipv6_dst } : { family: 4, v: BigInt(f.nw_dst >>> 0) };
    if (this.localOn(host, dst)) {
      ctx.delivered.push({ host: host.name, iface: nic.name, frame: f });
      ctx.event("deliver", at, `delivered to ${host.name} (${formatIp(dst)})`, f);
      return;
    }
    if (!host.forwarding || f.dl_dst !== nic.mac) {
      ctx.event("drop", at, `${formatIp(dst)} is not local and ${host.name} does not forward it`, f);
      return;
    }
    if (f.nw_ttl <= 1) {
      ctx.event("drop", at, "TTL expired in transit", f);
      return;
    }
    const r = this.route(host.name, dst);
    if (!r) {
      ctx.event("drop", at, `no route to ${formatIp(dst)}`, f);
      return;
    }
    ctx.event("route", host.name, `forward ${formatIp(dst)} via ${formatIp(r.nh)} dev ${r.dev}`);
    const mac = this.resolveNeighbour(ctx, host.name, r.dev, r.nh, r.src);
    if (mac === undefined) return;
    const out = this.nic(host.name, r.dev);
    const fwd = withFlow(f, { dl_src: out.mac, dl_dst: mac, nw_ttl: f.nw_ttl - 1, vlans: [] });
    this.hostTransmit(ctx, host.name, r.dev, fwd);
  }

  /** Longest-prefix route lookup (connected routes first among equals). */
  route(hostName: string, dst: IpAddr): { dev: string; nh: IpAddr; src: IpAddr } | undefined {
    const host = this.host(hostName);
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
    return { dev: best.dev, nh: best.via ?? dst, src };
  }

  /** Next-hop resolution: the cache, or one ARP request / neighbour solicitation exchange. */
  private resolveNeighbour(
    ctx: Ctx,
    hostName: string,
    dev: string,
    nh: IpAddr,
    src: IpAddr,
  ): number | undefined {
    const host = this.host(hostName);
    const nic = this.nic(hostName, dev);
    const table = this.neighTable(hostName);
    const key = `${dev}|${ipKey(nh)}`;
    const hit = table.get(key);
    if (hit?.mac !== undefined) {
      ctx.event("neigh", `${hostName}/${dev}`, `${formatIp(nh)} is ${formatMac(hit.mac)} (cached)`);
      return hit.mac;
    }
    if (!hit) table.set(key, { ip: nh, iface: dev, mac: undefined, updated: this.now });
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
    ctx.event("neigh", `${hostName}/${dev}`, `resolving ${formatIp(nh)}: ${describeFrame(req)}`, req);
    const saved = ctx.queue;
    ctx.queue = [];
    ctx.depth++;
    this.hostTransmit(ctx, host.name, dev, req);
    ctx.drain();
    ctx.depth--;
    ctx.queue = saved;
    const mac = table.get(key)?.mac;
    if (mac === undefined) {
      ctx.event(
        "drop",
        `${hostName}/${dev}`,
        `${formatIp(nh)} did not answer: next hop unresolved, packet dropped`,
      );
    }
    return mac;
  }
}

function parseIpLoose(text: string): IpAddr {
  return parseIp(text, "ip");
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
