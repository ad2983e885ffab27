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
    const positive = (e.value & 1n) === 1n === (e.op === "==");
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
  } else throw new SimError("UNSUPPORTED", `relational operator ${e.op} on ${ref.sym.name}`);
  return andDnf(d, prereqs(ref, env, depth));
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
      if (e.op === "==") return key === undefined ? FALSE : [new Map([[reg, { v: BigInt(key), m: 0xffffffffn }]])];
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
const ip4Text = (v: bigint): string =>
  [24n, 16n, 8n, 0n].map((s) => ((v >> s) & 0xffn).toString()).join(".");
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
