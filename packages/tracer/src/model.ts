/**
 * The end-to-end trace as data: a tree of steps, each belonging to one layer (the physical
 * network, an OVS bridge, the OVN logical pipeline, the load balancer…), with the packet shown
 * wherever it changed, and a verdict answering the questions people ask of this scenario
 * (delivered? to which pod, on which node? client IP kept? reply from the VIP?). The shape is
 * versioned as `ovnsim.trace/v1` (schema/trace-v1.schema.json); it is what `--format json`
 * prints, and what every renderer reads.
 */
import type { Flow } from "@ovnsim/packet";
import { ETH_TYPE, IP_PROTO, formatIp4, formatIp6, formatMac, lazyProperty } from "@ovnsim/packet";
import type { OvnRef } from "./detrace.js";

export const TRACE_SCHEMA = "ovnsim.trace/v1";

/** Which simulated component a step belongs to. */
export type Layer = "physical" | "metallb" | "openflow" | "ovn" | "lb" | "conntrack" | "kube" | "host";

/** The packet as shown to a reader: the fields a trace of this path changes. */
export interface PacketView {
  readonly dl_src: string;
  readonly dl_dst: string;
  /** Outer VLAN id, or null when untagged. */
  readonly vlan: number | null;
  /** "tcp", "udp", "icmp", "arp" or the ethertype in hex. */
  readonly proto: string;
  readonly nw_src: string;
  readonly nw_dst: string;
  readonly tp_src: number;
  readonly tp_dst: number;
  /** ARP opcode name for ARP frames ("request" | "reply"). */
  readonly arp_op?: string;
}

export interface TraceStep {
  readonly layer: Layer;
  /** Where it happens: a device, bridge table, logical stage… ("tor", "br-provider table 0", "ls_in_lb"). */
  readonly where: string;
  /** The node / host / switch / router it runs on, when there is one. */
  readonly device?: string;
  /** One line for an engineer new to OVN. */
  readonly summary: string;
  /** The packet after this step, when it changed (or the first time it is shown). */
  readonly packet?: PacketView;
  /** Native detail (an ofproto/trace or ovn-trace block), shown with --detailed. */
  readonly detail?: string;
  /** "drop" ends the path here; "deliver" is the destination. */
  readonly outcome?: "drop" | "deliver";
  readonly children: readonly TraceStep[];
  /**
   * A br-int OpenFlow rule's origin (`--datapath openflow`): the southbound rows behind its
   * cookie — the logical flow (datapath, pipeline, stage, match, actions) or the Port_Binding /
   * Multicast_Group — and the northbound row when known, as ovn-detrace prints them.
   */
  readonly logical?: readonly OvnRef[];
}

export interface DropPoint {
  readonly layer: Layer;
  readonly where: string;
  readonly reason: string;
}

export interface Verdict {
  readonly delivered: boolean;
  readonly pod: string | null;
  readonly node: string | null;
  readonly announcingNode: string | null;
  /** Chosen backend "IP:port" after DNAT, or null. */
  readonly backend: string | null;
  readonly backendLocal: boolean | null;
  readonly clientIpPreserved: boolean | null;
  readonly replyDelivered: boolean | null;
  readonly replySourceIp: string | null;
  readonly droppedAt: DropPoint | null;
}

export interface FindingView {
  readonly code: string;
  readonly severity: string;
  readonly message: string;
  readonly fix: string;
}

export interface TraceRequest {
  readonly from: string;
  readonly to: string;
  readonly port: number;
  readonly proto: "tcp" | "udp" | "icmp";
}

/** The whole document (`--format json`). */
export interface TraceDocument {
  readonly schema: typeof TRACE_SCHEMA;
  readonly scenario: string;
  readonly request: TraceRequest;
  readonly verdict: Verdict;
  readonly findings: readonly FindingView[];
  /** Layers whose package is not available, so the trace could not cross them. */
  readonly missingLayers: readonly string[];
  readonly forward: TraceStep;
  readonly reply: TraceStep | null;
}

/** A frame as it is on one wire, for the pcap. */
export interface WireFrame {
  /** Where it was seen, as the layer names it: "tor:p-node3", "node3/br-provider", "node3/<veth>". */
  readonly link: string;
  readonly flow: Flow;
  /** What kind of hop: a physical trace event kind ("wire", "switch", "bridge"…), or "ovs" / "pod". */
  readonly kind?: string;
  /** The trace step that put the frame there (rule, logical stage, switch decision), one line. */
  readonly note?: string;
  /** Which way: the request or its reply. */
  readonly phase?: "forward" | "reply";
}

const ARP_OPS: Record<number, string> = { 1: "request", 2: "reply" };

/**
 * Views made lately, per packet: flows are frozen, so a packet's view never changes, and the
 * same packet is shown at several steps close together (each hop of a wire, each bridge port).
 * A small ring compared by identity: a WeakMap entry per packet cost more than the view itself
 * (its ephemeron table grows with every packet and the GC walks it).
 */
const RING = 32;
const VIEW_FLOWS: (Flow | undefined)[] = new Array<Flow | undefined>(RING).fill(undefined);
const VIEW_VIEWS: (PacketView | undefined)[] = new Array<PacketView | undefined>(RING).fill(undefined);
let viewNext = 0;

export function packetView(f: Flow): PacketView {
  // Newest first: a packet is shown again mostly right after it was first shown.
  for (let k = 1; k <= RING; k++) {
    const i = (viewNext - k) & (RING - 1);
    if (VIEW_FLOWS[i] === f) return VIEW_VIEWS[i]!;
  }
  const v = makeView(f);
  // Only a packet that cannot change is kept by identity: every Flow the layers make is frozen.
  // Tested as "not extensible", which V8 reads off the hidden class (isFrozen walks the 45
  // fields' attributes, a tenth of this function's time); a flow sealed but left writable is
  // the one case that tells them apart, and no layer makes one.
  if (!Object.isExtensible(f)) {
    VIEW_FLOWS[viewNext] = f;
    VIEW_VIEWS[viewNext] = v;
    viewNext = (viewNext + 1) & (RING - 1);
  }
  return v;
}

function makeView(f: Flow): PacketView {
  const vlan = f.vlans[0]?.vid ?? null;
  let proto: string;
  if (f.dl_type === ETH_TYPE.arp) proto = "arp";
  else if (f.dl_type === ETH_TYPE.ip || f.dl_type === ETH_TYPE.ipv6) {
    proto =
      f.nw_proto === IP_PROTO.tcp
        ? "tcp"
        : f.nw_proto === IP_PROTO.udp
          ? "udp"
          : f.nw_proto === IP_PROTO.icmp
            ? "icmp"
            : f.nw_proto === IP_PROTO.icmpv6
              ? "icmp6"
              : `ip${f.nw_proto}`;
  } else proto = `0x${f.dl_type.toString(16).padStart(4, "0")}`;
  const v: PacketView = {
    dl_src: formatMac(f.dl_src),
    dl_dst: formatMac(f.dl_dst),
    vlan,
    proto,
    nw_src: f.dl_type === ETH_TYPE.ipv6 ? formatIp6(f.ipv6_src) : formatIp4(f.nw_src),
    nw_dst: f.dl_type === ETH_TYPE.ipv6 ? formatIp6(f.ipv6_dst) : formatIp4(f.nw_dst),
    tp_src: f.tp_src,
    tp_dst: f.tp_dst,
    ...(proto === "arp" ? { arp_op: ARP_OPS[f.nw_proto] ?? String(f.nw_proto) } : {}),
  };
  return v;
}

export function samePacket(a: PacketView | undefined, b: PacketView | undefined): boolean {
  if (!a || !b) return a === b;
  return (
    a.dl_src === b.dl_src &&
    a.dl_dst === b.dl_dst &&
    a.vlan === b.vlan &&
    a.proto === b.proto &&
    a.nw_src === b.nw_src &&
    a.nw_dst === b.nw_dst &&
    a.tp_src === b.tp_src &&
    a.tp_dst === b.tp_dst &&
    a.arp_op === b.arp_op
  );
}

/** "52:54:00:ff:00:01 > 52:54:00:0a:00:03, vlan 341, tcp 192.0.2.10:40000 > 10.180.204.252:80". */
export function formatPacket(p: PacketView): string {
  const l2 = `${p.dl_src} > ${p.dl_dst}${p.vlan !== null ? `, vlan ${p.vlan}` : ""}`;
  if (p.proto === "arp") {
    return p.arp_op === "request"
      ? `${l2}, arp who-has ${p.nw_dst} tell ${p.nw_src}`
      : `${l2}, arp ${p.nw_src} is-at ${p.dl_src}`;
  }
  if (p.proto === "tcp" || p.proto === "udp")
    return `${l2}, ${p.proto} ${hostPort(p.nw_src, p.tp_src)} > ${hostPort(p.nw_dst, p.tp_dst)}`;
  return `${l2}, ${p.proto} ${p.nw_src} > ${p.nw_dst}`;
}

/** "10.0.0.1:80", "[fd00::1]:80". */
export const hostPort = (ip: string, port: number): string =>
  ip.includes(":") ? `[${ip}]:${port}` : `${ip}:${port}`;

/** Mutable builder for a step tree; shows the packet only when it changed. */
export class StepBuilder {
  private readonly kids: TraceStep[] = [];
  constructor(
    readonly layer: Layer,
    readonly where: string,
    readonly summary: string,
    readonly device?: string,
  ) {}
  private lastPacket: PacketView | undefined;
  private packet?: PacketView;
  private detail?: string | (() => string);
  private outcome?: "drop" | "deliver";

  /** Seeds the "last shown packet" so a child repeats it only when it differs. */
  seen(p: PacketView | undefined): this {
    this.lastPacket = p;
    return this;
  }
  show(f: Flow | PacketView): this {
    const p = "dl_type" in f ? packetView(f) : f;
    this.packet = p;
    this.lastPacket = p;
    return this;
  }
  /** The native detail, or a function that renders it when first read (text only when asked). */
  setDetail(text: string | (() => string)): this {
    this.detail = text;
    return this;
  }
  end(outcome: "drop" | "deliver"): this {
    this.outcome = outcome;
    return this;
  }
  /** Adds a leaf step; `flow` is shown only if it differs from the last packet shown here. */
  step(layer: Layer, where: string, summary: string, flow?: Flow, extra?: Partial<TraceStep>): TraceStep {
    const p = flow ? packetView(flow) : undefined;
    const show = p !== undefined && p !== this.lastPacket && !samePacket(p, this.lastPacket);
    if (show) this.lastPacket = p;
    // Key order as the spread always gave: layer, where, summary, packet?, children, then extra's.
    const s: Record<string, unknown> = show
      ? { layer, where, summary, packet: p, children: [] }
      : { layer, where, summary, children: [] };
    if (extra !== undefined) for (const k in extra) s[k] = extra[k as keyof TraceStep];
    this.kids.push(s as unknown as TraceStep);
    return s as unknown as TraceStep;
  }
  add(s: TraceStep): void {
    this.kids.push(s);
    const last = lastPacketOf(s);
    if (last) this.lastPacket = last;
  }
  get last(): PacketView | undefined {
    return this.lastPacket;
  }
  build(): TraceStep {
    // Same key order as always (layer, where, summary, device, packet, detail, outcome, children).
    const s: Record<string, unknown> = { layer: this.layer, where: this.where, summary: this.summary };
    if (this.device !== undefined) s.device = this.device;
    if (this.packet) s.packet = this.packet;
    const d = this.detail;
    if (typeof d === "string") s.detail = d;
    else if (d !== undefined) lazyProperty(s, "detail", d);
    if (this.outcome) s.outcome = this.outcome;
    s.children = this.kids;
    return s as unknown as TraceStep;
  }
}

/** Lazy enumerable properties (the detail texts): @ovnsim/packet's, one hidden class for all. */
export { lazyProperty };

function lastPacketOf(s: TraceStep): PacketView | undefined {
  for (let i = s.children.length - 1; i >= 0; i--) {
    const p = lastPacketOf(s.children[i]!);
    if (p) return p;
  }
  return s.packet;
}

/** Depth-first walk over a step tree. */
export function* walkSteps(s: TraceStep, depth = 0): Generator<{ step: TraceStep; depth: number }> {
  yield { step: s, depth };
  for (const c of s.children) yield* walkSteps(c, depth + 1);
}

/** The first step that ends the path in a drop, if any. */
export function findDrop(s: TraceStep): TraceStep | undefined {
  for (const { step } of walkSteps(s)) if (step.outcome === "drop") return step;
  return undefined;
}
