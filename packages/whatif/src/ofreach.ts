/**
 * Symbolic (header-space) reachability through the OpenFlow bridges of one chassis: br-int as
 * ovn-controller programs it (@ovnsim/controller's flows and groups, the logical pipelines as
 * tables 8–33 / 40–52 and the physical tables around them) and the provider bridge behind its
 * localnet patch port. It follows ofproto-dpif-xlate the way `ofproto/trace` does, on a set of
 * packets: a union of ternary cubes over the flow key's words (HSA), split at each table by its
 * rules highest priority first (a conjunctive rule's match is its clauses' product), with each
 * word bit a constant or a bit of the packet as it entered (so `move` and the `push`/`pop`
 * register swaps stay exact). What ofproto/trace needs told becomes a branch: the conntrack
 * state each `ct(table=…)` recirculation resumes with, and each bucket of a select group (the
 * `ct_lb_mark` backends). Every class's witness is run through @ovnsim/openflow's concrete
 * xlate in its stateful mode (`--datapath openflow`: fresh conntrack, the class's state as
 * `--ct-next`) to confirm the bridge ports it leaves by.
 */
import { Conntrack } from "@ovnsim/conntrack";
import { selectBucket } from "@ovnsim/lb";
import {
  type Bridge,
  type FlowEntry,
  type Group,
  type OfAction,
  type Subfield,
  type Switch,
  parseFlowLine,
  traceFlow,
} from "@ovnsim/openflow";
import {
  CS,
  type FieldSpec,
  FLOW_WORDS,
  type Flow,
  OFPP,
  SimError,
  W,
  findField,
  keyToFlow,
  withFlow,
} from "@ovnsim/packet";
import type { Scenario } from "@ovnsim/kube";
import { podVethName } from "@ovnsim/kube";
import { type NodeOvs, createSimulation, replayOdp } from "@ovnsim/tracer";
import { type Stack as StackOf, nonEmpty, push as pushFrames, runPaths, splitBy } from "./explore.js";
import { type Cube, type Term, WORD_SLOT, contains, intersect, prng, termAnd, witness } from "./hs.js";

export const OF_REACH_SCHEMA = "ovnsim.ofreach/v1";

/** The conntrack states a recirculation can resume with (one per connection, as ct-next gives it). */
export const OF_CT_CHOICES = ["new", "est", "est|rpl", "rel", "inv"] as const;

const CONST0 = -1;
const CONST1 = -2;
const OPAQUE = -3;

/** Per key word, per bit: CONST0 / CONST1 / OPAQUE or `word * 32 + bit` of the entering packet. */
type Bits = readonly number[];
type OfState = readonly (Bits | undefined)[];

/** The words a packet brings in, and how many low bits of each its field uses. */
const HEADER_WORDS: readonly (readonly [number, number])[] = [
  [W.dl_src, 16],
  [W.dl_src + 1, 32],
  [W.dl_dst, 16],
  [W.dl_dst + 1, 32],
  [W.dl_type, 16],
  [W.nw_src, 32],
  [W.nw_dst, 32],
  ...[0, 1, 2, 3].map((i) => [W.ipv6_src + i, 32] as const),
  ...[0, 1, 2, 3].map((i) => [W.ipv6_dst + i, 32] as const),
  [W.ipv6_label, 20],
  [W.nw_proto, 8],
  [W.nw_tos, 8],
  [W.nw_ttl, 8],
  [W.nw_frag, 2],
  [W.arp_sha, 16],
  [W.arp_sha + 1, 32],
  [W.arp_tha, 16],
  [W.arp_tha + 1, 32],
  [W.tp_src, 16],
  [W.tp_dst, 16],
  [W.tcp_flags, 12],
  ...[0, 1, 2, 3].map((i) => [W.nd_target + i, 32] as const),
];
const HEADER_SET = new Set(HEADER_WORDS.map(([w]) => w));
export const OF_HEADER_SLOTS: readonly number[] = HEADER_WORDS.map(([w]) => WORD_SLOT + w);

const identity = (w: number): Bits => Array.from({ length: 32 }, (_, i) => w * 32 + i);
const bitsW = (st: OfState, w: number): Bits => st[w] ?? identity(w);
const constBits = (v: number): Bits =>
  Array.from({ length: 32 }, (_, i) => ((v >>> i) & 1 ? CONST1 : CONST0));

/** Where bit i (LSB first) of a field lives in the key: [word, bit]. */
function bitPos(spec: FieldSpec, i: number): readonly [number, number] {
  if (spec.bits <= 32) return [spec.word, spec.shift + i];
  const nw = Math.ceil(spec.bits / 32);
  return [spec.word + nw - 1 - Math.floor(i / 32), i % 32];
}

function readBits(st: OfState, spec: FieldSpec, ofs: number, n: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const [w, b] = bitPos(spec, ofs + i);
    out.push(bitsW(st, w)[b]!);
  }
  return out;
}

function writeBits(st: OfState, spec: FieldSpec, ofs: number, src: readonly number[]): OfState {
  const out = st.slice();
  const touched = new Map<number, number[]>();
  src.forEach((c, i) => {
    const [w, b] = bitPos(spec, ofs + i);
    let cur = touched.get(w);
    if (!cur) {
      cur = bitsW(out, w).slice();
      touched.set(w, cur);
    }
    cur[b] = c;
  });
  for (const [w, bits] of touched) out[w] = bits;
  return out;
}

function constSrc(v: bigint, n: number): number[] {
  return Array.from({ length: n }, (_, i) => ((v >> BigInt(i)) & 1n ? CONST1 : CONST0));
}

function setConst(st: OfState, spec: FieldSpec, v: bigint, mask: bigint | null): OfState {
  if (mask === null) return writeBits(st, spec, 0, constSrc(v, spec.bits));
  let out = st;
  for (let i = 0; i < spec.bits; i++)
    if ((mask >> BigInt(i)) & 1n) out = writeBits(out, spec, i, [(v >> BigInt(i)) & 1n ? CONST1 : CONST0]);
  return out;
}

const setWord = (st: OfState, w: number, v: number): OfState => {
  const out = st.slice();
  out[w] = constBits(v >>> 0);
  return out;
};

/** The constant value of a whole word, or null. */
function wordConst(st: OfState, w: number): number | null {
  const b = bitsW(st, w);
  let v = 0;
  for (let i = 0; i < 32; i++) {
    if (b[i] === CONST1) v |= 1 << i;
    else if (b[i] !== CONST0) return null;
  }
  return v >>> 0;
}

function fieldConst(st: OfState, sf: Subfield): bigint | null {
  const bits = readBits(st, sf.field, sf.ofs, sf.nBits);
  let v = 0n;
  for (let i = 0; i < bits.length; i++) {
    if (bits[i] === CONST1) v |= 1n << BigInt(i);
    else if (bits[i] !== CONST0) return null;
  }
  return v;
}

/** A cube over the current key words as a cube over the entering packet (null: it cannot hold). */
function translate(st: OfState, c: Cube): { cube: Cube | null; opaque: boolean } {
  const out = new Map<number, { v: bigint; m: bigint }>();
  let opaque = false;
  for (const [slot, { v, m }] of c) {
    const w = slot - WORD_SLOT;
    const bits = bitsW(st, w);
    for (let i = 0; i < 32; i++) {
      const bit = 1n << BigInt(i);
      if (!(m & bit)) continue;
      const want = (v & bit) !== 0n;
      const cb = bits[i]!;
      if (cb === CONST0 || cb === CONST1) {
        if ((cb === CONST1) !== want) return { cube: null, opaque };
        continue;
      }
      if (cb === OPAQUE) {
        opaque = true;
        continue;
      }
      const s = WORD_SLOT + (cb >> 5);
      const b = 1n << BigInt(cb & 31);
      const cur = out.get(s) ?? { v: 0n, m: 0n };
      if (cur.m & b && ((cur.v & b) !== 0n) !== want) return { cube: null, opaque };
      out.set(s, { v: want ? cur.v | b : cur.v & ~b, m: cur.m | b });
    }
  }
  return { cube: out, opaque };
}

/** A rule's match as a cube over key words. */
function ruleCube(e: FlowEntry): Cube {
  const c = new Map<number, { v: bigint; m: bigint }>();
  const { value, mask } = e.words;
  for (let w = 0; w < FLOW_WORDS; w++) {
    const m = mask[w]!;
    if (m !== 0) c.set(WORD_SLOT + w, { v: BigInt((value[w]! & m) >>> 0), m: BigInt(m >>> 0) });
  }
  return c;
}

// ---------------------------------------------------------------------------------------------
// Tables compiled for symbolic lookups.

interface SRule {
  readonly entry: FlowEntry;
  /** Cubes whose union is the rule's effective match (one for a plain rule). */
  readonly cubes: readonly Cube[];
}

const MAX_CONJ_CUBES = 4096;

function compileTable(rules: readonly FlowEntry[]): SRule[] {
  const plain: SRule[] = [];
  // conjunction(id, k/n) clauses by id; the conj_id=id rule takes what completes them all.
  const clauses = new Map<number, Cube[][]>();
  const conjRules: FlowEntry[] = [];
  for (const e of rules) {
    if (e.conjId !== undefined) {
      conjRules.push(e);
      continue;
    }
    const conj = e.actions.filter(
      (a): a is Extract<OfAction, { kind: "conjunction" }> => a.kind === "conjunction",
    );
    if (conj.length > 0 && conj.length === e.actions.length) {
      for (const a of conj) {
        let cl = clauses.get(a.id);
        if (!cl) {
          cl = Array.from({ length: a.nClauses }, () => []);
          clauses.set(a.id, cl);
        }
        cl[a.clause]?.push(ruleCube(e));
      }
      continue;
    }
    plain.push({ entry: e, cubes: [ruleCube(e)] });
  }
  for (const e of conjRules) {
    let acc: Cube[] = [ruleCube(e)];
    for (const cl of clauses.get(e.conjId!) ?? [[]]) {
      const next: Cube[] = [];
      for (const a of acc)
        for (const b of cl) {
          const k = intersect(a, b);
          if (k) next.push(k);
        }
      acc = next.slice(0, MAX_CONJ_CUBES);
    }
    plain.push({ entry: e, cubes: acc });
  }
  return plain.sort((a, b) => b.entry.priority - a.entry.priority);
}

// ---------------------------------------------------------------------------------------------
// Paths.

type Frame =
  | { readonly k: "T"; readonly br: Bridge; readonly table: number }
  | {
      readonly k: "A";
      readonly br: Bridge;
      readonly acts: readonly OfAction[];
      readonly i: number;
      readonly table: number;
      /**
       * The translation depth these actions run at: a resubmit nests one deeper and returns to
       * it (ofproto-dpif-xlate's ctx->depth, limited to 64), so a multicast group's members each
       * start from the depth of the flow that outputs them, not from the sum of the others'.
       */
      readonly depth: number;
    }
  /** Restore the key after a patch crossing or a clone. */
  | { readonly k: "R"; readonly st: OfState };

type Stack = StackOf<Frame>;

const push = (s: Stack | null, ...fs: Frame[]): Stack | null => pushFrames(s, ...fs);

interface OPath {
  readonly term: Term;
  readonly st: OfState;
  readonly stack: Stack | null;
  readonly approx: string | null;
  readonly trail: readonly string[];
  readonly exits: readonly string[];
  readonly ct: string | null;
  readonly backend: string | null;
  readonly buckets: readonly number[];
  /** The select group of each of `buckets` (to look for a witness that hashes to it). */
  readonly groups: readonly Group[];
  readonly last: string;
  readonly reason: string | null;
  readonly regStack: readonly (readonly number[])[];
  readonly depth: number;
  readonly cookies: readonly bigint[];
}

function split(p: OPath, cubes: readonly Cube[]): { yes: OPath[]; no: OPath | null } {
  return splitBy(p, cubes, translate, "a match reads a field cubes cannot follow");
}

const eqWord = (w: number, v: number, m: number): Cube =>
  new Map([[WORD_SLOT + w, { v: BigInt(v >>> 0), m: BigInt(m >>> 0) }]]);

/** Patch ports across the switch: bridge/port → the peer bridge and its ofport. */
function patchPeer(sw: Switch, br: Bridge, port: number): { br: Bridge; ofport: number } | null {
  const p = br.ports.get(port);
  if (p?.type !== "patch" || !p.peer) return null;
  for (const b of sw.bridges.values()) {
    const q = b.portByName(p.peer);
    if (q) return { br: b, ofport: q.ofport };
  }
  return null;
}

const MAX_DEPTH = 64;

class OfExplorer {
  readonly leaves: OPath[] = [];
  truncated = false;
  private readonly tables = new Map<string, SRule[]>();

  constructor(
    readonly sw: Switch,
    readonly ctStates: readonly string[],
    readonly max: number,
  ) {}

  run(start: OPath): void {
    this.truncated = runPaths(
      start,
      (p) => this.step(p),
      (p) => this.leaves.push(p),
      () => this.leaves.length,
      this.max,
    );
  }

  private rules(br: Bridge, table: number): SRule[] {
    const k = `${br.name}/${table}`;
    let t = this.tables.get(k);
    if (!t) {
      t = compileTable(br.table(table)?.rules() ?? []);
      this.tables.set(k, t);
    }
    return t;
  }

  private step(p: OPath): OPath[] {
    const fr = p.stack!.f;
    const rest = p.stack!.next;
    switch (fr.k) {
      case "R":
        return [{ ...p, st: fr.st, stack: rest }];
      case "T":
        return this.lookup({ ...p, stack: rest }, fr.br, fr.table);
      case "A": {
        if (fr.i >= fr.acts.length) return [{ ...p, stack: rest }];
        const cont = fr.i + 1 < fr.acts.length ? push(rest, { ...fr, i: fr.i + 1 }) : rest;
        return this.action(fr.acts[fr.i]!, { ...p, depth: fr.depth, stack: cont }, fr.br, fr.table);
      }
    }
  }

  private lookup(p: OPath, br: Bridge, table: number): OPath[] {
    if (p.depth >= MAX_DEPTH) return [{ ...p, stack: null, reason: "too many resubmits (64)" }];
    const out: OPath[] = [];
    let remaining: OPath | null = { ...p, depth: p.depth + 1 };
    for (const r of this.rules(br, table)) {
      if (!remaining) break;
      const { yes, no } = split(remaining, r.cubes);
      const here = `${br.name} table ${table} priority ${r.entry.priority}`;
      for (const y of yes)
        out.push({
          ...y,
          trail: [...y.trail, here],
          last: here,
          cookies: [...y.cookies, r.entry.cookie],
          stack: push(y.stack, { k: "A", br, acts: r.entry.actions, i: 0, table, depth: y.depth }),
        });
      remaining = no;
    }
    if (remaining) {
      const here = `${br.name} table ${table}: no match (drop)`;
      out.push({ ...remaining, trail: [...remaining.trail, here], last: here });
    }
    return out;
  }

  /** Each conntrack state the path can resume with (one per connection). */
  private states(p: OPath): { p: OPath; bits: number }[] {
    const bitsOf = (c: string) => c.split("|").reduce<number>((n, f) => n | CS[f as keyof typeof CS], 0);
    if (p.ct !== null) return [{ p, bits: bitsOf(p.ct) }];
    return this.ctStates.map((c) => ({ p: { ...p, ct: c }, bits: bitsOf(c) }));
  }

  private action(a: OfAction, p: OPath, br: Bridge, table: number): OPath[] {
    switch (a.kind) {
      case "resubmit": {
        let st = p.st;
        let stack = p.stack;
        if (a.port !== null && a.port !== OFPP.IN_PORT) {
          stack = push(stack, { k: "R", st: setWord(p.st, W.in_port, wordConst(p.st, W.in_port) ?? 0) });
          st = setWord(st, W.in_port, a.port);
        }
        return [{ ...p, st, stack: push(stack, { k: "T", br, table: a.table ?? table }) }];
      }
      case "goto_table":
        return [{ ...p, stack: push(p.stack, { k: "T", br, table: a.table }) }];
      case "set_field":
        return [{ ...p, st: setConst(p.st, a.field, a.value, a.mask) }];
      case "write_metadata": {
        const f = findField("metadata")!;
        return [{ ...p, st: setConst(p.st, f, a.value, a.mask) }];
      }
      case "move":
        return [
          {
            ...p,
            st: writeBits(p.st, a.dst.field, a.dst.ofs, readBits(p.st, a.src.field, a.src.ofs, a.src.nBits)),
          },
        ];
      case "stack_push":
        return [{ ...p, regStack: [...p.regStack, readBits(p.st, a.sf.field, a.sf.ofs, a.sf.nBits)] }];
      case "stack_pop": {
        const top = p.regStack[p.regStack.length - 1];
        if (!top) return [{ ...p, stack: null, reason: "stack_pop on an empty stack" }];
        return [
          {
            ...p,
            regStack: p.regStack.slice(0, -1),
            st: writeBits(p.st, a.sf.field, a.sf.ofs, top.slice(0, a.sf.nBits)),
          },
        ];
      }
      case "set_eth":
        return [
          {
            ...p,
            st: setConst(p.st, findField(a.which === "src" ? "dl_src" : "dl_dst")!, BigInt(a.mac), null),
          },
        ];
      case "set_ipv4":
        return [
          {
            ...p,
            st: setConst(p.st, findField(a.which === "src" ? "nw_src" : "nw_dst")!, BigInt(a.ip >>> 0), null),
          },
        ];
      case "set_l4":
        return [
          {
            ...p,
            st: setConst(p.st, findField(a.which === "src" ? "tp_src" : "tp_dst")!, BigInt(a.port), null),
          },
        ];
      case "set_ip_ttl":
        return [{ ...p, st: writeBits(p.st, findField("nw_ttl")!, 0, constSrc(BigInt(a.ttl), 8)) }];
      case "set_ip_dscp":
        return [{ ...p, st: writeBits(p.st, findField("nw_tos")!, 0, constSrc(BigInt(a.tos), 8)) }];
      case "pop_vlan": {
        const st = p.st.slice();
        st[W.vlan0] = bitsW(p.st, W.vlan1);
        st[W.vlan1] = constBits(0);
        return [{ ...p, st }];
      }
      case "push_vlan": {
        const st = p.st.slice();
        st[W.vlan1] = bitsW(p.st, W.vlan0);
        st[W.vlan0] = constBits(((a.tpid << 16) | 0x1000) >>> 0);
        return [{ ...p, st }];
      }
      case "set_vlan_vid": {
        const cur = wordConst(p.st, W.vlan0);
        const base = cur !== null && cur & 0x1000 ? cur : a.push ? 0x81001000 : null;
        if (base === null) return [p];
        return [{ ...p, st: setWord(p.st, W.vlan0, ((base & ~0xfff) | a.vid) >>> 0) }];
      }
      case "dec_ttl":
        return this.decTtl(p);
      case "ct_clear": {
        let st = p.st;
        for (const w of [
          W.ct_state,
          W.ct_zone,
          W.ct_mark,
          W.ct_nw_src,
          W.ct_nw_dst,
          W.ct_nw_proto,
          W.ct_tp_src,
          W.ct_tp_dst,
        ])
          st = setWord(st, w, 0);
        for (let i = 0; i < 4; i++)
          st = setWord(setWord(setWord(st, W.ct_label + i, 0), W.ct_ipv6_src + i, 0), W.ct_ipv6_dst + i, 0);
        return [{ ...p, st }];
      }
      case "ct":
        return this.ct(a, p, br);
      case "group":
        return this.group(a.id, p, br, table);
      case "clone":
        return [
          {
            ...p,
            stack: push(
              p.stack,
              { k: "A", br, acts: a.actions, i: 0, table, depth: p.depth },
              { k: "R", st: p.st },
            ),
          },
        ];
      case "output":
        return this.output(a.port, p, br);
      case "output_reg": {
        const v = fieldConst(p.st, a.src);
        if (v === null) return [{ ...p, approx: p.approx ?? "output_reg from a packet field" }];
        return this.output(Number(v), p, br);
      }
      case "controller":
        return [
          { ...p, stack: null, reason: `sent to the controller (${a.text || "packet-in"})`, last: p.last },
        ];
      case "exit":
        return [{ ...p, stack: null }];
      case "check_pkt_larger":
        // ofproto/trace has no packet length: never larger.
        return [{ ...p, st: writeBits(p.st, a.dst.field, a.dst.ofs, [CONST0]) }];
      case "learn":
      case "note":
      case "meter":
      case "sample":
      case "set_queue":
      case "pop_queue":
      case "fin_timeout":
      case "conjunction":
        return [p];
      default:
        return [{ ...p, approx: p.approx ?? `action ${a.kind} is not followed symbolically` }];
    }
  }

  /** dec_ttl: TTL ≤ 1 goes to the controller; else TTL-1, exactly (split on the lowest set bit). */
  private decTtl(p: OPath): OPath[] {
    const out: OPath[] = [];
    const ttl = findField("nw_ttl")!;
    const cur = readBits(p.st, ttl, 0, 8);
    const { yes: low, no } = split(p, [translateBack(W.nw_ttl, 0, 0xfe)]);
    for (const y of low)
      out.push({ ...y, stack: null, reason: "dec_ttl: TTL 0 or 1 (invalid_ttl to the controller)" });
    if (!no) return out;
    for (let k = 0; k < 8; k++) {
      const lowMask = (1 << (k + 1)) - 1;
      // TTL with lowest set bit k, and not 1.
      const cube = eqWord(W.nw_ttl, 1 << k, lowMask);
      const { yes } = split(no, [cube]);
      for (const y of yes) {
        if (k === 0) {
          // TTL odd and > 1: bit 0 becomes 0.
          out.push({ ...y, st: writeBits(y.st, ttl, 0, [CONST0, ...cur.slice(1)]) });
          continue;
        }
        const nb = cur.map((b, i) => (i < k ? CONST1 : i === k ? CONST0 : b));
        out.push({ ...y, st: writeBits(y.st, ttl, 0, nb) });
      }
    }
    return out;
  }

  private ct(a: Extract<OfAction, { kind: "ct" }>, p: OPath, br: Bridge): OPath[] {
    const zone = typeof a.zone === "number" ? BigInt(a.zone) : fieldConst(p.st, a.zone);
    const nat = a.actions.find((x): x is Extract<OfAction, { kind: "nat" }> => x.kind === "nat")?.nat ?? null;
    const out: OPath[] = [];
    for (const { p: q, bits } of this.states(p)) {
      let st = q.st;
      // The original direction's tuple, as conntrack reports it (before this ct's NAT).
      const copy = (to: number, from: number) => {
        const s2 = st.slice();
        s2[to] = bitsW(st, from);
        st = s2;
      };
      copy(W.ct_nw_src, W.nw_src);
      copy(W.ct_nw_dst, W.nw_dst);
      copy(W.ct_nw_proto, W.nw_proto);
      copy(W.ct_tp_src, W.tp_src);
      copy(W.ct_tp_dst, W.tp_dst);
      let state = bits | CS.trk;
      const isNew = (bits & CS.new) !== 0;
      if (nat && nat.kind !== "none" && isNew && nat.af === "ipv4") {
        const f = findField(nat.kind === "dst" ? "nw_dst" : "nw_src")!;
        st = setConst(st, f, nat.addrMin, null);
        if (nat.portMin !== 0)
          st = setConst(st, findField(nat.kind === "dst" ? "tp_dst" : "tp_src")!, BigInt(nat.portMin), null);
        state |= nat.kind === "dst" ? CS.dnat : CS.snat;
      }
      // exec(set_field:…->ct_mark / ct_label) on a commit: what conntrack will report next time.
      for (const x of a.actions)
        if (x.kind === "set_field" && a.commit) st = setConst(st, x.field, x.value, x.mask);
      if (a.table === null) {
        out.push({ ...q, st });
        continue;
      }
      st = setWord(st, W.ct_state, state);
      if (zone !== null) st = setWord(st, W.ct_zone, Number(zone));
      // The recirculation: a new pass from table N; the frozen continuation (OVN leaves none).
      out.push({ ...q, st, stack: push(null, { k: "T", br, table: a.table }), depth: 0 });
    }
    return out;
  }

  private group(id: number, p: OPath, br: Bridge, table: number): OPath[] {
    const g = br.groups.get(id);
    if (!g) return [{ ...p, stack: null, reason: `group ${id} does not exist` }];
    if (g.type === "select") {
      return g.buckets.map((b) => {
        const nat = findNat(b.actions);
        return {
          ...p,
          buckets: [...p.buckets, b.id],
          groups: [...p.groups, g],
          backend: p.backend ?? nat,
          stack: push(p.stack, { k: "A", br, acts: b.actions, i: 0, table, depth: p.depth }),
        };
      });
    }
    const buckets = g.type === "all" ? g.buckets : g.buckets.slice(0, 1);
    const frames: Frame[] = [];
    for (const b of buckets)
      frames.push({ k: "A", br, acts: b.actions, i: 0, table, depth: p.depth }, { k: "R", st: p.st });
    return [{ ...p, stack: push(p.stack, ...frames) }];
  }

  private output(port: number, p: OPath, br: Bridge): OPath[] {
    const inPort = wordConst(p.st, W.in_port);
    if (port === OFPP.IN_PORT) port = inPort ?? port;
    else if (port === inPort) return [p]; // OVS skips output to the input port
    if (port === OFPP.NORMAL || port === OFPP.FLOOD || port === OFPP.ALL) {
      // NORMAL with an empty MAC table floods (as the concrete trace without fdb/show).
      const frames: Frame[] = [];
      for (const q of [...br.ports.values()].sort((x, y) => x.ofport - y.ofport))
        if (q.ofport !== inPort)
          frames.push({
            k: "A",
            br,
            acts: [{ kind: "output", port: q.ofport }],
            i: 0,
            table: 0,
            depth: p.depth,
          });
      return [{ ...p, stack: push(p.stack, ...frames) }];
    }
    const peer = patchPeer(this.sw, br, port);
    if (peer) {
      let st = setWord(p.st, W.in_port, peer.ofport);
      for (let i = 0; i < 16; i++) st = setWord(st, W.reg0 + i, 0);
      st = setWord(setWord(st, W.metadata, 0), W.metadata + 1, 0);
      for (const w of [W.ct_state, W.ct_zone, W.ct_mark]) st = setWord(st, w, 0);
      return [{ ...p, st, stack: push(p.stack, { k: "T", br: peer.br, table: 0 }, { k: "R", st: p.st }) }];
    }
    const q = br.ports.get(port);
    if (!q) return [p];
    return [{ ...p, exits: [...p.exits, `${br.name}/${q.name}`] }];
  }
}

function translateBack(w: number, v: number, m: number): Cube {
  return eqWord(w, v, m);
}

function findNat(acts: readonly OfAction[]): string | null {
  for (const a of acts) {
    if (a.kind === "ct") {
      const n = a.actions.find((x): x is Extract<OfAction, { kind: "nat" }> => x.kind === "nat")?.nat;
      if (n && n.kind === "dst" && n.af === "ipv4") {
        const ip = Number(n.addrMin);
        const txt = [24, 16, 8, 0].map((s) => (ip >>> s) & 255).join(".");
        return n.portMin ? `${txt}:${n.portMin}` : txt;
      }
    }
  }
  return null;
}

// ---------------------------------------------------------------------------------------------
// The API.

export interface OfReachVerdict {
  readonly delivered: boolean;
  /** Bridge ports the packet leaves by ("br-int/7ead2ee9dc21_h", "br-provider/underlay0"), sorted. */
  readonly exits: readonly string[];
  /** For a dropped class: the last rule it met ("br-int table 44 priority 2001"). */
  readonly droppedAt: string | null;
  readonly reason: string | null;
}

export interface OfReachClass {
  readonly id: number;
  readonly verdict: OfReachVerdict;
  readonly ct: string | null;
  /** The select group bucket(s) taken, in order, and the DNAT backend of the first. */
  readonly buckets: readonly number[];
  readonly backend: string | null;
  readonly header: string;
  readonly cubes: number;
  readonly exact: boolean;
  readonly approx: string | null;
  /** The rules hit, in order ("br-int table 8 priority 50"). */
  readonly path: readonly string[];
  /** The OVN rows behind the last rule's cookie (ovn-detrace), when known. */
  readonly logical: readonly string[];
  /** A packet of the class as an ofproto/trace flow. */
  readonly witness: string;
  readonly confirmed: boolean | null;
}

export interface OfReachDocument {
  readonly schema: typeof OF_REACH_SCHEMA;
  readonly from: string;
  readonly chassis: string;
  readonly bridge: string;
  readonly inPort: string;
  readonly classes: readonly OfReachClass[];
  readonly delivered: number;
  readonly dropped: number;
  readonly confirmed: number;
  readonly truncated: boolean;
}

export interface OfReachRun {
  readonly doc: OfReachDocument;
  readonly terms: readonly (readonly Term[])[];
  /** The concrete verdict of a packet of class i (for tests drawing more members). */
  readonly check: (i: number, flow: Flow) => boolean;
  readonly flowOf: (point: ReadonlyMap<number, bigint>) => Flow;
}

export interface OfReachOptions {
  /** A pod ("ns/name" or "name") whose veth the packets enter br-int by. */
  readonly from: string;
  /** Only classes leaving by a port whose name contains one of these. */
  readonly to?: readonly string[];
  /** Restricting the entering headers: `ovs-ofctl` match syntax ("tcp,nw_dst=10.0.0.5,tp_dst=80"). */
  readonly match?: string;
  readonly ctStates?: readonly string[];
  readonly maxClasses?: number;
  readonly confirm?: boolean;
}

function verdictOf(p: OPath): OfReachVerdict {
  const exits = [...new Set(p.exits)].sort();
  if (exits.length > 0) return { delivered: true, exits, droppedAt: null, reason: null };
  return {
    delivered: false,
    exits: [],
    droppedAt: p.last || null,
    reason:
      p.reason ?? (/no match/.test(p.last) ? "no rule matches (table miss: drop)" : "no rule outputs it"),
  };
}

/** Bridge ports the concrete trace's datapath actions output to, sorted. */
function concreteExits(o: NodeOvs, flow: Flow, ct: string | null): string[] {
  const bits =
    ct === null ? null : ct.split("|").reduce<number>((n, f) => n | CS[f as keyof typeof CS], CS.trk);
  const r = traceFlow(o.sw, "br-int", flow, {
    conntrack: Conntrack.empty(),
    ...(bits !== null && ct !== "new" ? { ctNext: Array.from({ length: 16 }, () => bits) } : {}),
  });
  const out = new Set<string>();
  for (const pass of r.passes) {
    if (!pass.datapathActions || pass.datapathActions === "drop") continue;
    for (const e of replayOdp(o, pass.datapathActions, pass.packets?.start ?? flow))
      out.add(`${e.bridge}/${e.port}`);
    for (const m of pass.datapathActions.matchAll(/tnl_port\((\d+)\)/g)) {
      const port = o.dpPorts.get(Number(m[1]));
      if (port) out.add(`${port.bridge}/${port.port}`);
    }
  }
  return [...out].sort();
}

/**
 * A class resumed as a new connection starts one: a TCP member with no flags is what conntrack
 * calls invalid (OVS conntrack-tcp.c `tcp_invalid_flags`), so its witness carries a SYN when
 * the class allows one.
 */
function newConnection(t: Term, pt: Map<number, bigint>, ct: string | null): Map<number, bigint> {
  if (ct !== "new" || pt.get(WORD_SLOT + W.nw_proto) !== 6n) return pt;
  const syn = new Map(pt);
  syn.set(WORD_SLOT + W.tcp_flags, 0x002n);
  return contains(t, syn) ? syn : pt;
}

/**
 * The bucket id a dp_hash (or default) select group gives a packet entering with this header, as
 * the concrete xlate picks it; undefined for a `fields(...)` hash group (left to the trace).
 */
function bucketOf(g: Group, f: Flow): number | undefined {
  if (g.method === "hash") return undefined;
  return selectBucket(
    {
      method: g.method === "dp_hash" ? "dp_hash" : "",
      param: g.methodParam,
      buckets: g.buckets.map((b) => ({ bucketId: b.id, weight: b.weight, live: true })),
    },
    f,
  ).bucketId;
}

function formatPoint(f: Flow): string {
  const mac = (m: number) =>
    Array.from({ length: 6 }, (_, i) => ((m / 2 ** (8 * (5 - i))) & 255).toString(16).padStart(2, "0")).join(
      ":",
    );
  const ip = (x: number) => [24, 16, 8, 0].map((s) => (x >>> s) & 255).join(".");
  const parts = [
    `in_port=${f.in_port}`,
    `dl_src=${mac(f.dl_src)}`,
    `dl_dst=${mac(f.dl_dst)}`,
    `dl_type=0x${f.dl_type.toString(16).padStart(4, "0")}`,
  ];
  if (f.dl_type === 0x800 || f.dl_type === 0x806)
    parts.push(`nw_src=${ip(f.nw_src)}`, `nw_dst=${ip(f.nw_dst)}`, `nw_proto=${f.nw_proto}`);
  if (f.dl_type === 0x800) parts.push(`nw_ttl=${f.nw_ttl}`, `tp_src=${f.tp_src}`, `tp_dst=${f.tp_dst}`);
  return parts.join(",");
}

function formatWordCube(c: Cube): string {
  const names: [string, number][] = [
    ["dl_type", W.dl_type],
    ["nw_src", W.nw_src],
    ["nw_dst", W.nw_dst],
    ["nw_proto", W.nw_proto],
    ["nw_ttl", W.nw_ttl],
    ["tp_src", W.tp_src],
    ["tp_dst", W.tp_dst],
  ];
  const parts: string[] = [];
  for (const [n, w] of names) {
    const x = c.get(WORD_SLOT + w);
    if (!x || x.m === 0n) continue;
    const full =
      n === "nw_src" || n === "nw_dst" ? 0xffffffffn : n === "nw_proto" || n === "nw_ttl" ? 0xffn : 0xffffn;
    if ((x.m & full) === 0n) continue;
    const v =
      n === "nw_src" || n === "nw_dst"
        ? [24, 16, 8, 0].map((s) => Number((x.v >> BigInt(s)) & 255n)).join(".")
        : n === "dl_type"
          ? `0x${x.v.toString(16).padStart(4, "0")}`
          : String(x.v);
    parts.push((x.m & full) === full ? `${n}=${v}` : `${n}=${v}/0x${(x.m & full).toString(16)}`);
  }
  const other = [...c.keys()].filter((s) => !names.some(([, w]) => WORD_SLOT + w === s)).length;
  return (parts.join(",") || "any") + (other > 0 ? ` (+${other} more words)` : "");
}

/** The entering-packet constraints: unused high bits of header words are 0. */
function startCube(): Cube {
  const c = new Map<number, { v: bigint; m: bigint }>();
  for (const [w, n] of HEADER_WORDS)
    if (n < 32) c.set(WORD_SLOT + w, { v: 0n, m: (0xffffffffn >> BigInt(n)) << BigInt(n) });
  return c;
}

/** Symbolic reachability from a pod through its chassis's OpenFlow bridges (br-int, br-provider). */
export function reachOpenflow(s: Scenario, opts: OfReachOptions): OfReachRun {
  const pod = s.pods.find(
    (p) => `${p.namespace}/${p.name}` === opts.from || p.name === opts.from || p.lsp === opts.from,
  );
  if (!pod) throw new SimError("UNKNOWN_PORT", `reach --datapath openflow --from: no pod "${opts.from}"`);
  const sim = createSimulation(s, { datapath: "openflow" });
  const o = sim.ovs.get(pod.node);
  const brInt = o?.sw.bridges.get("br-int");
  const veth = podVethName(pod);
  const port = brInt?.portByName(veth);
  if (!o || !brInt || !port)
    throw new SimError("UNKNOWN_PORT", `reach: no br-int port ${veth} on ${pod.node}`);
  const consts: (Bits | undefined)[] = Array.from({ length: FLOW_WORDS }, (_, w) =>
    HEADER_SET.has(w) ? undefined : constBits(0),
  );
  consts[W.in_port] = constBits(port.ofport);
  const st: OfState = consts;
  let term: Term = { pos: startCube(), neg: [] };
  if (opts.match !== undefined) {
    const m = matchCube(opts.match);
    const k = termAnd(term, m);
    if (!k) throw new SimError("BAD_VALUE", `reach --match: ${opts.match} contradicts itself`);
    term = k;
  }
  const ex = new OfExplorer(o.sw, opts.ctStates ?? OF_CT_CHOICES, opts.maxClasses ?? 50_000);
  for (const c of opts.ctStates ?? [])
    if (!/^[a-z|]+$/.test(c) || c.split("|").some((f) => !(f in CS)))
      throw new SimError("BAD_VALUE", `reach --ct: unknown conntrack state "${c}"`);
  ex.run({
    term,
    st,
    stack: push(null, { k: "T", br: brInt, table: 0 }),
    approx: null,
    trail: [],
    exits: [],
    ct: null,
    backend: null,
    buckets: [],
    groups: [],
    last: "",
    reason: null,
    regStack: [],
    depth: 0,
    cookies: [],
  });
  const flowOf = (pt: ReadonlyMap<number, bigint>): Flow => {
    const key = new Uint32Array(FLOW_WORDS);
    for (const [slot, v] of pt) if (slot >= WORD_SLOT) key[slot - WORD_SLOT] = Number(v & 0xffffffffn);
    return withFlow(keyToFlow(key), { in_port: port.ofport });
  };
  const confirm = opts.confirm ?? true;
  // --to: a pod stands for its veth on its chassis's br-int.
  const to = opts.to?.map((t) => {
    const q = s.pods.find((x) => `${x.namespace}/${x.name}` === t || x.name === t || x.lsp === t);
    return q ? podVethName(q) : t;
  });
  const groups = new Map<string, OPath[]>();
  for (const path of ex.leaves) {
    const v = verdictOf(path);
    if (to && !v.exits.some((e) => to.some((t) => e.includes(t)))) continue;
    const k = JSON.stringify([v, path.ct, path.buckets, path.trail, path.approx]);
    const g = groups.get(k);
    if (g) g.push(path);
    else groups.set(k, [path]);
  }
  const classes: OfReachClass[] = [];
  const terms: (readonly Term[])[] = [];
  const checks: { ct: string | null; v: OfReachVerdict }[] = [];
  const same = (a: readonly string[], b: readonly string[]) =>
    a.length === b.length && a.every((x, i) => x === b[i]);
  const detrace = sim.brInt?.detrace;
  for (const paths of groups.values()) {
    const path = paths[0]!;
    const verdict = verdictOf(path);
    const live: Term[] = [];
    for (const q of paths) if (nonEmpty(q.term)) live.push(q.term);
    if (live.length === 0) continue;
    // A select group's bucket is the datapath's hash: look for a member that hashes to it.
    const rand = prng(classes.length + 1);
    let flow: Flow | null = null;
    let confirmed: boolean | null = confirm ? false : null;
    const tries = path.buckets.length > 0 ? 48 : 1;
    for (let i = 0; i < tries && confirmed !== true; i++) {
      const t = live[i % live.length]!;
      const pt = witness(t, OF_HEADER_SLOTS, i === 0 ? undefined : rand);
      if (!pt || !contains(t, pt)) continue;
      const f = flowOf(newConnection(t, pt, path.ct));
      flow ??= f;
      if (!confirm) break;
      if (same(concreteExits(o, f, path.ct), verdict.exits)) {
        flow = f;
        confirmed = true;
      }
    }
    // With a hundred backends, random members rarely hash to the class's bucket: walk the
    // source port (the free part of the L4 hash) to members the group's own hash sends there.
    if (confirm && confirmed !== true && path.buckets.length > 0) {
      const t = live[0]!;
      const base = witness(t, OF_HEADER_SLOTS);
      let runs = 0;
      for (let sp = 1; base && sp < 65536 && runs < 8 && confirmed !== true; sp++) {
        const pt = new Map(base);
        pt.set(WORD_SLOT + W.tp_src, BigInt(sp));
        const cand = newConnection(t, pt, path.ct);
        if (!contains(t, cand)) continue;
        const f = flowOf(cand);
        if (!path.groups.every((g, j) => g.method === "hash" || bucketOf(g, f) === path.buckets[j])) continue;
        runs++;
        if (same(concreteExits(o, f, path.ct), verdict.exits)) {
          flow = f;
          confirmed = true;
        }
      }
    }
    if (!flow) continue;
    const last = path.cookies[path.cookies.length - 1];
    const logical =
      !verdict.delivered && detrace && last !== undefined
        ? detrace
            .lookup(last)
            .map((r) =>
              r.table === "Logical_Flow"
                ? `${r.stage} priority ${r.priority}: ${r.match}`
                : `${r.table} ${r.logicalPort ?? r.group ?? ""}`,
            )
        : [];
    classes.push({
      id: classes.length + 1,
      verdict,
      ct: path.ct,
      buckets: path.buckets,
      backend: path.backend,
      header: formatWordCube(live[0]!.pos),
      cubes: live.length,
      exact: path.approx === null,
      approx: path.approx,
      path: path.trail,
      logical,
      witness: formatPoint(flow),
      confirmed,
    });
    terms.push(live);
    checks.push({ ct: path.ct, v: verdict });
  }
  const delivered = classes.filter((c) => c.verdict.delivered).length;
  return {
    doc: {
      schema: OF_REACH_SCHEMA,
      from: opts.from,
      chassis: pod.node,
      bridge: "br-int",
      inPort: veth,
      classes,
      delivered,
      dropped: classes.length - delivered,
      confirmed: classes.filter((c) => c.confirmed === true).length,
      truncated: ex.truncated,
    },
    terms,
    check: (i, f) => same(concreteExits(o, f, checks[i]!.ct), checks[i]!.v.exits),
    flowOf,
  };
}

/** An `ovs-ofctl` match ("tcp,nw_dst=10.180.204.252,tp_dst=80") as a cube over key words. */
export function matchCube(text: string): Cube {
  // parseFlowLine reads a whole rule; give it the match with a no-op action.
  const e = parseRuleMatch(text);
  return ruleCube(e);
}

function parseRuleMatch(text: string): FlowEntry {
  if (/actions\s*=/.test(text)) throw new SimError("BAD_VALUE", `reach --match: give a match, not actions`);
  return parseFlowLine(`${text.trim() === "" ? "" : `${text},`}actions=drop`.replace(/^,/, ""));
}

export function renderOfReachText(d: OfReachDocument): string {
  const lines = [
    `ovnsim reach --datapath openflow: from ${d.from} (${d.bridge} port ${d.inPort} on ${d.chassis}): ${d.classes.length} classes, ${d.delivered} delivered, ${d.dropped} dropped; ${d.confirmed}/${d.classes.length} witnesses confirmed by the concrete OpenFlow trace${d.truncated ? " (truncated)" : ""}`,
    "",
  ];
  for (const c of d.classes) {
    const br = [
      c.ct !== null ? `ct_state=${c.ct}|trk` : "",
      c.buckets.length > 0 ? `bucket ${c.buckets.join(",")}${c.backend ? ` (${c.backend})` : ""}` : "",
    ]
      .filter(Boolean)
      .join(", ");
    const head = c.verdict.delivered
      ? `#${c.id} OUT ${c.verdict.exits.join(", ")}`
      : `#${c.id} DROPPED at ${c.verdict.droppedAt}: ${c.verdict.reason}`;
    lines.push(`${head}${br ? ` [${br}]` : ""}`);
    lines.push(`   headers: ${c.header}${c.cubes > 1 ? ` (+${c.cubes - 1} more cubes)` : ""}`);
    for (const l of c.logical) lines.push(`   logical: ${l}`);
    if (!c.exact) lines.push(`   approx: ${c.approx}`);
    lines.push(
      `   witness: ${c.witness}${c.confirmed === null ? "" : c.confirmed ? " (confirmed)" : " (NOT confirmed)"}`,
    );
  }
  return `${lines.join("\n")}\n`;
}

export function renderOfReachJson(d: OfReachDocument): string {
  return `${JSON.stringify(d, null, 2)}\n`;
}
