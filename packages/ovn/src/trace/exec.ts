/**
 * Runs a packet through OVN logical pipelines as ovn-trace does (upstream
 * `utilities/ovn-trace.c` trace__/trace_actions/execute_*): per table the highest-priority
 * matching logical flow (ties: the order the flows were given in), its actions in order,
 * ingress → egress through `output`, multicast groups, patch peers, and ovn-trace's model of
 * conntrack: each ct action forks the pipeline with the next `--ct` state (then `est|trk`),
 * ct_lb/ct_lb_mark DNAT to the `--lb-dst` backend (also for argument-less ct_lb_mark, as the
 * real tool does) or to a backend chosen deterministically. Unlike ovn-trace, a trace may
 * name the chassis it runs on: `is_chassis_resident()` is then true only for ports bound there.
 */
import { parseHashFields, type SelectGroup, selectBucket } from "@ovnsim/lb";
import { CS, type Flow, formatFlow, lazyProperty, SimError } from "@ovnsim/packet";
import { formatAction, formatField, formatIp4, formatIp6, formatMac } from "../actions/format.js";
import { type Action, type LbBackend, parseActions } from "../actions/parse.js";
import { type ChunkMatcher, compileTable, type MatchSource } from "../expr/codegen.js";
import { type CompileEnv, compileExpr, foldConstants, type Pred } from "../expr/compile.js";
import { parseMicroflow } from "../expr/microflow.js";
import { Cursor, parseIp4Text, parseIp6Text, tokenize } from "../expr/lexer.js";
import { type FieldRef, parseExpr, parseFieldAt } from "../expr/parse.js";
import {
  cloneMFlow,
  copyFields,
  LOG_FLAGS,
  LOG_INPORT,
  LOG_OUTPORT,
  markPortRead,
  type MFlow,
  PORT_READS,
  READ_TP_DST,
  READ_TP_SRC,
  SYMTAB,
  type Symtab,
  symtabFor,
  toMFlow,
} from "../expr/symtab.js";
import type { SbFdb, SbMacBinding, SbModel, SbPort } from "../sb/model.js";
import type { LogicalFlow, Pipeline } from "../types.js";
import { type TraceNode, TraceLog } from "./tree.js";

interface CFlow {
  readonly lf: LogicalFlow;
  readonly pred: Pred;
  readonly actions: readonly Action[];
  readonly omit: boolean;
  readonly uuid: string;
  /** The folded match and the actions' prerequisites, for the table's generated matcher. */
  readonly src: MatchSource;
  /** Its table line and its actions' lines: the same on every trace, so each is built once. */
  line?: string;
  actionLines?: readonly string[];
  /** What executing each action needs beyond its text, worked out once (plansOf). */
  plans?: readonly (ActPlan | undefined)[];
}

interface CPort {
  readonly sb: SbPort;
  readonly dp: CDatapath;
  /** Parsed port-security entries. */
  readonly ps: readonly {
    readonly mac: number;
    readonly ip4: readonly number[];
    readonly ip6: readonly bigint[];
  }[];
  peer?: CPort;
  /** Its `/* output to … *\/` and `output("…")` lines, made on first use. */
  outputLine?: string;
  outputModify?: string;
}

interface CMc {
  readonly name: string;
  readonly key: number;
  readonly ports: readonly CPort[];
  /** Its `multicast(dp=…, mcgroup=…)` line, made on first use. */
  line?: string;
}

interface CDatapath {
  readonly name: string;
  readonly key: number;
  readonly ports: Map<string, CPort>;
  readonly portsByKey: Map<number, CPort>;
  readonly mcs: Map<string, CMc>;
  readonly mcsByKey: Map<number, CMc>;
  /** "ingress:12" → flows by priority. */
  readonly tables: Map<string, CFlow[]>;
  /** The same lists indexed by pipeline and table number (the lookup's path: no key string per lookup). */
  readonly byTable: { readonly ingress: (CFlow[] | undefined)[]; readonly egress: (CFlow[] | undefined)[] };
  /** Each table's generated matcher (expr/codegen.ts), made on the table's first lookup. */
  readonly matchers: {
    readonly ingress: (ChunkMatcher[] | undefined)[];
    readonly egress: (ChunkMatcher[] | undefined)[];
  };
  /** Port names and chassis residency as this datapath's matches resolve them. */
  env?: CompileEnv;
  readonly stages: Map<string, string>;
  readonly unparsed: { readonly flow: LogicalFlow; readonly error: string }[];
  /** Has an l3gateway port: ovn-trace treats the datapath as a local gateway router. */
  hasL3gateway: boolean;
  /**
   * The pipeline and table lines this datapath prints, by port name (and table), made once: a
   * trace prints the same few on every packet.
   */
  readonly lines: {
    readonly ingress: Map<string, string>;
    readonly egressOut: Map<string, string>;
    readonly egress: Map<string, Map<string, string>>;
    readonly noMatch: { readonly ingress: (string | undefined)[]; readonly egress: (string | undefined)[] };
  };
}

/** `ingress(dp="…", inport="…")`. */
function ingressLine(dp: CDatapath, inName: string): string {
  let s = dp.lines.ingress.get(inName);
  if (s === undefined) {
    s = `ingress(dp="${dp.name}", inport="${inName}")`;
    dp.lines.ingress.set(inName, s);
  }
  return s;
}

/** `egress(dp="…", inport="…", outport="…")`. */
function egressLine(dp: CDatapath, inName: string, outName: string): string {
  let m = dp.lines.egress.get(inName);
  if (m === undefined) {
    m = new Map();
    dp.lines.egress.set(inName, m);
  }
  let s = m.get(outName);
  if (s === undefined) {
    s = `egress(dp="${dp.name}", inport="${inName}", outport="${outName}")`;
    m.set(outName, s);
  }
  return s;
}

/** A port's or multicast group's name by tunnel key, as ovn-trace prints it. */
function keyName(dp: CDatapath, key: number): string {
  return dp.portsByKey.get(key)?.sb.name ?? dp.mcsByKey.get(key)?.name ?? "(unnamed)";
}

/** Options of one trace (ovn-trace's command line). */
export interface TraceOptions {
  /** `--ct FLAGS`, one per ct action; then `est|trk`. */
  readonly ct?: readonly string[];
  /** `--lb-dst IP[:PORT]`. */
  readonly lbDst?: string;
  /**
   * Chassis the trace runs on, when it differs from the network's (a network compiled for that
   * chassis is made once and reused); without any, every port is resident (ovn-trace).
   */
  readonly chassis?: string;
  /**
   * Picks a ct_lb backend when --lb-dst does not (ovn-trace picks at random). Default: a hash of
   * the 5-tuple. Returns an index into `backends`.
   */
  readonly chooseBackend?: (backends: readonly LbBackend[], flow: MFlow, hashFields?: string) => number;
  /**
   * `--select-id N`: the member a `select(…)` action takes when N is one of its ids. Otherwise
   * ovn-trace picks at random; this model takes the member the datapath's select group would
   * hash the packet to (`selectMember`), so a trace is reproducible.
   */
  readonly selectId?: number;
  /**
   * Not an ovn-trace option: the data path's load-balancer hairpin state, for a tracer that
   * follows a connection rather than one stateless packet. When given (even empty),
   * `ct_snat_to_vip` rewrites the source to the VIP as ovn-controller's table 70 does
   * (`ct(commit,zone=…,nat(src=VIP))`; ovn-trace only prints `nat(src=…)`), and for the reply
   * of one of these sessions `chk_lb_hairpin_reply()` is 1 (the flow ovn-controller learns in
   * table 69: source = backend, destination = VIP) and an argument-less `ct_snat` un-SNATs the
   * destination back to the backend (the SNAT zone's entry). Without it the trace is ovn-trace's.
   */
  readonly hairpin?: readonly HairpinSession[];
}

/**
 * A load-balancer hairpin connection the data path holds: a backend that reached itself through
 * a VIP (`ls_in_nat_hairpin` SNATed its source to the VIP). Addresses as text.
 */
export interface HairpinSession {
  readonly vip: string;
  readonly vipPort: number;
  readonly backend: string;
  readonly backendPort: number;
  /** The client's source port (the client's address is the backend's). */
  readonly clientPort: number;
  /** IP protocol number (6 tcp, 17 udp, 132 sctp). */
  readonly proto: number;
}

/** The ids (and weights) of a `select(id[=weight], …)` action's arguments; [] if unreadable. */
export function selectMembers(args: string): { readonly id: number; readonly weight: number }[] {
  const out: { id: number; weight: number }[] = [];
  for (const part of args.split(",")) {
    const m = /^\s*(\d+)\s*(?:=\s*(\d+)\s*)?$/.exec(part);
    if (!m) return [];
    out.push({ id: Number(m[1]), weight: m[2] !== undefined ? Number(m[2]) : 100 });
  }
  return out;
}

/**
 * The member the data path takes for a packet: ovn-controller turns `select` into an OpenFlow
 * select group (one bucket per member, its weight, selection_method=dp_hash), and @ovnsim/lb's
 * selectBucket picks the bucket; a 5-tuple hash if the group cannot be evaluated.
 */
export function selectMember(
  members: readonly { readonly id: number; readonly weight: number }[],
  f: MFlow,
): number {
  try {
    const group: SelectGroup = {
      buckets: members.map((m, i) => ({ bucketId: i, weight: m.weight })),
      method: "dp_hash",
    };
    const idx = selectBucket(group, toFlow(f)).index;
    if (idx !== undefined) return members[idx]!.id;
  } catch {
    /* fall through */
  }
  return members[
    fnv([f.nw_src, f.ipv6_src, f.nw_dst, f.ipv6_dst, f.nw_proto, f.tp_src, f.tp_dst]) % members.length
  ]!.id;
}

export interface TraceResult {
  /** The `# …` line without `# `: the microflow in OVS flow syntax. */
  readonly flow: string;
  readonly tree: readonly TraceNode[];
  /** The same trace as the executor recorded it, in the tree's pre-order (no node objects). */
  readonly log: TraceLog;
  /** Logical ports the packet was output to (after egress), in order. */
  readonly outputs: readonly string[];
  /** The packet as each of those ports receives it (after DNAT, eth rewrites, ttl…). */
  readonly deliveries: readonly { readonly port: string; readonly flow: Flow }[];
  /** True when the packet reached no port. */
  readonly dropped: boolean;
  /**
   * Which L4 ports the run's outcome may depend on: bit 1 the source port (`tcp.src`,
   * `udp.src`, `icmp4.type`…), bit 2 the destination port. A bit is clear when no match the
   * lookups evaluated and no action that ran read that field (nor a copy of it: ct_lb's
   * `ct_tp_dst`), so a packet that differs only there takes the same flows and actions, and
   * reaches the same ports with the same changes (OVS's megaflow idea: the fields consulted).
   * Hashes over the 5-tuple (select, ct_lb among several backends), hairpin sessions, the
   * packets nested actions build and port security's exceptions set both bits or theirs.
   */
  readonly portsRead: number;
}

const CT_NAMES = ["new", "est", "rel", "rpl", "inv", "trk", "snat", "dnat"] as const;

/** ct_state bits → "est|trk" (format_flags with ct_state_to_string). */
export function formatCtState(state: number): string {
  const out: string[] = [];
  CT_NAMES.forEach((n, i) => {
    if (state & (1 << i)) out.push(n);
  });
  return out.join("|");
}

/** `--ct` argument → ct_state bits (parse_ct_state with trk as default). */
export function parseCtOption(s: string): number {
  let state = CS.trk;
  for (const w of s.split(/[|,+]/)) {
    const name = w.trim();
    if (name === "") continue;
    const i = (CT_NAMES as readonly string[]).indexOf(name);
    if (i < 0) throw new SimError("BAD_VALUE", `--ct: ${name}: unknown connection tracking state flag`);
    state |= 1 << i;
  }
  return state;
}

const NO_CT: readonly string[] = [];
const CT_DEFAULT_COMMENT = " /* default (use --ct to customize) */";

/**
 * parseCtOption and parseLbDst kept per argument text: a tracer passes the same few options
 * on every packet. Only good values are kept (a bad one throws each time, as before).
 */
function memoByText<T>(parse: (s: string) => T): (s: string) => T {
  const memo = new Map<string, T>();
  return (s) => {
    let v = memo.get(s);
    if (v === undefined) {
      v = parse(s);
      if (memo.size >= 10_000) memo.clear();
      memo.set(s, v);
    }
    return v;
  };
}
const ctOptionOf = memoByText(parseCtOption);
const lbDstOf = memoByText(parseLbDst);

/** `ct_next(ct_state=…)` lines, by state and whether the state is the default. */
const CT_NEXT_LINES = new Map<number, string>();
function ctNextLine(state: number, comment: string): string {
  const key = comment === "" ? state : state + 0x10000;
  let s = CT_NEXT_LINES.get(key);
  if (s === undefined) {
    s = `ct_next(ct_state=${formatCtState(state)}${comment})`;
    CT_NEXT_LINES.set(key, s);
  }
  return s;
}

/** `--lb-dst` argument: IP, IP:PORT, [IPv6]:PORT or IPv6 (inet_parse_active). */
export function parseLbDst(s: string): LbBackend {
  let be: LbBackend | undefined;
  const m6 = /^\[([^\]]+)\](?::(\d+))?$/.exec(s);
  const m4 = /^([\d.]+)(?::(\d+))?$/.exec(s);
  if (m6) be = parseBackendLoose(`[${m6[1]}]:${m6[2] ?? 0}`);
  else if (m4) be = parseBackendLoose(`${m4[1]}:${m4[2] ?? 0}`);
  else if (s.includes(":")) be = parseBackendLoose(`[${s}]:0`);
  if (!be) throw new SimError("BAD_VALUE", `${s}: bad address`);
  return be;
}
function parseBackendLoose(s: string): LbBackend | undefined {
  const m4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3}):(\d+)$/.exec(s);
  if (m4) {
    const b = [1, 2, 3, 4].map((i) => Number(m4[i]));
    if (b.some((x) => x > 255) || Number(m4[5]) > 65535) return undefined;
    return {
      family: 4,
      ip4: ((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0,
      ip6: 0n,
      port: Number(m4[5]),
    };
  }
  const m6 = /^\[([0-9a-fA-F:.]+)\]:(\d+)$/.exec(s);
  if (m6) {
    try {
      const e = parseExpr(`ip6.dst == ${m6[1]}`);
      if (e.t === "cmp") return { family: 6, ip4: 0, ip6: e.value, port: Number(m6[2]) };
    } catch {
      return undefined;
    }
  }
  return undefined;
}

function parsePortSecurity(entries: readonly string[]): CPort["ps"] {
  const out: { mac: number; ip4: number[]; ip6: bigint[] }[] = [];
  for (const e of entries) {
    const words = e.trim().split(/\s+/);
    const mac = words[0] ?? "";
    if (!/^([0-9a-fA-F]{2}:){5}[0-9a-fA-F]{2}$/.test(mac)) continue;
    const ent = {
      mac: Number.parseInt(mac.replaceAll(":", ""), 16),
      ip4: [] as number[],
      ip6: [] as bigint[],
    };
    for (const w of words.slice(1)) {
      const ip = w.split("/")[0]!;
      try {
        const x = parseExpr(`${ip.includes(":") ? "ip6" : "ip4"}.dst == ${ip}`);
        if (x.t === "cmp") {
          if (ip.includes(":")) ent.ip6.push(x.value);
          else ent.ip4.push(Number(x.value));
        }
      } catch {
        /* ignore a bad entry, as extract_lsp_addresses would */
      }
    }
    out.push(ent);
  }
  return out;
}

function hash8(s: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193) >>> 0;
  return h.toString(16).padStart(8, "0");
}

/** A southbound model compiled for tracing: parse every match and action once. */
export class LogicalNetwork {
  private readonly dps = new Map<string, CDatapath>();
  /**
   * The last trace log's length: the next log is allocated at that size (TraceLog capacity), as
   * a tracer sends the same few packets. The last, not the longest: one TTL loop's thousands of
   * entries would otherwise be allocated for every later packet.
   */
  private logHint = 0;
  private readonly allPorts = new Map<string, CPort>();
  private readonly vips: SbModel["vips"];

  /** The release's symbol table the logical flows are parsed with (23.03's by default). */
  private readonly symtab: Symtab;

  constructor(
    readonly model: SbModel,
    readonly chassis?: string,
    opts: { readonly ovn?: number } = {},
  ) {
    this.symtab = symtabFor(opts.ovn ?? 23);
    this.vips = model.vips;
    for (const d of model.datapaths) {
      this.dps.set(d.name, {
        name: d.name,
        key: d.tunnelKey,
        ports: new Map(),
        portsByKey: new Map(),
        mcs: new Map(),
        mcsByKey: new Map(),
        tables: new Map(),
        byTable: { ingress: [], egress: [] },
        matchers: { ingress: [], egress: [] },
        stages: new Map(),
        unparsed: [],
        hasL3gateway: false,
        lines: {
          ingress: new Map(),
          egressOut: new Map(),
          egress: new Map(),
          noMatch: { ingress: [], egress: [] },
        },
      });
    }
    for (const p of model.ports) {
      const dp = this.dps.get(p.datapath);
      if (!dp) continue;
      const cp: CPort = { sb: p, dp, ps: parsePortSecurity(p.portSecurity) };
      dp.ports.set(p.name, cp);
      dp.portsByKey.set(p.tunnelKey, cp);
      if (p.type === "l3gateway") dp.hasL3gateway = true;
      this.allPorts.set(p.name, cp);
    }
    for (const p of this.allPorts.values()) {
      if (p.sb.type === "patch" || p.sb.type === "l3gateway") {
        const peer = this.allPorts.get(p.sb.options.get("peer") ?? "");
        if (peer) {
          p.peer = peer;
          peer.peer = p;
        }
      }
    }
    for (const m of model.mcGroups) {
      const dp = this.dps.get(m.datapath);
      if (!dp) continue;
      const ports = m.ports
        .map((n) => dp.ports.get(n))
        .filter((x): x is CPort => x !== undefined)
        .sort((a, b) => (a.sb.name < b.sb.name ? -1 : a.sb.name > b.sb.name ? 1 : 0));
      const mc = { name: m.name, key: m.tunnelKey, ports };
      dp.mcs.set(m.name, mc);
      dp.mcsByKey.set(m.tunnelKey, mc);
    }
    for (const lf of model.flows) {
      const dp = this.dps.get(lf.datapath);
      if (!dp) continue;
      const key = `${lf.pipeline}:${lf.table}`;
      if (!dp.stages.has(key)) dp.stages.set(key, lf.stage);
      dp.env ??= {
        lookupPort: (n: string) => this.lookupPort(dp, n),
        isChassisResident: (n: string) => this.isChassisResident(n),
      };
      const env = dp.env;
      try {
        const match = foldConstants(
          parseExpr(lf.match, {
            addressSets: model.addressSets,
            portGroups: model.portGroups,
            dpKey: dp.key,
            symtab: this.symtab,
          }),
          env,
        );
        const actions = parseActions(lf.actions, { symtab: this.symtab });
        const prereqs = actionPrereqs(actions);
        const base = compileExpr(match, env);
        const pred: Pred = prereqs.length === 0 ? base : (f) => base(f) && prereqs.every((p) => p(f));
        const a0 = actions[0];
        const omit =
          match.t === "bool" &&
          match.v &&
          actions.length === 1 &&
          a0?.t === "next" &&
          (a0.pipeline === undefined || a0.pipeline === lf.pipeline) &&
          (a0.table === undefined || a0.table === lf.table + 1);
        let list = dp.tables.get(key);
        if (!list) {
          list = [];
          dp.tables.set(key, list);
          dp.byTable[lf.pipeline][lf.table] = list;
        }
        list.push({
          lf,
          pred,
          src: { match, extra: prereqs },
          actions,
          omit,
          uuid:
            lf.uuid ??
            hash8(`${lf.datapath}|${lf.pipeline}|${lf.table}|${lf.priority}|${lf.match}|${lf.actions}`),
        });
      } catch (e) {
        dp.unparsed.push({ flow: lf, error: e instanceof Error ? e.message : String(e) });
      }
    }
    for (const dp of this.dps.values()) {
      for (const list of dp.tables.values()) list.sort((a, b) => b.lf.priority - a.lf.priority);
    }
  }

  /** Logical flows whose match or actions could not be parsed (ovn-trace skips them too). */
  unparsedFlows(): readonly { readonly flow: LogicalFlow; readonly error: string }[] {
    return [...this.dps.values()].flatMap((d) => d.unparsed);
  }

  datapathNames(): string[] {
    return [...this.dps.keys()];
  }

  private lookupPort(dp: CDatapath, name: string): number | undefined {
    if (name === "" || name === "none") return 0;
    if (this.allPorts.has(name)) return dp.ports.get(name)?.sb.tunnelKey;
    return dp.mcs.get(name)?.key;
  }

  isChassisResident(name: string): boolean {
    if (name === "") return true;
    const p = this.allPorts.get(name);
    if (!p) return false;
    if (this.chassis === undefined) return true;
    // A chassisredirect port lives where it is bound; others are resident where bound.
    return p.sb.chassis === this.chassis;
  }

  private readonly perChassis = new Map<string, LogicalNetwork>();

  /** The same network compiled for another chassis (is_chassis_resident differs). */
  onChassis(chassis: string): LogicalNetwork {
    if (chassis === this.chassis) return this;
    let n = this.perChassis.get(chassis);
    if (!n) {
      n = new LogicalNetwork(this.model, chassis, { ovn: this.symtab.ovn });
      this.perChassis.set(chassis, n);
    }
    return n;
  }

  /** Traces `microflow` entering datapath `dpName` (ovn-trace DATAPATH MICROFLOW). */
  trace(dpName: string | undefined, microflow: string, opts: TraceOptions = {}): TraceResult {
    if (opts.chassis !== undefined && opts.chassis !== this.chassis) {
      return this.onChassis(opts.chassis).trace(dpName, microflow, opts);
    }
    let dp: CDatapath | undefined;
    if (dpName !== undefined) {
      dp = this.dps.get(dpName);
      if (!dp) throw new SimError("UNKNOWN_OBJECT", `unknown datapath "${dpName}"`);
    } else {
      const m = /inport\s*==\s*"((?:[^"\\]|\\.)*)"/.exec(microflow);
      const p = m ? this.allPorts.get(m[1]!) : undefined;
      if (!m) throw new SimError("PARSE_ERROR", "microflow must specify an inport when no datapath is given");
      if (!p) throw new SimError("UNKNOWN_PORT", `unknown port "${m[1]}"`);
      dp = p.dp;
    }
    const d = dp;
    let uflow: MFlow;
    try {
      uflow = parseMicroflow(microflow, (n) => this.lookupPort(d, n), {
        addressSets: this.model.addressSets,
        portGroups: this.model.portGroups,
        dpKey: d.key,
      });
    } catch (e) {
      if (e instanceof SimError && e.code === "PARSE_ERROR") {
        throw new SimError("PARSE_ERROR", `error parsing flow: ${e.message}`);
      }
      throw e;
    }
    return this.run(d, uflow, opts);
  }

  /**
   * Traces a packet given as a flow (no microflow text): it enters datapath `dpName` (or the
   * inport's datapath) on logical port `inport`; registers start at zero, as in ovn-trace.
   */
  traceFlow(dpName: string | undefined, inport: string, flow: Flow, opts: TraceOptions = {}): TraceResult {
    if (opts.chassis !== undefined && opts.chassis !== this.chassis) {
      return this.onChassis(opts.chassis).traceFlow(dpName, inport, flow, opts);
    }
    const p = this.allPorts.get(inport);
    if (!p) throw new SimError("UNKNOWN_PORT", `unknown port "${inport}"`);
    const d = dpName !== undefined ? this.dps.get(dpName) : p.dp;
    if (!d) throw new SimError("UNKNOWN_OBJECT", `unknown datapath "${dpName}"`);
    if (p.dp !== d) throw new SimError("UNKNOWN_PORT", `port "${inport}" is not in datapath "${d.name}"`);
    const key = p.sb.tunnelKey;
    const startOf = (): MFlow => {
      const u = toMFlow(flow);
      u.regs.fill(0);
      u.regs[LOG_INPORT] = key;
      return u;
    };
    // The packet as it entered is remade from `flow` if its text is asked for (no copy per run).
    return this.run(d, startOf(), opts, startOf);
  }

  private run(d: CDatapath, uflow: MFlow, opts: TraceOptions, startOf?: () => MFlow): TraceResult {
    const run = new TraceRun(this, opts, this.logHint);
    const log = run.log;
    const inKey = uflow.regs[LOG_INPORT] ?? 0;
    const node = log.add(-1, "pipeline", ingressLine(d, d.portsByKey.get(inKey)?.sb.name ?? "(unnamed)"));
    // The `# …` line and the node tree are made when first read (the tracer asks for them only
    // with the text).
    const start = startOf === undefined ? cloneMFlow(uflow) : startOf;
    PORT_READS[0] = 0;
    run.traceTables(d, uflow, 0, "ingress", node);
    const portsRead = PORT_READS[0]!;
    this.logHint = log.length;
    const r = {} as { -readonly [K in keyof TraceResult]: TraceResult[K] };
    lazyProperty(r, "flow", () => formatFlow(typeof start === "function" ? start() : start));
    lazyProperty(r, "tree", () => log.toTree());
    r.log = log;
    r.outputs = run.outputs;
    r.deliveries = run.deliveries;
    r.dropped = run.outputs.length === 0;
    r.portsRead = portsRead;
    return r;
  }

  /** @internal SB MAC_Binding lookup (ovntrace_mac_binding_find). */
  macBinding(dp: CDatapath, portKey: number, ipField: FieldRef, ip: bigint): SbMacBinding | undefined {
    for (const b of this.model.macBindings ?? []) {
      if (b.datapath !== dp.name || dp.ports.get(b.logicalPort)?.sb.tunnelKey !== portKey) continue;
      const v = ipField.nbits === 32 ? parseIp4Text(b.ip) : parseIp6Text(b.ip);
      if (v !== undefined && BigInt(v) === ip) return b;
    }
    return undefined;
  }
  /** @internal SB FDB lookup (ovntrace_fdb_find). */
  fdb(dp: CDatapath, mac: number): SbFdb | undefined {
    return (this.model.fdbs ?? []).find((e) => e.dpKey === dp.key && parseMacText(e.mac) === mac);
  }

  /** @internal */
  dp(name: string): CDatapath | undefined {
    return this.dps.get(name);
  }
  /** @internal */
  vipFor(f: MFlow): SbModel["vips"][number] | undefined {
    return this.vips.find((v) => (v.family === 4 ? v.ip4 === f.ct_nw_dst : v.ip6 === f.ct_ipv6_dst));
  }
}

/** An address as formatIp4 / formatIp6 print it. */
function canonIp(ip: string): string {
  const v = ip.includes(":") ? parseIp6Text(ip) : parseIp4Text(ip);
  if (v === undefined) return ip;
  return typeof v === "bigint" ? formatIp6(v) : formatIp4(v);
}

function toFlow(f: MFlow): Flow {
  return copyFields(f, Object.freeze(f.regs.slice()) as number[], Object.freeze([...f.vlans]));
}

const prereqPredCache = new Map<string, Pred>();
function symPrereqs(ref: FieldRef): Pred[] {
  const out: Pred[] = [];
  let s = ref.sym as typeof ref.sym | undefined;
  while (s) {
    if (s.prereqs) {
      let p = prereqPredCache.get(s.prereqs);
      if (!p) {
        p = compileExpr(parseExpr(s.prereqs), { lookupPort: () => undefined, isChassisResident: () => true });
        prereqPredCache.set(s.prereqs, p);
      }
      out.push(p);
    }
    s = s.parent ? SYMTAB.get(s.parent) : undefined;
  }
  return out;
}

/**
 * What ovn-trace checks before it executes a load (execute_load: mf_are_prereqs_ok on the
 * OpenFlow field, i.e. OVS meta-flow prerequisites, not OVN's symbol prerequisites). They
 * differ for the ND fields: OVS's MFP_ND / MFP_ND_SOLICIT / MFP_ND_ADVERT ask for the ICMPv6
 * type and code only, OVN's `nd` also for ip.ttl == 255 — so `nd_ns { nd.target = …; }` on a
 * routed packet (its TTL unchanged by nd_ns) does set the target.
 */
const OVS_LOAD_PREREQS: Partial<Record<string, string>> = {
  "nd.target": "icmp6 && icmp6.type == {135, 136} && icmp6.code == 0",
  "nd.sll": "icmp6 && icmp6.type == 135 && icmp6.code == 0",
  "nd.tll": "icmp6 && icmp6.type == 136 && icmp6.code == 0",
};
function loadPrereqs(ref: FieldRef): Pred[] {
  const ovs = OVS_LOAD_PREREQS[ref.sym.name];
  return ovs !== undefined ? [prereqPred(ovs)] : symPrereqs(ref);
}

function prereqPred(text: string): Pred {
  let p = prereqPredCache.get(text);
  if (!p) {
    p = compileExpr(parseExpr(text), { lookupPort: () => undefined, isChassisResident: () => true });
    prereqPredCache.set(text, p);
  }
  return p;
}

/** The prerequisite a nested action adds (parse_nested_action); undefined: its inner ones. */
const NEST_PREREQ: Partial<Record<string, string>> = {
  arp: "ip4",
  icmp4: "ip4",
  icmp4_error: "ip4",
  icmp6: "ip6",
  icmp6_error: "ip6",
  tcp_reset: "tcp",
  sctp_abort: "sctp",
  nd_na: "nd_ns",
  nd_na_router: "nd_ns",
  nd_ns: "ip6",
};

/**
 * Prerequisites the actions add to the match (ovnacts_parse's `prereqs`): the fields they
 * load or move, "ip" for ip.ttl-- and every conntrack action (ct_next, ct_commit, ct_dnat /
 * ct_snat, ct_commit_nat, ct_lb), the nested actions' own (arp → ip4, nd_ns → ip6, tcp_reset
 * → tcp, …; clone and reject pass their inner ones on), dns_lookup → udp, put_nd_ra_opts →
 * ip6. A logical flow `ct.rel && … → ct_commit_nat` thus never matches an ARP packet.
 */
function actionPrereqs(actions: readonly Action[]): Pred[] {
  const out: Pred[] = [];
  for (const a of actions) {
    if (a.t === "load" || a.t === "load_str") out.push(...symPrereqs(a.dst));
    else if (a.t === "move") out.push(...symPrereqs(a.dst), ...symPrereqs(a.src));
    else if (a.t === "exchange") out.push(...symPrereqs(a.a), ...symPrereqs(a.b));
    else if (
      a.t === "dec_ttl" ||
      a.t === "ct_next" ||
      a.t === "ct_commit" ||
      a.t === "ct_nat" ||
      a.t === "ct_commit_nat" ||
      a.t === "ct_lb" ||
      (a.t === "other" && a.name === "ct_commit")
    )
      out.push(prereqPred("ip"));
    else if (a.t === "nest") {
      const p = NEST_PREREQ[a.kind];
      if (p) out.push(prereqPred(p));
      else if (a.kind === "clone" || a.kind === "reject") out.push(...actionPrereqs(a.nested));
    } else if (a.t === "result") {
      if (a.fn === "dns_lookup") out.push(prereqPred("udp"));
      else if (a.fn === "put_nd_ra_opts") out.push(prereqPred("ip6"));
    }
  }
  return out;
}

function fnv(parts: readonly (number | bigint)[]): number {
  let h = 0x811c9dc5;
  for (const p of parts) {
    const s = p.toString(16);
    for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193) >>> 0;
    h = Math.imul(h ^ 0x2c, 0x01000193) >>> 0;
  }
  return h;
}

/**
 * Default backend choice, where ovn-trace picks at random: the bucket the datapath would pick
 * for the select group ovn-controller builds from `ct_lb_mark(backends=…)` (one bucket per
 * backend, weight 100; `selection_method=hash,fields(…)` with hash_fields, else dp_hash), via
 * @ovnsim/lb's selectBucket. Falls back to a 5-tuple hash if the group cannot be evaluated.
 */
export function hashBackend(backends: readonly LbBackend[], f: MFlow, hashFields?: string): number {
  try {
    // The group is kept per backend list (the action's, or its one-family part): selectBucket
    // keeps its dp_hash table per bucket list, so a new group per packet rebuilt it every time.
    const idx = selectBucket(backendGroup(backends, hashFields), f).index;
    if (idx !== undefined) return idx;
  } catch {
    /* fall through */
  }
  return fnv([f.nw_src, f.ipv6_src, f.nw_dst, f.ipv6_dst, f.nw_proto, f.tp_src, f.tp_dst]) % backends.length;
}

const BACKEND_GROUPS = new WeakMap<readonly LbBackend[], Map<string, SelectGroup>>();
/** The select group ovn-controller builds for a backend list (hash_fields "" = dp_hash). */
function backendGroup(backends: readonly LbBackend[], hashFields: string | undefined): SelectGroup {
  let byFields = BACKEND_GROUPS.get(backends);
  if (!byFields) {
    byFields = new Map();
    BACKEND_GROUPS.set(backends, byFields);
  }
  const key = hashFields ?? "";
  let group = byFields.get(key);
  if (!group) {
    group = {
      buckets: backends.map((_, i) => ({ bucketId: i, weight: 100 })),
      method: hashFields ? "hash" : "dp_hash",
      ...(hashFields ? { fields: parseHashFields(hashFields) } : {}),
    };
    byFields.set(key, group);
  }
  return group;
}

/** ct_lb's backends of one address family, kept per backend list (the action's). */
const FAMILY_BACKENDS = new WeakMap<readonly LbBackend[], readonly (readonly LbBackend[])[]>();
function backendsOf(backends: readonly LbBackend[], family: 4 | 6): readonly LbBackend[] {
  let byFamily = FAMILY_BACKENDS.get(backends);
  if (!byFamily) {
    byFamily = [backends.filter((b) => b.family === 4), backends.filter((b) => b.family === 6)];
    FAMILY_BACKENDS.set(backends, byFamily);
  }
  return byFamily[family === 4 ? 0 : 1]!;
}

const REGISTER_BASES = /^(x{0,2}reg\d+)$/;

/** Formats a field's whole value the way OVS mf_format prints it. */
function mfFormat(mf: string, v: bigint): string {
  switch (mf) {
    case "dl_src":
    case "dl_dst":
    case "arp_sha":
    case "arp_tha":
      return formatMac(v);
    case "nw_src":
    case "nw_dst":
      return formatIp4(Number(v));
    case "ipv6_src":
    case "ipv6_dst":
    case "nd_target":
      return formatIp6(v);
    case "dl_type":
    case "vlan_tci":
    case "ct_mark":
    case "ct_label":
    case "pkt_mark":
      return `0x${v.toString(16)}`;
    default:
      return REGISTER_BASES.test(mf) ? `0x${v.toString(16)}` : v.toString();
  }
}

/** A matched flow's table line (`" 13. ls_in_lb (northd.c:…): match, priority 120, uuid …"`). */
function tableLine(c: CFlow, table: number): string {
  let s = `${String(table).padStart(2)}. `;
  const { stage, hint } = c.lf;
  if (stage && hint) s += `${stage} (${hint}): `;
  else if (stage) s += `${stage}: `;
  else if (hint) s += `(${hint}): `;
  return `${s}${c.lf.match}, priority ${c.lf.priority}, uuid ${c.uuid}`;
}

/** A `no match (implicit drop)` table line, made once per datapath, pipeline and table. */
function noMatchLine(dp: CDatapath, table: number, pipeline: Pipeline): string {
  const lines = dp.lines.noMatch[pipeline];
  let s = lines[table];
  if (s === undefined) {
    const stage = dp.stages.get(`${pipeline}:${table}`);
    s = `${String(table).padStart(2)}. ${stage ? `${stage}: ` : ""}no match (implicit drop)`;
    lines[table] = s;
  }
  return s;
}

/**
 * What an action's execution needs that does not depend on the packet, worked out on its first
 * execution: a load's `modify` line (null for a register: ovn-trace does not print those) and
 * prerequisites, and where the action writes when that is bits of one 32-bit register (`reg`,
 * `shift`, `m` the mask in place; `v` a load's value in place or load_str's port key), so the
 * write is integer arithmetic instead of bigints. `bitLines`: the `modify` lines of a result
 * action that writes 0 or 1 (chk_lb_hairpin).
 */
interface ActPlan {
  readonly modify: string | null;
  readonly pre: readonly Pred[];
  /** The register written, or -1 (then the write goes through writeField). */
  readonly reg: number;
  readonly shift: number;
  readonly m: number;
  readonly v: number;
  readonly bitLines: readonly [string, string] | null;
}

const REG_NAME = /^reg(\d+)$/;

function plansOf(
  actions: readonly Action[],
  dp: CDatapath,
  table: number,
  pipeline: Pipeline,
): (ActPlan | undefined)[] {
  return actions.map((a): ActPlan | undefined => {
    switch (a.t) {
      case "load": {
        const base = a.dst.sym.base!;
        const modify = REGISTER_BASES.test(base.mf)
          ? null
          : formatAction(a, { table, pipeline }).replace(/;$/, "");
        const w = a.dst.sym.kind === "string" ? null : regBits(a.dst);
        let v = 0;
        if (w) {
          const full = (1n << BigInt(a.dst.nbits)) - 1n;
          const shift = BigInt(w.shift);
          const m = ((a.mask ?? full) & full) << shift;
          v = Number((a.value << shift) & m);
          return {
            modify,
            pre: loadPrereqs(a.dst),
            reg: w.reg,
            shift: w.shift,
            m: Number(m),
            v,
            bitLines: null,
          };
        }
        return { modify, pre: loadPrereqs(a.dst), reg: -1, shift: 0, m: 0, v, bitLines: null };
      }
      case "load_str": {
        const key = dp.ports.get(a.s)?.sb.tunnelKey ?? dp.mcs.get(a.s)?.key ?? 0;
        const w = a.dst.sym.kind === "string" ? regBits(a.dst) : null;
        return {
          modify: null,
          pre: [],
          reg: w ? w.reg : -1,
          shift: 0,
          m: 0xffffffff,
          v: key >>> 0,
          bitLines: null,
        };
      }
      case "result": {
        const w = regBits(a.dst);
        const name = formatField(a.dst);
        return {
          modify: null,
          pre: [],
          reg: w ? w.reg : -1,
          shift: w ? w.shift : 0,
          m: w ? w.m : 0,
          v: 0,
          bitLines: [`${name} = 0`, `${name} = 1`],
        };
      }
      default:
        return undefined;
    }
  });
}

/**
 * Where `ref` sits when it is bits of one 32-bit register (inport/outport: all of reg14/reg15),
 * with the mask in place; null otherwise (xreg/xxreg, other fields).
 */
function regBits(ref: FieldRef): { reg: number; shift: number; m: number } | null {
  const name = REG_NAME.exec(ref.sym.base!.mf);
  if (!name) return null;
  const reg = Number(name[1]);
  if (ref.sym.kind === "string") return { reg, shift: 0, m: 0xffffffff };
  const shift = ref.sym.ofs + ref.lo;
  if (shift + ref.nbits > 32) return null;
  return { reg, shift, m: Number((((1n << BigInt(ref.nbits)) - 1n) << BigInt(shift)) & 0xffffffffn) };
}

/** writeField of a number (at most 32 bits) through the action's plan. */
function writeSmall(plan: ActPlan, ref: FieldRef, f: MFlow, v: number): void {
  if (plan.reg >= 0) {
    const r = f.regs;
    r[plan.reg] = (((r[plan.reg] ?? 0) & ~plan.m) | ((v << plan.shift) & plan.m)) >>> 0;
  } else writeField(ref, f, BigInt(v));
}

/** Nested action lists' lines and plans (clone, reject, arp {…}): one list belongs to one flow. */
const NESTED_LINES = new WeakMap<readonly Action[], readonly string[]>();
const NESTED_PLANS = new WeakMap<readonly Action[], readonly (ActPlan | undefined)[]>();

class TraceRun {
  readonly log: TraceLog;
  private ctIdx = 0;
  private readonly ctStates: number[];
  private lbDst: LbBackend | undefined;
  readonly outputs: string[] = [];
  readonly deliveries: { port: string; flow: Flow }[] = [];
  private readonly choose: (b: readonly LbBackend[], f: MFlow, hashFields?: string) => number;

  constructor(
    private readonly net: LogicalNetwork,
    opts: TraceOptions,
    logCapacity = 0,
  ) {
    this.log = new TraceLog(logCapacity);
    const ct = opts.ct ?? NO_CT;
    const states: number[] = [];
    for (let i = 0; i < ct.length; i++) states.push(ctOptionOf(ct[i]!));
    this.ctStates = states;
    this.lbDst = opts.lbDst !== undefined ? lbDstOf(opts.lbDst) : undefined;
    this.choose = opts.chooseBackend ?? hashBackend;
    this.selectId = opts.selectId;
    this.hairpin = opts.hairpin;
  }

  private readonly hairpin: readonly HairpinSession[] | undefined;

  /** The hairpin session `f` is the reply of (source = backend, destination = VIP). */
  private hairpinReplyOf(f: MFlow): HairpinSession | undefined {
    if (!this.hairpin || this.hairpin.length === 0) return undefined;
    markPortRead(READ_TP_SRC | READ_TP_DST);
    const v6 = f.dl_type === 0x86dd;
    if (!v6 && f.dl_type !== 0x0800) return undefined;
    const src = v6 ? formatIp6(f.ipv6_src) : formatIp4(f.nw_src);
    const dst = v6 ? formatIp6(f.ipv6_dst) : formatIp4(f.nw_dst);
    return this.hairpin.find(
      (h) =>
        h.proto === f.nw_proto &&
        canonIp(h.backend) === src &&
        h.backendPort === f.tp_src &&
        canonIp(h.vip) === dst &&
        h.clientPort === f.tp_dst,
    );
  }

  private readonly selectId: number | undefined;

  /** The comment of the last nextCtState: "" for a `--ct` state, the default's note otherwise. */
  private ctComment = "";

  private nextCtState(): number {
    if (this.ctIdx < this.ctStates.length) {
      this.ctComment = "";
      return this.ctStates[this.ctIdx++]!;
    }
    this.ctComment = CT_DEFAULT_COMMENT;
    return CS.est | CS.trk;
  }

  /**
   * A NAT action forks the pipeline as ovn-trace does: the packet is tracked (taking the next
   * `--ct` state) unless it already is, and the rest of the pipeline runs under the
   * transformation node.
   */
  private forkTracked(
    dp: CDatapath,
    g: MFlow,
    table: number,
    pipeline: Pipeline,
    sup: number,
    text: string,
  ): void {
    if (!(g.ct_state & CS.trk)) {
      g.ct_state |= this.nextCtState();
      text += this.ctComment;
    }
    const node = this.log.add(sup, "transformation", text);
    this.traceTables(dp, g, table + 1, pipeline, node);
  }

  private lookup(dp: CDatapath, f: MFlow, table: number, pipeline: Pipeline): CFlow | undefined {
    const list = dp.byTable[pipeline][table];
    if (!list) return undefined;
    let ms = dp.matchers[pipeline][table];
    if (!ms) {
      ms = compileTable(
        list.map((c) => c.src),
        dp.env!,
      );
      dp.matchers[pipeline][table] = ms;
    }
    for (let i = 0; i < ms.length; i++) {
      const j = ms[i]!(f);
      if (j >= 0) return list[j];
    }
    return undefined;
  }

  traceTables(dp: CDatapath, f: MFlow, table: number, pipeline: Pipeline, sup: number): void {
    // A flow whose last action is `next` continues in this loop rather than by recursion, so
    // a packet looping through routers until its TTL runs out (63 hops of ~60 stages, as
    // ovn-trace follows it) does not exhaust the stack.
    for (;;) {
      let c: CFlow | undefined;
      for (;;) {
        c = this.lookup(dp, f, table, pipeline);
        if (!c?.omit) break;
        table++;
      }
      if (!c) {
        this.log.add(sup, "table", noMatchLine(dp, table, pipeline));
        return;
      }
      c.line ??= tableLine(c, table);
      c.actionLines ??= c.actions.map((a) => formatAction(a, { table, pipeline }));
      c.plans ??= plansOf(c.actions, dp, table, pipeline);
      const node = this.log.add(sup, "table", c.line);
      const lines = c.actionLines;
      const plans = c.plans;
      if (!this.traceActions(c.actions, dp, f, table, pipeline, node, true, lines, plans)) return;
      table = this.nextTable;
      pipeline = this.nextPipeline;
      sup = this.nextSup;
    }
  }

  /** Where a tail `next` goes (traceActions with `tail` set them): table, pipeline, parent node. */
  private nextTable = 0;
  private nextPipeline: Pipeline = "ingress";
  private nextSup = -1;

  /**
   * Runs a flow's actions. With `tail`, a final `next` is not followed here but left in
   * nextTable/nextPipeline/nextSup (where the next table's node goes), for traceTables' loop to
   * go on with; the return value says whether it did.
   */
  traceActions(
    actions: readonly Action[],
    dp: CDatapath,
    f: MFlow,
    table: number,
    pipeline: Pipeline,
    sup: number,
    tail = false,
    lines?: readonly string[],
    plans?: readonly (ActPlan | undefined)[],
  ): boolean {
    if (actions.length === 0) {
      this.log.add(sup, "action", "drop;");
      return false;
    }
    if (!lines) {
      let l = NESTED_LINES.get(actions);
      if (!l) {
        l = actions.map((a) => formatAction(a, { table, pipeline }));
        NESTED_LINES.set(actions, l);
      }
      lines = l;
    }
    if (!plans) {
      let p = NESTED_PLANS.get(actions);
      if (!p) {
        p = plansOf(actions, dp, table, pipeline);
        NESTED_PLANS.set(actions, p);
      }
      plans = p;
    }
    const last = actions.length - 1;
    for (let i = 0; i <= last; i++) {
      const a = actions[i]!;
      this.log.add(sup, "action", lines[i]!);
      if (tail && i === last && a.t === "next") {
        this.nextTarget(a, dp, f, table, pipeline, sup);
        return true;
      }
      this.execute(a, plans[i], dp, f, table, pipeline, sup);
    }
    return false;
  }

  /** Where `next` goes: sets nextTable, nextPipeline and nextSup (the node the next table is traced under). */
  private nextTarget(
    a: Extract<Action, { t: "next" }>,
    dp: CDatapath,
    f: MFlow,
    table: number,
    pipeline: Pipeline,
    sup: number,
  ): void {
    const np = a.pipeline ?? pipeline;
    let target = sup;
    if (np !== pipeline) {
      const key = np === "ingress" ? (f.regs[LOG_INPORT] ?? 0) : (f.regs[LOG_OUTPORT] ?? 0);
      const name = keyName(dp, key);
      const cache = np === "ingress" ? dp.lines.ingress : dp.lines.egressOut;
      let text = cache.get(name);
      if (text === undefined) {
        text = `${np}(dp="${dp.name}", ${np === "ingress" ? "inport" : "outport"}="${name}")`;
        cache.set(name, text);
      }
      target = this.log.add(sup, "pipeline", text);
    }
    this.nextTable = a.table ?? table + 1;
    this.nextPipeline = np;
    this.nextSup = target;
  }

  private execute(
    a: Action,
    plan: ActPlan | undefined,
    dp: CDatapath,
    f: MFlow,
    table: number,
    pipeline: Pipeline,
    sup: number,
  ): void {
    switch (a.t) {
      case "output":
        this.executeOutput(dp, f, pipeline, sup);
        return;
      case "next": {
        this.nextTarget(a, dp, f, table, pipeline, sup);
        this.traceTables(dp, f, this.nextTable, this.nextPipeline, this.nextSup);
        return;
      }
      case "load": {
        const p = plan!;
        if (p.modify !== null) this.log.add(sup, "modify", p.modify);
        const pre = p.pre;
        let ok = true;
        for (let i = 0; i < pre.length && ok; i++) ok = pre[i]!(f);
        if (ok) {
          if (p.reg >= 0) {
            const r = f.regs;
            r[p.reg] = (((r[p.reg] ?? 0) & ~p.m) | p.v) >>> 0;
          } else writeField(a.dst, f, a.value, a.mask);
        }
        return;
      }
      case "load_str": {
        const p = plan!;
        if (p.reg >= 0) f.regs[p.reg] = p.v;
        else a.dst.sym.base!.set(f, BigInt(p.v));
        return;
      }
      case "move": {
        this.summarizeMove(a.src, a.dst, f, sup);
        writeField(a.dst, f, readField(a.src, f));
        return;
      }
      case "exchange": {
        this.summarizeMove(a.b, a.a, f, sup);
        this.summarizeMove(a.a, a.b, f, sup);
        const va = readField(a.a, f);
        const vb = readField(a.b, f);
        writeField(a.a, f, vb);
        writeField(a.b, f, va);
        return;
      }
      case "dec_ttl":
        if (f.dl_type === 0x0800 || f.dl_type === 0x86dd) {
          if (f.nw_ttl) {
            f.nw_ttl--;
            this.log.add(sup, "modify", "ip.ttl--");
          } else this.log.add(sup, "error", "*** TTL underflow");
        } else this.log.add(sup, "error", "*** TTL decrement of non-IP packet");
        return;
      case "ct_next": {
        const state = this.nextCtState();
        const node = this.log.add(sup, "transformation", ctNextLine(state, this.ctComment));
        const g = cloneMFlow(f);
        g.ct_state = state;
        this.traceTables(dp, g, table + 1, pipeline, node);
        return;
      }
      case "ct_commit":
        return;
      case "ct_lb":
        this.executeCtLb(a.mark, a.backends, a.hashFields, dp, f, table, pipeline, sup);
        return;
      case "ct_nat": {
        const isDst = a.kind === "ct_dnat" || a.kind === "ct_dnat_in_czone";
        // ovn-trace treats every gateway router as local, and an argument-less ct_snat there
        // "has no visible effect": the action returns without continuing the pipeline.
        if (!isDst && !a.ip && dp.hasL3gateway) return;
        const czone = a.kind.endsWith("_in_czone");
        const dir = isDst ? "dst" : "src";
        const g = cloneMFlow(f);
        let s = `ct_${dir[0]}nat${czone ? "in_czone" : ""}`;
        const session = !isDst && !a.ip ? this.hairpinReplyOf(f) : undefined;
        if (session) {
          // The reply of a hairpin session: the SNAT zone's entry turns the VIP back into the backend.
          const v6 = f.dl_type === 0x86dd;
          if (v6) g.ipv6_dst = parseIp6Text(session.backend) ?? g.ipv6_dst;
          else g.nw_dst = parseIp4Text(session.backend) ?? g.nw_dst;
          g.ct_state |= CS.snat;
          s += ` /* hairpin session: un-SNAT, ${v6 ? "ip6" : "ip4"}.dst = ${canonIp(session.backend)} */`;
          const node = this.log.add(sup, "transformation", s);
          this.log.add(node, "modify", `${v6 ? "ip6" : "ip4"}.dst = ${canonIp(session.backend)}`);
          this.traceTables(dp, g, table + 1, pipeline, node);
          return;
        } else if (a.ip) {
          if (a.ip.family === 4) {
            s += `(ip4.${dir}=${formatIp4(a.ip.ip4)})`;
            if (isDst) g.nw_dst = a.ip.ip4;
            else g.nw_src = a.ip.ip4;
          } else {
            s += `(ip6.${dir}=${formatIp6(a.ip.ip6)})`;
            if (isDst) g.ipv6_dst = a.ip.ip6;
            else g.ipv6_src = a.ip.ip6;
          }
          g.ct_state |= isDst ? CS.dnat : CS.snat;
        } else s += ` /* assuming no un-${dir[0]}nat entry, so no change */`;
        this.forkTracked(dp, g, table, pipeline, sup, s);
        return;
      }
      case "ct_commit_nat":
        this.forkTracked(
          dp,
          cloneMFlow(f),
          table,
          pipeline,
          sup,
          "ct_commit_nat /* assuming no un-nat entry, so no change */",
        );
        return;
      case "ct_clear":
        f.ct_state = 0;
        f.ct_zone = 0;
        f.ct_mark = 0;
        f.ct_label = 0n;
        f.ct_nw_src = 0;
        f.ct_nw_dst = 0;
        f.ct_ipv6_src = 0n;
        f.ct_ipv6_dst = 0n;
        f.ct_nw_proto = 0;
        f.ct_tp_src = 0;
        f.ct_tp_dst = 0;
        return;
      case "ct_snat_to_vip": {
        const vip = this.net.vipFor(f);
        // ct_tp_dst is ct_lb's copy of the destination port.
        if (vip) markPortRead(READ_TP_DST);
        if (vip && vip.port === f.ct_tp_dst) {
          const text = vip.family === 4 ? formatIp4(vip.ip4) : formatIp6(vip.ip6);
          this.log.add(sup, "action", `/* nat(src=${text}) */`);
          if (this.hairpin) {
            // The data path commits the SNAT (table 70); the packet leaves with the VIP as source.
            if (vip.family === 4) f.nw_src = vip.ip4;
            else f.ipv6_src = vip.ip6;
            this.log.add(sup, "modify", `${vip.family === 4 ? "ip4" : "ip6"}.src = ${text}`);
          }
        }
        return;
      }
      case "nest":
        this.executeNest(a.kind, a.nested, dp, f, table, pipeline, sup);
        return;
      case "result":
        if (a.fn === "select") {
          this.executeSelect(a, dp, f, table, pipeline, sup);
          return;
        }
        this.executeResult(a, plan!, dp, f, sup);
        return;
      case "other":
        if (a.name === "get_arp" || a.name === "get_nd") {
          const [port, ip] = argFields(a.text.slice(a.text.indexOf("(") + 1, a.text.lastIndexOf(")")));
          const b =
            port && ip
              ? this.net.macBinding(dp, Number(readField(port, f)), ip, readField(ip, f))
              : undefined;
          f.dl_dst = b ? parseMacText(b.mac) : 0;
          this.log.add(
            sup,
            "action",
            b ? `/* MAC binding to ${formatMac(f.dl_dst)}. */` : "/* No MAC binding. */",
          );
          this.log.add(sup, "modify", `eth.dst = ${formatMac(f.dl_dst)}`);
        } else if (a.name === "log") {
          const m = (k: string): string | undefined =>
            new RegExp(`${k}\\s*=\\s*"?([A-Za-z0-9_.-]+)"?`).exec(a.text)?.[1];
          this.log.add(
            sup,
            "transformation",
            `LOG: ACL name=${m("name") ?? "<unnamed>"}, direction=${pipeline === "ingress" ? "IN" : "OUT"}, verdict=${m("verdict") ?? "allow"}, severity=${m("severity") ?? "info"}, packet="${formatFlow(toFlow(f))}"`,
          );
        }
        return;
    }
  }

  /**
   * `select(…)` forks as in ovn-trace: the chosen member's id is written to the result field of
   * a copy of the packet, which continues at the next table under a transformation node.
   */
  private executeSelect(
    a: Extract<Action, { t: "result" }>,
    dp: CDatapath,
    f: MFlow,
    table: number,
    pipeline: Pipeline,
    sup: number,
  ): void {
    const members = selectMembers(a.args);
    if (members.length === 0) {
      this.log.add(sup, "error", `*** select(${a.args}): no members`);
      return;
    }
    const pinned = members.find((m) => m.id === this.selectId);
    if (!pinned) markPortRead(READ_TP_SRC | READ_TP_DST); // the datapath's hash covers them
    const id = pinned ? pinned.id : selectMember(members, f);
    const g = cloneMFlow(f);
    writeField(a.dst, g, BigInt(id));
    const node = this.log.add(
      sup,
      "transformation",
      `select: ${formatField(a.dst)} = ${id}${pinned ? "" : " /* Selected by the datapath's hash (ovn-trace picks at random). Use --select-id to specify. */"}`,
    );
    this.traceTables(dp, g, table + 1, pipeline, node);
  }

  private summarizeMove(src: FieldRef, dst: FieldRef, f: MFlow, sup: number): void {
    const dbase = dst.sym.base!;
    if (REGISTER_BASES.test(dbase.mf) || dst.sym.kind === "string") return;
    const sbase = src.sym.base!;
    const whole = src.sym.ofs + src.lo === 0 && src.nbits >= sbase.width;
    const v = readField(src, f);
    const text = whole ? mfFormat(sbase.mf, v) : `0x${v.toString(16)}`;
    this.log.add(sup, "modify", `${formatField(dst)} = ${text}`);
  }

  private executeCtLb(
    mark: boolean,
    backends: readonly LbBackend[],
    hashFields: string | undefined,
    dp: CDatapath,
    f: MFlow,
    table: number,
    pipeline: Pipeline,
    sup: number,
  ): void {
    let comment = "";
    const g = cloneMFlow(f);
    const family = f.dl_type === 0x0800 ? 4 : f.dl_type === 0x86dd ? 6 : 0;
    if (family !== 0) {
      let dst: LbBackend | undefined;
      if (backends.length) {
        const mine = backendsOf(backends, family);
        const lb = this.lbDst;
        const pinned =
          lb && lb.family === family
            ? mine.find((b) => (family === 4 ? b.ip4 === lb.ip4 : b.ip6 === lb.ip6))
            : undefined;
        if (pinned) {
          dst = pinned;
          this.lbDst = undefined;
        } else if (mine.length) {
          // A choice among several backends hashes the 5-tuple (or the hash_fields).
          if (mine.length > 1) markPortRead(READ_TP_SRC | READ_TP_DST);
          dst = mine[this.choose(mine, f, hashFields) % mine.length];
        }
        if (!dst) this.log.add(sup, "error", "*** no load balancing destination (use --lb-dst)");
      } else if (this.lbDst && this.lbDst.family === family) {
        dst = this.lbDst;
      }
      if (dst) {
        if (family === 6) {
          g.ct_ipv6_dst = g.ipv6_dst;
          g.ipv6_dst = dst.ip6;
        } else {
          g.ct_nw_dst = g.nw_dst;
          g.nw_dst = dst.ip4;
        }
        g.ct_tp_dst = g.tp_dst;
        if (dst.port) g.tp_dst = dst.port;
        g.ct_state |= CS.dnat;
      }
      g.ct_state |= this.nextCtState();
      comment = this.ctComment;
    }
    const node = this.log.add(
      sup,
      "transformation",
      comment === "" ? (mark ? "ct_lb_mark" : "ct_lb") : `${mark ? "ct_lb_mark" : "ct_lb"}${comment}`,
    );
    this.traceTables(dp, g, table + 1, pipeline, node);
  }

  private executeNest(
    kind: string,
    nested: readonly Action[],
    dp: CDatapath,
    f: MFlow,
    table: number,
    pipeline: Pipeline,
    sup: number,
  ): void {
    // The packet it builds is made from this one's ports (swapped, or tested: icmp, tcp_reset).
    markPortRead(READ_TP_SRC | READ_TP_DST);
    const g = cloneMFlow(f);
    const swap = kind === "reject";
    if (kind === "reject") {
      kind =
        f.nw_proto === 6
          ? "tcp_reset"
          : f.nw_proto === 132
            ? "sctp_abort"
            : f.dl_type === 0x0800
              ? "icmp4"
              : "icmp6";
    }
    if (swap) {
      g.dl_dst = f.dl_src;
      g.dl_src = f.dl_dst;
      if (f.dl_type === 0x86dd) {
        g.ipv6_dst = f.ipv6_src;
        g.ipv6_src = f.ipv6_dst;
      } else {
        g.nw_dst = f.nw_src;
        g.nw_src = f.nw_dst;
      }
    }
    switch (kind) {
      case "arp":
        g.nw_frag = 0;
        g.nw_tos = 0;
        g.nw_ttl = 0;
        g.tcp_flags = 0;
        g.dl_type = 0x0806;
        g.nw_proto = 1;
        g.arp_sha = g.dl_src;
        g.arp_tha = 0;
        break;
      case "nd_na":
      case "nd_na_router":
        g.dl_src = f.dl_dst;
        g.dl_dst = f.dl_src;
        g.ipv6_dst = f.ipv6_src;
        g.ipv6_src = f.nd_target;
        g.tp_src = 136;
        g.arp_sha = 0;
        g.arp_tha = f.dl_dst;
        kind = "nd_na";
        break;
      case "nd_ns":
        // To the solicited-node multicast MAC of the packet's ip6.dst (33:33:ff + its last
        // three bytes), as execute_nd_ns; ip6.dst itself is left as it was.
        g.dl_dst = 0x3333ff000000 + Number(f.ipv6_dst & 0xffffffn);
        g.tp_src = 135;
        g.arp_sha = 0;
        g.arp_tha = f.dl_dst;
        break;
      case "icmp4":
      case "icmp4_error":
        if (swap && f.tp_src === 3) return; // avoid recirculation, as ovn-trace
        g.nw_proto = 1;
        g.nw_ttl = 255;
        g.tp_src = 3;
        g.tp_dst = 1;
        kind = "icmp4";
        break;
      case "icmp6":
      case "icmp6_error":
        if (swap && f.tp_src === 1) return;
        g.nw_proto = 58;
        g.nw_ttl = 255;
        g.tp_src = 1;
        g.tp_dst = 1;
        kind = "icmp6";
        break;
      case "tcp_reset":
        // A reject of a reset is not traced again ("Avoid recirculation" in execute_tcp_reset:
        // a reject ACL both ways would otherwise bounce forever).
        if (swap && f.tcp_flags === 0x004) return;
        g.nw_proto = 6;
        g.nw_ttl = 255;
        g.tcp_flags = 0x004;
        break;
      case "sctp_abort":
        if (swap && f.tcp_flags === 0x004) return;
        g.nw_proto = 132;
        g.nw_ttl = 255;
        g.tcp_flags = 0x004; // as execute_sctp4_abort / execute_sctp6_abort

        break;
      default:
        break;
    }
    const node = this.log.add(sup, "transformation", kind);
    this.traceActions(nested, dp, g, table, pipeline, node);
  }

  private executeResult(
    a: Extract<Action, { t: "result" }>,
    plan: ActPlan,
    dp: CDatapath,
    f: MFlow,
    sup: number,
  ): void {
    switch (a.fn) {
      // ovn-trace (24.03+) runs OVNACT_CT_ORIG_NW_DST / _IP6_DST / _TP_DST as nothing: the
      // register keeps its value (only br-int loads conntrack's original destination).
      case "ct_nw_dst":
      case "ct_ip6_dst":
      case "ct_tp_dst":
        return;
      case "check_in_port_sec": {
        const p = dp.portsByKey.get(f.regs[LOG_INPORT] ?? 0);
        writeSmall(plan, a.dst, f, p && !portSecIn(p, f) ? 1 : 0);
        return;
      }
      case "check_out_port_sec": {
        const p = dp.portsByKey.get(f.regs[LOG_OUTPORT] ?? 0);
        writeSmall(plan, a.dst, f, p && !portSecOut(p, f) ? 1 : 0);
        return;
      }
      case "chk_lb_hairpin":
      case "chk_lb_hairpin_reply": {
        let res = 0;
        if (a.fn === "chk_lb_hairpin_reply" && this.hairpin) {
          res = this.hairpinReplyOf(f) ? 1 : 0;
          writeSmall(plan, a.dst, f, res);
          this.log.add(sup, "modify", plan.bitLines![res]!);
          return;
        }
        const vip = this.net.vipFor(f);
        const family = f.dl_type === 0x0800 ? 4 : f.dl_type === 0x86dd ? 6 : 0;
        if (vip && family) {
          markPortRead(READ_TP_DST); // tp_dst, or ct_tp_dst: ct_lb's copy of it
          if (f.ct_state & CS.dnat)
            res = (family === 4 ? f.nw_src === f.nw_dst : f.ipv6_src === f.ipv6_dst) ? 1 : 0;
          res &= vip.port === (a.fn === "chk_lb_hairpin" ? f.ct_tp_dst : f.tp_dst) ? 1 : 0;
        }
        writeSmall(plan, a.dst, f, res);
        this.log.add(sup, "modify", plan.bitLines![res]!);
        return;
      }
      case "lookup_fdb": {
        const [port, mac] = argFields(a.args);
        const e = mac ? this.net.fdb(dp, Number(readField(mac, f))) : undefined;
        const found = e !== undefined && port !== undefined && e.portKey === Number(readField(port, f));
        this.log.add(
          sup,
          "action",
          found
            ? `/* MAC lookup for ${formatMac(f.dl_dst)} found in FDB. */`
            : "/* lookup mac failed in mac learning table. */",
        );
        writeField(a.dst, f, found ? 1n : 0n);
        return;
      }
      case "get_fdb": {
        const [mac] = argFields(a.args);
        const e = mac ? this.net.fdb(dp, Number(readField(mac, f))) : undefined;
        writeSmall(plan, a.dst, f, e?.portKey ?? 0);
        return;
      }
      case "lookup_arp":
      case "lookup_nd":
      case "lookup_arp_ip":
      case "lookup_nd_ip": {
        const [port, ip, mac] = argFields(a.args);
        const b =
          port && ip ? this.net.macBinding(dp, Number(readField(port, f)), ip, readField(ip, f)) : undefined;
        const withMac = a.fn === "lookup_arp" || a.fn === "lookup_nd";
        const found =
          b !== undefined &&
          (!withMac || (mac !== undefined && parseMacText(b.mac) === Number(readField(mac, f))));
        this.log.add(
          sup,
          "action",
          !found
            ? "/* lookup failed - No MAC binding. */"
            : withMac
              ? `/* MAC binding to ${formatMac(f.dl_dst)} found. */`
              : "/* MAC binding found. */",
        );
        writeField(a.dst, f, found ? 1n : 0n);
        return;
      }
      case "dns_lookup":
        writeField(a.dst, f, 0n);
        this.log.add(sup, "error", "*** dns_lookup action not implemented");
        return;
      default:
        // get_fdb (empty FDB), lookup_arp/nd (no MAC bindings), and the rest: result 0.
        writeField(a.dst, f, 0n);
        return;
    }
  }

  private executeOutput(dp: CDatapath, f: MFlow, pipeline: Pipeline, sup: number): void {
    const key = f.regs[LOG_OUTPORT] ?? 0;
    if (!key) {
      this.log.add(sup, "error", "*** output to null logical port");
      return;
    }
    let port = dp.portsByKey.get(key);
    const mc = dp.mcsByKey.get(key);
    let outName = port ? port.sb.name : mc ? mc.name : "(unnamed)";
    if (!port && !mc) this.log.add(sup, "error", `*** unknown port or multicast group ${key}`);
    if (pipeline === "egress") {
      if (port) port.outputLine ??= `/* output to "${outName}", type "${port.sb.type}" */`;
      this.log.add(sup, "output", port ? port.outputLine! : `/* output to "${outName}", type "" */`);
      if (port?.peer) {
        const peer = port.peer;
        const node = this.log.add(sup, "pipeline", ingressLine(peer.dp, peer.sb.name));
        const g = cloneMFlow(f);
        g.regs[LOG_INPORT] = peer.sb.tunnelKey;
        g.regs[LOG_OUTPORT] = 0;
        this.traceTables(peer.dp, g, 0, "ingress", node);
      } else {
        if (port) port.outputModify ??= `output("${outName}")`;
        this.log.add(sup, "modify", port ? port.outputModify! : `output("${outName}")`);
        this.outputs.push(outName);
        this.deliveries.push({ port: outName, flow: toFlow(f) });
      }
      return;
    }
    const eg = cloneMFlow(f);
    for (let i = 0; i < eg.regs.length; i++) if (i !== LOG_INPORT && i !== LOG_OUTPORT) eg.regs[i] = 0;
    const inKey = f.regs[LOG_INPORT] ?? 0;
    const inName = keyName(dp, inKey);
    const loopback = ((f.regs[LOG_FLAGS] ?? 0) & 1) !== 0;
    if (mc) {
      mc.line ??= `multicast(dp="${dp.name}", mcgroup="${mc.name}")`;
      const mcNode = this.log.add(sup, "pipeline", mc.line);
      for (const p of mc.ports) {
        const node = this.log.add(mcNode, "pipeline", egressLine(dp, inName, p.sb.name));
        if (p.sb.tunnelKey !== inKey || loopback) {
          this.log.setAlwaysIndent(node);
          eg.regs[LOG_OUTPORT] = p.sb.tunnelKey;
          this.traceTables(dp, eg, 0, "egress", node);
        } else {
          this.log.add(node, "output", "/* omitting output because inport == outport && !flags.loopback */");
        }
      }
      return;
    }
    if (port && port.sb.type === "chassisredirect") {
      const dist = dp.ports.get(port.sb.options.get("distributed-port") ?? "");
      if (dist) {
        this.log.add(
          sup,
          "output",
          `/* Replacing type "${port.sb.type}" outport "${port.sb.name}" with distributed port "${dist.sb.name}". */`,
        );
        port = dist;
        outName = dist.sb.name;
        eg.regs[LOG_OUTPORT] = dist.sb.tunnelKey;
      } else {
        this.log.add(
          sup,
          "error",
          `*** output to type "${port.sb.type}" port "${outName}" with no or invalid distributed port`,
        );
        return;
      }
    }
    if ((port && port.sb.tunnelKey !== inKey) || loopback) {
      const node = this.log.add(sup, "pipeline", egressLine(dp, inName, outName));
      this.traceTables(dp, eg, 0, "egress", node);
    } else {
      this.log.add(sup, "output", "/* omitting output because inport == outport && !flags.loopback */");
    }
  }
}

const argCache = new Map<string, FieldRef[]>();
/** The field arguments of an action call ("outport, reg0"), parsed once. */
function argFields(text: string): FieldRef[] {
  let out = argCache.get(text);
  if (!out) {
    out = [];
    try {
      const c = new Cursor(text, tokenize(text));
      while (c.tok.t !== "end") {
        out.push(parseFieldAt(c));
        if (!c.match(",")) break;
      }
    } catch {
      /* leave what parsed */
    }
    argCache.set(text, out);
  }
  return out;
}

function parseMacText(s: string): number {
  return /^([0-9a-fA-F]{2}:){5}[0-9a-fA-F]{2}$/.test(s) ? Number.parseInt(s.replaceAll(":", ""), 16) : -1;
}

function readField(ref: FieldRef, f: MFlow): bigint {
  const base = ref.sym.base!;
  if (ref.sym.kind === "string") return base.get(f);
  const shift = BigInt(ref.sym.ofs + ref.lo);
  return (base.get(f) >> shift) & ((1n << BigInt(ref.nbits)) - 1n);
}

function writeField(ref: FieldRef, f: MFlow, v: bigint, mask?: bigint): void {
  const base = ref.sym.base!;
  if (ref.sym.kind === "string") {
    base.set(f, v);
    return;
  }
  const shift = BigInt(ref.sym.ofs + ref.lo);
  const full = (1n << BigInt(ref.nbits)) - 1n;
  const m = ((mask ?? full) & full) << shift;
  base.set(f, (base.get(f) & ~m) | ((v << shift) & m));
}

/** In6 link-local address from a MAC (in6_generate_lla). */
function lla(mac: number): bigint {
  const m = BigInt(mac);
  const b = (i: number): bigint => (m >> BigInt(8 * (5 - i))) & 0xffn;
  const eui =
    ((b(0) ^ 2n) << 56n) |
    (b(1) << 48n) |
    (b(2) << 40n) |
    (0xfffen << 24n) |
    (b(3) << 16n) |
    (b(4) << 8n) |
    b(5);
  return (0xfe80n << 112n) | eui;
}

function portSecIn(p: CPort, f: MFlow): boolean {
  if (p.ps.length === 0) return true;
  for (const ps of p.ps) {
    if (f.dl_src !== ps.mac) continue;
    if (f.dl_type === 0x0800) {
      if (!ps.ip4.length && !ps.ip6.length) return true;
      if (ps.ip4.includes(f.nw_src)) return true;
      if (f.nw_proto === 17) markPortRead(READ_TP_SRC | READ_TP_DST); // the DHCP exception
      return (
        f.nw_proto === 17 && f.tp_src === 68 && f.tp_dst === 67 && f.nw_src === 0 && f.nw_dst === 0xffffffff
      );
    }
    if (f.dl_type === 0x0806) {
      if (f.arp_sha !== ps.mac) return false;
      if (!ps.ip4.length) return true;
      return ps.ip4.includes(f.nw_src);
    }
    if (f.dl_type === 0x86dd) {
      if (!ps.ip4.length && !ps.ip6.length) return true;
      const passed = ps.ip6.includes(f.ipv6_src);
      const l = lla(ps.mac);
      if (!passed && f.ipv6_src !== l) return false;
      if (f.nw_proto === 58) {
        markPortRead(READ_TP_SRC); // icmp6.type
        if (f.tp_src === 135 && f.arp_sha !== 0 && f.arp_sha !== ps.mac) return false;
        if (f.tp_src === 136) {
          if (f.arp_tha !== 0 && f.arp_tha !== ps.mac) return false;
          if (ps.ip6.length && !ps.ip6.includes(f.nd_target) && f.nd_target !== l) return false;
        }
      }
      return true;
    }
    return true;
  }
  return false;
}

function portSecOut(p: CPort, f: MFlow): boolean {
  if (p.ps.length === 0) return true;
  for (const ps of p.ps) {
    if (f.dl_dst !== ps.mac) continue;
    if (f.dl_type === 0x0800) {
      if (!ps.ip4.length && !ps.ip6.length) return true;
      if (!ps.ip4.length) return false;
      if (ps.ip4.includes(f.nw_dst)) return true;
      if (f.nw_dst === 0xffffffff) return true;
      return f.nw_dst >>> 28 === 0xe;
    }
    if (f.dl_type === 0x86dd) {
      if (!ps.ip4.length && !ps.ip6.length) return true;
      if (!ps.ip6.length) return false;
      if (ps.ip6.includes(f.ipv6_dst)) return true;
      if (f.ipv6_dst === lla(ps.mac)) return true;
      return f.ipv6_dst >> 120n === 0xffn;
    }
    return true;
  }
  return false;
}
