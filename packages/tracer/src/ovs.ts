/**
 * A node's Open vSwitch, through @ovnsim/openflow: br-<provider> and br-int built from what
 * @ovnsim/kube derives (ports, patch ports, kube-ovn-cni's VIP flow, ovn-controller's localnet
 * entry), traced with `traceFlow` exactly as `ovs-appctl ofproto/trace` would run on that node.
 * The trace's datapath actions are replayed on the packet to know what leaves which port (a
 * datapath port number per port, as `dpif/show` would list them), and a trace that ends in
 * br-int after `resubmit(,8)` with a logical datapath in `metadata` is the hand-off to OVN's
 * logical ingress pipeline.
 */
import type { Conntrack } from "@ovnsim/conntrack";
import type { BridgeSpec, NodeDataplane, Scenario } from "@ovnsim/kube";
import { deriveNodeDataplane } from "@ovnsim/kube";
import { MacTable } from "@ovnsim/l2";
import {
  Bridge,
  type OfPort,
  OFPP_LOCAL,
  Switch,
  type TraceNode,
  type TraceResult,
  parseFlowLine,
  renderTrace,
  traceFlow,
} from "@ovnsim/openflow";
import {
  type Flow,
  FLOW_WORDS,
  N_REGS,
  type Match,
  type VlanHeader,
  formatMac,
  keyMatches,
  matchToWords,
  flowToKey,
  parseFlow,
  parseIp4,
  parseMac,
  parseMatch,
  W,
  withFlow,
} from "@ovnsim/packet";

export interface NodeOvs {
  readonly node: string;
  readonly dataplane: NodeDataplane;
  readonly sw: Switch;
  /** Datapath port number → bridge and port name. */
  readonly dpPorts: ReadonlyMap<number, { readonly bridge: string; readonly port: string }>;
  /** MAC tables of NORMAL, per bridge; they learn across the traces of one run. */
  readonly macTables: Map<string, MacTable>;
}

export function buildNodeOvs(s: Scenario, node: string): NodeOvs {
  const dataplane = deriveNodeDataplane(s, node);
  const sw = new Switch();
  const dpPorts = new Map<number, { bridge: string; port: string }>();
  let dp = 1;
  for (const b of dataplane.bridges) {
    const br = new Bridge(b.name);
    const names = new Map<string, number>();
    for (const p of b.ports) {
      const port: OfPort = {
        ofport: p.ofport,
        name: p.name,
        mac: p.mac ? parseMac(p.mac) : 0,
        type: p.type === "system" ? "" : p.type,
        ...(p.peer !== undefined ? { peer: p.peer } : {}),
        ...(p.type !== "patch" ? { dpPort: dp } : {}),
        ...(p.trunks && p.trunks.length > 0 ? { trunks: p.trunks } : {}),
        ...(p.tag !== undefined ? { tag: p.tag } : {}),
      };
      if (p.type !== "patch") dpPorts.set(dp++, { bridge: b.name, port: p.name });
      br.addPort(port);
      names.set(p.name, p.ofport);
    }
    b.flows.forEach((f, i) => {
      br.addFlow(parseFlowLine(f, { file: `${node}/${b.name}`, line: i + 1, ports: names }));
    });
    sw.addBridge(br);
  }
  return { node, dataplane, sw, dpPorts, macTables: new Map() };
}

export interface OvsExit {
  readonly bridge: string;
  readonly port: string;
  readonly flow: Flow;
}

export interface OvsRun {
  readonly result: TraceResult;
  readonly text: string;
  /** Packets that left a datapath port. */
  readonly exits: readonly OvsExit[];
  /** The packet as br-int hands it to OVN (after `resubmit(,8)`), if it got there. */
  readonly toOvn: Flow | null;
  /** The same packet as it crossed the patch port into br-int (before table 0 strips its VLAN). */
  readonly crossing: Flow | null;
  /** Bridges the trace crossed, in order. */
  readonly bridges: readonly string[];
  /** Rules that matched, per bridge, in order: "table N priority P cookie C". */
  readonly rules: readonly {
    readonly bridge: string;
    readonly table: number;
    readonly priority: number;
    readonly cookie: string;
    readonly match: string;
    readonly actions: string;
  }[];
}

function macTablesFor(o: NodeOvs): Map<string, MacTable> {
  for (const b of o.sw.bridges.keys()) if (!o.macTables.has(b)) o.macTables.set(b, new MacTable());
  return o.macTables;
}

/** What runBridge reads from a rule's action texts, per text (a bridge's rules print the same few). */
interface RuleActions {
  /** `resubmit(,8)`: the hand-off to OVN's logical ingress. */
  readonly toOvn: boolean;
  readonly normal: boolean;
  /** The actions that shape the packet handed to OVN, in order. */
  readonly ops: readonly (
    | { readonly t: "strip" }
    | { readonly t: "md"; readonly v: bigint }
    | { readonly t: "reg"; readonly i: number; readonly v: number }
  )[];
}
const RULE_ACTIONS = new Map<string, RuleActions>();
function ruleActions(actions: string): RuleActions {
  let r = RULE_ACTIONS.get(actions);
  if (r) return r;
  const ops: RuleActions["ops"][number][] = [];
  for (const act of actions.split(",")) {
    if (act === "strip_vlan" || act === "pop_vlan") ops.push({ t: "strip" });
    const m = /^set_field:(0x[0-9a-f]+|\d+)->(metadata|reg(\d+))$/.exec(act);
    if (m) {
      if (m[2] === "metadata") ops.push({ t: "md", v: BigInt(m[1]!) });
      else ops.push({ t: "reg", i: Number(m[3]), v: Number(m[1]) >>> 0 });
    }
  }
  r = { toOvn: /resubmit\(,8\)/.test(actions), normal: /\bNORMAL\b/.test(actions), ops };
  if (RULE_ACTIONS.size >= 4096) RULE_ACTIONS.clear();
  RULE_ACTIONS.set(actions, r);
  return r;
}

type Rule = OvsRun["rules"][number];
const BRIDGE_NODE = /^bridge\("(.*)"\)$/;

/** The walk over a pass's trace tree: the bridges crossed and the rules that matched, in order. */
class RuleWalk {
  cur: string;
  readonly bridges: string[] = [];
  readonly rules: Rule[] = [];
  constructor(bridge: string) {
    this.cur = bridge;
  }
  walk(nodes: readonly TraceNode[]): void {
    for (let i = 0; i < nodes.length; i++) {
      const n = nodes[i]!;
      if (n.type === "bridge") {
        const m = BRIDGE_NODE.exec(n.text);
        if (m) {
          this.cur = m[1]!;
          if (this.bridges[this.bridges.length - 1] !== this.cur) this.bridges.push(this.cur);
        }
      }
      // A resumed pass (after ct() or a dp_hash group) continues in the bridge that froze it,
      // which is the bridge of the last rule seen (ofproto/trace names the traced bridge).
      if (n.type === "thaw" && this.rules.length > 0) this.cur = this.rules[this.rules.length - 1]!.bridge;
      if (n.type === "table" && n.priority !== undefined) {
        let actions = "";
        let first = true;
        for (const x of n.subs) {
          if (x.type !== "action") continue;
          actions = first ? x.text : `${actions},${x.text}`;
          first = false;
        }
        this.rules.push({
          bridge: this.cur,
          table: n.table ?? 0,
          priority: n.priority,
          cookie: n.cookie ?? "0",
          match: n.match ?? "",
          actions,
        });
      }
      this.walk(n.subs);
    }
  }
}

/** What runBridge reads from a run's trace tree: the bridges crossed, the rules, the hand-off. */
interface Walked {
  readonly bridges: readonly string[];
  readonly rules: readonly Rule[];
  /** br-int table 0's rule that handed the packet to OVN (`resubmit(,8)`), the last one. */
  readonly entry: RuleActions | undefined;
  /** A rule of the traced bridge ran NORMAL. */
  readonly normal: boolean;
}

function walkPasses(bridge: string, passes: TraceResult["passes"]): Walked {
  const w = new RuleWalk(bridge);
  const { bridges, rules } = w;
  bridges.push(bridge);
  for (let i = 0; i < passes.length; i++) w.walk(passes[i]!.nodes);
  let entry: RuleActions | undefined;
  let normal = false;
  for (let i = rules.length - 1; i >= 0; i--) {
    const r = rules[i]!;
    const ra = ruleActions(r.actions);
    if (!entry && r.bridge === "br-int" && r.table === 0 && ra.toOvn) entry = ra;
    if (r.bridge === bridge && ra.normal) normal = true;
  }
  return { bridges, rules, entry, normal };
}

/**
 * Walks of one-pass trace trees, per tree: a translation @ovnsim/openflow remembered by megaflow
 * hands every packet of that megaflow the same tree, so its walk is made once. The tree and the
 * walk are immutable; the traced bridge is checked as well.
 */
const WALKS = new WeakMap<readonly TraceNode[], { readonly bridge: string; readonly walked: Walked }>();

function walked(bridge: string, passes: TraceResult["passes"]): Walked {
  if (passes.length !== 1) return walkPasses(bridge, passes);
  const nodes = passes[0]!.nodes;
  const hit = WALKS.get(nodes);
  if (hit && hit.bridge === bridge) return hit.walked;
  const w = walkPasses(bridge, passes);
  WALKS.set(nodes, { bridge, walked: w });
  return w;
}

/** Runs `flow` into `bridge` at `inPort` (a port name) on the node. */
export function runBridge(
  o: NodeOvs,
  bridge: string,
  inPort: string,
  flow: Flow,
  opts: { readonly conntrack?: Conntrack } = {},
): OvsRun {
  const br = o.sw.bridge(bridge);
  const port = br.portByName(inPort);
  const inPortNo = port?.ofport ?? 0;
  // The packet as it enters: `flow` at the port (a copy only when someone needs it).
  let entering: Flow | undefined = flow.in_port === inPortNo ? flow : undefined;
  const f = (): Flow => {
    entering ??= withFlow(flow, { in_port: inPortNo });
    return entering;
  };
  // With a connection table, every ct() runs through it (stateful mode: `--datapath openflow`).
  // A run's translation is remembered by megaflow (the next connections' packets reuse it).
  const macTables = macTablesFor(o);
  const result = traceFlow(
    o.sw,
    bridge,
    flow,
    opts.conntrack
      ? { macTables, inPort: inPortNo, conntrack: opts.conntrack, cache: true }
      : { macTables, inPort: inPortNo, cache: true },
  );
  const exits: OvsExit[] = [];
  let toOvn: Flow | null = null;
  let crossing: Flow | null = null;
  const passes = result.passes;
  const { bridges, rules, entry, normal } = walked(bridge, passes);
  for (let i = 0; i < passes.length; i++) {
    const pass = passes[i]!;
    // The packet at the start of the pass, when its datapath actions output something.
    if (pass.datapathActions !== "drop" && pass.datapathActions !== "")
      replayOdp(o, pass.datapathActions, passStart(pass, i === 0, f), exits);
  }
  // The hand-off: br-int table 0 (PHY_TO_LOG) ended in resubmit(,8), OVN's logical ingress.
  if (entry) {
    // The packet at the end of the last pass.
    const last = passes[passes.length - 1]!;
    let g: Flow;
    const p = last.packets;
    if (p) g = p.unchanged ? passStart(last, passes.length === 1, f) : p.final;
    else if (last.finalFlow === "unchanged") g = passStart(last, passes.length === 1, f);
    else g = parseFlowSafe(last.finalFlow, passStart(last, passes.length === 1, f));
    crossing = g;
    let md = 0n;
    let vlans = g.vlans;
    let strip = false;
    const regs = new Array<number>(g.regs.length);
    for (let i = 0; i < regs.length; i++) regs[i] = g.regs[i]!;
    for (const op of entry.ops) {
      if (op.t === "strip") {
        vlans = vlans.slice(1);
        strip = true;
      } else if (op.t === "md") md = op.v;
      else regs[op.i] = op.v;
    }
    // One copy of the packet, with what br-int's table 0 set (frozen arrays: withFlow keeps them).
    Object.freeze(regs);
    toOvn = withFlow(g, strip ? { vlans: Object.freeze(vlans), metadata: md, regs } : { metadata: md, regs });
  }
  // A real packet through NORMAL teaches the bridge its source MAC (ofproto/trace does not);
  // later traces of the same run see what earlier packets taught (OVS update_learning_table).
  if (port && normal) {
    const vlan = port.tag ?? flow.vlans[0]?.vid ?? 0;
    macTables.get(bridge)?.learn(vlan, flow.dl_src, port.ofport, 0);
  }
  return new Run(result, exits, toOvn, crossing, bridges, rules);
}

/**
 * An OvsRun: `text`, the ofproto/trace output, is rendered on first read (a getter of the class,
 * so a run is one object; the JSON form has it, in its place).
 */
class Run implements OvsRun {
  #text: string | undefined = undefined;
  constructor(
    readonly result: TraceResult,
    readonly exits: readonly OvsExit[],
    readonly toOvn: Flow | null,
    readonly crossing: Flow | null,
    readonly bridges: readonly string[],
    readonly rules: OvsRun["rules"],
  ) {}
  get text(): string {
    this.#text ??= renderTrace(this.result);
    return this.#text;
  }
  toJSON(): object {
    const { result, exits, toOvn, crossing, bridges, rules, text } = this;
    return { result, exits, toOvn, crossing, bridges, rules, text };
  }
}

/** A pass's packet at its start: the entering packet for the first pass. */
function passStart(pass: TraceResult["passes"][number], first: boolean, entering: () => Flow): Flow {
  if (first) return entering();
  return pass.packets?.start ?? parseFlowSafe(pass.flow, entering());
}

function parseFlowSafe(text: string, fallback: Flow): Flow {
  try {
    return parseFlow(text);
  } catch {
    return fallback;
  }
}

/** Splits ODP actions at top-level commas. */
function splitOdp(s: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = "";
  for (const c of s) {
    if (c === "(") depth++;
    if (c === ")") depth--;
    if (c === "," && depth === 0) {
      out.push(cur);
      cur = "";
    } else cur += c;
  }
  if (cur) out.push(cur);
  return out.map((x) => x.trim()).filter(Boolean);
}

function kv(s: string): Record<string, string> {
  const o: Record<string, string> = {};
  for (const p of s.split(",")) {
    const i = p.indexOf("=");
    if (i > 0) o[p.slice(0, i).trim()] = p.slice(i + 1).trim();
  }
  return o;
}

/** One datapath action, read once per action text. */
type OdpOp =
  | { readonly t: "out"; readonly dp: number }
  | { readonly t: "pop" }
  | { readonly t: "set"; readonly c: Partial<Flow> }
  | { readonly t: "push"; readonly tpid: number; readonly vid: number; readonly pcp: number }
  | { readonly t: "other" };

function odpOp(a: string): OdpOp {
  if (/^\d+$/.test(a)) return { t: "out", dp: Number(a) };
  if (a === "pop_vlan") return { t: "pop" };
  const eth = /^set\(eth\((.*)\)\)$/.exec(a);
  const ip4 = /^set\(ipv4\((.*)\)\)$/.exec(a);
  const l4 = /^set\((tcp|udp)\((.*)\)\)$/.exec(a);
  const push = /^push_vlan\((.*)\)$/.exec(a);
  if (eth) {
    const x = kv(eth[1]!);
    return {
      t: "set",
      c: {
        ...(x.src ? { dl_src: parseMac(x.src.split("/")[0]!) } : {}),
        ...(x.dst ? { dl_dst: parseMac(x.dst.split("/")[0]!) } : {}),
      },
    };
  }
  if (ip4) {
    const x = kv(ip4[1]!);
    return {
      t: "set",
      c: {
        ...(x.src ? { nw_src: parseIp4(x.src.split("/")[0]!) } : {}),
        ...(x.dst ? { nw_dst: parseIp4(x.dst.split("/")[0]!) } : {}),
      },
    };
  }
  if (l4) {
    const x = kv(l4[2]!);
    return {
      t: "set",
      c: {
        ...(x.src ? { tp_src: Number(x.src.split("/")[0]) } : {}),
        ...(x.dst ? { tp_dst: Number(x.dst.split("/")[0]) } : {}),
      },
    };
  }
  if (push) {
    const x = kv(push[1]!);
    return {
      t: "push",
      tpid: x.tpid ? Number(x.tpid) : 0x8100,
      vid: Number(x.vid ?? 0),
      pcp: Number(x.pcp ?? 0),
    };
  }
  return { t: "other" };
}

/** Datapath action lists already read, by text (a bridge's rules print the same few). */
const ODP_OPS = new Map<string, readonly OdpOp[]>();

/** Applies datapath actions (`set(eth(...))`, `push_vlan`, `pop_vlan`, outputs) to the packet. */
export function replayOdp(o: NodeOvs, actions: string, start: Flow, out: OvsExit[] = []): OvsExit[] {
  if (actions === "drop" || actions === "") return out;
  let ops = ODP_OPS.get(actions);
  if (!ops) {
    ops = splitOdp(actions).map(odpOp);
    if (ODP_OPS.size >= 4096) ODP_OPS.clear();
    ODP_OPS.set(actions, ops);
  }
  let f = start;
  for (const op of ops) {
    if (op.t === "out") {
      const p = o.dpPorts.get(op.dp);
      if (p) out.push({ bridge: p.bridge, port: p.port, flow: f });
    } else if (op.t === "pop") f = withFlow(f, { vlans: f.vlans.slice(1) });
    else if (op.t === "set") f = withFlow(f, op.c);
    else if (op.t === "push")
      f = withFlow(f, { vlans: [{ tpid: op.tpid, vid: op.vid, pcp: op.pcp }, ...f.vlans] });
  }
  return out;
}

/** One table-65 flow, its actions read once: the VLAN it pushes, the port it outputs to, its trace text. */
interface LogToPhyFlow {
  readonly words: ReturnType<typeof matchToWords>;
  /** `mod_vlan_vid:N` actions in order (each replaces the outer tag). */
  readonly vids: readonly number[];
  /** The last `output:N`, if any. */
  readonly ofport: number | null;
  readonly flowText: string;
}

const LOG_TO_PHY = new WeakMap<NodeOvs, LogToPhyFlow[]>();

/**
 * The key logToPhy matches against, reused: a key is past V8's on-heap typed-array limit, so a
 * fresh one per call is an off-heap allocation the collector has to track.
 */
const LOG_TO_PHY_KEY = new Uint32Array(FLOW_WORDS);

/** ovn-controller's br-int table 65 (LOG_TO_PHY) for a logical output port: the matching flow and its effect. */
export function logToPhy(
  o: NodeOvs,
  flow: Flow,
  /**
   * The logical datapath and output port as br-int carries them into table 65 (`metadata`, and
   * `reg15` with every other register 0), matched in place of `flow`'s own metadata and
   * registers, which the returned flow keeps: the caller need not copy the packet to set them.
   */
  logical?: { readonly dp: number; readonly outport: number },
): { flowText: string; flow: Flow; port: string | null; bridge: string } | null {
  let compiled = LOG_TO_PHY.get(o);
  if (!compiled) {
    compiled = [];
    const brInt: BridgeSpec | undefined = o.dataplane.bridges.find((b) => b.name === "br-int");
    for (const text of brInt?.flows ?? []) {
      if (!text.startsWith("table=65,")) continue;
      const [matchText, actions] = text.replace(/^table=65,/, "").split(" actions=") as [string, string];
      const mt = matchText.replace(/^priority=\d+,/, "");
      let match: Match;
      try {
        match = parseMatch(mt);
      } catch {
        continue;
      }
      const vids: number[] = [];
      let ofport: number | null = null;
      for (const act of actions.split(",")) {
        const vv = /^mod_vlan_vid:(\d+)$/.exec(act);
        if (vv) vids.push(Number(vv[1]));
        const out = /^output:(\d+)$/.exec(act);
        if (out) ofport = Number(out[1]);
      }
      compiled.push({
        words: matchToWords(match),
        vids,
        ofport,
        flowText: ` 65. ${mt}, priority ${/priority=(\d+)/.exec(text)?.[1] ?? "?"}\n    ${actions.replace(/,/g, "\n    ")}`,
      });
    }
    LOG_TO_PHY.set(o, compiled);
  }
  if (compiled.length === 0 && !o.dataplane.bridges.some((b) => b.name === "br-int")) return null;
  LOG_TO_PHY_KEY.fill(0);
  const key = flowToKey(flow, LOG_TO_PHY_KEY);
  if (logical !== undefined) {
    key[W.metadata] = 0;
    key[W.metadata + 1] = logical.dp >>> 0;
    for (let i = 0; i < N_REGS; i++) key[W.reg0 + i] = 0;
    key[W.reg0 + 15] = logical.outport >>> 0;
  }
  for (const c of compiled) {
    if (!keyMatches(c.words, key)) continue;
    let f = flow;
    for (const vid of c.vids) {
      // The new outer tag replaces the old one (an indexed copy: spreading a slice of a frozen
      // array takes V8's slow path).
      const old = f.vlans;
      const vlans: VlanHeader[] = [{ tpid: 0x8100, pcp: 0, vid }];
      for (let i = old.length ? 1 : 0; i < old.length; i++) vlans.push(old[i]!);
      f = withFlow(f, { vlans: Object.freeze(vlans) });
    }
    let port: string | null = null;
    if (c.ofport !== null) {
      for (const p of o.sw.bridge("br-int").ports.values()) {
        if (p.ofport === c.ofport) {
          port = p.name;
          break;
        }
      }
    }
    return { flowText: c.flowText, flow: f, port, bridge: "br-int" };
  }
  return null;
}

export const LOCAL = OFPP_LOCAL;
export { formatMac };
