/**
 * The OVN match-expression parser (upstream `lib/expr.c` `expr_parse`): text → a typed AST in
 * which `!` has already been pushed down to the comparisons, as OVN does, so that
 * prerequisites attach to each comparison the way `expr_annotate` attaches them (`!ct.est`
 * still requires `ct.trk`). Address sets (`$name`) and port groups (`@name`) are expanded at
 * parse time from the tables given, as ovn-controller and ovn-trace do.
 */
import type { SimError } from "@ovnsim/packet";
import { Cursor, type NumFormat, plainError, type Token, tokenize } from "./lexer.js";
import { type ExprSymbol, SYMTAB, type Symtab } from "./symtab.js";

export type Relop = "==" | "!=" | "<" | "<=" | ">" | ">=";

/** A reference to a symbol or a bit range of it (`reg0[2]`, `reg2[0..15]`). */
export interface FieldRef {
  readonly sym: ExprSymbol;
  /** Bit offset relative to the symbol. */
  readonly lo: number;
  readonly nbits: number;
  /** Whether `[..]` was written. */
  readonly explicit: boolean;
}

export type Expr =
  | { readonly t: "bool"; readonly v: boolean }
  | { readonly t: "and" | "or"; readonly xs: readonly Expr[] }
  | {
      readonly t: "cmp";
      readonly f: FieldRef;
      readonly op: Relop;
      readonly value: bigint;
      readonly mask?: bigint;
    }
  | { readonly t: "scmp"; readonly f: FieldRef; readonly op: "==" | "!="; readonly s: string }
  | { readonly t: "cond"; readonly port: string; readonly neg: boolean };

/** Named sets the parser expands: SB Address_Set and Port_Group contents. */
export interface ExprTables {
  readonly addressSets?: ReadonlyMap<string, readonly string[]>;
  readonly portGroups?: ReadonlyMap<string, readonly string[]>;
  /** Tunnel key of the datapath (port groups are stored as `<key>_<name>` in the SB). */
  readonly dpKey?: number;
  /** The release's symbol table (symtabFor); 23.03's when absent. */
  readonly symtab?: Symtab;
}

export interface IntConst {
  readonly value: bigint;
  readonly mask?: bigint;
  readonly format: NumFormat;
}
interface ConstSet {
  readonly kind: "int" | "str" | "none";
  readonly ints: IntConst[];
  readonly strs: string[];
  readonly curlies: boolean;
}

const RELOPS: readonly string[] = ["==", "!=", "<", "<=", ">", ">="];
const MAX_PAREN_DEPTH = 100;

function relopOf(t: Token): Relop | undefined {
  return t.t === "punct" && RELOPS.includes(t.s) ? (t.s as Relop) : undefined;
}
const turn = (r: Relop): Relop =>
  r === "<" ? ">" : r === "<=" ? ">=" : r === ">" ? "<" : r === ">=" ? "<=" : r;
const invert = (r: Relop): Relop =>
  r === "==" ? "!=" : r === "!=" ? "==" : r === "<" ? ">=" : r === "<=" ? ">" : r === ">" ? "<=" : "<";

/** Logical negation, pushed down to the leaves (De Morgan), as OVN's expr_not. */
export function negate(e: Expr): Expr {
  switch (e.t) {
    case "bool":
      return { t: "bool", v: !e.v };
    case "and":
    case "or":
      return { t: e.t === "and" ? "or" : "and", xs: e.xs.map(negate) };
    case "cmp":
      return { ...e, op: invert(e.op) };
    case "scmp":
      return { ...e, op: e.op === "==" ? "!=" : "==" };
    case "cond":
      return { ...e, neg: !e.neg };
  }
}

export function combine(t: "and" | "or", a: Expr, b: Expr): Expr {
  const xs: Expr[] = [];
  for (const x of [a, b]) {
    if (x.t === t) xs.push(...x.xs);
    else xs.push(x);
  }
  return { t, xs };
}

/** Bits needed for a constant: its format's width, or the highest set bit for plain integers. */
export function constWidth(c: IntConst): number {
  switch (c.format) {
    case "ipv4":
      return 32;
    case "ipv6":
      return 128;
    case "mac":
      return 48;
    default: {
      const v = c.mask !== undefined ? c.value | c.mask : c.value;
      return v === 0n ? 0 : v.toString(2).length;
    }
  }
}

/** Symbol level as OVN computes it (nominal < boolean < ordinal). */
export function symbolLevel(sym: ExprSymbol): "nominal" | "boolean" | "ordinal" {
  if (sym.kind === "string" || sym.nominal) return "nominal";
  if (sym.kind === "predicate") return predicateLevel(sym);
  return "ordinal";
}
const levelCache = new Map<string, "nominal" | "boolean">();
function predicateLevel(sym: ExprSymbol): "nominal" | "boolean" {
  const hit = levelCache.get(sym.name);
  if (hit) return hit;
  const e = parseSymbolText(sym.expansion!);
  let nominal = false;
  const walk = (x: Expr): void => {
    if (x.t === "and" || x.t === "or") x.xs.forEach(walk);
    else if ((x.t === "cmp" || x.t === "scmp") && symbolLevel(x.f.sym) === "nominal") nominal = true;
  };
  walk(e);
  const lv = nominal ? "nominal" : "boolean";
  levelCache.set(sym.name, lv);
  return lv;
}

class ExprParser {
  private not = false;
  private depth = 0;
  constructor(
    private readonly c: Cursor,
    private readonly tables: ExprTables,
  ) {}

  parse(): Expr {
    let e = this.parseNot();
    const t = this.c.tok;
    if (t.t === "punct" && (t.s === "&&" || t.s === "||")) {
      const op = t.s;
      const kind = op === "&&" ? "and" : "or";
      this.c.next();
      do {
        e = combine(kind, e, this.parseNot());
      } while (this.c.match(op));
      if (this.c.isPunct("&&") || this.c.isPunct("||")) {
        throw plainError("&& and || must be parenthesized when used together.");
      }
    }
    return e;
  }

  private parseNot(): Expr {
    if (this.c.match("!")) {
      this.not = !this.not;
      const r = this.parsePrimary();
      this.not = !this.not;
      if (!r.atomic) throw plainError("Missing parentheses around operand of !.");
      return negate(r.e);
    }
    return this.parsePrimary().e;
  }

  private parsePrimary(): { e: Expr; atomic: boolean } {
    const c = this.c;
    if (c.match("(")) {
      if (this.depth >= MAX_PAREN_DEPTH) throw plainError("Parentheses nested too deeply.");
      this.depth++;
      const e = this.parse();
      this.depth--;
      c.force(")");
      return { e, atomic: true };
    }
    const t = c.tok;
    if (t.t === "id") {
      const la = c.peek();
      if (la.t === "punct" && la.s === "(") {
        if (t.s === "is_chassis_resident") {
          c.next();
          c.next();
          const s = c.tok;
          if (s.t !== "str") throw c.error("expecting string");
          c.next();
          c.force(")");
          return { e: { t: "cond", port: s.s, neg: false }, atomic: true };
        }
        throw plainError("parsing function name");
      }
      const f = this.parseField();
      const r = relopOf(c.tok);
      if (r === undefined) {
        if (f.nbits === 0 || c.isPunct("=")) throw c.error("expecting relational operator");
        if (f.nbits > 1 && !this.not) {
          throw plainError("Explicit `!= 0' is required for inequality test of multibit field against 0.");
        }
        return {
          e: this.makeCmp(f, "!=", {
            kind: "int",
            ints: [{ value: 0n, format: "hex" }],
            strs: [],
            curlies: false,
          }),
          atomic: true,
        };
      }
      c.next();
      const cs = this.parseConstantSet();
      return { e: this.makeCmp(f, r, cs), atomic: false };
    }
    const c1 = this.parseConstantSet();
    const c1v = c1.ints[0];
    if (
      relopOf(c.tok) === undefined &&
      c1.kind === "int" &&
      c1.ints.length === 1 &&
      c1v !== undefined &&
      c1v.format === "decimal" &&
      c1v.mask === undefined &&
      !c1.curlies &&
      c1v.value <= 1n
    ) {
      return { e: { t: "bool", v: c1v.value === 1n }, atomic: true };
    }
    const r1 = relopOf(c.tok);
    if (r1 === undefined) throw c.error("expecting relational operator");
    c.next();
    const f = this.parseField();
    const r2 = relopOf(c.tok);
    if (r2 === undefined) return { e: this.makeCmp(f, turn(r1), c1), atomic: false };
    c.next();
    const c2 = this.parseConstantSet();
    const lt = (r: Relop): boolean => r === "<" || r === "<=";
    const gt = (r: Relop): boolean => r === ">" || r === ">=";
    if (!((lt(r1) && lt(r2)) || (gt(r1) && gt(r2)))) {
      throw plainError(
        "Range expressions must have the form `x < field < y' or `x > field > y', with each `<' optionally replaced by `<=' or `>' by `>=').",
      );
    }
    return { e: combine("and", this.makeCmp(f, turn(r1), c1), this.makeCmp(f, r2, c2)), atomic: false };
  }

  parseField(): FieldRef {
    const c = this.c;
    const t = c.tok;
    if (t.t !== "id") throw c.error("expecting field name");
    const sym = (c.symtab ?? SYMTAB).get(t.s);
    if (!sym) throw c.error("expecting field name");
    c.next();
    if (c.match("[")) {
      const lo = this.parseSmallInt();
      let hi = lo;
      if (c.match("..")) hi = this.parseSmallInt();
      c.force("]");
      if (sym.kind === "predicate")
        throw plainError(`Predicate symbol ${sym.name} used where lvalue required.`);
      if (sym.kind === "string") throw plainError(`Cannot select subfield of string field ${sym.name}.`);
      if (hi < lo) throw plainError(`Invalid bit range ${lo} to ${hi}.`);
      if (hi >= sym.width) {
        throw plainError(`Cannot select bits ${lo} to ${hi} of ${sym.width}-bit field ${sym.name}.`);
      }
      return { sym, lo, nbits: hi - lo + 1, explicit: true };
    }
    return { sym, lo: 0, nbits: sym.width, explicit: false };
  }

  private parseSmallInt(): number {
    const t = this.c.tok;
    if (t.t !== "int" || t.format !== "decimal" || t.mask !== undefined || t.value > 1000n) {
      throw this.c.error("expecting small integer");
    }
    this.c.next();
    return Number(t.value);
  }

  parseConstantSet(): ConstSet {
    const set: { kind: "int" | "str" | "none"; ints: IntConst[]; strs: string[]; curlies: boolean } = {
      kind: "none",
      ints: [],
      strs: [],
      curlies: false,
    };
    if (this.c.match("{")) {
      set.curlies = true;
      while (!this.c.match("}")) {
        this.parseConstant(set);
        this.c.match(",");
      }
    } else this.parseConstant(set);
    return set;
  }

  private setKind(set: { kind: "int" | "str" | "none" }, k: "int" | "str"): void {
    if (set.kind !== "none" && set.kind !== k) {
      throw plainError(
        `Syntax error: ${k === "int" ? "integer" : "string"} found where ${set.kind === "int" ? "integer" : "string"} expected.`,
      );
    }
    set.kind = k;
  }

  private parseConstant(set: { kind: "int" | "str" | "none"; ints: IntConst[]; strs: string[] }): void {
    const c = this.c;
    const t = c.tok;
    if (t.t === "str") {
      this.setKind(set, "str");
      set.strs.push(t.s);
      c.next();
    } else if (t.t === "int") {
      this.setKind(set, "int");
      set.ints.push({ value: t.value, format: t.format, ...(t.mask !== undefined ? { mask: t.mask } : {}) });
      c.next();
    } else if (t.t === "macro") {
      const vals = this.tables.addressSets?.get(t.s);
      if (!vals) throw c.error("expecting address set name");
      this.setKind(set, "int");
      for (const v of vals) set.ints.push(parseAddressSetValue(v));
      c.next();
    } else if (t.t === "pg") {
      const pg = this.tables.portGroups;
      const vals =
        (this.tables.dpKey !== undefined ? pg?.get(`${this.tables.dpKey}_${t.s}`) : undefined) ??
        pg?.get(t.s);
      if (!vals) throw c.error("expecting port group name");
      this.setKind(set, "str");
      set.strs.push(...vals);
      c.next();
    } else throw c.error("expecting constant");
  }

  private makeCmp(f: FieldRef, r: Relop, cs: ConstSet): Expr {
    const sym = f.sym;
    const want = sym.kind === "string" ? "str" : "int";
    if (cs.kind !== "none" && cs.kind !== want) {
      throw plainError(
        `${sym.kind === "string" ? "String" : "Integer"} field ${sym.name} is not compatible with ${cs.kind === "int" ? "integer" : "string"} constant.`,
      );
    }
    for (const v of cs.ints) {
      const w = constWidth(v);
      if (w > sym.width)
        throw plainError(`${w}-bit constant is not compatible with ${sym.width}-bit field ${sym.name}.`);
    }
    const level = symbolLevel(sym);
    if (r !== "==" && r !== "!=") {
      if (cs.curlies) throw plainError("Only == and != operators may be used with value sets.");
      if (level === "nominal" || level === "boolean") {
        throw plainError(`Only == and != operators may be used with ${level} field ${sym.name}.`);
      }
      if (cs.kind === "none") {
        throw plainError(
          "Only == and != operators may be used to compare a field against an empty value set.",
        );
      }
      if (cs.ints[0]?.mask !== undefined) {
        throw plainError("Only == and != operators may be used with masked constants.");
      }
    }
    if (level === "nominal") {
      if (sym.kind === "predicate") {
        for (const v of cs.ints) {
          let positive = (v.value & 1n) === 1n;
          positive = positive !== (r === "!=");
          positive = positive !== this.not;
          if (!positive) {
            const n = sym.name;
            throw plainError(
              `Nominal predicate ${n} may only be tested positively, e.g. \`${n}' or \`${n} == 1' but not \`!${n}' or \`${n} == 0'.`,
            );
          }
        }
      } else if (r !== (this.not ? "!=" : "==")) {
        throw plainError(
          `Nominal field ${sym.name} may only be tested for equality (taking enclosing \`!' operators into account).`,
        );
      }
    }
    const n = cs.kind === "str" ? cs.strs.length : cs.ints.length;
    if (n === 0) return { t: "bool", v: r === "!=" };
    const one = (i: number): Expr => {
      if (cs.kind === "str") return { t: "scmp", f, op: r as "==" | "!=", s: cs.strs[i]! };
      const v = cs.ints[i]!;
      return { t: "cmp", f, op: r, value: v.value, ...(v.mask !== undefined ? { mask: v.mask } : {}) };
    };
    let e = one(0);
    for (let i = 1; i < n; i++) e = combine(r === "==" ? "or" : "and", e, one(i));
    return e;
  }
}

/** One Address_Set entry ("10.0.0.1", "10.0.0.0/24", "0a:00:00:00:00:01") as a constant. */
export function parseAddressSetValue(text: string): IntConst {
  const toks = tokenize(text);
  const t = toks[0];
  if (t?.t !== "int" || toks[1]?.t !== "end") throw plainError(`Invalid address set entry "${text}".`);
  return { value: t.value, format: t.format, ...(t.mask !== undefined ? { mask: t.mask } : {}) };
}

/**
 * Parses an OVN match expression. Throws SimError(PARSE_ERROR) with OVN's message
 * ("Syntax error at `…' expecting …").
 */
export function parseExpr(src: string, tables: ExprTables = {}): Expr {
  const c = new Cursor(src, tokenize(src));
  c.symtab = tables.symtab;
  const e = new ExprParser(c, tables).parse();
  if (c.tok.t !== "end") throw c.error("expecting end of input");
  return e;
}

const symbolTextCache = new Map<string, Expr>();
/** Parses a table-free expression once (symbol prerequisites and predicate expansions). */
export function parseSymbolText(src: string): Expr {
  let e = symbolTextCache.get(src);
  if (!e) {
    e = parseExpr(src);
    symbolTextCache.set(src, e);
  }
  return e;
}

/** Parses a field reference (`reg0[15]`, `eth.dst`), for the action parser. */
export function parseFieldAt(c: Cursor): FieldRef {
  return new ExprParser(c, {}).parseField();
}

/** Parses a constant set at the cursor, for the action parser (`reg1 = 10.0.0.1`, `{…}`). */
export function parseConstantSetAt(c: Cursor, tables: ExprTables = {}): ConstSet {
  return new ExprParser(c, tables).parseConstantSet();
}

export type { ConstSet, SimError };
