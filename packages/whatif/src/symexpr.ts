/**
 * OVN match expressions as header space: the parsed expression (`@ovnsim/ovn`'s parseExpr, with
 * `!` already pushed to the leaves) becomes a disjoint union of cubes over the flow's slots, the
 * way ovn-controller's expr_to_matches turns one logical flow into OpenFlow matches — every
 * comparison with its symbol's prerequisites (`tcp.dst` also needs ip.proto 6 and an IP
 * eth.type), predicates expanded, `!=` and ranges split into prefix cubes, port names resolved
 * to tunnel keys on the flow's datapath.
 */
import { type Expr, type ExprSymbol, type FieldRef, SYMTAB, negate, parseExpr } from "@ovnsim/ovn";
import { SimError } from "@ovnsim/packet";
import { type Cube, FULL, intersect, rangeBlocks, unionDisjoint } from "./hs.js";
import { baseCube } from "./symstate.js";

/** Disjoint cubes over state slots. */
export type Dnf = readonly Cube[];

export const TRUE_DNF: Dnf = [FULL];
export const FALSE_DNF: Dnf = [];

/** Above this many cubes an expression is refused rather than explored. */
export const MAX_CUBES = 20_000;

export function and(a: Dnf, b: Dnf): Dnf {
  if (a.length === 1 && a[0]!.size === 0) return b;
  if (b.length === 1 && b[0]!.size === 0) return a;
  const out: Cube[] = [];
  for (const x of a)
    for (const y of b) {
      const k = intersect(x, y);
      if (k) out.push(k);
    }
  if (out.length > MAX_CUBES)
    throw new SimError("BAD_VALUE", `reach: a match expands to more than ${MAX_CUBES} cubes`);
  return out;
}

export function or(a: Dnf, b: Dnf): Dnf {
  const out = unionDisjoint(a, b);
  if (out.length > MAX_CUBES)
    throw new SimError("BAD_VALUE", `reach: a match expands to more than ${MAX_CUBES} cubes`);
  return out;
}

/** What resolving names needs from the flow's datapath. */
export interface SymEnv {
  lookupPort(name: string): number | undefined;
  isChassisResident(name: string): boolean;
}

const NO_PORTS: SymEnv = { lookupPort: () => undefined, isChassisResident: () => true };

const textCache = new Map<string, Dnf>();
function textDnf(text: string): Dnf {
  let d = textCache.get(text);
  if (!d) {
    d = exprDnf(parseExpr(text), NO_PORTS);
    textCache.set(text, d);
  }
  return d;
}

/** The prerequisites of a symbol and its parents. */
export function prereqDnf(sym: ExprSymbol): Dnf {
  let d: Dnf = TRUE_DNF;
  for (let s: ExprSymbol | undefined = sym; s; s = s.parent ? SYMTAB.get(s.parent) : undefined) {
    if (s.prereqs) d = and(d, textDnf(s.prereqs));
  }
  return d;
}

/** bits [lo, lo+n) of `ref`'s base field. */
export function span(ref: FieldRef): { mf: string; lo: number; n: number } {
  const base = ref.sym.base!;
  if (ref.sym.kind === "string") return { mf: base.mf, lo: 0, n: base.width };
  return { mf: base.mf, lo: ref.sym.ofs + ref.lo, n: ref.nbits };
}

/** "field bits == v under m" as one cube, or nothing. */
export function eq(mf: string, lo: number, n: number, v: bigint, m: bigint): Dnf {
  const c = baseCube(mf, lo, n, v, m);
  return c ? [c] : [];
}

/** "field bits != v under m": disjoint, one cube per cared-for bit (the first that differs). */
export function ne(mf: string, lo: number, n: number, v: bigint, m: bigint): Dnf {
  const out: Cube[] = [];
  let prefix = 0n;
  for (let i = 0; i < n; i++) {
    const bit = 1n << BigInt(i);
    if ((m & bit) === 0n) continue;
    const c = baseCube(mf, lo, n, (v & prefix) | (~v & bit), prefix | bit);
    if (c) out.push(c);
    prefix |= bit;
  }
  return out;
}

function cmpDnf(e: Extract<Expr, { t: "cmp" }>): Dnf {
  const { mf, lo, n } = span(e.f);
  const all = (1n << BigInt(n)) - 1n;
  let d: Dnf;
  if (e.mask !== undefined) {
    const m = e.mask & all;
    d = e.op === "==" ? eq(mf, lo, n, e.value & m, m) : ne(mf, lo, n, e.value & m, m);
  } else {
    const c = e.value;
    const range = (a: bigint, b: bigint): Dnf => {
      if (a < 0n) a = 0n;
      if (b > all) b = all;
      if (a > b) return [];
      return rangeBlocks(a, b, n).flatMap(([v, m]) => eq(mf, lo, n, v, m));
    };
    switch (e.op) {
      case "==":
        d = c > all ? [] : eq(mf, lo, n, c, all);
        break;
      case "!=":
        d = c > all ? TRUE_DNF : ne(mf, lo, n, c, all);
        break;
      case "<":
        d = range(0n, c - 1n);
        break;
      case "<=":
        d = range(0n, c);
        break;
      case ">":
        d = range(c + 1n, all);
        break;
      case ">=":
        d = range(c, all);
        break;
    }
  }
  return and(d, prereqDnf(e.f.sym));
}

/** The expression as disjoint cubes. */
export function exprDnf(e: Expr, env: SymEnv): Dnf {
  switch (e.t) {
    case "bool":
      return e.v ? TRUE_DNF : FALSE_DNF;
    case "cond":
      return env.isChassisResident(e.port) !== e.neg ? TRUE_DNF : FALSE_DNF;
    case "and": {
      let d: Dnf = TRUE_DNF;
      for (const x of e.xs) {
        d = and(d, exprDnf(x, env));
        if (d.length === 0) break;
      }
      return d;
    }
    case "or": {
      let d: Dnf = FALSE_DNF;
      for (const x of e.xs) d = or(d, exprDnf(x, env));
      return d;
    }
    case "scmp": {
      const key = env.lookupPort(e.s);
      if (key === undefined) return FALSE_DNF;
      const { mf } = span(e.f);
      const d =
        e.op === "==" ? eq(mf, 0, 32, BigInt(key), 0xffffffffn) : ne(mf, 0, 32, BigInt(key), 0xffffffffn);
      return and(d, prereqDnf(e.f.sym));
    }
    case "cmp": {
      const sym = e.f.sym;
      if (sym.kind === "predicate") {
        const positive = ((e.value & 1n) === 1n) !== (e.op === "!=");
        const x = parseExpr(sym.expansion!);
        return exprDnf(positive ? x : negate(x), NO_PORTS);
      }
      return cmpDnf(e);
    }
  }
}
