/**
 * Compiles a parsed OVN expression into a predicate over the working flow (OVN `expr_annotate`
 * + `expr_evaluate`): predicates such as `tcp` expand to their definitions, every comparison
 * carries its field's prerequisites (`tcp.dst == 80` also needs `ip.proto == 6` and
 * `eth.type == 0x800 || eth.type == 0x86dd`), port names resolve to tunnel keys and
 * `is_chassis_resident()` is decided once, at compile time, as ovn-trace does.
 */
import { type Expr, type FieldRef, negate, parseSymbolText } from "./parse.js";
import type { ExprSymbol, MFlow } from "./symtab.js";
import { SYMTAB } from "./symtab.js";

export type Pred = (f: MFlow) => boolean;

/** What compilation needs from the datapath the flow belongs to. */
export interface CompileEnv {
  /** Tunnel key of a logical port or multicast group of this datapath, by name. */
  lookupPort(name: string): number | undefined;
  /** Whether the port is bound to the chassis the trace runs on. */
  isChassisResident(name: string): boolean;
}

const TRUE: Pred = () => true;
const FALSE: Pred = () => false;

/** Replaces `is_chassis_resident()` by its value and folds constants (OVN expr_simplify, partly). */
export function foldConstants(e: Expr, env: Pick<CompileEnv, "isChassisResident">): Expr {
  switch (e.t) {
    case "cond": {
      const v = env.isChassisResident(e.port);
      return { t: "bool", v: e.neg ? !v : v };
    }
    case "and":
    case "or": {
      const isAnd = e.t === "and";
      const xs: Expr[] = [];
      for (const x of e.xs) {
        const y = foldConstants(x, env);
        if (y.t === "bool") {
          if (y.v === isAnd) continue; // neutral element
          return y; // absorbing element
        }
        xs.push(y);
      }
      if (xs.length === 0) return { t: "bool", v: isAnd };
      if (xs.length === 1) return xs[0]!;
      return { t: e.t, xs };
    }
    default:
      return e;
  }
}

const prereqCache = new Map<string, Pred>();
const predicateCache = new Map<string, Pred>();

const noPorts: CompileEnv = { lookupPort: () => undefined, isChassisResident: () => true };

function prereqPred(text: string): Pred {
  let p = prereqCache.get(text);
  if (!p) {
    p = compileExpr(parseSymbolText(text), noPorts);
    prereqCache.set(text, p);
  }
  return p;
}

/** All prerequisites of a symbol: its own and its ancestors'. */
function prereqsOf(sym: ExprSymbol): Pred[] {
  const out: Pred[] = [];
  let s: ExprSymbol | undefined = sym;
  while (s) {
    if (s.prereqs) out.push(prereqPred(s.prereqs));
    s = s.parent ? SYMTAB.get(s.parent) : undefined;
  }
  return out;
}

function withPrereqs(test: Pred, sym: ExprSymbol): Pred {
  const ps = prereqsOf(sym);
  if (ps.length === 0) return test;
  if (ps.length === 1) {
    const p = ps[0]!;
    return (f) => test(f) && p(f);
  }
  return (f) => test(f) && ps.every((p) => p(f));
}

/** Reads the (sub)field as an unsigned bigint. */
export function fieldReader(ref: FieldRef): (f: MFlow) => bigint {
  const base = ref.sym.base!;
  const shift = BigInt(ref.sym.ofs + ref.lo);
  const nbits = ref.nbits;
  if (shift === 0n && nbits === base.width) return base.get;
  const m = (1n << BigInt(nbits)) - 1n;
  return (f) => (base.get(f) >> shift) & m;
}

/** Writes the (sub)field from an unsigned bigint, leaving the other bits of the base field. */
export function fieldWriter(ref: FieldRef): (f: MFlow, v: bigint) => void {
  const base = ref.sym.base!;
  const shift = BigInt(ref.sym.ofs + ref.lo);
  const nbits = ref.sym.kind === "string" ? base.width : ref.nbits;
  const m = ((1n << BigInt(nbits)) - 1n) << shift;
  if (shift === 0n && nbits === base.width) return base.set;
  return (f, v) => base.set(f, (base.get(f) & ~m) | ((v << shift) & m));
}

/** Compiles `e` into a predicate. Port names and chassis residency resolve through `env`. */
export function compileExpr(e: Expr, env: CompileEnv): Pred {
  switch (e.t) {
    case "bool":
      return e.v ? TRUE : FALSE;
    case "cond": {
      const v = env.isChassisResident(e.port) !== e.neg;
      return v ? TRUE : FALSE;
    }
    case "and": {
      const ps = e.xs.map((x) => compileExpr(x, env));
      if (ps.length === 2) {
        const [a, b] = ps as [Pred, Pred];
        return (f) => a(f) && b(f);
      }
      return (f) => {
        for (const p of ps) if (!p(f)) return false;
        return true;
      };
    }
    case "or": {
      const ps = e.xs.map((x) => compileExpr(x, env));
      return (f) => {
        for (const p of ps) if (p(f)) return true;
        return false;
      };
    }
    case "scmp": {
      const key = env.lookupPort(e.s);
      if (key === undefined) return FALSE;
      const read = e.f.sym.base!.getN!;
      const test: Pred = e.op === "==" ? (f) => read(f) === key : (f) => read(f) !== key;
      return withPrereqs(test, e.f.sym);
    }
    case "cmp": {
      const sym = e.f.sym;
      if (sym.kind === "predicate") {
        const positive = ((e.value & 1n) === 1n) !== (e.op === "!=");
        const key = `${sym.name}/${positive}`;
        let p = predicateCache.get(key);
        if (!p) {
          const x = parseSymbolText(sym.expansion!);
          p = compileExpr(positive ? x : negate(x), noPorts);
          predicateCache.set(key, p);
        }
        return p;
      }
      const fast = numberTest(e.f, e.op, e.value, e.mask);
      if (fast) return withPrereqs(fast, sym);
      const read = fieldReader(e.f);
      const c = e.value;
      let test: Pred;
      if (e.mask !== undefined) {
        const m = e.mask;
        test = e.op === "==" ? (f) => (read(f) & m) === c : (f) => (read(f) & m) !== c;
      } else {
        switch (e.op) {
          case "==":
            test = (f) => read(f) === c;
            break;
          case "!=":
            test = (f) => read(f) !== c;
            break;
          case "<":
            test = (f) => read(f) < c;
            break;
          case "<=":
            test = (f) => read(f) <= c;
            break;
          case ">":
            test = (f) => read(f) > c;
            break;
          case ">=":
            test = (f) => read(f) >= c;
            break;
        }
      }
      return withPrereqs(test, sym);
    }
  }
}

/** Comparison on a field of at most 32 bits with plain numbers (no bigint on the hot path). */
function numberTest(ref: FieldRef, op: string, value: bigint, mask: bigint | undefined): Pred | undefined {
  const base = ref.sym.base!;
  const getN = base.getN;
  if (!getN) return undefined;
  const shift = ref.sym.ofs + ref.lo;
  const nbits = ref.nbits;
  if (shift + nbits > 32) return undefined;
  const m = nbits === 32 ? 0xffffffff : (1 << nbits) - 1;
  const read: (f: MFlow) => number =
    shift === 0 && nbits === 32 ? getN : shift === 0 ? (f) => getN(f) & m : (f) => (getN(f) >>> shift) & m;
  const c = Number(value) >>> 0;
  if (mask !== undefined) {
    const mm = Number(mask) >>> 0;
    return op === "==" ? (f) => (read(f) & mm) >>> 0 === c : (f) => (read(f) & mm) >>> 0 !== c;
  }
  switch (op) {
    case "==":
      return (f) => read(f) >>> 0 === c;
    case "!=":
      return (f) => read(f) >>> 0 !== c;
    case "<":
      return (f) => read(f) >>> 0 < c;
    case "<=":
      return (f) => read(f) >>> 0 <= c;
    case ">":
      return (f) => read(f) >>> 0 > c;
    case ">=":
      return (f) => read(f) >>> 0 >= c;
    default:
      return undefined;
  }
}
