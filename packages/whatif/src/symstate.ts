/**
 * What a packet's fields hold along one symbolic path through OVN's logical pipelines: every bit
 * of every flow field (ovn-trace's working `uflow`: headers, reg0–reg15, ct_*) is a constant, a
 * bit of the packet as it entered (so a match on `reg1` after `reg1 = ip4.dst` constrains the
 * entering ip4.dst — the header space stays over input headers and the copies stay exact), or
 * opaque (after arithmetic such as `ip.ttl--`, which cubes cannot follow). Base fields of OVN's
 * symbol table (xxreg0, arp.op, icmp4.type…) are mapped onto these slots the way their getters
 * read the struct flow.
 */
import { SimError } from "@ovnsim/packet";
import { type Cube, SLOT_INDEX, SLOT_WIDTH, slotOf } from "./hs.js";

/** A bit's content: CONST0 / CONST1 / OPAQUE, or `slot * 256 + bit` of the entering packet. */
export const CONST0 = -1;
export const CONST1 = -2;
export const OPAQUE = -3;

/** Per slot, per bit; undefined = unchanged since entry (the packet's own bits). */
export type SymState = readonly (readonly number[] | undefined)[];

export function initialState(consts: ReadonlyMap<number, bigint>): SymState {
  const s: (number[] | undefined)[] = SLOT_WIDTH.map(() => undefined);
  for (const [slot, v] of consts) s[slot] = constBits(v, SLOT_WIDTH[slot]!);
  return s;
}

function constBits(v: bigint, n: number): number[] {
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) out[i] = (v >> BigInt(i)) & 1n ? CONST1 : CONST0;
  return out;
}

export function bitsOf(st: SymState, slot: number): readonly number[] {
  const b = st[slot];
  if (b) return b;
  const n = SLOT_WIDTH[slot]!;
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) out[i] = slot * 256 + i;
  return out;
}

/** A piece of a base field stored in a slot: base bits [baseLo, baseLo+n) ↔ slot bits [slotLo, …). */
export interface Part {
  readonly slot: number;
  readonly slotLo: number;
  readonly baseLo: number;
  readonly n: number;
}

const PARTS = new Map<string, readonly Part[]>();

/** Where OVN's base field `mf` lives; bits of it no part covers read as zero. */
export function partsOf(mf: string): readonly Part[] {
  let p = PARTS.get(mf);
  if (p) return p;
  const m = /^(x{1,2})reg(\d+)$/.exec(mf);
  const one = (slot: string, slotLo: number, baseLo: number, n: number): Part => ({
    slot: slotOf(slot),
    slotLo,
    baseLo,
    n,
  });
  if (m) {
    const k = m[1]!.length === 1 ? 2 : 4;
    const first = Number(m[2]) * k;
    // The first register holds the most significant 32 bits.
    p = Array.from({ length: k }, (_, j) => one(`reg${first + k - 1 - j}`, 0, 32 * j, 32));
  } else if (mf === "ip_dscp") p = [one("nw_tos", 2, 0, 6)];
  else if (mf === "nw_ecn") p = [one("nw_tos", 0, 0, 2)];
  else if (mf === "arp_op") p = [one("nw_proto", 0, 0, 8)];
  else if (mf === "icmp_type") p = [one("tp_src", 0, 0, 8)];
  else if (mf === "icmp_code") p = [one("tp_dst", 0, 0, 8)];
  else if (SLOT_INDEX.has(mf)) p = [one(mf, 0, 0, SLOT_WIDTH[slotOf(mf)]!)];
  else throw new SimError("BAD_VALUE", `reach: field ${mf} is not modelled symbolically`);
  PARTS.set(mf, p);
  return p;
}

/**
 * A constraint "bits [lo, lo+n) of base field mf, under mask m, equal v" as a state-level cube
 * (over slots as they are now), or null when it asks a never-stored bit to be 1.
 */
export function baseCube(mf: string, lo: number, n: number, v: bigint, m: bigint): Cube | null {
  const out = new Map<number, { v: bigint; m: bigint }>();
  const width = (1n << BigInt(n)) - 1n;
  const vv = (v & m & width) << BigInt(lo);
  const mm = (m & width) << BigInt(lo);
  let covered = 0n;
  for (const p of partsOf(mf)) {
    const win = ((1n << BigInt(p.n)) - 1n) << BigInt(p.baseLo);
    covered |= win;
    const pm = (mm & win) >> BigInt(p.baseLo);
    if (pm === 0n) continue;
    const pv = (vv & win) >> BigInt(p.baseLo);
    const cur = out.get(p.slot) ?? { v: 0n, m: 0n };
    out.set(p.slot, { v: cur.v | (pv << BigInt(p.slotLo)), m: cur.m | (pm << BigInt(p.slotLo)) });
  }
  if ((vv & ~covered) !== 0n) return null;
  return out;
}

/**
 * A state-level cube seen from the entering packet: the input cube it stands for, null when a
 * constant bit contradicts it, and whether an opaque bit was asked about (then the constraint on
 * that bit is dropped and the result is not exact).
 */
export function translate(st: SymState, c: Cube): { cube: Cube | null; opaque: boolean } {
  const out = new Map<number, { v: bigint; m: bigint }>();
  let opaque = false;
  for (const [slot, x] of c) {
    const bits = st[slot];
    if (!bits) {
      const cur = out.get(slot);
      if (!cur) out.set(slot, x);
      else {
        const both = cur.m & x.m;
        if ((cur.v & both) !== (x.v & both)) return { cube: null, opaque };
        out.set(slot, { v: cur.v | x.v, m: cur.m | x.m });
      }
      continue;
    }
    for (let m = x.m, i = 0; m !== 0n; m >>= 1n, i++) {
      if ((m & 1n) === 0n) continue;
      const want = (x.v >> BigInt(i)) & 1n;
      const r = bits[i]!;
      if (r === CONST0 || r === CONST1) {
        if ((r === CONST1 ? 1n : 0n) !== want) return { cube: null, opaque };
        continue;
      }
      if (r === OPAQUE) {
        opaque = true;
        continue;
      }
      const s = Math.floor(r / 256);
      const b = BigInt(r % 256);
      const cur = out.get(s) ?? { v: 0n, m: 0n };
      const bit = 1n << b;
      if (cur.m & bit) {
        if (((cur.v & bit) !== 0n) !== (want === 1n)) return { cube: null, opaque };
        continue;
      }
      out.set(s, { v: cur.v | (want << b), m: cur.m | bit });
    }
  }
  return { cube: out, opaque };
}

/** The constant value of bits [lo, lo+n) of a slot, or null when any is not constant. */
export function constOf(st: SymState, slot: number, lo = 0, n = SLOT_WIDTH[slot]!): bigint | null {
  const bits = st[slot];
  if (!bits) return null;
  let v = 0n;
  for (let i = 0; i < n; i++) {
    const r = bits[lo + i]!;
    if (r === CONST1) v |= 1n << BigInt(i);
    else if (r !== CONST0) return null;
  }
  return v;
}

/** The constant value of a base field's bit range, or null. */
export function constOfBase(st: SymState, mf: string, lo: number, n: number): bigint | null {
  const src = readBase(st, mf, lo, n);
  let v = 0n;
  for (let i = 0; i < n; i++) {
    const r = src[i]!;
    if (r === CONST1) v |= 1n << BigInt(i);
    else if (r !== CONST0) return null;
  }
  return v;
}

/** The bit contents of base field bits [lo, lo+n). */
export function readBase(st: SymState, mf: string, lo: number, n: number): number[] {
  const out = new Array<number>(n).fill(CONST0);
  for (const p of partsOf(mf)) {
    const bits = bitsOf(st, p.slot);
    for (let i = 0; i < p.n; i++) {
      const bb = p.baseLo + i;
      if (bb >= lo && bb < lo + n) out[bb - lo] = bits[p.slotLo + i]!;
    }
  }
  return out;
}

/** A new state with base field bits [lo, lo+n) (under mask, if given) set to `src`. */
export function writeBase(
  st: SymState,
  mf: string,
  lo: number,
  n: number,
  src: readonly number[],
  mask?: bigint,
): SymState {
  const out = st.slice();
  for (const p of partsOf(mf)) {
    let bits: number[] | undefined;
    for (let i = 0; i < p.n; i++) {
      const bb = p.baseLo + i;
      if (bb < lo || bb >= lo + n) continue;
      if (mask !== undefined && ((mask >> BigInt(bb - lo)) & 1n) === 0n) continue;
      bits ??= [...bitsOf(out, p.slot)];
      bits[p.slotLo + i] = src[bb - lo]!;
    }
    if (bits) out[p.slot] = bits;
  }
  return out;
}

export function constSrc(v: bigint, n: number): number[] {
  return constBits(v, n);
}

/** Sets a whole slot to a constant. */
export function setSlot(st: SymState, slot: string, v: bigint): SymState {
  const i = slotOf(slot);
  const out = st.slice();
  out[i] = constBits(v, SLOT_WIDTH[i]!);
  return out;
}

/** Copies slot `from` into slot `to` (whole, the narrower width). */
export function copySlot(st: SymState, to: string, from: string): SymState {
  const t = slotOf(to);
  const out = st.slice();
  const src = bitsOf(st, slotOf(from));
  const w = SLOT_WIDTH[t]!;
  out[t] = Array.from({ length: w }, (_, i) => src[i] ?? CONST0);
  return out;
}

/** Marks a slot opaque (its value is a function cubes cannot follow). */
export function opaqueSlot(st: SymState, slot: string): SymState {
  const i = slotOf(slot);
  const out = st.slice();
  out[i] = new Array<number>(SLOT_WIDTH[i]!).fill(OPAQUE);
  return out;
}

/** ORs constant 1 bits into a slot (ct_state |= …). */
export function orConst(st: SymState, slot: string, v: bigint): SymState {
  const i = slotOf(slot);
  const bits = [...bitsOf(st, i)];
  for (let b = 0; b < bits.length; b++) if ((v >> BigInt(b)) & 1n) bits[b] = CONST1;
  const out = st.slice();
  out[i] = bits;
  return out;
}
