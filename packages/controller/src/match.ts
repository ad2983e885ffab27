/**
 * Logical-flow match → OpenFlow matches, as ovn-controller does it (upstream `lib/expr.c`:
 * expr_annotate adds each field's prerequisites, expr_simplify turns `!=` into one bitwise
 * test per bit, expr_normalize distributes into disjunctive normal form, expr_to_matches
 * emits one OpenFlow match per conjunction, dropping contradictory ones). Logical port names
 * become their tunnel keys in reg14 / reg15 and `is_chassis_resident()` is decided for the
 * chassis being modelled. A term is a set of value/mask constraints on OVS fields.
 */
import { type Expr, type FieldRef, negate, parseExpr } from "@ovnsim/ovn";
import { SimError } from "@ovnsim/packet";

/** value/mask on one OVS field (mf name as ovs-ofctl prints it: reg0, dl_dst, nw_src…). */
export interface FieldMatch {
  readonly v: bigint;
  readonly m: bigint;
}
export type Term = ReadonlyMap<string, FieldMatch>;

export interface MatchEnv {
  /** Tunnel key of a logical port or multicast group of this datapath; undefined if unknown. */
  portKey(name: string): number | undefined;
  /** Whether a logical port is resident on the chassis being modelled. */
  isChassisResident(name: string): boolean;
}

const ones = (n: number): bigint => (1n << BigInt(n)) - 1n;

/** Where an OVN symbol's bits live: xreg/xxreg split into 32-bit registers as OVS matches them. */
function leaves(ref: FieldRef, value: bigint, mask: bigint): [string, FieldMatch][] {
  const base = ref.sym.base;
  if (!base) throw new SimError("UNSUPPORTED", `field ${ref.sym.name} has no OpenFlow field`);
  const ofs = ref.sym.ofs + ref.lo;
  const v = value << BigInt(ofs);
  const m = mask << BigInt(ofs);
  const multi = /^(x?x)reg(\d+)$/.exec(base.mf);
  if (!multi) return [[base.mf, { v, m }]];
  const n = multi[1] === "xx" ? 4 : 2;
  const first = Number(multi[2]) * n;
  const out: [string, FieldMatch][] = [];
  for (let k = 0; k < n; k++) {
    const sh = BigInt(32 * (n - 1 - k));
    const mk = (m >> sh) & 0xffffffffn;
    if (mk !== 0n) out.push([`reg${first + k}`, { v: (v >> sh) & 0xffffffffn, m: mk }]);
  }
  return out;
}

/** AND of two terms; undefined when they contradict. */
function andTerms(a: Term, b: Term): Term | undefined {
  const out = new Map(a);
  for (const [f, x] of b) {
    const y = out.get(f);
    if (!y) {
      out.set(f, x);
      continue;
    }
    const common = x.m & y.m;
    if ((x.v & common) !== (y.v & common)) return undefined;
    out.set(f, { v: (x.v & x.m) | (y.v & y.m), m: x.m | y.m });
  }
  return out;
}

type Dnf = Term[];
const TRUE: Dnf = [new Map()];
const FALSE: Dnf = [];

function andDnf(a: Dnf, b: Dnf): Dnf {
  const out: Dnf = [];
  for (const x of a)
    for (const y of b) {
      const t = andTerms(x, y);
      if (t) out.push(t);
    }
  return out;
}

const prereqCache = new Map<string, Dnf>();

function prereqs(ref: FieldRef, env: MatchEnv, depth: number): Dnf {
  let out = TRUE;
  const texts: string[] = [];
  if (ref.sym.prereqs) texts.push(ref.sym.prereqs);
  // A subfield also inherits its parent's prerequisites (ct.new needs ct.trk via its own).
  for (const text of texts) {
    let d = prereqCache.get(text);
    if (!d) {
      d = toDnf(parseExpr(text), env, depth + 1);
      prereqCache.set(text, d);
    }
    out = andDnf(out, d);
  }
  return out;
}

const expansionCache = new Map<string, Expr>();

function cmpDnf(e: Extract<Expr, { t: "cmp" }>, env: MatchEnv, depth: number): Dnf {
  const ref = e.f;
  if (ref.sym.kind === "predicate") {
    // A predicate (ip4, tcp, nd…) stands for its expansion; `!p` / `p == 0` for its negation.
    let x = expansionCache.get(ref.sym.name);
    if (!x) {
      x = parseExpr(ref.sym.expansion ?? "0");
      expansionCache.set(ref.sym.name, x);
    }
    const positive = ((e.value & 1n) === 1n) === (e.op === "==");
    return toDnf(positive ? x : negate(x), env, depth + 1);
  }
  const full = ones(ref.nbits);
  const mask = (e.mask ?? full) & full;
  const value = e.value & mask;
  let d: Dnf;
  if (e.op === "==") d = [new Map(leaves(ref, value, mask))];
  else if (e.op === "!=") {
    // expr_simplify: x != v is the OR, over each bit of the mask, of that bit differing.
    d = [];
    for (let i = 0; i < ref.nbits; i++) {
      const bit = 1n << BigInt(i);
      if (!(mask & bit)) continue;
      d.push(new Map(leaves(ref, ~value & bit, bit)));
    }
  } else d = relational(ref, e.op, value, mask);
  return andDnf(d, prereqs(ref, env, depth));
}

/**
 * expr_simplify_relational: `x >= v` is `x == v` or, for each 0 bit z of v, x equal to v above
 * z with bit z set (and `<=` symmetrically over the 1 bits); `>` / `<` drop the equality.
 */
function relational(ref: FieldRef, op: string, value: bigint, mask: bigint): Dnf {
  let start = 0;
  while (start < ref.nbits && !(mask & (1n << BigInt(start)))) start++;
  let end = start;
  while (end < ref.nbits && mask & (1n << BigInt(end))) end++;
  if (start >= end) return TRUE;
  const lt = op === "<" || op === "<=";
  const eq = op === "<=" || op === ">=";
  const bit = (z: number): boolean => (value & (1n << BigInt(z))) !== 0n;
  // No bit of v equal to !lt: `x >= 0` / `x <= max` are true, `x > 0` / `x < max` are `x != v`.
  let allSame = true;
  for (let z = start; z < end; z++) if (bit(z) !== lt) allSame = false;
  if (allSame) {
    if (eq) return TRUE;
    const d: Dnf = [];
    for (let z = start; z < end; z++) {
      const b = 1n << BigInt(z);
      d.push(new Map(leaves(ref, ~value & b, b)));
    }
    return d;
  }
  const d: Dnf = [];
  if (eq) d.push(new Map(leaves(ref, value, mask)));
  for (let z = start; z < end; z++) {
    if (bit(z) !== lt) continue;
    const low = (1n << BigInt(z)) - (1n << BigInt(start));
    const v = (value ^ (1n << BigInt(z))) & ~low;
    const m = mask & ~low;
    d.push(new Map(leaves(ref, v, m)));
  }
  return d;
}

/** Conjunction of an expression with prerequisite texts (actions add theirs, e.g. ct_next → ip). */
export function withPrereqs(d: Dnf, texts: readonly string[], env: MatchEnv): Dnf {
  let out = d;
  for (const text of texts) {
    let p = prereqCache.get(text);
    if (!p) {
      p = toDnf(parseExpr(text), env, 1);
      prereqCache.set(text, p);
    }
    out = andDnf(out, p);
  }
  return out;
}

export function toDnf(e: Expr, env: MatchEnv, depth = 0): Dnf {
  if (depth > 20) throw new SimError("UNSUPPORTED", "prerequisites nest too deeply");
  switch (e.t) {
    case "bool":
      return e.v ? TRUE : FALSE;
    case "and": {
      let out = TRUE;
      for (const x of e.xs) {
        out = andDnf(out, toDnf(x, env, depth));
        if (out.length === 0) break;
      }
      return out;
    }
    case "or":
      return e.xs.flatMap((x) => toDnf(x, env, depth));
    case "cmp":
      return cmpDnf(e, env, depth);
    case "scmp": {
      const key = env.portKey(e.s);
      const reg = e.f.sym.name === "inport" ? "reg14" : "reg15";
      if (e.op === "==")
        return key === undefined ? FALSE : [new Map([[reg, { v: BigInt(key), m: 0xffffffffn }]])];
      if (key === undefined) return TRUE;
      const d: Dnf = [];
      for (let i = 0; i < 32; i++) {
        const bit = 1n << BigInt(i);
        d.push(new Map([[reg, { v: ~BigInt(key) & bit, m: bit }]]));
      }
      return d;
    }
    case "cond":
      return env.isChassisResident(e.port) !== e.neg ? TRUE : FALSE;
  }
}

// ---------------------------------------------------------------------------------------------
// Conjunctive matches (expr_normalize keeps an OR of comparisons on one symbol as a clause;
// expr_to_matches turns a conjunction with two or more such clauses into conjunction() flows).

/** One conjunction: fixed constraints and ≥0 clauses, each a set of alternatives on one symbol. */
export interface CTerm {
  readonly base: Term;
  readonly sets: readonly { readonly sym: string; readonly alts: readonly Term[] }[];
}

/** Symbols whose sets OVN always expands (expr_symtab_add_field(…, must_crossproduct=true)). */
const CROSSPRODUCT = new Set(["eth.type", "ip.proto", "icmp6.type", "icmp6.code"]);

function setSymbol(e: Expr): string | undefined {
  if (e.t !== "or" || e.xs.length < 2) return undefined;
  let name: string | undefined;
  for (const x of e.xs) {
    if (x.t !== "cmp" && x.t !== "scmp") return undefined;
    if (x.f.sym.kind === "predicate" || CROSSPRODUCT.has(x.f.sym.name)) return undefined;
    if (x.t === "cmp" && x.op !== "==") return undefined;
    if (x.t === "scmp" && x.op !== "==") return undefined;
    const n = `${x.f.sym.name}[${x.f.lo}+${x.f.nbits}]`;
    if (name === undefined) name = n;
    else if (name !== n) return undefined;
  }
  return name;
}

function fieldsOf(t: Term): Set<string> {
  return new Set(t.keys());
}

function andC(a: CTerm, b: CTerm): CTerm | undefined {
  let base = andTerms(a.base, b.base);
  if (!base) return undefined;
  const sets: { sym: string; alts: Term[] }[] = [];
  for (const s of [...a.sets, ...b.sets]) {
    const same = sets.find((x) => x.sym === s.sym);
    if (same) {
      const alts: Term[] = [];
      for (const x of same.alts)
        for (const y of s.alts) {
          const t = andTerms(x, y);
          if (t) alts.push(t);
        }
      same.alts = dedupTerms(alts);
    } else sets.push({ sym: s.sym, alts: [...s.alts] });
  }
  // A constraint of the base on a clause's field narrows the clause (crush_and_numeric).
  const out: { sym: string; alts: readonly Term[] }[] = [];
  for (const s of sets) {
    const fields = new Set(s.alts.flatMap((t) => [...fieldsOf(t)]));
    const restrict = new Map([...base].filter(([f]) => fields.has(f)));
    const alts = restrict.size ? dedupTerms(s.alts.flatMap((t) => andTerms(t, restrict) ?? [])) : s.alts;
    if (alts.length === 0) return undefined;
    if (alts.length === 1) {
      base = andTerms(base, alts[0]!);
      if (!base) return undefined;
    } else out.push({ sym: s.sym, alts });
  }
  return { base, sets: out };
}

/** Like toDnf, but keeps OVN's clauses (sets on one symbol) apart for conjunctive matches. */
export function toConj(e: Expr, env: MatchEnv): CTerm[] {
  const sym = setSymbol(e);
  if (sym !== undefined) {
    const xs = e.t === "or" ? e.xs : [];
    const alts: Term[] = [];
    for (const x of xs) {
      if (x.t === "cmp") {
        const full = ones(x.f.nbits);
        const mask = (x.mask ?? full) & full;
        alts.push(new Map(leaves(x.f, x.value & mask, mask)));
      } else alts.push(...toDnf(x, env));
    }
    const first = xs[0]!;
    const pre = first.t === "cmp" ? prereqs(first.f, env, 0) : TRUE;
    return pre.map((base) => ({ base, sets: [{ sym, alts: dedupTerms(alts) }] }));
  }
  if (
    e.t === "cmp" &&
    e.op !== "==" &&
    e.op !== "!=" &&
    !CROSSPRODUCT.has(e.f.sym.name) &&
    e.f.sym.kind !== "predicate"
  ) {
    const full = ones(e.f.nbits);
    const mask = (e.mask ?? full) & full;
    const alts = relational(e.f, e.op, e.value & mask, mask);
    const name = `${e.f.sym.name}[${e.f.lo}+${e.f.nbits}]`;
    return prereqs(e.f, env, 0).map((base) =>
      alts.length === 1
        ? { base: andTerms(base, alts[0]!) ?? base, sets: [] }
        : { base, sets: [{ sym: name, alts }] },
    );
  }
  if (e.t === "and") {
    let out: CTerm[] = [{ base: new Map(), sets: [] }];
    for (const x of e.xs) {
      const next: CTerm[] = [];
      const xs = toConj(x, env);
      for (const a of out)
        for (const b of xs) {
          const c = andC(a, b);
          if (c) next.push(c);
        }
      out = next;
      if (out.length === 0) break;
    }
    return out;
  }
  if (e.t === "or") return e.xs.flatMap((x) => toConj(x, env));
  return toDnf(e, env).map((base) => ({ base, sets: [] }));
}

/** ANDs extra prerequisite terms into every conjunction. */
export function conjWithPrereqs(cs: readonly CTerm[], texts: readonly string[], env: MatchEnv): CTerm[] {
  const pre = withPrereqs(TRUE, texts, env);
  const out: CTerm[] = [];
  for (const c of cs)
    for (const p of pre) {
      const r = andC(c, { base: p, sets: [] });
      if (r) out.push(r);
    }
  return out;
}

/** Distinct terms, in first-seen order (expr_to_matches hashes identical matches together). */
export function dedupTerms(d: Dnf): Dnf {
  const seen = new Set<string>();
  const out: Dnf = [];
  for (const t of d) {
    const k = [...t.entries()]
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([f, x]) => `${f}=${x.v}/${x.m}`)
      .join(",");
    if (seen.has(k)) continue;
    seen.add(k);
    out.push(t);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Text: a term as ovs-ofctl match syntax (the openflow package puts it in OVS's printing order).

const macText = (v: bigint): string =>
  v
    .toString(16)
    .padStart(12, "0")
    .replace(/(..)(?!$)/g, "$1:");
const ip4Text = (v: bigint): string => [24n, 16n, 8n, 0n].map((s) => ((v >> s) & 0xffn).toString()).join(".");
export function ip6Text(v: bigint): string {
  const g: number[] = [];
  for (let i = 7; i >= 0; i--) g.push(Number((v >> BigInt(16 * i)) & 0xffffn));
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  const h = g.map((x) => x.toString(16));
  if (best < 0) return h.join(":");
  return `${h.slice(0, best).join(":")}::${h.slice(best + bestLen).join(":")}`;
}
const CT_FLAGS = ["new", "est", "rel", "rpl", "inv", "trk", "snat", "dnat"];
const WIDTH: Readonly<Record<string, number>> = {
  dl_src: 48,
  dl_dst: 48,
  arp_sha: 48,
  arp_tha: 48,
  nw_src: 32,
  nw_dst: 32,
  ipv6_src: 128,
  ipv6_dst: 128,
  nd_target: 128,
  ct_label: 128,
  dl_type: 16,
  vlan_tci: 16,
  tp_src: 16,
  tp_dst: 16,
  nw_proto: 8,
  arp_op: 16,
  nw_ttl: 8,
  icmp_type: 8,
  icmp_code: 8,
  ip_dscp: 6,
  nw_ecn: 2,
  ipv6_label: 20,
  tcp_flags: 12,
};
const width = (f: string): number => WIDTH[f] ?? 32;

function valueText(f: string, x: FieldMatch): string {
  const full = x.m === ones(width(f));
  switch (f) {
    case "dl_src":
    case "dl_dst":
    case "arp_sha":
    case "arp_tha":
      return full ? macText(x.v) : `${macText(x.v)}/${macText(x.m)}`;
    case "nw_src":
    case "nw_dst":
      return full ? ip4Text(x.v) : `${ip4Text(x.v)}/${ip4Text(x.m)}`;
    case "ipv6_src":
    case "ipv6_dst":
    case "nd_target":
      return full ? ip6Text(x.v) : `${ip6Text(x.v)}/${ip6Text(x.m)}`;
    case "ct_state": {
      let s = "";
      for (let i = 0; i < 8; i++) {
        const b = 1n << BigInt(i);
        if (x.m & b) s += `${x.v & b ? "+" : "-"}${CT_FLAGS[i]}`;
      }
      return s;
    }
    case "nw_frag": {
      const k = `${x.v & x.m}/${x.m}`;
      const names: Record<string, string> = {
        "1/1": "yes",
        "0/1": "no",
        "1/3": "first",
        "3/3": "later",
        "0/2": "not_later",
        "2/2": "later",
        "0/3": "no",
      };
      return names[k] ?? "yes";
    }
    case "nw_ttl":
    case "icmp_type":
    case "icmp_code":
    case "arp_op":
    case "ip_dscp":
    case "nw_ecn":
    case "nw_proto":
      return x.v.toString();
    default:
      return full ? `0x${x.v.toString(16)}` : `0x${x.v.toString(16)}/0x${x.m.toString(16)}`;
  }
}

/** The OVS name of a field in the context of the term's dl_type (ARP and ND reuse fields). */
function ovsName(f: string, t: Term): string {
  const dlType = t.get("dl_type")?.v;
  const isArp = dlType === 0x806n || dlType === 0x8035n;
  if (isArp) {
    if (f === "nw_src") return "arp_spa";
    if (f === "nw_dst") return "arp_tpa";
  }
  if (dlType === 0x86ddn) {
    if (f === "arp_sha") return "nd_sll";
    if (f === "arp_tha") return "nd_tll";
  }
  return f;
}

/** The term as `field=value[/mask]` words (any order; the flow formatter reorders). */
export function termWords(t: Term): string[] {
  const out: string[] = [];
  for (const [f, x] of t) {
    if (f === "dl_type") out.push(`dl_type=0x${x.v.toString(16)}`);
    else out.push(`${ovsName(f, t)}=${valueText(f, x)}`);
  }
  return out;
}
