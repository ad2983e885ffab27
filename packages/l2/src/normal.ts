/**
 * The OpenFlow `NORMAL` action: a learning L2 switch with VLANs, as OVS 3.1 implements it in
 * `xlate_normal()` (`ofproto/ofproto-dpif-xlate.c`): check the input VLAN, learn the source
 * MAC, then forward to the learned port, drop when the learned port is the input port, or
 * flood to every other floodable port that carries the VLAN, each output with the VLAN tags
 * that port wants. The trace notes are OVS's own strings with their ofproto/trace kinds
 * (` -> ` detail, ` >> ` warning, ` >>>> … <<<<` error), so a rendered NORMAL step reads as
 * `ovs-appctl ofproto/trace` prints it.
 *
 * Multicast snooping (off by default in OVS), mirrors, bonds and dot1q-tunnel ports are not
 * modelled.
 *
 * Every hop of a physical switch and every NORMAL action runs this, so a decision that learned
 * nothing is remembered per (input port, tag, learned output port) of a port list and handed
 * out again: decisions are immutable, and such a packet's notes name no MAC.
 */
import type { Flow, VlanHeader } from "@ovnsim/packet";
import { formatMac } from "@ovnsim/packet";
import type { MacTable } from "./mac-table.js";
import type { L2PortConfig, ResolvedPort } from "./vlan.js";
import { type InputVlan, inputVlan, outputVlans, portCarriesVlan, resolvePort } from "./vlan.js";

/** One line of a NORMAL trace, with OVS's `oftrace_node_type` (detail/warn/error). */
export interface TraceNote {
  readonly type: "detail" | "warn" | "error";
  readonly text: string;
}

/** One copy of the frame NORMAL emits: the port and the VLAN stack it leaves with. */
export interface NormalOutput {
  readonly port: number;
  readonly name: string;
  /** Frozen, so a frame made with it (`withFlow`) keeps this array rather than copying it. */
  readonly vlans: readonly VlanHeader[];
}

interface Common {
  /** The internal VLAN the frame was switched in (absent when the input VLAN was refused). */
  readonly vlan?: number;
  /** The main OVS message (bare text, e.g. "no learned MAC for destination, flooding"). */
  readonly message: string;
  /** Every trace line, in order (learning, errors, the decision). */
  readonly notes: readonly TraceNote[];
  /** Whether the source MAC was newly learned or moved. */
  readonly learned: boolean;
}

export type NormalDecision =
  | (Common & {
      readonly kind: "forward";
      readonly port: number;
      readonly vlan: number;
      readonly outputs: readonly NormalOutput[];
    })
  | (Common & {
      readonly kind: "flood";
      readonly ports: readonly number[];
      readonly vlan: number;
      readonly outputs: readonly NormalOutput[];
    })
  | (Common & { readonly kind: "drop"; readonly reason: string; readonly outputs: readonly NormalOutput[] });

export interface NormalOptions {
  /** Learn the source MAC (OVS `allow_side_effects`): true for real packets, false for ofproto/trace. Default true. */
  readonly learn?: boolean;
  /** Bridge `other_config:forward-bpdu`; when false (default) reserved multicast destinations are dropped. */
  readonly forwardBpdu?: boolean;
}

/** Ports resolved once; pass the same array again and the resolution is reused. */
export interface L2Ports {
  readonly list: readonly ResolvedPort[];
  readonly byPort: ReadonlyMap<number, ResolvedPort>;
}

/**
 * What one input port makes of one input tag: the VLAN it is switched in (or the refusal), and
 * the decisions that follow without learning, by learned output port. A decision is a function
 * of the input port, the tag, whether the source was (re)learned and where the destination is
 * learned; when nothing was learned the notes name no MAC, so the same decision object serves
 * every such packet (it is immutable), instead of ~1 KB of notes, headers and outputs each.
 */
interface InputState {
  readonly iv: InputVlan;
  refused: NormalDecision | undefined;
  reserved: NormalDecision | undefined;
  flood: NormalDecision | undefined;
  /** By the port the destination was learned on. */
  readonly byMacPort: Map<number, NormalDecision>;
}

/** Compiled ports and the decisions remembered for them (see InputState). */
interface Compiled {
  readonly ports: L2Ports;
  /** By input port, then by tag code (see tagCode). */
  readonly states: Map<ResolvedPort, Map<number, InputState>>;
}

const cache = new WeakMap<readonly (L2PortConfig | ResolvedPort)[], Compiled>();

/** The port list of the last call and its compilation: one switch's packets come in runs. */
let lastPorts: readonly (L2PortConfig | ResolvedPort)[] | undefined;
let lastCompiled: Compiled | undefined;

function compiled(ports: readonly (L2PortConfig | ResolvedPort)[]): Compiled {
  if (ports === lastPorts) return lastCompiled!;
  const hit = cache.get(ports) ?? compile(ports);
  lastPorts = ports;
  lastCompiled = hit;
  return hit;
}

function compile(ports: readonly (L2PortConfig | ResolvedPort)[]): Compiled {
  const list = ports.map((p) => ("mode" in p ? p : resolvePort(p)));
  const byPort = new Map<number, ResolvedPort>();
  for (const p of list) if (!byPort.has(p.port)) byPort.set(p.port, p);
  const res: Compiled = { ports: { list, byPort }, states: new Map() };
  cache.set(ports, res);
  return res;
}

/** Resolves a bridge's ports (validating each: SimError for a bad tag/trunk/mode or a duplicate port). */
export function compilePorts(ports: readonly (L2PortConfig | ResolvedPort)[]): L2Ports {
  return compiled(ports).ports;
}

/**
 * A number naming a VLAN stack of at most one tag exactly (0 = untagged; else 1 + the tag's
 * TPID, PCP and VID packed), or -1 for a stack that is not remembered (two tags, odd values).
 */
function tagCode(vlans: readonly (number | VlanHeader)[]): number {
  if (vlans.length === 0) return 0;
  if (vlans.length > 1) return -1;
  const v = vlans[0]!;
  let tpid = 0x8100;
  let pcp = 0;
  let vid: number;
  if (typeof v === "number") vid = v;
  else {
    tpid = v.tpid;
    pcp = v.pcp;
    vid = v.vid;
  }
  if (!(tpid >= 0 && tpid <= 0xffff && pcp >= 0 && pcp <= 7 && vid >= 0 && vid <= 4095)) return -1;
  if (!Number.isInteger(tpid) || !Number.isInteger(pcp) || !Number.isInteger(vid)) return -1;
  return 1 + (tpid * 8 + pcp) * 4096 + vid;
}

/** The input state of (port, tag code), made on first sight. */
function inputState(
  c: Compiled,
  inx: ResolvedPort,
  code: number,
  vlans: readonly (number | VlanHeader)[],
): InputState {
  let byCode = c.states.get(inx);
  if (byCode === undefined) {
    byCode = new Map();
    c.states.set(inx, byCode);
  }
  let st = byCode.get(code);
  if (st === undefined) {
    st = {
      iv: inputVlan(inx, vlans),
      refused: undefined,
      reserved: undefined,
      flood: undefined,
      byMacPort: new Map(),
    };
    byCode.set(code, st);
  }
  return st;
}

/** OVS `eth_addr_is_reserved`: 802.1D/Q reserved, Extreme and Cisco control MACs. */
const RESERVED = new Set<number>([
  ...Array.from({ length: 16 }, (_, i) => 0x0180c2000000 + i),
  0x00e02b000000,
  0x00e02b000004,
  0x00e02b000006,
  0x01000c000000,
  0x01000ccccccc,
  0x01000ccccccd,
  0x01000ccdcdcd,
  ...Array.from({ length: 8 }, (_, i) => 0x01000cccccc0 + i),
]);

export function isReservedMac(mac: number): boolean {
  return RESERVED.has(mac);
}

/**
 * `RESERVED.has(mac)`, the set consulted only for the three OUIs it holds: a Set lookup of a
 * 48-bit key (a heap number) on every packet cost more than the division.
 */
function reserved(mac: number): boolean {
  const oui = Math.floor(mac / 0x1000000);
  return (oui === 0x0180c2 || oui === 0x00e02b || oui === 0x01000c) && RESERVED.has(mac);
}

const OFPP_NONE = 0xffff;

/**
 * Decides what NORMAL does with a frame received on `inPort` with VLAN stack `vlans`
 * (outermost first; plain numbers are taken as 802.1Q VIDs with pcp 0), source `dlSrc` and
 * destination `dlDst`, at virtual time `now` (seconds). Learns into `table` unless
 * `opts.learn === false`. Ports are flooded in the order given.
 */
export function normalDecide(
  ports: readonly (L2PortConfig | ResolvedPort)[],
  table: MacTable,
  inPort: number,
  vlans: readonly (number | VlanHeader)[],
  dlSrc: number,
  dlDst: number,
  now: number,
  opts: NormalOptions = NO_OPTIONS,
): NormalDecision {
  const c = compiled(ports);
  const { byPort } = c.ports;
  const noneBundle = inPort === OFPP_NONE;
  const inx = noneBundle ? undefined : byPort.get(inPort);
  if (!noneBundle && !inx) {
    return {
      kind: "drop",
      reason: "no input bundle",
      message: "no input bundle, dropping",
      notes: [{ type: "warn", text: "no input bundle, dropping" }],
      learned: false,
      outputs: [],
    };
  }
  const code = inx ? tagCode(vlans) : -1;
  if (inx === undefined || code < 0)
    return decideFresh(c, table, inPort, inx, vlans, dlSrc, dlDst, now, opts);
  const st = inputState(c, inx, code, vlans);
  const iv = st.iv;
  if (!iv.ok) {
    if (st.refused === undefined) st.refused = refusal(iv.reason);
    return st.refused;
  }
  const vlan = iv.vlan;
  if (!opts.forwardBpdu && reserved(dlDst)) {
    if (st.reserved === undefined) st.reserved = reservedDrop(vlan);
    return st.reserved;
  }
  if (opts.learn !== false && table.learn(vlan, dlSrc, inx.port, now).changed) {
    // The notes name the learned MAC: this decision is the packet's own.
    const notes: TraceNote[] = [
      { type: "detail", text: `learned that ${formatMac(dlSrc)} is on port ${inx.name} in VLAN ${vlan}` },
    ];
    return decideOutput(c, table, inPort, inx, vlan, iv.xvlan, dlDst, now, notes, true);
  }
  const macPort = table.lookup(vlan, dlDst, now);
  if (macPort === undefined) {
    if (st.flood === undefined)
      st.flood = decideOutput(c, table, inPort, inx, vlan, iv.xvlan, dlDst, now, [], false);
    return st.flood;
  }
  let d = st.byMacPort.get(macPort);
  if (d === undefined) {
    d = decideOutput(c, table, inPort, inx, vlan, iv.xvlan, dlDst, now, [], false);
    st.byMacPort.set(macPort, d);
  }
  return d;
}

const NO_OPTIONS: NormalOptions = Object.freeze({});

function refusal(reason: string): NormalDecision {
  const message = "disallowed VLAN VID for this input port, dropping";
  const notes: TraceNote[] = [
    { type: "error", text: reason },
    { type: "warn", text: message },
  ];
  return { kind: "drop", reason, message, notes, learned: false, outputs: [] };
}

function reservedDrop(vlan: number): NormalDecision {
  const message = "packet has reserved destination MAC, dropping";
  return {
    kind: "drop",
    reason: "reserved destination MAC",
    message,
    notes: [{ type: "detail", text: message }],
    vlan,
    learned: false,
    outputs: [],
  };
}

/** The whole decision made afresh (OFPP_NONE, or a stack of two tags). */
function decideFresh(
  c: Compiled,
  table: MacTable,
  inPort: number,
  inx: ResolvedPort | undefined,
  vlans: readonly (number | VlanHeader)[],
  dlSrc: number,
  dlDst: number,
  now: number,
  opts: NormalOptions,
): NormalDecision {
  let vlan: number;
  let xvlan: readonly VlanHeader[];
  if (inx) {
    const iv = inputVlan(inx, vlans);
    if (!iv.ok) return refusal(iv.reason);
    vlan = iv.vlan;
    xvlan = iv.xvlan;
  } else {
    // OFPP_NONE: any VID, handled like a trunk port, never learned.
    xvlan = vlans.map((v) => (typeof v === "number" ? { tpid: 0x8100, pcp: 0, vid: v } : v)).slice(0, 2);
    vlan = xvlan[0]?.vid ?? 0;
  }
  if (!opts.forwardBpdu && reserved(dlDst)) return reservedDrop(vlan);
  const notes: TraceNote[] = [];
  let learned = false;
  if (inx && opts.learn !== false) {
    learned = table.learn(vlan, dlSrc, inx.port, now).changed;
    if (learned) {
      notes.push({
        type: "detail",
        text: `learned that ${formatMac(dlSrc)} is on port ${inx.name} in VLAN ${vlan}`,
      });
    }
  }
  return decideOutput(c, table, inPort, inx, vlan, xvlan, dlDst, now, notes, learned);
}

/** After input and learning: forward to the learned port, drop, or flood. */
function decideOutput(
  c: Compiled,
  table: MacTable,
  inPort: number,
  inx: ResolvedPort | undefined,
  vlan: number,
  xvlan: readonly VlanHeader[],
  dlDst: number,
  now: number,
  notes: TraceNote[],
  learned: boolean,
): NormalDecision {
  const { list, byPort } = c.ports;
  const macPort = table.lookup(vlan, dlDst, now);
  if (macPort !== undefined) {
    const out = byPort.get(macPort);
    if (!out) {
      const message = "learned port is unknown, dropping";
      notes.push({ type: "warn", text: message });
      return { kind: "drop", reason: "learned port is unknown", message, notes, vlan, learned, outputs: [] };
    }
    if (out !== inx) {
      const message = "forwarding to learned port";
      notes.push({ type: "detail", text: message });
      const outputs = [{ port: out.port, name: out.name, vlans: Object.freeze(outputVlans(out, xvlan)) }];
      return { kind: "forward", port: out.port, vlan, outputs, message, notes, learned };
    }
    const message = "learned port is input port, dropping";
    notes.push({ type: "detail", text: message });
    return { kind: "drop", reason: "learned port is input port", message, notes, vlan, learned, outputs: [] };
  }
  const message = "no learned MAC for destination, flooding";
  notes.push({ type: "detail", text: message });
  const outputs: NormalOutput[] = [];
  const inner = xvlan[1]?.vid ?? 0;
  for (const p of list) {
    if (p === inx || !p.floodable || p.port === inPort) continue;
    if (!portCarriesVlan(p, vlan, inner)) continue;
    outputs.push({ port: p.port, name: p.name, vlans: Object.freeze(outputVlans(p, xvlan)) });
  }
  return { kind: "flood", ports: outputs.map((o) => o.port), vlan, outputs, message, notes, learned };
}

/** `normalDecide` for a Flow: in_port, vlans, dl_src and dl_dst come from the flow. */
export function normalForFlow(
  ports: readonly (L2PortConfig | ResolvedPort)[],
  table: MacTable,
  flow: Flow,
  now: number,
  opts: NormalOptions = {},
): NormalDecision {
  return normalDecide(ports, table, flow.in_port, flow.vlans, flow.dl_src, flow.dl_dst, now, opts);
}

/** One note as ofproto/trace prints it (`oftrace_node_print_details`), after `indent`. */
export function formatNote(note: TraceNote, indent = ""): string {
  switch (note.type) {
    case "detail":
      return `${indent} -> ${note.text}`;
    case "warn":
      return `${indent} >> ${note.text}`;
    case "error":
      return `${indent} >>>> ${note.text} <<<<`;
  }
}

/** All notes, one per line, as under an ofproto/trace `NORMAL` action line (indent = its indent). */
export function formatNotes(notes: readonly TraceNote[], indent = "    "): string {
  return notes.map((n) => formatNote(n, indent)).join("\n");
}
