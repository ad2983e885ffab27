/**
 * Header space, as HSA / NetPlumber model it: a set of packet headers is a union of ternary
 * cubes (each field a value under a care mask, the other bits wildcards). Priority shadowing
 * needs set difference; instead of expanding A \ B into up to one cube per cared-for bit (which
 * multiplies over a table of /32 or MAC matches), a term keeps its subtracted cubes lazily
 * (HSA's "lazy subtraction") and emptiness is decided, with a witness, by a bit-splitting search.
 * Fields are the OVS flow fields ovn-trace's logical pipelines read (the slots of `SLOTS`).
 */
import type { Flow } from "@ovnsim/packet";
import { makeFlow } from "@ovnsim/packet";

/** The flow fields a header space ranges over, with their widths (OVS struct flow members). */
export const SLOTS = [
  ["dl_src", 48],
  ["dl_dst", 48],
  ["dl_type", 16],
  ["vlan_tci", 16],
  ["nw_src", 32],
  ["nw_dst", 32],
  ["nw_proto", 8],
  ["nw_tos", 8],
  ["nw_ttl", 8],
  ["nw_frag", 2],
  ["tp_src", 16],
  ["tp_dst", 16],
  ["tcp_flags", 12],
  ["ipv6_src", 128],
  ["ipv6_dst", 128],
  ["ipv6_label", 20],
  ["arp_sha", 48],
  ["arp_tha", 48],
  ["nd_target", 128],
  ["pkt_mark", 32],
  ["ct_state", 8],
  ["ct_mark", 32],
  ["ct_label", 128],
  ["ct_nw_proto", 8],
  ["ct_nw_dst", 32],
  ["ct_ipv6_dst", 128],
  ["ct_tp_dst", 16],
  ...Array.from({ length: 16 }, (_, i) => [`reg${i}`, 32] as const),
] as const satisfies readonly (readonly [string, number])[];

export type SlotName = (typeof SLOTS)[number][0];
export const SLOT_INDEX: ReadonlyMap<string, number> = new Map(SLOTS.map(([n], i) => [n, i]));
export const SLOT_WIDTH: readonly number[] = SLOTS.map(([, w]) => w);
/** Slots a packet brings in (the rest start as constants: registers and conntrack are zero). */
export const HEADER_SLOTS: readonly number[] = SLOTS.map((_, i) => i).filter(
  (i) => !/^(reg\d+|ct_)/.test(SLOTS[i]![0]),
);

/** Slots from here on are flow-key words (32 bits each) of the OpenFlow symbolic run (ofreach.ts). */
export const WORD_SLOT = 1000;
const widthOf = (s: number): number => (s >= WORD_SLOT ? 32 : SLOT_WIDTH[s]!);

export const slotOf = (name: string): number => SLOT_INDEX.get(name)!;

/** A cube: per slot, the cared-for bits and their values (value ⊆ mask). Absent = wildcard. */
export type Cube = ReadonlyMap<number, { readonly v: bigint; readonly m: bigint }>;

export const FULL: Cube = new Map();

export function cube(entries: Iterable<readonly [number, bigint, bigint]>): Cube {
  const c = new Map<number, { v: bigint; m: bigint }>();
  for (const [s, v, m] of entries) {
    const cur = c.get(s);
    if (!cur) c.set(s, { v: v & m, m });
    else c.set(s, { v: cur.v | (v & m), m: cur.m | m });
  }
  return c;
}

/** a ∩ b, or null when they conflict on a bit both care about. */
export function intersect(a: Cube, b: Cube): Cube | null {
  if (b.size === 0) return a;
  if (a.size === 0) return b;
  const out = new Map(a);
  for (const [s, y] of b) {
    const x = out.get(s);
    if (!x) {
      out.set(s, y);
      continue;
    }
    const both = x.m & y.m;
    if ((x.v & both) !== (y.v & both)) return null;
    out.set(s, { v: x.v | y.v, m: x.m | y.m });
  }
  return out;
}

/** Whether a ⊆ b (every bit b cares about, a cares about with the same value). */
export function subset(a: Cube, b: Cube): boolean {
  for (const [s, y] of b) {
    const x = a.get(s);
    if (!x || (x.m & y.m) !== y.m || (x.v & y.m) !== y.v) return false;
  }
  return true;
}

/** a \ b as disjoint cubes (one per bit b cares about and a does not). */
export function subtractCube(a: Cube, b: Cube): Cube[] {
  if (intersect(a, b) === null) return [a];
  const out: Cube[] = [];
  let cur = new Map(a);
  for (const [s, y] of b) {
    const x = cur.get(s) ?? { v: 0n, m: 0n };
    let free = y.m & ~x.m;
    let v = x.v;
    let m = x.m;
    while (free !== 0n) {
      const bit = free & -free;
      free ^= bit;
      const piece = new Map(cur);
      piece.set(s, { v: v | (~y.v & bit), m: m | bit });
      out.push(piece);
      v |= y.v & bit;
      m |= bit;
      cur = new Map(cur);
      cur.set(s, { v, m });
    }
  }
  return out;
}

/** Disjoint union: b's cubes minus what a already covers. */
export function unionDisjoint(a: readonly Cube[], b: readonly Cube[]): Cube[] {
  const out = [...a];
  for (const y of b) {
    let pieces = [y];
    for (const x of out) {
      if (pieces.length === 0) break;
      pieces = pieces.flatMap((p) => subtractCube(p, x));
    }
    out.push(...pieces);
  }
  return out;
}

/** A term: one cube minus a union of cubes (kept lazily). */
export interface Term {
  readonly pos: Cube;
  readonly neg: readonly Cube[];
}

/** term ∩ c, or null when the cubes conflict (emptiness through negatives is not decided here). */
export function termAnd(t: Term, c: Cube): Term | null {
  const pos = intersect(t.pos, c);
  if (!pos) return null;
  const neg: Cube[] = [];
  for (const n of t.neg) {
    const k = intersect(n, pos);
    if (k === null) continue;
    if (subset(pos, n)) return null;
    neg.push(k);
  }
  return { pos, neg };
}

/** term \ c. */
export function termMinus(t: Term, c: Cube): Term | null {
  const k = intersect(c, t.pos);
  if (k === null) return t;
  if (subset(t.pos, k)) return null;
  return { pos: t.pos, neg: [...t.neg, k] };
}

/** A deterministic generator (mulberry32): random members without Math.random. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function randomBits(rand: () => number, width: number): bigint {
  let v = 0n;
  for (let i = 0; i < width; i += 16) v = (v << 16n) | BigInt(Math.floor(rand() * 65536));
  return v & ((1n << BigInt(width)) - 1n);
}

/**
 * A point of the term (full values for the slots given), or null when the term is empty. Bits
 * nobody cares about are 0 (or random with `rand`). The search splits on a bit a negative cube
 * cares about and the positive does not, trying first the side that escapes that cube.
 */
export function witness(
  t: Term,
  slots: readonly number[],
  rand?: () => number,
  budget = { n: 200_000 },
): Map<number, bigint> | null {
  const point = search(t.pos, t.neg, rand, budget);
  if (!point) return null;
  const out = new Map<number, bigint>();
  for (const s of slots) {
    const x = point.get(s);
    const w = widthOf(s);
    const fill = rand ? randomBits(rand, w) : 0n;
    out.set(s, x ? (x.v & x.m) | (fill & ~x.m) : fill);
  }
  return out;
}

function search(
  pos: Cube,
  neg: readonly Cube[],
  rand: (() => number) | undefined,
  budget: { n: number },
): Cube | null {
  if (--budget.n < 0) return null;
  const live: Cube[] = [];
  for (const n of neg) {
    const k = intersect(n, pos);
    if (k === null) continue;
    if (subset(pos, k)) return null;
    live.push(k);
  }
  if (live.length === 0) return pos;
  // Split on a bit the first live negative cares about and pos leaves free.
  const n0 = live[0]!;
  for (const [s, y] of n0) {
    const x = pos.get(s) ?? { v: 0n, m: 0n };
    const free = y.m & ~x.m;
    if (free === 0n) continue;
    let bit = free & -free;
    if (rand) {
      const bits: bigint[] = [];
      for (let f = free; f !== 0n; f &= f - 1n) bits.push(f & -f);
      bit = bits[Math.floor(rand() * bits.length)]!;
    }
    const away = new Map(pos);
    away.set(s, { v: x.v | (~y.v & bit), m: x.m | bit });
    const stay = new Map(pos);
    stay.set(s, { v: x.v | (y.v & bit), m: x.m | bit });
    const order = rand && rand() < 0.3 ? [stay, away] : [away, stay];
    for (const side of order) {
      const r = search(side, live, rand, budget);
      if (r) return r;
    }
    return null;
  }
  return null;
}

/** The Flow a point stands for (slots → struct flow members; registers stay as given). */
export function pointToFlow(p: ReadonlyMap<number, bigint>): Flow {
  const n = (name: string): number => Number(p.get(slotOf(name)) ?? 0n);
  const b = (name: string): bigint => p.get(slotOf(name)) ?? 0n;
  const tci = n("vlan_tci");
  return makeFlow({
    dl_src: n("dl_src"),
    dl_dst: n("dl_dst"),
    dl_type: n("dl_type"),
    vlans: tci & 0x1000 ? [{ tpid: 0x8100, pcp: (tci >> 13) & 7, vid: tci & 0xfff }] : [],
    nw_src: n("nw_src") >>> 0,
    nw_dst: n("nw_dst") >>> 0,
    nw_proto: n("nw_proto"),
    nw_tos: n("nw_tos"),
    nw_ttl: n("nw_ttl"),
    nw_frag: n("nw_frag"),
    tp_src: n("tp_src"),
    tp_dst: n("tp_dst"),
    tcp_flags: n("tcp_flags"),
    ipv6_src: b("ipv6_src"),
    ipv6_dst: b("ipv6_dst"),
    ipv6_label: n("ipv6_label"),
    arp_sha: n("arp_sha"),
    arp_tha: n("arp_tha"),
    nd_target: b("nd_target"),
    pkt_mark: n("pkt_mark") >>> 0,
  });
}

/** Whether a point lies in the term (for checking samples). */
export function contains(t: Term, p: ReadonlyMap<number, bigint>): boolean {
  const inCube = (c: Cube) => {
    for (const [s, x] of c) if (((p.get(s) ?? 0n) & x.m) !== x.v) return false;
    return true;
  };
  return inCube(t.pos) && !t.neg.some(inCube);
}

/** [lo, hi] of an n-bit field as prefix blocks (value, mask). */
export function rangeBlocks(lo: bigint, hi: bigint, width: number): [bigint, bigint][] {
  const out: [bigint, bigint][] = [];
  const all = (1n << BigInt(width)) - 1n;
  while (lo <= hi) {
    let size = 1n;
    // Largest aligned block starting at lo that fits.
    while ((lo & (size * 2n - 1n)) === 0n && lo + size * 2n - 1n <= hi && size * 2n <= all + 1n) size *= 2n;
    out.push([lo, all & ~(size - 1n)]);
    lo += size;
  }
  return out;
}
