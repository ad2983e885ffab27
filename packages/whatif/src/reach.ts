/**
 * Symbolic (header-space) reachability through OVN's logical pipelines: instead of one packet,
 * ovn-trace's executor is followed with a set of packets — every header that can enter a logical
 * port — split at each table by the logical flows that match it, highest priority first, the
 * shadowed part subtracted (HSA / NetPlumber), so each leaf is a class of entering headers with
 * one fate: the logical ports it is delivered to, or where it is dropped. What ovn-trace settles
 * by hand becomes explicit branches: the conntrack state each `ct_next` / `ct_lb_mark` / NAT
 * meets (one state per connection: new, est, rpl, rel, inv) and each backend of a
 * `ct_lb_mark(backends=…)`. Every class carries a concrete witness packet that @ovnsim/ovn's
 * own executor (the ovn-trace model) is run on, with the class's `--ct` and `--lb-dst`, to confirm
 * the verdict.
 */
import {
  type Action,
  type FieldRef,
  type LbBackend,
  LogicalNetwork,
  type LogicalFlow,
  type Pipeline,
  type SbModel,
  type SbPort,
  type TraceNode,
  foldConstants,
  getProfile,
  northd,
  parseNbctl,
  sbModelFromNb,
  formatCtState,
  hashBackend,
  parseActions,
  selectMembers,
  parseCtOption,
  parseExpr,
  type Symtab,
  symtabFor,
} from "@ovnsim/ovn";
import type { Scenario } from "@ovnsim/kube";
import { CS, type Flow, SimError, formatIp4, formatIp6, formatMac } from "@ovnsim/packet";
import { buildOvn } from "@ovnsim/tracer";
import {
  type Cube,
  FULL,
  HEADER_SLOTS,
  SLOTS,
  SLOT_WIDTH,
  type Term,
  contains,
  pointToFlow,
  prng,
  slotOf,
  subtractCube,
  witness,
} from "./hs.js";
import { type Stack as StackOf, push as pushFrames, runPaths, splitBy } from "./explore.js";
import { type Dnf, FALSE_DNF, TRUE_DNF, and, eq, exprDnf, or, prereqDnf, span } from "./symexpr.js";
import {
  CONST0,
  CONST1,
  type SymState,
  bitsOf,
  constOf,
  constSrc,
  copySlot,
  initialState,
  orConst,
  readBase,
  setSlot,
  translate,
  writeBase,
} from "./symstate.js";

export const REACH_SCHEMA = "ovnsim.reach/v1";

/** The conntrack states a connection can meet, one per branch (ovn-trace's `--ct`). */
export const CT_CHOICES = ["new", "est", "est|rpl", "rel", "inv"] as const;

export interface ReachOptions {
  /** The logical port packets enter. */
  readonly from: string;
  /** The OVN release (major: 23, 24, 25) whose symbol table parses the logical flows; 23. */
  readonly ovn?: number;
  /** Chassis the pipeline runs on (`is_chassis_resident`); default: every port resident. */
  readonly chassis?: string;
  /** Keep only classes delivered to one of these logical ports. */
  readonly to?: readonly string[];
  /** An OVN expression restricting the entering headers ("ip4 && tcp.dst == 80"). */
  readonly match?: string;
  /** Conntrack states to branch on (default CT_CHOICES). */
  readonly ctStates?: readonly string[];
  /** Stop after this many classes (default 50,000). */
  readonly maxClasses?: number;
  /** Confirm each witness with the concrete executor (default true). */
  readonly confirm?: boolean;
}

export interface ReachVerdict {
  readonly delivered: boolean;
  /** Logical ports reached, in ovn-trace's output order. */
  readonly ports: readonly string[];
  /** For a dropped class: the last table it met ("ls_in_acl priority 2001" or "… no match"). */
  readonly droppedAt: string | null;
  readonly reason: string | null;
}

export interface ReachClass {
  readonly id: number;
  readonly verdict: ReachVerdict;
  /** The conntrack state taken at every ct action of the path (null: the path has none). */
  readonly ct: string | null;
  /** The ct_lb_mark backend taken ("10.16.0.5:80"), when the path load-balances. */
  readonly backend: string | null;
  /** The backend OVS's select group would pick for the witness (the real hash's choice). */
  readonly hashPicks: string | null;
  /** The member (ECMP next hop id) each select() took, when the path has one. */
  readonly select: number | null;
  /** The member the datapath's select group hashes the witness to. */
  readonly selectHashPicks: number | null;
  /** The entering headers, as an OVN-style expression of the positive cube. */
  readonly header: string;
  /** Terms (cubes minus shadowing cubes) whose union is the class; `header` shows the first. */
  readonly cubes: number;
  /** Cubes subtracted from them (higher-priority flows that shadow them). */
  readonly excluded: number;
  /** False when the path went through something cubes cannot follow exactly (ip.ttl--…). */
  readonly exact: boolean;
  /** What that was (null when exact). */
  readonly approx: string | null;
  /** The logical flows hit, in order ("ls_in_lb 120"). */
  readonly path: readonly string[];
  /** A packet of the class, as an ovn-trace microflow. */
  readonly witness: string;
  /** The concrete executor's verdict for the witness equals the class's (null: not checked). */
  readonly confirmed: boolean | null;
}

export interface ReachDocument {
  readonly schema: typeof REACH_SCHEMA;
  readonly from: string;
  readonly chassis: string | null;
  readonly classes: readonly ReachClass[];
  readonly delivered: number;
  readonly dropped: number;
  readonly confirmed: number;
  readonly truncated: boolean;
}

// ---------------------------------------------------------------------------------------------
// The logical network, compiled for symbolic runs (matches as cubes, actions parsed).

interface SFlow {
  readonly lf: LogicalFlow;
  readonly dnf: Dnf;
  readonly actions: readonly Action[];
}

interface SPort {
  readonly sb: SbPort;
  readonly dp: SDatapath;
  peer?: SPort;
}

interface SMc {
  readonly name: string;
  readonly key: number;
  readonly ports: readonly SPort[];
}

interface SDatapath {
  readonly name: string;
  readonly key: number;
  readonly ports: Map<string, SPort>;
  readonly portsByKey: Map<number, SPort>;
  readonly mcs: Map<string, SMc>;
  readonly mcsByKey: Map<number, SMc>;
  readonly tables: Map<string, SFlow[]>;
  readonly stages: Map<string, string>;
  hasL3gateway: boolean;
}

/** The SB model's datapaths with every match turned into cubes, for one chassis. */
export class SymbolicNetwork {
  readonly dps = new Map<string, SDatapath>();
  readonly allPorts = new Map<string, SPort>();

  private readonly symtab: Symtab;

  constructor(
    readonly model: SbModel,
    readonly chassis?: string,
    ovn = 23,
  ) {
    this.symtab = symtabFor(ovn);
    for (const d of model.datapaths)
      this.dps.set(d.name, {
        name: d.name,
        key: d.tunnelKey,
        ports: new Map(),
        portsByKey: new Map(),
        mcs: new Map(),
        mcsByKey: new Map(),
        tables: new Map(),
        stages: new Map(),
        hasL3gateway: false,
      });
    for (const p of model.ports) {
      const dp = this.dps.get(p.datapath);
      if (!dp) continue;
      const sp: SPort = { sb: p, dp };
      dp.ports.set(p.name, sp);
      dp.portsByKey.set(p.tunnelKey, sp);
      if (p.type === "l3gateway") dp.hasL3gateway = true;
      this.allPorts.set(p.name, sp);
    }
    for (const p of this.allPorts.values()) {
      if (p.sb.type !== "patch" && p.sb.type !== "l3gateway") continue;
      const peer = this.allPorts.get(p.sb.options.get("peer") ?? "");
      if (peer) {
        p.peer = peer;
        peer.peer = p;
      }
    }
    for (const m of model.mcGroups) {
      const dp = this.dps.get(m.datapath);
      if (!dp) continue;
      const ports = m.ports
        .map((n) => dp.ports.get(n))
        .filter((x): x is SPort => x !== undefined)
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
      const env = {
        lookupPort: (n: string) => this.lookupPort(dp, n),
        isChassisResident: (n: string) => this.isChassisResident(n),
      };
      let flow: SFlow;
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
        let dnf = exprDnf(match, env);
        for (const a of actions) {
          if (a.t === "load" || a.t === "load_str") dnf = and(dnf, prereqDnf(a.dst.sym));
          else if (a.t === "move") dnf = and(and(dnf, prereqDnf(a.dst.sym)), prereqDnf(a.src.sym));
          else if (a.t === "exchange") dnf = and(and(dnf, prereqDnf(a.a.sym)), prereqDnf(a.b.sym));
        }
        flow = { lf, dnf, actions };
      } catch {
        continue; // ovn-trace skips a flow it cannot parse, and so does the executor
      }
      let list = dp.tables.get(key);
      if (!list) {
        list = [];
        dp.tables.set(key, list);
      }
      list.push(flow);
    }
    for (const dp of this.dps.values())
      for (const list of dp.tables.values()) list.sort((a, b) => b.lf.priority - a.lf.priority);
  }

  lookupPort(dp: SDatapath, name: string): number | undefined {
    if (name === "" || name === "none") return 0;
    if (this.allPorts.has(name)) return dp.ports.get(name)?.sb.tunnelKey;
    return dp.mcs.get(name)?.key;
  }

  isChassisResident(name: string): boolean {
    if (name === "") return true;
    const p = this.allPorts.get(name);
    if (!p) return false;
    if (this.chassis === undefined) return true;
    return p.sb.chassis === this.chassis;
  }
}

// ---------------------------------------------------------------------------------------------
// Paths: a term over entering headers, the state of the fields, and what is left to run.

type Frame =
  | { readonly k: "T"; readonly dp: SDatapath; readonly table: number; readonly pl: Pipeline }
  | {
      readonly k: "A";
      readonly acts: readonly Action[];
      readonly i: number;
      readonly dp: SDatapath;
      readonly table: number;
      readonly pl: Pipeline;
    }
  | { readonly k: "R"; readonly st: SymState }
  | { readonly k: "E"; readonly dp: SDatapath; readonly port: SPort };

type Stack = StackOf<Frame>;

interface Path {
  readonly term: Term;
  readonly st: SymState;
  readonly stack: Stack | null;
  /** Why the path is not exact (null: it is). */
  readonly approx: string | null;
  readonly trail: readonly string[];
  readonly outputs: readonly string[];
  readonly ct: string | null;
  readonly lb: string | null;
  readonly lbCount: number;
  /** The member each `select(…)` took (ECMP next hops), in order. */
  readonly selects: readonly number[];
  /** The last table met, for the drop point. */
  readonly last: string;
  readonly omitted: boolean;
  readonly error: string | null;
}

const push = (s: Stack | null, ...fs: Frame[]): Stack | null => pushFrames(s, ...fs);

/** Splits a path by a state-level condition: the paths where it holds, and where it does not. */
function split(p: Path, d: Dnf): { yes: Path[]; no: Path | null } {
  return splitBy(p, d, translate, "a match reads a field cubes cannot follow (after ip.ttl--)");
}

/**
 * ip.ttl-- on the headers with a non-zero TTL, exactly: split by the TTL's lowest set bit k;
 * then TTL-1 keeps the bits above k, clears bit k and sets the bits below — per bit, a copy or
 * a constant, which the state can hold (an arithmetic decrement of a free field it cannot).
 */
function decrement(p: Path): Path[] {
  const slot = slotOf("nw_ttl");
  const bits = bitsOf(p.st, slot);
  const out: Path[] = [];
  for (let k = 0; k < 8; k++) {
    const low = (1n << BigInt(k + 1)) - 1n;
    const { yes } = split(p, eq("nw_ttl", 0, 8, 1n << BigInt(k), low));
    for (const y of yes) {
      const nb = bits.map((b, i) => (i < k ? CONST1 : i === k ? CONST0 : b));
      const st = y.st.slice();
      st[slot] = nb;
      out.push({ ...y, st });
    }
  }
  return out;
}

/** Sets a field (FieldRef-like span) from bit contents. */
function setRef(st: SymState, ref: FieldRef, src: readonly number[], mask?: bigint): SymState {
  const { mf, lo, n } = span(ref);
  return writeBase(st, mf, lo, n, src, mask);
}

function readRef(st: SymState, ref: FieldRef): number[] {
  const { mf, lo, n } = span(ref);
  return readBase(st, mf, lo, n);
}

const EQ_SLOT = (slot: string, v: bigint, m?: bigint): Dnf =>
  eq(slot, 0, SLOT_WIDTH[slotOf(slot)]!, v, m ?? (1n << BigInt(SLOT_WIDTH[slotOf(slot)]!)) - 1n);

function anyOf(slot: string, vs: readonly bigint[]): Dnf {
  let d: Dnf = FALSE_DNF;
  for (const v of vs) d = or(d, EQ_SLOT(slot, v));
  return d;
}

/** The complement, as disjoint cubes: the full space minus each cube in turn. */
function not(d: Dnf): Dnf {
  let out: Cube[] = [FULL];
  for (const c of d) out = out.flatMap((x) => subtractCube(x, c));
  return out;
}

/** In6 link-local address from a MAC (in6_generate_lla). */
function lla(mac: bigint): bigint {
  const b = (i: number): bigint => (mac >> BigInt(8 * (5 - i))) & 0xffn;
  return (
    (0xfe80n << 112n) |
    ((b(0) ^ 2n) << 56n) |
    (b(1) << 48n) |
    (b(2) << 40n) |
    (0xfffen << 24n) |
    (b(3) << 16n) |
    (b(4) << 8n) |
    b(5)
  );
}

interface PortSec {
  readonly mac: bigint;
  readonly ip4: readonly bigint[];
  readonly ip6: readonly bigint[];
}

function parsePortSec(entries: readonly string[]): PortSec[] {
  const out: PortSec[] = [];
  for (const e of entries) {
    const words = e.trim().split(/\s+/);
    const mac = words[0] ?? "";
    if (!/^([0-9a-fA-F]{2}:){5}[0-9a-fA-F]{2}$/.test(mac)) continue;
    const ip4: bigint[] = [];
    const ip6: bigint[] = [];
    for (const w of words.slice(1)) {
      const ip = w.split("/")[0]!;
      try {
        const x = parseExpr(`${ip.includes(":") ? "ip6" : "ip4"}.dst == ${ip}`);
        if (x.t === "cmp") (ip.includes(":") ? ip6 : ip4).push(x.value);
      } catch {
        /* a bad entry is ignored, as extract_lsp_addresses does */
      }
    }
    out.push({ mac: BigInt(`0x${mac.replaceAll(":", "")}`), ip4, ip6 });
  }
  return out;
}

/** The headers port security lets in (`in`) or out of a port, as ovn-trace's check decides it. */
function portSecPass(ps: readonly PortSec[], dir: "in" | "out"): Dnf {
  if (ps.length === 0) return TRUE_DNF;
  const macSlot = dir === "in" ? "dl_src" : "dl_dst";
  let out: Dnf = FALSE_DNF;
  const seen = new Set<bigint>();
  for (const e of ps) {
    if (seen.has(e.mac)) continue; // the first entry of a MAC decides
    seen.add(e.mac);
    const noIps = e.ip4.length === 0 && e.ip6.length === 0;
    const v4 = EQ_SLOT("dl_type", 0x800n);
    const v6 = EQ_SLOT("dl_type", 0x86ddn);
    const arp = EQ_SLOT("dl_type", 0x806n);
    const other = not(or(or(v4, v6), dir === "in" ? arp : FALSE_DNF));
    let pass: Dnf = other;
    if (dir === "in") {
      const dhcp = and(
        and(
          and(EQ_SLOT("nw_proto", 17n), EQ_SLOT("tp_src", 68n)),
          and(EQ_SLOT("tp_dst", 67n), EQ_SLOT("nw_src", 0n)),
        ),
        EQ_SLOT("nw_dst", 0xffffffffn),
      );
      pass = or(pass, and(v4, noIps ? TRUE_DNF : or(anyOf("nw_src", e.ip4), dhcp)));
      pass = or(
        pass,
        and(and(arp, EQ_SLOT("arp_sha", e.mac)), e.ip4.length === 0 ? TRUE_DNF : anyOf("nw_src", e.ip4)),
      );
      let six: Dnf = TRUE_DNF;
      if (!noIps) {
        const l = lla(e.mac);
        const okSrc = anyOf("ipv6_src", [...e.ip6, l]);
        const icmp = EQ_SLOT("nw_proto", 58n);
        const badNs = and(and(icmp, EQ_SLOT("tp_src", 135n)), not(anyOf("arp_sha", [0n, e.mac])));
        const badNaTha = and(and(icmp, EQ_SLOT("tp_src", 136n)), not(anyOf("arp_tha", [0n, e.mac])));
        const badNaTarget =
          e.ip6.length > 0
            ? and(and(icmp, EQ_SLOT("tp_src", 136n)), not(anyOf("nd_target", [...e.ip6, l])))
            : FALSE_DNF;
        six = and(okSrc, not(or(or(badNs, badNaTha), badNaTarget)));
      }
      pass = or(pass, and(v6, six));
    } else {
      const bcast = or(EQ_SLOT("nw_dst", 0xffffffffn), EQ_SLOT("nw_dst", 0xe0000000n, 0xf0000000n));
      pass = or(
        pass,
        and(v4, noIps ? TRUE_DNF : e.ip4.length === 0 ? FALSE_DNF : or(anyOf("nw_dst", e.ip4), bcast)),
      );
      const mcast6 = EQ_SLOT("ipv6_dst", 0xffn << 120n, 0xffn << 120n);
      pass = or(
        pass,
        and(
          v6,
          noIps
            ? TRUE_DNF
            : e.ip6.length === 0
              ? FALSE_DNF
              : or(anyOf("ipv6_dst", [...e.ip6, lla(e.mac)]), mcast6),
        ),
      );
    }
    out = or(out, and(EQ_SLOT(macSlot, e.mac), pass));
  }
  return out;
}

function backendText(b: LbBackend): string {
  const ip = b.family === 4 ? formatIp4(b.ip4) : `[${formatIp6(b.ip6)}]`;
  return b.port ? `${ip}:${b.port}` : ip;
}

/** The microflow text ovn-trace takes for a witness (fields the class cares about first). */
export function witnessMicroflow(inport: string, f: Flow): string {
  const parts = [
    `inport == "${inport}"`,
    `eth.src == ${formatMac(f.dl_src)}`,
    `eth.dst == ${formatMac(f.dl_dst)}`,
  ];
  if (f.dl_type === 0x0800) {
    parts.push(
      `ip4.src == ${formatIp4(f.nw_src)}`,
      `ip4.dst == ${formatIp4(f.nw_dst)}`,
      `ip.ttl == ${f.nw_ttl}`,
    );
    if (f.nw_proto === 6)
      parts.push(`tcp.src == ${f.tp_src}`, `tcp.dst == ${f.tp_dst}`, `tcp.flags == ${f.tcp_flags}`);
    else if (f.nw_proto === 17) parts.push(`udp.src == ${f.tp_src}`, `udp.dst == ${f.tp_dst}`);
    else if (f.nw_proto === 1)
      parts.push(`icmp4.type == ${f.tp_src & 0xff}`, `icmp4.code == ${f.tp_dst & 0xff}`);
    else parts.push(`ip.proto == ${f.nw_proto}`);
  } else if (f.dl_type === 0x0806) {
    parts.push(
      `arp.op == ${f.nw_proto}`,
      `arp.spa == ${formatIp4(f.nw_src)}`,
      `arp.tpa == ${formatIp4(f.nw_dst)}`,
    );
  } else if (f.dl_type === 0x86dd) {
    parts.push(
      `ip6.src == ${formatIp6(f.ipv6_src)}`,
      `ip6.dst == ${formatIp6(f.ipv6_dst)}`,
      `ip.proto == ${f.nw_proto}`,
    );
  } else parts.push(`eth.type == 0x${f.dl_type.toString(16)}`);
  return parts.join(" && ");
}

const SLOT_TEXT: Readonly<Record<string, string>> = {
  dl_src: "eth.src",
  dl_dst: "eth.dst",
  dl_type: "eth.type",
  vlan_tci: "vlan.tci",
  nw_src: "ip4.src",
  nw_dst: "ip4.dst",
  nw_proto: "ip.proto",
  nw_tos: "ip.tos",
  nw_ttl: "ip.ttl",
  nw_frag: "ip.frag",
  tp_src: "l4.src",
  tp_dst: "l4.dst",
  tcp_flags: "tcp.flags",
  ipv6_src: "ip6.src",
  ipv6_dst: "ip6.dst",
  arp_sha: "arp.sha",
  arp_tha: "arp.tha",
  nd_target: "nd.target",
};

function formatValue(slot: string, v: bigint, m: bigint, w: number): string {
  const all = (1n << BigInt(w)) - 1n;
  const prefixLen = (): number | null => {
    let k = 0;
    while (k < w && (m >> BigInt(w - 1 - k)) & 1n) k++;
    return m === (all & ~((1n << BigInt(w - k)) - 1n)) ? k : null;
  };
  if (slot === "nw_src" || slot === "nw_dst") {
    const k = prefixLen();
    if (k === 32) return formatIp4(Number(v));
    if (k !== null) return `${formatIp4(Number(v))}/${k}`;
  }
  if ((slot === "dl_src" || slot === "dl_dst" || slot === "arp_sha") && m === all)
    return formatMac(Number(v));
  if ((slot === "ipv6_src" || slot === "ipv6_dst") && m === all) return formatIp6(v);
  if (m === all) return slot === "dl_type" ? `0x${v.toString(16)}` : v.toString();
  return `0x${v.toString(16)}/0x${m.toString(16)}`;
}

/** The positive cube as an OVN-style conjunction. */
export function formatCube(c: Cube): string {
  const parts: string[] = [];
  for (const s of [...c.keys()].sort((a, b) => a - b)) {
    const x = c.get(s)!;
    if (x.m === 0n) continue;
    const name = SLOTS[s]![0];
    parts.push(`${SLOT_TEXT[name] ?? name} == ${formatValue(name, x.v, x.m, SLOT_WIDTH[s]!)}`);
  }
  return parts.length ? parts.join(" && ") : "1";
}

// ---------------------------------------------------------------------------------------------
// The symbolic executor.

interface Leaf {
  readonly path: Path;
}

class Explorer {
  readonly leaves: Leaf[] = [];
  truncated = false;
  private readonly ct: readonly string[];

  constructor(
    readonly net: SymbolicNetwork,
    ctStates: readonly string[],
    readonly max: number,
  ) {
    for (const c of ctStates) parseCtOption(c); // a bad state is the user's error, said early
    this.ct = ctStates;
  }

  run(start: Path): void {
    this.truncated = runPaths(
      start,
      (p) => this.step(p),
      (p) => this.leaves.push({ path: p }),
      () => this.leaves.length,
      this.max,
    );
  }

  private step(p: Path): Path[] {
    const fr = p.stack!.f;
    const rest = p.stack!.next;
    switch (fr.k) {
      case "R":
        return [{ ...p, st: fr.st, stack: rest }];
      case "E":
        return [
          {
            ...p,
            st: setSlot(p.st, "reg15", BigInt(fr.port.sb.tunnelKey)),
            stack: push(rest, { k: "T", dp: fr.dp, table: 0, pl: "egress" }),
          },
        ];
      case "T":
        return this.table(p, fr.dp, fr.table, fr.pl, rest);
      case "A": {
        if (fr.i >= fr.acts.length) return [{ ...p, stack: rest }];
        const cont = fr.i + 1 < fr.acts.length ? push(rest, { ...fr, i: fr.i + 1 }) : rest;
        return this.action(fr.acts[fr.i]!, { ...p, stack: cont }, fr.dp, fr.table, fr.pl);
      }
    }
  }

  private table(p: Path, dp: SDatapath, table: number, pl: Pipeline, rest: Stack | null): Path[] {
    const flows = dp.tables.get(`${pl}:${table}`) ?? [];
    const out: Path[] = [];
    let remaining: Path | null = p;
    for (const f of flows) {
      if (!remaining) break;
      const { yes, no } = split(remaining, f.dnf);
      const here = `${f.lf.stage} priority ${f.lf.priority}`;
      for (const y of yes)
        out.push({
          ...y,
          trail: [...y.trail, here],
          last: `${here} (${f.lf.match})`,
          stack: push(rest, { k: "A", acts: f.actions, i: 0, dp, table, pl }),
        });
      remaining = no;
    }
    if (remaining) {
      const stage = dp.stages.get(`${pl}:${table}`);
      const here = `${stage ?? `${pl} table ${table}`}: no match (implicit drop)`;
      out.push({ ...remaining, trail: [...remaining.trail, here], last: here, stack: rest });
    }
    return out;
  }

  private fork(p: Path, st: SymState, ...frames: Frame[]): Path {
    return { ...p, st, stack: push(p.stack, ...frames, { k: "R", st: p.st }) };
  }

  /** The paths for each conntrack state the connection can be in (one choice per path). */
  private ctState(p: Path): { p: Path; bits: bigint }[] {
    if (p.ct !== null) return [{ p, bits: BigInt(parseCtOption(p.ct)) }];
    return this.ct.map((c) => ({ p: { ...p, ct: c }, bits: BigInt(parseCtOption(c)) }));
  }

  private action(a: Action, p: Path, dp: SDatapath, table: number, pl: Pipeline): Path[] {
    switch (a.t) {
      case "next": {
        const np = a.pipeline ?? pl;
        const nt = a.table ?? table + 1;
        return [{ ...p, stack: push(p.stack, { k: "T", dp, table: nt, pl: np }) }];
      }
      case "load": {
        const { n } = span(a.dst);
        return [{ ...p, st: setRef(p.st, a.dst, constSrc(a.value, n), a.mask) }];
      }
      case "load_str": {
        const key = dp.ports.get(a.s)?.sb.tunnelKey ?? dp.mcs.get(a.s)?.key ?? 0;
        const { mf, n } = span(a.dst);
        return [{ ...p, st: writeBase(p.st, mf, 0, n, constSrc(BigInt(key), n)) }];
      }
      case "move":
        return [{ ...p, st: setRef(p.st, a.dst, readRef(p.st, a.src)) }];
      case "exchange": {
        const va = readRef(p.st, a.a);
        const vb = readRef(p.st, a.b);
        return [{ ...p, st: setRef(setRef(p.st, a.a, vb), a.b, va) }];
      }
      case "dec_ttl": {
        const ip = or(EQ_SLOT("dl_type", 0x800n), EQ_SLOT("dl_type", 0x86ddn));
        const { yes, no } = split(p, ip);
        const out: Path[] = no ? [{ ...no, error: "TTL decrement of non-IP packet" }] : [];
        for (const y of yes) {
          const z = split(y, EQ_SLOT("nw_ttl", 0n));
          for (const u of z.yes) out.push({ ...u, error: "TTL underflow" });
          if (z.no) out.push(...decrement(z.no));
        }
        return out;
      }
      case "ct_next":
        return this.ctState(p).map(({ p: q, bits }) =>
          this.fork(q, setSlot(q.st, "ct_state", bits), { k: "T", dp, table: table + 1, pl }),
        );
      case "ct_commit":
      case "ct_snat_to_vip":
        return [p];
      case "ct_clear": {
        let st = p.st;
        for (const s of [
          "ct_state",
          "ct_mark",
          "ct_label",
          "ct_nw_dst",
          "ct_ipv6_dst",
          "ct_nw_proto",
          "ct_tp_dst",
        ])
          st = setSlot(st, s, 0n);
        return [{ ...p, st }];
      }
      case "ct_lb":
        return this.ctLb(a.backends, p, dp, table, pl);
      case "ct_nat": {
        const isDst = a.kind === "ct_dnat" || a.kind === "ct_dnat_in_czone";
        if (!isDst && !a.ip && dp.hasL3gateway) return [p];
        let st = p.st;
        if (a.ip) {
          if (a.ip.family === 4) st = setSlot(st, isDst ? "nw_dst" : "nw_src", BigInt(a.ip.ip4));
          else st = setSlot(st, isDst ? "ipv6_dst" : "ipv6_src", a.ip.ip6);
          st = orConst(st, "ct_state", BigInt(isDst ? CS.dnat : CS.snat));
        }
        return this.forkTracked(p, st, dp, table, pl);
      }
      case "ct_commit_nat":
        return this.forkTracked(p, p.st, dp, table, pl);
      case "nest":
        return this.nest(a.kind, a.nested, p, dp, table, pl);
      case "result":
        if (a.fn === "select") return this.select(a, p, dp, table, pl);
        // As ovn-trace: conntrack's original-destination loads leave the register as it is.
        if (a.fn === "ct_nw_dst" || a.fn === "ct_ip6_dst" || a.fn === "ct_tp_dst") return [p];
        return this.result(a, p, dp);
      case "output":
        return this.output(p, dp, pl);
      case "other":
        if (a.name === "get_arp" || a.name === "get_nd") {
          const exact = (this.net.model.macBindings ?? []).length === 0;
          return [
            {
              ...p,
              approx: exact ? p.approx : (p.approx ?? "get_arp with MAC bindings"),
              st: setSlot(p.st, "dl_dst", 0n),
            },
          ];
        }
        return [p];
    }
  }

  private forkTracked(p: Path, st: SymState, dp: SDatapath, table: number, pl: Pipeline): Path[] {
    const trk = constOf(st, slotOf("ct_state"));
    if (trk !== null && trk & BigInt(CS.trk)) return [this.fork(p, st, { k: "T", dp, table: table + 1, pl })];
    return this.ctState(p).map(({ p: q, bits }) =>
      this.fork(q, orConst(st, "ct_state", bits), { k: "T", dp, table: table + 1, pl }),
    );
  }

  private ctLb(backends: readonly LbBackend[], p: Path, dp: SDatapath, table: number, pl: Pipeline): Path[] {
    const out: Path[] = [];
    const v4 = split(p, EQ_SLOT("dl_type", 0x800n));
    const v6 = v4.no ? split(v4.no, EQ_SLOT("dl_type", 0x86ddn)) : { yes: [], no: null };
    // Neither IPv4 nor IPv6: nothing is load-balanced and no state is taken.
    if (v6.no) out.push(this.fork(v6.no, v6.no.st, { k: "T", dp, table: table + 1, pl }));
    for (const [family, paths] of [
      [4, v4.yes],
      [6, v6.yes],
    ] as const) {
      const mine = backends.filter((b) => b.family === family);
      for (const q0 of paths) {
        for (const { p: q, bits } of this.ctState(q0)) {
          if (backends.length > 0 && mine.length === 0) {
            out.push(
              this.fork(
                { ...q, error: "no load balancing destination (use --lb-dst)" },
                orConst(q.st, "ct_state", bits),
                { k: "T", dp, table: table + 1, pl },
              ),
            );
            continue;
          }
          if (mine.length === 0) {
            out.push(this.fork(q, orConst(q.st, "ct_state", bits), { k: "T", dp, table: table + 1, pl }));
            continue;
          }
          const pinnable = new Set<string>();
          for (const b of mine) {
            // --lb-dst pins by address: a second backend on the same address is only reached by the hash.
            const addrKey = family === 4 ? String(b.ip4) : String(b.ip6);
            const first = !pinnable.has(addrKey);
            pinnable.add(addrKey);
            let st = q.st;
            if (family === 4) {
              st = copySlot(st, "ct_nw_dst", "nw_dst");
              st = setSlot(st, "nw_dst", BigInt(b.ip4));
            } else {
              st = copySlot(st, "ct_ipv6_dst", "ipv6_dst");
              st = setSlot(st, "ipv6_dst", b.ip6);
            }
            st = copySlot(st, "ct_tp_dst", "tp_dst");
            if (b.port) st = setSlot(st, "tp_dst", BigInt(b.port));
            st = orConst(orConst(st, "ct_state", BigInt(CS.dnat)), "ct_state", bits);
            // Only the first ct_lb of a path can be pinned (--lb-dst); later ones hash.
            const r: Path = {
              ...q,
              lb: q.lb ?? backendText(b),
              lbCount: q.lbCount + 1,
              approx:
                q.approx ??
                (q.lbCount > 0
                  ? "a second ct_lb (only the first is pinned by --lb-dst)"
                  : !first
                    ? "a backend sharing its address with another (--lb-dst pins the first)"
                    : null),
            };
            out.push(this.fork(r, st, { k: "T", dp, table: table + 1, pl }));
          }
        }
      }
    }
    return out;
  }

  private nest(
    kind0: string,
    nested: readonly Action[],
    p: Path,
    dp: SDatapath,
    table: number,
    pl: Pipeline,
  ): Path[] {
    const frame: Frame = { k: "A", acts: nested, i: 0, dp, table, pl };
    const run = (q: Path, kind: string, swap: boolean): Path[] => {
      const f = q.st;
      let g = q.st;
      const copy = (to: string, from: string) => {
        const t = slotOf(to);
        const src = bitsOf(f, slotOf(from));
        const out = g.slice();
        out[t] = Array.from({ length: SLOT_WIDTH[t]! }, (_, i) => src[i] ?? CONST0);
        g = out;
      };
      if (swap) {
        copy("dl_dst", "dl_src");
        copy("dl_src", "dl_dst");
      }
      const tail = (h: SymState) => (nested.length === 0 ? [q] : [this.fork(q, h, frame)]);
      switch (kind) {
        case "reject": {
          const tcp = split(q, EQ_SLOT("nw_proto", 6n));
          const res: Path[] = tcp.yes.flatMap((y) => run(y, "tcp_reset", true));
          if (!tcp.no) return res;
          const sctp = split(tcp.no, EQ_SLOT("nw_proto", 132n));
          res.push(...sctp.yes.flatMap((y) => run(y, "sctp_abort", true)));
          if (!sctp.no) return res;
          const v4 = split(sctp.no, EQ_SLOT("dl_type", 0x800n));
          res.push(...v4.yes.flatMap((y) => run(y, "icmp4", true)));
          if (v4.no) res.push(...run(v4.no, "icmp6", true));
          return res;
        }
        case "arp":
          for (const [s, v] of [
            ["nw_frag", 0n],
            ["nw_tos", 0n],
            ["nw_ttl", 0n],
            ["tcp_flags", 0n],
            ["dl_type", 0x806n],
            ["nw_proto", 1n],
            ["arp_tha", 0n],
          ] as const)
            g = setSlot(g, s, v);
          g = copySlot(g, "arp_sha", "dl_src");
          return tail(g);
        case "nd_na":
        case "nd_na_router":
          copy("dl_src", "dl_dst");
          copy("dl_dst", "dl_src");
          copy("ipv6_dst", "ipv6_src");
          copy("ipv6_src", "nd_target");
          copy("arp_tha", "dl_dst");
          g = setSlot(setSlot(g, "tp_src", 136n), "arp_sha", 0n);
          return tail(g);
        case "nd_ns":
          copy("arp_tha", "dl_dst");
          g = setSlot(setSlot(g, "tp_src", 135n), "arp_sha", 0n);
          return tail(g);
        case "icmp4":
        case "icmp4_error":
        case "icmp6":
        case "icmp6_error":
        case "tcp_reset":
        case "sctp_abort": {
          const six = kind.startsWith("icmp6");
          const addr = (h: SymState): SymState => {
            if (!swap) return h;
            const s = six ? ["ipv6_dst", "ipv6_src"] : ["nw_dst", "nw_src"];
            const a = bitsOf(f, slotOf(s[1]!));
            const b = bitsOf(f, slotOf(s[0]!));
            const out = h.slice();
            out[slotOf(s[0]!)] = [...a];
            out[slotOf(s[1]!)] = [...b];
            return out;
          };
          if (kind === "tcp_reset" || kind === "sctp_abort") {
            g = addr(g);
            g = setSlot(setSlot(g, "nw_proto", kind === "tcp_reset" ? 6n : 132n), "nw_ttl", 255n);
            if (kind === "tcp_reset") g = setSlot(g, "tcp_flags", 4n);
            return tail(g);
          }
          // A reject of an ICMP error is not answered (no recirculation loop), as in ovn-trace.
          const loop = swap ? split(q, EQ_SLOT("tp_src", six ? 1n : 3n)) : { yes: [], no: q };
          const res: Path[] = [...loop.yes];
          if (loop.no) {
            const h = addr(g);
            const r = setSlot(
              setSlot(
                setSlot(setSlot(h, "nw_proto", six ? 58n : 1n), "nw_ttl", 255n),
                "tp_src",
                six ? 1n : 3n,
              ),
              "tp_dst",
              1n,
            );
            res.push(...(nested.length === 0 ? [loop.no] : [this.fork(loop.no, r, frame)]));
          }
          return res;
        }
        default:
          return tail(g);
      }
    };
    return run(p, kind0, kind0 === "reject");
  }

  private readonly portSecCache = new Map<string, Dnf>();
  private portSec(port: SPort, dir: "in" | "out"): Dnf {
    const k = `${port.sb.name}\u0000${dir}`;
    let d = this.portSecCache.get(k);
    if (!d) {
      d = portSecPass(parsePortSec(port.sb.portSecurity), dir);
      this.portSecCache.set(k, d);
    }
    return d;
  }

  /** `select(…)`: one branch per member (an ECMP next hop), each continuing in a fork. */
  private select(
    a: Extract<Action, { t: "result" }>,
    p: Path,
    dp: SDatapath,
    table: number,
    pl: Pipeline,
  ): Path[] {
    const members = selectMembers(a.args);
    if (members.length === 0) return [{ ...p, error: `select(${a.args}): no members` }];
    const { n } = span(a.dst);
    return members.map((m) => {
      // --select-id pins every select of a trace: a path whose selects differ cannot be replayed.
      const approx =
        p.approx ??
        (p.selects.length === 0 || p.selects[0] === m.id ? null : "two select() with different members");
      const q: Path = { ...p, approx, selects: [...p.selects, m.id] };
      return this.fork(q, setRef(q.st, a.dst, constSrc(BigInt(m.id), n)), {
        k: "T",
        dp,
        table: table + 1,
        pl,
      });
    });
  }

  private result(a: Extract<Action, { t: "result" }>, p: Path, dp: SDatapath): Path[] {
    const set = (q: Path, v: bigint): Path => {
      const { n } = span(a.dst);
      return { ...q, st: setRef(q.st, a.dst, constSrc(v, n)) };
    };
    const cond = (q: Path, d: Dnf): Path[] => {
      const { yes, no } = split(q, d);
      return [...yes.map((y) => set(y, 1n)), ...(no ? [set(no, 0n)] : [])];
    };
    switch (a.fn) {
      case "check_in_port_sec":
      case "check_out_port_sec": {
        const inb = a.fn === "check_in_port_sec";
        const key = constOf(p.st, slotOf(inb ? "reg14" : "reg15"));
        if (key === null)
          return [set({ ...p, approx: p.approx ?? "port security of a port the class does not fix" }, 0n)];
        const port = dp.portsByKey.get(Number(key));
        if (!port) return [set(p, 0n)];
        // Split on the headers that pass (result 0); the rest (kept lazily as a difference) fail.
        const { yes, no } = split(p, this.portSec(port, inb ? "in" : "out"));
        return [...yes.map((y) => set(y, 0n)), ...(no ? [set(no, 1n)] : [])];
      }
      case "chk_lb_hairpin":
      case "chk_lb_hairpin_reply": {
        const vips = this.net.model.vips;
        // vipFor: the first VIP with the connection's original destination address.
        let hit: Dnf = FALSE_DNF;
        const seen = new Set<string>();
        let approx = p.approx;
        for (const v of vips) {
          const k = v.family === 4 ? `4/${v.ip4}` : `6/${v.ip6}`;
          if (seen.has(k)) continue;
          seen.add(k);
          const fam = v.family === 4 ? EQ_SLOT("dl_type", 0x800n) : EQ_SLOT("dl_type", 0x86ddn);
          const addr = v.family === 4 ? EQ_SLOT("ct_nw_dst", BigInt(v.ip4)) : EQ_SLOT("ct_ipv6_dst", v.ip6);
          const port = EQ_SLOT(a.fn === "chk_lb_hairpin" ? "ct_tp_dst" : "tp_dst", BigInt(v.port));
          const dnat = EQ_SLOT("ct_state", BigInt(CS.dnat), BigInt(CS.dnat));
          const pre = and(and(fam, addr), and(port, dnat));
          // Not a hairpin candidate on this path at all (no DNAT, another VIP): nothing to decide.
          if (!pre.some((c) => translate(p.st, c).cube !== null)) continue;
          // src == dst: exact when one side is a constant (after DNAT, the destination is).
          const [sa, sb] = v.family === 4 ? ["nw_src", "nw_dst"] : ["ipv6_src", "ipv6_dst"];
          const cb = constOf(p.st, slotOf(sb!));
          const ca = constOf(p.st, slotOf(sa!));
          let same: Dnf;
          if (cb !== null) same = EQ_SLOT(sa!, cb);
          else if (ca !== null) same = EQ_SLOT(sb!, ca);
          else {
            approx ??= "hairpin check with neither address fixed";
            same = FALSE_DNF;
          }
          hit = or(hit, and(pre, same));
        }
        return cond({ ...p, approx }, hit);
      }
      case "lookup_fdb":
      case "get_fdb":
        return [
          set(
            {
              ...p,
              approx: (this.net.model.fdbs ?? []).length === 0 ? p.approx : (p.approx ?? "FDB lookups"),
            },
            0n,
          ),
        ];
      case "lookup_arp":
      case "lookup_nd":
      case "lookup_arp_ip":
      case "lookup_nd_ip":
        return [
          set(
            {
              ...p,
              approx:
                (this.net.model.macBindings ?? []).length === 0
                  ? p.approx
                  : (p.approx ?? "MAC binding lookups"),
            },
            0n,
          ),
        ];
      default:
        return [set(p, 0n)];
    }
  }

  private output(p: Path, dp: SDatapath, pl: Pipeline): Path[] {
    const keyV = constOf(p.st, slotOf("reg15"));
    if (keyV === null)
      return [
        {
          ...p,
          approx: p.approx ?? "output to a port the class does not fix",
          error: "output to a logical port the class does not fix",
        },
      ];
    const key = Number(keyV);
    if (!key) return [{ ...p, error: "output to null logical port" }];
    let port = dp.portsByKey.get(key);
    const mc = dp.mcsByKey.get(key);
    let outName = port ? port.sb.name : mc ? mc.name : "(unnamed)";
    if (pl === "egress") {
      if (port?.peer) {
        const peer = port.peer;
        let st = setSlot(p.st, "reg14", BigInt(peer.sb.tunnelKey));
        st = setSlot(st, "reg15", 0n);
        return [this.fork(p, st, { k: "T", dp: peer.dp, table: 0, pl: "ingress" })];
      }
      return [{ ...p, outputs: [...p.outputs, outName] }];
    }
    let eg = p.st;
    for (let i = 0; i < 16; i++) if (i !== 14 && i !== 15) eg = setSlot(eg, `reg${i}`, 0n);
    const inKeyV = constOf(p.st, slotOf("reg14"));
    const inKey = inKeyV === null ? -1 : Number(inKeyV);
    const flags = bitsOf(p.st, slotOf("reg10"))[0]!;
    // flags.loopback: usually a constant; otherwise split on it.
    const loops: { q: Path; loopback: boolean }[] = [];
    if (flags === CONST0 || flags === CONST1) loops.push({ q: p, loopback: flags === CONST1 });
    else {
      const { yes, no } = split(p, eq("reg10", 0, 32, 1n, 1n));
      for (const y of yes) loops.push({ q: y, loopback: true });
      if (no) loops.push({ q: no, loopback: false });
    }
    const out: Path[] = [];
    for (const { q, loopback } of loops) {
      const approx =
        inKeyV !== null ? q.approx : (q.approx ?? "output from an inport the class does not fix");
      if (mc) {
        const frames: Frame[] = [];
        let omitted = q.omitted;
        for (const m of mc.ports) {
          if (m.sb.tunnelKey !== inKey || loopback) frames.push({ k: "E", dp, port: m });
          else omitted = true;
        }
        out.push(this.fork({ ...q, approx, omitted }, eg, ...frames));
        continue;
      }
      if (port && port.sb.type === "chassisredirect") {
        const dist = dp.ports.get(port.sb.options.get("distributed-port") ?? "");
        if (!dist) {
          out.push({
            ...q,
            approx,
            error: `output to type "chassisredirect" port "${outName}" with no distributed port`,
          });
          continue;
        }
        port = dist;
        outName = dist.sb.name;
      }
      if ((port && port.sb.tunnelKey !== inKey) || loopback) {
        const st = port ? setSlot(eg, "reg15", BigInt(port.sb.tunnelKey)) : eg;
        out.push(this.fork({ ...q, approx }, st, { k: "T", dp, table: 0, pl: "egress" }));
      } else out.push({ ...q, approx, omitted: true });
    }
    return out;
  }
}

// ---------------------------------------------------------------------------------------------
// The API.

function verdictOf(p: Path): ReachVerdict {
  if (p.outputs.length > 0) return { delivered: true, ports: p.outputs, droppedAt: null, reason: null };
  const reason = p.omitted
    ? "the only output is the input port (outport == inport, !flags.loopback)"
    : p.error !== null
      ? p.error
      : /no match/.test(p.last)
        ? "no logical flow matches (implicit drop)"
        : "no logical flow sends it to a port";
  return { delivered: false, ports: [], droppedAt: p.last || null, reason };
}

/** Confirms one class: the concrete executor's outputs for a packet with the class's choices. */
export function concreteVerdict(
  concrete: LogicalNetwork,
  inport: string,
  flow: Flow,
  ct: string | null,
  backend: string | null,
  select: number | null = null,
): { ports: readonly string[]; delivered: boolean } {
  const r = concrete.traceFlow(undefined, inport, flow, {
    ct: ct === null ? [] : Array.from({ length: 64 }, () => ct),
    ...(backend !== null ? { lbDst: backend } : {}),
    ...(select !== null ? { selectId: select } : {}),
  });
  return { ports: r.outputs, delivered: !r.dropped };
}

/** The class's points as flows: its witness, then `n` random members (deterministic per seed). */
export function classMembers(ts: Term | readonly Term[], n: number, seed: number): Flow[] {
  const all: readonly Term[] = Array.isArray(ts) ? ts : [ts as Term];
  const out: Flow[] = [];
  for (const t of all) {
    const w = witness(t, HEADER_SLOTS);
    if (w) out.push(pointToFlow(w));
  }
  const rand = prng(seed);
  for (let i = 0; i < n; i++) {
    const t = all[Math.floor(rand() * all.length)];
    const p = t ? witness(t, HEADER_SLOTS, rand) : null;
    if (t && p && contains(t, p)) out.push(pointToFlow(p));
  }
  return out;
}

/** A reach run with the classes' terms kept (for tests that draw more members). */
export interface ReachRun {
  readonly doc: ReachDocument;
  /** Each class's terms (its header set is their union), in class order. */
  readonly terms: readonly (readonly Term[])[];
  readonly concrete: LogicalNetwork;
}

/** Symbolic reachability from a logical port of a southbound model. */
export function reachLogical(model: SbModel, opts: ReachOptions): ReachRun {
  const net = new SymbolicNetwork(model, opts.chassis, opts.ovn);
  const port = net.allPorts.get(opts.from);
  if (!port) throw new SimError("UNKNOWN_PORT", `reach --from: no logical port "${opts.from}"`);
  for (const t of opts.to ?? [])
    if (!net.allPorts.has(t) && ![...net.dps.values()].some((d) => d.mcs.has(t)))
      throw new SimError("UNKNOWN_PORT", `reach --to: no logical port "${t}"`);
  const consts = new Map<number, bigint>();
  for (let i = 0; i < 16; i++) consts.set(slotOf(`reg${i}`), 0n);
  consts.set(slotOf("reg14"), BigInt(port.sb.tunnelKey));
  for (const s of ["ct_state", "ct_mark", "ct_label", "ct_nw_proto", "ct_nw_dst", "ct_ipv6_dst", "ct_tp_dst"])
    consts.set(slotOf(s), 0n);
  const st = initialState(consts);
  let start: Path = {
    term: { pos: FULL, neg: [] },
    st,
    stack: push(null, { k: "T", dp: port.dp, table: 0, pl: "ingress" }),
    approx: null,
    trail: [],
    outputs: [],
    ct: null,
    lb: null,
    lbCount: 0,
    selects: [],
    last: "",
    omitted: false,
    error: null,
  };
  const ex = new Explorer(net, opts.ctStates ?? CT_CHOICES, opts.maxClasses ?? 50_000);
  const starts: Path[] = [];
  if (opts.match !== undefined) {
    const e = parseExpr(opts.match, {
      addressSets: model.addressSets,
      portGroups: model.portGroups,
      dpKey: port.dp.key,
      symtab: symtabFor(opts.ovn ?? 23),
    });
    const d = exprDnf(e, {
      lookupPort: (n) => net.lookupPort(port.dp, n),
      isChassisResident: (n) => net.isChassisResident(n),
    });
    starts.push(...split(start, d).yes);
  } else starts.push(start);
  for (const s0 of starts) {
    start = s0;
    ex.run(start);
  }
  const concrete = new LogicalNetwork(model, opts.chassis, { ovn: opts.ovn ?? 23 });
  const confirm = opts.confirm ?? true;
  // Leaves with the same fate, branches and path are one class (a union of terms): the TTL
  // split of ip.ttl--, say, or the pieces a shadowing flow cut a set into.
  const groups = new Map<string, Path[]>();
  for (const { path } of ex.leaves) {
    const verdict = verdictOf(path);
    if (opts.to && !verdict.ports.some((x) => opts.to!.includes(x))) continue;
    const k = JSON.stringify([verdict, path.ct, path.lb, path.selects, path.trail, path.approx]);
    const g = groups.get(k);
    if (g) g.push(path);
    else groups.set(k, [path]);
  }
  const classes: ReachClass[] = [];
  const terms: (readonly Term[])[] = [];
  for (const paths of groups.values()) {
    const path = paths[0]!;
    const verdict = verdictOf(path);
    const live: Term[] = [];
    let flow: Flow | null = null;
    let confirmed: boolean | null = confirm ? true : null;
    for (const q of paths) {
      const w = witness(q.term, HEADER_SLOTS);
      if (!w) continue;
      live.push(q.term);
      const f = pointToFlow(w);
      flow ??= f;
      if (confirm) {
        const c = concreteVerdict(concrete, opts.from, f, path.ct, path.lb, path.selects[0] ?? null);
        if (!(c.delivered === verdict.delivered && sameList(c.ports, verdict.ports))) confirmed = false;
      }
    }
    if (!flow) continue;
    let hashPicks: string | null = null;
    if (path.lb !== null) hashPicks = hashChoice(concrete, opts.from, flow, path.ct);
    const sel = path.selects[0] ?? null;
    const selectHashPicks = sel === null ? null : selectChoice(concrete, opts.from, flow, path.ct, path.lb);
    classes.push({
      id: classes.length + 1,
      verdict,
      ct: path.ct,
      backend: path.lb,
      hashPicks,
      select: sel,
      selectHashPicks,
      header: formatCube(live[0]!.pos),
      cubes: live.length,
      excluded: live.reduce((n, t) => n + t.neg.length, 0),
      exact: path.approx === null,
      approx: path.approx,
      path: path.trail,
      witness: witnessMicroflow(opts.from, flow),
      confirmed,
    });
    terms.push(live);
  }
  const delivered = classes.filter((c) => c.verdict.delivered).length;
  return {
    doc: {
      schema: REACH_SCHEMA,
      from: opts.from,
      chassis: opts.chassis ?? null,
      classes,
      delivered,
      dropped: classes.length - delivered,
      confirmed: classes.filter((c) => c.confirmed === true).length,
      truncated: ex.truncated,
    },
    terms,
    concrete,
  };
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** The backend the datapath's select group hashes the witness to (no --lb-dst). */
function hashChoice(concrete: LogicalNetwork, inport: string, flow: Flow, ct: string | null): string | null {
  let chosen: string | null = null;
  concrete.traceFlow(undefined, inport, flow, {
    ct: ct === null ? [] : Array.from({ length: 64 }, () => ct),
    chooseBackend: (bs, mf) => {
      const i = hashBackend(bs, mf);
      if (chosen === null) chosen = backendText(bs[i]!);
      return i;
    },
  });
  return chosen;
}

/** The member the first select() of the witness's trace takes without --select-id (the hash's choice). */
function selectChoice(
  concrete: LogicalNetwork,
  inport: string,
  flow: Flow,
  ct: string | null,
  backend: string | null,
): number | null {
  const r = concrete.traceFlow(undefined, inport, flow, {
    ct: ct === null ? [] : Array.from({ length: 64 }, () => ct),
    ...(backend !== null ? { lbDst: backend } : {}),
  });
  const find = (nodes: readonly TraceNode[]): number | null => {
    for (const n of nodes) {
      const m = /^select: \S+ = (\d+)/.exec(n.text);
      if (m) return Number(m[1]);
      const k = find(n.children);
      if (k !== null) return k;
    }
    return null;
  };
  return find(r.tree);
}

/** Text: one block per class, delivered first. */
export function renderReachText(d: ReachDocument): string {
  const out = [
    `ovnsim reach: from ${d.from}${d.chassis ? ` on ${d.chassis}` : ""}: ${d.classes.length} classes, ${d.delivered} delivered, ${d.dropped} dropped; ${d.confirmed}/${d.classes.length} witnesses confirmed by the concrete trace${d.truncated ? " (TRUNCATED)" : ""}`,
    "",
  ];
  for (const c of d.classes) {
    const v = c.verdict;
    const branch = [
      c.ct !== null ? `ct_state=${formatCtState(parseCtOption(c.ct))}` : null,
      c.backend !== null
        ? `backend ${c.backend}${c.hashPicks !== null ? ` (hash picks ${c.hashPicks})` : ""}`
        : null,
      c.select !== null
        ? `select ${c.select}${c.selectHashPicks !== null ? ` (hash picks ${c.selectHashPicks})` : ""}`
        : null,
    ]
      .filter((x) => x !== null)
      .join(", ");
    out.push(
      `#${c.id} ${v.delivered ? `DELIVERED to ${v.ports.join(", ")}` : `DROPPED at ${v.droppedAt ?? "?"}: ${v.reason ?? "?"}`}${branch ? ` [${branch}]` : ""}${c.exact ? "" : ` (approximate: ${c.approx})`}`,
      `   headers: ${c.header}${c.cubes > 1 ? ` (and ${c.cubes - 1} more cube${c.cubes === 2 ? "" : "s"})` : ""}${c.excluded ? ` minus ${c.excluded} shadowing cube${c.excluded === 1 ? "" : "s"}` : ""}`,
      `   witness: ${c.witness}${c.confirmed === null ? "" : c.confirmed ? " (confirmed)" : " (NOT CONFIRMED)"}`,
    );
  }
  return `${out.join("\n")}\n`;
}

export function renderReachJson(d: ReachDocument): string {
  return `${JSON.stringify(d, null, 2)}\n`;
}

/** Options of `reach` on a scenario: `from` is a logical port or a pod (`NS/NAME`). */
export interface ScenarioReachOptions extends Omit<ReachOptions, "from" | "chassis"> {
  readonly from: string;
  /** Chassis to run on; default: the node of the pod behind `from` (as the tracer does). */
  readonly chassis?: string;
}

/** Symbolic reachability from a pod or logical port of a scenario (northd's flows, as the tracer compiles them). */
export function reach(s: Scenario, opts: ScenarioReachOptions): ReachRun {
  const pod = s.pods.find(
    (p) =>
      p.lsp === opts.from ||
      `${p.namespace}/${p.name}` === opts.from ||
      `pod/${p.namespace}/${p.name}` === opts.from,
  );
  const ovn = buildOvn(s);
  const from = pod ? pod.lsp : opts.from;
  const chassis = opts.chassis ?? pod?.node;
  const to = opts.to?.map((t) => {
    const q = s.pods.find((p) => `${p.namespace}/${p.name}` === t || `pod/${p.namespace}/${p.name}` === t);
    return q ? q.lsp : t;
  });
  if (!ovn.sb.ports.some((p) => p.name === from))
    throw new SimError(
      "UNKNOWN_PORT",
      `reach --from: no pod or logical port "${opts.from}" (pods: ${s.pods.map((p) => `${p.namespace}/${p.name}`).join(", ")})`,
    );
  return reachLogical(ovn.sb, {
    ovn: getProfile(ovn.profile)?.ovn ?? 23,
    ...opts,
    from,
    ...(chassis !== undefined ? { chassis } : {}),
    ...(to !== undefined ? { to } : {}),
  });
}

/**
 * `--ct` of `reach`: conntrack states to branch on, comma-separated, each one ovn-trace's
 * `--ct` flags joined by `|` ("new,est,est|rpl"). Duplicates are kept once, in order.
 */
export function parseCtList(text: string): string[] {
  const out: string[] = [];
  for (const raw of text.split(",")) {
    const w = raw.trim();
    if (w === "") throw new SimError("BAD_VALUE", `--ct: "${text}" has an empty state`);
    if (!/^[a-z|+]+$/.test(w))
      throw new SimError(
        "BAD_VALUE",
        `--ct: "${w}" is not conntrack state flags (new, est, rpl, rel, inv, …)`,
      );
    parseCtOption(w);
    if (!out.includes(w)) out.push(w);
  }
  return out;
}

/** Symbolic reachability on an ovn-nbctl command file compiled by northd for a profile. */
export function reachNbctl(text: string, file: string, profile: string, opts: ReachOptions): ReachRun {
  const p = getProfile(profile);
  if (!p) throw new SimError("BAD_VALUE", `--profile: "${profile}" is not a northd profile`);
  const db = parseNbctl(text, { file });
  return reachLogical(sbModelFromNb(db, northd(db, p)), { ovn: p.ovn, ...opts });
}
