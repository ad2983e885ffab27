/**
 * ovn-trace's microflow syntax (upstream `lib/expr.c` `expr_parse_microflow`): a conjunction
 * of equalities in the match language, completed by the prerequisites of every field it
 * names (`tcp.dst == 80` brings `ip.proto == 6`; `ip4.src` brings `eth.type == 0x800`), into
 * one concrete packet. Disjunctions that remain open are "ambiguous", as in OVN.
 */
import { EMPTY_FLOW, SimError } from "@ovnsim/packet";
import { compileExpr } from "./compile.js";
import { type Expr, type ExprTables, negate, parseExpr, parseSymbolText } from "./parse.js";
import { type ExprSymbol, type MFlow, nonMaskable, SYMTAB, toMFlow } from "./symtab.js";

interface Pending {
  readonly e: Expr;
}

/**
 * Builds the packet a microflow describes. `lookupPort` resolves `inport == "name"` to the
 * port's tunnel key. Throws SimError(PARSE_ERROR) for syntax, ambiguity or contradiction and
 * SimError(UNKNOWN_PORT) for a port the datapath does not have.
 */
export function parseMicroflow(
  text: string,
  lookupPort: (name: string) => number | undefined,
  tables: ExprTables = {},
): MFlow {
  const root = parseExpr(text, tables);
  const f = toMFlow(EMPTY_FLOW);
  const fixed = new Map<string, bigint>(); // base field → bits already constrained
  const ors: Pending[] = [];
  const doneSyms = new Set<string>();
  const work: Expr[] = [root];
  const contradictory = (): SimError => new SimError("PARSE_ERROR", "Constraints are contradictory.");
  const ambiguous = (): SimError => new SimError("PARSE_ERROR", `Constraints are ambiguous: ${text}.`);

  const addPrereqs = (sym: ExprSymbol): void => {
    let s: ExprSymbol | undefined = sym;
    while (s) {
      if (s.prereqs && !doneSyms.has(s.prereqs)) {
        doneSyms.add(s.prereqs);
        work.push(parseSymbolText(s.prereqs));
      }
      s = s.parent ? SYMTAB.get(s.parent) : undefined;
    }
  };

  const process = (e: Expr): void => {
    switch (e.t) {
      case "bool":
        if (!e.v) throw contradictory();
        return;
      case "cond":
        if (e.neg) throw contradictory();
        return;
      case "and":
        for (const x of e.xs) work.push(x);
        return;
      case "or":
        ors.push({ e });
        return;
      case "scmp": {
        if (e.op !== "==") throw ambiguous();
        const key = lookupPort(e.s);
        if (key === undefined) throw new SimError("UNKNOWN_PORT", `unknown logical port "${e.s}"`);
        write(e.f.sym, 0, e.f.sym.base!.width, BigInt(key), undefined);
        addPrereqs(e.f.sym);
        return;
      }
      case "cmp": {
        const sym = e.f.sym;
        if (sym.kind === "predicate") {
          const positive = ((e.value & 1n) === 1n) !== (e.op === "!=");
          const x = parseSymbolText(sym.expansion!);
          work.push(positive ? x : negate(x));
          return;
        }
        if (e.op !== "==") {
          // a one-bit inequality is an equality with the other value
          if (e.op === "!=" && e.f.nbits === 1 && e.mask === undefined) {
            write(sym, e.f.lo, e.f.nbits, e.value ^ 1n, undefined);
            addPrereqs(sym);
            return;
          }
          throw ambiguous();
        }
        write(sym, e.f.lo, e.f.nbits, e.value, e.mask);
        addPrereqs(sym);
        return;
      }
    }
  };

  const write = (
    sym: ExprSymbol,
    lo: number,
    nbits: number,
    value: bigint,
    mask: bigint | undefined,
  ): void => {
    const base = sym.base!;
    const shift = BigInt(sym.ofs + lo);
    const full = (1n << BigInt(nbits)) - 1n;
    const m = ((mask ?? full) & full) << shift;
    const v = (value << shift) & m;
    const prev = fixed.get(base.mf) ?? 0n;
    const cur = base.get(f);
    if ((cur & prev & m) !== (v & prev & m)) throw contradictory();
    fixed.set(base.mf, prev | m);
    // OVS's mf_set does nothing for a field that is not maskable when the mask is not all
    // ones over the field's bytes: `ip.dscp == 10` or `ip.ecn == 1` leave nw_tos at 0 in
    // the real ovn-trace's packet.
    if (nonMaskable(base.mf) && m !== (1n << BigInt(Math.ceil(base.width / 8) * 8)) - 1n) return;
    base.set(f, (cur & ~m) | v);
  };
  /** Whether `e` cannot hold given the fields fixed so far (expr_simplify folds it to false). */
  const impossible = (e: Expr): boolean => {
    switch (e.t) {
      case "bool":
        return !e.v;
      case "and":
        return e.xs.some(impossible);
      case "or":
        return e.xs.every(impossible);
      case "cmp": {
        const sym = e.f.sym;
        if (sym.kind === "predicate") {
          const positive = ((e.value & 1n) === 1n) !== (e.op === "!=");
          return positive && impossible(parseSymbolText(sym.expansion!));
        }
        if (sym.kind !== "field" || e.op !== "==" || !sym.base) return false;
        const shift = BigInt(sym.ofs + e.f.lo);
        const full = (1n << BigInt(e.f.nbits)) - 1n;
        const m = ((e.mask ?? full) & full) << shift;
        const prev = fixed.get(sym.base.mf) ?? 0n;
        if ((prev & m) !== m) return false;
        return (sym.base.get(f) & m) !== ((e.value << shift) & m);
      }
      default:
        return false;
    }
  };

  while (work.length) process(work.pop()!);
  const noPorts = { lookupPort, isChassisResident: () => true };
  for (let changed = true; changed; ) {
    changed = false;
    for (let i = 0; i < ors.length; i++) {
      const o = ors[i]!;
      if (compileExpr(o.e, noPorts)(f)) {
        ors.splice(i, 1);
        i--;
        changed = true;
      }
    }
    if (!changed && ors.length) {
      if (ors.some((o) => impossible(o.e))) throw contradictory();
      throw ambiguous();
    }
  }
  return f;
}
