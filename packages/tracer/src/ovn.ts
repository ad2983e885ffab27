/**
 * The OVN part of a node, through @ovnsim/ovn: the NB state @ovnsim/kube derives is read by the
 * OVN package's own `ovn-nbctl` reader, compiled by its northd for the scenario's Kube-OVN
 * profile (kube-ovn-1.14 / kube-ovn-1.15, with the patched flows), turned into the southbound
 * model ovn-controller would see (datapath and port tunnel keys in NB order, bindings from the
 * `ovn-sbctl lsp-bind` lines, multicast groups as northd derives them), and traced with the
 * OVN package's executor on one chassis, so `is_chassis_resident()` is true only for the ports
 * bound there — which is what makes prefer-local pick the local backend.
 *
 * ovn-trace is stateless (`--ct` flags stand for conntrack); the tracer gives it the states the
 * real conntrack table would give (new for the first packet, est|rpl for the reply) and keeps
 * the actual connection in @ovnsim/conntrack. A packet of an established DNAT connection gets
 * the entry's translation at the argument-less ct_lb/ct_lb_mark, as ovn-controller encodes it
 * (`ct(table=…,zone=…,nat)`, OVN lib/actions.c encode_CT_LB: with no backends the action only
 * NATs an established connection); the tracer hands it over as ovn-trace's own `--lb-dst`.
 */
import type { Scenario } from "@ovnsim/kube";
import { deriveNbctl } from "@ovnsim/kube";
import {
  LogicalNetwork,
  type NbDatabase,
  type ProfileName,
  type SbModel,
  type SbPort,
  type HairpinSession,
  type LbBackend,
  type MFlow,
  type TraceLog,
  type TraceResult as OvnResult,
  deriveMcGroups,
  deriveVips,
  READ_TP_DST,
  READ_TP_SRC,
  getProfile,
  hashBackend,
  northd,
  parseNbctl,
  renderDetailed,
} from "@ovnsim/ovn";
import {
  EMPTY_FLOW,
  type Flow,
  formatIp4,
  formatIp6,
  formatMac,
  lazyProperty,
  parseIp4,
  parseIp6,
  parseMac,
  withFlow,
} from "@ovnsim/packet";

export interface OvnWorld {
  readonly profile: ProfileName;
  readonly db: NbDatabase;
  readonly sb: SbModel;
  /** One compiled network per chassis (is_chassis_resident differs). */
  readonly byChassis: Map<string, LogicalNetwork>;
  /** Logical port → tunnel key and datapath key, for br-int's regs. */
  readonly portKeys: ReadonlyMap<
    string,
    { readonly dp: number; readonly key: number; readonly datapath: string }
  >;
  readonly nbctl: readonly string[];
}

export function profileFor(s: Scenario): ProfileName {
  return s.controller.release === "1.14" ? "kube-ovn-1.14" : "kube-ovn-1.15";
}

export function buildOvn(s: Scenario): OvnWorld {
  const nbctl = deriveNbctl(s);
  const db = parseNbctl(nbctl.join("\n"), { file: "derived-nb" });
  const profile = profileFor(s);
  const nd = northd(db, profile);
  const datapaths = db.switches.map((sw, i) => ({
    name: sw.name,
    uuid: nd.datapaths.find((d) => d.name === sw.name)?.uuid ?? sw.uuid,
    tunnelKey: i + 1,
  }));
  const ports: SbPort[] = [];
  const portKeys = new Map<string, { dp: number; key: number; datapath: string }>();
  db.switches.forEach((sw, i) => {
    sw.ports.forEach((p, j) => {
      const chassis = db.portBindings.find((b) => b.logicalPort === p.name)?.chassis;
      ports.push({
        name: p.name,
        datapath: sw.name,
        type: p.type,
        tunnelKey: j + 1,
        mac: p.addresses,
        portSecurity: p.portSecurity,
        options: new Map(Object.entries(p.options)),
        ...(chassis !== undefined ? { chassis } : {}),
      });
      portKeys.set(p.name, { dp: i + 1, key: j + 1, datapath: sw.name });
    });
  });
  const sb: SbModel = {
    flows: nd.flows,
    datapaths,
    ports,
    mcGroups: deriveMcGroups(datapaths, ports),
    addressSets: new Map(),
    portGroups: new Map(),
    vips: deriveVips(nd.flows),
    derived: ["Port_Binding", "Datapath_Binding", "Multicast_Group"],
  };
  return { profile, db, sb, byChassis: new Map(), portKeys, nbctl };
}

function net(w: OvnWorld, chassis: string): LogicalNetwork {
  let n = w.byChassis.get(chassis);
  if (!n) {
    n = new LogicalNetwork(w.sb, chassis, { ovn: getProfile(w.profile)?.ovn ?? 23 });
    w.byChassis.set(chassis, n);
  }
  return n;
}

export interface LogicalOutput {
  readonly port: string;
  readonly flow: Flow;
}

export interface LogicalRun {
  readonly result: OvnResult;
  /** The ovn-trace --detailed text (with its `# microflow` header). */
  readonly text: string;
  readonly outputs: readonly LogicalOutput[];
  /** The ct_lb_mark(backends=…) choice, if one was made. */
  readonly backend: { readonly ip: string; readonly port: number } | null;
  /** The established connection's DNAT an argument-less ct_lb/ct_lb_mark applied (`natDst`). */
  readonly ctNat: { readonly ip: string; readonly port: number } | null;
  /** Stage/priority lines of the flows that matched, in order ("ls_in_lb 140"). */
  readonly stages: readonly {
    readonly pipeline: string;
    readonly table: number;
    readonly stage: string;
    readonly priority: number;
    readonly match: string;
  }[];
  /** Why no port was reached, when none was. */
  readonly dropReason: string | null;
}

/** The microflow ovn-trace takes for a packet entering logical port `inport`. */
export function microflowOf(inport: string, f: Flow): string {
  const parts = [
    `inport == "${inport}"`,
    `eth.src == ${formatMac(f.dl_src)}`,
    `eth.dst == ${formatMac(f.dl_dst)}`,
  ];
  if (f.dl_type === 0x0800 || f.dl_type === 0x86dd) {
    const v6 = f.dl_type === 0x86dd;
    parts.push(
      v6 ? `ip6.src == ${formatIp6(f.ipv6_src)}` : `ip4.src == ${formatIp4(f.nw_src)}`,
      v6 ? `ip6.dst == ${formatIp6(f.ipv6_dst)}` : `ip4.dst == ${formatIp4(f.nw_dst)}`,
      `ip.ttl == ${f.nw_ttl || 64}`,
    );
    const icmp = v6 ? "icmp6" : "icmp4";
    if (f.nw_proto === 6)
      parts.push(`tcp.src == ${f.tp_src}`, `tcp.dst == ${f.tp_dst}`, `tcp.flags == ${f.tcp_flags}`);
    else if (f.nw_proto === 17) parts.push(`udp.src == ${f.tp_src}`, `udp.dst == ${f.tp_dst}`);
    else if (f.nw_proto === (v6 ? 58 : 1))
      parts.push(`${icmp}.type == ${f.tp_src}`, `${icmp}.code == ${f.tp_dst}`);
  } else if (f.dl_type === 0x0806) {
    parts.push(
      `arp.op == ${f.nw_proto}`,
      `arp.spa == ${formatIp4(f.nw_src)}`,
      `arp.tpa == ${formatIp4(f.nw_dst)}`,
    );
  }
  return parts.join(" && ");
}

/**
 * Runs the logical pipelines for a packet entering `inport` on `chassis`. `natDst`: the
 * destination the node's conntrack entry for this packet DNATs to (an established connection),
 * applied where the pipeline runs ct_lb/ct_lb_mark without backends.
 */
export function runLogical(
  w: OvnWorld,
  chassis: string,
  inport: string,
  f: Flow,
  ct: readonly string[],
  natDst?: { readonly ip: string; readonly port: number },
  /** The data path's load-balancer hairpin sessions (TraceOptions.hairpin). */
  hairpin: readonly HairpinSession[] = [],
): LogicalRun {
  const n = net(w, chassis);
  // With hairpin sessions the run depends on them too: no reuse (they are rare and few). A
  // packet microflowPacket makes none of goes to the executor as text, unkept.
  if (hairpin.length !== 0 || microflowKind(f) === null)
    return runExecutor(n, chassis, inport, f, ct, natDst, hairpin);
  const cache = runsOf(n);
  const ck = ctKey(ct);
  const base = baseHash(inport, ck, natDst, f);
  // The microflow's ports (an ARP's are 0 there).
  const sport = f.dl_type === 0x0806 ? 0 : f.tp_src;
  const dport = f.dl_type === 0x0806 ? 0 : f.tp_dst;
  for (let i = 0; i < cache.masks.length; i++) {
    const m = cache.masks[i]!;
    const list = cache.byHash.get(portsHash(base, m, sport, dport));
    if (list === undefined) continue;
    for (let e = 0; e < list.length; e++) {
      const k = list[e]!;
      if (k.m === m && sameKey(k, inport, ck, natDst, f, sport, dport))
        return reuse(k.run, f, () => runExecutor(n, chassis, inport, f, ct, natDst, []));
    }
  }
  const lr = runExecutor(n, chassis, inport, f, ct, natDst, hairpin);
  const m = lr.result.portsRead;
  if (!cache.masks.includes(m)) cache.masks.push(m);
  if (cache.size >= MAX_RUNS) {
    cache.byHash.clear();
    cache.size = 0;
  }
  const kept: Kept = {
    inport,
    ctKey: ck,
    natIp: natDst?.ip,
    natPort: natDst?.port ?? 0,
    dl_type: f.dl_type,
    dl_src: f.dl_src,
    dl_dst: f.dl_dst,
    nw_src: f.nw_src,
    nw_dst: f.nw_dst,
    ipv6_src: f.ipv6_src,
    ipv6_dst: f.ipv6_dst,
    ttl: f.nw_ttl || 64,
    proto: f.nw_proto,
    flags: f.nw_proto === 6 ? f.tcp_flags : 0,
    m,
    sport,
    dport,
    run: {
      outputs: lr.outputs.map((o) => ({ port: o.port, change: changeOf(f, o.flow, lr.backend ?? lr.ctNat) })),
      backend: lr.backend,
      ctNat: lr.ctNat,
      stages: lr.stages,
      dropReason: lr.dropReason,
    },
  };
  const h = portsHash(base, m, sport, dport);
  const list = cache.byHash.get(h);
  if (list === undefined) cache.byHash.set(h, [kept]);
  else list.push(kept);
  cache.size++;
  return lr;
}

/**
 * What the logical pipeline decided for a packet, kept for the packets that differ from it only
 * in L4 ports the run never read (TraceResult.portsRead): the flows, actions and outputs are
 * the same for them, so only the packet's own fields are put back (OVS's megaflow cache, one
 * level up).
 */
interface CachedRun {
  readonly outputs: readonly { readonly port: string; readonly change: Partial<Flow> }[];
  readonly backend: LogicalRun["backend"];
  readonly ctNat: LogicalRun["ctNat"];
  readonly stages: LogicalRun["stages"];
  readonly dropReason: string | null;
}

/**
 * A kept decision and its key: the inport, the ct states and DNAT given, the fields of the packet
 * microflowPacket(f) makes but its ports, and the ports the run read (`m`, READ_TP_SRC/DST) with
 * their values. Kept as numbers and compared field by field under a numeric hash: writing the
 * key as a string and hashing that cost more than the rest of a reuse. Written out, not as a
 * copy of the packet: a flow copy per lookup was most of a reuse's allocation.
 */
interface Kept {
  readonly inport: string;
  readonly ctKey: string;
  readonly natIp: string | undefined;
  readonly natPort: number;
  readonly dl_type: number;
  readonly dl_src: number;
  readonly dl_dst: number;
  readonly nw_src: number;
  readonly nw_dst: number;
  readonly ipv6_src: bigint;
  readonly ipv6_dst: bigint;
  readonly ttl: number;
  readonly proto: number;
  readonly flags: number;
  readonly m: number;
  readonly sport: number;
  readonly dport: number;
  readonly run: CachedRun;
}

/** `k`'s key is this packet's, its ports compared only where the kept run read them? */
function sameKey(
  k: Kept,
  inport: string,
  ck: string,
  natDst: { readonly ip: string; readonly port: number } | undefined,
  f: Flow,
  sport: number,
  dport: number,
): boolean {
  if (k.inport !== inport || k.ctKey !== ck || k.dl_type !== f.dl_type) return false;
  if (k.dl_src !== f.dl_src || k.dl_dst !== f.dl_dst) return false;
  if (natDst === undefined ? k.natIp !== undefined : k.natIp !== natDst.ip || k.natPort !== natDst.port)
    return false;
  if (f.dl_type === 0x0806) {
    if (k.nw_src !== f.nw_src || k.nw_dst !== f.nw_dst || k.proto !== f.nw_proto) return false;
  } else {
    if (f.dl_type === 0x86dd) {
      if (k.ipv6_src !== f.ipv6_src || k.ipv6_dst !== f.ipv6_dst) return false;
    } else if (k.nw_src !== f.nw_src || k.nw_dst !== f.nw_dst) return false;
    if (k.ttl !== (f.nw_ttl || 64) || k.proto !== f.nw_proto) return false;
    if (k.flags !== (f.nw_proto === 6 ? f.tcp_flags : 0)) return false;
  }
  return (!(k.m & READ_TP_SRC) || k.sport === sport) && (!(k.m & READ_TP_DST) || k.dport === dport);
}

const mix = (h: number, x: number): number => Math.imul(h ^ x, 0x01000193);
/** The two 32-bit halves of a MAC or address held as a number. */
const mixWide = (h: number, x: number): number => mix(mix(h, x | 0), (x / 0x100000000) | 0);

/** The hash of a kept decision's key but its ports (sameKey's fields; IPv6 addresses left out). */
function baseHash(
  inport: string,
  ck: string,
  natDst: { readonly ip: string; readonly port: number } | undefined,
  f: Flow,
): number {
  let h = mix(mix(0x811c9dc5, textHash(inport)), textHash(ck));
  if (natDst !== undefined) h = mix(mix(h, textHash(natDst.ip)), natDst.port);
  h = mixWide(mixWide(mix(h, f.dl_type), f.dl_src), f.dl_dst);
  if (f.dl_type !== 0x86dd) h = mixWide(mixWide(h, f.nw_src), f.nw_dst);
  return mix(h, f.nw_proto);
}

/** `base` with the ports a run that read `m` depends on. */
const portsHash = (base: number, m: number, sport: number, dport: number): number =>
  mix(mix(mix(base, m), m & READ_TP_SRC ? sport : -1), m & READ_TP_DST ? dport : -1);

/** A text's hash (FNV-1a), kept per text: the inports, ct states and addresses are few. */
const TEXT_HASH = new Map<string, number>();
function textHash(t: string): number {
  let h = TEXT_HASH.get(t);
  if (h === undefined) {
    h = 0x811c9dc5;
    for (let i = 0; i < t.length; i++) h = mix(h, t.charCodeAt(i));
    if (TEXT_HASH.size >= 4096) TEXT_HASH.clear();
    TEXT_HASH.set(t, h);
  }
  return h;
}

const MAX_RUNS = 4096;
/** The kept decisions of one chassis's network: `masks` lists the read-sets seen (at most four), probed in turn. */
interface RunCache {
  readonly masks: number[];
  readonly byHash: Map<number, Kept[]>;
  size: number;
}
const RUNS = new WeakMap<LogicalNetwork, RunCache>();
function runsOf(n: LogicalNetwork): RunCache {
  let c = RUNS.get(n);
  if (c === undefined) {
    c = { masks: [], byHash: new Map(), size: 0 };
    RUNS.set(n, c);
  }
  return c;
}
const CT_KEYS = new WeakMap<readonly string[], string>();
function ctKey(ct: readonly string[]): string {
  let k = CT_KEYS.get(ct);
  if (k === undefined) {
    k = ct.join(",");
    CT_KEYS.set(ct, k);
  }
  return k;
}

/** The fields the walk below may have changed on the way to an output (and the DNAT's). */
const CHANGED: readonly (keyof Flow)[] = ["dl_src", "dl_dst", "nw_src", "nw_dst", "ipv6_src", "ipv6_dst"];
function changeOf(f: Flow, out: Flow, nat: { readonly port: number } | null): Partial<Flow> {
  const c: Record<string, unknown> = {};
  let any = false;
  for (const k of CHANGED)
    if (out[k] !== f[k]) {
      c[k] = out[k];
      any = true;
    }
  // A DNAT to a port is a change even where it equals this packet's port (not the next one's).
  if (nat?.port) {
    c.tp_dst = out.tp_dst;
    any = true;
  }
  return any ? (c as Partial<Flow>) : UNCHANGED;
}
const UNCHANGED: Partial<Flow> = Object.freeze({});

/**
 * A cached decision for packet `f`: its outputs are `f` with the decision's changes; `again`
 * runs the executor for `f` when its record or text is asked for.
 */
function reuse(hit: CachedRun, f: Flow, again: () => LogicalRun): LogicalRun {
  const outputs: LogicalOutput[] = [];
  // A decision that changed nothing (a switch that only forwards) outputs the packet itself.
  for (const o of hit.outputs)
    outputs.push({ port: o.port, flow: o.change === UNCHANGED ? f : withFlow(f, o.change) });
  return new ReusedRun(hit, outputs, again);
}

/**
 * A reused decision as a LogicalRun. The executor's own record, and the text made from it, are
 * remade for this packet when first asked (prototype getters, so no hidden class per object).
 */
class ReusedRun implements LogicalRun {
  readonly outputs: readonly LogicalOutput[];
  readonly backend: LogicalRun["backend"];
  readonly ctNat: LogicalRun["ctNat"];
  readonly stages: LogicalRun["stages"];
  readonly dropReason: string | null;
  /** What it takes to run the executor again (private fields: not enumerable, not in JSON). */
  readonly #again: () => LogicalRun;
  #full: LogicalRun | undefined;
  constructor(hit: CachedRun, outputs: readonly LogicalOutput[], again: () => LogicalRun) {
    this.outputs = outputs;
    this.backend = hit.backend;
    this.ctNat = hit.ctNat;
    this.stages = hit.stages;
    this.dropReason = hit.dropReason;
    this.#again = again;
  }
  #run(): LogicalRun {
    this.#full ??= this.#again();
    return this.#full;
  }
  get result(): OvnResult {
    return this.#run().result;
  }
  get text(): string {
    return this.#run().text;
  }
}

/** runLogical without the cache: the executor, and the walk over its record. */
function runExecutor(
  n: LogicalNetwork,
  chassis: string,
  inport: string,
  f: Flow,
  ct: readonly string[],
  natDst: { readonly ip: string; readonly port: number } | undefined,
  hairpin: readonly HairpinSession[],
): LogicalRun {
  let chosen: { ip: string; port: number } | null = null;
  const opts = {
    ct,
    chassis,
    ...(natDst
      ? { lbDst: natDst.ip.includes(":") ? `[${natDst.ip}]:${natDst.port}` : `${natDst.ip}:${natDst.port}` }
      : {}),
    hairpin,
    chooseBackend: (backends: readonly LbBackend[], mf: MFlow) => {
      const i = hashBackend(backends, mf);
      const b = backends[i]!;
      chosen = { ip: b.family === 6 ? formatIp6(b.ip6) : formatIp4(b.ip4), port: b.port };
      return i;
    },
  };
  // The packet the microflow describes, without writing and parsing its text (same fields).
  const mf = microflowPacket(f);
  const result = mf
    ? n.traceFlow(undefined, inport, mf, opts)
    : n.trace(undefined, microflowOf(inport, f), opts);
  // Replay the modifications along the path to each output, on the trace as the executor
  // recorded it (pre-order, each entry's parent): an entry sees the packet as its list has it
  // after its earlier siblings, starting from its parent's (the node tree's walk, without the
  // tree). FLOWS[d] is that packet for the list at depth d; a first child directly follows its
  // parent, which is where a list starts.
  const log = result.log;
  const len = log.length;
  const outputs: LogicalOutput[] = [];
  const stages: LogicalRun["stages"][number][] = [];
  let ingress = true;
  let ctLb = false;
  FLOWS[0] = f;
  for (let i = 0; i < len; i++) {
    const p = log.parent(i);
    const d = p < 0 ? 0 : DEPTH[p]! + 1;
    DEPTH[i] = d;
    if (p >= 0 && p === i - 1) FLOWS[d] = FLOWS[d - 1]!;
    const kind = log.kind(i);
    if (kind === "table") {
      const st = tableStage(log.text(i), ingress);
      if (st) stages.push(st);
    } else if (kind === "action" || kind === "modify") {
      const c = assignmentOf(log.text(i));
      if (c) FLOWS[d] = withFlow(FLOWS[d]!, c);
    } else if (kind === "pipeline") {
      const t = log.text(i);
      if (t.startsWith("ingress")) ingress = true;
      else if (t.startsWith("egress")) ingress = false;
    } else if (kind === "output") {
      const port = outputPort(log.text(i));
      if (port !== null && result.outputs.includes(port)) outputs.push({ port, flow: FLOWS[d]! });
    } else if (kind === "transformation" && log.text(i).startsWith("ct_lb")) ctLb = true;
  }
  FLOWS.fill(f);
  const ctNat = natDst && ctLb ? natDst : null;
  // ct_lb_mark DNATs before the modifications shown in later tables.
  const nat: { ip: string; port: number } | null = chosen ?? ctNat;
  if (nat) {
    const c: { ip: string; port: number } = nat;
    for (let i = 0; i < outputs.length; i++) {
      const o = outputs[i]!;
      const v6 = c.ip.includes(":");
      if ((v6 ? formatIp6(o.flow.ipv6_dst) : formatIp4(o.flow.nw_dst)) !== c.ip) {
        outputs[i] = {
          port: o.port,
          flow: withFlow(o.flow, {
            ...(v6 ? { ipv6_dst: parseIp6(c.ip) } : { nw_dst: parseIp4(c.ip) }),
            ...(c.port ? { tp_dst: c.port } : {}),
          }),
        };
      }
    }
  }
  const dropReason = outputs.length === 0 ? dropReasonOf(log) : null;
  const run: Omit<LogicalRun, "text"> = { result, outputs, backend: chosen, ctNat, stages, dropReason };
  return lazyProperty(run, "text", () => `# ${result.flow}\n${renderDetailed(result.tree)}`) as LogicalRun;
}

/** Scratch for runLogical's replay: each entry's depth, and the packet of each depth's list. */
const DEPTH: number[] = [];
const FLOWS: Flow[] = [];

/** Why no port was reached: the first of these that the trace shows. */
function dropReasonOf(log: TraceLog): string {
  let last: string | undefined;
  let omit = false;
  let err: string | undefined;
  let drop = false;
  for (let i = 0; i < log.length; i++) {
    const kind = log.kind(i);
    const text = log.text(i);
    if (kind === "table") last = text;
    if (!omit && /omitting output because inport == outport/.test(text)) omit = true;
    if (err === undefined && kind === "error") err = text;
    if (!drop && /^drop;/.test(text.trim())) drop = true;
  }
  return omit
    ? `the only output is the input port (${last?.trim() ?? "l2_lkup"}): outport == inport, dropped`
    : err !== undefined
      ? err.trim()
      : drop
        ? `dropped by ${last?.trim() ?? "a logical flow"}`
        : `no logical flow sends it to a port (last: ${last?.trim() ?? "none"})`;
}

/** A cheap first test for the address assignments the walk replays (`eth.dst = …`, `ip4.src = …`). */
const MAYBE_SET = /^\s*(?:eth|ip4|ip6)\./;

/**
 * The change an action or modify line makes to the packet's addresses (`eth.dst = …;`), or
 * null; kept per line text (the same logical flows print the same lines on every trace).
 */
const ASSIGNMENT_OF = new Map<string, Partial<Flow> | null>();
function assignmentOf(text: string): Partial<Flow> | null {
  let c = ASSIGNMENT_OF.get(text);
  if (c !== undefined) return c;
  c = null;
  if (MAYBE_SET.test(text)) {
    const m = /^(eth\.dst|eth\.src|ip4\.dst|ip4\.src|ip6\.dst|ip6\.src) = ([0-9a-fA-F:.]+);?$/.exec(
      text.trim(),
    );
    if (m) {
      const v = m[2]!;
      if (m[1] === "eth.dst") c = { dl_dst: parseMac(v) };
      else if (m[1] === "eth.src") c = { dl_src: parseMac(v) };
      else if (m[1] === "ip4.dst") c = { nw_dst: parseIp4(v) };
      else if (m[1] === "ip4.src") c = { nw_src: parseIp4(v) };
      else if (m[1] === "ip6.dst") c = { ipv6_dst: parseIp6(v) };
      else c = { ipv6_src: parseIp6(v) };
    }
  }
  if (ASSIGNMENT_OF.size >= 50_000) ASSIGNMENT_OF.clear();
  ASSIGNMENT_OF.set(text, c);
  return c;
}

type TableStage = LogicalRun["stages"][number];

/**
 * A table line's stage, priority and match (`" 13. ls_in_lb (northd.c:…): match, priority 120,
 * uuid …"`) in the ingress or egress pipeline, kept per line text: the same logical flows print
 * the same lines on every trace, so each is read once (the entries are shared, read-only).
 */
const STAGE_OF = [new Map<string, TableStage | null>(), new Map<string, TableStage | null>()] as const;
function tableStage(text: string, ingress: boolean): TableStage | null {
  const cache = STAGE_OF[ingress ? 0 : 1];
  let st = cache.get(text);
  if (st !== undefined) return st;
  const m = /^\s*(\d+)\. (\S+?)(?: \([^)]*\))?: (.*), priority (\d+), uuid/.exec(text);
  st = m
    ? {
        pipeline: ingress ? "ingress" : "egress",
        table: Number(m[1]),
        stage: m[2]!,
        priority: Number(m[4]),
        match: m[3]!,
      }
    : null;
  if (cache.size >= 50_000) cache.clear();
  cache.set(text, st);
  return st;
}

/** The port of an output line (`/* output to "p", type "" *\/`), kept per line text. */
const OUTPUT_OF = new Map<string, string | null>();
function outputPort(text: string): string | null {
  let p = OUTPUT_OF.get(text);
  if (p !== undefined) return p;
  p = /^\/\* output to "([^"]+)"/.exec(text)?.[1] ?? null;
  if (OUTPUT_OF.size >= 50_000) OUTPUT_OF.clear();
  OUTPUT_OF.set(text, p);
  return p;
}

/**
 * The packet `microflowOf` describes, as ovn-trace's microflow parser builds it: only the fields
 * the microflow names (and their prerequisites: eth.type, ip.proto) are set. IPv4 TCP, UDP and
 * ICMP, IPv6 TCP and UDP, and ARP (op, spa, tpa: `arp.op` is nw_proto, as in OVS); null for the
 * rest (traced through the microflow text).
 */
export function microflowPacket(f: Flow): Flow | null {
  const kind = microflowKind(f);
  if (kind === null) return null;
  if (kind === "arp") return packet(f, 0x0806, f.nw_src, f.nw_dst, 0n, 0n, 0, f.nw_proto, 0, 0, 0);
  const p = f.nw_proto;
  const flags = p === 6 ? f.tcp_flags : 0;
  const ttl = f.nw_ttl || 64;
  return kind === "ip6"
    ? packet(f, f.dl_type, 0, 0, f.ipv6_src, f.ipv6_dst, ttl, p, f.tp_src, f.tp_dst, flags)
    : packet(f, f.dl_type, f.nw_src, f.nw_dst, 0n, 0n, ttl, p, f.tp_src, f.tp_dst, flags);
}

/** Which microflow packet `f` makes (microflowPacket; runLogical keeps decisions for these only), or null for none. */
function microflowKind(f: Flow): "arp" | "ip" | "ip6" | null {
  if (f.dl_type === 0x0806) return "arp";
  const v6 = f.dl_type === 0x86dd;
  if (!v6 && f.dl_type !== 0x0800) return null;
  const p = f.nw_proto;
  if (p !== 6 && p !== 17 && (v6 || p !== 1)) return null;
  if (p === 1 && (f.tp_src > 0xff || f.tp_dst > 0xff)) return null;
  return v6 ? "ip6" : "ip";
}

/** The microflow's packet: `f`'s Ethernet addresses and these fields over the all-zero flow. */
function packet(
  f: Flow,
  dl_type: number,
  nw_src: number,
  nw_dst: number,
  ipv6_src: bigint,
  ipv6_dst: bigint,
  nw_ttl: number,
  nw_proto: number,
  tp_src: number,
  tp_dst: number,
  tcp_flags: number,
): Flow {
  return withFlow(EMPTY_FLOW, {
    dl_src: f.dl_src,
    dl_dst: f.dl_dst,
    dl_type,
    nw_src,
    nw_dst,
    ipv6_src,
    ipv6_dst,
    nw_proto,
    nw_ttl,
    tp_src,
    tp_dst,
    tcp_flags,
  });
}
