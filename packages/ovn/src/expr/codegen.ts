/**
 * Generated match code for one logical table: the table's flows (highest priority first) become
 * one JavaScript function per chunk of flows that returns the index of the first flow whose
 * match holds, as ovn-controller turns a stage's lflows into one OpenFlow table that the
 * datapath classifies in one go instead of evaluating each expression tree per packet. The
 * logical flows are fixed for a simulation, so each table is generated once (on its first
 * lookup) and reused for every packet.
 *
 * The code is the closure tree of compile.ts written out: comparisons on fields of at most 32
 * bits read the flow's property directly and compare plain numbers (prerequisites inlined);
 * anything else (bigint fields, wide masks, xreg reads) calls the closure compile.ts builds for
 * it, so both give the same answer on every flow. Reads of the L4 ports also set their bit in
 * `R` (symtab.ts PORT_READS), which the executor reports as the run's `portsRead`.
 */
import { compileExpr, type CompileEnv, type Pred } from "./compile.js";
import { type Expr, negate, parseSymbolText } from "./parse.js";
import { type ExprSymbol, type MFlow, PORT_READS, SYMTAB } from "./symtab.js";

/** Index of the first matching flow of the chunk, or -1. */
export type ChunkMatcher = (f: MFlow) => number;

const noPorts: CompileEnv = { lookupPort: () => undefined, isChassisResident: () => true };

/** Flows per generated function: small enough for V8 to optimise each one. */
const CHUNK = 24;

/** Constants and fallback closures the generated code reads as `k[i]`. */
class Gen {
  readonly k: unknown[] = [];
  ref(v: unknown): string {
    this.k.push(v);
    return `k[${this.k.length - 1}]`;
  }
}

const lit = (n: number): string => (n < 0 ? `(${n})` : String(n));

function prereqSource(sym: ExprSymbol, g: Gen): string[] {
  const out: string[] = [];
  let s: ExprSymbol | undefined = sym;
  while (s) {
    if (s.prereqs) out.push(exprSource(parseSymbolText(s.prereqs), noPorts, g));
    s = s.parent ? SYMTAB.get(s.parent) : undefined;
  }
  return out;
}

/** The prerequisites first: a field is then read only where it exists (`icmp4.type` on ICMP). */
function withPrereqs(test: string, sym: ExprSymbol, g: Gen): string {
  const ps = prereqSource(sym, g);
  return ps.length === 0 ? test : `(${[...ps.reverse(), test].join(" && ")})`;
}

/** `e` as a JS boolean expression over `f` (compileExpr's semantics). */
export function exprSource(e: Expr, env: CompileEnv, g: Gen): string {
  switch (e.t) {
    case "bool":
      return e.v ? "true" : "false";
    case "cond":
      return env.isChassisResident(e.port) !== e.neg ? "true" : "false";
    case "and":
      return e.xs.length === 0 ? "true" : `(${e.xs.map((x) => exprSource(x, env, g)).join(" && ")})`;
    case "or":
      return e.xs.length === 0 ? "false" : `(${e.xs.map((x) => exprSource(x, env, g)).join(" || ")})`;
    case "scmp": {
      const key = env.lookupPort(e.s);
      if (key === undefined) return "false";
      const base = e.f.sym.base!;
      const read = base.js ? `(${base.js} >>> 0)` : `${g.ref(base.getN!)}(f)`;
      return withPrereqs(`(${read} ${e.op === "==" ? "===" : "!=="} ${lit(key)})`, e.f.sym, g);
    }
    case "cmp": {
      const sym = e.f.sym;
      if (sym.kind === "predicate") {
        const positive = ((e.value & 1n) === 1n) !== (e.op === "!=");
        const x = parseSymbolText(sym.expansion!);
        return exprSource(positive ? x : negate(x), noPorts, g);
      }
      const base = sym.base!;
      const shift = sym.ofs + e.f.lo;
      const nbits = e.f.nbits;
      if (!base.getN || shift + nbits > 32) return `${g.ref(compileExpr(e, env))}(f)`;
      const get = base.js ?? `${g.ref(base.getN)}(f)`;
      const m = nbits === 32 ? 0xffffffff : (1 << nbits) - 1;
      const read =
        shift === 0 && nbits === 32
          ? get
          : shift === 0
            ? `(${get} & ${lit(m)})`
            : `((${get} >>> ${shift}) & ${lit(m)})`;
      const c = Number(e.value) >>> 0;
      let test: string;
      if (e.mask !== undefined) {
        const mm = Number(e.mask) >>> 0;
        test = `(((${read} & ${lit(mm)}) >>> 0) ${e.op === "==" ? "===" : "!=="} ${c})`;
      } else {
        const op = e.op === "==" ? "===" : e.op === "!=" ? "!==" : e.op;
        test = `((${read} >>> 0) ${op} ${c})`;
      }
      return withPrereqs(test, sym, g);
    }
  }
}

/** One flow of a table: its folded match, and the closures its actions' prerequisites need. */
export interface MatchSource {
  readonly match: Expr;
  readonly extra: readonly Pred[];
}

/**
 * The matchers of a table, in flow order: chunk `i` answers for flows `i*CHUNK…`; an answer is
 * the index into the whole list.
 */
export function compileTable(flows: readonly MatchSource[], env: CompileEnv): ChunkMatcher[] {
  const out: ChunkMatcher[] = [];
  for (let lo = 0; lo < flows.length; lo += CHUNK) {
    const g = new Gen();
    const lines: string[] = [];
    for (let i = lo; i < Math.min(lo + CHUNK, flows.length); i++) {
      const fl = flows[i]!;
      const parts = [exprSource(fl.match, env, g), ...fl.extra.map((p) => `${g.ref(p)}(f)`)];
      const cond = parts.length === 1 ? parts[0]! : parts.join(" && ");
      if (cond === "false") continue;
      lines.push(`if (${cond}) return ${i};`);
    }
    out.push(
      new Function(
        "k",
        "R",
        `"use strict";\nreturn function match(f) {\n${lines.join("\n")}\nreturn -1;\n};`,
      )(g.k, PORT_READS),
    );
  }
  return out;
}
