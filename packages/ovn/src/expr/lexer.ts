/**
 * The lexer of OVN's match and action language (upstream `lib/lex.c`). One token stream
 * serves both languages, as in OVN: identifiers may contain dots (`ip4.src`), numbers may be
 * decimal, hex, MAC, IPv4 or IPv6 constants with an optional `/mask`, `$set` and `@group`
 * name address sets and port groups. Syntax errors carry the offending token's text so they
 * can be reported as ovn-trace does ("Syntax error at `…' expecting …").
 */
import { SimError } from "@ovnsim/packet";
import type { Symtab } from "./symtab.js";

/** How a numeric constant was written; decides masks, widths and how it prints. */
export type NumFormat = "decimal" | "hex" | "ipv4" | "ipv6" | "mac";

export type Token =
  | { readonly t: "id"; readonly s: string; readonly start: number; readonly end: number }
  | { readonly t: "str"; readonly s: string; readonly start: number; readonly end: number }
  | {
      readonly t: "int";
      readonly value: bigint;
      readonly format: NumFormat;
      /** Present for a masked constant (`10.0.0.0/8`, `0x10/0xf0`). */
      readonly mask?: bigint;
      readonly start: number;
      readonly end: number;
    }
  | { readonly t: "macro"; readonly s: string; readonly start: number; readonly end: number }
  | { readonly t: "pg"; readonly s: string; readonly start: number; readonly end: number }
  | { readonly t: "punct"; readonly s: Punct; readonly start: number; readonly end: number }
  | { readonly t: "end"; readonly start: number; readonly end: number }
  /** A bad token: its error is raised only when a parser reaches it, as in OVN. */
  | { readonly t: "error"; readonly message: string; readonly start: number; readonly end: number };

export type Punct =
  | "("
  | ")"
  | "{"
  | "}"
  | "["
  | "]"
  | "=="
  | "!="
  | "<"
  | "<="
  | ">"
  | ">="
  | "!"
  | "&&"
  | "||"
  | ".."
  | ","
  | ";"
  | "="
  | "<->"
  | "->"
  | ":"
  | "-";

const PUNCTS: readonly Punct[] = [
  "<->",
  "==",
  "!=",
  "<=",
  ">=",
  "&&",
  "||",
  "..",
  "->",
  "(",
  ")",
  "{",
  "}",
  "[",
  "]",
  "<",
  ">",
  "!",
  ",",
  ";",
  "=",
  ":",
  "-",
];

const isAlpha = (k: number): boolean => (k >= 65 && k <= 90) || (k >= 97 && k <= 122);
const isDigit = (k: number): boolean => k >= 48 && k <= 57;
const isHex = (k: number): boolean => isDigit(k) || (k >= 65 && k <= 70) || (k >= 97 && k <= 102);
const isIdStartK = (k: number): boolean => isAlpha(k) || k === 95 || k === 46;
const isIdCharK = (k: number): boolean => isIdStartK(k) || isDigit(k);
const isIdChar = (c: string): boolean => isIdCharK(c.charCodeAt(0));
const isAlnum = (c: string): boolean => {
  const k = c.charCodeAt(0);
  return isAlpha(k) || isDigit(k);
};

/** A parse failure inside the lexer/parsers: message plus the offending text (or end of input). */
export function syntaxError(src: string, tok: Token, message: string): SimError {
  const where = tok.t === "end" ? " at end of input" : ` at \`${src.slice(tok.start, tok.end)}'`;
  return new SimError("PARSE_ERROR", `Syntax error${where} ${message}.`);
}

export function plainError(message: string): SimError {
  return new SimError("PARSE_ERROR", message);
}

/**
 * Tokenizes `src` completely. A bad token becomes an `error` token (and ends the stream), so
 * that an earlier syntax error is still reported first, as OVN's lexer-driven parser does.
 */
export function tokenize(src: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  try {
    tokenizeInto(src, out, (k) => {
      i = k;
    });
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    out.push({ t: "error", message, start: i, end: src.length });
    out.push({ t: "end", start: src.length, end: src.length });
  }
  return out;
}

function tokenizeInto(src: string, out: Token[], at: (i: number) => void): void {
  let i = 0;
  const n = src.length;
  while (true) {
    at(i);
    // whitespace and /* comments */
    for (;;) {
      while (i < n && (src.charCodeAt(i) <= 32 || src.charCodeAt(i) === 160)) i++;
      if (src.startsWith("/*", i)) {
        const close = src.indexOf("*/", i + 2);
        if (close < 0) throw plainError("`/*' without matching `*/'.");
        i = close + 2;
        continue;
      }
      break;
    }
    if (i >= n) {
      out.push({ t: "end", start: n, end: n });
      return;
    }
    const c = src[i]!;
    const start = i;
    if (c === '"') {
      let s = "";
      i++;
      for (;;) {
        if (i >= n) throw plainError("Input ends inside quoted string.");
        const d = src[i]!;
        if (d === '"') {
          i++;
          break;
        }
        if (d === "\\") {
          const e = src[i + 1];
          if (e === undefined) throw plainError("Input ends inside quoted string.");
          s += e === "n" ? "\n" : e === "t" ? "\t" : e;
          i += 2;
          continue;
        }
        s += d;
        i++;
      }
      out.push({ t: "str", s, start, end: i });
      continue;
    }
    const ck = src.charCodeAt(i);
    let hexThenColon = false;
    if (isHex(ck) && !isDigit(ck)) {
      let hexEnd = i;
      while (hexEnd < n && isHex(src.charCodeAt(hexEnd))) hexEnd++;
      hexThenColon = src[hexEnd] === ":";
    }
    if (isDigit(ck) || hexThenColon || (c === ":" && src[i + 1] === ":")) {
      const tok = lexNumber(src, i);
      i = tok.end;
      if (src[i] === "/") {
        const m = lexNumber(src, i + 1);
        i = m.end;
        out.push(applyMask(src, tok, m, start, i));
      } else out.push({ ...tok, start, end: i });
      continue;
    }
    if (c === "$" || c === "@") {
      let j = i + 1;
      while (j < n && isIdChar(src[j]!)) j++;
      if (j === i + 1) throw plainError(`\`${c}' must be followed by a valid identifier.`);
      out.push({ t: c === "$" ? "macro" : "pg", s: src.slice(i + 1, j), start, end: j });
      i = j;
      continue;
    }
    if (isIdStartK(ck) && !(c === "." && src[i + 1] === ".")) {
      let j = i + 1;
      while (j < n && isIdCharK(src.charCodeAt(j)) && !(src[j] === "." && src[j + 1] === ".")) j++;
      out.push({ t: "id", s: src.slice(i, j), start, end: j });
      i = j;
      continue;
    }
    const p = PUNCTS.find((q) => src.startsWith(q, i));
    if (p === undefined) throw plainError(`Invalid character \`${c}' in input.`);
    i += p.length;
    out.push({ t: "punct", s: p, start, end: i });
  }
}

interface NumTok {
  readonly t: "int";
  readonly value: bigint;
  readonly format: NumFormat;
  readonly end: number;
}

/** One numeric constant starting at `i` (lex.c's extent rule: a colon never follows a dot). */
function lexNumber(src: string, i: number): NumTok {
  let end = i;
  let sawDot = false;
  while (end < src.length) {
    const c = src[end]!;
    if (isAlnum(c) || (c === ":" && !sawDot) || (c === "." && src[end + 1] !== ".")) {
      if (c === ".") sawDot = true;
      end++;
    } else break;
  }
  const text = src.slice(i, end);
  if (text.length === 0) throw plainError("Integer constant expected.");
  if (text.length === 17 && /^([0-9a-fA-F]{2}:){5}[0-9a-fA-F]{2}$/.test(text)) {
    return { t: "int", value: BigInt(`0x${text.replaceAll(":", "")}`), format: "mac", end };
  }
  if (/^[0-9]+$/.test(text)) {
    if (text.length > 1 && text[0] === "0")
      throw plainError("Decimal constants must not have leading zeros.");
    const v = BigInt(text);
    if (v >= 1n << 64n) throw plainError("Decimal constants must be less than 2**64.");
    return { t: "int", value: v, format: "decimal", end };
  }
  if (/^0[xX]/.test(text)) {
    const hex = text.slice(2);
    if (hex.length === 0) throw plainError(`Hex digits expected following ${text}.`);
    if (!/^[0-9a-fA-F]+$/.test(hex)) throw plainError(`Invalid syntax in hexadecimal constant.`);
    if (hex.replace(/^0+/, "").length > 32)
      throw plainError("Hexadecimal constant requires more than 128 bits.");
    return { t: "int", value: BigInt(`0x${hex}`), format: "hex", end };
  }
  const v4 = parseIp4Text(text);
  if (v4 !== undefined) return { t: "int", value: BigInt(v4), format: "ipv4", end };
  const v6 = parseIp6Text(text);
  if (v6 !== undefined) return { t: "int", value: v6, format: "ipv6", end };
  throw plainError("Invalid numeric constant.");
}

function applyMask(src: string, v: NumTok, m: NumTok, start: number, end: number): Token {
  let mask: bigint;
  let format = v.format;
  if (v.format === m.format) mask = m.value;
  else if (v.format === "ipv4" && m.format === "decimal" && m.value <= 32n) {
    mask = prefixMask(Number(m.value), 32);
  } else if (v.format === "ipv6" && m.format === "decimal" && m.value <= 128n) {
    mask = prefixMask(Number(m.value), 128);
  } else if (v.format === "decimal" && m.format === "hex" && v.value === 0n) {
    format = "hex";
    mask = m.value;
  } else {
    void src;
    throw plainError("Value and mask have incompatible formats.");
  }
  return { t: "int", value: v.value & mask, format, mask, start, end };
}

export function prefixMask(plen: number, width: number): bigint {
  if (plen === 0) return 0n;
  return ((1n << BigInt(plen)) - 1n) << BigInt(width - plen);
}

/** Strict dotted-quad IPv4 → u32, or undefined. */
export function parseIp4Text(text: string): number | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
  if (!m) return undefined;
  let v = 0;
  for (let k = 1; k <= 4; k++) {
    const b = Number(m[k]);
    if (b > 255) return undefined;
    v = v * 256 + b;
  }
  return v;
}

/** IPv6 text (with `::` and an optional dotted-quad tail) → bigint, or undefined. */
export function parseIp6Text(text: string): bigint | undefined {
  if (!text.includes(":")) return undefined;
  let s = text;
  const lastColon = s.lastIndexOf(":");
  const tail = s.slice(lastColon + 1);
  if (tail.includes(".")) {
    const v4 = parseIp4Text(tail);
    if (v4 === undefined) return undefined;
    s = `${s.slice(0, lastColon + 1)}${Math.floor(v4 / 65536).toString(16)}:${(v4 % 65536).toString(16)}`;
  }
  const dbl = s.indexOf("::");
  if (dbl >= 0 && s.indexOf("::", dbl + 1) >= 0) return undefined;
  const parseGroups = (part: string): number[] | undefined => {
    if (part === "") return [];
    const out: number[] = [];
    for (const g of part.split(":")) {
      if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return undefined;
      out.push(Number.parseInt(g, 16));
    }
    return out;
  };
  const head = parseGroups(dbl >= 0 ? s.slice(0, dbl) : s);
  const rest = dbl >= 0 ? parseGroups(s.slice(dbl + 2)) : [];
  if (!head || !rest) return undefined;
  const total = head.length + rest.length;
  if (dbl >= 0 ? total > 7 : total !== 8) return undefined;
  const groups = [...head, ...new Array<number>(8 - total).fill(0), ...rest];
  let v = 0n;
  for (const g of groups) v = (v << 16n) | BigInt(g);
  return v;
}

/** A cursor over a token array, with the helpers both parsers share. */
export class Cursor {
  pos = 0;
  /** The release's symbol table the parsers look fields up in (default: 23.03's). */
  symtab: Symtab | undefined;
  constructor(
    readonly src: string,
    readonly toks: readonly Token[],
  ) {}
  get tok(): Token {
    const t = this.toks[this.pos]!;
    if (t.t === "error") throw plainError(t.message);
    return t;
  }
  peek(k = 1): Token {
    const t = this.toks[Math.min(this.pos + k, this.toks.length - 1)]!;
    return t.t === "error" ? { t: "end", start: t.start, end: t.start } : t;
  }
  next(): Token {
    const t = this.tok;
    if (t.t !== "end") this.pos++;
    return t;
  }
  isPunct(p: Punct): boolean {
    const t = this.tok;
    return t.t === "punct" && t.s === p;
  }
  isId(s?: string): boolean {
    const t = this.tok;
    return t.t === "id" && (s === undefined || t.s === s);
  }
  match(p: Punct): boolean {
    if (this.isPunct(p)) {
      this.pos++;
      return true;
    }
    return false;
  }
  matchId(s: string): boolean {
    if (this.isId(s)) {
      this.pos++;
      return true;
    }
    return false;
  }
  force(p: Punct): void {
    if (!this.match(p)) throw this.error(`expecting \`${p}'`);
  }
  error(message: string): SimError {
    return syntaxError(this.src, this.tok, message);
  }
  text(t: Token): string {
    return this.src.slice(t.start, t.end);
  }
}
